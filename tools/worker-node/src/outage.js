// src/outage.js — a provider outage, seen from one worker: model calls that
// fail in a row for a reason that is the provider's, not the item's (HTTP
// 429 or 5xx, no connection, a timeout).  A 30-second outage used to fail
// most of a queue for good: each failure spends an attempt, and the
// queue's backoff (1 s, then 2 s) spends an item's three attempts within
// seconds (a review of 1.2: 418 of 500 items failed).  After `after` such
// failures in a row the worker pauses its claims, 5 s and then twice as
// long each time failures go on after a pause, up to 60 s; and while the
// outage lasts, up to `maxSeconds`, an item whose call fails this way is
// handed back without spending an attempt.  Any answer from the provider
// ends it, an error of the item's own (a 400) too.  Pure: the clock is
// passed in.

const FIRST_PAUSE_MS = 5000;
const LONGEST_PAUSE_MS = 60000;

/** Whether a call's failure says the provider, not the item, is at fault. */
export function isOutageFailure(failure) {
	if (!failure) return false;
	if (failure.status === 429 || (failure.status >= 500 && failure.status <= 599)) return true;
	return failure.code === 'network' || failure.code === 'timeout';
}

export class OutageBreaker {
	/** after: failures in a row that open it (0: never); maxSeconds: how long it spares attempts. */
	constructor({ after = 5, maxSeconds = 900 } = {}) {
		this.after = after;
		this.maxMs = maxSeconds * 1000;
		this.failures = 0;      // outage failures in a row
		this.since = 0;         // when the outage began (0: none)
		this.pausedUntil = 0;   // the end of the last pause asked for
		this.pauses = 0;        // pauses asked for in this outage
	}

	/** An answer came back (whatever it holds): the provider is up. */
	answered() {
		this.failures = 0;
		this.since = 0;
		this.pauses = 0;
	}

	/**
	 * A call failed with `failure` at `now` (ms).  Returns { pauseUntil,
	 * spare }: the time until which claims pause (0: no new pause), and
	 * whether the item is handed back without spending an attempt.
	 */
	failed(failure, now) {
		if (!isOutageFailure(failure)) {   // the provider answered (a 400, ...): up
			this.answered();
			return { pauseUntil: 0, spare: false };
		}
		this.failures++;
		if (this.after === 0 || this.failures < this.after) return { pauseUntil: 0, spare: false };
		if (this.since === 0) this.since = now;
		let pauseUntil = 0;
		if (now >= this.pausedUntil) {   // failures go on after the last pause (or the first)
			pauseUntil = now + Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** this.pauses);
			this.pauses++;
			this.pausedUntil = pauseUntil;
		}
		return { pauseUntil, spare: now - this.since < this.maxMs };
	}
}
