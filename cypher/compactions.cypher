// name: compactions
// params: $trace (trace id or null)
// answers: each installed compaction with its upstream requests and their status, how
//   many of them failed, and how many items it compacted and installed.
MATCH (c:Compaction)
WHERE $trace IS NULL OR c.trace_id = $trace
CALL (c) {
  OPTIONAL MATCH (c)-[:MADE_REQUEST]->(r:CompactionRequest)
  WITH DISTINCT r ORDER BY r.key
  RETURN collect(r.object_id) AS request_ids, collect(r.status) AS request_statuses
}
CALL (c) {
  OPTIONAL MATCH (i:ConversationItem)-[:COMPACTED_INTO]->(c)
  RETURN count(DISTINCT i) AS input_items
}
CALL (c) {
  OPTIONAL MATCH (c)-[:REPLACED_WITH]->(i:ConversationItem)
  RETURN count(DISTINCT i) AS replacement_items
}
RETURN c.object_id AS compaction_id, c.thread_id AS thread_id,
       c.installed_at_unix_ms AS installed_at_unix_ms, request_ids, request_statuses,
       size([s IN request_statuses WHERE s IN ['failed', 'cancelled', 'aborted']])
         AS failed_requests,
       input_items, replacement_items, c.marker_item_id AS marker_item_id
ORDER BY installed_at_unix_ms, compaction_id
