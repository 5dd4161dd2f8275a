/*
 * train_data.c — module entry point: magic block and settings.
 *
 * Settings live under the reserved "train_data." prefix.  train_data.user_id
 * is an ordinary user-settable string: applications set it per transaction
 * (SET LOCAL or set_config(..., true)) to say which user the row-level
 * security policies act for.  Its value is validated where it is read
 * (identity.c), so that a malformed id is reported with the setting's name.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "compat.h"
#include "json_glue.h"
#include "train_data.h"

PG_MODULE_MAGIC;

char	   *td_user_id_setting = NULL;

void		_PG_init(void);

/* Define the settings, reserve the prefix, give the cores palloc. */
void
_PG_init(void)
{
	td_install_allocator();

	DefineCustomStringVariable(TD_USER_ID_SETTING,
							   "User id (a UUID) that train_data's row-level security policies act for.",
							   "When empty, the user id is taken from request.jwt.claim.sub, then from the sub claim of request.jwt.claims.",
							   &td_user_id_setting,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	td_reserve_guc_prefix("train_data");
}
