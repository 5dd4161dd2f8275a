-- limits: values quoted in error messages, memory caps, interrupts and the
-- cost of large inputs.  Sizes are chosen so that 1.1 ran far past
-- a minute or far past 1 GB; results are asserted, never timings.

-- Every value an error message of the C functions quotes is clipped like
-- train_data.clip_for_message: 64 characters, then "...".
SELECT public.expect_error(format($$SELECT train_data.render_template('x', NULL, '[{"name": "%s", "type": "bad"}]')$$,
                                  repeat('é', 70)));
SELECT public.expect_error(format($$SELECT train_data.check_template('{{ %s + 1 }}', NULL)$$, repeat('a', 70)));
SELECT public.expect_error(format($$SELECT train_data.parse_generation_response('{"turns": [{"role": "%s", "content": "x"}, {"role": "user", "content": "y"}]}')$$,
                                  repeat('r', 100)));
SELECT public.expect_error(format($$SELECT train_data.parse_generation_response('{"type": "error", "error": {"type": "%s", "message": "%s"}}')$$,
                                  repeat('t', 65), repeat('m', 500)), true);
SELECT char_length(train_data.clip_for_message(repeat('é', 70))) AS sql_clip_length;

-- Memory: a 60 kB template repeating a 100 kB parameter (160 kB of
-- arguments) took 1.1 to 2.3 GB before "out of memory"; the rendered text is
-- limited to 4 MB and the call fails as soon as it passes it.
SELECT public.expect_error($$SELECT train_data.render_template(repeat('{{p}}', 12000), jsonb_build_object('p', repeat('x', 100000)))$$, true);
-- HTML escaping counts too; just under the limit still renders.
SELECT public.expect_error($$SELECT train_data.render_template(repeat('{{p}}', 700), jsonb_build_object('p', repeat('/', 1000)), NULL, true)$$);
SELECT length(train_data.render_template(repeat('{{p}}', 4000), jsonb_build_object('p', repeat('x', 1048))) ->> 'resolved') AS under_limit;
-- A response over 8 MB is refused before it is read (reading one costs
-- about nine times its size: a 111 MB response took 993 MB and 18 s, a
-- review of inputs 1,000 times larger); just under it is read (and refused
-- for its shape, not its size).
SELECT public.expect_error($$SELECT train_data.parse_generation_response(jsonb_build_object('text', repeat('x', 8 * 1024 * 1024)))$$, true);
SELECT public.expect_error($$SELECT train_data.parse_generation_response(jsonb_build_object('text', repeat('x', 8 * 1024 * 1024 - 100)))$$);
-- Parameters or variables over the limit are refused before they are
-- read (64 MB of variables took 642 MB before the render failed on its
-- length: a review of inputs 1,000 times larger).
SELECT public.expect_error($$SELECT train_data.render_template('x', jsonb_build_object('p', repeat('x', 4 * 1024 * 1024)))$$);
SELECT public.expect_error($$SELECT train_data.check_template('Say {{p}} now.', jsonb_build_array(jsonb_build_object('name', 'p', 'type', 'text', 'helpText', repeat('h', 4 * 1024 * 1024))))$$);
-- A template that is itself longer than the limit does not render either.
SELECT public.expect_error($$SELECT train_data.render_template(repeat('x', 5 * 1024 * 1024), '{}')$$);

-- Cost: inputs on which 1.1 ran for a minute or more (quadratic loops)
-- complete, with their exact results.  The timeout is a backstop far above
-- what the sort-based code needs even under valgrind (about 0.2 s each
-- here, natively), not a timing assertion: it only stops a quadratic
-- regression from holding the suite for minutes.
SET statement_timeout = '120s';
-- 100,000 turns, every tenth one repeating an earlier turn (1.1: 71 s).
SELECT (m -> 'signals' ->> 'repeatedTurns')::int AS repeated_turns, m ->> 'overall' AS overall
FROM (SELECT train_data.quality_metrics(jsonb_agg(jsonb_build_object(
          'role', CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
          'content', CASE WHEN i % 10 = 0 THEN ' TURN ' || (i / 10) || ' ' ELSE 'turn ' || i END) ORDER BY i)) AS m
      FROM generate_series(1, 100000) i) s;
SELECT train_data.quality_score((SELECT jsonb_agg(jsonb_build_object('role', 'user', 'content', 'same')) FROM generate_series(1, 100000))) AS all_repeated;
-- An assistant turn of 300,000 contractions whose refusal comes last: the
-- copy with contractions expanded (made only for such a turn) holds them
-- all and the phrase is found at its end; without the closing refusal
-- only the loop (one phrase 150,000 times) is left.
SELECT train_data.quality_defects(jsonb_build_array(
           jsonb_build_object('role', 'user', 'content', 'Can you do it?'),
           jsonb_build_object('role', 'assistant', 'content', repeat('don''t worry ', 150000) || 'I can''t help with that.'))) AS refusal_at_the_end,
       train_data.quality_defects(jsonb_build_array(
           jsonb_build_object('role', 'user', 'content', 'Can you do it?'),
           jsonb_build_object('role', 'assistant', 'content', repeat('don''t worry ', 150000) || 'We can help with that.'))) AS no_refusal;
-- The scorer and the detectors keep their tables for the session's next
-- call, but not a large text's: after 200,000 distinct words in one turn
-- (tables of megabytes) the session holds less than 1 MB more than before.
SELECT total_bytes AS top_before FROM pg_catalog.pg_backend_memory_contexts WHERE name = 'TopMemoryContext' \gset
SELECT m -> 'signals' ->> 'repeatedNgrams' AS repeated_ngrams, m ->> 'uniqueness' AS uniqueness,
       m -> 'defects' AS defects
FROM (SELECT train_data.quality_metrics(jsonb_build_array(
          jsonb_build_object('role', 'user', 'content', (SELECT string_agg(md5(i::text), ' ') FROM generate_series(1, 200000) i)),
          jsonb_build_object('role', 'assistant', 'content', 'Fine.'))) AS m) s;
SELECT total_bytes - :top_before < 1000000 AS session_keeps_little
FROM pg_catalog.pg_backend_memory_contexts WHERE name = 'TopMemoryContext';
-- The jsonb documents' frames are kept for the next document, but not a
-- large one's: after a 3 MB parsed response the session keeps at most a
-- few kilobytes of them (before: as large as that response).
SELECT length(train_data.parse_generation_response(jsonb_build_object('turns', jsonb_build_array(
           jsonb_build_object('role', 'user', 'content', repeat('question ', 350000)),
           jsonb_build_object('role', 'assistant', 'content', 'An answer.')))) -> 'turns' -> 0 ->> 'content') AS parsed_length;
SELECT coalesce(sum(total_bytes), 0) < 65536 AS large_document_frames_released
FROM pg_catalog.pg_backend_memory_contexts WHERE name = 'train_data jsonb document frames';
SELECT train_data.quality_metrics('[{"role": "user", "content": "Hello"}]') -> 'signals' AS small_document_after;
SELECT count(*) AS frames_kept_after_small_document, sum(total_bytes) < 65536 AS small
FROM pg_catalog.pg_backend_memory_contexts WHERE name = 'train_data jsonb document frames';
-- Nor a call cut short by an error (here a cancel: statement_timeout, as
-- the calls repeat until it comes): its (sub)transaction's abort releases
-- what the call had grown (before: tens of MB kept until the next call).
CREATE TEMP TABLE big_turns AS
SELECT jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'Hello'),
         jsonb_build_object('role', 'assistant', 'content', repeat('one two three four five six seven ', 150000))) AS t;
SET statement_timeout = '400ms';
DO $$
DECLARE big jsonb := (SELECT t FROM big_turns);
BEGIN
    LOOP
        PERFORM train_data.quality_metrics(big);
    END LOOP;
EXCEPTION WHEN query_canceled THEN
    NULL;
END $$;
RESET statement_timeout;
SELECT total_bytes - :top_before < 1000000 AS cancelled_call_keeps_little
FROM pg_catalog.pg_backend_memory_contexts WHERE name = 'TopMemoryContext';
DROP TABLE big_turns;
-- The same for a turn of contractions, cut short while its expanded copy
-- grows or is searched.
CREATE TEMP TABLE big_turns AS
SELECT jsonb_build_array(jsonb_build_object('role', 'user', 'content', 'Hello'),
         jsonb_build_object('role', 'assistant', 'content', repeat('can''t won''t don''t isn''t ', 150000))) AS t;
SET statement_timeout = '400ms';
DO $$
DECLARE big jsonb := (SELECT t FROM big_turns);
BEGIN
    LOOP
        PERFORM train_data.quality_metrics(big);
    END LOOP;
EXCEPTION WHEN query_canceled THEN
    NULL;
END $$;
RESET statement_timeout;
SELECT total_bytes - :top_before < 1000000 AS cancelled_contractions_keep_little
FROM pg_catalog.pg_backend_memory_contexts WHERE name = 'TopMemoryContext';
DROP TABLE big_turns;
-- The verdicts judge at most 8 MB of text, as much as a response holds:
-- judging costs up to about 45 times the text (a 48 MB turn took 1.64 GB
-- of the backend: a review of 1.2).  8 MB exactly is judged; a byte more
-- is refused before anything is allocated; the score reads any size; a
-- turn written past the bound is stored, with a warning and the verdicts
-- its conversation had.
SELECT train_data.quality_defects(jsonb_build_array(
           jsonb_build_object('role', 'user', 'content', repeat('ab ', 2796202)),
           jsonb_build_object('role', 'assistant', 'content', 'ok'))) AS eight_mb_judged;
SELECT public.expect_error($$SELECT train_data.quality_defects(jsonb_build_array(
           jsonb_build_object('role', 'user', 'content', repeat('ab ', 2796202)),
           jsonb_build_object('role', 'assistant', 'content', 'ok!')))$$) AS a_byte_more;
SELECT public.expect_error($$SELECT train_data.quality_metrics(jsonb_build_array(
           jsonb_build_object('role', 'user', 'content', repeat('ab ', 3000000))), '4')$$) AS nine_mb;
SELECT train_data.quality_score(jsonb_build_array(jsonb_build_object('role', 'user', 'content', repeat('ab ', 3000000))))
    AS nine_mb_scored;
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status)
VALUES ('c8000000-0000-0000-0000-000000000001', 'big_turn', 'big', 'P', 'E', 'template', 'generated');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('c8000000-0000-0000-0000-000000000001', 1, 'user', repeat('ab ', 3000000));
SELECT t.turns, c.quality_metrics -> 'defects' AS defects
FROM train_data.conversations c,
     LATERAL (SELECT count(*) AS turns FROM train_data.conversation_turns WHERE conversation_id = c.id) t
WHERE c.id = 'c8000000-0000-0000-0000-000000000001';
DELETE FROM train_data.conversations WHERE id = 'c8000000-0000-0000-0000-000000000001';
RESET train_data.user_id;
-- Two 50,000-key objects, half of the keys shared (1.1: 18 s).
SELECT count(*) AS keys, count(*) FILTER (WHERE jsonb_typeof(value) = 'object') AS merged,
       sum((value ->> 'x')::int) FILTER (WHERE jsonb_typeof(value) = 'object') AS sum_x
FROM jsonb_each(train_data.jsonb_merge_deep(
         (SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 50000) i),
         (SELECT jsonb_object_agg('k' || i, jsonb_build_object('x', i)) FROM generate_series(25001, 75000) i)));
-- 50,000 variables with defaults (1.1: 169 s), a repeated name among
-- 50,000, 50,000 undeclared parameters and a 50,000-member object.
SELECT r ->> 'resolved' AS resolved, jsonb_array_length(r -> 'errors') AS errors,
       (SELECT count(*) FROM jsonb_object_keys(r -> 'parameters')) AS parameters
FROM (SELECT train_data.render_template('{{v1}} {{v25000}} {{v50000}}', '{"v2": "given"}',
          (SELECT jsonb_agg(jsonb_build_object('name', 'v' || i, 'type', 'text', 'defaultValue', 'd' || i)) FROM generate_series(1, 50000) i)) AS r) s;
SELECT public.expect_error(format('SELECT train_data.render_template(%L, NULL, %L)', 'x',
    (SELECT jsonb_agg(jsonb_build_object('name', 'v' || (CASE WHEN i = 40000 THEN 7 ELSE i END), 'type', 'text')) FROM generate_series(1, 50000) i)));
SELECT jsonb_array_length(w) AS undeclared_warnings, w ->> 20 AS the_rest
FROM (SELECT train_data.render_template('x', (SELECT jsonb_object_agg('p' || i, i) FROM generate_series(1, 50000) i), '[]')
             -> 'warnings' AS w) r;
SELECT length(train_data.render_template(repeat('{{o.m7}}{{o.none}}', 10000),
    jsonb_build_object('o', (SELECT jsonb_object_agg('m' || i, i) FROM generate_series(1, 50000) i))) ->> 'resolved') AS member_lookups;
RESET statement_timeout;
