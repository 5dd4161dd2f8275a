-- export: export_jsonl() — every shape and include flag on a fixture with
-- exact expected lines, escaping of hard text, each scope and filter, an
-- export of nothing, row-level security, and bad arguments.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''

-- Fixture, written as a restore would (row_security off: rows come in the
-- state they were in): alice has two approved conversations and one pending,
-- bob one approved.
SET row_security = off;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, topic, tier, status, quality_score,
                                      category, review_history, parent_id, parent_type, created_at, updated_at, created_by,
                                      parameters, turn_count, total_tokens)
VALUES ('e6000000-0000-0000-0000-000000000001', 'tpl_ann_000001', 'Ann "the saver" \ pension', 'Ann', 'calm', 'saving',
        'template', 'approved', 8.5, '{finance,pension}', '[{"action": "approved", "performedBy": "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"}]',
        NULL, NULL, '2025-01-01 10:00:00.5+00', '2025-01-02 10:00:00+00', :alice, '{"persona": "Ann", "goal": ["save", "retire"]}', 2, 16),
       ('e6000000-0000-0000-0000-000000000002', 'scn_bob_000002', 'Bob in debt', 'Bob', 'anxious', '',
        'scenario', 'pending_review', 5.5, '{debt}', '[]', NULL, NULL, '2025-01-03 10:00:00+00', '2025-01-03 10:00:00+00', :alice, '{}', 1, 0),
       ('e6000000-0000-0000-0000-000000000003', 'edge_cy_000003', 'Cy, edge case', 'Cy', 'angry', NULL,
        'edge_case', 'approved', NULL, '{}', '[]', 'e6000000-0000-0000-0000-000000000001', 'conversation',
        '2025-01-05 10:00:00+00', '2025-01-05 10:00:00+00', :alice, '{}', 2, 0),
       ('e6000000-0000-0000-0000-000000000004', 'tpl_dee_000004', 'Bob''s own', 'Dee', 'calm', 'tax',
        'template', 'approved', 9.0, '{tax}', '[]', NULL, NULL, '2025-01-04 10:00:00+00', '2025-01-04 10:00:00+00', :bob, '{}', 2, 0);
-- turns inserted out of order; the export reads them in turn order
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content, token_count) VALUES
    ('e6000000-0000-0000-0000-000000000001', 2, 'assistant', E'Start with 10 %.\nThen "raise" it.', 9),
    ('e6000000-0000-0000-0000-000000000001', 1, 'user', 'Hello, how much should I save?', 7),
    ('e6000000-0000-0000-0000-000000000002', 1, 'user', 'I owe money.', NULL),
    ('e6000000-0000-0000-0000-000000000003', 1, 'user', 'Every control character:' ||
        (SELECT string_agg(chr(c), '' ORDER BY c) FROM generate_series(1, 31) c) || E' "quotes" \\back\\slashes\\ 😀 年金', NULL),
    ('e6000000-0000-0000-0000-000000000003', 2, 'assistant', 'Understood.', 0),
    ('e6000000-0000-0000-0000-000000000004', 1, 'user', 'Bob''s question', NULL),
    ('e6000000-0000-0000-0000-000000000004', 2, 'assistant', 'Bob''s answer', NULL);

RESET row_security;

SET ROLE regress_alice;
SET train_data.user_id = :alice;

-- The original shape with the default flags: every approved conversation of
-- alice's, oldest first; empty or NULL persona/emotion/topic left out.
SELECT * FROM train_data.export_jsonl();

-- Every include flag turned around.
SELECT * FROM train_data.export_jsonl('original', 'all', NULL, NULL,
    '{"includeMetadata": true, "includeQualityScores": false, "includeTimestamps": false,
      "includeApprovalHistory": true, "includeParentReferences": true, "includeFullContent": true}');
SELECT * FROM train_data.export_jsonl('original', 'all', NULL, NULL, '{"includeMetadata": false}');

-- OpenAI chat shape, plain and with a system message and last-turn weights;
-- ShareGPT.
SELECT * FROM train_data.export_jsonl('openai');
SELECT * FROM train_data.export_jsonl('openai', 'all', NULL, NULL,
    '{"systemMessage": "You are a patient \"financial\" planner.", "lastTurnOnly": true}');
SELECT * FROM train_data.export_jsonl('sharegpt');

-- Every line is JSON, and the hard turn comes back byte for byte.
SELECT count(*) AS lines, bool_and(line::jsonb IS NOT NULL) AS all_json,
       bool_and(position(E'\n' IN line) = 0) AS one_line_each
FROM train_data.export_jsonl('original', 'all', NULL, NULL, '{"includeApprovalHistory": true}') line;
SELECT (line::jsonb -> 'messages' -> 0 ->> 'content') = (SELECT content FROM train_data.conversation_turns
                                                         WHERE conversation_id = 'e6000000-0000-0000-0000-000000000003'
                                                           AND turn_number = 1) AS round_trip
FROM train_data.export_jsonl('openai', 'selected', '{e6000000-0000-0000-0000-000000000003}') line;

-- Scopes: selected ids (any status, in export order); filters, one key at a
-- time, then together; no match exports nothing.
SELECT line::jsonb -> 'metadata' ->> 'conversation_id' AS selected
FROM train_data.export_jsonl('original', 'selected', '{e6000000-0000-0000-0000-000000000003,
                                                       e6000000-0000-0000-0000-000000000002}') line;
SELECT f.filters, string_agg(l.line::jsonb -> 'metadata' ->> 'conversation_id', ' ') AS exported
FROM (VALUES ('{"tier": ["scenario", "edge_case"]}'::jsonb),
             ('{"status": ["pending_review"]}'),
             ('{"qualityScoreMin": 6}'),
             ('{"qualityScoreMax": 6}'),
             ('{"dateFrom": "2025-01-02"}'),
             ('{"dateTo": "2025-01-02T00:00:00Z"}'),
             ('{"categories": ["pension", "debt"]}'),
             ('{"searchQuery": "SAVER"}'),
             ('{"searchQuery": "%"}'),
             ('{"tier": ["template", "scenario"], "status": ["approved", "pending_review"], "qualityScoreMin": 5.5}'),
             ('{}')) AS f(filters)
LEFT JOIN LATERAL train_data.export_jsonl('original', 'filtered', NULL, f.filters) l(line) ON true
GROUP BY f.filters ORDER BY f.filters::text;
SELECT count(*) AS nothing FROM train_data.export_jsonl('original', 'filtered', NULL, '{"tier": ["edge_case"], "qualityScoreMin": 1}');

-- export_conversations: the same lines, recorded in export_logs as alice's
-- export with its count, its size (lines joined by one newline) and a
-- 24-hour expiry; an export of nothing is logged too.
SELECT count(*) AS lines, sum(octet_length(l)) + count(*) - 1 AS bytes
FROM (SELECT train_data.export_conversations('jsonl', 'all', '{"includeTimestamps": false}') l) s;
SELECT count(*) AS nothing FROM (SELECT train_data.export_conversations('jsonl', 'filtered', '{}', NULL,
                                                                         '{"tier": ["edge_case"], "status": ["draft"]}') l) s;
SELECT format, config, conversation_count, file_size, status, user_id = :alice AS alices,
       expires_at = "timestamp" + interval '24 hours' AS expires_in_24_hours
FROM train_data.export_history();
SELECT count(*) AS csv_exports FROM train_data.export_history('csv');
SELECT count(*) AS completed_page_2 FROM train_data.export_history(NULL, 'completed', 2, 1);
-- the last page an int4 can number: empty, not "integer out of range"
SELECT count(*) AS past_the_last_page FROM train_data.export_history(NULL, NULL, 2147483647, 100);
SELECT export_id AS first_export FROM train_data.export_history() WHERE conversation_count = 2 \gset
SELECT status, conversation_count FROM train_data.export_status(:'first_export');
UPDATE train_data.export_logs SET expires_at = now() - interval '1 second' WHERE export_id = :'first_export';
-- in a read-only transaction (a standby) the export is reported expired, not written
BEGIN READ ONLY;
SELECT status FROM train_data.export_status(:'first_export');
ROLLBACK;
SELECT status AS stored_status FROM train_data.export_logs WHERE export_id = :'first_export';
SELECT status FROM train_data.export_status(:'first_export');
UPDATE train_data.export_logs SET status = 'completed' WHERE export_id = :'first_export';
SELECT train_data.mark_expired_exports() AS expired, train_data.mark_expired_exports() AS again;
SELECT expect_error($$SELECT train_data.export_conversations('xml')$$);
SELECT expect_error($$SELECT train_data.export_conversations('jsonl', 'all', '{"pretty": true}')$$);
SELECT expect_error($$SELECT * FROM train_data.export_history(NULL, NULL, 0)$$);
SELECT expect_error($$SELECT * FROM train_data.export_history(NULL, NULL, 1, 101)$$);
SELECT expect_error($$SELECT * FROM train_data.export_status('00000000-0000-0000-0000-000000000000')$$);

-- Row-level security: bob exports only his own, even when he names alice's ids.
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT * FROM train_data.export_jsonl('sharegpt');
SELECT count(*) AS alices FROM train_data.export_jsonl('original', 'selected', '{e6000000-0000-0000-0000-000000000001}');
SELECT count(*) AS alices_logs FROM train_data.export_history();
SELECT expect_error(format('SELECT * FROM train_data.export_status(%L)', :'first_export'), false, true);
SELECT train_data.mark_expired_exports() AS bob_expires;
-- A role that bypasses row-level security (a superuser here; Supabase's
-- service_role alike) exports the conversations of the user id it acts for
-- (it exported every user's into bob's file: a review of 1.2), and every
-- user's only with no user id; the selection, the validation and the report
-- follow the export.
RESET ROLE;
SELECT count(*) AS bobs_lines, count(*) FILTER (WHERE l LIKE '%Bob''s answer%') AS his
FROM train_data.export_jsonl() l;
SELECT count(*) AS bobs_named FROM train_data.export_jsonl('original', 'selected',
    '{e6000000-0000-0000-0000-000000000001,e6000000-0000-0000-0000-000000000004}');
SELECT * FROM train_data.validate_export();
SELECT train_data.dataset_report() -> 'conversations' AS bobs_report;
RESET train_data.user_id;
SELECT count(*) AS everyones_lines FROM train_data.export_jsonl();
SELECT train_data.dataset_report() -> 'conversations' AS everyones_report;
SELECT expect_error($$SELECT count(*) FROM train_data.export_conversations('jsonl')$$);
SET ROLE regress_alice;
SET train_data.user_id = :alice;

-- OpenAI-style validation: every export shape with messages passes; the
-- ShareGPT shape has none to check, and is refused rather than reported as
-- failing every check (a review of 1.2); each check on a line made to fail
-- it, each on its own, as the cookbook's (a missing key hides no other
-- error, and a message without content is still the assistant's).
SELECT * FROM train_data.validate_export();
SELECT * FROM train_data.validate_export('original', 'all', NULL, NULL, '{"includeApprovalHistory": true}');
SELECT expect_error($$SELECT * FROM train_data.validate_export('sharegpt')$$, true);
SELECT line, train_data.validate_training_line(line) AS fails
FROM (VALUES ('{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello","weight":0}]}'),
             ('{"messages":'), ('"text"'), ('{"messages":[]}'),
             ('{"messages":[{"content":"Hi"},{"role":"assistant","content":"Hello"}]}'),
             ('{"messages":[{"role":"user","content":"Hi","mood":"calm"},{"role":"assistant","content":"Hello"}]}'),
             ('{"messages":[{"role":"human","content":"Hi"},{"role":"assistant","content":""}]}'),
             ('{"messages":[{"role":"user","content":"Hi"}]}'),
             ('{"messages":[{"role":"user","content":"Hi"},{"role":"assistant"}]}'),
             ('{"messages":["Hi",{"role":"assistant","content":"Hello"}]}'),
             -- (not the cookbook's: a weight the fine-tuning API refuses)
             ('{"messages":[{"role":"user","content":"Hi","weight":1},{"role":"assistant","content":"Hello","weight":0.5}]}')) AS v(line);

-- The cookbook's warnings (a line it still trains on): no system message,
-- no user message, more tokens than the model takes (3 a message and 3 for
-- the reply, the text at 4 characters a token: the first line is 3 + 5 + 6
-- = 14, the second 3 + 6 + 6 + 5 = 20, its five 3-byte characters 2
-- tokens); a line without messages has errors, not warnings.
SELECT v.n, train_data.training_line_warnings(v.line, 14) AS at_14, train_data.training_line_warnings(v.line) AS default_limit
FROM (VALUES (1, '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}'),
             (2, '{"messages":[{"role":"system","content":"Be kind."},{"role":"assistant","content":"日本語です"},{"role":"assistant","content":"Yes"}]}'),
             (3, '{"messages":[{"role":"system","content":"x"},{"role":"user","content":"y"},{"role":"assistant","content":"z"}]}'),
             (4, '{"messages":[]}'), (5, 'not json'),
             (6, '{"messages":[{"role":"assistant","content":"Hi"}]}')) AS v(n, line) ORDER BY v.n;
SELECT expect_error($$SELECT train_data.training_line_warnings('{}', 0)$$, true);
-- validate_export counts them after the errors, with its own option
-- tokenLimit (16,385 by default), which it does not pass to the export.
SELECT * FROM train_data.validate_export('openai', 'all', NULL, NULL, '{"tokenLimit": 10}');
SELECT * FROM train_data.validate_export('openai', 'all', NULL, NULL, '{"tokenLimit": 1000, "systemMessage": "Be brief."}');
SELECT expect_error($$SELECT * FROM train_data.validate_export('openai', 'all', NULL, NULL, '{"tokenLimit": 0}')$$, true);
SELECT expect_error($$SELECT * FROM train_data.validate_export('openai', 'all', NULL, NULL, '{"tokenLimit": 2.5}')$$, true);
SELECT expect_error($$SELECT * FROM train_data.validate_export('openai', 'all', NULL, NULL, '{"tokenLimit": "4096"}')$$, true);
SELECT expect_error($$SELECT * FROM train_data.validate_export('openai', 'all', NULL, NULL, '{"tokenLimit": null}')$$, true);
SELECT expect_error($$SELECT * FROM train_data.validate_export('openai', 'all', NULL, NULL, '{"tokenLimit": 1e300}')$$, true);
SELECT expect_error($$SELECT * FROM train_data.validate_export('openai', 'all', NULL, NULL, '{"tokenLimit": 100, "bogus": 1}')$$, true);
-- (a misspelling of its own option is named as such: the export's hint
-- lists only the export's options)
SELECT expect_error($$SELECT * FROM train_data.validate_export('openai', 'all', NULL, NULL, '{"token_limit": 4096}')$$, true);
-- The default limit is the cookbook's, 16,385 tokens: a line of exactly
-- that many passes (3 + 1 + 1 for "Hi", 3 + 1 + 16,373 for 65,492
-- characters, 3 for the reply), and is over a limit of 16,384; the rows
-- come as lines, errors, warnings, whatever their names' order (a
-- conversation of one user turn: the error sorts before "lines").
BEGIN;
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, quality_score) VALUES
    ('e6100000-0000-0000-0000-000000000001', 'Long', 'P', 'N', 'template', 'generated', 8),
    ('e6100000-0000-0000-0000-000000000002', 'Alone', 'P', 'N', 'template', 'generated', 8);
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content) VALUES
    ('e6100000-0000-0000-0000-000000000001', 1, 'user', 'Hi'),
    ('e6100000-0000-0000-0000-000000000001', 2, 'assistant', repeat('x', 65492)),
    ('e6100000-0000-0000-0000-000000000002', 1, 'user', 'Hi');
SELECT q.options, v.check_name, v.lines
FROM (VALUES (1, '{"includeDefects": true}'::jsonb), (2, '{"includeDefects": true, "tokenLimit": 16384}')) q(n, options),
     LATERAL train_data.validate_export('openai', 'selected', '{e6100000-0000-0000-0000-000000000001}', NULL, q.options)
         WITH ORDINALITY v(check_name, lines, ord)
ORDER BY q.n, v.ord;
SELECT * FROM train_data.validate_export('openai', 'selected', '{e6100000-0000-0000-0000-000000000002}', NULL,
                                          '{"includeDefects": true}');
ROLLBACK;

-- The documents, from the same writer: JSON (JSON.stringify's 2-space
-- layout, a summary with metadata), CSV (byte order mark, every field quoted,
-- a row per turn, none for a conversation without turns), Markdown.  Each is
-- its records joined with a newline; the export date is masked.
RESET ROLE;
CREATE FUNCTION document(format text, config jsonb, scope text DEFAULT 'all', ids uuid[] DEFAULT NULL,
                         filters jsonb DEFAULT NULL) RETURNS text
    LANGUAGE sql AS $$
    SELECT regexp_replace(string_agg(r.record, E'\n' ORDER BY r.n),
                          '(export_date": "|Export Date:\*\* )[-0-9T:.]+Z', '\1<now>')
    FROM train_data.export_conversations(format, scope, config, ids, filters) WITH ORDINALITY AS r(record, n) $$;
SET ROLE regress_alice;
SELECT document('json', '{"includeApprovalHistory": true, "includeParentReferences": true}') AS json;
SELECT document('json', '{"includeMetadata": false, "includeQualityScores": false}', 'selected',
                '{e6000000-0000-0000-0000-000000000003}') AS json_without_metadata;
SELECT document('json', '{}', 'filtered', NULL, '{"status": ["draft"]}') AS json_of_nothing;
SELECT document('csv', '{"includeParentReferences": true}', 'selected',
                '{e6000000-0000-0000-0000-000000000001,e6000000-0000-0000-0000-000000000003}') AS csv;
SELECT document('csv', '{"includeMetadata": false, "includeTimestamps": false, "includeQualityScores": false}',
                'selected', '{e6000000-0000-0000-0000-000000000002}') AS csv_header_only;
SELECT document('markdown', '{"includeParentReferences": true}') AS markdown;
SELECT document('markdown', '{"includeMetadata": false}', 'selected', '{e6000000-0000-0000-0000-000000000003}')
    AS markdown_without_metadata;
-- every JSON document parses, its count matches its list; the CSV starts
-- with the byte order mark; the log holds each document's exact size
SELECT document('json', '{}')::jsonb -> 'summary' AS summary,
       (SELECT jsonb_array_length(d -> 'conversations') = (d ->> 'conversation_count')::int
        FROM (SELECT document('json', '{}')::jsonb) AS j(d)) AS count_matches,
       left(document('csv', '{}'), 1) = U&'\FEFF' AS csv_bom;
SELECT v.format, sum(octet_length(r)) + count(*) - 1 AS bytes
FROM (VALUES ('json'), ('csv'), ('markdown')) AS v(format),
     LATERAL train_data.export_conversations(v.format, 'all', '{"includeTimestamps": false}') AS r
GROUP BY v.format ORDER BY v.format;
SELECT format, conversation_count, file_size FROM train_data.export_history()
WHERE config = '{"includeTimestamps": false}' AND format <> 'jsonl' ORDER BY format;

-- The log row is completed as the caller: a user id changed while a cursor
-- is fetched, or the row deleted meanwhile, fails the export at its last
-- record instead of leaving it 'processing' for good (an adversarial review).
BEGIN;
DECLARE c CURSOR FOR SELECT train_data.export_conversations('jsonl', 'selected', '{}',   -- a record a fetch
    '{e6000000-0000-0000-0000-000000000001,e6000000-0000-0000-0000-000000000003}');
MOVE FORWARD 1 IN c;
SET LOCAL train_data.user_id = :bob;
\set VERBOSITY sqlstate
FETCH ALL FROM c;
ROLLBACK;
\set VERBOSITY default
BEGIN;
DECLARE c CURSOR FOR SELECT train_data.export_conversations('jsonl', 'selected', '{}',   -- a record a fetch
    '{e6000000-0000-0000-0000-000000000001,e6000000-0000-0000-0000-000000000003}');
MOVE FORWARD 1 IN c;
DELETE FROM train_data.export_logs WHERE status = 'processing';
\set VERBOSITY sqlstate
FETCH ALL FROM c;
ROLLBACK;
\set VERBOSITY default
SELECT count(*) AS processing_logs FROM train_data.export_history() WHERE status = 'processing';

-- A reader that stops before the end (a LIMIT, a cursor closed, or left
-- open at COMMIT) leaves the log 'failed', saying after how many records:
-- before the thirty-fourth session each stayed 'processing' for good.  One
-- read to its end is completed, as before; a user id changed before the
-- cursor closes leaves her row as it is (it is not his to write).
DELETE FROM train_data.export_logs;
SELECT count(*) AS read FROM (SELECT train_data.export_conversations('jsonl', 'all', '{}') LIMIT 1) s;
BEGIN;
DECLARE c CURSOR FOR SELECT train_data.export_conversations('csv', 'all', '{}');
FETCH 2 FROM c \g /dev/null
CLOSE c;
COMMIT;
BEGIN;
DECLARE c CURSOR FOR SELECT train_data.export_conversations('markdown', 'all', '{}');
FETCH 1 FROM c \g /dev/null
COMMIT;
SELECT count(*) AS read FROM (SELECT train_data.export_conversations('json', 'all', '{}')) s;
BEGIN;
DECLARE c CURSOR FOR SELECT train_data.export_conversations('jsonl', 'all', '{}');
FETCH 1 FROM c \g /dev/null
SET LOCAL train_data.user_id = :bob;
CLOSE c;
COMMIT;
SELECT format, status, error_message FROM train_data.export_history() ORDER BY format, status;
DELETE FROM train_data.export_logs;
-- A reader stopping right after the last record has read the export whole:
-- it is completed (the export looks one record ahead).  Before the
-- thirty-sixth session a LIMIT of exactly the record count, or a FETCH of
-- that many then CLOSE, logged it 'failed'; one record fewer still does.
SELECT count(*) AS jsonl_records FROM train_data.export_conversations('jsonl', 'all', '{}') \gset
SELECT count(*) AS csv_records FROM train_data.export_conversations('csv', 'all', '{}') \gset
DELETE FROM train_data.export_logs;
SELECT count(*) AS read FROM (SELECT train_data.export_conversations('jsonl', 'all', '{}') LIMIT :jsonl_records) s;
SELECT count(*) AS read FROM (SELECT train_data.export_conversations('json', 'all', '{}') LIMIT 2) s;
BEGIN;
DECLARE c CURSOR FOR SELECT train_data.export_conversations('csv', 'all', '{}');
FETCH :csv_records FROM c \g /dev/null
CLOSE c;
COMMIT;
SELECT count(*) AS read FROM (SELECT train_data.export_conversations('markdown', 'all', '{}') LIMIT 1) s;
SELECT format, status, conversation_count, error_message FROM train_data.export_history() ORDER BY format, status;
DELETE FROM train_data.export_logs;
-- The look ahead only notes the end: the log is completed at the end of
-- the export or of its scan, so a savepoint rolled back after the last
-- record undoes nothing (a review of the first form, which completed the
-- log as it returned the last record: a PL/pgSQL loop with an exception
-- block per record, or a FETCH in a savepoint rolled back, left the log
-- 'processing' for good).
DO $$
DECLARE
    c refcursor;
    r text;
    n integer := 0;
BEGIN
    OPEN c FOR SELECT train_data.export_conversations('jsonl', 'all', '{}');
    LOOP
        BEGIN
            FETCH c INTO r;
            EXIT WHEN NOT FOUND;
            n := n + 1;
            IF n = 2 THEN
                RAISE EXCEPTION 'the reader''s own error, after the last record';
            END IF;
        EXCEPTION WHEN raise_exception THEN
            NULL;
        END;
    END LOOP;
    CLOSE c;
END
$$;
BEGIN;
DECLARE c CURSOR FOR SELECT train_data.export_conversations('jsonl', 'all', '{}');
FETCH 1 FROM c \g /dev/null
SAVEPOINT s;
FETCH 1 FROM c \g /dev/null
ROLLBACK TO SAVEPOINT s;
FETCH ALL FROM c \g /dev/null
CLOSE c;
COMMIT;
BEGIN;
DECLARE c CURSOR FOR SELECT train_data.export_conversations('json', 'all', '{}');
SAVEPOINT s;
FETCH 4 FROM c \g /dev/null
ROLLBACK TO SAVEPOINT s;
CLOSE c;
COMMIT;
SELECT format, status, conversation_count, error_message FROM train_data.export_history() ORDER BY format, status;
DELETE FROM train_data.export_logs;
-- A PL/pgSQL loop over an export whose body commits: PostgreSQL persists
-- the loop's query while it walks the portals' table, and the export
-- closing its cursor then crashed the server (SIGSEGV in
-- HoldPinnedPortals, from 1.2's first cursor; a review of the thirty-fourth
-- session: within five calls whatever the export).  The cursor is now left
-- to the end of the transaction there.
DO $$
DECLARE
    r record;
BEGIN
    FOR i IN 1..30 LOOP
        FOR r IN SELECT train_data.export_jsonl() AS line LOOP
            COMMIT;
        END LOOP;
        FOR r IN SELECT train_data.export_conversations('csv', 'all', '{}') AS line LIMIT 2 LOOP
            COMMIT;
        END LOOP;
    END LOOP;
END
$$;
SELECT status, error_message, count(*) FROM train_data.export_history(page_size => 100) GROUP BY 1, 2;
DELETE FROM train_data.export_logs;
-- The write is best effort: a COMMIT or CLOSE that cannot make it (a
-- transaction made read-only, row security turned off, another role) still
-- succeeds, the row left 'processing' (the review of the first form saw
-- each fail, and the transaction roll back with the export's own row).
BEGIN;
DECLARE c CURSOR FOR SELECT train_data.export_conversations('jsonl', 'all', '{}');
FETCH 1 FROM c \g /dev/null
SET TRANSACTION READ ONLY;
COMMIT;
BEGIN;
DECLARE c CURSOR FOR SELECT train_data.export_conversations('csv', 'all', '{}');
FETCH 1 FROM c \g /dev/null
SET LOCAL row_security = off;
COMMIT;
BEGIN;
DECLARE c CURSOR WITH HOLD FOR SELECT train_data.export_conversations('json', 'all', '{}') LIMIT 2;
FETCH 1 FROM c \g /dev/null
COMMIT;
CLOSE c;
SELECT format, status, error_message FROM train_data.export_history() ORDER BY format, status;
DELETE FROM train_data.export_logs;

-- Bad arguments.
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('csv')$$);
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'some')$$);
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'selected')$$);
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'filtered')$$);
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'filtered', NULL, '[]')$$);
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'filtered', NULL, '{"tier": "template"}')$$);
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'filtered', NULL, '{"qualityScoreMin": "6"}')$$);
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'filtered', NULL, '{"tiers": ["template"]}')$$);
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'filtered', NULL, '{"dateFrom": "yesterday-ish"}')$$);
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'all', NULL, NULL, '{"includeMetadata": "yes"}')$$);
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'all', NULL, NULL, '{"pretty": true}')$$);
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'all', NULL, NULL, '{"systemMessage": "Hi"}')$$);
-- a blank system message would be an empty turn in every line (a review of
-- the thirty-sixth session saw " \n" written); "" is none
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('openai', 'all', NULL, NULL, '{"systemMessage": " \n\u00a0\u200b"}')$$, true);
SELECT count(*) AS lines_without_system_message
FROM train_data.export_jsonl('openai', 'all', NULL, NULL, '{"systemMessage": ""}') l WHERE l NOT LIKE '%"system"%';
SELECT expect_error($$SELECT * FROM train_data.export_jsonl('original', 'all', NULL, NULL, NULL)$$);

-- Timestamps beyond ISO's four-digit years are written in its expanded
-- form, whatever the session's DateStyle and TimeZone (a review of 1.2:
-- they followed both, so one export gave other bytes in another session).
RESET ROLE;
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, quality_score, created_by, created_at)
VALUES ('e6000000-0000-0000-0000-0000000000f1', 'Far future', 'P', 'N', 'template', 'generated', 8, :alice,
        '12000-01-01 00:00+00'),
       ('e6000000-0000-0000-0000-0000000000f2', 'Far past', 'P', 'N', 'template', 'generated', 8, :alice,
        '0045-03-15 12:00:00.5+00 BC'),   -- (45 BC: the astronomical year -44)
       ('e6000000-0000-0000-0000-0000000000f3', 'Year one', 'P', 'N', 'template', 'generated', 8, :alice,
        '0001-01-01 00:00+00 BC');        -- (year 0)
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c, n, CASE n WHEN 1 THEN 'user' ELSE 'assistant' END,
       CASE n WHEN 1 THEN 'What year is it?' ELSE 'A year far from ours.' END
FROM unnest('{e6000000-0000-0000-0000-0000000000f1,e6000000-0000-0000-0000-0000000000f2,e6000000-0000-0000-0000-0000000000f3}'::uuid[]) c,
     generate_series(1, 2) n;
SET datestyle = 'SQL, DMY';
SET timezone = 'Asia/Kolkata';
SELECT substring(l FROM '"created_at":"[^"]*"') AS created
FROM train_data.export_jsonl('original', 'selected', '{e6000000-0000-0000-0000-0000000000f1,
                             e6000000-0000-0000-0000-0000000000f2,e6000000-0000-0000-0000-0000000000f3}') l;
-- (and Markdown's dates, as the original showed them, name the era)
SELECT substring(r FROM '[A-Z][a-z][a-z] [0-9]+, [0-9]+(?: BC)?, [0-9:]+ [AP]M') AS markdown_created
FROM train_data.export_conversations('markdown', 'selected', '{}',
                                     '{e6000000-0000-0000-0000-0000000000f1,e6000000-0000-0000-0000-0000000000f2}') r
WHERE r LIKE '%Far%';
RESET datestyle;
RESET timezone;

RESET ROLE;
RESET train_data.user_id;
DELETE FROM train_data.conversations;
DELETE FROM train_data.export_logs;
