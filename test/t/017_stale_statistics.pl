# 017_stale_statistics.pl — the extension's own queries stay linear when
# the planner's statistics do not know the caller's rows.
#
# Row-level security narrows every query to the caller's rows
# (created_by = the current user, a parameter), and the planner estimates
# those as the average user's: the table's rows over its distinct owners,
# from the last ANALYZE.  A user far above the average (a big team among
# many small ones), or one who was not there at the last ANALYZE (a bulk
# load not analyzed yet), has her rows estimated at one or two.  With such
# estimates two of the extension's queries were planned as nested loops
# that read all of her rows again for each row: the verdicts the turns'
# triggers judge again (2,000 conversations' turns in one statement
# compared 4 million pairs, and computed the verdicts 4 million times; the
# suite under valgrind stalled there for 40 minutes in CI), and
# near_duplicates (5,000 conversations: 42 s instead of 0.35 s).  The
# export's dedupe and conversation_versions are measured beside them.
#
# The measure is the plans' own count, from auto_explain (JSON, with
# ANALYZE, of the nested statements too): the rows nested loops read and
# dropped for not matching their join condition, summed over the plans of
# a call.  It is a count of work, not a time: for each call here it must
# stay below the number of conversations.  (Only plans that ran 5 ms or
# more are shown: the rescoring's quadratic plan ran a function 4 million
# times, whose plans alone made 7.6 GB; one that drops millions of rows
# takes far longer.  A call stopped after 120 s fails.)
use strict;
use warnings;

use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib "$FindBin::RealBin/lib";
use TrainDataChecks;

my $n     = 2000;    # the caller's conversations
my $chain = 300;     # of which a regeneration chain this long
my $alice = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';

my $node = PostgreSQL::Test::Cluster->new('stale');
$node->init;
$node->append_conf('postgresql.conf', "autovacuum = off\n");
$node->start;
$node->safe_psql('postgres', app_and_worker_roles_sql());

# Other users' conversations, analyzed: 4,000 users of one each, and two
# of Alice's; the statistics estimate a user's rows at about one.
$node->safe_psql('postgres', qq{
INSERT INTO train_data.conversations (title, persona, emotion, tier, status, created_by)
SELECT 'other ' || g, 'P', 'calm', 'template', 'generated',
       ('cccccccc-cccc-cccc-cccc-' || lpad((g % 1333)::text, 12, '0'))::uuid
FROM generate_series(1, 4000) g;
INSERT INTO train_data.conversations (title, persona, emotion, tier, status, created_by)
SELECT 'early ' || g, 'P', 'calm', 'template', 'generated', '$alice' FROM generate_series(1, 2) g;
ANALYZE;
});

# Alice's conversations, loaded after: a chain of versions (each the
# regeneration of the one before), then the others (their turns, in groups
# that nearly repeat each other's text, are the first call measured); and
# a template of hers.
$node->safe_psql('postgres', qq{
SET ROLE app;
SET train_data.user_id = '$alice';
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, parent_id, parent_type)
SELECT ('d0000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'n ' || g, 'P', 'calm', 'template', 'generated',
       CASE WHEN g BETWEEN 2 AND $chain THEN ('d0000000-0000-0000-0000-' || lpad((g - 1)::text, 12, '0'))::uuid END,
       CASE WHEN g BETWEEN 2 AND $chain THEN 'conversation' END
FROM generate_series(1, $n) g;
INSERT INTO train_data.templates (id, name, category, structure, variables)
VALUES ('b0000000-0000-0000-0000-000000000001', 'many', 'finance', 'Talk with {{persona}} about money.',
        '[{"name": "persona", "type": "text"}]');
});

# The rows nested loops dropped for their join condition, over every plan
# auto_explain showed for one statement run as Alice; and how many plans.
sub join_filter_rows
{
	my ($sql) = @_;
	my ($rc, $out, $err) = $node->psql('postgres', qq{
LOAD 'auto_explain';
SET auto_explain.log_min_duration = '5ms';
SET statement_timeout = '120s';
SET auto_explain.log_analyze = on;
SET auto_explain.log_timing = off;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_format = json;
SET auto_explain.log_level = notice;
SET ROLE app;
SET train_data.user_id = '$alice';
$sql;
});
	is($rc, 0, "ran: $sql") or diag($err);
	my ($rows, $plans) = (0, 0);
	while ($err =~ /plan:\n(\{\n.*?\n\})/sg)
	{
		$plans++;
		$rows += nested_loop_rows(decode_json($1)->{'Plan'});
	}
	return ($rows, $plans);
}

# The join filter's dropped rows of the nested loops of a plan tree (per
# loop in EXPLAIN: times the loops).
sub nested_loop_rows
{
	my ($plan) = @_;
	my $rows = 0;
	if ($plan->{'Node Type'} eq 'Nested Loop')
	{
		$rows += ($plan->{'Rows Removed by Join Filter'} // 0) * ($plan->{'Actual Loops'} // 1);
	}
	$rows += nested_loop_rows($_) for @{ $plan->{'Plans'} // [] };
	return $rows;
}

my @calls = (
	[   'the turns of every conversation in one statement (signatures, verdicts judged again)',
		qq{INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, t, CASE WHEN t % 2 = 1 THEN 'user' ELSE 'assistant' END,
       'Putting a little aside every month adds up ' || md5(((hashtext(c.title) & 255))::text || t)
       || ' start small, she said, saving for the long run ' || md5((hashtext(c.title) & 1023)::text)
FROM train_data.conversations c, generate_series(1, 4) t WHERE c.title LIKE 'n %'}
	],
	[   'every first turn edited in one statement',
		q{UPDATE train_data.conversation_turns SET content = content || ' Really.' WHERE turn_number = 1}
	],
	[ 'near_duplicates(0.5)', q{SELECT count(*) FROM train_data.near_duplicates(0.5)} ],
	[   'near_duplicates(0.5, among half of them)',
		q{SELECT count(*) FROM train_data.near_duplicates(0.5,
    ARRAY(SELECT c.id FROM train_data.conversations c WHERE c.title LIKE 'n 1%'))}
	],
	[   'export_jsonl with dedupe',
		q{SELECT count(*) FROM train_data.export_jsonl('original', 'all', NULL, NULL, '{"dedupe": 0.5}')}
	],
	[   'conversation_versions from the tip of the chain',
		qq{SELECT count(*) FROM train_data.conversation_versions('d0000000-0000-0000-0000-${\ sprintf('%012d', $chain)}')}
	],
	[   'conversation_versions from the root of the chain',
		q{SELECT count(*) FROM train_data.conversation_versions('d0000000-0000-0000-0000-000000000001')}
	],
	[ 'export_jsonl', q{SELECT count(*) FROM train_data.export_jsonl('original', 'all')} ],
	[ 'export_conversations, logged', q{SELECT count(*) FROM train_data.export_conversations('jsonl', 'all')} ],
	[ 'dataset_report', q{SELECT train_data.dataset_report() IS NOT NULL} ],
	[ 'conversation_statistics', q{SELECT train_data.conversation_statistics() IS NOT NULL} ],
	[ 'review_queue', q{SELECT count(*) FROM train_data.review_queue(1, 100)} ],
	[ 'review_queue_statistics', q{SELECT count(*) FROM train_data.review_queue_statistics()} ],
	[   'create_batch of 2,000 items',
		q{SELECT train_data.create_batch('many', (SELECT jsonb_agg(jsonb_build_object(
    'template_id', 'b0000000-0000-0000-0000-000000000001', 'parameters', jsonb_build_object('persona', 'P' || g)))
    FROM generate_series(1, 2000) g)) IS NOT NULL}
	],
	[   'batch_progress, calculate_batch_progress, estimate_time_remaining',
		q{SELECT count(*) FROM train_data.batch_jobs j, train_data.batch_progress(j.id) p,
    train_data.calculate_batch_progress(j.id) c, train_data.estimate_time_remaining(j.id) e}
	],
	[ 'cancel_batch', q{SELECT count(*) FROM train_data.batch_jobs j, train_data.cancel_batch(j.id) p} ],
	[   'bulk_review_conversations of every conversation',
		q{SELECT count(*) FROM train_data.bulk_review_conversations(
    ARRAY(SELECT c.id FROM train_data.conversations c WHERE c.title LIKE 'n %'), 'rejected')}
	],);

# (a call that took under 5 ms shows no plan; the heavy ones show theirs)
my $shown = 0;
for my $call (@calls)
{
	my ($what, $sql) = @$call;
	my ($rows, $plans) = join_filter_rows($sql);
	$shown += $plans;
	cmp_ok($rows, '<', $n, "$what: nested loops dropped $rows rows for their join condition (fewer than the $n conversations)");
}
cmp_ok($shown, '>=', 20, "auto_explain showed the plans of the calls ($shown)");

# The calls found what they should, with the statistics as they are.
is( $node->safe_psql('postgres', qq{
SET ROLE app; SET train_data.user_id = '$alice';
SELECT (SELECT count(*) FROM train_data.conversation_versions('d0000000-0000-0000-0000-000000000002'))
       || ' ' || (SELECT count(*) FROM train_data.conversation_signatures)
       || ' ' || (SELECT count(*) FROM train_data.conversations WHERE title LIKE 'n %' AND quality_metrics ? 'defects')}),
	"$chain $n $n",
	'the chain has all its versions; every conversation is signed and judged');

# Then 8,000 more users of one conversation each, analyzed: a user's rows
# are estimated at about two, Alice's too (a parameter's estimate is the
# average user's, whatever the most common values say).  Her next 2,000
# conversations and their turns: the verdicts are judged again in one pass
# (this was the plan that read every conversation of hers again for each).
$node->safe_psql('postgres', qq{
INSERT INTO train_data.conversations (title, persona, emotion, tier, status, created_by)
SELECT 'single ' || g, 'P', 'calm', 'template', 'generated',
       ('eeeeeeee-eeee-eeee-eeee-' || lpad(g::text, 12, '0'))::uuid
FROM generate_series(1, 8000) g;
ANALYZE;
SET ROLE app;
SET train_data.user_id = '$alice';
INSERT INTO train_data.conversations (title, persona, emotion, tier, status)
SELECT 'm ' || g, 'P', 'calm', 'template', 'generated' FROM generate_series(1, $n) g;
});
for my $call (
	[   'the turns of 2,000 more conversations in one statement',
		q{INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, t, CASE WHEN t % 2 = 1 THEN 'user' ELSE 'assistant' END, 'Turn ' || t || ' of ' || c.title
FROM train_data.conversations c, generate_series(1, 4) t WHERE c.title LIKE 'm %'}
	],
	[   'their last turns edited in one statement',
		q{UPDATE train_data.conversation_turns t SET content = t.content || ' Done.'
FROM train_data.conversations c WHERE c.id = t.conversation_id AND c.title LIKE 'm %' AND t.turn_number = 4}
	],)
{
	my ($what, $sql) = @$call;
	my ($rows, $plans) = join_filter_rows($sql);
	cmp_ok($plans, '>', 0, "$what: its plans were shown");
	cmp_ok($rows, '<', $n, "$what: nested loops dropped $rows rows for their join condition (fewer than the $n conversations)");
}
is( $node->safe_psql('postgres', qq{
SET ROLE app; SET train_data.user_id = '$alice';
SELECT count(*) FILTER (WHERE quality_metrics -> 'defects' IS NOT NULL) || ' ' || count(*) FILTER (WHERE turn_count = 4)
FROM train_data.conversations WHERE title LIKE 'm %'}),
	"$n $n",
	'each of them judged, its turn count following its four turns');

$node->stop;
done_testing();
