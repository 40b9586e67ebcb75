"""Graph size per event and GraphML export cost on long rollouts.

    python benchmarks/bench_graph.py --turns 100 500 1500

For each size, writes a rollout with ``benchmarks/long_rollout.py``, reduces it
once (``tracegraph reduce``), then reports from its ``state.json``: events,
nodes, edges and (nodes + edges) per event in the default ``delta`` form, and
in the ``full_snapshot`` form up to ``--full-up-to`` turns (it grows with the
square of the turns), and the CPU seconds of loading the state and of projecting it
(best of three, in this process). With ``--graphml`` it also times, under
``/usr/bin/time -v``, ``tracegraph export STATE --graphml`` (loading the state,
projection and GraphML) and ``tracegraph load BUNDLE`` (reduction, projection,
GraphML and the summary): wall and CPU (user + system) seconds, peak RSS and
file size; with ``--view``, ``tracegraph view BUNDLE`` (reduction, projection and
the page) the same way. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIME = "/usr/bin/time"


def tracegraph(*args: str) -> list[str]:
    """The installed ``tracegraph`` command beside this Python (a venv's bin/)."""
    return [str(Path(sys.executable).with_name("tracegraph")), *args]


def timed(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS MiB) of a command, from ``/usr/bin/time -v``."""
    done = subprocess.run([TIME, "-v", *command], check=True, capture_output=True, text=True,
                          cwd=ROOT)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = [re.search(rf"{kind} time \(seconds\): ([\d.]+)", done.stderr)
           for kind in ("User", "System")]
    assert wall and rss and cpu[0] and cpu[1], done.stderr
    seconds = 0.0
    for part in wall.group(1).split(":"):
        seconds = seconds * 60 + float(part)
    return seconds, sum(float(match.group(1)) for match in cpu if match), int(rss.group(1)) // 1024


def graph_counts(state: Path, full_snapshots: bool) -> tuple[int, int]:
    from tracegraph.graph import load_graph

    graph = load_graph(state, full_snapshots=full_snapshots)
    return graph.number_of_nodes(), graph.number_of_edges()


def load_and_project_seconds(state: Path) -> tuple[float, float]:
    """Best-of-three CPU seconds of loading ``state`` and of projecting its trace."""
    from tracegraph.graph import project
    from tracegraph.graph.load import load_trace

    loads, projections = [], []
    for _ in range(3):
        started = time.process_time()
        trace = load_trace(state)
        loaded = time.process_time()
        project(trace)
        loads.append(loaded - started)
        projections.append(time.process_time() - loaded)
    return min(loads), min(projections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, nargs="+", default=[100, 500, 1500])
    parser.add_argument("--full-up-to", type=int, default=500,
                        help="also count the full-snapshot form up to this many turns")
    parser.add_argument("--graphml", action="store_true",
                        help="also time GraphML export and load under /usr/bin/time -v")
    parser.add_argument("--view", action="store_true",
                        help="also time `tracegraph view BUNDLE` under /usr/bin/time -v")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    header = ["turns", "events", "nodes", "edges", "per event", "full-snapshot per event",
              "state load CPU s", "project CPU s"]
    if args.graphml:
        header += ["export s (CPU s)", "export MiB", "GraphML MB", "load s (CPU s)", "load MiB"]
    if args.view:
        header += ["view s (CPU s)", "view MiB", "HTML MB"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---:|" * len(header))
    for turns in args.turns:
        with tempfile.TemporaryDirectory() as tmp:
            bundle = Path(tmp) / "bundle"
            subprocess.run([sys.executable, "benchmarks/long_rollout.py", str(bundle),
                            "--turns", str(turns)], check=True, capture_output=True, cwd=ROOT)
            subprocess.run(tracegraph("reduce", str(bundle)), check=True, capture_output=True,
                           cwd=ROOT)
            state = bundle / "state.json"
            with (bundle / "trace.jsonl").open("rb") as lines:
                events = sum(1 for line in lines if line.strip())
            nodes, edges = graph_counts(state, full_snapshots=False)
            row = [f"{turns:,}", f"{events:,}", f"{nodes:,}", f"{edges:,}",
                   f"{(nodes + edges) / events:.2f}"]
            if turns <= args.full_up_to:
                full_nodes, full_edges = graph_counts(state, full_snapshots=True)
                row.append(f"{(full_nodes + full_edges) / events:.2f}")
            else:
                row.append("")
            state_seconds, project_seconds = load_and_project_seconds(state)
            row += [f"{state_seconds:.2f}", f"{project_seconds:.2f}"]
            if args.graphml:
                out = Path(tmp) / "graph.graphml"
                seconds, cpu, mib = timed(tracegraph("export", str(state), "--graphml", str(out)))
                size = out.stat().st_size / 1e6
                load_seconds, load_cpu, load_mib = timed(tracegraph("load", str(bundle)))
                row += [f"{seconds:.1f} ({cpu:.1f})", f"{mib:,}", f"{size:.1f}",
                        f"{load_seconds:.1f} ({load_cpu:.1f})", f"{load_mib:,}"]
            if args.view:
                page = Path(tmp) / "view.html"
                seconds, cpu, mib = timed(tracegraph("view", str(bundle), "-o", str(page)))
                row += [f"{seconds:.1f} ({cpu:.1f})", f"{mib:,}",
                        f"{page.stat().st_size / 1e6:.1f}"]
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
