#!/usr/bin/env node
// bin/worker.js — the Node worker of train_data (see ../README.md).
//
//   node bin/worker.js [--name NAME] [--concurrency N] [--lease DURATION]
//                      [--idle-exit SECONDS] [--grace SECONDS] [--once] [--help]
//
// Exit status: 0 after a clean stop (idle exit, --once, SIGTERM/SIGINT) or --help,
// 1 on a fatal database error (credentials, grants, no extension, a malformed
// DATABASE_URL) or a stop forced 15 s after a second signal, 2 on bad
// configuration or a worker name another live process uses (src/namelock.js).

import { HelpRequested, loadConfig } from '../src/config.js';
import { createPool, createQueue } from '../src/db.js';
import { captureConsole, createLogger } from '../src/log.js';
import { NameInUse, createNameLock } from '../src/namelock.js';
import { createCaller } from '../src/providers.js';
import { Worker } from '../src/worker.js';

let config;
try {
	config = loadConfig(process.env, process.argv.slice(2));
} catch (err) {
	if (err instanceof HelpRequested) {
		process.stdout.write(`${err.message}\n`);
		process.exit(0);
	}
	process.stderr.write(`${err.message}\n`);
	process.exit(err.exitStatus ?? 2);   // (1: a malformed DATABASE_URL)
}
const log = createLogger({ worker: config.name });
captureConsole(log);
const pool = createPool(config);
// The worker name is this process's own (src/namelock.js): another live
// process of its role holding it stops this one before it claims anything
// (another role's session holding the lock: a warning, no check).  A database
// not reachable yet: the lock is taken before the first claim.
const nameLock = config.nameLock ? createNameLock(config, log) : null;
try {
	await nameLock?.ensure();
} catch (err) {
	if (err instanceof NameInUse) {
		process.stderr.write(`${err.message}\n`);
		await pool.end();
		process.exit(2);
	}
}
const worker = new Worker({ config, queue: createQueue(pool, { completeBatch: config.completeBatch }), caller: createCaller(config),
	log, nameLock });
// A second signal skips the rest of the grace period; if the worker has still
// not stopped 15 s later (a database connection that hangs), it exits anyway:
// its items come back when their leases end.
let signals = 0;
const onSignal = (name) => {
	worker.stop(name);
	if (++signals === 2) {
		setTimeout(() => {
			log.error('stop_forced', { note: 'not stopped 15 s after the second signal; items in flight are left to their leases' });
			process.exit(1);
		}, 15000).unref();
	}
};
process.on('SIGTERM', () => onSignal('SIGTERM'));
process.on('SIGINT', () => onSignal('SIGINT'));
const status = await worker.run();
await nameLock?.release();
await pool.end();
process.exit(status);
