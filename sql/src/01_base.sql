-- sql/src/01_base.sql — types, the identity function, the native functions every other part uses, conversation ids.

--------------------------------------------------------------------------------
-- 1. Types
--------------------------------------------------------------------------------

CREATE TYPE train_data.conversation_status AS ENUM (
    'draft',            -- not generated yet
    'generating',       -- model call in flight
    'generated',        -- generated, quality at or above the template threshold
    'pending_review',   -- quality within 2 points below the threshold
    'approved',
    'rejected',
    'needs_revision',   -- quality more than 2 points below, or a reviewer asked
    'failed',           -- the model call or its validation failed
    'archived'          -- superseded by a regenerated version
);

COMMENT ON TYPE train_data.conversation_status IS 'Life cycle of a generated conversation';

CREATE TYPE train_data.tier_type AS ENUM ('template', 'scenario', 'edge_case');

COMMENT ON TYPE train_data.tier_type IS 'Tier of a prompt: template, scenario or edge case';

CREATE TYPE train_data.batch_job_status AS ENUM (
    'queued', 'processing', 'paused', 'completed', 'failed', 'cancelled'
);

COMMENT ON TYPE train_data.batch_job_status IS 'State of a batch job';

CREATE TYPE train_data.batch_item_status AS ENUM (
    'queued', 'processing', 'completed', 'failed', 'cancelled'
);

COMMENT ON TYPE train_data.batch_item_status IS 'State of one work item of a batch job';

--------------------------------------------------------------------------------
-- 2. Identity and shared trigger functions
--------------------------------------------------------------------------------

-- The user the row-level security policies act for: train_data.user_id, else
-- request.jwt.claim.sub, else the "sub" of request.jwt.claims, else NULL.
-- PARALLEL RESTRICTED: a misspelt train_data.* setting is refused (42704)
-- from what the session's own process noted when it loaded the library,
-- which a parallel worker never saw (a review of 1.2).  The policies'
-- (SELECT current_user_id()) is an initplan the leader evaluates and
-- passes on, so their scans stay parallel.
CREATE FUNCTION train_data.current_user_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'train_data_current_user_id';

COMMENT ON FUNCTION train_data.current_user_id() IS
    'User id the row-level security policies act for: train_data.user_id, else request.jwt.claim.sub, else the sub claim of request.jwt.claims, else NULL';

-- The current user id for a function that acts for a user, else 28000 with
-- the same message, detail form and hint wherever it is raised (what the
-- caller was doing, as purpose: a full sentence).  Runs as its caller.
CREATE FUNCTION train_data.require_user_id(purpose text) RETURNS uuid
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'train_data_require_user_id';

COMMENT ON FUNCTION train_data.require_user_id(text) IS
    'Internal: the current user id, or 28000 "no user id is set" with purpose as its detail, for functions that act for a user';

-- BEFORE UPDATE trigger: sets each timestamptz column named in its arguments to now().
CREATE FUNCTION train_data.touch_timestamps() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_touch_timestamps';

COMMENT ON FUNCTION train_data.touch_timestamps() IS
    'Trigger function (BEFORE INSERT OR UPDATE, FOR EACH ROW): sets each timestamptz column named in the trigger arguments to now(); usable on your own tables';

-- Template rendering (native): see README "render_template".
CREATE FUNCTION train_data.render_template(template text, parameters jsonb,
                                           variables jsonb DEFAULT '[]',
                                           html_escape boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_render_template';

COMMENT ON FUNCTION train_data.render_template(text, jsonb, jsonb, boolean) IS
    'Renders a template text with parameters checked against the declared variables; returns {resolved, parameters, missing_required, errors, warnings, success}';

-- Text for an HTML page: & < > " ' / as entities (native; what
-- render_template escapes in values, and preview_template in the whole
-- prompt).
CREATE FUNCTION train_data.html_escape(t text)
    RETURNS text
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_html_escape';

COMMENT ON FUNCTION train_data.html_escape(text) IS
    'The text with & < > " '' / as HTML entities (&amp; &lt; &gt; &quot; &#x27; &#x2F;), for showing it in a web page';

-- True for a storable template (well-formed variables, only safe
-- placeholders); otherwise an error saying what is wrong.
CREATE FUNCTION train_data.check_template(structure text, variables jsonb DEFAULT '[]')
    RETURNS boolean
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_check_template';

COMMENT ON FUNCTION train_data.check_template(text, jsonb) IS
    'True when a template can be stored (well-formed variables, only safe placeholders); otherwise raises an error saying what is wrong';

-- Model response parsing (native): see README "parse_generation_response".
CREATE FUNCTION train_data.parse_generation_response(response jsonb, parameters jsonb DEFAULT '{}')
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_parse_generation_response';

COMMENT ON FUNCTION train_data.parse_generation_response(jsonb, jsonb) IS
    'Parses a model response (Messages API or Chat Completions response, conversation object or text) into {title, turns, input_tokens, output_tokens, model, stop_reason}, with cache_read_tokens and cache_write_tokens when it reports its prompt cache (input_tokens counts them); raises an error when it holds no usable conversation';

-- Quality scoring (native): Engine A of the original system; see README.
CREATE FUNCTION train_data.quality_metrics(turns jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_metrics';

COMMENT ON FUNCTION train_data.quality_metrics(jsonb) IS
    'Quality metrics of a conversation''s turns ([{role, content}]): overall score 0-10 (Engine A of the original system), component scores, issues, suggestions and signals';

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

CREATE FUNCTION train_data.quality_score(turns jsonb)
    RETURNS numeric
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_score';

COMMENT ON FUNCTION train_data.quality_score(jsonb) IS
    'Overall quality score 0-10 of a conversation''s turns: the overall member of quality_metrics()';

-- The status a score earns under threshold t: at least t generated, up to 2
-- below pending_review, lower needs_revision.
-- Each branch an enum constant (not a text cast to the enum, whose input
-- function is only stable), so that the planner inlines the body.
CREATE FUNCTION train_data.quality_status(score numeric, threshold numeric DEFAULT 6.0)
    RETURNS train_data.conversation_status
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN score >= coalesce(threshold, 6.0) THEN 'generated'::train_data.conversation_status
                WHEN score >= coalesce(threshold, 6.0) - 2 THEN 'pending_review'::train_data.conversation_status
                ELSE 'needs_revision'::train_data.conversation_status END;

COMMENT ON FUNCTION train_data.quality_status(numeric, numeric) IS
    'Status a quality score earns under a threshold: generated at or above it, pending_review up to 2 points below, needs_revision lower';

-- A user value as an error message quotes it: NULL as NULL, otherwise whole
-- up to 64 characters, else its first 64 followed by "...".
CREATE FUNCTION train_data.clip_for_message(v text)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN v IS NULL THEN 'NULL'
                WHEN pg_catalog.char_length(v) <= 64 THEN v
                ELSE pg_catalog.left(v, 64) OPERATOR(pg_catalog.||) '...' END;

COMMENT ON FUNCTION train_data.clip_for_message(text) IS
    'Internal: a user value as error messages quote it: NULL as NULL, whole up to 64 characters, else its first 64 characters and "..."';

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

-- Time-ordered ids (UUID version 7), the default ids of conversations and
-- their turns.  Rows made together sit together in the primary keys and in
-- the turns' (conversation_id, turn_number) index: inserts go to the right
-- edge of those indexes, and an export, which reads conversations in the
-- order they were made, reads that index in order instead of at random.
-- PARALLEL RESTRICTED: the last id is kept per process, and a session's
-- ids grow only when one process makes them all.
CREATE FUNCTION train_data.uuid_v7() RETURNS uuid
    LANGUAGE c VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'train_data_uuid_v7';

COMMENT ON FUNCTION train_data.uuid_v7() IS
    'A new time-ordered UUID (RFC 9562 version 7): the default id of conversations and their turns';

-- Is the current role train_data's own (the extension owner, whose SECURITY
-- DEFINER worker functions run as it, or a superuser)?  Native.
CREATE FUNCTION train_data.engine_context()
    RETURNS boolean
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_engine_context';
COMMENT ON FUNCTION train_data.engine_context() IS
    'Internal: true when the current role has the privileges of the extension owner (inside the worker functions, or a superuser)';

-- A child row written without an owner (by a role with no user id, such as
-- a superuser loading data) takes its parent's: TG_ARGV names the parent
-- table and the child's column that references it.  The composite foreign
-- key still checks any owner that is given.
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
COMMENT ON FUNCTION train_data.inherit_owner() IS
    'Internal: trigger giving a child row written without an owner its parent''s owner (TG_ARGV: parent table, referencing column)';

-- (PARALLEL RESTRICTED, as current_user_id.)
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
COMMENT ON FUNCTION train_data.user_id_default(regclass, boolean) IS
    'Internal: column default of owner columns: the current user id, or 28000 "no user id is set" when it is needed and not set';

-- Number part of generated conversation ids.
CREATE SEQUENCE train_data.conversation_number_seq;

COMMENT ON SEQUENCE train_data.conversation_number_seq IS 'Number part of the readable conversation ids make_conversation_id() makes';

-- A readable conversation id: <tier prefix>_<persona slug>_<number>,
-- e.g. tpl_anxious_investor_000042.  Unique because the number is.  The
-- slug: the persona lower-cased, à..ÿ to their base letters, every run of
-- characters other than a-z and 0-9 one "_", its first 40 characters, "_"
-- trimmed; "conversation" when empty.  The number: at least 6 digits.
CREATE FUNCTION train_data.make_conversation_id(tier train_data.tier_type, persona text)
    RETURNS text
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'train_data_make_conversation_id';

COMMENT ON FUNCTION train_data.make_conversation_id(train_data.tier_type, text) IS
    'A new readable conversation id <tier prefix>_<persona slug>_<number>, e.g. tpl_anxious_investor_000042; takes the number from conversation_number_seq';

-- BEFORE INSERT trigger on conversations: fills conversation_id when not given.
CREATE FUNCTION train_data.conversations_default_id() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_conversations_default_id';

COMMENT ON FUNCTION train_data.conversations_default_id() IS
    'Internal: trigger function (BEFORE INSERT on conversations) that fills conversation_id with make_conversation_id() when none is given';
