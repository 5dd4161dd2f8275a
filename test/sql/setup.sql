-- setup: runs first.  Test helpers and the roles the other tests use.
--
-- expect_error(sql [, with_detail]) runs a statement and returns its SQLSTATE
-- and message (and detail, when asked), so that a test shows exactly which
-- constraint or check refused a bad row.
CREATE FUNCTION public.expect_error(stmt text, with_detail boolean DEFAULT false) RETURNS text
    LANGUAGE plpgsql
AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM
           || CASE WHEN with_detail AND detail <> '' THEN ' / ' || detail ELSE '' END;
END
$$;

-- Two login roles that are not table owners, sharing the application grants
-- the README recommends; and one role with no grants at all.
-- (Roles are cluster-wide: created only if an earlier run left none.)
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_app') THEN
        CREATE ROLE regress_app NOLOGIN;
        CREATE ROLE regress_alice LOGIN IN ROLE regress_app;
        CREATE ROLE regress_bob LOGIN IN ROLE regress_app;
        CREATE ROLE regress_nobody LOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA train_data TO regress_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA train_data TO regress_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA train_data TO regress_app;

SELECT extname, extversion, nspname AS schema, extrelocatable
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE extname = 'train_data';
