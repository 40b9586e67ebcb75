"""`tracegraph load DIR --jobs N`: worker processes, bad sources reported by name, and
re-loads of unchanged sources skipped by their fingerprints."""

from __future__ import annotations

import shutil
from pathlib import Path

import neo4j
import pytest
from typer.testing import CliRunner

from tests.neo4j_support import BUNDLES, copy_bundle, counts, dump, graph_counts
from tracegraph.cli import app
from tracegraph.graph import load_graph, read_graphml
from tracegraph.neo4j_harness import Neo4jServer

GOOD = ["code-mode", "compaction", "terminal-reuse"]


def run(*args: str, password: str | None = None) -> tuple[int, str, str]:
    env = {"NEO4J_PASSWORD": password} if password is not None else {}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def bundles_with_a_bad_one(root: Path) -> Path:
    for name in GOOD:
        copy_bundle(root, name)
    bad = copy_bundle(root, "multi-agent")
    shutil.move(bad, root / "broken")
    (root / "broken" / "trace.jsonl").write_text("{not json\n", encoding="utf-8")
    return root / "broken"


def test_jobs_write_the_same_graphml_and_report_a_bad_bundle_by_name(tmp_path: Path) -> None:
    outputs = []
    for jobs in ("1", "2"):
        root = tmp_path / f"jobs-{jobs}"
        bad = bundles_with_a_bad_one(root)
        code, out, err = run("load", str(root), "--jobs", jobs)
        assert code == 2, (out, err)
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and str(bad) in errors[0], err
        assert "Traceback" not in err
        for name in GOOD:
            graph = read_graphml(root / name / "graph.graphml")
            assert graph_counts(graph) == graph_counts(load_graph(BUNDLES / name / "state.json"))
        assert not (bad / "graph.graphml").exists()
        outputs.append(out.replace(str(root), "ROOT"))
    assert outputs[0] == outputs[1]


@pytest.mark.neo4j
def test_jobs_load_neo4j_and_an_unchanged_reload_skips_every_source(
    neo4j_driver: neo4j.Driver, neo4j_server: Neo4jServer, tmp_path: Path
) -> None:
    server = neo4j_server
    args = ["--neo4j", server.uri, "--user", server.user,
            "--database", server.database]
    database = server.database
    bad = bundles_with_a_bad_one(tmp_path)
    code, out, err = run("load", str(tmp_path), "--jobs", "2", *args,
                         password=server.password)
    assert code == 2, (out, err)
    assert [line for line in err.splitlines() if line.startswith("error: ")] == [
        line for line in err.splitlines() if str(bad) in line]
    assert f"loaded {len(GOOD)} trace(s)" in out
    for name in GOOD:
        graph = load_graph(BUNDLES / name / "state.json")
        trace_id = str(graph.graph["trace_ids"][0])
        assert counts(neo4j_driver, database, trace_id) == graph_counts(graph)
    before = dump(neo4j_driver, database)

    shutil.rmtree(bad)
    code, out, err = run("load", str(tmp_path), "--jobs", "2", *args,
                         password=server.password)
    assert code == 0, err
    total = sum(load_graph(BUNDLES / name / "state.json").number_of_nodes() for name in GOOD)
    row = next(line for line in out.splitlines() if line.strip("│ ").startswith("nodes"))
    cells = [cell.strip() for cell in row.strip("│").split("│")]
    assert cells == ["nodes", str(total), "0", "0", str(total), "0"]
    assert "in 0 batches" in out
    assert dump(neo4j_driver, database) == before

    # A changed source is loaded again.
    log = tmp_path / "compaction" / "trace.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text("".join(lines[: len(lines) // 2]), encoding="utf-8")
    code, out, err = run("load", str(tmp_path), *args,
                         password=server.password)
    assert code == 0, err
    early = load_graph(tmp_path / "compaction")
    assert counts(neo4j_driver, database, str(early.graph["trace_ids"][0])) == graph_counts(early)
