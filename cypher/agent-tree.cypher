// name: agent-tree
// params: $trace (trace id or null)
// answers: every thread with its parent, task name, role and status, the tool call and
//   interaction edge that spawned it (targeting its task item, or the thread itself
//   when the task never became model-visible) and the ids of its result edges.
MATCH (t:Thread)
WHERE $trace IS NULL OR t.trace_id = $trace
CALL (t) {
  UNWIND [(tool:ToolCall)-[s:SPAWNED_AGENT]->(t) | [tool.object_id, s.edge_id, 'thread']] +
         [(t)-[:HAS_ITEM]->(:ConversationItem)<-[s:SPAWNED_AGENT]-(tool:ToolCall)
          | [tool.object_id, s.edge_id, 'item']] AS spawn
  WITH spawn ORDER BY spawn[0], spawn[1], spawn[2]
  RETURN collect(spawn)[0] AS spawn
}
CALL (t) {
  UNWIND [(t)-[r:DELIVERED_RESULT]->() | r.edge_id] +
         [(t)-[:HAS_ITEM]->(:ConversationItem)-[r:DELIVERED_RESULT]->() | r.edge_id] AS edge_id
  WITH DISTINCT edge_id ORDER BY edge_id
  RETURN collect(edge_id) AS result_edge_ids
}
RETURN t.object_id AS thread_id, t.agent_path AS agent_path,
       t.parent_thread_id AS parent_thread_id, t.task_name AS task_name,
       t.agent_role AS agent_role, t.status AS status,
       spawn[0] AS spawn_tool_call_id, spawn[1] AS spawn_edge_id, spawn[2] AS spawn_target,
       result_edge_ids
ORDER BY agent_path, thread_id
