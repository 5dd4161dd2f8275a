-- batch_completions: complete_batch_items, several completions in one call
-- (one round trip for a worker with many model calls in flight), each on
-- its own: one refused entry leaves the others stored.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
SET train_data.user_id = :alice;
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
    ('e9000000-0000-0000-0000-000000000001', 'Batched', 'finance', 'Talk with {{persona}} about saving.',
     '[{"name": "persona", "type": "text"}]');
SELECT train_data.create_batch('batched', jsonb_agg(jsonb_build_object('template_id', 'e9000000-0000-0000-0000-000000000001',
                                                                       'parameters', jsonb_build_object('persona', 'P' || g))),
                               '{}', 5)
FROM generate_series(1, 4) g \gset
RESET train_data.user_id;

SET ROLE regress_worker;
CREATE TEMP TABLE claimed AS SELECT item_id, "position", attempt FROM train_data.claim_batch_items('batcher', 4);
-- 1 completes, 2 sends an unusable response (failed and queued again),
-- 3 names an attempt that is not its claim's (refused), 4 is not an object
-- (the WARNING complete_batch_item gives for 2 names a random item id)
SET client_min_messages = error;
SELECT c."position", r.outcome, r.conversation_id IS NOT NULL AS stored, r.error_code,
       regexp_replace(r.error_message, '[0-9a-f]{8}-[0-9a-f-]{27}', '<id>') AS error_message
FROM train_data.complete_batch_items((
    SELECT jsonb_agg(CASE c."position"
        WHEN 1 THEN jsonb_build_object('item_id', c.item_id, 'attempt', c.attempt, 'duration_ms', 10,
                                       'response', '{"turns": [{"role": "user", "content": "How much?"}, {"role": "assistant", "content": "Ten percent of each pay."}]}'::jsonb)
        WHEN 2 THEN jsonb_build_object('item_id', c.item_id, 'attempt', c.attempt, 'response', '"not a conversation"'::jsonb)
        WHEN 3 THEN jsonb_build_object('item_id', c.item_id, 'attempt', c.attempt + 1, 'response', '{}'::jsonb)
        ELSE '"junk"'::jsonb END ORDER BY c."position")
    FROM claimed c)) WITH ORDINALITY r
LEFT JOIN claimed c ON c.item_id = r.item_id
ORDER BY r.ordinality;
-- no entry refused (3 completes, 4 sends an unusable response): the same
-- outcomes from the path that runs them all in one subtransaction (counted
-- below)
SELECT c."position", r.outcome, r.conversation_id IS NOT NULL AS stored, r.error_code, r.error_message
FROM train_data.complete_batch_items((
    SELECT jsonb_agg(CASE c."position"
        WHEN 3 THEN jsonb_build_object('item_id', c.item_id, 'attempt', c.attempt,
                                       'response', '{"turns": [{"role": "user", "content": "And then?"}, {"role": "assistant", "content": "Raise it every year."}]}'::jsonb)
        ELSE jsonb_build_object('item_id', c.item_id, 'response', '"still not a conversation"'::jsonb) END
        ORDER BY c."position")
    FROM claimed c WHERE c."position" IN (3, 4))) WITH ORDINALITY r
LEFT JOIN claimed c ON c.item_id = r.item_id
ORDER BY r.ordinality;
RESET client_min_messages;
SELECT expect_error($$SELECT * FROM train_data.complete_batch_items('{}')$$);
SELECT expect_error($$SELECT * FROM train_data.complete_batch_items((SELECT jsonb_agg(g) FROM generate_series(1, 1001) g))$$);
RESET ROLE;
SELECT "position", status, attempts FROM train_data.batch_items ORDER BY "position";
-- a user cannot call it
SET ROLE regress_alice;
SELECT expect_error($$SELECT * FROM train_data.complete_batch_items('[]')$$);
-- nor tell the signature trigger to skip her turns
SELECT expect_error($$SET train_data.engine_signs_turns = on$$);
RESET ROLE;
-- the completions wrote the signatures of their turns themselves: each is
-- what the trigger computes from the stored turns, and the setting that
-- told the trigger so is off again
SELECT count(*) AS signed,
       count(*) FILTER (WHERE s.signature IS DISTINCT FROM
                              (SELECT train_data.minhash_signature(string_agg(t.content, ' ' ORDER BY t.turn_number))
                               FROM train_data.conversation_turns t WHERE t.conversation_id = c.id)) AS differing,
       count(*) FILTER (WHERE s.bands IS DISTINCT FROM train_data.minhash_bands(s.signature)) AS bands_differing
FROM train_data.conversations c JOIN train_data.conversation_signatures s ON s.conversation_id = c.id;
SHOW train_data.engine_signs_turns;

-- no entry refused: one subtransaction for all the entries, not one per
-- entry.  The eight conversations stored carry one transaction id (one
-- subtransaction per entry would give eight).  (Counting the cluster's
-- transaction ids around the call, as this test did, failed under
-- valgrind when other sessions took ids meanwhile.)
DELETE FROM train_data.batch_jobs;
SET train_data.user_id = :alice;
SELECT train_data.create_batch('counted', jsonb_agg(jsonb_build_object('template_id', 'e9000000-0000-0000-0000-000000000001',
                                                                       'parameters', jsonb_build_object('persona', 'Q' || g))),
                               '{}', 8)
FROM generate_series(1, 8) g \gset
RESET train_data.user_id;
SET ROLE regress_worker;
CREATE TEMP TABLE claimed_8 AS SELECT item_id, attempt FROM train_data.claim_batch_items('batcher', 8);
SELECT count(*) AS claimed FROM claimed_8;
SELECT count(*) FILTER (WHERE r.outcome = 'completed') AS completed, count(*) AS entries
FROM train_data.complete_batch_items((
    SELECT jsonb_agg(jsonb_build_object('item_id', c.item_id, 'attempt', c.attempt,
                                        'response', '{"turns": [{"role": "user", "content": "How often?"}, {"role": "assistant", "content": "Every month."}]}'::jsonb))
    FROM claimed_8 c)) r;
RESET ROLE;
SELECT count(*) AS stored, count(DISTINCT c.xmin::text) AS transaction_ids
FROM train_data.batch_items i JOIN train_data.conversations c ON c.id = i.conversation_id
WHERE i.batch_job_id = :'create_batch';

-- one entry refused (an item that is not in flight): the others run again
-- in one subtransaction, not one each (eight transaction ids before: past
-- 64 a transaction makes every snapshot in the cluster slower)
SET train_data.user_id = :alice;
SELECT train_data.create_batch('refused one', jsonb_agg(jsonb_build_object('template_id', 'e9000000-0000-0000-0000-000000000001',
                                                                           'parameters', jsonb_build_object('persona', 'R' || g))),
                               '{}', 8)
FROM generate_series(1, 8) g \gset
RESET train_data.user_id;
SET ROLE regress_worker;
CREATE TEMP TABLE claimed_r AS SELECT item_id, attempt FROM train_data.claim_batch_items('batcher', 8);
SET client_min_messages = error;
SELECT r.outcome, count(*) AS entries, min(r.error_code) AS error_code
FROM train_data.complete_batch_items((
    SELECT jsonb_agg(e ORDER BY o) FROM (
        SELECT jsonb_build_object('item_id', c.item_id, 'attempt', c.attempt,
                                  'response', '{"turns": [{"role": "user", "content": "How often?"}, {"role": "assistant", "content": "Every month."}]}'::jsonb) AS e,
               c.item_id::text AS o
        FROM claimed_r c
        UNION ALL
        SELECT jsonb_build_object('item_id', 'e6000000-0000-0000-0000-00000000dead', 'response', '{}'::jsonb), '8') x)) r
GROUP BY r.outcome ORDER BY r.outcome;
RESET client_min_messages;
RESET ROLE;
SELECT count(*) AS stored, count(DISTINCT c.xmin::text) AS transaction_ids
FROM train_data.batch_items i JOIN train_data.conversations c ON c.id = i.conversation_id
WHERE i.batch_job_id = :'create_batch';

-- An unusable response is logged with what it was billed, its counts read
-- as the parser reads them (a Chat Completions response's prompt and
-- completion tokens, whole numbers only, together at most 2^31 - 1) and
-- its cost left out past what the column holds; one refused for its size
-- (over 8 MB, not read) without it, one refused for its depth with it (a
-- review of the thirty-sixth session: such calls were logged with no
-- tokens, cost or response; the review of that fix found counts the
-- parser refuses logged, and a cost overflow that left the item in flight).
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('pricey-pro', 150, 600);
SET train_data.user_id = :alice;
SELECT train_data.create_batch('logged failures', jsonb_agg(jsonb_build_object('template_id', 'e9000000-0000-0000-0000-000000000001',
                                                                              'parameters', jsonb_build_object('persona', 'L' || g))),
                               '{}', 6) AS logged_job
FROM generate_series(1, 6) g \gset
RESET train_data.user_id;
SET ROLE regress_worker;
CREATE TEMP TABLE claimed_l AS
SELECT item_id, "position", attempt FROM train_data.claim_batch_items('logger', 6) WHERE batch_job_id = :'logged_job';
SET client_min_messages = error;
SELECT c."position", train_data.complete_batch_item(c.item_id,
           CASE c."position"
               WHEN 1 THEN '{"type": "message", "model": "claude-3-5-haiku-20241022", "stop_reason": "max_tokens", "usage": {"input_tokens": 300, "output_tokens": 4096}, "content": [{"type": "text", "text": "{\"title\": \"Cut"}]}'::jsonb
               WHEN 2 THEN jsonb_build_object('usage', jsonb_build_object('input_tokens', 5, 'output_tokens', 5), 'pad', repeat('x', 9 * 1024 * 1024))
               WHEN 3 THEN '{"type": "message", "model": "pricey-pro", "usage": {"input_tokens": 100000000, "output_tokens": 2000000000}, "content": [{"type": "text", "text": "not json"}]}'::jsonb
               WHEN 6 THEN '{"type": "message", "model": "pricey-pro", "usage": {"input_tokens": 2147483647, "output_tokens": 2147483647}, "content": [{"type": "text", "text": "not json"}]}'::jsonb
               WHEN 4 THEN '{"object": "chat.completion", "model": "gpt-4o-mini", "choices": [{"message": {"role": "assistant", "content": "no json"}, "finish_reason": "stop"}], "usage": {"input_tokens": null, "prompt_tokens": 77, "completion_tokens": 0.5}}'::jsonb
               WHEN 5 THEN (repeat('{"a": ', 300) || '1' || repeat('}', 300))::jsonb
           END, 700, c.attempt) AS conversation
FROM claimed_l c ORDER BY c."position";
RESET client_min_messages;
RESET ROLE;
SELECT c."position", i.status AS item_status, l.status, l.error_code, l.input_tokens, l.output_tokens, l.cost_usd,
       l.response_payload ->> 'stop_reason' AS response_stop, l.response_payload IS NULL AS no_response, l.duration_ms
FROM claimed_l c JOIN train_data.generation_logs l ON l.batch_item_id = c.item_id
JOIN train_data.batch_items i ON i.id = c.item_id ORDER BY c."position";
DELETE FROM train_data.model_prices WHERE model_id = 'pricey-pro';

-- The worker functions refuse a transaction that reads from one snapshot
-- (forty-ninth session): a worker in REPEATABLE READ that finished a job's
-- last item while another worker finished the one before left the job open
-- with every item done, and a claim in one dropped a job's owed closing
-- check (an adversarial review).  Refused at once, each call, with what to
-- change; the item claimed in READ COMMITTED is still in flight, and is
-- completed after the refusals.  (The jobs above go first: their items
-- queued again are claimable once their backoff ends, as under valgrind.)
DELETE FROM train_data.batch_jobs;
SET train_data.user_id = :alice;
SELECT train_data.create_batch('isolated', jsonb_build_array(jsonb_build_object('template_id', 'e9000000-0000-0000-0000-000000000001',
                                                                                'parameters', jsonb_build_object('persona', 'Iso'))),
                               '{}', 1) AS isolated_job \gset
RESET train_data.user_id;
SET ROLE regress_worker;
SELECT item_id AS iso_item, attempt AS iso_attempt FROM train_data.claim_batch_items('isolated', 1)
WHERE batch_job_id = :'isolated_job' \gset
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT expect_error($$SELECT count(*) FROM train_data.claim_batch_items('isolated', 1)$$, true) AS claim;
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT expect_error(format('SELECT train_data.complete_batch_item(%L, %L, 10)', :'iso_item', '{}'), true) AS complete;
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT expect_error(format('SELECT train_data.heartbeat_batch_item(%L)', :'iso_item')) AS heartbeat,
       expect_error(format('SELECT train_data.fail_batch_item(%L, %L)', :'iso_item', 'boom')) AS fail,
       expect_error(format('SELECT train_data.release_batch_item(%L)', :'iso_item')) AS release,
       expect_error($$SELECT train_data.release_worker_items('isolated')$$) AS release_worker;
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT r.outcome, r.error_code FROM train_data.complete_batch_items(
    jsonb_build_array(jsonb_build_object('item_id', :'iso_item', 'response', '{}'::jsonb))) r;
ROLLBACK;
SET client_min_messages = error;
SELECT train_data.complete_batch_item(:'iso_item', (SELECT r FROM (VALUES (
    '{"type": "message", "model": "claude-3-5-haiku-20241022", "usage": {"input_tokens": 5, "output_tokens": 5}, "content": [{"type": "text", "text": "{\"title\": \"Iso\", \"turns\": [{\"role\": \"user\", \"content\": \"Hi?\"}, {\"role\": \"assistant\", \"content\": \"Hello.\"}]}"}]}'::jsonb)) v(r)),
    10, :'iso_attempt') IS NOT NULL AS completed_in_read_committed;
RESET client_min_messages;
RESET ROLE;
SELECT status FROM train_data.batch_jobs WHERE id = :'isolated_job';

-- clean up
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.generation_logs;
DELETE FROM train_data_internal.job_claim_locks;
DELETE FROM train_data.conversations;
DELETE FROM train_data.templates;
