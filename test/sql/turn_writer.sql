-- turn_writer: engine_store_turns(), the native writer of a completion's
-- turns and signature row (src/turn_writer.c).  It leaves out the
-- foreign-key check of each turn, so it must write only for a conversation
-- this transaction inserted, for that conversation's owner, and only while
-- the tables are as it expects; otherwise it writes nothing and returns
-- false, and complete_batch_item writes with SQL.  What it writes must be
-- what the SQL wrote.  Run as the extension owner (the function is
-- internal).
\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''

CREATE FUNCTION public.tw_new_conversation(id uuid, owner uuid) RETURNS void
    LANGUAGE sql
AS $$
    INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, created_by)
    VALUES (id, 'turn writer', 'p', 'e', 'template', 'generated', owner)
$$;

-- Bob's conversation, committed before: not this transaction's.
SELECT public.tw_new_conversation('b7000000-0000-0000-0000-000000000000', :bob);

-- 1. Written: the turns numbered from 1, ceil(characters / 4) tokens, the
-- defaults (a UUIDv7 id, the transaction's time), and the signature row
-- the SQL functions compute.
BEGIN;
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-000000000001', :alice);
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000001', :alice,
    '[{"role": "user", "content": "Héllo, how do I save?"},
      {"role": "assistant", "content": "Put ten percent aside each month.", "extra": 1},
      {"role": "user", "content": ""}]') AS written;
SELECT turn_number, role, content, token_count, created_by = :alice AS owner_kept,
       created_at = now() AS now, substr(id::text, 15, 1) AS uuid_version
FROM train_data.conversation_turns
WHERE conversation_id = 'a7000000-0000-0000-0000-000000000001' ORDER BY turn_number;
SELECT count(DISTINCT id) AS distinct_ids FROM train_data.conversation_turns
WHERE conversation_id = 'a7000000-0000-0000-0000-000000000001';
SELECT s.created_by = :alice AS owner_kept,
       s.signature = train_data.conversation_text_signature(
           '[{"content": "Héllo, how do I save?"}, {"content": "Put ten percent aside each month."}, {"content": ""}]')
           AS same_signature,
       s.bands = train_data.minhash_bands(s.signature) AS same_bands
FROM train_data.conversation_signatures s WHERE s.conversation_id = 'a7000000-0000-0000-0000-000000000001';
-- the key checks left out, the key still holds: a delete cascades
DELETE FROM train_data.conversations WHERE id = 'a7000000-0000-0000-0000-000000000001';
SELECT (SELECT count(*) FROM train_data.conversation_turns
        WHERE conversation_id = 'a7000000-0000-0000-0000-000000000001') AS turns_left,
       (SELECT count(*) FROM train_data.conversation_signatures
        WHERE conversation_id = 'a7000000-0000-0000-0000-000000000001') AS signatures_left;
ROLLBACK;

-- 2. Not written (false, no row) for a parent the key check would have to
-- check: another transaction's conversation, this one's for another owner,
-- one that does not exist, one this transaction changed or deleted, or one
-- inserted in a savepoint rolled back.
BEGIN;
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-000000000002', :alice);
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-000000000003', :alice);
UPDATE train_data.conversations SET title = 'changed' WHERE id = 'a7000000-0000-0000-0000-000000000003';
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-000000000004', :alice);
DELETE FROM train_data.conversations WHERE id = 'a7000000-0000-0000-0000-000000000004';
SAVEPOINT s;
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-000000000005', :alice);
ROLLBACK TO SAVEPOINT s;
SELECT c.what, train_data.engine_store_turns(c.id, c.owner, '[{"role": "user", "content": "x"}]') AS written
FROM (VALUES ('committed before, its owner', 'b7000000-0000-0000-0000-000000000000'::uuid, :bob::uuid),
             ('committed before, another owner', 'b7000000-0000-0000-0000-000000000000', :alice),
             ('this transaction''s, another owner', 'a7000000-0000-0000-0000-000000000002', :bob),
             ('none', 'a7000000-0000-0000-0000-0000000000ff', :alice),
             ('changed by this transaction', 'a7000000-0000-0000-0000-000000000003', :alice),
             ('deleted by this transaction', 'a7000000-0000-0000-0000-000000000004', :alice),
             ('in a savepoint rolled back', 'a7000000-0000-0000-0000-000000000005', :alice)) AS c(what, id, owner)
ORDER BY c.what;
SELECT count(*) AS turns_written FROM train_data.conversation_turns
WHERE conversation_id IN ('b7000000-0000-0000-0000-000000000000', 'a7000000-0000-0000-0000-000000000002',
                          'a7000000-0000-0000-0000-000000000003', 'a7000000-0000-0000-0000-0000000000ff',
                          'a7000000-0000-0000-0000-000000000004', 'a7000000-0000-0000-0000-000000000005');
SELECT count(*) AS signatures_written FROM train_data.conversation_signatures
WHERE conversation_id IN ('b7000000-0000-0000-0000-000000000000', 'a7000000-0000-0000-0000-000000000002',
                          'a7000000-0000-0000-0000-000000000003', 'a7000000-0000-0000-0000-0000000000ff',
                          'a7000000-0000-0000-0000-000000000004', 'a7000000-0000-0000-0000-000000000005');
ROLLBACK;

-- 3. Turns of another shape are left to the SQL (which reports them):
-- false, nothing written.
BEGIN;
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-000000000006', :alice);
SELECT t.turns, train_data.engine_store_turns('a7000000-0000-0000-0000-000000000006', :alice, t.turns) AS written
FROM (VALUES ('{"role": "user", "content": "x"}'::jsonb), ('"x"'), ('[1]'), ('[{"role": "user"}]'),
             ('[{"role": 1, "content": "x"}]'), ('[{"role": "user", "content": null}]'),
             ('[{"role": "user", "content": "x"}, []]')) AS t(turns);
SELECT count(*) AS turns_written FROM train_data.conversation_turns
WHERE conversation_id = 'a7000000-0000-0000-0000-000000000006';
ROLLBACK;

-- 4. The table's constraints hold as for an INSERT: a role the CHECK
-- refuses, the same turn twice (the unique key).  Nothing stays.
BEGIN;
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-000000000007', :alice);
\set VERBOSITY terse
SAVEPOINT s;
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000007', :alice,
    '[{"role": "user", "content": "x"}, {"role": "system", "content": "y"}]');
ROLLBACK TO SAVEPOINT s;
\set VERBOSITY default
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000007', :alice,
    '[{"role": "user", "content": "x"}]') AS written;
SAVEPOINT s;
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000007', :alice,
    '[{"role": "user", "content": "x"}]');
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS turns FROM train_data.conversation_turns
WHERE conversation_id = 'a7000000-0000-0000-0000-000000000007';
ROLLBACK;

-- 5. Many and long turns: 5,000 turns (in chunks of 64 rows), one of
-- 300 kB (stored out of line), each read back as written.
BEGIN;
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-000000000008', :alice);
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000008', :alice,
    (SELECT jsonb_agg(jsonb_build_object('role', CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
                                         'content', CASE WHEN g = 77 THEN repeat(md5(g::text), 10000) ELSE 'turn ' || g END)
                      ORDER BY g)
     FROM generate_series(1, 5000) g)) AS written;
SELECT count(*) AS turns, min(turn_number), max(turn_number),
       count(*) FILTER (WHERE content = CASE WHEN turn_number = 77 THEN repeat(md5(turn_number::text), 10000)
                                             ELSE 'turn ' || turn_number END
                          AND role = CASE WHEN turn_number % 2 = 1 THEN 'user' ELSE 'assistant' END
                          AND token_count = (char_length(content) + 3) / 4) AS as_written
FROM train_data.conversation_turns WHERE conversation_id = 'a7000000-0000-0000-0000-000000000008';
ROLLBACK;

-- 6. A table not as the writer expects is left to the SQL: another insert
-- trigger (the site's own) on the turns or the signatures, one of the
-- extension's own made otherwise, a rule, a generated column, a domain
-- column without a default, a caller under row-level security or without
-- the INSERT privilege, a read-only transaction.  Each false,
-- nothing written; the writer writes again once the table is back.
CREATE TABLE public.tw_seen (conversation_id uuid, turn_number int);
CREATE FUNCTION public.tw_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.tw_seen VALUES (NEW.conversation_id, NEW.turn_number);
    RETURN NEW;
END
$$;
BEGIN;
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-000000000009', :alice);
CREATE TRIGGER tw_audit AFTER INSERT ON train_data.conversation_turns FOR EACH ROW EXECUTE FUNCTION public.tw_audit();
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS with_a_trigger;
DROP TRIGGER tw_audit ON train_data.conversation_turns;
CREATE TRIGGER tw_audit AFTER INSERT ON train_data.conversation_signatures FOR EACH STATEMENT
    EXECUTE FUNCTION public.tw_audit();
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS with_a_signature_trigger;
DROP TRIGGER tw_audit ON train_data.conversation_signatures;
CREATE RULE tw_rule AS ON INSERT TO train_data.conversation_turns DO ALSO NOTIFY tw;
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS with_a_rule;
DROP RULE tw_rule ON train_data.conversation_turns;
-- (one of the extension's own triggers made again with another function,
-- or with other arguments; then as the extension makes it)
DROP TRIGGER conversation_turns_owner ON train_data.conversation_turns;
CREATE TRIGGER conversation_turns_owner BEFORE INSERT ON train_data.conversation_turns
    FOR EACH ROW WHEN (NEW.created_by IS NULL) EXECUTE FUNCTION public.tw_audit();
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS with_another_function;
DROP TRIGGER conversation_turns_owner ON train_data.conversation_turns;
CREATE TRIGGER conversation_turns_owner BEFORE INSERT ON train_data.conversation_turns
    FOR EACH ROW WHEN (NEW.created_by IS NULL)
    EXECUTE FUNCTION train_data.inherit_owner('batch_jobs', 'batch_job_id');
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS with_other_arguments;
DROP TRIGGER conversation_turns_owner ON train_data.conversation_turns;
CREATE TRIGGER conversation_turns_owner BEFORE INSERT ON train_data.conversation_turns
    FOR EACH ROW WHEN (NEW.created_by IS NULL)
    EXECUTE FUNCTION train_data.inherit_owner('conversations', 'conversation_id');
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS made_as_the_extension_makes_it;
ROLLBACK;
BEGIN;
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-000000000009', :alice);
-- (a generated column: its expression needs the row an INSERT computes it from)
ALTER TABLE train_data.conversation_turns ADD COLUMN tw_g int GENERATED ALWAYS AS (turn_number * 10) STORED;
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS with_a_generated_column;
ALTER TABLE train_data.conversation_turns DROP COLUMN tw_g;
-- (a domain column a DBA added without a default: an INSERT checks the
-- domain's constraints on its NULL)
CREATE DOMAIN public.tw_note AS text;
ALTER TABLE train_data.conversation_turns ADD COLUMN tw_note public.tw_note;
ALTER DOMAIN public.tw_note ADD CONSTRAINT tw_note_given CHECK (VALUE IS NOT NULL) NOT VALID;
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS with_a_domain_column;
ALTER TABLE train_data.conversation_turns DROP COLUMN tw_note;
-- (a role with the extension owner's privileges: under row-level security
-- forced on the table, or without the INSERT privilege, the SQL decides)
CREATE ROLE regress_tw_engine;
DO $$ BEGIN EXECUTE format('GRANT %I TO regress_tw_engine', current_user); END $$;
ALTER TABLE train_data.conversation_turns FORCE ROW LEVEL SECURITY;
SET LOCAL ROLE regress_tw_engine;
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS under_row_security;
RESET ROLE;
ALTER TABLE train_data.conversation_turns NO FORCE ROW LEVEL SECURITY;
DO $$ BEGIN EXECUTE format('REVOKE INSERT ON train_data.conversation_signatures FROM %I', current_user); END $$;
SET LOCAL ROLE regress_tw_engine;
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS without_insert;
RESET ROLE;
DO $$ BEGIN EXECUTE format('GRANT INSERT ON train_data.conversation_signatures TO %I', current_user); END $$;
SET LOCAL ROLE regress_tw_engine;
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS with_both_again;
RESET ROLE;
-- (a transaction turned read-only)
SET LOCAL transaction_read_only = on;
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS read_only;
ROLLBACK;
BEGIN;
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-000000000009', :alice);
SELECT count(*) AS turns_written FROM train_data.conversation_turns
WHERE conversation_id = 'a7000000-0000-0000-0000-000000000009';
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-000000000009', :alice,
    '[{"role": "user", "content": "x"}]') AS as_expected_again;
ROLLBACK;

-- 7. A completion with a trigger of the site's on the turns: the SQL
-- writes them, so the trigger fires for each; the turns and signature are
-- the same as the native writer's, which makes two key checks fewer.
-- (it returns the scans of the conversations' key by the completion, read
-- within its transaction: with SQL, the key checks of each turn and of the
-- signature; the native writer looks once)
CREATE FUNCTION public.tw_complete(job_name text) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    job uuid;
    item uuid;
    scans bigint;
BEGIN
    SET LOCAL train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
    INSERT INTO train_data.templates (name, category, structure, created_by)
    VALUES (job_name, 'c', 'Talk about savings', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')
    ON CONFLICT DO NOTHING;
    job := train_data.create_batch(job_name,
        jsonb_build_array(jsonb_build_object('template_id',
            (SELECT t.id FROM train_data.templates t WHERE t.name = job_name LIMIT 1), 'tier', 'template',
            'parameters', '{}'::jsonb)));
    SELECT c.item_id INTO item FROM train_data.claim_batch_items('tw-worker', 1) c;
    SELECT s.idx_scan INTO scans FROM pg_stat_xact_all_tables s WHERE s.relid = 'train_data.conversations'::regclass;
    PERFORM train_data.complete_batch_item(item,
        '{"type": "message", "model": "claude-3-5-haiku-20241022", "stop_reason": "end_turn",
          "usage": {"input_tokens": 10, "output_tokens": 20},
          "content": [{"type": "text", "text": "{\"title\": \"Savings\", \"turns\": [{\"role\": \"user\", \"content\": \"How much should I save?\"}, {\"role\": \"assistant\", \"content\": \"Start with ten percent.\"}]}"}]}'::jsonb,
        100);
    RETURN (SELECT s.idx_scan FROM pg_stat_xact_all_tables s WHERE s.relid = 'train_data.conversations'::regclass)
           - scans;
END
$$;
CREATE TRIGGER tw_audit AFTER INSERT ON train_data.conversation_turns FOR EACH ROW EXECUTE FUNCTION public.tw_audit();
SELECT public.tw_complete('tw with trigger') AS scans_with_sql
\gset
DROP TRIGGER tw_audit ON train_data.conversation_turns;
SELECT public.tw_complete('tw native') AS scans_native
\gset
SELECT :scans_with_sql - :scans_native AS key_scans_saved;
SELECT j.name, count(s.*) AS audited, array_agg(t.turn_number || ' ' || t.role || ' ' || t.token_count ORDER BY t.turn_number) AS turns,
       bool_and(sig.signature = train_data.conversation_text_signature(
           '[{"content": "How much should I save?"}, {"content": "Start with ten percent."}]')) AS signed
FROM train_data.batch_jobs j
JOIN train_data.batch_items i ON i.batch_job_id = j.id
JOIN train_data.conversation_turns t ON t.conversation_id = i.conversation_id
JOIN train_data.conversation_signatures sig ON sig.conversation_id = i.conversation_id
LEFT JOIN public.tw_seen s ON s.conversation_id = t.conversation_id AND s.turn_number = t.turn_number
WHERE j.name LIKE 'tw %'
GROUP BY j.name ORDER BY j.name;

-- 8. Not for a role without the privilege: internal (EXECUTE not granted).
-- Granted to a role that is not the engine, it answers false before it
-- locks anything.
SET ROLE regress_alice;
SELECT train_data.engine_store_turns('b7000000-0000-0000-0000-000000000000', :bob, '[{"role": "user", "content": "x"}]');
RESET ROLE;
BEGIN;
SELECT public.tw_new_conversation('a7000000-0000-0000-0000-00000000000a', :alice);
GRANT EXECUTE ON FUNCTION train_data.engine_store_turns(uuid, uuid, jsonb) TO regress_alice;
GRANT INSERT ON train_data.conversation_turns, train_data.conversation_signatures TO regress_alice;
SET LOCAL ROLE regress_alice;
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-00000000000a', :alice,
    '[{"role": "user", "content": "x"}]') AS not_the_engine;
RESET ROLE;
-- (one that bypasses row-level security, with the INSERT privilege: still
-- not the engine)
CREATE ROLE regress_tw_bypass BYPASSRLS;
GRANT USAGE ON SCHEMA train_data TO regress_tw_bypass;
GRANT EXECUTE ON FUNCTION train_data.engine_store_turns(uuid, uuid, jsonb) TO regress_tw_bypass;
GRANT INSERT ON train_data.conversation_turns, train_data.conversation_signatures TO regress_tw_bypass;
SET LOCAL ROLE regress_tw_bypass;
SELECT train_data.engine_store_turns('a7000000-0000-0000-0000-00000000000a', :alice,
    '[{"role": "user", "content": "x"}]') AS bypassing_row_security;
RESET ROLE;
SELECT count(*) AS locks_on_turns_and_signatures FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'relation'
  AND relation IN ('train_data.conversation_turns'::regclass, 'train_data.conversation_signatures'::regclass);
ROLLBACK;
SELECT train_data.engine_store_turns(NULL, :alice, '[]');

DELETE FROM train_data.batch_jobs WHERE name LIKE 'tw %';
DELETE FROM train_data.conversations WHERE title IN ('turn writer', 'Savings');
DELETE FROM train_data.templates WHERE name LIKE 'tw %';
DROP FUNCTION public.tw_complete(text);
DROP FUNCTION public.tw_audit();
DROP TABLE public.tw_seen;
DROP FUNCTION public.tw_new_conversation(uuid, uuid);
