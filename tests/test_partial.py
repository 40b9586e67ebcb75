"""Bundles caught mid-write: an unfinished final line, missing trailing payloads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import reference_reduce
from tracegraph.cli import app
from tracegraph.errors import TraceError
from tracegraph.graph import Label, load_graph, read_graphml
from tracegraph.reducer import replay

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
BUNDLES = sorted(path.name for path in EXAMPLES.iterdir())


def copy_bundle(name: str, target: Path) -> Path:
    shutil.copytree(EXAMPLES / name, target)
    (target / "state.json").unlink()
    return target


def last_line_span(log: bytes) -> tuple[int, int]:
    """Start offset of the last line, and its length without the newline."""
    body = log[:-1] if log.endswith(b"\n") else log
    start = body.rfind(b"\n") + 1
    return start, len(body) - start


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("name", BUNDLES)
def test_cut_at_every_byte_of_the_last_line(name: str, tmp_path: Path) -> None:
    """Each cut loads exactly the events before the last line; the whole line
    without its newline is a complete record and loads too."""
    bundle = copy_bundle(name, tmp_path / name)
    log_path = bundle / "trace.jsonl"
    log = log_path.read_bytes()
    start, length = last_line_span(log)
    full = replay(bundle).trace.to_state_json()
    log_path.write_bytes(log[:start])
    before = replay(bundle)
    assert not before.partial and before.torn_line is None
    expected = before.trace.to_state_json()
    assert expected != full
    line_number = log[:start].count(b"\n") + 1
    for cut in range(1, length + 1):
        log_path.write_bytes(log[: start + cut])
        result = replay(bundle)
        if cut == length:
            assert result.torn_line is None and not result.partial, cut
            assert result.trace.to_state_json() == full, cut
            continue
        assert result.torn_line is not None, cut
        assert result.torn_line.line == line_number and result.torn_line.size == cut
        assert result.partial and result.trace.partial
        assert result.trace.to_state_json() == expected, f"cut {cut} of {length}"
        if cut % 25 == 1:
            with pytest.raises(TraceError, match=f"line {line_number}"):
                replay(bundle, strict=True)


@pytest.fixture
def torn(tmp_path: Path) -> Path:
    """terminal-reuse with its last 40 bytes cut off, as in the issue."""
    bundle = copy_bundle("terminal-reuse", tmp_path / "torn")
    log = (bundle / "trace.jsonl").read_bytes()
    (bundle / "trace.jsonl").write_bytes(log[:-40])
    return bundle


@pytest.mark.parametrize("command", [
    ["reduce"], ["validate"], ["load"], ["export", "--graphml", "{tmp}/out.graphml"],
    ["query", "agent-tree", "--bundle"],
])
def test_commands_reduce_the_complete_events_and_say_so(command: list[str], torn: Path,
                                                        tmp_path: Path) -> None:
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    code, _, err = run(*args, str(torn)) if command[0] != "export" else run(
        args[0], str(torn), *args[1:])
    assert code == 0, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "line 41 of trace.jsonl is incomplete" in lines[0] and "left out" in lines[0]
    # --strict keeps the reference's error.
    strict = [*args, str(torn), "--strict"] if command[0] != "export" else [
        args[0], str(torn), *args[1:], "--strict"]
    code, _, err = run(*strict)
    assert code == 2
    assert err.startswith("error: ") and "line 41: parse trace event line 41" in err


def test_rollout_node_records_partial(torn: Path, tmp_path: Path) -> None:
    graph = load_graph(torn)
    (rollout,) = [attrs for _, attrs in graph.nodes(data=True)
                  if attrs["label"] == Label.ROLLOUT.value]
    assert rollout["partial"] is True
    code, _, _ = run("load", str(torn), "-o", str(tmp_path / "g.graphml"))
    assert code == 0
    (back,) = [attrs for _, attrs in read_graphml(tmp_path / "g.graphml").nodes(data=True)
               if attrs["label"] == Label.ROLLOUT.value]
    assert back["partial"] is True
    whole = load_graph(EXAMPLES / "terminal-reuse")
    assert all(attrs["partial"] is False for _, attrs in whole.nodes(data=True)
               if attrs["label"] == Label.ROLLOUT.value)


def test_strict_matches_the_reference(torn: Path) -> None:
    reference = reference_reduce(torn)
    if reference is None:
        pytest.skip("reference reducer binary not on this machine")
    assert isinstance(reference, str), "the reference accepted a torn bundle"
    with pytest.raises(TraceError):
        replay(torn, strict=True)


def test_bad_lines_that_are_not_the_unfinished_end_stay_errors(tmp_path: Path) -> None:
    bundle = copy_bundle("terminal-reuse", tmp_path / "bundle")
    log = (bundle / "trace.jsonl").read_bytes()
    lines = log.split(b"\n")
    # A cut line in the middle (it has its newline).
    (bundle / "trace.jsonl").write_bytes(b"\n".join([*lines[:10], lines[10][:30], *lines[11:]]))
    code, _, err = run("validate", str(bundle))
    assert code == 2 and "line 11" in err
    # The last line cut short but ended with a newline: written whole, so bad.
    start, length = last_line_span(log)
    (bundle / "trace.jsonl").write_bytes(log[: start + length // 2] + b"\n")
    code, _, err = run("validate", str(bundle))
    assert code == 2 and "line 41" in err
    # A complete final record with no newline is an event like any other.
    (bundle / "trace.jsonl").write_bytes(log.rstrip(b"\n"))
    code, _, err = run("validate", str(bundle))
    assert code == 0 and err == ""
    # A final line that is JSON but not a valid event is an error, not unfinished.
    (bundle / "trace.jsonl").write_bytes(log[:start] + b'{"seq": "x"}')
    code, _, err = run("validate", str(bundle))
    assert code == 2 and "line 41" in err


def _payload_refs(event: dict[str, object]) -> list[str]:
    payload = event["payload"]
    assert isinstance(payload, dict)
    return [value["path"] for value in payload.values()
            if isinstance(value, dict) and "raw_payload_id" in value]


@pytest.mark.parametrize(("ending", "words"), [
    # Words read off ../shared/tools/reference-reduce (line 42 is the appended one).
    (b"not json", "expected ident at line 1 column 2"),
    (b'{"seq":1} {"seq":2', "missing field `schema_version` at line 1 column 9"),
    ("\u00ff".encode(), "expected value at line 1 column 1"),
])
def test_a_final_line_that_is_no_record_cut_short_stays_an_error(
        ending: bytes, words: str, tmp_path: Path) -> None:
    """Only the start of a JSON text (it stops mid-value) is a record still being
    written; other bytes after the last newline are a bad line, as for the reference."""
    bundle = copy_bundle("terminal-reuse", tmp_path / "bundle")
    log = bundle / "trace.jsonl"
    assert log.read_bytes().count(b"\n") == 41
    log.write_bytes(log.read_bytes() + ending)
    code, _, err = run("validate", str(bundle))
    assert code == 2
    assert err.strip().endswith(f"line 42: parse trace event line 42: {words}")
    expected = reference_reduce(bundle)
    if expected is not None:
        assert expected == f"ERROR: parse trace event line 42: {words}"


def test_a_final_record_cut_inside_a_character_is_still_being_written(tmp_path: Path) -> None:
    bundle = copy_bundle("terminal-reuse", tmp_path / "bundle")
    log = bundle / "trace.jsonl"
    complete = replay(bundle).trace.to_state_json()
    # The first byte of a two-byte character, mid-string: a write cut there.
    log.write_bytes(log.read_bytes() + '{"schema_version":1,"seq":42,"note":"\u00e9'.encode()[:-1])
    result = replay(bundle)
    assert result.torn_line is not None and result.torn_line.line == 42
    assert result.partial
    # The complete events, as state.json holds them (partial is not part of it).
    assert result.trace.to_state_json() == complete


def test_a_thread_whose_start_lacks_its_payload_is_left_out_whole(tmp_path: Path) -> None:
    """A child thread's thread_started whose metadata payload is missing: every event
    of that thread is left out with it, found by the thread id in one pass (more
    events than the passes a replay may take one by one), and the parent thread stays."""
    bundle = copy_bundle("multi-agent", tmp_path / "bundle")
    lines = (bundle / "trace.jsonl").read_bytes().splitlines()
    events = [json.loads(line) for line in lines]
    starts = [i for i, event in enumerate(events) if event["payload"]["type"] == "thread_started"]
    child = events[starts[-1]]["payload"]
    (bundle / child["metadata_payload"]["path"]).unlink()
    result = replay(bundle, lenient=True)
    left_out = result.left_out_events
    assert (left_out[0].line, left_out[0].reason) == (
        starts[-1] + 1, f"missing payload {child['metadata_payload']['raw_payload_id']}")
    in_child = [number for number, event in enumerate(events, start=1)
                if number != starts[-1] + 1 and child["thread_id"] in (
                    event.get("thread_id"), event["payload"].get("thread_id"))]
    assert len(in_child) > 16
    assert [event.line for event in left_out[1:]] == in_child
    assert {event.reason for event in left_out[1:]} == {"needs an event left out before it"}
    assert list(result.trace.threads) == [events[starts[0]]["payload"]["thread_id"]]
    assert result.partial
    # Exactly what a bundle without those events reduces to.
    dropped = {event.line for event in left_out}
    expected = copy_bundle("multi-agent", tmp_path / "expected")
    (expected / "trace.jsonl").write_bytes(b"\n".join(
        line for number, line in enumerate(lines, start=1) if number not in dropped) + b"\n")
    assert result.trace.to_state_json() == replay(expected).trace.to_state_json()


def test_missing_trailing_payloads_under_lenient(tmp_path: Path) -> None:
    bundle = copy_bundle("terminal-reuse", tmp_path / "bundle")
    lines = (bundle / "trace.jsonl").read_bytes().splitlines()
    events = [json.loads(line) for line in lines]
    # The last events whose payloads the reducer reads: the final inference.
    index = max(i for i, event in enumerate(events)
                if event["payload"]["type"] == "inference_started")
    for path in _payload_refs(events[index]):
        (bundle / path).unlink()
    code, _, err = run("validate", str(bundle))
    assert code == 2 and "No such file" in err and f"line {index + 1}" in err
    code, _, err = run("validate", str(bundle), "--lenient")
    assert code == 0, err
    assert "left out 2 event(s) whose payload files are missing" in err
    assert f"left out line {index + 1} (seq {events[index]['seq']}): inference_started: " \
           "missing payload" in err
    assert "needs an event left out before it" in err
    result = replay(bundle, lenient=True)
    assert result.partial and result.trace.partial
    left_out = {event.line for event in result.left_out_events}
    # Exactly what a bundle without those events reduces to.
    kept = [line for number, line in enumerate(lines, start=1) if number not in left_out]
    expected = copy_bundle("terminal-reuse", tmp_path / "expected")
    (expected / "trace.jsonl").write_bytes(b"\n".join(kept) + b"\n")
    assert result.trace.to_state_json() == replay(expected).trace.to_state_json()
