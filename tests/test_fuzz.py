"""Fuzzing: mutated example bundles give a result or one error line, never a traceback.

The mutations and the outcome check are in ``tests/fuzzing.py``; this runs a few
hundred cases (the same ones every run: derandomized). ``benchmarks/fuzz.py``
runs thousands and counts the outcomes.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from tests.fuzzing import Op, cases, run_case


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases)
def test_mutated_bundles_fail_cleanly(case: tuple[str, list[Op], str, tuple[str, ...]]) -> None:
    name, mutations, command, flags = case
    outcome = run_case(name, mutations, command, flags)
    assert not outcome.failed, f"{outcome.kind}: {outcome.detail}"


def test_unmutated_examples_are_results() -> None:
    # The check itself tells a result from an error.
    for name in ("terminal-reuse", "multi-agent"):
        outcome = run_case(name, [], "reduce")
        assert outcome.kind == "ok", outcome
    outcome = run_case("terminal-reuse", [("truncate_line", 3, 5)], "reduce")
    assert outcome.kind == "error", outcome
