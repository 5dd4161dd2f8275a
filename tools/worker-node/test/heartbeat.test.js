// test/heartbeat.test.js — the worker's heartbeats on their own, with
// stand-ins for the database and the model (no database): a heartbeat that
// waits (an item row its owner holds makes it wait out the lock timeout) is
// not joined by the next ones of the same item.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from '../src/worker.js';
import { collectingLogger, workerConfig } from './helpers.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test('one heartbeat of an item at a time: ticks while one waits are skipped', async () => {
	// a 3 s lease: a tick every second; each heartbeat takes 2.5 s; the model 4.5 s
	const config = workerConfig({}, { TD_OFFLINE: '1', TD_LEASE: '3', TD_CONCURRENCY: '1', TD_IDLE_EXIT: '1' });
	const item = { itemId: 'i1', jobId: 'j1', attempt: 1, provider: 'anthropic' };
	let claims = 0;
	let waiting = 0;
	const beats = { calls: 0, most: 0 };
	const queue = {
		async claim() { return claims++ === 0 ? [item] : []; },
		async heartbeat() {
			beats.calls++;
			beats.most = Math.max(beats.most, ++waiting);
			await sleep(2500);
			waiting--;
			return new Date().toISOString();
		},
		async complete() { return { conversationId: 'c1' }; },
		completionStats: () => null,
	};
	const caller = { async call() { await sleep(4500); return { content: [] }; } };
	const log = collectingLogger();
	const status = await new Worker({ config, queue, caller, log }).run();
	assert.equal(status, 0);
	// ticks at 1, 2, 3 and 4 s: the first and the fourth send (the second
	// and third come while the first waits); all four would overlap three deep
	assert.deepEqual(beats, { calls: 2, most: 1 });
	assert.deepEqual(log.lines.filter((l) => l.event === 'completed').map((l) => l.conversation), ['c1']);
});
