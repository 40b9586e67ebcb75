"""`tracegraph watch` on a directory of Codex session files: growing files, a child file
appearing, a line still being written, a file that is not a session file."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
from typer.testing import CliRunner

from tests import session_files as sf
from tracegraph.cli import app
from tracegraph.graph import load_session_graph, read_graphml
from tracegraph.watch import GraphmlSink
from tracegraph.watch.sessions import SessionWatcher


def cut(path: Path, lines: int) -> bytes:
    """Keep the first ``lines`` lines of ``path``; returns the rest."""
    data = path.read_bytes()
    kept = b"".join(data.splitlines(keepends=True)[:lines])
    path.write_bytes(kept)
    return data[len(kept):]


def test_growing_session_files_keep_their_rollout_graph_current(tmp_path: Path) -> None:
    root, out = tmp_path / "sessions", tmp_path / "graphs"
    parent = sf.legacy_2026(root)
    (parent_file,) = root.rglob("*.jsonl")
    rest = cut(parent_file, 12)
    (root / "notes.txt").write_text("not a session file\n")
    statuses: list[str] = []
    watcher = SessionWatcher(root, GraphmlSink(out), report=lambda s: statuses.append(s.line()))
    name = f"session-{sf.T2026}"
    assert watcher.sync() == 1
    assert nx.utils.graphs_equal(read_graphml(out / f"{name}.graphml"),
                                 load_session_graph(root))
    assert watcher.sync() == 0  # nothing changed, nothing read
    # The rest of the file arrives, its last line still being written.
    with parent_file.open("ab") as handle:
        handle.write(rest[:-20])
    assert watcher.sync() == 1
    assert watcher.statuses[0].detail == "last line still being written"
    with parent_file.open("ab") as handle:
        handle.write(rest[-20:])
    sf.child_without_ordinals(root, parent)
    assert watcher.sync() == 2
    graph = read_graphml(out / f"{name}.graphml")
    assert nx.utils.graphs_equal(graph, load_session_graph(root))
    assert sum(data["label"] == "Thread" for _, data in graph.nodes(data=True)) == 2
    assert statuses[-1].startswith(f"{name}: ") and "2 threads, failed" in statuses[-1]


def test_watch_command_follows_a_sessions_directory(tmp_path: Path) -> None:
    root, out = tmp_path / "sessions", tmp_path / "graphs"
    sf.paginated_2026(root, compress=True)
    result = CliRunner().invoke(app, ["watch", str(root), "--graphml-dir", str(out),
                                      "--poll", "--poll-interval", "0.05", "--idle-exit", "0.2"])
    assert result.exit_code == 0, result.output
    assert nx.utils.graphs_equal(read_graphml(out / f"session-{sf.TPAGE}.graphml"),
                                 load_session_graph(root))
