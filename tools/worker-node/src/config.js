// src/config.js — the worker's configuration: environment variables, then
// command-line options (which win).  See README.md for every variable.

import os from 'node:os';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

const UNITS = {
	ms: 0.001, msec: 0.001, millisecond: 0.001, milliseconds: 0.001,
	s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
	m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
	h: 3600, hour: 3600, hours: 3600,
};

/**
 * Seconds in a duration: a number of seconds ("300"), a number and a unit
 * ("5 minutes", "90s", "1.5 h") or hh:mm:ss.  Throws on anything else.
 */
export function parseDuration(text, what) {
	const s = String(text).trim().toLowerCase();
	let m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(s);
	if (m && (m[2] === '' || UNITS[m[2]] !== undefined)) {
		return Number(m[1]) * (m[2] === '' ? 1 : UNITS[m[2]]);
	}
	m = /^(\d+):(\d{2}):(\d{2})$/.exec(s);
	if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
	throw new Error(`${what}: not a duration: ${JSON.stringify(String(text).slice(0, 64))}`);
}

/** A positive integer, or a thrown error naming the setting. */
function positiveInt(text, what, max) {
	const n = Number(text);
	if (!Number.isInteger(n) || n < 1 || n > max) {
		throw new Error(`${what}: expected an integer from 1 to ${max}, got ${JSON.stringify(String(text).slice(0, 64))}`);
	}
	return n;
}

/** A non-negative number of seconds (0 allowed). */
function seconds(text, what) {
	const n = parseDuration(text, what);
	if (!(n >= 0)) throw new Error(`${what}: must not be negative`);
	return n;
}

/** true for 1/true/yes/on, false for 0/false/no/off/empty, undefined when unset. */
function flag(text, what) {
	if (text === undefined) return undefined;
	const s = text.trim().toLowerCase();
	if (['1', 'true', 'yes', 'on'].includes(s)) return true;
	if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
	throw new Error(`${what}: expected 1 or 0, got ${JSON.stringify(text.slice(0, 64))}`);
}

const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

/**
 * Why `url` (DATABASE_URL) cannot be a PostgreSQL connection string, or
 * null: what can be told without connecting (pg's forms: postgres:// or
 * postgresql://, socket:, or a socket directory "/path db").  The message
 * never repeats the URL (it may hold a password).  Before, `garbage`,
 * `mysql://x/y`, a host `%zz` or `sslmode=bogus` made the worker try to
 * connect forever (claim_error every 30 s at most).
 */
export function databaseUrlProblem(url) {
	if (url.startsWith('/')) return null;
	let u;
	try {
		u = new URL(url);
	} catch {
		return 'not a URL (expected postgres://user@host:port/database)';
	}
	if (u.protocol === 'socket:') return null;
	if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
		return `scheme ${JSON.stringify(u.protocol.slice(0, 32))} is not postgres: or postgresql:`;
	}
	let host;
	try {
		host = decodeURIComponent(u.hostname);
		decodeURIComponent(u.username);
		decodeURIComponent(u.password);
		decodeURIComponent(u.pathname);
	} catch {
		return 'a malformed %-escape in its user, password, host or database';
	}
	if (host !== '' && !host.startsWith('/') && !/^(\[[0-9a-f:.]+\]|[a-z0-9._~-]+)$/i.test(host)) return 'not a host name or address';
	const sslmode = u.searchParams.get('sslmode');
	if (sslmode !== null && !SSLMODES.includes(sslmode)) return `sslmode must be one of ${SSLMODES.join(', ')}`;
	return null;
}

/** A URL without its trailing slashes (base URLs are compared that way). */
export function normalizeUrl(url) {
	return String(url).trim().replace(/\/+$/, '');
}

export const USAGE = `usage: train-data-worker [--name NAME] [--concurrency N] [--lease DURATION]
                         [--idle-exit SECONDS] [--grace SECONDS] [--once] [--help]
(environment variables: see tools/worker-node/README.md)`;

/** Asked for the usage (--help, -h): bin/worker.js prints it and exits 0. */
export class HelpRequested extends Error {
	constructor() {
		super(USAGE);
		this.name = 'HelpRequested';
	}
}

/**
 * The value of environment variable `name`, or undefined when it is unset
 * or empty (blank): an empty value means the default.  Before, Number('')
 * read TD_OUTAGE_AFTER=, TD_RATE_LIMIT_WAITS=, TD_OFFLINE_DELAY= and
 * TD_OFFLINE_TRUNCATE= as 0, silently turning features off.
 */
function setting(env, name) {
	const v = env[name];
	return v === undefined || String(v).trim() === '' ? undefined : v;
}

/**
 * The offline generator only when asked for (TD_OFFLINE=1); without it, a
 * worker with no API key at all refuses to start.  Before, no key meant
 * offline silently: a worker deployed without its key completed the whole
 * queue with sample conversations (a review of 1.2).
 */
function checkKeys(c) {
	if (c.offline === undefined) c.offline = false;
	if (!c.offline && !c.anthropic.apiKey && !c.openai.apiKey) {
		throw new Error('no API key: set ANTHROPIC_API_KEY and/or OPENAI_API_KEY, or TD_OFFLINE=1 for the offline generator '
			+ '(sample conversations, not model output)');
	}
}

/**
 * The configuration from `env` and `argv` (the arguments after the script).
 * Throws an Error with a usage message on a bad value (its `exitStatus` 1
 * for a malformed DATABASE_URL, else 2 is meant).
 */
export function loadConfig(env = process.env, argv = []) {
	const get = (name) => setting(env, name);
	const c = {
		name: env.TD_WORKER_NAME || `node-${os.hostname()}-${process.pid}`,
		concurrency: positiveInt(get('TD_CONCURRENCY') ?? '4', 'TD_CONCURRENCY', 1000),
		leaseSeconds: seconds(get('TD_LEASE') ?? '5 minutes', 'TD_LEASE'),
		idleExitSeconds: seconds(get('TD_IDLE_EXIT') ?? '0', 'TD_IDLE_EXIT'),
		graceSeconds: seconds(get('TD_GRACE') ?? '25', 'TD_GRACE'),
		once: flag(get('TD_ONCE'), 'TD_ONCE') ?? false,
		pollSeconds: seconds(get('TD_POLL') ?? '1', 'TD_POLL'),
		requestTimeoutSeconds: seconds(get('TD_REQUEST_TIMEOUT') ?? '300', 'TD_REQUEST_TIMEOUT'),
		retryAfterMaxSeconds: seconds(get('TD_RETRY_AFTER_MAX') ?? '60', 'TD_RETRY_AFTER_MAX'),
		maxResponseBytes: Number(get('TD_MAX_RESPONSE_MB') ?? '8') * 1024 * 1024,
		rateLimitWaits: Number(get('TD_RATE_LIMIT_WAITS') ?? '2'),
		outageAfter: Number(get('TD_OUTAGE_AFTER') ?? '5'),
		outageMaxSeconds: seconds(get('TD_OUTAGE_MAX') ?? '15 minutes', 'TD_OUTAGE_MAX'),
		offline: flag(get('TD_OFFLINE'), 'TD_OFFLINE'),
		offlineDelayMs: get('TD_OFFLINE_DELAY') === undefined ? null : Number(get('TD_OFFLINE_DELAY')),
		offlineTruncate: Number(get('TD_OFFLINE_TRUNCATE') ?? '0.1'),
		databaseUrl: env.DATABASE_URL || undefined,
		dbPoolSize: get('TD_DB_POOL') ? positiveInt(get('TD_DB_POOL'), 'TD_DB_POOL', 100) : undefined,
		completeBatch: positiveInt(get('TD_COMPLETE_BATCH') ?? '50', 'TD_COMPLETE_BATCH', 1000),
		nameLock: flag(get('TD_NAME_LOCK'), 'TD_NAME_LOCK') ?? true,
		anthropic: {
			apiKey: env.ANTHROPIC_API_KEY || undefined,
			baseURL: normalizeUrl(env.ANTHROPIC_BASE_URL || ANTHROPIC_DEFAULT_BASE_URL),
		},
		openai: {
			apiKey: env.OPENAI_API_KEY || undefined,
			baseURL: normalizeUrl(env.OPENAI_BASE_URL || OPENAI_DEFAULT_BASE_URL),
		},
		allowedBaseUrls: { anthropic: new Set(), openai: new Set() },
	};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		const value = () => {
			if (i + 1 >= argv.length) throw new Error(`${a} needs a value\n${USAGE}`);
			return argv[++i];
		};
		switch (a) {
		case '--name': c.name = value(); break;
		case '--concurrency': c.concurrency = positiveInt(value(), a, 1000); break;
		case '--lease': c.leaseSeconds = seconds(value(), a); break;
		case '--idle-exit': c.idleExitSeconds = seconds(value(), a); break;
		case '--grace': c.graceSeconds = seconds(value(), a); break;
		case '--once': c.once = true; break;
		case '--help': case '-h': throw new HelpRequested();
		default: throw new Error(`unknown option ${JSON.stringify(a)}\n${USAGE}`);
		}
	}
	if (!(c.leaseSeconds > 0 && c.leaseSeconds <= 86400)) throw new Error('TD_LEASE: must be more than 0 and at most a day');
	if (!(c.requestTimeoutSeconds > 0 && c.requestTimeoutSeconds <= 86400)) throw new Error('TD_REQUEST_TIMEOUT: must be more than 0 and at most a day');
	if (!(c.pollSeconds >= 0.1 && c.pollSeconds <= 3600)) throw new Error('TD_POLL: must be from 0.1 s to an hour');
	if (!(Number.isInteger(c.maxResponseBytes) && c.maxResponseBytes >= 1024 * 1024 && c.maxResponseBytes <= 1024 * 1024 * 1024)) {
		throw new Error('TD_MAX_RESPONSE_MB: expected a whole number of megabytes from 1 to 1024');
	}
	if (!Number.isInteger(c.rateLimitWaits) || c.rateLimitWaits < 0) throw new Error('TD_RATE_LIMIT_WAITS: expected an integer >= 0');
	if (!Number.isInteger(c.outageAfter) || c.outageAfter < 0 || c.outageAfter > 1000) {
		throw new Error('TD_OUTAGE_AFTER: expected an integer from 0 to 1000');
	}
	if (c.offlineDelayMs !== null && !(c.offlineDelayMs >= 0)) throw new Error('TD_OFFLINE_DELAY: expected milliseconds >= 0');
	if (!(c.offlineTruncate >= 0 && c.offlineTruncate <= 1)) throw new Error('TD_OFFLINE_TRUNCATE: expected a fraction from 0 to 1');
	if (c.name.trim() === '' || c.name.length > 200) throw new Error('TD_WORKER_NAME: not blank, at most 200 characters');
	checkKeys(c);
	const urlProblem = c.databaseUrl === undefined ? null : databaseUrlProblem(c.databaseUrl);
	if (urlProblem) {
		// a fatal database error, as bin/worker.js and the README say (exit 1, not 2)
		throw Object.assign(new Error(`DATABASE_URL: ${urlProblem}`), { code: 'ERR_INVALID_URL', exitStatus: 1 });
	}
	// A provider's key is sent only to these base URLs (an item's base_url comes from a
	// user's AI configuration): the provider's own (ANTHROPIC_BASE_URL / OPENAI_BASE_URL,
	// else the official endpoint) and those TD_ALLOWED_BASE_URLS lists for it
	// ("anthropic=URL"; "openai=URL" or a bare URL for OpenAI).  So one provider's key
	// never goes to a server listed for the other, nor past the operator's gateway to
	// the public endpoint.
	c.allowedBaseUrls.anthropic.add(normalizeUrl(c.anthropic.baseURL ?? ANTHROPIC_DEFAULT_BASE_URL));
	c.allowedBaseUrls.openai.add(normalizeUrl(c.openai.baseURL ?? OPENAI_DEFAULT_BASE_URL));
	for (const entry of (env.TD_ALLOWED_BASE_URLS || '').split(/[\s,]+/).filter(Boolean)) {
		const m = /^(anthropic|openai)=(.+)$/.exec(entry);
		c.allowedBaseUrls[m ? m[1] : 'openai'].add(normalizeUrl(m ? m[2] : entry));
	}
	return c;
}
