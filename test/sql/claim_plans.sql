-- claim_plans: a claim reads the indexes made for its statements whatever
-- the statistics say.  Expired leases are looked for in
-- batch_items_lease_idx, oldest first, stopping at the first lease still
-- running.  batch_items_in_flight_idx (batch_job_id, lease_expires_at) has
-- the same predicate; with statistics showing no item in flight (a vacuum
-- while none was), a scan of all of it and a sort looked as cheap to the
-- planner, and that scan reads an entry for every item finished since the
-- last vacuum (src/claim_glue.c, run_expired).

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''

SET ROLE regress_alice;
SET train_data.user_id = :alice;
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
    ('c2000000-0000-0000-0000-000000000001', 'Plans template', 'finance', 'Talk with {{persona}}.',
     '[{"name": "persona", "type": "text"}]');
SELECT train_data.create_batch('plans',
    (SELECT jsonb_agg(jsonb_build_object('template_id', 'c2000000-0000-0000-0000-000000000001',
                                         'parameters', jsonb_build_object('persona', 'P' || g)) ORDER BY g)
     FROM generate_series(1, 50) g),
    '{}', 10, 'continue', 'high') AS job \gset
RESET ROLE;

-- Statistics taken while nothing is in flight, counters from zero.
VACUUM ANALYZE train_data.batch_items;
SELECT pg_stat_reset_single_table_counters('train_data.batch_items_lease_idx'::regclass),
       pg_stat_reset_single_table_counters('train_data.batch_items_in_flight_idx'::regclass);

-- A new session's first claim (its statements planned now).
\c
SET ROLE regress_worker;
SELECT position FROM train_data.claim_batch_items('plans', 1);
RESET ROLE;
SELECT pg_stat_force_next_flush();
-- The expired leases: one scan of the lease index.  The in-flight index:
-- one scan, the job's items in flight that hold no slot (a session's first
-- claim of a job counts them).
SELECT indexrelname, idx_scan
  FROM pg_stat_user_indexes
 WHERE indexrelname IN ('batch_items_lease_idx', 'batch_items_in_flight_idx')
 ORDER BY indexrelname;

-- clean up (as claim_floor does)
SET ROLE regress_alice;
SET train_data.user_id = :alice;
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.templates;
SET ROLE regress_worker;
SELECT count(*) AS claimed_after_clean_up FROM train_data.claim_batch_items('plans', 1);
RESET ROLE;
SELECT count(*) AS claim_order_entries FROM train_data.claimable_jobs;
