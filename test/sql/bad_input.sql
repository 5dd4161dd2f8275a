-- bad_input: the bad-input catalogue.  Every SQL-callable function is sent
-- NULLs, empty and huge (1 MB) strings, JSON of the wrong shape, deeply
-- nested JSON, wrong enum labels, unknown ids and the other user's ids.  Each call shows
-- what it gave: "ok: <first value>" or "<SQLSTATE>: <message>".  Nothing any
-- of these calls does may change a row: a checksum of every table is taken
-- before the first call and compared after the last one.
--
-- attempt() shows at most 120 characters of a value or a message, and the
-- full length when it is longer, so a message that echoes a huge argument
-- would stand out.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''

CREATE FUNCTION public.attempt(stmt text) RETURNS text
    LANGUAGE plpgsql
AS $$
DECLARE
    result text;
    shown text;
BEGIN
    EXECUTE stmt INTO result;
    shown := 'ok: ' || coalesce(result, 'NULL');
    RETURN CASE WHEN length(shown) > 120
                THEN left(shown, 120) || '… (' || length(shown) || ' characters)' ELSE shown END;
EXCEPTION WHEN OTHERS THEN
    shown := SQLSTATE || ': ' || SQLERRM;
    RETURN CASE WHEN length(shown) > 120
                THEN left(shown, 120) || '… (' || length(shown) || ' characters)' ELSE shown END;
END
$$;

-- Argument builders: a 1 MB string, JSON nested 2,000 levels deep.
CREATE FUNCTION public.huge() RETURNS text LANGUAGE sql IMMUTABLE
    AS $$ SELECT repeat('x', 1000000) $$;
CREATE FUNCTION public.deep_object() RETURNS jsonb LANGUAGE sql IMMUTABLE
    AS $$ SELECT (repeat('{"a": ', 2000) || '1' || repeat('}', 2000))::jsonb $$;
CREATE FUNCTION public.deep_array() RETURNS jsonb LANGUAGE sql IMMUTABLE
    AS $$ SELECT (repeat('[', 2000) || repeat(']', 2000))::jsonb $$;

-- A checksum of every table of the extension, read as the owner.
CREATE FUNCTION public.table_checksums() RETURNS TABLE (tbl name, n bigint, md5 text)
    LANGUAGE plpgsql
AS $$
DECLARE
    t name;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c
             WHERE c.relnamespace = 'train_data'::regnamespace AND c.relkind = 'r' ORDER BY 1 LOOP
        tbl := t;
        EXECUTE format('SELECT count(*), coalesce(md5(string_agg(x::text, %L ORDER BY x::text)), %L) FROM train_data.%I x',
                       '|', '', t) INTO n, md5;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Fixture, written by the owner: per user a template, a scenario, a
-- conversation ready for review, a batch job with one queued item, an
-- export log and an AI configuration.
INSERT INTO train_data.templates (id, name, category, structure, variables, created_by) VALUES
    ('a1000000-0000-0000-0000-000000000000', 'bad alice template', 'c', 'Hello {{name}}',
     '[{"name": "name", "type": "text"}]', :alice),
    ('b1000000-0000-0000-0000-000000000000', 'bad bob template', 'c', 'Hello {{name}}',
     '[{"name": "name", "type": "text"}]', :bob);
INSERT INTO train_data.scenarios (id, name, parent_template_id, parent_template_name, context, topic, persona, emotional_arc, created_by) VALUES
    ('a2000000-0000-0000-0000-000000000000', 'bad alice scenario', 'a1000000-0000-0000-0000-000000000000', 'bad alice template', 'c', 't', 'p', 'a', :alice),
    ('b2000000-0000-0000-0000-000000000000', 'bad bob scenario', 'b1000000-0000-0000-0000-000000000000', 'bad bob template', 'c', 't', 'p', 'a', :bob);
INSERT INTO train_data.conversations (id, conversation_id, title, persona, emotion, tier, status, created_by) VALUES
    ('a3000000-0000-0000-0000-000000000000', 'bad_alice', 'alice conversation', 'p', 'e', 'template', 'generated', :alice),
    ('b3000000-0000-0000-0000-000000000000', 'bad_bob', 'bob conversation', 'p', 'e', 'template', 'generated', :bob);
INSERT INTO train_data.conversation_turns (conversation_id, turn_number, role, content)
SELECT c.id, n, CASE n WHEN 1 THEN 'user' ELSE 'assistant' END, c.title || ' turn ' || n
FROM train_data.conversations c, generate_series(1, 2) n;
UPDATE train_data.conversations SET turn_count = 2;
INSERT INTO train_data.batch_jobs (id, name, total_items, created_by) VALUES
    ('a4000000-0000-0000-0000-000000000000', 'bad alice job', 1, :alice),
    ('b4000000-0000-0000-0000-000000000000', 'bad bob job', 1, :bob);
INSERT INTO train_data.batch_items (id, batch_job_id, position, tier, template_id, parameters) VALUES
    ('a6000000-0000-0000-0000-000000000000', 'a4000000-0000-0000-0000-000000000000', 1, 'template',
     'a1000000-0000-0000-0000-000000000000', '{"name": "Ann"}'),
    ('b6000000-0000-0000-0000-000000000000', 'b4000000-0000-0000-0000-000000000000', 1, 'template',
     'b1000000-0000-0000-0000-000000000000', '{"name": "Bo"}');
INSERT INTO train_data.export_logs (id, user_id, format, config, conversation_count, file_url) VALUES
    ('a7000000-0000-0000-0000-000000000000', :alice, 'jsonl', '{}', 1, 'alice export'),
    ('b7000000-0000-0000-0000-000000000000', :bob, 'jsonl', '{}', 1, 'bob export');
INSERT INTO train_data.ai_configurations (id, user_id, config_name, configuration, created_by) VALUES
    ('b5000000-0000-0000-0000-000000000000', :bob, 'bob config', '{"model": {"temperature": 0.1}}', :bob);

CREATE TEMP TABLE before AS SELECT * FROM public.table_checksums();
GRANT SELECT ON before TO PUBLIC;

-- Each call is run as alice (a role without table ownership), the worker
-- functions as the worker role.  The unknown id is 00000000-…-dead.
CREATE TEMP TABLE calls (n serial, fn text, call text);
GRANT SELECT ON calls TO PUBLIC;

--------------------------------------------------------------- templates
INSERT INTO calls (fn, call) VALUES
 ('render_template', $$SELECT train_data.render_template(NULL, '{}')$$),
 ('render_template', $$SELECT train_data.render_template('{{a}}', NULL)$$),
 ('render_template', $$SELECT train_data.render_template('{{a}}', '{}', NULL)$$),
 ('render_template', $$SELECT train_data.render_template('{{a}}', '{"a": 1}', '[]', NULL)$$),
 ('render_template', $$SELECT train_data.render_template('', '{}')$$),
 ('render_template', $$SELECT train_data.render_template(public.huge(), '{}')$$),
 ('render_template', $$SELECT train_data.render_template(repeat('{{a}}', 100000), '{"a": "b"}')->>'missing'$$),
 ('render_template', $$SELECT train_data.render_template('{{' || public.huge() || '}}', '{}')$$),
 ('render_template', $$SELECT train_data.render_template('{{a}}', '[]')$$),
 ('render_template', $$SELECT train_data.render_template('{{a}}', '"a"')$$),
 ('render_template', $$SELECT train_data.render_template('{{a}}', '{}', '{}')$$),
 ('render_template', $$SELECT train_data.render_template('{{a}}', '{}', '[1]')$$),
 ('render_template', $$SELECT train_data.render_template('{{a}}', jsonb_build_object('a', public.deep_object()))->>'text'$$),
 ('render_template', $$SELECT train_data.render_template('{{a}}', '{}', jsonb_build_array(public.deep_object()))$$),
 ('check_template', $$SELECT train_data.check_template(NULL)$$),
 ('check_template', $$SELECT train_data.check_template('{{a}}', NULL)$$),
 ('check_template', $$SELECT train_data.check_template('')$$),
 ('check_template', $$SELECT train_data.check_template(public.huge())$$),
 ('check_template', $$SELECT train_data.check_template('{{a}', '[]')$$),
 ('check_template', $$SELECT train_data.check_template('{{a}}', public.deep_array())$$),
 ('resolve_template', $$SELECT train_data.resolve_template(NULL)$$),
 ('resolve_template', $$SELECT train_data.resolve_template('00000000-0000-0000-0000-00000000dead')$$),
 ('resolve_template', $$SELECT train_data.resolve_template('a1000000-0000-0000-0000-000000000000', NULL)$$),
 ('resolve_template', $$SELECT train_data.resolve_template('a1000000-0000-0000-0000-000000000000', '[]')$$),
 ('resolve_template', $$SELECT train_data.resolve_template('a1000000-0000-0000-0000-000000000000', '{"name": "A"}', NULL)$$),
 ('resolve_template', $$SELECT train_data.resolve_template('a1000000-0000-0000-0000-000000000000', jsonb_build_object('name', public.huge()))->>'missing'$$),
 ('preview_template', $$SELECT train_data.preview_template(NULL)$$),
 ('preview_template', $$SELECT train_data.preview_template('00000000-0000-0000-0000-00000000dead')$$),
 ('preview_template', $$SELECT train_data.preview_template('a1000000-0000-0000-0000-000000000000', '"x"')$$),
 ('build_generation_request', $$SELECT train_data.build_generation_request(NULL)$$),
 ('build_generation_request', $$SELECT train_data.build_generation_request('00000000-0000-0000-0000-00000000dead')$$),
 ('build_generation_request', $$SELECT train_data.build_generation_request('a1000000-0000-0000-0000-000000000000', '{}')$$),
 ('build_generation_request', $$SELECT train_data.build_generation_request('a1000000-0000-0000-0000-000000000000', '{"name": "A"}', NULL, '[]')$$),
 ('build_generation_request', $$SELECT train_data.build_generation_request('a1000000-0000-0000-0000-000000000000', '{"name": "A"}', NULL, '{"model": {"temperature": "hot"}}')$$),
 ('build_generation_request', $$SELECT train_data.build_generation_request('a1000000-0000-0000-0000-000000000000', '{"name": "A"}', NULL, public.deep_object())$$),
 ('parse_generation_response', $$SELECT train_data.parse_generation_response(NULL)$$),
 ('parse_generation_response', $$SELECT train_data.parse_generation_response('{}', NULL)$$),
 ('parse_generation_response', $$SELECT train_data.parse_generation_response('[]')$$),
 ('parse_generation_response', $$SELECT train_data.parse_generation_response('""')$$),
 ('parse_generation_response', $$SELECT train_data.parse_generation_response(to_jsonb(public.huge()))$$),
 ('parse_generation_response', $$SELECT train_data.parse_generation_response(public.deep_object())$$),
 ('parse_generation_response', $$SELECT train_data.parse_generation_response(jsonb_build_object('turns', public.deep_array()))$$),
 ('parse_generation_response', $$SELECT train_data.parse_generation_response('{"turns": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}', '[]')$$),
 ('increment_template_usage', $$SELECT train_data.increment_template_usage(NULL)$$),
 ('increment_template_usage', $$SELECT train_data.increment_template_usage('00000000-0000-0000-0000-00000000dead')$$),
 ('increment_template_usage', $$SELECT train_data.increment_template_usage('b1000000-0000-0000-0000-000000000000')$$),
 ('safe_delete_template', $$SELECT train_data.safe_delete_template(NULL)$$),
 ('safe_delete_template', $$SELECT train_data.safe_delete_template('00000000-0000-0000-0000-00000000dead')$$),
 ('safe_delete_template', $$SELECT train_data.safe_delete_template('b1000000-0000-0000-0000-000000000000')$$),
 ('safe_delete_scenario', $$SELECT train_data.safe_delete_scenario(NULL)$$),
 ('safe_delete_scenario', $$SELECT train_data.safe_delete_scenario('00000000-0000-0000-0000-00000000dead')$$),
 ('safe_delete_scenario', $$SELECT train_data.safe_delete_scenario('b2000000-0000-0000-0000-000000000000')$$),
 ('update_scenario_generation_status', $$SELECT train_data.update_scenario_generation_status(NULL, 'generated')$$),
 ('update_scenario_generation_status', $$SELECT train_data.update_scenario_generation_status('a2000000-0000-0000-0000-000000000000', NULL)$$),
 ('update_scenario_generation_status', $$SELECT train_data.update_scenario_generation_status('a2000000-0000-0000-0000-000000000000', 'bogus')$$),
 ('update_scenario_generation_status', $$SELECT train_data.update_scenario_generation_status('00000000-0000-0000-0000-00000000dead', 'generated')$$),
 ('update_scenario_generation_status', $$SELECT train_data.update_scenario_generation_status('b2000000-0000-0000-0000-000000000000', 'generated')$$),
 ('get_template_scenario_count', $$SELECT train_data.get_template_scenario_count(NULL)$$),
 ('get_template_scenario_count', $$SELECT train_data.get_template_scenario_count('00000000-0000-0000-0000-00000000dead')$$),
 ('get_scenario_edge_case_count', $$SELECT train_data.get_scenario_edge_case_count(NULL)$$),
 ('get_scenario_edge_case_count', $$SELECT train_data.get_scenario_edge_case_count('b2000000-0000-0000-0000-000000000000')$$),
 ('make_conversation_id', $$SELECT train_data.make_conversation_id(NULL, 'p') ~ '^conv_p_[0-9]+$'$$),
 ('make_conversation_id', $$SELECT train_data.make_conversation_id('template', NULL) IS NOT NULL$$),
 ('make_conversation_id', $$SELECT train_data.make_conversation_id('gold', 'p')$$),
 ('make_conversation_id', $$SELECT train_data.make_conversation_id('template', public.huge()) ~ '^tpl_x{40}_[0-9]+$'$$),
 -- a run of 40 MB of non-ASCII letters is lowered 64 KB at a time (in one piece, 100 MB took 805 MB: a review of 1.2)
 ('make_conversation_id', $$SELECT train_data.make_conversation_id('template', repeat('é', 20000000)) ~ '^tpl_e{40}_[0-9]+$'$$),
 ('make_conversation_id', $$SELECT train_data.make_conversation_id('template', '') ~ '^tpl_conversation_[0-9]+$'$$);

------------------------------------------------------ settings and costs
INSERT INTO calls (fn, call) VALUES
 ('validate_ai_config', $$SELECT train_data.validate_ai_config(NULL)$$),
 ('validate_ai_config', $$SELECT train_data.validate_ai_config('[]')$$),
 ('validate_ai_config', $$SELECT train_data.validate_ai_config('{"model": []}')$$),
 ('validate_ai_config', $$SELECT train_data.validate_ai_config('{"model": {"temperature": null}}')$$),
 ('validate_ai_config', $$SELECT train_data.validate_ai_config(jsonb_build_object('model', jsonb_build_object('model', public.huge())))$$),
 ('validate_ai_config', $$SELECT train_data.validate_ai_config(public.deep_object())$$),
 ('get_effective_ai_config', $$SELECT train_data.get_effective_ai_config(NULL) = train_data.default_ai_config()$$),
 ('get_effective_ai_config', $$SELECT train_data.get_effective_ai_config('bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb') = train_data.default_ai_config()$$),
 ('validate_user_preferences', $$SELECT train_data.validate_user_preferences(NULL)$$),
 ('validate_user_preferences', $$SELECT train_data.validate_user_preferences('"dark"')$$),
 ('validate_user_preferences', $$SELECT train_data.validate_user_preferences('{"theme": 7}')$$),
 ('validate_user_preferences', $$SELECT train_data.validate_user_preferences(public.deep_object())$$),
 ('update_user_preferences', $$SELECT train_data.update_user_preferences(NULL)$$),
 ('update_user_preferences', $$SELECT train_data.update_user_preferences('[]')$$),
 ('update_user_preferences', $$SELECT train_data.update_user_preferences('{"bogus": 1}')$$),
 ('update_user_preferences', $$SELECT train_data.update_user_preferences(public.deep_object())$$),
 ('model_price', $$SELECT train_data.model_price(NULL)$$),
 ('model_price', $$SELECT train_data.model_price('')$$),
 ('model_price', $$SELECT train_data.model_price(public.huge())$$),
 ('model_price', $$SELECT train_data.model_price(NULL, NULL)$$),
 ('model_price', $$SELECT train_data.model_price(public.huge(), public.huge())$$),
 ('model_price', $$SELECT (train_data.model_price('', 'claude-' || public.huge() || 'haiku')).model_id$$),
 ('model_family', $$SELECT train_data.model_family(NULL)$$),
 ('model_family', $$SELECT train_data.model_family('')$$),
 ('model_family', $$SELECT train_data.model_family('claude-' || public.huge() || 'opus')$$),
 ('log_discarded_response', $$SELECT train_data.log_discarded_response(NULL, 1, '{}')$$),
 ('log_discarded_response', $$SELECT train_data.log_discarded_response('00000000-0000-0000-0000-00000000dead', 1, public.deep_object())$$),
 ('log_discarded_response', $$SELECT train_data.log_discarded_response('00000000-0000-0000-0000-00000000dead', -2147483648, '[]', -1)$$),
 ('model_generation', $$SELECT train_data.model_generation(NULL)$$),
 ('model_generation', $$SELECT train_data.model_generation('')$$),
 ('model_generation', $$SELECT train_data.model_generation('claude-' || public.huge() || 'opus-4-1')$$),
 ('model_generation', $$SELECT train_data.model_generation('claude-opus-' || repeat('4-', 100000))$$),
 ('model_cost', $$SELECT train_data.model_cost(NULL, 1, 1)$$),
 ('model_cost', $$SELECT train_data.model_cost('claude-sonnet', NULL, 1)$$),
 ('model_cost', $$SELECT train_data.model_cost('claude-sonnet', -1, 0)$$),
 ('model_cost', $$SELECT train_data.model_cost('unknown-model', 1, 1)$$),
 ('model_cost', $$SELECT train_data.model_cost('claude-sonnet', 9223372036854775807, 9223372036854775807)$$),
 ('estimate_batch_cost', $$SELECT train_data.estimate_batch_cost(NULL, 1)$$),
 ('estimate_batch_cost', $$SELECT train_data.estimate_batch_cost('gold', 1)$$),
 ('estimate_batch_cost', $$SELECT train_data.estimate_batch_cost('template', NULL)$$),
 ('estimate_batch_cost', $$SELECT train_data.estimate_batch_cost('template', -1)$$),
 ('estimate_batch_cost', $$SELECT train_data.estimate_batch_cost('template', 2147483647, 3, 1)->>'estimated_minutes'$$),
 ('estimate_batch_cost', $$SELECT train_data.estimate_batch_cost('template', 1, 0)$$),
 ('estimate_batch_cost', $$SELECT train_data.estimate_batch_cost('template', 1, 3, NULL)$$);

------------------------------------------------------------------ batches
INSERT INTO calls (fn, call) VALUES
 ('create_batch', $$SELECT train_data.create_batch(NULL, '[{"template_id": "a1000000-0000-0000-0000-000000000000", "parameters": {"name": "A"}}]')$$),
 ('create_batch', $$SELECT train_data.create_batch('', '[{"template_id": "a1000000-0000-0000-0000-000000000000", "parameters": {"name": "A"}}]')$$),
 ('create_batch', $$SELECT train_data.create_batch('b', NULL)$$),
 ('create_batch', $$SELECT train_data.create_batch('b', '{}')$$),
 ('create_batch', $$SELECT train_data.create_batch('b', '[]')$$),
 ('create_batch', $$SELECT train_data.create_batch('b', jsonb_build_array(public.deep_object()))$$),
 ('create_batch', $$SELECT train_data.create_batch('b', '[{"template_id": "00000000-0000-0000-0000-00000000dead"}]')$$),
 ('create_batch', $$SELECT train_data.create_batch('b', '[{"template_id": "a1000000-0000-0000-0000-000000000000", "tier": "gold"}]')$$),
 ('create_batch', $$SELECT train_data.create_batch('b', '[{"template_id": "a1000000-0000-0000-0000-000000000000", "parameters": {}}]')$$),
 ('create_batch', $$SELECT train_data.create_batch('b', '[{"template_id": "a1000000-0000-0000-0000-000000000000", "parameters": {"name": "A"}}]', NULL)$$),
 ('create_batch', $$SELECT train_data.create_batch('b', '[{"template_id": "a1000000-0000-0000-0000-000000000000", "parameters": {"name": "A"}}]', '[]')$$),
 ('create_batch', $$SELECT train_data.create_batch('b', '[{"template_id": "a1000000-0000-0000-0000-000000000000", "parameters": {"name": "A"}}]', '{}', NULL)$$),
 ('create_batch', $$SELECT train_data.create_batch('b', '[{"template_id": "a1000000-0000-0000-0000-000000000000", "parameters": {"name": "A"}}]', '{}', 3, NULL)$$),
 ('create_batch', $$SELECT train_data.create_batch('b', '[{"template_id": "a1000000-0000-0000-0000-000000000000", "parameters": {"name": "A"}}]', '{}', 3, 'continue', 'urgent')$$),
 ('create_batch_matrix', $$SELECT train_data.create_batch_matrix('m', NULL, '[{"name": "A"}]')$$),
 ('create_batch_matrix', $$SELECT train_data.create_batch_matrix(NULL, NULL, NULL)$$),
 ('create_batch_matrix', $$SELECT train_data.create_batch_matrix('m', '{}', '[{"name": "A"}]')$$),
 ('create_batch_matrix', $$SELECT train_data.create_batch_matrix('m', ARRAY[NULL]::uuid[], '[{"name": "A"}]')$$),
 ('create_batch_matrix', $$SELECT train_data.create_batch_matrix('m', ARRAY['00000000-0000-0000-0000-00000000dead']::uuid[], '[{"name": "A"}]')$$),
 ('create_batch_matrix', $$SELECT train_data.create_batch_matrix('m', ARRAY['a1000000-0000-0000-0000-000000000000']::uuid[], NULL)$$),
 ('create_batch_matrix', $$SELECT train_data.create_batch_matrix('m', ARRAY['a1000000-0000-0000-0000-000000000000']::uuid[], '{}')$$),
 ('create_batch_matrix', $$SELECT train_data.create_batch_matrix('m', ARRAY['a1000000-0000-0000-0000-000000000000']::uuid[], '[{"name": "A"}]', '{}', 3, 'continue', 'normal', 'gold')$$),
 ('pause_batch', $$SELECT train_data.pause_batch(NULL)$$),
 ('pause_batch', $$SELECT train_data.pause_batch('00000000-0000-0000-0000-00000000dead')$$),
 ('pause_batch', $$SELECT train_data.pause_batch('b4000000-0000-0000-0000-000000000000')$$),
 ('pause_batch', $$SELECT train_data.pause_batch('a4000000-0000-0000-0000-000000000000')$$),
 ('resume_batch', $$SELECT train_data.resume_batch(NULL)$$),
 ('resume_batch', $$SELECT train_data.resume_batch('b4000000-0000-0000-0000-000000000000')$$),
 ('resume_batch', $$SELECT train_data.resume_batch('a4000000-0000-0000-0000-000000000000')$$),
 ('cancel_batch', $$SELECT train_data.cancel_batch(NULL)$$),
 ('cancel_batch', $$SELECT train_data.cancel_batch('00000000-0000-0000-0000-00000000dead')$$),
 ('cancel_batch', $$SELECT train_data.cancel_batch('b4000000-0000-0000-0000-000000000000')$$),
 ('calculate_batch_progress', $$SELECT train_data.calculate_batch_progress(NULL)$$),
 ('calculate_batch_progress', $$SELECT train_data.calculate_batch_progress('00000000-0000-0000-0000-00000000dead')$$),
 ('calculate_batch_progress', $$SELECT train_data.calculate_batch_progress('b4000000-0000-0000-0000-000000000000')$$),
 ('estimate_time_remaining', $$SELECT train_data.estimate_time_remaining(NULL)$$),
 ('estimate_time_remaining', $$SELECT train_data.estimate_time_remaining('00000000-0000-0000-0000-00000000dead')$$),
 ('estimate_time_remaining', $$SELECT train_data.estimate_time_remaining('b4000000-0000-0000-0000-000000000000')$$),
 ('batch_progress', $$SELECT count(*) FROM train_data.batch_progress(NULL)$$),
 ('batch_progress', $$SELECT count(*) FROM train_data.batch_progress('00000000-0000-0000-0000-00000000dead')$$),
 ('batch_progress', $$SELECT count(*) FROM train_data.batch_progress('b4000000-0000-0000-0000-000000000000')$$),
 ('bump_counters', $$SELECT train_data.bump_counters('b4000000-0000-0000-0000-000000000000', 1, 0, 0, 0, true)$$),
 ('rollup_counters', $$SELECT train_data.rollup_counters('b4000000-0000-0000-0000-000000000000')$$),
 ('finish_job_if_done', $$SELECT train_data.finish_job_if_done('b4000000-0000-0000-0000-000000000000')$$);

----------------------------------------------------- quality and review
INSERT INTO calls (fn, call) VALUES
 ('quality_metrics', $$SELECT train_data.quality_metrics(NULL)$$),
 ('quality_metrics', $$SELECT train_data.quality_metrics('{}')$$),
 ('quality_metrics', $$SELECT train_data.quality_metrics('[]')->>'overall'$$),
 ('quality_metrics', $$SELECT train_data.quality_metrics('[1, "a", null]')->>'overall'$$),
 ('quality_metrics', $$SELECT train_data.quality_metrics('[{"role": "bot", "content": 7}]')->>'overall'$$),
 ('quality_metrics', $$SELECT train_data.quality_metrics(public.deep_array())->>'overall'$$),
 ('quality_metrics', $$SELECT train_data.quality_metrics(jsonb_build_array(jsonb_build_object('role', 'user', 'content', public.huge())))->>'overall'$$),
 ('quality_score', $$SELECT train_data.quality_score(NULL)$$),
 ('quality_score', $$SELECT train_data.quality_score('"turns"')$$),
 ('quality_score', $$SELECT train_data.quality_score(jsonb_build_array(public.deep_object()))$$),
 ('quality_metrics', $$SELECT train_data.quality_metrics('[]', NULL)->>'defectSeverity'$$),
 ('quality_metrics', $$SELECT train_data.quality_metrics(NULL, '8')$$),
 ('quality_metrics', $$SELECT train_data.quality_metrics('[]', '-1')$$),
 ('quality_metrics', $$SELECT train_data.quality_metrics('[]', to_jsonb(public.huge()))$$),
 ('quality_metrics', $$SELECT train_data.quality_metrics('[]', public.deep_object())$$),
 ('quality_defects', $$SELECT train_data.quality_defects(NULL)$$),
 ('quality_defects', $$SELECT train_data.quality_defects('{}')$$),
 ('quality_defects', $$SELECT train_data.quality_defects('[1, "a", null]')$$),
 ('quality_defects', $$SELECT train_data.quality_defects(public.deep_array())$$),
 ('quality_defects', $$SELECT train_data.quality_defects(jsonb_build_array(jsonb_build_object('role', 'assistant', 'content', public.huge())))$$),
 ('quality_defects', $$SELECT train_data.quality_defects('[]', '{"turns": "8"}')$$),
 ('quality_defects', $$SELECT train_data.quality_defects('[]', jsonb_build_object('firstRole', public.huge()))$$),
 ('minhash_signature', $$SELECT train_data.minhash_signature(NULL)$$),
 ('minhash_signature', $$SELECT train_data.minhash_signature('')$$),
 ('minhash_signature', $$SELECT train_data.minhash_signature(public.huge())$$),
 ('conversation_text_signature', $$SELECT train_data.conversation_text_signature(NULL)$$),
 ('conversation_text_signature', $$SELECT train_data.conversation_text_signature('{}')$$),
 ('conversation_text_signature', $$SELECT train_data.conversation_text_signature('"turns"')$$),
 ('conversation_text_signature', $$SELECT train_data.conversation_text_signature(public.deep_array())$$),
 ('conversation_text_signature', $$SELECT train_data.conversation_text_signature(jsonb_build_array(jsonb_build_object('content', public.huge())))$$),
 ('minhash_signature_agg', $$SELECT train_data.minhash_signature_agg(x) IS NULL FROM (VALUES (NULL::text)) v(x)$$),
 ('minhash_signature_agg', $$SELECT train_data.minhash_signature_agg(x ORDER BY n) = train_data.minhash_signature(public.huge() || ' ' || public.huge() || ' ') FROM (VALUES (1, public.huge()), (2, NULL), (3, public.huge()), (4, '')) v(n, x)$$),
 ('minhash_signature_agg_add', $$SELECT train_data.minhash_signature_agg_add(NULL, 'x')$$),
 ('minhash_signature_agg_finish', $$SELECT train_data.minhash_signature_agg_finish(NULL)$$),
 ('lines_md5', $$SELECT train_data.lines_md5(x) FROM (VALUES (NULL::text)) v(x)$$),
 ('lines_md5', $$SELECT train_data.lines_md5(x ORDER BY n) = md5(public.huge() || E'\n\n' || public.huge()) FROM (VALUES (1, public.huge()), (2, NULL), (3, ''), (4, public.huge())) v(n, x)$$),
 ('lines_md5', $$SELECT train_data.lines_md5(x) OVER () FROM (VALUES ('a')) v(x)$$),
 ('lines_md5_add', $$SELECT train_data.lines_md5_add(NULL, 'x')$$),
 ('lines_md5_finish', $$SELECT train_data.lines_md5_finish(NULL)$$),
 ('minhash_bands', $$SELECT train_data.minhash_bands(NULL)$$),
 ('minhash_bands', $$SELECT train_data.minhash_bands('{}')$$),
 ('minhash_bands', $$SELECT train_data.minhash_bands(array_fill(1, ARRAY[100000]))$$),
 ('minhash_bands', $$SELECT train_data.minhash_bands(array_fill(1, ARRAY[128], ARRAY[0]))$$),
 ('minhash_similarity', $$SELECT train_data.minhash_similarity(NULL, NULL)$$),
 ('minhash_similarity', $$SELECT train_data.minhash_similarity('{}', '{}')$$),
 ('minhash_similarity', $$SELECT train_data.minhash_similarity(array_fill(1, ARRAY[128]), '{1,NULL}')$$),
 ('quality_status', $$SELECT train_data.quality_status(NULL)$$),
 ('quality_status', $$SELECT train_data.quality_status(5, NULL)$$),
 ('quality_status', $$SELECT train_data.quality_status(11)$$),
 ('quality_status', $$SELECT train_data.quality_status('NaN')$$),
 ('quality_status', $$SELECT train_data.quality_status(5, -1)$$),
 ('quality_trend', $$SELECT train_data.quality_trend(NULL)$$),
 ('quality_trend', $$SELECT train_data.quality_trend('{}')$$),
 ('quality_trend', $$SELECT train_data.quality_trend('{1, NULL, 3}')$$),
 ('quality_trend', $$SELECT train_data.quality_trend('{NaN, 1}')$$),
 ('quality_trend', $$SELECT train_data.quality_trend(array_fill(5.0, ARRAY[100000]))$$),
 ('score_conversation', $$SELECT train_data.score_conversation(NULL)$$),
 ('score_conversation', $$SELECT train_data.score_conversation('00000000-0000-0000-0000-00000000dead')$$),
 ('score_conversation', $$SELECT train_data.score_conversation('b3000000-0000-0000-0000-000000000000')$$),
 ('review_conversation', $$SELECT train_data.review_conversation(NULL, 'approved')$$),
 ('review_conversation', $$SELECT train_data.review_conversation('a3000000-0000-0000-0000-000000000000', NULL)$$),
 ('review_conversation', $$SELECT train_data.review_conversation('a3000000-0000-0000-0000-000000000000', '')$$),
 ('review_conversation', $$SELECT train_data.review_conversation('a3000000-0000-0000-0000-000000000000', 'maybe')$$),
 ('review_conversation', $$SELECT train_data.review_conversation('a3000000-0000-0000-0000-000000000000', 'approved', public.huge())$$),
 ('review_conversation', $$SELECT train_data.review_conversation('a3000000-0000-0000-0000-000000000000', 'rejected', NULL, ARRAY[NULL]::text[])$$),
 ('review_conversation', $$SELECT train_data.review_conversation('a3000000-0000-0000-0000-000000000000', 'rejected', NULL, array_fill('r'::text, ARRAY[100000]))$$),
 ('review_conversation', $$SELECT train_data.review_conversation('00000000-0000-0000-0000-00000000dead', 'approved')$$),
 ('review_conversation', $$SELECT train_data.review_conversation('b3000000-0000-0000-0000-000000000000', 'approved')$$),
 ('bulk_review_conversations', $$SELECT count(*) FROM train_data.bulk_review_conversations(NULL, 'approved')$$),
 ('bulk_review_conversations', $$SELECT count(*) FROM train_data.bulk_review_conversations('{}', 'approved')$$),
 ('bulk_review_conversations', $$SELECT train_data.bulk_review_conversations(ARRAY['a3000000-0000-0000-0000-000000000000']::uuid[], 'maybe')$$),
 ('bulk_review_conversations', $$SELECT string_agg(success || ' ' || coalesce(error, ''), '; ') FROM train_data.bulk_review_conversations(ARRAY['b3000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-00000000dead', NULL]::uuid[], 'approved')$$),
 ('append_review_action', $$SELECT train_data.append_review_action(NULL, 'approved', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$),
 ('append_review_action', $$SELECT train_data.append_review_action('a3000000-0000-0000-0000-000000000000', 'liked', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$),
 ('append_review_action', $$SELECT train_data.append_review_action('b3000000-0000-0000-0000-000000000000', 'approved', 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa')$$),
 ('conversation_transition_allowed', $$SELECT train_data.conversation_transition_allowed(NULL, 'approved')$$),
 ('conversation_transition_allowed', $$SELECT train_data.conversation_transition_allowed('generated', 'bogus')$$),
 ('regenerate_conversation', $$SELECT train_data.regenerate_conversation(NULL)$$),
 ('regenerate_conversation', $$SELECT train_data.regenerate_conversation('00000000-0000-0000-0000-00000000dead')$$),
 ('regenerate_conversation', $$SELECT train_data.regenerate_conversation('b3000000-0000-0000-0000-000000000000')$$),
 ('regenerate_conversation', $$SELECT train_data.regenerate_conversation('a3000000-0000-0000-0000-000000000000', '[]')$$),
 ('regenerate_conversation', $$SELECT train_data.regenerate_conversation('a3000000-0000-0000-0000-000000000000', NULL)$$),
 ('conversation_versions', $$SELECT count(*) FROM train_data.conversation_versions(NULL)$$),
 ('conversation_versions', $$SELECT count(*) FROM train_data.conversation_versions('b3000000-0000-0000-0000-000000000000')$$),
 ('review_queue', $$SELECT count(*) FROM train_data.review_queue(NULL)$$),
 ('review_queue', $$SELECT count(*) FROM train_data.review_queue(1, NULL)$$),
 ('review_queue', $$SELECT count(*) FROM train_data.review_queue(1, 25, NULL)$$),
 ('review_queue', $$SELECT count(*) FROM train_data.review_queue(1, 25, 'quality_score', NULL)$$),
 ('review_queue', $$SELECT count(*) FROM train_data.review_queue(2147483647, 100)$$),
 ('review_queue', $$SELECT count(*) FROM train_data.review_queue(1, 25, 'quality_score', 'asc', 'NaN')$$),
 ('review_queue', $$SELECT count(*) FROM train_data.review_queue(1, 25, public.huge())$$),
 ('template_performance', $$SELECT count(*) FROM train_data.template_performance('-1 day')$$),
 ('template_performance', $$SELECT count(*) FROM train_data.template_performance(NULL, NULL)$$),
 ('template_performance', $$SELECT count(*) FROM train_data.template_performance(NULL, -1)$$);

------------------------------------------------------------------ exports
INSERT INTO calls (fn, call) VALUES
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl(NULL)$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('csv')$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', NULL)$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'some')$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'selected')$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'selected', '{}')$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'selected', ARRAY['b3000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-00000000dead', NULL]::uuid[])$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'filtered')$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'filtered', NULL, '[]')$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'filtered', NULL, '{"qualityScoreMin": "high"}')$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'filtered', NULL, '{"status": ["bogus"]}')$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'filtered', NULL, '{"dateFrom": "yesterday-ish"}')$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'filtered', NULL, public.deep_object())$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'filtered', NULL, jsonb_build_object('searchText', public.huge()))$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'all', NULL, NULL, NULL)$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'all', NULL, NULL, '[]')$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'all', NULL, NULL, '{"systemMessage": 7}')$$),
 ('export_jsonl', $$SELECT count(*) FROM train_data.export_jsonl('openai', 'all', NULL, NULL, public.deep_object())$$),
 ('validate_export', $$SELECT count(*) FROM train_data.validate_export(NULL)$$),
 ('validate_export', $$SELECT count(*) FROM train_data.validate_export('openai', 'bogus')$$),
 ('validate_training_line', $$SELECT train_data.validate_training_line(NULL)$$),
 ('validate_training_line', $$SELECT train_data.validate_training_line('')$$),
 ('validate_training_line', $$SELECT train_data.validate_training_line('[]')$$),
 ('validate_training_line', $$SELECT train_data.validate_training_line('{"messages": [')$$),
 ('validate_training_line', $$SELECT train_data.validate_training_line(public.deep_array()::text)$$),
 ('validate_training_line', $$SELECT train_data.validate_training_line(repeat('[', 100000))$$),
 ('validate_training_line', $$SELECT train_data.validate_training_line(public.huge())$$),
 ('training_line_warnings', $$SELECT train_data.training_line_warnings(public.huge())$$),
 ('training_line_warnings', $$SELECT train_data.training_line_warnings(public.deep_array()::text, 1)$$),
 ('training_line_warnings', $$SELECT train_data.training_line_warnings('{"messages": [' || repeat('{"role": "user", "content": "' || repeat('x', 1000) || '"},', 10000) || '{}]}', 2147483647)$$),
 ('training_line_warnings', $$SELECT train_data.training_line_warnings('{}', -2147483648)$$),
 ('validate_export', $$SELECT count(*) FROM train_data.validate_export('openai', 'all', NULL, NULL, jsonb_build_object('tokenLimit', public.huge()))$$),
 ('export_conversations', $$SELECT count(*) FROM train_data.export_conversations(NULL)$$),
 ('export_conversations', $$SELECT count(*) FROM train_data.export_conversations('xml')$$),
 ('export_conversations', $$SELECT count(*) FROM train_data.export_conversations(public.huge())$$),
 ('export_conversations', $$SELECT count(*) FROM train_data.export_conversations('jsonl', 'all', NULL)$$),
 ('export_conversations', $$SELECT count(*) FROM train_data.export_conversations('jsonl', 'all', '[]')$$),
 ('export_conversations', $$SELECT count(*) FROM train_data.export_conversations('jsonl', 'all', '{"includeMetadata": "yes"}')$$),
 ('export_conversations', $$SELECT count(*) FROM train_data.export_conversations('jsonl', 'selected', '{}', NULL)$$),
 ('export_conversations', $$SELECT count(*) FROM train_data.export_conversations('jsonl', 'filtered', '{}', NULL, '"x"')$$),
 ('export_history', $$SELECT count(*) FROM train_data.export_history('xml')$$),
 ('export_history', $$SELECT count(*) FROM train_data.export_history(NULL, 'bogus')$$),
 ('export_history', $$SELECT count(*) FROM train_data.export_history(NULL, NULL, NULL)$$),
 ('export_history', $$SELECT count(*) FROM train_data.export_history(NULL, NULL, 0)$$),
 ('export_status', $$SELECT train_data.export_status(NULL)$$),
 ('export_status', $$SELECT train_data.export_status('00000000-0000-0000-0000-00000000dead')$$),
 ('export_status', $$SELECT train_data.export_status('b7000000-0000-0000-0000-000000000000')$$);

----------------------------------------- internal helpers (callable, too)
INSERT INTO calls (fn, call) VALUES
 ('template_by_id', $$SELECT train_data.template_by_id(NULL)$$),
 ('template_by_id', $$SELECT train_data.template_by_id('00000000-0000-0000-0000-00000000dead')$$),
 ('check_batch_options', $$SELECT train_data.check_batch_options(public.huge(), '{}', 3, 'continue', 'normal')$$),
 ('check_batch_options', $$SELECT train_data.check_batch_options('b', '{}', 3, public.huge(), 'normal')$$),
 ('check_setting_choice', $$SELECT train_data.check_setting_choice('x', public.deep_object(), '{a}', '{b}')$$),
 ('check_setting_choice', $$SELECT train_data.check_setting_choice(NULL, NULL, NULL, NULL)$$),
 ('check_setting_keys', $$SELECT train_data.check_setting_keys('x', public.deep_object(), '{}')$$),
 ('check_setting_keys', $$SELECT train_data.check_setting_keys('x', (SELECT jsonb_object_agg('k' || g, g) FROM generate_series(1, 1000) g), '{}')$$),
 ('check_setting_range', $$SELECT train_data.check_setting_range('x', '{"a": "NaN"}', '{a}', 0, 1)$$),
 ('check_setting_range', $$SELECT train_data.check_setting_range('x', '{"a": []}', '{a}', 0, 1)$$),
 ('check_setting_url', $$SELECT train_data.check_setting_url('x', jsonb_build_object('a', 'https://h/' || public.huge()), '{a}')$$),
 ('check_setting_url', $$SELECT train_data.check_setting_url('x', public.deep_object(), '{a}')$$),
 ('check_setting_url', $$SELECT train_data.check_setting_url('x', '{"a": "https://h/a\tb"}', '{a}')$$),
 ('jsonb_merge_deep', $$SELECT train_data.jsonb_merge_deep(public.deep_object(), public.deep_object()) = public.deep_object()$$),
 ('jsonb_merge_deep', $$SELECT train_data.jsonb_merge_deep(NULL, '{}')$$),
 -- past 16 MB together: refused before a tree of 20 times that is built
 ('jsonb_merge_deep', $$SELECT train_data.jsonb_merge_deep(jsonb_build_object('k', repeat('x', 9000000)), jsonb_build_object('k', repeat('y', 9000000)))$$),
 ('jsonb_unknown_keys', $$SELECT count(*) FROM train_data.jsonb_unknown_keys(public.deep_object(), public.deep_object())$$),
 ('eta_observe', $$SELECT train_data.eta_observe('NaN', 1, 2)$$),
 ('eta_observe', $$SELECT train_data.eta_observe(NULL, NULL, NULL)$$),
 ('job_active_seconds', $$SELECT train_data.job_active_seconds(NULL, NULL, NULL, NULL, NULL)$$),
 ('job_active_seconds', $$SELECT train_data.job_active_seconds('infinity', '0', NULL, NULL, now())$$),
 ('job_state_error', $$SELECT train_data.job_state_error('b4000000-0000-0000-0000-000000000000', 'processing')$$),
 ('lock_visible_job', $$SELECT train_data.lock_visible_job('b4000000-0000-0000-0000-000000000000')$$),
 ('lock_item_in_flight', $$SELECT train_data.lock_item_in_flight('b6000000-0000-0000-0000-000000000000', NULL)$$),
 ('lock_item_in_flight', $$SELECT train_data.lock_item_in_flight('b6000000-0000-0000-0000-000000000000', -1)$$),
 ('cancel_stranded_item', $$SELECT train_data.cancel_stranded_item(NULL, NULL, NULL)$$),
 ('lost_attempt', $$SELECT train_data.lost_attempt(NULL)$$),
 ('claim_fail_item', $$SELECT train_data.claim_fail_item(NULL, public.huge(), NULL)$$),
 ('claim_lease_lost', $$SELECT train_data.claim_lease_lost(NULL, NULL)$$),
 ('stop_job', $$SELECT train_data.stop_job(NULL)$$),
 ('check_owed_job', $$SELECT train_data.check_owed_job(NULL, NULL)$$),
 ('claim_final_failure', $$SELECT train_data.claim_final_failure(NULL)$$),
 ('owe_close_check', $$SELECT train_data.owe_close_check(NULL, NULL)$$),
 ('job_rows_free', $$SELECT train_data.job_rows_free(NULL)$$),
 ('cancel_queued_items', $$SELECT train_data.cancel_queued_items(NULL, NULL)$$),
 ('cancel_queued_items', $$SELECT train_data.cancel_queued_items('b4000000-0000-0000-0000-000000000000', -1)$$),
 ('claimable_job_add', $$SELECT train_data.claimable_job_add(NULL)$$),
 ('claimable_job_keep', $$SELECT train_data.claimable_job_keep(NULL)$$),
 ('release_worker_items', $$SELECT train_data.release_worker_items(NULL)$$),
 ('claim_render', $$SELECT train_data.claim_render(NULL, public.deep_object())$$),
 ('claim_request', $$SELECT train_data.claim_request(public.deep_object(), public.huge()) IS NOT NULL$$),
 ('job_channel', $$SELECT train_data.job_channel(NULL)$$),
 ('job_claim_rank', $$SELECT train_data.job_claim_rank(NULL, public.huge())$$),
 ('log_generation', $$SELECT train_data.log_generation('b6000000-0000-0000-0000-000000000000', 'b4000000-0000-0000-0000-000000000000', NULL, '{}', '{}', 1, 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', NULL, NULL, 'failed', 0, 0, NULL, NULL, 'x', NULL, NULL, NULL)$$),
 ('notify_progress', $$SELECT train_data.notify_progress('b4000000-0000-0000-0000-000000000000', NULL, public.huge())$$),
 ('clip_for_message', $$SELECT train_data.clip_for_message(public.huge())$$),
 ('clip_for_message', $$SELECT train_data.clip_for_message(NULL)$$),
 -- a string's content clipped inside its quotes; any other value's text clipped
 ('json_for_message', $$SELECT train_data.json_for_message(to_jsonb(public.huge()))$$),
 ('json_for_message', $$SELECT train_data.json_for_message(jsonb_build_object('k', public.huge()))$$),
 ('json_for_message', $$SELECT train_data.json_for_message('"a\"b"')$$),
 ('json_for_message', $$SELECT train_data.json_for_message(NULL)$$),
 ('user_id_default', $$SELECT train_data.user_id_default(NULL, NULL)$$),
 ('user_id_default', $$SELECT train_data.user_id_default('train_data.templates', true)$$),
 ('require_user_id', $$SELECT train_data.require_user_id(public.huge())$$),
 ('require_user_id', $$SELECT train_data.require_user_id(NULL)$$),
 ('defect_status', $$SELECT train_data.defect_status(NULL, public.deep_array())$$),
 ('defect_status', $$SELECT train_data.defect_status('generated', jsonb_build_array(public.huge()))$$),
 ('near_duplicates', $$SELECT count(*) FROM train_data.near_duplicates(NULL)$$),
 ('near_duplicates', $$SELECT count(*) FROM train_data.near_duplicates('NaN')$$),
 ('near_duplicates', $$SELECT count(*) FROM train_data.near_duplicates(0.8, NULL, NULL)$$),
 ('near_duplicates', $$SELECT count(*) FROM train_data.near_duplicates(0.01, NULL, true)$$),
 ('shingle_jaccard', $$SELECT train_data.shingle_jaccard(public.huge(), public.huge())$$),
 ('shingle_jaccard', $$SELECT train_data.shingle_jaccard(repeat('lorem ipsum dolor sit amet ', 200000), repeat('ipsum dolor sit amet lorem ', 200000))$$),
 ('shingle_jaccard', $$SELECT train_data.shingle_jaccard('', '')$$),
 ('shingle_jaccard', $$SELECT train_data.shingle_jaccard(NULL, 'a')$$),
 ('shingle_set', $$SELECT cardinality(train_data.shingle_set(public.huge()))$$),
 ('shingle_set', $$SELECT cardinality(train_data.shingle_set(repeat('a b c d e f ', 1000000)))$$),
 ('shingle_set', $$SELECT train_data.shingle_set('')$$),
 ('shingle_set_similarity', $$SELECT train_data.shingle_set_similarity('{3,1}', '{1}')$$),
 ('shingle_set_similarity', $$SELECT train_data.shingle_set_similarity('{1,1}', '{1}')$$),
 ('shingle_set_similarity', $$SELECT train_data.shingle_set_similarity('{{1}}', '{1}')$$),
 ('shingle_set_similarity', $$SELECT train_data.shingle_set_similarity(ARRAY[1, NULL], '{1}')$$),
 ('shingle_set_similarity', $$SELECT train_data.shingle_set_similarity('{}', '{}')$$),
 ('shingle_set_similarity', $$SELECT train_data.shingle_set_similarity('{1,-1}', '{-1}')$$),
 ('shingle_set_similarity', $$SELECT train_data.shingle_set_similarity(train_data.shingle_set(repeat('w' || 1, 1)), ARRAY(SELECT g FROM generate_series(1, 1000000) g))$$),
 ('conversation_text', $$SELECT train_data.conversation_text(NULL)$$),
 ('conversation_text', $$SELECT train_data.conversation_text('00000000-0000-0000-0000-00000000dead')$$),
 ('shingle_pair_similarities', $$SELECT train_data.shingle_pair_similarities(NULL, '{}')$$),
 ('shingle_pair_similarities', $$SELECT train_data.shingle_pair_similarities('{}', '{}')$$),
 ('shingle_pair_similarities', $$SELECT train_data.shingle_pair_similarities(ARRAY[gen_random_uuid()], '{}')$$),
 ('shingle_pair_similarities', $$SELECT train_data.shingle_pair_similarities(ARRAY[NULL::uuid], ARRAY[gen_random_uuid()])$$),
 -- (another user's conversations and ids of none: no text, no similarity)
 ('shingle_pair_similarities', $$SELECT train_data.shingle_pair_similarities('{00000000-0000-0000-0000-00000000dead}', '{e8000000-0000-0000-0000-000000000001}')$$),
 ('shingle_pair_similarities', $$SELECT cardinality(train_data.shingle_pair_similarities(array_fill('00000000-0000-0000-0000-00000000dead'::uuid, ARRAY[100000]), array_fill('00000000-0000-0000-0000-00000000beef'::uuid, ARRAY[100000])))$$),
 ('conversations_owner_only', $$SELECT train_data.conversations_owner_only()$$),
 ('owner_policy_only', $$SELECT train_data.owner_policy_only(NULL, NULL)$$),
 ('owner_policy_only', $$SELECT train_data.owner_policy_only(0, 'x')$$),
 ('owner_policy_only', $$SELECT train_data.owner_policy_only('pg_catalog.pg_class', repeat('x', 100000))$$),
 ('near_duplicates_kept', $$SELECT count(*) FROM train_data.near_duplicates_kept(NULL, NULL, NULL)$$),
 ('near_duplicates_kept', $$SELECT count(*) FROM train_data.near_duplicates_kept('{}', '{}', '{0.5}')$$),
 ('near_duplicates_kept', $$SELECT count(*) FROM train_data.near_duplicates_kept(ARRAY[NULL::uuid], ARRAY[gen_random_uuid()], '{1}')$$),
 ('near_duplicates_kept', $$SELECT count(*) FROM train_data.near_duplicates_kept('{{e8000000-0000-0000-0000-000000000001}}', '{{e8000000-0000-0000-0000-000000000002}}', '{{1}}')$$),
 ('near_duplicates_kept', $$SELECT count(*) FROM train_data.near_duplicates_kept(array_fill('e8000000-0000-0000-0000-000000000001'::uuid, ARRAY[1000000]), array_fill('e8000000-0000-0000-0000-000000000002'::uuid, ARRAY[1000000]), array_fill(1::real, ARRAY[1000000]))$$),
 ('export_selection', $$SELECT count(*) FROM train_data.export_selection(public.huge())$$),
 ('export_selection', $$SELECT count(*) FROM train_data.export_selection('filtered', NULL, public.deep_object())$$),
 ('dataset_report', $$SELECT train_data.dataset_report(public.deep_object())$$),
 ('dataset_report', $$SELECT train_data.dataset_report('{}', '{"dedupe": "x"}')$$),
 ('export_manifest', $$SELECT train_data.export_manifest(public.huge(), public.huge(), public.deep_object(), public.deep_object(), NULL, NULL, NULL, public.huge()) IS NOT NULL$$),
 ('export_manifest', $$SELECT train_data.export_manifest('jsonl', 'all', '{}', '{}', NULL, array_fill('e8000000-0000-0000-0000-000000000001'::uuid, ARRAY[100000]), 1, NULL) ->> 'rows'$$),
 ('export_manifest', $$SELECT train_data.export_manifest('jsonl', 'all', '{}', '{}', NULL, NULL, 1, NULL, array_fill('e8000000-0000-0000-0000-000000000001'::uuid, ARRAY[100000])) ->> 'templates'$$),
 ('batch_duplicate', $$SELECT train_data.batch_duplicate(NULL, NULL, public.deep_array(), 0.5)$$),
 ('batch_duplicate', $$SELECT train_data.batch_duplicate(NULL, NULL, jsonb_build_array(jsonb_build_object('role', 'user', 'content', public.huge())), 'NaN')$$),
 ('batch_duplicate', $$SELECT train_data.batch_duplicate(NULL, NULL, jsonb_build_array(jsonb_build_object('role', 'user', 'content', public.huge())), 0.9)$$),
 ('with_batch_duplicate', $$SELECT train_data.with_batch_duplicate(public.deep_object(), public.deep_object()) IS NOT NULL$$),
 ('with_batch_duplicate', $$SELECT train_data.with_batch_duplicate('{"defects": 7}', '{}')$$),
 ('vocabulary_diversity', $$SELECT train_data.vocabulary_diversity(v.x) FROM (VALUES (public.huge()), (NULL), (''), (repeat('é ', 500000))) v(x)$$),
 ('vocabulary_diversity', $$SELECT train_data.vocabulary_diversity(v.x) FROM (VALUES (NULL::text)) v(x)$$),
 ('vocabulary_diversity_add', $$SELECT train_data.vocabulary_diversity_add(NULL, 'x') IS NULL$$),
 ('vocabulary_diversity_final', $$SELECT train_data.vocabulary_diversity_final(NULL)$$),
 ('report_quantiles', $$SELECT train_data.report_quantiles(array_fill('NaN'::float8, ARRAY[100000]))$$),
 ('stored_turns', $$SELECT train_data.stored_turns(NULL)$$),
 ('stored_turns', $$SELECT train_data.stored_turns('b3000000-0000-0000-0000-000000000000')$$),
 ('rescore_conversations', $$SELECT count(*) FROM train_data.rescore_conversations(NULL, true)$$),
 ('rescore_conversations', $$SELECT count(*) FROM train_data.rescore_conversations(array_fill('b3000000-0000-0000-0000-000000000000'::uuid, ARRAY[100000]), false)$$),
 ('rescore_conversations', $$SELECT count(*) FROM train_data.rescore_conversations('{00000000-0000-0000-0000-00000000dead,NULL}', NULL)$$),
 ('usable_expectation', $$SELECT train_data.usable_expectation(public.deep_object())$$),
 ('usable_expectation', $$SELECT train_data.usable_expectation(jsonb_build_object('firstRole', public.huge()))$$),
 ('usable_expectation', $$SELECT train_data.usable_expectation('{"turns": 4}')$$),
 ('version_depth', $$SELECT train_data.version_depth(NULL)$$),
 ('version_depth', $$SELECT train_data.version_depth('b3000000-0000-0000-0000-000000000000')$$),
 ('version_depth', $$SELECT train_data.version_depth('a3000000-0000-0000-0000-000000000000')$$);

------------------------------------------------------------------ workers
INSERT INTO calls (fn, call) VALUES
 ('claim_batch_items', $$SELECT count(*) FROM train_data.claim_batch_items(NULL)$$),
 ('claim_batch_items', $$SELECT count(*) FROM train_data.claim_batch_items('')$$),
 ('claim_batch_items', $$SELECT count(*) FROM train_data.claim_batch_items(E' \t\n')$$),
 ('claim_batch_items', $$SELECT count(*) FROM train_data.claim_batch_items(public.huge())$$),
 ('claim_batch_items', $$SELECT count(*) FROM train_data.claim_batch_items('w', NULL)$$),
 ('claim_batch_items', $$SELECT count(*) FROM train_data.claim_batch_items('w', 0)$$),
 ('claim_batch_items', $$SELECT count(*) FROM train_data.claim_batch_items('w', 1001)$$),
 ('claim_batch_items', $$SELECT count(*) FROM train_data.claim_batch_items('w', 1, NULL)$$),
 ('claim_batch_items', $$SELECT count(*) FROM train_data.claim_batch_items('w', 1, '-1 minute')$$),
 ('claim_batch_items', $$SELECT count(*) FROM train_data.claim_batch_items('w', 1, '1 year')$$),
 -- months compare as 30 days but are added as calendar months: refused (this one compares as 1 day, lasts 525)
 ('claim_batch_items', $$SELECT count(*) FROM train_data.claim_batch_items('w', 1, '1200 mons -35999 days')$$),
 ('heartbeat_batch_item', $$SELECT train_data.heartbeat_batch_item('a6000000-0000-0000-0000-000000000000', NULL, '1 mon -29 days')$$),
 ('heartbeat_batch_item', $$SELECT train_data.heartbeat_batch_item(NULL)$$),
 ('heartbeat_batch_item', $$SELECT train_data.heartbeat_batch_item('00000000-0000-0000-0000-00000000dead')$$),
 ('heartbeat_batch_item', $$SELECT train_data.heartbeat_batch_item('a6000000-0000-0000-0000-000000000000')$$),
 ('heartbeat_batch_item', $$SELECT train_data.heartbeat_batch_item('a6000000-0000-0000-0000-000000000000', 'NaN')$$),
 ('engine_store_turns', $$SELECT train_data.engine_store_turns(NULL, NULL, NULL)$$),
 ('engine_store_turns', $$SELECT train_data.engine_store_turns('b3000000-0000-0000-0000-000000000000', 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb', '[{"role": "user", "content": "x"}]')$$),
 ('complete_batch_item', $$SELECT train_data.complete_batch_item(NULL, '{}')$$),
 ('complete_batch_item', $$SELECT train_data.complete_batch_item('00000000-0000-0000-0000-00000000dead', '{}')$$),
 ('complete_batch_item', $$SELECT train_data.complete_batch_item('a6000000-0000-0000-0000-000000000000', '{}')$$),
 ('complete_batch_item', $$SELECT train_data.complete_batch_item('a6000000-0000-0000-0000-000000000000', NULL)$$),
 ('complete_batch_item', $$SELECT train_data.complete_batch_item('a6000000-0000-0000-0000-000000000000', public.deep_object(), -1)$$),
 ('fail_batch_item', $$SELECT train_data.fail_batch_item(NULL, 'e')$$),
 ('fail_batch_item', $$SELECT train_data.fail_batch_item('00000000-0000-0000-0000-00000000dead', 'e')$$),
 ('fail_batch_item', $$SELECT train_data.fail_batch_item('a6000000-0000-0000-0000-000000000000', public.huge())$$),
('fail_item', $$SELECT train_data.fail_item(NULL, 'e', NULL, true, NULL, public.deep_object(), NULL)$$),
('fail_item', $$SELECT train_data.fail_item('00000000-0000-0000-0000-00000000dead', public.huge(), NULL, NULL, -1, NULL, -5)$$),
('response_usage', $$SELECT train_data.response_usage(public.deep_object())$$),
('response_usage', $$SELECT train_data.response_usage(NULL)$$),
('response_usage', $$SELECT train_data.response_usage('{"model": 7, "usage": {"input_tokens": 1e300, "output_tokens": -1, "prompt_tokens": 5}}')$$),
('response_usage', $$SELECT train_data.response_usage('{"usage": {"input_tokens": 2147483000, "cache_read_input_tokens": 2147483000, "output_tokens": 1}}')$$),
('response_usage', $$SELECT train_data.response_usage('{"choices": [], "usage": {"prompt_tokens_details": {"cached_tokens": 9}}}')$$),
('response_usage', $$SELECT train_data.response_usage('{"choices": [], "usage": {"prompt_tokens": 5, "prompt_tokens_details": {"cached_tokens": 9}, "cache_creation_input_tokens": 3}}')$$),
('response_cost', $$SELECT train_data.response_cost(public.deep_object(), public.huge())$$),
('response_cost', $$SELECT train_data.response_cost(NULL, NULL)$$),
('usage_count', $$SELECT train_data.usage_count('"12"')$$),
('usage_count', $$SELECT train_data.usage_count('2147483647.9')$$),
 ('release_batch_item', $$SELECT train_data.release_batch_item(NULL)$$),
 ('release_batch_item', $$SELECT train_data.release_batch_item('00000000-0000-0000-0000-00000000dead')$$),
 ('release_batch_item', $$SELECT train_data.release_batch_item('a6000000-0000-0000-0000-000000000000', -1)$$),
 ('complete_batch_items', $$SELECT count(*) FROM train_data.complete_batch_items(NULL)$$),
 ('complete_batch_items', $$SELECT count(*) FROM train_data.complete_batch_items(public.deep_array())$$),
 ('complete_batch_items', $$SELECT count(*) FROM train_data.complete_batch_items(jsonb_build_array(jsonb_build_object('item_id', public.huge())))$$),
 ('complete_batch_entry', $$SELECT train_data.complete_batch_entry(public.deep_object(), 1)$$),
 ('complete_batch_entry', $$SELECT train_data.complete_batch_entry(jsonb_build_object('item_id', public.huge()), 1)$$),
 ('note_lock_timeout', $$SELECT train_data.note_lock_timeout(NULL)$$),
 ('note_lock_timeout', $$SELECT train_data.note_lock_timeout('00000000-0000-0000-0000-00000000dead')$$),
 ('price_cost', $$SELECT train_data.price_cost(NULL, 1, 1)$$),
 ('price_cost', $$SELECT train_data.price_cost(train_data.model_price('claude-sonnet'), NULL, 1)$$),
 ('price_cost', $$SELECT train_data.price_cost(train_data.model_price('claude-sonnet'), 9223372036854775807, 9223372036854775807)$$),
 ('price_cost', $$SELECT train_data.price_cost(train_data.model_price('claude-sonnet'), 1, 1, 9223372036854775807, 9223372036854775807)$$),
 ('price_cost', $$SELECT train_data.price_cost(train_data.model_price('claude-sonnet'), 10, 1, NULL, 2)$$),
 ('engine_model_price', $$SELECT train_data.engine_model_price(public.huge(), NULL)$$),
 ('engine_model_price', $$SELECT train_data.engine_model_price(NULL, public.huge())$$),
 ('jsonb_raw_size', $$SELECT train_data.jsonb_raw_size(NULL)$$),
 ('jsonb_raw_size', $$SELECT train_data.jsonb_raw_size(public.deep_object()) > 0$$),
 ('jsonb_raw_size', $$SELECT train_data.jsonb_raw_size(jsonb_build_object('x', public.huge())) > 1000000$$),
 ('check_item_parameters', $$SELECT train_data.check_item_parameters(NULL, NULL)$$),
 ('check_item_parameters', $$SELECT train_data.check_item_parameters(public.deep_object(), 'item')$$),
 ('check_item_parameters', $$SELECT train_data.check_item_parameters('{"dedupe": 2, "expectedTurns": "two"}', public.huge())$$),
 ('check_item_parameters', $$SELECT train_data.check_item_parameters(jsonb_build_object('expectedTurns', public.huge()), 'item')$$),
 ('metrics_have_defects', $$SELECT train_data.metrics_have_defects(NULL)$$),
 ('metrics_have_defects', $$SELECT train_data.metrics_have_defects(public.deep_object())$$),
 ('metrics_have_defects', $$SELECT train_data.metrics_have_defects('{"defects": "truncated_last_turn"}')$$),
 ('metrics_have_defects', $$SELECT train_data.metrics_have_defects('[{"defects": ["truncated_last_turn"]}]')$$),
 ('metrics_have_hard_defects', $$SELECT train_data.metrics_have_hard_defects(NULL)$$),
 ('metrics_have_hard_defects', $$SELECT train_data.metrics_have_hard_defects(public.deep_object())$$),
 ('metrics_have_hard_defects', $$SELECT train_data.metrics_have_hard_defects('{"defects": "looping_turn"}')$$),
 ('metrics_have_hard_defects', $$SELECT train_data.metrics_have_hard_defects(jsonb_build_object('defects', (SELECT jsonb_agg(text 'refusal') FROM generate_series(1, 100000))))$$),
 -- the owner-ended items' helpers (they act on the caller's session and jobs only)
 ('owner_close_job', $$SELECT train_data.owner_close_job(NULL)$$),
 ('owner_close_job', $$SELECT train_data.owner_close_job('00000000-0000-0000-0000-00000000dead')$$),
 ('close_job', $$SELECT train_data.close_job(NULL)$$),
 ('close_job', $$SELECT train_data.close_job('00000000-0000-0000-0000-00000000dead')$$),
 ('job_has_work', $$SELECT train_data.job_has_work(NULL)$$),
 ('job_has_work', $$SELECT train_data.job_has_work('00000000-0000-0000-0000-00000000dead')$$),
 ('html_escape', $$SELECT train_data.html_escape(NULL) IS NULL$$),
 ('html_escape', $$SELECT length(train_data.html_escape(public.huge()))$$),
 ('html_escape', $$SELECT length(train_data.html_escape(repeat('<', 1000000)))$$),
 -- bounds before work, values clipped (a review with 50 MB arguments)
 ('check_batch_options', $$SELECT train_data.check_batch_options(repeat(' ', 300), '{}', 3, 'continue', 'normal')$$),
 ('check_setting_choice', $$SELECT train_data.check_setting_choice(public.huge(), '{}', ARRAY[public.huge()], ARRAY[public.huge()])$$),
 ('check_setting_range', $$SELECT train_data.check_setting_range(public.huge(), '{}', ARRAY[public.huge()], 0, 1)$$),
 ('check_setting_range', $$SELECT train_data.check_setting_range('x', jsonb_build_object('a', 1e1000), '{a}', 0, 1)$$),
 ('append_review_action', $$SELECT train_data.append_review_action('a3000000-0000-0000-0000-000000000000', 'approved', NULL, repeat('c', 2001))$$),
 ('review_queue', $$SELECT count(*) FROM train_data.review_queue(1, 25, 'quality_score', public.huge())$$),
 ('review_queue', $$SELECT count(*) FROM train_data.review_queue(1, 25, 'quality_score', 'asc', 1e1000)$$),
 ('heartbeat_batch_item', $$SELECT train_data.heartbeat_batch_item('a6000000-0000-0000-0000-000000000000', 1e1000)$$),
 ('job_items_ended', $$SELECT train_data.job_items_ended(NULL)$$),
 ('job_items_ended', $$SELECT train_data.job_items_ended('b4000000-0000-0000-0000-000000000000')$$),
 ('is_uuid_text', $$SELECT train_data.is_uuid_text(public.huge())$$),
 ('is_uuid_text', $$SELECT train_data.is_uuid_text(NULL)$$),
 ('completion_item', $$SELECT train_data.completion_item(jsonb_build_object('item_id', public.huge()))$$),
 ('completion_item', $$SELECT train_data.completion_item(public.deep_object())$$),
 ('render_problems', $$SELECT train_data.render_problems(jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('message', public.huge()))), true)$$),
 ('render_problems', $$SELECT train_data.render_problems(public.deep_array(), NULL)$$),
 -- a huge item id, duration or attempt: named by entry and member, clipped
 ('complete_batch_items', $$SELECT string_agg(error_code || ' ' || error_message, ' | ') FROM train_data.complete_batch_items(jsonb_build_array(jsonb_build_object('item_id', public.huge(), 'response', '{}'::jsonb)))$$),
 ('complete_batch_items', $$SELECT string_agg(error_code || ' ' || error_message, ' | ') FROM train_data.complete_batch_items(jsonb_build_array(jsonb_build_object('item_id', 'a6000000-0000-0000-0000-000000000000', 'duration_ms', repeat('9', 5000)::jsonb, 'response', '{}'::jsonb)))$$),
 ('complete_batch_items', $$SELECT string_agg(error_code || ' ' || error_message, ' | ') FROM train_data.complete_batch_items(jsonb_build_array(jsonb_build_object('item_id', 'a6000000-0000-0000-0000-000000000000', 'attempt', 1.5, 'response', '{}'::jsonb)))$$),
 ('complete_batch_items', $$SELECT string_agg(error_code || ' ' || error_message, ' | ') FROM train_data.complete_batch_items(jsonb_build_array(jsonb_build_object('response', '{}'::jsonb)))$$);

-- Everything but the worker calls as alice; the worker calls as the worker
-- role (which may call nothing else).
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT n, fn, public.attempt(call) AS result FROM calls
WHERE fn NOT IN ('claim_batch_items', 'heartbeat_batch_item', 'complete_batch_item', 'fail_batch_item',
                 'release_batch_item', 'complete_batch_items', 'log_discarded_response')
ORDER BY n;
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT n, fn, public.attempt(call) AS result FROM calls
WHERE fn IN ('claim_batch_items', 'heartbeat_batch_item', 'complete_batch_item', 'fail_batch_item',
                 'release_batch_item', 'complete_batch_items', 'log_discarded_response')
ORDER BY n;
RESET ROLE;

-- Every function that takes arguments (triggers aside) is in the catalogue.
SELECT p.proname AS missing_from_catalogue
FROM pg_proc p
WHERE p.pronamespace = 'train_data'::regnamespace AND p.pronargs > 0
  AND p.prorettype <> 'trigger'::regtype
  AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.fn = p.proname)
ORDER BY 1;

-- Nothing was written.
SELECT b.tbl, b.n AS rows_before, a.n AS rows_after
FROM before b JOIN public.table_checksums() a USING (tbl)
WHERE a.md5 IS DISTINCT FROM b.md5;

-- Clean up.
DROP FUNCTION public.attempt(text), public.huge(), public.deep_object(), public.deep_array(),
    public.table_checksums();
DELETE FROM train_data.export_logs;
DELETE FROM train_data.ai_configurations;
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.conversations;
DELETE FROM train_data.scenarios;
DELETE FROM train_data.templates;
