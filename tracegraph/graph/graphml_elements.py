"""The nodes, edges and graph data of a plain GraphML document, read in one pass.

:func:`~tracegraph.graph.graphml.read_graphml` reads files through here: what
this gives equals what ``networkx.read_graphml(path, node_type=str,
force_multigraph=True)`` gives (edge keys as strings), at a fraction of its cost
on a long rollout's file. Documents using what that reader handles specially (key
defaults, yFiles data, nested graphs, ports, edges without ids, several graphs,
undirected edges) give ``None``, and are read by networkx instead.
:func:`read_elements_file` reads a file the same way as it parses it, dropping each
node and edge element once read, so the whole document is never in memory at once.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from contextlib import suppress
from pathlib import Path
from typing import Any

__all__ = ["Elements", "read_elements", "read_elements_file"]

#: (graph attributes as networkx gives them, node id -> attributes in document order,
#: (source, target, key, attributes) of each edge in document order).
Elements = tuple[dict[str, Any], dict[str, dict[str, Any]],
                 list[tuple[str, str, str, dict[str, Any]]]]

_NS = "{http://graphml.graphdrawing.org/xmlns}"
_KEY, _GRAPH, _NODE, _EDGE, _DATA, _DEFAULT = (
    _NS + tag for tag in ("key", "graph", "node", "edge", "data", "default"))
#: Python type of each ``attr.type``, as networkx's reader converts them.
_TYPES: dict[str, type] = {"integer": int, "string": str, "int": int, "long": int,
                           "float": float, "double": float, "boolean": bool}
_BOOLEANS = {"true": True, "false": False, "0": False, "1": True}
#: Key id -> (attribute name, Python type).
_Keys = dict[str | None, tuple[str, type]]


class _Unusual(Exception):
    """The document uses something networkx's reader treats specially."""


def read_elements(root: ElementTree.Element) -> Elements | None:
    """The contents of a parsed GraphML document, or ``None`` when it is not plain."""
    try:
        return _read(root)
    except (_Unusual, KeyError, ValueError):
        return None  # networkx reads it, and names what is wrong if anything is


def read_elements_file(path: str | Path) -> Elements | None:
    """:func:`read_elements` of the document in the file at ``path``, parsed as it is read.

    Malformed XML raises ``ElementTree.ParseError`` as ``ElementTree.parse`` does.
    """
    try:
        return _stream(path)
    except (_Unusual, KeyError, ValueError):
        return None


def _stream(path: str | Path) -> Elements:
    """What :func:`_read` gives, from parse events: the keys are read as they end (a key
    after the graph is one a node or edge did not find: ``KeyError``, as unusual), the
    graph's nodes, edges and data as they end, each then dropped from the tree."""
    keys: _Keys = {}
    graph: dict[str, Any] = {"node_default": {}, "edge_default": {}}
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[tuple[str, str, str, dict[str, Any]]] = []
    data: dict[str, Any] = {}
    depth, graphs = 0, 0
    current: ElementTree.Element | None = None  # the graph element being read
    with open(path, "rb") as source:
        for event, element in ElementTree.iterparse(source, events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 2 and element.tag == _GRAPH:
                    graphs += 1
                    if graphs > 1 or element.get("edgedefault") != "directed":
                        raise _Unusual
                    current = element
                continue
            if depth == 2:
                if element.tag == _KEY:
                    _key(element, keys)
                elif element is current:
                    current = None
            elif depth == 3 and current is not None:
                _graph_child(element, keys, nodes, edges, data)
                current.clear()  # this child is read: drop it (and everything in it)
            depth -= 1
    if graphs != 1:
        raise _Unusual
    graph.update(data)
    return graph, nodes, edges


def _key(element: ElementTree.Element, keys: _Keys) -> None:
    kind = element.get("attr.type")
    name = element.get("attr.name")
    if (kind not in _TYPES or name is None or element.get("yfiles.type") is not None
            or element.find(_DEFAULT) is not None):
        raise _Unusual
    keys[element.get("id")] = (name, _TYPES[kind])


def _graph_child(element: ElementTree.Element, keys: _Keys, nodes: dict[str, dict[str, Any]],
                 edges: list[tuple[str, str, str, dict[str, Any]]],
                 data: dict[str, Any]) -> None:
    """Read one child of the graph element: a node, an edge or graph data."""
    tag = element.tag
    if tag == _NODE:
        _node(element, keys, nodes)
    elif tag == _EDGE:
        edges.append(_edge(element, keys))
    elif tag == _DATA:
        name, value = _value(element, keys)
        data[name] = value
    else:
        raise _Unusual


def _node(element: ElementTree.Element, keys: _Keys,
          nodes: dict[str, dict[str, Any]]) -> None:
    node = element.get("id")
    if node is None:
        raise _Unusual
    attrs = _data(element, keys)
    if node in nodes:
        nodes[node].update(attrs)
    else:
        nodes[node] = attrs


def _edge(element: ElementTree.Element, keys: _Keys) -> tuple[str, str, str, dict[str, Any]]:
    source, target = element.get("source"), element.get("target")
    edge_id = element.get("id")
    if (source is None or target is None or not edge_id
            or element.get("directed") == "false"):
        raise _Unusual
    with suppress(ValueError):  # networkx makes integer-like ids int keys
        edge_id = str(int(edge_id))
    return source, target, edge_id, _data(element, keys)


def _read(root: ElementTree.Element) -> Elements:
    keys: _Keys = {}
    graphs = []
    for element in root:
        if element.tag == _KEY:
            _key(element, keys)
        elif element.tag == _GRAPH:
            graphs.append(element)
    if len(graphs) != 1 or graphs[0].get("edgedefault") != "directed":
        raise _Unusual
    graph: dict[str, Any] = {"node_default": {}, "edge_default": {}}
    nodes: dict[str, dict[str, Any]] = {}
    edges: list[tuple[str, str, str, dict[str, Any]]] = []
    data: dict[str, Any] = {}
    for element in graphs[0]:
        _graph_child(element, keys, nodes, edges, data)
    graph.update(data)
    return graph, nodes, edges


def _data(element: ElementTree.Element, keys: _Keys) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for child in element:
        if child.tag != _DATA:
            raise _Unusual
        name, value = _value(child, keys)
        attrs[name] = value
    return attrs


def _value(element: ElementTree.Element, keys: _Keys) -> tuple[str, Any]:
    if len(element):
        raise _Unusual
    name, kind = keys[element.get("key")]
    text = element.text
    if text is None:
        return name, ""
    if kind is bool:
        return name, _BOOLEANS[text.lower()]
    return name, kind(text)
