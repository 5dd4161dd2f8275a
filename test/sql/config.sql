-- config: AI configuration (defaults, validation, effective configuration,
-- audit trail), user preferences (defaults on first use, validation of every
-- rule, audit), the generation request, model prices and cost estimates.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''

------------------------------------------------------------ AI configuration
SELECT jsonb_pretty(train_data.default_ai_config());
SELECT train_data.validate_ai_config('{"temperature": 0.2, "rateLimiting": {"requestsPerMinute": 10}}')
       #> '{rateLimiting}' AS merged_over_defaults;
SELECT train_data.validate_ai_config('{}') = train_data.default_ai_config() AS empty_is_default;

-- Every rule, with the field and the limit in the error.
SELECT c AS config, expect_error(format('SELECT train_data.validate_ai_config(%L)', c), true) AS error
FROM (VALUES ('{"temperature": 1.5}'::jsonb), ('{"temperature": -0.1}'), ('{"temperature": "hot"}'),
             ('{"maxTokens": 0}'), ('{"maxTokens": 4097}'), ('{"maxTokens": 10.5}'), ('{"topP": 2}'),
             ('{"model": "gpt-4"}'), ('{"model": 5}'),
             ('{"rateLimiting": {"requestsPerMinute": 0}}'), ('{"rateLimiting": {"concurrentRequests": 0}}'),
             ('{"rateLimiting": {"burstAllowance": -1}}'),
             ('{"retryStrategy": {"maxRetries": 11}}'), ('{"retryStrategy": {"baseDelay": -5}}'),
             ('{"retryStrategy": {"baseDelay": 5000, "maxDelay": 1000}}'),
             ('{"costBudget": {"dailyBudget": 600}}'), ('{"costBudget": {"weeklyBudget": 3000}}'),
             ('{"costBudget": {"alertThresholds": [0.5, 1.2]}}'), ('{"costBudget": {"alertThresholds": 0.5}}'),
             ('{"timeouts": {"connectionTimeout": -1}}'),
             ('{"temprature": 0.5}'), ('{"rateLimiting": {"rpm": 5}}'), ('[]')) AS t(c);

-- A value quoted in the detail is clipped (a 50 MB one was echoed whole into
-- the message and the server log: an adversarial review of 1.2).
SELECT e ~ ' / The value is "x+\.\.\."\.$' AND length(e) < 300 AS clipped
FROM (VALUES ('temperature'), ('maxTokens')) AS t(k),
     expect_error(format('SELECT train_data.validate_ai_config(%L)', jsonb_build_object(k, repeat('x', 15000))), true) e;
SELECT length(expect_error(format('SELECT train_data.validate_ai_config(%L)',
                                  jsonb_build_object('model', repeat('x', 15000))), true)) < 300 AS clipped;
SELECT e ~ ' / The value is "x+\.\.\."\.$' AND length(e) < 300 AS clipped
FROM (VALUES ('rowsPerPage'), ('theme')) AS t(k),
     expect_error(format('SELECT train_data.validate_user_preferences(%L)', jsonb_build_object(k, repeat('x', 15000))), true) e;

-- A settings document is at most 16 kB as JSON text: a claim reads its job
-- owner's configuration, and a 3 MB one (200,000 alert thresholds) made a
-- claim of another user's items take 6.5 s (an adversarial review of 1.2).
SELECT expect_error(format('SELECT train_data.validate_ai_config(%L)',
                           jsonb_build_object('costBudget', jsonb_build_object('alertThresholds',
                               (SELECT jsonb_agg(0.5) FROM generate_series(1, 4000))))), true) AS too_large;
SELECT jsonb_array_length(train_data.validate_ai_config(jsonb_build_object('costBudget', jsonb_build_object('alertThresholds',
           (SELECT jsonb_agg(0.5) FROM generate_series(1, 3000))))) #> '{costBudget,alertThresholds}') AS thresholds_under_16_kb;
SELECT expect_error(format('SELECT train_data.validate_user_preferences(%L)',
                           jsonb_build_object('keyboardShortcuts', jsonb_build_object('customBindings',
                               (SELECT jsonb_object_agg('action' || g, 'Ctrl+Shift+Alt+' || g) FROM generate_series(1, 1000) g)))),
                    true) AS too_large;

-- Known models: exact price rows and the three families.
SELECT train_data.validate_ai_config(jsonb_build_object('model', m)) ->> 'model' AS accepted
FROM (VALUES ('claude-3-5-sonnet-20241022'), ('claude-opus-4-1'), ('claude-3-haiku-20240307')) AS t(m);

-- Stored configurations are validated for every writer; the effective one
-- is the active one with the highest priority, newest on ties.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT train_data.get_effective_ai_config() = train_data.default_ai_config() AS defaults_without_config;
SELECT expect_error($$INSERT INTO train_data.ai_configurations (config_name, configuration) VALUES ('hot', '{"temperature": 3}')$$);
INSERT INTO train_data.ai_configurations (config_name, configuration, priority, created_at) VALUES
    ('low', '{"temperature": 0.1}', 1, '2025-01-01'),
    ('high-old', '{"temperature": 0.2}', 5, '2025-01-01'),
    ('high-new', '{"temperature": 0.3, "model": "claude-3-5-sonnet-20241022"}', 5, '2025-02-01'),
    ('inactive', '{"temperature": 0.9}', 9, '2025-03-01');
UPDATE train_data.ai_configurations SET is_active = false WHERE config_name = 'inactive';
SELECT c ->> 'model' AS model, c -> 'temperature' AS temperature, c -> 'maxTokens' AS max_tokens
FROM train_data.get_effective_ai_config() c;
SELECT expect_error($$UPDATE train_data.ai_configurations SET configuration = '{"topP": 5}' WHERE config_name = 'low'$$);
DELETE FROM train_data.ai_configurations WHERE config_name = 'low';
-- The audit trail: one row per change, by whom, with old and new values.
SELECT action, config_name_new, config_name_old, changed_by = :alice AS by_alice, user_id = :alice AS owner_alice
FROM (SELECT action, new_value ->> 'config_name' AS config_name_new, old_value ->> 'config_name' AS config_name_old,
             changed_by, user_id, changed_at
      FROM train_data.ai_configuration_audit) a
ORDER BY action, coalesce(config_name_new, config_name_old);
-- The audit tables are written by the triggers only: with UPDATE and DELETE
-- revoked, as the README's set-up does, no user can lock them and hold back
-- everyone's configuration changes (LOCK TABLE in a mode above ROW
-- EXCLUSIVE needs UPDATE or DELETE; found by an adversarial review), and
-- every change is still audited.
RESET ROLE;
REVOKE UPDATE, DELETE ON train_data.ai_configuration_audit, train_data.configuration_audit_log FROM regress_app;
SET ROLE regress_alice;
BEGIN;
SELECT expect_error($$LOCK TABLE train_data.ai_configuration_audit IN EXCLUSIVE MODE$$) AS lock_audit;
SELECT expect_error($$LOCK TABLE train_data.configuration_audit_log IN SHARE MODE$$) AS lock_log;
ROLLBACK;
UPDATE train_data.ai_configurations SET priority = 6 WHERE config_name = 'high-new';
SELECT count(*) AS audited_updates FROM train_data.ai_configuration_audit WHERE action = 'UPDATE';
RESET ROLE;
GRANT UPDATE, DELETE ON train_data.ai_configuration_audit, train_data.configuration_audit_log TO regress_app;
SET ROLE regress_alice;
-- Bob sees none of it, and gets the defaults when asking for alice.
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT count(*) AS bob_sees_audit FROM train_data.ai_configuration_audit;
SELECT train_data.get_effective_ai_config(:alice) = train_data.default_ai_config() AS alice_invisible;
RESET ROLE;
RESET train_data.user_id;
-- Changes with no user id (administration, restores) are not audited.
SELECT count(*) AS audit_rows_before FROM train_data.ai_configuration_audit;
DELETE FROM train_data.ai_configurations;
SELECT count(*) AS audit_rows_after FROM train_data.ai_configuration_audit;
DELETE FROM train_data.ai_configuration_audit;

------------------------------------------------------------ user preferences
SELECT expect_error($$SELECT train_data.get_user_preferences()$$, true);
SET ROLE regress_alice;
SET train_data.user_id = :alice;
-- a read-only transaction (a standby) gets the defaults without the write
BEGIN READ ONLY;
SELECT train_data.get_user_preferences() = train_data.default_user_preferences() AS read_only_defaults;
SELECT count(*) AS rows_read_only FROM train_data.user_preferences;
ROLLBACK;
SELECT train_data.get_user_preferences() = train_data.default_user_preferences() AS created_with_defaults;
SELECT count(*) AS rows FROM train_data.user_preferences;
SELECT p -> 'theme' AS theme, p -> 'rowsPerPage' AS rows_per_page, p #> '{qualityThresholds}' AS thresholds
FROM train_data.update_user_preferences('{"theme": "dark", "rowsPerPage": 50, "qualityThresholds": {"autoApproval": 9}}') p;
-- and, once the row exists, the stored preferences
BEGIN READ ONLY;
SELECT train_data.get_user_preferences() -> 'theme' AS theme_read_only;
ROLLBACK;
SELECT changed_field, old_value, new_value FROM train_data.configuration_audit_log ORDER BY changed_field;
-- Every validation rule.
SELECT c AS change, expect_error(format('SELECT train_data.update_user_preferences(%L)', c), true) AS error
FROM (VALUES ('{"rowsPerPage": 33}'::jsonb), ('{"theme": "neon"}'), ('{"tableDensity": "huge"}'),
             ('{"qualityThresholds": {"autoApproval": 11}}'),
             ('{"qualityThresholds": {"autoApproval": 5, "flagging": 6}}'),
             ('{"qualityThresholds": {"flagging": 3, "minimumAcceptable": 4}}'),
             ('{"qualityThresholds": {"minimumAcceptable": -1}}'),
             ('{"defaultFilters": {"qualityRange": [5, 3]}}'), ('{"defaultFilters": {"qualityRange": [0, 11]}}'),
             ('{"defaultFilters": {"qualityRange": [1]}}'),
             ('{"exportPreferences": {"autoCompressionThreshold": 0}}'),
             ('{"exportPreferences": {"autoCompressionThreshold": 10001}}'),
             ('{"exportPreferences": {"defaultFormat": "xml"}}'),
             ('{"retryConfig": {"maxAttempts": 0}}'), ('{"retryConfig": {"maxAttempts": 11}}'),
             ('{"retryConfig": {"baseDelayMs": 50}}'), ('{"retryConfig": {"baseDelayMs": 20000}}'),
             ('{"retryConfig": {"maxDelayMs": 500}}'), ('{"retryConfig": {"maxDelayMs": 400000}}'),
             ('{"retryConfig": {"baseDelayMs": 5000, "maxDelayMs": 2000}}'),
             ('{"retryConfig": {"strategy": "random"}}'), ('{"colour": "red"}'),
             -- every other setting keeps its default's JSON type
             ('{"notifications": 5}'), ('{"enableAnimations": "yes"}'),
             ('{"notifications": {"categories": {"errors": 1}}}'), ('{"keyboardShortcuts": {"customBindings": []}}'),
             ('{"exportPreferences": {"includeMetadata": null}}')) AS t(c);
-- a filter without a default value takes any type
SELECT train_data.update_user_preferences('{"defaultFilters": {"tier": "template", "status": ["approved"]}}')
       #> '{defaultFilters}' AS filters;
-- Custom key bindings are free-form.
SELECT train_data.update_user_preferences('{"keyboardShortcuts": {"customBindings": {"myAction": "Ctrl+M"}}}')
       #> '{keyboardShortcuts,customBindings,myAction}' AS custom_binding;
-- Direct writes are validated too.
SELECT expect_error($$UPDATE train_data.user_preferences SET preferences = '{"rowsPerPage": 7}'$$);
RESET ROLE;
RESET train_data.user_id;
DELETE FROM train_data.configuration_audit_log;
DELETE FROM train_data.user_preferences;

------------------------------------------------------------ generation request
SET train_data.user_id = :alice;
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
    ('c1000000-0000-0000-0000-000000000001', 'Request template', 'finance',
     'Write a conversation with {{persona}} about {{topic}}.',
     '[{"name": "persona", "type": "text"}, {"name": "topic", "type": "text", "defaultValue": "savings"}]');
SELECT jsonb_pretty(train_data.build_generation_request('c1000000-0000-0000-0000-000000000001', '{"persona": "Ann"}',
                                                        'You write training data.'));
SELECT train_data.build_generation_request('c1000000-0000-0000-0000-000000000001', '{"persona": "Ann"}', NULL,
                                           '{"model": "claude-3-haiku-20240307", "maxTokens": 1000, "temperature": 0}');
SELECT expect_error($$SELECT train_data.build_generation_request('c1000000-0000-0000-0000-000000000001', '{}')$$, true);
SELECT expect_error($$SELECT train_data.build_generation_request('c1000000-0000-0000-0000-000000000001', '{"persona": "Ann"}', NULL, '{"maxTokens": 0}')$$);
DELETE FROM train_data.templates;
RESET train_data.user_id;

------------------------------------------------------------ prices and costs
SELECT m AS model, (train_data.model_price(m)).model_id AS price_row
FROM (VALUES ('claude-opus-4-1-20250805'), ('claude-3-5-sonnet-20241022'), ('CLAUDE-3-HAIKU'), ('gpt-4')) AS t(m);
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('claude-sonnet-4-5-20250929', 3.3, 16.5);
SELECT m AS model, train_data.model_cost(m, 2000, 3000) AS cost_usd
FROM (VALUES ('claude-sonnet-4-5-20250929'), ('claude-sonnet-4-20250514'), ('claude-opus-4-1'), ('claude-3-haiku-20240307'), ('gpt-4')) AS t(m);
SELECT expect_error($$SELECT train_data.model_cost('claude-opus', -1, 0)$$);
SELECT expect_error($$SELECT train_data.model_cost('claude-opus', -1, NULL)$$);
DELETE FROM train_data.model_prices WHERE NOT builtin;

SELECT t AS tier, e -> 'cost_per_conversation' AS per_conversation, e -> 'total_cost' AS total,
       e -> 'input_cost' AS input_cost, e -> 'output_cost' AS output_cost, e ->> 'estimated_time' AS time
FROM (VALUES ('template'::train_data.tier_type), ('scenario'), ('edge_case'), (NULL)) AS v(t),
     train_data.estimate_batch_cost(t, 90) e;
SELECT jsonb_pretty(train_data.estimate_batch_cost('template', 500, 10, 600));
SELECT train_data.estimate_batch_cost('edge_case', 0) -> 'total_cost' AS zero;
SELECT expect_error($$SELECT train_data.estimate_batch_cost('template', -1)$$);
SELECT expect_error($$SELECT train_data.estimate_batch_cost('template', 10, 11)$$);
SELECT expect_error($$SELECT train_data.estimate_batch_cost('template', 10, 3, 0)$$);

------------------------------------------------------------ jsonb read by the C functions
-- The C functions read a jsonb argument from its binary form, not its text:
-- every kind of value must come back exactly as given (jsonb_merge_deep of
-- an empty object and a value returns the value), and a value nested deeper
-- than the reader allows is refused as before.
SELECT count(*) AS values_read,
       count(*) FILTER (WHERE train_data.jsonb_merge_deep('{}', d) = d) AS unchanged,
       count(*) FILTER (WHERE train_data.jsonb_merge_deep('{}', d)::text = d::text) AS same_text
FROM (VALUES ('null'::jsonb), ('true'), ('false'), ('0'), ('-0.0'), ('1e3'), ('1.50'), ('-12345678901234567890.000001'),
             ('1e-300'), ('""'), ('"plain"'), ('"quote \" backslash \\ tab \t newline \n"'), ('"\u00e9t\u00e9 \u20ac \ud83d\ude00"'),
             ('"Привет, мир"'), ('[]'), ('{}'), ('[[], {}, [[]]]'), ('[1, "a", null, true, {"k": [false]}]'),
             ('{"b": 1, "a": 2, "aa": {"x": [1, 2, {"y": "z"}]}, "": "empty key"}'),
             ('{"turns": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}')) AS t(d);
SELECT train_data.jsonb_merge_deep('{}', (repeat('[', 200) || '1' || repeat(']', 200))::jsonb)::text = repeat('[', 200) || '1' || repeat(']', 200)
    AS nested_200_read;
SELECT train_data.jsonb_merge_deep('{}', (repeat('[', 256) || '1' || repeat(']', 256))::jsonb)::text = repeat('[', 256) || '1' || repeat(']', 256)
    AS nested_256_read;
SELECT expect_error($$SELECT train_data.jsonb_merge_deep('{}', (repeat('[', 257) || '1' || repeat(']', 257))::jsonb)$$);
