# 002_queue_load.pl — 8 concurrent workers (pgbench clients) drain a
# 100,000-item batch while 5 % of the model calls fail and are retried with
# backoff, the batch is paused and resumed every few seconds, and a second
# batch worked at the same time is cancelled half-way.
#
# Each worker cycle is what a real worker does: claim one item (one
# transaction), then complete or fail the item it holds (another).  At the
# end every item is in a final state with its finish time and no lease, every
# completed item has exactly one conversation with its turns and one success
# log, the live counters and the jobs' counters equal the item statuses, and
# nothing is left in flight.  The only errors a worker may meet are the two
# a real worker must expect: its item was cancelled, or its lease ran out.
# A pause touches no item (it takes one row out of the claim order), so no
# worker waits for it.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use TrainDataChecks;
use Time::HiRes qw(time usleep);

my $items_a = 100000;
my $items_b = 5000;
my $job_a   = 'c0000000-0000-0000-0000-00000000000a';
my $job_b   = 'c0000000-0000-0000-0000-00000000000b';
my $node    = PostgreSQL::Test::Cluster->new('load');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 30\nfsync = off\nlog_statement = none\n");
$node->start;

# A is the big batch; B, created after it, gets a worker when one is free
# and every worker while A is paused.
$node->safe_psql('postgres', qq{
CREATE EXTENSION train_data;
INSERT INTO train_data.templates (id, name, category, structure, variables, created_by)
VALUES ('b0000000-0000-0000-0000-000000000001', 'load', 'load', 'Talk with {{persona}} about money.',
        '[{"name": "persona", "type": "text"}]', '11111111-1111-1111-1111-111111111111');
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by, created_at)
VALUES ('$job_a', 'load A', $items_a, 10, '11111111-1111-1111-1111-111111111111', now() - interval '1 minute'),
       ('$job_b', 'load B', $items_b, 10, '11111111-1111-1111-1111-111111111111', now());
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters)
SELECT j.id, 'b0000000-0000-0000-0000-000000000001', g, 'template', jsonb_build_object('persona', 'P' || g)
FROM (VALUES ('$job_a'::uuid, $items_a), ('$job_b'::uuid, $items_b)) j(id, n), generate_series(1, j.n) g;
VACUUM ANALYZE;
});

# One worker cycle per pgbench script: claim up to 4 items (one
# transaction), then complete or fail (5 %, retryable) each of them in a
# transaction of its own; an idle worker sleeps 20 ms before it asks again.
my $script = "$PostgreSQL::Test::Utils::tmp_check/worker.sql";
open(my $fh, '>', $script) or die $!;
print $fh q{SELECT count(*) AS n, coalesce(string_agg(item_id::text, ','), '') AS items
FROM train_data.claim_batch_items('w' || :client_id, 4, '1 minute') \gset
\if :n = 0
\sleep 20 ms
\endif
};
for my $k (1 .. 4)
{
	print $fh qq{\\if :n >= $k
SELECT CASE WHEN random() < 0.05
            THEN train_data.fail_batch_item(split_part(':items', ',', $k)::uuid, 'HTTP 500', '500', true)::text
            ELSE train_data.complete_batch_item(split_part(':items', ',', $k)::uuid,
                   '{"turns": [{"role": "user", "content": "How much?"}, {"role": "assistant", "content": "Ten percent."}]}',
                   10)::text
       END;
\\endif
};
}
close $fh;

my %done = (pauses => 0, cancelled => 0, samples => 0, over_cap => 0, slots_differ => 0);
my @unexpected;

# Run a control call; it may find the job ended meanwhile (the workers
# finish it), anything else is unexpected.  True when the call succeeded.
sub control
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', $sql);
	push @unexpected, $err if $rc != 0 && $err !~ /batch job \S+ is completed, not (processing|paused)/;
	return $rc == 0;
}

# In one snapshot, each job's items in flight, the slots holding one, and
# its concurrency: in flight never above the concurrency, and every item in
# flight holds a slot (a claim writes both in one transaction, an item's end
# frees its slot in the transaction that ends it).
sub sample_slots
{
	for my $line (split /\n/, $node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM train_data.batch_items i WHERE i.batch_job_id = j.id AND i.status = 'processing')
       || ' ' || (SELECT count(*) FROM train_data_internal.job_claim_slots s WHERE s.batch_job_id = j.id AND s.item_id IS NOT NULL)
       || ' ' || j.concurrent_processing
FROM train_data.batch_jobs j}))
	{
		my ($in_flight, $held, $cap) = split / /, $line;
		$done{samples}++;
		$done{over_cap}++ if $in_flight > $cap;
		$done{slots_differ}++ if $in_flight != $held;
	}
	return;
}

# Pause job A and resume it soon after; cancel job B once 1,000 of its items
# are completed.  Called every few seconds while the workers run.
sub disturb
{
	sample_slots();
	if (control("SELECT train_data.pause_batch('$job_a')"))
	{
		usleep(300_000);
		$done{pauses}++ if control("SELECT train_data.resume_batch('$job_a')");
	}
	if (!$done{cancelled}
		&& $node->safe_psql('postgres',
			"SELECT count(*) >= 1000 FROM train_data.batch_items WHERE batch_job_id = '$job_b' AND status = 'completed'")
		eq 't')
	{
		$done{cancelled} = control("SELECT train_data.cancel_batch('$job_b')");
	}
	return;
}

# Keep the errors a worker must not meet (pgbench stops a client on an error).
sub collect_errors
{
	my ($err) = @_;
	for my $line (split /\n/, $err)
	{
		next unless $line =~ /ERROR:/;
		next if $line =~ /batch item \S+ was cancelled|lease of batch item \S+ has expired/;
		push @unexpected, $line;
	}
	return;
}

my $remaining_sql = q{SELECT count(*) FROM train_data.batch_items WHERE status IN ('queued', 'processing')};
my $rounds  = 0;
my $started = time;
while ($node->safe_psql('postgres', $remaining_sql) > 0 && $rounds++ < 40)
{
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ 'pgbench', '-n', '-c', '8', '-j', '8', '-T', '30', '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres' ], '>', \$out, '2>', \$err);
	while ($h->pumpable)
	{
		$h->pump_nb;
		sleep 2;
		disturb() if $h->pumpable;
	}
	$h->finish;
	collect_errors($err);
	my ($tps) = $out =~ /tps = ([0-9.]+)/;
	note sprintf 'round %d: %s tps, %s items left, %.0f s', $rounds, $tps // '?',
		$node->safe_psql('postgres', $remaining_sql), time - $started;
	sleep 1;    # let retries come out of their backoff
}
my $seconds = sprintf '%.0f', time - $started;
note "drained in $rounds rounds of pgbench, $seconds s, $done{pauses} pauses";
note 'items by job and status: ', $node->safe_psql('postgres', q{
SELECT string_agg(j.name || ' ' || i.status || ' ' || i.n, ', ' ORDER BY j.name, i.status)
FROM (SELECT batch_job_id, status, count(*) AS n FROM train_data.batch_items GROUP BY 1, 2) i
JOIN train_data.batch_jobs j ON j.id = i.batch_job_id});

is($node->safe_psql('postgres', $remaining_sql), '0', "both batches drained ($rounds rounds, $seconds s)");
is(join("\n", @unexpected), '', 'workers met no error other than a cancelled item or an expired lease, control calls none but a job ended meanwhile');
cmp_ok($done{pauses}, '>=', 5, 'job A was paused and resumed at least 5 times');
cmp_ok($done{samples}, '>=', 10, 'the slots were sampled while the workers ran');
is($done{over_cap}, 0, 'no sample found more items of a job in flight than its concurrency');
is($done{slots_differ}, 0, 'in every sample each item in flight held a slot, and no slot held anything else');
is($node->safe_psql('postgres', 'SELECT count(*) FROM train_data_internal.job_claim_slots WHERE item_id IS NOT NULL'),
	'0', 'at the end no slot holds an item');
ok($done{cancelled}, 'job B was cancelled while its items were being worked');

is($node->safe_psql('postgres', q{
SELECT count(*) FROM train_data.batch_items
WHERE status NOT IN ('completed', 'failed', 'cancelled') OR finished_at IS NULL OR lease_expires_at IS NOT NULL}),
	'0', 'every item is in a final state, finished, with no lease');
is($node->safe_psql('postgres', qq{
SELECT string_agg(DISTINCT status::text, ',' ORDER BY status::text) FROM train_data.batch_items
WHERE batch_job_id = '$job_a'}),
	'completed,failed', 'job A: every item completed or failed (after its retries)');
is($node->safe_psql('postgres', qq{
SELECT count(*) FILTER (WHERE status = 'completed') >= 1000 AND count(*) FILTER (WHERE status = 'cancelled') > 0
FROM train_data.batch_items WHERE batch_job_id = '$job_b'}),
	't', 'job B: some items completed before the cancel, the rest cancelled');
is($node->safe_psql('postgres', q{
SELECT count(*) = count(DISTINCT conversation_id) AND count(*) = count(conversation_id)
FROM train_data.batch_items WHERE status = 'completed'}),
	't', 'every completed item has its own conversation');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM train_data.batch_items WHERE status <> 'completed' AND conversation_id IS NOT NULL}),
	'0', 'no item that did not complete has a conversation');
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
SELECT count(*) FILTER (WHERE status = 'success') = count(DISTINCT batch_item_id) FILTER (WHERE status = 'success')
   AND count(*) FILTER (WHERE status = 'success')
       = (SELECT count(*) FROM train_data.batch_items WHERE status = 'completed')
FROM train_data.generation_logs}),
	't', 'one success log per completed item');
cmp_ok($node->safe_psql('postgres', q{
SELECT count(*) FROM train_data.batch_items WHERE attempts > 1 AND status = 'completed'}),
	'>', 1000, 'items that failed were retried and completed');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM train_data.batch_items i
WHERE i.status = 'failed'
  AND (i.attempts <> i.max_attempts
       OR i.attempts <> (SELECT count(*) FROM train_data.generation_logs l
                         WHERE l.batch_item_id = i.id AND l.status = 'failed'))}),
	'0', 'a failed item used all its attempts, each one logged');
for my $job ($job_a, $job_b)
{
	is($node->safe_psql('postgres', counter_totals_sql($job)), $node->safe_psql('postgres', item_totals_sql($job)),
		"job $job: live counters equal the item statuses, nothing in flight");
	is($node->safe_psql('postgres', qq{
SELECT (j.completed_items || ' ' || j.failed_items || ' ' || j.cancelled_items)
     = (SELECT count(*) FILTER (WHERE status = 'completed') || ' ' || count(*) FILTER (WHERE status = 'failed')
               || ' ' || count(*) FILTER (WHERE status = 'cancelled')
        FROM train_data.batch_items i WHERE i.batch_job_id = j.id)
       AND j.completed_items + j.failed_items + j.cancelled_items = j.total_items
FROM train_data.batch_jobs j WHERE j.id = '$job'}),
		't', "job $job: the job's counters equal the item statuses and add up to its total");
}
is($node->safe_psql('postgres', q{
SELECT string_agg(name || ' ' || status || ' ' || (paused_at IS NULL), ', ' ORDER BY name)
FROM train_data.batch_jobs}),
	'load A completed true, load B cancelled true', 'A ended completed (not left paused), B cancelled');
cmp_ok($node->safe_psql('postgres', "SELECT extract(epoch FROM paused_time) FROM train_data.batch_jobs WHERE id = '$job_a'"),
	'>', 1, "A's paused time was set aside");
is($node->safe_psql('postgres', "SELECT train_data.calculate_batch_progress('$job_a')"),
	'100.00', 'progress of A is 100 %');

$node->stop;
done_testing();
