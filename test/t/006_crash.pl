# 006_crash.pl — nothing is lost or counted twice when the server goes down
# while workers complete items.
#
# Two faults, each caught mid-completion for certain: a session holds an
# EXCLUSIVE lock on conversation_turns, so every completing worker has
# inserted its conversation row and waits to insert the turns when the fault
# strikes.
#   1. One completing backend is killed with SIGKILL (the postmaster then
#      resets every backend and recovers).
#   2. The server is stopped in "immediate" mode while 8 workers (pgbench)
#      complete items, and started again.
#   3. A transaction that wrote nothing but claims commits without waiting
#      for its WAL (claim_glue.c): the WAL writer is stopped (SIGSTOP) so
#      that nothing else writes that WAL, claims are made, and the WAL
#      writer is killed (the postmaster then recovers).  Claims of
#      transactions that wrote only claims are forgotten; the others
#      (a completion in the same statement, a row of the caller's) are kept.
#   4. Likewise, a claim that fails an item (a lease run out with no attempt
#      left) is kept: its transaction waits for the WAL.
# After each restart: no conversation without its turns, every completed item
# has exactly one conversation and one success log, the live counters equal
# the item statuses (in flight = processing), and the items that were in
# flight come back to the next worker once their lease ends and finish.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/lib";
use TrainDataChecks;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
# Parts 1 and 2 count on every claim made before the fault being kept:
# their claims wait for the WAL flush (part 3 shows what the default does).
$node->append_conf('postgresql.conf',
	"max_connections = 30\nrestart_after_crash = on\ntrain_data.durable_claims = on\n");
$node->start;

my $template = 'b0000000-0000-0000-0000-000000000001';
my $response = '{"turns": [{"role": "user", "content": "How much should I save?"}, '
  . '{"role": "assistant", "content": "Ten percent of what you earn."}]}';
$node->safe_psql('postgres', qq{
CREATE EXTENSION train_data;
INSERT INTO train_data.templates (id, name, category, structure, variables, created_by)
VALUES ('$template', 'crash', 'crash', 'Talk with {{persona}} about money.',
        '[{"name": "persona", "type": "text"}]', '11111111-1111-1111-1111-111111111111');
});

# Create a batch of $n items (at most $cap in flight); returns its id.
sub make_batch
{
	my ($id, $n, $cap) = @_;
	$node->safe_psql('postgres', qq{
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by)
VALUES ('$id', 'crash $id', $n, $cap, '11111111-1111-1111-1111-111111111111');
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters)
SELECT '$id', '$template', g, 'template', jsonb_build_object('persona', 'P' || g)
FROM generate_series(1, $n) g;
});
	return $id;
}

# Start psql in the background on one SQL string.
sub start_psql
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	return IPC::Run::start([ 'psql', '-X', '-q', '-At', '-d', $node->connstr('postgres'), '-c', $sql ],
		'>', \$out, '2>', \$err);
}

# Hold an EXCLUSIVE lock on conversation_turns in a background session, so
# completions block after inserting their conversation; wait until it is held.
sub block_turn_inserts
{
	my $h = start_psql('BEGIN; LOCK TABLE train_data.conversation_turns IN EXCLUSIVE MODE; SELECT pg_sleep(600);');
	$node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM pg_locks
WHERE relation = 'train_data.conversation_turns'::regclass AND mode = 'ExclusiveLock' AND granted})
	  or die 'the blocking lock was never taken';
	return $h;
}

# Wait until $n completions are stuck on the lock (mid-completion).
sub wait_blocked_completions
{
	my ($n) = @_;
	$node->poll_query_until('postgres', qq{
SELECT count(*) >= $n FROM pg_stat_activity
WHERE wait_event_type = 'Lock' AND query LIKE '%complete_batch_item%'})
	  or die "never saw $n blocked completions";
}

# Wait until the server accepts connections again after a crash.
sub wait_recovered
{
	$node->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
	  or die 'the server did not come back';
}

# The invariants that must hold for a batch at any moment after a restart.
sub check_invariants
{
	my ($job, $label) = @_;
	is($node->safe_psql('postgres', q{
SELECT count(*) FROM train_data.conversations c
WHERE c.turn_count = 0
   OR c.turn_count <> (SELECT count(*) FROM train_data.conversation_turns t WHERE t.conversation_id = c.id)}),
		'0', "$label: no conversation without its turns");
	is($node->safe_psql('postgres', qq{
SELECT count(*) || ' ' || count(DISTINCT i.conversation_id) || ' ' || count(c.id)
FROM train_data.batch_items i LEFT JOIN train_data.conversations c ON c.id = i.conversation_id
WHERE i.batch_job_id = '$job' AND i.status = 'completed'}),
		$node->safe_psql('postgres', qq{
SELECT (count(*) || ' ') || count(*) || ' ' || count(*) FROM train_data.batch_items
WHERE batch_job_id = '$job' AND status = 'completed'}),
		"$label: every completed item has exactly one conversation");
	is($node->safe_psql('postgres', q{
SELECT count(*) FROM train_data.conversations c
WHERE NOT EXISTS (SELECT 1 FROM train_data.batch_items i WHERE i.conversation_id = c.id)}),
		'0', "$label: no conversation without a completed item");
	is($node->safe_psql('postgres', qq{
SELECT count(*) || ' ' || count(DISTINCT l.batch_item_id) || ' ' || coalesce(bool_and(i.status = 'completed'), true)
FROM train_data.generation_logs l JOIN train_data.batch_items i ON i.id = l.batch_item_id
WHERE i.batch_job_id = '$job' AND l.status = 'success'}),
		$node->safe_psql('postgres', qq{
SELECT count(*) || ' ' || count(*) || ' true' FROM train_data.batch_items
WHERE batch_job_id = '$job' AND status = 'completed'}),
		"$label: one success log per completed item");
	is($node->safe_psql('postgres', counter_totals_sql($job)), $node->safe_psql('postgres', item_totals_sql($job)),
		"$label: counters (completed, failed, cancelled, in flight) equal the item statuses");
	return;
}

# ---- 1. SIGKILL of a backend mid-completion --------------------------------

my $job1 = make_batch('c0000000-0000-0000-0000-000000000001', 40, 10);
my $claimed = $node->safe_psql('postgres', q{
SELECT string_agg(item_id::text, ' ' ORDER BY position) FROM train_data.claim_batch_items('w1', 4, '3 seconds')});
my @claimed = split / /, $claimed;
is(scalar @claimed, 4, 'worker w1 claimed 4 items');

my $blocker = block_turn_inserts();
my @workers = map { start_psql("SELECT train_data.complete_batch_item('$_', '$response', 10)") } @claimed;
wait_blocked_completions(4);
my $victim = $node->safe_psql('postgres', q{
SELECT pid FROM pg_stat_activity
WHERE wait_event_type = 'Lock' AND query LIKE '%complete_batch_item%' LIMIT 1});
ok(kill('KILL', $victim), "SIGKILL sent to completing backend $victim");
$_->finish for ($blocker, @workers);    # all of them are reset by the postmaster
wait_recovered();
ok($node->log_contains(qr/terminated by signal 9/), 'the server saw the backend die and recovered');

is($node->safe_psql('postgres', 'SELECT count(*) FROM train_data.conversations'), '0',
	'no conversation of the interrupted completions survived');
is($node->safe_psql('postgres', qq{
SELECT string_agg(id::text, ' ' ORDER BY position) || ' ' || bool_and(status = 'processing' AND attempts = 1)
FROM train_data.batch_items WHERE batch_job_id = '$job1' AND status <> 'queued'}),
	"$claimed true", 'the 4 items are still in flight, on their first attempt');
check_invariants($job1, 'after SIGKILL');

# The leases end; the next worker gets the same items back and finishes them.
sleep 4;
my $reclaimed = $node->safe_psql('postgres', q{
SELECT string_agg(item_id::text, ' ' ORDER BY position) || ' ' || bool_and(attempt = 2)
FROM train_data.claim_batch_items('w2', 4)});
is($reclaimed, "$claimed true", 'after the lease, worker w2 reclaims exactly those items (attempt 2)');
$node->safe_psql('postgres', qq{
SELECT train_data.complete_batch_item(id, '$response', 10) FROM train_data.batch_items
WHERE batch_job_id = '$job1' AND status = 'processing'});
my ($ret, $out, $err) = $node->psql('postgres', qq{SELECT train_data.complete_batch_item('$claimed[0]', '$response', 10)});
like($err, qr/batch item $claimed[0] is completed, not processing/, 'a second completion of an item is refused');
# drain the rest of the batch
$node->safe_psql('postgres', qq{
SELECT train_data.complete_batch_item(c.item_id, '$response', 10) FROM train_data.claim_batch_items('w3', 10) c})
  for 1 .. 4;
is($node->safe_psql('postgres', qq{
SELECT status || ' ' || completed_items FROM train_data.batch_jobs WHERE id = '$job1'}),
	'completed 40', 'the batch completes with 40 items');
check_invariants($job1, 'after SIGKILL, drained');

# ---- 2. immediate stop while 8 workers complete items ----------------------

my $job2 = make_batch('c0000000-0000-0000-0000-000000000002', 3000, 10);
# (10 attempts an item: the workers' leases are 3 seconds, and on a loaded
# machine an item cut off by the stop lost two more of them and was failed
# for good by a claim, as designed: 2999 completed, 1 failed, in a CI run)
$node->safe_psql('postgres', qq{UPDATE train_data.batch_items SET max_attempts = 10 WHERE batch_job_id = '$job2'});
my $script = "$PostgreSQL::Test::Utils::tmp_check/crash_worker.sql";
open(my $fh, '>', $script) or die $!;
# As a real worker does: claim (one transaction), call the model (a sleep),
# complete what it holds (another transaction).
print $fh qq{SELECT count(*) FROM train_data.claim_batch_items('w' || :client_id, 1, '3 seconds');
\\sleep 2 ms
SELECT train_data.complete_batch_item(i.id, '$response', 10) FROM train_data.batch_items i
WHERE i.worker = 'w' || :client_id AND i.status = 'processing';
};
close $fh;

# Run 8 pgbench clients; returns the harness (pgbench exits on errors).
sub start_pgbench
{
	my ($args) = @_;
	my ($o, $e) = ('', '');
	return IPC::Run::start([ 'pgbench', '-n', '-c', '8', '-j', '8', @$args, '-f', $script,
		'-h', $node->host, '-p', $node->port, 'postgres' ], '>', \$o, '2>', \$e);
}

my $bench = start_pgbench([ '-T', '120' ]);
$node->poll_query_until('postgres', qq{
SELECT count(*) >= 300 FROM train_data.batch_items WHERE batch_job_id = '$job2' AND status = 'completed'})
  or die 'the workers made no progress';
$blocker = block_turn_inserts();
wait_blocked_completions(8);
my $before = $node->safe_psql('postgres', qq{
SELECT count(*) FROM train_data.batch_items WHERE batch_job_id = '$job2' AND status = 'completed'});
$node->stop('immediate');
$bench->finish;
$blocker->finish;
$node->start;

is($node->safe_psql('postgres', qq{
SELECT count(*) FROM train_data.batch_items WHERE batch_job_id = '$job2' AND status = 'completed'}),
	$before, "the $before completions committed before the stop are all there");
cmp_ok($node->safe_psql('postgres', qq{
SELECT count(*) FROM train_data.batch_items WHERE batch_job_id = '$job2' AND status = 'processing'}),
	'>=', 8, 'the completions cut off by the stop left their items in flight');
check_invariants($job2, 'after immediate stop');

# After the leases, the workers drain the batch; every cut-off item finishes.
my @cut_off = split /\n/, $node->safe_psql('postgres', qq{
SELECT id FROM train_data.batch_items WHERE batch_job_id = '$job2' AND status = 'processing'});
sleep 4;
my $rounds = 0;
while ($node->safe_psql('postgres', qq{
SELECT count(*) FROM train_data.batch_items WHERE batch_job_id = '$job2' AND status IN ('queued', 'processing')})
	> 0 && $rounds++ < 20)
{
	start_pgbench([ '-t', '500' ])->finish;
}
is($node->safe_psql('postgres', qq{
SELECT status || ' ' || completed_items || ' ' || failed_items FROM train_data.batch_jobs WHERE id = '$job2'}),
	'completed 3000 0', "the batch completes with 3000 items after $rounds rounds");
is($node->safe_psql('postgres', qq{
SELECT count(*) FILTER (WHERE status = 'completed' AND attempts >= 2) || ' of ' || count(*)
FROM train_data.batch_items WHERE id IN ('} . join("', '", @cut_off) . q{')}),
	scalar(@cut_off) . ' of ' . scalar(@cut_off), 'every item cut off by the stop was reclaimed and completed');
check_invariants($job2, 'after immediate stop, drained');

# ---- 3. claims forgotten by a crash ------------------------------------------

# Nothing else may write the WAL meanwhile: no background writer, no autovacuum.
$node->append_conf('postgresql.conf', "bgwriter_lru_maxpages = 0\nautovacuum = off\ntrain_data.durable_claims = off\n");
$node->restart;
my $job3 = make_batch('c0000000-0000-0000-0000-000000000003', 5, 10);
$node->safe_psql('postgres', 'CREATE TABLE public.marks (n integer); CHECKPOINT');
my $walwriter = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'});
ok(kill('STOP', $walwriter), "WAL writer $walwriter stopped");
# Transactions that write more than claims wait for their WAL, as before:
# a claim and the completion of its item in one statement (item 1), a claim
# after a row of the caller's own (item 2); and a claim alone when the
# session asks for durable claims (item 3).
$node->safe_psql('postgres', qq{
SELECT train_data.complete_batch_item(item_id, '$response', 10, attempt)
FROM train_data.claim_batch_items('with-completion', 1)});
$node->safe_psql('postgres', q{
BEGIN;
INSERT INTO public.marks VALUES (1);
SELECT count(*) FROM train_data.claim_batch_items('after-a-write', 1);
COMMIT;});
$node->safe_psql('postgres', q{
SET train_data.durable_claims = on;
SELECT count(*) FROM train_data.claim_batch_items('durable', 1);});
# Transactions of claims only do not: alone (item 4), in a block (item 5).
my $lost = $node->safe_psql('postgres', q{
SELECT item_id || ' ' || attempt FROM train_data.claim_batch_items('alone', 1)});
my ($lost_item) = split / /, $lost;
$node->safe_psql('postgres', q{
BEGIN;
SELECT count(*) FROM train_data.claim_batch_items('in-a-block', 1);
COMMIT;});
is($node->safe_psql('postgres', qq{
SELECT string_agg(position || ' ' || worker || ' ' || status, ', ' ORDER BY position)
FROM train_data.batch_items WHERE batch_job_id = '$job3'}),
	'1 with-completion completed, 2 after-a-write processing, 3 durable processing, 4 alone processing, '
	  . '5 in-a-block processing',
	'every claim is seen by other sessions at once');
ok(kill('KILL', $walwriter), 'WAL writer killed');
wait_recovered();
is($node->safe_psql('postgres', qq{
SELECT string_agg(position || ' ' || coalesce(worker, '-') || ' ' || status || ' ' || attempts
                  || ' ' || (lease_expires_at IS NULL)::int, ', ' ORDER BY position)
FROM train_data.batch_items WHERE batch_job_id = '$job3'}),
	'1 with-completion completed 1 1, 2 after-a-write processing 1 0, 3 durable processing 1 0, '
	  . '4 - queued 0 1, 5 - queued 0 1',
	'the claims of transactions that wrote more are kept; the claims-only ones are forgotten, their items queued as before');
is($node->safe_psql('postgres', 'SELECT count(*) FROM public.marks'), '1', "the caller's own row is kept");
is($node->safe_psql('postgres', qq{
SELECT count(item_id) FROM train_data_internal.job_claim_slots WHERE batch_job_id = '$job3'}),
	'2', 'two slots held: the kept claims\'');
check_invariants($job3, 'after forgotten claims');
($ret, $out, $err) = $node->psql('postgres', qq{SELECT train_data.complete_batch_item('$lost_item', '$response', 10, 1)});
like($err, qr/batch item $lost_item has had no attempt 1: its current attempt is 0/,
	'the completion of a forgotten claim is refused');
my $forgotten = $node->safe_psql('postgres', qq{
SELECT string_agg(id || ' 1', ', ' ORDER BY position) FROM train_data.batch_items
WHERE batch_job_id = '$job3' AND status = 'queued'});
is($node->safe_psql('postgres', q{
SELECT string_agg(item_id || ' ' || attempt, ', ' ORDER BY position) FROM train_data.claim_batch_items('again', 5)}),
	$forgotten, 'the next claim takes the forgotten items, as the same attempt');
$node->safe_psql('postgres', qq{
SELECT train_data.complete_batch_item(id, '$response', 10) FROM train_data.batch_items
WHERE batch_job_id = '$job3' AND status = 'processing'});
is($node->safe_psql('postgres', qq{
SELECT status || ' ' || completed_items FROM train_data.batch_jobs WHERE id = '$job3'}),
	'completed 5', 'the batch completes');
check_invariants($job3, 'after forgotten claims, drained');

# ---- 4. a claim that ends an item waits for the disk ---------------------------

# A claim that fails an item whose lease ran out with no attempt left (or one
# whose prompt cannot be rendered, or cancels one whose job has ended) ends
# it and may end its job, and tells the job's listeners: its transaction
# waits like a completion's, so a crash keeps what the listeners were told.
my $job4 = make_batch('c0000000-0000-0000-0000-000000000004', 1, 10);
$node->safe_psql('postgres', qq{
UPDATE train_data.batch_items SET max_attempts = 1 WHERE batch_job_id = '$job4';
SET train_data.durable_claims = on;
SELECT count(*) FROM train_data.claim_batch_items('lost', 1, '1 second');});
sleep 2;
$node->safe_psql('postgres', 'CHECKPOINT');
$walwriter = $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'});
ok(kill('STOP', $walwriter), "WAL writer $walwriter stopped");
is($node->safe_psql('postgres', q{SELECT count(*) FROM train_data.claim_batch_items('reaper', 1)}),
	'0', 'the claim finds only the lease that ran out');
ok(kill('KILL', $walwriter), 'WAL writer killed');
wait_recovered();
is($node->safe_psql('postgres', qq{
SELECT i.status || ' ' || coalesce(i.error_code, '-') || ' ' || j.status FROM train_data.batch_items i
JOIN train_data.batch_jobs j ON j.id = i.batch_job_id WHERE j.id = '$job4'}),
	'failed lease_expired failed', 'the item the claim failed, and its job, are kept');
check_invariants($job4, 'after a claim that failed an item');

$node->stop;
done_testing();
