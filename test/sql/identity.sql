-- identity: train_data.current_user_id() from each of its three sources,
-- their precedence, NULL when none is set, and 22P02 for malformed values.

-- Nothing set: NULL.
SELECT train_data.current_user_id() IS NULL AS is_null;

-- 1. train_data.user_id
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT train_data.current_user_id();
SET train_data.user_id = '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12}';
SELECT train_data.current_user_id();
RESET train_data.user_id;

-- 2. request.jwt.claim.sub (what PostgREST sets per claim)
SET request.jwt.claim.sub = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT train_data.current_user_id();
RESET request.jwt.claim.sub;

-- 3. the sub claim of request.jwt.claims (what PostgREST 9+ sets)
SET request.jwt.claims = '{"aud": "authenticated", "sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "role": "authenticated"}';
SELECT train_data.current_user_id();
-- only the top-level sub counts; a nested one is ignored; escapes are decoded
SET request.jwt.claims = '{"app_metadata": {"sub": "d0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}, "sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\u0032"}';
SELECT train_data.current_user_id();
-- no sub, a null sub or an empty sub: no user
SET request.jwt.claims = '{"role": "anon"}';
SELECT train_data.current_user_id() IS NULL AS is_null;
SET request.jwt.claims = '{"sub": null}';
SELECT train_data.current_user_id() IS NULL AS is_null;
SET request.jwt.claims = '{"sub": ""}';
SELECT train_data.current_user_id() IS NULL AS is_null;
SET request.jwt.claims = '';
SELECT train_data.current_user_id() IS NULL AS is_null;

-- Precedence: train_data.user_id, then claim.sub, then claims.
SET request.jwt.claims = '{"sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}';
SET request.jwt.claim.sub = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT train_data.current_user_id();
SET train_data.user_id = '';
SELECT train_data.current_user_id();
SET request.jwt.claim.sub = '';
SELECT train_data.current_user_id();
-- a higher-precedence source wins even when a lower one is malformed
SET request.jwt.claims = 'not json';
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT train_data.current_user_id();
RESET train_data.user_id;
RESET request.jwt.claim.sub;
RESET request.jwt.claims;

-- SET LOCAL lasts for the transaction only.
BEGIN;
SET LOCAL train_data.user_id = 'e0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT train_data.current_user_id();
COMMIT;
SELECT train_data.current_user_id() IS NULL AS is_null;
SELECT set_config('train_data.user_id', 'f0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', false) IS NOT NULL AS set,
       train_data.current_user_id();
RESET train_data.user_id;

-- Malformed values: SQLSTATE 22P02, and the message names the setting.
SET train_data.user_id = 'not-a-uuid';
SELECT expect_error('SELECT train_data.current_user_id()', true);
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1';
SELECT expect_error('SELECT train_data.current_user_id()', true);
-- a long malformed value is clipped in the message: its first 64 characters and "..."
SELECT set_config('train_data.user_id', repeat('é', 10000), false) IS NOT NULL AS set;
SELECT expect_error('SELECT train_data.current_user_id()', true);
RESET train_data.user_id;
SET request.jwt.claims = '{"sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-and-a-long-tail-that-is-not-part-of-any-uuid-at-all"}';
SELECT expect_error('SELECT train_data.current_user_id()', true);
RESET request.jwt.claims;
SET request.jwt.claim.sub = 'user-42';
SELECT expect_error('SELECT train_data.current_user_id()', true);
RESET request.jwt.claim.sub;
SET request.jwt.claims = '{"sub": "user-42"}';
SELECT expect_error('SELECT train_data.current_user_id()', true);
SET request.jwt.claims = '{"sub": 42}';
SELECT expect_error('SELECT train_data.current_user_id()', true);
SET request.jwt.claims = '{"sub": {"id": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}}';
SELECT expect_error('SELECT train_data.current_user_id()', true);
SET request.jwt.claims = '["c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]';
SELECT expect_error('SELECT train_data.current_user_id()', true);
SET request.jwt.claims = '"c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"';
SELECT expect_error('SELECT train_data.current_user_id()', true);
SET request.jwt.claims = '{"sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"';
SELECT expect_error('SELECT train_data.current_user_id()', true);
SET request.jwt.claims = '{"sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"} trailing';
SELECT expect_error('SELECT train_data.current_user_id()', true);
RESET request.jwt.claims;

-- train_data.user_id is parsed once for as long as its text stays the same
-- (forty-ninth session): the id follows the text exactly, values that
-- differ in their last character only, one after the other and back; a
-- malformed value right after a valid one fails at every lookup (never
-- remembered); the same id written another way (upper case, braces) reads
-- as that id; a valid value after the malformed one reads again.
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a21';
SELECT train_data.current_user_id(), train_data.current_user_id();
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a22';
SELECT train_data.current_user_id();
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a21';
SELECT train_data.current_user_id();
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a2';
SELECT expect_error('SELECT train_data.current_user_id()', true);
SELECT expect_error('SELECT train_data.current_user_id()', true);
SET train_data.user_id = '{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A21}';
SELECT train_data.current_user_id();
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a21';
SELECT train_data.current_user_id();
RESET train_data.user_id;
SELECT train_data.current_user_id() IS NULL AS is_null;

-- A claims document is parsed once and compared byte for byte after
-- (thirty-sixth session: 1 MB of claims was parsed at every lookup).  The
-- cache follows the text exactly: documents that differ in their last byte
-- only, one alternating with the other, a malformed one (an error at every
-- lookup: never remembered), and
-- one without a sub (NULL, also remembered).
SELECT set_config('request.jwt.claims', format('{"pad": "%s", "sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}', repeat('x', 1000000)), false) IS NOT NULL AS set;
SELECT train_data.current_user_id(), train_data.current_user_id();
SELECT set_config('request.jwt.claims', format('{"pad": "%s", "sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12"}', repeat('x', 1000000)), false) IS NOT NULL AS set;
SELECT train_data.current_user_id(), train_data.current_user_id();
SELECT set_config('request.jwt.claims', format('{"pad": "%s", "sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}', repeat('x', 1000000)), false) IS NOT NULL AS set;
SELECT train_data.current_user_id();
SET request.jwt.claims = '{"sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13"';
SELECT expect_error('SELECT train_data.current_user_id()', true);
SELECT expect_error('SELECT train_data.current_user_id()', true);
SET request.jwt.claims = '{"sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13"}';
SELECT train_data.current_user_id();
SET request.jwt.claims = '{"sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a14"}';
SELECT train_data.current_user_id();
SET request.jwt.claims = '{"sub": null}';
SELECT train_data.current_user_id() IS NULL AS is_null, train_data.current_user_id() IS NULL AS still_null;
SET request.jwt.claims = '{"sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a14"}';
SELECT train_data.current_user_id();
RESET request.jwt.claims;
SELECT train_data.current_user_id() IS NULL AS is_null;

-- The prefix is reserved: a misspelt setting is an error, not a silent no-op.
SELECT expect_error($$SET train_data.userid = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'$$);

-- A row's owner defaults to the current user.
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
INSERT INTO train_data.batch_jobs (name, total_items) VALUES ('identity job', 0);
SELECT name, created_by FROM train_data.batch_jobs WHERE name = 'identity job';
DELETE FROM train_data.batch_jobs WHERE name = 'identity job';
RESET train_data.user_id;

-- require_user_id: the id, or 28000 with the caller's purpose as the detail
-- (its first 200 characters; none for a NULL purpose) and the same hint as
-- every other "no user id is set" (one C function raises them all).
SELECT expect_error($$SELECT train_data.require_user_id('Doing a thing needs a user.')$$, true);
SELECT expect_error($$SELECT train_data.require_user_id(NULL)$$, true);
SELECT length(expect_error($$SELECT train_data.require_user_id(repeat('é', 1000000))$$, true));
DO $$
DECLARE
    hint text;
BEGIN
    PERFORM train_data.require_user_id('x');
EXCEPTION WHEN invalid_authorization_specification THEN
    GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
    RAISE NOTICE 'hint: %', hint;
END
$$;
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT train_data.require_user_id(NULL);
RESET train_data.user_id;
