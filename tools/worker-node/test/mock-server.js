// test/mock-server.js — a local HTTP server that speaks the two provider APIs
// as the official SDKs expect: Anthropic POST /v1/messages and OpenAI POST
// /v1/chat/completions.  What it answers depends on the persona named in the
// prompt ("Write a conversation with <persona>, ..."), the part before the
// first "-" choosing the behaviour on the persona's first request:
//
//   ok              200 with a conversation
//   ratelimit       429 with retry-after: 1, then 200
//   ratelimitlong   429 with retry-after: 3600, then 200
//   error500        500, then 200
//   hang            no answer at all (the client's timeout ends it), then 200
//   truncated       200 cut short (stop_reason max_tokens / finish_reason length), then 200
//   badjson         200 whose text holds malformed JSON, then 200
//   badrequest      400 every time
//   slow            200 after `slowMs`
//   stall           200 after `stallMs` on the first request, at once afterwards
//   trickle         200 headers at once, then a byte of body every 300 ms, never done; then 200
//   nul             200 whose conversation holds a NUL character (the database refuses it); then 200
//   echokey         401 whose message repeats the key the request carried, every time
//   huge            200 of 3 MB (Content-Length declared), then 200
//   hugechunked     200 of 3 MB sent in chunks without a length, then 200
//   down            503 to the first `downFor` requests of every "down"
//                   persona together (an outage), then 200
//   reset           200 headers and part of the body, then the connection
//                   reset (undici: TypeError 'terminated'); then 200
//   cut             as reset, for the first `cutFor` requests of every "cut"
//                   persona together (an outage after the headers), then 200
//   empty           200 with an empty body (content-length 0), then 200
//
// requests(persona) counts the requests per persona; `seen` keeps each
// request's path, headers and body.

import http from 'node:http';

/** The persona of a request body of either API. */
function personaOf(body) {
	const msgs = body?.messages ?? [];
	const last = msgs[msgs.length - 1]?.content;
	const text = typeof last === 'string' ? last : (last ?? []).map((b) => b.text ?? '').join('');
	return /conversation with ([^,\s]+)/.exec(text)?.[1] ?? 'unknown';
}

/** The conversation text a successful answer carries for `persona`. */
export function conversationText(persona) {
	return JSON.stringify({
		title: `Talk with ${persona}`,
		turns: [
			{ role: 'user', content: `I am ${persona}. Should I start saving for retirement now?` },
			{ role: 'assistant', content: 'Yes: even small amounts grow, and starting now gives them the most time.' },
			{ role: 'user', content: 'How much should I put aside each month?' },
			{ role: 'assistant', content: 'A tenth of your income is a common start; we can adjust it to your goals.' },
		],
	});
}

/** A 200 body of `api` holding `text`, finished (or cut short when `truncated`). */
function success(api, body, text, truncated) {
	if (api === 'openai') {
		return {
			id: 'chatcmpl-mock', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: body.model,
			choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null,
				finish_reason: truncated ? 'length' : 'stop' }],
			usage: { prompt_tokens: 120, completion_tokens: 80, total_tokens: 200 },
		};
	}
	return {
		id: 'msg_mock', type: 'message', role: 'assistant', model: body.model,
		content: [{ type: 'text', text }], stop_reason: truncated ? 'max_tokens' : 'end_turn', stop_sequence: null,
		usage: { input_tokens: 120, output_tokens: 80 },
	};
}

/** An error body of `api`. */
function errorBody(api, status, message) {
	return api === 'openai'
		? { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'server_error', code: null, param: null } }
		: { type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message } };
}

/** Start the server on 127.0.0.1 and a free port. */
export async function startMockServer({ slowMs = 1000, stallMs = 120000, downFor = 0, cutFor = 0 } = {}) {
	const counts = new Map();
	let downLeft = downFor;
	let cutLeft = cutFor;
	const seen = [];
	const sockets = new Set();
	const server = http.createServer((req, res) => {
		let raw = '';
		req.on('data', (d) => { raw += d; });
		req.on('end', () => {
			const api = req.url === '/v1/messages' ? 'anthropic' : req.url === '/v1/chat/completions' ? 'openai' : null;
			if (req.method !== 'POST' || api === null) {
				res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
				return;
			}
			const body = JSON.parse(raw);
			const persona = personaOf(body);
			const n = (counts.get(persona) ?? 0) + 1;
			counts.set(persona, n);
			seen.push({ api, persona, n, headers: req.headers, body });
			const kind = persona.split('-')[0];
			const send = (status, payload, headers = {}) =>
				res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${n}`, ...headers })
					.end(JSON.stringify(payload));
			const ok = (truncated = false) => send(200, success(api, body, conversationText(persona), truncated));
			// 200 headers and the first part of the body, then the socket destroyed
			const reset = () => {
				const full = JSON.stringify(success(api, body, conversationText(persona), false));
				res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(full)),
					'request-id': `req_${n}` });
				res.write(full.slice(0, 40), () => setTimeout(() => res.socket?.destroy(), 50));
			};
			const first = n === 1;
			if (kind === 'badrequest') return send(400, errorBody(api, 400, 'max_tokens: too large'));
			if (kind === 'echokey') {
				return send(401, errorBody(api, 401, `invalid key: ${req.headers.authorization ?? req.headers['x-api-key']}`));
			}
			if (kind === 'down') {
				if (downLeft > 0) { downLeft--; return send(503, errorBody(api, 503, 'service unavailable')); }
				return ok();
			}
			if (kind === 'cut') {
				if (cutLeft > 0) { cutLeft--; return reset(); }
				return ok();
			}
			if (!first) return kind === 'slow' ? setTimeout(ok, slowMs).unref() : ok();
			switch (kind) {
			case 'ratelimit': return send(429, errorBody(api, 429, 'rate limited'), { 'retry-after': '1' });
			case 'ratelimitlong': return send(429, errorBody(api, 429, 'rate limited'), { 'retry-after': '3600' });
			case 'error500': return send(500, errorBody(api, 500, 'internal error'));
			case 'hang': return undefined;
			case 'truncated': return ok(true);
			case 'badjson': return send(200, success(api, body, '```json\n{"turns": [{"role": "user", "content": "Hi"},\n```', false));
			case 'slow': return setTimeout(ok, slowMs).unref();
			case 'stall': return setTimeout(ok, stallMs).unref();
			case 'trickle': {
				res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${n}` });
				res.write('{');
				const t = setInterval(() => res.write(' '), 300);
				res.on('close', () => clearInterval(t));
				return undefined;
			}
			case 'reset': return reset();
			case 'empty':
				res.writeHead(200, { 'content-type': 'application/json', 'content-length': '0', 'request-id': `req_${n}` });
				return res.end();
			case 'nul': return send(200, success(api, body, conversationText(persona).replace('I am', 'I\u0000am'), false));
			case 'huge': return send(200, success(api, body, conversationText(persona) + ' '.repeat(3 * 1024 * 1024), false));
			case 'hugechunked': {
				res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_${n}` });
				const chunk = ' '.repeat(64 * 1024);
				let sent = 0;
				const more = () => {
					while (sent < 48 && !res.destroyed) {
						sent++;
						if (!res.write(chunk)) { res.once('drain', more); return; }
					}
					if (!res.destroyed) res.end(JSON.stringify(success(api, body, conversationText(persona), false)));
				};
				res.on('error', () => {});
				return more();
			}
			default: return ok();
			}
		});
	});
	// Idle connections stay open until close(): with Node's default of 5 s
	// the server could close a kept-alive socket as the worker sent its next
	// call on it (the outage tests' claims pause 5 s), a network failure no
	// test planned, which spent an attempt (outage.test.js failed once in CI)
	server.keepAliveTimeout = 10 * 60 * 1000;
	server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address();
	return {
		anthropicBaseURL: `http://127.0.0.1:${port}`,
		openaiBaseURL: `http://127.0.0.1:${port}/v1`,
		requests: (persona) => counts.get(persona) ?? 0,
		total: () => seen.length,
		seen,
		async close() {
			for (const s of sockets) s.destroy();
			await new Promise((resolve) => server.close(resolve));
		},
	};
}
