"""The Cypher statements the exporter runs. Labels and relationship types are written
into the text from the schema only (:func:`~tracegraph.neo4j.schema.cypher_name`
quotes and checks them); every value travels as a parameter."""

from __future__ import annotations

from tracegraph.graph.schema import Label, Rel
from tracegraph.neo4j.fingerprint import FINGERPRINT_PROPERTY
from tracegraph.neo4j.plan import NODES, Group
from tracegraph.neo4j.schema import KEY_PROPERTY, cypher_name, node_labels

__all__ = [
    "CLEAR_FINGERPRINTS",
    "DELETE_NODES_BY_ID",
    "DELETE_RELATIONSHIPS_BY_ID",
    "LOADED_SOURCES",
    "SET_FINGERPRINTS",
    "count_nodes_query",
    "count_relationships_query",
    "delete_node_by_key_query",
    "delete_relationship_by_key_query",
    "delete_trace_nodes_query",
    "delete_trace_relationships_query",
    "group_query",
    "node_create_query",
    "node_keys_query",
    "node_merge_query",
    "relationship_create_by_id_query",
    "relationship_create_query",
    "relationship_keys_query",
    "relationship_merge_query",
    "schema_label",
    "schema_rel",
    "trace_state_query",
]

_KEY = cypher_name(KEY_PROPERTY)
_FINGERPRINT = cypher_name(FINGERPRINT_PROPERTY)
_ROLLOUT = cypher_name(Label.ROLLOUT.value)


def schema_label(name: str) -> str:
    return cypher_name(Label(name).value)


def schema_rel(name: str) -> str:
    return cypher_name(Rel(name).value)


#: Shared tail of the upserts: ``x`` is the merged element. Its property map must be
#: ``row.p`` + ``$common`` + ``{key: row.k}`` (disjoint); it is written only when it
#: differs, so a re-load writes nothing. ``SET x = ...`` drops stale properties.
_UPSERT_TAIL = (
    "WITH x, row, size(keys(x)) = size(keys(row.p)) + size(keys($common)) + 1\n"
    "  AND all(k IN keys(row.p) WHERE x[k] = row.p[k])\n"
    "  AND all(k IN keys($common) WHERE x[k] = $common[k]) AS same\n"
    f"FOREACH (_ IN CASE WHEN same THEN [] ELSE [1] END | "
    f"SET x = row.p, x += $common, x.{_KEY} = row.k)\n"
    "RETURN count(*) AS rows, sum(CASE WHEN same THEN 0 ELSE 1 END) AS written"
)
#: Tail of the creates, for traces the database does not hold yet.
_CREATE_TAIL = (
    f"SET x = row.p, x += $common, x.{_KEY} = row.k\n"
    "RETURN count(*) AS rows, count(*) AS written"
)
#: A node create also returns the new nodes' element ids (with their keys, collected
#: from the same rows): the relationships of a new trace find their endpoints by id,
#: about half the server's work of a locking index seek on ``key``.
_NODE_CREATE_TAIL = _CREATE_TAIL + ", collect(row.k) AS keys, collect(elementId(x)) AS ids"


def node_merge_query(label: Label | str) -> str:
    """The batched node upsert for ``label``; returns the rows seen and written.

    Parameters: ``$rows`` (``{k: key, p: properties}`` each) and ``$common`` (the
    properties every row of the batch shares, sent once).
    """
    label = schema_label(label)
    return "UNWIND $rows AS row\n" f"MERGE (x:{label} {{{_KEY}: row.k}})\n" + _UPSERT_TAIL


def node_create_query(label: Label | str) -> str:
    """The batched node create for a new trace (same parameters as the upsert)."""
    return f"UNWIND $rows AS row\nCREATE (x:{schema_label(label)})\n" + _NODE_CREATE_TAIL


def _endpoints(source: str, target: str) -> str:
    return (f"MATCH (a:{schema_label(source)} {{{_KEY}: row.s}})\n"
            f"MATCH (b:{schema_label(target)} {{{_KEY}: row.t}})\n")


def relationship_merge_query(rel: Rel | str, source: Label | str, target: Label | str) -> str:
    """The batched relationship upsert for one (type, source label, target label) group.

    Rows are ``{s: source key, t: target key, k: key, p: properties}``.
    """
    return ("UNWIND $rows AS row\n" + _endpoints(source, target)
            + f"MERGE (a)-[x:{schema_rel(rel)} {{{_KEY}: row.k}}]->(b)\n" + _UPSERT_TAIL)


def relationship_create_query(rel: Rel | str, source: Label | str, target: Label | str) -> str:
    """The batched relationship create for a new trace (same rows as the upsert)."""
    return ("UNWIND $rows AS row\n" + _endpoints(source, target)
            + f"CREATE (a)-[x:{schema_rel(rel)}]->(b)\n" + _CREATE_TAIL)


def relationship_create_by_id_query(rel: Rel | str, source: Label | str,
                                    target: Label | str) -> str:
    """The batched relationship create whose rows name their endpoints by element id
    (``s`` and ``t``, as the node creates of the same load returned them). The label
    test keeps a row from landing on some other node should an id have been reused."""
    return ("UNWIND $rows AS row\n"
            f"MATCH (a:{schema_label(source)}) WHERE elementId(a) = row.s\n"
            f"MATCH (b:{schema_label(target)}) WHERE elementId(b) = row.t\n"
            f"CREATE (a)-[x:{schema_rel(rel)}]->(b)\n" + _CREATE_TAIL)


def group_query(group: Group, create: bool) -> str:
    if group.phase == NODES:
        return (node_create_query if create else node_merge_query)(group.name)
    make = relationship_create_query if create else relationship_merge_query
    return make(group.name, group.source, group.target)


def count_nodes_query(label: str) -> str:
    return f"MATCH (n:{schema_label(label)} {{trace_id: $trace_id}}) RETURN count(n) AS count"


def node_keys_query(label: str) -> str:
    return (f"MATCH (n:{schema_label(label)} {{trace_id: $trace_id}}) "
            f"RETURN n.{_KEY} AS key, elementId(n) AS id")


def count_relationships_query(label: str) -> str:
    return (f"MATCH (n:{schema_label(label)} {{trace_id: $trace_id}})-[r]->() "
            "RETURN type(r) AS type, count(r) AS count")


def relationship_keys_query(label: str) -> str:
    return (f"MATCH (n:{schema_label(label)} {{trace_id: $trace_id}})-[r]->() "
            f"WHERE type(r) IN $types RETURN type(r) AS type, r.{_KEY} AS key, "
            "elementId(r) AS id")


def trace_state_query() -> str:
    """Per trace: whether the database holds any node of it, and its stored fingerprints."""
    present = " OR ".join(f"EXISTS {{ MATCH (:{label} {{trace_id: t}}) }}"
                          for label in node_labels())
    return ("UNWIND $trace_ids AS t\n"
            f"OPTIONAL MATCH (r:{_ROLLOUT} {{trace_id: t}})\n"
            # r[$name], not r.name: no "unknown property" notice before the first load.
            "WITH t, collect(r[$fingerprint]) AS stored\n"
            f"RETURN t AS trace_id, {present} AS present, "
            "CASE WHEN size(stored) = 1 THEN stored[0] END AS fingerprint")


CLEAR_FINGERPRINTS = (f"UNWIND $trace_ids AS t MATCH (r:{_ROLLOUT} {{trace_id: t}}) "
                       f"REMOVE r.{_FINGERPRINT}")
SET_FINGERPRINTS = (f"UNWIND $rows AS row MATCH (r:{_ROLLOUT} {{{_KEY}: row.k}}) "
                     f"SET r.{_FINGERPRINT} = row.fingerprint")
LOADED_SOURCES = (f"MATCH (r:{_ROLLOUT}) WHERE r[$fingerprint] IS NOT NULL "
                   "UNWIND r[$fingerprint] AS entry WITH r, entry WHERE entry STARTS WITH $prefix "
                   "RETURN entry, r.trace_id AS trace_id")

DELETE_NODES_BY_ID = (
    "UNWIND $ids AS id MATCH (n) WHERE elementId(n) = id DETACH DELETE n RETURN count(*) AS count"
)
DELETE_RELATIONSHIPS_BY_ID = (
    "UNWIND $ids AS id MATCH ()-[r]->() WHERE elementId(r) = id DELETE r RETURN count(*) AS count"
)


def delete_node_by_key_query(label: str) -> str:
    return (f"UNWIND $keys AS k MATCH (n:{schema_label(label)} {{{_KEY}: k}}) "
            "DETACH DELETE n RETURN count(*) AS count")


def delete_relationship_by_key_query(rel: str) -> str:
    return (f"UNWIND $keys AS k MATCH ()-[r:{schema_rel(rel)} {{{_KEY}: k}}]->() "
            "DELETE r RETURN count(*) AS count")


def delete_trace_relationships_query(label: str) -> str:
    return (f"MATCH (n:{schema_label(label)} {{trace_id: $trace_id}})-[r]-() "
            "WITH DISTINCT r LIMIT $limit DELETE r RETURN count(r) AS count")


def delete_trace_nodes_query(label: str) -> str:
    return (f"MATCH (n:{schema_label(label)} {{trace_id: $trace_id}}) "
            "WITH n LIMIT $limit DETACH DELETE n RETURN count(n) AS count")
