"""Measure every figure of the long-rollout targets and write docs/performance.md.

    python benchmarks/bench_performance.py            # 1,500 turns, 200 small bundles

Generates a long rollout with ``benchmarks/long_rollout.py``, then measures, each
under ``/usr/bin/time -v`` (wall seconds, peak RSS) where it is a command:

- the reference reducer (``../shared/tools/reference-reduce``) and ``tracegraph
  reduce`` on the same bundle;
- projection (``state.json`` to the graph, in this process) and graph size per
  event at ``--sizes`` turns;
- GraphML: ``tracegraph export STATE --graphml`` (time, RSS, file size) and the
  main job ``tracegraph load BUNDLE``;
- Neo4j, on a server provisioned like the test suite's (``TRACEGRAPH_NEO4J_URI``,
  else testcontainers, else the neo4j-harness JVM), warmed by one load of the
  example bundles and of a ``WARM_TURNS``-turn rollout (each deleted again):
  ``tracegraph load STATE --neo4j`` into a database without the trace, the same
  state under another trace id beside it (then deleted), the first after deleting it
  again, then again unchanged; and ``export_graph`` in this process, three first
  loads for the phase times and the write-phase rate (the median one is reported,
  all three rates beside it), a re-load that projects again (no source
  fingerprint: the graph's unit fingerprints only), and ``tracegraph load DIR
  --neo4j`` of the ``--small`` small rollouts with ``--jobs 1`` and ``--jobs 2``
  (each into a database without them);
- ``tracegraph view BUNDLE`` (time, RSS, page size);
- ``tracegraph load DIR --jobs 1`` and ``--jobs 2`` on ``--small`` small bundles, alternated,
  best of three each.

Figures taken on a shared machine are noisy: the document says when, where and
how they were taken; rerun this command to refresh them.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_graph import timed, tracegraph  # noqa: E402
from benchmarks.long_rollout import write_long_rollout  # noqa: E402
from tracegraph.authoring.reference import reference_reducer  # noqa: E402
from tracegraph.neo4j import ExportSummary  # noqa: E402

if TYPE_CHECKING:
    import neo4j

BUNDLES = ROOT / "examples" / "bundles"
#: Turns of the rollout that warms a Neo4j server before the timed loads.
WARM_TURNS = 300
#: In-process first loads timed for the write phase (the median is reported).
EXPORT_RUNS = 3


def machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.platform()}"


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def packer() -> str:
    try:
        return f"neo4j-rust-ext {importlib.metadata.version('neo4j-rust-ext')}"
    except importlib.metadata.PackageNotFoundError:
        return "pure-Python PackStream"


def count_events(bundle: Path) -> int:
    with (bundle / "trace.jsonl").open("rb") as lines:
        return sum(1 for line in lines if line.strip())


def bundle_megabytes(bundle: Path) -> float:
    return sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file()
               and p.name not in {"state.json", "graph.graphml"}) / 1e6


def measure_graph(state: Path) -> dict[str, float]:
    from tracegraph.graph import project
    from tracegraph.model import load_state

    started = time.perf_counter()
    trace = load_state(state)
    loaded = time.perf_counter()
    graph = project(trace)
    done = time.perf_counter()
    return {"load_state_s": loaded - started, "project_s": done - loaded,
            "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}


@dataclass
class Neo4jFigures:
    server: str
    first: tuple[float, float, int]
    #: The same first load again, the trace deleted in between: the server has now run
    #: one load of this size (its JIT has compiled that path, its heap has grown).
    first_again: tuple[float, float, int]
    #: The first load of a second trace of the same size (the rollout with another trace
    #: id) while the first one stays: the store grows, the server has run a load that size.
    beside: tuple[float, float, int]
    reload: tuple[float, float, int]
    #: ``export_graph`` first loads in this process (the trace deleted before each),
    #: slowest write phase first: one figure is at the mercy of the server's warm-up.
    export_firsts: list[ExportSummary]
    export_again: ExportSummary
    reload_projecting_s: float
    #: ``tracegraph load DIR --neo4j --jobs 1`` and ``--jobs 2`` of the small rollouts, each
    #: into a database without them.
    many: tuple[tuple[float, float, int], tuple[float, float, int]]


def warm_server(driver: neo4j.Driver, database: str | None, turns: int) -> None:
    """Warm a server: the first load on a new server creates the schema and plans every
    query shape, which is not a rollout's cost; so each example bundle is loaded and
    deleted. A just-started JVM also compiles the write path during its first large
    load (tens of CPU seconds); a server in use has done that, so a ``turns`` rollout
    is loaded and deleted too (none when ``turns`` is 0)."""
    from tracegraph.graph import load_graph
    from tracegraph.neo4j import delete_trace, export_graph

    for bundle in sorted(BUNDLES.iterdir()):
        if (bundle / "state.json").is_file():
            graph = load_graph(bundle / "state.json")
            export_graph(graph, driver, database=database)
            delete_trace(driver, graph.graph["trace_ids"][0], database=database)
    if turns <= 0:
        return
    with tempfile.TemporaryDirectory() as warm_dir:
        warm = Path(warm_dir) / "warm"
        write_long_rollout(warm, turns, seed=1)
        graph = load_graph(warm)
        export_graph(graph, driver, database=database)
        delete_trace(driver, graph.graph["trace_ids"][0], database=database)


def neo4j_figures(state: Path, many: Path) -> Neo4jFigures:
    from tracegraph.graph import load_graph
    from tracegraph.neo4j import delete_trace, export_graph
    from tracegraph.neo4j_harness import provision_neo4j

    with provision_neo4j() as server, server.driver() as driver:
        warm_server(driver, server.database, WARM_TURNS)
        graph = load_graph(state)
        (trace_id,) = graph.graph["trace_ids"]
        delete_trace(driver, trace_id, database=server.database)
        os.environ["NEO4J_PASSWORD"] = server.password
        cli = tracegraph("load", str(state), "--neo4j", server.uri, "--user", server.user,
                         "--database", server.database)
        first_cli = timed(cli)
        with tempfile.TemporaryDirectory() as scratch:
            other_id = trace_id[:-1] + ("0" if trace_id[-1] != "0" else "1")
            other = Path(scratch) / "state.json"
            other.write_bytes(state.read_bytes().replace(trace_id.encode(), other_id.encode()))
            beside_cli = timed(tracegraph("load", str(other), "--neo4j", server.uri, "--user",
                                          server.user, "--database", server.database))
            delete_trace(driver, other_id, database=server.database)
        delete_trace(driver, trace_id, database=server.database)
        first_again_cli, reload_cli = timed(cli), timed(cli)
        firsts = []
        for _ in range(EXPORT_RUNS):
            delete_trace(driver, trace_id, database=server.database)
            firsts.append(export_graph(graph, driver, database=server.database))
        firsts.sort(key=lambda summary: -summary.phase_seconds["upsert"])
        started = time.perf_counter()
        again = export_graph(load_graph(state), driver, database=server.database)
        projecting = time.perf_counter() - started
        delete_trace(driver, trace_id, database=server.database)
        small_ids = [str(json.loads((bundle / "manifest.json").read_text())["trace_id"])
                     for bundle in sorted(many.iterdir())]
        many_cli = []
        for jobs in ("1", "2"):
            many_cli.append(timed(tracegraph("load", str(many), "--neo4j", server.uri, "--user",
                                             server.user, "--database", server.database,
                                             "--jobs", jobs)))
            for small_id in small_ids:
                delete_trace(driver, small_id, database=server.database)
        return Neo4jFigures(f"{server.source} ({server.uri})", first_cli, first_again_cli,
                            beside_cli, reload_cli, firsts, again, projecting,
                            (many_cli[0], many_cli[1]))


def write_small_bundles(root: Path, count: int) -> None:
    """``count`` 3-turn rollouts, each its own trace (seeds give distinct trace ids)."""
    for index in range(count):
        write_long_rollout(root / f"bundle-{index:03d}", 3, seed=index)


def jobs_figures(root: Path) -> tuple[float, float]:
    """Best wall seconds of ``load DIR --jobs 1`` and ``--jobs 2`` over the small bundles."""
    # Alternate the two, best of three each: one run is at the mercy of other work.
    ones, twos = [], []
    for _ in range(3):
        ones.append(timed(tracegraph("load", str(root), "--jobs", "1"))[0])
        twos.append(timed(tracegraph("load", str(root), "--jobs", "2"))[0])
    return min(ones), min(twos)


def measured(figures: tuple[float, float, int]) -> str:
    """Wall seconds, CPU seconds and peak RSS of one timed command."""
    wall, cpu, rss = figures
    return f"{wall:.1f} s ({cpu:.1f} s CPU), {rss:,} MiB"


def row(figure: str, target: str, value: str, reference: str = "") -> str:
    return f"| {figure} | {target} | {value} | {reference} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=1500)
    parser.add_argument("--sizes", type=int, nargs="*", default=[100, 500],
                        help="other rollout sizes for the graph size per event")
    parser.add_argument("--small", type=int, default=200, help="small bundles for --jobs")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-neo4j", action="store_true", help="skip the Neo4j figures")
    args = parser.parse_args()
    command = "python benchmarks/bench_performance.py " + " ".join(sys.argv[1:])
    started_at = datetime.datetime.now(datetime.UTC)
    load_before = load_average()
    neo4j: Neo4jFigures | None = None
    with tempfile.TemporaryDirectory(prefix="tracegraph-perf-") as tmp:
        bundle = Path(tmp) / "long"
        write_long_rollout(bundle, args.turns)
        events = count_events(bundle)
        size_mb = bundle_megabytes(bundle)
        print(f"rollout: {args.turns} turns, {events:,} events, {size_mb:.0f} MB", flush=True)
        binary = reference_reducer()
        if binary is None:
            raise SystemExit("no reference reducer: set TRACEGRAPH_REFERENCE_REDUCE")
        reference = timed([str(binary), str(bundle), str(Path(tmp) / "reference.json")])
        reduced = timed(tracegraph("reduce", str(bundle)))
        state = bundle / "state.json"
        print(f"reduce: reference {reference}, tracegraph {reduced}", flush=True)
        graph = measure_graph(state)
        per_event = {args.turns: (graph["nodes"] + graph["edges"]) / events}
        for turns in args.sizes:
            small = Path(tmp) / f"size-{turns}"
            write_long_rollout(small, turns)
            subprocess.run(tracegraph("reduce", str(small)), check=True, capture_output=True)
            sized = measure_graph(small / "state.json")
            per_event[turns] = (sized["nodes"] + sized["edges"]) / count_events(small)
        graphml = Path(tmp) / "graph.graphml"
        export = timed(tracegraph("export", str(state), "--graphml", str(graphml)))
        graphml_mb = graphml.stat().st_size / 1e6
        main_job = timed(tracegraph("load", str(bundle)))
        page = Path(tmp) / "view.html"
        view = timed(tracegraph("view", str(bundle), "-o", str(page)))
        page_mb = page.stat().st_size / 1e6
        print(f"graph {graph}, GraphML {export} {graphml_mb:.0f} MB, load {main_job}",
              flush=True)
        many = Path(tmp) / "many"
        write_small_bundles(many, args.small)
        if not args.no_neo4j:
            neo4j = neo4j_figures(state, many)
            print(f"neo4j: {neo4j.first} then {neo4j.reload}", flush=True)
        jobs_1, jobs_2 = jobs_figures(many)
        print(f"jobs: {jobs_1:.1f} s / {jobs_2:.1f} s", flush=True)

    elements = int(graph["nodes"] + graph["edges"])
    lines = [
        "# Performance",
        "",
        "Generated by `benchmarks/bench_performance.py`; rerun it to refresh every figure.",
        "",
        f"- **When**: {started_at:%Y-%m-%d %H:%M} UTC",
        f"- **Machine**: {machine()}; load average {load_before} at the start, "
        f"{load_average()} at the end (a load average above the core count means other "
        "work shared the machine and the figures are pessimistic)",
        f"- **Command**: `{command.strip()}`",
        f"- **Rollout**: `benchmarks/long_rollout.py --turns {args.turns}`: {events:,} events, "
        f"{size_mb:.0f} MB bundle; graph {int(graph['nodes']):,} nodes + "
        f"{int(graph['edges']):,} edges",
        f"- **Neo4j**: {neo4j.server if neo4j else 'not measured'}; driver "
        f"{importlib.metadata.version('neo4j')} ({packer()})",
        "",
        "Wall seconds, CPU seconds and peak RSS come from `/usr/bin/time -v` around each command.",
        f"The Neo4j server is warmed first by loading (and deleting) the example bundles and a "
        f"{WARM_TURNS}-turn rollout. The first load of the long rollout is the first of its "
        "size on that server, which still warms up then (JIT, query plans; see "
        "`benchmarks/profile_neo4j.py`); the next row loads a second trace of that size "
        "beside it (the same rollout under another trace id: the store grows, as in a "
        "database that collects rollouts), the one after loads the first again after "
        "deleting it. "
        "The `--jobs` rows are the best of three alternated runs.",
        "",
        "| figure | target | tracegraph | reference reducer |",
        "|---|---|---:|---:|",
        row("reduce the bundle (`tracegraph reduce`)", "",
            f"{measured(reduced)}",
            f"{measured(reference)}"),
        row("read state.json + project the graph (in process)", "",
            f"{graph['load_state_s']:.1f} s + {graph['project_s']:.1f} s"),
    ]
    for turns in sorted(per_event):
        lines.append(row(f"nodes + edges per event, {turns:,} turns", "<= 10, flat",
                         f"{per_event[turns]:.2f}"))
    lines += [
        row("GraphML export (`tracegraph export STATE --graphml`)", "<= 15 s, <= 500 MB RSS",
            f"{measured(export)}"),
        row("GraphML file", "<= 80 MB", f"{graphml_mb:.0f} MB"),
        row("main job from the bundle (`tracegraph load BUNDLE`)", "",
            f"{measured(main_job)}", f"{reference[0]:.1f} s (reduce only)"),
        row("trace view from the bundle (`tracegraph view BUNDLE -o FILE.html`)",
            "<= 10 s, <= 30 MB", f"{measured(view)}; {page_mb:.1f} MB page"),
    ]
    if neo4j is not None:
        median = neo4j.export_firsts[len(neo4j.export_firsts) // 2]
        phases = ", ".join(f"{name} {seconds:.1f} s"
                           for name, seconds in median.phase_seconds.items())
        rates = ", ".join(f"{summary.written_per_second:,.0f}"
                          for summary in neo4j.export_firsts)
        lines += [
            row("Neo4j first load (`tracegraph load STATE --neo4j`)", "<= 10 s",
                f"{measured(neo4j.first)}"),
            row("Neo4j first load of a second trace that size, the first one kept "
                "(same command; the store grows)", "<= 10 s", f"{measured(neo4j.beside)}"),
            row("Neo4j first load again, the trace deleted in between (same command)",
                "<= 10 s", f"{measured(neo4j.first_again)}"),
            row("Neo4j re-load, unchanged (same command)", "<= 2 s",
                f"{measured(neo4j.reload)}"),
            row(f"Neo4j write phase (first load, `export_graph`, median of {EXPORT_RUNS})",
                ">= 50k elements/s",
                f"{median.written_per_second:,.0f} elements/s ({elements:,} in "
                f"{median.phase_seconds['upsert']:.1f} s); all runs, slowest first: {rates}"),
            row("`export_graph` first load (the median run), by phase", "", phases),
            row("re-load that projects again (graph fingerprints only)", "",
                f"{neo4j.reload_projecting_s:.1f} s (export {neo4j.export_again.seconds:.2f} s)"),
            row(f"`tracegraph load DIR --neo4j --jobs 1`, {args.small} small rollouts "
                "(3 turns each) into the database", "", f"{measured(neo4j.many[0])}"),
            row(f"`tracegraph load DIR --neo4j --jobs 2`, {args.small} small rollouts", "",
                f"{measured(neo4j.many[1])}"),
        ]
    lines += [
        row(f"`tracegraph load DIR --jobs 1`, {args.small} small bundles to GraphML", "",
            f"{jobs_1:.1f} s"),
        row(f"`tracegraph load DIR --jobs 2`, {args.small} small bundles to GraphML",
            ">= 1.6x faster than --jobs 1",
            f"{jobs_2:.1f} s ({jobs_1 / jobs_2:.2f}x)"),
        "",
    ]
    text = "\n".join(lines)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
