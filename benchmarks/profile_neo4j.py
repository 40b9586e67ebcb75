"""Where the Neo4j server's CPU goes during a load: a Java Flight Recorder profile.

    python benchmarks/profile_neo4j.py                      # 1,500-turn rollout
    python benchmarks/profile_neo4j.py --state STATE.json --warm-turns 0

Starts the neo4j-harness JVM (the profile needs a local JVM: ``jcmd`` and ``jfr``
from its JDK), warms it as ``bench_performance.py`` does (the example bundles and a
``--warm-turns`` rollout, each loaded and deleted; ``--warm-turns 0``: the example
bundles only),
then loads one graph with ``export_graph`` twice, each time into a database
without its trace: ``first`` (the first load of its size on that server) and
``again`` (the same load after deleting it). Each load runs under a JFR recording
(``settings=profile``: a Java stack sample about every 10 ms per running thread),
and its samples are sorted into the parts of the server named below, by the
innermost frame that names one. The recordings are kept with ``--keep DIR``.
The JVM's CPU is read from ``/proc``, with its JIT compiler and GC threads apart
(native threads, which the Java samples do not see). A recording makes the JIT
compile more: on a 1,500-turn first load, 7.7 to 9.4 s of JIT CPU without one
(``/proc`` alone), 20.8 s with one; read the JIT column as an upper bound.

What the parts mean:

- *query planning*: parsing and planning Cypher (the plan cache missed, or a plan
  was recompiled once hot);
- *Cypher runtime*: the slotted runtime running a plan (UNWIND, property reads);
- *kernel writes*: the transaction state (nodes, relationships and properties
  created, locks taken as it goes);
- *commit*: turning the transaction state into records and log commands,
  appending them to the transaction log, applying them to the stores and indexes;
- *locks*: taking and releasing locks (Forseti);
- *Bolt*: decoding the parameters and the network;
- *interpreted*: samples whose innermost frame ran in the bytecode interpreter, not
  yet compiled (a just-started JVM has many).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_neo4j_load import stat_cpu_seconds  # noqa: E402
from benchmarks.bench_performance import warm_server  # noqa: E402
from benchmarks.long_rollout import write_long_rollout  # noqa: E402
from tracegraph.graph import load_graph  # noqa: E402
from tracegraph.neo4j import delete_trace, export_graph  # noqa: E402
from tracegraph.neo4j_harness import start_harness  # noqa: E402

#: (part, substrings of a frame's class and method name), tried innermost frame first.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("query planning", ("CypherPlanner", "CypherParsing", "cypher/internal/compiler",
                        "cypher/internal/planner")),
    ("Bolt", ("packstream", "bolt/protocol", "bolt/transport")),
    ("commit", ("extractCommands", "createCommands", "TransactionApplier",
                "OnlineIndexUpdates", "IndexUpdatesWork", "TransactionLogWriter",
                "PhysicalFlushableChannel", "LogCommandSerialization", "DefaultCommitter",
                "TransactionCommitProcess")),
    ("locks", ("forseti", "Forseti", "LockService")),
    ("kernel writes", ("newapi/Operations", "kernel/impl/api/state", "TxState")),
    ("Cypher runtime", ("cypher/internal/runtime", "cypher/operations", "slotted")),
)


def jdk_tool(name: str) -> str:
    """``jcmd`` or ``jfr`` from the JDK of the ``java`` the harness runs."""
    java = os.environ.get("TRACEGRAPH_NEO4J_JAVA") or shutil.which("java")
    if java:
        beside = Path(java).resolve().parent / name
        if beside.is_file():
            return str(beside)
    found = shutil.which(name)
    if found is None:
        sys.exit(f"profile_neo4j: no `{name}` found beside `java` or on PATH")
    return found


def jvmstat_cpu_seconds(pid: int) -> dict[str, float]:
    """The JVM's CPU seconds so far: in all, and in its JIT compiler and GC threads
    (native threads, which the Java samples do not see)."""
    cpu = {"all": stat_cpu_seconds(f"/proc/{pid}/stat"), "jit": 0.0, "gc": 0.0}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm", encoding="utf-8") as comm:
                name = comm.read().strip()
            seconds = stat_cpu_seconds(f"/proc/{pid}/task/{tid}/stat")
        except OSError:  # the thread ended
            continue
        if "Compiler" in name or name.startswith(("C1 ", "C2 ")):
            cpu["jit"] += seconds
        elif "GC" in name or name.startswith(("G1 ", "VM Thread")):
            cpu["gc"] += seconds
    return cpu


def parts_of(recording: Path) -> tuple[int, collections.Counter[str], int]:
    """Samples of the recording, by part, and how many ran interpreted."""
    printed = subprocess.run(
        [jdk_tool("jfr"), "print", "--json", "--stack-depth", "256",
         "--events", "jdk.ExecutionSample", str(recording)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    by_part: collections.Counter[str] = collections.Counter()
    samples = interpreted = 0
    for event in json.loads(printed)["recording"]["events"]:
        stack = event["values"].get("stackTrace")
        if not stack or not stack["frames"]:
            continue
        samples += 1
        frames = stack["frames"]
        if frames[0].get("type") == "Interpreted":
            interpreted += 1
        names = [f"{f['method']['type']['name']}.{f['method']['name']}" for f in frames]
        part = "other"
        # Planning shows anywhere in the stack (it calls into everything else).
        if any(key in name for name in names for key in PARTS[0][1]):
            part = PARTS[0][0]
        else:
            for name in names:
                hit = next((p for p, keys in PARTS[1:] if any(k in name for k in keys)), None)
                if hit is not None:
                    part = hit
                    break
        by_part[part] += 1
    return samples, by_part, interpreted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=1500,
                        help="turns of the generated rollout (default 1500)")
    parser.add_argument("--state", type=Path, help="load this state.json or bundle instead")
    parser.add_argument("--warm-turns", type=int, default=300,
                        help="turns of the warm-up rollout; 0: none (default 300)")
    parser.add_argument("--keep", type=Path, help="keep the JFR recordings in this directory")
    args = parser.parse_args()

    jcmd = jdk_tool("jcmd")
    with tempfile.TemporaryDirectory() as scratch:
        source = args.state
        if source is None:
            source = Path(scratch) / "rollout"
            write_long_rollout(source, args.turns, seed=0)
        graph = load_graph(source)
        (trace_id,) = graph.graph["trace_ids"]
        out = args.keep or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        server = start_harness()
        pid = server.pid
        assert pid is not None  # a harness server is this machine's JVM
        rows = []
        try:
            with server.driver() as driver:
                warm_server(driver, server.database, args.warm_turns)
                for load in ("first", "again"):
                    delete_trace(driver, trace_id, database=server.database)
                    recording = out / f"{load}.jfr"
                    subprocess.run([jcmd, str(pid), "JFR.start", "name=tracegraph",
                                    "settings=profile", f"filename={recording}"],
                                   capture_output=True, check=True)
                    cpu, started = jvmstat_cpu_seconds(pid), time.perf_counter()
                    export_graph(graph, driver, database=server.database)
                    wall = time.perf_counter() - started
                    cpu = {k: v - cpu[k] for k, v in jvmstat_cpu_seconds(pid).items()}
                    subprocess.run([jcmd, str(pid), "JFR.stop", "name=tracegraph"],
                                   capture_output=True, check=True)
                    rows.append((load, wall, cpu, *parts_of(recording)))
        finally:
            server.stop()

    names = [part for part, _ in PARTS] + ["other"]
    print(f"{graph.number_of_nodes():,} nodes + {graph.number_of_edges():,} relationships, "
          f"warm-up {args.warm_turns} turns\n")
    print("Server CPU: the JVM's, with its JIT compiler and GC threads apart. The shares "
          "are of the Java stack samples (the other threads).\n")
    print("| load | wall s | server CPU s | JIT s | GC s | samples | interpreted | "
          + " | ".join(names) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(names))
    for load, wall, cpu, samples, by_part, interpreted in rows:
        share = [f"{100 * by_part[name] / max(samples, 1):.0f}%" for name in names]
        print(f"| {load} | {wall:.1f} | {cpu['all']:.1f} | {cpu['jit']:.1f} | {cpu['gc']:.1f} "
              f"| {samples} | "
              f"{100 * interpreted / max(samples, 1):.0f}% | " + " | ".join(share) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
