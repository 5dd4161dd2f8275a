# 016_expired_floor.pl — a claim's scan for leases that ran out does not
# read again, at every claim, the items that finished while a snapshot is
# held elsewhere.
#
# While a session keeps an old snapshot (a transaction left open, a long
# pg_dump), the index entries of items that finished since cannot be
# cleaned up; once their leases are past, a scan from the oldest lease
# reads every one of them.  A review of 1.2 measured 19,533 buffers per
# claim 160 s into a held snapshot (24 ms a claim instead of 1.3 ms).  A
# session's scan now starts at a floor: the oldest lease run out that its
# last look found left, else that look's now() (claim_glue.c; a look at
# most every second), and from the oldest lease only every 10 s.
# Measured with pg_stat_statements (the scan's buffers per call): the first
# claim of a session reads them all, the next only the new ones; a lease
# that runs out later, or one another transaction held when the session
# looked, is still taken back at the next claim.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('floor');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\nautovacuum = off\n");
$node->start;

$node->safe_psql('postgres', q{
CREATE EXTENSION train_data;
CREATE EXTENSION pg_stat_statements;
INSERT INTO train_data.templates (id, name, category, structure, variables, created_by)
VALUES ('b0000000-0000-0000-0000-000000000001', 'floor', 'floor', 'Talk with {{persona}} about money.',
        '[{"name": "persona", "type": "text"}]', '11111111-1111-1111-1111-111111111111');
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by)
VALUES ('f0000000-0000-0000-0000-000000000001', 'floor', 2000, 10, '11111111-1111-1111-1111-111111111111');
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters, prompt)
SELECT 'f0000000-0000-0000-0000-000000000001', 'b0000000-0000-0000-0000-000000000001', g, 'template',
       jsonb_build_object('persona', 'P' || g), 'Talk with P' || g || ' about money.'
FROM generate_series(1, 2000) g;
});

# A snapshot held from before the items finish.
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM train_data.batch_items;');

# 2,000 items claimed with a 1-second lease and completed, ten at a time.
$node->safe_psql('postgres', q{
DO $$
DECLARE it record;
BEGIN
    FOR k IN 1 .. 200 LOOP
        FOR it IN SELECT * FROM train_data.claim_batch_items('w', 10, '1 second') LOOP
            PERFORM train_data.complete_batch_item(it.item_id,
                '{"turns": [{"role": "user", "content": "How much should I save?"},
                            {"role": "assistant", "content": "Ten percent of what you earn."}]}', 100, it.attempt);
        END LOOP;
        COMMIT;
    END LOOP;
END
$$;
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM train_data.batch_items WHERE status = 'completed'}),
	'2000', 'the 2,000 items are completed');
usleep(1_500_000);    # their leases are past

# The scan's buffers per call, summed over every call so far.
my $probe = $node->background_psql('postgres');
my $scan = q{SELECT coalesce(sum(s.calls), 0) || ' ' || coalesce(sum(s.shared_blks_hit + s.shared_blks_read), 0)
             FROM pg_stat_statements s WHERE s.query LIKE '%ORDER BY i.lease_expires_at%'};
my ($calls0, $blocks0) = split ' ', $probe->query_safe($scan);
$probe->query_safe(q{SELECT count(*) FROM train_data.claim_batch_items('probe', 1)});
my ($calls1, $blocks1) = split ' ', $probe->query_safe($scan);
$probe->query_safe(q{SELECT count(*) FROM train_data.claim_batch_items('probe', 1)});
$probe->query_safe(q{SELECT count(*) FROM train_data.claim_batch_items('probe', 1)});
my ($calls3, $blocks3) = split ' ', $probe->query_safe($scan);
my ($first, $next) = ($blocks1 - $blocks0, $blocks3 - $blocks1);
is($calls1 - $calls0, 1, 'one scan for the first claim of a session');
cmp_ok($first, '>=', 100, "the session's first scan reads the finished items' entries ($first buffers)");
is($calls3 - $calls1, 2, 'one scan for each of the next two claims');
cmp_ok($next, '<=', 10, "the next two start at the floor: the finished items are not read again ($next buffers)");

# A lease that runs out after the floor is found and taken back by the same
# session: an item of another job put in flight with a 1-second lease by
# another worker, then left to run out.
$node->safe_psql('postgres', q{
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by)
VALUES ('f0000000-0000-0000-0000-000000000002', 'floor 2', 1, 1, '11111111-1111-1111-1111-111111111111');
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters, prompt)
VALUES ('f0000000-0000-0000-0000-000000000002', 'b0000000-0000-0000-0000-000000000001', 7, 'template',
        '{"persona": "P7"}', 'Talk with P7 about money.');
});
is($node->safe_psql('postgres', q{SELECT "position" FROM train_data.claim_batch_items('w2', 1, '1 second')}),
	'7', 'another worker takes the new item with a 1-second lease');
usleep(1_500_000);
is($probe->query_safe(q{SELECT "position" || ':' || attempt FROM train_data.claim_batch_items('probe', 1)}),
	'7:2', 'the lease that ran out after the floor is taken back at the next claim');

# A claim that takes leases back and rolls back leaves them run out again:
# the floor it found is never above them (a review of 1.2 found them coming
# back one claim per 10 s).
$node->safe_psql('postgres', q{
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by)
VALUES ('f0000000-0000-0000-0000-000000000003', 'floor 3', 3, 3, '11111111-1111-1111-1111-111111111111');
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters, prompt)
SELECT 'f0000000-0000-0000-0000-000000000003', 'b0000000-0000-0000-0000-000000000001', g, 'template',
       jsonb_build_object('persona', 'P' || g), 'Talk with P' || g || ' about money.'
FROM generate_series(1, 3) g;
});
is($node->safe_psql('postgres', q{SELECT count(*) FROM train_data.claim_batch_items('w3', 10, '1 second')}),
	'3', 'another worker takes three items with a 1-second lease');
usleep(1_500_000);
$probe->query_safe('BEGIN');
is($probe->query_safe(q{SELECT count(*) FROM train_data.claim_batch_items('probe', 10)}),
	'3', 'a claim takes the three back');
$probe->query_safe('ROLLBACK');
is($probe->query_safe(q{SELECT string_agg("position" || ':' || attempt, ' ' ORDER BY "position")
                        FROM train_data.claim_batch_items('probe', 10)}),
	'1:2 2:2 3:2', 'after its rollback, the next claim of the session takes them back at once');

$probe->quit;
$holder->query_safe('COMMIT');
$holder->quit;
$node->stop;
done_testing();
