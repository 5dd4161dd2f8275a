/*
 * slug.h — the persona part of a readable conversation id
 * (make_conversation_id): the persona, already lower-cased, with the
 * accented Latin letters of Latin-1 (à..ÿ) replaced by their base letter,
 * every run of other characters but a-z and 0-9 replaced by one "_", cut to
 * TD_SLUG_MAX characters, with "_" trimmed from both ends.
 *
 * The text may be fed in pieces (cut between characters): the slug is
 * complete after TD_SLUG_MAX characters, whatever follows, so a caller can
 * stop reading a long persona there.
 */
#ifndef TD_SLUG_H
#define TD_SLUG_H

#include <stdbool.h>
#include <stddef.h>

#define TD_SLUG_MAX 40

typedef struct td_slug
{
	char		text[TD_SLUG_MAX + 1];
	size_t		len;
	bool		in_run;			/* the last character written was a run's "_" */
} td_slug;

/* An empty slug. */
extern void td_slug_init(td_slug *slug);

/*
 * Add s[0..len) (UTF-8, lower-cased, whole characters) to the slug; true
 * once it is complete (more text would not change it).
 */
extern bool td_slug_add(td_slug *slug, const char *s, size_t len);

/* The slug, trimmed of "_" at both ends (possibly empty), NUL-terminated. */
extern const char *td_slug_finish(td_slug *slug);

#endif							/* TD_SLUG_H */
