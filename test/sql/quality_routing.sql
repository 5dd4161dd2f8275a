-- quality_routing: what defect verdicts decide (a completion with a defect
-- is never routed to generated; the review queue filters by defect; the
-- statistics count defects; exports leave defective conversations out
-- unless asked) and near duplicates (signatures kept by triggers however
-- the turns are written, near_duplicates(), the export's dedupe option).

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''

-- A response of the given turns (role, content pairs), as the model sends it.
CREATE FUNCTION public.response(turns jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('type', 'message', 'model', 'claude-sonnet-4-5-20250929', 'stop_reason', 'end_turn',
                              'usage', jsonb_build_object('input_tokens', 10, 'output_tokens', 20),
                              'content', jsonb_build_array(jsonb_build_object('type', 'text', 'text',
                                  jsonb_build_object('title', 'Savings', 'turns', turns)::text)))
$$;
-- Claim the next item and complete it with turns; the conversation's
-- status, defects and the defects its history entry records.
CREATE FUNCTION public.complete_next(turns jsonb) RETURNS TABLE (status text, defects jsonb, recorded jsonb)
    LANGUAGE plpgsql AS $$
DECLARE
    c record;
    conv uuid;
BEGIN
    SELECT * INTO c FROM train_data.claim_batch_items('routing', 1);
    conv := train_data.complete_batch_item(c.item_id, public.response(turns), 5, c.attempt);
    RETURN QUERY SELECT x.status::text, x.quality_metrics -> 'defects', x.review_history -> 0 -> 'defects'
                 FROM train_data.conversations x WHERE x.id = conv;
END
$$;

SET train_data.user_id = :alice;
INSERT INTO train_data.templates (id, name, category, structure, variables, quality_threshold) VALUES
    ('e7000000-0000-0000-0000-000000000001', 'Routing', 'finance', 'Talk with {{persona}} about saving.',
     '[{"name": "persona", "type": "text"}]', 1.0);
SELECT train_data.create_batch('routing', jsonb_agg(jsonb_build_object('template_id', 'e7000000-0000-0000-0000-000000000001',
                                                                       'parameters', jsonb_build_object('persona', 'P' || g))))
FROM generate_series(1, 5) g \gset

------------------------------------------------------------------ routing
-- clean: generated, no defects
SELECT * FROM public.complete_next('[{"role": "user", "content": "How much of my salary should I put aside each month?"},
    {"role": "assistant", "content": "Start with ten percent, automate the transfer on payday, and raise it by one point every year."}]');
-- a refusal (soft): pending_review, never generated
SELECT * FROM public.complete_next('[{"role": "user", "content": "How much of my salary should I put aside each month?"},
    {"role": "assistant", "content": "I''m sorry, but I can’t help with that request."}]');
-- a leaked placeholder (hard): needs_revision
SELECT * FROM public.complete_next('[{"role": "user", "content": "Hello, I am {{persona}} and I want to save money."},
    {"role": "assistant", "content": "Good to meet you. Let us look at your monthly budget first."}]');
-- the same answer twice (hard: duplicate_turns)
SELECT * FROM public.complete_next('[{"role": "user", "content": "How much should I save?"},
    {"role": "assistant", "content": "Put aside ten percent of every pay cheque."},
    {"role": "user", "content": "And if I earn more next year?"},
    {"role": "assistant", "content": "Put aside ten percent of every pay cheque."}]');
-- a looping turn (hard)
SELECT * FROM public.complete_next(jsonb_build_array(
    jsonb_build_object('role', 'user', 'content', 'What should I do with my bonus this year?'),
    jsonb_build_object('role', 'assistant', 'content', repeat('You should save it. ', 12))));

-- defect_status() itself (what a completion applies to the status its
-- score earned): a code that is not a soft defect's (unknown, a number, a
-- null) counts as hard; no defects (NULL, not an array, empty) keep it
SELECT earned, defects, train_data.defect_status(earned::train_data.conversation_status, defects::jsonb) AS status
FROM (VALUES ('generated', '[]'), ('generated', NULL), ('generated', '{"refusal": 1}'), ('generated', '"refusal"'),
             ('generated', '["refusal"]'), ('pending_review', '["refusal", "duplicate_in_batch"]'),
             ('needs_revision', '["refusal"]'), ('generated', '["refusal", "looping_turn"]'), ('generated', '["typo"]'),
             ('generated', '[7]'), ('generated', '[null]'), (NULL, '["refusal"]'), (NULL, '["looping_turn"]'),
             (NULL, '[]')) AS c (earned, defects);
-- metrics_have_hard_defects() judges a metrics document's defects the same
-- way (false for no defects, or soft ones only)
SELECT defects, train_data.metrics_have_hard_defects(jsonb_build_object('defects', defects::jsonb)) AS hard
FROM (VALUES ('[]'), (NULL), ('{"looping_turn": 1}'), ('"looping_turn"'), ('["refusal"]'),
             ('["refusal", "duplicate_in_batch", "truncated_last_turn", "length_mismatch"]'),
             ('["refusal", "looping_turn"]'), ('["typo"]'), ('[7]'), ('[null]')) AS c (defects);

------------------------------------------------------------------ review queue, statistics, score
SELECT conversation_id IS NOT NULL AS listed, quality_metrics -> 'defects' AS defects
FROM train_data.review_queue(defect => 'refusal');
SELECT count(*) AS pending_with_placeholder FROM train_data.review_queue(defect => 'leaked_placeholder');
SELECT expect_error($$SELECT * FROM train_data.review_queue(defect => 'typo')$$);
SELECT s -> 'withDefects' AS with_defects, s -> 'byDefect' AS by_defect
FROM train_data.conversation_statistics() s;
-- Writing turns judges their conversation again, as its writer: an edited
-- turn kept the old verdict, which the exports trust (a review of 1.2); the
-- score stays until score_conversation scores the conversation whole
SELECT quality_score AS score_before, quality_metrics -> 'defects' AS defects_before
FROM train_data.conversations WHERE status = 'generated' \gset
UPDATE train_data.conversation_turns SET content = 'I cannot assist with that.'
WHERE turn_number = 2 AND conversation_id = (SELECT id FROM train_data.conversations WHERE status = 'generated');
SELECT :'defects_before' AS defects_before, quality_metrics -> 'defects' AS judged, has_defects,
       quality_score = :score_before AS score_kept
FROM train_data.conversations WHERE status = 'generated';
SELECT train_data.score_conversation(id) -> 'defects' AS rescored
FROM train_data.conversations WHERE status = 'generated';
-- a conversation written by hand is judged as its turns are written: one
-- turn is too few, a cut-off answer is soft, a whole exchange is clean;
-- deleting a turn judges it again
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, quality_score)
VALUES ('e6100000-0000-0000-0000-000000000001', 'By hand', 'Ann', 'calm', 'template', 7.5);
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('e6100000-0000-0000-0000-000000000001', 1, 'user', 'Can I retire at sixty with my savings?');
SELECT quality_metrics AS one_turn, quality_score FROM train_data.conversations WHERE id = 'e6100000-0000-0000-0000-000000000001';
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('e6100000-0000-0000-0000-000000000001', 2, 'assistant', 'Yes, if you keep saving and then');
SELECT quality_metrics -> 'defects' AS cut_off FROM train_data.conversations WHERE id = 'e6100000-0000-0000-0000-000000000001';
UPDATE train_data.conversation_turns SET content = 'Yes, if you keep saving ten percent a month.'
WHERE conversation_id = 'e6100000-0000-0000-0000-000000000001' AND turn_number = 2;
SELECT quality_metrics -> 'defects' AS edited FROM train_data.conversations WHERE id = 'e6100000-0000-0000-0000-000000000001';
DELETE FROM train_data.conversation_turns WHERE conversation_id = 'e6100000-0000-0000-0000-000000000001' AND turn_number > 1;
SELECT quality_metrics -> 'defects' AS deleted, quality_score FROM train_data.conversations WHERE id = 'e6100000-0000-0000-0000-000000000001';
-- bob's statement cannot reach her conversation (his turns must name one of
-- his own), and a restore (row security off, as the superuser) loads the
-- verdicts as they were stored
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT expect_error($$INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
                      VALUES ('e6100000-0000-0000-0000-000000000001', 2, 'assistant', 'Planted.')$$);
RESET ROLE;
SET train_data.user_id = :alice;
SET row_security = off;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content, created_by)
VALUES ('e6100000-0000-0000-0000-000000000001', 2, 'assistant', 'Restored as it was.', :alice);
RESET row_security;
SELECT quality_metrics -> 'defects' AS restored FROM train_data.conversations WHERE id = 'e6100000-0000-0000-0000-000000000001';
DELETE FROM train_data.conversations WHERE id = 'e6100000-0000-0000-0000-000000000001';
-- judged against the expectation the conversation's parameters hold, as its
-- completion judged it (a review of 1.2: an edit turned a soft
-- length_mismatch into a hard role_order); one that is malformed (left by
-- 1.1 or an edit) is passed over, not raised
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, parameters)
VALUES ('e6100000-0000-0000-0000-000000000002', 'Expected', 'Ann', 'calm', 'template',
        '{"expectedTurns": {"turns": 8, "firstRole": "assistant"}}'),
       ('e6100000-0000-0000-0000-000000000003', 'Malformed', 'Ann', 'calm', 'template', '{"expectedTurns": "eight"}');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, n, CASE n % 2 WHEN 1 THEN 'assistant' ELSE 'user' END,
       CASE n WHEN 1 THEN 'Hello, I can help you plan your savings.' WHEN 2 THEN 'How much should I save?'
              ELSE 'Ten percent of your pay, every month.' END
FROM train_data.conversations c, generate_series(1, 3) n WHERE c.id::text LIKE 'e6100000%';
SELECT title, quality_metrics -> 'defects' AS defects, quality_metrics ->> 'defectSeverity' AS severity
FROM train_data.conversations WHERE id::text LIKE 'e6100000%' ORDER BY title;
DELETE FROM train_data.conversations WHERE id::text LIKE 'e6100000%';

------------------------------------------------------------------ exports leave defects out, but soft ones a reviewer approved
-- not approved: left out of every scope, soft defects or hard (filtered
-- by nothing: any status)
SELECT status, quality_metrics -> 'defects' AS defects, train_data.metrics_have_hard_defects(quality_metrics) AS hard
FROM train_data.conversations ORDER BY status, (quality_metrics -> 'defects')::text;
SELECT count(*) AS unapproved_exported FROM train_data.export_jsonl('original', 'filtered', NULL, '{}', '{}');
-- approved, all of them: an approval settles soft defects (a completion
-- sends them to review for that: approving one left it out of every
-- export, found by a review of 1.2), never hard ones
UPDATE train_data.conversations SET status = 'approved', approved_by = :alice, approved_at = now(),
    review_history = review_history || jsonb_build_array(jsonb_build_object('action', 'approved', 'performedBy', :alice))
WHERE status IN ('generated', 'pending_review', 'needs_revision');
SELECT c.quality_metrics -> 'defects' AS exported_defects
FROM train_data.export_jsonl() l
JOIN train_data.conversations c ON c.conversation_id = l::jsonb -> 'metadata' ->> 'conversation_id'
ORDER BY 1::text;
SELECT count(*) AS exported_with_defects FROM train_data.export_jsonl(options => '{"includeDefects": true}');
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl(options => '{"dedupe": 1.5}')$$, true);

------------------------------------------------------------------ near duplicates
-- (the verdicts of hand-written turns are tested above: the one-turn
-- conversations of these fixtures would be judged too_few_turns and left
-- out of every export, which is not what the sections below test)
ALTER TABLE train_data.conversation_turns DISABLE TRIGGER conversation_turns_verdicts_insert;
ALTER TABLE train_data.conversation_turns DISABLE TRIGGER conversation_turns_verdicts_update;
ALTER TABLE train_data.conversation_turns DISABLE TRIGGER conversation_turns_verdicts_delete;
-- However the turns are written (plain INSERT, UPDATE, DELETE), the
-- signatures follow; exact copies are always found, near copies (1 word in
-- 40 changed) above 0.8, distinct conversations never.
DELETE FROM train_data.conversations;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status, quality_score, created_at)
SELECT ('e8000000-0000-0000-0000-00000000000' || g)::uuid, 'dup_' || g, 't' || g, 'p', 'e', 'template', 'generated',
       CASE g WHEN 2 THEN 9.0 ELSE 7.0 END, '2026-01-01'::timestamptz + g * interval '1 hour'
FROM generate_series(1, 5) g;
CREATE TEMP TABLE base_text AS
SELECT string_agg(w, ' ') AS t FROM (SELECT 'word' || (g * 7919 % 1000) AS w FROM generate_series(1, 120) g) s;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT ('e8000000-0000-0000-0000-00000000000' || g)::uuid, 1, 'user',
       CASE g WHEN 1 THEN b.t                                   -- the original
              WHEN 2 THEN b.t                                   -- an exact copy, of higher quality
              WHEN 3 THEN replace(replace(replace(b.t, 'word919 ', 'other1 '), 'word838 ', 'other2 '), 'word757 ', 'other3 ')
              WHEN 4 THEN 'a completely different conversation about pensions and the rules of retirement accounts'
              ELSE 'another distinct text: budgeting for a family with two children and a mortgage to pay' END
FROM generate_series(1, 5) g, base_text b;
SELECT count(*) AS signatures FROM train_data.conversation_signatures;
SELECT conversation_id, duplicate_of, similarity >= 0.8 AS above_threshold, similarity = 1 AS exact
FROM train_data.near_duplicates(0.8) ORDER BY 1;
-- an UPDATE that makes conversation 4 a copy of 1 is seen; a DELETE of its turns drops its signature
UPDATE train_data.conversation_turns t SET content = (SELECT t FROM base_text)
WHERE t.conversation_id = 'e8000000-0000-0000-0000-000000000004';
SELECT conversation_id, duplicate_of FROM train_data.near_duplicates() WHERE conversation_id = 'e8000000-0000-0000-0000-000000000004';
DELETE FROM train_data.conversation_turns WHERE conversation_id = 'e8000000-0000-0000-0000-000000000004';
SELECT count(*) AS signatures_left FROM train_data.conversation_signatures;
-- she reads her signatures; only train_data writes them (found by a review
-- of 1.2: a signature she planted made her own completions fail)
SET ROLE regress_alice;
UPDATE train_data.conversation_signatures SET signature = '{1,2,3}';
DELETE FROM train_data.conversation_signatures;
SELECT count(*) AS signatures_kept, count(*) FILTER (WHERE cardinality(signature) = 128) AS whole
FROM train_data.conversation_signatures;
SELECT expect_error($$INSERT INTO train_data.conversation_signatures (conversation_id, created_by, signature, bands)
    VALUES ('e8000000-0000-0000-0000-000000000004', (SELECT train_data.current_user_id()), '{1}', '{1}')$$);
RESET ROLE;
SELECT expect_error($$SELECT * FROM train_data.near_duplicates(0)$$);
-- another user sees none of them, and has no duplicates of his own
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT count(*) AS bob_sees FROM train_data.near_duplicates(0.5);
-- nor when he names her conversations among those to compare
SELECT count(*) AS bob_sees_among_hers
FROM train_data.near_duplicates(0.5, ARRAY(SELECT ('e8000000-0000-0000-0000-00000000000' || g)::uuid
                                           FROM generate_series(1, 5) g));
-- nor when he asks for them measured on their texts (exact reads turns:
-- his own only, as row-level security decides)
SELECT count(*) AS bob_sees_among_hers_exactly
FROM train_data.near_duplicates(0.5, ARRAY(SELECT ('e8000000-0000-0000-0000-00000000000' || g)::uuid
                                           FROM generate_series(1, 5) g), true);
SELECT train_data.conversation_text('e8000000-0000-0000-0000-000000000001') AS bob_reads_her_text;
-- and his calls read his own signatures through an index, not every user's
-- (near_duplicates, the export's dedupe and dataset_report read them so)
-- (bitmap scans off too: which of the two index plans wins depends on the
-- statistics autovacuum happens to have gathered, as under valgrind)
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT s.conversation_id FROM train_data.conversation_signatures s;
RESET enable_seqscan;
RESET enable_bitmapscan;
-- 300 copies of one text (found by a review: every pair of a bucket was
-- compared, 8 million comparisons for 4,000 copies): each names the best
-- copy, the 8.0 one, which is not dropped; and the comparisons stay linear
-- in the copies (at most 8 band neighbours each, plus the best copy: every
-- pair would be 44,850 a call), counted in this transaction by the
-- function statistics over the two calls
RESET ROLE;
SET track_functions = 'all';
BEGIN;
SET LOCAL ROLE regress_bob;
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, quality_score, created_at)
SELECT ('e9000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'copy ' || g, 'P', 'N', 'template', 'generated',
       CASE g WHEN 150 THEN 8.0 ELSE 7.5 END, timestamptz '2026-12-01 10:00+00' + g * interval '1 minute'
FROM generate_series(1, 300) g;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, n, CASE n WHEN 1 THEN 'user' ELSE 'assistant' END,
       'I am sorry, but I cannot help with planning your retirement savings today; turn ' || n
FROM train_data.conversations c, generate_series(1, 2) n WHERE c.title LIKE 'copy %';
SELECT count(*) AS dropped, count(DISTINCT duplicate_of) AS kept, min(duplicate_of::text) AS kept_one, min(similarity) AS similarity
FROM train_data.near_duplicates(0.8);
SELECT conversation_id, duplicate_of FROM train_data.near_duplicates(0.8)
WHERE conversation_id = 'e9000000-0000-0000-0000-000000000150';
RESET ROLE;
SELECT calls AS comparisons, calls <= 2 * 9 * 300 AS linear
FROM pg_stat_xact_user_functions WHERE funcname = 'minhash_similarity';
ROLLBACK;
RESET track_functions;
SET train_data.user_id = :alice;
-- The estimate is within about 0.04 of the exact similarity: texts that
-- share most of their words (a template's boilerplate) were named
-- duplicates below the threshold asked.  With exact, the pairs the
-- estimate puts near the threshold are measured on their texts
-- (shingle_jaccard): a variant of a 200-word text with 5 words replaced
-- by two each has the exact similarity 0.7566 (171 shingles shared of
-- 226), estimated 0.797:
-- named at 0.78 by the estimate, not by the exact measure, which names it
-- at 0.75 with its exact similarity.  Candidates still come from the band
-- keys: a second variant (estimated 0.68) shares none with the text, and
-- is not named even with exact.
-- (the 200-word text is variant 0; variant v replaces five of its words,
-- every 30th from the v-th, with words of its own; each is conversation
-- ed…0v of one turn, the text ranked first)
CREATE FUNCTION pg_temp.variant_text(v integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(CASE WHEN v > 0 AND (i - v) % 30 = 0 AND i > v AND i <= v + 150 THEN 'x' || v || '_' || i
                           ELSE b.w[i] END, ' ' ORDER BY i)
    FROM (SELECT array_agg('w' || (g * 7919 % 5000) ORDER BY g) AS w FROM generate_series(1, 200) g) b,
         generate_subscripts(b.w, 1) i $$;
CREATE FUNCTION pg_temp.add_variants(vs integer[]) RETURNS void LANGUAGE plpgsql AS $$ BEGIN
    CREATE TEMP TABLE variant_texts ON COMMIT DROP AS SELECT v, pg_temp.variant_text(v) AS t FROM unnest(vs) v;
    INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, quality_score, created_at)
    SELECT ('ed000000-0000-0000-0000-0000000000' || lpad(v::text, 2, '0'))::uuid, 'variant ' || v, 'P', 'N', 'template',
           'generated', CASE v WHEN 0 THEN 9.0 ELSE 7.0 END, timestamptz '2026-12-01 10:00+00' + v * interval '1 minute'
    FROM variant_texts;
    INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
    SELECT ('ed000000-0000-0000-0000-0000000000' || lpad(v::text, 2, '0'))::uuid, 1, 'user', t FROM variant_texts;
END $$;
BEGIN;
SET LOCAL track_functions = 'all';
SET LOCAL ROLE regress_alice;
SELECT pg_temp.add_variants(ARRAY[0, 14, 2]);
SELECT a.v, b.v AS variant, train_data.shingle_jaccard(a.t, b.t) AS exact,
       train_data.minhash_similarity(train_data.minhash_signature(a.t), train_data.minhash_signature(b.t)) AS estimate,
       train_data.shingle_set_similarity(train_data.shingle_set(a.t), train_data.shingle_set(b.t))
           = train_data.shingle_jaccard(a.t, b.t) AS sets_agree
FROM variant_texts a, variant_texts b WHERE a.v = 0 AND b.v <> 0 ORDER BY 2;
SELECT q.asked, d.conversation_id, d.duplicate_of, d.similarity
FROM (VALUES ('estimate at 0.78', 0.78::real, false), ('exact at 0.78', 0.78, true),
             ('estimate at 0.75', 0.75, false), ('exact at 0.75', 0.75, true)) q(asked, threshold, exact)
CROSS JOIN LATERAL train_data.near_duplicates(q.threshold, NULL, q.exact) d
WHERE d.conversation_id::text LIKE 'ed%' ORDER BY 1, 2;
-- (each text read once a call, its set made and kept for the call's
-- other pairs: each call with exact met 4 pairs of 5 of her
-- conversations, this one's and the three of the section above, so 10
-- texts read; the 4 sets and 2 measures are the comparison's above; found
-- by a review, the first form measured every pair twice, and the second
-- carried a set on each pair's row, gigabytes of temporary files on long
-- texts near each other)
SELECT funcname, calls FROM pg_stat_xact_user_functions
WHERE funcname IN ('conversation_text', 'shingle_set', 'shingle_set_similarity') ORDER BY 1;
SELECT expect_error($$SELECT * FROM train_data.near_duplicates(0.8, NULL, NULL)$$);
-- The export's dedupe follows: dedupeExact measures its pairs so.  At
-- 0.78 the estimate leaves variant 14 out, the exact measure writes it;
-- at 0.75 both leave it out.  The report of such an export describes the
-- same lines, and counts its duplicates (at 0.8) the same way.
SELECT q.dedupe, q.exact, count(l.line) AS lines,
       count(*) FILTER (WHERE l.line LIKE '%variant 14%') AS variant_14
FROM (VALUES (0.78, false), (0.78, true), (0.75, false), (0.75, true)) q(dedupe, exact)
CROSS JOIN LATERAL train_data.export_jsonl('original', 'selected',
    ARRAY(SELECT ('ed000000-0000-0000-0000-0000000000' || lpad(v::text, 2, '0'))::uuid FROM variant_texts), NULL,
    jsonb_build_object('dedupe', q.dedupe, 'dedupeExact', q.exact)) l(line)
GROUP BY 1, 2 ORDER BY 1 DESC, 2;
SELECT q.exact, r -> 'duplicates' AS duplicates, r -> 'manifest' -> 'rows' AS rows
FROM (VALUES (false), (true)) q(exact),
     LATERAL train_data.dataset_report('{"searchQuery": "variant"}', jsonb_build_object('dedupe', 0.78, 'dedupeExact', q.exact)) r
ORDER BY 1;
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl(options => '{"dedupe": 0.8, "dedupeExact": "yes"}')$$);
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl(options => '{"dedupe": 0.8, "dedupeExact": null}')$$);
ROLLBACK;
-- (a key spelt otherwise is refused, its hint naming the options)
SELECT count(*) FROM train_data.export_jsonl(options => '{"dedupe": 0.8, "dedupe_exact": true}');
-- Measured, a pair the estimate puts below the threshold: variant 32 is
-- estimated at 0.671875 (86 slots of 128) and measured 0.7566, so at 0.75
-- only exact names it (its estimate is in the 0.1 below the threshold
-- that exact measures), and at its exact similarity too; the estimate
-- names it at its estimate.  Its text: its turns in order, one space
-- between them.
BEGIN;
SET LOCAL ROLE regress_alice;
SELECT pg_temp.add_variants(ARRAY[0, 32]);
SELECT q.asked, d.conversation_id, d.duplicate_of, d.similarity
FROM (VALUES ('estimate at 0.75', 0.75::real, false), ('exact at 0.75', 0.75, true),
             ('exact at its similarity', train_data.shingle_jaccard(pg_temp.variant_text(0), pg_temp.variant_text(32)), true),
             ('estimate at its estimate', 0.671875, false)) q(asked, threshold, exact)
CROSS JOIN LATERAL train_data.near_duplicates(q.threshold, ARRAY['ed000000-0000-0000-0000-000000000000'::uuid,
                                                                'ed000000-0000-0000-0000-000000000032'], q.exact) d
ORDER BY 1;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('ed000000-0000-0000-0000-000000000032', 3, 'user', 'Third.'),
       ('ed000000-0000-0000-0000-000000000032', 2, 'assistant', 'Second turn.');
SELECT right(train_data.conversation_text('ed000000-0000-0000-0000-000000000032'), 25) AS text_end;
ROLLBACK;
-- The report's own count at 0.8 follows dedupeExact: variant 27 is
-- estimated at 0.8203 and measured 0.7566.
BEGIN;
SET LOCAL ROLE regress_alice;
SELECT pg_temp.add_variants(ARRAY[0, 27]);
SELECT q.exact, r -> 'duplicates' AS duplicates, r -> 'manifest' -> 'rows' AS rows
FROM (VALUES (false), (true)) q(exact),
     LATERAL train_data.dataset_report('{"searchQuery": "variant"}', jsonb_build_object('dedupeExact', q.exact)) r
ORDER BY 1;
ROLLBACK;
-- The sets of a call are kept within work_mem × hash_mem_multiplier, the
-- least recently used given up, and made again when a later pair needs
-- it: with room for one set of 9,000 shingles at a time (64 kB), the same
-- pairs and similarities as with room for all.
BEGIN;
SET LOCAL ROLE regress_alice;
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, quality_score)
SELECT ('ed100000-0000-0000-0000-00000000000' || v)::uuid, 'long ' || v, 'P', 'N', 'template', 'generated', 10 - v
FROM generate_series(1, 4) v;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT ('ed100000-0000-0000-0000-00000000000' || v)::uuid, 1, 'user',
       (SELECT string_agg(CASE WHEN i % 400 = v THEN 'y' || v || '_' || i ELSE 'w' || (i * 7919 % 50000) END, ' ' ORDER BY i)
        FROM generate_series(1, 9000) i)
FROM generate_series(1, 4) v;
CREATE TEMP TABLE roomy ON COMMIT DROP AS
SELECT * FROM train_data.near_duplicates(0.8, ARRAY(SELECT ('ed100000-0000-0000-0000-00000000000' || v)::uuid
                                                    FROM generate_series(1, 4) v), true);
SET LOCAL work_mem = '64kB';
SET LOCAL hash_mem_multiplier = 1;
SELECT d.conversation_id, d.duplicate_of, d.similarity,
       d.similarity = (SELECT r.similarity FROM roomy r WHERE r.conversation_id = d.conversation_id
                                                          AND r.duplicate_of = d.duplicate_of) AS as_with_room
FROM train_data.near_duplicates(0.8, ARRAY(SELECT ('ed100000-0000-0000-0000-00000000000' || v)::uuid
                                           FROM generate_series(1, 4) v), true) d
ORDER BY 1;
SELECT count(*) AS pairs_with_room FROM roomy;
ROLLBACK;
-- Only exact reads turns: a role that may read signatures and
-- conversations but not turns finds near duplicates by the estimate, and
-- is refused the exact measure (found by a review: the first form named
-- the turns in every call).
BEGIN;
CREATE ROLE regress_signature_reader;
GRANT USAGE ON SCHEMA train_data TO regress_signature_reader;
GRANT SELECT ON train_data.conversations, train_data.conversation_signatures TO regress_signature_reader;
SET LOCAL ROLE regress_signature_reader;
SELECT count(*) AS estimated FROM train_data.near_duplicates(0.8);
SELECT expect_error($$SELECT count(*) FROM train_data.near_duplicates(0.8, NULL, true)$$);
ROLLBACK;
-- A conversation without turns was never judged (the verdicts are its
-- turns'), and its record would have no messages, which OpenAI refuses in
-- a training file: it is left out with the defects, from the lines, the
-- documents' counts and the selection the report reads, and written with
-- includeDefects (a review of 1.2)
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, quality_score, created_by)
VALUES ('e8000000-0000-0000-0000-0000000000ff', 'No turns', 'P', 'N', 'template', 'generated', 9.0, :alice);
-- the export's dedupe option drops the near duplicates, keeping the best
UPDATE train_data.conversations SET status = 'approved', approved_by = :alice, approved_at = now(),
    review_history = jsonb_build_array(jsonb_build_object('action', 'approved', 'performedBy', :alice));
SELECT count(*) AS exported FROM train_data.export_jsonl();
SELECT count(*) AS exported_deduped FROM train_data.export_jsonl(options => '{"dedupe": 0.8}');
SELECT count(*) FILTER (WHERE l = '{"messages":[]}') AS empty_lines, count(*) AS lines
FROM train_data.export_jsonl('openai') l;
SELECT count(*) FILTER (WHERE l = '{"messages":[]}') AS empty_lines_with_defects
FROM train_data.export_jsonl('openai', options => '{"includeDefects": true}') l;
SELECT count(*) FILTER (WHERE s = 'e8000000-0000-0000-0000-0000000000ff') AS selected, count(*) AS selection
FROM train_data.export_selection('all', NULL, NULL, '{}') s;
SELECT (regexp_match(h, '"conversation_count": (\d+)'))[1] AS json_header_count
FROM (SELECT train_data.export_conversations('json') AS h LIMIT 1) x;
SELECT count(*) AS markdown_records, count(*) FILTER (WHERE r LIKE '%No turns%') AS turnless
FROM train_data.export_conversations('markdown') r;

------------------------------------------------------------------ dataset report
-- What the export with the same filters and options writes: counts,
-- duplicate clusters, quantiles, diversity, and a manifest whose checksum
-- is that of the export's lines.
SELECT r - 'manifest' - 'distributions' AS report, r -> 'distributions' -> 'turns' AS turns,
       r -> 'distributions' -> 'tokens' AS tokens,
       (r -> 'manifest') - 'checksum' AS manifest,
       r -> 'manifest' ->> 'checksum' = (SELECT md5(string_agg(l, E'\n' ORDER BY n))
                                         FROM train_data.export_jsonl() WITH ORDINALITY AS e(l, n)) AS checksum_of_the_lines
FROM train_data.dataset_report() r;
SELECT (train_data.dataset_report(options => '{"dedupe": 0.8}') -> 'manifest' -> 'rows') AS rows_deduped;
SELECT train_data.dataset_report('{"qualityScoreMin": 8.5}') -> 'conversations' AS high_quality;
SELECT expect_error($$SELECT train_data.dataset_report('[]')$$);
-- the quantiles are numbers of 15 significant digits, whatever the
-- client's extra_float_digits (a float8 would follow it)
SET extra_float_digits = 3;
SELECT train_data.report_quantiles(ARRAY[0.1, 0.2, 1.0 / 3, 2.0 / 3, 57.6]) AS quantiles_3;
SET extra_float_digits = -15;
SELECT train_data.report_quantiles(ARRAY[0.1, 0.2, 1.0 / 3, 2.0 / 3, 57.6]) AS quantiles_minus_15;
RESET extra_float_digits;
-- the report's checksum is lines_md5: md5(string_agg(lines, E'\n')) without
-- the string (which stops at 1 GB): NULLs skipped, md5('') of no line
SELECT train_data.lines_md5(x ORDER BY n) = md5(string_agg(x, E'\n' ORDER BY n)) AS as_string_agg,
       train_data.lines_md5(x ORDER BY n) AS md5
FROM (VALUES (1, 'a'), (2, NULL), (3, 'ü'), (4, ''), (5, repeat('long line ', 300000))) v(n, x);
SELECT train_data.lines_md5(x) AS none, md5('') AS md5_of_nothing FROM (SELECT 'x' WHERE false) v(x);
SELECT expect_error($$SELECT train_data.lines_md5(x) OVER () FROM (VALUES ('a')) v(x)$$);
-- Found by a review: a first form kept OpenSSL's digest state, which an
-- abort released and the aggregate's cleanup released again (the server
-- crashed); and a rescan that finishes a group twice was refused.  An error
-- in the middle of the lines, in a cursor's fetch within a savepoint and in
-- a function, then a rescanned grouping:
BEGIN;
DECLARE lines_cursor CURSOR FOR
    SELECT train_data.lines_md5(CASE WHEN g < 5 THEN 'a' ELSE (1 / (g - g))::text END) FROM generate_series(1, 10) g;
SAVEPOINT before_fetch;
FETCH lines_cursor;
ROLLBACK TO before_fetch;
CLOSE lines_cursor;
COMMIT;
BEGIN;
DO $$ BEGIN PERFORM train_data.lines_md5(CASE WHEN g < 5 THEN 'a' ELSE (1 / (g - g))::text END) FROM generate_series(1, 10) g; END $$;
ROLLBACK;
SET enable_sort = off;
SELECT o, s.* FROM generate_series(1, 2) o, LATERAL (
    SELECT k, train_data.lines_md5(x) FROM (VALUES (1, 'a'), (2, 'b')) v(k, x) GROUP BY k HAVING count(*) > o - 100) s;
RESET enable_sort;
SELECT 'the server is up' AS after;

------------------------------------------------------------------ the export's manifest
-- export_conversations keeps the manifest in export_logs once its last
-- record has been returned: the checksum of a JSONL export is the one the
-- dataset report gives for the same options.
SELECT count(*) AS lines FROM train_data.export_conversations('jsonl', 'all', '{"dedupe": 0.8}');
SELECT l.status, l.conversation_count, l.manifest - 'checksum' AS manifest,
       l.manifest ->> 'checksum' = (train_data.dataset_report(options => '{"dedupe": 0.8}') -> 'manifest' ->> 'checksum')
           AS checksum_as_the_report
FROM train_data.export_logs l ORDER BY l.created_at DESC LIMIT 1;
-- any format: the md5 of the records joined by one newline; the ids given are kept
SELECT md5(string_agg(e.r, E'\n' ORDER BY e.n)) AS json_md5
FROM train_data.export_conversations('json', 'selected', '{}', ARRAY['e8000000-0000-0000-0000-000000000001'::uuid])
     WITH ORDINALITY AS e(r, n) \gset
SELECT l.format, l.manifest ->> 'checksum' = :'json_md5' AS checksum_of_the_records, l.manifest -> 'ids' AS ids,
       l.manifest -> 'rows' AS "rows"
FROM train_data.export_logs l ORDER BY l.created_at DESC LIMIT 1;
-- an export stopped early fails, without a manifest (and without a warning)
SELECT count(*) AS read FROM (SELECT train_data.export_conversations('jsonl', 'all', '{}') LIMIT 1) x;
SELECT l.status, l.manifest IS NULL AS no_manifest FROM train_data.export_logs l ORDER BY l.created_at DESC LIMIT 1;
-- another user sees neither the logs nor what they name
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT count(*) AS bob_sees_logs FROM train_data.export_logs;
SELECT train_data.export_manifest('jsonl', 'all', '{}', '{}', NULL,
                                  ARRAY(SELECT c.id FROM train_data.conversations c), 0, NULL) - 'checksum' AS bobs_manifest;
RESET ROLE;
SET train_data.user_id = :alice;

------------------------------------------------------------------ dedupe within what the export writes
-- Found by a review: near_duplicates ranked every conversation the caller
-- sees, so a copy the export leaves out (one with defects, one not
-- selected, not in the filters) that ranks above the copies it writes made
-- the dedupe drop all of them, and the report count no duplicate.  The
-- export and the report now look for near duplicates among what they would
-- write: near_duplicates(t, among) compares those conversations only.
BEGIN;
SET LOCAL ROLE regress_alice;
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, quality_score, quality_metrics, created_at)
VALUES ('eb000000-0000-0000-0000-000000000001', 'scoped copy 1', 'P', 'N', 'template', 'generated', 9.0, NULL,
        '2026-12-01 10:01+00'),
       ('eb000000-0000-0000-0000-000000000002', 'scoped copy 2', 'P', 'N', 'template', 'generated', 8.0, NULL,
        '2026-12-01 10:02+00'),
       ('eb000000-0000-0000-0000-000000000003', 'scoped copy 3', 'P', 'N', 'template', 'generated', 7.0, NULL,
        '2026-12-01 10:03+00'),
       ('eb000000-0000-0000-0000-000000000004', 'scoped copy 4', 'P', 'N', 'template', 'generated', 9.9,
        '{"defects": ["refusal"]}', '2026-12-01 10:04+00');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, n, CASE n WHEN 1 THEN 'user' ELSE 'assistant' END,
       'How should a household with one income split its monthly budget between rent, food and savings? turn ' || n
FROM train_data.conversations c, generate_series(1, 2) n WHERE c.title LIKE 'scoped copy %';
-- among everything: the copy with a defect ranks first, the others name it
SELECT conversation_id, duplicate_of FROM train_data.near_duplicates(0.8)
WHERE conversation_id::text LIKE 'eb%' ORDER BY 1;
-- among two of them: the better of the two is kept
SELECT conversation_id, duplicate_of FROM train_data.near_duplicates(0.8, ARRAY['eb000000-0000-0000-0000-000000000002',
                                                                                'eb000000-0000-0000-0000-000000000003']::uuid[]);
-- the export of copies 2 and 3 with dedupe writes copy 2 (copies 1 and 4, not selected, outrank both)
SELECT l::jsonb -> 'metadata' ->> 'title' AS written
FROM train_data.export_jsonl('original', 'selected', ARRAY['eb000000-0000-0000-0000-000000000002',
                                                           'eb000000-0000-0000-0000-000000000003']::uuid[],
                             NULL, '{"dedupe": 0.8}') l;
-- filtered to the four: copy 4 is left out for its defect, copy 1 is written, and the report counts 2 and 3
SELECT l::jsonb -> 'metadata' ->> 'title' AS written
FROM train_data.export_jsonl('original', 'filtered', NULL, '{"searchQuery": "scoped copy"}', '{"dedupe": 0.8}') l;
SELECT r -> 'conversations' AS conversations, r -> 'duplicates' AS duplicates,
       train_data.dataset_report('{"searchQuery": "scoped copy"}', '{"dedupe": 0.8}') -> 'manifest' -> 'rows' AS deduped_rows
FROM train_data.dataset_report('{"searchQuery": "scoped copy"}') r;
-- a "defects" member that is not an array (a user's own metrics) is no defect: the
-- review queue does not list it for the code, and the report reads past it
UPDATE train_data.conversations SET status = 'pending_review', quality_metrics = '{"defects": "refusal"}'
WHERE id = 'eb000000-0000-0000-0000-000000000003';
SELECT count(*) AS listed_for_refusal FROM train_data.review_queue(defect => 'refusal')
WHERE id = 'eb000000-0000-0000-0000-000000000003';
SELECT r -> 'conversations' AS conversations, r -> 'byDefect' AS by_defect
FROM train_data.dataset_report('{"searchQuery": "scoped copy", "status": ["pending_review"]}') r;
ROLLBACK;
-- Found by a review: a chain A, B, C (B near A, C near B but not near A)
-- dropped both B and C, C for B, which was dropped itself: the export lost
-- C though nothing it wrote was near it.  A conversation is dropped only for
-- one that is kept, greedily in rank order.  And texts without a word (all
-- the empty signature) were all exact duplicates of each other.
BEGIN;
SET LOCAL ROLE regress_alice;
CREATE TEMP TABLE chain_words AS SELECT g, 'w' || g AS word FROM generate_series(1, 300) g;
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, quality_score, created_at)
VALUES ('ec000000-0000-0000-0000-00000000000a', 'chain A', 'P', 'N', 'template', 'generated', 9, '2026-01-01'),
       ('ec000000-0000-0000-0000-00000000000b', 'chain B', 'P', 'N', 'template', 'generated', 8, '2026-01-02'),
       ('ec000000-0000-0000-0000-00000000000c', 'chain C', 'P', 'N', 'template', 'generated', 7, '2026-01-03'),
       ('ec000000-0000-0000-0000-0000000000e1', 'chain emoji', 'P', 'N', 'template', 'generated', 7, '2026-01-04'),
       ('ec000000-0000-0000-0000-0000000000e2', 'chain symbols', 'P', 'N', 'template', 'generated', 7, '2026-01-05');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT 'ec000000-0000-0000-0000-00000000000a'::uuid, 1, 'user', string_agg(word, ' ' ORDER BY g) FROM chain_words
UNION ALL
SELECT 'ec000000-0000-0000-0000-00000000000b'::uuid, 1, 'user',
       string_agg(CASE WHEN g IN (11, 71, 131, 191) THEN 'x' || g ELSE word END, ' ' ORDER BY g) FROM chain_words
UNION ALL
SELECT 'ec000000-0000-0000-0000-00000000000c'::uuid, 1, 'user',
       string_agg(CASE WHEN g IN (11, 71, 131, 191, 41, 101, 161, 221) THEN 'x' || g ELSE word END, ' ' ORDER BY g)
FROM chain_words
UNION ALL SELECT 'ec000000-0000-0000-0000-0000000000e1'::uuid, 1, 'user', '😀🎉👍 ❤️'
UNION ALL SELECT 'ec000000-0000-0000-0000-0000000000e2'::uuid, 1, 'user', '→ ← ∑ ∫ ≈ ≠ … ¿¡ — ★';
SELECT (SELECT c.title FROM train_data.conversations c WHERE c.id = d.conversation_id) AS dropped,
       (SELECT c.title FROM train_data.conversations c WHERE c.id = d.duplicate_of) AS duplicate_of, d.similarity
FROM train_data.near_duplicates(0.8) d WHERE d.conversation_id::text LIKE 'ec%' ORDER BY 1;
-- (for the record: C is near B, not near A)
SELECT train_data.minhash_similarity(b.signature, c.signature) AS c_to_b, train_data.minhash_similarity(a.signature, c.signature) AS c_to_a
FROM train_data.conversation_signatures a, train_data.conversation_signatures b, train_data.conversation_signatures c
WHERE a.conversation_id = 'ec000000-0000-0000-0000-00000000000a' AND b.conversation_id = 'ec000000-0000-0000-0000-00000000000b'
  AND c.conversation_id = 'ec000000-0000-0000-0000-00000000000c';
SELECT l::jsonb -> 'metadata' ->> 'title' AS written
FROM train_data.export_jsonl('original', 'filtered', NULL, '{"searchQuery": "chain"}', '{"dedupe": 0.8}') l ORDER BY 1;
SELECT train_data.dataset_report('{"searchQuery": "chain"}') -> 'duplicates' AS duplicates;
ROLLBACK;
-- (found by a review) turns an UPDATE moves to another conversation: the
-- one they left is signed again, or loses its signature with its last turn
BEGIN;
SET LOCAL ROLE regress_alice;
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status)
VALUES ('ec000000-0000-0000-0000-000000000001', 'moved from', 'P', 'N', 'template', 'generated'),
       ('ec000000-0000-0000-0000-000000000002', 'moved to', 'P', 'N', 'template', 'generated');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('ec000000-0000-0000-0000-000000000001', 1, 'user', 'Is a fixed or a variable mortgage rate better for me?'),
       ('ec000000-0000-0000-0000-000000000001', 2, 'assistant', 'A fixed rate buys certainty; a variable one is a bet on rates.'),
       ('ec000000-0000-0000-0000-000000000001', 3, 'user', 'And if I expect to move house within three years?'),
       ('ec000000-0000-0000-0000-000000000002', 1, 'user', 'How large should an emergency fund be for a family?');
UPDATE train_data.conversation_turns SET conversation_id = 'ec000000-0000-0000-0000-000000000002', turn_number = turn_number + 10
WHERE conversation_id = 'ec000000-0000-0000-0000-000000000001' AND turn_number >= 2;
SELECT s.conversation_id, s.signature = (SELECT train_data.minhash_signature_agg(t.content ORDER BY t.turn_number)
                                         FROM train_data.conversation_turns t WHERE t.conversation_id = s.conversation_id)
           AS signs_its_turns
FROM train_data.conversation_signatures s WHERE s.conversation_id::text LIKE 'ec%' ORDER BY 1;
UPDATE train_data.conversation_turns SET conversation_id = 'ec000000-0000-0000-0000-000000000002', turn_number = 20
WHERE conversation_id = 'ec000000-0000-0000-0000-000000000001';
SELECT s.conversation_id FROM train_data.conversation_signatures s WHERE s.conversation_id::text LIKE 'ec%';
ROLLBACK;
-- a similarity a real cannot hold is refused as too small, not failed in the query
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl(options => '{"dedupe": 1e-50}')$$, true);
SELECT expect_error($$SELECT count(*) FROM train_data.export_jsonl(options => '{"dedupe": 1e-400}')$$, true);
SELECT expect_error($$SELECT train_data.dataset_report('{}', '{"dedupe": 1e-50}')$$);
SELECT count(*) AS smallest_normal FROM train_data.export_jsonl(options => '{"dedupe": 1.2e-38}');

------------------------------------------------------------------ near copies within a batch
-- With dedupe among an item's parameters, a completion that nearly repeats
-- an earlier conversation of its batch is marked duplicate_in_batch (soft:
-- pending_review, never generated), naming the conversation it repeats.
CREATE TEMP TABLE answer AS SELECT '[{"role": "user", "content": "My partner and I earn about the same. How should we split the rent and the bills fairly?"},
    {"role": "assistant", "content": "Many couples split shared costs in proportion to income, so each pays the same share of what they earn."},
    {"role": "user", "content": "And what about savings for a holiday together?"},
    {"role": "assistant", "content": "Open a joint account for it and let each of you pay in a fixed amount on payday."}]'::jsonb AS turns;
SELECT train_data.create_batch('dedupe', jsonb_agg(jsonb_build_object('template_id', 'e7000000-0000-0000-0000-000000000001',
                                                                      'parameters', jsonb_build_object('persona', 'Q' || g))),
                               '{"dedupe": 0.8}') AS dedupe_job
FROM generate_series(1, 3) g \gset
SELECT * FROM public.complete_next((SELECT turns FROM answer));
-- one word changed: marked, the details naming the first (stored as
-- numbers whatever the worker's extra_float_digits: a real in jsonb was
-- written with it, 0.9 at -15)
SET extra_float_digits = -15;
SELECT * FROM public.complete_next((SELECT replace(turns::text, 'fixed amount', 'set amount')::jsonb FROM answer));
RESET extra_float_digits;
SELECT c.quality_metrics -> 'defectDetails' -> 'duplicate_in_batch' -> 'value' AS value,
       c.quality_metrics -> 'defectDetails' -> 'duplicate_in_batch' -> 'threshold' AS threshold
FROM train_data.batch_items i JOIN train_data.conversations c ON c.id = i.conversation_id
WHERE i.batch_job_id = :'dedupe_job' AND i.position = 2;
SELECT i.position, c.status, c.quality_metrics -> 'defectSeverity' AS severity,
       c.quality_metrics -> 'defectDetails' -> 'duplicate_in_batch' ->> 'measure' AS measure,
       (c.quality_metrics -> 'defectDetails' -> 'duplicate_in_batch' ->> 'value')::real >= 0.8 AS similar,
       (c.quality_metrics -> 'defectDetails' -> 'duplicate_in_batch' ->> 'duplicateOf')::uuid
           = (SELECT f.conversation_id FROM train_data.batch_items f WHERE f.batch_job_id = :'dedupe_job' AND f.position = 1)
           AS names_the_first
FROM train_data.batch_items i JOIN train_data.conversations c ON c.id = i.conversation_id
WHERE i.batch_job_id = :'dedupe_job' ORDER BY i.position;
-- score_conversation recomputes the verdicts of the turns and keeps the mark
SELECT train_data.score_conversation(i.conversation_id) -> 'defects' AS rescored
FROM train_data.batch_items i WHERE i.batch_job_id = :'dedupe_job' AND i.position = 2;
-- the reviewer rejects the first and approves the copy: the copy is
-- exported, its mark settled by the approval (it was left out of every
-- export, whatever became of the first: a review of 1.2)
SELECT r.status FROM train_data.batch_items i,
     LATERAL train_data.review_conversation(i.conversation_id, CASE i.position WHEN 1 THEN 'rejected' ELSE 'approved' END,
                                            'checked') r
WHERE i.batch_job_id = :'dedupe_job' AND i.position IN (1, 2) ORDER BY i.position;
SELECT l::jsonb -> 'messages' -> 3 ->> 'content' AS exported_copy
FROM train_data.export_jsonl('openai') l WHERE l LIKE '%joint account%';
-- a different answer is not marked
SELECT * FROM public.complete_next('[{"role": "user", "content": "Is it worth paying off my student loan early?"},
    {"role": "assistant", "content": "Compare its interest rate with what your savings earn; pay off the dearer debt first."}]');
-- another batch, or one without dedupe, is never compared: the same answer is not marked
SELECT train_data.create_batch('no dedupe', jsonb_build_array(jsonb_build_object('template_id', 'e7000000-0000-0000-0000-000000000001',
                                                                                 'parameters', jsonb_build_object('persona', 'R')))) IS NOT NULL AS created;
SELECT * FROM public.complete_next((SELECT turns FROM answer));
SELECT train_data.create_batch('dedupe again', jsonb_build_array(jsonb_build_object('template_id', 'e7000000-0000-0000-0000-000000000001',
                                                                                    'parameters', jsonb_build_object('persona', 'S', 'dedupe', 0.8)))) IS NOT NULL AS created;
SELECT * FROM public.complete_next((SELECT turns FROM answer));
-- nor are another user's conversations: bob's batch with dedupe and the same answer
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.templates (id, name, category, structure, variables, quality_threshold) VALUES
    ('e7000000-0000-0000-0000-0000000000b0', 'Bob routing', 'finance', 'Talk with {{persona}} about saving.',
     '[{"name": "persona", "type": "text"}]', 1.0);
SELECT train_data.create_batch('bob dedupe', jsonb_build_array(jsonb_build_object('template_id', 'e7000000-0000-0000-0000-0000000000b0',
                                                                                  'parameters', jsonb_build_object('persona', 'B', 'dedupe', 0.8)))) IS NOT NULL AS created;
RESET ROLE;
SELECT * FROM public.complete_next((SELECT turns FROM answer));
SET train_data.user_id = :alice;
-- only a conversation that may still reach a training file is repeated: a
-- copy of one with a hard defect, rejected, archived or failed is not
-- marked (a review of 1.2: the clean copy of a defective first answer was
-- marked, sent to review and left out of every export)
SELECT train_data.create_batch('dedupe past the left out', jsonb_agg(jsonb_build_object(
           'template_id', 'e7000000-0000-0000-0000-000000000001', 'parameters', jsonb_build_object('persona', 'T' || g))),
       '{"dedupe": 0.8}') IS NOT NULL AS created
FROM generate_series(1, 3) g;
-- a chat token left in the answer (hard)
SELECT * FROM public.complete_next((SELECT replace(turns::text, 'on payday.', 'on payday.<|im_end|>')::jsonb FROM answer));
-- its clean copy: not a duplicate of it
SELECT * FROM public.complete_next((SELECT turns FROM answer));
-- the clean copy rejected: a third copy repeats neither
SELECT r.status FROM train_data.batch_items i JOIN train_data.batch_jobs j ON j.id = i.batch_job_id,
     LATERAL train_data.review_conversation(i.conversation_id, 'rejected', 'too generic') r
WHERE j.name = 'dedupe past the left out' AND i.position = 2;
SELECT * FROM public.complete_next((SELECT replace(turns::text, 'fixed amount', 'set amount')::jsonb FROM answer));

-- a job whose last item finishes while it is paused is completed, its pause ended
SELECT train_data.create_batch('paused to the end', jsonb_build_array(jsonb_build_object(
    'template_id', 'e7000000-0000-0000-0000-000000000001', 'parameters', jsonb_build_object('persona', 'P')))) AS pend \gset
SELECT item_id AS pitem, attempt AS pattempt FROM train_data.claim_batch_items('routing', 1) \gset
SELECT status FROM train_data.pause_batch(:'pend');
SELECT train_data.complete_batch_item(:'pitem', public.response((SELECT turns FROM answer)), 5, :pattempt) IS NOT NULL AS stored;
SELECT status, paused_at IS NULL AS pause_ended, paused_time > interval '0' AS pause_counted
FROM train_data.batch_jobs WHERE id = :'pend';

-- template_performance counts the template's conversations with defects
SELECT template_name, usage_count, with_defects, defect_rate
FROM train_data.template_performance() WHERE template_name = 'Routing';
SELECT count(*) FILTER (WHERE c.has_defects) AS with_defects, count(*) AS usage_count
FROM train_data.conversations c WHERE c.template_id = 'e7000000-0000-0000-0000-000000000001';

-- has_defects is metrics_have_defects(quality_metrics): true for a
-- non-empty "defects" array only (NULL and every other shape: false)
SELECT m AS metrics, train_data.metrics_have_defects(m::jsonb) AS has_defects
FROM (VALUES (NULL), ('{}'), ('{"defects": []}'), ('{"defects": ["truncated_last_turn"]}'),
             ('{"defects": "truncated_last_turn"}'), ('{"defects": {"n": 1}}'), ('{"defects": null}'),
             ('[{"defects": ["truncated_last_turn"]}]'), ('"defects"'), ('{"a": [1], "defects": [0], "z": 2}')) v(m);

-- metrics a user wrote herself in another shape count as no defects in
-- her statistics (they once failed them: "cannot get array length of a scalar")
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT s -> 'withDefects' AS with_defects_before FROM train_data.conversation_statistics() s \gset
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, quality_metrics)
VALUES ('e7000000-0000-0000-0000-0000000000aa', 'Hand-written metrics', 'P', 'Neutral', 'template',
        '{"overall": 5, "defects": "truncated_last_turn"}');
SELECT (s -> 'withDefects')::int - :with_defects_before AS with_defects_added, s -> 'byDefect' AS by_defect
FROM train_data.conversation_statistics() s;
DELETE FROM train_data.conversations WHERE id = 'e7000000-0000-0000-0000-0000000000aa';
RESET ROLE;

-- another user's ids name nothing in a manifest: Alice's completed
-- conversations show their template and model to her, nothing to Bob
SET ROLE regress_alice;
SELECT array_agg(c.id ORDER BY c.id)::text AS alice_ids
FROM train_data.conversations c WHERE c.template_id IS NOT NULL \gset
SELECT m -> 'templates' -> 0 ->> 'name' AS template, m -> 'models' AS models
FROM train_data.export_manifest('jsonl', 'all', '{}', '{}', NULL, :'alice_ids'::uuid[], 0, NULL) m;
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT m -> 'templates' AS bob_templates, m -> 'models' AS bob_models
FROM train_data.export_manifest('jsonl', 'all', '{}', '{}', NULL, :'alice_ids'::uuid[], 0, NULL) m;
RESET ROLE;
SET train_data.user_id = :alice;

-- The GIN indexes' pending lists are shared by every user: another user's
-- 3,000 conversations (3,000 signatures, 3,000 category arrays) leave at
-- most 64 kB in either (8 pages), which every scan of the index reads and
-- one insert in about 200 moves into it (found by a review of 1.2: with
-- the default 4 MB, Bob's inserts made Alice's completions take 16-25 ms,
-- one 611 ms)
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, category)
SELECT ('b1000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'filler ' || g, 'P', 'calm', 'template',
       ARRAY['filler ' || g]
FROM generate_series(1, 3000) g;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, 1, 'user', 'filler text number ' || c.title FROM train_data.conversations c;
RESET ROLE;
CREATE EXTENSION pageinspect;
-- (the list's use is shown by the index's options, not by pages pending
-- now: autovacuum may have moved them into the index meanwhile, which a
-- slow run under valgrind saw)
SELECT i AS gin_index, m.n_pending_pages <= 8 AS pending_at_most_64_kb, c.reloptions AS options
FROM unnest(ARRAY['train_data.conversation_signatures_bands_idx', 'train_data.conversations_category_idx']) AS i,
     LATERAL gin_metapage_info(get_raw_page(i, 0)) m, pg_class c
WHERE c.oid = i::regclass
ORDER BY 1;
DROP EXTENSION pageinspect;
SET row_security = off;
DELETE FROM train_data.conversations WHERE created_by = :bob;
RESET row_security;

------------------------------------------------------------------ the manifest's templates
-- The templates of the conversations written, as the caller sees them: a
-- logged export collects them while it writes, the dataset report takes
-- them from the rows it read, export_manifest without them finds them from
-- the ids; the three agree (each template once, by name; Bob's too: the
-- template library is read by every user; no name for a conversation
-- without a template or with one that does not exist).  With dedupe, the
-- template of a dropped near copy alone is not among them.
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.templates (id, name, category, structure)
VALUES ('e7000000-0000-0000-0000-0000000000b1', 'bob''s template', 'finance', 'Talk about money.');
RESET ROLE;
SET train_data.user_id = :alice;
INSERT INTO train_data.templates (id, name, category, structure)
VALUES ('e7000000-0000-0000-0000-000000000002', 'A second', 'finance', 'Talk about budgets.'),
       ('e7000000-0000-0000-0000-000000000003', 'Of the copy only', 'finance', 'Talk about copies.');
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, quality_score, template_id, created_at)
VALUES ('e8000000-0000-0000-0000-0000000000f1', 'with routing', 'P', 'calm', 'template', 'generated', 8,
        'e7000000-0000-0000-0000-000000000001', '2026-01-01'),
       ('e8000000-0000-0000-0000-0000000000f2', 'with routing again', 'P', 'calm', 'template', 'generated', 8,
        'e7000000-0000-0000-0000-000000000001', '2026-01-01'),
       ('e8000000-0000-0000-0000-0000000000f3', 'with the second', 'P', 'calm', 'template', 'generated', 8,
        'e7000000-0000-0000-0000-000000000002', '2026-01-01'),
       ('e8000000-0000-0000-0000-0000000000f4', 'with bob''s', 'P', 'calm', 'template', 'generated', 8,
        'e7000000-0000-0000-0000-0000000000b1', '2026-01-01'),
       ('e8000000-0000-0000-0000-0000000000f5', 'a copy of with routing', 'P', 'calm', 'template', 'generated', 8,
        'e7000000-0000-0000-0000-000000000003', '2026-01-02'),
       ('e8000000-0000-0000-0000-0000000000f6', 'without a template', 'P', 'calm', 'template', 'generated', 8,
        NULL, '2026-01-01'),
       ('e8000000-0000-0000-0000-0000000000f7', 'with no such template', 'P', 'calm', 'template', 'generated', 8,
        'e7000000-0000-0000-0000-0000000000ff', '2026-01-01');
-- (30 words of its own for each; the copy's are those of 'with routing')
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, 1, 'user', (SELECT string_agg(md5(replace(c.title, 'a copy of ', '') || g), ' ')
                         FROM generate_series(1, 30) g)
FROM train_data.conversations c
WHERE c.id::text LIKE 'e8000000-0000-0000-0000-0000000000f_';
-- A logged export of her generated conversations scored 8 with the given
-- options (its lines), then its manifest's templates, and whether the
-- report's and those found from the selection's ids are the same (each
-- statement of the function sees what the one before it wrote).
CREATE FUNCTION public.manifest_templates(options jsonb)
    RETURNS TABLE (lines bigint, templates text, as_the_report boolean, as_found_from_the_ids boolean)
    LANGUAGE plpgsql AS $$
DECLARE
    f jsonb := '{"status": ["generated"], "qualityScoreMin": 8}';
    m jsonb;
BEGIN
    SELECT count(*) INTO lines FROM train_data.export_conversations('jsonl', 'filtered', options, NULL, f);
    -- (its log: the newest with these options; the two calls of one
    -- statement share a transaction, and so a created_at)
    SELECT l.manifest -> 'templates' INTO m FROM train_data.export_logs l
    WHERE l.config = options ORDER BY l.created_at DESC LIMIT 1;
    templates := (SELECT string_agg(t ->> 'name', ', ') FROM jsonb_array_elements(m) t);
    as_the_report := m = train_data.dataset_report(f, options) -> 'manifest' -> 'templates';
    as_found_from_the_ids := m = train_data.export_manifest('jsonl', 'all', '{}', '{}', NULL,
                                     ARRAY(SELECT train_data.export_selection('filtered', NULL, f, options)),
                                     0, NULL) -> 'templates';
    RETURN NEXT;
END
$$;
-- with dedupe, the copy (the later of the two) is not written, nor its template
SELECT o.options, m.*
FROM (VALUES ('{}'::jsonb), ('{"dedupe": 0.8}')) o(options), LATERAL public.manifest_templates(o.options) m
ORDER BY o.options::text;
DROP FUNCTION public.manifest_templates(jsonb);
DELETE FROM train_data.conversations WHERE id::text LIKE 'e8000000-0000-0000-0000-0000000000f_';

-- clean up
ALTER TABLE train_data.conversation_turns ENABLE TRIGGER conversation_turns_verdicts_insert;
ALTER TABLE train_data.conversation_turns ENABLE TRIGGER conversation_turns_verdicts_update;
ALTER TABLE train_data.conversation_turns ENABLE TRIGGER conversation_turns_verdicts_delete;
RESET train_data.user_id;
DROP FUNCTION public.complete_next(jsonb);
DROP FUNCTION public.response(jsonb);
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.conversations;
DELETE FROM train_data.templates;
