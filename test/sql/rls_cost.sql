-- rls_cost: a user's call costs what her own rows cost, not what every
-- user's do.  One user holds most conversations (2,000, of a template of
-- his that is shared); another holds 3.  Her conversation_statistics(),
-- exports, dataset report and template_performance() read her rows
-- through the owner's index: before, the policy's condition (its value
-- unknown when planning) was estimated as the average user's share, so
-- that each of their scans read all 2,003 rows (the shared template's
-- trend, his 2,000).  The figures are the rows each call read, from the
-- transaction's statistics.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''

INSERT INTO train_data.templates (id, name, category, structure, created_by)
VALUES ('c0570000-0000-0000-0000-000000000001', 'cost shared', 'finance', 'Write a conversation about saving money.', :bob);
INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, status, quality_score, template_id, created_by)
SELECT 'cost_bob_' || g, 'bob''s', 'p', 'e', 'template', 'generated', 8, 'c0570000-0000-0000-0000-000000000001', :bob
FROM generate_series(1, 2000) g;
INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, status, quality_score, template_id, created_by)
SELECT 'cost_alice_' || g, 'alice''s', 'p', 'e', 'scenario', 'pending_review', 5, 'c0570000-0000-0000-0000-000000000001', :alice
FROM generate_series(1, 3) g;
-- (the conversations have turns: exports leave out those without)
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, n, CASE n WHEN 1 THEN 'user' ELSE 'assistant' END,
       CASE n WHEN 1 THEN 'How much should I save each month for a house?'
              ELSE 'Around 15 percent of your income is a good start.' END
FROM train_data.conversations c, generate_series(1, 2) n;
ANALYZE train_data.conversations;
-- (and the templates: the manifest's templates were once a semi-join
-- with her conversations, planned as the templates' statistics said, so
-- that an autovacuum at a moment of its own made the report read 10 rows,
-- 12, or Bob's 2,000 of the template he shares; they are now found from
-- her conversations by id, whatever the statistics, and dataset_report
-- and export_conversations give the manifest the templates of the rows
-- they read, so that it reads none of them again)
ANALYZE train_data.templates;

-- The rows of a table (of conversations) the statements of this
-- transaction read so far.
CREATE FUNCTION public.rows_read(rel regclass) RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)
    FROM pg_catalog.pg_stat_xact_user_tables WHERE relid = rel
$$;
CREATE FUNCTION public.conversation_rows_read() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT public.rows_read('train_data.conversations')
$$;

SET ROLE regress_alice;
SET train_data.user_id = :alice;
-- (within a transaction: the statistics of the statements before it may
-- not be flushed yet, so each figure is a difference)
BEGIN;
SELECT public.conversation_rows_read() AS before \gset
SELECT s ->> 'total' AS total, s -> 'byStatus' AS by_status, s ->> 'avgQualityScore' AS avg_quality
FROM train_data.conversation_statistics() s;
SELECT public.conversation_rows_read() - :before AS rows_read;
-- her export and her dataset report, of her conversations scored 4 or more
SELECT public.conversation_rows_read() AS before \gset
SELECT count(*) AS lines FROM train_data.export_jsonl('original', 'filtered', NULL, '{"qualityScoreMin": 4}') l;
SELECT public.conversation_rows_read() - :before AS rows_read;
-- her logged export reads what the unlogged one does: its manifest's
-- templates are those of the rows it wrote, not read again
SELECT public.conversation_rows_read() AS before \gset
SELECT count(*) AS lines
FROM train_data.export_conversations('jsonl', 'filtered', filters => '{"qualityScoreMin": 4}') l;
SELECT public.conversation_rows_read() - :before AS rows_read;
SELECT public.conversation_rows_read() AS before \gset
SELECT r -> 'byStatus' AS by_status, r -> 'manifest' -> 'rows' AS manifest_rows
FROM train_data.dataset_report('{"qualityScoreMin": 4}') r;
SELECT public.conversation_rows_read() - :before AS rows_read;
-- the manifest as a user calls it, its templates found from her ids (3 rows)
SELECT pg_catalog.array_agg(id) AS alice_ids FROM train_data.conversations WHERE created_by = :alice \gset
SELECT public.conversation_rows_read() AS before \gset
SELECT m -> 'templates' -> 0 ->> 'name' AS template, m ->> 'rows' AS manifest_rows
FROM train_data.export_manifest('jsonl', 'all', '{}', '{}', NULL, :'alice_ids', 3, NULL) m;
SELECT public.conversation_rows_read() - :before AS rows_read;
-- her use of Bob's shared template (his 2,000 conversations of it are not read)
SELECT public.conversation_rows_read() AS before \gset
SELECT template_name, usage_count, avg_quality, trend FROM train_data.template_performance();
SELECT public.conversation_rows_read() - :before AS rows_read;
-- her near duplicates (her three are copies of one): her conversations
-- (before: every user's read and filtered, 91 ms against 8 beside
-- 300,000 of another user's, a review of 1.2)
SELECT public.conversation_rows_read() AS before \gset
SELECT count(*) AS near_copies FROM train_data.near_duplicates();
SELECT public.conversation_rows_read() - :before AS rows_read;
COMMIT;

-- Bob's figures are his, read however PostgreSQL likes
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT s ->> 'total' AS total, s -> 'byTier' AS by_tier, s ->> 'approvalRate' AS approval_rate
FROM train_data.conversation_statistics() s;

-- A site's own policy beside the stock one (here Bob reads every
-- conversation, as a reviewer would): the policies decide, and every call
-- counts what he sees (found by a review: the calls named his id anyway)
RESET ROLE;
CREATE POLICY cost_reviewer ON train_data.conversations FOR SELECT TO regress_bob USING (true);
SET ROLE regress_bob;
SELECT train_data.conversations_owner_only() AS owner_only, count(*) AS visible FROM train_data.conversations;
SELECT s ->> 'total' AS total FROM train_data.conversation_statistics() s;
-- (his exports leave out Alice's three: the turns' policy hides their
-- turns from him, and a conversation without turns is not exported)
SELECT count(*) AS lines FROM train_data.export_jsonl('original', 'filtered', NULL, '{"qualityScoreMin": 4}') l;
SELECT r -> 'manifest' -> 'rows' AS manifest_rows FROM train_data.dataset_report('{"qualityScoreMin": 4}') r;
SELECT template_name, usage_count FROM train_data.template_performance();
RESET ROLE;
DROP POLICY cost_reviewer ON train_data.conversations;
SET ROLE regress_bob;
SELECT train_data.conversations_owner_only() AS owner_only;

-- the table's owner, whom the policies do not apply to, counts every row
RESET ROLE;
SELECT s ->> 'total' AS total, s -> 'byStatus' AS by_status FROM train_data.conversation_statistics() s;

-- Her versions: a chain of four beside Bob's 2,000 conversations of one
-- scenario, which the statistics know of, while they know nothing of her
-- chain.  Each step down the chain looks for her regenerations of a
-- version (conversations_regenerated_idx): before, a scan of every
-- conversation a step (a chain of 101 versions beside 300,000 of another
-- user's took 6.7 s, a review of 1.2).
UPDATE train_data.conversations SET parent_type = 'scenario', parent_id = 'c0570000-0000-0000-0000-0000000000ff'
WHERE created_by = :bob;
ANALYZE train_data.conversations;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status)
VALUES ('c0570000-0000-0000-0000-0000000000a1', 'cost_v1', 'v1', 'p', 'e', 'template', 'generated');
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status, parent_id, parent_type)
SELECT ('c0570000-0000-0000-0000-0000000000a' || v)::uuid, 'cost_v' || v, 'v' || v, 'p', 'e', 'template', 'generated',
       ('c0570000-0000-0000-0000-0000000000a' || (v - 1))::uuid, 'conversation'
FROM generate_series(2, 4) v ORDER BY v;
BEGIN;
SELECT public.conversation_rows_read() AS before \gset
SELECT string_agg(v.conversation_id, ' ' ORDER BY v.version) AS versions
FROM train_data.conversation_versions('c0570000-0000-0000-0000-0000000000a2') v;
SELECT public.conversation_rows_read() - :before < 20 AS reads_her_chain;
COMMIT;
RESET ROLE;

-- Her export history and expiry beside Bob's 2,000 expired exports, which
-- only he can mark (before: every user's read and filtered, 38-82 ms
-- beside 300,000 of another user's, a review of 1.2)
INSERT INTO train_data.export_logs (format, config, conversation_count, status, expires_at, user_id)
SELECT 'jsonl', '{}', 0, 'completed', now() - interval '1 day', :bob FROM generate_series(1, 2000);
INSERT INTO train_data.export_logs (format, config, conversation_count, status, expires_at, user_id)
VALUES ('jsonl', '{}', 0, 'completed', now() - interval '1 day', :alice);
ANALYZE train_data.export_logs;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
BEGIN;
SELECT public.rows_read('train_data.export_logs') AS before \gset
SELECT count(*) AS her_exports FROM train_data.export_history();
SELECT public.rows_read('train_data.export_logs') - :before AS rows_read;
SELECT public.rows_read('train_data.export_logs') AS before \gset
SELECT train_data.mark_expired_exports() AS marked;
SELECT public.rows_read('train_data.export_logs') - :before AS rows_read;
COMMIT;
RESET ROLE;
SELECT status, count(*) FROM train_data.export_logs GROUP BY 1 ORDER BY 1;
DELETE FROM train_data.export_logs WHERE user_id IN (:alice, :bob);

DELETE FROM train_data.conversations WHERE conversation_id LIKE 'cost\_%';
DELETE FROM train_data.templates WHERE name = 'cost shared';
ANALYZE train_data.conversations;
DROP FUNCTION public.conversation_rows_read();
DROP FUNCTION public.rows_read(regclass);
