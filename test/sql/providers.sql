-- providers: an AI configuration names its provider (anthropic, the default,
-- or openai: Chat Completions and OpenAI-compatible servers) and an optional
-- base URL; the claim hands out both with the request; the parser reads
-- Chat Completions responses (usage, finish_reason "length" as a truncation,
-- error objects); costs of any model come from model_prices; a worker hands
-- an item back with release_batch_item without counting the attempt.

\set alice '''aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'''
\set bob '''bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'''
\set chat_ok '{"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini-2024-07-18", "choices": [{"index": 0, "message": {"role": "assistant", "content": "```json\\n{\\"title\\": \\"Rent or buy\\", \\"turns\\": [{\\"role\\": \\"user\\", \\"content\\": \\"Should I buy now?\\"}, {\\"role\\": \\"assistant\\", \\"content\\": \\"Compare the rent with the full cost of owning.\\"}]}\\n```", "refusal": null}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1000, "completion_tokens": 2000, "total_tokens": 3000}}'
\set chat_length '{"object": "chat.completion", "model": "gpt-4o-mini", "choices": [{"index": 0, "message": {"role": "assistant", "content": "user: a\\nassistant: b"}, "finish_reason": "length"}], "usage": {"prompt_tokens": 10, "completion_tokens": 2000}}'
\set chat_bad_json '{"object": "chat.completion", "model": "gpt-4o-mini", "choices": [{"index": 0, "message": {"role": "assistant", "content": "{\\"turns\\": [{\\"role\\": \\"user\\",}"}, "finish_reason": "stop"}]}'
\set chat_error '{"error": {"message": "Rate limit reached for gpt-4o-mini", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}'

------------------------------------------------------------ configuration
-- Existing configurations have no provider: they are anthropic, with the
-- official endpoint (baseUrl null).
SELECT c ->> 'provider' AS provider, c -> 'baseUrl' AS base_url
FROM train_data.validate_ai_config('{"temperature": 0.3}') c;
SELECT c ->> 'provider' AS provider, c ->> 'baseUrl' AS base_url
FROM train_data.validate_ai_config('{"provider": "anthropic", "baseUrl": "https://gateway.example.com"}') c;
-- OpenAI-compatible servers: any http(s) host with a port and a path; IPv6 too.
SELECT u AS accepted_base_url
FROM unnest(ARRAY['http://localhost:8000/v1', 'https://[::1]:11434/v1/', 'HTTPS://api.openai.com/v1',
                  'http://vllm.internal']) u
WHERE train_data.validate_ai_config(jsonb_build_object('provider', 'openai', 'model', 'claude-haiku',
                                                       'baseUrl', u)) IS NOT NULL;

-- What is refused, and why.  A URL that may hold a secret is not quoted.
SELECT v AS config, expect_error(format('SELECT train_data.validate_ai_config(%L)', v), true) AS error
FROM unnest(ARRAY[
    '{"provider": "gemini"}',
    '{"provider": null}',
    '{"provider": ["openai"]}',
    '{"baseUrl": 8000}',
    '{"baseUrl": "localhost:8000/v1"}',
    '{"baseUrl": "ftp://files.example.com/v1"}',
    '{"baseUrl": "https://"}',
    '{"baseUrl": "https:///v1"}',
    '{"baseUrl": "https://api.example.com/v 1"}',
    '{"baseUrl": "https://user:sk-secret@api.example.com/v1"}',
    '{"baseUrl": "https://sk-secret@api.example.com"}',
    '{"baseUrl": "https://api.example.com/v1?api_key=sk-secret"}',
    '{"baseUrl": "https://api.example.com/v1#part"}',
    '{"base_url": "https://api.example.com"}']::text[]) v;
SELECT expect_error(format('SELECT train_data.validate_ai_config(%L)',
                           jsonb_build_object('baseUrl', 'https://h.example.com/' || repeat('a', 2030))), true);
-- An OpenAI model needs its price row; the hint says so.
\set VERBOSITY verbose
SELECT train_data.validate_ai_config('{"provider": "openai", "model": "gpt-4o-mini"}');
\set VERBOSITY default

-- Built-in prices are Claude's only (families); an administrator adds the
-- rows of other models (0 for a model that costs nothing).  Test prices:
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok) VALUES
    ('gpt-4o-mini', 0.15, 0.60), ('local-llama', 0, 0);
SELECT train_data.model_cost('gpt-4o-mini', 1000, 2000) AS gpt_cost,
       train_data.model_cost('local-llama', 1000, 2000) AS local_cost,
       train_data.model_cost('gpt-4o-mini-2024-07-18', 1000, 2000) AS dated_id_without_row;
SELECT c ->> 'provider' AS provider, c ->> 'model' AS model
FROM train_data.validate_ai_config('{"provider": "openai", "model": "gpt-4o-mini"}') c;

-- The request a user builds follows the provider: an OpenAI system prompt is
-- the first message, an Anthropic one the top-level "system".
SET ROLE regress_alice;
SET train_data.user_id = :alice;
INSERT INTO train_data.templates (id, name, category, structure, variables, tier) VALUES
    ('c1000000-0000-0000-0000-00000000000a', 'Provider template', 'finance', 'Talk with {{persona}}.',
     '[{"name": "persona", "type": "text"}]', 'template');
SELECT train_data.build_generation_request('c1000000-0000-0000-0000-00000000000a', '{"persona": "Ann"}', 'Be brief.',
                                           '{"provider": "openai", "model": "gpt-4o-mini", "maxTokens": 100}') AS openai_request;
SELECT train_data.build_generation_request('c1000000-0000-0000-0000-00000000000a', '{"persona": "Ann"}', 'Be brief.',
                                           '{"maxTokens": 100}') AS anthropic_request;
SELECT train_data.build_generation_request('c1000000-0000-0000-0000-00000000000a', '{"persona": "Ann"}', NULL,
                                           '{"provider": "openai", "model": "gpt-4o-mini", "maxTokens": 100}') AS openai_without_system;

-------------------------------------------------------------------- claims
-- Alice keeps a configuration of before (no provider); Bob uses an
-- OpenAI-compatible server.
INSERT INTO train_data.ai_configurations (config_name, configuration) VALUES ('old', '{"temperature": 0.3}');
SELECT train_data.create_batch('alice batch', '[{"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "Ann"}},
                                               {"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "Al"}}]',
                               '{}', 2) AS alice_job \gset
SET ROLE regress_bob;
SET train_data.user_id = :bob;
INSERT INTO train_data.templates (id, name, category, structure, variables, tier) VALUES
    ('c1000000-0000-0000-0000-00000000000b', 'Provider template', 'finance', 'Ask {{persona}} about rent.',
     '[{"name": "persona", "type": "text"}]', 'template');
INSERT INTO train_data.ai_configurations (config_name, configuration)
VALUES ('local', '{"provider": "openai", "baseUrl": "http://localhost:8000/v1", "model": "gpt-4o-mini", "maxTokens": 2000}');
SELECT train_data.create_batch('bob batch', '[{"template_id": "c1000000-0000-0000-0000-00000000000b", "parameters": {"persona": "Bo"}},
                                             {"template_id": "c1000000-0000-0000-0000-00000000000b", "parameters": {"persona": "Bea"}}]',
                               '{}', 2) AS bob_job \gset

-- Every claimed row carries the provider and base URL of its owner's
-- configuration; the request body is the same shape for both.
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT "position", attempt, provider, base_url, request, prompt
FROM train_data.claim_batch_items('w1', 4)
ORDER BY provider, "position";
SELECT p.proname, pg_catalog.pg_get_function_result(p.oid) AS result
FROM pg_catalog.pg_proc p
WHERE p.pronamespace = 'train_data'::regnamespace
  AND p.proname IN ('claim_batch_items')
ORDER BY 1;

----------------------------------------------------------- OpenAI responses
-- The parser reads a Chat Completions response: content of the first
-- choice, usage prompt/completion tokens, finish_reason.
SELECT train_data.parse_generation_response(:'chat_ok') AS parsed;
SELECT expect_error($$SELECT train_data.parse_generation_response($$ || quote_literal(:'chat_length') || $$)$$, true) AS length_finish;
SELECT expect_error($$SELECT train_data.parse_generation_response($$ || quote_literal(:'chat_bad_json') || $$)$$, true) AS malformed_json;
SELECT expect_error($$SELECT train_data.parse_generation_response($$ || quote_literal(:'chat_error') || $$)$$, true) AS error_object;
SELECT expect_error($$SELECT train_data.parse_generation_response('{"object": "error", "message": "The model `x` does not exist.", "type": "NotFoundError", "param": null, "code": 404}')$$, true) AS compatible_server_error;
SELECT expect_error($$SELECT train_data.parse_generation_response('{"choices": [{"message": {"role": "assistant", "content": null, "refusal": "I cannot help with that."}, "finish_reason": "stop"}]}')$$, true) AS refusal;

-- Bob's items: a length finish is a truncation, handled as Anthropic's
-- max_tokens (the item is queued again, error 22001), its log holding the
-- response and the tokens and cost it was billed (a review of the
-- thirty-sixth session: 0 tokens, no cost and no response before); a good
-- answer is stored with its tokens and its cost from model_prices (the
-- answer names a dated model id without a price row: the price of the
-- model asked for).
RESET ROLE;
SELECT i.id AS bob_item1, i.attempts AS bob_attempt1 FROM train_data.batch_items i
WHERE i.batch_job_id = :'bob_job' AND i.position = 1 \gset
SELECT i.id AS bob_item2, i.attempts AS bob_attempt2 FROM train_data.batch_items i
WHERE i.batch_job_id = :'bob_job' AND i.position = 2 \gset
SET ROLE regress_worker;
SET client_min_messages = error;   -- the warning names the (random) item id
SELECT train_data.complete_batch_item(:'bob_item1', :'chat_length', 1200, :bob_attempt1) AS truncated_result;
RESET client_min_messages;
SELECT train_data.complete_batch_item(:'bob_item2', :'chat_ok', 2500, :bob_attempt2) IS NOT NULL AS completed;
RESET ROLE;
SELECT i.position, i.status, i.attempts, i.error_code, i.error_message
FROM train_data.batch_items i WHERE i.batch_job_id = :'bob_job' ORDER BY i.position;
SELECT c.title, c.total_tokens, c.actual_cost_usd, c.created_by = :bob AS bobs
FROM train_data.conversations c JOIN train_data.batch_items i ON i.conversation_id = c.id
WHERE i.id = :'bob_item2';
SELECT l.status, l.model_used, l.input_tokens, l.output_tokens, l.cost_usd, l.error_code,
       l.response_payload = :'chat_length'::jsonb AS response_kept, l.duration_ms
FROM train_data.generation_logs l WHERE l.batch_item_id IN (:'bob_item1', :'bob_item2')
ORDER BY l.created_at, l.status;

--------------------------------------------------------------- hand-back
SELECT i.id AS alice_item1, i.attempts AS alice_attempt1 FROM train_data.batch_items i
WHERE i.batch_job_id = :'alice_job' AND i.position = 1 \gset
SELECT i.id AS alice_item2 FROM train_data.batch_items i
WHERE i.batch_job_id = :'alice_job' AND i.position = 2 \gset

-- Users cannot hand items back (only worker roles are granted it).
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error(format('SELECT train_data.release_batch_item(%L, 1)', :'alice_item1'));
RESET train_data.user_id;

-- Fenced by the attempt, like completion and failure.
SET ROLE regress_worker;
SELECT expect_error(format('SELECT train_data.release_batch_item(%L, 2)', :'alice_item1'), false, true);
-- The hand-back: queued again, available now, the attempt not counted.
SELECT train_data.release_batch_item(:'alice_item1', :alice_attempt1) AS released;
RESET ROLE;
SELECT i.position, i.status, i.attempts, i.worker, i.lease_expires_at IS NOT NULL AS leased,
       i.available_at <= now() AS available_now
FROM train_data.batch_items i WHERE i.batch_job_id = :'alice_job' ORDER BY i.position;
SELECT sum(c.in_flight) AS in_flight FROM train_data.batch_job_counters c WHERE c.batch_job_id = :'alice_job';
SELECT count(*) AS logs_of_the_released_item FROM train_data.generation_logs l WHERE l.batch_item_id = :'alice_item1';
-- Released twice: it is not in flight any more.
SET ROLE regress_worker;
SELECT expect_error(format('SELECT train_data.release_batch_item(%L, 1)', :'alice_item1'), false, true);
SELECT expect_error(format('SELECT train_data.release_batch_item(%L)', :'alice_item1'), false, true);
-- The next claim takes it with a new lease token, attempt 2, though its
-- attempts spent are still 1: the releasing worker's late calls, with token
-- 1, are refused while w2 holds it (the token repeated before, and a late
-- completion of the releaser was stored under w2's claim).
SELECT "position", attempt, provider, base_url FROM train_data.claim_batch_items('w2', 1);
SELECT expect_error(format('SELECT train_data.heartbeat_batch_item(%L, 10, attempt => 1)', :'alice_item1'), false, true);
SELECT expect_error(format($$SELECT train_data.complete_batch_item(%L, '{"turns": []}', 5, 1)$$, :'alice_item1'), false, true);
SELECT expect_error(format('SELECT train_data.fail_batch_item(%L, %L, %L, true, 1)', :'alice_item1', 'late', 'x'), false, true);
SELECT outcome, error_code FROM train_data.complete_batch_items(
    jsonb_build_array(jsonb_build_object('item_id', :'alice_item1', 'attempt', 1, 'response', '{"turns": []}'::jsonb)));
RESET ROLE;
SELECT i.status, i.worker, i.attempts, i.released FROM train_data.batch_items i WHERE i.id = :'alice_item1';
-- (without the attempt, a release is accepted too)
SET ROLE regress_worker;
SELECT train_data.release_batch_item(:'alice_item1') AS released_without_attempt;
RESET ROLE;
SELECT i.status, i.attempts, i.released FROM train_data.batch_items i WHERE i.id = :'alice_item1';
-- The released counter is train_data's, like attempts.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error(format('UPDATE train_data.batch_items SET released = 0 WHERE id = %L', :'alice_item1'), false, true);
SELECT expect_error(format($$INSERT INTO train_data.batch_items (batch_job_id, position, tier, released)
                             VALUES (%L, 99, 'template', 1)$$, :'alice_job'), false, true);
RESET train_data.user_id;
RESET ROLE;

-- A cancelled item cannot be handed back.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT (train_data.cancel_batch(:'alice_job')).status AS alice_job;
SET ROLE regress_bob;
SET train_data.user_id = :bob;
SELECT (train_data.cancel_batch(:'bob_job')).status AS bob_job;
RESET ROLE;
SELECT i.position, i.status FROM train_data.batch_items i WHERE i.batch_job_id = :'alice_job' ORDER BY i.position;
SET ROLE regress_worker;
SELECT expect_error(format('SELECT train_data.release_batch_item(%L, 1)', :'alice_item2'), false, true);

-- An item in flight of a job that has ended (failed by error_handling
-- 'stop') is cancelled, not queued: nothing would claim it again.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT train_data.create_batch('stop batch', '[{"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "S1"}},
                                              {"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "S2"}}]',
                               '{}', 2, 'stop') AS stop_job \gset
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT "position", attempt FROM train_data.claim_batch_items('w3', 2) ORDER BY "position";
RESET ROLE;
SELECT i.id AS stop_item1 FROM train_data.batch_items i WHERE i.batch_job_id = :'stop_job' AND i.position = 1 \gset
SELECT i.id AS stop_item2 FROM train_data.batch_items i WHERE i.batch_job_id = :'stop_job' AND i.position = 2 \gset
SET ROLE regress_worker;
SELECT train_data.fail_batch_item(:'stop_item1', 'bad request', '400', false, 1) AS first_failed;
SELECT train_data.release_batch_item(:'stop_item2', 1) AS released_of_ended_job;
RESET ROLE;
SELECT j.status, j.completed_items, j.failed_items, j.cancelled_items FROM train_data.batch_jobs j WHERE j.id = :'stop_job';
SELECT i.position, i.status, i.attempts FROM train_data.batch_items i WHERE i.batch_job_id = :'stop_job' ORDER BY i.position;
SELECT sum(c.in_flight) AS in_flight, sum(c.cancelled_items) AS cancelled FROM train_data.batch_job_counters c
WHERE c.batch_job_id = :'stop_job';

---------------------------------------------------------------- prices
-- The Claude generation an id names (model_generation), in the forms of
-- Anthropic's API (dated ids and aliases, Claude 3's order), Bedrock,
-- Vertex AI and OpenRouter; a date is no version, and an id without a
-- family or a version has none.  A generation with a built-in row of its
-- own is billed at it; a newer one, unknown to the built-in rows, at its
-- family's (the newest generation's price); a review of 1.2: every Haiku
-- was billed as Claude Haiku 3, a quarter of Haiku 4.5's price, and every
-- Opus as Opus 4.1, three times Opus 4.5's.  Costs of one million input
-- and one million output tokens:
SELECT m, train_data.model_generation(m) AS generation, (train_data.model_price(m)).model_id AS price_row,
       train_data.model_cost(m, 1000000, 1000000) AS cost
FROM unnest(ARRAY['claude-3-haiku-20240307', 'claude-3-5-haiku-20241022', 'claude-3-5-haiku-latest',
                  'claude-haiku-4-5-20251001', 'claude-haiku-5-5', 'claude-3-opus-20240229', 'claude-opus-4-20250514',
                  'claude-opus-4-0', 'claude-opus-4-1', 'claude-opus-4-1-20250805', 'claude-opus-4-5-20251101',
                  'claude-opus-5-5', 'claude-sonnet-4-20250514', 'claude-3-7-sonnet-20250219',
                  'anthropic.claude-3-5-haiku-20241022-v1:0', 'us.anthropic.claude-opus-4-1-20250805-v1:0',
                  'claude-3-5-haiku@20241022', 'claude-opus-4-1@20250805', 'anthropic/claude-3.5-haiku',
                  'anthropic/claude-opus-4.1', 'CLAUDE-3-HAIKU', 'claude-haiku', 'claude-opus-20250514',
                  'claude-mythos-5', 'claude-2.1', 'gpt-4o-mini']) WITH ORDINALITY AS t(m, ord)
ORDER BY ord;
-- A call answered by a model whose id names a generation is priced as
-- that generation, its family's row when it has none of its own (the
-- newest's price), before the generation of the model asked for: a
-- gateway answering claude-opus-4-1 with Opus 4.5 (a review of 1.2: billed
-- Opus 4.1's price, three times Opus 4.5's).  An answered id naming no
-- generation leaves it to the model asked for.
SELECT a AS answered, q AS asked, (train_data.model_price(a, q)).model_id
FROM (VALUES ('claude-opus-4-5-20251101', 'claude-opus-4-1'), ('claude-haiku-4-5-20251001', 'claude-3-5-haiku-latest'),
             ('claude-3-5-haiku-20241022', 'claude-haiku-4-5'), ('anthropic/claude-haiku', 'claude-3-5-haiku-latest'),
             ('gateway-default', 'claude-opus-4-1'), ('claude-opus', 'claude-3-opus-20240229')) v(a, q);
-- The built-in rows, as the extension installs them:
SELECT model_id, input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok, cache_write_usd_per_mtok
FROM train_data.model_prices WHERE builtin ORDER BY model_id;
-- A call is billed at the exact price row of the model that answered, else
-- of the one asked for, before either's family: Anthropic answers the alias
-- claude-haiku-4-5 with the dated id claude-haiku-4-5-20251001, which
-- falls back to the family row claude-haiku; the administrator's row for
-- the alias prices it (a review of 1.2: the family priced it, then a
-- quarter of the bill).  A response that reports
-- no usage has no cost (it was 0, as a free model's), and a model that only
-- looks like a Claude family is no family (the configuration needs a row).
-- The prompt cache's tokens are among the input tokens (Anthropic reports
-- them apart), priced at the row's cache prices, on success and on failure
-- alike (a review of 1.2: they were dropped, 2 % of the bill recorded).
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok, cache_read_usd_per_mtok,
                                     cache_write_usd_per_mtok)
VALUES ('claude-haiku-4-5', 1, 5, 0.1, 1.25);
SELECT m, (train_data.model_price(m)).model_id
FROM unnest(ARRAY['claude-haiku-4-5', 'claude-haiku-4-5-20251001', 'anthropic.claude-3-haiku-20240307-v1:0',
                  'NexaAIDev/Octopus-v2', 'haiku-poet-7b', 'sonnet-writer']) m ORDER BY m;
-- A Claude model's row without cache prices takes its family's ratios to
-- the input price (0.1 and 1.25); another model's prices the cache at its
-- input price (NULL).
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok) VALUES
    ('claude-sonnet-4-5', 3.5, 17), ('open-model', 0.5, 1);
SELECT p.model_id, p.input_usd_per_mtok, p.cache_read_usd_per_mtok, p.cache_write_usd_per_mtok
FROM unnest(ARRAY['claude-sonnet-4-5', 'open-model', 'claude-haiku-4-5', 'claude-opus-4']) m,
     LATERAL train_data.model_price(m) p ORDER BY m;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error($$SELECT train_data.validate_ai_config('{"provider": "openai", "model": "NexaAIDev/Octopus-v2"}')$$, true)
    AS lookalike_needs_a_row;
UPDATE train_data.ai_configurations SET configuration = '{"model": "claude-haiku-4-5", "maxTokens": 500}'
WHERE config_name = 'old';
SELECT train_data.create_batch('priced batch', '[{"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "P1"}},
                                               {"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "P2"}},
                                               {"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "P3"}},
                                               {"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "P4"}}]',
                               '{}', 4) AS priced_job \gset
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT "position", attempt, request ->> 'model' AS asked FROM train_data.claim_batch_items('w4', 4) ORDER BY "position";
RESET ROLE;
SELECT i.id AS priced_item1 FROM train_data.batch_items i WHERE i.batch_job_id = :'priced_job' AND i.position = 1 \gset
SELECT i.id AS priced_item2 FROM train_data.batch_items i WHERE i.batch_job_id = :'priced_job' AND i.position = 2 \gset
SELECT i.id AS priced_item3 FROM train_data.batch_items i WHERE i.batch_job_id = :'priced_job' AND i.position = 3 \gset
SELECT i.id AS priced_item4 FROM train_data.batch_items i WHERE i.batch_job_id = :'priced_job' AND i.position = 4 \gset
SET ROLE regress_worker;
SELECT train_data.complete_batch_item(:'priced_item1', '{"type": "message", "model": "claude-haiku-4-5-20251001", "stop_reason": "end_turn",
    "usage": {"input_tokens": 1000, "output_tokens": 2000},
    "content": [{"type": "text", "text": "{\"title\": \"Rent\", \"turns\": [{\"role\": \"user\", \"content\": \"Is my rent too high?\"}, {\"role\": \"assistant\", \"content\": \"Compare it with a third of what you earn after tax.\"}]}"}]}',
    700, 1) IS NOT NULL AS priced;
SELECT train_data.complete_batch_item(:'priced_item2', '{"type": "message", "model": "claude-haiku-4-5-20251001", "stop_reason": "end_turn",
    "content": [{"type": "text", "text": "{\"title\": \"Rent\", \"turns\": [{\"role\": \"user\", \"content\": \"Should I rent or buy?\"}, {\"role\": \"assistant\", \"content\": \"Rent while you expect to move within five years.\"}]}"}]}',
    700, 1) IS NOT NULL AS without_usage;
SELECT train_data.complete_batch_item(:'priced_item3', '{"type": "message", "model": "claude-haiku-4-5-20251001", "stop_reason": "end_turn",
    "usage": {"input_tokens": 100, "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 10000, "output_tokens": 500},
    "content": [{"type": "text", "text": "{\"title\": \"Rent\", \"turns\": [{\"role\": \"user\", \"content\": \"Can I split the rent?\"}, {\"role\": \"assistant\", \"content\": \"Split it by the size of each room.\"}]}"}]}',
    700, 1) IS NOT NULL AS cached;
SET client_min_messages = error;   -- the warning names the (random) item id
SELECT train_data.complete_batch_item(:'priced_item4', '{"type": "message", "model": "claude-haiku-4-5-20251001", "stop_reason": "max_tokens",
    "usage": {"input_tokens": 100, "cache_read_input_tokens": 12000, "output_tokens": 500},
    "content": [{"type": "text", "text": "{\"title\": \"Rent\", \"turns\": [{\"role\": \"user\", \"content\": \"Can I"}]}',
    700, 1) AS truncated_cached;
RESET client_min_messages;
RESET ROLE;
-- (1: 1,000 x $1 + 2,000 x $5; 3: 100 x $1 + 10,000 x $0.10 + 2,000 x
-- $1.25 + 500 x $5; 4: 100 x $1 + 12,000 x $0.10 + 500 x $5, per million)
SELECT i.position, l.status, l.model_used, l.input_tokens, l.cache_read_tokens, l.cache_write_tokens, l.output_tokens,
       l.cost_usd, c.total_tokens, c.actual_cost_usd
FROM train_data.batch_items i
JOIN train_data.generation_logs l ON l.batch_item_id = i.id
LEFT JOIN train_data.conversations c ON c.id = l.conversation_id
WHERE i.batch_job_id = :'priced_job' ORDER BY i.position;
-- (the job ends here: its item 4, queued again with a backoff of about a
-- second, would be the next claim's on a machine slow enough to pass it)
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT status FROM train_data.cancel_batch(:'priced_job');
RESET ROLE;
RESET train_data.user_id;
-- A Chat Completions response's cached tokens are among its prompt tokens
-- (at most all of them), its reasoning tokens among its completion tokens.
SELECT train_data.parse_generation_response('{"model": "gpt-4o-mini-2024-07-18", "choices": [{"message": {"content": "user: a\nassistant: b"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "prompt_tokens_details": {"cached_tokens": 900},
              "completion_tokens_details": {"reasoning_tokens": 40}}}') - 'turns' - 'title' AS chat_usage;
-- What a failure's and a discarded answer's log rows read from a response
-- (response_cost): the counts, and the cost at the answering model's price
-- (else the asked model's); no cost without tokens, and none past what a
-- log's cost holds, whatever a site's price.
BEGIN;
INSERT INTO train_data.model_prices (model_id, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('costly-model', 999999.9999, 999999.9999), ('half-million-model', 500000, 500000);
SELECT r.* FROM (VALUES
    (1, '{"model": "claude-haiku-4-5-20251001", "usage": {"input_tokens": 1000, "output_tokens": 2000}}'::jsonb, 'claude-opus-4-5'),
    (2, '{"usage": {"input_tokens": 1000, "output_tokens": 2000}}', 'claude-opus-4-5'),
    (3, '{"model": "claude-haiku-4-5", "content": []}', 'claude-opus-4-5'),
    (4, '{"model": "costly-model", "usage": {"input_tokens": 1000000, "output_tokens": 0}}', NULL),
    (5, '{"model": "costly-model", "usage": {"input_tokens": 1000001, "output_tokens": 0}}', NULL),
    (6, '{"model": "unpriced", "usage": {"input_tokens": 1, "output_tokens": 1}}', 'unpriced too'),
    -- (just under 1,000,000 USD, and 1,000,000 exactly: not held)
    (7, '{"model": "half-million-model", "usage": {"input_tokens": 1999999, "output_tokens": 0}}', NULL),
    (8, '{"model": "half-million-model", "usage": {"input_tokens": 2000000, "output_tokens": 0}}', NULL)) v(n, response, asked),
    LATERAL train_data.response_cost(v.response, v.asked) r ORDER BY v.n;
ROLLBACK;

---------------------------------------------------------------- discarded answers
-- An answer the queue refuses (the item claimed again after the worker's
-- lease ran out, or cancelled, while the model answered) was billed all
-- the same; before, nothing recorded it (a review of 1.2's cost
-- accounting).  log_discarded_response records it, once per attempt the
-- claims handed out, as its owner's 'discarded' log row with its tokens
-- and cost.
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT train_data.create_batch('discard batch', '[{"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "D1"}},
                                                {"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "D2"}}]',
                               '{}', 2) AS discard_job \gset
RESET ROLE;
SELECT i.id AS discard_item1 FROM train_data.batch_items i WHERE i.batch_job_id = :'discard_job' AND i.position = 1 \gset
SELECT i.id AS discard_item2 FROM train_data.batch_items i WHERE i.batch_job_id = :'discard_job' AND i.position = 2 \gset
SELECT '{"type": "message", "model": "claude-3-5-haiku-20241022", "stop_reason": "end_turn", "usage": {"input_tokens": 1000, "cache_read_input_tokens": 4000, "output_tokens": 2000}, "content": [{"type": "text", "text": "{\"title\": \"Late\", \"turns\": [{\"role\": \"user\", \"content\": \"Too late?\"}, {\"role\": \"assistant\", \"content\": \"Never.\"}]}"}]}' AS discard_response \gset
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT "position", attempt FROM train_data.claim_batch_items('w5', 2, '10 milliseconds') ORDER BY "position";
-- the current attempt is the queue's: refused (complete or fail it)
SELECT expect_error(format('SELECT train_data.log_discarded_response(%L, 1, %L)', :'discard_item1', :'discard_response'), false, true);
-- item 1: w5's lease runs out and w6 claims it again (attempt 2)
SELECT pg_sleep(0.05);
SELECT "position", attempt FROM train_data.claim_batch_items('w6', 1);
-- w5's answer comes: refused, then recorded as discarded (its own attempt, 1)
SELECT expect_error(format('SELECT train_data.complete_batch_item(%L, %L, 900, 1)', :'discard_item1', :'discard_response'), false, true);
SELECT train_data.log_discarded_response(:'discard_item1', 1, :'discard_response', 900) IS NOT NULL AS recorded;
-- once: a second record of attempt 1 is refused, and so are attempts no
-- claim handed out and the one w6 holds
SELECT expect_error(format('SELECT train_data.log_discarded_response(%L, 1, %L, 900)', :'discard_item1', :'discard_response'), false, true);
SELECT expect_error(format('SELECT train_data.log_discarded_response(%L, 0, %L)', :'discard_item1', :'discard_response'), false, true);
SELECT expect_error(format('SELECT train_data.log_discarded_response(%L, 3, %L)', :'discard_item1', :'discard_response'), false, true);
SELECT expect_error(format('SELECT train_data.log_discarded_response(%L, 2, %L)', :'discard_item1', :'discard_response'), false, true);
-- item 2: its owner cancels the job while the model answers
RESET ROLE;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT status FROM train_data.cancel_batch(:'discard_job');
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT expect_error(format('SELECT train_data.complete_batch_item(%L, %L, 800, 1)', :'discard_item2', :'discard_response'), false, true);
SELECT train_data.log_discarded_response(:'discard_item2', 1, :'discard_response', 800) IS NOT NULL AS recorded;
-- and w6's answer for item 1, its attempt 2, now the item is cancelled too
SELECT train_data.log_discarded_response(:'discard_item1', 2, :'discard_response', 1200) IS NOT NULL AS recorded;
-- Only an attempt that lost its call is recorded: not one whose failure
-- the queue recorded, nor one its worker gave back, each claimed again
-- since (a review of this function: the first was billed twice, and a loop
-- of claims and releases made rows without end); one whose lease ran out
-- on its last attempt, failed for good by the next claim, is.
RESET ROLE;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT train_data.create_batch('discard batch 2', '[{"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "D3"}},
                                                  {"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "D4"}},
                                                  {"template_id": "c1000000-0000-0000-0000-00000000000a", "parameters": {"persona": "D5"}}]',
                               '{}', 3) AS discard_job2 \gset
RESET ROLE;
SELECT i.id AS d3 FROM train_data.batch_items i WHERE i.batch_job_id = :'discard_job2' AND i.position = 1 \gset
SELECT i.id AS d4 FROM train_data.batch_items i WHERE i.batch_job_id = :'discard_job2' AND i.position = 2 \gset
SELECT i.id AS d5 FROM train_data.batch_items i WHERE i.batch_job_id = :'discard_job2' AND i.position = 3 \gset
UPDATE train_data.batch_items SET max_attempts = 1 WHERE id = :'d5';
SET ROLE regress_worker;
RESET train_data.user_id;
SELECT "position", attempt FROM train_data.claim_batch_items('w7', 3, '10 milliseconds') ORDER BY "position";
SELECT train_data.fail_batch_item(:'d3', 'HTTP 529: overloaded', '529', true, 1) AS d3_failed;
SELECT train_data.release_batch_item(:'d4', 1) AS d4_released;
RESET ROLE;
UPDATE train_data.batch_items SET available_at = now() WHERE id = :'d3';   -- (its backoff over)
SELECT pg_sleep(0.05);   -- D5's lease runs out
SET ROLE regress_worker;
SELECT "position", attempt FROM train_data.claim_batch_items('w8', 3) ORDER BY "position";
SELECT expect_error(format('SELECT train_data.log_discarded_response(%L, 1, %L)', :'d3', :'discard_response'), true, true);
SELECT expect_error(format('SELECT train_data.log_discarded_response(%L, 1, %L)', :'d4', :'discard_response'), true, true);
SELECT train_data.log_discarded_response(:'d5', 1, :'discard_response', 700) IS NOT NULL AS lease_lost_recorded;
RESET ROLE;
-- each attempt's row, numbered by the attempt its claim returned (minus 1),
-- and no lost attempt left to record
SELECT i.position, i.status, i.attempts, i.released, i.lost_attempts,
       (SELECT string_agg(l.status || ':' || l.retry_attempt || coalesce(':' || l.error_message, ''), ', ' ORDER BY l.created_at, l.id)
        FROM train_data.generation_logs l WHERE l.batch_item_id = i.id) AS logs
FROM train_data.batch_items i WHERE i.batch_job_id IN (:'discard_job', :'discard_job2') ORDER BY i.batch_job_id = :'discard_job2', i.position;
SET ROLE regress_worker;
-- The marks are train_data's: an owner cannot mint attempts to record
-- (nor clear them), on her items in flight or not, nor insert an item with
-- some; her cancel of an item in flight marks its attempt.
RESET ROLE;
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error(format('UPDATE train_data.batch_items SET lost_attempts = ARRAY[1, 2] WHERE id = %L', :'d3'), false, true);
SELECT expect_error(format('UPDATE train_data.batch_items SET lost_attempts = ARRAY[9], status = ''cancelled'' WHERE id = %L', :'d4'), false, true);
SELECT expect_error(format($$INSERT INTO train_data.batch_items (batch_job_id, position, tier, lost_attempts)
                             VALUES (%L, 99, 'template', ARRAY[1])$$, :'discard_job2'), false, true);
UPDATE train_data.batch_items SET status = 'cancelled' WHERE id = :'d4';
SELECT expect_error(format('UPDATE train_data.batch_items SET lost_attempts = NULL WHERE id = %L', :'d4'), false, true);
RESET ROLE;
SELECT status, attempts + released AS attempt, lost_attempts FROM train_data.batch_items WHERE id = :'d4';
SET ROLE regress_worker;
RESET train_data.user_id;
-- bad calls
SELECT expect_error($$SELECT train_data.log_discarded_response('00000000-0000-0000-0000-00000000dead', 1, '{}')$$);
SELECT expect_error(format('SELECT train_data.log_discarded_response(%L, NULL, %L)', :'discard_item2', :'discard_response'), false, true);
SELECT expect_error(format('SELECT train_data.log_discarded_response(%L, 1, NULL)', :'discard_item2'), false, true);
SELECT expect_error(format('SELECT train_data.log_discarded_response(%L, 1, %L, -1)', :'discard_item2', :'discard_response'), false, true);
RESET ROLE;
-- a role without the worker's grant, and a user: not theirs to call
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT expect_error(format('SELECT train_data.log_discarded_response(%L, 1, %L)', :'discard_item2', :'discard_response'), false, true);
RESET ROLE;
-- The rows, her own: 1,000 + 4,000 input tokens (4,000 read from the cache)
-- and 2,000 output, priced as a completion is (the exact row of the alias
-- asked for, claude-haiku-4-5, before the answered id's generation: $1,
-- $0.10 for cache reads, $5 per million): $0.011400 each.  The items and
-- the job's counters are as the queue left them.
SELECT i.position, i.status AS item_status, l.status, l.retry_attempt, l.input_tokens, l.cache_read_tokens, l.output_tokens,
       l.cost_usd, l.duration_ms, l.error_message, l.error_code, l.conversation_id, l.created_by = :alice AS hers,
       l.response_payload ->> 'model' AS answered, l.model_used AS asked
FROM train_data.batch_items i JOIN train_data.generation_logs l ON l.batch_item_id = i.id
WHERE i.batch_job_id = :'discard_job' ORDER BY i.position, l.retry_attempt;
SELECT sum(c.completed_items) AS completed, sum(c.cancelled_items) AS cancelled, sum(c.in_flight) AS in_flight
FROM train_data.batch_job_counters c WHERE c.batch_job_id = :'discard_job';
SET ROLE regress_alice;
SET train_data.user_id = :alice;
SELECT count(*) FILTER (WHERE status = 'discarded') AS discarded_she_sees, sum(cost_usd) FILTER (WHERE status = 'discarded') AS spent
FROM train_data.generation_logs;
RESET ROLE;

-- clean up
DELETE FROM train_data.batch_jobs;
DELETE FROM train_data.generation_logs;
DELETE FROM train_data.conversations;
DELETE FROM train_data.ai_configuration_audit;
DELETE FROM train_data.ai_configurations;
DELETE FROM train_data.templates;
DELETE FROM train_data.model_prices WHERE NOT builtin;
