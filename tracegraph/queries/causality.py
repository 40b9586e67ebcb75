"""Causal queries: what started what, and where an object came from."""

from __future__ import annotations

from tracegraph.graph.inputs import extending_requests, latest_input_item, request_input
from tracegraph.graph.schema import Label, Rel
from tracegraph.queries._walk import Row, Walk, order_key

__all__ = [
    "CAUSE_RULES",
    "MAX_CHAIN",
    "causal_chain",
    "cause_of",
    "inference_for_terminal_op",
    "item_provenance",
    "request_input_rows",
    "tool_calls_of_inference",
]


def inference_for_terminal_op(walk: Walk, operation: str) -> list[Row]:
    """The inference whose response started the tool behind a terminal operation."""
    op = walk.find(Label.TERMINAL_OPERATION, operation)
    rows: list[Row] = []
    for tool in sorted({source for source, _ in walk.into(op, Rel.EXECUTED, Label.TOOL_CALL)}):
        cell = walk.requesting_cell(tool)
        started = cell if cell is not None else tool
        for inference in walk.starting_inferences(started):
            invoking = {source for source, _ in walk.into(started, Rel.INVOKED)}
            responded = {target for target, _ in walk.out(inference, Rel.RESPONDED_WITH)}
            sources = sorted(walk.get(item, "object_id") for item in invoking & responded)
            rows.append({
                "operation_id": walk.get(op, "object_id"),
                "tool_call_id": walk.get(tool, "object_id"),
                "code_cell_id": walk.get(cell, "object_id"),
                "source_item_id": sources[0] if sources else None,
                "inference_call_id": walk.get(inference, "object_id"),
                "thread_id": walk.get(inference, "thread_id"),
                "codex_turn_id": walk.get(inference, "codex_turn_id"),
                "model": walk.get(inference, "model"),
                "inference_started_seq": walk.get(inference, "started_seq"),
            })
    rows.sort(key=lambda row: order_key(row["inference_started_seq"], row["inference_call_id"],
                                        row["tool_call_id"]))
    return rows


#: How a node's cause is found: (label of the node, edge type into it, label of
#: the cause, rank). The lowest rank present wins; ties go to the latest listed
#: position (PROMPTED, COMPACTED_INTO), then the earliest start, then the id. A thread's
#: spawning tool is also found through the spawn edge into its task item (rank
#: 1). The same table is the ``$rules`` parameter of ``cypher/causal-chain.cypher``.
CAUSE_RULES: tuple[tuple[Label, Rel, Label, int], ...] = (
    (Label.TERMINAL_SESSION, Rel.CREATED_TERMINAL, Label.TERMINAL_OPERATION, 1),
    (Label.TERMINAL_OPERATION, Rel.EXECUTED, Label.TOOL_CALL, 1),
    (Label.TOOL_CALL, Rel.REQUESTED, Label.CODE_CELL, 1),
    (Label.TOOL_CALL, Rel.STARTED, Label.INFERENCE_CALL, 2),
    (Label.CODE_CELL, Rel.STARTED, Label.INFERENCE_CALL, 1),
    (Label.INFERENCE_CALL, Rel.PROMPTED, Label.CONVERSATION_ITEM, 1),
    (Label.CONVERSATION_ITEM, Rel.PRODUCED, Label.TOOL_CALL, 1),
    (Label.CONVERSATION_ITEM, Rel.PRODUCED, Label.CODE_CELL, 2),
    (Label.CONVERSATION_ITEM, Rel.SPAWNED_AGENT, Label.TOOL_CALL, 3),
    (Label.CONVERSATION_ITEM, Rel.ASSIGNED_TASK, Label.TOOL_CALL, 3),
    (Label.CONVERSATION_ITEM, Rel.SENT_MESSAGE, Label.TOOL_CALL, 3),
    (Label.CONVERSATION_ITEM, Rel.DELIVERED_RESULT, Label.CONVERSATION_ITEM, 4),
    (Label.CONVERSATION_ITEM, Rel.DELIVERED_RESULT, Label.THREAD, 4),
    (Label.CONVERSATION_ITEM, Rel.PRODUCED, Label.INFERENCE_CALL, 5),
    (Label.CONVERSATION_ITEM, Rel.PRODUCED, Label.COMPACTION, 6),
    (Label.THREAD, Rel.SPAWNED_AGENT, Label.TOOL_CALL, 1),
    (Label.THREAD, Rel.HAS_CHILD, Label.THREAD, 2),
    (Label.COMPACTION_REQUEST, Rel.MADE_REQUEST, Label.COMPACTION, 1),
    (Label.COMPACTION, Rel.COMPACTED_INTO, Label.CONVERSATION_ITEM, 1),
)

_RULES_BY_LABEL: dict[str, list[tuple[Rel, Label, int]]] = {}
for _label, _rel, _source, _rank in CAUSE_RULES:
    _RULES_BY_LABEL.setdefault(_label.value, []).append((_rel, _source, _rank))

#: Edge types whose ``position`` breaks ties (the latest listed item is the trigger).
POSITIONAL_CAUSES = (Rel.PROMPTED, Rel.COMPACTED_INTO)

#: A chain longer than this is cut (it cannot loop: visited nodes are skipped).
MAX_CHAIN = 10_000


def cause_of(walk: Walk, node: str, visited: set[str]) -> tuple[str, str] | None:
    """(cause node, edge type) of one node by :data:`CAUSE_RULES`, or ``None``."""
    label = walk.get(node, "label")
    candidates = []
    for rel, source_label, rank in _RULES_BY_LABEL.get(label, ()):
        if rel is Rel.PROMPTED:
            # The latest listed item of the whole input, which may be inherited
            # through EXTENDS (see tracegraph.graph.inputs).
            latest = latest_input_item(walk.graph, node, visited)
            if latest is not None:
                item_position, item = latest
                candidates.append((
                    rank, -item_position,
                    *order_key(walk.get(item, "started_seq"), walk.get(item, "object_id")),
                    item, rel.value,
                ))
            continue
        for source, data in walk.into(node, rel, source_label):
            if source in visited:
                continue
            position = data.get("position") if rel in POSITIONAL_CAUSES else None
            candidates.append((
                rank, -(position if position is not None else 0),
                *order_key(walk.get(source, "started_seq"), walk.get(source, "object_id")),
                source, rel.value,
            ))
    if label == Label.THREAD.value:
        # A spawn edge usually targets the child's task item rather than the thread.
        for item, _ in walk.out(node, Rel.HAS_ITEM, Label.CONVERSATION_ITEM):
            for source, _ in walk.into(item, Rel.SPAWNED_AGENT, Label.TOOL_CALL):
                if source not in visited:
                    candidates.append((
                        1, 0, *order_key(walk.get(source, "started_seq"),
                                         walk.get(source, "object_id")),
                        source, Rel.SPAWNED_AGENT.value,
                    ))
    if not candidates:
        return None
    best = min(candidates)
    return best[-2], best[-1]


def causal_chain(walk: Walk, node: str) -> list[Row]:
    """The chain of causes from an object back to the input that triggered it."""
    current = walk.find_any(node)
    rows: list[Row] = []
    visited = {current}
    via: str | None = None
    while current is not None and len(rows) < MAX_CHAIN:
        rows.append({
            "step": len(rows),
            "label": walk.get(current, "label"),
            "object_id": walk.get(current, "object_id"),
            "via": via,
            "status": walk.get(current, "status"),
        })
        found = cause_of(walk, current, visited)
        if found is None:
            break
        current, via = found
        visited.add(current)
    return rows


def tool_calls_of_inference(walk: Walk, inference: str) -> list[Row]:
    """Every tool call an inference's response started, directly or through code cells."""
    call = walk.find(Label.INFERENCE_CALL, inference)
    started: list[tuple[str, str | None]] = []
    for target, _ in walk.out(call, Rel.STARTED):
        if walk.get(target, "label") == Label.TOOL_CALL.value:
            started.append((target, None))
        else:
            started.extend((tool, target) for tool, _ in walk.out(target, Rel.REQUESTED))
    rows: list[Row] = []
    for tool, cell in sorted(set(started), key=lambda pair: (pair[0], pair[1] or "")):
        operations: list[str | None] = [
            *sorted({op for op, _ in walk.out(tool, Rel.EXECUTED)})
        ] or [None]
        for op in operations:
            rows.append({
                "tool_call_id": walk.get(tool, "object_id"),
                "tool_name": walk.get(tool, "tool_name"),
                "code_cell_id": walk.get(cell, "object_id"),
                "status": walk.get(tool, "status"),
                "tool_started_seq": walk.get(tool, "started_seq"),
                "terminal_operation_id": walk.get(op, "object_id"),
                "terminal_id": walk.get(op, "terminal_id"),
                "command": walk.get(op, "display_command"),
                "exit_code": walk.get(op, "exit_code"),
            })
    rows.sort(key=lambda row: order_key(row["tool_started_seq"], row["tool_call_id"],
                                        row["terminal_operation_id"]))
    return rows


def item_provenance(walk: Walk, item: str) -> list[Row]:
    """What produced an item, and which inference requests carried it."""
    node = walk.find(Label.CONVERSATION_ITEM, item)
    rows: list[Row] = []
    for source, data in walk.into(node, Rel.PRODUCED):
        rows.append({"relation": "produced_by", "label": walk.get(source, "label"),
                     "object_id": walk.get(source, "object_id"), "position": None,
                     "producer_type": data.get("producer_type")})
    for rel in (Rel.SPAWNED_AGENT, Rel.ASSIGNED_TASK, Rel.SENT_MESSAGE, Rel.DELIVERED_RESULT):
        for source, _ in walk.into(node, rel):
            rows.append({"relation": "delivered_by", "label": walk.get(source, "label"),
                         "object_id": walk.get(source, "object_id"), "position": None,
                         "producer_type": rel.value})
    for target, data in walk.out(node, Rel.PROMPTED, Label.INFERENCE_CALL):
        # Requests that extend this one carry the item at the same position.
        for request in extending_requests(walk.graph, target):
            rows.append({"relation": "prompted", "label": walk.get(request, "label"),
                         "object_id": walk.get(request, "object_id"),
                         "position": data.get("position"), "producer_type": None})
    for source, data in walk.into(node, Rel.RESPONDED_WITH):
        rows.append({"relation": "responded_with", "label": walk.get(source, "label"),
                     "object_id": walk.get(source, "object_id"),
                     "position": data.get("position"), "producer_type": None})
    rows.sort(key=lambda row: order_key(row["relation"], row["label"], row["object_id"],
                                        row["position"]))
    return rows


def request_input_rows(walk: Walk, inference: str) -> list[Row]:
    """A request's whole ordered input: one row per position (its ``request_item_ids``)."""
    call = walk.find(Label.INFERENCE_CALL, inference)
    return [{"position": position, "item_id": walk.get(item, "object_id")}
            for position, item in request_input(walk.graph, call)]
