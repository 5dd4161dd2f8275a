-- sql/src/09_config.sql — model prices and cost estimates, AI configuration, user preferences, the model request.

--------------------------------------------------------------------------------
-- 14. Model prices and cost estimates
--------------------------------------------------------------------------------

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
CREATE FUNCTION train_data.model_price(model text)
    RETURNS train_data.model_prices
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN train_data.model_price(model, NULL::text);

COMMENT ON FUNCTION train_data.model_price(text) IS
    'Price row of a model: its exact model_id, else its Claude generation (model_generation), else its Claude family (an id naming Claude and opus, sonnet or haiku); NULL when none is known';

-- USD cost of a call: tokens times the price per million, 6 decimals; NULL
-- for a model with no known price.
CREATE FUNCTION train_data.model_cost(model text, input_tokens bigint, output_tokens bigint)
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

-- The original batch estimator: tokens per conversation by tier at
-- 0.015 / 0.075 USD per 1K tokens, and 20 s per conversation at
-- min(concurrency, rate_limit / 60) conversations at a time.
CREATE FUNCTION train_data.estimate_batch_cost(tier train_data.tier_type, count integer,
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

COMMENT ON FUNCTION train_data.estimate_batch_cost(train_data.tier_type, integer, integer, integer) IS
    'The original system''s batch estimate: tokens, cost in USD and time for count conversations of a tier, as a JSON object';

--------------------------------------------------------------------------------
-- 15. AI configuration and user preferences
--------------------------------------------------------------------------------

-- Merge patch into base: objects member by member, anything else replaced.
CREATE FUNCTION train_data.jsonb_merge_deep(base jsonb, patch jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_jsonb_merge_deep';

COMMENT ON FUNCTION train_data.jsonb_merge_deep(jsonb, jsonb) IS
    'Merges patch into base: objects member by member, recursively; any other value in patch replaces the one in base';

CREATE FUNCTION train_data.jsonb_raw_size(value jsonb)
    RETURNS bigint
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_jsonb_raw_size';

COMMENT ON FUNCTION train_data.jsonb_raw_size(jsonb) IS
    'Bytes of a jsonb value once decompressed, read from its header (pg_column_size gives the bytes stored): what reading it costs';

-- Paths of the keys of doc that reference does not have (arrays are leaves;
-- members of the objects named in open_objects are free-form).
CREATE FUNCTION train_data.jsonb_unknown_keys(doc jsonb, reference jsonb, prefix text DEFAULT '',
                                              open_objects text[] DEFAULT '{}')
    RETURNS SETOF text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT prefix || d.key
    FROM jsonb_each(CASE WHEN jsonb_typeof(doc) = 'object' THEN doc ELSE '{}' END) d
    WHERE jsonb_typeof(reference) = 'object' AND NOT reference ? d.key
    UNION ALL
    SELECT u.path
    FROM jsonb_each(CASE WHEN jsonb_typeof(doc) = 'object' THEN doc ELSE '{}' END) d,
         train_data.jsonb_unknown_keys(d.value, reference -> d.key, prefix || d.key || '.', open_objects) u(path)
    WHERE jsonb_typeof(d.value) = 'object' AND jsonb_typeof(reference -> d.key) = 'object'
      AND NOT (prefix || d.key) = ANY (open_objects)
$$;

COMMENT ON FUNCTION train_data.jsonb_unknown_keys(jsonb, jsonb, text, text[]) IS
    'Internal: dotted paths of the keys of doc that reference does not have (arrays are leaves; members of open_objects are free-form)';

-- Raise an error unless the number at path in doc lies in [low, high].
CREATE FUNCTION train_data.check_setting_range(kind text, doc jsonb, path text[], low numeric, high numeric)
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

COMMENT ON FUNCTION train_data.check_setting_range(text, jsonb, text[], numeric, numeric) IS
    'Internal: raises an error unless the value at path in a settings document is a number within [low, high] (NULL bounds are open)';

-- Raise an error unless the value at path in doc is one of the allowed strings.
CREATE FUNCTION train_data.check_setting_choice(kind text, doc jsonb, path text[], allowed text[])
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

COMMENT ON FUNCTION train_data.check_setting_choice(text, jsonb, text[], text[]) IS
    'Internal: raises an error unless the value at path in a settings document is one of the allowed strings';

-- Raise an error when doc is over 16 kB as JSON text, or has keys the
-- defaults do not know.  (The size: a claim reads its job owner's
-- configuration, so an unbounded one made every worker's claims slow; an
-- adversarial review of 1.2 stored a 3 MB one and a claim took 6.5 s.)
CREATE FUNCTION train_data.check_setting_keys(kind text, doc jsonb, defaults jsonb, open_objects text[] DEFAULT '{}')
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

COMMENT ON FUNCTION train_data.check_setting_keys(text, jsonb, jsonb, text[]) IS
    'Internal: raises an error when a settings document is over 16 kB as JSON text, is not an object or has keys the defaults do not have';

-- The configuration used when a user has none (original-system.md §2.12).
-- provider: the API the model is called through, anthropic (Messages API)
-- or openai (Chat Completions: OpenAI and OpenAI-compatible servers);
-- baseUrl: the base URL a worker gives that provider's SDK, null for the
-- provider's official endpoint.  Configurations stored before 1.2 have
-- neither and so keep working as anthropic.
CREATE FUNCTION train_data.default_ai_config()
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

COMMENT ON FUNCTION train_data.default_ai_config() IS
    'The AI configuration used when a user has none: provider (anthropic), baseUrl (null: the provider''s official endpoint), model, temperature, maxTokens, topP, rate limiting, retry strategy, cost budget and timeouts';

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

COMMENT ON FUNCTION train_data.check_setting_url(text, jsonb, text[]) IS
    'Internal: raises an error unless the value at path in a settings document is null or an http(s) base URL of at most 2048 characters without credentials, query or fragment';

-- Validate a (partial) configuration; returns it merged over the defaults.
CREATE FUNCTION train_data.validate_ai_config(config jsonb)
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

COMMENT ON FUNCTION train_data.validate_ai_config(jsonb) IS
    'Validates a (partial) AI configuration (provider anthropic or openai, an http(s) baseUrl or null, a model with a price, ...); returns it merged over default_ai_config(), or raises an error naming the setting and its limit';

-- The configuration in force for a user: the active one with the highest
-- priority (newest on ties) merged over the defaults; the defaults when the
-- user has none, or when that user's configurations are not visible.
CREATE FUNCTION train_data.get_effective_ai_config(user_id uuid DEFAULT train_data.current_user_id())
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stored jsonb;
BEGIN
    SELECT a.configuration INTO stored FROM train_data.ai_configurations a
    WHERE a.user_id = get_effective_ai_config.user_id AND a.is_active
    ORDER BY a.priority DESC, a.created_at DESC, a.id
    LIMIT 1;
    RETURN train_data.jsonb_merge_deep(train_data.default_ai_config(), stored);
END
$$;

COMMENT ON FUNCTION train_data.get_effective_ai_config(uuid) IS
    'AI configuration in force for a user: their active configuration with the highest priority (newest on ties) merged over the defaults; the defaults when there is none';

CREATE TRIGGER ai_configurations_engine_cache
    AFTER INSERT OR UPDATE OR DELETE ON train_data.ai_configurations
    FOR EACH ROW EXECUTE FUNCTION train_data.engine_cache_invalidate();
ALTER TABLE train_data.ai_configurations ENABLE ALWAYS TRIGGER ai_configurations_engine_cache;
CREATE TRIGGER ai_configurations_engine_cache_truncate
    AFTER TRUNCATE ON train_data.ai_configurations
    FOR EACH STATEMENT EXECUTE FUNCTION train_data.engine_cache_invalidate();
ALTER TABLE train_data.ai_configurations ENABLE ALWAYS TRIGGER ai_configurations_engine_cache_truncate;

-- Every writer of ai_configurations and user_preferences goes through
-- validation (TG_ARGV[0] names the document).  Restores are the exception:
-- pg_dump scripts run with row_security = off and hold rows that were valid
-- when stored, possibly naming a model whose price row is restored later.
CREATE FUNCTION train_data.validate_settings_row() RETURNS trigger
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

COMMENT ON FUNCTION train_data.validate_settings_row() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE on ai_configurations and user_preferences) that validates the stored document; skipped by restores (row_security off)';

CREATE TRIGGER ai_configurations_validate
    BEFORE INSERT OR UPDATE OF configuration ON train_data.ai_configurations
    FOR EACH ROW EXECUTE FUNCTION train_data.validate_settings_row('ai_config');

-- Audit trail of ai_configurations.  Changes made with no user id set
-- (administrative sessions, pg_restore) are not audited: they act for nobody.
CREATE FUNCTION train_data.ai_configurations_audit() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor uuid := train_data.current_user_id();
BEGIN
    IF actor IS NOT NULL THEN
        INSERT INTO train_data.ai_configuration_audit (config_id, user_id, action, old_value, new_value, changed_by)
        VALUES (CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.id END,
                CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END,
                TG_OP,
                CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END,
                CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END,
                actor);
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION train_data.ai_configurations_audit() IS
    'Internal: trigger function (AFTER INSERT OR UPDATE OR DELETE on ai_configurations) that records the old and new row in ai_configuration_audit when a user id is set';

CREATE TRIGGER ai_configurations_audit
    AFTER INSERT OR UPDATE OR DELETE ON train_data.ai_configurations
    FOR EACH ROW EXECUTE FUNCTION train_data.ai_configurations_audit();

-- The preferences a user starts with (original-system.md §2.11).
CREATE FUNCTION train_data.default_user_preferences()
    RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN '{
        "theme": "system", "sidebarCollapsed": false, "tableDensity": "comfortable",
        "rowsPerPage": 25, "enableAnimations": true,
        "notifications": {"toast": true, "email": false, "inApp": true, "frequency": "immediate",
                          "categories": {"generationComplete": true, "approvalRequired": true,
                                         "errors": true, "systemAlerts": true}},
        "defaultFilters": {"tier": null, "status": null, "qualityRange": [0, 10], "autoApply": false},
        "exportPreferences": {"defaultFormat": "json", "includeMetadata": true, "includeQualityScores": true,
                              "includeTimestamps": true, "includeApprovalHistory": false,
                              "autoCompression": true, "autoCompressionThreshold": 1000},
        "keyboardShortcuts": {"enabled": true,
                              "customBindings": {"openSearch": "Ctrl+K", "generateAll": "Ctrl+G",
                                                 "export": "Ctrl+E", "approve": "A", "reject": "R",
                                                 "nextItem": "ArrowRight", "previousItem": "ArrowLeft"}},
        "qualityThresholds": {"autoApproval": 8.0, "flagging": 6.0, "minimumAcceptable": 4.0},
        "retryConfig": {"strategy": "exponential", "maxAttempts": 3, "baseDelayMs": 1000,
                        "maxDelayMs": 300000, "continueOnError": false}
    }'::jsonb;

COMMENT ON FUNCTION train_data.default_user_preferences() IS
    'The preferences a user starts with: theme, table layout, notifications, default filters, export, keyboard shortcuts, quality thresholds and retry settings';

-- Validate (partial) preferences; returns them merged over the defaults.
CREATE FUNCTION train_data.validate_user_preferences(preferences jsonb)
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

COMMENT ON FUNCTION train_data.validate_user_preferences(jsonb) IS
    'Validates (partial) user preferences; returns them merged over default_user_preferences(), or raises an error naming the setting and its limit';

CREATE TRIGGER user_preferences_validate
    BEFORE INSERT OR UPDATE OF preferences ON train_data.user_preferences
    FOR EACH ROW EXECUTE FUNCTION train_data.validate_settings_row('user_preferences');

-- Changes to preferences are logged, one row per changed top-level setting.
CREATE FUNCTION train_data.user_preferences_audit() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    actor uuid := train_data.current_user_id();
BEGIN
    IF actor IS NOT NULL THEN
        INSERT INTO train_data.configuration_audit_log (user_id, config_type, config_id, changed_field,
                                                        old_value, new_value, changed_by)
        SELECT NEW.user_id, 'user_preference', NEW.id, k.key, OLD.preferences -> k.key, NEW.preferences -> k.key, actor
        FROM (SELECT jsonb_object_keys(OLD.preferences) UNION SELECT jsonb_object_keys(NEW.preferences)) AS k(key)
        WHERE (OLD.preferences -> k.key) IS DISTINCT FROM (NEW.preferences -> k.key);
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION train_data.user_preferences_audit() IS
    'Internal: trigger function (AFTER UPDATE OF preferences on user_preferences) that logs each changed top-level setting in configuration_audit_log when a user id is set';

CREATE TRIGGER user_preferences_audit
    AFTER UPDATE OF preferences ON train_data.user_preferences
    FOR EACH ROW EXECUTE FUNCTION train_data.user_preferences_audit();

-- The current user's preferences merged over the defaults; the row is
-- created with the defaults on first use, except in a read-only
-- transaction (a standby, a READ ONLY session), which gets the defaults
-- without the write (a review of 1.2: every call failed there with 25006,
-- even once the row existed).
CREATE FUNCTION train_data.get_user_preferences()
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

-- Merge changes into the current user's preferences; returns the result.
CREATE FUNCTION train_data.update_user_preferences(changes jsonb)
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

COMMENT ON FUNCTION train_data.update_user_preferences(jsonb) IS
    'Merges changes into the current user''s preferences, validates and stores them; returns the result';

--------------------------------------------------------------------------------
-- 16. The request a worker sends to the model
--------------------------------------------------------------------------------

-- The request body for a stored template in the configuration's provider
-- format: the rendered prompt as the user message, model / max_tokens /
-- temperature from config (default: the current user's effective
-- configuration); a system prompt is the top-level "system" of an Anthropic
-- Messages request and the first message (role system) of an OpenAI Chat
-- Completions request.  top_p is left out: current Claude models refuse
-- temperature and top_p together.
CREATE FUNCTION train_data.build_generation_request(template_id uuid, parameters jsonb DEFAULT '{}',
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

COMMENT ON FUNCTION train_data.build_generation_request(uuid, jsonb, text, jsonb) IS
    'Model request body for a stored template in the configuration''s provider format (Anthropic Messages or OpenAI Chat Completions): the rendered prompt as the user message, an optional system prompt, model, max_tokens and temperature from config (default: the current user''s effective configuration)';
