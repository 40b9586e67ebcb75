"""`tracegraph load` / `export`: GraphML output, summary table, one-line errors with exit 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from tests.generator import generate_bundle_info
from tracegraph.cli import app
from tracegraph.graph import graph_summary, load_graph, project, read_graphml
from tracegraph.model import load_state
from tracegraph.queries import run_query

BUNDLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"


def copy_bundle(tmp_path: Path, name: str = "terminal-reuse", *, keep_state: bool = False) -> Path:
    copy = tmp_path / name
    # A user may have run the README main job, which writes graph.graphml there.
    shutil.copytree(BUNDLES / name, copy, ignore=shutil.ignore_patterns("graph.graphml"))
    if not keep_state:
        (copy / "state.json").unlink()
    return copy


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def expected_graph(name: str = "terminal-reuse") -> object:
    return project(load_state(BUNDLES / name / "state.json"))


def assert_graph_file(path: Path, name: str = "terminal-reuse") -> None:
    graph = read_graphml(path)
    expected = project(load_state(BUNDLES / name / "state.json"))
    assert dict(graph.nodes(data=True)) == dict(expected.nodes(data=True))
    assert sorted(graph.edges(keys=True)) == sorted(expected.edges(keys=True))


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def no_graph_files(directory: Path) -> bool:
    return not list(directory.glob("*graph.graphml*")) and not list(directory.glob(".*.tmp"))


def test_load_bundle_writes_graphml_into_the_bundle_and_prints_a_summary(tmp_path: Path) -> None:
    bundle = copy_bundle(tmp_path)
    code, out, err = run("load", str(bundle))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == str(bundle / "graph.graphml")
    assert_graph_file(bundle / "graph.graphml")
    summary = graph_summary(read_graphml(bundle / "graph.graphml"))
    for label in ("ToolCall", "TerminalOperation", "STARTED (derived)", "USED_TERMINAL"):
        assert label in out
    assert "USED_TERMINAL (derived)" not in out, "bundle edges read from the model"
    assert f"{summary['node_count']} / {summary['edge_count']}" in out
    assert "/root" in out and "threads" in out
    assert "failures: none" in out
    assert not (bundle / "state.json").exists(), "load must not write state.json"


def test_load_state_json_writes_beside_it(tmp_path: Path) -> None:
    state = tmp_path / "reduced" / "state.json"
    state.parent.mkdir()
    shutil.copy(BUNDLES / "compaction" / "state.json", state)
    code, out, err = run("load", str(state))
    assert code == 0, err
    assert out.splitlines()[0] == str(state.parent / "graph.graphml")
    assert_graph_file(state.parent / "graph.graphml", "compaction")
    assert "failures" in out and "CompactionRequest" in out and "status failed" in out


def test_load_output_option(tmp_path: Path) -> None:
    bundle = copy_bundle(tmp_path, "multi-agent")
    target = tmp_path / "out" / "agents.graphml"
    code, out, _ = run("load", str(bundle), "-o", str(target))
    assert code == 0
    assert out.splitlines()[0] == str(target)
    assert_graph_file(target, "multi-agent")
    assert not (bundle / "graph.graphml").exists()
    assert "/root/loc_counter" in out


@pytest.mark.parametrize("source", ["bundle", "state"])
def test_export_graphml(source: str, tmp_path: Path) -> None:
    bundle = copy_bundle(tmp_path, "code-mode", keep_state=True)
    path = bundle if source == "bundle" else bundle / "state.json"
    target = tmp_path / "export.graphml"
    code, out, err = run("export", str(path), "--graphml", str(target))
    assert code == 0, err
    assert out.strip() == str(target)
    assert_graph_file(target, "code-mode")
    assert not (bundle / "graph.graphml").exists()


def test_export_needs_a_format(tmp_path: Path) -> None:
    bundle = copy_bundle(tmp_path)
    assert_one_line_error(*run("export", str(bundle)), "--graphml")


def test_invalid_bundle_is_a_one_line_error_and_writes_nothing(tmp_path: Path) -> None:
    bundle = copy_bundle(tmp_path)
    with (bundle / "trace.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"schema_version": 1, "seq": \n')
    lines = len((bundle / "trace.jsonl").read_text().splitlines())
    assert_one_line_error(*run("load", str(bundle)), f"line {lines}", "trace.jsonl")
    assert no_graph_files(bundle)
    target = tmp_path / "export.graphml"
    assert_one_line_error(*run("export", str(bundle), "--graphml", str(target)), f"line {lines}")
    assert not target.exists() and no_graph_files(tmp_path)


def test_existing_graph_survives_a_failed_load(tmp_path: Path) -> None:
    bundle = copy_bundle(tmp_path)
    (bundle / "graph.graphml").write_text("previous")
    (bundle / "manifest.json").write_text("{not json")
    code, out, err = run("load", str(bundle))
    assert_one_line_error(code, out, err, "manifest.json")
    assert (bundle / "graph.graphml").read_text() == "previous"


def test_missing_source(tmp_path: Path) -> None:
    assert_one_line_error(*run("load", str(tmp_path / "nope")), "no such bundle directory")


def test_not_a_bundle_directory(tmp_path: Path) -> None:
    assert_one_line_error(*run("load", str(tmp_path)), "manifest.json")
    assert no_graph_files(tmp_path)


def test_invalid_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"trace_id": 5}')
    assert_one_line_error(*run("load", str(state)), "not a rollout state")
    assert no_graph_files(tmp_path)


def _loaded_failure_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, width: int
                          ) -> tuple[Path, list[dict[str, Any]], str, str, list[list[str]]]:
    """`load` of generator seed 48 (more than 10 failures) on a terminal ``width`` wide:
    the bundle, every failure, the output, its failure table and the table's rows."""
    monkeypatch.setattr("tracegraph.cli.console.stdout", Console(width=width))
    bundle = tmp_path / "seed-48"
    assert generate_bundle_info(bundle, 48).valid
    everything = graph_summary(load_graph(bundle))["failures"]
    code, out, _ = run("load", str(bundle))
    assert code == 0
    table = out[out.index("failures (first 10"):]
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in table.splitlines()
            if line.count("│") == 5]
    return bundle, everything, out, table, rows


def test_summary_failure_ids_are_whole_in_an_80_column_terminal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The id is what a reader looks up next: the other cells wrap or shorten instead."""
    _, everything, _, table, rows = _loaded_failure_table(tmp_path, monkeypatch, 80)
    # A row's first line names the object; wrapped lines below it leave that cell empty.
    assert [row[1] for row in rows if row[0]] == [
        str(failure["object_id"]) for failure in everything[:10]]
    # (The line naming the command that lists them all is left long, to be copied whole.)
    assert max(len(line) for line in table.splitlines() if "│" in line) <= 80


def test_summary_shows_ten_failures_and_names_the_command_that_lists_them_all(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Wide enough that no id wraps in the table.
    bundle, everything, out, _, rows = _loaded_failure_table(tmp_path, monkeypatch, 400)
    assert len(everything) > 10
    target = bundle / "graph.graphml"
    assert [(row[0], row[1], row[2]) for row in rows] == [
        (failure["label"], failure["object_id"], failure["reason"]) for failure in everything[:10]]
    assert f"first 10 of {len(everything)}" in out
    command = f"tracegraph query failures --bundle {target}"
    assert f"{len(everything) - 10} more failures; list them all with: {command}" in out
    code, listed, _ = run(*command.split()[1:], "--json")
    assert code == 0
    rows = json.loads(listed)
    assert rows == run_query(load_graph(bundle), "failures")
    assert [(row["label"], row["object_id"], row["reason"]) for row in rows] == [
        (failure["label"], failure["object_id"], failure["reason"]) for failure in everything]


def test_summary_with_few_failures_lists_them_all(tmp_path: Path) -> None:
    bundle = copy_bundle(tmp_path, "upstream-interrupt")
    code, out, _ = run("load", str(bundle))
    assert code == 0
    assert "more failures" not in out and "first 10" not in out
