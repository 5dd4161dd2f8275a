// src/log.js — structured log lines: one JSON object per event, one line each.
//
// Every line has `time` (ISO 8601), `level` (info, warn, error), `event` and
// the worker's name; the rest are the event's fields (item, job, attempt,
// provider, ms, code, ...).  Undefined fields are left out.

/** A logger writing JSON lines to `stream` (stdout by default) with `base` fields on every line. */
export function createLogger(base = {}, stream = process.stdout) {
	const write = (level, event, fields = {}) => {
		const line = { time: new Date().toISOString(), level, event, ...base };
		for (const [k, v] of Object.entries(fields)) {
			if (v !== undefined) line[k] = v;
		}
		stream.write(JSON.stringify(line) + '\n');
	};
	return {
		info: (event, fields) => write('info', event, fields),
		warn: (event, fields) => write('warn', event, fields),
		error: (event, fields) => write('error', event, fields),
	};
}

/** A logger that drops everything (tests that do not read the log). */
export const silentLogger = { info() {}, warn() {}, error() {} };

/**
 * Route console.log/warn/error (the SDKs print notices there, such as a
 * model's deprecation on every call) to `log` as `sdk_message` lines, each
 * distinct message once, so that stdout stays one JSON object per line.
 */
export function captureConsole(log) {
	const seen = new Set();
	const route = (level) => (...args) => {
		const message = args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : JSON.stringify(a))).join(' ');
		if (seen.has(message)) return;
		if (seen.size < 1000) seen.add(message);
		log[level]('sdk_message', { message: message.slice(0, 1000) });
	};
	console.log = route('info');
	console.info = route('info');
	console.warn = route('warn');
	console.error = route('error');
}
