"""Current Codex (upstream-delta-2.md rows 1-10) in the ``upstream`` dialect.

Scenarios ported from upstream's ``reducer/tool/agents_tests.rs`` (ai-repo-save/codex
@a912defb) and the fork's ``reducer/conversation_tests.rs`` (code-akram/ycode
@df172957), plus detection of the new evidence under ``--dialect auto``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support import (
    AGENT_ROOT_THREAD_ID,
    OPEN_WRITERS,
    ROOT_THREAD_ID,
    fake_clock,
    generic_summary,
    message,
    start_thread,
    start_turn_for_thread,
    trace_context_for_thread,
)
from tracegraph.authoring.items import agent_message, input_message, inter_agent_communication
from tracegraph.bundle.writer import TraceWriter
from tracegraph.errors import TracegraphError
from tracegraph.model import RolloutTrace
from tracegraph.model.payload import RawPayloadRef
from tracegraph.reducer import replay

Json = dict[str, Any]
ROOT = AGENT_ROOT_THREAD_ID
CHILD = "019d0000-0000-7000-8000-000000000002"
CHILD_PATH = "/root/child"


# --- helpers -----------------------------------------------------------------


def writer_for(bundle: Path, root: str = ROOT) -> TraceWriter:
    writer = TraceWriter.create(bundle, "trace-1", root, root, clock=fake_clock(),
                                dialect="upstream")
    OPEN_WRITERS.append(writer)
    start_thread(writer, root, "/root")
    start_turn_for_thread(writer, root, "turn-1")
    return writer


def request(writer: TraceWriter, thread_id: str, turn_id: str, inference_id: str,
            items: list[Json], **body: Any) -> RawPayloadRef:
    ref = writer.write_json_payload("inference_request", {**body, "input": items})
    writer.append({"type": "inference_started", "inference_call_id": inference_id,
                   "thread_id": thread_id, "codex_turn_id": turn_id, "model": "gpt-test",
                   "provider_name": "test-provider", "request_payload": ref},
                  **trace_context_for_thread(thread_id, turn_id))
    return ref


def respond(writer: TraceWriter, thread_id: str, turn_id: str, inference_id: str,
            output_items: list[Json], token_usage: Json | None = None) -> None:
    ref = writer.write_json_payload("inference_response", {
        "response_id": f"resp-{inference_id}", "upstream_request_id": None,
        "token_usage": token_usage, "output_items": output_items})
    writer.append({"type": "inference_completed", "inference_call_id": inference_id,
                   "response_id": f"resp-{inference_id}", "response_payload": ref},
                  **trace_context_for_thread(thread_id, turn_id))


def agent_tool(writer: TraceWriter, tool_call_id: str, tool_name: str, kind: Json,
               arguments: Json | None, *, thread_id: str = ROOT) -> RawPayloadRef:
    payload: Json = {"type": "function"}
    if arguments is not None:
        payload["arguments"] = json.dumps(arguments)
    invocation = writer.write_json_payload(
        "tool_invocation", {"tool_name": tool_name, "tool_namespace": None, "payload": payload})
    writer.append({"type": "tool_call_started", "tool_call_id": tool_call_id,
                   "model_visible_call_id": tool_call_id, "code_mode_runtime_tool_id": None,
                   "requester": {"type": "model"}, "kind": kind,
                   "summary": generic_summary(tool_name), "invocation_payload": invocation},
                  **trace_context_for_thread(thread_id, "turn-1"))
    return invocation


def activity(writer: TraceWriter, tool_call_id: str, kind: str, *, operation: str | None = None,
             outcome: str | None = None, target: str = CHILD, target_path: str = CHILD_PATH,
             thread_id: str = ROOT) -> RawPayloadRef:
    """A ``SubAgentActivity`` runtime end; the producer marks failed outcomes failed."""
    value: Json = {"event_id": tool_call_id, "occurred_at_ms": 1234, "agent_thread_id": target,
                   "agent_path": target_path, "kind": kind}
    if operation is not None:
        value["operation"] = operation
    if outcome is not None:
        value["outcome"] = outcome
    payload = writer.write_json_payload("tool_runtime_event", value)
    writer.append({"type": "tool_call_runtime_ended", "tool_call_id": tool_call_id,
                   "status": "failed" if outcome == "failed" else "completed",
                   "runtime_payload": payload},
                  **trace_context_for_thread(thread_id, "turn-1"))
    return payload


def child_receives(writer: TraceWriter, *items: Json, inference_id: str = "inference-child-1",
                   start: bool = True) -> None:
    if start:
        start_thread(writer, CHILD, CHILD_PATH)
        start_turn_for_thread(writer, CHILD, "turn-child-1")
    request(writer, CHILD, "turn-child-1", inference_id, [message("developer", "rules"), *items])


def legacy_delivery(author: str, recipient: str, content: str, **extra: Any) -> Json:
    communication = inter_agent_communication(author, recipient, content, False, **extra)
    return message("assistant", json.dumps(communication))


def two_part(author: str, recipient: str, encoded: str) -> Json:
    return agent_message(author, recipient, "Message Type: NEW_TASK\nPayload:\n",
                         encrypted_content=encoded)


def reduce(bundle: Path, dialect: str = "upstream") -> RolloutTrace:
    return replay(bundle, dialect=dialect).trace


def reduce_error(bundle: Path, dialect: str = "upstream") -> str:
    with pytest.raises(TracegraphError) as info:
        replay(bundle, dialect=dialect)
    return str(info.value)


def target_item(trace: RolloutTrace, edge_id: str) -> str:
    target = trace.interaction_edges[edge_id].target.model_dump()
    assert target["type"] == "conversation_item", target
    item_id: str = target["item_id"]
    return item_id


def spawn_edge_id() -> str:
    return f"edge:spawn:{ROOT}:{CHILD}"


# --- row 1: SubAgentActivity operation and outcome ---------------------------------


def test_started_activity_creates_spawn_edge_to_two_part_delivery(tmp_path: Path) -> None:
    writer = writer_for(tmp_path)
    invocation = agent_tool(writer, "call-spawn-v2", "spawn_agent", {"type": "spawn_agent"},
                            {"message": "review this", "task_name": "reviewer"})
    runtime = activity(writer, "call-spawn-v2", "started", target_path="/root/reviewer")
    start_thread(writer, CHILD, "/root/reviewer")
    start_turn_for_thread(writer, CHILD, "turn-child-1")
    request(writer, CHILD, "turn-child-1", "inference-child-1",
            [two_part("/root", "/root/reviewer", "review this")])
    trace = reduce(tmp_path)
    edge = trace.interaction_edges[spawn_edge_id()]
    assert edge.kind.value == "spawn_agent"
    item_id = target_item(trace, spawn_edge_id())
    assert edge.carried_item_ids == [item_id]
    assert trace.conversation_items[item_id].thread_id == CHILD
    assert edge.carried_raw_payload_ids == [invocation.raw_payload_id, runtime.raw_payload_id]


@pytest.mark.parametrize(("tool", "kind", "operation", "edge_kind"), [
    ("send_message", "send_message", "send_message", "send_message"),
    ("followup_task", "assign_agent_task", "followup_task", "assign_agent_task"),
])
def test_operation_activity_targets_delivered_child_message(
    tmp_path: Path, tool: str, kind: str, operation: str, edge_kind: str
) -> None:
    writer = writer_for(tmp_path)
    invocation = agent_tool(writer, "call-v2", tool, {"type": kind},
                            {"target": CHILD_PATH, "message": "hello again"})
    runtime = activity(writer, "call-v2", "interacted", operation=operation, outcome="succeeded")
    child_receives(writer, legacy_delivery("/root", CHILD_PATH, "hello again"))
    trace = reduce(tmp_path)
    edge = trace.interaction_edges["edge:tool:call-v2"]
    assert edge.kind.value == edge_kind
    item_id = target_item(trace, "edge:tool:call-v2")
    assert edge.carried_item_ids == [item_id]
    assert trace.conversation_items[item_id].thread_id == CHILD
    assert edge.carried_raw_payload_ids == [invocation.raw_payload_id, runtime.raw_payload_id]


def test_operation_decides_the_edge_kind_whatever_the_tool_kind(tmp_path: Path) -> None:
    # The newest dispatch derives kinds from tool names only: a namespaced
    # collaboration tool can arrive as `other`.
    writer = writer_for(tmp_path)
    agent_tool(writer, "call-ns", "collaboration.send_message",
               {"type": "other", "name": "collaboration.send_message"},
               {"target": CHILD_PATH, "message": "ping"})
    activity(writer, "call-ns", "interacted", operation="send_message", outcome="succeeded")
    child_receives(writer, agent_message("/root", CHILD_PATH, "ping"))
    trace = reduce(tmp_path)
    assert trace.interaction_edges["edge:tool:call-ns"].kind.value == "send_message"
    target_item(trace, "edge:tool:call-ns")


@pytest.mark.parametrize("operation", ["parent_reply", "inspect_agent"])
def test_parent_reply_and_inspect_activities_make_no_edge(tmp_path: Path, operation: str) -> None:
    writer = writer_for(tmp_path)
    agent_tool(writer, "call-op", "send_message", {"type": "send_message"},
               {"target": CHILD_PATH, "message": "hello"})
    activity(writer, "call-op", "interacted", operation=operation, outcome="succeeded")
    child_receives(writer, legacy_delivery("/root", CHILD_PATH, "hello"))
    trace = reduce(tmp_path)
    assert trace.interaction_edges == {}


@pytest.mark.parametrize("operation", ["send_message", "followup_task", None])
def test_failed_activity_makes_no_edge(tmp_path: Path, operation: str | None) -> None:
    writer = writer_for(tmp_path)
    agent_tool(writer, "call-failed", "send_message", {"type": "send_message"},
               {"target": CHILD_PATH, "message": "hello"})
    runtime = activity(writer, "call-failed", "interacted", operation=operation,
                       outcome="failed")
    child_receives(writer, legacy_delivery("/root", CHILD_PATH, "hello"))
    trace = reduce(tmp_path)
    assert trace.interaction_edges == {}
    # Row 2: the producer marks such a runtime end failed; it is accepted as evidence.
    assert trace.tool_calls["call-failed"].raw_runtime_payload_ids == [runtime.raw_payload_id]


def test_failed_spawn_activity_makes_no_edge_or_fallback(tmp_path: Path) -> None:
    writer = writer_for(tmp_path)
    agent_tool(writer, "call-spawn", "spawn_agent", {"type": "spawn_agent"},
               {"task_name": "child", "message": "count"})
    activity(writer, "call-spawn", "started", outcome="failed")
    start_thread(writer, CHILD, CHILD_PATH)
    assert reduce(tmp_path).interaction_edges == {}


# --- row 3: the delivery's author must be the sender ----------------------------------


@pytest.mark.parametrize("form", ["typed", "legacy"])
def test_delivery_from_another_author_is_not_the_target(tmp_path: Path, form: str) -> None:
    writer = writer_for(tmp_path)
    agent_tool(writer, "call-send", "send_message", {"type": "send_message"},
               {"target": CHILD_PATH, "message": "hello"})
    activity(writer, "call-send", "interacted", operation="send_message", outcome="succeeded")
    wrong = (agent_message("/root/other", CHILD_PATH, "hello") if form == "typed"
             else legacy_delivery("/root/other", CHILD_PATH, "hello"))
    right = (agent_message("/root", CHILD_PATH, "hello") if form == "typed"
             else legacy_delivery("/root", CHILD_PATH, "hello"))
    child_receives(writer, wrong, right)
    trace = reduce(tmp_path)
    item_id = target_item(trace, "edge:tool:call-send")
    request_ids = trace.inference_calls["inference-child-1"].request_item_ids
    assert item_id == request_ids[2]


def test_agent_result_requires_the_child_as_author(tmp_path: Path) -> None:
    writer = writer_for(tmp_path)
    start_thread(writer, CHILD, CHILD_PATH)
    start_turn_for_thread(writer, CHILD, "turn-child-1")
    request(writer, CHILD, "turn-child-1", "inference-child-1", [message("user", "task")])
    respond(writer, CHILD, "turn-child-1", "inference-child-1",
            [{"type": "message", "role": "assistant",
              "content": [{"type": "output_text", "text": "done"}]}])
    notice = '{"agent_path":"/root/child","status":{"completed":"done"}}'
    carried = writer.write_json_payload(
        "agent_result", {"child_agent_path": CHILD_PATH, "message": notice,
                         "status": {"completed": "done"}})
    edge_id = f"edge:agent_result:{CHILD}:turn-child-1:{ROOT}"
    writer.append({"type": "agent_result_observed", "edge_id": edge_id, "child_thread_id": CHILD,
                   "child_codex_turn_id": "turn-child-1", "parent_thread_id": ROOT,
                   "message": notice, "carried_payload": carried},
                  **trace_context_for_thread(CHILD, "turn-child-1"))
    start_turn_for_thread(writer, ROOT, "turn-root-2")
    request(writer, ROOT, "turn-root-2", "inference-root-2",
            [agent_message("/root/impostor", "/root", notice),
             agent_message(CHILD_PATH, "/root", notice)])
    trace = reduce(tmp_path)
    item_id = target_item(trace, edge_id)
    assert item_id == trace.inference_calls["inference-root-2"].request_item_ids[1]
    assert trace.interaction_edges[edge_id].carried_raw_payload_ids == [carried.raw_payload_id]


# --- row 4: two-part agent_message bodies ---------------------------------------------


def test_two_part_body_matches_on_the_encoded_value(tmp_path: Path) -> None:
    writer = writer_for(tmp_path)
    agent_tool(writer, "call-send", "send_message", {"type": "send_message"},
               {"target": CHILD_PATH, "message": "sealed"})
    activity(writer, "call-send", "interacted", operation="send_message", outcome="succeeded")
    # The envelope text alone must not match; the encoded part does.
    child_receives(writer, agent_message("/root", CHILD_PATH, "Message Type: MESSAGE\n"),
                   two_part("/root", CHILD_PATH, "sealed"))
    trace = reduce(tmp_path)
    item_id = target_item(trace, "edge:tool:call-send")
    assert item_id == trace.inference_calls["inference-child-1"].request_item_ids[2]
    parts = trace.conversation_items[item_id].body.model_dump(mode="json")["parts"]
    assert [part["type"] for part in parts] == ["text", "encoded"]


def test_two_part_body_does_not_match_on_its_text(tmp_path: Path) -> None:
    writer = writer_for(tmp_path)
    agent_tool(writer, "call-send", "send_message", {"type": "send_message"},
               {"target": CHILD_PATH, "message": "Message Type: NEW_TASK\nPayload:\n"})
    activity(writer, "call-send", "interacted", operation="send_message", outcome="succeeded")
    child_receives(writer, two_part("/root", CHILD_PATH, "ciphertext"))
    assert reduce(tmp_path).interaction_edges == {}


# --- row 5: only spawns fall back to the thread; send/assign need a message ----------


def test_unmatched_spawn_activity_falls_back_to_the_child_thread(tmp_path: Path) -> None:
    writer = writer_for(tmp_path)
    agent_tool(writer, "call-spawn", "spawn_agent", {"type": "spawn_agent"},
               {"task_name": "child", "message": "count"})
    activity(writer, "call-spawn", "started")
    child_receives(writer, two_part("/root", CHILD_PATH, "gAAAAABo-encrypted-task"))
    trace = reduce(tmp_path)
    target = trace.interaction_edges[spawn_edge_id()].target.model_dump()
    assert target == {"type": "thread", "thread_id": CHILD}
    assert trace.interaction_edges[spawn_edge_id()].carried_item_ids == []


@pytest.mark.parametrize(("tool", "kind", "operation"), [
    ("send_message", "send_message", "send_message"),
    ("followup_task", "assign_agent_task", "followup_task"),
    ("send_message", "send_message", None),
])
def test_unmatched_message_activity_is_dropped(
    tmp_path: Path, tool: str, kind: str, operation: str | None
) -> None:
    writer = writer_for(tmp_path)
    agent_tool(writer, "call-msg", tool, {"type": kind}, {"target": CHILD_PATH, "message": "hi"})
    activity(writer, "call-msg", "interacted", operation=operation, outcome="succeeded")
    child_receives(writer, two_part("/root", CHILD_PATH, "gAAAAABo-ciphertext"))
    assert reduce(tmp_path).interaction_edges == {}


def test_message_activity_without_function_arguments_is_an_error(tmp_path: Path) -> None:
    writer = writer_for(tmp_path)
    agent_tool(writer, "call-msg", "send_message", {"type": "send_message"}, None)
    activity(writer, "call-msg", "interacted", operation="send_message", outcome="succeeded")
    assert "agent activity tool call call-msg missing function arguments" in reduce_error(tmp_path)


def test_message_activity_without_a_message_argument_is_an_error(tmp_path: Path) -> None:
    writer = writer_for(tmp_path)
    agent_tool(writer, "call-msg", "send_message", {"type": "send_message"},
               {"target": CHILD_PATH})
    activity(writer, "call-msg", "interacted", operation="send_message", outcome="succeeded")
    assert "parse agent activity tool call call-msg arguments" in reduce_error(tmp_path)


# --- rows 6-8: additional_tools, passthrough metadata, cache writes --------------------


def test_additional_tools_are_excluded_from_request_conversation(tmp_path: Path) -> None:
    writer = writer_for(tmp_path, ROOT_THREAD_ID)
    request(writer, ROOT_THREAD_ID, "turn-1", "inference-1", [
        {"type": "additional_tools", "role": "developer",
         "tools": [{"type": "function", "name": "lookup",
                    "parameters": {"type": "object", "properties": {}}}]},
        message("user", "find it"),
    ])
    trace = reduce(tmp_path)
    ids = trace.inference_calls["inference-1"].request_item_ids
    assert len(ids) == 1
    assert len(trace.conversation_items) == 1
    assert trace.conversation_items[ids[0]].body.model_dump(mode="json") == {
        "parts": [{"type": "text", "text": "find it"}]}


def test_additional_tools_is_an_unsupported_item_for_the_seed(tmp_path: Path) -> None:
    writer = writer_for(tmp_path, ROOT_THREAD_ID)
    request(writer, ROOT_THREAD_ID, "turn-1", "inference-1",
            [{"type": "additional_tools", "tools": []}, message("user", "x")])
    assert "unsupported model item type additional_tools" in reduce_error(tmp_path, "seed")


def _search_call(**extra: Any) -> Json:
    return {"type": "tool_search_call", "status": "completed", "call_id": "call-search",
            "arguments": {"query": "spawn subagent", "limit": 10}, "execution": "client",
            **extra}


def test_request_reuses_prior_tool_search_call_with_internal_metadata(tmp_path: Path) -> None:
    writer = writer_for(tmp_path, ROOT_THREAD_ID)
    request(writer, ROOT_THREAD_ID, "turn-1", "inference-1", [message("user", "search")])
    respond(writer, ROOT_THREAD_ID, "turn-1", "inference-1", [_search_call()])
    start_turn_for_thread(writer, ROOT_THREAD_ID, "turn-2")
    request(writer, ROOT_THREAD_ID, "turn-2", "inference-2", [
        message("user", "search"),
        _search_call(internal_chat_message_metadata_passthrough={"turn_id": "turn-1"}),
    ])
    trace = reduce(tmp_path)
    first, second = trace.inference_calls["inference-1"], trace.inference_calls["inference-2"]
    assert second.request_item_ids == [first.request_item_ids[0], first.response_item_ids[0]]
    assert len(trace.conversation_items) == 2


def test_request_reuses_prior_tool_outputs_with_internal_metadata(tmp_path: Path) -> None:
    writer = writer_for(tmp_path, ROOT_THREAD_ID)
    output = {"type": "tool_search_output", "status": "completed", "call_id": "call-search",
              "execution": "client",
              "tools": [{"name": "search",
                         "internal_chat_message_metadata_passthrough": "model-visible"}]}
    first_ref = request(writer, ROOT_THREAD_ID, "turn-1", "inference-1",
                        [message("user", "search"), output])
    start_turn_for_thread(writer, ROOT_THREAD_ID, "turn-2")
    request(writer, ROOT_THREAD_ID, "turn-2", "inference-2", [
        message("user", "search"),
        {**output, "internal_chat_message_metadata_passthrough": {"turn_id": "turn-1"}},
    ])
    trace = reduce(tmp_path)
    first, second = trace.inference_calls["inference-1"], trace.inference_calls["inference-2"]
    assert second.request_item_ids == first.request_item_ids
    body = trace.conversation_items[first.request_item_ids[1]].body.model_dump(mode="json")
    # Only the top-level passthrough is stripped; nested fields are model-visible content.
    assert body == {"parts": [{"type": "json", "raw_payload_id": first_ref.raw_payload_id,
                               "summary": json.dumps(output, separators=(",", ":"),
                                                     sort_keys=True)}]}
    assert len(trace.conversation_items) == 2


def test_call_id_reuse_with_different_nested_metadata_is_an_error(tmp_path: Path) -> None:
    writer = writer_for(tmp_path, ROOT_THREAD_ID)

    def output(nested: str, **extra: Any) -> Json:
        return {"type": "tool_search_output", "status": "completed", "call_id": "call-search",
                "execution": "client",
                "tools": [{"name": "search",
                           "internal_chat_message_metadata_passthrough": nested}], **extra}

    request(writer, ROOT_THREAD_ID, "turn-1", "inference-1", [output("first")])
    start_turn_for_thread(writer, ROOT_THREAD_ID, "turn-2")
    request(writer, ROOT_THREAD_ID, "turn-2", "inference-2", [
        output("different", internal_chat_message_metadata_passthrough={"turn_id": "turn-1"})])
    assert ("model-visible call id call-search was reused with different content"
            in reduce_error(tmp_path))


def test_message_identity_ignores_passthrough_metadata_in_both_dialects(tmp_path: Path) -> None:
    writer = writer_for(tmp_path, ROOT_THREAD_ID)
    user = message("user", "hello")
    request(writer, ROOT_THREAD_ID, "turn-1", "inference-1", [user])
    start_turn_for_thread(writer, ROOT_THREAD_ID, "turn-2")
    request(writer, ROOT_THREAD_ID, "turn-2", "inference-2",
            [{**user, "internal_chat_message_metadata_passthrough": {"turn_id": "turn-1"}}])
    seed = reduce(tmp_path, "seed")
    upstream = reduce(tmp_path)
    # A message's identity is its role and text in both dialects; the field is ignored.
    assert (seed.inference_calls["inference-2"].request_item_ids
            == seed.inference_calls["inference-1"].request_item_ids)
    assert (upstream.inference_calls["inference-2"].request_item_ids
            == upstream.inference_calls["inference-1"].request_item_ids)


def _usage(**extra: int) -> Json:
    return {"input_tokens": 10, "cached_input_tokens": 1, **extra, "output_tokens": 5,
            "reasoning_output_tokens": 2, "total_tokens": 15}


def test_token_usage_reads_cache_write_input_tokens(tmp_path: Path) -> None:
    writer = writer_for(tmp_path, ROOT_THREAD_ID)
    request(writer, ROOT_THREAD_ID, "turn-1", "inference-1", [message("user", "run tests")])
    respond(writer, ROOT_THREAD_ID, "turn-1", "inference-1", [message("assistant", "ok")],
            _usage(cache_write_input_tokens=3))
    request(writer, ROOT_THREAD_ID, "turn-1", "inference-2", [message("user", "again")])
    respond(writer, ROOT_THREAD_ID, "turn-1", "inference-2", [message("assistant", "ok")],
            _usage())
    trace = reduce(tmp_path)
    state = json.loads(trace.to_state_json())["inference_calls"]
    assert state["inference-1"]["usage"] == {
        "input_tokens": 10, "cached_input_tokens": 1, "cache_write_input_tokens": 3,
        "output_tokens": 5, "reasoning_output_tokens": 2}
    # Read with default 0 and always written in the upstream dialect.
    assert state["inference-2"]["usage"]["cache_write_input_tokens"] == 0
    seed = json.loads(reduce(tmp_path, "seed").to_state_json())["inference_calls"]
    assert "cache_write_input_tokens" not in seed["inference-1"]["usage"]


# --- rows 9 and 10 ---------------------------------------------------------------------


def test_mcp_tool_call_output_is_still_accepted(tmp_path: Path) -> None:
    writer = writer_for(tmp_path, ROOT_THREAD_ID)
    request(writer, ROOT_THREAD_ID, "turn-1", "inference-1", [
        message("user", "look it up"),
        {"type": "mcp_tool_call_output", "call_id": "call-mcp", "output": {"content": []}},
    ])
    trace = reduce(tmp_path)
    ids = trace.inference_calls["inference-1"].request_item_ids
    assert trace.conversation_items[ids[1]].kind.value == "function_call_output"


@pytest.mark.parametrize("dialect", ["seed", "upstream"])
@pytest.mark.parametrize("event_type", ["context_anchor_saved", "context_rewound_to_anchor"])
def test_context_anchor_events_stay_breadcrumbs(tmp_path: Path, dialect: str,
                                                event_type: str) -> None:
    writer = writer_for(tmp_path, ROOT_THREAD_ID)
    ref = writer.write_json_payload("protocol_event", {"type": event_type, "anchor_id": "a-1"})
    writer.append({"type": "protocol_event_observed", "event_type": event_type,
                   "event_payload": ref})
    trace = reduce(tmp_path, dialect)
    assert trace.raw_payloads[ref.raw_payload_id].kind.type.value == "protocol_event"


# --- detection -------------------------------------------------------------------------


def _detected(bundle: Path) -> tuple[str, str]:
    result = replay(bundle, dialect="auto")
    return result.dialect.value, result.dialect_reason


def _seed_writer(bundle: Path) -> TraceWriter:
    # The seed writer: no event-level evidence at all, only payload shapes.
    writer = TraceWriter.create(bundle, "trace-1", ROOT, ROOT, clock=fake_clock())
    OPEN_WRITERS.append(writer)
    start_thread(writer, ROOT, "/root")
    start_turn_for_thread(writer, ROOT, "turn-1")
    return writer


def test_auto_detects_additional_tools(tmp_path: Path) -> None:
    writer = _seed_writer(tmp_path)
    request(writer, ROOT, "turn-1", "inference-1",
            [{"type": "additional_tools", "tools": []}, input_message("user", "hi")])
    assert _detected(tmp_path) == ("upstream", "line 3: an additional_tools request item")


def test_auto_detects_two_part_agent_message(tmp_path: Path) -> None:
    writer = _seed_writer(tmp_path)
    start_thread(writer, CHILD, CHILD_PATH)
    start_turn_for_thread(writer, CHILD, "turn-child-1")
    request(writer, CHILD, "turn-child-1", "inference-child-1",
            [two_part("/root", CHILD_PATH, "sealed")])
    assert _detected(tmp_path) == ("upstream", "line 5: a two-part agent_message")


def test_auto_detects_cache_write_tokens(tmp_path: Path) -> None:
    writer = _seed_writer(tmp_path)
    request(writer, ROOT, "turn-1", "inference-1", [input_message("user", "hi")])
    ref = writer.write_json_payload("inference_response", {
        "response_id": "resp-1", "token_usage": _usage(cache_write_input_tokens=0),
        "output_items": []})
    writer.append({"type": "inference_completed", "inference_call_id": "inference-1",
                   "response_id": "resp-1", "response_payload": ref})
    assert _detected(tmp_path) == ("upstream", "line 4: token_usage.cache_write_input_tokens")


@pytest.mark.parametrize(("operation", "outcome", "reason"), [
    ("send_message", None, "SubAgentActivity.operation"),
    (None, "succeeded", "SubAgentActivity.outcome"),
])
def test_auto_detects_sub_agent_activity_fields(
    tmp_path: Path, operation: str | None, outcome: str | None, reason: str
) -> None:
    writer = _seed_writer(tmp_path)
    agent_tool(writer, "call-send", "send_message", {"type": "send_message"},
               {"target": CHILD_PATH, "message": "hi"})
    activity(writer, "call-send", "interacted", operation=operation, outcome=outcome)
    assert _detected(tmp_path) == ("upstream", f"line 4: {reason}")


def test_auto_stays_seed_without_new_evidence(tmp_path: Path) -> None:
    writer = _seed_writer(tmp_path)
    # Look-alike text in a seed payload is not evidence.
    request(writer, ROOT, "turn-1", "inference-1",
            [input_message("user", 'what is "additional_tools" or "agent_message"?')])
    assert _detected(tmp_path) == ("seed", "no newer-format evidence")
