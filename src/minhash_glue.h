/*
 * minhash_glue.h — the near-duplicate signature of a conversation's turns
 * and its band keys as Datums, for the glue that stores them
 * (minhash_glue.c; the SQL functions conversation_text_signature() and
 * minhash_bands() return the same).
 */
#ifndef TD_MINHASH_GLUE_H
#define TD_MINHASH_GLUE_H

#include "postgres.h"

#include "utils/jsonb.h"

/*
 * The int4[] signature of turns, a jsonb array of objects whose string
 * "content" members are read in order (anything else adds nothing); 22023
 * when turns is not an array.
 */
extern Datum td_turns_signature(Jsonb *turns);

/* The int8[] band keys of a signature td_turns_signature() made. */
extern Datum td_signature_bands(Datum signature);

#endif							/* TD_MINHASH_GLUE_H */
