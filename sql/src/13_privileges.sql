-- sql/src/13_privileges.sql — who may execute what: the reviewed list.

--------------------------------------------------------------------------------
-- 24. Function privileges
--
-- PUBLIC may execute the user API (docs/reference.md) and the helpers the
-- user API runs as its caller: those act under row-level security, on the
-- caller's own rows only (test/sql/privileges.sql prints every function with
-- its grantees and fails on anything not on this list), and
-- complete_batch_entry and note_lock_timeout, the steps complete_batch_items
-- runs as its caller (the first calls complete_batch_item, whose EXECUTE
-- the caller needs; the second changes only what the caller's own session
-- waits for in that transaction, and returns nothing).  Not PUBLIC:
--   * the worker functions, which act across users (SECURITY DEFINER):
--     grant EXECUTE to a worker role;
--   * the steps those worker functions run as the extension owner, which
--     would act on rows the caller cannot see if called directly;
--   * trigger functions (a trigger runs its function without an EXECUTE
--     check).
--------------------------------------------------------------------------------

REVOKE ALL ON FUNCTION train_data.claim_batch_items(text, integer, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.heartbeat_batch_item(uuid, numeric, interval, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.complete_batch_item(uuid, jsonb, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.engine_store_turns(uuid, uuid, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.fail_batch_item(uuid, text, text, boolean, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.fail_item(uuid, text, text, boolean, integer, jsonb, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.complete_batch_items(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.release_batch_item(uuid, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.release_worker_items(text, uuid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.log_discarded_response(uuid, integer, jsonb, integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION train_data.claim_request(jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claim_render(uuid, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claim_fail_item(train_data.batch_items, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claim_lease_lost(uuid, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.stop_job(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.check_owed_job(uuid, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claim_final_failure(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.cancel_queued_items(uuid, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.owe_close_check(uuid, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.job_rows_free(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claimable_job_add(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claimable_job_keep(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.cancel_stranded_item(uuid, uuid, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.lock_item_in_flight(uuid, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.log_generation(uuid, uuid, uuid, jsonb, jsonb, integer, uuid, uuid, jsonb, text,
                                                 integer, integer, numeric, integer, text, text, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.engine_model_price(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.response_cost(jsonb, text) FROM PUBLIC;

REVOKE ALL ON FUNCTION train_data.touch_timestamps() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.inherit_owner() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.conversations_default_id() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.model_prices_protect_builtin() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.engine_cache_invalidate() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_jobs_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_items_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_items_prepare() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_jobs_reorder() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_items_free_slot() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_items_owner_count() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_items_owner_finish() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_jobs_forget_claims() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_jobs_make_slots() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_items_keep_token() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_items_queue_jobs() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.scenarios_before_write() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.edge_cases_before_write() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.validate_settings_row() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.ai_configurations_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.user_preferences_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.conversations_check_transition() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.conversations_guard() FROM PUBLIC;

-- train_data's own tables, and their schema, are its alone (users neither
-- read nor write them): a grant the site's default privileges gave one as
-- it was made (ALTER DEFAULT PRIVILEGES … GRANT … ON TABLES, or ON SCHEMAS)
-- is taken back, so that no role can lock them and make everyone's claims
-- and deletes wait (a review of 1.2: a 1.1 site's default privileges in the
-- schema train_data gave its application role every table the update made).
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT DISTINCT 'TABLE ' OPERATOR(pg_catalog.||) c.oid::pg_catalog.regclass::text AS obj,
               CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END
                   AS grantee
        FROM pg_catalog.pg_class c CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
        WHERE c.relnamespace OPERATOR(pg_catalog.=) 'train_data_internal'::pg_catalog.regnamespace
          AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
        UNION
        SELECT 'SCHEMA train_data_internal',
               CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END
        FROM pg_catalog.pg_namespace n CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
        WHERE n.oid OPERATOR(pg_catalog.=) 'train_data_internal'::pg_catalog.regnamespace
          AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %s', g.obj, g.grantee);
    END LOOP;
END
$$;
