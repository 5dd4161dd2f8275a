-- drop_extension: DROP EXTENSION removes everything CREATE EXTENSION made.
-- Runs in a database of its own so the other tests keep their extension.
CREATE DATABASE regress_drop_extension;
\c regress_drop_extension
CREATE EXTENSION train_data;
SELECT count(*) > 0 AS has_members FROM pg_depend
WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'train_data') AND deptype = 'e';
SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'train_data') AS schema_exists;

DROP EXTENSION train_data;

-- Nothing is left but the empty schema: PostgreSQL creates the schema named by
-- the control file before running the script and never makes it a member of
-- the extension (it cannot be: it contains the extension), so DROP EXTENSION
-- keeps it.  It holds nothing, so a plain DROP SCHEMA removes it.  The
-- schema of train_data's own tables, which the script makes, is a member
-- and goes.
SELECT count(*) AS schemas FROM pg_namespace WHERE nspname = 'train_data';
SELECT count(*) AS internal_schemas FROM pg_namespace WHERE nspname = 'train_data_internal';
SELECT count(*) AS relations FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'train_data';
SELECT count(*) AS types FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'train_data';
SELECT count(*) AS functions FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'train_data';
SELECT count(*) AS policies FROM pg_policy;
SELECT count(*) AS triggers FROM pg_trigger WHERE NOT tgisinternal;
SELECT count(*) AS extension_records FROM pg_extension WHERE extname = 'train_data';
SELECT count(*) AS dependencies FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
  AND refobjid NOT IN (SELECT oid FROM pg_extension);
DROP SCHEMA train_data;

-- And it installs again cleanly.
CREATE EXTENSION train_data;
SELECT schemaname, count(*) AS tables FROM pg_tables WHERE schemaname LIKE 'train\_data%' GROUP BY 1 ORDER BY 1;
\c contrib_regression
DROP DATABASE regress_drop_extension;
