"""What changed between two projections of the same trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

__all__ = ["EdgeRef", "GraphDiff", "diff_graphs"]

#: An edge of a ``MultiDiGraph``: (source key, target key, multigraph key).
EdgeRef = tuple[str, str, Any]


@dataclass
class GraphDiff:
    """Nodes and edges of ``new`` to upsert, and what ``old`` had that ``new`` has not.

    Removed elements carry their label (edge type) so a writer can address them.
    """

    nodes: list[str] = field(default_factory=list)
    edges: list[EdgeRef] = field(default_factory=list)
    removed_nodes: list[tuple[str, str]] = field(default_factory=list)
    removed_edges: list[tuple[EdgeRef, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.nodes or self.edges or self.removed_nodes or self.removed_edges)

    @property
    def size(self) -> int:
        return (len(self.nodes) + len(self.edges) + len(self.removed_nodes)
                + len(self.removed_edges))


def diff_graphs(old: nx.MultiDiGraph | None, new: nx.MultiDiGraph) -> GraphDiff:
    """Elements of ``new`` that are new or whose attributes differ, and those removed.

    ``old`` ``None`` means nothing was written yet: everything in ``new`` is new.
    """
    diff = GraphDiff()
    old_nodes = old.nodes if old is not None else {}
    for key, attrs in new.nodes(data=True):
        if old_nodes.get(key) != attrs:
            diff.nodes.append(key)
    old_edges: dict[EdgeRef, dict[str, Any]] = (
        {(u, v, k): attrs for u, v, k, attrs in old.edges(keys=True, data=True)}
        if old is not None else {})
    for u, v, k, attrs in new.edges(keys=True, data=True):
        if old_edges.pop((u, v, k), None) != attrs:
            diff.edges.append((u, v, k))
    if old is not None:
        diff.removed_edges = [(ref, str(attrs.get("label"))) for ref, attrs in old_edges.items()]
        diff.removed_nodes = [(key, str(attrs.get("label")))
                              for key, attrs in old.nodes(data=True) if key not in new]
    return diff
