// name: terminal-history
// params: $terminal (terminal/process id), $trace (trace id or null)
// answers: the operations run against one terminal session, in raw event order, with
//   command or stdin, exit code, status, the tool call and the inference behind each.
MATCH (s:TerminalSession {object_id: $terminal})
WHERE $trace IS NULL OR s.trace_id = $trace
MATCH (op:TerminalOperation)-[:USED_TERMINAL]->(s)
WITH DISTINCT op
CALL (op) {
  OPTIONAL MATCH (t:ToolCall)-[:EXECUTED]->(op)
  WITH t ORDER BY t.key
  RETURN collect(t)[0] AS tool
}
CALL (tool) {
  OPTIONAL MATCH (c:CodeCell)-[:REQUESTED]->(tool)
  WITH c ORDER BY c.key
  RETURN collect(c)[0] AS cell
}
WITH op, tool, coalesce(cell, tool) AS started
CALL (started) {
  OPTIONAL MATCH (i:InferenceCall)-[:STARTED]->(started)
  WITH DISTINCT i ORDER BY i.started_seq, i.object_id
  RETURN collect(i)[0] AS inference
}
RETURN op.object_id AS operation_id, op.kind AS kind, op.started_seq AS started_seq,
       op.display_command AS command, op.stdin AS stdin, op.exit_code AS exit_code,
       op.status AS status, tool.object_id AS tool_call_id, inference.object_id AS inference_call_id
ORDER BY started_seq, operation_id
