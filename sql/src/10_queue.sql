-- sql/src/10_queue.sql — the batch engine: creation, claims, heartbeats, completion, failure, control, progress.

--------------------------------------------------------------------------------
-- 17. The batch engine: creation, claims, completion, failure, control
--
-- Workers act across users through the SECURITY DEFINER functions claim_,
-- heartbeat_, complete_, fail_ and release_batch_item (EXECUTE revoked from
-- PUBLIC; grant it to a worker role).  Rows they create belong to the batch owner.
-- Users create and control their own batches with SECURITY INVOKER
-- functions, so row-level security applies.
--
-- Locking rules (1.2): nothing a user or an outside session can lock makes
-- a claim wait.
--   * an item in flight holds one of its job's slots in job_claim_slots,
--     which no user can see or lock; a claim locks free slots with SKIP
--     LOCKED, so the concurrency cap holds and claims of one job never wait
--     for each other;
--   * every row lock is FOR NO KEY UPDATE, so the foreign key checks of
--     other transactions (FOR KEY SHARE on a job or item row) never wait for
--     it: a pause of a big job does not hold back completions;
--   * claimed rows are taken with FOR NO KEY UPDATE SKIP LOCKED (a row a user's
--     transaction holds is skipped), completions and failures lock their item
--     row first, so a cancel and a completion of the same item serialise on
--     that row;
--   * live counters go to the claiming / finishing backend's own shard of
--     batch_job_counters: concurrent workers write different rows;
--   * the job row is written by the engine only with SKIP LOCKED (its owner
--     may hold it in a transaction); finishers of a job take turns on its
--     job_claim_locks row, so the last one (which sees every other commit)
--     closes the job.
--------------------------------------------------------------------------------

-- Seconds a job has been active: its clock stops while it is paused and
-- when it ends (native; progress reads use the same core).
CREATE FUNCTION train_data.job_active_seconds(started_at timestamptz, paused_time interval,
                                              paused_at timestamptz, completed_at timestamptz,
                                              at timestamptz)
    RETURNS double precision
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_job_active_seconds';

COMMENT ON FUNCTION train_data.job_active_seconds(timestamptz, interval, timestamptz, timestamptz, timestamptz) IS
    'Internal: seconds a batch job has been active at a given time; its clock stops while it is paused and when it ends';

-- The smoothed interval of a counter shard after a final event (native).
CREATE FUNCTION train_data.eta_observe(interval_ewma double precision, last_active double precision,
                                       active_now double precision)
    RETURNS double precision
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_eta_observe';

COMMENT ON FUNCTION train_data.eta_observe(double precision, double precision, double precision) IS
    'Internal: the smoothed interval between final events of a counter shard after one more final event (time-remaining estimate)';

-- Add to the live counters of a job, in this backend's shard, the first one
-- no other transaction holds, or a new one (native: src/counter_shards.c,
-- statements kept prepared; it runs as its caller, under her policies: the
-- engine writes shards 16-31, a user's cancel_batch 0-15).
CREATE FUNCTION train_data.bump_counters(job_id uuid, completed integer, failed integer, cancelled integer,
                                         in_flight integer, final_event boolean DEFAULT false)
    RETURNS void
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_bump_counters';

COMMENT ON FUNCTION train_data.bump_counters(uuid, integer, integer, integer, integer, boolean) IS
    'Internal: adds to the live counters of a batch job in this backend''s shard of batch_job_counters, or the first one no other transaction holds, or a new one (and, for a final event, updates its rate)';

-- Copy the live counters into the job row (done when the job ends).
CREATE FUNCTION train_data.rollup_counters(job_id uuid)
    RETURNS void
    LANGUAGE sql
BEGIN ATOMIC
    -- each sum kept within what the job's total leaves (the counter rows are
    -- writable by their owner: nonsense there must not fail anyone's claim)
    UPDATE train_data.batch_jobs j
    SET completed_items = s.completed, failed_items = s.failed, cancelled_items = s.cancelled
    FROM (SELECT x.completed, y.failed,
                 least(greatest(x.cancelled, 0), x.total - x.completed - y.failed)::integer AS cancelled
          FROM (SELECT least(greatest(coalesce(sum(c.completed_items), 0), 0), j2.total_items)::integer AS completed,
                       coalesce(sum(c.failed_items), 0) AS failed, coalesce(sum(c.cancelled_items), 0) AS cancelled,
                       j2.total_items AS total
                FROM train_data.batch_jobs j2
                LEFT JOIN train_data.batch_job_counters c ON c.batch_job_id = j2.id
                WHERE j2.id = rollup_counters.job_id
                GROUP BY j2.total_items) x,
               LATERAL (SELECT least(greatest(x.failed, 0), x.total - x.completed)::integer AS failed) y) s
    WHERE j.id = rollup_counters.job_id;
END;

COMMENT ON FUNCTION train_data.rollup_counters(uuid) IS
    'Internal: copies the sums of a job''s live counters into its batch_jobs row (done when the job ends)';

-- The channel a job's events are sent on: train_data_job_ and the 32 hex
-- digits of the job's channel token, a random value read with the job's
-- row under the caller's policies: its owner (or her application) can
-- listen, and the caller of a job she cannot see gets NULL.  (Named after
-- the job id, as it was first in 1.2, a channel was any role's: another
-- user's job ids can be read from query estimates, and LISTEN needs no
-- privilege; an adversarial review of 1.2.)
CREATE FUNCTION train_data.job_channel(job_id uuid)
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT 'train_data_job_' OPERATOR(pg_catalog.||) pg_catalog.replace(j.channel_token::text, '-', '')
    FROM train_data.batch_jobs j WHERE j.id OPERATOR(pg_catalog.=) job_channel.job_id;
END;
COMMENT ON FUNCTION train_data.job_channel(uuid) IS
    'Channel name (train_data_job_<32 hex digits of the job''s channel token>) on which a batch job''s progress events are sent, NULL for a job the caller cannot see; LISTEN on it';

-- Tell the listeners of a job about a change, on the job's own channel; a
-- job the caller cannot see gets nothing (users can signal only their own).
-- Nothing while train_data.events is off (a superuser's setting, read as a
-- placeholder too before the library is loaded in the session).
CREATE FUNCTION train_data.notify_progress(job_id uuid, item_id uuid, event text)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT coalesce(current_setting('train_data.events', true)::boolean, true) THEN
        RETURN;
    END IF;
    PERFORM pg_notify(train_data.job_channel(j.id),
                      json_build_object('batch_job_id', j.id, 'item_id', notify_progress.item_id,
                                        'event', notify_progress.event)::text)
    FROM train_data.batch_jobs j WHERE j.id = notify_progress.job_id;
END
$$;
COMMENT ON FUNCTION train_data.notify_progress(uuid, uuid, text) IS
    'Internal: sends {batch_job_id, item_id, event} on the job''s channel (job_channel()), for a job the caller can see';

-- Close the job when no item is left to do: completed, or failed when every
-- item failed.  Cheap when items remain queued (one index probe).  Finishers
-- of one job take turns on its job_claim_locks row, which only train_data
-- locks, so the last one sees every other commit; the job row itself is
-- skipped, never waited for, when its owner holds it: the finisher leaves
-- a row in job_close_checks, and a claim checks the job once the row is
-- free (her pause_batch or resume_batch closes it too).  A finisher that
-- returns because an item is queued holds that item until it commits, so
-- that the item's own finisher comes after it (see complete_batch_item).
CREATE FUNCTION train_data.finish_job_if_done(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st train_data.batch_job_status;
    engine boolean := train_data.engine_context();
BEGIN
    -- the owner, holding her job row (pause_batch, resume_batch): her job
    -- ends as the extension's owner (a user does not write a job's counters
    -- or status: her pause that had to end the job failed with 42501, a
    -- review of 1.2), and only her own
    IF NOT engine THEN
        PERFORM train_data.owner_close_job(finish_job_if_done.job_id);
        RETURN;
    END IF;
    -- each probe in the order of its partial index, so that even a generic
    -- plan reads the index (an EXISTS would be a sequential scan stopping
    -- at the first match: past every finished item of the job)
    PERFORM FROM train_data.batch_items i
    WHERE i.batch_job_id = finish_job_if_done.job_id AND i.status = 'queued' ORDER BY i.position LIMIT 1
    FOR NO KEY UPDATE SKIP LOCKED;
    IF FOUND THEN
        RETURN;
    END IF;
    -- finishers take turns here (users neither see nor lock these rows)
    INSERT INTO train_data_internal.job_claim_locks (batch_job_id) VALUES (finish_job_if_done.job_id) ON CONFLICT DO NOTHING;
    PERFORM FROM train_data_internal.job_claim_locks l WHERE l.batch_job_id = finish_job_if_done.job_id FOR UPDATE;
    SELECT j.status INTO st FROM train_data.batch_jobs j WHERE j.id = finish_job_if_done.job_id FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        -- the row held (by its owner, whose statement may have seen this
        -- finisher's item still in flight): a claim checks the job once it
        -- is free (job_close_checks)
        IF EXISTS (SELECT FROM train_data.batch_jobs j WHERE j.id = finish_job_if_done.job_id) THEN
            PERFORM train_data.owe_close_check(finish_job_if_done.job_id, false);
        END IF;
        RETURN;
    END IF;
    IF st NOT IN ('queued', 'processing', 'paused') THEN
        -- a late finisher of a job that has ended (cancelled, failed by a
        -- stop, ended by its owner): its counters again, and no more turns
        PERFORM train_data.rollup_counters(finish_job_if_done.job_id);
        DELETE FROM train_data_internal.job_claim_locks l WHERE l.batch_job_id = finish_job_if_done.job_id;
        RETURN;
    END IF;
    IF train_data.job_has_work(finish_job_if_done.job_id) THEN
        RETURN;
    END IF;
    PERFORM train_data.close_job(finish_job_if_done.job_id);
    DELETE FROM train_data_internal.job_claim_locks l WHERE l.batch_job_id = finish_job_if_done.job_id;
END
$$;

COMMENT ON FUNCTION train_data.finish_job_if_done(uuid) IS
    'Internal: closes a batch job once no item is queued or in flight: completed, failed when none completed and some failed, cancelled when every item was cancelled';

-- Whether a job has an item queued or in flight.  Each probe in the order
-- of its partial index, so that even a generic plan reads the index (an
-- EXISTS would be a sequential scan stopping at the first match: past
-- every finished item of the job).
CREATE FUNCTION train_data.job_has_work(job_id uuid)
    RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM FROM train_data.batch_items i
    WHERE i.batch_job_id = job_has_work.job_id AND i.status = 'queued' ORDER BY i.position LIMIT 1;
    IF FOUND THEN
        RETURN true;
    END IF;
    PERFORM FROM train_data.batch_items i
    WHERE i.batch_job_id = job_has_work.job_id AND i.status = 'processing' ORDER BY i.lease_expires_at LIMIT 1;
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION train_data.job_has_work(uuid) IS
    'Internal: whether a batch job has an item queued or in flight (for closing a job, and for cancelling a stopped job''s items)';

-- Whether a job has items and every one of them has ended (none queued or
-- in flight): a job with no item yet has not.
CREATE FUNCTION train_data.job_items_ended(job_id uuid)
    RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM FROM train_data.batch_items i
    WHERE i.batch_job_id = job_items_ended.job_id ORDER BY i.position LIMIT 1;
    RETURN FOUND AND NOT train_data.job_has_work(job_items_ended.job_id);
END
$$;

COMMENT ON FUNCTION train_data.job_items_ended(uuid) IS
    'Internal: whether a batch job has items and all of them have ended (none queued or in flight)';

-- End a job none of whose items is left to do (its caller checked, holding
-- the job row): the counters rolled up into it, its status completed,
-- failed when none completed and some failed, or cancelled when its owner
-- cancelled every item one by one; a pause it was in ends too.
CREATE FUNCTION train_data.close_job(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM train_data.rollup_counters(close_job.job_id);
    UPDATE train_data.batch_jobs j
    SET status = CASE WHEN j.completed_items = 0 AND j.failed_items > 0 THEN 'failed'
                      WHEN j.completed_items = 0 AND j.failed_items = 0 AND j.cancelled_items > 0 THEN 'cancelled'
                      ELSE 'completed' END::train_data.batch_job_status,
        completed_at = now(), estimated_time_remaining = interval '0',
        paused_time = j.paused_time + coalesce(now() - j.paused_at, interval '0'), paused_at = NULL
    WHERE j.id = close_job.job_id;
    PERFORM train_data.notify_progress(close_job.job_id, NULL, 'job_finished');
END
$$;

COMMENT ON FUNCTION train_data.close_job(uuid) IS
    'Internal: ends a batch job with nothing left to do (counters rolled up; completed, failed or cancelled), for finish_job_if_done and owner_close_job';

-- Close the caller's job after she cancelled or deleted its last unfinished
-- items herself (batch_items_owner_finish).  Unlike finish_job_if_done it
-- takes no lock a worker takes: it waits for her job row (her own sessions
-- cancelling items of the job take turns on it, so the last sees the
-- others' commits; workers only ever skip the row), never for the
-- finishers' job_claim_locks row.  Only in READ COMMITTED, where its probes
-- see what committed before them; in REPEATABLE READ the job is left to a
-- claim after her commit (job_close_checks), or to the next finisher.  It runs as the
-- extension's owner (a user may not end a job); it closes a job of the
-- caller's only, and leaves another's, done but open, to a claim.
CREATE FUNCTION train_data.owner_close_job(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st train_data.batch_job_status;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        -- her snapshot cannot see what workers committed since it was
        -- taken: with nothing queued in it, a claim checks the job after
        -- her commit (job_close_checks; a queued item's finisher checks it)
        PERFORM FROM train_data.batch_items i
        WHERE i.batch_job_id = owner_close_job.job_id AND i.status = 'queued' ORDER BY i.position LIMIT 1;
        IF NOT FOUND THEN
            IF EXISTS (SELECT FROM train_data.batch_jobs j
                       WHERE j.id = owner_close_job.job_id AND j.status IN ('queued', 'processing', 'paused')
                         AND (j.created_by = train_data.current_user_id()
                              OR train_data.job_items_ended(owner_close_job.job_id))) THEN
                PERFORM train_data.owe_close_check(owner_close_job.job_id, false);
            END IF;
        END IF;
        RETURN;
    END IF;
    SELECT j.status INTO st FROM train_data.batch_jobs j
    WHERE j.id = owner_close_job.job_id AND j.created_by = train_data.current_user_id() FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        -- not the caller's job: a role that bypasses row-level security
        -- (Supabase's service role, with no user id or another's) ended its
        -- last items.  Its row is not hers to wait for or hold: when the
        -- job is open with nothing left to do, a claim closes it after her
        -- commit (job_close_checks).  Before, such a job stayed open for
        -- good (a review of a PostgREST-shaped deployment).  Anyone may
        -- call this, so it owes a check only for a job that needs one: one
        -- whose items have all ended, not one with none yet (a job its
        -- owner inserts before its items, as 1.1's applications did, was
        -- closed under them: the review of the first form).
        IF EXISTS (SELECT FROM train_data.batch_jobs j
                   WHERE j.id = owner_close_job.job_id AND j.status IN ('queued', 'processing', 'paused'))
           AND train_data.job_items_ended(owner_close_job.job_id) THEN
            PERFORM train_data.owe_close_check(owner_close_job.job_id, false);
        END IF;
        RETURN;
    END IF;
    IF st NOT IN ('queued', 'processing', 'paused') THEN
        RETURN;
    END IF;
    IF train_data.job_has_work(owner_close_job.job_id) THEN
        RETURN;
    END IF;
    PERFORM train_data.close_job(owner_close_job.job_id);
END
$$;

COMMENT ON FUNCTION train_data.owner_close_job(uuid) IS
    'Internal: ends a job of the caller''s whose items have all ended, after she ended the last ones herself; waits only for her job row';

-- Check the arguments every batch shares.
CREATE FUNCTION train_data.check_batch_options(name text, shared_parameters jsonb, concurrent_processing integer,
                                               error_handling text, priority text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the length first: btrim of a 50 MB name took seconds and 600 MB, past a cancel
    IF char_length(name) > 200 THEN
        RAISE EXCEPTION 'batch name is % characters long; the limit is 200', char_length(name)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF name IS NULL OR btrim(name) = '' THEN
        RAISE EXCEPTION 'batch name must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF shared_parameters IS NULL OR jsonb_typeof(shared_parameters) <> 'object' THEN
        RAISE EXCEPTION 'shared parameters of batch "%" must be a JSON object', name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF concurrent_processing IS NULL OR concurrent_processing NOT BETWEEN 1 AND 10 THEN
        RAISE EXCEPTION 'concurrent_processing of batch "%" must be between 1 and 10, not %',
                        name, coalesce(concurrent_processing::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF error_handling IS NULL OR error_handling NOT IN ('continue', 'stop') THEN
        RAISE EXCEPTION 'error_handling of batch "%" must be continue or stop, not %', name, train_data.clip_for_message(error_handling)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF priority IS NULL OR priority NOT IN ('high', 'normal', 'low') THEN
        RAISE EXCEPTION 'priority of batch "%" must be high, normal or low, not %', name, train_data.clip_for_message(priority)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

COMMENT ON FUNCTION train_data.check_batch_options(text, jsonb, integer, text, text) IS
    'Internal: checks the options every batch shares (name, shared parameters, concurrency, error handling, priority); raises an error for a bad one';

-- Create a batch of generation work.  items: [{template_id, tier?,
-- parameters?, topic?}]; shared parameters are merged into every item and
-- win.  Every item is validated first; a bad batch is rejected whole.
CREATE FUNCTION train_data.create_batch(name text, items jsonb, shared_parameters jsonb DEFAULT '{}',
                                        concurrent_processing integer DEFAULT 3,
                                        error_handling text DEFAULT 'continue',
                                        priority text DEFAULT 'normal')
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    -- a table lock a user takes delays a batch 5 s at most (55P03); the
    -- templates' rows are read, not shared (the items have no foreign key
    -- to them): a creator holding hers delays no one
    SET lock_timeout = '5s'
AS $$
DECLARE
    bad record;
    job uuid;
    queued bigint;
BEGIN
    PERFORM train_data.check_batch_options(name, shared_parameters, concurrent_processing, error_handling, priority);
    IF items IS NULL OR jsonb_typeof(items) <> 'array' THEN
        RAISE EXCEPTION 'items of batch "%" must be a JSON array', name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_array_length(items) = 0 THEN
        RAISE EXCEPTION 'batch "%" has no items', name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_array_length(items) > 1000000 THEN
        RAISE EXCEPTION 'batch "%" has % items; the limit is 1000000', name, jsonb_array_length(items)
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Split the work into several batches.';
    END IF;

    -- the first invalid item, if any, and the versions of the templates the
    -- items were checked with (each row's id and xmin: a new version of a
    -- row has a new xmin)
    WITH checked AS MATERIALIZED (
          SELECT e.ord, t.id::text || '@' || t.xmin::text AS version,
                 CASE WHEN jsonb_typeof(e.value) <> 'object' THEN 'is not a JSON object'
                      WHEN NOT coalesce(train_data.is_uuid_text(e.value ->> 'template_id'), false)
                          THEN format('has no valid template_id: %s',
                                      train_data.json_for_message(coalesce(e.value -> 'template_id', 'null')))
                      WHEN t.id IS NULL THEN format('names template %s, which does not exist', e.value ->> 'template_id')
                      WHEN NOT t.is_active THEN format('names template "%s", which is not active', t.name)
                      WHEN e.value ? 'tier' AND NOT (e.value ->> 'tier') = ANY (enum_range(NULL::train_data.tier_type)::text[])
                          THEN format('has tier %s; expected template, scenario or edge_case',
                                      train_data.json_for_message(e.value -> 'tier'))
                      WHEN e.value ? 'parameters' AND jsonb_typeof(e.value -> 'parameters') <> 'object'
                          THEN 'has parameters that are not a JSON object'
                      WHEN NOT (r.result ->> 'success')::boolean
                          THEN format('is not valid for template "%s"', t.name)
                      WHEN u.unresolved IS NOT NULL
                          THEN format('leaves placeholders of template "%s" unfilled', t.name)
                 END AS problem,
                 coalesce(CASE WHEN NOT (r.result ->> 'success')::boolean THEN train_data.render_problems(r.result) END,
                          u.unresolved) AS detail,
                 -- the values a completion acts on, as the item will hold
                 -- them (the template's defaults applied), for the check
                 -- below (NULL: none)
                 CASE WHEN r.result -> 'parameters' ?| ARRAY['dedupe', 'expectedTurns', 'category']
                      THEN (SELECT jsonb_object_agg(k, r.result -> 'parameters' -> k)
                            FROM unnest(ARRAY['dedupe', 'expectedTurns', 'category']) k
                            WHERE r.result -> 'parameters' ? k) END AS acted_on
          FROM jsonb_array_elements(items) WITH ORDINALITY AS e(value, ord)
          LEFT JOIN train_data.templates t
                 ON t.id = CASE WHEN jsonb_typeof(e.value) = 'object'
                                 AND train_data.is_uuid_text(e.value ->> 'template_id')
                                THEN (e.value ->> 'template_id')::uuid END
          CROSS JOIN LATERAL (
                SELECT CASE WHEN t.id IS NOT NULL AND jsonb_typeof(coalesce(e.value -> 'parameters', '{}')) = 'object'
                            THEN train_data.render_template(t.structure,
                                                            coalesce(e.value -> 'parameters', '{}') || shared_parameters,
                                                            t.variables) END AS result
                OFFSET 0) r    -- rendered once: not pulled up into each use of r.result
          -- a placeholder no variable, parameter or default fills would
          -- reach the model as literal text
          LEFT JOIN LATERAL (
                SELECT string_agg(w, '; ') AS unresolved
                FROM jsonb_array_elements_text(r.result -> 'warnings') w
                WHERE w LIKE 'unresolved placeholders: %') u ON true)
    SELECT b.ord, b.problem, b.detail,
           (SELECT array_agg(DISTINCT c.version) FROM checked c WHERE c.version IS NOT NULL) AS versions,
           -- the values a completion acts on, named as the errors below
           -- name an item (the items' guard checks them again, naming the
           -- job by its id, which for a refused batch is rolled back:
           -- nobody ever sees it); each set of values once, by its first
           -- item, in the items' order, and only when no item has a
           -- problem above (which is reported first)
           (SELECT count(train_data.check_item_parameters(a.acted_on,
                                                          format('item %s of batch "%s"', a.ord, name))::text)
            FROM (SELECT min(c.ord) AS ord, c.acted_on FROM checked c
                  WHERE c.acted_on IS NOT NULL AND b.problem IS NULL
                  GROUP BY c.acted_on ORDER BY 1 OFFSET 0) a) AS acted_on_sets
    INTO bad
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT c.ord, c.problem, c.detail FROM checked c
                       WHERE c.problem IS NOT NULL ORDER BY c.ord LIMIT 1) b ON true;
    IF bad.problem LIKE 'leaves placeholders%' THEN
        RAISE EXCEPTION 'item % of batch "%" %', bad.ord, name, bad.problem
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = upper(left(bad.detail, 1)) || substr(bad.detail, 2) || '.',
                  HINT = 'Declare each as a template variable (with a defaultValue if items may leave it out) or give it in the item''s or the shared parameters.';
    ELSIF bad.problem IS NOT NULL AND bad.detail IS NOT NULL THEN
        RAISE EXCEPTION 'item % of batch "%" %', bad.ord, name, bad.problem
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = upper(left(bad.detail, 1)) || substr(bad.detail, 2) || '.';
    ELSIF bad.problem IS NOT NULL THEN
        RAISE EXCEPTION 'item % of batch "%" %', bad.ord, name, bad.problem
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO train_data.batch_jobs (name, total_items, shared_parameters, concurrent_processing,
                                       error_handling, priority, tier)
    VALUES (name, jsonb_array_length(items), shared_parameters, concurrent_processing, error_handling, priority,
            (SELECT CASE WHEN count(DISTINCT x.tier) = 1 THEN min(x.tier::text)::train_data.tier_type END
             FROM (SELECT coalesce((e ->> 'tier')::train_data.tier_type, t.tier) AS tier
                   FROM jsonb_array_elements(items) e
                   JOIN train_data.templates t ON t.id = (e ->> 'template_id')::uuid) x))
    RETURNING id INTO job;

    -- items keep their parameters with the template's defaults applied, and
    -- what they need from the template as it is now: the rendered prompt and
    -- the quality threshold (a later change of the template, possibly by
    -- another user, does not change queued work)
    -- (the templates are read anew here, READ COMMITTED: only the versions
    -- checked above are taken, so a template its creator deleted, changed or
    -- deactivated since leaves its items out, and the batch is refused whole
    -- below; before, such a batch was queued with no item, or with items
    -- rendered from a template nobody checked: a review of 1.2)
    WITH inserted AS (
        INSERT INTO train_data.batch_items (batch_job_id, template_id, position, topic, tier, parameters, prompt,
                                            quality_threshold)
        SELECT job, t.id, e.ord, coalesce(e.value ->> 'topic', p.rendered -> 'parameters' ->> 'topic'),
               coalesce((e.value ->> 'tier')::train_data.tier_type, t.tier), p.rendered -> 'parameters',
               p.rendered ->> 'resolved', t.quality_threshold
        FROM jsonb_array_elements(items) WITH ORDINALITY AS e(value, ord)
        JOIN train_data.templates t ON t.id = (e.value ->> 'template_id')::uuid
                                   AND t.id::text || '@' || t.xmin::text = ANY (bad.versions)
        CROSS JOIN LATERAL (SELECT train_data.render_template(t.structure,
                                                              coalesce(e.value -> 'parameters', '{}') || shared_parameters,
                                                              t.variables) AS rendered
                            OFFSET 0) p    -- rendered once: not pulled up into each use of p.rendered
        RETURNING 1)
    SELECT count(*) INTO queued FROM inserted;
    IF queued <> jsonb_array_length(items) THEN
        RAISE EXCEPTION 'templates of batch "%" changed while it was being created', name
            USING ERRCODE = 'serialization_failure',
                  DETAIL = format('Of its %s items, %s found their template as it was checked.',
                                  jsonb_array_length(items), queued),
                  HINT = 'Create the batch again.';
    END IF;
    RETURN job;
END
$$;

COMMENT ON FUNCTION train_data.create_batch(text, jsonb, jsonb, integer, text, text) IS
    'Creates a batch job from items [{template_id, tier?, parameters?, topic?}]; shared parameters are merged into every item; a batch with any invalid item is rejected whole; returns the job id';

-- The template × parameter-set matrix: one item per template and set.
CREATE FUNCTION train_data.create_batch_matrix(name text, template_ids uuid[], parameter_sets jsonb,
                                               shared_parameters jsonb DEFAULT '{}',
                                               concurrent_processing integer DEFAULT 3,
                                               error_handling text DEFAULT 'continue',
                                               priority text DEFAULT 'normal',
                                               tier train_data.tier_type DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the options first, as create_batch checks them (a name too long was
    -- reported as a batch that names no templates: a review of the errors)
    PERFORM train_data.check_batch_options(name, shared_parameters, concurrent_processing, error_handling, priority);
    IF template_ids IS NULL OR cardinality(template_ids) = 0 THEN
        RAISE EXCEPTION 'batch % names no templates', coalesce('"' || left(name, 200) || '"', 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF parameter_sets IS NULL OR jsonb_typeof(parameter_sets) <> 'array' OR jsonb_array_length(parameter_sets) = 0 THEN
        RAISE EXCEPTION 'parameter sets of batch % must be a non-empty JSON array',
                        coalesce('"' || left(name, 200) || '"', 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- before building the items (10,000 templates by 10,000 sets ran 8 minutes,
    -- then failed on a 1 GB allocation: a review of 1.2)
    IF cardinality(template_ids)::bigint * jsonb_array_length(parameter_sets) > 1000000 THEN
        RAISE EXCEPTION 'batch % would have % items; the limit is 1000000', coalesce('"' || left(name, 200) || '"', 'NULL'),
                        cardinality(template_ids)::bigint * jsonb_array_length(parameter_sets)
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('The batch has %s templates and %s parameter sets.', cardinality(template_ids),
                                  jsonb_array_length(parameter_sets));
    END IF;
    RETURN train_data.create_batch(
        name,
        (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('template_id', t.id, 'tier', create_batch_matrix.tier,
                                                               'parameters', p.value))
                          ORDER BY t.ord, p.ord)
         FROM unnest(template_ids) WITH ORDINALITY AS t(id, ord),
              jsonb_array_elements(parameter_sets) WITH ORDINALITY AS p(value, ord)),
        shared_parameters, concurrent_processing, error_handling, priority);
END
$$;

COMMENT ON FUNCTION train_data.create_batch_matrix(text, uuid[], jsonb, jsonb, integer, text, text, train_data.tier_type) IS
    'Creates a batch job with one item per template and parameter set (templates x sets); returns the job id';

-- Log a model call of a batch item (its request is the one stored at claim;
-- native: src/bookkeeping_glue.c, one INSERT kept prepared).
CREATE FUNCTION train_data.log_generation(item_id uuid, job_id uuid, template_id uuid, request jsonb,
                                          parameters jsonb, attempts integer, owner uuid, conversation_id uuid,
                                          response jsonb, status text, input_tokens integer, output_tokens integer,
                                          cost numeric, duration_ms integer, error_message text, error_code text,
                                          cache_read_tokens integer, cache_write_tokens integer)
    RETURNS void
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_log_generation';

COMMENT ON FUNCTION train_data.log_generation(uuid, uuid, uuid, jsonb, jsonb, integer, uuid, uuid, jsonb, text, integer, integer, numeric, integer, text, text, integer, integer) IS
    'Internal: inserts the generation_logs row of one model call of a batch item';

-- The item, locked, with its job's owner, or an error when it cannot be
-- finished now (unknown, not in flight, cancelled, lease expired, or -- when
-- the caller gives the attempt its claim returned -- claimed again since).
-- Native (src/item_lock_glue.c): every worker call but the claim starts
-- with it.
CREATE FUNCTION train_data.lock_item_in_flight(item_id uuid, attempt integer, OUT item train_data.batch_items,
                                               OUT owner uuid, OUT error_handling text,
                                               OUT completion_events boolean, OUT nowait boolean)
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_lock_item_in_flight';

COMMENT ON FUNCTION train_data.lock_item_in_flight(uuid, integer) IS
    'Internal: locks a batch item in flight and returns it with its job''s owner and error handling; an error when it is unknown, not processing, cancelled or its lease expired';

-- The request a claimed item is sent with: the rendered prompt as one user
-- message, with the job owner's configuration.  This body is both an
-- Anthropic Messages request and an OpenAI Chat Completions request (the
-- two formats agree on these members), so it is the same for either
-- provider; the claim returns the provider and base URL beside it.
-- STABLE, as jsonb_build_object is: the claim's statement then inlines
-- the body (an IMMUTABLE declaration over a STABLE body is never inlined,
-- and each claim paid the start of a SQL function for it).
CREATE FUNCTION train_data.claim_request(config jsonb, prompt text)
    RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN pg_catalog.jsonb_build_object('model', config OPERATOR(pg_catalog.->) 'model',
                                         'max_tokens', config OPERATOR(pg_catalog.->) 'maxTokens',
                                         'temperature', config OPERATOR(pg_catalog.->) 'temperature',
                                         'messages', pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                                             'role', 'user', 'content', prompt)));
COMMENT ON FUNCTION train_data.claim_request(jsonb, text) IS
    'Internal: the model request of a claimed item, valid for either provider (Anthropic Messages, OpenAI Chat Completions): its prompt as one user message, with the model, max_tokens and temperature of a configuration';

-- The prompt of an item that has none stored (queued before 1.2, or
-- inserted by hand), rendered with its template now; NULL and the reason
-- when it cannot be rendered.  Errors are caught here, so one bad item
-- fails alone instead of failing the claim of every worker.
CREATE FUNCTION train_data.claim_render(template_id uuid, parameters jsonb, OUT prompt text, OUT problem text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rendered jsonb;
BEGIN
    -- (the items a claim renders are those of 1.1 and those restored
    -- without a prompt: parameters past a user's 4 MB are not read, and
    -- those of 1.1 are checked here, queued before they meant anything)
    IF train_data.jsonb_raw_size(claim_render.parameters) > 4194304 THEN
        problem := format('its parameters are %s bytes; the limit is 4 MB',
                          train_data.jsonb_raw_size(claim_render.parameters));
        RETURN;
    END IF;
    BEGIN
        PERFORM train_data.check_item_parameters(claim_render.parameters, 'its parameters');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT;
        RETURN;
    END;
    SELECT train_data.render_template(t.structure, claim_render.parameters, t.variables) INTO rendered
    FROM train_data.templates t WHERE t.id = claim_render.template_id;
    IF rendered IS NULL THEN
        problem := 'its template no longer exists';
    ELSIF (rendered ->> 'success')::boolean THEN
        prompt := rendered ->> 'resolved';
    ELSE
        problem := train_data.render_problems(rendered);
    END IF;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT;
    problem := 'its prompt cannot be rendered: ' || problem;
END
$$;
COMMENT ON FUNCTION train_data.claim_render(uuid, jsonb) IS
    'Internal: render the prompt of an item with its template; a failure is returned as a reason, never raised';

-- After a claim failed an item for good (its prompt cannot be rendered, or
-- its lease ran out with no attempt left): under error_handling 'stop' the
-- job is to fail and its queued items to be cancelled, as fail_batch_item
-- does for a worker's final failure (before the thirty-third session these
-- two failures never stopped a job).  The claim leaves that to a look at
-- owed checks (a stop row in job_close_checks; an insert waits for no
-- one): cancelling a job's queued items may wait for its owner's locks and
-- costs as many rows as she queued, neither of which a claim may.  Under
-- 'continue' the job may be done.
CREATE FUNCTION train_data.claim_final_failure(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (SELECT j.error_handling FROM train_data.batch_jobs j WHERE j.id = claim_final_failure.job_id) = 'stop' THEN
        PERFORM train_data.owe_close_check(claim_final_failure.job_id, true);
    ELSE
        PERFORM train_data.finish_job_if_done(claim_final_failure.job_id);
    END IF;
END
$$;
COMMENT ON FUNCTION train_data.claim_final_failure(uuid) IS
    'Internal: after a claim failed an item for good, a stop check for its job under error_handling stop (a look fails the job), else finish_job_if_done';

-- Cancel the queued items of a job failed (or failing) under error_handling
-- 'stop', at most max_items of them (NULL: all), in position order, and
-- count them; returns whether the job still has items queued or in flight.
-- An item another transaction holds (its owner's lock, a claim taking it)
-- is skipped, never waited for: a review of 1.2 saw one item its owner
-- held make every look redo and roll back 10,000 updates, and a claim that
-- took one of the items picked leave the rest queued for good under a
-- failed job.  An item in flight may come back queued (a retry, a release
-- that read the job as open): the caller leaves a stop check while any is
-- left.  The items are picked once (an initplan): as the inner side of a
-- nested loop the locking subquery ran again per row, skipping the rows it
-- had just updated, so the limit held nothing back (a review: one look
-- cancelled 6,000 items in 5.7 s).
CREATE FUNCTION train_data.cancel_queued_items(job_id uuid, max_items integer)
    RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    UPDATE train_data.batch_items i SET status = 'cancelled', finished_at = now()
    WHERE i.id = ANY (ARRAY(SELECT q.id FROM train_data.batch_items q
                            WHERE q.batch_job_id = cancel_queued_items.job_id AND q.status = 'queued'
                            ORDER BY q.position LIMIT cancel_queued_items.max_items
                            FOR NO KEY UPDATE SKIP LOCKED))
      AND i.status = 'queued';
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM train_data.bump_counters(cancel_queued_items.job_id, 0, 0, n, 0);
    END IF;
    RETURN train_data.job_has_work(cancel_queued_items.job_id);
END
$$;
COMMENT ON FUNCTION train_data.cancel_queued_items(uuid, integer) IS
    'Internal: cancels (and counts) up to max_items queued items of a batch job stopped by a final failure (NULL: all), skipping those another transaction holds; returns whether the job still has items queued or in flight';

-- Can a job be ended without waiting: its row and its row in the claim
-- order (which ending it deletes: batch_jobs_reorder) are free, and now
-- locked by the caller.  An owner's uncommitted item insert holds the
-- claim-order row (a review of 1.2: a worker's final failure under 'stop'
-- waited 5 s for it and failed with 55P03, and every look rolled back its
-- cancellations on it).
CREATE FUNCTION train_data.job_rows_free(job_id uuid)
    RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM FROM train_data.batch_jobs j WHERE j.id = job_rows_free.job_id FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM FROM train_data_internal.claimable_jobs c WHERE c.batch_job_id = job_rows_free.job_id FOR UPDATE SKIP LOCKED;
    RETURN FOUND OR NOT EXISTS (SELECT FROM train_data_internal.claimable_jobs c WHERE c.batch_job_id = job_rows_free.job_id);
END
$$;
COMMENT ON FUNCTION train_data.job_rows_free(uuid) IS
    'Internal: locks a batch job''s row and its claim-order row if no other transaction holds them (SKIP LOCKED); whether it could';

-- Leave a closing check for a job (job_close_checks) that a claim's look
-- takes once the job's row is free: a stop check (the job fails, its queued
-- items are cancelled) unless one is there, a plain one (closed, rolled up
-- or put back in the claim order: check_owed_job) unless any is, since a
-- stop check's look does all a plain one would.  An insert, which waits
-- for no one; one row a job is enough, so callers in a loop add nothing.
CREATE FUNCTION train_data.owe_close_check(job_id uuid, stop boolean)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM train_data_internal.job_close_checks c
                   WHERE c.batch_job_id = owe_close_check.job_id AND (c.stop OR NOT owe_close_check.stop)) THEN
        INSERT INTO train_data_internal.job_close_checks (batch_job_id, stop) VALUES (owe_close_check.job_id, owe_close_check.stop);
    END IF;
END
$$;
COMMENT ON FUNCTION train_data.owe_close_check(uuid, boolean) IS
    'Internal: leaves a closing check for a batch job in job_close_checks (a stop check when stop) unless one that does as much is there';

-- Fail one item that cannot be sent (no prompt); counts and finishes its job.
CREATE FUNCTION train_data.claim_fail_item(item train_data.batch_items, problem text, was_in_flight boolean)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE train_data.batch_items i
    SET status = 'failed', finished_at = now(), lease_expires_at = NULL, error_code = 'invalid_prompt',
        error_message = left(coalesce(problem, 'its prompt cannot be rendered'), 1000),
        lost_attempts = CASE WHEN was_in_flight THEN train_data.lost_attempt(i) ELSE i.lost_attempts END
    WHERE i.id = (item).id;
    PERFORM train_data.bump_counters((item).batch_job_id, 0, 1, 0, CASE WHEN was_in_flight THEN -1 ELSE 0 END, true);
    PERFORM train_data.notify_progress((item).batch_job_id, (item).id, 'item_failed');
    PERFORM train_data.claim_final_failure((item).batch_job_id);
END
$$;
COMMENT ON FUNCTION train_data.claim_fail_item(train_data.batch_items, text, boolean) IS
    'Internal: fail an item a claim cannot send, with its reason (error_code invalid_prompt)';

-- Cancel an item in flight whose job has ended (failed by error_handling
-- 'stop', or cancelled): nothing will claim it again.  lost: its worker
-- lost it (a claim found its lease run out), so its call may be recorded
-- (log_discarded_response); not when its worker gave it back.
CREATE FUNCTION train_data.cancel_stranded_item(item_id uuid, job_id uuid, lost boolean)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE train_data.batch_items i
    SET status = 'cancelled', finished_at = now(), lease_expires_at = NULL,
        lost_attempts = CASE WHEN lost THEN train_data.lost_attempt(i) ELSE i.lost_attempts END
    WHERE i.id = cancel_stranded_item.item_id;
    PERFORM train_data.bump_counters(cancel_stranded_item.job_id, 0, 0, 1, -1);
    PERFORM train_data.rollup_counters(cancel_stranded_item.job_id);
END
$$;
COMMENT ON FUNCTION train_data.cancel_stranded_item(uuid, uuid, boolean) IS
    'Internal: cancels an item in flight whose batch job has ended, and counts it (lost: its worker lost it, so its call may be recorded as discarded)';

-- A lease that ran out on an item with no attempt left (the worker was lost
-- each time): the item fails for good.  Called by the claim.
CREATE FUNCTION train_data.claim_lease_lost(item_id uuid, job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE train_data.batch_items i
    SET status = 'failed', finished_at = now(), lease_expires_at = NULL,
        error_message = format('lease expired %s times; the worker was lost each time', i.attempts),
        error_code = 'lease_expired', lost_attempts = train_data.lost_attempt(i)
    WHERE i.id = claim_lease_lost.item_id;
    PERFORM train_data.bump_counters(claim_lease_lost.job_id, 0, 1, 0, -1, true);
    PERFORM train_data.notify_progress(claim_lease_lost.job_id, claim_lease_lost.item_id, 'item_failed');
    PERFORM train_data.claim_final_failure(claim_lease_lost.job_id);
END
$$;
COMMENT ON FUNCTION train_data.claim_lease_lost(uuid, uuid) IS
    'Internal: fails for good an item whose lease ran out with no attempt left (error_code lease_expired), and counts it';

-- Claim up to max_items items: expired leases first, then queued items by
-- the claim order (job priority, job age, job, position), never more in
-- flight per job than its concurrent_processing.  The walk reads only the
-- claim order (claimable_jobs, the jobs with work to take), so jobs with
-- nothing to claim, paused jobs and other users' idle work cost nothing; the claim
-- takes no lock a user or an outside session can hold, and skips (never
-- waits for) rows another transaction holds.  Each row carries the item's
-- prompt, fixed when it was queued, a ready request body built with the
-- batch owner's configuration, and that configuration's provider
-- (anthropic: POST the body to the Messages API; openai: to Chat
-- Completions) and base URL (NULL: the provider's official endpoint);
-- attempt is the lease token heartbeat_, complete_, fail_ and
-- release_batch_item accept.  Native (src/claim_glue.c): kept plans, no
-- interpreter between the statements.
CREATE FUNCTION train_data.claim_batch_items(worker text, max_items integer DEFAULT 1,
                                             lease interval DEFAULT '5 minutes')
    RETURNS TABLE (item_id uuid, batch_job_id uuid, "position" integer, tier train_data.tier_type,
                   parameters jsonb, prompt text, request jsonb, attempt integer, lease_expires_at timestamptz,
                   provider text, base_url text)
    LANGUAGE c SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '5s'   -- a table lock a user takes holds a claim back 5 s at most (55P03)
    SET enable_seqscan = off  -- its plans are kept: an index, even for a table small when planned
    AS 'MODULE_PATHNAME', 'train_data_claim_batch_items';
COMMENT ON FUNCTION train_data.claim_batch_items(text, integer, interval) IS
    'Worker function: claims up to max_items items under a lease (expired leases first, then jobs by priority then age, at most concurrent_processing in flight per job); each row carries the prompt fixed when the item was queued, a ready request body, the provider (anthropic or openai) and base URL (NULL: official endpoint) to send it to, and the attempt number that fences the item''s heartbeat, completion, failure and release';

-- Extend the lease of an item in flight (and record its progress).
CREATE FUNCTION train_data.heartbeat_batch_item(item_id uuid, progress numeric DEFAULT NULL,
                                                lease interval DEFAULT '5 minutes', attempt integer DEFAULT NULL)
    RETURNS timestamptz
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
    SET enable_seqscan = off   -- kept plans (and the key checks planned inside): an index, even for a table small then
    SET lock_timeout = '5s'   -- an item row its owner holds delays a worker 5 s at most (55P03)
AS $$
DECLARE
    expires timestamptz;
BEGIN
    -- (months refused: compared as 30 days, but added as calendar months)
    IF lease IS NULL OR lease <= interval '0' OR lease > interval '1 day'
       OR extract(year FROM lease) <> 0 OR extract(month FROM lease) <> 0 THEN
        RAISE EXCEPTION 'lease must be more than 0 and at most 1 day, not %', coalesce(lease::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give a lease in days, hours, minutes and seconds, without months or years.';
    END IF;
    IF progress < 0 OR progress > 100 THEN
        RAISE EXCEPTION 'progress must be between 0 and 100, not %', train_data.clip_for_message(progress::text)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM train_data.lock_item_in_flight(item_id, attempt);
    -- (the lease as an exact duration, its days 24 hours each: now() plus a
    -- day is 23 or 25 hours across a daylight-saving change)
    UPDATE train_data.batch_items i
    SET lease_expires_at = now() + extract(epoch FROM lease)::float8 * interval '1 second',
        progress = coalesce(heartbeat_batch_item.progress, i.progress)
    WHERE i.id = heartbeat_batch_item.item_id
    RETURNING i.lease_expires_at INTO expires;
    RETURN expires;
END
$$;

COMMENT ON FUNCTION train_data.heartbeat_batch_item(uuid, numeric, interval, integer) IS
    'Worker function: extends the lease of an item in flight and records its progress; returns the new lease end';

-- Hand an item in flight back to the queue without counting its attempt:
-- for a worker that stops before it sent the item's request.  The item is
-- queued again, available now; an item whose job has ended is cancelled
-- instead.  Returns the item's new status.
CREATE FUNCTION train_data.release_batch_item(item_id uuid, attempt integer DEFAULT NULL)
    RETURNS train_data.batch_item_status
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
    SET enable_seqscan = off   -- kept plans (and the key checks planned inside): an index, even for a table small then
    SET lock_timeout = '5s'   -- an item row its owner holds delays a worker 5 s at most (55P03)
AS $$
DECLARE
    l record;
BEGIN
    l := train_data.lock_item_in_flight(item_id, attempt);
    IF NOT EXISTS (SELECT 1 FROM train_data.batch_jobs j
                   WHERE j.id = (l.item).batch_job_id AND j.status IN ('queued', 'processing', 'paused')) THEN
        PERFORM train_data.cancel_stranded_item((l.item).id, (l.item).batch_job_id, false);
        RETURN 'cancelled';
    END IF;
    -- the attempt given back is counted as released: the lease token
    -- (attempts + released) the next claim returns is new, so this worker's
    -- late calls are told from the next holder's (it repeated before)
    UPDATE train_data.batch_items i
    SET status = 'queued', attempts = greatest(i.attempts - 1, 0), released = i.released + least(i.attempts, 1),
        available_at = now(), lease_expires_at = NULL, worker = NULL, progress = NULL
    WHERE i.id = (l.item).id;
    PERFORM train_data.claimable_job_keep((l.item).batch_job_id);
    PERFORM train_data.bump_counters((l.item).batch_job_id, 0, 0, 0, -1);
    PERFORM train_data.notify_progress((l.item).batch_job_id, (l.item).id, 'item_released');
    RETURN 'queued';
END
$$;

COMMENT ON FUNCTION train_data.release_batch_item(uuid, integer) IS
    'Worker function: hands an item in flight back to the queue without counting the attempt (for a worker stopping before it sent the request); available now, or cancelled when its job has ended; returns the item''s new status';

-- Record a model call whose answer the queue refused: the item was claimed
-- again after the caller's lease ran out, cancelled, or failed for a lost
-- lease while the model answered (complete_batch_item's 55000).  The
-- provider bills such a call like any other; before, nothing recorded it
-- (a review of 1.2's cost accounting).  Only an attempt the queue marked
-- lost as it left flight (lost_attempts: never one its worker completed,
-- failed or gave back) is recorded, once: the mark is taken as the row is
-- written, so a second record is refused, and a transaction that read the
-- item before gets a serialization failure, not a second row.  The log
-- row has status 'discarded', no conversation, the response (up to 8 MB)
-- and what it reports it cost, priced as a completion prices it, and the
-- attempt minus 1 as retry_attempt (as a completion's and a failure's
-- rows).  Returns the log row's id.
CREATE FUNCTION train_data.log_discarded_response(item_id uuid, attempt integer, response jsonb,
                                                  duration_ms integer DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
    SET enable_seqscan = off   -- kept plans: an index, even for a table small then
    SET lock_timeout = '5s'   -- an item row its owner holds delays a worker 5 s at most (55P03)
AS $$
DECLARE
    item train_data.batch_items;
    token integer;
    usage record;
    log_id uuid;
BEGIN
    IF item_id IS NULL OR attempt IS NULL OR response IS NULL THEN
        RAISE EXCEPTION 'item_id, attempt and response must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF duration_ms < 0 THEN
        RAISE EXCEPTION 'duration_ms must not be negative, not %', duration_ms USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (locked, and written below: two records of one call are one after the other)
    SELECT * INTO item FROM train_data.batch_items i WHERE i.id = log_discarded_response.item_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'batch item % does not exist', item_id USING ERRCODE = 'undefined_object';
    END IF;
    token := item.attempts + item.released;
    IF attempt < 1 OR attempt > token THEN
        RAISE EXCEPTION 'batch item % has had no attempt %: its current attempt is %', item_id, attempt, token
            USING ERRCODE = 'object_not_in_prerequisite_state',   -- (as the other worker calls give it)
                  HINT = 'Give the attempt the claim returned with the item.';
    END IF;
    IF (attempt = ANY (coalesce(item.lost_attempts, '{}'))) IS NOT TRUE THEN
        IF EXISTS (SELECT 1 FROM train_data.generation_logs g
                   WHERE g.batch_item_id = item.id AND g.status = 'discarded' AND g.retry_attempt = attempt - 1) THEN
            RAISE EXCEPTION 'attempt % of batch item % is recorded as discarded already', attempt, item_id
                USING ERRCODE = 'unique_violation';
        ELSIF attempt = token AND item.status = 'processing' THEN
            RAISE EXCEPTION 'batch item % is in flight under attempt %', item_id, attempt
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Store the answer with complete_batch_item, or report a failure with fail_batch_item.';
        END IF;
        RAISE EXCEPTION 'attempt % of batch item % lost no call', attempt, item_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The queue recorded its outcome (a completion or a failure), or its worker gave the item back.';
    END IF;
    usage := train_data.response_cost(response, item.request ->> 'model');
    PERFORM train_data.log_generation(item.id, item.batch_job_id, item.template_id, item.request, item.parameters,
                                      attempt, item.created_by, NULL,
                                      CASE WHEN train_data.jsonb_raw_size(response) <= 8388608 THEN response END,
                                      'discarded', coalesce(usage.input_tokens, 0), coalesce(usage.output_tokens, 0),
                                      usage.cost, duration_ms,
                                      CASE WHEN attempt < token THEN 'the item was claimed again'
                                           WHEN item.status = 'cancelled' THEN 'the item was cancelled'
                                           ELSE 'the item failed: ' || coalesce(item.error_code, 'no code') END,
                                      'discarded', usage.cache_read_tokens, usage.cache_write_tokens);
    UPDATE train_data.batch_items i SET lost_attempts = nullif(array_remove(i.lost_attempts, attempt), '{}')
    WHERE i.id = item.id;
    SELECT g.id INTO log_id FROM train_data.generation_logs g
    WHERE g.batch_item_id = item.id AND g.status = 'discarded' AND g.retry_attempt = attempt - 1;
    RETURN log_id;
END
$$;

COMMENT ON FUNCTION train_data.log_discarded_response(uuid, integer, jsonb, integer) IS
    'Worker function: records a model call whose answer the queue refused (the item claimed again after the lease ran out, cancelled, or failed for a lost lease meanwhile) as a discarded generation_logs row with its tokens and cost, once per lost attempt; returns the log row''s id';

-- Hand back every item in flight under a worker's name but those it keeps:
-- for a worker whose claim failed with its outcome unknown (the connection
-- lost after the claim committed: its items stayed in flight, unknown to
-- the worker, until their leases ran out, each lease costing an attempt; a
-- review of 1.2 saw a job stand still for a whole lease).  Each as
-- release_batch_item does, the attempt given (one another transaction
-- holds is left).  Worker names are the workers' own: two processes must
-- not share one.  Returns how many were handed back.
CREATE FUNCTION train_data.release_worker_items(worker text, keep uuid[] DEFAULT '{}')
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET enable_seqscan = off   -- the items in flight through their partial index, even for a table small then
    SET lock_timeout = '5s'
AS $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    -- (the length first: btrim of a huge name costs before any check)
    IF char_length(worker) > 200 THEN
        -- (the code the claim gives: string_data_right_truncation)
        RAISE EXCEPTION 'worker name is % characters long; the limit is 200', char_length(worker)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF worker IS NULL OR btrim(worker) = '' THEN
        RAISE EXCEPTION 'worker name must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF cardinality(keep) > 1000 THEN
        RAISE EXCEPTION 'keep has % items; the limit is 1000', cardinality(keep) USING ERRCODE = 'program_limit_exceeded';
    END IF;
    FOR r IN SELECT i.id, i.attempts + i.released AS token FROM train_data.batch_items i
             WHERE i.status = 'processing' AND i.worker = release_worker_items.worker
               AND i.id <> ALL (array_remove(coalesce(keep, '{}'), NULL))   -- (a NULL would keep them all)
             ORDER BY i.lease_expires_at
             LIMIT 1000
             FOR NO KEY UPDATE SKIP LOCKED LOOP
        PERFORM train_data.release_batch_item(r.id, r.token);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

COMMENT ON FUNCTION train_data.release_worker_items(text, uuid[]) IS
    'Worker function: hands back, as release_batch_item does, every item in flight under the worker''s name but those it keeps (for a worker whose claim''s outcome it does not know); returns how many';

-- Fail a job whose item failed for good under error_handling 'stop' (its
-- queued items were cancelled by that failure), the caller holding its row:
-- counters rolled up, job_failed sent; a job that has ended already keeps
-- its status (its counters are rolled up again).
CREATE FUNCTION train_data.stop_job(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stopped boolean;
BEGIN
    UPDATE train_data.batch_jobs j
    SET status = 'failed', completed_at = now(), estimated_time_remaining = interval '0',
        paused_time = j.paused_time + coalesce(now() - j.paused_at, interval '0'), paused_at = NULL   -- (as close_job)
    WHERE j.id = stop_job.job_id AND j.status IN ('queued', 'processing', 'paused');
    stopped := FOUND;
    PERFORM train_data.rollup_counters(stop_job.job_id);
    IF stopped THEN
        PERFORM train_data.notify_progress(stop_job.job_id, NULL, 'job_failed');
    END IF;
END
$$;
COMMENT ON FUNCTION train_data.stop_job(uuid) IS
    'Internal: fails a batch job whose item failed for good under error_handling stop (counters rolled up, job_failed sent), for fail_batch_item and a claim''s closing checks';

-- A claim's look at a job whose closing check is owed (src/close_checks.c),
-- the look holding the job row: the job failed (stop), closed, its counters
-- rolled up again when it has ended, or put back in the claim order when
-- items of it are queued.  The finishers' turn (job_claim_locks) is not
-- taken: a finisher that meets the held job row leaves a check of its own,
-- so the look waits for no one (a review of 1.2: taking that turn, a look
-- waited 5 s for a completion holding it, then failed its claim with
-- 55P03, or deadlocked with it).  A lock it would still wait for (the
-- function's lock_timeout) leaves the check for a later look.
CREATE FUNCTION train_data.check_owed_job(job_id uuid, stop boolean)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '10ms'
AS $$
DECLARE
    st train_data.batch_job_status;
BEGIN
    SELECT j.status INTO st FROM train_data.batch_jobs j WHERE j.id = check_owed_job.job_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    BEGIN
        IF check_owed_job.stop THEN
            -- (a claim's stop, or items fail_batch_item could not take: the
            -- queued items are cancelled here, at most 500 a look, so that
            -- a look's cost stays bounded; the job is failed with the first
            -- of them, and no claim takes an item of a failed job)
            IF NOT train_data.job_rows_free(check_owed_job.job_id) THEN
                PERFORM train_data.owe_close_check(check_owed_job.job_id, true);
                RETURN;
            END IF;
            IF train_data.cancel_queued_items(check_owed_job.job_id, 500) THEN
                PERFORM train_data.owe_close_check(check_owed_job.job_id, true);
            END IF;
            PERFORM train_data.stop_job(check_owed_job.job_id);
        ELSIF st NOT IN ('queued', 'processing', 'paused') THEN
            PERFORM train_data.rollup_counters(check_owed_job.job_id);
        ELSIF NOT train_data.job_has_work(check_owed_job.job_id) THEN
            PERFORM train_data.close_job(check_owed_job.job_id);
        ELSE
            PERFORM FROM train_data.batch_items i
            WHERE i.batch_job_id = check_owed_job.job_id AND i.status = 'queued' ORDER BY i.position LIMIT 1;
            IF FOUND THEN
                PERFORM train_data.claimable_job_keep(check_owed_job.job_id);
            END IF;
        END IF;
    EXCEPTION WHEN lock_not_available THEN
        PERFORM train_data.owe_close_check(check_owed_job.job_id, check_owed_job.stop);
    END;
END
$$;
COMMENT ON FUNCTION train_data.check_owed_job(uuid, boolean) IS
    'Internal: a claim''s look at a job whose closing check is owed, holding its row: fails (stop), closes, rolls up or puts it back in the claim order, waiting for no one';

-- A token count of a response's usage as the parser reads one: a JSON
-- number that is a whole number from 0 to 2^31 - 1; NULL otherwise.
CREATE FUNCTION train_data.usage_count(v jsonb)
    RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN jsonb_typeof(v) = 'number' THEN
                CASE WHEN v::numeric >= 0 AND v::numeric <= 2147483647 AND v::numeric = trunc(v::numeric)
                     THEN v::numeric::integer END
           END;

COMMENT ON FUNCTION train_data.usage_count(jsonb) IS
    'Internal: a token count of a model response''s usage, a whole JSON number from 0 to 2147483647, else NULL';

-- The model and token counts a response reports, read as the parser reads
-- them: a Chat Completions response (one with choices) from
-- usage.prompt_tokens / completion_tokens and
-- prompt_tokens_details.cached_tokens (among the prompt tokens, at most
-- them), any other from usage.input_tokens / output_tokens and the prompt
-- cache's cache_read_input_tokens / cache_creation_input_tokens (which
-- Anthropic reports apart: added to the input tokens); every count NULL
-- where the parser refuses the response for its counts: the numbers above
-- 0 among them, whole or not, together past 2^31 - 1, which a
-- conversation cannot store.
-- What a response the engine cannot use was still billed for (a review of
-- the thirty-sixth session: such calls were logged with no tokens, no cost
-- and no response; the review of that fix found a first form reading
-- counts the parser refuses, and a review of the cache's counts one
-- reading the counts of a response refused for them).
CREATE FUNCTION train_data.response_usage(response jsonb, OUT model text, OUT input_tokens integer,
                                          OUT output_tokens integer, OUT cache_read_tokens integer,
                                          OUT cache_write_tokens integer)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN jsonb_typeof(response -> 'model') = 'string' THEN left(response ->> 'model', 200) END,
           CASE WHEN t.fits THEN t.i::integer END,
           CASE WHEN t.fits THEN t.o END,
           CASE WHEN t.fits AND t.i IS NOT NULL AND t.r IS NOT NULL THEN least(t.r, t.i)::integer END,
           CASE WHEN t.fits THEN t.w END
    FROM (SELECT CASE WHEN u.chat THEN u.i::bigint
                      WHEN num_nonnulls(u.i, u.r, u.w) > 0
                      THEN coalesce(u.i, 0)::bigint + coalesce(u.r, 0) + coalesce(u.w, 0) END AS i,
                 u.o, u.r, CASE WHEN NOT u.chat THEN u.w END AS w,
                 -- (the parser's bound: every number above 0 counts, as a double does)
                 (SELECT coalesce(sum(CASE WHEN jsonb_typeof(v) = 'number' THEN greatest(v::numeric, 0) END), 0)
                  FROM unnest(CASE WHEN u.chat THEN ARRAY[u.ri, u.ro] ELSE ARRAY[u.ri, u.ro, u.rr, u.rw] END) v)
                 <= 2147483647 AS fits
          FROM (SELECT x.chat, x.ri, x.ro, x.rr, x.rw, train_data.usage_count(x.ri) AS i, train_data.usage_count(x.ro) AS o,
                       train_data.usage_count(x.rr) AS r, train_data.usage_count(x.rw) AS w
                FROM (SELECT response ? 'choices' AS chat,
                             CASE WHEN response ? 'choices' THEN response #> '{usage,prompt_tokens}'
                                  ELSE response #> '{usage,input_tokens}' END AS ri,
                             CASE WHEN response ? 'choices' THEN response #> '{usage,completion_tokens}'
                                  ELSE response #> '{usage,output_tokens}' END AS ro,
                             CASE WHEN response ? 'choices' THEN response #> '{usage,prompt_tokens_details,cached_tokens}'
                                  ELSE response #> '{usage,cache_read_input_tokens}' END AS rr,
                             response #> '{usage,cache_creation_input_tokens}' AS rw) x) u) t;
END;

COMMENT ON FUNCTION train_data.response_usage(jsonb) IS
    'Internal: the model and the input, output and prompt-cache token counts a model response reports (Messages or Chat Completions usage, as the parser reads them), NULL where none fits';

-- The counts of response_usage and what the call cost at the price of the
-- model that answered, else of the one asked for (engine_model_price, as a
-- completion prices it): NULL when the response reports no tokens, and
-- when the cost is past what a log's cost holds (numeric(12,6): a server's
-- usage is not ours to trust, and these paths raise no error for it).
-- Shared by a failure's and a discarded answer's log rows.
CREATE FUNCTION train_data.response_cost(response jsonb, asked_model text, OUT model text,
                                         OUT input_tokens integer, OUT output_tokens integer,
                                         OUT cache_read_tokens integer, OUT cache_write_tokens integer,
                                         OUT cost numeric)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    call_price train_data.model_prices;   -- (read once: price_cost, inlined, names its price six times)
BEGIN
    SELECT u.model, u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens
    INTO model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
    FROM train_data.response_usage(response) u;
    IF input_tokens IS NOT NULL OR output_tokens IS NOT NULL THEN
        call_price := train_data.engine_model_price(model, asked_model);
        cost := train_data.price_cost(call_price, coalesce(input_tokens, 0), coalesce(output_tokens, 0),
                                      coalesce(cache_read_tokens, 0), coalesce(cache_write_tokens, 0));
        IF cost >= 1000000 THEN
            cost := NULL;
        END IF;
    END IF;
END;
$$;

COMMENT ON FUNCTION train_data.response_cost(jsonb, text) IS
    'Internal: response_usage(response) and the call''s cost at the answering model''s price, else the asked model''s (NULL without tokens or past 1,000,000 USD)';

-- Record a failed model call: retry later (exponential backoff with jitter,
-- base 1 s, cap 300 s) while attempts remain and the error is retryable,
-- otherwise fail the item for good; with error_handling 'stop' that fails the
-- job and cancels its queued items.  Returns the item's new status.  Its
-- generation log holds the response, when there was one the engine could
-- not use (complete_batch_item), with the tokens and cost it reports.
-- Waits for locks as long as its caller does: 5 s from fail_batch_item and
-- complete_batch_item, 1 ms from a completion whose owner's rows held up
-- complete_batch_items.
CREATE FUNCTION train_data.fail_item(item_id uuid, error_message text, error_code text, retryable boolean,
                                     attempt integer, response jsonb, duration_ms integer)
    RETURNS train_data.batch_item_status
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
    SET enable_seqscan = off   -- kept plans (and the key checks planned inside): an index, even for a table small then
AS $$
DECLARE
    l record;
    delay double precision;
    -- (clipped first: a worker's 50 MB message took seconds and 600 MB to trim, past a cancel)
    message text := coalesce(nullif(btrim(left(error_message, 4000)), ''), 'unknown error');
    -- (clipped too: a worker's code of 50 MB was stored whole, twice)
    code text := left(fail_item.error_code, 200);
    items_left boolean;
    job_held boolean;
    usage record;
BEGIN
    l := train_data.lock_item_in_flight(item_id, attempt);
    usage := train_data.response_cost(response, (l.item).request ->> 'model');
    PERFORM train_data.log_generation((l.item).id, (l.item).batch_job_id, (l.item).template_id, (l.item).request,
                                      (l.item).parameters, (l.item).attempts + (l.item).released, l.owner, NULL, response,
                                      CASE WHEN code IN ('408', 'timeout') THEN 'timeout'
                                           WHEN code IN ('429', 'rate_limit_error', 'rate_limited') THEN 'rate_limited'
                                           ELSE 'failed' END,
                                      coalesce(usage.input_tokens, 0), coalesce(usage.output_tokens, 0), usage.cost,
                                      duration_ms, message, code, usage.cache_read_tokens,
                                      usage.cache_write_tokens);
    IF coalesce(retryable, true) AND (l.item).attempts < (l.item).max_attempts THEN
        delay := least(300, power(2, (l.item).attempts - 1));
        delay := delay + random() * 0.1 * delay;
        UPDATE train_data.batch_items i
        SET status = 'queued', available_at = now() + make_interval(secs => delay), lease_expires_at = NULL,
            worker = NULL, error_message = message, error_code = code
        WHERE i.id = fail_item.item_id;
        PERFORM train_data.claimable_job_keep((l.item).batch_job_id);
        PERFORM train_data.bump_counters((l.item).batch_job_id, 0, 0, 0, -1);
        PERFORM train_data.notify_progress((l.item).batch_job_id, fail_item.item_id, 'item_retry');
        RETURN 'queued';
    END IF;

    UPDATE train_data.batch_items i
    SET status = 'failed', finished_at = now(), lease_expires_at = NULL,
        error_message = message, error_code = code
    WHERE i.id = fail_item.item_id;
    PERFORM train_data.bump_counters((l.item).batch_job_id, 0, 1, 0, -1, true);
    -- listeners get the item's event before the job's
    PERFORM train_data.notify_progress((l.item).batch_job_id, fail_item.item_id, 'item_failed');
    IF l.error_handling = 'stop' THEN
        -- the queued items another transaction holds, and the job's rows
        -- (its own, its claim-order row) when another holds them, are
        -- skipped, never waited for (a worker waited 5 s, then failed with
        -- 55P03: reviews of 1.2): a claim's look finishes the stop once they
        -- are free, and cancels what a retry of an item in flight queues
        -- again meanwhile (a stop check)
        items_left := train_data.cancel_queued_items((l.item).batch_job_id, NULL);
        job_held := NOT train_data.job_rows_free((l.item).batch_job_id);
        IF NOT job_held THEN
            PERFORM train_data.stop_job((l.item).batch_job_id);
        END IF;
        IF items_left OR job_held THEN
            PERFORM train_data.owe_close_check((l.item).batch_job_id, true);
        END IF;
    ELSE
        PERFORM train_data.finish_job_if_done((l.item).batch_job_id);
    END IF;
    RETURN 'failed';
END
$$;

COMMENT ON FUNCTION train_data.fail_item(uuid, text, text, boolean, integer, jsonb, integer) IS
    'Internal: fails a batch item in flight (queued again with backoff while attempts remain and the error is retryable), logging the call with the response and the tokens and cost it reports';

-- The worker's report of a failed model call (fail_item, without a response).
CREATE FUNCTION train_data.fail_batch_item(item_id uuid, error_message text, error_code text DEFAULT NULL,
                                           retryable boolean DEFAULT true, attempt integer DEFAULT NULL)
    RETURNS train_data.batch_item_status
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '5s'   -- an item row its owner holds delays a worker 5 s at most (55P03)
    RETURN train_data.fail_item(item_id, error_message, error_code, retryable, attempt, NULL, NULL);

COMMENT ON FUNCTION train_data.fail_batch_item(uuid, text, text, boolean, integer) IS
    'Worker function: records a failed model call; the item is queued again with backoff while attempts remain and the error is retryable, else fails for good (with error_handling stop, failing the job too); returns the item''s new status';

-- A completion's turns and their signature row, written without a statement
-- of their own and without a foreign-key check per turn of the conversation
-- this transaction just inserted (native, src/turn_writer.c); false, with
-- nothing written, when the tables are not as it expects or the parent is
-- not the transaction's own, and the caller's SQL writes them.
CREATE FUNCTION train_data.engine_store_turns(conversation_id uuid, owner uuid, turns jsonb)
    RETURNS boolean
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_engine_store_turns';

COMMENT ON FUNCTION train_data.engine_store_turns(uuid, uuid, jsonb) IS
    'Internal: writes the turns and signature row of a conversation this transaction inserted, without a foreign-key check per turn; false when SQL must';

-- Store a model's response for an item in flight, in one transaction:
--   1. the item, locked, and its response parsed; a response that cannot be
--      parsed fails the item instead (queued again per policy) and the
--      function returns NULL with a WARNING (only the parse runs in the
--      subtransaction of that handler);
--   2. what the conversation is worth: its quality metrics (with the defect
--      verdicts for the turn count the item's parameters ask for:
--      expectedTurns, a count or {turns, minTurns, maxTurns, firstRole}),
--      score, status (by the threshold fixed when the item was queued --
--      items of 1.1 read their template's -- then by its defects) and the
--      cost of the call;
--   3. the conversation and its turns, owned by the batch owner, with the
--      generated entry of its review history (and its defects); a
--      regeneration archives the conversation it replaces;
--   4. the bookkeeping: the generation log, the item completed, the job's
--      counters, the item's event, the job closed when it was the last.
-- One function, not one per step: a nested PL/pgSQL call (its settings,
-- its arguments, the item row passed whole) cost about 35,000 instructions,
-- 4 % of a completion for the four steps (docs/performance.md).
CREATE FUNCTION train_data.complete_batch_item(item_id uuid, response jsonb, duration_ms integer DEFAULT NULL,
                                               attempt integer DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
    SET enable_seqscan = off   -- kept plans (and the key checks planned inside): an index, even for a table small then
    SET lock_timeout = '5s'   -- an item row its owner holds delays a worker 5 s at most (55P03)
AS $$
DECLARE
    l record;
    item train_data.batch_items;
    owner uuid;
    p jsonb;
    parsed jsonb;
    problem text;
    state text;
    new_status train_data.batch_item_status;
    input_tokens bigint;
    output_tokens bigint;
    cache_read bigint;   -- of the input tokens, the prompt cache's (0 when not reported)
    cache_write bigint;
    metrics jsonb;
    score numeric;
    threshold numeric;
    verdict train_data.conversation_status;
    cost numeric;
    call_price train_data.model_prices;   -- (read once: price_cost, inlined, names its price six times)
    conv uuid;
    sig integer[];
    setting text;
BEGIN
    IF duration_ms < 0 THEN
        RAISE EXCEPTION 'duration_ms must not be negative, not %', duration_ms USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- 1. the item and its parsed response
    l := train_data.lock_item_in_flight(item_id, attempt);
    item := l.item;
    owner := l.owner;
    p := item.parameters;
    -- after a lock wait of complete_batch_items ran out on the owner's rows,
    -- no other lock of this entry is waited for either: a regenerated
    -- conversation's parent the owner holds, a conversation id another
    -- transaction is inserting (a review of 1.2: 5 s each, per entry), the
    -- job row the counters of a failure check against (fail_item keeps this
    -- limit: with a lock_timeout of its own, each unusable response of hers
    -- waited 5 s again, a review of the thirty-eighth session)
    IF l.nowait THEN
        setting := set_config('lock_timeout', '1ms', true);
    END IF;
    -- an item claimed before the update to 1.2 (the only kind without a
    -- stored prompt in flight) may hold parameters 1.2 refuses: it fails for
    -- good, once, rather than every completion of it after a model call
    IF item.prompt IS NULL THEN
        BEGIN
            PERFORM train_data.check_item_parameters(p, 'its parameters');
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT;
            new_status := train_data.fail_item(item.id, 'invalid parameters: ' || problem, 'invalid_prompt', false, attempt,
                                               NULL, NULL);
            RAISE WARNING 'batch item % failed: invalid parameters: %', item.id, problem
                USING DETAIL = format('The item is now %s.', new_status);
            RETURN NULL;
        END;
    END IF;
    BEGIN
        parsed := train_data.parse_generation_response(response, p);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
        IF response IS NULL THEN
            RAISE;
        END IF;
        -- (the log keeps the response and what it was billed, but for one
        -- refused for its size, which is not read)
        new_status := train_data.fail_item(item.id, 'unusable response: ' || problem, state, true, attempt,
                                           CASE WHEN train_data.jsonb_raw_size(response) <= 8388608 THEN response END,
                                           duration_ms);
        RAISE WARNING 'batch item % failed: unusable response: %', item.id, problem
            USING DETAIL = format('The item is now %s.', new_status);
        RETURN NULL;
    END;
    input_tokens := coalesce((parsed ->> 'input_tokens')::bigint, 0);
    output_tokens := coalesce((parsed ->> 'output_tokens')::bigint, 0);
    cache_read := coalesce((parsed ->> 'cache_read_tokens')::bigint, 0);
    cache_write := coalesce((parsed ->> 'cache_write_tokens')::bigint, 0);

    -- 2. quality, status and cost
    metrics := train_data.quality_metrics(parsed -> 'turns', p -> 'expectedTurns');
    -- with dedupe (a similarity) among the parameters, a near copy of an
    -- earlier conversation of the same batch is marked duplicate_in_batch
    IF jsonb_typeof(p -> 'dedupe') = 'number' THEN
        metrics := train_data.with_batch_duplicate(metrics, train_data.batch_duplicate(
            item.batch_job_id, item.created_by, parsed -> 'turns', (p ->> 'dedupe')::real));
    END IF;
    score := (metrics ->> 'overall')::numeric;
    threshold := item.quality_threshold;
    IF threshold IS NULL THEN
        SELECT t.quality_threshold INTO threshold FROM train_data.templates t WHERE t.id = item.template_id;
    END IF;
    verdict := train_data.defect_status(train_data.quality_status(score, threshold), metrics -> 'defects');
    -- the price of the model that answered, else of the one asked for (a
    -- provider answers an alias with a dated id: claude-haiku-4-5-20251001
    -- for claude-haiku-4-5), exact rows before families, from the session's
    -- copy of the price rows; none for a response that reports no tokens (a
    -- review of 1.2: such a call was recorded as costing 0)
    IF parsed ->> 'input_tokens' IS NOT NULL OR parsed ->> 'output_tokens' IS NOT NULL THEN
        call_price := train_data.engine_model_price(parsed ->> 'model', item.request ->> 'model');
        cost := train_data.price_cost(call_price, input_tokens, output_tokens, cache_read, cache_write);
    END IF;
    IF cost >= 1000000 THEN
        cost := NULL;   -- past what a cost column holds (numeric(12,6)): a server's usage is not ours to trust
    END IF;

    -- 3. the conversation and its turns
    INSERT INTO train_data.conversations
        (title, persona, emotion, topic, intent, tone, tier, category, status, quality_score, quality_metrics,
         turn_count, total_tokens, actual_cost_usd, generation_duration_ms, template_id, review_history,
         parameters, parent_id, parent_type, created_by)
    VALUES (parsed ->> 'title',
            coalesce(nullif(btrim(p ->> 'persona'), ''), 'Unknown'),
            coalesce(nullif(btrim(p ->> 'emotion'), ''), 'Neutral'),
            coalesce(item.topic, p ->> 'topic'), p ->> 'intent', p ->> 'tone', item.tier,
            CASE WHEN jsonb_typeof(p -> 'category') = 'array'
                 THEN ARRAY(SELECT jsonb_array_elements_text(p -> 'category'))
                 WHEN jsonb_typeof(p -> 'category') = 'string' THEN ARRAY[p ->> 'category']
                 ELSE '{}' END,
            verdict, score, metrics,
            jsonb_array_length(parsed -> 'turns'),
            coalesce((parsed ->> 'input_tokens')::integer, 0) + coalesce((parsed ->> 'output_tokens')::integer, 0),
            cost, duration_ms, item.template_id,
            jsonb_build_array(jsonb_build_object('id', gen_random_uuid(), 'action', 'generated',
                                                 'performedBy', owner,
                                                 -- (as the export writes times: UTC, whatever the worker's TimeZone)
                                                 'timestamp', to_char(timezone('UTC', now()), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                                 'comment', format('Generated with quality score %s', score),
                                                 'reasons', NULL, 'defects', metrics -> 'defects')),
            p, item.parent_conversation_id,
            CASE WHEN item.parent_conversation_id IS NOT NULL THEN 'conversation' END, owner)
    RETURNING id INTO conv;
    IF item.parent_conversation_id IS NOT NULL THEN
        UPDATE train_data.conversations c SET status = 'archived'
        WHERE c.id = item.parent_conversation_id AND c.created_by = owner AND c.status <> 'archived';
    END IF;
    -- the turns, and their signature from the parsed turns (the same text in
    -- the same order: what the signature trigger, told to skip this
    -- statement, would read back from the table): natively, without a key
    -- check per turn of the conversation just inserted; with SQL when the
    -- tables are not as the native writer expects (another trigger, say)
    IF NOT train_data.engine_store_turns(conv, owner, parsed -> 'turns') THEN
        -- (assignments, not PERFORM: an expression evaluated without a statement)
        setting := set_config('train_data.engine_signs_turns', 'on', true);
        INSERT INTO train_data.conversation_turns (conversation_id, created_by, turn_number, role, content, token_count)
        SELECT conv, owner, t.ord, t.value ->> 'role', c.content, (char_length(c.content) + 3) / 4  -- ceil(chars / 4)
        FROM jsonb_array_elements(parsed -> 'turns') WITH ORDINALITY AS t(value, ord)
        CROSS JOIN LATERAL (SELECT t.value ->> 'content' AS content OFFSET 0) c;
        setting := set_config('train_data.engine_signs_turns', 'off', true);
        -- (computed once into a variable: a subquery here would be pulled up
        -- and its expression evaluated for each column naming it)
        sig := train_data.conversation_text_signature(parsed -> 'turns');
        INSERT INTO train_data.conversation_signatures (conversation_id, created_by, signature, bands)
        VALUES (conv, owner, sig, train_data.minhash_bands(sig));
    END IF;

    -- 4. the log, the item, the counters, the events
    PERFORM train_data.log_generation(item.id, item.batch_job_id, item.template_id, item.request, p,
                                      item.attempts + item.released, owner, conv, response, 'success',
                                      (parsed ->> 'input_tokens')::integer, (parsed ->> 'output_tokens')::integer,
                                      cost, duration_ms, NULL, NULL, cache_read::integer, cache_write::integer);
    UPDATE train_data.batch_items i
    SET status = 'completed', conversation_id = conv, progress = 100, finished_at = now(),
        lease_expires_at = NULL, error_message = NULL, error_code = NULL
    WHERE i.id = item.id;
    PERFORM train_data.bump_counters(item.batch_job_id, 1, 0, 0, -1, true);
    -- the item's event, when the job asks for it (completion_events: a
    -- transaction that notifies commits in turn with every other one that
    -- does, cluster-wide), before the job's; notify_progress's message, sent
    -- directly: the engine sees every job, so the job lookup that function
    -- makes for its callers is not needed here
    IF l.completion_events THEN
        PERFORM pg_notify(train_data.job_channel(item.batch_job_id),
                          json_build_object('batch_job_id', item.batch_job_id, 'item_id', item.id,
                                            'event', 'item_completed')::text);
    END IF;
    -- an item queued after this one: the job is not done (read from this
    -- item's position, not past the entries of every item claimed before it,
    -- which an old snapshot elsewhere keeps from being cleaned up).  The
    -- queued item is held until this transaction ends, so that no claim
    -- takes it before then: else it could be claimed and completed, and its
    -- finisher find this item still in flight and leave the job to it,
    -- which has decided not to close it (a review of 1.2 found 23 % of
    -- 1,000 small jobs never closed with two workers).  Its finisher comes
    -- after this commit.  One another transaction holds is skipped: with
    -- none to hold, this completion goes the way of the last one.
    PERFORM FROM train_data.batch_items i
    WHERE i.batch_job_id = item.batch_job_id AND i.status = 'queued' AND i.position > item.position
    ORDER BY i.position LIMIT 1
    FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        PERFORM train_data.finish_job_if_done(item.batch_job_id);
    END IF;
    RETURN conv;
END
$$;

COMMENT ON FUNCTION train_data.complete_batch_item(uuid, jsonb, integer, integer) IS
    'Worker function: stores a model response for an item in flight (conversation, turns, quality score, generation log, counters) in one transaction; returns the conversation id, or NULL with a warning when the response is unusable';

-- The item id of an entry of complete_batch_items, NULL when it has none
-- that is a UUID (complete_batch_entry says what is wrong).
CREATE FUNCTION train_data.completion_item(entry jsonb)
    RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN jsonb_typeof(entry -> 'item_id') = 'string' AND train_data.is_uuid_text(entry ->> 'item_id')
                THEN (entry ->> 'item_id')::uuid END;

COMMENT ON FUNCTION train_data.completion_item(jsonb) IS
    'Internal: the item id of an entry of complete_batch_items, NULL when it has none that is a UUID';

-- One entry of complete_batch_items: the conversation complete_batch_item
-- stored for it (NULL for an unusable response); an error when the entry
-- is not a JSON object, a member is not of its type (naming the entry and
-- the member, the value clipped: before, PostgreSQL's cast error quoted a
-- value of any size and named neither) or the entry is refused.  Runs as
-- its caller, so it can do nothing its caller could not do with
-- complete_batch_item.
CREATE FUNCTION train_data.complete_batch_entry(entry jsonb, ord bigint)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    member text;
    number text;
BEGIN
    IF jsonb_typeof(entry) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'completion % is not a JSON object', ord USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(jsonb_typeof(entry -> 'item_id'), 'null') = 'null' THEN
        RAISE EXCEPTION 'completion % has no item_id', ord
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Give the id of a batch item as a string.';
    ELSIF jsonb_typeof(entry -> 'item_id') <> 'string' THEN
        RAISE EXCEPTION 'completion % has an item_id that is not a string: %', ord,
                        train_data.json_for_message(entry -> 'item_id')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give the id of a batch item as a string.';
    END IF;
    IF NOT train_data.is_uuid_text(entry ->> 'item_id') THEN
        RAISE EXCEPTION 'completion % has an item_id that is not a UUID: %', ord,
                        train_data.clip_for_message(entry ->> 'item_id')
            USING ERRCODE = 'invalid_text_representation';
    END IF;
    -- duration_ms and attempt: absent, null, or what the integer type reads
    -- (ASCII white space around, leading zeros) within its range
    FOREACH member IN ARRAY ARRAY['duration_ms', 'attempt'] LOOP
        CONTINUE WHEN coalesce(jsonb_typeof(entry -> member), 'null') = 'null';
        -- (the white space as characters, not escapes: a session's
        -- standard_conforming_strings must not change the pattern)
        number := btrim(entry ->> member, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13));
        IF NOT number ~ '^[+-]?[0-9]+$'
           OR char_length(ltrim(ltrim(number, '+-'), '0')) > 10
           OR NOT number::bigint BETWEEN -2147483648 AND 2147483647 THEN
            RAISE EXCEPTION 'completion % has % %; expected a whole number from -2147483648 to 2147483647', ord, member,
                            train_data.json_for_message(entry -> member)
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    RETURN train_data.complete_batch_item((entry ->> 'item_id')::uuid, entry -> 'response',
                                          (entry ->> 'duration_ms')::integer, (entry ->> 'attempt')::integer);
END
$$;
COMMENT ON FUNCTION train_data.complete_batch_entry(jsonb, bigint) IS
    'Internal: one entry of complete_batch_items: complete_batch_item on {item_id, response, duration_ms, attempt}, as the caller';

-- Complete several items in one call, for a worker with many model calls
-- in flight: completions is a JSON array (at most 1000) of {item_id,
-- response, duration_ms, attempt}.  A row per entry says what became of it:
-- completed (with the conversation), failed (the response was unusable and
-- the item was failed or queued again, as complete_batch_item does) or
-- refused (with the error's SQLSTATE and message: cancelled, claimed
-- again, ...), and one refused entry leaves the others stored.  The entries
-- run in one subtransaction, not one each: a subtransaction that writes
-- takes a transaction id of its own, and once a transaction has more than
-- 64 of them every snapshot in the cluster is slower to check (it reads
-- pg_subtrans).  When an entry is refused, that work is undone and the
-- others run again in one subtransaction, without it (so an unusable
-- response's WARNING is given again); after three refusals, each remaining
-- entry runs in a subtransaction of its own (before, every entry did after
-- the first refusal: 1,001 transaction ids for 1,000 entries, a review of
-- 1.2).  A call waits out a lock once per user at most: after a wait ran
-- out (55P03, lock_timeout 5 s), a later entry of that user's whose item
-- row another transaction holds is refused at once, and any other lock it
-- meets is waited for 1 ms (note_lock_timeout), so a user holding her
-- items in flight costs a batch that holds other users' results 5 s, not
-- 5 s per item (an adversarial review, twentieth session), and other
-- users' entries still wait for the locks workers hold as they finish the
-- same job (before, every later entry gave up on any lock at once: a
-- review, thirty-eighth session).  After a third user's wait ran out,
-- every later entry is refused at once: three waits at most.  Runs as its
-- caller, who needs EXECUTE on complete_batch_item.
CREATE FUNCTION train_data.complete_batch_items(completions jsonb)
    RETURNS TABLE (item_id uuid, outcome text, conversation_id uuid, error_code text, error_message text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    e record;
    n integer;
    ids uuid[];
    convs uuid[];
    codes text[];      -- of the refused entries, by position
    messages text[];
    cur bigint;        -- the entry running (variables outlive a rollback)
    code text;
    message text;
    stored boolean := false;   -- a pass stored every entry not refused
BEGIN
    IF jsonb_typeof(completions) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'completions must be a JSON array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    n := jsonb_array_length(completions);
    IF n > 1000 THEN
        RAISE EXCEPTION 'completions has % entries; the limit is 1000', n
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    PERFORM train_data.note_lock_timeout(NULL);   -- no user noted by an earlier call
    ids := array_fill(NULL::uuid, ARRAY[n]);
    codes := array_fill(NULL::text, ARRAY[n]);
    messages := array_fill(NULL::text, ARRAY[n]);
    -- the entries not refused so far, in one subtransaction: at most four
    -- tries; in the order of their item ids, as cancel_batch locks a job's
    -- items (in the order given, a cancel and a batch waiting on a third
    -- session's lock crossed: a soak of the queue, 1.2)
    FOR pass IN 1..4 LOOP
        BEGIN
            convs := array_fill(NULL::uuid, ARRAY[n]);
            FOR e IN SELECT x.value, x.ord FROM jsonb_array_elements(completions) WITH ORDINALITY AS x(value, ord)
                     ORDER BY train_data.completion_item(x.value), x.ord LOOP
                CONTINUE WHEN codes[e.ord] IS NOT NULL;
                cur := e.ord;
                ids[e.ord] := train_data.completion_item(e.value);
                convs[e.ord] := train_data.complete_batch_entry(e.value, e.ord);
            END LOOP;
            cur := NULL;
            stored := true;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
            IF code = '55P03' THEN   -- a lock wait ran out: that user's held rows refused at once from here on
                PERFORM train_data.note_lock_timeout(ids[cur]);
            END IF;
            EXIT WHEN cur IS NULL;   -- not an entry's error: each on its own below
            codes[cur] := code;
            messages[cur] := message;
        END;
        EXIT WHEN stored;
    END LOOP;
    -- more refusals: each entry not refused yet in a subtransaction of its own
    IF NOT stored THEN
        convs := array_fill(NULL::uuid, ARRAY[n]);
        FOR e IN SELECT x.value, x.ord FROM jsonb_array_elements(completions) WITH ORDINALITY AS x(value, ord)
                 ORDER BY train_data.completion_item(x.value), x.ord LOOP
            CONTINUE WHEN codes[e.ord] IS NOT NULL;
            BEGIN
                ids[e.ord] := train_data.completion_item(e.value);
                convs[e.ord] := train_data.complete_batch_entry(e.value, e.ord);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
                IF code = '55P03' THEN
                    PERFORM train_data.note_lock_timeout(ids[e.ord]);
                END IF;
                codes[e.ord] := code;
                messages[e.ord] := message;
            END;
        END LOOP;
    END IF;
    RETURN QUERY
    SELECT u.id, CASE WHEN u.code IS NOT NULL THEN 'refused' WHEN u.conv IS NULL THEN 'failed' ELSE 'completed' END,
           u.conv, u.code, u.message
    FROM unnest(ids, convs, codes, messages) WITH ORDINALITY AS u(id, conv, code, message, ord) ORDER BY u.ord;
    PERFORM train_data.note_lock_timeout(NULL);
END
$$;
COMMENT ON FUNCTION train_data.complete_batch_items(jsonb) IS
    'Worker function: completes several items in one call ({item_id, response, duration_ms, attempt} each); a row per entry: completed with its conversation, failed (unusable response) or refused with the error, which leaves the others stored';

-- A lock wait of complete_batch_items ran out in the entry of item_id:
-- note its owner for the rest of the transaction, so that the owner's
-- later entries give up on a lock another transaction holds at once
-- (lock_item_in_flight probes their item rows with NOWAIT,
-- complete_batch_item waits 1 ms for the rest); NULL forgets the owners
-- noted.  After two owners, a third, or an item not found, notes every
-- user.  Native (src/item_lock_glue.c): the owners are kept where no caller
-- can read them (in a setting, any role learned the owner of any item it
-- named: a review of 1.2); SECURITY DEFINER, to read the owner, which it
-- never shows.
CREATE FUNCTION train_data.note_lock_timeout(item_id uuid)
    RETURNS void
    LANGUAGE c SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'train_data_note_lock_timeout';

COMMENT ON FUNCTION train_data.note_lock_timeout(uuid) IS
    'Internal: after a lock wait of complete_batch_items ran out in an entry, notes the entry''s owner, whose later entries give up on a held lock at once (after two owners, every later entry''s); NULL forgets them';

-- Lock the row of a job the caller can see (its owner's row: claims never
-- wait for it), or fail as for an unknown job.
CREATE FUNCTION train_data.lock_visible_job(job_id uuid)
    RETURNS train_data.batch_jobs
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j train_data.batch_jobs;
BEGIN
    SELECT * INTO j FROM train_data.batch_jobs b WHERE b.id = lock_visible_job.job_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        IF lock_visible_job.job_id IS NULL THEN
            RAISE EXCEPTION 'batch job id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'batch job % does not exist', lock_visible_job.job_id
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN j;
END
$$;

COMMENT ON FUNCTION train_data.lock_visible_job(uuid) IS
    'Internal: locks and returns the row of a batch job the caller can see; an error as for an unknown job otherwise';

-- Raise the error for a job that is not in the state an action needs.
CREATE FUNCTION train_data.job_state_error(job_id uuid, wanted text)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st train_data.batch_job_status;
BEGIN
    SELECT b.status INTO st FROM train_data.batch_jobs b WHERE b.id = job_state_error.job_id;
    IF NOT FOUND THEN
        IF job_id IS NULL THEN
            RAISE EXCEPTION 'batch job id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'batch job % does not exist', job_id USING ERRCODE = 'undefined_object';
    END IF;
    IF wanted IS NULL THEN
        RAISE EXCEPTION 'batch job % is already %', job_id, st USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RAISE EXCEPTION 'batch job % is %, not %', job_id, st, train_data.clip_for_message(wanted)
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = CASE wanted WHEN 'processing' THEN 'Only a processing job can be paused.'
                                 ELSE 'Only a paused job can be resumed.' END;
END
$$;

COMMENT ON FUNCTION train_data.job_state_error(uuid, text) IS
    'Internal: raises the error for a batch job that is not in the state an action needs';

-- Pause a processing job: no new item starts; items in flight finish.
CREATE FUNCTION train_data.pause_batch(job_id uuid)
    RETURNS train_data.batch_jobs
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j train_data.batch_jobs := train_data.lock_visible_job(job_id);
BEGIN
    UPDATE train_data.batch_jobs b SET status = 'paused', paused_at = now()
    WHERE b.id = j.id AND b.status = 'processing' RETURNING * INTO j;
    IF NOT FOUND THEN
        PERFORM train_data.job_state_error(job_id, 'processing');
    END IF;
    PERFORM train_data.notify_progress(j.id, NULL, 'job_paused');
    PERFORM train_data.finish_job_if_done(j.id);   -- the last item may have finished while the row was held
    SELECT * INTO j FROM train_data.batch_jobs b WHERE b.id = j.id;
    RETURN j;
END
$$;

COMMENT ON FUNCTION train_data.pause_batch(uuid) IS
    'Pauses a processing batch job: no new item starts, items in flight finish; returns the job';

-- Resume a paused job; the time it spent paused is set aside for the estimate.
CREATE FUNCTION train_data.resume_batch(job_id uuid)
    RETURNS train_data.batch_jobs
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j train_data.batch_jobs := train_data.lock_visible_job(job_id);
BEGIN
    UPDATE train_data.batch_jobs b
    SET status = 'processing', paused_time = b.paused_time + (now() - b.paused_at), paused_at = NULL
    WHERE b.id = j.id AND b.status = 'paused' RETURNING * INTO j;
    IF NOT FOUND THEN
        PERFORM train_data.job_state_error(job_id, 'paused');
    END IF;
    PERFORM train_data.notify_progress(j.id, NULL, 'job_resumed');
    PERFORM train_data.finish_job_if_done(j.id);   -- the last item may have finished while the row was held
    SELECT * INTO j FROM train_data.batch_jobs b WHERE b.id = j.id;
    RETURN j;
END
$$;

COMMENT ON FUNCTION train_data.resume_batch(uuid) IS
    'Resumes a paused batch job; the time it spent paused does not count towards its throughput; returns the job';

-- Cancel a job that has not ended: its queued and in-flight items become
-- cancelled (a late completion of one is refused).
CREATE FUNCTION train_data.cancel_batch(job_id uuid)
    RETURNS train_data.batch_jobs
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j train_data.batch_jobs := train_data.lock_visible_job(job_id);
    n_queued integer;
    n_flight integer;
BEGIN
    IF j.status NOT IN ('queued', 'processing', 'paused') THEN
        PERFORM train_data.job_state_error(job_id, NULL);
    END IF;
    -- the job first (its row is held since lock_visible_job: no finisher
    -- can end it meanwhile), then its items, in the order of their ids, as
    -- complete_batch_items takes them (in the order of a scan, a cancel
    -- and a batch of completions waiting on a third session's lock crossed
    -- and one of them was stopped, 40P01: a soak of the queue, 1.2), which the owner's trigger
    -- counts as she cancels them, one sum per statement, and does not end
    -- the job again (batch_items_owner_finish).  The engine's writes and a
    -- superuser's are not counted there: this counts them itself.  Before
    -- the thirty-fourth session it always counted them itself, and the
    -- trigger passed them under a setting any user could turn on, which
    -- left the items she then cancelled herself uncounted.
    UPDATE train_data.batch_jobs b
    SET status = 'cancelled', completed_at = now(), estimated_time_remaining = interval '0'
    WHERE b.id = j.id AND b.status IN ('queued', 'processing', 'paused');
    IF NOT FOUND THEN
        PERFORM train_data.job_state_error(job_id, NULL);
    END IF;
    -- (an item in flight: its call may be recorded as discarded)
    WITH c AS (
        UPDATE train_data.batch_items i
        SET status = 'cancelled', finished_at = now(), lease_expires_at = NULL,
            lost_attempts = CASE WHEN i.status = 'processing' THEN train_data.lost_attempt(i) ELSE i.lost_attempts END
        FROM (SELECT i2.id, i2.status AS old_status FROM train_data.batch_items i2
              WHERE i2.batch_job_id = j.id AND i2.status IN ('queued', 'processing')
              ORDER BY i2.id FOR NO KEY UPDATE) o
        WHERE i.id = o.id AND i.status IN ('queued', 'processing')
        RETURNING o.old_status)
    SELECT count(*) FILTER (WHERE old_status = 'queued'), count(*) FILTER (WHERE old_status = 'processing')
    INTO n_queued, n_flight FROM c;
    IF train_data.engine_context() THEN
        PERFORM train_data.bump_counters(j.id, 0, 0, n_queued + n_flight, -n_flight);
    END IF;
    PERFORM train_data.rollup_counters(j.id);
    SELECT * INTO j FROM train_data.batch_jobs b WHERE b.id = j.id;
    PERFORM train_data.notify_progress(j.id, NULL, 'job_cancelled');
    RETURN j;
END
$$;

COMMENT ON FUNCTION train_data.cancel_batch(uuid) IS
    'Cancels a batch job that has not ended: its queued and in-flight items become cancelled; returns the job';

-- Progress and time remaining (native): see README.  PARALLEL RESTRICTED:
-- they read under the caller's policies, which call current_user_id().
CREATE FUNCTION train_data.calculate_batch_progress(job_id uuid)
    RETURNS numeric
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'train_data_calculate_batch_progress';

COMMENT ON FUNCTION train_data.calculate_batch_progress(uuid) IS
    'Percent of a batch job''s items in a final state (completed, failed or cancelled), two decimals; NULL for an unknown or invisible job';

CREATE FUNCTION train_data.estimate_time_remaining(job_id uuid)
    RETURNS interval
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'train_data_estimate_time_remaining';

COMMENT ON FUNCTION train_data.estimate_time_remaining(uuid) IS
    'Estimated time until a batch job ends, from its recent throughput; NULL while nothing has finished, 0 once the job has ended';

CREATE FUNCTION train_data.batch_progress(job_id uuid)
    RETURNS TABLE (batch_job_id uuid, status train_data.batch_job_status, total_items integer,
                   queued_items integer, processing_items integer, completed_items integer,
                   failed_items integer, cancelled_items integer, percent numeric,
                   estimated_time_remaining interval, items_per_minute numeric,
                   started_at timestamptz, completed_at timestamptz)
    LANGUAGE c STABLE PARALLEL RESTRICTED ROWS 1
    AS 'MODULE_PATHNAME', 'train_data_batch_progress';

COMMENT ON FUNCTION train_data.batch_progress(uuid) IS
    'Live state of a batch job in one row: counts per item status, percent, estimated time remaining and items per minute; no row for an unknown or invisible job';
