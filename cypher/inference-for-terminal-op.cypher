// name: inference-for-terminal-op
// params: $operation (terminal operation id), $trace (trace id or null)
// answers: which inference call's response started the tool call behind this terminal
//   operation -- through the code cell that requested it when the tool was nested --
//   with the call item that invoked it, and the inference's thread and turn.
MATCH (op:TerminalOperation {object_id: $operation})
WHERE $trace IS NULL OR op.trace_id = $trace
MATCH (tool:ToolCall)-[:EXECUTED]->(op)
WITH DISTINCT op, tool
CALL (tool) {
  OPTIONAL MATCH (cell:CodeCell)-[:REQUESTED]->(tool)
  WITH cell ORDER BY cell.key
  RETURN collect(cell)[0] AS cell
}
WITH op, tool, cell, coalesce(cell, tool) AS started
MATCH (inference:InferenceCall)-[:STARTED]->(started)
WITH DISTINCT op, tool, cell, started, inference
OPTIONAL MATCH (inference)-[:RESPONDED_WITH]->(item:ConversationItem)-[:INVOKED]->(started)
WITH op, tool, cell, inference, min(item.object_id) AS source_item_id
RETURN op.object_id AS operation_id, tool.object_id AS tool_call_id,
       cell.object_id AS code_cell_id, source_item_id,
       inference.object_id AS inference_call_id, inference.thread_id AS thread_id,
       inference.codex_turn_id AS codex_turn_id, inference.model AS model
ORDER BY inference.started_seq, inference_call_id, tool_call_id
