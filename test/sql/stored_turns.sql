-- stored_turns: the quality and signature functions read turns stored in a
-- table (with a short header, not compressed, compressed with pglz inline
-- or out of line, with lz4 inline or out of line, out of line not
-- compressed) exactly as they read the same turns made in memory.  Values
-- compressed with pglz (PostgreSQL's default) are decoded by train_data's
-- own decoder (src/core/td_pglz.c; test/unit/pglz_test.c compares it with
-- PostgreSQL's), everything else by PostgreSQL.
CREATE TABLE public.stored_turns (id int PRIMARY KEY, how text NOT NULL, turns jsonb);

-- small: inline, not compressed
INSERT INTO public.stored_turns VALUES (1, 'small', '[{"role": "user", "content": "Hi, how do I save?"},
  {"role": "assistant", "content": "Put ten percent aside each month. Good luck!"}]');
-- tiny: a 1-byte header on disk
INSERT INTO public.stored_turns VALUES (0, 'tiny', '[{"role": "user", "content": "Hi"}]');

-- pglz, inline: 18 turns of a word repeated, about 11 kB compressed below 2 kB
ALTER TABLE public.stored_turns ALTER COLUMN turns SET COMPRESSION pglz;
INSERT INTO public.stored_turns
SELECT 2, 'pglz inline', jsonb_agg(jsonb_build_object('role', CASE WHEN t % 2 = 1 THEN 'user' ELSE 'assistant' END,
                                                    'content', repeat(md5(t::text) || ' ', 18)) ORDER BY t)
FROM generate_series(1, 18) t;

-- pglz, inline, with defects: a placeholder left in, a refusal, accented and
-- Cyrillic text, a looping turn, a truncated last turn
INSERT INTO public.stored_turns
SELECT 3, 'pglz inline, defects', jsonb_build_array(
    jsonb_build_object('role', 'user', 'content', 'Bonjour ! Comment épargner pour la retraite, {{persona}} ? ' || repeat('Привет, как дела? ', 40)),
    jsonb_build_object('role', 'assistant', 'content', 'I''m sorry, but I can''t help with that. ' || repeat('Save more and spend less every month. ', 60)),
    jsonb_build_object('role', 'user', 'content', repeat('Why is saving so hard for me, really? ', 30)),
    jsonb_build_object('role', 'assistant', 'content', repeat('Because habits take time to change and ', 30)));

-- pglz, out of line: 200 kB of words of a small vocabulary in a scrambled
-- order, whose compressed form is still far above 2 kB
INSERT INTO public.stored_turns
SELECT 4, 'pglz out of line', jsonb_build_array(
    jsonb_build_object('role', 'user', 'content', 'Tell me everything about index funds.'),
    jsonb_build_object('role', 'assistant', 'content',
                       (SELECT string_agg((ARRAY['save', 'spending', 'fund', 'index', 'bonds', 'rate', 'taxes', 'pension',
                                                 'équité', 'вклад'])[1 + (g * 7919 + g / 7) % 10], ' ')
                        FROM generate_series(1, 30000) g)));

-- lz4 (decoded by PostgreSQL)
ALTER TABLE public.stored_turns ALTER COLUMN turns SET COMPRESSION lz4;
INSERT INTO public.stored_turns SELECT 5, 'lz4 inline', turns::text::jsonb FROM public.stored_turns WHERE id = 3;

-- lz4, out of line: 32 kB that lz4 makes about 3 kB of
INSERT INTO public.stored_turns
SELECT 7, 'lz4 out of line', jsonb_build_array(
    jsonb_build_object('role', 'user', 'content', 'Say it again.'),
    jsonb_build_object('role', 'assistant', 'content',
                       repeat((SELECT string_agg(md5(g::text), ' ') FROM generate_series(1, 100) g) || '. ', 10)));

-- out of line, not compressed
ALTER TABLE public.stored_turns ALTER COLUMN turns SET STORAGE EXTERNAL;
INSERT INTO public.stored_turns SELECT 6, 'external, not compressed', turns::text::jsonb FROM public.stored_turns WHERE id = 4;

-- How each row is stored: its size on disk, compression, and how many
-- values are out of line.
SELECT reltoastrelid::regclass AS toast FROM pg_class WHERE oid = 'public.stored_turns'::regclass \gset
SELECT s.id, s.how, pg_column_size(s.turns) AS size_on_disk, pg_column_compression(s.turns) AS compression,
       pg_column_size(s.turns) < octet_length(s.turns::text) AS smaller
FROM public.stored_turns s ORDER BY s.id;
SELECT count(DISTINCT chunk_id) AS values_out_of_line FROM :toast;

-- Each function gives the same result on the stored value as on the same
-- turns made in memory (turns::text::jsonb is a new, uncompressed value).
SELECT s.id,
       train_data.quality_metrics(s.turns) = train_data.quality_metrics(s.turns::text::jsonb) AS metrics,
       train_data.quality_metrics(s.turns, '{"turnCount": 4}') =
           train_data.quality_metrics(s.turns::text::jsonb, '{"turnCount": 4}') AS metrics_expect,
       train_data.quality_score(s.turns) = train_data.quality_score(s.turns::text::jsonb) AS score,
       train_data.quality_defects(s.turns) = train_data.quality_defects(s.turns::text::jsonb) AS defects,
       train_data.conversation_text_signature(s.turns) =
           train_data.conversation_text_signature(s.turns::text::jsonb) AS signature
FROM public.stored_turns s ORDER BY s.id;

-- and what they found, read from the stored values
SELECT s.id, train_data.quality_score(s.turns) AS score, train_data.quality_defects(s.turns) AS defects,
       jsonb_array_length(s.turns) AS turns, (SELECT sum(length(t ->> 'content')) FROM jsonb_array_elements(s.turns) t) AS characters
FROM public.stored_turns s ORDER BY s.id;

DROP TABLE public.stored_turns;
