// name: rollout-overview
// params: $trace (trace id or null: every rollout in the database)
// answers: one row per rollout: its status, how many threads, turns, inference calls and
//   tool calls it has, its failures (failed, cancelled or aborted inference calls, tool
//   calls, terminal operations and code cells: the rows of failed-operations), its token
//   totals and its wall time.
MATCH (r:Rollout)
WHERE $trace IS NULL OR r.trace_id = $trace
CALL (r) {
  MATCH (n:Thread) WHERE n.trace_id = r.trace_id
  RETURN count(n) AS threads
}
CALL (r) {
  MATCH (n:Turn) WHERE n.trace_id = r.trace_id
  RETURN count(n) AS turns
}
CALL (r) {
  MATCH (n:InferenceCall) WHERE n.trace_id = r.trace_id
  RETURN count(n) AS inference_calls,
         sum(coalesce(n.input_tokens, 0)) AS input_tokens,
         sum(coalesce(n.cached_input_tokens, 0)) AS cached_input_tokens,
         sum(coalesce(n.output_tokens, 0)) AS output_tokens,
         sum(coalesce(n.reasoning_output_tokens, 0)) AS reasoning_output_tokens
}
CALL (r) {
  MATCH (n:ToolCall) WHERE n.trace_id = r.trace_id
  RETURN count(n) AS tool_calls
}
CALL (r) {
  CALL (r) {
    MATCH (n:CodeCell) WHERE n.trace_id = r.trace_id RETURN n
    UNION ALL
    MATCH (n:InferenceCall) WHERE n.trace_id = r.trace_id RETURN n
    UNION ALL
    MATCH (n:TerminalOperation) WHERE n.trace_id = r.trace_id RETURN n
    UNION ALL
    MATCH (n:ToolCall) WHERE n.trace_id = r.trace_id RETURN n
  }
  WITH n WHERE n.status IN ['failed', 'cancelled', 'aborted']
  RETURN count(n) AS failures
}
RETURN r.trace_id AS trace_id, r.object_id AS rollout_id, r.status AS status, threads, turns,
       inference_calls, tool_calls, failures, input_tokens, cached_input_tokens, output_tokens,
       reasoning_output_tokens, r.duration_ms AS wall_time_ms
ORDER BY trace_id, rollout_id
