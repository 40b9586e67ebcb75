"""GraphML files that Gephi, yEd and Cytoscape open, and that read back losslessly.

GraphML attributes are scalars, so :func:`write_graphml` encodes an attribute
as a JSON string (sorted keys) wherever its value is not a plain scalar: lists,
dicts, and strings XML cannot carry as is (empty strings, which GraphML readers
drop; carriage returns, which XML parsers turn into newlines; control
characters XML 1.0 forbids). An attribute name encoded once is encoded for
every element of that kind (node, edge or graph), and the file lists those
names in the graph attribute ``tracegraph_json_attributes`` so that
:func:`read_graphml` decodes them again. ``None`` values are left out.

Every edge's GraphML ``id`` is its ``edge_key`` attribute, unique in the file
(networkx's default ids repeat across node pairs of a multigraph, and viewers
then drop edges). The file is written atomically, with lxml when it is
installed (about twice as fast) and the standard library otherwise.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx

from tracegraph._atomic import atomic_write_bytes
from tracegraph.errors import TracegraphError

#: Graph attribute listing the JSON-encoded attribute names of each element kind.
JSON_ATTRIBUTES_KEY = "tracegraph_json_attributes"
#: Edge attribute used as the GraphML edge id.
EDGE_ID_ATTRIBUTE = "edge_key"

_SCALARS = (bool, int, float, str)
#: Characters XML 1.0 cannot carry in text, plus \r (parsers normalize it to \n).
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Names networkx's GraphML writer gives a meaning of its own in ``graph.graph``.
_RESERVED_GRAPH_ATTRIBUTES = frozenset({"node_default", "edge_default"})


class GraphFileError(TracegraphError):
    """A GraphML file could not be read."""


def lxml_available() -> bool:
    try:
        import lxml.etree  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return False
    return True


def write_graphml(graph: nx.MultiDiGraph, path: str | Path, *, use_lxml: bool | None = None) -> Path:
    """Write ``graph`` to ``path`` atomically; returns the path.

    ``use_lxml`` forces (``True``) or avoids (``False``) the lxml writer; by
    default it is used when installed.
    """
    data = graphml_bytes(graph, use_lxml=use_lxml)
    return atomic_write_bytes(Path(path), data)


def graphml_bytes(graph: nx.MultiDiGraph, *, use_lxml: bool | None = None) -> bytes:
    """The GraphML document for ``graph`` (see :func:`write_graphml`)."""
    encodable = _encodable(graph)
    buffer = io.BytesIO()
    if use_lxml is None:
        use_lxml = lxml_available()
    writer = nx.write_graphml_lxml if use_lxml else nx.write_graphml_xml
    writer(encodable, buffer, edge_id_from_attribute=EDGE_ID_ATTRIBUTE)
    return buffer.getvalue()


def read_graphml(path: str | Path) -> nx.MultiDiGraph:
    """Read a file written by :func:`write_graphml` back into the same graph."""
    path = Path(path)
    try:
        raw: Any = nx.read_graphml(path, node_type=str, force_multigraph=True)
    except OSError as err:
        raise GraphFileError(f"{path}: cannot read GraphML file: {err.strerror or err}") from err
    except (ElementTree.ParseError, nx.NetworkXError, ValueError, KeyError) as err:
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise GraphFileError(f"{path}: not a GraphML file: {first_line}") from err
    graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    graph.graph.update(
        (name, value) for name, value in raw.graph.items()
        if not (name in _RESERVED_GRAPH_ATTRIBUTES and not value)
    )
    encoded_names = graph.graph.pop(JSON_ATTRIBUTES_KEY, None)
    try:
        encoded = json.loads(encoded_names) if encoded_names else {}
        _decode(graph.graph, set(encoded.get("graph", ())))
        node_names, edge_names = set(encoded.get("node", ())), set(encoded.get("edge", ()))
        for node, attrs in raw.nodes(data=True):
            graph.add_node(node, **_decode(dict(attrs), node_names))
        for u, v, key, attrs in raw.edges(keys=True, data=True):
            graph.add_edge(u, v, key=key, **_decode(dict(attrs), edge_names))
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


def _scalar(value: Any) -> Any:
    """Plain bool/int/float/str (enum members and other subclasses become their base)."""
    for kind in _SCALARS:
        if isinstance(value, kind):
            return kind(value)
    raise TypeError(f"cannot encode {type(value).__name__} value in GraphML")  # pragma: no cover


def _json_names(dicts: Iterable[dict[str, Any]]) -> set[str]:
    return {name for attrs in dicts for name, value in attrs.items()
            if value is not None and _needs_json(value)}


def _encode(attrs: dict[str, Any], json_names: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in attrs.items():
        if value is None:
            continue
        try:
            out[name] = _json(value) if name in json_names else _scalar(value)
        except (TypeError, ValueError) as err:
            raise TypeError(f"attribute {name!r}: {err}") from err
    return out


def _encodable(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy of ``graph`` whose attributes GraphML can carry, ids unique."""
    reserved = _RESERVED_GRAPH_ATTRIBUTES & graph.graph.keys()
    if reserved or JSON_ATTRIBUTES_KEY in graph.graph:
        name = sorted(reserved)[0] if reserved else JSON_ATTRIBUTES_KEY
        raise ValueError(f"graph attribute {name!r} is reserved by the GraphML writer")
    node_json = _json_names(attrs for _, attrs in graph.nodes(data=True))
    edge_json = _json_names(attrs for *_, attrs in graph.edges(data=True))
    graph_json = _json_names([graph.graph])
    out: nx.MultiDiGraph[str] = nx.MultiDiGraph()
    out.graph.update(_encode(dict(graph.graph), graph_json))
    out.graph[JSON_ATTRIBUTES_KEY] = _json(
        {"edge": sorted(edge_json), "graph": sorted(graph_json), "node": sorted(node_json)}
    )
    for node, attrs in graph.nodes(data=True):
        if not isinstance(node, str):
            raise TypeError(f"node {node!r}: GraphML node ids here must be strings")
        out.add_node(node, **_encode(attrs, node_json))
    seen: set[str] = set()
    for u, v, key, attrs in graph.edges(keys=True, data=True):
        encoded = _encode(attrs, edge_json)
        edge_id = encoded.get(EDGE_ID_ATTRIBUTE)
        if not isinstance(edge_id, str):
            edge_id = f"{u}|{v}|{key}"
        if edge_id in seen:
            raise ValueError(f"edge id {edge_id!r} is not unique")
        seen.add(edge_id)
        # The edge key becomes the GraphML id, which read_graphml turns back into the key.
        out.add_edge(u, v, key=edge_id, **encoded)
    return out


def _decode(attrs: dict[str, Any], json_names: set[str]) -> dict[str, Any]:
    for name in json_names & attrs.keys():
        attrs[name] = json.loads(attrs[name])
    return attrs
