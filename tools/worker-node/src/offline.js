// src/offline.js — the offline generator: stands in for the model when there
// is asked for with TD_OFFLINE=1 (never by itself).  It writes a sample conversation from the
// item's parameters, in the response shape of the item's provider (a
// Messages API message or a Chat Completions object), as tools/worker does.
// It is not model output, and its text says so.  To show the retry path, a
// first attempt is truncated (stop_reason max_tokens / finish_reason length)
// with probability `truncate` (TD_OFFLINE_TRUNCATE, 0.1 by default).

import { randomUUID } from 'node:crypto';

const QUESTIONS = ['What should I do first?', 'Is it too late for me?',
	'How do others handle this?', 'What would you check next?'];
const ANSWERS = ['Let us list what you have today and what you need later.',
	'Start with the money you cannot lose, then the money you can grow.',
	'A small, regular step usually beats a large one you keep postponing.',
	'Write the goal down with a date; we will work back from it.'];

/** A parameter as text, or the fallback when it is absent or not a scalar. */
function param(p, key, fallback) {
	const v = p?.[key];
	return v === undefined || v === null || typeof v === 'object' ? fallback : String(v);
}

/** The sample conversation (title and 8 alternating turns) for `parameters`. */
export function sampleConversation(parameters) {
	const p = parameters ?? {};
	const turns = [];
	for (let n = 1; n <= 8; n++) {
		const k = Math.floor(n / 2) % 4;
		turns.push(n % 2 === 1
			? { role: 'user', content: `I am a ${param(p, 'persona', 'client')}, I feel ${param(p, 'emotion', 'unsure')}, and I keep thinking about ${param(p, 'topic', 'my finances')}. ${QUESTIONS[k]}` }
			: { role: 'assistant', content: `That is a fair question about ${param(p, 'topic', 'your finances')}. ${ANSWERS[k]}` });
	}
	return { title: `${param(p, 'persona', 'Client')} on ${param(p, 'topic', 'planning')}`, turns };
}

/** The text of the response: a note that this is not model output, then the conversation as a JSON block. */
function sampleText(parameters) {
	return '(offline generator: a sample conversation, not model output)\n```json\n'
		+ JSON.stringify(sampleConversation(parameters)) + '\n```';
}

/**
 * A raw provider response for `item` ({provider, parameters, attempt}):
 * truncated when `truncated` is true.
 */
export function offlineResponse(item, truncated = false) {
	const text = sampleText(item.parameters);
	if (item.provider === 'openai') {
		return {
			id: `chatcmpl-offline-${randomUUID()}`, object: 'chat.completion',
			created: Math.floor(Date.now() / 1000), model: 'offline-generator',
			choices: [{ index: 0, message: { role: 'assistant', content: text },
				finish_reason: truncated ? 'length' : 'stop' }],
			usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
		};
	}
	return {
		id: `msg_offline_${randomUUID().replaceAll('-', '')}`, type: 'message', role: 'assistant',
		model: 'offline-generator', stop_reason: truncated ? 'max_tokens' : 'end_turn',
		usage: { input_tokens: 0, output_tokens: 0 },
		content: [{ type: 'text', text }],
	};
}
