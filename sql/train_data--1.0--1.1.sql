-- train_data--1.0--1.1.sql — from 1.0 to 1.1.
--
-- Native code: 1.1's shared library adds the JSON, CSV and Markdown
-- documents of export_conversations, a faster export writer, enum labels and
-- dates checked in export filters, and error messages that clip the values
-- they quote; its C entry points and SQL signatures are those of 1.0.
--
-- Ids: conversations and turns get time-ordered UUIDs (uuid_v7) by default.
-- Indexes: batch_items.parent_conversation_id, a foreign key 1.0 left
-- unindexed; conversations (id) with the columns row-level security reads.
--
-- SQL: what the bad-input catalogue (test/sql/bad_input.sql) found.  A user
-- value quoted in an error message is clipped to 64 characters
-- (clip_for_message); worker and batch names are limited to 200 characters,
-- review reasons to 20 of 200 characters without NULLs; NULL scenario ids,
-- NULL preference changes and unknown scenario generation statuses are
-- refused with their own messages; an item without template_id is reported
-- as such; the review queue's offset is computed in bigint.  Every function
-- keeps its signature, owner and privileges (CREATE OR REPLACE).

\echo Use "ALTER EXTENSION train_data UPDATE TO '1.1'" to load this file. \quit

-- A user value as an error message quotes it: NULL as NULL, otherwise whole
-- up to 64 characters, else its first 64 followed by "...".
CREATE FUNCTION train_data.clip_for_message(v text)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN v IS NULL THEN 'NULL'
                WHEN pg_catalog.char_length(v) <= 64 THEN v
                ELSE pg_catalog.left(v, 64) OPERATOR(pg_catalog.||) '...' END;

-- Time-ordered ids (UUID version 7) for conversations and their turns.
-- Rows made together sit together in the primary keys and in the turns'
-- (conversation_id, turn_number) index: inserts go to the right edge of
-- those indexes, and an export, which reads conversations in the order they
-- were made, reads that index in order instead of at random.  Rows made
-- before the update keep their random ids.
CREATE FUNCTION train_data.uuid_v7() RETURNS uuid
    LANGUAGE c VOLATILE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'td_uuid_v7_sql';
ALTER TABLE train_data.conversations ALTER COLUMN id SET DEFAULT train_data.uuid_v7();
ALTER TABLE train_data.conversation_turns ALTER COLUMN id SET DEFAULT train_data.uuid_v7();

-- Deleting a conversation sets the parent_conversation_id of the batch
-- items that regenerate it to NULL (ON DELETE SET NULL).  1.0 had no index on
-- that column, so each deleted conversation scanned every batch item.
CREATE INDEX batch_items_parent_conversation_idx ON train_data.batch_items (parent_conversation_id)
    WHERE parent_conversation_id IS NOT NULL;

-- Row-level security on conversation_turns and generation_logs looks their
-- conversation up by id once per row and compares its created_by and
-- approved_by with the user.  With both in the index the lookup never
-- visits the table: an export as a non-owner, a million such lookups, is
-- about 1.3 times faster.
CREATE INDEX conversations_visibility_idx ON train_data.conversations (id) INCLUDE (created_by, approved_by);

-- The list of unknown settings is clipped in the message.
CREATE OR REPLACE FUNCTION train_data.check_setting_keys(kind text, doc jsonb, defaults jsonb, open_objects text[] DEFAULT '{}')
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    unknown text;
BEGIN
    IF jsonb_typeof(doc) <> 'object' THEN
        RAISE EXCEPTION '% must be a JSON object', kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg(u, ', ' ORDER BY u) INTO unknown
    FROM train_data.jsonb_unknown_keys(doc, defaults, '', open_objects) u;
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION '% has unknown settings: %', kind, train_data.clip_for_message(unknown)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Compare with the default document.';
    END IF;
END
$$;

-- The unknown model is clipped in the message.
CREATE OR REPLACE FUNCTION train_data.validate_ai_config(config jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k constant text := 'AI configuration';
    c jsonb;
    threshold jsonb;
    position bigint;
    name text;
BEGIN
    PERFORM train_data.check_setting_keys(k, coalesce(config, '{}'), train_data.default_ai_config());
    c := train_data.jsonb_merge_deep(train_data.default_ai_config(), coalesce(config, '{}'));
    IF jsonb_typeof(c -> 'model') <> 'string' OR (train_data.model_price(c ->> 'model')).model_id IS NULL THEN
        RAISE EXCEPTION '% setting "model" names an unknown model: %', k, train_data.clip_for_message((c -> 'model')::text)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use a Claude model id, or add the model''s price to train_data.model_prices.';
    END IF;
    PERFORM train_data.check_setting_range(k, c, '{temperature}', 0, 1);
    PERFORM train_data.check_setting_range(k, c, '{maxTokens}', 1, 4096);
    IF (c ->> 'maxTokens')::numeric <> trunc((c ->> 'maxTokens')::numeric) THEN
        RAISE EXCEPTION '% setting "maxTokens" must be a whole number', k
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The value is %s.', c -> 'maxTokens');
    END IF;
    PERFORM train_data.check_setting_range(k, c, '{topP}', 0, 1);
    PERFORM train_data.check_setting_range(k, c, '{rateLimiting,requestsPerMinute}', 1, NULL);
    PERFORM train_data.check_setting_range(k, c, '{rateLimiting,concurrentRequests}', 1, NULL);
    PERFORM train_data.check_setting_range(k, c, '{rateLimiting,burstAllowance}', 0, NULL);
    PERFORM train_data.check_setting_range(k, c, '{retryStrategy,maxRetries}', 0, 10);
    PERFORM train_data.check_setting_range(k, c, '{retryStrategy,baseDelay}', 0, NULL);
    PERFORM train_data.check_setting_range(k, c, '{retryStrategy,maxDelay}', (c #>> '{retryStrategy,baseDelay}')::numeric, NULL);
    PERFORM train_data.check_setting_range(k, c, '{costBudget,dailyBudget}', 0, NULL);
    PERFORM train_data.check_setting_range(k, c, '{costBudget,weeklyBudget}', (c #>> '{costBudget,dailyBudget}')::numeric, NULL);
    PERFORM train_data.check_setting_range(k, c, '{costBudget,monthlyBudget}', (c #>> '{costBudget,weeklyBudget}')::numeric, NULL);
    IF jsonb_typeof(c #> '{costBudget,alertThresholds}') <> 'array' THEN
        RAISE EXCEPTION '% setting "costBudget.alertThresholds" must be an array of numbers', k
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR threshold, position IN
        SELECT e.value, e.ordinality - 1 FROM jsonb_array_elements(c #> '{costBudget,alertThresholds}') WITH ORDINALITY e
    LOOP
        name := format('costBudget.alertThresholds[%s]', position);
        PERFORM train_data.check_setting_range(k, jsonb_build_object(name, threshold), ARRAY[name], 0, 1);
    END LOOP;
    PERFORM train_data.check_setting_range(k, c, '{timeouts,generationTimeout}', 0, NULL);
    PERFORM train_data.check_setting_range(k, c, '{timeouts,connectionTimeout}', 0, NULL);
    PERFORM train_data.check_setting_range(k, c, '{timeouts,totalRequestTimeout}', 0, NULL);
    RETURN c;
END
$$;

-- NULL changes are refused instead of creating the user's row unchanged.
CREATE OR REPLACE FUNCTION train_data.update_user_preferences(changes jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    merged jsonb;
BEGIN
    IF changes IS NULL THEN
        RAISE EXCEPTION 'user preference changes must not be null' USING ERRCODE = 'null_value_not_allowed',
              HINT = 'Pass ''{}'' to change nothing.';
    END IF;
    merged := train_data.jsonb_merge_deep(train_data.get_user_preferences(), changes);
    PERFORM train_data.validate_user_preferences(merged);
    UPDATE train_data.user_preferences SET preferences = merged
    WHERE user_id = train_data.current_user_id();
    RETURN merged;
END
$$;

-- Batch names are at most 200 characters; the values echoed are clipped.
CREATE OR REPLACE FUNCTION train_data.check_batch_options(name text, shared_parameters jsonb, concurrent_processing integer,
                                               error_handling text, priority text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF name IS NULL OR btrim(name) = '' THEN
        RAISE EXCEPTION 'batch name must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF char_length(name) > 200 THEN
        RAISE EXCEPTION 'batch name is % characters long; the limit is 200', char_length(name)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF shared_parameters IS NULL OR jsonb_typeof(shared_parameters) <> 'object' THEN
        RAISE EXCEPTION 'shared parameters of batch "%" must be a JSON object', name
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF concurrent_processing IS NULL OR concurrent_processing NOT BETWEEN 1 AND 10 THEN
        RAISE EXCEPTION 'concurrent_processing of batch "%" must be between 1 and 10, not %',
                        name, coalesce(concurrent_processing::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF error_handling IS NULL OR error_handling NOT IN ('continue', 'stop') THEN
        RAISE EXCEPTION 'error_handling of batch "%" must be continue or stop, not %', name, train_data.clip_for_message(error_handling)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF priority IS NULL OR priority NOT IN ('high', 'normal', 'low') THEN
        RAISE EXCEPTION 'priority of batch "%" must be high, normal or low, not %', name, train_data.clip_for_message(priority)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END
$$;

-- An item without a template_id is reported as such (1.0 said "names
-- template , which does not exist"); the values echoed are clipped.
CREATE OR REPLACE FUNCTION train_data.create_batch(name text, items jsonb, shared_parameters jsonb DEFAULT '{}',
                                        concurrent_processing integer DEFAULT 3,
                                        error_handling text DEFAULT 'continue',
                                        priority text DEFAULT 'normal')
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad record;
    job uuid;
BEGIN
    PERFORM train_data.check_batch_options(name, shared_parameters, concurrent_processing, error_handling, priority);
    IF items IS NULL OR jsonb_typeof(items) <> 'array' THEN
        RAISE EXCEPTION 'items of batch "%" must be a JSON array', name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_array_length(items) = 0 THEN
        RAISE EXCEPTION 'batch "%" has no items', name USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- the first invalid item, if any
    SELECT x.ord, x.problem, x.detail INTO bad
    FROM (SELECT e.ord,
                 CASE WHEN jsonb_typeof(e.value) <> 'object' THEN 'is not a JSON object'
                      WHEN NOT coalesce((e.value ->> 'template_id') ~* '^\{?[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}\}?$', false)
                          THEN format('has no valid template_id: %s',
                                      train_data.clip_for_message(coalesce(e.value -> 'template_id', 'null')::text))
                      WHEN t.id IS NULL THEN format('names template %s, which does not exist', e.value ->> 'template_id')
                      WHEN NOT t.is_active THEN format('names template "%s", which is not active', t.name)
                      WHEN e.value ? 'tier' AND NOT (e.value ->> 'tier') = ANY (enum_range(NULL::train_data.tier_type)::text[])
                          THEN format('has tier %s; expected template, scenario or edge_case',
                                      train_data.clip_for_message((e.value -> 'tier')::text))
                      WHEN e.value ? 'parameters' AND jsonb_typeof(e.value -> 'parameters') <> 'object'
                          THEN 'has parameters that are not a JSON object'
                      WHEN NOT (r.result ->> 'success')::boolean
                          THEN format('is not valid for template "%s"', t.name)
                 END AS problem,
                 (SELECT string_agg(m ->> 'message', '; ') FROM jsonb_array_elements(r.result -> 'errors') m) AS detail
          FROM jsonb_array_elements(items) WITH ORDINALITY AS e(value, ord)
          LEFT JOIN train_data.templates t
                 ON t.id = CASE WHEN jsonb_typeof(e.value) = 'object'
                                 AND (e.value ->> 'template_id') ~* '^\{?[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}\}?$'
                                THEN (e.value ->> 'template_id')::uuid END
          CROSS JOIN LATERAL (
                SELECT CASE WHEN t.id IS NOT NULL AND jsonb_typeof(coalesce(e.value -> 'parameters', '{}')) = 'object'
                            THEN train_data.render_template(t.structure,
                                                            coalesce(e.value -> 'parameters', '{}') || shared_parameters,
                                                            t.variables) END AS result) r) x
    WHERE x.problem IS NOT NULL
    ORDER BY x.ord
    LIMIT 1;
    IF FOUND AND bad.detail IS NOT NULL THEN
        RAISE EXCEPTION 'item % of batch "%" %', bad.ord, name, bad.problem
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = upper(left(bad.detail, 1)) || substr(bad.detail, 2) || '.';
    ELSIF FOUND THEN
        RAISE EXCEPTION 'item % of batch "%" %', bad.ord, name, bad.problem
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO train_data.batch_jobs (name, total_items, shared_parameters, concurrent_processing,
                                       error_handling, priority, tier)
    VALUES (name, jsonb_array_length(items), shared_parameters, concurrent_processing, error_handling, priority,
            (SELECT CASE WHEN count(DISTINCT x.tier) = 1 THEN min(x.tier::text)::train_data.tier_type END
             FROM (SELECT coalesce((e ->> 'tier')::train_data.tier_type, t.tier) AS tier
                   FROM jsonb_array_elements(items) e
                   JOIN train_data.templates t ON t.id = (e ->> 'template_id')::uuid) x))
    RETURNING id INTO job;

    -- items keep their parameters with the template's defaults applied
    INSERT INTO train_data.batch_items (batch_job_id, template_id, position, topic, tier, parameters)
    SELECT job, t.id, e.ord, coalesce(e.value ->> 'topic', p.params ->> 'topic'),
           coalesce((e.value ->> 'tier')::train_data.tier_type, t.tier), p.params
    FROM jsonb_array_elements(items) WITH ORDINALITY AS e(value, ord)
    JOIN train_data.templates t ON t.id = (e.value ->> 'template_id')::uuid
    CROSS JOIN LATERAL (SELECT train_data.render_template(t.structure,
                                                          coalesce(e.value -> 'parameters', '{}') || shared_parameters,
                                                          t.variables) -> 'parameters' AS params) p;
    RETURN job;
END
$$;

-- Worker names are at most 200 characters.
CREATE OR REPLACE FUNCTION train_data.claim_batch_items(worker text, max_items integer DEFAULT 1,
                                             lease interval DEFAULT '5 minutes')
    RETURNS TABLE (item_id uuid, batch_job_id uuid, "position" integer, tier train_data.tier_type,
                   parameters jsonb, prompt text, request jsonb, attempt integer, lease_expires_at timestamptz)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j record;
    it record;
    claimed integer := 0;
    slots integer;
    new_in_flight integer;
    config jsonb;
    something_failed boolean := false;
BEGIN
    IF worker IS NULL OR btrim(worker) = '' THEN
        RAISE EXCEPTION 'worker name must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF char_length(worker) > 200 THEN
        RAISE EXCEPTION 'worker name is % characters long; the limit is 200', char_length(worker)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF max_items IS NULL OR max_items NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_items must be between 1 and 1000, not %', coalesce(max_items::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF lease IS NULL OR lease <= interval '0' OR lease > interval '1 day' THEN
        RAISE EXCEPTION 'lease must be between 0 and 1 day, not %', coalesce(lease::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    FOR j IN
        SELECT bj.id, bj.concurrent_processing, bj.created_by
        FROM train_data.batch_jobs bj
        WHERE bj.status IN ('queued', 'processing')
        ORDER BY (CASE bj.priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END), bj.created_at, bj.id
    LOOP
        EXIT WHEN claimed >= max_items;
        -- one claimer per job at a time: the in-flight count below stays true
        PERFORM train_data.lock_job(j.id);
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM train_data.batch_jobs bj
                                  WHERE bj.id = j.id AND bj.status IN ('queued', 'processing'));
        SELECT j.concurrent_processing - count(*) INTO slots
        FROM train_data.batch_items i
        WHERE i.batch_job_id = j.id AND i.status = 'processing' AND i.lease_expires_at > now();
        slots := least(slots, max_items - claimed);
        CONTINUE WHEN slots <= 0;

        -- items whose lease expired too often fail for good
        WITH dead AS (
            UPDATE train_data.batch_items i
            SET status = 'failed', finished_at = now(), lease_expires_at = NULL,
                error_message = format('lease expired %s times; the worker was lost each time', i.attempts),
                error_code = 'lease_expired'
            WHERE i.id IN (SELECT d.id FROM train_data.batch_items d
                           WHERE d.batch_job_id = j.id AND d.status = 'processing'
                             AND d.lease_expires_at <= now() AND d.attempts >= d.max_attempts
                           FOR UPDATE SKIP LOCKED)
            RETURNING i.*)
        SELECT count(*) INTO new_in_flight FROM dead;
        IF new_in_flight > 0 THEN
            PERFORM train_data.bump_counters(j.id, 0, new_in_flight, 0, -new_in_flight, true);
            something_failed := true;
        END IF;

        config := train_data.get_effective_ai_config(j.created_by);
        new_in_flight := 0;
        FOR it IN
            WITH picked AS (
                (SELECT i.id, true AS reclaimed, i.lease_expires_at AS sort_key, 0 AS pos
                 FROM train_data.batch_items i
                 WHERE i.batch_job_id = j.id AND i.status = 'processing' AND i.lease_expires_at <= now()
                 ORDER BY i.lease_expires_at LIMIT slots)
                UNION ALL
                (SELECT i.id, false, NULL, i.position
                 FROM train_data.batch_items i
                 WHERE i.batch_job_id = j.id AND i.status = 'queued' AND i.available_at <= now()
                 ORDER BY i.position LIMIT slots)),
            locked AS (
                SELECT i.id, p.reclaimed, i.template_id, i.parameters FROM train_data.batch_items i
                JOIN picked p ON p.id = i.id
                WHERE i.status IN ('queued', 'processing')
                ORDER BY p.reclaimed DESC, p.sort_key, p.pos
                LIMIT slots
                FOR UPDATE OF i SKIP LOCKED),
            prompts AS MATERIALIZED (   -- render once per item
                SELECT l.id, l.reclaimed,
                       train_data.render_template(t.structure, l.parameters, t.variables) AS rendered
                FROM locked l LEFT JOIN train_data.templates t ON t.id = l.template_id)
            UPDATE train_data.batch_items i
            SET status = 'processing', attempts = i.attempts + 1, worker = claim_batch_items.worker,
                lease_expires_at = now() + lease, started_at = coalesce(i.started_at, now()), progress = NULL,
                request = CASE WHEN (pr.rendered ->> 'success')::boolean THEN
                              jsonb_build_object('model', config -> 'model', 'max_tokens', config -> 'maxTokens',
                                                 'temperature', config -> 'temperature',
                                                 'messages', jsonb_build_array(jsonb_build_object(
                                                     'role', 'user', 'content', pr.rendered -> 'resolved')))
                          END
            FROM prompts pr
            WHERE i.id = pr.id
            RETURNING i.*, pr.reclaimed, pr.rendered
        LOOP
            IF NOT it.reclaimed THEN
                new_in_flight := new_in_flight + 1;
            END IF;
            IF it.request IS NULL THEN
                -- the template changed or went away since the batch was made
                UPDATE train_data.batch_items i
                SET status = 'failed', finished_at = now(), lease_expires_at = NULL, error_code = 'invalid_prompt',
                    error_message = coalesce((SELECT string_agg(e ->> 'message', '; ')
                                              FROM jsonb_array_elements(it.rendered -> 'errors') e),
                                             'its template no longer exists')
                WHERE i.id = it.id;
                PERFORM train_data.bump_counters(j.id, 0, 1, 0, CASE WHEN it.reclaimed THEN -1 ELSE 0 END, true);
                IF NOT it.reclaimed THEN
                    new_in_flight := new_in_flight - 1;
                END IF;
                something_failed := true;
                CONTINUE;
            END IF;
            claimed := claimed + 1;
            item_id := it.id;
            batch_job_id := it.batch_job_id;
            "position" := it.position;
            tier := it.tier;
            parameters := it.parameters;
            prompt := it.rendered ->> 'resolved';
            request := it.request;
            attempt := it.attempts;
            lease_expires_at := it.lease_expires_at;
            RETURN NEXT;
        END LOOP;
        IF new_in_flight <> 0 THEN
            PERFORM train_data.bump_counters(j.id, 0, 0, 0, new_in_flight);
        END IF;
        UPDATE train_data.batch_jobs bj SET status = 'processing', started_at = coalesce(bj.started_at, now())
        WHERE bj.id = j.id AND bj.status = 'queued';
        IF something_failed THEN
            PERFORM train_data.finish_job_if_done(j.id);
            something_failed := false;
        END IF;
    END LOOP;
END
$$;

-- Review reasons: no NULL, at most 20 of at most 200 characters; the
-- action echoed is clipped.
CREATE OR REPLACE FUNCTION train_data.append_review_action(conversation_id uuid, action text, performed_by uuid,
                                                comment text DEFAULT NULL, reasons text[] DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF action IS NULL OR action NOT IN ('approved', 'rejected', 'revision_requested', 'generated', 'moved_to_review') THEN
        RAISE EXCEPTION 'review action must be approved, rejected, revision_requested, generated or moved_to_review, not %',
                        train_data.clip_for_message(action)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF array_position(reasons, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'review reasons must not contain null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF cardinality(reasons) > 20 OR EXISTS (SELECT 1 FROM unnest(reasons) r WHERE char_length(r) > 200) THEN
        RAISE EXCEPTION 'review reasons are limited to 20 of at most 200 characters each'
            USING ERRCODE = 'string_data_right_truncation',
                  DETAIL = format('The review has %s reasons, the longest %s characters long.', cardinality(reasons),
                                  (SELECT max(char_length(r)) FROM unnest(reasons) r));
    END IF;
    UPDATE train_data.conversations c
    SET review_history = c.review_history || jsonb_build_array(jsonb_build_object(
            'id', gen_random_uuid(), 'action', append_review_action.action, 'performedBy', performed_by,
            'timestamp', now(), 'comment', append_review_action.comment,
            'reasons', to_jsonb(append_review_action.reasons)))
    WHERE c.id = append_review_action.conversation_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation % does not exist', coalesce(append_review_action.conversation_id::text, 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
END
$$;

-- The action echoed is clipped.
CREATE OR REPLACE FUNCTION train_data.review_conversation(conversation_id uuid, action text, comment text DEFAULT NULL,
                                               reasons text[] DEFAULT NULL)
    RETURNS train_data.conversations
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c train_data.conversations;
    reviewer uuid := train_data.current_user_id();
BEGIN
    IF action IS NULL OR action NOT IN ('approved', 'rejected', 'revision_requested') THEN
        RAISE EXCEPTION 'review action must be approved, rejected or revision_requested, not %', train_data.clip_for_message(action)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF char_length(comment) > 2000 THEN
        RAISE EXCEPTION 'review comment is % characters long; the limit is 2000', char_length(comment)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF reviewer IS NULL THEN
        RAISE EXCEPTION 'no user id is set' USING ERRCODE = 'invalid_authorization_specification',
              HINT = 'Set train_data.user_id (or sign in through PostgREST) first.';
    END IF;
    SELECT * INTO c FROM train_data.conversations x WHERE x.id = review_conversation.conversation_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation % does not exist', coalesce(review_conversation.conversation_id::text, 'NULL')
            USING ERRCODE = 'undefined_object';
    END IF;
    IF c.status NOT IN ('generated', 'pending_review', 'needs_revision') THEN
        RAISE EXCEPTION 'conversation % is %, not eligible for review', c.conversation_id, c.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Only generated, pending_review and needs_revision conversations can be reviewed.';
    END IF;
    -- the history first: the life-cycle trigger wants the review recorded
    PERFORM train_data.append_review_action(c.id, action, reviewer, comment, reasons);
    UPDATE train_data.conversations x
    SET status = CASE action WHEN 'approved' THEN 'approved' WHEN 'rejected' THEN 'rejected'
                             ELSE 'needs_revision' END::train_data.conversation_status,
        approved_by = CASE WHEN action = 'approved' THEN reviewer ELSE x.approved_by END,
        approved_at = CASE WHEN action = 'approved' THEN now() ELSE x.approved_at END,
        reviewer_notes = coalesce(review_conversation.comment, x.reviewer_notes)
    WHERE x.id = c.id;
    SELECT * INTO c FROM train_data.conversations x WHERE x.id = c.id;
    RETURN c;
END
$$;

-- The values echoed are clipped; the offset of a far page no longer
-- overflows integer.
CREATE OR REPLACE FUNCTION train_data.review_queue(page integer DEFAULT 1, page_size integer DEFAULT 25,
                                        sort_by text DEFAULT 'quality_score', sort_order text DEFAULT 'asc',
                                        min_quality numeric DEFAULT NULL)
    RETURNS SETOF train_data.conversations
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF page IS NULL OR page < 1 THEN
        RAISE EXCEPTION 'page must be 1 or more, not %', coalesce(page::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF page_size IS NULL OR page_size NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'page_size must be between 1 and 100, not %', coalesce(page_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF sort_by IS NULL OR sort_by NOT IN ('quality_score', 'created_at') THEN
        RAISE EXCEPTION 'sort_by must be quality_score or created_at, not %', train_data.clip_for_message(sort_by)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF sort_order IS NULL OR lower(sort_order) NOT IN ('asc', 'desc') THEN
        RAISE EXCEPTION 'sort_order must be asc or desc, not %', train_data.clip_for_message(sort_order)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_quality < 0 OR min_quality > 10 THEN
        RAISE EXCEPTION 'min_quality must be between 0 and 10, not %', min_quality USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- sort_by and sort_order are checked against fixed lists above
    RETURN QUERY EXECUTE format(
        'SELECT * FROM train_data.conversations c
         WHERE c.status = ''pending_review'' AND ($1 IS NULL OR c.quality_score >= $1)
         ORDER BY c.%s %s, c.created_at, c.id LIMIT $2 OFFSET $3',
        sort_by, lower(sort_order))
    USING min_quality, page_size, (page::bigint - 1) * page_size;
END
$$;

-- A NULL scenario id and an unknown status are reported as such (1.0 let
-- the table's constraints refuse them).
CREATE OR REPLACE FUNCTION train_data.update_scenario_generation_status(scenario_id uuid, status text,
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

-- A NULL scenario id is reported as such (1.0 said "scenario <NULL> does
-- not exist").
CREATE OR REPLACE FUNCTION train_data.safe_delete_scenario(scenario_id uuid)
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

-- A job the caller cannot see does not exist (1.0 said "is <NULL>").
CREATE OR REPLACE FUNCTION train_data.job_state_error(job_id uuid, wanted text)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st train_data.batch_job_status;
BEGIN
    SELECT b.status INTO st FROM train_data.batch_jobs b WHERE b.id = job_state_error.job_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'batch job % does not exist', coalesce(job_id::text, 'NULL') USING ERRCODE = 'undefined_object';
    END IF;
    IF wanted IS NULL THEN
        RAISE EXCEPTION 'batch job % is already %', job_id, st USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RAISE EXCEPTION 'batch job % is %, not %', job_id, st, wanted
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = CASE wanted WHEN 'processing' THEN 'Only a processing job can be paused.'
                                 ELSE 'Only a paused job can be resumed.' END;
END
$$;
