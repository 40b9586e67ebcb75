"""Helpers for the Neo4j exporter tests: database dumps and a recording driver."""

from __future__ import annotations

import json
import re
import shutil
import socket
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import neo4j
import networkx as nx
from neo4j.exceptions import ServiceUnavailable

BUNDLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
BUNDLE_NAMES = sorted(p.name for p in BUNDLES.iterdir() if (p / "manifest.json").is_file())


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def dump(driver: neo4j.Driver, database: str | None = None) -> dict[str, list[str]]:
    """Every node (labels, properties) and relationship (type, endpoints, properties), sorted."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props", database_=database)
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, a.key AS source, b.key AS target, "
        "properties(r) AS props", database_=database)
    return {
        "nodes": sorted(canonical([sorted(r["labels"]), r["props"]]) for r in nodes),
        "relationships": sorted(
            canonical([r["type"], r["source"], r["target"], r["props"]]) for r in rels),
    }


def counts(driver: neo4j.Driver, database: str | None = None,
           trace_id: str | None = None) -> tuple[Counter[str], Counter[str]]:
    """Nodes per label and relationships per type (of one trace, when given)."""
    where = "WHERE n.trace_id = $trace_id" if trace_id else ""
    nodes, _, _ = driver.execute_query(
        f"MATCH (n) {where} UNWIND labels(n) AS label RETURN label, count(*) AS count",
        trace_id=trace_id, database_=database)
    rels, _, _ = driver.execute_query(
        f"MATCH (n)-[r]->() {where} RETURN type(r) AS type, count(*) AS count",
        trace_id=trace_id, database_=database)
    return (Counter({r["label"]: r["count"] for r in nodes}),
            Counter({r["type"]: r["count"] for r in rels}))


def graph_counts(graph: nx.MultiDiGraph) -> tuple[Counter[str], Counter[str]]:
    nodes = Counter(attrs["label"] for _, attrs in graph.nodes(data=True))
    rels = Counter(attrs["label"] for *_, attrs in graph.edges(data=True))
    return nodes, rels


def wipe(driver: neo4j.Driver, database: str | None = None) -> None:
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)


def copy_bundle(tmp_path: Path, name: str, *, keep_lines: float | None = None) -> Path:
    """A copy of an example bundle without its state.json, its event log cut to a fraction."""
    copy = tmp_path / name
    shutil.copytree(BUNDLES / name, copy)
    (copy / "state.json").unlink()
    if keep_lines is not None:
        log = copy / "trace.jsonl"
        lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
        log.write_text("".join(lines[: int(len(lines) * keep_lines)]), encoding="utf-8")
    return copy


def free_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- a driver that records every query and can fail on demand ------------------------


class RecordingTransaction:
    def __init__(self, tx: Any, log: list[str]) -> None:
        self._tx = tx
        self._log = log

    def run(self, query: str, parameters: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self._log.append(query)
        return self._tx.run(query, parameters, **kwargs)


class RecordingSession:
    def __init__(self, session: Any, owner: RecordingDriver) -> None:
        self._session = session
        self._owner = owner

    def __enter__(self) -> RecordingSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self._session.close()

    def close(self) -> None:
        self._session.close()

    def _wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def work(tx: Any, *args: Any, **kwargs: Any) -> Any:
            return fn(RecordingTransaction(tx, self._owner.queries), *args, **kwargs)
        return work

    def execute_write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        owner = self._owner
        if owner.fail_after_writes is not None and owner.writes >= owner.fail_after_writes:
            raise ServiceUnavailable("simulated: connection to the server lost")
        result = self._session.execute_write(self._wrap(fn), *args, **kwargs)
        owner.writes += 1
        return result

    def execute_read(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return self._session.execute_read(self._wrap(fn), *args, **kwargs)

    def run(self, query: str, parameters: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self._owner.queries.append(query)
        return self._session.run(query, parameters, **kwargs)


class RecordingDriver:
    """Wraps a driver: records every query text; ``fail_after_writes`` simulates a lost
    connection (``ServiceUnavailable``) once that many write transactions committed."""

    def __init__(self, driver: neo4j.Driver, *, fail_after_writes: int | None = None) -> None:
        self._driver = driver
        self.queries: list[str] = []
        self.writes = 0
        self.fail_after_writes = fail_after_writes

    def session(self, **config: Any) -> RecordingSession:
        return RecordingSession(self._driver.session(**config), self)


_PATTERN_NAMES = re.compile(r"[(\[]\s*\w*\s*:\s*(\w+)")


def pattern_names(query: str) -> set[str]:
    """Labels and relationship types named in the node and relationship patterns of ``query``."""
    return set(_PATTERN_NAMES.findall(query))
