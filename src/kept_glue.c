/*
 * kept_glue.c — near_duplicates_kept(): which of near_duplicates()'s
 * candidate pairs name a conversation to drop, greedily in rank order, so
 * that the one a dropped conversation is named a duplicate of is one that
 * stays.
 *
 * near_duplicates() finds pairs (d, k): d near k at or above the threshold,
 * k ranked before d.  Taking for each d its best-ranked k dropped both B
 * and C of a chain A > B > C where B is near A and C near B but not near A:
 * C was dropped for B, which was dropped too, and an export with "dedupe"
 * lost C though nothing it wrote was near it (found by a review of 1.2).
 * Here the pairs come sorted by d's rank, then k's; each d is dropped for
 * the first of its k's not dropped itself — every k ranks before d, so its
 * fate is known when d's turn comes — and a d whose k's are all dropped
 * stays.  One pass, a hash set of the dropped ids.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/hsearch.h"
#include "utils/uuid.h"

#include "train_data.h"

PG_FUNCTION_INFO_V1(train_data_near_duplicates_kept);

/* See train_data.h. */
Datum *
td_pair_elements(ArrayType *a, Oid type, int16 typlen, bool byval, char align, int *n, const char *what)
{
	Datum	   *values;
	bool	   *nulls;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("array %s of the near-duplicate pairs must have one dimension", what)));
	deconstruct_array(a, type, typlen, byval, align, &values, &nulls, n);
	for (int i = 0; i < *n; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("array %s of the near-duplicate pairs must not hold NULLs", what)));
	return values;
}

/* A set of uuids. */
static HTAB *
uuid_set(int expected)
{
	HASHCTL		ctl;

	ctl.keysize = UUID_LEN;
	ctl.entrysize = UUID_LEN;
	ctl.hcxt = CurrentMemoryContext;
	return hash_create("near_duplicates_kept dropped", Max(expected, 16), &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * near_duplicates_kept(d uuid[], k uuid[], similarity real[]) returns
 * setof (conversation_id uuid, duplicate_of uuid, similarity real) — of the
 * candidate pairs (d[i] near k[i], k[i] ranked before d[i]), sorted by
 * d's rank then k's, each d once, with the first of its k's that is not
 * itself dropped; a d with none is kept (no row).  22023 for arrays of
 * different lengths, of more than one dimension or holding NULLs.
 */
Datum
train_data_near_duplicates_kept(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			nd,
				nk,
				ns;
	Datum	   *d,
			   *k,
			   *sim;
	HTAB	   *dropped;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return (Datum) 0;
	d = td_pair_elements(PG_GETARG_ARRAYTYPE_P(0), UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &nd, "d");
	k = td_pair_elements(PG_GETARG_ARRAYTYPE_P(1), UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &nk, "k");
	sim = td_pair_elements(PG_GETARG_ARRAYTYPE_P(2), FLOAT4OID, sizeof(float4), true, TYPALIGN_INT, &ns, "similarity");
	if (nd != nk || nd != ns)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("arrays d, k and similarity of the near-duplicate pairs must have the same length, not %d, %d and %d",
						nd, nk, ns)));
	dropped = uuid_set(nd);
	for (int i = 0; i < nd;)
	{
		int			next = i;
		bool		decided = false;

		/* the pairs of this d, its k's in rank order */
		for (; next < nd && memcmp(DatumGetPointer(d[next]), DatumGetPointer(d[i]), UUID_LEN) == 0; next++)
		{
			bool		found;

			CHECK_FOR_INTERRUPTS();
			if (decided)
				continue;
			(void) hash_search(dropped, DatumGetPointer(k[next]), HASH_FIND, &found);
			if (!found)
			{
				Datum		values[3] = {d[next], k[next], sim[next]};
				bool		nulls[3] = {false, false, false};

				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
				(void) hash_search(dropped, DatumGetPointer(d[next]), HASH_ENTER, &found);
				decided = true;
			}
		}
		i = next;
	}
	return (Datum) 0;
}
