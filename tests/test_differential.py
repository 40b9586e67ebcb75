"""Differential test: tracegraph's reducer against the reference reducer binary.

Each seed makes one randomized bundle (see ``tests/generator.py``). About 80% of
the bundles are valid rollouts and the rest carry one corruption. The test
replays each bundle with the reference binary and with
``tracegraph.reducer.replay_bundle``. It passes when both produce the same
``state.json`` bytes, or when both reject the bundle with the same error: the
reference's message, its values left out, is part of tracegraph's.

``TRACEGRAPH_DIFF_SEEDS`` picks the seeds: ``N`` means seeds ``0..N-1`` (default
40), and ``START:STOP`` means ``range(START, STOP)``. Run
``python tests/generator.py --seeds 300`` to check the generator on its own.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from tests.generator import generate_bundle_info
from tracegraph.authoring import REFERENCE_REDUCE, reference_reducer, run_reference

pytestmark = [
    pytest.mark.reference,
    pytest.mark.skipif(
        reference_reducer() is None,
        reason=f"reference reducer binary not found at {REFERENCE_REDUCE}; the differential "
        "test only runs on machines that have ../shared/tools/reference-reduce",
    ),
]


def _seeds() -> range:
    spec = os.environ.get("TRACEGRAPH_DIFF_SEEDS", "40").strip()
    if ":" in spec:
        start, stop = spec.split(":", 1)
        return range(int(start), int(stop))
    return range(int(spec))


def _diff(expected: str, actual: str, limit: int = 80) -> str:
    lines = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                      "reference", "tracegraph", lineterm="", n=2))
    if len(lines) > limit:
        lines = [*lines[:limit], f"... ({len(lines) - limit} more diff lines)"]
    return "\n".join(lines)


@pytest.mark.parametrize("seed", _seeds(), ids=lambda seed: f"seed-{seed}")
def test_reducer_matches_reference(seed: int, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    info = generate_bundle_info(bundle, seed)
    label = f"seed {seed} ({'valid' if info.valid else 'corruption: ' + str(info.corruption)})"

    reference_out = tmp_path / "reference-state.json"
    proc = run_reference(bundle, reference_out)
    assert proc is not None
    if proc.returncode not in (0, 2):
        pytest.skip(f"{label}: the reference reducer crashed (exit {proc.returncode}), "
                    f"so there is nothing to compare: {proc.stderr[:300]}")

    from tracegraph.errors import TracegraphError
    from tracegraph.reducer import replay_bundle

    try:
        ours: str | None = replay_bundle(bundle).to_state_json()
        our_error: TracegraphError | None = None
    except TracegraphError as err:
        ours, our_error = None, err

    if proc.returncode == 2:
        assert our_error is not None, (
            f"{label}: the reference rejected the bundle but tracegraph accepted it.\n"
            f"reference: {proc.stderr}"
        )
        # The same error: the reference's words (values left out) in tracegraph's message.
        assert proc.error_words in str(our_error), (
            f"{label}: a different error.\nreference: {proc.stderr}\ntracegraph: {our_error}"
        )
        return

    assert our_error is None, (
        f"{label}: the reference accepted the bundle but tracegraph rejected it: {our_error}"
    )
    assert ours is not None
    expected = reference_out.read_bytes()
    actual = ours.encode("utf-8")
    if actual != expected:
        (tmp_path / "tracegraph-state.json").write_bytes(actual)
        pytest.fail(
            f"{label}: state.json differs from the reference (both kept in {tmp_path}).\n"
            + _diff(expected.decode("utf-8"), ours),
            pytrace=False,
        )
