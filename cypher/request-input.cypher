// name: request-input
// params: $inference (inference call id), $trace (trace id or null)
// answers: the whole ordered input of an inference request, one row per position with
//   the item's id: its `request_item_ids`. In the delta form the request holds PROMPTED
//   edges only for the items it adds and EXTENDS the request whose input it starts with;
//   in the full-snapshot form it holds them all. Both are read the same way.
MATCH (inference:InferenceCall {object_id: $inference})
WHERE $trace IS NULL OR inference.trace_id = $trace
MATCH (inference)-[:EXTENDS*0..]->(:InferenceCall)<-[p:PROMPTED]-(item:ConversationItem)
RETURN p.position AS position, item.object_id AS item_id
ORDER BY position
