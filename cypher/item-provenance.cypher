// name: item-provenance
// params: $item (conversation item id), $trace (trace id or null)
// answers: what produced this conversation item (inference, tool, code cell,
//   compaction), which multi-agent edge delivered it, which inference requests carried
//   it (and at which position: requests that EXTENDS one carry its items at the same
//   positions), and which responses returned it.
MATCH (item:ConversationItem {object_id: $item})
WHERE $trace IS NULL OR item.trace_id = $trace
CALL (item) {
  MATCH (source)-[r:PRODUCED]->(item)
  RETURN 'produced_by' AS relation, source.label AS label, source.object_id AS object_id,
         null AS position, r.producer_type AS producer_type
  UNION ALL
  MATCH (source)-[r:SPAWNED_AGENT|ASSIGNED_TASK|SENT_MESSAGE|DELIVERED_RESULT]->(item)
  RETURN 'delivered_by' AS relation, source.label AS label, source.object_id AS object_id,
         null AS position, type(r) AS producer_type
  UNION ALL
  MATCH (item)-[r:PROMPTED]->(:InferenceCall)<-[:EXTENDS*0..]-(inference:InferenceCall)
  RETURN 'prompted' AS relation, inference.label AS label, inference.object_id AS object_id,
         r.position AS position, null AS producer_type
  UNION ALL
  MATCH (inference:InferenceCall)-[r:RESPONDED_WITH]->(item)
  RETURN 'responded_with' AS relation, inference.label AS label, inference.object_id AS object_id,
         r.position AS position, null AS producer_type
}
RETURN relation, label, object_id, position, producer_type
ORDER BY relation, label, object_id, position
