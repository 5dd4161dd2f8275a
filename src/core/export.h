/*
 * export.h — training-file lines (pure C core of export_jsonl): one
 * conversation in, one compact JSON line out, in the original system's JSONL
 * shape, the OpenAI chat fine-tuning shape or the ShareGPT shape.
 *
 * The caller supplies every value as text (numbers and JSON already in JSON
 * syntax, timestamps already formatted); strings are escaped here, their
 * bytes otherwise copied as they are.
 */
#ifndef TD_EXPORT_H
#define TD_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "td_mem.h"

/* A piece of text; s == NULL is SQL NULL. */
typedef struct td_text
{
	const char *s;
	size_t		len;
} td_text;

typedef enum td_export_shape
{
	TD_SHAPE_ORIGINAL,			/* {"messages": [...], "metadata": {...}} */
	TD_SHAPE_OPENAI,			/* {"messages": [system?, ...]} with weights */
	TD_SHAPE_SHAREGPT			/* {"conversations": [{"from", "value"}]} */
} td_export_shape;

/* What goes into a line (ExportConfig's include flags and the shape options). */
typedef struct td_export_options
{
	td_export_shape shape;
	bool		include_metadata;
	bool		include_quality_scores;
	bool		include_timestamps;
	bool		include_approval_history;
	bool		include_parent_references;
	td_text		system_message; /* openai: a leading system message */
	bool		last_turn_only; /* openai: weight 1 on the last assistant turn only */
} td_export_options;

/* One turn. */
typedef struct td_export_turn
{
	td_text		role;
	td_text		content;
} td_export_turn;

/* One conversation, as the export reads it. */
typedef struct td_export_conversation
{
	td_text		conversation_id;	/* the business id */
	td_text		title;
	td_text		tier;
	td_text		quality_score;	/* a JSON number, or NULL */
	td_text		created_at;
	td_text		updated_at;
	td_text		review_history; /* a JSON array, or NULL */
	td_text		parent_id;
	td_text		parent_type;
	td_text		persona;
	td_text		emotion;
	td_text		topic;
	const td_export_turn *turns;
	long		nturns;
} td_export_conversation;

/* The options every export starts from: the original shape, ExportConfig defaults. */
extern td_export_options td_export_defaults(void);

/* Append the conversation's line (no newline) to out. */
extern void td_export_line(const td_export_conversation *c, const td_export_options *o, td_buf *out);

#endif							/* TD_EXPORT_H */
