// test/anthropic.test.js — the worker against a mock of the Anthropic
// Messages API through @anthropic-ai/sdk (see scenarios.js).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startMockServer } from './mock-server.js';
import { setupDatabase } from './helpers.js';
import { runScenarios } from './scenarios.js';

let env;
let mock;
before(async () => {
	env = await setupDatabase('anthropic');
	mock = await startMockServer();
});
after(async () => {
	await mock?.close();
	await env?.drop();
});

test('anthropic: success, rate limits, 500, hung call, truncation, malformed JSON, 400', async () => {
	await runScenarios(env, mock, 'anthropic', { ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: mock.anthropicBaseURL });
	// every request went through the SDK to the Messages API with the key and a version header
	assert.ok(mock.seen.length > 0);
	for (const r of mock.seen) {
		assert.equal(r.api, 'anthropic');
		// (the SDK sends the key as x-api-key or, since 1.x, as a bearer token)
		assert.ok(r.headers['x-api-key'] === 'test-key' || r.headers.authorization === 'Bearer test-key');
		assert.equal(r.headers['x-stainless-retry-count'], '0');
		assert.ok(r.headers['anthropic-version']);
		assert.equal(r.body.model, 'claude-sonnet-5-5');
		assert.equal(r.body.stream, undefined);
	}
});
