# 004_upgrade.pl — the upgrade paths: databases created at version 1.0 and
# at 1.1 and holding data are moved with ALTER EXTENSION train_data UPDATE;
# their data is all there, and their functions, tables, constraints, indexes,
# triggers, policies, privileges, descriptions and dump configuration equal
# those of a fresh CREATE EXTENSION at the default version, which runs the
# full script built from sql/src (a different path from either update).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;
$node->safe_psql('postgres', "CREATE DATABASE $_") for qw(from10 from11 fresh);

# Version 1.0 with data in every kind of table: a template, a batch with its
# items and counters, conversations with turns and review history, a log, a
# configuration, an export log.
my $data = <<'SQL';
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.templates (id, name, category, structure, variables)
VALUES ('b0000000-0000-0000-0000-000000000001', 'saving', 'finance', 'Talk with {{persona}}.',
        '[{"name": "persona", "type": "text"}]');
SELECT train_data.create_batch('upgrade batch',
    '[{"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ann"}},
      {"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Bo"}}]');
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, quality_score)
VALUES ('c0000000-0000-0000-0000-000000000001', 'Ann saves', 'Ann', 'calm', 'template', 'pending_review', 8.0);
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('c0000000-0000-0000-0000-000000000001', 1, 'user', 'How much?'),
       ('c0000000-0000-0000-0000-000000000001', 2, 'assistant', 'Ten percent.');
SELECT train_data.review_conversation('c0000000-0000-0000-0000-000000000001', 'approved', 'good');
SELECT count(*) FROM train_data.export_conversations('jsonl');
SQL
$node->safe_psql('from10', "CREATE EXTENSION train_data VERSION '1.0';\n$data");
$node->safe_psql('from11', "CREATE EXTENSION train_data VERSION '1.1';\n$data");
# and in 1.1, an item in flight across the update: its claim counted it in
# a counter shard of 0-15, which 1.1's engine wrote and 1.2's users write
$node->safe_psql('from11', "SELECT count(*) FROM train_data.claim_batch_items('before the update', 1)");

# Rows per table of the extension, one line each.
my $counts = <<'SQL';
SELECT string_agg(c.relname || ' ' ||
                  (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', c.oid::regclass),
                                                       false, true, '')))[1]::text, E'\n' ORDER BY c.relname)
FROM pg_class c JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
WHERE c.relkind = 'r' AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'train_data')
SQL
my %before = map { $_ => $node->safe_psql($_, $counts) } qw(from10 from11);
like($before{from10}, qr/^conversations 1$/m, 'version 1.0 holds data');
like($before{from11}, qr/^conversations 1$/m, 'version 1.1 holds data');

# A database not yet updated reads a response's tokens as its version did,
# though the library is 1.2's (a review of 1.2: 1.1's completions logged
# the prompt cache's tokens as input tokens at the full price), and the
# update brings 1.2's reading.
my $cached = <<'SQL';
SELECT r - 'turns' - 'title' FROM train_data.parse_generation_response('{"type": "message", "stop_reason": "end_turn",
    "usage": {"input_tokens": 50, "cache_read_input_tokens": 900, "cache_creation_input_tokens": 100, "output_tokens": 20},
    "content": [{"type": "text", "text": "user: hi\nassistant: hello"}]}') r
SQL
my $as_1_1 = '{"model": null, "stop_reason": "end_turn", "input_tokens": 50, "output_tokens": 20}';
is($node->safe_psql($_, $cached), $as_1_1, "$_: the response's own input tokens, no cache counts, before the update")
  for qw(from10 from11);

$node->safe_psql('fresh', 'CREATE EXTENSION train_data');
my $version = "SELECT extversion FROM pg_extension WHERE extname = 'train_data'";
is($node->safe_psql('fresh', $version), '1.2', 'a fresh install gets the default version');
for my $db (qw(from10 from11))
{
	$node->safe_psql($db, 'ALTER EXTENSION train_data UPDATE');
	is($node->safe_psql($db, $version), '1.2', "$db: the update reaches the version a fresh install gets");
	# tables the update adds (job_claim_locks, job_claim_slots) are new; every
	# other table keeps its rows, and model_prices gains 1.2's five built-in
	# rows of older Claude generations
	my %old_table = map { (split / /)[0] => 1 } split /\n/, $before{$db};
	(my $kept = $before{$db}) =~ s/^model_prices 3$/model_prices 8/m;
	is(join("\n", grep { $old_table{(split / /)[0]} } split /\n/, $node->safe_psql($db, $counts)),
		$kept, "$db: every row is still there");
	is($node->safe_psql($db, $cached),
		'{"model": null, "stop_reason": "end_turn", "input_tokens": 1050, "output_tokens": 20, "cache_read_tokens": 900, "cache_write_tokens": 100}',
		"$db: after the update, every input token and the cache's counts");
	is($node->safe_psql($db, <<'SQL'), 'approved|2|t', "$db: and reads back through the functions");
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
SELECT c.status, (SELECT count(*) FROM train_data.conversation_turns), (SELECT count(*) FROM train_data.export_jsonl()) = 1
FROM train_data.conversations c
SQL
}

# The item claimed in 1.1 holds a claim slot of its job after the update
# (of the job's ten), so the job's concurrency counts it.
is($node->safe_psql('from11', <<'SQL'), "1|10|t", 'from11: the item in flight holds a slot of its job after the update');
SELECT count(*) FILTER (WHERE s.item_id IS NOT NULL), count(*),
       bool_and(s.item_id IS NULL OR s.item_id = (SELECT i.id FROM train_data.batch_items i WHERE i.status = 'processing'))
FROM train_data_internal.job_claim_slots s;
SQL

# The item claimed in 1.1 completes in 1.2: its completion counts in an
# engine shard (16-31), and the job's sums span both kinds of shard.
my $response = '{"type": "message", "model": "claude-sonnet-4-5-20250929", "stop_reason": "end_turn", '
  . '"usage": {"input_tokens": 10, "output_tokens": 20}, "content": [{"type": "text", "text": '
  . '"{\\"title\\": \\"Saving\\", \\"turns\\": [{\\"role\\": \\"user\\", \\"content\\": \\"Should I save?\\"}, '
  . '{\\"role\\": \\"assistant\\", \\"content\\": \\"Yes, ten percent of what you earn.\\"}]}"}]}';
is($node->safe_psql('from11', <<"SQL"), "t\n1|0|1|1|50.00", 'from11: an item claimed before the update completes after it, counted across old and new shards');
SELECT train_data.complete_batch_item(i.id, '$response') IS NOT NULL
FROM train_data.batch_items i WHERE i.status = 'processing';
SELECT sum(c.completed_items), sum(c.in_flight), count(*) FILTER (WHERE c.shard < 16),
       count(*) FILTER (WHERE c.shard >= 16), train_data.calculate_batch_progress(c.batch_job_id)
FROM train_data.batch_job_counters c GROUP BY c.batch_job_id;
SQL
is($node->safe_psql('from11', 'SELECT count(*) FROM train_data_internal.job_claim_slots WHERE item_id IS NOT NULL'),
	'0', 'from11: its completion frees the slot');

# A site of 1.1 that granted its application role every table (README) and
# queued a batch (found by a review of the upgrade path: the update's new
# signature table had no grant, so the role's writes of turns failed there,
# and the update rendered every queued item's prompt, its parameters of any
# size read while it held its locks).  In a database of its own: the grants
# would differ from a fresh install's in the catalog comparison below.
$node->safe_psql('postgres', 'CREATE DATABASE from11app');
$node->safe_psql('from11app', <<'SQL');
CREATE EXTENSION train_data VERSION '1.1';
CREATE ROLE upgrade_app;
GRANT USAGE ON SCHEMA train_data TO upgrade_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA train_data TO upgrade_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA train_data TO upgrade_app;
-- and the worker role of 1.1's README
CREATE ROLE upgrade_worker;
GRANT USAGE ON SCHEMA train_data TO upgrade_worker;
GRANT EXECUTE ON FUNCTION train_data.claim_batch_items(text, integer, interval),
                          train_data.heartbeat_batch_item(uuid, numeric, interval),
                          train_data.complete_batch_item(uuid, jsonb, integer),
                          train_data.fail_batch_item(uuid, text, text, boolean) TO upgrade_worker;
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.templates (id, name, category, structure, variables)
VALUES ('b0000000-0000-0000-0000-000000000001', 'saving', 'finance', 'Talk with {{persona}}.',
        '[{"name": "persona", "type": "text"}]');
-- parameters 1.2 gives a meaning to and refuses, which 1.1 took as they were:
-- Cy's item is in flight across the update, Di's queued
SELECT train_data.create_batch('legacy parameters',
    '[{"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Cy", "expectedTurns": "about ten"}},
      {"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Di", "dedupe": 1e-50}}]');
SELECT count(*) FROM train_data.claim_batch_items('before the update', 1);
SELECT train_data.create_batch('upgrade batch',
    '[{"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ann"}}]');
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status)
VALUES ('c0000000-0000-0000-0000-000000000001', 'Ann saves', 'Ann', 'calm', 'template', 'generated');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('c0000000-0000-0000-0000-000000000001', 1, 'user', 'How much of my pay should I save each month?'),
       ('c0000000-0000-0000-0000-000000000001', 2, 'assistant', 'Ten percent of what you earn, then more.');
-- (found by a review of the upgrade path) a readable id that 1.1's index
-- took but 1.2's, with the owner in front, cannot (the update failed for
-- everyone), and an item in flight whose lease never ends, written as 1.1
-- let a user write it (every claim of its job read it again, for good)
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, conversation_id)
SELECT 'c0000000-0000-0000-0000-0000000000ff', 'Long id', 'Lo', 'calm', 'template', 'generated',
       string_agg(md5(g::text), '') FROM generate_series(1, 84) g;
INSERT INTO train_data.batch_items (batch_job_id, template_id, position, tier, parameters, status, lease_expires_at,
                                    attempts, updated_at)
SELECT j.id, 'b0000000-0000-0000-0000-000000000001', 2, 'template', '{"persona": "Ed"}', 'processing', 'infinity', 1,
       '2025-01-01 00:00:00+00'
FROM train_data.batch_jobs j WHERE j.name = 'upgrade batch';
-- a job 1.1 left open with nothing left to do: the application cancelled
-- its items by UPDATE, as 1.1 let it, which counted nothing and closed
-- nothing (found by a review of the update path)
SELECT train_data.create_batch('left open',
    '[{"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Fay"}},
      {"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Gus"}}]');
SET ROLE upgrade_app;
UPDATE train_data.batch_items i SET status = 'cancelled', finished_at = now()
FROM train_data.batch_jobs j WHERE j.id = i.batch_job_id AND j.name = 'left open';
RESET ROLE;
-- and one whose completed item (counted, as 1.1's engine counted it) and
-- a queued one the application deleted: 1.2 keeps the first counted as
-- completed and counts the second as cancelled (a review of this update
-- saw a recount against the rows left make completed -1 and a phantom
-- queued item)
SELECT train_data.create_batch('deleted',
    '[{"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Hal"}},
      {"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ida"}},
      {"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Jo"}}]');
UPDATE train_data.batch_items i SET status = 'completed', finished_at = now()
FROM train_data.batch_jobs j WHERE j.id = i.batch_job_id AND j.name = 'deleted' AND i.position = 1;
INSERT INTO train_data.batch_job_counters (batch_job_id, shard, completed_items)
SELECT j.id, 2, 1 FROM train_data.batch_jobs j WHERE j.name = 'deleted';
UPDATE train_data.batch_jobs SET status = 'processing' WHERE name = 'deleted';
SET ROLE upgrade_app;
DELETE FROM train_data.batch_items i USING train_data.batch_jobs j
WHERE j.id = i.batch_job_id AND j.name = 'deleted' AND i.position IN (1, 2);
RESET ROLE;
-- a price row of its own with the id of a built-in row of 1.2 (a restore
-- of its dump would fail: CREATE EXTENSION inserts the built-in row first)
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('claude-haiku-3.5', 0.9, 4.5);
-- and one whose completed item the application queued again: counted by
-- its status now, not twice (a second review of this update)
SELECT train_data.create_batch('requeued',
    '[{"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Kit"}},
      {"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Lou"}}]');
UPDATE train_data.batch_items i SET status = 'completed', finished_at = now()
FROM train_data.batch_jobs j WHERE j.id = i.batch_job_id AND j.name = 'requeued' AND i.position = 1;
INSERT INTO train_data.batch_job_counters (batch_job_id, shard, completed_items)
SELECT j.id, 5, 1 FROM train_data.batch_jobs j WHERE j.name = 'requeued';
SET ROLE upgrade_app;
UPDATE train_data.batch_items i SET status = 'queued', finished_at = NULL
FROM train_data.batch_jobs j WHERE j.id = i.batch_job_id AND j.name = 'requeued' AND i.position = 1;
RESET ROLE;
-- and one whose counters the application wrote past a counter's range, as
-- 1.1's policy let it (an adversarial review: the recount's sum stopped
-- the update with "integer out of range", naming nothing)
SELECT train_data.create_batch('forged counters',
    '[{"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Max"}},
      {"template_id": "b0000000-0000-0000-0000-000000000001", "parameters": {"persona": "Ned"}}]');
UPDATE train_data.batch_items i SET status = 'completed', finished_at = now()
FROM train_data.batch_jobs j WHERE j.id = i.batch_job_id AND j.name = 'forged counters' AND i.position = 1;
SET ROLE upgrade_app;
INSERT INTO train_data.batch_job_counters (batch_job_id, shard, completed_items)
SELECT j.id, s, 2147483647 FROM train_data.batch_jobs j, generate_series(0, 1) s WHERE j.name = 'forged counters'
ON CONFLICT (batch_job_id, shard) DO UPDATE SET completed_items = excluded.completed_items;
RESET ROLE;
SQL
# a price row with a built-in row's id stops the update, and leaves it at 1.1
my ($rc, $stdout, $stderr) = $node->psql('from11app', 'ALTER EXTENSION train_data UPDATE', extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  23505: cannot update train_data to 1\.2: model_prices has rows of its own with the ids of built-in rows of 1\.2: 'claude-haiku-3\.5'\n.*HINT:  Delete or rename those rows, update, then compare their prices with the built-in rows\./s,
	'from11app: a price row of its own with the id of a built-in row of 1.2 stops the update with 23505');
is($node->safe_psql('from11app', "SELECT extversion FROM pg_extension WHERE extname = 'train_data'"), '1.1', '... which leaves the database at 1.1');
$node->safe_psql('from11app', "UPDATE train_data.model_prices SET model_id = 'claude-3-5-haiku-20241022' WHERE model_id = 'claude-haiku-3.5'");
# the long id stops the update, with what to run first
($rc, $stdout, $stderr) = $node->psql('from11app', 'ALTER EXTENSION train_data UPDATE', extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  22001: train_data 1\.2 takes conversation ids of up to 200 characters; 1 conversations have longer ones/,
	'from11app: an id too long for 1.2 stops the update with 22001');
my ($fix) = $stderr =~ /HINT:  Give them new ids in a transaction of its own, then update again: (UPDATE .*;)/;
ok(defined $fix, '... and its hint names the statement to run first');
$node->safe_psql('from11app', $fix);
($rc, $stdout, $stderr) = $node->psql('from11app', 'ALTER EXTENSION train_data UPDATE', extra_params => [ '-v', 'VERBOSITY=verbose' ]);
is($rc, 0, 'from11app: then the update succeeds');
like($stderr, qr/WARNING:  01000: the counters of 1 open batch jobs were out of range and are counted from their items\nDETAIL:  The jobs: [0-9a-f-]{36}\./,
	'... saying which job\'s counters, out of range, it counted from the items');
is($node->safe_psql('from11app', <<'SQL'), '1|0|0|2',
SELECT p.completed_items, p.failed_items, p.cancelled_items, p.total_items
FROM train_data.batch_jobs j, train_data.batch_progress(j.id) p WHERE j.name = 'forged counters'
SQL
	'from11app: that job counts its one completed item of two');
is($node->safe_psql('from11app', <<'SQL'), "claude-3-5-haiku-20241022|0.9000|f\nclaude-haiku|1.0000|t\nclaude-haiku-3.0|0.2500|t\nclaude-haiku-3.5|0.8000|t",
SELECT model_id, input_usd_per_mtok, builtin FROM train_data.model_prices WHERE model_id LIKE '%haiku%' ORDER BY model_id
SQL
	'from11app: after the rename, the site\'s row and 1.2\'s built-in rows of Haiku');
is($node->safe_psql('from11app', <<'SQL'), "t|t|2688\nt|2025-01-01 00:00:00+00",
SELECT c.conversation_id ~ '^tpl_lo_[0-9]+$', char_length(c.conversation_id) <= 200,
       char_length(c.parameters ->> 'previousConversationId')
FROM train_data.conversations c WHERE c.id = 'c0000000-0000-0000-0000-0000000000ff';
SET TIME ZONE 'UTC';
SELECT i.lease_expires_at <= now(), i.updated_at FROM train_data.batch_items i WHERE i.parameters ->> 'persona' = 'Ed';
-- (out of the way of the claims below, which take an expired item first)
DELETE FROM train_data.batch_items i WHERE i.parameters ->> 'persona' = 'Ed';
SQL
	'from11app: the id given by the hint (the old one kept), a lease that never ends ends, updated_at kept');
# the worker role's grants are carried to the new signatures as the site's,
# not recorded as the extension's initial privileges, which pg_dump leaves
# out (found by a review of the update path: a database updated and then
# restored lost them, and every claim was refused)
is($node->safe_psql('from11app', <<'SQL'), "4|0",
SELECT count(*) FILTER (WHERE pg_catalog.has_function_privilege('upgrade_worker', f, 'EXECUTE')),
       (SELECT count(*) FROM pg_catalog.pg_init_privs ip, pg_catalog.aclexplode(ip.initprivs) x
        WHERE x.grantee = 'upgrade_worker'::regrole)
FROM unnest(ARRAY['train_data.claim_batch_items(text,integer,interval)',
                  'train_data.heartbeat_batch_item(uuid,numeric,interval,integer)',
                  'train_data.complete_batch_item(uuid,jsonb,integer,integer)',
                  'train_data.fail_batch_item(uuid,text,text,boolean,integer)']::regprocedure[]) f
SQL
	'from11app: the worker role keeps EXECUTE on the new signatures, and none of it is an initial privilege');
my $dump = $node->basedir . '/from11app.sql';
command_ok([ 'pg_dump', '--schema-only', '-f', $dump, '-d', $node->connstr('from11app') ], 'from11app: pg_dump');
my $dumped = slurp_file($dump);
is(scalar(() = $dumped =~ /^GRANT ALL ON FUNCTION train_data\.(?:claim_batch_items|heartbeat_batch_item|complete_batch_item|fail_batch_item)\(.*\) TO upgrade_worker;$/mg),
	4, 'from11app: the dump grants the worker role the four worker functions');
# A site's other privileges on the functions the update replaces are
# carried too (found by a review of the update path: a grant to PUBLIC of
# the worker functions and every grant option were dropped, and the site's
# privileges on review_queue and template_performance were lost with them,
# a revoke from PUBLIC too).  In a database of its own, as from11app.
$node->safe_psql('postgres', 'CREATE DATABASE from11grants');
$node->safe_psql('from11grants', <<'SQL');
CREATE EXTENSION train_data VERSION '1.1';
CREATE ROLE upgrade_lead;
CREATE ROLE upgrade_reader;
GRANT EXECUTE ON FUNCTION train_data.claim_batch_items(text, integer, interval),
                          train_data.heartbeat_batch_item(uuid, numeric, interval),
                          train_data.complete_batch_item(uuid, jsonb, integer),
                          train_data.fail_batch_item(uuid, text, text, boolean) TO PUBLIC;
GRANT EXECUTE ON FUNCTION train_data.claim_batch_items(text, integer, interval),
                          train_data.heartbeat_batch_item(uuid, numeric, interval),
                          train_data.complete_batch_item(uuid, jsonb, integer),
                          train_data.fail_batch_item(uuid, text, text, boolean) TO upgrade_lead WITH GRANT OPTION;
REVOKE ALL ON FUNCTION train_data.review_queue(integer, integer, text, text, numeric),
                       train_data.template_performance(interval, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION train_data.review_queue(integer, integer, text, text, numeric),
                          train_data.template_performance(interval, integer) TO upgrade_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA train_data GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO upgrade_reader;
-- (and in every schema: the one of train_data's own tables too)
ALTER DEFAULT PRIVILEGES GRANT SELECT, UPDATE ON TABLES TO upgrade_reader;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO upgrade_reader;
ALTER EXTENSION train_data UPDATE;
SQL
is($node->safe_psql('from11grants', <<'SQL'), "t|t|t\nt|t|t\nt|t|t\nt|t|t\nf|f|t\nf|f|t\n0",
CREATE TEMP TABLE replaced AS
SELECT u.f, u.n
FROM unnest(ARRAY['train_data.claim_batch_items(text,integer,interval)',
                  'train_data.heartbeat_batch_item(uuid,numeric,interval,integer)',
                  'train_data.complete_batch_item(uuid,jsonb,integer,integer)',
                  'train_data.fail_batch_item(uuid,text,text,boolean,integer)',
                  'train_data.review_queue(integer,integer,text,text,numeric,text)',
                  'train_data.template_performance(interval,integer)']::regprocedure[]) WITH ORDINALITY AS u(f, n);
SELECT pg_catalog.has_function_privilege('public', r.f, 'EXECUTE'),
       pg_catalog.has_function_privilege('upgrade_lead', r.f, 'EXECUTE WITH GRANT OPTION'),
       pg_catalog.has_function_privilege('upgrade_reader', r.f, 'EXECUTE')
FROM replaced r ORDER BY r.n;
-- (the initial privileges of these six are a fresh install's: the owner's
-- alone, or none)
SELECT count(*) FROM replaced r, pg_catalog.pg_init_privs ip, pg_catalog.aclexplode(ip.initprivs) x
WHERE ip.classoid = 'pg_proc'::regclass AND ip.objsubid = 0 AND ip.objoid = r.f
  AND x.grantee <> (SELECT p.proowner FROM pg_proc p WHERE p.oid = r.f);
SQL
	'from11grants: PUBLIC and the grant option carried to the worker functions, review_queue and template_performance keep the site\'s privileges, none of them initial privileges');
# the site's default privileges give the tables the update makes what they
# say, but not train_data's own tables, which no role may lock (a review of
# 1.2: every one of them was its application role's), nor their schema
my $internal_grants = <<'SQL';
SELECT c.relname, pg_catalog.has_table_privilege('upgrade_reader', c.oid, 'SELECT, UPDATE')
FROM pg_class c
WHERE c.relnamespace = ANY (ARRAY['train_data', 'train_data_internal']::regnamespace[])
  AND c.relname IN ('conversation_signatures', 'deleted_item_tokens', 'job_claim_slots', 'job_close_checks')
UNION ALL
SELECT 'schema', pg_catalog.has_schema_privilege('upgrade_reader', 'train_data_internal', 'USAGE')
ORDER BY 1;
SQL
my $internal_none = "conversation_signatures|t\ndeleted_item_tokens|f\njob_claim_slots|f\njob_close_checks|f\nschema|f";
is($node->safe_psql('from11grants', $internal_grants), $internal_none,
	'from11grants: default privileges reach no internal table the update makes, nor their schema');
# the same for a fresh install under those default privileges, and there
# the functions and the sequence keep none of what default privileges give
# (a review: EXECUTE on every function made the application role a worker,
# UPDATE of the sequence let it setval the conversation numbers back; and
# USAGE kept was an initial privilege, which pg_dump left out)
$node->safe_psql('from11grants', <<'SQL');
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO upgrade_reader;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO upgrade_reader;
DROP EXTENSION train_data;
CREATE EXTENSION train_data;
SQL
is($node->safe_psql('from11grants', $internal_grants), $internal_none,
	'from11grants: nor on CREATE EXTENSION');
is($node->safe_psql('from11grants', <<'SQL'), "0|f|f|t",
SELECT count(*) FILTER (WHERE pg_catalog.has_function_privilege('upgrade_reader', p.oid, 'EXECUTE')
                          AND NOT pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE')),
       pg_catalog.has_sequence_privilege('upgrade_reader', 'train_data.conversation_number_seq', 'USAGE'),
       pg_catalog.has_sequence_privilege('upgrade_reader', 'train_data.conversation_number_seq', 'UPDATE'),
       pg_catalog.has_function_privilege('upgrade_reader', 'train_data.create_batch(text,jsonb,jsonb,integer,text,text)', 'EXECUTE')
FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'train_data'::regnamespace
SQL
	'from11grants: CREATE EXTENSION takes back what default privileges gave functions and the sequence (the site grants USAGE after it, which pg_dump keeps)');
$node->safe_psql('from11grants', 'GRANT USAGE ON SEQUENCE train_data.conversation_number_seq TO upgrade_reader');
my $grants_dump = $node->basedir . '/from11grants.sql';
command_ok([ 'pg_dump', '--schema-only', '-f', $grants_dump, '-d', $node->connstr('from11grants') ], 'from11grants: pg_dump');
like(slurp_file($grants_dump), qr/^GRANT USAGE ON SEQUENCE train_data\.conversation_number_seq TO upgrade_reader;$/m,
	'from11grants: the dump keeps the site\'s grant on the sequence');

# A trigger a 1.1 user made on train_data's tables (1.1 refused none to a
# role granted TRIGGER) stays through the update, which names it; from 1.2
# such a trigger is refused.
$node->safe_psql('postgres', 'CREATE DATABASE from11planted');
$node->safe_psql('from11planted', <<'SQL');
CREATE EXTENSION train_data VERSION '1.1';
CREATE ROLE upgrade_planter;
CREATE SCHEMA planter AUTHORIZATION upgrade_planter;
GRANT USAGE ON SCHEMA train_data TO upgrade_planter;
GRANT TRIGGER, REFERENCES ON train_data.conversations TO upgrade_planter;
SET ROLE upgrade_planter;
CREATE FUNCTION planter.fire() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER planted BEFORE INSERT ON train_data.conversations FOR EACH ROW EXECUTE FUNCTION planter.fire();
-- (with one of train_data's own functions, as a review did: every write of
-- every user failed)
CREATE TRIGGER zz_planted BEFORE UPDATE ON train_data.conversations
    FOR EACH ROW EXECUTE FUNCTION train_data.model_prices_protect_builtin();
CREATE TABLE planter.pins (conversation uuid REFERENCES train_data.conversations (id));
SQL
my ($planted_rc, $planted_out, $planted_err) = $node->psql('from11planted', 'ALTER EXTENSION train_data UPDATE');
is($planted_rc, 0, 'from11planted: the update succeeds');
like($planted_err, qr/WARNING:  trigger planted on table train_data\.conversations is not train_data's\nDETAIL:  It runs planter\.fire\(\) \(owned by upgrade_planter\)/,
	'from11planted: the update names the trigger a user made');
like($planted_err, qr/WARNING:  trigger zz_planted on table train_data\.conversations is not train_data's\nDETAIL:  It runs train_data\.model_prices_protect_builtin\(\)/,
	'from11planted: and the one with a function of train_data\'s');
like($planted_err, qr/WARNING:  foreign key pins_conversation_fkey on table train_data\.conversations is not train_data's\nDETAIL:  Table planter\.pins refers to it/,
	'from11planted: and the foreign key');
is(scalar(() = $planted_err =~ /WARNING/g), 3, 'from11planted: and nothing else');
my ($again_rc, $again_out, $again_err) = $node->psql('from11planted', <<'SQL');
SET ROLE upgrade_planter;
CREATE TRIGGER planted_again BEFORE INSERT ON train_data.conversations FOR EACH ROW EXECUTE FUNCTION planter.fire();
SQL
like($again_err, qr/ERROR:  trigger planted_again on table train_data\.conversations is refused/,
	'from11planted: after the update a user may make no trigger there');
# the signature the update computed is the conversation's text's, turn by turn
is($node->safe_psql('from11app', <<'SQL'), 't', 'from11app: the update signs the stored conversations');
SELECT s.signature = train_data.conversation_text_signature(
           (SELECT jsonb_agg(jsonb_build_object('content', t.content) ORDER BY t.turn_number)
            FROM train_data.conversation_turns t WHERE t.conversation_id = s.conversation_id))
FROM train_data.conversation_signatures s
SQL
# the application role writes and deletes turns and conversations as before
is($node->safe_psql('from11app', <<'SQL'), "2|t\n0", 'from11app: the application role of 1.1 still writes turns after the update');
SET ROLE upgrade_app;
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status)
VALUES ('c0000000-0000-0000-0000-000000000002', 'Bo saves', 'Bo', 'calm', 'template', 'generated');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('c0000000-0000-0000-0000-000000000002', 1, 'user', 'Should I pay my card off before I invest anything?');
UPDATE train_data.conversation_turns SET content = content || ' Yes.' WHERE conversation_id = 'c0000000-0000-0000-0000-000000000002';
RESET ROLE;
SELECT count(*), bool_and(s.created_by = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa') FROM train_data.conversation_signatures s;
SET ROLE upgrade_app;
DELETE FROM train_data.conversations;
RESET ROLE;
SELECT count(*) FROM train_data.conversation_signatures;
SQL
# the update renders no prompt (it held every table's lock meanwhile, and a
# user's templates could make it render without bound: found by a review
# of the upgrade path); the claim renders a queued item of 1.1 from its
# template as it is then, as 1.1 did (Ann's, after the template's change),
# and fails alone the one whose parameters 1.2 refuses (Di's)
is($node->safe_psql('from11app', <<'SQL'), "Cy:-,Di:-,Ann:-,Fay:-,Gus:-,Jo:-,Kit:-,Lou:-,Max:-,Ned:-\nTalk with Ann about something else.\nfailed|invalid_prompt|its parameters: parameter \"dedupe\" is too small",
SELECT string_agg((i.parameters ->> 'persona') || ':' || coalesce(i.prompt, '-'), ',' ORDER BY i.created_at, i.position)
FROM train_data.batch_items i;
UPDATE train_data.templates SET structure = 'Talk with {{persona}} about something else.';
SELECT c.prompt FROM train_data.claim_batch_items('after the update', 1) c;
SELECT i.status, i.error_code, left(i.error_message, 47) FROM train_data.batch_items i WHERE i.parameters ->> 'persona' = 'Di';
SQL
	'from11app: the claim renders queued items of 1.1; a claim fails alone one whose parameters 1.2 refuses');
# the update left a closing check for the job 1.1 left open; that claim's
# look closed it (before the thirty-third session it stayed processing)
is($node->safe_psql('from11app', <<'SQL'), "cancelled|0|2\n0|0\n0\nprocessing|1|1|1\n0|2",
SELECT j.status, j.completed_items, j.cancelled_items FROM train_data.batch_jobs j WHERE j.name = 'left open';
SELECT p.queued_items, p.processing_items FROM train_data.batch_jobs j, train_data.batch_progress(j.id) p
WHERE j.name = 'left open';
SELECT count(*) FROM train_data_internal.job_close_checks;
SELECT p.status, p.completed_items, p.cancelled_items, p.queued_items
FROM train_data.batch_jobs j, train_data.batch_progress(j.id) p WHERE j.name = 'deleted';
SELECT p.completed_items, p.queued_items
FROM train_data.batch_jobs j, train_data.batch_progress(j.id) p WHERE j.name = 'requeued';
SQL
	'from11app: a job 1.1 left open, its items cancelled by UPDATE, is counted and closed by the first claim after the update; deleted items count as 1.2 counts them');
# Cy's item, claimed in 1.1 (attempt 1), keeps that lease token
is($node->safe_psql('from11app', <<'SQL'), "1|0|t",
SELECT i.attempts, i.released,
       train_data.heartbeat_batch_item(i.id, 10, '5 minutes', 1) > now()
FROM train_data.batch_items i WHERE i.parameters ->> 'persona' = 'Cy';
SQL
	'from11app: an item in flight across the update keeps the token its 1.1 claim returned');
# Cy's item, in flight across the update, fails once at its completion
my ($ret, $out, $err) = $node->psql('from11app', <<"SQL");
SELECT train_data.complete_batch_item(i.id, '$response') IS NULL
FROM train_data.batch_items i WHERE i.parameters ->> 'persona' = 'Cy';
SELECT i.status, left(i.error_message, 70) FROM train_data.batch_items i WHERE i.parameters ->> 'persona' = 'Cy';
SQL
is($out, "t\nfailed|invalid parameters: its parameters: parameter \"expectedTurns\" is not v",
	'from11app: an item claimed in 1.1 with parameters 1.2 refuses fails at its completion, once');
like($err, qr/WARNING:  batch item .* failed: invalid parameters/, 'from11app: and the worker is told why');

# A template 1.1 stored that 1.2's check_template refuses (a dropdown
# default outside its options: every render leaving the variable out
# failed) stops the update, naming it and its problem: the row would fail
# its later updates and a dump's restore.  (This library's check refuses
# the row under 1.1 too, so the test drops the constraint to store it, as
# 1.1's library let a user, and validates it again once corrected.)
$node->safe_psql('postgres', 'CREATE DATABASE from11tpl');
$node->safe_psql('from11tpl', <<'SQL');
CREATE EXTENSION train_data VERSION '1.1';
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
ALTER TABLE train_data.templates DROP CONSTRAINT template_variables_valid;
INSERT INTO train_data.templates (id, name, category, structure, variables)
VALUES ('b0000000-0000-0000-0000-0000000000d1', 'tone', 'finance', 'Talk in a {{tone}} voice.',
        '[{"name": "tone", "type": "dropdown", "options": ["calm", "warm"], "defaultValue": "loud"}]'),
       ('b0000000-0000-0000-0000-0000000000d2', 'fine', 'finance', 'Talk in a {{tone}} voice.',
        '[{"name": "tone", "type": "dropdown", "options": ["calm", "warm"], "defaultValue": "calm"}]');
ALTER TABLE train_data.templates ADD CONSTRAINT template_variables_valid
    CHECK (train_data.check_template(structure, variables)) NOT VALID;
SQL
($rc, $stdout, $stderr) = $node->psql('from11tpl', 'ALTER EXTENSION train_data UPDATE', extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($stderr, qr/ERROR:  22023: train_data 1\.2 checks templates more strictly; 1 stored template fails its check\n.*DETAIL:  Templates: b0000000-0000-0000-0000-0000000000d1\. The first: variable "tone" has a defaultValue its type refuses\.\n.*HINT:  Correct them in a transaction of its own/s,
	'from11tpl: a stored default its variable refuses stops the update, naming the template and its problem');
$node->safe_psql('from11tpl', <<'SQL');
UPDATE train_data.templates SET variables = jsonb_set(variables, '{0,defaultValue}', '"calm"')
WHERE id = 'b0000000-0000-0000-0000-0000000000d1';
ALTER TABLE train_data.templates VALIDATE CONSTRAINT template_variables_valid;
ALTER EXTENSION train_data UPDATE;
SQL
is($node->safe_psql('from11tpl', "SELECT extversion FROM pg_extension WHERE extname = 'train_data'"), '1.2',
	'from11tpl: once corrected, the update goes through');

# The extension's objects, described by the catalogs, one line each.
my $catalog = <<'SQL';
WITH ext AS (SELECT oid FROM pg_extension WHERE extname = 'train_data'),
members AS (SELECT d.classid, d.objid FROM pg_depend d, ext WHERE d.refobjid = ext.oid AND d.deptype = 'e'),
rels AS (SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'train_data')
SELECT string_agg(line, E'\n' ORDER BY line) FROM (
    SELECT 'function ' || p.oid::regprocedure || ' returns ' || pg_get_function_result(p.oid)
           || ' ' || p.provolatile::text || p.proparallel::text || ' secdef=' || p.prosecdef || ' strict=' || p.proisstrict
           || ' config=' || coalesce(p.proconfig::text, '') || ' acl=' || coalesce(p.proacl::text, '')
           -- (the definition as PostgreSQL prints it: prosrc is empty for a
           -- BEGIN ATOMIC body, whose statements would go unchecked)
           || ' src=' || md5(CASE WHEN p.prokind = 'a' THEN p.prosrc ELSE pg_get_functiondef(p.oid) END) AS line
    FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT 'type ' || t.oid::regtype || ' ' || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                                         FROM pg_enum e WHERE e.enumtypid = t.oid), '')
    FROM pg_type t JOIN members m ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
    UNION ALL
    SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' rls=' || c.relrowsecurity || c.relforcerowsecurity
           || ' options=' || coalesce(c.reloptions::text, '')
           || ' acl=' || coalesce(c.relacl::text, '')
    FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
    UNION ALL
    SELECT 'column ' || r.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
           || ' generated=' || a.attgenerated::text || ' compression=' || a.attcompression::text
    FROM pg_attribute a JOIN rels r ON r.oid = a.attrelid
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'constraint ' || r.relname || '.' || co.conname || ' ' || pg_get_constraintdef(co.oid)
    FROM pg_constraint co JOIN rels r ON r.oid = co.conrelid
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN rels r ON r.oid = i.indrelid
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text FROM pg_trigger t JOIN rels r ON r.oid = t.tgrelid
    WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'policy ' || r.relname || '.' || p.polname || ' ' || p.polcmd::text || ' permissive=' || p.polpermissive
           || ' roles=' || p.polroles::regrole[]::text || ' using=' || coalesce(pg_get_expr(p.polqual, p.polrelid), '')
           || ' check=' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
    FROM pg_policy p JOIN rels r ON r.oid = p.polrelid
    UNION ALL
    SELECT 'dumped ' || c.oid::regclass || ' ' || coalesce(x.extcondition[x.n], '')
    FROM (SELECT e.extcondition, u.cfg, u.n FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY u(cfg, n)
          WHERE e.extname = 'train_data') x JOIN pg_class c ON c.oid = x.cfg
    UNION ALL
    SELECT 'schema acl ' || coalesce(n.nspacl::text, '') FROM pg_namespace n WHERE n.nspname = 'train_data'
    UNION ALL
    -- (what pg_dump leaves out of a dump as the extension's own)
    SELECT 'initial privileges ' || pg_describe_object(ip.classoid, ip.objoid, ip.objsubid) || ' ' || ip.initprivs::text
    FROM pg_init_privs ip JOIN members m ON m.classid = ip.classoid AND m.objid = ip.objoid
    UNION ALL
    SELECT 'description ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' ' || d.description
    FROM pg_description d JOIN members m ON m.classid = d.classoid AND m.objid = d.objoid
) s
SQL
my $fresh = $node->safe_psql('fresh', $catalog);
my @lines = split /\n/, $fresh;
cmp_ok(scalar(@lines), '>', 400, 'the catalog description covers the schema (' . scalar(@lines) . ' lines)');
my %in_fresh = map { $_ => 1 } @lines;
for my $db (qw(from10 from11))
{
	# the lines that only one of the two has, marked < (updated) or > (fresh)
	my %in_upgraded = map { $_ => 1 } split /\n/, $node->safe_psql($db, $catalog);
	my $differences = join "\n", (map { "< $_" } grep { !$in_fresh{$_} } sort keys %in_upgraded),
	  (map { "> $_" } grep { !$in_upgraded{$_} } sort keys %in_fresh);
	is($differences, '', "$db: functions, tables, constraints, indexes, triggers, policies, privileges, "
		  . 'descriptions and dump configuration after the update equal a fresh install');
}

done_testing();
