// test/completer.test.js — src/completer.js on its own, with stand-ins for
// the database calls that settle in the order the test says (no timers): how
// completions are grouped, which call waits for which, and what each entry
// gets back.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCompleter } from '../src/completer.js';

/** Let every settled promise and pending I/O callback run. */
async function flush() {
	for (let i = 0; i < 10; i++) await new Promise(setImmediate);
}

/**
 * Stand-ins for the two calls, recording each in `calls` ("try e1": an
 * entry's one try by itself; "retry e1": tried again, with retries;
 * "batch e2,e3"): an entry `held` fails its try (55P03, `again`) and,
 * tried again, waits until `release(id)`; an entry `bad` is refused in a batch; a batch
 * whose entries include `unreadable` throws (as a response the database
 * cannot read does).
 */
function standIns() {
	const calls = [];
	const waiting = new Map();
	return {
		calls,
		release: (id) => waiting.get(id)(),
		single(e, once) {
			calls.push(`${once ? 'try' : 'retry'} ${e.id}`);
			if (!e.held) return Promise.resolve(`conversation of ${e.id}`);
			if (once) return Promise.reject(Object.assign(new Error('lock timeout'), { code: '55P03', again: true }));
			return new Promise((resolve) => waiting.set(e.id, () => resolve(`conversation of ${e.id}`)));
		},
		batch(group) {
			calls.push(`batch ${group.map((e) => e.id).join(',')}`);
			if (group.some((e) => e.unreadable)) {
				return Promise.reject(Object.assign(new Error('unreadable'), { code: '22P05', disablesBatches: group.some((e) => e.revoked) }));
			}
			return Promise.resolve(group.map((e) => {
				if (e.held) return { again: true };
				if (e.bad) return { error: Object.assign(new Error(`refused ${e.id}`), { code: 'XX000' }) };
				return { value: `conversation of ${e.id}` };
			}));
		},
	};
}

/** Entries e1..en of one byte each, with `extra` fields by id. */
function entries(n, extra = {}) {
	return Array.from({ length: n }, (_, i) => ({ id: `e${i + 1}`, bytes: 1, ...extra[`e${i + 1}`] }));
}

test('the first goes alone; those that wait for it go together, at most maxEntries a call', async () => {
	const s = standIns();
	const c = createCompleter({ single: s.single, batch: s.batch, calls: 1, maxEntries: 3 });
	const results = await Promise.all(entries(7).map((e) => c.complete(e)));
	assert.deepEqual(s.calls, ['try e1', 'batch e2,e3,e4', 'batch e5,e6,e7']);
	assert.deepEqual(results, entries(7).map((e) => `conversation of ${e.id}`));
	assert.deepEqual(c.stats, { single: 1, retried: 0, batches: 2, batched: 6, refused: 0 });
});

test('two calls at once: the first two go alone, the rest wait for either', async () => {
	const s = standIns();
	const c = createCompleter({ single: s.single, batch: s.batch, calls: 2, maxEntries: 50 });
	await Promise.all(entries(6).map((e) => c.complete(e)));
	assert.deepEqual(s.calls, ['try e1', 'try e2', 'batch e3,e4,e5,e6']);
});

test('maxBytes: a group ends before the entry that would pass it; a larger entry goes alone', async () => {
	const s = standIns();
	const c = createCompleter({ single: s.single, batch: s.batch, calls: 1, maxEntries: 50, maxBytes: 10 });
	const sizes = [1, 4, 4, 4, 20, 1];
	await Promise.all(sizes.map((bytes, i) => c.complete({ id: `e${i + 1}`, bytes })));
	assert.deepEqual(s.calls, ['try e1', 'batch e2,e3', 'try e4', 'try e5', 'try e6']);
});

test('maxEntries 1: batches off, every entry tried at once, none waiting for a call', async () => {
	const s = standIns();
	const c = createCompleter({ single: s.single, batch: s.batch, calls: 1, maxEntries: 1 });
	const held = c.complete({ id: 'h', bytes: 1, held: true });
	await Promise.all(entries(3).map((e) => c.complete(e)));
	assert.deepEqual(s.calls, ['try h', 'try e1', 'try e2', 'try e3', 'retry h']);
	s.release('h');
	assert.equal(await held, 'conversation of h');
});

test('an entry marked alone goes by itself at once; the others still wait and go together', async () => {
	const s = standIns();
	const c = createCompleter({ single: s.single, batch: s.batch, calls: 1, maxEntries: 50 });
	await Promise.all(entries(5, { e3: { alone: true } }).map((e) => c.complete(e)));
	assert.deepEqual(s.calls, ['try e1', 'try e3', 'batch e2,e4,e5']);
});

test('a held entry tries once in a call, then is tried again outside it: the next calls go on', async () => {
	const s = standIns();
	const c = createCompleter({ single: s.single, batch: s.batch, calls: 1, maxEntries: 50 });
	let heldResult = null;
	const held = c.complete({ id: 'h', bytes: 1, held: true }).then((r) => { heldResult = r; });
	const rest = entries(3).map((e) => c.complete(e));
	assert.deepEqual(await Promise.all(rest), ['conversation of e1', 'conversation of e2', 'conversation of e3']);
	assert.deepEqual(await c.complete({ id: 'e4', bytes: 1 }), 'conversation of e4');
	await flush();
	assert.deepEqual(s.calls, ['try h', 'retry h', 'batch e1,e2,e3', 'try e4']);
	assert.equal(heldResult, null);
	s.release('h');
	await held;
	assert.equal(heldResult, 'conversation of h');
});

test('in a batch: a refused entry gets its error, a held one is tried again outside the calls', async () => {
	const s = standIns();
	const c = createCompleter({ single: s.single, batch: s.batch, calls: 1, maxEntries: 50 });
	const all = entries(5, { e3: { bad: true }, e4: { held: true } }).map((e) => c.complete(e));
	const settled = await Promise.allSettled([all[0], all[1], all[2], all[4]]);
	assert.deepEqual(settled.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
	assert.equal(settled[2].reason.message, 'refused e3');
	assert.deepEqual(s.calls, ['try e1', 'batch e2,e3,e4,e5', 'retry e4']);
	s.release('e4');
	assert.equal(await all[3], 'conversation of e4');
});

test('a batch refused whole: its entries are tried alone at once; batches go on unless it disables them, then only for a while', async () => {
	for (const revoked of [false, true]) {
		const s = standIns();
		let clock = 0;
		const c = createCompleter({ single: s.single, batch: s.batch, calls: 1, maxEntries: 50, retryBatchesMs: 1000,
			now: () => clock });
		const first = entries(3, { e2: { unreadable: true, revoked } }).map((e) => c.complete(e));
		await Promise.all(first);
		await flush();   // the call is over: the next entry goes alone again
		await Promise.all(['f1', 'f2', 'f3'].map((id) => c.complete({ id, bytes: 1 })));
		assert.deepEqual(s.calls, ['try e1', 'batch e2,e3', 'try e2', 'try e3',
			...(revoked ? ['try f1', 'try f2', 'try f3'] : ['try f1', 'batch f2,f3'])]);
		assert.equal(c.stats.refused, 1);
		// batches come back once retryBatchesMs has passed
		clock = 1000;
		s.calls.length = 0;
		await flush();
		await Promise.all(['g1', 'g2', 'g3'].map((id) => c.complete({ id, bytes: 1 })));
		assert.deepEqual(s.calls, ['try g1', 'batch g2,g3']);
	}
});

test('tries again run outside the calls, at most `calls` at once', async () => {
	const s = standIns();
	const c = createCompleter({ single: s.single, batch: s.batch, calls: 1, maxEntries: 50 });
	const all = entries(4, { e2: { held: true }, e3: { held: true }, e4: { held: true } }).map((e) => c.complete(e));
	await all[0];
	await flush();
	assert.deepEqual(s.calls, ['try e1', 'batch e2,e3,e4', 'retry e2']);
	// the call is free: another completion goes while the retries wait
	assert.equal(await c.complete({ id: 'e5', bytes: 1 }), 'conversation of e5');
	s.release('e2');
	await flush();
	assert.deepEqual(s.calls.slice(3), ['try e5', 'retry e3']);
	s.release('e3');
	await flush();
	s.release('e4');
	assert.deepEqual(await Promise.all(all.slice(1)), ['conversation of e2', 'conversation of e3', 'conversation of e4']);
	assert.deepEqual(c.stats, { single: 2, retried: 3, batches: 1, batched: 3, refused: 0 });
});
