// name: transcript
// params: $thread (thread id), $trace (trace id or null)
// answers: the thread's conversation items in transcript order, with role, kind,
//   channel and a text preview.
MATCH (t:Thread {object_id: $thread})
WHERE $trace IS NULL OR t.trace_id = $trace
MATCH (t)-[r:HAS_ITEM]->(item:ConversationItem)
WHERE r.position IS NOT NULL
RETURN r.position AS position, item.object_id AS item_id, item.role AS role,
       item.kind AS kind, item.channel AS channel, item.preview AS preview
ORDER BY position, item_id
