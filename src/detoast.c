/*
 * detoast.c — varlena values made whole, pglz decoded by the core (see
 * detoast.h).  An out-of-line value is fetched by PostgreSQL
 * (detoast_external_attr), still compressed if it was stored so; an inline
 * or fetched value compressed with pglz is then decoded here; everything
 * else (lz4, short headers, expanded and indirect values) and anything the
 * decoder refuses is left to pg_detoast_datum.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/toast_compression.h"

#include "detoast.h"
#include "td_pglz.h"

/* A pglz-compressed value decoded into a new varlena, or NULL when the decoder refuses it. */
static struct varlena *
pglz_whole(struct varlena *attr)
{
	int32		rawsize = (int32) VARDATA_COMPRESSED_GET_EXTSIZE(attr);
	struct varlena *result = (struct varlena *) palloc(rawsize + VARHDRSZ);

	if (td_pglz_decode((const uint8_t *) attr + VARHDRSZ_COMPRESSED,
					   (int32) VARSIZE(attr) - (int32) VARHDRSZ_COMPRESSED,
					   (uint8_t *) VARDATA(result), rawsize) != rawsize)
	{
		pfree(result);
		return NULL;
	}
	SET_VARSIZE(result, rawsize + VARHDRSZ);
	return result;
}

/* See detoast.h. */
struct varlena *
td_detoast(Datum value)
{
	struct varlena *attr = (struct varlena *) DatumGetPointer(value),
			   *fetched = NULL,
			   *whole;

	if (VARATT_IS_EXTERNAL_ONDISK(attr))
		attr = fetched = detoast_external_attr(attr);
	if (VARATT_IS_COMPRESSED(attr) &&
		VARDATA_COMPRESSED_GET_COMPRESS_METHOD(attr) == TOAST_PGLZ_COMPRESSION_ID &&
		(whole = pglz_whole(attr)) != NULL)
	{
		if (fetched != NULL)
			pfree(fetched);
		return whole;
	}
	whole = pg_detoast_datum(attr);
	if (fetched != NULL && whole != fetched)
		pfree(fetched);			/* decompressed by PostgreSQL from the fetched copy */
	return whole;
}
