"""Fuzz the CLI with mutated example bundles and count the outcomes.

Each case is an example bundle with one to three mutations (see
``tests/fuzzing.py``) run through ``tracegraph reduce``, ``load`` or ``validate``
in-process, plain or with ``--lenient`` or ``--strict``. Every outcome must be a result or one ``error:`` line with exit 2
and no output file; anything else (a traceback, a multi-line or wrong-code
error, a partial output file, a hang) is a failure, printed with the case that
caused it.

    python benchmarks/fuzz.py --cases 10000 [--seed 0]

Exit status 1 when any case failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzzing import Op, cases, run_case


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=10, help="failures to print in full")
    args = parser.parse_args(argv)

    kinds: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    commands: Counter[str] = Counter()
    failures: list[str] = []
    started = time.monotonic()

    @seed(args.seed)
    @settings(max_examples=args.cases, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(cases)
    def one(case: tuple[str, list[Op], str, tuple[str, ...]]) -> None:
        name, mutations, command, flags = case
        outcome = run_case(name, mutations, command, flags)
        kinds[outcome.kind] += 1
        commands[" ".join((command, *flags))] += 1
        if outcome.kind == "error":
            errors[outcome.detail] += 1
        if outcome.failed:
            failures.append(f"{outcome.kind}: {outcome.detail}\n    case: {case!r}"[:2000])
        done = sum(kinds.values())
        if done % 500 == 0:
            print(f"... {done} cases, {time.monotonic() - started:.0f} s", file=sys.stderr)

    one()
    total = sum(kinds.values())
    print(f"{total} cases in {time.monotonic() - started:.0f} s (seed {args.seed}); "
          f"commands: {dict(sorted(commands.items()))}")
    for kind in ("ok", "partial", "error", "traceback", "bad-error", "partial-output",
                 "timeout"):
        print(f"  {kind:15} {kinds.get(kind, 0):6}")
    print("most frequent errors:")
    for reason, count in errors.most_common(15):
        print(f"  {count:6}  {reason}")
    for failure in failures[: args.show]:
        print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
