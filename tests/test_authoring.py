"""The bundle-authoring kit: its examples are reproducible and its vocabulary is the recorder's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks.long_rollout import write_long_rollout
from tests.support import bundle_bytes, load_script
from tracegraph.authoring import TOOL_KINDS, FakeClock, Ids, tool_kind
from tracegraph.reducer import replay_bundle

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = REPO_ROOT / "examples"
RECORDER_SOURCE = REPO_ROOT.parent / "shared" / "reference" / "codex-core" / "src" / "rollout_trace.rs"


def test_seed_examples_regenerate_byte_for_byte(tmp_path: Path) -> None:
    generator = load_script(EXAMPLES / "generate_bundles.py")
    assert generator.main(["--out", str(tmp_path)]) == 0
    for name in generator.SCENARIOS:
        assert bundle_bytes(tmp_path / name) == bundle_bytes(EXAMPLES / "bundles" / name), name


@pytest.mark.skipif(not RECORDER_SOURCE.is_file(), reason="the reference recorder is not here")
def test_tool_kinds_are_the_recorders_mapping() -> None:
    """Every arm of ``dispatched_tool_kind`` maps its names the way the kit does."""
    source = RECORDER_SOURCE.read_text(encoding="utf-8")
    body = source[source.index("fn dispatched_tool_kind"):source.index("fn dispatched_tool_label")]
    arms = re.findall(r'^((?:"\w+"(?: \| )?)+) => ToolCallKind::(\w+)', body, re.MULTILINE)
    assert len(arms) >= 10
    seen = set()
    for names, variant in arms:
        kind = re.sub(r"(?<!^)([A-Z])", r"_\1", variant).lower()
        for name in re.findall(r'"(\w+)"', names):
            seen.add(name)
            assert tool_kind(name) == {"type": kind}, name
    assert seen == set(TOOL_KINDS)
    assert tool_kind("update_plan") == {"type": "other", "name": "update_plan"}
    assert tool_kind("search", {"type": "mcp", "server": "docs", "tool": "search"}) == {
        "type": "mcp", "server": "docs", "tool": "search"}


def test_clock_and_ids_are_deterministic() -> None:
    clock = FakeClock(1_000)
    assert [clock(), clock()] == [1_001, 1_002]
    clock.sleep(500)
    assert clock() == 1_503
    first, second = Ids("seed"), Ids("seed")
    assert [first.call(), first.uuid4(), first.response()] == [
        second.call(), second.uuid4(), second.response()]


def test_long_rollout_has_the_benchmark_character(tmp_path: Path) -> None:
    """A short run already holds every kind of work the 1,500-turn benchmark repeats."""
    bundle = tmp_path / "long"
    write_long_rollout(bundle, 60)
    trace = replay_bundle(bundle)
    events = [json.loads(line) for line in (bundle / "trace.jsonl").read_text().splitlines()]
    types = {event["payload"]["type"] for event in events}
    assert {"inference_failed", "code_cell_started", "compaction_installed",
            "tool_call_runtime_ended"} <= types
    incremental = full = 0
    for event in events:
        if event["payload"]["type"] == "inference_started":
            path = bundle / event["payload"]["request_payload"]["path"]
            body = json.loads(path.read_text(encoding="utf-8"))
            if "previous_response_id" in body:
                incremental += 1
            else:
                full += 1
    assert incremental > 5 * full > 0
    statuses = [op.execution.status.value for op in trace.terminal_operations.values()]
    assert "failed" in statuses and "completed" in statuses
    assert any(tool.kind.type == "write_stdin" for tool in trace.tool_calls.values())
    assert trace.code_cells and trace.compactions


def test_long_rollouts_of_different_seeds_are_different_traces(tmp_path: Path) -> None:
    """Many benchmark rollouts can live side by side in one database; seed 0 keeps the
    trace id the benchmark figures were taken with."""
    ids = []
    for seed in (0, 1, 2):
        write_long_rollout(tmp_path / str(seed), 1, seed=seed)
        ids.append(json.loads((tmp_path / str(seed) / "manifest.json").read_text())["trace_id"])
    assert ids[0] == "b0000000-0000-4000-8000-00000000b001"
    assert len(set(ids)) == 3
    assert all(replay_bundle(tmp_path / str(seed)).trace_id == ids[seed] for seed in (0, 1, 2))
