-- claim_floor: a session's claims start their scan of a job's queued items
-- where its last claim found the first one (src/claim_hints.c), so that
-- they do not read again past the items claimed before; an item queued
-- again below that point (released, rolled back, retried) is still taken
-- in position order.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''

SET ROLE regress_alice;
SET train_data.user_id = :alice;
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
    ('c1000000-0000-0000-0000-000000000001', 'Floor template', 'finance', 'Talk with {{persona}}.',
     '[{"name": "persona", "type": "text"}]');
SELECT train_data.create_batch('floor',
    (SELECT jsonb_agg(jsonb_build_object('template_id', 'c1000000-0000-0000-0000-000000000001',
                                         'parameters', jsonb_build_object('persona', 'P' || g)) ORDER BY g)
     FROM generate_series(1, 9) g),
    '{}', 10, 'continue', 'high') AS job \gset

SET ROLE regress_worker;
-- One claim (and transaction) each: positions 1, 2, 3.
SELECT position, attempt FROM train_data.claim_batch_items('f1', 1);
SELECT item_id AS i2, attempt AS a2 FROM train_data.claim_batch_items('f1', 1) \gset
SELECT position, attempt FROM train_data.claim_batch_items('f1', 1);
-- Released: queued again below where the session's scan now starts; taken next.
SELECT train_data.release_batch_item(:'i2', :a2) AS released;
SELECT position, attempt FROM train_data.claim_batch_items('f1', 1);
-- A claim rolled back leaves its item queued: the next claim takes it.
BEGIN;
SELECT position FROM train_data.claim_batch_items('f1', 1);
ROLLBACK;
SELECT position FROM train_data.claim_batch_items('f1', 1);
-- Two claims of one transaction rolled back: both items come again, in order.
BEGIN;
SELECT position FROM train_data.claim_batch_items('f1', 1);
SELECT position FROM train_data.claim_batch_items('f1', 1);
ROLLBACK;
SELECT position FROM train_data.claim_batch_items('f1', 2) ORDER BY position;
-- Within one transaction a claim starts past the items taken before it; a
-- savepoint rolled back gives its items back to the next claim.
BEGIN;
SELECT position FROM train_data.claim_batch_items('f1', 1);
SAVEPOINT s;
SELECT position FROM train_data.claim_batch_items('f1', 1);
SELECT position FROM train_data.claim_batch_items('f1', 1);
ROLLBACK TO SAVEPOINT s;
SELECT position FROM train_data.claim_batch_items('f1', 1);
ROLLBACK;
-- Retried after a later item was taken: it waits out its backoff while the
-- next ones are taken, then comes before them.
SELECT item_id AS ir, position FROM train_data.claim_batch_items('f1', 1) \gset
SELECT position, attempt FROM train_data.claim_batch_items('f1', 1);
SELECT :position AS retried_position, train_data.fail_batch_item(:'ir', 'overloaded', '529') AS retried;
SELECT position, attempt FROM train_data.claim_batch_items('f1', 1);
SET ROLE regress_alice;
UPDATE train_data.batch_items SET available_at = now() WHERE id = :'ir';
SET ROLE regress_worker;
SELECT position, attempt FROM train_data.claim_batch_items('f1', 1);
SELECT count(*) AS nothing_left FROM train_data.claim_batch_items('f1', 1);

SET ROLE regress_alice;
SELECT position, status, attempts FROM train_data.batch_items WHERE batch_job_id = :'job' ORDER BY position;

-- A transaction that queued an item of a job again wrote the job's entry in
-- the claim order; its next such write leaves the entry's xmin as it is, so
-- that entry has no floor within it: an item it releases again after later
-- claims is still taken next.
SELECT train_data.create_batch('floor 2',
    (SELECT jsonb_agg(jsonb_build_object('template_id', 'c1000000-0000-0000-0000-000000000001',
                                         'parameters', jsonb_build_object('persona', 'Q' || g)) ORDER BY g)
     FROM generate_series(1, 5) g),
    '{}', 10, 'continue', 'high') AS job2 \gset
SET ROLE regress_worker;
BEGIN;
SELECT item_id AS i1, attempt AS a1 FROM train_data.claim_batch_items('f2', 1) \gset
SELECT train_data.release_batch_item(:'i1', :a1) AS released;
SELECT item_id AS i1, attempt AS a1, position FROM train_data.claim_batch_items('f2', 1) \gset
SELECT :position AS position;
SELECT position FROM train_data.claim_batch_items('f2', 1);
SELECT position FROM train_data.claim_batch_items('f2', 1);
SELECT train_data.release_batch_item(:'i1', :a1) AS released;
SELECT position FROM train_data.claim_batch_items('f2', 1);
COMMIT;
SET ROLE regress_alice;
SELECT position, status FROM train_data.batch_items WHERE batch_job_id = :'job2' ORDER BY position;

-- clean up
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.generation_logs;
DELETE FROM train_data.templates;
-- (a claim drops the deleted jobs' entries from the claim order)
SET ROLE regress_worker;
SELECT count(*) AS claimed_after_clean_up FROM train_data.claim_batch_items('f1', 1);
RESET ROLE;
SELECT count(*) AS claim_order_entries FROM train_data_internal.claimable_jobs;
