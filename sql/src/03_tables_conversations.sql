-- sql/src/03_tables_conversations.sql — conversations and their turns.

--------------------------------------------------------------------------------
-- 4. Conversations and turns
--------------------------------------------------------------------------------

CREATE TABLE train_data.conversations (
    id                     uuid PRIMARY KEY DEFAULT train_data.uuid_v7(),
    conversation_id        text NOT NULL,
    document_id            uuid,
    chunk_id               uuid,
    title                  text NOT NULL,
    persona                text NOT NULL,
    emotion                text NOT NULL,
    topic                  text,
    intent                 text,
    tone                   text,
    tier                   train_data.tier_type NOT NULL,
    category               text[] NOT NULL DEFAULT '{}',
    status                 train_data.conversation_status NOT NULL DEFAULT 'draft',
    quality_score          numeric(3,1),
    quality_metrics        jsonb,
    turn_count             integer NOT NULL DEFAULT 0,
    total_tokens           integer NOT NULL DEFAULT 0,
    estimated_cost_usd     numeric(12,6),
    actual_cost_usd        numeric(12,6),
    generation_duration_ms integer,
    template_id            uuid,
    approved_by            uuid,
    approved_at            timestamptz,
    reviewer_notes         text,
    review_history         jsonb NOT NULL DEFAULT '[]',
    parent_id              uuid,
    parent_type            text,
    parameters             jsonb NOT NULL DEFAULT '{}',
    error_message          text,
    created_at             timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at             timestamptz NOT NULL DEFAULT pg_catalog.now(),
    created_by             uuid NOT NULL DEFAULT train_data.user_id_default('train_data.conversations', true),
    -- whether quality_metrics has defect verdicts: what exports,
    -- conversation_statistics and template_performance count and filter on,
    -- without reading the metrics document
    has_defects            boolean GENERATED ALWAYS AS (train_data.metrics_have_defects(quality_metrics)) STORED,
    -- readable ids are unique per owner: one user's ids never collide with,
    -- or reveal, another's
    CONSTRAINT conversations_conversation_id_unique UNIQUE (created_by, conversation_id),
    CONSTRAINT conversations_conversation_id_length CHECK (pg_catalog.char_length(conversation_id) <= 200),
    -- the key children reference, so a child's owner is its parent's
    CONSTRAINT conversations_id_owner_unique UNIQUE (id, created_by),
    CONSTRAINT valid_quality_score CHECK (quality_score IS NULL OR quality_score BETWEEN 0 AND 10),
    CONSTRAINT conversations_quality_metrics_is_object CHECK (quality_metrics IS NULL OR pg_catalog.jsonb_typeof(quality_metrics) = 'object'),
    CONSTRAINT conversations_turn_count_nonnegative CHECK (turn_count >= 0),
    CONSTRAINT conversations_total_tokens_nonnegative CHECK (total_tokens >= 0),
    CONSTRAINT conversations_costs_nonnegative CHECK (estimated_cost_usd >= 0 AND actual_cost_usd >= 0),
    CONSTRAINT conversations_duration_nonnegative CHECK (generation_duration_ms >= 0),
    CONSTRAINT conversations_review_history_is_array CHECK (pg_catalog.jsonb_typeof(review_history) = 'array'),
    CONSTRAINT conversations_parameters_is_object CHECK (pg_catalog.jsonb_typeof(parameters) = 'object'),
    CONSTRAINT conversations_parent_type_valid CHECK (parent_type IN ('template', 'scenario', 'conversation')),
    CONSTRAINT conversations_parent_complete CHECK ((parent_id IS NULL) = (parent_type IS NULL)),
    CONSTRAINT conversations_approval_complete CHECK (approved_at IS NULL OR approved_by IS NOT NULL)
);

COMMENT ON TABLE train_data.conversations IS 'Generated training conversations, seen and changed only by their owner (created_by)';
COMMENT ON COLUMN train_data.conversations.id IS 'Conversation id, time-ordered (uuid_v7())';
COMMENT ON COLUMN train_data.conversations.conversation_id IS 'Readable id <tier prefix>_<persona slug>_<number>, unique per owner, filled by make_conversation_id() when not given';
COMMENT ON COLUMN train_data.conversations.document_id IS 'Source document in the application (no foreign key)';
COMMENT ON COLUMN train_data.conversations.chunk_id IS 'Source chunk of the document in the application (no foreign key)';
COMMENT ON COLUMN train_data.conversations.title IS 'Title: the response''s, else <persona> - <topic> (<emotion>)';
COMMENT ON COLUMN train_data.conversations.persona IS 'Persona of the user in the conversation, from the generation parameters (Unknown when none)';
COMMENT ON COLUMN train_data.conversations.emotion IS 'Emotion of the user, from the generation parameters (Neutral when none)';
COMMENT ON COLUMN train_data.conversations.topic IS 'Topic, from the batch item or the generation parameters';
COMMENT ON COLUMN train_data.conversations.intent IS 'Intent, from the generation parameters';
COMMENT ON COLUMN train_data.conversations.tone IS 'Tone, from the generation parameters';
COMMENT ON COLUMN train_data.conversations.tier IS 'Tier of the prompt the conversation was generated from';
COMMENT ON COLUMN train_data.conversations.category IS 'Categories, from the generation parameters; export filters match any of them';
COMMENT ON COLUMN train_data.conversations.status IS 'Life-cycle state; every change follows conversation_transition_allowed()';
COMMENT ON COLUMN train_data.conversations.quality_score IS 'Overall quality score 0-10 (quality_metrics ->> ''overall'')';
COMMENT ON COLUMN train_data.conversations.quality_metrics IS 'The object quality_metrics() returned for the turns';
COMMENT ON COLUMN train_data.conversations.turn_count IS 'Number of turns';
COMMENT ON COLUMN train_data.conversations.total_tokens IS 'Input plus output tokens of the model call that generated it';
COMMENT ON COLUMN train_data.conversations.estimated_cost_usd IS 'Estimated cost in USD, set by the application';
COMMENT ON COLUMN train_data.conversations.actual_cost_usd IS 'Cost of the model call in USD: its tokens at model_price(answered, asked), the prompt cache''s at its prices; NULL for a model with no known price or a response without usage';
COMMENT ON COLUMN train_data.conversations.generation_duration_ms IS 'Duration of the model call in milliseconds, as the worker reported it';
COMMENT ON COLUMN train_data.conversations.template_id IS 'Template it was generated from (no foreign key: the conversation outlives the template)';
COMMENT ON COLUMN train_data.conversations.approved_by IS 'User who approved it: always the owner, written by review_conversation() (grants no visibility)';
COMMENT ON COLUMN train_data.conversations.approved_at IS 'When it was approved';
COMMENT ON COLUMN train_data.conversations.reviewer_notes IS 'Comment of the latest review that had one';
COMMENT ON COLUMN train_data.conversations.review_history IS 'Review actions, oldest first: JSON array of {id, action, performedBy, timestamp, comment, reasons} (append_review_action())';
COMMENT ON COLUMN train_data.conversations.parent_id IS 'What the conversation was made from, in the table parent_type names (no foreign key); set together with parent_type';
COMMENT ON COLUMN train_data.conversations.parent_type IS 'template, scenario or conversation (a regeneration); set together with parent_id';
COMMENT ON COLUMN train_data.conversations.parameters IS 'Generation parameters, with the template defaults applied';
COMMENT ON COLUMN train_data.conversations.error_message IS 'Why generation failed, for a failed conversation';
COMMENT ON COLUMN train_data.conversations.created_at IS 'When the conversation was created';
COMMENT ON COLUMN train_data.conversations.updated_at IS 'Set to now() on every update (touch_timestamps trigger)';
COMMENT ON COLUMN train_data.conversations.has_defects IS 'Whether quality_metrics lists defect verdicts (generated from quality_metrics -> ''defects'')';
COMMENT ON COLUMN train_data.conversations.created_by IS 'Owner: the batch owner for generated conversations; sees and changes the conversation';

-- The policy filters on created_by.
CREATE INDEX conversations_created_by_idx ON train_data.conversations (created_by, created_at DESC);
CREATE INDEX conversations_approved_by_idx ON train_data.conversations (approved_by) WHERE approved_by IS NOT NULL;
-- Review queue: a user's pending conversations, lowest quality and oldest
-- first (led by the owner, so that a user's queue reads her rows only, not
-- every user's pending ones filtered by the policy).
CREATE INDEX conversations_review_queue_idx ON train_data.conversations (created_by, quality_score, created_at)
    WHERE status = 'pending_review';
-- Export of approved conversations in a stable order.
CREATE INDEX conversations_approved_idx ON train_data.conversations (created_at, id)
    WHERE status = 'approved';
CREATE INDEX conversations_status_tier_idx ON train_data.conversations (status, tier);
CREATE INDEX conversations_parent_idx ON train_data.conversations (parent_id) WHERE parent_id IS NOT NULL;
-- Regenerations by parent (conversation_versions walks down a chain with
-- it, a probe a version): conversation parents only, which the guard keeps
-- the writer's own, so that a step reads the caller's rows alone.  Through
-- conversations_parent_idx, a chain of 101 versions took 6.7 s beside
-- another user's 300,000 conversations of one scenario (a seq scan a step,
-- planned on statistics without the caller's rows; an adversarial review
-- of 1.2): now 2 ms.
CREATE INDEX conversations_regenerated_idx ON train_data.conversations (parent_id)
    WHERE parent_type = 'conversation';
CREATE INDEX conversations_template_idx ON train_data.conversations (template_id) WHERE template_id IS NOT NULL;
-- (GIN with a pending list of 64 kB, as the signatures' band index: the
-- list is shared by every user, so one user's inserts made another's
-- statement scan up to 4 MB of it or flush it all; found by a review of 1.2)
CREATE INDEX conversations_category_idx ON train_data.conversations USING gin (category) WITH (gin_pending_list_limit = 64);

CREATE TRIGGER conversations_default_id
    BEFORE INSERT ON train_data.conversations
    FOR EACH ROW WHEN (NEW.conversation_id IS NULL)
    EXECUTE FUNCTION train_data.conversations_default_id();

CREATE TABLE train_data.conversation_turns (
    id              uuid PRIMARY KEY DEFAULT train_data.uuid_v7(),
    conversation_id uuid NOT NULL,
    turn_number     integer NOT NULL,
    role            text NOT NULL,
    content         text NOT NULL,
    token_count     integer,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- the owner of the conversation (the composite key below makes it so)
    created_by      uuid NOT NULL DEFAULT train_data.user_id_default('train_data.conversation_turns', false),
    CONSTRAINT conversation_turns_conversation_fk FOREIGN KEY (conversation_id, created_by)
        REFERENCES train_data.conversations (id, created_by) ON DELETE CASCADE,
    -- also the index that reads a conversation's turns in order.  The owner
    -- is in the key, so that another user's row never meets it: his turn
    -- aimed at this conversation fails its foreign key (23503, as for an id
    -- that does not exist) instead of 23505 telling which turn numbers it
    -- has, and his uncommitted insert makes no insert of the owner's wait.
    -- (With the composite key, a conversation's turns all have its owner:
    -- the numbers are unique per conversation as before.)
    CONSTRAINT unique_conversation_turn UNIQUE (conversation_id, turn_number, created_by),
    CONSTRAINT conversation_turns_turn_number_positive CHECK (turn_number >= 1),
    CONSTRAINT conversation_turns_role_valid CHECK (role IN ('user', 'assistant')),
    CONSTRAINT conversation_turns_token_count_nonnegative CHECK (token_count >= 0)
);

CREATE TRIGGER conversation_turns_owner
    BEFORE INSERT ON train_data.conversation_turns
    FOR EACH ROW WHEN (NEW.created_by IS NULL)
    EXECUTE FUNCTION train_data.inherit_owner('conversations', 'conversation_id');

COMMENT ON TABLE train_data.conversation_turns IS 'Turns of a conversation, numbered from 1 without gaps';
COMMENT ON COLUMN train_data.conversation_turns.id IS 'Turn id, time-ordered (uuid_v7())';
COMMENT ON COLUMN train_data.conversation_turns.conversation_id IS 'Conversation the turn belongs to; deleted with it';
COMMENT ON COLUMN train_data.conversation_turns.turn_number IS 'Position in the conversation, from 1';
COMMENT ON COLUMN train_data.conversation_turns.role IS 'user or assistant';
COMMENT ON COLUMN train_data.conversation_turns.content IS 'Text of the turn';
COMMENT ON COLUMN train_data.conversation_turns.token_count IS 'Estimated tokens: characters / 4, rounded up';
COMMENT ON COLUMN train_data.conversation_turns.created_at IS 'When the turn was stored';
COMMENT ON COLUMN train_data.conversation_turns.created_by IS 'Owner: the conversation''s owner (composite foreign key to conversations)';
