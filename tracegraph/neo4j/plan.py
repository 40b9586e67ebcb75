"""What a load writes: a graph's nodes and edges checked against the schema, encoded
as query rows, grouped by trace and by label or relationship type, fingerprinted."""

from __future__ import annotations

import contextlib
import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

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
    "CheckedEdge",
    "Group",
    "Plan",
    "Planner",
    "Rows",
    "Segment",
    "chunks",
    "edge_key",
    "pack_batches",
    "paused_collector",
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


def _plain(attrs: dict[str, Any]) -> bool:
    """Whether ``attrs`` are plain scalars and string lists with no ``key`` attribute:
    their properties are a copy, which orjson both checks (a lone surrogate fails it)
    and writes as the row text. Integers must fit in 64 bits. (One loop with the
    common types first: it runs for every element of a load.)"""
    if KEY_PROPERTY in attrs:
        return False
    low, high = INT64_RANGE
    for value in attrs.values():
        kind = type(value)
        if kind is str:
            continue
        if kind is int:
            if low <= value <= high:
                continue
            return False
        if kind is list:
            for element in value:
                if type(element) is not str:
                    return False
            continue
        if kind is not bool and kind is not float:
            return False
    return True


def _encoded(attrs: dict[str, Any], key: str, what: str) -> tuple[dict[str, Any], bytes]:
    """The properties of an element that is not plain, through :func:`encode_properties`."""
    props = encode_properties(attrs)
    if props.pop(KEY_PROPERTY, key) != key:
        raise GraphError(f"{what} {key!r}: attribute {KEY_PROPERTY!r} differs from its key")
    return props, row_text(props)


def _properties(attrs: dict[str, Any], key: str, what: str) -> tuple[dict[str, Any], bytes]:
    """The encoded properties of an element, and their row text."""
    return _plain_properties(attrs, key, what) if _plain(attrs) else _encoded(attrs, key, what)


def _plain_properties(attrs: dict[str, Any], key: str, what: str
                      ) -> tuple[dict[str, Any], bytes]:
    """:func:`_properties` of attributes :func:`_plain` passed."""
    try:
        return dict(attrs), orjson.dumps(attrs)
    except TypeError:  # (a lone surrogate)
        return _encoded(attrs, key, what)


def plan_graph(graph: nx.MultiDiGraph, *, nodes: Iterable[str] | None = None,
               edges: Iterable[tuple[str, str, Any]] | None = None) -> Plan:
    """Check, encode and group ``graph`` (or only the given ``nodes`` and ``edges`` of it),
    refusing any label, type or endpoint pair the schema lacks before anything is written."""
    with paused_collector():
        planner = Planner(graph, nodes=nodes, edges=edges)
        planner.plan_nodes()
        planner.plan_edges(planner.check_edges())
        return planner.plan


@contextlib.contextmanager
def paused_collector() -> Iterator[None]:
    """The cyclic collector paused: a plan allocates a few dicts per element and no
    cycles, and the collector would walk the whole graph again and again for nothing
    (a third of a large plan's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class CheckedEdge(NamedTuple):
    """An edge the schema allows, with what its row needs."""

    source: str
    target: str
    key: str
    attrs: dict[str, Any]
    group: tuple[str, str, str, str, str]
    #: Its properties, already encoded when they are not plain (else ``None``).
    encoded: tuple[dict[str, Any], bytes] | None


class Planner:
    """A :class:`Plan` built in steps: :meth:`plan_nodes`, then :meth:`check_edges`
    (which raises for anything the schema refuses, so nothing is written first), then
    :meth:`plan_edges`, which cannot fail. A load of a new trace writes its nodes while
    the edges are planned."""

    def __init__(self, graph: nx.MultiDiGraph, *, nodes: Iterable[str] | None = None,
                 edges: Iterable[tuple[str, str, Any]] | None = None) -> None:
        self.plan = Plan()
        self._graph, self._nodes, self._edges = graph, nodes, edges
        self._labels = {label.value for label in Label}
        self._endpoints = {edge.name.value: {(s.value, t.value) for s, t in edge.endpoints}
                           for edge in SCHEMA.edges}
        self._known: dict[Any, tuple[str, str]] = {}

    def _node_info(self, key: Any) -> tuple[str, str]:
        info = self._known.get(key)
        if info is not None:
            return info
        attrs = self._graph.nodes[key]
        label, trace_id = attrs.get("label"), attrs.get("trace_id")
        if not isinstance(key, str):
            raise GraphError(f"node {key!r}: node keys must be strings")
        if label not in self._labels:
            raise GraphError(f"node {key!r}: label {label!r} is not in the graph schema")
        if not isinstance(trace_id, str) or not trace_id:
            raise GraphError(f"node {key!r}: no trace_id attribute")
        self._known[key] = (label, trace_id)
        return label, trace_id

    def plan_nodes(self) -> list[Group]:
        """Check and encode the nodes; their groups (also in ``plan.groups``)."""
        graph, plan = self._graph, self.plan
        groups: dict[tuple[str, str, str, str, str], Group] = {}
        rollouts: dict[str, list[str]] = defaultdict(list)
        node_view = graph.nodes
        node_items: Iterable[tuple[Any, dict[str, Any]]] = (
            graph.nodes(data=True) if self._nodes is None
            else ((key, node_view[key]) for key in self._nodes))
        for key, attrs in node_items:
            label, trace_id = self._node_info(key)
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
        node_groups = sorted(groups.values(), key=_group_order)
        trace_ids = [str(t) for t in graph.graph.get("trace_ids", ())
                     if isinstance(t, str) and t]
        for group in node_groups:
            if group.trace_id not in trace_ids:
                trace_ids.append(group.trace_id)
        plan.trace_ids = trace_ids
        plan.rollout_keys = {t: keys[0] for t, keys in rollouts.items() if len(keys) == 1}
        _finish(plan, node_groups)
        return node_groups

    def check_edges(self) -> list[CheckedEdge]:
        """Every edge checked against the schema (types, endpoint labels, unique keys,
        storable values); raises :class:`GraphError` at the first it refuses."""
        graph, endpoints = self._graph, self._endpoints
        known, node_info = self._known, self._node_info
        seen: set[tuple[str, str]] = set()
        edge_items: Iterable[tuple[Any, Any, Any, dict[str, Any]]]
        if self._edges is not None:
            edge_items = ((u, v, k, graph.edges[u, v, k]) for u, v, k in self._edges)
        elif type(graph._succ) is dict:  # a graph, not a view: its adjacency dicts directly
            edge_items = keyed_edges(graph)
        else:
            edge_items = graph.edges(keys=True, data=True)
        checked = []
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
            checked.append(CheckedEdge(
                source, target, key, attrs,
                (RELATIONSHIPS, trace_id, rel, source_label, target_label),
                None if _plain(attrs) else _encoded(attrs, key, "edge")))
        return checked

    def plan_edges(self, checked: Sequence[CheckedEdge]) -> list[Group]:
        """Encode the checked edges; their groups (also appended to ``plan.groups``)."""
        plan = self.plan
        groups: dict[tuple[str, str, str, str, str], Group] = {}
        for edge in checked:
            key = edge.key
            group = groups.get(edge.group)
            if group is None:
                _, trace_id, rel, source_label, target_label = edge.group
                group = groups[edge.group] = Group(RELATIONSHIPS, trace_id, rel,
                                                   source_label, target_label)
            # (check_edges encoded what is not plain.)
            props, text = edge.encoded or _plain_properties(edge.attrs, key, "edge")
            # The type and ``key`` already say these: not stored twice (a relationship's
            # properties are most of what a load costs the server). The digest keeps them.
            props.pop("label", None)
            if props.get("edge_key") == key:
                del props["edge_key"]
            group.rows.append({"s": edge.source, "t": edge.target, "k": key, "p": props})
            group.lines.append(row_text((key, edge.source, edge.target)) + text)
            plan.rel_keys.setdefault(group.trace_id, defaultdict(set))[
                (group.name, group.source)].add(key)
        edge_groups = sorted(groups.values(), key=_group_order)
        for group in edge_groups:  # edges given without their nodes (an incremental upsert)
            if group.trace_id not in plan.trace_ids:
                plan.trace_ids.append(group.trace_id)
        _finish(plan, edge_groups)
        return edge_groups


def _group_order(group: Group) -> tuple[int, int, int, int, str]:
    """Groups in schema order (nodes first), so that loads are reproducible."""
    label_order = _LABEL_ORDER
    if group.phase == NODES:
        return (0, label_order[group.name], 0, 0, group.trace_id)
    return (1, _REL_ORDER[group.name], label_order[group.source],
            label_order[group.target], group.trace_id)


_LABEL_ORDER = {label: i for i, label in enumerate(node_labels())}
_REL_ORDER = {rel: i for i, rel in enumerate(relationship_types())}


def _finish(plan: Plan, groups: list[Group]) -> None:
    """Common properties taken out of the rows of ``groups``, their units' digests, and
    the groups appended to the plan."""
    unit_lines: dict[tuple[str, str], list[list[bytes]]] = defaultdict(list)
    for group in groups:
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
    for group in groups:
        group.lines = []  # only the digests needed them
    plan.groups.extend(groups)


@dataclass(frozen=True)
class Segment:
    """Part of one group in a batch, with the query that writes it (or the rows of
    several groups of one query, see :func:`pack_batches`)."""

    group: Group
    query: str
    rows: Sequence[dict[str, Any]]
    #: The properties every row shares, where they are not ``group.common``.
    common: dict[str, Any] | None = None


_MISSING = object()


def _same_value(a: Any, b: Any) -> bool:
    return (a is b or a == b) and type(a) is type(b)


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
    """The ``$rows`` of a segment (without its common properties) and ``$common``."""
    common = segment.group.common if segment.common is None else segment.common
    return Rows(segment.rows), common


def _merged(run: Sequence[Segment]) -> Segment:
    """One segment for a run of segments of one query: the groups of one label or type
    of different traces, adjacent in a batch. Their groups' common properties that
    not all share (the trace id) travel in the rows instead."""
    commons = [segment.group.common for segment in run]
    common = {name: value for name, value in commons[0].items()
              if all(name in other and _same_value(other[name], value)
                     for other in commons[1:])}
    rows: list[dict[str, Any]] = []
    for segment, group_common in zip(run, commons, strict=True):
        extra = {name: value for name, value in group_common.items() if name not in common}
        rows.extend({**row, "p": {**row["p"], **extra}} if extra else row
                    for row in segment.rows)
    return Segment(run[0].group, run[0].query, rows, common)


def _merge_runs(batch: list[Segment]) -> list[Segment]:
    """``batch`` with each run of adjacent segments of one query merged into one: a
    query per label and type instead of one per trace, for many small traces."""
    out: list[Segment] = []
    start = 0
    while start < len(batch):
        end = start + 1
        while end < len(batch) and batch[end].query == batch[start].query:
            end += 1
        out.append(batch[start] if end == start + 1 else _merged(batch[start:end]))
        start = end
    return out


def pack_batches(groups: Iterable[tuple[Group, str]], batch_size: int) -> list[list[Segment]]:
    """Segments of ``(group, query)`` packed into batches of at most ``batch_size`` rows.

    Small groups share a transaction (one query per group inside it), so a small
    graph is a handful of transactions rather than one per label and type; adjacent
    groups of one query (one label or type, several traces) become one segment.
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
                batches.append(_merge_runs(current))
                current, room = [], batch_size
    if current:
        batches.append(_merge_runs(current))
    return batches


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
