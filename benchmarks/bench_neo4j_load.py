"""Measure the Neo4j load rate (nodes + relationships per second) of ``export_graph``.

Provisions a server the way the test suite does (``TRACEGRAPH_NEO4J_URI``, else
testcontainers, else the in-process neo4j-harness JVM), then for the largest
example bundle and for synthetic long rollouts of the given sizes:

1. a fresh load into a database without that trace,
2. a second load of the same graph (idempotent: matches everything, writes nothing),
3. ``delete_trace``.

Each fresh load reports its write-phase rate (nodes + relationships per second of the
``upsert`` phase) and where the CPU went: the client (this process) and, for the
harness, the server JVM (they share the machine's cores).

    python benchmarks/bench_neo4j_load.py --turns 1000
    python benchmarks/bench_neo4j_load.py --turns --bundle long1500.state.json --repeat 2

Against a server of your own (its database must be disposable)::

    TRACEGRAPH_NEO4J_URI=bolt://localhost:7687 TRACEGRAPH_NEO4J_PASSWORD=... \\
        python benchmarks/bench_neo4j_load.py --turns 1000
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.long_rollout import write_long_rollout  # noqa: E402
from tracegraph.graph import load_graph  # noqa: E402
from tracegraph.neo4j import DEFAULT_BATCH_SIZE, delete_trace, export_graph  # noqa: E402
from tracegraph.neo4j_harness import provision_neo4j  # noqa: E402

BUNDLES = ROOT / "examples" / "bundles"


def largest_example() -> Path:
    def size(path: Path) -> int:
        graph = load_graph(path / "state.json")
        return int(graph.number_of_nodes() + graph.number_of_edges())

    return max((p for p in BUNDLES.iterdir() if (p / "manifest.json").is_file()), key=size)


def packer() -> str:
    """Which PackStream implementation the driver uses."""
    try:
        version = importlib.metadata.version("neo4j-rust-ext")
    except importlib.metadata.PackageNotFoundError:
        return "pure Python"
    return f"neo4j-rust-ext {version}"


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stat_cpu_seconds(stat_path: str | Path) -> float:
    """User + system CPU seconds in a ``/proc/.../stat`` file (a process or a thread)."""
    fields = Path(stat_path).read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int | None) -> float | None:
    """CPU seconds of the harness JVM so far (None for a server that is not ours)."""
    if pid is None:
        return None
    try:
        return stat_cpu_seconds(f"/proc/{pid}/stat")
    except OSError:
        return None


def measure(name: str, graph: nx.MultiDiGraph, driver: object, database: str,
            batch_size: int, pid: int | None) -> dict[str, object]:
    (trace_id,) = graph.graph["trace_ids"]
    delete_trace(driver, trace_id, database=database)  # type: ignore[arg-type]
    elements = graph.number_of_nodes() + graph.number_of_edges()
    server_before, client_before = server_cpu(pid), client_cpu()
    fresh = export_graph(graph, driver, database=database,  # type: ignore[arg-type]
                         batch_size=batch_size)
    server_after = server_cpu(pid)
    server_s = (server_after - server_before
                if server_after is not None and server_before is not None else None)
    client_s = client_cpu() - client_before
    phases = ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in fresh.phase_seconds.items())
    assert fresh.nodes_created == graph.number_of_nodes(), fresh
    assert fresh.relationships_created == graph.number_of_edges(), fresh
    again = export_graph(graph, driver, database=database,  # type: ignore[arg-type]
                         batch_size=batch_size)
    assert not again.changed, again
    started = time.perf_counter()
    deleted = delete_trace(driver, trace_id, database=database)  # type: ignore[arg-type]
    delete_s = time.perf_counter() - started
    assert deleted.nodes_deleted == graph.number_of_nodes(), deleted
    return {
        "source": name, "nodes": graph.number_of_nodes(), "rels": graph.number_of_edges(),
        "batches": fresh.batches,
        "load_s": fresh.seconds, "load_rate": elements / fresh.seconds,
        "write_rate": elements / fresh.phase_seconds["upsert"],
        "server_cpu_s": server_s, "client_cpu_s": client_s,
        "reload_s": again.seconds, "reload_rate": elements / again.seconds,
        "delete_s": delete_s, "fresh_phases": phases,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, nargs="*", default=[1000],
                        help="sizes of the synthetic rollouts (benchmarks/long_rollout.py)")
    parser.add_argument("--bundle", type=Path, action="append", default=None,
                        help="bundles or state.json files to measure (default: the largest "
                             "example bundle)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per bundle (the first on a new server includes creating the "
                             "schema and planning every query); synthetic rollouts run once")
    args = parser.parse_args(argv)

    sources: list[tuple[str, Path]] = [
        (str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path), path)
        for path in (args.bundle or [largest_example()])
    ]
    rows = []
    synthetic: list[tuple[str, Path]] = []
    with tempfile.TemporaryDirectory(prefix="tracegraph-bench-") as tmp:
        for turns in args.turns:
            path = Path(tmp) / f"long-{turns}"
            write_long_rollout(path, turns)
            synthetic.append((f"long_rollout.py --turns {turns}", path))
        started = time.perf_counter()
        with provision_neo4j() as server, server.driver() as driver:
            print(f"server: {server.source} {server.uri} (ready in "
                  f"{time.perf_counter() - started:.1f} s); driver "
                  f"{importlib.metadata.version('neo4j')}, PackStream: {packer()}; "
                  f"batch size {args.batch_size}", flush=True)
            runs = [(f"{name} (run {i + 1})", path) for name, path in sources
                    for i in range(args.repeat)] + synthetic
            for name, path in runs:
                started = time.perf_counter()
                graph = load_graph(path)
                project_s = time.perf_counter() - started
                row = measure(name, graph, driver, server.database, args.batch_size,
                              server.pid)
                row["project_s"] = project_s
                rows.append(row)
                print(f"  {name}: {row}", flush=True)

    print()
    print("| source | nodes | relationships | batches | fresh load s | nodes+rels/s "
          "| write phase nodes+rels/s | server CPU s | client CPU s "
          "| re-load s | nodes+rels/s | delete s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        server_s = row["server_cpu_s"]
        server_text = "-" if server_s is None else f"{server_s:.1f}"
        print(f"| {row['source']} | {row['nodes']:,} | {row['rels']:,} | {row['batches']:,} "
              f"| {row['load_s']:.1f} | {row['load_rate']:,.0f} | {row['write_rate']:,.0f} "
              f"| {server_text} | {row['client_cpu_s']:.1f} "
              f"| {row['reload_s']:.1f} | {row['reload_rate']:,.0f} | {row['delete_s']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
