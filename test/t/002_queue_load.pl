# 002_queue_load.pl — 8 concurrent workers (pgbench clients) drain a
# 20,000-item batch while 5 % of the calls fail and are retried with backoff.
# At the end every item is in exactly one final state, every completed item
# has exactly one conversation with its turns, nothing is left in flight,
# and the live counters and the job's counters equal the item statuses.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $items = 20000;
my $node  = PostgreSQL::Test::Cluster->new('load');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\nfsync = off\n");
$node->start;
$node->safe_psql('postgres', qq{
CREATE EXTENSION train_data;
INSERT INTO train_data.templates (id, name, category, structure, variables, created_by)
VALUES ('b0000000-0000-0000-0000-000000000001', 'load', 'load', 'Talk with {{persona}} about money.',
        '[{"name": "persona", "type": "text"}]', '11111111-1111-1111-1111-111111111111');
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by)
VALUES ('c0000000-0000-0000-0000-000000000001', 'load', $items, 10, '11111111-1111-1111-1111-111111111111');
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters)
SELECT 'c0000000-0000-0000-0000-000000000001', 'b0000000-0000-0000-0000-000000000001', g, 'template',
       jsonb_build_object('persona', 'P' || g)
FROM generate_series(1, $items) g;
VACUUM ANALYZE;
});

# One worker cycle per pgbench transaction: claim, then complete or fail.
my $script = "$PostgreSQL::Test::Utils::tmp_check/worker.sql";
open(my $fh, '>', $script) or die $!;
print $fh q{SELECT CASE WHEN random() < 0.05
            THEN train_data.fail_batch_item(c.item_id, 'HTTP 500', '500', true)::text
            ELSE train_data.complete_batch_item(c.item_id,
                   '{"turns": [{"role": "user", "content": "How much?"}, {"role": "assistant", "content": "Ten percent."}]}',
                   10)::text
       END
FROM train_data.claim_batch_items('w' || :client_id, 1) c;
};
close $fh;

my $remaining_sql = q{SELECT count(*) FROM train_data.batch_items WHERE status IN ('queued', 'processing')};
my $rounds = 0;
while ($node->safe_psql('postgres', $remaining_sql) > 0 && $rounds++ < 40)
{
	my ($out, $err);
	IPC::Run::run([ 'pgbench', '-n', '-c', '8', '-j', '8', '-t', '1000', '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres' ], '>', \$out, '2>', \$err)
	  or die "pgbench failed: $err";
	sleep 1;    # let retries come out of their backoff
}
is($node->safe_psql('postgres', $remaining_sql), '0', "the batch drained in $rounds rounds of pgbench");

is($node->safe_psql('postgres', q{
SELECT count(*) FROM train_data.batch_items WHERE status NOT IN ('completed', 'failed')}),
	'0', 'every item is in a final state');
is($node->safe_psql('postgres', q{
SELECT count(*) = count(DISTINCT conversation_id) AND count(*) = count(conversation_id)
FROM train_data.batch_items WHERE status = 'completed'}),
	't', 'every completed item has its own conversation');
is($node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM train_data.conversations)
     = (SELECT count(*) FROM train_data.batch_items WHERE status = 'completed')}),
	't', 'no conversation without a completed item');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM train_data.conversations c
WHERE c.turn_count <> (SELECT count(*) FROM train_data.conversation_turns t WHERE t.conversation_id = c.id)
   OR c.turn_count <> 2}),
	'0', 'every conversation has exactly its turns');
is($node->safe_psql('postgres', q{
SELECT (SELECT sum(completed_items) || ' ' || sum(failed_items) || ' ' || sum(in_flight)
        FROM train_data.batch_job_counters)
     = (SELECT count(*) FILTER (WHERE status = 'completed') || ' ' ||
               count(*) FILTER (WHERE status = 'failed') || ' 0' FROM train_data.batch_items)}),
	't', 'live counters equal the item statuses, nothing in flight');
is($node->safe_psql('postgres', q{
SELECT j.status || ' ' || (j.completed_items + j.failed_items = j.total_items)
       || ' ' || (j.completed_items = (SELECT count(*) FROM train_data.batch_items WHERE status = 'completed'))
FROM train_data.batch_jobs j}),
	'completed true true', 'the job is completed with its counters rolled up');
cmp_ok($node->safe_psql('postgres', q{
SELECT count(*) FROM train_data.generation_logs WHERE status = 'failed'}),
	'>', 0, 'failures happened and were logged');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM train_data.generation_logs WHERE status = 'success'}),
	$node->safe_psql('postgres', q{SELECT count(*) FROM train_data.batch_items WHERE status = 'completed'}),
	'one success log per completed item');
is($node->safe_psql('postgres', q{SELECT train_data.calculate_batch_progress('c0000000-0000-0000-0000-000000000001')}),
	'100.00', 'progress is 100 %');

$node->stop;
done_testing();
