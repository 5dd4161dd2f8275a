// src/worker.js — the worker loop: claims up to its free capacity, runs up to
// `concurrency` model calls at once, heartbeats each long call every lease/3,
// and completes, fails, discards or releases each item.
//
// Rate limits (HTTP 429): with a retry-after of at most TD_RETRY_AFTER_MAX
// seconds the worker waits that long itself, keeping the lease, claims
// nothing new meanwhile, and calls again (at most TD_RATE_LIMIT_WAITS times
// per item) — no attempt is spent on a limit that says when it ends.
// Without retry-after, or a longer one, the item fails retryable (code 429)
// and the queue's backoff takes over.
//
// Outages (outage.js): after TD_OUTAGE_AFTER calls in a row fail with 429,
// 5xx, no connection or a timeout, claims pause (5 s, doubling to 60 s
// while failures go on), and for up to TD_OUTAGE_MAX an item whose call
// fails so is released (no attempt spent) instead of failed.
//
// Stopping (stop(), SIGTERM/SIGINT in bin/worker.js): no new claims; calls in
// flight get `graceSeconds` to finish and be completed; then the rest are
// aborted and released (release_batch_item: back to the queue, no attempt
// counted) — or, on a database without that function, left to their lease.

import { StaleLease, isFatal, isUnstorable } from './db.js';
import { NameInUse } from './namelock.js';
import { OutageBreaker } from './outage.js';
import { classifyError, redact, sleep } from './providers.js';

export class Worker {
	/**
	 * config: see config.js; queue: db.js createQueue; caller: providers.js
	 * createCaller; log: log.js; nameLock: namelock.js createNameLock (none:
	 * the name is not checked).
	 */
	constructor({ config, queue, caller, log, nameLock = null }) {
		this.config = config;
		this.nameLock = nameLock;
		this.queue = queue;
		this.caller = caller;
		this.log = log;
		this.inflight = new Map();      // item id -> { item, controller, promise, done, beating }
		this.stopping = false;
		this.claimsPausedUntil = 0;
		this.unknownClaim = false;     // a claim's connection broke: it may have committed
		this.outage = new OutageBreaker({ after: config.outageAfter ?? 5, maxSeconds: config.outageMaxSeconds ?? 900 });
		this.wakeUp = null;
		this.stopController = new AbortController();
		this.counts = { claimed: 0, completed: 0, unusable: 0, failed: 0, retried: 0, discarded: 0, released: 0, abandoned: 0 };
		this.fatal = null;
	}

	/** Begin stopping (idempotent); a second call skips the rest of the grace period. */
	stop(reason = 'stop') {
		if (this.stopping) {
			this.log.warn('stop_now', { reason, inflight: this.inflight.size });
			this.stopController.abort();
			return;
		}
		this.stopping = true;
		this.log.info('stopping', { reason, inflight: this.inflight.size, grace_s: this.config.graceSeconds });
		this.wake();
	}

	/** Wake the main loop (a call finished, a stop was asked). */
	wake() {
		const w = this.wakeUp;
		this.wakeUp = null;
		w?.();
	}

	/** Wait until woken or `ms` pass. */
	nap(ms) {
		return new Promise((resolve) => {
			const t = setTimeout(() => { this.wakeUp = null; resolve(); }, ms);
			this.wakeUp = () => { clearTimeout(t); resolve(); };
		});
	}

	/** Run until stopped, idle for idleExitSeconds, or (once) the first claim is done; returns the exit status. */
	async run() {
		const c = this.config;
		this.log.info('started', { concurrency: c.concurrency, lease_s: c.leaseSeconds, offline: c.offline,
			once: c.once, idle_exit_s: c.idleExitSeconds });
		if (c.offline) this.log.info('offline', { note: 'offline generator: sample conversations, not model output' });
		let idleSince = Date.now();
		let claimed = false;
		let dbErrors = 0;
		while (!this.stopping) {
			const free = c.concurrency - this.inflight.size;
			let got = 0;
			if (free > 0 && Date.now() >= this.claimsPausedUntil && !(c.once && claimed)) {
				try {
					// (the name's lock first: a namesake's items must not be claimed or handed back as ours)
					await this.nameLock?.ensure();
					if (this.unknownClaim) await this.releaseUnknown();
					const items = await this.queue.claim(c.name, free, c.leaseSeconds);
					claimed = true;
					dbErrors = 0;
					got = items.length;
					for (const item of items) this.start(item);
				} catch (err) {
					if (err instanceof NameInUse) { this.fatal = err; this.log.error('name_in_use', { message: err.message }); break; }
					if (isFatal(err)) { this.fatal = err; this.log.error('fatal', dbError(err)); break; }
					dbErrors++;
					if (err.unknownOutcome) this.unknownClaim = true;
					this.log.error('claim_error', { ...dbError(err), unknown_outcome: Boolean(err.unknownOutcome) });
					await this.nap(Math.min(30000, 1000 * 2 ** Math.min(dbErrors, 5)));
					continue;
				}
			}
			if (c.once && claimed && this.inflight.size === 0) break;
			// (claims paused for a rate limit or an outage: not idle, work is waiting)
			if (got > 0 || this.inflight.size > 0 || Date.now() < this.claimsPausedUntil) {
				idleSince = Date.now();
			} else if (c.idleExitSeconds > 0 &&
				Date.now() - Math.max(idleSince, this.lastCallEnded ?? 0) >= c.idleExitSeconds * 1000) {
				this.log.info('idle_exit', { idle_s: c.idleExitSeconds });
				break;
			}
			const pause = this.claimsPausedUntil - Date.now();
			await this.nap(pause > 0 ? Math.min(pause, c.pollSeconds * 1000) : c.pollSeconds * 1000);
		}
		await this.drain();
		this.log.info('stopped', { ...this.counts, completion_calls: this.queue.completionStats?.() });
		return this.fatal ? (this.fatal.exitStatus ?? 1) : 0;
	}

	/** Let calls in flight finish for the grace period, then abort and release the rest. */
	async drain() {
		if (this.inflight.size === 0) return;
		const all = () => Promise.allSettled([...this.inflight.values()].map((e) => e.promise));
		if (this.stopping) {
			this.log.info('draining', { inflight: this.inflight.size, grace_s: this.config.graceSeconds });
			await Promise.race([all(),
				sleep(this.config.graceSeconds * 1000, this.stopController.signal).catch(() => {})]);
			this.stopController.abort();   // (completions tried again give up too: their items are handed back)
		} else {
			await all();   // idle exit or --once: nothing is cut short
		}
		for (const e of this.inflight.values()) {
			if (!e.done) e.controller.abort('shutdown');
		}
		await all();
	}

	/** Start one claimed item. */
	start(item) {
		this.counts.claimed++;
		this.log.info('claimed', itemFields(item));
		const entry = { item, controller: new AbortController(), done: false };
		entry.promise = this.process(entry).finally(() => {
			// (only this entry: the worker may have claimed the item again after its lease ran out)
			if (this.inflight.get(item.itemId) === entry) this.inflight.delete(item.itemId);
			this.lastCallEnded = Date.now();   // (idle time counts from here, not from the last poll)
			this.wake();
		});
		this.inflight.set(item.itemId, entry);
	}

	/**
	 * Keep the lease of `entry` every lease/3 until it is done; a lost lease aborts the call.
	 * One heartbeat of an item at a time: a tick while the last one still waits (a row its
	 * owner holds makes it wait out the 5 s lock timeout) is skipped, so a short lease cannot
	 * pile up waiting heartbeats on the pool's connections.
	 */
	startHeartbeat(entry) {
		const every = Math.max(1000, (this.config.leaseSeconds * 1000) / 3);
		return setInterval(async () => {
			if (entry.done || entry.beating) return;
			entry.beating = true;
			try {
				const until = await this.queue.heartbeat(entry.item, this.config.leaseSeconds);
				if (!entry.done) this.log.info('heartbeat', { item: entry.item.itemId, attempt: entry.item.attempt, until });
			} catch (err) {
				if (entry.done) return;
				if (err instanceof StaleLease) {
					this.log.warn('lease_lost', { ...itemFields(entry.item), code: err.code, message: err.message });
					entry.controller.abort('lease_lost');
				} else {
					this.log.error('heartbeat_error', { item: entry.item.itemId, ...dbError(err) });
				}
			} finally {
				entry.beating = false;
			}
		}, every);
	}

	/** Call the model for one item (waiting out short rate limits), then report the result. */
	async process(entry) {
		const { item, controller } = entry;
		const started = Date.now();
		const hb = this.startHeartbeat(entry);
		let response;
		let failure = null;
		try {
			for (let waits = 0; ; waits++) {
				try {
					response = await this.caller.call(item, controller.signal);
					break;
				} catch (err) {
					failure = controller.signal.aborted ? null : classifyError(err);
					if (failure === null) break;
					// a server may echo the key it was sent: never stored on the item or logged
					failure.message = redact(failure.message, [this.config.anthropic?.apiKey, this.config.openai?.apiKey]);
					if (failure.status === 429 && failure.retryAfterMs !== undefined && waits < this.config.rateLimitWaits
						&& failure.retryAfterMs <= this.config.retryAfterMaxSeconds * 1000 && !this.stopping) {
						this.claimsPausedUntil = Math.max(this.claimsPausedUntil, Date.now() + failure.retryAfterMs);
						this.log.warn('rate_limited', { ...itemFields(item), wait_ms: failure.retryAfterMs });
						try { await sleep(failure.retryAfterMs, controller.signal); } catch { break; }
						failure = null;
						continue;
					}
					break;
				}
			}
		} finally {
			entry.done = true;
			clearInterval(hb);
		}
		const ms = Date.now() - started;
		try {
			if (controller.signal.aborted) {
				await this.handBack(item, controller.signal.reason);
			} else if (failure && await this.spareInOutage(item, failure)) {
				// released: no attempt spent on the provider's outage
			} else if (failure) {
				const status = await this.queue.fail(item, failure.message, failure.code, failure.retryable);
				this.counts[status === 'queued' ? 'retried' : 'failed']++;
				this.log.warn('failed', { ...itemFields(item), ms, code: failure.code, retryable: failure.retryable,
					status, message: failure.message });
			} else {
				this.outage.answered();
				// (tried again while the database is away, until shortly before the lease
				// runs out, or the grace period of a stop ends)
				const { conversationId, warning } = await this.queue.complete(item, response, ms, this.stopController.signal);
				if (conversationId) {
					this.counts.completed++;
					this.log.info('completed', { ...itemFields(item), ms, conversation: conversationId });
				} else {
					this.counts.unusable++;
					this.log.warn('unusable', { ...itemFields(item), ms, reason: warning });
				}
			}
		} catch (err) {
			if (err instanceof StaleLease) {
				this.counts.discarded++;
				this.log.warn('discarded', { ...itemFields(item), code: err.code, message: err.message });
				if (response !== undefined && !failure) await this.recordDiscarded(item, response, ms);
			} else if (isUnstorable(err) && !failure && !controller.signal.aborted) {
				// the database refused the response itself (a NUL in its text): failed
				// as unusable, retried per policy, not left to sit out its lease
				await this.failUnstorable(item, err);
			} else {
				await this.reportFailed(item, err);
			}
		}
	}

	/**
	 * A paid answer the queue refused (its item claimed again or cancelled
	 * while the model answered): recorded in generation_logs as discarded,
	 * with its tokens and cost, so that the spend records match the
	 * provider's bill (a review of 1.2: nothing recorded such calls).  A
	 * failure to record it is logged, not thrown: the item is not this
	 * worker's any more.
	 */
	async recordDiscarded(item, response, ms) {
		try {
			const id = await this.queue.logDiscarded(item, response, ms);
			if (id) this.log.info('discarded_logged', { ...itemFields(item), log: id });
		} catch (err) {
			this.log.error('discarded_log_error', { ...itemFields(item), ...dbError(err) });
		}
	}

	/**
	 * The database refused a report (completion, failure, release) for a
	 * reason that is not the lease: the item is handed back so that it is
	 * tried again, not left to sit out its lease (release_batch_item; left
	 * to the lease only when that fails too).  A fatal error (a missing
	 * grant, 42501) also stops the worker, which exits 1: before, it went on
	 * claiming and paying for model calls whose results it could not store.
	 */
	async reportFailed(item, err) {
		this.log.error('report_error', { ...itemFields(item), ...dbError(err) });
		if (isFatal(err)) this.stopOnFatal(err);
		try {
			if (await this.queue.release(item)) {
				this.counts.released++;
				this.log.warn('released', { ...itemFields(item), reason: 'report_error', sqlstate: err?.code });
				return;
			}
		} catch (err2) {
			if (err2 instanceof StaleLease) {
				this.counts.discarded++;
				this.log.warn('discarded', { ...itemFields(item), code: err2.code, message: err2.message });
				return;
			}
			this.log.error('release_error', { ...itemFields(item), ...dbError(err2) });
		}
		this.counts.abandoned++;
		this.log.warn('left_to_lease', { ...itemFields(item), note: 'not handed back: the item is claimed again when its lease ends',
			lease_expires_at: item.leaseExpiresAt });
	}

	/**
	 * A database error no retry can fix, met while reporting: log it (once),
	 * stop claiming, and abort the calls in flight (their items are handed
	 * back); run() then returns 1.
	 */
	stopOnFatal(err) {
		if (this.fatal) return;
		this.fatal = err;
		this.log.error('fatal', dbError(err));
		if (!this.stopping) this.stop('fatal');
		for (const e of this.inflight.values()) {
			if (!e.done) e.controller.abort('fatal');
		}
	}

	/**
	 * A failed call during a provider outage (outage.js): claims pause, and
	 * the item is released without spending an attempt.  False when it is
	 * to be failed as usual (no outage, or one past TD_OUTAGE_MAX, or a
	 * database without release_batch_item).
	 */
	async spareInOutage(item, failure) {
		const { pauseUntil, spare } = this.outage.failed(failure, Date.now());
		if (pauseUntil > 0) {
			this.claimsPausedUntil = Math.max(this.claimsPausedUntil, pauseUntil);
			this.log.warn('provider_outage', { provider: item.provider, failures: this.outage.failures,
				claims_paused_ms: pauseUntil - Date.now(), code: failure.code });
		}
		if (!spare || this.stopping || !(await this.queue.release(item))) return false;
		this.counts.released++;
		this.log.warn('released', { ...itemFields(item), reason: 'provider_outage', code: failure.code, message: failure.message });
		return true;
	}

	/**
	 * After a claim whose outcome is unknown (its connection broke: it may
	 * have committed): hand back what is in flight under this worker's name
	 * but the items it knows, before claiming again.  Before, such items
	 * stayed in flight until their leases ran out, each costing an attempt
	 * (a review of 1.2: a job stood still for a whole lease).  Throws while
	 * the database cannot be reached (the claim loop naps and comes back).
	 */
	async releaseUnknown() {
		const n = await this.queue.releaseOthers(this.config.name, [...this.inflight.keys()]);
		this.unknownClaim = false;
		if (n === null) {
			this.log.warn('unknown_claim', { note: 'no release_worker_items: items of a claim whose answer was lost wait out their lease' });
		} else if (n > 0) {
			this.counts.released += n;
			this.log.warn('released', { items: n, reason: 'claim_outcome_unknown' });
		}
	}

	/** A response the database cannot store: failed retryable (another answer may be storable). */
	async failUnstorable(item, err) {
		try {
			const status = await this.queue.fail(item, `unusable response: ${dbError(err).message}`, 'invalid_response', true);
			this.counts[status === 'queued' ? 'retried' : 'failed']++;
			this.log.warn('failed', { ...itemFields(item), code: 'invalid_response', retryable: true, status,
				message: dbError(err).message });
		} catch (err2) {
			if (err2 instanceof StaleLease) {
				this.counts.discarded++;
				this.log.warn('discarded', { ...itemFields(item), code: err2.code, message: err2.message });
			} else {
				await this.reportFailed(item, err2);
			}
		}
	}

	/** An aborted call: a lost lease is discarded; a shutdown releases the item (or leaves it to its lease). */
	async handBack(item, reason) {
		if (reason === 'lease_lost') {
			this.counts.discarded++;
			this.log.warn('discarded', { ...itemFields(item), reason });
			return;
		}
		if (await this.queue.release(item)) {
			this.counts.released++;
			this.log.info('released', itemFields(item));
		} else {
			this.counts.abandoned++;
			this.log.warn('left_to_lease', { ...itemFields(item), note: 'no release_batch_item: the item is claimed again when its lease ends',
				lease_expires_at: item.leaseExpiresAt });
		}
	}
}

/** The fields naming an item in a log line. */
function itemFields(item) {
	return { item: item.itemId, job: item.jobId, attempt: item.attempt, provider: item.provider };
}

/** The fields of a database error in a log line. */
function dbError(err) {
	return { sqlstate: err?.code, message: String(err?.message ?? err).slice(0, 500) };
}
