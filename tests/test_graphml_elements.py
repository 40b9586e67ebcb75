"""GraphML read in one pass gives what networkx's reader gives; other documents go to it."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from tracegraph.graph import compose_graphs, project, read_graphml, write_graphml
from tracegraph.graph.adjacency import keyed_edges
from tracegraph.graph.graphml_elements import Elements, read_elements, read_elements_file
from tracegraph.model import load_state

BUNDLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
EXAMPLES = sorted(path.name for path in BUNDLES.iterdir() if (path / "state.json").is_file())


def by_networkx(path: Path) -> Elements:
    raw: Any = nx.read_graphml(path, node_type=str, force_multigraph=True)
    return (dict(raw.graph), dict(raw.nodes(data=True)),
            [(u, v, str(key), attrs) for u, v, key, attrs in keyed_edges(raw)])


def one_pass(path: Path) -> Elements | None:
    """The file read as it is parsed (what ``read_graphml`` does), which must give what
    the parsed tree gives."""
    streamed = read_elements_file(path)
    assert streamed == read_elements(ElementTree.parse(path).getroot())
    return streamed


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("full_snapshots", [False, True])
def test_written_files_read_in_one_pass_as_networkx_reads_them(
        name: str, full_snapshots: bool, tmp_path: Path) -> None:
    graph = project(load_state(BUNDLES / name / "state.json"), full_snapshots=full_snapshots)
    path = write_graphml(graph, tmp_path / "g.graphml")
    assert one_pass(path) == by_networkx(path)


def test_several_traces_and_awkward_values(tmp_path: Path) -> None:
    graphs = [project(load_state(BUNDLES / name / "state.json")) for name in EXAMPLES[:2]]
    path = write_graphml(compose_graphs(graphs), tmp_path / "both.graphml")
    assert one_pass(path) == by_networkx(path)
    graph = nx.MultiDiGraph(note="n", tags=["x"])
    graph.add_node("a\n\t\"<&>", label="A", value=1, flag=True, empty="", text="x\r\ny")
    graph.add_node("b", label="B", value="one", flag=1, ratio=1.5)
    graph.add_edge("a\n\t\"<&>", "b", key="17", edge_key="17", label="REL", value=2)
    graph.add_edge("b", "c", key="k", edge_key="k", label="REL")  # "c" is only an endpoint
    path = write_graphml(graph, tmp_path / "awkward.graphml")
    assert one_pass(path) == by_networkx(path)
    again = read_graphml(path)
    assert list(again) == ["a\n\t\"<&>", "b", "c"]
    assert list(again.edges(keys=True)) == [("a\n\t\"<&>", "b", "17"), ("b", "c", "k")]


HEADER = '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'


@pytest.mark.parametrize("document", [
    # a key default, which networkx keeps as the graph's node_default
    HEADER + '<key id="d0" for="node" attr.name="color" attr.type="string"><default>red'
    '</default></key><graph edgedefault="directed"><node id="a"/></graph></graphml>',
    # an edge without an id, and parallel edges networkx numbers
    HEADER + '<graph edgedefault="directed"><node id="a"/><node id="b"/>'
    '<edge source="a" target="b"/><edge source="a" target="b"/></graph></graphml>',
    # an element networkx ignores
    HEADER + '<graph edgedefault="directed"><desc>x</desc><node id="a"/></graph></graphml>',
    # a nested graph
    HEADER + '<graph edgedefault="directed"><node id="a"><graph edgedefault="directed">'
    '<node id="b"/></graph></node></graph></graphml>',
    # two graphs
    HEADER + '<graph edgedefault="directed"><node id="a"/></graph>'
    '<graph edgedefault="directed"><node id="b"/></graph></graphml>',

])
def test_other_documents_are_read_by_networkx(document: str, tmp_path: Path) -> None:
    path = tmp_path / "other.graphml"
    path.write_text(document, encoding="utf-8")
    assert one_pass(path) is None
    graph = read_graphml(path)
    expected = by_networkx(path)
    assert dict(graph.nodes(data=True)) == expected[1]
    assert [(u, v, k) for u, v, k, _ in keyed_edges(graph)] == [e[:3] for e in expected[2]]


def test_a_key_after_the_graph_goes_to_networkx_when_streamed(tmp_path: Path) -> None:
    """The parsed tree has every key before it reads the graph; read as it is parsed, a
    node meets a key not declared yet, and networkx reads the file: the same graph."""
    path = tmp_path / "late-key.graphml"
    path.write_text(
        HEADER + '<graph edgedefault="directed"><node id="a"><data key="d0">x</data></node>'
        '</graph><key id="d0" for="node" attr.name="color" attr.type="string"/></graphml>',
        encoding="utf-8")
    assert read_elements_file(path) is None
    tree = read_elements(ElementTree.parse(path).getroot())
    assert tree == by_networkx(path)
    assert dict(read_graphml(path).nodes(data=True)) == {"a": {"color": "x"}}
