-- sql/src/15_dataset.sql — what defect verdicts decide, and near duplicates:
-- routing of a completion by its defects, MinHash signatures of every
-- conversation kept by triggers, near_duplicates().

--------------------------------------------------------------------------------
-- 26. Verdicts that act, near duplicates
--------------------------------------------------------------------------------

-- The status a completion gets once its defects are known: any hard defect
-- sends it to needs_revision, soft ones alone keep it out of generated
-- (pending_review); without defects the status its score earned stands.
-- quality_defect_codes() says which codes are soft.
CREATE FUNCTION train_data.defect_status(earned train_data.conversation_status, defects jsonb)
    RETURNS train_data.conversation_status
    LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_defect_status';
COMMENT ON FUNCTION train_data.defect_status(train_data.conversation_status, jsonb) IS
    'Status of a completion given the status its score earned and its defect codes: needs_revision for any hard defect, pending_review instead of generated for soft ones only';

-- One MinHash signature per conversation, of its turns' text, and its LSH
-- band keys: conversations sharing a band key are near-duplicate candidates,
-- found through the GIN index (an index lookup, not a comparison of all
-- pairs).  Kept by triggers on conversation_turns, however the turns are
-- written (a completion writes the signature of the turns it inserts
-- itself); owned like the conversation (composite key), row-level security
-- by owner.
CREATE TABLE train_data.conversation_signatures (
    conversation_id uuid PRIMARY KEY,
    created_by      uuid NOT NULL,
    signature       integer[] NOT NULL,
    bands           bigint[] NOT NULL,
    CONSTRAINT conversation_signatures_conversation_fk FOREIGN KEY (conversation_id, created_by)
        REFERENCES train_data.conversations (id, created_by) ON DELETE CASCADE
);
COMMENT ON TABLE train_data.conversation_signatures IS
    'MinHash signature and LSH band keys of each conversation''s text, kept by triggers on conversation_turns; near_duplicates() reads them';
COMMENT ON COLUMN train_data.conversation_signatures.conversation_id IS 'The conversation';
COMMENT ON COLUMN train_data.conversation_signatures.created_by IS 'Owner: the conversation''s owner (composite foreign key)';
COMMENT ON COLUMN train_data.conversation_signatures.signature IS 'minhash_signature() of the turns'' contents in order, joined with spaces';
COMMENT ON COLUMN train_data.conversation_signatures.bands IS 'minhash_bands() of the signature: the LSH band keys';
-- (a pending list of 64 kB, not 4 MB: the list is shared by every user, so
-- another user's signatures made each scan of the index read up to 4 MB of
-- them and one completion in many move them all into the index: 16-25 ms
-- completions, one of 611 ms; found by a review of 1.2.  Now a scan reads
-- at most 64 kB and a flush moves about 200 signatures.  Without the list,
-- each insert adding its 16 keys at once cost a completion 9 % more.)
CREATE INDEX conversation_signatures_bands_idx ON train_data.conversation_signatures USING gin (bands)
    WITH (gin_pending_list_limit = 64);
-- the policy's column: a user's calls read her own signatures, not everyone's
CREATE INDEX conversation_signatures_created_by_idx ON train_data.conversation_signatures (created_by);
ALTER TABLE train_data.conversation_signatures ENABLE ROW LEVEL SECURITY;
-- (read only: train_data writes them, as the extension owner; a signature a
-- user planted made her own completions fail)
CREATE POLICY conversation_signatures_owner ON train_data.conversation_signatures FOR SELECT
    USING (created_by = (SELECT train_data.current_user_id()));
SELECT pg_catalog.pg_extension_config_dump('train_data.conversation_signatures', '');

-- Recompute the signatures of the conversations whose turns a statement
-- wrote (once per conversation and statement, from the transition table):
-- each conversation's turns are read in order through its index, and the
-- owner is the turns' own (the composite key makes it the conversation's).
-- A DELETE, or an UPDATE moving turns to another conversation (its old
-- rows: old_turns), can leave a conversation without turns, and so without
-- a signature; one an UPDATE left with turns is signed again.
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
COMMENT ON FUNCTION train_data.conversation_turns_signature() IS
    'Internal: statement trigger on conversation_turns recomputing the signatures of the conversations a statement wrote (transition table changed_turns)';
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
COMMENT ON FUNCTION train_data.near_duplicates(real, uuid[], boolean) IS
    'Near duplicates among the caller''s conversations (or those of them among lists): (conversation to drop, the one kept, Jaccard similarity: estimated, or with exact measured on their texts) for pairs at or above threshold, found through the LSH band index; the kept one has the higher quality, then is older';

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
COMMENT ON FUNCTION train_data.batch_duplicate(uuid, uuid, jsonb, real) IS
    'Internal step of complete_batch_item: the duplicate_in_batch details (the most similar earlier conversation of the same batch and owner, at or above threshold) of a new conversation''s turns, or NULL';
REVOKE ALL ON FUNCTION train_data.batch_duplicate(uuid, uuid, jsonb, real) FROM PUBLIC;

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
COMMENT ON FUNCTION train_data.with_batch_duplicate(jsonb, jsonb) IS
    'Internal: quality metrics with the duplicate_in_batch defect added (defects, defectDetails, defectSeverity), or unchanged for NULL details';

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

-- The conversations an export with these arguments writes, in its order
-- (native: the export's own conditions, so the two cannot drift apart).
CREATE FUNCTION train_data.export_selection(scope text DEFAULT 'all', conversation_ids uuid[] DEFAULT NULL,
                                            filters jsonb DEFAULT NULL, options jsonb DEFAULT '{}')
    RETURNS SETOF uuid
    LANGUAGE c STABLE
    AS 'MODULE_PATHNAME', 'train_data_export_selection';
COMMENT ON FUNCTION train_data.export_selection(text, uuid[], jsonb, jsonb) IS
    'Ids of the conversations export_jsonl / export_conversations with the same scope, ids, filters and options would write, in export order';

-- Quantiles of a sample: count, min, p10, p50, p90, max and mean (NULL
-- members for an empty sample).  Each as numeric (15 significant digits):
-- a float8 in jsonb is written with the session's extra_float_digits, so
-- the same report read differently by client (a review of 1.2), and
-- 57.599999999999994 for 57.6.
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
COMMENT ON FUNCTION train_data.report_quantiles(double precision[]) IS
    'Internal: count, min, 10th, 50th and 90th percentile, max and mean of a sample, as dataset_report shows them';

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
COMMENT ON FUNCTION train_data.export_manifest(text, text, jsonb, jsonb, uuid[], uuid[], bigint, text, uuid[]) IS
    'The manifest of an export (format, scope, filters, options, ids given, rows, md5 of the records, templates with versions, models), as dataset_report shows it and export_logs.manifest keeps it';

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
COMMENT ON FUNCTION train_data.dataset_report(jsonb, jsonb) IS
    'One JSON document describing the conversations an export with these filters and options writes: counts by status, tier, template and defect, near-duplicate clusters, quantiles, vocabulary diversity and a manifest (rows, checksum of the lines, templates and versions, models)';
