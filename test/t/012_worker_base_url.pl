# 012_worker_base_url.pl — the bash reference worker (tools/worker) sends a
# provider's API key to a user's base URL only when the operator allows it.
#
# A user's AI configuration names the base URL a worker posts her items to;
# a hostile tenant points it at a server of hers, here a small HTTP server of
# this test's own that records every request (method, path, headers) and
# answers as the Messages API (/v1/messages) or Chat Completions
# (/chat/completions) would.  With the worker's key set:
#
#   - a base URL the operator did not allow gets no request at all: every
#     item fails for good (one attempt) with base_url_not_allowed, no
#     conversation is stored, and the key appears nowhere;
#   - one listed for the provider in TD_ALLOWED_BASE_URLS ("anthropic=URL",
#     with or without a trailing slash on either side) or equal to the
#     operator's own ANTHROPIC_BASE_URL gets one request per item, with the
#     key in x-api-key on /v1/messages, and every item completes with one
#     conversation; a URL listed for OpenAI (bare, or "openai=URL") gets no
#     Anthropic key (found by a review of 1.2: a vLLM server listed for the
#     OpenAI provider received the Anthropic key);
#   - the same for provider openai (Authorization: Bearer on
#     /chat/completions), where ANTHROPIC_BASE_URL allows nothing and
#     OPENAI_BASE_URL or TD_ALLOWED_BASE_URLS does; with OPENAI_BASE_URL set
#     (a gateway), the public endpoint is not allowed either;
#   - a base URL that merely starts with an allowed one (a longer path,
#     a longer host name, the allowed host:port as credentials before
#     another host) is refused; the last cannot even be stored through the
#     validated path, so it is planted as a restore would;
#   - what an allowed server answers that must not be stored as it is (found
#     by a review of 1.2): an error echoing the key it was sent (stored with
#     the key replaced by ***), an answer holding a NUL (failed retryable as
#     invalid_response, not left to its lease), an answer past
#     TD_MAX_RESPONSE_MB, declared or streamed without a length (failed
#     retryable as response_too_large, never read whole);
#   - a call longer than the lease is kept alive by heartbeats (a second copy
#     does not take the item), and a stop of the worker stops its copies,
#     their calls and their heartbeats at once.
use strict;
use warnings;

use File::Spec;
use FindBin;
use IO::Socket::INET;
use IPC::Run;
use JSON::PP;
use lib "$FindBin::Bin/lib";
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use TrainDataChecks;

my $top    = File::Spec->rel2abs("$FindBin::Bin/../..");
my $user   = '11111111-1111-1111-1111-111111111111';
my $key    = 'sk-test-secret';
my $oa_key = 'sk-openai-secret';
my $node   = PostgreSQL::Test::Cluster->new('base_url');
$node->init;
$node->start;
$node->safe_psql('postgres', app_and_worker_roles_sql());

# ---------------------------------------------------------------------------
# The attacker's server: a forked child on a free port of 127.0.0.1.  Each
# request is appended to $log as one JSON line {method, path, headers} before
# the answer is written, so the worker has it on file once curl returns.

my $log = "$PostgreSQL::Test::Utils::tmp_check/base_url_requests.jsonl";
my $listener = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
	Listen => 16, ReuseAddr => 1) or die "cannot listen: $!";
my $server = 'http://127.0.0.1:' . $listener->sockport;

# The conversation both answers hold, as a model writes it: a JSON block.
my $conversation = "Here it is.\n```json\n" . encode_json({
	title => 'Saving for a flat',
	turns => [
		{ role => 'user', content => 'I am a nurse and I keep thinking about saving for a flat. What should I do first?' },
		{ role => 'assistant', content => 'Start with the money you cannot lose, then the money you can grow over the years.' },
		{ role => 'user', content => 'How much should I put aside every month, given a modest salary and some debt?' },
		{ role => 'assistant', content => 'Pay the expensive debt first, then save a fixed share of each salary on payday.' } ] })
  . "\n```";

# The answer to a request on path: Chat Completions or Messages.
sub answer
{
	my ($path) = @_;
	return encode_json({
		id => 'chatcmpl-test', object => 'chat.completion', created => 1, model => 'claude-sonnet-4-5-20250929',
		choices => [ { index => 0, finish_reason => 'stop',
			message => { role => 'assistant', content => $conversation } } ],
		usage => { prompt_tokens => 30, completion_tokens => 90, total_tokens => 120 } })
	  if $path =~ m{/chat/completions\z};
	return encode_json({
		id => 'msg_test', type => 'message', role => 'assistant', model => 'claude-sonnet-4-5-20250929',
		stop_reason => 'end_turn', usage => { input_tokens => 30, output_tokens => 90 },
		content => [ { type => 'text', text => $conversation } ] });
}

# What the server answers a request whose body names one of the special
# personas: [status, body, declared length or undef to stream it].  The
# echo answers every time, the others only the first time.
my %answered;
sub special_answer
{
	my ($path, $body, $headers) = @_;
	my ($kind) = $body =~ /conversation with (echokey|nulanswer|hugeanswer|hugechunked|slowanswer|hanganswer) /;
	return undef unless $kind;
	sleep($kind eq 'slowanswer' ? 5 : 30) if $kind =~ /slow|hang/;
	return undef if $kind =~ /slow|hang/;
	if ($kind eq 'echokey')
	{
		my $sent = $headers->{'x-api-key'} // $headers->{authorization} // '';
		return [ 401, JSON::PP->new->canonical->encode({ type => 'error', error => { type => 'authentication_error',
			message => "invalid x-api-key: $sent" } }), 1 ];
	}
	return undef if $answered{$kind}++;
	if ($kind eq 'nulanswer')
	{
		(my $a = answer($path)) =~ s/I am a nurse/I am\\u0000a nurse/;
		return [ 200, $a, 1 ];
	}
	my $padded = answer($path);
	$padded =~ s/\}\z/, "padding": "@{[ ' ' x (3 * 1024 * 1024) ]}"}/;
	return [ 200, $padded, $kind eq 'hugeanswer' ];
}

# Serve requests until killed: record, then answer 200 and close.
sub serve
{
	while (my $c = $listener->accept)
	{
		local $/ = "\r\n";
		my $line = <$c>;
		next unless defined $line;
		my ($method, $path) = $line =~ m{^(\S+) (\S+) HTTP/} or next;
		my %headers;
		while (defined(my $h = <$c>))
		{
			$h =~ s/\r\n\z//;
			last if $h eq '';
			my ($name, $value) = split /:\s*/, $h, 2;
			$headers{ lc $name } = $value;
		}
		print $c "HTTP/1.1 100 Continue\r\n\r\n" if lc($headers{expect} // '') eq '100-continue';
		my $body = '';
		read($c, $body, $headers{'content-length'}) if $headers{'content-length'};
		open(my $fh, '>>', $log) or die "cannot append to $log: $!";
		print $fh encode_json({ method => $method, path => $path, headers => \%headers }), "\n";
		close $fh;
		my $special = special_answer($path, $body, \%headers);
		my ($status, $answer, $declared) = $special ? @$special : (200, answer($path), 1);
		local $SIG{PIPE} = 'IGNORE';    # a worker that stops reading a long answer
		print $c "HTTP/1.1 $status " . ($status == 200 ? 'OK' : 'Unauthorized')
		  . "\r\nContent-Type: application/json\r\n"
		  . ($declared ? 'Content-Length: ' . length($answer) . "\r\n" : '')
		  . "Connection: close\r\n\r\n$answer";
		close $c;
	}
}

my $server_pid = fork() // die "cannot fork: $!";
if ($server_pid == 0)
{
	eval { serve(); };
	POSIX::_exit(0);    # never the parent's END blocks (they stop the node)
}
$listener->close;
END { local $?; if ($server_pid) { kill 'KILL', $server_pid; waitpid($server_pid, 0); } }

# The requests the server received since the last call, one line each:
# "METHOD path x-api-key=... authorization=... anthropic-version=..." ("-"
# for a header that did not come, so a stray key header is caught).
sub received
{
	my @lines;
	if (open(my $fh, '<', $log))
	{
		while (my $l = <$fh>)
		{
			my $r = decode_json($l);
			my $h = $r->{headers};
			push @lines, join(' ', $r->{method}, $r->{path},
				'x-api-key=' . ($h->{'x-api-key'} // '-'),
				'authorization=' . ($h->{authorization} // '-'),
				'anthropic-version=' . ($h->{'anthropic-version'} // '-'));
		}
		close $fh;
	}
	unlink $log;
	return join("\n", @lines);
}

# ---------------------------------------------------------------------------
# Users, configurations, batches.

# psql as app with a user id set for the transaction: the output of $sql.
sub as_user
{
	my ($uid, $sql) = @_;
	return $node->safe_psql('postgres', "BEGIN; SET LOCAL train_data.user_id = '$uid';\n$sql\nCOMMIT;",
		extra_params => [ '-U', 'app' ]);
}

# A template of the user's, with the user's id as its id.
sub new_template
{
	my ($uid) = @_;
	$node->safe_psql('postgres', qq{
INSERT INTO train_data.templates (id, name, category, structure, variables, created_by)
VALUES ('$uid', 'base url', 'finance', 'Write a conversation with {{persona}} about {{topic}}.',
        '[{"name": "persona", "type": "text"}, {"name": "topic", "type": "text", "defaultValue": "saving"}]', '$uid')});
}

# A user with a template and an AI configuration holding $config (JSON).
sub new_user
{
	my ($uid, $config) = @_;
	new_template($uid);
	as_user($uid, qq{INSERT INTO train_data.ai_configurations (config_name, configuration) VALUES ('mine', '$config');});
}

# Replace a user's configuration.
sub set_config
{
	my ($uid, $config) = @_;
	as_user($uid, qq{UPDATE train_data.ai_configurations SET configuration = '$config' WHERE config_name = 'mine';});
}

# A batch of $n items of the user's template; its job id.
sub create_batch
{
	my ($uid, $name, $n) = @_;
	return as_user($uid, qq{SELECT train_data.create_batch('$name', (SELECT jsonb_agg(jsonb_build_object(
    'template_id', '$uid', 'parameters', jsonb_build_object('persona', '$name ' || g)))
  FROM generate_series(1, $n) g));});
}

# A job's items, by position, as "status error_code attempts", then its
# conversations and job status: "completed - 1, ...; 2 conversations; completed"
# (a job whose every item failed ends failed).
sub outcome
{
	my ($job) = @_;
	return $node->safe_psql('postgres', qq{
SELECT string_agg(i.status || ' ' || coalesce(i.error_code, '-') || ' ' || i.attempts, ', ' ORDER BY i.position)
       || '; ' || (SELECT count(*) FROM train_data.conversations c JOIN train_data.batch_items i2 ON i2.conversation_id = c.id
                   WHERE i2.batch_job_id = '$job') || ' conversations; '
       || (SELECT status FROM train_data.batch_jobs WHERE id = '$job')
FROM train_data.batch_items i WHERE i.batch_job_id = '$job'});
}

# Run the worker (one copy, until idle 3 s) with %env on top of a clean
# environment: no key, no base URL, no allow-list, no proxy unless given.
# Returns its stdout and stderr; fails a test when it does not exit 0.
sub run_worker
{
	my ($what, %env) = @_;
	local %ENV = %ENV;
	delete @ENV{qw(ANTHROPIC_API_KEY OPENAI_API_KEY ANTHROPIC_BASE_URL OPENAI_BASE_URL ANTHROPIC_API_URL
		  TD_ALLOWED_BASE_URLS http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY)};
	%ENV = (%ENV, PGHOST => $node->host, PGPORT => $node->port, PGDATABASE => 'postgres',
		PGUSER => 'generation_worker', TD_OFFLINE_DELAY => '0', TD_WORKER_VERBOSE => '0', %env);
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ 'bash', "$top/tools/worker", '--copies', '1', '--idle-exit', '3' ],
		'>', \$out, '2>', \$err);
	ok($ok, "$what: tools/worker exits 0") or diag($err);
	return "$out$err";
}

# Rows that hold either key anywhere (items, logs, conversations, jobs).
sub key_rows
{
	return $node->safe_psql('postgres', qq{
SELECT (SELECT count(*) FROM train_data.batch_items t WHERE t::text ~ 'sk-(test|openai)-secret')
     + (SELECT count(*) FROM train_data.generation_logs t WHERE t::text ~ 'sk-(test|openai)-secret')
     + (SELECT count(*) FROM train_data.conversations t WHERE t::text ~ 'sk-(test|openai)-secret')
     + (SELECT count(*) FROM train_data.batch_jobs t WHERE t::text ~ 'sk-(test|openai)-secret')});
}

my $refused = 'failed base_url_not_allowed 1';
my $done    = 'completed - 1';
my $anthropic_request = "POST /v1/messages x-api-key=$key authorization=- anthropic-version=2023-06-01";
my $openai_request    = "POST /v1/chat/completions x-api-key=- authorization=Bearer $oa_key anthropic-version=-";

# Sanity: the server answers, and records, so "no request" below means none came.
{
	my $out = `curl -sS -o /dev/null -w '%{http_code}' --noproxy '*' -X POST -d '{}' -H 'x-api-key: probe' $server/v1/messages`;
	is($out, '200', 'the attacker\'s server answers');
	is(received(), 'POST /v1/messages x-api-key=probe authorization=- anthropic-version=-',
		'... and records the request and its key header');
}

new_user($user, qq{{"baseUrl": "$server"}});

# ---------------------------------------------------------------------------
# 0. No API key at all: the worker refuses to start (exit 2) unless
#    TD_OFFLINE=1 asks for the offline generator, as the Node worker does.
#    Before, it ran the offline generator silently, so a worker deployed
#    without its key completed the queue with sample conversations.

# Run the worker (--copies N, until idle 3 s) without any key, with %env:
# returns its exit status and stderr.
sub run_keyless
{
	my ($copies, %env) = @_;
	local %ENV = %ENV;
	delete @ENV{qw(ANTHROPIC_API_KEY OPENAI_API_KEY TD_OFFLINE)};
	%ENV = (%ENV, PGHOST => $node->host, PGPORT => $node->port, PGDATABASE => 'postgres',
		PGUSER => 'generation_worker', TD_OFFLINE_DELAY => '0', TD_WORKER_VERBOSE => '0', %env);
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'bash', "$top/tools/worker", '--copies', $copies, '--idle-exit', '3' ], '>', \$out, '2>', \$err);
	return ($? >> 8, $err);
}

my $nokey = create_batch($user, 'nokey', 2);
my ($status, $err) = run_keyless(2);
is($status, 2, 'no API key, no TD_OFFLINE=1: tools/worker exits 2');
like($err, qr/\Ano API key: set ANTHROPIC_API_KEY and\/or OPENAI_API_KEY, or TD_OFFLINE=1 /, '... saying why on stderr');
is(outcome($nokey), 'queued - 0, queued - 0; 0 conversations; queued', '... and claims nothing');
($status, $err) = run_keyless(1, TD_OFFLINE => '1');
is($status, 0, 'TD_OFFLINE=1 without a key: tools/worker exits 0') or diag($err);
like($err, qr/offline \(TD_OFFLINE=1\)/, '... saying it runs the offline generator');
is($node->safe_psql('postgres', qq{
SELECT string_agg(DISTINCT i.status::text, ',') || '; ' || count(i.conversation_id) FROM train_data.batch_items i
WHERE i.batch_job_id = '$nokey'}), 'completed; 2', '... and completes the items with sample conversations');
is(received(), '', '... sending no request');

# ---------------------------------------------------------------------------
# 1. Anthropic, the user's URL not allowed: no request, refused for good.

my $job = create_batch($user, 'refused', 3);
my $out = run_worker('anthropic, not allowed', ANTHROPIC_API_KEY => $key);
is(received(), '', 'anthropic, not allowed: the server received no request (the key never left)');
is(outcome($job), "$refused, $refused, $refused; 0 conversations; failed",
	'anthropic, not allowed: every item failed for good with base_url_not_allowed, no conversation');
unlike($out, qr/sk-test-secret/, 'anthropic, not allowed: the worker\'s output does not hold the key');

# ---------------------------------------------------------------------------
# 2. Anthropic, allowed: the allow-list (a trailing slash on the listed URL,
#    then on the configured one) and the operator's own ANTHROPIC_BASE_URL.

$job = create_batch($user, 'listed', 3);
run_worker('anthropic, listed with a trailing slash', ANTHROPIC_API_KEY => $key,
	TD_ALLOWED_BASE_URLS => "https://unrelated.invalid anthropic=$server/");
is(received(), join("\n", ($anthropic_request) x 3),
	'anthropic, listed: one request per item on /v1/messages with x-api-key and anthropic-version');
is(outcome($job), "$done, $done, $done; 3 conversations; completed",
	'anthropic, listed: every item completed with one conversation');

set_config($user, qq{{"baseUrl": "$server/"}});
$job = create_batch($user, 'slash', 2);
run_worker('anthropic, configured with a trailing slash', ANTHROPIC_API_KEY => $key,
	TD_ALLOWED_BASE_URLS => "anthropic=$server");
is(received(), join("\n", ($anthropic_request) x 2),
	'anthropic, configured with a trailing slash: the same requests (no double slash)');
is(outcome($job), "$done, $done; 2 conversations; completed", 'anthropic, configured with a trailing slash: completed');

# listed for OpenAI only (bare, and openai=): the Anthropic key is not sent there
$job = create_batch($user, 'listed for openai', 2);
$out = run_worker('anthropic, listed for openai', ANTHROPIC_API_KEY => $key,
	TD_ALLOWED_BASE_URLS => "$server openai=$server/");
is(received(), '', 'anthropic, listed only for openai: no request');
is(outcome($job), "$refused, $refused; 0 conversations; failed", 'anthropic, listed only for openai: refused for good');

set_config($user, qq{{"baseUrl": "$server"}});
$job = create_batch($user, 'own', 2);
run_worker('anthropic, the operator\'s own URL', ANTHROPIC_API_KEY => $key, ANTHROPIC_BASE_URL => $server);
is(received(), join("\n", ($anthropic_request) x 2), 'anthropic, ANTHROPIC_BASE_URL: the same requests');
is(outcome($job), "$done, $done; 2 conversations; completed", 'anthropic, ANTHROPIC_BASE_URL: completed');

# ---------------------------------------------------------------------------
# 3. OpenAI (provider chosen in the configuration).  Both keys are set:
#    the Anthropic key must never go to an OpenAI base URL either.

set_config($user, qq{{"provider": "openai", "baseUrl": "$server/v1"}});
$job = create_batch($user, 'openai refused', 2);
$out = run_worker('openai, not allowed', ANTHROPIC_API_KEY => $key, OPENAI_API_KEY => $oa_key,
	ANTHROPIC_BASE_URL => "$server/v1");
is(received(), '', 'openai, allowed only as ANTHROPIC_BASE_URL: no request');
is(outcome($job), "$refused, $refused; 0 conversations; failed", 'openai, not allowed: refused for good');
unlike($out, qr/sk-(test|openai)-secret/, 'openai, not allowed: the worker\'s output does not hold a key');

$job = create_batch($user, 'openai own', 2);
run_worker('openai, the operator\'s own URL', ANTHROPIC_API_KEY => $key, OPENAI_API_KEY => $oa_key,
	OPENAI_BASE_URL => "$server/v1");
is(received(), join("\n", ($openai_request) x 2),
	'openai, OPENAI_BASE_URL: one request per item on /chat/completions with Authorization: Bearer, no x-api-key');
is(outcome($job), "$done, $done; 2 conversations; completed", 'openai, OPENAI_BASE_URL: completed');

# the operator's gateway set: a user's base URL of the public endpoint is not
# the operator's any more (the gateway's key would go to OpenAI)
set_config($user, qq{{"provider": "openai", "baseUrl": "https://api.openai.com/v1"}});
$job = create_batch($user, 'openai public', 2);
run_worker('openai, public endpoint past a gateway', ANTHROPIC_API_KEY => $key, OPENAI_API_KEY => $oa_key,
	OPENAI_BASE_URL => "$server/v1");
is(received(), '', 'openai, public endpoint while OPENAI_BASE_URL is set: no request');
is(outcome($job), "$refused, $refused; 0 conversations; failed", 'openai, public endpoint past a gateway: refused for good');
set_config($user, qq{{"provider": "openai", "baseUrl": "$server/v1"}});

$job = create_batch($user, 'openai listed', 2);
run_worker('openai, listed', ANTHROPIC_API_KEY => $key, OPENAI_API_KEY => $oa_key,
	TD_ALLOWED_BASE_URLS => "$server/v1/");
is(received(), join("\n", ($openai_request) x 2), 'openai, listed: the same requests');
is(outcome($job), "$done, $done; 2 conversations; completed", 'openai, listed: completed');

# ---------------------------------------------------------------------------
# 4. Base URLs that only start with an allowed one, each of another user.
#    Each would reach the server (or fail on the network) if the worker
#    compared prefixes.

my ($port) = $server =~ /:(\d+)\z/;
my $at_url = "$server\@127.0.0.1:$port";   # userinfo "127.0.0.1:PORT", host 127.0.0.1:PORT
my ($ok, $stdout, $stderr) = (undef, '', '');
$ok = $node->psql('postgres', qq{BEGIN; SET LOCAL train_data.user_id = '$user';
UPDATE train_data.ai_configurations SET configuration = '{"baseUrl": "$at_url"}'; COMMIT;},
	stdout => \$stdout, stderr => \$stderr, extra_params => [ '-U', 'app' ]);
like($stderr, qr/AI configuration setting "baseUrl" must not hold credentials/,
	'a base URL with the allowed host:port as credentials cannot be stored');

my @attacks = ("$server/extra", "$server.evil", $at_url);
my @jobs;
for my $i (0 .. $#attacks)
{
	my $uid = sprintf('22222222-2222-2222-2222-%012d', $i + 1);
	if ($attacks[$i] eq $at_url)
	{
		# as a restore writes it: row_security off skips the validation
		new_template($uid);
		$node->safe_psql('postgres', qq{
SET row_security = off;
INSERT INTO train_data.ai_configurations (user_id, created_by, config_name, configuration)
VALUES ('$uid', '$uid', 'mine', '{"baseUrl": "$at_url"}');});
	}
	else
	{
		new_user($uid, qq{{"baseUrl": "$attacks[$i]"}});
	}
	is($node->safe_psql('postgres', qq{SELECT train_data.get_effective_ai_config('$uid') ->> 'baseUrl'}),
		$attacks[$i], "attack $i: the configuration in force names $attacks[$i]");
	push @jobs, create_batch($uid, "attack $i", 2);
}
$out = run_worker('prefix attacks', ANTHROPIC_API_KEY => $key, ANTHROPIC_BASE_URL => $server,
	TD_ALLOWED_BASE_URLS => "$server $server/");
is(received(), '', 'prefix attacks: the server received no request');
for my $i (0 .. $#attacks)
{
	is(outcome($jobs[$i]), "$refused, $refused; 0 conversations; failed",
		"prefix attack $attacks[$i]: refused for good, no conversation");
}
unlike($out, qr/sk-test-secret/, 'prefix attacks: the worker\'s output does not hold the key');

# ---------------------------------------------------------------------------
# 5. Answers of an allowed server that must not be stored as they come.

set_config($user, qq{{"baseUrl": "$server"}});
my %answers = map { $_ => create_batch($user, $_, 1) } qw(echokey nulanswer hugeanswer hugechunked);
$out = run_worker('answers not to store', ANTHROPIC_API_KEY => $key, ANTHROPIC_BASE_URL => $server,
	TD_MAX_RESPONSE_MB => '1', TD_WORKER_VERBOSE => '1');
received();

# An item's status, error code and attempts, and its calls' logs
# (status:error_code, oldest first), as "completed - 2; failed:x success".
sub calls_of
{
	my ($job) = @_;
	return $node->safe_psql('postgres', qq{
SELECT i.status || ' ' || coalesce(i.error_code, '-') || ' ' || i.attempts || '; '
       || (SELECT string_agg(l.status || coalesce(':' || l.error_code, ''), ' ' ORDER BY l.created_at, l.id)
           FROM train_data.generation_logs l WHERE l.batch_item_id = i.id)
FROM train_data.batch_items i WHERE i.batch_job_id = '$job'});
}

is(calls_of($answers{echokey}), 'failed 401 1; failed:401', 'an answer echoing the key: failed for good (401)');
is($node->safe_psql('postgres', qq{SELECT error_message FROM train_data.batch_items WHERE batch_job_id = '$answers{echokey}'}),
	'HTTP 401: {"error":{"message":"invalid x-api-key: ***","type":"authentication_error"},"type":"error"}',
	'... its error stored with the key replaced by ***');
is(calls_of($answers{nulanswer}), 'completed - 2; failed:invalid_response success',
	'an answer holding a NUL: failed retryable as invalid_response (not left to its lease), then completed');
like($node->safe_psql('postgres', qq{
SELECT l.error_message FROM train_data.generation_logs l JOIN train_data.batch_items i ON i.id = l.batch_item_id
WHERE i.batch_job_id = '$answers{nulanswer}' AND l.status = 'failed'}),
	qr/\Aunusable response: 22P05: unsupported Unicode escape sequence\z/, '... with what the database said');
is(calls_of($answers{hugeanswer}), 'completed - 2; failed:response_too_large success',
	'an answer declaring 3 MB past a 1 MB limit: refused unread, retried, completed');
is(calls_of($answers{hugechunked}), 'completed - 2; failed:response_too_large success',
	'an answer streamed past a 1 MB limit without a length: cut off, retried, completed');
is($node->safe_psql('postgres', qq{
SELECT count(*) FROM train_data.generation_logs WHERE octet_length(response_payload::text) > 1024 * 1024}), '0',
	'no stored answer holds more than the limit');
unlike($out, qr/sk-test-secret/, 'answers not to store: the worker\'s output does not hold the key');

# ---------------------------------------------------------------------------
# 6. Heartbeats and stopping.  A call of 5 s with a lease of 3 s: the
#    heartbeats (every second) keep it, so the other copy never takes the
#    item and the server gets one request.

# Start the worker (--copies 2, a lease of 3 s) in the background.
sub start_worker
{
	my ($name, $idle) = @_;
	local %ENV = %ENV;
	delete @ENV{qw(OPENAI_API_KEY OPENAI_BASE_URL ANTHROPIC_API_URL TD_ALLOWED_BASE_URLS http_proxy https_proxy
		  HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY)};
	%ENV = (%ENV, PGHOST => $node->host, PGPORT => $node->port, PGDATABASE => 'postgres',
		PGUSER => 'generation_worker', TD_WORKER_VERBOSE => '0', ANTHROPIC_API_KEY => $key, ANTHROPIC_BASE_URL => $server);
	my ($out, $err) = ('', '');
	my $h = IPC::Run::start([ 'bash', "$top/tools/worker", '--name', $name, '--copies', '2', '--lease', '3 seconds',
			'--idle-exit', $idle ], '>', \$out, '2>', \$err);
	return $h;
}

my $slow = create_batch($user, 'slowanswer', 1);
my $h = start_worker('heartbeat', 3);
$h->finish;
is(received(), $anthropic_request, 'a call longer than the lease: one request (the other copy never took the item)');
is(calls_of($slow), 'completed - 1; success', '... completed at its first attempt');

# A job its owner cancels while the model answers (5 s): the completion is
# refused (55000) and the answer recorded as a discarded call, with its
# tokens (before, the call the provider billed left no record).
my $cancelled = create_batch($user, 'slowanswer', 1);
$h = start_worker('cancelled', 3);
for (1 .. 100)
{
	last if $node->safe_psql('postgres', qq{
SELECT count(*) FROM train_data.batch_items WHERE batch_job_id = '$cancelled' AND status = 'processing'}) eq '1';
	select(undef, undef, undef, 0.1);
}
as_user($user, qq{SELECT train_data.cancel_batch('$cancelled');});
$h->finish;
is(calls_of($cancelled), 'cancelled - 1; discarded:discarded', 'a job cancelled while the model answers: the answer logged as discarded');
is($node->safe_psql('postgres', qq{
SELECT l.retry_attempt || ' ' || (l.input_tokens > 0) || ' ' || (l.output_tokens > 0) || ' ' || l.error_message
FROM train_data.generation_logs l JOIN train_data.batch_items i ON i.id = l.batch_item_id
WHERE i.batch_job_id = '$cancelled'}), '0 true true the item was cancelled', '... with its attempt and tokens');
received();

# Processes whose command line holds $text (the worker's copies, curl).
sub processes_with
{
	my ($text) = @_;
	my @found;
	for my $cmdline (glob '/proc/[0-9]*/cmdline')
	{
		open(my $fh, '<', $cmdline) or next;
		my $c = do { local $/; <$fh> } // '';
		close $fh;
		$c =~ tr/\0/ /;
		push @found, $c if index($c, $text) >= 0 && $c !~ /\bprove\b|perl/;
	}
	return scalar @found;
}

# A call that hangs (30 s): the worker is stopped (TERM to the process the
# operator started) during it.
my $hang = create_batch($user, 'hanganswer', 1);
$h = start_worker('stopped', 60);
my $waited = 0;
while ($waited < 200 && !-s $log) { select(undef, undef, undef, 0.1); $waited++; }
ok(-s $log, 'the hanging call reached the server');
select(undef, undef, undef, 1.5);    # a heartbeat or two
ok(processes_with($server) >= 1, 'curl is running');
$h->signal('TERM');
my $stopped = eval { $h->finish; 1 };
my $gone = 0;
for (1 .. 30)
{
	last if ($gone = processes_with($server) == 0 && processes_with('--name stopped') == 0);
	select(undef, undef, undef, 0.1);
}
ok($gone, 'TERM: the worker, its copies and their curl calls are gone within 3 s');
my $lease_then = $node->safe_psql('postgres', qq{SELECT lease_expires_at FROM train_data.batch_items WHERE batch_job_id = '$hang'});
sleep 2;
is($node->safe_psql('postgres', qq{SELECT lease_expires_at FROM train_data.batch_items WHERE batch_job_id = '$hang'}),
	$lease_then, '... and no heartbeat extends the lease after the stop');
is($node->safe_psql('postgres', qq{SELECT status || ' ' || attempts FROM train_data.batch_items WHERE batch_job_id = '$hang'}),
	'processing 1', '... the item left to its lease (3 s), which hands it on');
received();

is(key_rows(), '0', 'no stored row holds either key');

kill 'KILL', $server_pid;
waitpid($server_pid, 0);
$server_pid = 0;
$node->stop;
done_testing();
