// src/completer.js — completions coalesced, as a database coalesces commits.
// A completion that finds one of the `calls` completion calls free goes at
// once, alone; while they are all busy, further completions wait and go
// together in the next call, up to `maxEntries` of them and `maxBytes` of
// response JSON (one larger response goes alone).  A worker with few model
// calls in flight waits for nothing; one with many pays one round trip and
// one commit per batch instead of per item.
//
// It knows nothing of SQL: `single(entry, once)` completes one entry (its
// value, or it throws; with `once` it tries once and marks an error another
// try may not meet `again`); `batch(entries)` completes several in one call
// and returns one outcome per entry, in order: { value }, { error }, or
// { again: true } for an entry to be tried again (as an error marked `again`).
//
// Every first send is one try.  An entry to be tried again (its owner holds
// the item's row: 55P03 after the 5 s lock timeout; a lost connection) goes
// to the retries, which run outside the calls, at most `calls` at once: so
// one user's held rows cost a call one lock timeout, and her retries can
// neither hold up the next batch nor take every pooled connection.  Entries
// that cannot go in a batch go alone at once, outside the calls, as every
// completion did before batches: each entry of a batch the database refused
// whole, an entry marked `alone` (a response the database cannot read: sent
// by itself, it fails alone), and every entry while batches are off.  An
// error with `disablesBatches` (no such function, no privilege) turns
// batches off for `retryBatchesMs`.

/**
 * A completer over `single` and `batch` (see above): `complete(entry)`
 * resolves with the entry's value or rejects with its error; `entry.bytes`
 * is the size that counts against `maxBytes`, `entry.alone` sends it by
 * itself.  `stats` counts the calls.
 */
export function createCompleter({ single, batch, calls = 2, maxEntries = 50, maxBytes = 8 * 1024 * 1024,
	retryBatchesMs = 10 * 60 * 1000, now = Date.now }) {
	const waiting = [];
	let running = 0;
	let batchesOffUntil = maxEntries > 1 ? 0 : Infinity;
	const retrying = [];
	let retriesRunning = 0;
	// single: entries sent alone; retried: their tries again; batched: entries sent in batches
	const stats = { single: 0, retried: 0, batches: 0, batched: 0, refused: 0 };   // refused: batches that failed whole
	const batching = () => now() >= batchesOffUntil;

	/** Settle `e` from a call of `single`. */
	async function settleFrom(e, once) {
		try {
			e.resolve(await single(e, once));
		} catch (err) {
			if (once && err?.again) retry(e);
			else e.reject(err);
		}
	}

	/** Send `e` by itself: one try, then the retries. */
	function alone(e) {
		stats.single++;
		return settleFrom(e, true);
	}

	/** Try `e` again outside the calls (with the retries of `single`), at most `calls` such at once. */
	function retry(e) {
		retrying.push(e);
		pumpRetries();
	}

	/** Start the waiting retries while fewer than `calls` run. */
	function pumpRetries() {
		while (retriesRunning < calls && retrying.length > 0) {
			retriesRunning++;
			stats.retried++;
			settleFrom(retrying.shift(), false).finally(() => {
				retriesRunning--;
				pumpRetries();
			});
		}
	}

	/** Settle each entry of a batch from its outcome (one to try again goes to the retries). */
	function settle(group, outcomes) {
		group.forEach((e, i) => {
			const o = outcomes[i];
			if (o === undefined || o.again) retry(e);
			else if ('error' in o) e.reject(o.error);
			else e.resolve(o.value);
		});
	}

	/** Send one group in one of the calls: one entry alone, several as a batch. */
	async function send(group) {
		if (group.length === 1) {
			await alone(group[0]);
			return;
		}
		let outcomes;
		try {
			outcomes = await batch(group);
		} catch (err) {
			stats.refused++;
			if (err?.disablesBatches) batchesOffUntil = now() + retryBatchesMs;
			for (const e of group) void alone(e);
			return;
		}
		stats.batches++;
		stats.batched += group.length;
		settle(group, outcomes);
	}

	/** The next group: the first waiting entry and those after it that fit. */
	function take() {
		const group = [waiting.shift()];
		let bytes = group[0].bytes;
		while (group.length < maxEntries && waiting.length > 0 && bytes + waiting[0].bytes <= maxBytes) {
			bytes += waiting[0].bytes;
			group.push(waiting.shift());
		}
		return group;
	}

	/** Start what can start: entries to send alone at once, groups while a call is free. */
	function pump() {
		for (let i = 0; i < waiting.length;) {
			if (waiting[i].alone || !batching()) void alone(waiting.splice(i, 1)[0]);
			else i++;
		}
		while (running < calls && waiting.length > 0) {
			const group = take();
			running++;
			send(group).finally(() => {
				running--;
				pump();
			});
		}
	}

	return {
		stats,
		complete(entry) {
			return new Promise((resolve, reject) => {
				waiting.push({ ...entry, resolve, reject });
				pump();
			});
		},
	};
}
