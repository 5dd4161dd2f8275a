-- sql/src/14_quality_native.sql — defect verdicts and near-duplicate
-- signatures (native, issue 17): the C functions the routing, review
-- filters, statistics, exports and near_duplicates() build on.

--------------------------------------------------------------------------------
-- 25. Quality verdicts and near duplicates
--
-- Pure functions of their arguments (IMMUTABLE, PARALLEL SAFE), executable
-- by PUBLIC like quality_metrics(): they read no table.
--------------------------------------------------------------------------------

-- quality_metrics with what the template expects: a turn count T (at least
-- T/2, at most 2T turns), or {turns, minTurns, maxTurns, firstRole}.
CREATE FUNCTION train_data.quality_metrics(turns jsonb, expected jsonb)
    RETURNS jsonb
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_metrics_expect';

COMMENT ON FUNCTION train_data.quality_metrics(jsonb, jsonb) IS
    'Quality metrics of a conversation''s turns checked against what its template expects (a turn count, or {turns, minTurns, maxTurns, firstRole}): as quality_metrics(turns), length_mismatch and the first role judged by the expectation';

CREATE FUNCTION train_data.quality_defects(turns jsonb, expected jsonb DEFAULT NULL)
    RETURNS text[]
    LANGUAGE c IMMUTABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_quality_defects';

COMMENT ON FUNCTION train_data.quality_defects(jsonb, jsonb) IS
    'Defect codes of a conversation''s turns (the defects member of quality_metrics, without building the metrics); empty when none';

CREATE FUNCTION train_data.quality_defect_codes()
    RETURNS TABLE (code text, soft boolean, description text)
    LANGUAGE c IMMUTABLE PARALLEL SAFE ROWS 12
    AS 'MODULE_PATHNAME', 'train_data_quality_defect_codes';

COMMENT ON FUNCTION train_data.quality_defect_codes() IS
    'Every defect code quality_metrics reports, whether it is soft (pending_review rather than needs_revision) and what it means';

CREATE FUNCTION train_data.minhash_signature(content text)
    RETURNS integer[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_minhash_signature';

COMMENT ON FUNCTION train_data.minhash_signature(text) IS
    'MinHash signature of a text for near-duplicate detection: 128 integers over its 5-word shingles (case, punctuation and apostrophes ignored)';

CREATE FUNCTION train_data.conversation_text_signature(turns jsonb)
    RETURNS integer[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_conversation_text_signature';

COMMENT ON FUNCTION train_data.conversation_text_signature(jsonb) IS
    'MinHash signature of a conversation''s text: the contents of its turns in order, as minhash_signature of the contents joined with spaces';

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
COMMENT ON FUNCTION train_data.minhash_signature_agg_add(internal, text) IS
    'Internal: a state step of minhash_signature_agg';
COMMENT ON FUNCTION train_data.minhash_signature_agg_finish(internal) IS
    'Internal: the final step of minhash_signature_agg';
COMMENT ON AGGREGATE train_data.minhash_signature_agg(text) IS
    'MinHash signature of texts in the order aggregated (ORDER BY), as minhash_signature of them joined with spaces, without joining them; NULL for none';

CREATE FUNCTION train_data.minhash_bands(signature integer[])
    RETURNS bigint[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_minhash_bands';

COMMENT ON FUNCTION train_data.minhash_bands(integer[]) IS
    'The 16 locality-sensitive hashing band keys of a signature (8 slots each, band number mixed in): texts sharing a key are near-duplicate candidates';

CREATE FUNCTION train_data.minhash_similarity(a integer[], b integer[])
    RETURNS real
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_minhash_similarity';

COMMENT ON FUNCTION train_data.minhash_similarity(integer[], integer[]) IS
    'Estimated Jaccard similarity of two texts from their signatures: the fraction of equal slots';

-- The exact Jaccard similarity of two texts' shingle sets (the sets their
-- signatures stand for), which minhash_similarity estimates: near
-- duplicates checked exactly.  New in 1.2.
CREATE FUNCTION train_data.shingle_jaccard(a text, b text)
    RETURNS real
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_shingle_jaccard';

COMMENT ON FUNCTION train_data.shingle_jaccard(text, text) IS
    'Exact Jaccard similarity of two texts'' 5-word shingle sets, which minhash_similarity estimates from signatures';

-- A text's shingle set (the distinct shingle hashes its signature is made
-- from, ascending as unsigned numbers) and the Jaccard similarity of two
-- such sets: shingle_jaccard with each text's set made once, for a text
-- compared with many.  New in 1.2.
CREATE FUNCTION train_data.shingle_set(content text)
    RETURNS bigint[]
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_shingle_set';

COMMENT ON FUNCTION train_data.shingle_set(text) IS
    'The distinct 5-word shingle hashes of a text, ascending (as unsigned numbers): the set its MinHash signature stands for';

CREATE FUNCTION train_data.shingle_set_similarity(a bigint[], b bigint[])
    RETURNS real
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'train_data_shingle_set_similarity';

COMMENT ON FUNCTION train_data.shingle_set_similarity(bigint[], bigint[]) IS
    'Exact Jaccard similarity of two shingle sets from shingle_set(): shingle_jaccard of their texts';
