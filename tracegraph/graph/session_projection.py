"""The typed graph of one grouped rollout of session files.

Labels, edge types and attribute names are the graph schema's
(:mod:`tracegraph.graph.schema`), so the canned queries, GraphML and the Neo4j
exporter work unchanged. Every edge is ``provenance: derived`` with the session
rules of :data:`~tracegraph.graph.schema.SESSION_RULES` in ``derived_by``.
What a session file does not record is left out: request snapshots (no
PROMPTED edges), raw payloads, inference start times, nested code-mode calls.

``started_seq``/``ended_seq`` are the rollout-wide line order: the own lines of
every thread sorted by their timestamps (ties by thread, then line).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import networkx as nx

from tracegraph.graph.project import preview
from tracegraph.graph.schema import (
    GRAPH_SCHEMA_VERSION,
    SCHEMA,
    SESSION_RULES,
    Label,
    Rel,
    Source,
)
from tracegraph.sessions.group import RolloutGroup, ThreadSource
from tracegraph.sessions.lines import Record, parse_timestamp_ms
from tracegraph.sessions.tools import (
    TerminalEvidence,
    TerminalRequest,
    arguments,
    end_evidence,
    output_text,
    parse_output,
    terminal_request,
    tool_kind,
)

__all__ = ["project_session_rollout"]

#: Response item types: (role, channel, kind) like the reducer's normalization.
_ITEM_SHAPES: dict[str, tuple[str, str | None, str]] = {
    "function_call": ("assistant", "commentary", "function_call"),
    "function_call_output": ("tool", "commentary", "function_call_output"),
    "custom_tool_call": ("assistant", "commentary", "custom_tool_call"),
    "custom_tool_call_output": ("tool", "commentary", "custom_tool_call_output"),
    "local_shell_call": ("assistant", "commentary", "function_call"),
    "web_search_call": ("assistant", "commentary", "function_call"),
    "tool_search_call": ("assistant", "commentary", "function_call"),
    "image_generation_call": ("assistant", "commentary", "function_call"),
    "tool_search_output": ("tool", "commentary", "function_call_output"),
    "reasoning": ("assistant", "analysis", "reasoning"),
    "compaction": ("assistant", "summary", "message"),
    "compaction_summary": ("assistant", "summary", "message"),
    "context_compaction": ("assistant", "summary", "message"),
    "agent_message": ("assistant", "analysis", "message"),
}
_PHASES = {"commentary": "commentary", "final_answer": "final"}
_CALL_TYPES = frozenset({"function_call", "custom_tool_call", "local_shell_call",
                         "web_search_call", "tool_search_call", "image_generation_call"})
_OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output",
                           "tool_search_output"})
#: Items of a model response (what RESPONDED_WITH points at).
_MODEL_OUTPUT_TYPES = _CALL_TYPES | {"reasoning", "compaction", "compaction_summary",
                                     "context_compaction"}
#: Items written but not model-visible history.
_IGNORED_ITEMS = frozenset({"ghost_snapshot"})
#: Context the harness injects as user messages; not a user's turn input.
_INJECTED_PREFIXES = ("<environment_context>", "<user_instructions>", "# AGENTS.md",
                      "<permissions instructions>", "<turn_aborted>", "<subagent_notification>")

#: Event types that are read, or known copies of response items (never skipped as unknown).
_KNOWN_EVENTS = frozenset({
    "task_started", "turn_started", "task_complete", "turn_complete", "turn_aborted",
    "token_count", "user_message", "agent_message", "agent_reasoning",
    "agent_reasoning_raw_content", "agent_reasoning_section_break", "exec_command_end",
    "patch_apply_end", "mcp_tool_call_end", "web_search_end", "collab_agent_spawn_end",
    "collab_agent_interaction_end", "collab_waiting_end", "collab_close_end",
    "collab_resume_end", "sub_agent_activity", "context_compacted", "thread_rolled_back",
    "thread_settings_applied", "thread_goal_updated", "thread_name_updated", "item_completed",
    "entered_review_mode", "exited_review_mode", "undo_completed", "error", "view_image",
    "image_generation_end", "dynamic_tool_call_response", "plan_update", "warning",
})
_KNOWN_TURN_ITEMS = frozenset({
    "UserMessage", "AgentMessage", "Plan", "Reasoning", "CommandExecution", "DynamicToolCall",
    "CollabAgentToolCall", "SubAgentActivity", "WebSearch", "ImageView", "Extension",
    "ImageGeneration", "EnteredReviewMode", "ExitedReviewMode", "FileChange",
    "ContextCompaction", "NativeCodeMode", "McpToolCall", "Sleep",
})


#: Per edge type: attributes telling parallel edges apart, and its session rules in order.
_DISTINCT_BY = {edge.name: edge.distinct_by for edge in SCHEMA.edges}
_RULE_ORDER = {rel: [rule.name for rule in rules] for rel, rules in SESSION_RULES.items()}


def _s(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _i(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _seconds_ms(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * 1000)
    return None


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    return "\n".join(part["text"] for part in content
                     if isinstance(part, dict) and isinstance(part.get("text"), str))


@dataclass(slots=True)
class _Turn:
    turn_id: str
    started_at: int | None
    started_seq: int
    evidence: str
    ended_at: int | None = None
    ended_seq: int | None = None
    status: str = "running"
    duration_ms: int | None = None
    error: str | None = None
    inputs: list[str] = field(default_factory=list)
    #: Whether anything but user input has happened in the turn yet.
    began: bool = False


@dataclass(slots=True)
class _Tool:
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


class _Rollout:
    def __init__(self, group: RolloutGroup) -> None:
        self.group = group
        self.trace_id = group.root.thread_id
        self.graph: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        self.dangling: list[str] = []
        self.skipped: Counter[str] = Counter()
        self.item_ids: set[str] = set()
        #: Ids taken by tool calls and inference calls: a second thread reusing one (a
        #: copy not recognised as such) gets its thread id in front, never a merged node.
        self.taken: set[str] = set()
        order = sorted(
            ((record.timestamp_ms or 0, index, record.line)
             for index, thread in enumerate(group.threads) for record in thread.own),
        )
        self.seqs = {(index, line): seq for seq, (_, index, line) in enumerate(order, start=1)}
        #: spawn tool calls, close/send calls, agent messages: resolved once all threads exist.
        self.agent_calls: list[tuple[ThreadSource, _Tool]] = []
        self.agent_items: list[tuple[ThreadSource, str, str | None]] = []
        self.last_assistant: dict[str, str] = {}
        self.first_user: dict[str, str] = {}
        self.spawn_children: dict[str, str] = {}
        self.terminal_owner: dict[str, str] = {}

    # --- primitives ---------------------------------------------------------

    def key(self, label: Label, object_id: str) -> str:
        # node_key's format, without re-validating the label on every call.
        return f"{self.trace_id}/{label.value}/{object_id}"

    def node(self, label: Label, object_id: str, /, **attrs: Any) -> None:
        data = {"label": label.value, "trace_id": self.trace_id, "object_id": object_id}
        data.update((name, value) for name, value in attrs.items() if value is not None)
        self.graph.add_node(self.key(label, object_id), **data)

    def edge(self, rel: Rel, source: tuple[Label, str | None], target: tuple[Label, str | None],
             rule: str, /, **attrs: Any) -> None:
        (source_label, source_id), (target_label, target_id) = source, target
        if source_id is None or target_id is None:
            return
        u, v = self.key(source_label, source_id), self.key(target_label, target_id)
        if u not in self.graph or v not in self.graph:
            self.dangling.append(f"{rel.value} {u} -> {v}")
            return
        values = {name: value for name, value in attrs.items() if value is not None}
        edge_key = f"{u}|{rel.value}|{target_label.value}/{target_id}" + "".join(
            f"|{name}={values[name]}" for name in _DISTINCT_BY[rel] if name in values
        )
        if self.graph.has_edge(u, v, edge_key):
            data = self.graph.edges[u, v, edge_key]
            for name, value in values.items():
                data.setdefault(name, value)
            data["derived_by"] = sorted({*data["derived_by"], rule},
                                        key=_RULE_ORDER[rel].index)
            return
        self.graph.add_edge(u, v, key=edge_key, label=rel.value, edge_key=edge_key,
                            trace_id=self.trace_id, provenance="derived", derived_by=[rule],
                            **values)

    def unique(self, object_id: str, thread_id: str) -> str:
        if object_id in self.taken:
            object_id = f"{thread_id}:{object_id}"
        self.taken.add(object_id)
        return object_id

    # --- the rollout ----------------------------------------------------------

    def run(self) -> nx.MultiDiGraph:
        group = self.group
        root = group.root
        statuses = []
        for index, thread in enumerate(group.threads):
            statuses.append(_Thread(self, index, thread).run())
        self.add_agent_edges()
        started = root.file.records[0].timestamp_ms
        ended = max((r.timestamp_ms for t in group.threads for r in t.own
                     if r.timestamp_ms is not None), default=started)
        status = statuses[0]
        skipped = Counter(self.skipped)
        for thread in group.threads:
            skipped.update(thread.file.skipped)
        self.node(
            Label.ROLLOUT, root.thread_id, rollout_id=root.thread_id,
            status=status, started_at_unix_ms=started,
            ended_at_unix_ms=None if status == "running" else ended,
            duration_ms=None if status == "running" or started is None or ended is None
            else ended - started,
            root_thread_id=root.thread_id, source=Source.SESSION_ROLLOUT.value, era=group.era,
            session_files=[str(t.file.path) for t in group.threads],
            skipped=json.dumps(dict(sorted(skipped.items())), separators=(",", ":")),
            torn_files=[str(t.file.path) for t in group.threads if t.file.torn] or None,
            duplicate_files=group.duplicate_files or None,
            partial=any(t.file.torn for t in group.threads),
        )
        for thread in group.threads:
            self.edge(Rel.HAS_THREAD, (Label.ROLLOUT, root.thread_id),
                      (Label.THREAD, thread.thread_id), "session_file")
        self.graph.graph.update(
            trace_ids=[self.trace_id], graph_schema_version=GRAPH_SCHEMA_VERSION,
            dangling_references=list(dict.fromkeys(self.dangling)),
        )
        return self.graph

    def thread_by_ref(self, ref: Any) -> str | None:
        """A loaded thread named by id or agent path (a tool argument)."""
        if not isinstance(ref, str):
            return None
        for thread in self.group.threads:
            if ref in (thread.thread_id, thread.agent_path):
                return thread.thread_id
        return None

    def add_agent_edges(self) -> None:
        threads = {t.thread_id: t for t in self.group.threads}
        spawn_edges: dict[str, tuple[str, str]] = {}
        for source, tool in self.agent_calls:
            this = (Label.TOOL_CALL, tool.tool_id)
            if tool.kind == "spawn_agent":
                child = self.spawn_children.get(tool.tool_id) or _spawned_thread(tool.output)
                if child not in threads:
                    continue
                edge_id = f"spawn_agent:{tool.tool_id}"
                target = ((Label.CONVERSATION_ITEM, self.first_user[child])
                          if child in self.first_user else (Label.THREAD, child))
                self.edge(Rel.SPAWNED_AGENT, this, target, "spawn_output", edge_id=edge_id,
                          kind="spawn_agent", source_anchor="tool_call",
                          target_anchor="conversation_item" if target[0] is Label.CONVERSATION_ITEM
                          else "thread", started_at_unix_ms=tool.started_at,
                          ended_at_unix_ms=tool.ended_at)
                task = _s(tool.args.get("task_name"))
                self.edge(Rel.HAS_CHILD, (Label.THREAD, source.thread_id), (Label.THREAD, child),
                          "spawn_output", spawn_edge_id=edge_id, task_name=task)
                spawn_edges[child] = (edge_id, task or "")
                continue
            args = tool.args
            target_id = None
            for name in ("target", "id", "agent_id", "thread_id", "agent_path", "to", "agent"):
                target_id = self.thread_by_ref(args.get(name))
                if target_id is not None:
                    break
            rel, kind = {"send_message": (Rel.SENT_MESSAGE, "send_message"),
                         "assign_agent_task": (Rel.ASSIGNED_TASK, "assign_agent_task"),
                         "close_agent": (Rel.CLOSED_AGENT, "close_agent")}.get(tool.kind,
                                                                               (None, ""))
            if rel is None or target_id is None:
                continue
            self.edge(rel, this, (Label.THREAD, target_id), "target_argument",
                      edge_id=f"{kind}:{tool.tool_id}", kind=kind, source_anchor="tool_call",
                      target_anchor="thread", started_at_unix_ms=tool.started_at,
                      ended_at_unix_ms=tool.ended_at)
        for child_id, (edge_id, task) in spawn_edges.items():
            node = self.graph.nodes[self.key(Label.THREAD, child_id)]
            node["spawn_edge_id"] = edge_id
            if task:
                node.setdefault("task_name", task)
        # Results: an inter-agent message in a thread, authored by a loaded child.
        for receiver, item_id, author in self.agent_items:
            sender = self.thread_by_ref(author)
            if sender is None or sender == receiver.thread_id:
                continue
            anchor = ((Label.CONVERSATION_ITEM, self.last_assistant[sender])
                      if sender in self.last_assistant else (Label.THREAD, sender))
            record_node = self.graph.nodes[self.key(Label.CONVERSATION_ITEM, item_id)]
            self.edge(Rel.DELIVERED_RESULT, anchor, (Label.CONVERSATION_ITEM, item_id),
                      "inter_agent_communication", edge_id=f"agent_result:{item_id}",
                      kind="agent_result",
                      source_anchor="conversation_item"
                      if anchor[0] is Label.CONVERSATION_ITEM else "thread",
                      target_anchor="conversation_item",
                      started_at_unix_ms=record_node.get("first_seen_at_unix_ms"))


def _spawned_thread(output: Any) -> str | None:
    """The child thread a ``spawn_agent`` output names (``agent_id``, ``new_thread_id``...)."""
    text = output_text(output)
    try:
        value = json.loads(text) if text.startswith("{") else None
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        for name in ("agent_id", "new_thread_id", "thread_id", "id"):
            if isinstance(value.get(name), str):
                return str(value[name])
    return None


class _Thread:
    """One thread's own records, in file order."""

    def __init__(self, rollout: _Rollout, index: int, source: ThreadSource) -> None:
        self.r = rollout
        self.index = index
        self.source = source
        self.thread_id = source.thread_id
        self.items: list[str] = []
        self.live: list[str] = []
        self.pending: list[str] = []
        self.turns: dict[str, _Turn] = {}
        self.turn: _Turn | None = None
        self.tools: dict[str, _Tool] = {}
        self.model: str | None = None
        self.provider = _s(source.meta.get("model_provider"))
        self.last_total: int | None = None
        self.dropped = 0
        self.inferences = 0
        self.end_evidence: dict[str, TerminalEvidence] = {}
        self.failed_calls: set[str] = set()
        self.has_turn_events = any(
            r.type == "event_msg" and r.payload.get("type") in
            ("task_started", "turn_started", "task_complete", "turn_complete")
            for r in source.own)
        self.has_usage_records = any(r.type == "token_usage_record" for r in source.own)
        self.last_seq = 0
        self.default_model: str | None = None
        #: (turn id, object) pairs; turn nodes are added once the file has been read.
        self.deferred_contains: list[tuple[str, tuple[Label, str]]] = []
        #: Inference call whose response held each item.
        self.responded_by: dict[str, str] = {}

    def seq(self, record: Record) -> int:
        return self.r.seqs[(self.index, record.line)]

    # --- pass -------------------------------------------------------------------

    def run(self) -> str:
        self.collect_end_evidence()
        meta = self.source.meta
        first = self.source.file.records[0]
        thread_key = (Label.THREAD, self.thread_id)
        # The node first, so edges from records can attach; attributes are completed below.
        self.r.node(Label.THREAD, self.thread_id)
        for record in self.source.own:
            self.last_seq = self.seq(record)
            handler = getattr(self, f"on_{record.type}", None)
            if handler is not None:
                handler(record)
        self.finish_turn(None, None, end_of_file=True)
        self.finish_tools()
        for position, item in enumerate(self.items):
            self.r.edge(Rel.HAS_ITEM, thread_key, (Label.CONVERSATION_ITEM, item), "file_order",
                        position=position)
        for position, (before, after) in enumerate(pairwise(self.items)):
            self.r.edge(Rel.NEXT_ITEM, (Label.CONVERSATION_ITEM, before),
                        (Label.CONVERSATION_ITEM, after), "file_order", position=position,
                        thread_id=self.thread_id)
        self.add_turns()
        status = self.status()
        ended = max((r.timestamp_ms for r in self.source.own if r.timestamp_ms is not None),
                    default=first.timestamp_ms)
        source = self.source
        is_root = source is self.r.group.root
        parent = source.parent_thread_id if source.parent_thread_id in {
            t.thread_id for t in self.r.group.threads} else None
        started = first.timestamp_ms or _timestamp(meta)
        self.r.graph.nodes[self.r.key(*thread_key)].update({
            name: value for name, value in dict(
                agent_path=source.agent_path or ("/root" if is_root else None),
                nickname=source.nickname, origin="root" if parent is None else "spawned",
                is_root=is_root, parent_thread_id=parent,
                agent_role=source.agent_role if parent is not None else None,
                task_name=(source.agent_path.rsplit("/", 1)[-1]
                           if parent is not None and source.agent_path else None),
                default_model=self.default_model, status=status,
                started_at_unix_ms=started, started_seq=1 if not source.own else min(
                    self.seq(r) for r in source.own),
                ended_at_unix_ms=None if status == "running" else ended,
                ended_seq=None if status == "running" else self.last_seq or None,
                duration_ms=None if status == "running" or started is None or ended is None
                else ended - started,
                session_file=str(source.file.path), era=source.era,
                forked_from_id=source.forked_from_id, copied_history_lines=source.copied_lines,
                cwd=_s(meta.get("cwd")), originator=_s(meta.get("originator")),
                cli_version=_s(meta.get("cli_version")), dropped_token_counts=self.dropped,
            ).items() if value is not None
        })
        if parent is not None:
            self.r.edge(Rel.HAS_CHILD, (Label.THREAD, parent), thread_key, "parent_thread_id",
                        agent_role=source.agent_role)
        return status

    def status(self) -> str:
        if self.source.file.torn:
            return "running"
        turns = list(self.turns.values())
        if not turns:
            return "completed"
        return {"cancelled": "aborted"}.get(turns[-1].status, turns[-1].status)

    # --- evidence that arrives after the output it completes ------------------

    def collect_end_evidence(self) -> None:
        for record in self.source.own:
            if record.type != "event_msg":
                continue
            payload = record.payload
            kind = payload.get("type")
            call_id = _s(payload.get("call_id"))
            if kind == "exec_command_end" and call_id:
                self.end_evidence.setdefault(call_id, end_evidence("exec_command_end", payload))
            elif kind == "item_completed" and isinstance(payload.get("item"), dict):
                item = payload["item"]
                item_id = _s(item.get("id"))
                if item.get("type") == "CommandExecution" and item_id:
                    self.end_evidence[item_id] = end_evidence("command_execution", item)
                elif item.get("type") == "CollabAgentToolCall" and item_id:
                    receivers = item.get("receiver_thread_ids")
                    if item.get("tool") == "spawn_agent" and isinstance(receivers, list) \
                            and receivers and isinstance(receivers[0], str):
                        self.r.spawn_children.setdefault(item_id, receivers[0])
            elif kind == "collab_agent_spawn_end" and call_id and _s(payload.get("new_thread_id")):
                self.r.spawn_children.setdefault(call_id, payload["new_thread_id"])
            elif call_id and _failed_end(kind, payload):
                self.failed_calls.add(call_id)

    # --- line handlers ---------------------------------------------------------

    def on_turn_context(self, record: Record) -> None:
        model = _s(record.payload.get("model"))
        if model is not None:
            self.model = model
            if self.default_model is None:
                self.default_model = model

    def on_event_msg(self, record: Record) -> None:
        payload = record.payload
        kind = payload.get("type")
        if not isinstance(kind, str) or kind not in _KNOWN_EVENTS:
            self.r.skipped[f"event:{kind}"] += 1
            return
        if kind == "item_completed":
            item = payload.get("item")
            item_type = item.get("type") if isinstance(item, dict) else None
            if item_type not in _KNOWN_TURN_ITEMS:
                self.r.skipped[f"turn_item:{item_type}"] += 1
        elif kind in ("task_started", "turn_started"):
            self.finish_turn(None, None)
            turn_id = _s(payload.get("turn_id")) or f"{self.thread_id}:L{record.line}"
            started = _seconds_ms(payload.get("started_at")) or record.timestamp_ms
            self.turn = self.turns.setdefault(
                turn_id, _Turn(turn_id, started, self.seq(record), "turn_events"))
        elif kind in ("task_complete", "turn_complete", "turn_aborted"):
            turn = self.turns.get(_s(payload.get("turn_id")) or "") or self.turn
            if turn is None:
                return
            error = payload.get("error")
            message = error.get("message") if isinstance(error, dict) else None
            status = ("aborted" if kind == "turn_aborted"
                      else "failed" if error else "completed")
            turn.error = _s(message)
            turn.duration_ms = _i(payload.get("duration_ms"))
            self.close_turn(turn, status, _seconds_ms(payload.get("completed_at"))
                            or record.timestamp_ms, self.seq(record))
        elif kind == "token_count" and not self.has_usage_records:
            self.on_token_count(record)

    def on_token_count(self, record: Record) -> None:
        info = record.payload.get("info")
        if not isinstance(info, dict) or not isinstance(info.get("total_token_usage"), dict):
            return
        totals = info["total_token_usage"]
        total = _i(totals.get("total_tokens"))
        if total is None:
            total = sum(_i(totals.get(name)) or 0 for name in ("input_tokens", "output_tokens"))
        if self.last_total is not None and total == self.last_total:
            self.dropped += 1  # re-emitted: the totals did not advance
            return
        last = info.get("last_token_usage")
        if not isinstance(last, dict):
            last = totals if self.last_total is None else {
                name: (_i(totals.get(name)) or 0) for name in totals}
        self.last_total = total
        self.add_inference(record, last, None, "token_count", None, None)

    def on_token_usage_record(self, record: Record) -> None:
        payload = record.payload
        usage = payload.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        attribution = payload.get("attribution")
        attribution = attribution if isinstance(attribution, dict) else {}
        self.add_inference(record, usage, _s(payload.get("response_id")), "token_usage_record",
                           _s(payload.get("turn_id")), attribution,
                           ended_at=_i(payload.get("completed_at_ms")))

    def add_inference(self, record: Record, usage: dict[str, Any], response_id: str | None,
                      source: str, turn_id: str | None, attribution: dict[str, Any] | None,
                      ended_at: int | None = None) -> None:
        self.inferences += 1
        inference_id = self.r.unique(response_id or f"{self.thread_id}:inference:"
                                     f"{self.inferences}", self.thread_id)
        turn_id = turn_id or (self.turn.turn_id if self.turn else None)
        seq = self.seq(record)
        response = self.pending
        self.pending = []
        starts = [self.r.graph.nodes[self.r.key(Label.CONVERSATION_ITEM, item)]["line"]
                  for item in response]
        started_seq = (self.r.seqs[(self.index, min(starts))] if starts else seq)
        attribution = attribution or {}
        self.r.node(
            Label.INFERENCE_CALL, inference_id, thread_id=self.thread_id, codex_turn_id=turn_id,
            model=_s(attribution.get("model")) or self.model,
            provider_name=_s(attribution.get("model_provider")) or self.provider,
            response_id=response_id,
            input_tokens=_i(usage.get("input_tokens")),
            cached_input_tokens=_i(usage.get("cached_input_tokens")),
            output_tokens=_i(usage.get("output_tokens")),
            reasoning_output_tokens=_i(usage.get("reasoning_output_tokens")),
            total_tokens=_i(usage.get("total_tokens")), usage_source=source,
            status="completed", started_seq=started_seq,
            ended_at_unix_ms=ended_at or record.timestamp_ms, ended_seq=seq,
        )
        this = (Label.INFERENCE_CALL, inference_id)
        self.contain(this, turn_id)
        for position, item in enumerate(response):
            self.r.edge(Rel.RESPONDED_WITH, this, (Label.CONVERSATION_ITEM, item),
                        "usage_boundary", position=position)
            self.responded_by[item] = inference_id

    def on_compacted(self, record: Record) -> None:
        payload = record.payload
        turn_id = self.turn.turn_id if self.turn else None
        marker = self.add_item(record, f"{self.thread_id}:L{record.line}", "compacted",
                               ("assistant", "summary", "compaction_marker"),
                               _s(payload.get("message")) or "", None, turn_id)
        compaction_id = f"{self.thread_id}:compaction:L{record.line}"
        self.r.node(Label.COMPACTION, compaction_id, thread_id=self.thread_id,
                    codex_turn_id=turn_id, installed_at_unix_ms=record.timestamp_ms,
                    marker_item_id=marker)
        this = (Label.COMPACTION, compaction_id)
        self.contain(this, turn_id)
        for position, item in enumerate(self.live[:-1]):
            self.r.edge(Rel.COMPACTED_INTO, (Label.CONVERSATION_ITEM, item), this,
                        "live_history", position=position)
        self.r.edge(Rel.INSTALLED_MARKER, this, (Label.CONVERSATION_ITEM, marker),
                    "compacted_line")
        self.live = [marker]
        history = payload.get("replacement_history")
        for position, entry in enumerate(history if isinstance(history, list) else []):
            if not isinstance(entry, dict):
                continue
            replaced = self.response_item(
                record, entry, f"{self.thread_id}:L{record.line}:{position}", replacement=True)
            if replaced is not None:
                self.r.edge(Rel.REPLACED_WITH, this, (Label.CONVERSATION_ITEM, replaced),
                            "replacement_history", position=position)

    def on_inter_agent_communication(self, record: Record) -> None:
        payload = record.payload
        author, recipient = _s(payload.get("author")), _s(payload.get("recipient"))
        item = self.add_item(record, f"{self.thread_id}:L{record.line}",
                             "inter_agent_communication", ("assistant", "analysis", "message"),
                             _message_text(payload.get("content")), None,
                             self.turn.turn_id if self.turn else None,
                             agent_message_author=author, agent_message_recipient=recipient)
        self.r.agent_items.append((self.source, item, author))

    def on_response_item(self, record: Record) -> None:
        payload = record.payload
        self.response_item(record, payload, None)

    # --- items and tools -------------------------------------------------------

    def response_item(self, record: Record, payload: dict[str, Any], item_id: str | None,
                      *, replacement: bool = False) -> str | None:
        item_type = payload.get("type")
        if item_type in _IGNORED_ITEMS:
            return None
        if item_type == "message":
            role = payload.get("role") if payload.get("role") in (
                "system", "developer", "user", "assistant") else "user"
            shape = (str(role), _PHASES.get(str(payload.get("phase"))), "message")
        elif isinstance(item_type, str) and item_type in _ITEM_SHAPES:
            shape = _ITEM_SHAPES[item_type]
        else:
            self.r.skipped[f"item:{item_type}"] += 1
            return None
        passthrough = payload.get("internal_chat_message_metadata_passthrough")
        turn_id = (_s(passthrough.get("turn_id")) if isinstance(passthrough, dict) else None)
        text = _item_text(item_type, payload)
        if item_type == "message" and shape[0] == "user" and not replacement:
            self.maybe_split_turn(record, text)
        turn_id = turn_id or (self.turn.turn_id if self.turn else None)
        candidate = _s(payload.get("id"))
        if item_id is None:
            item_id = (candidate if candidate and candidate not in self.r.item_ids
                       else f"{self.thread_id}:L{record.line}")
        call_id = _s(payload.get("call_id")) or (
            _s(payload.get("id")) if item_type in _CALL_TYPES else None)
        item = self.add_item(record, item_id, item_type, shape, text, call_id, turn_id,
                             encoded=isinstance(payload.get("encrypted_content"), str),
                             agent_message_author=_s(payload.get("author")),
                             agent_message_recipient=_s(payload.get("recipient")))
        if replacement:
            return item
        turn = self.turn
        if shape[0] == "user" and item_type == "message":
            if turn is not None and not turn.began:
                turn.inputs.append(item)
            self.r.first_user.setdefault(self.thread_id, item)
        elif turn is not None:
            turn.began = True
        if item_type in _MODEL_OUTPUT_TYPES or (item_type == "message" and shape[0] ==
                                                "assistant"):
            self.pending.append(item)
        if item_type == "message" and shape[0] == "assistant":
            self.r.last_assistant[self.thread_id] = item
        if item_type in _CALL_TYPES and call_id is not None:
            self.start_tool(record, payload, item_type, item, call_id, turn_id)
        elif item_type in _OUTPUT_TYPES and call_id is not None:
            self.end_tool(record, payload, item, call_id)
        return item

    def add_item(self, record: Record, item_id: str, item_type: str,
                 shape: tuple[str, str | None, str], text: str, call_id: str | None,
                 turn_id: str | None, *, encoded: bool = False, **attrs: Any) -> str:
        role, channel, kind = shape
        parts = ["text"] if text else []
        if encoded:
            parts.append("encoded")
        self.r.item_ids.add(item_id)
        self.r.node(
            Label.CONVERSATION_ITEM, item_id, thread_id=self.thread_id, codex_turn_id=turn_id,
            first_seen_at_unix_ms=record.timestamp_ms, role=role, channel=channel, kind=kind,
            call_id=call_id, part_types=parts, producer_types=[], preview=preview(text),
            body_chars=len(text), item_type=item_type, line=record.line, **attrs,
        )
        self.items.append(item_id)
        self.live.append(item_id)
        if turn_id is not None:
            self.deferred_contains.append((turn_id, (Label.CONVERSATION_ITEM, item_id)))
        return item_id

    def contain(self, target: tuple[Label, str], turn_id: str | None) -> None:
        self.r.edge(Rel.CONTAINS, (Label.THREAD, self.thread_id), target, "thread_file")
        if turn_id is not None:
            self.deferred_contains.append((turn_id, target))

    def start_tool(self, record: Record, payload: dict[str, Any], item_type: str, item: str,
                   call_id: str, turn_id: str | None) -> None:
        name = _s(payload.get("name")) or item_type
        namespace = _s(payload.get("namespace"))
        if item_type == "local_shell_call":
            action = payload.get("action")
            args = action if isinstance(action, dict) else {}
        elif item_type == "custom_tool_call":
            args = {"input": payload.get("input")}
        else:
            args = arguments(payload.get("arguments"))
        code_cell = item_type == "custom_tool_call" and name == "exec"
        kind = "code_cell" if code_cell else tool_kind(name, namespace)[0]
        tool = _Tool(
            tool_id=self.r.unique(f"code_cell:{call_id}" if code_cell else call_id,
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

    def end_tool(self, record: Record, payload: dict[str, Any], item: str, call_id: str) -> None:
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

    def finish_tools(self) -> None:
        for call_id, tool in self.tools.items():
            this = (tool.label, tool.tool_id)
            if tool.status is None:
                turn = self.turns.get(tool.turn_id or "")
                ended = turn is not None and turn.status != "running"
                tool.status = ("aborted" if turn is not None and turn.status == "aborted"
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
                self.r.node(Label.CODE_CELL, tool.tool_id, thread_id=self.thread_id,
                            codex_turn_id=tool.turn_id, model_visible_call_id=call_id,
                            runtime_status=tool.status if tool.status in (
                                "completed", "failed", "running") else "terminated",
                            source_js=tool.source_js, **execution)
            else:
                kind, display, server, mcp_tool = tool_kind(tool.name, tool.namespace)
                operation = (f"terminal_operation:{tool.tool_id}"
                             if kind in ("exec_command", "write_stdin") else None)
                self.r.node(
                    Label.TOOL_CALL, tool.tool_id, thread_id=self.thread_id,
                    started_by_codex_turn_id=tool.turn_id, model_visible_call_id=call_id,
                    requester="model", kind=kind, tool_name=display, mcp_server=server,
                    mcp_tool=mcp_tool, namespace=tool.namespace,
                    terminal_operation_id=operation,
                    summary="terminal" if operation else "generic",
                    summary_label=None if operation else display, **execution,
                )
                if kind in ("spawn_agent", "send_message", "assign_agent_task", "close_agent"):
                    self.r.agent_calls.append((self.source, tool))
                if operation is not None:
                    self.add_operation(tool, operation, kind, execution)
            self.contain(this, tool.turn_id)
            self.r.edge(Rel.STARTED, (Label.INFERENCE_CALL, self.responded_by.get(tool.call_item)),
                        this, "response_item")
            self.r.edge(Rel.INVOKED, (Label.CONVERSATION_ITEM, tool.call_item), this,
                        "call_item", position=0)
            if tool.output_item is not None:
                self.r.edge(Rel.RESULTED_IN, this, (Label.CONVERSATION_ITEM, tool.output_item),
                            "call_id", position=0)
                self.r.edge(Rel.ANSWERED_BY, (Label.CONVERSATION_ITEM, tool.call_item),
                            (Label.CONVERSATION_ITEM, tool.output_item), "call_id")

    def add_operation(self, tool: _Tool, operation: str, kind: str,
                      execution: dict[str, Any]) -> None:
        request: TerminalRequest = terminal_request(kind, tool.name, tool.args)
        evidence = self.end_evidence.get(tool.call_id)
        if evidence is None and tool.output_item is not None:
            evidence = parse_output(tool.output)
        terminal = request.terminal_id or (evidence.terminal_id if evidence else None)
        if terminal is not None:
            owner = self.r.terminal_owner.setdefault(terminal, self.thread_id)
            if owner != self.thread_id:
                terminal = f"{self.thread_id}:{terminal}"
        has_result = evidence is not None
        duration = evidence.duration_ms if evidence and evidence.duration_ms is not None \
            else execution["duration_ms"]
        output = evidence.output if evidence else ""
        self.r.node(
            Label.TERMINAL_OPERATION, operation, terminal_id=terminal, tool_call_id=tool.tool_id,
            kind=kind, command=request.command, display_command=request.display_command,
            cwd=request.cwd or (_s(self.source.meta.get("cwd")) if kind == "exec_command"
                                else None),
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
        self.r.edge(Rel.EXECUTED, (Label.TOOL_CALL, tool.tool_id), this, "exec_tool")
        self.r.edge(Rel.OBSERVED_BY, this, (Label.CONVERSATION_ITEM, tool.call_item), "call_id",
                    observation=0, role="call", source="direct_tool_call", position=0)
        self.r.edge(Rel.OBSERVED_BY, this, (Label.CONVERSATION_ITEM, tool.output_item),
                    "call_id", observation=0, role="output", source="direct_tool_call",
                    position=0)
        if terminal is None:
            return
        session_key = self.r.key(Label.TERMINAL_SESSION, terminal)
        exited = evidence is not None and evidence.exit_code is not None
        if session_key not in self.r.graph:
            self.r.node(Label.TERMINAL_SESSION, terminal, thread_id=self.thread_id,
                        created_by_operation_id=operation, status="running",
                        started_at_unix_ms=execution["started_at_unix_ms"],
                        started_seq=execution["started_seq"])
            self.r.edge(Rel.CONTAINS, (Label.THREAD, self.thread_id),
                        (Label.TERMINAL_SESSION, terminal), "thread_file")
            self.r.edge(Rel.CREATED_TERMINAL, this, (Label.TERMINAL_SESSION, terminal),
                        "session_id")
        session = self.r.graph.nodes[session_key]
        position = session.get("_operations", 0)
        session["_operations"] = position + 1
        self.r.edge(Rel.USED_TERMINAL, this, (Label.TERMINAL_SESSION, terminal), "session_id",
                    position=position)
        if exited:
            session.update(status="completed", ended_at_unix_ms=execution["ended_at_unix_ms"],
                           ended_seq=execution["ended_seq"])
            if execution["ended_at_unix_ms"] is not None and session.get(
                    "started_at_unix_ms") is not None:
                session["duration_ms"] = (execution["ended_at_unix_ms"]
                                          - session["started_at_unix_ms"])

    # --- turns --------------------------------------------------------------------

    def maybe_split_turn(self, record: Record, text: str) -> None:
        """Files without turn events: each real user message starts a turn."""
        if self.has_turn_events or text.lstrip().startswith(_INJECTED_PREFIXES):
            return
        self.finish_turn(record.timestamp_ms, self.seq(record) - 1 or None)
        turn_id = f"{self.thread_id}:turn:{len(self.turns) + 1}"
        self.turn = self.turns.setdefault(
            turn_id, _Turn(turn_id, record.timestamp_ms, self.seq(record), "user_message_split"))

    def close_turn(self, turn: _Turn, status: str, ended_at: int | None, ended_seq: int) -> None:
        turn.status, turn.ended_at, turn.ended_seq = status, ended_at, ended_seq
        if self.turn is turn:
            self.turn = None

    def finish_turn(self, ended_at: int | None, ended_seq: int | None, *,
                    end_of_file: bool = False) -> None:
        """Close a split (2025) turn when the next one starts or the file ends."""
        turn = self.turn
        if turn is None or turn.evidence != "user_message_split":
            return
        last = self.source.own[-1] if self.source.own else None
        if end_of_file:
            ended_at = last.timestamp_ms if last else None
            ended_seq = self.last_seq
            if self.source.file.torn:
                return
        self.close_turn(turn, "completed", ended_at, ended_seq or turn.started_seq)

    def add_turns(self) -> None:
        thread = (Label.THREAD, self.thread_id)
        for turn in self.turns.values():
            duration = turn.duration_ms
            if duration is None and turn.ended_at is not None and turn.started_at is not None:
                duration = turn.ended_at - turn.started_at
            self.r.node(Label.TURN, turn.turn_id, thread_id=self.thread_id, status=turn.status,
                        started_at_unix_ms=turn.started_at, started_seq=turn.started_seq,
                        ended_at_unix_ms=turn.ended_at, ended_seq=turn.ended_seq,
                        duration_ms=duration, error=turn.error, turn_evidence=turn.evidence)
            rule = "turn_id" if turn.evidence == "turn_events" else "user_message_split"
            self.r.edge(Rel.HAS_TURN, thread, (Label.TURN, turn.turn_id), rule)
            for position, item in enumerate(turn.inputs):
                self.r.edge(Rel.TRIGGERED, (Label.CONVERSATION_ITEM, item),
                            (Label.TURN, turn.turn_id), "turn_start_user_message",
                            position=position)
        for turn_id, target in self.deferred_contains:
            self.r.edge(Rel.CONTAINS, (Label.TURN, turn_id), target, "turn_id")


def _failed_end(kind: Any, payload: dict[str, Any]) -> bool:
    """A patch that did not apply, or an MCP call that returned an error."""
    if kind == "patch_apply_end":
        return payload.get("success") is False
    result = payload.get("result")
    return kind == "mcp_tool_call_end" and isinstance(result, dict) and "Err" in result


def _timestamp(meta: dict[str, Any]) -> int | None:
    return parse_timestamp_ms(meta.get("timestamp"))


def _item_text(item_type: Any, payload: dict[str, Any]) -> str:
    if item_type in ("message", "agent_message"):
        return _message_text(payload.get("content"))
    if item_type == "reasoning":
        summary = payload.get("summary")
        return "\n".join(part["text"] for part in summary or []
                         if isinstance(part, dict) and isinstance(part.get("text"), str))
    if item_type == "function_call":
        arguments = payload.get("arguments")
        return arguments if isinstance(arguments, str) else json.dumps(arguments)
    if item_type == "custom_tool_call":
        value = payload.get("input")
        return value if isinstance(value, str) else ""
    if item_type in _OUTPUT_TYPES:
        return output_text(payload.get("output"))
    if item_type == "local_shell_call":
        action = payload.get("action")
        command = action.get("command") if isinstance(action, dict) else None
        return " ".join(command) if isinstance(command, list) else ""
    return ""


def project_session_rollout(group: RolloutGroup) -> nx.MultiDiGraph:
    """The typed graph of one rollout grouped from session files (see this module)."""
    graph = _Rollout(group).run()
    for _, data in graph.nodes(data=True):
        data.pop("_operations", None)
    return graph
