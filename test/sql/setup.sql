-- setup: runs first.  Test helpers and the roles the other tests use.
--
-- expect_error(sql [, with_detail [, mask_ids]]) runs a statement and returns
-- its SQLSTATE and message (and detail, when asked), so that a test shows
-- exactly which constraint or check refused a bad row.  mask_ids replaces
-- UUIDs (random in most tests) by <id>.
CREATE FUNCTION public.expect_error(stmt text, with_detail boolean DEFAULT false,
                                    mask_ids boolean DEFAULT false) RETURNS text
    LANGUAGE plpgsql
AS $$
DECLARE
    detail text;
    result text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    result := SQLSTATE || ': ' || SQLERRM
              || CASE WHEN with_detail AND detail <> '' THEN ' / ' || detail ELSE '' END;
    IF mask_ids THEN
        result := regexp_replace(result, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g');
    END IF;
    RETURN result;
END
$$;

-- Two login roles that are not table owners, sharing the application grants
-- the README recommends; and one role with no grants at all.
-- (Roles are cluster-wide: created only if an earlier run left none.)
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['regress_app', 'regress_alice', 'regress_bob', 'regress_nobody', 'regress_worker'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I %s', r, CASE WHEN r = 'regress_app' THEN 'NOLOGIN' ELSE 'LOGIN' END);
        END IF;
    END LOOP;
END
$$;
SET client_min_messages = warning;   -- quiet when an earlier run granted it
GRANT regress_app TO regress_alice, regress_bob;
RESET client_min_messages;

GRANT USAGE ON SCHEMA train_data TO regress_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA train_data TO regress_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA train_data TO regress_app;
-- a careless site's grant on train_data's own tables as well: without USAGE
-- on their schema it gives no user anything (tenant_attacks)
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA train_data_internal TO regress_app;

-- A worker role: the worker functions and nothing else (README "Workers").
GRANT USAGE ON SCHEMA train_data TO regress_worker;
GRANT EXECUTE ON FUNCTION train_data.claim_batch_items(text, integer, interval),
                          train_data.heartbeat_batch_item(uuid, numeric, interval, integer),
                          train_data.complete_batch_item(uuid, jsonb, integer, integer),
                          train_data.fail_batch_item(uuid, text, text, boolean, integer),
                          train_data.release_batch_item(uuid, integer),
                          train_data.release_worker_items(text, uuid[]),
                          train_data.complete_batch_items(jsonb),
                          train_data.log_discarded_response(uuid, integer, jsonb, integer) TO regress_worker;

SELECT extname, extversion, nspname AS schema, extrelocatable
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE extname = 'train_data';
