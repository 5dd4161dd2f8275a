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
    created_by             uuid NOT NULL DEFAULT train_data.current_user_id(),
    CONSTRAINT conversations_conversation_id_unique UNIQUE (conversation_id),
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

-- The policies filter on created_by OR approved_by: one index for each side.
CREATE INDEX conversations_created_by_idx ON train_data.conversations (created_by, created_at DESC);
CREATE INDEX conversations_approved_by_idx ON train_data.conversations (approved_by) WHERE approved_by IS NOT NULL;
-- Review queue: pending conversations, lowest quality and oldest first.
CREATE INDEX conversations_review_queue_idx ON train_data.conversations (quality_score, created_at)
    WHERE status = 'pending_review';
-- Export of approved conversations in a stable order.
CREATE INDEX conversations_approved_idx ON train_data.conversations (created_at, id)
    WHERE status = 'approved';
CREATE INDEX conversations_status_tier_idx ON train_data.conversations (status, tier);
CREATE INDEX conversations_parent_idx ON train_data.conversations (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX conversations_template_idx ON train_data.conversations (template_id) WHERE template_id IS NOT NULL;
CREATE INDEX conversations_category_idx ON train_data.conversations USING gin (category);
-- Row-level security on conversation_turns and generation_logs looks their
-- conversation up by id once per row and compares its created_by and
-- approved_by with the user: with both in the index the lookup never visits
-- the table.
CREATE INDEX conversations_visibility_idx ON train_data.conversations (id) INCLUDE (created_by, approved_by);

CREATE TRIGGER conversations_default_id
    BEFORE INSERT ON train_data.conversations
    FOR EACH ROW WHEN (NEW.conversation_id IS NULL)
    EXECUTE FUNCTION train_data.conversations_default_id();

CREATE TABLE train_data.conversation_turns (
    id              uuid PRIMARY KEY DEFAULT train_data.uuid_v7(),
    conversation_id uuid NOT NULL REFERENCES train_data.conversations (id) ON DELETE CASCADE,
    turn_number     integer NOT NULL,
    role            text NOT NULL,
    content         text NOT NULL,
    token_count     integer,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- also the index that reads a conversation's turns in order
    CONSTRAINT unique_conversation_turn UNIQUE (conversation_id, turn_number),
    CONSTRAINT conversation_turns_turn_number_positive CHECK (turn_number >= 1),
    CONSTRAINT conversation_turns_role_valid CHECK (role IN ('user', 'assistant')),
    CONSTRAINT conversation_turns_token_count_nonnegative CHECK (token_count >= 0)
);
