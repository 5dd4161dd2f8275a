-- train_data--1.1--1.2.sql — from 1.1 to 1.2.
--
-- Frozen once 1.2 is released.  It holds only what 1.2 changes; the current
-- definition of every object is in sql/src (CONTRIBUTING.md).
--
-- C entry points: every SQL-callable C function is now named
-- train_data_<SQL name> in the library (the 1.0 and 1.1 names stay exported
-- for those versions' scripts); each function below is pointed at its new
-- name, with its signature, attributes and privileges unchanged.

\echo Use "ALTER EXTENSION train_data UPDATE TO '1.2'" to load this file. \quit

-- Every table the update changes, locked first, the jobs then their items
-- (the order of 1.1's claims, a worker's most frequent call), then the
-- rest: the update waits for the transactions that hold them before it
-- holds any, instead of taking the conversations first and then waiting
-- for an item a completion holds while the completion waits for it.  No
-- order suits both of 1.1's calls (a completion takes the item before its
-- job), so a call in progress may still be cancelled as a deadlock: stop
-- the workers for the update (CHANGELOG, Upgrading from 1.1).
LOCK TABLE train_data.batch_jobs, train_data.batch_items, train_data.batch_job_counters,
           train_data.ai_configurations, train_data.templates, train_data.conversations,
           train_data.conversation_turns, train_data.generation_logs, train_data.model_prices,
           train_data.export_logs, train_data.scenarios, train_data.edge_cases, train_data.template_analytics,
           train_data.user_preferences, train_data.ai_configuration_audit, train_data.configuration_audit_log
    IN ACCESS EXCLUSIVE MODE;

-- What a 1.1 site's users may have made on train_data's tables, which 1.2
-- refuses (16_table_guards.sql) but the update keeps: triggers (1.1 let any
-- role granted TRIGGER make one, also with one of train_data's functions;
-- it runs as whoever fires it, the worker functions' owner too) and foreign
-- keys of other tables (their checks read every user's rows; their
-- cascades run the other table's triggers in the session that deletes).
-- Each is named in a WARNING, for the site to check.  1.1's own triggers,
-- (table, name, function), are listed: 1.1 is frozen.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        WITH own (tbl, name, fn) AS (VALUES
            ('ai_configurations', 'ai_configurations_audit', 'train_data.ai_configurations_audit'),
            ('ai_configurations', 'ai_configurations_touch', 'train_data.touch_timestamps'),
            ('ai_configurations', 'ai_configurations_validate', 'train_data.validate_settings_row'),
            ('batch_items', 'batch_items_touch', 'train_data.touch_timestamps'),
            ('batch_jobs', 'batch_jobs_touch', 'train_data.touch_timestamps'),
            ('conversations', 'conversations_check_transition', 'train_data.conversations_check_transition'),
            ('conversations', 'conversations_default_id', 'train_data.conversations_default_id'),
            ('conversations', 'conversations_touch', 'train_data.touch_timestamps'),
            ('edge_cases', 'edge_cases_before_write', 'train_data.edge_cases_before_write'),
            ('edge_cases', 'edge_cases_touch', 'train_data.touch_timestamps'),
            ('export_logs', 'export_logs_touch', 'train_data.touch_timestamps'),
            ('model_prices', 'model_prices_protect_builtin', 'train_data.model_prices_protect_builtin'),
            ('model_prices', 'model_prices_touch', 'train_data.touch_timestamps'),
            ('scenarios', 'scenarios_before_write', 'train_data.scenarios_before_write'),
            ('scenarios', 'scenarios_touch', 'train_data.touch_timestamps'),
            ('templates', 'templates_touch', 'train_data.touch_timestamps'),
            ('user_preferences', 'user_preferences_audit', 'train_data.user_preferences_audit'),
            ('user_preferences', 'user_preferences_touch', 'train_data.touch_timestamps'),
            ('user_preferences', 'user_preferences_validate', 'train_data.validate_settings_row')),
        members AS (
            SELECT d.objid AS rel FROM pg_catalog.pg_depend d
            JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
              AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
              AND d.deptype OPERATOR(pg_catalog.=) 'e' AND e.extname OPERATOR(pg_catalog.=) 'train_data')
        SELECT 'trigger' AS what, g.tgname::text AS name, g.tgrelid AS rel,
               pg_catalog.format('It runs %s (owned by %s) as whoever fires it, train_data''s worker functions too, which run as the extension''s owner.',
                                 pg_catalog.quote_ident(pn.nspname) OPERATOR(pg_catalog.||) '.'
                                 OPERATOR(pg_catalog.||) pg_catalog.quote_ident(p.proname) OPERATOR(pg_catalog.||) '()',
                                 p.proowner::pg_catalog.regrole) AS detail
        FROM pg_catalog.pg_trigger g
        JOIN members m ON m.rel OPERATOR(pg_catalog.=) g.tgrelid
        JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) g.tgrelid
        JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) g.tgfoid
        JOIN pg_catalog.pg_namespace pn ON pn.oid OPERATOR(pg_catalog.=) p.pronamespace
        WHERE NOT g.tgisinternal
          AND (c.relname::text, g.tgname::text,
               pn.nspname::text OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) p.proname::text)
              NOT IN (SELECT o.tbl, o.name, o.fn FROM own o)
        UNION ALL
        SELECT 'foreign key', k.conname::text, k.confrelid,
               pg_catalog.format('Table %s refers to it; its checks read every user''s rows, and its cascades run that table''s triggers in the session that deletes.',
                                 k.conrelid::pg_catalog.regclass)
        FROM pg_catalog.pg_constraint k
        JOIN members m ON m.rel OPERATOR(pg_catalog.=) k.confrelid
        WHERE k.contype OPERATOR(pg_catalog.=) 'f'
          AND k.conrelid OPERATOR(pg_catalog.<>) ALL (SELECT m2.rel FROM members m2)
        ORDER BY 1, 3, 2
    LOOP
        RAISE WARNING '% % on table train_data.% is not train_data''s', t.what, pg_catalog.quote_ident(t.name),
                      pg_catalog.quote_ident((SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) t.rel))
            USING DETAIL = t.detail,
                  HINT = 'Drop it unless the site made it on purpose; from 1.2 only a table''s owner may make one.';
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION train_data.current_user_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'train_data_current_user_id';

-- The current user id for a function that acts for a user, else 28000 with
-- the same message, detail form and hint wherever it is raised (what the
-- caller was doing, as purpose: a full sentence).  Runs as its caller.
CREATE FUNCTION train_data.require_user_id(purpose text) RETURNS uuid
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'train_data_require_user_id';

COMMENT ON FUNCTION train_data.require_user_id(text) IS
    'Internal: the current user id, or 28000 "no user id is set" with purpose as its detail, for functions that act for a user';

-- A JSON value as error messages quote it: a string with its quotes
-- around what clip_for_message keeps of its content (clipping the JSON
-- text instead cut the closing quote off), anything else as its JSON text
-- clipped, NULL (absent) as NULL.
CREATE FUNCTION train_data.json_for_message(v jsonb)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN v IS NULL THEN 'NULL'
                WHEN pg_catalog.jsonb_typeof(v) OPERATOR(pg_catalog.=) 'string'
                THEN '"' OPERATOR(pg_catalog.||)
                     train_data.clip_for_message(pg_catalog.substr(v::text, 2,
                                                                   pg_catalog.length(v::text) OPERATOR(pg_catalog.-) 2))
                     OPERATOR(pg_catalog.||) '"'
                ELSE train_data.clip_for_message(v::text) END;

COMMENT ON FUNCTION train_data.json_for_message(jsonb) IS
    'Internal: a JSON value as error messages quote it: a string''s content clipped as clip_for_message clips and quoted, any other value''s JSON text clipped, NULL as NULL';

-- Is v a UUID as uuid_in reads it (32 hex digits, a hyphen allowed after
-- any group of four but the last, braces around the whole)?  For a check
-- that names what is wrong instead of the cast's error, which quotes the
-- value whole.
CREATE FUNCTION train_data.is_uuid_text(v text)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN v ~* '^([{]([0-9a-f]{4}-?){7}[0-9a-f]{4}[}]|([0-9a-f]{4}-?){7}[0-9a-f]{4})$';

COMMENT ON FUNCTION train_data.is_uuid_text(text) IS
    'Internal: whether a text is a UUID as the uuid type reads it (NULL for NULL)';

-- The problems of a render_template result that did not succeed, as an
-- error quotes them: the first five messages, then how many more (a
-- template is another user's, and a render may report up to 20 problems of
-- each kind).  NULL when it reports none.  as_sentence gives the form of a
-- DETAIL.
CREATE FUNCTION train_data.render_problems(rendered jsonb, as_sentence boolean DEFAULT false)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT CASE WHEN as_sentence
                        THEN pg_catalog.upper(pg_catalog.left(p.list, 1)) OPERATOR(pg_catalog.||)
                             pg_catalog.substr(p.list, 2) OPERATOR(pg_catalog.||) '.'
                        ELSE p.list END
            FROM (SELECT pg_catalog.string_agg(e.value OPERATOR(pg_catalog.->>) 'message', '; ' ORDER BY e.n)
                           FILTER (WHERE e.n OPERATOR(pg_catalog.<=) 5)
                         OPERATOR(pg_catalog.||)
                         CASE WHEN pg_catalog.count(*) OPERATOR(pg_catalog.>) 5
                              THEN pg_catalog.format('; and %s more', pg_catalog.count(*) OPERATOR(pg_catalog.-) 5)
                              ELSE '' END AS list
                  FROM pg_catalog.jsonb_array_elements(rendered OPERATOR(pg_catalog.->) 'errors') WITH ORDINALITY AS e(value, n)) p);

COMMENT ON FUNCTION train_data.render_problems(jsonb, boolean) IS
    'Internal: the first five problems of a failed render_template result and how many more, as errors quote them (as_sentence: capitalised, with a final period); NULL when none';

-- The item id of an entry of complete_batch_items, NULL when it has none
-- that is a UUID (complete_batch_entry says what is wrong).
CREATE FUNCTION train_data.completion_item(entry jsonb)
    RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN jsonb_typeof(entry -> 'item_id') = 'string' AND train_data.is_uuid_text(entry ->> 'item_id')
                THEN (entry ->> 'item_id')::uuid END;

COMMENT ON FUNCTION train_data.completion_item(jsonb) IS
    'Internal: the item id of an entry of complete_batch_items, NULL when it has none that is a UUID';

CREATE OR REPLACE FUNCTION train_data.touch_timestamps() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_touch_timestamps';

CREATE OR REPLACE FUNCTION train_data.render_template(template text, parameters jsonb,
                                           variables jsonb DEFAULT '[]',
                                           html_escape boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_render_template';

CREATE OR REPLACE FUNCTION train_data.check_template(structure text, variables jsonb DEFAULT '[]')
    RETURNS boolean
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_check_template';

CREATE OR REPLACE FUNCTION train_data.parse_generation_response(response jsonb, parameters jsonb DEFAULT '{}')
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_parse_generation_response';

CREATE OR REPLACE FUNCTION train_data.quality_metrics(turns jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_metrics';

CREATE OR REPLACE FUNCTION train_data.quality_score(turns jsonb)
    RETURNS numeric
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_score';

CREATE OR REPLACE FUNCTION train_data.uuid_v7() RETURNS uuid
    LANGUAGE c VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'train_data_uuid_v7';

CREATE OR REPLACE FUNCTION train_data.jsonb_merge_deep(base jsonb, patch jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_jsonb_merge_deep';

CREATE OR REPLACE FUNCTION train_data.job_active_seconds(started_at timestamptz, paused_time interval,
                                              paused_at timestamptz, completed_at timestamptz,
                                              at timestamptz)
    RETURNS double precision
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_job_active_seconds';

CREATE OR REPLACE FUNCTION train_data.eta_observe(interval_ewma double precision, last_active double precision,
                                       active_now double precision)
    RETURNS double precision
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_eta_observe';

CREATE OR REPLACE FUNCTION train_data.calculate_batch_progress(job_id uuid)
    RETURNS numeric
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'train_data_calculate_batch_progress';

CREATE OR REPLACE FUNCTION train_data.estimate_time_remaining(job_id uuid)
    RETURNS interval
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'train_data_estimate_time_remaining';

CREATE OR REPLACE FUNCTION train_data.batch_progress(job_id uuid)
    RETURNS TABLE (batch_job_id uuid, status train_data.batch_job_status, total_items integer,
                   queued_items integer, processing_items integer, completed_items integer,
                   failed_items integer, cancelled_items integer, percent numeric,
                   estimated_time_remaining interval, items_per_minute numeric,
                   started_at timestamptz, completed_at timestamptz)
    LANGUAGE c STABLE PARALLEL RESTRICTED ROWS 1
    AS 'MODULE_PATHNAME', 'train_data_batch_progress';

CREATE OR REPLACE FUNCTION train_data.export_jsonl(shape text DEFAULT 'original', scope text DEFAULT 'all',
                                        ids uuid[] DEFAULT NULL, filters jsonb DEFAULT NULL,
                                        options jsonb DEFAULT '{}')
    RETURNS SETOF text
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'train_data_export_jsonl';

CREATE OR REPLACE FUNCTION train_data.validate_training_line(line text)
    RETURNS text[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_validate_training_line';

CREATE OR REPLACE FUNCTION train_data.export_conversations(format text, scope text DEFAULT 'all', config jsonb DEFAULT '{}',
                                                ids uuid[] DEFAULT NULL, filters jsonb DEFAULT NULL)
    RETURNS SETOF text
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'train_data_export_conversations';


--------------------------------------------------------------------------------
-- quality_status: each branch an enum constant (not a text cast to the
-- enum, whose input function is only stable), so that the planner inlines
-- the body instead of running it as a SQL function on every call.
CREATE OR REPLACE FUNCTION train_data.quality_status(score numeric, threshold numeric DEFAULT 6.0)
    RETURNS train_data.conversation_status
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN score >= coalesce(threshold, 6.0) THEN 'generated'::train_data.conversation_status
                WHEN score >= coalesce(threshold, 6.0) - 2 THEN 'pending_review'::train_data.conversation_status
                ELSE 'needs_revision'::train_data.conversation_status END;

-- conversations_check_transition: a new row is checked only when its
-- status is one the function refuses for a new row (most inserts skip the
-- call); every change of status is checked, as before.
DROP TRIGGER conversations_check_transition ON train_data.conversations;
CREATE TRIGGER conversations_check_new_status
    BEFORE INSERT ON train_data.conversations
    FOR EACH ROW WHEN (NEW.status IN ('approved', 'rejected', 'archived'))
    EXECUTE FUNCTION train_data.conversations_check_transition();
CREATE TRIGGER conversations_check_transition
    BEFORE UPDATE OF status ON train_data.conversations
    FOR EACH ROW EXECUTE FUNCTION train_data.conversations_check_transition();

-- make_conversation_id and the trigger function that calls it are native:
-- the same ids, without a regular expression per conversation.
CREATE OR REPLACE FUNCTION train_data.make_conversation_id(tier train_data.tier_type, persona text)
    RETURNS text
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'train_data_make_conversation_id';
CREATE OR REPLACE FUNCTION train_data.conversations_default_id() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_conversations_default_id';

-- Tenant safety (see CHANGELOG.md, 1.2)
--
-- Schema: every child row carries its owner (conversation_turns, batch_items,
-- batch_job_counters gain created_by, filled from their parent), children
-- reference their parent by (id, created_by), policies compare the row's own
-- owner column.  Conversations are seen by their owner only (approved_by
-- grants nothing any more).  Rows of 1.1 that tie one user's row to another
-- user's (a log or batch item naming a conversation of someone else) lose
-- that link (set to NULL), since 1.2 cannot represent it.
--------------------------------------------------------------------------------

-- Functions the new tables, triggers and policies use.
-- The bytes a jsonb value holds once decompressed (the items' guard and
-- the claim bound what a render reads).
CREATE FUNCTION train_data.jsonb_raw_size(value jsonb)
    RETURNS bigint
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_jsonb_raw_size';
COMMENT ON FUNCTION train_data.jsonb_raw_size(jsonb) IS
    'Bytes of a jsonb value once decompressed, read from its header (pg_column_size gives the bytes stored): what reading it costs';

CREATE FUNCTION train_data.engine_context()
    RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_engine_context';

CREATE FUNCTION train_data.inherit_owner() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('SELECT p.created_by FROM train_data.%I p WHERE p.id OPERATOR(pg_catalog.=) $1.%I',
                   TG_ARGV[0], TG_ARGV[1])
        INTO NEW.created_by USING NEW;
    RETURN NEW;
END
$$;

CREATE FUNCTION train_data.job_claim_rank(status train_data.batch_job_status, priority text)
    RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN status IN ('queued', 'processing')
                THEN CASE priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2 END END::smallint;


-- New steps and triggers of the engine.

-- The owner a new row of tbl gets when none is given: the current user id;
-- when no user id is set, 28000 "no user id is set" (naming the setting)
-- instead of a not-null or row-level-security error that does not say what
-- is wrong -- unless the column may be NULL (templates of nobody, for
-- example, or a child row given its parent's owner by a trigger) and the
-- caller is not subject to row-level security on tbl (native).
CREATE FUNCTION train_data.user_id_default(tbl regclass, required boolean)
    RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'train_data_user_id_default';

-- A job's channel token (job_channel), before the function that reads it;
-- ahead of the later columns, as in a new installation.
ALTER TABLE train_data.batch_jobs ADD COLUMN channel_token uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid();

-- The channel a job's events are sent on: train_data_job_ and the 32 hex
-- digits of the job's channel token, a random value read with the job's
-- row under the caller's policies: its owner (or her application) can
-- listen, and the caller of a job she cannot see gets NULL.  (Named after
-- the job id, as it was first in 1.2, a channel was any role's: another
-- user's job ids can be read from query estimates, and LISTEN needs no
-- privilege; an adversarial review of 1.2.)
CREATE FUNCTION train_data.job_channel(job_id uuid)
    RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT 'train_data_job_' OPERATOR(pg_catalog.||) pg_catalog.replace(j.channel_token::text, '-', '')
    FROM train_data.batch_jobs j WHERE j.id OPERATOR(pg_catalog.=) job_channel.job_id;
END;

-- The request a claimed item is sent with: the rendered prompt as one user
-- message, with the job owner's configuration.  This body is both an
-- Anthropic Messages request and an OpenAI Chat Completions request (the
-- two formats agree on these members), so it is the same for either
-- provider; the claim returns the provider and base URL beside it.
-- STABLE, as jsonb_build_object is: the claim's statement then inlines
-- the body (an IMMUTABLE declaration over a STABLE body is never inlined,
-- and each claim paid the start of a SQL function for it).
CREATE FUNCTION train_data.claim_request(config jsonb, prompt text)
    RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN pg_catalog.jsonb_build_object('model', config OPERATOR(pg_catalog.->) 'model',
                                         'max_tokens', config OPERATOR(pg_catalog.->) 'maxTokens',
                                         'temperature', config OPERATOR(pg_catalog.->) 'temperature',
                                         'messages', pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                                             'role', 'user', 'content', prompt)));

-- The prompt of an item that has none stored (queued before 1.2, or
-- inserted by hand), rendered with its template now; NULL and the reason
-- when it cannot be rendered.  Errors are caught here, so one bad item
-- fails alone instead of failing the claim of every worker.
CREATE FUNCTION train_data.claim_render(template_id uuid, parameters jsonb, OUT prompt text, OUT problem text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rendered jsonb;
BEGIN
    -- (the items a claim renders are those of 1.1 and those restored
    -- without a prompt: parameters past a user's 4 MB are not read, and
    -- those of 1.1 are checked here, queued before they meant anything)
    IF train_data.jsonb_raw_size(claim_render.parameters) > 4194304 THEN
        problem := format('its parameters are %s bytes; the limit is 4 MB',
                          train_data.jsonb_raw_size(claim_render.parameters));
        RETURN;
    END IF;
    BEGIN
        PERFORM train_data.check_item_parameters(claim_render.parameters, 'its parameters');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT;
        RETURN;
    END;
    SELECT train_data.render_template(t.structure, claim_render.parameters, t.variables) INTO rendered
    FROM train_data.templates t WHERE t.id = claim_render.template_id;
    IF rendered IS NULL THEN
        problem := 'its template no longer exists';
    ELSIF (rendered ->> 'success')::boolean THEN
        prompt := rendered ->> 'resolved';
    ELSE
        problem := train_data.render_problems(rendered);
    END IF;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT;
    problem := 'its prompt cannot be rendered: ' || problem;
END
$$;

-- After a claim failed an item for good (its prompt cannot be rendered, or
-- its lease ran out with no attempt left): under error_handling 'stop' the
-- job is to fail and its queued items to be cancelled, as fail_batch_item
-- does for a worker's final failure (before the thirty-third session these
-- two failures never stopped a job).  The claim leaves that to a look at
-- owed checks (a stop row in job_close_checks; an insert waits for no
-- one): cancelling a job's queued items may wait for its owner's locks and
-- costs as many rows as she queued, neither of which a claim may.  Under
-- 'continue' the job may be done.
CREATE FUNCTION train_data.claim_final_failure(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (SELECT j.error_handling FROM train_data.batch_jobs j WHERE j.id = claim_final_failure.job_id) = 'stop' THEN
        PERFORM train_data.owe_close_check(claim_final_failure.job_id, true);
    ELSE
        PERFORM train_data.finish_job_if_done(claim_final_failure.job_id);
    END IF;
END
$$;
COMMENT ON FUNCTION train_data.claim_final_failure(uuid) IS
    'Internal: after a claim failed an item for good, a stop check for its job under error_handling stop (a look fails the job), else finish_job_if_done';

-- Cancel the queued items of a job failed (or failing) under error_handling
-- 'stop', at most max_items of them (NULL: all), in position order, and
-- count them; returns whether the job still has items queued or in flight.
-- An item another transaction holds (its owner's lock, a claim taking it)
-- is skipped, never waited for: a review of 1.2 saw one item its owner
-- held make every look redo and roll back 10,000 updates, and a claim that
-- took one of the items picked leave the rest queued for good under a
-- failed job.  An item in flight may come back queued (a retry, a release
-- that read the job as open): the caller leaves a stop check while any is
-- left.  The items are picked once (an initplan): as the inner side of a
-- nested loop the locking subquery ran again per row, skipping the rows it
-- had just updated, so the limit held nothing back (a review: one look
-- cancelled 6,000 items in 5.7 s).
CREATE FUNCTION train_data.cancel_queued_items(job_id uuid, max_items integer)
    RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
BEGIN
    UPDATE train_data.batch_items i SET status = 'cancelled', finished_at = now()
    WHERE i.id = ANY (ARRAY(SELECT q.id FROM train_data.batch_items q
                            WHERE q.batch_job_id = cancel_queued_items.job_id AND q.status = 'queued'
                            ORDER BY q.position LIMIT cancel_queued_items.max_items
                            FOR NO KEY UPDATE SKIP LOCKED))
      AND i.status = 'queued';
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        PERFORM train_data.bump_counters(cancel_queued_items.job_id, 0, 0, n, 0);
    END IF;
    RETURN train_data.job_has_work(cancel_queued_items.job_id);
END
$$;
COMMENT ON FUNCTION train_data.cancel_queued_items(uuid, integer) IS
    'Internal: cancels (and counts) up to max_items queued items of a batch job stopped by a final failure (NULL: all), skipping those another transaction holds; returns whether the job still has items queued or in flight';

-- Can a job be ended without waiting: its row and its row in the claim
-- order (which ending it deletes: batch_jobs_reorder) are free, and now
-- locked by the caller.  An owner's uncommitted item insert holds the
-- claim-order row (a review of 1.2: a worker's final failure under 'stop'
-- waited 5 s for it and failed with 55P03, and every look rolled back its
-- cancellations on it).
CREATE FUNCTION train_data.job_rows_free(job_id uuid)
    RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM FROM train_data.batch_jobs j WHERE j.id = job_rows_free.job_id FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM FROM train_data_internal.claimable_jobs c WHERE c.batch_job_id = job_rows_free.job_id FOR UPDATE SKIP LOCKED;
    RETURN FOUND OR NOT EXISTS (SELECT FROM train_data_internal.claimable_jobs c WHERE c.batch_job_id = job_rows_free.job_id);
END
$$;
COMMENT ON FUNCTION train_data.job_rows_free(uuid) IS
    'Internal: locks a batch job''s row and its claim-order row if no other transaction holds them (SKIP LOCKED); whether it could';

-- Leave a closing check for a job (job_close_checks) that a claim's look
-- takes once the job's row is free: a stop check (the job fails, its queued
-- items are cancelled) unless one is there, a plain one (closed, rolled up
-- or put back in the claim order: check_owed_job) unless any is, since a
-- stop check's look does all a plain one would.  An insert, which waits
-- for no one; one row a job is enough, so callers in a loop add nothing.
CREATE FUNCTION train_data.owe_close_check(job_id uuid, stop boolean)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM train_data_internal.job_close_checks c
                   WHERE c.batch_job_id = owe_close_check.job_id AND (c.stop OR NOT owe_close_check.stop)) THEN
        INSERT INTO train_data_internal.job_close_checks (batch_job_id, stop) VALUES (owe_close_check.job_id, owe_close_check.stop);
    END IF;
END
$$;
COMMENT ON FUNCTION train_data.owe_close_check(uuid, boolean) IS
    'Internal: leaves a closing check for a batch job in job_close_checks (a stop check when stop) unless one that does as much is there';

-- Fail one item that cannot be sent (no prompt); counts and finishes its job.
CREATE FUNCTION train_data.claim_fail_item(item train_data.batch_items, problem text, was_in_flight boolean)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE train_data.batch_items i
    SET status = 'failed', finished_at = now(), lease_expires_at = NULL, error_code = 'invalid_prompt',
        error_message = left(coalesce(problem, 'its prompt cannot be rendered'), 1000),
        lost_attempts = CASE WHEN was_in_flight THEN train_data.lost_attempt(i) ELSE i.lost_attempts END
    WHERE i.id = (item).id;
    PERFORM train_data.bump_counters((item).batch_job_id, 0, 1, 0, CASE WHEN was_in_flight THEN -1 ELSE 0 END, true);
    PERFORM train_data.notify_progress((item).batch_job_id, (item).id, 'item_failed');
    PERFORM train_data.claim_final_failure((item).batch_job_id);
END
$$;

-- A lease that ran out on an item with no attempt left (the worker was lost
-- each time): the item fails for good.  Called by the claim.
CREATE FUNCTION train_data.claim_lease_lost(item_id uuid, job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE train_data.batch_items i
    SET status = 'failed', finished_at = now(), lease_expires_at = NULL,
        error_message = format('lease expired %s times; the worker was lost each time', i.attempts),
        error_code = 'lease_expired', lost_attempts = train_data.lost_attempt(i)
    WHERE i.id = claim_lease_lost.item_id;
    PERFORM train_data.bump_counters(claim_lease_lost.job_id, 0, 1, 0, -1, true);
    PERFORM train_data.notify_progress(claim_lease_lost.job_id, claim_lease_lost.item_id, 'item_failed');
    PERFORM train_data.claim_final_failure(claim_lease_lost.job_id);
END
$$;

-- Which batch job columns a user may write (the engine writes them all):
-- a new job starts queued with nothing counted; a job's status changes only
-- as pause_batch, resume_batch and cancel_batch change it, and its counters
-- only once it has ended (cancel_batch rolls them up).  What the claim and
-- the progress functions rely on therefore cannot be forged.
CREATE FUNCTION train_data.batch_jobs_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad text;
BEGIN
    -- a restore: row security off for a role that bypasses it (a user who turns
    -- it off within her statement, after the policies applied, still is checked)
    IF current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        bad := CASE WHEN NEW.status <> 'queued' THEN 'status'
                    WHEN NEW.completed_items <> 0 OR NEW.failed_items <> 0 OR NEW.cancelled_items <> 0 THEN 'the item counters'
                    WHEN NEW.started_at IS NOT NULL OR NEW.completed_at IS NOT NULL THEN 'started_at and completed_at'
                    WHEN NEW.paused_at IS NOT NULL OR NEW.paused_time <> interval '0' THEN 'the pause bookkeeping'
                    -- the claim takes jobs by age: a job is as old as its insert
                    WHEN NEW.created_at <> now() THEN 'created_at (a new job is created now)' END;
    ELSE
        -- (the claim's tables know a job by its id: job_claim_slots,
        -- claimable_jobs, job_claim_locks)
        bad := CASE WHEN NEW.id IS DISTINCT FROM OLD.id THEN 'id'
                    WHEN NEW.created_by IS DISTINCT FROM OLD.created_by THEN 'created_by'
                    -- (a listener keeps the channel it was given)
                    WHEN NEW.channel_token IS DISTINCT FROM OLD.channel_token THEN 'channel_token'
                    WHEN NEW.created_at IS DISTINCT FROM OLD.created_at THEN 'created_at'
                    WHEN NEW.started_at IS DISTINCT FROM OLD.started_at THEN 'started_at'
                    WHEN NEW.status IS DISTINCT FROM OLD.status
                         AND NOT ((OLD.status = 'processing' AND NEW.status = 'paused')
                                  OR (OLD.status = 'paused' AND NEW.status = 'processing')
                                  OR (OLD.status IN ('queued', 'processing', 'paused') AND NEW.status = 'cancelled'))
                        THEN 'status'
                    WHEN (NEW.completed_items, NEW.failed_items, NEW.cancelled_items)
                         IS DISTINCT FROM (OLD.completed_items, OLD.failed_items, OLD.cancelled_items)
                         AND OLD.status NOT IN ('completed', 'failed', 'cancelled')
                        THEN 'the item counters'
                    WHEN NEW.completed_at IS DISTINCT FROM OLD.completed_at AND NEW.status <> 'cancelled'
                        THEN 'completed_at'
                    WHEN (NEW.paused_at, NEW.paused_time) IS DISTINCT FROM (OLD.paused_at, OLD.paused_time)
                         AND NEW.status IS NOT DISTINCT FROM OLD.status
                        THEN 'the pause bookkeeping' END;
    END IF;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'batch job %: % is kept by train_data', coalesce(NEW.id, OLD.id), bad
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Create batches with create_batch() and control them with pause_batch(), resume_batch() and cancel_batch().';
    END IF;
    -- a new job's channel is named after a token of train_data's making,
    -- whatever its writer gave (a chosen one would be guessable, and could
    -- be another job's: a review of 1.2)
    IF TG_OP = 'INSERT' THEN
        NEW.channel_token := pg_catalog.gen_random_uuid();
    END IF;
    RETURN NEW;
END
$$;

-- The values of an item's parameters that a completion acts on: a dedupe
-- similarity a real holds, an expectation quality_metrics() accepts,
-- categories of at most a template category's 100 characters (the category
-- index refuses those past about 2,700 bytes).  An error names the item as
-- label does.  The guard below checks them where the owner writes them; a
-- claim checks those of an item it renders (an item of 1.1, queued before
-- these parameters meant anything) and a completion those of an item
-- claimed before the update: an item refused at completion was claimed, and
-- sent to the model, again and again.
CREATE FUNCTION train_data.check_item_parameters(parameters jsonb, label text)
    RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    dedupe numeric;
BEGIN
    label := left(label, 300);   -- (a caller's label is short, a batch's name at most 200; one given directly is bounded)
    -- (a string or a boolean was ignored: the batch's near copies kept
    -- without a word; null is absent, as in an export's options)
    IF jsonb_typeof(parameters -> 'dedupe') NOT IN ('number', 'null') THEN
        RAISE EXCEPTION '%: parameter "dedupe" must be a similarity above 0 and at most 1, not %',
                        label, train_data.json_for_message(parameters -> 'dedupe')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give a JSON number, 0.8 for example, or leave the parameter out.';
    END IF;
    IF jsonb_typeof(parameters -> 'dedupe') = 'number' THEN
        dedupe := (parameters ->> 'dedupe')::numeric;
        IF NOT (dedupe > 0 AND dedupe <= 1) THEN
            RAISE EXCEPTION '%: parameter "dedupe" must be a similarity above 0 and at most 1, not %',
                            label, train_data.clip_for_message(parameters ->> 'dedupe')
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF dedupe < 1.2e-38 THEN   -- compared as a real
            RAISE EXCEPTION '%: parameter "dedupe" is too small for a similarity: %',
                            label, train_data.clip_for_message(parameters ->> 'dedupe')
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A similarity is compared as a real, whose smallest normal value is about 1.2e-38.';
        END IF;
    END IF;
    IF parameters ? 'expectedTurns' THEN
        BEGIN
            PERFORM train_data.quality_metrics('[]', parameters -> 'expectedTurns');
        EXCEPTION WHEN invalid_parameter_value THEN
            RAISE EXCEPTION '%: parameter "expectedTurns" is not valid: %', label, SQLERRM
                USING ERRCODE = 'invalid_parameter_value';
        END;
    END IF;
    IF parameters ? 'category' THEN   -- (tested first: no query for items without categories)
        IF EXISTS (SELECT 1
                   FROM jsonb_array_elements_text(CASE jsonb_typeof(parameters -> 'category')
                                                      WHEN 'array' THEN parameters -> 'category'
                                                      WHEN 'string' THEN jsonb_build_array(parameters -> 'category')
                                                  END) AS c(v)
                   WHERE char_length(c.v) > 100) THEN
            RAISE EXCEPTION '%: a category in its parameters is longer than 100 characters', label
                USING ERRCODE = 'string_data_right_truncation',
                      DETAIL = 'A completion stores them as the conversation''s categories; a template''s category is at most 100 characters too.';
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION train_data.check_item_parameters(jsonb, text) IS
    'Refuses the values of batch item parameters a completion acts on (dedupe, expectedTurns, category), naming the item as label; reads nothing (the guard calls it as the writer)';

-- Which batch item columns a user may write: a new item starts queued and
-- unclaimed and available now; afterwards only its parameters, topic, prompt
-- and attempt limit change, a retry may be brought forward (available_at
-- earlier), and its status changes only to cancelled (cancel_batch).  Claims, leases,
-- attempts and results are the engine's.
CREATE FUNCTION train_data.batch_items_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad text;
BEGIN
    -- a restore: row security off for a role that bypasses it (a user who turns
    -- it off within her statement, after the policies applied, still is checked)
    IF current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        bad := CASE WHEN NEW.status <> 'queued' THEN 'status'
                    WHEN NEW.attempts <> 0 THEN 'attempts'
                    WHEN NEW.released <> 0 THEN 'released'
                    WHEN NEW.lost_attempts IS NOT NULL THEN 'lost_attempts'
                    WHEN NEW.lease_expires_at IS NOT NULL OR NEW.worker IS NOT NULL OR NEW.request IS NOT NULL
                         OR NEW.started_at IS NOT NULL OR NEW.finished_at IS NOT NULL
                        THEN 'the claim (worker, lease, request, times)'
                    WHEN NEW.conversation_id IS NOT NULL THEN 'conversation_id'
                    WHEN NEW.available_at > now() THEN 'available_at (a new item is available now)' END;
    ELSE
        -- an item in flight holds a slot of its job by its id
        -- (batch_items_free_slot): it keeps both until it ends
        bad := CASE WHEN OLD.status = 'processing'
                         AND (NEW.id, NEW.batch_job_id) IS DISTINCT FROM (OLD.id, OLD.batch_job_id)
                        THEN 'the claim (id and batch_job_id of an item in flight)'
                    -- an item claimed once keeps its id: its workers' calls name it by
                    -- it, and a new item given it would be taken for it by a late one
                    -- (as a deleted item's id: deleted_item_tokens)
                    WHEN NEW.id IS DISTINCT FROM OLD.id AND OLD.attempts + OLD.released > 0
                        THEN 'id (an item claimed once keeps its id)'
                    -- its counters and its place in the claim order are its job's: an
                    -- item moved into a job out of that order waited for good
                    WHEN NEW.batch_job_id IS DISTINCT FROM OLD.batch_job_id
                        THEN 'batch_job_id (an item stays in the job it was queued in)'
                    WHEN NEW.status IS DISTINCT FROM OLD.status
                         AND NOT (OLD.status IN ('queued', 'processing') AND NEW.status = 'cancelled')
                        THEN 'status'
                    WHEN NEW.attempts IS DISTINCT FROM OLD.attempts THEN 'attempts'
                    WHEN NEW.released IS DISTINCT FROM OLD.released THEN 'released'
                    -- an item in flight keeps what its worker was sent and its
                    -- completion stores the answer with (changed in flight, the
                    -- conversation named one persona and its log's request another,
                    -- and the verdict was judged by another threshold: a review of
                    -- 1.2); cancelling it is still hers
                    WHEN OLD.status = 'processing' AND NEW.status = 'processing'
                         AND (NEW.parameters, NEW.prompt, NEW.template_id, NEW.tier, NEW.topic,
                              NEW.parent_conversation_id, NEW.quality_threshold)
                             IS DISTINCT FROM (OLD.parameters, OLD.prompt, OLD.template_id, OLD.tier, OLD.topic,
                                               OLD.parent_conversation_id, OLD.quality_threshold)
                        THEN 'what an item in flight was sent with (parameters, prompt, template_id, tier, topic, parent_conversation_id, quality_threshold)'
                    -- (but the mark of the attempt a cancel ends in flight, as cancel_batch writes it)
                    WHEN NEW.lost_attempts IS DISTINCT FROM OLD.lost_attempts
                         AND NOT (OLD.status = 'processing' AND NEW.status = 'cancelled'
                                  AND NEW.lost_attempts IS NOT DISTINCT FROM train_data.lost_attempt(OLD))
                        THEN 'lost_attempts'
                    WHEN (NEW.worker, NEW.request, NEW.started_at) IS DISTINCT FROM (OLD.worker, OLD.request, OLD.started_at)
                        THEN 'the claim (worker, request, started_at)'
                    WHEN NEW.lease_expires_at IS DISTINCT FROM OLD.lease_expires_at
                         AND NOT (NEW.status = 'cancelled' AND NEW.lease_expires_at IS NULL)
                        THEN 'lease_expires_at'
                    WHEN NEW.finished_at IS DISTINCT FROM OLD.finished_at AND NEW.status <> 'cancelled'
                        THEN 'finished_at'
                    WHEN NEW.conversation_id IS DISTINCT FROM OLD.conversation_id THEN 'conversation_id'
                    WHEN NEW.available_at IS DISTINCT FROM OLD.available_at
                         AND NOT NEW.available_at <= OLD.available_at
                        THEN 'available_at (an owner may only bring a retry forward)' END;
    END IF;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION '%: % is kept by train_data', CASE WHEN TG_OP = 'INSERT' THEN format('item %s of batch job %s', NEW.position, NEW.batch_job_id)
                                                    ELSE 'batch item ' || OLD.id END, bad
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Workers claim and finish items through claim_batch_items() and the other worker functions; users cancel them with cancel_batch().';
    END IF;
    -- a prompt written by hand is held to a rendered prompt's limit: the
    -- claim builds every request from it
    IF octet_length(NEW.prompt) > 4194304 AND (TG_OP = 'INSERT' OR NEW.prompt IS DISTINCT FROM OLD.prompt) THEN
        RAISE EXCEPTION '%: prompt is % bytes; the limit is 4 MB', CASE WHEN TG_OP = 'INSERT' THEN format('item %s of batch job %s', NEW.position, NEW.batch_job_id)
                                                    ELSE 'batch item ' || OLD.id END,
                        octet_length(NEW.prompt)
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = 'A rendered prompt is at most 4 MB; a prompt written by hand is held to the same limit.';
    END IF;
    -- an item's parameters are at most 4 MB (their size read from the
    -- header, not by reading them): batch_items_prepare renders them
    IF (TG_OP = 'INSERT' OR NEW.parameters IS DISTINCT FROM OLD.parameters)
       AND train_data.jsonb_raw_size(NEW.parameters) > 4194304 THEN
        RAISE EXCEPTION '%: parameters are % bytes; the limit is 4 MB', CASE WHEN TG_OP = 'INSERT' THEN format('item %s of batch job %s', NEW.position, NEW.batch_job_id)
                                                    ELSE 'batch item ' || OLD.id END,
                        train_data.jsonb_raw_size(NEW.parameters)
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = 'A claim renders an item''s prompt from its parameters; a rendered prompt is at most 4 MB too.';
    END IF;
    -- a regeneration's new version comes after its parent and the versions
    -- before it: at most 1,000 (the conversations' guard's limit), checked
    -- where the owner names the parent, since the completion that inserts
    -- the version does not walk the chain (a review of 1.2 grew a chain past
    -- it by setting an item's parent by hand)
    IF NEW.parent_conversation_id IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.parent_conversation_id IS DISTINCT FROM OLD.parent_conversation_id)
       AND train_data.version_depth(NEW.parent_conversation_id) > 1000 THEN
        RAISE EXCEPTION 'batch item %: conversation % would have more than 1000 versions before its regeneration',
                        coalesce(NEW.id, OLD.id), NEW.parent_conversation_id
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    -- values of the parameters a completion acts on are checked here, where
    -- the owner writes them, not when a worker hands a response back (each
    -- names the item by its position in its job: a refused create_batch
    -- item never gets an id anyone sees)
    IF (TG_OP = 'INSERT' OR NEW.parameters IS DISTINCT FROM OLD.parameters)
       AND NEW.parameters ?| ARRAY['dedupe', 'expectedTurns', 'category'] THEN
        PERFORM train_data.check_item_parameters(NEW.parameters,
                                                 format('item %s of batch job %s', NEW.position, NEW.batch_job_id));
    END IF;
    -- an item its owner cancels ends now and loses its lease, as
    -- cancel_batch's do (a plain UPDATE left an item in flight cancelled
    -- with no finish time and its lease on: a soak of the queue, 1.2)
    IF TG_OP = 'UPDATE' AND NEW.status = 'cancelled' AND OLD.status IN ('queued', 'processing') THEN
        NEW.finished_at := coalesce(NEW.finished_at, now());
        NEW.lease_expires_at := NULL;
        -- its call, in flight, may be recorded by its worker (log_discarded_response)
        IF OLD.status = 'processing' THEN
            NEW.lost_attempts := train_data.lost_attempt(OLD);
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- A changed prompt-making value (parameters) of a queued item renders its
-- prompt again, and so does a queued item written without a prompt (a
-- user's insert, or an owner setting it NULL), as its writer writes it: a
-- claim that rendered a user's item (large parameters, a prompt set NULL)
-- was held up by it, and one a statement timeout cut short left it first
-- in the claim order.  A changed value that cannot render is refused here;
-- an inserted item that cannot render is left to its claim, which fails it
-- alone, with its parameters' 4 MB bound.
CREATE FUNCTION train_data.batch_items_prepare() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rendered jsonb;
BEGIN
    -- a restore (rows as they were dumped): row security off for a role that
    -- bypasses it; a user who turns it off within her statement still is checked
    IF current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.prompt IS NULL OR NEW.prompt IS NOT DISTINCT FROM OLD.prompt THEN
        SELECT train_data.render_template(t.structure, NEW.parameters, t.variables) INTO rendered
        FROM train_data.templates t WHERE t.id = NEW.template_id;
        IF rendered IS NULL AND TG_OP = 'INSERT' THEN
            -- a template that does not exist: refused, as the foreign key
            -- the column no longer has refused it (its claim would fail it)
            RAISE EXCEPTION 'template % does not exist', NEW.template_id
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = 'A batch item written without a prompt is rendered with the template it names.';
        ELSIF NOT coalesce((rendered ->> 'success')::boolean, false) AND TG_OP = 'INSERT' THEN
            RETURN NEW;   -- as before: its claim fails it alone
        ELSIF NOT coalesce((rendered ->> 'success')::boolean, false) THEN
            RAISE EXCEPTION 'parameters of batch item % do not render with its template', NEW.id
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = coalesce(train_data.render_problems(rendered, true), 'The template no longer exists.');
        END IF;
        NEW.prompt := rendered ->> 'resolved';
    END IF;
    RETURN NEW;
END
$$;

-- A job whose claim rank changes (paused, resumed, ended, new priority)
-- leaves the claim order or takes its place there again: one row, whatever
-- the number of its items.  A job with items in flight is put back too, as
-- one of them may be queued again meanwhile; a claim drops the row if not.
CREATE FUNCTION train_data.batch_jobs_reorder() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF train_data.job_claim_rank(NEW.status, NEW.priority) IS NULL THEN
        DELETE FROM train_data_internal.claimable_jobs c WHERE c.batch_job_id = NEW.id;
    ELSIF EXISTS (SELECT 1 FROM train_data.batch_items i WHERE i.batch_job_id = NEW.id AND i.status = 'queued')
          OR EXISTS (SELECT 1 FROM train_data.batch_items i WHERE i.batch_job_id = NEW.id AND i.status = 'processing') THEN
        PERFORM train_data.claimable_job_add(NEW.id);
    END IF;
    RETURN NULL;
END
$$;

-- What a conversation's writer cannot forge: its owner never changes; an
-- approval and every review history entry record the owner (the only user
-- who can act on the row: review_conversation writes them); the history
-- only grows; a version's parent is another conversation of the same owner,
-- never the conversation itself or one of its own versions.  Skipped by
-- restores, which hold rows as they were stored, and for the engine (the
-- worker functions record the owner themselves).
CREATE FUNCTION train_data.conversations_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kept integer := 0;
    stranger text;
    ancestor uuid;
    depth integer := 0;
BEGIN
    -- a restore: row security off for a role that bypasses it (a user who turns
    -- it off within her statement, after the policies applied, still is checked)
    IF current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.created_by IS DISTINCT FROM OLD.created_by THEN
        RAISE EXCEPTION 'conversation % cannot change its owner', OLD.conversation_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.approved_by IS DISTINCT FROM NEW.created_by AND NEW.approved_by IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.approved_by IS DISTINCT FROM OLD.approved_by) THEN
        RAISE EXCEPTION 'conversation % cannot be approved by another user', train_data.clip_for_message(NEW.conversation_id)
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'approved_by records who approved it, which can only be its owner.',
                  HINT = 'Use review_conversation().';
    END IF;
    IF jsonb_typeof(NEW.review_history) IS DISTINCT FROM 'array' THEN
        RETURN NEW;   -- the table's check constraint reports it
    END IF;
    -- an update judges only the entries it appends: those already there may
    -- name another user (1.1 let a reviewer write them, and a restore keeps
    -- them), and a change of anything else must not be refused for them
    IF TG_OP = 'UPDATE' AND jsonb_typeof(OLD.review_history) = 'array' THEN
        kept := jsonb_array_length(OLD.review_history);
        IF NEW.review_history IS DISTINCT FROM OLD.review_history
           AND (jsonb_array_length(NEW.review_history) < kept
                OR (SELECT coalesce(jsonb_agg(e.value ORDER BY e.ord), '[]')
                    FROM jsonb_array_elements(NEW.review_history) WITH ORDINALITY e(value, ord)
                    WHERE e.ord <= kept) IS DISTINCT FROM OLD.review_history) THEN
            RAISE EXCEPTION 'review history of conversation % can only grow', OLD.conversation_id
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Use review_conversation(), which appends an entry.';
        END IF;
    END IF;
    -- a history that grows holds at most 1,000 entries and 1 MB: each
    -- review rewrites and checks the whole of it, so reviews of a history
    -- without a bound grew quadratically (1,000 reviews of one conversation
    -- took 224 s, and each one after 0.8 s: a review of inputs 1,000 times
    -- larger); a longer one of 1.1 or a restore stays as it is
    IF jsonb_array_length(NEW.review_history) > greatest(kept, 1000)
       OR (jsonb_array_length(NEW.review_history) > kept
           AND train_data.jsonb_raw_size(NEW.review_history) > 1048576) THEN
        RAISE EXCEPTION 'review history of conversation % is full', train_data.clip_for_message(NEW.conversation_id)
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('It would hold %s entries in %s bytes; a history holds at most 1000 entries and 1 MB.',
                                  jsonb_array_length(NEW.review_history), train_data.jsonb_raw_size(NEW.review_history)),
                  HINT = 'Regenerate the conversation (its new version starts a history of its own), or copy it into a new one.';
    END IF;
    SELECT e.value ->> 'performedBy' INTO stranger
    FROM jsonb_array_elements(NEW.review_history) WITH ORDINALITY e(value, ord)
    WHERE e.ord > kept AND e.value ? 'performedBy' AND jsonb_typeof(e.value -> 'performedBy') <> 'null'
      AND e.value ->> 'performedBy' IS DISTINCT FROM NEW.created_by::text
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'review history entry of conversation % names another user', train_data.clip_for_message(NEW.conversation_id)
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('performedBy is %s; an entry can only record the conversation''s owner.',
                                  train_data.clip_for_message(stranger)),
                  HINT = 'Use review_conversation().';
    END IF;
    IF NEW.parent_type = 'conversation'
       AND (TG_OP = 'INSERT' OR (NEW.parent_id, NEW.parent_type) IS DISTINCT FROM (OLD.parent_id, OLD.parent_type)) THEN
        ancestor := NEW.parent_id;
        WHILE ancestor IS NOT NULL LOOP
            IF ancestor = NEW.id THEN
                RAISE EXCEPTION 'conversation % cannot be a version of itself', train_data.clip_for_message(NEW.conversation_id)
                    USING ERRCODE = 'check_violation',
                          DETAIL = format('Its parent %s descends from it.', NEW.parent_id);
            END IF;
            depth := depth + 1;
            IF depth > 1000 THEN
                RAISE EXCEPTION 'conversation % would have more than 1000 versions before it', train_data.clip_for_message(NEW.conversation_id)
                    USING ERRCODE = 'program_limit_exceeded';
            END IF;
            -- a change of an existing row's parent reads the ancestors FOR
            -- SHARE: a concurrent change of an ancestor's parent (which holds
            -- its row) is waited for, so two changes cannot each pass the walk
            -- and make a cycle together (a review of 1.2; racing writers now
            -- wait for each other, or one gets 40P01).  A new row needs no
            -- lock: no row can name its id as a parent yet.
            IF TG_OP = 'UPDATE' THEN
                SELECT CASE WHEN c.parent_type = 'conversation' THEN c.parent_id END INTO ancestor
                FROM train_data.conversations c
                WHERE c.id = ancestor AND c.created_by = NEW.created_by
                FOR SHARE;
            ELSE
                SELECT CASE WHEN c.parent_type = 'conversation' THEN c.parent_id END INTO ancestor
                FROM train_data.conversations c
                WHERE c.id = ancestor AND c.created_by = NEW.created_by;
            END IF;
            IF NOT FOUND THEN
                IF depth = 1 THEN
                    RAISE EXCEPTION 'parent conversation % of conversation % does not exist', NEW.parent_id, train_data.clip_for_message(NEW.conversation_id)
                        USING ERRCODE = 'foreign_key_violation';
                END IF;
                ancestor := NULL;
            END IF;
        END LOOP;
    END IF;
    RETURN NEW;
END
$$;

-- A lock wait of complete_batch_items ran out in the entry of item_id:
-- note its owner for the rest of the transaction, so that the owner's
-- later entries give up on a lock another transaction holds at once
-- (lock_item_in_flight probes their item rows with NOWAIT,
-- complete_batch_item waits 1 ms for the rest); NULL forgets the owners
-- noted.  After two owners, a third, or an item not found, notes every
-- user.  Native (src/item_lock_glue.c): the owners are kept where no caller
-- can read them (in a setting, any role learned the owner of any item it
-- named: a review of 1.2); SECURITY DEFINER, to read the owner, which it
-- never shows.
CREATE FUNCTION train_data.note_lock_timeout(item_id uuid)
    RETURNS void
    LANGUAGE c SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS 'MODULE_PATHNAME', 'train_data_note_lock_timeout';

COMMENT ON FUNCTION train_data.note_lock_timeout(uuid) IS
    'Internal: after a lock wait of complete_batch_items ran out in an entry, notes the entry''s owner, whose later entries give up on a held lock at once (after two owners, every later entry''s); NULL forgets them';

-- One entry of complete_batch_items: the conversation complete_batch_item
-- stored for it (NULL for an unusable response); an error when the entry
-- is not a JSON object or is refused.  Runs as its caller, so it can do
-- nothing its caller could not do with complete_batch_item.
CREATE FUNCTION train_data.complete_batch_entry(entry jsonb, ord bigint)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    member text;
    number text;
BEGIN
    IF jsonb_typeof(entry) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'completion % is not a JSON object', ord USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF coalesce(jsonb_typeof(entry -> 'item_id'), 'null') = 'null' THEN
        RAISE EXCEPTION 'completion % has no item_id', ord
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Give the id of a batch item as a string.';
    ELSIF jsonb_typeof(entry -> 'item_id') <> 'string' THEN
        RAISE EXCEPTION 'completion % has an item_id that is not a string: %', ord,
                        train_data.json_for_message(entry -> 'item_id')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give the id of a batch item as a string.';
    END IF;
    IF NOT train_data.is_uuid_text(entry ->> 'item_id') THEN
        RAISE EXCEPTION 'completion % has an item_id that is not a UUID: %', ord,
                        train_data.clip_for_message(entry ->> 'item_id')
            USING ERRCODE = 'invalid_text_representation';
    END IF;
    -- duration_ms and attempt: absent, null, or what the integer type reads
    -- (ASCII white space around, leading zeros) within its range
    FOREACH member IN ARRAY ARRAY['duration_ms', 'attempt'] LOOP
        CONTINUE WHEN coalesce(jsonb_typeof(entry -> member), 'null') = 'null';
        -- (the white space as characters, not escapes: a session's
        -- standard_conforming_strings must not change the pattern)
        number := btrim(entry ->> member, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13));
        IF NOT number ~ '^[+-]?[0-9]+$'
           OR char_length(ltrim(ltrim(number, '+-'), '0')) > 10
           OR NOT number::bigint BETWEEN -2147483648 AND 2147483647 THEN
            RAISE EXCEPTION 'completion % has % %; expected a whole number from -2147483648 to 2147483647', ord, member,
                            train_data.json_for_message(entry -> member)
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    RETURN train_data.complete_batch_item((entry ->> 'item_id')::uuid, entry -> 'response',
                                          (entry ->> 'duration_ms')::integer, (entry ->> 'attempt')::integer);
END
$$;
-- Complete several items in one call, for a worker with many model calls
-- in flight: completions is a JSON array (at most 1000) of {item_id,
-- response, duration_ms, attempt}.  A row per entry says what became of it:
-- completed (with the conversation), failed (the response was unusable and
-- the item was failed or queued again, as complete_batch_item does) or
-- refused (with the error's SQLSTATE and message: cancelled, claimed
-- again, ...), and one refused entry leaves the others stored.  The entries
-- run in one subtransaction, not one each: a subtransaction that writes
-- takes a transaction id of its own, and once a transaction has more than
-- 64 of them every snapshot in the cluster is slower to check (it reads
-- pg_subtrans).  When an entry is refused, that work is undone and the
-- others run again in one subtransaction, without it (so an unusable
-- response's WARNING is given again); after three refusals, each remaining
-- entry runs in a subtransaction of its own (before, every entry did after
-- the first refusal: 1,001 transaction ids for 1,000 entries, a review of
-- 1.2).  A call waits out a lock once per user at most: after a wait ran
-- out (55P03, lock_timeout 5 s), a later entry of that user's whose item
-- row another transaction holds is refused at once, and any other lock it
-- meets is waited for 1 ms (note_lock_timeout), so a user holding her
-- items in flight costs a batch that holds other users' results 5 s, not
-- 5 s per item (an adversarial review, twentieth session), and other
-- users' entries still wait for the locks workers hold as they finish the
-- same job (before, every later entry gave up on any lock at once: a
-- review, thirty-eighth session).  After a third user's wait ran out,
-- every later entry is refused at once: three waits at most.  Runs as its
-- caller, who needs EXECUTE on complete_batch_item.
CREATE FUNCTION train_data.complete_batch_items(completions jsonb)
    RETURNS TABLE (item_id uuid, outcome text, conversation_id uuid, error_code text, error_message text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    e record;
    n integer;
    ids uuid[];
    convs uuid[];
    codes text[];      -- of the refused entries, by position
    messages text[];
    cur bigint;        -- the entry running (variables outlive a rollback)
    code text;
    message text;
    stored boolean := false;   -- a pass stored every entry not refused
BEGIN
    IF jsonb_typeof(completions) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'completions must be a JSON array' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    n := jsonb_array_length(completions);
    IF n > 1000 THEN
        RAISE EXCEPTION 'completions has % entries; the limit is 1000', n
            USING ERRCODE = 'program_limit_exceeded';
    END IF;
    PERFORM train_data.note_lock_timeout(NULL);   -- no user noted by an earlier call
    ids := array_fill(NULL::uuid, ARRAY[n]);
    codes := array_fill(NULL::text, ARRAY[n]);
    messages := array_fill(NULL::text, ARRAY[n]);
    -- the entries not refused so far, in one subtransaction: at most four
    -- tries; in the order of their item ids, as cancel_batch locks a job's
    -- items (in the order given, a cancel and a batch waiting on a third
    -- session's lock crossed: a soak of the queue, 1.2)
    FOR pass IN 1..4 LOOP
        BEGIN
            convs := array_fill(NULL::uuid, ARRAY[n]);
            FOR e IN SELECT x.value, x.ord FROM jsonb_array_elements(completions) WITH ORDINALITY AS x(value, ord)
                     ORDER BY train_data.completion_item(x.value), x.ord LOOP
                CONTINUE WHEN codes[e.ord] IS NOT NULL;
                cur := e.ord;
                ids[e.ord] := train_data.completion_item(e.value);
                convs[e.ord] := train_data.complete_batch_entry(e.value, e.ord);
            END LOOP;
            cur := NULL;
            stored := true;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
            IF code = '55P03' THEN   -- a lock wait ran out: that user's held rows refused at once from here on
                PERFORM train_data.note_lock_timeout(ids[cur]);
            END IF;
            EXIT WHEN cur IS NULL;   -- not an entry's error: each on its own below
            codes[cur] := code;
            messages[cur] := message;
        END;
        EXIT WHEN stored;
    END LOOP;
    -- more refusals: each entry not refused yet in a subtransaction of its own
    IF NOT stored THEN
        convs := array_fill(NULL::uuid, ARRAY[n]);
        FOR e IN SELECT x.value, x.ord FROM jsonb_array_elements(completions) WITH ORDINALITY AS x(value, ord)
                 ORDER BY train_data.completion_item(x.value), x.ord LOOP
            CONTINUE WHEN codes[e.ord] IS NOT NULL;
            BEGIN
                ids[e.ord] := train_data.completion_item(e.value);
                convs[e.ord] := train_data.complete_batch_entry(e.value, e.ord);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
                IF code = '55P03' THEN
                    PERFORM train_data.note_lock_timeout(ids[e.ord]);
                END IF;
                codes[e.ord] := code;
                messages[e.ord] := message;
            END;
        END LOOP;
    END IF;
    RETURN QUERY
    SELECT u.id, CASE WHEN u.code IS NOT NULL THEN 'refused' WHEN u.conv IS NULL THEN 'failed' ELSE 'completed' END,
           u.conv, u.code, u.message
    FROM unnest(ids, convs, codes, messages) WITH ORDINALITY AS u(id, conv, code, message, ord) ORDER BY u.ord;
    PERFORM train_data.note_lock_timeout(NULL);
END
$$;


-- Functions whose body changes (same signatures).

-- Add to the live counters of a job, in this backend's shard, the first one
-- no other transaction holds, or a new one (native: src/counter_shards.c,
-- statements kept prepared; it runs as its caller, under her policies: the
-- engine writes shards 16-31, a user's cancel_batch 0-15).
CREATE OR REPLACE FUNCTION train_data.bump_counters(job_id uuid, completed integer, failed integer, cancelled integer,
                                         in_flight integer, final_event boolean DEFAULT false)
    RETURNS void
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_bump_counters';

-- Log a model call of a batch item (its request is the one stored at claim;
-- native: src/bookkeeping_glue.c, one INSERT kept prepared), with the
-- prompt cache's tokens among its input tokens (new arguments: 1.1's
-- function is replaced).
DROP FUNCTION train_data.log_generation(uuid, uuid, uuid, jsonb, jsonb, integer, uuid, uuid, jsonb, text,
                                        integer, integer, numeric, integer, text, text);
CREATE FUNCTION train_data.log_generation(item_id uuid, job_id uuid, template_id uuid, request jsonb,
                                          parameters jsonb, attempts integer, owner uuid, conversation_id uuid,
                                          response jsonb, status text, input_tokens integer, output_tokens integer,
                                          cost numeric, duration_ms integer, error_message text, error_code text,
                                          cache_read_tokens integer, cache_write_tokens integer)
    RETURNS void
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_log_generation';

-- The sums a job row gets are kept within its total (counter rows are
-- writable by their owner).
CREATE OR REPLACE FUNCTION train_data.rollup_counters(job_id uuid)
    RETURNS void
    LANGUAGE sql
BEGIN ATOMIC
    -- each sum kept within what the job's total leaves (the counter rows are
    -- writable by their owner: nonsense there must not fail anyone's claim)
    UPDATE train_data.batch_jobs j
    SET completed_items = s.completed, failed_items = s.failed, cancelled_items = s.cancelled
    FROM (SELECT x.completed, y.failed,
                 least(greatest(x.cancelled, 0), x.total - x.completed - y.failed)::integer AS cancelled
          FROM (SELECT least(greatest(coalesce(sum(c.completed_items), 0), 0), j2.total_items)::integer AS completed,
                       coalesce(sum(c.failed_items), 0) AS failed, coalesce(sum(c.cancelled_items), 0) AS cancelled,
                       j2.total_items AS total
                FROM train_data.batch_jobs j2
                LEFT JOIN train_data.batch_job_counters c ON c.batch_job_id = j2.id
                WHERE j2.id = rollup_counters.job_id
                GROUP BY j2.total_items) x,
               LATERAL (SELECT least(greatest(x.failed, 0), x.total - x.completed)::integer AS failed) y) s
    WHERE j.id = rollup_counters.job_id;
END;


-- Tell the listeners of a job about a change, on the job's own channel; a
-- job the caller cannot see gets nothing (users can signal only their own).
CREATE OR REPLACE FUNCTION train_data.notify_progress(job_id uuid, item_id uuid, event text)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT coalesce(current_setting('train_data.events', true)::boolean, true) THEN
        RETURN;
    END IF;
    PERFORM pg_notify(train_data.job_channel(j.id),
                      json_build_object('batch_job_id', j.id, 'item_id', notify_progress.item_id,
                                        'event', notify_progress.event)::text)
    FROM train_data.batch_jobs j WHERE j.id = notify_progress.job_id;
END
$$;

-- Close the job when no item is left to do: completed, or failed when every
-- item failed.  Cheap when items remain queued (one index probe).  Finishers
-- of one job take turns on its job_claim_locks row, which only train_data
-- locks, so the last one sees every other commit; the job row itself is
-- skipped, never waited for, when its owner holds it (the owner's next
-- pause_batch or resume_batch closes the job then).
CREATE OR REPLACE FUNCTION train_data.finish_job_if_done(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st train_data.batch_job_status;
    engine boolean := train_data.engine_context();
BEGIN
    -- the owner, holding her job row (pause_batch, resume_batch): her job
    -- ends as the extension's owner (a user does not write a job's counters
    -- or status: her pause that had to end the job failed with 42501, a
    -- review of 1.2), and only her own
    IF NOT engine THEN
        PERFORM train_data.owner_close_job(finish_job_if_done.job_id);
        RETURN;
    END IF;
    -- each probe in the order of its partial index, so that even a generic
    -- plan reads the index (an EXISTS would be a sequential scan stopping
    -- at the first match: past every finished item of the job)
    PERFORM FROM train_data.batch_items i
    WHERE i.batch_job_id = finish_job_if_done.job_id AND i.status = 'queued' ORDER BY i.position LIMIT 1
    FOR NO KEY UPDATE SKIP LOCKED;
    IF FOUND THEN
        RETURN;
    END IF;
    -- finishers take turns here (users neither see nor lock these rows)
    INSERT INTO train_data_internal.job_claim_locks (batch_job_id) VALUES (finish_job_if_done.job_id) ON CONFLICT DO NOTHING;
    PERFORM FROM train_data_internal.job_claim_locks l WHERE l.batch_job_id = finish_job_if_done.job_id FOR UPDATE;
    SELECT j.status INTO st FROM train_data.batch_jobs j WHERE j.id = finish_job_if_done.job_id FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        -- the row held (by its owner, whose statement may have seen this
        -- finisher's item still in flight): a claim checks the job once it
        -- is free (job_close_checks)
        IF EXISTS (SELECT FROM train_data.batch_jobs j WHERE j.id = finish_job_if_done.job_id) THEN
            PERFORM train_data.owe_close_check(finish_job_if_done.job_id, false);
        END IF;
        RETURN;
    END IF;
    IF st NOT IN ('queued', 'processing', 'paused') THEN
        -- a late finisher of a job that has ended (cancelled, failed by a
        -- stop, ended by its owner): its counters again, and no more turns
        PERFORM train_data.rollup_counters(finish_job_if_done.job_id);
        DELETE FROM train_data_internal.job_claim_locks l WHERE l.batch_job_id = finish_job_if_done.job_id;
        RETURN;
    END IF;
    IF train_data.job_has_work(finish_job_if_done.job_id) THEN
        RETURN;
    END IF;
    PERFORM train_data.close_job(finish_job_if_done.job_id);
    DELETE FROM train_data_internal.job_claim_locks l WHERE l.batch_job_id = finish_job_if_done.job_id;
END
$$;

-- Whether a job has an item queued or in flight.  Each probe in the order
-- of its partial index, so that even a generic plan reads the index (an
-- EXISTS would be a sequential scan stopping at the first match: past
-- every finished item of the job).
CREATE FUNCTION train_data.job_has_work(job_id uuid)
    RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM FROM train_data.batch_items i
    WHERE i.batch_job_id = job_has_work.job_id AND i.status = 'queued' ORDER BY i.position LIMIT 1;
    IF FOUND THEN
        RETURN true;
    END IF;
    PERFORM FROM train_data.batch_items i
    WHERE i.batch_job_id = job_has_work.job_id AND i.status = 'processing' ORDER BY i.lease_expires_at LIMIT 1;
    RETURN FOUND;
END
$$;

COMMENT ON FUNCTION train_data.job_has_work(uuid) IS
    'Internal: whether a batch job has an item queued or in flight (for closing a job, and for cancelling a stopped job''s items)';

-- Whether a job has items and every one of them has ended (none queued or
-- in flight): a job with no item yet has not.
CREATE FUNCTION train_data.job_items_ended(job_id uuid)
    RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM FROM train_data.batch_items i
    WHERE i.batch_job_id = job_items_ended.job_id ORDER BY i.position LIMIT 1;
    RETURN FOUND AND NOT train_data.job_has_work(job_items_ended.job_id);
END
$$;

COMMENT ON FUNCTION train_data.job_items_ended(uuid) IS
    'Internal: whether a batch job has items and all of them have ended (none queued or in flight)';

-- End a job none of whose items is left to do (its caller checked, holding
-- the job row): the counters rolled up into it, its status completed,
-- failed when none completed and some failed, or cancelled when its owner
-- cancelled every item one by one; a pause it was in ends too.
CREATE FUNCTION train_data.close_job(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM train_data.rollup_counters(close_job.job_id);
    UPDATE train_data.batch_jobs j
    SET status = CASE WHEN j.completed_items = 0 AND j.failed_items > 0 THEN 'failed'
                      WHEN j.completed_items = 0 AND j.failed_items = 0 AND j.cancelled_items > 0 THEN 'cancelled'
                      ELSE 'completed' END::train_data.batch_job_status,
        completed_at = now(), estimated_time_remaining = interval '0',
        paused_time = j.paused_time + coalesce(now() - j.paused_at, interval '0'), paused_at = NULL
    WHERE j.id = close_job.job_id;
    PERFORM train_data.notify_progress(close_job.job_id, NULL, 'job_finished');
END
$$;

COMMENT ON FUNCTION train_data.close_job(uuid) IS
    'Internal: ends a batch job with nothing left to do (counters rolled up; completed, failed or cancelled), for finish_job_if_done and owner_close_job';

-- Close the caller's job after she cancelled or deleted its last unfinished
-- items herself (batch_items_owner_finish).  Unlike finish_job_if_done it
-- takes no lock a worker takes: it waits for her job row (her own sessions
-- cancelling items of the job take turns on it, so the last sees the
-- others' commits; workers only ever skip the row), never for the
-- finishers' job_claim_locks row.  Only in READ COMMITTED, where its probes
-- see what committed before them; in REPEATABLE READ the job is left to
-- the next finisher, or to pause_batch and cancel_batch.  It runs as the
-- extension's owner (a user may not end a job) for a job of the caller's
-- only.
CREATE FUNCTION train_data.owner_close_job(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st train_data.batch_job_status;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        -- her snapshot cannot see what workers committed since it was
        -- taken: with nothing queued in it, a claim checks the job after
        -- her commit (job_close_checks; a queued item's finisher checks it)
        PERFORM FROM train_data.batch_items i
        WHERE i.batch_job_id = owner_close_job.job_id AND i.status = 'queued' ORDER BY i.position LIMIT 1;
        IF NOT FOUND THEN
            IF EXISTS (SELECT FROM train_data.batch_jobs j
                       WHERE j.id = owner_close_job.job_id AND j.status IN ('queued', 'processing', 'paused')
                         AND (j.created_by = train_data.current_user_id()
                              OR train_data.job_items_ended(owner_close_job.job_id))) THEN
                PERFORM train_data.owe_close_check(owner_close_job.job_id, false);
            END IF;
        END IF;
        RETURN;
    END IF;
    SELECT j.status INTO st FROM train_data.batch_jobs j
    WHERE j.id = owner_close_job.job_id AND j.created_by = train_data.current_user_id() FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        -- not the caller's job: a role that bypasses row-level security
        -- (Supabase's service role, with no user id or another's) ended its
        -- last items.  Its row is not hers to wait for or hold: when the
        -- job is open with nothing left to do, a claim closes it after her
        -- commit (job_close_checks).  Before, such a job stayed open for
        -- good (a review of a PostgREST-shaped deployment).  Anyone may
        -- call this, so it owes a check only for a job that needs one: one
        -- whose items have all ended, not one with none yet (a job its
        -- owner inserts before its items, as 1.1's applications did, was
        -- closed under them: the review of the first form).
        IF EXISTS (SELECT FROM train_data.batch_jobs j
                   WHERE j.id = owner_close_job.job_id AND j.status IN ('queued', 'processing', 'paused'))
           AND train_data.job_items_ended(owner_close_job.job_id) THEN
            PERFORM train_data.owe_close_check(owner_close_job.job_id, false);
        END IF;
        RETURN;
    END IF;
    IF st NOT IN ('queued', 'processing', 'paused') THEN
        RETURN;
    END IF;
    IF train_data.job_has_work(owner_close_job.job_id) THEN
        RETURN;
    END IF;
    PERFORM train_data.close_job(owner_close_job.job_id);
END
$$;

COMMENT ON FUNCTION train_data.owner_close_job(uuid) IS
    'Internal: ends a job of the caller''s whose items have all ended, after she ended the last ones herself; waits only for her job row';

-- Create a batch of generation work.  items: [{template_id, tier?,
-- parameters?, topic?}]; shared parameters are merged into every item and
-- win.  Every item is validated first; a bad batch is rejected whole.
CREATE OR REPLACE FUNCTION train_data.create_batch(name text, items jsonb, shared_parameters jsonb DEFAULT '{}',
                                        concurrent_processing integer DEFAULT 3,
                                        error_handling text DEFAULT 'continue',
                                        priority text DEFAULT 'normal')
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    -- a table lock a user takes delays a batch 5 s at most (55P03); the
    -- templates' rows are read, not shared (the items have no foreign key
    -- to them): a creator holding hers delays no one
    SET lock_timeout = '5s'
AS $$
DECLARE
    bad record;
    job uuid;
    queued bigint;
BEGIN
    PERFORM train_data.check_batch_options(name, shared_parameters, concurrent_processing, error_handling, priority);
    IF items IS NULL OR jsonb_typeof(items) <> 'array' THEN
        RAISE EXCEPTION 'items of batch "%" must be a JSON array', name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_array_length(items) = 0 THEN
        RAISE EXCEPTION 'batch "%" has no items', name USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_array_length(items) > 1000000 THEN
        RAISE EXCEPTION 'batch "%" has % items; the limit is 1000000', name, jsonb_array_length(items)
            USING ERRCODE = 'program_limit_exceeded',
                  HINT = 'Split the work into several batches.';
    END IF;

    -- the first invalid item, if any, and the versions of the templates the
    -- items were checked with (each row's id and xmin: a new version of a
    -- row has a new xmin)
    WITH checked AS MATERIALIZED (
          SELECT e.ord, t.id::text || '@' || t.xmin::text AS version,
                 CASE WHEN jsonb_typeof(e.value) <> 'object' THEN 'is not a JSON object'
                      WHEN NOT coalesce(train_data.is_uuid_text(e.value ->> 'template_id'), false)
                          THEN format('has no valid template_id: %s',
                                      train_data.json_for_message(coalesce(e.value -> 'template_id', 'null')))
                      WHEN t.id IS NULL THEN format('names template %s, which does not exist', e.value ->> 'template_id')
                      WHEN NOT t.is_active THEN format('names template "%s", which is not active', t.name)
                      WHEN e.value ? 'tier' AND NOT (e.value ->> 'tier') = ANY (enum_range(NULL::train_data.tier_type)::text[])
                          THEN format('has tier %s; expected template, scenario or edge_case',
                                      train_data.json_for_message(e.value -> 'tier'))
                      WHEN e.value ? 'parameters' AND jsonb_typeof(e.value -> 'parameters') <> 'object'
                          THEN 'has parameters that are not a JSON object'
                      WHEN NOT (r.result ->> 'success')::boolean
                          THEN format('is not valid for template "%s"', t.name)
                      WHEN u.unresolved IS NOT NULL
                          THEN format('leaves placeholders of template "%s" unfilled', t.name)
                 END AS problem,
                 coalesce(CASE WHEN NOT (r.result ->> 'success')::boolean THEN train_data.render_problems(r.result) END,
                          u.unresolved) AS detail,
                 -- the values a completion acts on, as the item will hold
                 -- them (the template's defaults applied), for the check
                 -- below (NULL: none)
                 CASE WHEN r.result -> 'parameters' ?| ARRAY['dedupe', 'expectedTurns', 'category']
                      THEN (SELECT jsonb_object_agg(k, r.result -> 'parameters' -> k)
                            FROM unnest(ARRAY['dedupe', 'expectedTurns', 'category']) k
                            WHERE r.result -> 'parameters' ? k) END AS acted_on
          FROM jsonb_array_elements(items) WITH ORDINALITY AS e(value, ord)
          LEFT JOIN train_data.templates t
                 ON t.id = CASE WHEN jsonb_typeof(e.value) = 'object'
                                 AND train_data.is_uuid_text(e.value ->> 'template_id')
                                THEN (e.value ->> 'template_id')::uuid END
          CROSS JOIN LATERAL (
                SELECT CASE WHEN t.id IS NOT NULL AND jsonb_typeof(coalesce(e.value -> 'parameters', '{}')) = 'object'
                            THEN train_data.render_template(t.structure,
                                                            coalesce(e.value -> 'parameters', '{}') || shared_parameters,
                                                            t.variables) END AS result
                OFFSET 0) r    -- rendered once: not pulled up into each use of r.result
          -- a placeholder no variable, parameter or default fills would
          -- reach the model as literal text
          LEFT JOIN LATERAL (
                SELECT string_agg(w, '; ') AS unresolved
                FROM jsonb_array_elements_text(r.result -> 'warnings') w
                WHERE w LIKE 'unresolved placeholders: %') u ON true)
    SELECT b.ord, b.problem, b.detail,
           (SELECT array_agg(DISTINCT c.version) FROM checked c WHERE c.version IS NOT NULL) AS versions,
           -- the values a completion acts on, named as the errors below
           -- name an item (the items' guard checks them again, naming the
           -- job by its id, which for a refused batch is rolled back:
           -- nobody ever sees it); each set of values once, by its first
           -- item, in the items' order, and only when no item has a
           -- problem above (which is reported first)
           (SELECT count(train_data.check_item_parameters(a.acted_on,
                                                          format('item %s of batch "%s"', a.ord, name))::text)
            FROM (SELECT min(c.ord) AS ord, c.acted_on FROM checked c
                  WHERE c.acted_on IS NOT NULL AND b.problem IS NULL
                  GROUP BY c.acted_on ORDER BY 1 OFFSET 0) a) AS acted_on_sets
    INTO bad
    FROM (SELECT 1) one
    LEFT JOIN LATERAL (SELECT c.ord, c.problem, c.detail FROM checked c
                       WHERE c.problem IS NOT NULL ORDER BY c.ord LIMIT 1) b ON true;
    IF bad.problem LIKE 'leaves placeholders%' THEN
        RAISE EXCEPTION 'item % of batch "%" %', bad.ord, name, bad.problem
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = upper(left(bad.detail, 1)) || substr(bad.detail, 2) || '.',
                  HINT = 'Declare each as a template variable (with a defaultValue if items may leave it out) or give it in the item''s or the shared parameters.';
    ELSIF bad.problem IS NOT NULL AND bad.detail IS NOT NULL THEN
        RAISE EXCEPTION 'item % of batch "%" %', bad.ord, name, bad.problem
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = upper(left(bad.detail, 1)) || substr(bad.detail, 2) || '.';
    ELSIF bad.problem IS NOT NULL THEN
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

    -- items keep their parameters with the template's defaults applied, and
    -- what they need from the template as it is now: the rendered prompt and
    -- the quality threshold (a later change of the template, possibly by
    -- another user, does not change queued work)
    -- (the templates are read anew here, READ COMMITTED: only the versions
    -- checked above are taken, so a template its creator deleted, changed or
    -- deactivated since leaves its items out, and the batch is refused whole
    -- below; before, such a batch was queued with no item, or with items
    -- rendered from a template nobody checked: a review of 1.2)
    WITH inserted AS (
        INSERT INTO train_data.batch_items (batch_job_id, template_id, position, topic, tier, parameters, prompt,
                                            quality_threshold)
        SELECT job, t.id, e.ord, coalesce(e.value ->> 'topic', p.rendered -> 'parameters' ->> 'topic'),
               coalesce((e.value ->> 'tier')::train_data.tier_type, t.tier), p.rendered -> 'parameters',
               p.rendered ->> 'resolved', t.quality_threshold
        FROM jsonb_array_elements(items) WITH ORDINALITY AS e(value, ord)
        JOIN train_data.templates t ON t.id = (e.value ->> 'template_id')::uuid
                                   AND t.id::text || '@' || t.xmin::text = ANY (bad.versions)
        CROSS JOIN LATERAL (SELECT train_data.render_template(t.structure,
                                                              coalesce(e.value -> 'parameters', '{}') || shared_parameters,
                                                              t.variables) AS rendered
                            OFFSET 0) p    -- rendered once: not pulled up into each use of p.rendered
        RETURNING 1)
    SELECT count(*) INTO queued FROM inserted;
    IF queued <> jsonb_array_length(items) THEN
        RAISE EXCEPTION 'templates of batch "%" changed while it was being created', name
            USING ERRCODE = 'serialization_failure',
                  DETAIL = format('Of its %s items, %s found their template as it was checked.',
                                  jsonb_array_length(items), queued),
                  HINT = 'Create the batch again.';
    END IF;
    RETURN job;
END
$$;

-- Lock the row of a job the caller can see (its owner's row: claims never
-- wait for it), or fail as for an unknown job.
CREATE OR REPLACE FUNCTION train_data.lock_visible_job(job_id uuid)
    RETURNS train_data.batch_jobs
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j train_data.batch_jobs;
BEGIN
    SELECT * INTO j FROM train_data.batch_jobs b WHERE b.id = lock_visible_job.job_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        IF lock_visible_job.job_id IS NULL THEN
            RAISE EXCEPTION 'batch job id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'batch job % does not exist', lock_visible_job.job_id
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN j;
END
$$;

-- Pause a processing job: no new item starts; items in flight finish.
CREATE OR REPLACE FUNCTION train_data.pause_batch(job_id uuid)
    RETURNS train_data.batch_jobs
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j train_data.batch_jobs := train_data.lock_visible_job(job_id);
BEGIN
    UPDATE train_data.batch_jobs b SET status = 'paused', paused_at = now()
    WHERE b.id = j.id AND b.status = 'processing' RETURNING * INTO j;
    IF NOT FOUND THEN
        PERFORM train_data.job_state_error(job_id, 'processing');
    END IF;
    PERFORM train_data.notify_progress(j.id, NULL, 'job_paused');
    PERFORM train_data.finish_job_if_done(j.id);   -- the last item may have finished while the row was held
    SELECT * INTO j FROM train_data.batch_jobs b WHERE b.id = j.id;
    RETURN j;
END
$$;

-- Resume a paused job; the time it spent paused is set aside for the estimate.
CREATE OR REPLACE FUNCTION train_data.resume_batch(job_id uuid)
    RETURNS train_data.batch_jobs
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j train_data.batch_jobs := train_data.lock_visible_job(job_id);
BEGIN
    UPDATE train_data.batch_jobs b
    SET status = 'processing', paused_time = b.paused_time + (now() - b.paused_at), paused_at = NULL
    WHERE b.id = j.id AND b.status = 'paused' RETURNING * INTO j;
    IF NOT FOUND THEN
        PERFORM train_data.job_state_error(job_id, 'paused');
    END IF;
    PERFORM train_data.notify_progress(j.id, NULL, 'job_resumed');
    PERFORM train_data.finish_job_if_done(j.id);   -- the last item may have finished while the row was held
    SELECT * INTO j FROM train_data.batch_jobs b WHERE b.id = j.id;
    RETURN j;
END
$$;

-- Cancel a job that has not ended: its queued and in-flight items become
-- cancelled (a late completion of one is refused).
CREATE OR REPLACE FUNCTION train_data.cancel_batch(job_id uuid)
    RETURNS train_data.batch_jobs
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    j train_data.batch_jobs := train_data.lock_visible_job(job_id);
    n_queued integer;
    n_flight integer;
BEGIN
    IF j.status NOT IN ('queued', 'processing', 'paused') THEN
        PERFORM train_data.job_state_error(job_id, NULL);
    END IF;
    -- the job first (its row is held since lock_visible_job: no finisher
    -- can end it meanwhile), then its items, in the order of their ids, as
    -- complete_batch_items takes them (in the order of a scan, a cancel
    -- and a batch of completions waiting on a third session's lock crossed
    -- and one of them was stopped, 40P01: a soak of the queue, 1.2), which the owner's trigger
    -- counts as she cancels them, one sum per statement, and does not end
    -- the job again (batch_items_owner_finish).  The engine's writes and a
    -- superuser's are not counted there: this counts them itself.  Before
    -- the thirty-fourth session it always counted them itself, and the
    -- trigger passed them under a setting any user could turn on, which
    -- left the items she then cancelled herself uncounted.
    UPDATE train_data.batch_jobs b
    SET status = 'cancelled', completed_at = now(), estimated_time_remaining = interval '0'
    WHERE b.id = j.id AND b.status IN ('queued', 'processing', 'paused');
    IF NOT FOUND THEN
        PERFORM train_data.job_state_error(job_id, NULL);
    END IF;
    -- (an item in flight: its call may be recorded as discarded)
    WITH c AS (
        UPDATE train_data.batch_items i
        SET status = 'cancelled', finished_at = now(), lease_expires_at = NULL,
            lost_attempts = CASE WHEN i.status = 'processing' THEN train_data.lost_attempt(i) ELSE i.lost_attempts END
        FROM (SELECT i2.id, i2.status AS old_status FROM train_data.batch_items i2
              WHERE i2.batch_job_id = j.id AND i2.status IN ('queued', 'processing')
              ORDER BY i2.id FOR NO KEY UPDATE) o
        WHERE i.id = o.id AND i.status IN ('queued', 'processing')
        RETURNING o.old_status)
    SELECT count(*) FILTER (WHERE old_status = 'queued'), count(*) FILTER (WHERE old_status = 'processing')
    INTO n_queued, n_flight FROM c;
    IF train_data.engine_context() THEN
        PERFORM train_data.bump_counters(j.id, 0, 0, n_queued + n_flight, -n_flight);
    END IF;
    PERFORM train_data.rollup_counters(j.id);
    SELECT * INTO j FROM train_data.batch_jobs b WHERE b.id = j.id;
    PERFORM train_data.notify_progress(j.id, NULL, 'job_cancelled');
    RETURN j;
END
$$;

-- Every version of a conversation (its regeneration chain), oldest first.
CREATE OR REPLACE FUNCTION train_data.conversation_versions(conversation_id uuid)
    RETURNS TABLE (version integer, id uuid, conversation_id text, status train_data.conversation_status,
                   quality_score numeric, parent_id uuid, created_at timestamptz)
    LANGUAGE sql STABLE
BEGIN ATOMIC
    -- (down one probe a version of conversations_regenerated_idx, which
    -- holds conversation parents only: a user's are hers alone, as the
    -- guard keeps a regeneration's parent its writer's own, so no other
    -- user's rows are read whatever the statistics; a chain the guard did
    -- not see, a superuser's or 1.1's, is followed across owners as before)
    WITH RECURSIVE up(id, parent_id, parent_type, depth) AS (
        SELECT c.id, c.parent_id, c.parent_type, 1 FROM train_data.conversations c
        WHERE c.id = conversation_versions.conversation_id
        UNION ALL
        SELECT c.id, c.parent_id, c.parent_type, up.depth + 1 FROM train_data.conversations c JOIN up ON c.id = up.parent_id
        WHERE up.parent_type = 'conversation' AND up.depth < 1001),   -- the guard's 1,000 before it, and itself
    down(id, depth) AS (
        SELECT up.id, 1 FROM up
        WHERE up.parent_id IS NULL OR up.parent_type <> 'conversation' OR up.depth = 1001
           OR NOT EXISTS (SELECT 1 FROM train_data.conversations p WHERE p.id = up.parent_id OFFSET 0)   -- (a probe, not a hash of every row)
        UNION ALL
        SELECT r.id, down.depth + 1
        FROM down CROSS JOIN LATERAL (
            SELECT c.id FROM train_data.conversations c
            WHERE c.parent_id = down.id AND c.parent_type = 'conversation'
            OFFSET 0) r   -- (a probe a version: not a join the planner may drive from every regeneration)
        WHERE down.depth < 1001)
    SELECT (row_number() OVER (ORDER BY c.created_at, c.id))::integer, c.id, c.conversation_id, c.status,
           c.quality_score, c.parent_id, c.created_at
    FROM (SELECT DISTINCT down.id FROM down) d
    CROSS JOIN LATERAL (SELECT x.id, x.conversation_id, x.status, x.quality_score, x.parent_id, x.created_at
                        FROM train_data.conversations x WHERE x.id = d.id OFFSET 0) c   -- (by id)
    ORDER BY 1;
END;

-- How many versions a conversation's chain holds up to it: itself and the
-- versions before it (of its owner), counted to 1,001 at most.  The
-- conversations' guard allows 1,000 before a version; a completion, which
-- inserts a regeneration's new version, does not walk the chain, so
-- regenerate_conversation and the items' guard ask this first.
CREATE FUNCTION train_data.version_depth(conversation_id uuid)
    RETURNS integer
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH RECURSIVE up(id, parent_id, parent_type, created_by, depth) AS (
        SELECT c.id, c.parent_id, c.parent_type, c.created_by, 1 FROM train_data.conversations c
        WHERE c.id = version_depth.conversation_id
        UNION ALL
        SELECT x.id, x.parent_id, x.parent_type, x.created_by, up.depth + 1
        FROM train_data.conversations x JOIN up ON x.id = up.parent_id
        WHERE up.parent_type = 'conversation' AND x.created_by = up.created_by AND up.depth < 1001)
    SELECT max(up.depth) FROM up;
END;
COMMENT ON FUNCTION train_data.version_depth(uuid) IS
    'Internal: the versions of a conversation''s chain up to it (itself and those before it), counted to 1,001 at most';

-- Queue a new generation of a conversation from its template and parameters
-- (overridden by parameters); returns the batch item.  When it completes, the
-- new conversation's parent is this one and this one is archived.
CREATE OR REPLACE FUNCTION train_data.regenerate_conversation(conversation_id uuid, parameters jsonb DEFAULT '{}')
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c train_data.conversations;
    job uuid;
    item uuid;
    batch_name text;
    tpl_name text;
    tpl_active boolean;
    refused text;
    refused_detail text;
    refused_hint text;
    refused_code text;
BEGIN
    -- (before the lookup: without a user id a conversation is not found)
    PERFORM train_data.require_user_id('A regeneration is queued as a batch job of the current user.');
    SELECT * INTO c FROM train_data.conversations x WHERE x.id = regenerate_conversation.conversation_id;
    IF NOT FOUND THEN
        IF regenerate_conversation.conversation_id IS NULL THEN
            RAISE EXCEPTION 'conversation id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'conversation % does not exist', regenerate_conversation.conversation_id
            USING ERRCODE = 'undefined_object';
    END IF;
    IF c.status IN ('archived', 'draft', 'generating') THEN
        RAISE EXCEPTION 'conversation % is %; only a generated or reviewed conversation can be regenerated',
                        c.conversation_id, c.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF c.template_id IS NULL THEN
        RAISE EXCEPTION 'conversation % has no template to regenerate from', c.conversation_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF parameters IS NULL OR jsonb_typeof(parameters) <> 'object' THEN
        RAISE EXCEPTION 'parameters must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the new version will have this one and its ancestors before it: the
    -- guard's limit, checked here because the completion that inserts the
    -- version does not walk the chain (a chain grew past it: a review of 1.2)
    IF train_data.version_depth(c.id) > 1000 THEN
        RAISE EXCEPTION 'conversation % would have more than 1000 versions before it', c.conversation_id
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = 'A regeneration is a new version after this one and the versions before it.';
    END IF;
    -- parameters the template refuses are the caller's, named as hers: the
    -- batch and item create_batch names are internal (a review of the errors
    -- found "item 1 of batch "Regenerate …"" and create_batch's text as the
    -- context); any other error goes through as it is
    batch_name := format('Regenerate %s', left(c.conversation_id, 150));
    -- its template as create_batch would find it, named as the conversation's
    SELECT t.name, t.is_active INTO tpl_name, tpl_active FROM train_data.templates t WHERE t.id = c.template_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation % has no template to regenerate from', train_data.clip_for_message(c.conversation_id)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The template it was generated from no longer exists.';
    ELSIF NOT tpl_active THEN
        RAISE EXCEPTION 'template "%" of conversation % is not active', tpl_name, train_data.clip_for_message(c.conversation_id)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Its creator can make it active again.';
    END IF;
    BEGIN
        job := train_data.create_batch(batch_name,
                                       jsonb_build_array(jsonb_build_object('template_id', c.template_id, 'tier', c.tier,
                                                                            'topic', coalesce(parameters ->> 'topic', c.topic),
                                                                            'parameters', c.parameters || parameters)),
                                       '{}', 1, 'continue', 'high');
    EXCEPTION WHEN invalid_parameter_value OR string_data_right_truncation THEN
        GET STACKED DIAGNOSTICS refused = MESSAGE_TEXT, refused_detail = PG_EXCEPTION_DETAIL,
                                refused_hint = PG_EXCEPTION_HINT, refused_code = RETURNED_SQLSTATE;
        -- (the prefix as create_batch writes it: the id may hold any character)
        IF starts_with(refused, format('item 1 of batch "%s"', batch_name)) THEN
            refused := ltrim(substr(refused, char_length(format('item 1 of batch "%s"', batch_name)) + 1), ': ');
        END IF;
        refused := CASE WHEN refused ~ '^(is|has|names|leaves) ' THEN 'The new version ' || refused
                        ELSE upper(left(refused, 1)) || substr(refused, 2) END;
        RAISE EXCEPTION 'parameters of conversation % are refused', train_data.clip_for_message(c.conversation_id)
            USING ERRCODE = refused_code,
                  DETAIL = refused || '.' || coalesce(' ' || nullif(refused_detail, ''), ''),
                  HINT = coalesce(nullif(refused_hint, ''), 'Give parameters its template accepts; those given override the conversation''s.');
    END;
    UPDATE train_data.batch_items i SET parent_conversation_id = c.id
    WHERE i.batch_job_id = job RETURNING i.id INTO item;
    RETURN item;
END
$$;

-- Delete a template unless scenarios or batch items still use it.
CREATE OR REPLACE FUNCTION train_data.safe_delete_template(template_id uuid)
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


-- Worker functions and the item lock take the lease token (attempt): the
-- old signatures go; roles that could execute them can execute the new ones.
DROP FUNCTION train_data.lock_item_in_flight(uuid);
DROP FUNCTION train_data.lock_job(uuid);
ALTER FUNCTION train_data.heartbeat_batch_item(uuid, numeric, interval) RENAME TO heartbeat_batch_item_1_1;
ALTER FUNCTION train_data.complete_batch_item(uuid, jsonb, integer) RENAME TO complete_batch_item_1_1;
ALTER FUNCTION train_data.fail_batch_item(uuid, text, text, boolean) RENAME TO fail_batch_item_1_1;
-- The item, locked, with its job's owner, or an error when it cannot be
-- finished now (unknown, not in flight, cancelled, lease expired, or -- when
-- the caller gives the attempt its claim returned -- claimed again since).
CREATE FUNCTION train_data.lock_item_in_flight(item_id uuid, attempt integer, OUT item train_data.batch_items,
                                               OUT owner uuid, OUT error_handling text,
                                               OUT completion_events boolean, OUT nowait boolean)
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_lock_item_in_flight';

-- Extend the lease of an item in flight (and record its progress).
CREATE FUNCTION train_data.heartbeat_batch_item(item_id uuid, progress numeric DEFAULT NULL,
                                                lease interval DEFAULT '5 minutes', attempt integer DEFAULT NULL)
    RETURNS timestamptz
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
    SET enable_seqscan = off   -- kept plans (and the key checks planned inside): an index, even for a table small then
    SET lock_timeout = '5s'   -- an item row its owner holds delays a worker 5 s at most (55P03)
AS $$
DECLARE
    expires timestamptz;
BEGIN
    -- (months refused: compared as 30 days, but added as calendar months)
    IF lease IS NULL OR lease <= interval '0' OR lease > interval '1 day'
       OR extract(year FROM lease) <> 0 OR extract(month FROM lease) <> 0 THEN
        RAISE EXCEPTION 'lease must be more than 0 and at most 1 day, not %', coalesce(lease::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give a lease in days, hours, minutes and seconds, without months or years.';
    END IF;
    IF progress < 0 OR progress > 100 THEN
        RAISE EXCEPTION 'progress must be between 0 and 100, not %', train_data.clip_for_message(progress::text)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM train_data.lock_item_in_flight(item_id, attempt);
    -- (the lease as an exact duration, its days 24 hours each: now() plus a
    -- day is 23 or 25 hours across a daylight-saving change)
    UPDATE train_data.batch_items i
    SET lease_expires_at = now() + extract(epoch FROM lease)::float8 * interval '1 second',
        progress = coalesce(heartbeat_batch_item.progress, i.progress)
    WHERE i.id = heartbeat_batch_item.item_id
    RETURNING i.lease_expires_at INTO expires;
    RETURN expires;
END
$$;

-- Hand back every item in flight under a worker's name but those it keeps:
-- for a worker whose claim failed with its outcome unknown (the connection
-- lost after the claim committed: its items stayed in flight, unknown to
-- the worker, until their leases ran out, each lease costing an attempt; a
-- review of 1.2 saw a job stand still for a whole lease).  Each as
-- release_batch_item does, the attempt given (one another transaction
-- holds is left).  Worker names are the workers' own: two processes must
-- not share one.  Returns how many were handed back.
CREATE FUNCTION train_data.release_worker_items(worker text, keep uuid[] DEFAULT '{}')
    RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET enable_seqscan = off   -- the items in flight through their partial index, even for a table small then
    SET lock_timeout = '5s'
AS $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    -- (the length first: btrim of a huge name costs before any check)
    IF char_length(worker) > 200 THEN
        -- (the code the claim gives: string_data_right_truncation)
        RAISE EXCEPTION 'worker name is % characters long; the limit is 200', char_length(worker)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF worker IS NULL OR btrim(worker) = '' THEN
        RAISE EXCEPTION 'worker name must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF cardinality(keep) > 1000 THEN
        RAISE EXCEPTION 'keep has % items; the limit is 1000', cardinality(keep) USING ERRCODE = 'program_limit_exceeded';
    END IF;
    FOR r IN SELECT i.id, i.attempts + i.released AS token FROM train_data.batch_items i
             WHERE i.status = 'processing' AND i.worker = release_worker_items.worker
               AND i.id <> ALL (array_remove(coalesce(keep, '{}'), NULL))   -- (a NULL would keep them all)
             ORDER BY i.lease_expires_at
             LIMIT 1000
             FOR NO KEY UPDATE SKIP LOCKED LOOP
        PERFORM train_data.release_batch_item(r.id, r.token);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

COMMENT ON FUNCTION train_data.release_worker_items(text, uuid[]) IS
    'Worker function: hands back, as release_batch_item does, every item in flight under the worker''s name but those it keeps (for a worker whose claim''s outcome it does not know); returns how many';

-- Fail a job whose item failed for good under error_handling 'stop' (its
-- queued items were cancelled by that failure), the caller holding its row:
-- counters rolled up, job_failed sent; a job that has ended already keeps
-- its status (its counters are rolled up again).
CREATE FUNCTION train_data.stop_job(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stopped boolean;
BEGIN
    UPDATE train_data.batch_jobs j
    SET status = 'failed', completed_at = now(), estimated_time_remaining = interval '0',
        paused_time = j.paused_time + coalesce(now() - j.paused_at, interval '0'), paused_at = NULL   -- (as close_job)
    WHERE j.id = stop_job.job_id AND j.status IN ('queued', 'processing', 'paused');
    stopped := FOUND;
    PERFORM train_data.rollup_counters(stop_job.job_id);
    IF stopped THEN
        PERFORM train_data.notify_progress(stop_job.job_id, NULL, 'job_failed');
    END IF;
END
$$;
COMMENT ON FUNCTION train_data.stop_job(uuid) IS
    'Internal: fails a batch job whose item failed for good under error_handling stop (counters rolled up, job_failed sent), for fail_batch_item and a claim''s closing checks';

-- A claim's look at a job whose closing check is owed (src/close_checks.c),
-- the look holding the job row: the job failed (stop), closed, its counters
-- rolled up again when it has ended, or put back in the claim order when
-- items of it are queued.  The finishers' turn (job_claim_locks) is not
-- taken: a finisher that meets the held job row leaves a check of its own,
-- so the look waits for no one (a review of 1.2: taking that turn, a look
-- waited 5 s for a completion holding it, then failed its claim with
-- 55P03, or deadlocked with it).  A lock it would still wait for (the
-- function's lock_timeout) leaves the check for a later look.
CREATE FUNCTION train_data.check_owed_job(job_id uuid, stop boolean)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '10ms'
AS $$
DECLARE
    st train_data.batch_job_status;
BEGIN
    SELECT j.status INTO st FROM train_data.batch_jobs j WHERE j.id = check_owed_job.job_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    BEGIN
        IF check_owed_job.stop THEN
            -- (a claim's stop, or items fail_batch_item could not take: the
            -- queued items are cancelled here, at most 500 a look, so that
            -- a look's cost stays bounded; the job is failed with the first
            -- of them, and no claim takes an item of a failed job)
            IF NOT train_data.job_rows_free(check_owed_job.job_id) THEN
                PERFORM train_data.owe_close_check(check_owed_job.job_id, true);
                RETURN;
            END IF;
            IF train_data.cancel_queued_items(check_owed_job.job_id, 500) THEN
                PERFORM train_data.owe_close_check(check_owed_job.job_id, true);
            END IF;
            PERFORM train_data.stop_job(check_owed_job.job_id);
        ELSIF st NOT IN ('queued', 'processing', 'paused') THEN
            PERFORM train_data.rollup_counters(check_owed_job.job_id);
        ELSIF NOT train_data.job_has_work(check_owed_job.job_id) THEN
            PERFORM train_data.close_job(check_owed_job.job_id);
        ELSE
            PERFORM FROM train_data.batch_items i
            WHERE i.batch_job_id = check_owed_job.job_id AND i.status = 'queued' ORDER BY i.position LIMIT 1;
            IF FOUND THEN
                PERFORM train_data.claimable_job_keep(check_owed_job.job_id);
            END IF;
        END IF;
    EXCEPTION WHEN lock_not_available THEN
        PERFORM train_data.owe_close_check(check_owed_job.job_id, check_owed_job.stop);
    END;
END
$$;
COMMENT ON FUNCTION train_data.check_owed_job(uuid, boolean) IS
    'Internal: a claim''s look at a job whose closing check is owed, holding its row: fails (stop), closes, rolls up or puts it back in the claim order, waiting for no one';

-- A token count of a response's usage as the parser reads one: a JSON
-- number that is a whole number from 0 to 2^31 - 1; NULL otherwise.
CREATE FUNCTION train_data.usage_count(v jsonb)
    RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN jsonb_typeof(v) = 'number' THEN
                CASE WHEN v::numeric >= 0 AND v::numeric <= 2147483647 AND v::numeric = trunc(v::numeric)
                     THEN v::numeric::integer END
           END;

COMMENT ON FUNCTION train_data.usage_count(jsonb) IS
    'Internal: a token count of a model response''s usage, a whole JSON number from 0 to 2147483647, else NULL';

-- The model and token counts a response reports, read as the parser reads
-- them: a Chat Completions response (one with choices) from
-- usage.prompt_tokens / completion_tokens and
-- prompt_tokens_details.cached_tokens (among the prompt tokens, at most
-- them), any other from usage.input_tokens / output_tokens and the prompt
-- cache's cache_read_input_tokens / cache_creation_input_tokens (which
-- Anthropic reports apart: added to the input tokens); every count NULL
-- where the parser refuses the response for its counts: the numbers above
-- 0 among them, whole or not, together past 2^31 - 1, which a
-- conversation cannot store.
-- What a response the engine cannot use was still billed for (a review of
-- the thirty-sixth session: such calls were logged with no tokens, no cost
-- and no response; the review of that fix found a first form reading
-- counts the parser refuses, and a review of the cache's counts one
-- reading the counts of a response refused for them).
CREATE FUNCTION train_data.response_usage(response jsonb, OUT model text, OUT input_tokens integer,
                                          OUT output_tokens integer, OUT cache_read_tokens integer,
                                          OUT cache_write_tokens integer)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN jsonb_typeof(response -> 'model') = 'string' THEN left(response ->> 'model', 200) END,
           CASE WHEN t.fits THEN t.i::integer END,
           CASE WHEN t.fits THEN t.o END,
           CASE WHEN t.fits AND t.i IS NOT NULL AND t.r IS NOT NULL THEN least(t.r, t.i)::integer END,
           CASE WHEN t.fits THEN t.w END
    FROM (SELECT CASE WHEN u.chat THEN u.i::bigint
                      WHEN num_nonnulls(u.i, u.r, u.w) > 0
                      THEN coalesce(u.i, 0)::bigint + coalesce(u.r, 0) + coalesce(u.w, 0) END AS i,
                 u.o, u.r, CASE WHEN NOT u.chat THEN u.w END AS w,
                 -- (the parser's bound: every number above 0 counts, as a double does)
                 (SELECT coalesce(sum(CASE WHEN jsonb_typeof(v) = 'number' THEN greatest(v::numeric, 0) END), 0)
                  FROM unnest(CASE WHEN u.chat THEN ARRAY[u.ri, u.ro] ELSE ARRAY[u.ri, u.ro, u.rr, u.rw] END) v)
                 <= 2147483647 AS fits
          FROM (SELECT x.chat, x.ri, x.ro, x.rr, x.rw, train_data.usage_count(x.ri) AS i, train_data.usage_count(x.ro) AS o,
                       train_data.usage_count(x.rr) AS r, train_data.usage_count(x.rw) AS w
                FROM (SELECT response ? 'choices' AS chat,
                             CASE WHEN response ? 'choices' THEN response #> '{usage,prompt_tokens}'
                                  ELSE response #> '{usage,input_tokens}' END AS ri,
                             CASE WHEN response ? 'choices' THEN response #> '{usage,completion_tokens}'
                                  ELSE response #> '{usage,output_tokens}' END AS ro,
                             CASE WHEN response ? 'choices' THEN response #> '{usage,prompt_tokens_details,cached_tokens}'
                                  ELSE response #> '{usage,cache_read_input_tokens}' END AS rr,
                             response #> '{usage,cache_creation_input_tokens}' AS rw) x) u) t;
END;

COMMENT ON FUNCTION train_data.response_usage(jsonb) IS
    'Internal: the model and the input, output and prompt-cache token counts a model response reports (Messages or Chat Completions usage, as the parser reads them), NULL where none fits';

-- The counts of response_usage and what the call cost at the price of the
-- model that answered, else of the one asked for (engine_model_price, as a
-- completion prices it): NULL when the response reports no tokens, and
-- when the cost is past what a log's cost holds (numeric(12,6): a server's
-- usage is not ours to trust, and these paths raise no error for it).
-- Shared by a failure's and a discarded answer's log rows.
CREATE FUNCTION train_data.response_cost(response jsonb, asked_model text, OUT model text,
                                         OUT input_tokens integer, OUT output_tokens integer,
                                         OUT cache_read_tokens integer, OUT cache_write_tokens integer,
                                         OUT cost numeric)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    call_price train_data.model_prices;   -- (read once: price_cost, inlined, names its price six times)
BEGIN
    SELECT u.model, u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens
    INTO model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens
    FROM train_data.response_usage(response) u;
    IF input_tokens IS NOT NULL OR output_tokens IS NOT NULL THEN
        call_price := train_data.engine_model_price(model, asked_model);
        cost := train_data.price_cost(call_price, coalesce(input_tokens, 0), coalesce(output_tokens, 0),
                                      coalesce(cache_read_tokens, 0), coalesce(cache_write_tokens, 0));
        IF cost >= 1000000 THEN
            cost := NULL;
        END IF;
    END IF;
END;
$$;

COMMENT ON FUNCTION train_data.response_cost(jsonb, text) IS
    'Internal: response_usage(response) and the call''s cost at the answering model''s price, else the asked model''s (NULL without tokens or past 1,000,000 USD)';
REVOKE ALL ON FUNCTION train_data.response_cost(jsonb, text) FROM PUBLIC;


-- Record a failed model call: retry later (exponential backoff with jitter,
-- base 1 s, cap 300 s) while attempts remain and the error is retryable,
-- otherwise fail the item for good; with error_handling 'stop' that fails the
-- job and cancels its queued items.  Returns the item's new status.  Its
-- generation log holds the response, when there was one the engine could
-- not use (complete_batch_item), with the tokens and cost it reports.
-- Waits for locks as long as its caller does: 5 s from fail_batch_item and
-- complete_batch_item, 1 ms from a completion whose owner's rows held up
-- complete_batch_items.
CREATE FUNCTION train_data.fail_item(item_id uuid, error_message text, error_code text, retryable boolean,
                                     attempt integer, response jsonb, duration_ms integer)
    RETURNS train_data.batch_item_status
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
    SET enable_seqscan = off   -- kept plans (and the key checks planned inside): an index, even for a table small then
AS $$
DECLARE
    l record;
    delay double precision;
    -- (clipped first: a worker's 50 MB message took seconds and 600 MB to trim, past a cancel)
    message text := coalesce(nullif(btrim(left(error_message, 4000)), ''), 'unknown error');
    -- (clipped too: a worker's code of 50 MB was stored whole, twice)
    code text := left(fail_item.error_code, 200);
    items_left boolean;
    job_held boolean;
    usage record;
BEGIN
    l := train_data.lock_item_in_flight(item_id, attempt);
    usage := train_data.response_cost(response, (l.item).request ->> 'model');
    PERFORM train_data.log_generation((l.item).id, (l.item).batch_job_id, (l.item).template_id, (l.item).request,
                                      (l.item).parameters, (l.item).attempts + (l.item).released, l.owner, NULL, response,
                                      CASE WHEN code IN ('408', 'timeout') THEN 'timeout'
                                           WHEN code IN ('429', 'rate_limit_error', 'rate_limited') THEN 'rate_limited'
                                           ELSE 'failed' END,
                                      coalesce(usage.input_tokens, 0), coalesce(usage.output_tokens, 0), usage.cost,
                                      duration_ms, message, code, usage.cache_read_tokens,
                                      usage.cache_write_tokens);
    IF coalesce(retryable, true) AND (l.item).attempts < (l.item).max_attempts THEN
        delay := least(300, power(2, (l.item).attempts - 1));
        delay := delay + random() * 0.1 * delay;
        UPDATE train_data.batch_items i
        SET status = 'queued', available_at = now() + make_interval(secs => delay), lease_expires_at = NULL,
            worker = NULL, error_message = message, error_code = code
        WHERE i.id = fail_item.item_id;
        PERFORM train_data.claimable_job_keep((l.item).batch_job_id);
        PERFORM train_data.bump_counters((l.item).batch_job_id, 0, 0, 0, -1);
        PERFORM train_data.notify_progress((l.item).batch_job_id, fail_item.item_id, 'item_retry');
        RETURN 'queued';
    END IF;

    UPDATE train_data.batch_items i
    SET status = 'failed', finished_at = now(), lease_expires_at = NULL,
        error_message = message, error_code = code
    WHERE i.id = fail_item.item_id;
    PERFORM train_data.bump_counters((l.item).batch_job_id, 0, 1, 0, -1, true);
    -- listeners get the item's event before the job's
    PERFORM train_data.notify_progress((l.item).batch_job_id, fail_item.item_id, 'item_failed');
    IF l.error_handling = 'stop' THEN
        -- the queued items another transaction holds, and the job's rows
        -- (its own, its claim-order row) when another holds them, are
        -- skipped, never waited for (a worker waited 5 s, then failed with
        -- 55P03: reviews of 1.2): a claim's look finishes the stop once they
        -- are free, and cancels what a retry of an item in flight queues
        -- again meanwhile (a stop check)
        items_left := train_data.cancel_queued_items((l.item).batch_job_id, NULL);
        job_held := NOT train_data.job_rows_free((l.item).batch_job_id);
        IF NOT job_held THEN
            PERFORM train_data.stop_job((l.item).batch_job_id);
        END IF;
        IF items_left OR job_held THEN
            PERFORM train_data.owe_close_check((l.item).batch_job_id, true);
        END IF;
    ELSE
        PERFORM train_data.finish_job_if_done((l.item).batch_job_id);
    END IF;
    RETURN 'failed';
END
$$;

COMMENT ON FUNCTION train_data.fail_item(uuid, text, text, boolean, integer, jsonb, integer) IS
    'Internal: fails a batch item in flight (queued again with backoff while attempts remain and the error is retryable), logging the call with the response and the tokens and cost it reports';

-- The worker's report of a failed model call (fail_item, without a response).
CREATE FUNCTION train_data.fail_batch_item(item_id uuid, error_message text, error_code text DEFAULT NULL,
                                           retryable boolean DEFAULT true, attempt integer DEFAULT NULL)
    RETURNS train_data.batch_item_status
    LANGUAGE sql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '5s'   -- an item row its owner holds delays a worker 5 s at most (55P03)
    RETURN train_data.fail_item(item_id, error_message, error_code, retryable, attempt, NULL, NULL);


--------------------------------------------------------------------------------
-- The engine's copies of configurations and prices: each claim read its job
-- owner's configuration, and each completion its model's price, with
-- statements and nested PL/pgSQL calls; a session now keeps them, emptied
-- in every session when ai_configurations, model_prices or a function
-- changes (src/engine_cache.c).  model_cost()'s formula moves to
-- price_cost(), which the completion applies to its copy.
--------------------------------------------------------------------------------

-- The prompt cache: its prices per model (Anthropic's for the built-in
-- family rows: reads 0.1 and writes 1.25 times the input price), and its
-- tokens in each log row (among the input tokens; a review of 1.2: a
-- response's cache reads and writes were neither stored nor priced).
ALTER TABLE train_data.model_prices
    ADD COLUMN cache_read_usd_per_mtok numeric(10,4),
    ADD COLUMN cache_write_usd_per_mtok numeric(10,4),
    ADD CONSTRAINT model_prices_cache_nonnegative CHECK (cache_read_usd_per_mtok >= 0 AND cache_write_usd_per_mtok >= 0);
COMMENT ON COLUMN train_data.model_prices.cache_read_usd_per_mtok IS 'USD per million input tokens read from the provider''s prompt cache; NULL: the input price';
COMMENT ON COLUMN train_data.model_prices.cache_write_usd_per_mtok IS 'USD per million input tokens written to the provider''s prompt cache; NULL: the input price';
-- The built-in rows: Anthropic's published prices
-- (https://docs.anthropic.com/en/docs/about-claude/pricing), a family row
-- for a generation with no row of its own (the newest generation's price,
-- the best guess for one newer still), and a row for each older generation
-- priced otherwise (model_generation names them; a review of 1.2: every
-- Haiku was priced as Claude Haiku 3, a quarter of Haiku 4.5's price, and
-- every Opus as Opus 4.1, three times Opus 4.5's).  The new rows' ids have
-- a dot, as no provider's id has; a site's row with one of them would
-- make a restore of its dump fail (CREATE EXTENSION inserts the built-in
-- row first), so it stops the update.
DO $update$
DECLARE
    taken text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.quote_literal(p.model_id), ', ' ORDER BY p.model_id) INTO taken
    FROM train_data.model_prices p
    WHERE p.model_id OPERATOR(pg_catalog.=) ANY (ARRAY['claude-opus-3.0', 'claude-opus-4.0', 'claude-opus-4.1',
                                                       'claude-haiku-3.0', 'claude-haiku-3.5']);
    IF taken IS NOT NULL THEN
        RAISE EXCEPTION 'cannot update train_data to 1.2: model_prices has rows of its own with the ids of built-in rows of 1.2: %', taken
            USING ERRCODE = 'unique_violation',
                  HINT = 'Delete or rename those rows, update, then compare their prices with the built-in rows.';
    END IF;
END
$update$;
ALTER TABLE train_data.model_prices DISABLE TRIGGER model_prices_protect_builtin;
UPDATE train_data.model_prices p
SET input_usd_per_mtok = v.i, output_usd_per_mtok = v.o, cache_read_usd_per_mtok = v.r, cache_write_usd_per_mtok = v.w
FROM (VALUES ('claude-opus',   5.0000, 25.0000, 0.5000, 6.2500),
             ('claude-sonnet', 3.0000, 15.0000, 0.3000, 3.7500),
             ('claude-haiku',  1.0000,  5.0000, 0.1000, 1.2500)) v(m, i, o, r, w)
WHERE p.model_id OPERATOR(pg_catalog.=) v.m AND p.builtin;
ALTER TABLE train_data.model_prices ENABLE TRIGGER model_prices_protect_builtin;
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok, builtin,
                                     cache_read_usd_per_mtok, cache_write_usd_per_mtok) VALUES
    ('claude-opus-3.0',  15.0000, 75.0000, true, 1.5000, 18.7500),
    ('claude-opus-4.0',  15.0000, 75.0000, true, 1.5000, 18.7500),
    ('claude-opus-4.1',  15.0000, 75.0000, true, 1.5000, 18.7500),
    ('claude-haiku-3.0',  0.2500,  1.2500, true, 0.0300,  0.3000),
    ('claude-haiku-3.5',  0.8000,  4.0000, true, 0.0800,  1.0000);

-- (and a status for the calls whose answers the queue refused:
-- log_discarded_response; one scan of the table checks both constraints)
ALTER TABLE train_data.generation_logs
    ADD COLUMN cache_read_tokens integer NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_tokens integer NOT NULL DEFAULT 0,
    ADD CONSTRAINT generation_logs_tokens_within_input
        CHECK (cache_read_tokens >= 0 AND cache_write_tokens >= 0
               AND cache_read_tokens::bigint + cache_write_tokens <= input_tokens),
    DROP CONSTRAINT generation_logs_status_valid,
    ADD CONSTRAINT generation_logs_status_valid CHECK (status IN ('success', 'failed', 'rate_limited', 'timeout', 'discarded'));
COMMENT ON COLUMN train_data.generation_logs.input_tokens IS 'Input tokens of the call, as the model reported them: prompt-cache reads and writes included (Anthropic reports them apart)';
COMMENT ON COLUMN train_data.generation_logs.cache_read_tokens IS 'Of the input tokens, those read from the provider''s prompt cache';
COMMENT ON COLUMN train_data.generation_logs.cache_write_tokens IS 'Of the input tokens, those written to the provider''s prompt cache (Anthropic)';

-- The Claude family row a model id falls back to: claude-opus, -sonnet or
-- -haiku for an id naming Claude and the family; NULL for any other id
-- (a review of 1.2: "NexaAIDev/Octopus-v2" was priced as claude-opus,
-- "haiku-poet-7b" as claude-haiku, and neither needed a price row).
CREATE FUNCTION train_data.model_family(model text)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN pg_catalog.strpos(pg_catalog.lower(model), 'claude') OPERATOR(pg_catalog.>) 0 THEN
                CASE WHEN pg_catalog.strpos(pg_catalog.lower(model), 'opus') OPERATOR(pg_catalog.>) 0 THEN 'claude-opus'
                     WHEN pg_catalog.strpos(pg_catalog.lower(model), 'sonnet') OPERATOR(pg_catalog.>) 0 THEN 'claude-sonnet'
                     WHEN pg_catalog.strpos(pg_catalog.lower(model), 'haiku') OPERATOR(pg_catalog.>) 0 THEN 'claude-haiku'
                END
           END;

COMMENT ON FUNCTION train_data.model_family(text) IS
    'The built-in family row a model id falls back to (claude-opus, claude-sonnet or claude-haiku, for an id naming Claude and the family), else NULL';

-- The Claude generation a model id names, as the built-in rows of older
-- generations are keyed: its family, a hyphen, then major.minor
-- (claude-haiku-3.5 for claude-3-5-haiku-20241022, claude-3.5-haiku or
-- anthropic.claude-3-5-haiku-20241022-v1:0; claude-opus-4.0 for
-- claude-opus-4-20250514 and claude-opus-4-0; claude-opus-4.1 for
-- claude-opus-4-1 and claude-opus-4.1@20250805).  The version is the one
-- or two numbers of at most two digits after the family name, else before
-- it (Claude 3's order); a date is not one.  NULL for an id with no family
-- or no version (a review of 1.2: every Haiku was priced as Claude Haiku
-- 3, a quarter of Haiku 4.5's price, and every Opus as Opus 4.1, three
-- times Opus 4.5's).
CREATE FUNCTION train_data.model_generation(model text)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT f.family OPERATOR(pg_catalog.||) '-' OPERATOR(pg_catalog.||) v.version[1] OPERATOR(pg_catalog.||) '.'
                   OPERATOR(pg_catalog.||) coalesce(v.version[2], '0')
            FROM (SELECT train_data.model_family(model) AS family, pg_catalog.lower(model) AS id) f
            CROSS JOIN LATERAL (SELECT coalesce(
                pg_catalog.regexp_match(f.id, pg_catalog.substr(f.family, 8)
                                              OPERATOR(pg_catalog.||) '[-.]([0-9]{1,2})(?![0-9])(?:[-.]([0-9]{1,2})(?![0-9]))?'),
                pg_catalog.regexp_match(f.id, 'claude[-.]([0-9]{1,2})(?:[-.]([0-9]{1,2}))?[-.]'
                                              OPERATOR(pg_catalog.||) pg_catalog.substr(f.family, 8))) AS version) v
            WHERE v.version IS NOT NULL);

COMMENT ON FUNCTION train_data.model_generation(text) IS
    'The Claude generation a model id names, as built-in price rows are keyed (claude-haiku-3.5 for claude-3-5-haiku-20241022, claude-opus-4.1 for claude-opus-4-1), else NULL';

-- The price row a call is billed at: an exact row of the model that
-- answered, else an exact row of the model asked for, else the generation
-- (model_generation) of the one that answered, else the family of the one
-- that answered when its id names a generation (a generation newer than
-- the rows: a gateway that answers claude-opus-4-1 with Opus 4.5 is billed
-- Opus 4.5's price, not 4.1's, a review of 1.2), else the generation of
-- the one asked for, then the families.  Exact rows first: a
-- provider answers an alias with a dated id (claude-haiku-4-5 with
-- claude-haiku-4-5-20251001, gpt-4o-mini with gpt-4o-mini-2024-07-18), and
-- an administrator's row for the alias must not lose to the family row the
-- dated id falls back to (a review of 1.2: a call to claude-haiku-4-5,
-- priced by its own row at $1 / $5, was billed at the family's $0.25 /
-- $1.25).  A Claude model's row without cache prices takes its family's,
-- as ratios to its own input price (Anthropic's are 0.1 and 1.25 for every
-- model: a site's row for an alias, added before 1.2 knew the cache, would
-- otherwise bill cache reads at the full input price, ten times their
-- price; found by a review of the cache's counts).  NULL when none is
-- known.
CREATE FUNCTION train_data.model_price(answered text, asked text)
    RETURNS train_data.model_prices
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p train_data.model_prices;
    f train_data.model_prices;
BEGIN
    SELECT * INTO p FROM train_data.model_prices m
    WHERE m.model_id IN (answered, asked, train_data.model_generation(answered), train_data.model_generation(asked),
                         train_data.model_family(answered), train_data.model_family(asked))
    ORDER BY CASE m.model_id WHEN answered THEN 1 WHEN asked THEN 2
                             WHEN train_data.model_generation(answered) THEN 3
                             -- (an answered id that names its generation is priced as that
                             -- generation: its family's row holds the newest one's price)
                             WHEN train_data.model_family(answered)
                             THEN CASE WHEN train_data.model_generation(answered) IS NOT NULL THEN 4 ELSE 6 END
                             WHEN train_data.model_generation(asked) THEN 5 ELSE 7 END
    LIMIT 1;
    IF p.cache_read_usd_per_mtok IS NULL OR p.cache_write_usd_per_mtok IS NULL THEN
        SELECT * INTO f FROM train_data.model_prices m
        WHERE m.model_id = train_data.model_family(p.model_id) AND m.input_usd_per_mtok > 0;
        IF FOUND THEN
            p.cache_read_usd_per_mtok := coalesce(p.cache_read_usd_per_mtok,
                                                  p.input_usd_per_mtok * f.cache_read_usd_per_mtok / f.input_usd_per_mtok);
            p.cache_write_usd_per_mtok := coalesce(p.cache_write_usd_per_mtok,
                                                   p.input_usd_per_mtok * f.cache_write_usd_per_mtok / f.input_usd_per_mtok);
        END IF;
    END IF;
    RETURN p;
END
$$;

COMMENT ON FUNCTION train_data.model_price(text, text) IS
    'Price row a call is billed at: the exact row of the model that answered, else of the one asked for, else the Claude generation of the one that answered (its family''s row when it names a generation without a row), else of the one asked for, else the Claude family of the one that answered, of the one asked for (a Claude model''s cache prices, where its row has none, its family''s ratios to the input price); NULL when none is known';

-- The price row for a model: the exact id, else its Claude generation,
-- else its family; NULL when none is known.
CREATE OR REPLACE FUNCTION train_data.model_price(model text)
    RETURNS train_data.model_prices
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN train_data.model_price(model, NULL::text);

COMMENT ON FUNCTION train_data.model_price(text) IS
    'Price row of a model: its exact model_id, else its Claude generation (model_generation), else its Claude family (an id naming Claude and opus, sonnet or haiku); NULL when none is known';

-- USD cost of a call: tokens times the price per million, 6 decimals; NULL
-- for a model with no known price.
CREATE OR REPLACE FUNCTION train_data.model_cost(model text, input_tokens bigint, output_tokens bigint)
    RETURNS numeric
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF input_tokens < 0 OR output_tokens < 0 THEN
        RAISE EXCEPTION 'token counts must not be negative: % input, % output',
                        coalesce(input_tokens::text, 'NULL'), coalesce(output_tokens::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN train_data.price_cost(train_data.model_price(model), input_tokens, output_tokens);
END
$$;

COMMENT ON FUNCTION train_data.model_cost(text, bigint, bigint) IS
    'USD cost of a model call: tokens times the price per million, rounded to 6 decimals; NULL for a model with no known price';

-- The cost at a price row (NULL for a NULL row): model_cost()'s formula,
-- which the engine applies to its cached price rows, with the prompt
-- cache's tokens among the input tokens priced at the cache's prices (the
-- input price where the row has none).  Inlined into the expression that
-- calls it.
CREATE FUNCTION train_data.price_cost(price train_data.model_prices, input_tokens bigint, output_tokens bigint,
                                      cache_read_tokens bigint DEFAULT 0, cache_write_tokens bigint DEFAULT 0)
    RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    -- (parenthesized: every OPERATOR() has the same precedence; a string
    -- body, as a parsed one would depend on model_prices' columns and so
    -- refuse ALTER TABLE model_prices ADD COLUMN or ALTER COLUMN ... TYPE)
AS $$
    SELECT pg_catalog.round(((((input_tokens OPERATOR(pg_catalog.-) cache_read_tokens) OPERATOR(pg_catalog.-) cache_write_tokens)
                              OPERATOR(pg_catalog.*) (price).input_usd_per_mtok)
                             OPERATOR(pg_catalog.+) (cache_read_tokens OPERATOR(pg_catalog.*)
                                                     COALESCE((price).cache_read_usd_per_mtok, (price).input_usd_per_mtok))
                             OPERATOR(pg_catalog.+) (cache_write_tokens OPERATOR(pg_catalog.*)
                                                     COALESCE((price).cache_write_usd_per_mtok, (price).input_usd_per_mtok))
                             OPERATOR(pg_catalog.+) (output_tokens OPERATOR(pg_catalog.*) (price).output_usd_per_mtok))
                            OPERATOR(pg_catalog./) 1000000, 6)
$$;

COMMENT ON FUNCTION train_data.price_cost(train_data.model_prices, bigint, bigint, bigint, bigint) IS
    'Internal: USD cost of a model call at a price row (model_cost()''s formula, the prompt cache''s tokens among the input tokens at the cache''s prices), rounded to 6 decimals; NULL for a NULL row';

-- model_price(answered, asked) as the engine reads it for each
-- completion: from this session's copy when it has one (src/engine_cache.c:
-- emptied in every session when model_prices or a function changes).  A
-- NULL name is no model.
CREATE FUNCTION train_data.engine_model_price(answered text, asked text)
    RETURNS train_data.model_prices
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'train_data_engine_model_price';

COMMENT ON FUNCTION train_data.engine_model_price(text, text) IS
    'Internal: model_price(answered, asked) from the session''s copy, for the engine (which reads it as the extension owner)';

-- The engine's copies of prices and configurations are emptied in every
-- session when the transaction that changed the table commits.  ENABLE
-- ALWAYS: fired under any session_replication_role (a restore, a replica).
-- Row triggers (and a statement trigger for TRUNCATE): logical
-- replication's apply worker fires row triggers only.
CREATE FUNCTION train_data.engine_cache_invalidate()
    RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_engine_cache_invalidate';

COMMENT ON FUNCTION train_data.engine_cache_invalidate() IS
    'Internal: trigger function (AFTER each row written and each TRUNCATE of model_prices and ai_configurations) that has every session empty its engine copies of the table at commit';

CREATE TRIGGER model_prices_engine_cache
    AFTER INSERT OR UPDATE OR DELETE ON train_data.model_prices
    FOR EACH ROW EXECUTE FUNCTION train_data.engine_cache_invalidate();
ALTER TABLE train_data.model_prices ENABLE ALWAYS TRIGGER model_prices_engine_cache;
CREATE TRIGGER model_prices_engine_cache_truncate
    AFTER TRUNCATE ON train_data.model_prices
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.engine_cache_invalidate();
ALTER TABLE train_data.model_prices ENABLE ALWAYS TRIGGER model_prices_engine_cache_truncate;

CREATE TRIGGER ai_configurations_engine_cache
    AFTER INSERT OR UPDATE OR DELETE ON train_data.ai_configurations
    FOR EACH ROW EXECUTE FUNCTION train_data.engine_cache_invalidate();
ALTER TABLE train_data.ai_configurations ENABLE ALWAYS TRIGGER ai_configurations_engine_cache;
CREATE TRIGGER ai_configurations_engine_cache_truncate
    AFTER TRUNCATE ON train_data.ai_configurations
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.engine_cache_invalidate();
ALTER TABLE train_data.ai_configurations ENABLE ALWAYS TRIGGER ai_configurations_engine_cache_truncate;

REVOKE ALL ON FUNCTION train_data.engine_model_price(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.engine_cache_invalidate() FROM PUBLIC;

-- A completion's turns and their signature row, written without a statement
-- of their own and without a foreign-key check per turn of the conversation
-- this transaction just inserted (native, src/turn_writer.c); false, with
-- nothing written, when the tables are not as it expects or the parent is
-- not the transaction's own, and the caller's SQL writes them.
CREATE FUNCTION train_data.engine_store_turns(conversation_id uuid, owner uuid, turns jsonb)
    RETURNS boolean
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_engine_store_turns';

COMMENT ON FUNCTION train_data.engine_store_turns(uuid, uuid, jsonb) IS
    'Internal: writes the turns and signature row of a conversation this transaction inserted, without a foreign-key check per turn; false when SQL must';
REVOKE ALL ON FUNCTION train_data.engine_store_turns(uuid, uuid, jsonb) FROM PUBLIC;

-- Store a model's response for an item in flight, in one transaction:
--   1. the item, locked, and its response parsed; a response that cannot be
--      parsed fails the item instead (queued again per policy) and the
--      function returns NULL with a WARNING (only the parse runs in the
--      subtransaction of that handler);
--   2. what the conversation is worth: its quality metrics (with the defect
--      verdicts for the turn count the item's parameters ask for:
--      expectedTurns, a count or {turns, minTurns, maxTurns, firstRole}),
--      score, status (by the threshold fixed when the item was queued --
--      items of 1.1 read their template's -- then by its defects) and the
--      cost of the call;
--   3. the conversation and its turns, owned by the batch owner, with the
--      generated entry of its review history (and its defects); a
--      regeneration archives the conversation it replaces;
--   4. the bookkeeping: the generation log, the item completed, the job's
--      counters, the item's event, the job closed when it was the last.
-- One function, not one per step: a nested PL/pgSQL call (its settings,
-- its arguments, the item row passed whole) cost about 35,000 instructions,
-- 4 % of a completion for the four steps (docs/performance.md).
CREATE FUNCTION train_data.complete_batch_item(item_id uuid, response jsonb, duration_ms integer DEFAULT NULL,
                                               attempt integer DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
    SET enable_seqscan = off   -- kept plans (and the key checks planned inside): an index, even for a table small then
    SET lock_timeout = '5s'   -- an item row its owner holds delays a worker 5 s at most (55P03)
AS $$
DECLARE
    l record;
    item train_data.batch_items;
    owner uuid;
    p jsonb;
    parsed jsonb;
    problem text;
    state text;
    new_status train_data.batch_item_status;
    input_tokens bigint;
    output_tokens bigint;
    cache_read bigint;   -- of the input tokens, the prompt cache's (0 when not reported)
    cache_write bigint;
    metrics jsonb;
    score numeric;
    threshold numeric;
    verdict train_data.conversation_status;
    cost numeric;
    call_price train_data.model_prices;   -- (read once: price_cost, inlined, names its price six times)
    conv uuid;
    sig integer[];
    setting text;
BEGIN
    IF duration_ms < 0 THEN
        RAISE EXCEPTION 'duration_ms must not be negative, not %', duration_ms USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- 1. the item and its parsed response
    l := train_data.lock_item_in_flight(item_id, attempt);
    item := l.item;
    owner := l.owner;
    p := item.parameters;
    -- after a lock wait of complete_batch_items ran out on the owner's rows,
    -- no other lock of this entry is waited for either: a regenerated
    -- conversation's parent the owner holds, a conversation id another
    -- transaction is inserting (a review of 1.2: 5 s each, per entry), the
    -- job row the counters of a failure check against (fail_item keeps this
    -- limit: with a lock_timeout of its own, each unusable response of hers
    -- waited 5 s again, a review of the thirty-eighth session)
    IF l.nowait THEN
        setting := set_config('lock_timeout', '1ms', true);
    END IF;
    -- an item claimed before the update to 1.2 (the only kind without a
    -- stored prompt in flight) may hold parameters 1.2 refuses: it fails for
    -- good, once, rather than every completion of it after a model call
    IF item.prompt IS NULL THEN
        BEGIN
            PERFORM train_data.check_item_parameters(p, 'its parameters');
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT;
            new_status := train_data.fail_item(item.id, 'invalid parameters: ' || problem, 'invalid_prompt', false, attempt,
                                               NULL, NULL);
            RAISE WARNING 'batch item % failed: invalid parameters: %', item.id, problem
                USING DETAIL = format('The item is now %s.', new_status);
            RETURN NULL;
        END;
    END IF;
    BEGIN
        parsed := train_data.parse_generation_response(response, p);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
        IF response IS NULL THEN
            RAISE;
        END IF;
        -- (the log keeps the response and what it was billed, but for one
        -- refused for its size, which is not read)
        new_status := train_data.fail_item(item.id, 'unusable response: ' || problem, state, true, attempt,
                                           CASE WHEN train_data.jsonb_raw_size(response) <= 8388608 THEN response END,
                                           duration_ms);
        RAISE WARNING 'batch item % failed: unusable response: %', item.id, problem
            USING DETAIL = format('The item is now %s.', new_status);
        RETURN NULL;
    END;
    input_tokens := coalesce((parsed ->> 'input_tokens')::bigint, 0);
    output_tokens := coalesce((parsed ->> 'output_tokens')::bigint, 0);
    cache_read := coalesce((parsed ->> 'cache_read_tokens')::bigint, 0);
    cache_write := coalesce((parsed ->> 'cache_write_tokens')::bigint, 0);

    -- 2. quality, status and cost
    metrics := train_data.quality_metrics(parsed -> 'turns', p -> 'expectedTurns');
    -- with dedupe (a similarity) among the parameters, a near copy of an
    -- earlier conversation of the same batch is marked duplicate_in_batch
    IF jsonb_typeof(p -> 'dedupe') = 'number' THEN
        metrics := train_data.with_batch_duplicate(metrics, train_data.batch_duplicate(
            item.batch_job_id, item.created_by, parsed -> 'turns', (p ->> 'dedupe')::real));
    END IF;
    score := (metrics ->> 'overall')::numeric;
    threshold := item.quality_threshold;
    IF threshold IS NULL THEN
        SELECT t.quality_threshold INTO threshold FROM train_data.templates t WHERE t.id = item.template_id;
    END IF;
    verdict := train_data.defect_status(train_data.quality_status(score, threshold), metrics -> 'defects');
    -- the price of the model that answered, else of the one asked for (a
    -- provider answers an alias with a dated id: claude-haiku-4-5-20251001
    -- for claude-haiku-4-5), exact rows before families, from the session's
    -- copy of the price rows; none for a response that reports no tokens (a
    -- review of 1.2: such a call was recorded as costing 0)
    IF parsed ->> 'input_tokens' IS NOT NULL OR parsed ->> 'output_tokens' IS NOT NULL THEN
        call_price := train_data.engine_model_price(parsed ->> 'model', item.request ->> 'model');
        cost := train_data.price_cost(call_price, input_tokens, output_tokens, cache_read, cache_write);
    END IF;
    IF cost >= 1000000 THEN
        cost := NULL;   -- past what a cost column holds (numeric(12,6)): a server's usage is not ours to trust
    END IF;

    -- 3. the conversation and its turns
    INSERT INTO train_data.conversations
        (title, persona, emotion, topic, intent, tone, tier, category, status, quality_score, quality_metrics,
         turn_count, total_tokens, actual_cost_usd, generation_duration_ms, template_id, review_history,
         parameters, parent_id, parent_type, created_by)
    VALUES (parsed ->> 'title',
            coalesce(nullif(btrim(p ->> 'persona'), ''), 'Unknown'),
            coalesce(nullif(btrim(p ->> 'emotion'), ''), 'Neutral'),
            coalesce(item.topic, p ->> 'topic'), p ->> 'intent', p ->> 'tone', item.tier,
            CASE WHEN jsonb_typeof(p -> 'category') = 'array'
                 THEN ARRAY(SELECT jsonb_array_elements_text(p -> 'category'))
                 WHEN jsonb_typeof(p -> 'category') = 'string' THEN ARRAY[p ->> 'category']
                 ELSE '{}' END,
            verdict, score, metrics,
            jsonb_array_length(parsed -> 'turns'),
            coalesce((parsed ->> 'input_tokens')::integer, 0) + coalesce((parsed ->> 'output_tokens')::integer, 0),
            cost, duration_ms, item.template_id,
            jsonb_build_array(jsonb_build_object('id', gen_random_uuid(), 'action', 'generated',
                                                 'performedBy', owner,
                                                 -- (as the export writes times: UTC, whatever the worker's TimeZone)
                                                 'timestamp', to_char(timezone('UTC', now()), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                                                 'comment', format('Generated with quality score %s', score),
                                                 'reasons', NULL, 'defects', metrics -> 'defects')),
            p, item.parent_conversation_id,
            CASE WHEN item.parent_conversation_id IS NOT NULL THEN 'conversation' END, owner)
    RETURNING id INTO conv;
    IF item.parent_conversation_id IS NOT NULL THEN
        UPDATE train_data.conversations c SET status = 'archived'
        WHERE c.id = item.parent_conversation_id AND c.created_by = owner AND c.status <> 'archived';
    END IF;
    -- the turns, and their signature from the parsed turns (the same text in
    -- the same order: what the signature trigger, told to skip this
    -- statement, would read back from the table): natively, without a key
    -- check per turn of the conversation just inserted; with SQL when the
    -- tables are not as the native writer expects (another trigger, say)
    IF NOT train_data.engine_store_turns(conv, owner, parsed -> 'turns') THEN
        -- (assignments, not PERFORM: an expression evaluated without a statement)
        setting := set_config('train_data.engine_signs_turns', 'on', true);
        INSERT INTO train_data.conversation_turns (conversation_id, created_by, turn_number, role, content, token_count)
        SELECT conv, owner, t.ord, t.value ->> 'role', c.content, (char_length(c.content) + 3) / 4  -- ceil(chars / 4)
        FROM jsonb_array_elements(parsed -> 'turns') WITH ORDINALITY AS t(value, ord)
        CROSS JOIN LATERAL (SELECT t.value ->> 'content' AS content OFFSET 0) c;
        setting := set_config('train_data.engine_signs_turns', 'off', true);
        -- (computed once into a variable: a subquery here would be pulled up
        -- and its expression evaluated for each column naming it)
        sig := train_data.conversation_text_signature(parsed -> 'turns');
        INSERT INTO train_data.conversation_signatures (conversation_id, created_by, signature, bands)
        VALUES (conv, owner, sig, train_data.minhash_bands(sig));
    END IF;

    -- 4. the log, the item, the counters, the events
    PERFORM train_data.log_generation(item.id, item.batch_job_id, item.template_id, item.request, p,
                                      item.attempts + item.released, owner, conv, response, 'success',
                                      (parsed ->> 'input_tokens')::integer, (parsed ->> 'output_tokens')::integer,
                                      cost, duration_ms, NULL, NULL, cache_read::integer, cache_write::integer);
    UPDATE train_data.batch_items i
    SET status = 'completed', conversation_id = conv, progress = 100, finished_at = now(),
        lease_expires_at = NULL, error_message = NULL, error_code = NULL
    WHERE i.id = item.id;
    PERFORM train_data.bump_counters(item.batch_job_id, 1, 0, 0, -1, true);
    -- the item's event, when the job asks for it (completion_events: a
    -- transaction that notifies commits in turn with every other one that
    -- does, cluster-wide), before the job's; notify_progress's message, sent
    -- directly: the engine sees every job, so the job lookup that function
    -- makes for its callers is not needed here
    IF l.completion_events THEN
        PERFORM pg_notify(train_data.job_channel(item.batch_job_id),
                          json_build_object('batch_job_id', item.batch_job_id, 'item_id', item.id,
                                            'event', 'item_completed')::text);
    END IF;
    -- an item queued after this one: the job is not done (read from this
    -- item's position, not past the entries of every item claimed before it,
    -- which an old snapshot elsewhere keeps from being cleaned up).  The
    -- queued item is held until this transaction ends, so that no claim
    -- takes it before then: else it could be claimed and completed, and its
    -- finisher find this item still in flight and leave the job to it,
    -- which has decided not to close it (a review of 1.2 found 23 % of
    -- 1,000 small jobs never closed with two workers).  Its finisher comes
    -- after this commit.  One another transaction holds is skipped: with
    -- none to hold, this completion goes the way of the last one.
    PERFORM FROM train_data.batch_items i
    WHERE i.batch_job_id = item.batch_job_id AND i.status = 'queued' AND i.position > item.position
    ORDER BY i.position LIMIT 1
    FOR NO KEY UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        PERFORM train_data.finish_job_if_done(item.batch_job_id);
    END IF;
    RETURN conv;
END
$$;

-- Every grantee of the old signature but its owner, PUBLIC too (1.1
-- revoked these from PUBLIC itself: a grant to PUBLIC is the site's), with
-- its grant option: before, PUBLIC was skipped and the option dropped (a
-- review of the update path).  The new signatures are revoked from PUBLIC
-- here, before the grants, not with the reviewed list below, which would
-- take back a PUBLIC grant carried here.
DO $$
DECLARE
    g record;
BEGIN
    REVOKE ALL ON FUNCTION train_data.heartbeat_batch_item(uuid, numeric, interval, integer) FROM PUBLIC;
    REVOKE ALL ON FUNCTION train_data.complete_batch_item(uuid, jsonb, integer, integer) FROM PUBLIC;
    REVOKE ALL ON FUNCTION train_data.fail_batch_item(uuid, text, text, boolean, integer) FROM PUBLIC;
    FOR g IN
        SELECT n.new_sig, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
               CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END AS grant_option
        FROM (VALUES ('train_data.heartbeat_batch_item_1_1(uuid,numeric,interval)'::regprocedure,
                      'train_data.heartbeat_batch_item(uuid,numeric,interval,integer)'),
                     ('train_data.complete_batch_item_1_1(uuid,jsonb,integer)'::regprocedure,
                      'train_data.complete_batch_item(uuid,jsonb,integer,integer)'),
                     ('train_data.fail_batch_item_1_1(uuid,text,text,boolean)'::regprocedure,
                      'train_data.fail_batch_item(uuid,text,text,boolean,integer)')) AS n(old_fn, new_sig)
        JOIN pg_catalog.pg_proc p ON p.oid = n.old_fn
        CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
        WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s%s', g.new_sig, g.grantee, g.grant_option);
    END LOOP;
END
$$;
DROP FUNCTION train_data.heartbeat_batch_item_1_1(uuid, numeric, interval);
DROP FUNCTION train_data.complete_batch_item_1_1(uuid, jsonb, integer);
DROP FUNCTION train_data.fail_batch_item_1_1(uuid, text, text, boolean);

-- The schema of train_data's own tables, which only its functions use: no
-- user is granted USAGE on it, so no grant on its tables (GRANT ... ON ALL
-- TABLES, default privileges) lets a user read, write or lock them.
CREATE SCHEMA train_data_internal;
COMMENT ON SCHEMA train_data_internal IS 'Internal: train_data''s own tables (the claim order, slots, close checks, kept lease tokens); no user may use it';

-- Finishers of one job take turns on its row here (no user can see or lock it).
CREATE TABLE train_data_internal.job_claim_locks (
    batch_job_id uuid PRIMARY KEY
);
ALTER TABLE train_data_internal.job_claim_locks ENABLE ROW LEVEL SECURITY;

-- Jobs whose closing check is owed.  A finisher that finds the job row held
-- (by its owner, whose statement ending her last items may have seen this
-- finisher's item still in flight), a final failure under error_handling
-- 'stop' that finds it held (stop: the job fails), and an owner who ends items in
-- REPEATABLE READ (whose snapshot cannot see what workers committed since)
-- leave a row here; a claim, at most every second in each session, takes
-- the rows whose job row is free and checks the job (finish_job_if_done):
-- src/close_checks.c.  No unique key, so an insert never waits for another
-- transaction's (one is made only where the job has none: two at once is
-- rare, and harmless); no foreign key, so deleting a job waits for nothing here
-- (its rows go with it: batch_jobs_forget_claims).  No user can see, lock or
-- write these rows (row-level security without a policy).
CREATE TABLE train_data_internal.job_close_checks (
    batch_job_id uuid NOT NULL,
    stop         boolean NOT NULL DEFAULT false
);
CREATE INDEX job_close_checks_job_idx ON train_data_internal.job_close_checks (batch_job_id);
ALTER TABLE train_data_internal.job_close_checks ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE train_data_internal.job_close_checks IS 'Internal: jobs whose closing check is owed (their row was held when their last item ended); a claim checks them';
COMMENT ON COLUMN train_data_internal.job_close_checks.batch_job_id IS 'The job (no foreign key: users never lock or touch these rows)';
COMMENT ON COLUMN train_data_internal.job_close_checks.stop IS 'The job fails: an item failed for good under error_handling stop while its row was held, or in a claim';
SELECT pg_catalog.pg_extension_config_dump('train_data_internal.job_close_checks', '');   -- an owed check survives a restore

-- The places of a job's items in flight: slots 0 to 9 (a job allows at most
-- 10 at once), each free or holding one item being processed.  A claim
-- locks free slots below the job's concurrency with SKIP LOCKED and writes
-- the items it takes into them; an item that stops being processed
-- (completed, failed, released, retried, cancelled, deleted) frees its slot
-- (batch_items_free_slot).  An item in flight holds a slot and two claims
-- never lock the same free one, so the cap holds exactly, and claims of one
-- job never wait for each other.  A job's ten rows are made with the job
-- and removed with it.  No user can see, lock or write these rows (row-level
-- security without a policy; no foreign key, so a claim never waits on a
-- job row its owner holds).
CREATE TABLE train_data_internal.job_claim_slots (
    batch_job_id uuid NOT NULL,
    slot         smallint NOT NULL,
    item_id      uuid,
    PRIMARY KEY (batch_job_id, slot),
    CONSTRAINT job_claim_slots_slot_range CHECK (slot BETWEEN 0 AND 9)
);
ALTER TABLE train_data_internal.job_claim_slots ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE train_data_internal.job_claim_slots IS 'Internal: the places of a job''s items in flight, one row per slot; a claim takes free slots, an item that stops being processed frees its own';
COMMENT ON COLUMN train_data_internal.job_claim_slots.batch_job_id IS 'The job (no foreign key: users never lock or touch these rows)';
COMMENT ON COLUMN train_data_internal.job_claim_slots.slot IS 'The slot, 0-9; a claim uses those below the job''s concurrent_processing';
COMMENT ON COLUMN train_data_internal.job_claim_slots.item_id IS 'The item in flight in this slot, NULL when free';

-- An item that stops being processed frees its slot.  It runs as the
-- extension's owner: a user's cancel_batch frees the slots of her cancelled
-- items (and holds them until she commits: only claims of her own job skip
-- them meanwhile).
CREATE FUNCTION train_data.batch_items_free_slot() RETURNS trigger
    LANGUAGE c SECURITY DEFINER
    AS 'MODULE_PATHNAME', 'train_data_batch_items_free_slot';
COMMENT ON FUNCTION train_data.batch_items_free_slot() IS
    'Internal: trigger freeing the claim slot of an item that stops being processed';

-- (not UPDATE OF status: check_cache.c keeps the WHEN clause of a plain
-- UPDATE trigger parsed, where PostgreSQL parses it again per statement)
CREATE TRIGGER batch_items_free_slot
    AFTER UPDATE ON train_data.batch_items
    FOR EACH ROW WHEN (OLD.status = 'processing' AND NEW.status <> 'processing')
    EXECUTE FUNCTION train_data.batch_items_free_slot();

-- An item its owner deletes in flight frees its slot too (else the slot
-- held a deleted item for good: the job gave no more work, and every
-- claim looked at it again).
CREATE TRIGGER batch_items_free_slot_deleted
    AFTER DELETE ON train_data.batch_items
    FOR EACH ROW WHEN (OLD.status = 'processing')
    EXECUTE FUNCTION train_data.batch_items_free_slot();

-- A new job gets its ten slots (the claim makes them only for a job that
-- has none, a job inserted with triggers off say: two first claims of such
-- a job would wait for each other once).
CREATE FUNCTION train_data.batch_jobs_make_slots() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO train_data_internal.job_claim_slots (batch_job_id, slot)
    SELECT NEW.id, g::smallint FROM generate_series(0, 9) g
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION train_data.batch_jobs_make_slots() IS
    'Internal: trigger making the claim slots of a new job';

CREATE TRIGGER batch_jobs_make_slots
    AFTER INSERT ON train_data.batch_jobs
    FOR EACH ROW EXECUTE FUNCTION train_data.batch_jobs_make_slots();

-- A deleted job leaves nothing in the claim's tables (its owner's
-- transaction takes the rows' locks: a claim skips the slots of her job
-- meanwhile, and waits for none of them).
CREATE FUNCTION train_data.batch_jobs_forget_claims() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM train_data_internal.job_claim_slots s WHERE s.batch_job_id = OLD.id;
    DELETE FROM train_data_internal.job_claim_locks l WHERE l.batch_job_id = OLD.id;
    DELETE FROM train_data_internal.job_close_checks c WHERE c.batch_job_id = OLD.id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION train_data.batch_jobs_forget_claims() IS
    'Internal: trigger removing a deleted job''s rows of job_claim_slots, job_claim_locks and job_close_checks';

CREATE TRIGGER batch_jobs_forget_claims
    AFTER DELETE ON train_data.batch_jobs
    FOR EACH ROW EXECUTE FUNCTION train_data.batch_jobs_forget_claims();
REVOKE ALL ON FUNCTION train_data.batch_items_free_slot() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_jobs_forget_claims() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_jobs_make_slots() FROM PUBLIC;

-- Jobs not yet ended get their slots, and their items in flight hold
-- them, so that the first claims after the update respect each job's
-- concurrency (a job has at most 10 in flight; any beyond, which 1.1 should
-- not have let through, hold none: the claim counts them against the cap
-- until they end).  An ended job gets its slots from the claim if it ever
-- has work again.
INSERT INTO train_data_internal.job_claim_slots (batch_job_id, slot, item_id)
SELECT j.id, g.slot::smallint, i.id
FROM train_data.batch_jobs j
CROSS JOIN generate_series(0, 9) g(slot)
LEFT JOIN (SELECT i.batch_job_id, i.id,
                  row_number() OVER (PARTITION BY i.batch_job_id ORDER BY i.started_at, i.id) - 1 AS slot
           FROM train_data.batch_items i WHERE i.status = 'processing') i
       ON i.batch_job_id = j.id AND i.slot = g.slot
WHERE j.status IN ('queued', 'processing', 'paused')
   OR EXISTS (SELECT 1 FROM train_data.batch_items i2 WHERE i2.batch_job_id = j.id AND i2.status = 'processing');


-- The claim order: one row per job a claim may take work from, by its
-- priority rank and age.  A job is put here when items of it are queued
-- (inserted, retried, released) or when it is resumed; it leaves when it is
-- paused or ends, and when a claim finds nothing queued in it.  A pause
-- therefore writes one row here and no item; the claim's walk reads this
-- table only, so paused, ended and empty jobs cost it nothing.  No user can
-- see or write these rows (row-level security without a policy; no foreign
-- key: deleting a job touches nothing here, the next claim drops its row).
CREATE TABLE train_data_internal.claimable_jobs (
    batch_job_id   uuid PRIMARY KEY,
    claim_rank     smallint NOT NULL,
    job_created_at timestamptz NOT NULL,
    created_by     uuid NOT NULL
);
ALTER TABLE train_data_internal.claimable_jobs ENABLE ROW LEVEL SECURITY;
CREATE INDEX claimable_jobs_order_idx ON train_data_internal.claimable_jobs (claim_rank, job_created_at, batch_job_id);

-- Put a job in the claim order while it can be claimed from.  A row already
-- there is locked (and its rank refreshed), so a claim removing it at the
-- same time skips it: the claim cannot see this transaction's queued item.
CREATE FUNCTION train_data.claimable_job_add(job_id uuid)
    RETURNS void
    LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO train_data_internal.claimable_jobs AS c (batch_job_id, claim_rank, job_created_at, created_by)
    SELECT j.id, train_data.job_claim_rank(j.status, j.priority), j.created_at, j.created_by
    FROM train_data.batch_jobs j
    WHERE j.id = claimable_job_add.job_id AND train_data.job_claim_rank(j.status, j.priority) IS NOT NULL
    ON CONFLICT (batch_job_id) DO UPDATE SET claim_rank = excluded.claim_rank;
END;
-- Keep a job in the claim order for an item the engine queues again (a
-- retry, a release).  Its row there is written again, a new version that
-- ends the claims' passing over the job (claim_hints.c), and locked until
-- this transaction ends, so that a claim cannot remove it.  A row another
-- transaction holds is not waited for when that is an owner's transaction
-- that changed the job's rank there (her new priority, her resume): the
-- row is held with KEY SHARE, which her change does not block and a claim
-- removing the row cannot pass, and her commit is a new version too (a
-- worker's retry waited 5 s for her commit, then failed with 55P03; a
-- review of 1.2).  Without a row to hold, as claimable_job_add when that
-- waits for nobody; else (her pause removing the row, her new items making
-- it: a retry waited 5 s for her again) a job_close_checks row, and a
-- claim's look puts the job back once its row is free.
CREATE FUNCTION train_data.claimable_job_keep(job_id uuid)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '10ms'   -- a row another transaction is making or removing: not waited for
AS $$
BEGIN
    UPDATE train_data_internal.claimable_jobs c SET claim_rank = c.claim_rank
    WHERE c.ctid = (SELECT c2.ctid FROM train_data_internal.claimable_jobs c2
                    WHERE c2.batch_job_id = claimable_job_keep.job_id FOR NO KEY UPDATE SKIP LOCKED);
    IF FOUND THEN
        RETURN;
    END IF;
    PERFORM FROM train_data_internal.claimable_jobs c WHERE c.batch_job_id = claimable_job_keep.job_id
    FOR KEY SHARE SKIP LOCKED;
    IF FOUND THEN
        -- the holder's commit writes the row, but before this one's: a
        -- session that claims between the two commits keeps its floor for
        -- the job under that version (claim_hints.c), past this item; a
        -- claim's look writes the row again after this commit
        -- (check_owed_job), within about a second
        PERFORM train_data.owe_close_check(claimable_job_keep.job_id, false);
        RETURN;
    END IF;
    -- a row there but held for its removal (a claim that found nothing
    -- queued, her pause, cancel or delete): not waited for; a claim's look
    -- puts the job back, if it still has to be, once its row is free
    -- (job_close_checks: check_owed_job)
    IF EXISTS (SELECT FROM train_data_internal.claimable_jobs c WHERE c.batch_job_id = claimable_job_keep.job_id) THEN
        PERFORM train_data.owe_close_check(claimable_job_keep.job_id, false);
        RETURN;
    END IF;
    -- none: made here, unless another transaction is making it (her new
    -- items), which the function's lock_timeout does not wait for: then the
    -- same as above
    BEGIN
        PERFORM train_data.claimable_job_add(claimable_job_keep.job_id);
    EXCEPTION WHEN lock_not_available THEN
        PERFORM train_data.owe_close_check(claimable_job_keep.job_id, false);
    END;
END
$$;
COMMENT ON FUNCTION train_data.claimable_job_keep(uuid) IS
    'Internal: keeps a job in the claim order for an item queued again by the engine, without waiting for an owner''s transaction that changed its rank';

-- New queued items put their jobs in the claim order (runs as train_data:
-- users cannot write claimable_jobs).
CREATE FUNCTION train_data.batch_items_queue_jobs() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM train_data.claimable_job_add(n.batch_job_id)
    FROM (SELECT DISTINCT i.batch_job_id FROM new_items i WHERE i.status = 'queued') n;
    RETURN NULL;
END
$$;

-- Parents: the (id, owner) keys children reference; names unique per owner.
-- A readable id longer than 1.2 takes (200 characters) stops the update
-- with what to run first: 1.1 took any that fit its index, and with the
-- owner in front one of about 2,700 bytes failed the update with an index
-- error (found by a review of 1.2).  The update cannot give such a row a
-- new id itself: the row's old version, which this transaction cannot
-- remove, would still go into the new index.
DO $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM train_data.conversations c WHERE char_length(c.conversation_id) > 200;
    IF n > 0 THEN
        RAISE EXCEPTION 'train_data 1.2 takes conversation ids of up to 200 characters; % conversations have longer ones', n
            USING ERRCODE = 'string_data_right_truncation',
                  HINT = 'Give them new ids in a transaction of its own, then update again: UPDATE train_data.conversations '
                         'SET parameters = parameters || jsonb_build_object(''previousConversationId'', conversation_id), '
                         'conversation_id = train_data.make_conversation_id(tier, persona) '
                         'WHERE char_length(conversation_id) > 200;';
    END IF;
END
$$;
ALTER TABLE train_data.conversations ADD CONSTRAINT conversations_id_owner_unique UNIQUE (id, created_by);
ALTER TABLE train_data.conversations DROP CONSTRAINT conversations_conversation_id_unique;
ALTER TABLE train_data.conversations
    ADD CONSTRAINT conversations_conversation_id_unique UNIQUE (created_by, conversation_id),
    ADD CONSTRAINT conversations_conversation_id_length CHECK (pg_catalog.char_length(conversation_id) <= 200);
DROP INDEX train_data.conversations_visibility_idx;
ALTER TABLE train_data.batch_jobs ADD CONSTRAINT batch_jobs_id_owner_unique UNIQUE (id, created_by);
DROP INDEX train_data.batch_jobs_claim_order_idx;
ALTER TABLE train_data.templates DROP CONSTRAINT template_name_unique;
ALTER TABLE train_data.templates ADD CONSTRAINT template_name_unique UNIQUE (created_by, name);

-- Turns carry their conversation's owner.
ALTER TABLE train_data.conversation_turns ADD COLUMN created_by uuid;
UPDATE train_data.conversation_turns t SET created_by = c.created_by
FROM train_data.conversations c WHERE c.id = t.conversation_id;
ALTER TABLE train_data.conversation_turns
    ALTER COLUMN created_by SET NOT NULL,
    ALTER COLUMN created_by SET DEFAULT train_data.current_user_id(),
    DROP CONSTRAINT conversation_turns_conversation_id_fkey,
    ADD CONSTRAINT conversation_turns_conversation_fk FOREIGN KEY (conversation_id, created_by)
        REFERENCES train_data.conversations (id, created_by) ON DELETE CASCADE,
    -- the owner in the unique key: another user's turn aimed at a
    -- conversation fails its foreign key, never meets the owner's turns
    DROP CONSTRAINT unique_conversation_turn,
    ADD CONSTRAINT unique_conversation_turn UNIQUE (conversation_id, turn_number, created_by);
CREATE TRIGGER conversation_turns_owner
    BEFORE INSERT ON train_data.conversation_turns
    FOR EACH ROW WHEN (NEW.created_by IS NULL)
    EXECUTE FUNCTION train_data.inherit_owner('conversations', 'conversation_id');

-- Batch items carry their job's owner and, for items still to run, their
-- template's threshold as it is now.  Their prompts are not rendered here:
-- the claim renders a queued item of 1.1 from its template as it is then,
-- as 1.1 did, and fails alone one it cannot render (parameters 1.2
-- refuses).  Rendering them here held every table's lock while it ran, and
-- one user's templates could make it render without bound (50 items of
-- 294 bytes of parameters became 200 MB of prompts; found by a review of
-- 1.2).  An item in flight whose lease never ends (none, or one past a day
-- from now: 1.1 let users write leases) ends it now, so that the next
-- claim takes it back (else every claim of its job read it again, for
-- good).  The update changes neither item's updated_at.  released starts
-- at 0 (a constant default: no rewrite), so an item in flight keeps the
-- lease token its 1.1 claim returned (attempts + released).
ALTER TABLE train_data.batch_items
    ADD COLUMN created_by uuid,
    ADD COLUMN prompt text,
    ADD COLUMN quality_threshold numeric(3,1),
    ADD COLUMN released integer NOT NULL DEFAULT 0,
    ADD COLUMN lost_attempts integer[];

-- The item's lost attempts with its current one added: for an item in
-- flight that leaves flight without its worker's report (claimed again
-- after its lease ran out, cancelled, or failed for a lost lease), whose
-- call log_discarded_response may then record.  At most one entry per
-- attempt a claim counted (max_attempts, and one cancel).
-- (A body in a string: a parsed one would depend on the table's columns.)
CREATE FUNCTION train_data.lost_attempt(item train_data.batch_items)
    RETURNS integer[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN (item).attempts OPERATOR(pg_catalog.+) (item).released
                     OPERATOR(pg_catalog.=) ANY (COALESCE((item).lost_attempts, '{}'::integer[]))
                THEN (item).lost_attempts
                ELSE pg_catalog.array_append((item).lost_attempts, (item).attempts OPERATOR(pg_catalog.+) (item).released) END
$$;

COMMENT ON FUNCTION train_data.lost_attempt(train_data.batch_items) IS
    'Internal: an item''s lost_attempts with its current attempt (its lease token) added';

-- The last lease token of each claimed item that is deleted.  The token
-- counts the claims of one row, so an item inserted later with the same
-- id started again at 1, and a late call of the deleted row's worker
-- (one in flight, or one whose completion committed and whose reply was
-- lost, which the Node worker retries), with its token 1, was taken for
-- the new item's: its answer stored as the new item's conversation, with
-- the new item's owner (an adversarial review of 1.2 made a stale
-- worker's answer to Alice's prompt Bob's conversation, Bob inserting his
-- item with the id of Alice's deleted one).  The first claim of an item
-- whose id is here starts its tokens past this one.  Items never claimed
-- leave no row.  No user can see, lock or write these rows (row-level
-- security without a policy).  One row of about 90 bytes per claimed
-- item deleted: a site may delete the rows older than any of its workers
-- can be late (docs/security.md, The lease token).
CREATE TABLE train_data_internal.deleted_item_tokens (
    item_id    uuid PRIMARY KEY,
    token      integer NOT NULL,
    deleted_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
ALTER TABLE train_data_internal.deleted_item_tokens ENABLE ROW LEVEL SECURITY;
COMMENT ON TABLE train_data_internal.deleted_item_tokens IS 'Internal: the last lease token of each claimed item deleted; a later item with the same id starts its tokens past it';
COMMENT ON COLUMN train_data_internal.deleted_item_tokens.item_id IS 'The deleted item''s id (no foreign key: the item is gone)';
COMMENT ON COLUMN train_data_internal.deleted_item_tokens.token IS 'Its last lease token (attempts + released when it was deleted)';
COMMENT ON COLUMN train_data_internal.deleted_item_tokens.deleted_at IS 'When it was deleted (the latest time, for an id deleted more than once)';

-- It runs as the extension's owner: the deleting user cannot write the
-- table.  Once per statement, over the rows it deleted (the cascade of a
-- deleted job runs one statement per job): a row trigger, even a native
-- one, made deleting a job of 20,000 claimed items 2.5 times as slow,
-- this 1.3 times.  The row of an id never meets another user's write:
-- ids are unique among live items, and an id's row is written only when
-- its item is deleted.
CREATE FUNCTION train_data.batch_items_keep_token() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- no lock on the table for a statement that deleted no claimed item
    IF NOT EXISTS (SELECT FROM deleted_items d WHERE d.attempts + d.released > 0) THEN
        RETURN NULL;
    END IF;
    INSERT INTO train_data_internal.deleted_item_tokens AS t (item_id, token)
    SELECT d.id, d.attempts + d.released FROM deleted_items d
    WHERE d.attempts + d.released > 0
    ON CONFLICT (item_id) DO UPDATE
        SET token = greatest(t.token, excluded.token), deleted_at = excluded.deleted_at;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION train_data.batch_items_keep_token() IS
    'Internal: trigger keeping the last lease token of each claimed item a statement deletes';

CREATE TRIGGER batch_items_keep_token
    AFTER DELETE ON train_data.batch_items
    REFERENCING OLD TABLE AS deleted_items
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.batch_items_keep_token();
SELECT pg_catalog.pg_extension_config_dump('train_data_internal.deleted_item_tokens', '');
REVOKE ALL ON FUNCTION train_data.batch_items_keep_token() FROM PUBLIC;

ALTER TABLE train_data.batch_items DISABLE TRIGGER batch_items_touch;
UPDATE train_data.batch_items i
SET created_by = j.created_by,
    conversation_id = (SELECT c.id FROM train_data.conversations c
                       WHERE c.id = i.conversation_id AND c.created_by = j.created_by),
    parent_conversation_id = (SELECT c.id FROM train_data.conversations c
                              WHERE c.id = i.parent_conversation_id AND c.created_by = j.created_by),
    quality_threshold = CASE WHEN i.status IN ('queued', 'processing')
                             THEN (SELECT t.quality_threshold FROM train_data.templates t WHERE t.id = i.template_id) END,
    lease_expires_at = CASE WHEN i.status = 'processing'
                                 AND (i.lease_expires_at IS NULL OR i.lease_expires_at > now() + interval '1 day')
                            THEN now() ELSE i.lease_expires_at END
FROM train_data.batch_jobs j WHERE j.id = i.batch_job_id;
ALTER TABLE train_data.batch_items ENABLE TRIGGER batch_items_touch;
ALTER TABLE train_data.batch_items
    ALTER COLUMN created_by SET NOT NULL,
    ALTER COLUMN created_by SET DEFAULT train_data.current_user_id(),
    DROP CONSTRAINT batch_items_batch_job_id_fkey,
    DROP CONSTRAINT batch_items_conversation_id_fkey,
    DROP CONSTRAINT batch_items_parent_conversation_id_fkey,
    ADD CONSTRAINT batch_items_job_fk FOREIGN KEY (batch_job_id, created_by)
        REFERENCES train_data.batch_jobs (id, created_by) ON DELETE CASCADE,
    ADD CONSTRAINT batch_items_conversation_fk FOREIGN KEY (conversation_id, created_by)
        REFERENCES train_data.conversations (id, created_by) ON DELETE SET NULL (conversation_id),
    ADD CONSTRAINT batch_items_parent_conversation_fk FOREIGN KEY (parent_conversation_id, created_by)
        REFERENCES train_data.conversations (id, created_by) ON DELETE SET NULL (parent_conversation_id),
    ADD CONSTRAINT batch_items_id_owner_unique UNIQUE (id, created_by);
CREATE INDEX batch_items_lease_idx ON train_data.batch_items (lease_expires_at)
    WHERE status = 'processing';
-- the claim orders by (position, id), which only this index gives
DROP INDEX train_data.batch_items_claim_idx;
CREATE INDEX batch_items_claim_idx ON train_data.batch_items (batch_job_id, position, id)
    WHERE status = 'queued';
CREATE TRIGGER batch_items_owner
    BEFORE INSERT ON train_data.batch_items
    FOR EACH ROW WHEN (NEW.created_by IS NULL)
    EXECUTE FUNCTION train_data.inherit_owner('batch_jobs', 'batch_job_id');

-- The claim order: every job that can be claimed from and has items queued
-- or in flight.
INSERT INTO train_data_internal.claimable_jobs (batch_job_id, claim_rank, job_created_at, created_by)
SELECT j.id, train_data.job_claim_rank(j.status, j.priority), j.created_at, j.created_by
FROM train_data.batch_jobs j
WHERE train_data.job_claim_rank(j.status, j.priority) IS NOT NULL
  AND EXISTS (SELECT 1 FROM train_data.batch_items i
              WHERE i.batch_job_id = j.id AND i.status IN ('queued', 'processing'));

-- A job 1.1 left open with nothing left to do (its finisher skipped the
-- job row its owner held, or both committed at once) gets a closing
-- check: the first claim's look closes it (a paused one closes when its
-- owner resumes it, as in 1.2).
INSERT INTO train_data_internal.job_close_checks (batch_job_id)
SELECT j.id FROM train_data.batch_jobs j
WHERE j.status IN ('queued', 'processing')
  AND NOT EXISTS (SELECT 1 FROM train_data.batch_items i
                  WHERE i.batch_job_id = j.id AND i.status IN ('queued', 'processing'));

-- Counters carry their job's owner.
ALTER TABLE train_data.batch_job_counters ADD COLUMN created_by uuid;
UPDATE train_data.batch_job_counters c SET created_by = j.created_by
FROM train_data.batch_jobs j WHERE j.id = c.batch_job_id;
ALTER TABLE train_data.batch_job_counters
    ALTER COLUMN created_by SET NOT NULL,
    ALTER COLUMN created_by SET DEFAULT train_data.current_user_id(),
    DROP CONSTRAINT batch_job_counters_batch_job_id_fkey,
    ADD CONSTRAINT batch_job_counters_job_fk FOREIGN KEY (batch_job_id, created_by)
        REFERENCES train_data.batch_jobs (id, created_by) ON DELETE CASCADE;
CREATE TRIGGER batch_job_counters_owner
    BEFORE INSERT ON train_data.batch_job_counters
    FOR EACH ROW WHEN (NEW.created_by IS NULL)
    EXECUTE FUNCTION train_data.inherit_owner('batch_jobs', 'batch_job_id');
-- Engine shards 16-31 beside the users' 0-15 (rows written before stay
-- where they are and are summed as before).
ALTER TABLE train_data.batch_job_counters
    DROP CONSTRAINT batch_job_counters_shard_range,
    ADD CONSTRAINT batch_job_counters_shard_range CHECK (shard BETWEEN 0 AND 31);
-- The counters of a job still open agree with its items: 1.1 let an
-- application write item statuses (cancelling its own queued or in-flight
-- items by UPDATE, queueing ended ones again) and delete items, which
-- counted nothing, so such a job showed items queued forever and closed
-- with them (found by a review of the update path).  As 1.2 counts: each
-- item by its status now, and the items deleted (the job's total less the
-- items left) as what 1.1's counters recorded beyond the items left --
-- completed, then failed, as many as were deleted -- and the rest of them
-- cancelled.  The difference goes into engine shard 16; the update holds
-- every table, and one aggregate over the open jobs' items does it.
-- Counter rows that 1.1 let a user write (her job's counters were hers to
-- write) whose sums are out of a counter's range are not read: an open
-- job's are deleted, and it is counted from its items alone (an
-- adversarial review stopped the update with a job whose two rows held
-- 2,147,483,647 completions each: integer out of range, naming nothing).
DO $$
DECLARE
    jobs uuid[];
BEGIN
    SELECT array_agg(k.batch_job_id ORDER BY k.batch_job_id) INTO jobs
    FROM (SELECT c.batch_job_id FROM train_data.batch_job_counters c
          JOIN train_data.batch_jobs j ON j.id = c.batch_job_id
          WHERE j.status IN ('queued', 'processing', 'paused')
          GROUP BY c.batch_job_id
          HAVING sum(c.completed_items) NOT BETWEEN 0 AND 2147483647
              OR sum(c.failed_items) NOT BETWEEN 0 AND 2147483647
              OR sum(c.cancelled_items) NOT BETWEEN 0 AND 2147483647
              OR sum(c.in_flight) NOT BETWEEN 0 AND 2147483647) k;
    IF jobs IS NOT NULL THEN
        DELETE FROM train_data.batch_job_counters c WHERE c.batch_job_id = ANY (jobs);
        RAISE WARNING 'the counters of % open batch jobs were out of range and are counted from their items', cardinality(jobs)
            USING DETAIL = format('The jobs: %s.', left(array_to_string(jobs, ', '), 1000));
    END IF;
END
$$;
INSERT INTO train_data.batch_job_counters AS c
       (batch_job_id, created_by, shard, completed_items, failed_items, cancelled_items, in_flight)
SELECT d.batch_job_id, d.created_by, 16, d.completed - d.k_completed, d.failed - d.k_failed,
       d.cancelled - d.k_cancelled, d.in_flight - d.k_in_flight
FROM (SELECT r.batch_job_id, r.created_by, r.k_completed, r.k_failed, r.k_cancelled, r.k_in_flight, r.in_flight,
             r.i_completed + r.gone_completed AS completed,
             r.i_failed + r.gone_failed AS failed,
             r.i_cancelled + r.gone - r.gone_completed - r.gone_failed AS cancelled
      FROM (SELECT q.*, least(greatest(q.k_completed - q.i_completed, 0), q.gone) AS gone_completed,
                   least(greatest(q.k_failed - q.i_failed, 0),
                         q.gone - least(greatest(q.k_completed - q.i_completed, 0), q.gone)) AS gone_failed
            FROM (SELECT a.*, k.*, greatest(a.total - a.items, 0) AS gone
                  FROM (SELECT j.id AS batch_job_id, j.created_by, j.total_items AS total,
                               count(i.id)::integer AS items,
                               count(i.id) FILTER (WHERE i.status = 'completed')::integer AS i_completed,
                               count(i.id) FILTER (WHERE i.status = 'failed')::integer AS i_failed,
                               count(i.id) FILTER (WHERE i.status = 'cancelled')::integer AS i_cancelled,
                               count(i.id) FILTER (WHERE i.status = 'processing')::integer AS in_flight
                        FROM train_data.batch_jobs j LEFT JOIN train_data.batch_items i ON i.batch_job_id = j.id
                        WHERE j.status IN ('queued', 'processing', 'paused')
                        GROUP BY j.id, j.created_by, j.total_items) a
                  CROSS JOIN LATERAL (SELECT coalesce(sum(c2.completed_items), 0)::integer AS k_completed,
                                             coalesce(sum(c2.failed_items), 0)::integer AS k_failed,
                                             coalesce(sum(c2.cancelled_items), 0)::integer AS k_cancelled,
                                             coalesce(sum(c2.in_flight), 0)::integer AS k_in_flight
                                      FROM train_data.batch_job_counters c2
                                      WHERE c2.batch_job_id = a.batch_job_id) k) q) r) d
WHERE (d.completed, d.failed, d.cancelled, d.in_flight) <> (d.k_completed, d.k_failed, d.k_cancelled, d.k_in_flight)
ON CONFLICT (batch_job_id, shard) DO UPDATE
SET completed_items = c.completed_items + excluded.completed_items, failed_items = c.failed_items + excluded.failed_items,
    cancelled_items = c.cancelled_items + excluded.cancelled_items, in_flight = c.in_flight + excluded.in_flight;

-- Logs reference their owner's conversation and item only.
UPDATE train_data.generation_logs g
SET conversation_id = (SELECT c.id FROM train_data.conversations c
                       WHERE c.id = g.conversation_id AND c.created_by = g.created_by),
    batch_item_id = (SELECT i.id FROM train_data.batch_items i
                     WHERE i.id = g.batch_item_id AND i.created_by = g.created_by)
WHERE g.conversation_id IS NOT NULL OR g.batch_item_id IS NOT NULL;
ALTER TABLE train_data.generation_logs
    DROP CONSTRAINT generation_logs_conversation_id_fkey,
    DROP CONSTRAINT generation_logs_batch_item_id_fkey,
    ADD CONSTRAINT generation_logs_conversation_fk FOREIGN KEY (conversation_id, created_by)
        REFERENCES train_data.conversations (id, created_by) ON DELETE CASCADE,
    ADD CONSTRAINT generation_logs_batch_item_fk FOREIGN KEY (batch_item_id, created_by)
        REFERENCES train_data.batch_items (id, created_by) ON DELETE SET NULL (batch_item_id);
CREATE TRIGGER generation_logs_owner
    BEFORE INSERT ON train_data.generation_logs
    FOR EACH ROW WHEN (NEW.created_by IS NULL)
    EXECUTE FUNCTION train_data.inherit_owner('conversations', 'conversation_id');

-- A new row without an owner when no user id is set: 28000 "no user id is
-- set" instead of a not-null or row-level security error.
ALTER TABLE train_data.templates ALTER COLUMN created_by SET DEFAULT train_data.user_id_default('train_data.templates', false);
ALTER TABLE train_data.scenarios ALTER COLUMN created_by SET DEFAULT train_data.user_id_default('train_data.scenarios', false);
ALTER TABLE train_data.edge_cases ALTER COLUMN created_by SET DEFAULT train_data.user_id_default('train_data.edge_cases', false);
ALTER TABLE train_data.conversations ALTER COLUMN created_by SET DEFAULT train_data.user_id_default('train_data.conversations', true);
ALTER TABLE train_data.batch_jobs ALTER COLUMN created_by SET DEFAULT train_data.user_id_default('train_data.batch_jobs', true);
ALTER TABLE train_data.export_logs ALTER COLUMN user_id SET DEFAULT train_data.user_id_default('train_data.export_logs', true);
ALTER TABLE train_data.export_logs ADD COLUMN manifest jsonb;
-- item_completed events on request only: each transaction that notifies
-- commits in turn with every other one that does, cluster-wide
ALTER TABLE train_data.batch_jobs ADD COLUMN completion_events boolean NOT NULL DEFAULT false;
ALTER TABLE train_data.user_preferences ALTER COLUMN user_id SET DEFAULT train_data.user_id_default('train_data.user_preferences', true);
ALTER TABLE train_data.ai_configurations
    ALTER COLUMN user_id SET DEFAULT train_data.user_id_default('train_data.ai_configurations', false),
    ALTER COLUMN created_by SET DEFAULT train_data.user_id_default('train_data.ai_configurations', true);

-- New items and log rows get time-ordered ids, as conversations and turns
-- have since 1.1: the index entries a worker's claim and completion write
-- then land on the same few index pages instead of a random page each
-- (rows made before keep their ids).
ALTER TABLE train_data.batch_items ALTER COLUMN id SET DEFAULT train_data.uuid_v7();
ALTER TABLE train_data.generation_logs ALTER COLUMN id SET DEFAULT train_data.uuid_v7();

-- A template's batches no longer hold it back: each item keeps its prompt
-- and threshold, and its template_id, like a conversation's, may name a
-- deleted template.  No foreign key: its key check shared the row of a
-- template another user created, and an ON DELETE action would lock her
-- items from his transaction (a creator's DELETE left open stalled the
-- claims, completions and cancels of everyone's items made from it).
ALTER TABLE train_data.batch_items DROP CONSTRAINT batch_items_template_id_fkey;
-- Its index served only that key's ON DELETE action; no query looks items up
-- by template, and each claim and completion (an update of the item's
-- status, which moves the row) wrote an entry into it.
DROP INDEX train_data.batch_items_template_idx;

-- Guards: what users may write of the engine's tables and of conversations.
CREATE TRIGGER batch_jobs_guard
    BEFORE INSERT OR UPDATE ON train_data.batch_jobs
    FOR EACH ROW WHEN (NOT train_data.engine_context())
    EXECUTE FUNCTION train_data.batch_jobs_guard();
CREATE TRIGGER batch_items_guard
    BEFORE INSERT OR UPDATE ON train_data.batch_items
    FOR EACH ROW WHEN (NOT train_data.engine_context())
    EXECUTE FUNCTION train_data.batch_items_guard();
CREATE TRIGGER batch_items_prepare_update
    BEFORE UPDATE ON train_data.batch_items
    FOR EACH ROW WHEN (NEW.status = 'queued' AND (OLD.parameters IS DISTINCT FROM NEW.parameters
                                                  OR (OLD.prompt IS NOT NULL AND NEW.prompt IS NULL)))
    EXECUTE FUNCTION train_data.batch_items_prepare();
CREATE TRIGGER batch_items_prepare_insert
    BEFORE INSERT ON train_data.batch_items
    FOR EACH ROW WHEN (NEW.status = 'queued' AND NEW.prompt IS NULL AND NEW.template_id IS NOT NULL
                       AND NOT train_data.engine_context())
    EXECUTE FUNCTION train_data.batch_items_prepare();
CREATE TRIGGER batch_items_queue_jobs
    AFTER INSERT ON train_data.batch_items
    REFERENCING NEW TABLE AS new_items
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.batch_items_queue_jobs();
CREATE TRIGGER batch_jobs_reorder
    AFTER UPDATE ON train_data.batch_jobs
    FOR EACH ROW WHEN (train_data.job_claim_rank(OLD.status, OLD.priority)
                       IS DISTINCT FROM train_data.job_claim_rank(NEW.status, NEW.priority))
    EXECUTE FUNCTION train_data.batch_jobs_reorder();
CREATE TRIGGER conversations_guard
    BEFORE INSERT OR UPDATE ON train_data.conversations
    FOR EACH ROW WHEN (NOT train_data.engine_context())
    EXECUTE FUNCTION train_data.conversations_guard();

-- Policies: each compares the row's own owner column.
ALTER POLICY conversations_owner ON train_data.conversations
    USING (created_by = (SELECT train_data.current_user_id()));
DROP POLICY conversation_turns_parent ON train_data.conversation_turns;
CREATE POLICY conversation_turns_owner ON train_data.conversation_turns
    USING (created_by = (SELECT train_data.current_user_id()));
DROP POLICY batch_items_parent ON train_data.batch_items;
CREATE POLICY batch_items_owner ON train_data.batch_items
    USING (created_by = (SELECT train_data.current_user_id()));
DROP POLICY batch_job_counters_parent ON train_data.batch_job_counters;
-- Counters: the owner reads every shard of her jobs and writes (so locks)
-- only the user shards 0-15; the engine writes 16-31.
CREATE POLICY batch_job_counters_owner ON train_data.batch_job_counters FOR SELECT
    USING (created_by = (SELECT train_data.current_user_id()));
CREATE POLICY batch_job_counters_user_shards ON train_data.batch_job_counters
    USING (created_by = (SELECT train_data.current_user_id()) AND shard < 16);
DROP POLICY generation_logs_read ON train_data.generation_logs;
DROP POLICY generation_logs_insert ON train_data.generation_logs;
DROP POLICY generation_logs_update ON train_data.generation_logs;
DROP POLICY generation_logs_delete ON train_data.generation_logs;
CREATE POLICY generation_logs_owner ON train_data.generation_logs
    USING (created_by = (SELECT train_data.current_user_id()));
-- An audit entry names a configuration of the writer's own, or none
-- (naming another user's probed and locked it through the foreign key).
ALTER POLICY ai_configuration_audit_insert ON train_data.ai_configuration_audit
    WITH CHECK (user_id = (SELECT train_data.current_user_id())
                AND changed_by = (SELECT train_data.current_user_id())
                AND (config_id IS NULL
                     OR EXISTS (SELECT 1 FROM train_data.ai_configurations c WHERE c.id = config_id)));
-- a scenario under a template of the writer's own or one without an owner,
-- an edge case under such a scenario (rows 1.1 let a user put under another
-- user's template stay; updating one needs a parent of her own first)
ALTER POLICY scenarios_insert ON train_data.scenarios
    WITH CHECK (created_by = (SELECT train_data.current_user_id())
                AND EXISTS (SELECT 1 FROM train_data.templates t
                            WHERE t.id = scenarios.parent_template_id
                              AND (t.created_by IS NULL
                                   OR t.created_by = (SELECT train_data.current_user_id()))));
ALTER POLICY scenarios_update ON train_data.scenarios
    WITH CHECK (created_by = (SELECT train_data.current_user_id())
                AND EXISTS (SELECT 1 FROM train_data.templates t
                            WHERE t.id = scenarios.parent_template_id
                              AND (t.created_by IS NULL
                                   OR t.created_by = (SELECT train_data.current_user_id()))));
ALTER POLICY edge_cases_insert ON train_data.edge_cases
    WITH CHECK (created_by = (SELECT train_data.current_user_id())
                AND EXISTS (SELECT 1 FROM train_data.scenarios s
                            WHERE s.id = edge_cases.parent_scenario_id
                              AND (s.created_by IS NULL
                                   OR s.created_by = (SELECT train_data.current_user_id()))));
ALTER POLICY edge_cases_update ON train_data.edge_cases
    WITH CHECK (created_by = (SELECT train_data.current_user_id())
                AND EXISTS (SELECT 1 FROM train_data.scenarios s
                            WHERE s.id = edge_cases.parent_scenario_id
                              AND (s.created_by IS NULL
                                   OR s.created_by = (SELECT train_data.current_user_id()))));

--------------------------------------------------------------------------------
-- Providers and hand-back (issue 19)
--
-- An AI configuration names its provider (anthropic, the default, or
-- openai: Chat Completions, also OpenAI-compatible servers) and an optional
-- baseUrl; configurations stored before have neither and stay anthropic.
-- The claim returns provider and base_url after its other columns (a new
-- result type: claim_batch_items is renamed, created again with the grants
-- of the old one, and the old one dropped; the claim steps and
-- complete_batch_item, created or replaced in the tenant-safety part above,
-- already have their 1.2 form).  parse_generation_response reads Chat
-- Completions responses (the C library; nothing to change here but its
-- description).  release_batch_item hands an item back without counting its
-- attempt.
--------------------------------------------------------------------------------
-- The configuration used when a user has none (original-system.md §2.12).
-- provider: the API the model is called through, anthropic (Messages API)
-- or openai (Chat Completions: OpenAI and OpenAI-compatible servers);
-- baseUrl: the base URL a worker gives that provider's SDK, null for the
-- provider's official endpoint.  Configurations stored before 1.2 have
-- neither and so keep working as anthropic.
CREATE OR REPLACE FUNCTION train_data.default_ai_config()
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN '{
        "provider": "anthropic",
        "baseUrl": null,
        "model": "claude-sonnet-5-5",
        "temperature": 0.7,
        "maxTokens": 4096,
        "topP": 0.9,
        "rateLimiting": {"requestsPerMinute": 50, "concurrentRequests": 3, "burstAllowance": 10},
        "retryStrategy": {"maxRetries": 3, "baseDelay": 1000, "maxDelay": 16000},
        "costBudget": {"dailyBudget": 100, "weeklyBudget": 500, "monthlyBudget": 2000,
                       "alertThresholds": [0.5, 0.75, 0.9]},
        "timeouts": {"generationTimeout": 60000, "connectionTimeout": 10000, "totalRequestTimeout": 120000}
    }'::jsonb;
-- Raise an error unless the value at path in doc is null (absent) or the
-- base URL of an API: http or https, a host, an optional path, at most 2048
-- characters, without credentials, query or fragment (a worker appends the
-- API's path to it).  A rejected value is not quoted when it may hold a
-- secret.
CREATE FUNCTION train_data.check_setting_url(kind text, doc jsonb, path text[])
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := doc #> path;
    name text := array_to_string(path, '.');
    url text := v #>> '{}';
BEGIN
    IF v IS NULL OR jsonb_typeof(v) = 'null' THEN
        RETURN;
    END IF;
    IF jsonb_typeof(v) <> 'string' THEN
        RAISE EXCEPTION '% setting "%" must be a URL or null', kind, name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The value is %s.', train_data.json_for_message(v));
    END IF;
    IF char_length(url) > 2048 THEN
        RAISE EXCEPTION '% setting "%" is too long', kind, name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('It is %s characters long; the limit is 2048.', char_length(url));
    END IF;
    IF url ~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@' THEN
        RAISE EXCEPTION '% setting "%" must not hold credentials', kind, name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give the API key to the worker (ANTHROPIC_API_KEY or OPENAI_API_KEY), never in the URL.';
    END IF;
    IF url ~ '[?#]' THEN
        RAISE EXCEPTION '% setting "%" must not have a query or fragment', kind, name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give the base URL only: a worker appends the API''s path (/v1/messages or /chat/completions) to it.';
    END IF;
    IF url !~ '^[Hh][Tt][Tt][Pp][Ss]?://[]A-Za-z0-9._~%!$&''()*+,;=:[-]+(/[^[:space:][:cntrl:]]*)?$' THEN
        RAISE EXCEPTION '% setting "%" must be an http or https URL', kind, name
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The value is %s.', train_data.json_for_message(v)),
                  HINT = 'For example https://api.openai.com/v1 or http://localhost:8000/v1.';
    END IF;
END
$$;

-- The guards skip a restore only: row security off for a role that bypasses
-- it.  A user who turned the setting off within her own statement (after the
-- policies applied) skipped every check too (a review of 1.2).
CREATE OR REPLACE FUNCTION train_data.conversations_check_transition() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a restore: row security off for a role that bypasses it (a user who turns
    -- it off within her statement, after the policies applied, still is checked)
    IF current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND NEW.status IN ('approved', 'rejected', 'archived') THEN
        RAISE EXCEPTION 'a new conversation cannot be %', NEW.status
            USING ERRCODE = 'check_violation',
                  HINT = 'Conversations are generated first; review_conversation() approves or rejects them.';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IN ('approved', 'rejected') AND OLD.status <> NEW.status
       AND train_data.conversation_transition_allowed(OLD.status, NEW.status)
       AND (NEW.review_history -> -1 ->> 'action' IS DISTINCT FROM NEW.status::text
            OR (NEW.status = 'approved' AND (NEW.approved_by IS NULL OR NEW.approved_at IS NULL))) THEN
        RAISE EXCEPTION 'conversation % cannot become % without a recorded review', OLD.conversation_id, NEW.status
            USING ERRCODE = 'check_violation',
                  DETAIL = 'The last review_history entry must record the same action, and an approval its reviewer and time.',
                  HINT = 'Use review_conversation() or bulk_review_conversations().';
    END IF;
    IF TG_OP = 'UPDATE' AND NOT train_data.conversation_transition_allowed(OLD.status, NEW.status) THEN
        RAISE EXCEPTION 'conversation % cannot go from % to %', OLD.conversation_id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  DETAIL = CASE WHEN OLD.status = 'archived' THEN 'An archived conversation never changes status.'
                                WHEN NEW.status IN ('approved', 'rejected') THEN 'Only a generated conversation can be reviewed.'
                                ELSE 'That transition is not part of the conversation life cycle.' END;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION train_data.validate_settings_row() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- (a restore: row security off for a role that bypasses it; a user who turns
    -- it off within her statement, after the policies applied, still is checked)
    IF NOT (current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active(TG_RELID)) THEN
        IF TG_ARGV[0] = 'ai_config' THEN
            PERFORM train_data.validate_ai_config(NEW.configuration);
        ELSE
            PERFORM train_data.validate_user_preferences(NEW.preferences);
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- Bounds checked before the work they bound, and values clipped in messages
-- (a review of 1.2 with 50 MB arguments: a batch name trimmed before its
-- length was checked took seconds and 600 MB past a cancel; a comment of
-- any length went into the history through append_review_action).
CREATE OR REPLACE FUNCTION train_data.check_batch_options(name text, shared_parameters jsonb, concurrent_processing integer,
                                               error_handling text, priority text)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the length first: btrim of a 50 MB name took seconds and 600 MB, past a cancel
    IF char_length(name) > 200 THEN
        RAISE EXCEPTION 'batch name is % characters long; the limit is 200', char_length(name)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF name IS NULL OR btrim(name) = '' THEN
        RAISE EXCEPTION 'batch name must not be empty' USING ERRCODE = 'invalid_parameter_value';
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
        IF job_id IS NULL THEN
            RAISE EXCEPTION 'batch job id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'batch job % does not exist', job_id USING ERRCODE = 'undefined_object';
    END IF;
    IF wanted IS NULL THEN
        RAISE EXCEPTION 'batch job % is already %', job_id, st USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RAISE EXCEPTION 'batch job % is %, not %', job_id, st, train_data.clip_for_message(wanted)
        USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = CASE wanted WHEN 'processing' THEN 'Only a processing job can be paused.'
                                 ELSE 'Only a paused job can be resumed.' END;
END
$$;

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
    -- (here, not in review_conversation only: every entry of the history passes here)
    IF char_length(comment) > 2000 THEN
        RAISE EXCEPTION 'review comment is % characters long; the limit is 2000', char_length(comment)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF array_ndims(reasons) > 1 THEN
        RAISE EXCEPTION 'review reasons must be a one-dimensional array'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The array has %s dimensions.', array_ndims(reasons));
    END IF;
    IF array_position(reasons, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'review reasons must not contain null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF cardinality(reasons) > 20 OR EXISTS (SELECT 1 FROM unnest(reasons) r WHERE char_length(r) > 200) THEN
        RAISE EXCEPTION 'review reasons are limited to 20 of at most 200 characters each'
            USING ERRCODE = 'string_data_right_truncation',
                  DETAIL = format('The review has %s %s, the longest %s characters long.', cardinality(reasons),
                                  CASE WHEN cardinality(reasons) = 1 THEN 'reason' ELSE 'reasons' END,
                                  (SELECT max(char_length(r)) FROM unnest(reasons) r));
    END IF;
    UPDATE train_data.conversations c
    SET review_history = c.review_history || jsonb_build_array(jsonb_build_object(
            'id', gen_random_uuid(), 'action', append_review_action.action, 'performedBy', performed_by,
            -- the time as the export writes times, whatever the reviewer's
            -- TimeZone (jsonb of a timestamptz carries the session's offset:
            -- a review in America/St_Johns wrote -03:30 into an export in UTC)
            'timestamp', to_char(timezone('UTC', now()), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'comment', append_review_action.comment,
            'reasons', to_jsonb(append_review_action.reasons)))
    WHERE c.id = append_review_action.conversation_id;
    IF NOT FOUND THEN
        IF append_review_action.conversation_id IS NULL THEN
            RAISE EXCEPTION 'conversation id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'conversation % does not exist', append_review_action.conversation_id
            USING ERRCODE = 'undefined_object';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION train_data.review_conversation(conversation_id uuid, action text, comment text DEFAULT NULL,
                                               reasons text[] DEFAULT NULL)
    RETURNS train_data.conversations
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c train_data.conversations;
    reviewer uuid;
BEGIN
    IF action IS NULL OR action NOT IN ('approved', 'rejected', 'revision_requested') THEN
        RAISE EXCEPTION 'review action must be approved, rejected or revision_requested, not %', train_data.clip_for_message(action)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    reviewer := train_data.require_user_id('A review is recorded as the current user''s.');
    SELECT * INTO c FROM train_data.conversations x WHERE x.id = review_conversation.conversation_id FOR UPDATE;
    IF NOT FOUND THEN
        IF review_conversation.conversation_id IS NULL THEN
            RAISE EXCEPTION 'conversation id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'conversation % does not exist', review_conversation.conversation_id
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

-- Review many conversations; one row per id, failures reported, not raised.
-- The reviews run in one subtransaction, not one each: a review writes, so
-- its subtransaction takes a transaction id, and past 64 of them in one
-- transaction every snapshot in the cluster is slower to check (5,000 ids
-- took 5,001, a review of 1.2).  An id a review cannot take (unknown, not
-- the caller's, not reviewable, a repeat) fails before it writes: each
-- such id runs on its own after the others, in a subtransaction that takes
-- no id.  An error of a reviewable id undoes the others, which run again
-- without it (at most four tries; then each on its own).
CREATE OR REPLACE FUNCTION train_data.bulk_review_conversations(conversation_ids uuid[], action text, comment text DEFAULT NULL,
                                                     reasons text[] DEFAULT NULL)
    RETURNS TABLE (conversation_id uuid, success boolean, error text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids uuid[] := ARRAY(SELECT unnest(conversation_ids));   -- one dimension from 1, whatever was given
    n integer := cardinality(ids);
    reviewable boolean[];   -- by position: its first time in the list, and a review can take it
    repeated boolean[];     -- by position: listed before (reviewed once, at its first place)
    errors text[];
    cur integer;            -- the id under review (variables outlive a rollback)
    code text;
BEGIN
    -- the rows a review can change locked first, in one order: two bulk
    -- reviews of the same rows given in opposite orders deadlocked once per
    -- id (each holding the rows it had reviewed), for minutes (a review of 1.2)
    SELECT coalesce(array_agg(l.id IS NOT NULL AND u.seen = 1 ORDER BY u.ord), '{}'),
           coalesce(array_agg(u.seen > 1 ORDER BY u.ord), '{}') INTO reviewable, repeated
    FROM (SELECT x.id, x.ord, row_number() OVER (PARTITION BY x.id ORDER BY x.ord) AS seen
          FROM unnest(ids) WITH ORDINALITY AS x(id, ord)) u
    LEFT JOIN (SELECT c.id FROM train_data.conversations c
               WHERE c.id = ANY (ids) AND c.status IN ('generated', 'pending_review', 'needs_revision')
                 AND action IN ('approved', 'rejected', 'revision_requested')
               ORDER BY c.id FOR UPDATE) l ON l.id = u.id;
    errors := array_fill(NULL::text, ARRAY[n]);
    FOR pass IN 1..4 LOOP
        BEGIN
            FOR i IN 1..n LOOP
                CONTINUE WHEN NOT reviewable[i] OR errors[i] IS NOT NULL;
                cur := i;
                PERFORM train_data.review_conversation(ids[i], action, comment, reasons);
            END LOOP;
            cur := NULL;
            EXIT;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR serialization_failure THEN
                RAISE;   -- the whole call failed: not one id's outcome
            WHEN OTHERS THEN
                IF cur IS NULL THEN
                    RAISE;
                END IF;
                errors[cur] := SQLERRM;
        END;
    END LOOP;
    FOR i IN 1..n LOOP
        conversation_id := ids[i];
        success := errors[i] IS NULL;
        error := errors[i];
        -- an id listed again is reviewed once: each review of the same
        -- conversation appended one more entry to its history (a review of
        -- inputs 1,000 times larger wrote 1,000 from one call)
        IF repeated[i] THEN
            success := false;
            error := 'listed more than once: reviewed at its first place only';
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- one on its own: an id no review can take (it fails before it
        -- writes), or a reviewable one past the fourth try
        IF error IS NULL AND (NOT reviewable[i] OR cur IS NOT NULL) THEN
            BEGIN
                PERFORM train_data.review_conversation(ids[i], action, comment, reasons);
            EXCEPTION
                WHEN deadlock_detected OR lock_not_available OR serialization_failure THEN
                    RAISE;
                WHEN OTHERS THEN
                    success := false;
                    error := SQLERRM;
            END;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

-- A settings document over 16 kB as JSON text is refused (a claim reads its
-- job owner's configuration: a 3 MB one made claims take seconds).
CREATE OR REPLACE FUNCTION train_data.check_setting_keys(kind text, doc jsonb, defaults jsonb, open_objects text[] DEFAULT '{}')
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    unknown text;
    bytes bigint := octet_length(doc::text);
BEGIN
    IF bytes > 16384 THEN
        RAISE EXCEPTION '% document is too large', kind
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('The document takes %s bytes as JSON text; at most 16384 are allowed.', bytes);
    END IF;
    IF jsonb_typeof(doc) <> 'object' THEN
        RAISE EXCEPTION '% must be a JSON object', kind USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT string_agg('"' || u || '"', ', ' ORDER BY u) INTO unknown
    FROM train_data.jsonb_unknown_keys(doc, defaults, '', open_objects) u;
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown settings in %: %', kind, train_data.clip_for_message(unknown)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Compare with the default document.';
    END IF;
END
$$;


-- Validate a (partial) configuration; returns it merged over the defaults.
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
    PERFORM train_data.check_setting_choice(k, c, '{provider}', '{anthropic,openai}');
    PERFORM train_data.check_setting_url(k, c, '{baseUrl}');
    IF jsonb_typeof(c -> 'model') <> 'string' OR (train_data.model_price(c ->> 'model')).model_id IS NULL THEN
        RAISE EXCEPTION '% setting "model" names an unknown model: %', k, train_data.json_for_message(c -> 'model')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = CASE WHEN c ->> 'provider' = 'openai'
                              THEN 'Have its price added to train_data.model_prices (0 for a model that costs nothing): its owner, the site''s administrator, writes that table.'
                              ELSE 'Use a Claude model id, or have the model''s price added to train_data.model_prices by its owner, the site''s administrator.' END;
    END IF;
    PERFORM train_data.check_setting_range(k, c, '{temperature}', 0, 1);
    PERFORM train_data.check_setting_range(k, c, '{maxTokens}', 1, 4096);
    IF (c ->> 'maxTokens')::numeric <> trunc((c ->> 'maxTokens')::numeric) THEN
        RAISE EXCEPTION '% setting "maxTokens" must be a whole number', k
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The value is %s.', train_data.json_for_message(c -> 'maxTokens'));
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

-- The request body for a stored template in the configuration's provider
-- format: the rendered prompt as the user message, model / max_tokens /
-- temperature from config (default: the current user's effective
-- configuration); a system prompt is the top-level "system" of an Anthropic
-- Messages request and the first message (role system) of an OpenAI Chat
-- Completions request.  top_p is left out: current Claude models refuse
-- temperature and top_p together.
CREATE OR REPLACE FUNCTION train_data.build_generation_request(template_id uuid, parameters jsonb DEFAULT '{}',
                                                    system text DEFAULT NULL, config jsonb DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r jsonb := train_data.resolve_template(build_generation_request.template_id, parameters);
    c jsonb := CASE WHEN config IS NULL THEN train_data.get_effective_ai_config()
                    ELSE train_data.validate_ai_config(config) END;
BEGIN
    IF NOT (r ->> 'success')::boolean THEN
        RAISE EXCEPTION 'parameters are not valid for template "%"', r ->> 'template_name'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = train_data.render_problems(r, true);
    END IF;
    IF c ->> 'provider' = 'openai' THEN
        RETURN jsonb_build_object(
            'model', c -> 'model',
            'max_tokens', c -> 'maxTokens',
            'temperature', c -> 'temperature',
            'messages', CASE WHEN system IS NULL THEN '[]'::jsonb
                             ELSE jsonb_build_array(jsonb_build_object('role', 'system', 'content', system)) END
                        || jsonb_build_array(jsonb_build_object('role', 'user', 'content', r -> 'resolved')));
    END IF;
    RETURN jsonb_strip_nulls(jsonb_build_object(
        'model', c -> 'model',
        'max_tokens', c -> 'maxTokens',
        'temperature', c -> 'temperature',
        'system', system,
        'messages', jsonb_build_array(jsonb_build_object('role', 'user', 'content', r -> 'resolved'))));
END
$$;

-- Cancel an item in flight whose job has ended (failed by error_handling
-- 'stop', or cancelled): nothing will claim it again.
CREATE FUNCTION train_data.cancel_stranded_item(item_id uuid, job_id uuid, lost boolean)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE train_data.batch_items i
    SET status = 'cancelled', finished_at = now(), lease_expires_at = NULL,
        lost_attempts = CASE WHEN lost THEN train_data.lost_attempt(i) ELSE i.lost_attempts END
    WHERE i.id = cancel_stranded_item.item_id;
    PERFORM train_data.bump_counters(cancel_stranded_item.job_id, 0, 0, 1, -1);
    PERFORM train_data.rollup_counters(cancel_stranded_item.job_id);
END
$$;

-- claim_batch_items gains provider and base_url: a new result type, so a new
-- function; roles that could execute the old one can execute the new one.
ALTER FUNCTION train_data.claim_batch_items(text, integer, interval) RENAME TO claim_batch_items_before_providers;

-- Claim up to max_items items: expired leases first, then queued items by
-- the claim order (job priority, job age, job, position), never more in
-- flight per job than its concurrent_processing.  The walk reads only the
-- claim order (claimable_jobs, the jobs with work to take), so jobs with
-- nothing to claim, paused jobs and other users' idle work cost nothing; the claim
-- takes no lock a user or an outside session can hold, and skips (never
-- waits for) rows another transaction holds.  Each row carries the item's
-- prompt, fixed when it was queued, a ready request body built with the
-- batch owner's configuration, and that configuration's provider
-- (anthropic: POST the body to the Messages API; openai: to Chat
-- Completions) and base URL (NULL: the provider's official endpoint);
-- attempt is the lease token heartbeat_, complete_, fail_ and
-- release_batch_item accept.  Native (src/claim_glue.c): kept plans, no
-- interpreter between the statements.
CREATE FUNCTION train_data.claim_batch_items(worker text, max_items integer DEFAULT 1,
                                             lease interval DEFAULT '5 minutes')
    RETURNS TABLE (item_id uuid, batch_job_id uuid, "position" integer, tier train_data.tier_type,
                   parameters jsonb, prompt text, request jsonb, attempt integer, lease_expires_at timestamptz,
                   provider text, base_url text)
    LANGUAGE c SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET lock_timeout = '5s'   -- a table lock a user takes holds a claim back 5 s at most (55P03)
    SET enable_seqscan = off  -- its plans are kept: an index, even for a table small when planned
    AS 'MODULE_PATHNAME', 'train_data_claim_batch_items';

-- (as for heartbeat, complete and fail above: PUBLIC and the grant option
-- carried too, PUBLIC revoked first)
DO $$
DECLARE
    g record;
BEGIN
    REVOKE ALL ON FUNCTION train_data.claim_batch_items(text, integer, interval) FROM PUBLIC;
    FOR g IN
        SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee,
               CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END AS grant_option
        FROM pg_catalog.pg_proc p
        CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
        WHERE p.oid = 'train_data.claim_batch_items_before_providers(text,integer,interval)'::regprocedure
          AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION train_data.claim_batch_items(text,integer,interval) TO %s%s',
                       g.grantee, g.grant_option);
    END LOOP;
END
$$;
DROP FUNCTION train_data.claim_batch_items_before_providers(text, integer, interval);

-- Hand an item in flight back to the queue without counting its attempt:
-- for a worker that stops before it sent the item's request.  The item is
-- queued again, available now; an item whose job has ended is cancelled
-- instead.  Returns the item's new status.
CREATE FUNCTION train_data.release_batch_item(item_id uuid, attempt integer DEFAULT NULL)
    RETURNS train_data.batch_item_status
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
    SET enable_seqscan = off   -- kept plans (and the key checks planned inside): an index, even for a table small then
    SET lock_timeout = '5s'   -- an item row its owner holds delays a worker 5 s at most (55P03)
AS $$
DECLARE
    l record;
BEGIN
    l := train_data.lock_item_in_flight(item_id, attempt);
    IF NOT EXISTS (SELECT 1 FROM train_data.batch_jobs j
                   WHERE j.id = (l.item).batch_job_id AND j.status IN ('queued', 'processing', 'paused')) THEN
        PERFORM train_data.cancel_stranded_item((l.item).id, (l.item).batch_job_id, false);
        RETURN 'cancelled';
    END IF;
    -- the attempt given back is counted as released: the lease token
    -- (attempts + released) the next claim returns is new, so this worker's
    -- late calls are told from the next holder's (it repeated before)
    UPDATE train_data.batch_items i
    SET status = 'queued', attempts = greatest(i.attempts - 1, 0), released = i.released + least(i.attempts, 1),
        available_at = now(), lease_expires_at = NULL, worker = NULL, progress = NULL
    WHERE i.id = (l.item).id;
    PERFORM train_data.claimable_job_keep((l.item).batch_job_id);
    PERFORM train_data.bump_counters((l.item).batch_job_id, 0, 0, 0, -1);
    PERFORM train_data.notify_progress((l.item).batch_job_id, (l.item).id, 'item_released');
    RETURN 'queued';
END
$$;

-- quality_metrics with what the template expects: a turn count T (at least
-- T/2, at most 2T turns), or {turns, minTurns, maxTurns, firstRole}.
CREATE FUNCTION train_data.quality_metrics(turns jsonb, expected jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_metrics_expect';
CREATE FUNCTION train_data.quality_defects(turns jsonb, expected jsonb DEFAULT NULL)
    RETURNS text[]
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_defects';
CREATE FUNCTION train_data.quality_defect_codes()
    RETURNS TABLE (code text, soft boolean, description text)
    LANGUAGE c IMMUTABLE PARALLEL SAFE ROWS 12
    AS 'MODULE_PATHNAME', 'train_data_quality_defect_codes';
CREATE FUNCTION train_data.minhash_signature(content text)
    RETURNS integer[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_minhash_signature';
CREATE FUNCTION train_data.conversation_text_signature(turns jsonb)
    RETURNS integer[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_conversation_text_signature';

-- The signature of texts in order (a conversation's turns), words running
-- on from one to the next: minhash_signature(string_agg(content, ' ')),
-- each text read and let go instead of joined (string_agg holds them all,
-- and stops at 1 GB).
CREATE FUNCTION train_data.minhash_signature_agg_add(state internal, content text)
    RETURNS internal
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_minhash_signature_agg_add';
CREATE FUNCTION train_data.minhash_signature_agg_finish(state internal)
    RETURNS integer[]
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_minhash_signature_agg_finish';
CREATE AGGREGATE train_data.minhash_signature_agg(content text) (
    SFUNC = train_data.minhash_signature_agg_add,
    STYPE = internal,
    FINALFUNC = train_data.minhash_signature_agg_finish
);
CREATE FUNCTION train_data.minhash_bands(signature integer[])
    RETURNS bigint[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_minhash_bands';
CREATE FUNCTION train_data.minhash_similarity(a integer[], b integer[])
    RETURNS real
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_minhash_similarity';

-- The exact Jaccard similarity of two texts' shingle sets (the sets their
-- signatures stand for), which minhash_similarity estimates: near
-- duplicates checked exactly.  New in 1.2.
CREATE FUNCTION train_data.shingle_jaccard(a text, b text)
    RETURNS real
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_shingle_jaccard';

-- A text's shingle set (the distinct shingle hashes its signature is made
-- from, ascending as unsigned numbers) and the Jaccard similarity of two
-- such sets: shingle_jaccard with each text's set made once, for a text
-- compared with many.  New in 1.2.
CREATE FUNCTION train_data.shingle_set(content text)
    RETURNS bigint[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_shingle_set';
CREATE FUNCTION train_data.shingle_set_similarity(a bigint[], b bigint[])
    RETURNS real
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_shingle_set_similarity';

--------------------------------------------------------------------------------
-- Verdicts that act, near duplicates (issue 17): a completion with a defect
-- is never routed to generated; the review queue filters by defect; the
-- statistics count defects; exports leave defects and (on request) near
-- duplicates out; every conversation's MinHash signature is kept by
-- triggers on its turns (filled here for the conversations of 1.1).
--------------------------------------------------------------------------------

-- The status a completion gets once its defects are known: any hard defect
-- sends it to needs_revision, soft ones alone keep it out of generated
-- (pending_review); without defects the status its score earned stands.
-- quality_defect_codes() says which codes are soft.
CREATE FUNCTION train_data.defect_status(earned train_data.conversation_status, defects jsonb)
    RETURNS train_data.conversation_status
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_defect_status';

-- Whether a metrics document lists defect verdicts (the expression of
-- conversations.has_defects: one function call is all PostgreSQL reads back
-- from the catalog per statement that writes a conversation).
CREATE FUNCTION train_data.metrics_have_defects(metrics jsonb)
    RETURNS boolean
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_metrics_have_defects';

COMMENT ON FUNCTION train_data.metrics_have_defects(jsonb) IS
    'Whether a quality_metrics document lists defect verdicts (its defects member is a non-empty array); false for anything else, NULL included';

-- Whether a metrics document lists a hard defect (a code that is not a soft
-- defect's): what an export asks of an approved conversation with defects,
-- whose reviewer settled the soft ones (since 1.2).
CREATE FUNCTION train_data.metrics_have_hard_defects(metrics jsonb)
    RETURNS boolean
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_metrics_have_hard_defects';

COMMENT ON FUNCTION train_data.metrics_have_hard_defects(jsonb) IS
    'Whether a quality_metrics document lists a hard defect (a code in its defects array that is not a soft defect''s, as defect_status() judges them); false for anything else, NULL included';

-- Whether a conversation has defect verdicts, kept by PostgreSQL from its
-- quality_metrics (adding it rewrites the conversations table).
ALTER TABLE train_data.conversations ADD COLUMN has_defects boolean
    GENERATED ALWAYS AS (train_data.metrics_have_defects(quality_metrics)) STORED;

CREATE TABLE train_data.conversation_signatures (
    conversation_id uuid PRIMARY KEY,
    created_by      uuid NOT NULL,
    signature       integer[] NOT NULL,
    bands           bigint[] NOT NULL,
    CONSTRAINT conversation_signatures_conversation_fk FOREIGN KEY (conversation_id, created_by)
        REFERENCES train_data.conversations (id, created_by) ON DELETE CASCADE
);
CREATE INDEX conversation_signatures_bands_idx ON train_data.conversation_signatures USING gin (bands)
    WITH (gin_pending_list_limit = 64);
-- (the categories' GIN index with a pending list of 64 kB too, emptied
-- first: the list is shared by every user)
SELECT pg_catalog.gin_clean_pending_list('train_data.conversations_category_idx'::pg_catalog.regclass);
ALTER INDEX train_data.conversations_category_idx SET (gin_pending_list_limit = 64);
-- the policy's column: a user's calls read her own signatures, not everyone's
CREATE INDEX conversation_signatures_created_by_idx ON train_data.conversation_signatures (created_by);
ALTER TABLE train_data.conversation_signatures ENABLE ROW LEVEL SECURITY;
-- (read only: train_data writes them, as the extension owner; a signature a
-- user planted made her own completions fail)
CREATE POLICY conversation_signatures_owner ON train_data.conversation_signatures FOR SELECT
    USING (created_by = (SELECT train_data.current_user_id()));
SELECT pg_catalog.pg_extension_config_dump('train_data.conversation_signatures', '');
-- Every stored conversation signed, in one pass over the turns: grouped,
-- not looked up conversation by conversation.  (A subquery per
-- conversation was evaluated three times, once for each use of its
-- value, and read the turns through unique_conversation_turn, which this
-- transaction made again after writing the turns' owners: once that
-- write was a HOT update, the new index was unusable until the update
-- committed, and each lookup read every turn.  An adversarial review
-- measured 45 s for 2,000 conversations, 8 minutes for 10,000, while the
-- update held every table.)  The turns' owner is their conversation's,
-- set above.
INSERT INTO train_data.conversation_signatures (conversation_id, created_by, signature, bands)
SELECT x.conversation_id, x.created_by, x.sig, train_data.minhash_bands(x.sig)
FROM (SELECT t.conversation_id, t.created_by,
             train_data.minhash_signature_agg(t.content ORDER BY t.turn_number) AS sig
      FROM train_data.conversation_turns t
      GROUP BY t.conversation_id, t.created_by) x
WHERE x.sig IS NOT NULL;

-- Recompute the signatures of the conversations whose turns a statement
-- wrote (once per conversation and statement, from the transition table).
-- It runs as the extension owner (SECURITY DEFINER): whoever may write
-- turns has their signature kept without a grant on the signatures (a 1.1
-- site's grants predate the table); it follows only the conversations of
-- the rows the statement wrote (old and new), which row-level security and
-- the composite key made the writer's, and gives each signature the turns'
-- owner.
CREATE FUNCTION train_data.conversation_turns_signature() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the locks' plans kept, not made again for each array of ids
    SET enable_seqscan = off   -- and each an index lookup, whatever the statistics say
AS $$
DECLARE
    ids uuid[];
BEGIN
    -- One writer of a conversation's turns at a time: its row is locked (the
    -- conversations in id order) before the turns are read, so that a writer
    -- who waited for another reads, with a snapshot taken after the other's
    -- commit, the turns both wrote.  (Its signature is no lock for this: a
    -- writer that clears the turns deletes it, and one that adds the first
    -- creates it, so two writers could lock two different rows.)  At
    -- REPEATABLE READ, whose snapshot is older, the signatures are locked
    -- too: one another writer changed or removed since fails with 40001,
    -- instead of being signed again from the turns the snapshot saw.  Only
    -- the writer's conversations: row-level security and the composite key
    -- made them hers.  (The ids as an array, each looked up in the index.)
    IF TG_OP = 'UPDATE' THEN
        ids := ARRAY(SELECT t.conversation_id FROM changed_turns t
                     UNION SELECT t.conversation_id FROM old_turns t);
    ELSE
        ids := ARRAY(SELECT DISTINCT t.conversation_id FROM changed_turns t);
    END IF;
    PERFORM FROM train_data.conversations c
    WHERE c.id = ANY (ids) ORDER BY c.id FOR NO KEY UPDATE OF c;
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        PERFORM FROM train_data.conversation_signatures s
        WHERE s.conversation_id = ANY (ids) ORDER BY s.conversation_id FOR NO KEY UPDATE OF s;
    END IF;
    IF TG_OP = 'DELETE' THEN
        DELETE FROM train_data.conversation_signatures s
        WHERE s.conversation_id IN (SELECT t.conversation_id FROM changed_turns t)
          AND NOT EXISTS (SELECT 1 FROM train_data.conversation_turns t WHERE t.conversation_id = s.conversation_id);
    ELSIF TG_OP = 'UPDATE' THEN
        -- turns moved to another conversation: the one they left is signed
        -- again, or loses its signature when it has no turn left
        DELETE FROM train_data.conversation_signatures s
        WHERE s.conversation_id IN (SELECT t.conversation_id FROM old_turns t)
          AND NOT EXISTS (SELECT 1 FROM train_data.conversation_turns t WHERE t.conversation_id = s.conversation_id);
        INSERT INTO train_data.conversation_signatures AS s (conversation_id, created_by, signature, bands)
        SELECT x.conversation_id, x.created_by, sig.v, train_data.minhash_bands(sig.v)
        FROM (SELECT DISTINCT t.conversation_id, t.created_by FROM old_turns t
              WHERE NOT EXISTS (SELECT 1 FROM changed_turns n WHERE n.conversation_id = t.conversation_id)) x
        CROSS JOIN LATERAL (SELECT train_data.minhash_signature_agg(t.content ORDER BY t.turn_number) AS v
                            FROM train_data.conversation_turns t WHERE t.conversation_id = x.conversation_id) sig
        WHERE sig.v IS NOT NULL
        ON CONFLICT (conversation_id) DO UPDATE SET signature = excluded.signature, bands = excluded.bands;
    END IF;
    INSERT INTO train_data.conversation_signatures AS s (conversation_id, created_by, signature, bands)
    SELECT x.conversation_id, x.created_by, sig.v, train_data.minhash_bands(sig.v)
    FROM (SELECT DISTINCT t.conversation_id, t.created_by FROM changed_turns t) x
    CROSS JOIN LATERAL (SELECT train_data.minhash_signature_agg(t.content ORDER BY t.turn_number) AS v
                        FROM train_data.conversation_turns t WHERE t.conversation_id = x.conversation_id) sig
    WHERE sig.v IS NOT NULL
    ON CONFLICT (conversation_id) DO UPDATE SET signature = excluded.signature, bands = excluded.bands;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION train_data.conversation_turns_signature() FROM PUBLIC;
-- (the aggregate's steps are checked as its owner's, whoever calls it)
REVOKE ALL ON FUNCTION train_data.minhash_signature_agg_add(internal, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.minhash_signature_agg_finish(internal) FROM PUBLIC;
-- (except the turns a completion inserts: it writes their signature itself,
-- from the parsed turns, and says so in train_data.engine_signs_turns,
-- which only the extension owner's statements are believed about)
CREATE TRIGGER conversation_turns_signature_insert
    AFTER INSERT ON train_data.conversation_turns
    REFERENCING NEW TABLE AS changed_turns
    FOR EACH STATEMENT
    WHEN (NOT (train_data.engine_context()
               AND pg_catalog.current_setting('train_data.engine_signs_turns', true) OPERATOR(pg_catalog.=) 'on'))
    EXECUTE FUNCTION train_data.conversation_turns_signature();
CREATE TRIGGER conversation_turns_signature_update
    AFTER UPDATE ON train_data.conversation_turns
    REFERENCING OLD TABLE AS old_turns NEW TABLE AS changed_turns
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.conversation_turns_signature();
CREATE TRIGGER conversation_turns_signature_delete
    AFTER DELETE ON train_data.conversation_turns
    REFERENCING OLD TABLE AS changed_turns
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.conversation_turns_signature();

-- Which candidate pairs of near_duplicates name a conversation to drop:
-- each once, for the best ranked of its near conversations that is kept
-- itself (native, src/kept_glue.c).
CREATE FUNCTION train_data.near_duplicates_kept(d uuid[], k uuid[], similarity real[])
    RETURNS TABLE (conversation_id uuid, duplicate_of uuid, similarity real)
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_near_duplicates_kept';
COMMENT ON FUNCTION train_data.near_duplicates_kept(uuid[], uuid[], real[]) IS
    'Internal step of near_duplicates: of candidate pairs (d near k, k ranked first) sorted by d''s rank then k''s, each d with the first of its k''s that is not dropped itself; a d with none is kept';

-- A conversation's text as its signature reads it: the contents of its
-- turns in order, joined with spaces (minhash_signature_agg's words); NULL
-- without turns.  Runs as the caller: row-level security decides.
CREATE FUNCTION train_data.conversation_text(conversation_id uuid)
    RETURNS text
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT string_agg(t.content, ' ' ORDER BY t.turn_number)
    FROM train_data.conversation_turns t
    WHERE t.conversation_id = conversation_text.conversation_id;
END;

COMMENT ON FUNCTION train_data.conversation_text(uuid) IS
    'A conversation''s text as its signature reads it: its turns'' contents in order, joined with spaces; NULL without turns';

-- The exact similarities of near_duplicates' pairs with exact: element i
-- the Jaccard similarity of the shingle sets of conversations d[i] and
-- k[i]'s texts (conversation_text, read as the caller), NULL when either
-- has none; each text read and made a set once while the sets fit in
-- work_mem × hash_mem_multiplier (native, src/exact_pairs_glue.c).
CREATE FUNCTION train_data.shingle_pair_similarities(d uuid[], k uuid[])
    RETURNS real[]
    LANGUAGE c STABLE STRICT
    AS 'MODULE_PATHNAME', 'train_data_shingle_pair_similarities';
COMMENT ON FUNCTION train_data.shingle_pair_similarities(uuid[], uuid[]) IS
    'Internal step of near_duplicates with exact: the exact Jaccard similarity of the shingle sets of the texts of conversations d[i] and k[i] (conversation_text, as the caller), NULL when either has none';

-- Near duplicates among the conversations the caller can see: pairs that
-- share an LSH band key and whose estimated Jaccard similarity (MinHash) is
-- at least threshold.  Each row names a conversation to drop and the one it
-- duplicates, the one kept: of each pair, the higher quality score, then the
-- older, then the smaller id.  A conversation near several kept ones names
-- the best of those it is compared with; one near only conversations that
-- are dropped themselves is kept (greedy in rank order: of a chain A, B, C
-- where B is near A and C near B only, B is dropped and C kept).  Exact duplicates (similarity 1)
-- are always found.  With among, only those conversations are compared
-- and ranked (an export's own selection: a conversation it writes is never
-- dropped for a copy it leaves out); NULL compares every one.  With exact,
-- the similarity of each pair the estimate puts near the threshold is
-- measured on the two texts (shingle_jaccard): an estimate is within 0.04
-- or so of it (128 slots), which on texts sharing most of their words (a
-- template's boilerplate) named distinct conversations duplicates; the
-- candidates still come from the band keys.
-- The work is linear in the conversations, whatever their text: in each
-- band's bucket a conversation is compared with the 8 best ranked above it
-- only, and conversations with the same signature with the best of them (a
-- bucket of 4,000 copies of one text made 8 million comparisons).  A
-- conversation whose only kept neighbours in a crowded bucket rank below
-- its 8 best is not named, and one whose best kept neighbour is there names
-- the best of the others (docs/reference.md#near_duplicates).
-- Linear whatever the statistics say, too: for a user they put at one or
-- two rows (a user's rows are estimated as the average user's), the
-- candidates were joined to their signatures in a nested loop, each pair
-- read against every conversation (5,000 conversations: 42 s instead of
-- 0.35 s; test/t/017_stale_statistics.pl).  Nested loops are off but
-- where nothing else can join (the band keys, the last step), and among's
-- conversations are found by index scans of its ids, not by a join.
CREATE FUNCTION train_data.near_duplicates(threshold real DEFAULT 0.8, among uuid[] DEFAULT NULL,
                                           exact boolean DEFAULT false)
    RETURNS TABLE (conversation_id uuid, duplicate_of uuid, similarity real)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_custom_plan   -- planned for the call's among: NULL reads every signature, ids look theirs up
    SET jit = off   -- (the estimates of the candidates' joins are far above the real counts: compiling cost more than running)
    SET enable_nestloop = off   -- the sets joined by hashing, however few rows the statistics promise (above)
AS $$
DECLARE
    -- under the stock policy alone, the caller's rows are those with her
    -- id: said in the statement, planned with it, they are read through
    -- the owner's indexes (the policy's condition alone, its value unknown
    -- when planning, read every user's conversations and filtered them:
    -- 91 ms against 8 ms beside another user's 300,000, a review of 1.2)
    mine_only boolean := train_data.conversations_owner_only();
    owner uuid := CASE WHEN mine_only THEN train_data.current_user_id() END;   -- (not read otherwise)
BEGIN
    IF exact IS NULL THEN
        RAISE EXCEPTION 'exact must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF threshold IS NULL OR threshold <= 0 OR threshold > 1 THEN
        RAISE EXCEPTION 'threshold must be above 0 and at most 1, not %', coalesce(threshold::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN QUERY
    -- each signature with its conversation's rank: the one kept of a pair is
    -- the one ranked first (higher quality, else older, else smaller id)
    WITH sig AS (
        SELECT s.conversation_id AS id, s.signature, s.bands,
               row_number() OVER (ORDER BY coalesce(c.quality_score, -1) DESC, c.created_at, s.conversation_id) AS rank
        FROM (SELECT s.conversation_id, s.signature, s.bands
              FROM train_data.conversation_signatures s
              WHERE among IS NULL AND (NOT mine_only OR s.created_by = owner)
              UNION ALL
              -- (the ids looked up, not every signature scanned for them)
              SELECT s.conversation_id, s.signature, s.bands
              FROM train_data.conversation_signatures s
              WHERE s.conversation_id = ANY (among)) s
        JOIN train_data.conversations c ON c.id = s.conversation_id AND (among IS NULL OR c.id = ANY (among))
                                         AND (NOT mine_only OR c.created_by = owner)
        -- (a text without a word has the empty signature, the same for all:
        -- not a duplicate of another such text, found by a review of 1.2)
        WHERE NOT s.signature <@ '{-1}'::integer[]),
    -- band keys (16 per conversation), numbered by rank within their bucket
    keys AS (
        SELECT g.id, k.key, row_number() OVER (PARTITION BY k.key ORDER BY g.rank) AS pos
        FROM sig g, unnest(g.bands) AS k(key)),
    -- candidates (d, to drop, and k, ranked before it): the 8 first of each
    -- bucket d is in, and the first of the conversations with d's signature;
    -- each pair once
    candidates AS (
        SELECT a.id AS d, b.id AS k
        FROM keys a JOIN keys b ON b.key = a.key AND b.pos < a.pos AND b.pos <= 8
        UNION
        SELECT x.id, x.first
        FROM (SELECT g.id, first_value(g.id) OVER (PARTITION BY g.signature ORDER BY g.rank) AS first
              FROM sig g) x
        WHERE x.id <> x.first),
    -- (materialized: the threshold is applied to the candidates' pairs, not
    -- pushed down into a join of every signature with every other)
    pairs AS MATERIALIZED (
        SELECT c.d, c.k, sd.rank AS d_rank, sk.rank, train_data.minhash_similarity(sd.signature, sk.signature) AS sim
        FROM candidates c
        JOIN sig sd ON sd.id = c.d
        JOIN sig sk ON sk.id = c.k),
    -- with exact, the pairs estimated up to 0.1 below the threshold (2.5
    -- standard errors of the estimate at 0.8) are measured on their texts,
    -- as their signatures read them, in one call grouped by d
    -- (shingle_pair_similarities: each conversation's text read by its id
    -- and made a set when a pair first needs it, the sets kept while
    -- memory allows; a set carried on each pair's row wrote gigabytes of
    -- temporary files on long texts near each other)
    near AS MATERIALIZED (
        SELECT p.* FROM pairs p
        WHERE p.sim >= CASE WHEN exact THEN threshold - 0.1 ELSE threshold END),
    measured AS MATERIALIZED (
        SELECT n.d, n.k, n.d_rank, n.rank, n.sim FROM near n WHERE NOT exact
        UNION ALL
        SELECT u.d, u.k, u.d_rank, u.rank, u.sim
        FROM (SELECT array_agg(n.d ORDER BY n.d_rank, n.rank) AS d, array_agg(n.k ORDER BY n.d_rank, n.rank) AS k,
                     array_agg(n.d_rank ORDER BY n.d_rank, n.rank) AS d_rank,
                     array_agg(n.rank ORDER BY n.d_rank, n.rank) AS rank
              FROM near n WHERE exact) a
        CROSS JOIN LATERAL unnest(a.d, a.k, a.d_rank, a.rank, train_data.shingle_pair_similarities(a.d, a.k))
            AS u(d, k, d_rank, rank, sim))
    -- each d dropped for the best ranked of its k's that is kept itself,
    -- greedily in rank order: near k's are all dropped, d is kept
    SELECT g.conversation_id, g.duplicate_of, g.similarity
    FROM (SELECT array_agg(m.d ORDER BY m.d_rank, m.rank) AS d, array_agg(m.k ORDER BY m.d_rank, m.rank) AS k,
                 array_agg(m.sim ORDER BY m.d_rank, m.rank) AS sim
          FROM measured m
          WHERE m.sim >= threshold) a
    CROSS JOIN LATERAL train_data.near_duplicates_kept(a.d, a.k, a.sim) g;
END
$$;

-- review_queue gains its defect filter (a new argument: a new signature).
-- The old one is renamed, its privileges carried to the new one below, and
-- then dropped.
ALTER FUNCTION train_data.review_queue(integer, integer, text, text, numeric) RENAME TO review_queue_1_1;
-- Conversations waiting for review (pending_review), a page at a time:
-- lowest quality and oldest first by default.
CREATE FUNCTION train_data.review_queue(page integer DEFAULT 1, page_size integer DEFAULT 25,
                                        sort_by text DEFAULT 'quality_score', sort_order text DEFAULT 'asc',
                                        min_quality numeric DEFAULT NULL, defect text DEFAULT NULL)
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
    IF sort_order IS NULL OR octet_length(sort_order) > 4 OR lower(sort_order) NOT IN ('asc', 'desc') THEN
        RAISE EXCEPTION 'sort_order must be asc or desc, not %', train_data.clip_for_message(sort_order)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_quality < 0 OR min_quality > 10 THEN
        RAISE EXCEPTION 'min_quality must be between 0 and 10, not %', train_data.clip_for_message(min_quality::text)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF defect IS NOT NULL AND NOT EXISTS (SELECT 1 FROM train_data.quality_defect_codes() d WHERE d.code = defect) THEN
        RAISE EXCEPTION 'defect must be a code of quality_defect_codes(), not %', train_data.clip_for_message(defect)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- sort_by and sort_order are checked against fixed lists above
    RETURN QUERY EXECUTE format(
        'SELECT * FROM train_data.conversations c
         WHERE c.status = ''pending_review'' AND ($1 IS NULL OR c.quality_score >= $1)
           AND ($4 IS NULL OR (c.has_defects AND c.quality_metrics -> ''defects'' ? $4))
         ORDER BY c.%s %s, c.created_at, c.id LIMIT $2 OFFSET $3',
        sort_by, lower(sort_order))
    USING min_quality, page_size, (page::bigint - 1) * page_size, defect;
END
$$;

-- (the old one's privileges are carried below, with template_performance's)

-- Whether the caller reads conversations through their stock policy alone:
-- row-level security applies to her on the table, and no other permissive
-- policy for reading it is defined (a site may add one, for a team's
-- viewers, say).  Her rows are then exactly those with her id, and the
-- statistics, reports and exports say so in their statements, planned with
-- her id, so that they read her rows through the owner's index; with
-- another policy they leave the rows to the policies (found by a review of
-- 1.2: a site's viewer policy was ignored).
-- Whether the caller's rows of a table are exactly those of its stock
-- owner policy: row-level security applies to her on rel, and no other
-- permissive policy for reading or updating it is defined.
CREATE FUNCTION train_data.owner_policy_only(rel pg_catalog.regclass, stock_policy name)
    RETURNS boolean
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT pg_catalog.row_security_active(rel)
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_policy p
                       WHERE p.polrelid OPERATOR(pg_catalog.=) rel
                         AND p.polpermissive AND p.polcmd OPERATOR(pg_catalog.=) ANY ('{r,w,*}'::"char"[])
                         AND p.polname OPERATOR(pg_catalog.<>) stock_policy);
END;

COMMENT ON FUNCTION train_data.owner_policy_only(pg_catalog.regclass, name) IS
    'Internal: true when row-level security applies to the caller on rel and no permissive policy for reading or updating it but stock_policy is defined (her rows are those with her id)';

CREATE FUNCTION train_data.conversations_owner_only()
    RETURNS boolean
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT train_data.owner_policy_only('train_data.conversations'::pg_catalog.regclass, 'conversations_owner');
END;

COMMENT ON FUNCTION train_data.conversations_owner_only() IS
    'Internal: true when row-level security applies to the caller on conversations and no permissive policy for reading or updating them but conversations_owner is defined (her rows are those with her id)';

-- Statistics of the conversations the caller can see.
CREATE OR REPLACE FUNCTION train_data.conversation_statistics()
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    mine_only boolean := train_data.conversations_owner_only();
    result jsonb;
BEGIN
    -- Under the stock policy alone (conversations_owner_only) the statement
    -- says itself that the rows are the caller's, planned with her id
    -- (EXECUTE): PostgreSQL then reads them through the owner's index.  The
    -- policy's condition alone, its value unknown when planning, is
    -- estimated as the average user's share, so that a user with few rows
    -- read every user's (in each of the four scans) when one user held most
    -- of them.  The rows are those the policy lets her see either way; with
    -- a site's policy beside it, or for a role the policies do not apply to
    -- (the table's owner), the policies decide, as before.
    EXECUTE format($q$
        SELECT jsonb_build_object(
            'total', count(*),
            'byTier', (SELECT coalesce(jsonb_object_agg(t.tier, t.n), '{}')
                       FROM (SELECT c2.tier, count(*) AS n FROM train_data.conversations c2
                             WHERE %1$s GROUP BY c2.tier) t),
            'byStatus', (SELECT coalesce(jsonb_object_agg(t.status, t.n), '{}')
                         FROM (SELECT c2.status, count(*) AS n FROM train_data.conversations c2
                               WHERE %1$s GROUP BY c2.status) t),
            'avgQualityScore', round(avg(c.quality_score), 1),
            'qualityBands', jsonb_build_object(
                'excellent', count(*) FILTER (WHERE c.quality_score >= 8),
                'good', count(*) FILTER (WHERE c.quality_score >= 6 AND c.quality_score < 8),
                'fair', count(*) FILTER (WHERE c.quality_score >= 4 AND c.quality_score < 6),
                'poor', count(*) FILTER (WHERE c.quality_score < 4)),
            'totalTokens', coalesce(sum(c.total_tokens), 0),
            'totalCost', coalesce(sum(c.actual_cost_usd), 0),
            'avgTurnsPerConversation', round(avg(c.turn_count), 1),
            'approvalRate', round(count(*) FILTER (WHERE c.status = 'approved')::numeric
                                  / nullif(count(*) FILTER (WHERE c.status IN ('approved', 'rejected')), 0), 3),
            'pendingReview', count(*) FILTER (WHERE c.status = 'pending_review'),
            'withDefects', count(*) FILTER (WHERE c.has_defects),
            -- (has_defects: "defects" is a non-empty array, whatever else a
            -- user wrote into her own metrics)
            'byDefect', (SELECT coalesce(jsonb_object_agg(d.code, d.n), '{}')
                         FROM (SELECT e.code, count(*) AS n
                               FROM train_data.conversations c2,
                                    jsonb_array_elements_text(c2.quality_metrics -> 'defects') AS e(code)
                               WHERE %1$s AND c2.has_defects
                                 AND e.code IS NOT NULL   -- (a JSON null in a user's own array)
                               GROUP BY e.code) d))
        FROM train_data.conversations c
        WHERE %2$s
        $q$,
        CASE WHEN mine_only THEN 'c2.created_by = $1' ELSE 'true' END,
        CASE WHEN mine_only THEN 'c.created_by = $1' ELSE 'true' END)
    INTO result
    USING CASE WHEN mine_only THEN train_data.current_user_id() END;
    RETURN result;
END
$$;

-- The conversations of an export, and the dataset report.
-- The conversation of the same batch whose text a new conversation's turns
-- nearly repeat: the most similar (estimated Jaccard similarity at least
-- threshold, through the band index), then the oldest — as the
-- duplicate_in_batch entry of defectDetails, or NULL.  Only the owner's
-- conversations completed for items of job_id are compared, and of those
-- only the ones that may still reach a training file: not one with a hard
-- defect, rejected, archived or failed (a clean copy of a conversation
-- that is left out is the first usable one, not a duplicate).  A step of
-- complete_batch_item (which runs it as the extension owner, having checked
-- the item's lease): not for direct calls.
CREATE FUNCTION train_data.batch_duplicate(job_id uuid, owner uuid, turns jsonb, threshold real)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sig integer[];
    keys bigint[];
    hit record;
BEGIN
    IF threshold IS NULL OR NOT (threshold > 0 AND threshold <= 1) THEN
        RETURN NULL;
    END IF;
    sig := train_data.conversation_text_signature(turns);
    IF sig <@ '{-1}'::integer[] THEN
        RETURN NULL;   -- no word: the empty signature, not a duplicate of another
    END IF;
    keys := train_data.minhash_bands(sig);
    SELECT s.conversation_id, train_data.minhash_similarity(s.signature, sig) AS similarity, c.created_at
    INTO hit
    FROM train_data.conversation_signatures s
    JOIN train_data.batch_items i ON i.conversation_id = s.conversation_id AND i.batch_job_id = job_id
    JOIN train_data.conversations c ON c.id = s.conversation_id
    WHERE s.bands && keys AND s.created_by = owner
      AND train_data.minhash_similarity(s.signature, sig) >= threshold
      AND c.status NOT IN ('rejected', 'archived', 'failed')
      AND NOT train_data.metrics_have_hard_defects(c.quality_metrics)
    ORDER BY 2 DESC, c.created_at, s.conversation_id
    LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- numbers, not reals: a real in jsonb is written with the session's
    -- extra_float_digits (a worker at -15 stored 0.9 for 0.90625); the
    -- similarity is a multiple of 1/128, exact as a double
    RETURN jsonb_build_object('turn', NULL, 'measure', 'minhash_similarity',
                              'value', hit.similarity::double precision::numeric,
                              'threshold', threshold::numeric, 'duplicateOf', hit.conversation_id);
END
$$;

-- Metrics with the duplicate_in_batch defect added (details not NULL):
-- appended to defects, its details under defectDetails, the severity soft
-- unless already hard.  Metrics unchanged for NULL details.
CREATE FUNCTION train_data.with_batch_duplicate(metrics jsonb, details jsonb)
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
               WHEN details IS NULL OR pg_catalog.jsonb_typeof(details) IS DISTINCT FROM 'object'
                    OR pg_catalog.jsonb_typeof(metrics) IS DISTINCT FROM 'object' THEN metrics
               ELSE metrics OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object(
                   'defects', (SELECT coalesce(pg_catalog.jsonb_agg(d.code), '[]')
                               FROM pg_catalog.jsonb_array_elements_text(
                                        coalesce(metrics OPERATOR(pg_catalog.->) 'defects', '[]')) AS d(code)
                               WHERE d.code OPERATOR(pg_catalog.<>) 'duplicate_in_batch')
                              OPERATOR(pg_catalog.||) '["duplicate_in_batch"]'::jsonb,
                   'defectDetails', coalesce(metrics OPERATOR(pg_catalog.->) 'defectDetails', '{}')
                                    OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('duplicate_in_batch', details),
                   'defectSeverity', CASE WHEN metrics OPERATOR(pg_catalog.->>) 'defectSeverity' OPERATOR(pg_catalog.=) 'hard'
                                          THEN 'hard' ELSE 'soft' END)
           END;
END;

-- The expectation a stored conversation's parameters hold, when
-- quality_metrics() accepts it, else NULL (native): judging a conversation
-- again keeps what its template expects, without failing on one 1.1 or a
-- user's edit left malformed.
CREATE FUNCTION train_data.usable_expectation(expected jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_usable_expectation';
COMMENT ON FUNCTION train_data.usable_expectation(jsonb) IS
    'Internal: the expectation when quality_metrics(turns, expected) accepts it, else NULL';

-- The stored turns of a conversation, in order, as quality_metrics()
-- reads them: [{role, content}, ...], [] for none.
CREATE FUNCTION train_data.stored_turns(conversation_id uuid)
    RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    RETURN coalesce((SELECT jsonb_agg(jsonb_build_object('role', t.role, 'content', t.content) ORDER BY t.turn_number)
                     FROM train_data.conversation_turns t WHERE t.conversation_id = stored_turns.conversation_id),
                    '[]');
COMMENT ON FUNCTION train_data.stored_turns(uuid) IS
    'Internal: the stored turns of a conversation in order, as quality_metrics() reads them ([] for none)';

-- Score conversations again from their stored turns, as the caller (her
-- policies decide which of ids she may change); returns the rows updated.
-- Judged against the template's expectation its parameters hold
-- (expectedTurns, as the completion did), when usable.  Whole (verdicts_only
-- false: score_conversation): the metrics, the score and the turn count.
-- The verdicts only (the turns' statement triggers): the metrics' defects,
-- defectDetails and defectSeverity and the turn count follow the turns, the
-- score and the other metrics stay as a completion, score_conversation or
-- the user set them.  Either way the mark a completion gave a near copy of
-- its batch stays: it is no verdict on the turns.
-- Each row is found by its id and judged in its own sub-select, once.  (A
-- join of the ids with the conversations, planned for the one or two rows
-- the statistics gave the user, became a nested loop reading all of her
-- conversations again for each id: 2,000 conversations' turns written in
-- one statement compared 4 million pairs, or judged 4 million times, and
-- the suite under valgrind stalled there for 40 minutes;
-- test/t/017_stale_statistics.pl.)
CREATE FUNCTION train_data.rescore_conversations(ids uuid[], verdicts_only boolean)
    RETURNS SETOF train_data.conversations
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    UPDATE train_data.conversations c
    SET (quality_metrics, quality_score, turn_count) = (
        SELECT train_data.with_batch_duplicate(
                   CASE WHEN rescore_conversations.verdicts_only
                        THEN coalesce(c.quality_metrics, '{}')
                             || jsonb_build_object('defects', v.m -> 'defects', 'defectDetails', v.m -> 'defectDetails',
                                                   'defectSeverity', v.m -> 'defectSeverity')
                        ELSE v.m END,
                   c.quality_metrics -> 'defectDetails' -> 'duplicate_in_batch'),
               CASE WHEN rescore_conversations.verdicts_only THEN c.quality_score
                    ELSE (v.m ->> 'overall')::numeric END,
               v.n
        FROM (SELECT train_data.quality_metrics(s.turns, train_data.usable_expectation(c.parameters -> 'expectedTurns')) AS m,
                     jsonb_array_length(s.turns) AS n
              FROM (SELECT train_data.stored_turns(c.id) AS turns OFFSET 0) s
              OFFSET 0) v)   -- (each conversation's metrics computed once)
    WHERE c.id = ANY (rescore_conversations.ids)
    RETURNING c.*;
END;
COMMENT ON FUNCTION train_data.rescore_conversations(uuid[], boolean) IS
    'Internal: scores the conversations again from their stored turns, as the caller: whole (metrics, score, turn count) or their defect verdicts and turn count only; returns the rows updated';

-- score_conversation keeps the duplicate_in_batch mark a completion gave,
-- through rescore_conversations(), which the turns' triggers share.  Its
-- row is locked first, as a writer of its turns does: a score waits for a
-- writer, and is then judged by a statement whose snapshot has the
-- writer's turns (judging at once stored the verdict of the turns from
-- before: a review of 1.2).
CREATE OR REPLACE FUNCTION train_data.score_conversation(conversation_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m jsonb;
BEGIN
    PERFORM FROM train_data.conversations c WHERE c.id = score_conversation.conversation_id FOR NO KEY UPDATE OF c;
    SELECT r.quality_metrics INTO m FROM train_data.rescore_conversations(ARRAY[score_conversation.conversation_id], false) r;
    IF NOT FOUND THEN
        IF score_conversation.conversation_id IS NULL THEN
            RAISE EXCEPTION 'conversation id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'conversation % does not exist', score_conversation.conversation_id
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN m;
END
$$;

-- Judge again the conversations whose turns a statement wrote (from the
-- transition table, as the signatures): their defect verdicts follow their
-- turns (rescore_conversations, verdicts only).
-- An edited turn kept its conversation's old verdict, which the exports
-- trust (a review of 1.2: a placeholder and a chat token written into a
-- scored conversation went into the training file).  Runs as the writer,
-- under her policies: her conversations only, whose rows the signature
-- trigger (before this one by name) has locked in id order.  Not in a
-- restore (row security off for a role that bypasses it), which loads the
-- verdicts as they were stored, nor for a completion's turns (the trigger's
-- WHEN), which it scores itself.
CREATE FUNCTION train_data.conversation_turns_verdicts() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    problem text;
BEGIN
    IF current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active('train_data.conversations') THEN
        RETURN NULL;
    END IF;
    -- (turns that cannot be read as one JSON document -- over 256 MB, or,
    -- in a SQL_ASCII database, bytes that are not UTF-8 -- are still
    -- written: their verdicts stay, with a warning)
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            PERFORM FROM train_data.rescore_conversations(ARRAY(SELECT t.conversation_id FROM changed_turns t
                                                                UNION SELECT t.conversation_id FROM old_turns t), true);
        ELSE
            PERFORM FROM train_data.rescore_conversations(ARRAY(SELECT DISTINCT t.conversation_id FROM changed_turns t),
                                                          true);
        END IF;
    EXCEPTION WHEN program_limit_exceeded OR character_not_in_repertoire OR untranslatable_character THEN
        GET STACKED DIAGNOSTICS problem = MESSAGE_TEXT;
        RAISE WARNING 'the defect verdicts of the conversations whose turns this statement wrote were not judged again: %',
                      problem
            USING HINT = 'score_conversation() reads the turns the same way, as one JSON document.';
    END;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION train_data.conversation_turns_verdicts() IS
    'Internal: statement trigger on conversation_turns judging again the defect verdicts of the conversations a statement wrote (transition table changed_turns), as the writer';
REVOKE ALL ON FUNCTION train_data.conversation_turns_verdicts() FROM PUBLIC;

CREATE TRIGGER conversation_turns_verdicts_insert
    AFTER INSERT ON train_data.conversation_turns
    REFERENCING NEW TABLE AS changed_turns
    FOR EACH STATEMENT
    WHEN (NOT (train_data.engine_context()
               AND pg_catalog.current_setting('train_data.engine_signs_turns', true) OPERATOR(pg_catalog.=) 'on'))
    EXECUTE FUNCTION train_data.conversation_turns_verdicts();
CREATE TRIGGER conversation_turns_verdicts_update
    AFTER UPDATE ON train_data.conversation_turns
    REFERENCING OLD TABLE AS old_turns NEW TABLE AS changed_turns
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.conversation_turns_verdicts();
CREATE TRIGGER conversation_turns_verdicts_delete
    AFTER DELETE ON train_data.conversation_turns
    REFERENCING OLD TABLE AS changed_turns
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.conversation_turns_verdicts();

-- template_performance counts conversations with defects: two more columns
-- (a new result type: the old one is renamed, its privileges carried to the
-- new one below as review_queue's, and then dropped).
ALTER FUNCTION train_data.template_performance(interval, integer) RENAME TO template_performance_1_1;
-- Per template: usage, average quality, approval rate, performance level and
-- trend (of its 10 newest scores), and how many of its conversations have
-- defect verdicts (with_defects, defect_rate in percent), over the
-- conversations the caller can see, optionally only those created within
-- time_window.
CREATE FUNCTION train_data.template_performance(time_window interval DEFAULT NULL, min_usage integer DEFAULT 1)
    RETURNS TABLE (template_id uuid, template_name text, tier train_data.tier_type, usage_count bigint,
                   avg_quality numeric, approved_count bigint, rejected_count bigint, approval_rate numeric,
                   performance text, trend text, last_used timestamptz, with_defects bigint,
                   defect_rate numeric)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    mine_only boolean := train_data.conversations_owner_only();
BEGIN
    -- Under the stock policy alone the statement says that the rows are the
    -- caller's, planned with her id (EXECUTE), so that they are read through
    -- the owner's index, not among every user's conversations of a shared
    -- template (see conversation_statistics).  $1 time_window, $2
    -- min_usage, $3 her id.
    RETURN QUERY EXECUTE format($q$
        SELECT s.template_id, t.name, t.tier, s.n, s.avg_quality, s.approved, s.rejected, s.rate,
               CASE WHEN s.rate >= 85 AND s.avg_quality >= 8 THEN 'high'
                    WHEN s.rate < 70 OR s.avg_quality < 6 THEN 'low'
                    ELSE 'medium' END,
               train_data.quality_trend(ARRAY(SELECT r.quality_score FROM (
                   SELECT c2.quality_score, c2.created_at, c2.id FROM train_data.conversations c2
                   WHERE c2.template_id = s.template_id AND c2.quality_score IS NOT NULL AND %1$s
                     AND ($1 IS NULL OR c2.created_at >= now() - $1)
                   ORDER BY c2.created_at DESC, c2.id DESC LIMIT 10) r ORDER BY r.created_at, r.id)),
               s.last_used, s.with_defects, round(s.with_defects * 100.0 / s.n, 1)
        FROM (SELECT c.template_id, count(*) AS n, round(avg(c.quality_score), 2) AS avg_quality,
                     count(*) FILTER (WHERE c.status = 'approved') AS approved,
                     count(*) FILTER (WHERE c.status = 'rejected') AS rejected,
                     round(count(*) FILTER (WHERE c.status = 'approved') * 100.0 / count(*), 1) AS rate,
                     max(c.created_at) AS last_used,
                     count(*) FILTER (WHERE c.has_defects) AS with_defects
              FROM train_data.conversations c
              WHERE c.template_id IS NOT NULL AND %2$s AND ($1 IS NULL OR c.created_at >= now() - $1)
              GROUP BY c.template_id
              HAVING count(*) >= coalesce($2, 1)) s
        JOIN train_data.templates t ON t.id = s.template_id
        ORDER BY s.rate, s.avg_quality, t.name
        $q$,
        CASE WHEN mine_only THEN 'c2.created_by = $3' ELSE 'true' END,
        CASE WHEN mine_only THEN 'c.created_by = $3' ELSE 'true' END)
    USING time_window, min_usage, CASE WHEN mine_only THEN train_data.current_user_id() END;
END
$$;

-- A site's privileges on the 1.1 review_queue and template_performance,
-- carried to the new ones (before, they were dropped with them: a site
-- that had revoked them from PUBLIC found them executable by every role
-- again; a review of the update path).  Only where the site changed them:
-- the default (PUBLIC may execute) is 1.2's too.  Every grantee but the
-- owner, with its grant option, and PUBLIC revoked where the site had
-- revoked it.  They are the site's, not the extension's: no initial
-- privileges are kept for them (a fresh install has none), so that
-- pg_dump writes them.
DO $$
DECLARE
    f record;
    g record;
BEGIN
    FOR f IN
        SELECT n.old_fn, n.new_fn
        FROM (VALUES ('train_data.review_queue_1_1(integer,integer,text,text,numeric)'::pg_catalog.regprocedure,
                      'train_data.review_queue(integer,integer,text,text,numeric,text)'::pg_catalog.regprocedure),
                     ('train_data.template_performance_1_1(interval,integer)'::pg_catalog.regprocedure,
                      'train_data.template_performance(interval,integer)'::pg_catalog.regprocedure)) AS n(old_fn, new_fn)
        JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) n.old_fn
        WHERE p.proacl IS NOT NULL
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.new_fn);
        FOR g IN
            SELECT CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END
                       AS grantee,
                   CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END AS grant_option
            FROM pg_catalog.pg_proc p
            CROSS JOIN LATERAL pg_catalog.aclexplode(p.proacl) a
            WHERE p.oid OPERATOR(pg_catalog.=) f.old_fn
              AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE' AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
        LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s', f.new_fn, g.grantee, g.grant_option);
        END LOOP;
        DELETE FROM pg_catalog.pg_init_privs ip
        WHERE ip.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
          AND ip.objsubid OPERATOR(pg_catalog.=) 0
          AND ip.objoid OPERATOR(pg_catalog.=) f.new_fn;
    END LOOP;
END
$$;
DROP FUNCTION train_data.review_queue_1_1(integer, integer, text, text, numeric);
DROP FUNCTION train_data.template_performance_1_1(interval, integer);

-- The conversations an export with these arguments writes, in its order
-- (native: the export's own conditions, so the two cannot drift apart).
CREATE FUNCTION train_data.export_selection(scope text DEFAULT 'all', conversation_ids uuid[] DEFAULT NULL,
                                            filters jsonb DEFAULT NULL, options jsonb DEFAULT '{}')
    RETURNS SETOF uuid
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'train_data_export_selection';

-- Quantiles of a sample: count, min, p10, p50, p90, max and mean (NULL
-- members for an empty sample).
CREATE FUNCTION train_data.report_quantiles(sample double precision[])
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.jsonb_build_object(
        'count', count(v.x), 'min', min(v.x)::numeric,
        'p10', (percentile_cont(0.1) WITHIN GROUP (ORDER BY v.x))::numeric,
        'p50', (percentile_cont(0.5) WITHIN GROUP (ORDER BY v.x))::numeric,
        'p90', (percentile_cont(0.9) WITHIN GROUP (ORDER BY v.x))::numeric,
        'max', max(v.x)::numeric, 'mean', round(avg(v.x)::numeric, 2))
    FROM unnest(sample) AS v(x);
END;

-- The manifest of an export: what makes it reproducible and says what it
-- holds.  format, scope, filters, options and the ids given (scope
-- 'selected') are the export's arguments; rows and checksum (md5 of the
-- records joined by one newline) describe the file; templates (id, name,
-- version) and models (that answered successfully) are those of the
-- conversations written, as the caller sees them.  template_ids, when
-- given, are those conversations' templates, which the caller read with
-- them (dataset_report() and export_conversations() do): then the
-- conversations are not read again for them (they are taken as given,
-- not checked against conversation_ids).  Used by dataset_report()
-- and stored in export_logs.manifest by export_conversations().
CREATE FUNCTION train_data.export_manifest(format text, scope text, filters jsonb, options jsonb, ids uuid[],
                                           conversation_ids uuid[], "rows" bigint, checksum text,
                                           template_ids uuid[] DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT pg_catalog.jsonb_build_object(
        'format', format, 'scope', scope, 'filters', filters, 'options', options,
        'rows', "rows", 'checksum', checksum,
        'templates', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', t.id, 'name', t.name,
                                                                                         'version', t.version)
                                                           ORDER BY t.name, t.id), '[]')
                      FROM train_data.templates t
                      -- (the selection's templates found first, from its
                      -- conversations by id, unless given: as a semi-join the
                      -- planner may read every conversation of a shared
                      -- template instead, other users' too, and filter them
                      -- by the policies; the subquery runs only when needed)
                      WHERE t.id OPERATOR(pg_catalog.=) ANY (coalesce(template_ids, ARRAY(
                          SELECT DISTINCT c.template_id
                          FROM pg_catalog.unnest(conversation_ids) AS w(id)
                          JOIN train_data.conversations c ON c.id OPERATOR(pg_catalog.=) w.id)))),
        'models', (SELECT coalesce(pg_catalog.jsonb_agg(DISTINCT g.model_used ORDER BY g.model_used), '[]')
                   FROM pg_catalog.unnest(conversation_ids) AS w(id)
                   JOIN train_data.generation_logs g ON g.conversation_id OPERATOR(pg_catalog.=) w.id
                   WHERE g.status = 'success'
                     AND g.model_used IS NOT NULL))
        OPERATOR(pg_catalog.||) CASE WHEN ids IS NULL THEN '{}'::jsonb
                                     ELSE pg_catalog.jsonb_build_object('ids', ids) END;
END;
-- The vocabulary diversity of a corpus of texts (the turns of an export):
-- words (as MinHash cuts them: lower case, punctuation and apostrophes
-- ignored), distinct words, consecutive word pairs within a text, distinct
-- pairs, and the two ratios — a corpus of near copies has low ones.  Exact
-- up to 65,536 distinct words or pairs, then estimated by HyperLogLog
-- (standard error 0.8 %; "estimated": true), so memory stays under 2 MiB
-- whatever the corpus.
CREATE FUNCTION train_data.vocabulary_diversity_add(state internal, content text)
    RETURNS internal
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_vocabulary_diversity_add';
COMMENT ON FUNCTION train_data.vocabulary_diversity_add(internal, text) IS
    'Internal: transition of the vocabulary_diversity aggregate (the words of one more text)';
CREATE FUNCTION train_data.vocabulary_diversity_final(state internal)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_vocabulary_diversity_final';
COMMENT ON FUNCTION train_data.vocabulary_diversity_final(internal) IS
    'Internal: final function of the vocabulary_diversity aggregate';
REVOKE ALL ON FUNCTION train_data.vocabulary_diversity_add(internal, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.vocabulary_diversity_final(internal) FROM PUBLIC;
CREATE AGGREGATE train_data.vocabulary_diversity(text) (
    SFUNC = train_data.vocabulary_diversity_add,
    STYPE = internal,
    FINALFUNC = train_data.vocabulary_diversity_final
);
COMMENT ON AGGREGATE train_data.vocabulary_diversity(text) IS
    'Vocabulary diversity of the texts aggregated: {words, distinctWords, distinctWordRatio, pairs, distinctPairRatio, estimated}; exact up to 65,536 distinct values, then HyperLogLog (0.8 %)';

-- The md5 of texts joined by one newline, in the order aggregated (NULLs
-- skipped; md5('') of none): md5(coalesce(string_agg(t, E'\n'), '')) in
-- constant memory, where string_agg stops at 1 GB.  The checksum
-- export_conversations logs, which dataset_report gives for an export.
CREATE FUNCTION train_data.lines_md5_add(state internal, line text)
    RETURNS internal
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_lines_md5_add';
COMMENT ON FUNCTION train_data.lines_md5_add(internal, text) IS
    'Internal: transition of the lines_md5 aggregate (one more line)';
CREATE FUNCTION train_data.lines_md5_finish(state internal)
    RETURNS text
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_lines_md5_finish';
COMMENT ON FUNCTION train_data.lines_md5_finish(internal) IS
    'Internal: final function of the lines_md5 aggregate';
REVOKE ALL ON FUNCTION train_data.lines_md5_add(internal, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.lines_md5_finish(internal) FROM PUBLIC;
CREATE AGGREGATE train_data.lines_md5(text) (
    SFUNC = train_data.lines_md5_add,
    STYPE = internal,
    FINALFUNC = train_data.lines_md5_finish,
    FINALFUNC_MODIFY = READ_WRITE
);
COMMENT ON AGGREGATE train_data.lines_md5(text) IS
    'md5 of the texts aggregated joined by one newline, in constant memory (the checksum of an export''s lines; md5 of the empty string for none)';

-- One document describing the conversations an export with the same
-- filters and options writes (scope filtered when filters has a key, else
-- all): counts by status, tier, template and defect; near-duplicate
-- clusters among them; distributions as quantiles (turns, characters per
-- turn, tokens, quality); vocabulary diversity (vocabulary_diversity()
-- over the turns); and a manifest that makes the export reproducible
-- (export_manifest(): filters, options, rows, the md5 of the JSONL lines as
-- export_jsonl writes them, the templates with their versions, the models
-- that answered).  It reads the selection's turns twice (statistics, the
-- checksum's export) and its signatures once: seconds for 100,000
-- conversations, not a call for a hot path.
CREATE FUNCTION train_data.dataset_report(filters jsonb DEFAULT '{}', options jsonb DEFAULT '{}')
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    scope text;
    ids uuid[];
    deduped boolean;
    report jsonb;
BEGIN
    IF filters IS NULL OR jsonb_typeof(filters) <> 'object' THEN
        RAISE EXCEPTION 'dataset report filters must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    scope := CASE WHEN filters = '{}' THEN 'all' ELSE 'filtered' END;
    ids := ARRAY(SELECT train_data.export_selection(scope, NULL, CASE WHEN scope = 'filtered' THEN filters END,
                                                    coalesce(options, '{}')));
    -- (a dedupe export_selection has checked: a similarity, or absent)
    deduped := coalesce(jsonb_typeof(options -> 'dedupe') = 'number', false);
    WITH sel AS (
        SELECT c.* FROM unnest(ids) AS s(id) JOIN train_data.conversations c ON c.id = s.id),
    turns AS (
        SELECT t.conversation_id, t.content, t.token_count
        FROM unnest(ids) AS s(id) JOIN train_data.conversation_turns t ON t.conversation_id = s.id),
    -- (among the selection: what a dedupe of the export would drop; its
    -- pairs measured on their texts with the option dedupeExact, which
    -- export_selection has checked)
    dups AS (
        SELECT d.* FROM train_data.near_duplicates(0.8, ids, coalesce((options ->> 'dedupeExact')::boolean, false)) d)
    SELECT jsonb_build_object(
        'conversations', (SELECT count(*) FROM sel),
        'byStatus', (SELECT coalesce(jsonb_object_agg(x.k, x.n), '{}') FROM (SELECT s.status AS k, count(*) AS n FROM sel s GROUP BY 1) x),
        'byTier', (SELECT coalesce(jsonb_object_agg(x.k, x.n), '{}') FROM (SELECT s.tier AS k, count(*) AS n FROM sel s GROUP BY 1) x),
        'byTemplate', (SELECT coalesce(jsonb_object_agg(coalesce(x.k::text, 'none'), x.n), '{}')
                       FROM (SELECT s.template_id AS k, count(*) AS n FROM sel s GROUP BY 1) x),
        'byDefect', (SELECT coalesce(jsonb_object_agg(x.k, x.n), '{}')
                     FROM (SELECT d.code AS k, count(*) AS n
                           FROM sel s, jsonb_array_elements_text(s.quality_metrics -> 'defects') d(code)
                           WHERE s.has_defects AND d.code IS NOT NULL   -- (a non-empty array; a user may write nulls in it)
                           GROUP BY 1) x),
        'duplicates', jsonb_build_object('threshold', 0.8, 'exact', coalesce((options ->> 'dedupeExact')::boolean, false),
                                         'clusters', (SELECT count(DISTINCT d.duplicate_of) FROM dups d),
                                         'duplicateConversations', (SELECT count(*) FROM dups)),
        'distributions', jsonb_build_object(
            'turns', (SELECT train_data.report_quantiles(array_agg(x.n::float8))
                      FROM (SELECT count(t.conversation_id) AS n FROM sel s LEFT JOIN turns t ON t.conversation_id = s.id
                            GROUP BY s.id) x),
            'charactersPerTurn', (SELECT train_data.report_quantiles(array_agg(char_length(t.content)::float8)) FROM turns t),
            -- (the tokens of what a trainer reads, the turns: their
            -- token_count, else a quarter of their characters; not the
            -- generation's usage, whose prompt a trainer never sees)
            'tokens', (SELECT train_data.report_quantiles(array_agg(x.n::float8))
                       FROM (SELECT coalesce(sum(coalesce(t.token_count, (char_length(t.content) + 3) / 4)), 0) AS n
                             FROM sel s LEFT JOIN turns t ON t.conversation_id = s.id GROUP BY s.id) x),
            'quality', (SELECT train_data.report_quantiles(array_agg(s.quality_score::float8)) FROM sel s
                        WHERE s.quality_score IS NOT NULL)),
        'diversity', (SELECT train_data.vocabulary_diversity(t.content) FROM turns t),
        'manifest', train_data.export_manifest(
            'jsonl', scope, CASE WHEN scope = 'filtered' THEN filters END, coalesce(options, '{}'), NULL, ids,
            cardinality(ids),
            -- (in the export's order: WITH ORDINALITY gives it, no sort;
            -- with dedupe, the lines of the selection's ids, which the
            -- dedupe has left out already: its pairs are not measured a
            -- second time, and the lines are those the export writes,
            -- whose conditions the ids passed, in the same order)
            (SELECT train_data.lines_md5(l.line)
             FROM (SELECT e.line
                   FROM train_data.export_jsonl('original', CASE WHEN deduped THEN 'selected' ELSE scope END,
                                                CASE WHEN deduped THEN ids END,
                                                CASE WHEN scope = 'filtered' AND NOT deduped THEN filters END,
                                                CASE WHEN deduped THEN options - 'dedupe' - 'dedupeExact'
                                                     ELSE coalesce(options, '{}') END) WITH ORDINALITY AS e(line, n)
                   ORDER BY e.n) l),
            -- (the selection's templates, from the rows sel read once)
            ARRAY(SELECT DISTINCT s.template_id FROM sel s WHERE s.template_id IS NOT NULL)))
    INTO report;
    RETURN report;
END
$$;

-- The payloads are a few kilobytes of JSON, compressed once a row passes
-- 2 kB: with lz4 where the server was built with it (a log row costs a
-- third of the time pglz takes), else with the default.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_settings s
               WHERE s.name OPERATOR(pg_catalog.=) 'default_toast_compression'
                 AND 'lz4' OPERATOR(pg_catalog.=) ANY (s.enumvals)) THEN
        ALTER TABLE train_data.generation_logs ALTER COLUMN request_payload SET COMPRESSION lz4,
                                               ALTER COLUMN response_payload SET COMPRESSION lz4;
    END IF;
END
$$;

-- Who may execute what: the reviewed list (sql/src/13_privileges.sql).
-- claim_batch_items, heartbeat_batch_item, complete_batch_item and
-- fail_batch_item were revoked from PUBLIC above, where a 1.1 site's grants
-- are carried to them: a REVOKE here would take back its grant to PUBLIC.
REVOKE ALL ON FUNCTION train_data.fail_item(uuid, text, text, boolean, integer, jsonb, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.complete_batch_items(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.release_batch_item(uuid, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.release_worker_items(text, uuid[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION train_data.claim_request(jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claim_render(uuid, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claim_fail_item(train_data.batch_items, text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claim_lease_lost(uuid, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.stop_job(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.check_owed_job(uuid, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claim_final_failure(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.cancel_queued_items(uuid, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.owe_close_check(uuid, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.job_rows_free(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claimable_job_add(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.claimable_job_keep(uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.cancel_stranded_item(uuid, uuid, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_duplicate(uuid, uuid, jsonb, real) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.lock_item_in_flight(uuid, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.log_generation(uuid, uuid, uuid, jsonb, jsonb, integer, uuid, uuid, jsonb, text,
                                                 integer, integer, numeric, integer, text, text, integer, integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION train_data.touch_timestamps() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.inherit_owner() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.conversations_default_id() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.model_prices_protect_builtin() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_jobs_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_items_guard() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_items_prepare() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_jobs_reorder() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_items_queue_jobs() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.scenarios_before_write() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.edge_cases_before_write() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.validate_settings_row() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.ai_configurations_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.user_preferences_audit() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.conversations_check_transition() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.conversations_guard() FROM PUBLIC;


-- Descriptions: every function, type, table and column a user touches has one
-- (those 1.0 set with the same text are not repeated).

COMMENT ON FUNCTION train_data.touch_timestamps() IS
    'Trigger function (BEFORE INSERT OR UPDATE, FOR EACH ROW): sets each timestamptz column named in the trigger arguments to now(); usable on your own tables';

COMMENT ON FUNCTION train_data.render_template(text, jsonb, jsonb, boolean) IS
    'Renders a template text with parameters checked against the declared variables; returns {resolved, parameters, missing_required, errors, warnings, success}';

COMMENT ON FUNCTION train_data.check_template(text, jsonb) IS
    'True when a template can be stored (well-formed variables, only safe placeholders); otherwise raises an error saying what is wrong';

COMMENT ON FUNCTION train_data.parse_generation_response(jsonb, jsonb) IS
    'Parses a model response (Messages API or Chat Completions response, conversation object or text) into {title, turns, input_tokens, output_tokens, model, stop_reason}, with cache_read_tokens and cache_write_tokens when it reports its prompt cache (input_tokens counts them); raises an error when it holds no usable conversation';

COMMENT ON FUNCTION train_data.quality_metrics(jsonb) IS
    'Quality metrics of a conversation''s turns ([{role, content}]): overall score 0-10 (Engine A of the original system), component scores, issues, suggestions and signals';

COMMENT ON FUNCTION train_data.quality_score(jsonb) IS
    'Overall quality score 0-10 of a conversation''s turns: the overall member of quality_metrics()';

COMMENT ON FUNCTION train_data.quality_status(numeric, numeric) IS
    'Status a quality score earns under a threshold: generated at or above it, pending_review up to 2 points below, needs_revision lower';

COMMENT ON FUNCTION train_data.clip_for_message(text) IS
    'Internal: a user value as error messages quote it: NULL as NULL, whole up to 64 characters, else its first 64 characters and "..."';

COMMENT ON FUNCTION train_data.uuid_v7() IS
    'A new time-ordered UUID (RFC 9562 version 7): the default id of conversations and their turns';

COMMENT ON FUNCTION train_data.engine_context() IS
    'Internal: true when the current role has the privileges of the extension owner (inside the worker functions, or a superuser)';

COMMENT ON FUNCTION train_data.inherit_owner() IS
    'Internal: trigger giving a child row written without an owner its parent''s owner (TG_ARGV: parent table, referencing column)';

COMMENT ON FUNCTION train_data.user_id_default(regclass, boolean) IS
    'Internal: column default of owner columns: the current user id, or 28000 "no user id is set" when it is needed and not set';

COMMENT ON SEQUENCE train_data.conversation_number_seq IS 'Number part of the readable conversation ids make_conversation_id() makes';

COMMENT ON FUNCTION train_data.make_conversation_id(train_data.tier_type, text) IS
    'A new readable conversation id <tier prefix>_<persona slug>_<number>, e.g. tpl_anxious_investor_000042; takes the number from conversation_number_seq';

COMMENT ON FUNCTION train_data.conversations_default_id() IS
    'Internal: trigger function (BEFORE INSERT on conversations) that fills conversation_id with make_conversation_id() when none is given';

COMMENT ON COLUMN train_data.templates.id IS 'Template id';

COMMENT ON COLUMN train_data.templates.name IS 'Unique name, 1-200 characters';

COMMENT ON COLUMN train_data.templates.description IS 'Free-text description for people choosing a template';

COMMENT ON COLUMN train_data.templates.category IS 'Category used to group templates, 1-100 characters';

COMMENT ON COLUMN train_data.templates.tier IS 'Tier the template is for: template, scenario or edge_case';

COMMENT ON COLUMN train_data.templates.structure IS 'Prompt text with {{variable}} placeholders, 10-10000 characters; checked by check_template()';

COMMENT ON COLUMN train_data.templates.variables IS 'Declared variables: JSON array of {name, type (text, number or dropdown), defaultValue, options, helpText}';

COMMENT ON COLUMN train_data.templates.tone IS 'Intended tone of the generated conversations, at most 50 characters';

COMMENT ON COLUMN train_data.templates.complexity_baseline IS 'Intended complexity of the generated conversations, 1-10';

COMMENT ON COLUMN train_data.templates.style_notes IS 'Free-text style guidance for the prompt author';

COMMENT ON COLUMN train_data.templates.example_conversation IS 'An example of a good conversation for this template';

COMMENT ON COLUMN train_data.templates.quality_threshold IS 'Quality score 0-10 a new conversation needs to be generated rather than pending_review or needs_revision (see quality_status())';

COMMENT ON COLUMN train_data.templates.required_elements IS 'Elements a conversation from this template should contain (kept for the application)';

COMMENT ON COLUMN train_data.templates.applicable_personas IS 'Personas the template suits (kept for the application)';

COMMENT ON COLUMN train_data.templates.applicable_emotions IS 'Emotions the template suits (kept for the application)';

COMMENT ON COLUMN train_data.templates.usage_count IS 'Uses counted by increment_template_usage(); the batch engine does not write it';

COMMENT ON COLUMN train_data.templates.rating IS 'Rating 0-5 set by the application';

COMMENT ON COLUMN train_data.templates.version IS 'Version number of the template, from 1, set by the application';

COMMENT ON COLUMN train_data.templates.is_active IS 'Only active templates can be rendered by resolve_template() or used in new batches';

COMMENT ON COLUMN train_data.templates.created_by IS 'Creator: the only user who may change or delete the template';

COMMENT ON COLUMN train_data.templates.created_at IS 'When the template was created';

COMMENT ON COLUMN train_data.templates.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.templates.last_modified IS 'Set to now() on every update (touch_timestamps trigger); kept for compatibility with the original system';

COMMENT ON COLUMN train_data.scenarios.id IS 'Scenario id';

COMMENT ON COLUMN train_data.scenarios.name IS 'Name, 1-200 characters';

COMMENT ON COLUMN train_data.scenarios.description IS 'Free-text description';

COMMENT ON COLUMN train_data.scenarios.parent_template_id IS 'Template the scenario belongs to; a template with scenarios cannot be deleted';

COMMENT ON COLUMN train_data.scenarios.parent_template_name IS 'Name of the parent template, copied from it on insert and when the parent changes (scenarios_before_write trigger)';

COMMENT ON COLUMN train_data.scenarios.context IS 'Situation the conversation is set in, 1-5000 characters';

COMMENT ON COLUMN train_data.scenarios.parameter_values IS 'Parameter values for the parent template, a JSON object';

COMMENT ON COLUMN train_data.scenarios.variation_count IS 'Number of variations made from the scenario, set by the application';

COMMENT ON COLUMN train_data.scenarios.status IS 'draft, active or archived';

COMMENT ON COLUMN train_data.scenarios.quality_score IS 'Quality score 0-10 set by the application';

COMMENT ON COLUMN train_data.scenarios.topic IS 'Topic of the conversation, 1-100 characters';

COMMENT ON COLUMN train_data.scenarios.persona IS 'Persona of the user in the conversation, 1-100 characters';

COMMENT ON COLUMN train_data.scenarios.emotional_arc IS 'Emotional arc of the conversation, 1-100 characters';

COMMENT ON COLUMN train_data.scenarios.generation_status IS 'not_generated, generated or error; set by update_scenario_generation_status()';

COMMENT ON COLUMN train_data.scenarios.conversation_id IS 'Id of the conversation generated from the scenario (no foreign key)';

COMMENT ON COLUMN train_data.scenarios.error_message IS 'Why generation failed; kept only while generation_status is error';

COMMENT ON COLUMN train_data.scenarios.created_by IS 'Creator: the only user who may change or delete the scenario';

COMMENT ON COLUMN train_data.scenarios.created_at IS 'When the scenario was created';

COMMENT ON COLUMN train_data.scenarios.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.edge_cases.id IS 'Edge case id';

COMMENT ON COLUMN train_data.edge_cases.title IS 'Title, 1-200 characters';

COMMENT ON COLUMN train_data.edge_cases.description IS 'What the edge case tests, 1-2000 characters';

COMMENT ON COLUMN train_data.edge_cases.parent_scenario_id IS 'Scenario the edge case belongs to; a scenario with edge cases cannot be deleted';

COMMENT ON COLUMN train_data.edge_cases.parent_scenario_name IS 'Name of the parent scenario, copied from it on insert and when the parent changes (edge_cases_before_write trigger)';

COMMENT ON COLUMN train_data.edge_cases.edge_case_type IS 'error_condition, boundary_value, unusual_input, complex_combination or failure_scenario';

COMMENT ON COLUMN train_data.edge_cases.complexity IS 'Complexity 1-10';

COMMENT ON COLUMN train_data.edge_cases.test_status IS 'not_tested, passed or failed; set by the application';

COMMENT ON COLUMN train_data.edge_cases.test_results IS 'Test results as a JSON object, set by the application';

COMMENT ON COLUMN train_data.edge_cases.created_by IS 'Creator: the only user who may change or delete the edge case';

COMMENT ON COLUMN train_data.edge_cases.created_at IS 'When the edge case was created';

COMMENT ON COLUMN train_data.edge_cases.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.template_analytics.id IS 'Row id';

COMMENT ON COLUMN train_data.template_analytics.template_id IS 'Template the statistics are about; deleted with it';

COMMENT ON COLUMN train_data.template_analytics.period_start IS 'Start of the period';

COMMENT ON COLUMN train_data.template_analytics.period_end IS 'End of the period, after period_start; one row per template and period';

COMMENT ON COLUMN train_data.template_analytics.generation_count IS 'Generations in the period';

COMMENT ON COLUMN train_data.template_analytics.success_count IS 'Successful generations in the period';

COMMENT ON COLUMN train_data.template_analytics.failure_count IS 'Failed generations in the period';

COMMENT ON COLUMN train_data.template_analytics.avg_quality_score IS 'Average quality score 0-10 in the period';

COMMENT ON COLUMN train_data.template_analytics.min_quality_score IS 'Lowest quality score 0-10 in the period';

COMMENT ON COLUMN train_data.template_analytics.max_quality_score IS 'Highest quality score 0-10 in the period';

COMMENT ON COLUMN train_data.template_analytics.approval_count IS 'Conversations approved in the period';

COMMENT ON COLUMN train_data.template_analytics.rejection_count IS 'Conversations rejected in the period';

COMMENT ON COLUMN train_data.template_analytics.approval_rate IS 'Percent approved, 0-100';

COMMENT ON COLUMN train_data.template_analytics.avg_duration_ms IS 'Average generation time in milliseconds';

COMMENT ON COLUMN train_data.template_analytics.avg_cost_usd IS 'Average cost of a generation in USD';

COMMENT ON COLUMN train_data.template_analytics.total_cost_usd IS 'Total cost of the period in USD';

COMMENT ON COLUMN train_data.template_analytics.calculated_at IS 'When the row was calculated';

COMMENT ON TABLE train_data.conversations IS 'Generated training conversations, seen and changed only by their owner (created_by)';

COMMENT ON COLUMN train_data.conversations.id IS 'Conversation id, time-ordered (uuid_v7())';

COMMENT ON COLUMN train_data.conversations.conversation_id IS 'Readable id <tier prefix>_<persona slug>_<number>, unique per owner, filled by make_conversation_id() when not given';

COMMENT ON COLUMN train_data.conversations.document_id IS 'Source document in the application (no foreign key)';

COMMENT ON COLUMN train_data.conversations.chunk_id IS 'Source chunk of the document in the application (no foreign key)';

COMMENT ON COLUMN train_data.conversations.title IS 'Title: the response''s, else <persona> - <topic> (<emotion>)';

COMMENT ON COLUMN train_data.conversations.persona IS 'Persona of the user in the conversation, from the generation parameters (Unknown when none)';

COMMENT ON COLUMN train_data.conversations.emotion IS 'Emotion of the user, from the generation parameters (Neutral when none)';

COMMENT ON COLUMN train_data.conversations.topic IS 'Topic, from the batch item or the generation parameters';

COMMENT ON COLUMN train_data.conversations.intent IS 'Intent, from the generation parameters';

COMMENT ON COLUMN train_data.conversations.tone IS 'Tone, from the generation parameters';

COMMENT ON COLUMN train_data.conversations.tier IS 'Tier of the prompt the conversation was generated from';

COMMENT ON COLUMN train_data.conversations.category IS 'Categories, from the generation parameters; export filters match any of them';

COMMENT ON COLUMN train_data.conversations.status IS 'Life-cycle state; every change follows conversation_transition_allowed()';

COMMENT ON COLUMN train_data.conversations.quality_score IS 'Overall quality score 0-10 (quality_metrics ->> ''overall'')';

COMMENT ON COLUMN train_data.conversations.quality_metrics IS 'The object quality_metrics() returned for the turns';

COMMENT ON COLUMN train_data.conversations.turn_count IS 'Number of turns';

COMMENT ON COLUMN train_data.conversations.total_tokens IS 'Input plus output tokens of the model call that generated it';

COMMENT ON COLUMN train_data.conversations.estimated_cost_usd IS 'Estimated cost in USD, set by the application';

COMMENT ON COLUMN train_data.conversations.actual_cost_usd IS 'Cost of the model call in USD: its tokens at model_price(answered, asked), the prompt cache''s at its prices; NULL for a model with no known price or a response without usage';

COMMENT ON COLUMN train_data.conversations.generation_duration_ms IS 'Duration of the model call in milliseconds, as the worker reported it';

COMMENT ON COLUMN train_data.conversations.template_id IS 'Template it was generated from (no foreign key: the conversation outlives the template)';

COMMENT ON COLUMN train_data.conversations.approved_by IS 'User who approved it: always the owner, written by review_conversation() (grants no visibility)';

COMMENT ON COLUMN train_data.conversations.approved_at IS 'When it was approved';

COMMENT ON COLUMN train_data.conversations.reviewer_notes IS 'Comment of the latest review that had one';

COMMENT ON COLUMN train_data.conversations.review_history IS 'Review actions, oldest first: JSON array of {id, action, performedBy, timestamp, comment, reasons} (append_review_action())';

COMMENT ON COLUMN train_data.conversations.parent_id IS 'What the conversation was made from, in the table parent_type names (no foreign key); set together with parent_type';

COMMENT ON COLUMN train_data.conversations.parent_type IS 'template, scenario or conversation (a regeneration); set together with parent_id';

COMMENT ON COLUMN train_data.conversations.parameters IS 'Generation parameters, with the template defaults applied';

COMMENT ON COLUMN train_data.conversations.error_message IS 'Why generation failed, for a failed conversation';

COMMENT ON COLUMN train_data.conversations.created_at IS 'When the conversation was created';

COMMENT ON COLUMN train_data.conversations.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.conversations.has_defects IS 'Whether quality_metrics lists defect verdicts (generated from quality_metrics -> ''defects'')';

COMMENT ON COLUMN train_data.conversations.created_by IS 'Owner: the batch owner for generated conversations; sees and changes the conversation';

COMMENT ON COLUMN train_data.conversation_turns.id IS 'Turn id, time-ordered (uuid_v7())';

COMMENT ON COLUMN train_data.conversation_turns.conversation_id IS 'Conversation the turn belongs to; deleted with it';

COMMENT ON COLUMN train_data.conversation_turns.turn_number IS 'Position in the conversation, from 1';

COMMENT ON COLUMN train_data.conversation_turns.role IS 'user or assistant';

COMMENT ON COLUMN train_data.conversation_turns.content IS 'Text of the turn';

COMMENT ON COLUMN train_data.conversation_turns.token_count IS 'Estimated tokens: characters / 4, rounded up';

COMMENT ON COLUMN train_data.conversation_turns.created_at IS 'When the turn was stored';

COMMENT ON COLUMN train_data.conversation_turns.created_by IS 'Owner: the conversation''s owner (composite foreign key to conversations)';

COMMENT ON COLUMN train_data.batch_jobs.id IS 'Batch job id';

COMMENT ON COLUMN train_data.batch_jobs.name IS 'Name, 1-200 characters';

COMMENT ON COLUMN train_data.batch_jobs.status IS 'queued until the first claim, then processing; paused, completed, failed or cancelled';

COMMENT ON COLUMN train_data.batch_jobs.priority IS 'high, normal or low: workers claim from higher priority jobs first, then older ones';

COMMENT ON COLUMN train_data.batch_jobs.total_items IS 'Number of items';

COMMENT ON COLUMN train_data.batch_jobs.completed_items IS 'Items completed successfully; filled when the job ends, live counts are in batch_progress()';

COMMENT ON COLUMN train_data.batch_jobs.failed_items IS 'Items failed for good; filled when the job ends, live counts are in batch_progress()';

COMMENT ON COLUMN train_data.batch_jobs.cancelled_items IS 'Items cancelled; filled when the job ends, live counts are in batch_progress()';

COMMENT ON COLUMN train_data.batch_jobs.started_at IS 'When the first item was claimed';

COMMENT ON COLUMN train_data.batch_jobs.completed_at IS 'When the job ended (completed, failed or cancelled)';

COMMENT ON COLUMN train_data.batch_jobs.estimated_time_remaining IS 'Set to 0 when the job ends; the live estimate is estimate_time_remaining()';

COMMENT ON COLUMN train_data.batch_jobs.paused_at IS 'When the current pause began; NULL while not paused';

COMMENT ON COLUMN train_data.batch_jobs.paused_time IS 'Total time of the earlier pauses; excluded from the throughput';

COMMENT ON COLUMN train_data.batch_jobs.tier IS 'Tier of all items when they share one, else NULL';

COMMENT ON COLUMN train_data.batch_jobs.shared_parameters IS 'Parameters merged into every item''s (they win over the item''s own)';

COMMENT ON COLUMN train_data.batch_jobs.concurrent_processing IS 'Most items of this job in flight at once, 1-10';

COMMENT ON COLUMN train_data.batch_jobs.error_handling IS 'continue, or stop: an item failing for good then fails the job and cancels its queued items';

COMMENT ON COLUMN train_data.batch_jobs.created_by IS 'Owner: creates and controls the job and owns the conversations it makes';

COMMENT ON COLUMN train_data.batch_jobs.created_at IS 'When the job was created';

COMMENT ON COLUMN train_data.batch_jobs.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';
COMMENT ON COLUMN train_data.batch_jobs.channel_token IS 'Random value the job''s notification channel is named after (job_channel): only those who can read the job can listen to it; kept by train_data once the job exists';
COMMENT ON COLUMN train_data.batch_jobs.completion_events IS 'Send an item_completed event on the job''s channel for each completed item (off by default: transactions that send a notification commit one at a time across the cluster); other events are always sent';

COMMENT ON COLUMN train_data.batch_items.id IS 'Batch item id, time-ordered (uuid_v7()) since 1.2';

COMMENT ON COLUMN train_data.batch_items.batch_job_id IS 'Job the item belongs to; deleted with it';

COMMENT ON COLUMN train_data.batch_items.conversation_id IS 'Conversation the item produced, set on completion';

COMMENT ON COLUMN train_data.batch_items.template_id IS 'Template the item was made from; no foreign key: it may name a deleted template (the item keeps its prompt and threshold)';

COMMENT ON COLUMN train_data.batch_items.parent_conversation_id IS 'For a regeneration: the conversation the result replaces (archived on completion)';

COMMENT ON COLUMN train_data.batch_items.position IS 'Order within the job, from 1; items are claimed in this order';

COMMENT ON COLUMN train_data.batch_items.topic IS 'Topic of the conversation to generate';

COMMENT ON COLUMN train_data.batch_items.tier IS 'Tier of the conversation to generate';

COMMENT ON COLUMN train_data.batch_items.parameters IS 'Template parameters, with the shared parameters and the template defaults applied';

COMMENT ON COLUMN train_data.batch_items.status IS 'queued, processing (claimed, under a lease), completed, failed or cancelled';

COMMENT ON COLUMN train_data.batch_items.progress IS 'Percent 0-100 reported by heartbeat_batch_item(); 100 when completed';

COMMENT ON COLUMN train_data.batch_items.estimated_time IS 'Estimated time of the item, set by the application';

COMMENT ON COLUMN train_data.batch_items.error_message IS 'Message of the latest failure';

COMMENT ON COLUMN train_data.batch_items.error_code IS 'Code of the latest failure: as given to fail_batch_item(), or lease_expired, invalid_prompt';

COMMENT ON COLUMN train_data.batch_items.attempts IS 'Claims that counted: times the item has been claimed, less those handed back by release_batch_item()';

COMMENT ON COLUMN train_data.batch_items.max_attempts IS 'Claims allowed before a retryable failure or a lost lease fails the item for good';

COMMENT ON COLUMN train_data.batch_items.available_at IS 'Not claimed before this time (retry backoff)';

COMMENT ON COLUMN train_data.batch_items.lease_expires_at IS 'End of the current claim''s lease; an item past it is taken back by the next claim';

COMMENT ON COLUMN train_data.batch_items.worker IS 'Name of the worker that claimed the item last';

COMMENT ON COLUMN train_data.batch_items.request IS 'Messages API request body built at the latest claim';

COMMENT ON COLUMN train_data.batch_items.started_at IS 'When the item was first claimed';

COMMENT ON COLUMN train_data.batch_items.finished_at IS 'When the item reached a final status';

COMMENT ON COLUMN train_data.batch_items.created_at IS 'When the item was created';

COMMENT ON COLUMN train_data.batch_items.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.batch_items.created_by IS 'Owner: the job''s owner (composite foreign key to batch_jobs)';

COMMENT ON COLUMN train_data.batch_items.prompt IS 'The rendered prompt, fixed when the item is queued (or its parameters change)';

COMMENT ON COLUMN train_data.batch_items.quality_threshold IS 'The template''s quality threshold when the item was queued';

COMMENT ON COLUMN train_data.batch_items.lost_attempts IS 'Attempts (lease tokens) that left flight without their worker''s report: claimed again after the lease ran out, cancelled, or failed for a lost lease; each the record of one discarded call log_discarded_response may write, once';

COMMENT ON COLUMN train_data.batch_items.released IS 'Claims handed back by release_batch_item() without counting an attempt, plus (from the first claim) the last lease token of a deleted item with the same id (deleted_item_tokens); attempts + released is the lease token a claim returns, so it never repeats';

COMMENT ON COLUMN train_data.batch_job_counters.batch_job_id IS 'Job the counters belong to; deleted with it';

COMMENT ON COLUMN train_data.batch_job_counters.shard IS 'Shard: the writing backend''s process id modulo 16, or the first shard no other transaction holds, or a new one, plus 16 when the engine writes (users write shards 0-15 only)';

COMMENT ON COLUMN train_data.batch_job_counters.completed_items IS 'Items completed, counted in this shard';

COMMENT ON COLUMN train_data.batch_job_counters.failed_items IS 'Items failed for good, counted in this shard';

COMMENT ON COLUMN train_data.batch_job_counters.cancelled_items IS 'Items cancelled, counted in this shard';

COMMENT ON COLUMN train_data.batch_job_counters.in_flight IS 'Change in claimed items counted in this shard (the job''s sum is the items in flight)';

COMMENT ON COLUMN train_data.batch_job_counters.interval_ewma IS 'Smoothed seconds between this shard''s final events, on the job''s active clock; NULL before the first';

COMMENT ON COLUMN train_data.batch_job_counters.created_by IS 'Owner: the job''s owner (composite foreign key to batch_jobs)';

COMMENT ON COLUMN train_data.batch_job_counters.last_active IS 'The job''s active clock in seconds at this shard''s last final event; NULL before the first';

COMMENT ON FUNCTION train_data.job_claim_rank(train_data.batch_job_status, text) IS
    'Internal: claim order rank of a job, 0-2 by priority while it is queued or processing, else NULL';

COMMENT ON FUNCTION train_data.batch_jobs_guard() IS
    'Internal: trigger refusing user writes of the batch job columns train_data keeps (status outside pause/resume/cancel, counters, clocks)';

COMMENT ON FUNCTION train_data.batch_items_guard() IS
    'Internal: trigger refusing user writes of the batch item columns train_data keeps (status except cancel, attempts, lost attempts, claim, lease, result)';

COMMENT ON FUNCTION train_data.batch_items_prepare() IS
    'Internal: trigger rendering the prompt of a queued item written without one, or again when its parameters change';

COMMENT ON FUNCTION train_data.batch_jobs_reorder() IS
    'Internal: trigger taking a job out of the claim order, or putting it back, when the job''s claim rank changes';

COMMENT ON TABLE train_data_internal.job_claim_locks IS 'Internal: one row per job being finished; the finishers of a job take turns on it';

COMMENT ON COLUMN train_data_internal.job_claim_locks.batch_job_id IS 'The job (no foreign key: users never lock or touch these rows)';

COMMENT ON TABLE train_data_internal.claimable_jobs IS 'Internal: the claim order, one row per job with work a claim may take (by priority rank, then age)';

COMMENT ON COLUMN train_data_internal.claimable_jobs.batch_job_id IS 'The job (no foreign key: users never lock or touch these rows)';

COMMENT ON COLUMN train_data_internal.claimable_jobs.claim_rank IS 'The job''s priority rank, 0-2 (job_claim_rank())';

COMMENT ON COLUMN train_data_internal.claimable_jobs.job_created_at IS 'The job''s creation time, the second key of the claim order';
COMMENT ON COLUMN train_data_internal.claimable_jobs.created_by IS 'The job''s owner, read with the claim order (a claim passes over an owner whose jobs have nothing to take)';

COMMENT ON FUNCTION train_data.claimable_job_add(uuid) IS
    'Internal: puts a job that can be claimed from in the claim order (claimable_jobs), or refreshes and locks its row there';

COMMENT ON FUNCTION train_data.batch_items_queue_jobs() IS
    'Internal: trigger putting the jobs of newly queued items in the claim order';

COMMENT ON COLUMN train_data.model_prices.model_id IS 'Exact model id, or a Claude generation (claude-haiku-3.5: model_generation) or family (claude-opus, claude-sonnet, claude-haiku); an exact id takes precedence, then a generation';

COMMENT ON COLUMN train_data.model_prices.input_usd_per_mtok IS 'USD per million input tokens';

COMMENT ON COLUMN train_data.model_prices.output_usd_per_mtok IS 'USD per million output tokens';

COMMENT ON COLUMN train_data.model_prices.builtin IS 'Installed by the extension: cannot be changed or deleted, and left out of dumps';

COMMENT ON COLUMN train_data.model_prices.created_at IS 'When the row was added';

COMMENT ON COLUMN train_data.model_prices.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON FUNCTION train_data.model_prices_protect_builtin() IS
    'Internal: trigger function (BEFORE UPDATE OR DELETE on model_prices) that refuses to change or delete a built-in price row';

COMMENT ON COLUMN train_data.generation_logs.id IS 'Log row id, time-ordered (uuid_v7()) since 1.2';

COMMENT ON COLUMN train_data.generation_logs.conversation_id IS 'Conversation the call produced; NULL for a failed call';

COMMENT ON COLUMN train_data.generation_logs.batch_item_id IS 'Batch item the call was made for';

COMMENT ON COLUMN train_data.generation_logs.run_id IS 'Batch job id of the call';

COMMENT ON COLUMN train_data.generation_logs.template_id IS 'Template of the prompt (no foreign key)';

COMMENT ON COLUMN train_data.generation_logs.request_payload IS 'Request body sent to the model';

COMMENT ON COLUMN train_data.generation_logs.response_payload IS 'Response of the model, for a successful call';

COMMENT ON COLUMN train_data.generation_logs.parameters IS 'Generation parameters of the item';

COMMENT ON COLUMN train_data.generation_logs.model_used IS 'Model of the request';

COMMENT ON COLUMN train_data.generation_logs.temperature IS 'Temperature of the request, 0-1';

COMMENT ON COLUMN train_data.generation_logs.max_tokens IS 'max_tokens of the request';

COMMENT ON COLUMN train_data.generation_logs.status IS 'success, failed, rate_limited, timeout, or discarded (an answer the queue refused: the item claimed again or cancelled meanwhile)';

COMMENT ON COLUMN train_data.generation_logs.retry_attempt IS 'The attempt of the call as its claim returned it (the lease token), minus 1; rows written before 1.2 count the attempts only (a release, new in 1.2, does not count one)';


COMMENT ON COLUMN train_data.generation_logs.output_tokens IS 'Output tokens the model reported';

COMMENT ON COLUMN train_data.generation_logs.cost_usd IS 'Cost of the call in USD: its tokens at model_price(answered, asked), the prompt cache''s at its prices; NULL for a model with no known price or a response without usage';

COMMENT ON COLUMN train_data.generation_logs.duration_ms IS 'Duration of the call in milliseconds, as the worker reported it';

COMMENT ON COLUMN train_data.generation_logs.error_message IS 'Error message of a failed call';

COMMENT ON COLUMN train_data.generation_logs.error_code IS 'Error code of a failed call, as the worker gave it';

COMMENT ON COLUMN train_data.generation_logs.created_at IS 'When the call was logged';

COMMENT ON COLUMN train_data.generation_logs.created_by IS 'Owner: the batch owner';

COMMENT ON COLUMN train_data.export_logs.id IS 'Row id';

COMMENT ON COLUMN train_data.export_logs.export_id IS 'Public id of the export, as export_status() takes it';

COMMENT ON COLUMN train_data.export_logs.user_id IS 'User who made the export: the only one who sees it';

COMMENT ON COLUMN train_data.export_logs."timestamp" IS 'When the export started';

COMMENT ON COLUMN train_data.export_logs.format IS 'json, jsonl, csv or markdown';

COMMENT ON COLUMN train_data.export_logs.config IS 'The ExportConfig the export was made with';

COMMENT ON COLUMN train_data.export_logs.conversation_count IS 'Conversations exported; filled when the export completes';

COMMENT ON COLUMN train_data.export_logs.file_size IS 'Bytes of the records joined by one newline; filled when the export completes';

COMMENT ON COLUMN train_data.export_logs.status IS 'queued, processing (from the first record), completed, failed or expired';

COMMENT ON COLUMN train_data.export_logs.file_url IS 'Where the file can be downloaded, set by the application';

COMMENT ON COLUMN train_data.export_logs.expires_at IS '24 hours after completion; then the export becomes expired';

COMMENT ON COLUMN train_data.export_logs.error_message IS 'Why the export failed, set by the application';

COMMENT ON COLUMN train_data.export_logs.downloaded_count IS 'Downloads of the file, set by the application';

COMMENT ON COLUMN train_data.export_logs.last_downloaded_at IS 'Time of the last download, set by the application';

COMMENT ON COLUMN train_data.export_logs.manifest IS 'What makes the export reproducible (export_manifest()): format, scope, filters, options, rows, md5 of the records, templates with versions, models; filled when the export completes';

COMMENT ON FUNCTION train_data.export_manifest(text, text, jsonb, jsonb, uuid[], uuid[], bigint, text, uuid[]) IS
    'The manifest of an export (format, scope, filters, options, ids given, rows, md5 of the records, templates with versions, models), as dataset_report shows it and export_logs.manifest keeps it';

COMMENT ON COLUMN train_data.export_logs.created_at IS 'When the row was created';

COMMENT ON COLUMN train_data.export_logs.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.user_preferences.id IS 'Row id';

COMMENT ON COLUMN train_data.user_preferences.user_id IS 'User the preferences belong to: one row per user';

COMMENT ON COLUMN train_data.user_preferences.preferences IS 'Preferences document (partial documents are merged over default_user_preferences()); validated on every write';

COMMENT ON COLUMN train_data.user_preferences.created_at IS 'When the row was created';

COMMENT ON COLUMN train_data.user_preferences.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.ai_configurations.id IS 'Configuration id';

COMMENT ON COLUMN train_data.ai_configurations.user_id IS 'User the configuration belongs to; NULL for an organization''s';

COMMENT ON COLUMN train_data.ai_configurations.organization_id IS 'Organization the configuration belongs to; NULL for a user''s';

COMMENT ON COLUMN train_data.ai_configurations.config_name IS 'Name, unique per user or organization; 1-200 characters';

COMMENT ON COLUMN train_data.ai_configurations.configuration IS 'Configuration document (merged over default_ai_config()); validated on every write';

COMMENT ON COLUMN train_data.ai_configurations.is_active IS 'Only active configurations are considered by get_effective_ai_config()';

COMMENT ON COLUMN train_data.ai_configurations.priority IS 'Among a user''s active configurations the highest priority is in force (the newest on ties)';

COMMENT ON COLUMN train_data.ai_configurations.created_at IS 'When the configuration was created';

COMMENT ON COLUMN train_data.ai_configurations.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';

COMMENT ON COLUMN train_data.ai_configurations.created_by IS 'User who created the configuration';

COMMENT ON COLUMN train_data.ai_configuration_audit.id IS 'Audit row id';

COMMENT ON COLUMN train_data.ai_configuration_audit.config_id IS 'Configuration changed; NULL for a deletion or once the configuration is deleted';

COMMENT ON COLUMN train_data.ai_configuration_audit.user_id IS 'Owner of the configuration, kept so the trail stays visible after a deletion';

COMMENT ON COLUMN train_data.ai_configuration_audit.action IS 'INSERT, UPDATE or DELETE';

COMMENT ON COLUMN train_data.ai_configuration_audit.old_value IS 'The row before the change, as JSON; NULL for an insertion';

COMMENT ON COLUMN train_data.ai_configuration_audit.new_value IS 'The row after the change, as JSON; NULL for a deletion';

COMMENT ON COLUMN train_data.ai_configuration_audit.changed_by IS 'User who made the change';

COMMENT ON COLUMN train_data.ai_configuration_audit.changed_at IS 'When the change was made';

COMMENT ON COLUMN train_data.configuration_audit_log.id IS 'Audit row id';

COMMENT ON COLUMN train_data.configuration_audit_log.user_id IS 'User whose settings changed';

COMMENT ON COLUMN train_data.configuration_audit_log.config_type IS 'user_preference or ai_config';

COMMENT ON COLUMN train_data.configuration_audit_log.config_id IS 'Row changed (user_preferences.id or ai_configurations.id)';

COMMENT ON COLUMN train_data.configuration_audit_log.changed_field IS 'Top-level setting that changed';

COMMENT ON COLUMN train_data.configuration_audit_log.old_value IS 'The setting before the change; NULL when it was absent';

COMMENT ON COLUMN train_data.configuration_audit_log.new_value IS 'The setting after the change; NULL when it was removed';

COMMENT ON COLUMN train_data.configuration_audit_log.change_reason IS 'Why the change was made, set by the application';

COMMENT ON COLUMN train_data.configuration_audit_log.client_ip IS 'IP address of the client, set by the application';

COMMENT ON COLUMN train_data.configuration_audit_log.user_agent IS 'User agent of the client, set by the application';

COMMENT ON COLUMN train_data.configuration_audit_log.changed_by IS 'User who made the change';

COMMENT ON COLUMN train_data.configuration_audit_log.changed_at IS 'When the change was made';

COMMENT ON FUNCTION train_data.template_by_id(uuid) IS
    'Internal: the stored template with this id; an error when it does not exist or is not visible';

COMMENT ON FUNCTION train_data.resolve_template(uuid, jsonb, boolean) IS
    'Renders a stored, active template with parameters: the result of render_template() plus template_id and template_name';

COMMENT ON FUNCTION train_data.preview_template(uuid, jsonb) IS
    'resolve_template() with the resolved text HTML-escaped (the template''s text and the values), for showing a prompt in a web page';

COMMENT ON FUNCTION train_data.increment_template_usage(uuid) IS
    'Adds one to a template''s usage_count and returns the new count; only the template''s creator may do it';

COMMENT ON FUNCTION train_data.get_template_scenario_count(uuid) IS
    'Number of scenarios (visible to the caller) under a template';

COMMENT ON FUNCTION train_data.get_scenario_edge_case_count(uuid) IS
    'Number of edge cases (visible to the caller) under a scenario';

COMMENT ON FUNCTION train_data.safe_delete_template(uuid) IS
    'Deletes a template unless scenarios still use it (batch items keep their prompts); returns (success, message) instead of raising';

COMMENT ON FUNCTION train_data.safe_delete_scenario(uuid) IS
    'Deletes a scenario unless edge cases still use it; returns (success, message) instead of raising';

COMMENT ON FUNCTION train_data.scenarios_before_write() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE on scenarios) that copies the parent template''s name and clears error_message unless generation_status is error';

COMMENT ON FUNCTION train_data.edge_cases_before_write() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE on edge_cases) that copies the parent scenario''s name';

COMMENT ON FUNCTION train_data.update_scenario_generation_status(uuid, text, uuid, text) IS
    'Records a scenario''s generation outcome (not_generated, generated or error) with its conversation and error message; returns the updated scenario';

COMMENT ON FUNCTION train_data.model_cost(text, bigint, bigint) IS
    'USD cost of a model call: tokens times the price per million, rounded to 6 decimals; NULL for a model with no known price';

COMMENT ON FUNCTION train_data.estimate_batch_cost(train_data.tier_type, integer, integer, integer) IS
    'The original system''s batch estimate: tokens, cost in USD and time for count conversations of a tier, as a JSON object';

COMMENT ON FUNCTION train_data.jsonb_merge_deep(jsonb, jsonb) IS
    'Merges patch into base: objects member by member, recursively; any other value in patch replaces the one in base';

COMMENT ON FUNCTION train_data.jsonb_unknown_keys(jsonb, jsonb, text, text[]) IS
    'Internal: dotted paths of the keys of doc that reference does not have (arrays are leaves; members of open_objects are free-form)';

COMMENT ON FUNCTION train_data.check_setting_range(text, jsonb, text[], numeric, numeric) IS
    'Internal: raises an error unless the value at path in a settings document is a number within [low, high] (NULL bounds are open)';

COMMENT ON FUNCTION train_data.check_setting_choice(text, jsonb, text[], text[]) IS
    'Internal: raises an error unless the value at path in a settings document is one of the allowed strings';

COMMENT ON FUNCTION train_data.check_setting_keys(text, jsonb, jsonb, text[]) IS
    'Internal: raises an error when a settings document is over 16 kB as JSON text, is not an object or has keys the defaults do not have';

COMMENT ON FUNCTION train_data.default_ai_config() IS
    'The AI configuration used when a user has none: provider (anthropic), baseUrl (null: the provider''s official endpoint), model, temperature, maxTokens, topP, rate limiting, retry strategy, cost budget and timeouts';

COMMENT ON FUNCTION train_data.check_setting_url(text, jsonb, text[]) IS
    'Internal: raises an error unless the value at path in a settings document is null or an http(s) base URL of at most 2048 characters without credentials, query or fragment';

COMMENT ON FUNCTION train_data.validate_ai_config(jsonb) IS
    'Validates a (partial) AI configuration (provider anthropic or openai, an http(s) baseUrl or null, a model with a price, ...); returns it merged over default_ai_config(), or raises an error naming the setting and its limit';

COMMENT ON FUNCTION train_data.get_effective_ai_config(uuid) IS
    'AI configuration in force for a user: their active configuration with the highest priority (newest on ties) merged over the defaults; the defaults when there is none';

COMMENT ON FUNCTION train_data.validate_settings_row() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE on ai_configurations and user_preferences) that validates the stored document; skipped by restores (row_security off)';

COMMENT ON FUNCTION train_data.ai_configurations_audit() IS
    'Internal: trigger function (AFTER INSERT OR UPDATE OR DELETE on ai_configurations) that records the old and new row in ai_configuration_audit when a user id is set';

COMMENT ON FUNCTION train_data.default_user_preferences() IS
    'The preferences a user starts with: theme, table layout, notifications, default filters, export, keyboard shortcuts, quality thresholds and retry settings';

COMMENT ON FUNCTION train_data.validate_user_preferences(jsonb) IS
    'Validates (partial) user preferences; returns them merged over default_user_preferences(), or raises an error naming the setting and its limit';

COMMENT ON FUNCTION train_data.user_preferences_audit() IS
    'Internal: trigger function (AFTER UPDATE OF preferences on user_preferences) that logs each changed top-level setting in configuration_audit_log when a user id is set';

CREATE OR REPLACE FUNCTION train_data.get_user_preferences()
    RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    uid uuid := train_data.require_user_id('Preferences are the current user''s.');
    stored jsonb;
BEGIN
    SELECT p.preferences INTO stored FROM train_data.user_preferences p WHERE p.user_id = uid;
    IF NOT FOUND AND NOT current_setting('transaction_read_only')::boolean THEN
        INSERT INTO train_data.user_preferences (user_id, preferences)
        VALUES (uid, train_data.default_user_preferences())
        ON CONFLICT (user_id) DO NOTHING;
        SELECT p.preferences INTO stored FROM train_data.user_preferences p WHERE p.user_id = uid;
    END IF;
    RETURN train_data.jsonb_merge_deep(train_data.default_user_preferences(), stored);
END
$$;

COMMENT ON FUNCTION train_data.get_user_preferences() IS
    'The current user''s preferences merged over the defaults; creates the user''s row with the defaults on first use (not in a read-only transaction)';

COMMENT ON FUNCTION train_data.update_user_preferences(jsonb) IS
    'Merges changes into the current user''s preferences, validates and stores them; returns the result';

COMMENT ON FUNCTION train_data.build_generation_request(uuid, jsonb, text, jsonb) IS
    'Model request body for a stored template in the configuration''s provider format (Anthropic Messages or OpenAI Chat Completions): the rendered prompt as the user message, an optional system prompt, model, max_tokens and temperature from config (default: the current user''s effective configuration)';

COMMENT ON FUNCTION train_data.job_active_seconds(timestamptz, interval, timestamptz, timestamptz, timestamptz) IS
    'Internal: seconds a batch job has been active at a given time; its clock stops while it is paused and when it ends';

COMMENT ON FUNCTION train_data.eta_observe(double precision, double precision, double precision) IS
    'Internal: the smoothed interval between final events of a counter shard after one more final event (time-remaining estimate)';

COMMENT ON FUNCTION train_data.bump_counters(uuid, integer, integer, integer, integer, boolean) IS
    'Internal: adds to the live counters of a batch job in this backend''s shard of batch_job_counters, or the first one no other transaction holds, or a new one (and, for a final event, updates its rate)';

COMMENT ON FUNCTION train_data.rollup_counters(uuid) IS
    'Internal: copies the sums of a job''s live counters into its batch_jobs row (done when the job ends)';

COMMENT ON FUNCTION train_data.job_channel(uuid) IS
    'Channel name (train_data_job_<32 hex digits of the job''s channel token>) on which a batch job''s progress events are sent, NULL for a job the caller cannot see; LISTEN on it';

COMMENT ON FUNCTION train_data.notify_progress(uuid, uuid, text) IS
    'Internal: sends {batch_job_id, item_id, event} on the job''s channel (job_channel()), for a job the caller can see';

COMMENT ON FUNCTION train_data.finish_job_if_done(uuid) IS
    'Internal: closes a batch job once no item is queued or in flight: completed, failed when none completed and some failed, cancelled when every item was cancelled';

COMMENT ON FUNCTION train_data.check_batch_options(text, jsonb, integer, text, text) IS
    'Internal: checks the options every batch shares (name, shared parameters, concurrency, error handling, priority); raises an error for a bad one';

COMMENT ON FUNCTION train_data.create_batch(text, jsonb, jsonb, integer, text, text) IS
    'Creates a batch job from items [{template_id, tier?, parameters?, topic?}]; shared parameters are merged into every item; a batch with any invalid item is rejected whole; returns the job id';

COMMENT ON FUNCTION train_data.create_batch_matrix(text, uuid[], jsonb, jsonb, integer, text, text, train_data.tier_type) IS
    'Creates a batch job with one item per template and parameter set (templates x sets); returns the job id';

COMMENT ON FUNCTION train_data.log_generation(uuid, uuid, uuid, jsonb, jsonb, integer, uuid, uuid, jsonb, text, integer, integer, numeric, integer, text, text, integer, integer) IS
    'Internal: inserts the generation_logs row of one model call of a batch item';

COMMENT ON FUNCTION train_data.lock_item_in_flight(uuid, integer) IS
    'Internal: locks a batch item in flight and returns it with its job''s owner and error handling; an error when it is unknown, not processing, cancelled or its lease expired';

COMMENT ON FUNCTION train_data.claim_request(jsonb, text) IS
    'Internal: the model request of a claimed item, valid for either provider (Anthropic Messages, OpenAI Chat Completions): its prompt as one user message, with the model, max_tokens and temperature of a configuration';

COMMENT ON FUNCTION train_data.claim_render(uuid, jsonb) IS
    'Internal: render the prompt of an item with its template; a failure is returned as a reason, never raised';

COMMENT ON FUNCTION train_data.claim_fail_item(train_data.batch_items, text, boolean) IS
    'Internal: fail an item a claim cannot send, with its reason (error_code invalid_prompt)';

COMMENT ON FUNCTION train_data.cancel_stranded_item(uuid, uuid, boolean) IS
    'Internal: cancels an item in flight whose batch job has ended, and counts it (lost: its worker lost it, so its call may be recorded as discarded)';

COMMENT ON FUNCTION train_data.claim_lease_lost(uuid, uuid) IS
    'Internal: fails for good an item whose lease ran out with no attempt left (error_code lease_expired), and counts it';

COMMENT ON FUNCTION train_data.claim_batch_items(text, integer, interval) IS
    'Worker function: claims up to max_items items under a lease (expired leases first, then jobs by priority then age, at most concurrent_processing in flight per job); each row carries the prompt fixed when the item was queued, a ready request body, the provider (anthropic or openai) and base URL (NULL: official endpoint) to send it to, and the attempt number that fences the item''s heartbeat, completion, failure and release';

COMMENT ON FUNCTION train_data.heartbeat_batch_item(uuid, numeric, interval, integer) IS
    'Worker function: extends the lease of an item in flight and records its progress; returns the new lease end';

COMMENT ON FUNCTION train_data.release_batch_item(uuid, integer) IS
    'Worker function: hands an item in flight back to the queue without counting the attempt (for a worker stopping before it sent the request); available now, or cancelled when its job has ended; returns the item''s new status';

COMMENT ON FUNCTION train_data.fail_batch_item(uuid, text, text, boolean, integer) IS
    'Worker function: records a failed model call; the item is queued again with backoff while attempts remain and the error is retryable, else fails for good (with error_handling stop, failing the job too); returns the item''s new status';

COMMENT ON FUNCTION train_data.complete_batch_item(uuid, jsonb, integer, integer) IS
    'Worker function: stores a model response for an item in flight (conversation, turns, quality score, generation log, counters) in one transaction; returns the conversation id, or NULL with a warning when the response is unusable';

COMMENT ON FUNCTION train_data.complete_batch_entry(jsonb, bigint) IS
    'Internal: one entry of complete_batch_items: complete_batch_item on {item_id, response, duration_ms, attempt}, as the caller';
COMMENT ON FUNCTION train_data.complete_batch_items(jsonb) IS
    'Worker function: completes several items in one call ({item_id, response, duration_ms, attempt} each); a row per entry: completed with its conversation, failed (unusable response) or refused with the error, which leaves the others stored';

COMMENT ON FUNCTION train_data.lock_visible_job(uuid) IS
    'Internal: locks and returns the row of a batch job the caller can see; an error as for an unknown job otherwise';

COMMENT ON FUNCTION train_data.job_state_error(uuid, text) IS
    'Internal: raises the error for a batch job that is not in the state an action needs';

COMMENT ON FUNCTION train_data.pause_batch(uuid) IS
    'Pauses a processing batch job: no new item starts, items in flight finish; returns the job';

COMMENT ON FUNCTION train_data.resume_batch(uuid) IS
    'Resumes a paused batch job; the time it spent paused does not count towards its throughput; returns the job';

COMMENT ON FUNCTION train_data.cancel_batch(uuid) IS
    'Cancels a batch job that has not ended: its queued and in-flight items become cancelled; returns the job';

COMMENT ON FUNCTION train_data.calculate_batch_progress(uuid) IS
    'Percent of a batch job''s items in a final state (completed, failed or cancelled), two decimals; NULL for an unknown or invisible job';

COMMENT ON FUNCTION train_data.estimate_time_remaining(uuid) IS
    'Estimated time until a batch job ends, from its recent throughput; NULL while nothing has finished, 0 once the job has ended';

COMMENT ON FUNCTION train_data.batch_progress(uuid) IS
    'Live state of a batch job in one row: counts per item status, percent, estimated time remaining and items per minute; no row for an unknown or invisible job';

COMMENT ON FUNCTION train_data.score_conversation(uuid) IS
    '(Re)scores a stored conversation from its turns, stores quality_score and quality_metrics and returns the metrics';

COMMENT ON FUNCTION train_data.conversation_transition_allowed(train_data.conversation_status, train_data.conversation_status) IS
    'Whether a conversation may go from one status to another in its life cycle (the same status always may; nothing leaves archived)';

COMMENT ON FUNCTION train_data.conversations_check_transition() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE OF status on conversations) that enforces the life cycle and a recorded review for approval and rejection; skipped by restores';

COMMENT ON FUNCTION train_data.conversations_guard() IS
    'Internal: trigger keeping what a writer cannot forge: the owner, approvals and review entries by the owner only, an append-only history, version parents of the same owner without cycles';

COMMENT ON FUNCTION train_data.append_review_action(uuid, text, uuid, text, text[]) IS
    'Appends a review action {id, action, performedBy, timestamp, comment, reasons} to a conversation''s review_history';

COMMENT ON FUNCTION train_data.review_conversation(uuid, text, text, text[]) IS
    'Reviews a generated conversation as the current user (approved, rejected or revision_requested), recording it in review_history; returns the conversation';

COMMENT ON FUNCTION train_data.bulk_review_conversations(uuid[], text, text, text[]) IS
    'Reviews many conversations with the same action; one row per id, failures reported in the row instead of raised';

COMMENT ON FUNCTION train_data.regenerate_conversation(uuid, jsonb) IS
    'Queues a new generation of a conversation from its template and parameters (overridden by parameters); returns the batch item; on completion the new version archives this one';

COMMENT ON FUNCTION train_data.conversation_versions(uuid) IS
    'Every version of a conversation (its regeneration chain), oldest first';

COMMENT ON FUNCTION train_data.review_queue(integer, integer, text, text, numeric, text) IS
    'Conversations waiting for review (pending_review) visible to the caller, a page at a time; lowest quality and oldest first by default; defect keeps those with that defect code';

COMMENT ON FUNCTION train_data.review_queue_statistics() IS
    'Number, average quality and oldest creation time of the pending_review conversations visible to the caller';

COMMENT ON FUNCTION train_data.conversation_statistics() IS
    'Statistics of the conversations visible to the caller as a JSON object: totals by tier and status, quality bands, tokens, cost, approval rate, conversations with defects and counts by defect code';

COMMENT ON FUNCTION train_data.quality_trend(numeric[]) IS
    'Trend of a series of scores in time order: improving, declining or stable (newer half against older half, 5 % margin)';

COMMENT ON FUNCTION train_data.template_performance(interval, integer) IS
    'Per template, over the conversations visible to the caller: usage, average quality, approval rate, performance level, trend, and conversations with defect verdicts';

COMMENT ON FUNCTION train_data.export_jsonl(text, text, uuid[], jsonb, jsonb) IS
    'Training-file lines, one JSON line per conversation (shapes original, openai, sharegpt; scopes all approved, selected ids, filtered); runs as the caller, so row-level security decides what is exported';

COMMENT ON FUNCTION train_data.validate_training_line(text) IS
    'Names of the OpenAI fine-tuning data checks one JSONL line fails; empty for a good example';

-- What OpenAI's fine-tuning data preparation warns of in one JSONL line
-- with messages (a line it can still train on): missing_system_message,
-- missing_user_message, and over_token_limit, more tokens than token_limit
-- (the cookbook's count, 3 a message and 3 for the reply, with the text
-- estimated at 4 characters a token, as turns' token_count).  New in 1.2.
CREATE FUNCTION train_data.training_line_warnings(line text, token_limit integer DEFAULT 16385)
    RETURNS text[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_training_line_warnings';

COMMENT ON FUNCTION train_data.training_line_warnings(text, integer) IS
    'Names of the OpenAI fine-tuning data warnings of one JSONL line: no system message, no user message, more estimated tokens than token_limit';

-- An export checked line by line: the number of lines, then how many fail
-- each check (only the checks some line fails), then how many have each
-- warning (training_line_warnings, with options' tokenLimit, 16,385 by
-- default: the cookbook's).  The checks are OpenAI's chat format's: the
-- sharegpt shape, which has no messages, is refused rather than reported
-- as failing them all (a review of 1.2).
CREATE OR REPLACE FUNCTION train_data.validate_export(shape text DEFAULT 'openai', scope text DEFAULT 'all',
                                           ids uuid[] DEFAULT NULL, filters jsonb DEFAULT NULL,
                                           options jsonb DEFAULT '{}')
    RETURNS TABLE (check_name text, lines bigint)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    token_limit integer := 16385;
    limit_value jsonb := CASE WHEN jsonb_typeof(options) = 'object' THEN options -> 'tokenLimit' END;
    limit_ok boolean;
    misspelled text;
BEGIN
    IF shape = 'sharegpt' THEN
        RAISE EXCEPTION 'validate_export checks OpenAI''s chat format, not the sharegpt shape'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Check the openai or the original shape: both have its messages.';
    END IF;
    -- (validate_export's own option: export_jsonl refuses keys it does not
    -- know, with a hint that cannot name it; a misspelling is named here)
    SELECT k.key INTO misspelled
    FROM jsonb_object_keys(CASE WHEN jsonb_typeof(options) = 'object' THEN options ELSE '{}' END) AS k(key)
    WHERE k.key <> 'tokenLimit' AND lower(translate(k.key, '_- ', '')) = 'tokenlimit' LIMIT 1;
    IF misspelled IS NOT NULL THEN
        RAISE EXCEPTION 'unknown key "%" in validate_export options', train_data.clip_for_message(misspelled)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The token limit is the key tokenLimit.';
    END IF;
    IF limit_value IS NOT NULL THEN
        limit_ok := CASE WHEN jsonb_typeof(limit_value) = 'number'
                         THEN limit_value::numeric BETWEEN 1 AND 2147483647
                              AND limit_value::numeric = trunc(limit_value::numeric)
                         ELSE false END;
        IF NOT limit_ok THEN
            RAISE EXCEPTION 'tokenLimit must be a whole number from 1 to 2147483647, not %',
                            train_data.json_for_message(limit_value)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Give the longest example, in tokens, that the model is trained on.';
        END IF;
        token_limit := limit_value::integer;
        options := options - 'tokenLimit';
    END IF;
    RETURN QUERY
    WITH checked AS (
        SELECT train_data.validate_training_line(l.line) AS errors,
               train_data.training_line_warnings(l.line, token_limit) AS warnings
        FROM train_data.export_jsonl(validate_export.shape, validate_export.scope, validate_export.ids,
                                     validate_export.filters, validate_export.options) AS l(line)
    )
    SELECT r.name, r.n FROM (
        SELECT 0 AS part, 'lines'::text AS name, count(*) AS n FROM checked
        UNION ALL
        SELECT 1, e.name, count(*) FROM checked, unnest(checked.errors) AS e(name) GROUP BY e.name
        UNION ALL
        SELECT 2, w.name, count(*) FROM checked, unnest(checked.warnings) AS w(name) GROUP BY w.name) r
    ORDER BY r.part, r.name;
END
$$;

COMMENT ON FUNCTION train_data.validate_export(text, text, uuid[], jsonb, jsonb) IS
    'An export checked line by line against OpenAI''s chat format (shapes openai and original): the number of lines, how many lines fail each check that some line fails, then how many have each warning (no system message, no user message, over options'' tokenLimit)';

COMMENT ON FUNCTION train_data.export_conversations(text, text, jsonb, uuid[], jsonb) IS
    'The export a client makes, as records of a json, jsonl, csv or markdown file, logged in export_logs as the caller''s export';

-- Under the stock policy alone, the statement names the caller's id,
-- planned with it, and reads her rows through the owner's index: the
-- policy alone read every user's expired exports and filtered them
-- (300,000 of another user's, which only he can mark: 36-82 ms against
-- 0.4 ms, a review of 1.2).
CREATE OR REPLACE FUNCTION train_data.mark_expired_exports()
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_custom_plan   -- (planned with the caller's id)
AS $$
DECLARE
    mine_only boolean := train_data.owner_policy_only('train_data.export_logs', 'export_logs_owner');
    owner uuid := CASE WHEN mine_only THEN train_data.current_user_id() END;   -- (not read otherwise)
    n integer;
BEGIN
    UPDATE train_data.export_logs l SET status = 'expired'
    WHERE l.status = 'completed' AND l.expires_at < now() AND (NOT mine_only OR l.user_id = owner);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

COMMENT ON FUNCTION train_data.mark_expired_exports() IS
    'Marks completed exports past their expiry as expired; returns how many';

COMMENT ON FUNCTION train_data.export_history(text, text, integer, integer) IS
    'The caller''s exports, newest first, optionally of one format or status, a page at a time';

CREATE OR REPLACE FUNCTION train_data.export_status(export_id uuid)
    RETURNS train_data.export_logs
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l train_data.export_logs;
BEGIN
    SELECT * INTO l FROM train_data.export_logs x WHERE x.export_id = export_status.export_id;
    IF NOT FOUND THEN
        IF export_status.export_id IS NULL THEN
            RAISE EXCEPTION 'export id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'export % does not exist', export_status.export_id
            USING ERRCODE = 'undefined_object';
    END IF;
    IF l.status = 'completed' AND l.expires_at < now() THEN
        IF current_setting('transaction_read_only')::boolean THEN
            l.status := 'expired';
        ELSE
            UPDATE train_data.export_logs x SET status = 'expired'
            WHERE x.id = l.id AND x.status = 'completed' AND x.expires_at < now();
            SELECT * INTO l FROM train_data.export_logs x WHERE x.id = l.id;
        END IF;
    END IF;
    RETURN l;
END
$$;

COMMENT ON FUNCTION train_data.export_status(uuid) IS
    'One export of the caller''s by export_id; a completed export past its expiry is marked expired first (reported expired without the write in a read-only transaction)';

COMMENT ON FUNCTION train_data.quality_metrics(jsonb, jsonb) IS
    'Quality metrics of a conversation''s turns checked against what its template expects (a turn count, or {turns, minTurns, maxTurns, firstRole}): as quality_metrics(turns), length_mismatch and the first role judged by the expectation';

COMMENT ON FUNCTION train_data.quality_defects(jsonb, jsonb) IS
    'Defect codes of a conversation''s turns (the defects member of quality_metrics, without building the metrics); empty when none';

COMMENT ON FUNCTION train_data.quality_defect_codes() IS
    'Every defect code quality_metrics reports, whether it is soft (pending_review rather than needs_revision) and what it means';

COMMENT ON FUNCTION train_data.minhash_signature(text) IS
    'MinHash signature of a text for near-duplicate detection: 128 integers over its 5-word shingles (case, punctuation and apostrophes ignored)';

COMMENT ON FUNCTION train_data.conversation_text_signature(jsonb) IS
    'MinHash signature of a conversation''s text: the contents of its turns in order, as minhash_signature of the contents joined with spaces';
COMMENT ON FUNCTION train_data.minhash_signature_agg_add(internal, text) IS
    'Internal: a state step of minhash_signature_agg';
COMMENT ON FUNCTION train_data.minhash_signature_agg_finish(internal) IS
    'Internal: the final step of minhash_signature_agg';
COMMENT ON AGGREGATE train_data.minhash_signature_agg(text) IS
    'MinHash signature of texts in the order aggregated (ORDER BY), as minhash_signature of them joined with spaces, without joining them; NULL for none';

COMMENT ON FUNCTION train_data.minhash_bands(integer[]) IS
    'The 16 locality-sensitive hashing band keys of a signature (8 slots each, band number mixed in): texts sharing a key are near-duplicate candidates';

COMMENT ON FUNCTION train_data.minhash_similarity(integer[], integer[]) IS
    'Estimated Jaccard similarity of two texts from their signatures: the fraction of equal slots';

COMMENT ON FUNCTION train_data.shingle_jaccard(text, text) IS
    'Exact Jaccard similarity of two texts'' 5-word shingle sets, which minhash_similarity estimates from signatures';

COMMENT ON FUNCTION train_data.shingle_set(text) IS
    'The distinct 5-word shingle hashes of a text, ascending (as unsigned numbers): the set its MinHash signature stands for';

COMMENT ON FUNCTION train_data.shingle_set_similarity(bigint[], bigint[]) IS
    'Exact Jaccard similarity of two shingle sets from shingle_set(): shingle_jaccard of their texts';

COMMENT ON FUNCTION train_data.defect_status(train_data.conversation_status, jsonb) IS
    'Status of a completion given the status its score earned and its defect codes: needs_revision for any hard defect, pending_review instead of generated for soft ones only';

COMMENT ON TABLE train_data.conversation_signatures IS
    'MinHash signature and LSH band keys of each conversation''s text, kept by triggers on conversation_turns; near_duplicates() reads them';

COMMENT ON COLUMN train_data.conversation_signatures.conversation_id IS 'The conversation';

COMMENT ON COLUMN train_data.conversation_signatures.created_by IS 'Owner: the conversation''s owner (composite foreign key)';

COMMENT ON COLUMN train_data.conversation_signatures.signature IS 'minhash_signature() of the turns'' contents in order, joined with spaces';

COMMENT ON COLUMN train_data.conversation_signatures.bands IS 'minhash_bands() of the signature: the LSH band keys';

COMMENT ON FUNCTION train_data.conversation_turns_signature() IS
    'Internal: statement trigger on conversation_turns recomputing the signatures of the conversations a statement wrote (transition table changed_turns)';

COMMENT ON FUNCTION train_data.batch_duplicate(uuid, uuid, jsonb, real) IS
    'Internal step of complete_batch_item: the duplicate_in_batch details (the most similar earlier conversation of the same batch and owner, at or above threshold) of a new conversation''s turns, or NULL';

COMMENT ON FUNCTION train_data.with_batch_duplicate(jsonb, jsonb) IS
    'Internal: quality metrics with the duplicate_in_batch defect added (defects, defectDetails, defectSeverity), or unchanged for NULL details';

COMMENT ON FUNCTION train_data.near_duplicates(real, uuid[], boolean) IS
    'Near duplicates among the caller''s conversations (or those of them among lists): (conversation to drop, the one kept, Jaccard similarity: estimated, or with exact measured on their texts) for pairs at or above threshold, found through the LSH band index; the kept one has the higher quality, then is older';

COMMENT ON FUNCTION train_data.export_selection(text, uuid[], jsonb, jsonb) IS
    'Ids of the conversations export_jsonl / export_conversations with the same scope, ids, filters and options would write, in export order';

COMMENT ON FUNCTION train_data.report_quantiles(double precision[]) IS
    'Internal: count, min, 10th, 50th and 90th percentile, max and mean of a sample, as dataset_report shows them';

COMMENT ON FUNCTION train_data.dataset_report(jsonb, jsonb) IS
    'One JSON document describing the conversations an export with these filters and options writes: counts by status, tier, template and defect, near-duplicate clusters, quantiles, vocabulary diversity and a manifest (rows, checksum of the lines, templates and versions, models)';

-- export_history: the offset of a page computed in bigint (page 2147483647
-- gave "integer out of range" instead of an empty page).
CREATE OR REPLACE FUNCTION train_data.export_history(format text DEFAULT NULL, status text DEFAULT NULL,
                                          page integer DEFAULT 1, page_size integer DEFAULT 25)
    RETURNS SETOF train_data.export_logs
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_custom_plan   -- (planned with the caller's id)
AS $$
DECLARE
    -- (her id in the statement under the stock policy alone, as in
    -- mark_expired_exports: her rows through the owner's index)
    mine_only boolean := train_data.owner_policy_only('train_data.export_logs', 'export_logs_owner');
    owner uuid := CASE WHEN mine_only THEN train_data.current_user_id() END;   -- (not read otherwise)
BEGIN
    IF page IS NULL OR page < 1 OR page_size IS NULL OR page_size NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'invalid export history page % of size %', coalesce(page::text, 'NULL'),
                        coalesce(page_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pages start at 1; a page holds 1 to 100 exports.';
    END IF;
    -- a filter no export can match is a mistake, not an empty history
    IF export_history.format IS NOT NULL AND export_history.format NOT IN ('json', 'jsonl', 'csv', 'markdown') THEN
        RAISE EXCEPTION 'unknown export format "%"', train_data.clip_for_message(export_history.format)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The formats are json, jsonl, csv and markdown.';
    END IF;
    IF export_history.status IS NOT NULL
       AND export_history.status NOT IN ('queued', 'processing', 'completed', 'failed', 'expired') THEN
        RAISE EXCEPTION 'unknown export status "%"', train_data.clip_for_message(export_history.status)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The statuses are queued, processing, completed, failed and expired.';
    END IF;
    RETURN QUERY
        SELECT l.* FROM train_data.export_logs l
        WHERE (export_history.format IS NULL OR l.format = export_history.format)
          AND (export_history.status IS NULL OR l.status = export_history.status)
          AND (NOT mine_only OR l.user_id = owner)
        ORDER BY l."timestamp" DESC, l.id
        LIMIT page_size OFFSET (page::bigint - 1) * page_size;   -- bigint: the last page of int4 too
END
$$;

-- An item its owner ends herself -- cancelled by an UPDATE, or deleted
-- while queued or in flight -- is counted as cancelled in her shard of the
-- job's counters (one in flight fewer when it was), and the job ends when
-- its items all have (found by an adversarial review, twentieth session:
-- the counters and the progress functions kept counting such items as
-- queued or in flight, and a job whose items were all cancelled so stayed
-- queued for good).  A deleted item counts as cancelled: the job's total is
-- the one it was made with.  A row trigger adds each item to its job's sums
-- kept for the statement; a statement trigger then adds each sum to the
-- job's counters and ends the job if nothing is left to do
-- (owner_close_job), once per job and statement (src/owner_end.c: both in
-- C, without WHEN clauses, which are planned for every UPDATE statement of
-- the table, the engine's too).  They run as the owner, under her
-- policies: she writes only her own shards, which no worker writes, and
-- takes no lock a worker waits for (ending the job as finish_job_if_done
-- does took the finishers' lock from her transaction).  cancel_batch's
-- items are counted here too (it ends the job first, so the statement
-- trigger does not end it again); the engine's changes, a superuser's
-- (cancel_batch counts those itself) and the cascade of a deleted job are
-- not the owner's.
CREATE FUNCTION train_data.batch_items_owner_count() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_batch_items_owner_count';
COMMENT ON FUNCTION train_data.batch_items_owner_count() IS
    'Internal: trigger adding an item its owner cancels or deletes before it ended to its job''s sums for the statement';
CREATE FUNCTION train_data.batch_items_owner_finish() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_batch_items_owner_finish';
COMMENT ON FUNCTION train_data.batch_items_owner_finish() IS
    'Internal: trigger counting, per job, the items their owner ended in the statement as cancelled (in her shard), and ending each job left with nothing to do';

-- (BEFORE: it sees the role of the statement that changes the row; after
-- batch_items_guard by name, and no trigger after it skips the row)
CREATE TRIGGER batch_items_owner_count
    BEFORE UPDATE OR DELETE ON train_data.batch_items
    FOR EACH ROW EXECUTE FUNCTION train_data.batch_items_owner_count();
CREATE TRIGGER batch_items_owner_finish
    AFTER UPDATE OR DELETE ON train_data.batch_items
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.batch_items_owner_finish();
REVOKE ALL ON FUNCTION train_data.batch_items_owner_count() FROM PUBLIC;
REVOKE ALL ON FUNCTION train_data.batch_items_owner_finish() FROM PUBLIC;

-- Messages of NULL arguments: "NULL", not "<NULL>" (an adversarial review,
-- twentieth session).
CREATE OR REPLACE FUNCTION train_data.create_batch_matrix(name text, template_ids uuid[], parameter_sets jsonb,
                                               shared_parameters jsonb DEFAULT '{}',
                                               concurrent_processing integer DEFAULT 3,
                                               error_handling text DEFAULT 'continue',
                                               priority text DEFAULT 'normal',
                                               tier train_data.tier_type DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- the options first, as create_batch checks them (a name too long was
    -- reported as a batch that names no templates: a review of the errors)
    PERFORM train_data.check_batch_options(name, shared_parameters, concurrent_processing, error_handling, priority);
    IF template_ids IS NULL OR cardinality(template_ids) = 0 THEN
        RAISE EXCEPTION 'batch % names no templates', coalesce('"' || left(name, 200) || '"', 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF parameter_sets IS NULL OR jsonb_typeof(parameter_sets) <> 'array' OR jsonb_array_length(parameter_sets) = 0 THEN
        RAISE EXCEPTION 'parameter sets of batch % must be a non-empty JSON array',
                        coalesce('"' || left(name, 200) || '"', 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- before building the items (10,000 templates by 10,000 sets ran 8 minutes,
    -- then failed on a 1 GB allocation: a review of 1.2)
    IF cardinality(template_ids)::bigint * jsonb_array_length(parameter_sets) > 1000000 THEN
        RAISE EXCEPTION 'batch % would have % items; the limit is 1000000', coalesce('"' || left(name, 200) || '"', 'NULL'),
                        cardinality(template_ids)::bigint * jsonb_array_length(parameter_sets)
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('The batch has %s templates and %s parameter sets.', cardinality(template_ids),
                                  jsonb_array_length(parameter_sets));
    END IF;
    RETURN train_data.create_batch(
        name,
        (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('template_id', t.id, 'tier', create_batch_matrix.tier,
                                                               'parameters', p.value))
                          ORDER BY t.ord, p.ord)
         FROM unnest(template_ids) WITH ORDINALITY AS t(id, ord),
              jsonb_array_elements(parameter_sets) WITH ORDINALITY AS p(value, ord)),
        shared_parameters, concurrent_processing, error_handling, priority);
END
$$;

CREATE OR REPLACE FUNCTION train_data.check_setting_choice(kind text, doc jsonb, path text[], allowed text[])
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := doc #> path;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) <> 'string' OR NOT (v #>> '{}') = ANY (allowed) THEN
        RAISE EXCEPTION '% setting "%" must be one of: %', coalesce(train_data.clip_for_message(kind), 'NULL'),
                        coalesce(train_data.clip_for_message(array_to_string(path, '.')), 'NULL'),
                        coalesce(train_data.clip_for_message(array_to_string(allowed, ', ')), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN v IS NULL THEN 'The setting is missing.'
                                ELSE format('The value is %s.', train_data.json_for_message(v)) END;
    END IF;
END
$$;

-- Values quoted in settings' errors are clipped (a 50 MB value was echoed
-- whole into the message and the server log), and the estimate of a batch
-- counts in numeric (1,789,570 conversations overflowed an integer): an
-- adversarial review of 1.2.
CREATE OR REPLACE FUNCTION train_data.check_setting_range(kind text, doc jsonb, path text[], low numeric, high numeric)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := doc #> path;
    name text := array_to_string(path, '.');
BEGIN
    IF v IS NULL OR jsonb_typeof(v) <> 'number' THEN
        RAISE EXCEPTION '% setting "%" must be a number', train_data.clip_for_message(kind), train_data.clip_for_message(name)
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = CASE WHEN v IS NULL THEN 'The setting is missing.'
                                ELSE format('The value is %s.', train_data.json_for_message(v)) END;
    END IF;
    IF (low IS NOT NULL AND v::numeric < low) OR (high IS NOT NULL AND v::numeric > high) THEN
        RAISE EXCEPTION '% setting "%" is out of range', train_data.clip_for_message(kind), train_data.clip_for_message(name)
            USING ERRCODE = 'invalid_parameter_value',
                  -- (a bound may come from the document: another setting's value)
                  DETAIL = CASE WHEN high IS NULL THEN format('The value is %s; it must be at least %s.',
                                                              train_data.json_for_message(v),
                                                              train_data.clip_for_message(low::text))
                                WHEN low IS NULL THEN format('The value is %s; it must be at most %s.',
                                                             train_data.json_for_message(v),
                                                             train_data.clip_for_message(high::text))
                                ELSE format('The value is %s; it must be between %s and %s.',
                                            train_data.json_for_message(v), train_data.clip_for_message(low::text),
                                            train_data.clip_for_message(high::text)) END;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION train_data.validate_user_preferences(preferences jsonb)
    RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k constant text := 'user preference';
    p jsonb;
    range jsonb;
    wrong record;
BEGIN
    PERFORM train_data.check_setting_keys('user preferences', coalesce(preferences, '{}'),
                                          train_data.default_user_preferences(),
                                          '{keyboardShortcuts.customBindings}');
    p := train_data.jsonb_merge_deep(train_data.default_user_preferences(), coalesce(preferences, '{}'));
    PERFORM train_data.check_setting_choice(k, p, '{theme}', '{light,dark,system}');
    PERFORM train_data.check_setting_choice(k, p, '{tableDensity}', '{compact,comfortable,spacious}');
    IF NOT (p -> 'rowsPerPage') <@ '[10, 25, 50, 100]'::jsonb OR jsonb_typeof(p -> 'rowsPerPage') <> 'number' THEN
        RAISE EXCEPTION '% setting "rowsPerPage" must be one of: 10, 25, 50, 100', k
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The value is %s.', train_data.json_for_message(p -> 'rowsPerPage'));
    END IF;
    PERFORM train_data.check_setting_choice(k, p, '{exportPreferences,defaultFormat}', '{json,jsonl,csv,markdown}');
    PERFORM train_data.check_setting_range(k, p, '{exportPreferences,autoCompressionThreshold}', 1, 10000);
    PERFORM train_data.check_setting_range(k, p, '{qualityThresholds,minimumAcceptable}', 0, 10);
    PERFORM train_data.check_setting_range(k, p, '{qualityThresholds,flagging}',
                                           (p #>> '{qualityThresholds,minimumAcceptable}')::numeric, 10);
    PERFORM train_data.check_setting_range(k, p, '{qualityThresholds,autoApproval}',
                                           (p #>> '{qualityThresholds,flagging}')::numeric, 10);
    range := p #> '{defaultFilters,qualityRange}';
    IF jsonb_typeof(range) <> 'array' OR jsonb_array_length(range) <> 2 THEN
        RAISE EXCEPTION '% setting "defaultFilters.qualityRange" must be an array [min, max]', k
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The value is %s.', train_data.json_for_message(range));
    END IF;
    PERFORM train_data.check_setting_range(k, jsonb_build_object('defaultFilters.qualityRange[0]', range -> 0),
                                           '{defaultFilters.qualityRange[0]}', 0, 10);
    PERFORM train_data.check_setting_range(k, jsonb_build_object('defaultFilters.qualityRange[1]', range -> 1),
                                           '{defaultFilters.qualityRange[1]}', (range ->> 0)::numeric, 10);
    PERFORM train_data.check_setting_choice(k, p, '{retryConfig,strategy}', '{exponential,linear,fixed}');
    PERFORM train_data.check_setting_range(k, p, '{retryConfig,maxAttempts}', 1, 10);
    PERFORM train_data.check_setting_range(k, p, '{retryConfig,baseDelayMs}', 100, 10000);
    PERFORM train_data.check_setting_range(k, p, '{retryConfig,maxDelayMs}',
                                           greatest(1000, (p #>> '{retryConfig,baseDelayMs}')::numeric), 300000);
    -- every other setting keeps the JSON type of its default (a switch stays
    -- a boolean, a group an object), free-form bindings and null defaults aside
    SELECT d.path, d.want INTO wrong
    FROM (WITH RECURSIVE d(path, v) AS (
              SELECT ARRAY[e.key], e.value FROM jsonb_each(train_data.default_user_preferences()) e
              UNION ALL
              SELECT d.path || e.key, e.value FROM d, jsonb_each(d.v) e
              WHERE jsonb_typeof(d.v) = 'object' AND d.path <> '{keyboardShortcuts,customBindings}')
          SELECT d.path, jsonb_typeof(d.v) AS want FROM d) d
    WHERE d.want <> 'null' AND jsonb_typeof(p #> d.path) <> d.want
    ORDER BY d.path LIMIT 1;
    IF wrong.path IS NOT NULL THEN
        RAISE EXCEPTION '% setting "%" must be %', k, array_to_string(wrong.path, '.'),
                        CASE WHEN wrong.want IN ('object', 'array') THEN 'an ' ELSE 'a ' END || wrong.want
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The value is %s.', train_data.json_for_message(p #> wrong.path));
    END IF;
    RETURN p;
END
$$;

CREATE OR REPLACE FUNCTION train_data.estimate_batch_cost(tier train_data.tier_type, count integer,
                                               concurrency integer DEFAULT 3,
                                               rate_limit integer DEFAULT 50)
    RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t train_data.tier_type := coalesce(tier, 'scenario');
    input_tokens integer := CASE t WHEN 'template' THEN 2000 WHEN 'scenario' THEN 2500 ELSE 3000 END;
    output_tokens integer := CASE t WHEN 'template' THEN 3000 WHEN 'scenario' THEN 4000 ELSE 5000 END;
    input_cost numeric := input_tokens / 1000.0 * 0.015;
    output_cost numeric := output_tokens / 1000.0 * 0.075;
    seconds numeric;
    minutes bigint;
BEGIN
    IF count IS NULL OR count < 0 THEN
        RAISE EXCEPTION 'conversation count must be zero or more, not %', coalesce(count::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF concurrency IS NULL OR concurrency NOT BETWEEN 1 AND 10 THEN
        RAISE EXCEPTION 'concurrency must be between 1 and 10, not %', coalesce(concurrency::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF rate_limit IS NULL OR rate_limit < 1 THEN
        RAISE EXCEPTION 'rate limit must be at least 1 request per minute, not %', coalesce(rate_limit::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- count / min(concurrency, rate_limit / 60) * 20, kept exact
    seconds := count::numeric * 20 * 60 / least(concurrency * 60, rate_limit)::numeric;
    minutes := ceil(seconds / 60);
    RETURN jsonb_build_object(
        'tier', t,
        'count', count,
        'input_tokens_per_conversation', input_tokens,
        'output_tokens_per_conversation', output_tokens,
        'total_input_tokens', input_tokens::bigint * count,
        'total_output_tokens', output_tokens::bigint * count,
        'cost_per_conversation', round(input_cost + output_cost, 2),
        'input_cost', round(input_cost * count, 2),
        'output_cost', round(output_cost * count, 2),
        'total_cost', round((input_cost + output_cost) * count, 2),
        'estimated_seconds', round(seconds),
        'estimated_minutes', minutes,
        'estimated_time', CASE WHEN minutes >= 60
                               THEN format('~%sh %sm', minutes / 60, minutes % 60)
                               ELSE format('~%s minutes', minutes) END);
END
$$;

-- The review queue's index is led by the owner: a user's queue read every
-- user's pending conversations and filtered them by the policy (300,000 of
-- another user's: 150-330 ms for an empty queue; an adversarial review).
DROP INDEX train_data.conversations_review_queue_idx;
CREATE INDEX conversations_review_queue_idx ON train_data.conversations (created_by, quality_score, created_at)
    WHERE status = 'pending_review';

-- Regenerations by parent (conversation_versions walks down a chain with
-- it, a probe a version): conversation parents only, which the guard keeps
-- the writer's own, so that a step reads the caller's rows alone.  Through
-- conversations_parent_idx, a chain of 101 versions took 6.7 s beside
-- another user's 300,000 conversations of one scenario (a seq scan a step,
-- planned on statistics without the caller's rows; an adversarial review
-- of 1.2): now 2 ms.
CREATE INDEX conversations_regenerated_idx ON train_data.conversations (parent_id)
    WHERE parent_type = 'conversation';

-- A preview escapes the whole resolved text, the template's own text as
-- well as the values: the library is shared, and another user's template
-- is not to be trusted as HTML (1.1 escaped only the values).
CREATE FUNCTION train_data.html_escape(t text)
    RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_html_escape';

COMMENT ON FUNCTION train_data.html_escape(text) IS
    'The text with & < > " '' / as HTML entities (&amp; &lt; &gt; &quot; &#x27; &#x2F;), for showing it in a web page';

CREATE OR REPLACE FUNCTION train_data.preview_template(template_id uuid, parameters jsonb DEFAULT '{}')
    RETURNS jsonb
    LANGUAGE sql STABLE
    RETURN (SELECT r || pg_catalog.jsonb_build_object('resolved', train_data.html_escape(r ->> 'resolved'))
            FROM (SELECT train_data.resolve_template(template_id, parameters) AS r) s);

-- A turn, item, counter, log or audit row inserted without an owner when
-- no user id is set: 28000 "no user id is set", as for the parents,
-- instead of the policy's 42501 (user_id_default is native now: a row
-- given its owner, as the engine's are, does not call it; a superuser's
-- child row without one still takes its parent's owner).
ALTER TABLE train_data.conversation_turns
    ALTER COLUMN created_by SET DEFAULT train_data.user_id_default('train_data.conversation_turns', false);
ALTER TABLE train_data.batch_items
    ALTER COLUMN created_by SET DEFAULT train_data.user_id_default('train_data.batch_items', false);
ALTER TABLE train_data.batch_job_counters
    ALTER COLUMN created_by SET DEFAULT train_data.user_id_default('train_data.batch_job_counters', false);
ALTER TABLE train_data.generation_logs
    ALTER COLUMN created_by SET DEFAULT train_data.user_id_default('train_data.generation_logs', false);
ALTER TABLE train_data.configuration_audit_log
    ALTER COLUMN user_id SET DEFAULT train_data.user_id_default('train_data.configuration_audit_log', true);

-- A batch item's position is unique per job and owner (one per job), so
-- that another user's insert aimed at a job never meets its items: a 23505
-- for a taken position told her how many items the job has (found by a
-- review of the errors, thirty-fifth session).
ALTER TABLE train_data.batch_items
    DROP CONSTRAINT batch_items_position_unique,
    ADD CONSTRAINT batch_items_position_unique UNIQUE (batch_job_id, position, created_by);

-- A configuration's name: at most 200 characters (a longer one met the
-- unique keys' index size limit with PostgreSQL's 54000; found by a review
-- of the errors, thirty-fifth session).  A 1.1 name over 200 characters
-- stops the update, naming what to do.
DO $$
DECLARE
    n bigint;
BEGIN
    SELECT count(*) INTO n FROM train_data.ai_configurations c WHERE char_length(c.config_name) > 200;
    IF n > 0 THEN
        RAISE EXCEPTION 'train_data 1.2 takes AI configuration names of up to 200 characters; % %', n,
                        CASE WHEN n = 1 THEN 'configuration has a longer one' ELSE 'configurations have longer ones' END
            USING ERRCODE = 'string_data_right_truncation',
                  HINT = 'Shorten them in a transaction of its own, then update again: UPDATE train_data.ai_configurations '
                         'SET config_name = left(config_name, 180) || '' '' || left(id::text, 8) '
                         'WHERE char_length(config_name) > 200;';
    END IF;
END
$$;
ALTER TABLE train_data.ai_configurations
    ADD CONSTRAINT ai_configurations_name_length CHECK (pg_catalog.char_length(config_name) <= 200);

-- Every stored template passes 1.2's check_template(), its table's CHECK:
-- 1.2 refuses a default its own variable refuses (thirty-sixth session:
-- every render leaving the variable out failed) and variables over 4 MB
-- (thirty-fifth).  A 1.1 row failing it would fail every later update of
-- the row and the restore of a dump (COPY checks the constraint), so the
-- update stops, naming the templates and the first one's problem.
DO $$
DECLARE
    t record;
    n bigint := 0;
    ids text := '';
    problem text;
BEGIN
    FOR t IN SELECT x.id, x.structure, x.variables FROM train_data.templates x ORDER BY x.id LOOP
        BEGIN
            PERFORM train_data.check_template(t.structure, t.variables);
        EXCEPTION WHEN invalid_parameter_value OR program_limit_exceeded THEN
            n := n + 1;
            IF n <= 10 THEN
                ids := ids || CASE WHEN n > 1 THEN ', ' ELSE '' END || t.id::text;
            END IF;
            IF n = 1 THEN
                problem := SQLERRM;
            END IF;
        END;
    END LOOP;
    IF n > 0 THEN
        RAISE EXCEPTION 'train_data 1.2 checks templates more strictly; % stored % its check', n,
                        CASE WHEN n = 1 THEN 'template fails' ELSE 'templates fail' END
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('Templates: %s%s. The first: %s.', ids,
                                  CASE WHEN n > 10 THEN format(' and %s more', n - 10) ELSE '' END,
                                  train_data.clip_for_message(problem)),
                  HINT = 'Correct them in a transaction of its own, then update again: '
                         'SELECT train_data.check_template(structure, variables) FROM train_data.templates '
                         'WHERE id = ... names each one''s problem.';
    END IF;
END
$$;

-- What the planner reads.  Row-level security filters rows, not the
-- statistics ANALYZE gathers from all of them: for an operator marked
-- leakproof (text and uuid equality and order among them) the planner
-- estimates a user's query from other users' most common values and
-- histogram bounds, and an estimate (EXPLAIN, PostgREST's planned and
-- estimated counts) can be searched a character at a time until it gives
-- them back: another user's titles, personas, short turns (a
-- review of 1.2, thirty-eighth session).  The columns that hold a user's
-- text keep no statistics.  None of them is a claim's, a completion's or
-- an export's filter.  Keys and owners keep theirs: without them the
-- planner read a job's items in flight through the lease index of every
-- job (test/sql/batch.sql), so ids and the number of rows of each owner
-- can still be estimated (docs/security.md).
ALTER TABLE train_data.conversations
    ALTER COLUMN conversation_id SET STATISTICS 0, ALTER COLUMN title SET STATISTICS 0,
    ALTER COLUMN persona SET STATISTICS 0, ALTER COLUMN emotion SET STATISTICS 0,
    ALTER COLUMN topic SET STATISTICS 0, ALTER COLUMN intent SET STATISTICS 0,
    ALTER COLUMN tone SET STATISTICS 0, ALTER COLUMN reviewer_notes SET STATISTICS 0,
    ALTER COLUMN error_message SET STATISTICS 0;
ALTER TABLE train_data.conversation_turns ALTER COLUMN content SET STATISTICS 0;
ALTER TABLE train_data.batch_jobs ALTER COLUMN name SET STATISTICS 0, ALTER COLUMN channel_token SET STATISTICS 0;
ALTER TABLE train_data.batch_items
    ALTER COLUMN topic SET STATISTICS 0, ALTER COLUMN prompt SET STATISTICS 0,
    ALTER COLUMN error_message SET STATISTICS 0, ALTER COLUMN worker SET STATISTICS 0;
ALTER TABLE train_data.generation_logs
    ALTER COLUMN model_used SET STATISTICS 0, ALTER COLUMN error_message SET STATISTICS 0;
ALTER TABLE train_data.export_logs
    ALTER COLUMN file_url SET STATISTICS 0, ALTER COLUMN error_message SET STATISTICS 0;
ALTER TABLE train_data.ai_configurations ALTER COLUMN config_name SET STATISTICS 0;
ALTER TABLE train_data.configuration_audit_log
    ALTER COLUMN change_reason SET STATISTICS 0, ALTER COLUMN user_agent SET STATISTICS 0;

-- ANALYZE leaves the statistics it gathered before untouched: a database
-- updated from 1.1 would go on showing them.  They are removed here when
-- the role updating may (pg_statistic is a superuser's); else a NOTICE
-- gives the statement for a superuser to run.
DO $$
DECLARE
    stale text := $q$DELETE FROM pg_catalog.pg_statistic s USING pg_catalog.pg_attribute a
        WHERE a.attrelid OPERATOR(pg_catalog.=) s.starelid AND a.attnum OPERATOR(pg_catalog.=) s.staattnum
          AND a.attstattarget OPERATOR(pg_catalog.=) 0
          AND a.attrelid IN (SELECT c.oid FROM pg_catalog.pg_class c
                             WHERE c.relnamespace OPERATOR(pg_catalog.=) 'train_data'::pg_catalog.regnamespace)$q$;
BEGIN
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
        EXECUTE stale;
    ELSE
        RAISE WARNING 'the statistics gathered by 1.1 of columns that keep none since 1.2 stay until a superuser removes them'
            USING DETAIL = 'Other users'' values can be read from them through query estimates.',
                  HINT = 'As a superuser: ' || pg_catalog.regexp_replace(stale, '\s+', ' ', 'g') || ';';
    END IF;
END
$$;

-- The EXECUTE grants carried above to the new signatures of the worker
-- functions are the site's, not the extension's: a GRANT an extension
-- script runs is recorded in pg_init_privs as the extension's initial
-- privileges, which pg_dump leaves out, so a database updated to 1.2 and
-- then dumped restored without its workers' grants (every claim refused),
-- or, once such a role was dropped, with a REVOKE from a role number that
-- stopped pg_restore --exit-on-error (found by a review of the update
-- path).  Their initial privileges are made a fresh install's: the
-- owner's alone.
UPDATE pg_catalog.pg_init_privs ip
SET initprivs = ARRAY(SELECT a FROM pg_catalog.unnest(ip.initprivs) a
                      WHERE NOT EXISTS (SELECT FROM pg_catalog.aclexplode(ARRAY[a]) x
                                        WHERE x.grantee OPERATOR(pg_catalog.<>) p.proowner))
FROM pg_catalog.pg_proc p
WHERE ip.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND ip.objsubid = 0 AND ip.objoid = p.oid
  AND p.oid IN ('train_data.claim_batch_items(text,integer,interval)'::pg_catalog.regprocedure,
                'train_data.heartbeat_batch_item(uuid,numeric,interval,integer)'::pg_catalog.regprocedure,
                'train_data.complete_batch_item(uuid,jsonb,integer,integer)'::pg_catalog.regprocedure,
                'train_data.fail_batch_item(uuid,text,text,boolean,integer)'::pg_catalog.regprocedure);

-- Record a model call whose answer the queue refused: the item was claimed
-- again after the caller's lease ran out, or cancelled, while the model
-- answered (complete_batch_item's 55000).  The provider bills such a call
-- like any other; before, nothing recorded it (a review of 1.2's cost
-- accounting).  The log row has status 'discarded', no conversation, the
-- response (up to 8 MB) and what it reports it cost, and the attempt the
-- claim returned (retry_attempt, counted from 0), by which a second
-- record of the same call is refused: at most one row per attempt handed
-- out.  Refused for the attempt in flight (complete or fail it instead)
-- and for one the queue has recorded (completed, failed, or given back).
-- Returns the log row's id.
CREATE FUNCTION train_data.log_discarded_response(item_id uuid, attempt integer, response jsonb,
                                                  duration_ms integer DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan   -- the same plans every call: no re-planning
    SET enable_seqscan = off   -- kept plans: an index, even for a table small then
    SET lock_timeout = '5s'   -- an item row its owner holds delays a worker 5 s at most (55P03)
AS $$
DECLARE
    item train_data.batch_items;
    token integer;
    usage record;
    log_id uuid;
BEGIN
    IF item_id IS NULL OR attempt IS NULL OR response IS NULL THEN
        RAISE EXCEPTION 'item_id, attempt and response must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF duration_ms < 0 THEN
        RAISE EXCEPTION 'duration_ms must not be negative, not %', duration_ms USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (locked, and written below: two records of one call are one after the other)
    SELECT * INTO item FROM train_data.batch_items i WHERE i.id = log_discarded_response.item_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'batch item % does not exist', item_id USING ERRCODE = 'undefined_object';
    END IF;
    token := item.attempts + item.released;
    IF attempt < 1 OR attempt > token THEN
        RAISE EXCEPTION 'batch item % has had no attempt %: its current attempt is %', item_id, attempt, token
            USING ERRCODE = 'object_not_in_prerequisite_state',   -- (as the other worker calls give it)
                  HINT = 'Give the attempt the claim returned with the item.';
    END IF;
    IF (attempt = ANY (coalesce(item.lost_attempts, '{}'))) IS NOT TRUE THEN
        IF EXISTS (SELECT 1 FROM train_data.generation_logs g
                   WHERE g.batch_item_id = item.id AND g.status = 'discarded' AND g.retry_attempt = attempt - 1) THEN
            RAISE EXCEPTION 'attempt % of batch item % is recorded as discarded already', attempt, item_id
                USING ERRCODE = 'unique_violation';
        ELSIF attempt = token AND item.status = 'processing' THEN
            RAISE EXCEPTION 'batch item % is in flight under attempt %', item_id, attempt
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'Store the answer with complete_batch_item, or report a failure with fail_batch_item.';
        END IF;
        RAISE EXCEPTION 'attempt % of batch item % lost no call', attempt, item_id
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The queue recorded its outcome (a completion or a failure), or its worker gave the item back.';
    END IF;
    usage := train_data.response_cost(response, item.request ->> 'model');
    PERFORM train_data.log_generation(item.id, item.batch_job_id, item.template_id, item.request, item.parameters,
                                      attempt, item.created_by, NULL,
                                      CASE WHEN train_data.jsonb_raw_size(response) <= 8388608 THEN response END,
                                      'discarded', coalesce(usage.input_tokens, 0), coalesce(usage.output_tokens, 0),
                                      usage.cost, duration_ms,
                                      CASE WHEN attempt < token THEN 'the item was claimed again'
                                           WHEN item.status = 'cancelled' THEN 'the item was cancelled'
                                           ELSE 'the item failed: ' || coalesce(item.error_code, 'no code') END,
                                      'discarded', usage.cache_read_tokens, usage.cache_write_tokens);
    UPDATE train_data.batch_items i SET lost_attempts = nullif(array_remove(i.lost_attempts, attempt), '{}')
    WHERE i.id = item.id;
    SELECT g.id INTO log_id FROM train_data.generation_logs g
    WHERE g.batch_item_id = item.id AND g.status = 'discarded' AND g.retry_attempt = attempt - 1;
    RETURN log_id;
END
$$;

COMMENT ON FUNCTION train_data.log_discarded_response(uuid, integer, jsonb, integer) IS
    'Worker function: records a model call whose answer the queue refused (the item claimed again after the lease ran out, cancelled, or failed for a lost lease meanwhile) as a discarded generation_logs row with its tokens and cost, once per lost attempt; returns the log row''s id';

REVOKE ALL ON FUNCTION train_data.log_discarded_response(uuid, integer, jsonb, integer) FROM PUBLIC;

-- train_data's own tables, and their schema, are its alone (users neither
-- read nor write them): a grant the site's default privileges gave one as
-- it was made (ALTER DEFAULT PRIVILEGES … GRANT … ON TABLES, or ON SCHEMAS)
-- is taken back, so that no role can lock them and make everyone's claims
-- and deletes wait (a review of 1.2: a 1.1 site's default privileges in the
-- schema train_data gave its application role every table the update made).
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT DISTINCT 'TABLE ' OPERATOR(pg_catalog.||) c.oid::pg_catalog.regclass::text AS obj,
               CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END
                   AS grantee
        FROM pg_catalog.pg_class c CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
        WHERE c.relnamespace OPERATOR(pg_catalog.=) 'train_data_internal'::pg_catalog.regnamespace
          AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
        UNION
        SELECT 'SCHEMA train_data_internal',
               CASE WHEN a.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END
        FROM pg_catalog.pg_namespace n CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
        WHERE n.oid OPERATOR(pg_catalog.=) 'train_data_internal'::pg_catalog.regnamespace
          AND a.grantee OPERATOR(pg_catalog.<>) n.nspowner
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM %s', g.obj, g.grantee);
    END LOOP;
END
$$;

-- Privileges beyond the four a user needs.  The README's set-up grants
-- SELECT, INSERT, UPDATE and DELETE; a site's GRANT ALL gives TRUNCATE,
-- TRIGGER and REFERENCES too, and each would undo the tenant model:
-- TRUNCATE ignores row-level security (every user's rows gone); a trigger
-- runs as whoever fires it, train_data's SECURITY DEFINER functions too, so
-- a user's trigger ran her code as the extension's owner; and a foreign
-- key's checks read the referenced rows without row-level security, so a
-- user's key to a train_data table told which of other users' ids exist and
-- held those rows against deletion (its cascades ran her triggers inside
-- the deleting superuser's session, an adversarial review of 1.2).  All
-- three are refused to every role but the table's owner (a superuser
-- included).  train_data's tables are those of the extension, by
-- membership, not by the name of their schema.

-- BEFORE TRUNCATE on every table of the extension in its schema: refused
-- unless the caller has the table owner's privileges.  (Not on those in
-- train_data_internal, which no user may use: a trigger more on a table
-- costs every statement that writes it, in copying the table's triggers,
-- and a claim writes two of them.)
CREATE FUNCTION train_data.truncate_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
                                   WHERE c.oid OPERATOR(pg_catalog.=) TG_RELID), 'USAGE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('truncate of table %s is refused', TG_RELID::pg_catalog.regclass),
            DETAIL = 'TRUNCATE ignores row-level security: it removes every user''s rows.',
            HINT = 'Delete your own rows with DELETE; only the table''s owner may truncate it.';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION train_data.truncate_guard() IS
    'Internal: trigger refusing TRUNCATE of a train_data table to a role without its owner''s privileges (TRUNCATE ignores row-level security)';
REVOKE ALL ON FUNCTION train_data.truncate_guard() FROM PUBLIC;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.oid::pg_catalog.regclass AS tbl, c.relname
        FROM pg_catalog.pg_class c
        JOIN pg_catalog.pg_depend d ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                                   AND d.objid OPERATOR(pg_catalog.=) c.oid
                                   AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                                   AND d.deptype OPERATOR(pg_catalog.=) 'e'
        JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
        WHERE e.extname OPERATOR(pg_catalog.=) 'train_data' AND c.relkind OPERATOR(pg_catalog.=) 'r'
          AND c.relnamespace OPERATOR(pg_catalog.=) e.extnamespace
        ORDER BY c.relname
    LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s'
                                  ' FOR EACH STATEMENT EXECUTE FUNCTION train_data.truncate_guard()',
                                  t.relname OPERATOR(pg_catalog.||) '_truncate_guard', t.tbl);
    END LOOP;
END
$$;

-- At the end of CREATE TRIGGER, CREATE TABLE, ALTER TABLE and CREATE
-- SCHEMA (whose CREATE TABLE runs under its tag: a review made a key that
-- way): a trigger on a table of the extension, or a foreign key to one, is
-- refused unless its maker has the table owner's privileges (TRIGGER or
-- REFERENCES granted is not enough).  A key is judged when this
-- transaction wrote it (age(xmin) <= 0: its own xid or a subtransaction's).
CREATE FUNCTION train_data.table_guard() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
BEGIN
    FOR t IN
        WITH made AS (
            SELECT 'trigger' AS what, g.tgname AS name, g.tgrelid AS rel
            FROM pg_catalog.pg_event_trigger_ddl_commands() d
            JOIN pg_catalog.pg_trigger g ON g.oid OPERATOR(pg_catalog.=) d.objid
            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_trigger'::pg_catalog.regclass
            UNION ALL
            -- (a key this transaction wrote: one made before, by the
            -- table's owner or under 1.1, does not stop the table's changes)
            SELECT 'foreign key', k.conname, k.confrelid
            FROM pg_catalog.pg_event_trigger_ddl_commands() d
            JOIN pg_catalog.pg_constraint k ON k.conrelid OPERATOR(pg_catalog.=) d.objid
                                           AND k.contype OPERATOR(pg_catalog.=) 'f'
            WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
              AND pg_catalog.age(k.xmin) OPERATOR(pg_catalog.<=) 0)
        SELECT m.what, m.name, m.rel::pg_catalog.regclass AS tbl
        FROM made m JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) m.rel
        WHERE NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')
          AND EXISTS (SELECT FROM pg_catalog.pg_depend d
                      JOIN pg_catalog.pg_extension e ON e.oid OPERATOR(pg_catalog.=) d.refobjid
                      WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                        AND d.objid OPERATOR(pg_catalog.=) m.rel
                        AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                        AND d.deptype OPERATOR(pg_catalog.=) 'e'
                        AND e.extname OPERATOR(pg_catalog.=) 'train_data')
    LOOP
        IF t.what OPERATOR(pg_catalog.=) 'trigger' THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = pg_catalog.format('trigger %s on table %s is refused', pg_catalog.quote_ident(t.name), t.tbl),
                DETAIL = 'A trigger runs as whoever fires it, train_data''s own functions too, which run as the extension''s owner.',
                HINT = 'Only the table''s owner may add a trigger to a train_data table; grant users SELECT, INSERT, UPDATE and DELETE, not TRIGGER.';
        END IF;
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('foreign key %s to table %s is refused', pg_catalog.quote_ident(t.name), t.tbl),
            DETAIL = 'A foreign key''s checks read the rows of every user: it would tell which ids exist, and hold those rows against deletion.',
            HINT = 'Only the table''s owner may make a foreign key to a train_data table; grant users SELECT, INSERT, UPDATE and DELETE, not REFERENCES.';
    END LOOP;
END
$$;
COMMENT ON FUNCTION train_data.table_guard() IS
    'Internal: event trigger refusing a trigger on a train_data table, or a foreign key to one, to a role without its owner''s privileges';
REVOKE ALL ON FUNCTION train_data.table_guard() FROM PUBLIC;
CREATE EVENT TRIGGER train_data_table_guard ON ddl_command_end
    WHEN TAG IN ('CREATE TRIGGER', 'CREATE TABLE', 'ALTER TABLE', 'CREATE SCHEMA')
    EXECUTE FUNCTION train_data.table_guard();
COMMENT ON EVENT TRIGGER train_data_table_guard IS
    'Refuses a trigger on a train_data table, or a foreign key to one, to a role without its owner''s privileges (train_data.table_guard)';
