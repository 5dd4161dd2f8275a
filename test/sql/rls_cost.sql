-- rls_cost: a user's call costs what her own rows cost, not what every
-- user's do.  One user holds most conversations (2,000); another holds 3.
-- Her conversation_statistics(), exports and dataset report read her rows
-- through the owner's index: before, the policy's condition (its value
-- unknown when planning) was estimated as the average user's share, so
-- that each of their scans read all 2,003 rows.  The figures are the rows the call read, from the
-- transaction's statistics.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''

INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, status, quality_score, created_by)
SELECT 'cost_bob_' || g, 'bob''s', 'p', 'e', 'template', 'generated', 8, :bob FROM generate_series(1, 2000) g;
INSERT INTO train_data.conversations (conversation_id, title, persona, emotion, tier, status, quality_score, created_by)
SELECT 'cost_alice_' || g, 'alice''s', 'p', 'e', 'scenario', 'pending_review', 5, :alice FROM generate_series(1, 3) g;
ANALYZE train_data.conversations;

-- The rows of conversations the statements of this transaction read so far.
CREATE FUNCTION public.conversation_rows_read() RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)
    FROM pg_catalog.pg_stat_xact_user_tables WHERE relid = 'train_data.conversations'::regclass
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
SELECT public.conversation_rows_read() AS before \gset
SELECT r -> 'byStatus' AS by_status, r -> 'manifest' -> 'rows' AS manifest_rows
FROM train_data.dataset_report('{"qualityScoreMin": 4}') r;
SELECT public.conversation_rows_read() - :before AS rows_read;
COMMIT;

-- Bob's figures are his, read however PostgreSQL likes
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT s ->> 'total' AS total, s -> 'byTier' AS by_tier, s ->> 'approvalRate' AS approval_rate
FROM train_data.conversation_statistics() s;

-- the table's owner, whom the policies do not apply to, counts every row
RESET ROLE;
SELECT s ->> 'total' AS total, s -> 'byStatus' AS by_status FROM train_data.conversation_statistics() s;

DELETE FROM train_data.conversations WHERE conversation_id LIKE 'cost\_%';
ANALYZE train_data.conversations;
DROP FUNCTION public.conversation_rows_read();
