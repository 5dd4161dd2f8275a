/*
 * exact_pairs_glue.c — shingle_pair_similarities(d uuid[], k uuid[]), the
 * step of near_duplicates(..., exact => true) that measures its candidate
 * pairs: element i of the result is the exact Jaccard similarity of the
 * shingle sets of conversations d[i] and k[i] (shingle_jaccard of their
 * conversation_text), NULL when either has no text the caller can read.
 *
 * A conversation's text is read (conversation_text through SPI, as the
 * caller: row-level security decides, and a role that may not read turns
 * gets 42501) and made a set (td_shingle_set) when a pair first needs it;
 * the sets are kept for the pairs after it within the memory a hash table
 * may take (work_mem × hash_mem_multiplier), the least recently used given
 * up first and made again if a later pair needs it.  The pairs come
 * grouped by d, and the k's are the conversations ranked first, which
 * recur: most sets are made once.  Before, the query carried one whole set
 * on each pair's row through its materialized steps: 2,000 conversations
 * of 20,000 words all near each other wrote 8.3 GB of temporary files, and
 * a cancel waited seconds for their removal (a review of 1.2).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/nodeHash.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/uuid.h"

#include "json_glue.h"
#include "minhash.h"
#include "train_data.h"

PG_FUNCTION_INFO_V1(train_data_shingle_pair_similarities);

/* One conversation's shingle set, kept while memory allows. */
typedef struct kept_set
{
	pg_uuid_t	id;				/* the hash key */
	dlist_node	lru;			/* in the cache's list, most recently used first */
	bool		has_text;		/* false: no text (no turns, or not visible) */
	uint64_t   *hashes;			/* ascending, distinct; in the cache's context */
	size_t		n;
	size_t		bytes;			/* what it holds of the budget */
} kept_set;

/* The sets of one call. */
typedef struct set_cache
{
	HTAB	   *sets;
	dlist_head	lru;
	MemoryContext cxt;
	size_t		used;
	size_t		budget;
	SPIPlanPtr	read_text;
} set_cache;

/*
 * Make the set of conversation id into s, in the cache's context: its text
 * read as the caller, then hashed.  Called connected to SPI.
 */
static void
make_set(set_cache *c, kept_set *s)
{
	Datum		arg = UUIDPGetDatum(&s->id);
	bool		isnull;
	Datum		t;

	if (SPI_execute_plan(c->read_text, &arg, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the text of conversation %s",
			 DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(&s->id))));
	t = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	s->has_text = !isnull;
	s->hashes = NULL;
	s->n = 0;
	s->bytes = sizeof(kept_set);
	if (!isnull)
	{
		text	   *txt = DatumGetTextPP(t);
		size_t		len = VARSIZE_ANY_EXHDR(txt);
		const char *u = td_server_text_for_words(VARDATA_ANY(txt), &len);
		MemoryContext old = MemoryContextSwitchTo(c->cxt);
		td_buf		buf;

		s->n = td_shingle_set(u, len, &buf);
		MemoryContextSwitchTo(old);
		/*
		 * What the set was made from goes now, not at SPI_finish: the text
		 * converted to UTF-8 (four bytes a byte in a LATIN1 database: a
		 * review measured 366 MB after a few hundred sets made), its
		 * detoasted copy; and the set keeps its size, not the collecting
		 * buffer's (16 MB for one shingle repeated 1.1 million times)
		 */
		if (u != VARDATA_ANY(txt))
			pfree((void *) u);
		if ((Pointer) txt != DatumGetPointer(t))
			pfree(txt);
		s->hashes = (uint64_t *) repalloc(buf.data, Max(s->n, 1) * sizeof(uint64_t));
		s->bytes += GetMemoryChunkSpace(s->hashes);
	}
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Give up the least recently used sets until the cache is within its
 * budget, but for keep1 and keep2 (the sets of the pair being measured).
 */
static void
shrink(set_cache *c, const kept_set *keep1, const kept_set *keep2)
{
	dlist_node *cur = c->lru.head.prev;	/* the least recently used */

	while (c->used > c->budget && cur != &c->lru.head)
	{
		dlist_node *prev = cur->prev;
		kept_set   *s = dlist_container(kept_set, lru, cur);

		if (s != keep1 && s != keep2)
		{
			dlist_delete(cur);
			c->used -= s->bytes;
			if (s->hashes != NULL)
				pfree(s->hashes);
			hash_search(c->sets, &s->id, HASH_REMOVE, NULL);
		}
		cur = prev;
	}
}

/*
 * The set of conversation id, made now if it is not kept; other is the
 * pair's other set, or NULL.
 */
static kept_set *
set_of(set_cache *c, const pg_uuid_t *id, const kept_set *other)
{
	bool		found;
	kept_set   *s = (kept_set *) hash_search(c->sets, id, HASH_ENTER, &found);

	if (found)
	{
		dlist_move_head(&c->lru, &s->lru);
		return s;
	}
	make_set(c, s);				/* (an error ends the call, and the cache with it) */
	dlist_push_head(&c->lru, &s->lru);
	c->used += s->bytes;
	shrink(c, s, other);
	return s;
}

/*
 * shingle_pair_similarities(d uuid[], k uuid[]) returns real[] — see the
 * file's header.  STABLE, as the caller: it reads the turns.
 */
Datum
train_data_shingle_pair_similarities(PG_FUNCTION_ARGS)
{
	int			nd,
				nk;
	Datum	   *d = td_pair_elements(PG_GETARG_ARRAYTYPE_P(0), UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &nd, "d"),
			   *k = td_pair_elements(PG_GETARG_ARRAYTYPE_P(1), UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &nk, "k");
	Datum	   *sims;
	bool	   *nulls;
	set_cache	c;
	HASHCTL		ctl;
	Oid			argtype = UUIDOID;
	int			dims[1],
				lbs[1] = {1};

	if (nd != nk)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("arrays d and k of the near-duplicate pairs must have the same length, not %d and %d", nd, nk)));
	sims = (Datum *) palloc(sizeof(Datum) * Max(nd, 1));
	nulls = (bool *) palloc(sizeof(bool) * Max(nd, 1));
	c.cxt = AllocSetContextCreate(CurrentMemoryContext, "train_data shingle sets", ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = sizeof(pg_uuid_t);
	ctl.entrysize = sizeof(kept_set);
	ctl.hcxt = c.cxt;
	c.sets = hash_create("train_data shingle sets", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	dlist_init(&c.lru);
	c.used = 0;
	c.budget = get_hash_memory_limit();
	SPI_connect();
	c.read_text = SPI_prepare("SELECT train_data.conversation_text($1)", 1, &argtype);
	if (c.read_text == NULL)
		elog(ERROR, "could not prepare the read of a conversation's text: %s", SPI_result_code_string(SPI_result));
	for (int i = 0; i < nd; i++)
	{
		kept_set   *a,
				   *b;

		CHECK_FOR_INTERRUPTS();
		a = set_of(&c, DatumGetUUIDP(d[i]), NULL);
		b = set_of(&c, DatumGetUUIDP(k[i]), a);
		nulls[i] = !a->has_text || !b->has_text;
		sims[i] = nulls[i] ? (Datum) 0 :
			Float4GetDatum((float4) td_shingle_set_jaccard(a->hashes, a->n, b->hashes, b->n));
	}
	SPI_finish();
	MemoryContextDelete(c.cxt);
	dims[0] = nd;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(sims, nulls, 1, dims, lbs, FLOAT4OID, sizeof(float4),
											 true, TYPALIGN_INT));
}
