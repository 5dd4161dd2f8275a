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
//
// Any role that can connect can take any advisory lock, and the key is
// public; a role with no grants must block nothing.  So only a session of
// the worker's own role (the session user of the lock's connection, as
// pg_stat_activity shows every session's; SET ROLE changes neither) stops
// the worker.  Another role's session, or a holder that is no session (a
// prepared transaction), only takes the check away: the worker logs
// name_lock_taken_by_other_role with the holder's pid, which pg_locks shows
// every role anyway, and goes on without the lock.

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

// The holder of the lock in this database (pg_locks lists every database's)
// and whether it is a session of this connection's session user: the
// worker's own role first.
const HOLDER = `SELECT l.pid, a.usesysid = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = session_user) AS own_role
	FROM pg_catalog.pg_locks l LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
	WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
	  AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
	  AND (l.classid::bigint << 32 | l.objid::bigint) = $1::bigint
	ORDER BY own_role DESC NULLS LAST LIMIT 1`;

/**
 * The lock of `config.name` over a connection of its own (DATABASE_URL, else
 * the libpq variables): `ensure()` takes it unless held (throws NameInUse
 * when a session of the worker's own role holds it, or the connection's
 * error; another holder: a warning, and no lock for the rest of the
 * process), `release()` ends the connection.
 */
export function createNameLock(config, log = null) {
	const key = nameLockKey(config.name);
	let client = null;
	let unchecked = false;
	return {
		async ensure() {
			if (client || unchecked) return;
			const c = new pg.Client({ connectionString: config.databaseUrl, application_name: config.name.slice(0, 63),
				connectionTimeoutMillis: 10000, query_timeout: 60000, keepAlive: true });
			c.on('error', () => {});   // a lost connection: 'end' below
			try {
				await c.connect();
				for (let tries = 1; ; tries++) {
					const r = await c.query('SELECT pg_catalog.pg_try_advisory_lock($1::bigint) AS locked', [key]);
					if (r.rows[0].locked) break;
					const holder = (await c.query(HOLDER, [key])).rows[0];
					if (holder?.own_role) throw new NameInUse(config.name, holder.pid);
					if (!holder && tries < 2) continue;   // the holder ended in between: once more
					unchecked = true;
					log?.warn('name_lock_taken_by_other_role', { pid: holder?.pid ?? null,
						note: 'the lock of this worker\'s name is held, not by a session of its role: going on without it '
							+ '(no check that the name is this process\'s own)' });
					c.end().catch(() => {});
					return;
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
