-- render: render_template() and check_template() through SQL — every grammar
-- form, defaults, validation errors and warnings, unsafe expressions, bad
-- arguments, Unicode and long inputs.

-- The three expression forms, a default, HTML escaping off and on.
SELECT jsonb_pretty(train_data.render_template(
    'Hi {{name}}, {{ address.city }} is {{vip ? ''great'' : ''fine''}}; topic: {{topic}}.',
    '{"name": "Ann <b>", "address": {"city": "Paris"}, "vip": true}',
    '[{"name": "name", "type": "text"},
      {"name": "topic", "type": "text", "defaultValue": "money"},
      {"name": "vip", "type": "text", "defaultValue": "no"}]'));
SELECT train_data.render_template('{{t}} {{f ? ''<yes>'' : ''<no>''}}', '{"t": "a/b & \"c\" ''d''", "f": ""}', '[]', true) ->> 'resolved';

-- JavaScript truthiness in the ternary form.
SELECT v AS value, train_data.render_template('{{f ? ''yes'' : ''no''}}', jsonb_build_object('f', v)) ->> 'resolved' AS chosen
FROM (VALUES ('true'::jsonb), ('false'), ('0'), ('1'), ('0.0'), ('""'), ('"0"'), ('"false"'), ('[]'), ('{}'), ('null')) AS t(v);
SELECT train_data.render_template('{{f ? ''yes'' : ''no''}}', '{}') ->> 'resolved' AS absent_is_falsy;

-- Values of every JSON type substitute as text; null and absent stay.
SELECT train_data.render_template('{{s}}|{{n}}|{{b}}|{{a}}|{{o}}|{{z}}|{{absent}}|{{o.k}}|{{o.none}}|{{s.x}}',
    '{"s": "str", "n": 1.50, "b": false, "a": [1, "x"], "o": {"k": "v"}, "z": null}') - 'parameters';

-- Required parameters, and each type's validation.
SELECT jsonb_pretty(train_data.render_template('{{a}} {{b}} {{c}}', '{"c": ""}',
    '[{"name": "a", "type": "text"}, {"name": "b", "type": "number"}, {"name": "c", "type": "dropdown", "options": ["x"]}]'));
SELECT v AS value, train_data.render_template('{{n}}', ('{"n": ' || v || '}')::jsonb, '[{"name": "n", "type": "number"}]') -> 'errors' -> 0 ->> 'message' AS error
FROM (VALUES ('42'), ('-1.5e3'), ('" 7 "'), ('"1e15"'), ('1000000000000000'), ('1000000000000001'),
             ('-1e16'), ('1e400'), ('"Infinity"'), ('"-Infinity"'), ('"12abc"'), ('"0x10"'), ('true'), ('[1]')) AS t(v);
SELECT train_data.render_template('{{d}}', '{"d": "c"}', '[{"name": "d", "type": "dropdown", "options": ["a", "b"]}]') -> 'errors';
SELECT train_data.render_template('{{d}}', '{"d": 2}', '[{"name": "d", "type": "dropdown", "options": ["1", "2"]}]') ->> 'resolved' AS number_matches_option;
SELECT train_data.render_template('{{t}}', '{"t": {"x": 1}}', '[{"name": "t", "type": "text"}]') -> 'errors' -> 0 ->> 'message' AS object_as_text;

-- Text limit: 10,000 characters (characters, not bytes).
SELECT train_data.render_template('{{t}}', jsonb_build_object('t', repeat('x', 10000)), '[{"name": "t", "type": "text"}]') ->> 'success' AS at_limit,
       train_data.render_template('{{t}}', jsonb_build_object('t', repeat('x', 10001)), '[{"name": "t", "type": "text"}]') -> 'errors' -> 0 ->> 'message' AS over_limit,
       train_data.render_template('{{t}}', jsonb_build_object('t', repeat('é', 10000)), '[{"name": "t", "type": "text"}]') ->> 'success' AS multibyte_at_limit;

-- Warnings: undeclared parameters and unresolved placeholders.
SELECT train_data.render_template('{{a}} {{b}} {{c.d}}', '{"a": 1, "extra": 2}', '[{"name": "a", "type": "number"}]') -> 'warnings';
-- Only the template's own placeholders: a value that quotes one, or joins
-- the template's text into one, is data (scanning the output refused any
-- item whose value quoted "{{name}}", for good; found by a review).
SELECT train_data.render_template('Explain {{q}} x}} {{gone}}', '{"q": "the syntax {{name}} and {{y"}',
                                  '[{"name": "q", "type": "text"}]') -> 'warnings' AS only_the_templates;

-- Unsafe expressions fail the whole render.  ("{{ {a} }}" is no placeholder
-- at all: its content would end at the first "}"; "__proto__" is just a name.)
SELECT e AS expression, r ->> 'success' AS success, r -> 'errors' -> 0 ->> 'message' AS error
FROM (SELECT e, train_data.render_template('x ' || e, '{"a": 1}') AS r
FROM (VALUES ('{{a b}}'), ('{{a.b.c}}'), ('{{a()}}'), ('{{a ? "x" : "y"}}'), ('{{a ? ''x''}}'), ('{{1a}}'), ('{{ {a} }}'),
             ('{{__proto__.x}}'), ('{{a; DROP TABLE t}}'), ('{{名前}}')) AS t(e)) s;
-- An unsafe expression is quoted clipped, whatever its length (a 100 MB
-- one was copied whole into the errors, a review of 1.2).
SELECT r -> 'errors' -> 0 ->> 'message' AS error, octet_length(r::text) < 1000 AS small
FROM train_data.render_template('{{ a' || repeat('b', 1000000) || ' c}}', '{}') r;
SELECT train_data.render_template('{{ok}} {{bad!}}', '{"ok": 1}') - 'errors';

-- Text that only looks like a placeholder is left alone.
SELECT train_data.render_template('{ {a}} {{}} {{a}b}} }} {{ and {{{a}}}x', '{"a": 1}') -> 'errors' -> 0 ->> 'message';
SELECT train_data.render_template('{ {a}} {{}} {{a}b}} }} {{', '{"a": 1}') ->> 'resolved';

-- The blocklist of the original is gone: ordinary prose is fine.
SELECT train_data.render_template('{{q}}', '{"q": "Should I update my will; select funds -- or drop it?"}',
                                  '[{"name": "q", "type": "text"}]') ->> 'resolved';

-- Unicode in the template and the values (names are ASCII identifiers);
-- a long template renders in one pass.
SELECT train_data.render_template('Grüße, {{name}}! {{emoji}} — {{n ? ''sí'' : ''no''}} 中文', '{"name": "花子", "emoji": "😀", "n": 1}') ->> 'resolved';
SELECT train_data.render_template('{{_x}}', '{"_x": "ok"}') ->> 'resolved';
SELECT length(r ->> 'resolved') AS resolved_length, r ->> 'success' AS success
FROM (SELECT train_data.render_template(repeat('Dear {{name}}, ', 100000), '{"name": "Bo"}') AS r) s;
SELECT length(train_data.render_template(repeat('{', 1000000), '{}') ->> 'resolved') AS braces;

-- Arguments: NULLs and malformed shapes.
SELECT train_data.render_template('{{a}}', NULL) ->> 'resolved' AS null_parameters;
SELECT train_data.render_template('{{a}}', '{"a": 1}', NULL) ->> 'resolved' AS null_variables;
SELECT train_data.render_template('x', '{}', '[]', NULL) ->> 'resolved' AS null_escape;
SELECT expect_error($$SELECT train_data.render_template(NULL, '{}')$$);
SELECT expect_error($$SELECT train_data.render_template('x', '[1]')$$);
SELECT expect_error($$SELECT train_data.render_template('x', '"s"')$$);
SELECT expect_error($$SELECT train_data.render_template('x', '{}', '{}')$$, true);
SELECT expect_error($$SELECT train_data.render_template('x', '{}', '[1]')$$);
SELECT expect_error($$SELECT train_data.render_template('x', '{}', '[{"type": "text"}]')$$, true);
SELECT expect_error($$SELECT train_data.render_template('x', '{}', '[{"name": "a"}]')$$, true);
SELECT expect_error($$SELECT train_data.render_template('x', '{}', '[{"name": "a", "type": "date"}]')$$, true);
SELECT expect_error($$SELECT train_data.render_template('x', '{}', '[{"name": "a", "type": "text"}, {"name": "a", "type": "number"}]')$$);
SELECT expect_error($$SELECT train_data.render_template('x', '{}', '[{"name": "d", "type": "dropdown"}]')$$, true);
SELECT expect_error($$SELECT train_data.render_template('x', '{}', '[{"name": "d", "type": "dropdown", "options": [1]}]')$$);
SELECT expect_error($$SELECT train_data.render_template('x', '{}', '[{"name": "a", "type": "text", "defaultValue": {}}]')$$);

-- check_template: what a stored template must satisfy.
SELECT train_data.check_template('Hello {{name}}', '[{"name": "name", "type": "text"}]');
SELECT expect_error($$SELECT train_data.check_template('Hello {{name()}}')$$, true);
SELECT expect_error($$SELECT train_data.check_template('Hello', '[{"name": 1}]')$$);
-- A default its own variable refuses would fail every render that leaves
-- the variable out; such a template is refused when stored (before the
-- thirty-sixth session it was accepted, and each of those renders failed).
SELECT expect_error($$SELECT train_data.check_template('Hi {{tone}}',
    '[{"name": "tone", "type": "dropdown", "options": ["calm", "warm"], "defaultValue": "loud"}]')$$, true);
SELECT expect_error($$SELECT train_data.check_template('Hi {{n}}',
    '[{"name": "n", "type": "number", "defaultValue": "many"}]')$$, true);
SELECT expect_error($$SELECT train_data.check_template('Hi {{n}}',
    '[{"name": "n", "type": "number", "defaultValue": 1e300}]')$$, true);
SELECT expect_error($$SELECT train_data.check_template('Hi {{t}}',
    format('[{"name": "t", "type": "text", "defaultValue": "%s"}]', repeat('x', 10001))::jsonb)$$, true);
-- (a dropdown of many options is named by ten and a count)
SELECT expect_error($$SELECT train_data.check_template('Hi {{o}}',
    jsonb_build_array(jsonb_build_object('name', 'o', 'type', 'dropdown', 'defaultValue', 'none',
                      'options', (SELECT jsonb_agg('option ' || g) FROM generate_series(1, 25) g))))$$, true);
-- Defaults each variable accepts: a dropdown option (a number matching an
-- option's text too), a numeric string, a number for a text variable, an
-- empty default (none).
SELECT train_data.check_template('Hi {{tone}} {{n}} {{t}} {{k}}',
    '[{"name": "tone", "type": "dropdown", "options": ["calm", "3"], "defaultValue": 3},
      {"name": "n", "type": "number", "defaultValue": "2.5"},
      {"name": "t", "type": "text", "defaultValue": 42},
      {"name": "k", "type": "dropdown", "options": ["a"], "defaultValue": ""}]');
SELECT train_data.render_template('Hi {{tone}} {{n}} {{t}}', '{}',
    '[{"name": "tone", "type": "dropdown", "options": ["calm", "3"], "defaultValue": 3},
      {"name": "n", "type": "number", "defaultValue": "2.5"},
      {"name": "t", "type": "text", "defaultValue": 42}]') ->> 'resolved' AS resolved;
