// src/db.js — the queue as a worker sees it: the worker functions of
// train_data and nothing else (no table is read or written).  Every call is
// one statement in its own transaction, so the worker runs unchanged behind a
// pooler in transaction mode (PgBouncer, Supabase's pooler).
//
// Every call after the claim passes the item's attempt (the lease token).
// 55000 (the item was cancelled, claimed again or its lease ran out) becomes a
// StaleLease: the caller discards its result.  55P03 (lock_timeout: a user
// held the item's row; 57014, the same wait cut short by a statement_timeout)
// and lost connections are tried again a few times; a completion, a paid
// response, until shortly before the item's lease runs out.

import pg from 'pg';
import { createCompleter } from './completer.js';
import { sleep } from './providers.js';

/** The item is no longer this worker's (55000): discard the result. */
export class StaleLease extends Error {
	constructor(cause) {
		super(cause.message);
		this.code = cause.code;
	}
}

// SQLSTATEs (and client error codes) worth another try of the same call.
// 57014: a statement_timeout of the role below the functions' 5 s lock
// timeout ends the wait for a row its owner holds before 55P03 would.
const TRANSIENT = new Set(['55P03', '57014', '40001', '40P01', '57P01', '57P02', '57P03', '53300',
	'08000', '08003', '08006', '08001', '08004', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOENT']);

/** SQLSTATEs of a response the database cannot store (a NUL or a lone surrogate in its text): no retry of the call helps. */
const UNSTORABLE = new Set(['22P05', '22P02', '22021', '54000']);

/** True for an error of storing a response that will fail the same way every time. */
export function isUnstorable(err) {
	return UNSTORABLE.has(err?.code);
}

/** True for an error that another try of the same call may not meet. */
export function isTransient(err) {
	return TRANSIENT.has(err?.code)
		|| /Connection terminated|connection timeout|Query read timeout|timeout exceeded when trying to connect/i.test(err?.message ?? '');
}

/** True for errors no retry can fix: bad credentials, missing grants, no extension. */
export function isFatal(err) {
	// (0A000: the worker functions refuse a REPEATABLE READ or SERIALIZABLE
	// transaction, the role's or database's default_transaction_isolation)
	return ['28000', '28P01', '3D000', '42501', '42883', '3F000', '0A000', 'ERR_INVALID_URL'].includes(err?.code);
}

// A completion's tries again end this long before the item's lease runs out
// (as the worker reckons it: from when its claim or last heartbeat was sent,
// so never later than the database's end): after it the database refuses
// the completion (55000) and the item may be claimed again.  Between them,
// backoff doubling from retryDelayMs up to this.
const LEASE_MARGIN_MS = 2000;
const MAX_RETRY_DELAY_MS = 5000;

// Errors of a row another transaction holds (a user's), not of the database
// being away: a completion meets them `retries` times at most, as before, so
// that one user's held rows keep the retries' calls no longer than they did.
const CONTENTION = new Set(['55P03', '57014', '40001', '40P01']);

/** The listener of a checked-out client's 'error' event (the failed query reports it). */
function ignoreClientError() {}

/** A pg.Pool for the worker: DATABASE_URL, else the libpq variables (PGHOST, ...). */
export function createPool(config) {
	const pool = new pg.Pool({
		connectionString: config.databaseUrl,
		max: config.dbPoolSize ?? Math.min(config.concurrency, 4) + 1,
		application_name: config.name.slice(0, 63),
		idleTimeoutMillis: 30000,
		// a connection that hangs (a frozen network path, a stuck pooler) must
		// not hold the worker forever: connecting gives up after 10 s, a call
		// after 60 s (the worker functions wait 5 s at most for a lock), and
		// TCP keepalives find a dead peer
		connectionTimeoutMillis: 10000,
		query_timeout: 60000,
		keepAlive: true,
	});
	// an idle connection that breaks (server restart, pooler) must not end the process
	pool.on('error', () => {});
	return pool;
}

/**
 * The row of a claim as the worker uses it (provider anthropic when the claim
 * has no provider column); `leaseUntil`: the lease's end by this process's
 * clock, from when the claim was sent (`sentAt`, ms), kept by heartbeats.
 */
function claimedItem(r, sentAt, leaseSeconds) {
	return {
		itemId: r.item_id, jobId: r.batch_job_id, position: r.position, tier: r.tier,
		parameters: r.parameters, prompt: r.prompt, request: r.request, attempt: r.attempt,
		leaseExpiresAt: r.lease_expires_at, leaseUntil: sentAt + leaseSeconds * 1000,
		provider: r.provider ?? 'anthropic', baseUrl: r.base_url ?? null,
		hasProviderColumn: Object.hasOwn(r, 'provider'),
	};
}

/** The warnings of a call about `itemId` (each once: a batch may give one twice). */
function warningsOf(warnings, itemId) {
	const mine = [...new Set(warnings.filter((w) => w.startsWith(`batch item ${itemId} `)))];
	return mine.join('; ') || undefined;
}

// A response the database cannot read as jsonb (a NUL, 22P05; a lone
// surrogate, 22P02): JSON.stringify writes these, and only these, as
// \u0000 and \udXXX escapes (an escaped backslash before such text only
// sends a readable response alone).
const UNREADABLE_JSON = /\\u0000|\\ud[89a-f][0-9a-f]{2}/i;

/**
 * What one row of complete_batch_items means for its entry (completer.js):
 * the conversation, or NULL with the item's warning (unusable response,
 * failed by the server); a refused entry's error (55000 a StaleLease), or,
 * for an error another try may not meet (55P03), another try (`again`).
 */
function batchOutcome(e, row, warnings) {
	if (row?.item_id !== e.item.itemId) return { again: true };
	if (row.outcome === 'completed') return { value: { conversationId: row.conversation_id } };
	if (row.outcome === 'failed') return { value: { conversationId: null, warning: warningsOf(warnings, e.item.itemId) } };
	const err = Object.assign(new Error(row.error_message), { code: row.error_code });
	if (err.code === '55000') return { error: new StaleLease(err) };
	return isTransient(err) ? { again: true } : { error: err };
}

/** The JSON array complete_batch_items takes, with each response's JSON as the worker made it. */
function batchEntries(group) {
	return `[${group.map((e) => `{"item_id":${JSON.stringify(e.item.itemId)},"attempt":${JSON.stringify(e.item.attempt ?? null)},`
		+ `"duration_ms":${e.durationMs},"response":${e.json}}`).join(',')}]`;
}

/**
 * The queue over `pool`.  `retries` bounds the tries of a transient failure
 * (`retryDelayMs` doubling between them); a completion's tries again go on
 * until LEASE_MARGIN_MS before its item's lease ends.  Completions coalesce
 * (completer.js): at most `completeCalls` completion calls at once, and the
 * completions that wait for one go together, up to `completeBatch` of them
 * (1: each alone), through complete_batch_items.
 */
export function createQueue(pool, { retries = 4, retryDelayMs = 500, completeBatch = 50, completeCalls = 2 } = {}) {
	let releaseSupported = true;
	let logDiscardedSupported = true;
	let releaseOthersSupported = true;

	// One statement, tried again on transient errors (`tries` more times;
	// with `until`, a time in ms, as long as the next try starts before it
	// and contention came `tries` times at most, the delay at most
	// MAX_RETRY_DELAY_MS, until `signal` aborts the waits); 55000 -> StaleLease.
	const run = async (text, values, onNotice, tries = retries, until = null, signal = undefined) => {
		let contention = 0;
		for (let attempt = 0; ; attempt++) {
			let client;
			try {
				client = await pool.connect();
				// a connection that breaks during the call emits 'error' on its
				// client besides failing the query: without a listener the
				// process would end (the query's error is handled below)
				client.on('error', ignoreClientError);
				if (onNotice) client.on('notice', onNotice);
				try {
					return await client.query(text, values);
				} finally {
					client.removeListener('error', ignoreClientError);
					if (onNotice) client.removeListener('notice', onNotice);
				}
			} catch (err) {
				if (err.code === '55000') throw new StaleLease(err);
				if (!isTransient(err)) throw err;
				// a broken connection is not given back to the pool
				client?.release(err);
				client = undefined;
				if (CONTENTION.has(err.code)) contention++;
				const delay = until === null ? retryDelayMs * 2 ** attempt
					: Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2 ** Math.min(attempt, 20));
				if (until === null ? attempt >= tries : Date.now() + delay >= until || contention > tries) {
					throw Object.assign(err, { again: true });   // another try may not meet it
				}
				try {
					await sleep(delay, signal);
				} catch {
					throw Object.assign(err, { again: true });   // (stopping)
				}
			} finally {
				client?.release();
			}
		}
	};
	const lease = (seconds) => `${seconds} seconds`;

	// One completion by itself: complete_batch_item.  With `once`, one try:
	// an error another try may not meet (a lock wait that ran out: a row its
	// owner holds) comes back marked `again`, to be tried outside the
	// completion calls.  Without, while the database is away, tried again
	// until shortly before the item's lease runs out (a paid response:
	// before, 4 tries again, 7.5 s, lost it to a longer database outage
	// under a 5-minute lease), or until `signal` aborts (the worker's grace
	// period ended); a row its owner holds, `retries` times, as before.
	const completeOne = async ({ item, json, durationMs, signal }, once = false) => {
		const warnings = [];
		const until = once || !(item.leaseUntil > 0) ? null : item.leaseUntil - LEASE_MARGIN_MS;
		const r = await run('SELECT train_data.complete_batch_item($1, $2::jsonb, $3, $4) AS conversation_id',
			[item.itemId, json, durationMs, item.attempt],
			(n) => { if (n.severity === 'WARNING') warnings.push(n.message); }, once ? 0 : retries, until, signal);
		return { conversationId: r.rows[0].conversation_id, warning: warnings.join('; ') || undefined };
	};
	// Several in one call: complete_batch_items, one row per entry in their order.
	// No such function (1.1) or no EXECUTE on it: single calls from then on.
	const completeMany = async (group) => {
		const warnings = [];
		try {
			const r = await run('SELECT * FROM train_data.complete_batch_items($1::jsonb)', [batchEntries(group)],
				(n) => { if (n.severity === 'WARNING') warnings.push(n.message); });
			return group.map((e, i) => batchOutcome(e, r.rows[i], warnings));
		} catch (err) {
			if (err.code === '42883' || err.code === '42501') err.disablesBatches = true;
			throw err;
		}
	};
	const completer = createCompleter({ single: completeOne, batch: completeMany, calls: completeCalls,
		maxEntries: completeBatch });

	return {
		/**
		 * Claim up to `max` items for `lease` seconds.  One try: a claim whose
		 * connection broke may have committed, its items unknown to us; the
		 * error comes back marked `unknownOutcome` (see releaseOthers).
		 */
		async claim(worker, max, leaseSeconds) {
			try {
				const sentAt = Date.now();
				const r = await run('SELECT * FROM train_data.claim_batch_items($1, $2, $3::interval)',
					[worker, max, lease(leaseSeconds)], undefined, 0);
				return r.rows.map((row) => claimedItem(row, sentAt, leaseSeconds));
			} catch (err) {
				if (isTransient(err)) err.unknownOutcome = true;
				throw err;
			}
		},
		/**
		 * Hand back the items in flight under `worker` but `keep` (ids): after a
		 * claim of unknown outcome.  Returns how many, or null on a database
		 * without release_worker_items (or without EXECUTE on it).
		 */
		async releaseOthers(worker, keep) {
			if (!releaseOthersSupported) return null;
			try {
				const r = await run('SELECT train_data.release_worker_items($1, $2::uuid[]) AS n', [worker, keep]);
				return r.rows[0].n;
			} catch (err) {
				if (err.code !== '42883' && err.code !== '42501') throw err;
				releaseOthersSupported = false;
				return null;
			}
		},
		/** Extend the lease (and `item.leaseUntil`); returns its new end. */
		async heartbeat(item, leaseSeconds, progress = null) {
			const sentAt = Date.now();
			const r = await run('SELECT train_data.heartbeat_batch_item($1, $2, $3::interval, $4) AS until',
				[item.itemId, progress, lease(leaseSeconds), item.attempt]);
			item.leaseUntil = sentAt + leaseSeconds * 1000;
			return r.rows[0].until;
		},
		/**
		 * Hand the raw response back: { conversationId, warning } (conversationId
		 * null: unusable, failed by the server); with other completions waiting,
		 * in one call with them.  Tried again, while the database cannot be
		 * reached, until shortly before the item's lease runs out or `signal`
		 * aborts.
		 */
		complete(item, response, durationMs, signal = undefined) {
			const json = JSON.stringify(response);
			return completer.complete({ item, json, bytes: Buffer.byteLength(json), alone: UNREADABLE_JSON.test(json),
				durationMs: Math.max(0, Math.round(durationMs)), signal });
		},
		/** Calls made for completions: { single, batches, batched (their entries), refused (batches failed whole) }. */
		completionStats: () => ({ ...completer.stats }),
		/** Report a failed call; returns the item's new status (queued: it will be retried). */
		async fail(item, message, code, retryable) {
			const r = await run('SELECT train_data.fail_batch_item($1, $2, $3, $4, $5)::text AS status',
				[item.itemId, message, code, retryable, item.attempt]);
			return r.rows[0].status;
		},
		/**
		 * Record a call whose answer the queue refused (StaleLease: the item
		 * claimed again or cancelled meanwhile), which the provider billed:
		 * the log row's id, or null when the database has no
		 * log_discarded_response (before 1.2) or has recorded it already.
		 */
		async logDiscarded(item, response, durationMs) {
			if (!logDiscardedSupported) return null;
			try {
				const r = await run('SELECT train_data.log_discarded_response($1, $2, $3::jsonb, $4) AS id',
					[item.itemId, item.attempt, JSON.stringify(response), Math.max(0, Math.round(durationMs))]);
				return r.rows[0].id;
			} catch (err) {
				if (err.code === '23505') return null;   // (a try before this one was recorded)
				if (err.code === '42883') {   // (before 1.2)
					logDiscardedSupported = false;
					return null;
				}
				// not granted (the README's grants before 1.2): said once, then not tried again
				if (err.code === '42501') logDiscardedSupported = false;
				throw err;
			}
		},
		/**
		 * Give a claimed item back without counting an attempt: true when done,
		 * false when the database has no release_batch_item (its lease runs out instead).
		 */
		async release(item) {
			if (!releaseSupported) return false;
			try {
				await run('SELECT train_data.release_batch_item($1, $2)', [item.itemId, item.attempt]);
				return true;
			} catch (err) {
				if (err.code !== '42883') throw err;
				releaseSupported = false;
				return false;
			}
		},
	};
}
