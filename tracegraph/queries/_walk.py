"""Small typed traversal helpers over a projected graph (offline queries)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import networkx as nx

from tracegraph.errors import TracegraphError
from tracegraph.graph.adjacency import node_edges
from tracegraph.graph.schema import Label, Rel


class QueryError(TracegraphError):
    """A canned query was asked for something the graph cannot answer."""


Row = dict[str, Any]


def order_key(*values: Any) -> tuple[Any, ...]:
    """Sort key with Cypher's ordering of nulls: after every value, ascending."""
    return tuple((value is None, value if value is not None else 0) for value in values)


class Walk:
    """A graph plus an optional trace filter, with edge-type-aware steps."""

    def __init__(self, graph: nx.MultiDiGraph, trace: str | None = None) -> None:
        known = graph.graph.get("trace_ids")
        if trace is not None and known is not None and trace not in known:
            raise QueryError(
                f"no trace {trace!r} in the graph (it has {', '.join(sorted(known)) or 'none'})"
            )
        self.graph = graph
        self.trace = trace
        #: Edges into and out of each node stepped from so far, by type (see _by_type).
        self._into: dict[str, dict[str, list[tuple[str, dict[str, Any]]]]] = {}
        self._out: dict[str, dict[str, list[tuple[str, dict[str, Any]]]]] = {}

    def attrs(self, node: str) -> dict[str, Any]:
        data: dict[str, Any] = self.graph.nodes[node]
        return data

    def get(self, node: str | None, name: str) -> Any:
        return None if node is None else self.graph.nodes[node].get(name)

    def nodes(self, label: Label) -> Iterator[str]:
        for node, data in self.graph.nodes(data=True):
            if data.get("label") == label.value and (
                self.trace is None or data.get("trace_id") == self.trace
            ):
                yield node

    def into(self, node: str, rel: Rel, label: Label | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """(source, edge data) of edges of type ``rel`` ending at ``node``."""
        edges = self._into.get(node)
        if edges is None:
            edges = self._into[node] = _by_type(node_edges(self.graph, node, into=True))
        return self._labelled(edges.get(rel, ()), label)

    def out(self, node: str, rel: Rel, label: Label | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """(target, edge data) of edges of type ``rel`` leaving ``node``."""
        edges = self._out.get(node)
        if edges is None:
            edges = self._out[node] = _by_type(node_edges(self.graph, node, into=False))
        return self._labelled(edges.get(rel, ()), label)

    def _labelled(self, edges: Iterable[tuple[str, dict[str, Any]]],
                  label: Label | None) -> Iterator[tuple[str, dict[str, Any]]]:
        if label is None:
            yield from edges
            return
        nodes = self.graph.nodes
        for other, data in edges:
            if nodes[other].get("label") == label:
                yield other, data

    def find(self, label: Label, object_id: str) -> str:
        """The node of ``label`` with this object id (in the trace filter)."""
        matches = [
            node for node in self.nodes(label) if self.graph.nodes[node]["object_id"] == object_id
        ]
        if not matches:
            raise QueryError(f"no {label.value} with id {object_id!r} in the graph")
        if len(matches) > 1:
            traces = sorted(self.graph.nodes[node]["trace_id"] for node in matches)
            raise QueryError(
                f"{label.value} {object_id!r} exists in several traces ({', '.join(traces)}); "
                "pass a trace id"
            )
        return matches[0]

    def find_any(self, ref: str) -> str:
        """A node by key, or by object id of any label (must be unique)."""
        if ref in self.graph and (
            self.trace is None or self.graph.nodes[ref].get("trace_id") == self.trace
        ):
            return ref
        matches = [
            node for node, data in self.graph.nodes(data=True)
            if data.get("object_id") == ref
            and (self.trace is None or data.get("trace_id") == self.trace)
        ]
        if not matches:
            raise QueryError(f"no node with key or id {ref!r} in the graph")
        if len(matches) > 1:
            # The root thread's id is usually also the rollout id: mean the thread.
            matches = [
                node for node in matches if self.graph.nodes[node]["label"] != "Rollout"
            ] or matches
        if len(matches) > 1:
            raise QueryError(
                f"id {ref!r} names several nodes ({', '.join(sorted(matches))}); pass a node key"
            )
        return matches[0]

    def starting_inferences(self, node: str) -> list[str]:
        """Inference calls with a STARTED edge to this tool call or code cell, in start order."""
        sources = [source for source, _ in self.into(node, Rel.STARTED, Label.INFERENCE_CALL)]
        return sorted(set(sources), key=lambda key: order_key(
            self.get(key, "started_seq"), self.get(key, "object_id")))

    def executing_tool(self, operation: str) -> str | None:
        """The tool call behind a terminal operation (lowest key if several)."""
        tools = sorted({source for source, _ in self.into(operation, Rel.EXECUTED, Label.TOOL_CALL)})
        return tools[0] if tools else None

    def requesting_cell(self, tool: str) -> str | None:
        cells = sorted({source for source, _ in self.into(tool, Rel.REQUESTED, Label.CODE_CELL)})
        return cells[0] if cells else None

    def causing_inference(self, tool: str) -> str | None:
        """The inference whose response started a tool call, through its code cell if nested."""
        cell = self.requesting_cell(tool)
        inferences = self.starting_inferences(cell if cell is not None else tool)
        return inferences[0] if inferences else None


def _by_type(edges: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """One node's (other end, edge data) pairs by edge type, in the graph's order.

    Causes are looked for along several edge types, so a node's edges are sorted
    into types once rather than scanned once per type. A walk sees each node's
    edges as they were at its first step from that node: make a new walk after
    changing the graph.
    """
    grouped: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for other, data in edges:
        rel = str(data.get("label"))
        found = grouped.get(rel)
        if found is None:
            grouped[rel] = [(other, data)]
        else:
            found.append((other, data))
    return grouped
