// src/completer.js — completions coalesced, as a database coalesces commits.
// A completion that finds a call free goes at once, alone; while `calls`
// completion calls are running, further completions wait and go together in
// the next call, up to `maxEntries` of them and `maxBytes` of response JSON
// (one larger response goes alone).  A worker with few model calls in flight
// waits for nothing; one with many pays one round trip and one commit per
// batch instead of per item.
//
// It knows nothing of SQL: `single(entry, once)` completes one entry (its
// value, or it throws; with `once` it tries once and marks an error another
// try may not meet `again`); `batch(entries)` completes several in one call
// and returns one outcome per entry, in order: { value }, { error }, or
// { alone: true } for an entry to be sent again by itself, outside the
// `calls`.  When `batch` throws, every entry of the batch is sent again by
// itself, one after the other, so that one entry the database cannot read
// fails alone; an error with `disablesBatches` set (no such function, no
// privilege) also turns batching off for good.

/**
 * A completer over `single` and `batch` (see above): `complete(entry)`
 * resolves with the entry's value or rejects with its error; `entry.bytes`
 * is the size that counts against `maxBytes`.  `stats` counts the calls.
 */
export function createCompleter({ single, batch, calls = 2, maxEntries = 50, maxBytes = 8 * 1024 * 1024 }) {
	const waiting = [];
	let running = 0;
	let batching = maxEntries > 1;
	const stats = { single: 0, batches: 0, batched: 0, refused: 0 };   // refused: batches that failed whole

	/**
	 * Complete `e` by itself and settle its promise.  In a call's place
	 * (`inPlace`) it is tried once: an error another try may not meet
	 * (`again`: a lock wait that ran out, a lost connection) is tried again
	 * outside it, so that a user who holds her items' rows (55P03) delays
	 * her own completions, not the next batch.
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

	/** Settle each entry of a batch from its outcome (one to send again goes alone, outside the calls). */
	function settle(group, outcomes) {
		group.forEach((e, i) => {
			const o = outcomes[i];
			if (o === undefined || o.alone) void alone(e, false);
			else if ('error' in o) e.reject(o.error);
			else e.resolve(o.value);
		});
	}

	/** Send one group: alone when it is one entry (or batches are off), else as a batch. */
	async function send(group) {
		if (group.length === 1 || !batching) {
			for (const e of group) await alone(e, true);
			return;
		}
		let outcomes;
		try {
			outcomes = await batch(group);
		} catch (err) {
			stats.refused++;
			if (err?.disablesBatches) batching = false;
			for (const e of group) await alone(e, true);
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
		while (batching && group.length < maxEntries && waiting.length > 0 && bytes + waiting[0].bytes <= maxBytes) {
			bytes += waiting[0].bytes;
			group.push(waiting.shift());
		}
		return group;
	}

	/** Start calls while some are free and entries wait. */
	function pump() {
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
