"""Session rollout graphs in a real Neo4j: `tracegraph load DIR --neo4j`, and every canned
query giving the same rows in Cypher as on networkx."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests import session_files as sf
from tests.neo4j_support import counts, graph_counts, wipe
from tests.test_query_parity import _cases
from tracegraph.cli import app
from tracegraph.graph import load_graph
from tracegraph.neo4j_harness import Neo4jServer
from tracegraph.queries import QueryError, get_query, run_query
from tracegraph.queries.cypher import run_cypher_query

pytestmark = pytest.mark.neo4j

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sessions"


def test_a_sessions_directory_loads_into_neo4j_and_answers_like_networkx(
    neo4j_server: Neo4jServer, tmp_path: Path,
) -> None:
    sessions = tmp_path / "sessions"
    parent = sf.legacy_2026(sessions)
    sf.child_without_ordinals(sessions, parent)
    sf.legacy_2025(sessions)
    sf.paginated_2026(sessions, compress=True)
    for path in EXAMPLE.rglob("*.jsonl"):
        target = sessions / path.relative_to(EXAMPLE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    driver = neo4j_server.driver()
    try:
        wipe(driver, neo4j_server.database)
        result = CliRunner().invoke(
            app, ["load", str(sessions), "--neo4j", neo4j_server.uri, "--user",
                  neo4j_server.user, "--database", neo4j_server.database],
            env={"NEO4J_PASSWORD": neo4j_server.password})
        assert result.exit_code == 0, result.output
        graph = load_graph(sessions)
        assert counts(driver, neo4j_server.database) == graph_counts(graph)
        for trace_id in graph.graph["trace_ids"]:
            for name, params in _cases(graph.subgraph(
                    [n for n, d in graph.nodes(data=True) if d["trace_id"] == trace_id])):
                if get_query(name).needs:
                    # Both refuse, with the same one line (request-input needs snapshots).
                    with pytest.raises(QueryError) as offline_error:
                        run_query(graph, name, trace=trace_id, **params)
                    with pytest.raises(QueryError) as online_error:
                        run_cypher_query(driver, name, database=neo4j_server.database,
                                         trace=trace_id, **params)
                    assert str(online_error.value) == str(offline_error.value)
                    continue
                offline = run_query(graph, name, trace=trace_id, **params)
                online = run_cypher_query(driver, name, database=neo4j_server.database,
                                          trace=trace_id, **params)
                assert online == offline, f"{trace_id}: {name} {params}"
    finally:
        driver.close()
