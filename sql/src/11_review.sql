-- sql/src/11_review.sql — quality of stored conversations, the life cycle, review, regeneration, review queue and statistics.

--------------------------------------------------------------------------------
-- 18. Quality of stored conversations
--------------------------------------------------------------------------------

-- (Re)score a stored conversation from its turns; returns the metrics.
-- Its row is locked first, as a writer of its turns does (their signature
-- trigger): a score waits for a writer, and is then judged by a statement
-- whose snapshot has the writer's turns.  (Judging at once waited for the
-- row in the update and stored the verdict and turn count of the turns
-- from before: a review of 1.2.)
CREATE FUNCTION train_data.score_conversation(conversation_id uuid)
    RETURNS jsonb
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m jsonb;
BEGIN
    PERFORM FROM train_data.conversations c WHERE c.id = score_conversation.conversation_id FOR NO KEY UPDATE OF c;
    SELECT r.quality_metrics INTO m FROM train_data.rescore_conversations(ARRAY[score_conversation.conversation_id], false) r;
    IF NOT FOUND THEN
        IF score_conversation.conversation_id IS NULL THEN
            RAISE EXCEPTION 'conversation id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'conversation % does not exist', score_conversation.conversation_id
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN m;
END
$$;

COMMENT ON FUNCTION train_data.score_conversation(uuid) IS
    '(Re)scores a stored conversation from its turns, stores quality_score and quality_metrics and returns the metrics';

--------------------------------------------------------------------------------
-- 19. The conversation life cycle, enforced for every writer
--------------------------------------------------------------------------------

-- May a conversation go from one status to another?  (The same status is
-- always allowed; nothing leaves archived; approval and rejection need a
-- generated conversation.)
CREATE FUNCTION train_data.conversation_transition_allowed(old_status train_data.conversation_status,
                                                          new_status train_data.conversation_status)
    RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN old_status = new_status OR CASE old_status
        WHEN 'draft' THEN new_status IN ('generating', 'generated', 'pending_review', 'needs_revision', 'failed', 'archived')
        WHEN 'generating' THEN new_status IN ('generated', 'pending_review', 'needs_revision', 'failed', 'archived')
        WHEN 'generated' THEN new_status IN ('pending_review', 'needs_revision', 'approved', 'rejected', 'archived')
        WHEN 'pending_review' THEN new_status IN ('approved', 'rejected', 'needs_revision', 'archived')
        WHEN 'needs_revision' THEN new_status IN ('approved', 'rejected', 'pending_review', 'archived')
        WHEN 'approved' THEN new_status IN ('archived')
        WHEN 'rejected' THEN new_status IN ('archived')
        WHEN 'failed' THEN new_status IN ('archived')
        ELSE false
    END;

COMMENT ON FUNCTION train_data.conversation_transition_allowed(train_data.conversation_status, train_data.conversation_status) IS
    'Whether a conversation may go from one status to another in its life cycle (the same status always may; nothing leaves archived)';

-- The trigger: new conversations start before review; every status change
-- follows conversation_transition_allowed; approving or rejecting needs the
-- review recorded in review_history (and an approval its reviewer).  Restores (pg_dump scripts run
-- with row_security = off) bring rows in the state they were in.
CREATE FUNCTION train_data.conversations_check_transition() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- a restore: row security off for a role that bypasses it (a user who turns
    -- it off within her statement, after the policies applied, still is checked)
    IF current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND NEW.status IN ('approved', 'rejected', 'archived') THEN
        RAISE EXCEPTION 'a new conversation cannot be %', NEW.status
            USING ERRCODE = 'check_violation',
                  HINT = 'Conversations are generated first; review_conversation() approves or rejects them.';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.status IN ('approved', 'rejected') AND OLD.status <> NEW.status
       AND train_data.conversation_transition_allowed(OLD.status, NEW.status)
       AND (NEW.review_history -> -1 ->> 'action' IS DISTINCT FROM NEW.status::text
            OR (NEW.status = 'approved' AND (NEW.approved_by IS NULL OR NEW.approved_at IS NULL))) THEN
        RAISE EXCEPTION 'conversation % cannot become % without a recorded review', OLD.conversation_id, NEW.status
            USING ERRCODE = 'check_violation',
                  DETAIL = 'The last review_history entry must record the same action, and an approval its reviewer and time.',
                  HINT = 'Use review_conversation() or bulk_review_conversations().';
    END IF;
    IF TG_OP = 'UPDATE' AND NOT train_data.conversation_transition_allowed(OLD.status, NEW.status) THEN
        RAISE EXCEPTION 'conversation % cannot go from % to %', OLD.conversation_id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  DETAIL = CASE WHEN OLD.status = 'archived' THEN 'An archived conversation never changes status.'
                                WHEN NEW.status IN ('approved', 'rejected') THEN 'Only a generated conversation can be reviewed.'
                                ELSE 'That transition is not part of the conversation life cycle.' END;
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION train_data.conversations_check_transition() IS
    'Internal: trigger function (BEFORE INSERT OR UPDATE OF status on conversations) that enforces the life cycle and a recorded review for approval and rejection; skipped by restores';

-- Two triggers on one function: a new row is checked only when its status
-- is one the function refuses for a new row (most inserts skip the call);
-- every change of status is checked.
CREATE TRIGGER conversations_check_new_status
    BEFORE INSERT ON train_data.conversations
    FOR EACH ROW WHEN (NEW.status IN ('approved', 'rejected', 'archived'))
    EXECUTE FUNCTION train_data.conversations_check_transition();

CREATE TRIGGER conversations_check_transition
    BEFORE UPDATE OF status ON train_data.conversations
    FOR EACH ROW EXECUTE FUNCTION train_data.conversations_check_transition();

-- What a conversation's writer cannot forge: its owner never changes; an
-- approval and every review history entry record the owner (the only user
-- who can act on the row: review_conversation writes them); the history
-- only grows; a version's parent is another conversation of the same owner,
-- never the conversation itself or one of its own versions.  Skipped by
-- restores, which hold rows as they were stored, and for the engine (the
-- worker functions record the owner themselves).
CREATE FUNCTION train_data.conversations_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kept integer := 0;
    stranger text;
    ancestor uuid;
    depth integer := 0;
BEGIN
    -- a restore: row security off for a role that bypasses it (a user who turns
    -- it off within her statement, after the policies applied, still is checked)
    IF current_setting('row_security') = 'off' AND NOT pg_catalog.row_security_active(TG_RELID) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.created_by IS DISTINCT FROM OLD.created_by THEN
        RAISE EXCEPTION 'conversation % cannot change its owner', OLD.conversation_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.approved_by IS DISTINCT FROM NEW.created_by AND NEW.approved_by IS NOT NULL
       AND (TG_OP = 'INSERT' OR NEW.approved_by IS DISTINCT FROM OLD.approved_by) THEN
        RAISE EXCEPTION 'conversation % cannot be approved by another user', train_data.clip_for_message(NEW.conversation_id)
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'approved_by records who approved it, which can only be its owner.',
                  HINT = 'Use review_conversation().';
    END IF;
    IF jsonb_typeof(NEW.review_history) IS DISTINCT FROM 'array' THEN
        RETURN NEW;   -- the table's check constraint reports it
    END IF;
    -- an update judges only the entries it appends: those already there may
    -- name another user (1.1 let a reviewer write them, and a restore keeps
    -- them), and a change of anything else must not be refused for them
    IF TG_OP = 'UPDATE' AND jsonb_typeof(OLD.review_history) = 'array' THEN
        kept := jsonb_array_length(OLD.review_history);
        IF NEW.review_history IS DISTINCT FROM OLD.review_history
           AND (jsonb_array_length(NEW.review_history) < kept
                OR (SELECT coalesce(jsonb_agg(e.value ORDER BY e.ord), '[]')
                    FROM jsonb_array_elements(NEW.review_history) WITH ORDINALITY e(value, ord)
                    WHERE e.ord <= kept) IS DISTINCT FROM OLD.review_history) THEN
            RAISE EXCEPTION 'review history of conversation % can only grow', OLD.conversation_id
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Use review_conversation(), which appends an entry.';
        END IF;
    END IF;
    -- a history that grows holds at most 1,000 entries and 1 MB: each
    -- review rewrites and checks the whole of it, so reviews of a history
    -- without a bound grew quadratically (1,000 reviews of one conversation
    -- took 224 s, and each one after 0.8 s: a review of inputs 1,000 times
    -- larger); a longer one of 1.1 or a restore stays as it is
    IF jsonb_array_length(NEW.review_history) > greatest(kept, 1000)
       OR (jsonb_array_length(NEW.review_history) > kept
           AND train_data.jsonb_raw_size(NEW.review_history) > 1048576) THEN
        RAISE EXCEPTION 'review history of conversation % is full', train_data.clip_for_message(NEW.conversation_id)
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = format('It would hold %s entries in %s bytes; a history holds at most 1000 entries and 1 MB.',
                                  jsonb_array_length(NEW.review_history), train_data.jsonb_raw_size(NEW.review_history)),
                  HINT = 'Regenerate the conversation (its new version starts a history of its own), or copy it into a new one.';
    END IF;
    SELECT e.value ->> 'performedBy' INTO stranger
    FROM jsonb_array_elements(NEW.review_history) WITH ORDINALITY e(value, ord)
    WHERE e.ord > kept AND e.value ? 'performedBy' AND jsonb_typeof(e.value -> 'performedBy') <> 'null'
      AND e.value ->> 'performedBy' IS DISTINCT FROM NEW.created_by::text
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'review history entry of conversation % names another user', train_data.clip_for_message(NEW.conversation_id)
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('performedBy is %s; an entry can only record the conversation''s owner.',
                                  train_data.clip_for_message(stranger)),
                  HINT = 'Use review_conversation().';
    END IF;
    IF NEW.parent_type = 'conversation'
       AND (TG_OP = 'INSERT' OR (NEW.parent_id, NEW.parent_type) IS DISTINCT FROM (OLD.parent_id, OLD.parent_type)) THEN
        ancestor := NEW.parent_id;
        WHILE ancestor IS NOT NULL LOOP
            IF ancestor = NEW.id THEN
                RAISE EXCEPTION 'conversation % cannot be a version of itself', train_data.clip_for_message(NEW.conversation_id)
                    USING ERRCODE = 'check_violation',
                          DETAIL = format('Its parent %s descends from it.', NEW.parent_id);
            END IF;
            depth := depth + 1;
            IF depth > 1000 THEN
                RAISE EXCEPTION 'conversation % would have more than 1000 versions before it', train_data.clip_for_message(NEW.conversation_id)
                    USING ERRCODE = 'program_limit_exceeded';
            END IF;
            -- a change of an existing row's parent reads the ancestors FOR
            -- SHARE: a concurrent change of an ancestor's parent (which holds
            -- its row) is waited for, so two changes cannot each pass the walk
            -- and make a cycle together (a review of 1.2; racing writers now
            -- wait for each other, or one gets 40P01).  A new row needs no
            -- lock: no row can name its id as a parent yet.
            IF TG_OP = 'UPDATE' THEN
                SELECT CASE WHEN c.parent_type = 'conversation' THEN c.parent_id END INTO ancestor
                FROM train_data.conversations c
                WHERE c.id = ancestor AND c.created_by = NEW.created_by
                FOR SHARE;
            ELSE
                SELECT CASE WHEN c.parent_type = 'conversation' THEN c.parent_id END INTO ancestor
                FROM train_data.conversations c
                WHERE c.id = ancestor AND c.created_by = NEW.created_by;
            END IF;
            IF NOT FOUND THEN
                IF depth = 1 THEN
                    RAISE EXCEPTION 'parent conversation % of conversation % does not exist', NEW.parent_id, train_data.clip_for_message(NEW.conversation_id)
                        USING ERRCODE = 'foreign_key_violation';
                END IF;
                ancestor := NULL;
            END IF;
        END LOOP;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION train_data.conversations_guard() IS
    'Internal: trigger keeping what a writer cannot forge: the owner, approvals and review entries by the owner only, an append-only history, version parents of the same owner without cycles';

CREATE TRIGGER conversations_guard
    BEFORE INSERT OR UPDATE ON train_data.conversations
    FOR EACH ROW WHEN (NOT train_data.engine_context())
    EXECUTE FUNCTION train_data.conversations_guard();

--------------------------------------------------------------------------------
-- 20. Review
--------------------------------------------------------------------------------

-- Append a review action {id, action, performedBy, timestamp, comment,
-- reasons} to a conversation's review_history.
CREATE FUNCTION train_data.append_review_action(conversation_id uuid, action text, performed_by uuid,
                                                comment text DEFAULT NULL, reasons text[] DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF action IS NULL OR action NOT IN ('approved', 'rejected', 'revision_requested', 'generated', 'moved_to_review') THEN
        RAISE EXCEPTION 'review action must be approved, rejected, revision_requested, generated or moved_to_review, not %',
                        train_data.clip_for_message(action)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (here, not in review_conversation only: every entry of the history passes here)
    IF char_length(comment) > 2000 THEN
        RAISE EXCEPTION 'review comment is % characters long; the limit is 2000', char_length(comment)
            USING ERRCODE = 'string_data_right_truncation';
    END IF;
    IF array_ndims(reasons) > 1 THEN
        RAISE EXCEPTION 'review reasons must be a one-dimensional array'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The array has %s dimensions.', array_ndims(reasons));
    END IF;
    IF array_position(reasons, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'review reasons must not contain null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF cardinality(reasons) > 20 OR EXISTS (SELECT 1 FROM unnest(reasons) r WHERE char_length(r) > 200) THEN
        RAISE EXCEPTION 'review reasons are limited to 20 of at most 200 characters each'
            USING ERRCODE = 'string_data_right_truncation',
                  DETAIL = format('The review has %s %s, the longest %s characters long.', cardinality(reasons),
                                  CASE WHEN cardinality(reasons) = 1 THEN 'reason' ELSE 'reasons' END,
                                  (SELECT max(char_length(r)) FROM unnest(reasons) r));
    END IF;
    UPDATE train_data.conversations c
    SET review_history = c.review_history || jsonb_build_array(jsonb_build_object(
            'id', gen_random_uuid(), 'action', append_review_action.action, 'performedBy', performed_by,
            -- the time as the export writes times, whatever the reviewer's
            -- TimeZone (jsonb of a timestamptz carries the session's offset:
            -- a review in America/St_Johns wrote -03:30 into an export in UTC)
            'timestamp', to_char(timezone('UTC', now()), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            'comment', append_review_action.comment,
            'reasons', to_jsonb(append_review_action.reasons)))
    WHERE c.id = append_review_action.conversation_id;
    IF NOT FOUND THEN
        IF append_review_action.conversation_id IS NULL THEN
            RAISE EXCEPTION 'conversation id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'conversation % does not exist', append_review_action.conversation_id
            USING ERRCODE = 'undefined_object';
    END IF;
END
$$;

COMMENT ON FUNCTION train_data.append_review_action(uuid, text, uuid, text, text[]) IS
    'Appends a review action {id, action, performedBy, timestamp, comment, reasons} to a conversation''s review_history';

-- Review a generated conversation: approved, rejected or revision_requested.
CREATE FUNCTION train_data.review_conversation(conversation_id uuid, action text, comment text DEFAULT NULL,
                                               reasons text[] DEFAULT NULL)
    RETURNS train_data.conversations
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c train_data.conversations;
    reviewer uuid;
BEGIN
    IF action IS NULL OR action NOT IN ('approved', 'rejected', 'revision_requested') THEN
        RAISE EXCEPTION 'review action must be approved, rejected or revision_requested, not %', train_data.clip_for_message(action)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    reviewer := train_data.require_user_id('A review is recorded as the current user''s.');
    SELECT * INTO c FROM train_data.conversations x WHERE x.id = review_conversation.conversation_id FOR UPDATE;
    IF NOT FOUND THEN
        IF review_conversation.conversation_id IS NULL THEN
            RAISE EXCEPTION 'conversation id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'conversation % does not exist', review_conversation.conversation_id
            USING ERRCODE = 'undefined_object';
    END IF;
    IF c.status NOT IN ('generated', 'pending_review', 'needs_revision') THEN
        RAISE EXCEPTION 'conversation % is %, not eligible for review', c.conversation_id, c.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Only generated, pending_review and needs_revision conversations can be reviewed.';
    END IF;
    -- the history first: the life-cycle trigger wants the review recorded
    PERFORM train_data.append_review_action(c.id, action, reviewer, comment, reasons);
    UPDATE train_data.conversations x
    SET status = CASE action WHEN 'approved' THEN 'approved' WHEN 'rejected' THEN 'rejected'
                             ELSE 'needs_revision' END::train_data.conversation_status,
        approved_by = CASE WHEN action = 'approved' THEN reviewer ELSE x.approved_by END,
        approved_at = CASE WHEN action = 'approved' THEN now() ELSE x.approved_at END,
        reviewer_notes = coalesce(review_conversation.comment, x.reviewer_notes)
    WHERE x.id = c.id;
    SELECT * INTO c FROM train_data.conversations x WHERE x.id = c.id;
    RETURN c;
END
$$;

COMMENT ON FUNCTION train_data.review_conversation(uuid, text, text, text[]) IS
    'Reviews a generated conversation as the current user (approved, rejected or revision_requested), recording it in review_history; returns the conversation';

-- Review many conversations; one row per id, failures reported, not raised.
-- The reviews run in one subtransaction, not one each: a review writes, so
-- its subtransaction takes a transaction id, and past 64 of them in one
-- transaction every snapshot in the cluster is slower to check (5,000 ids
-- took 5,001, a review of 1.2).  An id a review cannot take (unknown, not
-- the caller's, not reviewable, a repeat) fails before it writes: each
-- such id runs on its own after the others, in a subtransaction that takes
-- no id.  An error of a reviewable id undoes the others, which run again
-- without it (at most four tries; then each on its own).
CREATE FUNCTION train_data.bulk_review_conversations(conversation_ids uuid[], action text, comment text DEFAULT NULL,
                                                     reasons text[] DEFAULT NULL)
    RETURNS TABLE (conversation_id uuid, success boolean, error text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ids uuid[] := ARRAY(SELECT unnest(conversation_ids));   -- one dimension from 1, whatever was given
    n integer := cardinality(ids);
    reviewable boolean[];   -- by position: its first time in the list, and a review can take it
    repeated boolean[];     -- by position: listed before (reviewed once, at its first place)
    errors text[];
    cur integer;            -- the id under review (variables outlive a rollback)
    code text;
BEGIN
    -- the rows a review can change locked first, in one order: two bulk
    -- reviews of the same rows given in opposite orders deadlocked once per
    -- id (each holding the rows it had reviewed), for minutes (a review of 1.2)
    SELECT coalesce(array_agg(l.id IS NOT NULL AND u.seen = 1 ORDER BY u.ord), '{}'),
           coalesce(array_agg(u.seen > 1 ORDER BY u.ord), '{}') INTO reviewable, repeated
    FROM (SELECT x.id, x.ord, row_number() OVER (PARTITION BY x.id ORDER BY x.ord) AS seen
          FROM unnest(ids) WITH ORDINALITY AS x(id, ord)) u
    LEFT JOIN (SELECT c.id FROM train_data.conversations c
               WHERE c.id = ANY (ids) AND c.status IN ('generated', 'pending_review', 'needs_revision')
                 AND action IN ('approved', 'rejected', 'revision_requested')
               ORDER BY c.id FOR UPDATE) l ON l.id = u.id;
    errors := array_fill(NULL::text, ARRAY[n]);
    FOR pass IN 1..4 LOOP
        BEGIN
            FOR i IN 1..n LOOP
                CONTINUE WHEN NOT reviewable[i] OR errors[i] IS NOT NULL;
                cur := i;
                PERFORM train_data.review_conversation(ids[i], action, comment, reasons);
            END LOOP;
            cur := NULL;
            EXIT;
        EXCEPTION
            WHEN deadlock_detected OR lock_not_available OR serialization_failure THEN
                RAISE;   -- the whole call failed: not one id's outcome
            WHEN OTHERS THEN
                IF cur IS NULL THEN
                    RAISE;
                END IF;
                errors[cur] := SQLERRM;
        END;
    END LOOP;
    FOR i IN 1..n LOOP
        conversation_id := ids[i];
        success := errors[i] IS NULL;
        error := errors[i];
        -- an id listed again is reviewed once: each review of the same
        -- conversation appended one more entry to its history (a review of
        -- inputs 1,000 times larger wrote 1,000 from one call)
        IF repeated[i] THEN
            success := false;
            error := 'listed more than once: reviewed at its first place only';
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- one on its own: an id no review can take (it fails before it
        -- writes), or a reviewable one past the fourth try
        IF error IS NULL AND (NOT reviewable[i] OR cur IS NOT NULL) THEN
            BEGIN
                PERFORM train_data.review_conversation(ids[i], action, comment, reasons);
            EXCEPTION
                WHEN deadlock_detected OR lock_not_available OR serialization_failure THEN
                    RAISE;
                WHEN OTHERS THEN
                    success := false;
                    error := SQLERRM;
            END;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

COMMENT ON FUNCTION train_data.bulk_review_conversations(uuid[], text, text, text[]) IS
    'Reviews many conversations with the same action; one row per id, failures reported in the row instead of raised';

--------------------------------------------------------------------------------
-- 21. Regeneration and versions
--------------------------------------------------------------------------------

-- How many versions a conversation's chain holds up to it: itself and the
-- versions before it (of its owner), counted to 1,001 at most.  The
-- conversations' guard allows 1,000 before a version; a completion, which
-- inserts a regeneration's new version, does not walk the chain, so
-- regenerate_conversation and the items' guard ask this first.
CREATE FUNCTION train_data.version_depth(conversation_id uuid)
    RETURNS integer
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    WITH RECURSIVE up(id, parent_id, parent_type, created_by, depth) AS (
        SELECT c.id, c.parent_id, c.parent_type, c.created_by, 1 FROM train_data.conversations c
        WHERE c.id = version_depth.conversation_id
        UNION ALL
        SELECT x.id, x.parent_id, x.parent_type, x.created_by, up.depth + 1
        FROM train_data.conversations x JOIN up ON x.id = up.parent_id
        WHERE up.parent_type = 'conversation' AND x.created_by = up.created_by AND up.depth < 1001)
    SELECT max(up.depth) FROM up;
END;
COMMENT ON FUNCTION train_data.version_depth(uuid) IS
    'Internal: the versions of a conversation''s chain up to it (itself and those before it), counted to 1,001 at most';

-- Queue a new generation of a conversation from its template and parameters
-- (overridden by parameters); returns the batch item.  When it completes, the
-- new conversation's parent is this one and this one is archived.
CREATE FUNCTION train_data.regenerate_conversation(conversation_id uuid, parameters jsonb DEFAULT '{}')
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c train_data.conversations;
    job uuid;
    item uuid;
    batch_name text;
    tpl_name text;
    tpl_active boolean;
    refused text;
    refused_detail text;
    refused_hint text;
    refused_code text;
BEGIN
    -- (before the lookup: without a user id a conversation is not found)
    PERFORM train_data.require_user_id('A regeneration is queued as a batch job of the current user.');
    SELECT * INTO c FROM train_data.conversations x WHERE x.id = regenerate_conversation.conversation_id;
    IF NOT FOUND THEN
        IF regenerate_conversation.conversation_id IS NULL THEN
            RAISE EXCEPTION 'conversation id must not be null' USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'conversation % does not exist', regenerate_conversation.conversation_id
            USING ERRCODE = 'undefined_object';
    END IF;
    IF c.status IN ('archived', 'draft', 'generating') THEN
        RAISE EXCEPTION 'conversation % is %; only a generated or reviewed conversation can be regenerated',
                        c.conversation_id, c.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF c.template_id IS NULL THEN
        RAISE EXCEPTION 'conversation % has no template to regenerate from', c.conversation_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF parameters IS NULL OR jsonb_typeof(parameters) <> 'object' THEN
        RAISE EXCEPTION 'parameters must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the new version will have this one and its ancestors before it: the
    -- guard's limit, checked here because the completion that inserts the
    -- version does not walk the chain (a chain grew past it: a review of 1.2)
    IF train_data.version_depth(c.id) > 1000 THEN
        RAISE EXCEPTION 'conversation % would have more than 1000 versions before it', c.conversation_id
            USING ERRCODE = 'program_limit_exceeded',
                  DETAIL = 'A regeneration is a new version after this one and the versions before it.';
    END IF;
    -- parameters the template refuses are the caller's, named as hers: the
    -- batch and item create_batch names are internal (a review of the errors
    -- found "item 1 of batch "Regenerate …"" and create_batch's text as the
    -- context); any other error goes through as it is
    batch_name := format('Regenerate %s', left(c.conversation_id, 150));
    -- its template as create_batch would find it, named as the conversation's
    SELECT t.name, t.is_active INTO tpl_name, tpl_active FROM train_data.templates t WHERE t.id = c.template_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'conversation % has no template to regenerate from', train_data.clip_for_message(c.conversation_id)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The template it was generated from no longer exists.';
    ELSIF NOT tpl_active THEN
        RAISE EXCEPTION 'template "%" of conversation % is not active', tpl_name, train_data.clip_for_message(c.conversation_id)
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Its creator can make it active again.';
    END IF;
    BEGIN
        job := train_data.create_batch(batch_name,
                                       jsonb_build_array(jsonb_build_object('template_id', c.template_id, 'tier', c.tier,
                                                                            'topic', coalesce(parameters ->> 'topic', c.topic),
                                                                            'parameters', c.parameters || parameters)),
                                       '{}', 1, 'continue', 'high');
    EXCEPTION WHEN invalid_parameter_value OR string_data_right_truncation THEN
        GET STACKED DIAGNOSTICS refused = MESSAGE_TEXT, refused_detail = PG_EXCEPTION_DETAIL,
                                refused_hint = PG_EXCEPTION_HINT, refused_code = RETURNED_SQLSTATE;
        -- (the prefix as create_batch writes it: the id may hold any character)
        IF starts_with(refused, format('item 1 of batch "%s"', batch_name)) THEN
            refused := ltrim(substr(refused, char_length(format('item 1 of batch "%s"', batch_name)) + 1), ': ');
        END IF;
        refused := CASE WHEN refused ~ '^(is|has|names|leaves) ' THEN 'The new version ' || refused
                        ELSE upper(left(refused, 1)) || substr(refused, 2) END;
        RAISE EXCEPTION 'parameters of conversation % are refused', train_data.clip_for_message(c.conversation_id)
            USING ERRCODE = refused_code,
                  DETAIL = refused || '.' || coalesce(' ' || nullif(refused_detail, ''), ''),
                  HINT = coalesce(nullif(refused_hint, ''), 'Give parameters its template accepts; those given override the conversation''s.');
    END;
    UPDATE train_data.batch_items i SET parent_conversation_id = c.id
    WHERE i.batch_job_id = job RETURNING i.id INTO item;
    RETURN item;
END
$$;

COMMENT ON FUNCTION train_data.regenerate_conversation(uuid, jsonb) IS
    'Queues a new generation of a conversation from its template and parameters (overridden by parameters); returns the batch item; on completion the new version archives this one';

-- Every version of a conversation (its regeneration chain), oldest first.
CREATE FUNCTION train_data.conversation_versions(conversation_id uuid)
    RETURNS TABLE (version integer, id uuid, conversation_id text, status train_data.conversation_status,
                   quality_score numeric, parent_id uuid, created_at timestamptz)
    LANGUAGE sql STABLE
BEGIN ATOMIC
    -- (down one probe a version of conversations_regenerated_idx, which
    -- holds conversation parents only: a user's are hers alone, as the
    -- guard keeps a regeneration's parent its writer's own, so no other
    -- user's rows are read whatever the statistics; a chain the guard did
    -- not see, a superuser's or 1.1's, is followed across owners as before)
    WITH RECURSIVE up(id, parent_id, parent_type, depth) AS (
        SELECT c.id, c.parent_id, c.parent_type, 1 FROM train_data.conversations c
        WHERE c.id = conversation_versions.conversation_id
        UNION ALL
        SELECT c.id, c.parent_id, c.parent_type, up.depth + 1 FROM train_data.conversations c JOIN up ON c.id = up.parent_id
        WHERE up.parent_type = 'conversation' AND up.depth < 1001),   -- the guard's 1,000 before it, and itself
    down(id, depth) AS (
        SELECT up.id, 1 FROM up
        WHERE up.parent_id IS NULL OR up.parent_type <> 'conversation' OR up.depth = 1001
           OR NOT EXISTS (SELECT 1 FROM train_data.conversations p WHERE p.id = up.parent_id OFFSET 0)   -- (a probe, not a hash of every row)
        UNION ALL
        SELECT r.id, down.depth + 1
        FROM down CROSS JOIN LATERAL (
            SELECT c.id FROM train_data.conversations c
            WHERE c.parent_id = down.id AND c.parent_type = 'conversation'
            OFFSET 0) r   -- (a probe a version: not a join the planner may drive from every regeneration)
        WHERE down.depth < 1001)
    SELECT (row_number() OVER (ORDER BY c.created_at, c.id))::integer, c.id, c.conversation_id, c.status,
           c.quality_score, c.parent_id, c.created_at
    FROM (SELECT DISTINCT down.id FROM down) d
    CROSS JOIN LATERAL (SELECT x.id, x.conversation_id, x.status, x.quality_score, x.parent_id, x.created_at
                        FROM train_data.conversations x WHERE x.id = d.id OFFSET 0) c   -- (by id)
    ORDER BY 1;
END;

COMMENT ON FUNCTION train_data.conversation_versions(uuid) IS
    'Every version of a conversation (its regeneration chain), oldest first';

--------------------------------------------------------------------------------
-- 22. Review queue, statistics and template analytics (all under RLS)
--------------------------------------------------------------------------------

-- Conversations waiting for review (pending_review), a page at a time:
-- lowest quality and oldest first by default.
CREATE FUNCTION train_data.review_queue(page integer DEFAULT 1, page_size integer DEFAULT 25,
                                        sort_by text DEFAULT 'quality_score', sort_order text DEFAULT 'asc',
                                        min_quality numeric DEFAULT NULL, defect text DEFAULT NULL)
    RETURNS SETOF train_data.conversations
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF page IS NULL OR page < 1 THEN
        RAISE EXCEPTION 'page must be 1 or more, not %', coalesce(page::text, 'NULL') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF page_size IS NULL OR page_size NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'page_size must be between 1 and 100, not %', coalesce(page_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF sort_by IS NULL OR sort_by NOT IN ('quality_score', 'created_at') THEN
        RAISE EXCEPTION 'sort_by must be quality_score or created_at, not %', train_data.clip_for_message(sort_by)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF sort_order IS NULL OR octet_length(sort_order) > 4 OR lower(sort_order) NOT IN ('asc', 'desc') THEN
        RAISE EXCEPTION 'sort_order must be asc or desc, not %', train_data.clip_for_message(sort_order)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF min_quality < 0 OR min_quality > 10 THEN
        RAISE EXCEPTION 'min_quality must be between 0 and 10, not %', train_data.clip_for_message(min_quality::text)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF defect IS NOT NULL AND NOT EXISTS (SELECT 1 FROM train_data.quality_defect_codes() d WHERE d.code = defect) THEN
        RAISE EXCEPTION 'defect must be a code of quality_defect_codes(), not %', train_data.clip_for_message(defect)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- sort_by and sort_order are checked against fixed lists above
    RETURN QUERY EXECUTE format(
        'SELECT * FROM train_data.conversations c
         WHERE c.status = ''pending_review'' AND ($1 IS NULL OR c.quality_score >= $1)
           AND ($4 IS NULL OR (c.has_defects AND c.quality_metrics -> ''defects'' ? $4))
         ORDER BY c.%s %s, c.created_at, c.id LIMIT $2 OFFSET $3',
        sort_by, lower(sort_order))
    USING min_quality, page_size, (page::bigint - 1) * page_size, defect;
END
$$;

COMMENT ON FUNCTION train_data.review_queue(integer, integer, text, text, numeric, text) IS
    'Conversations waiting for review (pending_review) visible to the caller, a page at a time; lowest quality and oldest first by default; defect keeps those with that defect code';

-- The numbers of the review queue.
CREATE FUNCTION train_data.review_queue_statistics()
    RETURNS TABLE (total_pending bigint, average_quality numeric, oldest_pending timestamptz)
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT count(*), coalesce(round(avg(c.quality_score), 1), 0), min(c.created_at)
    FROM train_data.conversations c WHERE c.status = 'pending_review';
END;

COMMENT ON FUNCTION train_data.review_queue_statistics() IS
    'Number, average quality and oldest creation time of the pending_review conversations visible to the caller';

-- Whether the caller reads conversations through their stock policy alone:
-- row-level security applies to her on the table, and no other permissive
-- policy for reading it is defined (a site may add one, for a team's
-- viewers, say).  Her rows are then exactly those with her id, and the
-- statistics, reports and exports say so in their statements, planned with
-- her id, so that they read her rows through the owner's index; with
-- another policy they leave the rows to the policies (found by a review of
-- 1.2: a site's viewer policy was ignored).
-- Whether the caller's rows of a table are exactly those of its stock
-- owner policy: row-level security applies to her on rel, and no other
-- permissive policy for reading or updating it is defined.
CREATE FUNCTION train_data.owner_policy_only(rel pg_catalog.regclass, stock_policy name)
    RETURNS boolean
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT pg_catalog.row_security_active(rel)
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_policy p
                       WHERE p.polrelid OPERATOR(pg_catalog.=) rel
                         AND p.polpermissive AND p.polcmd OPERATOR(pg_catalog.=) ANY ('{r,w,*}'::"char"[])
                         AND p.polname OPERATOR(pg_catalog.<>) stock_policy);
END;

COMMENT ON FUNCTION train_data.owner_policy_only(pg_catalog.regclass, name) IS
    'Internal: true when row-level security applies to the caller on rel and no permissive policy for reading or updating it but stock_policy is defined (her rows are those with her id)';

CREATE FUNCTION train_data.conversations_owner_only()
    RETURNS boolean
    LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT train_data.owner_policy_only('train_data.conversations'::pg_catalog.regclass, 'conversations_owner');
END;

COMMENT ON FUNCTION train_data.conversations_owner_only() IS
    'Internal: true when row-level security applies to the caller on conversations and no permissive policy for reading or updating them but conversations_owner is defined (her rows are those with her id)';

-- Statistics of the conversations the caller can see.
CREATE FUNCTION train_data.conversation_statistics()
    RETURNS jsonb
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    mine_only boolean := train_data.conversations_owner_only();
    result jsonb;
BEGIN
    -- Under the stock policy alone (conversations_owner_only) the statement
    -- says itself that the rows are the caller's, planned with her id
    -- (EXECUTE): PostgreSQL then reads them through the owner's index.  The
    -- policy's condition alone, its value unknown when planning, is
    -- estimated as the average user's share, so that a user with few rows
    -- read every user's (in each of the four scans) when one user held most
    -- of them.  The rows are those the policy lets her see either way; with
    -- a site's policy beside it, or for a role the policies do not apply to
    -- (the table's owner), the policies decide, as before.
    EXECUTE format($q$
        SELECT jsonb_build_object(
            'total', count(*),
            'byTier', (SELECT coalesce(jsonb_object_agg(t.tier, t.n), '{}')
                       FROM (SELECT c2.tier, count(*) AS n FROM train_data.conversations c2
                             WHERE %1$s GROUP BY c2.tier) t),
            'byStatus', (SELECT coalesce(jsonb_object_agg(t.status, t.n), '{}')
                         FROM (SELECT c2.status, count(*) AS n FROM train_data.conversations c2
                               WHERE %1$s GROUP BY c2.status) t),
            'avgQualityScore', round(avg(c.quality_score), 1),
            'qualityBands', jsonb_build_object(
                'excellent', count(*) FILTER (WHERE c.quality_score >= 8),
                'good', count(*) FILTER (WHERE c.quality_score >= 6 AND c.quality_score < 8),
                'fair', count(*) FILTER (WHERE c.quality_score >= 4 AND c.quality_score < 6),
                'poor', count(*) FILTER (WHERE c.quality_score < 4)),
            'totalTokens', coalesce(sum(c.total_tokens), 0),
            'totalCost', coalesce(sum(c.actual_cost_usd), 0),
            'avgTurnsPerConversation', round(avg(c.turn_count), 1),
            'approvalRate', round(count(*) FILTER (WHERE c.status = 'approved')::numeric
                                  / nullif(count(*) FILTER (WHERE c.status IN ('approved', 'rejected')), 0), 3),
            'pendingReview', count(*) FILTER (WHERE c.status = 'pending_review'),
            'withDefects', count(*) FILTER (WHERE c.has_defects),
            -- (has_defects: "defects" is a non-empty array, whatever else a
            -- user wrote into her own metrics)
            'byDefect', (SELECT coalesce(jsonb_object_agg(d.code, d.n), '{}')
                         FROM (SELECT e.code, count(*) AS n
                               FROM train_data.conversations c2,
                                    jsonb_array_elements_text(c2.quality_metrics -> 'defects') AS e(code)
                               WHERE %1$s AND c2.has_defects
                                 AND e.code IS NOT NULL   -- (a JSON null in a user's own array)
                               GROUP BY e.code) d))
        FROM train_data.conversations c
        WHERE %2$s
        $q$,
        CASE WHEN mine_only THEN 'c2.created_by = $1' ELSE 'true' END,
        CASE WHEN mine_only THEN 'c.created_by = $1' ELSE 'true' END)
    INTO result
    USING CASE WHEN mine_only THEN train_data.current_user_id() END;
    RETURN result;
END
$$;

COMMENT ON FUNCTION train_data.conversation_statistics() IS
    'Statistics of the conversations visible to the caller as a JSON object: totals by tier and status, quality bands, tokens, cost, approval rate, conversations with defects and counts by defect code';

-- Trend of a series of scores in time order: the newer half against the
-- older half (the original compared them the other way round).
CREATE FUNCTION train_data.quality_trend(scores numeric[])
    RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
        WHEN coalesce(cardinality(scores), 0) < 2 THEN 'stable'
        WHEN older.a = 0 THEN CASE WHEN newer.a > 0 THEN 'improving' ELSE 'stable' END
        WHEN (newer.a - older.a) / older.a * 100 > 5 THEN 'improving'
        WHEN (newer.a - older.a) / older.a * 100 < -5 THEN 'declining'
        ELSE 'stable' END
    FROM (SELECT avg(x) AS a FROM unnest(scores[1:cardinality(scores) / 2]) x) older,
         (SELECT avg(x) AS a FROM unnest(scores[cardinality(scores) / 2 + 1:]) x) newer;
END;

COMMENT ON FUNCTION train_data.quality_trend(numeric[]) IS
    'Trend of a series of scores in time order: improving, declining or stable (newer half against older half, 5 % margin)';

-- Per template: usage, average quality, approval rate, performance level and
-- trend (of its 10 newest scores), and how many of its conversations have
-- defect verdicts (with_defects, defect_rate in percent), over the
-- conversations the caller can see, optionally only those created within
-- time_window.
CREATE FUNCTION train_data.template_performance(time_window interval DEFAULT NULL, min_usage integer DEFAULT 1)
    RETURNS TABLE (template_id uuid, template_name text, tier train_data.tier_type, usage_count bigint,
                   avg_quality numeric, approved_count bigint, rejected_count bigint, approval_rate numeric,
                   performance text, trend text, last_used timestamptz, with_defects bigint,
                   defect_rate numeric)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    mine_only boolean := train_data.conversations_owner_only();
BEGIN
    -- Under the stock policy alone the statement says that the rows are the
    -- caller's, planned with her id (EXECUTE), so that they are read through
    -- the owner's index, not among every user's conversations of a shared
    -- template (see conversation_statistics).  $1 time_window, $2
    -- min_usage, $3 her id.
    RETURN QUERY EXECUTE format($q$
        SELECT s.template_id, t.name, t.tier, s.n, s.avg_quality, s.approved, s.rejected, s.rate,
               CASE WHEN s.rate >= 85 AND s.avg_quality >= 8 THEN 'high'
                    WHEN s.rate < 70 OR s.avg_quality < 6 THEN 'low'
                    ELSE 'medium' END,
               train_data.quality_trend(ARRAY(SELECT r.quality_score FROM (
                   SELECT c2.quality_score, c2.created_at, c2.id FROM train_data.conversations c2
                   WHERE c2.template_id = s.template_id AND c2.quality_score IS NOT NULL AND %1$s
                     AND ($1 IS NULL OR c2.created_at >= now() - $1)
                   ORDER BY c2.created_at DESC, c2.id DESC LIMIT 10) r ORDER BY r.created_at, r.id)),
               s.last_used, s.with_defects, round(s.with_defects * 100.0 / s.n, 1)
        FROM (SELECT c.template_id, count(*) AS n, round(avg(c.quality_score), 2) AS avg_quality,
                     count(*) FILTER (WHERE c.status = 'approved') AS approved,
                     count(*) FILTER (WHERE c.status = 'rejected') AS rejected,
                     round(count(*) FILTER (WHERE c.status = 'approved') * 100.0 / count(*), 1) AS rate,
                     max(c.created_at) AS last_used,
                     count(*) FILTER (WHERE c.has_defects) AS with_defects
              FROM train_data.conversations c
              WHERE c.template_id IS NOT NULL AND %2$s AND ($1 IS NULL OR c.created_at >= now() - $1)
              GROUP BY c.template_id
              HAVING count(*) >= coalesce($2, 1)) s
        JOIN train_data.templates t ON t.id = s.template_id
        ORDER BY s.rate, s.avg_quality, t.name
        $q$,
        CASE WHEN mine_only THEN 'c2.created_by = $3' ELSE 'true' END,
        CASE WHEN mine_only THEN 'c.created_by = $3' ELSE 'true' END)
    USING time_window, min_usage, CASE WHEN mine_only THEN train_data.current_user_id() END;
END
$$;

COMMENT ON FUNCTION train_data.template_performance(interval, integer) IS
    'Per template, over the conversations visible to the caller: usage, average quality, approval rate, performance level, trend, and conversations with defect verdicts';
