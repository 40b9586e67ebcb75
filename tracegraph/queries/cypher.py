"""The canned queries in Cypher: ``cypher/<name>.cypher``, run with the neo4j driver.

Each file starts with a header comment (name, parameters, what it answers) and
returns the same rows, in the same order, as the networkx implementation of the
same name. ``causal-chain`` is a step query that the runner applies until no
cause is left.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from tracegraph.graph.schema import Label
from tracegraph.queries._walk import QueryError, Row
from tracegraph.queries.causality import CAUSE_RULES, MAX_CHAIN
from tracegraph.queries.registry import get_query

__all__ = [
    "header",
    "query_text",
    "run_cypher_query",
]


def cypher_dir() -> Path:
    """Where the ``.cypher`` files are: inside an installed wheel, else the repo root."""
    packaged = Path(__file__).resolve().parents[1] / "_cypher"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "cypher"


@cache
def query_text(name: str) -> str:
    path = cypher_dir() / f"{name}.cypher"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise QueryError(f"no Cypher file for query {name!r} at {path}") from err


def header(name: str) -> dict[str, str]:
    """The ``// key: value`` header fields of a query file."""
    fields: dict[str, str] = {}
    current = None
    for line in query_text(name).splitlines():
        if not line.startswith("//"):
            break
        text = line[2:].strip()
        if ":" in text and not text.startswith(" ") and text.split(":", 1)[0].isidentifier():
            current, _, value = text.partition(":")
            fields[current] = value.strip()
        elif current is not None:
            fields[current] += " " + text
    return fields


def _records(driver: Any, text: str, params: dict[str, Any], database: str | None) -> list[Any]:
    records, _, _ = driver.execute_query(text, params, database_=database, routing_="r")
    return list(records)


def run_cypher_query(
    driver: Any,
    name: str,
    *,
    database: str | None = None,
    trace: str | None = None,
    **params: Any,
) -> list[Row]:
    """Run a canned query against Neo4j; rows match :func:`~tracegraph.queries.run_query`."""
    query = get_query(name)
    bound = query.bind(**params)
    if query.needs:
        sources = _records(driver, f"MATCH (r:{Label.ROLLOUT.value}) WHERE $trace IS NULL OR "
                           "r.trace_id = $trace RETURN DISTINCT r.source AS source",
                           {"trace": trace}, database)
        query.check_sources({record["source"] for record in sources})
    if name == "causal-chain":
        rows = _causal_chain(driver, bound["node"], trace, database)
    else:
        records = _records(driver, query_text(name), {"trace": trace, **bound}, database)
        rows = [record.data() for record in records]
    return [{column: row.get(column) for column in query.columns} for row in rows]


def _label_of_key(key: str) -> Label:
    """The label inside a node key ``{trace_id}/{Label}/{object_id}`` (schema-checked)."""
    parts = key.split("/", 2)
    try:
        return Label(parts[1])
    except (IndexError, ValueError) as err:
        raise QueryError(f"not a node key: {key!r}") from err


_UNLABELLED_NODE = "(n {key: $key})"


def _with_label(text: str, key: str) -> str:
    """Give the step query's ``(n {key: $key})`` its label, so the key constraint is used.

    The label comes from the schema's :class:`Label` enum, never from trace data. Only
    lines outside ``//`` comments count, and there must be exactly one such pattern:
    labelling a comment instead would leave every step scanning all nodes.
    """
    lines = text.splitlines(keepends=True)
    code = [i for i, line in enumerate(lines)
            if not line.lstrip().startswith("//") and _UNLABELLED_NODE in line]
    if len(code) != 1 or lines[code[0]].count(_UNLABELLED_NODE) != 1:
        raise QueryError(f"a step query must hold {_UNLABELLED_NODE} exactly once outside "
                         f"comments, found it on {len(code)} lines")
    labelled = f"(n:{_label_of_key(key).value} {{key: $key}})"
    lines[code[0]] = lines[code[0]].replace(_UNLABELLED_NODE, labelled)
    return "".join(lines)


#: Finds a node by key or object id through the per-label indexes.
_RESOLVE = " UNION ".join(
    f"MATCH (n:{label.value}) WHERE (n.key = $ref OR n.object_id = $ref) "
    "AND ($trace IS NULL OR n.trace_id = $trace) RETURN n.key AS key, n.label AS label"
    for label in Label
)


def _causal_chain(driver: Any, ref: str, trace: str | None, database: str | None) -> list[Row]:
    found = sorted(
        _records(driver, _RESOLVE, {"ref": ref, "trace": trace}, database),
        key=lambda record: record["key"],
    )
    keys = [record["key"] for record in found]
    if ref in keys:
        keys = [ref]
    elif len(keys) > 1:
        # The root thread's id is usually also the rollout id: mean the thread.
        keys = [record["key"] for record in found if record["label"] != "Rollout"] or keys
    if not keys:
        raise QueryError(f"no node with key or id {ref!r} in the database")
    if len(keys) > 1:
        raise QueryError(f"id {ref!r} names several nodes ({', '.join(keys)}); pass a node key")
    rules = [[label.value, rel.value, source.value, rank] for label, rel, source, rank in CAUSE_RULES]
    first = _records(
        driver, _with_label("MATCH (n {key: $key}) RETURN n.label AS label, "
                            "n.object_id AS object_id, n.status AS status", keys[0]),
        {"key": keys[0]}, database,
    )[0]
    rows: list[Row] = [{"step": 0, "label": first["label"], "object_id": first["object_id"],
                        "via": None, "status": first["status"]}]
    visited = [keys[0]]
    text = query_text("causal-chain")
    while len(rows) < MAX_CHAIN:
        step = _records(driver, _with_label(text, visited[-1]),
                        {"key": visited[-1], "visited": visited, "rules": rules}, database)
        if not step:
            break
        record = step[0]
        visited.append(record["key"])
        rows.append({"step": len(rows), "label": record["label"],
                     "object_id": record["object_id"], "via": record["via"],
                     "status": record["status"]})
    return rows
