# 010_docs.pl — every SQL example of README.md and docs/*.md is run, and its
# output compared with the text the document shows.
#
# Conventions (see CONTRIBUTING.md, "The documentation test"):
#   - a ```sql block is run; if a ```text block follows it (only blank lines
#     between), that block is the output psql prints for it, compared line by
#     line (trailing white space ignored);
#   - a ```sql block without an output block must not raise an error;
#   - an HTML comment right before a block gives directives, separated by ";":
#       <!-- as ROLE -->   reconnect as ROLE first (`superuser`: the
#                          cluster's bootstrap superuser);
#       <!-- error -->     the block is expected to fail: the ERROR shown in
#                          its output block is part of the comparison;
#       <!-- skip -->      not run (a block that needs something outside the
#                          database, such as a second server).
# Each document runs in a fresh cluster of its own, in one psql session (as
# a user would type it), from top to bottom: setting up roles and data is
# part of the document.  psql runs with -X -q, SHOW_CONTEXT never (PL/pgSQL
# context lines would quote line numbers of function bodies) and TimeZone UTC.
#
# TD_DOCS_ACCEPT=1 writes the output psql printed into the output blocks of
# the documents instead of comparing: the way to make an example's output
# real.  Read the diff before committing it.
use strict;
use warnings;

use File::Temp qw(tempfile);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $accept = ($ENV{TD_DOCS_ACCEPT} // '') eq '1';
my @documents = ('README.md', sort glob('docs/*.md'));

# The blocks of one markdown file: each { line, lang, text, directives, output }
# with output the index (in the file's lines) of the output block, if any.
sub parse_blocks
{
	my ($lines) = @_;
	my (@blocks, $pending, $last_sql);
	my $i = 0;
	while ($i < @$lines)
	{
		my $line = $lines->[$i];
		if ($line =~ /^<!--\s*(.*?)\s*-->\s*$/)
		{
			$pending = [ map { s/^\s+|\s+$//gr } split /;/, $1 ];
			$i++;
			next;
		}
		if ($line =~ /^```(\S*)\s*$/)
		{
			my $lang = $1;
			my $start = $i;
			my @body;
			$i++;
			while ($i < @$lines && $lines->[$i] !~ /^```\s*$/)
			{
				push @body, $lines->[$i];
				$i++;
			}
			die "unterminated code block at line " . ($start + 1) . "\n" if $i >= @$lines;
			my $block = {
				line => $start + 1,
				lang => $lang,
				first => $start + 1,
				last => $i - 1,
				text => join('', map { "$_\n" } @body),
				directives => $pending // [],
			};
			if ($lang eq 'text' && $last_sql)
			{
				$last_sql->{output} = $block;
			}
			elsif ($lang eq 'sql')
			{
				push @blocks, $block;
			}
			$last_sql = $lang eq 'sql' ? $block : undef;
			$pending = undef;
			$i++;
			next;
		}
		$last_sql = undef if $line =~ /\S/;
		$pending = undef if $line =~ /\S/;
		$i++;
	}
	return @blocks;
}

# Runs a document's blocks in one psql session; returns each block's output.
sub run_blocks
{
	my ($node, $blocks) = @_;
	my $superuser = $node->safe_psql('postgres', 'SELECT current_user');
	my $script = "\\set SHOW_CONTEXT never\nSET TimeZone = 'UTC';\n";
	my $role = $superuser;
	for my $n (0 .. $#$blocks)
	{
		my $b = $blocks->[$n];
		next if grep { $_ eq 'skip' } @{ $b->{directives} };
		for my $d (@{ $b->{directives} })
		{
			next unless $d =~ /^as\s+(\S+)$/;
			my $want = $1 eq 'superuser' ? $superuser : $1;
			if ($want ne $role)
			{
				$script .= "\\c - $want\nSET TimeZone = 'UTC';\n";
				$role = $want;
			}
		}
		$script .= "\\echo '\@\@block $n\@\@'\n$b->{text}";
	}
	$script .= "\\echo '\@\@end\@\@'\n";
	my ($fh, $out_file) = tempfile(UNLINK => 1);
	close $fh;
	IPC::Run::run([ 'psql', '-X', '-q', '-d', $node->connstr('docs') ],
		'<', \$script, '>', $out_file, '2>&1');
	my $out = slurp_file($out_file);
	my %outputs;
	my @parts = split /^\@\@block (\d+)\@\@\n/m, $out;
	shift @parts;
	while (@parts)
	{
		my ($n, $text) = splice @parts, 0, 2;
		$text =~ s/^\@\@end\@\@\n.*//ms;
		$outputs{$n} = $text;
	}
	return \%outputs;
}

# Lines without trailing white space, without trailing empty lines.
sub normalise
{
	my ($text) = @_;
	my @l = map { s/\s+$//r } split /\n/, $text // '', -1;
	pop @l while @l && $l[-1] eq '';
	return join("\n", @l) . "\n";
}

# A unified diff of two texts, through diff(1).
sub text_diff
{
	my ($want, $got) = @_;
	my ($fa, $a) = tempfile(UNLINK => 1);
	my ($fb, $b) = tempfile(UNLINK => 1);
	print $fa $want;
	print $fb $got;
	close $fa;
	close $fb;
	my $diff;
	IPC::Run::run([ 'diff', '-u', '--label', 'document', '--label', 'psql', $a, $b ], '>', \$diff);
	return $diff;
}

# Every repository path a document names in backquotes exists (a glob
# matches something), except the outputs a test run makes.
for my $doc (@documents, 'CONTRIBUTING.md', 'CHANGELOG.md')
{
	next unless -e $doc;
	my %seen;
	for my $path (slurp_file($doc) =~ /`((?:sql|src|test|tools|docs)\/[^`\s]*)`/g)
	{
		next if $seen{$path}++;
		next if $path =~ m{^test/(results/|regression\.diffs)};    # made by a run
		my @matches = glob($path);
		ok(@matches && -e $matches[0], "$doc names $path, which exists");
	}
}

for my $doc (@documents)
{
	my @lines = split /\n/, slurp_file($doc), -1;
	my @blocks = parse_blocks(\@lines);
	next unless @blocks;

	(my $name = $doc) =~ s/\W/_/g;
	my $node = PostgreSQL::Test::Cluster->new("docs_$name");
	$node->init;
	$node->start;
	$node->safe_psql('postgres', 'CREATE DATABASE docs');
	my $outputs = run_blocks($node, \@blocks);
	$node->stop;

	my @replace;
	for my $n (0 .. $#blocks)
	{
		my $b = $blocks[$n];
		next if grep { $_ eq 'skip' } @{ $b->{directives} };
		my $where = "$doc line $b->{line} (block " . ($n + 1) . ")";
		my $got = normalise($outputs->{$n});
		my $expects_error = grep { $_ eq 'error' } @{ $b->{directives} };
		if ($b->{output})
		{
			my $want = normalise($b->{output}{text});
			push @replace, [ $b->{output}, $got ] if $accept && $got ne $want;
			ok($got eq $want, "$where: output as shown")
			  or diag("$where differs:\n" . text_diff($want, $got));
		}
		else
		{
			ok($got eq "\n", "$where: runs without output")
			  or diag("$where printed what the document does not show:\n$got");
		}
		my $errors = () = $got =~ /^ERROR:/mg;
		ok($expects_error ? $errors > 0 : $errors == 0,
			"$where: " . ($expects_error ? 'fails as marked' : 'no error'));
	}

	# Accept mode: output blocks replaced from the bottom up.
	if (@replace)
	{
		for my $r (sort { $b->[0]{first} <=> $a->[0]{first} } @replace)
		{
			my ($block, $got) = @$r;
			$got =~ s/\n\z//;
			splice @lines, $block->{first}, $block->{last} - $block->{first} + 1,
			  ($got eq '' ? () : split(/\n/, $got, -1));
		}
		open my $fh, '>', $doc or die "cannot write $doc: $!";
		print $fh join("\n", @lines);
		close $fh;
		diag("$doc: " . scalar(@replace) . " output blocks rewritten");
	}
}

done_testing();
