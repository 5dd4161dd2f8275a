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

#endif							/* TD_TRAIN_DATA_H */
