-- schema: the installed shape of train_data, from the catalogs, in a stable order.

-- train_data's schemas: train_data_internal is a member of the extension,
-- and no role but its owner has a privilege on it.
SELECT n.nspname, n.nspacl, pg_describe_object('pg_namespace'::regclass, n.oid, 0) IN
       (SELECT pg_describe_object(d.classid, d.objid, 0) FROM pg_depend d
        WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'train_data') AND d.deptype = 'e') AS member,
       (SELECT array_agg(c.relname ORDER BY c.relname) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind = 'r') AS tables
FROM pg_namespace n WHERE n.nspname LIKE 'train\_data%' ORDER BY 1;

-- Every ENUM type with its labels in declared order.
SELECT t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) AS labels
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace = 'train_data'::regnamespace
GROUP BY t.typname ORDER BY t.typname;

-- Every relation of the schema and of train_data_internal (its own tables,
-- in a schema no user may use), with its kind, RLS flags and privileges.
SELECT c.relname, c.relkind, c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls,
       c.relacl
FROM pg_class c
WHERE c.relnamespace = ANY (ARRAY['train_data', 'train_data_internal']::regnamespace[]) AND c.relkind IN ('r', 'S', 'v', 'm')
ORDER BY c.relname;

-- Every column: type, NOT NULL, default and generation expression.
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default_expr,
       a.attgenerated AS generated
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relnamespace = ANY (ARRAY['train_data', 'train_data_internal']::regnamespace[]) AND c.relkind = 'r'
ORDER BY c.relname, a.attnum;

-- Every constraint.
SELECT conrelid::regclass::text AS table_name, conname, contype, pg_get_constraintdef(oid) AS definition
FROM pg_constraint
WHERE connamespace = ANY (ARRAY['train_data', 'train_data_internal']::regnamespace[]) AND contype <> 't'
ORDER BY 1, 2;

-- Every index.
SELECT i.indrelid::regclass::text AS table_name, c.relname AS index_name,
       pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace = ANY (ARRAY['train_data', 'train_data_internal']::regnamespace[])
ORDER BY 1, 2;

-- Every foreign key has an index led by its first column, so that deleting
-- or changing a referenced row never scans the referencing table (none
-- listed).  The composite keys of 1.2 are (parent id, owner): the id alone
-- finds the few rows, so an index led by it serves the key's checks.
SELECT c.conrelid::regclass::text AS table_name, c.conname AS unindexed_foreign_key
FROM pg_constraint c
WHERE c.contype = 'f' AND c.connamespace = ANY (ARRAY['train_data', 'train_data_internal']::regnamespace[])
  AND NOT EXISTS (SELECT 1 FROM pg_index i
                  WHERE i.indrelid = c.conrelid AND (i.indkey::int2[])[0] = c.conkey[1])
ORDER BY 1, 2;

-- Every trigger.
SELECT tgrelid::regclass::text AS table_name, tgname, pg_get_triggerdef(oid) AS definition
FROM pg_trigger
WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = ANY (ARRAY['train_data', 'train_data_internal']::regnamespace[]))
ORDER BY 1, 2;

-- Every policy.
SELECT tablename, policyname, permissive, roles, cmd, qual, with_check
FROM pg_policies
WHERE schemaname IN ('train_data', 'train_data_internal')
ORDER BY tablename, policyname;

-- Every function, with the attributes that matter for safety.
SELECT p.oid::regprocedure::text AS function, l.lanname AS language, p.provolatile AS volatility,
       p.proparallel AS parallel, p.prosecdef AS security_definer, p.proconfig AS settings,
       p.proacl AS privileges
FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
WHERE p.pronamespace = 'train_data'::regnamespace
ORDER BY 1;

-- What pg_dump dumps: every table and the sequence, seeded prices excepted.
SELECT cfg::regclass::text AS config_relation, cond AS condition
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(cfg, cond)
WHERE e.extname = 'train_data'
ORDER BY 1;

-- Tables and sequences of the schema that pg_dump would NOT dump (must be none).
SELECT c.relname
FROM pg_class c
WHERE c.relnamespace = ANY (ARRAY['train_data', 'train_data_internal']::regnamespace[]) AND c.relkind IN ('r', 'S')
  AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'train_data')::oid[])
ORDER BY 1;

-- Objects owned by the extension, by catalog.
SELECT classid::regclass AS catalog, count(*)
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'train_data')
  AND deptype = 'e'
GROUP BY 1 ORDER BY 1::text;

-- The seeded model prices.
SELECT model_id, input_usd_per_mtok, output_usd_per_mtok, builtin
FROM train_data.model_prices ORDER BY model_id;

-- The settings the module defines (calling a function loads the module).
SELECT train_data.current_user_id() IS NULL AS no_user;
SELECT name, setting, context, vartype FROM pg_settings WHERE name LIKE 'train\_data.%' ORDER BY name;

-- Every type and table is described.
SELECT c.relname, obj_description(c.oid, 'pg_class') AS description
FROM pg_class c WHERE c.relnamespace = ANY (ARRAY['train_data', 'train_data_internal']::regnamespace[]) AND c.relkind = 'r' ORDER BY 1;
SELECT t.typname, obj_description(t.oid, 'pg_type') AS description
FROM pg_type t WHERE t.typnamespace = 'train_data'::regnamespace AND t.typtype = 'e' ORDER BY 1;
