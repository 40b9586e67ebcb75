// name: slowest-commands
// params: $n (how many), $trace (trace id or null: every rollout in the database)
// answers: the N longest terminal operations (commands, writes and polls) over every
//   rollout, with their rollout, the thread of the tool call that ran them, command or
//   stdin, exit code and status; the longest first.
MATCH (op:TerminalOperation)
WHERE ($trace IS NULL OR op.trace_id = $trace) AND op.duration_ms IS NOT NULL
WITH op ORDER BY op.duration_ms DESC, op.trace_id, op.object_id LIMIT $n
CALL (op) {
  OPTIONAL MATCH (tool:ToolCall)-[:EXECUTED]->(op)
  RETURN tool ORDER BY tool.key LIMIT 1
}
OPTIONAL MATCH (thread:Thread {trace_id: op.trace_id, object_id: tool.thread_id})
OPTIONAL MATCH (rollout:Rollout {trace_id: op.trace_id})
RETURN op.trace_id AS trace_id, rollout.object_id AS rollout_id, tool.thread_id AS thread_id,
       thread.agent_path AS agent_path, op.object_id AS operation_id, op.kind AS kind,
       op.display_command AS command, op.stdin AS stdin, op.duration_ms AS duration_ms,
       op.exit_code AS exit_code, op.status AS status
ORDER BY duration_ms DESC, trace_id, operation_id
