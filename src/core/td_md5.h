/*
 * td_md5.h — MD5 (RFC 1321) over data given in pieces, in plain memory: a
 * state is a value that may be copied, finished on a copy, or dropped,
 * with nothing to release.  Only for checksums that must equal
 * PostgreSQL's md5() (the checksum of an export), not for security.
 */
#ifndef TD_MD5_H
#define TD_MD5_H

#include <stddef.h>
#include <stdint.h>

typedef struct td_md5
{
	uint32_t	h[4];			/* the digest so far */
	uint64_t	bytes;			/* bytes absorbed */
	unsigned char block[64];	/* a partial block */
	size_t		fill;			/* its bytes */
} td_md5;

/* Start a digest. */
extern void td_md5_init(td_md5 *m);

/* Absorb len bytes. */
extern void td_md5_update(td_md5 *m, const void *data, size_t len);

/* The 16 bytes of the digest of what was absorbed (m itself is finished). */
extern void td_md5_final(td_md5 *m, unsigned char out[16]);

#endif							/* TD_MD5_H */
