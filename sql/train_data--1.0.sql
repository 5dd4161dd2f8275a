-- train_data--1.0.sql — the data model of train_data: types, tables, indexes,
-- triggers, the identity function and row-level security.
--
-- Version 1.0 is frozen: this script never changes again.  Every change from
-- here on goes into an update script (train_data--1.0--1.1.sql, ...), so that
-- ALTER EXTENSION train_data UPDATE gives an installed database exactly what
-- a fresh CREATE EXTENSION gives (test/t/004_upgrade.pl checks it).
--
-- Every object lives in schema train_data (fixed in the control file) and every
-- reference below is schema-qualified, so nothing depends on search_path.
-- PL/pgSQL functions and SQL functions with a string body pin search_path to
-- pg_catalog, pg_temp.  SQL functions with an SQL-standard body (RETURN ... or
-- BEGIN ATOMIC ... END) are resolved when they are created, so search_path
-- at run time cannot change them; they carry no SET clause, which keeps them
-- cheap to call (and inlinable).

\echo Use "CREATE EXTENSION train_data" to load this file. \quit

--------------------------------------------------------------------------------
-- 1. Types
--------------------------------------------------------------------------------

CREATE TYPE train_data.conversation_status AS ENUM (
    'draft',            -- not generated yet
    'generating',       -- model call in flight
    'generated',        -- generated, quality at or above the template threshold
    'pending_review',   -- quality within 2 points below the threshold
    'approved',
    'rejected',
    'needs_revision',   -- quality more than 2 points below, or a reviewer asked
    'failed',           -- the model call or its validation failed
    'archived'          -- superseded by a regenerated version
);

CREATE TYPE train_data.tier_type AS ENUM ('template', 'scenario', 'edge_case');

CREATE TYPE train_data.batch_job_status AS ENUM (
    'queued', 'processing', 'paused', 'completed', 'failed', 'cancelled'
);

CREATE TYPE train_data.batch_item_status AS ENUM (
    'queued', 'processing', 'completed', 'failed', 'cancelled'
);

--------------------------------------------------------------------------------
-- 2. Identity and shared trigger functions
--------------------------------------------------------------------------------

-- The user the row-level security policies act for: train_data.user_id, else
-- request.jwt.claim.sub, else the "sub" of request.jwt.claims, else NULL.
CREATE FUNCTION train_data.current_user_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_current_user_id';

COMMENT ON FUNCTION train_data.current_user_id() IS
    'User id the row-level security policies act for: train_data.user_id, else request.jwt.claim.sub, else the sub claim of request.jwt.claims, else NULL';

-- BEFORE UPDATE trigger: sets each timestamptz column named in its arguments to now().
CREATE FUNCTION train_data.touch_timestamps() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'td_touch_timestamps';

-- Template rendering (native): see README "render_template".
CREATE FUNCTION train_data.render_template(template text, parameters jsonb,
                                           variables jsonb DEFAULT '[]',
                                           html_escape boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_render_template';

-- True for a storable template (well-formed variables, only safe
-- placeholders); otherwise an error saying what is wrong.
CREATE FUNCTION train_data.check_template(structure text, variables jsonb DEFAULT '[]')
    RETURNS boolean
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_check_template';

-- Model response parsing (native): see README "parse_generation_response".
CREATE FUNCTION train_data.parse_generation_response(response jsonb, parameters jsonb DEFAULT '{}')
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_parse_generation_response';

-- Quality scoring (native): Engine A of the original system; see README.
CREATE FUNCTION train_data.quality_metrics(turns jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_quality_metrics_sql';

CREATE FUNCTION train_data.quality_score(turns jsonb)
    RETURNS numeric
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_quality_score_sql';

-- The status a score earns under threshold t: at least t generated, up to 2
-- below pending_review, lower needs_revision.
CREATE FUNCTION train_data.quality_status(score numeric, threshold numeric DEFAULT 6.0)
    RETURNS train_data.conversation_status
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN score >= coalesce(threshold, 6.0) THEN 'generated'
                WHEN score >= coalesce(threshold, 6.0) - 2 THEN 'pending_review'
                ELSE 'needs_revision' END::train_data.conversation_status;

-- Number part of generated conversation ids.
CREATE SEQUENCE train_data.conversation_number_seq;

-- A readable conversation id: <tier prefix>_<persona slug>_<number>,
-- e.g. tpl_anxious_investor_000042.  Unique because the number is.
CREATE FUNCTION train_data.make_conversation_id(tier train_data.tier_type, persona text)
    RETURNS text
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prefix text := CASE tier
                       WHEN 'template' THEN 'tpl'
                       WHEN 'scenario' THEN 'scn'
                       WHEN 'edge_case' THEN 'edge'
                       ELSE 'conv'
                   END;
    slug   text := pg_catalog.btrim(
                       pg_catalog.left(
                           pg_catalog.regexp_replace(
                               pg_catalog.translate(pg_catalog.lower(coalesce(persona, '')),
                                                    'àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿ',
                                                    'aaaaaaaceeeeiiiinoooooouuuuyy'),
                               '[^a-z0-9]+', '_', 'g'),
                           40),
                       '_');
    num    text := pg_catalog.nextval('train_data.conversation_number_seq'::pg_catalog.regclass)::text;
BEGIN
    IF slug = '' THEN
        slug := 'conversation';
    END IF;
    IF pg_catalog.length(num) < 6 THEN
        num := pg_catalog.lpad(num, 6, '0');
    END IF;
    RETURN prefix || '_' || slug || '_' || num;
END
$$;

-- BEFORE INSERT trigger on conversations: fills conversation_id when not given.
CREATE FUNCTION train_data.conversations_default_id() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.conversation_id := train_data.make_conversation_id(NEW.tier, NEW.persona);
    RETURN NEW;
END
$$;

--------------------------------------------------------------------------------
-- 3. Templates, scenarios, edge cases (the prompt library)
--------------------------------------------------------------------------------

CREATE TABLE train_data.templates (
    id                   uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name                 text NOT NULL,
    description          text,
    category             text NOT NULL,
    tier                 train_data.tier_type NOT NULL DEFAULT 'template',
    structure            text NOT NULL,
    variables            jsonb NOT NULL DEFAULT '[]',
    tone                 text DEFAULT 'professional',
    complexity_baseline  integer DEFAULT 5,
    style_notes          text,
    example_conversation text,
    quality_threshold    numeric(3,1) NOT NULL DEFAULT 6.0,
    required_elements    text[] NOT NULL DEFAULT '{}',
    applicable_personas  text[] NOT NULL DEFAULT '{}',
    applicable_emotions  text[] NOT NULL DEFAULT '{}',
    usage_count          integer NOT NULL DEFAULT 0,
    rating               numeric(3,2) NOT NULL DEFAULT 0.0,
    version              integer NOT NULL DEFAULT 1,
    is_active            boolean NOT NULL DEFAULT true,
    created_by           uuid DEFAULT train_data.current_user_id(),
    created_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_modified        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT template_name_unique UNIQUE (name),
    CONSTRAINT template_name_length CHECK (pg_catalog.char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT template_category_length CHECK (pg_catalog.char_length(category) BETWEEN 1 AND 100),
    CONSTRAINT template_structure_length CHECK (pg_catalog.char_length(structure) BETWEEN 10 AND 10000),
    CONSTRAINT template_variables_is_array CHECK (pg_catalog.jsonb_typeof(variables) = 'array'),
    -- checked after template_variables_is_array (CHECKs run in name order)
    CONSTRAINT template_variables_valid CHECK (train_data.check_template(structure, variables)),
    CONSTRAINT template_name_not_blank CHECK (pg_catalog.btrim(name) <> ''),
    CONSTRAINT template_tone_length CHECK (pg_catalog.char_length(tone) <= 50),
    CONSTRAINT template_complexity_range CHECK (complexity_baseline BETWEEN 1 AND 10),
    CONSTRAINT template_quality_threshold_range CHECK (quality_threshold BETWEEN 0 AND 10),
    CONSTRAINT template_usage_count_nonnegative CHECK (usage_count >= 0),
    CONSTRAINT template_rating_range CHECK (rating BETWEEN 0 AND 5),
    CONSTRAINT template_version_positive CHECK (version >= 1)
);

CREATE INDEX templates_category_idx ON train_data.templates (category);
CREATE INDEX templates_tier_active_idx ON train_data.templates (tier) WHERE is_active;
CREATE INDEX templates_created_by_idx ON train_data.templates (created_by);
CREATE INDEX templates_usage_count_idx ON train_data.templates (usage_count DESC);

CREATE TABLE train_data.scenarios (
    id                   uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name                 text NOT NULL,
    description          text,
    parent_template_id   uuid NOT NULL REFERENCES train_data.templates (id) ON DELETE RESTRICT,
    parent_template_name text NOT NULL,
    context              text NOT NULL,
    parameter_values     jsonb NOT NULL DEFAULT '{}',
    variation_count      integer NOT NULL DEFAULT 0,
    status               text NOT NULL DEFAULT 'draft',
    quality_score        numeric(3,1) NOT NULL DEFAULT 0.0,
    topic                text NOT NULL,
    persona              text NOT NULL,
    emotional_arc        text NOT NULL,
    generation_status    text NOT NULL DEFAULT 'not_generated',
    conversation_id      uuid,
    error_message        text,
    created_by           uuid DEFAULT train_data.current_user_id(),
    created_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT scenario_name_length CHECK (pg_catalog.char_length(name) BETWEEN 1 AND 200),
    CONSTRAINT scenario_name_not_blank CHECK (pg_catalog.btrim(name) <> ''),
    CONSTRAINT scenario_context_not_blank CHECK (pg_catalog.btrim(context) <> ''),
    CONSTRAINT scenario_context_length CHECK (pg_catalog.char_length(context) BETWEEN 1 AND 5000),
    CONSTRAINT scenario_parameter_values_is_object CHECK (pg_catalog.jsonb_typeof(parameter_values) = 'object'),
    CONSTRAINT scenario_variation_count_nonnegative CHECK (variation_count >= 0),
    CONSTRAINT scenario_status_valid CHECK (status IN ('draft', 'active', 'archived')),
    CONSTRAINT scenario_quality_score_range CHECK (quality_score BETWEEN 0 AND 10),
    CONSTRAINT scenario_topic_length CHECK (pg_catalog.char_length(topic) BETWEEN 1 AND 100),
    CONSTRAINT scenario_persona_length CHECK (pg_catalog.char_length(persona) BETWEEN 1 AND 100),
    CONSTRAINT scenario_emotional_arc_length CHECK (pg_catalog.char_length(emotional_arc) BETWEEN 1 AND 100),
    CONSTRAINT scenario_generation_status_valid CHECK (generation_status IN ('not_generated', 'generated', 'error'))
);

CREATE INDEX scenarios_parent_template_idx ON train_data.scenarios (parent_template_id, generation_status);
CREATE INDEX scenarios_created_by_idx ON train_data.scenarios (created_by);
CREATE INDEX scenarios_status_idx ON train_data.scenarios (status);

CREATE TABLE train_data.edge_cases (
    id                   uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    title                text NOT NULL,
    description          text NOT NULL,
    parent_scenario_id   uuid NOT NULL REFERENCES train_data.scenarios (id) ON DELETE RESTRICT,
    parent_scenario_name text NOT NULL,
    edge_case_type       text NOT NULL,
    complexity           integer NOT NULL DEFAULT 5,
    test_status          text NOT NULL DEFAULT 'not_tested',
    test_results         jsonb,
    created_by           uuid DEFAULT train_data.current_user_id(),
    created_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT edge_case_title_length CHECK (pg_catalog.char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT edge_case_title_not_blank CHECK (pg_catalog.btrim(title) <> ''),
    CONSTRAINT edge_case_description_length CHECK (pg_catalog.char_length(description) BETWEEN 1 AND 2000),
    CONSTRAINT edge_case_type_valid CHECK (edge_case_type IN ('error_condition', 'boundary_value',
                                                              'unusual_input', 'complex_combination',
                                                              'failure_scenario')),
    CONSTRAINT edge_case_complexity_range CHECK (complexity BETWEEN 1 AND 10),
    CONSTRAINT edge_case_test_status_valid CHECK (test_status IN ('not_tested', 'passed', 'failed')),
    CONSTRAINT edge_case_test_results_is_object CHECK (test_results IS NULL OR pg_catalog.jsonb_typeof(test_results) = 'object')
);

CREATE INDEX edge_cases_parent_scenario_idx ON train_data.edge_cases (parent_scenario_id, test_status);
CREATE INDEX edge_cases_created_by_idx ON train_data.edge_cases (created_by);
CREATE INDEX edge_cases_type_idx ON train_data.edge_cases (edge_case_type);

-- Per-template statistics over a period (written by analytics jobs).
CREATE TABLE train_data.template_analytics (
    id                 uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    template_id        uuid NOT NULL REFERENCES train_data.templates (id) ON DELETE CASCADE,
    period_start       timestamptz NOT NULL,
    period_end         timestamptz NOT NULL,
    generation_count   integer NOT NULL DEFAULT 0,
    success_count      integer NOT NULL DEFAULT 0,
    failure_count      integer NOT NULL DEFAULT 0,
    avg_quality_score  numeric(3,1),
    min_quality_score  numeric(3,1),
    max_quality_score  numeric(3,1),
    approval_count     integer NOT NULL DEFAULT 0,
    rejection_count    integer NOT NULL DEFAULT 0,
    approval_rate      numeric(5,2),
    avg_duration_ms    integer,
    avg_cost_usd       numeric(12,6),
    total_cost_usd     numeric(12,6),
    calculated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT template_analytics_period_unique UNIQUE (template_id, period_start, period_end),
    CONSTRAINT template_analytics_period_order CHECK (period_end > period_start),
    CONSTRAINT template_analytics_counts_nonnegative CHECK (generation_count >= 0 AND success_count >= 0
                                                            AND failure_count >= 0 AND approval_count >= 0
                                                            AND rejection_count >= 0),
    CONSTRAINT template_analytics_quality_range CHECK (avg_quality_score BETWEEN 0 AND 10
                                                       AND min_quality_score BETWEEN 0 AND 10
                                                       AND max_quality_score BETWEEN 0 AND 10),
    CONSTRAINT template_analytics_approval_rate_range CHECK (approval_rate BETWEEN 0 AND 100)
);

CREATE INDEX template_analytics_calculated_at_idx ON train_data.template_analytics (calculated_at DESC);

--------------------------------------------------------------------------------
-- 4. Conversations and turns
--------------------------------------------------------------------------------

CREATE TABLE train_data.conversations (
    id                     uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    conversation_id        text NOT NULL,
    document_id            uuid,
    chunk_id               uuid,
    title                  text NOT NULL,
    persona                text NOT NULL,
    emotion                text NOT NULL,
    topic                  text,
    intent                 text,
    tone                   text,
    tier                   train_data.tier_type NOT NULL,
    category               text[] NOT NULL DEFAULT '{}',
    status                 train_data.conversation_status NOT NULL DEFAULT 'draft',
    quality_score          numeric(3,1),
    quality_metrics        jsonb,
    turn_count             integer NOT NULL DEFAULT 0,
    total_tokens           integer NOT NULL DEFAULT 0,
    estimated_cost_usd     numeric(12,6),
    actual_cost_usd        numeric(12,6),
    generation_duration_ms integer,
    template_id            uuid,
    approved_by            uuid,
    approved_at            timestamptz,
    reviewer_notes         text,
    review_history         jsonb NOT NULL DEFAULT '[]',
    parent_id              uuid,
    parent_type            text,
    parameters             jsonb NOT NULL DEFAULT '{}',
    error_message          text,
    created_at             timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at             timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by             uuid NOT NULL DEFAULT train_data.current_user_id(),
    CONSTRAINT conversations_conversation_id_unique UNIQUE (conversation_id),
    CONSTRAINT valid_quality_score CHECK (quality_score IS NULL OR quality_score BETWEEN 0 AND 10),
    CONSTRAINT conversations_quality_metrics_is_object CHECK (quality_metrics IS NULL OR pg_catalog.jsonb_typeof(quality_metrics) = 'object'),
    CONSTRAINT conversations_turn_count_nonnegative CHECK (turn_count >= 0),
    CONSTRAINT conversations_total_tokens_nonnegative CHECK (total_tokens >= 0),
    CONSTRAINT conversations_costs_nonnegative CHECK (estimated_cost_usd >= 0 AND actual_cost_usd >= 0),
    CONSTRAINT conversations_duration_nonnegative CHECK (generation_duration_ms >= 0),
    CONSTRAINT conversations_review_history_is_array CHECK (pg_catalog.jsonb_typeof(review_history) = 'array'),
    CONSTRAINT conversations_parameters_is_object CHECK (pg_catalog.jsonb_typeof(parameters) = 'object'),
    CONSTRAINT conversations_parent_type_valid CHECK (parent_type IN ('template', 'scenario', 'conversation')),
    CONSTRAINT conversations_parent_complete CHECK ((parent_id IS NULL) = (parent_type IS NULL)),
    CONSTRAINT conversations_approval_complete CHECK (approved_at IS NULL OR approved_by IS NOT NULL)
);

-- The policies filter on created_by OR approved_by: one index for each side.
CREATE INDEX conversations_created_by_idx ON train_data.conversations (created_by, created_at DESC);
CREATE INDEX conversations_approved_by_idx ON train_data.conversations (approved_by) WHERE approved_by IS NOT NULL;
-- Review queue: pending conversations, lowest quality and oldest first.
CREATE INDEX conversations_review_queue_idx ON train_data.conversations (quality_score, created_at)
    WHERE status = 'pending_review';
-- Export of approved conversations in a stable order.
CREATE INDEX conversations_approved_idx ON train_data.conversations (created_at, id)
    WHERE status = 'approved';
CREATE INDEX conversations_status_tier_idx ON train_data.conversations (status, tier);
CREATE INDEX conversations_parent_idx ON train_data.conversations (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX conversations_template_idx ON train_data.conversations (template_id) WHERE template_id IS NOT NULL;
CREATE INDEX conversations_category_idx ON train_data.conversations USING gin (category);

CREATE TRIGGER conversations_default_id
    BEFORE INSERT ON train_data.conversations
    FOR EACH ROW WHEN (NEW.conversation_id IS NULL)
    EXECUTE FUNCTION train_data.conversations_default_id();

CREATE TABLE train_data.conversation_turns (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    conversation_id uuid NOT NULL REFERENCES train_data.conversations (id) ON DELETE CASCADE,
    turn_number     integer NOT NULL,
    role            text NOT NULL,
    content         text NOT NULL,
    token_count     integer,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- also the index that reads a conversation's turns in order
    CONSTRAINT unique_conversation_turn UNIQUE (conversation_id, turn_number),
    CONSTRAINT conversation_turns_turn_number_positive CHECK (turn_number >= 1),
    CONSTRAINT conversation_turns_role_valid CHECK (role IN ('user', 'assistant')),
    CONSTRAINT conversation_turns_token_count_nonnegative CHECK (token_count >= 0)
);

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

--------------------------------------------------------------------------------
-- 7. Exports
--------------------------------------------------------------------------------

CREATE TABLE train_data.export_logs (
    id                 uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    export_id          uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
    user_id            uuid NOT NULL DEFAULT train_data.current_user_id(),
    "timestamp"        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    format             text NOT NULL,
    config             jsonb NOT NULL,
    conversation_count integer NOT NULL,
    file_size          bigint,
    status             text NOT NULL DEFAULT 'queued',
    file_url           text,
    expires_at         timestamptz,
    error_message      text,
    downloaded_count   integer NOT NULL DEFAULT 0,
    last_downloaded_at timestamptz,
    created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT export_logs_export_id_unique UNIQUE (export_id),
    CONSTRAINT export_logs_format_valid CHECK (format IN ('json', 'jsonl', 'csv', 'markdown')),
    CONSTRAINT export_logs_config_is_object CHECK (pg_catalog.jsonb_typeof(config) = 'object'),
    CONSTRAINT export_logs_status_valid CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'expired')),
    CONSTRAINT export_logs_counts_nonnegative CHECK (conversation_count >= 0 AND file_size >= 0
                                                     AND downloaded_count >= 0)
);

CREATE INDEX export_logs_user_idx ON train_data.export_logs (user_id, "timestamp" DESC);
CREATE INDEX export_logs_expires_idx ON train_data.export_logs (expires_at) WHERE status = 'completed';

--------------------------------------------------------------------------------
-- 8. Preferences and AI configuration
--------------------------------------------------------------------------------

CREATE TABLE train_data.user_preferences (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id     uuid NOT NULL DEFAULT train_data.current_user_id(),
    preferences jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT unique_user_preferences UNIQUE (user_id),
    CONSTRAINT user_preferences_is_object CHECK (pg_catalog.jsonb_typeof(preferences) = 'object')
);

CREATE TABLE train_data.ai_configurations (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id         uuid DEFAULT train_data.current_user_id(),
    organization_id uuid,
    config_name     text NOT NULL,
    configuration   jsonb NOT NULL,
    is_active       boolean NOT NULL DEFAULT true,
    priority        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by      uuid NOT NULL DEFAULT train_data.current_user_id(),
    CONSTRAINT user_or_org_only CHECK ((user_id IS NULL) <> (organization_id IS NULL)),
    CONSTRAINT ai_configurations_user_name_unique UNIQUE (user_id, config_name),
    CONSTRAINT ai_configurations_org_name_unique UNIQUE (organization_id, config_name),
    CONSTRAINT ai_configurations_name_not_blank CHECK (pg_catalog.btrim(config_name) <> ''),
    CONSTRAINT ai_configurations_configuration_is_object CHECK (pg_catalog.jsonb_typeof(configuration) = 'object')
);

-- The effective configuration: a user's active one with the highest priority, newest first.
CREATE INDEX ai_configurations_effective_idx ON train_data.ai_configurations
    (user_id, priority DESC, created_at DESC) WHERE is_active;

CREATE TABLE train_data.ai_configuration_audit (
    id         uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    config_id  uuid REFERENCES train_data.ai_configurations (id) ON DELETE SET NULL,
    -- owner of the configuration, kept so the trail stays visible after a delete
    user_id    uuid,
    action     text NOT NULL,
    old_value  jsonb,
    new_value  jsonb,
    changed_by uuid DEFAULT train_data.current_user_id(),
    changed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT ai_configuration_audit_action_valid CHECK (action IN ('INSERT', 'UPDATE', 'DELETE'))
);

CREATE INDEX ai_configuration_audit_config_idx ON train_data.ai_configuration_audit (config_id);
CREATE INDEX ai_configuration_audit_user_idx ON train_data.ai_configuration_audit (user_id, changed_at DESC);

-- Append-only trail of changes to preferences and configurations.
CREATE TABLE train_data.configuration_audit_log (
    id            uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id       uuid NOT NULL DEFAULT train_data.current_user_id(),
    config_type   text NOT NULL,
    config_id     uuid,
    changed_field text,
    old_value     jsonb,
    new_value     jsonb,
    change_reason text,
    client_ip     inet,
    user_agent    text,
    changed_by    uuid DEFAULT train_data.current_user_id(),
    changed_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT configuration_audit_log_config_type_valid CHECK (config_type IN ('user_preference', 'ai_config'))
);

CREATE INDEX configuration_audit_log_user_idx ON train_data.configuration_audit_log (user_id, changed_at DESC);

--------------------------------------------------------------------------------
-- 9. Timestamp triggers
--------------------------------------------------------------------------------

CREATE TRIGGER templates_touch BEFORE UPDATE ON train_data.templates
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('updated_at', 'last_modified');
CREATE TRIGGER scenarios_touch BEFORE UPDATE ON train_data.scenarios
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('updated_at');
CREATE TRIGGER edge_cases_touch BEFORE UPDATE ON train_data.edge_cases
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('updated_at');
CREATE TRIGGER conversations_touch BEFORE UPDATE ON train_data.conversations
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('updated_at');
CREATE TRIGGER batch_jobs_touch BEFORE UPDATE ON train_data.batch_jobs
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('updated_at');
CREATE TRIGGER batch_items_touch BEFORE UPDATE ON train_data.batch_items
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('updated_at');
CREATE TRIGGER model_prices_touch BEFORE UPDATE ON train_data.model_prices
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('updated_at');
CREATE TRIGGER export_logs_touch BEFORE UPDATE ON train_data.export_logs
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('updated_at');
CREATE TRIGGER user_preferences_touch BEFORE UPDATE ON train_data.user_preferences
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('updated_at');
CREATE TRIGGER ai_configurations_touch BEFORE UPDATE ON train_data.ai_configurations
    FOR EACH ROW EXECUTE FUNCTION train_data.touch_timestamps('updated_at');

--------------------------------------------------------------------------------
-- 10. Row-level security
--
-- Every policy compares with (SELECT train_data.current_user_id()), an
-- initplan evaluated once per statement.  A policy's USING clause also serves
-- as its WITH CHECK unless one is given.  Child tables follow their parent
-- through an EXISTS on the parent table, whose own policy then applies: the
-- rule "who may see a conversation" is written once.
--------------------------------------------------------------------------------

ALTER TABLE train_data.conversations ENABLE ROW LEVEL SECURITY;
-- Creator and approver see and change a conversation; only the creator adds one.
CREATE POLICY conversations_owner ON train_data.conversations
    USING (created_by = (SELECT train_data.current_user_id())
           OR approved_by = (SELECT train_data.current_user_id()));
CREATE POLICY conversations_insert ON train_data.conversations AS RESTRICTIVE FOR INSERT
    WITH CHECK (created_by = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.conversation_turns ENABLE ROW LEVEL SECURITY;
CREATE POLICY conversation_turns_parent ON train_data.conversation_turns
    USING (EXISTS (SELECT 1 FROM train_data.conversations c
                   WHERE c.id = conversation_turns.conversation_id));

ALTER TABLE train_data.batch_jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY batch_jobs_owner ON train_data.batch_jobs
    USING (created_by = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.batch_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY batch_items_parent ON train_data.batch_items
    USING (EXISTS (SELECT 1 FROM train_data.batch_jobs j
                   WHERE j.id = batch_items.batch_job_id));

ALTER TABLE train_data.batch_job_counters ENABLE ROW LEVEL SECURITY;
CREATE POLICY batch_job_counters_parent ON train_data.batch_job_counters
    USING (EXISTS (SELECT 1 FROM train_data.batch_jobs j
                   WHERE j.id = batch_job_counters.batch_job_id));

ALTER TABLE train_data.generation_logs ENABLE ROW LEVEL SECURITY;
-- A log is an audit record: seen by its owner and by whoever sees its
-- conversation; written, changed and deleted only by its owner, and only
-- about a conversation that owner can see.
CREATE POLICY generation_logs_read ON train_data.generation_logs FOR SELECT
    USING (created_by = (SELECT train_data.current_user_id())
           OR EXISTS (SELECT 1 FROM train_data.conversations c
                      WHERE c.id = generation_logs.conversation_id));
CREATE POLICY generation_logs_insert ON train_data.generation_logs FOR INSERT
    WITH CHECK (created_by = (SELECT train_data.current_user_id())
                AND (conversation_id IS NULL
                     OR EXISTS (SELECT 1 FROM train_data.conversations c
                                WHERE c.id = generation_logs.conversation_id)));
CREATE POLICY generation_logs_update ON train_data.generation_logs FOR UPDATE
    USING (created_by = (SELECT train_data.current_user_id()))
    WITH CHECK (created_by = (SELECT train_data.current_user_id())
                AND (conversation_id IS NULL
                     OR EXISTS (SELECT 1 FROM train_data.conversations c
                                WHERE c.id = generation_logs.conversation_id)));
CREATE POLICY generation_logs_delete ON train_data.generation_logs FOR DELETE
    USING (created_by = (SELECT train_data.current_user_id()));

-- The prompt library is shared: everyone reads, only the creator writes.
ALTER TABLE train_data.templates ENABLE ROW LEVEL SECURITY;
CREATE POLICY templates_read ON train_data.templates FOR SELECT USING (true);
CREATE POLICY templates_insert ON train_data.templates FOR INSERT
    WITH CHECK (created_by = (SELECT train_data.current_user_id()));
CREATE POLICY templates_update ON train_data.templates FOR UPDATE
    USING (created_by = (SELECT train_data.current_user_id()));
CREATE POLICY templates_delete ON train_data.templates FOR DELETE
    USING (created_by = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.scenarios ENABLE ROW LEVEL SECURITY;
CREATE POLICY scenarios_read ON train_data.scenarios FOR SELECT USING (true);
CREATE POLICY scenarios_insert ON train_data.scenarios FOR INSERT
    WITH CHECK (created_by = (SELECT train_data.current_user_id()));
CREATE POLICY scenarios_update ON train_data.scenarios FOR UPDATE
    USING (created_by = (SELECT train_data.current_user_id()));
CREATE POLICY scenarios_delete ON train_data.scenarios FOR DELETE
    USING (created_by = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.edge_cases ENABLE ROW LEVEL SECURITY;
CREATE POLICY edge_cases_read ON train_data.edge_cases FOR SELECT USING (true);
CREATE POLICY edge_cases_insert ON train_data.edge_cases FOR INSERT
    WITH CHECK (created_by = (SELECT train_data.current_user_id()));
CREATE POLICY edge_cases_update ON train_data.edge_cases FOR UPDATE
    USING (created_by = (SELECT train_data.current_user_id()));
CREATE POLICY edge_cases_delete ON train_data.edge_cases FOR DELETE
    USING (created_by = (SELECT train_data.current_user_id()));

-- Analytics are as public as the templates; only a template's creator writes them.
ALTER TABLE train_data.template_analytics ENABLE ROW LEVEL SECURITY;
CREATE POLICY template_analytics_read ON train_data.template_analytics FOR SELECT USING (true);
CREATE POLICY template_analytics_write ON train_data.template_analytics FOR ALL
    USING (EXISTS (SELECT 1 FROM train_data.templates t
                   WHERE t.id = template_analytics.template_id
                     AND t.created_by = (SELECT train_data.current_user_id())));

-- Prices are public; only the table owner changes them.
ALTER TABLE train_data.model_prices ENABLE ROW LEVEL SECURITY;
CREATE POLICY model_prices_read ON train_data.model_prices FOR SELECT USING (true);

ALTER TABLE train_data.export_logs ENABLE ROW LEVEL SECURITY;
CREATE POLICY export_logs_owner ON train_data.export_logs
    USING (user_id = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.user_preferences ENABLE ROW LEVEL SECURITY;
CREATE POLICY user_preferences_owner ON train_data.user_preferences
    USING (user_id = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.ai_configurations ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_configurations_owner ON train_data.ai_configurations
    USING (user_id = (SELECT train_data.current_user_id()))
    WITH CHECK (user_id = (SELECT train_data.current_user_id())
                AND created_by = (SELECT train_data.current_user_id()));

-- Audit trails are append-only: read and add your own, never change them.
ALTER TABLE train_data.ai_configuration_audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY ai_configuration_audit_read ON train_data.ai_configuration_audit FOR SELECT
    USING (user_id = (SELECT train_data.current_user_id()));
CREATE POLICY ai_configuration_audit_insert ON train_data.ai_configuration_audit FOR INSERT
    WITH CHECK (user_id = (SELECT train_data.current_user_id())
                AND changed_by = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.configuration_audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY configuration_audit_log_read ON train_data.configuration_audit_log FOR SELECT
    USING (user_id = (SELECT train_data.current_user_id()));
CREATE POLICY configuration_audit_log_insert ON train_data.configuration_audit_log FOR INSERT
    WITH CHECK (user_id = (SELECT train_data.current_user_id())
                AND changed_by = (SELECT train_data.current_user_id()));

--------------------------------------------------------------------------------
-- 11. pg_dump: user rows of every table, and the sequence, are user data
--------------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('train_data.templates', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.scenarios', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.edge_cases', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.template_analytics', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.conversations', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.conversation_turns', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.batch_jobs', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.batch_items', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.batch_job_counters', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.model_prices', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('train_data.generation_logs', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.export_logs', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.user_preferences', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.ai_configurations', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.ai_configuration_audit', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.configuration_audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.conversation_number_seq', '');

--------------------------------------------------------------------------------
-- 12. Descriptions
--------------------------------------------------------------------------------

COMMENT ON TYPE train_data.conversation_status IS 'Life cycle of a generated conversation';
COMMENT ON TYPE train_data.tier_type IS 'Tier of a prompt: template, scenario or edge case';
COMMENT ON TYPE train_data.batch_job_status IS 'State of a batch job';
COMMENT ON TYPE train_data.batch_item_status IS 'State of one work item of a batch job';
COMMENT ON TABLE train_data.templates IS 'Prompt templates with typed {{variables}}; readable by all, written by their creator';
COMMENT ON TABLE train_data.scenarios IS 'Scenarios under a template';
COMMENT ON TABLE train_data.edge_cases IS 'Edge cases under a scenario';
COMMENT ON TABLE train_data.template_analytics IS 'Per-template statistics over a period';
COMMENT ON TABLE train_data.conversations IS 'Generated training conversations, owned by created_by, shared with approved_by';
COMMENT ON TABLE train_data.conversation_turns IS 'Turns of a conversation, numbered from 1 without gaps';
COMMENT ON TABLE train_data.batch_jobs IS 'Batches of generation work, owned by created_by';
COMMENT ON TABLE train_data.batch_job_counters IS 'Live per-job counters, sharded so concurrent workers never wait on one row';
COMMENT ON TABLE train_data.batch_items IS 'Work items of a batch job: the queue workers claim from';
COMMENT ON TABLE train_data.model_prices IS 'USD per million input and output tokens, by model id or model family';
COMMENT ON TABLE train_data.generation_logs IS 'One row per model call: payloads, tokens, cost, duration, outcome';
COMMENT ON TABLE train_data.export_logs IS 'One row per export made through the export functions';
COMMENT ON TABLE train_data.user_preferences IS 'Per-user interface and workflow preferences (one row per user)';
COMMENT ON TABLE train_data.ai_configurations IS 'Named model configurations of a user or an organization';
COMMENT ON TABLE train_data.ai_configuration_audit IS 'Append-only trail of changes to ai_configurations';
COMMENT ON TABLE train_data.configuration_audit_log IS 'Append-only trail of changes to preferences and configurations';
COMMENT ON COLUMN train_data.batch_jobs.successful_items IS 'Kept for compatibility with the original system; always equals completed_items';

--------------------------------------------------------------------------------
-- 13. The prompt library: resolution, preview, usage, safe deletion
--------------------------------------------------------------------------------

-- The stored template, or an error when it does not exist (or is invisible).
CREATE FUNCTION train_data.template_by_id(template_id uuid)
    RETURNS train_data.templates
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t train_data.templates;
BEGIN
    IF template_by_id.template_id IS NULL THEN
        RAISE EXCEPTION 'template id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO t FROM train_data.templates WHERE id = template_by_id.template_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'template % does not exist', template_by_id.template_id
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN t;
END
$$;

-- Render a stored, active template; the result of render_template plus its id and name.
CREATE FUNCTION train_data.resolve_template(template_id uuid, parameters jsonb DEFAULT '{}',
                                            html_escape boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t train_data.templates := train_data.template_by_id(resolve_template.template_id);
BEGIN
    IF NOT t.is_active THEN
        RAISE EXCEPTION 'template "%" is not active', t.name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Set is_active to true to use it again.';
    END IF;
    RETURN train_data.render_template(t.structure, coalesce(resolve_template.parameters, '{}'),
                                      t.variables, resolve_template.html_escape)
           || pg_catalog.jsonb_build_object('template_id', t.id, 'template_name', t.name);
END
$$;

-- The same, HTML-escaped, for showing a prompt in a web page.
CREATE FUNCTION train_data.preview_template(template_id uuid, parameters jsonb DEFAULT '{}')
    RETURNS jsonb
    LANGUAGE sql STABLE
    RETURN train_data.resolve_template(template_id, parameters, true);

-- Count one more use of a template (yours; the batch engine counts every use).
CREATE FUNCTION train_data.increment_template_usage(template_id uuid)
    RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    UPDATE train_data.templates SET usage_count = usage_count + 1
    WHERE id = increment_template_usage.template_id
    RETURNING usage_count INTO n;
    IF NOT FOUND THEN
        PERFORM train_data.template_by_id(increment_template_usage.template_id);
        RAISE EXCEPTION 'template % can be changed only by its creator', increment_template_usage.template_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN n;
END
$$;

CREATE FUNCTION train_data.get_template_scenario_count(template_id uuid)
    RETURNS integer
    LANGUAGE sql STABLE
    RETURN (SELECT count(*)::integer FROM train_data.scenarios s
            WHERE s.parent_template_id = get_template_scenario_count.template_id);

CREATE FUNCTION train_data.get_scenario_edge_case_count(scenario_id uuid)
    RETURNS integer
    LANGUAGE sql STABLE
    RETURN (SELECT count(*)::integer FROM train_data.edge_cases e
            WHERE e.parent_scenario_id = get_scenario_edge_case_count.scenario_id);

-- Delete a template unless scenarios or batch items still use it.
CREATE FUNCTION train_data.safe_delete_template(template_id uuid)
    RETURNS TABLE (success boolean, message text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t train_data.templates := train_data.template_by_id(safe_delete_template.template_id);
    n integer := train_data.get_template_scenario_count(t.id);
BEGIN
    IF n > 0 THEN
        RETURN QUERY SELECT false, pg_catalog.format('cannot delete template "%s": %s dependent scenario%s exist%s',
                                                     t.name, n, CASE WHEN n = 1 THEN '' ELSE 's' END,
                                                     CASE WHEN n = 1 THEN 's' ELSE '' END);
        RETURN;
    END IF;
    BEGIN
        DELETE FROM train_data.templates WHERE id = t.id;
    EXCEPTION WHEN foreign_key_violation THEN
        RETURN QUERY SELECT false, pg_catalog.format('cannot delete template "%s": batch items still use it', t.name);
        RETURN;
    END;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, pg_catalog.format('template "%s" can be deleted only by its creator', t.name);
        RETURN;
    END IF;
    RETURN QUERY SELECT true, pg_catalog.format('template "%s" deleted', t.name);
END
$$;

-- Delete a scenario unless edge cases still use it.
CREATE FUNCTION train_data.safe_delete_scenario(scenario_id uuid)
    RETURNS TABLE (success boolean, message text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s train_data.scenarios;
    n integer;
BEGIN
    SELECT * INTO s FROM train_data.scenarios WHERE id = safe_delete_scenario.scenario_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'scenario % does not exist', safe_delete_scenario.scenario_id
            USING ERRCODE = 'undefined_object';
    END IF;
    n := train_data.get_scenario_edge_case_count(s.id);
    IF n > 0 THEN
        RETURN QUERY SELECT false, pg_catalog.format('cannot delete scenario "%s": %s dependent edge case%s exist%s',
                                                     s.name, n, CASE WHEN n = 1 THEN '' ELSE 's' END,
                                                     CASE WHEN n = 1 THEN 's' ELSE '' END);
        RETURN;
    END IF;
    DELETE FROM train_data.scenarios WHERE id = s.id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, pg_catalog.format('scenario "%s" can be deleted only by its creator', s.name);
        RETURN;
    END IF;
    RETURN QUERY SELECT true, pg_catalog.format('scenario "%s" deleted', s.name);
END
$$;

-- Scenarios: take the parent template's name; keep error_message only while
-- generation_status is 'error'.
CREATE FUNCTION train_data.scenarios_before_write() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.parent_template_id IS DISTINCT FROM OLD.parent_template_id THEN
        SELECT t.name INTO NEW.parent_template_name
        FROM train_data.templates t WHERE t.id = NEW.parent_template_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'template % does not exist', NEW.parent_template_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    IF NEW.generation_status <> 'error' THEN
        NEW.error_message := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER scenarios_before_write
    BEFORE INSERT OR UPDATE ON train_data.scenarios
    FOR EACH ROW EXECUTE FUNCTION train_data.scenarios_before_write();

-- Edge cases: take the parent scenario's name.
CREATE FUNCTION train_data.edge_cases_before_write() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.parent_scenario_id IS DISTINCT FROM OLD.parent_scenario_id THEN
        SELECT s.name INTO NEW.parent_scenario_name
        FROM train_data.scenarios s WHERE s.id = NEW.parent_scenario_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'scenario % does not exist', NEW.parent_scenario_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER edge_cases_before_write
    BEFORE INSERT OR UPDATE ON train_data.edge_cases
    FOR EACH ROW EXECUTE FUNCTION train_data.edge_cases_before_write();

-- Record a scenario's generation outcome (the rule above clears stale errors).
CREATE FUNCTION train_data.update_scenario_generation_status(scenario_id uuid, status text,
                                                             conversation_id uuid DEFAULT NULL,
                                                             error_message text DEFAULT NULL)
    RETURNS train_data.scenarios
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s train_data.scenarios;
BEGIN
    UPDATE train_data.scenarios
    SET generation_status = update_scenario_generation_status.status,
        conversation_id = coalesce(update_scenario_generation_status.conversation_id, scenarios.conversation_id),
        error_message = update_scenario_generation_status.error_message
    WHERE id = update_scenario_generation_status.scenario_id
    RETURNING * INTO s;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM train_data.scenarios WHERE id = update_scenario_generation_status.scenario_id) THEN
            RAISE EXCEPTION 'scenario % can be changed only by its creator', update_scenario_generation_status.scenario_id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RAISE EXCEPTION 'scenario % does not exist', update_scenario_generation_status.scenario_id
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN s;
END
$$;

--------------------------------------------------------------------------------
-- 14. Model prices and cost estimates
--------------------------------------------------------------------------------

-- The price row for a model: the exact id, else its family (opus, sonnet,
-- haiku) by name; NULL when neither is known.
CREATE FUNCTION train_data.model_price(model text)
    RETURNS train_data.model_prices
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p train_data.model_prices;
BEGIN
    SELECT * INTO p FROM train_data.model_prices m WHERE m.model_id = model_price.model;
    IF NOT FOUND THEN
        SELECT * INTO p FROM train_data.model_prices m
        WHERE m.model_id = CASE WHEN lower(model_price.model) LIKE '%opus%' THEN 'claude-opus'
                                WHEN lower(model_price.model) LIKE '%sonnet%' THEN 'claude-sonnet'
                                WHEN lower(model_price.model) LIKE '%haiku%' THEN 'claude-haiku' END;
    END IF;
    RETURN p;
END
$$;

-- USD cost of a call: tokens times the price per million, 6 decimals; NULL
-- for a model with no known price.
CREATE FUNCTION train_data.model_cost(model text, input_tokens bigint, output_tokens bigint)
    RETURNS numeric
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p train_data.model_prices := train_data.model_price(model);
BEGIN
    IF input_tokens < 0 OR output_tokens < 0 THEN
        RAISE EXCEPTION 'token counts must not be negative: % input, % output', input_tokens, output_tokens
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p.model_id IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN round((input_tokens * p.input_usd_per_mtok + output_tokens * p.output_usd_per_mtok) / 1000000, 6);
END
$$;

-- The original batch estimator: tokens per conversation by tier at
-- 0.015 / 0.075 USD per 1K tokens, and 20 s per conversation at
-- min(concurrency, rate_limit / 60) conversations at a time.
CREATE FUNCTION train_data.estimate_batch_cost(tier train_data.tier_type, count integer,
                                               concurrency integer DEFAULT 3,
                                               rate_limit integer DEFAULT 50)
    RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t train_data.tier_type := coalesce(tier, 'scenario');
    input_tokens integer := CASE t WHEN 'template' THEN 2000 WHEN 'scenario' THEN 2500 ELSE 3000 END;
    output_tokens integer := CASE t WHEN 'template' THEN 3000 WHEN 'scenario' THEN 4000 ELSE 5000 END;
    input_cost numeric := input_tokens / 1000.0 * 0.015;
    output_cost numeric := output_tokens / 1000.0 * 0.075;
    seconds numeric;
    minutes integer;
BEGIN
    IF count IS NULL OR count < 0 THEN
        RAISE EXCEPTION 'conversation count must be zero or more, not %', coalesce(count::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF concurrency IS NULL OR concurrency NOT BETWEEN 1 AND 10 THEN
        RAISE EXCEPTION 'concurrency must be between 1 and 10, not %', coalesce(concurrency::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF rate_limit IS NULL OR rate_limit < 1 THEN
        RAISE EXCEPTION 'rate limit must be at least 1 request per minute, not %', coalesce(rate_limit::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- count / min(concurrency, rate_limit / 60) * 20, kept exact
    seconds := count * 20 * 60 / least(concurrency * 60, rate_limit)::numeric;
    minutes := ceil(seconds / 60);
    RETURN jsonb_build_object(
        'tier', t,
        'count', count,
        'input_tokens_per_conversation', input_tokens,
        'output_tokens_per_conversation', output_tokens,
        'total_input_tokens', input_tokens::bigint * count,
        'total_output_tokens', output_tokens::bigint * count,
        'cost_per_conversation', round(input_cost + output_cost, 2),
        'input_cost', round(input_cost * count, 2),
        'output_cost', round(output_cost * count, 2),
        'total_cost', round((input_cost + output_cost) * count, 2),
        'estimated_seconds', round(seconds),
        'estimated_minutes', minutes,
        'estimated_time', CASE WHEN minutes >= 60
                               THEN format('~%sh %sm', minutes / 60, minutes % 60)
                               ELSE format('~%s minutes', minutes) END);
END
$$;

--------------------------------------------------------------------------------
-- 15. AI configuration and user preferences
--------------------------------------------------------------------------------

-- Merge patch into base: objects member by member, anything else replaced.
CREATE FUNCTION train_data.jsonb_merge_deep(base jsonb, patch jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_jsonb_merge_deep';

-- Paths of the keys of doc that reference does not have (arrays are leaves;
-- members of the objects named in open_objects are free-form).
CREATE FUNCTION train_data.jsonb_unknown_keys(doc jsonb, reference jsonb, prefix text DEFAULT '',
                                              open_objects text[] DEFAULT '{}')
    RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT prefix || d.key
    FROM jsonb_each(CASE WHEN jsonb_typeof(doc) = 'object' THEN doc ELSE '{}' END) d
    WHERE jsonb_typeof(reference) = 'object' AND NOT reference ? d.key
    UNION ALL
    SELECT u.path
    FROM jsonb_each(CASE WHEN jsonb_typeof(doc) = 'object' THEN doc ELSE '{}' END) d,
         train_data.jsonb_unknown_keys(d.value, reference -> d.key, prefix || d.key || '.', open_objects) u(path)
    WHERE jsonb_typeof(d.value) = 'object' AND jsonb_typeof(reference -> d.key) = 'object'
      AND NOT (prefix || d.key) = ANY (open_objects)
$$;

-- Raise an error unless the number at path in doc lies in [low, high].
CREATE FUNCTION train_data.check_setting_range(kind text, doc jsonb, path text[], low numeric, high numeric)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := doc #> path;
    name text := array_to_string(path, '.');
BEGIN
    IF v IS NULL OR jsonb_typeof(v) <> 'number' THEN
        RAISE EXCEPTION '% setting "%" must be a number', kind, name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The value is %s.', coalesce(v::text, 'missing'));
    END IF;
    IF (low IS NOT NULL AND v::numeric < low) OR (high IS NOT NULL AND v::numeric > high) THEN
        RAISE EXCEPTION '% setting "%" is out of range', kind, name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN high IS NULL THEN format('The value is %s; it must be at least %s.', v, low)
                                WHEN low IS NULL THEN format('The value is %s; it must be at most %s.', v, high)
                                ELSE format('The value is %s; it must be between %s and %s.', v, low, high) END;
    END IF;
END
$$;

-- Raise an error unless the value at path in doc is one of the allowed strings.
CREATE FUNCTION train_data.check_setting_choice(kind text, doc jsonb, path text[], allowed text[])
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := doc #> path;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) <> 'string' OR NOT (v #>> '{}') = ANY (allowed) THEN
        RAISE EXCEPTION '% setting "%" must be one of: %', kind, array_to_string(path, '.'), array_to_string(allowed, ', ')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The value is %s.', coalesce(v::text, 'missing'));
    END IF;
END
$$;

-- Raise an error when doc has keys the defaults do not know.
CREATE FUNCTION train_data.check_setting_keys(kind text, doc jsonb, defaults jsonb, open_objects text[] DEFAULT '{}')
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    unknown text;
BEGIN
    IF jsonb_typeof(doc) <> 'object' THEN
        RAISE EXCEPTION '% must be a JSON object', kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg(u, ', ' ORDER BY u) INTO unknown
    FROM train_data.jsonb_unknown_keys(doc, defaults, '', open_objects) u;
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION '% has unknown settings: %', kind, unknown
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Compare with the default document.';
    END IF;
END
$$;

-- The configuration used when a user has none (original-system.md §2.12).
CREATE FUNCTION train_data.default_ai_config()
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN '{
        "model": "claude-sonnet-4-5-20250929",
        "temperature": 0.7,
        "maxTokens": 4096,
        "topP": 0.9,
        "rateLimiting": {"requestsPerMinute": 50, "concurrentRequests": 3, "burstAllowance": 10},
        "retryStrategy": {"maxRetries": 3, "baseDelay": 1000, "maxDelay": 16000},
        "costBudget": {"dailyBudget": 100, "weeklyBudget": 500, "monthlyBudget": 2000,
                       "alertThresholds": [0.5, 0.75, 0.9]},
        "timeouts": {"generationTimeout": 60000, "connectionTimeout": 10000, "totalRequestTimeout": 120000}
    }'::jsonb;

-- Validate a (partial) configuration; returns it merged over the defaults.
CREATE FUNCTION train_data.validate_ai_config(config jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k constant text := 'AI configuration';
    c jsonb;
    threshold jsonb;
    position bigint;
    name text;
BEGIN
    PERFORM train_data.check_setting_keys(k, coalesce(config, '{}'), train_data.default_ai_config());
    c := train_data.jsonb_merge_deep(train_data.default_ai_config(), coalesce(config, '{}'));
    IF jsonb_typeof(c -> 'model') <> 'string' OR (train_data.model_price(c ->> 'model')).model_id IS NULL THEN
        RAISE EXCEPTION '% setting "model" names an unknown model: %', k, c -> 'model'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use a Claude model id, or add the model''s price to train_data.model_prices.';
    END IF;
    PERFORM train_data.check_setting_range(k, c, '{temperature}', 0, 1);
    PERFORM train_data.check_setting_range(k, c, '{maxTokens}', 1, 4096);
    IF (c ->> 'maxTokens')::numeric <> trunc((c ->> 'maxTokens')::numeric) THEN
        RAISE EXCEPTION '% setting "maxTokens" must be a whole number', k
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The value is %s.', c -> 'maxTokens');
    END IF;
    PERFORM train_data.check_setting_range(k, c, '{topP}', 0, 1);
    PERFORM train_data.check_setting_range(k, c, '{rateLimiting,requestsPerMinute}', 1, NULL);
    PERFORM train_data.check_setting_range(k, c, '{rateLimiting,concurrentRequests}', 1, NULL);
    PERFORM train_data.check_setting_range(k, c, '{rateLimiting,burstAllowance}', 0, NULL);
    PERFORM train_data.check_setting_range(k, c, '{retryStrategy,maxRetries}', 0, 10);
    PERFORM train_data.check_setting_range(k, c, '{retryStrategy,baseDelay}', 0, NULL);
    PERFORM train_data.check_setting_range(k, c, '{retryStrategy,maxDelay}', (c #>> '{retryStrategy,baseDelay}')::numeric, NULL);
    PERFORM train_data.check_setting_range(k, c, '{costBudget,dailyBudget}', 0, NULL);
    PERFORM train_data.check_setting_range(k, c, '{costBudget,weeklyBudget}', (c #>> '{costBudget,dailyBudget}')::numeric, NULL);
    PERFORM train_data.check_setting_range(k, c, '{costBudget,monthlyBudget}', (c #>> '{costBudget,weeklyBudget}')::numeric, NULL);
    IF jsonb_typeof(c #> '{costBudget,alertThresholds}') <> 'array' THEN
        RAISE EXCEPTION '% setting "costBudget.alertThresholds" must be an array of numbers', k
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR threshold, position IN
        SELECT e.value, e.ordinality - 1 FROM jsonb_array_elements(c #> '{costBudget,alertThresholds}') WITH ORDINALITY e
    LOOP
        name := format('costBudget.alertThresholds[%s]', position);
        PERFORM train_data.check_setting_range(k, jsonb_build_object(name, threshold), ARRAY[name], 0, 1);
    END LOOP;
    PERFORM train_data.check_setting_range(k, c, '{timeouts,generationTimeout}', 0, NULL);
    PERFORM train_data.check_setting_range(k, c, '{timeouts,connectionTimeout}', 0, NULL);
    PERFORM train_data.check_setting_range(k, c, '{timeouts,totalRequestTimeout}', 0, NULL);
    RETURN c;
END
$$;

-- The configuration in force for a user: the active one with the highest
-- priority (newest on ties) merged over the defaults; the defaults when the
-- user has none, or when that user's configurations are not visible.
CREATE FUNCTION train_data.get_effective_ai_config(user_id uuid DEFAULT train_data.current_user_id())
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stored jsonb;
BEGIN
    SELECT a.configuration INTO stored FROM train_data.ai_configurations a
    WHERE a.user_id = get_effective_ai_config.user_id AND a.is_active
    ORDER BY a.priority DESC, a.created_at DESC, a.id
    LIMIT 1;
    RETURN train_data.jsonb_merge_deep(train_data.default_ai_config(), stored);
END
$$;

-- Every writer of ai_configurations and user_preferences goes through
-- validation (TG_ARGV[0] names the document).  Restores are the exception:
-- pg_dump scripts run with row_security = off and hold rows that were valid
-- when stored, possibly naming a model whose price row is restored later.
CREATE FUNCTION train_data.validate_settings_row() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF current_setting('row_security') <> 'off' THEN
        IF TG_ARGV[0] = 'ai_config' THEN
            PERFORM train_data.validate_ai_config(NEW.configuration);
        ELSE
            PERFORM train_data.validate_user_preferences(NEW.preferences);
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER ai_configurations_validate
    BEFORE INSERT OR UPDATE OF configuration ON train_data.ai_configurations
    FOR EACH ROW EXECUTE FUNCTION train_data.validate_settings_row('ai_config');

-- Audit trail of ai_configurations.  Changes made with no user id set
-- (administrative sessions, pg_restore) are not audited: they act for nobody.
CREATE FUNCTION train_data.ai_configurations_audit() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor uuid := train_data.current_user_id();
BEGIN
    IF actor IS NOT NULL THEN
        INSERT INTO train_data.ai_configuration_audit (config_id, user_id, action, old_value, new_value, changed_by)
        VALUES (CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.id END,
                CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END,
                TG_OP,
                CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END,
                CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END,
                actor);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER ai_configurations_audit
    AFTER INSERT OR UPDATE OR DELETE ON train_data.ai_configurations
    FOR EACH ROW EXECUTE FUNCTION train_data.ai_configurations_audit();

-- The preferences a user starts with (original-system.md §2.11).
CREATE FUNCTION train_data.default_user_preferences()
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN '{
        "theme": "system", "sidebarCollapsed": false, "tableDensity": "comfortable",
        "rowsPerPage": 25, "enableAnimations": true,
        "notifications": {"toast": true, "email": false, "inApp": true, "frequency": "immediate",
                          "categories": {"generationComplete": true, "approvalRequired": true,
                                         "errors": true, "systemAlerts": true}},
        "defaultFilters": {"tier": null, "status": null, "qualityRange": [0, 10], "autoApply": false},
        "exportPreferences": {"defaultFormat": "json", "includeMetadata": true, "includeQualityScores": true,
                              "includeTimestamps": true, "includeApprovalHistory": false,
                              "autoCompression": true, "autoCompressionThreshold": 1000},
        "keyboardShortcuts": {"enabled": true,
                              "customBindings": {"openSearch": "Ctrl+K", "generateAll": "Ctrl+G",
                                                 "export": "Ctrl+E", "approve": "A", "reject": "R",
                                                 "nextItem": "ArrowRight", "previousItem": "ArrowLeft"}},
        "qualityThresholds": {"autoApproval": 8.0, "flagging": 6.0, "minimumAcceptable": 4.0},
        "retryConfig": {"strategy": "exponential", "maxAttempts": 3, "baseDelayMs": 1000,
                        "maxDelayMs": 300000, "continueOnError": false}
    }'::jsonb;

-- Validate (partial) preferences; returns them merged over the defaults.
CREATE FUNCTION train_data.validate_user_preferences(preferences jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k constant text := 'user preference';
    p jsonb;
    range jsonb;
BEGIN
    PERFORM train_data.check_setting_keys('user preferences', coalesce(preferences, '{}'),
                                          train_data.default_user_preferences(),
                                          '{keyboardShortcuts.customBindings}');
    p := train_data.jsonb_merge_deep(train_data.default_user_preferences(), coalesce(preferences, '{}'));
    PERFORM train_data.check_setting_choice(k, p, '{theme}', '{light,dark,system}');
    PERFORM train_data.check_setting_choice(k, p, '{tableDensity}', '{compact,comfortable,spacious}');
    IF NOT (p -> 'rowsPerPage') <@ '[10, 25, 50, 100]'::jsonb OR jsonb_typeof(p -> 'rowsPerPage') <> 'number' THEN
        RAISE EXCEPTION '% setting "rowsPerPage" must be one of: 10, 25, 50, 100', k
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The value is %s.', p -> 'rowsPerPage');
    END IF;
    PERFORM train_data.check_setting_choice(k, p, '{exportPreferences,defaultFormat}', '{json,jsonl,csv,markdown}');
    PERFORM train_data.check_setting_range(k, p, '{exportPreferences,autoCompressionThreshold}', 1, 10000);
    PERFORM train_data.check_setting_range(k, p, '{qualityThresholds,minimumAcceptable}', 0, 10);
    PERFORM train_data.check_setting_range(k, p, '{qualityThresholds,flagging}',
                                           (p #>> '{qualityThresholds,minimumAcceptable}')::numeric, 10);
    PERFORM train_data.check_setting_range(k, p, '{qualityThresholds,autoApproval}',
                                           (p #>> '{qualityThresholds,flagging}')::numeric, 10);
    range := p #> '{defaultFilters,qualityRange}';
    IF jsonb_typeof(range) <> 'array' OR jsonb_array_length(range) <> 2 THEN
        RAISE EXCEPTION '% setting "defaultFilters.qualityRange" must be an array [min, max]', k
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The value is %s.', range);
    END IF;
    PERFORM train_data.check_setting_range(k, jsonb_build_object('defaultFilters.qualityRange[0]', range -> 0),
                                           '{defaultFilters.qualityRange[0]}', 0, 10);
    PERFORM train_data.check_setting_range(k, jsonb_build_object('defaultFilters.qualityRange[1]', range -> 1),
                                           '{defaultFilters.qualityRange[1]}', (range ->> 0)::numeric, 10);
    PERFORM train_data.check_setting_choice(k, p, '{retryConfig,strategy}', '{exponential,linear,fixed}');
    PERFORM train_data.check_setting_range(k, p, '{retryConfig,maxAttempts}', 1, 10);
    PERFORM train_data.check_setting_range(k, p, '{retryConfig,baseDelayMs}', 100, 10000);
    PERFORM train_data.check_setting_range(k, p, '{retryConfig,maxDelayMs}',
                                           greatest(1000, (p #>> '{retryConfig,baseDelayMs}')::numeric), 300000);
    RETURN p;
END
$$;

CREATE TRIGGER user_preferences_validate
    BEFORE INSERT OR UPDATE OF preferences ON train_data.user_preferences
    FOR EACH ROW EXECUTE FUNCTION train_data.validate_settings_row('user_preferences');

-- Changes to preferences are logged, one row per changed top-level setting.
CREATE FUNCTION train_data.user_preferences_audit() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor uuid := train_data.current_user_id();
BEGIN
    IF actor IS NOT NULL THEN
        INSERT INTO train_data.configuration_audit_log (user_id, config_type, config_id, changed_field,
                                                        old_value, new_value, changed_by)
        SELECT NEW.user_id, 'user_preference', NEW.id, k.key, OLD.preferences -> k.key, NEW.preferences -> k.key, actor
        FROM (SELECT jsonb_object_keys(OLD.preferences) UNION SELECT jsonb_object_keys(NEW.preferences)) AS k(key)
        WHERE (OLD.preferences -> k.key) IS DISTINCT FROM (NEW.preferences -> k.key);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER user_preferences_audit
    AFTER UPDATE OF preferences ON train_data.user_preferences
    FOR EACH ROW EXECUTE FUNCTION train_data.user_preferences_audit();

-- The current user's preferences merged over the defaults; the row is
-- created with the defaults on first use.
CREATE FUNCTION train_data.get_user_preferences()
    RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    uid uuid := train_data.current_user_id();
    stored jsonb;
BEGIN
    IF uid IS NULL THEN
        RAISE EXCEPTION 'no user id is set'
            USING ERRCODE = 'invalid_authorization_specification',
                  HINT = 'Set train_data.user_id (or sign in through PostgREST) first.';
    END IF;
    INSERT INTO train_data.user_preferences (user_id, preferences)
    VALUES (uid, train_data.default_user_preferences())
    ON CONFLICT (user_id) DO NOTHING;
    SELECT p.preferences INTO stored FROM train_data.user_preferences p WHERE p.user_id = uid;
    RETURN train_data.jsonb_merge_deep(train_data.default_user_preferences(), stored);
END
$$;

-- Merge changes into the current user's preferences; returns the result.
CREATE FUNCTION train_data.update_user_preferences(changes jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    merged jsonb := train_data.jsonb_merge_deep(train_data.get_user_preferences(), changes);
BEGIN
    PERFORM train_data.validate_user_preferences(merged);
    UPDATE train_data.user_preferences SET preferences = merged
    WHERE user_id = train_data.current_user_id();
    RETURN merged;
END
$$;

--------------------------------------------------------------------------------
-- 16. The request a worker sends to the model
--------------------------------------------------------------------------------

-- An Anthropic Messages API request body for a stored template: the
-- rendered prompt as the user message, model / max_tokens / temperature from
-- config (default: the current user's effective configuration).  top_p is
-- left out: current Claude models refuse temperature and top_p together.
CREATE FUNCTION train_data.build_generation_request(template_id uuid, parameters jsonb DEFAULT '{}',
                                                    system text DEFAULT NULL, config jsonb DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb := train_data.resolve_template(build_generation_request.template_id, parameters);
    c jsonb := CASE WHEN config IS NULL THEN train_data.get_effective_ai_config()
                    ELSE train_data.validate_ai_config(config) END;
BEGIN
    IF NOT (r ->> 'success')::boolean THEN
        RAISE EXCEPTION 'parameters are not valid for template "%"', r ->> 'template_name'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = (SELECT string_agg(e ->> 'message', '; ') FROM jsonb_array_elements(r -> 'errors') e) || '.';
    END IF;
    RETURN jsonb_strip_nulls(jsonb_build_object(
        'model', c -> 'model',
        'max_tokens', c -> 'maxTokens',
        'temperature', c -> 'temperature',
        'system', system,
        'messages', jsonb_build_array(jsonb_build_object('role', 'user', 'content', r -> 'resolved'))));
END
$$;

--------------------------------------------------------------------------------
-- 17. The batch engine: creation, claims, completion, failure, control
--
-- Workers act across users through the SECURITY DEFINER functions claim_,
-- heartbeat_, complete_ and fail_batch_item (EXECUTE revoked from PUBLIC;
-- grant it to a worker role).  Rows they create belong to the batch owner.
-- Users create and control their own batches with SECURITY INVOKER
-- functions, so row-level security applies.
--
-- Locking rules:
--   * a claim takes a transaction-level advisory lock per job, so the count of
--     items in flight it reads cannot be overtaken by a concurrent claim: the
--     concurrency cap holds exactly;
--   * claimed rows are taken with FOR UPDATE SKIP LOCKED, completions and
--     failures lock their item row first, so a cancel and a completion of
--     the same item serialise on that row;
--   * live counters go to the claiming / finishing backend's own shard of
--     batch_job_counters: concurrent workers write different rows;
--   * the job row is locked only to finish the job, and only once no item is
--     queued, so the last finisher (the one that sees every other commit)
--     closes it.
--------------------------------------------------------------------------------

-- Seconds a job has been active: its clock stops while it is paused and
-- when it ends (native; progress reads use the same core).
CREATE FUNCTION train_data.job_active_seconds(started_at timestamptz, paused_time interval,
                                              paused_at timestamptz, completed_at timestamptz,
                                              at timestamptz)
    RETURNS double precision
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_job_active_seconds';

-- The smoothed interval of a counter shard after a final event (native).
CREATE FUNCTION train_data.eta_observe(interval_ewma double precision, last_active double precision,
                                       active_now double precision)
    RETURNS double precision
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_eta_observe_sql';

-- Add to the live counters of a job, in this backend's shard.
CREATE FUNCTION train_data.bump_counters(job_id uuid, completed integer, failed integer, cancelled integer,
                                         in_flight integer, final_event boolean DEFAULT false)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    active double precision;
BEGIN
    IF final_event THEN
        SELECT train_data.job_active_seconds(j.started_at, j.paused_time, j.paused_at, NULL, now())
        INTO active FROM train_data.batch_jobs j WHERE j.id = bump_counters.job_id;
    END IF;
    INSERT INTO train_data.batch_job_counters AS c
        (batch_job_id, shard, completed_items, failed_items, cancelled_items, in_flight, interval_ewma, last_active)
    VALUES (bump_counters.job_id, pg_backend_pid() % 16, bump_counters.completed, bump_counters.failed,
            bump_counters.cancelled, bump_counters.in_flight,
            CASE WHEN final_event THEN train_data.eta_observe(NULL, NULL, active) END,
            CASE WHEN final_event THEN active END)
    ON CONFLICT (batch_job_id, shard) DO UPDATE
    SET completed_items = c.completed_items + excluded.completed_items,
        failed_items = c.failed_items + excluded.failed_items,
        cancelled_items = c.cancelled_items + excluded.cancelled_items,
        in_flight = c.in_flight + excluded.in_flight,
        interval_ewma = CASE WHEN final_event THEN train_data.eta_observe(c.interval_ewma, c.last_active, active)
                             ELSE c.interval_ewma END,
        last_active = CASE WHEN final_event THEN active ELSE c.last_active END;
END
$$;

-- Copy the live counters into the job row (done when the job ends).
CREATE FUNCTION train_data.rollup_counters(job_id uuid)
    RETURNS void
    LANGUAGE sql
BEGIN ATOMIC
    UPDATE train_data.batch_jobs j
    SET completed_items = s.completed, failed_items = s.failed, cancelled_items = s.cancelled
    FROM (SELECT coalesce(sum(c.completed_items), 0)::integer AS completed,
                 coalesce(sum(c.failed_items), 0)::integer AS failed,
                 coalesce(sum(c.cancelled_items), 0)::integer AS cancelled
          FROM train_data.batch_job_counters c WHERE c.batch_job_id = rollup_counters.job_id) s
    WHERE j.id = rollup_counters.job_id;
END;

-- Tell listeners about a change (channel train_data_progress).
CREATE FUNCTION train_data.notify_progress(job_id uuid, item_id uuid, event text)
    RETURNS void
    LANGUAGE sql
    RETURN pg_notify('train_data_progress',
                     json_build_object('batch_job_id', job_id, 'item_id', item_id, 'event', event)::text);

-- Close the job when no item is left to do: completed, or failed when every
-- item failed.  Cheap when items remain queued (one index probe).
CREATE FUNCTION train_data.finish_job_if_done(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st train_data.batch_job_status;
BEGIN
    IF EXISTS (SELECT 1 FROM train_data.batch_items i
               WHERE i.batch_job_id = finish_job_if_done.job_id AND i.status = 'queued') THEN
        RETURN;
    END IF;
    SELECT j.status INTO st FROM train_data.batch_jobs j WHERE j.id = finish_job_if_done.job_id FOR UPDATE;
    IF st NOT IN ('queued', 'processing', 'paused') THEN
        PERFORM train_data.rollup_counters(finish_job_if_done.job_id);   -- a late finisher of a closed job
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM train_data.batch_items i
               WHERE i.batch_job_id = finish_job_if_done.job_id AND i.status IN ('queued', 'processing')) THEN
        RETURN;
    END IF;
    PERFORM train_data.rollup_counters(finish_job_if_done.job_id);
    UPDATE train_data.batch_jobs j
    SET status = CASE WHEN j.completed_items = 0 AND j.failed_items > 0 THEN 'failed'
                      ELSE 'completed' END::train_data.batch_job_status,
        completed_at = now(), estimated_time_remaining = interval '0'
    WHERE j.id = finish_job_if_done.job_id;
    PERFORM train_data.notify_progress(finish_job_if_done.job_id, NULL, 'job_finished');
END
$$;

-- Check the arguments every batch shares.
CREATE FUNCTION train_data.check_batch_options(name text, shared_parameters jsonb, concurrent_processing integer,
                                               error_handling text, priority text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
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
        RAISE EXCEPTION 'error_handling of batch "%" must be continue or stop, not %', name, coalesce(error_handling, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF priority IS NULL OR priority NOT IN ('high', 'normal', 'low') THEN
        RAISE EXCEPTION 'priority of batch "%" must be high, normal or low, not %', name, coalesce(priority, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

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
AS $$
DECLARE
    bad record;
    job uuid;
BEGIN
    PERFORM train_data.check_batch_options(name, shared_parameters, concurrent_processing, error_handling, priority);
    IF items IS NULL OR jsonb_typeof(items) <> 'array' THEN
        RAISE EXCEPTION 'items of batch "%" must be a JSON array', name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_array_length(items) = 0 THEN
        RAISE EXCEPTION 'batch "%" has no items', name USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- the first invalid item, if any
    SELECT x.ord, x.problem, x.detail INTO bad
    FROM (SELECT e.ord,
                 CASE WHEN jsonb_typeof(e.value) <> 'object' THEN 'is not a JSON object'
                      WHEN NOT (e.value ->> 'template_id') ~* '^\{?[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}\}?$'
                          THEN format('has no valid template_id: %s', coalesce(e.value -> 'template_id', 'null'))
                      WHEN t.id IS NULL THEN format('names template %s, which does not exist', e.value ->> 'template_id')
                      WHEN NOT t.is_active THEN format('names template "%s", which is not active', t.name)
                      WHEN e.value ? 'tier' AND NOT (e.value ->> 'tier') = ANY (enum_range(NULL::train_data.tier_type)::text[])
                          THEN format('has tier %s; expected template, scenario or edge_case', e.value -> 'tier')
                      WHEN e.value ? 'parameters' AND jsonb_typeof(e.value -> 'parameters') <> 'object'
                          THEN 'has parameters that are not a JSON object'
                      WHEN NOT (r.result ->> 'success')::boolean
                          THEN format('is not valid for template "%s"', t.name)
                 END AS problem,
                 (SELECT string_agg(m ->> 'message', '; ') FROM jsonb_array_elements(r.result -> 'errors') m) AS detail
          FROM jsonb_array_elements(items) WITH ORDINALITY AS e(value, ord)
          LEFT JOIN train_data.templates t
                 ON t.id = CASE WHEN jsonb_typeof(e.value) = 'object'
                                 AND (e.value ->> 'template_id') ~* '^\{?[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}\}?$'
                                THEN (e.value ->> 'template_id')::uuid END
          CROSS JOIN LATERAL (
                SELECT CASE WHEN t.id IS NOT NULL AND jsonb_typeof(coalesce(e.value -> 'parameters', '{}')) = 'object'
                            THEN train_data.render_template(t.structure,
                                                            coalesce(e.value -> 'parameters', '{}') || shared_parameters,
                                                            t.variables) END AS result) r) x
    WHERE x.problem IS NOT NULL
    ORDER BY x.ord
    LIMIT 1;
    IF FOUND AND bad.detail IS NOT NULL THEN
        RAISE EXCEPTION 'item % of batch "%" %', bad.ord, name, bad.problem
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = upper(left(bad.detail, 1)) || substr(bad.detail, 2) || '.';
    ELSIF FOUND THEN
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

    -- items keep their parameters with the template's defaults applied
    INSERT INTO train_data.batch_items (batch_job_id, template_id, position, topic, tier, parameters)
    SELECT job, t.id, e.ord, coalesce(e.value ->> 'topic', p.params ->> 'topic'),
           coalesce((e.value ->> 'tier')::train_data.tier_type, t.tier), p.params
    FROM jsonb_array_elements(items) WITH ORDINALITY AS e(value, ord)
    JOIN train_data.templates t ON t.id = (e.value ->> 'template_id')::uuid
    CROSS JOIN LATERAL (SELECT train_data.render_template(t.structure,
                                                          coalesce(e.value -> 'parameters', '{}') || shared_parameters,
                                                          t.variables) -> 'parameters' AS params) p;
    RETURN job;
END
$$;

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
    IF template_ids IS NULL OR cardinality(template_ids) = 0 THEN
        RAISE EXCEPTION 'batch "%" names no templates', name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF parameter_sets IS NULL OR jsonb_typeof(parameter_sets) <> 'array' OR jsonb_array_length(parameter_sets) = 0 THEN
        RAISE EXCEPTION 'parameter sets of batch "%" must be a non-empty JSON array', name
            USING ERRCODE = 'invalid_parameter_value';
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

-- Log a model call of a batch item (its request is the one stored at claim).
CREATE FUNCTION train_data.log_generation(item_id uuid, job_id uuid, template_id uuid, request jsonb,
                                          parameters jsonb, attempts integer, owner uuid, conversation_id uuid,
                                          response jsonb, status text, input_tokens integer, output_tokens integer,
                                          cost numeric, duration_ms integer, error_message text, error_code text)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO train_data.generation_logs
        (conversation_id, batch_item_id, run_id, template_id, request_payload, response_payload, parameters,
         model_used, temperature, max_tokens, status, retry_attempt, input_tokens, output_tokens, cost_usd,
         duration_ms, error_message, error_code, created_by)
    VALUES (log_generation.conversation_id, log_generation.item_id, log_generation.job_id, log_generation.template_id,
            coalesce(log_generation.request, '{}'), log_generation.response, log_generation.parameters,
            log_generation.request ->> 'model', (log_generation.request ->> 'temperature')::numeric,
            (log_generation.request ->> 'max_tokens')::integer, log_generation.status,
            greatest(log_generation.attempts - 1, 0), coalesce(log_generation.input_tokens, 0),
            coalesce(log_generation.output_tokens, 0), log_generation.cost, log_generation.duration_ms,
            log_generation.error_message, log_generation.error_code, log_generation.owner);
END
$$;

-- The item, locked, with its job's owner, or an error when it cannot be
-- finished now (unknown, not in flight, cancelled, lease expired).
CREATE FUNCTION train_data.lock_item_in_flight(item_id uuid, OUT item train_data.batch_items, OUT owner uuid,
                                               OUT error_handling text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT i.* INTO item FROM train_data.batch_items i WHERE i.id = lock_item_in_flight.item_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'batch item % does not exist', coalesce(lock_item_in_flight.item_id::text, 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
    IF item.status = 'cancelled' THEN
        RAISE EXCEPTION 'batch item % was cancelled', item.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Its batch was cancelled; discard the result.';
    END IF;
    IF item.status <> 'processing' THEN
        RAISE EXCEPTION 'batch item % is %, not processing', item.id, item.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF item.lease_expires_at <= now() THEN
        RAISE EXCEPTION 'lease of batch item % has expired', item.id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('The lease ended at %s.', item.lease_expires_at),
                  HINT = 'Heartbeat long calls; the item is given to the next worker that claims.';
    END IF;
    SELECT j.created_by, j.error_handling INTO owner, error_handling
    FROM train_data.batch_jobs j WHERE j.id = item.batch_job_id;
END
$$;

-- Claim up to max_items items: jobs by priority then age, items by position;
-- never more in flight per job than its concurrent_processing; expired leases
-- are taken back first.  Each row carries the rendered prompt and a ready
-- Anthropic Messages API request built with the batch owner's configuration.
CREATE FUNCTION train_data.claim_batch_items(worker text, max_items integer DEFAULT 1,
                                             lease interval DEFAULT '5 minutes')
    RETURNS TABLE (item_id uuid, batch_job_id uuid, "position" integer, tier train_data.tier_type,
                   parameters jsonb, prompt text, request jsonb, attempt integer, lease_expires_at timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j record;
    it record;
    claimed integer := 0;
    slots integer;
    new_in_flight integer;
    config jsonb;
    something_failed boolean := false;
BEGIN
    IF worker IS NULL OR btrim(worker) = '' THEN
        RAISE EXCEPTION 'worker name must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF max_items IS NULL OR max_items NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_items must be between 1 and 1000, not %', coalesce(max_items::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF lease IS NULL OR lease <= interval '0' OR lease > interval '1 day' THEN
        RAISE EXCEPTION 'lease must be between 0 and 1 day, not %', coalesce(lease::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    FOR j IN
        SELECT bj.id, bj.concurrent_processing, bj.created_by
        FROM train_data.batch_jobs bj
        WHERE bj.status IN ('queued', 'processing')
        ORDER BY (CASE bj.priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END), bj.created_at, bj.id
    LOOP
        EXIT WHEN claimed >= max_items;
        -- one claimer per job at a time: the in-flight count below stays true
        PERFORM train_data.lock_job(j.id);
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM train_data.batch_jobs bj
                                  WHERE bj.id = j.id AND bj.status IN ('queued', 'processing'));
        SELECT j.concurrent_processing - count(*) INTO slots
        FROM train_data.batch_items i
        WHERE i.batch_job_id = j.id AND i.status = 'processing' AND i.lease_expires_at > now();
        slots := least(slots, max_items - claimed);
        CONTINUE WHEN slots <= 0;

        -- items whose lease expired too often fail for good
        WITH dead AS (
            UPDATE train_data.batch_items i
            SET status = 'failed', finished_at = now(), lease_expires_at = NULL,
                error_message = format('lease expired %s times; the worker was lost each time', i.attempts),
                error_code = 'lease_expired'
            WHERE i.id IN (SELECT d.id FROM train_data.batch_items d
                           WHERE d.batch_job_id = j.id AND d.status = 'processing'
                             AND d.lease_expires_at <= now() AND d.attempts >= d.max_attempts
                           FOR UPDATE SKIP LOCKED)
            RETURNING i.*)
        SELECT count(*) INTO new_in_flight FROM dead;
        IF new_in_flight > 0 THEN
            PERFORM train_data.bump_counters(j.id, 0, new_in_flight, 0, -new_in_flight, true);
            something_failed := true;
        END IF;

        config := train_data.get_effective_ai_config(j.created_by);
        new_in_flight := 0;
        FOR it IN
            WITH picked AS (
                (SELECT i.id, true AS reclaimed, i.lease_expires_at AS sort_key, 0 AS pos
                 FROM train_data.batch_items i
                 WHERE i.batch_job_id = j.id AND i.status = 'processing' AND i.lease_expires_at <= now()
                 ORDER BY i.lease_expires_at LIMIT slots)
                UNION ALL
                (SELECT i.id, false, NULL, i.position
                 FROM train_data.batch_items i
                 WHERE i.batch_job_id = j.id AND i.status = 'queued' AND i.available_at <= now()
                 ORDER BY i.position LIMIT slots)),
            locked AS (
                SELECT i.id, p.reclaimed, i.template_id, i.parameters FROM train_data.batch_items i
                JOIN picked p ON p.id = i.id
                WHERE i.status IN ('queued', 'processing')
                ORDER BY p.reclaimed DESC, p.sort_key, p.pos
                LIMIT slots
                FOR UPDATE OF i SKIP LOCKED),
            prompts AS MATERIALIZED (   -- render once per item
                SELECT l.id, l.reclaimed,
                       train_data.render_template(t.structure, l.parameters, t.variables) AS rendered
                FROM locked l LEFT JOIN train_data.templates t ON t.id = l.template_id)
            UPDATE train_data.batch_items i
            SET status = 'processing', attempts = i.attempts + 1, worker = claim_batch_items.worker,
                lease_expires_at = now() + lease, started_at = coalesce(i.started_at, now()), progress = NULL,
                request = CASE WHEN (pr.rendered ->> 'success')::boolean THEN
                              jsonb_build_object('model', config -> 'model', 'max_tokens', config -> 'maxTokens',
                                                 'temperature', config -> 'temperature',
                                                 'messages', jsonb_build_array(jsonb_build_object(
                                                     'role', 'user', 'content', pr.rendered -> 'resolved')))
                          END
            FROM prompts pr
            WHERE i.id = pr.id
            RETURNING i.*, pr.reclaimed, pr.rendered
        LOOP
            IF NOT it.reclaimed THEN
                new_in_flight := new_in_flight + 1;
            END IF;
            IF it.request IS NULL THEN
                -- the template changed or went away since the batch was made
                UPDATE train_data.batch_items i
                SET status = 'failed', finished_at = now(), lease_expires_at = NULL, error_code = 'invalid_prompt',
                    error_message = coalesce((SELECT string_agg(e ->> 'message', '; ')
                                              FROM jsonb_array_elements(it.rendered -> 'errors') e),
                                             'its template no longer exists')
                WHERE i.id = it.id;
                PERFORM train_data.bump_counters(j.id, 0, 1, 0, CASE WHEN it.reclaimed THEN -1 ELSE 0 END, true);
                IF NOT it.reclaimed THEN
                    new_in_flight := new_in_flight - 1;
                END IF;
                something_failed := true;
                CONTINUE;
            END IF;
            claimed := claimed + 1;
            item_id := it.id;
            batch_job_id := it.batch_job_id;
            "position" := it.position;
            tier := it.tier;
            parameters := it.parameters;
            prompt := it.rendered ->> 'resolved';
            request := it.request;
            attempt := it.attempts;
            lease_expires_at := it.lease_expires_at;
            RETURN NEXT;
        END LOOP;
        IF new_in_flight <> 0 THEN
            PERFORM train_data.bump_counters(j.id, 0, 0, 0, new_in_flight);
        END IF;
        UPDATE train_data.batch_jobs bj SET status = 'processing', started_at = coalesce(bj.started_at, now())
        WHERE bj.id = j.id AND bj.status = 'queued';
        IF something_failed THEN
            PERFORM train_data.finish_job_if_done(j.id);
            something_failed := false;
        END IF;
    END LOOP;
END
$$;

-- Extend the lease of an item in flight (and record its progress).
CREATE FUNCTION train_data.heartbeat_batch_item(item_id uuid, progress numeric DEFAULT NULL,
                                                lease interval DEFAULT '5 minutes')
    RETURNS timestamptz
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
AS $$
DECLARE
    expires timestamptz;
BEGIN
    IF lease IS NULL OR lease <= interval '0' OR lease > interval '1 day' THEN
        RAISE EXCEPTION 'lease must be between 0 and 1 day, not %', coalesce(lease::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF progress < 0 OR progress > 100 THEN
        RAISE EXCEPTION 'progress must be between 0 and 100, not %', progress
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM train_data.lock_item_in_flight(item_id);
    UPDATE train_data.batch_items i
    SET lease_expires_at = now() + lease, progress = coalesce(heartbeat_batch_item.progress, i.progress)
    WHERE i.id = heartbeat_batch_item.item_id
    RETURNING i.lease_expires_at INTO expires;
    RETURN expires;
END
$$;

-- Record a failed model call: retry later (exponential backoff with jitter,
-- base 1 s, cap 300 s) while attempts remain and the error is retryable,
-- otherwise fail the item for good; with error_handling 'stop' that fails the
-- job and cancels its queued items.  Returns the item's new status.
CREATE FUNCTION train_data.fail_batch_item(item_id uuid, error_message text, error_code text DEFAULT NULL,
                                           retryable boolean DEFAULT true)
    RETURNS train_data.batch_item_status
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
AS $$
DECLARE
    l record;
    delay double precision;
    message text := coalesce(nullif(btrim(error_message), ''), 'unknown error');
    n integer;
BEGIN
    l := train_data.lock_item_in_flight(item_id);
    PERFORM train_data.log_generation((l.item).id, (l.item).batch_job_id, (l.item).template_id, (l.item).request,
                                      (l.item).parameters, (l.item).attempts, l.owner, NULL, NULL,
                                      CASE WHEN error_code IN ('408', 'timeout') THEN 'timeout'
                                           WHEN error_code IN ('429', 'rate_limit_error', 'rate_limited') THEN 'rate_limited'
                                           ELSE 'failed' END,
                                      0, 0, NULL, NULL, message, error_code);
    IF coalesce(retryable, true) AND (l.item).attempts < (l.item).max_attempts THEN
        delay := least(300, power(2, (l.item).attempts - 1));
        delay := delay + random() * 0.1 * delay;
        UPDATE train_data.batch_items i
        SET status = 'queued', available_at = now() + make_interval(secs => delay), lease_expires_at = NULL,
            worker = NULL, error_message = message, error_code = fail_batch_item.error_code
        WHERE i.id = fail_batch_item.item_id;
        PERFORM train_data.bump_counters((l.item).batch_job_id, 0, 0, 0, -1);
        PERFORM train_data.notify_progress((l.item).batch_job_id, fail_batch_item.item_id, 'item_retry');
        RETURN 'queued';
    END IF;

    UPDATE train_data.batch_items i
    SET status = 'failed', finished_at = now(), lease_expires_at = NULL,
        error_message = message, error_code = fail_batch_item.error_code
    WHERE i.id = fail_batch_item.item_id;
    PERFORM train_data.bump_counters((l.item).batch_job_id, 0, 1, 0, -1, true);
    IF l.error_handling = 'stop' THEN
        UPDATE train_data.batch_items i SET status = 'cancelled', finished_at = now()
        WHERE i.batch_job_id = (l.item).batch_job_id AND i.status = 'queued';
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
            PERFORM train_data.bump_counters((l.item).batch_job_id, 0, 0, n, 0);
        END IF;
        UPDATE train_data.batch_jobs j
        SET status = 'failed', completed_at = now(), estimated_time_remaining = interval '0'
        WHERE j.id = (l.item).batch_job_id AND j.status IN ('queued', 'processing', 'paused');
        PERFORM train_data.rollup_counters((l.item).batch_job_id);
        PERFORM train_data.notify_progress((l.item).batch_job_id, NULL, 'job_failed');
    ELSE
        PERFORM train_data.finish_job_if_done((l.item).batch_job_id);
    END IF;
    PERFORM train_data.notify_progress((l.item).batch_job_id, fail_batch_item.item_id, 'item_failed');
    RETURN 'failed';
END
$$;

-- Store a model's response for an item in flight: the parsed conversation
-- and its turns, the generation log (tokens, cost, duration), the item, the
-- counters, the job's completion, a notification — in one transaction.  A
-- response that cannot be parsed fails the item instead (retried per
-- policy) and the function returns NULL with a WARNING.
CREATE FUNCTION train_data.complete_batch_item(item_id uuid, response jsonb, duration_ms integer DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
AS $$
DECLARE
    l record;
    parsed jsonb;
    problem text;
    state text;
    new_status train_data.batch_item_status;
    conv uuid;
    p jsonb;
    model text;
    cost numeric;
    metrics jsonb;
    score numeric;
    threshold numeric;
BEGIN
    IF duration_ms < 0 THEN
        RAISE EXCEPTION 'duration_ms must not be negative, not %', duration_ms USING ERRCODE = 'invalid_parameter_value';
    END IF;
    l := train_data.lock_item_in_flight(item_id);
    p := (l.item).parameters;
    BEGIN
        parsed := train_data.parse_generation_response(response, p);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
        IF response IS NULL THEN
            RAISE;
        END IF;
        new_status := train_data.fail_batch_item(item_id, 'unusable response: ' || problem, state, true);
        RAISE WARNING 'batch item % failed: unusable response: %', item_id, problem
            USING DETAIL = format('The item is now %s.', new_status);
        RETURN NULL;
    END;
    metrics := train_data.quality_metrics(parsed -> 'turns');
    score := (metrics ->> 'overall')::numeric;
    SELECT t.quality_threshold INTO threshold FROM train_data.templates t WHERE t.id = (l.item).template_id;
    model := coalesce(parsed ->> 'model', (l.item).request ->> 'model');
    cost := train_data.model_cost(model, coalesce((parsed ->> 'input_tokens')::bigint, 0),
                                  coalesce((parsed ->> 'output_tokens')::bigint, 0));

    INSERT INTO train_data.conversations
        (title, persona, emotion, topic, intent, tone, tier, category, status, quality_score, quality_metrics,
         turn_count, total_tokens, actual_cost_usd, generation_duration_ms, template_id, review_history,
         parameters, parent_id, parent_type, created_by)
    VALUES (parsed ->> 'title',
            coalesce(nullif(btrim(p ->> 'persona'), ''), 'Unknown'),
            coalesce(nullif(btrim(p ->> 'emotion'), ''), 'Neutral'),
            coalesce((l.item).topic, p ->> 'topic'), p ->> 'intent', p ->> 'tone', (l.item).tier,
            CASE WHEN jsonb_typeof(p -> 'category') = 'array'
                 THEN ARRAY(SELECT jsonb_array_elements_text(p -> 'category'))
                 WHEN jsonb_typeof(p -> 'category') = 'string' THEN ARRAY[p ->> 'category']
                 ELSE '{}' END,
            train_data.quality_status(score, threshold), score, metrics, jsonb_array_length(parsed -> 'turns'),
            coalesce((parsed ->> 'input_tokens')::integer, 0) + coalesce((parsed ->> 'output_tokens')::integer, 0),
            cost, duration_ms, (l.item).template_id,
            jsonb_build_array(jsonb_build_object('id', gen_random_uuid(), 'action', 'generated',
                                                 'performedBy', l.owner, 'timestamp', now(),
                                                 'comment', format('Generated with quality score %s', score),
                                                 'reasons', NULL)),
            p, (l.item).parent_conversation_id,
            CASE WHEN (l.item).parent_conversation_id IS NOT NULL THEN 'conversation' END, l.owner)
    RETURNING id INTO conv;
    -- a regeneration supersedes the conversation it replaces
    IF (l.item).parent_conversation_id IS NOT NULL THEN
        UPDATE train_data.conversations c SET status = 'archived'
        WHERE c.id = (l.item).parent_conversation_id AND c.status <> 'archived';
    END IF;

    INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content, token_count)
    SELECT conv, t.ord, t.value ->> 'role', t.value ->> 'content', ceil(char_length(t.value ->> 'content') / 4.0)
    FROM jsonb_array_elements(parsed -> 'turns') WITH ORDINALITY AS t(value, ord);

    PERFORM train_data.log_generation((l.item).id, (l.item).batch_job_id, (l.item).template_id, (l.item).request,
                                      p, (l.item).attempts, l.owner, conv, response, 'success',
                                      (parsed ->> 'input_tokens')::integer, (parsed ->> 'output_tokens')::integer,
                                      cost, duration_ms, NULL, NULL);

    UPDATE train_data.batch_items i
    SET status = 'completed', conversation_id = conv, progress = 100, finished_at = now(),
        lease_expires_at = NULL, error_message = NULL, error_code = NULL
    WHERE i.id = complete_batch_item.item_id;
    PERFORM train_data.bump_counters((l.item).batch_job_id, 1, 0, 0, -1, true);
    PERFORM train_data.finish_job_if_done((l.item).batch_job_id);
    PERFORM train_data.notify_progress((l.item).batch_job_id, complete_batch_item.item_id, 'item_completed');
    RETURN conv;
END
$$;

-- The job lock: claims and pause / resume / cancel of one job take it, so
-- they happen one after another (advisory, transaction-scoped, taken before
-- any row lock: the order is job lock, then item rows, then the job row).
CREATE FUNCTION train_data.lock_job(job_id uuid)
    RETURNS void
    LANGUAGE sql
    RETURN pg_advisory_xact_lock(1953718900, hashtext(job_id::text));

-- Take the job lock of a job the caller can see, or fail as for an unknown job.
CREATE FUNCTION train_data.lock_visible_job(job_id uuid)
    RETURNS train_data.batch_jobs
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j train_data.batch_jobs;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM train_data.batch_jobs b WHERE b.id = lock_visible_job.job_id) THEN
        RAISE EXCEPTION 'batch job % does not exist', coalesce(lock_visible_job.job_id::text, 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM train_data.lock_job(job_id);
    SELECT * INTO j FROM train_data.batch_jobs b WHERE b.id = lock_visible_job.job_id;
    RETURN j;
END
$$;

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
    IF wanted IS NULL THEN
        RAISE EXCEPTION 'batch job % is already %', job_id, st USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RAISE EXCEPTION 'batch job % is %, not %', job_id, st, wanted
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = CASE wanted WHEN 'processing' THEN 'Only a processing job can be paused.'
                                 ELSE 'Only a paused job can be resumed.' END;
END
$$;

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
    RETURN j;
END
$$;

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
    RETURN j;
END
$$;

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
    -- items first (a completion locks its item, then the job row)
    WITH c AS (
        UPDATE train_data.batch_items i
        SET status = 'cancelled', finished_at = now(), lease_expires_at = NULL
        FROM (SELECT i2.id, i2.status AS old_status FROM train_data.batch_items i2
              WHERE i2.batch_job_id = j.id AND i2.status IN ('queued', 'processing') FOR UPDATE) o
        WHERE i.id = o.id AND i.status IN ('queued', 'processing')
        RETURNING o.old_status)
    SELECT count(*) FILTER (WHERE old_status = 'queued'), count(*) FILTER (WHERE old_status = 'processing')
    INTO n_queued, n_flight FROM c;
    UPDATE train_data.batch_jobs b
    SET status = 'cancelled', completed_at = now(), estimated_time_remaining = interval '0'
    WHERE b.id = j.id AND b.status IN ('queued', 'processing', 'paused');
    IF NOT FOUND THEN   -- the last item finished meanwhile and closed the job
        PERFORM train_data.job_state_error(job_id, NULL);
    END IF;
    PERFORM train_data.bump_counters(j.id, 0, 0, n_queued + n_flight, -n_flight);
    PERFORM train_data.rollup_counters(j.id);
    SELECT * INTO j FROM train_data.batch_jobs b WHERE b.id = j.id;
    PERFORM train_data.notify_progress(j.id, NULL, 'job_cancelled');
    RETURN j;
END
$$;

-- Progress and time remaining (native): see README.
CREATE FUNCTION train_data.calculate_batch_progress(job_id uuid)
    RETURNS numeric
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_calculate_batch_progress';

CREATE FUNCTION train_data.estimate_time_remaining(job_id uuid)
    RETURNS interval
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_estimate_time_remaining';

CREATE FUNCTION train_data.batch_progress(job_id uuid)
    RETURNS TABLE (batch_job_id uuid, status train_data.batch_job_status, total_items integer,
                   queued_items integer, processing_items integer, completed_items integer,
                   failed_items integer, cancelled_items integer, percent numeric,
                   estimated_time_remaining interval, items_per_minute numeric,
                   started_at timestamptz, completed_at timestamptz)
    LANGUAGE c STABLE PARALLEL SAFE ROWS 1
    AS 'MODULE_PATHNAME', 'td_batch_progress';

-- Worker functions act across users: only roles granted EXECUTE may call them.
REVOKE ALL ON FUNCTION train_data.claim_batch_items(text, integer, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.heartbeat_batch_item(uuid, numeric, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.complete_batch_item(uuid, jsonb, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.fail_batch_item(uuid, text, text, boolean) FROM PUBLIC;

--------------------------------------------------------------------------------
-- 18. Quality of stored conversations
--------------------------------------------------------------------------------

-- (Re)score a stored conversation from its turns; returns the metrics.
CREATE FUNCTION train_data.score_conversation(conversation_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m jsonb;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM train_data.conversations c WHERE c.id = score_conversation.conversation_id) THEN
        RAISE EXCEPTION 'conversation % does not exist', coalesce(score_conversation.conversation_id::text, 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
    m := train_data.quality_metrics(coalesce(
            (SELECT jsonb_agg(jsonb_build_object('role', t.role, 'content', t.content) ORDER BY t.turn_number)
             FROM train_data.conversation_turns t WHERE t.conversation_id = score_conversation.conversation_id),
            '[]'));
    UPDATE train_data.conversations c
    SET quality_score = (m ->> 'overall')::numeric, quality_metrics = m
    WHERE c.id = score_conversation.conversation_id;
    RETURN m;
END
$$;

--------------------------------------------------------------------------------
-- 19. The conversation life cycle, enforced for every writer
--------------------------------------------------------------------------------

-- May a conversation go from one status to another?  (The same status is
-- always allowed; nothing leaves archived; approval and rejection need a
-- generated conversation.)
CREATE FUNCTION train_data.conversation_transition_allowed(old_status train_data.conversation_status,
                                                          new_status train_data.conversation_status)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN old_status = new_status OR CASE old_status
        WHEN 'draft' THEN new_status IN ('generating', 'generated', 'pending_review', 'needs_revision', 'failed', 'archived')
        WHEN 'generating' THEN new_status IN ('generated', 'pending_review', 'needs_revision', 'failed', 'archived')
        WHEN 'generated' THEN new_status IN ('pending_review', 'needs_revision', 'approved', 'rejected', 'archived')
        WHEN 'pending_review' THEN new_status IN ('approved', 'rejected', 'needs_revision', 'archived')
        WHEN 'needs_revision' THEN new_status IN ('approved', 'rejected', 'pending_review', 'archived')
        WHEN 'approved' THEN new_status IN ('archived')
        WHEN 'rejected' THEN new_status IN ('archived')
        WHEN 'failed' THEN new_status IN ('archived')
        ELSE false
    END;

-- The trigger: new conversations start before review; every status change
-- follows conversation_transition_allowed; approving or rejecting needs the
-- review recorded in review_history (and an approval its reviewer).  Restores (pg_dump scripts run
-- with row_security = off) bring rows in the state they were in.
CREATE FUNCTION train_data.conversations_check_transition() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF current_setting('row_security') = 'off' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND NEW.status IN ('approved', 'rejected', 'archived') THEN
        RAISE EXCEPTION 'a new conversation cannot be %', NEW.status
            USING ERRCODE = 'check_violation',
                  HINT = 'Conversations are generated first; review_conversation() approves or rejects them.';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IN ('approved', 'rejected') AND OLD.status <> NEW.status
       AND train_data.conversation_transition_allowed(OLD.status, NEW.status)
       AND (NEW.review_history -> -1 ->> 'action' IS DISTINCT FROM NEW.status::text
            OR (NEW.status = 'approved' AND (NEW.approved_by IS NULL OR NEW.approved_at IS NULL))) THEN
        RAISE EXCEPTION 'conversation % cannot become % without a recorded review', OLD.conversation_id, NEW.status
            USING ERRCODE = 'check_violation',
                  DETAIL = 'The last review_history entry must record the same action, and an approval its reviewer and time.',
                  HINT = 'Use review_conversation() or bulk_review_conversations().';
    END IF;
    IF TG_OP = 'UPDATE' AND NOT train_data.conversation_transition_allowed(OLD.status, NEW.status) THEN
        RAISE EXCEPTION 'conversation % cannot go from % to %', OLD.conversation_id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  DETAIL = CASE WHEN OLD.status = 'archived' THEN 'An archived conversation never changes status.'
                                WHEN NEW.status IN ('approved', 'rejected') THEN 'Only a generated conversation can be reviewed.'
                                ELSE 'That transition is not part of the conversation life cycle.' END;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER conversations_check_transition
    BEFORE INSERT OR UPDATE OF status ON train_data.conversations
    FOR EACH ROW EXECUTE FUNCTION train_data.conversations_check_transition();

--------------------------------------------------------------------------------
-- 20. Review
--------------------------------------------------------------------------------

-- Append a review action {id, action, performedBy, timestamp, comment,
-- reasons} to a conversation's review_history.
CREATE FUNCTION train_data.append_review_action(conversation_id uuid, action text, performed_by uuid,
                                                comment text DEFAULT NULL, reasons text[] DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF action IS NULL OR action NOT IN ('approved', 'rejected', 'revision_requested', 'generated', 'moved_to_review') THEN
        RAISE EXCEPTION 'review action must be approved, rejected, revision_requested, generated or moved_to_review, not %',
                        coalesce(action, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE train_data.conversations c
    SET review_history = c.review_history || jsonb_build_array(jsonb_build_object(
            'id', gen_random_uuid(), 'action', append_review_action.action, 'performedBy', performed_by,
            'timestamp', now(), 'comment', append_review_action.comment,
            'reasons', to_jsonb(append_review_action.reasons)))
    WHERE c.id = append_review_action.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation % does not exist', coalesce(append_review_action.conversation_id::text, 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
END
$$;

-- Review a generated conversation: approved, rejected or revision_requested.
CREATE FUNCTION train_data.review_conversation(conversation_id uuid, action text, comment text DEFAULT NULL,
                                               reasons text[] DEFAULT NULL)
    RETURNS train_data.conversations
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c train_data.conversations;
    reviewer uuid := train_data.current_user_id();
BEGIN
    IF action IS NULL OR action NOT IN ('approved', 'rejected', 'revision_requested') THEN
        RAISE EXCEPTION 'review action must be approved, rejected or revision_requested, not %', coalesce(action, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF char_length(comment) > 2000 THEN
        RAISE EXCEPTION 'review comment is % characters long; the limit is 2000', char_length(comment)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF reviewer IS NULL THEN
        RAISE EXCEPTION 'no user id is set' USING ERRCODE = 'invalid_authorization_specification',
              HINT = 'Set train_data.user_id (or sign in through PostgREST) first.';
    END IF;
    SELECT * INTO c FROM train_data.conversations x WHERE x.id = review_conversation.conversation_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation % does not exist', coalesce(review_conversation.conversation_id::text, 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
    IF c.status NOT IN ('generated', 'pending_review', 'needs_revision') THEN
        RAISE EXCEPTION 'conversation % is %, not eligible for review', c.conversation_id, c.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Only generated, pending_review and needs_revision conversations can be reviewed.';
    END IF;
    -- the history first: the life-cycle trigger wants the review recorded
    PERFORM train_data.append_review_action(c.id, action, reviewer, comment, reasons);
    UPDATE train_data.conversations x
    SET status = CASE action WHEN 'approved' THEN 'approved' WHEN 'rejected' THEN 'rejected'
                             ELSE 'needs_revision' END::train_data.conversation_status,
        approved_by = CASE WHEN action = 'approved' THEN reviewer ELSE x.approved_by END,
        approved_at = CASE WHEN action = 'approved' THEN now() ELSE x.approved_at END,
        reviewer_notes = coalesce(review_conversation.comment, x.reviewer_notes)
    WHERE x.id = c.id;
    SELECT * INTO c FROM train_data.conversations x WHERE x.id = c.id;
    RETURN c;
END
$$;

-- Review many conversations; one row per id, failures reported, not raised.
CREATE FUNCTION train_data.bulk_review_conversations(conversation_ids uuid[], action text, comment text DEFAULT NULL,
                                                     reasons text[] DEFAULT NULL)
    RETURNS TABLE (conversation_id uuid, success boolean, error text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id uuid;
BEGIN
    FOREACH id IN ARRAY coalesce(conversation_ids, '{}') LOOP
        conversation_id := id;
        BEGIN
            PERFORM train_data.review_conversation(id, action, comment, reasons);
            success := true;
            error := NULL;
        EXCEPTION WHEN OTHERS THEN
            success := false;
            error := SQLERRM;
        END;
        RETURN NEXT;
    END LOOP;
END
$$;

--------------------------------------------------------------------------------
-- 21. Regeneration and versions
--------------------------------------------------------------------------------

-- Queue a new generation of a conversation from its template and parameters
-- (overridden by parameters); returns the batch item.  When it completes, the
-- new conversation's parent is this one and this one is archived.
CREATE FUNCTION train_data.regenerate_conversation(conversation_id uuid, parameters jsonb DEFAULT '{}')
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c train_data.conversations;
    job uuid;
    item uuid;
BEGIN
    SELECT * INTO c FROM train_data.conversations x WHERE x.id = regenerate_conversation.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation % does not exist', coalesce(regenerate_conversation.conversation_id::text, 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
    IF c.status IN ('archived', 'draft', 'generating') THEN
        RAISE EXCEPTION 'conversation % is %; only a generated or reviewed conversation can be regenerated',
                        c.conversation_id, c.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF c.template_id IS NULL THEN
        RAISE EXCEPTION 'conversation % has no template to regenerate from', c.conversation_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF parameters IS NULL OR jsonb_typeof(parameters) <> 'object' THEN
        RAISE EXCEPTION 'parameters must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    job := train_data.create_batch(format('Regenerate %s', c.conversation_id),
                                   jsonb_build_array(jsonb_build_object('template_id', c.template_id, 'tier', c.tier,
                                                                        'topic', c.topic,
                                                                        'parameters', c.parameters || parameters)),
                                   '{}', 1, 'continue', 'high');
    UPDATE train_data.batch_items i SET parent_conversation_id = c.id
    WHERE i.batch_job_id = job RETURNING i.id INTO item;
    RETURN item;
END
$$;

-- Every version of a conversation (its regeneration chain), oldest first.
CREATE FUNCTION train_data.conversation_versions(conversation_id uuid)
    RETURNS TABLE (version integer, id uuid, conversation_id text, status train_data.conversation_status,
                   quality_score numeric, parent_id uuid, created_at timestamptz)
    LANGUAGE sql STABLE
BEGIN ATOMIC
    WITH RECURSIVE up(id, parent_id, parent_type) AS (
        SELECT c.id, c.parent_id, c.parent_type FROM train_data.conversations c
        WHERE c.id = conversation_versions.conversation_id
        UNION ALL
        SELECT c.id, c.parent_id, c.parent_type FROM train_data.conversations c JOIN up ON c.id = up.parent_id
        WHERE up.parent_type = 'conversation'),
    down(id) AS (
        SELECT up.id FROM up WHERE up.parent_id IS NULL OR up.parent_type <> 'conversation'
        UNION ALL
        SELECT c.id FROM train_data.conversations c JOIN down ON c.parent_id = down.id
        WHERE c.parent_type = 'conversation')
    SELECT (row_number() OVER (ORDER BY c.created_at, c.id))::integer, c.id, c.conversation_id, c.status,
           c.quality_score, c.parent_id, c.created_at
    FROM train_data.conversations c JOIN down ON down.id = c.id
    ORDER BY 1;
END;

--------------------------------------------------------------------------------
-- 22. Review queue, statistics and template analytics (all under RLS)
--------------------------------------------------------------------------------

-- Conversations waiting for review (pending_review), a page at a time:
-- lowest quality and oldest first by default.
CREATE FUNCTION train_data.review_queue(page integer DEFAULT 1, page_size integer DEFAULT 25,
                                        sort_by text DEFAULT 'quality_score', sort_order text DEFAULT 'asc',
                                        min_quality numeric DEFAULT NULL)
    RETURNS SETOF train_data.conversations
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF page IS NULL OR page < 1 THEN
        RAISE EXCEPTION 'page must be 1 or more, not %', coalesce(page::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF page_size IS NULL OR page_size NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'page_size must be between 1 and 100, not %', coalesce(page_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF sort_by IS NULL OR sort_by NOT IN ('quality_score', 'created_at') THEN
        RAISE EXCEPTION 'sort_by must be quality_score or created_at, not %', coalesce(sort_by, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF sort_order IS NULL OR lower(sort_order) NOT IN ('asc', 'desc') THEN
        RAISE EXCEPTION 'sort_order must be asc or desc, not %', coalesce(sort_order, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_quality < 0 OR min_quality > 10 THEN
        RAISE EXCEPTION 'min_quality must be between 0 and 10, not %', min_quality USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- sort_by and sort_order are checked against fixed lists above
    RETURN QUERY EXECUTE format(
        'SELECT * FROM train_data.conversations c
         WHERE c.status = ''pending_review'' AND ($1 IS NULL OR c.quality_score >= $1)
         ORDER BY c.%s %s, c.created_at, c.id LIMIT $2 OFFSET $3',
        sort_by, lower(sort_order))
    USING min_quality, page_size, (page - 1) * page_size;
END
$$;

-- The numbers of the review queue.
CREATE FUNCTION train_data.review_queue_statistics()
    RETURNS TABLE (total_pending bigint, average_quality numeric, oldest_pending timestamptz)
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT count(*), coalesce(round(avg(c.quality_score), 1), 0), min(c.created_at)
    FROM train_data.conversations c WHERE c.status = 'pending_review';
END;

-- Statistics of the conversations the caller can see.
CREATE FUNCTION train_data.conversation_statistics()
    RETURNS jsonb
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT jsonb_build_object(
        'total', count(*),
        'byTier', (SELECT coalesce(jsonb_object_agg(t.tier, t.n), '{}')
                   FROM (SELECT c2.tier, count(*) AS n FROM train_data.conversations c2 GROUP BY c2.tier) t),
        'byStatus', (SELECT coalesce(jsonb_object_agg(t.status, t.n), '{}')
                     FROM (SELECT c2.status, count(*) AS n FROM train_data.conversations c2 GROUP BY c2.status) t),
        'avgQualityScore', round(avg(c.quality_score), 1),
        'qualityBands', jsonb_build_object(
            'excellent', count(*) FILTER (WHERE c.quality_score >= 8),
            'good', count(*) FILTER (WHERE c.quality_score >= 6 AND c.quality_score < 8),
            'fair', count(*) FILTER (WHERE c.quality_score >= 4 AND c.quality_score < 6),
            'poor', count(*) FILTER (WHERE c.quality_score < 4)),
        'totalTokens', coalesce(sum(c.total_tokens), 0),
        'totalCost', coalesce(sum(c.actual_cost_usd), 0),
        'avgTurnsPerConversation', round(avg(c.turn_count), 1),
        'approvalRate', round(count(*) FILTER (WHERE c.status = 'approved')::numeric
                              / nullif(count(*) FILTER (WHERE c.status IN ('approved', 'rejected')), 0), 3),
        'pendingReview', count(*) FILTER (WHERE c.status = 'pending_review'))
    FROM train_data.conversations c;
END;

-- Trend of a series of scores in time order: the newer half against the
-- older half (the original compared them the other way round).
CREATE FUNCTION train_data.quality_trend(scores numeric[])
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
        WHEN coalesce(cardinality(scores), 0) < 2 THEN 'stable'
        WHEN older.a = 0 THEN CASE WHEN newer.a > 0 THEN 'improving' ELSE 'stable' END
        WHEN (newer.a - older.a) / older.a * 100 > 5 THEN 'improving'
        WHEN (newer.a - older.a) / older.a * 100 < -5 THEN 'declining'
        ELSE 'stable' END
    FROM (SELECT avg(x) AS a FROM unnest(scores[1:cardinality(scores) / 2]) x) older,
         (SELECT avg(x) AS a FROM unnest(scores[cardinality(scores) / 2 + 1:]) x) newer;
END;

-- Per template: usage, average quality, approval rate, performance level and
-- trend (of its 10 newest scores), over the conversations the caller can see,
-- optionally only those created within time_window.
CREATE FUNCTION train_data.template_performance(time_window interval DEFAULT NULL, min_usage integer DEFAULT 1)
    RETURNS TABLE (template_id uuid, template_name text, tier train_data.tier_type, usage_count bigint,
                   avg_quality numeric, approved_count bigint, rejected_count bigint, approval_rate numeric,
                   performance text, trend text, last_used timestamptz)
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT s.template_id, t.name, t.tier, s.n, s.avg_quality, s.approved, s.rejected, s.rate,
           CASE WHEN s.rate >= 85 AND s.avg_quality >= 8 THEN 'high'
                WHEN s.rate < 70 OR s.avg_quality < 6 THEN 'low'
                ELSE 'medium' END,
           train_data.quality_trend(ARRAY(SELECT r.quality_score FROM (
               SELECT c2.quality_score, c2.created_at, c2.id FROM train_data.conversations c2
               WHERE c2.template_id = s.template_id AND c2.quality_score IS NOT NULL
                 AND (time_window IS NULL OR c2.created_at >= now() - time_window)
               ORDER BY c2.created_at DESC, c2.id DESC LIMIT 10) r ORDER BY r.created_at, r.id)),
           s.last_used
    FROM (SELECT c.template_id, count(*) AS n, round(avg(c.quality_score), 2) AS avg_quality,
                 count(*) FILTER (WHERE c.status = 'approved') AS approved,
                 count(*) FILTER (WHERE c.status = 'rejected') AS rejected,
                 round(count(*) FILTER (WHERE c.status = 'approved') * 100.0 / count(*), 1) AS rate,
                 max(c.created_at) AS last_used
          FROM train_data.conversations c
          WHERE c.template_id IS NOT NULL AND (time_window IS NULL OR c.created_at >= now() - time_window)
          GROUP BY c.template_id
          HAVING count(*) >= coalesce(min_usage, 1)) s
    JOIN train_data.templates t ON t.id = s.template_id
    ORDER BY s.rate, s.avg_quality, t.name;
END;

--------------------------------------------------------------------------------
-- 23. Export
--------------------------------------------------------------------------------

-- Training-file lines, one per conversation, streamed (one value per call):
-- shape 'original' (messages + metadata), 'openai' or 'sharegpt'; scope
-- 'selected' (ids), 'filtered' (a FilterConfig) or 'all' (every approved
-- conversation); options the ExportConfig include flags, systemMessage and
-- lastTurnOnly.  Runs as the caller: row-level security decides what is
-- exported.
CREATE FUNCTION train_data.export_jsonl(shape text DEFAULT 'original', scope text DEFAULT 'all',
                                        ids uuid[] DEFAULT NULL, filters jsonb DEFAULT NULL,
                                        options jsonb DEFAULT '{}')
    RETURNS SETOF text
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'td_export_jsonl_sql';

-- The checks OpenAI's fine-tuning data preparation runs on one JSONL line:
-- the names of those it fails (invalid_json, data_type,
-- missing_messages_list, message_missing_key, message_unrecognized_key,
-- unrecognized_role, missing_content, example_missing_assistant_message);
-- empty for a good example.
CREATE FUNCTION train_data.validate_training_line(line text)
    RETURNS text[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_validate_training_line_sql';

-- An export checked line by line: the number of lines, then how many fail
-- each check (only the checks some line fails).
CREATE FUNCTION train_data.validate_export(shape text DEFAULT 'openai', scope text DEFAULT 'all',
                                           ids uuid[] DEFAULT NULL, filters jsonb DEFAULT NULL,
                                           options jsonb DEFAULT '{}')
    RETURNS TABLE (check_name text, lines bigint)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH checked AS (
        SELECT train_data.validate_training_line(l.line) AS errors
        FROM train_data.export_jsonl(shape, scope, ids, filters, options) AS l(line)
    )
    SELECT 'lines', count(*) FROM checked
    UNION ALL
    (SELECT e.name, count(*) FROM checked, unnest(checked.errors) AS e(name) GROUP BY e.name ORDER BY e.name);
END;

-- The high-level export a client calls: the records of a jsonl (export_jsonl's
-- original shape), json, csv or markdown file (config: the ExportConfig
-- include flags), recorded in export_logs as the caller's export —
-- 'processing' from the first record, 'completed' with the conversation
-- count, the byte size (records joined by one newline) and a 24-hour expiry
-- after the last.
CREATE FUNCTION train_data.export_conversations(format text, scope text DEFAULT 'all', config jsonb DEFAULT '{}',
                                                ids uuid[] DEFAULT NULL, filters jsonb DEFAULT NULL)
    RETURNS SETOF text
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'td_export_conversations_sql';

-- Completed exports past their expiry become expired; returns how many.
CREATE FUNCTION train_data.mark_expired_exports()
    RETURNS integer
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH expired AS (
        UPDATE train_data.export_logs SET status = 'expired'
        WHERE status = 'completed' AND expires_at < now()
        RETURNING 1)
    SELECT count(*)::integer FROM expired;
END;

-- The caller's exports, newest first, optionally of one format or status.
CREATE FUNCTION train_data.export_history(format text DEFAULT NULL, status text DEFAULT NULL,
                                          page integer DEFAULT 1, page_size integer DEFAULT 25)
    RETURNS SETOF train_data.export_logs
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF page IS NULL OR page < 1 OR page_size IS NULL OR page_size NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'invalid export history page % of size %', coalesce(page::text, 'NULL'),
                        coalesce(page_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pages start at 1; a page holds 1 to 100 exports.';
    END IF;
    RETURN QUERY
        SELECT l.* FROM train_data.export_logs l
        WHERE (export_history.format IS NULL OR l.format = export_history.format)
          AND (export_history.status IS NULL OR l.status = export_history.status)
        ORDER BY l."timestamp" DESC, l.id
        LIMIT page_size OFFSET (page - 1) * page_size;
END
$$;

-- One export of the caller's, by export_id; a completed export past its
-- expiry is marked expired first.
CREATE FUNCTION train_data.export_status(export_id uuid)
    RETURNS train_data.export_logs
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l train_data.export_logs;
BEGIN
    UPDATE train_data.export_logs x SET status = 'expired'
    WHERE x.export_id = export_status.export_id AND x.status = 'completed' AND x.expires_at < now();
    SELECT * INTO l FROM train_data.export_logs x WHERE x.export_id = export_status.export_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'export % does not exist', coalesce(export_status.export_id::text, 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN l;
END
$$;
