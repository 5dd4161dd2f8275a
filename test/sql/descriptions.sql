-- descriptions: every object of the extension a user touches has a
-- description (COMMENT ON), so \df+, \d+ and GUI clients show one.

-- The extension's functions, types, tables, sequences and other members
-- (from pg_depend, deptype 'e'), and the columns of its tables.
CREATE TEMP VIEW extension_objects AS
WITH members AS (
    SELECT d.classid, d.objid
    FROM pg_depend d
    JOIN pg_extension e ON e.oid = d.refobjid
    WHERE d.refclassid = 'pg_extension'::regclass
      AND e.extname = 'train_data' AND d.deptype = 'e'
)
SELECT CASE WHEN m.classid = 'pg_proc'::regclass THEN 'function'
            WHEN m.classid = 'pg_type'::regclass THEN 'type'
            WHEN m.classid = 'pg_namespace'::regclass THEN 'schema'
            WHEN m.classid = 'pg_event_trigger'::regclass THEN 'event trigger'
            WHEN m.classid = 'pg_class'::regclass THEN
                CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'S' THEN 'sequence'
                               WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                               ELSE 'relation ' || c.relkind::text END
            ELSE 'other' END AS kind,
       pg_describe_object(m.classid, m.objid, 0) AS object,
       m.classid AS classoid, m.objid AS objoid, 0 AS objsubid
FROM members m
LEFT JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
UNION ALL
SELECT 'column', pg_describe_object(m.classid, m.objid, a.attnum),
       m.classid, m.objid, a.attnum
FROM members m
JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm');

-- Objects without a description (none).
SELECT o.kind, o.object
FROM extension_objects o
LEFT JOIN pg_description d
       ON d.classoid = o.classoid AND d.objoid = o.objoid AND d.objsubid = o.objsubid
WHERE d.description IS NULL OR btrim(d.description) = ''
ORDER BY 1, 2;

-- Described objects per kind: a lost block of descriptions shows here.
SELECT o.kind, count(*) AS described
FROM extension_objects o
JOIN pg_description d
  ON d.classoid = o.classoid AND d.objoid = o.objoid AND d.objsubid = o.objsubid
GROUP BY o.kind
ORDER BY 1;

-- One style: no description ends with a period (none listed).
SELECT o.kind, o.object, d.description
FROM extension_objects o
JOIN pg_description d
  ON d.classoid = o.classoid AND d.objoid = o.objoid AND d.objsubid = o.objsubid
WHERE d.description LIKE '%.'
ORDER BY 1, 2;

-- What \df+ and \d+ show.
SELECT obj_description('train_data.quality_score(jsonb)'::regprocedure, 'pg_proc') AS quality_score;
SELECT col_description(a.attrelid, a.attnum) AS successful_items
FROM pg_attribute a
WHERE a.attrelid = 'train_data.batch_jobs'::regclass AND a.attname = 'successful_items';

DROP VIEW extension_objects;
