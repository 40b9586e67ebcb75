"""Measure how soon an appended event is visible in Neo4j under ``tracegraph watch``.

Provisions a server the way the test suite does (``TRACEGRAPH_NEO4J_URI``, else
testcontainers, else the in-process neo4j-harness JVM). For each prefix size it
writes a running rollout of that many turns (``long_rollout.py``, without its
ending), starts a :class:`~tracegraph.watch.Watcher` on the bundle's directory
in a thread, and then appends ``codex_turn_started`` events one at a time: the
latency of one event is the time from its line being flushed to the first
query that finds its ``Turn`` node.

    python benchmarks/bench_watch_latency.py --prefix-turns 100 500 1500 --events 15
    python benchmarks/bench_watch_latency.py --poll      # the polling backend
    python benchmarks/bench_watch_latency.py --profile   # cProfile of one look, no server

The database is emptied first: against a server of your own (``TRACEGRAPH_NEO4J_URI``)
use a disposable one.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import logging
import pstats
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from neo4j import Driver  # noqa: E402

from benchmarks.long_rollout import write_long_rollout  # noqa: E402
from tracegraph.graph.schema import Label, node_key  # noqa: E402
from tracegraph.neo4j_harness import provision_neo4j  # noqa: E402
from tracegraph.watch import IncrementalReplay, LogTail, Neo4jSink, Watcher  # noqa: E402
from tracegraph.watch.live import LiveProjection  # noqa: E402


def running_rollout(bundle: Path, turns: int) -> tuple[dict[str, str], int]:
    """A bundle of ``turns`` turns whose rollout has not ended: its manifest and next seq."""
    write_long_rollout(bundle, turns)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    log = bundle / "trace.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    # Leave out the shutdown: the root thread's end, the rollout's end, what follows.
    ending = ("thread_ended", "rollout_ended")
    cut = next(i for i, line in enumerate(lines)
               if json.loads(line)["payload"]["type"] in ending
               and json.loads(line)["payload"].get("thread_id", manifest["root_thread_id"])
               == manifest["root_thread_id"])
    log.write_text("".join(lines[:cut]), encoding="utf-8")
    return manifest, int(json.loads(lines[cut - 1])["seq"]) + 1


def turn_started(manifest: dict[str, str], seq: int, turn_id: str) -> str:
    thread = manifest["root_thread_id"]
    return json.dumps({
        "schema_version": 1, "seq": seq, "wall_time_unix_ms": int(time.time() * 1000),
        "rollout_id": manifest["rollout_id"], "thread_id": thread, "codex_turn_id": turn_id,
        "payload": {"type": "codex_turn_started", "codex_turn_id": turn_id, "thread_id": thread},
    }, separators=(",", ":")) + "\n"


def measure(driver: Driver, database: str, turns: int, events: int, warmup: int, interval: float,
            poll: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="tracegraph-watch-bench-") as tmp:
        root = Path(tmp)
        bundle = root / "trace-bench"
        manifest, seq = running_rollout(bundle, turns)
        trace_id = manifest["trace_id"]
        driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)
        watcher = Watcher(root, Neo4jSink(driver, database=database))
        stop = threading.Event()
        thread = threading.Thread(
            target=watcher.run, kwargs={"stop": stop, "force_polling": poll,
                                        "poll_interval": 0.1 if poll else 1.0}, daemon=True)
        started = time.perf_counter()
        thread.start()

        def visible(key: str) -> bool:
            records, _, _ = driver.execute_query(
                "MATCH (t:Turn {key: $key}) RETURN count(t) AS n", key=key, database_=database)
            return bool(records[0]["n"])

        first = node_key(trace_id, Label.ROLLOUT, manifest["rollout_id"])
        while True:
            records, _, _ = driver.execute_query(
                "MATCH (r:Rollout {key: $key}) RETURN count(r) AS n", key=first,
                database_=database)
            if records[0]["n"]:
                break
            time.sleep(0.01)
        initial = time.perf_counter() - started
        latencies: list[float] = []
        with (bundle / "trace.jsonl").open("a", encoding="utf-8") as log:
            for index in range(warmup + events):
                turn_id = f"latency-{index}"
                log.write(turn_started(manifest, seq, turn_id))
                log.flush()
                seq += 1
                flushed = time.perf_counter()
                key = node_key(trace_id, Label.TURN, turn_id)
                while not visible(key):
                    time.sleep(0.005)
                if index >= warmup:
                    latencies.append(time.perf_counter() - flushed)
                time.sleep(interval)
        stop.set()
        thread.join(timeout=60)
        status = watcher.statuses[0]
        return {
            "turns": turns, "events_in_log": status.events,
            "initial_load_s": initial,
            "p50_s": statistics.median(latencies),
            "p95_s": sorted(latencies)[max(0, int(len(latencies) * 0.95) - 1)],
            "max_s": max(latencies),
        }


def profile_look(turns: int) -> None:
    """Time the steps of one look after one appended event, and cProfile it (no Neo4j)."""
    with tempfile.TemporaryDirectory(prefix="tracegraph-watch-profile-") as tmp:
        bundle = Path(tmp) / "trace-bench"
        manifest, seq = running_rollout(bundle, turns)
        replay = IncrementalReplay(bundle, track_changes=True)
        tail = LogTail(bundle / "trace.jsonl")
        started = time.perf_counter()
        for number, raw in tail.read().lines:
            replay.apply(number, raw)
        replayed = time.perf_counter()
        trace = replay.snapshot().trace
        live = LiveProjection(trace)
        live.update(trace, replay.take_changes())
        print(f"{turns} turns: {replay.events} events replayed in {replayed - started:.2f} s, "
              f"first projection {time.perf_counter() - replayed:.2f} s "
              f"({live.graph.number_of_nodes()} nodes, {live.graph.number_of_edges()} edges)")
        profiler = cProfile.Profile()
        for index in range(4):
            with (bundle / "trace.jsonl").open("a", encoding="utf-8") as log:
                log.write(turn_started(manifest, seq + index, f"profiled-{index}"))
            if index == 3:
                profiler.enable()
            marks = [time.perf_counter()]
            for number, raw in tail.read().lines:
                replay.apply(number, raw)
            marks.append(time.perf_counter())
            trace = replay.snapshot().trace
            changes = replay.take_changes()
            marks.append(time.perf_counter())
            diff = live.update(trace, changes)
            marks.append(time.perf_counter())
            profiler.disable()
            read, snapshot, update = (b - a for a, b in itertools.pairwise(marks))
            print(f"  look {index}: read+apply {read * 1000:.2f} ms, snapshot {snapshot * 1000:.2f}"
                  f" ms, projection update {update * 1000:.2f} ms, {diff.size} elements changed")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix-turns", type=int, nargs="+", default=[100, 500, 1500])
    parser.add_argument("--events", type=int, default=30, help="measured events per size")
    parser.add_argument("--warmup", type=int, default=3, help="events appended first, unmeasured")
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between events")
    parser.add_argument("--poll", action="store_true", help="force the polling backend")
    parser.add_argument("--profile", action="store_true",
                        help="profile one look per size instead (no Neo4j, no file events)")
    args = parser.parse_args()
    if args.profile:
        for turns in args.prefix_turns:
            profile_look(turns)
        return
    logging.getLogger("neo4j").setLevel(logging.ERROR)  # "label does not exist yet" notices
    with provision_neo4j() as server:
        driver = server.driver()
        try:
            print(f"server: {server.source} {server.uri}; backend: "
                  f"{'polling' if args.poll else 'native file events'}")
            print("| prefix turns | events in log | initial load s | p50 s | p95 s | max s |")
            print("|---:|---:|---:|---:|---:|---:|")
            for turns in args.prefix_turns:
                row = measure(driver, server.database, turns, args.events, args.warmup,
                              args.interval, args.poll)
                print(f"| {turns} | {row['events_in_log']} | {row['initial_load_s']:.2f} | "
                      f"{row['p50_s']:.3f} | {row['p95_s']:.3f} | {row['max_s']:.3f} |",
                      flush=True)
        finally:
            driver.close()


if __name__ == "__main__":
    main()
