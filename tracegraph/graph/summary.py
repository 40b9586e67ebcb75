"""Counts, threads and failures of a projected graph (the CLI summary table)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import networkx as nx

from tracegraph.graph.adjacency import edge_triples, node_edges
from tracegraph.graph.schema import (
    FAILED_RUNTIME_STATUSES,
    FAILED_STATUSES,
    SCHEMA,
    Label,
    Provenance,
    Rel,
)

__all__ = ["failures", "graph_summary"]

#: Node attribute that best says what a failed object was, per label.
_DETAIL_ATTRIBUTE: dict[str, str] = {
    Label.ROLLOUT: "rollout_id",
    Label.THREAD: "agent_path",
    Label.TURN: "thread_id",
    Label.INFERENCE_CALL: "model",
    Label.TOOL_CALL: "tool_name",
    Label.CODE_CELL: "source_js",
    Label.TERMINAL_SESSION: "created_by_operation_id",
    Label.TERMINAL_OPERATION: "display_command",
    Label.COMPACTION_REQUEST: "model",
}


_DERIVED = Provenance.DERIVED.value


def graph_summary(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """Node and edge counts per type, threads and failures of ``graph``.

    Returns a JSON-ready dict: ``traces``, ``node_count``, ``edge_count``,
    ``nodes`` (label -> count, every schema label), ``edges`` (type -> count,
    every schema type), ``derived_edges`` (the types, in ``edges`` order, with an edge
    of ``provenance: derived``; in session-rollout graphs every type present),
    ``threads`` (one dict per Thread node), ``failures`` (failed, cancelled or aborted
    objects, failed or terminated code cells and terminal operations with a non-zero
    exit code, in causal order) and
    ``dangling_references`` (how many references pointed at missing objects).
    """
    node_counts = Counter(str(attrs.get("label")) for _, attrs in graph.nodes(data=True))
    edge_counts: Counter[str] = Counter()
    derived: set[str] = set()
    for *_, attrs in edge_triples(graph):
        edge_type = str(attrs.get("label"))
        edge_counts[edge_type] += 1
        if attrs.get("provenance") == _DERIVED:
            derived.add(edge_type)
    edge_count = sum(edge_counts.values())
    nodes = {node.label.value: node_counts.pop(node.label.value, 0) for node in SCHEMA.nodes}
    nodes.update(sorted(node_counts.items()))
    edges = {edge.name.value: edge_counts.pop(edge.name.value, 0) for edge in SCHEMA.edges}
    edges.update(sorted(edge_counts.items()))
    traces = graph.graph.get("trace_ids") or sorted(
        {str(attrs.get("trace_id")) for _, attrs in graph.nodes(data=True)}
    )
    return {
        "traces": list(traces),
        "node_count": graph.number_of_nodes(),
        "edge_count": edge_count,
        "nodes": nodes,
        "edges": edges,
        "derived_edges": [name for name in edges if name in derived],
        "threads": _threads(graph),
        "failures": failures(graph),
        "dangling_references": len(graph.graph.get("dangling_references") or ()),
    }


def _threads(graph: nx.MultiDiGraph) -> list[dict[str, Any]]:
    threads = []
    for key, attrs in graph.nodes(data=True):
        if attrs.get("label") != Label.THREAD:
            continue
        counts: Counter[str] = Counter()
        for target, edge in node_edges(graph, key, into=False):
            rel, target_label = edge.get("label"), graph.nodes[target].get("label")
            if rel == Rel.HAS_TURN:
                counts["turns"] += 1
            elif rel == Rel.HAS_ITEM:
                counts["items"] += 1
            elif rel == Rel.CONTAINS and target_label == Label.INFERENCE_CALL:
                counts["inference_calls"] += 1
            elif rel == Rel.CONTAINS and target_label == Label.TOOL_CALL:
                counts["tool_calls"] += 1
        threads.append({
            "key": key,
            "trace_id": attrs.get("trace_id"),
            "thread_id": attrs.get("object_id"),
            "agent_path": attrs.get("agent_path"),
            "nickname": attrs.get("nickname"),
            "is_root": bool(attrs.get("is_root")),
            "status": attrs.get("status"),
            "turns": counts["turns"],
            "items": counts["items"],
            "inference_calls": counts["inference_calls"],
            "tool_calls": counts["tool_calls"],
        })
    threads.sort(key=lambda thread: (str(thread["trace_id"]), not thread["is_root"],
                                     str(thread["agent_path"]), str(thread["key"])))
    return threads


def failures(graph: nx.MultiDiGraph, trace: str | None = None) -> list[dict[str, Any]]:
    """Failed, cancelled or aborted objects, failed or terminated code cells and terminal
    operations with a non-zero exit code (of one trace, or all), in causal order.

    ``detail`` says what the object was (the attribute of :data:`_DETAIL_ATTRIBUTE`,
    for a write to a terminal its stdin), cut at its first non-empty line.
    """
    found = []
    for key, attrs in graph.nodes(data=True):
        if trace is not None and attrs.get("trace_id") != trace:
            continue
        reasons = []
        if attrs.get("status") in FAILED_STATUSES:
            reasons.append(f"status {attrs['status']}")
        if attrs.get("runtime_status") in FAILED_RUNTIME_STATUSES:
            reasons.append(f"runtime {attrs['runtime_status']}")
        exit_code = attrs.get("exit_code")
        if exit_code is not None and exit_code != 0:
            reasons.append(f"exit code {exit_code}")
        if not reasons:
            continue
        label = str(attrs.get("label"))
        detail = attrs.get(_DETAIL_ATTRIBUTE.get(label, "object_id"))
        if detail is None and label == Label.TERMINAL_OPERATION and "stdin" in attrs:
            detail = f"stdin: {attrs['stdin']}" if attrs["stdin"] else "poll"
        found.append({
            "key": key,
            "trace_id": attrs.get("trace_id"),
            "label": label,
            "object_id": attrs.get("object_id"),
            "reason": ", ".join(reasons),
            "detail": None if detail is None else _first_line(str(detail)),
            "started_seq": attrs.get("started_seq"),
        })
    found.sort(key=lambda failure: (
        str(failure["trace_id"]),
        failure["started_seq"] is None,
        failure["started_seq"] or 0,
        str(failure["key"]),
    ))
    return found


def _first_line(text: str) -> str:
    """The first non-empty line (split at newlines only, so Cypher's ``split`` agrees)."""
    return next((line for line in text.split("\n") if line), "")
