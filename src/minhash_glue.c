/*
 * minhash_glue.c — SQL entry points of the near-duplicate signatures:
 * minhash_signature(), conversation_text_signature(), the aggregate
 * minhash_signature_agg(), minhash_bands(), minhash_similarity(), and the
 * exact shingle_set(), shingle_set_similarity() and shingle_jaccard().
 * The signatures and sets are the pure core in core/minhash.c.
 *
 * Texts are read as UTF-8: as they are in a UTF-8 or SQL_ASCII database
 * (SQL_ASCII holds any bytes, and invalid UTF-8 separates words: a stored
 * text never fails to sign), converted from any other encoding, where a
 * character UTF-8 has no equivalent for (0x81 in WIN1252) separates words
 * too (converted strictly, it failed the insert of the turn, and the update
 * to 1.2 of a database holding one: found by a review of 1.2).
 *
 * A signature is an int4[] of TD_MINHASH_SLOTS elements (the 32-bit slot
 * values, reinterpreted as signed), one dimension, no NULLs.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/memutils.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "detoast.h"
#include "json_glue.h"
#include "minhash.h"
#include "minhash_glue.h"

PG_FUNCTION_INFO_V1(train_data_minhash_signature);
PG_FUNCTION_INFO_V1(train_data_conversation_text_signature);
PG_FUNCTION_INFO_V1(train_data_minhash_signature_agg_add);
PG_FUNCTION_INFO_V1(train_data_minhash_signature_agg_finish);
PG_FUNCTION_INFO_V1(train_data_minhash_bands);
PG_FUNCTION_INFO_V1(train_data_minhash_similarity);
PG_FUNCTION_INFO_V1(train_data_shingle_jaccard);
PG_FUNCTION_INFO_V1(train_data_shingle_set);
PG_FUNCTION_INFO_V1(train_data_shingle_set_similarity);

/* A signature as an int4[] Datum. */
static Datum
signature_datum(const uint32_t sig[TD_MINHASH_SLOTS])
{
	Datum		values[TD_MINHASH_SLOTS];

	for (int i = 0; i < TD_MINHASH_SLOTS; i++)
		values[i] = Int32GetDatum((int32) sig[i]);
	return PointerGetDatum(construct_array(values, TD_MINHASH_SLOTS, INT4OID, sizeof(int32), true, TYPALIGN_INT));
}

/*
 * The slots of signature argument argno (named name in messages): an error
 * unless it is a one-dimensional int4[] of TD_MINHASH_SLOTS non-NULL
 * elements.  Points into the detoasted array.
 */
static const uint32_t *
signature_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(argno);
	int			n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));

	if (ARR_NDIM(a) != 1 || n != TD_MINHASH_SLOTS || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != INT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a signature of %d integers without nulls, not an array of %d %s and %d %s",
						name, TD_MINHASH_SLOTS, ARR_NDIM(a), ARR_NDIM(a) == 1 ? "dimension" : "dimensions",
						n, n == 1 ? "element" : "elements"),
				 ARR_HASNULL(a)
				 ? errdetail("The array holds a null. Signatures come from minhash_signature() or conversation_text_signature().")
				 : errdetail("Signatures come from minhash_signature() or conversation_text_signature().")));
	return (const uint32_t *) ((const char *) a + ARR_OVERHEAD_NONULLS(1));	/* no nulls: ARR_DATA_PTR */
}

/* Add s[0..len) in the database encoding to a signature. */
static void
add_text(td_minhash *m, const char *s, int len)
{
	size_t		n = (size_t) len;
	const char *u = td_server_text_for_words(s, &n);

	td_minhash_add(m, u, n);
	if (u != s)
		pfree((char *) u);
}

/*
 * minhash_signature(content text) returns int4[] — the MinHash signature
 * of a text (128 slots, 5-word shingles).
 */
Datum
train_data_minhash_signature(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	td_minhash	m;
	uint32_t	sig[TD_MINHASH_SLOTS];

	td_minhash_init(&m);
	add_text(&m, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	td_minhash_finish(&m, sig);
	PG_RETURN_DATUM(signature_datum(sig));
}

/*
 * minhash_signature_agg(content text ORDER BY ...) returns int4[] — the
 * signature of the texts aggregated, in order, words running on from one
 * to the next: the same as minhash_signature(string_agg(content, ' ')),
 * without joining them (each text is read and let go; string_agg of a
 * conversation's turns is limited to 1 GB, and holds them all).  NULL
 * texts are skipped; NULL when there are none.  Its state lives in the
 * aggregate's context.
 */
Datum
train_data_minhash_signature_agg_add(PG_FUNCTION_ARGS)
{
	MemoryContext agg;
	td_minhash *m = PG_ARGISNULL(0) ? NULL : (td_minhash *) PG_GETARG_POINTER(0);

	if (!AggCheckCallContext(fcinfo, &agg))
		elog(ERROR, "minhash_signature_agg_add called outside an aggregate");
	if (PG_ARGISNULL(1))
	{
		if (m == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(m);
	}
	if (m == NULL)
	{
		m = MemoryContextAlloc(agg, sizeof(td_minhash));
		td_minhash_init(m);
	}
	{
		text	   *t = PG_GETARG_TEXT_PP(1);

		add_text(m, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		PG_FREE_IF_COPY(t, 1);
	}
	PG_RETURN_POINTER(m);
}

/* The final function of minhash_signature_agg. */
Datum
train_data_minhash_signature_agg_finish(PG_FUNCTION_ARGS)
{
	td_minhash	m;
	uint32_t	sig[TD_MINHASH_SLOTS];

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "minhash_signature_agg_finish called outside an aggregate");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	m = *(td_minhash *) PG_GETARG_POINTER(0);	/* finished on a copy: the state may be finished again */
	td_minhash_finish(&m, sig);
	PG_RETURN_DATUM(signature_datum(sig));
}

/* Add the content of one turn (a jsonb object; anything else adds nothing). */
static void
add_turn(td_minhash *m, JsonbValue *turn)
{
	JsonbValue *content;

	if (turn == NULL || turn->type != jbvBinary || !JsonContainerIsObject(turn->val.binary.data))
		return;
	content = getKeyJsonValueFromContainer(turn->val.binary.data, "content", 7, NULL);
	if (content == NULL || content->type != jbvString)
		return;
	add_text(m, content->val.string.val, content->val.string.len);
}

/* See minhash_glue.h. */
Datum
td_turns_signature(Jsonb *turns)
{
	td_minhash	m;
	uint32_t	sig[TD_MINHASH_SLOTS];
	uint32		n;

	if (!JB_ROOT_IS_ARRAY(turns) || JB_ROOT_IS_SCALAR(turns))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("turns must be a JSON array, not %s",
						JB_ROOT_IS_SCALAR(turns) ? "a scalar" : "an object"),
				 errdetail("A conversation's turns are an array of objects {\"role\", \"content\"}.")));
	n = JB_ROOT_COUNT(turns);
	td_minhash_init(&m);
	for (uint32 i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		add_turn(&m, getIthJsonbValueFromContainer(&turns->root, i));
	}
	td_minhash_finish(&m, sig);
	return signature_datum(sig);
}

/*
 * conversation_text_signature(turns jsonb) returns int4[] — the signature
 * of a conversation's text: the contents of its turns ([{content}, ...]) in
 * order, words running on from one turn to the next (the same as
 * minhash_signature of the contents joined with white space).  Turns
 * without string content add nothing; turns that are not an array are an
 * error.
 */
Datum
train_data_conversation_text_signature(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(td_turns_signature(TD_GETARG_JSONB_P(0)));
}

/* See minhash_glue.h. */
Datum
td_signature_bands(Datum signature)
{
	ArrayType  *a = DatumGetArrayTypeP(signature);
	const uint32_t *sig = (const uint32_t *) ((const char *) a + ARR_OVERHEAD_NONULLS(1));	/* no nulls */
	int64_t		keys[TD_MINHASH_BANDS];
	Datum		values[TD_MINHASH_BANDS];

	td_minhash_bands(sig, keys);
	for (int b = 0; b < TD_MINHASH_BANDS; b++)
		values[b] = Int64GetDatum(keys[b]);
	return PointerGetDatum(construct_array(values, TD_MINHASH_BANDS, INT8OID, sizeof(int64),
										   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * minhash_bands(signature int4[]) returns bigint[] — the 16 LSH band keys
 * of a signature (8 slots each, the band number mixed in): two
 * conversations are near-duplicate candidates when they share a key.
 */
Datum
train_data_minhash_bands(PG_FUNCTION_ARGS)
{
	(void) signature_arg(fcinfo, 0, "signature");
	PG_RETURN_DATUM(td_signature_bands(PG_GETARG_DATUM(0)));
}

/*
 * minhash_similarity(a int4[], b int4[]) returns real — the fraction of
 * equal slots: an estimate of the Jaccard similarity of the two texts'
 * shingle sets.
 */
Datum
train_data_minhash_similarity(PG_FUNCTION_ARGS)
{
	const uint32_t *a = signature_arg(fcinfo, 0, "first signature");
	const uint32_t *b = signature_arg(fcinfo, 1, "second signature");

	PG_RETURN_FLOAT4((float4) td_minhash_similarity(a, b, TD_MINHASH_SLOTS));
}

/*
 * shingle_jaccard(a text, b text) returns real — the exact Jaccard
 * similarity of two texts' shingle sets, which minhash_similarity
 * estimates from their signatures (the same words, read as add_text reads
 * them).
 */
Datum
train_data_shingle_jaccard(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0),
			   *b = PG_GETARG_TEXT_PP(1);
	size_t		na = VARSIZE_ANY_EXHDR(a),
				nb = VARSIZE_ANY_EXHDR(b);
	const char *ua = td_server_text_for_words(VARDATA_ANY(a), &na),
			   *ub = td_server_text_for_words(VARDATA_ANY(b), &nb);

	PG_RETURN_FLOAT4((float4) td_shingle_jaccard(ua, na, ub, nb));
}

/*
 * shingle_set(content text) returns int8[] — the text's shingle set: the
 * distinct 64-bit shingle hashes its signature is made from, ascending as
 * unsigned numbers (stored as int8, reinterpreted).
 */
Datum
train_data_shingle_set(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	size_t		n = VARSIZE_ANY_EXHDR(t);
	const char *u = td_server_text_for_words(VARDATA_ANY(t), &n);
	td_buf		set;
	size_t		count = td_shingle_set(u, n, &set);
	ArrayType  *a;

	if (count > MaxAllocSize / sizeof(int64) - ARR_OVERHEAD_NONULLS(1))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("text has %zu distinct shingles; a shingle set holds at most %zu", count,
						(size_t) (MaxAllocSize / sizeof(int64) - ARR_OVERHEAD_NONULLS(1)))));
	a = construct_array((Datum *) NULL, 0, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	if (count > 0)
	{
		int			dims[1] = {(int) count};
		int			lbs[1] = {1};
		Size		bytes = ARR_OVERHEAD_NONULLS(1) + count * sizeof(int64);

		a = (ArrayType *) palloc0(bytes);
		SET_VARSIZE(a, bytes);
		a->ndim = 1;
		a->dataoffset = 0;
		a->elemtype = INT8OID;
		memcpy(ARR_DIMS(a), dims, sizeof(dims));
		memcpy(ARR_LBOUND(a), lbs, sizeof(lbs));
		memcpy((char *) a + ARR_OVERHEAD_NONULLS(1), set.data, count * sizeof(int64));	/* no nulls: ARR_DATA_PTR */
	}
	td_buf_free(&set);
	PG_RETURN_ARRAYTYPE_P(a);
}

/*
 * The hashes of shingle set argument argno (named name in messages): an
 * error unless it is an int8[] of at most one dimension, without NULLs,
 * ascending as unsigned numbers with no repeat (shingle_set's).  Points
 * into the detoasted array; *n its length.
 */
static const uint64_t *
shingle_set_arg(FunctionCallInfo fcinfo, int argno, const char *name, size_t *n)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(argno);
	const uint64_t *h;

	*n = (size_t) ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	if (ARR_NDIM(a) > 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("shingle set %s must be a one-dimensional bigint array without nulls", name),
				 errdetail("Shingle sets come from shingle_set().")));
	h = (const uint64_t *) ((const char *) a + ARR_OVERHEAD_NONULLS(1));	/* 1 dimension (or 0, empty), no nulls */
	for (size_t i = 1; i < *n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (h[i - 1] >= h[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("shingle set %s is not ascending at element %zu", name, i + 1),
					 errdetail("A shingle set holds each hash once, ascending as unsigned numbers, as shingle_set() returns it.")));
	}
	return h;
}

/*
 * shingle_set_similarity(a int8[], b int8[]) returns real — the Jaccard
 * similarity of two shingle sets (shingle_set's): shingle_jaccard of their
 * texts, each text's set made once for many comparisons.
 */
Datum
train_data_shingle_set_similarity(PG_FUNCTION_ARGS)
{
	size_t		na,
				nb;
	const uint64_t *a = shingle_set_arg(fcinfo, 0, "a", &na),
			   *b = shingle_set_arg(fcinfo, 1, "b", &nb);

	PG_RETURN_FLOAT4((float4) td_shingle_set_jaccard(a, na, b, nb));
}
