-- quality_plpgsql.sql — Engine A of the original system ported to PL/pgSQL:
-- what a user would write without train_data, used by tools/bench/run as the
-- baseline of quality_score() (same formula, same rounding, same results).
CREATE FUNCTION plain.quality_score(turns jsonb) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    is_array boolean := jsonb_typeof(turns) = 'array';
    n integer := CASE WHEN jsonb_typeof(turns) = 'array' THEN jsonb_array_length(turns) ELSE 0 END;
    t jsonb;
    i integer := 0;
    role text;
    content text;
    len integer;
    total integer := 0;
    short integer := 0;
    dups integer := 0;
    seen text[] := '{}';
    norm text;
    s_turns float8;
    s_len float8;
    s_struct float8 := 10;
    s_coh float8;
    avg_len float8;
    raw float8;
BEGIN
    s_turns := CASE WHEN n BETWEEN 8 AND 16 THEN 10 WHEN n BETWEEN 6 AND 20 THEN 7
                    WHEN n BETWEEN 4 AND 24 THEN 4 ELSE 2 END;
    IF NOT is_array THEN
        s_struct := 0;
    ELSIF n < 2 THEN
        s_struct := s_struct - 5;
    END IF;
    FOR t IN SELECT value FROM jsonb_array_elements(CASE WHEN is_array THEN turns ELSE '[]' END) LOOP
        role := CASE WHEN jsonb_typeof(t -> 'role') = 'string' THEN t ->> 'role' END;
        content := CASE WHEN jsonb_typeof(t -> 'content') = 'string' THEN t ->> 'content' ELSE '' END;
        len := char_length(content);
        total := total + len;
        IF role IS NULL THEN
            s_struct := s_struct - 2;
        ELSIF role <> (CASE WHEN i % 2 = 0 THEN 'user' ELSE 'assistant' END) THEN
            s_struct := s_struct - 3;
        END IF;
        norm := btrim(content, E' \t\n\r\v\f');
        IF norm = '' THEN
            s_struct := s_struct - 2;
        END IF;
        IF len < 10 THEN
            short := short + 1;
        END IF;
        norm := lower(norm);
        IF norm = ANY (seen) THEN
            dups := dups + 1;
        ELSE
            seen := seen || norm;
        END IF;
        i := i + 1;
    END LOOP;
    IF s_struct < 0 THEN
        s_struct := 0;
    END IF;
    IF n = 0 THEN
        s_len := 0;
        s_coh := 0;
    ELSE
        avg_len := total::float8 / n;
        s_len := CASE WHEN avg_len BETWEEN 100 AND 500 THEN 10 WHEN avg_len BETWEEN 50 AND 800 THEN 7
                      WHEN avg_len BETWEEN 20 AND 1200 THEN 4 ELSE 2 END;
        s_coh := greatest(10 - least(short, 3) - least(dups, 2), 0);
    END IF;
    raw := 0;
    raw := raw + s_turns / 10 * 10 * 0.30;
    raw := raw + s_len / 10 * 10 * 0.25;
    raw := raw + s_struct / 10 * 10 * 0.30;
    raw := raw + s_coh / 10 * 10 * 0.15;
    RETURN (floor(raw * 10 + 0.5) / 10)::numeric(3,1);
END
$$;
