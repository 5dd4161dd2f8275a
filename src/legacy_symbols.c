/*
 * legacy_symbols.c — the C entry point names of versions 1.0 and 1.1.
 *
 * Since 1.2 every SQL-callable C function is named train_data_<SQL name>.
 * The frozen scripts of 1.0 and 1.1 name the older symbols, and CREATE
 * EXTENSION ... VERSION '1.0' (or an update that starts there) looks them
 * up in this library, so each old name stays exported and forwards to the
 * current entry point.  1.1--1.2 points every function at its new name.
 */
#include "postgres.h"

#include "fmgr.h"

/* Export OLD as a version-1 function that calls NEW with the same fcinfo. */
#define TD_LEGACY_ENTRY(old, new) \
	extern Datum new(PG_FUNCTION_ARGS); \
	PG_FUNCTION_INFO_V1(old); \
	Datum old(PG_FUNCTION_ARGS); \
	Datum old(PG_FUNCTION_ARGS) { return new(fcinfo); }

TD_LEGACY_ENTRY(td_current_user_id, train_data_current_user_id)
TD_LEGACY_ENTRY(td_touch_timestamps, train_data_touch_timestamps)
TD_LEGACY_ENTRY(td_render_template, train_data_render_template)
TD_LEGACY_ENTRY(td_check_template, train_data_check_template)
TD_LEGACY_ENTRY(td_parse_generation_response, train_data_parse_generation_response_1_1)
TD_LEGACY_ENTRY(td_quality_metrics_sql, train_data_quality_metrics)
TD_LEGACY_ENTRY(td_quality_score_sql, train_data_quality_score)
TD_LEGACY_ENTRY(td_jsonb_merge_deep, train_data_jsonb_merge_deep)
TD_LEGACY_ENTRY(td_job_active_seconds, train_data_job_active_seconds)
TD_LEGACY_ENTRY(td_eta_observe_sql, train_data_eta_observe)
TD_LEGACY_ENTRY(td_calculate_batch_progress, train_data_calculate_batch_progress)
TD_LEGACY_ENTRY(td_estimate_time_remaining, train_data_estimate_time_remaining)
TD_LEGACY_ENTRY(td_batch_progress, train_data_batch_progress)
TD_LEGACY_ENTRY(td_export_jsonl_sql, train_data_export_jsonl_1_1)
TD_LEGACY_ENTRY(td_validate_training_line_sql, train_data_validate_training_line)
TD_LEGACY_ENTRY(td_export_conversations_sql, train_data_export_conversations_1_1)
TD_LEGACY_ENTRY(td_uuid_v7_sql, train_data_uuid_v7)
