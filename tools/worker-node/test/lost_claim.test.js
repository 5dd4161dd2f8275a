// test/lost_claim.test.js — a claim whose answer is lost (the connection
// broke after the claim committed).  The worker does not know those items;
// before release_worker_items they stayed in flight until their leases ran
// out, each lease costing an attempt (a review of 1.2: a job stood still for
// a whole lease).  The worker now hands back what is in flight under its
// name but the items it knows before it claims again.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createQueue } from '../src/db.js';
import { createCaller } from '../src/providers.js';
import { Worker } from '../src/worker.js';
import { collectingLogger, createBatch, itemsOf, setupDatabase, workerConfig } from './helpers.js';

let env;
before(async () => {
	env = await setupDatabase('lostclaim');
});
after(async () => {
	await env?.drop();
});

test('a lost claim answer: its items are handed back at once, no attempt spent, all completed', async () => {
	const job = await createBatch(env, 'lost claim', ['P1', 'P2', 'P3', 'P4', 'P5', 'P6'], 10);
	const config = workerConfig(env, { TD_OFFLINE: '1', TD_OFFLINE_DELAY: '0', TD_OFFLINE_TRUNCATE: '0',
		TD_CONCURRENCY: '3', TD_IDLE_EXIT: '2', TD_LEASE: '300' });
	const pool = new pg.Pool({ database: env.db, user: env.worker, max: 5 });
	const log = collectingLogger();
	try {
		const queue = createQueue(pool, { completeBatch: config.completeBatch });
		let lost = 0;
		// the first claim that takes items commits, then its answer is lost
		const lossy = { ...queue, async claim(...args) {
			const items = await queue.claim(...args);
			if (lost === 0 && items.length > 0) {
				lost = items.length;
				throw Object.assign(new Error('Connection terminated unexpectedly'), { unknownOutcome: true });
			}
			return items;
		} };
		const w = new Worker({ config, queue: lossy, caller: createCaller(config), log });
		const started = Date.now();
		assert.equal(await w.run(), 0);
		assert.equal(lost, 3);
		assert.ok(Date.now() - started < 60000);   // not a lease (300 s) later
	} finally {
		await pool.end();
	}
	const items = await itemsOf(env, job);
	assert.deepEqual(items.map((i) => [i.status, i.attempts]), Array(6).fill(['completed', 1]));
	assert.deepEqual(log.lines.filter((l) => l.event === 'released').map((l) => [l.items, l.reason]), [[3, 'claim_outcome_unknown']]);
	assert.equal(log.lines.filter((l) => l.event === 'claim_error' && l.unknown_outcome).length, 1);
});
