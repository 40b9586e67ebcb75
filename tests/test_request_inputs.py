"""Request inputs in the delta form (EXTENDS + added items) and the full-snapshot form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from typer.testing import CliRunner

from tests.generator import generate_bundle_info
from tracegraph.cli import app
from tracegraph.graph import load_trace, project, read_graphml, write_graphml
from tracegraph.graph.inputs import request_input
from tracegraph.graph.schema import Label, Rel, RequestInputForm, node_key
from tracegraph.model import RolloutTrace
from tracegraph.queries import QUERIES, run_query

ROOT = Path(__file__).resolve().parents[1]

EXAMPLES = ROOT / "examples" / "bundles"
BUNDLES = sorted(path.name for path in EXAMPLES.iterdir() if (path / "manifest.json").is_file())
#: Generated rollouts with retries, cancelled turns, compactions and sub-agents.
SEEDS = (1, 2, 3, 5, 8, 13)


def _ids(graph: nx.MultiDiGraph, label: str) -> list[str]:
    return sorted(data["object_id"] for _, data in graph.nodes(data=True)
                  if data["label"] == label)


def _cases(graph: nx.MultiDiGraph) -> list[tuple[str, dict[str, Any]]]:
    """Every canned query with every argument the graph offers (causal chains from
    every node)."""
    cases: list[tuple[str, dict[str, Any]]] = [
        (name, {}) for name, query in QUERIES.items() if not query.params
    ] + [("slowest", {"n": 3})]
    by_param = {"operation": "TerminalOperation", "inference": "InferenceCall",
                "thread": "Thread", "terminal": "TerminalSession", "item": "ConversationItem"}
    for name, query in QUERIES.items():
        if [param.name for param in query.params] == ["node"]:
            cases += [(name, {"node": key}) for key in sorted(graph.nodes)]
        elif len(query.params) == 1 and query.params[0].name in by_param:
            param = query.params[0].name
            cases += [(name, {param: value}) for value in _ids(graph, by_param[param])]
    return cases


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RolloutTrace]:
    found = {name: load_trace(EXAMPLES / name) for name in BUNDLES}
    for seed in SEEDS:
        path = tmp_path_factory.mktemp("generated") / f"seed-{seed}"
        if generate_bundle_info(path, seed).valid:
            found[f"seed-{seed}"] = load_trace(path)
    assert len(found) > len(BUNDLES) + 2
    return found


def _forms(trace: RolloutTrace) -> tuple[nx.MultiDiGraph, nx.MultiDiGraph]:
    return project(trace), project(trace, full_snapshots=True)


def test_request_input_is_request_item_ids_in_both_forms(traces: dict[str, RolloutTrace]) -> None:
    for name, trace in traces.items():
        for graph in _forms(trace):
            for call in trace.inference_calls.values():
                rows = run_query(graph, "request-input", inference=call.inference_call_id)
                assert rows == [{"position": position, "item_id": item_id}
                                for position, item_id in enumerate(call.request_item_ids)], name


def test_every_query_answers_the_same_in_both_forms(traces: dict[str, RolloutTrace]) -> None:
    compared = 0
    for name, trace in traces.items():
        delta, full = _forms(trace)
        for query, params in _cases(full):
            assert run_query(delta, query, **params) == run_query(full, query, **params), (
                f"{name}: {query} {params}")
            compared += 1
    assert compared > 1000


def _prompted(graph: nx.MultiDiGraph, key: str) -> list[int]:
    return sorted(data["position"] for _, _, data in graph.in_edges(key, data=True)
                  if data["label"] == Rel.PROMPTED.value)


def test_delta_form_lists_only_added_items_of_an_extending_request(
        traces: dict[str, RolloutTrace]) -> None:
    extending = listing = 0
    for trace in traces.values():
        delta, full = _forms(trace)
        assert delta.graph["request_input_form"] == RequestInputForm.DELTA.value
        assert full.graph["request_input_form"] == RequestInputForm.FULL_SNAPSHOT.value
        assert not any(data["label"] == Rel.EXTENDS.value for *_, data in full.edges(data=True))
        calls = sorted(trace.inference_calls.values(),
                       key=lambda call: call.execution.started_seq)
        previous: dict[str, Any] = {}
        for call in calls:
            key = node_key(trace.trace_id, Label.INFERENCE_CALL, call.inference_call_id)
            extends = [(target, data) for _, target, data in delta.out_edges(key, data=True)
                       if data["label"] == Rel.EXTENDS.value]
            before = previous.get(call.thread_id)
            previous[call.thread_id] = call
            inherited = before.request_item_ids if before is not None else []
            ids = call.request_item_ids
            assert delta.nodes[key]["request_items"] == len(ids)
            if inherited and ids[:len(inherited)] == inherited:
                (target, data), = extends
                assert delta.nodes[target]["object_id"] == before.inference_call_id
                assert data["inherited_items"] == len(inherited)
                assert data["derived_by"] == ["input_prefix"]
                assert _prompted(delta, key) == list(range(len(inherited), len(ids)))
                extending += 1
            else:
                assert extends == []
                assert _prompted(delta, key) == list(range(len(ids)))
                listing += 1
            assert _prompted(full, key) == list(range(len(ids)))
    # Both kinds occur: first requests and requests after a compaction list everything.
    assert extending > listing > len(traces)


def test_a_request_after_a_compaction_lists_its_whole_input(
        traces: dict[str, RolloutTrace]) -> None:
    trace = traces["compaction"]
    graph = project(trace)
    (compaction,) = trace.compactions.values()
    after = [call for call in trace.inference_calls.values()
             if call.execution.started_at_unix_ms >= compaction.installed_at_unix_ms]
    first = min(after, key=lambda call: call.execution.started_seq)
    key = node_key(trace.trace_id, Label.INFERENCE_CALL, first.inference_call_id)
    assert not [1 for *_, data in graph.out_edges(key, data=True)
                if data["label"] == Rel.EXTENDS.value]
    assert [graph.nodes[item]["object_id"] for _, item in request_input(graph, key)] == (
        first.request_item_ids)
    assert _prompted(graph, key) == list(range(len(first.request_item_ids)))


def test_both_forms_survive_graphml(traces: dict[str, RolloutTrace], tmp_path: Path) -> None:
    for graph in _forms(traces["multi-agent"]):
        back = read_graphml(write_graphml(graph, tmp_path / "graph.graphml"))
        assert back.graph["request_input_form"] == graph.graph["request_input_form"]
        assert sorted(back.edges(keys=True, data=True)) == sorted(graph.edges(keys=True, data=True))


def test_cli_full_snapshots_option(tmp_path: Path) -> None:
    runner = CliRunner()
    graphs = {}
    for form, extra in (("delta", []), ("full", ["--full-snapshots"])):
        out = tmp_path / f"{form}.graphml"
        result = runner.invoke(app, ["export", str(EXAMPLES / "terminal-reuse"),
                                     "--graphml", str(out), *extra])
        assert result.exit_code == 0, result.output
        graphs[form] = read_graphml(out)
    assert graphs["delta"].graph["request_input_form"] == "delta"
    assert graphs["full"].graph["request_input_form"] == "full_snapshot"
    counts = {form: sum(data["label"] == "PROMPTED" for *_, data in graph.edges(data=True))
              for form, graph in graphs.items()}
    assert counts["delta"] < counts["full"]
    trace = load_trace(EXAMPLES / "terminal-reuse")
    last = max(trace.inference_calls.values(), key=lambda call: call.execution.started_seq)
    for extra in ([], ["--full-snapshots"]):
        result = runner.invoke(app, ["query", "request-input", last.inference_call_id,
                                     "--bundle", str(EXAMPLES / "terminal-reuse"), "--json",
                                     *extra])
        assert result.exit_code == 0, result.output
        assert result.stdout.count('"item_id"') == len(last.request_item_ids)
