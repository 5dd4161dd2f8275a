// test/helpers.js — a database of its own for each test file, on the cluster
// the test runner started (PGHOST, PGPORT, PGUSER: a superuser): the
// extension, the README's two roles (an application role and a worker role
// with EXECUTE on the worker functions only), a template and batches made by
// a user through the application role.

import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { createQueue } from '../src/db.js';
import { silentLogger } from '../src/log.js';
import { createCaller } from '../src/providers.js';
import { Worker } from '../src/worker.js';

export const USER = '11111111-1111-1111-1111-111111111111';
export const TEMPLATE = '7e000000-0000-0000-0000-000000000001';

/** Run `sql` on database `db` as `user` (superuser by default) in a new connection. */
export async function query(db, sql, values = [], user = undefined) {
	const c = new pg.Client({ database: db, user });
	await c.connect();
	try {
		return await c.query(sql, values);
	} finally {
		await c.end();
	}
}

/** A fresh database `tdw_<tag>` with the extension, roles tdw_app_<tag> and tdw_worker_<tag>, and a template. */
export async function setupDatabase(tag) {
	const db = `tdw_${tag}`;
	const app = `tdw_app_${tag}`;
	const worker = `tdw_worker_${tag}`;
	await query('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
	await query('postgres', `DROP ROLE IF EXISTS ${app}`);
	await query('postgres', `DROP ROLE IF EXISTS ${worker}`);
	await query('postgres', `CREATE DATABASE ${db}`);
	await query(db, `
		CREATE EXTENSION train_data;
		CREATE ROLE ${app} LOGIN;
		GRANT USAGE ON SCHEMA train_data TO ${app};
		GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA train_data TO ${app};
		GRANT USAGE ON ALL SEQUENCES IN SCHEMA train_data TO ${app};
		CREATE ROLE ${worker} LOGIN;
		GRANT USAGE ON SCHEMA train_data TO ${worker};
		GRANT EXECUTE ON FUNCTION train_data.claim_batch_items(text, integer, interval),
		                          train_data.heartbeat_batch_item(uuid, numeric, interval, integer),
		                          train_data.complete_batch_item(uuid, jsonb, integer, integer),
		                          train_data.fail_batch_item(uuid, text, text, boolean, integer)
		      TO ${worker};
		DO $$ BEGIN
		    IF pg_catalog.to_regprocedure('train_data.complete_batch_items(jsonb)') IS NOT NULL THEN
		        EXECUTE 'GRANT EXECUTE ON FUNCTION train_data.complete_batch_items(jsonb) TO ${worker}';
		    END IF;
		END $$;
		DO $$ BEGIN
		    IF pg_catalog.to_regprocedure('train_data.release_batch_item(uuid, integer)') IS NOT NULL THEN
		        EXECUTE 'GRANT EXECUTE ON FUNCTION train_data.release_batch_item(uuid, integer) TO ${worker}';
		    END IF;
		    IF pg_catalog.to_regprocedure('train_data.log_discarded_response(uuid, integer, jsonb, integer)') IS NOT NULL THEN
		        EXECUTE 'GRANT EXECUTE ON FUNCTION train_data.log_discarded_response(uuid, integer, jsonb, integer) TO ${worker}';
		    END IF;
		    IF pg_catalog.to_regprocedure('train_data.release_worker_items(text, uuid[])') IS NOT NULL THEN
		        EXECUTE 'GRANT EXECUTE ON FUNCTION train_data.release_worker_items(text, uuid[]) TO ${worker}';
		    END IF;
		END $$;`);
	await asUser({ db, app }, `
		INSERT INTO train_data.templates (id, name, category, structure, variables)
		VALUES ('${TEMPLATE}', 'Retirement anxiety', 'finance',
		        'Write a conversation with {{persona}}, feeling {{emotion}} about {{topic}}.',
		        '[{"name": "persona", "type": "text"},
		          {"name": "emotion", "type": "dropdown", "options": ["worried", "hopeful"], "defaultValue": "worried"},
		          {"name": "topic", "type": "text", "defaultValue": "retirement"}]')`);
	const features = (await query(db, `
		SELECT 'provider' = ANY (p.proargnames) AS provider,
		       pg_catalog.to_regprocedure('train_data.release_batch_item(uuid, integer)') IS NOT NULL AS release
		FROM pg_catalog.pg_proc p
		WHERE p.oid = 'train_data.claim_batch_items(text, integer, interval)'::pg_catalog.regprocedure`)).rows[0];
	return {
		db, app, worker, features,
		async drop() {
			await query('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
			await query('postgres', `DROP ROLE IF EXISTS ${app}`);
			await query('postgres', `DROP ROLE IF EXISTS ${worker}`);
		},
	};
}

/** Run `sql` as the application role for USER (SET LOCAL in one transaction); returns the last result. */
export async function asUser(env, sql, values = []) {
	const c = new pg.Client({ database: env.db, user: env.app });
	await c.connect();
	try {
		await c.query('BEGIN');
		await c.query(`SELECT pg_catalog.set_config('train_data.user_id', $1, true)`, [USER]);
		const r = await c.query(sql, values);
		await c.query('COMMIT');
		return r;
	} finally {
		await c.end();
	}
}

/** Queue a batch of one item per persona (in order); returns the job id. */
export async function createBatch(env, name, personas, concurrent = 10) {
	const items = personas.map((p) => ({ template_id: TEMPLATE, parameters: { persona: p } }));
	const r = await asUser(env, 'SELECT train_data.create_batch($1, $2::jsonb, \'{}\', $3) AS job',
		[name, JSON.stringify(items), concurrent]);
	return r.rows[0].job;
}

/**
 * Make the user's AI configuration use `provider` at `baseUrl` with `model`
 * (the provider SQL's keys, found in default_ai_config()); the model gets a
 * price row when it has none.
 */
export async function useProvider(env, provider, baseUrl, model) {
	const keys = Object.keys((await query(env.db, 'SELECT train_data.default_ai_config() AS c')).rows[0].c);
	const providerKey = keys.find((k) => /^provider$/i.test(k)) ?? 'provider';
	const urlKey = keys.find((k) => /^base_?url$/i.test(k)) ?? 'baseUrl';
	await query(env.db, `INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok)
		VALUES ($1, 0.15, 0.6) ON CONFLICT DO NOTHING`, [model]);
	await asUser(env, `INSERT INTO train_data.ai_configurations (config_name, configuration)
		VALUES ('test ' || $1, $2::jsonb)`, [provider, JSON.stringify({ [providerKey]: provider, [urlKey]: baseUrl, model })]);
}

/** Every item of a job (as the superuser: the owner's view of them), by position, with its conversation's turns. */
export async function itemsOf(env, job) {
	return (await query(env.db, `
		SELECT i.position, i.parameters ->> 'persona' AS persona, i.status::text, i.attempts, i.error_code,
		       c.id AS conversation, c.created_by::text AS owner, c.title,
		       (SELECT pg_catalog.count(*)::int FROM train_data.conversations c2
		        WHERE c2.persona = i.parameters ->> 'persona') AS conversations,
		       (SELECT pg_catalog.array_agg(g.status || coalesce(':' || g.error_code, '') ORDER BY g.created_at, g.id)
		        FROM train_data.generation_logs g WHERE g.batch_item_id = i.id) AS logs,
		       (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('role', t.role, 'content', t.content) ORDER BY t.turn_number)
		        FROM train_data.conversation_turns t WHERE t.conversation_id = c.id) AS turns
		FROM train_data.batch_items i LEFT JOIN train_data.conversations c ON c.id = i.conversation_id
		WHERE i.batch_job_id = $1 ORDER BY i.position`, [job])).rows;
}

/** Worker configuration for tests: environment `env` over quiet defaults. */
export function workerConfig(env, extra = {}) {
	return loadConfig({ TD_WORKER_NAME: 'test-worker', TD_CONCURRENCY: '4', TD_IDLE_EXIT: '4', TD_POLL: '0.2',
		TD_LEASE: '30', ...extra });
}

/** Run a worker in this process against `env`'s database as the worker role until it exits; returns its counts. */
export async function runWorker(env, extra = {}, log = silentLogger) {
	const config = workerConfig(env, extra);
	const pool = new pg.Pool({ database: env.db, user: env.worker, max: 5 });
	try {
		const queue = createQueue(pool, { completeBatch: config.completeBatch });
		const w = new Worker({ config, queue, caller: createCaller(config), log });
		const status = await w.run();
		return { status, counts: w.counts, completions: queue.completionStats() };
	} finally {
		await pool.end();
	}
}

/** A logger collecting events (for assertions on what the worker reported). */
export function collectingLogger() {
	const lines = [];
	const add = (level) => (event, fields = {}) => lines.push({ level, event, ...fields });
	return { lines, info: add('info'), warn: add('warn'), error: add('error') };
}
