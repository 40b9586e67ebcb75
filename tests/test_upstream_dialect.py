"""The ``upstream`` reducer dialect, rule by rule from ``upstream-delta.md``.

Every expected value below is worked out by hand from the delta's text (the
section is named in each test's docstring), not copied from tracegraph's
output. Where the delta cites an upstream test, the test here has its name.

Seed-format bundles written here are also checked against the reference
reducer (``../shared/tools/reference-reduce``) when it is present: the seed
dialect must match its bytes, and fail where it fails.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    AGENT_ROOT_THREAD_ID,
    OPEN_WRITERS,
    ROOT_THREAD_ID,
    append_completed_inference,
    create_started_agent_writer,
    create_started_writer,
    expect_replay_error,
    fake_clock,
    generic_summary,
    message,
    reference_reduce,
    start_thread,
    start_turn,
    start_turn_for_thread,
    trace_context,
    trace_context_for_thread,
)
from tests.support import replay as seed_replay_checked
from tracegraph.authoring import reference_reducer, run_reference
from tracegraph.bundle.reader import SkippedEvent
from tracegraph.bundle.writer import TraceWriter
from tracegraph.errors import TraceError, TracegraphError
from tracegraph.model import RolloutTrace
from tracegraph.model.dialect import Dialect
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.rollout import load_state
from tracegraph.reducer import replay

CHILD_THREAD_ID = "019d0000-0000-7000-8000-000000000002"
CHILD_PATH = "/root/reviewer"
SPAWN_EDGE_ID = f"edge:spawn:{AGENT_ROOT_THREAD_ID}:{CHILD_THREAD_ID}"
MCP_CALL_ID = "018f6f0f-4981-72c0-b041-e7f77db64ed2"

Json = dict[str, Any]


# --- bundle helpers ----------------------------------------------------------


def upstream_writer(
    bundle: Path, thread_id: str = ROOT_THREAD_ID, agent_path: str = "/root"
) -> TraceWriter:
    """A writer of the newer format with the deterministic clock, root thread started."""
    writer = TraceWriter.create(
        bundle, "trace-1", "rollout-1", thread_id, clock=fake_clock(), dialect="upstream"
    )
    OPEN_WRITERS.append(writer)
    start_thread(writer, thread_id, agent_path)
    return writer


def start_inference(
    writer: TraceWriter,
    inference_id: str,
    turn_id: str,
    input_items: list[Any],
    *,
    thread_id: str = ROOT_THREAD_ID,
    previous_response_id: str | None = None,
    mode: Json | None = None,
) -> RawPayloadRef:
    body: Json = {"input": input_items}
    if previous_response_id is not None:
        body["previous_response_id"] = previous_response_id
    request = writer.write_json_payload("inference_request", body)
    payload: Json = {
        "type": "inference_started",
        "inference_call_id": inference_id,
        "thread_id": thread_id,
        "codex_turn_id": turn_id,
        "model": "gpt-test",
        "provider_name": "test-provider",
        "request_payload": request,
    }
    if mode is not None:
        payload["request_input_mode"] = mode
    writer.append(payload, **trace_context_for_thread(thread_id, turn_id))
    return request


def complete_inference(
    writer: TraceWriter,
    inference_id: str,
    output_items: list[Any],
    *,
    response_id: str | None,
    upstream_request_id: str | None = None,
    token_usage: Json | None = None,
) -> tuple[Any, RawPayloadRef]:
    response = writer.write_json_payload(
        "inference_response",
        {
            "response_id": response_id,
            "upstream_request_id": upstream_request_id,
            "token_usage": token_usage,
            "output_items": output_items,
        },
    )
    event = writer.append(
        {
            "type": "inference_completed",
            "inference_call_id": inference_id,
            "response_id": response_id,
            "upstream_request_id": upstream_request_id,
            "response_payload": response,
        }
    )
    return event, response


def partial_response(writer: TraceWriter, output_items: list[Any]) -> RawPayloadRef:
    """Partial payloads of failed or cancelled streams have no response id or usage (§1.8)."""
    return writer.write_json_payload(
        "inference_response",
        {"response_id": None, "upstream_request_id": None, "token_usage": None,
         "output_items": output_items},
    )


def cancel_inference(
    writer: TraceWriter,
    inference_id: str,
    *,
    partial: RawPayloadRef | None = None,
    upstream_request_id: str | None = None,
    reason: str = "turn interrupted",
) -> Any:
    return writer.append(
        {
            "type": "inference_cancelled",
            "inference_call_id": inference_id,
            "upstream_request_id": upstream_request_id,
            "reason": reason,
            "partial_response_payload": partial,
        }
    )


def fail_inference(
    writer: TraceWriter,
    inference_id: str,
    *,
    partial: RawPayloadRef | None = None,
    upstream_request_id: str | None = None,
) -> Any:
    return writer.append(
        {
            "type": "inference_failed",
            "inference_call_id": inference_id,
            "upstream_request_id": upstream_request_id,
            "error": "stream disconnected before completion",
            "partial_response_payload": partial,
        }
    )


def end_turn(
    writer: TraceWriter, turn_id: str, status: str, thread_id: str = ROOT_THREAD_ID
) -> Any:
    return writer.append(
        {"type": "codex_turn_ended", "codex_turn_id": turn_id, "status": status},
        **trace_context_for_thread(thread_id, turn_id),
    )


def assistant(text: str) -> Json:
    return {"type": "message", "role": "assistant",
            "content": [{"type": "output_text", "text": text}]}


def agent_message(author: str, recipient: str, *content: Json) -> Json:
    return {"type": "agent_message", "author": author, "recipient": recipient,
            "content": list(content)}


def input_text(text: str) -> Json:
    return {"type": "input_text", "text": text}


def encrypted(value: str) -> Json:
    return {"type": "encrypted_content", "encrypted_content": value}


def inter_agent_text(
    author: str, recipient: str, content: str, *, encrypted_content: str | None = None
) -> str:
    """An InterAgentCommunication as the mailbox serializes it into an assistant message."""
    value: Json = {"author": author, "recipient": recipient, "other_recipients": [],
                   "content": content, "trigger_turn": False}
    if encrypted_content is not None:
        value["encrypted_content"] = encrypted_content
    return json.dumps(value)


def reasoning(
    *, text: str | None = None, summary: str | None = None, blob: str = "encoded-reasoning"
) -> Json:
    item: Json = {"type": "reasoning"}
    if text is not None:
        item["content"] = [{"type": "text", "text": text}]
    item["summary"] = [{"type": "summary_text", "text": summary}] if summary is not None else []
    item["encrypted_content"] = blob
    return item


def reduce(bundle: Path, dialect: str = "upstream") -> RolloutTrace:
    return replay(bundle, dialect=dialect).trace


def reduce_error(bundle: Path, dialect: str = "upstream") -> TraceError:
    with pytest.raises(TraceError) as info:
        replay(bundle, dialect=dialect)
    return info.value


def state(trace: RolloutTrace) -> Json:
    value: Json = json.loads(trace.to_state_json())
    return value


def parts(trace: RolloutTrace, item_id: str) -> list[Json]:
    return [part.model_dump(mode="json") for part in trace.conversation_items[item_id].body.parts]


def event_lines(bundle: Path) -> list[Json]:
    text = (bundle / "trace.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def rewrite_events(bundle: Path, events: list[Json]) -> None:
    """Rewrite ``trace.jsonl`` (compact, one event a line), renumbering ``seq`` from 1."""
    lines = []
    for seq, event in enumerate(events, start=1):
        event["seq"] = seq
        lines.append(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
    (bundle / "trace.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def patch_payloads(bundle: Path, event_type: str, patch: Callable[[Json], None]) -> None:
    events = event_lines(bundle)
    for event in events:
        if event["payload"]["type"] == event_type:
            patch(event["payload"])
    rewrite_events(bundle, events)


def copy_bundle(bundle: Path, into: Path) -> Path:
    shutil.copytree(bundle, into)
    return into


def keys_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from keys_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys_in(inner)


def reference_state_text(bundle: Path) -> str | None:
    """The reference reducer's state.json bytes, or None when the binary is absent."""
    run = run_reference(bundle, timeout=60)
    if run is None:
        return None
    assert run.ok, f"reference reducer rejected a seed bundle: {run.stderr}"
    return run.state


def assert_seed_matches_reference(bundle: Path) -> RolloutTrace:
    """``replay(dialect="seed")`` must equal the reference reducer byte for byte."""
    trace = reduce(bundle, "seed")
    reference = reference_state_text(bundle)
    if reference is not None:
        assert trace.to_state_json() == reference, "seed dialect differs from the reference"
    return trace


# --- seed-format scenario used by several tests --------------------------------


def write_seed_session(bundle: Path) -> TraceWriter:
    """A seed bundle: full request, completion, a tool call, an incremental follow-up."""
    writer = create_started_writer(bundle)
    start_turn(writer, "turn-1")
    call = {"type": "function_call", "name": "exec_command",
            "arguments": '{"cmd":"ls"}', "call_id": "call-1"}
    append_completed_inference(
        writer, ROOT_THREAD_ID, "turn-1", "inference-1",
        [message("developer", "rules"), message("user", "list files")],
        [{"type": "reasoning", "summary": [{"type": "summary_text", "text": "listing"}],
          "encrypted_content": "blob-1"}, call],
    )
    invocation = writer.write_json_payload(
        "tool_invocation",
        {"tool_name": "exec_command", "tool_namespace": None,
         "payload": {"type": "function", "arguments": '{"cmd":"ls"}'}},
    )
    writer.append(
        {"type": "tool_call_started", "tool_call_id": "call-1", "model_visible_call_id": "call-1",
         "code_mode_runtime_tool_id": None, "requester": {"type": "model"},
         "kind": {"type": "other", "name": "exec_command"},
         "summary": generic_summary("exec_command"), "invocation_payload": invocation},
        **trace_context("turn-1"),
    )
    result = writer.write_json_payload(
        "tool_result",
        {"type": "direct_response",
         "response_item": {"type": "function_call_output", "call_id": "call-1", "output": "a\n"}},
    )
    writer.append(
        {"type": "tool_call_ended", "tool_call_id": "call-1", "status": "completed",
         "result_payload": result},
        **trace_context("turn-1"),
    )
    request = writer.write_json_payload(
        "inference_request",
        {"previous_response_id": "resp-inference-1",
         "input": [{"type": "function_call_output", "call_id": "call-1", "output": "a\n"}]},
    )
    writer.append(
        {"type": "inference_started", "inference_call_id": "inference-2",
         "thread_id": ROOT_THREAD_ID, "codex_turn_id": "turn-1", "model": "gpt-test",
         "provider_name": "test-provider", "request_payload": request},
        **trace_context("turn-1"),
    )
    response = writer.write_json_payload(
        "inference_response",
        {"response_id": "resp-inference-2",
         "token_usage": {"input_tokens": 10, "cached_input_tokens": 0, "output_tokens": 3,
                         "reasoning_output_tokens": 0},
         "output_items": [assistant("one file: a")]},
    )
    writer.append(
        {"type": "inference_completed", "inference_call_id": "inference-2",
         "response_id": "resp-inference-2", "response_payload": response},
        **trace_context("turn-1"),
    )
    end_turn(writer, "turn-1", "completed")
    writer.append({"type": "thread_ended", "thread_id": ROOT_THREAD_ID, "status": "completed"})
    writer.append({"type": "rollout_ended", "status": "completed"})
    return writer


# =============================================================================
# Dialect mechanics
# =============================================================================


def test_auto_picks_seed_without_newer_format_evidence(tmp_path: Path) -> None:
    write_seed_session(tmp_path).close()
    result = replay(tmp_path, dialect="auto")
    assert result.dialect == Dialect.SEED
    assert result.dialect_reason
    assert result.skipped_events == ()
    assert result.trace.to_state_json() == reduce(tmp_path, "seed").to_state_json()


def test_auto_picks_upstream_on_inference_cancelled_event(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    cancel_inference(writer, "inference-1")
    result = replay(tmp_path, dialect="auto")
    assert result.dialect == Dialect.UPSTREAM
    assert "inference_cancelled" in result.dialect_reason


def test_auto_picks_upstream_on_mcp_correlation_event_at_the_end_of_the_log(
    tmp_path: Path,
) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    append_mcp_tool(writer, "call-mcp", {"type": "mcp", "server": "docs", "tool": "search"})
    writer.append({"type": "mcp_tool_call_correlation_assigned", "tool_call_id": "call-mcp",
                   "mcp_call_id": MCP_CALL_ID})
    result = replay(tmp_path, dialect="auto")
    assert result.dialect == Dialect.UPSTREAM
    assert "mcp_tool_call_correlation_assigned" in result.dialect_reason


@pytest.mark.parametrize("terminal", ["inference_completed", "inference_failed"])
def test_auto_picks_upstream_on_upstream_request_id_key_even_when_null(
    tmp_path: Path, terminal: str
) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    if terminal == "inference_completed":
        complete_inference(writer, "inference-1", [], response_id="resp-1")
    else:
        fail_inference(writer, "inference-1")
    line = event_lines(tmp_path)[-1]["payload"]
    assert line["type"] == terminal
    assert "upstream_request_id" in line and line["upstream_request_id"] is None
    result = replay(tmp_path, dialect="auto")
    assert result.dialect == Dialect.UPSTREAM
    assert "upstream_request_id" in result.dialect_reason


def test_auto_picks_upstream_on_request_input_mode_key(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")],
                    mode={"type": "full_snapshot"})
    result = replay(tmp_path, dialect="auto")
    assert result.dialect == Dialect.UPSTREAM
    assert "request_input_mode" in result.dialect_reason


@pytest.mark.parametrize(
    "event_type", ["inference_cancelled", "mcp_tool_call_correlation_assigned"]
)
def test_seed_dialect_rejects_upstream_only_event_types(tmp_path: Path, event_type: str) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    append_mcp_tool(writer, "call-mcp", {"type": "mcp", "server": "docs", "tool": "search"})
    if event_type == "inference_cancelled":
        event = cancel_inference(writer, "inference-1")
    else:
        event = writer.append({"type": "mcp_tool_call_correlation_assigned",
                               "tool_call_id": "call-mcp", "mcp_call_id": MCP_CALL_ID})
    line = len(event_lines(tmp_path))
    err = reduce_error(tmp_path, "seed")
    assert err.seq == event.seq
    assert err.line == line
    text = str(err)
    assert "\n" not in text
    assert f"seq {event.seq}" in text and f"line {line}" in text
    assert event_type in text
    # The reference reducer (the seed) refuses the same bundle.
    reference = reference_reduce(tmp_path)
    if reference is not None:
        assert isinstance(reference, str) and event_type in reference


def test_seed_ignores_malformed_upstream_only_fields_as_serde_would(tmp_path: Path) -> None:
    """§1.1: unknown keys are ignored by the seed's structs, whatever they hold."""
    clean = tmp_path / "clean"
    write_seed_session(clean).close()
    expected = reduce(clean, "seed").to_state_json()
    dirty = copy_bundle(clean, tmp_path / "dirty")

    def garble_completed(payload: Json) -> None:
        payload["upstream_request_id"] = 5

    def garble_started(payload: Json) -> None:
        payload["request_input_mode"] = "not-a-mode"

    patch_payloads(dirty, "inference_completed", garble_completed)
    patch_payloads(dirty, "inference_started", garble_started)
    assert reduce(dirty, "seed").to_state_json() == expected
    assert_seed_matches_reference(dirty)
    # The upstream dialect knows these fields and holds them to their types.
    err = reduce_error(dirty, "upstream")
    assert "request_input_mode" in str(err) or "upstream_request_id" in str(err)


def test_unknown_event_keys_are_ignored_by_both_dialects(tmp_path: Path) -> None:
    """§1.1: no struct denies unknown fields (e.g. Appendix A's optional extras)."""
    writer = upstream_writer(tmp_path / "plain")
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    complete_inference(writer, "inference-1", [assistant("hello")], response_id="resp-1")
    start_inference(writer, "inference-2", "turn-1", [message("user", "again")])
    fail_inference(writer, "inference-2")
    writer.close()
    extra = copy_bundle(tmp_path / "plain", tmp_path / "extra")

    def server_times(payload: Json) -> None:
        payload["server_created_at_unix_ms"] = 1_700_000_000_100
        payload["server_completed_at_unix_ms"] = 1_700_000_000_200

    def error_details(payload: Json) -> None:
        payload.update(http_status_code=503, codex_error_info=None, mapped_error_retryable=True)

    patch_payloads(extra, "inference_completed", server_times)
    patch_payloads(extra, "inference_failed", error_details)
    for dialect in ("upstream", "seed"):
        expected = reduce(tmp_path / "plain", dialect).to_state_json()
        assert reduce(extra, dialect).to_state_json() == expected


def _insert_future_events(bundle: Path, after_type: str) -> list[Json]:
    """Insert two newer-than-upstream events (Appendix A) after the first ``after_type``."""
    events = event_lines(bundle)
    index = next(i for i, e in enumerate(events) if e["payload"]["type"] == after_type)
    anchor = events[index]
    future = [
        {**anchor, "payload": {"type": "inference_response_created",
                               "inference_call_id": "inference-1", "response_id": "resp-1",
                               "server_created_at_unix_ms": 1_700_000_000_500}},
        {**anchor, "payload": {"type": "inference_first_delta",
                               "inference_call_id": "inference-1"}},
    ]
    events[index + 1:index + 1] = future
    rewrite_events(bundle, events)
    return events


def test_strict_mode_rejects_unknown_future_event_type_in_one_line(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    complete_inference(writer, "inference-1", [assistant("hello")], response_id="resp-1")
    _insert_future_events(tmp_path, "inference_started")
    # Lines: 1 thread_started, 2 turn, 3 inference_started, 4 response_created, 5 first_delta.
    for dialect in ("upstream", "seed", "auto"):
        err = reduce_error(tmp_path, dialect)
        assert (err.line, err.seq) == (4, 4)
        text = str(err)
        assert "\n" not in text
        assert "seq 4" in text and "inference_response_created" in text


def test_lenient_skips_unknown_future_event_types_and_reports_each(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    writer = upstream_writer(bundle)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    complete_inference(writer, "inference-1", [assistant("hello")], response_id="resp-1",
                       upstream_request_id="req-1")
    writer.close()
    expected = state(reduce(copy_bundle(bundle, tmp_path / "without")))
    _insert_future_events(bundle, "inference_started")

    result = replay(bundle, dialect="upstream", lenient=True)
    assert result.skipped_events == (
        SkippedEvent(line=4, seq=4, event_type="inference_response_created"),
        SkippedEvent(line=5, seq=5, event_type="inference_first_delta"),
    )
    # Nothing else changes, except that the completion moved from seq 4 to seq 6.
    assert result.trace.inference_calls["inference-1"].execution.ended_seq == 6
    expected["inference_calls"]["inference-1"]["execution"]["ended_seq"] = 6
    assert state(result.trace) == expected


def test_lenient_seed_dialect_skips_upstream_events_it_does_not_know(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    cancelled = cancel_inference(writer, "inference-1", upstream_request_id="req-1")
    turn_end = end_turn(writer, "turn-1", "cancelled")
    result = replay(tmp_path, dialect="seed", lenient=True)
    assert result.skipped_events == (
        SkippedEvent(line=4, seq=cancelled.seq, event_type="inference_cancelled"),
    )
    inference = result.trace.inference_calls["inference-1"]
    # Seed semantics: nothing closed the call (the seed turn end leaves it running).
    assert inference.execution.status == "running"
    assert inference.execution.ended_seq is None
    assert result.trace.codex_turns["turn-1"].execution.ended_seq == turn_end.seq


def test_seed_dialect_output_never_has_upstream_only_keys(tmp_path: Path) -> None:
    """§2: response_id, mcp_call_id and agent_message do not exist in the seed model."""
    write_seed_session(tmp_path / "seed").close()
    writer = upstream_writer(tmp_path / "upstream")
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    complete_inference(writer, "inference-1", [assistant("ok")], response_id="resp-1",
                       upstream_request_id="req-1")
    append_mcp_tool(writer, "call-mcp", {"type": "mcp", "server": "docs", "tool": "search"})
    writer.append({"type": "mcp_tool_call_correlation_assigned", "tool_call_id": "call-mcp",
                   "mcp_call_id": MCP_CALL_ID})
    for trace in (
        assert_seed_matches_reference(tmp_path / "seed"),
        replay(tmp_path / "upstream", dialect="seed", lenient=True).trace,
    ):
        keys = set(keys_in(state(trace)))
        assert not keys & {"response_id", "mcp_call_id", "agent_message"}
        assert trace.inference_calls and trace.tool_calls


def test_seed_bundle_reduced_as_upstream_differs_only_by_the_added_fields(
    tmp_path: Path,
) -> None:
    """§2: the only differences are the new fields and the §2.1 upstream_request_id split."""
    write_seed_session(tmp_path).close()
    seed = state(seed_replay_checked(tmp_path))
    upstream = state(reduce(tmp_path, "upstream"))
    assert upstream != seed
    for call_id, inference in upstream["inference_calls"].items():
        # A seed bundle carries no transport id; the seed kept response.id there.
        assert inference["upstream_request_id"] is None
        assert inference["response_id"] == seed["inference_calls"][call_id]["upstream_request_id"]
        inference["upstream_request_id"] = inference.pop("response_id")
        if inference["usage"] is not None:
            # Read with default 0 (upstream-delta-2.md row 8).
            assert inference["usage"].pop("cache_write_input_tokens") == 0
    for tool_call in upstream["tool_calls"].values():
        assert tool_call.pop("mcp_call_id") is None
    for item in upstream["conversation_items"].values():
        assert "agent_message" not in item
    assert upstream == seed


# =============================================================================
# §1.3 inference_started.request_input_mode
# =============================================================================


def test_request_input_mode_is_written_before_request_payload_and_omitted_when_absent(
    tmp_path: Path,
) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    start_inference(writer, "inference-2", "turn-1", [message("user", "hi")],
                    mode={"type": "full_snapshot"})
    first, second = [e["payload"] for e in event_lines(tmp_path)[2:4]]
    assert list(first) == ["type", "inference_call_id", "thread_id", "codex_turn_id", "model",
                           "provider_name", "request_payload"]
    assert list(second) == ["type", "inference_call_id", "thread_id", "codex_turn_id", "model",
                            "provider_name", "request_input_mode", "request_payload"]
    assert second["request_input_mode"] == {"type": "full_snapshot"}


def test_untraced_prefix_payload_is_registered_after_the_request_payload(
    tmp_path: Path,
) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload(
        "inference_request", {"previous_response_id": "warm-1", "input": [message("user", "b")]}
    )
    prefix = writer.write_json_payload("inference_request", {"input": [message("user", "a")]})
    assert (request.raw_payload_id, prefix.raw_payload_id) == ("raw_payload:1", "raw_payload:2")
    writer.append(
        {"type": "inference_started", "inference_call_id": "inference-1",
         "thread_id": ROOT_THREAD_ID, "codex_turn_id": "turn-1", "model": "gpt-test",
         "provider_name": "test-provider",
         "request_input_mode": {"type": "incremental_with_untraced_prefix",
                                "previous_response_id": "warm-1", "prefix_payload": prefix},
         "request_payload": request},
        **trace_context("turn-1"),
    )
    trace = reduce(tmp_path)
    raw = state(trace)["raw_payloads"]
    assert list(raw) == ["raw_payload:1", "raw_payload:2"]
    assert raw["raw_payload:2"] == {"raw_payload_id": "raw_payload:2",
                                    "kind": {"type": "inference_request"},
                                    "path": "payloads/2.json"}
    assert trace.inference_calls["inference-1"].raw_request_payload_id == "raw_payload:1"


# =============================================================================
# §1.4-1.6 terminal inference events, §1.8 response payload shapes
# =============================================================================


def test_inference_completed_records_response_id_and_transport_request_id(
    tmp_path: Path,
) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    event, response = complete_inference(
        writer, "inference-1", [assistant("hello")], response_id="resp_123",
        upstream_request_id="req_abc",
        token_usage={"input_tokens": 12, "cached_input_tokens": 4, "output_tokens": 5,
                     "reasoning_output_tokens": 2, "total_tokens": 17},
    )
    line = event_lines(tmp_path)[-1]["payload"]
    assert list(line) == ["type", "inference_call_id", "response_id", "upstream_request_id",
                          "response_payload"]
    inference = state(reduce(tmp_path))["inference_calls"]["inference-1"]
    assert inference["execution"] == {
        "started_at_unix_ms": inference["execution"]["started_at_unix_ms"],
        "started_seq": 3,
        "ended_at_unix_ms": event.wall_time_unix_ms,
        "ended_seq": event.seq,
        "status": "completed",
    }
    assert inference["response_id"] == "resp_123"
    assert inference["upstream_request_id"] == "req_abc"
    # total_tokens is ignored (§1.8).
    assert inference["usage"] == {"input_tokens": 12, "cached_input_tokens": 4,
                                  "cache_write_input_tokens": 0, "output_tokens": 5,
                                  "reasoning_output_tokens": 2}
    assert inference["raw_response_payload_id"] == response.raw_payload_id
    assert len(inference["response_item_ids"]) == 1


def test_inference_failed_keeps_transport_id_and_reduces_partial_response(
    tmp_path: Path,
) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    partial = partial_response(writer, [assistant("partial answer")])
    failed = fail_inference(writer, "inference-1", partial=partial,
                            upstream_request_id="req-failed")
    line = event_lines(tmp_path)[-1]["payload"]
    assert list(line) == ["type", "inference_call_id", "upstream_request_id", "error",
                          "partial_response_payload"]
    trace = reduce(tmp_path)
    inference = trace.inference_calls["inference-1"]
    assert inference.execution.status == "failed"
    assert inference.execution.ended_seq == failed.seq
    assert inference.response_id is None
    assert inference.upstream_request_id == "req-failed"
    assert inference.usage is None
    assert inference.raw_response_payload_id == partial.raw_payload_id
    (item_id,) = inference.response_item_ids
    assert parts(trace, item_id) == [{"type": "text", "text": "partial answer"}]
    assert [p.model_dump() for p in trace.conversation_items[item_id].produced_by] == [
        {"type": "inference", "inference_call_id": "inference-1"}
    ]


def test_inference_failed_without_partial_payload(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    fail_inference(writer, "inference-1")
    inference = reduce(tmp_path).inference_calls["inference-1"]
    assert inference.execution.status == "failed"
    assert inference.raw_response_payload_id is None
    assert inference.response_item_ids == []
    assert inference.upstream_request_id is None


def test_cancelled_inference_reduces_partial_response_items(tmp_path: Path) -> None:
    """§1.6 / §3.1 table (upstream test of the same name)."""
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "draft")])
    partial = partial_response(writer, [assistant("partial")])
    cancelled = cancel_inference(writer, "inference-1", partial=partial,
                                 upstream_request_id="req-cancelled", reason="test interruption")
    line = event_lines(tmp_path)[-1]["payload"]
    assert list(line) == ["type", "inference_call_id", "upstream_request_id", "reason",
                          "partial_response_payload"]
    trace = reduce(tmp_path)
    inference = trace.inference_calls["inference-1"]
    assert inference.execution.status == "cancelled"
    assert inference.execution.ended_seq == cancelled.seq
    assert inference.execution.ended_at_unix_ms == cancelled.wall_time_unix_ms
    assert inference.response_id is None
    assert inference.upstream_request_id == "req-cancelled"
    assert inference.raw_response_payload_id == partial.raw_payload_id
    assert partial.raw_payload_id in trace.raw_payloads
    (item_id,) = inference.response_item_ids
    item = trace.conversation_items[item_id]
    assert item.kind == "message"
    assert [p.model_dump() for p in item.produced_by] == [
        {"type": "inference", "inference_call_id": "inference-1"}
    ]
    assert trace.threads[ROOT_THREAD_ID].conversation_item_ids[-1] == item_id


def test_inference_cancelled_without_upstream_request_id_key_reads_as_null(
    tmp_path: Path,
) -> None:
    """§1.6: the intermediate version (f0a216c3) had no upstream_request_id."""
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    cancel_inference(writer, "inference-1", upstream_request_id="dropped")
    patch_payloads(tmp_path, "inference_cancelled", lambda p: p.pop("upstream_request_id"))
    assert "upstream_request_id" not in event_lines(tmp_path)[-1]["payload"]
    inference = reduce(tmp_path).inference_calls["inference-1"]
    assert inference.execution.status == "cancelled"
    assert inference.upstream_request_id is None


# =============================================================================
# §1.7 / §3.8 MCP correlation
# =============================================================================


def append_mcp_tool(writer: TraceWriter, tool_call_id: str, kind: Json) -> RawPayloadRef:
    invocation = writer.write_json_payload(
        "tool_invocation",
        {"tool_name": "search", "tool_namespace": "mcp__docs__",
         "payload": {"type": "function", "arguments": '{"query":"cache"}'}},
    )
    writer.append(
        {"type": "tool_call_started", "tool_call_id": tool_call_id,
         "model_visible_call_id": tool_call_id, "code_mode_runtime_tool_id": None,
         "requester": {"type": "model"}, "kind": kind,
         "summary": generic_summary("mcp__docs__.search"), "invocation_payload": invocation},
        **trace_context("turn-1"),
    )
    return invocation


@pytest.mark.parametrize(
    "kind",
    [{"type": "mcp", "server": "docs", "tool": "search"},
     {"type": "other", "name": "mcp__docs__search"}],
    ids=["mcp-kind", "other-kind"],
)
def test_mcp_correlation_sets_mcp_call_id_without_envelope_context(
    tmp_path: Path, kind: Json
) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    invocation = append_mcp_tool(writer, "call-mcp", kind)
    append_mcp_tool(writer, "call-plain", {"type": "other", "name": "exec_command"})
    writer.append({"type": "mcp_tool_call_correlation_assigned", "tool_call_id": "call-mcp",
                   "mcp_call_id": MCP_CALL_ID})
    line = event_lines(tmp_path)[-1]
    assert (line["thread_id"], line["codex_turn_id"]) == (None, None)
    assert list(line["payload"]) == ["type", "tool_call_id", "mcp_call_id"]
    trace = reduce(tmp_path)
    assert trace.tool_calls["call-mcp"].mcp_call_id == MCP_CALL_ID
    assert trace.tool_calls["call-plain"].mcp_call_id is None
    assert trace.tool_calls["call-mcp"].kind.model_dump() == kind
    # The correlation carries no payload refs.
    assert sorted(trace.raw_payloads) == sorted(
        [invocation.raw_payload_id, "raw_payload:2"]
    )


def test_mcp_correlation_before_tool_start_is_error(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    event = writer.append({"type": "mcp_tool_call_correlation_assigned",
                           "tool_call_id": "call-mcp", "mcp_call_id": MCP_CALL_ID})
    append_mcp_tool(writer, "call-mcp", {"type": "mcp", "server": "docs", "tool": "search"})
    err = reduce_error(tmp_path)
    assert err.reason == "MCP correlation referenced unknown tool call call-mcp"
    assert err.seq == event.seq


def test_duplicate_mcp_correlation_is_error(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    append_mcp_tool(writer, "call-mcp", {"type": "mcp", "server": "docs", "tool": "search"})
    writer.append({"type": "mcp_tool_call_correlation_assigned", "tool_call_id": "call-mcp",
                   "mcp_call_id": MCP_CALL_ID})
    second = writer.append({"type": "mcp_tool_call_correlation_assigned",
                            "tool_call_id": "call-mcp",
                            "mcp_call_id": "6b8f8a2e-0c1d-4e5f-9a7b-3c2d1e0f9a8b"})
    err = reduce_error(tmp_path)
    assert err.reason == "duplicate MCP correlation for tool call call-mcp"
    assert err.seq == second.seq


# =============================================================================
# §2 reduced model: field placement and omission
# =============================================================================

TOP_LEVEL_FIELDS = [
    "schema_version", "trace_id", "rollout_id", "started_at_unix_ms", "ended_at_unix_ms",
    "status", "root_thread_id", "threads", "codex_turns", "conversation_items",
    "inference_calls", "code_cells", "tool_calls", "terminal_sessions", "terminal_operations",
    "compactions", "compaction_requests", "interaction_edges", "raw_payloads",
]


def _model_scenario(bundle: Path) -> RolloutTrace:
    writer = upstream_writer(bundle)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [
        message("user", "hi"),
        agent_message("/root/helper", "/root", input_text("done")),
    ])
    complete_inference(writer, "inference-1", [assistant("ok")], response_id="resp-1",
                       upstream_request_id="req-1")
    append_mcp_tool(writer, "call-mcp", {"type": "mcp", "server": "docs", "tool": "search"})
    append_mcp_tool(writer, "call-plain", {"type": "other", "name": "exec_command"})
    writer.append({"type": "mcp_tool_call_correlation_assigned", "tool_call_id": "call-mcp",
                   "mcp_call_id": MCP_CALL_ID})
    return reduce(bundle)


def test_upstream_state_keeps_the_same_nineteen_top_level_fields(tmp_path: Path) -> None:
    """§2: no new top-level maps (no mcp_calls)."""
    assert list(state(_model_scenario(tmp_path))) == TOP_LEVEL_FIELDS


def test_inference_call_serializes_response_id_before_upstream_request_id(
    tmp_path: Path,
) -> None:
    """§2.1: field order, response_id always serialized."""
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    complete_inference(writer, "inference-1", [assistant("ok")], response_id="resp-1",
                       upstream_request_id="req-1")
    start_inference(writer, "inference-2", "turn-1", [message("user", "again")])
    calls = state(reduce(tmp_path))["inference_calls"]
    order = ["inference_call_id", "thread_id", "codex_turn_id", "execution", "model",
             "provider_name", "response_id", "upstream_request_id", "request_item_ids",
             "response_item_ids", "tool_call_ids_started_by_response", "usage",
             "raw_request_payload_id", "raw_response_payload_id"]
    assert list(calls["inference-1"]) == order
    assert list(calls["inference-2"]) == order
    assert (calls["inference-1"]["response_id"], calls["inference-1"]["upstream_request_id"]) == (
        "resp-1", "req-1")
    assert calls["inference-2"]["response_id"] is None


def test_tool_call_serializes_mcp_call_id_right_after_tool_call_id(tmp_path: Path) -> None:
    """§2.2: always serialized, null when not correlated."""
    tools = state(_model_scenario(tmp_path))["tool_calls"]
    order = ["tool_call_id", "mcp_call_id", "model_visible_call_id", "code_mode_runtime_tool_id",
             "thread_id", "started_by_codex_turn_id", "execution", "requester", "kind",
             "model_visible_call_item_ids", "model_visible_output_item_ids",
             "terminal_operation_id", "summary", "raw_invocation_payload_id",
             "raw_result_payload_id", "raw_runtime_payload_ids"]
    assert list(tools["call-mcp"]) == order
    assert list(tools["call-plain"]) == order
    assert tools["call-mcp"]["mcp_call_id"] == MCP_CALL_ID
    assert tools["call-plain"]["mcp_call_id"] is None


def test_conversation_item_agent_message_is_omitted_when_null_and_sits_after_kind(
    tmp_path: Path,
) -> None:
    """§2.3."""
    items = state(_model_scenario(tmp_path))["conversation_items"]
    plain = items["conversation_item:1"]
    typed = items["conversation_item:2"]
    assert list(plain) == ["item_id", "thread_id", "codex_turn_id", "first_seen_at_unix_ms",
                           "role", "channel", "kind", "body", "call_id", "produced_by"]
    assert list(typed) == ["item_id", "thread_id", "codex_turn_id", "first_seen_at_unix_ms",
                           "role", "channel", "kind", "agent_message", "body", "call_id",
                           "produced_by"]
    assert typed["agent_message"] == {"author": "/root/helper", "recipient": "/root"}
    assert list(typed["agent_message"]) == ["author", "recipient"]
    assert "agent_message" not in items["conversation_item:3"]


def test_upstream_state_json_round_trips_through_load_state(tmp_path: Path) -> None:
    trace = _model_scenario(tmp_path / "bundle")
    path = tmp_path / "state.json"
    path.write_text(trace.to_state_json(), encoding="utf-8")
    loaded = load_state(path)
    assert loaded.dialect == Dialect.UPSTREAM
    assert loaded.to_state_json() == trace.to_state_json()


# =============================================================================
# §3.1 terminal inference events
# =============================================================================


def test_late_cancelled_inference_preserves_turn_end_status(tmp_path: Path) -> None:
    """§3.1 rules 2, 4, 5 (upstream test of the same name)."""
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "interrupt")])
    turn_end = end_turn(writer, "turn-1", "failed")
    partial = partial_response(writer, [assistant("late partial")])
    cancel_inference(writer, "inference-1", partial=partial,
                     upstream_request_id="req-late-cancelled",
                     reason="stream mapper noticed cancellation after turn end")
    trace = reduce(tmp_path)
    inference = trace.inference_calls["inference-1"]
    assert inference.execution.status == "failed"
    assert inference.execution.ended_seq == turn_end.seq
    assert inference.execution.ended_at_unix_ms == turn_end.wall_time_unix_ms
    assert inference.raw_response_payload_id == partial.raw_payload_id
    assert inference.response_id is None
    (item_id,) = inference.response_item_ids
    assert parts(trace, item_id) == [{"type": "text", "text": "late partial"}]


# The delta's §3.1 rule 4 ties upstream_request_id to a running call, but the
# upstream test it cites (late_cancelled_inference_preserves_turn_end_status,
# inference_tests.rs @f57441f2) and reducer/inference.rs keep the late event's
# value whenever it carries one; tracegraph follows the code.
def test_late_cancelled_inference_keeps_its_upstream_request_id(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "interrupt")])
    end_turn(writer, "turn-1", "failed")
    partial = partial_response(writer, [assistant("late partial")])
    cancel_inference(writer, "inference-1", partial=partial,
                     upstream_request_id="req-late-cancelled")
    inference = reduce(tmp_path).inference_calls["inference-1"]
    assert inference.upstream_request_id == "req-late-cancelled"


def test_late_completion_after_turn_end_keeps_status_but_records_its_response(
    tmp_path: Path,
) -> None:
    """§3.1 rules 2-5: the response (usage included) is reduced even though the call is closed."""
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    turn_end = end_turn(writer, "turn-1", "completed")
    _, response = complete_inference(
        writer, "inference-1", [assistant("late")], response_id="resp-late",
        token_usage={"input_tokens": 3, "cached_input_tokens": 0, "output_tokens": 1,
                     "reasoning_output_tokens": 0, "total_tokens": 4},
    )
    # The late response id is still a valid parent for an incremental request.
    start_turn(writer, "turn-2")
    start_inference(writer, "inference-2", "turn-2", [message("user", "next")],
                    previous_response_id="resp-late")
    trace = reduce(tmp_path)
    first = trace.inference_calls["inference-1"]
    assert first.execution.status == "cancelled"
    assert first.execution.ended_seq == turn_end.seq
    assert first.response_id == "resp-late"
    assert first.upstream_request_id is None
    assert first.raw_response_payload_id == response.raw_payload_id
    assert first.usage is not None and first.usage.model_dump() == {
        "input_tokens": 3, "cached_input_tokens": 0, "cache_write_input_tokens": 0,
        "output_tokens": 1, "reasoning_output_tokens": 0}
    second = trace.inference_calls["inference-2"]
    assert second.request_item_ids[:2] == [*first.request_item_ids, *first.response_item_ids]
    assert len(second.request_item_ids) == 3


def test_terminal_event_always_overwrites_response_id(tmp_path: Path) -> None:
    """§3.1 rules 3-5: response_id := event value; the rest stays once the call is closed."""
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    completed, response = complete_inference(writer, "inference-1", [assistant("ok")],
                                             response_id="resp-1", upstream_request_id="req-1")
    cancel_inference(writer, "inference-1")
    inference = reduce(tmp_path).inference_calls["inference-1"]
    assert inference.response_id is None
    assert inference.execution.status == "completed"
    assert inference.execution.ended_seq == completed.seq
    assert inference.upstream_request_id == "req-1"
    assert inference.raw_response_payload_id == response.raw_payload_id
    assert len(inference.response_item_ids) == 1


def test_failure_without_partial_payload_retains_raw_response_payload_id(
    tmp_path: Path,
) -> None:
    """§3.1 rule 5 against the seed, on one seed-format bundle."""
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    append_completed_inference(writer, ROOT_THREAD_ID, "turn-1", "inference-1",
                               [message("user", "hi")], [assistant("ok")])
    completed_seq = len(event_lines(tmp_path))
    writer.append({"type": "inference_failed", "inference_call_id": "inference-1",
                   "error": "late failure", "partial_response_payload": None})
    failed_seq = completed_seq + 1
    response_payload_id = "raw_payload:2"

    seed = seed_replay_checked(tmp_path).inference_calls["inference-1"]
    assert seed.execution.status == "failed"
    assert seed.execution.ended_seq == failed_seq
    assert seed.upstream_request_id is None
    assert seed.raw_response_payload_id is None
    assert len(seed.response_item_ids) == 1

    upstream = reduce(tmp_path, "upstream").inference_calls["inference-1"]
    assert upstream.execution.status == "completed"
    assert upstream.execution.ended_seq == completed_seq
    assert upstream.response_id is None
    assert upstream.upstream_request_id is None
    assert upstream.raw_response_payload_id == response_payload_id
    assert upstream.response_item_ids == seed.response_item_ids


@pytest.mark.parametrize("event_type", ["inference_completed", "inference_failed",
                                        "inference_cancelled"])
def test_terminal_event_for_unknown_inference_is_error(tmp_path: Path, event_type: str) -> None:
    """§3.1 rule 1."""
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    if event_type == "inference_completed":
        event, _ = complete_inference(writer, "inference-missing", [], response_id="resp-1")
    elif event_type == "inference_failed":
        event = fail_inference(writer, "inference-missing")
    else:
        event = cancel_inference(writer, "inference-missing")
    err = reduce_error(tmp_path)
    assert err.reason == "inference completion referenced unknown call inference-missing"
    assert err.seq == event.seq


# =============================================================================
# §3.2 turn end closes running inference calls
# =============================================================================


def test_cancelled_turn_closes_running_inference_call(tmp_path: Path) -> None:
    """Upstream test of the same name."""
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "wait")])
    turn_end = end_turn(writer, "turn-1", "cancelled")
    inference = reduce(tmp_path).inference_calls["inference-1"]
    assert inference.execution.status == "cancelled"
    assert inference.execution.ended_seq == turn_end.seq


@pytest.mark.parametrize(
    ("turn_status", "inference_status"),
    [("completed", "cancelled"), ("cancelled", "cancelled"), ("failed", "failed"),
     ("aborted", "aborted"), ("running", "running")],
)
def test_turn_end_closes_running_inference_calls(
    tmp_path: Path, turn_status: str, inference_status: str
) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_turn(writer, "turn-2")
    start_inference(writer, "inference-done", "turn-1", [message("user", "a")])
    done, _ = complete_inference(writer, "inference-done", [assistant("a")], response_id="r-a")
    start_inference(writer, "inference-open", "turn-1", [message("user", "b")])
    start_inference(writer, "inference-other-turn", "turn-2", [message("user", "c")])
    turn_end = end_turn(writer, "turn-1", turn_status)
    calls = reduce(tmp_path).inference_calls

    closed = calls["inference-open"].execution
    assert closed.status == inference_status
    if turn_status == "running":
        assert (closed.ended_seq, closed.ended_at_unix_ms) == (None, None)
    else:
        assert closed.ended_seq == turn_end.seq
        assert closed.ended_at_unix_ms == turn_end.wall_time_unix_ms
    # Already-finished calls and calls of other turns are left alone.
    assert calls["inference-done"].execution.status == "completed"
    assert calls["inference-done"].execution.ended_seq == done.seq
    assert calls["inference-other-turn"].execution.status == "running"
    assert calls["inference-other-turn"].execution.ended_seq is None


def test_seed_turn_end_leaves_running_inference_open(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    request = writer.write_json_payload("inference_request", {"input": [message("user", "a")]})
    writer.append(
        {"type": "inference_started", "inference_call_id": "inference-1",
         "thread_id": ROOT_THREAD_ID, "codex_turn_id": "turn-1", "model": "gpt-test",
         "provider_name": "test-provider", "request_payload": request},
        **trace_context("turn-1"),
    )
    end_turn(writer, "turn-1", "cancelled")
    seed = assert_seed_matches_reference(tmp_path)
    assert seed.inference_calls["inference-1"].execution.status == "running"
    assert reduce(tmp_path).inference_calls["inference-1"].execution.status == "cancelled"


# =============================================================================
# §3.3 normalizing agent_message and context_compaction
# =============================================================================


def test_agent_message_normalizes_to_an_assistant_analysis_message(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [
        agent_message("/root", "/root/reviewer", input_text("review this"), encrypted("enc-1")),
    ])
    complete_inference(writer, "inference-1", [
        agent_message("/root/reviewer", "/root", input_text("looks good")),
    ], response_id="resp-1")
    items = state(reduce(tmp_path))["conversation_items"]
    request_item = items["conversation_item:1"]
    assert {k: v for k, v in request_item.items() if k != "first_seen_at_unix_ms"} == {
        "item_id": "conversation_item:1",
        "thread_id": ROOT_THREAD_ID,
        "codex_turn_id": "turn-1",
        "role": "assistant",
        "channel": "analysis",
        "kind": "message",
        "agent_message": {"author": "/root", "recipient": "/root/reviewer"},
        "body": {"parts": [
            {"type": "text", "text": "review this"},
            {"type": "encoded", "label": "encrypted_content", "value": "enc-1"},
        ]},
        "call_id": None,
        "produced_by": [],
    }
    response_item = items["conversation_item:2"]
    assert response_item["agent_message"] == {"author": "/root/reviewer", "recipient": "/root"}
    assert response_item["produced_by"] == [
        {"type": "inference", "inference_call_id": "inference-1"}
    ]


_TEXT = input_text("x")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"type": "agent_message", "recipient": "/root/a", "content": [_TEXT]}, "author"),
        ({"type": "agent_message", "author": 5, "recipient": "/root/a", "content": [_TEXT]},
         "author"),
        ({"type": "agent_message", "author": "/root", "content": [_TEXT]}, "recipient"),
        ({"type": "agent_message", "author": "/root", "recipient": None, "content": [_TEXT]},
         "recipient"),
        ({"type": "agent_message", "author": "/root", "recipient": "/root/a"}, "content"),
        ({"type": "agent_message", "author": "/root", "recipient": "/root/a",
          "content": "x"}, "content"),
        (agent_message("/root", "/root/a", {"text": "x"}), "type"),
        (agent_message("/root", "/root/a", {"type": 7, "text": "x"}), "type"),
        (agent_message("/root", "/root/a", {"type": "input_text"}), "text"),
        (agent_message("/root", "/root/a", {"type": "input_text", "text": ["x"]}), "text"),
        (agent_message("/root", "/root/a", {"type": "encrypted_content"}), "encrypted_content"),
        (agent_message("/root", "/root/a",
                       {"type": "encrypted_content", "encrypted_content": 1}),
         "encrypted_content"),
        (agent_message("/root", "/root/a", {"type": "output_text", "text": "x"}),
         "unsupported content type output_text"),
        (agent_message("/root", "/root/a", _TEXT, {"type": "input_image", "image_url": "u"}),
         "unsupported content type input_image"),
        (agent_message("/root", "/root/a"), "contained no content"),
    ],
    ids=["author-missing", "author-number", "recipient-missing", "recipient-null",
         "content-missing", "content-string", "entry-without-type", "entry-type-number",
         "input-text-without-text", "input-text-non-string", "encrypted-without-payload",
         "encrypted-non-string", "unsupported-output-text", "unsupported-image",
         "empty-content"],
)
def test_malformed_agent_message_is_rejected(tmp_path: Path, item: Json, expected: str) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi"), item])
    err = reduce_error(tmp_path)
    assert expected in err.reason
    assert err.seq == 3


def test_agent_message_is_an_unsupported_item_type_for_the_seed(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    append_completed_inference(writer, ROOT_THREAD_ID, "turn-1", "inference-1",
                               [agent_message("/root", "/root/a", input_text("x"))], [])
    expect_replay_error(tmp_path, "unsupported model item type agent_message")


def test_context_compaction_is_an_alias_of_compaction(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [
        {"type": "context_compaction", "encrypted_content": "enc-context"},
        {"type": "compaction", "encrypted_content": "enc-compaction"},
        {"type": "compaction_summary", "encrypted_content": "enc-summary"},
    ])
    trace = reduce(tmp_path)
    items = state(trace)["conversation_items"]
    for ordinal, value in enumerate(["enc-context", "enc-compaction", "enc-summary"], start=1):
        item = items[f"conversation_item:{ordinal}"]
        assert (item["role"], item["channel"], item["kind"]) == ("assistant", "summary",
                                                                  "message")
        assert item["body"] == {"parts": [
            {"type": "encoded", "label": "encrypted_content", "value": value}]}
        assert "agent_message" not in item


@pytest.mark.parametrize("value", [None, 3], ids=["missing", "non-string"])
def test_context_compaction_requires_string_encrypted_content(
    tmp_path: Path, value: Any
) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    item: Json = {"type": "context_compaction"}
    if value is not None:
        item["encrypted_content"] = value
    start_inference(writer, "inference-1", "turn-1", [item])
    assert "encrypted_content" in reduce_error(tmp_path).reason


def test_context_compaction_boundary_repeats_prefix_and_reuses_replacement_items(
    tmp_path: Path,
) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    developer = message("developer", "follow repo rules")
    user = message("user", "count files")
    summary = {"type": "context_compaction", "encrypted_content": "encrypted-summary"}
    start_inference(writer, "inference-1", "turn-1", [developer, user])
    checkpoint = writer.write_json_payload(
        "compaction_checkpoint",
        {"input_history": [developer, user], "replacement_history": [user, summary]},
    )
    writer.append({"type": "compaction_installed", "compaction_id": "compaction-1",
                   "checkpoint_payload": checkpoint}, **trace_context("turn-1"))
    start_turn(writer, "turn-2")
    start_inference(writer, "inference-2", "turn-2", [developer, user, summary])
    trace = reduce(tmp_path)
    first = trace.inference_calls["inference-1"]
    second = trace.inference_calls["inference-2"]
    compaction = trace.compactions["compaction-1"]
    assert compaction.input_item_ids == first.request_item_ids
    # The reinjected developer prefix is a fresh post-compaction item.
    assert second.request_item_ids[0] not in first.request_item_ids
    assert second.request_item_ids[1:] == compaction.replacement_item_ids
    summary_item = trace.conversation_items[compaction.replacement_item_ids[1]]
    assert (summary_item.channel, summary_item.kind) == ("summary", "message")
    assert parts(trace, summary_item.item_id) == [
        {"type": "encoded", "label": "encrypted_content", "value": "encrypted-summary"}]


def test_context_compaction_is_an_unsupported_item_type_for_the_seed(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    start_turn(writer, "turn-1")
    append_completed_inference(writer, ROOT_THREAD_ID, "turn-1", "inference-1",
                               [{"type": "context_compaction", "encrypted_content": "e"}], [])
    expect_replay_error(tmp_path, "unsupported model item type context_compaction")


def test_unlisted_model_item_type_is_still_an_error(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [{"type": "configuration_update"}])
    assert "unsupported model item type configuration_update" in reduce_error(tmp_path).reason


# =============================================================================
# §3.4 agent_message metadata is part of item identity
# =============================================================================


def test_agent_message_metadata_is_part_of_item_identity(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    from_root = agent_message("/root", "/root/a", input_text("hi"))
    from_sibling = agent_message("/root/b", "/root/a", input_text("hi"))
    to_other = agent_message("/root", "/root/c", input_text("hi"))
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [from_root, from_sibling])
    start_turn(writer, "turn-2")
    # Same bodies, swapped: position reuse must not match across metadata.
    start_inference(writer, "inference-2", "turn-2", [from_sibling, from_root])
    start_turn(writer, "turn-3")
    start_inference(writer, "inference-3", "turn-3", [from_sibling, from_root, to_other])
    trace = reduce(tmp_path)
    first = trace.inference_calls["inference-1"].request_item_ids
    second = trace.inference_calls["inference-2"].request_item_ids
    third = trace.inference_calls["inference-3"].request_item_ids
    assert second == [first[1], first[0]]
    assert third[:2] == second
    assert third[2] not in first
    assert len(trace.conversation_items) == 3
    metadata = trace.conversation_items[third[2]].agent_message
    assert metadata is not None and metadata.recipient == "/root/c"


# =============================================================================
# §3.5 reasoning identity and merge
# =============================================================================


def test_encrypted_reasoning_upgrades_when_later_sighting_has_more_readable_body(
    tmp_path: Path,
) -> None:
    writer = upstream_writer(tmp_path)
    user = message("user", "count files")
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [user, reasoning(text="need count")])
    start_turn(writer, "turn-2")
    start_inference(writer, "inference-2", "turn-2", [user, reasoning(summary="counting files")])
    trace = reduce(tmp_path)
    reasoning_id = trace.inference_calls["inference-1"].request_item_ids[1]
    assert trace.inference_calls["inference-2"].request_item_ids[1] == reasoning_id
    assert parts(trace, reasoning_id) == [
        {"type": "text", "text": "need count"},
        {"type": "summary", "text": "counting files"},
        {"type": "encoded", "label": "encrypted_content", "value": "encoded-reasoning"},
    ]
    assert len(trace.conversation_items) == 2


def test_same_encrypted_reasoning_with_different_text_reuses_first_readable_body(
    tmp_path: Path,
) -> None:
    writer = upstream_writer(tmp_path)
    user = message("user", "count files")
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [user])
    complete_inference(writer, "inference-1", [reasoning(text="first text")],
                       response_id="resp-1")
    start_turn(writer, "turn-2")
    start_inference(writer, "inference-2", "turn-2", [user, reasoning(text="second text")])
    trace = reduce(tmp_path)
    first = trace.inference_calls["inference-1"]
    reasoning_id = first.response_item_ids[0]
    assert trace.inference_calls["inference-2"].request_item_ids == [
        first.request_item_ids[0], reasoning_id]
    assert parts(trace, reasoning_id) == [
        {"type": "text", "text": "first text"},
        {"type": "encoded", "label": "encrypted_content", "value": "encoded-reasoning"},
    ]
    assert len(trace.conversation_items) == 2


def test_same_encrypted_reasoning_with_different_text_is_a_seed_error(tmp_path: Path) -> None:
    writer = create_started_writer(tmp_path)
    user = message("user", "count files")
    start_turn(writer, "turn-1")
    append_completed_inference(writer, ROOT_THREAD_ID, "turn-1", "inference-1", [user],
                               [reasoning(text="first text")])
    start_turn(writer, "turn-2")
    request = writer.write_json_payload(
        "inference_request", {"input": [user, reasoning(text="second text")]})
    writer.append(
        {"type": "inference_started", "inference_call_id": "inference-2",
         "thread_id": ROOT_THREAD_ID, "codex_turn_id": "turn-2", "model": "gpt-test",
         "provider_name": "test-provider", "request_payload": request},
        **trace_context("turn-2"),
    )
    expect_replay_error(tmp_path,
                        "reasoning encrypted_content was reused with different readable content")
    trace = reduce(tmp_path, "upstream")
    assert len(trace.conversation_items) == 2


def test_encrypted_only_reasoning_adopts_later_text_and_summary(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    user = message("user", "count files")
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [user])
    complete_inference(writer, "inference-1", [reasoning()], response_id="resp-1")
    start_turn(writer, "turn-2")
    start_inference(writer, "inference-2", "turn-2",
                    [user, reasoning(text="need count", summary="counting files")])
    trace = reduce(tmp_path)
    reasoning_id = trace.inference_calls["inference-1"].response_item_ids[0]
    assert trace.inference_calls["inference-2"].request_item_ids[1] == reasoning_id
    assert parts(trace, reasoning_id) == [
        {"type": "text", "text": "need count"},
        {"type": "summary", "text": "counting files"},
        {"type": "encoded", "label": "encrypted_content", "value": "encoded-reasoning"},
    ]


def test_reasoning_with_text_and_summary_keeps_its_body(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    user = message("user", "count files")
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1",
                    [user, reasoning(text="first", summary="first summary")])
    start_turn(writer, "turn-2")
    start_inference(writer, "inference-2", "turn-2",
                    [user, reasoning(text="second", summary="second summary")])
    start_turn(writer, "turn-3")
    start_inference(writer, "inference-3", "turn-3", [user, reasoning()])
    trace = reduce(tmp_path)
    reasoning_id = trace.inference_calls["inference-1"].request_item_ids[1]
    for call in ("inference-2", "inference-3"):
        assert trace.inference_calls[call].request_item_ids[1] == reasoning_id
    assert parts(trace, reasoning_id) == [
        {"type": "text", "text": "first"},
        {"type": "summary", "text": "first summary"},
        {"type": "encoded", "label": "encrypted_content", "value": "encoded-reasoning"},
    ]


def test_reasoning_with_a_different_blob_is_a_different_item(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    user = message("user", "count files")
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [user, reasoning(text="same", blob="b-1")])
    start_turn(writer, "turn-2")
    start_inference(writer, "inference-2", "turn-2", [user, reasoning(text="same", blob="b-2")])
    trace = reduce(tmp_path)
    assert (trace.inference_calls["inference-1"].request_item_ids[1]
            != trace.inference_calls["inference-2"].request_item_ids[1])
    assert len(trace.conversation_items) == 3


# =============================================================================
# §3.6 resolving incremental requests
# =============================================================================


def _traced_parent(writer: TraceWriter, turn_id: str = "turn-1") -> None:
    """inference-1: full [user "count"] -> assistant "ok" (response resp-1, request req-1)."""
    start_turn(writer, turn_id)
    start_inference(writer, "inference-1", turn_id, [message("user", "count")])
    complete_inference(writer, "inference-1", [assistant("ok")], response_id="resp-1",
                       upstream_request_id="req-1")


def test_incremental_request_resolves_its_parent_by_response_id(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    _traced_parent(writer)
    start_inference(writer, "inference-2", "turn-1", [message("user", "more")],
                    previous_response_id="resp-1")
    trace = reduce(tmp_path)
    assert trace.inference_calls["inference-2"].request_item_ids == [
        "conversation_item:1", "conversation_item:2", "conversation_item:3"]


def test_incremental_request_does_not_resolve_a_transport_request_id(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    _traced_parent(writer)
    start_inference(writer, "inference-2", "turn-1", [message("user", "more")],
                    previous_response_id="req-1")
    assert reduce_error(tmp_path).reason == (
        "incremental inference request inference-2 referenced unknown previous_response_id req-1"
    )


def test_incremental_parent_must_be_in_the_same_thread(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_thread(writer, "thread-other", "/root/other")
    start_turn_for_thread(writer, "thread-other", "turn-other")
    start_inference(writer, "inference-other", "turn-other", [message("user", "x")],
                    thread_id="thread-other")
    complete_inference(writer, "inference-other", [assistant("y")], response_id="resp-other")
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "z")],
                    previous_response_id="resp-other")
    assert reduce_error(tmp_path).reason == (
        "incremental inference request inference-1 referenced unknown previous_response_id "
        "resp-other"
    )


def test_full_snapshot_mode_ignores_the_payload_previous_response_id(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    _traced_parent(writer)
    start_inference(writer, "inference-2", "turn-1",
                    [message("user", "count"), assistant("ok"), message("user", "more")],
                    previous_response_id="resp-unknown", mode={"type": "full_snapshot"})
    trace = reduce(tmp_path)
    assert trace.inference_calls["inference-2"].request_item_ids == [
        "conversation_item:1", "conversation_item:2", "conversation_item:3"]


def _compacted(writer: TraceWriter) -> tuple[Json, Json, Json]:
    """inference-1 [developer, user] -> "ok" (resp-1); then compaction to [user, summary]."""
    developer = message("developer", "rules")
    user = message("user", "count")
    summary = message("user", "summary of earlier work")
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [developer, user])
    complete_inference(writer, "inference-1", [assistant("ok")], response_id="resp-1")
    checkpoint = writer.write_json_payload(
        "compaction_checkpoint",
        {"input_history": [developer, user, assistant("ok")],
         "replacement_history": [user, summary]},
    )
    writer.append({"type": "compaction_installed", "compaction_id": "compaction-1",
                   "checkpoint_payload": checkpoint}, **trace_context("turn-1"))
    return developer, user, summary


def test_full_snapshot_mode_uses_and_consumes_the_post_compaction_snapshot(
    tmp_path: Path,
) -> None:
    writer = upstream_writer(tmp_path)
    developer, user, summary = _compacted(writer)
    start_turn(writer, "turn-2")
    start_inference(writer, "inference-2", "turn-2", [developer, user, summary],
                    previous_response_id="resp-1", mode={"type": "full_snapshot"})
    start_turn(writer, "turn-3")
    start_inference(writer, "inference-3", "turn-3", [developer, user, summary],
                    mode={"type": "full_snapshot"})
    trace = reduce(tmp_path)
    replacement = trace.compactions["compaction-1"].replacement_item_ids
    second = trace.inference_calls["inference-2"].request_item_ids
    assert second[1:] == replacement
    assert second[0] not in trace.inference_calls["inference-1"].request_item_ids
    # Consumed: the next full snapshot compares against inference-2, not the replacement.
    assert trace.inference_calls["inference-3"].request_item_ids == second


def test_incremental_mode_does_not_consume_the_post_compaction_snapshot(
    tmp_path: Path,
) -> None:
    writer = upstream_writer(tmp_path)
    developer, user, summary = _compacted(writer)
    start_turn(writer, "turn-2")
    start_inference(writer, "inference-2", "turn-2", [message("user", "more")],
                    previous_response_id="resp-1",
                    mode={"type": "incremental", "previous_response_id": "resp-1"})
    start_turn(writer, "turn-3")
    start_inference(writer, "inference-3", "turn-3", [developer, user, summary],
                    mode={"type": "full_snapshot"})
    trace = reduce(tmp_path)
    first = trace.inference_calls["inference-1"]
    second = trace.inference_calls["inference-2"].request_item_ids
    third = trace.inference_calls["inference-3"].request_item_ids
    replacement = trace.compactions["compaction-1"].replacement_item_ids
    # incremental: prefix = parent's request ids + response ids, then the delta.
    assert second[:3] == [*first.request_item_ids, *first.response_item_ids]
    assert len(second) == 4
    # The pending replacement was still there for inference-3.
    assert third[1:] == replacement
    assert third[0] not in first.request_item_ids


def test_incremental_mode_checks_the_payload_previous_response_id(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    _traced_parent(writer)
    start_inference(writer, "inference-2", "turn-1", [message("user", "more")],
                    previous_response_id="resp-2",
                    mode={"type": "incremental", "previous_response_id": "resp-1"})
    assert reduce_error(tmp_path).reason == (
        "incremental inference request inference-2 recorded previous_response_id resp-1, "
        "but payload previous_response_id was resp-2"
    )


def test_incremental_mode_requires_a_payload_previous_response_id(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    _traced_parent(writer)
    start_inference(writer, "inference-2", "turn-1", [message("user", "more")],
                    mode={"type": "incremental", "previous_response_id": "resp-1"})
    # The delta does not say how a missing payload value is printed.
    assert reduce_error(tmp_path).reason.startswith(
        "incremental inference request inference-2 recorded previous_response_id resp-1, "
        "but payload previous_response_id was"
    )


def test_incremental_mode_with_an_unknown_parent_is_error(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    _traced_parent(writer)
    start_inference(writer, "inference-2", "turn-1", [message("user", "more")],
                    previous_response_id="resp-9",
                    mode={"type": "incremental", "previous_response_id": "resp-9"})
    assert reduce_error(tmp_path).reason == (
        "incremental inference request inference-2 referenced unknown previous_response_id resp-9"
    )


def _untraced_mode(writer: TraceWriter, previous: str, prefix_input: list[Json]) -> Json:
    prefix = writer.write_json_payload("inference_request", {"input": prefix_input})
    return {"type": "incremental_with_untraced_prefix", "previous_response_id": previous,
            "prefix_payload": prefix}


def test_incremental_request_with_untraced_prefix_reconstructs_missing_parent(
    tmp_path: Path,
) -> None:
    writer = upstream_writer(tmp_path)
    developer = message("developer", "rules")
    user = message("user", "count files")
    start_turn(writer, "turn-1")
    body: Json = {"previous_response_id": "warm-1", "input": [message("user", "go on"), user]}
    request = writer.write_json_payload("inference_request", body)
    prefix = writer.write_json_payload("inference_request", {"input": [developer, user]})
    writer.append(
        {"type": "inference_started", "inference_call_id": "inference-1",
         "thread_id": ROOT_THREAD_ID, "codex_turn_id": "turn-1", "model": "gpt-test",
         "provider_name": "test-provider",
         "request_input_mode": {"type": "incremental_with_untraced_prefix",
                                "previous_response_id": "warm-1", "prefix_payload": prefix},
         "request_payload": request},
        **trace_context("turn-1"),
    )
    trace = reduce(tmp_path)
    inference = trace.inference_calls["inference-1"]
    # Prefix [developer, user], then the delta; every delta item is new, even one
    # equal to a prefix item.
    assert inference.request_item_ids == [f"conversation_item:{n}" for n in range(1, 5)]
    assert [parts(trace, i)[0]["text"] for i in inference.request_item_ids] == [
        "rules", "count files", "go on", "count files"]
    assert trace.threads[ROOT_THREAD_ID].conversation_item_ids == inference.request_item_ids
    assert {request.raw_payload_id, prefix.raw_payload_id} <= set(trace.raw_payloads)
    assert inference.raw_request_payload_id == request.raw_payload_id


def test_untraced_prefix_is_reconciled_against_the_thread_snapshot(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    developer = message("developer", "rules")
    user = message("user", "count files")
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-0", "turn-1", [developer, user])
    complete_inference(writer, "inference-0", [], response_id="resp-0")
    mode = _untraced_mode(writer, "warm-1", [developer, user, assistant("warm-up answer")])
    start_inference(writer, "inference-1", "turn-1", [message("user", "next")],
                    previous_response_id="warm-1", mode=mode)
    # The result becomes the thread snapshot and a valid parent.
    complete_inference(writer, "inference-1", [assistant("done")], response_id="resp-1")
    start_inference(writer, "inference-2", "turn-1", [message("user", "thanks")],
                    previous_response_id="resp-1")
    trace = reduce(tmp_path)
    zero = trace.inference_calls["inference-0"].request_item_ids
    first = trace.inference_calls["inference-1"]
    assert first.request_item_ids[:2] == zero
    assert first.request_item_ids[2:] == ["conversation_item:3", "conversation_item:4"]
    assert trace.inference_calls["inference-2"].request_item_ids == [
        *first.request_item_ids, *first.response_item_ids, "conversation_item:6"]


def test_untraced_prefix_for_a_traced_previous_response_id_is_error(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    _traced_parent(writer)
    mode = _untraced_mode(writer, "resp-1", [message("user", "count")])
    start_inference(writer, "inference-2", "turn-1", [message("user", "more")],
                    previous_response_id="resp-1", mode=mode)
    reason = reduce_error(tmp_path).reason
    assert reason.endswith("recorded untraced prefix for traced previous_response_id resp-1")
    assert "inference-2" in reason


def test_untraced_prefix_checks_the_payload_previous_response_id(tmp_path: Path) -> None:
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    mode = _untraced_mode(writer, "warm-1", [message("user", "count")])
    start_inference(writer, "inference-1", "turn-1", [message("user", "more")],
                    previous_response_id="warm-2", mode=mode)
    assert reduce_error(tmp_path).reason == (
        "incremental inference request inference-1 recorded previous_response_id warm-1, "
        "but payload previous_response_id was warm-2"
    )


# =============================================================================
# §3.7 multi-agent edges
# =============================================================================


def _agent_writer(bundle: Path) -> TraceWriter:
    writer = TraceWriter.create(bundle, "trace-1", AGENT_ROOT_THREAD_ID, AGENT_ROOT_THREAD_ID,
                                clock=fake_clock(), dialect="upstream")
    OPEN_WRITERS.append(writer)
    start_thread(writer, AGENT_ROOT_THREAD_ID, "/root")
    start_turn_for_thread(writer, AGENT_ROOT_THREAD_ID, "turn-1")
    return writer


def _agent_tool(writer: TraceWriter, tool_call_id: str, tool_name: str, kind: str,
                arguments: Json) -> tuple[Any, RawPayloadRef]:
    invocation = writer.write_json_payload(
        "tool_invocation",
        {"tool_name": tool_name, "tool_namespace": None,
         "payload": {"type": "function", "arguments": json.dumps(arguments)}},
    )
    event = writer.append(
        {"type": "tool_call_started", "tool_call_id": tool_call_id,
         "model_visible_call_id": tool_call_id, "code_mode_runtime_tool_id": None,
         "requester": {"type": "model"}, "kind": {"type": kind},
         "summary": generic_summary(tool_name), "invocation_payload": invocation},
        **trace_context_for_thread(AGENT_ROOT_THREAD_ID, "turn-1"),
    )
    return event, invocation


def _activity(writer: TraceWriter, tool_call_id: str, kind: str,
              child: str = CHILD_THREAD_ID) -> tuple[Any, RawPayloadRef]:
    payload = writer.write_json_payload(
        "tool_runtime_event",
        {"event_id": tool_call_id, "occurred_at_ms": 1234, "agent_thread_id": child,
         "agent_path": CHILD_PATH, "kind": kind},
    )
    event = writer.append(
        {"type": "tool_call_runtime_ended", "tool_call_id": tool_call_id, "status": "completed",
         "runtime_payload": payload},
        **trace_context_for_thread(AGENT_ROOT_THREAD_ID, "turn-1"),
    )
    return event, payload


def _child(writer: TraceWriter) -> None:
    start_thread(writer, CHILD_THREAD_ID, CHILD_PATH)
    start_turn_for_thread(writer, CHILD_THREAD_ID, "turn-child-1")


def _deliver(writer: TraceWriter, item: Json, inference_id: str = "inference-child-1") -> None:
    start_inference(writer, inference_id, "turn-child-1", [message("developer", "rules"), item],
                    thread_id=CHILD_THREAD_ID)


def _typed(text: str) -> Json:
    return agent_message("/root", CHILD_PATH, input_text(text))


def _legacy(text: str, *, encrypted_content: str | None = None) -> Json:
    return message("assistant", inter_agent_text("/root", CHILD_PATH, text,
                                                 encrypted_content=encrypted_content))


def _target_item(trace: RolloutTrace, edge_id: str) -> str:
    target = trace.interaction_edges[edge_id].target.model_dump()
    assert target["type"] == "conversation_item", target
    item_id: str = target["item_id"]
    return item_id


@pytest.mark.parametrize("form", ["typed", "legacy"])
@pytest.mark.parametrize("delivery_first", [False, True], ids=["pending", "already-delivered"])
def test_spawn_activity_targets_the_delivered_child_item(
    tmp_path: Path, form: str, delivery_first: bool
) -> None:
    writer = _agent_writer(tmp_path)
    started, invocation = _agent_tool(writer, "call-spawn", "spawn_agent", "spawn_agent",
                                      {"task_name": "reviewer", "message": "review this"})
    item = _typed("review this") if form == "typed" else _legacy("review this")
    if delivery_first:
        _child(writer)
        _deliver(writer, item)
        ended, activity = _activity(writer, "call-spawn", "started")
    else:
        ended, activity = _activity(writer, "call-spawn", "started")
        _child(writer)
        _deliver(writer, item)
    trace = reduce(tmp_path)
    edge = trace.interaction_edges[SPAWN_EDGE_ID]
    assert edge.kind == "spawn_agent"
    assert edge.source.model_dump() == {"type": "tool_call", "tool_call_id": "call-spawn"}
    item_id = _target_item(trace, SPAWN_EDGE_ID)
    assert trace.conversation_items[item_id].thread_id == CHILD_THREAD_ID
    assert edge.carried_item_ids == [item_id]
    assert edge.carried_raw_payload_ids == [invocation.raw_payload_id, activity.raw_payload_id]
    assert edge.started_at_unix_ms == started.wall_time_unix_ms
    assert edge.ended_at_unix_ms == ended.wall_time_unix_ms
    if form == "typed":
        metadata = trace.conversation_items[item_id].agent_message
        assert metadata is not None and metadata.model_dump() == {
            "author": "/root", "recipient": CHILD_PATH}


@pytest.mark.parametrize(
    ("tool_name", "kind"),
    [("send_message", "send_message"), ("followup_task", "assign_agent_task")],
)
@pytest.mark.parametrize("form", ["typed", "legacy"])
def test_message_activity_targets_the_delivered_child_item(
    tmp_path: Path, tool_name: str, kind: str, form: str
) -> None:
    writer = _agent_writer(tmp_path)
    _child(writer)
    _, invocation = _agent_tool(writer, "call-msg", tool_name, kind,
                                {"target": CHILD_PATH, "message": "also check tests"})
    _, activity = _activity(writer, "call-msg", "interacted")
    _deliver(writer, _typed("also check tests") if form == "typed"
             else _legacy("also check tests"))
    trace = reduce(tmp_path)
    edge = trace.interaction_edges["edge:tool:call-msg"]
    assert edge.kind == kind
    item_id = _target_item(trace, "edge:tool:call-msg")
    assert edge.carried_item_ids == [item_id]
    assert edge.carried_raw_payload_ids == [invocation.raw_payload_id, activity.raw_payload_id]


def test_close_activity_targets_the_child_thread(tmp_path: Path) -> None:
    writer = _agent_writer(tmp_path)
    _child(writer)
    _agent_tool(writer, "call-close", "close_agent", "close_agent", {"target": CHILD_PATH})
    ended, _ = _activity(writer, "call-close", "interrupted")
    trace = reduce(tmp_path)
    edge = trace.interaction_edges["edge:tool:call-close"]
    assert edge.kind == "close_agent"
    assert edge.target.model_dump() == {"type": "thread", "thread_id": CHILD_THREAD_ID}
    assert edge.carried_item_ids == []
    assert edge.ended_at_unix_ms == ended.wall_time_unix_ms


def test_spawn_activity_without_delivery_falls_back_to_the_child_thread(tmp_path: Path) -> None:
    writer = _agent_writer(tmp_path)
    _, invocation = _agent_tool(writer, "call-spawn", "spawn_agent", "spawn_agent",
                                {"task_name": "reviewer", "message": "review this"})
    _, activity = _activity(writer, "call-spawn", "started")
    _child(writer)
    trace = reduce(tmp_path)
    edge = trace.interaction_edges[SPAWN_EDGE_ID]
    assert edge.target.model_dump() == {"type": "thread", "thread_id": CHILD_THREAD_ID}
    assert edge.carried_item_ids == []
    assert edge.carried_raw_payload_ids == [invocation.raw_payload_id, activity.raw_payload_id]


def test_typed_delivery_to_another_recipient_is_not_the_spawn_target(tmp_path: Path) -> None:
    writer = _agent_writer(tmp_path)
    _agent_tool(writer, "call-spawn", "spawn_agent", "spawn_agent",
                {"task_name": "reviewer", "message": "review this"})
    _activity(writer, "call-spawn", "started")
    _child(writer)
    _deliver(writer, agent_message("/root", "/root/someone_else", input_text("review this")))
    edge = reduce(tmp_path).interaction_edges[SPAWN_EDGE_ID]
    assert edge.target.model_dump() == {"type": "thread", "thread_id": CHILD_THREAD_ID}


@pytest.mark.parametrize(
    ("tool_name", "tool_kind", "activity_kind"),
    [
        ("spawn_agent", "spawn_agent", "interacted"),
        ("send_message", "send_message", "started"),
        ("followup_task", "assign_agent_task", "interrupted"),
        ("close_agent", "close_agent", "started"),
        ("spawn_agent", "spawn_agent", "completed"),
        ("wait_agent", "wait_agent", "interacted"),
    ],
)
def test_sub_agent_activity_must_match_the_tool_kind(
    tmp_path: Path, tool_name: str, tool_kind: str, activity_kind: str
) -> None:
    writer = _agent_writer(tmp_path)
    _child(writer)
    _agent_tool(writer, "call-agent", tool_name, tool_kind,
                {"target": CHILD_PATH, "message": "x"})
    ended, _ = _activity(writer, "call-agent", activity_kind)
    err = reduce_error(tmp_path)
    assert err.reason == (
        f"sub-agent activity {activity_kind} does not match tool call kind {tool_kind}"
    )
    assert err.seq == ended.seq


def test_inter_agent_communication_matches_on_encrypted_content(tmp_path: Path) -> None:
    writer = _agent_writer(tmp_path)
    _child(writer)
    _agent_tool(writer, "call-msg", "send_message", "send_message",
                {"target": CHILD_PATH, "message": "gAAAAB-sealed"})
    _activity(writer, "call-msg", "interacted")
    _deliver(writer, _legacy("review this", encrypted_content="gAAAAB-sealed"))
    trace = reduce(tmp_path)
    item_id = _target_item(trace, "edge:tool:call-msg")
    assert trace.conversation_items[item_id].thread_id == CHILD_THREAD_ID


def test_inter_agent_communication_with_encrypted_content_does_not_match_its_plain_content(
    tmp_path: Path,
) -> None:
    writer = _agent_writer(tmp_path)
    _child(writer)
    _agent_tool(writer, "call-msg", "send_message", "send_message",
                {"target": CHILD_PATH, "message": "review this"})
    _activity(writer, "call-msg", "interacted")
    _deliver(writer, _legacy("review this", encrypted_content="gAAAAB-sealed"))
    # agents.rs @6bba7d7f gave an undelivered activity edge the thread as target; since
    # @a912defb only a spawn falls back (upstream-delta-2.md row 5): no edge at all.
    assert "edge:tool:call-msg" not in reduce(tmp_path).interaction_edges


def test_typed_encrypted_agent_message_matches_on_its_encoded_value(tmp_path: Path) -> None:
    writer = _agent_writer(tmp_path)
    _child(writer)
    _agent_tool(writer, "call-msg", "send_message", "send_message",
                {"target": CHILD_PATH, "message": "gAAAAB-sealed"})
    _activity(writer, "call-msg", "interacted")
    _deliver(writer, agent_message("/root", CHILD_PATH, encrypted("gAAAAB-sealed")))
    trace = reduce(tmp_path)
    item_id = _target_item(trace, "edge:tool:call-msg")
    assert parts(trace, item_id) == [
        {"type": "encoded", "label": "encrypted_content", "value": "gAAAAB-sealed"}]


def test_seed_ignores_encrypted_content_in_inter_agent_communication(tmp_path: Path) -> None:
    """Seed-format Collab send_message; the mailbox JSON carries an extra encrypted_content."""
    writer = create_started_agent_writer(tmp_path)
    start_turn_for_thread(writer, AGENT_ROOT_THREAD_ID, "turn-1")
    start_thread(writer, CHILD_THREAD_ID, CHILD_PATH)
    context = trace_context_for_thread(AGENT_ROOT_THREAD_ID, "turn-1")
    invocation = writer.write_json_payload(
        "tool_invocation",
        {"tool_name": "send_message", "tool_namespace": None,
         "payload": {"type": "function",
                     "arguments": json.dumps({"target": CHILD_PATH, "message": "hello"})}},
    )
    writer.append(
        {"type": "tool_call_started", "tool_call_id": "call-send",
         "model_visible_call_id": "call-send", "code_mode_runtime_tool_id": None,
         "requester": {"type": "model"}, "kind": {"type": "send_message"},
         "summary": generic_summary("send_message"), "invocation_payload": invocation},
        **context,
    )
    collab = {"call_id": "call-send", "sender_thread_id": AGENT_ROOT_THREAD_ID,
              "receiver_thread_id": CHILD_THREAD_ID, "prompt": "hello"}
    begin = writer.write_json_payload("tool_runtime_event", collab)
    writer.append({"type": "tool_call_runtime_started", "tool_call_id": "call-send",
                   "runtime_payload": begin}, **context)
    end = writer.write_json_payload("tool_runtime_event", {**collab, "status": "running"})
    writer.append({"type": "tool_call_runtime_ended", "tool_call_id": "call-send",
                   "status": "completed", "runtime_payload": end}, **context)
    start_turn_for_thread(writer, CHILD_THREAD_ID, "turn-child-1")
    append_completed_inference(
        writer, CHILD_THREAD_ID, "turn-child-1", "inference-child-1",
        [message("assistant", inter_agent_text("/root", CHILD_PATH, "hello",
                                               encrypted_content="gAAAAB-sealed"))],
        [],
    )
    seed = seed_replay_checked(tmp_path)
    assert seed.interaction_edges["edge:tool:call-send"].target.type == "conversation_item"
    assert_seed_matches_reference(tmp_path)
    # Upstream matches on the encrypted form, which the Collab prompt is not.
    assert "edge:tool:call-send" not in reduce(tmp_path).interaction_edges


def test_typed_agent_message_is_not_a_child_result_source(tmp_path: Path) -> None:
    """§3.7 (inferred from PR #27830): inbound agent messages are not child results."""
    writer = _agent_writer(tmp_path)
    _child(writer)
    _deliver(writer, _typed("review this"))
    notification = json.dumps({"agent_path": CHILD_PATH, "status": {"errored": "boom"}})
    writer.append(
        {"type": "agent_result_observed",
         "edge_id": f"edge:agent_result:{CHILD_THREAD_ID}:turn-child-1:{AGENT_ROOT_THREAD_ID}",
         "child_thread_id": CHILD_THREAD_ID, "child_codex_turn_id": "turn-child-1",
         "parent_thread_id": AGENT_ROOT_THREAD_ID, "message": notification,
         "carried_payload": None},
        **trace_context_for_thread(CHILD_THREAD_ID, "turn-child-1"),
    )
    start_turn_for_thread(writer, AGENT_ROOT_THREAD_ID, "turn-2")
    start_inference(writer, "inference-root-2", "turn-2",
                    [agent_message(CHILD_PATH, "/root", input_text(notification))],
                    thread_id=AGENT_ROOT_THREAD_ID)
    trace = reduce(tmp_path)
    edge = trace.interaction_edges[
        f"edge:agent_result:{CHILD_THREAD_ID}:turn-child-1:{AGENT_ROOT_THREAD_ID}"]
    assert edge.source.model_dump() == {"type": "thread", "thread_id": CHILD_THREAD_ID}


# =============================================================================
# Seed-format bundles against the reference reducer
# =============================================================================


@pytest.mark.reference
@pytest.mark.skipif(reference_reducer() is None,
                    reason="../shared/tools/reference-reduce is not on this machine")
def test_seed_dialect_matches_the_reference_bytes(tmp_path: Path) -> None:
    write_seed_session(tmp_path).close()
    reference = reference_state_text(tmp_path)
    assert replay(tmp_path, dialect="seed").trace.to_state_json() == reference
    assert replay(tmp_path, dialect="auto").trace.to_state_json() == reference


@pytest.mark.reference
def test_upstream_bundle_is_rejected_by_the_reference(tmp_path: Path) -> None:
    """Sanity check of the strictness the seed dialect mirrors (needs the binary)."""
    if reference_reducer() is None:
        pytest.skip("../shared/tools/reference-reduce is not on this machine")
    writer = upstream_writer(tmp_path)
    start_turn(writer, "turn-1")
    start_inference(writer, "inference-1", "turn-1", [message("user", "hi")])
    cancel_inference(writer, "inference-1")
    with pytest.raises(TracegraphError):
        replay(tmp_path, dialect="seed")
    assert isinstance(reference_reduce(tmp_path), str)
