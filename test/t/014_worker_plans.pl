# 014_worker_plans.pl — a worker's session keeps the plans of the worker
# functions (generic plans, made at their first call) and of the
# foreign-key checks made inside them.  On a fresh install the tables are
# small when a worker's first completion plans them (autovacuum has
# analyzed one job, one template, ten claim slots): without care those
# plans read the tables sequentially until autovacuum analyzes them again
# (this test turns it off).  Each completion then read every job (4 times), template
# (twice) and claim slot; in a development loop of 3,000 cycles in one
# session, every conversation too (the key checks), and a completion went
# from 1.1 to 4.2 ms.  The worker functions run with enable_seqscan off, so
# their plans (and the key checks planned inside) read indexes whatever the
# size of the tables when they were made: the same loop stays at 0.55 to
# 0.67 ms.
#
# One session: 300 cycles (claim, commit, complete, commit) on a fresh
# install whose tables autovacuum has analyzed, then one more; that last
# cycle reads no table of train_data sequentially.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('plans');
$node->init;
$node->append_conf('postgresql.conf', "fsync = off\nautovacuum = off\n");
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION train_data;
INSERT INTO train_data.templates (id, name, category, structure, variables, created_by)
VALUES ('b0000000-0000-0000-0000-000000000001', 'plans', 'plans', 'Talk with {{persona}} about money.',
        '[{"name": "persona", "type": "text"}]', '11111111-1111-1111-1111-111111111111');
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by)
VALUES ('c0000000-0000-0000-0000-00000000000a', 'plans', 1000, 10, '11111111-1111-1111-1111-111111111111');
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters, prompt)
SELECT 'c0000000-0000-0000-0000-00000000000a', 'b0000000-0000-0000-0000-000000000001', g, 'template',
       jsonb_build_object('persona', 'P' || g), 'Talk with P' || g || ' about money.'
FROM generate_series(1, 1000) g;
-- what autovacuum does on a fresh install: the tables' statistics say small
ANALYZE;
});

my ($rc, $out, $err) = $node->psql('postgres', q{
DO $$
DECLARE
    it uuid;
    scans record;
    r jsonb := '{"turns": [{"role": "user", "content": "How much?"}, {"role": "assistant", "content": "Ten percent of each pay."}]}';
BEGIN
    FOR i IN 1 .. 300 LOOP
        SELECT c.item_id INTO it FROM train_data.claim_batch_items('planner', 1) c;
        COMMIT;
        PERFORM train_data.complete_batch_item(it, r, 10);
        COMMIT;
    END LOOP;
    -- this backend's counts not yet sent to the statistics, before the last cycle
    CREATE TEMP TABLE scans_before AS
    SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE schemaname = 'train_data';
    SELECT c.item_id INTO it FROM train_data.claim_batch_items('planner', 1) c;
    PERFORM train_data.complete_batch_item(it, r, 10);
    FOR scans IN
        SELECT s.relname, s.seq_scan - coalesce(b.seq_scan, 0) AS n
        FROM pg_stat_xact_user_tables s LEFT JOIN scans_before b USING (relname)
        WHERE s.schemaname = 'train_data' AND s.seq_scan > coalesce(b.seq_scan, 0) ORDER BY 1
    LOOP
        RAISE WARNING 'read sequentially: % (% times)', scans.relname, scans.n;
    END LOOP;
END
$$;
SELECT count(*) FROM train_data.batch_items WHERE status = 'completed';
});
is($rc, 0, 'the cycles ran');
is($out, '301', '301 items completed');
is(join("\n", grep { /read sequentially/ } split /\n/, $err), '',
	'the last cycle of a worker connected since the install read no table sequentially');

done_testing();
