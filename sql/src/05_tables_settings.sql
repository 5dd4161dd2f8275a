-- sql/src/05_tables_settings.sql — export logs, user preferences, AI configurations and their audit trails; timestamp triggers.

--------------------------------------------------------------------------------
-- 7. Exports
--------------------------------------------------------------------------------

CREATE TABLE train_data.export_logs (
    id                 uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    export_id          uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
    user_id            uuid NOT NULL DEFAULT train_data.user_id_default('train_data.export_logs', true),
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
    manifest           jsonb,
    CONSTRAINT export_logs_export_id_unique UNIQUE (export_id),
    CONSTRAINT export_logs_format_valid CHECK (format IN ('json', 'jsonl', 'csv', 'markdown')),
    CONSTRAINT export_logs_config_is_object CHECK (pg_catalog.jsonb_typeof(config) = 'object'),
    CONSTRAINT export_logs_status_valid CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'expired')),
    CONSTRAINT export_logs_counts_nonnegative CHECK (conversation_count >= 0 AND file_size >= 0
                                                     AND downloaded_count >= 0)
);

COMMENT ON TABLE train_data.export_logs IS 'One row per export made through the export functions';
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
COMMENT ON COLUMN train_data.export_logs.manifest IS 'What makes the export reproducible (export_manifest()): format, scope, filters, options, rows, md5 of the records, templates with versions, models; filled when the export completes';

CREATE INDEX export_logs_user_idx ON train_data.export_logs (user_id, "timestamp" DESC);
CREATE INDEX export_logs_expires_idx ON train_data.export_logs (expires_at) WHERE status = 'completed';

--------------------------------------------------------------------------------
-- 8. Preferences and AI configuration
--------------------------------------------------------------------------------

CREATE TABLE train_data.user_preferences (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id     uuid NOT NULL DEFAULT train_data.user_id_default('train_data.user_preferences', true),
    preferences jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT unique_user_preferences UNIQUE (user_id),
    CONSTRAINT user_preferences_is_object CHECK (pg_catalog.jsonb_typeof(preferences) = 'object')
);

COMMENT ON TABLE train_data.user_preferences IS 'Per-user interface and workflow preferences (one row per user)';
COMMENT ON COLUMN train_data.user_preferences.id IS 'Row id';
COMMENT ON COLUMN train_data.user_preferences.user_id IS 'User the preferences belong to: one row per user';
COMMENT ON COLUMN train_data.user_preferences.preferences IS 'Preferences document (partial documents are merged over default_user_preferences()); validated on every write';
COMMENT ON COLUMN train_data.user_preferences.created_at IS 'When the row was created';
COMMENT ON COLUMN train_data.user_preferences.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

CREATE TABLE train_data.ai_configurations (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id         uuid DEFAULT train_data.user_id_default('train_data.ai_configurations', false),
    organization_id uuid,
    config_name     text NOT NULL,
    configuration   jsonb NOT NULL,
    is_active       boolean NOT NULL DEFAULT true,
    priority        integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by      uuid NOT NULL DEFAULT train_data.user_id_default('train_data.ai_configurations', true),
    CONSTRAINT user_or_org_only CHECK ((user_id IS NULL) <> (organization_id IS NULL)),
    CONSTRAINT ai_configurations_user_name_unique UNIQUE (user_id, config_name),
    CONSTRAINT ai_configurations_org_name_unique UNIQUE (organization_id, config_name),
    CONSTRAINT ai_configurations_name_not_blank CHECK (pg_catalog.btrim(config_name) <> ''),
    -- a name the unique keys can index, refused with a message that names
    -- the constraint (a long one met the index's size limit: 54000 "index
    -- row size ... exceeds", a review of the errors, thirty-fifth session)
    CONSTRAINT ai_configurations_name_length CHECK (pg_catalog.char_length(config_name) <= 200),
    CONSTRAINT ai_configurations_configuration_is_object CHECK (pg_catalog.jsonb_typeof(configuration) = 'object')
);

COMMENT ON TABLE train_data.ai_configurations IS 'Named model configurations of a user or an organization';
COMMENT ON COLUMN train_data.ai_configurations.id IS 'Configuration id';
COMMENT ON COLUMN train_data.ai_configurations.user_id IS 'User the configuration belongs to; NULL for an organization''s';
COMMENT ON COLUMN train_data.ai_configurations.organization_id IS 'Organization the configuration belongs to; NULL for a user''s';
COMMENT ON COLUMN train_data.ai_configurations.config_name IS 'Name, unique per user or organization; 1-200 characters';
COMMENT ON COLUMN train_data.ai_configurations.configuration IS 'Configuration document (merged over default_ai_config()); validated on every write';
COMMENT ON COLUMN train_data.ai_configurations.is_active IS 'Only active configurations are considered by get_effective_ai_config()';
COMMENT ON COLUMN train_data.ai_configurations.priority IS 'Among a user''s active configurations the highest priority is in force (the newest on ties)';
COMMENT ON COLUMN train_data.ai_configurations.created_at IS 'When the configuration was created';
COMMENT ON COLUMN train_data.ai_configurations.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';
COMMENT ON COLUMN train_data.ai_configurations.created_by IS 'User who created the configuration';

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

COMMENT ON TABLE train_data.ai_configuration_audit IS 'Append-only trail of changes to ai_configurations';
COMMENT ON COLUMN train_data.ai_configuration_audit.id IS 'Audit row id';
COMMENT ON COLUMN train_data.ai_configuration_audit.config_id IS 'Configuration changed; NULL for a deletion or once the configuration is deleted';
COMMENT ON COLUMN train_data.ai_configuration_audit.user_id IS 'Owner of the configuration, kept so the trail stays visible after a deletion';
COMMENT ON COLUMN train_data.ai_configuration_audit.action IS 'INSERT, UPDATE or DELETE';
COMMENT ON COLUMN train_data.ai_configuration_audit.old_value IS 'The row before the change, as JSON; NULL for an insertion';
COMMENT ON COLUMN train_data.ai_configuration_audit.new_value IS 'The row after the change, as JSON; NULL for a deletion';
COMMENT ON COLUMN train_data.ai_configuration_audit.changed_by IS 'User who made the change';
COMMENT ON COLUMN train_data.ai_configuration_audit.changed_at IS 'When the change was made';

CREATE INDEX ai_configuration_audit_config_idx ON train_data.ai_configuration_audit (config_id);
CREATE INDEX ai_configuration_audit_user_idx ON train_data.ai_configuration_audit (user_id, changed_at DESC);

-- Append-only trail of changes to preferences and configurations.
CREATE TABLE train_data.configuration_audit_log (
    id            uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    user_id       uuid NOT NULL DEFAULT train_data.user_id_default('train_data.configuration_audit_log', true),
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

COMMENT ON TABLE train_data.configuration_audit_log IS 'Append-only trail of changes to preferences and configurations';
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
