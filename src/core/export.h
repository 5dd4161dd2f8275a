/*
 * export.h — export files (pure C core of export_jsonl and
 * export_conversations): conversations in, the records of a training file
 * out.  JSONL has one compact JSON line per conversation in the original
 * system's shape, the OpenAI chat fine-tuning shape or the ShareGPT shape;
 * JSON, CSV and Markdown are documents with a header record, one record per
 * conversation and (JSON) a footer, in the shapes of the original system.
 *
 * A record is written as a stream: td_export_begin, td_export_put_turn for each
 * turn in order, td_export_end, so that the caller never holds a whole
 * conversation.  Joining the records with "\n" gives the file.
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

typedef enum td_export_format
{
	TD_FORMAT_JSONL,			/* one compact line per conversation */
	TD_FORMAT_JSON,				/* one pretty-printed document with a summary */
	TD_FORMAT_CSV,				/* one row per turn, BOM and header row */
	TD_FORMAT_MARKDOWN			/* a readable document */
} td_export_format;

typedef enum td_export_shape
{
	TD_SHAPE_ORIGINAL,			/* {"messages": [...], "metadata": {...}} */
	TD_SHAPE_OPENAI,			/* {"messages": [system?, ...]} with weights */
	TD_SHAPE_SHAREGPT			/* {"conversations": [{"from", "value"}]} */
} td_export_shape;

/* What goes into a file (ExportConfig's include flags and the shape options). */
typedef struct td_export_options
{
	td_export_format format;
	td_export_shape shape;		/* JSONL only */
	bool		include_metadata;
	bool		include_quality_scores;
	bool		include_timestamps;
	bool		include_approval_history;
	bool		include_parent_references;
	td_text		system_message; /* openai: a leading system message */
	bool		last_turn_only; /* openai: weight 1 on the last assistant turn only */
	td_text		export_date;	/* JSON and Markdown headers */
	bool		byte_order_mark;	/* CSV: the text is UTF-8, marked so (default) */
} td_export_options;

/* One turn. */
typedef struct td_export_turn
{
	td_text		role;
	td_text		content;
	td_text		token_count;	/* an integer, or NULL */
} td_export_turn;

/* One conversation, as the export reads it. */
typedef struct td_export_conversation
{
	td_text		id;				/* the row's uuid (CSV, Markdown) */
	td_text		conversation_id;	/* the business id */
	td_text		title;
	td_text		status;
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
	td_text		category;		/* a JSON array of strings (JSON) */
	td_text		category_list;	/* the same, joined with ", " (Markdown) */
	td_text		total_turns;	/* integers */
	td_text		token_count;
	td_text		parameters;		/* a JSON object, or NULL */
	const td_export_turn *turns;	/* td_export_record only */
	long		nturns;
} td_export_conversation;

/* Tiers counted for the JSON summary (more distinct tiers are not counted). */
#define TD_EXPORT_MAX_TIERS 8

/* Running totals of an export (the JSON summary). */
typedef struct td_export_summary
{
	long long	conversations;
	long long	total_turns;
	double		quality_sum;
	long long	quality_count;
	int			ntiers;
	struct
	{
		char		name[32];
		long long	count;
	}			tiers[TD_EXPORT_MAX_TIERS];
} td_export_summary;

/*
 * The longest record, in bytes: a record is returned as one text value, and
 * PostgreSQL's largest value is 1 GB (MaxAllocSize, 2^30 - 1 bytes) with its
 * 4-byte header.
 */
#define TD_EXPORT_MAX_RECORD ((size_t) 0x3FFFFFFF - 4)

/*
 * A writer: the options, the totals and the record being written.  A record
 * that would grow past limit is refused: too_long is set before the text
 * that does not fit is appended, and every later call appends nothing until
 * the next td_export_begin.  The caller checks too_long after each call.
 */
typedef struct td_export_writer
{
	td_export_options o;
	td_export_summary summary;
	long		turn;			/* turns written to the current record */
	size_t		weight_at;		/* offset of the last assistant weight's digit, or 0 */
	size_t		limit;			/* the longest record (TD_EXPORT_MAX_RECORD unless a test sets it) */
	size_t		start;			/* where the current record starts in its buffer */
	bool		too_long;		/* the current record would exceed limit */
} td_export_writer;

/* The options every export starts from: JSONL, original shape, ExportConfig defaults. */
extern td_export_options td_export_defaults(void);

/* Start a writer. */
extern void td_export_writer_init(td_export_writer *w, const td_export_options *o);

/*
 * Append the document's first record (JSON, CSV, Markdown; nothing for
 * JSONL), given the number of conversations it will hold.
 */
extern void td_export_header(td_export_writer *w, long long count, td_buf *out);

/* Append the start of c's record. */
extern void td_export_begin(td_export_writer *w, const td_export_conversation *c, td_buf *out);

/* Append turn t of c's record (turns come in order). */
extern void td_export_put_turn(td_export_writer *w, const td_export_conversation *c,
							   const td_export_turn *t, td_buf *out);

/* Append the end of c's record. */
extern void td_export_end(td_export_writer *w, const td_export_conversation *c, td_buf *out);

/* What goes between two conversation records ("," in JSON, else nothing). */
extern const char *td_export_separator(const td_export_writer *w);

/*
 * Append the document's last record (JSON: the end of the list and the
 * summary).  With no conversation it continues the header record instead.
 */
extern void td_export_footer(td_export_writer *w, td_buf *out);

/* Append c's whole record, with c->turns (begin, every turn, end). */
extern void td_export_record(td_export_writer *w, const td_export_conversation *c, td_buf *out);

/* Append c's JSONL line (no newline) with options o. */
extern void td_export_line(const td_export_conversation *c, const td_export_options *o, td_buf *out);

#endif							/* TD_EXPORT_H */
