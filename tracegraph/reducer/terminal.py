"""Terminal operations and sessions for exec-like tool calls.

Protocol-backed exec events carry ``ExecCommand*`` payloads with the richest
runtime facts. ``write_stdin`` has no runtime begin event, so its terminal row
is built from the canonical dispatch invocation/result payloads, which carry
the session join key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracegraph.bundle import serde_json
from tracegraph.errors import TraceError, safe_name
from tracegraph.model.payload import RawPayloadRef
from tracegraph.model.runtime import (
    ExecCommandRequest,
    TerminalModelObservation,
    TerminalObservationSource,
    TerminalOperation,
    TerminalOperationKind,
    TerminalResult,
    TerminalSession,
    WriteStdinRequest,
)
from tracegraph.model.session import ExecutionStatus, running_window
from tracegraph.reducer.normalize import MISSING, get
from tracegraph.reducer.serde_shapes import (
    ShapeError,
    describe,
    field,
    i32,
    json_value,
    read_struct,
    read_struct_text,
    seq_of,
    string,
    u64,
)
from tracegraph.reducer.state import Domain, Peers, ReplayContext, push_unique

__all__ = ["ParsedTerminalRequest", "ParsedTerminalResponse", "TerminalReducer"]

_OPERATION_KINDS = {
    "exec_command": TerminalOperationKind.EXEC_COMMAND,
    "write_stdin": TerminalOperationKind.WRITE_STDIN,
}


# The serde shapes read for every exec/write_stdin operation, built once.
_EXEC_BEGIN_FIELDS = (
    field("process_id", string, optional=True),
    field("command", seq_of(string)),
    field("cwd", string),
    field("interaction_input", string, optional=True),
)
_EXEC_END_FIELDS = (
    field("process_id", string, optional=True),
    field("stdout", string),
    field("stderr", string),
    field("exit_code", i32),
    field("formatted_output", string),
)
_DISPATCH_PAYLOAD_FIELDS = (
    field("type", string),
    field("arguments", string, optional=True),
)
_DISPATCH_REQUEST_FIELDS = (
    field("tool_name", string),
    field("payload", lambda inner: read_struct(inner, "DispatchedToolPayload",
                                               _DISPATCH_PAYLOAD_FIELDS)),
)
_WRITE_STDIN_ARGS_FIELDS = (
    field("session_id", json_value),
    field("chars", string, default=""),
    field("yield_time_ms", u64, optional=True),
    field("max_output_tokens", u64, optional=True),
)


@dataclass(slots=True)
class ParsedTerminalRequest:
    terminal_id: str | None
    request: ExecCommandRequest | WriteStdinRequest


@dataclass(slots=True)
class ParsedTerminalResponse:
    terminal_id: str | None
    result: TerminalResult


class TerminalReducer(Domain):
    def __init__(self, context: ReplayContext, peers: Peers) -> None:
        super().__init__(context, peers)
        #: Ordinal of the next ``terminal_operation:N``: ids follow start order, never reused.
        self._next_operation_ordinal = 1

    def start_terminal_operation_from_invocation(
        self,
        seq: int,
        wall_time_unix_ms: int,
        thread_id: str,
        tool_call_id: str,
        kind: str,
        invocation_payload: RawPayloadRef | None,
    ) -> str | None:
        if kind != "write_stdin":
            return None
        # Payload writes are best effort in the recorder: without the
        # invocation, keep the ToolCall and do not fabricate a lossy row.
        if invocation_payload is None:
            return None
        payload = self.read_payload_json(invocation_payload)
        try:
            request = _parse_dispatch_terminal_request(payload)
        except (ShapeError, TraceError) as err:
            raise TraceError(
                f"parse terminal invocation payload {invocation_payload.raw_payload_id} as "
                f"dispatch payload: {err}"
            ) from err
        return self._insert_terminal_operation(
            seq, wall_time_unix_ms, thread_id, tool_call_id,
            TerminalOperationKind.WRITE_STDIN, invocation_payload, request,
        )

    def start_terminal_operation_from_runtime(
        self,
        seq: int,
        wall_time_unix_ms: int,
        thread_id: str,
        tool_call_id: str,
        kind: str,
        runtime_payload: RawPayloadRef,
    ) -> str | None:
        operation_kind = _OPERATION_KINDS.get(kind)
        if operation_kind is None:
            return None
        payload = self.read_payload_json(runtime_payload)
        try:
            begin = read_struct(payload, "ExecCommandBeginPayload", _EXEC_BEGIN_FIELDS)
        except ShapeError as err:
            raise TraceError(
                f"parse terminal runtime start payload {runtime_payload.raw_payload_id}: {err}"
            ) from err
        # Plain exec starts may learn their process id only at the end event.
        request: ExecCommandRequest | WriteStdinRequest
        if operation_kind is TerminalOperationKind.EXEC_COMMAND:
            request = ExecCommandRequest(
                command=begin["command"],
                display_command=" ".join(begin["command"]),
                cwd=begin["cwd"],
            )
        else:
            stdin = begin["interaction_input"]
            request = WriteStdinRequest(stdin=stdin if stdin is not None else "")
        return self._insert_terminal_operation(
            seq, wall_time_unix_ms, thread_id, tool_call_id, operation_kind, runtime_payload,
            ParsedTerminalRequest(begin["process_id"], request),
        )

    def _insert_terminal_operation(
        self,
        seq: int,
        wall_time_unix_ms: int,
        thread_id: str,
        tool_call_id: str,
        operation_kind: TerminalOperationKind,
        raw_payload: RawPayloadRef,
        parsed: ParsedTerminalRequest,
    ) -> str:
        operation_id = f"terminal_operation:{self._next_operation_ordinal}"
        self._next_operation_ordinal += 1
        self.rollout.terminal_operations[operation_id] = TerminalOperation(
            operation_id=operation_id,
            terminal_id=parsed.terminal_id,
            tool_call_id=tool_call_id,
            kind=operation_kind,
            execution=running_window(wall_time_unix_ms, seq),
            request=parsed.request,
            raw_payload_ids=[raw_payload.raw_payload_id],
        )
        if parsed.terminal_id is not None:
            self._ensure_terminal_session(
                thread_id, parsed.terminal_id, operation_id, wall_time_unix_ms, seq
            )
        return operation_id

    def end_terminal_operation(
        self,
        seq: int,
        wall_time_unix_ms: int,
        thread_id: str,
        operation_id: str,
        status: ExecutionStatus,
        response_payload: RawPayloadRef | None,
    ) -> None:
        operation = self.rollout.terminal_operations.get(operation_id)
        if operation is None:
            raise TraceError(f"terminal end referenced unknown operation {operation_id}")
        response = None
        if response_payload is not None:
            value = self.read_payload_json(response_payload)
            response = _parse_terminal_response_payload(
                value, operation.kind, response_payload.raw_payload_id
            )
        operation.execution.end(wall_time_unix_ms, seq, status)
        if response is not None and response_payload is not None:
            push_unique(operation.raw_payload_ids, response_payload.raw_payload_id)
            # Begin and end must agree on the process id; an end may complete
            # a join key the begin did not know.
            if operation.terminal_id is not None and response.terminal_id is not None:
                if operation.terminal_id != response.terminal_id:
                    raise TraceError(
                        f"terminal operation {operation_id} changed process id from "
                        f"{operation.terminal_id} to {response.terminal_id}"
                    )
            elif response.terminal_id is not None:
                operation.terminal_id = response.terminal_id
            operation.result = response.result
        if operation.terminal_id is not None:
            self._ensure_terminal_session(
                thread_id,
                operation.terminal_id,
                operation_id,
                operation.execution.started_at_unix_ms,
                operation.execution.started_seq,
            )

    def _ensure_terminal_session(
        self,
        thread_id: str,
        terminal_id: str,
        operation_id: str,
        started_at_unix_ms: int,
        started_seq: int,
    ) -> None:
        session = self.rollout.terminal_sessions.get(terminal_id)
        if session is None:
            # Raw events report no session shutdown, so sessions stay running.
            session = TerminalSession(
                terminal_id=terminal_id,
                thread_id=thread_id,
                created_by_operation_id=operation_id,
                execution=running_window(started_at_unix_ms, started_seq),
            )
            self.rollout.terminal_sessions[terminal_id] = session
        if session.thread_id != thread_id:
            raise TraceError(
                f"terminal session {terminal_id} belongs to thread {session.thread_id}, "
                f"not {thread_id}"
            )
        push_unique(session.operation_ids, operation_id)

    def sync_terminal_model_observation(self, tool_call_id: str) -> None:
        """Mirror the tool's model-visible items onto its terminal operation.

        The terminal result is what the runtime saw; the items are what later
        inference payloads prove was shown to the model.
        """
        tool_call = self.rollout.tool_calls.get(tool_call_id)
        if tool_call is None:
            raise TraceError(
                f"tool call {tool_call_id} disappeared during terminal observation linking"
            )
        operation_id = tool_call.terminal_operation_id
        if operation_id is None:
            return
        call_item_ids = tool_call.model_visible_call_item_ids
        output_item_ids = tool_call.model_visible_output_item_ids
        if not call_item_ids and not output_item_ids:
            return
        operation = self.rollout.terminal_operations.get(operation_id)
        if operation is None:
            raise TraceError(
                f"terminal operation {operation_id} disappeared during observation linking"
            )
        for observation in operation.model_observations:
            if observation.source == TerminalObservationSource.DIRECT_TOOL_CALL:
                # Every later sighting of the items syncs again; most change nothing.
                if observation.call_item_ids != call_item_ids:
                    observation.call_item_ids = list(call_item_ids)
                if observation.output_item_ids != output_item_ids:
                    observation.output_item_ids = list(output_item_ids)
                return
        operation.model_observations.append(
            TerminalModelObservation(
                call_item_ids=list(call_item_ids),
                output_item_ids=list(output_item_ids),
                source=TerminalObservationSource.DIRECT_TOOL_CALL,
            )
        )


def _parse_dispatch_terminal_request(value: Any) -> ParsedTerminalRequest:
    payload = read_struct(value, "DispatchedToolTraceRequestPayload", _DISPATCH_REQUEST_FIELDS)
    if payload["tool_name"] != "write_stdin":
        raise TraceError(
            f"dispatch terminal request is for {payload['tool_name']}, not write_stdin"
        )
    if payload["payload"]["type"] != "function":
        raise TraceError(
            f"write_stdin dispatch payload used unsupported {payload['payload']['type']} payload"
        )
    arguments = payload["payload"]["arguments"]
    if arguments is None:
        raise TraceError("write_stdin dispatch payload omitted function arguments")
    try:
        args = read_struct_text(arguments, "DispatchedWriteStdinArgs", _WRITE_STDIN_ARGS_FIELDS)
    except (ShapeError, serde_json.JsonError) as err:
        raise TraceError(f"parse write_stdin dispatch function arguments: {err}") from err
    terminal_id = _terminal_id_from_json(args["session_id"])
    if terminal_id is None:
        raise TraceError("write_stdin dispatch payload omitted session_id")
    return ParsedTerminalRequest(
        terminal_id,
        WriteStdinRequest(
            stdin=args["chars"],
            yield_time_ms=args["yield_time_ms"],
            max_output_tokens=args["max_output_tokens"],
        ),
    )


def _parse_terminal_response_payload(
    value: Any, operation_kind: TerminalOperationKind, raw_payload_id: str
) -> ParsedTerminalResponse:
    try:
        return _parse_protocol_terminal_response(value)
    except ShapeError as protocol_err:
        if operation_kind is TerminalOperationKind.EXEC_COMMAND:
            raise TraceError(
                f"parse exec terminal response {raw_payload_id}: {protocol_err}"
            ) from protocol_err
        try:
            return _parse_dispatch_terminal_response(value)
        except ShapeError as err:
            raise TraceError(
                f"parse write_stdin terminal response {raw_payload_id} as protocol payload "
                f"({protocol_err}) or dispatch payload: {err}"
            ) from err


def _parse_protocol_terminal_response(value: Any) -> ParsedTerminalResponse:
    end = read_struct(value, "ExecCommandEndPayload", _EXEC_END_FIELDS)
    return ParsedTerminalResponse(
        end["process_id"],
        TerminalResult(
            exit_code=end["exit_code"],
            stdout=end["stdout"],
            stderr=end["stderr"],
            formatted_output=end["formatted_output"],
        ),
    )


_RESPONSE_VARIANTS = ("direct_response", "code_mode_response", "error")


def _parse_dispatch_terminal_response(value: Any) -> ParsedTerminalResponse:
    if not isinstance(value, dict):
        raise ShapeError(
            f"invalid type: {describe(value)}, expected internally tagged enum "
            "DispatchedToolTraceResponsePayload"
        )
    if "type" not in value:
        raise ShapeError("missing field `type`")
    tag = value["type"]
    if not isinstance(tag, str):
        raise ShapeError(f"invalid type: {describe(tag)}, expected variant identifier")
    if tag not in _RESPONSE_VARIANTS:
        raise ShapeError(
            f"unknown variant `{safe_name(tag)}`, expected one of `direct_response`, "
            "`code_mode_response`, `error`"
        )
    if tag == "direct_response":
        response_item = read_struct(value, "DirectResponse", [
            field("response_item", json_value)
        ])["response_item"]
        output = _json_text_content(get(response_item, "output"))
        if output is None:
            output = serde_json.dumps_compact(response_item)
        result = TerminalResult(exit_code=None, stdout=output, stderr="", formatted_output=output)
    elif tag == "code_mode_response":
        code_value = read_struct(value, "CodeModeResponse", [field("value", json_value)])["value"]
        # Code mode returns the JavaScript-facing value (the structured
        # unified-exec result), not the text the model saw.
        result = _parse_code_mode_exec_result(code_value)
    else:
        error = read_struct(value, "Error", [field("error", string)])["error"]
        result = TerminalResult(exit_code=None, stdout="", stderr=error, formatted_output=error)
    return ParsedTerminalResponse(None, result)


def _parse_code_mode_exec_result(value: Any) -> TerminalResult:
    try:
        parsed = read_struct(value, "CodeModeExecResult", [
            field("chunk_id", string, optional=True),
            field("exit_code", i32, optional=True),
            field("original_token_count", u64, optional=True),
            field("output", string),
        ])
    except ShapeError:
        output = _json_text_content(value)
        if output is None:
            output = serde_json.dumps_compact(value)
        return TerminalResult(exit_code=None, stdout=output, stderr="", formatted_output=output)
    return TerminalResult(
        exit_code=parsed["exit_code"],
        stdout=parsed["output"],
        stderr="",
        formatted_output=parsed["output"],
        original_token_count=parsed["original_token_count"],
        chunk_id=parsed["chunk_id"],
    )





def _json_text_content(value: Any) -> str | None:
    if value is MISSING:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = [
            text for element in value
            if isinstance(element, dict) and isinstance(text := element.get("text"), str)
        ]
        joined = "\n".join(texts)
        return joined or None
    if value is None:
        return None
    return serde_json.dumps_compact(value)


def _terminal_id_from_json(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return serde_json.format_float(value)
    return None
