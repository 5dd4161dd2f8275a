# 011_pgbouncer.pl — train_data behind PgBouncer in transaction pooling mode
# (as behind Supabase's pooler): one server connection per database and
# role (default_pool_size = 1), so consecutive transactions of different
# clients run on the same server connection.
#
#   - identity set per transaction (SET LOCAL, set_config(..., true)) works
#     and is gone in the next transaction on the same server connection,
#     whoever's it is;
#   - a session SET is not: the next client on that server connection
#     inherits it (why the README says SET LOCAL);
#   - the bash reference worker (tools/worker) and, when Node and the
#     worker package's modules are installed, the Node worker
#     (tools/worker-node) drain a batch through PgBouncer: every item
#     completed once, with one conversation.
use strict;
use warnings;

use File::Spec;
use FindBin;
use IPC::Run;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TrainDataChecks;

my $pgbouncer = '/usr/sbin/pgbouncer';
plan skip_all => "pgbouncer not installed ($pgbouncer; Debian package pgbouncer)" unless -x $pgbouncer;

my $top  = File::Spec->rel2abs("$FindBin::Bin/../..");
my $user = '11111111-1111-1111-1111-111111111111';
my $node = PostgreSQL::Test::Cluster->new('pooled');
$node->init;
$node->start;
my $su = $node->safe_psql('postgres', 'SELECT current_user');
$node->safe_psql('postgres', app_and_worker_roles_sql());
$node->safe_psql('postgres', <<"SQL");
INSERT INTO train_data.templates (id, name, category, structure, variables, created_by)
VALUES ('7e000000-0000-0000-0000-000000000001', 'pooled', 'finance', 'Write a conversation with {{persona}} about {{topic}}.',
        '[{"name": "persona", "type": "text"}, {"name": "topic", "type": "text", "defaultValue": "saving"}]', '$user');
SQL

# PgBouncer on a free TCP port, to the node's Unix socket, trusting the three roles.
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $dir  = $PostgreSQL::Test::Utils::tmp_check;
my $ini  = "$dir/pgbouncer.ini";
open(my $fh, '>', "$dir/userlist.txt") or die $!;
print $fh qq{"$su" ""\n"app" ""\n"generation_worker" ""\n};
close $fh;
open($fh, '>', $ini) or die $!;
print $fh <<"INI";
[databases]
postgres = host=@{[ $node->host ]} port=@{[ $node->port ]} dbname=postgres
session = host=@{[ $node->host ]} port=@{[ $node->port ]} dbname=postgres pool_mode=session

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 1
max_client_conn = 100
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
close $fh;
my $bouncer = IPC::Run::start([ $pgbouncer, $ini ], '>', "$dir/pgbouncer.out", '2>&1');
END { local $?; $bouncer->kill_kill if $bouncer; }   # keeps the exit status
my %pooled  = (PGHOST => '127.0.0.1', PGPORT => $port, PGDATABASE => 'postgres');

# psql through PgBouncer as $role: the output of $sql (dies on an error).
sub pooled_psql
{
	my ($role, $sql) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %pooled, PGUSER => $role);
	IPC::Run::run([ 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', $sql ], '>', \$out, '2>', \$err)
	  or die "psql as $role through pgbouncer failed: $err";
	chomp $out;
	return $out;
}

# PgBouncer accepts connections once it listens; wait for that.
my $ready = 0;
for (1 .. 100)
{
	$ready = eval { pooled_psql('app', 'SELECT 1') eq '1' };
	last if $ready;
	select(undef, undef, undef, 0.1);
}
ok($ready, 'pgbouncer answers in transaction mode') or BAIL_OUT('pgbouncer did not start');

# Identity per transaction: SET LOCAL, then the next transaction of the same
# client and of another client, on the same server connection, has none.
my $first = pooled_psql('app', qq{BEGIN; SET LOCAL train_data.user_id = '$user';
SELECT train_data.current_user_id() || ' ' || pg_backend_pid(); COMMIT;
SELECT coalesce(train_data.current_user_id()::text, 'none') || ' ' || pg_backend_pid();});
my ($pid) = $first =~ / (\d+)\n/;
is($first, "$user $pid\nnone $pid", 'SET LOCAL: the user id holds in its transaction only, on one server connection');
is(pooled_psql('app', q{SELECT coalesce(train_data.current_user_id()::text, 'none') || ' ' || pg_backend_pid()}),
	"none $pid", 'another client on that server connection has no user id');
is(pooled_psql('app', qq{BEGIN; SELECT pg_catalog.set_config('train_data.user_id', '$user', true) IS NOT NULL,
       train_data.current_user_id() IS NOT NULL; COMMIT;
SELECT coalesce(train_data.current_user_id()::text, 'none') || ' ' || pg_backend_pid();}),
	"t|t\nnone $pid", 'set_config(..., true): the same');

# What cannot work in transaction mode: a session SET stays on the server
# connection and the next client inherits it.
pooled_psql('app', qq{SET train_data.user_id = '$user'});
is(pooled_psql('app', q{SELECT coalesce(train_data.current_user_id()::text, 'none')}),
	$user, 'a session SET leaks to the next client of the server connection (use SET LOCAL)');
pooled_psql('app', q{RESET train_data.user_id});

# In session mode PgBouncer resets a server connection with DISCARD ALL
# before its next client: a misspelt setting one client made before the
# library loaded (its lookups fail, 42704) is forgotten there, and the next
# client on that server connection acts as its own settings say (before the
# thirty-sixth session it inherited the error for as long as the connection
# lived).
# (each statement its own transaction, as psql sends each -c)
sub session_psql
{
	my (@statements) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %pooled, PGDATABASE => 'session', PGUSER => 'app');
	IPC::Run::run([ 'psql', '-X', '-q', '-At', map { ('-c', $_) } @statements ], '>', \$out, '2>', \$err);
	chomp $out;
	return ($out, $err);
}
my ($typo, $typo_err) = session_psql(qq{SET train_data.usr_id = '$user'}, 'SELECT pg_backend_pid()',
	'SELECT train_data.current_user_id()', 'SELECT train_data.current_user_id()');
like($typo_err, qr/unrecognized configuration parameter "train_data\.usr_id".*unrecognized configuration parameter "train_data\.usr_id"/s,
	'session mode: a misspelt setting fails its own client\'s lookups');
my ($next) = session_psql(qq{SET request.jwt.claim.sub = '$user'},
	q{SELECT train_data.current_user_id() || ' ' || pg_backend_pid()});
is($next, "$user $typo", '... and PgBouncer\'s DISCARD ALL forgets it for the next client on that server connection');

# A batch, made by the user through PgBouncer.
sub create_batch
{
	my ($name, $n) = @_;
	return pooled_psql('app', qq{BEGIN; SET LOCAL train_data.user_id = '$user';
SELECT train_data.create_batch('$name', (SELECT jsonb_agg(jsonb_build_object(
    'template_id', '7e000000-0000-0000-0000-000000000001', 'parameters', jsonb_build_object('persona', '$name ' || g)))
  FROM generate_series(1, $n) g), '{}', 3); COMMIT;});
}

# Every item completed once: "completed items, conversations, success logs".
sub outcome
{
	my ($job) = @_;
	return $node->safe_psql('postgres', qq{
SELECT count(*) FILTER (WHERE i.status = 'completed') || ' ' ||
       (SELECT count(*) FROM train_data.conversations c JOIN train_data.batch_items i2 ON i2.conversation_id = c.id
        WHERE i2.batch_job_id = '$job') || ' ' ||
       (SELECT count(*) FROM train_data.generation_logs g JOIN train_data.batch_items i3 ON i3.id = g.batch_item_id
        WHERE i3.batch_job_id = '$job' AND g.status = 'success') || ' ' ||
       (SELECT status FROM train_data.batch_jobs WHERE id = '$job')
FROM train_data.batch_items i WHERE i.batch_job_id = '$job'});
}

# The bash reference worker, two copies, through PgBouncer.
my $job = create_batch('bash', 8);
is(pooled_psql('app', q{SELECT count(*) FROM train_data.batch_jobs}), '0',
	'the next transaction, without a user id, sees none of the user\'s jobs');
{
	local %ENV = (%ENV, %pooled, PGUSER => 'generation_worker', TD_OFFLINE => '1', TD_OFFLINE_DELAY => '0',
		TD_WORKER_VERBOSE => '0');
	delete $ENV{ANTHROPIC_API_KEY};
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ 'bash', "$top/tools/worker", '--copies', '2', '--idle-exit', '5' ], '>', \$out, '2>', \$err);
	ok($ok, 'tools/worker exits 0 through pgbouncer') or diag($err);
}
is(outcome($job), '8 8 8 completed', 'tools/worker: every item completed once through pgbouncer');

# The Node worker, when Node and its modules are there (test/run installs them first).
SKIP:
{
	my $modules = "$top/tools/worker-node/node_modules";
	my $major = `node -p 'process.versions.node.split(".")[0]' 2>/dev/null` || 0;
	skip 'Node worker: no Node 20+ or no tools/worker-node/node_modules (npm ci)', 2
	  unless -d $modules && $major >= 20;
	my $job2 = create_batch('node', 8);
	{
		# (TD_NAME_LOCK=0: the lock of its name, a session's, would stay on a shared server connection)
		local %ENV = (%ENV, %pooled, PGUSER => 'generation_worker', TD_OFFLINE => '1', TD_OFFLINE_DELAY => '0',
			TD_OFFLINE_TRUNCATE => '0', TD_POLL => '0.2', TD_CONCURRENCY => '4', TD_NAME_LOCK => '0');
		my ($out, $err) = ('', '');
		my $ok = IPC::Run::run([ 'node', "$top/tools/worker-node/bin/worker.js", '--idle-exit', '2' ], '>', \$out, '2>', \$err);
		ok($ok, 'the Node worker exits 0 through pgbouncer') or diag("$err\n$out");
	}
	is(outcome($job2), '8 8 8 completed', 'Node worker: every item completed once through pgbouncer');
}

$node->stop;
done_testing();
