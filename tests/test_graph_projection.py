"""Graph projection invariants, checked on every example bundle.

The reference enumeration below is written independently of the projection: it
walks the reduced model's own fields, so a reference the projection forgets
shows up here.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from itertools import combinations, pairwise
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from pydantic import BaseModel

from tracegraph.errors import BundleError
from tracegraph.graph import (
    compose_graphs,
    graph_summary,
    load_graph,
    load_trace,
    project,
    write_graphml,
)
from tracegraph.graph.inputs import request_input
from tracegraph.graph.project import CALL_OUTPUT_KINDS, body_text, preview
from tracegraph.graph.schema import (
    INTERACTION_RELS,
    PREVIEW_CHARS,
    SCHEMA,
    AttrType,
    Label,
    Provenance,
    Rel,
    node_key,
)
from tracegraph.graph.schema_docs import render_markdown
from tracegraph.model import MAP_FIELDS, RolloutTrace, load_state
from tracegraph.model.conversation import (
    CodeCellProducer,
    CompactionProducer,
    ConversationItem,
    ConversationItemKind,
    InferenceCall,
    InferenceProducer,
    InteractionEdgeProducer,
    JsonPart,
    PayloadRefPart,
    ToolProducer,
)
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.runtime import (
    CodeCell,
    CodeCellRequester,
    Compaction,
    CompactionRequest,
    ConversationItemAnchor,
    ExecCommandRequest,
    InteractionEdgeKind,
    TerminalOperation,
    TerminalSession,
    TerminalSummary,
    ThreadAnchor,
    ToolCall,
    ToolCallAnchor,
    TraceAnchor,
)
from tracegraph.model.session import AgentThread, CodexTurn, SpawnedOrigin

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = ROOT / "examples" / "bundles"
EXAMPLES = sorted(path.name for path in BUNDLES.iterdir() if (path / "state.json").is_file())

#: Edge types no example bundle has, and why. Synthetic traces below cover them.
ABSENT_FROM_EXAMPLES: dict[Rel, str] = {
    Rel.TRIGGERED: "the reference reducer never fills CodexTurn.input_item_ids",
}


def example_trace(name: str) -> RolloutTrace:
    return load_state(BUNDLES / name / "state.json")


@pytest.fixture(scope="module")
def graphs() -> dict[str, nx.MultiDiGraph]:
    return {name: project(example_trace(name)) for name in EXAMPLES}


def test_there_are_example_bundles() -> None:
    assert {"terminal-reuse", "code-mode", "multi-agent", "compaction"} <= set(EXAMPLES)


# --- schema self-consistency ---------------------------------------------------


def test_schema_declares_each_label_and_edge_type_once() -> None:
    assert [node.label for node in SCHEMA.nodes] == list(Label)
    assert [edge.name for edge in SCHEMA.edges] == list(Rel)
    maps = [node.model_map for node in SCHEMA.nodes if node.model_map is not None]
    assert sorted(maps) == sorted(name for name in MAP_FIELDS if name != "interaction_edges")
    assert set(INTERACTION_RELS) == {kind.value for kind in InteractionEdgeKind}


@pytest.mark.parametrize("edge", SCHEMA.edges, ids=lambda edge: edge.name.value)
def test_edge_type_declarations_are_coherent(edge: Any) -> None:
    assert edge.name.value.isupper() and " " not in edge.name.value
    assert edge.endpoints and edge.fields and edge.description
    assert (edge.provenance is Provenance.DERIVED) == bool(edge.rules)
    attrs = SCHEMA.edge_attrs(edge.name)
    assert set(edge.distinct_by) <= attrs.keys()
    names = [attr.name for attr in (*SCHEMA.edge_attributes, *edge.attributes)]
    assert len(names) == len(set(names)), "an attribute is declared twice"


@pytest.mark.parametrize("node", SCHEMA.nodes, ids=lambda node: node.label.value)
def test_node_type_declarations_are_coherent(node: Any) -> None:
    names = [attr.name for attr in (*SCHEMA.node_attributes, *node.attributes)]
    assert len(names) == len(set(names)), "an attribute is declared twice"


#: How each reduced-model field that is not a same-named node attribute reaches the graph.
FIELD_HANDLING: dict[type[BaseModel], dict[str, str]] = {
    RolloutTrace: {name: "nodes and edges" for name in MAP_FIELDS} | {"trace_id": "trace_id"},
    AgentThread: {"thread_id": "object_id", "origin": "origin + spawned fields + HAS_CHILD",
                  "execution": "execution attributes", "conversation_item_ids": "HAS_ITEM"},
    CodexTurn: {"codex_turn_id": "object_id", "execution": "execution attributes",
                "input_item_ids": "TRIGGERED"},
    ConversationItem: {"item_id": "object_id", "agent_message": "agent_message_*",
                       "body": "preview, part_types, EVIDENCED_BY", "produced_by": "PRODUCED"},
    InferenceCall: {"inference_call_id": "object_id", "execution": "execution attributes",
                    "request_item_ids": "PROMPTED", "response_item_ids": "RESPONDED_WITH",
                    "tool_call_ids_started_by_response": "STARTED", "usage": "token attributes"},
    CodeCell: {"code_cell_id": "object_id", "execution": "execution attributes",
               "source_item_id": "INVOKED", "output_item_ids": "RESULTED_IN",
               "nested_tool_call_ids": "REQUESTED", "wait_tool_call_ids": "AWAITED_BY"},
    ToolCall: {"tool_call_id": "object_id", "execution": "execution attributes",
               "requester": "requester, requester_code_cell_id", "kind": "kind, tool_name, mcp_*",
               "model_visible_call_item_ids": "INVOKED",
               "model_visible_output_item_ids": "RESULTED_IN",
               "summary": "summary attributes", "raw_runtime_payload_ids": "EVIDENCED_BY"},
    TerminalSession: {"terminal_id": "object_id", "execution": "execution attributes",
                      "operation_ids": "USED_TERMINAL"},
    TerminalOperation: {"operation_id": "object_id", "execution": "execution attributes",
                        "request": "command, display_command, cwd, stdin, ...",
                        "result": "has_result, exit_code, *_preview, *_chars, ...",
                        "model_observations": "OBSERVED_BY", "raw_payload_ids": "EVIDENCED_BY"},
    Compaction: {"compaction_id": "object_id", "request_ids": "MADE_REQUEST",
                 "input_item_ids": "COMPACTED_INTO", "replacement_item_ids": "REPLACED_WITH"},
    CompactionRequest: {"compaction_request_id": "object_id", "execution": "execution attributes"},
    RawPayloadRef: {"raw_payload_id": "object_id", "kind": "kind"},
}
MODEL_CLASSES: dict[Label, type[BaseModel]] = {
    Label.ROLLOUT: RolloutTrace, Label.THREAD: AgentThread, Label.TURN: CodexTurn,
    Label.CONVERSATION_ITEM: ConversationItem, Label.INFERENCE_CALL: InferenceCall,
    Label.TOOL_CALL: ToolCall, Label.CODE_CELL: CodeCell,
    Label.TERMINAL_SESSION: TerminalSession, Label.TERMINAL_OPERATION: TerminalOperation,
    Label.COMPACTION: Compaction, Label.COMPACTION_REQUEST: CompactionRequest,
    Label.RAW_PAYLOAD: RawPayloadRef,
}


@pytest.mark.parametrize("label", list(Label), ids=str)
def test_every_model_field_reaches_the_graph(label: Label) -> None:
    """A field added to the reduced model must be projected (or listed here)."""
    cls = MODEL_CLASSES[label]
    attrs = SCHEMA.node_attrs(label)
    handled = FIELD_HANDLING.get(cls, {})
    missing = [name for name in cls.model_fields if name not in attrs and name not in handled]
    assert not missing, f"{cls.__name__} fields not in the graph: {missing}"


def test_docs_graph_schema_is_generated_from_the_schema() -> None:
    committed = (ROOT / "docs" / "graph-schema.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), (
        "docs/graph-schema.md is stale: python -m tracegraph.graph.schema_docs > docs/graph-schema.md"
    )


def test_schema_module_prints_the_document() -> None:
    result = subprocess.run([sys.executable, "-m", "tracegraph.graph.schema_docs"], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    assert result.stdout == render_markdown()
    assert result.stderr == ""
    assert "```mermaid\nflowchart LR" in result.stdout


# --- invariants on every example -----------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_edge_endpoints_exist_with_declared_labels(name: str, graphs: dict[str, Any]) -> None:
    graph = graphs[name]
    for u, v, attrs in graph.edges(data=True):
        edge = SCHEMA.edge(attrs["label"])
        pair = (Label(graph.nodes[u]["label"]), Label(graph.nodes[v]["label"]))
        assert pair in edge.endpoints, f"{attrs['edge_key']}: {pair} not declared"
    assert graph.graph["dangling_references"] == []


def _check_type(where: str, value: Any, type_: AttrType) -> None:
    if type_ is AttrType.STRING:
        assert type(value) is str, where
    elif type_ is AttrType.INT:
        assert type(value) is int, where
    elif type_ is AttrType.BOOL:
        assert type(value) is bool, where
    else:
        assert type(value) is list and all(type(entry) is str for entry in value), where


@pytest.mark.parametrize("name", EXAMPLES)
def test_attributes_are_declared_with_their_types(name: str, graphs: dict[str, Any]) -> None:
    graph = graphs[name]
    trace_id = example_trace(name).trace_id
    for key, attrs in graph.nodes(data=True):
        declared = SCHEMA.node_attrs(attrs["label"])
        for attr, value in attrs.items():
            assert attr in declared, f"{key}: undeclared node attribute {attr}"
            _check_type(f"{key}.{attr}", value, declared[attr].type)
        assert key == node_key(trace_id, attrs["label"], attrs["object_id"])
        assert attrs["trace_id"] == trace_id
    edge_keys = []
    for u, _v, key, attrs in graph.edges(keys=True, data=True):
        edge = SCHEMA.edge(attrs["label"])
        declared = SCHEMA.edge_attrs(edge.name)
        for attr, value in attrs.items():
            assert attr in declared, f"{key}: undeclared edge attribute {attr}"
            _check_type(f"{key}.{attr}", value, declared[attr].type)
        assert {"label", "edge_key", "trace_id", "provenance"} <= attrs.keys()
        assert attrs["edge_key"] == key and key.startswith(f"{u}|{edge.name.value}|")
        assert attrs["provenance"] == edge.provenance.value
        if edge.provenance is Provenance.DERIVED:
            rules = [rule.name for rule in edge.rules]
            assert attrs["derived_by"] and set(attrs["derived_by"]) <= set(rules)
        edge_keys.append(key)
    assert len(edge_keys) == len(set(edge_keys))


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("via_graphml", [False, True], ids=["projected", "graphml"])
def test_nodes_per_label_match_the_reduced_model(
        name: str, via_graphml: bool, graphs: dict[str, Any], tmp_path: Path) -> None:
    trace = example_trace(name)
    graph = graphs[name]
    if via_graphml:
        graph = load_graph(write_graphml(graph, tmp_path / "graph.graphml"))
    by_label: dict[str, set[str]] = {}
    for _, attrs in graph.nodes(data=True):
        by_label.setdefault(attrs["label"], set()).add(attrs["object_id"])
    for node in SCHEMA.nodes:
        ids = by_label.get(node.label.value, set())
        if node.model_map is None:
            assert ids == {trace.rollout_id}
        else:
            assert ids == set(getattr(trace, node.model_map)), node.label
    counts = graph_summary(graph)["nodes"]
    for node in SCHEMA.nodes:
        expected = 1 if node.model_map is None else len(getattr(trace, node.model_map))
        assert counts[node.label.value] == expected
    interaction_edges = [attrs for *_, attrs in graph.edges(data=True) if "edge_id" in attrs
                         and attrs["label"] in {rel.value for rel in INTERACTION_RELS.values()}]
    assert sorted(attrs["edge_id"] for attrs in interaction_edges) == sorted(trace.interaction_edges)


def _anchor(anchor: TraceAnchor) -> tuple[Label, str]:
    if isinstance(anchor, ToolCallAnchor):
        return Label.TOOL_CALL, anchor.tool_call_id
    if isinstance(anchor, ConversationItemAnchor):
        return Label.CONVERSATION_ITEM, anchor.item_id
    assert isinstance(anchor, ThreadAnchor)
    return Label.THREAD, anchor.thread_id


Ref = tuple[tuple[Label, str], str, tuple[Label, str]]


def references(trace: RolloutTrace) -> Iterator[Ref]:
    """(holder, field, referenced object) for every object reference in ``trace``."""
    T, IT, TC = Label.THREAD, Label.CONVERSATION_ITEM, Label.TOOL_CALL
    TU, P, IC = Label.TURN, Label.RAW_PAYLOAD, Label.INFERENCE_CALL

    def refs(holder: tuple[Label, str], name: str, label: Label, ids: Any) -> Iterator[Ref]:
        for object_id in [ids] if isinstance(ids, str) else ids or ():
            yield holder, name, (label, object_id)

    rollout = (Label.ROLLOUT, trace.rollout_id)
    yield from refs(rollout, "root_thread_id", T, trace.root_thread_id)
    yield from refs(rollout, "raw_payloads", P, list(trace.raw_payloads))
    for thread in trace.threads.values():
        h = (T, thread.thread_id)
        if isinstance(thread.origin, SpawnedOrigin):
            yield from refs(h, "origin.parent_thread_id", T, thread.origin.parent_thread_id)
        yield from refs(h, "conversation_item_ids", IT, thread.conversation_item_ids)
    for turn in trace.codex_turns.values():
        h = (TU, turn.codex_turn_id)
        yield from refs(h, "thread_id", T, turn.thread_id)
        yield from refs(h, "input_item_ids", IT, turn.input_item_ids)
    for item in trace.conversation_items.values():
        h = (IT, item.item_id)
        yield from refs(h, "thread_id", T, item.thread_id)
        yield from refs(h, "codex_turn_id", TU, item.codex_turn_id)
        for part in item.body.parts:
            if isinstance(part, JsonPart | PayloadRefPart):
                yield from refs(h, "body.parts.raw_payload_id", P, part.raw_payload_id)
        for producer in item.produced_by:
            if isinstance(producer, InferenceProducer):
                yield from refs(h, "produced_by", IC, producer.inference_call_id)
            elif isinstance(producer, ToolProducer):
                yield from refs(h, "produced_by", TC, producer.tool_call_id)
            elif isinstance(producer, CodeCellProducer):
                yield from refs(h, "produced_by", Label.CODE_CELL, producer.code_cell_id)
            elif isinstance(producer, CompactionProducer):
                yield from refs(h, "produced_by", Label.COMPACTION, producer.compaction_id)
            elif isinstance(producer, InteractionEdgeProducer):
                edge = trace.interaction_edges[producer.edge_id]
                yield _anchor(edge.source), "produced_by.interaction_edge", h
    for call in trace.inference_calls.values():
        h = (IC, call.inference_call_id)
        yield from refs(h, "thread_id", T, call.thread_id)
        yield from refs(h, "codex_turn_id", TU, call.codex_turn_id)
        yield from refs(h, "request_item_ids", IT, call.request_item_ids)
        yield from refs(h, "response_item_ids", IT, call.response_item_ids)
        yield from refs(h, "tool_call_ids_started_by_response", TC,
                        call.tool_call_ids_started_by_response)
        yield from refs(h, "raw_request_payload_id", P, call.raw_request_payload_id)
        yield from refs(h, "raw_response_payload_id", P, call.raw_response_payload_id)
    for cell in trace.code_cells.values():
        h = (Label.CODE_CELL, cell.code_cell_id)
        yield from refs(h, "thread_id", T, cell.thread_id)
        yield from refs(h, "codex_turn_id", TU, cell.codex_turn_id)
        yield from refs(h, "source_item_id", IT, cell.source_item_id)
        yield from refs(h, "output_item_ids", IT, cell.output_item_ids)
        yield from refs(h, "nested_tool_call_ids", TC, cell.nested_tool_call_ids)
        yield from refs(h, "wait_tool_call_ids", TC, cell.wait_tool_call_ids)
    for tool in trace.tool_calls.values():
        h = (TC, tool.tool_call_id)
        yield from refs(h, "thread_id", T, tool.thread_id)
        yield from refs(h, "started_by_codex_turn_id", TU, tool.started_by_codex_turn_id)
        if isinstance(tool.requester, CodeCellRequester):
            yield from refs(h, "requester", Label.CODE_CELL, tool.requester.code_cell_id)
        yield from refs(h, "model_visible_call_item_ids", IT, tool.model_visible_call_item_ids)
        yield from refs(h, "model_visible_output_item_ids", IT, tool.model_visible_output_item_ids)
        op = Label.TERMINAL_OPERATION
        yield from refs(h, "terminal_operation_id", op, tool.terminal_operation_id)
        if isinstance(tool.summary, TerminalSummary):
            yield from refs(h, "summary.operation_id", op, tool.summary.operation_id)
        yield from refs(h, "raw_invocation_payload_id", P, tool.raw_invocation_payload_id)
        yield from refs(h, "raw_result_payload_id", P, tool.raw_result_payload_id)
        yield from refs(h, "raw_runtime_payload_ids", P, tool.raw_runtime_payload_ids)
    for session in trace.terminal_sessions.values():
        h = (Label.TERMINAL_SESSION, session.terminal_id)
        yield from refs(h, "thread_id", T, session.thread_id)
        yield from refs(h, "created_by_operation_id", Label.TERMINAL_OPERATION,
                        session.created_by_operation_id)
        yield from refs(h, "operation_ids", Label.TERMINAL_OPERATION, session.operation_ids)
    for operation in trace.terminal_operations.values():
        h = (Label.TERMINAL_OPERATION, operation.operation_id)
        yield from refs(h, "terminal_id", Label.TERMINAL_SESSION, operation.terminal_id)
        yield from refs(h, "tool_call_id", TC, operation.tool_call_id)
        for observation in operation.model_observations:
            yield from refs(h, "model_observations", IT,
                            [*observation.call_item_ids, *observation.output_item_ids])
        yield from refs(h, "raw_payload_ids", P, operation.raw_payload_ids)
    for compaction in trace.compactions.values():
        h = (Label.COMPACTION, compaction.compaction_id)
        yield from refs(h, "thread_id", T, compaction.thread_id)
        yield from refs(h, "codex_turn_id", TU, compaction.codex_turn_id)
        yield from refs(h, "marker_item_id", IT, compaction.marker_item_id)
        yield from refs(h, "request_ids", Label.COMPACTION_REQUEST, compaction.request_ids)
        yield from refs(h, "input_item_ids", IT, compaction.input_item_ids)
        yield from refs(h, "replacement_item_ids", IT, compaction.replacement_item_ids)
    for request in trace.compaction_requests.values():
        h = (Label.COMPACTION_REQUEST, request.compaction_request_id)
        yield from refs(h, "compaction_id", Label.COMPACTION, request.compaction_id)
        yield from refs(h, "thread_id", T, request.thread_id)
        yield from refs(h, "codex_turn_id", TU, request.codex_turn_id)
        yield from refs(h, "raw_request_payload_id", P, request.raw_request_payload_id)
        yield from refs(h, "raw_response_payload_id", P, request.raw_response_payload_id)
    for edge in trace.interaction_edges.values():
        source = _anchor(edge.source)
        yield source, f"interaction_edges[{edge.edge_id}].target", _anchor(edge.target)
        yield from refs(source, "carried_raw_payload_ids", P, edge.carried_raw_payload_ids)


def check_references(trace: RolloutTrace, graph: nx.MultiDiGraph) -> int:
    """Every reference is a node of the right label, joined to its holder by an edge."""
    checked = 0
    for holder, field, (label, object_id) in references(trace):
        u, v = node_key(trace.trace_id, *holder), node_key(trace.trace_id, label, object_id)
        assert v in graph and graph.nodes[v]["label"] == label, f"{holder} {field}: no node {v}"
        if field == "request_item_ids":
            # Inherited input items hang off the request this one EXTENDS.
            assert v in {item for _, item in request_input(graph, u)}, f"{holder}: {v} not in input"
            checked += 1
            continue
        assert graph.has_edge(u, v) or graph.has_edge(v, u), f"{holder} {field}: no edge to {v}"
        checked += 1
    interaction = {attrs["edge_id"]: attrs for *_, attrs in graph.edges(data=True)
                   if attrs["label"] in {rel.value for rel in INTERACTION_RELS.values()}}
    for edge in trace.interaction_edges.values():
        attrs = interaction[edge.edge_id]
        assert attrs["carried_item_ids"] == edge.carried_item_ids
        assert attrs["carried_raw_payload_ids"] == edge.carried_raw_payload_ids
        for item_id in edge.carried_item_ids:
            assert node_key(trace.trace_id, Label.CONVERSATION_ITEM, item_id) in graph
    for thread in trace.threads.values():
        if isinstance(thread.origin, SpawnedOrigin):
            assert thread.origin.spawn_edge_id in interaction
    return checked


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_reference_in_the_reduced_model_is_a_node_or_edge(
        name: str, graphs: dict[str, Any]) -> None:
    assert check_references(example_trace(name), graphs[name]) > 0


def test_each_edge_type_occurs_in_an_example(graphs: dict[str, Any]) -> None:
    seen = {attrs["label"] for graph in graphs.values() for *_, attrs in graph.edges(data=True)}
    missing = {rel for rel in Rel if rel.value not in seen}
    assert missing == set(ABSENT_FROM_EXAMPLES), (
        f"absent from every example: {sorted(missing)}; listed exceptions: "
        f"{sorted(ABSENT_FROM_EXAMPLES)}"
    )


def test_composing_every_pair_of_examples_has_no_key_collisions(graphs: dict[str, Any]) -> None:
    for first, second in combinations(EXAMPLES, 2):
        a, b = graphs[first], graphs[second]
        assert not set(a.nodes) & set(b.nodes)
        composed = compose_graphs([a, b])
        assert composed.number_of_nodes() == a.number_of_nodes() + b.number_of_nodes()
        assert composed.number_of_edges() == a.number_of_edges() + b.number_of_edges()
    everything = compose_graphs(graphs.values())
    assert everything.graph["trace_ids"] == [example_trace(name).trace_id for name in EXAMPLES]
    assert graph_summary(everything)["nodes"]["Thread"] == sum(
        len(example_trace(name).threads) for name in EXAMPLES)


def test_composing_a_graph_with_itself_changes_nothing(graphs: dict[str, Any]) -> None:
    graph = graphs[EXAMPLES[0]]
    composed = compose_graphs([graph, graph])
    assert composed.number_of_nodes() == graph.number_of_nodes()
    assert composed.number_of_edges() == graph.number_of_edges()


def test_composing_conflicting_graphs_fails(graphs: dict[str, Any]) -> None:
    graph = graphs[EXAMPLES[0]]
    changed = graph.copy()
    key = next(iter(changed.nodes))
    changed.nodes[key]["status"] = "tampered"
    with pytest.raises(ValueError, match="differs"):
        compose_graphs([graph, changed])


@pytest.mark.parametrize("name", EXAMPLES)
def test_projection_is_deterministic(name: str) -> None:
    first, second = project(example_trace(name)), project(example_trace(name))
    assert list(first.nodes(data=True)) == list(second.nodes(data=True))
    assert list(first.edges(keys=True, data=True)) == list(second.edges(keys=True, data=True))


def test_bundle_and_state_file_give_the_same_graph(graphs: dict[str, Any]) -> None:
    name = "terminal-reuse"
    from_bundle = load_graph(BUNDLES / name)
    from_state = load_graph(BUNDLES / name / "state.json")
    assert list(from_bundle.nodes(data=True)) == list(from_state.nodes(data=True))
    assert list(from_bundle.edges(keys=True, data=True)) == list(
        from_state.edges(keys=True, data=True))
    assert load_trace(BUNDLES / name) == load_trace(BUNDLES / name / "state.json")


def test_load_graph_reads_graphml_back(graphs: dict[str, Any], tmp_path: Path) -> None:
    graph = graphs["code-mode"]
    target = write_graphml(graph, tmp_path / "g.graphml")
    again = load_graph(target)
    assert dict(again.nodes(data=True)) == dict(graph.nodes(data=True))


def test_load_trace_rejects_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="no such bundle directory or state file"):
        load_trace(tmp_path / "nope")


# --- specific edges ----------------------------------------------------------------


def edges_of(graph: nx.MultiDiGraph, rel: Rel) -> list[tuple[str, str, dict[str, Any]]]:
    return [(u, v, attrs) for u, v, attrs in graph.edges(data=True) if attrs["label"] == rel]


def short(key: str) -> str:
    return key.split("/", 1)[1]


def test_started_comes_from_every_piece_of_evidence() -> None:
    trace = example_trace("terminal-reuse")
    expected = {(call.inference_call_id, tool_id)
                for call in trace.inference_calls.values()
                for tool_id in call.tool_call_ids_started_by_response}
    assert expected
    full = {(short(u), short(v)): attrs["derived_by"]
            for u, v, attrs in edges_of(project(trace), Rel.STARTED)}
    assert set(full) == {(f"InferenceCall/{i}", f"ToolCall/{t}") for i, t in expected}
    assert all(rules == ["started_by_response", "response_item", "item_producer"]
               for rules in full.values())

    # Tools that start before their response completes: the reference leaves the list empty.
    for call in trace.inference_calls.values():
        call.tool_call_ids_started_by_response = []
    without_list = {(short(u), short(v)): attrs["derived_by"]
                    for u, v, attrs in edges_of(project(trace), Rel.STARTED)}
    assert set(without_list) == set(full)
    assert all(rules == ["response_item", "item_producer"] for rules in without_list.values())

    # No call item links either: the item with the tool's call id still says who started it.
    for tool in trace.tool_calls.values():
        tool.model_visible_call_item_ids = []
    by_call_id = {(short(u), short(v)) for u, v, _ in edges_of(project(trace), Rel.STARTED)}
    assert by_call_id == set(full)


def test_started_links_code_cells_to_the_inference_that_wrote_them() -> None:
    trace = example_trace("code-mode")
    graph = project(trace)
    started = {short(v): short(u) for u, v, _ in edges_of(graph, Rel.STARTED)
               if graph.nodes[v]["label"] == Label.CODE_CELL}
    for cell in trace.code_cells.values():
        source = trace.conversation_items[cell.source_item_id]
        producers = [p.inference_call_id for p in source.produced_by
                     if isinstance(p, InferenceProducer)]
        assert started[f"CodeCell/{cell.code_cell_id}"] == f"InferenceCall/{producers[0]}"


def test_code_cell_edges() -> None:
    trace = example_trace("code-mode")
    graph = project(trace)
    requested = {(short(u), short(v), attrs["position"])
                 for u, v, attrs in edges_of(graph, Rel.REQUESTED)}
    expected = {(f"CodeCell/{cell.code_cell_id}", f"ToolCall/{tool_id}", position)
                for cell in trace.code_cells.values()
                for position, tool_id in enumerate(cell.nested_tool_call_ids)}
    assert requested == expected
    awaited = {(short(u), short(v)) for u, v, _ in edges_of(graph, Rel.AWAITED_BY)}
    assert awaited == {(f"CodeCell/{cell.code_cell_id}", f"ToolCall/{tool_id}")
                       for cell in trace.code_cells.values()
                       for tool_id in cell.wait_tool_call_ids}


def test_transcript_order_and_positions() -> None:
    trace = example_trace("multi-agent")
    graph = project(trace)
    for thread in trace.threads.values():
        chain = sorted(
            ((attrs["position"], short(u), short(v)) for u, v, attrs in edges_of(graph, Rel.NEXT_ITEM)
             if attrs["thread_id"] == thread.thread_id))
        ids = thread.conversation_item_ids
        assert chain == [(i, f"ConversationItem/{a}", f"ConversationItem/{b}")
                         for i, (a, b) in enumerate(pairwise(ids))]
    full = project(trace, full_snapshots=True)
    for call in trace.inference_calls.values():
        target = node_key(trace.trace_id, Label.INFERENCE_CALL, call.inference_call_id)
        prompted = sorted((attrs["position"], full.nodes[u]["object_id"])
                          for u, v, attrs in edges_of(full, Rel.PROMPTED) if v == target)
        assert [item for _, item in prompted] == call.request_item_ids
        assert [graph.nodes[item]["object_id"] for _, item in request_input(graph, target)] == (
            call.request_item_ids)


def test_terminal_reuse_edges() -> None:
    trace = example_trace("terminal-reuse")
    graph = project(trace)
    created = {(short(u), short(v)) for u, v, _ in edges_of(graph, Rel.CREATED_TERMINAL)}
    assert created == {(f"TerminalOperation/{s.created_by_operation_id}", f"TerminalSession/{s.terminal_id}")
                       for s in trace.terminal_sessions.values()}
    used = Counter(short(v) for _, v, _ in edges_of(graph, Rel.USED_TERMINAL))
    assert used == Counter({f"TerminalSession/{s.terminal_id}": len(s.operation_ids)
                            for s in trace.terminal_sessions.values()})
    observed = edges_of(graph, Rel.OBSERVED_BY)
    assert {attrs["role"] for *_, attrs in observed} == {"call", "output"}
    assert all(attrs["source"] == "direct_tool_call" for *_, attrs in observed)


def test_multi_agent_interaction_edges() -> None:
    trace = example_trace("multi-agent")
    graph = project(trace)
    for edge in trace.interaction_edges.values():
        rel = INTERACTION_RELS[edge.kind.value]
        (u, v, attrs), = [(u, v, a) for u, v, a in edges_of(graph, rel) if a["edge_id"] == edge.edge_id]
        assert (graph.nodes[u]["label"], graph.nodes[u]["object_id"]) == _anchor(edge.source)
        assert (graph.nodes[v]["label"], graph.nodes[v]["object_id"]) == _anchor(edge.target)
        assert attrs["kind"] == edge.kind.value
        assert attrs["started_at_unix_ms"] == edge.started_at_unix_ms
        assert attrs.get("ended_at_unix_ms") == edge.ended_at_unix_ms
    (parent, child, attrs), = edges_of(graph, Rel.HAS_CHILD)
    child_thread = trace.threads[graph.nodes[child]["object_id"]]
    assert isinstance(child_thread.origin, SpawnedOrigin)
    assert attrs["spawn_edge_id"] == child_thread.origin.spawn_edge_id
    assert graph.nodes[parent]["is_root"] is True


def test_compaction_edges() -> None:
    trace = example_trace("compaction")
    graph = project(trace)
    (compaction,) = trace.compactions.values()
    marker = edges_of(graph, Rel.INSTALLED_MARKER)
    assert [graph.nodes[v]["object_id"] for _, v, _ in marker] == [compaction.marker_item_id]
    replaced = sorted((a["position"], graph.nodes[v]["object_id"])
                      for _, v, a in edges_of(graph, Rel.REPLACED_WITH))
    assert [item for _, item in replaced] == compaction.replacement_item_ids
    requests = {graph.nodes[v]["object_id"] for _, v, _ in edges_of(graph, Rel.MADE_REQUEST)}
    assert requests == set(compaction.request_ids)
    marker_node = graph.nodes[node_key(trace.trace_id, Label.CONVERSATION_ITEM,
                                       compaction.marker_item_id)]
    assert marker_node["kind"] == ConversationItemKind.COMPACTION_MARKER
    assert "preview" not in marker_node and marker_node["body_chars"] == 0


def test_answered_by_pairs_calls_with_outputs() -> None:
    trace = example_trace("terminal-reuse")
    graph = project(trace)
    pairs = {(graph.nodes[u]["object_id"], graph.nodes[v]["object_id"])
             for u, v, _ in edges_of(graph, Rel.ANSWERED_BY)}
    items = trace.conversation_items.values()
    expected = {(call.item_id, out.item_id) for call in items for out in items
                if call.call_id and call.call_id == out.call_id
                and CALL_OUTPUT_KINDS.get(call.kind.value) == out.kind.value}
    assert pairs == expected and expected


def test_evidence_roles() -> None:
    trace = example_trace("multi-agent")
    graph = project(trace)
    roles = Counter(attrs["role"] for *_, attrs in edges_of(graph, Rel.EVIDENCED_BY))
    assert {"request", "response", "invocation", "result", "runtime", "carried"} <= set(roles)
    assert roles["request"] == len(trace.inference_calls)
    carried = [a for *_, a in edges_of(graph, Rel.EVIDENCED_BY) if a["role"] == "carried"]
    assert all(a["edge_id"] in trace.interaction_edges for a in carried)


def test_rare_fields_and_dangling_references() -> None:
    """Fields no example uses: turn inputs, interaction-edge producers, missing objects."""
    trace = example_trace("multi-agent")
    turn = next(iter(trace.codex_turns.values()))
    first_item = trace.threads[turn.thread_id].conversation_item_ids[0]
    turn.input_item_ids = [first_item]
    edge = next(e for e in trace.interaction_edges.values()
                if e.kind is InteractionEdgeKind.SPAWN_AGENT)
    assert isinstance(edge.target, ConversationItemAnchor)
    target = trace.conversation_items[edge.target.item_id]
    target.produced_by.append(InteractionEdgeProducer(edge_id=edge.edge_id))
    tool = next(iter(trace.tool_calls.values()))
    tool.raw_runtime_payload_ids = [*tool.raw_runtime_payload_ids, "raw_payload:missing"]

    graph = project(trace)
    (u, v, attrs), = edges_of(graph, Rel.TRIGGERED)
    assert graph.nodes[u]["object_id"] == first_item and attrs["position"] == 0
    assert graph.nodes[v]["object_id"] == turn.codex_turn_id
    produced = [(u, a) for u, v, a in edges_of(graph, Rel.PRODUCED)
                if a["producer_type"] == "interaction_edge"]
    assert [(graph.nodes[u]["object_id"], a["edge_id"]) for u, a in produced] == [
        (_anchor(edge.source)[1], edge.edge_id)]
    assert graph.graph["dangling_references"] == [
        f"EVIDENCED_BY {node_key(trace.trace_id, Label.TOOL_CALL, tool.tool_call_id)} -> "
        f"{node_key(trace.trace_id, Label.RAW_PAYLOAD, 'raw_payload:missing')}"
    ]
    assert graph_summary(graph)["dangling_references"] == 1
    for u, v, attrs in graph.edges(data=True):
        pair = (Label(graph.nodes[u]["label"]), Label(graph.nodes[v]["label"]))
        assert pair in SCHEMA.edge(attrs["label"]).endpoints


def test_previews_are_cut() -> None:
    assert preview("") is None
    assert preview("x" * PREVIEW_CHARS) == "x" * PREVIEW_CHARS
    cut = preview("x" * (PREVIEW_CHARS + 5))
    assert cut is not None and len(cut) == PREVIEW_CHARS and cut.endswith("…")
    trace = example_trace("code-mode")
    item = next(i for i in trace.conversation_items.values() if i.kind.value == "custom_tool_call")
    assert "tools.exec_command" in body_text(item)


# --- summary -----------------------------------------------------------------------


def test_summary_counts_threads_and_failures(graphs: dict[str, Any]) -> None:
    summary = graph_summary(graphs["multi-agent"])
    assert summary["node_count"] == graphs["multi-agent"].number_of_nodes()
    assert sum(summary["edges"].values()) == summary["edge_count"]
    assert [t["agent_path"] for t in summary["threads"]] == ["/root", "/root/loc_counter"]
    assert summary["failures"] == []
    failures = graph_summary(graphs["compaction"])["failures"]
    assert [(f["label"], f["reason"]) for f in failures] == [("CompactionRequest", "status failed")]


def test_summary_reports_exit_codes_and_runtime_failures() -> None:
    trace = example_trace("terminal-reuse")
    operation = next(o for o in trace.terminal_operations.values() if o.result is not None)
    assert operation.result is not None
    operation.result.exit_code = 2
    failures = graph_summary(project(trace))["failures"]
    assert [(f["object_id"], f["reason"]) for f in failures] == [
        (operation.operation_id, "exit code 2")]
    assert isinstance(operation.request, ExecCommandRequest)
    assert failures[0]["detail"] == operation.request.display_command
