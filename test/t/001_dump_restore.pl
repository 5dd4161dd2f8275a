# 001_dump_restore.pl — a database holding rows of two users survives
# pg_dump -Fc and pg_restore --exit-on-error into a new cluster: every row,
# every policy, every grant and row-level security itself come back, the
# built-in price rows are not duplicated, and the restored policies still
# isolate the two users.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $alice = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
my $bob   = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb';

# Rows of one user, written through that user's role and identity, so the
# owner defaults and the policies are exercised on the way in.
sub fill_user
{
	my ($node, $role, $user, $name) = @_;
	$node->safe_psql('app', qq{
SET ROLE $role;
SET train_data.user_id = '$user';
INSERT INTO train_data.templates (id, name, category, structure, variables)
VALUES (gen_random_uuid(), '$name template', 'finance', 'Talk about {{topic}} with \\\\ and "quotes"',
        '[{"name": "topic", "type": "text"}]');
INSERT INTO train_data.scenarios (name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc)
SELECT '$name scenario', id, name, 'context', 'topic', 'persona', 'arc' FROM train_data.templates WHERE name = '$name template';
INSERT INTO train_data.edge_cases (title, description, parent_scenario_id, parent_scenario_name, edge_case_type)
SELECT '$name edge', 'd', id, name, 'boundary_value' FROM train_data.scenarios WHERE name = '$name scenario';
INSERT INTO train_data.template_analytics (template_id, period_start, period_end, generation_count)
SELECT id, '2025-01-01', '2025-02-01', 3 FROM train_data.templates WHERE name = '$name template';
INSERT INTO train_data.conversations (title, persona, emotion, tier, category, quality_score, quality_metrics, review_history)
SELECT '$name conversation ' || g, 'Anxious Investor', 'worried', 'scenario', '{finance}', 7.5,
       '{"overall": 7.5}', '[{"action": "generated"}]'
FROM generate_series(1, 20) g;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, t, CASE WHEN t % 2 = 1 THEN 'user' ELSE 'assistant' END,
       E'turn ' || t || E' of ' || c.title || E'\\nwith a tab\\t, a backslash \\\\ and ünïcödé ✓'
FROM train_data.conversations c, generate_series(1, 4) t;
INSERT INTO train_data.batch_jobs (name, total_items) VALUES ('$name job', 3);
INSERT INTO train_data.batch_items (batch_job_id, position, tier, topic)
SELECT j.id, p, 'template', 'item ' || p
FROM train_data.batch_jobs j, generate_series(1, 3) p WHERE j.name = '$name job';
-- what a worker would have done (engine columns are not the user's to write)
RESET ROLE;
UPDATE train_data.batch_jobs SET completed_items = 1 WHERE name = '$name job';
UPDATE train_data.batch_items i SET status = 'completed' FROM train_data.batch_jobs j
WHERE j.id = i.batch_job_id AND j.name = '$name job' AND i.position = 1;
SET ROLE $role;
INSERT INTO train_data.generation_logs (conversation_id, request_payload, response_payload, input_tokens, output_tokens, cost_usd)
SELECT id, '{"model": "claude-sonnet"}', '{"id": "msg"}', 100, 200, 0.0033 FROM train_data.conversations;
INSERT INTO train_data.export_logs (format, config, conversation_count, file_size, status)
VALUES ('jsonl', '{"scope": "all"}', 20, 1234, 'completed');
INSERT INTO train_data.user_preferences (preferences) VALUES ('{"theme": "dark"}');
INSERT INTO train_data.ai_configurations (config_name, configuration) VALUES ('$name config', '{"model": "claude-sonnet"}');
-- a model known only through a user-added price row (restored after the configurations)
INSERT INTO train_data.ai_configurations (config_name, configuration) VALUES ('$name house', '{"model": "house-model-1"}');
INSERT INTO train_data.ai_configuration_audit (config_id, user_id, action, new_value)
SELECT id, user_id, 'INSERT', configuration FROM train_data.ai_configurations;
INSERT INTO train_data.configuration_audit_log (config_type, changed_field, new_value)
VALUES ('user_preference', 'theme', '"dark"');
});
	return;
}

# A digest of every table's rows, every policy, RLS flags, grants and the
# sequence, as one text per item.
sub snapshot
{
	my ($node) = @_;
	my %snap;
	my @tables = split /\n/, $node->safe_psql('app', q{
SELECT relname FROM pg_class
WHERE relnamespace = 'train_data'::regnamespace AND relkind = 'r' ORDER BY 1});
	for my $t (@tables)
	{
		# built-in price rows come from the script: their timestamps differ
		my $from = $t eq 'model_prices'
		  ? q{(SELECT model_id, input_usd_per_mtok, output_usd_per_mtok, builtin,
		             CASE WHEN NOT builtin THEN created_at END, CASE WHEN NOT builtin THEN updated_at END
		      FROM train_data.model_prices)}
		  : "train_data.$t";
		$snap{"rows $t"} = $node->safe_psql('app',
			"SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '-') FROM $from x");
	}
	$snap{policies} = $node->safe_psql('app', q{
SELECT string_agg(format('%s %s %s %s %s %s', tablename, policyname, permissive, cmd, qual, with_check), E'\n'
                  ORDER BY tablename, policyname)
FROM pg_policies WHERE schemaname = 'train_data'});
	$snap{rls} = $node->safe_psql('app', q{
SELECT string_agg(relname || ' ' || relrowsecurity || ' ' || coalesce(relacl::text, '-'), E'\n' ORDER BY relname)
FROM pg_class WHERE relnamespace = 'train_data'::regnamespace AND relkind IN ('r', 'S')});
	$snap{sequence} = $node->safe_psql('app',
		'SELECT last_value FROM train_data.conversation_number_seq');
	$snap{extension} = $node->safe_psql('app',
		"SELECT extversion FROM pg_extension WHERE extname = 'train_data'");
	return \%snap;
}

my $setup_roles = q{
CREATE ROLE regress_app NOLOGIN;
CREATE ROLE regress_alice LOGIN IN ROLE regress_app;
CREATE ROLE regress_bob LOGIN IN ROLE regress_app;
};

# Source: two users' rows, admin price rows.
my $source = PostgreSQL::Test::Cluster->new('source');
$source->init;
$source->start;
$source->safe_psql('postgres', $setup_roles . 'CREATE DATABASE app;');
$source->safe_psql('app', q{
CREATE EXTENSION train_data;
GRANT USAGE ON SCHEMA train_data TO regress_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA train_data TO regress_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA train_data TO regress_app;
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('claude-sonnet-4-5-20250929', 3, 15), ('house-model-1', 1, 2);
});
fill_user($source, 'regress_alice', $alice, 'alice');
fill_user($source, 'regress_bob', $bob, 'bob');
my $before = snapshot($source);
is($before->{'rows conversations'} =~ /^40 /, 1, 'source holds 40 conversations');

# Dump in custom format.
my $dump = "$PostgreSQL::Test::Utils::tmp_check/app.dump";
command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $source->connstr('app') ], 'pg_dump -Fc');

# Target: a new cluster with the same roles, restore with --exit-on-error.
my $target = PostgreSQL::Test::Cluster->new('target');
$target->init;
$target->start;
$target->safe_psql('postgres', $setup_roles . 'CREATE DATABASE app;');
command_ok([ 'pg_restore', '--exit-on-error', '-d', $target->connstr('app'), $dump ],
	'pg_restore --exit-on-error succeeds');

my $after = snapshot($target);
for my $key (sort keys %$before)
{
	is($after->{$key}, $before->{$key}, "restored: $key");
}
is($target->safe_psql('app', 'SELECT count(*) FROM train_data.model_prices WHERE builtin'),
	'8', 'built-in prices present once');

# The restored policies isolate the users.
my $seen = $target->safe_psql('app', qq{
SET ROLE regress_alice;
SET train_data.user_id = '$alice';
SELECT (SELECT count(*) FROM train_data.conversations) || ' ' ||
       (SELECT count(*) FROM train_data.conversation_turns) || ' ' ||
       (SELECT count(*) FROM train_data.batch_jobs) || ' ' ||
       (SELECT count(*) FROM train_data.export_logs) || ' ' ||
       (SELECT count(*) FROM train_data.templates);
});
is($seen, '20 80 1 1 2', 'alice sees her 20 conversations, 80 turns, 1 job, 1 export and both shared templates');
my ($rc, $out, $err) = $target->psql('app', qq{
SET ROLE regress_alice;
SET train_data.user_id = '$alice';
INSERT INTO train_data.batch_jobs (name, total_items, created_by) VALUES ('forged', 1, '$bob');
});
like($err, qr/new row violates row-level security policy for table "batch_jobs"/,
	'restored policy refuses a row forged for another user');

# New rows after the restore continue the conversation id sequence.
my $next = $target->safe_psql('app', qq{
SET train_data.user_id = '$alice';
INSERT INTO train_data.conversations (title, persona, emotion, tier)
VALUES ('after restore', 'Anxious Investor', 'calm', 'template') RETURNING conversation_id;
});
is($next, 'tpl_anxious_investor_000041', 'generated ids continue after the restore');

$source->stop;
$target->stop;
done_testing();
