// src/completer.js — completions coalesced, as a database coalesces commits.
// A completion that finds one of the `calls` completion calls free goes at
// once, alone; while they are all busy, further completions wait and go
// together in the next call, up to `maxEntries` of them and `maxBytes` of
// response JSON (one larger response goes alone).  A worker with few model
// calls in flight waits for nothing; one with many pays one round trip and
// one commit per batch instead of per item.
//
// It knows nothing of SQL: `single(entry, once)` completes one entry (its
// value, or it throws; with `once` it tries once without waiting for a lock
// and marks an error another try may not meet `again`); `batch(entries)`
// completes several in one call and returns one outcome per entry, in
// order: { value }, { error }, or { alone: true } for an entry to be sent
// again by itself.
//
// Only batches and first tries hold one of the `calls`.  Whatever must wait
// or try again goes alone outside them, as every completion did before
// batches (one call per item, as many at once as the connection pool
// gives): an entry tried again after an error another try may not meet (its
// owner holds the item's row: 55P03), each entry of a batch the database
// refused whole, an entry marked `alone` (a response the database cannot
// read: sent by itself, it fails alone), and every entry while batches are
// off.  So one user's held rows or unreadable responses delay her own
// completions, never the next batch.  An error with `disablesBatches` (no
// such function, no privilege) turns batches off for `retryBatchesMs`.

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
	const stats = { single: 0, batches: 0, batched: 0, refused: 0 };   // refused: batches that failed whole
	const batching = () => now() >= batchesOffUntil;

	/**
	 * Complete `e` by itself and settle its promise: in one of the calls
	 * (`inPlace`) a single try, tried again outside them after an error
	 * another try may not meet; outside them, with the retries of `single`.
	 */
	async function alone(e, inPlace) {
		stats.single++;
		try {
			e.resolve(await single(e, inPlace));
		} catch (err) {
			if (inPlace && err?.again) void alone(e, false);
			else e.reject(err);
		}
	}

	/** Settle each entry of a batch from its outcome. */
	function settle(group, outcomes) {
		group.forEach((e, i) => {
			const o = outcomes[i];
			if (o === undefined || o.alone) void alone(e, false);
			else if ('error' in o) e.reject(o.error);
			else e.resolve(o.value);
		});
	}

	/** Send one group in one of the calls: one entry alone, several as a batch. */
	async function send(group) {
		if (group.length === 1) {
			await alone(group[0], true);
			return;
		}
		let outcomes;
		try {
			outcomes = await batch(group);
		} catch (err) {
			stats.refused++;
			if (err?.disablesBatches) batchesOffUntil = now() + retryBatchesMs;
			for (const e of group) void alone(e, false);
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
			if (waiting[i].alone || !batching()) void alone(waiting.splice(i, 1)[0], false);
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
