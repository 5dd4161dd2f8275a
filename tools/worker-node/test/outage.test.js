// test/outage.test.js — a provider outage (outage.js): the breaker's rules
// on their own, then the worker against a mock that answers 503 to its
// first calls.  Before the breaker, every 503 spent an attempt and the
// queue's backoff (1 s, 2 s) spent an item's three within seconds: a
// 30-second outage failed 418 of 500 items for good (a review of 1.2).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { OutageBreaker, isOutageFailure } from '../src/outage.js';
import { startMockServer } from './mock-server.js';
import { collectingLogger, createBatch, itemsOf, runWorker, setupDatabase, useProvider } from './helpers.js';

test('outage breaker: which failures count, when claims pause, how long attempts are spared', () => {
	assert.equal(isOutageFailure({ status: 503 }), true);
	assert.equal(isOutageFailure({ status: 429 }), true);
	assert.equal(isOutageFailure({ code: 'network' }), true);
	assert.equal(isOutageFailure({ code: 'timeout' }), true);
	assert.equal(isOutageFailure({ status: 400, code: '400' }), false);
	assert.equal(isOutageFailure({ code: 'invalid_response' }), false);
	const b = new OutageBreaker({ after: 3, maxSeconds: 60 });
	const down = { status: 503, code: '503' };
	assert.deepEqual(b.failed(down, 1000), { pauseUntil: 0, spare: false });
	assert.deepEqual(b.failed(down, 1100), { pauseUntil: 0, spare: false });
	assert.deepEqual(b.failed(down, 1200), { pauseUntil: 6200, spare: true });     // third in a row: 5 s
	assert.deepEqual(b.failed(down, 1300), { pauseUntil: 0, spare: true });        // within the pause
	assert.deepEqual(b.failed(down, 6300), { pauseUntil: 16300, spare: true });    // after it: 10 s
	assert.deepEqual(b.failed(down, 16400), { pauseUntil: 36400, spare: true });   // 20 s
	assert.deepEqual(b.failed(down, 36500), { pauseUntil: 76500, spare: true });   // 40 s
	assert.deepEqual(b.failed(down, 76600), { pauseUntil: 136600, spare: false }); // 60 s at most; past 60 s of outage
	b.answered();
	assert.deepEqual(b.failed(down, 200000), { pauseUntil: 0, spare: false });
	// an item's own failure (a 400) breaks the row, and ends the outage
	for (let i = 0; i < 3; i++) b.failed(down, 200100 + i);
	assert.equal(b.since, 200101);   // the third in a row (the first at 200000)
	b.failed({ status: 400, code: '400' }, 200200);
	assert.deepEqual([b.failures, b.since, b.pauses], [0, 0, 0]);
	assert.deepEqual(b.failed(down, 200300), { pauseUntil: 0, spare: false });
	// after = 0: never
	const never = new OutageBreaker({ after: 0 });
	for (let i = 0; i < 10; i++) assert.deepEqual(never.failed(down, i), { pauseUntil: 0, spare: false });
});

let env;
let mock;
before(async () => {
	env = await setupDatabase('outage');
	mock = await startMockServer({ downFor: 8, cutFor: 8 });
});
after(async () => {
	await mock?.close();
	await env?.drop();
});

test('outage: 8 calls answered 503, then the provider is back: every item completed, none failed', async (t) => {
	if (!env.features.provider) {
		t.skip('claim_batch_items has no provider column in this build');
		return;
	}
	await useProvider(env, 'openai', mock.openaiBaseURL, 'gpt-4o-mini');
	const personas = Array.from({ length: 8 }, (_, i) => `down-${i + 1}`);
	const job = await createBatch(env, 'outage', personas, 4);
	const log = collectingLogger();
	const { status, counts } = await runWorker(env, { OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: mock.openaiBaseURL,
		TD_OUTAGE_AFTER: '3', TD_IDLE_EXIT: '3' }, log);
	assert.equal(status, 0);
	const items = await itemsOf(env, job);
	assert.deepEqual(items.map((i) => i.status), Array(8).fill('completed'));
	// the first two failures spent an attempt each (the queue's backoff); the
	// other six released their items without one (eight spent before)
	assert.equal(items.reduce((n, i) => n + (i.logs ?? []).filter((l) => l === 'failed:503').length, 0), 2);
	assert.equal(counts.released, 6);
	assert.ok(items.every((i) => i.attempts <= 3), JSON.stringify(items.map((i) => i.attempts)));
	const pauses = log.lines.filter((l) => l.event === 'provider_outage');
	assert.ok(pauses.length >= 1);
	assert.equal(pauses[0].failures, 3);
});

test('outage: 8 connections reset after the headers, then the provider is back: every item completed, none failed', async () => {
	// undici's TypeError('terminated'), its cause UND_ERR_SOCKET: a worker_error
	// before, so the breaker never tripped and each item spent its attempts
	const personas = Array.from({ length: 8 }, (_, i) => `cut-${i + 1}`);
	const job = await createBatch(env, 'cut', personas, 4);
	const log = collectingLogger();
	// (the items' provider is the one the test before configured, if any)
	const { status, counts } = await runWorker(env, { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: mock.anthropicBaseURL,
		OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: mock.openaiBaseURL, TD_OUTAGE_AFTER: '3', TD_IDLE_EXIT: '3' }, log);
	assert.equal(status, 0);
	const items = await itemsOf(env, job);
	assert.deepEqual(items.map((i) => i.status), Array(8).fill('completed'));
	assert.equal(items.reduce((n, i) => n + (i.logs ?? []).filter((l) => l === 'failed:network').length, 0), 2);
	assert.equal(counts.released, 6);
	assert.equal(counts.failed, 0);
	const released = log.lines.filter((l) => l.event === 'released');
	assert.deepEqual([...new Set(released.map((l) => [l.reason, l.code].join(' ')))], ['provider_outage network']);
	assert.match(released[0].message, /^network: terminated \(other side closed\)$/);
	const pauses = log.lines.filter((l) => l.event === 'provider_outage');
	assert.ok(pauses.length >= 1);
	assert.deepEqual([pauses[0].failures, pauses[0].code], [3, 'network']);
});
