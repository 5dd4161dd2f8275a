// src/namelock.js — a worker's name is its process's own.  The database
// knows a worker only by the name on the items it claimed, and one worker
// function acts on that name: after a claim whose answer it lost, the
// worker hands back everything in flight under its name but the items it
// knows (release_worker_items).  A second process of the same name loses
// its items in flight that way: handed back, their completions refused
// (55000), their model calls made again.  (Heartbeats, completions,
// failures and releases name the item and its lease token, not the worker:
// those cannot touch a namesake's items.)
//
// So the worker holds a session advisory lock keyed on its name in a
// connection of its own, for its whole life: taken before its first claim
// (bin/worker.js refuses to start, exit 2, when another live session holds
// it), and taken again before the next claim when that connection is lost.
// Behind a pooler in transaction mode the lock would stay on a shared
// server connection: TD_NAME_LOCK=0 turns it off there.

import { createHash } from 'node:crypto';
import pg from 'pg';

/** Another live session holds the lock of this worker's name (exit 2). */
export class NameInUse extends Error {
	constructor(name, pid) {
		super(`worker name ${JSON.stringify(name)} is in use: another live session holds its lock`
			+ `${pid ? ` (PostgreSQL backend pid ${pid})` : ''}; give each process its own TD_WORKER_NAME or --name`
			+ ' (TD_NAME_LOCK=0 turns this check off behind a transaction-mode pooler)');
		this.name = 'NameInUse';
		this.exitStatus = 2;
	}
}

/** The advisory lock key of worker name `name`: 63 bits of its SHA-256, as a bigint string. */
export function nameLockKey(name) {
	const h = createHash('sha256').update(`train_data worker name\0${name}`).digest();
	return (h.readBigInt64BE(0) & 0x7fffffffffffffffn).toString();
}

/**
 * The lock of `config.name` over a connection of its own (DATABASE_URL, else
 * the libpq variables): `ensure()` takes it unless held (throws NameInUse,
 * or the connection's error), `release()` ends the connection.
 */
export function createNameLock(config, log = null) {
	const key = nameLockKey(config.name);
	let client = null;
	return {
		async ensure() {
			if (client) return;
			const c = new pg.Client({ connectionString: config.databaseUrl, application_name: config.name.slice(0, 63),
				connectionTimeoutMillis: 10000, query_timeout: 60000, keepAlive: true });
			c.on('error', () => {});   // a lost connection: 'end' below
			try {
				await c.connect();
				const r = await c.query('SELECT pg_catalog.pg_try_advisory_lock($1::bigint) AS locked', [key]);
				if (!r.rows[0].locked) {
					const holder = await c.query(`SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted
						AND objsubid = 1 AND (classid::bigint << 32 | objid::bigint) = $1::bigint LIMIT 1`, [key]);
					throw new NameInUse(config.name, holder.rows[0]?.pid);
				}
			} catch (err) {
				c.end().catch(() => {});
				throw err;
			}
			c.on('end', () => {
				if (client !== c) return;
				client = null;
				log?.warn('name_lock_lost', { note: 'the connection holding the worker name\'s lock was lost: taken again before the next claim' });
			});
			client = c;
		},
		async release() {
			const c = client;
			client = null;
			await c?.end().catch(() => {});
		},
	};
}
