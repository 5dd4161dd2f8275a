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

-- Descriptions: every function, type, table and column a user touches has one
-- (the descriptions 1.0 already set are unchanged and not repeated here).

COMMENT ON FUNCTION train_data.touch_timestamps() IS
    'Trigger function (BEFORE INSERT OR UPDATE, FOR EACH ROW): sets each timestamptz column named in the trigger arguments to now(); usable on your own tables';

COMMENT ON FUNCTION train_data.render_template(text, jsonb, jsonb, boolean) IS
    'Renders a template text with parameters checked against the declared variables; returns {resolved, parameters, missing_required, errors, warnings, success}';

COMMENT ON FUNCTION train_data.check_template(text, jsonb) IS
    'True when a template can be stored (well-formed variables, only safe placeholders); otherwise raises an error saying what is wrong';

COMMENT ON FUNCTION train_data.parse_generation_response(jsonb, jsonb) IS
    'Parses a model response (Messages API response, conversation object or text) into {title, turns, input_tokens, output_tokens, model, stop_reason}; raises an error when it holds no usable conversation';

COMMENT ON FUNCTION train_data.quality_metrics(jsonb) IS
    'Quality metrics of a conversation''s turns ([{role, content}]): overall score 0-10 (Engine A of the original system), component scores, issues, suggestions and signals';

COMMENT ON FUNCTION train_data.quality_score(jsonb) IS
    'Overall quality score 0-10 of a conversation''s turns: the overall member of quality_metrics()';

COMMENT ON FUNCTION train_data.quality_status(numeric, numeric) IS
    'Status a quality score earns under a threshold: generated at or above it, pending_review up to 2 points below, needs_revision lower';

COMMENT ON FUNCTION train_data.clip_for_message(text) IS
    'Internal: a user value as error messages quote it: NULL as NULL, whole up to 64 characters, else its first 64 characters and "..."';

COMMENT ON FUNCTION train_data.uuid_v7() IS
    'A new time-ordered UUID (RFC 9562 version 7): the default id of conversations and their turns';

COMMENT ON SEQUENCE train_data.conversation_number_seq IS 'Number part of the readable conversation ids make_conversation_id() makes';

COMMENT ON FUNCTION train_data.make_conversation_id(train_data.tier_type, text) IS
    'A new readable conversation id <tier prefix>_<persona slug>_<number>, e.g. tpl_anxious_investor_000042; takes the number from conversation_number_seq';

COMMENT ON FUNCTION train_data.conversations_default_id() IS
    'Internal: trigger function (BEFORE INSERT on conversations) that fills conversation_id with make_conversation_id() when none is given';

COMMENT ON COLUMN train_data.templates.id IS 'Template id';
COMMENT ON COLUMN train_data.templates.name IS 'Unique name, 1-200 characters';
COMMENT ON COLUMN train_data.templates.description IS 'Free-text description for people choosing a template';
COMMENT ON COLUMN train_data.templates.category IS 'Category used to group templates, 1-100 characters';
COMMENT ON COLUMN train_data.templates.tier IS 'Tier the template is for: template, scenario or edge_case';
COMMENT ON COLUMN train_data.templates.structure IS 'Prompt text with {{variable}} placeholders, 10-10000 characters; checked by check_template()';
COMMENT ON COLUMN train_data.templates.variables IS 'Declared variables: JSON array of {name, type (text, number or dropdown), defaultValue, options, helpText}';
COMMENT ON COLUMN train_data.templates.tone IS 'Intended tone of the generated conversations, at most 50 characters';
COMMENT ON COLUMN train_data.templates.complexity_baseline IS 'Intended complexity of the generated conversations, 1-10';
COMMENT ON COLUMN train_data.templates.style_notes IS 'Free-text style guidance for the prompt author';
COMMENT ON COLUMN train_data.templates.example_conversation IS 'An example of a good conversation for this template';
COMMENT ON COLUMN train_data.templates.quality_threshold IS 'Quality score 0-10 a new conversation needs to be generated rather than pending_review or needs_revision (see quality_status())';
COMMENT ON COLUMN train_data.templates.required_elements IS 'Elements a conversation from this template should contain (kept for the application)';
COMMENT ON COLUMN train_data.templates.applicable_personas IS 'Personas the template suits (kept for the application)';
COMMENT ON COLUMN train_data.templates.applicable_emotions IS 'Emotions the template suits (kept for the application)';
COMMENT ON COLUMN train_data.templates.usage_count IS 'Uses counted by increment_template_usage(); the batch engine does not write it';
COMMENT ON COLUMN train_data.templates.rating IS 'Rating 0-5 set by the application';
COMMENT ON COLUMN train_data.templates.version IS 'Version number of the template, from 1, set by the application';
COMMENT ON COLUMN train_data.templates.is_active IS 'Only active templates can be rendered by resolve_template() or used in new batches';
COMMENT ON COLUMN train_data.templates.created_by IS 'Creator: the only user who may change or delete the template';
COMMENT ON COLUMN train_data.templates.created_at IS 'When the template was created';
COMMENT ON COLUMN train_data.templates.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';
COMMENT ON COLUMN train_data.templates.last_modified IS 'Set to now() on every update (touch_timestamps trigger); kept for compatibility with the original system';

COMMENT ON COLUMN train_data.scenarios.id IS 'Scenario id';
COMMENT ON COLUMN train_data.scenarios.name IS 'Name, 1-200 characters';
COMMENT ON COLUMN train_data.scenarios.description IS 'Free-text description';
COMMENT ON COLUMN train_data.scenarios.parent_template_id IS 'Template the scenario belongs to; a template with scenarios cannot be deleted';
COMMENT ON COLUMN train_data.scenarios.parent_template_name IS 'Name of the parent template, copied from it on insert and when the parent changes (scenarios_before_write trigger)';
COMMENT ON COLUMN train_data.scenarios.context IS 'Situation the conversation is set in, 1-5000 characters';
COMMENT ON COLUMN train_data.scenarios.parameter_values IS 'Parameter values for the parent template, a JSON object';
COMMENT ON COLUMN train_data.scenarios.variation_count IS 'Number of variations made from the scenario, set by the application';
COMMENT ON COLUMN train_data.scenarios.status IS 'draft, active or archived';
COMMENT ON COLUMN train_data.scenarios.quality_score IS 'Quality score 0-10 set by the application';
COMMENT ON COLUMN train_data.scenarios.topic IS 'Topic of the conversation, 1-100 characters';
COMMENT ON COLUMN train_data.scenarios.persona IS 'Persona of the user in the conversation, 1-100 characters';
COMMENT ON COLUMN train_data.scenarios.emotional_arc IS 'Emotional arc of the conversation, 1-100 characters';
COMMENT ON COLUMN train_data.scenarios.generation_status IS 'not_generated, generated or error; set by update_scenario_generation_status()';
COMMENT ON COLUMN train_data.scenarios.conversation_id IS 'Id of the conversation generated from the scenario (no foreign key)';
COMMENT ON COLUMN train_data.scenarios.error_message IS 'Why generation failed; kept only while generation_status is error';
COMMENT ON COLUMN train_data.scenarios.created_by IS 'Creator: the only user who may change or delete the scenario';
COMMENT ON COLUMN train_data.scenarios.created_at IS 'When the scenario was created';
COMMENT ON COLUMN train_data.scenarios.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.edge_cases.id IS 'Edge case id';
COMMENT ON COLUMN train_data.edge_cases.title IS 'Title, 1-200 characters';
COMMENT ON COLUMN train_data.edge_cases.description IS 'What the edge case tests, 1-2000 characters';
COMMENT ON COLUMN train_data.edge_cases.parent_scenario_id IS 'Scenario the edge case belongs to; a scenario with edge cases cannot be deleted';
COMMENT ON COLUMN train_data.edge_cases.parent_scenario_name IS 'Name of the parent scenario, copied from it on insert and when the parent changes (edge_cases_before_write trigger)';
COMMENT ON COLUMN train_data.edge_cases.edge_case_type IS 'error_condition, boundary_value, unusual_input, complex_combination or failure_scenario';
COMMENT ON COLUMN train_data.edge_cases.complexity IS 'Complexity 1-10';
COMMENT ON COLUMN train_data.edge_cases.test_status IS 'not_tested, passed or failed; set by the application';
COMMENT ON COLUMN train_data.edge_cases.test_results IS 'Test results as a JSON object, set by the application';
COMMENT ON COLUMN train_data.edge_cases.created_by IS 'Creator: the only user who may change or delete the edge case';
COMMENT ON COLUMN train_data.edge_cases.created_at IS 'When the edge case was created';
COMMENT ON COLUMN train_data.edge_cases.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.template_analytics.id IS 'Row id';
COMMENT ON COLUMN train_data.template_analytics.template_id IS 'Template the statistics are about; deleted with it';
COMMENT ON COLUMN train_data.template_analytics.period_start IS 'Start of the period';
COMMENT ON COLUMN train_data.template_analytics.period_end IS 'End of the period, after period_start; one row per template and period';
COMMENT ON COLUMN train_data.template_analytics.generation_count IS 'Generations in the period';
COMMENT ON COLUMN train_data.template_analytics.success_count IS 'Successful generations in the period';
COMMENT ON COLUMN train_data.template_analytics.failure_count IS 'Failed generations in the period';
COMMENT ON COLUMN train_data.template_analytics.avg_quality_score IS 'Average quality score 0-10 in the period';
COMMENT ON COLUMN train_data.template_analytics.min_quality_score IS 'Lowest quality score 0-10 in the period';
COMMENT ON COLUMN train_data.template_analytics.max_quality_score IS 'Highest quality score 0-10 in the period';
COMMENT ON COLUMN train_data.template_analytics.approval_count IS 'Conversations approved in the period';
COMMENT ON COLUMN train_data.template_analytics.rejection_count IS 'Conversations rejected in the period';
COMMENT ON COLUMN train_data.template_analytics.approval_rate IS 'Percent approved, 0-100';
COMMENT ON COLUMN train_data.template_analytics.avg_duration_ms IS 'Average generation time in milliseconds';
COMMENT ON COLUMN train_data.template_analytics.avg_cost_usd IS 'Average cost of a generation in USD';
COMMENT ON COLUMN train_data.template_analytics.total_cost_usd IS 'Total cost of the period in USD';
COMMENT ON COLUMN train_data.template_analytics.calculated_at IS 'When the row was calculated';

COMMENT ON COLUMN train_data.conversations.id IS 'Conversation id, time-ordered (uuid_v7())';
COMMENT ON COLUMN train_data.conversations.conversation_id IS 'Readable id <tier prefix>_<persona slug>_<number>, unique per owner, filled by make_conversation_id() when not given';
COMMENT ON COLUMN train_data.conversations.document_id IS 'Source document in the application (no foreign key)';
COMMENT ON COLUMN train_data.conversations.chunk_id IS 'Source chunk of the document in the application (no foreign key)';
COMMENT ON COLUMN train_data.conversations.title IS 'Title: the response''s, else <persona> - <topic> (<emotion>)';
COMMENT ON COLUMN train_data.conversations.persona IS 'Persona of the user in the conversation, from the generation parameters (Unknown when none)';
COMMENT ON COLUMN train_data.conversations.emotion IS 'Emotion of the user, from the generation parameters (Neutral when none)';
COMMENT ON COLUMN train_data.conversations.topic IS 'Topic, from the batch item or the generation parameters';
COMMENT ON COLUMN train_data.conversations.intent IS 'Intent, from the generation parameters';
COMMENT ON COLUMN train_data.conversations.tone IS 'Tone, from the generation parameters';
COMMENT ON COLUMN train_data.conversations.tier IS 'Tier of the prompt the conversation was generated from';
COMMENT ON COLUMN train_data.conversations.category IS 'Categories, from the generation parameters; export filters match any of them';
COMMENT ON COLUMN train_data.conversations.status IS 'Life-cycle state; every change follows conversation_transition_allowed()';
COMMENT ON COLUMN train_data.conversations.quality_score IS 'Overall quality score 0-10 (quality_metrics ->> ''overall'')';
COMMENT ON COLUMN train_data.conversations.quality_metrics IS 'The object quality_metrics() returned for the turns';
COMMENT ON COLUMN train_data.conversations.turn_count IS 'Number of turns';
COMMENT ON COLUMN train_data.conversations.total_tokens IS 'Input plus output tokens of the model call that generated it';
COMMENT ON COLUMN train_data.conversations.estimated_cost_usd IS 'Estimated cost in USD, set by the application';
COMMENT ON COLUMN train_data.conversations.actual_cost_usd IS 'Cost of the model call in USD (model_cost()); NULL for a model with no known price';
COMMENT ON COLUMN train_data.conversations.generation_duration_ms IS 'Duration of the model call in milliseconds, as the worker reported it';
COMMENT ON COLUMN train_data.conversations.template_id IS 'Template it was generated from (no foreign key: the conversation outlives the template)';
COMMENT ON COLUMN train_data.conversations.approved_by IS 'User who approved it: always the owner, written by review_conversation() (grants no visibility)';
COMMENT ON COLUMN train_data.conversations.approved_at IS 'When it was approved';
COMMENT ON COLUMN train_data.conversations.reviewer_notes IS 'Comment of the latest review that had one';
COMMENT ON COLUMN train_data.conversations.review_history IS 'Review actions, oldest first: JSON array of {id, action, performedBy, timestamp, comment, reasons} (append_review_action())';
COMMENT ON COLUMN train_data.conversations.parent_id IS 'What the conversation was made from, in the table parent_type names (no foreign key); set together with parent_type';
COMMENT ON COLUMN train_data.conversations.parent_type IS 'template, scenario or conversation (a regeneration); set together with parent_id';
COMMENT ON COLUMN train_data.conversations.parameters IS 'Generation parameters, with the template defaults applied';
COMMENT ON COLUMN train_data.conversations.error_message IS 'Why generation failed, for a failed conversation';
COMMENT ON COLUMN train_data.conversations.created_at IS 'When the conversation was created';
COMMENT ON COLUMN train_data.conversations.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';
COMMENT ON COLUMN train_data.conversations.created_by IS 'Owner: the batch owner for generated conversations; sees and changes the conversation';

COMMENT ON COLUMN train_data.conversation_turns.id IS 'Turn id, time-ordered (uuid_v7())';
COMMENT ON COLUMN train_data.conversation_turns.conversation_id IS 'Conversation the turn belongs to; deleted with it';
COMMENT ON COLUMN train_data.conversation_turns.turn_number IS 'Position in the conversation, from 1';
COMMENT ON COLUMN train_data.conversation_turns.role IS 'user or assistant';
COMMENT ON COLUMN train_data.conversation_turns.content IS 'Text of the turn';
COMMENT ON COLUMN train_data.conversation_turns.token_count IS 'Estimated tokens: characters / 4, rounded up';
COMMENT ON COLUMN train_data.conversation_turns.created_at IS 'When the turn was stored';

COMMENT ON COLUMN train_data.batch_jobs.id IS 'Batch job id';
COMMENT ON COLUMN train_data.batch_jobs.name IS 'Name, 1-200 characters';
COMMENT ON COLUMN train_data.batch_jobs.status IS 'queued until the first claim, then processing; paused, completed, failed or cancelled';
COMMENT ON COLUMN train_data.batch_jobs.priority IS 'high, normal or low: workers claim from higher priority jobs first, then older ones';
COMMENT ON COLUMN train_data.batch_jobs.total_items IS 'Number of items';
COMMENT ON COLUMN train_data.batch_jobs.completed_items IS 'Items completed successfully; filled when the job ends, live counts are in batch_progress()';
COMMENT ON COLUMN train_data.batch_jobs.failed_items IS 'Items failed for good; filled when the job ends, live counts are in batch_progress()';
COMMENT ON COLUMN train_data.batch_jobs.cancelled_items IS 'Items cancelled; filled when the job ends, live counts are in batch_progress()';
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

COMMENT ON COLUMN train_data.batch_items.id IS 'Batch item id';
COMMENT ON COLUMN train_data.batch_items.batch_job_id IS 'Job the item belongs to; deleted with it';
COMMENT ON COLUMN train_data.batch_items.conversation_id IS 'Conversation the item produced, set on completion';
COMMENT ON COLUMN train_data.batch_items.template_id IS 'Template the prompt is rendered from; a template with items cannot be deleted';
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
COMMENT ON COLUMN train_data.batch_items.attempts IS 'Times the item has been claimed';
COMMENT ON COLUMN train_data.batch_items.max_attempts IS 'Claims allowed before a retryable failure or a lost lease fails the item for good';
COMMENT ON COLUMN train_data.batch_items.available_at IS 'Not claimed before this time (retry backoff)';
COMMENT ON COLUMN train_data.batch_items.lease_expires_at IS 'End of the current claim''s lease; an item past it is taken back by the next claim';
COMMENT ON COLUMN train_data.batch_items.worker IS 'Name of the worker that claimed the item last';
COMMENT ON COLUMN train_data.batch_items.request IS 'Messages API request body built at the latest claim';
COMMENT ON COLUMN train_data.batch_items.started_at IS 'When the item was first claimed';
COMMENT ON COLUMN train_data.batch_items.finished_at IS 'When the item reached a final status';
COMMENT ON COLUMN train_data.batch_items.created_at IS 'When the item was created';
COMMENT ON COLUMN train_data.batch_items.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.batch_job_counters.batch_job_id IS 'Job the counters belong to; deleted with it';
COMMENT ON COLUMN train_data.batch_job_counters.shard IS 'Shard 0-15: the writing backend''s process id modulo 16';
COMMENT ON COLUMN train_data.batch_job_counters.completed_items IS 'Items completed, counted in this shard';
COMMENT ON COLUMN train_data.batch_job_counters.failed_items IS 'Items failed for good, counted in this shard';
COMMENT ON COLUMN train_data.batch_job_counters.cancelled_items IS 'Items cancelled, counted in this shard';
COMMENT ON COLUMN train_data.batch_job_counters.in_flight IS 'Change in claimed items counted in this shard (the job''s sum is the items in flight)';
COMMENT ON COLUMN train_data.batch_job_counters.interval_ewma IS 'Smoothed seconds between this shard''s final events, on the job''s active clock; NULL before the first';
COMMENT ON COLUMN train_data.batch_job_counters.last_active IS 'The job''s active clock in seconds at this shard''s last final event; NULL before the first';

COMMENT ON COLUMN train_data.model_prices.model_id IS 'Exact model id, or a family row claude-opus, claude-sonnet or claude-haiku; an exact id takes precedence';
COMMENT ON COLUMN train_data.model_prices.input_usd_per_mtok IS 'USD per million input tokens';
COMMENT ON COLUMN train_data.model_prices.output_usd_per_mtok IS 'USD per million output tokens';
COMMENT ON COLUMN train_data.model_prices.builtin IS 'Installed by the extension: cannot be changed or deleted, and left out of dumps';
COMMENT ON COLUMN train_data.model_prices.created_at IS 'When the row was added';
COMMENT ON COLUMN train_data.model_prices.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON FUNCTION train_data.model_prices_protect_builtin() IS
    'Internal: trigger function (BEFORE UPDATE OR DELETE on model_prices) that refuses to change or delete a built-in price row';

COMMENT ON COLUMN train_data.generation_logs.id IS 'Log row id';
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
COMMENT ON COLUMN train_data.generation_logs.status IS 'success, failed, rate_limited or timeout';
COMMENT ON COLUMN train_data.generation_logs.retry_attempt IS 'Attempt number of the call, counted from 0';
COMMENT ON COLUMN train_data.generation_logs.input_tokens IS 'Input tokens the model reported';
COMMENT ON COLUMN train_data.generation_logs.output_tokens IS 'Output tokens the model reported';
COMMENT ON COLUMN train_data.generation_logs.cost_usd IS 'Cost of the call in USD (model_cost()); NULL for a model with no known price';
COMMENT ON COLUMN train_data.generation_logs.duration_ms IS 'Duration of the call in milliseconds, as the worker reported it';
COMMENT ON COLUMN train_data.generation_logs.error_message IS 'Error message of a failed call';
COMMENT ON COLUMN train_data.generation_logs.error_code IS 'Error code of a failed call, as the worker gave it';
COMMENT ON COLUMN train_data.generation_logs.created_at IS 'When the call was logged';
COMMENT ON COLUMN train_data.generation_logs.created_by IS 'Owner: the batch owner';

COMMENT ON COLUMN train_data.export_logs.id IS 'Row id';
COMMENT ON COLUMN train_data.export_logs.export_id IS 'Public id of the export, as export_status() takes it';
COMMENT ON COLUMN train_data.export_logs.user_id IS 'User who made the export: the only one who sees it';
COMMENT ON COLUMN train_data.export_logs."timestamp" IS 'When the export started';
COMMENT ON COLUMN train_data.export_logs.format IS 'json, jsonl, csv or markdown';
COMMENT ON COLUMN train_data.export_logs.config IS 'The ExportConfig the export was made with';
COMMENT ON COLUMN train_data.export_logs.conversation_count IS 'Conversations exported; filled when the export completes';
COMMENT ON COLUMN train_data.export_logs.file_size IS 'Bytes of the records joined by one newline; filled when the export completes';
COMMENT ON COLUMN train_data.export_logs.status IS 'queued, processing (from the first record), completed, failed or expired';
COMMENT ON COLUMN train_data.export_logs.file_url IS 'Where the file can be downloaded, set by the application';
COMMENT ON COLUMN train_data.export_logs.expires_at IS '24 hours after completion; then the export becomes expired';
COMMENT ON COLUMN train_data.export_logs.error_message IS 'Why the export failed, set by the application';
COMMENT ON COLUMN train_data.export_logs.downloaded_count IS 'Downloads of the file, set by the application';
COMMENT ON COLUMN train_data.export_logs.last_downloaded_at IS 'Time of the last download, set by the application';
COMMENT ON COLUMN train_data.export_logs.created_at IS 'When the row was created';
COMMENT ON COLUMN train_data.export_logs.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.user_preferences.id IS 'Row id';
COMMENT ON COLUMN train_data.user_preferences.user_id IS 'User the preferences belong to: one row per user';
COMMENT ON COLUMN train_data.user_preferences.preferences IS 'Preferences document (partial documents are merged over default_user_preferences()); validated on every write';
COMMENT ON COLUMN train_data.user_preferences.created_at IS 'When the row was created';
COMMENT ON COLUMN train_data.user_preferences.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.ai_configurations.id IS 'Configuration id';
COMMENT ON COLUMN train_data.ai_configurations.user_id IS 'User the configuration belongs to; NULL for an organization''s';
COMMENT ON COLUMN train_data.ai_configurations.organization_id IS 'Organization the configuration belongs to; NULL for a user''s';
COMMENT ON COLUMN train_data.ai_configurations.config_name IS 'Name, unique per user or organization';
COMMENT ON COLUMN train_data.ai_configurations.configuration IS 'Configuration document (merged over default_ai_config()); validated on every write';
COMMENT ON COLUMN train_data.ai_configurations.is_active IS 'Only active configurations are considered by get_effective_ai_config()';
COMMENT ON COLUMN train_data.ai_configurations.priority IS 'Among a user''s active configurations the highest priority is in force (the newest on ties)';
COMMENT ON COLUMN train_data.ai_configurations.created_at IS 'When the configuration was created';
COMMENT ON COLUMN train_data.ai_configurations.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';
COMMENT ON COLUMN train_data.ai_configurations.created_by IS 'User who created the configuration';

COMMENT ON COLUMN train_data.ai_configuration_audit.id IS 'Audit row id';
COMMENT ON COLUMN train_data.ai_configuration_audit.config_id IS 'Configuration changed; NULL for a deletion or once the configuration is deleted';
COMMENT ON COLUMN train_data.ai_configuration_audit.user_id IS 'Owner of the configuration, kept so the trail stays visible after a deletion';
COMMENT ON COLUMN train_data.ai_configuration_audit.action IS 'INSERT, UPDATE or DELETE';
COMMENT ON COLUMN train_data.ai_configuration_audit.old_value IS 'The row before the change, as JSON; NULL for an insertion';
COMMENT ON COLUMN train_data.ai_configuration_audit.new_value IS 'The row after the change, as JSON; NULL for a deletion';
COMMENT ON COLUMN train_data.ai_configuration_audit.changed_by IS 'User who made the change';
COMMENT ON COLUMN train_data.ai_configuration_audit.changed_at IS 'When the change was made';

COMMENT ON COLUMN train_data.configuration_audit_log.id IS 'Audit row id';
COMMENT ON COLUMN train_data.configuration_audit_log.user_id IS 'User whose settings changed';
COMMENT ON COLUMN train_data.configuration_audit_log.config_type IS 'user_preference or ai_config';
COMMENT ON COLUMN train_data.configuration_audit_log.config_id IS 'Row changed (user_preferences.id or ai_configurations.id)';
COMMENT ON COLUMN train_data.configuration_audit_log.changed_field IS 'Top-level setting that changed';
COMMENT ON COLUMN train_data.configuration_audit_log.old_value IS 'The setting before the change; NULL when it was absent';
COMMENT ON COLUMN train_data.configuration_audit_log.new_value IS 'The setting after the change; NULL when it was removed';
COMMENT ON COLUMN train_data.configuration_audit_log.change_reason IS 'Why the change was made, set by the application';
COMMENT ON COLUMN train_data.configuration_audit_log.client_ip IS 'IP address of the client, set by the application';
COMMENT ON COLUMN train_data.configuration_audit_log.user_agent IS 'User agent of the client, set by the application';
COMMENT ON COLUMN train_data.configuration_audit_log.changed_by IS 'User who made the change';
COMMENT ON COLUMN train_data.configuration_audit_log.changed_at IS 'When the change was made';

COMMENT ON FUNCTION train_data.template_by_id(uuid) IS
    'Internal: the stored template with this id; an error when it does not exist or is not visible';

COMMENT ON FUNCTION train_data.resolve_template(uuid, jsonb, boolean) IS
    'Renders a stored, active template with parameters: the result of render_template() plus template_id and template_name';

COMMENT ON FUNCTION train_data.preview_template(uuid, jsonb) IS
    'resolve_template() with HTML escaping, for showing a prompt in a web page';

COMMENT ON FUNCTION train_data.increment_template_usage(uuid) IS
    'Adds one to a template''s usage_count and returns the new count; only the template''s creator may do it';

COMMENT ON FUNCTION train_data.get_template_scenario_count(uuid) IS
    'Number of scenarios (visible to the caller) under a template';

COMMENT ON FUNCTION train_data.get_scenario_edge_case_count(uuid) IS
    'Number of edge cases (visible to the caller) under a scenario';

COMMENT ON FUNCTION train_data.safe_delete_template(uuid) IS
    'Deletes a template unless scenarios or batch items still use it; returns (success, message) instead of raising';

COMMENT ON FUNCTION train_data.safe_delete_scenario(uuid) IS
    'Deletes a scenario unless edge cases still use it; returns (success, message) instead of raising';

COMMENT ON FUNCTION train_data.scenarios_before_write() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE on scenarios) that copies the parent template''s name and clears error_message unless generation_status is error';

COMMENT ON FUNCTION train_data.edge_cases_before_write() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE on edge_cases) that copies the parent scenario''s name';

COMMENT ON FUNCTION train_data.update_scenario_generation_status(uuid, text, uuid, text) IS
    'Records a scenario''s generation outcome (not_generated, generated or error) with its conversation and error message; returns the updated scenario';

COMMENT ON FUNCTION train_data.model_price(text) IS
    'Price row of a model: its exact model_id, else its Claude family (opus, sonnet, haiku) by name; NULL when neither is known';

COMMENT ON FUNCTION train_data.model_cost(text, bigint, bigint) IS
    'USD cost of a model call: tokens times the price per million, rounded to 6 decimals; NULL for a model with no known price';

COMMENT ON FUNCTION train_data.estimate_batch_cost(train_data.tier_type, integer, integer, integer) IS
    'The original system''s batch estimate: tokens, cost in USD and time for count conversations of a tier, as a JSON object';

COMMENT ON FUNCTION train_data.jsonb_merge_deep(jsonb, jsonb) IS
    'Merges patch into base: objects member by member, recursively; any other value in patch replaces the one in base';

COMMENT ON FUNCTION train_data.jsonb_unknown_keys(jsonb, jsonb, text, text[]) IS
    'Internal: dotted paths of the keys of doc that reference does not have (arrays are leaves; members of open_objects are free-form)';

COMMENT ON FUNCTION train_data.check_setting_range(text, jsonb, text[], numeric, numeric) IS
    'Internal: raises an error unless the value at path in a settings document is a number within [low, high] (NULL bounds are open)';

COMMENT ON FUNCTION train_data.check_setting_choice(text, jsonb, text[], text[]) IS
    'Internal: raises an error unless the value at path in a settings document is one of the allowed strings';

COMMENT ON FUNCTION train_data.check_setting_keys(text, jsonb, jsonb, text[]) IS
    'Internal: raises an error when a settings document is not an object or has keys the defaults do not have';

COMMENT ON FUNCTION train_data.default_ai_config() IS
    'The AI configuration used when a user has none: model, temperature, maxTokens, topP, rate limiting, retry strategy, cost budget and timeouts';

COMMENT ON FUNCTION train_data.validate_ai_config(jsonb) IS
    'Validates a (partial) AI configuration; returns it merged over default_ai_config(), or raises an error naming the setting and its limit';

COMMENT ON FUNCTION train_data.get_effective_ai_config(uuid) IS
    'AI configuration in force for a user: their active configuration with the highest priority (newest on ties) merged over the defaults; the defaults when there is none';

COMMENT ON FUNCTION train_data.validate_settings_row() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE on ai_configurations and user_preferences) that validates the stored document; skipped by restores (row_security off)';

COMMENT ON FUNCTION train_data.ai_configurations_audit() IS
    'Internal: trigger function (AFTER INSERT OR UPDATE OR DELETE on ai_configurations) that records the old and new row in ai_configuration_audit when a user id is set';

COMMENT ON FUNCTION train_data.default_user_preferences() IS
    'The preferences a user starts with: theme, table layout, notifications, default filters, export, keyboard shortcuts, quality thresholds and retry settings';

COMMENT ON FUNCTION train_data.validate_user_preferences(jsonb) IS
    'Validates (partial) user preferences; returns them merged over default_user_preferences(), or raises an error naming the setting and its limit';

COMMENT ON FUNCTION train_data.user_preferences_audit() IS
    'Internal: trigger function (AFTER UPDATE OF preferences on user_preferences) that logs each changed top-level setting in configuration_audit_log when a user id is set';

COMMENT ON FUNCTION train_data.get_user_preferences() IS
    'The current user''s preferences merged over the defaults; creates the user''s row with the defaults on first use';

COMMENT ON FUNCTION train_data.update_user_preferences(jsonb) IS
    'Merges changes into the current user''s preferences, validates and stores them; returns the result';

COMMENT ON FUNCTION train_data.build_generation_request(uuid, jsonb, text, jsonb) IS
    'Anthropic Messages API request body for a stored template: the rendered prompt as the user message, an optional system prompt, model, max_tokens and temperature from config (default: the current user''s effective configuration)';

COMMENT ON FUNCTION train_data.job_active_seconds(timestamptz, interval, timestamptz, timestamptz, timestamptz) IS
    'Internal: seconds a batch job has been active at a given time; its clock stops while it is paused and when it ends';

COMMENT ON FUNCTION train_data.eta_observe(double precision, double precision, double precision) IS
    'Internal: the smoothed interval between final events of a counter shard after one more final event (time-remaining estimate)';

COMMENT ON FUNCTION train_data.bump_counters(uuid, integer, integer, integer, integer, boolean) IS
    'Internal: adds to the live counters of a batch job in this backend''s shard of batch_job_counters (and, for a final event, updates its rate)';

COMMENT ON FUNCTION train_data.rollup_counters(uuid) IS
    'Internal: copies the sums of a job''s live counters into its batch_jobs row (done when the job ends)';

COMMENT ON FUNCTION train_data.notify_progress(uuid, uuid, text) IS
    'Internal: sends a progress event {batch_job_id, item_id, event} on channel train_data_progress';

COMMENT ON FUNCTION train_data.finish_job_if_done(uuid) IS
    'Internal: closes a batch job once no item is queued or in flight: completed, or failed when none completed and some failed';

COMMENT ON FUNCTION train_data.check_batch_options(text, jsonb, integer, text, text) IS
    'Internal: checks the options every batch shares (name, shared parameters, concurrency, error handling, priority); raises an error for a bad one';

COMMENT ON FUNCTION train_data.create_batch(text, jsonb, jsonb, integer, text, text) IS
    'Creates a batch job from items [{template_id, tier?, parameters?, topic?}]; shared parameters are merged into every item; a batch with any invalid item is rejected whole; returns the job id';

COMMENT ON FUNCTION train_data.create_batch_matrix(text, uuid[], jsonb, jsonb, integer, text, text, train_data.tier_type) IS
    'Creates a batch job with one item per template and parameter set (templates x sets); returns the job id';

COMMENT ON FUNCTION train_data.log_generation(uuid, uuid, uuid, jsonb, jsonb, integer, uuid, uuid, jsonb, text, integer, integer, numeric, integer, text, text) IS
    'Internal: inserts the generation_logs row of one model call of a batch item';

COMMENT ON FUNCTION train_data.lock_item_in_flight(uuid) IS
    'Internal: locks a batch item in flight and returns it with its job''s owner and error handling; an error when it is unknown, not processing, cancelled or its lease expired';

COMMENT ON FUNCTION train_data.claim_batch_items(text, integer, interval) IS
    'Worker function: claims up to max_items items under a lease (jobs by priority then age, at most concurrent_processing in flight per job, expired leases taken back first); each row carries the rendered prompt and a ready Messages API request';

COMMENT ON FUNCTION train_data.heartbeat_batch_item(uuid, numeric, interval) IS
    'Worker function: extends the lease of an item in flight and records its progress; returns the new lease end';

COMMENT ON FUNCTION train_data.fail_batch_item(uuid, text, text, boolean) IS
    'Worker function: records a failed model call; the item is queued again with backoff while attempts remain and the error is retryable, else fails for good (with error_handling stop, failing the job too); returns the item''s new status';

COMMENT ON FUNCTION train_data.complete_batch_item(uuid, jsonb, integer) IS
    'Worker function: stores a model response for an item in flight (conversation, turns, quality score, generation log, counters) in one transaction; returns the conversation id, or NULL with a warning when the response is unusable';

COMMENT ON FUNCTION train_data.lock_job(uuid) IS
    'Internal: takes the transaction-scoped advisory lock of a batch job, which claims and pause, resume and cancel of that job share';

COMMENT ON FUNCTION train_data.lock_visible_job(uuid) IS
    'Internal: takes the job lock of a batch job the caller can see and returns the job; an error as for an unknown job otherwise';

COMMENT ON FUNCTION train_data.job_state_error(uuid, text) IS
    'Internal: raises the error for a batch job that is not in the state an action needs';

COMMENT ON FUNCTION train_data.pause_batch(uuid) IS
    'Pauses a processing batch job: no new item starts, items in flight finish; returns the job';

COMMENT ON FUNCTION train_data.resume_batch(uuid) IS
    'Resumes a paused batch job; the time it spent paused does not count towards its throughput; returns the job';

COMMENT ON FUNCTION train_data.cancel_batch(uuid) IS
    'Cancels a batch job that has not ended: its queued and in-flight items become cancelled; returns the job';

COMMENT ON FUNCTION train_data.calculate_batch_progress(uuid) IS
    'Percent of a batch job''s items in a final state (completed, failed or cancelled), two decimals; NULL for an unknown or invisible job';

COMMENT ON FUNCTION train_data.estimate_time_remaining(uuid) IS
    'Estimated time until a batch job ends, from its recent throughput; NULL while nothing has finished, 0 once the job has ended';

COMMENT ON FUNCTION train_data.batch_progress(uuid) IS
    'Live state of a batch job in one row: counts per item status, percent, estimated time remaining and items per minute; no row for an unknown or invisible job';

COMMENT ON FUNCTION train_data.score_conversation(uuid) IS
    '(Re)scores a stored conversation from its turns, stores quality_score and quality_metrics and returns the metrics';

COMMENT ON FUNCTION train_data.conversation_transition_allowed(train_data.conversation_status, train_data.conversation_status) IS
    'Whether a conversation may go from one status to another in its life cycle (the same status always may; nothing leaves archived)';

COMMENT ON FUNCTION train_data.conversations_check_transition() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE OF status on conversations) that enforces the life cycle and a recorded review for approval and rejection; skipped by restores';

COMMENT ON FUNCTION train_data.append_review_action(uuid, text, uuid, text, text[]) IS
    'Appends a review action {id, action, performedBy, timestamp, comment, reasons} to a conversation''s review_history';

COMMENT ON FUNCTION train_data.review_conversation(uuid, text, text, text[]) IS
    'Reviews a generated conversation as the current user (approved, rejected or revision_requested), recording it in review_history; returns the conversation';

COMMENT ON FUNCTION train_data.bulk_review_conversations(uuid[], text, text, text[]) IS
    'Reviews many conversations with the same action; one row per id, failures reported in the row instead of raised';

COMMENT ON FUNCTION train_data.regenerate_conversation(uuid, jsonb) IS
    'Queues a new generation of a conversation from its template and parameters (overridden by parameters); returns the batch item; on completion the new version archives this one';

COMMENT ON FUNCTION train_data.conversation_versions(uuid) IS
    'Every version of a conversation (its regeneration chain), oldest first';

COMMENT ON FUNCTION train_data.review_queue(integer, integer, text, text, numeric) IS
    'Conversations waiting for review (pending_review) visible to the caller, a page at a time; lowest quality and oldest first by default';

COMMENT ON FUNCTION train_data.review_queue_statistics() IS
    'Number, average quality and oldest creation time of the pending_review conversations visible to the caller';

COMMENT ON FUNCTION train_data.conversation_statistics() IS
    'Statistics of the conversations visible to the caller as a JSON object: totals by tier and status, quality bands, tokens, cost, approval rate';

COMMENT ON FUNCTION train_data.quality_trend(numeric[]) IS
    'Trend of a series of scores in time order: improving, declining or stable (newer half against older half, 5 % margin)';

COMMENT ON FUNCTION train_data.template_performance(interval, integer) IS
    'Per template, over the conversations visible to the caller: usage, average quality, approval rate, performance level and trend';

COMMENT ON FUNCTION train_data.export_jsonl(text, text, uuid[], jsonb, jsonb) IS
    'Training-file lines, one JSON line per conversation (shapes original, openai, sharegpt; scopes all approved, selected ids, filtered); runs as the caller, so row-level security decides what is exported';

COMMENT ON FUNCTION train_data.validate_training_line(text) IS
    'Names of the OpenAI fine-tuning data checks one JSONL line fails; empty for a good example';

COMMENT ON FUNCTION train_data.validate_export(text, text, uuid[], jsonb, jsonb) IS
    'An export checked line by line: the number of lines, then how many lines fail each check that some line fails';

COMMENT ON FUNCTION train_data.export_conversations(text, text, jsonb, uuid[], jsonb) IS
    'The export a client makes, as records of a json, jsonl, csv or markdown file, logged in export_logs as the caller''s export';

COMMENT ON FUNCTION train_data.mark_expired_exports() IS
    'Marks completed exports past their expiry as expired; returns how many';

COMMENT ON FUNCTION train_data.export_history(text, text, integer, integer) IS
    'The caller''s exports, newest first, optionally of one format or status, a page at a time';

COMMENT ON FUNCTION train_data.export_status(uuid) IS
    'One export of the caller''s by export_id; a completed export past its expiry is marked expired first';
