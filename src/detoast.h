/*
 * detoast.h — a varlena argument made whole, as pg_detoast_datum makes it,
 * with values compressed by pglz (PostgreSQL's default) decoded by the
 * core's faster decoder (td_pglz.h): the functions that read a whole
 * conversation's turns from a table pay for decompression on every row.
 */
#ifndef TD_DETOAST_H
#define TD_DETOAST_H

#include "postgres.h"

#include "fmgr.h"

/*
 * The value of a varlena Datum, whole: itself when it is neither
 * compressed, out of line nor short-headed, else a copy in the current
 * context.  Data the decoder finds corrupt goes to pg_detoast_datum, which
 * reports it as PostgreSQL does.
 */
extern struct varlena *td_detoast(Datum value);

/* A jsonb argument, whole. */
#define TD_GETARG_JSONB_P(n) ((Jsonb *) td_detoast(PG_GETARG_DATUM(n)))

#endif							/* TD_DETOAST_H */
