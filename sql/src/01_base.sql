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

CREATE TYPE train_data.tier_type AS ENUM ('template', 'scenario', 'edge_case');

CREATE TYPE train_data.batch_job_status AS ENUM (
    'queued', 'processing', 'paused', 'completed', 'failed', 'cancelled'
);

CREATE TYPE train_data.batch_item_status AS ENUM (
    'queued', 'processing', 'completed', 'failed', 'cancelled'
);

--------------------------------------------------------------------------------
-- 2. Identity and shared trigger functions
--------------------------------------------------------------------------------

-- The user the row-level security policies act for: train_data.user_id, else
-- request.jwt.claim.sub, else the "sub" of request.jwt.claims, else NULL.
CREATE FUNCTION train_data.current_user_id() RETURNS uuid
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_current_user_id';

COMMENT ON FUNCTION train_data.current_user_id() IS
    'User id the row-level security policies act for: train_data.user_id, else request.jwt.claim.sub, else the sub claim of request.jwt.claims, else NULL';

-- BEFORE UPDATE trigger: sets each timestamptz column named in its arguments to now().
CREATE FUNCTION train_data.touch_timestamps() RETURNS trigger
    LANGUAGE c
    AS 'MODULE_PATHNAME', 'train_data_touch_timestamps';

-- Template rendering (native): see README "render_template".
CREATE FUNCTION train_data.render_template(template text, parameters jsonb,
                                           variables jsonb DEFAULT '[]',
                                           html_escape boolean DEFAULT false)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_render_template';

-- True for a storable template (well-formed variables, only safe
-- placeholders); otherwise an error saying what is wrong.
CREATE FUNCTION train_data.check_template(structure text, variables jsonb DEFAULT '[]')
    RETURNS boolean
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_check_template';

-- Model response parsing (native): see README "parse_generation_response".
CREATE FUNCTION train_data.parse_generation_response(response jsonb, parameters jsonb DEFAULT '{}')
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_parse_generation_response';

-- Quality scoring (native): Engine A of the original system; see README.
CREATE FUNCTION train_data.quality_metrics(turns jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_metrics';

CREATE FUNCTION train_data.quality_score(turns jsonb)
    RETURNS numeric
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_score';

-- The status a score earns under threshold t: at least t generated, up to 2
-- below pending_review, lower needs_revision.
CREATE FUNCTION train_data.quality_status(score numeric, threshold numeric DEFAULT 6.0)
    RETURNS train_data.conversation_status
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN score >= coalesce(threshold, 6.0) THEN 'generated'
                WHEN score >= coalesce(threshold, 6.0) - 2 THEN 'pending_review'
                ELSE 'needs_revision' END::train_data.conversation_status;

-- A user value as an error message quotes it: NULL as NULL, otherwise whole
-- up to 64 characters, else its first 64 followed by "...".
CREATE FUNCTION train_data.clip_for_message(v text)
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN v IS NULL THEN 'NULL'
                WHEN pg_catalog.char_length(v) <= 64 THEN v
                ELSE pg_catalog.left(v, 64) OPERATOR(pg_catalog.||) '...' END;

-- Time-ordered ids (UUID version 7), the default ids of conversations and
-- their turns.  Rows made together sit together in the primary keys and in
-- the turns' (conversation_id, turn_number) index: inserts go to the right
-- edge of those indexes, and an export, which reads conversations in the
-- order they were made, reads that index in order instead of at random.
CREATE FUNCTION train_data.uuid_v7() RETURNS uuid
    LANGUAGE c VOLATILE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_uuid_v7';

-- Number part of generated conversation ids.
CREATE SEQUENCE train_data.conversation_number_seq;

-- A readable conversation id: <tier prefix>_<persona slug>_<number>,
-- e.g. tpl_anxious_investor_000042.  Unique because the number is.
CREATE FUNCTION train_data.make_conversation_id(tier train_data.tier_type, persona text)
    RETURNS text
    LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    prefix text := CASE tier
                       WHEN 'template' THEN 'tpl'
                       WHEN 'scenario' THEN 'scn'
                       WHEN 'edge_case' THEN 'edge'
                       ELSE 'conv'
                   END;
    slug   text := pg_catalog.btrim(
                       pg_catalog.left(
                           pg_catalog.regexp_replace(
                               pg_catalog.translate(pg_catalog.lower(coalesce(persona, '')),
                                                    'àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿ',
                                                    'aaaaaaaceeeeiiiinoooooouuuuyy'),
                               '[^a-z0-9]+', '_', 'g'),
                           40),
                       '_');
    num    text := pg_catalog.nextval('train_data.conversation_number_seq'::pg_catalog.regclass)::text;
BEGIN
    IF slug = '' THEN
        slug := 'conversation';
    END IF;
    IF pg_catalog.length(num) < 6 THEN
        num := pg_catalog.lpad(num, 6, '0');
    END IF;
    RETURN prefix || '_' || slug || '_' || num;
END
$$;

-- BEFORE INSERT trigger on conversations: fills conversation_id when not given.
CREATE FUNCTION train_data.conversations_default_id() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.conversation_id := train_data.make_conversation_id(NEW.tier, NEW.persona);
    RETURN NEW;
END
$$;
