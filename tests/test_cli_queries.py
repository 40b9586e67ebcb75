"""`tracegraph queries` / `query`, and the --dialect / --lenient options."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from tracegraph.cli import app
from tracegraph.cli.tables import print_rows
from tracegraph.graph import load_graph
from tracegraph.neo4j.export import export_graph
from tracegraph.neo4j_harness import Neo4jServer
from tracegraph.queries import QUERIES, run_query

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
CODE_MODE = EXAMPLES / "code-mode"
UPSTREAM = EXAMPLES / "upstream-interrupt"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_queries_lists_every_canned_query() -> None:
    code, out, _ = run("queries")
    assert code == 0
    for name in QUERIES:
        assert name in out


def test_query_offline_json_gives_the_rows_of_run_query() -> None:
    code, out, _ = run("query", "inference-for-terminal-op", "terminal_operation:3",
                       "--bundle", str(CODE_MODE), "--json")
    assert code == 0
    expected = run_query(load_graph(CODE_MODE), "inference-for-terminal-op",
                         operation="terminal_operation:3")
    assert json.loads(out) == expected
    assert expected and expected[0]["inference_call_id"] == "inference:4"


def test_query_offline_table_shows_the_values() -> None:
    code, out, _ = run("query", "slowest", "1", "-b", str(CODE_MODE))
    assert code == 0
    assert "slowest: 3 row(s)" in out
    assert "inference:1" in out


def test_piped_query_rows_keep_their_natural_width() -> None:
    """Not a terminal (a pipe, a file): a wide table is not folded into 80 columns."""
    code, out, _ = run("query", "rollout-overview", "-b", str(CODE_MODE))
    assert code == 0
    (row,) = run_query(load_graph(CODE_MODE), "rollout-overview")
    header = next(line for line in out.splitlines() if "trace_id" in line)
    values = next(line for line in out.splitlines() if row["trace_id"] in line)
    assert "reasoning_output_tokens" in header and "wall_time_ms" in header
    assert row["rollout_id"] in values and f" {row['input_tokens']} " in values
    assert len(values) > 80


def _terminal(width: int) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=width, no_color=True), buffer


def test_rows_too_wide_for_the_terminal_print_as_records() -> None:
    columns = ["trace_id", "rollout_id", "status"]
    rows = [["4e8b2f71-3c6d-4a9e-b1f0-7d5c2a8e6b93", "019dbf3a-5c2e-7d41-b8a6-0f3e9c1d2a47",
             "completed"], ["a" * 36, "b" * 36, "failed"]]
    console, buffer = _terminal(60)
    print_rows("rollout-overview: 2 row(s)", columns, rows, console)
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip()
             for line in buffer.getvalue().splitlines()]
    assert lines[:5] == ["rollout-overview: 2 row(s)", "-[ ROW 1 ]-",
                         "trace_id    4e8b2f71-3c6d-4a9e-b1f0-7d5c2a8e6b93",
                         "rollout_id  019dbf3a-5c2e-7d41-b8a6-0f3e9c1d2a47",
                         "status      completed"]
    assert lines[5] == "-[ ROW 2 ]-" and lines[8] == "status      failed"
    # Wide enough: the same rows as a table.
    console, buffer = _terminal(120)
    print_rows("rollout-overview: 2 row(s)", columns, rows, console)
    assert "-[ ROW" not in buffer.getvalue()
    assert any(line.startswith("│ 4e8b2f71-3c6d-4a9e-b1f0-7d5c2a8e6b93 │")
               for line in buffer.getvalue().splitlines())


def test_query_from_a_graphml_file(tmp_path: Path) -> None:
    target = tmp_path / "g.graphml"
    assert run("export", str(CODE_MODE), "--graphml", str(target))[0] == 0
    code, out, _ = run("query", "token-usage", "-b", str(target), "--json")
    assert code == 0
    assert json.loads(out) == run_query(load_graph(CODE_MODE), "token-usage")


@pytest.mark.parametrize(("args", "message"), [
    (["nope", "-b", str(CODE_MODE)], "unknown query 'nope'"),
    (["transcript", "-b", str(CODE_MODE)], "needs THREAD"),
    (["slowest", "many", "-b", str(CODE_MODE)], "N must be a int"),
    (["agent-tree", "extra", "-b", str(CODE_MODE)], "got extra extra"),
    (["agent-tree"], "pass exactly one of --bundle"),
    (["transcript", "no-such-thread", "-b", str(CODE_MODE)], "no Thread with id"),
])
def test_query_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    code, out, err = run("query", *args)
    assert code == 2
    assert out == ""
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], err
    assert "Traceback" not in err


@pytest.mark.neo4j
def test_query_in_neo4j_gives_the_offline_rows(neo4j_server: Neo4jServer) -> None:
    graph = load_graph(CODE_MODE)
    driver = neo4j_server.driver()
    try:
        driver.execute_query("MATCH (n) DETACH DELETE n", database_=neo4j_server.database)
        export_graph(graph, driver, database=neo4j_server.database)
    finally:
        driver.close()
    env = {"NEO4J_PASSWORD": neo4j_server.password}
    for name, args in (("causal-chain", ["terminal_operation:2"]), ("agent-tree", []),
                       ("tool-calls-of-inference", ["inference:1"])):
        code, out, err = run("query", name, *args, "--neo4j", neo4j_server.uri,
                             "--user", neo4j_server.user, "--database", neo4j_server.database,
                             "--json", env=env)
        assert code == 0, err
        param = QUERIES[name].params
        kwargs = {param[0].name: args[0]} if args else {}
        assert json.loads(out) == run_query(graph, name, **kwargs)


def test_reduce_reports_the_dialect_auto_chose(tmp_path: Path) -> None:
    code, _, err = run("reduce", str(UPSTREAM), "-o", str(tmp_path / "s.json"))
    assert code == 0
    assert "dialect upstream" in err
    assert (tmp_path / "s.json").read_bytes() == (UPSTREAM / "state.json").read_bytes()
    code, out, err = run("validate", str(CODE_MODE))
    assert code == 0 and err == ""
    assert "dialect seed: no newer-format evidence" in out


def test_seed_dialect_rejects_an_upstream_bundle_naming_the_event(tmp_path: Path) -> None:
    code, _, err = run("reduce", str(UPSTREAM), "--dialect", "seed", "-o",
                       str(tmp_path / "s.json"))
    assert code == 2
    error = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error) == 1
    assert "line 9 seq 9" in error[0] and "unknown variant `mcp_tool_call_correlation_assigned`" in error[0]
    assert not (tmp_path / "s.json").exists()


def test_lenient_skips_unknown_events_and_reports_them(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(CODE_MODE, bundle)
    lines = (bundle / "trace.jsonl").read_text().splitlines()
    future = json.loads(lines[3])
    future["payload"] = {"type": "inference_first_delta", "inference_call_id": "inference:1"}
    lines.insert(4, json.dumps(future))
    (bundle / "trace.jsonl").write_text("\n".join(lines) + "\n")
    code, _, err = run("validate", str(bundle))
    assert code == 2 and "inference_first_delta" in err and "line 5" in err
    code, _, err = run("reduce", str(bundle), "--lenient", "-o", str(tmp_path / "s.json"))
    assert code == 0
    # Once per type, with the count and where the first one was.
    assert (f"skipped unknown event type inference_first_delta x1 (first at line 5, "
            f"seq {future['seq']})") in err
    assert (tmp_path / "s.json").read_bytes() == (CODE_MODE / "state.json").read_bytes()


def test_load_and_export_take_the_dialect_option(tmp_path: Path) -> None:
    code, _, err = run("export", str(UPSTREAM), "--graphml", str(tmp_path / "g.graphml"))
    assert code == 0 and "dialect upstream (line" in err
    code, _, err = run("export", str(UPSTREAM), "--graphml", str(tmp_path / "g.graphml"),
                       "--dialect", "upstream")
    assert code == 0 and err == ""
    rollout = [data for _, data in load_graph(tmp_path / "g.graphml").nodes(data=True)
               if data["label"] == "Rollout"]
    assert rollout[0]["dialect"] == "upstream"
    code, _, err = run("load", str(UPSTREAM), "-o", str(tmp_path / "h.graphml"), "--dialect",
                       "seed")
    assert code == 2 and "mcp_tool_call_correlation_assigned" in err
