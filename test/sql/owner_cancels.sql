-- owner_cancels: the items a batch's owner ends herself, one at a time --
-- cancelled by an UPDATE or deleted while queued or in flight -- are counted
-- as cancelled, and the job ends when they were the last (found by an
-- adversarial review in 1.2's twentieth session: the counters and the
-- progress functions kept them as queued or in flight, and a job whose items
-- were all cancelled so stayed queued for good).  cancel_batch, which counts
-- what it cancels itself, counts each item once.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set tpl '''c1000000-0000-0000-0000-000000000001'''
\set ok_response '{"turns": [{"role": "user", "content": "Should I save now?"}, {"role": "assistant", "content": "Yes: time is your best friend."}]}'

SET ROLE regress_alice;
SET train_data.user_id = :alice;
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
    (:tpl, 'Owner cancels', 'finance', 'Talk with {{persona}}.', '[{"name": "persona", "type": "text"}]');
SELECT train_data.create_batch('by hand', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "A"}},
                                            {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "B"}},
                                            {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "C"}},
                                            {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "D"}}]',
                               '{}', 3, 'continue', 'high') AS job \gset

-- a worker takes items 1 and 2; she cancels 2 (in flight) and 3 (queued)
-- and deletes 4
SET ROLE regress_worker;
SELECT position FROM train_data.claim_batch_items('w1', 2) ORDER BY position;
SET ROLE regress_alice;
UPDATE train_data.batch_items SET status = 'cancelled' WHERE batch_job_id = :'job' AND position IN (2, 3);
DELETE FROM train_data.batch_items WHERE batch_job_id = :'job' AND position = 4;
SELECT status, total_items, queued_items, processing_items, completed_items, failed_items, cancelled_items, percent
FROM train_data.batch_progress(:'job');
-- the items she cancelled ended then, the one in flight without its lease
-- (as cancel_batch ends them; a soak of the queue found them with no finish
-- time and the lease on)
SELECT position, status, finished_at IS NOT NULL AS finished, lease_expires_at IS NULL AS no_lease
FROM train_data.batch_items WHERE batch_job_id = :'job' ORDER BY position;

-- the worker completes item 1, the last: the job ends, its row counted
SELECT id AS i1, (SELECT id FROM train_data.batch_items WHERE batch_job_id = :'job' AND position = 2) AS i2
FROM train_data.batch_items WHERE batch_job_id = :'job' AND position = 1 \gset
SET ROLE regress_worker;
SELECT train_data.complete_batch_item(:'i1', :'ok_response') IS NOT NULL AS stored;
SELECT expect_error(format('SELECT train_data.complete_batch_item(%L, %L)', :'i2', :'ok_response'), true, true);
SET ROLE regress_alice;
SELECT status, total_items, queued_items, processing_items, completed_items, failed_items, cancelled_items, percent
FROM train_data.batch_progress(:'job');
SELECT status, completed_items, failed_items, cancelled_items, completed_at IS NOT NULL AS ended
FROM train_data.batch_jobs WHERE id = :'job';

-- a job whose queued items she cancels, all of them: it ends, cancelled
SELECT train_data.create_batch('all cancelled', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "E"}},
                                                  {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "F"}}]')
    AS job2 \gset
UPDATE train_data.batch_items SET status = 'cancelled' WHERE batch_job_id = :'job2' AND position = 1;
SELECT status, queued_items, cancelled_items, percent FROM train_data.batch_progress(:'job2');
DELETE FROM train_data.batch_items WHERE batch_job_id = :'job2' AND position = 2;
SELECT status, queued_items, cancelled_items, percent FROM train_data.batch_progress(:'job2');
SELECT sum(cancelled_items) AS cancelled_counted, sum(in_flight) AS in_flight_counted
FROM train_data.batch_job_counters WHERE batch_job_id = :'job2';
SELECT status, cancelled_items, completed_at IS NOT NULL AS ended FROM train_data.batch_jobs WHERE id = :'job2';

-- cancel_batch counts each item once: 3 items, one in flight
SELECT train_data.create_batch('cancel once', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "G"}},
                                                {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "H"}},
                                                {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "I"}}]')
    AS job3 \gset
SET ROLE regress_worker;
SELECT position FROM train_data.claim_batch_items('w1', 1);
SET ROLE regress_alice;
SELECT status, completed_items, failed_items, cancelled_items FROM train_data.cancel_batch(:'job3');
SELECT status, queued_items, processing_items, cancelled_items, percent FROM train_data.batch_progress(:'job3');
-- (the shards themselves: the sums above are clipped to the job's total)
SELECT sum(cancelled_items) AS cancelled_counted, sum(in_flight) AS in_flight_counted
FROM train_data.batch_job_counters WHERE batch_job_id = :'job3';
-- the counting cannot be turned off by the user: before the thirty-fourth
-- session cancel_batch switched it off with a setting any user could set
-- herself, and the items she then cancelled stayed counted as queued (her
-- job never ended); the setting is gone
SELECT expect_error($$SET train_data.items_counted = on$$);
SELECT train_data.create_batch('counted anyway', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "J1"}},
                                                   {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "J2"}}]')
    AS job4b \gset
UPDATE train_data.batch_items SET status = 'cancelled' WHERE batch_job_id = :'job4b';
SELECT status, queued_items, cancelled_items FROM train_data.batch_progress(:'job4b');
RESET ALL;
SET train_data.user_id = :alice;
-- a superuser's cancel_batch (not counted by the owner's trigger) counts
-- its items itself, once
SELECT train_data.create_batch('superuser cancels', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "S1"}},
                                                      {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "S2"}}]')
    AS job4c \gset
RESET ROLE;
SELECT status, cancelled_items FROM train_data.cancel_batch(:'job4c');
SET ROLE regress_alice;
SELECT status, queued_items, cancelled_items FROM train_data.batch_progress(:'job4c');

-- a statement that fails after some of its items were added up (here in a
-- savepoint, by a planted trigger): its sums are forgotten, not added by
-- the next statement's
SELECT train_data.create_batch('failed statement', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "K"}},
                                                     {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "L"}}]')
    AS job5 \gset
SELECT train_data.create_batch('next statement', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "M"}}]')
    AS job6 \gset
RESET ROLE;
UPDATE train_data.batch_items SET topic = 'planted' WHERE batch_job_id = :'job5' AND position = 2;
CREATE FUNCTION public.planted_failure() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'planted failure'; END $$;
CREATE TRIGGER zz_planted_failure AFTER UPDATE ON train_data.batch_items
    FOR EACH ROW WHEN (NEW.topic = 'planted') EXECUTE FUNCTION public.planted_failure();
SET ROLE regress_alice;
BEGIN;
SAVEPOINT before_cancel;
UPDATE train_data.batch_items SET status = 'cancelled' WHERE batch_job_id = :'job5';
ROLLBACK TO SAVEPOINT before_cancel;
UPDATE train_data.batch_items SET status = 'cancelled' WHERE batch_job_id = :'job6';
COMMIT;
SELECT j.name, j.status, (SELECT coalesce(sum(c.cancelled_items), 0) FROM train_data.batch_job_counters c
                          WHERE c.batch_job_id = j.id) AS cancelled_counted
FROM train_data.batch_jobs j WHERE j.id IN (:'job5', :'job6') ORDER BY j.name;
RESET ROLE;
DROP TRIGGER zz_planted_failure ON train_data.batch_items;
DROP FUNCTION public.planted_failure();
SET ROLE regress_alice;

-- a statement whose expressions call a function that catches an error (a
-- subtransaction that rolls back for each row, between rows the statement
-- counts): every item counted, the jobs ended (found by a review: the
-- first form of the sums forgot them all at any subtransaction's abort)
CREATE FUNCTION pg_temp.safe_int(t text) RETURNS integer LANGUAGE plpgsql AS
$$ BEGIN RETURN t::integer; EXCEPTION WHEN invalid_text_representation THEN RETURN NULL; END $$;
CREATE FUNCTION pg_temp.swallow(t text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN PERFORM 1 / 0; RETURN t; EXCEPTION WHEN division_by_zero THEN RETURN t; END $$;
SELECT train_data.create_batch('safe casts', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "N"}},
                                               {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "O"}},
                                               {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "P"}}]')
    AS job7 \gset
SELECT train_data.create_batch('returning', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "Q"}},
                                              {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "R"}}]')
    AS job8 \gset
SELECT train_data.create_batch('deleted returning', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "S"}},
                                                      {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "T"}}]')
    AS job9 \gset
UPDATE train_data.batch_items SET status = 'cancelled'
WHERE batch_job_id = :'job7' AND pg_temp.safe_int(parameters ->> 'persona') IS NULL;
UPDATE train_data.batch_items SET status = 'cancelled' WHERE batch_job_id = :'job8'
RETURNING pg_temp.swallow(status::text) AS returned;
DELETE FROM train_data.batch_items WHERE batch_job_id = :'job9' RETURNING pg_temp.swallow(status::text) AS returned;
SELECT j.name, j.status, j.cancelled_items, p.queued_items, p.percent
FROM train_data.batch_jobs j, train_data.batch_progress(j.id) p
WHERE j.id IN (:'job7', :'job8', :'job9') ORDER BY j.name;

-- deleting a job deletes its items without counting them
SELECT train_data.create_batch('deleted job', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "J"}}]')
    AS job4 \gset
DELETE FROM train_data.batch_jobs WHERE id = :'job4';
SELECT count(*) AS counter_rows_left FROM train_data.batch_job_counters WHERE batch_job_id = :'job4';

-- a role that bypasses row-level security with no user id (Supabase's
-- service key) cancels a job's last item: the job is not hers to lock or
-- close, so a claim closes it after her commit (before, it stayed queued
-- for good: a review of a PostgREST-shaped deployment); calling the helper
-- for a job with work left owes nothing
SELECT train_data.create_batch('service role', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "V"}}]')
    AS job10 \gset
RESET ROLE;
RESET train_data.user_id;
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_service;
RESET client_min_messages;
CREATE ROLE regress_service BYPASSRLS IN ROLE regress_app;
SET ROLE regress_service;
SELECT train_data.owner_close_job(:'job10') AS with_work;
RESET ROLE;
SELECT count(*) AS checks_owed_with_work FROM train_data_internal.job_close_checks WHERE batch_job_id = :'job10';
SET ROLE regress_service;
UPDATE train_data.batch_items SET status = 'cancelled' WHERE batch_job_id = :'job10';
RESET ROLE;
SELECT j.status, count(c.*) AS checks_owed
FROM train_data.batch_jobs j LEFT JOIN train_data_internal.job_close_checks c ON c.batch_job_id = j.id
WHERE j.id = :'job10' GROUP BY j.status;
\c
SET ROLE regress_worker;
SELECT count(*) AS claimed FROM train_data.claim_batch_items('w-service', 1);
RESET ROLE;
DROP ROLE regress_service;
-- a job its owner inserts before its items (as 1.1's applications did) has
-- none yet: another user calling the helper for it owes nothing, and the
-- job stays open for the items that follow (the review of the first form
-- had a claim close it under them)
SET ROLE regress_alice;
SET train_data.user_id = :alice;
INSERT INTO train_data.batch_jobs (name, total_items) VALUES ('items follow', 1) RETURNING id AS job11 \gset
SET ROLE regress_bob;
SET train_data.user_id = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb';
SELECT train_data.owner_close_job(:'job11') AS empty_job;
RESET ROLE;
RESET train_data.user_id;
SELECT count(*) AS checks_owed_empty FROM train_data_internal.job_close_checks WHERE batch_job_id = :'job11';
SELECT j.status, j.cancelled_items, count(c.*) AS checks_owed
FROM train_data.batch_jobs j LEFT JOIN train_data_internal.job_close_checks c ON c.batch_job_id = j.id
WHERE j.id = :'job10' GROUP BY j.status, j.cancelled_items;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
-- one statement that deletes a job's items (in a CTE) and the job: the
-- items' ends are not counted for the job the statement deleted (they
-- failed the statement: the counters' row was written for a job gone),
-- and are for her other job whose items the same statement deleted
SELECT train_data.create_batch('gone together', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "K1"}},
                                                  {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "K2"}}]')
    AS job12 \gset
SELECT train_data.create_batch('items gone', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "L1"}},
                                               {"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "L2"}}]')
    AS job13 \gset
SET ROLE regress_worker;
SELECT count(*) AS claimed FROM train_data.claim_batch_items('w-gone', 1);
SET ROLE regress_alice;
WITH items AS (DELETE FROM train_data.batch_items WHERE batch_job_id IN (:'job12', :'job13') RETURNING 1)
DELETE FROM train_data.batch_jobs WHERE id = :'job12';
SELECT name, status, cancelled_items, total_items FROM train_data.batch_jobs WHERE id IN (:'job12', :'job13');
-- the other way round: the job in the CTE, its items in the main statement
SELECT train_data.create_batch('gone again', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "M1"}}]')
    AS job14 \gset
WITH job AS (DELETE FROM train_data.batch_jobs WHERE id = :'job14' RETURNING 1)
DELETE FROM train_data.batch_items WHERE batch_job_id = :'job14';
SELECT count(*) AS left_of_job14 FROM train_data.batch_jobs WHERE id = :'job14';
-- a job that is not gone is counted, whoever the statement's user has
-- become: an id changed within the statement (a RETURNING set_config) does
-- not make her job look deleted and its ends go uncounted (a review of the
-- change: the job stayed queued, its items gone, in the claim order for
-- good); the statement fails as it did
SELECT train_data.create_batch('still here', '[{"template_id": "c1000000-0000-0000-0000-000000000001", "parameters": {"persona": "N1"}}]')
    AS job15 \gset
SELECT expect_error(format($$DELETE FROM train_data.batch_items WHERE batch_job_id = %L
                             RETURNING set_config('train_data.user_id', 'dddddddd-dddd-dddd-dddd-dddddddddddd', false)$$, :'job15'))
       AS id_changed_within;
SET train_data.user_id = :alice;
SELECT j.status, (SELECT count(*) FROM train_data.batch_items i WHERE i.batch_job_id = j.id) AS items
FROM train_data.batch_jobs j WHERE j.id = :'job15';
RESET ROLE;
SELECT count(*) AS counters_of_gone_jobs FROM train_data.batch_job_counters WHERE batch_job_id IN (:'job12', :'job14');
SELECT count(*) AS slots_of_gone_jobs FROM train_data_internal.job_claim_slots WHERE batch_job_id IN (:'job12', :'job14');
SET ROLE regress_alice;
SET train_data.user_id = :alice;

-- clean up
RESET ROLE;
RESET train_data.user_id;
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.generation_logs;
DELETE FROM train_data.conversations;
DELETE FROM train_data.templates;
