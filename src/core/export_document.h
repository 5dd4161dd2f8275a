/*
 * export_document.h — the document formats of the export writer (JSON, CSV,
 * Markdown), called by its dispatch in export.c; not for other callers.
 */
#ifndef TD_EXPORT_DOCUMENT_H
#define TD_EXPORT_DOCUMENT_H

#include "export.h"

/* Is the text present and not empty? */
extern bool td_export_present(td_text v);

/* Is this turn the assistant's? */
extern bool td_export_is_assistant(const td_export_turn *t);

extern void td_export_json_header(td_export_writer *w, long long count, td_buf *out);
extern void td_export_json_begin(td_export_writer *w, const td_export_conversation *c, td_buf *out);
extern void td_export_json_turn(td_export_writer *w, const td_export_turn *t, td_buf *out);
extern void td_export_json_end(td_export_writer *w, const td_export_conversation *c, td_buf *out);
extern void td_export_json_footer(td_export_writer *w, td_buf *out);

extern void td_export_csv_header(td_export_writer *w, td_buf *out);
extern void td_export_csv_turn(td_export_writer *w, const td_export_conversation *c,
							   const td_export_turn *t, td_buf *out);

extern void td_export_markdown_header(td_export_writer *w, long long count, td_buf *out);
extern void td_export_markdown_begin(td_export_writer *w, const td_export_conversation *c, td_buf *out);
extern void td_export_markdown_turn(td_export_writer *w, const td_export_turn *t, td_buf *out);

#endif							/* TD_EXPORT_DOCUMENT_H */
