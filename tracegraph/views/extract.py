"""What the pictures show, read from a projected graph: spans, lanes, agents, causes.

Everything here depends only on the graph schema's labels, edge types and
attributes (:mod:`tracegraph.graph.schema`), so a bundle, a ``state.json`` and a
GraphML file give the same pictures. The HTML view and the static plots both
draw from :class:`TraceView`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from tracegraph._gc import collector_paused
from tracegraph.errors import TracegraphError
from tracegraph.graph.adjacency import edge_triples
from tracegraph.graph.schema import Label, Rel
from tracegraph.graph.summary import graph_summary
from tracegraph.queries._walk import Walk
from tracegraph.queries.causality import MAX_CHAIN, cause_of

__all__ = [
    "AGENT_EDGES",
    "ROWS",
    "AgentEdge",
    "Span",
    "TraceView",
    "ViewError",
    "extract",
]


class ViewError(TracegraphError):
    """The graph cannot be drawn as asked (no such trace, several traces, no rollout)."""


#: Timeline rows inside one thread's lane, top to bottom: (row name, label shown).
ROWS: tuple[tuple[str, str], ...] = (
    ("turn", "turns"),
    ("inference", "inference calls"),
    ("tool", "tool calls"),
    ("code_cell", "code cells"),
    ("nested_tool", "nested tool calls"),
    ("terminal", "terminal operations"),
    ("compaction", "compaction requests"),
)

#: Row of each label drawn on the timeline (nested tool calls are moved below).
_ROW_OF_LABEL: dict[str, str] = {
    Label.TURN: "turn",
    Label.INFERENCE_CALL: "inference",
    Label.TOOL_CALL: "tool",
    Label.CODE_CELL: "code_cell",
    Label.TERMINAL_OPERATION: "terminal",
    Label.COMPACTION_REQUEST: "compaction",
}

#: Interaction edge types drawn between threads in the agent tree: (type, short name).
AGENT_EDGES: tuple[tuple[Rel, str], ...] = (
    (Rel.SPAWNED_AGENT, "spawn"),
    (Rel.ASSIGNED_TASK, "task"),
    (Rel.SENT_MESSAGE, "message"),
    (Rel.DELIVERED_RESULT, "result"),
    (Rel.CLOSED_AGENT, "close"),
)

#: Node attributes not repeated in the details (the view shows them elsewhere).
_HIDDEN_ATTRIBUTES = frozenset({"label", "trace_id", "object_id"})
#: Longest attribute text kept for the details panel (JavaScript sources can be long).
DETAIL_CHARS = 2000

_TOKEN_ATTRIBUTES = ("input_tokens", "cached_input_tokens", "output_tokens",
                     "reasoning_output_tokens")


@dataclass(frozen=True, slots=True)
class Span:
    """One bar of the timeline."""

    node: str
    label: str
    thread: str
    row: str
    start_ms: int
    #: End of the bar: the object's end, or the end of the trace while it runs.
    end_ms: int
    status: str
    #: True when the object has no end yet (drawn to the end of the trace).
    open: bool
    #: False when the source recorded only the end (session files): drawn at its end.
    start_known: bool = True


@dataclass(frozen=True, slots=True)
class AgentEdge:
    """Interaction edges of one type between two threads (anchors mapped to threads)."""

    source: str
    target: str
    rel: str
    name: str
    count: int
    edge_ids: tuple[str, ...]


@dataclass(slots=True)
class TraceView:
    """One rollout, ready to draw."""

    trace_id: str
    rollout: dict[str, Any]
    summary: dict[str, Any]
    #: Thread node keys, root first, then depth-first by agent path.
    threads: list[str]
    #: Thread key -> depth in the spawn tree (root 0).
    depth: dict[str, int]
    #: Thread key -> parent thread key.
    parent: dict[str, str]
    spans: list[Span]
    agent_edges: list[AgentEdge]
    #: Trace start and end (wall clock ms); the end covers every started object.
    start_ms: int
    end_ms: int
    #: Node key -> (cause node key, edge type) by the ``causal-chain`` rules.
    causes: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Tool call key -> the terminal operation it executed (EXECUTED edges).
    terminal_of_tool: dict[str, str] = field(default_factory=dict)
    #: Chains that a cause pointer walk would get wrong (a cause already on the chain).
    chains: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    graph: nx.MultiDiGraph = field(default_factory=nx.MultiDiGraph)

    def attrs(self, node: str) -> dict[str, Any]:
        data: dict[str, Any] = self.graph.nodes[node]
        return data

    def chain(self, node: str) -> list[tuple[str, str | None]]:
        """(node, via edge type) steps from ``node`` back to its first cause, exactly the
        steps of the ``causal-chain`` query."""
        if node in self.chains:
            return self.chains[node]
        steps: list[tuple[str, str | None]] = [(node, None)]
        current = node
        while current in self.causes and len(steps) < MAX_CHAIN:
            current, via = self.causes[current]
            steps.append((current, via))
        return steps

    def details(self, node: str) -> dict[str, Any]:
        """The node's attributes for display (long text cut at :data:`DETAIL_CHARS`)."""
        out: dict[str, Any] = {}
        for name, value in self.attrs(node).items():
            if name in _HIDDEN_ATTRIBUTES:
                continue
            if isinstance(value, str) and len(value) > DETAIL_CHARS:
                value = value[: DETAIL_CHARS - 1] + "…"
            out[name] = value
        return out

    def lane_name(self, thread: str) -> str:
        attrs = self.attrs(thread)
        name = str(attrs.get("agent_path") or attrs.get("object_id"))
        nickname = attrs.get("nickname")
        return f"{name} ({nickname})" if nickname else name

    def token_totals(self) -> dict[str, int]:
        totals = dict.fromkeys(_TOKEN_ATTRIBUTES, 0)
        for _, attrs in self.graph.nodes(data=True):
            if attrs.get("label") == Label.INFERENCE_CALL and attrs.get("trace_id") == self.trace_id:
                for name in _TOKEN_ATTRIBUTES:
                    totals[name] += int(attrs.get(name) or 0)
        return totals

    def counts(self) -> dict[str, int]:
        return dict(Counter(span.label for span in self.spans))


@collector_paused()
def extract(graph: nx.MultiDiGraph, trace: str | None = None) -> TraceView:
    """The drawable view of one rollout in ``graph`` (``trace`` picks one of several)."""
    rollouts = [node for node, data in graph.nodes(data=True)
                if data.get("label") == Label.ROLLOUT
                and (trace is None or data.get("trace_id") == trace)]
    if not rollouts:
        known = sorted({str(data.get("trace_id")) for _, data in graph.nodes(data=True)
                        if data.get("label") == Label.ROLLOUT})
        if trace is not None:
            raise ViewError(f"no trace {trace!r} in the graph (it has {', '.join(known) or 'none'})")
        raise ViewError("the graph has no Rollout node: nothing to draw")
    if len(rollouts) > 1:
        known = sorted(str(graph.nodes[node]["trace_id"]) for node in rollouts)
        raise ViewError(f"the graph holds several traces ({', '.join(known)}); pick one with --trace")
    rollout = rollouts[0]
    trace_id = str(graph.nodes[rollout]["trace_id"])
    sub = graph if trace is None and len(graph.graph.get("trace_ids") or [trace_id]) == 1 else \
        graph.subgraph([n for n, d in graph.nodes(data=True) if d.get("trace_id") == trace_id])
    walk = Walk(sub, trace_id)
    threads, depth, parent = _thread_tree(sub, walk)
    thread_by_id = {str(sub.nodes[key]["object_id"]): key for key in threads}
    start_ms, end_ms = _bounds(sub, rollout)
    spans = list(_spans(sub, walk, thread_by_id, end_ms))
    spans.sort(key=lambda span: (span.start_ms, _seq(sub, span.node), span.node))
    view = TraceView(
        trace_id=trace_id,
        rollout=dict(sub.nodes[rollout]),
        summary=graph_summary(sub),
        threads=threads,
        depth=depth,
        parent=parent,
        spans=spans,
        agent_edges=_agent_edges(sub, thread_by_id),
        start_ms=start_ms,
        end_ms=end_ms,
        graph=sub,
    )
    for span in spans:
        if span.label == Label.TOOL_CALL:
            for operation, _ in walk.out(span.node, Rel.EXECUTED, Label.TERMINAL_OPERATION):
                view.terminal_of_tool[span.node] = operation
    selectable = [span.node for span in spans] + threads
    selectable += [failure["key"] for failure in view.summary["failures"]]
    _add_causes(view, walk, selectable)
    return view


def _seq(graph: nx.MultiDiGraph, node: str) -> int:
    return int(graph.nodes[node].get("started_seq") or 0)


def _bounds(graph: nx.MultiDiGraph, rollout: str) -> tuple[int, int]:
    """Wall-clock start and end of the trace: the rollout's, widened to every object."""
    attrs = graph.nodes[rollout]
    starts = [int(attrs["started_at_unix_ms"])] if "started_at_unix_ms" in attrs else []
    ends = [int(attrs["ended_at_unix_ms"])] if "ended_at_unix_ms" in attrs else []
    for _, data in graph.nodes(data=True):
        if "started_at_unix_ms" in data:
            starts.append(int(data["started_at_unix_ms"]))
        if "ended_at_unix_ms" in data:
            ends.append(int(data["ended_at_unix_ms"]))
    start = min(starts) if starts else 0
    return start, max([start, *starts, *ends])


def _thread_tree(graph: nx.MultiDiGraph, walk: Walk) -> tuple[list[str], dict[str, int],
                                                                dict[str, str]]:
    threads = list(walk.nodes(Label.THREAD))
    parent: dict[str, str] = {}
    for thread in threads:
        for source, _ in walk.into(thread, Rel.HAS_CHILD, Label.THREAD):
            parent[thread] = source
    children: dict[str | None, list[str]] = defaultdict(list)
    for thread in threads:
        children[parent.get(thread)].append(thread)

    def order(key: str) -> tuple[bool, str, str]:
        attrs = graph.nodes[key]
        return (not attrs.get("is_root"), str(attrs.get("agent_path") or ""), key)

    ordered: list[str] = []
    depth: dict[str, int] = {}

    def visit(key: str, level: int) -> None:
        if key in depth:
            return
        depth[key] = level
        ordered.append(key)
        for child in sorted(children.get(key, []), key=order):
            visit(child, level + 1)

    for root in sorted(children.get(None, []), key=order):
        visit(root, 0)
    for thread in sorted(threads, key=order):  # a parent cycle: draw it anyway
        visit(thread, 0)
    return ordered, depth, parent


def _thread_of(graph: nx.MultiDiGraph, walk: Walk, node: str,
               thread_by_id: dict[str, str]) -> str | None:
    attrs = graph.nodes[node]
    if attrs.get("label") == Label.THREAD:
        return node
    thread_id = attrs.get("thread_id")
    if thread_id is None and attrs.get("label") == Label.TERMINAL_OPERATION:
        for tool, _ in walk.into(node, Rel.EXECUTED, Label.TOOL_CALL):
            thread_id = graph.nodes[tool].get("thread_id")
        for session, _ in walk.out(node, Rel.USED_TERMINAL, Label.TERMINAL_SESSION):
            thread_id = thread_id or graph.nodes[session].get("thread_id")
    return thread_by_id.get(str(thread_id)) if thread_id is not None else None


def _spans(graph: nx.MultiDiGraph, walk: Walk, thread_by_id: dict[str, str],
           end_ms: int) -> Iterator[Span]:
    for node, attrs in graph.nodes(data=True):
        label = attrs.get("label")
        row = _ROW_OF_LABEL.get(str(label))
        if row is None or attrs.get("trace_id") != walk.trace:
            continue
        start_known = "started_at_unix_ms" in attrs
        if not start_known and "ended_at_unix_ms" not in attrs:
            continue
        thread = _thread_of(graph, walk, node, thread_by_id)
        if thread is None:
            continue
        if label == Label.TOOL_CALL and attrs.get("requester") == "code_cell":
            row = "nested_tool"
        ended = attrs.get("ended_at_unix_ms")
        start = int(attrs["started_at_unix_ms"] if start_known else ended)
        yield Span(node, str(label), thread, row, start,
                   max(start, int(ended) if ended is not None else end_ms),
                   str(attrs.get("status") or "unknown"), ended is None, start_known)


def _agent_edges(graph: nx.MultiDiGraph, thread_by_id: dict[str, str]) -> list[AgentEdge]:
    names = dict(AGENT_EDGES)
    grouped: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for u, v, data in edge_triples(graph):
        rel = data.get("label")
        if rel not in names:
            continue
        source = _anchor_thread(graph, u, thread_by_id)
        target = _anchor_thread(graph, v, thread_by_id)
        if source is None or target is None:
            continue
        grouped[(source, target, str(rel))].append(str(data.get("edge_id") or data["edge_key"]))
    order = [rel.value for rel, _ in AGENT_EDGES]
    return [
        AgentEdge(source, target, rel, names[Rel(rel)], len(ids), tuple(sorted(ids)))
        for (source, target, rel), ids in sorted(
            grouped.items(), key=lambda entry: (order.index(entry[0][2]), entry[0][:2]))
    ]


def _anchor_thread(graph: nx.MultiDiGraph, node: str, thread_by_id: dict[str, str]) -> str | None:
    attrs = graph.nodes[node]
    if attrs.get("label") == Label.THREAD:
        return node
    thread_id = attrs.get("thread_id")
    return thread_by_id.get(str(thread_id)) if thread_id is not None else None


def _add_causes(view: TraceView, walk: Walk, nodes: list[str]) -> None:
    """Cause pointers for every node on the chains of ``nodes``.

    A pointer is the cause of a node with only the node itself visited. Following
    pointers gives the ``causal-chain`` query's steps as long as no pointer leads
    back onto the chain (the query's wider visited set would then pick another
    cause), so such chains are computed exactly and stored whole.
    """
    causes = view.causes
    looked_at: set[str] = set()
    for start in nodes:
        current = start
        while current not in looked_at:
            looked_at.add(current)
            found = cause_of(walk, current, {current})
            if found is None:
                break
            causes[current] = found
            current = found[0]
    for start in nodes:
        seen = {start}
        current = start
        while current in causes:
            current = causes[current][0]
            if current in seen:
                view.chains[start] = _exact_chain(walk, start)
                break
            seen.add(current)


def _exact_chain(walk: Walk, node: str) -> list[tuple[str, str | None]]:
    steps: list[tuple[str, str | None]] = [(node, None)]
    visited = {node}
    current = node
    while len(steps) < MAX_CHAIN:
        found = cause_of(walk, current, visited)
        if found is None:
            break
        current = found[0]
        visited.add(current)
        steps.append(found)
    return steps
