-- session_settings: what a caller's session settings must not change (a
-- review of 1.2 set each one a role can set; a pooled connection carries
-- the last client's).  The first statements run before any function of
-- the extension has run in this session: PL/pgSQL reads a function's
-- string literals with the settings of its first call and keeps them.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''

----------------------------------------------- standard_conforming_strings
-- Off at the first call: the baseUrl pattern and create_batch's braced
-- template ids read their backslashes as escapes, and kept that for the
-- session (every valid baseUrl was refused, also after RESET).
SET standard_conforming_strings = off;
SELECT u AS accepted_base_url
FROM unnest(ARRAY['http://vllm.internal:8000/v1', 'http://[::1]:8000/v1']) u
WHERE train_data.validate_ai_config(jsonb_build_object('provider', 'openai', 'model', 'claude-haiku', 'baseUrl', u)) IS NOT NULL;
SELECT expect_error($$SELECT train_data.validate_ai_config('{"provider": "openai", "model": "claude-haiku", "baseUrl": "http://bad host/v1"}')$$);
SET ROLE regress_alice;
SET train_data.user_id = :alice;
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
    ('e8000000-0000-0000-0000-000000000001', 'Settings', 'finance', 'Talk with {{persona}} about saving.',
     '[{"name": "persona", "type": "text"}]');
SELECT train_data.create_batch('braced', '[{"template_id": "{e8000000-0000-0000-0000-000000000001}", "parameters": {"persona": "B"}}]')
    IS NOT NULL AS braced_id_taken;
RESET standard_conforming_strings;
SELECT count(*) AS accepted_after_reset
FROM unnest(ARRAY['http://vllm.internal:8000/v1', 'http://[::1]:8000/v1']) u
WHERE train_data.validate_ai_config(jsonb_build_object('provider', 'openai', 'model', 'claude-haiku', 'baseUrl', u)) IS NOT NULL;

---------------------------------------------------------------- TimeZone
-- Review history times are written in UTC, as the export writes every
-- time, whatever the writer's TimeZone (jsonb of a timestamptz carried the
-- session's offset: -03:30 in an export that promises UTC).
SET TIME ZONE 'America/St_Johns';
RESET ROLE;
SET ROLE regress_worker;
SELECT train_data.complete_batch_item(c.item_id,
    jsonb_build_object('type', 'message', 'model', 'claude-sonnet-4-5-20250929', 'stop_reason', 'end_turn',
                       'usage', jsonb_build_object('input_tokens', 10, 'output_tokens', 20),
                       'content', jsonb_build_array(jsonb_build_object('type', 'text', 'text',
                           '{"title": "Saving", "turns": [{"role": "user", "content": "How much of my pay should I put aside every month?"}, {"role": "assistant", "content": "Start with a tenth of it, then raise the share each time your pay goes up."}]}'))),
    5, c.attempt) AS conv
FROM train_data.claim_batch_items('settings', 1) c \gset
SET TIME ZONE '+14';
SET ROLE regress_alice;
SELECT train_data.review_conversation(:'conv', 'approved', 'fine') IS NOT NULL AS reviewed;
SELECT h ->> 'action' AS action,
       h ->> 'timestamp' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$' AS utc_with_microseconds,
       (h ->> 'timestamp')::timestamptz > now() - interval '1 minute' AS recent
FROM train_data.conversations c, jsonb_array_elements(c.review_history) h
WHERE c.id = :'conv';
RESET TIME ZONE;
RESET ROLE;

-------------------------------------------------- export date filters
-- dateFrom and dateTo are ISO 8601, a time without a zone read as UTC,
-- whatever the session's TimeZone and DateStyle (one filter exported the
-- conversation in UTC and nothing in America/St_Johns, the two manifests
-- alike); the manifest records the instant used.
SET ROLE regress_alice;
SELECT to_char(timezone('UTC', now()) - interval '1 hour', 'YYYY-MM-DD"T"HH24:MI') AS hour_ago \gset
SET TIME ZONE 'America/St_Johns';
SET DateStyle = 'SQL, DMY';
SELECT count(*) AS exported_in_st_johns
FROM train_data.export_jsonl('original', 'filtered', NULL, jsonb_build_object('dateFrom', :'hour_ago'));
RESET TIME ZONE;
RESET DateStyle;
SELECT count(*) AS exported_in_utc
FROM train_data.export_jsonl('original', 'filtered', NULL, jsonb_build_object('dateFrom', :'hour_ago'));
SELECT count(*) AS records
FROM train_data.export_conversations('jsonl', 'filtered', '{}', NULL,
                                     jsonb_build_object('dateFrom', :'hour_ago', 'dateTo', '2999-01-01T00:00:00+05:30'));
SELECT l.manifest -> 'filters' ->> 'dateFrom' = :'hour_ago' || ':00.000000Z' AS from_as_utc,
       l.manifest -> 'filters' ->> 'dateTo' AS to_as_utc
FROM train_data.export_logs l ORDER BY l.created_at DESC LIMIT 1;
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl('original', 'filtered', NULL, '{"dateFrom": "05/12/2026"}')$$, true);
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl('original', 'filtered', NULL, '{"dateTo": "today"}')$$);
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl('original', 'filtered', NULL, '{"dateTo": "2026-02-30"}')$$);
-- (an instant outside the years 1 to 9999 in UTC: the query reads it back)
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl('original', 'filtered', NULL, '{"dateTo": "9999-12-31T23:00:00-05:00"}')$$, true);
RESET ROLE;
-- (the export log left for the tests after this one)
DELETE FROM train_data.export_logs;
