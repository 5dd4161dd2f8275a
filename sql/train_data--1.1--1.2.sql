-- train_data--1.1--1.2.sql — from 1.1 to 1.2.
--
-- Frozen once 1.2 is released.  It holds only what 1.2 changes; the current
-- definition of every object is in sql/src (CONTRIBUTING.md).
--
-- C entry points: every SQL-callable C function is now named
-- train_data_<SQL name> in the library (the 1.0 and 1.1 names stay exported
-- for those versions' scripts); each function below is pointed at its new
-- name, with its signature, attributes and privileges unchanged.

\echo Use "ALTER EXTENSION train_data UPDATE TO '1.2'" to load this file. \quit

CREATE OR REPLACE FUNCTION train_data.current_user_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_current_user_id';

CREATE OR REPLACE FUNCTION train_data.touch_timestamps() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_touch_timestamps';

CREATE OR REPLACE FUNCTION train_data.render_template(template text, parameters jsonb,
                                           variables jsonb DEFAULT '[]',
                                           html_escape boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_render_template';

CREATE OR REPLACE FUNCTION train_data.check_template(structure text, variables jsonb DEFAULT '[]')
    RETURNS boolean
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_check_template';

CREATE OR REPLACE FUNCTION train_data.parse_generation_response(response jsonb, parameters jsonb DEFAULT '{}')
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_parse_generation_response';

CREATE OR REPLACE FUNCTION train_data.quality_metrics(turns jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_metrics';

CREATE OR REPLACE FUNCTION train_data.quality_score(turns jsonb)
    RETURNS numeric
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_score';

CREATE OR REPLACE FUNCTION train_data.uuid_v7() RETURNS uuid
    LANGUAGE c VOLATILE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_uuid_v7';

CREATE OR REPLACE FUNCTION train_data.jsonb_merge_deep(base jsonb, patch jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_jsonb_merge_deep';

CREATE OR REPLACE FUNCTION train_data.job_active_seconds(started_at timestamptz, paused_time interval,
                                              paused_at timestamptz, completed_at timestamptz,
                                              at timestamptz)
    RETURNS double precision
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_job_active_seconds';

CREATE OR REPLACE FUNCTION train_data.eta_observe(interval_ewma double precision, last_active double precision,
                                       active_now double precision)
    RETURNS double precision
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_eta_observe';

CREATE OR REPLACE FUNCTION train_data.calculate_batch_progress(job_id uuid)
    RETURNS numeric
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_calculate_batch_progress';

CREATE OR REPLACE FUNCTION train_data.estimate_time_remaining(job_id uuid)
    RETURNS interval
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_estimate_time_remaining';

CREATE OR REPLACE FUNCTION train_data.batch_progress(job_id uuid)
    RETURNS TABLE (batch_job_id uuid, status train_data.batch_job_status, total_items integer,
                   queued_items integer, processing_items integer, completed_items integer,
                   failed_items integer, cancelled_items integer, percent numeric,
                   estimated_time_remaining interval, items_per_minute numeric,
                   started_at timestamptz, completed_at timestamptz)
    LANGUAGE c STABLE PARALLEL SAFE ROWS 1
    AS 'MODULE_PATHNAME', 'train_data_batch_progress';

CREATE OR REPLACE FUNCTION train_data.export_jsonl(shape text DEFAULT 'original', scope text DEFAULT 'all',
                                        ids uuid[] DEFAULT NULL, filters jsonb DEFAULT NULL,
                                        options jsonb DEFAULT '{}')
    RETURNS SETOF text
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'train_data_export_jsonl';

CREATE OR REPLACE FUNCTION train_data.validate_training_line(line text)
    RETURNS text[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_validate_training_line';

CREATE OR REPLACE FUNCTION train_data.export_conversations(format text, scope text DEFAULT 'all', config jsonb DEFAULT '{}',
                                                ids uuid[] DEFAULT NULL, filters jsonb DEFAULT NULL)
    RETURNS SETOF text
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'train_data_export_conversations';
