/*
 * native_write.h — when the engine may write a table's rows without a
 * statement (turn_writer.c, counter_update.c), and the checks both make.
 */
#ifndef TD_NATIVE_WRITE_H
#define TD_NATIVE_WRITE_H

#include "postgres.h"

#include "utils/acl.h"
#include "utils/rel.h"

/*
 * May this call write natively at all: the caller has the extension
 * owner's privileges, the transaction may write, and no executor
 * permission hook (sepgsql) would be passed over?  Takes no lock.
 */
extern bool td_native_writes_here(void);

/*
 * Has the caller the privilege mode (one ACL_* bit) on table relid, with
 * no row-level security applying to her?  Takes no lock.
 */
extern bool td_native_table_allowed(Oid relid, AclMode mode);

/* Is rel a plain heap table, without rules or stored generated columns? */
extern bool td_native_plain_table(Relation rel);

#endif							/* TD_NATIVE_WRITE_H */
