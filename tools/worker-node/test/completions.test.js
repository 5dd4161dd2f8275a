// test/completions.test.js — completions coalesced (src/completer.js)
// against the database: those that wait for a call go together through
// complete_batch_items, each with its own outcome (its conversation, an
// unusable response, a stale lease); a response the database cannot read
// is sent alone and fails alone; a user holding her items' rows does not hold
// up another user's completions; a worker role without EXECUTE on
// complete_batch_items completes one item per call; an item its owner holds
// is stored once she lets go, the others before; and a whole worker run
// stores every item's own conversation.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { TEMPLATE, USER, createBatch, itemsOf, query, runWorker, setupDatabase } from './helpers.js';
import { StaleLease, createQueue } from '../src/db.js';
import { offlineResponse } from '../src/offline.js';

let env;
let pool;
before(async () => {
	env = await setupDatabase('completions');
	pool = new pg.Pool({ database: env.db, user: env.worker, max: 3 });
	// as the worker's own pool (src/db.js): an idle connection the database
	// ends (the teardown's DROP DATABASE ... WITH (FORCE) reached one still
	// closing, once in CI) emits 'error' on the pool, which must not end the
	// test process
	pool.on('error', () => {});
});
after(async () => {
	await pool?.end();
	await env?.drop();
});

/** A Messages API answer whose text holds no conversation (the server fails the item). */
const UNUSABLE = { type: 'message', role: 'assistant', model: 'offline-generator', stop_reason: 'end_turn',
	usage: { input_tokens: 1, output_tokens: 1 }, content: [{ type: 'text', text: 'I would rather not.' }] };

/** Each item's status and conversation, by item id (as the superuser). */
async function stored(ids) {
	const r = await query(env.db, `SELECT id, status::text, conversation_id FROM train_data.batch_items
		WHERE id = ANY ($1::uuid[])`, [ids]);
	return new Map(r.rows.map((row) => [row.id, row]));
}

/** Claim n items of a new batch of n (personas P1..Pn) as the worker role. */
async function claimNew(queue, name, n) {
	await createBatch(env, name, Array.from({ length: n }, (_, i) => `${name} P${i + 1}`));
	const items = await queue.claim(`${name}-worker`, n, 30);
	assert.equal(items.length, n);
	return items;
}

test('completions that wait go together: one call, each entry its own outcome', async () => {
	const queue = createQueue(pool, { completeCalls: 1 });
	const items = await claimNew(queue, 'coalesced', 8);
	// all started at once: the first goes alone, the seven that wait for it in one batch
	// (two unusable responses, one stale attempt)
	const results = await Promise.allSettled(items.map((item, i) => {
		if (i === 5 || i === 7) return queue.complete(item, UNUSABLE, 10);
		if (i === 6) return queue.complete({ ...item, attempt: item.attempt + 1 }, offlineResponse(item), 10);
		return queue.complete(item, offlineResponse(item), 10);
	}));
	assert.deepEqual(queue.completionStats(), { single: 1, retried: 0, batches: 1, batched: 7, refused: 0 });
	const rows = await stored(items.map((i) => i.itemId));
	for (const i of [0, 1, 2, 3, 4]) {
		const row = rows.get(items[i].itemId);
		assert.equal(results[i].status, 'fulfilled');
		assert.equal(row.status, 'completed');
		assert.equal(results[i].value.conversationId, row.conversation_id, `item ${i}: its own conversation`);
	}
	// the conversations are the items' own: each holds its persona
	const personas = await query(env.db, `SELECT i.parameters ->> 'persona' AS persona, c.title
		FROM train_data.batch_items i JOIN train_data.conversations c ON c.id = i.conversation_id
		WHERE i.id = ANY ($1::uuid[]) ORDER BY i.position`, [items.map((i) => i.itemId)]);
	assert.deepEqual(personas.rows.map((r) => r.title), personas.rows.map((r) => `${r.persona} on retirement`));
	// each unusable response gets its own warning, not the other's
	for (const [i, other] of [[5, 7], [7, 5]]) {
		assert.equal(results[i].status, 'fulfilled');
		assert.equal(results[i].value.conversationId, null);
		assert.match(results[i].value.warning, new RegExp(`^batch item ${items[i].itemId} failed: unusable response: [^;]*$`));
		assert.doesNotMatch(results[i].value.warning, new RegExp(items[other].itemId));
		assert.equal(rows.get(items[i].itemId).status, 'queued');   // retried per policy
	}
	assert.equal(results[6].status, 'rejected');
	assert.ok(results[6].reason instanceof StaleLease);
	assert.equal(results[6].reason.code, '55000');
	assert.equal(rows.get(items[6].itemId).status, 'processing');   // still the real attempt's
	assert.equal(rows.get(items[6].itemId).conversation_id, null);
});

test('a response the database cannot read goes alone and fails alone; the others go together', async () => {
	const queue = createQueue(pool, { completeCalls: 1 });
	const items = await claimNew(queue, 'unreadable', 4);
	const nul = offlineResponse(items[2]);
	nul.content[0].text += '\u0000';   // JSON \u0000: jsonb cannot hold it (22P05)
	const results = await Promise.allSettled(items.map((item, i) => queue.complete(item, i === 2 ? nul : offlineResponse(item), 10)));
	assert.deepEqual(queue.completionStats(), { single: 2, retried: 0, batches: 1, batched: 2, refused: 0 });
	assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
	assert.equal(results[2].reason.code, '22P05');
	const rows = await stored(items.map((i) => i.itemId));
	assert.deepEqual(items.map((i) => rows.get(i.itemId).status), ['completed', 'completed', 'processing', 'completed']);
	for (const i of [0, 1, 3]) assert.equal(results[i].value.conversationId, rows.get(items[i].itemId).conversation_id);
});

test('a user who holds her items\' rows and sends an unreadable response does not hold up another user\'s completions', async () => {
	const OTHER = '22222222-2222-2222-2222-222222222222';
	const queue = createQueue(pool, { retryDelayMs: 100 });   // two completion calls, as the worker has
	await createBatch(env, 'hers', ['T0', 'T1', 'T2', 'T3', 'T4']);
	const other = new pg.Client({ database: env.db, user: env.app });
	await other.connect();
	await other.query('BEGIN');
	await other.query(`SELECT pg_catalog.set_config('train_data.user_id', $1, true)`, [OTHER]);
	await other.query(`SELECT train_data.create_batch('theirs', $1::jsonb, '{}', 10)`,
		[JSON.stringify(['O0', 'O1', 'O2', 'O3', 'O4'].map((p) => ({ template_id: TEMPLATE, parameters: { persona: p } })))]);
	await other.query('COMMIT');
	await other.end();
	// a 15 s lease: theirs must be stored before it ends, so none may wait for her 5 s lock waits one after another
	const by = new Map((await queue.claim('tenants', 10, 15)).map((i) => [i.parameters.persona, i]));
	assert.equal(by.size, 10);
	// she holds four of her items' rows, as the application role lets her (her own rows)
	const holder = new pg.Client({ database: env.db, user: env.app });
	await holder.connect();
	await holder.query('BEGIN');
	await holder.query(`SELECT pg_catalog.set_config('train_data.user_id', $1, true)`, [USER]);
	const locked = await holder.query('SELECT id FROM train_data.batch_items WHERE id = ANY ($1::uuid[]) FOR UPDATE',
		[['T1', 'T2', 'T3', 'T4'].map((p) => by.get(p).itemId)]);
	assert.equal(locked.rowCount, 4);
	try {
		const settled = new Map();
		const go = (p, response) => queue.complete(by.get(p), response ?? offlineResponse(by.get(p)), 10)
			.then((r) => settled.set(p, r), (err) => settled.set(p, err));
		const nul = offlineResponse(by.get('T0'));
		nul.content[0].text += '\u0000';
		const theirs = [go('O0'), go('O1')];
		const hers = [go('T0', nul), go('T1'), go('T2'), go('T3'), go('T4')];
		theirs.push(go('O2'), go('O3'), go('O4'));
		await Promise.all(theirs);
		// every one of theirs is stored while she still holds her rows, within their lease (a batch with
		// her held items in it waits for one lock timeout, 5 s, then stores the others)
		for (const p of ['O0', 'O1', 'O2', 'O3', 'O4']) assert.ok(settled.get(p)?.conversationId, `${p}: ${settled.get(p)?.message}`);
		assert.equal(settled.get('T0')?.code, '22P05');
		for (const p of ['T1', 'T2', 'T3', 'T4']) assert.equal(settled.has(p), false, `${p} settled before she let go`);
		await holder.query('COMMIT');
		await Promise.all(hers);
		for (const p of ['T1', 'T2', 'T3', 'T4']) assert.ok(settled.get(p)?.conversationId, p);
	} finally {
		await holder.end();
	}
});

test('without EXECUTE on complete_batch_items: one item per call, none lost, batches off', async () => {
	await query(env.db, `REVOKE EXECUTE ON FUNCTION train_data.complete_batch_items(jsonb) FROM ${env.worker}`);
	try {
		const queue = createQueue(pool, { completeCalls: 1 });
		const items = await claimNew(queue, 'nogrant', 4);
		const first = await Promise.all(items.map((item) => queue.complete(item, offlineResponse(item), 10)));
		// the first alone; the batch of the other three refused (42501), each sent alone
		assert.deepEqual(queue.completionStats(), { single: 4, retried: 0, batches: 0, batched: 0, refused: 1 });
		const more = await claimNew(queue, 'nogrant2', 3);
		await Promise.all(more.map((item) => queue.complete(item, offlineResponse(item), 10)));
		// batches are off: no batch call is tried again
		assert.deepEqual(queue.completionStats(), { single: 7, retried: 0, batches: 0, batched: 0, refused: 1 });
		const rows = await stored([...items, ...more].map((i) => i.itemId));
		assert.ok([...rows.values()].every((r) => r.status === 'completed'));
		assert.deepEqual(first.map((r) => r.conversationId), items.map((i) => rows.get(i.itemId).conversation_id));
	} finally {
		await query(env.db, `GRANT EXECUTE ON FUNCTION train_data.complete_batch_items(jsonb) TO ${env.worker}`);
	}
});

test('TD_COMPLETE_BATCH=1: every completion alone', async () => {
	const queue = createQueue(pool, { completeCalls: 1, completeBatch: 1 });
	const items = await claimNew(queue, 'alone', 3);
	await Promise.all(items.map((item) => queue.complete(item, offlineResponse(item), 10)));
	assert.deepEqual(queue.completionStats(), { single: 3, retried: 0, batches: 0, batched: 0, refused: 0 });
});

test('a worker run with 16 calls in flight: batches, and every item its own conversation', async () => {
	// the tests above leave items queued again (unusable) or in flight (refused): gone, so the run has its own 40
	await query(env.db, 'DELETE FROM train_data.batch_jobs');
	const jobs = [];
	for (let j = 1; j <= 4; j++) jobs.push(await createBatch(env, `run ${j}`, Array.from({ length: 10 }, (_, i) => `R${j}-${i + 1}`)));
	const { status, counts, completions } = await runWorker(env, { TD_CONCURRENCY: '16', TD_OFFLINE: '1',
		TD_OFFLINE_DELAY: '0', TD_OFFLINE_TRUNCATE: '0', TD_IDLE_EXIT: '1' });
	assert.equal(status, 0);
	assert.equal(counts.completed, 40);
	assert.equal(completions.single + completions.batched, 40);
	assert.ok(completions.batches >= 1, `batches: ${JSON.stringify(completions)}`);
	for (const job of jobs) {
		for (const item of await itemsOf(env, job)) {
			assert.equal(item.status, 'completed');
			assert.equal(item.title, `${item.persona} on retirement`);
			assert.equal(item.conversations, 1);
			assert.deepEqual(item.logs, ['success']);
		}
	}
});

test('an item whose row its owner holds: the others and the next call are stored while it waits, and it once she lets go', async () => {
	const queue = createQueue(pool, { completeCalls: 1, retryDelayMs: 100 });
	const items = await claimNew(queue, 'held', 5);
	const [a, b, held, c, d] = items;
	// the owner (here the superuser) holds the item's row in an open transaction
	const holder = new pg.Client({ database: env.db });
	await holder.connect();
	await holder.query('BEGIN');
	await holder.query('SELECT 1 FROM train_data.batch_items WHERE id = $1 FOR UPDATE', [held.itemId]);
	try {
		let heldDone = false;
		const heldP = queue.complete(held, offlineResponse(held), 10).finally(() => { heldDone = true; });
		const first = [queue.complete(a, offlineResponse(a), 10), queue.complete(b, offlineResponse(b), 10),
			queue.complete(c, offlineResponse(c), 10)];
		// the held item went alone first: one lock wait (5 s) in the call's place, then tried again outside
		// it (which call waits for which: test/completer.test.js); a, b and c waited for that call and went together
		const stored1 = await Promise.all(first);
		assert.ok(stored1.every((r) => r.conversationId));
		// the only call's place is free again while the held item still waits
		const next = await queue.complete(d, offlineResponse(d), 10);
		assert.ok(next.conversationId);
		assert.equal(heldDone, false);
		await holder.query('COMMIT');
		const late = await heldP;
		assert.ok(late.conversationId);
		const rows = await stored(items.map((i) => i.itemId));
		assert.ok([...rows.values()].every((r) => r.status === 'completed'));
		assert.deepEqual(queue.completionStats().batches, 1);
	} finally {
		await holder.end();
	}
});
