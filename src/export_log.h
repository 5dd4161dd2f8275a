/*
 * export_log.h — the export_logs row of an export made by
 * export_conversations(): inserted when the export starts, completed with
 * its count, size and manifest when the last record has been returned.
 */
#ifndef TD_EXPORT_LOG_H
#define TD_EXPORT_LOG_H

#include "postgres.h"

#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/uuid.h"

#include "lines_md5.h"

typedef struct export_log
{
	Datum		id;				/* export_logs.id; 0 when the export is not logged */
	bool		manifest;		/* 1.2 and later: keep the manifest */
	MemoryContext cxt;			/* where the ids and arguments live */
	td_lines_md5 md5;			/* over the records, when manifest */
	pg_uuid_t  *ids;			/* the conversations written, in order */
	int64		n_ids;
	int64		cap_ids;
	HTAB	   *templates;		/* the distinct templates written (NULL: none yet) */
	text	   *format;
	text	   *scope;
	Datum		given_ids;		/* uuid[] argument, or 0 */
	Jsonb	   *filters;		/* or NULL */
	Jsonb	   *options;
} export_log;

extern void export_log_start(export_log *log, MemoryContext cxt, bool manifest, text *format, text *scope,
							 Datum given_ids, Jsonb *filters, Jsonb *options);
extern void export_log_conversation(export_log *log, const pg_uuid_t *id, const pg_uuid_t *template_id);
extern void export_log_record(export_log *log, const char *bytes, size_t len);
extern void export_log_finish(export_log *log, int64 conversations, int64 bytes);
extern void export_log_stopped(export_log *log, int64 records);
extern void export_log_finish_late(export_log *log, int64 conversations, int64 bytes);

#endif
