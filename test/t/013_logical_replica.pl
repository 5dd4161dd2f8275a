# 013_logical_replica.pl — a subscriber's worker sessions follow prices and
# configurations that logical replication writes: its apply worker fires
# ENABLE ALWAYS row triggers but no statement trigger (except TRUNCATE's),
# so the engine's copies (src/engine_cache.c) must be emptied by row
# triggers.  One long-lived session on the subscriber completes and claims
# items before and after the publisher changes a price and a configuration.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('logical');
$node->init(allows_streaming => 'logical');
$node->start;
$node->safe_psql('postgres', "CREATE DATABASE $_") for qw(pub sub);
$node->safe_psql($_, 'CREATE EXTENSION train_data') for qw(pub sub);

# Prices and configurations are published; the subscriber starts empty of
# both (no initial copy: the built-in prices are there already).
$node->safe_psql('pub', <<'SQL');
CREATE PUBLICATION settings FOR TABLE train_data.model_prices, train_data.ai_configurations;
SELECT pg_create_logical_replication_slot('settings', 'pgoutput');
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok) VALUES ('repl-model', 1, 2);
SQL
my $pub = $node->connstr . ' dbname=pub';
$node->safe_psql('sub',
	"CREATE SUBSCRIPTION settings CONNECTION '$pub' PUBLICATION settings "
	  . "WITH (create_slot = false, slot_name = 'settings', copy_data = false)");
$node->safe_psql('pub',
	"INSERT INTO train_data.ai_configurations (user_id, created_by, config_name, configuration) "
	  . "VALUES ('aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'fast', "
	  . "'{\"model\": \"claude-3-haiku-20240307\", \"temperature\": 0.2}')");
$node->wait_for_catchup('settings');

# Alice's batch of 4 items, on the subscriber.
$node->safe_psql('sub', <<'SQL');
INSERT INTO train_data.templates (id, name, category, structure, variables)
VALUES ('b0000000-0000-0000-0000-000000000001', 'saving', 'finance', 'Talk with {{persona}}.',
        '[{"name": "persona", "type": "text"}]');
INSERT INTO train_data.batch_jobs (id, name, total_items, concurrent_processing, created_by)
VALUES ('b4000000-0000-0000-0000-000000000001', 'replicated settings', 4, 4, 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa');
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters)
SELECT 'b4000000-0000-0000-0000-000000000001', 'b0000000-0000-0000-0000-000000000001', g, 'template',
       jsonb_build_object('persona', 'P' || g)
FROM generate_series(1, 4) g;
SQL

my $response = '{"type": "message", "model": "repl-model", "stop_reason": "end_turn", '
  . '"usage": {"input_tokens": 1000, "output_tokens": 2000}, "content": [{"type": "text", "text": '
  . '"{\"title\": \"Saving\", \"turns\": [{\"role\": \"user\", \"content\": \"How much?\"}, '
  . '{\"role\": \"assistant\", \"content\": \"A tenth.\"}]}"}]}';
my $claim = "SELECT request ->> 'temperature' FROM train_data.claim_batch_items('w', 1)";
my $complete =
    "SELECT train_data.complete_batch_item((SELECT i.id FROM train_data.batch_items i "
  . "WHERE i.status = 'processing' ORDER BY i.position LIMIT 1), '$response', 100) IS NOT NULL; "
  . "SELECT l.cost_usd FROM train_data.generation_logs l ORDER BY l.created_at DESC LIMIT 1";

my $worker = $node->background_psql('sub');
is($worker->query_safe($claim),    '0.2',      'the replicated configuration is used');
is($worker->query_safe($complete), "t\n0.005000", 'the replicated price is used');

$node->safe_psql('pub', <<'SQL');
UPDATE train_data.model_prices SET input_usd_per_mtok = 10 WHERE model_id = 'repl-model';
UPDATE train_data.ai_configurations SET configuration = configuration || '{"temperature": 0.1}';
SQL
$node->wait_for_catchup('settings');
is($node->safe_psql('sub', "SELECT (train_data.model_price('repl-model')).input_usd_per_mtok"),
	'10.0000', 'the new price is replicated');

is($worker->query_safe($claim),    '0.1',      'the next claim uses the replicated change');
is($worker->query_safe($complete), "t\n0.014000", 'the next completion uses the replicated price');
$worker->quit;

done_testing();
