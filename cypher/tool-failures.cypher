// name: tool-failures
// params: $trace (trace id or null: every rollout in the database)
// answers: tool calls grouped by tool kind and name over every rollout: how many calls,
//   how many failed (failed, cancelled or aborted), how many ran a terminal operation that
//   exited non-zero, in how many rollouts, and the failure rate (failures / calls); the
//   worst rate first.
MATCH (t:ToolCall)
WHERE $trace IS NULL OR t.trace_id = $trace
CALL (t) {
  OPTIONAL MATCH (t)-[:EXECUTED]->(op:TerminalOperation)
  WHERE op.exit_code IS NOT NULL AND op.exit_code <> 0
  RETURN count(op) > 0 AS nonzero_exit
}
WITH t.kind AS kind, t.tool_name AS tool_name, count(t) AS calls,
     sum(CASE WHEN t.status IN ['failed', 'cancelled', 'aborted'] THEN 1 ELSE 0 END) AS failures,
     sum(CASE WHEN nonzero_exit THEN 1 ELSE 0 END) AS nonzero_exits,
     count(DISTINCT t.trace_id) AS rollouts
RETURN kind, tool_name, calls, failures, nonzero_exits, rollouts,
       toFloat(failures) / calls AS failure_rate
ORDER BY failure_rate DESC, calls DESC, kind, tool_name
