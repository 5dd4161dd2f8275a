-- misspelt_setting: a train_data.* setting made before the library is loaded
-- under a name train_data does not define.  PostgreSQL keeps it as a
-- placeholder, and removes it with a WARNING when the library loads and
-- reserves the prefix; the identity lookup then fails naming it (42704)
-- instead of acting for no user.  Each case starts a new connection (\c), in
-- which the library is loaded by the first train_data call.
SELECT current_user AS superuser, current_database() AS db \gset

-- SET before the first train_data call: the first call fails.
\c
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT train_data.current_user_id();
-- The value is gone, and the lookup fails on every call of the session ...
SELECT current_setting('train_data.usr_id', true) IS NULL AS removed;
SELECT train_data.current_user_id();
-- ... even with a JWT setting (the user id meant would have taken precedence).
SET request.jwt.claim.sub = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT expect_error('SELECT train_data.current_user_id()');
RESET request.jwt.claim.sub;
-- The right name works, for as long as it is set.
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT train_data.current_user_id();
RESET train_data.user_id;
SELECT expect_error('SELECT train_data.current_user_id()');
-- Once loaded, the prefix is reserved: the misspelt name is refused at once.
SELECT expect_error($$SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'$$);

-- A new session without a misspelt name: no error, no user.
\c
SELECT train_data.current_user_id() IS NULL AS is_null;

-- Behind a pooler, each request sets its settings in its own transaction,
-- and the connection serves user after user (a review of 1.2: one
-- misspelt SET LOCAL failed every later request of every user).  A
-- misspelt name in a transaction rolled back before the library loaded
-- leaves an empty placeholder: nothing is noted.
\c
BEGIN;
SET LOCAL train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
ROLLBACK;
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub": "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}', true) IS NOT NULL AS claims;
SELECT train_data.current_user_id();
COMMIT;
-- A misspelt name set in the request that loads the library fails that
-- request, and is forgotten when it ends.
\c
BEGIN;
SET LOCAL train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT set_config('request.jwt.claims', '{"sub": "b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}', true) IS NOT NULL AS claims;
SELECT expect_error('SELECT train_data.current_user_id()');
SELECT expect_error('SELECT train_data.current_user_id()');
COMMIT;
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub": "c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}', true) IS NOT NULL AS claims;
SELECT train_data.current_user_id();
ROLLBACK;
-- A session setting made before the request is not the request's: it
-- stays noted after the request ends.
\c
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
BEGIN;
SELECT expect_error('SELECT train_data.current_user_id()');
COMMIT;
SELECT expect_error('SELECT train_data.current_user_id()');
-- A SET (not LOCAL) in the loading transaction was meant for the session:
-- noted for it once the transaction commits, whatever the JWT says (the
-- review of the first form found it forgotten, the session then acting as
-- the JWT's user) ...
\c
BEGIN;
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT expect_error('SELECT train_data.current_user_id()');
COMMIT;
SET request.jwt.claim.sub = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT expect_error('SELECT train_data.current_user_id()');
RESET request.jwt.claim.sub;
-- ... as in a transaction of one query string (psql's \;) ...
\c
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' \; SELECT train_data.html_escape('x') AS loaded;
SELECT expect_error('SELECT train_data.current_user_id()');
-- ... and forgotten when that transaction aborts, taking the SET with it.
\c
BEGIN;
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT train_data.current_user_id();
ROLLBACK;
SELECT train_data.current_user_id() IS NULL AS forgotten;
-- A value the stack brings back counts though the name is empty when the
-- library loads (the review of the first form found these ignored, the
-- session acting as the JWT's user or as no user): an empty SET LOCAL over
-- a session value, a SET hidden by an empty SET LOCAL, a RESET rolled back.
\c
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SET request.jwt.claim.sub = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
BEGIN;
SET LOCAL train_data.usr_id = '';
SELECT expect_error('SELECT train_data.current_user_id()');
COMMIT;
SELECT expect_error('SELECT train_data.current_user_id()');
\c
SET request.jwt.claim.sub = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
BEGIN;
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SET LOCAL train_data.usr_id = '';
SELECT expect_error('SELECT train_data.current_user_id()');
COMMIT;
SELECT expect_error('SELECT train_data.current_user_id()');
\c
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
BEGIN;
RESET train_data.usr_id;
SELECT expect_error('SELECT train_data.current_user_id()');
ROLLBACK;
SELECT expect_error('SELECT train_data.current_user_id()');
-- A session value from before the loading transaction stays noted, though
-- that transaction set the name LOCAL again; the names the error lists
-- are those still noted.
\c
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SET train_data.z1 = 'x';
BEGIN;
SET LOCAL train_data.usr_id = 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SET LOCAL train_data.a1 = 'x';
SET LOCAL train_data.a2 = 'x';
SET LOCAL train_data.a3 = 'x';
SET LOCAL train_data.a4 = 'x';
SELECT expect_error('SELECT train_data.current_user_id()', true);
COMMIT;
SELECT expect_error('SELECT train_data.current_user_id()', true);

-- The first call may come from a policy: an application role's query fails
-- instead of returning no rows.
INSERT INTO train_data.batch_jobs (name, total_items, created_by)
VALUES ('misspelt job', 0, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
\c - regress_alice
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT name FROM train_data.batch_jobs;
SET train_data.user_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT name FROM train_data.batch_jobs;
\c - :superuser
DELETE FROM train_data.batch_jobs WHERE name = 'misspelt job';

-- Several misspelt names: the error names the first (in the order of the
-- settings table), the detail at most four, each clipped to 64 characters.
\c
SELECT set_config(name, 'x', false) IS NOT NULL AS set
FROM (VALUES ('train_data.userid'), ('train_data.user_ids'), ('train_data.uid'),
             ('train_data.' || repeat('a', 100)), ('train_data.user')) AS v(name);
SELECT train_data.current_user_id();

-- A role setting arrives the same way (as would a database setting, or
-- PGOPTIONS): the role's first lookup fails.  (ALTER ROLE accepts the name
-- only in a session that has not loaded the library either.)
\c
ALTER ROLE regress_bob IN DATABASE :"db" SET train_data.usr_id = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
\c - regress_bob
SELECT train_data.current_user_id();
-- RESET ALL (and so DISCARD ALL) brings the role's value back: the name
-- stays noted (a review of the thirty-sixth session's first form saw it
-- forgotten, the session then acting as the JWT's user)
DISCARD ALL;
SET request.jwt.claim.sub = 'c0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT expect_error('SELECT train_data.current_user_id()');
RESET ALL;
SELECT expect_error('SELECT train_data.current_user_id()');
\c - :superuser
-- RESET is accepted even where the prefix is reserved.
SELECT train_data.current_user_id() IS NULL AS loaded;
ALTER ROLE regress_bob IN DATABASE :"db" RESET train_data.usr_id;
\c - regress_bob
SELECT train_data.current_user_id() IS NULL AS is_null;

-- RESET ALL, and so DISCARD ALL (a session pooler's reset of a server
-- connection before its next client), resets every setting: once it
-- commits, the noted names are forgotten, and the next client acts as its
-- own JWT says (before the thirty-sixth session one client's typo failed
-- every later client's lookups on that connection).  A RESET ALL rolled
-- back, or undone by a savepoint's rollback, forgets nothing; one released
-- with its savepoint does.
\c
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT expect_error('SELECT train_data.current_user_id()');
DISCARD ALL;
SET request.jwt.claim.sub = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT train_data.current_user_id();
RESET request.jwt.claim.sub;
\c
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT expect_error('SELECT train_data.current_user_id()');
BEGIN;
RESET ALL;
ROLLBACK;
SELECT expect_error('SELECT train_data.current_user_id()');
BEGIN;
SAVEPOINT s;
RESET ALL;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT expect_error('SELECT train_data.current_user_id()');
BEGIN;
SAVEPOINT s;
SAVEPOINT t;
RESET ALL;
RELEASE SAVEPOINT t;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT expect_error('SELECT train_data.current_user_id()');
BEGIN;
SAVEPOINT s;
RESET ALL;
RELEASE SAVEPOINT s;
SELECT expect_error('SELECT train_data.current_user_id()');   -- (not until it commits)
COMMIT;
SELECT train_data.current_user_id() IS NULL AS forgotten;
\c
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT expect_error('SELECT train_data.current_user_id()');
RESET ALL;
SELECT train_data.current_user_id() IS NULL AS forgotten;

-- In a parallel query too: a parallel worker loads the library without the
-- session's misspelt name, so it never saw one; the functions that look the
-- user id up run in the session's own process (PARALLEL RESTRICTED), and
-- fail there rather than act for the JWT's user (a review of 1.2).
\c - :superuser
INSERT INTO train_data.batch_jobs (id, name, total_items, created_by)
VALUES ('b0eebc99-9c0b-4ef8-bb6d-6bb9bd38aaaa', 'parallel job', 0, 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
\c - regress_alice
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT expect_error('SELECT train_data.current_user_id()');   -- the first call: loaded here
SET request.jwt.claim.sub = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SET force_parallel_mode = regress;
SELECT expect_error('SELECT train_data.current_user_id()');
SELECT expect_error($$SELECT train_data.batch_progress('b0eebc99-9c0b-4ef8-bb6d-6bb9bd38aaaa')$$);
SELECT expect_error($$SELECT train_data.calculate_batch_progress('b0eebc99-9c0b-4ef8-bb6d-6bb9bd38aaaa')$$);
SELECT expect_error($$SELECT train_data.estimate_time_remaining('b0eebc99-9c0b-4ef8-bb6d-6bb9bd38aaaa')$$);
SELECT expect_error($$SELECT name FROM train_data.batch_jobs$$);
RESET force_parallel_mode;
\c - :superuser
DELETE FROM train_data.batch_jobs WHERE name = 'parallel job';

-- session_preload_libraries loads the library when the session starts, so
-- the prefix is reserved from the first statement: a misspelt SET fails.
\c - :superuser
SELECT format('dbname=%s user=%s options=''-c session_preload_libraries=train_data''',
              :'db', :'superuser') AS preload \gset
\c :preload
SET train_data.usr_id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
SELECT train_data.current_user_id() IS NULL AS is_null;
