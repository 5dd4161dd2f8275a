# 005_replica.pl — a streaming hot standby answers the read-only functions
# (progress, time remaining, batch_progress, the review queue and its
# statistics, export_jsonl and validate_export) with the same results as the
# primary: they write nothing, so they run on a replica, and they read the
# same rows there.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', 'CREATE DATABASE app');

# A batch of 6 items, 3 of them completed by a worker (their conversations
# await review, one is approved), on the primary.
my $response = '{"type": "message", "model": "claude-sonnet-4-5-20250929", "stop_reason": "end_turn", '
  . '"usage": {"input_tokens": 1000, "output_tokens": 2000}, "content": [{"type": "text", "text": '
  . '"{\"title\": \"Saving early\", \"turns\": [{\"role\": \"user\", \"content\": \"Should I save \\\\\"now\\\\\"?\"}, '
  . '{\"role\": \"assistant\", \"content\": \"Yes: time is your best friend.\\\\n年金 😀\"}]}"}]}';
$primary->safe_psql('app', <<"SQL");
CREATE EXTENSION train_data;
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.templates (id, name, category, structure, variables)
VALUES ('b0000000-0000-0000-0000-000000000001', 'saving', 'finance', 'Talk with {{persona}}.',
        '[{"name": "persona", "type": "text"}]');
SELECT train_data.create_batch('replica batch',
    (SELECT jsonb_agg(jsonb_build_object('template_id', 'b0000000-0000-0000-0000-000000000001',
                                         'parameters', jsonb_build_object('persona', 'P' || g)))
     FROM generate_series(1, 6) g));
SELECT train_data.complete_batch_item(c.item_id, '$response', 1000)
FROM train_data.claim_batch_items('w1', 3) c;
UPDATE train_data.conversations SET status = 'pending_review' WHERE status IN ('generated', 'needs_revision');
SELECT train_data.review_conversation(id, 'approved', 'fine')
FROM train_data.conversations ORDER BY created_at LIMIT 1;
SQL

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('app', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery (read only)');

# Each read-only function, with its results as text; the time-dependent
# estimate is taken at a fixed moment through its elapsed time.
my %reads = (
	'calculate_batch_progress' =>
	  'SELECT train_data.calculate_batch_progress(id) FROM train_data.batch_jobs',
	'estimate_time_remaining' =>
	  'SELECT train_data.estimate_time_remaining(id) IS NOT NULL FROM train_data.batch_jobs',
	'batch_progress' =>
	  'SELECT status, total_items, queued_items, processing_items, completed_items, failed_items, '
	  . 'cancelled_items, percent, estimated_time_remaining IS NOT NULL FROM train_data.batch_progress('
	  . '(SELECT id FROM train_data.batch_jobs))',
	'review_queue' =>
	  'SELECT id, status, quality_score FROM train_data.review_queue() ORDER BY id',
	'review_queue_statistics' => 'SELECT * FROM train_data.review_queue_statistics()',
	'export_jsonl' =>
	  "SELECT train_data.export_jsonl('openai', 'filtered', NULL, '{\"status\": [\"approved\", \"pending_review\", \"needs_revision\"]}')",
	'validate_export' => 'SELECT * FROM train_data.validate_export()',);
for my $name (sort keys %reads)
{
	my $sql = "SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'; $reads{$name}";
	my $on_primary = $primary->safe_psql('app', $sql);
	my ($ret, $on_standby, $err) = $standby->psql('app', $sql);
	is($ret, 0, "$name runs on the standby") or diag($err);
	is($on_standby, $on_primary, "$name: the standby answers as the primary");
	isnt($on_primary, '', "$name: the answer is not empty");
}

# A writing function is refused there, as any write is.
my ($ret, $out, $err) = $standby->psql('app',
	"SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'; SELECT train_data.export_conversations('jsonl')");
like($err, qr/read-only transaction/, 'the logged export_conversations is refused on the standby');

done_testing();
