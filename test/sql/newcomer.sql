-- newcomer: what a new user tripped over in 1.1 (issue "What a newcomer
-- trips over"), each with the answer 1.2 gives.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set ok_response '{"type": "message", "model": "claude-sonnet-4-5-20250929", "stop_reason": "end_turn", "usage": {"input_tokens": 10, "output_tokens": 20}, "content": [{"type": "text", "text": "{\\"title\\": \\"Pensions\\", \\"turns\\": [{\\"role\\": \\"user\\", \\"content\\": \\"And pensions?\\"}, {\\"role\\": \\"assistant\\", \\"content\\": \\"Start early.\\"}]}"}]}'

------------------------------------------------------------------ errors that say what is wrong
-- No user id: every insert that needs one, and the export, say so (28000),
-- as the application role and as a superuser alike.
SET ROLE regress_alice;
RESET train_data.user_id;
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure) VALUES ('t', 'c', 'A structure long enough.')$$, true);
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier) VALUES ('t', 'p', 'e', 'template')$$);
SELECT expect_error($$SELECT count(*) FROM train_data.export_conversations('jsonl')$$, true);
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl()$$);
SELECT expect_error($$SELECT train_data.update_user_preferences('{}')$$);
-- the functions that act for a user, with one message, detail form and
-- hint (before the thirty-fourth session two had no detail and another
-- hint, and regenerate_conversation said 42704: it looked the
-- conversation up first, which no user id can see)
SELECT expect_error($$SELECT train_data.get_user_preferences()$$, true);
SELECT expect_error($$SELECT train_data.review_conversation(gen_random_uuid(), 'approved')$$, true);
SELECT expect_error($$SELECT train_data.regenerate_conversation(gen_random_uuid())$$, true);
DO $$
BEGIN
    PERFORM train_data.regenerate_conversation(gen_random_uuid());
EXCEPTION WHEN invalid_authorization_specification THEN
    DECLARE h text;
    BEGIN
        GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
        RAISE NOTICE 'hint: %', h;
    END;
END
$$;
-- the rows that take their parent's owner too (a turn, an item, a log row,
-- a counter shard, an audit entry), not the policy's 42501
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content) VALUES (gen_random_uuid(), 1, 'user', 'Hello')$$, true);
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, position, tier) VALUES (gen_random_uuid(), 1, 'template')$$, true);
SELECT expect_error($$INSERT INTO train_data.generation_logs (conversation_id, request_payload, model_used) VALUES (gen_random_uuid(), '{}', 'm')$$, true);
SELECT expect_error($$INSERT INTO train_data.batch_job_counters (batch_job_id, shard) VALUES (gen_random_uuid(), 1)$$, true);
SELECT expect_error($$INSERT INTO train_data.configuration_audit_log (config_type) VALUES ('ai_config')$$, true);
RESET ROLE;
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier) VALUES ('t', 'p', 'e', 'template')$$);
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items) VALUES ('b', 1)$$);
-- a superuser may still add a template of nobody (the library's shared rows)
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
    ('e1000000-0000-0000-0000-000000000001', 'Pension talk', 'finance', 'Talk with {{persona}} about {{topic}}.',
     '[{"name": "persona", "type": "text"}, {"name": "topic", "type": "text", "defaultValue": "saving"}]');
SELECT created_by IS NULL AS ownerless FROM train_data.templates;
SET ROLE regress_alice;
SELECT expect_error($$SELECT train_data.create_batch('b', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "A"}}]')$$);
RESET ROLE;
-- and a superuser export without a user id exports what it sees (everything)
SELECT count(*) AS superuser_export FROM train_data.export_jsonl();

------------------------------------------------------------------ placeholders nothing fills
SET ROLE regress_alice;
SET train_data.user_id = :alice;
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
    ('e1000000-0000-0000-0000-000000000002', 'Undeclared emotion', 'finance',
     'Talk with {{persona}}, who feels {{emotion}}.', '[{"name": "persona", "type": "text"}]');
SELECT expect_error($$SELECT train_data.create_batch('b', '[{"template_id": "e1000000-0000-0000-0000-000000000002", "parameters": {"persona": "Ann"}}]')$$, true);
-- given as a parameter, it is filled
SELECT train_data.create_batch('b', '[{"template_id": "e1000000-0000-0000-0000-000000000002", "parameters": {"persona": "Ann", "emotion": "calm"}}]') IS NOT NULL AS filled;
SELECT prompt FROM train_data.batch_items;

------------------------------------------------------------------ regenerate_conversation and the topic
-- Every column derived from parameters follows the overrides.
RESET ROLE;
SELECT train_data.create_batch('first', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ann", "topic": "saving"}}]', '{}', 3, 'continue', 'high') AS job \gset
SET ROLE regress_worker;
SELECT item_id, attempt FROM train_data.claim_batch_items('w', 1) \gset
SELECT train_data.complete_batch_item(:'item_id', :'ok_response', 5, :attempt) AS conv \gset
SET ROLE regress_alice;
SELECT train_data.regenerate_conversation(:'conv', '{"topic": "pensions"}') AS regen_item \gset
SELECT topic, parameters ->> 'topic' AS parameter_topic, prompt FROM train_data.batch_items WHERE id = :'regen_item';
SET ROLE regress_worker;
SELECT item_id, attempt FROM train_data.claim_batch_items('w', 1) \gset
SELECT train_data.complete_batch_item(:'item_id', :'ok_response', 5, :attempt) AS conv2 \gset
SET ROLE regress_alice;
SELECT topic, parameters ->> 'topic' AS parameter_topic, parent_id = :'conv' AS version_of_first
FROM train_data.conversations WHERE id = :'conv2';

------------------------------------------------------------------ a template outlives its finished batches
SELECT success, message FROM train_data.safe_delete_template('e1000000-0000-0000-0000-000000000002');

-- clean up
RESET ROLE;
RESET train_data.user_id;
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.conversations;
DELETE FROM train_data.templates;
