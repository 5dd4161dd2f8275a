# 018_memory_bound.pl — a call's parsed form of its input is bounded.
#
# The cores parse JSON into trees (and templates into parts) whose memory
# comes from one arena a call.  A value of many small parts takes far more
# memory parsed than as text: a training line of 10 million zeros (20 MB)
# took 1 GB, so any user could have one backend allocate 50 GB with a
# line of the largest text PostgreSQL holds, enough to bring the server's
# memory to an end for every user.  An arena's blocks are bounded at 1 GB
# together now, as one allocation of PostgreSQL's is: past it the call
# fails with 54000.  Not in the regression suite: it needs a GB, and the
# suite also runs under valgrind.  The backend's peak memory is read from
# /proc (Linux).
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('memory');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION train_data');

# One call in a session of its own: its output, its errors, and the
# backend's peak memory in kB (VmHWM) after it, read while the session
# lasts.
sub call_with_peak
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', qq{
\\set VERBOSITY verbose
SELECT pg_backend_pid() AS pid \\gset
$sql;
\\setenv TD_PID :pid
\\! grep '^VmHWM' /proc/\$TD_PID/status
}, on_error_stop => 0);
	my ($peak) = $out =~ /^VmHWM:\s+(\d+) kB/m;
	return ($out, $err, $peak);
}

SKIP:
{
	skip 'no /proc/<pid>/status on this system', 6 unless -r "/proc/$$/status";

	# 30 million zeros (60 MB): a tree of about 3 GB, refused at 1 GB
	my ($out, $err, $peak) = call_with_peak(
		q{SELECT train_data.validate_training_line('[' || repeat('0,', 30000000) || '0]')});
	like($err, qr/ERROR:  54000: parsed input exceeds the limit of 1 GB of memory/,
		'a training line whose tree passes 1 GB is refused (54000)');
	like($err, qr/DETAIL:  Its parsed form was about to take 10737\d+ bytes: each of its values takes memory of its own\./,
		'the detail gives the size reached');
	ok(defined $peak && $peak < 1_700_000, "the backend's peak stays near 1 GB (${\($peak // '?')} kB)");

	# the same through the warnings, with messages of one key each
	($out, $err, $peak) = call_with_peak(
		q{SELECT train_data.training_line_warnings('{"messages":[' || repeat('{"role":"user"},', 8000000) || '{"role":"assistant","content":"b"}]}')});
	like($err, qr/ERROR:  54000: parsed input exceeds the limit of 1 GB of memory/,
		'training_line_warnings is bounded the same way');
	ok(defined $peak && $peak < 1_700_000, "its peak too (${\($peak // '?')} kB)");

	# below the bound, the answer as before
	($out, $err, $peak) = call_with_peak(
		q{SELECT train_data.validate_training_line('[' || repeat('0,', 1000000) || '0]')});
	like($out, qr/^\{data_type\}$/m, 'a line of a million zeros is still judged (data_type)');
}

$node->stop;
done_testing();
