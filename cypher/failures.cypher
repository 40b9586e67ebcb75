// name: failures
// params: $trace (trace id or null: every rollout in the database)
// answers: everything the load summary counts as a failure, in causal order: objects of
//   any label whose status is failed, cancelled or aborted, code cells whose runtime
//   failed or was terminated, terminal operations that exited non-zero; with the reasons
//   and what the object was (cut at its first non-empty line).
MATCH (n)
WHERE ($trace IS NULL OR n.trace_id = $trace)
  AND (n.status IN ['failed', 'cancelled', 'aborted']
       OR n.runtime_status IN ['failed', 'terminated']
       OR (n.exit_code IS NOT NULL AND n.exit_code <> 0))
WITH n, [reason IN [
       CASE WHEN n.status IN ['failed', 'cancelled', 'aborted'] THEN 'status ' + n.status END,
       CASE WHEN n.runtime_status IN ['failed', 'terminated']
            THEN 'runtime ' + n.runtime_status END,
       CASE WHEN n.exit_code IS NOT NULL AND n.exit_code <> 0
            THEN 'exit code ' + toString(n.exit_code) END
     ] WHERE reason IS NOT NULL] AS reasons,
     CASE n.label
       WHEN 'Rollout' THEN n.rollout_id
       WHEN 'Thread' THEN n.agent_path
       WHEN 'Turn' THEN n.thread_id
       WHEN 'InferenceCall' THEN n.model
       WHEN 'ToolCall' THEN n.tool_name
       WHEN 'CodeCell' THEN n.source_js
       WHEN 'TerminalSession' THEN n.created_by_operation_id
       WHEN 'TerminalOperation' THEN coalesce(n.display_command,
         CASE WHEN n.stdin = '' THEN 'poll' WHEN n.stdin IS NOT NULL THEN 'stdin: ' + n.stdin END)
       WHEN 'CompactionRequest' THEN n.model
       ELSE n.object_id
     END AS detail
RETURN n.trace_id AS trace_id, n.label AS label, n.object_id AS object_id,
       reduce(text = head(reasons), reason IN tail(reasons) | text + ', ' + reason) AS reason,
       CASE WHEN detail IS NULL THEN null
            ELSE coalesce(head([line IN split(detail, '\n') WHERE line <> '']), '') END AS detail,
       n.started_seq AS started_seq
ORDER BY trace_id, n.started_seq, n.key
