"""Cross-rollout queries, checked against the reduced models of several rollouts."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from tests.generator import generate_bundle_info
from tracegraph.graph import compose_graphs, load_trace, project
from tracegraph.model import RolloutTrace
from tracegraph.model.runtime import McpKind, OtherKind
from tracegraph.queries import QueryError, run_query

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
FAILED = {"failed", "cancelled", "aborted"}


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> list[RolloutTrace]:
    found = [load_trace(path) for path in sorted(EXAMPLES.iterdir())
             if (path / "manifest.json").is_file()]
    for seed in (0, 24):
        path = tmp_path_factory.mktemp("generated") / f"seed-{seed}"
        assert generate_bundle_info(path, seed).valid
        found.append(load_trace(path))
    return found


@pytest.fixture(scope="module")
def graph(traces: list[RolloutTrace]) -> nx.MultiDiGraph:
    return compose_graphs(project(trace) for trace in traces)


def _tool_name(tool: Any) -> str:
    if isinstance(tool.kind, McpKind):
        return f"{tool.kind.server}/{tool.kind.tool}"
    if isinstance(tool.kind, OtherKind):
        return str(tool.kind.name)
    return str(tool.kind.type)


def test_rollout_overview_counts_each_rollout(traces: list[RolloutTrace],
                                              graph: nx.MultiDiGraph) -> None:
    rows = run_query(graph, "rollout-overview")
    assert [row["trace_id"] for row in rows] == sorted(trace.trace_id for trace in traces)
    by_trace = {trace.trace_id: trace for trace in traces}
    for row in rows:
        trace = by_trace[row["trace_id"]]
        failed = [obj for objects in (trace.inference_calls, trace.tool_calls,
                                      trace.terminal_operations, trace.code_cells)
                  for obj in objects.values() if obj.execution.status.value in FAILED]
        usage = [call.usage for call in trace.inference_calls.values() if call.usage]
        ended = trace.ended_at_unix_ms
        assert row == {
            "trace_id": trace.trace_id, "rollout_id": trace.rollout_id,
            "status": trace.status.value, "threads": len(trace.threads),
            "turns": len(trace.codex_turns), "inference_calls": len(trace.inference_calls),
            "tool_calls": len(trace.tool_calls), "failures": len(failed),
            "input_tokens": sum(u.input_tokens for u in usage),
            "cached_input_tokens": sum(u.cached_input_tokens for u in usage),
            "output_tokens": sum(u.output_tokens for u in usage),
            "reasoning_output_tokens": sum(u.reasoning_output_tokens for u in usage),
            "wall_time_ms": None if ended is None else ended - trace.started_at_unix_ms,
        }
    assert any(row["failures"] for row in rows)
    (one,) = run_query(graph, "rollout-overview", trace=traces[0].trace_id)
    assert one == rows[[row["trace_id"] for row in rows].index(traces[0].trace_id)]


def test_tool_failures_group_every_tool_call(traces: list[RolloutTrace],
                                            graph: nx.MultiDiGraph) -> None:
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    rollouts: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for trace in traces:
        for tool in trace.tool_calls.values():
            key = (tool.kind.type, _tool_name(tool))
            row = expected.setdefault(key, {"kind": key[0], "tool_name": key[1], "calls": 0,
                                            "failures": 0, "nonzero_exits": 0})
            rollouts[key].add(trace.trace_id)
            row["calls"] += 1
            row["failures"] += tool.execution.status.value in FAILED
            operation = trace.terminal_operations.get(tool.terminal_operation_id or "")
            exit_code = operation.result.exit_code if operation and operation.result else None
            row["nonzero_exits"] += exit_code not in (None, 0)
    rows = run_query(graph, "tool-failures")
    assert sorted(rows, key=lambda row: (row["kind"], row["tool_name"])) == [
        {**row, "rollouts": len(rollouts[key]), "failure_rate": row["failures"] / row["calls"]}
        for key, row in sorted(expected.items())
    ]
    rates = [(row["failure_rate"], row["calls"]) for row in rows]
    assert rates == sorted(rates, reverse=True)
    assert rows[0]["failures"] > 0 and any(row["nonzero_exits"] for row in rows)


def test_slowest_commands_across_rollouts(traces: list[RolloutTrace],
                                          graph: nx.MultiDiGraph) -> None:
    timed = []
    for trace in traces:
        for op in trace.terminal_operations.values():
            if op.execution.ended_at_unix_ms is not None:
                duration = op.execution.ended_at_unix_ms - op.execution.started_at_unix_ms
                tool = trace.tool_calls.get(op.tool_call_id or "")
                thread = trace.threads.get(tool.thread_id) if tool else None
                timed.append((-duration, trace.trace_id, op.operation_id, trace.rollout_id,
                              thread.thread_id if thread else None,
                              thread.agent_path if thread else None))
    timed.sort()
    rows = run_query(graph, "slowest-commands", n=4)
    assert [(-row["duration_ms"], row["trace_id"], row["operation_id"], row["rollout_id"],
             row["thread_id"], row["agent_path"]) for row in rows] == timed[:4]
    assert len(run_query(graph, "slowest-commands")) == min(10, len(timed))
    assert len(run_query(graph, "slowest-commands", n=10_000)) == len(timed)
    assert len({row["trace_id"] for row in run_query(graph, "slowest-commands", n=50)}) > 2
    with pytest.raises(QueryError, match="N >= 1"):
        run_query(graph, "slowest-commands", n=0)
