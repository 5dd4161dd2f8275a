/*
 * engine_cache.h — per-session copies of what the engine reads for every
 * item but its users change rarely: the effective AI configuration of a
 * job's owner (each claim) and the price row of a model (each completion).
 * See engine_cache.c for how they are kept current.
 */
#ifndef TD_ENGINE_CACHE_H
#define TD_ENGINE_CACHE_H

#include "postgres.h"

/* The caches, each depending on one table of the train_data schema. */
typedef enum td_engine_cache
{
	TD_CACHE_CONFIG,			/* owner uuid -> get_effective_ai_config() */
	TD_CACHE_PRICE,				/* (answered, asked) model names -> model_price() */
	TD_CACHE_N
} td_engine_cache;

/*
 * The value kept for key (keylen bytes), copied into the current memory
 * context; false when none is kept (then read it, and keep it with
 * td_engine_cache_put and the generation taken before the read).
 */
extern bool td_engine_cache_get(td_engine_cache cache, const void *key, int keylen,
								Datum *value, bool *isnull);

/* The count of invalidations so far: taken before a read that is to be kept. */
extern uint64 td_engine_cache_generation(void);

/*
 * Keep value (of a type of typlen/typbyval) for key, unless an invalidation
 * came since generation (the value read may then be older than it) or the
 * key is too long to keep.
 */
extern void td_engine_cache_put(td_engine_cache cache, const void *key, int keylen,
								Datum value, bool isnull, int16 typlen, bool typbyval,
								uint64 generation);

/* Register the invalidation callbacks (from _PG_init). */
extern void td_install_engine_cache(void);

#endif							/* TD_ENGINE_CACHE_H */
