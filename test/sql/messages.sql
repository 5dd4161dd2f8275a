-- messages: an error quotes what it names clipped, whoever chose its size.
-- Found by a review of every user-facing error (thirty-fifth session): a
-- template another user shares (a dropdown of 20,000 long options, a
-- variable named with 100,000 characters), a conversation id, the JWT
-- claims, a document's own bound, a worker's entry made messages of
-- megabytes.  Each case shows the SQLSTATE, message and detail (up to 200
-- characters: the first 150 and the last 47 of a longer one) and the whole
-- length, ids masked.
\set alice '\'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa\''
\set bob '\'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb\''

CREATE FUNCTION public.show_error(stmt text) RETURNS TABLE (error text, length integer)
    LANGUAGE sql
    RETURN (SELECT ROW(CASE WHEN length(e) <= 200 THEN e ELSE left(e, 150) || ' … ' || right(e, 47) END, length(e))
            FROM public.expect_error(stmt, true, true) e);

-- Bob's shared templates: a dropdown of 20,000 options of 100 characters,
-- and a required variable (the text need not use it) whose name has
-- 100,000.
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.templates (id, name, category, structure, variables) VALUES
  ('ee000000-0000-0000-0000-000000000001', 'Big dropdown', 'tests', 'Talk about {{p}} now.',
   jsonb_build_array(jsonb_build_object('name', 'p', 'type', 'dropdown',
                     'options', (SELECT jsonb_agg(lpad(g::text, 100, 'o')) FROM generate_series(1, 20000) g)))),
  ('ee000000-0000-0000-0000-000000000002', 'Long name', 'tests', 'Talk about it now.',
   jsonb_build_array(jsonb_build_object('name', repeat('v', 100000), 'type', 'text')));
INSERT INTO train_data.templates (id, name, category, structure, is_active) VALUES
  ('ee000000-0000-0000-0000-000000000003', 'Retired', 'tests', 'Talk about it now.', false);

SET ROLE regress_alice;
SET train_data.user_id = :alice;
-- the options: the first ten, each clipped, then how many more
SELECT * FROM public.show_error($$SELECT train_data.create_batch('b', '[{"template_id": "ee000000-0000-0000-0000-000000000001", "parameters": {"p": "nope"}}]')$$);
SELECT * FROM public.show_error($$SELECT train_data.build_generation_request('ee000000-0000-0000-0000-000000000001', '{"p": "nope"}')$$);
-- the variable's name clipped
SELECT * FROM public.show_error($$SELECT train_data.create_batch('b', '[{"template_id": "ee000000-0000-0000-0000-000000000002"}]')$$);
-- her own item changed to parameters the template refuses
SELECT train_data.create_batch('ok', jsonb_build_array(jsonb_build_object('template_id', 'ee000000-0000-0000-0000-000000000001',
                                                                       'parameters', jsonb_build_object('p', lpad('1', 100, 'o')))))
    AS job \gset
SELECT * FROM public.show_error(format($$UPDATE train_data.batch_items SET parameters = '{"p": "nope"}' WHERE batch_job_id = %L$$, :'job'));

-- a regeneration with parameters the template refuses names the
-- conversation, not the internal batch and item (nor create_batch's text as
-- its context)
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status, template_id, parameters)
VALUES ('ee000000-0000-0000-0000-0000000000c1', 'msg_regen_1', 't', 'p', 'e', 'template', 'pending_review',
        'ee000000-0000-0000-0000-000000000001', jsonb_build_object('p', lpad('1', 100, 'o')));
\set VERBOSITY sqlstate
SELECT train_data.regenerate_conversation('ee000000-0000-0000-0000-0000000000c1', '{"p": "nope"}');
\set VERBOSITY default
SELECT train_data.regenerate_conversation('ee000000-0000-0000-0000-0000000000c1', '{"p": "nope"}');
SELECT train_data.regenerate_conversation('ee000000-0000-0000-0000-0000000000c1',
                                          jsonb_build_object('category', repeat('c', 101)));
-- an id with a double quote in it is named the same way; an inactive
-- template is what the error is about, not the parameters (the review of
-- the first form found both reported otherwise)
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status, template_id, parameters)
VALUES ('ee000000-0000-0000-0000-0000000000c2', 'msg"regen', 't', 'p', 'e', 'template', 'pending_review',
        'ee000000-0000-0000-0000-000000000001', jsonb_build_object('p', lpad('1', 100, 'o'))),
       ('ee000000-0000-0000-0000-0000000000c3', 'msg_retired', 't', 'p', 'e', 'template', 'pending_review',
        'ee000000-0000-0000-0000-000000000003', '{}');
SELECT * FROM public.show_error($$SELECT train_data.regenerate_conversation('ee000000-0000-0000-0000-0000000000c2', '{"p": "nope"}')$$);
SELECT * FROM public.show_error($$SELECT train_data.regenerate_conversation('ee000000-0000-0000-0000-0000000000c3')$$);

-- a conversation id of 1 MB, refused by the guard before the column's check
SELECT * FROM public.show_error($$INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, approved_by, approved_at)
                                  VALUES (repeat('X', 1000000), 't', 'p', 'e', 'template', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', now())$$);
SELECT * FROM public.show_error($$INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, parent_id, parent_type)
                                  VALUES (repeat('Y', 1000000), 't', 'p', 'e', 'template', 'ee000000-0000-0000-0000-00000000dead', 'conversation')$$);

-- a bound that comes from the document itself
SELECT * FROM public.show_error($$SELECT train_data.validate_ai_config('{"costBudget": {"dailyBudget": 1e16300}}')$$);

-- JWT claims of 1 MB that are not JSON: the parser's detail quotes its token
RESET train_data.user_id;
SELECT set_config('request.jwt.claims', repeat('x', 1000000), false) IS NOT NULL AS claims_set;
SELECT * FROM public.show_error($$SELECT train_data.current_user_id()$$);
RESET request.jwt.claims;

-- is_uuid_text, which the entries' check reads an item_id with, agrees
-- with the uuid type's input on every form it takes and some it does not
-- (the review of the first form found the 4-4-4 grouping refused)
SELECT v, train_data.is_uuid_text(v) AS is_uuid, public.expect_error(format('SELECT %L::uuid', v)) AS cast
FROM (VALUES ('01a2469c-1077-4abc-8def-0123456789ab'), ('01A2469C10774ABC8DEF0123456789AB'),
             ('{01a2469c-1077-4abc-8def-0123456789ab}'), ('01a2-469c-1077-4abc-8def-0123-4567-89ab'),
             ('{01a2469c10774abc8def0123456789ab}'), ('01a2469c-1077-4abc-8def-0123456789ab-'),
             ('{01a2469c-1077-4abc-8def-0123456789ab'), ('01a2469c1077'), ('01a2469c--1077-4abc-8def-0123456789ab'),
             (' 01a2469c-1077-4abc-8def-0123456789ab')) AS t(v);

-- a worker's entries: each member named, its value clipped
RESET ROLE;
SET ROLE regress_worker;
SELECT error_code, left(error_message, 200) AS error_message, length(error_message)
FROM train_data.complete_batch_items(jsonb_build_array(
       jsonb_build_object('item_id', repeat('z', 1000000), 'response', '{}'::jsonb),
       jsonb_build_object('item_id', 'ee000000-0000-0000-0000-00000000dead', 'duration_ms', repeat('9', 5000)::jsonb, 'response', '{}'::jsonb),
       jsonb_build_object('item_id', 'ee000000-0000-0000-0000-00000000dead', 'attempt', 'abc', 'response', '{}'::jsonb),
       jsonb_build_object('item_id', 'ee000000-0000-0000-0000-00000000dead', 'attempt', '2147483648', 'response', '{}'::jsonb),
       jsonb_build_object('item_id', NULL, 'response', '{}'::jsonb),
       jsonb_build_object('item_id', 'ee000000-0000-0000-0000-00000000dead', 'attempt', 1, 'duration_ms', '12', 'response', '{}'::jsonb),
       -- what complete_batch_item takes is taken: the id's 4-4-4 grouping,
       -- an attempt with spaces, a duration with leading zeros
       jsonb_build_object('item_id', 'ee00-0000-0000-0000-0000-0000-0000-dead', 'attempt', ' 1 ',
                          'duration_ms', '00000000001500', 'response', '{}'::jsonb),
       -- white space the integer type does not skip (U+3000) is refused,
       -- clipped; an ASCII tab and vertical tab are skipped as it skips them
       jsonb_build_object('item_id', 'ee000000-0000-0000-0000-00000000dead', 'attempt', repeat(U&'\3000', 100) || '1',
                          'response', '{}'::jsonb),
       jsonb_build_object('item_id', 'ee000000-0000-0000-0000-00000000dead', 'attempt', chr(9) || chr(11) || '1',
                          'response', '{}'::jsonb)));

-- Clean up.
RESET ROLE;
DROP FUNCTION public.show_error(text);
DELETE FROM train_data.batch_jobs WHERE created_by = :alice;
DELETE FROM train_data.conversations WHERE created_by = :alice;
DELETE FROM train_data.templates WHERE id IN ('ee000000-0000-0000-0000-000000000001', 'ee000000-0000-0000-0000-000000000002',
                                             'ee000000-0000-0000-0000-000000000003');
