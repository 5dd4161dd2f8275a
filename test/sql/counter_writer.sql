-- counter_writer: the engine's addition to its own counter shard, written
-- natively (src/counter_update.c) when the table is as it expects, by
-- counter_shards.c's statements otherwise.  Both must leave the same row.
-- Which way a call went shows in the index scans of the counters table
-- (pg_stat_xact_all_tables): the native one reads the primary key once,
-- the statements twice (the shard picked and locked, then updated).  Run
-- as the extension owner (bump_counters is internal); the engine's shards
-- are 16-31, the preferred one this backend's process id modulo 16 + 16.
-- (the statements' plans are made with sequential scans off, as the engine
-- makes them: complete_batch_item and claim_batch_items set it; else a
-- small table's plan, and so the scans counted, would follow its
-- statistics)
SET enable_seqscan = off;
\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''

-- Two jobs started at the same time, each with its preferred shard.
INSERT INTO train_data.batch_jobs (id, name, total_items, status, started_at, created_by)
SELECT ('c0000000-0000-0000-0000-00000000000' || g)::uuid, 'counters ' || g, 10, 'processing',
       '2026-01-01 00:00:00+00', :alice
FROM generate_series(1, 4) g;
INSERT INTO train_data.batch_job_counters (batch_job_id, created_by, shard)
SELECT ('c0000000-0000-0000-0000-00000000000' || g)::uuid, :alice, pg_backend_pid() % 16 + 16
FROM generate_series(1, 2) g;

-- The index scans of the counters table (or of another, counted) one
-- bump_counters call makes.
CREATE FUNCTION public.cw_bump(job uuid, completed integer, failed integer, cancelled integer, in_flight integer,
                               final boolean, counted regclass DEFAULT 'train_data.batch_job_counters')
    RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    before bigint;
BEGIN
    SELECT s.idx_scan INTO before FROM pg_stat_xact_all_tables s WHERE s.relid = counted;
    PERFORM train_data.bump_counters(job, completed, failed, cancelled, in_flight, final);
    RETURN (SELECT s.idx_scan FROM pg_stat_xact_all_tables s WHERE s.relid = counted) - before;
END
$$;

-- A shard's row, with its shard as the preferred one or not.
CREATE FUNCTION public.cw_shards(job uuid)
    RETURNS TABLE (preferred boolean, completed integer, failed integer, cancelled integer, in_flight integer,
                   interval_ewma double precision, last_active double precision)
    LANGUAGE sql
AS $$
    SELECT c.shard = pg_backend_pid() % 16 + 16, c.completed_items, c.failed_items, c.cancelled_items, c.in_flight,
           c.interval_ewma, c.last_active
    FROM train_data.batch_job_counters c WHERE c.batch_job_id = job ORDER BY c.shard
$$;

-- 1. Native: a claim's and two completions' additions to job 1, and the
-- same by the statements (a rule that does nothing on the table sends
-- them there) to job 2: the same rows.  The rate from the job's clock:
-- eta_observe over job_active_seconds at now().
BEGIN;
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, 0, 0, 2, false) AS claim_scans,
       public.cw_bump('c0000000-0000-0000-0000-000000000001', 1, 0, 0, -1, true) AS completion_scans,
       public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, 1, 0, -1, true) AS failure_scans;
CREATE RULE cw_nothing AS ON UPDATE TO train_data.batch_job_counters DO ALSO NOTHING;
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000002', 0, 0, 0, 2, false) AS claim_scans,
       public.cw_bump('c0000000-0000-0000-0000-000000000002', 1, 0, 0, -1, true) AS completion_scans,
       public.cw_bump('c0000000-0000-0000-0000-000000000002', 0, 1, 0, -1, true) AS failure_scans;
DROP RULE cw_nothing ON train_data.batch_job_counters;
SELECT preferred, completed, failed, cancelled, in_flight, interval_ewma > 0 AS rate_kept
FROM public.cw_shards('c0000000-0000-0000-0000-000000000001');
SELECT (SELECT array_agg(s) FROM public.cw_shards('c0000000-0000-0000-0000-000000000001') s)
       = (SELECT array_agg(s) FROM public.cw_shards('c0000000-0000-0000-0000-000000000002') s) AS same_rows,
       s.last_active = train_data.job_active_seconds('2026-01-01 00:00:00+00', NULL, NULL, NULL, now()) AS clock,
       s.interval_ewma = train_data.eta_observe(train_data.eta_observe(NULL, NULL, s.last_active), s.last_active,
                                                s.last_active) AS rate
FROM public.cw_shards('c0000000-0000-0000-0000-000000000001') s;
ROLLBACK;

-- A job paused: its clock stops at the pause, as the statement reads it.
BEGIN;
UPDATE train_data.batch_jobs SET paused_at = '2026-01-01 00:10:00+00', paused_time = '1 minute'
WHERE id = 'c0000000-0000-0000-0000-000000000001';
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 1, 0, 0, 0, true) AS scans;
SELECT completed, in_flight, last_active, interval_ewma IS NULL AS no_rate_yet
FROM public.cw_shards('c0000000-0000-0000-0000-000000000001');
ROLLBACK;

-- Sums kept in the int4 range, as the statement keeps them.
BEGIN;
UPDATE train_data.batch_job_counters SET in_flight = 2147483647, failed_items = -2147483648
WHERE batch_job_id = 'c0000000-0000-0000-0000-000000000001';
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, -5, 0, 5, false) AS scans;
SELECT failed, in_flight FROM public.cw_shards('c0000000-0000-0000-0000-000000000001');
ROLLBACK;

-- Many additions to one shard in one transaction fill its page: the
-- updates that cannot stay on it (not HOT) insert their index entries, and
-- the key finds the newest version (amcheck: every row in the index).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS amcheck;
RESET client_min_messages;
BEGIN;
-- (the transaction's counts, less those of earlier transactions the
-- session has not yet reported)
SELECT n_tup_upd AS upd_before, n_tup_hot_upd AS hot_before
FROM pg_stat_xact_all_tables WHERE relid = 'train_data.batch_job_counters'::regclass \gset
DO $$ BEGIN
    FOR i IN 1 .. 300 LOOP
        PERFORM train_data.bump_counters('c0000000-0000-0000-0000-000000000001', 0, 0, 0, 1, false);
    END LOOP;
END $$;
SELECT n_tup_upd - :upd_before AS updates, n_tup_upd - :upd_before > n_tup_hot_upd - :hot_before AS some_not_hot
FROM pg_stat_xact_all_tables WHERE relid = 'train_data.batch_job_counters'::regclass;
SET LOCAL enable_bitmapscan = off;
SELECT count(*) AS rows_by_key, max(in_flight) AS in_flight FROM train_data.batch_job_counters
WHERE batch_job_id = 'c0000000-0000-0000-0000-000000000001' AND shard = pg_backend_pid() % 16 + 16;
SELECT bt_index_check('train_data.batch_job_counters_pkey', true) IS NOT NULL AS index_checked;
ROLLBACK;
DROP EXTENSION amcheck;

-- A shard this transaction has written already: the UPDATE checks its
-- unchanged job key again then (and locks the job FOR KEY SHARE), and so
-- does the native update (one read of the jobs' key, the job row locked
-- by this transaction); the first addition checks nothing.  With the job
-- deleted earlier in the statement, the check's error.
BEGIN;
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, 0, 0, 1, false, 'train_data.batch_jobs') AS first_reads;
SELECT xmax::text = pg_current_xact_id()::text AS job_locked_by_us
FROM train_data.batch_jobs WHERE id = 'c0000000-0000-0000-0000-000000000001';
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, 0, 0, 1, false, 'train_data.batch_jobs') AS second_reads;
SELECT xmax::text = pg_current_xact_id()::text AS job_locked_by_us
FROM train_data.batch_jobs WHERE id = 'c0000000-0000-0000-0000-000000000001';
ROLLBACK;

-- 2. A job without the preferred shard: the statements make it; the next
-- addition, to the shard this transaction made, is native.
BEGIN;
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000003', 0, 0, 0, 1, false) > 1 AS made_by_statements,
       public.cw_bump('c0000000-0000-0000-0000-000000000003', 1, 0, 0, -1, false) AS scans_after;
SELECT preferred, completed, in_flight FROM public.cw_shards('c0000000-0000-0000-0000-000000000003');
ROLLBACK;

-- A job whose one shard is not the preferred one, free: native too (the
-- preferred one looked for, then the range 16-31 in order: 2 scans), and
-- the job's preferred shard is not made.
BEGIN;
INSERT INTO train_data.batch_job_counters (batch_job_id, created_by, shard)
VALUES ('c0000000-0000-0000-0000-000000000004', :alice, (pg_backend_pid() + 1) % 16 + 16);
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000004', 0, 0, 0, 1, false) AS scans,
       public.cw_bump('c0000000-0000-0000-0000-000000000004', 1, 0, 0, -1, true) AS final_scans;
SELECT preferred, completed, in_flight, last_active IS NOT NULL AS clock_read
FROM public.cw_shards('c0000000-0000-0000-0000-000000000004');
ROLLBACK;

-- The first free shard is the lowest of 16-31, and only it is locked: not
-- a user's shard (3), not a higher one; the shards named by where they
-- stand from the preferred one.
BEGIN;
INSERT INTO train_data.batch_job_counters (batch_job_id, created_by, shard)
SELECT 'c0000000-0000-0000-0000-000000000004', :alice, s
FROM (VALUES (3), ((SELECT min(s) FROM (VALUES (16), (17)) v(s) WHERE s <> pg_backend_pid() % 16 + 16)),
             ((SELECT max(s) FROM (VALUES (30), (31)) v(s) WHERE s <> pg_backend_pid() % 16 + 16))) v(s);
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000004', 0, 0, 0, 1, false) > 0 AS bumped;
SELECT CASE WHEN c.shard < 16 THEN 'user' WHEN c.shard < 18 THEN 'lowest' ELSE 'highest' END AS shard,
       c.in_flight, c.xmax::text = pg_current_xact_id()::text AS locked
FROM train_data.batch_job_counters c WHERE c.batch_job_id = 'c0000000-0000-0000-0000-000000000004'
ORDER BY c.shard;
ROLLBACK;

-- The shard locked as the pick's FOR UPDATE locks it: its old version
-- marked with its key updated (what FOR UPDATE, then the UPDATE, leave).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pageinspect;
RESET client_min_messages;
BEGIN;
SELECT (ctid::text::point)[0]::int AS blk, (ctid::text::point)[1]::int AS off
FROM train_data.batch_job_counters WHERE batch_job_id = 'c0000000-0000-0000-0000-000000000001' \gset
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, 0, 0, 1, false) AS scans;
SELECT (t_infomask2 & 8192) <> 0 AS keys_updated, t_xmax::text = pg_current_xact_id()::text AS updated_by_us
FROM heap_page_items(get_raw_page('train_data.batch_job_counters', :blk)) WHERE lp = :off;
ROLLBACK;
DROP EXTENSION pageinspect;

-- 3. The statements, not the native update, where they would do more or
-- otherwise: 2 scans each, and the same sums.
CREATE TABLE public.cw_fired (n integer);
CREATE FUNCTION public.cw_fire() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO public.cw_fired VALUES (NEW.in_flight); RETURN NEW; END $$;
-- a site's update trigger, which fires
BEGIN;
CREATE TRIGGER cw_site AFTER UPDATE ON train_data.batch_job_counters
    FOR EACH ROW EXECUTE FUNCTION public.cw_fire();
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, 0, 0, 3, false) AS scans;
SELECT n AS fired_with FROM public.cw_fired;
ROLLBACK;
-- a trigger of the site on other events only: still native
BEGIN;
CREATE TRIGGER cw_site AFTER DELETE ON train_data.batch_job_counters
    FOR EACH ROW EXECUTE FUNCTION public.cw_fire();
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, 0, 0, 3, false) AS scans;
ROLLBACK;
-- the job key made deferrable (a deferred check would have to see the update)
BEGIN;
ALTER TABLE train_data.batch_job_counters ALTER CONSTRAINT batch_job_counters_job_fk DEFERRABLE;
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, 0, 0, 3, false) AS scans;
ROLLBACK;
-- one snapshot for the transaction: the statement raises what it must
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, 0, 0, 3, false) AS scans;
ROLLBACK;
-- a count without NOT NULL (a site dropped it): the statement's sum,
-- decided before any row is locked; GREATEST passes over the NULL
BEGIN;
ALTER TABLE train_data.batch_job_counters ALTER COLUMN completed_items DROP NOT NULL;
UPDATE train_data.batch_job_counters SET completed_items = NULL
WHERE batch_job_id = 'c0000000-0000-0000-0000-000000000001';
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 1, 0, 0, 3, false) AS scans;
SELECT completed, in_flight FROM public.cw_shards('c0000000-0000-0000-0000-000000000001');
ROLLBACK;
-- a role that is not the engine, with the privileges and BYPASSRLS (and
-- EXECUTE on bump_counters, as every role: cancel_batch calls it as its
-- user)
CREATE ROLE regress_cw_bypass BYPASSRLS;
GRANT USAGE ON SCHEMA train_data TO regress_cw_bypass;
GRANT SELECT, INSERT, UPDATE ON train_data.batch_job_counters TO regress_cw_bypass;
GRANT SELECT ON train_data.batch_jobs TO regress_cw_bypass;
GRANT EXECUTE ON FUNCTION public.cw_bump(uuid, integer, integer, integer, integer, boolean, regclass) TO regress_cw_bypass;
BEGIN;
SET LOCAL ROLE regress_cw_bypass;
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, 0, 0, 3, false) AS scans;
RESET ROLE;
SELECT in_flight FROM public.cw_shards('c0000000-0000-0000-0000-000000000001');
ROLLBACK;
REVOKE ALL ON train_data.batch_job_counters, train_data.batch_jobs FROM regress_cw_bypass;
REVOKE ALL ON SCHEMA train_data FROM regress_cw_bypass;
DROP OWNED BY regress_cw_bypass;
DROP ROLE regress_cw_bypass;

-- 4. The errors the statement gives, given natively too: a site's CHECK
-- constraint (native, then by the statements), a read-only transaction,
-- a publication of updates on a table without a replica identity.  (The
-- error's state, message and detail, the shard in the failing row as S:
-- it is the backend's.)
CREATE FUNCTION public.cw_try(job uuid, in_flight integer)
    RETURNS text
    LANGUAGE plpgsql
AS $$
DECLARE
    state text;
    message text;
    detail text;
BEGIN
    PERFORM train_data.bump_counters(job, 0, 0, 0, in_flight, false);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
    RETURN state || ': ' || message
           || coalesce(' / ' || replace(nullif(detail, ''), ', ' || (pg_backend_pid() % 16 + 16) || ', ', ', S, '), '');
END
$$;
BEGIN;
ALTER TABLE train_data.batch_job_counters ADD CONSTRAINT cw_cap CHECK (in_flight <= 2) NOT VALID;
SELECT public.cw_try('c0000000-0000-0000-0000-000000000001', 3) AS native;
CREATE RULE cw_nothing AS ON UPDATE TO train_data.batch_job_counters DO ALSO NOTHING;
SELECT public.cw_try('c0000000-0000-0000-0000-000000000001', 3) AS statements;
ROLLBACK;
BEGIN READ ONLY;
SELECT public.cw_try('c0000000-0000-0000-0000-000000000001', 3) AS read_only;
ROLLBACK;
-- the job deleted earlier in the statement, after an addition of this
-- transaction (the key check of the shard it wrote)
BEGIN;
SELECT public.cw_bump('c0000000-0000-0000-0000-000000000001', 0, 0, 0, 1, false) AS scans;
WITH d AS (DELETE FROM train_data.batch_jobs WHERE id = 'c0000000-0000-0000-0000-000000000001' RETURNING id)
SELECT public.cw_try(d.id, 1) AS job_deleted FROM d;
ROLLBACK;
-- a shard inserted in the same statement, its key check still to come
-- (a job that does not exist): the statements run, and their check fails
-- (natively, the update would make the insert's check pass over the row,
-- and leave a shard without a job)
\set VERBOSITY terse
BEGIN;
WITH i AS (INSERT INTO train_data.batch_job_counters (batch_job_id, created_by, shard)
           VALUES ('c0000000-0000-0000-0000-0000000000ff', :alice, pg_backend_pid() % 16 + 16)
           RETURNING batch_job_id)
SELECT train_data.bump_counters(i.batch_job_id, 0, 0, 0, 1) FROM i;
ROLLBACK;
\set VERBOSITY default
-- a site's foreign key on a count the addition changes
BEGIN;
CREATE TABLE public.cw_allowed (v integer PRIMARY KEY);
INSERT INTO public.cw_allowed VALUES (0);
ALTER TABLE train_data.batch_job_counters ADD CONSTRAINT cw_in_flight_fk FOREIGN KEY (in_flight)
    REFERENCES public.cw_allowed NOT VALID;
SELECT public.cw_try('c0000000-0000-0000-0000-000000000001', 7) AS key_on_a_count;
ROLLBACK;
BEGIN;
SET LOCAL client_min_messages = error;   -- (wal_level's warning, whatever the cluster's)
CREATE PUBLICATION cw_updates FOR TABLE train_data.batch_job_counters WITH (publish = 'update');
ALTER TABLE train_data.batch_job_counters REPLICA IDENTITY NOTHING;
SELECT public.cw_try('c0000000-0000-0000-0000-000000000001', 3) AS no_replica_identity;
ROLLBACK;

-- 5. Nothing is left behind: the rows as they were.
SELECT batch_job_id, preferred, completed, in_flight
FROM train_data.batch_job_counters c, LATERAL (SELECT c.shard = pg_backend_pid() % 16 + 16 AS preferred) p,
     LATERAL (SELECT c.completed_items AS completed) x
ORDER BY batch_job_id, shard;

DELETE FROM train_data.batch_jobs WHERE id::text LIKE 'c0000000-%';
DROP FUNCTION public.cw_bump(uuid, integer, integer, integer, integer, boolean, regclass);
DROP FUNCTION public.cw_shards(uuid);
DROP FUNCTION public.cw_try(uuid, integer);
DROP TABLE public.cw_fired;
DROP FUNCTION public.cw_fire();
RESET enable_seqscan;
