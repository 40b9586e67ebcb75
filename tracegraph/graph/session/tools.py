"""The tool calls of one thread: ToolCall and CodeCell nodes, terminal operations.

:class:`ThreadTools` starts a call at its call item and ends it at the output with
the same ``call_id``; its status also weighs end events that may come after the
output (``exec_command_end``, a failed patch or MCP call), collected before the
records are read. Once the file has been read every call becomes a node, with the
TerminalOperation and TerminalSession of an ``exec_command``/``write_stdin``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tracegraph.graph.project import preview
from tracegraph.graph.schema import Label, Rel
from tracegraph.graph.session.builder import RolloutBuilder
from tracegraph.graph.session.turns import ThreadTurns
from tracegraph.graph.session.vocabulary import is_failed_end, text_or_none
from tracegraph.sessions.group import ThreadSource
from tracegraph.sessions.lines import Record
from tracegraph.sessions.tools import (
    TerminalEvidence,
    TerminalRequest,
    arguments,
    end_evidence,
    parse_output,
    terminal_request,
    tool_kind,
)

__all__ = ["OPERATION_COUNT", "ThreadTools", "Tool"]

#: A TerminalSession attribute counting its operations while the graph is built (the
#: USED_TERMINAL positions); dropped once the rollout's graph is complete.
OPERATION_COUNT = "_operations"


@dataclass(slots=True)
class Tool:
    """One tool call as read so far."""

    tool_id: str
    call_id: str
    label: Label
    name: str
    kind: str
    call_item: str
    call_type: str
    args: dict[str, Any]
    turn_id: str | None
    started_at: int | None
    started_seq: int
    namespace: str | None = None
    output_item: str | None = None
    output: Any = None
    ended_at: int | None = None
    ended_seq: int | None = None
    status: str | None = None
    source_js: str | None = None


class ThreadTools:
    """One thread's tool calls by ``call_id``, in the order they started."""

    def __init__(self, builder: RolloutBuilder, index: int, source: ThreadSource,
                 turns: ThreadTurns) -> None:
        self.builder = builder
        self.index = index
        self.source = source
        self.thread_id = source.thread_id
        self.turns = turns
        self.tools: dict[str, Tool] = {}
        self.end_evidence: dict[str, TerminalEvidence] = {}
        self.failed_calls: set[str] = set()

    def seq(self, record: Record) -> int:
        return self.builder.seq(self.index, record.line)

    # --- evidence that arrives after the output it completes ------------------

    def collect_end_evidence(self) -> None:
        for record in self.source.own:
            if record.type != "event_msg":
                continue
            payload = record.payload
            kind = payload.get("type")
            call_id = text_or_none(payload.get("call_id"))
            if kind == "exec_command_end" and call_id:
                self.end_evidence.setdefault(call_id, end_evidence("exec_command_end", payload))
            elif kind == "item_completed" and isinstance(payload.get("item"), dict):
                item = payload["item"]
                item_id = text_or_none(item.get("id"))
                if item.get("type") == "CommandExecution" and item_id:
                    self.end_evidence[item_id] = end_evidence("command_execution", item)
                elif item.get("type") == "CollabAgentToolCall" and item_id:
                    receivers = item.get("receiver_thread_ids")
                    if item.get("tool") == "spawn_agent" and isinstance(receivers, list) \
                            and receivers and isinstance(receivers[0], str):
                        self.builder.note_spawned_child(item_id, receivers[0])
            elif kind == "collab_agent_spawn_end" and call_id and text_or_none(
                    payload.get("new_thread_id")):
                self.builder.note_spawned_child(call_id, payload["new_thread_id"])
            elif call_id and is_failed_end(kind, payload):
                self.failed_calls.add(call_id)

    # --- calls and outputs ------------------------------------------------------

    def start(self, record: Record, payload: dict[str, Any], item_type: str, item: str,
              call_id: str, turn_id: str | None) -> None:
        name = text_or_none(payload.get("name")) or item_type
        namespace = text_or_none(payload.get("namespace"))
        if item_type == "local_shell_call":
            action = payload.get("action")
            args = action if isinstance(action, dict) else {}
        elif item_type == "custom_tool_call":
            args = {"input": payload.get("input")}
        else:
            args = arguments(payload.get("arguments"))
        code_cell = item_type == "custom_tool_call" and name == "exec"
        kind = "code_cell" if code_cell else tool_kind(name, namespace)[0]
        tool = Tool(
            tool_id=self.builder.unique(f"code_cell:{call_id}" if code_cell else call_id,
                                        self.thread_id),
            call_id=call_id,
            label=Label.CODE_CELL if code_cell else Label.TOOL_CALL,
            name=name, kind=kind, call_item=item, call_type=item_type, args=args,
            turn_id=turn_id, started_at=record.timestamp_ms, started_seq=self.seq(record),
            namespace=namespace,
            source_js=payload.get("input") if code_cell and isinstance(payload.get("input"), str)
            else None,
        )
        if item_type == "web_search_call":
            tool.status = "completed" if payload.get("status") == "completed" else None
            tool.ended_at, tool.ended_seq = record.timestamp_ms, self.seq(record)
        self.tools[call_id] = tool

    def end(self, record: Record, payload: dict[str, Any], item: str, call_id: str) -> None:
        tool = self.tools.get(call_id)
        if tool is None:
            return
        tool.output_item = item
        tool.output = payload.get("output")
        tool.ended_at, tool.ended_seq = record.timestamp_ms, self.seq(record)
        output = payload.get("output")
        failed = (call_id in self.failed_calls
                  or (isinstance(output, dict) and output.get("success") is False))
        evidence = self.end_evidence.get(call_id)
        if evidence is not None and evidence.status in ("failed", "declined"):
            failed = True
        tool.status = "failed" if failed else "completed"

    # --- the graph ------------------------------------------------------------------

    def add_to_graph(self, responded_by: dict[str, str]) -> None:
        """Every call's node and edges; ``responded_by`` is each item's inference call."""
        for call_id, tool in self.tools.items():
            this = (tool.label, tool.tool_id)
            if tool.status is None:
                turn_status = self.turns.status_of(tool.turn_id)
                ended = turn_status is not None and turn_status != "running"
                tool.status = ("aborted" if turn_status == "aborted"
                               else "cancelled" if ended and not self.source.file.torn
                               else "running")
            execution = dict(
                status=tool.status, started_at_unix_ms=tool.started_at,
                started_seq=tool.started_seq, ended_at_unix_ms=tool.ended_at,
                ended_seq=tool.ended_seq,
                duration_ms=None if tool.ended_at is None or tool.started_at is None
                else tool.ended_at - tool.started_at,
            )
            if tool.label is Label.CODE_CELL:
                self.builder.node(Label.CODE_CELL, tool.tool_id, thread_id=self.thread_id,
                                  codex_turn_id=tool.turn_id, model_visible_call_id=call_id,
                                  runtime_status=tool.status if tool.status in (
                                      "completed", "failed", "running") else "terminated",
                                  source_js=tool.source_js, **execution)
            else:
                kind, display, server, mcp_tool = tool_kind(tool.name, tool.namespace)
                operation = (f"terminal_operation:{tool.tool_id}"
                             if kind in ("exec_command", "write_stdin") else None)
                self.builder.node(
                    Label.TOOL_CALL, tool.tool_id, thread_id=self.thread_id,
                    started_by_codex_turn_id=tool.turn_id, model_visible_call_id=call_id,
                    requester="model", kind=kind, tool_name=display, mcp_server=server,
                    mcp_tool=mcp_tool, namespace=tool.namespace,
                    terminal_operation_id=operation,
                    summary="terminal" if operation else "generic",
                    summary_label=None if operation else display, **execution,
                )
                if kind in ("spawn_agent", "send_message", "assign_agent_task", "close_agent"):
                    self.builder.note_agent_call(self.source, tool)
                if operation is not None:
                    self.add_operation(tool, operation, kind, execution)
            self.turns.contain(this, tool.turn_id)
            inference = responded_by.get(tool.call_item)
            self.builder.edge(Rel.STARTED, (Label.INFERENCE_CALL, inference), this,
                              "response_item")
            self.builder.edge(Rel.INVOKED, (Label.CONVERSATION_ITEM, tool.call_item), this,
                              "call_item", position=0)
            if tool.output_item is not None:
                self.builder.edge(Rel.RESULTED_IN, this,
                                  (Label.CONVERSATION_ITEM, tool.output_item), "call_id",
                                  position=0)
                self.builder.edge(Rel.ANSWERED_BY, (Label.CONVERSATION_ITEM, tool.call_item),
                                  (Label.CONVERSATION_ITEM, tool.output_item), "call_id")

    def add_operation(self, tool: Tool, operation: str, kind: str,
                      execution: dict[str, Any]) -> None:
        """The TerminalOperation of a terminal tool call, and the session it used."""
        request: TerminalRequest = terminal_request(kind, tool.name, tool.args)
        evidence = self.end_evidence.get(tool.call_id)
        if evidence is None and tool.output_item is not None:
            evidence = parse_output(tool.output)
        terminal = request.terminal_id or (evidence.terminal_id if evidence else None)
        if terminal is not None:
            owner = self.builder.claim_terminal(terminal, self.thread_id)
            if owner != self.thread_id:
                terminal = f"{self.thread_id}:{terminal}"
        has_result = evidence is not None
        duration = evidence.duration_ms if evidence and evidence.duration_ms is not None \
            else execution["duration_ms"]
        output = evidence.output if evidence else ""
        self.builder.node(
            Label.TERMINAL_OPERATION, operation, terminal_id=terminal, tool_call_id=tool.tool_id,
            kind=kind, command=request.command, display_command=request.display_command,
            cwd=request.cwd or (text_or_none(self.source.meta.get("cwd"))
                                if kind == "exec_command" else None),
            stdin=request.stdin, yield_time_ms=request.yield_time_ms,
            max_output_tokens=request.max_output_tokens, has_result=has_result,
            exit_code=evidence.exit_code if evidence else None,
            stdout_preview=preview(output), stdout_chars=len(output) if has_result else None,
            original_token_count=evidence.original_token_count if evidence else None,
            chunk_id=evidence.chunk_id if evidence else None,
            duration_source=evidence.source if evidence else None,
            **{**execution, "duration_ms": duration},
        )
        this = (Label.TERMINAL_OPERATION, operation)
        self.builder.edge(Rel.EXECUTED, (Label.TOOL_CALL, tool.tool_id), this, "exec_tool")
        self.builder.edge(Rel.OBSERVED_BY, this, (Label.CONVERSATION_ITEM, tool.call_item),
                          "call_id", observation=0, role="call", source="direct_tool_call",
                          position=0)
        self.builder.edge(Rel.OBSERVED_BY, this, (Label.CONVERSATION_ITEM, tool.output_item),
                          "call_id", observation=0, role="output", source="direct_tool_call",
                          position=0)
        if terminal is None:
            return
        exited = evidence is not None and evidence.exit_code is not None
        if not self.builder.has_node(Label.TERMINAL_SESSION, terminal):
            self.builder.node(Label.TERMINAL_SESSION, terminal, thread_id=self.thread_id,
                              created_by_operation_id=operation, status="running",
                              started_at_unix_ms=execution["started_at_unix_ms"],
                              started_seq=execution["started_seq"])
            self.builder.edge(Rel.CONTAINS, (Label.THREAD, self.thread_id),
                              (Label.TERMINAL_SESSION, terminal), "thread_file")
            self.builder.edge(Rel.CREATED_TERMINAL, this, (Label.TERMINAL_SESSION, terminal),
                              "session_id")
        session = self.builder.node_data(Label.TERMINAL_SESSION, terminal)
        position = session.get(OPERATION_COUNT, 0)
        session[OPERATION_COUNT] = position + 1
        self.builder.edge(Rel.USED_TERMINAL, this, (Label.TERMINAL_SESSION, terminal),
                          "session_id", position=position)
        if exited:
            session.update(status="completed", ended_at_unix_ms=execution["ended_at_unix_ms"],
                           ended_seq=execution["ended_seq"])
            if execution["ended_at_unix_ms"] is not None and session.get(
                    "started_at_unix_ms") is not None:
                session["duration_ms"] = (execution["ended_at_unix_ms"]
                                          - session["started_at_unix_ms"])
