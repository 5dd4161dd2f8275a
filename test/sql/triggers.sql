-- triggers: updated_at / last_modified move on update; conversation ids are
-- generated, unique and well-formed.

SET train_data.user_id = 'aaaaaaaa-0000-0000-0000-000000000002';

-- One row per table with an updated_at, all stamped in the past.
INSERT INTO train_data.templates (id, name, category, structure, created_at, updated_at, last_modified)
VALUES ('10000000-0000-0000-0000-000000000002', 'triggers template', 'c', 'a long enough structure',
        '2000-01-01', '2000-01-01', '2000-01-01');
INSERT INTO train_data.scenarios (id, name, parent_template_id, parent_template_name, context, topic, persona,
                                  emotional_arc, created_at, updated_at)
VALUES ('20000000-0000-0000-0000-000000000002', 's', '10000000-0000-0000-0000-000000000002', 'x', 'c', 't', 'p', 'a',
        '2000-01-01', '2000-01-01');
INSERT INTO train_data.edge_cases (id, title, description, parent_scenario_id, parent_scenario_name, edge_case_type,
                                   created_at, updated_at)
VALUES ('60000000-0000-0000-0000-000000000002', 'e', 'd', '20000000-0000-0000-0000-000000000002', 's', 'unusual_input',
        '2000-01-01', '2000-01-01');
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, created_at, updated_at)
VALUES ('30000000-0000-0000-0000-000000000002', 't', 'p', 'e', 'template', '2000-01-01', '2000-01-01');
INSERT INTO train_data.batch_jobs (id, name, total_items, created_at, updated_at)
VALUES ('40000000-0000-0000-0000-000000000002', 'j', 1, '2000-01-01', '2000-01-01');
INSERT INTO train_data.batch_items (batch_job_id, position, tier, created_at, updated_at)
VALUES ('40000000-0000-0000-0000-000000000002', 1, 'template', '2000-01-01', '2000-01-01');
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok, created_at, updated_at)
VALUES ('claude-test-model', 1, 2, '2000-01-01', '2000-01-01');
INSERT INTO train_data.export_logs (format, config, conversation_count, created_at, updated_at)
VALUES ('jsonl', '{}', 0, '2000-01-01', '2000-01-01');
INSERT INTO train_data.user_preferences (preferences, created_at, updated_at) VALUES ('{}', '2000-01-01', '2000-01-01');
INSERT INTO train_data.ai_configurations (config_name, configuration, created_at, updated_at)
VALUES ('c', '{}', '2000-01-01', '2000-01-01');

-- Each update sets updated_at to now() and leaves created_at alone.
BEGIN;
UPDATE train_data.templates SET description = 'd' WHERE id = '10000000-0000-0000-0000-000000000002';
UPDATE train_data.scenarios SET description = 'd';
UPDATE train_data.edge_cases SET complexity = 6;
UPDATE train_data.conversations SET topic = 'x';
UPDATE train_data.batch_jobs SET name = 'renamed';
UPDATE train_data.batch_items SET progress = 50;
UPDATE train_data.model_prices SET output_usd_per_mtok = 3 WHERE model_id = 'claude-test-model';
UPDATE train_data.export_logs SET status = 'completed';
UPDATE train_data.user_preferences SET preferences = '{"theme": "dark"}';
UPDATE train_data.ai_configurations SET priority = 1;
SELECT t, updated, last_modified, created_kept FROM (
SELECT 1 AS n, 'templates' AS t, updated_at = now() AS updated, last_modified = now() AS last_modified, created_at = '2000-01-01' AS created_kept FROM train_data.templates
UNION ALL SELECT 2, 'scenarios', updated_at = now(), NULL, created_at = '2000-01-01' FROM train_data.scenarios
UNION ALL SELECT 3, 'edge_cases', updated_at = now(), NULL, created_at = '2000-01-01' FROM train_data.edge_cases
UNION ALL SELECT 4, 'conversations', updated_at = now(), NULL, created_at = '2000-01-01' FROM train_data.conversations
UNION ALL SELECT 5, 'batch_jobs', updated_at = now(), NULL, created_at = '2000-01-01' FROM train_data.batch_jobs
UNION ALL SELECT 6, 'batch_items', updated_at = now(), NULL, created_at = '2000-01-01' FROM train_data.batch_items
UNION ALL SELECT 7, 'model_prices', updated_at = now(), NULL, created_at = '2000-01-01' FROM train_data.model_prices WHERE NOT builtin
UNION ALL SELECT 8, 'export_logs', updated_at = now(), NULL, created_at = '2000-01-01' FROM train_data.export_logs
UNION ALL SELECT 9, 'user_preferences', updated_at = now(), NULL, created_at = '2000-01-01' FROM train_data.user_preferences
UNION ALL SELECT 10, 'ai_configurations', updated_at = now(), NULL, created_at = '2000-01-01' FROM train_data.ai_configurations
) u ORDER BY n;   -- (in this order: a parallel plan returns the branches in any)
-- An explicit updated_at in the UPDATE is overridden too.
UPDATE train_data.conversations SET updated_at = '1999-01-01';
SELECT updated_at = now() AS overridden FROM train_data.conversations;
COMMIT;

-- The trigger function refuses to run outside a trigger, or on a missing column.
SELECT expect_error($$SELECT train_data.touch_timestamps()$$);
CREATE TABLE public.touch_test (id int, stamp timestamptz, label text);
CREATE TRIGGER touch_missing BEFORE UPDATE ON public.touch_test
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('no_such_column');
INSERT INTO public.touch_test VALUES (1, '2000-01-01', 'x');
SELECT expect_error($$UPDATE public.touch_test SET id = 2$$);
DROP TRIGGER touch_missing ON public.touch_test;
CREATE TRIGGER touch_wrong_type BEFORE UPDATE ON public.touch_test
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('label');
SELECT expect_error($$UPDATE public.touch_test SET id = 2$$);
DROP TRIGGER touch_wrong_type ON public.touch_test;
CREATE TRIGGER touch_after AFTER UPDATE ON public.touch_test
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('stamp');
SELECT expect_error($$UPDATE public.touch_test SET id = 2$$);
DROP TABLE public.touch_test;

-- Generated conversation ids: <tier prefix>_<persona slug>_<number, 6+ digits>.
SELECT setval('train_data.conversation_number_seq', 41);
INSERT INTO train_data.conversations (title, persona, emotion, tier) VALUES
    ('a', 'Anxious Investor', 'worried', 'template'),
    ('b', '  First-time Home Buyer!! ', 'hopeful', 'scenario'),
    ('c', 'Überängstlicher Rentner', 'afraid', 'edge_case'),
    ('d', '***', 'calm', 'template'),
    ('e', 'A persona name that is much longer than forty characters in total', 'calm', 'template');
INSERT INTO train_data.conversations (title, persona, emotion, tier, conversation_id)
VALUES ('f', 'Given', 'calm', 'template', 'my_own_id');
SELECT setval('train_data.conversation_number_seq', 999998);
INSERT INTO train_data.conversations (title, persona, emotion, tier) VALUES
    ('g', 'Big Number', 'calm', 'template'), ('h', 'Big Number', 'calm', 'template');
SELECT title, conversation_id FROM train_data.conversations WHERE title <> 't' ORDER BY title;

-- All generated ids are unique and well-formed.
SELECT count(*) AS generated, count(DISTINCT conversation_id) AS distinct_ids,
       bool_and(conversation_id ~ '^(tpl|scn|edge)_[a-z0-9]+(_[a-z0-9]+)*_[0-9]{6,}$') AS well_formed
FROM train_data.conversations WHERE conversation_id <> 'my_own_id';

-- Many at once stay unique.
INSERT INTO train_data.conversations (title, persona, emotion, tier)
SELECT 'bulk', 'Bulk Persona', 'calm', 'scenario' FROM generate_series(1, 1000);
SELECT count(*), count(DISTINCT conversation_id) FROM train_data.conversations WHERE title = 'bulk';

-- The slug is what 1.0's SQL made of the persona (lower, translate of
-- à..ÿ, each run of other characters one "_", 40 characters, "_" trimmed),
-- in the collation the persona comes with: compared on varied personas.
-- (PL/pgSQL, as 1.0's function was: its parameter takes the call's collation)
CREATE FUNCTION pg_temp.sql_slug(p text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN
    RETURN coalesce(nullif(btrim(left(regexp_replace(translate(lower(coalesce(p, '')),
                                                               'àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿ',
                                                               'aaaaaaaceeeeiiiinoooooouuuuyy'),
                                                     '[^a-z0-9]+', '_', 'g'), 40), '_'), ''), 'conversation');
END $f$;
WITH personas(p) AS (
    VALUES ('Anxious Investor'), ('ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞŸ'), ('àáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ'),
           ('Straße Œuvre ĳ Ǆ'), ('Привет Мир'), ('Γειά ΣΟΥ ΚΌΣΜΕ'), ('İstanbul IŞIK'), ('日本語のペルソナ'), ('emoji 😀 persona'),
           ('__under__scores__'), ('a' || repeat(' ', 5000) || 'b'), (repeat('É', 39) || '!x'), (repeat('x', 39) || 'éé'),
           (repeat('Ab1 ', 30)), (''), ('   '), (NULL), ('tab	and
newline'), ('ÉCOLE-Élève  ÇA'), ('0123456789'), (repeat('ÿ', 2000)))
SELECT count(*) AS personas,
       count(*) FILTER (WHERE regexp_replace(train_data.make_conversation_id('template', p), '^tpl_(.*)_[0-9]{6,}$', '\1')
                              = pg_temp.sql_slug(p)) AS same_slug,
       count(*) FILTER (WHERE regexp_replace(train_data.make_conversation_id('template', p COLLATE "C"), '^tpl_(.*)_[0-9]{6,}$', '\1')
                              = pg_temp.sql_slug(p COLLATE "C")) AS same_slug_c_collation
FROM personas;
-- lower() of an ICU collation reads characters in context (Turkish: "I"
-- then U+0307 is "i"): a long persona is lower-cased in pieces that never
-- split such a pair (here at the 1024th character)
SELECT regexp_replace(train_data.make_conversation_id('template', p COLLATE "tr-x-icu"), '^tpl_(.*)_[0-9]{6,}$', '\1') AS tr_slug,
       pg_temp.sql_slug(p COLLATE "tr-x-icu") AS tr_sql_slug
FROM (VALUES (repeat(' ', 1023) || 'I' || chr(775) || 'stanbul'), (repeat('.', 1022) || 'Iİ' || chr(775) || 'x')) AS t(p);
SELECT train_data.make_conversation_id(NULL, 'Ünïcode Persona') ~ '^conv_unicode_persona_[0-9]{6,}$' AS no_tier,
       train_data.make_conversation_id('scenario', NULL) ~ '^scn_conversation_[0-9]{6,}$' AS no_persona;
SELECT setval('train_data.conversation_number_seq', 7);
SELECT train_data.make_conversation_id('edge_case', 'Seven') AS padded;
SELECT expect_error($$SELECT train_data.conversations_default_id()$$);
-- on a table whose columns have other types it refuses, as 1.0's function
-- did (it read the columns as the types they are meant to be)
CREATE TABLE public.default_id_misfit (tier int, persona int, conversation_id text);
CREATE TRIGGER default_id_misfit BEFORE INSERT ON public.default_id_misfit
    FOR EACH ROW EXECUTE FUNCTION train_data.conversations_default_id();
SELECT expect_error($$INSERT INTO public.default_id_misfit VALUES (1, 12345, NULL)$$);
DROP TABLE public.default_id_misfit;

-- Clean up.
DELETE FROM train_data.edge_cases;
DELETE FROM train_data.scenarios;
DELETE FROM train_data.templates;
DELETE FROM train_data.conversations;
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.model_prices WHERE NOT builtin;
DELETE FROM train_data.export_logs;
DELETE FROM train_data.user_preferences;
DELETE FROM train_data.ai_configurations;
