// name: failed-operations
// params: $trace (trace id or null)
// answers: failed, cancelled or aborted inference calls, tool calls, terminal operations
//   and code cells, each with its thread and the inference whose response caused it
//   (through the tool behind a terminal operation and the code cell of a nested tool).
MATCH (n)
WHERE (n:CodeCell OR n:InferenceCall OR n:TerminalOperation OR n:ToolCall)
  AND n.status IN ['failed', 'cancelled', 'aborted']
  AND ($trace IS NULL OR n.trace_id = $trace)
CALL (n) {
  OPTIONAL MATCH (t:ToolCall)-[:EXECUTED]->(n)
  WITH t ORDER BY t.key
  RETURN collect(t)[0] AS op_tool
}
WITH n, CASE WHEN n:TerminalOperation THEN op_tool ELSE n END AS tool
CALL (tool) {
  OPTIONAL MATCH (c:CodeCell)-[:REQUESTED]->(tool)
  WITH c ORDER BY c.key
  RETURN collect(c)[0] AS cell
}
WITH n, tool, CASE WHEN n:CodeCell THEN n ELSE coalesce(cell, tool) END AS started
CALL (started) {
  OPTIONAL MATCH (i:InferenceCall)-[:STARTED]->(started)
  WITH DISTINCT i ORDER BY i.started_seq, i.object_id
  RETURN collect(i)[0] AS inference
}
RETURN n.label AS label, n.object_id AS object_id, n.status AS status,
       tool.thread_id AS thread_id,
       CASE WHEN n:InferenceCall THEN n.object_id ELSE inference.object_id END
         AS causing_inference_call_id,
       n.started_seq AS started_seq
ORDER BY started_seq, label, object_id
