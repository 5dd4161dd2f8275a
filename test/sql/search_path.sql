-- search_path: objects named like built-ins in a schema searched before
-- pg_catalog (functions, an aggregate and operators that train_data's SQL
-- and the SPI queries of its C functions use) change no train_data result.

-- Some data: a template, two batches (the one the progress calls ask about
-- created second, so that a comparison of ids that matches every row would
-- read the other one first), an approved conversation with turns and one
-- that the search filter leaves out.
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.templates (id, name, category, structure, variables)
VALUES ('5e000000-0000-0000-0000-000000000001', 'path', 'finance', 'Talk with {{persona}} about {{topic}}.',
        '[{"name": "persona", "type": "text"}, {"name": "topic", "type": "text"}]');
SELECT train_data.create_batch('decoy batch',
    '[{"template_id": "5e000000-0000-0000-0000-000000000001", "parameters": {"persona": "Bo", "topic": "tax"}},
      {"template_id": "5e000000-0000-0000-0000-000000000001", "parameters": {"persona": "Cy", "topic": "tax"}}]') AS decoy \gset
SELECT train_data.create_batch('path batch',
    '[{"template_id": "5e000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ann", "topic": "rent"}}]') AS job \gset
SET row_security = off;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, topic, tier, status, quality_score,
                                      created_at, updated_at)
VALUES ('5e000000-0000-0000-0000-0000000000c1', 'tpl_ann_path', 'The saver', 'Ann', 'calm', 'saving',
        'template', 'approved', 8.5, '2025-01-01 10:00:00+00', '2025-01-01 10:00:00+00'),
       ('5e000000-0000-0000-0000-0000000000c2', 'tpl_bo_path', 'The spender', 'Bo', 'calm', 'spending',
        'template', 'approved', 6.0, '2025-01-02 10:00:00+00', '2025-01-02 10:00:00+00');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('5e000000-0000-0000-0000-0000000000c1', 1, 'user', 'How much should I save?'),
       ('5e000000-0000-0000-0000-0000000000c1', 2, 'assistant', 'Ten percent, "to start".'),
       ('5e000000-0000-0000-0000-0000000000c2', 1, 'user', 'Can I spend my bonus?'),
       ('5e000000-0000-0000-0000-0000000000c2', 2, 'assistant', 'Half of it, and save the rest.');
RESET row_security;

-- Every result, as one text each, under the normal search_path.
\set calls 'SELECT train_data.render_template(''Hi {{persona}}, {{topic}}'', ''{"persona": "Ann", "topic": "tax"}'')::text AS render, train_data.parse_generation_response(''{"title": "T", "turns": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}'')::text AS parse, train_data.quality_score((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(''role'', t.role, ''content'', t.content)) FROM train_data.conversation_turns t))::text AS score, (SELECT coalesce(pg_catalog.string_agg(l, '' ''), '''') FROM train_data.export_jsonl(''original'', ''filtered'', NULL, ''{"searchQuery": "SAVER", "tier": ["template"]}'') l) AS filtered, (SELECT coalesce(pg_catalog.string_agg(l, '' ''), '''') FROM train_data.export_jsonl(''openai'', ''selected'', ''{5e000000-0000-0000-0000-0000000000c1}'') l) AS selected, train_data.calculate_batch_progress(:''job'')::text AS progress, coalesce(train_data.estimate_time_remaining(:''job'')::text, ''null'') AS eta, (SELECT pg_catalog.string_agg(pg_catalog.regexp_replace(l, ''Export Date:[^\n]*'', ''''), '' '') FROM train_data.export_conversations(''markdown'', ''all'', ''{}'') l) AS markdown, (SELECT coalesce(pg_catalog.string_agg(pg_catalog.concat_ws(''/'', b.status, b.total_items, b.queued_items, b.percent), '',''), '''') FROM train_data.batch_progress(:''job'') b) AS batch, (SELECT coalesce(pg_catalog.string_agg(c.conversation_id, '',''), '''') FROM train_data.review_queue() c) AS queue, train_data.quality_status(5.5)::text AS status'
:calls \gset clean_

-- The same under a search_path whose first schema shadows what they use.
CREATE SCHEMA evil;
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT 'evil' $$;
CREATE FUNCTION evil.strpos(text, text) RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql AS $$ SELECT '2000-01-01'::timestamptz $$;
CREATE FUNCTION evil.jsonb_array_elements_text(jsonb) RETURNS SETOF text LANGUAGE sql AS $$ SELECT 'evil' $$;
CREATE FUNCTION evil.jsonb_typeof(jsonb) RETURNS text LANGUAGE sql AS $$ SELECT 'evil' $$;
CREATE FUNCTION evil.gen_random_uuid() RETURNS uuid LANGUAGE sql AS $$ SELECT '00000000-0000-0000-0000-000000000000'::uuid $$;
CREATE FUNCTION evil.lpad(text, integer, text) RETURNS text LANGUAGE sql AS $$ SELECT 'evil' $$;
CREATE FUNCTION evil.any_true(uuid, uuid) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.any_true);
CREATE FUNCTION evil.text_true(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_true);
CREATE FUNCTION evil.enum_true(anyenum, anyenum) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE OPERATOR evil.= (LEFTARG = anyenum, RIGHTARG = anyenum, FUNCTION = evil.enum_true);
CREATE FUNCTION evil.int_true(integer, integer) RETURNS boolean LANGUAGE sql AS $$ SELECT true $$;
CREATE OPERATOR evil.> (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.int_true);
CREATE FUNCTION evil.cat(text, text) RETURNS text LANGUAGE sql AS $$ SELECT 'evil' $$;
CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.cat);
CREATE FUNCTION evil.count_sfunc(bigint, anyelement) RETURNS bigint LANGUAGE sql AS $$ SELECT 42::bigint $$;
CREATE AGGREGATE evil.count(anyelement) (SFUNC = evil.count_sfunc, STYPE = bigint, INITCOND = '42');
GRANT USAGE ON SCHEMA evil TO PUBLIC;
SET search_path = evil, pg_catalog, public;
:calls \gset evil_
RESET search_path;

-- bump_counters, native and callable by anyone, pins no search_path: its
-- INSERT qualifies every operator, so a user's own + and % change neither
-- the sum nor the shard it writes (this superuser, outside row-level
-- security, writes the engine's: 16 + the backend's pid modulo 16).
CREATE FUNCTION evil.plus_big(bigint, integer) RETURNS bigint LANGUAGE sql AS $$ SELECT 1000::bigint $$;
CREATE OPERATOR evil.+ (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = evil.plus_big);
CREATE FUNCTION evil.mod_big(integer, integer) RETURNS integer LANGUAGE sql AS $$ SELECT 99 $$;
CREATE OPERATOR evil.% (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.mod_big);
SET search_path = evil, pg_catalog, public;
SELECT train_data.bump_counters(:'job', 1, 0, 0, 0);
SELECT train_data.bump_counters(:'job', 1, 0, 0, 0);
RESET search_path;
SELECT sum(completed_items) AS bumped, bool_and(shard = pg_catalog.pg_backend_pid() % 16 + 16) AS own_shard
FROM train_data.batch_job_counters WHERE batch_job_id = :'job';

-- batch_items_free_slot, the one SECURITY DEFINER function without a
-- search_path of its own (a trigger, native: its UPDATE qualifies every
-- operator), frees the slot of exactly the item that stops being processed
-- under a search_path whose = on uuids is always true: three items in
-- flight, one cancelled, two slots still held (the decoy batch's).
SELECT pg_catalog.count(*) AS claimed FROM train_data.claim_batch_items('path worker', 3);
SET search_path = evil, pg_catalog, public;
UPDATE train_data.batch_items SET status = 'cancelled' WHERE batch_job_id OPERATOR(pg_catalog.=) :'job';
RESET search_path;
SELECT (SELECT pg_catalog.count(*) FROM train_data_internal.job_claim_slots WHERE batch_job_id = :'job' AND item_id IS NOT NULL)
           AS path_slots_held,
       (SELECT pg_catalog.count(*) FROM train_data_internal.job_claim_slots WHERE batch_job_id = :'decoy' AND item_id IS NOT NULL)
           AS decoy_slots_held;
-- batch_items_keep_token (its search_path pinned) keeps a deleted item's
-- last token as it is under a search_path whose + on integers makes 1000:
-- one claim, 1
CREATE FUNCTION evil.plus_int(integer, integer) RETURNS integer LANGUAGE sql AS $$ SELECT 1000 $$;
CREATE OPERATOR evil.+ (LEFTARG = integer, RIGHTARG = integer, FUNCTION = evil.plus_int);
SELECT id AS kept_item FROM train_data.batch_items WHERE batch_job_id = :'job' AND status = 'cancelled'
ORDER BY position LIMIT 1 \gset
SET search_path = evil, pg_catalog, public;
DELETE FROM train_data.batch_items WHERE id OPERATOR(pg_catalog.=) :'kept_item';
RESET search_path;
DROP OPERATOR evil.+ (integer, integer);
SELECT token AS kept_token FROM train_data_internal.deleted_item_tokens WHERE item_id = :'kept_item';
SELECT p.oid::regprocedure AS definer_without_search_path
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'train_data'::regnamespace AND p.prosecdef
  AND NOT coalesce(p.proconfig::text[] && ARRAY['search_path=pg_catalog, pg_temp'], false);
-- (the decoy batch's items go back, as the later results expect)
UPDATE train_data.batch_items SET status = 'queued', attempts = 0, worker = NULL, lease_expires_at = NULL
WHERE batch_job_id = :'decoy';
UPDATE train_data_internal.job_claim_slots SET item_id = NULL WHERE batch_job_id = :'decoy';

SELECT :'clean_render' = :'evil_render' AS render, :'clean_parse' = :'evil_parse' AS parse,
       :'clean_score' = :'evil_score' AS score, :'clean_filtered' = :'evil_filtered' AS filtered,
       :'clean_selected' = :'evil_selected' AS selected, :'clean_progress' = :'evil_progress' AS progress,
       :'clean_eta' = :'evil_eta' AS eta, :'clean_markdown' = :'evil_markdown' AS markdown,
       :'clean_batch' = :'evil_batch' AS batch, :'clean_queue' = :'evil_queue' AS queue,
       :'clean_status' = :'evil_status' AS status;
-- and the clean results are what they should be
SELECT :'clean_filtered' <> '' AS filtered_found, pg_catalog.strpos(:'clean_filtered', 'spender') AS spender_left_out,
       :'clean_progress' AS progress, :'clean_eta' AS eta, :'clean_batch' AS batch, :'clean_status' AS status,
       pg_catalog.strpos(:'clean_markdown', '**Total Conversations:** 2') > 0 AS markdown_counts_two;

DROP SCHEMA evil CASCADE;
SET row_security = off;
DELETE FROM train_data.conversations;
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.templates;
DELETE FROM train_data.export_logs;
RESET row_security;
RESET train_data.user_id;
