-- sql/src/06_security.sql — row-level security policies of every table; tables registered for pg_dump.

--------------------------------------------------------------------------------
-- 10. Row-level security
--
-- Every policy compares a row's own owner column with
-- (SELECT train_data.current_user_id()), an initplan evaluated once per
-- statement, and contains no subquery on another table but those of four
-- tables, which read the writer's own rows there (template_analytics: the
-- template's creator; ai_configuration_audit: the entry's configuration;
-- scenarios and edge_cases: the parent, hers or without an owner).  A policy's USING
-- clause also serves as its WITH CHECK unless one is given.  Child rows
-- (turns, batch items, counters, logs) carry their parent's owner, which a
-- composite foreign key to the parent's (id, created_by) enforces: a child
-- cannot be aimed at someone else's parent, and the key check reveals
-- nothing about other users' rows.
--------------------------------------------------------------------------------

ALTER TABLE train_data.conversations ENABLE ROW LEVEL SECURITY;
-- Only the owner sees and changes a conversation (approved_by, always the
-- owner since 1.2, grants nothing).
CREATE POLICY conversations_owner ON train_data.conversations
    USING (created_by = (SELECT train_data.current_user_id()));
CREATE POLICY conversations_insert ON train_data.conversations AS RESTRICTIVE FOR INSERT
    WITH CHECK (created_by = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.conversation_turns ENABLE ROW LEVEL SECURITY;
CREATE POLICY conversation_turns_owner ON train_data.conversation_turns
    USING (created_by = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.batch_jobs ENABLE ROW LEVEL SECURITY;
CREATE POLICY batch_jobs_owner ON train_data.batch_jobs
    USING (created_by = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.batch_items ENABLE ROW LEVEL SECURITY;
CREATE POLICY batch_items_owner ON train_data.batch_items
    USING (created_by = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.batch_job_counters ENABLE ROW LEVEL SECURITY;
-- The owner reads every shard of her jobs but writes (and so locks) only the
-- user shards 0-15, which cancel_batch writes as her; the engine writes
-- shards 16-31 (bump_counters, the claim), so nothing she holds there can
-- make a claim or a completion wait.  SELECT ... FOR UPDATE needs the UPDATE
-- policy too, so it cannot lock an engine shard either.
CREATE POLICY batch_job_counters_owner ON train_data.batch_job_counters FOR SELECT
    USING (created_by = (SELECT train_data.current_user_id()));
CREATE POLICY batch_job_counters_user_shards ON train_data.batch_job_counters
    USING (created_by = (SELECT train_data.current_user_id()) AND shard < 16);

-- A log is an audit record of its owner, about the owner's conversation
-- (the composite foreign key sees to that).
ALTER TABLE train_data.generation_logs ENABLE ROW LEVEL SECURITY;
CREATE POLICY generation_logs_owner ON train_data.generation_logs
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
-- A scenario is put under a template of the writer's own, or under one
-- without an owner (the site's library): the check reads the template
-- before the foreign key does, so that another user's template is refused
-- (42501) without a lock on it (the key's check locked it, and so held up
-- its creator's DELETE while the writer's transaction lasted), and no
-- scenario of another user ever keeps a creator from deleting her template.
CREATE POLICY scenarios_insert ON train_data.scenarios FOR INSERT
    WITH CHECK (created_by = (SELECT train_data.current_user_id())
                AND EXISTS (SELECT 1 FROM train_data.templates t
                            WHERE t.id = scenarios.parent_template_id
                              AND (t.created_by IS NULL
                                   OR t.created_by = (SELECT train_data.current_user_id()))));
CREATE POLICY scenarios_update ON train_data.scenarios FOR UPDATE
    USING (created_by = (SELECT train_data.current_user_id()))
    WITH CHECK (created_by = (SELECT train_data.current_user_id())
                AND EXISTS (SELECT 1 FROM train_data.templates t
                            WHERE t.id = scenarios.parent_template_id
                              AND (t.created_by IS NULL
                                   OR t.created_by = (SELECT train_data.current_user_id()))));
CREATE POLICY scenarios_delete ON train_data.scenarios FOR DELETE
    USING (created_by = (SELECT train_data.current_user_id()));

ALTER TABLE train_data.edge_cases ENABLE ROW LEVEL SECURITY;
CREATE POLICY edge_cases_read ON train_data.edge_cases FOR SELECT USING (true);
-- An edge case likewise goes under a scenario of the writer's own or one
-- without an owner.
CREATE POLICY edge_cases_insert ON train_data.edge_cases FOR INSERT
    WITH CHECK (created_by = (SELECT train_data.current_user_id())
                AND EXISTS (SELECT 1 FROM train_data.scenarios s
                            WHERE s.id = edge_cases.parent_scenario_id
                              AND (s.created_by IS NULL
                                   OR s.created_by = (SELECT train_data.current_user_id()))));
CREATE POLICY edge_cases_update ON train_data.edge_cases FOR UPDATE
    USING (created_by = (SELECT train_data.current_user_id()))
    WITH CHECK (created_by = (SELECT train_data.current_user_id())
                AND EXISTS (SELECT 1 FROM train_data.scenarios s
                            WHERE s.id = edge_cases.parent_scenario_id
                              AND (s.created_by IS NULL
                                   OR s.created_by = (SELECT train_data.current_user_id()))));
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
-- An entry names a configuration of her own, or none: the check reads the
-- configurations through her own policy, before the foreign key, so that
-- naming another user's configuration fails as an unknown id does (42501)
-- and takes no lock on it (the key's check locked it, and so held up its
-- owner's DELETE, while her transaction lasted).
CREATE POLICY ai_configuration_audit_insert ON train_data.ai_configuration_audit FOR INSERT
    WITH CHECK (user_id = (SELECT train_data.current_user_id())
                AND changed_by = (SELECT train_data.current_user_id())
                AND (config_id IS NULL
                     OR EXISTS (SELECT 1 FROM train_data.ai_configurations c WHERE c.id = config_id)));

ALTER TABLE train_data.configuration_audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY configuration_audit_log_read ON train_data.configuration_audit_log FOR SELECT
    USING (user_id = (SELECT train_data.current_user_id()));
CREATE POLICY configuration_audit_log_insert ON train_data.configuration_audit_log FOR INSERT
    WITH CHECK (user_id = (SELECT train_data.current_user_id())
                AND changed_by = (SELECT train_data.current_user_id()));

-- What the planner reads.  Row-level security filters rows, not the
-- statistics ANALYZE gathers from all of them: for an operator marked
-- leakproof (text and uuid equality and order among them) the planner
-- estimates a user's query from other users' most common values and
-- histogram bounds, and an estimate (EXPLAIN, PostgREST's planned and
-- estimated counts) can be searched a character at a time until it gives
-- them back: another user's titles, personas, short turns (a
-- review of 1.2, thirty-eighth session).  The columns that hold a user's
-- text keep no statistics.  None of them is a claim's, a completion's or
-- an export's filter.  Keys and owners keep theirs: without them the
-- planner read a job's items in flight through the lease index of every
-- job (test/sql/batch.sql), so ids and the number of rows of each owner
-- can still be estimated (docs/security.md).
ALTER TABLE train_data.conversations
    ALTER COLUMN conversation_id SET STATISTICS 0, ALTER COLUMN title SET STATISTICS 0,
    ALTER COLUMN persona SET STATISTICS 0, ALTER COLUMN emotion SET STATISTICS 0,
    ALTER COLUMN topic SET STATISTICS 0, ALTER COLUMN intent SET STATISTICS 0,
    ALTER COLUMN tone SET STATISTICS 0, ALTER COLUMN reviewer_notes SET STATISTICS 0,
    ALTER COLUMN error_message SET STATISTICS 0;
ALTER TABLE train_data.conversation_turns ALTER COLUMN content SET STATISTICS 0;
ALTER TABLE train_data.batch_jobs ALTER COLUMN name SET STATISTICS 0, ALTER COLUMN channel_token SET STATISTICS 0;
ALTER TABLE train_data.batch_items
    ALTER COLUMN topic SET STATISTICS 0, ALTER COLUMN prompt SET STATISTICS 0,
    ALTER COLUMN error_message SET STATISTICS 0, ALTER COLUMN worker SET STATISTICS 0;
ALTER TABLE train_data.generation_logs
    ALTER COLUMN model_used SET STATISTICS 0, ALTER COLUMN error_message SET STATISTICS 0;
ALTER TABLE train_data.export_logs
    ALTER COLUMN file_url SET STATISTICS 0, ALTER COLUMN error_message SET STATISTICS 0;
ALTER TABLE train_data.ai_configurations ALTER COLUMN config_name SET STATISTICS 0;
ALTER TABLE train_data.configuration_audit_log
    ALTER COLUMN change_reason SET STATISTICS 0, ALTER COLUMN user_agent SET STATISTICS 0;

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
SELECT pg_catalog.pg_extension_config_dump('train_data_internal.job_close_checks', '');   -- an owed check survives a restore
SELECT pg_catalog.pg_extension_config_dump('train_data_internal.deleted_item_tokens', '');   -- a stale worker's token too
SELECT pg_catalog.pg_extension_config_dump('train_data.model_prices', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('train_data.generation_logs', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.export_logs', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.user_preferences', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.ai_configurations', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.ai_configuration_audit', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.configuration_audit_log', '');
SELECT pg_catalog.pg_extension_config_dump('train_data.conversation_number_seq', '');
