/*
 * train_data.h — declarations shared by the backend glue files of train_data.
 */
#ifndef TD_TRAIN_DATA_H
#define TD_TRAIN_DATA_H

#include "postgres.h"

/* Setting names read by the identity functions (identity.c). */
#define TD_USER_ID_SETTING		"train_data.user_id"
#define TD_JWT_SUB_SETTING		"request.jwt.claim.sub"
#define TD_JWT_CLAIMS_SETTING	"request.jwt.claims"

/* Value of train_data.user_id, owned by the GUC machinery (train_data.c). */
extern char *td_user_id_setting;

/*
 * train_data.durable_claims: on, a transaction of claims only commits as
 * synchronous_commit says; off (the default), without waiting for the WAL
 * flush (claim_glue.c).
 */
extern bool td_durable_claims;

/*
 * train_data.events: on (the default), train_data sends job events with
 * NOTIFY; off (set by a superuser), none, so that no commit of the engine's
 * waits on PostgreSQL's cluster-wide notification queue (item_lock_glue.c;
 * notify_progress reads it in SQL).
 */
extern bool td_events;

/*
 * Raise 28000 "no user id is set" with detail (a full sentence; NULL: none)
 * and the hint on how to set one: every function that acts for a user and
 * finds no user id says it so (identity.c).
 */
extern void td_report_no_user_id(const char *detail) pg_attribute_noreturn();

/* Does the current role have the privileges of the extension owner (engine_glue.c)? */
extern bool td_engine_context(void);

/*
 * Refuse a worker function in a transaction that reads from one snapshot
 * (REPEATABLE READ, SERIALIZABLE): 0A000 (item_lock_glue.c).
 */
extern void td_require_read_committed(void);

/*
 * A claim's look for jobs whose closing check is owed (job_close_checks), at
 * most once a second per session; true when it checked a job (close_checks.c).
 * Call it connected to SPI, as the extension owner.
 */
extern bool td_check_owed_closes(void);

/*
 * train_data.* settings made before the library was loaded under names it
 * does not define: reserving the prefix removed them (train_data.c).  Sets
 * *names to the first TD_MAX_MISSPELT names (clipped) and *listed to how
 * many of those there are, and returns how many there were in all; 0 when
 * none.  One set within the loading transaction counts until that
 * transaction ends (or, set by SET, until it aborts).
 */
#define TD_MAX_MISSPELT 4
extern int	td_misspelt_settings(const char *const **names, int *listed);

/*
 * Keep the CHECK constraints of train_data's tables parsed per backend: an
 * ExecutorStart hook, installed by _PG_init (check_cache.c).
 */
extern void td_install_check_cache(void);

/*
 * Prepare the CHECK constraints of a result relation opened outside a
 * statement (turn_writer.c) from the same kept trees, as ExecRelCheck
 * would on its first row; nothing where the cache is off (check_cache.c).
 */
struct ResultRelInfo;
struct EState;
extern void td_keep_checks_for(struct ResultRelInfo *rri, struct EState *estate);

/*
 * Call fn(arg, relid) on every relcache invalidation (relid InvalidOid:
 * every relation), through the library's one relcache callback
 * (relation_events.c); at most four functions, registered once each.
 */
typedef void (*td_relation_hook) (Datum arg, Oid relid);
extern void td_on_relation_change(td_relation_hook fn, Datum arg);

/*
 * The elements of array argument a of near_duplicates' pairs (its array
 * what: "d", "k", "similarity"), one-dimensional without NULLs, else 22023;
 * *n set (kept_glue.c).
 */
struct ArrayType;
extern Datum *td_pair_elements(struct ArrayType *a, Oid type, int16 typlen, bool byval, char align, int *n,
							   const char *what);

/*
 * Seconds a job has been active now (at the transaction's start, as
 * now()), from its started_at, paused_time and paused_at in v (NULL where
 * n says): job_active_seconds(…, NULL, now()) (progress_glue.c).
 */
extern double td_job_active_seconds_now(const Datum *v, const bool *n);

#endif							/* TD_TRAIN_DATA_H */
