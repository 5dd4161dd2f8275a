/*
 * json_glue.h — the bridge between PostgreSQL values and the pure C cores:
 * jsonb and text in, UTF-8 JSON text out, palloc as the cores' allocator.
 */
#ifndef TD_JSON_GLUE_H
#define TD_JSON_GLUE_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"

#include "td_doc.h"
#include "td_json.h"
#include "td_mem.h"
#include "td_text.h"

/*
 * Make the cores allocate with palloc in the current memory context, refuse
 * a request over 1 GB with SQLSTATE 54000 and check for interrupts
 * (called from _PG_init); release what a call cut short by an error kept
 * when its (sub)transaction aborts.
 */
extern void td_install_allocator(void);

/* A jsonb argument as a core JSON value (UTF-8), parsed into arena. */
extern td_json *td_jsonb_to_core(td_arena *arena, Jsonb *jb);

/* A text argument as UTF-8; *len receives its length in bytes. */
extern char *td_text_to_utf8(text *t, size_t *len);

/*
 * Server-encoded s[0..*len) as UTF-8, *len its new length: s itself when
 * no conversion is needed (not copied, not terminated), else a palloc'd
 * converted copy.
 */
extern const char *td_server_to_utf8(const char *s, size_t *len);

/*
 * Server-encoded s[0..*len) (not UTF-8 nor SQL_ASCII) as UTF-8, palloc'd,
 * *len its new length; a character that has no UTF-8 equivalent (0x81 in
 * WIN1252) becomes a space, where td_server_to_utf8 raises an error.  For
 * the signatures, which must sign any stored text.
 */
extern char *td_server_to_utf8_lenient(const char *s, size_t *len);

/*
 * Server-encoded s[0..*len) as the word readers (signatures, vocabulary)
 * take it: as it is in a UTF-8 or SQL_ASCII database (SQL_ASCII holds any
 * bytes; invalid UTF-8 separates words), else converted leniently as
 * above; the caller pfrees a result that is not s.
 */
extern const char *td_server_text_for_words(const char *s, size_t *len);

/*
 * A user value (server encoding) as an error message quotes it: whole up to
 * TD_CLIP_CHARS characters, else its first TD_CLIP_CHARS characters followed
 * by "...", so that a huge argument never becomes a huge message.
 */
extern char *td_clip_for_message(const char *s);

/*
 * A core's message or detail (UTF-8, quoting what the caller gave in the
 * server's encoding) in the server's encoding, for ereport (no copy in a
 * UTF8 database).
 */
extern const char *td_message_to_server(const char *utf8);

/* UTF-8 JSON text built by a core, as a jsonb Datum. */
extern Datum td_core_to_jsonb(const td_buf *json);

#endif							/* TD_JSON_GLUE_H */
