-- sql/src/08_library.sql — functions of the prompt library: resolution, preview, usage, safe deletion.

--------------------------------------------------------------------------------
-- 13. The prompt library: resolution, preview, usage, safe deletion
--------------------------------------------------------------------------------

-- The stored template, or an error when it does not exist (or is invisible).
CREATE FUNCTION train_data.template_by_id(template_id uuid)
    RETURNS train_data.templates
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t train_data.templates;
BEGIN
    IF template_by_id.template_id IS NULL THEN
        RAISE EXCEPTION 'template id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO t FROM train_data.templates WHERE id = template_by_id.template_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'template % does not exist', template_by_id.template_id
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN t;
END
$$;

COMMENT ON FUNCTION train_data.template_by_id(uuid) IS
    'Internal: the stored template with this id; an error when it does not exist or is not visible';

-- Render a stored, active template; the result of render_template plus its id and name.
CREATE FUNCTION train_data.resolve_template(template_id uuid, parameters jsonb DEFAULT '{}',
                                            html_escape boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t train_data.templates := train_data.template_by_id(resolve_template.template_id);
BEGIN
    IF NOT t.is_active THEN
        RAISE EXCEPTION 'template "%" is not active', t.name
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Set is_active to true to use it again.';
    END IF;
    RETURN train_data.render_template(t.structure, coalesce(resolve_template.parameters, '{}'),
                                      t.variables, resolve_template.html_escape)
           || pg_catalog.jsonb_build_object('template_id', t.id, 'template_name', t.name);
END
$$;

COMMENT ON FUNCTION train_data.resolve_template(uuid, jsonb, boolean) IS
    'Renders a stored, active template with parameters: the result of render_template() plus template_id and template_name';

-- The same, for showing a prompt in a web page: the whole resolved text
-- HTML-escaped, the template's own text as well as the values (the
-- library is shared: another user's template is not to be trusted as
-- HTML; before 1.2's twenty-fourth session only the values were escaped).
CREATE FUNCTION train_data.preview_template(template_id uuid, parameters jsonb DEFAULT '{}')
    RETURNS jsonb
    LANGUAGE sql STABLE
    RETURN (SELECT r || pg_catalog.jsonb_build_object('resolved', train_data.html_escape(r ->> 'resolved'))
            FROM (SELECT train_data.resolve_template(template_id, parameters) AS r) s);

COMMENT ON FUNCTION train_data.preview_template(uuid, jsonb) IS
    'resolve_template() with the resolved text HTML-escaped (the template''s text and the values), for showing a prompt in a web page';

-- Count one more use of a template (yours; the batch engine counts every use).
CREATE FUNCTION train_data.increment_template_usage(template_id uuid)
    RETURNS integer
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    UPDATE train_data.templates SET usage_count = usage_count + 1
    WHERE id = increment_template_usage.template_id
    RETURNING usage_count INTO n;
    IF NOT FOUND THEN
        PERFORM train_data.template_by_id(increment_template_usage.template_id);
        RAISE EXCEPTION 'template % can be changed only by its creator', increment_template_usage.template_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN n;
END
$$;

COMMENT ON FUNCTION train_data.increment_template_usage(uuid) IS
    'Adds one to a template''s usage_count and returns the new count; only the template''s creator may do it';

CREATE FUNCTION train_data.get_template_scenario_count(template_id uuid)
    RETURNS integer
    LANGUAGE sql STABLE
    RETURN (SELECT count(*)::integer FROM train_data.scenarios s
            WHERE s.parent_template_id = get_template_scenario_count.template_id);

COMMENT ON FUNCTION train_data.get_template_scenario_count(uuid) IS
    'Number of scenarios (visible to the caller) under a template';

CREATE FUNCTION train_data.get_scenario_edge_case_count(scenario_id uuid)
    RETURNS integer
    LANGUAGE sql STABLE
    RETURN (SELECT count(*)::integer FROM train_data.edge_cases e
            WHERE e.parent_scenario_id = get_scenario_edge_case_count.scenario_id);

COMMENT ON FUNCTION train_data.get_scenario_edge_case_count(uuid) IS
    'Number of edge cases (visible to the caller) under a scenario';

-- Delete a template unless scenarios or batch items still use it.
CREATE FUNCTION train_data.safe_delete_template(template_id uuid)
    RETURNS TABLE (success boolean, message text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t train_data.templates := train_data.template_by_id(safe_delete_template.template_id);
    n integer := train_data.get_template_scenario_count(t.id);
BEGIN
    IF n > 0 THEN
        RETURN QUERY SELECT false, pg_catalog.format('cannot delete template "%s": %s dependent scenario%s exist%s',
                                                     t.name, n, CASE WHEN n = 1 THEN '' ELSE 's' END,
                                                     CASE WHEN n = 1 THEN 's' ELSE '' END);
        RETURN;
    END IF;
    -- batch items do not hold a template back: each keeps the prompt and
    -- threshold it was queued with (and its template_id: no foreign key)
    DELETE FROM train_data.templates WHERE id = t.id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, pg_catalog.format('template "%s" can be deleted only by its creator', t.name);
        RETURN;
    END IF;
    RETURN QUERY SELECT true, pg_catalog.format('template "%s" deleted', t.name);
END
$$;

COMMENT ON FUNCTION train_data.safe_delete_template(uuid) IS
    'Deletes a template unless scenarios still use it (batch items keep their prompts); returns (success, message) instead of raising';

-- Delete a scenario unless edge cases still use it.
CREATE FUNCTION train_data.safe_delete_scenario(scenario_id uuid)
    RETURNS TABLE (success boolean, message text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s train_data.scenarios;
    n integer;
BEGIN
    IF safe_delete_scenario.scenario_id IS NULL THEN
        RAISE EXCEPTION 'scenario id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO s FROM train_data.scenarios WHERE id = safe_delete_scenario.scenario_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'scenario % does not exist', safe_delete_scenario.scenario_id
            USING ERRCODE = 'undefined_object';
    END IF;
    n := train_data.get_scenario_edge_case_count(s.id);
    IF n > 0 THEN
        RETURN QUERY SELECT false, pg_catalog.format('cannot delete scenario "%s": %s dependent edge case%s exist%s',
                                                     s.name, n, CASE WHEN n = 1 THEN '' ELSE 's' END,
                                                     CASE WHEN n = 1 THEN 's' ELSE '' END);
        RETURN;
    END IF;
    DELETE FROM train_data.scenarios WHERE id = s.id;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, pg_catalog.format('scenario "%s" can be deleted only by its creator', s.name);
        RETURN;
    END IF;
    RETURN QUERY SELECT true, pg_catalog.format('scenario "%s" deleted', s.name);
END
$$;

COMMENT ON FUNCTION train_data.safe_delete_scenario(uuid) IS
    'Deletes a scenario unless edge cases still use it; returns (success, message) instead of raising';

-- Scenarios: take the parent template's name; keep error_message only while
-- generation_status is 'error'.
CREATE FUNCTION train_data.scenarios_before_write() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.parent_template_id IS DISTINCT FROM OLD.parent_template_id THEN
        SELECT t.name INTO NEW.parent_template_name
        FROM train_data.templates t WHERE t.id = NEW.parent_template_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'template % does not exist', NEW.parent_template_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    IF NEW.generation_status <> 'error' THEN
        NEW.error_message := NULL;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION train_data.scenarios_before_write() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE on scenarios) that copies the parent template''s name and clears error_message unless generation_status is error';

CREATE TRIGGER scenarios_before_write
    BEFORE INSERT OR UPDATE ON train_data.scenarios
    FOR EACH ROW EXECUTE FUNCTION train_data.scenarios_before_write();

-- Edge cases: take the parent scenario's name.
CREATE FUNCTION train_data.edge_cases_before_write() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.parent_scenario_id IS DISTINCT FROM OLD.parent_scenario_id THEN
        SELECT s.name INTO NEW.parent_scenario_name
        FROM train_data.scenarios s WHERE s.id = NEW.parent_scenario_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'scenario % does not exist', NEW.parent_scenario_id
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION train_data.edge_cases_before_write() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE on edge_cases) that copies the parent scenario''s name';

CREATE TRIGGER edge_cases_before_write
    BEFORE INSERT OR UPDATE ON train_data.edge_cases
    FOR EACH ROW EXECUTE FUNCTION train_data.edge_cases_before_write();

-- Record a scenario's generation outcome (the rule above clears stale errors).
CREATE FUNCTION train_data.update_scenario_generation_status(scenario_id uuid, status text,
                                                             conversation_id uuid DEFAULT NULL,
                                                             error_message text DEFAULT NULL)
    RETURNS train_data.scenarios
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s train_data.scenarios;
BEGIN
    IF update_scenario_generation_status.scenario_id IS NULL THEN
        RAISE EXCEPTION 'scenario id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF status IS NULL OR status NOT IN ('not_generated', 'generated', 'error') THEN
        RAISE EXCEPTION 'generation status must be not_generated, generated or error, not %',
                        train_data.clip_for_message(status)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE train_data.scenarios
    SET generation_status = update_scenario_generation_status.status,
        conversation_id = coalesce(update_scenario_generation_status.conversation_id, scenarios.conversation_id),
        error_message = update_scenario_generation_status.error_message
    WHERE id = update_scenario_generation_status.scenario_id
    RETURNING * INTO s;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM train_data.scenarios WHERE id = update_scenario_generation_status.scenario_id) THEN
            RAISE EXCEPTION 'scenario % can be changed only by its creator', update_scenario_generation_status.scenario_id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RAISE EXCEPTION 'scenario % does not exist', update_scenario_generation_status.scenario_id
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN s;
END
$$;

COMMENT ON FUNCTION train_data.update_scenario_generation_status(uuid, text, uuid, text) IS
    'Records a scenario''s generation outcome (not_generated, generated or error) with its conversation and error message; returns the updated scenario';
