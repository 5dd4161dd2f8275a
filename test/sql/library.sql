-- library: the stored prompt library — resolve and preview, validation of
-- stored templates, usage counting, scenario and edge-case rules, safe
-- deletion, and who may do what.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''
SET ROLE regress_alice;
SET train_data.user_id = :alice;

INSERT INTO train_data.templates (id, name, category, structure, variables, tier) VALUES
    ('a1000000-0000-0000-0000-000000000001', 'Retirement anxiety', 'finance',
     'You are {{persona}}, feeling {{emotion}} about {{topic}}. Tone: {{tone}}.',
     '[{"name": "persona", "type": "text"}, {"name": "emotion", "type": "text"},
       {"name": "topic", "type": "text", "defaultValue": "retirement"},
       {"name": "tone", "type": "dropdown", "options": ["warm", "formal"], "defaultValue": "warm"}]',
     'template');

-- Resolve: the render result plus the template's id and name.
SELECT jsonb_pretty(train_data.resolve_template('a1000000-0000-0000-0000-000000000001',
                                                '{"persona": "Ann <the saver>", "emotion": "worried"}'));
-- Preview: the same, HTML-escaped.
SELECT train_data.preview_template('a1000000-0000-0000-0000-000000000001',
                                   '{"persona": "Ann <the saver>", "emotion": "worried"}') ->> 'resolved';
-- The library is shared, so a preview escapes the template's own text too:
-- bob's template cannot put markup into alice's page (before, only the
-- values were escaped).  A render that fails keeps resolved null.
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
    ('b1000000-0000-0000-0000-000000000001', 'Markup', 'c',
     '<img src=x onerror="alert(''{{persona}}'')"> Q&A {{ok ? ''<b>yes</b>'' : ''no''}}',
     '[{"name": "persona", "type": "text"}]');
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT train_data.preview_template('b1000000-0000-0000-0000-000000000001', '{"persona": "<Ann>", "ok": 1}') ->> 'resolved';
SELECT train_data.resolve_template('b1000000-0000-0000-0000-000000000001', '{"persona": "<Ann>", "ok": 1}') ->> 'resolved';
SELECT p ->> 'resolved' IS NULL AS no_text, p -> 'success' AS success, p ->> 'template_name' AS template_name
FROM train_data.preview_template('b1000000-0000-0000-0000-000000000001', '{}') p;
SELECT train_data.html_escape($$&<>"'/ stay: é ü 日本$$) AS escaped, train_data.html_escape('') = '' AS empty,
       train_data.html_escape(NULL) IS NULL AS null_in_null_out;
SET ROLE regress_bob;
SET train_data.user_id = :bob;
DELETE FROM train_data.templates WHERE id = 'b1000000-0000-0000-0000-000000000001';
SET ROLE regress_alice;
SET train_data.user_id = :alice;
-- Validation failures come back in the result, not as errors.
SELECT train_data.resolve_template('a1000000-0000-0000-0000-000000000001', '{"persona": "Ann", "tone": "rude"}') - 'parameters';
SELECT expect_error($$SELECT train_data.resolve_template('a1000000-0000-0000-0000-00000000dead', '{}')$$);
SELECT expect_error($$SELECT train_data.resolve_template(NULL, '{}')$$);

-- An inactive template cannot be resolved.
UPDATE train_data.templates SET is_active = false WHERE id = 'a1000000-0000-0000-0000-000000000001';
SELECT expect_error($$SELECT train_data.resolve_template('a1000000-0000-0000-0000-000000000001', '{}')$$, true);
UPDATE train_data.templates SET is_active = true WHERE id = 'a1000000-0000-0000-0000-000000000001';

-- Stored templates are checked: variables and placeholders (for every writer).
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure) VALUES ('bad', 'c', 'Hello {{user.name.first}}')$$, true);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure, variables) VALUES ('bad', 'c', 'Hello {{x}} there', '[{"name": "x", "type": "color"}]')$$, true);
SELECT expect_error($$UPDATE train_data.templates SET structure = 'Now {{eval(1)}} here' WHERE name = 'Retirement anxiety'$$);
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure) VALUES ('   ', 'c', 'long enough text')$$);

-- Usage counting: yours only, with clear errors otherwise.
SELECT train_data.increment_template_usage('a1000000-0000-0000-0000-000000000001');
SELECT train_data.increment_template_usage('a1000000-0000-0000-0000-000000000001');
SELECT expect_error($$SELECT train_data.increment_template_usage('a1000000-0000-0000-0000-00000000dead')$$);

-- Scenarios take their parent's name; the generation-status rule.
INSERT INTO train_data.scenarios (id, name, parent_template_id, context, topic, persona, emotional_arc)
VALUES ('a2000000-0000-0000-0000-000000000001', 'Market dip', 'a1000000-0000-0000-0000-000000000001',
        'Stocks fell 20%', 'pensions', 'Anxious Investor', 'fear to calm');
SELECT name, parent_template_name, generation_status, error_message FROM train_data.scenarios;
SELECT generation_status, error_message
FROM train_data.update_scenario_generation_status('a2000000-0000-0000-0000-000000000001', 'error', NULL, 'model timed out');
SELECT generation_status, conversation_id, error_message
FROM train_data.update_scenario_generation_status('a2000000-0000-0000-0000-000000000001', 'generated',
                                                  'c3000000-0000-0000-0000-000000000001', 'stale message');
-- the rule holds for plain UPDATEs too
UPDATE train_data.scenarios SET generation_status = 'error', error_message = 'boom';
UPDATE train_data.scenarios SET generation_status = 'not_generated';
SELECT generation_status, error_message FROM train_data.scenarios;
SELECT expect_error($$SELECT train_data.update_scenario_generation_status('a2000000-0000-0000-0000-000000000001', 'pending')$$);
SELECT expect_error($$SELECT train_data.update_scenario_generation_status('a2000000-0000-0000-0000-00000000dead', 'generated')$$);
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, context, topic, persona, emotional_arc) VALUES ('s', 'a1000000-0000-0000-0000-00000000dead', 'c', 't', 'p', 'a')$$);
SELECT expect_error($$INSERT INTO train_data.scenarios (name, parent_template_id, context, topic, persona, emotional_arc) VALUES ('s', 'a1000000-0000-0000-0000-000000000001', '  ', 't', 'p', 'a')$$);

INSERT INTO train_data.edge_cases (id, title, description, parent_scenario_id, edge_case_type)
VALUES ('a6000000-0000-0000-0000-000000000001', 'Zero balance', 'The account is empty',
        'a2000000-0000-0000-0000-000000000001', 'boundary_value');
SELECT title, parent_scenario_name, complexity, test_status FROM train_data.edge_cases;
SELECT train_data.get_template_scenario_count('a1000000-0000-0000-0000-000000000001') AS scenarios,
       train_data.get_scenario_edge_case_count('a2000000-0000-0000-0000-000000000001') AS edge_cases;

-- Bob sees the library but cannot change or delete alice's entries.
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT train_data.resolve_template('a1000000-0000-0000-0000-000000000001', '{"persona": "Bo", "emotion": "calm"}') ->> 'resolved';
SELECT expect_error($$SELECT train_data.increment_template_usage('a1000000-0000-0000-0000-000000000001')$$);
SELECT expect_error($$SELECT train_data.update_scenario_generation_status('a2000000-0000-0000-0000-000000000001', 'generated')$$);
SELECT * FROM train_data.safe_delete_scenario('a2000000-0000-0000-0000-000000000001');
SELECT * FROM train_data.safe_delete_template('a1000000-0000-0000-0000-000000000001');

-- Safe deletion refuses while children exist, then succeeds bottom-up.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT * FROM train_data.safe_delete_template('a1000000-0000-0000-0000-000000000001');
SELECT * FROM train_data.safe_delete_scenario('a2000000-0000-0000-0000-000000000001');
DELETE FROM train_data.edge_cases;
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT * FROM train_data.safe_delete_scenario('a2000000-0000-0000-0000-000000000001');
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT * FROM train_data.safe_delete_scenario('a2000000-0000-0000-0000-000000000001');
-- A batch made from the template does not hold it back (1.1 refused until the
-- batch was deleted): the item keeps the prompt and threshold it was queued
-- with, and its template_id (no foreign key: it may name a deleted template,
-- as a conversation's does).
INSERT INTO train_data.batch_jobs (id, name, total_items) VALUES ('a4000000-0000-0000-0000-000000000001', 'job', 1);
INSERT INTO train_data.batch_items (batch_job_id, position, tier, template_id, prompt, quality_threshold)
VALUES ('a4000000-0000-0000-0000-000000000001', 1, 'template', 'a1000000-0000-0000-0000-000000000001', 'kept prompt', 7);
SELECT * FROM train_data.safe_delete_template('a1000000-0000-0000-0000-000000000001');
SELECT template_id, prompt, quality_threshold FROM train_data.batch_items;
DELETE FROM train_data.batch_jobs;
SELECT expect_error($$SELECT * FROM train_data.safe_delete_template('a1000000-0000-0000-0000-000000000001')$$);
SELECT expect_error($$SELECT * FROM train_data.safe_delete_scenario('a2000000-0000-0000-0000-000000000001')$$);
RESET ROLE;
RESET train_data.user_id;
