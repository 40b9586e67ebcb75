// name: token-usage
// params: $trace (trace id or null)
// answers: inference calls and token totals (input, cached input, output, reasoning
//   output) by thread, turn and model.
MATCH (i:InferenceCall)
WHERE $trace IS NULL OR i.trace_id = $trace
WITH i.thread_id AS thread_id, i.codex_turn_id AS codex_turn_id, i.model AS model,
     count(*) AS inference_calls,
     sum(coalesce(i.input_tokens, 0)) AS input_tokens,
     sum(coalesce(i.cached_input_tokens, 0)) AS cached_input_tokens,
     sum(coalesce(i.output_tokens, 0)) AS output_tokens,
     sum(coalesce(i.reasoning_output_tokens, 0)) AS reasoning_output_tokens
RETURN thread_id, codex_turn_id, model, inference_calls, input_tokens, cached_input_tokens,
       output_tokens, reasoning_output_tokens
ORDER BY thread_id, codex_turn_id, model
