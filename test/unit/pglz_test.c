/*
 * pglz_test.c — unit tests of the pglz decoder (src/core/td_pglz.c) against
 * PostgreSQL's own pglz_decompress, linked from the server's libpgcommon:
 * texts of many shapes compressed by PostgreSQL's pglz_compress decode to
 * the same bytes; the same streams damaged (bits flipped, cut short, run
 * on, the wrong size asked for) and random bytes are refused exactly when
 * PostgreSQL refuses them, and decoded to the same bytes when it does not;
 * and nothing is ever read past the data (each stream is given to the
 * decoder ending right before a page that may not be read) nor written
 * past the size asked for (a canary after each result); and a cancel
 * reaches the decoder: it looks every 64 KiB written, and an interrupt
 * handler that jumps out (as the backend's does) leaves an 80 MiB decode
 * where it ran.
 */
#define _DEFAULT_SOURCE			/* mmap's MAP_ANONYMOUS */

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "td_mem.h"
#include "td_pglz.h"
#include "unit.h"

/* PostgreSQL's (common/pg_lzcompress.h, whose headers need the server's c.h). */
typedef struct PGLZ_Strategy PGLZ_Strategy;
extern const PGLZ_Strategy *const PGLZ_strategy_always;
extern int32_t pglz_compress(const char *source, int32_t slen, char *dest, const PGLZ_Strategy *strategy);
extern int32_t pglz_decompress(const char *source, int32_t slen, char *dest, int32_t rawsize,
							   bool check_complete);

#define GUARD 64				/* canary bytes after each result */
#define GUARDED_MAX (1 << 17)	/* the longest stream given to the decoder */

static char *guard_page;		/* a page that may not be read or written */

/* A copy of the stream src that ends right before guard_page. */
static const char *
guarded(const char *src, int32_t slen)
{
	char	   *copy = guard_page - slen;

	memcpy(copy, src, (size_t) slen);
	return copy;
}

/* Map GUARDED_MAX bytes followed by guard_page. */
static void
guard_init(void)
{
	size_t		page = (size_t) sysconf(_SC_PAGESIZE);
	char	   *region = mmap(NULL, GUARDED_MAX + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (region == MAP_FAILED || mprotect(region + GUARDED_MAX, page, PROT_NONE) != 0)
	{
		perror("pglz_test: mmap");
		exit(1);
	}
	guard_page = region + GUARDED_MAX;
}

static uint64_t seed = 0x9e3779b97f4a7c15ULL;

/* xorshift64: the same sequence on every run. */
static uint64_t
rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/*
 * A text of len bytes of one of several shapes: few letters, copies of
 * recent bytes at every distance (matches of every offset and length),
 * a word repeated (long overlapping matches), JSON-like turns, random
 * bytes, runs of one byte.
 */
static void
make_text(char *t, size_t len, int shape)
{
	int			alpha = (int) (rnd() % 20) + 1;
	size_t		period = (size_t) (rnd() % 40) + 1;

	for (size_t i = 0; i < len; i++)
	{
		switch (shape)
		{
			case 0:
				t[i] = (char) ('a' + rnd() % (uint64_t) alpha);
				break;
			case 1:
				t[i] = i >= 300 && rnd() % 4 ? t[i - 1 - rnd() % 300] : (char) rnd();
				break;
			case 2:
				t[i] = i >= period ? t[i - period] : (char) ('0' + rnd() % 16);
				break;
			case 3:
				{
					static const char turn[] = "{\"role\": \"assistant\", \"content\": \"Save ten percent. \"}, ";

					t[i] = rnd() % 50 ? turn[i % (sizeof(turn) - 1)] : (char) ('A' + rnd() % 26);
					break;
				}
			case 4:
				t[i] = (char) rnd();
				break;
			default:
				t[i] = i % 1000 < 900 ? ' ' : (char) rnd();
				break;
		}
	}
}

/*
 * Decode src both ways into buffers of exactly rawsize bytes and a canary;
 * true when both refuse, or both decode to the same bytes, and neither
 * wrote past rawsize.
 */
static bool
agree(const char *src, int32_t slen, int32_t rawsize, bool *decoded)
{
	char	   *ours = malloc((size_t) rawsize + GUARD),
			   *theirs = malloc((size_t) rawsize + GUARD);
	int32_t		a,
				b;
	bool		same;

	memset(ours + rawsize, 0xA5, GUARD);
	a = pglz_decompress(src, slen, theirs, rawsize, true);
	b = td_pglz_decode((const uint8_t *) guarded(src, slen), slen, (uint8_t *) ours, rawsize);
	same = a == b && (a < 0 || memcmp(ours, theirs, (size_t) rawsize) == 0);
	for (int i = 0; i < GUARD; i++)
		same = same && (unsigned char) ours[rawsize + i] == 0xA5;
	*decoded = b >= 0;
	free(ours);
	free(theirs);
	return same;
}

/*
 * A group of seven extended matches and a literal with 28 bytes of data
 * left after its control byte, then a literal, a match of 50 and a literal
 * (187 bytes in all; the first two bytes are the size, as the fuzz
 * target's seed reads them): a fast path taken there would load 8 bytes
 * from 21 on, one past the end.
 */
static const char BOUNDARY[] =
"\xbb\x00" "\x00" "abcdefgh" "\x7f" "\x0f\x01\x00" "\x0f\x01\x00" "\x0f\x01\x00" "\x0f\x01\x00"
"\x0f\x01\x00" "\x0f\x01\x00" "\x0f\x01\x00" "x" "\x02" "y" "\x0f\x01\x20" "z";

static jmp_buf cancelled;		/* where a cancel leaves the decoder for */
static int	handler_runs;		/* calls of the interrupt handler */

/* An interrupt handler that cancels at its first call, as the backend's
 * CHECK_FOR_INTERRUPTS leaves a cancelled call by a jump. */
static void
cancel_now(void)
{
	handler_runs++;
	longjmp(cancelled, 1);
}

/*
 * A cancel inside the decoder: 80 MiB of turns compressed by PostgreSQL,
 * decoded with an interrupt handler that cancels.  Each 64 KiB written
 * counts one look (td_interrupt_ticks); the handler runs at the
 * TD_INTERRUPT_INTERVAL'th look, 64 MiB in, and the decode is left there,
 * long before its end.  Without a handler the same stream decodes whole,
 * with one look a 64 KiB.
 */
static void
test_cancel(void)
{
	const int32_t raw = 80 << 20;
	char	   *text = malloc((size_t) raw),
			   *comp = malloc((size_t) raw + 4096),
			   *out = malloc((size_t) raw);
	int32_t		clen;
	unsigned	before,
				looks;
	volatile int32_t got = -2;

	make_text(text, (size_t) raw, 3);
	clen = pglz_compress(text, raw, comp, PGLZ_strategy_always);
	ok(clen > 0, "80 MiB of turns compress (PostgreSQL's pglz_compress)");

	before = td_interrupt_ticks;
	got = td_pglz_decode((const uint8_t *) comp, clen, (uint8_t *) out, raw);
	ok(got == raw && memcmp(out, text, (size_t) raw) == 0, "without a handler the 80 MiB decode whole");
	looks = td_interrupt_ticks - before;
	/* one look when 64 KiB more are written, at a group's start: apart by 64 KiB and at most a group (8 x 273 bytes) */
	ok(looks <= (unsigned) (raw / 65536) && looks >= (unsigned) (raw / (65536 + 8 * 273)),
	   "a look for a cancel every 64 KiB written");

	memset(out, 0, (size_t) raw);
	td_interrupt_ticks = 0;
	td_interrupt_handler = cancel_now;
	handler_runs = 0;
	got = -2;
	if (setjmp(cancelled) == 0)
		got = td_pglz_decode((const uint8_t *) comp, clen, (uint8_t *) out, raw);
	td_interrupt_handler = NULL;
	ok(got == -2 && handler_runs == 1, "a cancel leaves the decoder (the handler's jump)");
	ok(memcmp(out + (64 << 20) - 4096, text + (64 << 20) - 4096, 4096) == 0 && out[(65 << 20)] == 0,
	   "the cancel came 64 MiB in: what was written before it, nothing 1 MiB later");
	free(text);
	free(comp);
	free(out);
}

int
main(void)
{
	long		cases = 0,
				compressed = 0,
				round_trips = 0,
				refused = 0,
				damaged_decoded = 0,
				wrong = 0;

	guard_init();
	for (int iter = 0; iter < 60000; iter++)
	{
		size_t		len = (size_t) (rnd() % (iter % 20 == 0 ? 40000 : 1200)) + 1;
		char	   *text = malloc(len),
				   *comp = malloc(len + 16);
		int32_t		clen;
		bool		decoded;

		make_text(text, len, iter % 6);
		clen = pglz_compress(text, (int32_t) len, comp, PGLZ_strategy_always);
		if (clen < 0)
		{
			free(text);
			free(comp);
			continue;			/* nothing to gain: stored uncompressed */
		}

		/* as stored */
		cases++;
		compressed++;
		if (agree(comp, clen, (int32_t) len, &decoded) && decoded)
			round_trips++;
		else
			wrong++;

		/* damaged: a few bits flipped, cut short, run on, or another size asked for */
		for (int d = 0; d < 4; d++)
		{
			char	   *bad = malloc((size_t) clen + 8);
			int32_t		blen = clen,
						rawsize = (int32_t) len;

			memcpy(bad, comp, (size_t) clen);
			switch (d)
			{
				case 0:
					for (int k = 0; k < 3; k++)
						bad[rnd() % (uint64_t) clen] ^= (char) (1 << (rnd() % 8));
					break;
				case 1:
					blen = (int32_t) (rnd() % (uint64_t) clen);
					break;
				case 2:
					for (int k = 0; k < 8; k++)
						bad[clen + k] = (char) rnd();
					blen = clen + 1 + (int32_t) (rnd() % 8);
					break;
				default:
					rawsize = (int32_t) (rnd() % (len + 300)) + 1;
					break;
			}
			cases++;
			if (!agree(bad, blen, rawsize, &decoded))
				wrong++;
			else if (decoded)
				damaged_decoded++;
			else
				refused++;
			free(bad);
		}
		free(text);
		free(comp);
	}

	/* random bytes */
	for (int iter = 0; iter < 100000; iter++)
	{
		int32_t		slen = (int32_t) (rnd() % 64) + 1,
					rawsize = (int32_t) (rnd() % 200) + 1;
		char		src[64];
		bool		decoded;

		for (int i = 0; i < slen; i++)
			src[i] = (char) rnd();
		cases++;
		if (!agree(src, slen, rawsize, &decoded))
			wrong++;
	}

	printf("# %ld cases: %ld texts compressed, %ld round trips, %ld damaged streams refused, %ld decoded anyway\n",
		   cases, compressed, round_trips, refused, damaged_decoded);
	ok(wrong == 0, "every stream decodes to PostgreSQL's bytes or is refused as PostgreSQL refuses it");
	ok(round_trips == compressed && compressed > 30000, "the texts compressed by PostgreSQL all round-trip");
	ok(refused > 50000 && damaged_decoded > 1000, "damaged streams are both refused and (harmlessly) decoded");

	/* an empty result from an empty stream, and from a stream with bytes left over */
	{
		bool		decoded;

		ok(td_pglz_decode((const uint8_t *) "", 0, (uint8_t *) "", 0) == 0, "nothing decodes to nothing");
		ok(agree("\x00" "a", 2, 1, &decoded) && decoded, "one literal");
		ok(agree("\x00" "ab", 3, 1, &decoded) && !decoded, "a stream longer than its result is refused");
		ok(agree("\x02" "a\x0e\x01", 4, 18, &decoded) && decoded, "a one-byte pattern repeated 17 times");
		ok(agree("\x02" "a\x0f\x01\x05", 5, 24, &decoded) && decoded, "an extended match of 23 bytes");
		ok(agree("\x02" "a\x0e\x02", 4, 18, &decoded) && !decoded, "a match reaching back before the start is refused");
		ok(agree("\x02" "a\x0e\x00", 4, 18, &decoded) && !decoded, "a match at offset 0 is refused");
		ok(agree("\x02" "a\x0f\x01", 4, 19, &decoded) && !decoded, "a cut-off extended tag is refused");
		ok(agree(BOUNDARY + 2, sizeof(BOUNDARY) - 3, 187, &decoded) && decoded,
		   "seven long matches and a literal, 28 bytes before the end: the careful path");
	}
	test_cancel();
	return unit_done();
}
