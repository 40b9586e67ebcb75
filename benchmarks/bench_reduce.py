"""Reducer speed and memory on a long rollout, against the floor and the reference.

    python benchmarks/bench_reduce.py --turns 1500 --events 1000 10000 50000 100000
    python benchmarks/bench_reduce.py --turns 1500 --runs 3 --parts --events

One run measures, on one bundle written by ``long_rollout.py --turns N``:

- the floor: reading and parsing every input file (event lines and payloads) with orjson;
- ``replay_bundle`` + ``dump_state`` (what ``tracegraph reduce`` does): wall and CPU seconds
  (imports excluded), peak RSS (each in a fresh child process);
- the reference reducer (``tracegraph.authoring.reference.run_reference``): wall and CPU
  seconds, peak RSS, and whether the two ``state.json`` files are byte-identical.

Then the linearity table: bundles of about each ``--events`` count (turns scaled
from the first bundle's events per turn), tracegraph's seconds per 1k events (wall,
CPU, and CPU split into user and system time).
Timings are wall clock unless marked CPU; on a shared machine they are noisy.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = """
import json, resource, sys, time
{setup}
start, cpu = time.perf_counter(), time.process_time()
before = resource.getrusage(resource.RUSAGE_SELF)
{code}
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"wall": time.perf_counter() - start, "cpu": time.process_time() - cpu,
                  "user": after.ru_utime - before.ru_utime,
                  "system": after.ru_stime - before.ru_stime,
                  "rss_mib": after.ru_maxrss / 1024}}))
"""

# The reference runs as this child's only child: its CPU and peak RSS are the
# child's RUSAGE_CHILDREN.
_REFERENCE_CHILD = """
import json, resource, sys, time
from tracegraph.authoring.reference import run_reference
start = time.perf_counter()
run = run_reference({bundle!r}, {out!r}, timeout=3600)
wall = time.perf_counter() - start
if run is None or not run.ok:
    sys.exit("reference reducer: " + ("not found" if run is None else run.stderr))
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({{"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_mib": usage.ru_maxrss / 1024}}))
"""

_FLOOR_SETUP = "import os, orjson"
_FLOOR = """
bundle = {bundle!r}
with open(os.path.join(bundle, "trace.jsonl"), "rb") as log:
    for line in log:
        if line.strip():
            orjson.loads(line)
payloads = os.path.join(bundle, "payloads")
for name in os.listdir(payloads):
    with open(os.path.join(payloads, name), "rb") as payload:
        orjson.loads(payload.read())
"""

_REDUCE_SETUP = """
from tracegraph.model.rollout import dump_state
from tracegraph.reducer import replay_bundle
"""
_REDUCE = """
dump_state(replay_bundle({bundle!r}), {out!r})
"""


# Where the time of one reduce goes, each part timed on its own in one child, with the
# collector paused as replay pauses it: every event line parsed, every payload file the
# events name read and parsed, dialect detection, then the whole replay, the writer,
# and freeing the trace. The domain reducers are the replay's time less the first three.
_PARTS = """
import gc, json, sys, time
from tracegraph.bundle.events import raw_payload_refs
from tracegraph.bundle.reader import TraceBundle
from tracegraph.model.rollout import dump_state
from tracegraph.reducer import replay_bundle
path, out = {bundle!r}, {out!r}
parts = {{}}
def timed(name, work):
    gc.disable()
    start = time.process_time()
    result = work()
    parts[name] = time.process_time() - start
    gc.enable()
    return result
events = timed("event lines", lambda: [e.event for e in TraceBundle(path).iter_events()])
refs = [ref for event in events for ref in raw_payload_refs(event.payload)]
bundle = TraceBundle(path)
timed("payload files", lambda: [bundle.read_payload(ref) for ref in refs])
timed("dialect detection", lambda: TraceBundle(path).detect_dialect())
del events, refs, bundle
trace = timed("replay", lambda: replay_bundle(path))
timed("state.json writer", lambda: dump_state(trace, out))
start = time.process_time()
del trace
parts["freeing the trace"] = time.process_time() - start
print(json.dumps(parts))
"""


def run_parts(bundle: Path, out: Path) -> dict[str, float]:
    """CPU seconds of each part of one reduce of ``bundle`` (see ``_PARTS``)."""
    proc = subprocess.run([sys.executable, "-c", _PARTS.format(bundle=str(bundle), out=str(out))],
                          check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_child(setup: str, code: str) -> dict[str, float]:
    """Run ``setup`` then ``code`` in a fresh child; the wall and CPU seconds of ``code``
    (imports excluded) and the child's peak RSS (MiB)."""
    script = _CHILD.format(setup=setup, code=code)
    out = subprocess.run([sys.executable, "-c", script], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_reference_timed(bundle: Path, out: Path) -> dict[str, float]:
    """The reference reducer's wall and CPU (user + system) seconds and peak RSS (MiB)."""
    script = _REFERENCE_CHILD.format(bundle=str(bundle), out=str(out))
    proc = subprocess.run([sys.executable, "-c", script], check=True,
                          capture_output=True, text=True, cwd=ROOT)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def count_events(bundle: Path) -> int:
    with (bundle / "trace.jsonl").open("rb") as log:
        return sum(1 for line in log if line.strip())


def best_of(runs: int, setup: str, code: str) -> dict[str, float]:
    """The fastest of ``runs`` children (the least disturbed by other work on the machine)."""
    results = [run_child(setup, code) for _ in range(runs)]
    return min(results, key=lambda result: result["wall"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=1500)
    parser.add_argument("--events", type=int, nargs="*", default=[1000, 10000, 50000, 100000])
    parser.add_argument("--runs", type=int, default=1, help="best of this many child runs")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--parts", action="store_true",
                        help="also time the parts of one reduce (best of --runs each)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from benchmarks.long_rollout import write_long_rollout
    from tracegraph.authoring.reference import reference_reducer

    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "bundle"
        write_long_rollout(bundle, args.turns)
        events = count_events(bundle)
        size_mb = sum(f.stat().st_size for f in bundle.rglob("*") if f.is_file()) / 1e6
        floor = best_of(args.runs, _FLOOR_SETUP, _FLOOR.format(bundle=str(bundle)))
        ours_out = Path(tmp) / "tracegraph-state.json"
        ours = best_of(args.runs, _REDUCE_SETUP, _REDUCE.format(bundle=str(bundle), out=str(ours_out)))
        state_mib = ours_out.stat().st_size / 2**20
        print(f"bundle: --turns {args.turns}, {events} events, {size_mb:.0f} MB, "
              f"state.json {state_mib:.1f} MiB")
        print(f"floor (orjson, every input file): {floor['wall']:.2f} s "
              f"(CPU {floor['cpu']:.2f} s)")
        print(f"tracegraph reduce: {ours['wall']:.2f} s (CPU {ours['cpu']:.2f} s), "
              f"peak RSS {ours['rss_mib']:.0f} MiB = {ours['rss_mib'] / state_mib:.1f}x state.json; "
              f"{ours['wall'] / floor['wall']:.1f}x the floor "
              f"(CPU {ours['cpu'] / floor['cpu']:.1f}x)")
        if reference_reducer() is not None and not args.no_reference:
            ref_out = Path(tmp) / "reference-state.json"
            ref = run_reference_timed(bundle, ref_out)
            same = ref_out.read_bytes() == ours_out.read_bytes()
            print(f"reference reduce: {ref['wall']:.2f} s (CPU {ref['cpu']:.2f} s), peak RSS "
                  f"{ref['rss_mib']:.0f} MiB; tracegraph is {ref['wall'] / ours['wall']:.1f}x "
                  f"faster (CPU {ref['cpu'] / ours['cpu']:.1f}x); "
                  f"identical bytes: {'yes' if same else 'NO'}")
        if args.parts:
            runs = [run_parts(bundle, Path(tmp) / "parts-state.json") for _ in range(args.runs)]
            best = {name: min(run[name] for run in runs) for name in runs[0]}
            domain = best["replay"] - sum(best[name] for name in (
                "event lines", "payload files", "dialect detection"))
            print("parts (CPU s, best of each): " + ", ".join(
                f"{name} {seconds:.3f}" for name, seconds in best.items())
                + f"; domain reducers (replay less the first three) {domain:.3f}")
        per_turn = events / args.turns
        # User and system CPU apart: on a VM that reclaims its page cache, re-reading
        # the bundle's files shows as system time that grows faster than the events.
        print(f"\n{'events':>8} {'turns':>6} {'seconds':>8} {'CPU s':>7} {'MiB':>6} "
              f"{'s / 1k events':>13} {'CPU s / 1k':>10} {'user s / 1k':>11} "
              f"{'system s / 1k':>13}")
        for target in args.events:
            turns = max(1, round(target / per_turn))
            sized = Path(tmp) / f"bundle-{target}"
            write_long_rollout(sized, turns)
            count = count_events(sized)
            out = Path(tmp) / f"state-{target}.json"
            result = best_of(args.runs, _REDUCE_SETUP, _REDUCE.format(bundle=str(sized), out=str(out)))
            print(f"{count:>8} {turns:>6} {result['wall']:>8.2f} {result['cpu']:>7.2f} "
                  f"{result['rss_mib']:>6.0f} {result['wall'] / count * 1000:>13.3f} "
                  f"{result['cpu'] / count * 1000:>10.3f} "
                  f"{result['user'] / count * 1000:>11.3f} "
                  f"{result['system'] / count * 1000:>13.3f}")
            shutil.rmtree(sized)
            out.unlink()


if __name__ == "__main__":
    main()
