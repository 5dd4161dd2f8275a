-- sql/src/12_export.sql — export functions and export history.

--------------------------------------------------------------------------------
-- 23. Export
--------------------------------------------------------------------------------

-- Training-file lines, one per conversation, streamed (one value per call):
-- shape 'original' (messages + metadata), 'openai' or 'sharegpt'; scope
-- 'selected' (ids), 'filtered' (a FilterConfig) or 'all' (every approved
-- conversation); options the ExportConfig include flags, systemMessage and
-- lastTurnOnly.  Runs as the caller: row-level security decides what is
-- exported.
CREATE FUNCTION train_data.export_jsonl(shape text DEFAULT 'original', scope text DEFAULT 'all',
                                        ids uuid[] DEFAULT NULL, filters jsonb DEFAULT NULL,
                                        options jsonb DEFAULT '{}')
    RETURNS SETOF text
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'train_data_export_jsonl';

COMMENT ON FUNCTION train_data.export_jsonl(text, text, uuid[], jsonb, jsonb) IS
    'Training-file lines, one JSON line per conversation (shapes original, openai, sharegpt; scopes all approved, selected ids, filtered); runs as the caller, so row-level security decides what is exported';

-- The checks OpenAI's fine-tuning data preparation runs on one JSONL line:
-- the names of those it fails (invalid_json, data_type,
-- missing_messages_list, message_missing_key, message_unrecognized_key,
-- unrecognized_role, missing_content, example_missing_assistant_message);
-- empty for a good example.
CREATE FUNCTION train_data.validate_training_line(line text)
    RETURNS text[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_validate_training_line';

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
CREATE FUNCTION train_data.validate_export(shape text DEFAULT 'openai', scope text DEFAULT 'all',
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

-- The high-level export a client calls: the records of a jsonl (export_jsonl's
-- original shape), json, csv or markdown file (config: the ExportConfig
-- include flags), recorded in export_logs as the caller's export —
-- 'processing' from the first record, 'completed' with the conversation
-- count, the byte size (records joined by one newline) and a 24-hour expiry
-- after the last.
CREATE FUNCTION train_data.export_conversations(format text, scope text DEFAULT 'all', config jsonb DEFAULT '{}',
                                                ids uuid[] DEFAULT NULL, filters jsonb DEFAULT NULL)
    RETURNS SETOF text
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'train_data_export_conversations';

COMMENT ON FUNCTION train_data.export_conversations(text, text, jsonb, uuid[], jsonb) IS
    'The export a client makes, as records of a json, jsonl, csv or markdown file, logged in export_logs as the caller''s export';

-- Completed exports past their expiry become expired; returns how many.
-- Under the stock policy alone, the statement names the caller's id,
-- planned with it, and reads her rows through the owner's index: the
-- policy alone read every user's expired exports and filtered them
-- (300,000 of another user's, which only he can mark: 36-82 ms against
-- 0.4 ms, a review of 1.2).
CREATE FUNCTION train_data.mark_expired_exports()
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

-- The caller's exports, newest first, optionally of one format or status.
CREATE FUNCTION train_data.export_history(format text DEFAULT NULL, status text DEFAULT NULL,
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

COMMENT ON FUNCTION train_data.export_history(text, text, integer, integer) IS
    'The caller''s exports, newest first, optionally of one format or status, a page at a time';

-- One export of the caller's, by export_id; a completed export past its
-- expiry is marked expired first.  Only then does it write: in a read-only
-- transaction (a standby, a dashboard's READ ONLY session) such an export
-- is reported expired without the write (a review of 1.2: every call
-- failed there with 25006).
CREATE FUNCTION train_data.export_status(export_id uuid)
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
