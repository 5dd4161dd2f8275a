# 003_export_file.pl — 10,000 conversations exported through psql, the way
# the README tells a client to write a .jsonl file, in every shape: the file
# has one line per conversation, and Python's json module parses every line
# and finds each conversation's turns, in order, byte for byte.  The JSON,
# CSV and Markdown documents of export_conversations are written the same way
# and read back by Python's json and csv modules and a line count.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('export');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');

# 10,000 approved conversations of 6 turns each, with hard text in every
# turn: quotes, backslashes, every kind of line break, a control character,
# emoji and CJK.
my $fixture = <<'SQL';
CREATE EXTENSION train_data;
SET row_security = off;
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, topic, tier, status,
                                      quality_score, created_by, created_at)
SELECT ('e0000000-0000-0000-0000-' || lpad(g::text, 12, '0'))::uuid, 'c_' || lpad(g::text, 5, '0'), 'Title "' || g || '"',
       'Persona ' || g % 7, 'calm', 'saving', 'template', 'approved', 7.5,
       'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', '2025-01-01'::timestamptz + g * interval '1 second'
FROM generate_series(1, 10000) g;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, t, CASE WHEN t % 2 = 1 THEN 'user' ELSE 'assistant' END,
       c.conversation_id || ' turn ' || t || E': "quoted" \\ back\\slash\nnew line\r\n' || chr(1) || E'\u2028 😀 年金'
FROM train_data.conversations c, generate_series(1, 6) t;
SQL
$node->safe_psql('app', $fixture);

my $dir = PostgreSQL::Test::Utils::tempdir;
for my $shape ('original', 'openai', 'sharegpt')
{
	my $file = "$dir/$shape.jsonl";
	my $port = $node->port;
	my $host = $node->host;
	system("psql -X -At -v ON_ERROR_STOP=1 -v FETCH_COUNT=1000 -h '$host' -p $port -d app "
		  . "-c \"SELECT train_data.export_jsonl('$shape')\" > '$file'") == 0
	  or die "psql export failed";

	# Python checks every line against the expected turns.
	my $check = <<'PY';
import json, sys
shape, path = sys.argv[1], sys.argv[2]
key, text = ("conversations", "value") if shape == "sharegpt" else ("messages", "content")
n = 0
with open(path, encoding="utf-8", newline="\n") as f:
    for n, line in enumerate(f, 1):
        doc = json.loads(line)
        cid = "c_%05d" % n
        turns = [m[text] for m in doc[key]]
        want = [cid + " turn %d: \"quoted\" \\ back\\slash\nnew line\r\n\x01\u2028 \U0001F600 \u5e74\u91d1" % t
                for t in range(1, 7)]
        if turns != want:
            sys.exit("line %d: turns differ" % n)
        if shape == "original" and doc["metadata"]["conversation_id"] != cid:
            sys.exit("line %d: wrong conversation" % n)
print(n)
PY
	my ($stdout, $stderr);
	IPC::Run::run([ 'python3', '-c', $check, $shape, $file ], '>', \$stdout, '2>', \$stderr);
	chomp $stdout;
	is($stdout, '10000', "$shape: 10,000 lines, each parsed by Python json with its turns byte for byte")
	  or diag($stderr);
}

# The documents: export_conversations through the same psql command, as the
# app user (the export is logged as theirs).
my %reader = (
	json => <<'PY',
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
assert doc["conversation_count"] == len(doc["conversations"]) == 10000
for n, c in enumerate(doc["conversations"], 1):
    assert c["conversation_id"] == "c_%05d" % n, n
    assert [t["content"] for t in c["turns"]] == [
        c["conversation_id"] + " turn %d: \"quoted\" \\ back\\slash\nnew line\r\n\x01\u2028 \U0001F600 \u5e74\u91d1" % t
        for t in range(1, 7)], n
assert doc["summary"]["total_turns"] == 60000 and doc["summary"]["tier_distribution"] == {"template": 10000}
print(len(doc["conversations"]))
PY
	csv => <<'PY',
import csv, io, sys
raw = open(sys.argv[1], "rb").read()
assert raw.startswith(b"\xef\xbb\xbf")
rows = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
assert rows[0][:7] == ["Conversation ID", "Title", "Status", "Tier", "Turn Number", "Role", "Content"], rows[0]
for r in rows[1:]:
    assert r[6].endswith("new line\r\n\x01\u2028 \U0001F600 \u5e74\u91d1") and r[6].startswith("c_"), r
print(len(rows) - 1)
PY
	markdown => <<'PY',
import sys
text = open(sys.argv[1], encoding="utf-8", newline="").read()
assert text.startswith("# Training Conversations Export\n")
print(text.count("\n## Conversation: "))
PY
);
my %want = (json => 10000, csv => 60000, markdown => 10000);
for my $format ('json', 'csv', 'markdown')
{
	my $file = "$dir/export.$format";
	my $port = $node->port;
	my $host = $node->host;
	system("psql -X -q -At -v ON_ERROR_STOP=1 -v FETCH_COUNT=1000 -h '$host' -p $port -d app "
		  . "-c \"SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'\" "
		  . "-c \"SELECT train_data.export_conversations('$format')\" > '$file'") == 0
	  or die "psql export failed";
	my ($stdout, $stderr);
	IPC::Run::run([ 'python3', '-c', $reader{$format}, $file ], '>', \$stdout, '2>', \$stderr);
	chomp $stdout;
	is($stdout, $want{$format}, "$format: read back whole by Python ($want{$format} records)")
	  or diag($stderr);
	# the logged size is the file's size less psql's final newline
	is($node->safe_psql('app', "SELECT file_size FROM train_data.export_logs WHERE format = '$format'"),
		(-s $file) - 1, "$format: the logged size is the size of the file");
}

done_testing();
