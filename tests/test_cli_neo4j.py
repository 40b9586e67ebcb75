"""`tracegraph load --neo4j` and `tracegraph delete`: summaries, one-line errors, interrupts."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import neo4j
import pytest
from typer.testing import CliRunner

import tracegraph.neo4j as neo4j_export
from tests.neo4j_support import BUNDLE_NAMES, BUNDLES, copy_bundle, counts, free_port, graph_counts
from tracegraph.cli import app, with_default_neo4j_uri
from tracegraph.graph import load_graph, read_graphml
from tracegraph.neo4j import DEFAULT_URI, ExportProgress
from tracegraph.neo4j_harness import Neo4jServer


def run(*args: str, password: str | None = None, input: str | None = None,
        ) -> tuple[int, str, str]:
    env = {"NEO4J_PASSWORD": password} if password is not None else {}
    result = CliRunner().invoke(app, list(args), env=env, input=input)
    return result.exit_code, result.stdout, result.stderr


def server_args(server: Neo4jServer) -> list[str]:
    return ["--neo4j", server.uri, "--user", server.user, "--database", server.database]


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def trace_of(name: str) -> str:
    return str(load_graph(BUNDLES / name / "state.json").graph["trace_ids"][0])


# --- argument handling (no server) -------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    (["load", "b", "--neo4j"], ["load", "b", "--neo4j", DEFAULT_URI]),
    (["load", "--neo4j", "b"], ["load", "--neo4j", DEFAULT_URI, "b"]),
    (["load", "--neo4j", "--user", "u", "b"], ["load", "--neo4j", DEFAULT_URI, "--user", "u", "b"]),
    (["load", "b", "--neo4j", "neo4j://h:1"], ["load", "b", "--neo4j", "neo4j://h:1"]),
    (["load", "b", "--neo4j=bolt://h"], ["load", "b", "--neo4j=bolt://h"]),
    (["load", "--", "--neo4j"], ["load", "--", "--neo4j"]),
])
def test_neo4j_option_value_is_optional(args: list[str], expected: list[str]) -> None:
    assert with_default_neo4j_uri(args) == expected


def test_delete_needs_a_server() -> None:
    assert_one_line_error(*run("delete", "some-trace"), "--neo4j")


def test_unsupported_uri_is_a_one_line_error() -> None:
    assert_one_line_error(*run("load", str(BUNDLES / "code-mode"), "--neo4j", "http://x:7474",
                               password="x"), "unsupported Neo4j URI")


def test_connection_refused_is_a_one_line_error(tmp_path: Path) -> None:
    bundle = copy_bundle(tmp_path, "code-mode")
    uri = f"bolt://127.0.0.1:{free_port()}"
    code, out, err = run("load", str(bundle), "--neo4j", uri, password="secret")
    assert_one_line_error(code, out, err, f"cannot connect to Neo4j at {uri}")
    assert not (bundle / "graph.graphml").exists()
    assert_one_line_error(*run("delete", "t", "--neo4j", uri, password="secret"),
                          "cannot connect")


def test_no_password_and_no_answer_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    code, _, err = run("delete", "t", "--neo4j", f"bolt://127.0.0.1:{free_port()}", input="")
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "error: no Neo4j password: set NEO4J_PASSWORD or type it at the prompt")


def test_bad_input_fails_before_connecting(tmp_path: Path) -> None:
    bundle = copy_bundle(tmp_path, "code-mode")
    (bundle / "manifest.json").write_text("{not json")
    uri = f"bolt://127.0.0.1:{free_port()}"
    assert_one_line_error(*run("load", str(bundle), "--neo4j", uri, password="x"),
                          "manifest.json")


def test_load_without_neo4j_writes_graphml_for_each_bundle_of_a_directory(tmp_path: Path) -> None:
    first, second = copy_bundle(tmp_path, "code-mode"), copy_bundle(tmp_path, "compaction")
    code, out, err = run("load", str(tmp_path))
    assert code == 0, err
    for bundle in (first, second):
        assert (bundle / "graph.graphml").is_file()
        assert str(bundle / "graph.graphml") in out.splitlines()
    combined = tmp_path / "both.graphml"
    code, out, err = run("load", str(first), str(second), "-o", str(combined))
    assert code == 0, err
    assert out.splitlines()[0] == str(combined)
    graph = read_graphml(combined)
    assert sorted(graph.graph["trace_ids"]) == sorted([trace_of("code-mode"),
                                                        trace_of("compaction")])


# --- against the server --------------------------------------------------------------------


@pytest.mark.neo4j
def test_load_a_bundle_into_neo4j(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    bundle = copy_bundle(tmp_path, "multi-agent")
    graph = load_graph(bundle)
    code, out, err = run("load", str(bundle), *server_args(neo4j_server),
                         password=neo4j_server.password)
    assert code == 0, err
    assert err == ""
    assert f"{graph.number_of_nodes()}" in out and "created" in out
    assert f"loaded 1 trace(s) ({trace_of('multi-agent')})" in out
    assert "nodes+relationships/s" in out
    assert counts(neo4j_driver, neo4j_server.database) == graph_counts(graph)
    assert not (bundle / "graph.graphml").exists()  # --neo4j writes no GraphML unless -o

    code, out, err = run("load", str(bundle), *server_args(neo4j_server),
                         password=neo4j_server.password)
    assert code == 0, err
    row = next(line for line in out.splitlines() if line.strip("│ ").startswith("nodes"))
    cells = [cell.strip() for cell in row.strip("│").split("│")]
    assert cells == ["nodes", str(graph.number_of_nodes()), "0", "0",
                     str(graph.number_of_nodes()), "0"]


@pytest.mark.neo4j
def test_load_a_directory_of_bundles_and_state_files_with_graphml(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    graphml = tmp_path / "all.graphml"
    code, out, err = run("load", str(BUNDLES), "--neo4j", neo4j_server.uri, "--user",
                         neo4j_server.user, "--database", neo4j_server.database, "-o", str(graphml),
                         password=neo4j_server.password)
    assert code == 0, err
    assert f"loaded {len(BUNDLE_NAMES)} trace(s)" in out
    # The last line names three traces and counts the rest.
    line = next(line for line in out.splitlines() if line.startswith("loaded "))
    assert f", and {len(BUNDLE_NAMES) - 3} more)" in line
    assert sum(trace_of(name) in line for name in BUNDLE_NAMES) == 3
    assert graphml.is_file()
    for name in BUNDLE_NAMES:
        graph = load_graph(BUNDLES / name / "state.json")
        assert counts(neo4j_driver, neo4j_server.database, trace_of(name)) == graph_counts(graph)
    # state.json files work as sources too, and re-loading two of them changes nothing.
    states = [str(BUNDLES / name / "state.json") for name in BUNDLE_NAMES[:2]]
    code, out, err = run("load", *states, *server_args(neo4j_server),
                         password=neo4j_server.password)
    assert code == 0, err
    assert "loaded 2 trace(s)" in out


@pytest.mark.neo4j
def test_sources_of_one_trace_in_one_load_are_written_in_turn_the_last_one_wins(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    """Small sources are exported together, but never two of the same trace: an early
    copy of a bundle and then the whole of it leave the whole one in the database."""
    early = copy_bundle(tmp_path / "early", "compaction")
    log = early / "trace.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    other = BUNDLES / "code-mode"
    code, out, err = run("load", str(early), str(other), str(BUNDLES / "compaction"),
                         *server_args(neo4j_server), password=neo4j_server.password)
    assert code == 0, err
    assert "loaded 2 trace(s)" in out
    for name in ("compaction", "code-mode"):
        assert counts(neo4j_driver, neo4j_server.database, trace_of(name)) == graph_counts(
            load_graph(BUNDLES / name / "state.json"))


@pytest.mark.neo4j
def test_password_prompt_when_the_environment_has_none(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    code, out, err = run("load", str(BUNDLES / "code-mode" / "state.json"),
                         *server_args(neo4j_server), input=neo4j_server.password + "\n")
    assert code == 0, err
    assert "Neo4j password" in err and neo4j_server.password not in err + out


@pytest.mark.neo4j
def test_bad_password_is_a_one_line_error(neo4j_server: Neo4jServer) -> None:
    if not neo4j_server.password:
        pytest.skip("the server runs without authentication")
    code, out, err = run("load", str(BUNDLES / "code-mode"), *server_args(neo4j_server),
                         password=neo4j_server.password + "-wrong")
    assert_one_line_error(code, out, err, "refused the credentials for user 'neo4j'")
    assert_one_line_error(*run("delete", "t", *server_args(neo4j_server),
                               password="wrong-password"), "refused the credentials")


@pytest.mark.neo4j
def test_unknown_database_is_a_one_line_error(neo4j_server: Neo4jServer) -> None:
    code, out, err = run("load", str(BUNDLES / "code-mode"), "--neo4j", neo4j_server.uri,
                         "--database", "nosuchdb", password=neo4j_server.password)
    assert_one_line_error(code, out, err, "has no database 'nosuchdb'")


@pytest.mark.neo4j
def test_delete_a_trace(neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer) -> None:
    for name in ("code-mode", "compaction"):
        code, _, err = run("load", str(BUNDLES / name / "state.json"),
                           *server_args(neo4j_server), password=neo4j_server.password)
        assert code == 0, err
    gone, kept = trace_of("code-mode"), trace_of("compaction")
    graph = load_graph(BUNDLES / "code-mode" / "state.json")
    code, out, err = run("delete", gone, *server_args(neo4j_server),
                         password=neo4j_server.password)
    assert code == 0, err
    assert out.strip() == (f"deleted trace {gone}: {graph.number_of_nodes()} nodes, "
                           f"{graph.number_of_edges()} relationships")
    assert counts(neo4j_driver, neo4j_server.database, gone) == ({}, {})
    kept_graph = load_graph(BUNDLES / "compaction" / "state.json")
    assert counts(neo4j_driver, neo4j_server.database, kept) == graph_counts(kept_graph)
    code, out, err = run("delete", gone, *server_args(neo4j_server),
                         password=neo4j_server.password)
    assert code == 0 and "nothing to delete" in out


@pytest.mark.neo4j
@pytest.mark.parametrize(("writers", "written"), [([], "[23]"), (["--writers", "1"], "2")])
def test_an_interrupted_load_says_how_far_it_got(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, monkeypatch: pytest.MonkeyPatch,
    writers: list[str], written: str,
) -> None:
    real_export = neo4j_export.export_graph

    def interrupted_export(graph: Any, driver: Any, **kwargs: Any) -> Any:
        report = kwargs["progress"]

        def progress(event: ExportProgress) -> None:
            report(event)
            if event.batches_done == 2:
                raise KeyboardInterrupt

        return real_export(graph, driver, **{**kwargs, "progress": progress})

    # The command imports the exporter when it runs (tracegraph reduce starts without it).
    monkeypatch.setattr(neo4j_export, "export_graph", interrupted_export)
    source = str(BUNDLES / "terminal-reuse" / "state.json")
    code, _, err = run("load", source, *server_args(neo4j_server), "--batch-size", "100",
                         *writers, password=neo4j_server.password)
    assert code == 130
    graph = load_graph(source)
    # Nodes, then relationships, in batches of 100 (the last of each may be short).
    sizes = [min(100, n - start) for n in (graph.number_of_nodes(), graph.number_of_edges())
             for start in range(0, n, 100)]
    # With two writers (the default), the batch in flight beside the second commits
    # before the load stops; with one, nothing else is in flight.
    match = re.fullmatch(rf"interrupted: ({written}) of {len(sizes)} batches were written to "
                         rf"{re.escape(neo4j_server.uri)}; run the same command again to "
                         "complete the load", err.strip())
    assert match, err
    nodes, rels = counts(neo4j_driver, neo4j_server.database)
    assert sum(nodes.values()) + sum(rels.values()) == sum(sizes[:int(match[1])])

    monkeypatch.setattr(neo4j_export, "export_graph", real_export)
    code, _, err = run("load", source, *server_args(neo4j_server), "--batch-size", "100",
                         password=neo4j_server.password)
    assert code == 0, err
    assert counts(neo4j_driver, neo4j_server.database) == graph_counts(graph)


def test_neo4j_commands_import_the_driver_without_its_dataframe_modules() -> None:
    # In a fresh interpreter (this one has imported the driver already): the driver
    # imports pandas, when it is installed, for helpers no command calls.
    code = (
        "import sys\n"
        "from tracegraph.cli import quiet_neo4j_driver\n"
        "quiet_neo4j_driver()\n"
        "import neo4j\n"
        "assert 'pandas' not in sys.modules and 'numpy' not in sys.modules\n"
        "import pandas\n"  # the dev extra installs it: still importable afterwards
        "print(pandas.DataFrame({'a': [1]}).shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 1)"
