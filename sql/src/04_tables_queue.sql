-- sql/src/04_tables_queue.sql — the work queue (batch jobs, items, counters), model prices and generation logs.

--------------------------------------------------------------------------------
-- 5. Batch jobs and their items (the work queue)
--------------------------------------------------------------------------------

CREATE TABLE train_data.batch_jobs (
    id                       uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name                     text NOT NULL,
    status                   train_data.batch_job_status NOT NULL DEFAULT 'queued',
    priority                 text NOT NULL DEFAULT 'normal',
    total_items              integer NOT NULL,
    completed_items          integer NOT NULL DEFAULT 0,
    failed_items             integer NOT NULL DEFAULT 0,
    cancelled_items          integer NOT NULL DEFAULT 0,
    -- kept for compatibility with the original; always equals completed_items
    successful_items         integer GENERATED ALWAYS AS (completed_items) STORED,
    started_at               timestamptz,
    completed_at             timestamptz,
    estimated_time_remaining interval,
    -- pause bookkeeping: time spent paused does not count towards throughput
    paused_at                timestamptz,
    paused_time              interval NOT NULL DEFAULT '0',
    tier                     train_data.tier_type,
    shared_parameters        jsonb NOT NULL DEFAULT '{}',
    concurrent_processing    integer NOT NULL DEFAULT 3,
    error_handling           text NOT NULL DEFAULT 'continue',
    created_by               uuid NOT NULL DEFAULT train_data.user_id_default('train_data.batch_jobs', true),
    created_at               timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at               timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- the job's notification channel is named after this random value,
    -- which only those who may read the job learn (job_channel)
    channel_token            uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
    -- an item_completed event per completed item only on request: each
    -- transaction that notifies commits in turn with every other one of the
    -- cluster that does
    completion_events        boolean NOT NULL DEFAULT false,
    CONSTRAINT batch_jobs_name_not_blank CHECK (pg_catalog.btrim(name) <> ''),
    CONSTRAINT batch_jobs_priority_valid CHECK (priority IN ('high', 'normal', 'low')),
    CONSTRAINT batch_jobs_total_items_nonnegative CHECK (total_items >= 0),
    CONSTRAINT batch_jobs_counters_nonnegative CHECK (completed_items >= 0 AND failed_items >= 0
                                                      AND cancelled_items >= 0),
    CONSTRAINT valid_item_counts CHECK (completed_items + failed_items + cancelled_items <= total_items),
    CONSTRAINT batch_jobs_shared_parameters_is_object CHECK (pg_catalog.jsonb_typeof(shared_parameters) = 'object'),
    CONSTRAINT batch_jobs_concurrent_processing_range CHECK (concurrent_processing BETWEEN 1 AND 10),
    CONSTRAINT batch_jobs_error_handling_valid CHECK (error_handling IN ('continue', 'stop')),
    -- the key children reference, so a child's owner is its job's
    CONSTRAINT batch_jobs_id_owner_unique UNIQUE (id, created_by)
);

COMMENT ON TABLE train_data.batch_jobs IS 'Batches of generation work, owned by created_by';
COMMENT ON COLUMN train_data.batch_jobs.id IS 'Batch job id';
COMMENT ON COLUMN train_data.batch_jobs.name IS 'Name, 1-200 characters';
COMMENT ON COLUMN train_data.batch_jobs.status IS 'queued until the first claim, then processing; paused, completed, failed or cancelled';
COMMENT ON COLUMN train_data.batch_jobs.priority IS 'high, normal or low: workers claim from higher priority jobs first, then older ones';
COMMENT ON COLUMN train_data.batch_jobs.total_items IS 'Number of items';
COMMENT ON COLUMN train_data.batch_jobs.completed_items IS 'Items completed successfully; filled when the job ends, live counts are in batch_progress()';
COMMENT ON COLUMN train_data.batch_jobs.failed_items IS 'Items failed for good; filled when the job ends, live counts are in batch_progress()';
COMMENT ON COLUMN train_data.batch_jobs.cancelled_items IS 'Items cancelled; filled when the job ends, live counts are in batch_progress()';
COMMENT ON COLUMN train_data.batch_jobs.successful_items IS 'Kept for compatibility with the original system; always equals completed_items';
COMMENT ON COLUMN train_data.batch_jobs.started_at IS 'When the first item was claimed';
COMMENT ON COLUMN train_data.batch_jobs.completed_at IS 'When the job ended (completed, failed or cancelled)';
COMMENT ON COLUMN train_data.batch_jobs.estimated_time_remaining IS 'Set to 0 when the job ends; the live estimate is estimate_time_remaining()';
COMMENT ON COLUMN train_data.batch_jobs.paused_at IS 'When the current pause began; NULL while not paused';
COMMENT ON COLUMN train_data.batch_jobs.paused_time IS 'Total time of the earlier pauses; excluded from the throughput';
COMMENT ON COLUMN train_data.batch_jobs.tier IS 'Tier of all items when they share one, else NULL';
COMMENT ON COLUMN train_data.batch_jobs.shared_parameters IS 'Parameters merged into every item''s (they win over the item''s own)';
COMMENT ON COLUMN train_data.batch_jobs.concurrent_processing IS 'Most items of this job in flight at once, 1-10';
COMMENT ON COLUMN train_data.batch_jobs.error_handling IS 'continue, or stop: an item failing for good then fails the job and cancels its queued items';
COMMENT ON COLUMN train_data.batch_jobs.created_by IS 'Owner: creates and controls the job and owns the conversations it makes';
COMMENT ON COLUMN train_data.batch_jobs.created_at IS 'When the job was created';
COMMENT ON COLUMN train_data.batch_jobs.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';
COMMENT ON COLUMN train_data.batch_jobs.channel_token IS 'Random value the job''s notification channel is named after (job_channel): only those who can read the job can listen to it; kept by train_data once the job exists';
COMMENT ON COLUMN train_data.batch_jobs.completion_events IS 'Send an item_completed event on the job''s channel for each completed item (off by default: transactions that send a notification commit one at a time across the cluster); other events are always sent';

CREATE INDEX batch_jobs_created_by_idx ON train_data.batch_jobs (created_by, created_at DESC);

CREATE TABLE train_data.batch_items (
    -- time-ordered: the items a claim takes one after the other have
    -- neighbouring ids, so the index entries each claim and completion
    -- writes land on the same few index pages
    id               uuid PRIMARY KEY DEFAULT train_data.uuid_v7(),
    batch_job_id     uuid NOT NULL,
    conversation_id  uuid,
    -- the template the item was made from; an item holds what it needs of it
    -- (prompt, threshold), so deleting the template leaves the item as it
    -- is.  No foreign key: the key check of a user's items would share the
    -- row of a template another user created, and its ON DELETE action
    -- would lock her items from his transaction (a creator's DELETE left
    -- open stalled claims, completions and cancels of everyone's items made
    -- from it); like conversations.template_id, it may name a deleted one.
    template_id      uuid,
    -- set for a regeneration: the conversation the result replaces
    parent_conversation_id uuid,
    position         integer NOT NULL,
    topic            text,
    tier             train_data.tier_type NOT NULL,
    parameters       jsonb NOT NULL DEFAULT '{}',
    status           train_data.batch_item_status NOT NULL DEFAULT 'queued',
    progress         numeric(5,2),
    estimated_time   interval,
    error_message    text,
    error_code       text,
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 3,
    available_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    lease_expires_at timestamptz,
    worker           text,
    request          jsonb,
    started_at       timestamptz,
    finished_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- the job's owner (the composite keys below make it so)
    created_by       uuid NOT NULL DEFAULT train_data.user_id_default('train_data.batch_items', false),
    -- what the item needs, fixed when it is queued: a template changed later
    -- (by its creator, who may be another user) does not change queued work
    prompt           text,
    quality_threshold numeric(3,1),
    -- claims handed back uncounted (release_batch_item): with attempts, the
    -- lease token, which a release must not hand out again
    released         integer NOT NULL DEFAULT 0,
    -- the attempts whose calls left flight unreported (log_discarded_response)
    lost_attempts    integer[],
    CONSTRAINT batch_items_job_fk FOREIGN KEY (batch_job_id, created_by)
        REFERENCES train_data.batch_jobs (id, created_by) ON DELETE CASCADE,
    CONSTRAINT batch_items_conversation_fk FOREIGN KEY (conversation_id, created_by)
        REFERENCES train_data.conversations (id, created_by) ON DELETE SET NULL (conversation_id),
    CONSTRAINT batch_items_parent_conversation_fk FOREIGN KEY (parent_conversation_id, created_by)
        REFERENCES train_data.conversations (id, created_by) ON DELETE SET NULL (parent_conversation_id),
    CONSTRAINT batch_items_id_owner_unique UNIQUE (id, created_by),
    -- the owner in the key (one per job: the job's foreign key makes it so),
    -- so that another user's insert aimed at the job never meets its items
    -- (a 23505 for a taken position told her how many it has) nor waits
    -- for them: she gets 23503, as for a job that does not exist
    CONSTRAINT batch_items_position_unique UNIQUE (batch_job_id, position, created_by),
    CONSTRAINT batch_items_position_positive CHECK (position >= 1),
    CONSTRAINT batch_items_parameters_is_object CHECK (pg_catalog.jsonb_typeof(parameters) = 'object'),
    CONSTRAINT batch_items_progress_range CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT batch_items_attempts_range CHECK (attempts >= 0 AND max_attempts >= 1)
);

CREATE TRIGGER batch_items_owner
    BEFORE INSERT ON train_data.batch_items
    FOR EACH ROW WHEN (NEW.created_by IS NULL)
    EXECUTE FUNCTION train_data.inherit_owner('batch_jobs', 'batch_job_id');

COMMENT ON TABLE train_data.batch_items IS 'Work items of a batch job: the queue workers claim from';
COMMENT ON COLUMN train_data.batch_items.id IS 'Batch item id, time-ordered (uuid_v7()) since 1.2';
COMMENT ON COLUMN train_data.batch_items.batch_job_id IS 'Job the item belongs to; deleted with it';
COMMENT ON COLUMN train_data.batch_items.conversation_id IS 'Conversation the item produced, set on completion';
COMMENT ON COLUMN train_data.batch_items.template_id IS 'Template the item was made from; no foreign key: it may name a deleted template (the item keeps its prompt and threshold)';
COMMENT ON COLUMN train_data.batch_items.parent_conversation_id IS 'For a regeneration: the conversation the result replaces (archived on completion)';
COMMENT ON COLUMN train_data.batch_items.position IS 'Order within the job, from 1; items are claimed in this order';
COMMENT ON COLUMN train_data.batch_items.topic IS 'Topic of the conversation to generate';
COMMENT ON COLUMN train_data.batch_items.tier IS 'Tier of the conversation to generate';
COMMENT ON COLUMN train_data.batch_items.parameters IS 'Template parameters, with the shared parameters and the template defaults applied';
COMMENT ON COLUMN train_data.batch_items.status IS 'queued, processing (claimed, under a lease), completed, failed or cancelled';
COMMENT ON COLUMN train_data.batch_items.progress IS 'Percent 0-100 reported by heartbeat_batch_item(); 100 when completed';
COMMENT ON COLUMN train_data.batch_items.estimated_time IS 'Estimated time of the item, set by the application';
COMMENT ON COLUMN train_data.batch_items.error_message IS 'Message of the latest failure';
COMMENT ON COLUMN train_data.batch_items.error_code IS 'Code of the latest failure: as given to fail_batch_item(), or lease_expired, invalid_prompt';
COMMENT ON COLUMN train_data.batch_items.attempts IS 'Claims that counted: times the item has been claimed, less those handed back by release_batch_item()';
COMMENT ON COLUMN train_data.batch_items.max_attempts IS 'Claims allowed before a retryable failure or a lost lease fails the item for good';
COMMENT ON COLUMN train_data.batch_items.available_at IS 'Not claimed before this time (retry backoff)';
COMMENT ON COLUMN train_data.batch_items.lease_expires_at IS 'End of the current claim''s lease; an item past it is taken back by the next claim';
COMMENT ON COLUMN train_data.batch_items.worker IS 'Name of the worker that claimed the item last';
COMMENT ON COLUMN train_data.batch_items.request IS 'Messages API request body built at the latest claim';
COMMENT ON COLUMN train_data.batch_items.started_at IS 'When the item was first claimed';
COMMENT ON COLUMN train_data.batch_items.finished_at IS 'When the item reached a final status';
COMMENT ON COLUMN train_data.batch_items.created_at IS 'When the item was created';
COMMENT ON COLUMN train_data.batch_items.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';
COMMENT ON COLUMN train_data.batch_items.created_by IS 'Owner: the job''s owner (composite foreign key to batch_jobs)';
COMMENT ON COLUMN train_data.batch_items.prompt IS 'The rendered prompt, fixed when the item is queued (or its parameters change)';
COMMENT ON COLUMN train_data.batch_items.quality_threshold IS 'The template''s quality threshold when the item was queued';
COMMENT ON COLUMN train_data.batch_items.lost_attempts IS 'Attempts (lease tokens) that left flight without their worker''s report: claimed again after the lease ran out, cancelled, or failed for a lost lease; each the record of one discarded call log_discarded_response may write, once';
COMMENT ON COLUMN train_data.batch_items.released IS 'Claims handed back by release_batch_item() without counting an attempt, plus (from the first claim) the last lease token of a deleted item with the same id (deleted_item_tokens); attempts + released is the lease token a claim returns, so it never repeats';

-- Claim path: the next queued items of a job, by position.  The claim
-- orders by (position, id), which only this index gives (position is unique
-- per job, so the order is the same): the planner never prefers the unique
-- (batch_job_id, position) index, whose walk would pass every finished item
-- of the job.
CREATE INDEX batch_items_claim_idx ON train_data.batch_items (batch_job_id, position, id)
    WHERE status = 'queued';
-- In-flight items: the per-job concurrency cap.
CREATE INDEX batch_items_in_flight_idx ON train_data.batch_items (batch_job_id, lease_expires_at)
    WHERE status = 'processing';
-- Claim path: leases that ran out, oldest first, whatever their job.
CREATE INDEX batch_items_lease_idx ON train_data.batch_items (lease_expires_at)
    WHERE status = 'processing';
CREATE INDEX batch_items_conversation_idx ON train_data.batch_items (conversation_id)
    WHERE conversation_id IS NOT NULL;
-- Deleting a conversation sets the parent_conversation_id of the batch
-- items that regenerate it to NULL (ON DELETE SET NULL): this index finds them.
CREATE INDEX batch_items_parent_conversation_idx ON train_data.batch_items (parent_conversation_id)
    WHERE parent_conversation_id IS NOT NULL;

-- Live counters of a job, spread over up to 32 rows ("shards") so that
-- workers finishing items at the same time do not queue on one hot row: a
-- transaction writes the shard of its process id, or the first one no other
-- transaction holds, or a new one (src/counter_shards.c), 16-31 for the
-- engine and 0-15 for a user (cancel_batch), whose policies let her write
-- only those.
-- Progress sums at most 32 rows, whatever the number of items.  in_flight counts claimed items; the rate
-- columns feed the time-remaining estimate: the smoothed interval between
-- final events seen by this shard, and the job's active clock (seconds
-- excluding pauses) at the last one.
CREATE TABLE train_data.batch_job_counters (
    batch_job_id     uuid NOT NULL,
    shard            smallint NOT NULL,
    completed_items  integer NOT NULL DEFAULT 0,
    failed_items     integer NOT NULL DEFAULT 0,
    cancelled_items  integer NOT NULL DEFAULT 0,
    in_flight        integer NOT NULL DEFAULT 0,
    interval_ewma    double precision,
    last_active      double precision,
    PRIMARY KEY (batch_job_id, shard),
    -- the job's owner (the composite key makes it so)
    created_by       uuid NOT NULL DEFAULT train_data.user_id_default('train_data.batch_job_counters', false),
    CONSTRAINT batch_job_counters_job_fk FOREIGN KEY (batch_job_id, created_by)
        REFERENCES train_data.batch_jobs (id, created_by) ON DELETE CASCADE,
    CONSTRAINT batch_job_counters_shard_range CHECK (shard BETWEEN 0 AND 31)
);

CREATE TRIGGER batch_job_counters_owner
    BEFORE INSERT ON train_data.batch_job_counters
    FOR EACH ROW WHEN (NEW.created_by IS NULL)
    EXECUTE FUNCTION train_data.inherit_owner('batch_jobs', 'batch_job_id');

COMMENT ON TABLE train_data.batch_job_counters IS 'Live per-job counters, sharded so concurrent workers never wait on one row';
COMMENT ON COLUMN train_data.batch_job_counters.batch_job_id IS 'Job the counters belong to; deleted with it';
COMMENT ON COLUMN train_data.batch_job_counters.shard IS 'Shard: the writing backend''s process id modulo 16, or the first shard no other transaction holds, or a new one, plus 16 when the engine writes (users write shards 0-15 only)';
COMMENT ON COLUMN train_data.batch_job_counters.completed_items IS 'Items completed, counted in this shard';
COMMENT ON COLUMN train_data.batch_job_counters.failed_items IS 'Items failed for good, counted in this shard';
COMMENT ON COLUMN train_data.batch_job_counters.cancelled_items IS 'Items cancelled, counted in this shard';
COMMENT ON COLUMN train_data.batch_job_counters.in_flight IS 'Change in claimed items counted in this shard (the job''s sum is the items in flight)';
COMMENT ON COLUMN train_data.batch_job_counters.interval_ewma IS 'Smoothed seconds between this shard''s final events, on the job''s active clock; NULL before the first';
COMMENT ON COLUMN train_data.batch_job_counters.created_by IS 'Owner: the job''s owner (composite foreign key to batch_jobs)';
COMMENT ON COLUMN train_data.batch_job_counters.last_active IS 'The job''s active clock in seconds at this shard''s last final event; NULL before the first';

-- The claim order rank of a job: 0-2 by priority while items can be claimed
-- from it (queued or processing), NULL otherwise (claimable_jobs holds it).
CREATE FUNCTION train_data.job_claim_rank(status train_data.batch_job_status, priority text)
    RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN status IN ('queued', 'processing')
                THEN CASE priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END END::smallint;
COMMENT ON FUNCTION train_data.job_claim_rank(train_data.batch_job_status, text) IS
    'Internal: claim order rank of a job, 0-2 by priority while it is queued or processing, else NULL';

-- Which batch job columns a user may write (the engine writes them all):
-- a new job starts queued with nothing counted; a job's status changes only
-- as pause_batch, resume_batch and cancel_batch change it, and its counters
-- only once it has ended (cancel_batch rolls them up).  What the claim and
-- the progress functions rely on therefore cannot be forged.
CREATE FUNCTION train_data.batch_jobs_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad text;
BEGIN
    -- a restore: row security off for a role that bypasses it (a user who turns
    -- it off within her statement, after the policies applied, still is checked)
    IF current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        bad := CASE WHEN NEW.status <> 'queued' THEN 'status'
                    WHEN NEW.completed_items <> 0 OR NEW.failed_items <> 0 OR NEW.cancelled_items <> 0 THEN 'the item counters'
                    WHEN NEW.started_at IS NOT NULL OR NEW.completed_at IS NOT NULL THEN 'started_at and completed_at'
                    WHEN NEW.paused_at IS NOT NULL OR NEW.paused_time <> interval '0' THEN 'the pause bookkeeping'
                    -- the claim takes jobs by age: a job is as old as its insert
                    WHEN NEW.created_at <> now() THEN 'created_at (a new job is created now)' END;
    ELSE
        -- (the claim's tables know a job by its id: job_claim_slots,
        -- claimable_jobs, job_claim_locks)
        bad := CASE WHEN NEW.id IS DISTINCT FROM OLD.id THEN 'id'
                    WHEN NEW.created_by IS DISTINCT FROM OLD.created_by THEN 'created_by'
                    -- (a listener keeps the channel it was given)
                    WHEN NEW.channel_token IS DISTINCT FROM OLD.channel_token THEN 'channel_token'
                    WHEN NEW.created_at IS DISTINCT FROM OLD.created_at THEN 'created_at'
                    WHEN NEW.started_at IS DISTINCT FROM OLD.started_at THEN 'started_at'
                    WHEN NEW.status IS DISTINCT FROM OLD.status
                         AND NOT ((OLD.status = 'processing' AND NEW.status = 'paused')
                                  OR (OLD.status = 'paused' AND NEW.status = 'processing')
                                  OR (OLD.status IN ('queued', 'processing', 'paused') AND NEW.status = 'cancelled'))
                        THEN 'status'
                    WHEN (NEW.completed_items, NEW.failed_items, NEW.cancelled_items)
                         IS DISTINCT FROM (OLD.completed_items, OLD.failed_items, OLD.cancelled_items)
                         AND OLD.status NOT IN ('completed', 'failed', 'cancelled')
                        THEN 'the item counters'
                    WHEN NEW.completed_at IS DISTINCT FROM OLD.completed_at AND NEW.status <> 'cancelled'
                        THEN 'completed_at'
                    WHEN (NEW.paused_at, NEW.paused_time) IS DISTINCT FROM (OLD.paused_at, OLD.paused_time)
                         AND NEW.status IS NOT DISTINCT FROM OLD.status
                        THEN 'the pause bookkeeping' END;
    END IF;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'batch job %: % is kept by train_data', coalesce(NEW.id, OLD.id), bad
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Create batches with create_batch() and control them with pause_batch(), resume_batch() and cancel_batch().';
    END IF;
    -- a new job's channel is named after a token of train_data's making,
    -- whatever its writer gave (a chosen one would be guessable, and could
    -- be another job's: a review of 1.2)
    IF TG_OP = 'INSERT' THEN
        NEW.channel_token := pg_catalog.gen_random_uuid();
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION train_data.batch_jobs_guard() IS
    'Internal: trigger refusing user writes of the batch job columns train_data keeps (status outside pause/resume/cancel, counters, clocks)';

CREATE TRIGGER batch_jobs_guard
    BEFORE INSERT OR UPDATE ON train_data.batch_jobs
    FOR EACH ROW WHEN (NOT train_data.engine_context())
    EXECUTE FUNCTION train_data.batch_jobs_guard();

-- The values of an item's parameters that a completion acts on: a dedupe
-- similarity a real holds, an expectation quality_metrics() accepts,
-- categories of at most a template category's 100 characters (the category
-- index refuses those past about 2,700 bytes).  An error names the item as
-- label does.  The guard below checks them where the owner writes them; a
-- claim checks those of an item it renders (an item of 1.1, queued before
-- these parameters meant anything) and a completion those of an item
-- claimed before the update: an item refused at completion was claimed, and
-- sent to the model, again and again.
CREATE FUNCTION train_data.check_item_parameters(parameters jsonb, label text)
    RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    dedupe numeric;
BEGIN
    label := left(label, 300);   -- (a caller's label is short, a batch's name at most 200; one given directly is bounded)
    -- (a string or a boolean was ignored: the batch's near copies kept
    -- without a word; null is absent, as in an export's options)
    IF jsonb_typeof(parameters -> 'dedupe') NOT IN ('number', 'null') THEN
        RAISE EXCEPTION '%: parameter "dedupe" must be a similarity above 0 and at most 1, not %',
                        label, train_data.json_for_message(parameters -> 'dedupe')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give a JSON number, 0.8 for example, or leave the parameter out.';
    END IF;
    IF jsonb_typeof(parameters -> 'dedupe') = 'number' THEN
        dedupe := (parameters ->> 'dedupe')::numeric;
        IF NOT (dedupe > 0 AND dedupe <= 1) THEN
            RAISE EXCEPTION '%: parameter "dedupe" must be a similarity above 0 and at most 1, not %',
                            label, train_data.clip_for_message(parameters ->> 'dedupe')
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF dedupe < 1.2e-38 THEN   -- compared as a real
            RAISE EXCEPTION '%: parameter "dedupe" is too small for a similarity: %',
                            label, train_data.clip_for_message(parameters ->> 'dedupe')
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A similarity is compared as a real, whose smallest normal value is about 1.2e-38.';
        END IF;
    END IF;
    IF parameters ? 'expectedTurns' THEN
        BEGIN
            PERFORM train_data.quality_metrics('[]', parameters -> 'expectedTurns');
        EXCEPTION WHEN invalid_parameter_value THEN
            RAISE EXCEPTION '%: parameter "expectedTurns" is not valid: %', label, SQLERRM
                USING ERRCODE = 'invalid_parameter_value';
        END;
    END IF;
    IF parameters ? 'category' THEN   -- (tested first: no query for items without categories)
        IF EXISTS (SELECT 1
                   FROM jsonb_array_elements_text(CASE jsonb_typeof(parameters -> 'category')
                                                      WHEN 'array' THEN parameters -> 'category'
                                                      WHEN 'string' THEN jsonb_build_array(parameters -> 'category')
                                                  END) AS c(v)
                   WHERE char_length(c.v) > 100) THEN
            RAISE EXCEPTION '%: a category in its parameters is longer than 100 characters', label
                USING ERRCODE = 'string_data_right_truncation',
                      DETAIL = 'A completion stores them as the conversation''s categories; a template''s category is at most 100 characters too.';
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION train_data.check_item_parameters(jsonb, text) IS
    'Refuses the values of batch item parameters a completion acts on (dedupe, expectedTurns, category), naming the item as label; reads nothing (the guard calls it as the writer)';

-- Which batch item columns a user may write: a new item starts queued and
-- unclaimed and available now; afterwards only its parameters, topic, prompt
-- and attempt limit change, a retry may be brought forward (available_at
-- earlier), and its status changes only to cancelled (cancel_batch).  Claims, leases,
-- attempts and results are the engine's.
-- The item's lost attempts with its current one added: for an item in
-- flight that leaves flight without its worker's report (claimed again
-- after its lease ran out, cancelled, or failed for a lost lease), whose
-- call log_discarded_response may then record.  At most one entry per
-- attempt a claim counted (max_attempts, and one cancel).
-- (A body in a string: a parsed one would depend on the table's columns.)
CREATE FUNCTION train_data.lost_attempt(item train_data.batch_items)
    RETURNS integer[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN (item).attempts OPERATOR(pg_catalog.+) (item).released
                     OPERATOR(pg_catalog.=) ANY (COALESCE((item).lost_attempts, '{}'::integer[]))
                THEN (item).lost_attempts
                ELSE pg_catalog.array_append((item).lost_attempts, (item).attempts OPERATOR(pg_catalog.+) (item).released) END
$$;

COMMENT ON FUNCTION train_data.lost_attempt(train_data.batch_items) IS
    'Internal: an item''s lost_attempts with its current attempt (its lease token) added';

CREATE FUNCTION train_data.batch_items_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad text;
BEGIN
    -- a restore: row security off for a role that bypasses it (a user who turns
    -- it off within her statement, after the policies applied, still is checked)
    IF current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        bad := CASE WHEN NEW.status <> 'queued' THEN 'status'
                    WHEN NEW.attempts <> 0 THEN 'attempts'
                    WHEN NEW.released <> 0 THEN 'released'
                    WHEN NEW.lost_attempts IS NOT NULL THEN 'lost_attempts'
                    WHEN NEW.lease_expires_at IS NOT NULL OR NEW.worker IS NOT NULL OR NEW.request IS NOT NULL
                         OR NEW.started_at IS NOT NULL OR NEW.finished_at IS NOT NULL
                        THEN 'the claim (worker, lease, request, times)'
                    WHEN NEW.conversation_id IS NOT NULL THEN 'conversation_id'
                    WHEN NEW.available_at > now() THEN 'available_at (a new item is available now)' END;
    ELSE
        -- an item in flight holds a slot of its job by its id
        -- (batch_items_free_slot): it keeps both until it ends
        bad := CASE WHEN OLD.status = 'processing'
                         AND (NEW.id, NEW.batch_job_id) IS DISTINCT FROM (OLD.id, OLD.batch_job_id)
                        THEN 'the claim (id and batch_job_id of an item in flight)'
                    -- an item claimed once keeps its id: its workers' calls name it by
                    -- it, and a new item given it would be taken for it by a late one
                    -- (as a deleted item's id: deleted_item_tokens)
                    WHEN NEW.id IS DISTINCT FROM OLD.id AND OLD.attempts + OLD.released > 0
                        THEN 'id (an item claimed once keeps its id)'
                    -- its counters and its place in the claim order are its job's: an
                    -- item moved into a job out of that order waited for good
                    WHEN NEW.batch_job_id IS DISTINCT FROM OLD.batch_job_id
                        THEN 'batch_job_id (an item stays in the job it was queued in)'
                    WHEN NEW.status IS DISTINCT FROM OLD.status
                         AND NOT (OLD.status IN ('queued', 'processing') AND NEW.status = 'cancelled')
                        THEN 'status'
                    WHEN NEW.attempts IS DISTINCT FROM OLD.attempts THEN 'attempts'
                    WHEN NEW.released IS DISTINCT FROM OLD.released THEN 'released'
                    -- an item in flight keeps what its worker was sent and its
                    -- completion stores the answer with (changed in flight, the
                    -- conversation named one persona and its log's request another,
                    -- and the verdict was judged by another threshold: a review of
                    -- 1.2); cancelling it is still hers
                    WHEN OLD.status = 'processing' AND NEW.status = 'processing'
                         AND (NEW.parameters, NEW.prompt, NEW.template_id, NEW.tier, NEW.topic,
                              NEW.parent_conversation_id, NEW.quality_threshold)
                             IS DISTINCT FROM (OLD.parameters, OLD.prompt, OLD.template_id, OLD.tier, OLD.topic,
                                               OLD.parent_conversation_id, OLD.quality_threshold)
                        THEN 'what an item in flight was sent with (parameters, prompt, template_id, tier, topic, parent_conversation_id, quality_threshold)'
                    -- (but the mark of the attempt a cancel ends in flight, as cancel_batch writes it)
                    WHEN NEW.lost_attempts IS DISTINCT FROM OLD.lost_attempts
                         AND NOT (OLD.status = 'processing' AND NEW.status = 'cancelled'
                                  AND NEW.lost_attempts IS NOT DISTINCT FROM train_data.lost_attempt(OLD))
                        THEN 'lost_attempts'
                    WHEN (NEW.worker, NEW.request, NEW.started_at) IS DISTINCT FROM (OLD.worker, OLD.request, OLD.started_at)
                        THEN 'the claim (worker, request, started_at)'
                    WHEN NEW.lease_expires_at IS DISTINCT FROM OLD.lease_expires_at
                         AND NOT (NEW.status = 'cancelled' AND NEW.lease_expires_at IS NULL)
                        THEN 'lease_expires_at'
                    WHEN NEW.finished_at IS DISTINCT FROM OLD.finished_at AND NEW.status <> 'cancelled'
                        THEN 'finished_at'
                    WHEN NEW.conversation_id IS DISTINCT FROM OLD.conversation_id THEN 'conversation_id'
                    WHEN NEW.available_at IS DISTINCT FROM OLD.available_at
                         AND NOT NEW.available_at <= OLD.available_at
                        THEN 'available_at (an owner may only bring a retry forward)' END;
    END IF;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION '%: % is kept by train_data', CASE WHEN TG_OP = 'INSERT' THEN format('item %s of batch job %s', NEW.position, NEW.batch_job_id)
                                                    ELSE 'batch item ' || OLD.id END, bad
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Workers claim and finish items through claim_batch_items() and the other worker functions; users cancel them with cancel_batch().';
    END IF;
    -- a prompt written by hand is held to a rendered prompt's limit: the
    -- claim builds every request from it
    IF octet_length(NEW.prompt) > 4194304 AND (TG_OP = 'INSERT' OR NEW.prompt IS DISTINCT FROM OLD.prompt) THEN
        RAISE EXCEPTION '%: prompt is % bytes; the limit is 4 MB', CASE WHEN TG_OP = 'INSERT' THEN format('item %s of batch job %s', NEW.position, NEW.batch_job_id)
                                                    ELSE 'batch item ' || OLD.id END,
                        octet_length(NEW.prompt)
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = 'A rendered prompt is at most 4 MB; a prompt written by hand is held to the same limit.';
    END IF;
    -- an item's parameters are at most 4 MB (their size read from the
    -- header, not by reading them): batch_items_prepare renders them
    IF (TG_OP = 'INSERT' OR NEW.parameters IS DISTINCT FROM OLD.parameters)
       AND train_data.jsonb_raw_size(NEW.parameters) > 4194304 THEN
        RAISE EXCEPTION '%: parameters are % bytes; the limit is 4 MB', CASE WHEN TG_OP = 'INSERT' THEN format('item %s of batch job %s', NEW.position, NEW.batch_job_id)
                                                    ELSE 'batch item ' || OLD.id END,
                        train_data.jsonb_raw_size(NEW.parameters)
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = 'A claim renders an item''s prompt from its parameters; a rendered prompt is at most 4 MB too.';
    END IF;
    -- a regeneration's new version comes after its parent and the versions
    -- before it: at most 1,000 (the conversations' guard's limit), checked
    -- where the owner names the parent, since the completion that inserts
    -- the version does not walk the chain (a review of 1.2 grew a chain past
    -- it by setting an item's parent by hand)
    IF NEW.parent_conversation_id IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.parent_conversation_id IS DISTINCT FROM OLD.parent_conversation_id)
       AND train_data.version_depth(NEW.parent_conversation_id) > 1000 THEN
        RAISE EXCEPTION 'batch item %: conversation % would have more than 1000 versions before its regeneration',
                        coalesce(NEW.id, OLD.id), NEW.parent_conversation_id
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    -- values of the parameters a completion acts on are checked here, where
    -- the owner writes them, not when a worker hands a response back (each
    -- names the item by its position in its job: a refused create_batch
    -- item never gets an id anyone sees)
    IF (TG_OP = 'INSERT' OR NEW.parameters IS DISTINCT FROM OLD.parameters)
       AND NEW.parameters ?| ARRAY['dedupe', 'expectedTurns', 'category'] THEN
        PERFORM train_data.check_item_parameters(NEW.parameters,
                                                 format('item %s of batch job %s', NEW.position, NEW.batch_job_id));
    END IF;
    -- an item its owner cancels ends now and loses its lease, as
    -- cancel_batch's do (a plain UPDATE left an item in flight cancelled
    -- with no finish time and its lease on: a soak of the queue, 1.2)
    IF TG_OP = 'UPDATE' AND NEW.status = 'cancelled' AND OLD.status IN ('queued', 'processing') THEN
        NEW.finished_at := coalesce(NEW.finished_at, now());
        NEW.lease_expires_at := NULL;
        -- its call, in flight, may be recorded by its worker (log_discarded_response)
        IF OLD.status = 'processing' THEN
            NEW.lost_attempts := train_data.lost_attempt(OLD);
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION train_data.batch_items_guard() IS
    'Internal: trigger refusing user writes of the batch item columns train_data keeps (status except cancel, attempts, lost attempts, claim, lease, result)';

CREATE TRIGGER batch_items_guard
    BEFORE INSERT OR UPDATE ON train_data.batch_items
    FOR EACH ROW WHEN (NOT train_data.engine_context())
    EXECUTE FUNCTION train_data.batch_items_guard();

-- A changed prompt-making value (parameters) of a queued item renders its
-- prompt again, and so does a queued item written without a prompt (a
-- user's insert, or an owner setting it NULL), as its writer writes it: a
-- claim that rendered a user's item (large parameters, a prompt set NULL)
-- was held up by it, and one a statement timeout cut short left it first
-- in the claim order.  A changed value that cannot render is refused here;
-- an inserted item that cannot render is left to its claim, which fails it
-- alone, with its parameters' 4 MB bound.
CREATE FUNCTION train_data.batch_items_prepare() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rendered jsonb;
BEGIN
    -- a restore (rows as they were dumped): row security off for a role that
    -- bypasses it; a user who turns it off within her statement still is checked
    IF current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.prompt IS NULL OR NEW.prompt IS NOT DISTINCT FROM OLD.prompt THEN
        SELECT train_data.render_template(t.structure, NEW.parameters, t.variables) INTO rendered
        FROM train_data.templates t WHERE t.id = NEW.template_id;
        IF rendered IS NULL AND TG_OP = 'INSERT' THEN
            -- a template that does not exist: refused, as the foreign key
            -- the column no longer has refused it (its claim would fail it)
            RAISE EXCEPTION 'template % does not exist', NEW.template_id
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = 'A batch item written without a prompt is rendered with the template it names.';
        ELSIF NOT coalesce((rendered ->> 'success')::boolean, false) AND TG_OP = 'INSERT' THEN
            RETURN NEW;   -- as before: its claim fails it alone
        ELSIF NOT coalesce((rendered ->> 'success')::boolean, false) THEN
            RAISE EXCEPTION 'parameters of batch item % do not render with its template', NEW.id
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = coalesce(train_data.render_problems(rendered, true), 'The template no longer exists.');
        END IF;
        NEW.prompt := rendered ->> 'resolved';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION train_data.batch_items_prepare() IS
    'Internal: trigger rendering the prompt of a queued item written without one, or again when its parameters change';

CREATE TRIGGER batch_items_prepare_update
    BEFORE UPDATE ON train_data.batch_items
    FOR EACH ROW WHEN (NEW.status = 'queued' AND (OLD.parameters IS DISTINCT FROM NEW.parameters
                                                  OR (OLD.prompt IS NOT NULL AND NEW.prompt IS NULL)))
    EXECUTE FUNCTION train_data.batch_items_prepare();
CREATE TRIGGER batch_items_prepare_insert
    BEFORE INSERT ON train_data.batch_items
    FOR EACH ROW WHEN (NEW.status = 'queued' AND NEW.prompt IS NULL AND NEW.template_id IS NOT NULL
                       AND NOT train_data.engine_context())
    EXECUTE FUNCTION train_data.batch_items_prepare();

-- The schema of train_data's own tables, which only its functions use: no
-- user is granted USAGE on it, so no grant on its tables (GRANT ... ON ALL
-- TABLES, default privileges) lets a user read, write or lock them.
CREATE SCHEMA train_data_internal;
COMMENT ON SCHEMA train_data_internal IS 'Internal: train_data''s own tables (the claim order, slots, close checks, kept lease tokens); no user may use it';

-- The claim order: one row per job a claim may take work from, by its
-- priority rank and age.  A job is put here when items of it are queued
-- (inserted, retried, released) or when it is resumed; it leaves when it is
-- paused or ends, and when a claim finds nothing queued in it.  A pause
-- therefore writes one row here and no item; the claim's walk reads this
-- table only, so paused, ended and empty jobs cost it nothing.  No user can
-- see or write these rows (row-level security without a policy; no foreign
-- key: deleting a job touches nothing here, the next claim drops its row).
CREATE TABLE train_data_internal.claimable_jobs (
    batch_job_id   uuid PRIMARY KEY,
    claim_rank     smallint NOT NULL,
    job_created_at timestamptz NOT NULL,
    created_by     uuid NOT NULL
);
ALTER TABLE train_data_internal.claimable_jobs ENABLE ROW LEVEL SECURITY;
CREATE INDEX claimable_jobs_order_idx ON train_data_internal.claimable_jobs (claim_rank, job_created_at, batch_job_id);
COMMENT ON TABLE train_data_internal.claimable_jobs IS 'Internal: the claim order, one row per job with work a claim may take (by priority rank, then age)';
COMMENT ON COLUMN train_data_internal.claimable_jobs.batch_job_id IS 'The job (no foreign key: users never lock or touch these rows)';
COMMENT ON COLUMN train_data_internal.claimable_jobs.claim_rank IS 'The job''s priority rank, 0-2 (job_claim_rank())';
COMMENT ON COLUMN train_data_internal.claimable_jobs.job_created_at IS 'The job''s creation time, the second key of the claim order';
COMMENT ON COLUMN train_data_internal.claimable_jobs.created_by IS 'The job''s owner, read with the claim order (a claim passes over an owner whose jobs have nothing to take)';

-- Put a job in the claim order while it can be claimed from.  A row already
-- there is locked (and its rank refreshed), so a claim removing it at the
-- same time skips it: the claim cannot see this transaction's queued item.
CREATE FUNCTION train_data.claimable_job_add(job_id uuid)
    RETURNS void
    LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO train_data_internal.claimable_jobs AS c (batch_job_id, claim_rank, job_created_at, created_by)
    SELECT j.id, train_data.job_claim_rank(j.status, j.priority), j.created_at, j.created_by
    FROM train_data.batch_jobs j
    WHERE j.id = claimable_job_add.job_id AND train_data.job_claim_rank(j.status, j.priority) IS NOT NULL
    ON CONFLICT (batch_job_id) DO UPDATE SET claim_rank = excluded.claim_rank;
END;
COMMENT ON FUNCTION train_data.claimable_job_add(uuid) IS
    'Internal: puts a job that can be claimed from in the claim order (claimable_jobs), or refreshes and locks its row there';

-- Keep a job in the claim order for an item the engine queues again (a
-- retry, a release).  Its row there is written again, a new version that
-- ends the claims' passing over the job (claim_hints.c), and locked until
-- this transaction ends, so that a claim cannot remove it.  A row another
-- transaction holds is not waited for when that is an owner's transaction
-- that changed the job's rank there (her new priority, her resume): the
-- row is held with KEY SHARE, which her change does not block and a claim
-- removing the row cannot pass, and her commit is a new version too (a
-- worker's retry waited 5 s for her commit, then failed with 55P03; a
-- review of 1.2).  Without a row to hold, as claimable_job_add when that
-- waits for nobody; else (her pause removing the row, her new items making
-- it: a retry waited 5 s for her again) a job_close_checks row, and a
-- claim's look puts the job back once its row is free.
CREATE FUNCTION train_data.claimable_job_keep(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '10ms'   -- a row another transaction is making or removing: not waited for
AS $$
BEGIN
    UPDATE train_data_internal.claimable_jobs c SET claim_rank = c.claim_rank
    WHERE c.ctid = (SELECT c2.ctid FROM train_data_internal.claimable_jobs c2
                    WHERE c2.batch_job_id = claimable_job_keep.job_id FOR NO KEY UPDATE SKIP LOCKED);
    IF FOUND THEN
        RETURN;
    END IF;
    PERFORM FROM train_data_internal.claimable_jobs c WHERE c.batch_job_id = claimable_job_keep.job_id
    FOR KEY SHARE SKIP LOCKED;
    IF FOUND THEN
        -- the holder's commit writes the row, but before this one's: a
        -- session that claims between the two commits keeps its floor for
        -- the job under that version (claim_hints.c), past this item; a
        -- claim's look writes the row again after this commit
        -- (check_owed_job), within about a second
        PERFORM train_data.owe_close_check(claimable_job_keep.job_id, false);
        RETURN;
    END IF;
    -- a row there but held for its removal (a claim that found nothing
    -- queued, her pause, cancel or delete): not waited for; a claim's look
    -- puts the job back, if it still has to be, once its row is free
    -- (job_close_checks: check_owed_job)
    IF EXISTS (SELECT FROM train_data_internal.claimable_jobs c WHERE c.batch_job_id = claimable_job_keep.job_id) THEN
        PERFORM train_data.owe_close_check(claimable_job_keep.job_id, false);
        RETURN;
    END IF;
    -- none: made here, unless another transaction is making it (her new
    -- items), which the function's lock_timeout does not wait for: then the
    -- same as above
    BEGIN
        PERFORM train_data.claimable_job_add(claimable_job_keep.job_id);
    EXCEPTION WHEN lock_not_available THEN
        PERFORM train_data.owe_close_check(claimable_job_keep.job_id, false);
    END;
END
$$;
COMMENT ON FUNCTION train_data.claimable_job_keep(uuid) IS
    'Internal: keeps a job in the claim order for an item queued again by the engine, without waiting for an owner''s transaction that changed its rank';

-- New queued items put their jobs in the claim order (runs as train_data:
-- users cannot write claimable_jobs).
CREATE FUNCTION train_data.batch_items_queue_jobs() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM train_data.claimable_job_add(n.batch_job_id)
    FROM (SELECT DISTINCT i.batch_job_id FROM new_items i WHERE i.status = 'queued') n;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION train_data.batch_items_queue_jobs() IS
    'Internal: trigger putting the jobs of newly queued items in the claim order';

CREATE TRIGGER batch_items_queue_jobs
    AFTER INSERT ON train_data.batch_items
    REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.batch_items_queue_jobs();

-- A job whose claim rank changes (paused, resumed, ended, new priority)
-- leaves the claim order or takes its place there again: one row, whatever
-- the number of its items.  A job with items in flight is put back too, as
-- one of them may be queued again meanwhile; a claim drops the row if not.
CREATE FUNCTION train_data.batch_jobs_reorder() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF train_data.job_claim_rank(NEW.status, NEW.priority) IS NULL THEN
        DELETE FROM train_data_internal.claimable_jobs c WHERE c.batch_job_id = NEW.id;
    ELSIF EXISTS (SELECT 1 FROM train_data.batch_items i WHERE i.batch_job_id = NEW.id AND i.status = 'queued')
          OR EXISTS (SELECT 1 FROM train_data.batch_items i WHERE i.batch_job_id = NEW.id AND i.status = 'processing') THEN
        PERFORM train_data.claimable_job_add(NEW.id);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION train_data.batch_jobs_reorder() IS
    'Internal: trigger taking a job out of the claim order, or putting it back, when the job''s claim rank changes';

CREATE TRIGGER batch_jobs_reorder
    AFTER UPDATE ON train_data.batch_jobs
    FOR EACH ROW WHEN (train_data.job_claim_rank(OLD.status, OLD.priority)
                       IS DISTINCT FROM train_data.job_claim_rank(NEW.status, NEW.priority))
    EXECUTE FUNCTION train_data.batch_jobs_reorder();

-- Finishers of one job take turns on its row here (finish_job_if_done), so
-- the last one sees every other commit.  No user can see, lock or delete
-- these rows (row-level security without a policy; no foreign key, so
-- deleting a job touches nothing here): a worker never waits on a user's
-- transaction or on a lock an outside session can take (an owner ending her
-- last items herself closes the job without it: owner_close_job).  Rows of ended jobs
-- are removed when the job finishes, rows of deleted jobs with the job.
CREATE TABLE train_data_internal.job_claim_locks (
    batch_job_id uuid PRIMARY KEY
);
ALTER TABLE train_data_internal.job_claim_locks ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE train_data_internal.job_claim_locks IS 'Internal: one row per job being finished; the finishers of a job take turns on it';
COMMENT ON COLUMN train_data_internal.job_claim_locks.batch_job_id IS 'The job (no foreign key: users never lock or touch these rows)';

-- Jobs whose closing check is owed.  A finisher that finds the job row held
-- (by its owner, whose statement ending her last items may have seen this
-- finisher's item still in flight), a final failure under error_handling
-- 'stop' that finds it held (stop: the job fails), and an owner who ends items in
-- REPEATABLE READ (whose snapshot cannot see what workers committed since)
-- leave a row here; a claim, at most every second in each session, takes
-- the rows whose job row is free and checks the job (finish_job_if_done):
-- src/close_checks.c.  No unique key, so an insert never waits for another
-- transaction's (one is made only where the job has none: two at once is
-- rare, and harmless); no foreign key, so deleting a job waits for nothing here
-- (its rows go with it: batch_jobs_forget_claims).  No user can see, lock or
-- write these rows (row-level security without a policy).
CREATE TABLE train_data_internal.job_close_checks (
    batch_job_id uuid NOT NULL,
    stop         boolean NOT NULL DEFAULT false
);
CREATE INDEX job_close_checks_job_idx ON train_data_internal.job_close_checks (batch_job_id);
ALTER TABLE train_data_internal.job_close_checks ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE train_data_internal.job_close_checks IS 'Internal: jobs whose closing check is owed (their row was held when their last item ended); a claim checks them';
COMMENT ON COLUMN train_data_internal.job_close_checks.batch_job_id IS 'The job (no foreign key: users never lock or touch these rows)';
COMMENT ON COLUMN train_data_internal.job_close_checks.stop IS 'The job fails: an item failed for good under error_handling stop while its row was held, or in a claim';

-- The places of a job's items in flight: slots 0 to 9 (a job allows at most
-- 10 at once), each free or holding one item being processed.  A claim
-- locks free slots below the job's concurrency with SKIP LOCKED and writes
-- the items it takes into them; an item that stops being processed
-- (completed, failed, released, retried, cancelled, deleted) frees its slot
-- (batch_items_free_slot).  An item in flight holds a slot and two claims
-- never lock the same free one, so the cap holds exactly, and claims of one
-- job never wait for each other.  A job's ten rows are made with the job
-- and removed with it.  No user can see, lock or write these rows (row-level
-- security without a policy; no foreign key, so a claim never waits on a
-- job row its owner holds).
CREATE TABLE train_data_internal.job_claim_slots (
    batch_job_id uuid NOT NULL,
    slot         smallint NOT NULL,
    item_id      uuid,
    PRIMARY KEY (batch_job_id, slot),
    CONSTRAINT job_claim_slots_slot_range CHECK (slot BETWEEN 0 AND 9)
);
ALTER TABLE train_data_internal.job_claim_slots ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE train_data_internal.job_claim_slots IS 'Internal: the places of a job''s items in flight, one row per slot; a claim takes free slots, an item that stops being processed frees its own';
COMMENT ON COLUMN train_data_internal.job_claim_slots.batch_job_id IS 'The job (no foreign key: users never lock or touch these rows)';
COMMENT ON COLUMN train_data_internal.job_claim_slots.slot IS 'The slot, 0-9; a claim uses those below the job''s concurrent_processing';
COMMENT ON COLUMN train_data_internal.job_claim_slots.item_id IS 'The item in flight in this slot, NULL when free';

-- An item that stops being processed frees its slot.  It runs as the
-- extension's owner: a user's cancel_batch frees the slots of her cancelled
-- items (and holds them until she commits: only claims of her own job skip
-- them meanwhile).  Native (src/free_slot_glue.c: one UPDATE, every name
-- and operator qualified, so it needs no search_path of its own): it fires
-- on every completion.
CREATE FUNCTION train_data.batch_items_free_slot() RETURNS trigger
    LANGUAGE c SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'train_data_batch_items_free_slot';
COMMENT ON FUNCTION train_data.batch_items_free_slot() IS
    'Internal: trigger freeing the claim slot of an item that stops being processed';

-- (not UPDATE OF status: check_cache.c keeps the WHEN clause of a plain
-- UPDATE trigger parsed, where PostgreSQL parses it again per statement)
CREATE TRIGGER batch_items_free_slot
    AFTER UPDATE ON train_data.batch_items
    FOR EACH ROW WHEN (OLD.status = 'processing' AND NEW.status <> 'processing')
    EXECUTE FUNCTION train_data.batch_items_free_slot();

-- An item its owner deletes in flight frees its slot too (else the slot
-- held a deleted item for good: the job gave no more work, and every
-- claim looked at it again).
CREATE TRIGGER batch_items_free_slot_deleted
    AFTER DELETE ON train_data.batch_items
    FOR EACH ROW WHEN (OLD.status = 'processing')
    EXECUTE FUNCTION train_data.batch_items_free_slot();

-- The last lease token of each claimed item that is deleted.  The token
-- counts the claims of one row, so an item inserted later with the same
-- id started again at 1, and a late call of the deleted row's worker
-- (one in flight, or one whose completion committed and whose reply was
-- lost, which the Node worker retries), with its token 1, was taken for
-- the new item's: its answer stored as the new item's conversation, with
-- the new item's owner (an adversarial review of 1.2 made a stale
-- worker's answer to Alice's prompt Bob's conversation, Bob inserting his
-- item with the id of Alice's deleted one).  The first claim of an item
-- whose id is here starts its tokens past this one.  Items never claimed
-- leave no row.  No user can see, lock or write these rows (row-level
-- security without a policy).  One row of about 90 bytes per claimed
-- item deleted: a site may delete the rows older than any of its workers
-- can be late (docs/security.md, The lease token).
CREATE TABLE train_data_internal.deleted_item_tokens (
    item_id    uuid PRIMARY KEY,
    token      integer NOT NULL,
    deleted_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER TABLE train_data_internal.deleted_item_tokens ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE train_data_internal.deleted_item_tokens IS 'Internal: the last lease token of each claimed item deleted; a later item with the same id starts its tokens past it';
COMMENT ON COLUMN train_data_internal.deleted_item_tokens.item_id IS 'The deleted item''s id (no foreign key: the item is gone)';
COMMENT ON COLUMN train_data_internal.deleted_item_tokens.token IS 'Its last lease token (attempts + released when it was deleted)';
COMMENT ON COLUMN train_data_internal.deleted_item_tokens.deleted_at IS 'When it was deleted (the latest time, for an id deleted more than once)';

-- It runs as the extension's owner: the deleting user cannot write the
-- table.  Once per statement, over the rows it deleted (the cascade of a
-- deleted job runs one statement per job): a row trigger, even a native
-- one, made deleting a job of 20,000 claimed items 2.5 times as slow,
-- this 1.3 times.  The row of an id never meets another user's write:
-- ids are unique among live items, and an id's row is written only when
-- its item is deleted.
CREATE FUNCTION train_data.batch_items_keep_token() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- no lock on the table for a statement that deleted no claimed item
    IF NOT EXISTS (SELECT FROM deleted_items d WHERE d.attempts + d.released > 0) THEN
        RETURN NULL;
    END IF;
    INSERT INTO train_data_internal.deleted_item_tokens AS t (item_id, token)
    SELECT d.id, d.attempts + d.released FROM deleted_items d
    WHERE d.attempts + d.released > 0
    ON CONFLICT (item_id) DO UPDATE
        SET token = greatest(t.token, excluded.token), deleted_at = excluded.deleted_at;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION train_data.batch_items_keep_token() IS
    'Internal: trigger keeping the last lease token of each claimed item a statement deletes';

CREATE TRIGGER batch_items_keep_token
    AFTER DELETE ON train_data.batch_items
    REFERENCING OLD TABLE AS deleted_items
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.batch_items_keep_token();

-- An item its owner ends herself -- cancelled by an UPDATE, or deleted
-- while queued or in flight -- is counted as cancelled in her shard of the
-- job's counters (one in flight fewer when it was), and the job ends when
-- its items all have (found by an adversarial review, twentieth session:
-- the counters and the progress functions kept counting such items as
-- queued or in flight, and a job whose items were all cancelled so stayed
-- queued for good).  A deleted item counts as cancelled: the job's total is
-- the one it was made with.  A row trigger adds each item to its job's sums
-- kept for the statement; a statement trigger then adds each sum to the
-- job's counters and ends the job if nothing is left to do
-- (owner_close_job), once per job and statement (src/owner_end.c: both in
-- C, without WHEN clauses, which are planned for every UPDATE statement of
-- the table, the engine's too).  They run as the owner, under her
-- policies: she writes only her own shards, which no worker writes, and
-- takes no lock a worker waits for (ending the job as finish_job_if_done
-- does took the finishers' lock from her transaction).  cancel_batch's
-- items are counted here too (it ends the job first, so the statement
-- trigger does not end it again); the engine's changes, a superuser's
-- (cancel_batch counts those itself) and the cascade of a deleted job are
-- not the owner's.
CREATE FUNCTION train_data.batch_items_owner_count() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_batch_items_owner_count';
COMMENT ON FUNCTION train_data.batch_items_owner_count() IS
    'Internal: trigger adding an item its owner cancels or deletes before it ended to its job''s sums for the statement';
CREATE FUNCTION train_data.batch_items_owner_finish() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_batch_items_owner_finish';
COMMENT ON FUNCTION train_data.batch_items_owner_finish() IS
    'Internal: trigger counting, per job, the items their owner ended in the statement as cancelled (in her shard), and ending each job left with nothing to do';

-- (BEFORE: it sees the role of the statement that changes the row; after
-- batch_items_guard by name, and no trigger after it skips the row)
CREATE TRIGGER batch_items_owner_count
    BEFORE UPDATE OR DELETE ON train_data.batch_items
    FOR EACH ROW EXECUTE FUNCTION train_data.batch_items_owner_count();
CREATE TRIGGER batch_items_owner_finish
    AFTER UPDATE OR DELETE ON train_data.batch_items
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.batch_items_owner_finish();

-- A new job gets its ten slots (the claim makes them only for a job that
-- has none, a job inserted with triggers off say: two first claims of such
-- a job would wait for each other once).
CREATE FUNCTION train_data.batch_jobs_make_slots() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO train_data_internal.job_claim_slots (batch_job_id, slot)
    SELECT NEW.id, g::smallint FROM generate_series(0, 9) g
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION train_data.batch_jobs_make_slots() IS
    'Internal: trigger making the claim slots of a new job';

CREATE TRIGGER batch_jobs_make_slots
    AFTER INSERT ON train_data.batch_jobs
    FOR EACH ROW EXECUTE FUNCTION train_data.batch_jobs_make_slots();

-- A deleted job leaves nothing in the claim's tables (its owner's
-- transaction takes the rows' locks: a claim skips the slots of her job
-- meanwhile, and waits for none of them).
CREATE FUNCTION train_data.batch_jobs_forget_claims() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM train_data_internal.job_claim_slots s WHERE s.batch_job_id = OLD.id;
    DELETE FROM train_data_internal.job_claim_locks l WHERE l.batch_job_id = OLD.id;
    DELETE FROM train_data_internal.job_close_checks c WHERE c.batch_job_id = OLD.id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION train_data.batch_jobs_forget_claims() IS
    'Internal: trigger removing a deleted job''s rows of job_claim_slots, job_claim_locks and job_close_checks';

CREATE TRIGGER batch_jobs_forget_claims
    AFTER DELETE ON train_data.batch_jobs
    FOR EACH ROW EXECUTE FUNCTION train_data.batch_jobs_forget_claims();

--------------------------------------------------------------------------------
-- 6. Model calls and their prices
--------------------------------------------------------------------------------

-- USD per million tokens.  Rows marked builtin are installed by the extension
-- (and are not dumped); add rows for exact model ids to override a family.
CREATE TABLE train_data.model_prices (
    model_id             text PRIMARY KEY,
    input_usd_per_mtok   numeric(10,4) NOT NULL,
    output_usd_per_mtok  numeric(10,4) NOT NULL,
    builtin              boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    cache_read_usd_per_mtok  numeric(10,4),   -- (1.2: after the columns of 1.1, as an update adds them)
    cache_write_usd_per_mtok numeric(10,4),
    CONSTRAINT model_prices_model_id_not_blank CHECK (pg_catalog.btrim(model_id) <> ''),
    CONSTRAINT model_prices_nonnegative CHECK (input_usd_per_mtok >= 0 AND output_usd_per_mtok >= 0),
    CONSTRAINT model_prices_cache_nonnegative CHECK (cache_read_usd_per_mtok >= 0 AND cache_write_usd_per_mtok >= 0)
);

COMMENT ON TABLE train_data.model_prices IS 'USD per million input and output tokens, by model id or model family';
COMMENT ON COLUMN train_data.model_prices.model_id IS 'Exact model id, or a Claude generation (claude-haiku-3.5: model_generation) or family (claude-opus, claude-sonnet, claude-haiku); an exact id takes precedence, then a generation';
COMMENT ON COLUMN train_data.model_prices.input_usd_per_mtok IS 'USD per million input tokens';
COMMENT ON COLUMN train_data.model_prices.output_usd_per_mtok IS 'USD per million output tokens';
COMMENT ON COLUMN train_data.model_prices.builtin IS 'Installed by the extension: cannot be changed or deleted, and left out of dumps';
COMMENT ON COLUMN train_data.model_prices.created_at IS 'When the row was added';
COMMENT ON COLUMN train_data.model_prices.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';
COMMENT ON COLUMN train_data.model_prices.cache_read_usd_per_mtok IS 'USD per million input tokens read from the provider''s prompt cache; NULL: the input price';
COMMENT ON COLUMN train_data.model_prices.cache_write_usd_per_mtok IS 'USD per million input tokens written to the provider''s prompt cache; NULL: the input price';

-- Anthropic's published prices (https://docs.anthropic.com/en/docs/about-claude/pricing):
-- a family row for a generation it has no row of (the newest generation's
-- price, the best guess for one newer still), and a row for each older
-- generation priced otherwise (model_generation names them; a dot in each,
-- as no provider's id has one, so that no site's row shares its id).  The
-- prompt cache's prices: reads 0.1 and writes 1.25 times the input price
-- (writes for 5 minutes), Claude Haiku 3's as published.
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok, builtin,
                                     cache_read_usd_per_mtok, cache_write_usd_per_mtok) VALUES
    ('claude-opus',       5.0000, 25.0000, true, 0.5000,  6.2500),
    ('claude-sonnet',     3.0000, 15.0000, true, 0.3000,  3.7500),
    ('claude-haiku',      1.0000,  5.0000, true, 0.1000,  1.2500),
    ('claude-opus-3.0',  15.0000, 75.0000, true, 1.5000, 18.7500),
    ('claude-opus-4.0',  15.0000, 75.0000, true, 1.5000, 18.7500),
    ('claude-opus-4.1',  15.0000, 75.0000, true, 1.5000, 18.7500),
    ('claude-haiku-3.0',  0.2500,  1.2500, true, 0.0300,  0.3000),
    ('claude-haiku-3.5',  0.8000,  4.0000, true, 0.0800,  1.0000);

-- Built-in price rows are part of the extension script: they cannot change,
-- or a dump (which leaves them out) would silently restore the old price.
CREATE FUNCTION train_data.model_prices_protect_builtin() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.builtin THEN
        RAISE EXCEPTION 'cannot % built-in price row "%"', pg_catalog.lower(TG_OP), OLD.model_id
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Insert a row for the exact model id instead; exact ids take precedence over the family rows.';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;

COMMENT ON FUNCTION train_data.model_prices_protect_builtin() IS
    'Internal: trigger function (BEFORE UPDATE OR DELETE on model_prices) that refuses to change or delete a built-in price row';

CREATE TRIGGER model_prices_protect_builtin
    BEFORE UPDATE OR DELETE ON train_data.model_prices
    FOR EACH ROW EXECUTE FUNCTION train_data.model_prices_protect_builtin();

CREATE TABLE train_data.generation_logs (
    id               uuid PRIMARY KEY DEFAULT train_data.uuid_v7(),   -- time-ordered: appended to its index
    conversation_id  uuid,
    batch_item_id    uuid,
    run_id           uuid,
    template_id      uuid,
    request_payload  jsonb NOT NULL,
    response_payload jsonb,
    parameters       jsonb NOT NULL DEFAULT '{}',
    model_used       text,
    temperature      numeric(3,2),
    max_tokens       integer,
    status           text NOT NULL DEFAULT 'success',
    retry_attempt    integer NOT NULL DEFAULT 0,
    input_tokens     integer NOT NULL DEFAULT 0,
    output_tokens    integer NOT NULL DEFAULT 0,
    cost_usd         numeric(12,6),
    duration_ms      integer,
    error_message    text,
    error_code       text,
    created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by       uuid NOT NULL DEFAULT train_data.user_id_default('train_data.generation_logs', false),
    cache_read_tokens  integer NOT NULL DEFAULT 0,   -- (1.2: after the columns of 1.1, as an update adds them)
    cache_write_tokens integer NOT NULL DEFAULT 0,
    CONSTRAINT generation_logs_conversation_fk FOREIGN KEY (conversation_id, created_by)
        REFERENCES train_data.conversations (id, created_by) ON DELETE CASCADE,
    CONSTRAINT generation_logs_batch_item_fk FOREIGN KEY (batch_item_id, created_by)
        REFERENCES train_data.batch_items (id, created_by) ON DELETE SET NULL (batch_item_id),
    CONSTRAINT generation_logs_status_valid CHECK (status IN ('success', 'failed', 'rate_limited', 'timeout', 'discarded')),
    CONSTRAINT generation_logs_tokens_nonnegative CHECK (input_tokens >= 0 AND output_tokens >= 0),
    CONSTRAINT generation_logs_tokens_within_input
        CHECK (cache_read_tokens >= 0 AND cache_write_tokens >= 0
               AND cache_read_tokens::bigint + cache_write_tokens <= input_tokens),
    CONSTRAINT generation_logs_cost_nonnegative CHECK (cost_usd >= 0),
    CONSTRAINT generation_logs_duration_nonnegative CHECK (duration_ms >= 0),
    CONSTRAINT generation_logs_retry_attempt_nonnegative CHECK (retry_attempt >= 0),
    CONSTRAINT generation_logs_temperature_range CHECK (temperature BETWEEN 0 AND 1),
    CONSTRAINT generation_logs_max_tokens_positive CHECK (max_tokens >= 1)
);

CREATE TRIGGER generation_logs_owner
    BEFORE INSERT ON train_data.generation_logs
    FOR EACH ROW WHEN (NEW.created_by IS NULL)
    EXECUTE FUNCTION train_data.inherit_owner('conversations', 'conversation_id');

COMMENT ON TABLE train_data.generation_logs IS 'One row per model call: payloads, tokens, cost, duration, outcome';
COMMENT ON COLUMN train_data.generation_logs.id IS 'Log row id, time-ordered (uuid_v7()) since 1.2';
COMMENT ON COLUMN train_data.generation_logs.conversation_id IS 'Conversation the call produced; NULL for a failed call';
COMMENT ON COLUMN train_data.generation_logs.batch_item_id IS 'Batch item the call was made for';
COMMENT ON COLUMN train_data.generation_logs.run_id IS 'Batch job id of the call';
COMMENT ON COLUMN train_data.generation_logs.template_id IS 'Template of the prompt (no foreign key)';
COMMENT ON COLUMN train_data.generation_logs.request_payload IS 'Request body sent to the model';
COMMENT ON COLUMN train_data.generation_logs.response_payload IS 'Response of the model, for a successful call';
COMMENT ON COLUMN train_data.generation_logs.parameters IS 'Generation parameters of the item';
COMMENT ON COLUMN train_data.generation_logs.model_used IS 'Model of the request';
COMMENT ON COLUMN train_data.generation_logs.temperature IS 'Temperature of the request, 0-1';
COMMENT ON COLUMN train_data.generation_logs.max_tokens IS 'max_tokens of the request';
COMMENT ON COLUMN train_data.generation_logs.status IS 'success, failed, rate_limited, timeout, or discarded (an answer the queue refused: the item claimed again or cancelled meanwhile)';
COMMENT ON COLUMN train_data.generation_logs.retry_attempt IS 'The attempt of the call as its claim returned it (the lease token), minus 1; rows written before 1.2 count the attempts only (a release, new in 1.2, does not count one)';
COMMENT ON COLUMN train_data.generation_logs.input_tokens IS 'Input tokens of the call, as the model reported them: prompt-cache reads and writes included (Anthropic reports them apart)';
COMMENT ON COLUMN train_data.generation_logs.output_tokens IS 'Output tokens the model reported';
COMMENT ON COLUMN train_data.generation_logs.cost_usd IS 'Cost of the call in USD: its tokens at model_price(answered, asked), the prompt cache''s at its prices; NULL for a model with no known price or a response without usage';
COMMENT ON COLUMN train_data.generation_logs.duration_ms IS 'Duration of the call in milliseconds, as the worker reported it';
COMMENT ON COLUMN train_data.generation_logs.error_message IS 'Error message of a failed call';
COMMENT ON COLUMN train_data.generation_logs.error_code IS 'Error code of a failed call, as the worker gave it';
COMMENT ON COLUMN train_data.generation_logs.created_at IS 'When the call was logged';
COMMENT ON COLUMN train_data.generation_logs.created_by IS 'Owner: the batch owner';
COMMENT ON COLUMN train_data.generation_logs.cache_read_tokens IS 'Of the input tokens, those read from the provider''s prompt cache';
COMMENT ON COLUMN train_data.generation_logs.cache_write_tokens IS 'Of the input tokens, those written to the provider''s prompt cache (Anthropic)';

CREATE INDEX generation_logs_conversation_idx ON train_data.generation_logs (conversation_id)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX generation_logs_batch_item_idx ON train_data.generation_logs (batch_item_id)
    WHERE batch_item_id IS NOT NULL;
CREATE INDEX generation_logs_run_idx ON train_data.generation_logs (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX generation_logs_created_by_idx ON train_data.generation_logs (created_by, created_at DESC);

-- The payloads are a few kilobytes of JSON, compressed once a row passes
-- 2 kB: with lz4 where the server was built with it (a log row costs a
-- third of the time pglz takes), else with the default.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_settings s
               WHERE s.name OPERATOR(pg_catalog.=) 'default_toast_compression'
                 AND 'lz4' OPERATOR(pg_catalog.=) ANY (s.enumvals)) THEN
        ALTER TABLE train_data.generation_logs ALTER COLUMN request_payload SET COMPRESSION lz4,
                                               ALTER COLUMN response_payload SET COMPRESSION lz4;
    END IF;
END
$$;
