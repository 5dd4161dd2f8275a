-- sql/src/17_default_privileges.sql — what a site's default privileges gave
-- train_data's functions and its sequence as CREATE EXTENSION made them,
-- taken back.  Last, after every function is made.
--
-- ALTER DEFAULT PRIVILEGES ... GRANT EXECUTE ON FUNCTIONS TO app made the
-- application role a worker (every user's prompts, completions in their
-- accounts), and ... GRANT ALL ON SEQUENCES let it setval the conversation
-- numbers back, so that every completion failed on a taken conversation id
-- (an adversarial review of 1.2).  Only grants to PUBLIC (the user API, in
-- 13_privileges.sql) are kept; the site grants what it means to after
-- CREATE EXTENSION (README, Getting started: USAGE on the sequence, which
-- an insert of a conversation needs), so that pg_dump writes those grants
-- (kept here, they were the extension's initial privileges, which it
-- leaves out, and a restore lost them).  (The update from 1.1 keeps the
-- grants a site made; see the CHANGELOG.)
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT DISTINCT 'FUNCTION ' OPERATOR(pg_catalog.||) p.oid::pg_catalog.regprocedure::text AS obj,
               'ALL' AS privileges, a.grantee::pg_catalog.regrole::text AS grantee
        FROM pg_catalog.pg_proc p CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
        WHERE p.pronamespace OPERATOR(pg_catalog.=) 'train_data'::pg_catalog.regnamespace
          AND a.grantee OPERATOR(pg_catalog.<>) p.proowner AND a.grantee OPERATOR(pg_catalog.<>) 0
        UNION
        SELECT DISTINCT 'SEQUENCE ' OPERATOR(pg_catalog.||) c.oid::pg_catalog.regclass::text, 'ALL',
               CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END
        FROM pg_catalog.pg_class c CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
        WHERE c.relnamespace OPERATOR(pg_catalog.=) 'train_data'::pg_catalog.regnamespace
          AND c.relkind OPERATOR(pg_catalog.=) 'S' AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE %s ON %s FROM %s', g.privileges, g.obj, g.grantee);
    END LOOP;
END
$$;
