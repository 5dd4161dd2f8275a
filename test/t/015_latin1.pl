# 015_latin1.pl — train_data in a database whose encoding is not UTF-8
# (LATIN1): the native functions read and write text in the server's
# encoding, converting to and from the cores' UTF-8.  The same conversation
# (accented letters that LATIN1 holds) gives, in a LATIN1 database and in a
# UTF-8 one of the same cluster, the same metrics document, defects and
# score, the same parsed response, the same rendered template and the same
# vocabulary, all
# read back by a UTF-8 client; a character LATIN1 cannot hold is refused
# with PostgreSQL's own conversion error, not stored mangled.  In a
# SQL_ASCII database, which holds any bytes, a turn that is not UTF-8 is
# signed as it is (its invalid bytes separate words), never refused.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('latin1');
$node->init;
$node->start;
$node->safe_psql('postgres', q{CREATE DATABASE utf8db ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$node->safe_psql('postgres', q{CREATE DATABASE latin1db ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});

# What each database is asked, by a UTF-8 client; each line of the output
# is one value.
my $turns = q{'[{"role": "user", "content": "Bonjour! Où est le café? Ich möchte eine Übersicht, naïve résumé {{name}}"},
  {"role": "assistant", "content": "Je suis désolé, but as an AI I cannot help with that. Größer ist nicht besser."},
  {"role": "user", "content": "Très bien. Merci beaucoup, au revoir"},
  {"role": "assistant", "content": "Bonne journée, à bientôt!"}]'::jsonb};
my $queries = <<"SQL";
SET client_encoding = 'UTF8';
CREATE EXTENSION train_data CASCADE;
SELECT train_data.quality_metrics($turns)::text;
SELECT train_data.quality_metrics($turns, '{"turns": 4, "min_turns": 4, "max_turns": 6}')::text;
SELECT array_to_string(train_data.quality_defects($turns), ',');
SELECT train_data.quality_score($turns);
SELECT train_data.parse_generation_response(jsonb_build_object('turns', $turns))::text;
SELECT train_data.render_template('Sujet : {{topic}}, « {{mood}} »', '{"topic": "épargne", "mood": "ça va"}')::text;
SELECT train_data.conversation_text_signature($turns)::text;
SELECT train_data.vocabulary_diversity(x)::text FROM (VALUES ('Où est le café? naïve résumé'), ('Très bien, à bientôt, café')) v(x);
SQL

my $utf8   = $node->safe_psql('utf8db',   $queries);
my $latin1 = $node->safe_psql('latin1db', $queries);
is($node->safe_psql('latin1db', 'SHOW server_encoding'), 'LATIN1', 'the second database is LATIN1');
my @u = split /\n/, $utf8;
my @l = split /\n/, $latin1;
is(scalar @l, scalar @u, 'as many values from both databases');
my @what = ('metrics document', 'metrics document with an expectation', 'defect codes', 'score',
	'parsed response', 'rendered template', 'text signature', 'vocabulary (its words were cut at each accent: a review of 1.2)');
for my $i (0 .. $#what)
{
	is($l[$i], $u[$i], "LATIN1 and UTF-8 databases give the same $what[$i]");
}
like($u[0], qr/"defects": \["leaked_placeholder", "refusal"/, 'the metrics document finds the placeholder and the refusal');
like($u[0], qr/"refusalTurns": 1/, 'the refusal signal counted through the conversion');
like($u[4], qr/Größer ist nicht besser/, 'the parsed response keeps the accented text');
like($u[5], qr/Sujet : épargne, « ça va »/, 'the template renders the accented values');
like($u[7], qr/"words": 11, "estimated": false, "distinctWords": 10,/, 'the vocabulary counts the accented words whole');

# Near duplicates measured on their texts (exact: each text read and
# converted to UTF-8 once, then given back) find the same pair with the
# same similarity in both databases, the exact one of the two texts.
my $near = <<'SQL';
SET client_encoding = 'UTF8';
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status, quality_score)
SELECT ('e1a00000-0000-0000-0000-00000000000' || c)::uuid, 'near ' || c, 'P', 'N', 'template', 'generated', 10 - c
FROM generate_series(1, 2) c;
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT ('e1a00000-0000-0000-0000-00000000000' || c)::uuid, t, CASE t WHEN 1 THEN 'user' ELSE 'assistant' END,
       CASE t WHEN 1 THEN 'Où est le café près de la gare? Je cherche un déjeuner à côté, naïve et résumé.'
              ELSE 'Le café est à deux pas, après la boulangerie, en face du théâtre ' || CASE c WHEN 1 THEN 'rénové.' ELSE 'fermé.' END END
FROM generate_series(1, 2) c, generate_series(1, 2) t;
SELECT d.conversation_id || ' ' || d.duplicate_of || ' ' || d.similarity || ' '
       || (d.similarity = train_data.shingle_jaccard(train_data.conversation_text(d.conversation_id),
                                                     train_data.conversation_text(d.duplicate_of)))
FROM train_data.near_duplicates(0.6, NULL, true) d;
SQL
my $near_utf8 = $node->safe_psql('utf8db', $near);
is($node->safe_psql('latin1db', $near), $near_utf8, 'LATIN1 and UTF-8 databases name the same near pair, measured alike');
like($near_utf8, qr/^e1a00000-0000-0000-0000-000000000002 e1a00000-0000-0000-0000-000000000001 0\.[0-9]+ true$/,
	'the pair measured on its texts');

# The verdicts judge at most 8 MB of text, as a response holds at most 8 MB,
# measured in the database's bytes: 4.5 million "é" are 4.5 MB in LATIN1
# (judged) and 9 MB in UTF-8 (refused); measured after the conversion, a
# LATIN1 completion of accented text could have been refused.
my $big = q{SELECT array_to_string(train_data.quality_defects(jsonb_build_array(
  jsonb_build_object('role', 'user', 'content', repeat('é', 4500000)),
  jsonb_build_object('role', 'assistant', 'content', 'ok'))), ',')};
is($node->safe_psql('latin1db', "SET client_encoding = 'UTF8'; $big"), 'looping_turn',
	'LATIN1: 4.5 MB of text is judged (9 MB once converted)');
my ($big_rc, $big_out, $big_err) = $node->psql('utf8db', $big);
like($big_err, qr/turns hold 9000002 bytes of text; the verdicts judge 8 MB at most/, 'UTF-8: the same text, 9 MB, is refused');

# A character LATIN1 cannot hold: the server's conversion refuses it.
my ($rc, $out, $err) = $node->psql('latin1db',
	q{SET client_encoding = 'UTF8'; SELECT train_data.quality_score('[{"role": "user", "content": "年金"}]')});
isnt($rc, 0, 'a character LATIN1 cannot hold is refused');
like($err, qr/has no equivalent in encoding "LATIN1"/, 'with the conversion error');

# An error message quoting what the caller gave, and the details of the
# parser's refusals: in the database's encoding, so a UTF-8 client reads the
# same text from both databases (the cores write UTF-8: sent as it was, the
# LATIN1 database's message held bytes that are not LATIN1 text).
my $bad_role = q{SET client_encoding = 'UTF8';
  SELECT train_data.parse_generation_response('{"turns": [{"role": "user", "content": "a"}, {"role": "rôle", "content": "b"}]}')};
my $not_response = q{SET client_encoding = 'UTF8'; SELECT train_data.parse_generation_response('{"answer": 1}')};
for my $case ([ 'a quoted role', $bad_role ], [ 'a refusal detail', $not_response ])
{
	my ($name, $sql) = @$case;
	my (undef, undef, $err_u) = $node->psql('utf8db',   $sql, extra_params => [ '-v', 'VERBOSITY=default' ]);
	my (undef, undef, $err_l) = $node->psql('latin1db', $sql, extra_params => [ '-v', 'VERBOSITY=default' ]);
	is($err_l, $err_u, "LATIN1 and UTF-8 databases give the same error for $name");
}
my (undef, undef, $role_err) = $node->psql('latin1db', $bad_role);
like($role_err, qr/turn 2 of the response has role "rôle"/, 'the quoted role reads as the caller wrote it');

# SQL_ASCII: bytes that are not UTF-8 (a LATIN1 é, 0xE9) are signed, not an
# error (found by a review of the upgrade: one such turn made the signatures
# of the update, and so ALTER EXTENSION UPDATE, fail for every user), and
# sign as the words the other bytes make.
$node->safe_psql('postgres', q{CREATE DATABASE asciidb ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
is($node->safe_psql('asciidb', <<'SQL'), "t\n1\nt", 'SQL_ASCII: a turn that is not UTF-8 is signed as its words');
CREATE EXTENSION train_data CASCADE;
SELECT train_data.minhash_signature(convert_from('\x6361 66e9 2074 6f64 6179'::bytea, 'SQL_ASCII'))
       = train_data.minhash_signature('caf today');
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status)
VALUES ('c0000000-0000-0000-0000-000000000001', 'caf', 'Ann', 'calm', 'template', 'generated');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('c0000000-0000-0000-0000-000000000001', 1, 'user',
        convert_from('\x6361 66e9 2074 6f64 6179'::bytea, 'SQL_ASCII'));
SELECT count(*) FROM train_data.conversation_signatures;
SELECT s.signature = train_data.minhash_signature('caf today') FROM train_data.conversation_signatures s;
SQL

# SQL_ASCII: an export does not write those bytes into a file that must be
# UTF-8, it fails naming the conversation (a review of 1.2 found the LATIN1
# byte written as it was); a conversation of UTF-8 text exports.
my ($ascii_rc, $ascii_out, $ascii_err) = $node->psql('asciidb', <<'SQL');
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
SELECT train_data.export_jsonl('openai', 'selected', '{c0000000-0000-0000-0000-000000000001}', NULL,
                               '{"includeDefects": true}');
SQL
like($ascii_err, qr/ERROR:  conversation c0000000-0000-0000-0000-000000000001 holds text that is not UTF-8/,
	'SQL_ASCII: an export of bytes that are not UTF-8 fails naming the conversation');
my ($sys_rc, $sys_out, $sys_err) = $node->psql('asciidb', <<'SQL');
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
SELECT train_data.export_jsonl('openai', 'selected', '{c0000000-0000-0000-0000-000000000001}', NULL,
    jsonb_build_object('includeDefects', true, 'systemMessage', convert_from('\x6361 66e9'::bytea, 'SQL_ASCII')));
SQL
like($sys_err, qr/ERROR:  export option "systemMessage" is not UTF-8/,
	'SQL_ASCII: a system message that is not UTF-8 is named as the option');
is($node->safe_psql('asciidb', <<'SQL'), q({"messages":[{"role":"user","content":"café"}]}), 'SQL_ASCII: UTF-8 text exports');
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
UPDATE train_data.conversation_turns SET content = convert_from('\x6361 66c3 a9'::bytea, 'SQL_ASCII');
SELECT train_data.export_jsonl('openai', 'selected', '{c0000000-0000-0000-0000-000000000001}', NULL,
                               '{"includeDefects": true}');
SQL

# WIN1252: a byte that has no UTF-8 equivalent (0x81) separates words when
# signed, as invalid UTF-8 does in SQL_ASCII (found by a review of the
# upgrade: converted strictly, the turn's insert failed, and so did the
# update to 1.2 of a database of 1.1 holding one, for every user).
$node->safe_psql('postgres', q{CREATE DATABASE win1252db ENCODING 'WIN1252' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
my $win_turn = q{convert_from('\x6f64 6420 8162 7974 6520 6865 7265'::bytea, 'WIN1252')};   # "odd \x81byte here"
is($node->safe_psql('win1252db', <<"SQL"), "t\n1\nt", 'WIN1252: a byte without a UTF-8 equivalent separates words');
CREATE EXTENSION train_data CASCADE;
SELECT train_data.minhash_signature($win_turn) = train_data.minhash_signature('odd byte here');
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status)
VALUES ('c0000000-0000-0000-0000-000000000001', 'odd', 'Ann', 'calm', 'template', 'generated');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('c0000000-0000-0000-0000-000000000001', 1, 'user', $win_turn);
SELECT count(*) FROM train_data.conversation_signatures;
SELECT s.signature = train_data.minhash_signature('odd byte here') FROM train_data.conversation_signatures s;
SQL
$node->safe_psql('postgres', q{CREATE DATABASE win1252up ENCODING 'WIN1252' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$node->safe_psql('win1252up', <<"SQL");
CREATE EXTENSION train_data VERSION '1.1';
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status)
VALUES ('c0000000-0000-0000-0000-000000000001', 'odd', 'Ann', 'calm', 'template', 'generated');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('c0000000-0000-0000-0000-000000000001', 1, 'user', $win_turn);
SQL
is($node->safe_psql('win1252up', <<'SQL'), 't', 'WIN1252: the update from 1.1 signs such a turn');
ALTER EXTENSION train_data UPDATE;
SELECT s.signature = train_data.minhash_signature('odd byte here') FROM train_data.conversation_signatures s;
SQL

# A CSV export opens with UTF-8's byte order mark only in a UTF-8 database:
# the text is the database's, converted for the client (in a LATIN1
# database a UTF-8 client read "ï»¿" before the header; a review of 1.2).
my $csv = <<'SQL';
SET client_encoding = 'UTF8';
SET train_data.user_id = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
INSERT INTO train_data.conversations (id, title, persona, emotion, tier, status)
VALUES ('c0000000-0000-0000-0000-0000000000c5', 'Café', 'Zoë', 'calm', 'template', 'generated');
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
VALUES ('c0000000-0000-0000-0000-0000000000c5', 1, 'user', 'Où est le café?');
SELECT encode(convert_to(r, 'UTF8'), 'hex') FROM train_data.export_conversations('csv', 'selected', '{}',
    '{c0000000-0000-0000-0000-0000000000c5}') r LIMIT 1;
SQL
like($node->safe_psql('utf8db', $csv), qr/^efbbbf22436f6e766572736174696f6e/, 'UTF-8 database: the CSV opens with the byte order mark');
like($node->safe_psql('latin1db', $csv), qr/^22436f6e766572736174696f6e/, 'LATIN1 database: the CSV opens with its header');

# A blank systemMessage is refused in a LATIN1 database too (the review of
# the first form, which checked only a UTF-8 database, saw " \n " written).
my ($blank_rc, $blank_out, $blank_err) = $node->psql('latin1db',
	q{SELECT * FROM train_data.export_jsonl('openai', 'all', NULL, NULL, '{"systemMessage": " \n\t "}')});
like($blank_err, qr/ERROR:  export option "systemMessage" is blank/, 'LATIN1 database: a blank system message is refused');

$node->stop;
done_testing();
