/*
 * minhash_glue.c — SQL entry points of the near-duplicate signatures:
 * minhash_signature(), conversation_text_signature(), minhash_bands() and
 * minhash_similarity().  The signatures are the pure core in core/minhash.c.
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
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "json_glue.h"
#include "minhash.h"

PG_FUNCTION_INFO_V1(train_data_minhash_signature);
PG_FUNCTION_INFO_V1(train_data_conversation_text_signature);
PG_FUNCTION_INFO_V1(train_data_minhash_bands);
PG_FUNCTION_INFO_V1(train_data_minhash_similarity);

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
				 errmsg("%s must be a signature of %d integers without nulls, not an array of %d dimensions and %d elements",
						name, TD_MINHASH_SLOTS, ARR_NDIM(a), n),
				 errdetail("Signatures come from minhash_signature() or conversation_text_signature().")));
	return (const uint32_t *) ((const char *) a + ARR_OVERHEAD_NONULLS(1));	/* no nulls: ARR_DATA_PTR */
}

/*
 * minhash_signature(content text) returns int4[] — the MinHash signature
 * of a text (128 slots, 5-word shingles).
 */
Datum
train_data_minhash_signature(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	uint32_t	sig[TD_MINHASH_SLOTS];

	if (GetDatabaseEncoding() == PG_UTF8)
		td_minhash_text(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), sig);
	else
	{
		size_t		len;
		char	   *s = td_text_to_utf8(t, &len);

		td_minhash_text(s, len, sig);
	}
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
	if (GetDatabaseEncoding() == PG_UTF8)
		td_minhash_add(m, content->val.string.val, (size_t) content->val.string.len);
	else
	{
		size_t		len;
		char	   *s = td_text_to_utf8(cstring_to_text_with_len(content->val.string.val,
																content->val.string.len), &len);

		td_minhash_add(m, s, len);
	}
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
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	td_minhash	m;
	uint32_t	sig[TD_MINHASH_SLOTS];
	uint32		n;

	if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("turns must be a JSON array, not %s",
						JB_ROOT_IS_SCALAR(jb) ? "a scalar" : "an object"),
				 errdetail("A conversation's turns are an array of objects {\"role\", \"content\"}.")));
	n = JB_ROOT_COUNT(jb);
	td_minhash_init(&m);
	for (uint32 i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		add_turn(&m, getIthJsonbValueFromContainer(&jb->root, i));
	}
	td_minhash_finish(&m, sig);
	PG_RETURN_DATUM(signature_datum(sig));
}

/*
 * minhash_bands(signature int4[]) returns bigint[] — the 16 LSH band keys
 * of a signature (8 slots each, the band number mixed in): two
 * conversations are near-duplicate candidates when they share a key.
 */
Datum
train_data_minhash_bands(PG_FUNCTION_ARGS)
{
	const uint32_t *sig = signature_arg(fcinfo, 0, "signature");
	int64_t		keys[TD_MINHASH_BANDS];
	Datum		values[TD_MINHASH_BANDS];

	td_minhash_bands(sig, keys);
	for (int b = 0; b < TD_MINHASH_BANDS; b++)
		values[b] = Int64GetDatum(keys[b]);
	PG_RETURN_ARRAYTYPE_P(construct_array(values, TD_MINHASH_BANDS, INT8OID, sizeof(int64),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
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
