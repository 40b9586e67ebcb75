"""`tracegraph watch --neo4j` against the real Neo4j of the test suite."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import neo4j
import pytest
from typer.testing import CliRunner

from tests.neo4j_support import RecordingDriver, canonical, wipe
from tests.neo4j_support import dump as dump_all
from tests.test_watch import BUNDLES, append, empty_bundle, log_lines
from tracegraph.cli import app
from tracegraph.graph import load_graph
from tracegraph.neo4j import export_graph
from tracegraph.neo4j.fingerprint import FINGERPRINT_PROPERTY
from tracegraph.neo4j_harness import Neo4jServer
from tracegraph.watch import Neo4jSink, Watcher

pytestmark = pytest.mark.neo4j

#: Generous: the machine is shared. Visibility is checked, never timed.
PATIENCE_SECONDS = 60


def dump(driver: neo4j.Driver, database: str) -> dict[str, list[str]]:
    """The graph the database holds: every node and relationship, without the load
    fingerprints a full load keeps on Rollout nodes (bookkeeping, not the graph)."""
    out = dump_all(driver, database)
    nodes = []
    for entry in out["nodes"]:
        labels, props = json.loads(entry)
        props.pop(FINGERPRINT_PROPERTY, None)
        nodes.append(canonical([labels, props]))
    return {"nodes": sorted(nodes), "relationships": out["relationships"]}


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {PATIENCE_SECONDS} s: {what}")
        time.sleep(0.02)


def clean_load(driver: neo4j.Driver, database: str, bundles: list[Path]) -> dict[str, list[str]]:
    """What a fresh database holds after `load --neo4j` of ``bundles`` as they are now."""
    wipe(driver, database)
    for bundle in bundles:
        # The watcher created the schema already.
        export_graph(load_graph(bundle), driver, database=database, create_schema=False)
    return dump(driver, database)


def rollout_status(driver: neo4j.Driver, database: str, trace_id: str) -> str | None:
    records, _, _ = driver.execute_query(
        "MATCH (r:Rollout {trace_id: $trace_id}) RETURN r.status AS status",
        trace_id=trace_id, database_=database)
    return records[0]["status"] if records else None


def test_a_writer_on_a_timer_ends_equal_to_a_clean_load(
        tmp_path: Path, neo4j_server: Neo4jServer, neo4j_driver: neo4j.Driver) -> None:
    database = neo4j_server.database
    root = tmp_path / "root"
    bundles = {name: empty_bundle(root, name) for name in ("multi-agent",)}
    lines = {name: log_lines(name) for name in bundles}
    trace_id = str(load_graph(BUNDLES / "multi-agent" / "state.json").graph["trace_ids"][0])
    watcher = Watcher(root, Neo4jSink(neo4j_driver, database=database, batch_size=50))
    stop = threading.Event()
    failure: list[BaseException] = []

    def watch() -> None:
        try:
            watcher.run(stop=stop, poll_interval=0.2)
        except BaseException as err:  # reported by the test thread
            failure.append(err)

    def write() -> None:
        # All but the last line, two at a time (the second torn in two), on a 20 ms timer.
        for name, bundle in bundles.items():
            for index in range(0, len(lines[name]) - 1, 2):
                pair = b"".join(lines[name][index:min(index + 2, len(lines[name]) - 1)])
                cut = len(pair) - len(pair) // 4
                append(bundle, pair[:cut])
                time.sleep(0.005)
                append(bundle, pair[cut:])
                time.sleep(0.02)

    watching = threading.Thread(target=watch, daemon=True)
    watching.start()
    try:
        writer = threading.Thread(target=write)
        writer.start()
        writer.join()
        eventually(lambda: rollout_status(neo4j_driver, database, trace_id) == "running",
                   "the rollout in Neo4j")
        # The last event (rollout_ended) becomes visible in Neo4j while watching.
        append(bundles["multi-agent"], lines["multi-agent"][-1])
        eventually(lambda: rollout_status(neo4j_driver, database, trace_id) == "completed",
                   "rollout_ended in Neo4j")
        eventually(lambda: {s.name: s.events for s in watcher.statuses} == {
            bundle.name: len(lines[name]) for name, bundle in bundles.items()},
            "every event applied")
    finally:
        stop.set()
        watching.join(timeout=PATIENCE_SECONDS)
    assert not failure, failure
    assert not watching.is_alive()
    watched = dump(neo4j_driver, database)
    assert watched == clean_load(neo4j_driver, database, list(bundles.values()))


def test_reloads_and_earlier_runs_converge_to_a_clean_load(
        tmp_path: Path, neo4j_server: Neo4jServer, neo4j_driver: neo4j.Driver) -> None:
    database = neo4j_server.database
    root = tmp_path / "root"
    bundle = empty_bundle(root, "multi-agent")
    lines = log_lines("multi-agent")
    append(bundle, b"".join(lines))
    # An earlier run left the whole trace; the log is now shorter.
    export_graph(load_graph(bundle), neo4j_driver, database=database)
    (bundle / "trace.jsonl").write_bytes(b"".join(lines[:30]))
    watcher = Watcher(root, Neo4jSink(neo4j_driver, database=database))
    watcher.sync()
    # Diffs from here: grow, then truncate (elements removed).
    append(bundle, b"".join(lines[30:50]))
    watcher.sync()
    (bundle / "trace.jsonl").write_bytes(b"".join(lines[:25]))
    watcher.sync()
    assert watcher._bundles[bundle].reloads == 1
    watched = dump(neo4j_driver, database)
    assert watched == clean_load(neo4j_driver, database, [bundle])
    # Another trace in the same directory: the old one goes.
    (bundle / "trace.jsonl").write_bytes(b"".join(lines))
    watcher.sync()
    shutil.rmtree(bundle)
    shutil.copytree(BUNDLES / "terminal-reuse", bundle,
                    ignore=shutil.ignore_patterns("state.json", "*.graphml"))
    watcher.sync()
    assert dump(neo4j_driver, database) == clean_load(neo4j_driver, database, [bundle])


def test_a_failed_write_is_reported_and_retried(
        tmp_path: Path, neo4j_server: Neo4jServer, neo4j_driver: neo4j.Driver) -> None:
    database = neo4j_server.database
    root = tmp_path / "root"
    bundle = empty_bundle(root, "compaction")
    lines = log_lines("compaction")
    append(bundle, b"".join(lines[:20]))
    flaky = RecordingDriver(neo4j_driver)
    watcher = Watcher(root, Neo4jSink(flaky, database=database))  # type: ignore[arg-type]
    watcher.sync()
    flaky.fail_after_writes = flaky.writes
    append(bundle, b"".join(lines[20:]))
    watcher.sync()
    status = watcher.statuses[0]
    assert status.status == "write failed" and "retrying" in status.detail
    flaky.fail_after_writes = None
    watcher.sync()
    assert watcher.statuses[0].status != "write failed"
    assert dump(neo4j_driver, database) == clean_load(neo4j_driver, database, [bundle])


def test_watch_command_loads_neo4j(
        tmp_path: Path, neo4j_server: Neo4jServer, neo4j_driver: neo4j.Driver) -> None:
    database = neo4j_server.database
    root = tmp_path / "root"
    bundle = empty_bundle(root, "terminal-reuse")
    append(bundle, b"".join(log_lines("terminal-reuse")))
    result = CliRunner().invoke(
        app, ["watch", str(root), "--neo4j", neo4j_server.uri, "--user", neo4j_server.user,
              "--database", database, "--idle-exit", "0.2", "--poll-interval", "0.05"],
        env={"NEO4J_PASSWORD": neo4j_server.password or ""})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{bundle.name}: 41 events, 1 threads")
    assert dump(neo4j_driver, database) == clean_load(neo4j_driver, database, [bundle])
