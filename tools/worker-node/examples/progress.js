#!/usr/bin/env node
// examples/progress.js — live progress of one batch job in an application.
//
//   TD_USER_ID=<owner uuid> node examples/progress.js <job id>
//
// LISTENs on the job's own channel (train_data.job_channel(job)), asks for an
// event per completed item (completion_events) and, on each
// event, reads batch_progress(job) — the truth; notifications are only a
// prompt to read it — and prints the percent done and the time remaining.
// Stops on job_finished, job_failed or job_cancelled (or when the job has
// already ended).  Connects as the application role (DATABASE_URL or the PG*
// variables) and acts for the job's owner (TD_USER_ID).
//
// LISTEN needs a session of its own: connect directly to PostgreSQL (or to a
// pooler in session mode), never through a transaction-mode pooler, where the
// server connection that ran LISTEN serves other clients the next moment.

import pg from 'pg';

const ENDED = new Set(['job_finished', 'job_failed', 'job_cancelled']);
const [job] = process.argv.slice(2);
if (!job || !process.env.TD_USER_ID) {
	process.stderr.write('usage: TD_USER_ID=<owner uuid> node examples/progress.js <job id>\n');
	process.exit(2);
}

const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
// a session setting is right here: this connection is ours alone (direct, not pooled)
await client.query("SELECT pg_catalog.set_config('train_data.user_id', $1, false)", [process.env.TD_USER_ID]);

/** Print one progress line; returns the job's status (undefined: unknown or not ours). */
async function report(event) {
	const { rows } = await client.query(
		`SELECT status::text, percent, completed_items, failed_items, total_items,
		        pg_catalog.to_char(estimated_time_remaining, 'HH24:MI:SS') AS remaining
		 FROM train_data.batch_progress($1)`, [job]);
	const p = rows[0];
	if (!p) return undefined;
	process.stdout.write(`${event.padEnd(14)} ${p.status.padEnd(10)} ${String(p.percent).padStart(6)} %  `
		+ `${p.completed_items}/${p.total_items} done, ${p.failed_items} failed, ${p.remaining ?? '--:--:--'} remaining\n`);
	return p.status;
}

// (NULL for a job the user cannot see: its channel is named after a token
// only the job's readers learn)
const { rows: [{ channel }] } = await client.query('SELECT train_data.job_channel($1) AS channel', [job]);
if (channel === null) {
	process.stderr.write(`no job ${job} for user ${process.env.TD_USER_ID}\n`);
	await client.end();
	process.exit(1);
}
await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
// item_completed events are sent only for a job that asks for them: each
// transaction that notifies commits in turn with every other one that does,
// cluster-wide, so they are off unless someone watches item by item
await client.query(
	'UPDATE train_data.batch_jobs SET completion_events = true WHERE id = $1 AND NOT completion_events', [job]);
const status = await report('now');
if (status === undefined || ['completed', 'failed', 'cancelled'].includes(status)) {
	if (status === undefined) process.stderr.write(`no job ${job} for user ${process.env.TD_USER_ID}\n`);
	await client.end();
	process.exit(status === undefined ? 1 : 0);
}

// one report at a time, in the order the events arrived
let chain = Promise.resolve();
client.on('notification', (msg) => {
	const { event } = JSON.parse(msg.payload);
	chain = chain.then(async () => {
		await report(event);
		if (ENDED.has(event)) {
			await client.end();
			process.exit(0);
		}
	});
});
process.on('SIGINT', async () => { await client.end(); process.exit(130); });
