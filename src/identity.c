/*
 * identity.c — train_data.current_user_id(): whom the RLS policies act for.
 *
 * Order of precedence (the last two are what Supabase's auth.uid() reads, in
 * the same order, so the same policies work behind PostgREST and Supabase):
 *
 *   1. the setting train_data.user_id, when set and non-empty;
 *   2. the setting request.jwt.claim.sub, when set and non-empty;
 *   3. the "sub" member of the JSON object in request.jwt.claims;
 *   4. otherwise NULL.
 *
 * A value that is present but malformed is an error (SQLSTATE 22P02) whose
 * message names the setting; it is never silently treated as "no user".
 *
 * Nor is a misspelt train_data.* setting made before the library was loaded
 * (train_data.c notes those at load, when PostgreSQL removes them): while
 * train_data.user_id is empty, the lookup fails with 42704 naming the
 * misspelt setting, before it looks at the JWT settings, since the user id
 * meant would have taken precedence over them.  Setting train_data.user_id
 * ends the error for as long as it is set; a new session without the
 * misspelt name has none.  42704 (undefined_object), with PostgreSQL's own
 * message for an unknown setting, because the name is what is wrong; 22023
 * would say that a value is.
 *
 * The policies call this function as (SELECT train_data.current_user_id()),
 * so it runs once per statement; a claims document is parsed once and kept
 * (uuid_from_claims_cached).
 *
 * user_id_default(tbl, required), the default of the owner columns, is the
 * same id, or the error that says none is set (28000) where a row needs
 * one; require_user_id(purpose), for the functions that act for a user,
 * the id or that error.  One function raises it (td_report_no_user_id), the
 * export's too, so that it reads the same wherever it is met.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rls.h"
#include "utils/uuid.h"

#include "compat.h"
#include "json_glue.h"
#include "train_data.h"
#include "uuid_text.h"

PG_FUNCTION_INFO_V1(train_data_current_user_id);
PG_FUNCTION_INFO_V1(train_data_user_id_default);
PG_FUNCTION_INFO_V1(train_data_require_user_id);

/* State of the scan for the top-level "sub" member of the claims object. */
typedef struct ClaimsScan
{
	int			depth;			/* nesting depth of the parser */
	bool		root_seen;		/* the root value has started */
	bool		root_is_object; /* ... and it is an object */
	bool		expect_sub;		/* the next value is the top-level "sub" */
	bool		sub_found;		/* a top-level "sub" was seen (last wins) */
	JsonTokenType sub_type;		/* its token type (object/array start too) */
	char	   *sub_value;		/* its de-escaped text when a scalar */
} ClaimsScan;

/* The value of a setting, or NULL when it is unset or empty. */
static const char *
setting_value(const char *name)
{
	const char *value = GetConfigOption(name, true, false);

	return (value != NULL && value[0] != '\0') ? value : NULL;
}

/* The quoted names of the misspelt settings, with how many were left out. */
static char *
misspelt_list(const char *const *names, int listed, int count)
{
	StringInfoData buf;
	int			shown = Min(count, listed);

	initStringInfo(&buf);
	for (int i = 0; i < shown; i++)
		appendStringInfo(&buf, "%s\"%s\"",
						 i == 0 ? "" : (i == shown - 1 && count == shown) ? " and " : ", ", names[i]);
	if (count > shown)
		appendStringInfo(&buf, " and %d more", count - shown);
	return buf.data;
}

/* Fail when misspelt train_data settings were removed at load (see above). */
static void
refuse_misspelt_settings(void)
{
	const char *const *names;
	int			listed;
	int			count = td_misspelt_settings(&names, &listed);

	if (count == 0)
		return;
	Assert(listed > 0);
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("unrecognized configuration parameter \"%s\"", names[0]),
			 count == 1 ?
			 errdetail("It was set before the train_data library was loaded, and loading the library removed it, so no user id is set.") :
			 errdetail("The settings %s were set before the train_data library was loaded, and loading the library removed them, so no user id is set.",
					   misspelt_list(names, listed, count)),
			 errhint("The user id setting is %s.", TD_USER_ID_SETTING)));
}

/* Convert text to a uuid Datum, or fail naming the setting it came from. */
static Datum
uuid_from_setting(const char *setting, const char *value)
{
	pg_uuid_t  *uuid = (pg_uuid_t *) palloc(sizeof(pg_uuid_t));

	if (!td_uuid_parse(value, strlen(value), uuid->data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid value for setting \"%s\": \"%s\"",
						setting, td_clip_for_message(value)),
				 errdetail("The user id must be a UUID.")));
	return UUIDPGetDatum(uuid);
}

/*
 * The id train_data.user_id holds (value: its non-empty text), parsed once
 * for as long as the text stays the same: the policies read the id once
 * per table a statement reads (a progress call twice), and parsing it each
 * time was 3 % of a progress call.  A value that is not a UUID is never
 * kept: each read fails on it as before.
 */
static Datum
uuid_from_user_id_setting(const char *value)
{
	static char kept_text[64];	/* a UUID's text is at most 41 bytes */
	static size_t kept_len = 0; /* 0: nothing kept */
	static pg_uuid_t kept_uuid;
	size_t		len = strlen(value);
	Datum		result;

	if (len == kept_len && memcmp(value, kept_text, len) == 0)
	{
		result = PointerGetDatum(palloc(sizeof(pg_uuid_t)));
		memcpy(DatumGetUUIDP(result), &kept_uuid, sizeof(pg_uuid_t));
		return result;
	}
	result = uuid_from_setting(TD_USER_ID_SETTING, value);
	if (len < sizeof(kept_text))
	{
		memcpy(kept_text, value, len);
		memcpy(&kept_uuid, DatumGetUUIDP(result), sizeof(pg_uuid_t));
		kept_len = len;
	}
	return result;
}

/*
 * Record where the root starts and whether it is the "sub" value.  Called
 * for every value: the claims may be of any size (60 MB of them held a
 * cancel 1.4 s, a review of 1.2), and the parser checks no interrupts.
 */
static void
claims_value_start(ClaimsScan *scan, JsonTokenType type, bool is_object)
{
	CHECK_FOR_INTERRUPTS();
	if (!scan->root_seen)
	{
		scan->root_seen = true;
		scan->root_is_object = is_object;
	}
	if (scan->expect_sub)
	{
		scan->expect_sub = false;
		scan->sub_found = true;
		scan->sub_type = type;
		scan->sub_value = NULL;
	}
}

/* Parser callback: an object starts. */
static TD_JSON_CB_TYPE
claims_object_start(void *state)
{
	ClaimsScan *scan = (ClaimsScan *) state;

	claims_value_start(scan, JSON_TOKEN_OBJECT_START, true);
	scan->depth++;
	TD_JSON_CB_RETURN;
}

/* Parser callback: an array starts. */
static TD_JSON_CB_TYPE
claims_array_start(void *state)
{
	ClaimsScan *scan = (ClaimsScan *) state;

	claims_value_start(scan, JSON_TOKEN_ARRAY_START, false);
	scan->depth++;
	TD_JSON_CB_RETURN;
}

/* Parser callback: an object or array ends. */
static TD_JSON_CB_TYPE
claims_container_end(void *state)
{
	((ClaimsScan *) state)->depth--;
	TD_JSON_CB_RETURN;
}

/* Parser callback: a member name; note a top-level "sub". */
static TD_JSON_CB_TYPE
claims_field_start(void *state, char *fname, bool isnull)
{
	ClaimsScan *scan = (ClaimsScan *) state;

	if (scan->depth == 1 && strcmp(fname, "sub") == 0)
		scan->expect_sub = true;
	TD_JSON_CB_RETURN;
}

/* Parser callback: a scalar; keep it when it is the "sub" value. */
static TD_JSON_CB_TYPE
claims_scalar(void *state, char *token, JsonTokenType tokentype)
{
	ClaimsScan *scan = (ClaimsScan *) state;
	bool		is_sub = scan->expect_sub;

	claims_value_start(scan, tokentype, false);
	if (is_sub)
		scan->sub_value = token;
	TD_JSON_CB_RETURN;
}

/*
 * Report a malformed request.jwt.claims with a detail sentence, its first
 * 200 characters (the parser's detail quotes the bad token whole, and the
 * claims may be of any size: the policies call this on every statement).
 */
static void
claims_error(const char *detail)
{
	int			len = (int) strlen(detail),
				cut = pg_mbcharcliplen(detail, len, 200);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid value for setting \"%s\"", TD_JWT_CLAIMS_SETTING),
			 errdetail_internal("%.*s%s", cut, detail, cut < len ? "..." : "")));
}

/*
 * The user id held by the "sub" claim of a JSON claims document, or
 * (Datum) 0 with *isnull set when the document has no usable "sub".
 */
static Datum
uuid_from_claims(const char *claims, bool *isnull)
{
	ClaimsScan	scan = {0};
	JsonSemAction sem = {0};
	JsonLexContext *lex;
	JsonParseErrorType rc;

	sem.semstate = &scan;
	sem.object_start = claims_object_start;
	sem.object_end = claims_container_end;
	sem.array_start = claims_array_start;
	sem.array_end = claims_container_end;
	sem.object_field_start = claims_field_start;
	sem.scalar = claims_scalar;

	lex = td_json_lexer(pstrdup(claims), strlen(claims));
	rc = pg_parse_json(lex, &sem);
	if (rc != JSON_SUCCESS)
		claims_error(json_errdetail(rc, lex));
	if (!scan.root_is_object)
		claims_error("The claims must be a JSON object.");

	*isnull = true;
	if (!scan.sub_found || scan.sub_type == JSON_TOKEN_NULL)
		return (Datum) 0;
	if (scan.sub_type != JSON_TOKEN_STRING)
		claims_error("The \"sub\" claim must be a string holding a UUID.");
	if (scan.sub_value[0] == '\0')
		return (Datum) 0;

	*isnull = false;
	return uuid_from_setting(TD_JWT_CLAIMS_SETTING, scan.sub_value);
}

/*
 * The last claims document read without error, with what it held: the
 * policies look the user up on every statement, and behind PostgREST the
 * claims stay the same for a whole request, so a document is parsed once
 * and compared byte for byte after (a review of inputs 1,000 times larger:
 * 1 MB of claims parsed again at every lookup made create_batch of 200
 * items take 1.26 s).  Kept in TopMemoryContext, replaced by the next
 * document; a malformed one is never kept, so its error is raised each time.
 */
static char *cached_claims;
static size_t cached_claims_len;
static bool cached_isnull;
static pg_uuid_t cached_uuid;

/* The user id of a claims document, parsed or as cached (see above). */
static Datum
uuid_from_claims_cached(const char *claims, bool *isnull)
{
	size_t		len = strlen(claims);
	Datum		result;

	if (cached_claims == NULL || len != cached_claims_len || memcmp(claims, cached_claims, len) != 0)
	{
		char	   *copy;

		result = uuid_from_claims(claims, isnull);	/* an error leaves the cache as it was */
		copy = MemoryContextStrdup(TopMemoryContext, claims);
		if (cached_claims != NULL)
			pfree(cached_claims);
		cached_claims = copy;
		cached_claims_len = len;
		cached_isnull = *isnull;
		if (!*isnull)
			memcpy(&cached_uuid, DatumGetUUIDP(result), sizeof(pg_uuid_t));
		return result;
	}
	*isnull = cached_isnull;
	if (cached_isnull)
		return (Datum) 0;
	result = PointerGetDatum(palloc(sizeof(pg_uuid_t)));
	memcpy(DatumGetUUIDP(result), &cached_uuid, sizeof(pg_uuid_t));
	return result;
}

/* The user id by the rules of the file header; *isnull when there is none. */
static Datum
user_id(bool *isnull)
{
	const char *value;
	Datum		result;

	*isnull = false;
	/* (the setting's own variable, which PostgreSQL keeps current: no lookup by name) */
	if (td_user_id_setting != NULL && td_user_id_setting[0] != '\0')
		return uuid_from_user_id_setting(td_user_id_setting);
	refuse_misspelt_settings();
	if ((value = setting_value(TD_JWT_SUB_SETTING)) != NULL)
		return uuid_from_setting(TD_JWT_SUB_SETTING, value);
	if ((value = setting_value(TD_JWT_CLAIMS_SETTING)) != NULL)
	{
		result = uuid_from_claims_cached(value, isnull);
		if (!*isnull)
			return result;
	}
	*isnull = true;
	return (Datum) 0;
}

/*
 * current_user_id() returns uuid — see the file header for the rules.
 */
Datum
train_data_current_user_id(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		result = user_id(&isnull);

	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * user_id_default(tbl regclass, required boolean) returns uuid — the default
 * of an owner column of tbl: the current user id.  When none is set, 28000
 * "no user id is set" naming the table (instead of a not-null or
 * row-level-security error that does not say what is wrong) if the row
 * needs one: required, or the caller is subject to row-level security on
 * tbl.  Otherwise NULL: a superuser's row of nobody (a template of the
 * library), or a child row whose trigger gives it its parent's owner.
 */
Datum
train_data_user_id_default(PG_FUNCTION_ARGS)
{
	Oid			tbl = PG_GETARG_OID(0);
	bool		required = PG_GETARG_BOOL(1),
				isnull;
	Datum		result = user_id(&isnull);

	if (!isnull)
		PG_RETURN_DATUM(result);
	if (required || check_enable_rls(tbl, InvalidOid, true) == RLS_ENABLED)
	{
		char	   *nsp = get_namespace_name(get_rel_namespace(tbl)),
				   *rel = get_rel_name(tbl);

		td_report_no_user_id(psprintf("A new row of %s belongs to the current user.",
									  nsp && rel ? quote_qualified_identifier(nsp, rel) : "an unknown table"));
	}
	PG_RETURN_NULL();
}

/* See train_data.h. */
void
td_report_no_user_id(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("no user id is set"),
			 detail ? errdetail_internal("%s", detail) : 0,
			 errhint("Set train_data.user_id (SET, SET LOCAL or set_config) or sign in through PostgREST first.")));
}

/*
 * require_user_id(purpose text) returns uuid — the current user id, for a
 * function that acts for a user; when none is set, 28000 with purpose (what
 * the caller was doing, a full sentence; its first 200 characters) as the
 * detail.
 */
Datum
train_data_require_user_id(PG_FUNCTION_ARGS)
{
	bool		isnull;
	Datum		result = user_id(&isnull);

	if (isnull)
	{
		char	   *purpose = NULL;

		if (!PG_ARGISNULL(0))
		{
			text	   *t = PG_GETARG_TEXT_PP(0);

			purpose = pnstrdup(VARDATA_ANY(t),
							   pg_mbcharcliplen(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), 200));
		}
		td_report_no_user_id(purpose);
	}
	PG_RETURN_DATUM(result);
}
