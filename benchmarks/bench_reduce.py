"""Reducer speed and memory on long rollouts, against the reference when present.

    python benchmarks/bench_reduce.py --turns 1000 2000 4000

For each size: wall time and peak RSS of ``tracegraph reduce`` (in-process) and,
when ``../shared/tools/reference-reduce`` exists, of the reference, plus a check
that both outputs are byte-identical. Linear-ish cost shows as a roughly
constant time per turn across sizes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "tools" / "reference-reduce"


def run_child(code: str) -> tuple[float, int]:
    """Run Python code in a child; return (seconds, peak RSS in MiB of that child)."""
    script = (
        "import resource, time, sys\n"
        "start = time.perf_counter()\n"
        f"{code}\n"
        "elapsed = time.perf_counter() - start\n"
        "print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                         text=True, cwd=ROOT).stdout.split()
    return float(out[0]), int(out[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, nargs="+", default=[500, 1000, 2000])
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from benchmarks.long_rollout import write_long_rollout

    print(f"{'turns':>6} {'items':>7} {'events':>7} {'tracegraph s':>12} {'MiB':>5} "
          f"{'s/1k turns':>10} {'reference s':>11} {'same':>5}")
    for turns in args.turns:
        with tempfile.TemporaryDirectory() as tmp:
            bundle = Path(tmp) / "bundle"
            items = write_long_rollout(bundle, turns)
            events = sum(1 for _ in (bundle / "trace.jsonl").open())
            out = Path(tmp) / "tg.json"
            seconds, rss = run_child(
                "from tracegraph.reducer import replay_bundle\n"
                f"open({str(out)!r}, 'w').write(replay_bundle({str(bundle)!r}).to_state_json())"
            )
            ref_seconds = "-"
            same = "-"
            if REFERENCE.exists():
                ref_out = Path(tmp) / "ref.json"
                start = time.perf_counter()
                subprocess.run([str(REFERENCE), str(bundle), str(ref_out)], check=True)
                ref_seconds = f"{time.perf_counter() - start:.2f}"
                same = "yes" if ref_out.read_bytes() == out.read_bytes() else "NO"
            print(f"{turns:>6} {items:>7} {events:>7} {seconds:>12.2f} {rss:>5} "
                  f"{seconds / turns * 1000:>10.2f} {ref_seconds:>11} {same:>5}")


if __name__ == "__main__":
    main()
