-- progress_rls: calculate_batch_progress, estimate_time_remaining and
-- batch_progress read the job and its counter shards natively, and show a
-- caller exactly what their own SELECT of those rows would: the caller's
-- policies as they are at the call (changed in this session here; from
-- another session in test/specs/progress_policy.spec), the role in effect,
-- the identity the policies read, and PostgreSQL's privilege errors.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''
\set ajob '''a7000000-0000-0000-0000-000000000001'''
\set bjob '''b7000000-0000-0000-0000-000000000001'''
\set spare '''a7000000-0000-0000-0000-000000000002'''

-- Fixture (as the owner): a job of Alice's and one of Bob's, 40 % done, with
-- two counter shards each; a spare job of Alice's with no shards.
INSERT INTO train_data.batch_jobs (id, name, total_items, created_by) VALUES
    (:ajob, 'alice progress', 10, :alice), (:bjob, 'bob progress', 20, :bob),
    (:spare, 'alice spare', 5, :alice);
UPDATE train_data.batch_jobs SET status = 'processing', started_at = now() - interval '10 minutes'
WHERE id IN (:ajob, :bjob);
INSERT INTO train_data.batch_job_counters (batch_job_id, shard, completed_items, failed_items, interval_ewma, last_active)
VALUES (:ajob, 0, 2, 0, 100, 590), (:ajob, 1, 1, 1, 150, 580),
       (:bjob, 0, 4, 0, 100, 590), (:bjob, 3, 3, 1, 150, 580);

-- What the three functions say about a job, in one line: percent, whether
-- there is an estimate, and batch_progress's status/total/completed/failed
-- (or that it has no row).
CREATE FUNCTION public.progress_of(job uuid) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT pg_catalog.concat_ws(' | ',
        coalesce(train_data.calculate_batch_progress(job)::text, 'NULL'),
        CASE WHEN train_data.estimate_time_remaining(job) IS NULL THEN 'no estimate' ELSE 'estimate' END,
        (SELECT coalesce(pg_catalog.string_agg(pg_catalog.concat_ws('/', b.status, b.total_items, b.completed_items,
                                                                    b.failed_items, b.percent), ','), 'no row')
         FROM train_data.batch_progress(job) b))
$$;

------------------------------------------------------------ who sees what
-- the owner of the tables (a superuser here) sees every job
SELECT public.progress_of(:ajob) AS alice_job, public.progress_of(:bjob) AS bob_job;

SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT public.progress_of(:ajob) AS own_job, public.progress_of(:bjob) AS bob_job,
       public.progress_of('00000000-0000-0000-0000-000000000000') AS unknown_job;
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT public.progress_of(:ajob) AS alice_job, public.progress_of(:bjob) AS own_job;
-- the identity the policies read is read at every call
SET train_data.user_id = :alice;
SELECT public.progress_of(:ajob) AS alice_job, public.progress_of(:bjob) AS bob_job;
RESET train_data.user_id;
SELECT public.progress_of(:ajob) AS alice_job, public.progress_of(:bjob) AS bob_job;
-- a malformed identity is the policies' error, raised only when a row needs it
SET train_data.user_id = 'not a uuid';
SELECT expect_error(format('SELECT train_data.calculate_batch_progress(%L)', :ajob));
SELECT train_data.calculate_batch_progress('00000000-0000-0000-0000-000000000000') AS unknown_job_no_error;
RESET train_data.user_id;

------------------------------------------- policy changes, this session
RESET ROLE;
-- Bob's job row becomes visible to everyone; its shards stay hidden, so
-- nothing of it is counted
ALTER POLICY batch_jobs_owner ON train_data.batch_jobs USING (true);
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT public.progress_of(:bjob) AS bob_job_row_only;
RESET ROLE;
ALTER POLICY batch_job_counters_owner ON train_data.batch_job_counters USING (true);
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_and_shards;
RESET ROLE;
ALTER POLICY batch_jobs_owner ON train_data.batch_jobs USING (created_by = (SELECT train_data.current_user_id()));
ALTER POLICY batch_job_counters_owner ON train_data.batch_job_counters
    USING (created_by = (SELECT train_data.current_user_id()));
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_restored;

-- DROP and CREATE: a policy that also hides jobs named 'hidden ...'
RESET ROLE;
DROP POLICY batch_jobs_owner ON train_data.batch_jobs;
CREATE POLICY batch_jobs_owner ON train_data.batch_jobs
    USING (created_by = (SELECT train_data.current_user_id()) AND name NOT LIKE 'hidden%');
UPDATE train_data.batch_jobs SET name = 'hidden spare' WHERE id = :spare;
SET ROLE regress_alice;
SELECT public.progress_of(:ajob) AS own_job, public.progress_of(:spare) AS own_hidden_job;
-- a restrictive policy is AND'ed with it
RESET ROLE;
CREATE POLICY batch_jobs_small ON train_data.batch_jobs AS RESTRICTIVE USING (total_items < 10);
SET ROLE regress_alice;
SELECT public.progress_of(:ajob) AS own_job_of_10_items;
RESET ROLE;
DROP POLICY batch_jobs_small ON train_data.batch_jobs;
DROP POLICY batch_jobs_owner ON train_data.batch_jobs;
CREATE POLICY batch_jobs_owner ON train_data.batch_jobs
    USING (created_by = (SELECT train_data.current_user_id()));
UPDATE train_data.batch_jobs SET name = 'alice spare' WHERE id = :spare;
SET ROLE regress_alice;
SELECT public.progress_of(:ajob) AS own_job, public.progress_of(:spare) AS own_spare_job;

-- a policy for one role, and a change of who is a member of it
RESET ROLE;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_progress_viewer') THEN
        CREATE ROLE regress_progress_viewer;
    END IF;
END $$;
CREATE POLICY batch_jobs_viewer ON train_data.batch_jobs FOR SELECT TO regress_progress_viewer USING (true);
CREATE POLICY batch_job_counters_viewer ON train_data.batch_job_counters FOR SELECT TO regress_progress_viewer
    USING (true);
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_not_a_viewer;
RESET ROLE;
GRANT regress_progress_viewer TO regress_alice;
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_as_a_viewer;
RESET ROLE;
REVOKE regress_progress_viewer FROM regress_alice;
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_no_longer_a_viewer;

-- A SECURITY DEFINER caller reads with its owner's role, as a SELECT in it
-- would: owned by the viewer role, it shows Bob's job to Alice
RESET ROLE;
CREATE FUNCTION public.progress_as_viewer(job uuid) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.concat_ws(' | ', train_data.calculate_batch_progress(job)::text,
                                (SELECT j.total_items FROM train_data.batch_jobs j WHERE j.id OPERATOR(pg_catalog.=) job)::text)
$$;
GRANT USAGE ON SCHEMA train_data TO regress_progress_viewer;
GRANT SELECT ON train_data.batch_jobs, train_data.batch_job_counters TO regress_progress_viewer;
ALTER FUNCTION public.progress_as_viewer(uuid) OWNER TO regress_progress_viewer;
SET ROLE regress_alice;
SELECT public.progress_as_viewer(:bjob) AS definer_sees_bob_job, public.progress_of(:bjob) AS alice_does_not;
RESET ROLE;
DROP FUNCTION public.progress_as_viewer(uuid);
DROP POLICY batch_jobs_viewer ON train_data.batch_jobs;
DROP POLICY batch_job_counters_viewer ON train_data.batch_job_counters;

-- A policy that reads another table (a team of viewers) needs the planner:
-- the functions then read with SQL, and honour the table's rows as they are
-- at each call
CREATE TABLE public.progress_team (viewer uuid NOT NULL, member uuid NOT NULL);
GRANT SELECT ON public.progress_team TO regress_app;
CREATE POLICY batch_jobs_team ON train_data.batch_jobs FOR SELECT
    USING (created_by IN (SELECT t.member FROM public.progress_team t
                          WHERE t.viewer = (SELECT train_data.current_user_id())));
CREATE POLICY batch_job_counters_team ON train_data.batch_job_counters FOR SELECT
    USING (created_by IN (SELECT t.member FROM public.progress_team t
                          WHERE t.viewer = (SELECT train_data.current_user_id())));
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_not_in_team;
RESET ROLE;
INSERT INTO public.progress_team VALUES (:alice, :bob);
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_in_team;
RESET ROLE;
DELETE FROM public.progress_team;
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_out_of_team;
RESET ROLE;
DROP POLICY batch_jobs_team ON train_data.batch_jobs;
DROP POLICY batch_job_counters_team ON train_data.batch_job_counters;
DROP TABLE public.progress_team;

-- Row-level security switched off for the table, and on again
ALTER TABLE train_data.batch_jobs DISABLE ROW LEVEL SECURITY;
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_without_rls_on_jobs;
RESET ROLE;
ALTER TABLE train_data.batch_jobs ENABLE ROW LEVEL SECURITY;
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_rls_again;
-- a role with BYPASSRLS sees every job, and no longer once it lost it
RESET ROLE;
ALTER ROLE regress_alice BYPASSRLS;
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_bypassing_rls;
RESET ROLE;
ALTER ROLE regress_alice NOBYPASSRLS;
SET ROLE regress_alice;
SELECT public.progress_of(:bjob) AS bob_job_rls_again;
-- row_security = off is PostgreSQL's error, for a known and an unknown job
SET row_security = off;
SELECT expect_error(format('SELECT train_data.calculate_batch_progress(%L)', :bjob));
SELECT expect_error($$SELECT train_data.batch_progress('00000000-0000-0000-0000-000000000000')$$);
RESET row_security;

-------------------------------------------- the native read and SQL agree
-- In one transaction (one clock), the same rows read natively and then,
-- under a policy that makes the functions read with SQL (a subquery with a
-- FROM) but lets through the same rows, give the same row to the last digit.
BEGIN;
SELECT b::text AS native FROM train_data.batch_progress(:ajob) b \gset
RESET ROLE;
ALTER POLICY batch_jobs_owner ON train_data.batch_jobs
    USING (created_by = (SELECT train_data.current_user_id() FROM pg_catalog.pg_class LIMIT 1));
SET ROLE regress_alice;
SELECT b::text = :'native' AS sql_read_agrees, train_data.estimate_time_remaining(:ajob) IS NOT NULL AS has_estimate
FROM train_data.batch_progress(:ajob) b;
ROLLBACK;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT public.progress_of(:ajob) AS own_job_after_rollback;

----------------------------------------------- a deleted or re-owned job
RESET ROLE;
SET row_security = off;   -- the guard lets a restore change the owner
UPDATE train_data.batch_jobs SET created_by = :bob WHERE id = :spare;
RESET row_security;
SET ROLE regress_alice;
SELECT public.progress_of(:spare) AS spare_now_bob_s;
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT public.progress_of(:spare) AS bob_sees_spare;
RESET ROLE;
DELETE FROM train_data.batch_jobs WHERE id = :spare;
SET ROLE regress_bob;
SELECT public.progress_of(:spare) AS deleted_spare;

------------------------------------ a role with no grants learns nothing
-- the same error for an existing job, another user's and an unknown one
RESET ROLE;
RESET train_data.user_id;
SET ROLE regress_nobody;
SELECT expect_error(format('SELECT train_data.calculate_batch_progress(%L)', :ajob)) AS existing,
       expect_error('SELECT train_data.calculate_batch_progress(''00000000-0000-0000-0000-000000000000'')') AS unknown;
RESET ROLE;
GRANT USAGE ON SCHEMA train_data TO regress_nobody;
SET ROLE regress_nobody;
SET train_data.user_id = :alice;
SELECT expect_error(format('SELECT train_data.calculate_batch_progress(%L)', :ajob)) AS existing,
       expect_error('SELECT train_data.estimate_time_remaining(''00000000-0000-0000-0000-000000000000'')') AS unknown,
       expect_error(format('SELECT * FROM train_data.batch_progress(%L)', :ajob)) AS batch_progress;
-- the columns of one table are not enough
RESET ROLE;
GRANT SELECT ON train_data.batch_jobs TO regress_nobody;
GRANT SELECT (batch_job_id, completed_items) ON train_data.batch_job_counters TO regress_nobody;
SET ROLE regress_nobody;
SELECT expect_error(format('SELECT train_data.calculate_batch_progress(%L)', :ajob)) AS without_all_counter_columns;
RESET ROLE;
REVOKE SELECT ON train_data.batch_jobs FROM regress_nobody;
REVOKE SELECT (batch_job_id, completed_items) ON train_data.batch_job_counters FROM regress_nobody;

-- What a call works out from the catalogs (whether row-level security
-- applies, that the role may SELECT what is read) is kept between calls
-- (forty-ninth session), and dropped at any change of a relation or a role
-- that reaches the session: a grant taken back, a column grant instead of
-- the table's, a membership given and taken back, a grant rolled back.
GRANT SELECT ON train_data.batch_jobs, train_data.batch_job_counters TO regress_nobody;
SET ROLE regress_nobody;
SELECT public.progress_of(:ajob) AS granted;
RESET ROLE;
REVOKE SELECT ON train_data.batch_job_counters FROM regress_nobody;
SET ROLE regress_nobody;
SELECT expect_error(format('SELECT train_data.calculate_batch_progress(%L)', :ajob)) AS counters_revoked;
RESET ROLE;
GRANT SELECT (batch_job_id, shard, completed_items, failed_items, cancelled_items, in_flight, interval_ewma,
              last_active, created_by) ON train_data.batch_job_counters TO regress_nobody;
SET ROLE regress_nobody;
SELECT public.progress_of(:ajob) AS counter_columns_granted;
RESET ROLE;
REVOKE SELECT (completed_items) ON train_data.batch_job_counters FROM regress_nobody;
SET ROLE regress_nobody;
SELECT expect_error(format('SELECT train_data.calculate_batch_progress(%L)', :ajob)) AS one_column_revoked;
RESET ROLE;
REVOKE SELECT (batch_job_id, shard, failed_items, cancelled_items, in_flight, interval_ewma, last_active, created_by)
    ON train_data.batch_job_counters FROM regress_nobody;
-- through a role it is a member of, until it is not
CREATE ROLE regress_progress_readers NOLOGIN;
GRANT SELECT ON train_data.batch_job_counters TO regress_progress_readers;
GRANT regress_progress_readers TO regress_nobody;
SET ROLE regress_nobody;
SELECT public.progress_of(:ajob) AS as_member;
RESET ROLE;
REVOKE regress_progress_readers FROM regress_nobody;
SET ROLE regress_nobody;
SELECT expect_error(format('SELECT train_data.calculate_batch_progress(%L)', :ajob)) AS no_longer_member;
-- a grant rolled back: what the call found inside the transaction is not kept
RESET ROLE;
BEGIN;
GRANT SELECT ON train_data.batch_job_counters TO regress_nobody;
SET ROLE regress_nobody;
SELECT public.progress_of(:ajob) AS granted_in_transaction;
ROLLBACK;
SET ROLE regress_nobody;
SELECT expect_error(format('SELECT train_data.calculate_batch_progress(%L)', :ajob)) AS grant_rolled_back;
-- the same for row-level security switched off in a transaction rolled back
RESET ROLE;
GRANT SELECT ON train_data.batch_job_counters TO regress_nobody;
BEGIN;
ALTER TABLE train_data.batch_jobs DISABLE ROW LEVEL SECURITY;
SET ROLE regress_nobody;
SELECT public.progress_of(:bjob) AS bob_job_rls_off_in_transaction;
ROLLBACK;
SET ROLE regress_nobody;
SELECT public.progress_of(:bjob) AS bob_job_rls_back;
RESET ROLE;
REVOKE SELECT ON train_data.batch_job_counters FROM regress_progress_readers;
DROP ROLE regress_progress_readers;
REVOKE SELECT ON train_data.batch_jobs, train_data.batch_job_counters FROM regress_nobody;
REVOKE USAGE ON SCHEMA train_data FROM regress_nobody;
RESET train_data.user_id;

------------------------------------------- policies of another shape: SQL
-- Found by an adversarial review; each read goes through SQL and shows
-- exactly what a SELECT shows.
-- An AND whose first part raises on another user's data: the planner checks
-- the cheap owner comparison first, so neither a SELECT nor a progress
-- function shows Bob's value or tells his job from an unknown one.
CREATE FUNCTION public.tier_ok(p jsonb) RETURNS boolean LANGUAGE sql STABLE
    AS $$ SELECT coalesce((p ->> 'tier')::int, 0) >= 0 $$;
ALTER POLICY batch_jobs_owner ON train_data.batch_jobs
    USING (public.tier_ok(shared_parameters) AND created_by = (SELECT train_data.current_user_id()));
UPDATE train_data.batch_jobs SET shared_parameters = '{"tier": "bob-secret-42"}' WHERE id = :bjob;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT count(*) AS select_sees_bob FROM train_data.batch_jobs WHERE id = :bjob;
SELECT public.progress_of(:bjob) AS bob_job, public.progress_of(:ajob) AS own_job;
RESET ROLE;
-- Two permissive policies sharing the owner comparison (also found by a
-- review; Bob's secret as above): the planner reads A OR (A AND B) as A, so
-- the cast in B never runs on Bob's row; the native read compiles the qual
-- as the planner leaves it, and shows neither his value nor that his job
-- exists.
ALTER POLICY batch_jobs_owner ON train_data.batch_jobs USING (created_by = (SELECT train_data.current_user_id()));
CREATE POLICY batch_jobs_tier ON train_data.batch_jobs
    USING ((shared_parameters ->> 'tier')::int >= 0 AND created_by = (SELECT train_data.current_user_id()));
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT (SELECT count(*) FROM train_data.batch_jobs WHERE id = :bjob) AS select_sees_bob,
       public.progress_of(:bjob) AS bob_job, public.progress_of(:ajob) AS own_job;
RESET ROLE;
DROP POLICY batch_jobs_tier ON train_data.batch_jobs;
-- NOT over an OR: folding constants makes it an AND, whose parts the
-- planner orders by cost; read with SQL, so a SELECT and a progress
-- function answer alike.
ALTER POLICY batch_jobs_owner ON train_data.batch_jobs
    USING (NOT ((shared_parameters ->> 'tier')::int < 0 OR created_by <> (SELECT train_data.current_user_id())));
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error(format('SELECT count(*) FROM train_data.batch_jobs WHERE id = %L', :bjob)) AS select_of_bob,
       expect_error(format('SELECT public.progress_of(%L)', :bjob)) AS progress_of_bob;
RESET ROLE;
ALTER POLICY batch_jobs_owner ON train_data.batch_jobs USING (created_by = (SELECT train_data.current_user_id()));
UPDATE train_data.batch_jobs SET shared_parameters = '{}' WHERE id = :bjob;
-- A SQL function inlined with the search_path of the moment: an earlier
-- call with another search_path must not decide what a later one sees.
CREATE SCHEMA progress_s2;
CREATE FUNCTION public.progress_tid() RETURNS uuid LANGUAGE sql STABLE AS $$ SELECT train_data.current_user_id() $$;
CREATE FUNCTION public.progress_is_mine(owner uuid) RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT owner = progress_tid() $$;
CREATE FUNCTION progress_s2.progress_tid() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'::uuid $$;
GRANT USAGE ON SCHEMA progress_s2 TO regress_alice;
ALTER POLICY batch_jobs_owner ON train_data.batch_jobs USING (public.progress_is_mine(created_by));
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SET search_path = progress_s2, public;
SELECT public.progress_of(:bjob) AS bob_job_with_s2_first;
RESET search_path;
SELECT count(*) AS select_sees_bob FROM train_data.batch_jobs WHERE id = :bjob;
SELECT public.progress_of(:bjob) AS bob_job_after_reset;
RESET ROLE;
-- A policy whose function calls a progress function while the policy is
-- compiled or evaluated: the nested read goes through SQL, nothing breaks.
CREATE FUNCTION public.progress_probe() RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF current_setting('progress.depth', true) IS DISTINCT FROM '1' THEN
        PERFORM set_config('progress.depth', '1', false);
        PERFORM train_data.calculate_batch_progress('a7000000-0000-0000-0000-000000000001');
        PERFORM set_config('progress.depth', '0', false);
    END IF;
    RETURN true;
END $$;
ALTER POLICY batch_jobs_owner ON train_data.batch_jobs
    USING (created_by = (SELECT train_data.current_user_id()) AND public.progress_probe());
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT public.progress_of(:ajob) AS own_job, public.progress_of(:bjob) AS bob_job;
SELECT public.progress_of(:ajob) AS own_job_again;
RESET ROLE;
ALTER POLICY batch_jobs_owner ON train_data.batch_jobs USING (created_by = (SELECT train_data.current_user_id()));
DROP FUNCTION public.progress_probe();
DROP FUNCTION public.tier_ok(jsonb);
DROP FUNCTION public.progress_is_mine(uuid);
DROP FUNCTION public.progress_tid();
DROP SCHEMA progress_s2 CASCADE;
RESET train_data.user_id;

DELETE FROM train_data.batch_jobs WHERE id IN (:ajob, :bjob);
DROP FUNCTION public.progress_of(uuid);
REVOKE USAGE ON SCHEMA train_data FROM regress_progress_viewer;
REVOKE SELECT ON train_data.batch_jobs, train_data.batch_job_counters FROM regress_progress_viewer;
DROP ROLE regress_progress_viewer;
