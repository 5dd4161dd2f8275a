-- claim_plans: a claim reads the indexes made for its statements whatever
-- the statistics say.  Expired leases are looked for in
-- batch_items_lease_idx, oldest first, stopping at the first lease still
-- running.  batch_items_in_flight_idx (batch_job_id, lease_expires_at) has
-- the same predicate; with statistics showing no item in flight (a vacuum
-- while none was), a scan of all of it and a sort looked as cheap to the
-- planner, and that scan reads an entry for every item finished since the
-- last vacuum (src/claim_glue.c, run_expired).

-- A job of 50 queued items, inserted as the benchmark does (prompts fixed).
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by)
VALUES ('c2000000-0000-0000-0000-000000000001', 'plans', 50, 10, 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa');
INSERT INTO train_data.batch_items (batch_job_id, position, tier, parameters, prompt)
SELECT 'c2000000-0000-0000-0000-000000000001', g, 'template', '{}', 'Talk with P' || g || '.'
FROM generate_series(1, 50) g;

-- Statistics taken while nothing is in flight.
VACUUM ANALYZE train_data.batch_items;

-- A new session's first claim (its statements planned now), and the index
-- scans this transaction made (counted by this backend alone: no other
-- session's statistics, flushed or not, can change them).  The expired
-- leases: two scans of the lease index, the leases run out and the floor
-- of the session's next such scans (a look made at most every second:
-- claim_glue.c).  The in-flight index: one scan, the
-- job's items in flight that hold no slot (a session's first claim of a job
-- counts them).
\c
BEGIN;
SET LOCAL ROLE regress_worker;
SELECT position FROM train_data.claim_batch_items('plans', 1);
RESET ROLE;
SELECT pg_stat_get_xact_numscans('train_data.batch_items_lease_idx'::regclass) AS lease_index_scans,
       pg_stat_get_xact_numscans('train_data.batch_items_in_flight_idx'::regclass) AS in_flight_index_scans;
COMMIT;

-- clean up
DELETE FROM train_data.batch_jobs WHERE id = 'c2000000-0000-0000-0000-000000000001';
SET ROLE regress_worker;
SELECT count(*) AS claimed_after_clean_up FROM train_data.claim_batch_items('plans', 1);
RESET ROLE;
SELECT count(*) AS claim_order_entries FROM train_data_internal.claimable_jobs;

-- Jobs at their full concurrency before another user's job: 30 of Alice's
-- (highest priority, one item each in flight, concurrency 1) before Bob's.
-- A claim of Bob's item reads her jobs' entries in the claim order but,
-- past its first 2, leaves out those with no free slot instead of visiting
-- each (a visit reads the job's queued items: before, every claim of
-- anyone made 30 more such reads here, and 1,000 full jobs took 50 to 110
-- ms a claim on the development cluster, 6 to 12 ms now).
INSERT INTO train_data.batch_jobs (id, name, total_items, priority, concurrent_processing, created_by)
SELECT ('c3000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'full ' || g, 2, 'high', 1,
       'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'
FROM generate_series(1, 30) g;
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by)
VALUES ('c4000000-0000-0000-0000-000000000001', 'after full', 5, 10, 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb');
INSERT INTO train_data.batch_items (batch_job_id, position, tier, parameters, prompt)
SELECT j.id, p, 'template', '{}', 'Talk with P.'
FROM train_data.batch_jobs j, generate_series(1, 2) p WHERE j.name LIKE 'full %';
INSERT INTO train_data.batch_items (batch_job_id, position, tier, parameters, prompt)
SELECT 'c4000000-0000-0000-0000-000000000001', g, 'template', '{}', 'Talk with P.' FROM generate_series(1, 5) g;
SET ROLE regress_worker;
SELECT count(*) AS her_items_in_flight FROM train_data.claim_batch_items('full', 30) c
WHERE c.batch_job_id::text LIKE 'c3%';
RESET ROLE;
\c
BEGIN;
SET LOCAL ROLE regress_worker;
SELECT right(c.batch_job_id::text, 4) AS job, c.position FROM train_data.claim_batch_items('after', 1) c;
RESET ROLE;
-- (the scans of the queued items' index: the 2 first entries visited,
-- Bob's job; 32 before)
SELECT pg_stat_get_xact_numscans('train_data.batch_items_claim_idx'::regclass) AS queued_index_scans;
ROLLBACK;
DELETE FROM train_data.batch_jobs WHERE name LIKE 'full %' OR name = 'after full';
-- (a claim takes the deleted jobs' entries out of the claim order)
SET ROLE regress_worker;
SELECT count(*) AS claimed_after_clean_up FROM train_data.claim_batch_items('plans', 1);
RESET ROLE;
SELECT count(*) AS claim_order_entries FROM train_data_internal.claimable_jobs;
