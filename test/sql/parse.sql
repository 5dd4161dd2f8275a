-- parse: parse_generation_response() through SQL — every accepted shape and
-- every error, with its SQLSTATE.

-- A Messages API response: text blocks joined (other blocks ignored), fenced JSON, metadata.
SELECT jsonb_pretty(train_data.parse_generation_response(
    jsonb_build_object(
        'id', 'msg_01', 'type', 'message', 'role', 'assistant', 'model', 'claude-sonnet-4-5-20250929',
        'stop_reason', 'end_turn', 'usage', jsonb_build_object('input_tokens', 1200, 'output_tokens', 2400),
        'content', jsonb_build_array(
            jsonb_build_object('type', 'text', 'text', E'Here is the conversation:\n```json\n{"title": "Retirement jitters", "turns": ['),
            jsonb_build_object('type', 'thinking', 'thinking', 'ignored'),
            jsonb_build_object('type', 'text', 'text', E'{"role": "user", "content": "I am worried about my pension."}, {"role": "assistant", "content": "Let us look at it together."}]}\n```')))));

-- A {title, turns} object; roles in any case; the title trimmed.
SELECT train_data.parse_generation_response('{"title": "  Plan  ", "turns": [{"role": "USER", "content": "a"}, {"role": "Assistant", "content": "b"}]}');

-- Text: JSON alone, JSON in prose, "messages" key, and user:/assistant: lines.
SELECT train_data.parse_generation_response(to_jsonb('{"turns": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}'::text)) -> 'turns';
SELECT train_data.parse_generation_response(to_jsonb('Sure! {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]} Hope it helps.'::text)) -> 'turns';
SELECT train_data.parse_generation_response(to_jsonb(E'Title line\nUser: Hello,\nI need help.\n\nASSISTANT:  Of course.  \nuser: thanks'::text),
                                            '{"persona": "Anxious Investor", "topic": "pensions", "emotion": "worried"}');

-- The title falls back to "<persona> - <topic> (<emotion>)".
SELECT p AS parameters, train_data.parse_generation_response(to_jsonb(E'user: a\nassistant: b'::text), p) ->> 'title' AS title
FROM (VALUES ('{}'::jsonb), ('{"persona": "Bo"}'), ('{"topic": "tax"}'), ('{"persona": "Bo", "emotion": "calm"}'), (NULL)) AS t(p);

-- Unicode and escapes survive exactly.
SELECT train_data.parse_generation_response('{"turns": [{"role": "user", "content": "Grüße 😀 \"quoted\" back\\\\slash\ttab"}, {"role": "assistant", "content": "中文\nline"}]}') -> 'turns';

-- Errors.
SELECT expect_error($$SELECT train_data.parse_generation_response('{"content": [{"type": "text", "text": "user: a\nassistant: b"}], "stop_reason": "max_tokens"}')$$, true);
SELECT expect_error($$SELECT train_data.parse_generation_response('{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}')$$, true);
SELECT expect_error($$SELECT train_data.parse_generation_response('42')$$, true);
SELECT expect_error($$SELECT train_data.parse_generation_response('{"answer": 1}')$$, true);
SELECT expect_error($$SELECT train_data.parse_generation_response('"Sorry, I cannot help with that."')$$, true);
SELECT expect_error($$SELECT train_data.parse_generation_response(to_jsonb(E'```json\n{"turns": [{"role": "user", "content": "a"},]}\n```'::text))$$, true);
SELECT expect_error($$SELECT train_data.parse_generation_response('{"content": []}')$$);
SELECT expect_error($$SELECT train_data.parse_generation_response('{"turns": [{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}]}')$$, true);
SELECT expect_error($$SELECT train_data.parse_generation_response('{"turns": [{"role": "user", "content": "a"}, {"content": "b"}]}')$$);
SELECT expect_error($$SELECT train_data.parse_generation_response('{"turns": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "   "}]}')$$);
SELECT expect_error($$SELECT train_data.parse_generation_response('{"turns": [{"role": "user", "content": "a"}, {"role": "assistant", "content": 5}]}')$$);
SELECT expect_error($$SELECT train_data.parse_generation_response('{"turns": ["a", "b"]}')$$);
SELECT expect_error($$SELECT train_data.parse_generation_response('{"turns": [{"role": "user", "content": "only one"}]}')$$, true);
SELECT expect_error($$SELECT train_data.parse_generation_response('{"turns": []}')$$);
SELECT expect_error($$SELECT train_data.parse_generation_response(to_jsonb(E'user:\nassistant: b'::text))$$);
-- Token counts a conversation cannot store (an integer each, and together):
-- the response is refused by the parser, so a completion fails the item as
-- an unusable response instead of failing later on a cast (found by review).
SELECT expect_error($$SELECT train_data.parse_generation_response('{"content": [{"type": "text", "text": "user: a\nassistant: b"}], "usage": {"input_tokens": 3000000000, "output_tokens": 1}}')$$, true);
SELECT expect_error($$SELECT train_data.parse_generation_response('{"content": [{"type": "text", "text": "user: a\nassistant: b"}], "usage": {"input_tokens": 2000000000, "output_tokens": 2000000000}}')$$, true);
SELECT r ->> 'input_tokens' AS input_tokens, r ->> 'output_tokens' AS output_tokens
FROM train_data.parse_generation_response('{"content": [{"type": "text", "text": "user: a\nassistant: b"}], "usage": {"input_tokens": 2147483646, "output_tokens": 1}}') r;
-- A number stored in a few bytes of jsonb can print as 131,072 digits: the
-- numbers of one value may print as four times its size and 1 MB more, so
-- twenty of them (2.6 MB of digits from 420 bytes) are refused, not read.
SELECT expect_error($$SELECT train_data.parse_generation_response(
    (SELECT jsonb_build_object('content', jsonb_build_array(jsonb_build_object('type', 'text', 'text', E'user: a\nassistant: b')),
                               'pad', jsonb_agg('1e131071'::numeric))
     FROM generate_series(1, 20)))$$, true);
SELECT expect_error($$SELECT train_data.parse_generation_response(NULL)$$);

-- A long conversation (2,000 turns of 1,000 characters) parses whole.
SELECT jsonb_array_length(r -> 'turns') AS turns, length(r -> 'turns' -> 1999 ->> 'content') AS last_length
FROM (SELECT train_data.parse_generation_response(jsonb_build_object('turns',
        (SELECT jsonb_agg(jsonb_build_object('role', CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
                                             'content', repeat('ä', 1000)))
         FROM generate_series(1, 2000) g))) AS r) s;

-- The result is written in jsonb's binary form directly (no text parsed
-- back): byte for byte what jsonb_in makes of its text (*= compares rows'
-- bytes: every 32nd entry of an array holds an offset, the others
-- lengths), its keys found by lookup and each of 75 turns by position.
SELECT (SELECT x FROM (SELECT r AS v) x) *= (SELECT x FROM (SELECT r::text::jsonb AS v) x) AS same_bytes,
       r = r::text::jsonb AND r @> r::text::jsonb AND r::text::jsonb @> r AS same_value,
       r ->> 'title' AS title, r -> 'stop_reason' AS stop_reason,
       (SELECT bool_and(r -> 'turns' -> (g - 1) ->> 'content' = 'turn ' || g || ' ' || repeat('é', g % 7)
                        AND r -> 'turns' -> (g - 1) ->> 'role' = CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END)
        FROM generate_series(1, 75) g) AS every_turn_in_place,
       r -> 'turns' -> 64 AS turn_65
FROM (SELECT train_data.parse_generation_response(jsonb_build_object('turns',
        (SELECT jsonb_agg(jsonb_build_object('role', CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END,
                                             'content', 'turn ' || g || ' ' || repeat('é', g % 7)))
         FROM generate_series(1, 75) g))) AS r) s;
