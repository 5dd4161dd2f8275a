// test/scenarios.js — the provider scenarios shared by the Anthropic and the
// OpenAI test files: one batch whose personas make the mock server answer
// success, 429 with a short and a long retry-after, 500, no answer (client
// timeout), a truncated answer, malformed JSON and 400; a worker drains it;
// then every item's final state, attempts, generation logs and stored
// conversation are checked as the owner sees them.

import assert from 'node:assert/strict';
import { conversationText } from './mock-server.js';
import { USER, collectingLogger, createBatch, itemsOf, query, runWorker } from './helpers.js';

export const PERSONAS = ['ok-1', 'ratelimit-1', 'ratelimitlong-1', 'error500-1', 'hang-1', 'truncated-1', 'badjson-1', 'badrequest-1',
	'trickle-1', 'nul-1', 'echokey-1', 'huge-1', 'hugechunked-1',
	'reset-1', 'empty-1'];

/** What each persona's item ends as: status, attempts, error_code, generation log statuses, requests the mock saw. */
export const EXPECTED = {
	'ok-1': ['completed', 1, null, ['success'], 1],
	'ratelimit-1': ['completed', 1, null, ['success'], 2],
	'ratelimitlong-1': ['completed', 2, null, ['rate_limited:429', 'success'], 2],
	'error500-1': ['completed', 2, null, ['failed:500', 'success'], 2],
	'hang-1': ['completed', 2, null, ['timeout:timeout', 'success'], 2],
	'truncated-1': ['completed', 2, null, ['failed:22001', 'success'], 2],
	'badjson-1': ['completed', 2, null, ['failed:22P02', 'success'], 2],
	'badrequest-1': ['failed', 1, '400', ['failed:400'], 1],
	// the timeout covers the body (the SDKs' ends with the headers)
	'trickle-1': ['completed', 2, null, ['timeout:timeout', 'success'], 2],
	// a response the database cannot store is failed, not left to its lease
	'nul-1': ['completed', 2, null, ['failed:invalid_response', 'success'], 2],
	'echokey-1': ['failed', 1, '401', ['failed:401'], 1],
	// an answer past TD_MAX_RESPONSE_MB (1 here) is not read whole: declared
	// too long, or cut off when its chunks pass the limit; then retried
	'huge-1': ['completed', 2, null, ['failed:response_too_large', 'success'], 2],
	'hugechunked-1': ['completed', 2, null, ['failed:response_too_large', 'success'], 2],
	// the connection reset after the headers is a network failure (it was a worker_error)
	'reset-1': ['completed', 2, null, ['failed:network', 'success'], 2],
	// a 200 with an empty body is failed retryable, with a log (it was left to its lease)
	'empty-1': ['completed', 2, null, ['failed:invalid_response', 'success'], 2],
};

/** Queue the scenario batch, drain it with a worker on `mock`, check everything. */
export async function runScenarios(env, mock, provider, workerEnv) {
	const job = await createBatch(env, `${provider} scenarios`, PERSONAS);
	const log = collectingLogger();
	const { status } = await runWorker(env, { TD_REQUEST_TIMEOUT: '1', TD_RETRY_AFTER_MAX: '5', TD_IDLE_EXIT: '4', TD_MAX_RESPONSE_MB: '1', ...workerEnv }, log);
	assert.equal(status, 0);
	const items = await itemsOf(env, job);
	const got = Object.fromEntries(items.map((i) => [i.persona, [i.status, i.attempts, i.error_code, i.logs, mock.requests(i.persona)]]));
	assert.deepEqual(got, EXPECTED);
	for (const i of items.filter((x) => x.status === 'completed')) {
		const expected = JSON.parse(conversationText(i.persona));
		assert.equal(i.conversations, 1, `${i.persona}: one conversation`);
		assert.equal(i.owner, USER);
		assert.equal(i.title, expected.title);
		assert.deepEqual(i.turns, expected.turns);
	}
	// the worker waited out the short retry-after itself, and said so
	assert.deepEqual(log.lines.filter((l) => l.event === 'rate_limited').map((l) => [l.provider, l.wait_ms]), [[provider, 1000]]);
	assert.equal(log.lines.filter((l) => l.event === 'unusable').length, 2);
	// the key a server echoed is neither logged nor stored
	const echoed = log.lines.filter((l) => l.event === 'failed' && l.code === '401');
	assert.equal(echoed.length, 1);
	assert.match(echoed[0].message, /invalid key: (Bearer )?\*\*\*/);
	assert.ok(!JSON.stringify(log.lines).includes('test-key'));
	// the empty answer was failed with a log line saying what it was, nothing abandoned
	assert.deepEqual(log.lines.filter((l) => l.event === 'failed' && /^empty or non-JSON/.test(l.message))
		.map((l) => [l.code, l.retryable, l.status, l.message]),
	[['invalid_response', true, 'queued', 'empty or non-JSON response: an empty body instead of a JSON object']]);
	assert.equal(log.lines.filter((l) => l.event === 'report_error').length, 0);
	const stored = await query(env.db, `SELECT count(*)::int AS n FROM train_data.batch_items
		WHERE batch_job_id = $1 AND error_message LIKE '%test-key%'`, [job]);
	assert.equal(stored.rows[0].n, 0);
	return { job, items, log };
}
