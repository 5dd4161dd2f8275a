-- quality: quality_metrics() / quality_score() (Engine A of the original
-- system), status routing, and scoring stored conversations.

-- n alternating turns of len characters; the first says hello, the last thanks.
CREATE FUNCTION pg_temp.conv(n int, len int, greet boolean DEFAULT true) RETURNS jsonb LANGUAGE sql AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'role', CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
               'content', rpad(CASE WHEN i = 0 AND greet THEN 'Hello ' WHEN i = n - 1 AND greet THEN 'Thanks ' ELSE '' END
                               || 'turn ' || i || ' ', len, md5(i::text))) ORDER BY i), '[]')
    FROM generate_series(0, n - 1) i
$$;

-- n alternating turns: the turn number, then reps times the character ch.
CREATE FUNCTION pg_temp.conv_of(n int, ch text, reps int) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_agg(jsonb_build_object('role', CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END,
                                        'content', i || repeat(ch, reps)) ORDER BY i)
    FROM generate_series(0, n - 1) i
$$;

-- The worked example of the original: 10 turns of 200 characters -> 10.0, high, high.
SELECT jsonb_pretty(train_data.quality_metrics(pg_temp.conv(10, 200)) - 'signals');

-- Hand-computed cases: (turns, length, structure, coherence) -> overall.
SELECT label, m -> 'scoreBreakdown' -> 'turnCount' -> 'score' AS turns,
       m -> 'scoreBreakdown' -> 'responseLength' -> 'score' AS length,
       m -> 'scoreBreakdown' -> 'structure' -> 'score' AS structure,
       m -> 'scoreBreakdown' -> 'coherence' -> 'score' AS coherence,
       m -> 'overall' AS overall, m ->> 'confidence' AS confidence, m ->> 'trainingValue' AS training_value
FROM (VALUES
    ('empty', '[]'::jsonb),
    ('not an array', '{"turns": []}'),
    ('one turn of 5 chars', '[{"role": "user", "content": "hi yo"}]'),
    ('6 turns of 60', pg_temp.conv(6, 60)),
    ('4 turns of 60', pg_temp.conv(4, 60)),
    ('16 turns of 500', pg_temp.conv(16, 500)),
    ('17 turns of 501', pg_temp.conv(17, 501)),
    ('25 turns of 10', pg_temp.conv(25, 10, false)),
    ('8 turns of 1300', pg_temp.conv(8, 1300)),
    ('wrong first role', '[{"role": "assistant", "content": "Hello, I am here to help you with savings today, what do you need?"},
                           {"role": "user", "content": "I would like to know how much to put aside every month for my pension."}]'),
    ('missing role, empty content', '[{"content": "Hello, I am here to help you with savings today, what do you need?"},
                                      {"role": "assistant", "content": "   "}]'),
    ('duplicates', '[{"role": "user", "content": "Hello, what should I save?"}, {"role": "assistant", "content": "Ten percent."},
                     {"role": "user", "content": "HELLO, what should I save? "}, {"role": "assistant", "content": "ten percent."},
                     {"role": "user", "content": "ok"}, {"role": "assistant", "content": "Thanks, bye"}]'),
    ('unicode 100 chars per turn', pg_temp.conv_of(8, 'é', 99))
) AS t(label, turns), LATERAL (SELECT train_data.quality_metrics(turns) AS m) s;

-- More hand-computed cases, at every band edge: (T, L, S, C) -> overall =
-- round1(0.30 T + 0.25 L + 0.30 S + 0.15 C), rounding half up in binary
-- floating point as JavaScript's Math.round does.
SELECT label, m -> 'scoreBreakdown' -> 'turnCount' -> 'score' AS turns,
       m -> 'scoreBreakdown' -> 'responseLength' -> 'score' AS length,
       m -> 'scoreBreakdown' -> 'structure' -> 'score' AS structure,
       m -> 'scoreBreakdown' -> 'coherence' -> 'score' AS coherence,
       m -> 'overall' AS overall, expected, (m -> 'overall')::numeric = expected AS agrees
FROM (VALUES
    ('8 turns of 100', pg_temp.conv(8, 100), 10.0),        -- (10, 10, 10, 10)
    ('8 turns of 99', pg_temp.conv(8, 99), 9.3),           -- (10, 7, 10, 10): 9.25 -> 9.3
    ('8 turns of 50', pg_temp.conv(8, 50), 9.3),           -- (10, 7, 10, 10)
    ('8 turns of 49', pg_temp.conv(8, 49), 8.5),           -- (10, 4, 10, 10)
    ('8 turns of 800', pg_temp.conv(8, 800), 9.3),         -- (10, 7, 10, 10)
    ('8 turns of 801', pg_temp.conv(8, 801), 8.5),         -- (10, 4, 10, 10)
    ('8 turns of 1201', pg_temp.conv(8, 1201), 8.0),       -- (10, 2, 10, 10)
    ('8 turns of 20', pg_temp.conv(8, 20), 8.5),           -- (10, 4, 10, 10)
    ('8 turns of 19', pg_temp.conv(8, 19), 8.0),           -- (10, 2, 10, 10)
    ('8 turns of 9', pg_temp.conv(8, 9), 7.6),             -- (10, 2, 10, 7): 7.55 -> 7.6
    ('20 turns of 200', pg_temp.conv(20, 200), 9.1),       -- (7, 10, 10, 10)
    ('21 turns of 200', pg_temp.conv(21, 200), 8.2),       -- (4, 10, 10, 10)
    ('24 turns of 200', pg_temp.conv(24, 200), 8.2),       -- (4, 10, 10, 10)
    ('3 turns of 200', pg_temp.conv(3, 200), 7.6),         -- (2, 10, 10, 10)
    ('one turn of 200', pg_temp.conv(1, 200), 6.1),        -- (2, 10, 5, 10)
    ('three repeats', '[{"role": "user", "content": "Hello, how much should I save each month?"},
                        {"role": "assistant", "content": "hello, how much should I save each month?"},
                        {"role": "user", "content": "Hello, how much should I save each month?"},
                        {"role": "assistant", "content": "HELLO, how much should I save each month?"}]', 6.4),  -- (4, 4, 10, 8)
    ('number content', '[{"role": "user", "content": 42}, {"role": "assistant", "content": "Forty-two is the answer you want."}]', 4.9),  -- (2, 2, 8, 9): 4.85 -> 4.9
    ('null role', '[{"role": null, "content": "Hello, I would like to understand my pension options."},
                    {"role": "assistant", "content": "Of course, let us start with your current pension pot."}]', 6.3),  -- (2, 7, 8, 10): 6.25 -> 6.3
    ('role "bot"', '[{"role": "user", "content": "Hello, I would like to understand my pension options."},
                     {"role": "bot", "content": "Of course, let us start with your current pension pot."}]', 6.0),  -- (2, 7, 7, 10): 5.95 -> 6.0
    ('8 turns of 50 emoji', pg_temp.conv_of(8, '😀', 49), 9.3),  -- 50 characters, 197 bytes: (10, 7, 10, 10)
    ('8 turns of 40 CJK', pg_temp.conv_of(8, '年', 39), 8.5),    -- 40 characters, 118 bytes: (10, 4, 10, 10)
    ('timestamps', '[{"role": "user", "content": "Hello, I would like to understand my pension options.", "timestamp": "2025-01-01T10:00:00Z"},
                     {"role": "assistant", "content": "Of course, let us start with your current pension pot.", "timestamp": "2025-01-01T10:00:05Z"}]', 6.9)  -- (2, 7, 10, 10): 6.85 -> 6.9
) AS t(label, turns, expected), LATERAL (SELECT train_data.quality_metrics(turns) AS m) s;

-- Issues and suggestions name what to fix.
SELECT train_data.quality_metrics(pg_temp.conv(4, 60, false)) -> 'issues' AS issues,
       train_data.quality_metrics(pg_temp.conv(4, 60, false)) -> 'suggestions' AS suggestions;

-- The document is written in jsonb's binary form directly (no text parsed
-- back): for each of 63 conversations it is byte for byte what jsonb_in
-- makes of its text (*= compares rows' bytes), and every member is found
-- by its key (objects' keys in jsonb's order).
SELECT count(*) AS documents,
       count(*) FILTER (WHERE (SELECT x FROM (SELECT m AS v) x) *= (SELECT x FROM (SELECT m::text::jsonb AS v) x)) AS same_bytes,
       count(*) FILTER (WHERE m = m::text::jsonb AND m @> m::text::jsonb AND m::text::jsonb @> m) AS same_value,
       count(*) FILTER (WHERE (SELECT bool_and(m -> k = m::text::jsonb -> k AND m -> 'scoreBreakdown' -> 'structure' ->> 'reason' IS NOT NULL)
                               FROM jsonb_object_keys(m) k)) AS keys_found
FROM generate_series(1, 21) n, (VALUES (9), (60), (501)) AS l(len),
     LATERAL (SELECT train_data.quality_metrics(pg_temp.conv(n, len, n % 2 = 0)) AS m) s;

-- The same for documents whose defect details nest (several details of a
-- defect make an array of objects), without turns, not an array, and of
-- 70 turns: laid out as they are written, byte for byte jsonb_in's.
SELECT count(*) AS documents,
       count(*) FILTER (WHERE (SELECT x FROM (SELECT m AS v) x) *= (SELECT x FROM (SELECT m::text::jsonb AS v) x)) AS same_bytes,
       count(*) FILTER (WHERE jsonb_typeof(m -> 'defectDetails' -> 'empty_turn') = 'array') AS detail_arrays
FROM (VALUES
    ('[{"role":"user","content":"  "},{"role":"assistant","content":""},{"role":"user","content":" "},{"role":"assistant","content":"As an AI I cannot help. {{x}} {{y}}"}]'::jsonb),
    ('[{"role":"assistant","content":"hi"},{"role":"assistant","content":"hi"},{"role":"assistant","content":"hi"}]'),
    ('[]'), ('{}'), ('[1, 2, 3]'), ('[{"role":"user"}]'),
    ((SELECT jsonb_agg(jsonb_build_object('role', CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
                                          'content', CASE WHEN g % 3 = 0 THEN '' ELSE 'same same same same same same' END))
      FROM generate_series(1, 70) g))) AS c(t),
     LATERAL (SELECT train_data.quality_metrics(t) AS m) s;

-- Extra signals never change the overall score.
SELECT m -> 'signals' AS signals, m -> 'overall' AS overall
FROM (SELECT train_data.quality_metrics('[
    {"role": "user", "content": "Hello {{persona}}, can you help me with my pension plans today?"},
    {"role": "assistant", "content": "As an AI I cannot help with that, but here is what I would look at"}]') AS m) s;

-- Repeated 4-word n-grams, each counted once: "ça coûte très cher," (turns 1
-- and 3; only ASCII letters are case-folded, so turn 2's "Ça coûte très cher,"
-- differs) and "coûte très cher, vraiment" (all three turns) = 2.
SELECT train_data.quality_metrics('[{"role": "user", "content": "ça coûte très cher, vraiment"},
    {"role": "assistant", "content": "Ça coûte très cher, vraiment oui"},
    {"role": "user", "content": "ça coûte très cher, vraiment"}]') -> 'signals' -> 'repeatedNgrams' AS repeated_ngrams;

-- Uniqueness: distinct / all words longer than 3 characters.
SELECT train_data.quality_metrics('[{"role": "user", "content": "save save save money money"}, {"role": "assistant", "content": "spend"}]') -> 'uniqueness' AS uniqueness;

-- quality_score is the overall score; NULL in, NULL out.
SELECT train_data.quality_score(pg_temp.conv(10, 200)) AS ten, train_data.quality_score(pg_temp.conv(4, 60)) AS four_turns,
       train_data.quality_score(NULL) AS null_score;

-- Routing by the template threshold T: >= T generated, T-2 <= s < T pending_review, below needs_revision.
SELECT s AS score, train_data.quality_status(s) AS default_6, train_data.quality_status(s, 7) AS threshold_7,
       train_data.quality_status(s, NULL) AS null_threshold
FROM unnest(ARRAY[10, 6.0, 5.9, 4.0, 3.9, 0]::numeric[]) AS s;

-- score_conversation rescores a stored conversation from its turns.
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.conversations (id, title, persona, emotion, tier)
VALUES ('d3000000-0000-0000-0000-000000000001', 'stored', 'p', 'e', 'template');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT 'd3000000-0000-0000-0000-000000000001', ordinality, value ->> 'role', value ->> 'content'
FROM jsonb_array_elements(pg_temp.conv(10, 200)) WITH ORDINALITY;
SELECT train_data.score_conversation('d3000000-0000-0000-0000-000000000001') -> 'overall' AS rescored;
-- (and its turn count: turns written by hand left it 0, found by a review of 1.2)
SELECT quality_score, quality_metrics ->> 'trainingValue' AS training_value, turn_count FROM train_data.conversations;
SELECT expect_error($$SELECT train_data.score_conversation('d3000000-0000-0000-0000-00000000dead')$$);
DELETE FROM train_data.conversations;
RESET train_data.user_id;
