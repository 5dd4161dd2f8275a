-- sql/src/16_table_guards.sql — what no role but a table's owner may do
-- to train_data's tables, whatever it was granted: TRUNCATE, CREATE TRIGGER.
-- Last, so that every table has its guard.

-- Privileges beyond the four a user needs.  The README's set-up grants
-- SELECT, INSERT, UPDATE and DELETE; a site's GRANT ALL gives TRUNCATE and
-- TRIGGER too, and each would undo the tenant model: TRUNCATE ignores
-- row-level security (every user's rows gone), and a trigger runs as
-- whoever fires it, train_data's SECURITY DEFINER functions too, so a user's
-- trigger ran her code as the extension's owner.  Both are refused to every
-- role but the table's owner (a superuser included).

-- BEFORE TRUNCATE on every table of the schema: refused unless the caller
-- has the table owner's privileges.
CREATE FUNCTION train_data.truncate_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                   WHERE c.oid OPERATOR(pg_catalog.=) TG_RELID), 'USAGE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('truncate of table %s is refused', TG_RELID::pg_catalog.regclass),
            DETAIL = 'TRUNCATE ignores row-level security: it removes every user''s rows.',
            HINT = 'Delete your own rows with DELETE; only the table''s owner may truncate it.';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION train_data.truncate_guard() IS
    'Internal: trigger refusing TRUNCATE of a train_data table to a role without its owner''s privileges (TRUNCATE ignores row-level security)';
REVOKE ALL ON FUNCTION train_data.truncate_guard() FROM PUBLIC;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname FROM pg_catalog.pg_class c
        WHERE c.relnamespace OPERATOR(pg_catalog.=) 'train_data'::pg_catalog.regnamespace
          AND c.relkind OPERATOR(pg_catalog.=) 'r'
        ORDER BY c.relname
    LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER %I BEFORE TRUNCATE ON train_data.%I'
                                  ' FOR EACH STATEMENT EXECUTE FUNCTION train_data.truncate_guard()',
                                  t.relname OPERATOR(pg_catalog.||) '_truncate_guard', t.relname);
    END LOOP;
END
$$;

-- At the end of CREATE TRIGGER: a trigger on a table of train_data or
-- train_data_internal is refused unless its maker has the table owner's
-- privileges (TRIGGER granted is not enough).
CREATE FUNCTION train_data.trigger_guard() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT g.tgname, g.tgrelid::pg_catalog.regclass AS tbl
        FROM pg_catalog.pg_event_trigger_ddl_commands() d
        JOIN pg_catalog.pg_trigger g ON g.oid OPERATOR(pg_catalog.=) d.objid
        JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) g.tgrelid
        WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass
          AND c.relnamespace OPERATOR(pg_catalog.=) ANY (ARRAY['train_data', 'train_data_internal']::pg_catalog.regnamespace[])
          AND NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')
    LOOP
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('trigger %s on table %s is refused', pg_catalog.quote_ident(t.tgname), t.tbl),
            DETAIL = 'A trigger runs as whoever fires it, train_data''s own functions too, which run as the extension''s owner.',
            HINT = 'Only the table''s owner may add a trigger to a train_data table; grant users SELECT, INSERT, UPDATE and DELETE, not TRIGGER.';
    END LOOP;
END
$$;
COMMENT ON FUNCTION train_data.trigger_guard() IS
    'Internal: event trigger refusing a trigger on a train_data table to a role without its owner''s privileges (a trigger runs as train_data''s functions'' owner when they fire it)';
REVOKE ALL ON FUNCTION train_data.trigger_guard() FROM PUBLIC;
CREATE EVENT TRIGGER train_data_trigger_guard ON ddl_command_end
    WHEN TAG IN ('CREATE TRIGGER')
    EXECUTE FUNCTION train_data.trigger_guard();
COMMENT ON EVENT TRIGGER train_data_trigger_guard IS
    'Refuses a trigger on a train_data table to a role without its owner''s privileges (train_data.trigger_guard)';
