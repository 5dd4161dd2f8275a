/*
 * conversation_id_glue.c — readable conversation ids:
 * make_conversation_id(tier, persona) and the BEFORE INSERT trigger
 * function conversations_default_id() that fills conversations.conversation_id
 * with it when none is given.
 *
 * An id is <tier prefix>_<persona slug>_<number>: tpl, scn, edge or conv;
 * the persona lower-cased (lower(), in the collation it comes with) and
 * reduced by the pure core (core/slug.c), "conversation" when nothing is
 * left; the next value of conversation_number_seq, at least 6 digits.  Only
 * as much of the persona is read as the slug needs (its first 40
 * characters, after runs of other characters are folded).
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/lsyscache.h"

#include "slug.h"

PG_FUNCTION_INFO_V1(train_data_make_conversation_id);
PG_FUNCTION_INFO_V1(train_data_conversations_default_id);

/* Characters of the persona lower-cased and read at a time. */
#define SLUG_CHUNK_CHARS 1024

/*
 * Bytes a chunk is stretched to at most over a run of non-ASCII characters
 * (a run cut there may lower its cut character out of context: nothing a
 * readable id shows).  Stretched over the whole run, a persona of 100
 * million "é" was lowered in one piece: 805 MB, and a cancel waited up to
 * 2.5 s (a review of 1.2).
 */
#define SLUG_RUN_MAX_BYTES 65536

/* The id prefix of a tier (an enum value of tier_type, or NULL). */
static const char *
tier_prefix(Datum tier, bool isnull)
{
	char	   *label;

	if (isnull)
		return "conv";
	label = DatumGetCString(DirectFunctionCall1(enum_out, tier));
	if (strcmp(label, "template") == 0)
		return "tpl";
	if (strcmp(label, "scenario") == 0)
		return "scn";
	if (strcmp(label, "edge_case") == 0)
		return "edge";
	return "conv";
}

/*
 * The slug of persona[0..len) (server encoding), lower-cased in collation
 * collid a chunk of whole characters at a time, until the slug is complete.
 * A chunk ends before an ASCII character (or at the end): lower() of an ICU
 * collation looks at the characters around one (in tr and az, "I" followed
 * by U+0307 becomes "i", a lone "I" dotless), and no such context crosses
 * an ASCII character into a-z or 0-9; or after SLUG_RUN_MAX_BYTES.
 */
static void
persona_slug(const char *persona, int len, Oid collid, td_slug *slug)
{
	int			pos = 0;

	td_slug_init(slug);
	while (pos < len)
	{
		int			n = pg_mbcharcliplen(persona + pos, len - pos, SLUG_CHUNK_CHARS);
		char	   *lower;
		char	   *utf8;
		bool		done;

		while (pos + n < len && IS_HIGHBIT_SET(persona[pos + n]) && n < SLUG_RUN_MAX_BYTES)
			n += pg_mblen(persona + pos + n);
		lower = str_tolower(persona + pos, n, collid);
		utf8 = pg_server_to_any(lower, (int) strlen(lower), PG_UTF8);
		done = td_slug_add(slug, utf8, strlen(utf8));

		if (utf8 != lower)
			pfree(utf8);
		pfree(lower);
		if (done)
			break;
		pos += n;
		CHECK_FOR_INTERRUPTS();
	}
}

/* The next number of conversation_number_seq, as text of at least 6 digits ('0'-padded). */
static char *
next_number(void)
{
	Oid			seq = get_relname_relid("conversation_number_seq", get_namespace_oid("train_data", false));
	char		digits[32];
	int			len;

	if (!OidIsValid(seq))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"train_data.conversation_number_seq\" does not exist")));
	len = snprintf(digits, sizeof(digits), INT64_FORMAT, nextval_internal(seq, true));
	return psprintf("%.*s%s", len < 6 ? 6 - len : 0, "000000", digits);
}

/* A new readable id for a conversation of tier (or NULL) and persona (or NULL). */
static text *
make_id(Datum tier, bool tier_null, text *persona, Oid collid)
{
	td_slug		slug;
	const char *s;

	if (persona != NULL)
		persona_slug(VARDATA_ANY(persona), VARSIZE_ANY_EXHDR(persona),
					 OidIsValid(collid) ? collid : DEFAULT_COLLATION_OID, &slug);
	else
		td_slug_init(&slug);
	s = td_slug_finish(&slug);
	return cstring_to_text(psprintf("%s_%s_%s", tier_prefix(tier, tier_null),
									*s ? s : "conversation", next_number()));
}

/* make_conversation_id(tier tier_type, persona text) returns text */
Datum
train_data_make_conversation_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(make_id(PG_GETARG_DATUM(0), PG_ARGISNULL(0),
							 PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1), PG_GET_COLLATION()));
}

/*
 * The number of column name of a trigger's relation; an error when it has
 * none, or when its type is not one the function reads or writes as it does
 * (tier: an enum; persona: text or varchar; conversation_id: text).
 */
static int
column_of(TupleDesc desc, const char *name)
{
	int			att = SPI_fnumber(desc, name);
	Oid			type;
	bool		fits;

	if (att <= 0)
		elog(ERROR, "conversations_default_id: relation has no column \"%s\"", name);
	type = TupleDescAttr(desc, att - 1)->atttypid;
	if (strcmp(name, "conversation_id") == 0)
		fits = type == TEXTOID;
	else
	{
		type = getBaseType(type);
		fits = strcmp(name, "tier") == 0 ? type_is_enum(type)
			: type == TEXTOID || type == VARCHAROID;
	}
	if (!fits)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("conversations_default_id: column \"%s\" has an unexpected type %s",
						name, format_type_be(TupleDescAttr(desc, att - 1)->atttypid))));
	return att;
}

/* conversations_default_id() returns trigger: NEW.conversation_id := make_conversation_id(NEW.tier, NEW.persona) */
Datum
train_data_conversations_default_id(PG_FUNCTION_ARGS)
{
	TriggerData *trig = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	row;
	int			tier_att,
				persona_att,
				id_att;
	bool		tier_null,
				persona_null,
				id_null = false;
	Datum		tier,
				persona,
				id;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trig->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trig->tg_event) || !TRIGGER_FIRED_BY_INSERT(trig->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("conversations_default_id() must be called as a BEFORE INSERT row trigger")));
	desc = RelationGetDescr(trig->tg_relation);
	row = trig->tg_trigtuple;
	tier_att = column_of(desc, "tier");
	persona_att = column_of(desc, "persona");
	id_att = column_of(desc, "conversation_id");
	tier = heap_getattr(row, tier_att, desc, &tier_null);
	persona = heap_getattr(row, persona_att, desc, &persona_null);
	id = PointerGetDatum(make_id(tier, tier_null, persona_null ? NULL : DatumGetTextPP(persona),
								 TupleDescAttr(desc, persona_att - 1)->attcollation));
	return PointerGetDatum(heap_modify_tuple_by_cols(row, desc, 1, &id_att, &id, &id_null));
}
