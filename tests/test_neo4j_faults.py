"""A Neo4j server killed in the middle of a large load: restarted on the same data
directory, a re-run of the load leaves exactly what a clean load does."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import neo4j
import networkx as nx
import pytest

from benchmarks.long_rollout import write_long_rollout
from tests.neo4j_fixtures import neo4j_required
from tests.neo4j_support import counts, dump, wipe
from tracegraph.graph import load_graph
from tracegraph.neo4j import ExportProgress, Neo4jExportError, export_graph
from tracegraph.neo4j_harness import Neo4jServer, start_harness

pytestmark = pytest.mark.neo4j

BATCH = 100


@pytest.fixture(scope="module")
def large_graph(tmp_path_factory: pytest.TempPathFactory) -> nx.MultiDiGraph:
    bundle = tmp_path_factory.mktemp("faults") / "long"
    write_long_rollout(bundle, 60)
    return load_graph(bundle)


@pytest.fixture
def own_harness(tmp_path: Path) -> Iterator[tuple[Path, list[Neo4jServer]]]:
    """A data directory and the harness servers started on it (stopped afterwards)."""
    servers: list[Neo4jServer] = []
    yield tmp_path / "data", servers
    for server in servers:
        server.stop()


def start(data: Path, servers: list[Neo4jServer]) -> Neo4jServer:
    try:
        server = start_harness(data_dir=data)
    except Exception as exc:  # no mvn or java: the harness is how this test kills a server
        if neo4j_required():
            raise
        pytest.skip(f"the neo4j-harness cannot start here: {exc}")
    servers.append(server)
    return server


def test_a_server_killed_mid_load_then_restarted_is_completed_by_a_rerun(
    large_graph: nx.MultiDiGraph, neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer,
    own_harness: tuple[Path, list[Neo4jServer]],
) -> None:
    graph = large_graph
    elements = graph.number_of_nodes() + graph.number_of_edges()
    assert elements > 20 * BATCH
    export_graph(graph, neo4j_driver, database=neo4j_server.database, batch_size=BATCH)
    expected = dump(neo4j_driver, neo4j_server.database)
    wipe(neo4j_driver, neo4j_server.database)

    data, servers = own_harness
    first = start(data, servers)
    committed: list[ExportProgress] = []

    def kill_half_way(event: ExportProgress) -> None:
        if event.phase not in {"nodes", "relationships"}:
            return
        committed.append(event)
        if event.batches_done == event.batches_total // 2 and first.pid is not None:
            os.kill(first.pid, signal.SIGKILL)  # another batch is in flight right now

    # The driver retries a lost connection for 30 s by default; the server stays dead.
    with (first.driver(max_transaction_retry_time=1) as driver,
          pytest.raises(Neo4jExportError) as failure):
        export_graph(graph, driver, batch_size=BATCH, progress=kill_half_way)
    assert failure.value.batches_written is not None
    assert 0 < failure.value.batches_written < failure.value.batches_total  # type: ignore[operator]
    assert len(str(failure.value).splitlines()) == 1
    first.stop()

    second = start(data, servers)
    with second.driver() as driver:
        # Every batch reported as committed survived the kill (recovery from the log).
        nodes, rels = counts(driver)
        assert sum(nodes.values()) + sum(rels.values()) >= committed[-1].rows_done
        assert dump(driver) != expected
        rerun = export_graph(graph, driver, batch_size=BATCH)
        assert rerun.changed and rerun.modes == dict.fromkeys(rerun.trace_ids, "update")
        assert dump(driver) == expected
