-- tenant_attacks: the attacks of the 1.1 tenant-safety review, written as a
-- hostile user of a shared database would write them (two application roles
-- with the README's grants, a worker role, a role with no grants), each with
-- the answer of a correct extension.  On 1.1 every one of them succeeded.
-- The cursor swap is in export_attacks, memory and interrupts in limits,
-- the EXECUTE list in privileges, the policy matrix in rls, waiting on
-- locks in the isolation spec claim_never_waits.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''
\set tpl '''e1000000-0000-0000-0000-000000000001'''
\set ok_response '{"type": "message", "model": "claude-sonnet-4-5-20250929", "stop_reason": "end_turn", "usage": {"input_tokens": 10, "output_tokens": 20}, "content": [{"type": "text", "text": "{\\"title\\": \\"Saving\\", \\"turns\\": [{\\"role\\": \\"user\\", \\"content\\": \\"Should I save?\\"}, {\\"role\\": \\"assistant\\", \\"content\\": \\"Yes, early and often.\\"}]}"}]}'

-- Bob's work: a shared template, a conversation, a batch.
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.templates (id, name, category, structure, variables, quality_threshold) VALUES
    (:tpl, 'Shared name', 'finance', 'Talk with {{persona}}.', '[{"name": "persona", "type": "text"}]', 6.0);
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status)
VALUES ('e3000000-0000-0000-0000-00000000b0b1', 'tpl_bob_000001', 'bob private', 'Bob', 'calm', 'template', 'generated');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('e3000000-0000-0000-0000-00000000b0b1', 1, 'user', 'bob secret'),
       ('e3000000-0000-0000-0000-00000000b0b1', 2, 'assistant', 'bob answer');
SELECT train_data.create_batch('bob batch', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Bo"}}]')
    AS bob_job \gset

------------------------------------------------------------------ 1. writing into another user's account
SET ROLE regress_alice;
SET train_data.user_id = :alice;
-- a conversation "approved by" Bob, to land in his training file
SELECT expect_error($$INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, approved_by, approved_at)
                      VALUES ('planted_1', 'planted', 'p', 'e', 'template', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', now())$$);
-- her own conversation, approved in one UPDATE with a review entry naming Bob
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status)
VALUES ('e3000000-0000-0000-0000-0000000a1ce1', 'planted_2', 'alice text', 'p', 'e', 'template', 'generated');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('e3000000-0000-0000-0000-0000000a1ce1', 1, 'user', 'alice wrote this'),
       ('e3000000-0000-0000-0000-0000000a1ce1', 2, 'assistant', 'and this');
SELECT expect_error($$UPDATE train_data.conversations
                      SET status = 'approved', approved_by = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', approved_at = now(),
                          review_history = review_history || '[{"action": "approved", "performedBy": "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"}]'
                      WHERE conversation_id = 'planted_2'$$);
SELECT expect_error($$UPDATE train_data.conversations
                      SET status = 'approved', approved_by = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', approved_at = now(),
                          review_history = review_history || '[{"action": "approved", "performedBy": "bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"}]'
                      WHERE conversation_id = 'planted_2'$$, true);
-- handing her conversation to Bob while staying its approver
SELECT expect_error($$UPDATE train_data.conversations
                      SET created_by = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', approved_by = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
                      WHERE conversation_id = 'planted_2'$$);
-- review_conversation records her, the owner; rewriting the history is refused
SELECT status, approved_by = :alice AS approved_by_owner,
       review_history -> -1 ->> 'performedBy' = :alice AS entry_by_owner
FROM train_data.review_conversation('e3000000-0000-0000-0000-0000000a1ce1', 'approved');
SELECT expect_error($$UPDATE train_data.conversations SET review_history = '[]' WHERE conversation_id = 'planted_2'$$);
-- turns aimed at Bob's conversation: refused, with the same answer as for
-- an id that does not exist (the key check names only her own id)
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
                      VALUES ('e3000000-0000-0000-0000-00000000b0b1', 3, 'user', 'planted turn')$$, true);
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
                      VALUES ('e3000000-0000-0000-0000-00000000dead', 3, 'user', 'planted turn')$$, true);
-- nor which turn numbers it has: turn 1, which it has, gets the same
-- answer (the owner is in the turns' unique key, so her row never meets
-- his), and so does moving a turn of her own into it
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
                      VALUES ('e3000000-0000-0000-0000-00000000b0b1', 1, 'user', 'planted turn')$$, true);
SELECT expect_error($$UPDATE train_data.conversation_turns SET conversation_id = 'e3000000-0000-0000-0000-00000000b0b1'
                      WHERE conversation_id = 'e3000000-0000-0000-0000-0000000a1ce1' AND turn_number = 2$$, true);
-- scoring Bob's conversation (score_conversation locks the row it scores
-- first): the same answer as for an id that does not exist, his row
-- unchanged (below: no score, the turn count as written)
SELECT expect_error($$SELECT train_data.score_conversation('e3000000-0000-0000-0000-00000000b0b1')$$);
SELECT expect_error($$SELECT train_data.score_conversation('e3000000-0000-0000-0000-00000000dead')$$);
-- Bob's training file, review queue and statistics hold only his own text
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT quality_score IS NULL AS bob_unscored, turn_count FROM train_data.conversations WHERE id = 'e3000000-0000-0000-0000-00000000b0b1';
SELECT count(*) AS bob_sees_alice FROM train_data.conversations WHERE created_by = :alice;
SELECT count(*) AS alice_text_in_bob_export FROM train_data.export_jsonl('original', 'all') l WHERE l::text LIKE '%alice%';
SELECT (train_data.conversation_statistics() ->> 'total')::int AS bob_total;

------------------------------------------------------------------ 6. archiving another user's conversation
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT train_data.create_batch('alice batch', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Al"}}]', '{}', 3, 'continue', 'high')
    AS alice_job \gset
-- her own item pointed at Bob's conversation, to be archived on completion:
-- refused, and the answer does not tell whether Bob's id exists
SELECT expect_error(format($$UPDATE train_data.batch_items SET parent_conversation_id = 'e3000000-0000-0000-0000-00000000b0b1'
                             WHERE batch_job_id = %L$$, :'alice_job'), true, true);
SELECT expect_error(format($$UPDATE train_data.batch_items SET parent_conversation_id = 'e3000000-0000-0000-0000-00000000dead'
                             WHERE batch_job_id = %L$$, :'alice_job'), true, true);
-- nor can she forge what the engine keeps
SELECT expect_error(format($$UPDATE train_data.batch_items SET status = 'processing', lease_expires_at = 'infinity'
                             WHERE batch_job_id = %L$$, :'alice_job'), false, true);
SELECT expect_error(format($$UPDATE train_data.batch_jobs SET status = 'completed' WHERE id = %L$$, :'alice_job'), false, true);
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, position, tier, available_at)
                      SELECT id, 9, 'template', 'infinity' FROM train_data.batch_jobs WHERE name = 'alice batch'$$, false, true);
-- her item aimed at Bob's job, whose id she knows, at the position his one
-- item takes and at one no item takes: the same 23503 (the position's
-- unique key holds the owner, so her row never meets his; a 23505 for a
-- taken position told her how many items his job has: a review of the
-- errors, thirty-fifth session)
SELECT expect_error(format($$INSERT INTO train_data.batch_items (batch_job_id, position, tier, template_id, parameters)
                             VALUES (%L, 1, 'template', 'e1000000-0000-0000-0000-000000000001', '{"persona": "A"}')$$,
                           :'bob_job'), true, true) AS taken_position,
       expect_error(format($$INSERT INTO train_data.batch_items (batch_job_id, position, tier, template_id, parameters)
                             VALUES (%L, 2, 'template', 'e1000000-0000-0000-0000-000000000001', '{"persona": "A"}')$$,
                           :'bob_job'), true, true) AS free_position;

------------------------------------------------------------------ 3. one bad item stops the queue
-- A value that can never render is refused when the item is changed.
SELECT expect_error(format($$UPDATE train_data.batch_items SET parameters = jsonb_build_object('persona', %L::jsonb)
                             WHERE batch_job_id = %L$$, repeat('[', 300) || repeat(']', 300), :'alice_job'), false, true);
SELECT expect_error(format($$UPDATE train_data.batch_items SET parameters = '{}' WHERE batch_job_id = %L$$, :'alice_job'), true, true);
-- Found by a review: a claim rendered an item without a prompt, so an owner
-- who set her queued item's prompt NULL and gave it large parameters held up
-- every claim that came to it (and a claim a statement timeout cut short left
-- it first in the claim order).  Her write renders it again, as she writes
-- it, and an item's parameters are at most 4 MB (read from the header).
WITH u AS (UPDATE train_data.batch_items SET prompt = NULL WHERE batch_job_id = :'alice_job' RETURNING prompt)
SELECT prompt AS rendered_again FROM u;
SELECT expect_error(format($$UPDATE train_data.batch_items SET parameters = parameters || jsonb_build_object('junk', repeat('x', 5000000))
                             WHERE batch_job_id = %L$$, :'alice_job'), true, true);
-- One that slipped in without a prompt (queued before 1.2) fails alone: a
-- poisoned item in the highest-priority job, another user's item still claimed.
RESET ROLE;
INSERT INTO train_data.batch_jobs (id, name, total_items, priority, created_by)
VALUES ('e4000000-0000-0000-0000-00000000bad0', 'poisoned', 1, 'high', :alice);
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters)
VALUES ('e4000000-0000-0000-0000-00000000bad0', :tpl, 1, 'template',
        jsonb_build_object('persona', (repeat('{"a":', 300) || '1' || repeat('}', 300))::jsonb));

------------------------------------------------------------------ 4. empty jobs exhaust the lock table
-- 10,000 empty high-priority jobs of Bob's, and an idle job with queued
-- items that is paused: they cost the claim nothing and take no lock.
INSERT INTO train_data.batch_jobs (name, total_items, priority, created_by)
SELECT 'empty ' || g, 0, 'high', :bob FROM generate_series(1, 10000) g;

SET ROLE regress_worker;
RESET train_data.user_id;
BEGIN;
CREATE TEMP TABLE claimed AS SELECT * FROM train_data.claim_batch_items('w1', 3);
SELECT count(*) AS locks_held FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory';
COMMIT;
RESET ROLE;
SELECT j.name, c."position", c.attempt, c.prompt FROM claimed c JOIN train_data.batch_jobs j ON j.id = c.batch_job_id
ORDER BY j.name;
SELECT status, error_code, left(error_message, 40) AS reason FROM train_data.batch_items
WHERE batch_job_id = 'e4000000-0000-0000-0000-00000000bad0';

------------------------------------------------------------------ 10. a stale worker overwrites the rightful one
SELECT item_id AS alice_item, attempt AS first_attempt FROM claimed c
WHERE batch_job_id = :'alice_job' \gset
-- the first worker's lease runs out (now: a lease ends after the floor of
-- this session's scans for leases run out, its last claim's now(): see
-- claim_glue.c); a second worker takes the item
UPDATE train_data.batch_items SET lease_expires_at = now() WHERE id = :'alice_item';
SET ROLE regress_worker;
SELECT "position", attempt FROM train_data.claim_batch_items('w2', 1);
-- the first worker's late completion, with its lease token: refused
SELECT expect_error(format('SELECT train_data.complete_batch_item(%L, %L, 10, %s)', :'alice_item', :'ok_response', :first_attempt), false, true);
SELECT expect_error(format('SELECT train_data.heartbeat_batch_item(%L, NULL, %L, %s)', :'alice_item', '5 minutes', :first_attempt), false, true);
-- the rightful worker's completes
SELECT train_data.complete_batch_item(:'alice_item', :'ok_response', 10, :first_attempt + 1) IS NOT NULL AS rightful_completed;
RESET ROLE;

------------------------------------------------------------------ 10b. a stale worker of a deleted item
-- Found by an adversarial review of 1.2: the lease token counted the claims
-- of one row, so when Alice deleted her job with an item in flight and Bob
-- inserted an item with that item's id, its first claim carried token 1
-- again, and the late completion of Alice's worker was stored as Bob's
-- conversation.  The new row's tokens now start past the deleted row's.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT train_data.create_batch('alice reused', jsonb_build_array(jsonb_build_object('template_id', :tpl, 'parameters', '{"persona": "Al"}'::jsonb)),
                               priority => 'high') AS alice_reused_job \gset
SELECT id AS reused_item FROM train_data.batch_items WHERE batch_job_id = :'alice_reused_job' \gset
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT item_id = :'reused_item' AS alice_item_claimed, attempt AS stale_attempt FROM train_data.claim_batch_items('w-stale', 1) \gset
SELECT :'alice_item_claimed'::boolean AS alice_item_claimed, :stale_attempt AS stale_attempt;
-- Alice deletes her job, the item in flight with it
SET ROLE regress_alice;
SET train_data.user_id = :alice;
DELETE FROM train_data.batch_jobs WHERE id = :'alice_reused_job';
-- Bob queues an item with its id; a worker claims it: its token is 2
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.batch_jobs (name, total_items, priority) VALUES ('bob reused', 1, 'high') RETURNING id AS bob_reused_job \gset
INSERT INTO train_data.batch_items (id, batch_job_id, template_id, position, tier, parameters)
VALUES (:'reused_item', :'bob_reused_job', :tpl, 1, 'template', '{"persona": "Bo"}');
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT item_id = :'reused_item' AS bob_item_claimed, attempt FROM train_data.claim_batch_items('w-new', 1);
-- the late completion of Alice's worker, with its token: refused
SELECT expect_error(format('SELECT train_data.complete_batch_item(%L, %L, 10, %s)', :'reused_item', :'ok_response', :stale_attempt), false, true);
-- no user sees, writes or locks the tokens kept, though the setup granted
-- the table to her (a careless site's GRANT): she may not use its schema
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT has_table_privilege((SELECT oid FROM pg_class WHERE relname = 'deleted_item_tokens'
                            AND relnamespace = 'train_data_internal'::regnamespace), 'DELETE') AS granted,
       has_schema_privilege('train_data_internal', 'USAGE') AS schema_usage;
SELECT expect_error('SELECT count(*) FROM train_data_internal.deleted_item_tokens') AS tokens_seen;
SELECT expect_error('DELETE FROM train_data_internal.deleted_item_tokens') AS tokens_deleted;
SELECT expect_error(format('INSERT INTO train_data_internal.deleted_item_tokens (item_id, token) VALUES (%L, 0) ON CONFLICT (item_id) DO UPDATE SET token = 0', :'reused_item')) AS token_forged;
SELECT expect_error('LOCK TABLE train_data_internal.deleted_item_tokens') AS tokens_locked;
-- Bob cancels his item in flight (its call is lost) and deletes it; queued
-- again with the same id, in a new job, its first claim is past both
UPDATE train_data.batch_items SET status = 'cancelled' WHERE id = :'reused_item';
-- (nor can an item claimed once give its id up without leaving its token:
-- its id is kept)
SELECT expect_error(format('UPDATE train_data.batch_items SET id = gen_random_uuid() WHERE id = %L', :'reused_item'), false, true);
DELETE FROM train_data.batch_items WHERE id = :'reused_item';
INSERT INTO train_data.batch_jobs (name, total_items, priority) VALUES ('bob reused again', 1, 'high') RETURNING id AS bob_reused_job \gset
INSERT INTO train_data.batch_items (id, batch_job_id, template_id, position, tier, parameters)
VALUES (:'reused_item', :'bob_reused_job', :tpl, 1, 'template', '{"persona": "Bo"}');
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT item_id = :'reused_item' AS bob_item_claimed, attempt FROM train_data.claim_batch_items('w-third', 1);
SELECT expect_error(format('SELECT train_data.complete_batch_item(%L, %L, 10, 2)', :'reused_item', :'ok_response'), false, true);
SELECT train_data.complete_batch_item(:'reused_item', :'ok_response', 10, 3) IS NOT NULL AS rightful_completed;
RESET ROLE;
-- an item deleted once it ended with every call reported keeps its token
-- too: a call of its worker is retried after a connection lost with the
-- outcome unknown (the reference worker retries a completion, a failure
-- and a release), and the retry of a completion that committed was stored
-- as the next item's with that id (a review of the fix)
SET ROLE regress_bob;
SET train_data.user_id = :bob;
DELETE FROM train_data.batch_items WHERE id = :'reused_item';
RESET ROLE;
SELECT token FROM train_data_internal.deleted_item_tokens WHERE item_id = :'reused_item';
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.batch_jobs (name, total_items, priority) VALUES ('bob reused thrice', 1, 'high') RETURNING id AS bob_reused_job \gset
INSERT INTO train_data.batch_items (id, batch_job_id, template_id, position, tier, parameters)
VALUES (:'reused_item', :'bob_reused_job', :tpl, 1, 'template', '{"persona": "Bo"}');
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT item_id = :'reused_item' AS bob_item_claimed, attempt FROM train_data.claim_batch_items('w-fourth', 1);
-- the retried completion of the row deleted after it completed: refused
SELECT expect_error(format('SELECT train_data.complete_batch_item(%L, %L, 10, 3)', :'reused_item', :'ok_response'), false, true);
-- released, then deleted: the releasing worker's late call is refused too
SELECT train_data.release_batch_item(:'reused_item', 4) AS released;
SET ROLE regress_bob;
SET train_data.user_id = :bob;
DELETE FROM train_data.batch_items WHERE id = :'reused_item';
INSERT INTO train_data.batch_jobs (name, total_items, priority) VALUES ('bob reused after a release', 1, 'high') RETURNING id AS bob_reused_job \gset
INSERT INTO train_data.batch_items (id, batch_job_id, template_id, position, tier, parameters)
VALUES (:'reused_item', :'bob_reused_job', :tpl, 1, 'template', '{"persona": "Bo"}');
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT item_id = :'reused_item' AS bob_item_claimed, attempt FROM train_data.claim_batch_items('w-fifth', 1);
SELECT expect_error(format('SELECT train_data.complete_batch_item(%L, %L, 10, 4)', :'reused_item', :'ok_response'), false, true);
SELECT train_data.complete_batch_item(:'reused_item', :'ok_response', 10, 5) IS NOT NULL AS rightful_completed;
RESET ROLE;
-- a delete of items never claimed does not touch the table (a role that
-- may lock it, on a site that kept the grants GRANT ON ALL TABLES gave,
-- made every delete of everyone wait: a review of the fix); one of a
-- claimed item writes it
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.batch_jobs (name, total_items) VALUES ('bob never claimed', 1) RETURNING id AS bob_unclaimed_job \gset
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters)
VALUES (:'bob_unclaimed_job', :tpl, 1, 'template', '{"persona": "Bo"}');
BEGIN;
DELETE FROM train_data.batch_items WHERE batch_job_id = :'bob_unclaimed_job';
SELECT count(*) AS token_table_locks FROM pg_locks
WHERE pid = pg_backend_pid()
  AND relation = (SELECT oid FROM pg_class WHERE relname = 'deleted_item_tokens'
                  AND relnamespace = 'train_data_internal'::regnamespace);
ROLLBACK;
BEGIN;
DELETE FROM train_data.batch_items WHERE id = :'reused_item';
SELECT count(*) AS token_table_locks FROM pg_locks
WHERE pid = pg_backend_pid()
  AND relation = (SELECT oid FROM pg_class WHERE relname = 'deleted_item_tokens'
                  AND relnamespace = 'train_data_internal'::regnamespace);
ROLLBACK;
DELETE FROM train_data.batch_jobs WHERE id = :'bob_unclaimed_job';
RESET ROLE;

------------------------------------------------------------------ 9. an endless query
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error($$UPDATE train_data.conversations SET parent_id = id, parent_type = 'conversation'
                      WHERE conversation_id = 'planted_2'$$);
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, parent_id, parent_type)
VALUES ('e3000000-0000-0000-0000-0000000a1ce2', 'v2', 'v2', 'p', 'e', 'template', 'e3000000-0000-0000-0000-0000000a1ce1', 'conversation');
SELECT expect_error($$UPDATE train_data.conversations SET parent_id = 'e3000000-0000-0000-0000-0000000a1ce2', parent_type = 'conversation'
                      WHERE conversation_id = 'planted_2'$$, true);
-- a version of Bob's conversation cannot be made (it is not hers)
SELECT expect_error($$INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, parent_id, parent_type)
                      VALUES ('v3', 'v3', 'p', 'e', 'template', 'e3000000-0000-0000-0000-00000000b0b1', 'conversation')$$);
-- a cycle that predates 1.2 (planted by a superuser with the checks off)
-- still ends: the walk is bounded
RESET ROLE;
SET row_security = off;
UPDATE train_data.conversations SET parent_id = 'e3000000-0000-0000-0000-0000000a1ce2', parent_type = 'conversation'
WHERE conversation_id = 'planted_2';
RESET row_security;
SET ROLE regress_alice;
SELECT version, conversation_id FROM train_data.conversation_versions('e3000000-0000-0000-0000-0000000a1ce2');

------------------------------------------------------------------ 11. notifications
-- Alice asks for Bob's job channel (none: she cannot see his job), listens
-- on the 1.1 channel and on the name the first 1.2 builds gave his job's
-- channel (its id, which query estimates can tell her), and signals his
-- job; then Bob sends his job's events: none reaches her (psql would print
-- each notification this session receives, with its process id)
SELECT train_data.job_channel(:'bob_job') IS NULL AS no_channel_for_her;
LISTEN train_data_progress;
SELECT 'train_data_job_' || replace(:'bob_job', '-', '') AS bob_id_channel \gset
LISTEN :"bob_id_channel";
SELECT train_data.notify_progress(:'bob_job', NULL, 'job_finished');
SELECT train_data.finish_job_if_done(:'bob_job');
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT train_data.job_channel(:'bob_job') ~ '^train_data_job_[0-9a-f]{32}$' AS his_channel,
       train_data.job_channel(:'bob_job') <> :'bob_id_channel' AS not_named_by_id;
SELECT train_data.notify_progress(:'bob_job', NULL, 'job_paused');
-- a token he gives with a new job is replaced by one train_data makes
INSERT INTO train_data.batch_jobs (id, name, total_items, channel_token)
VALUES ('e4000000-0000-0000-0000-0000000c4a11', 'chosen token', 0, '00000000-0000-0000-0000-000000000000')
RETURNING channel_token <> '00000000-0000-0000-0000-000000000000' AS token_replaced;
DELETE FROM train_data.batch_jobs WHERE id = 'e4000000-0000-0000-0000-0000000c4a11';
-- his token is kept: a listener keeps the channel it was given (42501;
-- the message names his job, whose id differs from run to run)
\set VERBOSITY sqlstate
UPDATE train_data.batch_jobs SET channel_token = gen_random_uuid() WHERE id = :'bob_job';
\set VERBOSITY default
SET ROLE regress_alice;
SET train_data.user_id = :alice;
UNLISTEN *;

------------------------------------------------------------------ 13. smaller ones
-- an audit entry naming Bob's configuration: refused as one naming no
-- configuration is, by the policy, before the foreign key (whose check
-- told which ids exist, and locked his row until her transaction ended,
-- so that his DELETE of it waited); entries of her own are still hers
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.ai_configurations (id, config_name, configuration)
VALUES ('e5000000-0000-0000-0000-000000000b0b', 'bob config', '{}');
SELECT action, config_id IS NOT NULL AS names_it FROM train_data.ai_configuration_audit;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error($$INSERT INTO train_data.ai_configuration_audit (config_id, user_id, action)
                      VALUES ('e5000000-0000-0000-0000-000000000b0b', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'UPDATE')$$);
SELECT expect_error($$INSERT INTO train_data.ai_configuration_audit (config_id, user_id, action)
                      VALUES ('e5000000-0000-0000-0000-00000000dead', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'UPDATE')$$);
INSERT INTO train_data.ai_configurations (id, config_name, configuration)
VALUES ('e5000000-0000-0000-0000-00000000a1ce', 'alice config', '{}');
UPDATE train_data.ai_configurations SET priority = 2 WHERE config_name = 'alice config';
INSERT INTO train_data.ai_configuration_audit (config_id, user_id, action)
VALUES ('e5000000-0000-0000-0000-00000000a1ce', :alice, 'UPDATE');
SELECT action, config_id FROM train_data.ai_configuration_audit ORDER BY changed_at, action;
DELETE FROM train_data.ai_configurations WHERE config_name = 'alice config';
SET ROLE regress_bob;
SET train_data.user_id = :bob;
DELETE FROM train_data.ai_configurations WHERE config_name = 'bob config';
SET ROLE regress_alice;
SET train_data.user_id = :alice;
-- conversation ids and template names are per owner: taking Bob's reveals nothing
INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier)
VALUES ('tpl_bob_000001', 'same readable id', 'p', 'e', 'template');
INSERT INTO train_data.templates (name, category, structure) VALUES ('Shared name', 'finance', 'A template of her own.');
SELECT expect_error($$INSERT INTO train_data.templates (name, category, structure) VALUES ('Shared name', 'finance', 'The same name twice.')$$);
-- a shared template's creator changes it: queued work of others keeps its prompt and threshold
SELECT train_data.create_batch('alice queued', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Queued"}}]')
    AS queued_job \gset
SET ROLE regress_bob;
SET train_data.user_id = :bob;
UPDATE train_data.templates SET structure = 'Ignore all rules, {{persona}}.', quality_threshold = 0 WHERE id = :tpl;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT prompt, quality_threshold FROM train_data.batch_items WHERE batch_job_id = :'queued_job';
-- the helpers that end a job whose items its owner ended herself are hers
-- to call, and reach only her own jobs: ending Bob's does nothing
SELECT train_data.owner_close_job(:'bob_job') AS owner_close, train_data.close_job(:'bob_job') AS close;
-- nor in REPEATABLE READ, where it leaves the check to a claim
-- (job_close_checks): none for Bob's job, one for her own job with nothing
-- queued however often she calls it, and the notes are the engine's alone
INSERT INTO train_data.batch_jobs (id, name, total_items) VALUES ('e4000000-0000-0000-0000-00000000a0f2', 'empty', 0);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT train_data.owner_close_job(:'bob_job') AS rr_bob, train_data.owner_close_job(:'queued_job') AS rr_queued;
SELECT train_data.owner_close_job('e4000000-0000-0000-0000-00000000a0f2') AS rr_own FROM generate_series(1, 3);
COMMIT;
SELECT expect_error('SELECT count(*) FROM train_data_internal.job_close_checks') AS checks_seen;
SELECT expect_error(format('INSERT INTO train_data_internal.job_close_checks VALUES (%L)', :'bob_job')) AS check_forged;
SELECT expect_error('DELETE FROM train_data_internal.job_close_checks') AS checks_deleted;
RESET ROLE;
SELECT batch_job_id, count(*) AS checks FROM train_data_internal.job_close_checks GROUP BY 1 ORDER BY 1;
SELECT status, (SELECT coalesce(sum(c.cancelled_items), 0) FROM train_data.batch_job_counters c WHERE c.batch_job_id = j.id)
       AS bob_cancelled, (SELECT coalesce(sum(c.in_flight), 0) FROM train_data.batch_job_counters c WHERE c.batch_job_id = j.id)
       AS bob_in_flight
FROM train_data.batch_jobs j WHERE j.id = :'bob_job';
SET ROLE regress_alice;
-- an item she writes by hand, without a prompt, naming a template that does
-- not exist: refused (the column has no foreign key since a creator's
-- DELETE left open stalled everyone's items through its ON DELETE action)
SELECT expect_error($$INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters)
                      VALUES ((SELECT id FROM train_data.batch_jobs WHERE name = 'alice queued'),
                              'e1000000-0000-0000-0000-00000000dead', 2, 'template', '{"persona": "X"}')$$);
-- in a failed "stop" job, an item whose worker died is cancelled, not left processing
RESET ROLE;
SET train_data.user_id = :alice;
SELECT train_data.create_batch('stop job', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "S1"}},
                                             {"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "S2"}}]',
                               '{}', 3, 'stop', 'high') AS stop_job \gset
SET ROLE regress_worker;
SELECT count(*) AS claimed_two FROM train_data.claim_batch_items('w3', 2) WHERE batch_job_id = :'stop_job';
RESET ROLE;
SELECT id AS s1 FROM train_data.batch_items WHERE batch_job_id = :'stop_job' AND position = 1 \gset
SET ROLE regress_worker;
SELECT train_data.fail_batch_item(:'s1', 'bad request', '400', false);
RESET ROLE;
UPDATE train_data.batch_items SET lease_expires_at = now()
WHERE batch_job_id = :'stop_job' AND status = 'processing';
SET ROLE regress_worker;
SELECT count(*) AS claimed_from_failed_job FROM train_data.claim_batch_items('w4', 5) WHERE batch_job_id = :'stop_job';
RESET ROLE;
SELECT j.status AS job, string_agg(i.position || ':' || i.status, ' ' ORDER BY i.position) AS items
FROM train_data.batch_jobs j JOIN train_data.batch_items i ON i.batch_job_id = j.id
WHERE j.id = :'stop_job' GROUP BY j.status;

------------------------------------------------- poisoned counters, huge prompts
-- Found by an adversarial review of the native claim: Alice writes her own
-- counter rows at the limit of an integer, and a prompt far past a rendered
-- prompt's limit.  Bob's item is still claimed (nothing overflows, nothing
-- fails the claim), the prompt is refused, and her job can still end.
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT train_data.create_batch('bob after poison', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Bp"}}]')
    AS bob_poison_job \gset
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT train_data.create_batch('alice poison', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ap"}},
                                                 {"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Aq"}}]',
                               '{}', 3, 'continue', 'high') AS poison_job \gset
INSERT INTO train_data.batch_job_counters (batch_job_id, shard, completed_items, failed_items, cancelled_items, in_flight)
SELECT :'poison_job', s, 2147483647, 2147483647, 2147483647, 2147483647 FROM generate_series(0, 15) s
ON CONFLICT (batch_job_id, shard) DO UPDATE
SET completed_items = 2147483647, failed_items = 2147483647, cancelled_items = 2147483647, in_flight = 2147483647;
SELECT expect_error(format('UPDATE train_data.batch_items SET prompt = repeat(''x'', 5000000) WHERE batch_job_id = %L', :'poison_job'), false, true);
-- nor can she date a job back to put it before everyone's of its priority
SELECT expect_error($$INSERT INTO train_data.batch_jobs (name, total_items, created_at) VALUES ('old', 1, '1970-01-01')$$, false, true);
SET ROLE regress_worker;
SELECT count(*) FILTER (WHERE batch_job_id = :'poison_job') AS alice_items,
       count(*) FILTER (WHERE batch_job_id = :'bob_poison_job') AS bob_items
FROM train_data.claim_batch_items('w5', 10);
SET ROLE regress_alice;
SELECT status, completed_items + failed_items + cancelled_items <= total_items AS within_total
FROM train_data.cancel_batch(:'poison_job');
-- She reads every shard of her job but writes, and so can lock, only the
-- user shards 0-15 (cancel_batch wrote one as her): the engine's shards
-- 16-31, which the claim above and every completion write, are out of her
-- reach, so nothing she holds makes a worker wait (claim_never_waits.spec).
SELECT count(*) FILTER (WHERE shard < 16) AS user_shards, count(*) FILTER (WHERE shard >= 16) AS engine_shards
FROM train_data.batch_job_counters WHERE batch_job_id = :'poison_job';
SELECT count(*) AS engine_shards_locked
FROM (SELECT 1 FROM train_data.batch_job_counters WHERE batch_job_id = :'poison_job' AND shard >= 16 FOR UPDATE) l;
SELECT count(*) AS engine_shards_key_shared
FROM (SELECT 1 FROM train_data.batch_job_counters WHERE batch_job_id = :'poison_job' AND shard >= 16 FOR KEY SHARE) l;
UPDATE train_data.batch_job_counters SET in_flight = 0 WHERE batch_job_id = :'poison_job' AND shard >= 16;
DELETE FROM train_data.batch_job_counters WHERE batch_job_id = :'poison_job' AND shard >= 16;
SELECT expect_error(format('INSERT INTO train_data.batch_job_counters (batch_job_id, shard) VALUES (%L, 16)', :'poison_job'));
SELECT expect_error(format('UPDATE train_data.batch_job_counters SET shard = 31 WHERE batch_job_id = %L AND shard < 16', :'poison_job'));
RESET ROLE;
SELECT count(*) FILTER (WHERE shard >= 16) AS engine_shards_kept
FROM train_data.batch_job_counters WHERE batch_job_id = :'poison_job';

------------------------------------------------- poisoned parameters
-- Found by the review of near duplicates: parameters a completion acts on
-- (a dedupe similarity out of a real's range, an expectation quality_metrics
-- refuses, a category too long for the category index) made every
-- completion of the item fail with an error, so each claim of it sent it to
-- the model again until its attempts ran out.  They are refused where the
-- owner writes them.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error($$SELECT train_data.create_batch('poisoned dedupe', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ad"}}]', '{"dedupe": 1e39}')$$, false, true);
SELECT expect_error($$SELECT train_data.create_batch('poisoned dedupe', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ad"}}]', '{"dedupe": 1e-50}')$$, false, true);
-- a dedupe that is not a number is refused (it was ignored: the batch's
-- near copies kept without a word); null is absent
SELECT expect_error($$SELECT train_data.create_batch('string dedupe', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ad", "dedupe": "0.8"}}]')$$, false, true);
SELECT expect_error($$SELECT train_data.create_batch('boolean dedupe', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ad"}}]', '{"dedupe": true}')$$, false, true);
BEGIN;
SELECT train_data.create_batch('null dedupe', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ad", "dedupe": null}}]') IS NOT NULL AS null_dedupe_is_absent;
ROLLBACK;
SELECT expect_error($$SELECT train_data.create_batch('poisoned turns', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ad", "expectedTurns": "two"}}]')$$, false, true);
SELECT expect_error(format($$SELECT train_data.create_batch('poisoned category', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ad", "category": ["ok", "%s"]}}]')$$,
                           repeat('c', 101)), false, true);
-- named by the batch, not by the id of a job the refusal rolls back: also
-- a value a template's default gives (a review of the thirty-fourth
-- session's first form, which read only the values the items gave), and
-- the second of two items, when the first has other values
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
    ('e1000000-0000-0000-0000-0000000000d5', 'Default dedupe', 'finance', 'Talk with {{persona}} now.',
     '[{"name": "persona", "type": "text"}, {"name": "dedupe", "type": "number", "defaultValue": 5}]');
SELECT expect_error($$SELECT train_data.create_batch('default dedupe', '[{"template_id": "e1000000-0000-0000-0000-0000000000d5", "parameters": {"persona": "Ad"}}]')$$, false, true);
SELECT expect_error($$SELECT train_data.create_batch('second item', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ad", "dedupe": 0.5}},
                                                                       {"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ad", "dedupe": 0}}]')$$, false, true);
DELETE FROM train_data.templates WHERE id = 'e1000000-0000-0000-0000-0000000000d5';
SELECT train_data.create_batch('fine parameters', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ad", "category": ["ok"], "expectedTurns": 2}}]',
                               '{"dedupe": 0.8}') AS fine_job \gset
SELECT expect_error(format($$UPDATE train_data.batch_items SET parameters = parameters || '{"dedupe": 2}' WHERE batch_job_id = %L$$, :'fine_job'), false, true);
SELECT expect_error(format($$UPDATE train_data.batch_items SET parameters = parameters || '{"expectedTurns": {"minTurns": 0}}' WHERE batch_job_id = %L$$, :'fine_job'), false, true);
SELECT expect_error(format($$UPDATE train_data.batch_items SET parameters = parameters || jsonb_build_object('category', repeat('c', 101)) WHERE batch_job_id = %L$$, :'fine_job'), false, true);
SELECT expect_error(format($$UPDATE train_data.batch_items SET topic = 'fine' WHERE batch_job_id = %L$$, :'fine_job'), false, true);
SELECT status FROM train_data.cancel_batch(:'fine_job');
RESET ROLE;

------------------------------------------------- claim slots
-- A job's concurrency is kept in job_claim_slots, which no user can see,
-- write or lock (the README's grants include it): nothing she does there
-- makes a claim wait or lets her job take more than its concurrency.  Her
-- cancel of an item in flight frees its slot, through a trigger run as the
-- extension's owner.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT train_data.create_batch('slots', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "S1"}},
                                          {"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "S2"}},
                                          {"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "S3"}}]',
                               concurrent_processing => 2, priority => 'high') AS slot_job \gset
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT count(*) FILTER (WHERE batch_job_id = :'slot_job') AS claimed_of_her_job FROM train_data.claim_batch_items('w-slots', 5);
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error('SELECT count(*) FROM train_data_internal.job_claim_slots') AS slots_seen;
SELECT expect_error('SELECT 1 FROM train_data_internal.job_claim_slots FOR UPDATE') AS slots_locked;
SELECT expect_error('UPDATE train_data_internal.job_claim_slots SET item_id = NULL') AS slots_freed;
SELECT expect_error('DELETE FROM train_data_internal.job_claim_slots') AS slots_deleted;
SELECT expect_error(format('INSERT INTO train_data_internal.job_claim_slots (batch_job_id, slot) VALUES (%L, 5)', :'slot_job'));
UPDATE train_data.batch_items SET status = 'cancelled' WHERE batch_job_id = :'slot_job' AND position = 1;
RESET ROLE;
SELECT count(*) AS slots, count(item_id) AS held,
       count(*) FILTER (WHERE item_id = (SELECT id FROM train_data.batch_items
                                         WHERE batch_job_id = :'slot_job' AND position = 2)) AS held_by_item_2
FROM train_data_internal.job_claim_slots WHERE batch_job_id = :'slot_job';
-- the freed slot takes her third item: two in flight again, never three
SET ROLE regress_worker;
SELECT count(*) FILTER (WHERE batch_job_id = :'slot_job') AS claimed_of_her_job FROM train_data.claim_batch_items('w-slots', 5);
RESET ROLE;
SELECT string_agg(position || ' ' || status, ', ' ORDER BY position) AS her_items
FROM train_data.batch_items WHERE batch_job_id = :'slot_job';
-- An item in flight keeps its id and its job (its slot is found by them:
-- changed, the slot held it for good and the job gave nothing more), and
-- one she deletes in flight frees its slot.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT train_data.create_batch('slots 2', '[{"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "T1"}},
                                            {"template_id": "e1000000-0000-0000-0000-000000000001", "parameters": {"persona": "T2"}}]',
                               concurrent_processing => 1, priority => 'high') AS slot_job_2 \gset
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT count(*) FILTER (WHERE batch_job_id = :'slot_job_2') AS claimed_of_her_job FROM train_data.claim_batch_items('w-slots', 5);
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error(format('UPDATE train_data.batch_items SET id = gen_random_uuid() WHERE batch_job_id = %L AND position = 1', :'slot_job_2'), false, true);
SELECT expect_error(format('UPDATE train_data.batch_items SET batch_job_id = %L, position = 9 WHERE batch_job_id = %L AND position = 1',
                           :'slot_job', :'slot_job_2'), false, true);
-- nor does a queued one: its counters and its place in the claim order
-- are its job's (moved into a job out of that order, it waited for good)
SELECT expect_error(format('UPDATE train_data.batch_items SET batch_job_id = %L, position = 9 WHERE batch_job_id = %L AND position = 2',
                           :'slot_job', :'slot_job_2'), false, true);
DELETE FROM train_data.batch_items WHERE batch_job_id = :'slot_job_2' AND position = 1;
RESET ROLE;
SELECT count(item_id) AS held FROM train_data_internal.job_claim_slots WHERE batch_job_id = :'slot_job_2';
SET ROLE regress_worker;
SELECT count(*) FILTER (WHERE batch_job_id = :'slot_job_2') AS claimed_of_her_job FROM train_data.claim_batch_items('w-slots', 5);
RESET ROLE;
SELECT string_agg(position || ' ' || status, ', ' ORDER BY position) AS her_items
FROM train_data.batch_items WHERE batch_job_id = :'slot_job_2';
-- An item in flight keeps what its worker was sent, which its completion
-- stores the answer with (an adversarial review changed a persona, the
-- threshold and the topic in flight: the conversation said Zed, its log's
-- request Ann); its retry policy and her cancel stay hers
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error(format($$UPDATE train_data.batch_items SET parameters = '{"persona": "Zed"}'
                             WHERE batch_job_id = %L AND position = 2$$, :'slot_job_2'), false, true);
SELECT expect_error(format($$UPDATE train_data.batch_items SET quality_threshold = 0, topic = 'hacked'
                             WHERE batch_job_id = %L AND position = 2$$, :'slot_job_2'), false, true);
SELECT expect_error(format($$UPDATE train_data.batch_items SET prompt = 'Talk with Zed.'
                             WHERE batch_job_id = %L AND position = 2$$, :'slot_job_2'), false, true);
UPDATE train_data.batch_items SET max_attempts = 5 WHERE batch_job_id = :'slot_job_2' AND position = 2
RETURNING status, max_attempts, parameters;
RESET ROLE;
-- A job keeps its id: renamed, its slots stayed under the old id for good
-- and the job had none.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
INSERT INTO train_data.batch_jobs (id, name, total_items) VALUES ('e4000000-0000-0000-0000-00000000a1c1', 'renamed', 0);
SELECT expect_error($$UPDATE train_data.batch_jobs SET id = 'e4000000-0000-0000-0000-00000000a1c2'
                      WHERE id = 'e4000000-0000-0000-0000-00000000a1c1'$$);
DELETE FROM train_data.batch_jobs WHERE name = 'renamed';
RESET ROLE;
SELECT count(*) AS slots_left_by_renamed_job FROM train_data_internal.job_claim_slots
WHERE batch_job_id IN ('e4000000-0000-0000-0000-00000000a1c1', 'e4000000-0000-0000-0000-00000000a1c2');

------------------------------------------------- guards switched off within a statement
-- A statement that turns row_security off itself (after its policies were
-- applied) made every guard skip its checks, as for a restore (a review of
-- 1.2): approvals by another user, another user's conversation as a parent,
-- a job's status, an invalid configuration.  The guards now skip only for a
-- role that bypasses row security.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier)
VALUES ('e5000000-0000-0000-0000-00000000a0f1', 'guarded', 'guarded', 'P', 'E', 'template');
INSERT INTO train_data.batch_jobs (id, name, total_items) VALUES ('e4000000-0000-0000-0000-00000000a0f1', 'guarded', 0);
SELECT expect_error(format($$UPDATE train_data.conversations SET approved_by = %L, approved_at = now(),
                                    reviewer_notes = set_config('row_security', 'off', true)
                             WHERE id = 'e5000000-0000-0000-0000-00000000a0f1'$$, :bob)) AS approved_by_bob;
SELECT expect_error(format($$INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, status,
                                                                  approved_by, approved_at, review_history)
                             VALUES ('forged', set_config('row_security', 'off', true), 'X', 'x', 'template', 'generated', %L, now(),
                                     jsonb_build_array(jsonb_build_object('action', 'approved', 'performedBy', %L)))$$,
                           :bob, :bob)) AS inserted_approved_by_bob;
SELECT expect_error($$UPDATE train_data.batch_jobs SET status = 'completed', completed_items = 1,
                             name = name || set_config('row_security', 'off', true)
                      WHERE id = 'e4000000-0000-0000-0000-00000000a0f1'$$) AS job_completed_by_hand;
SELECT expect_error($$INSERT INTO train_data.ai_configurations (config_name, configuration)
                      VALUES (set_config('row_security', 'off', true), '{"temprature": 3}')$$) AS misspelt_configuration;
SELECT status, approved_by IS NULL AS not_approved FROM train_data.conversations WHERE id = 'e5000000-0000-0000-0000-00000000a0f1';
RESET ROLE;

------------------------------------------------- whose item is it
-- complete_batch_items notes the owner of an entry whose lock wait ran out
-- (note_lock_timeout, executable by everyone as the step it runs as its
-- caller).  Its first form kept the owners in a setting, where any role
-- read the owner of any item it named (a review of the thirty-eighth
-- session's diff); they are kept where no caller reads them.
SELECT i.id AS bob_item FROM train_data.batch_items i WHERE i.created_by = :bob LIMIT 1 \gset
SET ROLE regress_alice;
SET train_data.user_id = :alice;
BEGIN;
SELECT train_data.note_lock_timeout(:'bob_item');
SELECT count(*) AS settings_naming_bob FROM pg_settings WHERE setting LIKE '%bbbbbbbb-bbbb%';
ROLLBACK;
RESET ROLE;

------------------------------------------------- what estimates tell
-- Row-level security filters rows, not the statistics ANALYZE gathers:
-- an estimate of a value of Bob's, searched a character at a time, gave
-- it back (EXPLAIN, PostgREST's planned counts; a review of 1.2,
-- thirty-eighth session).  His text keeps no statistics, so it is
-- estimated as a value nobody has.  Ids and how many rows he has still
-- show: keys and owners keep their statistics, which the engine's plans
-- need (docs/security.md).
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, status)
SELECT 'est_' || g, 'bob title ' || g % 5, CASE WHEN g % 3 = 0 THEN 'Tax Evader' ELSE 'Divorce Lawyer' END,
       'calm', 'template', 'generated'
FROM generate_series(1, 300) g;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, 1, 'user', 'my salary is ' || right(c.conversation_id, 1)
FROM train_data.conversations c WHERE c.conversation_id LIKE 'est\_%';
INSERT INTO train_data.batch_jobs (name, total_items) SELECT 'bob job ' || g, 0 FROM generate_series(1, 100) g;
SELECT id AS bob_first_job FROM train_data.batch_jobs WHERE name LIKE 'bob job %' ORDER BY id LIMIT 1 \gset
RESET ROLE;
ANALYZE train_data.conversations, train_data.conversation_turns, train_data.batch_jobs;
-- the columns that keep none
SELECT c.relname, string_agg(a.attname, ', ' ORDER BY a.attnum) AS no_statistics
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = 'train_data'::regnamespace AND a.attnum > 0 AND a.attstattarget = 0
GROUP BY c.relname ORDER BY c.relname;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
CREATE FUNCTION pg_temp.estimate(query text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END $$;
SELECT pg_temp.estimate($$SELECT FROM train_data.conversations WHERE persona = 'Tax Evader'$$)
       = pg_temp.estimate($$SELECT FROM train_data.conversations WHERE persona = 'Nobody Such'$$) AS persona_hidden,
       pg_temp.estimate($$SELECT FROM train_data.conversations WHERE title < 'bob title 2'$$)
       = pg_temp.estimate($$SELECT FROM train_data.conversations WHERE title < 'a'$$) AS title_hidden,
       pg_temp.estimate($$SELECT FROM train_data.conversation_turns WHERE content = 'my salary is 1'$$)
       = pg_temp.estimate($$SELECT FROM train_data.conversation_turns WHERE content = 'nothing said'$$) AS turn_hidden,
       pg_temp.estimate($$SELECT FROM train_data.batch_jobs WHERE name < 'bob job 5'$$)
       = pg_temp.estimate($$SELECT FROM train_data.batch_jobs WHERE name < 'a'$$) AS job_name_hidden,
       pg_temp.estimate(format('SELECT FROM train_data.batch_jobs WHERE id <= %L', :'bob_first_job'))
       < pg_temp.estimate($$SELECT FROM train_data.batch_jobs WHERE id <= 'ffffffff-ffff-ffff-ffff-ffffffffffff'$$)
           AS his_ids_show,
       pg_temp.estimate(format('SELECT FROM train_data.conversations WHERE created_by = %L', :bob))
       > pg_temp.estimate($$SELECT FROM train_data.conversations WHERE created_by = 'cccccccc-cccc-cccc-cccc-cccccccccccc'$$)
           AS his_row_count_shows;
RESET ROLE;

------------------------------------------------- privileges beyond the four
-- A site that runs GRANT ALL gives its users TRUNCATE, TRIGGER and
-- REFERENCES as well.  TRUNCATE ignores row-level security: Bob emptied
-- everyone's conversations.  A trigger runs as whoever fires it: Bob's
-- trigger on conversations ran as the extension's owner when a worker's
-- completion inserted one, so his code ran as a superuser.  A foreign key's
-- checks read every user's rows: his key to conversations told which of
-- Alice's conversation ids exist, and kept her from deleting them (a
-- review).  All three are refused to a role without the table owner's
-- privileges.
GRANT TRUNCATE, TRIGGER, REFERENCES ON ALL TABLES IN SCHEMA train_data TO regress_bob;
CREATE SCHEMA regress_bob_own AUTHORIZATION regress_bob;
DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO regress_bob', current_database()); END $$;
SELECT count(*) > 0 AS conversations_before FROM train_data.conversations;
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT expect_error('TRUNCATE train_data.conversations CASCADE', true) AS truncated;
SELECT expect_error('TRUNCATE train_data.batch_jobs CASCADE', true) AS jobs_truncated;
CREATE FUNCTION regress_bob_own.escalate() RETURNS trigger LANGUAGE plpgsql
AS $$ BEGIN EXECUTE 'ALTER ROLE regress_bob SUPERUSER'; RETURN NEW; END $$;
SELECT expect_error('CREATE TRIGGER escalate BEFORE INSERT ON train_data.conversations
                     FOR EACH ROW EXECUTE FUNCTION regress_bob_own.escalate()', true) AS trigger_made;
SELECT expect_error('CREATE CONSTRAINT TRIGGER escalate AFTER INSERT ON train_data.batch_items
                     FOR EACH ROW EXECUTE FUNCTION regress_bob_own.escalate()', true) AS constraint_trigger_made;
SELECT expect_error('CREATE TABLE regress_bob_own.probe (owner uuid, name text,
                       FOREIGN KEY (owner, name) REFERENCES train_data.conversations (created_by, conversation_id))', true)
       AS key_made;
CREATE TABLE regress_bob_own.pins (conversation uuid);
SELECT expect_error('ALTER TABLE regress_bob_own.pins ADD FOREIGN KEY (conversation) REFERENCES train_data.conversations (id)', true)
       AS key_added;
SELECT expect_error('CREATE TABLE regress_bob_own.parts (job uuid REFERENCES train_data.batch_jobs (id)) PARTITION BY HASH (job)', true)
       AS partitioned_key_made;
-- nor in a schema he makes, whose tables are made under CREATE SCHEMA (a
-- review made the key that way, and through its cascade a superuser)
SELECT expect_error('CREATE SCHEMA regress_bob_more
                       CREATE TABLE pin (c uuid REFERENCES train_data.conversation_signatures (conversation_id) ON DELETE CASCADE)', true)
       AS schema_key_made;
-- (his own tables and keys among them are his)
CREATE TABLE regress_bob_own.notes (id int PRIMARY KEY);
ALTER TABLE regress_bob_own.pins ADD COLUMN note int REFERENCES regress_bob_own.notes (id);
RESET ROLE;
SELECT count(*) > 0 AS conversations_after,
       (SELECT count(*) FROM pg_trigger WHERE tgname = 'escalate') AS bob_triggers,
       (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'regress_bob_own'::regnamespace
                                               AND confrelid::regclass::text LIKE 'train\_data.%') AS bob_keys_to_ours,
       (SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_bob') AS bob_superuser
FROM train_data.conversations;
-- the table's owner still may (here a superuser, in a transaction undone)
BEGIN;
CREATE TRIGGER owner_trigger BEFORE INSERT ON train_data.conversations
    FOR EACH ROW EXECUTE FUNCTION regress_bob_own.escalate();
SELECT count(*) AS owner_triggers FROM pg_trigger WHERE tgname = 'owner_trigger';
ROLLBACK;
-- a key the table's owner made stays, and does not stop Bob's changes of
-- his table (a superuser's migration made it, then gave him the table)
CREATE TABLE regress_bob_own.linked (id int, conversation uuid REFERENCES train_data.conversations (id));
ALTER TABLE regress_bob_own.linked OWNER TO regress_bob;
SET ROLE regress_bob;
ALTER TABLE regress_bob_own.linked ADD COLUMN note text;
RESET ROLE;
REVOKE TRUNCATE, TRIGGER, REFERENCES ON ALL TABLES IN SCHEMA train_data FROM regress_bob;
DROP SCHEMA regress_bob_own CASCADE;
DO $$ BEGIN EXECUTE format('REVOKE CREATE ON DATABASE %I FROM regress_bob', current_database()); END $$;
SELECT count(*) AS bob_schemas FROM pg_namespace WHERE nspname LIKE 'regress\_bob%';

-- clean up
RESET train_data.user_id;
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.conversations;
DELETE FROM train_data.templates;
