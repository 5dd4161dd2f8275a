/*
 * quality_defects.c — defect verdicts of a conversation (see
 * quality_defects.h; thresholds in quality_thresholds.h).
 *
 * One pass over the words of each turn (td_words.h) gathers what every
 * detector needs: the word hashes and lengths, prefix hashes of the word
 * sequence (so any n-gram's hash is O(1)), the hashes of the turn's lines,
 * sentences and paragraphs, and for assistant turns whether a word may
 * be a contraction (the refusal phrases are looked for in the words with
 * contractions expanded: a copy made only then).  Repetition is counted
 * with a hash table or by sorting hashes, never by comparing all pairs; an
 * n-gram of 3 or more words can only repeat where its first 2-gram does,
 * so the longer n-grams are looked at only there.
 */
#include "quality_defects.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quality_thresholds.h"
#include "td_doc.h"
#include "td_text.h"
#include "td_utf8.h"
#include "td_hcount.h"
#include "td_swar.h"
#include "td_words.h"

#define POLY_BASE 0x100000001b3ULL	/* multiplier of the prefix hashes (odd) */
#define UNIT_LINE 0
#define UNIT_SENTENCE 1
#define UNIT_PARAGRAPH 2
#define MAX_PHRASE_WORDS 12
#define PHRASE_SLOTS 512		/* index of the phrases by their first two words (power of 2) */
#define EXPAND_SLOTS 64			/* contraction index (power of 2) */

/* --- codes ------------------------------------------------------------- */

static const struct
{
	const char *code;
	bool		soft;
	const char *description;
}			defect_info[TD_DEFECT_COUNT] = {
	{"leaked_placeholder", false, "a template placeholder ({{name}}, {% ... %}) left in a turn"},
	{"special_token", false, "a chat-format token (<|im_end|>, <think>, [INST], </s>, ...) left in a turn"},
	{"refusal", true, "an assistant turn refuses or disclaims (\"as an AI\", \"I'm sorry, but I can't\", ...)"},
	{"truncated_last_turn", true, "the last turn stops mid-sentence or leaves a code fence open"},
	{"empty_turn", false, "a turn with no content, or only white space"},
	{"looping_turn", false, "a turn that repeats its own lines, sentences or word n-grams (Gopher measures)"},
	{"duplicate_turns", false, "a turn with the same words as an earlier turn"},
	{"role_order", false, "an unknown role, system past the first turn, the wrong first or last role, or one role twice in a row"},
	{"one_sided", false, "every turn from the same role"},
	{"too_few_turns", false, "fewer than 2 turns, or turns that are not an array"},
	{"length_mismatch", true, "far fewer or more turns than the template asks"},
	{"duplicate_in_batch", true, "nearly the text of an earlier conversation of its batch (with the item parameter dedupe)"},
};

/* See quality_defects.h. */
const char *
td_defect_code(td_defect d)
{
	return defect_info[d].code;
}

/* See quality_defects.h. */
bool
td_defect_is_soft(td_defect d)
{
	return defect_info[d].soft;
}

/* See quality_defects.h. */
const char *
td_defect_description(td_defect d)
{
	return defect_info[d].description;
}

/* See quality_defects.h. */
const char *
td_defect_severity(td_defect_mask mask)
{
	td_defect_mask soft = 0;

	for (int d = 0; d < TD_DEFECT_COUNT; d++)
		if (defect_info[d].soft)
			soft |= (td_defect_mask) 1 << d;
	return mask == 0 ? "none" : (mask & ~soft) ? "hard" : "soft";
}

/* --- expectations -------------------------------------------------------- */

/* Fail with "expected <what> must be <rule>, not <value>" (the value clipped). */
static bool
expect_error(td_error *err, const char *what, const char *rule, const td_json *v)
{
	static const char *const type_names[] = {"null", "false", "true", "a number", "a string", "an array",
	"an object"};
	td_buf		value;

	td_buf_init(&value);
	if (v->type == TD_JSON_STRING)
	{
		td_buf_putc(&value, '"');
		td_buf_put_clipped(&value, v->str, v->len);
		td_buf_putc(&value, '"');
	}
	else if (v->type == TD_JSON_NUMBER)
		td_buf_put_clipped(&value, v->str, v->len);
	else
		td_buf_puts(&value, type_names[v->type]);
	td_error_set(err, TD_EXPECT_BAD, "expected ", "The expectation is a turn count or an object "
				 "{\"turns\", \"minTurns\", \"maxTurns\", \"firstRole\"}.");
	td_buf_puts(&err->message, what);
	td_buf_puts(&err->message, " must be ");
	td_buf_puts(&err->message, rule);
	td_buf_puts(&err->message, ", not ");
	td_buf_append(&err->message, value.data, value.len);
	td_buf_free(&value);
	return false;
}

/* A turn count of an expectation (absent or null: 0); false with err set when out of range. */
static bool
expect_count(const td_json *v, const char *what, long *out, td_error *err)
{
	if (v == NULL || v->type == TD_JSON_NULL)
		return true;
	if (v->type != TD_JSON_NUMBER || v->num != floor(v->num) || v->num < 1 || v->num > TD_EXPECT_MAX_TURNS)
		return expect_error(err, what, "an integer between 1 and 10000", v);
	*out = (long) v->num;
	return true;
}

/* See quality_defects.h. */
bool
td_quality_expect_parse(const td_json *v, td_quality_expect *e, td_error *err)
{
	long		turns = 0,
				min = 0,
				max = 0;
	const td_json *first = NULL;

	memset(e, 0, sizeof(*e));
	if (v == NULL || v->type == TD_JSON_NULL)
		return true;
	if (v->type == TD_JSON_NUMBER)
	{
		if (!expect_count(v, "turn count", &turns, err))
			return false;
	}
	else if (v->type == TD_JSON_OBJECT)
	{
		if (!expect_count(td_json_get(v, "turns"), "turns", &turns, err) ||
			!expect_count(td_json_get(v, "minTurns"), "minTurns", &min, err) ||
			!expect_count(td_json_get(v, "maxTurns"), "maxTurns", &max, err))
			return false;
		first = td_json_get(v, "firstRole");
		if (first && first->type != TD_JSON_NULL && !td_json_string_is(first, "user") &&
			!td_json_string_is(first, "assistant"))
			return expect_error(err, "firstRole", "\"user\" or \"assistant\"", first);
		if (min && max && min > max)
			return expect_error(err, "minTurns", "at most maxTurns", td_json_get(v, "minTurns"));
	}
	else
		return expect_error(err, "turns", "a turn count or an object", v);
	if (turns)
	{
		e->min_turns = (long) ceil(turns * TD_LENGTH_MIN_RATIO);
		e->max_turns = (long) floor(turns * TD_LENGTH_MAX_RATIO);
	}
	if (min)
		e->min_turns = min;
	if (max)
		e->max_turns = max;
	if (e->min_turns && e->max_turns && e->min_turns > e->max_turns)
	{							/* an explicit bound wins over the one "turns" implies */
		if (max)
			e->min_turns = e->max_turns;
		else
			e->max_turns = e->min_turns;
	}
	if (first && first->type == TD_JSON_STRING)
		e->first_role = td_json_string_is(first, "assistant") ? "assistant" : "user";
	return true;
}

/* --- the report ------------------------------------------------------------ */

/* A detail's value or threshold: null, a whole number, a number or a string. */
typedef struct dvalue
{
	enum
	{
		DV_NULL, DV_INT, DV_NUMBER, DV_STRING
	}			kind;
	long long	i;
	double		x;
	const char *s;				/* DV_STRING: clipped when written */
	size_t		len;
} dvalue;

static const dvalue no_threshold = {DV_NULL, 0, 0, NULL, 0};

/* A whole-number value. */
static dvalue
dv_int(long long i)
{
	return (dvalue) {DV_INT, i, 0, NULL, 0};
}

/* A string value (s[0..len), need not be NUL-terminated). */
static dvalue
dv_string(const char *s, size_t len)
{
	return s == NULL ? no_threshold : (dvalue) {DV_STRING, 0, 0, s, len};
}

/* A fraction rounded to 3 decimals. */
static dvalue
dv_fraction(double x)
{
	return (dvalue) {DV_NUMBER, 0, floor(x * 1000.0 + 0.5) / 1000.0, NULL, 0};
}

/* One detail of a defect. */
typedef struct detail_rec
{
	td_defect	defect;
	long		turn;			/* 0: the whole conversation */
	const char *measure;
	dvalue		value;
	dvalue		threshold;
} detail_rec;

/* Defects found, and their details when wanted (in the order found). */
typedef struct td_defect_report
{
	td_defect_mask mask;
	bool		wanted;
	detail_rec *rec;
	size_t		nrec;
	size_t		cap;
	int			ndetails[TD_DEFECT_COUNT];
	long		signal_refusal_turns;	/* the refusalTurns signal (quality.c) */
} report;

/* Record a defect on a turn (0: the whole conversation) and, when wanted, its detail. */
static void
found(report *r, td_defect d, long turn, const char *measure, dvalue value, dvalue threshold)
{
	r->mask |= (td_defect_mask) 1 << d;
	if (!r->wanted)
		return;
	if (r->nrec == r->cap)
	{
		r->cap = r->cap ? r->cap * 2 : 8;
		r->rec = td_realloc(r->rec, r->cap * sizeof(detail_rec));
	}
	r->rec[r->nrec++] = (detail_rec) {d, turn, measure, value, threshold};
	r->ndetails[d]++;
}

/* A whole-number detail. */
static void
found_count(report *r, td_defect d, long turn, const char *measure, long value, dvalue threshold)
{
	found(r, d, turn, measure, dv_int(value), threshold);
}

/* A text detail (the value clipped as messages quote it). */
static void
found_text(report *r, td_defect d, long turn, const char *measure, const char *value, size_t len,
		   dvalue threshold)
{
	found(r, d, turn, measure, dv_string(value, len), threshold);
}

/* Write a value or threshold. */
static void
put_dvalue(td_doc *doc, const dvalue *v)
{
	td_buf		clipped;

	switch (v->kind)
	{
		case DV_NULL:
			doc->ops->null(doc);
			break;
		case DV_INT:
			doc->ops->integer(doc, v->i);
			break;
		case DV_NUMBER:
			doc->ops->number(doc, v->x);
			break;
		case DV_STRING:
			td_buf_init(&clipped);
			td_buf_put_clipped(&clipped, v->s, v->len);
			doc->ops->string(doc, clipped.data, clipped.len);
			td_buf_free(&clipped);
			break;
	}
}

/* Write {"turn", "value", "measure", "threshold"} (its keys declared, in jsonb's order). */
static void
put_detail(td_doc *doc, const detail_rec *d)
{
	static const char *const keys[] = {"turn", "value", "measure", "threshold"};

	td_doc_begin_keyed(doc, keys);
	td_doc_key(doc, "turn");
	if (d->turn > 0)
		doc->ops->integer(doc, d->turn);
	else
		doc->ops->null(doc);
	td_doc_key(doc, "value");
	put_dvalue(doc, &d->value);
	td_doc_key(doc, "measure");
	td_doc_string(doc, d->measure);
	td_doc_key(doc, "threshold");
	put_dvalue(doc, &d->threshold);
	doc->ops->end_object(doc);
}

/* --- scratch space ---------------------------------------------------------- */

/* A growable array of 64-bit hashes. */
typedef struct hashes
{
	uint64_t   *v;
	size_t		n;
	size_t		cap;
} hashes;

/* Room for one more hash (the memory is kept; an allocation may raise an error: cap last). */
static void
hashes_grow(hashes *h)
{
	size_t		cap = h->cap ? h->cap * 2 : 64;

	h->v = td_keep_realloc(h->v, cap * sizeof(uint64_t));
	h->cap = cap;
}

/* Append a hash. */
static inline void
hashes_push(hashes *h, uint64_t x)
{
	if (h->n == h->cap)
		hashes_grow(h);
	h->v[h->n++] = x;
}

/*
 * Everything about the turn being looked at; buffers reused across turns
 * and, kept (td_keep_realloc), across calls: one per session, released
 * when a large text made it grow past KEEP_WORDS.
 */
typedef struct scratch
{
	td_word    *words;			/* hashes and byte spans, as td_words_fill writes them */
	uint64_t   *prefix;			/* prefix[i] = polynomial hash of words [0, i) */
	uint64_t   *power;			/* POLY_BASE^i for i <= cap (filled when the arrays grow) */
	uint32_t   *cprefix;		/* characters of words [0, i) */
	uint8_t    *rep2;			/* the 2-gram at i occurs twice or more */
	uint32_t   *whole;			/* word i is a whole white-space word (td_turn_words; not a byte: stores of bytes may alias) */
	size_t		nwords;
	size_t		cap;
	hashes		units[3];		/* lines, sentences, paragraphs */
	hashes		expanded;		/* words with contractions expanded (only when there is one) */
	bool		contracted;		/* a word may be a contraction */
	td_hcount	grams;
} scratch;

#define KEEP_WORDS 4096			/* a session keeps about 200 KiB for a turn of this many words */

static scratch kept;

/*
 * Twice the room (256 words at first).  The memory is kept across calls
 * and an allocation may raise an error: each array is replaced only once
 * grown, and the capacity raised last, so that it never exceeds an
 * array's size in the next call.
 */
static void
scratch_grow(scratch *s)
{
	size_t		cap = s->cap ? s->cap * 2 : 256;

	s->words = td_keep_realloc(s->words, cap * sizeof(td_word));
	s->prefix = td_keep_realloc(s->prefix, (cap + 1) * sizeof(uint64_t));
	s->power = td_keep_realloc(s->power, (cap + 1) * sizeof(uint64_t));
	s->power[0] = 1;			/* constants: written once per growth, not per word */
	for (size_t i = 1; i <= cap; i++)
		s->power[i] = s->power[i - 1] * POLY_BASE;
	s->cprefix = td_keep_realloc(s->cprefix, (cap + 1) * sizeof(uint32_t));
	s->rep2 = td_keep_realloc(s->rep2, cap * sizeof(uint8_t));
	s->whole = td_keep_realloc(s->whole, cap * sizeof(uint32_t));
	s->cap = cap;
}

/* Room for n more words (and the prefix after them): the check inline, the growth out of line. */
static inline void
scratch_reserve(scratch *s, size_t n)
{
	while (s->nwords + n >= s->cap)
		scratch_grow(s);
}

/* Release the scratch space if a large text made it grow past KEEP_WORDS. */
static void
scratch_trim(scratch *s)
{
	if (s->cap <= KEEP_WORDS && s->expanded.cap <= KEEP_WORDS && s->units[0].cap <= KEEP_WORDS &&
		s->units[1].cap <= KEEP_WORDS && s->units[2].cap <= KEEP_WORDS)
	{
		td_hcount_trim(&s->grams, 4 * KEEP_WORDS);
		return;
	}
	td_keep_free(s->words);
	td_keep_free(s->prefix);
	td_keep_free(s->power);
	td_keep_free(s->cprefix);
	td_keep_free(s->rep2);
	td_keep_free(s->whole);
	for (int u = 0; u < 3; u++)
		td_keep_free(s->units[u].v);
	td_keep_free(s->expanded.v);
	td_hcount_free(&s->grams);
	memset(s, 0, sizeof(*s));
}

/* See quality_defects.h. */
void
td_defect_kept_trim(void)
{
	scratch_trim(&kept);
}

/* Hash of words [i, i + n). */
static uint64_t
gram(const scratch *s, size_t i, size_t n)
{
	return s->prefix[i + n] - s->prefix[i] * s->power[n];
}

/* --- phrases (refusals) ------------------------------------------------------ */

/*
 * Contractions and spellings made one form before matching: the left word
 * (apostrophes already dropped) becomes the words on the right.
 */
static const char *const expansions[][2] = {
	{"cant", "can not"}, {"cannot", "can not"}, {"wont", "will not"}, {"dont", "do not"},
	{"doesnt", "does not"}, {"didnt", "did not"}, {"isnt", "is not"}, {"arent", "are not"},
	{"couldnt", "could not"}, {"shouldnt", "should not"}, {"wouldnt", "would not"},
	{"im", "i am"}, {"ive", "i have"}, {"its", "it is"}, {"thats", "that is"}, {"youre", "you are"},
	{"apologise", "apologize"}
};

/*
 * Refusals and model disclaimers, in the expanded form (QUALITY.md 3.5:
 * the ShareGPT_Vicuna_unfiltered and airoboros lists, open-instruct's
 * identity and knowledge-cutoff mentions), a few in other languages.  Not
 * the product names alone ("openai", "chatgpt") nor "content policy",
 * which ordinary answers name (a review of 1.2: "install the openai
 * package" was a refusal).
 */
static const char *const phrases[] = {
	/* identity and disclaimers */
	"as an ai", "as an a i", "as an artificial intelligence", "as a language model", "as a large language model",
	"as an llm", "i am an ai", "i am just an ai", "i am only an ai", "i am merely an ai", "i am a language model",
	"i am a large language model", "i am an artificial intelligence", "being an ai", "ai language model",
	"language model trained by", "trained by openai", "developed by openai", "created by openai",
	"i am chatgpt", "as chatgpt", "i am claude", "trained by anthropic", "developed by anthropic",
	"created by anthropic", "my programming", "my training data", "my training cutoff", "my knowledge cutoff",
	"my knowledge cut off", "as of my last update", "as of my last knowledge update", "as of my last training",
	"as of my knowledge cutoff", "my guidelines", "my content policy", "i do not have personal opinions",
	"i do not have personal feelings", "i do not have feelings", "i do not have emotions",
	"i do not have personal experiences", "i do not have the ability to", "i do not have access to real time",
	"i am not capable of", "as a responsible ai",
	/* refusals */
	"i can not help", "i can not assist", "i can not provide", "i can not fulfill", "i can not fulfil",
	"i can not comply", "i can not engage", "i can not create", "i can not generate", "i can not write",
	"i can not do that", "i can not answer", "i can not support", "i can not participate",
	"i can not and will not", "i will not be able to help", "i will not be able to assist",
	"i will not be able to provide", "i will not help", "i will not provide", "i am not able to do that",
	"not something i can help with", "not something i can assist with", "i would rather not help",
	"i am going to have to decline",
	"i am unable to", "i am not able to help", "i am not able to provide", "i am not able to assist",
	"i must decline", "i have to decline", "i need to decline", "i must respectfully decline", "i must refuse",
	"i refuse to", "i am sorry but i can not", "i am sorry but i am unable", "i am sorry but i will not",
	"sorry but i can not", "i apologize but i can not", "i apologize but i am unable", "my apologies but i",
	"unfortunately i can not", "unfortunately i am unable", "i am afraid i can not", "it is not appropriate for me",
	"not appropriate for me to", "i am not programmed to", "i am not allowed to", "i am not permitted to",
	"goes against my", "against my programming", "i am not comfortable",
	"openais policies", "openais policy", "openais usage policies", "openais guidelines",
	"anthropics policies", "anthropics usage policies", "anthropics guidelines",
	/* French, German, Spanish, Portuguese, Italian, Russian, Chinese, Japanese, Korean */
	"en tant quia", "en tant que modèle de langage", "en tant quintelligence artificielle",
	"désolé mais je ne peux pas", "je ne peux pas vous aider", "je ne suis pas en mesure de",
	"als ki sprachmodell", "als künstliche intelligenz", "als sprachmodell", "es tut mir leid aber ich kann",
	"ich kann ihnen dabei nicht helfen", "ich kann dir dabei nicht helfen",
	"como modelo de lenguaje", "como una ia", "como inteligencia artificial", "lo siento pero no puedo",
	"no puedo ayudarte con", "no puedo ayudarle con", "como modelo de linguagem", "como uma ia",
	"desculpe mas não posso", "come modello linguistico", "mi dispiace ma non posso",
	"как ии", "как языковая модель", "я не могу помочь", "извините но я не могу",
	"作为一个人工智能", "作为ai", "作为人工智能", "我无法帮助", "抱歉我不能", "ai として", "お手伝いできません",
	"ai 언어 모델로서", "죄송하지만 도와드릴 수 없습니다",
};

/*
 * The older refusal signal of quality_metrics' "signals" (refusalTurns):
 * these phrases, byte for byte but for ASCII case, as whole words starting
 * where a run of ASCII word characters starts (quality.c's has_any_word
 * rule), on any turn.  Each has a word between two spaces, its anchor: a
 * match always makes that word one of the turn's words (td_words.h) at
 * "at" bytes from the phrase's start, so the phrase is compared only where
 * the word walk the detectors make anyway meets an anchor — no second scan.
 */
static const struct
{
	const char *phrase;
	size_t		at;
	const char *anchor;
}			signal_phrases[] = {
	{"as an ai", 3, "an"}, {"as a language model", 5, "language"}, {"i cannot help", 2, "cannot"},
	{"i can't help", 2, "can't"}, {"i am unable to", 5, "unable"}, {"i'm unable to", 4, "unable"},
};

#define NSIGNALS (sizeof(signal_phrases) / sizeof(signal_phrases[0]))
#define NPHRASES (sizeof(phrases) / sizeof(phrases[0]))
#define NEXPANSIONS (sizeof(expansions) / sizeof(expansions[0]))

/* The phrases and contractions as word hashes, indexed by first two words. */
typedef struct phrase_index
{
	bool		ready;
	uint64_t	words[NPHRASES][MAX_PHRASE_WORDS];
	uint8_t		len[NPHRASES];
	int			next[NPHRASES];	/* next phrase in the same slot, -1 */
	int			head[PHRASE_SLOTS]; /* first phrase of a slot, -1 */
	uint64_t	first_bits[16];	/* bit (hash & 1023) of each phrase's first word: most words are passed over at once */
	uint64_t	from[EXPAND_SLOTS]; /* contraction index: word hash, 0 empty */
	uint64_t	to[EXPAND_SLOTS][2];
	uint8_t		to_len[EXPAND_SLOTS];
	uint64_t	expand_bits[16];	/* bit (hash & 1023) of each contraction: most words are passed over at once */
	uint64_t	signal_anchor[NSIGNALS];	/* word hash of each signal phrase's anchor */
	uint64_t	anchor_bits[16];	/* bit (hash & 1023) of each anchor: most words are passed over at once */
} phrase_index;

static phrase_index phrase_ix;

/* The word hashes of a short text (at most max). */
static size_t
words_of(const char *text, uint64_t *out, size_t max)
{
	td_word_iter it;
	td_word		w;
	size_t		n = 0;

	td_words_init(&it, text, strlen(text));
	while (n < max && td_words_next(&it, &w))
		out[n++] = w.hash;
	return n;
}

/* The index slot of the phrases that begin with these two words (second 0: one-word phrases). */
static inline size_t
phrase_slot(uint64_t first, uint64_t second)
{
	return (size_t) td_hash_combine(first, second) & (PHRASE_SLOTS - 1);
}

/* Build the phrase index once (constant data: the same in every call). */
static const phrase_index *
phrases_ready(void)
{
	phrase_index *ix = &phrase_ix;

	if (ix->ready)
		return ix;
	for (int i = 0; i < PHRASE_SLOTS; i++)
		ix->head[i] = -1;
	for (int p = (int) NPHRASES - 1; p >= 0; p--)
	{
		size_t		slot;

		ix->len[p] = (uint8_t) words_of(phrases[p], ix->words[p], MAX_PHRASE_WORDS);
		slot = phrase_slot(ix->words[p][0], ix->len[p] > 1 ? ix->words[p][1] : 0);
		ix->first_bits[(ix->words[p][0] >> 6) & 15] |= UINT64_C(1) << (ix->words[p][0] & 63);
		ix->next[p] = ix->head[slot];
		ix->head[slot] = p;
	}
	memset(ix->from, 0, sizeof(ix->from));
	memset(ix->expand_bits, 0, sizeof(ix->expand_bits));
	for (size_t e = 0; e < NEXPANSIONS; e++)
	{
		uint64_t	from = 0;
		size_t		slot;

		(void) words_of(expansions[e][0], &from, 1);
		slot = (size_t) from & (EXPAND_SLOTS - 1);
		while (ix->from[slot] != 0)
			slot = (slot + 1) & (EXPAND_SLOTS - 1);
		ix->from[slot] = from;
		ix->expand_bits[(from >> 6) & 15] |= UINT64_C(1) << (from & 63);
		ix->to_len[slot] = (uint8_t) words_of(expansions[e][1], ix->to[slot], 2);
	}
	memset(ix->anchor_bits, 0, sizeof(ix->anchor_bits));
	for (size_t k = 0; k < NSIGNALS; k++)
	{
		(void) words_of(signal_phrases[k].anchor, &ix->signal_anchor[k], 1);
		ix->anchor_bits[(ix->signal_anchor[k] >> 6) & 15] |= UINT64_C(1) << (ix->signal_anchor[k] & 63);
	}
	ix->ready = true;
	return ix;
}

/* Could a phrase start with the word (its first-word bit set)? */
static inline bool
may_start_phrase(const phrase_index *ix, uint64_t word)
{
	return (ix->first_bits[(word >> 6) & 15] & (UINT64_C(1) << (word & 63))) != 0;
}

/* Could the word be a contraction (its bit set)? */
static inline bool
may_expand(const phrase_index *ix, uint64_t word)
{
	return (ix->expand_bits[(word >> 6) & 15] & (UINT64_C(1) << (word & 63))) != 0;
}

/* Append a word to s->expanded, expanded if it is a contraction. */
static void
expand_word(const phrase_index *ix, scratch *s, uint64_t word)
{
	hashes	   *out = &s->expanded;
	size_t		slot = (size_t) word & (EXPAND_SLOTS - 1);

	while (ix->from[slot] != 0)
	{
		if (ix->from[slot] == word)
		{
			for (int k = 0; k < ix->to_len[slot]; k++)
				hashes_push(out, ix->to[slot][k]);
			return;
		}
		slot = (slot + 1) & (EXPAND_SLOTS - 1);
	}
	hashes_push(out, word);
}

/*
 * Word hashes as the phrase search reads them: the hash stride bytes
 * apart from the one before (the hash member of the turn's words in
 * place, or the elements of its expanded copy), stepped over as bytes of
 * the array that holds them.
 */
typedef struct word_view
{
	const char *first;			/* the first hash */
	size_t		n;
	size_t		stride;			/* bytes */
} word_view;

#define VIEW_AT(w, i) (*(const uint64_t *) ((w)->first + (i) * (w)->stride))

/*
 * The turn's words with contractions expanded: the words themselves when
 * none may be one (the usual case: no copy), else the expanded copy, made
 * now.
 */
static word_view
phrase_words(const phrase_index *ix, scratch *s)
{
	if (!s->contracted)
		return (word_view) {(const char *) &s->words[0].hash, s->nwords, sizeof(td_word)};
	s->expanded.n = 0;
	for (size_t i = 0; i < s->nwords; i++)
	{
		if (i % 1024 == 0)
			TD_CHECK_FOR_INTERRUPTS();
		expand_word(ix, s, s->words[i].hash);
	}
	return (word_view) {(const char *) s->expanded.v, s->expanded.n, sizeof(uint64_t)};
}

/* The first phrase of the slot's chain (ascending) that is the words at w[i..), or -1. */
static int
phrase_in_slot(const phrase_index *ix, const word_view *w, size_t i, size_t slot, bool one_word)
{
	for (int p = ix->head[slot]; p >= 0; p = ix->next[p])
	{
		size_t		k = 0;

		if ((ix->len[p] == 1) != one_word)
			continue;
		while (k < ix->len[p] && i + k < w->n && VIEW_AT(w, i + k) == ix->words[p][k])
			k++;
		if (k == ix->len[p])
			return p;
	}
	return -1;
}

/*
 * The first phrase found in the expanded words, or -1: at the first
 * position where one starts, the first of the list (the one-word phrases
 * and those of two words or more are in different slots).
 */
static int
find_phrase(const phrase_index *ix, const word_view *w)
{
	for (size_t i = 0; i < w->n; i++)
	{
		int			one,
					more;

		if (i % 1024 == 0)
			TD_CHECK_FOR_INTERRUPTS();
		if (!may_start_phrase(ix, VIEW_AT(w, i)))
			continue;
		one = phrase_in_slot(ix, w, i, phrase_slot(VIEW_AT(w, i), 0), true);
		more = i + 1 < w->n ? phrase_in_slot(ix, w, i, phrase_slot(VIEW_AT(w, i), VIEW_AT(w, i + 1)), false) : -1;
		if (one >= 0 || more >= 0)
			return one < 0 ? more : more < 0 ? one : one < more ? one : more;
	}
	return -1;
}

/* Does the word at text[begin] (hash) anchor a signal phrase that is there? */
static bool
signal_phrase_at(const phrase_index *ix, const char *text, size_t len, size_t begin, uint64_t hash)
{
	if (!(ix->anchor_bits[(hash >> 6) & 15] & (UINT64_C(1) << (hash & 63))))
		return false;
	for (size_t k = 0; k < NSIGNALS; k++)
	{
		size_t		start = begin - signal_phrases[k].at;

		if (ix->signal_anchor[k] != hash || begin < signal_phrases[k].at)
			continue;
		if ((start == 0 || !td_is_ascii_word(text[start - 1])) &&
			td_ascii_word_at(text, len, start, signal_phrases[k].phrase, strlen(signal_phrases[k].phrase)))
			return true;
	}
	return false;
}

/* --- one turn's words --------------------------------------------------------- */

/*
 * End a line, sentence or paragraph that began at word *start, before word
 * end: its hash (the polynomial hash of its words, read from the prefixes,
 * plus its word count; only ever compared for equality, so not mixed)
 * joins the list when it has words; the next one begins at end.
 */
static void
unit_close(const scratch *s, size_t *start, size_t end, hashes *list)
{
	if (end > *start)
		hashes_push(list, gram(s, *start, end - *start) + (end - *start));
	*start = end;
}

/* What the gap between two words ends: 0 nothing, 1 a sentence, 2 a line, 3 a paragraph. */
static int
gap_break(const char *s, size_t b, size_t e)
{
	int			newlines = 0;
	bool		terminal = false,
				sentence = false;

	for (size_t p = b; p < e; p++)
	{
		unsigned char c = (unsigned char) s[p];

		TD_CHECK_FOR_INTERRUPTS();
		if (c == '\n')
			newlines++;
		if (c == '.' || c == '!' || c == '?')
			terminal = true;
		else if (terminal && td_is_space((char) c))
			sentence = true;
		else if (c == 0xE2 && p + 2 < e && (unsigned char) s[p + 1] == 0x80 && (unsigned char) s[p + 2] == 0xA6)
			terminal = true;	/* … */
		else if ((c == 0xE3 && p + 2 < e && (unsigned char) s[p + 1] == 0x80 && (unsigned char) s[p + 2] == 0x82) ||
				 (c == 0xEF && p + 2 < e && (unsigned char) s[p + 1] == 0xBC &&
				  ((unsigned char) s[p + 2] == 0x81 || (unsigned char) s[p + 2] == 0x9F)))
			sentence = true;	/* 。！？ */
	}
	return newlines >= 2 ? 3 : newlines == 1 ? 2 : sentence ? 1 : 0;
}

/*
 * Read the words of a turn into s: hashes, prefixes, units; whether a
 * word may be a contraction when ix is not NULL (phrase_words); which
 * words are whole white-space words when want_whole (td_turn_words, for a
 * caller's fn); *signal true when signals is not NULL and a signal
 * phrase is in the text.  Returns the turn's hash (its word sequence) and
 * *chars the characters of its words.
 */
static uint64_t
read_words(scratch *s, const char *text, size_t len, const phrase_index *ix, const phrase_index *signals,
		   bool want_whole, bool *signal, uint64_t *chars)
{
	static const int closes_at[3] = {2, 1, 3};	/* line, sentence, paragraph: see gap_break */
	td_word_iter it;
	size_t		start[3] = {0, 0, 0},	/* the first word of the open line, sentence, paragraph */
				prev_end = 0,
				got;
	uint64_t	prefix = 0;		/* of the words so far */
	uint32_t	cprefix = 0;
	bool		found = false;	/* a signal phrase */

	s->nwords = 0;
	for (int k = 0; k < 3; k++)
		s->units[k].n = 0;
	s->contracted = false;
	scratch_reserve(s, TD_WORD_BATCH + 1);
	s->prefix[0] = 0;
	s->cprefix[0] = 0;
	td_words_init(&it, text, len);

	/*
	 * The words are read in batches straight into the scratch (room for
	 * the next batch made first); the arrays and running sums are locals
	 * in the loop: the stores into the arrays cannot change them, so they
	 * stay in registers.
	 */
	while ((got = td_words_fill(&it, s->words + s->nwords, TD_WORD_BATCH)) > 0)
	{
		size_t		i = s->nwords;
		const td_word *w = s->words + i;
		uint64_t   *prefixes = s->prefix;
		uint32_t   *cprefixes = s->cprefix,
				   *whole = s->whole;

		for (size_t stop = i + got; i < stop; i++, w++)
		{
			/* one space since the word before (or none at the start): the usual gap */
			bool		spaced = i > 0 ? w->begin == prev_end + 1 && text[prev_end] == ' ' : w->begin == 0;
			int			brk = i > 0 && !spaced ? gap_break(text, prev_end, w->begin) : 0;

			if (brk > 0)		/* a paragraph ends its line and sentence, a line its sentence */
				for (int k = 0; k < 3; k++)
					if (brk >= closes_at[k])
						unit_close(s, &start[k], i, &s->units[k]);
			prefix = prefix * POLY_BASE + w->hash;
			prefixes[i + 1] = prefix;
			cprefix += w->chars;
			cprefixes[i + 1] = cprefix;
			if (want_whole)		/* letters and digits only (a byte a character), spaced on both sides */
			{
				whole[i] = spaced & (w->end - w->begin == w->chars);
				if (i > 0)
					whole[i - 1] &= spaced;
			}
			if (ix && may_expand(ix, w->hash))
				s->contracted = true;
			if (signals && !found)
				found = signal_phrase_at(signals, text, len, w->begin, w->hash);
			prev_end = w->end;
		}
		s->nwords = i;
		scratch_reserve(s, TD_WORD_BATCH + 1);
	}
	if (want_whole && s->nwords > 0 && prev_end < len && !td_is_space(text[prev_end]))
		s->whole[s->nwords - 1] = false;	/* the last word: white space or the end after it too */
	for (int k = 0; k < 3; k++)
		unit_close(s, &start[k], s->nwords, &s->units[k]);
	*chars = s->cprefix[s->nwords];
	*signal = found;
	return td_mix64(s->prefix[s->nwords] + s->nwords);
}

#define SMALL_SORT 32			/* up to this many values, an insertion sort (no callback) */

/* Sort n 64-bit values ascending. */
static void
sort_u64(uint64_t *v, size_t n)
{
	if (n > SMALL_SORT)
	{
		td_sort(v, n, sizeof(uint64_t), td_u64_cmp);
		return;
	}
	for (size_t i = 1; i < n; i++)
	{
		uint64_t	x = v[i];
		size_t		j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Duplicates / total of a list of unit hashes (sorted in place). */
static double
dup_fraction(hashes *h)
{
	size_t		dups = 0;

	if (h->n < 2)
		return 0;
	sort_u64(h->v, h->n);
	for (size_t i = 1; i < h->n; i++)
		dups += h->v[i] == h->v[i - 1];
	return (double) dups / (double) h->n;
}

/*
 * Most frequent repeated n-gram's characters × count / total, among the
 * positions where the 2-gram repeats (all positions for n = 2); *repeats
 * tells whether any n-gram occurs twice or more.
 */
static double
top_gram_fraction(scratch *s, size_t n, double total, bool *repeats)
{
	double		best = 0;

	*repeats = false;
	td_hcount_reset(&s->grams, s->nwords);
	for (size_t i = 0; i + n <= s->nwords; i++)
	{
		uint32_t	c;

		TD_CHECK_FOR_INTERRUPTS();
		if (n > 2 && !s->rep2[i])
			continue;
		c = td_hcount_add(&s->grams, gram(s, i, n));
		*repeats = *repeats || c >= 2;
		if (c >= TD_LOOP_TOP_MIN_COUNT)
		{
			double		chars = (double) (s->cprefix[i + n] - s->cprefix[i] + (n - 1)) * c;

			if (chars > best)
				best = chars;
		}
	}
	if (n == 2 && *repeats)		/* mark where 2-grams repeat, for the longer n-grams */
		for (size_t i = 0; i + 2 <= s->nwords; i++)
			s->rep2[i] = td_hcount_get(&s->grams, gram(s, i, 2)) >= 2;
	return best / total;
}

/* Characters of words in duplicated n-grams (Gopher's non-overlapping walk) / total. */
static double
dup_gram_fraction(scratch *s, size_t n, double total)
{
	size_t		i = 0;
	double		dup = 0;

	td_hcount_reset(&s->grams, s->nwords);
	while (i + n <= s->nwords)
	{
		TD_CHECK_FOR_INTERRUPTS();
		if (!s->rep2[i])		/* a unique 2-gram starts a unique n-gram */
		{
			i++;
			continue;
		}
		if (td_hcount_add(&s->grams, gram(s, i, n)) > 1)
		{
			dup += s->cprefix[i + n] - s->cprefix[i];
			i += n;
		}
		else
			i++;
	}
	return dup / total;
}

/* Report a looping measure when it passes its threshold; true if it did. */
static bool
loop_check(report *r, long turn, const char *measure, double value, double threshold)
{
	if (!(value > threshold))
		return false;
	found(r, TD_DEFECT_LOOPING_TURN, turn, measure, dv_fraction(value),
		  (dvalue) {DV_NUMBER, 0, threshold, NULL, 0});
	return true;
}

/*
 * The Gopher repetition measures of the turn just read, first one over its
 * threshold reported; text_chars, the characters of the text read (the
 * denominator of the character fractions, as Gopher's len(text)).
 */
static void
check_looping(scratch *s, report *r, long turn, size_t text_chars)
{
	static const char *const top_names[] = {"top_2gram_char_fraction", "top_3gram_char_fraction",
	"top_4gram_char_fraction"};
	static const double top_limits[] = {TD_LOOP_TOP2_FRAC, TD_LOOP_TOP3_FRAC, TD_LOOP_TOP4_FRAC};
	static const char *const dup_names[] = {"duplicate_5gram_char_fraction", "duplicate_6gram_char_fraction",
		"duplicate_7gram_char_fraction", "duplicate_8gram_char_fraction", "duplicate_9gram_char_fraction",
	"duplicate_10gram_char_fraction"};
	static const double dup_limits[] = {TD_LOOP_DUP5_FRAC, TD_LOOP_DUP6_FRAC, TD_LOOP_DUP7_FRAC,
	TD_LOOP_DUP8_FRAC, TD_LOOP_DUP9_FRAC, TD_LOOP_DUP10_FRAC};
	double		total = (double) text_chars;
	hashes	   *lines = &s->units[UNIT_LINE],
			   *sentences = &s->units[UNIT_SENTENCE],
			   *paras = &s->units[UNIT_PARAGRAPH];

	for (size_t i = 0; i < s->nwords && TD_CHECK_FOR_INTERRUPTS_EXPR(); i++)
		if (s->words[i].chars > TD_LOOP_MAX_WORD_CHARS)
		{
			found_count(r, TD_DEFECT_LOOPING_TURN, turn, "longest_word_characters", (long) s->words[i].chars,
						dv_int(TD_LOOP_MAX_WORD_CHARS));
			return;
		}
	if (lines->n >= TD_LOOP_MIN_LINES &&
		loop_check(r, turn, "duplicate_line_fraction", dup_fraction(lines), TD_LOOP_DUP_LINE_FRAC))
		return;
	if (paras->n >= TD_LOOP_MIN_PARAS &&
		loop_check(r, turn, "duplicate_paragraph_fraction", dup_fraction(paras), TD_LOOP_DUP_PARA_FRAC))
		return;
	if (sentences->n >= TD_LOOP_MIN_SENTENCES &&
		loop_check(r, turn, "duplicate_sentence_fraction", dup_fraction(sentences), TD_LOOP_DUP_SENTENCE_FRAC))
		return;
	if (s->nwords < TD_LOOP_MIN_WORDS || total <= 0)
		return;
	for (size_t n = 2; n <= 4; n++)
	{
		bool		repeats;
		double		f = top_gram_fraction(s, n, total, &repeats);	/* n = 2: sets rep2 */

		if (n == 2 && !repeats)
			return;				/* no 2-gram repeats: no n-gram does (rep2 is left as it was) */
		if (s->nwords < TD_LOOP_TOP_MIN_WORDS)
			break;				/* the top rules are for longer turns; rep2 is set */
		if (loop_check(r, turn, top_names[n - 2], f, top_limits[n - 2]))
			return;
	}
	for (size_t n = 5; n <= 10; n++)
		if (loop_check(r, turn, dup_names[n - 5], dup_gram_fraction(s, n, total), dup_limits[n - 5]))
			return;
}

/* --- code ------------------------------------------------------------------------ */

/* Blank s[b, e) into out (line breaks kept); the code points blanked. */
static size_t
blank(const char *s, char *out, size_t b, size_t e)
{
	size_t		n = 0;

	for (size_t i = b; i < e; i++)
	{
		TD_CHECK_FOR_INTERRUPTS();
		n += ((unsigned char) s[i] & 0xC0) != 0x80 && s[i] != '\n';
		if (s[i] != '\n')
			out[i] = ' ';
	}
	return n;
}

/*
 * A fence line (any indentation of spaces and tabs, as in a list item, then
 * 3 or more ` or ~; a ` fence's info string holds no `): its character and
 * length, else 0.
 */
static size_t
fence_at(const char *s, size_t b, size_t e, char *ch)
{
	size_t		i = b,
				n = 0;

	while (i < e && (s[i] == ' ' || s[i] == '\t') && TD_CHECK_FOR_INTERRUPTS_EXPR())
		i++;
	if (i >= e || (s[i] != '`' && s[i] != '~'))
		return 0;
	*ch = s[i];
	while (i + n < e && s[i + n] == *ch && TD_CHECK_FOR_INTERRUPTS_EXPR())
		n++;
	if (n < 3 || (*ch == '`' && memchr(s + i + n, '`', e - i - n) != NULL))
		return 0;
	return n;
}

/* Is the rest of the fence line s[b, e) after its run of ch white space (a closing fence)? */
static bool
only_space_after(const char *s, size_t b, size_t e, char ch)
{
	size_t		i = b;

	while (i < e && (s[i] == ' ' || s[i] == '\t') && TD_CHECK_FOR_INTERRUPTS_EXPR())
		i++;
	while (i < e && s[i] == ch && TD_CHECK_FOR_INTERRUPTS_EXPR())
		i++;
	while (i < e && td_is_space(s[i]) && TD_CHECK_FOR_INTERRUPTS_EXPR())
		i++;
	return i == e;
}

/* The length of the run of backquotes at s[i] (within s[.., e)). */
static size_t
ticks_at(const char *s, size_t i, size_t e)
{
	size_t		k = 0;

	while (i + k < e && s[i + k] == '`' && TD_CHECK_FOR_INTERRUPTS_EXPR())
		k++;
	return k;
}

#define SPAN_MAX_TICKS 3		/* inline code opens with 1 to 3 backquotes; longer runs are text */

/*
 * Blank the inline code spans (`code`, ``code``, ```code```) of the line
 * s[b, e): a run of k backquotes opens one closed by the next run of
 * exactly k.  Linear: a search that finds no closer for k marks k as closed
 * for the rest of the line (a later opener of k has none either), one that
 * finds one goes on after it.  The code points blanked.
 */
static size_t
blank_spans(const char *s, char *out, size_t b, size_t e)
{
	bool		none[SPAN_MAX_TICKS + 1] = {false};
	size_t		n = 0,
				i = b;
	const char *q;

	while (i < e && (q = memchr(s + i, '`', e - i)) != NULL)
	{
		size_t		k,
					j;
		bool		closed = false;

		TD_CHECK_FOR_INTERRUPTS();
		i = (size_t) (q - s);
		k = ticks_at(s, i, e);
		if (k > SPAN_MAX_TICKS || none[k])
		{
			i += k;
			continue;
		}
		for (j = i + k; j < e && (q = memchr(s + j, '`', e - j)) != NULL;)
		{
			size_t		m;

			TD_CHECK_FOR_INTERRUPTS();
			j = (size_t) (q - s);
			m = ticks_at(s, j, e);
			if (m == k)
			{
				closed = true;
				break;
			}
			j += m;
		}
		if (!closed)
		{
			none[k] = true;		/* and the backquotes are text */
			i += k;
			continue;
		}
		n += blank(s, out, i, j + k);
		i = j + k;
	}
	return n;
}

/*
 * The text with its code blanked, or NULL when it holds none: the lines of
 * fenced code blocks (from a line of 3 or more ` or ~, indented or not, to
 * the line closing it with as many or more of the same, or to the end) and
 * inline code spans
 * replaced by spaces, line breaks kept, so that every offset still points
 * into the text; *code_chars gets the code points blanked.  The repetition,
 * placeholder and chat-token checks read prose: code repeats by nature
 * (imports, asserts, cases, markup) and quotes braces and tags (a review of
 * 1.2 found 8 of 13 ordinary code answers taken for loops).  Memory: one
 * copy of the text (td_malloc), the caller's to free.
 */
static char *
prose_view(const char *s, size_t len, size_t *code_chars)
{
	char	   *out = td_malloc(len ? len : 1);
	size_t		b = 0,
				n = 0,
				open_n = 0;		/* the open fence's length, 0 outside a block */
	char		open_ch = 0;

	memcpy(out, s, len);
	while (b < len)
	{
		const char *nl = memchr(s + b, '\n', len - b);
		size_t		e = nl ? (size_t) (nl - s) : len;
		char		ch = 0;
		size_t		fence = fence_at(s, b, e, &ch);

		TD_CHECK_FOR_INTERRUPTS();
		if (open_n == 0 && fence > 0)
		{
			open_n = fence;
			open_ch = ch;
			n += blank(s, out, b, e);
		}
		else if (open_n > 0)
		{
			if (fence >= open_n && ch == open_ch && only_space_after(s, b, e, ch))
				open_n = 0;
			n += blank(s, out, b, e);
		}
		else
			n += blank_spans(s, out, b, e);
		b = e + 1;
	}
	*code_chars = n;
	if (n == 0)
	{
		td_free(out);
		return NULL;
	}
	return out;
}

/* --- text scans --------------------------------------------------------------- */

/* The first "{{...}}" or "{%...%}" placeholder of a text: its offset and length, or false. */
static bool
find_placeholder(const char *s, size_t len, size_t *at, size_t *plen)
{
	const char *p = s,
			   *end = s + len;

	while ((p = memchr(p, '{', (size_t) (end - p))) != NULL && p + 1 < end)
	{
		char		close = p[1] == '{' ? '}' : p[1] == '%' ? '%' : 0;
		bool		visible = false;

		if (close)
			for (const char *q = p + 2; q + 1 < end && q - p <= TD_PLACEHOLDER_MAX_BYTES && *q != '\n'; q++)
			{
				TD_CHECK_FOR_INTERRUPTS();
				if (q[0] == close && q[1] == '}')
				{
					if (!visible)
						break;
					*at = (size_t) (p - s);
					*plen = (size_t) (q + 2 - p);
					return true;
				}
				visible = visible || !td_is_space(*q);
			}
		p++;
	}
	return false;
}

/*
 * The first "lorem ipsum dolor" (in any case, any punctuation between)
 * among the words just read: its byte span, or false.  Filler text, a
 * stand-in for content never written; C4 drops a page that holds "lorem
 * ipsum" (QUALITY.md 3.3).  A review of the thirty-sixth session scored
 * eight turns of it 10.0 with no defect; the review of that fix found a
 * question about what "lorem ipsum" means taken for filler, so the filler's
 * first three words are asked for.  Read from the words' hashes, so that it
 * costs no pass over the text.
 */
static bool
find_lorem(const scratch *s, size_t *begin, size_t *end)
{
	static uint64_t filler[3];
	static bool ready = false;

	if (!ready)
		ready = words_of("lorem ipsum dolor", filler, 3) == 3;
	for (size_t i = 0; i + 2 < s->nwords; i++)
		if (s->words[i].hash == filler[0] && s->words[i + 1].hash == filler[1] && s->words[i + 2].hash == filler[2])
		{
			*begin = s->words[i].begin;
			*end = s->words[i + 2].end;
			return true;
		}
	return false;
}

/* Is there a chat-format token at s[p] (a '<' or '['), and how long is it? */
static size_t
special_token_at(const char *s, size_t len, size_t p)
{
	static const char *const tokens[] = {"<think>", "</think>", "<<SYS>>", "<</SYS>>", "<s>", "</s>", "[INST]",
		"[/INST]", "<start_of_turn>", "<end_of_turn>", NULL};	/* (the last two: Gemma's) */

	if (s[p] == '<' && p + 1 < len && s[p + 1] == '|')	/* <|name|> */
	{
		size_t		q = p + 2;

		while (q < len && q - p < 48 && (s[q] == '_' || (s[q] >= 'a' && s[q] <= 'z') ||
										 (s[q] >= 'A' && s[q] <= 'Z') || (s[q] >= '0' && s[q] <= '9')))
			q++;
		if (q > p + 2 && q + 1 < len && s[q] == '|' && s[q + 1] == '>')
			return q + 2 - p;
	}
	for (int k = 0; tokens[k]; k++)
	{
		size_t		n = strlen(tokens[k]);

		if (p + n <= len && memcmp(s + p, tokens[k], n) == 0)
			return n;
	}
	return 0;
}

/* The first chat-format token of a text (marks: td_qturn_marks): its offset and length, or false. */
static bool
find_special_token(const char *s, size_t len, unsigned marks, size_t *at, size_t *tlen)
{
	for (int opener = 0; opener < 2; opener++)	/* tokens open with '<' or '[' */
	{
		const char *p = s,
				   *end = s + len;

		if (!(marks & (opener ? TD_MARK_BRACKET : TD_MARK_ANGLE)))
			continue;
		while ((p = memchr(p, opener ? '[' : '<', (size_t) (end - p))) != NULL)
		{
			size_t		n = special_token_at(s, len, (size_t) (p - s));

			TD_CHECK_FOR_INTERRUPTS();
			if (n > 0 && (!*tlen || (size_t) (p - s) < *at))
			{
				*at = (size_t) (p - s);
				*tlen = n;
				break;
			}
			if (n > 0)
				break;
			p++;
		}
	}
	return *tlen > 0;
}

/* True when the text has a character other than white space and invisible ones. */
static bool
has_visible(const char *s, size_t len)
{
	size_t		p = 0;

	while (p < len)
	{
		uint32_t	cp;

		TD_CHECK_FOR_INTERRUPTS();
		if ((unsigned char) s[p] < 0x80 && !td_is_space(s[p]))
			return true;
		p += td_utf8_decode(s + p, len - p, &cp);
		if (!td_is_unicode_space(cp))
			return true;
	}
	return false;
}

/* Count of "```" fences in a text (memchr finds the backquotes). */
static long
code_fences(const char *s, size_t len)
{
	long		n = 0;
	const char *p = s,
			   *end = s + len;

	while (end - p > 2 && (p = memchr(p, '`', (size_t) (end - p - 2))) != NULL)
	{
		TD_CHECK_FOR_INTERRUPTS();
		if (p[1] == '`' && p[2] == '`')
		{
			n++;
			p += 3;
		}
		else
			p++;
	}
	return n;
}

/* Does the line that ends at s[e) open as a list item ("- ", "* ", "+ ", "1. ", "1) ")? */
static bool
last_line_is_item(const char *s, size_t e)
{
	size_t		b = e,
				d;

	while (b > 0 && s[b - 1] != '\n' && TD_CHECK_FOR_INTERRUPTS_EXPR())
		b--;
	while (b < e && (s[b] == ' ' || s[b] == '\t'))
		b++;
	if (b + 1 < e && (s[b] == '-' || s[b] == '*' || s[b] == '+') && s[b + 1] == ' ')
		return true;
	for (d = b; d < e && d - b < 9 && s[d] >= '0' && s[d] <= '9'; d++)
		;
	return d > b && d + 1 < e && (s[d] == '.' || s[d] == ')') && s[d + 1] == ' ';
}

/* Is the last word before s[e) (after the last white space) a web address? */
static bool
last_word_is_url(const char *s, size_t e)
{
	size_t		b = e;

	while (b > 0 && !td_is_space(s[b - 1]) && TD_CHECK_FOR_INTERRUPTS_EXPR())
		b--;
	return (e - b > 7 && memcmp(s + b, "http://", 7) == 0) || (e - b > 8 && memcmp(s + b, "https://", 8) == 0);
}

/* Is the last word before s[e) one that joins to a next word ("and", "the", "of", ...)? */
static bool
ends_with_joining_word(const char *s, size_t e)
{
	static const char *const joining[] = {"and", "or", "but", "the", "a", "an", "to", "of", "with", "for", "in",
	"on", "at", "by", "from", "as", "is", "are", "that", NULL};
	size_t		b = e;

	while (b > 0 && td_is_ascii_word(s[b - 1]) && TD_CHECK_FOR_INTERRUPTS_EXPR())
		b--;
	if (b > 0 && !td_is_space(s[b - 1]))
		return false;
	for (int k = 0; joining[k]; k++)
		if (strlen(joining[k]) == e - b && td_ascii_word_at(s, e, b, joining[k], e - b))
			return true;
	return false;
}

/* Would the character cp, last of a text, leave a sentence open? */
static bool
continues(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
			strchr(",;:-(/&+=", (int) cp) != NULL;
	if (cp == 0xFFFD || (cp >= 0x80 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7)
		return false;
	if ((cp >= 0x2010 && cp <= 0x2BFF) || (cp >= 0x2E00 && cp <= 0x2E7F) || (cp >= 0x3000 && cp <= 0x303F) ||
		(cp >= 0xFE00 && cp <= 0xFE6F) || (cp >= 0xFF00 && cp <= 0xFF65) || cp >= 0x1F000)
		return cp == 0x2013 || cp == 0x2014 || cp == 0x3001 || cp == 0xFF0C;	/* dashes, 、，continue */
	return true;					/* a letter of another script */
}

/*
 * Does a text end like a cut-off sentence?  The last visible character
 * (or the "..." that ends it) into *last.  An ellipsis ends no sentence
 * (C4); a list item or a web address ends a text without a stop (a review
 * of 1.2 found every answer ending in a list taken for cut off).
 */
static bool
ends_mid_sentence(const char *s, size_t len, size_t *last, size_t *last_len)
{
	size_t		e = len,
				b;
	uint32_t	cp;

	for (;;)					/* the last character that is not white space */
	{
		if (e == 0)
			return false;
		b = e - 1;
		while (b > 0 && e - b < 4 && ((unsigned char) s[b] & 0xC0) == 0x80)
			b--;
		if (td_utf8_decode(s + b, e - b, &cp) != e - b)
			cp = 0xFFFD, b = e - 1;
		if (!td_is_unicode_space(cp))
			break;
		e = b;
	}
	*last = b;
	*last_len = e - b;
	if (cp == 0x2026)			/* … */
		return true;
	if (cp == '.' && b >= 2 && s[b - 1] == '.' && s[b - 2] == '.')
	{
		*last = b - 2;
		*last_len = 3;
		return true;
	}
	if (!continues(cp))
		return false;
	if (cp < 0x80 && strchr(",;:-(/&+=", (int) cp) != NULL)
		return true;			/* a list item or address does not end so either */
	return !((last_line_is_item(s, e) && !ends_with_joining_word(s, e)) || last_word_is_url(s, e));
}

/* --- conversation-level checks ------------------------------------------------ */

/* Role of a turn: 0 user, 1 assistant, 2 system, -1 anything else (ASCII case ignored). */
static int
role_of(const td_qturn *t)
{
	static const char *const names[] = {"user", "assistant", "system"};
	int			r;

	if (t->role == NULL)
		return -1;
	r = t->role_len == 4 ? 0 : t->role_len == 9 ? 1 : t->role_len == 6 ? 2 : -1;	/* the names' lengths */
	if (r < 0)
		return -1;
	/*
	 * Four bytes at a time, the last four overlapping (every name has 4 or
	 * more), 0x20 set in each: ASCII capitals lower-cased, and no other
	 * byte becomes one of the names' lower-case letters.
	 */
	for (size_t k = 0;; k += 4)
	{
		size_t		at = k + 4 < t->role_len ? k : t->role_len - 4;

		if ((td_load_le(t->role + at, 4) | UINT64_C(0x20202020)) != td_load_le(names[r] + at, 4))
			return -1;
		if (at == t->role_len - 4)
			return r;
	}
}

/* role_order (first and last roles, alternation), one_sided, too_few_turns, length_mismatch. */
static void
check_structure(const td_qturn *turns, long n, bool is_array, const td_quality_expect *expect, report *r)
{
	static const char *const role_names[] = {"user", "assistant", "system"};
	long		count[3] = {0, 0, 0};
	int			first = expect && expect->first_role && strcmp(expect->first_role, "assistant") == 0 ? 1 : 0,
				prev = -1;
	long		last = -1;		/* the last user or assistant turn, and its role */
	int			last_role = -1;
	bool		seen_other = false;

	for (long i = 0; i < n; i++)
	{
		int			role = role_of(&turns[i]);

		TD_CHECK_FOR_INTERRUPTS();
		if (role >= 0)
			count[role]++;
		if (role < 0)
			found_text(r, TD_DEFECT_ROLE_ORDER, i + 1, "unknown_role", turns[i].role, turns[i].role_len, no_threshold);
		else if (role == 2 && i > 0)
			found_text(r, TD_DEFECT_ROLE_ORDER, i + 1, "system_not_first", "system", 6, no_threshold);
		else if (role != 2)
		{
			if (!seen_other && role != first)
				found_text(r, TD_DEFECT_ROLE_ORDER, i + 1, "first_role", role_names[role],
						   strlen(role_names[role]), first ? dv_string("assistant", 9) : dv_string("user", 4));
			else if (seen_other && role == prev)
				found_text(r, TD_DEFECT_ROLE_ORDER, i + 1, "same_role_as_previous", role_names[role],
						   strlen(role_names[role]), no_threshold);
		}
		if (role == 0 || role == 1)
		{
			seen_other = true;
			last = i;
			last_role = role;
		}
		prev = role;
	}

	/*
	 * A conversation of both sides ends with the assistant: a trailing user
	 * turn has no answer to learn (Bedrock refuses it, LLaMA-Factory drops
	 * it, a chat template trains nothing on it).
	 */
	if (count[0] && count[1] && last_role == 0)
		found_text(r, TD_DEFECT_ROLE_ORDER, last + 1, "last_role", "user", 4, dv_string("assistant", 9));
	if (n >= 2 && count[0] + count[1] >= 1 && (count[0] == 0 || count[1] == 0))
		found_text(r, TD_DEFECT_ONE_SIDED, 0, "roles", count[0] ? "user" : "assistant", count[0] ? 4 : 9, no_threshold);
	if (!is_array || n < TD_DEFECT_MIN_TURNS)
		found_count(r, TD_DEFECT_TOO_FEW_TURNS, 0, "turns", n, dv_int(TD_DEFECT_MIN_TURNS));
	if (expect && expect->min_turns && n < expect->min_turns)
		found_count(r, TD_DEFECT_LENGTH_MISMATCH, 0, "turns_below_min", n, dv_int(expect->min_turns));
	if (expect && expect->max_turns && n > expect->max_turns)
		found_count(r, TD_DEFECT_LENGTH_MISMATCH, 0, "turns_above_max", n, dv_int(expect->max_turns));
}

/* A turn's hash for duplicate_turns: the turn and its word hash. */
typedef struct turn_key
{
	uint64_t	hash;
	long		turn;
} turn_key;

/* Order by hash, then turn. */
static int
turn_key_cmp(const void *a, const void *b)
{
	const turn_key *x = a,
			   *y = b;

	TD_CHECK_FOR_INTERRUPTS();
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return (x->turn > y->turn) - (x->turn < y->turn);
}

/* Order by turn. */
static int
turn_order_cmp(const void *a, const void *b)
{
	const turn_key *x = a,
			   *y = b;

	TD_CHECK_FOR_INTERRUPTS();
	return (x->turn > y->turn) - (x->turn < y->turn);
}

#define DUP_PAIRWISE_MAX 32		/* up to this many turns, compare every pair */

/*
 * duplicate_turns over the keys of the turns long enough to count, in
 * turn order (sorted in place when there are many): each turn that has the
 * words of an earlier one, with the earliest such.
 */
static void
check_duplicates(turn_key *keys, long nkeys, report *r)
{
	turn_key   *dups;
	long		ndups = 0;

	if (nkeys < 2)
		return;
	if (nkeys <= DUP_PAIRWISE_MAX)	/* a few turns (in turn order): the earliest equal one of each, pair by pair */
	{
		for (long i = 1; i < nkeys; i++)
			for (long j = 0; j < i; j++)
				if (keys[j].hash == keys[i].hash)
				{
					found_count(r, TD_DEFECT_DUPLICATE_TURNS, keys[i].turn, "same_words_as_turn", keys[j].turn,
								no_threshold);
					break;
				}
		return;
	}
	td_sort(keys, (size_t) nkeys, sizeof(turn_key), turn_key_cmp);
	dups = td_malloc((size_t) nkeys * sizeof(turn_key));
	for (long i = 1, first = 0; i < nkeys; i++)
	{
		if (keys[i].hash != keys[first].hash)
			first = i;
		else					/* the later turn, and the earliest it repeats */
			dups[ndups++] = (turn_key) {(uint64_t) keys[first].turn, keys[i].turn};
	}
	td_sort(dups, (size_t) ndups, sizeof(turn_key), turn_order_cmp);
	for (long i = 0; i < ndups; i++)
		found_count(r, TD_DEFECT_DUPLICATE_TURNS, dups[i].turn, "same_words_as_turn", (long) dups[i].hash, no_threshold);
	td_free(dups);
}

/* --- entry point ------------------------------------------------------------------ */

/* The per-turn detectors over every turn (and the refusal signal when wanted); fn gets each turn's words. */
static void
check_turns(const td_qturn *turns, long n, report *r, bool want_signal, td_turn_words_fn fn, void *arg)
{
	const phrase_index *ix = phrases_ready();
	scratch    *s = &kept;
	turn_key   *keys = td_malloc((size_t) (n ? n : 1) * sizeof(turn_key));
	long		nkeys = 0;

	for (long i = 0; i < n; i++)
	{
		const char *text = turns[i].content ? turns[i].content : "";
		size_t		len = turns[i].content ? turns[i].len : 0,
					at,
					plen;
		unsigned	marks = td_qturn_marks(&turns[i]);
		bool		assistant = role_of(&turns[i]) == 1,
					signal,
					placeholder;
		uint64_t	chars,
					hash;
		int			phrase;
		word_view	words;
		size_t		text_chars,
					code_chars = 0,
					all_words;
		char	   *prose;
		const char *view;

		TD_CHECK_FOR_INTERRUPTS();
		if (!has_visible(text, len))
		{
			found_count(r, TD_DEFECT_EMPTY_TURN, i + 1, "visible_characters", 0, dv_int(1));
			if (fn)
				fn(arg, text, len, NULL);
			continue;
		}
		text_chars = turns[i].surveyed ? turns[i].chars : td_utf8_count(text, len);
		prose = (marks & TD_MARK_BACKQUOTE) ? prose_view(text, len, &code_chars) : NULL;
		view = prose ? prose : text;
		placeholder = (marks & TD_MARK_BRACE) && find_placeholder(view, len, &at, &plen);
		if (placeholder)
			found_text(r, TD_DEFECT_LEAKED_PLACEHOLDER, i + 1, "placeholder", text + at, plen, no_threshold);
		at = plen = 0;
		if (find_special_token(view, len, marks, &at, &plen))
			found_text(r, TD_DEFECT_SPECIAL_TOKEN, i + 1, "token", text + at, plen, no_threshold);
		signal = false;
		hash = read_words(s, text, len, assistant ? ix : NULL, want_signal && !prose ? ix : NULL, fn != NULL,
						  &signal, &chars);
		if (fn)
		{
			td_turn_words words = {s->words, s->cprefix, s->whole, s->nwords};

			fn(arg, text, len, &words);
		}
		if (chars >= TD_DUP_TURN_MIN_CHARS)
			keys[nkeys++] = (turn_key) {hash, i + 1};
		all_words = s->nwords;
		/* an answer of punctuation or symbols alone ("...", "?!") teaches nothing */
		if (assistant && all_words == 0)
			found_count(r, TD_DEFECT_EMPTY_TURN, i + 1, "words", 0, dv_int(1));
		if (prose)				/* the prose again, for the measures of prose */
		{
			uint64_t	prose_chars;

			(void) read_words(s, prose, len, assistant ? ix : NULL, want_signal ? ix : NULL, false, &signal,
							  &prose_chars);
			text_chars -= code_chars;
		}
		if (!placeholder && find_lorem(s, &at, &plen))	/* (the words of the prose) */
			found_text(r, TD_DEFECT_LEAKED_PLACEHOLDER, i + 1, "placeholder", text + at, plen - at, no_threshold);
		r->signal_refusal_turns += signal;
		if (assistant && (words = phrase_words(ix, s), phrase = find_phrase(ix, &words)) >= 0)
			found_text(r, TD_DEFECT_REFUSAL, i + 1, "phrase", phrases[phrase], strlen(phrases[phrase]), no_threshold);
		check_looping(s, r, i + 1, text_chars);
		if (prose)
			td_free(prose);
		if (i == n - 1 && all_words >= TD_TRUNC_MIN_WORDS)
		{
			long		fences = (marks & TD_MARK_BACKQUOTE) ? code_fences(text, len) : 0;
			size_t		last,
						last_len;

			if (fences % 2 == 1)
				found_count(r, TD_DEFECT_TRUNCATED_LAST_TURN, i + 1, "open_code_fences", fences, no_threshold);
			else if (ends_mid_sentence(text, len, &last, &last_len))
				found_text(r, TD_DEFECT_TRUNCATED_LAST_TURN, i + 1, "last_character", text + last, last_len, no_threshold);
		}
	}
	check_duplicates(keys, nkeys, r);
	td_free(keys);
	scratch_trim(s);
}

/* Write those of the defects, their details and the severity that members names (of the open object). */
static void
put_report(const report *r, td_doc *doc, unsigned members)
{
	if (members & TD_REPORT_DEFECTS)
	{
		td_doc_key(doc, "defects");
		doc->ops->begin_array(doc);
		for (int d = 0; d < TD_DEFECT_COUNT; d++)
			if (r->mask & ((td_defect_mask) 1 << d))
				td_doc_string(doc, defect_info[d].code);
		doc->ops->end_array(doc);
	}
	if (members & TD_REPORT_DETAILS)
	{
		td_doc_key(doc, "defectDetails");
		doc->ops->begin_object(doc);
		for (int d = 0; d < TD_DEFECT_COUNT; d++)
		{
			if (r->ndetails[d] == 0)
				continue;
			td_doc_key(doc, defect_info[d].code);
			if (r->ndetails[d] > 1)
				doc->ops->begin_array(doc);
			for (size_t k = 0; k < r->nrec; k++)
				if (r->rec[k].defect == (td_defect) d)
					put_detail(doc, &r->rec[k]);
			if (r->ndetails[d] > 1)
				doc->ops->end_array(doc);
		}
		doc->ops->end_object(doc);
	}
	if (members & TD_REPORT_SEVERITY)
	{
		td_doc_key(doc, "defectSeverity");
		td_doc_string(doc, td_defect_severity(r->mask));
	}
}

/* See quality_defects.h. */
td_defect_report *
td_defect_report_make(const td_qturn *turns, long n, bool is_array, const td_quality_expect *expect,
					  bool details, long *signal_refusal_turns)
{
	return td_defect_report_make_with(turns, n, is_array, expect, details, signal_refusal_turns, NULL, NULL);
}

/* See quality_defects.h. */
td_defect_report *
td_defect_report_make_with(const td_qturn *turns, long n, bool is_array, const td_quality_expect *expect,
						   bool details, long *signal_refusal_turns, td_turn_words_fn fn, void *arg)
{
	report	   *r = td_malloc(sizeof(report));

	memset(r, 0, sizeof(*r));
	r->wanted = details;
	check_structure(turns, n, is_array, expect, r);
	check_turns(turns, n, r, signal_refusal_turns != NULL, fn, arg);
	if (signal_refusal_turns)
		*signal_refusal_turns = r->signal_refusal_turns;
	return r;
}

/* See quality_defects.h. */
td_defect_mask
td_defect_report_mask(const td_defect_report *r)
{
	return r->mask;
}

/* See quality_defects.h. */
void
td_defect_report_write(const td_defect_report *r, td_doc *doc, unsigned members)
{
	put_report(r, doc, members);
}

/* See quality_defects.h. */
void
td_defect_report_free(td_defect_report *r)
{
	td_free(r->rec);
	td_free(r);
}

/* See quality_defects.h. */
td_defect_mask
td_quality_defects(const td_qturn *turns, long n, bool is_array, const td_quality_expect *expect, td_buf *out)
{
	td_doc_text text;
	td_defect_report *r = td_defect_report_make(turns, n, is_array, expect, out != NULL, NULL);
	td_defect_mask mask = r->mask;

	if (out)
	{
		td_doc_text_init(&text, out);
		text.first = false;		/* members of an object being written: a comma first */
		put_report(r, &text.doc, TD_REPORT_ALL);
	}
	td_defect_report_free(r);
	return mask;
}
