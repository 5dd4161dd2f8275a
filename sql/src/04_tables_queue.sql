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
    created_by               uuid NOT NULL DEFAULT train_data.current_user_id(),
    created_at               timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at               timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT batch_jobs_name_not_blank CHECK (pg_catalog.btrim(name) <> ''),
    CONSTRAINT batch_jobs_priority_valid CHECK (priority IN ('high', 'normal', 'low')),
    CONSTRAINT batch_jobs_total_items_nonnegative CHECK (total_items >= 0),
    CONSTRAINT batch_jobs_counters_nonnegative CHECK (completed_items >= 0 AND failed_items >= 0
                                                      AND cancelled_items >= 0),
    CONSTRAINT valid_item_counts CHECK (completed_items + failed_items + cancelled_items <= total_items),
    CONSTRAINT batch_jobs_shared_parameters_is_object CHECK (pg_catalog.jsonb_typeof(shared_parameters) = 'object'),
    CONSTRAINT batch_jobs_concurrent_processing_range CHECK (concurrent_processing BETWEEN 1 AND 10),
    CONSTRAINT batch_jobs_error_handling_valid CHECK (error_handling IN ('continue', 'stop'))
);

CREATE INDEX batch_jobs_created_by_idx ON train_data.batch_jobs (created_by, created_at DESC);
-- Jobs a worker may claim from, in claim order: priority, then age.
CREATE INDEX batch_jobs_claim_order_idx ON train_data.batch_jobs
    ((CASE priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END), created_at, id)
    WHERE status IN ('queued', 'processing');

CREATE TABLE train_data.batch_items (
    id               uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    batch_job_id     uuid NOT NULL REFERENCES train_data.batch_jobs (id) ON DELETE CASCADE,
    conversation_id  uuid REFERENCES train_data.conversations (id) ON DELETE SET NULL,
    template_id      uuid REFERENCES train_data.templates (id) ON DELETE RESTRICT,
    -- set for a regeneration: the conversation the result replaces
    parent_conversation_id uuid REFERENCES train_data.conversations (id) ON DELETE SET NULL,
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
    CONSTRAINT batch_items_position_unique UNIQUE (batch_job_id, position),
    CONSTRAINT batch_items_position_positive CHECK (position >= 1),
    CONSTRAINT batch_items_parameters_is_object CHECK (pg_catalog.jsonb_typeof(parameters) = 'object'),
    CONSTRAINT batch_items_progress_range CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT batch_items_attempts_range CHECK (attempts >= 0 AND max_attempts >= 1)
);

-- Claim path: the next queued item of a job by position.
CREATE INDEX batch_items_claim_idx ON train_data.batch_items (batch_job_id, position)
    WHERE status = 'queued';
-- In-flight items: the per-job concurrency cap and expired-lease reclaim.
CREATE INDEX batch_items_in_flight_idx ON train_data.batch_items (batch_job_id, lease_expires_at)
    WHERE status = 'processing';
CREATE INDEX batch_items_conversation_idx ON train_data.batch_items (conversation_id)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX batch_items_template_idx ON train_data.batch_items (template_id);
-- Deleting a conversation sets the parent_conversation_id of the batch
-- items that regenerate it to NULL (ON DELETE SET NULL): this index finds them.
CREATE INDEX batch_items_parent_conversation_idx ON train_data.batch_items (parent_conversation_id)
    WHERE parent_conversation_id IS NOT NULL;

-- Live counters of a job, spread over up to 16 rows ("shards") so that
-- workers finishing items at the same time do not queue on one hot row: each
-- backend writes the shard of its process id.  Progress sums at most 16 rows,
-- whatever the number of items.  in_flight counts claimed items; the rate
-- columns feed the time-remaining estimate: the smoothed interval between
-- final events seen by this shard, and the job's active clock (seconds
-- excluding pauses) at the last one.
CREATE TABLE train_data.batch_job_counters (
    batch_job_id     uuid NOT NULL REFERENCES train_data.batch_jobs (id) ON DELETE CASCADE,
    shard            smallint NOT NULL,
    completed_items  integer NOT NULL DEFAULT 0,
    failed_items     integer NOT NULL DEFAULT 0,
    cancelled_items  integer NOT NULL DEFAULT 0,
    in_flight        integer NOT NULL DEFAULT 0,
    interval_ewma    double precision,
    last_active      double precision,
    PRIMARY KEY (batch_job_id, shard),
    CONSTRAINT batch_job_counters_shard_range CHECK (shard BETWEEN 0 AND 15)
);

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
    CONSTRAINT model_prices_model_id_not_blank CHECK (pg_catalog.btrim(model_id) <> ''),
    CONSTRAINT model_prices_nonnegative CHECK (input_usd_per_mtok >= 0 AND output_usd_per_mtok >= 0)
);

INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok, builtin) VALUES
    ('claude-opus',   15.0000, 75.0000, true),
    ('claude-sonnet',  3.0000, 15.0000, true),
    ('claude-haiku',   0.2500,  1.2500, true);

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

CREATE TRIGGER model_prices_protect_builtin
    BEFORE UPDATE OR DELETE ON train_data.model_prices
    FOR EACH ROW EXECUTE FUNCTION train_data.model_prices_protect_builtin();

CREATE TABLE train_data.generation_logs (
    id               uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    conversation_id  uuid REFERENCES train_data.conversations (id) ON DELETE CASCADE,
    batch_item_id    uuid REFERENCES train_data.batch_items (id) ON DELETE SET NULL,
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
    created_by       uuid NOT NULL DEFAULT train_data.current_user_id(),
    CONSTRAINT generation_logs_status_valid CHECK (status IN ('success', 'failed', 'rate_limited', 'timeout')),
    CONSTRAINT generation_logs_tokens_nonnegative CHECK (input_tokens >= 0 AND output_tokens >= 0),
    CONSTRAINT generation_logs_cost_nonnegative CHECK (cost_usd >= 0),
    CONSTRAINT generation_logs_duration_nonnegative CHECK (duration_ms >= 0),
    CONSTRAINT generation_logs_retry_attempt_nonnegative CHECK (retry_attempt >= 0),
    CONSTRAINT generation_logs_temperature_range CHECK (temperature BETWEEN 0 AND 1),
    CONSTRAINT generation_logs_max_tokens_positive CHECK (max_tokens >= 1)
);

CREATE INDEX generation_logs_conversation_idx ON train_data.generation_logs (conversation_id)
    WHERE conversation_id IS NOT NULL;
CREATE INDEX generation_logs_batch_item_idx ON train_data.generation_logs (batch_item_id)
    WHERE batch_item_id IS NOT NULL;
CREATE INDEX generation_logs_run_idx ON train_data.generation_logs (run_id) WHERE run_id IS NOT NULL;
CREATE INDEX generation_logs_created_by_idx ON train_data.generation_logs (created_by, created_at DESC);
