// name: causal-chain
// params: $key (node key of the current step), $visited (keys already in the chain),
//   $rules (the cause rules: [label, relationship type, cause label, rank], from
//   tracegraph.queries.causality.CAUSE_RULES)
// answers: the direct cause of one node. The runner starts at the requested node and
//   applies this step until no cause is left, giving the chain back to the input
//   that triggered it. Lowest rank wins; then the latest listed position (PROMPTED,
//   COMPACTED_INTO), the earliest start and the id. A request's PROMPTED items include
//   those it inherits through EXTENDS (delta form); the walk along EXTENDS stops at the
//   first request that lists an unvisited item. The runner labels the first MATCH's node
//   (the label read from the key, checked against the schema) so the key constraint is
//   used; this comment must not spell that pattern out, or the runner's one replacement
//   lands here and every step scans all nodes.
MATCH (n {key: $key})
CALL (n) {
  MATCH (n)<-[r]-(m)
  WHERE NOT m.key IN $visited
    AND type(r) <> 'PROMPTED'
  WITH r, m, [rule IN $rules
              WHERE rule[0] = n.label AND rule[1] = type(r) AND rule[2] = m.label
              | rule[3]] AS ranks
  WHERE size(ranks) > 0
  RETURN m, type(r) AS via, ranks[0] AS rank,
         CASE WHEN type(r) = 'COMPACTED_INTO' THEN coalesce(r.position, 0)
              ELSE 0 END AS position
  UNION
  // The first request along EXTENDS that lists an item not visited yet: its own items come
  // after everything it inherits, so the walk stops there instead of at the chain's end.
  MATCH (n:InferenceCall)
        ((a:InferenceCall)-[:EXTENDS]->(:InferenceCall)
          WHERE NOT EXISTS { (a)<-[p:PROMPTED]-(x:ConversationItem) WHERE NOT x.key IN $visited })*
        (req:InferenceCall)
  MATCH (req)<-[r:PROMPTED]-(m:ConversationItem)
  WHERE NOT m.key IN $visited
  WITH m, r, [rule IN $rules
              WHERE rule[0] = n.label AND rule[1] = 'PROMPTED' AND rule[2] = m.label
              | rule[3]] AS ranks
  WHERE size(ranks) > 0
  RETURN m, 'PROMPTED' AS via, ranks[0] AS rank, coalesce(r.position, 0) AS position
  UNION
  MATCH (n:Thread)-[:HAS_ITEM]->(:ConversationItem)<-[:SPAWNED_AGENT]-(m:ToolCall)
  WHERE NOT m.key IN $visited
  RETURN m, 'SPAWNED_AGENT' AS via, 1 AS rank, 0 AS position
}
RETURN m.key AS key, m.label AS label, m.object_id AS object_id, via, m.status AS status
ORDER BY rank, position DESC, m.started_seq, m.object_id
LIMIT 1
