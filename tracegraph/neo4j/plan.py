"""What a load writes: a graph's nodes and edges checked against the schema, encoded
as query rows, grouped by trace and by label or relationship type, fingerprinted."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import orjson

from tracegraph.errors import GraphError
from tracegraph.graph.adjacency import keyed_edges
from tracegraph.graph.schema import SCHEMA, Label
from tracegraph.neo4j.fingerprint import node_unit, relationship_unit, row_text, unit_digest
from tracegraph.neo4j.properties import INT64_RANGE, encode_properties
from tracegraph.neo4j.schema import KEY_PROPERTY, node_labels, relationship_types

__all__ = [
    "NODES",
    "RELATIONSHIPS",
    "Group",
    "Plan",
    "Rows",
    "Segment",
    "chunks",
    "edge_key",
    "pack_batches",
    "plan_graph",
    "segment_parameters",
]

NODES = "nodes"
RELATIONSHIPS = "relationships"


@dataclass
class Group:
    """The rows of one trace's nodes of one label, or relationships of one
    (type, source label, target label)."""

    phase: str  # NODES or RELATIONSHIPS
    trace_id: str
    name: str  # the label or relationship type
    source: str  # the (source) label
    target: str  # the target label (the label, for nodes)
    #: ``{k, p}`` for nodes, ``{s, t, k, p}`` for relationships; ``p`` is encoded and,
    #: once planned, holds only what is not in ``common``.
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: Properties every row of the group has (labels, trace ids, provenance): sent once.
    common: dict[str, Any] = field(default_factory=dict)
    #: One :func:`~tracegraph.neo4j.fingerprint.row_text` line per row, for the digest.
    lines: list[bytes] = field(default_factory=list)

    @property
    def unit(self) -> str:
        """The fingerprint unit (see :mod:`tracegraph.neo4j.fingerprint`)."""
        if self.phase == NODES:
            return node_unit(self.name)
        return relationship_unit(self.name, self.source)


@dataclass
class Plan:
    groups: list[Group] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)
    #: Per trace: node keys by label, and relationship keys by (type, source label).
    node_keys: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    rel_keys: dict[str, dict[tuple[str, str], set[str]]] = field(default_factory=dict)
    #: Per trace, the key of its one Rollout node (where fingerprints are kept).
    rollout_keys: dict[str, str] = field(default_factory=dict)
    #: Per trace, the digest of each unit.
    digests: dict[str, dict[str, str]] = field(default_factory=dict)


def edge_key(source: str, target: str, multikey: Any, attrs: dict[str, Any]) -> str:
    """An edge's ``edge_key`` attribute, else its multigraph key (made unique)."""
    key = attrs.get("edge_key")
    if isinstance(key, str) and key:
        return key
    return multikey if isinstance(multikey, str) else f"{source}|{target}|{multikey}"


_FAST_TYPES = frozenset((str, int, float, bool, list))


def _fast_values(attrs: dict[str, Any], types: set[type]) -> bool:
    """Whether the values of ``attrs`` (of ``types``) are Neo4j values as they are, but for
    strings, which orjson checks: ints in 64 bits, lists only of strings."""
    if int not in types and list not in types:
        return True
    low, high = INT64_RANGE
    for value in attrs.values():
        kind = type(value)
        if kind is int:
            if not low <= value <= high:
                return False
        elif kind is list and not all(type(e) is str for e in value):
            return False
    return True


def _properties(attrs: dict[str, Any], key: str, what: str) -> tuple[dict[str, Any], bytes]:
    """The encoded properties of an element, and their row text.

    The common case (plain scalars and string lists, no ``key`` attribute) is a copy of
    ``attrs``: orjson both checks its strings (a lone surrogate fails it) and writes the
    text. Anything else goes through :func:`encode_properties`.
    """
    types = set(map(type, attrs.values()))
    if types <= _FAST_TYPES and KEY_PROPERTY not in attrs and _fast_values(attrs, types):
        try:
            return dict(attrs), orjson.dumps(attrs)
        except TypeError:
            pass
    props = encode_properties(attrs)
    if props.pop(KEY_PROPERTY, key) != key:
        raise GraphError(f"{what} {key!r}: attribute {KEY_PROPERTY!r} differs from its key")
    return props, row_text(props)


def plan_graph(graph: nx.MultiDiGraph, *, nodes: Iterable[str] | None = None,
               edges: Iterable[tuple[str, str, Any]] | None = None) -> Plan:
    """Check, encode and group ``graph`` (or only the given ``nodes`` and ``edges`` of it),
    refusing any label, type or endpoint pair the schema lacks before anything is written."""
    # A plan allocates a few dicts per element and no cycles; the cyclic collector would
    # walk the whole graph again and again for nothing (a third of a large plan's time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _plan_graph(graph, nodes, edges)
    finally:
        if enabled:
            gc.enable()


def _plan_graph(graph: nx.MultiDiGraph, nodes: Iterable[str] | None,
                edges: Iterable[tuple[str, str, Any]] | None) -> Plan:
    labels = {label.value for label in Label}
    endpoints = {edge.name.value: {(s.value, t.value) for s, t in edge.endpoints}
                 for edge in SCHEMA.edges}
    plan = Plan()
    groups: dict[tuple[str, str, str, str, str], Group] = {}
    node_view = graph.nodes
    rollouts: dict[str, list[str]] = defaultdict(list)

    known: dict[Any, tuple[str, str]] = {}

    def node_info(key: Any) -> tuple[str, str]:
        info = known.get(key)
        if info is not None:
            return info
        attrs = node_view[key]
        label, trace_id = attrs.get("label"), attrs.get("trace_id")
        if not isinstance(key, str):
            raise GraphError(f"node {key!r}: node keys must be strings")
        if label not in labels:
            raise GraphError(f"node {key!r}: label {label!r} is not in the graph schema")
        if not isinstance(trace_id, str) or not trace_id:
            raise GraphError(f"node {key!r}: no trace_id attribute")
        known[key] = (label, trace_id)
        return label, trace_id

    node_items: Iterable[tuple[Any, dict[str, Any]]] = (
        graph.nodes(data=True) if nodes is None else ((key, node_view[key]) for key in nodes))
    for key, attrs in node_items:
        label, trace_id = node_info(key)
        group = groups.get((NODES, trace_id, label, label, label))
        if group is None:
            group = groups[(NODES, trace_id, label, label, label)] = Group(
                NODES, trace_id, label, label, label)
        props, text = _properties(attrs, key, "node")
        group.rows.append({"k": key, "p": props})
        group.lines.append(row_text(key) + text)
        plan.node_keys.setdefault(trace_id, defaultdict(set))[label].add(key)
        if label == Label.ROLLOUT.value:
            rollouts[trace_id].append(key)

    seen: set[tuple[str, str]] = set()
    edge_items: Iterable[tuple[Any, Any, Any, dict[str, Any]]]
    if edges is not None:
        edge_items = ((u, v, k, graph.edges[u, v, k]) for u, v, k in edges)
    elif type(graph._succ) is dict:  # a graph, not a view: its adjacency dicts directly
        edge_items = keyed_edges(graph)
    else:
        edge_items = graph.edges(keys=True, data=True)
    for source, target, multikey, attrs in edge_items:
        rel = attrs.get("label")
        # Every endpoint was seen with the nodes, unless a view leaves nodes out.
        source_info, target_info = known.get(source), known.get(target)
        (source_label, trace_id) = source_info or node_info(source)
        target_label = (target_info or node_info(target))[0]
        if rel not in endpoints:
            raise GraphError(f"edge {multikey!r}: type {rel!r} is not in the graph schema")
        if (source_label, target_label) not in endpoints[rel]:
            raise GraphError(f"edge {multikey!r}: the schema has no {rel} edge "
                             f"from {source_label} to {target_label}")
        key = edge_key(source, target, multikey, attrs)
        if (rel, key) in seen:
            raise GraphError(f"edge key {key!r} of type {rel} is not unique")
        seen.add((rel, key))
        group_key = (RELATIONSHIPS, trace_id, rel, source_label, target_label)
        group = groups.get(group_key)
        if group is None:
            group = groups[group_key] = Group(RELATIONSHIPS, trace_id, rel, source_label,
                                              target_label)
        props, text = _properties(attrs, key, "edge")
        # The type and ``key`` already say these: not stored twice (a relationship's
        # properties are most of what a load costs the server). The digest keeps them.
        props.pop("label", None)
        if props.get("edge_key") == key:
            del props["edge_key"]
        group.rows.append({"s": source, "t": target, "k": key, "p": props})
        group.lines.append(row_text((key, source, target)) + text)
        plan.rel_keys.setdefault(trace_id, defaultdict(set))[(rel, source_label)].add(key)

    # Groups in schema order (nodes first), so that loads are reproducible.
    label_order = {label: i for i, label in enumerate(node_labels())}
    rel_order = {rel: i for i, rel in enumerate(relationship_types())}

    def order(group: Group) -> tuple[int, int, int, int, str]:
        if group.phase == NODES:
            return (0, label_order[group.name], 0, 0, group.trace_id)
        return (1, rel_order[group.name], label_order[group.source],
                label_order[group.target], group.trace_id)

    plan.groups = sorted(groups.values(), key=order)
    trace_ids = [str(t) for t in graph.graph.get("trace_ids", ()) if isinstance(t, str) and t]
    for group in plan.groups:
        if group.trace_id not in trace_ids:
            trace_ids.append(group.trace_id)
    plan.trace_ids = trace_ids
    plan.rollout_keys = {t: keys[0] for t, keys in rollouts.items() if len(keys) == 1}
    unit_lines: dict[tuple[str, str], list[list[bytes]]] = defaultdict(list)
    for group in plan.groups:
        unit_lines[(group.trace_id, group.unit)].append(group.lines)
        group.common = _common_properties([row["p"] for row in group.rows])
        if group.common:
            for row in group.rows:
                props = row["p"]
                for name in group.common:
                    del props[name]
    for (trace_id, unit), parts in unit_lines.items():
        plan.digests.setdefault(trace_id, {})[unit] = unit_digest(
            line for lines in parts for line in lines)
    for group in plan.groups:
        group.lines = []  # only the digests needed them
    return plan


@dataclass(frozen=True)
class Segment:
    """Part of one group in a batch, with the query that writes it."""

    group: Group
    query: str
    rows: Sequence[dict[str, Any]]


_MISSING = object()


def _common_properties(props: list[dict[str, Any]]) -> dict[str, Any]:
    """The (name, value) pairs every map of ``props`` has (labels, trace ids, provenance)."""
    if len(props) < 2:
        return {}
    # Equal values (as ``==`` or identical) of one type: 1, 1.0 and True are different
    # properties. Names drop out at the first row that differs.
    common = dict(props[0])
    kinds = {name: type(value) for name, value in common.items()}
    for p in props[1:]:
        for name, value in list(common.items()):
            other = p.get(name, _MISSING)
            if not (other is value or other == value) or type(other) is not kinds[name]:
                del common[name]
        if not common:
            break
    return common


class Rows(list[Any]):
    """A list query parameter with a short ``repr``.

    The driver formats every RUN message for its debug log, ``repr`` of each
    parameter included, whether or not debug logging is on: for the rows of a large
    load that was about a fifth of the client's CPU. It packs a list subclass like
    a list.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


def segment_parameters(segment: Segment) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ``$rows`` of a segment (without its group's common properties) and ``$common``."""
    return Rows(segment.rows), segment.group.common


def pack_batches(groups: Iterable[tuple[Group, str]], batch_size: int) -> list[list[Segment]]:
    """Segments of ``(group, query)`` packed into batches of at most ``batch_size`` rows.

    Small groups share a transaction (one query per group inside it), so a small
    graph is a handful of transactions rather than one per label and type.
    """
    batches: list[list[Segment]] = []
    current: list[Segment] = []
    room = batch_size
    for group, query in groups:
        rows = group.rows
        start = 0
        while start < len(rows):
            take = min(room, len(rows) - start)
            current.append(Segment(group, query, rows[start:start + take]))
            start += take
            room -= take
            if room == 0:
                batches.append(current)
                current, room = [], batch_size
    if current:
        batches.append(current)
    return batches


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
