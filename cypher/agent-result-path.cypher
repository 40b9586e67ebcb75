// name: agent-result-path
// params: $thread (child thread id), $trace (trace id or null)
// answers: for each result the child thread delivered, the child item it came from
//   (null when anchored on the thread), the parent item that received it, the parent
//   thread, and the tool call that spawned the child.
MATCH (child:Thread {object_id: $thread})
WHERE $trace IS NULL OR child.trace_id = $trace
CALL (child) {
  UNWIND [(tool:ToolCall)-[s:SPAWNED_AGENT]->(child) | [tool.object_id, s.edge_id, 'thread']] +
         [(child)-[:HAS_ITEM]->(:ConversationItem)<-[s:SPAWNED_AGENT]-(tool:ToolCall)
          | [tool.object_id, s.edge_id, 'item']] AS spawn
  WITH spawn ORDER BY spawn[0], spawn[1], spawn[2]
  RETURN collect(spawn)[0][0] AS spawn_tool_call_id
}
CALL (child) {
  MATCH (child)-[r:DELIVERED_RESULT]->(target)
  RETURN r.edge_id AS edge_id, null AS source_item, target
  UNION
  MATCH (child)-[:HAS_ITEM]->(item:ConversationItem)-[r:DELIVERED_RESULT]->(target)
  RETURN r.edge_id AS edge_id, item AS source_item, target
}
RETURN edge_id, child.object_id AS child_thread_id, source_item.object_id AS source_item_id,
       CASE WHEN target:ConversationItem THEN target.object_id END AS target_item_id,
       CASE WHEN target:ConversationItem THEN target.thread_id ELSE target.object_id END
         AS parent_thread_id,
       spawn_tool_call_id
ORDER BY edge_id, source_item.key, target.key
