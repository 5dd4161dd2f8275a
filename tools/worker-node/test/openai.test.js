// test/openai.test.js — the worker against a mock of the OpenAI Chat
// Completions API through the openai SDK.  The queue scenario needs the
// provider columns of the claim (the provider SQL of issue 19); on a database
// without them it is skipped, saying so.  The caller test runs everywhere:
// each first answer of the mock through the SDK, and what the worker makes of it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockServer } from './mock-server.js';
import { setupDatabase, useProvider, workerConfig } from './helpers.js';
import { runScenarios } from './scenarios.js';
import { classifyError, createCaller } from '../src/providers.js';

let env;
let mock;
before(async () => {
	env = await setupDatabase('openai');
	mock = await startMockServer();
});
after(async () => {
	await mock?.close();
	await env?.drop();
});

test('openai: success, rate limits, 500, hung call, truncation, malformed JSON, 400', async (t) => {
	if (!env.features.provider) {
		t.skip('claim_batch_items has no provider column in this build (provider SQL of issue 19 not merged)');
		return;
	}
	await useProvider(env, 'openai', mock.openaiBaseURL, 'gpt-4o-mini');
	await runScenarios(env, mock, 'openai', { OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: mock.openaiBaseURL });
	assert.ok(mock.seen.length > 0);
	for (const r of mock.seen) {
		assert.equal(r.api, 'openai');
		assert.equal(r.headers.authorization, 'Bearer test-key');
		assert.equal(r.body.model, 'gpt-4o-mini');
		assert.equal(r.body.messages.at(-1).role, 'user');
	}
});

test('openai caller: what each first answer becomes', async () => {
	const config = workerConfig(env, { OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: mock.openaiBaseURL, TD_REQUEST_TIMEOUT: '1' });
	const caller = createCaller(config);
	const outcome = async (persona) => {
		const item = { provider: 'openai', baseUrl: null, attempt: 1, parameters: {},
			request: { model: 'gpt-4o-mini', max_tokens: 100, messages: [{ role: 'user', content: `Write a conversation with ${persona}, feeling worried.` }] } };
		try {
			const r = await caller.call(item, new AbortController().signal);
			return ['200', r.choices[0].finish_reason];
		} catch (err) {
			const f = classifyError(err);
			return [f.code, f.retryable, f.retryAfterMs ?? null];
		}
	};
	const got = {};
	for (const p of ['ok-2', 'ratelimit-2', 'ratelimitlong-2', 'error500-2', 'hang-2', 'truncated-2', 'badrequest-2', 'reset-2']) got[p] = await outcome(p);
	assert.deepEqual(got, {
		'ok-2': ['200', 'stop'],
		'ratelimit-2': ['429', true, 1000],
		'ratelimitlong-2': ['429', true, 3600000],
		'error500-2': ['500', true, null],
		'hang-2': ['timeout', true, null],
		'truncated-2': ['200', 'length'],
		'badrequest-2': ['400', false, null],
		'reset-2': ['network', true, null],
	});
	// one request each: the SDK's own retries are off
	assert.deepEqual(['ratelimit-2', 'error500-2', 'hang-2'].map(mock.requests), [1, 1, 1]);
});

test('openai: an item whose base URL is not allowed is failed for good, the key never sent there', async () => {
	const config = workerConfig(env, { OPENAI_API_KEY: 'test-key', OPENAI_BASE_URL: mock.openaiBaseURL });
	const before = mock.total();
	const item = { provider: 'openai', baseUrl: 'http://attacker.invalid/v1', attempt: 1, parameters: {},
		request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] } };
	await assert.rejects(createCaller(config).call(item, new AbortController().signal),
		(err) => err.code === 'base_url_not_allowed' && err.retryable === false);
	assert.equal(mock.total(), before);
});
