"""Damaged example bundles through tracegraph and the reference: the same outcome.

    python benchmarks/fuzz_reference.py --cases 2000 --seed 0

The mutations of ``tests/fuzzing.py`` (drop, duplicate, reorder or cut lines, flip
bytes, change JSON values' types, numbers and ids, delete keys, nest deeply, ...;
FIFOs, symlinks and directories left out, which the reference is not hardened
against) on the seed-format example bundles. Each case is reduced by the reference
reducer and by ``replay_bundle(strict=True)`` (the reference keeps a torn last line
as an error). It matches when both write the same ``state.json`` bytes, or both
refuse it with the same error (the reference's words, values left out, in
tracegraph's message). Prints the counts and the first mismatches.

``--default`` replays as ``tracegraph reduce`` does (no ``strict``): a bundle the
reference refuses for a final line cut mid-record, which tracegraph leaves out as a
write in progress, then counts as ``torn-left-out`` (by design), and every other
difference as before.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzzing import BUNDLE_NAMES, Op, mutate, ops, write_bundle  # noqa: E402
from tracegraph.authoring import reference_reducer, run_reference  # noqa: E402
from tracegraph.errors import TracegraphError  # noqa: E402
from tracegraph.reducer import replay  # noqa: E402

SEED_BUNDLES = tuple(name for name in BUNDLE_NAMES if not name.startswith("upstream"))
_SAFE_OPS = ops.filter(lambda op: op[0] != "special_payload")
cases = st.tuples(st.sampled_from(SEED_BUNDLES), st.lists(_SAFE_OPS, min_size=1, max_size=3))


def compare(name: str, mutations: list[Op], tmp: Path, *,
            strict: bool = True) -> tuple[str, str]:
    """``(outcome, detail)``: ``same-state``, ``same-error`` or a mismatch kind."""
    bundle = tmp / "bundle"
    write_bundle(mutate(name, mutations), bundle)
    return outcome(bundle, tmp / "reference-state.json", strict=strict)


def outcome(bundle: Path, reference_state: Path, *, strict: bool = True) -> tuple[str, str]:
    """Both reducers on ``bundle``: ``(outcome, detail)`` as :func:`compare` gives it."""
    run = run_reference(bundle, reference_state, timeout=60)
    assert run is not None
    if not (run.ok or run.rejected):
        return "reference-crash", run.stderr[:300]
    torn = False
    try:
        replayed = replay(bundle, strict=strict)
        ours: str | None = replayed.trace.to_state_json()
        torn = replayed.torn_line is not None
        error = ""
    except TracegraphError as err:
        ours, error = None, str(err)
    if run.ok and ours is not None:
        return ("same-state", "") if ours == run.state else ("different-state", "")
    if run.ok:
        return "tracegraph-refused", error[:300]
    if ours is not None:
        return ("torn-left-out" if torn else "tracegraph-accepted"), run.stderr[:300]
    if run.error_words in error:
        return "same-error", ""
    return "different-error", f"reference: {run.error_words[:300]}\n  tracegraph: {error[:300]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=10)
    parser.add_argument("--default", action="store_true",
                        help="replay as `tracegraph reduce` does (a torn last line left out)")
    args = parser.parse_args()
    if reference_reducer() is None:
        sys.exit("reference reducer not found")
    counts: Counter[str] = Counter()
    shown: list[str] = []

    @seed(args.seed)
    @settings(max_examples=args.cases, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(cases)
    def one(case: tuple[str, list[Op]]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            outcome, detail = compare(*case, Path(tmp), strict=not args.default)
        counts[outcome] += 1
        if not outcome.startswith("same") and len(shown) < args.show:
            shown.append(f"{outcome}: {case!r}"[:600] + (f"\n  {detail}" if detail else ""))

    one()
    print(dict(sorted(counts.items())))
    for line in shown:
        print(line)


if __name__ == "__main__":
    main()
