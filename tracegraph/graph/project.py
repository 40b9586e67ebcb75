"""Project a reduced ``RolloutTrace`` onto a typed ``networkx.MultiDiGraph``.

Labels, edge types and attribute names come from :mod:`tracegraph.graph.schema`.
Nodes are added first (in the reduced model's key order), then edges, so every
edge endpoint is checked to exist; a reference to a missing object is listed in
``graph.graph["dangling_references"]`` instead of becoming an edge.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from tracegraph._gc import collector_paused
from tracegraph.graph.adjacency import insert_edges
from tracegraph.graph.schema import (
    GRAPH_SCHEMA_VERSION,
    INTERACTION_RELS,
    PREVIEW_CHARS,
    SCHEMA,
    Label,
    Provenance,
    Rel,
    RequestInputForm,
    node_key,
)
from tracegraph.model import RolloutTrace
from tracegraph.model.conversation import (
    CodeCellProducer,
    CodePart,
    CompactionProducer,
    ConversationItem,
    EncodedPart,
    InferenceCall,
    InferenceProducer,
    InteractionEdgeProducer,
    JsonPart,
    PayloadRefPart,
    SummaryPart,
    TextPart,
    ToolProducer,
)
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.runtime import (
    AgentSummary,
    CodeCell,
    CodeCellRequester,
    Compaction,
    CompactionRequest,
    ConversationItemAnchor,
    ExecCommandRequest,
    GenericSummary,
    InteractionEdge,
    McpKind,
    OtherKind,
    TerminalOperation,
    TerminalSession,
    TerminalSummary,
    ThreadAnchor,
    ToolCall,
    ToolCallAnchor,
    TraceAnchor,
    WaitAgentSummary,
)
from tracegraph.model.session import AgentThread, CodexTurn, ExecutionWindow, SpawnedOrigin

__all__ = [
    "CALL_OUTPUT_KINDS",
    "NODE_MAPS",
    "Projection",
    "body_text",
    "extended_requests",
    "extends_input",
    "merge_edge_data",
    "preview",
    "project",
]

#: Conversation item kinds of a model-visible call, and the kind of their output.
CALL_OUTPUT_KINDS: dict[str, str] = {
    "function_call": "function_call_output",
    "custom_tool_call": "custom_tool_call_output",
}


#: The trace maps projected as nodes, in the order their nodes are added, and the label.
NODE_MAPS: tuple[tuple[str, Label], ...] = (
    ("threads", Label.THREAD),
    ("codex_turns", Label.TURN),
    ("conversation_items", Label.CONVERSATION_ITEM),
    ("inference_calls", Label.INFERENCE_CALL),
    ("tool_calls", Label.TOOL_CALL),
    ("code_cells", Label.CODE_CELL),
    ("terminal_sessions", Label.TERMINAL_SESSION),
    ("terminal_operations", Label.TERMINAL_OPERATION),
    ("compactions", Label.COMPACTION),
    ("compaction_requests", Label.COMPACTION_REQUEST),
    ("raw_payloads", Label.RAW_PAYLOAD),
)

@dataclass(frozen=True, slots=True)
class _EdgeSpec:
    """What :meth:`_Projection.edge` needs of an edge type, looked up once."""

    label: str
    provenance: str
    derived: bool
    distinct_by: tuple[str, ...]
    #: Rank of each derivation rule (``derived_by`` lists rules in schema order).
    rule_rank: dict[str, int]


_EDGE_SPECS = {
    edge.name: _EdgeSpec(edge.name.value, edge.provenance.value,
                         edge.provenance is Provenance.DERIVED, edge.distinct_by,
                         {rule.name: rank for rank, rule in enumerate(edge.rules)})
    for edge in SCHEMA.edges
}
_LABEL_VALUES = {label: label.value for label in Label}


def project(trace: RolloutTrace, *, full_snapshots: bool = False) -> nx.MultiDiGraph:
    """The typed graph of one reduced trace (see ``docs/graph-schema.md``).

    By default a request's input is recorded as what it adds to the request it
    EXTENDS (the ``delta`` form, linear in the events); ``full_snapshots`` gives
    every request a PROMPTED edge from every item of its input instead.
    """
    form = RequestInputForm.FULL_SNAPSHOT if full_snapshots else RequestInputForm.DELTA
    with collector_paused():
        return _Projection(trace, form).run()


def extended_requests(trace: RolloutTrace) -> dict[str, InferenceCall]:
    """For each inference call whose input extends its predecessor's, that predecessor.

    The predecessor is the previous call of the same thread in ``started_seq``
    order; it is extended when its input is non-empty and a prefix of the call's.
    """
    previous: dict[str, InferenceCall] = {}
    extended: dict[str, InferenceCall] = {}
    calls = sorted(trace.inference_calls.values(),
                   key=lambda call: (call.execution.started_seq, call.inference_call_id))
    for call in calls:
        before = previous.get(call.thread_id)
        previous[call.thread_id] = call
        if before is None:
            continue
        if extends_input(before, call):
            extended[call.inference_call_id] = before
    return extended


def extends_input(before: InferenceCall, call: InferenceCall) -> bool:
    """Whether ``call``'s input extends ``before``'s: non-empty and a prefix of it."""
    inherited, current = before.request_item_ids, call.request_item_ids
    return bool(inherited) and len(inherited) <= len(current) and (
        current[:len(inherited)] == inherited)


def merge_edge_data(contributions: list[dict[str, Any]]) -> dict[str, Any]:
    """One edge's data from what several emitters gave it, in projection order, merged
    as :meth:`Projection.edge` merges evidence: the first value of each attribute
    wins and ``derived_by`` is the union of the rules, in the schema's order."""
    data = dict(contributions[0])
    if "derived_by" in data:  # never shared with what an emitter may change later
        data["derived_by"] = list(data["derived_by"])
    if len(contributions) == 1:
        return data
    for other in contributions[1:]:
        for name, value in other.items():
            data.setdefault(name, value)
    if "derived_by" in data:
        rank = _EDGE_SPECS[Rel(data["label"])].rule_rank
        rules = {rule for other in contributions for rule in other.get("derived_by", ())}
        data["derived_by"] = sorted(rules, key=rank.__getitem__)
    return data


def preview(text: str) -> str | None:
    """``text`` cut at :data:`PREVIEW_CHARS` characters; ``None`` when empty."""
    if not text:
        return None
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def body_text(item: ConversationItem) -> str:
    """The readable text of an item's body, one line per part."""
    lines: list[str] = []
    for part in item.body.parts:
        if isinstance(part, TextPart | SummaryPart):
            lines.append(part.text)
        elif isinstance(part, CodePart):
            lines.append(part.source)
        elif isinstance(part, JsonPart):
            lines.append(part.summary)
        elif isinstance(part, EncodedPart | PayloadRefPart):
            lines.append(f"[{part.label}]")
    return "\n".join(lines)


def _execution(window: ExecutionWindow) -> dict[str, Any]:
    ended = window.ended_at_unix_ms
    return {
        "status": window.status.value,
        "started_at_unix_ms": window.started_at_unix_ms,
        "started_seq": window.started_seq,
        "ended_at_unix_ms": ended,
        "ended_seq": window.ended_seq,
        "duration_ms": None if ended is None else ended - window.started_at_unix_ms,
    }


def _anchor(anchor: TraceAnchor) -> tuple[Label, str]:
    if isinstance(anchor, ToolCallAnchor):
        return Label.TOOL_CALL, anchor.tool_call_id
    if isinstance(anchor, ConversationItemAnchor):
        return Label.CONVERSATION_ITEM, anchor.item_id
    if isinstance(anchor, ThreadAnchor):
        return Label.THREAD, anchor.thread_id
    raise TypeError(f"unknown trace anchor {anchor!r}")  # pragma: no cover


class _Projection:
    def __init__(self, trace: RolloutTrace, form: RequestInputForm) -> None:
        self.trace = trace
        self.form = form
        self.trace_id = trace.trace_id
        #: Node key prefix of each label (see ``node_key``).
        self.prefixes = {label: node_key(trace.trace_id, label, "") for label in Label}
        #: Each label's part of an edge key's target (``{label}/``).
        self.target_prefixes = {label: f"{label.value}/" for label in Label}
        self.graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        #: Nodes by key, added to the graph (in this order) before the edges.
        self.node_data: dict[str, dict[str, Any]] = {}
        #: Edges by key, added to the graph once all evidence is merged.
        self.edge_data: dict[str, tuple[str, str, dict[str, Any]]] = {}
        self.dangling: list[str] = []
        #: Conversation items by (thread id, call id), filled by add_conversation_edges.
        self.by_call: dict[tuple[str, str], list[ConversationItem]] = defaultdict(list)

    # --- primitives ---------------------------------------------------------

    def key(self, label: Label, object_id: str) -> str:
        return self.prefixes[label] + object_id

    def node(self, label: Label, object_id: str, /, **attrs: Any) -> None:
        key, data = self.node_entry(label, object_id, attrs)
        found = self.node_data.get(key)
        if found is None:
            self.node_data[key] = data
        else:
            found.update(data)

    def node_entry(self, label: Label, object_id: str,
                   attrs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A node's key and data (``None`` attributes left out)."""
        data = {"label": _LABEL_VALUES[label], "trace_id": self.trace_id, "object_id": object_id}
        for name, value in attrs.items():
            if value is not None:
                data[name] = value
        return self.prefixes[label] + object_id, data

    def edge(self, rel: Rel, source: tuple[Label, str | None], target: tuple[Label, str | None],
             /, *, rule: str | None = None, **attrs: Any) -> None:
        """Add (or merge evidence into) one edge; ``None`` ids are absent references."""
        (source_label, source_id), (target_label, target_id) = source, target
        if source_id is None or target_id is None:
            return
        u, v = self.prefixes[source_label] + source_id, self.prefixes[target_label] + target_id
        spec = _EDGE_SPECS[rel]
        if u not in self.node_data or v not in self.node_data:
            self.dangling.append(f"{spec.label} {u} -> {v}")
            return
        values = {name: value for name, value in attrs.items() if value is not None} \
            if attrs else attrs
        edge_key = f"{u}|{spec.label}|{self.target_prefixes[target_label]}{target_id}"
        for name in spec.distinct_by:
            if name in values:
                edge_key += f"|{name}={values[name]}"
        found = self.edge_data.get(edge_key)
        if found is not None:
            data = found[2]
            for name, value in values.items():
                data.setdefault(name, value)
        else:
            data = {"label": spec.label, "edge_key": edge_key, "trace_id": self.trace_id,
                    "provenance": spec.provenance, **values}
            if spec.derived:
                data["derived_by"] = []
            self.edge_data[edge_key] = (u, v, data)
        if rule is not None:
            rules: list[str] = data["derived_by"]
            if rule not in rules:
                rules.append(rule)
                rules.sort(key=spec.rule_rank.__getitem__)

    def edges(self, rel: Rel, source: tuple[Label, str | None], label: Label,
              ids: Iterable[str], /, **attrs: Any) -> None:
        for position, object_id in enumerate(ids):
            self.edge(rel, source, (label, object_id), position=position, **attrs)

    def edges_in(self, rel: Rel, label: Label, ids: Iterable[str],
                 target: tuple[Label, str | None], /, **attrs: Any) -> None:
        for position, object_id in enumerate(ids):
            self.edge(rel, (label, object_id), target, position=position, **attrs)

    # --- nodes --------------------------------------------------------------

    def run(self) -> nx.MultiDiGraph:
        self.add_nodes()
        self.add_edges()
        self.graph.add_nodes_from(self.node_data.items())
        # add_edge would copy every attribute dict twice: a third of the projection's time.
        insert_edges(self.graph, ((u, v, key, data)
                                  for key, (u, v, data) in self.edge_data.items()))
        self.graph.graph.update(
            trace_ids=[self.trace_id],
            graph_schema_version=GRAPH_SCHEMA_VERSION,
            dangling_references=list(dict.fromkeys(self.dangling)),
            request_input_form=self.form.value,
        )
        return self.graph

    def add_nodes(self) -> None:
        t = self.trace
        self.rollout_node()
        adders = self.node_adders
        for field_name, label in NODE_MAPS:
            add = adders[label]
            for value in _values(getattr(t, field_name)):
                add(value)

    # One method per node label, so a caller can (re)project a single object.

    def rollout_node(self) -> None:
        t = self.trace
        self.node(
            Label.ROLLOUT, t.rollout_id, rollout_id=t.rollout_id, schema_version=t.schema_version,
            status=t.status.value, started_at_unix_ms=t.started_at_unix_ms,
            ended_at_unix_ms=t.ended_at_unix_ms,
            duration_ms=None if t.ended_at_unix_ms is None
            else t.ended_at_unix_ms - t.started_at_unix_ms,
            root_thread_id=t.root_thread_id, dialect=t.dialect.value, partial=t.partial,
            unknown_types=list(t.unknown_types) or None,
        )

    def thread_node(self, thread: AgentThread) -> None:
        origin = thread.origin
        spawned = origin if isinstance(origin, SpawnedOrigin) else None
        self.node(
            Label.THREAD, thread.thread_id, agent_path=thread.agent_path,
            nickname=thread.nickname, origin=origin.type,
            is_root=thread.thread_id == self.trace.root_thread_id,
            parent_thread_id=spawned and spawned.parent_thread_id,
            spawn_edge_id=spawned and spawned.spawn_edge_id,
            task_name=spawned and spawned.task_name, agent_role=spawned and spawned.agent_role,
            default_model=thread.default_model, **_execution(thread.execution),
        )

    def turn_node(self, turn: CodexTurn) -> None:
        self.node(Label.TURN, turn.codex_turn_id, thread_id=turn.thread_id,
                  **_execution(turn.execution))

    def item_node(self, item: ConversationItem) -> None:
        text = body_text(item)
        message = item.agent_message
        self.node(
            Label.CONVERSATION_ITEM, item.item_id, thread_id=item.thread_id,
            codex_turn_id=item.codex_turn_id, first_seen_at_unix_ms=item.first_seen_at_unix_ms,
            role=item.role.value, channel=item.channel and item.channel.value,
            kind=item.kind.value, call_id=item.call_id,
            agent_message_author=message and message.author,
            agent_message_recipient=message and message.recipient,
            part_types=[part.type for part in item.body.parts],
            producer_types=[producer.type for producer in item.produced_by],
            preview=preview(text), body_chars=len(text),
        )

    def inference_node(self, call: InferenceCall) -> None:
        usage = call.usage
        self.node(
            Label.INFERENCE_CALL, call.inference_call_id, thread_id=call.thread_id,
            codex_turn_id=call.codex_turn_id, model=call.model,
            provider_name=call.provider_name, response_id=call.response_id,
            upstream_request_id=call.upstream_request_id,
            input_tokens=usage and usage.input_tokens,
            cached_input_tokens=usage and usage.cached_input_tokens,
            output_tokens=usage and usage.output_tokens,
            reasoning_output_tokens=usage and usage.reasoning_output_tokens,
            raw_request_payload_id=call.raw_request_payload_id,
            raw_response_payload_id=call.raw_response_payload_id,
            request_items=len(call.request_item_ids),
            **_execution(call.execution),
        )

    def tool_node(self, tool: ToolCall) -> None:
        self.node(Label.TOOL_CALL, tool.tool_call_id, **_tool_attributes(tool))

    def cell_node(self, cell: CodeCell) -> None:
        self.node(
            Label.CODE_CELL, cell.code_cell_id, thread_id=cell.thread_id,
            codex_turn_id=cell.codex_turn_id, model_visible_call_id=cell.model_visible_call_id,
            runtime_cell_id=cell.runtime_cell_id, runtime_status=cell.runtime_status.value,
            initial_response_at_unix_ms=cell.initial_response_at_unix_ms,
            initial_response_seq=cell.initial_response_seq,
            yielded_at_unix_ms=cell.yielded_at_unix_ms, yielded_seq=cell.yielded_seq,
            source_js=cell.source_js, **_execution(cell.execution),
        )

    def session_node(self, session: TerminalSession) -> None:
        self.node(Label.TERMINAL_SESSION, session.terminal_id, thread_id=session.thread_id,
                  created_by_operation_id=session.created_by_operation_id,
                  **_execution(session.execution))

    def operation_node(self, operation: TerminalOperation) -> None:
        self.node(Label.TERMINAL_OPERATION, operation.operation_id,
                  **_operation_attributes(operation))

    def compaction_node(self, compaction: Compaction) -> None:
        self.node(Label.COMPACTION, compaction.compaction_id, thread_id=compaction.thread_id,
                  codex_turn_id=compaction.codex_turn_id,
                  installed_at_unix_ms=compaction.installed_at_unix_ms,
                  marker_item_id=compaction.marker_item_id)

    def compaction_request_node(self, request: CompactionRequest) -> None:
        self.node(
            Label.COMPACTION_REQUEST, request.compaction_request_id,
            compaction_id=request.compaction_id, thread_id=request.thread_id,
            codex_turn_id=request.codex_turn_id, model=request.model,
            provider_name=request.provider_name,
            raw_request_payload_id=request.raw_request_payload_id,
            raw_response_payload_id=request.raw_response_payload_id,
            **_execution(request.execution),
        )

    def payload_node(self, payload: RawPayloadRef) -> None:
        self.node(Label.RAW_PAYLOAD, payload.raw_payload_id, kind=payload.kind.type.value,
                  path=payload.path)

    @property
    def node_adders(self) -> dict[Label, Callable[[Any], None]]:
        """The node method of each label projected from a map of the trace."""
        return {
            Label.THREAD: self.thread_node, Label.TURN: self.turn_node,
            Label.CONVERSATION_ITEM: self.item_node, Label.INFERENCE_CALL: self.inference_node,
            Label.TOOL_CALL: self.tool_node, Label.CODE_CELL: self.cell_node,
            Label.TERMINAL_SESSION: self.session_node,
            Label.TERMINAL_OPERATION: self.operation_node, Label.COMPACTION: self.compaction_node,
            Label.COMPACTION_REQUEST: self.compaction_request_node,
            Label.RAW_PAYLOAD: self.payload_node,
        }

    # --- edges --------------------------------------------------------------
    # Each ``*_edges`` method below emits the edges of one object (or one group),
    # so a caller can re-emit the edges of the objects that changed.

    def add_edges(self) -> None:
        t = self.trace
        self.rollout_edges()
        for thread in _values(t.threads):
            self.thread_edges(thread)
        for turn in _values(t.codex_turns):
            self.turn_edges(turn)
        by_call = self.by_call
        for item in _values(t.conversation_items):
            self.item_edges(item)
            if item.call_id is not None:
                by_call[item.thread_id, item.call_id].append(item)
        for items in by_call.values():
            self.answered_edges(items)
        extended = extended_requests(t) if self.form is RequestInputForm.DELTA else {}
        responded_by: dict[str, list[str]] = defaultdict(list)
        for call in _values(t.inference_calls):
            self.inference_edges(call, extended.get(call.inference_call_id))
            for item_id in call.response_item_ids:
                responded_by[item_id].append(call.inference_call_id)
        # "Started by" from the call items, for tools and code cells alike.
        for tool in _values(t.tool_calls):
            self.started_edges((Label.TOOL_CALL, tool.tool_call_id), self.tool_call_items(tool),
                               responded_by)
        for cell in _values(t.code_cells):
            self.started_edges((Label.CODE_CELL, cell.code_cell_id), self.cell_call_items(cell),
                               responded_by)
        for tool in _values(t.tool_calls):
            self.tool_edges(tool)
        for cell in _values(t.code_cells):
            self.cell_edges(cell)
        for session in _values(t.terminal_sessions):
            self.session_edges(session)
        for operation in _values(t.terminal_operations):
            self.operation_edges(operation)
        for compaction in _values(t.compactions):
            self.compaction_edges(compaction)
        for request in _values(t.compaction_requests):
            self.compaction_request_edges(request)
        for edge in _values(t.interaction_edges):
            self.interaction_edges(edge)
        for payload_id in sorted(t.raw_payloads):
            self.payload_edges(payload_id)

    def rollout_edges(self) -> None:
        t = self.trace
        self.edge(Rel.HAS_THREAD, (Label.ROLLOUT, t.rollout_id), (Label.THREAD, t.root_thread_id))

    def thread_edges(self, thread: AgentThread) -> None:
        self.thread_own_edges(thread)
        self.thread_item_edges(thread)

    def thread_own_edges(self, thread: AgentThread) -> None:
        """A thread's edges but those of its item list."""
        this = (Label.THREAD, thread.thread_id)
        self.edge(Rel.HAS_THREAD, (Label.ROLLOUT, self.trace.rollout_id), this)
        if isinstance(thread.origin, SpawnedOrigin):
            origin = thread.origin
            self.edge(Rel.HAS_CHILD, (Label.THREAD, origin.parent_thread_id), this,
                      spawn_edge_id=origin.spawn_edge_id, task_name=origin.task_name,
                      agent_role=origin.agent_role)

    def thread_item_edges(self, thread: AgentThread, start: int = 0) -> None:
        """HAS_ITEM and NEXT_ITEM of a thread's items from position ``start`` on."""
        this = (Label.THREAD, thread.thread_id)
        ids = thread.conversation_item_ids
        item = Label.CONVERSATION_ITEM
        for position in range(start, len(ids)):
            self.edge(Rel.HAS_ITEM, this, (item, ids[position]), position=position)
        for position in range(max(start - 1, 0), len(ids) - 1):
            self.edge(Rel.NEXT_ITEM, (item, ids[position]), (item, ids[position + 1]),
                      position=position, thread_id=thread.thread_id)

    def turn_edges(self, turn: CodexTurn) -> None:
        this = (Label.TURN, turn.codex_turn_id)
        self.edge(Rel.HAS_TURN, (Label.THREAD, turn.thread_id), this)
        self.edges_in(Rel.TRIGGERED, Label.CONVERSATION_ITEM, turn.input_item_ids, this)

    def contained(self, target: tuple[Label, str], thread_id: str | None,
                  turn_id: str | None) -> None:
        self.edge(Rel.CONTAINS, (Label.THREAD, thread_id), target)
        self.edge(Rel.CONTAINS, (Label.TURN, turn_id), target)

    def item_edges(self, item: ConversationItem) -> None:
        """An item's own edges (its call/output pairing is :meth:`answered_edges`)."""
        this = (Label.CONVERSATION_ITEM, item.item_id)
        self.edge(Rel.HAS_ITEM, (Label.THREAD, item.thread_id), this)
        self.edge(Rel.CONTAINS, (Label.TURN, item.codex_turn_id), this)
        for position, part in enumerate(item.body.parts):
            if isinstance(part, JsonPart):
                self.edge(Rel.EVIDENCED_BY, this, (Label.RAW_PAYLOAD, part.raw_payload_id),
                          role="body", position=position, part_label="json")
            elif isinstance(part, PayloadRefPart):
                self.edge(Rel.EVIDENCED_BY, this, (Label.RAW_PAYLOAD, part.raw_payload_id),
                          role="body", position=position, part_label=part.label)
        for producer in item.produced_by:
            source: tuple[Label, str] | None = None
            edge_id = None
            if isinstance(producer, InferenceProducer):
                source = (Label.INFERENCE_CALL, producer.inference_call_id)
            elif isinstance(producer, ToolProducer):
                source = (Label.TOOL_CALL, producer.tool_call_id)
            elif isinstance(producer, CodeCellProducer):
                source = (Label.CODE_CELL, producer.code_cell_id)
            elif isinstance(producer, CompactionProducer):
                source = (Label.COMPACTION, producer.compaction_id)
            elif isinstance(producer, InteractionEdgeProducer):
                edge_id = producer.edge_id
                interaction = self.trace.interaction_edges.get(edge_id)
                if interaction is None:
                    self.dangling.append(
                        f"{Rel.PRODUCED.value} interaction edge {edge_id} -> "
                        f"{self.key(*this)}")
                    continue
                source = _anchor(interaction.source)
            if source is not None:
                self.edge(Rel.PRODUCED, source, this, producer_type=producer.type,
                          edge_id=edge_id)

    def answered_edges(self, items: list[ConversationItem]) -> None:
        """ANSWERED_BY among the items of one thread sharing a call id (in key order)."""
        for call in items:
            output_kind = CALL_OUTPUT_KINDS.get(call.kind.value)
            for output in items:
                if output.kind.value == output_kind:
                    self.edge(Rel.ANSWERED_BY, (Label.CONVERSATION_ITEM, call.item_id),
                              (Label.CONVERSATION_ITEM, output.item_id), rule="call_id")

    def call_items(self, thread_id: str, call_id: str | None, listed: Iterable[str],
                   kinds: Iterable[str]) -> list[str]:
        """Listed call items plus the same-thread items whose call id and kind match."""
        found = list(dict.fromkeys(listed))
        if call_id is not None:
            wanted = set(kinds)
            for item in self.by_call.get((thread_id, call_id), ()):
                if item.kind.value in wanted and item.item_id not in found:
                    found.append(item.item_id)
        return found

    def tool_call_items(self, tool: ToolCall) -> list[str]:
        return self.call_items(tool.thread_id, tool.model_visible_call_id,
                               tool.model_visible_call_item_ids, CALL_OUTPUT_KINDS)

    def cell_call_items(self, cell: CodeCell) -> list[str]:
        return self.call_items(cell.thread_id, cell.model_visible_call_id,
                               [cell.source_item_id], ("custom_tool_call",))

    def inference_edges(self, call: InferenceCall, extends: InferenceCall | None) -> None:
        """One call's edges; ``extends`` is the call whose input it extends (delta form)."""
        this = (Label.INFERENCE_CALL, call.inference_call_id)
        self.contained(this, call.thread_id, call.codex_turn_id)
        first_added = 0
        if extends is not None:
            first_added = len(extends.request_item_ids)
            self.edge(Rel.EXTENDS, this, (Label.INFERENCE_CALL, extends.inference_call_id),
                      rule="input_prefix", inherited_items=first_added)
        for position in range(first_added, len(call.request_item_ids)):
            self.edge(Rel.PROMPTED, (Label.CONVERSATION_ITEM, call.request_item_ids[position]),
                      this, position=position)
        self.edges(Rel.RESPONDED_WITH, this, Label.CONVERSATION_ITEM, call.response_item_ids)
        for tool_call_id in call.tool_call_ids_started_by_response:
            self.edge(Rel.STARTED, this, (Label.TOOL_CALL, tool_call_id),
                      rule="started_by_response")
        self.edge(Rel.EVIDENCED_BY, this, (Label.RAW_PAYLOAD, call.raw_request_payload_id),
                  role="request")
        self.edge(Rel.EVIDENCED_BY, this, (Label.RAW_PAYLOAD, call.raw_response_payload_id),
                  role="response")

    def started_edges(self, target: tuple[Label, str], item_ids: list[str],
                      responded_by: Mapping[str, list[str]]) -> None:
        """STARTED into a tool call or code cell from the calls behind its call items.

        ``responded_by`` lists, per item, the inference calls that responded with it.
        """
        for item_id in item_ids:
            for inference_id in responded_by.get(item_id, ()):
                self.edge(Rel.STARTED, (Label.INFERENCE_CALL, inference_id), target,
                          rule="response_item")
            item = self.trace.conversation_items.get(item_id)
            for producer in item.produced_by if item is not None else ():
                if isinstance(producer, InferenceProducer):
                    self.edge(Rel.STARTED, (Label.INFERENCE_CALL, producer.inference_call_id),
                              target, rule="item_producer")

    def tool_edges(self, tool: ToolCall) -> None:
        this = (Label.TOOL_CALL, tool.tool_call_id)
        self.contained(this, tool.thread_id, tool.started_by_codex_turn_id)
        self.edges_in(Rel.INVOKED, Label.CONVERSATION_ITEM, tool.model_visible_call_item_ids,
                      this)
        self.edges(Rel.RESULTED_IN, this, Label.CONVERSATION_ITEM,
                   tool.model_visible_output_item_ids)
        if isinstance(tool.requester, CodeCellRequester):
            self.edge(Rel.REQUESTED, (Label.CODE_CELL, tool.requester.code_cell_id), this)
        self.edge(Rel.EXECUTED, this, (Label.TERMINAL_OPERATION, tool.terminal_operation_id))
        if isinstance(tool.summary, TerminalSummary):
            self.edge(Rel.EXECUTED, this, (Label.TERMINAL_OPERATION, tool.summary.operation_id))
        payload = Label.RAW_PAYLOAD
        self.edge(Rel.EVIDENCED_BY, this, (payload, tool.raw_invocation_payload_id),
                  role="invocation")
        self.edge(Rel.EVIDENCED_BY, this, (payload, tool.raw_result_payload_id), role="result")
        self.edges(Rel.EVIDENCED_BY, this, payload, tool.raw_runtime_payload_ids,
                   role="runtime")

    def cell_edges(self, cell: CodeCell) -> None:
        this = (Label.CODE_CELL, cell.code_cell_id)
        self.contained(this, cell.thread_id, cell.codex_turn_id)
        self.edge(Rel.INVOKED, (Label.CONVERSATION_ITEM, cell.source_item_id), this)
        self.edges(Rel.RESULTED_IN, this, Label.CONVERSATION_ITEM, cell.output_item_ids)
        self.edges(Rel.REQUESTED, this, Label.TOOL_CALL, cell.nested_tool_call_ids)
        self.edges(Rel.AWAITED_BY, this, Label.TOOL_CALL, cell.wait_tool_call_ids)

    def session_edges(self, session: TerminalSession) -> None:
        this = (Label.TERMINAL_SESSION, session.terminal_id)
        self.edge(Rel.CONTAINS, (Label.THREAD, session.thread_id), this)
        self.edge(Rel.CREATED_TERMINAL,
                  (Label.TERMINAL_OPERATION, session.created_by_operation_id), this)
        self.edges_in(Rel.USED_TERMINAL, Label.TERMINAL_OPERATION, session.operation_ids, this)

    def operation_edges(self, operation: TerminalOperation) -> None:
        this = (Label.TERMINAL_OPERATION, operation.operation_id)
        self.edge(Rel.EXECUTED, (Label.TOOL_CALL, operation.tool_call_id), this)
        self.edge(Rel.USED_TERMINAL, this, (Label.TERMINAL_SESSION, operation.terminal_id))
        for index, observation in enumerate(operation.model_observations):
            for role, ids in (("call", observation.call_item_ids),
                              ("output", observation.output_item_ids)):
                self.edges(Rel.OBSERVED_BY, this, Label.CONVERSATION_ITEM, ids,
                           observation=index, role=role, source=observation.source.value)
        self.edges(Rel.EVIDENCED_BY, this, Label.RAW_PAYLOAD, operation.raw_payload_ids,
                   role="runtime")

    def compaction_edges(self, compaction: Compaction) -> None:
        this = (Label.COMPACTION, compaction.compaction_id)
        self.contained(this, compaction.thread_id, compaction.codex_turn_id)
        self.edge(Rel.INSTALLED_MARKER, this,
                  (Label.CONVERSATION_ITEM, compaction.marker_item_id))
        self.edges_in(Rel.COMPACTED_INTO, Label.CONVERSATION_ITEM, compaction.input_item_ids,
                      this)
        self.edges(Rel.REPLACED_WITH, this, Label.CONVERSATION_ITEM,
                   compaction.replacement_item_ids)
        self.edges(Rel.MADE_REQUEST, this, Label.COMPACTION_REQUEST, compaction.request_ids)

    def compaction_request_edges(self, request: CompactionRequest) -> None:
        this = (Label.COMPACTION_REQUEST, request.compaction_request_id)
        self.contained(this, request.thread_id, request.codex_turn_id)
        self.edge(Rel.MADE_REQUEST, (Label.COMPACTION, request.compaction_id), this)
        self.edge(Rel.EVIDENCED_BY, this,
                  (Label.RAW_PAYLOAD, request.raw_request_payload_id), role="request")
        self.edge(Rel.EVIDENCED_BY, this,
                  (Label.RAW_PAYLOAD, request.raw_response_payload_id), role="response")

    def interaction_edges(self, edge: InteractionEdge) -> None:
        source, target = _anchor(edge.source), _anchor(edge.target)
        self.edge(
            INTERACTION_RELS[edge.kind.value], source, target, edge_id=edge.edge_id,
            kind=edge.kind.value, source_anchor=edge.source.type,
            target_anchor=edge.target.type, started_at_unix_ms=edge.started_at_unix_ms,
            ended_at_unix_ms=edge.ended_at_unix_ms, carried_item_ids=list(edge.carried_item_ids),
            carried_raw_payload_ids=list(edge.carried_raw_payload_ids),
        )
        for payload_id in edge.carried_raw_payload_ids:
            self.edge(Rel.EVIDENCED_BY, source, (Label.RAW_PAYLOAD, payload_id),
                      role="carried", edge_id=edge.edge_id)

    def payload_edges(self, payload_id: str) -> None:
        self.edge(Rel.HAS_RAW_PAYLOAD, (Label.ROLLOUT, self.trace.rollout_id),
                  (Label.RAW_PAYLOAD, payload_id))


#: The projection itself, for a caller that re-projects part of a trace
#: (:mod:`tracegraph.watch.live`).
Projection = _Projection


def _values(mapping: dict[str, Any]) -> list[Any]:
    """Map values in key byte order (the order ``state.json`` lists them)."""
    return [mapping[key] for key in sorted(mapping)]


def _tool_attributes(tool: ToolCall) -> dict[str, Any]:
    kind, summary = tool.kind, tool.summary
    name: str = kind.type
    if isinstance(kind, McpKind):
        name = f"{kind.server}/{kind.tool}"
    elif isinstance(kind, OtherKind):
        name = kind.name
    attrs: dict[str, Any] = {
        "thread_id": tool.thread_id,
        "started_by_codex_turn_id": tool.started_by_codex_turn_id,
        "model_visible_call_id": tool.model_visible_call_id,
        "code_mode_runtime_tool_id": tool.code_mode_runtime_tool_id,
        "mcp_call_id": tool.mcp_call_id,
        "requester": tool.requester.type,
        "requester_code_cell_id": tool.requester.code_cell_id
        if isinstance(tool.requester, CodeCellRequester) else None,
        "kind": kind.type,
        "tool_name": name,
        "mcp_server": kind.server if isinstance(kind, McpKind) else None,
        "mcp_tool": kind.tool if isinstance(kind, McpKind) else None,
        "terminal_operation_id": tool.terminal_operation_id,
        "summary": summary.type,
        "raw_invocation_payload_id": tool.raw_invocation_payload_id,
        "raw_result_payload_id": tool.raw_result_payload_id,
        **_execution(tool.execution),
    }
    if isinstance(summary, GenericSummary):
        attrs.update(summary_label=summary.label, input_preview=summary.input_preview,
                     output_preview=summary.output_preview)
    elif isinstance(summary, AgentSummary):
        attrs.update(target_agent_path=summary.target_agent_path, task_name=summary.task_name,
                     message_preview=summary.message_preview)
    elif isinstance(summary, WaitAgentSummary):
        attrs.update(target_agent_path=summary.target_agent_path, timeout_ms=summary.timeout_ms)
    return attrs


def _operation_attributes(operation: TerminalOperation) -> dict[str, Any]:
    request, result = operation.request, operation.result
    attrs: dict[str, Any] = {
        "terminal_id": operation.terminal_id,
        "tool_call_id": operation.tool_call_id,
        "kind": operation.kind.value,
        "yield_time_ms": request.yield_time_ms,
        "max_output_tokens": request.max_output_tokens,
        "has_result": result is not None,
        **_execution(operation.execution),
    }
    if isinstance(request, ExecCommandRequest):
        attrs.update(command=list(request.command), display_command=request.display_command,
                     cwd=request.cwd)
    else:
        attrs.update(stdin=request.stdin)
    if result is not None:
        attrs.update(
            exit_code=result.exit_code,
            stdout_preview=preview(result.stdout), stdout_chars=len(result.stdout),
            stderr_preview=preview(result.stderr), stderr_chars=len(result.stderr),
            formatted_output_preview=preview(result.formatted_output or ""),
            original_token_count=result.original_token_count, chunk_id=result.chunk_id,
        )
    return attrs
