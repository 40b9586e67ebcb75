// name: tool-calls-of-inference
// params: $inference (inference call id), $trace (trace id or null)
// answers: every tool call this inference's response started, directly or through the
//   code cells it started, with each tool's terminal operations, status and exit code.
MATCH (inference:InferenceCall {object_id: $inference})
WHERE $trace IS NULL OR inference.trace_id = $trace
CALL (inference) {
  MATCH (inference)-[:STARTED]->(tool:ToolCall)
  RETURN tool, null AS cell
  UNION
  MATCH (inference)-[:STARTED]->(cell:CodeCell)-[:REQUESTED]->(tool:ToolCall)
  RETURN tool, cell
}
OPTIONAL MATCH (tool)-[:EXECUTED]->(op:TerminalOperation)
WITH DISTINCT tool, cell, op
RETURN tool.object_id AS tool_call_id, tool.tool_name AS tool_name,
       cell.object_id AS code_cell_id, tool.status AS status,
       tool.started_seq AS tool_started_seq, op.object_id AS terminal_operation_id,
       op.terminal_id AS terminal_id, op.display_command AS command, op.exit_code AS exit_code
ORDER BY tool_started_seq, tool_call_id, terminal_operation_id
