-- sql/src/02_tables_library.sql — the prompt library: templates, scenarios, edge cases, template analytics.

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
    created_by           uuid DEFAULT train_data.user_id_default('train_data.templates', false),
    created_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_modified        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- names are unique per creator: taking a name reveals nothing about others'
    CONSTRAINT template_name_unique UNIQUE (created_by, name),
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

COMMENT ON TABLE train_data.templates IS 'Prompt templates with typed {{variables}}; readable by all, written by their creator';
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
    created_by           uuid DEFAULT train_data.user_id_default('train_data.scenarios', false),
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

COMMENT ON TABLE train_data.scenarios IS 'Scenarios under a template';
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
    created_by           uuid DEFAULT train_data.user_id_default('train_data.edge_cases', false),
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

COMMENT ON TABLE train_data.edge_cases IS 'Edge cases under a scenario';
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

COMMENT ON TABLE train_data.template_analytics IS 'Per-template statistics over a period';
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

CREATE INDEX template_analytics_calculated_at_idx ON train_data.template_analytics (calculated_at DESC);
