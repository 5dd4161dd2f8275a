// test/discarded.test.js — answers the queue refuses: the job is cancelled
// while the model answers, so each completion is refused (55000) and the
// result discarded.  The provider billed those calls; before, nothing
// recorded them (a review of 1.2's cost accounting).  The worker now
// records each as a 'discarded' log row with its tokens and cost
// (log_discarded_response), once.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockServer } from './mock-server.js';
import { asUser, collectingLogger, createBatch, itemsOf, query, runWorker, setupDatabase, useProvider } from './helpers.js';

let env;
let mock;
before(async () => {
	env = await setupDatabase('discarded');
	mock = await startMockServer({ slowMs: 2500 });
});
after(async () => {
	await mock?.close();
	await env?.drop();
});

test('a job cancelled while the model answers: each paid answer is logged as discarded, with its tokens and cost', async (t) => {
	const has = (await query(env.db,
		"SELECT pg_catalog.to_regprocedure('train_data.log_discarded_response(uuid, integer, jsonb, integer)') IS NOT NULL AS ok")).rows[0].ok;
	if (!has || !env.features.provider) {
		t.skip('this build has no log_discarded_response');
		return;
	}
	await useProvider(env, 'anthropic', mock.anthropicBaseURL, 'claude-3-5-haiku-20241022');
	const job = await createBatch(env, 'cancelled midway', ['slow-1', 'slow-2', 'slow-3'], 3);
	const log = collectingLogger();
	// the three calls are in flight (2.5 s each) when the owner cancels
	const cancel = (async () => {
		for (let i = 0; i < 100; i++) {
			const n = (await query(env.db,
				"SELECT count(*)::int AS n FROM train_data.batch_items WHERE batch_job_id = $1 AND status = 'processing'", [job])).rows[0].n;
			if (n === 3) break;
			await new Promise((r) => setTimeout(r, 50));
		}
		await asUser(env, 'SELECT train_data.cancel_batch($1)', [job]);
	})();
	const { status, counts } = await runWorker(env, { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: mock.anthropicBaseURL,
		TD_CONCURRENCY: '3', TD_IDLE_EXIT: '2' }, log);
	await cancel;
	assert.equal(status, 0);
	assert.equal(counts.discarded, 3);
	const items = await itemsOf(env, job);
	assert.deepEqual(items.map((i) => [i.status, i.logs]), Array(3).fill(['cancelled', ['discarded:discarded']]));
	// 120 input and 80 output tokens at the row useProvider gave the model ($0.15 / $0.60 per million)
	const rows = (await query(env.db, `
		SELECT g.retry_attempt, g.input_tokens, g.output_tokens, g.cost_usd::text AS cost, g.conversation_id,
		       g.created_by::text AS owner, g.error_message, g.response_payload IS NOT NULL AS response
		FROM train_data.generation_logs g JOIN train_data.batch_items i ON i.id = g.batch_item_id
		WHERE i.batch_job_id = $1`, [job])).rows;
	assert.deepEqual(rows, Array(3).fill({ retry_attempt: 0, input_tokens: 120, output_tokens: 80, cost: '0.000066',
		conversation_id: null, owner: '11111111-1111-1111-1111-111111111111', error_message: 'the item was cancelled',
		response: true }));
	assert.equal(log.lines.filter((l) => l.event === 'discarded_logged').length, 3);
});
