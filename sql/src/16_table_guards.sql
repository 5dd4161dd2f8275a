-- sql/src/16_table_guards.sql — what no role but a table's owner may do
-- to train_data's tables, whatever it was granted: TRUNCATE, CREATE
-- TRIGGER, a foreign key to them.  Last, so that every table has its guard.

-- Privileges beyond the four a user needs.  The README's set-up grants
-- SELECT, INSERT, UPDATE and DELETE; a site's GRANT ALL gives TRUNCATE,
-- TRIGGER and REFERENCES too, and each would undo the tenant model:
-- TRUNCATE ignores row-level security (every user's rows gone); a trigger
-- runs as whoever fires it, train_data's SECURITY DEFINER functions too, so
-- a user's trigger ran her code as the extension's owner; and a foreign
-- key's checks read the referenced rows without row-level security, so a
-- user's key to a train_data table told which of other users' ids exist and
-- held those rows against deletion (its cascades ran her triggers inside
-- the deleting superuser's session, an adversarial review of 1.2).  All
-- three are refused to every role but the table's owner (a superuser
-- included).  train_data's tables are those of the extension, by
-- membership, not by the name of their schema.

-- BEFORE TRUNCATE on every table of the extension in its schema: refused
-- unless the caller has the table owner's privileges.  (Not on those in
-- train_data_internal, which no user may use: a trigger more on a table
-- costs every statement that writes it, in copying the table's triggers,
-- and a claim writes two of them.)
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
        SELECT c.oid::pg_catalog.regclass AS tbl, c.relname
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                                   AND d.objid OPERATOR(pg_catalog.=) c.oid
                                   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                                   AND d.deptype OPERATOR(pg_catalog.=) 'e'
        JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
        WHERE e.extname OPERATOR(pg_catalog.=) 'train_data' AND c.relkind OPERATOR(pg_catalog.=) 'r'
          AND c.relnamespace OPERATOR(pg_catalog.=) e.extnamespace
        ORDER BY c.relname
    LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s'
                                  ' FOR EACH STATEMENT EXECUTE FUNCTION train_data.truncate_guard()',
                                  t.relname OPERATOR(pg_catalog.||) '_truncate_guard', t.tbl);
    END LOOP;
END
$$;

-- At the end of CREATE TRIGGER, CREATE TABLE, ALTER TABLE and CREATE
-- SCHEMA (whose CREATE TABLE runs under its tag: a review made a key that
-- way): a trigger on a table of the extension, or a foreign key to one, is
-- refused unless its maker has the table owner's privileges (TRIGGER or
-- REFERENCES granted is not enough).  A key is judged when this
-- transaction wrote it (age(xmin) <= 0: its own xid or a subtransaction's).
CREATE FUNCTION train_data.table_guard() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
BEGIN
    FOR t IN
        WITH made AS (
            SELECT 'trigger' AS what, g.tgname AS name, g.tgrelid AS rel
            FROM pg_catalog.pg_event_trigger_ddl_commands() d
            JOIN pg_catalog.pg_trigger g ON g.oid OPERATOR(pg_catalog.=) d.objid
            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass
            UNION ALL
            -- (a key this transaction wrote: one made before, by the
            -- table's owner or under 1.1, does not stop the table's changes)
            SELECT 'foreign key', k.conname, k.confrelid
            FROM pg_catalog.pg_event_trigger_ddl_commands() d
            JOIN pg_catalog.pg_constraint k ON k.conrelid OPERATOR(pg_catalog.=) d.objid
                                           AND k.contype OPERATOR(pg_catalog.=) 'f'
            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
              AND pg_catalog.age(k.xmin) OPERATOR(pg_catalog.<=) 0)
        SELECT m.what, m.name, m.rel::pg_catalog.regclass AS tbl
        FROM made m JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) m.rel
        WHERE NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')
          AND EXISTS (SELECT FROM pg_catalog.pg_depend d
                      JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
                      WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                        AND d.objid OPERATOR(pg_catalog.=) m.rel
                        AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                        AND d.deptype OPERATOR(pg_catalog.=) 'e'
                        AND e.extname OPERATOR(pg_catalog.=) 'train_data')
    LOOP
        IF t.what OPERATOR(pg_catalog.=) 'trigger' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = pg_catalog.format('trigger %s on table %s is refused', pg_catalog.quote_ident(t.name), t.tbl),
                DETAIL = 'A trigger runs as whoever fires it, train_data''s own functions too, which run as the extension''s owner.',
                HINT = 'Only the table''s owner may add a trigger to a train_data table; grant users SELECT, INSERT, UPDATE and DELETE, not TRIGGER.';
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('foreign key %s to table %s is refused', pg_catalog.quote_ident(t.name), t.tbl),
            DETAIL = 'A foreign key''s checks read the rows of every user: it would tell which ids exist, and hold those rows against deletion.',
            HINT = 'Only the table''s owner may make a foreign key to a train_data table; grant users SELECT, INSERT, UPDATE and DELETE, not REFERENCES.';
    END LOOP;
END
$$;
COMMENT ON FUNCTION train_data.table_guard() IS
    'Internal: event trigger refusing a trigger on a train_data table, or a foreign key to one, to a role without its owner''s privileges';
REVOKE ALL ON FUNCTION train_data.table_guard() FROM PUBLIC;
CREATE EVENT TRIGGER train_data_table_guard ON ddl_command_end
    WHEN TAG IN ('CREATE TRIGGER', 'CREATE TABLE', 'ALTER TABLE', 'CREATE SCHEMA')
    EXECUTE FUNCTION train_data.table_guard();
COMMENT ON EVENT TRIGGER train_data_table_guard IS
    'Refuses a trigger on a train_data table, or a foreign key to one, to a role without its owner''s privileges (train_data.table_guard)';
