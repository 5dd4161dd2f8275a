-- constraints: each constraint refuses its bad row, with the right SQLSTATE,
-- and nothing is written.  Runs as the table owner, so RLS does not interfere.

SET train_data.user_id = 'aaaaaaaa-0000-0000-0000-000000000001';

-- A valid row in each table, for the bad rows to reference.
INSERT INTO train_data.templates (id, name, category, structure)
VALUES ('10000000-0000-0000-0000-000000000001', 'constraints template', 'finance', 'Talk about {{topic}} please');
INSERT INTO train_data.scenarios (id, name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc)
VALUES ('20000000-0000-0000-0000-000000000001', 'scenario', '10000000-0000-0000-0000-000000000001', 'constraints template',
        'context', 'topic', 'persona', 'arc');
INSERT INTO train_data.conversations (id, title, persona, emotion, tier)
VALUES ('30000000-0000-0000-0000-000000000001', 'title', 'persona', 'calm', 'template');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('30000000-0000-0000-0000-000000000001', 1, 'user', 'hello');
INSERT INTO train_data.batch_jobs (id, name, total_items) VALUES ('40000000-0000-0000-0000-000000000001', 'job', 2);
INSERT INTO train_data.ai_configurations (id, config_name, configuration)
VALUES ('50000000-0000-0000-0000-000000000001', 'cfg', '{}');

CREATE TEMP TABLE counts_before AS
SELECT c.relname, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM train_data.%I', c.relname), false, true, '')))[1]::text::int AS n
FROM pg_class c WHERE c.relnamespace = 'train_data'::regnamespace AND c.relkind = 'r';

-- ENUM labels
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, status) VALUES ('t', 'p', 'e', 'template', 'bogus')$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier) VALUES ('t', 'p', 'e', 'tier4')$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, status) VALUES ('j', 1, 'running')$$);
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, position, tier, status) VALUES ('40000000-0000-0000-0000-000000000001', 1, 'template', 'skipped')$$);

-- conversations
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, quality_score) VALUES ('t', 'p', 'e', 'template', 10.1)$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, quality_score) VALUES ('t', 'p', 'e', 'template', -0.1)$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, quality_score) VALUES ('t', 'p', 'e', 'template', 100)$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, turn_count) VALUES ('t', 'p', 'e', 'template', -1)$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, total_tokens) VALUES ('t', 'p', 'e', 'template', -1)$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, actual_cost_usd) VALUES ('t', 'p', 'e', 'template', -0.01)$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, generation_duration_ms) VALUES ('t', 'p', 'e', 'template', -5)$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, review_history) VALUES ('t', 'p', 'e', 'template', '{}')$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, parameters) VALUES ('t', 'p', 'e', 'template', '[]')$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, quality_metrics) VALUES ('t', 'p', 'e', 'template', '"x"')$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, parent_id, parent_type) VALUES ('t', 'p', 'e', 'template', gen_random_uuid(), 'document')$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, parent_id) VALUES ('t', 'p', 'e', 'template', gen_random_uuid())$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, approved_at) VALUES ('t', 'p', 'e', 'template', now())$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, conversation_id) SELECT 't', 'p', 'e', 'template', conversation_id FROM train_data.conversations$$);
SELECT expect_error($$INSERT INTO train_data.conversations (persona, emotion, tier) VALUES ('p', 'e', 'template')$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, emotion, tier) VALUES ('t', 'e', 'template')$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, created_by) VALUES ('t', 'p', 'e', 'template', NULL)$$);

-- conversation_turns
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content) VALUES ('30000000-0000-0000-0000-000000000001', 2, 'bot', 'x')$$);
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content) VALUES ('30000000-0000-0000-0000-000000000001', 0, 'user', 'x')$$);
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content) VALUES ('30000000-0000-0000-0000-000000000001', 1, 'assistant', 'again')$$);
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content, token_count) VALUES ('30000000-0000-0000-0000-000000000001', 2, 'assistant', 'x', -1)$$);
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content) VALUES ('30000000-0000-0000-0000-00000000dead', 1, 'user', 'x')$$);
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role) VALUES ('30000000-0000-0000-0000-000000000001', 2, 'user')$$);

-- batch_jobs
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, completed_items) VALUES ('j', 5, -1)$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, failed_items) VALUES ('j', 5, -1)$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items) VALUES ('j', -1)$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, completed_items, failed_items) VALUES ('j', 5, 3, 3)$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, completed_items, failed_items, cancelled_items) VALUES ('j', 5, 2, 2, 2)$$);
SELECT expect_error($$UPDATE train_data.batch_jobs SET completed_items = completed_items + 3 WHERE id = '40000000-0000-0000-0000-000000000001'$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, successful_items) VALUES ('j', 5, 1)$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, concurrent_processing) VALUES ('j', 5, 11)$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, concurrent_processing) VALUES ('j', 5, 0)$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, error_handling) VALUES ('j', 5, 'abort')$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, priority) VALUES ('j', 5, 'urgent')$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items) VALUES ('   ', 5)$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, shared_parameters) VALUES ('j', 5, '[1]')$$);

-- batch_items
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, position, tier) VALUES ('40000000-0000-0000-0000-000000000001', 0, 'template')$$);
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, position, tier) VALUES ('40000000-0000-0000-0000-000000000001', 1, 'template'), ('40000000-0000-0000-0000-000000000001', 1, 'scenario')$$);
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, position, tier, progress) VALUES ('40000000-0000-0000-0000-000000000001', 1, 'template', 100.5)$$);
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, position, tier, parameters) VALUES ('40000000-0000-0000-0000-000000000001', 1, 'template', '"persona"')$$);
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, position, tier, attempts) VALUES ('40000000-0000-0000-0000-000000000001', 1, 'template', -1)$$);
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, position, tier, max_attempts) VALUES ('40000000-0000-0000-0000-000000000001', 1, 'template', 0)$$);
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, position, tier) VALUES ('40000000-0000-0000-0000-00000000dead', 1, 'template')$$);

-- templates
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure, variables) VALUES ('t2', 'c', 'long enough structure', '{"name": "x"}')$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure) VALUES ('constraints template', 'c', 'long enough structure')$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure) VALUES ('', 'c', 'long enough structure')$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure) VALUES (repeat('n', 201), 'c', 'long enough structure')$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure) VALUES ('t2', '', 'long enough structure')$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure) VALUES ('t2', 'c', 'too short')$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure) VALUES ('t2', 'c', repeat('s', 10001))$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure, quality_threshold) VALUES ('t2', 'c', 'long enough structure', 10.5)$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure, complexity_baseline) VALUES ('t2', 'c', 'long enough structure', 11)$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure, rating) VALUES ('t2', 'c', 'long enough structure', 5.5)$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure, usage_count) VALUES ('t2', 'c', 'long enough structure', -1)$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure, tone) VALUES ('t2', 'c', 'long enough structure', repeat('t', 51))$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure, version) VALUES ('t2', 'c', 'long enough structure', 0)$$);
SELECT expect_error($$DELETE FROM train_data.templates WHERE id = '10000000-0000-0000-0000-000000000001'$$);

-- scenarios and edge cases
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc) VALUES ('s', '10000000-0000-0000-0000-00000000dead', 'x', 'c', 't', 'p', 'a')$$);
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc, status) VALUES ('s', '10000000-0000-0000-0000-000000000001', 'x', 'c', 't', 'p', 'a', 'live')$$);
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc, generation_status) VALUES ('s', '10000000-0000-0000-0000-000000000001', 'x', 'c', 't', 'p', 'a', 'pending')$$);
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc, parameter_values) VALUES ('s', '10000000-0000-0000-0000-000000000001', 'x', 'c', 't', 'p', 'a', '[]')$$);
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc) VALUES ('s', '10000000-0000-0000-0000-000000000001', 'x', '', 't', 'p', 'a')$$);
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc) VALUES ('s', '10000000-0000-0000-0000-000000000001', 'x', 'c', repeat('t', 101), 'p', 'a')$$);
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc, quality_score) VALUES ('s', '10000000-0000-0000-0000-000000000001', 'x', 'c', 't', 'p', 'a', 11)$$);
SELECT expect_error($$INSERT INTO train_data.edge_cases (title, description, parent_scenario_id, parent_scenario_name, edge_case_type) VALUES ('e', 'd', '20000000-0000-0000-0000-000000000001', 's', 'typo')$$);
SELECT expect_error($$INSERT INTO train_data.edge_cases (title, description, parent_scenario_id, parent_scenario_name, edge_case_type, complexity) VALUES ('e', 'd', '20000000-0000-0000-0000-000000000001', 's', 'boundary_value', 0)$$);
SELECT expect_error($$INSERT INTO train_data.edge_cases (title, description, parent_scenario_id, parent_scenario_name, edge_case_type, test_status) VALUES ('e', 'd', '20000000-0000-0000-0000-000000000001', 's', 'boundary_value', 'skipped')$$);
SELECT expect_error($$INSERT INTO train_data.edge_cases (title, description, parent_scenario_id, parent_scenario_name, edge_case_type, test_results) VALUES ('e', 'd', '20000000-0000-0000-0000-000000000001', 's', 'boundary_value', '[true]')$$);
SELECT expect_error($$INSERT INTO train_data.edge_cases (title, description, parent_scenario_id, parent_scenario_name, edge_case_type) VALUES ('e', 'd', '20000000-0000-0000-0000-00000000dead', 's', 'boundary_value')$$);

-- template_analytics
SELECT expect_error($$INSERT INTO train_data.template_analytics (template_id, period_start, period_end) VALUES ('10000000-0000-0000-0000-000000000001', '2025-02-01', '2025-01-01')$$);
SELECT expect_error($$INSERT INTO train_data.template_analytics (template_id, period_start, period_end, avg_quality_score) VALUES ('10000000-0000-0000-0000-000000000001', '2025-01-01', '2025-02-01', 10.5)$$);
SELECT expect_error($$INSERT INTO train_data.template_analytics (template_id, period_start, period_end, approval_rate) VALUES ('10000000-0000-0000-0000-000000000001', '2025-01-01', '2025-02-01', 100.01)$$);
SELECT expect_error($$INSERT INTO train_data.template_analytics (template_id, period_start, period_end, failure_count) VALUES ('10000000-0000-0000-0000-000000000001', '2025-01-01', '2025-02-01', -1)$$);

-- generation_logs and model_prices
SELECT expect_error($$INSERT INTO train_data.generation_logs (request_payload, status) VALUES ('{}', 'pending')$$);
SELECT expect_error($$INSERT INTO train_data.generation_logs (request_payload, input_tokens) VALUES ('{}', -1)$$);
SELECT expect_error($$INSERT INTO train_data.generation_logs (request_payload, cost_usd) VALUES ('{}', -1)$$);
SELECT expect_error($$INSERT INTO train_data.generation_logs (request_payload, temperature) VALUES ('{}', 1.5)$$);
SELECT expect_error($$INSERT INTO train_data.generation_logs (request_payload) VALUES (NULL)$$);
SELECT expect_error($$INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok) VALUES ('m', -1, 1)$$);
SELECT expect_error($$INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok) VALUES ('claude-sonnet', 1, 1)$$);
SELECT expect_error($$UPDATE train_data.model_prices SET input_usd_per_mtok = 1 WHERE model_id = 'claude-sonnet'$$);
SELECT expect_error($$DELETE FROM train_data.model_prices WHERE model_id = 'claude-opus'$$);

-- exports, preferences, configurations, audit trails
SELECT expect_error($$INSERT INTO train_data.export_logs (format, config, conversation_count) VALUES ('xml', '{}', 1)$$);
SELECT expect_error($$INSERT INTO train_data.export_logs (format, config, conversation_count, status) VALUES ('jsonl', '{}', 1, 'done')$$);
SELECT expect_error($$INSERT INTO train_data.export_logs (format, config, conversation_count) VALUES ('jsonl', '{}', -1)$$);
SELECT expect_error($$INSERT INTO train_data.export_logs (format, config, conversation_count) VALUES ('jsonl', '[]', 1)$$);
SELECT expect_error($$INSERT INTO train_data.user_preferences (preferences) VALUES ('[]')$$);
SELECT expect_error($$INSERT INTO train_data.user_preferences (preferences) VALUES ('{}'), ('{}')$$);
SELECT expect_error($$INSERT INTO train_data.ai_configurations (config_name, configuration, organization_id) VALUES ('both', '{}', gen_random_uuid())$$);
SELECT expect_error($$INSERT INTO train_data.ai_configurations (config_name, configuration, user_id) VALUES ('neither', '{}', NULL)$$);
SELECT expect_error($$INSERT INTO train_data.ai_configurations (config_name, configuration) VALUES ('cfg', '{}')$$);
SELECT expect_error($$INSERT INTO train_data.ai_configurations (config_name, configuration) VALUES ('other', '"x"')$$);
-- a name past 200 characters names the constraint (before: the unique
-- key's index refused it, 54000 "index row size ... exceeds")
SELECT expect_error($$INSERT INTO train_data.ai_configurations (config_name, configuration) VALUES (repeat('n', 201), '{}')$$);
SELECT expect_error($$INSERT INTO train_data.ai_configurations (config_name, configuration) VALUES (repeat('n', 3200), '{}')$$);
SELECT expect_error($$INSERT INTO train_data.ai_configuration_audit (action) VALUES ('TRUNCATE')$$);
SELECT expect_error($$INSERT INTO train_data.configuration_audit_log (config_type) VALUES ('theme')$$);

-- Nothing was written by any of the refused statements.
SELECT c.relname, b.n AS before,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM train_data.%I', c.relname), false, true, '')))[1]::text::int AS after
FROM pg_class c JOIN counts_before b USING (relname)
WHERE c.relnamespace = 'train_data'::regnamespace AND c.relkind = 'r'
ORDER BY 1;

-- The CHECK constraints of the extension's tables are kept parsed per
-- session (check_cache.c): a constraint added, replaced or dropped counts
-- from the next statement on, also in a session that has already written
-- the table, and also inside a PL/pgSQL function whose INSERT plan is cached.
CREATE FUNCTION pg_temp.add_titled(t text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    INSERT INTO train_data.conversations (title, persona, emotion, tier) VALUES (t, 'p', 'e', 'template');
    RETURN 'stored ' || t;
END $f$;
BEGIN;
SELECT pg_temp.add_titled('first');
ALTER TABLE train_data.conversations ADD CONSTRAINT conversations_title_probe CHECK (title <> 'forbidden');
SELECT expect_error($$SELECT pg_temp.add_titled('forbidden')$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier) VALUES ('forbidden', 'p', 'e', 'template')$$);
SELECT pg_temp.add_titled('other');
ALTER TABLE train_data.conversations DROP CONSTRAINT conversations_title_probe;
ALTER TABLE train_data.conversations ADD CONSTRAINT conversations_title_probe CHECK (title <> 'blocked');
SELECT pg_temp.add_titled('forbidden');
SELECT expect_error($$SELECT pg_temp.add_titled('blocked')$$);
ALTER TABLE train_data.conversations DROP CONSTRAINT conversations_title_probe;
SELECT pg_temp.add_titled('blocked');
-- a constraint calling a SQL function (inlined when planned): a replaced
-- definition counts at once, though the constraint's text did not change
CREATE FUNCTION public.title_allowed(t text) RETURNS boolean LANGUAGE sql IMMUTABLE RETURN t <> 'first ban';
ALTER TABLE train_data.conversations ADD CONSTRAINT conversations_title_probe CHECK (public.title_allowed(title));
SELECT expect_error($$SELECT pg_temp.add_titled('first ban')$$);
SELECT pg_temp.add_titled('second ban');
CREATE OR REPLACE FUNCTION public.title_allowed(t text) RETURNS boolean LANGUAGE sql IMMUTABLE RETURN t <> 'second ban';
SELECT pg_temp.add_titled('first ban');
SELECT expect_error($$SELECT pg_temp.add_titled('second ban')$$);
SELECT expect_error($$UPDATE train_data.conversations SET quality_score = 11 WHERE title = 'other'$$);
-- a constraint casting to a domain: a check added to the domain later
-- counts at once (planning drops the cast while the domain has none)
ALTER TABLE train_data.conversations DROP CONSTRAINT conversations_title_probe;
CREATE DOMAIN public.probe_title AS text;
ALTER TABLE train_data.conversations ADD CONSTRAINT conversations_title_probe CHECK ((title)::public.probe_title IS NOT NULL);
SELECT pg_temp.add_titled('domain ban');
ALTER DOMAIN public.probe_title ADD CONSTRAINT probe_title_allowed CHECK (VALUE <> 'domain ban');
SELECT expect_error($$SELECT pg_temp.add_titled('domain ban')$$);
SELECT pg_temp.add_titled('domain ok');
-- a constraint converting through text is planned per statement: the
-- session's settings at each statement decide, as without the cache
ALTER TABLE train_data.conversations DROP CONSTRAINT conversations_title_probe;
ALTER TABLE train_data.conversations ADD CONSTRAINT conversations_title_probe
    CHECK (title <> (0.1::float8 OPERATOR(pg_catalog.+) 0.2::float8)::text);
SET LOCAL extra_float_digits = 0;
SELECT pg_temp.add_titled('float first');
SELECT expect_error($$SELECT pg_temp.add_titled('0.3')$$);
SET LOCAL extra_float_digits = 1;
SELECT pg_temp.add_titled('0.3');
SELECT expect_error($$SELECT pg_temp.add_titled('0.30000000000000004')$$);
-- a built-in SQL function is planned per statement too: inlined only for a
-- role allowed to run it, so a role without EXECUTE is refused as it is
-- without the cache, after the owner's statements
ALTER TABLE train_data.conversations DROP CONSTRAINT conversations_title_probe;
ALTER TABLE train_data.conversations ADD CONSTRAINT conversations_title_probe
    CHECK (pg_catalog.lpad(title, 3) <> 'bad');
REVOKE EXECUTE ON FUNCTION pg_catalog.lpad(text, integer) FROM PUBLIC;
SELECT pg_temp.add_titled('lpad first');
SET LOCAL ROLE regress_app;
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier) VALUES ('lpad app', 'p', 'e', 'template')$$);
RESET ROLE;
ROLLBACK;

-- Trigger WHEN clauses are kept parsed too: a trigger added, replaced or
-- dropped counts from the next statement, in a session that has already
-- written the table, through the cached INSERT plan; each trigger keeps its
-- own clause (two on the table at once), OLD and NEW stay apart, and a
-- clause calling a SQL function sees a replaced definition at once.
CREATE FUNCTION public.refuse_row() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    RAISE EXCEPTION 'refused by %: %', TG_NAME, NEW.title;
END $f$;
BEGIN;
SELECT pg_temp.add_titled('w first');
CREATE TRIGGER conversations_when_probe BEFORE INSERT ON train_data.conversations
    FOR EACH ROW WHEN (NEW.title = 'w forbidden') EXECUTE FUNCTION public.refuse_row();
SELECT expect_error($$SELECT pg_temp.add_titled('w forbidden')$$);
SELECT pg_temp.add_titled('w other');
CREATE TRIGGER conversations_when_probe_2 BEFORE INSERT ON train_data.conversations
    FOR EACH ROW WHEN (NEW.title = 'w second') EXECUTE FUNCTION public.refuse_row();
SELECT expect_error($$SELECT pg_temp.add_titled('w forbidden')$$);
SELECT expect_error($$SELECT pg_temp.add_titled('w second')$$);
DROP TRIGGER conversations_when_probe ON train_data.conversations;
SELECT pg_temp.add_titled('w forbidden');
SELECT expect_error($$SELECT pg_temp.add_titled('w second')$$);
DROP TRIGGER conversations_when_probe_2 ON train_data.conversations;
SELECT pg_temp.add_titled('w second');
CREATE TRIGGER conversations_when_update_probe BEFORE UPDATE ON train_data.conversations
    FOR EACH ROW WHEN (OLD.title = 'w other' AND NEW.title <> OLD.title) EXECUTE FUNCTION public.refuse_row();
SELECT expect_error($$UPDATE train_data.conversations SET title = 'w renamed' WHERE title = 'w other'$$);
UPDATE train_data.conversations SET title = 'w renamed' WHERE title = 'w first';
CREATE FUNCTION public.title_refused(t text) RETURNS boolean LANGUAGE sql IMMUTABLE RETURN t = 'w first ban';
CREATE TRIGGER conversations_when_probe BEFORE INSERT ON train_data.conversations
    FOR EACH ROW WHEN (public.title_refused(NEW.title)) EXECUTE FUNCTION public.refuse_row();
SELECT expect_error($$SELECT pg_temp.add_titled('w first ban')$$);
SELECT pg_temp.add_titled('w second ban');
CREATE OR REPLACE FUNCTION public.title_refused(t text) RETURNS boolean LANGUAGE sql IMMUTABLE RETURN t = 'w second ban';
SELECT pg_temp.add_titled('w first ban');
SELECT expect_error($$SELECT pg_temp.add_titled('w second ban')$$);
SELECT title FROM train_data.conversations WHERE title LIKE 'w %' ORDER BY title;
-- only the triggers a statement fires have their WHEN prepared: a DELETE
-- trigger whose condition would fail, an UPDATE OF trigger whose columns
-- the UPDATE leaves, and a disabled trigger calling a function the role
-- may not run are left alone, as without the cache
CREATE TRIGGER conversations_when_delete_probe AFTER DELETE ON train_data.conversations
    FOR EACH ROW WHEN (OLD.title = '1x'::text::integer::text) EXECUTE FUNCTION public.refuse_row();
SELECT pg_temp.add_titled('w after delete trigger');
UPDATE train_data.conversations SET persona = 'q' WHERE title = 'w after delete trigger';
CREATE FUNCTION public.persona_refused(p text) RETURNS boolean LANGUAGE plpgsql AS $f$ BEGIN RETURN p = 'bad'; END $f$;
REVOKE EXECUTE ON FUNCTION public.persona_refused(text) FROM PUBLIC;
CREATE TRIGGER conversations_when_columns_probe BEFORE UPDATE OF persona ON train_data.conversations
    FOR EACH ROW WHEN (public.persona_refused(NEW.persona)) EXECUTE FUNCTION public.refuse_row();
CREATE TRIGGER conversations_when_disabled_probe BEFORE UPDATE ON train_data.conversations
    FOR EACH ROW WHEN (public.persona_refused(NEW.persona)) EXECUTE FUNCTION public.refuse_row();
ALTER TABLE train_data.conversations DISABLE TRIGGER conversations_when_disabled_probe;
SET LOCAL ROLE regress_app;
UPDATE train_data.conversations SET title = 'w updated by the app' WHERE title = 'w after delete trigger';
SELECT expect_error($$UPDATE train_data.conversations SET persona = 'bad' WHERE title = 'w updated by the app'$$);
RESET ROLE;
-- an INSERT with ON CONFLICT DO UPDATE evaluates an UPDATE trigger's
-- condition on the conflicting row (false for the same signature, true
-- for another)
CREATE FUNCTION public.refuse_any() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    RAISE EXCEPTION 'refused by %', TG_NAME;
END $f$;
CREATE TRIGGER signatures_when_probe BEFORE UPDATE ON train_data.conversation_signatures
    FOR EACH ROW WHEN (NEW.signature IS DISTINCT FROM OLD.signature) EXECUTE FUNCTION public.refuse_any();
CREATE FUNCTION pg_temp.upsert_signature(t text) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
    INSERT INTO train_data.conversation_signatures AS s (conversation_id, created_by, signature, bands)
    SELECT c.id, c.created_by, train_data.minhash_signature(t), train_data.minhash_bands(train_data.minhash_signature(t))
    FROM train_data.conversations c WHERE c.title = 'w renamed'
    ON CONFLICT (conversation_id) DO UPDATE SET signature = excluded.signature, bands = excluded.bands;
    RETURN 'upserted ' || t;
END $f$;
SELECT pg_temp.upsert_signature('one two three four five');
SELECT pg_temp.upsert_signature('one two three four five');
SELECT expect_error($$SELECT pg_temp.upsert_signature('six seven eight nine ten')$$);
ROLLBACK;
DROP FUNCTION public.refuse_row();

-- Without a user id, a row whose owner defaults to it is refused.
RESET train_data.user_id;
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items) VALUES ('anonymous', 1)$$);

-- Clean up (children first).
DELETE FROM train_data.scenarios;
DELETE FROM train_data.templates;
DELETE FROM train_data.conversations;
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.ai_configurations;
