"""GraphML files that Gephi, yEd and Cytoscape open, and that read back losslessly.

GraphML attributes are scalars, so :func:`write_graphml` encodes an attribute
as a JSON string (sorted keys) wherever its value is not a plain scalar: lists,
dicts, and strings XML cannot carry as is (empty strings, which GraphML readers
drop; carriage returns, which XML parsers turn into newlines; control
characters XML 1.0 forbids), and attributes whose values mix scalar types. An
attribute name encoded once is encoded for every element of that kind (node,
edge or graph), and the file lists those names in the graph attribute
``tracegraph_json_attributes`` so that :func:`read_graphml` decodes them again.
``None`` values are left out.

Every edge's GraphML ``id`` is its ``edge_key`` attribute, unique in the file
(networkx's default ids repeat across node pairs of a multigraph, and viewers
then drop edges). The file is streamed to a temporary file beside the target
and renamed into place, one element per line, without copying the graph:
networkx's writer builds a copy and an element tree, several times slower and
larger in memory on long rollouts. It is read back in one pass over the parsed
document (:mod:`tracegraph.graph.graphml_elements`); documents from other tools
that use more of GraphML go through networkx's reader.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import networkx as nx

from tracegraph._atomic import atomic_write_stream
from tracegraph._gc import collector_paused
from tracegraph.errors import TracegraphError
from tracegraph.graph.adjacency import edge_triples, insert_edges, keyed_edges
from tracegraph.graph.graphml_elements import Elements, read_elements_file

__all__ = ["JSON_ATTRIBUTES_KEY", "GraphFileError", "graphml_bytes", "read_graphml",
           "write_graphml"]

#: Graph attribute listing the JSON-encoded attribute names of each element kind.
JSON_ATTRIBUTES_KEY = "tracegraph_json_attributes"
#: Graph attribute saying what the file leaves out for the reader to restore.
OMITTED_KEY = "tracegraph_omitted"
#: Edge attribute used as the GraphML edge id.
EDGE_ID_ATTRIBUTE = "edge_key"

_SCALARS = (bool, int, float, str)
#: GraphML ``attr.type`` of each scalar type (networkx reads ``long`` as int).
_GRAPHML_TYPES = {bool: "boolean", int: "long", float: "double", str: "string"}
#: Characters XML 1.0 cannot carry in text, plus \r (parsers normalize it to \n).
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Names networkx's GraphML writer gives a meaning of its own in ``graph.graph``.
_RESERVED_GRAPH_ATTRIBUTES = frozenset({"node_default", "edge_default"})
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_TEXT_UNSAFE = re.compile("[&<>]")
#: Attribute values also lose quotes, and whitespace other than spaces to normalization.
_ATTRIBUTE_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                    "\n": "&#10;", "\t": "&#9;", "\r": "&#13;"})
_ATTRIBUTE_UNSAFE = re.compile('[&<>"\n\t\r]')
_HEADER = (
    "<?xml version='1.0' encoding='utf-8'?>\n"
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
)


class GraphFileError(TracegraphError):
    """A GraphML file could not be read."""


def write_graphml(graph: nx.MultiDiGraph, path: str | Path) -> Path:
    """Write ``graph`` to ``path`` atomically; returns the path."""
    with atomic_write_stream(Path(path)) as handle:
        _write(graph, handle)
    return Path(path)


def graphml_bytes(graph: nx.MultiDiGraph) -> bytes:
    """The GraphML document for ``graph`` (see :func:`write_graphml`)."""
    buffer = io.BytesIO()
    _write(graph, buffer)
    return buffer.getvalue()


@collector_paused()
def read_graphml(path: str | Path) -> nx.MultiDiGraph:
    """Read a file written by :func:`write_graphml` back into the same graph."""
    path = Path(path)
    try:
        contents = _elements(path)
    except OSError as err:
        raise GraphFileError(f"{path}: cannot read GraphML file: {err.strerror or err}") from err
    except (ElementTree.ParseError, nx.NetworkXError, ValueError, KeyError) as err:
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise GraphFileError(f"{path}: not a GraphML file: {first_line}") from err
    raw_graph, raw_nodes, raw_edges = contents
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    graph.graph.update(
        (name, value) for name, value in raw_graph.items()
        if not (name in _RESERVED_GRAPH_ATTRIBUTES and not value)
    )
    encoded_names = graph.graph.pop(JSON_ATTRIBUTES_KEY, None)
    omitted_text = graph.graph.pop(OMITTED_KEY, None)
    try:
        encoded = json.loads(encoded_names) if encoded_names else {}
        omitted = json.loads(omitted_text) if omitted_text else {}
        prefix = omitted.get("id_prefix", "")
        _decode(graph.graph, set(encoded.get("graph", ())))
        node_names, edge_names = set(encoded.get("node", ())), set(encoded.get("edge", ()))
        graph.add_nodes_from((prefix + node, _decode(attrs, node_names))
                             for node, attrs in raw_nodes.items())
        nodes = graph.nodes
        edges = []
        for u, v, key, attrs in raw_edges:
            u, v, key = prefix + u, prefix + v, prefix + key
            data = _decode(attrs, edge_names)
            if "edge_key" in omitted:
                data[EDGE_ID_ATTRIBUTE] = key
            if "edge_trace_id" in omitted:
                data["trace_id"] = nodes[u].get("trace_id") if u in nodes else None
            edges.append((u, v, key, data))
        insert_edges(graph, edges)
    except (json.JSONDecodeError, TypeError, AttributeError) as err:
        raise GraphFileError(f"{path}: bad JSON-encoded attribute: {err}") from err
    return graph


# --- encoding ----------------------------------------------------------------


def _needs_json(value: Any) -> bool:
    if isinstance(value, str):
        return value == "" or _XML_UNSAFE.search(value) is not None
    return not isinstance(value, _SCALARS)


def _json(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if _XML_UNSAFE.search(text):
        # Only lone surrogates and U+FFFE/U+FFFF survive ensure_ascii=False.
        text = json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return text


def _scalar_type(value: Any) -> type:
    """bool/int/float/str (enum members and other subclasses count as their base)."""
    for kind in _SCALARS:
        if isinstance(value, kind):
            return kind
    raise TypeError(f"cannot encode {type(value).__name__} value in GraphML")  # pragma: no cover


class _Keys:
    """The GraphML keys of one element kind: attribute name -> (key id, type), and the
    names that are JSON-encoded."""

    def __init__(self, scope: str, dicts: Iterable[dict[str, Any]], first_id: int,
                 skip: frozenset[str] = frozenset()) -> None:
        self.scope = scope
        #: Names the file leaves out (the reader restores them).
        self.skip = skip
        types: dict[str, type] = {}
        json_names: set[str] = set()
        for attrs in dicts:
            for name, value in attrs.items():
                if value is None or name in json_names or name in skip:
                    continue
                kind = type(value)
                if kind is str:  # the usual types first, without the general checks
                    if value == "" or _XML_UNSAFE.search(value) is not None:
                        json_names.add(name)
                        continue
                elif kind is not int and kind is not bool and kind is not float:
                    if _needs_json(value):
                        json_names.add(name)
                        continue
                    kind = _scalar_type(value)
                known = types.setdefault(name, kind)
                if known is not kind:
                    json_names.add(name)  # mixed scalar types: JSON keeps each one
        self.json_names = json_names
        self.ids: dict[str, tuple[str, type]] = {}
        for name in [*types, *sorted(json_names - types.keys())]:
            kind = str if name in json_names else types[name]
            self.ids[name] = (f"d{first_id + len(self.ids)}", kind)

    def declarations(self) -> Iterator[str]:
        for name, (key_id, kind) in self.ids.items():
            yield (f'<key id="{key_id}" for="{self.scope}" '
                   f'attr.name="{_attribute(name)}" attr.type="{_GRAPHML_TYPES[kind]}"/>\n')

    def data(self, attrs: dict[str, Any]) -> str:
        parts = []
        for name, value in attrs.items():
            if value is None or name in self.skip:
                continue
            key_id, kind = self.ids[name]
            try:
                if name in self.json_names:
                    text = _json(value)
                elif kind is bool:
                    text = "true" if value else "false"
                elif kind is str:
                    text = str.__str__(value)
                else:
                    text = repr(kind(value))
            except (TypeError, ValueError) as err:
                raise TypeError(f"attribute {name!r}: {err}") from err
            parts.append(f'<data key="{key_id}">{_text(text)}</data>')
        return "".join(parts)


def _text(value: str) -> str:
    # Most values need no escape; looking first is much cheaper than translating.
    return value if _TEXT_UNSAFE.search(value) is None else value.translate(_TEXT_ESCAPES)


def _attribute(value: str) -> str:
    return value if _ATTRIBUTE_UNSAFE.search(value) is None else value.translate(
        _ATTRIBUTE_ESCAPES)


def _omissions(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """What the file can leave out because :func:`read_graphml` restores it exactly.

    ``id_prefix``: the one trace's ``{trace_id}/`` that starts every node key and edge
    id; ``edge_key``: every edge's ``edge_key`` is its id; ``edge_trace_id``: every
    edge's ``trace_id`` is its source node's. Each saves about a fifth of a long
    rollout's file.
    """
    trace_ids = graph.graph.get("trace_ids")
    prefix: str | None = None
    if isinstance(trace_ids, list) and len(trace_ids) == 1 and isinstance(trace_ids[0], str):
        prefix = trace_ids[0] + "/"
        if not all(isinstance(node, str) and node.startswith(prefix) for node in graph):
            prefix = None
    keyed = same_trace = True
    nodes = graph.nodes
    for u, _, attrs in edge_triples(graph):
        edge_key = attrs.get(EDGE_ID_ATTRIBUTE)
        if not isinstance(edge_key, str):
            keyed = False
        elif prefix is not None and not edge_key.startswith(prefix):
            prefix = None
        trace_id = attrs.get("trace_id")
        if trace_id is None or trace_id != nodes[u].get("trace_id"):
            same_trace = False
    omitted: dict[str, Any] = {}
    if prefix is not None:
        omitted["id_prefix"] = prefix
    if keyed:
        omitted["edge_key"] = "id"
    if same_trace:
        omitted["edge_trace_id"] = "source"
    return omitted


def _write(graph: nx.MultiDiGraph, out: IO[bytes]) -> None:
    """Stream the GraphML document of ``graph`` to ``out`` (UTF-8)."""
    reserved = _RESERVED_GRAPH_ATTRIBUTES & graph.graph.keys()
    for name in (JSON_ATTRIBUTES_KEY, OMITTED_KEY):
        if name in graph.graph:
            reserved = reserved | {name}
    if reserved:
        raise ValueError(f"graph attribute {sorted(reserved)[0]!r} is reserved by the "
                         "GraphML writer")
    omitted = _omissions(graph)
    prefix = omitted.get("id_prefix", "")
    skip = frozenset(name for name, flag in ((EDGE_ID_ATTRIBUTE, "edge_key"),
                                             ("trace_id", "edge_trace_id")) if flag in omitted)
    graph_keys = _Keys("graph", [graph.graph], 0)
    node_keys = _Keys("node", (attrs for _, attrs in graph.nodes(data=True)),
                      len(graph_keys.ids) + 2)
    edge_keys = _Keys("edge", (attrs for *_, attrs in edge_triples(graph)),
                      len(graph_keys.ids) + 2 + len(node_keys.ids), skip)
    meta = {
        JSON_ATTRIBUTES_KEY: _json({"edge": sorted(edge_keys.json_names),
                                    "graph": sorted(graph_keys.json_names),
                                    "node": sorted(node_keys.json_names)}),
        OMITTED_KEY: _json(omitted),
    }
    chunks: list[str] = [_HEADER, *graph_keys.declarations()]
    for index, name in enumerate(meta):
        chunks.append(f'<key id="d{len(graph_keys.ids) + index}" for="graph" '
                      f'attr.name="{name}" attr.type="string"/>\n')
    chunks += [*node_keys.declarations(), *edge_keys.declarations(),
               '<graph edgedefault="directed">', graph_keys.data(graph.graph)]
    for index, text in enumerate(meta.values()):
        chunks.append(f'<data key="d{len(graph_keys.ids) + index}">'
                      f'{text.translate(_TEXT_ESCAPES)}</data>')
    chunks.append("\n")
    cut = len(prefix)
    writer = io.TextIOWrapper(out, encoding="utf-8", newline="\n", write_through=False)
    try:
        writer.write("".join(chunks))
        lines: list[str] = []
        for node, attrs in graph.nodes(data=True):
            if not isinstance(node, str):
                raise TypeError(f"node {node!r}: GraphML node ids here must be strings")
            lines.append(f'<node id="{_attribute(node[cut:])}">{node_keys.data(attrs)}</node>\n')
            if len(lines) >= 4096:
                writer.write("".join(lines))
                lines.clear()
        seen: set[str] = set()
        for u, v, key, attrs in keyed_edges(graph):
            edge_id = attrs.get(EDGE_ID_ATTRIBUTE)
            if not isinstance(edge_id, str):
                edge_id = f"{u}|{v}|{key}"
            if edge_id in seen:
                raise ValueError(f"edge id {edge_id!r} is not unique")
            seen.add(edge_id)
            # The id becomes the multigraph key again when networkx reads the file.
            lines.append(f'<edge id="{_attribute(edge_id[cut:])}" source="{_attribute(u[cut:])}" '
                         f'target="{_attribute(v[cut:])}">{edge_keys.data(attrs)}</edge>\n')
            if len(lines) >= 4096:
                writer.write("".join(lines))
                lines.clear()
        lines.append("</graph></graphml>\n")
        writer.write("".join(lines))
        writer.flush()
    finally:
        writer.detach()


def _elements(path: Path) -> Elements:
    """The file's graph data, nodes and edges: read in one pass when the document is
    plain (as written here), else by networkx (gzip or bzip2 files too)."""
    if path.suffix.lower() not in {".gz", ".bz2"}:
        contents = read_elements_file(path)
        if contents is not None:
            return contents
    raw: Any = nx.read_graphml(path, node_type=str, force_multigraph=True)
    return (dict(raw.graph), dict(raw.nodes(data=True)),
            [(u, v, str(key), attrs) for u, v, key, attrs in keyed_edges(raw)])


def _decode(attrs: dict[str, Any], json_names: set[str]) -> dict[str, Any]:
    for name in json_names & attrs.keys():
        attrs[name] = json.loads(attrs[name])
    return attrs
