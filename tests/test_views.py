"""The view data and static plots, read from projected graphs (no browser here)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from tracegraph.cli import app
from tracegraph.graph import compose_graphs, load_graph, node_key, read_graphml, write_graphml
from tracegraph.graph.schema import Label, Rel
from tracegraph.queries import run_query
from tracegraph.views import ViewError, extract, plot, view_data, write_html

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = sorted(path for path in (ROOT / "examples" / "bundles").iterdir()
                 if (path / "manifest.json").is_file())
#: Every kind of source the views draw from: bundles and a directory of session files.
SOURCES = [*BUNDLES, ROOT / "examples" / "sessions"]
#: Labels drawn as bars on the timeline.
TIMELINE_LABELS = {Label.TURN, Label.INFERENCE_CALL, Label.TOOL_CALL, Label.CODE_CELL,
                   Label.TERMINAL_OPERATION, Label.COMPACTION_REQUEST}


def chain_rows(view_chain: list[tuple[str, str | None]], graph: nx.MultiDiGraph) -> list[dict]:
    return [{"step": step, "label": graph.nodes[node]["label"],
             "object_id": graph.nodes[node]["object_id"], "via": via,
             "status": graph.nodes[node].get("status")}
            for step, (node, via) in enumerate(view_chain)]


@pytest.fixture(scope="module", params=SOURCES, ids=lambda path: path.name)
def bundle_graph(request: pytest.FixtureRequest) -> nx.MultiDiGraph:
    return load_graph(request.param)


def test_one_span_per_timeline_object_and_one_lane_per_thread(bundle_graph: nx.MultiDiGraph) -> None:
    view = extract(bundle_graph)
    expected = Counter(data["label"] for _, data in bundle_graph.nodes(data=True)
                       if data["label"] in TIMELINE_LABELS
                       and ("started_at_unix_ms" in data or "ended_at_unix_ms" in data))
    assert view.counts() == dict(expected)
    assert expected[Label.INFERENCE_CALL] == sum(
        1 for _, data in bundle_graph.nodes(data=True) if data["label"] == Label.INFERENCE_CALL)
    threads = [key for key, data in bundle_graph.nodes(data=True) if data["label"] == Label.THREAD]
    assert sorted(view.threads) == sorted(threads)
    data = view_data(view)
    assert len(data["lanes"]) == len(threads)
    assert len(data["spans"]["node"]) == sum(expected.values())
    for span in view.spans:
        attrs = bundle_graph.nodes[span.node]
        # Session files record some objects' end only: drawn at the end, and said so.
        assert span.start_ms == attrs.get("started_at_unix_ms", attrs.get("ended_at_unix_ms"))
        assert span.start_known == ("started_at_unix_ms" in attrs)
        if "ended_at_unix_ms" in attrs:
            assert not span.open and span.end_ms == attrs["ended_at_unix_ms"]
        else:  # running: drawn to the end of the trace, and marked
            assert span.open and span.end_ms == view.end_ms


def test_chain_of_every_drawn_object_is_the_causal_chain_query(bundle_graph: nx.MultiDiGraph) -> None:
    view = extract(bundle_graph)
    data = view_data(view)
    assert data["nodes"], "nothing to select"
    for node in data["nodes"]:
        expected = run_query(bundle_graph, "causal-chain", node=node["key"])
        assert chain_rows(view.chain(node["key"]), bundle_graph) == expected, node["key"]


def test_page_chain_data_follows_the_query(bundle_graph: nx.MultiDiGraph) -> None:
    """The page walks ``causes`` pointers (or a stored chain); replay that walk here."""
    data = view_data(extract(bundle_graph))
    for index, node in enumerate(data["nodes"]):
        if str(index) in data["chains"] or index in data["chains"]:
            steps = [tuple(step) for step in data["chains"][index]]
        else:
            steps, seen, current = [(index, None)], {index}, index
            while current in data["causes"]:
                cause, via = data["causes"][current]
                if cause in seen:
                    break
                seen.add(cause)
                steps.append((cause, via))
                current = cause
        got = [(data["nodes"][i]["label"], data["nodes"][i]["id"], via) for i, via in steps]
        rows = run_query(bundle_graph, "causal-chain", node=node["key"])
        assert got == [(row["label"], row["object_id"], row["via"]) for row in rows]


def test_a_cause_leading_back_onto_the_chain_is_stored_whole() -> None:
    """op <- tool <- cell <- inference <- item, and the item's best cause is the tool
    again: the query then takes the item's next cause, a pointer walk would not."""
    trace = "t"
    graph: nx.MultiDiGraph = nx.MultiDiGraph(trace_ids=[trace])

    def add(label: Label, object_id: str, **attrs: object) -> str:
        key = node_key(trace, label, object_id)
        graph.add_node(key, label=label.value, trace_id=trace, object_id=object_id, **attrs)
        return key

    def link(rel: Rel, u: str, v: str, **attrs: object) -> None:
        graph.add_edge(u, v, key=f"{u}|{rel}|{v}", label=rel.value, **attrs)

    times = {"started_at_unix_ms": 0, "ended_at_unix_ms": 10, "status": "completed"}
    add(Label.ROLLOUT, "r", status="completed", started_at_unix_ms=0, ended_at_unix_ms=10)
    thread = add(Label.THREAD, "th", agent_path="/root", is_root=True, **times)
    op = add(Label.TERMINAL_OPERATION, "op", tool_call_id="tool", started_seq=5, **times)
    tool = add(Label.TOOL_CALL, "tool", thread_id="th", started_seq=4, **times)
    cell = add(Label.CODE_CELL, "cell", thread_id="th", started_seq=3, **times)
    inference = add(Label.INFERENCE_CALL, "inf", thread_id="th", started_seq=2, **times)
    other = add(Label.INFERENCE_CALL, "inf0", thread_id="th", started_seq=1, **times)
    item = add(Label.CONVERSATION_ITEM, "item", thread_id="th")
    link(Rel.HAS_THREAD, node_key(trace, Label.ROLLOUT, "r"), thread)
    link(Rel.EXECUTED, tool, op)
    link(Rel.REQUESTED, cell, tool)
    link(Rel.STARTED, inference, cell)
    link(Rel.PROMPTED, item, inference, position=0)
    link(Rel.PRODUCED, tool, item)
    link(Rel.PRODUCED, other, item)

    view = extract(graph)
    assert op in view.chains
    expected = run_query(graph, "causal-chain", node=op)
    assert [row["object_id"] for row in expected] == ["op", "tool", "cell", "inf", "item", "inf0"]
    assert chain_rows(view.chain(op), graph) == expected
    data = view_data(view)
    index = next(i for i, node in enumerate(data["nodes"]) if node["key"] == op)
    assert [data["nodes"][i]["id"] for i, _ in data["chains"][index]] == [
        row["object_id"] for row in expected]


def test_graphml_gives_the_same_view_as_the_bundle(tmp_path: Path) -> None:
    bundle = ROOT / "examples" / "bundles" / "multi-agent"
    graph = load_graph(bundle)
    write_graphml(graph, tmp_path / "g.graphml")
    from_file = view_data(extract(read_graphml(tmp_path / "g.graphml")))
    direct = view_data(extract(graph))
    assert from_file["spans"] == direct["spans"]
    assert from_file["lanes"] == direct["lanes"]
    assert from_file["header"] == direct["header"]
    assert from_file["causes"] == direct["causes"]
    assert from_file["tree"] == direct["tree"]


def test_agent_tree_edges_map_interaction_anchors_to_threads() -> None:
    graph = load_graph(ROOT / "examples" / "bundles" / "multi-agent")
    view = extract(graph)
    names = {edge.name for edge in view.agent_edges}
    assert names == {"spawn", "task", "message", "result", "close"}
    interaction = [d for *_, d in graph.edges(data=True) if d["label"] in {
        "SPAWNED_AGENT", "ASSIGNED_TASK", "SENT_MESSAGE", "DELIVERED_RESULT", "CLOSED_AGENT"}]
    assert sum(edge.count for edge in view.agent_edges) == len(interaction)
    root = next(key for key in view.threads if graph.nodes[key].get("is_root"))
    child = next(key for key in view.threads if key != root)
    spawn = next(edge for edge in view.agent_edges if edge.name == "spawn")
    result = next(edge for edge in view.agent_edges if edge.name == "result")
    assert (spawn.source, spawn.target) == (root, child)
    assert (result.source, result.target) == (child, root)
    assert view.parent == {child: root} and view.depth == {root: 0, child: 1}


def test_header_counts_failures_and_totals() -> None:
    graph = load_graph(ROOT / "examples" / "bundles" / "upstream-interrupt")
    header = view_data(extract(graph))["header"]
    failed = run_query(graph, "failed-operations")
    assert len(header["failures"]) >= len(failed) > 0
    assert header["dialect"] == "upstream"
    tokens = run_query(graph, "token-usage")
    assert header["totals"]["input_tokens"] == sum(row["input_tokens"] or 0 for row in tokens)


def test_several_traces_need_a_choice(tmp_path: Path) -> None:
    graphs = [load_graph(ROOT / "examples" / "bundles" / name)
              for name in ("code-mode", "multi-agent")]
    both = compose_graphs(graphs)
    with pytest.raises(ViewError, match="several traces"):
        extract(both)
    trace = graphs[1].graph["trace_ids"][0]
    assert extract(both, trace).counts() == extract(graphs[1]).counts()
    with pytest.raises(ViewError, match="no trace"):
        extract(both, "nope")


def test_page_is_self_contained(tmp_path: Path) -> None:
    view = extract(load_graph(ROOT / "examples" / "bundles" / "code-mode"))
    html = write_html(view, tmp_path / "v.html").read_text(encoding="utf-8")
    assert "default-src 'none'" in html  # the page may fetch nothing, by its own policy
    for needle in ("<script src", "<link ", "<iframe", "@import url"):
        assert needle not in html
    data = html.split('<script id="trace-data" type="application/json">', 1)[1]
    payload = json.loads(data.split("</script>", 1)[0].replace("<\\/", "</"))
    assert payload["header"]["trace_id"] == view.trace_id


@pytest.mark.parametrize("kind", ["timeline", "tokens", "agents"])
def test_plots_draw_every_object(kind: str) -> None:
    graph = load_graph(ROOT / "examples" / "bundles" / "multi-agent")
    view = extract(graph)
    figure = plot(view, kind)
    axes = figure.axes[0]
    texts = " ".join(text.get_text() for ax in figure.axes for text in ax.texts)
    if kind == "timeline":
        bars = sum(len(collection.get_paths()) for collection in axes.collections)
        assert bars == len(view.spans)
        for thread in view.threads:
            assert view.lane_name(thread) in texts
    elif kind == "tokens":
        heights = sum(patch.get_height() for ax in figure.axes for patch in ax.patches)
        usage = run_query(graph, "token-usage")
        assert heights == sum((row["input_tokens"] or 0) + (row["output_tokens"] or 0)
                              for row in usage)
    else:
        for thread in view.threads:
            assert view.lane_name(thread) in texts
        assert "spawn" in texts and "result x2" in texts


def test_cli_view_and_plot(tmp_path: Path) -> None:
    runner = CliRunner()
    bundle = ROOT / "examples" / "bundles" / "terminal-reuse"
    out = tmp_path / "page.html"
    result = runner.invoke(app, ["view", str(bundle), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    for suffix, magic in ((".png", b"\x89PNG"), (".svg", b"<?xml")):
        image = tmp_path / f"timeline{suffix}"
        result = runner.invoke(app, ["plot", str(bundle), "--kind", "timeline", "-o", str(image)])
        assert result.exit_code == 0, result.output
        assert image.read_bytes().startswith(magic)
    result = runner.invoke(app, ["plot", str(bundle), "--kind", "tokens", "-o",
                                 str(tmp_path / "x.jpg")])
    assert result.exit_code == 2 and not (tmp_path / "x.jpg").exists()


def test_cli_view_of_a_composed_graphml_asks_for_a_trace(tmp_path: Path) -> None:
    graphs = [load_graph(ROOT / "examples" / "bundles" / name)
              for name in ("code-mode", "multi-agent")]
    write_graphml(compose_graphs(graphs), tmp_path / "both.graphml")
    runner = CliRunner()
    result = runner.invoke(app, ["view", str(tmp_path / "both.graphml")])
    assert result.exit_code == 2
    assert "several traces" in result.output
    assert not (tmp_path / "both.view.html").exists()
    trace = graphs[0].graph["trace_ids"][0]
    result = runner.invoke(app, ["view", str(tmp_path / "both.graphml"), "--trace", trace])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "both.view.html").is_file()


def test_cli_view_of_a_bundle_still_being_written(tmp_path: Path) -> None:
    """An unfinished final event line is left out (as for every command); --strict refuses."""
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(ROOT / "examples" / "bundles" / "code-mode", bundle)
    log = bundle / "trace.jsonl"
    data = log.read_bytes().rstrip(b"\n")
    last = data.rfind(b"\n") + 1
    # The final record cut short, as a writer leaves it mid-write.
    log.write_bytes(data[: last + (len(data) - last) // 2])
    runner = CliRunner()
    strict = runner.invoke(app, ["view", str(bundle), "--strict"])
    assert strict.exit_code == 2
    assert not (bundle / "view.html").exists()
    result = runner.invoke(app, ["view", str(bundle)])
    assert result.exit_code == 0, result.output
    assert (bundle / "view.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
