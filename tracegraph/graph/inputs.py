"""Inference request inputs in either form of the graph (see ``RequestInputForm``).

In the ``delta`` form a request holds PROMPTED edges only for the items it adds
to the request it EXTENDS; in the ``full_snapshot`` form it holds them all and
there is no EXTENDS edge. Walking EXTENDS from a request and collecting the
PROMPTED edges of every request reached gives its whole input in both forms.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

import networkx as nx

from tracegraph.graph.schema import Label, Rel

__all__ = ["extending_requests", "latest_input_item", "request_input", "requests_extended"]


def _prompted(graph: nx.MultiDiGraph, request: str) -> list[tuple[int, str]]:
    """(position, item key) of the PROMPTED edges into one request node."""
    return [
        (data["position"], item) for item, _, data in graph.in_edges(request, data=True)
        if data.get("label") == Rel.PROMPTED.value
        and graph.nodes[item].get("label") == Label.CONVERSATION_ITEM.value
    ]


def requests_extended(graph: nx.MultiDiGraph, request: str) -> Iterator[str]:
    """The request, then the request it EXTENDS, and so on back to one that lists all."""
    seen = set()
    current: str | None = request
    while current is not None and current not in seen:
        seen.add(current)
        yield current
        current = next((target for _, target, data in graph.out_edges(current, data=True)
                        if data.get("label") == Rel.EXTENDS.value), None)


def extending_requests(graph: nx.MultiDiGraph, request: str) -> list[str]:
    """The request and every request that EXTENDS it, directly or not (they all carry
    its input items at the same positions)."""
    found = [request]
    seen = {request}
    for current in found:
        for source, _, data in graph.in_edges(current, data=True):
            if data.get("label") == Rel.EXTENDS.value and source not in seen:
                seen.add(source)
                found.append(source)
    return found


def request_input(graph: nx.MultiDiGraph, request: str) -> list[tuple[int, str]]:
    """(position, item key) of a request's whole input, in position order."""
    rows = [row for current in requests_extended(graph, request)
            for row in _prompted(graph, current)]
    rows.sort()
    return rows


def latest_input_item(graph: nx.MultiDiGraph, request: str,
                      skip: Collection[str] = ()) -> tuple[int, str] | None:
    """(position, item key) of the last item of a request's input not in ``skip``.

    A request's own PROMPTED edges come after everything it inherits, so the walk
    stops at the first request that has such an item.
    """
    for current in requests_extended(graph, request):
        own = [row for row in _prompted(graph, current) if row[1] not in skip]
        if own:
            return max(own)
    return None
