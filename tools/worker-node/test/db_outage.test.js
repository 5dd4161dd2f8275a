// test/db_outage.test.js — the database away while responses wait to be
// stored.  Before, a completion was tried again 4 times (0.5 to 4 s apart,
// 7.5 s in all) whatever the item's lease: a worker with a 5-minute lease
// gave up on a paid response after 7.5 s of database outage, and the
// response was lost (the item handed back and its model call made again).
// Now a completion is tried again until shortly before the item's lease runs
// out (never after it: the database then refuses it and the item may be
// claimed again), or until the grace period of a stop ends.

import assert from 'node:assert/strict';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { createQueue } from '../src/db.js';
import { createCaller } from '../src/providers.js';
import { Worker } from '../src/worker.js';
import { collectingLogger, createBatch, itemsOf, setupDatabase, workerConfig } from './helpers.js';

let env;
before(async () => {
	env = await setupDatabase('dboutage');
});
after(async () => {
	await env?.drop();
});

/**
 * A TCP proxy to the test cluster (PGHOST, PGPORT) that can be cut: `cut()`
 * closes its port (new connections refused) and drops every connection;
 * `restore()` listens on the same port again.
 */
async function startProxy() {
	const host = process.env.PGHOST ?? 'localhost';
	const port = Number(process.env.PGPORT ?? 5432);
	const target = host.startsWith('/') ? { path: `${host}/.s.PGSQL.${port}` } : { host, port };
	const sockets = new Set();
	const track = (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); };
	const server = net.createServer((client) => {
		const upstream = net.connect(target);
		track(client);
		track(upstream);
		client.pipe(upstream);
		upstream.pipe(client);
		client.on('close', () => upstream.destroy());
		upstream.on('close', () => client.destroy());
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const listenPort = server.address().port;
	return {
		port: listenPort,
		async cut() {
			await new Promise((resolve) => { server.close(() => resolve()); for (const s of sockets) s.destroy(); });
		},
		async restore() {
			await new Promise((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
		},
		async close() {
			for (const s of sockets) s.destroy();
			if (server.listening) await new Promise((resolve) => server.close(() => resolve()));
		},
	};
}

test('the database away 11 s (more than the 7.5 s of tries of a report) under a 30 s lease: every response stored, nothing claimed again', async () => {
	const job = await createBatch(env, 'outage', ['D1', 'D2', 'D3']);
	const config = workerConfig(env, { TD_OFFLINE: '1', TD_OFFLINE_TRUNCATE: '0', TD_OFFLINE_DELAY: '1500',
		TD_CONCURRENCY: '3', TD_IDLE_EXIT: '2', TD_LEASE: '30' });
	const proxy = await startProxy();
	const pool = new pg.Pool({ host: '127.0.0.1', port: proxy.port, database: env.db, user: env.worker, max: 5,
		connectionTimeoutMillis: 10000 });
	pool.on('error', () => {});
	const log = collectingLogger();
	try {
		const w = new Worker({ config, queue: createQueue(pool, { completeBatch: config.completeBatch }),
			caller: createCaller(config), log });
		const run = w.run();
		// once the three are claimed (their calls take 1.5 s), the database goes away for 11 s
		for (let i = 0; i < 250 && log.lines.filter((l) => l.event === 'claimed').length < 3; i++) await delay(20);
		assert.equal(log.lines.filter((l) => l.event === 'claimed').length, 3);
		await proxy.cut();
		await delay(11000);
		await proxy.restore();
		assert.equal(await run, 0);
		assert.deepEqual([w.counts.claimed, w.counts.completed, w.counts.released, w.counts.abandoned, w.counts.discarded],
			[3, 3, 0, 0, 0]);
	} finally {
		await pool.end();
		await proxy.close();
	}
	const items = await itemsOf(env, job);
	assert.deepEqual(items.map((i) => [i.status, i.attempts, i.logs]), Array(3).fill(['completed', 1, ['success']]));
	assert.deepEqual(log.lines.filter((l) => ['report_error', 'released', 'left_to_lease'].includes(l.event)), []);
});

/** A pool whose every connection is refused; `connects` counts the tries. */
function refusingPool() {
	const pool = {
		connects: 0,
		async connect() {
			pool.connects++;
			throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
		},
	};
	return pool;
}

const ITEM = { itemId: '00000000-0000-0000-0000-000000000001', attempt: 1 };

test('a completion is tried again until 2 s before its lease runs out, never after it', async () => {
	const pool = refusingPool();
	const queue = createQueue(pool, { retryDelayMs: 100 });
	const started = Date.now();
	const item = { ...ITEM, leaseUntil: started + 4000 };
	await assert.rejects(queue.complete(item, { ok: true }, 10), (err) => err.code === 'ECONNREFUSED' && err.again === true);
	const took = Date.now() - started;
	// tries 100, 200, 400, 800 ms apart (and the first, alone): the last starts before 2 s, none after
	assert.ok(took >= 1400 && took < 2000, `gave up after ${took} ms`);
	assert.equal(pool.connects, 1 + 1 + 4);   // the first try, the retry's first try, and 4 tries again
});

test('a row its owner holds (55P03) keeps a completion\'s 4 tries again, however long its lease', async () => {
	let queries = 0;
	const client = { on() {}, removeListener() {}, release() {},
		async query() { queries++; throw Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }); } };
	const queue = createQueue({ async connect() { return client; } }, { retryDelayMs: 10 });
	await assert.rejects(queue.complete({ ...ITEM, leaseUntil: Date.now() + 60000 }, { ok: true }, 10), (err) => err.code === '55P03');
	assert.equal(queries, 1 + 1 + 4);   // the first try, the retry's first try, and 4 tries again
});

test('a completion whose lease is past is tried once more and given up; a failure report keeps its 4 tries again', async () => {
	const pool = refusingPool();
	const queue = createQueue(pool, { retryDelayMs: 10 });
	await assert.rejects(queue.complete({ ...ITEM, leaseUntil: Date.now() - 1 }, { ok: true }, 10), /ECONNREFUSED/);
	assert.equal(pool.connects, 2);
	pool.connects = 0;
	await assert.rejects(queue.fail({ ...ITEM, leaseUntil: Date.now() + 60000 }, 'x', 'network', true), /ECONNREFUSED/);
	assert.equal(pool.connects, 5);
});

test('the signal of a stop ends the tries again of a completion', async () => {
	const pool = refusingPool();
	const queue = createQueue(pool, { retryDelayMs: 100 });
	const stop = new AbortController();
	const started = Date.now();
	setTimeout(() => stop.abort(), 700);
	await assert.rejects(queue.complete({ ...ITEM, leaseUntil: started + 60000 }, { ok: true }, 10, stop.signal), /ECONNREFUSED/);
	const took = Date.now() - started;
	assert.ok(took >= 600 && took < 1500, `gave up after ${took} ms`);
});
