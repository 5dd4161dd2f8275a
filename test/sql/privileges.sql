-- privileges: every function of the extension with the roles that may
-- execute it, as installed (before any GRANT of an administrator).  This is
-- the reviewed list of sql/src/13_privileges.sql: a function that becomes
-- executable by PUBLIC, or stops being so, changes this output.  The worker
-- role of the test set-up is the only other grantee.
SELECT p.oid::regprocedure AS function,
       CASE WHEN has_function_privilege('public', p.oid, 'EXECUTE') THEN 'PUBLIC'
            ELSE coalesce((SELECT string_agg(a.grantee::regrole::text, ', ' ORDER BY a.grantee::regrole::text)
                           FROM aclexplode(p.proacl) a
                           WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner), 'owner only') END
           AS executable_by
FROM pg_proc p
JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'train_data'
ORDER BY 2 DESC, p.oid::regprocedure::text;

-- A role with no grants at all (not even USAGE on the schema) can execute
-- nothing of train_data.
CREATE ROLE regress_privileges_nobody;
SET ROLE regress_privileges_nobody;
SELECT train_data.current_user_id();
SELECT train_data.job_channel(gen_random_uuid());
RESET ROLE;
DROP ROLE regress_privileges_nobody;
