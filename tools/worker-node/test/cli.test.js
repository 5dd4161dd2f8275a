// test/cli.test.js — the worker as a command: --idle-exit, --once, bad
// options, the offline generator, and the pure helpers (durations,
// retry-after, offline response shapes).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { USER, createBatch, itemsOf, runWorker, setupDatabase } from './helpers.js';
import { loadConfig, parseDuration } from '../src/config.js';
import { offlineResponse, sampleConversation } from '../src/offline.js';
import { redact, retryAfterMs } from '../src/providers.js';

const WORKER = fileURLToPath(new URL('../bin/worker.js', import.meta.url));
const PROGRESS = fileURLToPath(new URL('../examples/progress.js', import.meta.url));
let env;
before(async () => { env = await setupDatabase('cli'); });
after(async () => { await env?.drop(); });

/**
 * Run the worker command to its end, offline unless `extra` says otherwise
 * (a variable set to null is left out); returns { status, lines (parsed JSON), stderr }.
 */
function worker(args, extra = {}, timeout = 60000) {
	const vars = { ...process.env, PGDATABASE: env.db, PGUSER: env.worker, TD_POLL: '0.2', ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '',
		TD_OFFLINE: '1', ...extra };
	for (const [k, v] of Object.entries(vars)) if (v === null) delete vars[k];
	const r = spawnSync(process.execPath, [WORKER, ...args], { env: vars, encoding: 'utf8', timeout });
	const lines = r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => JSON.parse(l));
	return { status: r.status, lines, stderr: r.stderr };
}

test('--idle-exit: an empty queue ends the worker after that many seconds, status 0', () => {
	const r = worker(['--idle-exit', '1', '--name', 'idle-1']);
	assert.equal(r.status, 0);
	assert.deepEqual(r.lines.map((l) => l.event), ['started', 'offline', 'idle_exit', 'stopped']);
	assert.ok(r.lines.every((l) => l.worker === 'idle-1' && typeof l.time === 'string'));
});

test('--once with the offline generator: one claim of up to --concurrency items, completed, then exit', async () => {
	const job = await createBatch(env, 'once', ['Ann', 'Bo', 'Cy']);
	const r = worker(['--once', '--concurrency', '2'], { TD_OFFLINE_DELAY: '0', TD_OFFLINE_TRUNCATE: '0' });
	assert.equal(r.status, 0);
	assert.deepEqual(r.lines.filter((l) => l.event === 'completed').map((l) => [l.attempt, l.provider]), [[1, 'anthropic'], [1, 'anthropic']]);
	const items = await itemsOf(env, job);
	assert.deepEqual(items.map((i) => [i.persona, i.status, i.title]),
		[['Ann', 'completed', 'Ann on retirement'], ['Bo', 'completed', 'Bo on retirement'], ['Cy', 'queued', null]]);
	assert.deepEqual(items[0].turns, sampleConversation({ persona: 'Ann', emotion: 'worried', topic: 'retirement' }).turns);
});

test('bad options and settings: status 2 and a message, nothing claimed', () => {
	assert.deepEqual([worker(['--bogus']).status, worker(['--concurrency', '0']).status,
		worker([], { TD_LEASE: 'soon' }).status], [2, 2, 2]);
	assert.match(worker(['--bogus']).stderr, /unknown option "--bogus"\nusage: /);
});

test('no API key and no TD_OFFLINE=1: status 2 and a message, not the offline generator (it was chosen silently)', async () => {
	const job = await createBatch(env, 'no key', ['Hal']);
	const refused = [worker(['--idle-exit', '1'], { TD_OFFLINE: null }), worker(['--idle-exit', '1'], { TD_OFFLINE: '0' })];
	for (const r of refused) {
		assert.equal(r.status, 2);
		assert.deepEqual(r.lines, []);
		assert.equal(r.stderr, 'no API key: set ANTHROPIC_API_KEY and/or OPENAI_API_KEY, or TD_OFFLINE=1 for the offline generator '
			+ '(sample conversations, not model output)\n');
	}
	assert.deepEqual((await itemsOf(env, job)).map((i) => [i.status, i.attempts]), [['queued', 0]]);
	// asked for explicitly, the offline generator runs
	const r = worker(['--idle-exit', '1'], { TD_OFFLINE: '1', TD_OFFLINE_DELAY: '0', TD_OFFLINE_TRUNCATE: '0' });
	assert.equal(r.status, 0);
	assert.equal(r.lines.filter((l) => l.event === 'offline').length, 1);
	assert.deepEqual((await itemsOf(env, job)).map((i) => [i.status, i.title]), [['completed', 'Hal on retirement']]);
});

test('a malformed DATABASE_URL: status 1 and a message that does not repeat it, nothing tried (it retried forever)', () => {
	const urls = { garbage: 'not a URL (expected postgres://user@host:port/database)', 'mysql://u:s3cretpw@x/y': 'scheme "mysql:" is not postgres: or postgresql:',
		'postgres://u:s3cretpw@%zz/db': 'a malformed %-escape in its user, password, host or database',
		'postgres://u@db.example/app?sslmode=bogus': 'sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, no-verify',
		'postgres://u@h%20b/db': 'not a host name or address' };
	for (const [url, why] of Object.entries(urls)) {
		const r = worker(['--idle-exit', '1'], { DATABASE_URL: url }, 5000);   // (it tried forever)
		assert.deepEqual([r.status, r.stderr, r.lines], [1, `DATABASE_URL: ${why}\n`, []], url);
	}
	// pg's other forms are accepted (and nothing is decided about the network)
	const ok = (url) => loadConfig({ TD_WORKER_NAME: 'w', TD_OFFLINE: '1', DATABASE_URL: url }, []).databaseUrl;
	for (const url of ['postgres://u:p%40ss@db.example:6432/app?sslmode=verify-full', 'postgresql:///app?host=/var/run/postgresql',
		'postgres://u@[::1]:5432/app', 'postgres://u@%2Fvar%2Frun%2Fpostgresql/app', '/var/run/postgresql app', 'socket:/tmp?db=app']) {
		assert.equal(ok(url), url);
	}
});

test('--help: the usage on stdout, status 0, nothing claimed (a new-user review: it was an unknown option)', () => {
	const r = spawnSync(process.execPath, [WORKER, '--help'], { encoding: 'utf8', timeout: 60000 });
	assert.equal(r.status, 0);
	assert.match(r.stdout, /^usage: train-data-worker \[--name NAME\]/);
	assert.equal(r.stderr, '');
});

test('a role without the worker grants is a fatal error: status 1', () => {
	const r = worker(['--idle-exit', '1'], { PGUSER: env.app });
	assert.equal(r.status, 1);
	assert.deepEqual(r.lines.filter((l) => l.event === 'fatal').map((l) => l.sqlstate), ['42501']);
});

test('a role whose transactions read from one snapshot: the worker functions refuse them (0A000), a fatal error: status 1', () => {
	const r = worker(['--idle-exit', '1'], { PGOPTIONS: '-c default_transaction_isolation=repeatable\\ read' });
	assert.equal(r.status, 1);
	assert.deepEqual(r.lines.filter((l) => l.event === 'fatal').map((l) => l.sqlstate), ['0A000']);
});

test('base URLs a key may go to: the provider\'s own and those listed for it', () => {
	const cfg = (env) => loadConfig({ TD_WORKER_NAME: 'w', TD_OFFLINE: '1', ...env }, []).allowedBaseUrls;
	const a = cfg({ TD_ALLOWED_BASE_URLS: 'http://vllm.local/v1 anthropic=http://proxy.local/ openai=http://o.local' });
	assert.deepEqual([...a.anthropic].sort(), ['http://proxy.local', 'https://api.anthropic.com']);
	assert.deepEqual([...a.openai].sort(), ['http://o.local', 'http://vllm.local/v1', 'https://api.openai.com/v1']);
	// a gateway set: the public endpoint is not the operator's any more (found by a review of 1.2)
	const b = cfg({ OPENAI_BASE_URL: 'http://gateway.local/v1', ANTHROPIC_BASE_URL: 'http://a-gw.local' });
	assert.deepEqual([[...b.anthropic], [...b.openai]], [['http://a-gw.local'], ['http://gateway.local/v1']]);
});

test('settings out of their bounds are refused by name', () => {
	const refused = (env) => {
		try {
			loadConfig({ TD_WORKER_NAME: 'w', TD_OFFLINE: '1', ...env }, []);
			return 'accepted';
		} catch (e) {
			return e.message.split(':')[0];
		}
	};
	assert.deepEqual([{ TD_POLL: '0.05' }, { TD_POLL: '7200' }, { TD_REQUEST_TIMEOUT: '25 h' }, { TD_REQUEST_TIMEOUT: '0' },
		{ TD_LEASE: '25 hours' }, { TD_MAX_RESPONSE_MB: '0' }, { TD_MAX_RESPONSE_MB: '0.5' }, { TD_MAX_RESPONSE_MB: '2048' },
		{ TD_MAX_RESPONSE_MB: 'lots' }, { TD_WORKER_NAME: ' ' }, { TD_OUTAGE_AFTER: '-1' }, { TD_OUTAGE_AFTER: '2.5' },
		{ TD_OUTAGE_MAX: 'a while' }].map(refused),
	['TD_POLL', 'TD_POLL', 'TD_REQUEST_TIMEOUT', 'TD_REQUEST_TIMEOUT', 'TD_LEASE', 'TD_MAX_RESPONSE_MB', 'TD_MAX_RESPONSE_MB',
		'TD_MAX_RESPONSE_MB', 'TD_MAX_RESPONSE_MB', 'TD_WORKER_NAME', 'TD_OUTAGE_AFTER', 'TD_OUTAGE_AFTER', 'TD_OUTAGE_MAX']);
	const ok = loadConfig({ TD_WORKER_NAME: 'w', TD_OFFLINE: '1', TD_POLL: '0.1', TD_REQUEST_TIMEOUT: '24 h', TD_MAX_RESPONSE_MB: '1024' }, []);
	assert.deepEqual([ok.pollSeconds, ok.requestTimeoutSeconds, ok.maxResponseBytes], [0.1, 86400, 1024 * 1024 * 1024]);
	const defaults = loadConfig({ TD_WORKER_NAME: 'w', ANTHROPIC_API_KEY: 'k' }, []);
	assert.deepEqual([defaults.maxResponseBytes, defaults.outageAfter, defaults.outageMaxSeconds, defaults.offline], [8 * 1024 * 1024, 5, 900, false]);
});

test('an empty setting is the default, not 0 (TD_OUTAGE_AFTER= turned the outage breaker off)', () => {
	const pick = (c) => [c.outageAfter, c.rateLimitWaits, c.offlineDelayMs, c.offlineTruncate, c.concurrency, c.leaseSeconds,
		c.pollSeconds, c.retryAfterMaxSeconds, c.maxResponseBytes, c.completeBatch, c.dbPoolSize, c.offline];
	const empty = {};
	for (const v of ['TD_OUTAGE_AFTER', 'TD_RATE_LIMIT_WAITS', 'TD_OFFLINE_DELAY', 'TD_OFFLINE_TRUNCATE', 'TD_CONCURRENCY', 'TD_LEASE',
		'TD_POLL', 'TD_RETRY_AFTER_MAX', 'TD_MAX_RESPONSE_MB', 'TD_COMPLETE_BATCH', 'TD_DB_POOL', 'TD_OFFLINE']) empty[v] = v.endsWith('DELAY') ? ' ' : '';
	const base = { TD_WORKER_NAME: 'w', ANTHROPIC_API_KEY: 'k' };
	assert.deepEqual(pick(loadConfig({ ...base, ...empty }, [])), pick(loadConfig(base, [])));
	assert.deepEqual(pick(loadConfig(base, [])), [5, 2, null, 0.1, 4, 300, 1, 60, 8 * 1024 * 1024, 50, undefined, false]);
	// a value that is not empty is still read, and checked
	assert.deepEqual(pick(loadConfig({ ...base, TD_OUTAGE_AFTER: '0', TD_OFFLINE_DELAY: '0' }, [])).slice(0, 3), [0, 2, 0]);
	assert.throws(() => loadConfig({ ...base, TD_OUTAGE_AFTER: 'x' }, []), /^Error: TD_OUTAGE_AFTER/);
});

test('durations, retry-after, offline shapes', () => {
	assert.deepEqual(['300', '5 minutes', '90s', '1.5 h', '00:02:00', '250ms'].map((d) => parseDuration(d, 'x')), [300, 300, 90, 5400, 120, 0.25]);
	assert.throws(() => parseDuration('5 fortnights', 'TD_LEASE'), /TD_LEASE: not a duration: "5 fortnights"/);
	const h = (o) => new Headers(o);
	assert.deepEqual([retryAfterMs(h({ 'retry-after': '2' })), retryAfterMs(h({ 'retry-after-ms': '150', 'retry-after': '2' })),
		retryAfterMs(h({ 'retry-after': 'Tue, 01 Dec 2026 00:00:10 GMT' }), Date.parse('2026-12-01T00:00:00Z')),
		retryAfterMs(h({ 'retry-after': 'later' })), retryAfterMs(h({}))], [2000, 150, 10000, undefined, undefined]);
	// a negative, empty or odd value is not "now" (found by a review: three requests in 110 ms to a rate-limited API)
	assert.deepEqual([retryAfterMs(h({ 'retry-after': '-5' })), retryAfterMs(h({ 'retry-after': '' })),
		retryAfterMs(h({ 'retry-after': '1,5' })), retryAfterMs(h({ 'retry-after-ms': '', 'retry-after': '2' }))],
	[undefined, undefined, undefined, 2000]);
	assert.equal(redact('invalid key: Bearer sk-test-key-123 (sk-test-key-123)', ['sk-test-key-123', '', undefined]),
		'invalid key: Bearer *** (***)');
	const a = offlineResponse({ provider: 'anthropic', parameters: { persona: 'Ann' } }, true);
	assert.deepEqual([a.type, a.stop_reason, a.content[0].type], ['message', 'max_tokens', 'text']);
	const o = offlineResponse({ provider: 'openai', parameters: { persona: 'Ann' } }, false);
	assert.deepEqual([o.object, o.choices[0].finish_reason, o.choices[0].message.role, Object.keys(o.usage)],
		['chat.completion', 'stop', 'assistant', ['prompt_tokens', 'completion_tokens', 'total_tokens']]);
	const json = /```json\n(.*)\n```/s.exec(o.choices[0].message.content)[1];
	assert.deepEqual(JSON.parse(json), sampleConversation({ persona: 'Ann' }));
});

test('examples/progress.js: a line per event, from the first state to job_finished, then exit 0', async () => {
	const job = await createBatch(env, 'progress', ['Eve', 'Fay', 'Gus'], 1);
	const child = spawn(process.execPath, [PROGRESS, job], {
		env: { ...process.env, PGDATABASE: env.db, PGUSER: env.app, TD_USER_ID: USER }, stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	const exited = new Promise((resolve) => child.on('exit', resolve));
	// the first line is printed once it listens
	await new Promise((resolve) => child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(); }));
	await runWorker(env, { TD_OFFLINE: '1', TD_OFFLINE_DELAY: '0', TD_OFFLINE_TRUNCATE: '0', TD_IDLE_EXIT: '1' });
	assert.equal(await exited, 0);
	const lines = out.trim().split('\n');
	assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), ['now', 'item_completed', 'item_completed', 'item_completed', 'job_finished']);
	assert.match(lines[0], /^now +queued +0\.00 % {2}0\/3 done, 0 failed, --:--:-- remaining$/);
	assert.match(lines.at(-1), /^job_finished +completed +100\.00 % {2}3\/3 done, 0 failed, \d\d:\d\d:\d\d remaining$/);
});
