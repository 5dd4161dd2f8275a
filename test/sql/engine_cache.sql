-- engine_cache: the copies a worker's session keeps of job owners'
-- configurations and of model prices (src/engine_cache.c): one per owner
-- and per model, current after a change committed in the same session,
-- the same rows as reading them each time, and bounded whatever a worker
-- sends.  Changes committed by other sessions:
-- test/specs/engine_cache_sessions.spec.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''

-- Alice and Bob each queue 3 items and choose a model.
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
    ('ec000000-0000-0000-0000-000000000001', 'cache template', 'c', 'Talk with {{persona}}.',
     '[{"name": "persona", "type": "text"}]');
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by, created_at) VALUES
    ('ec000000-0000-0000-0000-0000000000a1', 'alice job', 3, 3, :alice, now() - interval '2 minutes'),
    ('ec000000-0000-0000-0000-0000000000b1', 'bob job', 3, 3, :bob, now() - interval '1 minute');
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters)
SELECT j, 'ec000000-0000-0000-0000-000000000001', g, 'template', jsonb_build_object('persona', 'P' || g)
FROM unnest(ARRAY['ec000000-0000-0000-0000-0000000000a1', 'ec000000-0000-0000-0000-0000000000b1']::uuid[]) j,
     generate_series(1, 3) g;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
INSERT INTO train_data.ai_configurations (config_name, configuration) VALUES ('mine', '{"model": "claude-3-haiku-20240307"}');
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.ai_configurations (config_name, configuration) VALUES ('mine', '{"model": "claude-opus-4-1"}');
RESET ROLE;
RESET train_data.user_id;

-- One worker session claims one item at a time: Alice's (the older job)
-- twice, the second from the session's copy, then Bob's; each request has
-- its owner's model, never the other's.  (Leases of a day: a lease that
-- ran out on a slow machine handed an item of these jobs to a claim below.)
SET ROLE regress_worker;
CREATE TEMP TABLE claimed AS
SELECT 1 AS n, c.batch_job_id, c.request ->> 'model' AS model FROM train_data.claim_batch_items('w', 1, '1 day') c;
INSERT INTO claimed SELECT 2, c.batch_job_id, c.request ->> 'model' FROM train_data.claim_batch_items('w', 1, '1 day') c;
INSERT INTO claimed SELECT 3, c.batch_job_id, c.request ->> 'model' FROM train_data.claim_batch_items('w', 2, '1 day') c;
RESET ROLE;

-- Bob changes his model (committed in this session: its own transaction's
-- invalidation empties the copy at commit); the next claim of his item has
-- it, and Alice's stays hers.
SET ROLE regress_bob;
SET train_data.user_id = :bob;
UPDATE train_data.ai_configurations SET configuration = configuration || '{"model": "claude-sonnet-4-20250514"}';
RESET ROLE;
RESET train_data.user_id;
SET ROLE regress_worker;
INSERT INTO claimed SELECT 4, c.batch_job_id, c.request ->> 'model' FROM train_data.claim_batch_items('w', 2, '1 day') c;
RESET ROLE;
SELECT n, CASE c.batch_job_id WHEN 'ec000000-0000-0000-0000-0000000000a1' THEN 'alice' ELSE 'bob' END AS owner, c.model
FROM claimed c ORDER BY n, owner;

-- Prices: the engine's copy gives what model_price() gives, for an exact
-- id, a family, an unknown model and a name too long to keep (read each
-- time); an unknown model's NULL is kept too, and a price row added for it
-- (committed) is used from the next call.
SELECT m, train_data.engine_model_price(m, NULL) IS NOT DISTINCT FROM train_data.model_price(m) AS same,
      (train_data.engine_model_price(m, NULL)).model_id, train_data.engine_model_price(m, NULL) IS NULL AS unknown
FROM unnest(ARRAY['claude-haiku', 'claude-3-haiku-20240307', 'made-up-model',
                  'claude-opus-' || repeat('x', 200)]) m
ORDER BY m;
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok) VALUES ('made-up-model', 1, 2);
SELECT (train_data.engine_model_price('made-up-model', NULL)).model_id,
       train_data.price_cost(train_data.engine_model_price('made-up-model', NULL), 1000, 2000) AS cost,
       train_data.model_cost('made-up-model', 1000, 2000) AS model_cost;
DELETE FROM train_data.model_prices WHERE model_id = 'made-up-model';
SELECT train_data.engine_model_price('made-up-model', NULL) IS NULL AS unknown_again;
-- A call's price is kept by the pair of names, the answered and the asked
-- (either may be NULL): an exact row of the model asked for comes before
-- the family of the one that answered, and the same answered name with
-- another model asked for, or none, is another entry.
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok) VALUES ('claude-haiku-4-5', 1, 5);
SELECT a, q, (train_data.engine_model_price(a, q)).model_id AS copy,
       (train_data.model_price(a, q)).model_id AS read
FROM (VALUES ('claude-haiku-4-5-20251001', 'claude-haiku-4-5'), ('claude-haiku-4-5-20251001', NULL),
             (NULL, 'claude-haiku-4-5'), ('claude-haiku-4-5-20251001', 'claude-3-haiku-20240307'),
             ('claude-haiku-4-5', 'claude-haiku-4-5-20251001'), (NULL, NULL), ('gpt-x', 'claude-haiku-4-5')) v(a, q)
ORDER BY a NULLS LAST, q NULLS LAST;
SELECT (train_data.engine_model_price('claude-haiku-4-5-20251001', 'claude-haiku-4-5')).model_id AS from_the_copy,
       (train_data.engine_model_price('claude-haiku-4-5-20251001', NULL)).model_id AS family;
DELETE FROM train_data.model_prices WHERE model_id = 'claude-haiku-4-5';
SELECT (train_data.engine_model_price('claude-haiku-4-5-20251001', 'claude-haiku-4-5')).model_id AS after_delete;

-- Bounded: 5,000 made-up model names (a worker controls the name in each
-- response) leave the copy of prices under 1,024 entries.
SELECT count(*) AS unknown_models
FROM generate_series(1, 5000) g
WHERE train_data.engine_model_price('made-up-model-' || g || repeat('x', 80), NULL) IS NULL;
SELECT count(*) FILTER (WHERE name = 'train_data engine cache') AS caches, sum(total_bytes) < 400 * 1024 AS bounded
FROM pg_backend_memory_contexts WHERE name LIKE 'train_data engine cache%';

-- model_prices can take a column (price_cost() does not pin its row type):
-- the copy has it from the change on, and loses it when the change is
-- rolled back.
BEGIN;
SELECT (train_data.engine_model_price('claude-sonnet', NULL)).model_id;
ALTER TABLE train_data.model_prices ADD COLUMN note text DEFAULT 'noted';
SELECT (train_data.engine_model_price('claude-sonnet', NULL)).note;
ROLLBACK;
SELECT train_data.engine_model_price('claude-sonnet', NULL) IS NOT DISTINCT FROM train_data.model_price('claude-sonnet') AS same;

-- A configuration read of a change that then rolls back is not kept: the
-- change and a claim in one statement (a role granted both could write
-- it), the claim reading the change before the statement's trigger queues
-- the invalidation, then the statement fails.  The rollback sends no
-- invalidation, so the session's copy (empty before: a change was just
-- committed) would keep the model that never was; the next claim of Bob's
-- has his committed model.
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by) VALUES
    ('ec000000-0000-0000-0000-0000000000b2', 'bob job 2', 2, 2, :bob);
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters)
SELECT 'ec000000-0000-0000-0000-0000000000b2', 'ec000000-0000-0000-0000-000000000001', g, 'template',
       jsonb_build_object('persona', 'Q' || g)
FROM generate_series(1, 2) g;
UPDATE train_data.ai_configurations SET configuration = configuration  -- committed: the copies are emptied
WHERE user_id = :bob;
SELECT expect_error($$
    WITH u AS (UPDATE train_data.ai_configurations SET configuration = configuration || '{"model": "claude-3-5-haiku-20241022"}'
               WHERE user_id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb' RETURNING 1)
    SELECT 1 / (count(*) - count(*)) FROM train_data.claim_batch_items('w', 1 + 0 * (SELECT count(*) FROM u)::integer) c$$);
SELECT c.batch_job_id, c.request ->> 'model' AS model FROM train_data.claim_batch_items('w', 1) c;
-- (expect_error ran that statement in a subtransaction, which rolled back;
-- now the same statement on its own: its transaction rolls back)
UPDATE train_data.ai_configurations SET configuration = configuration WHERE user_id = :bob;
WITH u AS (UPDATE train_data.ai_configurations SET configuration = configuration || '{"model": "claude-3-5-haiku-20241022"}'
           WHERE user_id = :bob RETURNING 1)
SELECT 1 / (count(*) - count(*)) FROM train_data.claim_batch_items('w', 1 + 0 * (SELECT count(*) FROM u)::integer) c;
SELECT c.batch_job_id, c.request ->> 'model' AS model FROM train_data.claim_batch_items('w', 1) c;

-- A function created or dropped elsewhere leaves the copies: any role,
-- one without grants too, emptied every worker's by creating a function
-- in pg_temp (a review, thirty-eighth session).  A change of one of
-- train_data's functions empties them.  (model_price() runs only when the
-- price is read, not taken from the copy.)
SET track_functions = 'all';
BEGIN;
SELECT (train_data.engine_model_price('claude-3-5-haiku-20241022', NULL)).model_id AS read;
CREATE FUNCTION pg_temp.unrelated() RETURNS integer LANGUAGE sql AS 'SELECT 1';
DROP FUNCTION pg_temp.unrelated();
SELECT (train_data.engine_model_price('claude-3-5-haiku-20241022', NULL)).model_id AS from_the_copy;
SELECT calls AS model_price_calls FROM pg_stat_xact_user_functions WHERE schemaname = 'train_data' AND funcname = 'model_price';
ALTER FUNCTION train_data.model_price(text) COST 101;
SELECT (train_data.engine_model_price('claude-3-5-haiku-20241022', NULL)).model_id AS read_again;
SELECT calls AS model_price_calls FROM pg_stat_xact_user_functions WHERE schemaname = 'train_data' AND funcname = 'model_price';
ROLLBACK;
RESET track_functions;

-- Only the engine reads the copies: a tenant cannot call it.
SET ROLE regress_alice;
SELECT expect_error($$SELECT train_data.engine_model_price('claude-haiku', NULL)$$);
RESET ROLE;

-- clean up
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.ai_configuration_audit;
DELETE FROM train_data.ai_configurations;
DELETE FROM train_data.templates;
