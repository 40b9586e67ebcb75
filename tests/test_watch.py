"""`tracegraph watch`: tailing event logs, incremental replay, graph diffs, GraphML mode.

The Neo4j side is in ``test_watch_neo4j.py``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracegraph.cli import app
from tracegraph.errors import TraceError
from tracegraph.graph import load_graph, project, read_graphml
from tracegraph.graph.graphml import graphml_bytes
from tracegraph.reducer import replay
from tracegraph.watch import GraphmlSink, IncrementalReplay, LogTail, Watcher, diff_graphs
from tracegraph.watch.watcher import BundleStatus

BUNDLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
BUNDLE_NAMES = sorted(p.name for p in BUNDLES.iterdir() if (p / "manifest.json").is_file())


def log_lines(name: str) -> list[bytes]:
    return (BUNDLES / name / "trace.jsonl").read_bytes().splitlines(keepends=True)


def empty_bundle(root: Path, name: str, directory: str | None = None) -> Path:
    """A copy of an example bundle (manifest, payloads) whose event log is still empty."""
    bundle = root / (directory or f"trace-{name}")
    shutil.copytree(BUNDLES / name, bundle, ignore=shutil.ignore_patterns("state.json",
                                                                          "*.graphml"))
    (bundle / "trace.jsonl").write_bytes(b"")
    return bundle


def append(bundle: Path, data: bytes) -> None:
    with (bundle / "trace.jsonl").open("ab") as handle:
        handle.write(data)


def same_graph(path: Path, bundle: Path) -> bool:
    return graphml_bytes(read_graphml(path)) == graphml_bytes(load_graph(bundle))


# --- the tail --------------------------------------------------------------------------


def test_tail_returns_complete_lines_only_and_reads_each_byte_once(tmp_path: Path) -> None:
    log = tmp_path / "trace.jsonl"
    log.write_bytes(b'{"a":1}\n\n{"b":')
    tail = LogTail(log)
    first = tail.read()
    assert first.lines == [(1, b'{"a":1}')] and first.pending_bytes == 5
    assert tail.offset == len(b'{"a":1}\n\n') and tail.line == 2
    with log.open("ab") as handle:
        handle.write(b'2}\r\n{"c":3}')
    second = tail.read()
    # A final line without its newline that holds a whole object is complete.
    assert second.lines == [(3, b'{"b":2}'), (4, b'{"c":3}')] and second.pending_bytes == 0
    with log.open("ab") as handle:
        handle.write(b' \n{"d":4}\n')
    assert tail.read().lines == [(5, b'{"d":4}')]
    assert tail.read().lines == [] and tail.check() is None


def test_tail_passes_on_a_final_line_that_no_write_in_progress_leaves(tmp_path: Path) -> None:
    """Only the start of a JSON text waits for the rest of its line; other bytes after
    the last newline are a bad line, for the replay to refuse, as a one-shot one does."""
    log = tmp_path / "trace.jsonl"
    log.write_bytes(b'{"a":1}\nnot json')
    read = LogTail(log).read()
    assert read.lines == [(1, b'{"a":1}'), (2, b"not json")] and read.pending_bytes == 0
    # Cut inside a two-byte character: still being written.
    log.write_bytes(b'{"a":1}\n{"b":"\xc3')
    read = LogTail(log).read()
    assert read.lines == [(1, b'{"a":1}')] and read.pending_bytes == 7


def test_tail_refuses_text_after_a_complete_unterminated_line(tmp_path: Path) -> None:
    log = tmp_path / "trace.jsonl"
    log.write_bytes(b'{"a":1}')
    tail = LogTail(log)
    assert tail.read().lines == [(1, b'{"a":1}')]
    with log.open("ab") as handle:
        handle.write(b'{"b":2}\n')
    with pytest.raises(TraceError, match=r"line 1: .*trailing characters"):
        tail.read()


@pytest.mark.parametrize("change", ["truncated", "replaced", "rewritten", "removed"])
def test_tail_notices_a_log_that_no_longer_continues(tmp_path: Path, change: str) -> None:
    log = tmp_path / "trace.jsonl"
    log.write_bytes(b'{"a":1}\n{"b":2}\n')
    tail = LogTail(log)
    assert len(tail.read().lines) == 2
    if change == "truncated":
        log.write_bytes(b'{"a":1}\n')
    elif change == "replaced":
        replacement = tmp_path / "new.jsonl"
        replacement.write_bytes(b'{"a":1}\n{"b":2}\n{"c":3}\n')
        os.replace(replacement, log)
    elif change == "rewritten":
        with log.open("r+b") as handle:
            handle.seek(10)
            handle.write(b"X")
    else:
        log.unlink()
    assert tail.check() == f"event log {change}"
    assert tail.read().reset == f"event log {change}"


# --- incremental replay ------------------------------------------------------------------


@pytest.mark.parametrize("name", BUNDLE_NAMES)
def test_snapshot_after_every_line_equals_a_replay_of_that_prefix(
        tmp_path: Path, name: str) -> None:
    full = replay(BUNDLES / name)
    prefix = empty_bundle(tmp_path, name)
    incremental = IncrementalReplay(prefix, dialect=full.dialect)
    for number, line in enumerate(log_lines(name), start=1):
        append(prefix, line)
        incremental.apply(number, line.rstrip(b"\n"))
        expected = replay(prefix, dialect=full.dialect).trace
        assert incremental.snapshot().trace.to_state_json() == expected.to_state_json(), number
    assert incremental.snapshot().trace.to_state_json() == full.trace.to_state_json()
    # Snapshots do not disturb the replay: a second one is the same.
    assert incremental.snapshot().trace.to_state_json() == full.trace.to_state_json()


def test_diff_lists_new_changed_and_removed_elements(tmp_path: Path) -> None:
    name = "terminal-reuse"
    bundle = empty_bundle(tmp_path, name)
    lines = log_lines(name)
    append(bundle, b"".join(lines[:20]))
    before = load_graph(bundle)
    append(bundle, b"".join(lines[20:]))
    after = load_graph(bundle)
    assert not diff_graphs(after, after)
    diff = diff_graphs(before, after)
    assert set(diff.nodes) >= set(after) - set(before)
    assert all(before.nodes[key] != after.nodes[key] for key in diff.nodes if key in before)
    grown = diff_graphs(None, after)
    assert len(grown.nodes) == after.number_of_nodes()
    assert len(grown.edges) == after.number_of_edges()
    shrunk = diff_graphs(after, before)
    assert {key for key, _ in shrunk.removed_nodes} == set(after) - set(before)
    assert shrunk.removed_edges and not any(ref in before.edges for ref, _ in
                                            shrunk.removed_edges)


# --- the watcher, GraphML mode --------------------------------------------------------------


def watcher(root: Path, out: Path, seen: list[BundleStatus] | None = None,
            notices: list[str] | None = None) -> Watcher:
    return Watcher(root, GraphmlSink(out),
                   report=seen.append if seen is not None else None,
                   notice=notices.append if notices is not None else None)


def test_growing_bundles_are_followed_line_by_line_and_byte_by_byte(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "graphs"
    root.mkdir()
    seen: list[BundleStatus] = []
    watch = watcher(root, out, seen)
    assert watch.sync() == 0
    assert list(out.iterdir()) == []
    bundles = {name: empty_bundle(root, name) for name in ("multi-agent", "compaction")}
    lines = {name: log_lines(name) for name in bundles}
    for index in range(max(len(v) for v in lines.values())):
        growing = {name: lines[name][index] for name in bundles if index < len(lines[name])}
        # Half a line first: a torn line is left for the next look.
        for name, line in growing.items():
            append(bundles[name], line[: len(line) // 2])
        assert watch.sync() == 0
        if index == 7:
            # Caught mid-write: the graph is a clean load's, Rollout marked partial.
            for bundle in bundles.values():
                assert read_graphml(out / f"{bundle.name}.graphml").nodes[
                    next(iter(load_graph(bundle)))]["partial"] is True
                assert same_graph(out / f"{bundle.name}.graphml", bundle)
        for name, line in growing.items():
            append(bundles[name], line[len(line) // 2:])
        assert watch.sync() == len(growing)
        if index in (5, 30):
            for bundle in bundles.values():
                assert same_graph(out / f"{bundle.name}.graphml", bundle)
    for bundle in bundles.values():
        assert same_graph(out / f"{bundle.name}.graphml", bundle)
    final = {status.name: status for status in watch.statuses}
    assert final["trace-multi-agent"].events == len(lines["multi-agent"])
    assert final["trace-multi-agent"].threads == 2
    assert final["trace-multi-agent"].status == "completed"
    assert "trace-multi-agent: 72 events, 2 threads, completed, last update" in (
        final["trace-multi-agent"].line())
    assert any(status.torn_line for status in seen)


def test_replay_is_not_restarted_when_the_log_grows(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "graphs"
    bundle = empty_bundle(root, "code-mode")
    lines = log_lines("code-mode")
    append(bundle, b"".join(lines[:10]))
    watch = watcher(root, out)
    watch.sync()
    replay_before = watch._bundles[bundle].replay
    append(bundle, b"".join(lines[10:]))
    assert watch.sync() == len(lines) - 10
    assert watch._bundles[bundle].replay is replay_before
    assert watch._bundles[bundle].tail is not None
    assert watch._bundles[bundle].tail.offset == (bundle / "trace.jsonl").stat().st_size
    assert same_graph(out / f"{bundle.name}.graphml", bundle)


def test_truncated_or_replaced_bundles_are_reloaded_from_scratch(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "graphs"
    bundle = empty_bundle(root, "terminal-reuse")
    lines = log_lines("terminal-reuse")
    append(bundle, b"".join(lines))
    notices: list[str] = []
    watch = watcher(root, out, notices=notices)
    watch.sync()
    (bundle / "trace.jsonl").write_bytes(b"".join(lines[:12]))
    watch.sync()
    assert any("truncated: reloading from scratch" in n for n in notices), notices
    assert same_graph(out / f"{bundle.name}.graphml", bundle)
    # Replaced by another trace in the same directory.
    shutil.rmtree(bundle)
    shutil.copytree(BUNDLES / "multi-agent", bundle,
                    ignore=shutil.ignore_patterns("state.json", "*.graphml"))
    watch.sync()
    assert same_graph(out / f"{bundle.name}.graphml", bundle)
    assert watch.statuses[0].events == len(log_lines("multi-agent"))


def test_an_invalid_trace_is_reported_and_skipped_while_others_go_on(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "graphs"
    good = empty_bundle(root, "code-mode", "a-good")
    bad = empty_bundle(root, "terminal-reuse", "b-bad")
    good_lines, bad_lines = log_lines("code-mode"), log_lines("terminal-reuse")
    append(good, b"".join(good_lines[:10]))
    append(bad, b"".join(bad_lines[:10]))
    seen: list[BundleStatus] = []
    watch = watcher(root, out, seen)
    watch.sync()
    written = (out / "b-bad.graphml").read_bytes()
    append(bad, b'{"schema_version":1,"seq":999,"payload":{"type":"no_such_event"}}\n')
    append(bad, b"".join(bad_lines[10:]))
    append(good, b"".join(good_lines[10:]))
    watch.sync()
    status = {s.name: s for s in watch.statuses}
    assert status["b-bad"].status == "invalid"
    assert "line 11" in status["b-bad"].detail and "skipped until replaced" in (
        status["b-bad"].detail)
    assert status["a-good"].events == len(good_lines)
    assert same_graph(out / "a-good.graphml", good)
    # What was written for the valid prefix stays, and nothing more is tried.
    assert (out / "b-bad.graphml").read_bytes() == written
    count = len(seen)
    append(good, b"\n")
    watch.sync()
    assert len(seen) == count
    # A replaced (valid) log is picked up again.
    (bad / "trace.jsonl").write_bytes(b"".join(bad_lines))
    watch.sync()
    assert {s.name: s for s in watch.statuses}["b-bad"].status != "invalid"
    assert same_graph(out / "b-bad.graphml", bad)


def test_auto_dialect_switches_to_upstream_when_the_evidence_appears(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "graphs"
    bundle = empty_bundle(root, "upstream-interrupt")
    notices: list[str] = []
    watch = watcher(root, out, notices=notices)
    for line in log_lines("upstream-interrupt"):
        append(bundle, line)
        watch.sync()
    assert any("dialect upstream" in notice for notice in notices)
    graph = read_graphml(out / f"{bundle.name}.graphml")
    assert graphml_bytes(graph) == graphml_bytes(project(replay(bundle).trace))
    assert replay(bundle).dialect.value == "upstream"


def test_a_bundle_without_a_manifest_yet_waits(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "graphs"
    (root / "trace-early" / "payloads").mkdir(parents=True)
    watch = watcher(root, out)
    assert watch.sync() == 0 and watch.statuses == []
    bundle = empty_bundle(root, "compaction", "trace-late")
    (bundle / "trace.jsonl").unlink()
    watch.sync()
    assert watch.statuses[0].events == 0
    append(bundle, b"".join(log_lines("compaction")))
    watch.sync()
    assert same_graph(out / "trace-late.graphml", bundle)


# --- the command ------------------------------------------------------------------------------


def test_watch_command_needs_one_target(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["watch", str(tmp_path)])
    assert result.exit_code == 2 and "exactly one of --neo4j" in result.stderr
    result = CliRunner().invoke(app, ["watch", str(tmp_path / "missing"), "--graphml-dir",
                                      str(tmp_path / "g"), "--idle-exit", "0"])
    assert result.exit_code == 2 and "no such directory" in result.stderr


def test_watch_command_prints_a_status_line_per_bundle(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "graphs"
    for name in ("code-mode", "multi-agent"):
        empty_bundle(root, name)
        append(root / f"trace-{name}", b"".join(log_lines(name)))
    result = CliRunner().invoke(app, ["watch", str(root), "--graphml-dir", str(out),
                                      "--idle-exit", "0.2", "--poll", "--poll-interval", "0.05"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("trace-code-mode: 42 events, 1 threads, running, last update ")
               for line in lines), lines
    assert any(line.startswith("trace-multi-agent: 72 events, 2 threads, completed")
               for line in lines), lines
    assert same_graph(out / "trace-multi-agent.graphml", root / "trace-multi-agent")


def test_ctrl_c_exits_130_and_leaves_no_partial_file(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "graphs"
    bundle = empty_bundle(root, "multi-agent")
    lines = log_lines("multi-agent")
    append(bundle, b"".join(lines[:5]))
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("tracegraph")), "watch", str(root), "--graphml-dir", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("trace-multi-agent: 5 events"), first
        append(bundle, b"".join(lines[5:]))
        deadline = time.monotonic() + 60
        line = ""
        while not line.startswith("trace-multi-agent: 72 events") and (
                time.monotonic() < deadline):
            line = proc.stdout.readline()
        assert line.startswith("trace-multi-agent: 72 events"), line
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["trace-multi-agent.graphml"]
    assert same_graph(out / "trace-multi-agent.graphml", bundle)


def test_strict_shows_a_log_ending_mid_line_once_the_line_is_complete(tmp_path: Path) -> None:
    root = tmp_path / "root"
    bundle = empty_bundle(root, "terminal-reuse")
    lines = log_lines("terminal-reuse")
    append(bundle, b"".join(lines[:10]) + lines[10][:15])
    strict = Watcher(root, GraphmlSink(tmp_path / "strict"), strict=True)
    lax = Watcher(root, GraphmlSink(tmp_path / "lax"))
    strict.sync()
    lax.sync()
    graph_file = f"{bundle.name}.graphml"
    assert not (tmp_path / "strict" / graph_file).exists()
    assert "line 11 still being written" in strict.statuses[0].detail
    partial = read_graphml(tmp_path / "lax" / graph_file)
    assert [data.get("partial") for _, data in partial.nodes(data=True)
            if data["label"] == "Rollout"] == [True]
    append(bundle, lines[10][15:])
    strict.sync()
    assert same_graph(tmp_path / "strict" / graph_file, bundle)
    assert strict.statuses[0].events == 11 and strict.statuses[0].detail == ""


def test_watch_command_takes_strict_and_limits(tmp_path: Path) -> None:
    root, out = tmp_path / "root", tmp_path / "graphs"
    for name in ("compaction", "multi-agent"):
        append(empty_bundle(root, name), b"".join(log_lines(name)))
    lines = log_lines("code-mode")
    append(empty_bundle(root, "code-mode"), b"".join(lines[:-1]) + lines[-1][:9])
    common = ["watch", str(root), "--graphml-dir", str(out), "--idle-exit", "0.2", "--poll",
              "--poll-interval", "0.05"]
    events = len(log_lines("compaction"))
    assert len(log_lines("multi-agent")) > events > len(lines)
    result = CliRunner().invoke(app, [*common, "--strict", "--limit", f"events={events}"])
    assert result.exit_code == 0, result.output
    status = {line.split(":")[0]: line for line in result.stdout.splitlines()}
    assert "invalid" in status["trace-multi-agent"] and "events" in status["trace-multi-agent"]
    assert "line 42 still being written" in status["trace-code-mode"]
    assert sorted(p.name for p in out.iterdir()) == ["trace-compaction.graphml"]
    assert same_graph(out / "trace-compaction.graphml", root / "trace-compaction")
    result = CliRunner().invoke(app, [*common, "--limit", "events=lots"])
    assert result.exit_code == 2 and "events" in result.stderr
