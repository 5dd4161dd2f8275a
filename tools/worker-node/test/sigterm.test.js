// test/sigterm.test.js — SIGTERM while calls are in flight: the worker
// (a child process, as deployed) stops claiming, lets the calls that end
// within the grace period complete, releases the rest (or, on a database
// without release_batch_item, leaves them to their lease) and exits 0.  A
// second worker then finishes the job: every item completed once, one
// conversation and one successful generation each — nothing lost, nothing
// counted twice.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { startMockServer } from './mock-server.js';
import { createBatch, itemsOf, query, runWorker, setupDatabase } from './helpers.js';

const WORKER = fileURLToPath(new URL('../bin/worker.js', import.meta.url));
let env;
let mock;
before(async () => {
	env = await setupDatabase('sigterm');
	mock = await startMockServer({ slowMs: 1500, stallMs: 120000 });
});
after(async () => {
	await mock?.close();
	await env?.drop();
});

/** Wait until `cond()` holds (checked every 50 ms), failing after `ms`. */
async function until(cond, ms, what) {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await delay(50);
	}
}

test('SIGTERM mid-call: finishes what it can within the grace period, hands back the rest, exits 0', async () => {
	const personas = ['slow-1', 'slow-2', 'stall-1', 'stall-2'];
	const job = await createBatch(env, 'sigterm', personas);
	const child = spawn(process.execPath, [WORKER, '--name', 'sigterm-worker', '--concurrency', '4', '--grace', '4', '--lease', '4s'], {
		env: { ...process.env, PGDATABASE: env.db, PGUSER: env.worker, ANTHROPIC_API_KEY: 'test-key',
			ANTHROPIC_BASE_URL: mock.anthropicBaseURL, TD_POLL: '0.2' },
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	let out = '';
	let err = '';
	child.stdout.on('data', (d) => { out += d; });
	child.stderr.on('data', (d) => { err += d; });
	const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
	await until(() => mock.total() === 4, 20000, 'four calls in flight');
	child.kill('SIGTERM');
	const { code, signal } = await exited;
	assert.equal(err, '');
	assert.deepEqual({ code, signal }, { code: 0, signal: null });

	const lines = out.trim().split('\n').map((l) => JSON.parse(l));
	const events = (name) => lines.filter((l) => l.event === name);
	assert.deepEqual(events('completed').map((l) => l.attempt), [1, 1]);
	const handedBack = env.features.release ? events('released') : events('left_to_lease');
	assert.equal(handedBack.length, 2);
	assert.equal(events('stopping').length, 1);
	assert.deepEqual(lines.at(-1).event, 'stopped');
	assert.equal(events('claimed').length, 4);   // nothing claimed after the signal

	let items = await itemsOf(env, job);
	const byPersona = Object.fromEntries(items.map((i) => [i.persona, [i.status, i.attempts]]));
	const stalled = env.features.release ? ['queued', 0] : ['processing', 1];
	assert.deepEqual(byPersona, { 'slow-1': ['completed', 1], 'slow-2': ['completed', 1], 'stall-1': stalled, 'stall-2': stalled });

	// a second worker takes the rest (after the lease when nothing was released)
	await runWorker(env, { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: mock.anthropicBaseURL, TD_IDLE_EXIT: '8' });
	items = await itemsOf(env, job);
	const done = env.features.release ? 1 : 2;
	assert.deepEqual(items.map((i) => [i.persona, i.status, i.attempts, i.conversations, i.logs]), [
		['slow-1', 'completed', 1, 1, ['success']],
		['slow-2', 'completed', 1, 1, ['success']],
		['stall-1', 'completed', done, 1, ['success']],
		['stall-2', 'completed', done, 1, ['success']],
	]);
	const progress = (await query(env.db, 'SELECT status::text, completed_items, failed_items FROM train_data.batch_progress($1)', [job])).rows[0];
	assert.deepEqual(progress, { status: 'completed', completed_items: 4, failed_items: 0 });
});
