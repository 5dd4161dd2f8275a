// test/name_lock.test.js — two processes under one worker name.  The
// database knows a worker by the name on its items, and after a claim whose
// answer it lost a worker hands back everything in flight under its name but
// the items it knows (release_worker_items): a namesake's items too, whose
// completions are then refused and whose model calls are made again.
// Before, a second process started with the same TD_WORKER_NAME ran beside
// the first without a word.  Now the worker holds an advisory lock keyed on
// its name for its whole life, and a second process of that name refuses to
// start (exit 2); a lost lock connection is taken again before the next claim.
// Any role can take that lock (the key is public), and a role with no grants
// must block nothing: only a session of the worker's own role keeps it out;
// another role's holds only take the check away (a warning).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { NameInUse, nameLockKey } from '../src/namelock.js';
import { Worker } from '../src/worker.js';
import { collectingLogger, createBatch, itemsOf, query, setupDatabase } from './helpers.js';

const WORKER = fileURLToPath(new URL('../bin/worker.js', import.meta.url));
let env;
const STRANGER = 'tdw_stranger_namelock';   // LOGIN only: no grant on train_data
before(async () => {
	env = await setupDatabase('namelock');
	await query('postgres', `DROP ROLE IF EXISTS ${STRANGER}`);
	await query('postgres', `CREATE ROLE ${STRANGER} LOGIN`);
});
after(async () => {
	await env?.drop();
	await query('postgres', `DROP ROLE IF EXISTS ${STRANGER}`);
});

function vars(extra = {}) {
	return { ...process.env, PGDATABASE: env.db, PGUSER: env.worker, TD_POLL: '0.2', ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '',
		TD_OFFLINE: '1', TD_OFFLINE_DELAY: '0', TD_OFFLINE_TRUNCATE: '0', ...extra };
}

/** Start the worker command in the background; `lines` fills with its JSON log lines, `exited` resolves with its status. */
function startWorker(args) {
	const child = spawn(process.execPath, [WORKER, ...args], { env: vars(), stdio: ['ignore', 'pipe', 'pipe'] });
	const w = { lines: [], stderr: '' };
	let buffered = '';
	child.stdout.on('data', (d) => {
		buffered += d;
		for (let i; (i = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(i + 1)) w.lines.push(JSON.parse(buffered.slice(0, i)));
	});
	child.stderr.on('data', (d) => { w.stderr += d; });
	w.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
	return w;
}

/** Run the worker command to its end: { status, lines, stderr }. */
function runWorker(args) {
	const r = spawnSync(process.execPath, [WORKER, ...args], { env: vars(), encoding: 'utf8', timeout: 60000 });
	return { status: r.status, lines: r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => JSON.parse(l)), stderr: r.stderr };
}

/** The backend holding the advisory lock of worker name `name` in the test's database, or undefined. */
async function lockHolder(name) {
	const r = await query(env.db, `SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
		AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
		AND (classid::bigint << 32 | objid::bigint) = $1::bigint`, [nameLockKey(name)]);
	return r.rows[0]?.pid;
}

async function until(what, check, ms = 10000) {
	for (const end = Date.now() + ms; Date.now() < end; await delay(50)) if (await check()) return;
	assert.fail(`timed out waiting for ${what}`);
}

test('a second process with a live worker\'s name refuses to start (exit 2, a message), claims nothing; the first is unaffected', async () => {
	const job = await createBatch(env, 'two names', ['N1', 'N2', 'N3']);
	const first = startWorker(['--name', 'twin', '--idle-exit', '3']);
	await until('the first worker to start', () => first.lines.some((l) => l.event === 'started'));
	const second = runWorker(['--name', 'twin', '--idle-exit', '1']);
	assert.equal(second.status, 2);
	assert.match(second.stderr, /^worker name "twin" is in use: another live session holds its lock \(PostgreSQL backend pid \d+\); give each process its own TD_WORKER_NAME or --name/);
	assert.deepEqual(second.lines, []);
	assert.equal(await first.exited, 0);
	assert.equal(first.lines.filter((l) => l.event === 'completed').length, 3);
	assert.deepEqual((await itemsOf(env, job)).map((i) => [i.status, i.attempts]), Array(3).fill(['completed', 1]));
	// the name is free once its worker is gone; another name was never taken
	assert.equal(await lockHolder('twin'), undefined);
	assert.equal(runWorker(['--name', 'twin', '--idle-exit', '1']).status, 0);
	// TD_NAME_LOCK=0: no check (behind a transaction-mode pooler)
	const unchecked = startWorker(['--name', 'twin2', '--idle-exit', '2']);
	await until('the worker to start', () => unchecked.lines.some((l) => l.event === 'started'));
	const r = spawnSync(process.execPath, [WORKER, '--name', 'twin2', '--idle-exit', '1'],
		{ env: vars({ TD_NAME_LOCK: '0' }), encoding: 'utf8', timeout: 60000 });
	assert.equal(r.status, 0, r.stderr);
	assert.equal(await unchecked.exited, 0);
});

test('a lost lock connection: the lock is taken again before the next claim, and still keeps a namesake out', async () => {
	const w = startWorker(['--name', 'lost', '--idle-exit', '4']);
	await until('the worker to hold its name', async () => (await lockHolder('lost')) !== undefined);
	const old = await lockHolder('lost');
	await query(env.db, 'SELECT pg_catalog.pg_terminate_backend($1)', [old]);
	await until('the lock to be taken again', async () => ![undefined, old].includes(await lockHolder('lost')));
	assert.equal(runWorker(['--name', 'lost', '--idle-exit', '1']).status, 2);
	assert.equal(await w.exited, 0);
	assert.deepEqual(w.lines.filter((l) => l.event === 'name_lock_lost').length, 1);
});

test('the name taken by another process while the lock was lost: the worker stops before claiming, exit 2 (name_in_use)', async () => {
	const config = loadConfig({ TD_WORKER_NAME: 'taken', TD_OFFLINE: '1', TD_POLL: '0.2', TD_IDLE_EXIT: '2' });
	const log = collectingLogger();
	let claims = 0;
	const queue = { async claim() { claims++; return []; }, completionStats: () => ({}) };
	const nameLock = { async ensure() { throw new NameInUse('taken', 4242); } };
	const w = new Worker({ config, queue, caller: {}, log, nameLock });
	assert.equal(await w.run(), 2);
	assert.equal(claims, 0);
	assert.deepEqual(log.lines.filter((l) => l.level === 'error').map((l) => l.event), ['name_in_use']);
	assert.match(log.lines.find((l) => l.event === 'name_in_use').message, /backend pid 4242/);
});

/** A session of `user` on `db` that has taken (or is waiting for) the lock of worker name `name`: { client, pid, locked }. */
async function holdName(db, user, name) {
	const client = new pg.Client({ database: db, user });
	await client.connect();
	const pid = (await client.query('SELECT pg_catalog.pg_backend_pid() AS pid')).rows[0].pid;
	const locked = client.query('SELECT pg_catalog.pg_advisory_lock($1::bigint)', [nameLockKey(name)]);
	return { client, pid, locked };
}

test('a role with no grants holding a name\'s lock keeps no worker out: a warning with its pid, the worker drains its queue', async () => {
	const job = await createBatch(env, 'stranger', ['S1', 'S2']);
	const stranger = await holdName(env.db, STRANGER, 'squat');
	await stranger.locked;
	// a session of the worker's own role holding the name in another database is no namesake here
	const elsewhere = await holdName('postgres', env.worker, 'squat');
	await elsewhere.locked;
	try {
		const r = runWorker(['--name', 'squat', '--idle-exit', '1']);
		assert.equal(r.status, 0, r.stderr);
		assert.equal(r.stderr, '');
		const warnings = r.lines.filter((l) => l.level !== 'info');
		assert.deepEqual(warnings.map((l) => [l.event, l.pid]), [['name_lock_taken_by_other_role', stranger.pid]]);
		assert.deepEqual(Object.keys(warnings[0]).sort(), ['event', 'level', 'note', 'pid', 'time', 'worker']);
		assert.equal(r.lines.filter((l) => l.event === 'completed').length, 2);
		assert.deepEqual((await itemsOf(env, job)).map((i) => [i.status, i.attempts]), Array(2).fill(['completed', 1]));
		assert.equal(await lockHolder('squat'), stranger.pid);
	} finally {
		await stranger.client.end();
		await elsewhere.client.end();
	}
});

test('the lock retaken after its connection was lost, held by another role by then: a warning, the worker goes on', async () => {
	const job = await createBatch(env, 'stranger later', ['L1']);
	const w = startWorker(['--name', 'squat2', '--idle-exit', '3']);
	await until('the worker to hold its name', async () => (await lockHolder('squat2')) !== undefined);
	const stranger = await holdName(env.db, STRANGER, 'squat2');   // waits for the worker's lock
	try {
		await query(env.db, 'SELECT pg_catalog.pg_terminate_backend($1)', [await lockHolder('squat2')]);
		await stranger.locked;
		assert.equal(await w.exited, 0, w.stderr);
		assert.deepEqual(w.lines.filter((l) => l.level !== 'info').map((l) => [l.event, l.pid]),
			[['name_lock_lost', undefined], ['name_lock_taken_by_other_role', stranger.pid]]);
		assert.deepEqual((await itemsOf(env, job)).map((i) => i.status), ['completed']);
	} finally {
		await stranger.client.end();
	}
});
