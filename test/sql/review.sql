-- review: the conversation life cycle (enforced for every writer), review
-- and bulk review, the review queue and statistics, template performance
-- with its trend, and regeneration with its version chain.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''
SET ROLE regress_alice;
SET train_data.user_id = :alice;

INSERT INTO train_data.templates (id, name, category, structure, variables, tier) VALUES
    ('a7000000-0000-0000-0000-000000000001', 'Review A', 'finance', 'Talk with {{persona}} about {{topic}}.',
     '[{"name": "persona", "type": "text"}, {"name": "topic", "type": "text", "defaultValue": "saving"}]', 'template'),
    ('a7000000-0000-0000-0000-000000000002', 'Review B', 'finance', 'Scenario with {{persona}} now.',
     '[{"name": "persona", "type": "text"}]', 'scenario');

-- Fixture: conversation k of template A scores 5 + k/2 (rising), of B 9 - k/2
-- (falling); created one minute apart; k * 100 tokens costing k cents
-- (totals 10,500 tokens, 1.05 USD).
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status, quality_score,
                                      template_id, parameters, created_at, total_tokens, actual_cost_usd)
SELECT ('c7000000-0000-0000-0000-0000000000' || lpad(g::text, 2, '0'))::uuid, 'rv_' || g, 'Conversation ' || g,
       'P' || g, 'calm', CASE WHEN g <= 10 THEN 'template' ELSE 'scenario' END::train_data.tier_type,
       CASE WHEN g % 3 = 0 THEN 'generated' WHEN g % 3 = 1 THEN 'pending_review' ELSE 'needs_revision' END
           ::train_data.conversation_status,
       CASE WHEN g <= 10 THEN 5 + g / 2.0 ELSE 9 - (g - 10) / 2.0 END,
       CASE WHEN g <= 10 THEN 'a7000000-0000-0000-0000-000000000001' ELSE 'a7000000-0000-0000-0000-000000000002' END::uuid,
       jsonb_build_object('persona', 'P' || g), '2025-01-01'::timestamptz + g * interval '1 minute',
       g * 100, g * 0.01
FROM generate_series(1, 14) g;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status)
VALUES ('c7000000-0000-0000-0000-000000000099', 'rv_draft', 'Draft', 'D', 'calm', 'template', 'draft');

--------------------------------------------------------------- life cycle
SELECT expect_error($$INSERT INTO train_data.conversations (title, persona, emotion, tier, status) VALUES ('x', 'p', 'e', 'template', 'approved')$$, true);
SELECT expect_error($$UPDATE train_data.conversations SET status = 'approved' WHERE conversation_id = 'rv_draft'$$, true);
SELECT expect_error($$UPDATE train_data.conversations SET status = 'rejected' WHERE conversation_id = 'rv_draft'$$);
UPDATE train_data.conversations SET status = 'generating' WHERE conversation_id = 'rv_draft';
UPDATE train_data.conversations SET status = 'failed' WHERE conversation_id = 'rv_draft';
SELECT expect_error($$UPDATE train_data.conversations SET status = 'generated' WHERE conversation_id = 'rv_draft'$$);
UPDATE train_data.conversations SET status = 'archived' WHERE conversation_id = 'rv_draft';
SELECT expect_error($$UPDATE train_data.conversations SET status = 'draft' WHERE conversation_id = 'rv_draft'$$, true);
UPDATE train_data.conversations SET title = 'still archived' WHERE conversation_id = 'rv_draft';
-- approving or rejecting by hand, without a recorded review, is refused
SELECT expect_error($$UPDATE train_data.conversations SET status = 'approved' WHERE conversation_id = 'rv_9'$$, true);
SELECT expect_error($$UPDATE train_data.conversations SET status = 'approved', approved_by = current_setting('train_data.user_id')::uuid,
                      approved_at = now() WHERE conversation_id = 'rv_9'$$);
SELECT expect_error($$UPDATE train_data.conversations SET status = 'rejected' WHERE conversation_id = 'rv_10'$$);
SELECT old.s AS from_status, string_agg(new.s::text, ' ' ORDER BY new.s) AS may_become
FROM unnest(enum_range(NULL::train_data.conversation_status)) old(s),
     unnest(enum_range(NULL::train_data.conversation_status)) new(s)
WHERE old.s <> new.s AND train_data.conversation_transition_allowed(old.s, new.s)
GROUP BY old.s ORDER BY old.s;

------------------------------------------------------------------ review
SELECT status, approved_by = :alice AS approved_by_alice, approved_at IS NOT NULL AS approved_at_set, reviewer_notes,
       review_history -> -1 ->> 'action' AS action, review_history -> -1 ->> 'comment' AS comment,
       review_history -> -1 -> 'reasons' AS reasons, review_history -> -1 ->> 'performedBy' = :alice AS by_alice
FROM train_data.review_conversation('c7000000-0000-0000-0000-000000000001', 'approved', 'Natural and accurate.');
SELECT status, approved_by, reviewer_notes, review_history -> -1 -> 'reasons' AS reasons
FROM train_data.review_conversation('c7000000-0000-0000-0000-000000000002', 'rejected', NULL, '{tone,accuracy}');
SELECT status, review_history -> -1 ->> 'action' AS action
FROM train_data.review_conversation('c7000000-0000-0000-0000-000000000003', 'revision_requested', 'Too short.');
SELECT status FROM train_data.review_conversation('c7000000-0000-0000-0000-000000000003', 'approved');
SELECT expect_error($$SELECT train_data.review_conversation('c7000000-0000-0000-0000-000000000001', 'approved')$$, false, true);
SELECT expect_error($$SELECT train_data.review_conversation('c7000000-0000-0000-0000-000000000099', 'approved')$$, false, true);
SELECT expect_error($$SELECT train_data.review_conversation('c7000000-0000-0000-0000-000000000004', 'maybe')$$);
SELECT expect_error($$SELECT train_data.review_conversation('c7000000-0000-0000-0000-000000000004', 'approved', repeat('x', 2001))$$);
SELECT expect_error($$SELECT train_data.review_conversation('c7000000-0000-0000-0000-0000000000ff', 'approved')$$);
SELECT expect_error($$SELECT train_data.append_review_action('c7000000-0000-0000-0000-000000000004', 'liked', NULL)$$);
SELECT expect_error($$SELECT train_data.append_review_action('c7000000-0000-0000-0000-0000000000ff', 'generated', NULL)$$);
-- every entry passes append_review_action: its comment limit is checked
-- there (a 100 MB comment was stored), and reasons are one-dimensional
SELECT expect_error($$SELECT train_data.append_review_action('c7000000-0000-0000-0000-000000000004', 'generated', NULL,
                                                             repeat('y', 2001))$$);
SELECT expect_error($$SELECT train_data.review_conversation('c7000000-0000-0000-0000-000000000004', 'approved', NULL,
                                                            '{{a,b},{c,d}}')$$, true);
SELECT train_data.append_review_action('c7000000-0000-0000-0000-000000000004', 'moved_to_review', :alice, 'queued by hand');
SELECT jsonb_array_length(review_history) AS entries, review_history -> 0 ->> 'action' AS action
FROM train_data.conversations WHERE id = 'c7000000-0000-0000-0000-000000000004';
-- bulk: every row reviewed or its error reported; history for each
SELECT b.conversation_id, b.success, b.error
FROM train_data.bulk_review_conversations(ARRAY['c7000000-0000-0000-0000-000000000005',
                                                'c7000000-0000-0000-0000-000000000006',
                                                'c7000000-0000-0000-0000-000000000099']::uuid[], 'approved') b;
SELECT conversation_id, status, jsonb_array_length(review_history) AS entries FROM train_data.conversations
WHERE conversation_id IN ('rv_5', 'rv_6', 'rv_draft') ORDER BY 1;
-- 70 at once, with a repeat and an unknown id: the reviews carry one
-- transaction id (one each before, 70: past 64 in one transaction every
-- snapshot in the cluster reads pg_subtrans), the repeat and the unknown
-- id fail on their own
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status)
SELECT ('c7100000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'bulk_' || g, 'bulk', 'P', 'calm', 'template', 'generated'
FROM generate_series(1, 70) g;
SELECT b.success, count(*) AS ids, string_agg(DISTINCT b.error, '; ') AS errors
FROM train_data.bulk_review_conversations(
    ARRAY(SELECT ('c7100000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid FROM generate_series(1, 70) g)
    || 'c7100000-0000-0000-0000-000000000001'::uuid || 'c7000000-0000-0000-0000-000000000099'::uuid, 'approved') b
GROUP BY b.success ORDER BY b.success;
SELECT count(*) AS approved, count(DISTINCT xmin::text) AS transaction_ids, max(jsonb_array_length(review_history)) AS entries
FROM train_data.conversations WHERE conversation_id LIKE 'bulk\_%' AND status = 'approved';
DELETE FROM train_data.conversations WHERE conversation_id LIKE 'bulk\_%';
-- ids given in any array shape are each reported (a 2-D array, one from 0)
SELECT b.conversation_id, b.success FROM train_data.bulk_review_conversations(
    '{{c7000000-0000-0000-0000-0000000000aa,c7000000-0000-0000-0000-0000000000bb}}'::uuid[], 'approved') b;
SELECT b.conversation_id, b.success FROM train_data.bulk_review_conversations(
    '[0:1]={c7000000-0000-0000-0000-0000000000cc,c7000000-0000-0000-0000-0000000000dd}'::uuid[], 'approved') b;
-- a comment no review takes: each id fails, with the same error, and
-- nothing is written
SELECT b.success, count(*) AS ids, string_agg(DISTINCT b.error, '; ') AS errors
FROM train_data.bulk_review_conversations(ARRAY['c7000000-0000-0000-0000-000000000007',
                                                'c7000000-0000-0000-0000-000000000008']::uuid[], 'rejected',
                                          repeat('y', 2001)) b
GROUP BY b.success;
-- without a user id nobody reviews
RESET train_data.user_id;
SELECT expect_error($$SELECT train_data.review_conversation('c7000000-0000-0000-0000-000000000007', 'approved')$$);
SET train_data.user_id = :alice;

------------------------------------------------------------ review queue
SELECT conversation_id, quality_score FROM train_data.review_queue();
SELECT conversation_id, quality_score FROM train_data.review_queue(1, 2, 'quality_score', 'desc');
SELECT conversation_id, quality_score FROM train_data.review_queue(2, 2, 'created_at');
SELECT conversation_id, quality_score FROM train_data.review_queue(1, 25, 'quality_score', 'asc', 8);
-- the queue's query reads the user's own pending conversations through its
-- index (led by the owner), not every user's filtered by the policy (found
-- by a review of 1.2: another user's 300,000 pending rows cost an empty
-- queue 150-330 ms)
-- (the scan's lines of the plan only: above it PostgreSQL sorts the rows
-- of equal score and age by id with a Sort or an Incremental Sort, as its
-- statistics of the moment say)
CREATE FUNCTION pg_temp.scan_lines(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        IF line ~ 'Scan|Index Cond|Filter' THEN
            RETURN NEXT btrim(line, ' ->');
        END IF;
    END LOOP;
END
$$;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT * FROM pg_temp.scan_lines($$SELECT * FROM train_data.conversations c
WHERE c.status = 'pending_review' ORDER BY c.quality_score, c.created_at, c.id LIMIT 25$$) AS plan;
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT * FROM train_data.review_queue_statistics();
SELECT expect_error($$SELECT * FROM train_data.review_queue(0)$$);
SELECT expect_error($$SELECT * FROM train_data.review_queue(1, 101)$$);
SELECT expect_error($$SELECT * FROM train_data.review_queue(1, 25, 'title')$$);
SELECT expect_error($$SELECT * FROM train_data.review_queue(1, 25, 'created_at', 'sideways')$$);
SELECT expect_error($$SELECT * FROM train_data.review_queue(1, 25, 'created_at', 'asc', 11)$$);

------------------------------------------------------------ statistics
SELECT jsonb_pretty(train_data.conversation_statistics());

-- Template performance: A rises (5.5 -> 10), B falls (8.5 -> 7).
SELECT template_name, tier, usage_count, avg_quality, approved_count, rejected_count, approval_rate,
       performance, trend
FROM train_data.template_performance();
SELECT template_name, usage_count FROM train_data.template_performance(NULL, 5);
SELECT train_data.quality_trend(ARRAY[5, 5, 6, 7]) AS rising, train_data.quality_trend(ARRAY[8, 8, 7, 6]) AS falling,
       train_data.quality_trend(ARRAY[7, 7.2]) AS flat, train_data.quality_trend(ARRAY[7]) AS one,
       train_data.quality_trend(ARRAY[0, 1]) AS from_zero;

-- Bob sees none of it.
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT count(*) AS queue FROM train_data.review_queue();
SELECT * FROM train_data.review_queue_statistics();
SELECT train_data.conversation_statistics() -> 'total' AS total;
SELECT count(*) AS templates FROM train_data.template_performance();
SELECT expect_error($$SELECT train_data.review_conversation('c7000000-0000-0000-0000-000000000007', 'approved')$$);

------------------------------------------------------------ regeneration
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT train_data.regenerate_conversation('c7000000-0000-0000-0000-000000000002', '{"persona": "P2 again"}') AS regen \gset
SELECT i.status, i.parameters, i.parent_conversation_id = 'c7000000-0000-0000-0000-000000000002' AS parent,
       j.priority, j.total_items
FROM train_data.batch_items i JOIN train_data.batch_jobs j ON j.id = i.batch_job_id WHERE i.id = :'regen';
SET ROLE regress_worker;
SELECT train_data.complete_batch_item(item_id,
    '{"turns": [{"role": "user", "content": "Hello again, can we go over my pension?"}, {"role": "assistant", "content": "Of course, let us start."}]}')
    IS NOT NULL AS regenerated
FROM train_data.claim_batch_items('rw', 1);
SET ROLE regress_alice;
SELECT version, conversation_id ~ '^(rv_2|tpl_p2_again_[0-9]+)$' AS id_ok, status, parent_id = 'c7000000-0000-0000-0000-000000000002' AS child
FROM train_data.conversation_versions('c7000000-0000-0000-0000-000000000002');
SELECT count(*) AS versions_from_the_new_one
FROM train_data.conversation_versions((SELECT id FROM train_data.conversations WHERE parent_id = 'c7000000-0000-0000-0000-000000000002'));
SELECT parent_type, persona FROM train_data.conversations WHERE parent_id = 'c7000000-0000-0000-0000-000000000002';
SELECT expect_error($$SELECT train_data.regenerate_conversation('c7000000-0000-0000-0000-000000000002')$$, false, true);
SELECT expect_error($$SELECT train_data.regenerate_conversation('c7000000-0000-0000-0000-0000000000ff')$$);
UPDATE train_data.conversations SET template_id = NULL WHERE id = 'c7000000-0000-0000-0000-000000000004';
SELECT expect_error($$SELECT train_data.regenerate_conversation('c7000000-0000-0000-0000-000000000004')$$);
SELECT expect_error($$SELECT train_data.regenerate_conversation('c7000000-0000-0000-0000-000000000005', '[]')$$);
-- a long conversation id is clipped in the batch's name (it was refused as a
-- batch name of 311 characters: an adversarial review of 1.2); ids are at
-- most 200 characters (one of about 2,700 bytes failed the update from 1.1)
SELECT expect_error($$INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier)
                      VALUES (repeat('l', 201), 'Too long', 'P', 'calm', 'template')$$);
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status, template_id,
                                      parameters)
VALUES ('c7000000-0000-0000-0000-0000000000e2', repeat('l', 200), 'Long id', 'P', 'calm', 'template', 'generated',
        'a7000000-0000-0000-0000-000000000001', '{"persona": "P"}');
SELECT train_data.regenerate_conversation('c7000000-0000-0000-0000-0000000000e2') AS long_item \gset
SELECT length(j.name) AS batch_name_length
FROM train_data.batch_items i JOIN train_data.batch_jobs j ON j.id = i.batch_job_id WHERE i.id = :'long_item';

-- Entries already in a history are not judged again: 1.1 let a reviewer
-- other than the owner write one (and a restore keeps it); the owner can
-- still change, review and archive such a conversation.
RESET ROLE;
SET row_security = off;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status, created_by,
                                      review_history)
VALUES ('c7000000-0000-0000-0000-0000000000e1', 'rv_from_1_1', 'From 1.1', 'Ann', 'calm', 'template',
        'pending_review', :alice,
        jsonb_build_array(jsonb_build_object('action', 'revision_requested', 'performedBy', :bob)));
RESET row_security;
SET ROLE regress_alice;
UPDATE train_data.conversations SET title = 'Renamed' WHERE id = 'c7000000-0000-0000-0000-0000000000e1';
SELECT (train_data.review_conversation('c7000000-0000-0000-0000-0000000000e1', 'approved')).status;
SELECT jsonb_array_length(review_history) AS entries, review_history -> 1 ->> 'performedBy' = :alice AS hers
FROM train_data.conversations WHERE id = 'c7000000-0000-0000-0000-0000000000e1';
SELECT expect_error(format($$UPDATE train_data.conversations
    SET review_history = review_history || jsonb_build_array(jsonb_build_object('action', 'x', 'performedBy', %L))
    WHERE id = 'c7000000-0000-0000-0000-0000000000e1'$$, :bob));
UPDATE train_data.conversations SET status = 'archived' WHERE id = 'c7000000-0000-0000-0000-0000000000e1';

-- The guard allows 1,000 versions before a conversation; conversation_versions
-- lists such a chain of 1,001 whole from either end (it stopped at 1,000:
-- a review of 1.2).  The chain is written as the superuser (no guard).
RESET ROLE;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, parent_id, parent_type, created_by)
SELECT ('c8000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'chain_' || g, 'chain', 'P', 'E', 'template',
       CASE WHEN g > 1 THEN ('c8000000-0000-0000-0000-' || lpad((g - 1)::text, 12, '0'))::uuid END,
       CASE WHEN g > 1 THEN 'conversation' END, :alice
FROM generate_series(1, 1001) g;
SET ROLE regress_alice;
SELECT (SELECT count(*) FROM train_data.conversation_versions('c8000000-0000-0000-0000-000000001001')) AS from_the_tip,
       (SELECT count(*) FROM train_data.conversation_versions('c8000000-0000-0000-0000-000000000001')) AS from_the_root,
       (SELECT count(*) FROM train_data.conversation_versions('c8000000-0000-0000-0000-000000000500')) AS from_the_middle;
-- A chain the guard did not see (a superuser's, or one 1.1 let a user
-- write) may cross owners: followed as it is, from either end (the walk
-- down once probed the chain's owner only: a review of 1.2).
RESET ROLE;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, parent_id, parent_type, created_by)
VALUES ('c8100000-0000-0000-0000-000000000001', 'mixed_1', 'mixed', 'P', 'E', 'template', NULL, NULL, :alice),
       ('c8100000-0000-0000-0000-000000000002', 'mixed_2', 'mixed', 'P', 'E', 'template',
        'c8100000-0000-0000-0000-000000000001', 'conversation', :bob);
SELECT (SELECT string_agg(v.conversation_id, ' ' ORDER BY v.version)
        FROM train_data.conversation_versions('c8100000-0000-0000-0000-000000000001') v) AS from_the_root,
       (SELECT string_agg(v.conversation_id, ' ' ORDER BY v.version)
        FROM train_data.conversation_versions('c8100000-0000-0000-0000-000000000002') v) AS from_the_tip;
DELETE FROM train_data.conversations WHERE conversation_id LIKE 'mixed\_%';
SET ROLE regress_alice;
SELECT expect_error($$INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, parent_id, parent_type)
                      VALUES ('chain_1002', 'chain', 'P', 'E', 'template', 'c8000000-0000-0000-0000-000000001001', 'conversation')$$);
-- A regeneration of the tip would be the 1,002nd version: refused before it
-- is queued, since the completion that inserts it does not walk the chain (a
-- chain grew past the guard's limit: a review of 1.2); that of the version
-- before the tip is queued.
RESET ROLE;
SET row_security = off;
UPDATE train_data.conversations SET status = 'generated', template_id = 'a7000000-0000-0000-0000-000000000001',
                                    parameters = '{"persona": "P"}'
WHERE conversation_id IN ('chain_1000', 'chain_1001');
RESET row_security;
SET ROLE regress_alice;
SELECT expect_error($$SELECT train_data.regenerate_conversation('c8000000-0000-0000-0000-000000001001')$$);
SELECT train_data.regenerate_conversation('c8000000-0000-0000-0000-000000001000') AS chain_item \gset
SELECT i.parent_conversation_id AS queued_after FROM train_data.batch_items i WHERE i.id = :'chain_item';
-- nor can an item be given the tip as its parent by hand (a review of 1.2
-- grew the chain so, through an item of a batch of her own)
SELECT expect_error($$UPDATE train_data.batch_items SET parent_conversation_id = 'c8000000-0000-0000-0000-000000001001'
                      WHERE id = (SELECT i.id FROM train_data.batch_items i
                                  WHERE i.parent_conversation_id = 'c8000000-0000-0000-0000-000000001000')$$, false, true);

-- A review history holds at most 1,000 entries and 1 MB as it grows (each
-- review rewrites and checks the whole of it: 1,000 reviews of one
-- conversation took 224 s, a review of inputs 1,000 times larger), and an
-- id listed again in a bulk review is reviewed once (one call wrote 1,000
-- entries so).
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status)
VALUES ('c9000000-0000-0000-0000-000000000001', 'full_history', 'h', 'P', 'E', 'template', 'needs_revision');
SELECT conversation_id, success, error
FROM train_data.bulk_review_conversations(array_fill('c9000000-0000-0000-0000-000000000001'::uuid, ARRAY[3]),
                                          'revision_requested');
SELECT jsonb_array_length(review_history) AS entries FROM train_data.conversations WHERE conversation_id = 'full_history';
UPDATE train_data.conversations
SET review_history = review_history || (SELECT jsonb_agg(jsonb_build_object('action', 'revision_requested')) FROM generate_series(1, 998))
WHERE conversation_id = 'full_history';
SELECT train_data.review_conversation('c9000000-0000-0000-0000-000000000001', 'revision_requested') IS NULL AS the_1000th;
SELECT expect_error($$SELECT train_data.review_conversation('c9000000-0000-0000-0000-000000000001', 'revision_requested')$$, true);
SELECT expect_error($$SELECT train_data.append_review_action('c9000000-0000-0000-0000-000000000001', 'moved_to_review', current_setting('train_data.user_id')::uuid)$$);
-- 1 MB: 164 entries of 6,300 characters written by hand, then a review's
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status)
VALUES ('c9000000-0000-0000-0000-000000000002', 'big_history', 'h', 'P', 'E', 'template', 'needs_revision');
UPDATE train_data.conversations
SET review_history = (SELECT jsonb_agg(jsonb_build_object('action', 'revision_requested', 'comment', repeat('c', 6300)))
                      FROM generate_series(1, 164))
WHERE conversation_id = 'big_history'
RETURNING jsonb_array_length(review_history) AS entries, train_data.jsonb_raw_size(review_history) AS bytes;
SELECT expect_error($$SELECT train_data.review_conversation('c9000000-0000-0000-0000-000000000002', 'revision_requested',
                                                             repeat('c', 2000), (SELECT array_agg(repeat('r', 200)) FROM generate_series(1, 20)))$$,
                    true);
SELECT jsonb_array_length(review_history) AS entries_after_refusal FROM train_data.conversations WHERE conversation_id = 'big_history';
-- changing anything else of a conversation whose history is full is not refused for it
UPDATE train_data.conversations SET title = 'still editable' WHERE conversation_id = 'full_history' RETURNING title;

RESET ROLE;
RESET train_data.user_id;
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.generation_logs;
DELETE FROM train_data.conversations;
DELETE FROM train_data.templates;
