-- sql/src/07_descriptions.sql — descriptions (COMMENT ON) of types and tables.

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
