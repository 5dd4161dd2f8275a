// test/report_errors.test.js — a report (completion) the database refuses
// for a reason that is not the lease.  Before, every such error but 55P03
// and a lost connection left the item to sit out its lease: a role whose
// statement_timeout is below the functions' 5 s lock timeout (57014 while
// the owner holds the row), a role without EXECUTE on complete_batch_item
// (42501: the worker went on claiming and paying for model calls, its items
// ending lease_expired), any other error.  Now 57014 is tried again as
// 55P03 is, a fatal error hands the items back and stops the worker (exit
// 1), and any other hands the item back.

import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createQueue } from '../src/db.js';
import { createCaller } from '../src/providers.js';
import { Worker } from '../src/worker.js';
import { collectingLogger, createBatch, itemsOf, query, runWorker, setupDatabase, workerConfig } from './helpers.js';

const OFFLINE = { TD_OFFLINE: '1', TD_OFFLINE_TRUNCATE: '0', TD_OFFLINE_DELAY: '0', TD_IDLE_EXIT: '2' };
let env;
before(async () => {
	env = await setupDatabase('reporterr');
});
after(async () => {
	await env?.drop();
});

/** Each item's [status, attempts, generation log statuses], by position. */
async function outcome(job) {
	return (await itemsOf(env, job)).map((i) => [i.status, i.attempts, i.logs]);
}

test('57014 (statement_timeout 1 s while the owner holds the rows 3 s) is tried again: every item completed once', async () => {
	await query(env.db, `ALTER ROLE ${env.worker} IN DATABASE ${env.db} SET statement_timeout = '1s'`);
	try {
		const job = await createBatch(env, 'held', ['H1', 'H2']);
		const log = collectingLogger();
		const run = runWorker(env, { ...OFFLINE, TD_OFFLINE_DELAY: '1500' }, log);
		// once both are claimed (their calls take 1.5 s), hold their rows 3 s
		const owner = new pg.Client({ database: env.db });
		await owner.connect();
		try {
			for (let i = 0; i < 100 && log.lines.filter((l) => l.event === 'claimed').length < 2; i++) await delay(20);
			await owner.query('BEGIN');
			const held = await owner.query(`SELECT id FROM train_data.batch_items WHERE batch_job_id = $1 FOR UPDATE`, [job]);
			assert.equal(held.rowCount, 2);
			await delay(3000);
			await owner.query('COMMIT');
		} finally {
			await owner.end();
		}
		const { status, counts } = await run;
		assert.equal(status, 0);
		assert.deepEqual(await outcome(job), [['completed', 1, ['success']], ['completed', 1, ['success']]]);
		assert.deepEqual([counts.completed, counts.abandoned, counts.released], [2, 0, 0]);
		assert.deepEqual(log.lines.filter((l) => l.level === 'error').map((l) => l.event), []);
	} finally {
		await query(env.db, `ALTER ROLE ${env.worker} IN DATABASE ${env.db} RESET statement_timeout`);
	}
});

test('42501 on complete_batch_item: the items are handed back and the worker stops with status 1', async () => {
	const fns = 'train_data.complete_batch_item(uuid, jsonb, integer, integer)';
	const batch = (await query(env.db, `SELECT pg_catalog.to_regprocedure('train_data.complete_batch_items(jsonb)') IS NOT NULL AS b`)).rows[0].b;
	await query(env.db, `REVOKE EXECUTE ON FUNCTION ${fns}${batch ? ', train_data.complete_batch_items(jsonb)' : ''} FROM ${env.worker}`);
	try {
		const job = await createBatch(env, 'no grant', ['G1', 'G2', 'G3', 'G4', 'G5', 'G6']);
		const log = collectingLogger();
		const { status, counts } = await runWorker(env, { ...OFFLINE, TD_CONCURRENCY: '2' }, log);
		assert.equal(status, 1);
		// one claim of two; no more model calls after the first refusal
		assert.equal(counts.claimed, 2);
		assert.deepEqual(log.lines.filter((l) => l.event === 'fatal').map((l) => l.sqlstate), ['42501']);
		assert.equal(log.lines.at(-1).event, 'stopped');
		if (env.features.release) {
			assert.equal(counts.released, 2);
			assert.deepEqual(await outcome(job), Array(6).fill(['queued', 0, null]));
		} else {
			assert.equal(counts.abandoned, 2);
		}
	} finally {
		await query(env.db, `GRANT EXECUTE ON FUNCTION ${fns}${batch ? ', train_data.complete_batch_items(jsonb)' : ''} TO ${env.worker}`);
	}
});

test('another report error (XX000) hands the item back: it is claimed again and completed, its attempt not spent', async (t) => {
	if (!env.features.release) {
		t.skip('no release_batch_item in this build');
		return;
	}
	const job = await createBatch(env, 'other', ['X1']);
	const config = workerConfig(env, OFFLINE);
	const pool = new pg.Pool({ database: env.db, user: env.worker, max: 3 });
	const log = collectingLogger();
	try {
		const queue = createQueue(pool, { completeBatch: config.completeBatch });
		let refused = 0;
		// the job's first completion meets an error that is neither the lease's nor fatal
		const flaky = { ...queue, complete(...args) {
			if (args[0].jobId === job && refused++ === 0) return Promise.reject(Object.assign(new Error('internal error'), { code: 'XX000' }));
			return queue.complete(...args);
		} };
		const w = new Worker({ config, queue: flaky, caller: createCaller(config), log });
		assert.equal(await w.run(), 0);
		assert.equal(w.counts.abandoned, 0);
	} finally {
		await pool.end();
	}
	assert.deepEqual(await outcome(job), [['completed', 1, ['success']]]);
	// (the worker also drains what the test before handed back: only this job's lines)
	assert.deepEqual(log.lines.filter((l) => l.job === job && ['claimed', 'report_error', 'released', 'completed'].includes(l.event))
		.map((l) => [l.event, l.sqlstate, l.reason]),
	[['claimed', undefined, undefined], ['report_error', 'XX000', undefined], ['released', 'XX000', 'report_error'],
		['claimed', undefined, undefined], ['completed', undefined, undefined]]);
});
