/*
 * jsonb_doc.h — a document writer (td_doc.h) that writes a jsonb value as
 * a core writes its document: jsonb's binary format laid out container by
 * container, no JSON text to print and parse back, no JsonbValue tree to
 * convert.  Strings are copied (converted to the server encoding when it
 * is not UTF-8).  Objects' keys are put in jsonb's order by the writer,
 * the last of equal keys kept, as jsonb_in does; the bytes are the ones
 * jsonb_in would store for the same document.
 */
#ifndef TD_JSONB_DOC_H
#define TD_JSONB_DOC_H

#include "postgres.h"

#include "fmgr.h"

#include "td_doc.h"

struct jb_frame;

/* Bytes being gathered: a frame's values, or the result. */
typedef struct td_jb_bytes
{
	char	   *data;
	uint32		len;
	uint32		size;
} td_jb_bytes;

typedef struct td_jsonb_doc
{
	td_doc		doc;
	td_jb_bytes root;			/* the result, when its outermost object is laid out as written */
	struct jb_frame *frames;	/* one per open container, outermost first (kept for reuse) */
	int			depth;			/* open containers */
	int			nframes;		/* frames allocated */
	struct varlena *result;		/* set when the outermost container ends */
	MemoryContext cxt;			/* where the frames' arrays are allocated */
	bool		kept;			/* the frames are the session's kept ones */
	bool		utf8;			/* the database's encoding is UTF-8: strings are kept as they are */
} td_jsonb_doc;

/* Start a document (taking the session's kept frames when they are free). */
extern void td_jsonb_doc_init(td_jsonb_doc *w);

/* The jsonb Datum of a finished document (allocated in the current context). */
extern Datum td_jsonb_doc_finish(td_jsonb_doc *w);

/* Free the kept frames, taken or not (a transaction's abort: no document is open). */
extern void td_jsonb_doc_release_kept(void);

#endif							/* TD_JSONB_DOC_H */
