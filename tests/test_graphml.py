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
from tracegraph.graph import GraphFileError, project, read_graphml, write_graphml
from tracegraph.graph.graphml import JSON_ATTRIBUTES_KEY, graphml_bytes, lxml_available
from tracegraph.model import load_state

BUNDLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
EXAMPLES = sorted(path.name for path in BUNDLES.iterdir() if (path / "state.json").is_file())
NS = {"g": "http://graphml.graphdrawing.org/xmlns"}

WRITERS = [
    pytest.param(False, id="xml"),
    pytest.param(True, id="lxml", marks=pytest.mark.skipif(
        not lxml_available(), reason="lxml is not installed")),
]


def example_graph(name: str) -> nx.MultiDiGraph:
    return project(load_state(BUNDLES / name / "state.json"))


def assert_same_graph(a: nx.MultiDiGraph, b: nx.MultiDiGraph) -> None:
    assert isinstance(b, nx.MultiDiGraph)
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))
    edges_a = {key: (u, v, attrs) for u, v, key, attrs in a.edges(keys=True, data=True)}
    edges_b = {key: (u, v, attrs) for u, v, key, attrs in b.edges(keys=True, data=True)}
    assert edges_a == edges_b
    assert a.graph == b.graph


@pytest.mark.parametrize("use_lxml", WRITERS)
@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_round_trip(name: str, use_lxml: bool, tmp_path: Path) -> None:
    graph = example_graph(name)
    path = write_graphml(graph, tmp_path / "graph.graphml", use_lxml=use_lxml)
    assert_same_graph(graph, read_graphml(path))


@pytest.mark.parametrize("use_lxml", WRITERS)
def test_edge_ids_are_unique_in_the_file(use_lxml: bool, tmp_path: Path) -> None:
    graph = example_graph("terminal-reuse")
    # Parallel edges between one node pair: networkx's default ids would repeat.
    assert any(graph.number_of_edges(u, v) > 1 for u, v in graph.edges())
    path = write_graphml(graph, tmp_path / "graph.graphml", use_lxml=use_lxml)
    root = ElementTree.parse(path).getroot()
    ids = [edge.get("id") for edge in root.iterfind(".//g:edge", NS)]
    assert len(ids) == graph.number_of_edges()
    assert None not in ids and len(set(ids)) == len(ids)
    assert set(ids) == {key for *_, key in graph.edges(keys=True)}


@pytest.mark.parametrize("use_lxml", WRITERS)
def test_labels_and_json_attributes_in_the_file(use_lxml: bool, tmp_path: Path) -> None:
    graph = example_graph("terminal-reuse")
    path = write_graphml(graph, tmp_path / "graph.graphml", use_lxml=use_lxml)
    root = ElementTree.parse(path).getroot()
    keys = {(key.get("for"), key.get("attr.name")): key for key in root.iterfind("g:key", NS)}
    assert ("node", "label") in keys and ("edge", "label") in keys
    assert keys["node", "started_seq"].get("attr.type") == "long"
    assert keys["node", "has_result"].get("attr.type") == "boolean"
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


@pytest.mark.parametrize("use_lxml", WRITERS)
def test_awkward_values_round_trip_and_none_is_left_out(use_lxml: bool, tmp_path: Path) -> None:
    graph = nx.MultiDiGraph(note="graph level", tags=["x"])
    graph.add_node("a", label="A", **TRICKY, missing=None)
    graph.add_node("b", label="B", empty="plain", list="not a list here")
    graph.add_edge("a", "b", key="k1", edge_key="k1", label="REL", **TRICKY)
    graph.add_edge("a", "b", key="k2", edge_key="k2", label="REL", missing=None)
    path = write_graphml(graph, tmp_path / "g.graphml", use_lxml=use_lxml)
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
    assert graphml_bytes(graph, use_lxml=False) == graphml_bytes(example_graph("code-mode"),
                                                                 use_lxml=False)


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
