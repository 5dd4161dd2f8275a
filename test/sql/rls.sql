-- rls: two login roles that are not table owners (regress_alice, regress_bob,
-- acting for users alice and bob) on every table: each sees only what the
-- policies allow, and reading, changing, deleting or adding the other's rows
-- is invisible or refused.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''

-- Fixture, written by the owner (who bypasses RLS): one row per user in
-- every table, labelled with the owner's name.
INSERT INTO train_data.templates (id, name, category, structure, created_by) VALUES
    ('a1000000-0000-0000-0000-000000000000', 'alice template', 'c', 'alice structure text', :alice),
    ('b1000000-0000-0000-0000-000000000000', 'bob template', 'c', 'bob structure text', :bob);
INSERT INTO train_data.scenarios (id, name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc, created_by) VALUES
    ('a2000000-0000-0000-0000-000000000000', 'alice scenario', 'a1000000-0000-0000-0000-000000000000', 'alice template', 'c', 't', 'p', 'a', :alice),
    ('b2000000-0000-0000-0000-000000000000', 'bob scenario', 'b1000000-0000-0000-0000-000000000000', 'bob template', 'c', 't', 'p', 'a', :bob);
INSERT INTO train_data.edge_cases (title, description, parent_scenario_id, parent_scenario_name, edge_case_type, created_by) VALUES
    ('alice edge case', 'd', 'a2000000-0000-0000-0000-000000000000', 'alice scenario', 'boundary_value', :alice),
    ('bob edge case', 'd', 'b2000000-0000-0000-0000-000000000000', 'bob scenario', 'boundary_value', :bob);
INSERT INTO train_data.template_analytics (template_id, period_start, period_end, generation_count) VALUES
    ('a1000000-0000-0000-0000-000000000000', '2025-01-01', '2025-02-01', 1),
    ('b1000000-0000-0000-0000-000000000000', '2025-01-01', '2025-02-01', 2);
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, created_by, approved_by, approved_at) VALUES
    ('a3000000-0000-0000-0000-000000000000', 'alice_1', 'alice conversation', 'p', 'e', 'template', :alice, NULL, NULL),
    ('b3000000-0000-0000-0000-000000000000', 'bob_1', 'bob conversation', 'p', 'e', 'template', :bob, NULL, NULL),
    ('b3000000-0000-0000-0000-000000000001', 'bob_2', 'bob conversation approved by bob', 'p', 'e', 'template', :bob, :bob, now());
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, n, CASE n WHEN 1 THEN 'user' ELSE 'assistant' END, c.title || ' turn ' || n
FROM train_data.conversations c, generate_series(1, 2) n;
INSERT INTO train_data.batch_jobs (id, name, total_items, created_by) VALUES
    ('a4000000-0000-0000-0000-000000000000', 'alice job', 1, :alice),
    ('b4000000-0000-0000-0000-000000000000', 'bob job', 1, :bob);
INSERT INTO train_data.batch_items (batch_job_id, position, tier, topic) VALUES
    ('a4000000-0000-0000-0000-000000000000', 1, 'template', 'alice item'),
    ('b4000000-0000-0000-0000-000000000000', 1, 'template', 'bob item');
INSERT INTO train_data.batch_job_counters (batch_job_id, shard) VALUES
    ('a4000000-0000-0000-0000-000000000000', 0), ('b4000000-0000-0000-0000-000000000000', 0);
INSERT INTO train_data.generation_logs (conversation_id, request_payload, model_used, created_by) VALUES
    ('a3000000-0000-0000-0000-000000000000', '{}', 'alice log', :alice),
    ('b3000000-0000-0000-0000-000000000000', '{}', 'bob log', :bob),
    ('b3000000-0000-0000-0000-000000000001', '{}', 'bob log of approved', :bob),
    (NULL, '{}', 'alice failure log', :alice),
    (NULL, '{}', 'bob failure log', :bob);
INSERT INTO train_data.export_logs (user_id, format, config, conversation_count, file_url) VALUES
    (:alice, 'jsonl', '{}', 1, 'alice export'),
    (:bob, 'jsonl', '{}', 1, 'bob export');
INSERT INTO train_data.user_preferences (user_id, preferences) VALUES
    (:alice, '{"keyboardShortcuts": {"customBindings": {"owner": "alice preferences"}}}'),
    (:bob, '{"keyboardShortcuts": {"customBindings": {"owner": "bob preferences"}}}');
INSERT INTO train_data.ai_configurations (id, user_id, config_name, configuration, created_by) VALUES
    ('a5000000-0000-0000-0000-000000000000', :alice, 'alice config', '{}', :alice),
    ('b5000000-0000-0000-0000-000000000000', :bob, 'bob config', '{}', :bob);
INSERT INTO train_data.ai_configuration_audit (config_id, user_id, action, new_value, changed_by) VALUES
    ('a5000000-0000-0000-0000-000000000000', :alice, 'INSERT', '{"owner": "alice audit"}', :alice),
    ('b5000000-0000-0000-0000-000000000000', :bob, 'INSERT', '{"owner": "bob audit"}', :bob);
INSERT INTO train_data.configuration_audit_log (user_id, config_type, changed_field, changed_by) VALUES
    (:alice, 'user_preference', 'alice change', :alice),
    (:bob, 'user_preference', 'bob change', :bob);
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok) VALUES
    ('admin-model', 1, 2);

-- What the current role and user see: per table, the labels of the visible rows.
CREATE FUNCTION public.visible() RETURNS TABLE (tbl text, labels text)
    LANGUAGE sql
AS $$
    SELECT 'templates', string_agg(name, ', ' ORDER BY name) FROM train_data.templates
    UNION ALL SELECT 'scenarios', string_agg(name, ', ' ORDER BY name) FROM train_data.scenarios
    UNION ALL SELECT 'edge_cases', string_agg(title, ', ' ORDER BY title) FROM train_data.edge_cases
    UNION ALL SELECT 'template_analytics', string_agg(generation_count::text, ', ' ORDER BY generation_count) FROM train_data.template_analytics
    UNION ALL SELECT 'conversations', string_agg(title, ', ' ORDER BY title) FROM train_data.conversations
    UNION ALL SELECT 'conversation_turns', string_agg(content, ', ' ORDER BY content) FROM train_data.conversation_turns
    UNION ALL SELECT 'batch_jobs', string_agg(name, ', ' ORDER BY name) FROM train_data.batch_jobs
    UNION ALL SELECT 'batch_items', string_agg(topic, ', ' ORDER BY topic) FROM train_data.batch_items
    UNION ALL SELECT 'generation_logs', string_agg(model_used, ', ' ORDER BY model_used) FROM train_data.generation_logs
    UNION ALL SELECT 'export_logs', string_agg(file_url, ', ' ORDER BY file_url) FROM train_data.export_logs
    UNION ALL SELECT 'user_preferences', string_agg(preferences #>> '{keyboardShortcuts,customBindings,owner}', ', ' ORDER BY 1) FROM train_data.user_preferences
    UNION ALL SELECT 'ai_configurations', string_agg(config_name, ', ' ORDER BY config_name) FROM train_data.ai_configurations
    UNION ALL SELECT 'ai_configuration_audit', string_agg(new_value->>'owner', ', ' ORDER BY 1) FROM train_data.ai_configuration_audit
    UNION ALL SELECT 'configuration_audit_log', string_agg(changed_field, ', ' ORDER BY changed_field) FROM train_data.configuration_audit_log
    UNION ALL SELECT 'model_prices', string_agg(model_id, ', ' ORDER BY model_id) FROM train_data.model_prices
$$;

-- The roles are not owners, and RLS is not bypassed for them.
SELECT r.rolname, r.rolsuper, r.rolbypassrls,
       (SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'train_data'::regnamespace AND c.relowner = r.oid) AS owned
FROM pg_roles r WHERE r.rolname IN ('regress_alice', 'regress_bob') ORDER BY 1;

---------------------------------------------------------------------- reading
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT * FROM public.visible();

SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT * FROM public.visible();

-- A role acting for nobody sees only the shared library and prices.
SET ROLE regress_alice;
RESET train_data.user_id;
SELECT * FROM public.visible();

-- The same through the PostgREST / Supabase settings.
SET request.jwt.claims = '{"sub": "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb", "role": "authenticated"}';
SELECT tbl, labels FROM public.visible() WHERE tbl IN ('conversations', 'batch_jobs');
RESET request.jwt.claims;

-- Direct lookups of the other user's rows by id find nothing.
SET train_data.user_id = :alice;
SELECT count(*) AS bob_conversation FROM train_data.conversations WHERE id = 'b3000000-0000-0000-0000-000000000000';
SELECT count(*) AS bob_turns FROM train_data.conversation_turns WHERE conversation_id = 'b3000000-0000-0000-0000-000000000000';
SELECT count(*) AS bob_job FROM train_data.batch_jobs WHERE id = 'b4000000-0000-0000-0000-000000000000';
SELECT count(*) AS bob_items FROM train_data.batch_items WHERE batch_job_id = 'b4000000-0000-0000-0000-000000000000';

---------------------------------------------------- changing the other's rows
-- As alice, every UPDATE and DELETE aimed at bob's rows affects nothing.
UPDATE train_data.templates SET description = 'hacked' WHERE name = 'bob template';
UPDATE train_data.scenarios SET description = 'hacked' WHERE name = 'bob scenario';
UPDATE train_data.edge_cases SET description = 'hacked' WHERE title = 'bob edge case';
UPDATE train_data.template_analytics SET generation_count = 99 WHERE generation_count = 2;
UPDATE train_data.conversations SET title = 'hacked' WHERE title = 'bob conversation';
UPDATE train_data.conversation_turns SET content = 'hacked' WHERE content LIKE 'bob conversation turn%';
UPDATE train_data.batch_jobs SET name = 'hacked' WHERE name = 'bob job';
UPDATE train_data.batch_items SET topic = 'hacked' WHERE topic = 'bob item';
UPDATE train_data.generation_logs SET model_used = 'hacked' WHERE model_used LIKE 'bob%';
UPDATE train_data.export_logs SET file_url = 'hacked' WHERE file_url = 'bob export';
UPDATE train_data.user_preferences SET preferences = '{}' WHERE user_id = :bob;
UPDATE train_data.ai_configurations SET config_name = 'hacked' WHERE config_name = 'bob config';
UPDATE train_data.ai_configuration_audit SET new_value = '{}' WHERE user_id = :bob;
UPDATE train_data.configuration_audit_log SET changed_field = 'hacked' WHERE user_id = :bob;
UPDATE train_data.model_prices SET output_usd_per_mtok = 0;
DELETE FROM train_data.templates WHERE name = 'bob template';
DELETE FROM train_data.scenarios WHERE name = 'bob scenario';
DELETE FROM train_data.edge_cases WHERE title = 'bob edge case';
DELETE FROM train_data.template_analytics WHERE generation_count = 2;
DELETE FROM train_data.conversations WHERE title = 'bob conversation';
DELETE FROM train_data.conversation_turns WHERE content LIKE 'bob conversation turn%';
DELETE FROM train_data.batch_jobs WHERE name = 'bob job';
DELETE FROM train_data.batch_items WHERE topic = 'bob item';
DELETE FROM train_data.generation_logs WHERE model_used LIKE 'bob%';
DELETE FROM train_data.export_logs WHERE file_url = 'bob export';
DELETE FROM train_data.user_preferences WHERE user_id = :bob;
DELETE FROM train_data.ai_configurations WHERE config_name = 'bob config';
DELETE FROM train_data.ai_configuration_audit WHERE user_id = :bob;
DELETE FROM train_data.configuration_audit_log WHERE user_id = :bob;
DELETE FROM train_data.model_prices;

-- Inserting rows owned by bob, or children of bob's rows, is refused.
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure, created_by) VALUES ('forged', 'c', 'forged structure', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')$$);
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc, created_by) VALUES ('forged', 'b1000000-0000-0000-0000-000000000000', 'x', 'c', 't', 'p', 'a', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')$$);
SELECT expect_error($$INSERT INTO train_data.edge_cases (title, description, parent_scenario_id, parent_scenario_name, edge_case_type, created_by) VALUES ('forged', 'd', 'b2000000-0000-0000-0000-000000000000', 's', 'boundary_value', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')$$);
SELECT expect_error($$INSERT INTO train_data.template_analytics (template_id, period_start, period_end) VALUES ('b1000000-0000-0000-0000-000000000000', '2025-03-01', '2025-04-01')$$);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, created_by) VALUES ('forged', 'p', 'e', 'template', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')$$);
SELECT expect_error($$INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, created_by, approved_by) VALUES ('forged_1', 'forged', 'p', 'e', 'template', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$);
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content) VALUES ('b3000000-0000-0000-0000-000000000000', 3, 'user', 'forged')$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, created_by) VALUES ('forged', 1, 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')$$);
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, position, tier, topic) VALUES ('b4000000-0000-0000-0000-000000000000', 2, 'template', 'forged')$$);
SELECT expect_error($$INSERT INTO train_data.generation_logs (request_payload, model_used, created_by) VALUES ('{}', 'forged', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb')$$);
SELECT expect_error($$INSERT INTO train_data.generation_logs (conversation_id, request_payload, model_used) VALUES ('b3000000-0000-0000-0000-000000000000', '{}', 'forged')$$);
SELECT expect_error($$INSERT INTO train_data.export_logs (user_id, format, config, conversation_count) VALUES ('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'jsonl', '{}', 0)$$);
SELECT expect_error($$INSERT INTO train_data.user_preferences (user_id, preferences) VALUES ('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '{}')$$);
SELECT expect_error($$INSERT INTO train_data.ai_configurations (user_id, config_name, configuration) VALUES ('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'forged', '{}')$$);
SELECT expect_error($$INSERT INTO train_data.ai_configuration_audit (config_id, user_id, action) VALUES ('b5000000-0000-0000-0000-000000000000', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'UPDATE')$$);
SELECT expect_error($$INSERT INTO train_data.configuration_audit_log (user_id, config_type) VALUES ('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', 'ai_config')$$);
SELECT expect_error($$INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok) VALUES ('forged', 0, 0)$$);

-- Nor can alice hand her own rows over to bob.
SELECT expect_error($$UPDATE train_data.conversations SET created_by = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb' WHERE title = 'alice conversation'$$);
SELECT expect_error($$UPDATE train_data.batch_jobs SET created_by = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb' WHERE name = 'alice job'$$);
SELECT expect_error($$UPDATE train_data.templates SET created_by = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb' WHERE name = 'alice template'$$);
SELECT expect_error($$UPDATE train_data.export_logs SET user_id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'$$);

-- Her own rows she may change; the conversation she approved too.
UPDATE train_data.conversations SET reviewer_notes = 'fine' WHERE title IN ('alice conversation', 'bob conversation approved by alice');
UPDATE train_data.batch_items SET progress = 10 WHERE topic = 'alice item';
UPDATE train_data.ai_configuration_audit SET new_value = '{}';
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('a3000000-0000-0000-0000-000000000000', 3, 'user', 'alice conversation turn 3');

-- The library is shared for reading, but a scenario goes under a template of
-- her own or one without an owner, an edge case under such a scenario:
-- under bob's, or moved there, it is refused (before the foreign key, which
-- would lock bob's row and keep him from deleting it while hers exists).
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc) VALUES ('alice scenario under bob template', 'b1000000-0000-0000-0000-000000000000', 'x', 'c', 't', 'p', 'a')$$);
SELECT expect_error($$UPDATE train_data.scenarios SET parent_template_id = 'b1000000-0000-0000-0000-000000000000' WHERE name = 'alice scenario'$$);
SELECT expect_error($$INSERT INTO train_data.edge_cases (title, description, parent_scenario_id, parent_scenario_name, edge_case_type) VALUES ('alice edge case under bob scenario', 'd', 'b2000000-0000-0000-0000-000000000000', 's', 'boundary_value')$$);
SELECT expect_error($$UPDATE train_data.edge_cases SET parent_scenario_id = 'b2000000-0000-0000-0000-000000000000' WHERE title = 'alice edge case'$$);
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc) VALUES ('alice scenario under no template', 'f1000000-0000-0000-0000-000000000000', 'x', 'c', 't', 'p', 'a')$$);
RESET ROLE;
INSERT INTO train_data.templates (id, name, category, structure, created_by)
VALUES ('c1000000-0000-0000-0000-000000000000', 'library template', 'c', 'library structure text', NULL);
INSERT INTO train_data.scenarios (id, name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc, created_by)
VALUES ('c2000000-0000-0000-0000-000000000000', 'library scenario', 'c1000000-0000-0000-0000-000000000000', 'x', 'c', 't', 'p', 'a', NULL);
SET ROLE regress_alice;
INSERT INTO train_data.scenarios (id, name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc)
VALUES ('a2000000-0000-0000-0000-000000000001', 'alice scenario under the library', 'c1000000-0000-0000-0000-000000000000', 'x', 'c', 't', 'p', 'a');
INSERT INTO train_data.edge_cases (title, description, parent_scenario_id, parent_scenario_name, edge_case_type)
VALUES ('alice edge case under the library', 'd', 'c2000000-0000-0000-0000-000000000000', 'x', 'boundary_value');
UPDATE train_data.scenarios SET parent_template_id = 'a1000000-0000-0000-0000-000000000000'
WHERE id = 'a2000000-0000-0000-0000-000000000001' RETURNING name, parent_template_name;
SELECT s.name, t.name AS template, s.created_by = :alice AS hers
FROM train_data.scenarios s JOIN train_data.templates t ON t.id = s.parent_template_id
WHERE s.name LIKE 'alice%' OR s.created_by IS NULL ORDER BY s.name;
RESET ROLE;
DELETE FROM train_data.edge_cases WHERE title = 'alice edge case under the library';
DELETE FROM train_data.scenarios WHERE id IN ('a2000000-0000-0000-0000-000000000001', 'c2000000-0000-0000-0000-000000000000');
DELETE FROM train_data.templates WHERE id = 'c1000000-0000-0000-0000-000000000000';
SET ROLE regress_alice;

-- Bob's rows are exactly as they were.
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT * FROM public.visible();
SELECT title, reviewer_notes FROM train_data.conversations ORDER BY title;

-- A role without the application grants cannot even reach the schema.
SET ROLE regress_nobody;
SELECT expect_error($$SELECT count(*) FROM train_data.conversations$$);

-- For every table with an owner column: what Bob can read, change and delete
-- of Alice's rows, and whether he can move a row of his own to her.
RESET ROLE;
CREATE FUNCTION public.policy_matrix(victim uuid, attacker uuid) RETURNS TABLE (tbl text, owner_column text,
    reads integer, updates text, deletes text, moves_own text)
    LANGUAGE plpgsql AS $$
DECLARE
    t record;
    n integer;
BEGIN
    FOR t IN
        SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
        WHERE c.relnamespace = 'train_data'::regnamespace AND c.relkind = 'r'
          AND a.attname IN ('created_by', 'user_id') AND NOT a.attisdropped
          AND NOT (c.relname IN ('ai_configurations') AND a.attname = 'created_by')
        ORDER BY 1
    LOOP
        tbl := t.relname; owner_column := t.attname;
        EXECUTE format('SELECT count(*) FROM train_data.%I WHERE %I = $1', t.relname, t.attname) INTO reads USING victim;
        BEGIN
            EXECUTE format('UPDATE train_data.%I SET %I = %I WHERE %I = $1', t.relname, t.attname, t.attname, t.attname) USING victim;
            GET DIAGNOSTICS n = ROW_COUNT;
            updates := n || ' rows';
        EXCEPTION WHEN OTHERS THEN updates := SQLSTATE;
        END;
        BEGIN
            EXECUTE format('DELETE FROM train_data.%I WHERE %I = $1', t.relname, t.attname) USING victim;
            GET DIAGNOSTICS n = ROW_COUNT;
            deletes := n || ' rows';
            IF n > 0 THEN RAISE EXCEPTION 'rolled back' USING ERRCODE = 'P0001'; END IF;
        EXCEPTION WHEN OTHERS THEN IF deletes IS NULL OR SQLSTATE <> 'P0001' THEN deletes := SQLSTATE; END IF;
        END;
        BEGIN
            EXECUTE format('UPDATE train_data.%I SET %I = $1 WHERE %I = $2', t.relname, t.attname, t.attname)
                USING victim, attacker;
            GET DIAGNOSTICS n = ROW_COUNT;
            moves_own := n || ' rows';
            IF n > 0 THEN RAISE EXCEPTION 'rolled back' USING ERRCODE = 'P0001'; END IF;
        EXCEPTION WHEN OTHERS THEN IF moves_own IS NULL OR SQLSTATE <> 'P0001' THEN moves_own := SQLSTATE; END IF;
        END;
        RETURN NEXT;
        updates := NULL; deletes := NULL; moves_own := NULL;
    END LOOP;
END
$$;
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT * FROM public.policy_matrix(:alice, :bob);
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT * FROM public.policy_matrix(:bob, :alice);

RESET ROLE;
RESET train_data.user_id;

-- Clean up (children first).
DROP FUNCTION public.visible();
DROP FUNCTION public.policy_matrix(uuid, uuid);
DELETE FROM train_data.edge_cases;
DELETE FROM train_data.scenarios;
DELETE FROM train_data.templates;
DELETE FROM train_data.generation_logs;
DELETE FROM train_data.conversations;
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.export_logs;
DELETE FROM train_data.user_preferences;
DELETE FROM train_data.ai_configuration_audit;
DELETE FROM train_data.ai_configurations;
DELETE FROM train_data.configuration_audit_log;
DELETE FROM train_data.model_prices WHERE NOT builtin;
