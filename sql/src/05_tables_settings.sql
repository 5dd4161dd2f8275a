-- sql/src/05_tables_settings.sql — export logs, user preferences, AI configurations and their audit trails; timestamp triggers.

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
