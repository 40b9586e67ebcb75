// name: slowest
// params: $n (how many of each kind), $trace (trace id or null)
// answers: the $n longest inference calls, terminal operations and tool calls (each),
//   by wall-clock duration.
CALL () {
  MATCH (n:InferenceCall)
  WHERE n.duration_ms IS NOT NULL AND ($trace IS NULL OR n.trace_id = $trace)
  RETURN n ORDER BY n.duration_ms DESC, n.object_id LIMIT $n
  UNION ALL
  MATCH (n:TerminalOperation)
  WHERE n.duration_ms IS NOT NULL AND ($trace IS NULL OR n.trace_id = $trace)
  RETURN n ORDER BY n.duration_ms DESC, n.object_id LIMIT $n
  UNION ALL
  MATCH (n:ToolCall)
  WHERE n.duration_ms IS NOT NULL AND ($trace IS NULL OR n.trace_id = $trace)
  RETURN n ORDER BY n.duration_ms DESC, n.object_id LIMIT $n
}
RETURN n.label AS label, n.object_id AS object_id, n.duration_ms AS duration_ms,
       n.status AS status, n.started_seq AS started_seq
ORDER BY label, duration_ms DESC, object_id
