-- quality_defects: the defect verdicts of quality_metrics() (one example of
-- each code, with its details), quality_defects(), the expectation of
-- quality_metrics(turns, expected), and the near-duplicate signatures.

-- A clean conversation: no defects; overall is Engine A's.
CREATE FUNCTION pg_temp.clean() RETURNS jsonb LANGUAGE sql AS $$
    SELECT '[{"role": "user", "content": "Hello, I would like to save for a house in five years."},
             {"role": "assistant", "content": "Good plan. Put aside a fixed amount every month, in an account you do not touch."},
             {"role": "user", "content": "How much is reasonable on a salary of 3,000 euros?"},
             {"role": "assistant", "content": "Around 15 to 20 percent, once your emergency fund is in place. I’m sorry I can’t be more exact without your costs!"}]'::jsonb
$$;
SELECT m -> 'overall' AS overall, m -> 'defects' AS defects, m -> 'defectDetails' AS details,
       m ->> 'defectSeverity' AS severity
FROM (SELECT train_data.quality_metrics(pg_temp.clean()) AS m) s;

-- The clean conversation with one turn replaced: each defect, its details.
CREATE FUNCTION pg_temp.with_turn(n int, role text, content text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_set(pg_temp.clean(), ARRAY[(n - 1)::text], jsonb_build_object('role', role, 'content', content))
$$;
SELECT label, m -> 'defects' AS defects, m -> 'defectDetails' AS details, m ->> 'defectSeverity' AS severity,
       m -> 'overall' = train_data.quality_metrics(turns) -> 'overall' AS same_overall
FROM (VALUES
    ('placeholder', pg_temp.with_turn(2, 'assistant', 'Dear {{name}}, put aside a fixed amount every month.')),
    ('ternary placeholder', pg_temp.with_turn(2, 'assistant', 'Put aside {{formal ? ''Sir'' : ''mate''}}, a fixed amount.')),
    ('special token', pg_temp.with_turn(2, 'assistant', 'Put aside a fixed amount every month.<|im_end|>')),
    -- (a review of the thirty-sixth session: Gemma's turn tokens, Claude
    -- naming itself and filler text passed with no defect)
    ('special token, Gemma', pg_temp.with_turn(2, 'assistant', 'Put aside a fixed amount every month.<end_of_turn>')),
    ('refusal, Claude names itself', pg_temp.with_turn(2, 'assistant', 'I am Claude, an assistant made by Anthropic. Put aside a fixed amount.')),
    ('lorem ipsum', pg_temp.with_turn(2, 'assistant', 'Lorem Ipsum dolor sit amet, consectetur adipiscing elit.')),
    -- (the review of those: a person named Claude, a question about the
    -- filler, a model's maker named are no defect)
    ('no refusal, a Claude', pg_temp.with_turn(2, 'assistant', 'Your brother, as Claude did last year, can open a joint savings account, as those made by Anthropic founders do.')),
    ('no filler, a question', pg_temp.with_turn(3, 'user', 'What does "lorem ipsum" mean on my bank''s website template?')),
    ('lorem ipsum in code', pg_temp.with_turn(2, 'assistant', E'Fill the mock-up with:\n```html\n<p>Lorem ipsum dolor sit amet</p>\n```\nThen show it to the client.')),
    ('refusal', pg_temp.with_turn(2, 'assistant', 'AS AN A.I. LANGUAGE MODEL, I don’t give financial advice.')),
    ('refusal, contraction', pg_temp.with_turn(2, 'assistant', 'Sorry, but I can''t help with savings plans.')),
    ('refusal, not something', pg_temp.with_turn(2, 'assistant', 'I''m afraid that''s not something I can help with.')),
    -- naming a product or a policy is no refusal (a review of 1.2)
    ('no refusal, names', pg_temp.with_turn(2, 'assistant', 'Install the openai package; ChatGPT and Claude both follow a content policy.')),
    ('truncated', pg_temp.with_turn(4, 'assistant', 'Around 15 to 20 percent, once your emergency fund is')),
    ('open code fence', pg_temp.with_turn(4, 'assistant', E'Try this:\n```python\nprint(3000 * 0.15)')),
    -- an ellipsis ends no sentence (C4); a list or a web address ends an
    -- answer without a stop, unless its last word joins to a next one
    ('truncated, ellipsis', pg_temp.with_turn(4, 'assistant', 'Around 15 to 20 percent, and the next thing to look at is...')),
    ('list at the end', pg_temp.with_turn(4, 'assistant', E'Around 15 percent, split as:\n- 10 percent into a pension\n- 5 percent into savings')),
    ('list cut off', pg_temp.with_turn(4, 'assistant', E'Around 15 percent, split as:\n- 10 percent into a pension and')),
    ('address at the end', pg_temp.with_turn(4, 'assistant', 'Around 15 percent; the calculator is at https://example.org/savings')),
    ('empty', pg_temp.with_turn(3, 'user', E' \u00a0\u200b\n')),
    -- an answer without a word (a review of the thirty-sixth session: 5.8,
    -- no defect); a user's may be one ("?", an emoji)
    ('no words, assistant', pg_temp.with_turn(2, 'assistant', '... ?!')),
    ('no words, user', pg_temp.with_turn(3, 'user', '?? 👍')),
    ('looping', pg_temp.with_turn(2, 'assistant', repeat('Save a fixed amount every month. ', 6))),
    ('looping phrase', pg_temp.with_turn(2, 'assistant', 'The key is ' || repeat('to keep saving and ', 10) || 'then invest.')),
    ('looping characters', pg_temp.with_turn(2, 'assistant', 'Ha' || repeat('ha', 600) || '! Put aside a fixed amount.')),
    -- a short answer naming its subject three times is no loop: the top
    -- n-gram rules read turns of 50 words or more, as Gopher reads
    -- documents (a review of the thirty-sixth session: 0.251 and 0.205 of
    -- 2-gram characters, each sent to needs_revision before)
    ('no loop, a subject said thrice', pg_temp.with_turn(2, 'assistant', 'An emergency fund is cash for surprises. Your emergency fund should cover three to six months of costs, and keep your emergency fund in an easy-access savings account.')),
    ('no loop, Chinese', pg_temp.with_turn(2, 'assistant', '指数基金是一种跟踪某个市场指数的基金，例如沪深三百指数。它的费用通常很低，适合长期定投。')),
    ('looping, short', pg_temp.with_turn(2, 'assistant', repeat('Puedo ayudarle a comparar las opciones, ', 4) || 'y nada más.')),
    -- (Thai is read per character only for near copies: a term said twice
    -- in an answer is no loop; the review of the thirty-sixth session's
    -- diff saw 0.281 of 5-gram characters when it was read so here too)
    ('no loop, Thai', pg_temp.with_turn(2, 'assistant', 'กองทุนสำรองเลี้ยงชีพเป็นเครื่องมือที่ดีมาก เพราะนายจ้างจะสมทบเงินให้คุณด้วย คุณควรสะสมเงินในกองทุนสำรองเลี้ยงชีพให้ได้สูงสุดเท่าที่นายจ้างสมทบ')),
    -- code is not prose: its repeats, braces and tags are no defect (a
    -- review of 1.2 found 8 of 13 ordinary code answers taken for loops);
    -- the prose around it is still read
    ('code, repeating', pg_temp.with_turn(2, 'assistant', E'Here are the tests:\n```python\nassert add(1, 2) == 3\nassert add(2, 2) == 4\nassert add(0, 0) == 0\nassert add(-1, 1) == 0\nassert add(5, 5) == 10\nassert add(7, 3) == 10\n```\nRun them with pytest.')),
    ('code, braces and tags', pg_temp.with_turn(2, 'assistant', E'In the template write:\n~~~html\n<p>Hello {{ user.name }}</p>\n<s>old price</s>\n~~~\nLlama 2 wraps each prompt in `[INST]` and `{{ name }}` is Jinja.')),
    ('code, then looping prose', pg_temp.with_turn(2, 'assistant', E'```sh\nls\n```\n' || repeat('Save a fixed amount every month. ', 6))),
    ('code, tildes only', pg_temp.with_turn(2, 'assistant', E'Write:\n~~~jinja\nHello {{ user.name }}, welcome to <s>the</s> site.\n~~~\nThat is all.')),
    ('code, in a list item', pg_temp.with_turn(2, 'assistant', E'1. Create the template:\n\n    ```jinja\n    Hello {{ user.name }}\n    ```\n2. Render it.')),
    ('code, spans of several lengths', pg_temp.with_turn(2, 'assistant', 'Use ``{{ a }}`` or `{{ b }}`; a lone ` and ```` stay text, {{c}} too.')),
    ('code, then a placeholder', pg_temp.with_turn(2, 'assistant', E'Run `make` first.\n```\nmake\n```\nDear {{name}}, that is all.')),
    ('duplicate', pg_temp.with_turn(3, 'user', 'hello, I would like to SAVE for a house in five years')),
    ('role order', pg_temp.with_turn(2, 'user', 'Good plan. Put aside a fixed amount every month.')),
    ('unknown role', pg_temp.with_turn(3, 'bot', 'How much is reasonable on a salary of 3,000 euros?')),
    -- the user speaks last: no answer to learn (a review of 1.2)
    ('ends with the user', pg_temp.clean() - 3),
    ('ends with the user, after a system turn', jsonb_build_array(jsonb_build_object('role', 'system', 'content', 'You are a savings coach.')) || (pg_temp.clean() - 3)),
    ('one sided', '[{"role": "assistant", "content": "Save every month."}, {"role": "assistant", "content": "And invest the rest."}]'),
    ('too few', '[{"role": "user", "content": "Hello, can you help me save?"}]'),
    ('not an array', '{"turns": []}')
) AS t(label, turns), LATERAL (SELECT train_data.quality_metrics(turns) AS m) s
ORDER BY label;

-- The template's expectation: a count (far: below half or above double),
-- bounds, the first role; NULL is none; the codes alone.
SELECT expected, train_data.quality_metrics(pg_temp.clean(), expected) -> 'defectDetails' AS details,
       train_data.quality_defects(pg_temp.clean(), expected) AS codes
FROM (VALUES (NULL::jsonb), ('4'), ('12'), ('1'), ('{"minTurns": 6}'), ('{"turns": 2, "maxTurns": 3}'),
             ('{"firstRole": "assistant"}'), ('{"turns": 4, "other": true}')) AS t(expected);
-- A template whose assistant greets first ends with the assistant as well:
-- three turns, no defect.
SELECT train_data.quality_defects('[{"role": "assistant", "content": "Welcome! How can I help with your savings today?"},
                                    {"role": "user", "content": "How much should I put aside each month?"},
                                    {"role": "assistant", "content": "Around 15 percent of your income is a good start."}]',
                                  '{"firstRole": "assistant"}') AS greeting_first;
SELECT train_data.quality_defects(NULL), train_data.quality_metrics(NULL, '4') AS metrics,
       train_data.quality_defects('[]'), train_data.quality_defects(pg_temp.clean());

-- Malformed expectations: an error naming the member and the value.
\set VERBOSITY default
SELECT train_data.quality_metrics(pg_temp.clean(), '0');
SELECT train_data.quality_metrics(pg_temp.clean(), '2.5');
SELECT train_data.quality_defects(pg_temp.clean(), '"eight"');
SELECT train_data.quality_defects(pg_temp.clean(), '{"minTurns": 9, "maxTurns": 3}');
SELECT train_data.quality_defects(pg_temp.clean(), '{"firstRole": "system"}');
SELECT train_data.quality_defects(pg_temp.clean(), '{"turns": [8]}');
\set VERBOSITY terse

-- The codes and which are soft.
SELECT * FROM train_data.quality_defect_codes();

-- Signatures: 128 integers, 16 band keys; exact copies (after case and
-- punctuation) share everything; a conversation's signature is that of its
-- contents joined; near copies are similar, distinct texts are not.
SELECT array_length(train_data.minhash_signature('one two three four five six'), 1) AS slots,
       array_length(train_data.minhash_bands(train_data.minhash_signature('one')), 1) AS bands,
       train_data.minhash_signature('The quick brown fox jumps over the lazy dog')
         = train_data.minhash_signature('the QUICK brown fox -- jumps over the lazy dog!') AS same_words,
       train_data.conversation_text_signature(pg_temp.clean())
         = train_data.minhash_signature((SELECT string_agg(t ->> 'content', ' ') FROM jsonb_array_elements(pg_temp.clean()) t))
         AS joined_contents,
       train_data.minhash_bands(train_data.minhash_signature('a b c d e f g'))
         = train_data.minhash_bands(train_data.minhash_signature('A, b. C! d e f g')) AS same_bands,
       train_data.minhash_signature('') = array_fill(-1, ARRAY[128]) AS no_words;
WITH base AS (
    SELECT string_agg(md5(g::text), ' ') AS t FROM generate_series(1, 300) g
)
SELECT train_data.minhash_similarity(train_data.minhash_signature(t), train_data.minhash_signature(t)) AS exact,
       train_data.minhash_similarity(train_data.minhash_signature(t),
                                     train_data.minhash_signature(replace(t, md5('150'), 'changed'))) >= 0.9 AS near,
       train_data.minhash_similarity(train_data.minhash_signature(t),
                                     train_data.minhash_signature(upper(t) || ' x')) AS case_and_one_more,
       train_data.minhash_similarity(train_data.minhash_signature(t),
                                     train_data.minhash_signature(reverse(t))) AS distinct_text
FROM base;
-- The same words however their letters are written: NFC or NFD, accents
-- or none, fullwidth or ASCII (a review of the thirty-sixth session: 0.14
-- and 0 before); and a Thai text with one word changed is a near copy, its
-- characters each a word as Chinese ones are (0 before: a clause was one
-- "word").  Distinct texts stay distinct.
WITH t(s) AS (VALUES ('Zoë vit à Genève et épargne pour sa retraite anticipée chaque année, sans faute'))
SELECT train_data.minhash_similarity(train_data.minhash_signature(normalize(s, NFC)),
                                     train_data.minhash_signature(normalize(s, NFD))) AS nfc_nfd,
       train_data.minhash_similarity(train_data.minhash_signature(s),
                                     train_data.minhash_signature('Zoe vit a Geneve et epargne pour sa retraite anticipee chaque annee, sans faute')) AS unaccented,
       train_data.minhash_similarity(train_data.minhash_signature('Ｓａｖｅ ｍｏｎｅｙ ｅｖｅｒｙ ｍｏｎｔｈ ｆｏｒ ｙｏｕｒ ｒｅｔｉｒｅｍｅｎｔ'),
                                     train_data.minhash_signature('Save money every month for your retirement')) AS fullwidth,
       train_data.minhash_similarity(train_data.minhash_signature('ออมเงินเดือนละสี่สิบเปอร์เซ็นต์ของรายได้เพื่อการเกษียณอายุที่มั่นคงในอนาคต'),
                                     train_data.minhash_signature('ออมเงินเดือนละสี่สิบห้าเปอร์เซ็นต์ของรายได้เพื่อการเกษียณอายุที่มั่นคงในอนาคต')) >= 0.8 AS thai_near,
       train_data.minhash_similarity(train_data.minhash_signature(s),
                                     train_data.minhash_signature('Иван копит на пенсию каждый месяц, откладывая десятую часть зарплаты')) AS distinct_text
FROM t;

-- Bad signatures and turns.
SELECT train_data.minhash_bands('{1,2,3}');
SELECT train_data.minhash_similarity(array_fill(1, ARRAY[128]), array_fill(NULL::int, ARRAY[128]));
SELECT train_data.minhash_similarity(array_fill(1, ARRAY[128]), array_fill(1, ARRAY[2, 64]));
SELECT train_data.conversation_text_signature('{"turns": []}');
SELECT train_data.conversation_text_signature('[1, {"content": 7}, {"role": "user"}]') = array_fill(-1, ARRAY[128]) AS nothing;
