"""GraphML round trips: same nodes, edges, labels and attributes, ids unique, atomic writes."""

from __future__ import annotations

import json
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from tracegraph.errors import TracegraphError
from tracegraph.graph import (
    GraphFileError,
    compose_graphs,
    project,
    read_graphml,
    write_graphml,
)
from tracegraph.graph.graphml import JSON_ATTRIBUTES_KEY, graphml_bytes
from tracegraph.model import load_state

BUNDLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
EXAMPLES = sorted(path.name for path in BUNDLES.iterdir() if (path / "state.json").is_file())
NS = {"g": "http://graphml.graphdrawing.org/xmlns"}

def example_graph(name: str) -> nx.MultiDiGraph:
    return project(load_state(BUNDLES / name / "state.json"))


def assert_same_graph(a: nx.MultiDiGraph, b: nx.MultiDiGraph) -> None:
    assert isinstance(b, nx.MultiDiGraph)
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))
    edges_a = {key: (u, v, attrs) for u, v, key, attrs in a.edges(keys=True, data=True)}
    edges_b = {key: (u, v, attrs) for u, v, key, attrs in b.edges(keys=True, data=True)}
    assert edges_a == edges_b
    assert a.graph == b.graph


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_round_trip(name: str, tmp_path: Path) -> None:
    graph = example_graph(name)
    path = write_graphml(graph, tmp_path / "graph.graphml")
    assert_same_graph(graph, read_graphml(path))


def test_edge_ids_are_unique_in_the_file(tmp_path: Path) -> None:
    graph = example_graph("terminal-reuse")
    # Parallel edges between one node pair: networkx's default ids would repeat.
    assert any(graph.number_of_edges(u, v) > 1 for u, v in graph.edges())
    path = write_graphml(graph, tmp_path / "graph.graphml")
    root = ElementTree.parse(path).getroot()
    ids = [edge.get("id") for edge in root.iterfind(".//g:edge", NS)]
    assert len(ids) == graph.number_of_edges()
    assert None not in ids and len(set(ids)) == len(ids)
    # A one-trace file leaves the trace id out of its ids (the reader puts it back).
    prefix = graph.graph["trace_ids"][0] + "/"
    assert set(ids) == {key.removeprefix(prefix) for *_, key in graph.edges(keys=True)}
    assert all(not node.get("id").startswith(prefix) for node in root.iterfind(".//g:node", NS))


def test_long_rollout_files_leave_out_what_the_reader_restores(tmp_path: Path) -> None:
    graph = example_graph("multi-agent")
    path = write_graphml(graph, tmp_path / "one.graphml")
    root = ElementTree.parse(path).getroot()
    edge_keys = {key.get("attr.name") for key in root.iterfind("g:key[@for='edge']", NS)}
    assert "edge_key" not in edge_keys and "trace_id" not in edge_keys and "label" in edge_keys
    assert_same_graph(graph, read_graphml(path))
    # Several traces: full ids; the edges' own trace ids are still left out.
    both = compose_graphs([graph, example_graph("code-mode")])
    path = write_graphml(both, tmp_path / "both.graphml")
    root = ElementTree.parse(path).getroot()
    ids = {node.get("id") for node in root.iterfind(".//g:node", NS)}
    assert ids == set(both.nodes)
    assert_same_graph(both, read_graphml(path))
    # An edge whose trace id differs from its source node's keeps it in the file.
    odd = graph.copy()
    u, v, key = next(iter(odd.edges(keys=True)))
    odd.edges[u, v, key]["trace_id"] = "elsewhere"
    path = write_graphml(odd, tmp_path / "odd.graphml")
    assert "elsewhere" in path.read_text(encoding="utf-8")
    assert_same_graph(odd, read_graphml(path))


def test_labels_and_json_attributes_in_the_file(tmp_path: Path) -> None:
    graph = example_graph("terminal-reuse")
    path = write_graphml(graph, tmp_path / "graph.graphml")
    root = ElementTree.parse(path).getroot()
    keys = {(key.get("for"), key.get("attr.name")): key for key in root.iterfind("g:key", NS)}
    assert ("node", "label") in keys and ("edge", "label") in keys
    assert keys["node", "started_seq"].get("attr.type") == "long"
    assert keys["node", "has_result"].get("attr.type") == "boolean"
    assert {key.get("attr.type") for key in keys.values()} <= {"boolean", "long", "double", "string"}
    flags = {data.text for data in root.iterfind(
        f".//g:node/g:data[@key='{keys['node', 'has_result'].get('id')}']", NS)}
    assert flags and flags <= {"true", "false"}
    command_key = keys["node", "command"]
    assert command_key.get("attr.type") == "string"
    values = [data.text for data in root.iterfind(f".//g:node/g:data[@key='{command_key.get('id')}']", NS)]
    assert values and all(isinstance(json.loads(text or ""), list) for text in values)
    graph_key_names = {key.get("id"): name for (scope, name), key in keys.items() if scope == "graph"}
    graph_data = {graph_key_names[data.get("key")]: data.text
                  for data in root.iterfind("g:graph/g:data", NS)}
    listed = json.loads(graph_data[JSON_ATTRIBUTES_KEY] or "")
    assert {"command", "part_types", "producer_types"} <= set(listed["node"])
    assert "derived_by" in listed["edge"] and "trace_ids" in listed["graph"]
    assert "None" not in path.read_text(encoding="utf-8")


def test_json_encoded_attributes_decode_back() -> None:
    graph = example_graph("multi-agent")
    again = read_graphml_bytes(graphml_bytes(graph))
    spawned = [attrs for *_, attrs in again.edges(data=True) if attrs["label"] == "SPAWNED_AGENT"]
    assert spawned and isinstance(spawned[0]["carried_raw_payload_ids"], list)
    assert all(isinstance(attrs["derived_by"], list)
               for *_, attrs in again.edges(data=True) if attrs["provenance"] == "derived")
    assert again.graph["trace_ids"] == graph.graph["trace_ids"]


def read_graphml_bytes(data: bytes) -> nx.MultiDiGraph:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "g.graphml"
        path.write_bytes(data)
        return read_graphml(path)


TRICKY: dict[str, Any] = {
    "empty": "",
    "space": " ",
    "crlf": "line\r\nnext\r",
    "ansi": "\x1b[31mred\x1b[0m",
    "nul": "a\x00b",
    "surrogate": "bad \ud800 half",
    "nonchar": "x\ufffey",
    "unicode": "é 😀 ünïcødé",
    "markup": "<data key=\"d0\">&amp;</data>",
    "tabs": "a\tb\nc",
    "list": ["b", "a", ""],
    "nested": {"z": [1, {"y": None, "x": True}], "a": "é"},
    "big": 2**63 + 5,
    "negative": -(2**40),
    "float": 1.5,
    "flag": False,
    "zero": 0,
}


def test_awkward_values_round_trip_and_none_is_left_out(tmp_path: Path) -> None:
    graph = nx.MultiDiGraph(note="graph level", tags=["x"])
    graph.add_node("a", label="A", **TRICKY, missing=None)
    graph.add_node("b", label="B", empty="plain", list="not a list here")
    graph.add_edge("a", "b", key="k1", edge_key="k1", label="REL", **TRICKY)
    graph.add_edge("a", "b", key="k2", edge_key="k2", label="REL", missing=None)
    path = write_graphml(graph, tmp_path / "g.graphml")
    again = read_graphml(path)
    expected = nx.MultiDiGraph(note="graph level", tags=["x"])
    expected.add_node("a", label="A", **TRICKY)
    expected.add_node("b", label="B", empty="plain", list="not a list here")
    expected.add_edge("a", "b", key="k1", edge_key="k1", label="REL", **TRICKY)
    expected.add_edge("a", "b", key="k2", edge_key="k2", label="REL")
    assert_same_graph(expected, again)
    text = path.read_text(encoding="utf-8")
    assert ">None<" not in text
    assert '{"a":"é","z":[1,{"x":true,"y":null}]}' in text.replace("&quot;", '"')


def test_writes_are_deterministic() -> None:
    graph = example_graph("code-mode")
    assert graphml_bytes(graph) == graphml_bytes(example_graph("code-mode"))


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "g.graphml"
    target.write_text("previous")
    graph = nx.MultiDiGraph()
    graph.add_node("a", label="A", bad={1, 2})  # a set is not JSON
    with pytest.raises(TypeError, match="bad"):
        write_graphml(graph, target)
    assert target.read_text() == "previous"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["g.graphml"]


def test_duplicate_edge_ids_are_refused() -> None:
    graph = nx.MultiDiGraph()
    graph.add_edge("a", "b", key=0, edge_key="same")
    graph.add_edge("b", "c", key=0, edge_key="same")
    with pytest.raises(ValueError, match="not unique"):
        graphml_bytes(graph)


def test_edges_without_edge_key_get_unique_ids() -> None:
    graph = nx.MultiDiGraph()
    graph.add_edge("a", "b")
    graph.add_edge("a", "b")
    graph.add_edge("b", "c")
    again = read_graphml_bytes(graphml_bytes(graph))
    assert again.number_of_edges() == 3


def test_reserved_graph_attribute_is_refused() -> None:
    graph = nx.MultiDiGraph(node_default={"x": 1})
    with pytest.raises(ValueError, match="reserved"):
        graphml_bytes(graph)


def test_reading_garbage_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph><node")
    with pytest.raises(GraphFileError, match="not a GraphML file") as caught:
        read_graphml(bad)
    assert isinstance(caught.value, TracegraphError)
    assert len(str(caught.value).splitlines()) == 1
    with pytest.raises(GraphFileError, match="cannot read"):
        read_graphml(tmp_path / "missing.graphml")


def test_mixed_scalar_types_of_one_attribute_round_trip(tmp_path: Path) -> None:
    graph = nx.MultiDiGraph()
    graph.add_node("a", label="A", value=1, flag=True)
    graph.add_node("b", label="B", value="one", flag=1)
    graph.add_node("c\n\t\"<&>", label="C", value=1.5)
    graph.add_edge("a", "c\n\t\"<&>", key="x\ty", edge_key="x\ty", label="REL", value=2)
    again = read_graphml(write_graphml(graph, tmp_path / "g.graphml"))
    assert_same_graph(graph, again)
    assert type(again.nodes["b"]["flag"]) is int and again.nodes["a"]["flag"] is True


def test_large_graph_streams_and_round_trips(tmp_path: Path) -> None:
    graph = nx.MultiDiGraph(trace_ids=["t"])
    for index in range(10_000):
        graph.add_node(f"t/Item/{index}", label="Item", position=index, text=f"line {index}\n")
        if index:
            key = f"t/Item/{index - 1}|NEXT|{index}"
            graph.add_edge(f"t/Item/{index - 1}", f"t/Item/{index}", key=key, edge_key=key,
                           label="NEXT")
    assert_same_graph(graph, read_graphml(write_graphml(graph, tmp_path / "big.graphml")))
