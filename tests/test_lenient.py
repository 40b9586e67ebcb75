"""--lenient: a bundle from a newer Codex still gives most of its graph, with an account.

Unknown event types are skipped, unknown model item types become opaque
conversation items in their positions; both are listed once per type with
their count and first location, and the Rollout node records them. Without
--lenient each is a one-line error that names the type and mentions --lenient.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tracegraph.cli import app
from tracegraph.errors import TracegraphError
from tracegraph.graph import project
from tracegraph.graph.schema import Label
from tracegraph.reducer import replay

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
Json = dict[str, Any]


def _made_up(bundle: Path) -> Path:
    """terminal-reuse with two made-up event types and two made-up model item types."""
    shutil.copytree(EXAMPLES / "terminal-reuse", bundle)
    (bundle / "state.json").unlink()
    lines = (bundle / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    requests = [e for e in events if e["payload"]["type"] == "inference_started"]
    # The first request gains an unknown item at index 1, the second one at its end.
    for ref, position, item in (
        (requests[0]["payload"]["request_payload"], 1,
         {"type": "workspace_snapshot", "files": ["src/lib.rs"]}),
        (requests[1]["payload"]["request_payload"], None,
         {"type": "memory_note", "role": "developer", "text": "prefers pytest"}),
    ):
        path = bundle / ref["path"]
        body = json.loads(path.read_text(encoding="utf-8"))
        body["input"].insert(len(body["input"]) if position is None else position, item)
        path.write_text(json.dumps(body, indent=2), encoding="utf-8")
    out: list[str] = []
    for index, event in enumerate(events):
        out.append(json.dumps(event))
        if index in (3, 9, 12):
            kind = "inference_first_delta" if index != 9 else "sandbox_escalation"
            out.append(json.dumps({**event, "payload": {"type": kind, "detail": "x"}}))
    (bundle / "trace.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")
    return bundle


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_lenient_keeps_unknown_items_in_position(tmp_path: Path) -> None:
    bundle = _made_up(tmp_path / "bundle")
    original = replay(EXAMPLES / "terminal-reuse").trace
    result = replay(bundle, lenient=True)
    trace = result.trace
    first = next(iter(trace.inference_calls.values()))
    request_ref = first.raw_request_payload_id
    body = json.loads((bundle / trace.raw_payloads[request_ref].path).read_text())
    # One request item per input item: positions line up with the payload.
    assert len(first.request_item_ids) == len(body["input"])
    opaque = trace.conversation_items[first.request_item_ids[1]]
    assert opaque.kind.value == "opaque"
    assert opaque.body.model_dump(mode="json") == {"parts": [
        {"type": "payload_ref", "label": "workspace_snapshot", "raw_payload_id": request_ref}]}
    second = list(trace.inference_calls.values())[1]
    last = trace.conversation_items[second.request_item_ids[-1]]
    assert (last.kind.value, last.role.value) == ("opaque", "developer")
    # Everything else reduces as before: the same tools, terminals and operations.
    assert trace.tool_calls.keys() == original.tool_calls.keys()
    assert trace.terminal_operations.keys() == original.terminal_operations.keys()
    assert len(trace.conversation_items) == len(original.conversation_items) + 2


def test_lenient_lists_each_unknown_type_once(tmp_path: Path) -> None:
    bundle = _made_up(tmp_path / "bundle")
    result = replay(bundle, lenient=True)
    summary = [(u.kind, u.type, u.count, u.first_line) for u in result.unknown]
    assert summary == [
        ("event", "inference_first_delta", 2, 5),
        ("event", "sandbox_escalation", 1, 12),
        ("model_item", "memory_note", 1, 13),
        ("model_item", "workspace_snapshot", 1, 7),
    ]
    first = result.unknown[3]
    assert (first.first_seq, first.first_payload) == (6, "raw_payload:4")
    # Its payload is the request that carried it.
    started = (tmp_path / "bundle" / "trace.jsonl").read_text().splitlines()[6]
    assert json.loads(started)["payload"]["request_payload"]["raw_payload_id"] == "raw_payload:4"
    # The Rollout node records it.
    graph = project(result.trace)
    rollout = next(data for _, data in graph.nodes(data=True)
                   if data["label"] == Label.ROLLOUT.value)
    assert rollout["unknown_types"] == [
        "event inference_first_delta x2", "event sandbox_escalation x1",
        "model_item memory_note x1", "model_item workspace_snapshot x1"]


def test_understood_bundle_has_no_unknown_types() -> None:
    result = replay(EXAMPLES / "terminal-reuse", lenient=True)
    assert result.unknown == ()
    graph = project(result.trace)
    assert all("unknown_types" not in data for _, data in graph.nodes(data=True))


def test_without_lenient_unknown_types_are_one_line_errors(tmp_path: Path) -> None:
    bundle = _made_up(tmp_path / "bundle")
    with pytest.raises(TracegraphError) as info:
        replay(bundle)
    message = str(info.value)
    assert "unknown variant `inference_first_delta`" in message and "--lenient" in message
    # With the events gone, the first unknown model item is the error.
    lines = [line for line in (bundle / "trace.jsonl").read_text().splitlines()
             if "inference_first_delta" not in line and "sandbox_escalation" not in line]
    (bundle / "trace.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(TracegraphError) as info:
        replay(bundle)
    message = str(info.value)
    assert "unsupported model item type workspace_snapshot" in message
    assert "--lenient" in message and "\n" not in message
    code, _, err = _cli("validate", str(bundle))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "workspace_snapshot" in err and "--lenient" in err


def test_validate_lenient_reports_count_and_first_location(tmp_path: Path) -> None:
    bundle = _made_up(tmp_path / "bundle")
    code, out, err = _cli("validate", str(bundle), "--lenient")
    assert code == 0, err
    assert "not understood" in out
    rows = [line for line in out.splitlines() if "inference_first_delta" in line
            or "workspace_snapshot" in line]
    assert any("event" in row and " 2 " in row and "line 5, seq 4" in row for row in rows)
    assert any("model_item" in row and " 1 " in row and "line 7, seq 6" in row for row in rows)
    assert "raw_payload:4" in out
    warnings = [line for line in err.splitlines() if "warning:" in line]
    assert len(warnings) == 4  # once per type, not once per occurrence


# --- a known event with a variant the dialect does not know (a fork's requester) ------


def _fork_requesters(bundle: Path, source: str = "multi-agent",
                     tag: str = "continuity_diagnostic") -> Path:
    """``source`` with every model requester of a tool call replaced by ``tag``, as a fork
    of Codex writes for tool calls its continuity diagnostics make (upstream-delta-2.md:
    "tolerate, do not implement")."""
    shutil.copytree(EXAMPLES / source, bundle)
    (bundle / "state.json").unlink()
    log = bundle / "trace.jsonl"
    text = log.read_text(encoding="utf-8")
    assert '"requester":{"type":"model"}' in text
    log.write_text(text.replace('"requester":{"type":"model"}',
                                '"requester":' + json.dumps({"type": tag}, separators=(",", ":"))),
                  encoding="utf-8")
    return bundle


def _tool_call_ids(bundle: Path) -> set[str]:
    return {json.loads(line)["payload"]["tool_call_id"]
            for line in (bundle / "trace.jsonl").read_text().splitlines()
            if '"type":"tool_call_started"' in line}


def test_without_lenient_an_unknown_variant_is_the_references_error(tmp_path: Path) -> None:
    bundle = _fork_requesters(tmp_path / "bundle", "compaction")
    with pytest.raises(TracegraphError) as info:
        replay(bundle)
    # Read off ../shared/tools/reference-reduce for this bundle.
    assert str(info.value).endswith(
        "line 8 seq 8: parse trace event line 8: unknown variant `continuity_diagnostic`, "
        "expected `model` or `code_cell` at line 1 column 778 (in `payload.requester`)")


def test_lenient_skips_an_unknown_variant_and_leaves_out_what_needs_it(
        tmp_path: Path) -> None:
    bundle = _fork_requesters(tmp_path / "bundle")
    original = replay(EXAMPLES / "multi-agent").trace
    skipped = _tool_call_ids(bundle)
    assert len(skipped) == 7
    result = replay(bundle, lenient=True)
    trace = result.trace
    assert [(u.kind, u.type, u.variant, u.count, u.first_line) for u in result.unknown] == [
        ("variant", "tool_call_started", ("requester", "continuity_diagnostic"), 7, 8)]
    # Every later event naming one of those tool calls is left out, found by its id in
    # one pass: 21 of them, more than the passes a missing payload may take.
    left_out = result.left_out_events
    lines = (bundle / "trace.jsonl").read_text().splitlines()
    naming = [number for number, line in enumerate(lines, 1)
              if '"type":"tool_call_started"' not in line
              and any(f'"tool_call_id":"{call}"' in line for call in skipped)]
    assert [event.line for event in left_out] == naming and len(naming) == 21
    assert {event.reason for event in left_out} == {"needs an event skipped before it"}
    assert not result.partial and not trace.partial  # not a bundle caught mid-write
    # The rest reduces as before: the threads, the conversation, the inferences.
    assert trace.tool_calls == {}
    assert trace.threads.keys() == original.threads.keys()
    assert trace.conversation_items.keys() == original.conversation_items.keys()
    assert trace.inference_calls.keys() == original.inference_calls.keys()
    rollout = next(data for _, data in project(trace).nodes(data=True)
                   if data["label"] == Label.ROLLOUT.value)
    assert rollout["unknown_types"] == [
        "variant tool_call_started.requester:continuity_diagnostic x7"]


def test_lenient_says_once_what_it_skipped_and_lists_ten_left_out(tmp_path: Path) -> None:
    bundle = _fork_requesters(tmp_path / "bundle")
    code, out, err = _cli("validate", str(bundle), "--lenient")
    assert code == 0, err
    lines = err.splitlines()
    assert f"{bundle}: warning: left out 21 event(s) because of an event skipped before them:" \
        in lines
    assert sum(line.startswith("  left out line ") for line in lines) == 10
    assert "  ... and 11 more" in lines
    assert (f"{bundle}: warning: skipped tool_call_started events with an unknown requester "
            "variant continuity_diagnostic x7 (first at line 8, seq 8)") in lines
    # The table folds a long type onto more lines rather than cutting its end off.
    row = [line for line in out.splitlines() if line.startswith("│ variant ")]
    assert len(row) == 1 and "line 8, seq 8" in row[0]
    assert "tool_call_started.requester:continuity_diagnostic" in "".join(
        line.split("│")[2].strip() for line in out.splitlines()
        if line.startswith("│") and line.count("│") == 5)


def test_lenient_withholds_an_unknown_tag_that_is_not_a_name(tmp_path: Path) -> None:
    secret = "sk-live ask the user for the key"
    bundle = _fork_requesters(tmp_path / "bundle", "compaction", tag=secret)
    code, out, err = _cli("validate", str(bundle), "--lenient")
    assert code == 0, err
    assert secret not in out + err and "sk-live" not in out + err
    assert "unknown requester variant <string of 32 characters> x3" in err


def test_watching_leaves_out_what_an_unknown_variant_skipped_as_a_replay_does(
        tmp_path: Path) -> None:
    from tracegraph.watch import IncrementalReplay

    bundle = _fork_requesters(tmp_path / "bundle")
    lines = (bundle / "trace.jsonl").read_bytes().splitlines()
    full = replay(bundle, lenient=True)
    (bundle / "trace.jsonl").write_bytes(b"")
    incremental = IncrementalReplay(bundle, dialect=full.dialect, lenient=True)
    for number, line in enumerate(lines, start=1):
        incremental.apply(number, line)
    assert incremental.snapshot().trace.to_state_json() == full.trace.to_state_json()


def test_lenient_skips_an_event_with_two_unknown_variants_naming_the_first(
        tmp_path: Path) -> None:
    bundle = _fork_requesters(tmp_path / "bundle", "compaction")
    log = bundle / "trace.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines()
    event = json.loads(lines[7])
    event["payload"]["kind"] = {"type": "fork_only_kind"}
    lines[7] = json.dumps(event, separators=(",", ":"))
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    unknown = replay(bundle, lenient=True).unknown
    assert [(u.kind, u.variant, u.count) for u in unknown] == [
        ("variant", ("requester", "continuity_diagnostic"), 3)]
    # An unknown tag next to a value of the wrong type is an error even so.
    event["payload"]["tool_call_id"] = 7
    lines[7] = json.dumps(event, separators=(",", ":"))
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TracegraphError, match="line 8 seq 8"):
        replay(bundle, lenient=True)


def test_lenient_skips_a_payload_reference_of_an_unknown_kind(tmp_path: Path) -> None:
    """A payload reference's ``kind`` is the other tagged shape (adjacently tagged, unit
    variants only): a fork's new kind of raw payload skips its event the same way."""
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLES / "compaction", bundle)
    (bundle / "state.json").unlink()
    log = bundle / "trace.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines()
    assert '"type":"inference_started"' in lines[5]
    lines[5] = lines[5].replace('"kind":{"type":"inference_request"}',
                                '"kind":{"type":"prompt_assembly"}', 1)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(TracegraphError) as info:
        replay(bundle)
    # Read off ../shared/tools/reference-reduce for this bundle.
    assert ("line 6 seq 6: parse trace event line 6: unknown variant `prompt_assembly`, "
            "expected one of `inference_request`, `inference_response`, ") in str(info.value)
    assert "`agent_result` at line 1 column 558" in str(info.value)
    result = replay(bundle, lenient=True)
    assert [(u.kind, u.type, u.variant) for u in result.unknown] == [
        ("variant", "inference_started", ("request_payload.kind", "prompt_assembly"))]
    # Its completion names its id; the next request continues its response, so it fails
    # without it and is left out by another pass.
    assert [(e.line, e.event_type) for e in result.left_out_events] == [
        (7, "inference_completed"), (12, "inference_started"), (13, "inference_completed")]
    assert "inference:1" not in result.trace.inference_calls


def test_lenient_leaves_out_a_skipped_threads_events_in_one_pass(tmp_path: Path) -> None:
    """A thread whose start is skipped takes every event in it along (they name it in
    their envelope), found by its id rather than by one more pass each."""
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLES / "terminal-reuse", bundle)
    (bundle / "state.json").unlink()
    log = bundle / "trace.jsonl"
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert events[1]["payload"]["type"] == "thread_started"
    thread_id = events[1]["payload"]["thread_id"]
    events[1]["payload"]["metadata_payload"]["kind"] = {"type": "fork_only_kind"}
    log.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events),
                   encoding="utf-8")
    result = replay(bundle, lenient=True)
    # In its envelope, or in the payload (its end).
    in_thread = [number for number, event in enumerate(events, 1) if number != 2 and
                 thread_id in (event.get("thread_id"), event["payload"].get("thread_id"))]
    assert len(in_thread) > 16  # more than the passes a missing payload may take
    assert [event.line for event in result.left_out_events] == in_thread
    assert {event.reason for event in result.left_out_events} == {
        "needs an event skipped before it"}
    assert result.trace.threads == {}
