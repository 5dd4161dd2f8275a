// src/providers.js — one model call per claimed item, through the official
// SDK of the item's provider, and the mapping of what went wrong to a queue
// failure (retryable or final).
//
// The SDKs' own retries are off (maxRetries 0) and every call has a timeout
// (TD_REQUEST_TIMEOUT): the queue's retry policy (fail_batch_item, backoff
// 2^(attempt-1) s, max_attempts) decides what is tried again, not the SDK.

import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ANTHROPIC_DEFAULT_BASE_URL, OPENAI_DEFAULT_BASE_URL, normalizeUrl } from './config.js';
import { offlineResponse } from './offline.js';

export const PROVIDERS = ['anthropic', 'openai'];

/** A failure of a model call, as fail_batch_item takes it. */
export class CallFailure extends Error {
	constructor(message, { code, retryable, status, retryAfterMs } = {}) {
		super(message);
		this.code = code;
		this.retryable = retryable;
		this.status = status;
		this.retryAfterMs = retryAfterMs;
	}
}

/** A header of an SDK error (Headers object or plain record), or undefined. */
function header(headers, name) {
	if (!headers) return undefined;
	if (typeof headers.get === 'function') return headers.get(name) ?? undefined;
	return headers[name] ?? headers[name.toLowerCase()];
}

// A non-negative number (what retry-after-ms and retry-after's seconds may be).
const DELAY = /^\s*\d+(\.\d+)?\s*$/;
// An HTTP date (RFC 9110's IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT").
const HTTP_DATE = /^\s*[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT\s*$/;

/**
 * Milliseconds to wait from retry-after-ms or retry-after (seconds or an
 * HTTP date); undefined if absent or unreadable (a negative number, an empty
 * value or another kind of date is not read as "now").
 */
export function retryAfterMs(headers, now = Date.now()) {
	const ms = header(headers, 'retry-after-ms');
	if (ms !== undefined && DELAY.test(String(ms))) return Number(ms);
	const ra = header(headers, 'retry-after');
	if (ra === undefined) return undefined;
	if (DELAY.test(String(ra))) return Number(ra) * 1000;
	if (!HTTP_DATE.test(String(ra))) return undefined;
	const date = Date.parse(ra);
	return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Text with every secret (an API key of this worker, 8 characters or more) replaced by "***". */
export function redact(text, secrets) {
	let out = String(text ?? '');
	for (const secret of secrets) {
		if (typeof secret === 'string' && secret.length >= 8) out = out.split(secret).join('***');
	}
	return out;
}

/** A model's answer longer than the worker reads (TD_MAX_RESPONSE_MB). */
export class ResponseTooLarge extends Error {
	constructor(limit) {
		super(`the answer is larger than ${limit / (1024 * 1024)} MB (TD_MAX_RESPONSE_MB)`);
		this.name = 'ResponseTooLarge';
	}
}

/**
 * A fetch for the SDKs that reads at most `limit` bytes of an answer's body:
 * one that declares more (Content-Length) is refused before its body is
 * read, and a body that runs past the limit (chunked, or decompressed past
 * it) fails when it does, its connection closed.  Without it the SDKs read
 * an answer whole, however large (a review of 1.2: an answer of 60 MB took
 * 484 MB of the worker's memory, four of 120 MB ended the process).
 */
export function cappedFetch(limit, baseFetch = globalThis.fetch) {
	return async (url, init) => {
		const res = await baseFetch(url, init);
		const declared = Number(res.headers.get('content-length') ?? Number.NaN);
		if (declared > limit) {
			await res.body?.cancel().catch(() => {});
			throw new ResponseTooLarge(limit);
		}
		if (!res.body) return res;
		let seen = 0;
		const body = res.body.pipeThrough(new TransformStream({
			transform(chunk, controller) {
				seen += chunk.byteLength;
				if (seen > limit) controller.error(new ResponseTooLarge(limit));
				else controller.enqueue(chunk);
			},
		}));
		const capped = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
		Object.defineProperty(capped, 'url', { value: res.url });
		return capped;
	};
}

/** The ResponseTooLarge an error is or was caused by (the SDKs wrap what fetch throws), else null. */
function tooLarge(err) {
	for (let e = err, depth = 0; e && depth < 8; e = e.cause, depth++) {
		if (e instanceof ResponseTooLarge) return e;
	}
	return null;
}

// Codes of a connection lost while an answer's body was read: undici throws
// TypeError('terminated') with one of these as its cause (a SocketError
// UND_ERR_SOCKET 'other side closed', a body timeout, a reset), and the
// SDKs pass it on unwrapped.
const LOST_CONNECTION = new Set(['UND_ERR_SOCKET', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CLOSED',
	'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/**
 * The error in `err`'s cause chain that says the connection was lost (a
 * code of LOST_CONNECTION, or undici's TypeError 'terminated'), else null.
 * Before, a reset after the response's headers was a `worker_error`: the
 * outage breaker never counted it and each item spent its attempts within
 * seconds (a review of 1.2).
 */
export function lostConnection(err) {
	for (let e = err, depth = 0; e && depth < 8; e = e.cause, depth++) {
		if (LOST_CONNECTION.has(e.code) || (e instanceof TypeError && e.message === 'terminated')) return e;
	}
	return null;
}

/** The message of a lost connection: the error's, and its cause's when it has one ("terminated (other side closed)"). */
function networkMessage(err) {
	return `network: ${err.message}${err.cause ? ` (${err.cause.message ?? err.cause})` : ''}`;
}

/** HTTP statuses retried by the queue: timeouts, conflicts, rate limits, server errors. */
export function retryableStatus(status) {
	return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Text clipped to `n` characters (error messages stored on the item). */
function clip(text, n = 500) {
	const s = String(text ?? '');
	return s.length > n ? s.slice(0, n) + '...' : s;
}

/**
 * The CallFailure for an error thrown by a model call, or null when the call
 * was aborted by the worker itself (shutdown, lost lease).
 */
export function classifyError(err) {
	if (err instanceof CallFailure) return err;
	const big = tooLarge(err);
	if (big) return new CallFailure(clip(big.message), { code: 'response_too_large', retryable: true });
	if (err instanceof Anthropic.APIUserAbortError || err instanceof OpenAI.APIUserAbortError || err?.name === 'AbortError') return null;
	if (err instanceof Anthropic.APIConnectionTimeoutError || err instanceof OpenAI.APIConnectionTimeoutError) {
		return new CallFailure(clip(`timeout: ${err.message}`), { code: 'timeout', retryable: true });
	}
	if (err instanceof Anthropic.APIConnectionError || err instanceof OpenAI.APIConnectionError) {
		return new CallFailure(clip(networkMessage(err)), { code: 'network', retryable: true });
	}
	if ((err instanceof Anthropic.APIError || err instanceof OpenAI.APIError) && Number.isInteger(err.status)) {
		return new CallFailure(clip(`HTTP ${err.status}: ${err.message}`), {
			code: String(err.status), retryable: retryableStatus(err.status), status: err.status,
			retryAfterMs: retryAfterMs(err.headers),
		});
	}
	// the connection lost while the body was read (after the headers): the SDKs do not wrap it
	if (lostConnection(err)) return new CallFailure(clip(networkMessage(err)), { code: 'network', retryable: true });
	// anything else (a body that is not JSON, a bug): retried per policy, the message says what it was
	return new CallFailure(clip(`${err?.name ?? 'Error'}: ${err?.message ?? err}`), { code: 'worker_error', retryable: true });
}

/**
 * `response` when it is a JSON object, else a retryable CallFailure
 * (`invalid_response`): the SDKs return undefined for a 200 with an empty
 * body and a string for one that is not JSON.  Before, such a response
 * reached complete() and threw there (JSON.stringify(undefined)): the
 * item sat out its lease with no generation log (a review of 1.2).
 */
function checkedResponse(response) {
	if (response !== null && typeof response === 'object' && !Array.isArray(response)) return response;
	const what = response === undefined || response === '' ? 'an empty body' : `a ${Array.isArray(response) ? 'JSON array' : typeof response}`;
	throw new CallFailure(`empty or non-JSON response: ${what} instead of a JSON object`, { code: 'invalid_response', retryable: true });
}

/** Sleep `ms` milliseconds; rejects with an AbortError when `signal` aborts first. */
export function sleep(ms, signal) {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) { reject(Object.assign(new Error('aborted'), { name: 'AbortError' })); return; }
		const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
		const onAbort = () => { clearTimeout(t); reject(Object.assign(new Error('aborted'), { name: 'AbortError' })); };
		signal?.addEventListener('abort', onAbort, { once: true });
	});
}

/**
 * The model caller of a worker: call(item, signal) returns the provider's raw
 * JSON response for a claimed item or throws (classifyError reads it).
 */
export function createCaller(config) {
	const clients = new Map();

	// One SDK client per provider and base URL, created when first needed.
	const client = (provider, baseURL) => {
		const key = `${provider} ${baseURL}`;
		if (!clients.has(key)) {
			const opts = { baseURL, maxRetries: 0, timeout: config.requestTimeoutSeconds * 1000,
				fetch: cappedFetch(config.maxResponseBytes ?? 8 * 1024 * 1024) };
			clients.set(key, provider === 'openai'
				? new OpenAI({ ...opts, apiKey: config.openai.apiKey })
				: new Anthropic({ ...opts, apiKey: config.anthropic.apiKey }));
		}
		return clients.get(key);
	};

	// The base URL an item is sent to: its own (from the owner's AI configuration) or the worker's.
	const baseUrlOf = (item) => {
		if (!item.baseUrl) return item.provider === 'openai' ? config.openai.baseURL : config.anthropic.baseURL;
		const url = normalizeUrl(item.baseUrl);
		if (!config.allowedBaseUrls[item.provider]?.has(url)) {
			throw new CallFailure(`base URL ${clip(url, 200)} is not allowed for ${item.provider} in this worker's TD_ALLOWED_BASE_URLS `
				+ '(its API key is sent only there)', { code: 'base_url_not_allowed', retryable: false });
		}
		return url;
	};

	return {
		offline: config.offline,
		async call(item, signal) {
			if (!PROVIDERS.includes(item.provider)) {
				throw new CallFailure(`unknown provider ${clip(item.provider, 64)}`, { code: 'unknown_provider', retryable: false });
			}
			if (config.offline) {
				const delay = config.offlineDelayMs ?? 200 + Math.floor(Math.random() * 400);
				if (delay > 0) await sleep(delay, signal);
				return offlineResponse(item, item.attempt === 1 && Math.random() < config.offlineTruncate);
			}
			const baseURL = baseUrlOf(item);
			const keyed = item.provider === 'openai' ? config.openai : config.anthropic;
			if (!keyed.apiKey) {
				const v = item.provider === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY';
				throw new CallFailure(`no ${v} in this worker's environment (provider ${item.provider})`,
					{ code: 'no_api_key', retryable: false });
			}
			const { stream: _ignored, ...body } = item.request ?? {};
			const c = client(item.provider, baseURL);
			// the SDKs' timeout ends when the headers arrive: this one covers the
			// body too (a server that sends its answer a byte at a time)
			const timeout = AbortSignal.timeout(config.requestTimeoutSeconds * 1000);
			const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
			let response;
			try {
				response = item.provider === 'openai'
					? await c.chat.completions.create(body, { signal: both })
					: await c.messages.create(body, { signal: both });
			} catch (err) {
				if (timeout.aborted && !signal?.aborted) {
					throw new CallFailure(`timeout: no whole response within ${config.requestTimeoutSeconds} s (TD_REQUEST_TIMEOUT)`,
						{ code: 'timeout', retryable: true });
				}
				throw err;
			}
			return checkedResponse(response);
		},
	};
}

export { ANTHROPIC_DEFAULT_BASE_URL, OPENAI_DEFAULT_BASE_URL };
