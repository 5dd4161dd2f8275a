-- uuid_v7: the time-ordered ids that conversations and turns get by default.

-- 10,000 ids made one after another: version 7, variant 10, all different,
-- each greater than the one before, their time within a minute of now.
CREATE TEMP TABLE made AS
SELECT n, train_data.uuid_v7() AS id FROM generate_series(1, 10000) n;
SELECT count(*) AS ids,
       count(DISTINCT id) AS distinct_ids,
       bool_and(substr(id::text, 15, 1) = '7') AS version_7,
       bool_and(substr(id::text, 20, 1) IN ('8', '9', 'a', 'b')) AS variant_10,
       bool_and(abs(extract(epoch FROM to_timestamp(('x' || lpad(substr(replace(id::text, '-', ''), 1, 12), 16, '0'))::bit(64)::bigint / 1000.0)
                                   - clock_timestamp())) < 60) AS time_is_now
FROM made;
SELECT count(*) AS out_of_order
FROM (SELECT id, lag(id) OVER (ORDER BY n) AS before FROM made) s
WHERE id <= before;

-- The defaults, and a conversation and its turns inserted without ids.
SELECT c.relname, pg_get_expr(d.adbin, d.adrelid) AS id_default
FROM pg_attrdef d
JOIN pg_class c ON c.oid = d.adrelid
JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE c.relnamespace = 'train_data'::regnamespace AND a.attname = 'id'
  AND c.relname IN ('conversations', 'conversation_turns')
ORDER BY c.relname;
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
WITH conv AS (
    INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, status)
    VALUES ('uuid_v7_test', 'Ids', 'Ann', 'calm', 'template', 'generated') RETURNING id
), turns AS (
    INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
    SELECT conv.id, t, CASE WHEN t = 1 THEN 'user' ELSE 'assistant' END, 'turn ' || t
    FROM conv, generate_series(1, 2) t RETURNING id, conversation_id
)
SELECT substr(conv.id::text, 15, 1) AS conversation_version,
       string_agg(substr(turns.id::text, 15, 1), ',') AS turn_versions,
       bool_and(turns.id > conv.id) AS turns_after_conversation
FROM conv JOIN turns ON turns.conversation_id = conv.id
GROUP BY conv.id;
DELETE FROM train_data.conversations WHERE conversation_id = 'uuid_v7_test';
RESET train_data.user_id;
