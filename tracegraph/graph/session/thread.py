"""One thread of a rollout: its own records, read in file order, into the graph.

:class:`Thread` hands each record to the handler of its line type: response items
become ConversationItems (a call or output also goes to the thread's
:class:`~.tools.ThreadTools`), a ``compacted`` line a Compaction; turn events go to
its :class:`~.turns.ThreadTurns`, token usage to its :class:`~.inference.ThreadInference`.
Then it adds the tools, the item order and the turns, and completes the Thread node
it added first.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

from tracegraph.graph.project import preview
from tracegraph.graph.schema import Label, Rel
from tracegraph.graph.session.builder import RolloutBuilder
from tracegraph.graph.session.inference import ThreadInference
from tracegraph.graph.session.tools import ThreadTools
from tracegraph.graph.session.turns import ThreadTurns
from tracegraph.graph.session.vocabulary import (
    CALL_TYPES,
    IGNORED_ITEMS,
    ITEM_SHAPES,
    KNOWN_EVENTS,
    KNOWN_TURN_ITEMS,
    MODEL_OUTPUT_TYPES,
    OUTPUT_TYPES,
    PHASES,
    item_text,
    message_text,
    meta_timestamp_ms,
    text_or_none,
)
from tracegraph.sessions.group import ThreadSource
from tracegraph.sessions.lines import Record

__all__ = ["HANDLERS", "Thread"]


class Thread:
    """One thread's own records, in file order."""

    def __init__(self, builder: RolloutBuilder, index: int, source: ThreadSource) -> None:
        self.builder = builder
        self.index = index
        self.source = source
        self.thread_id = source.thread_id
        self.turns = ThreadTurns(builder, index, source)
        self.tools = ThreadTools(builder, index, source, self.turns)
        self.inference = ThreadInference(builder, index, source, self.turns)
        #: Items in file order; ``live``: the history since the last compaction (its marker).
        self.items: list[str] = []
        self.live: list[str] = []
        self.last_seq = 0

    def seq(self, record: Record) -> int:
        return self.builder.seq(self.index, record.line)

    # --- pass -------------------------------------------------------------------

    def run(self) -> str:
        """Read the thread into the graph; returns its status."""
        self.tools.collect_end_evidence()
        # The node first, so edges from records can attach; attributes are completed below.
        self.builder.node(Label.THREAD, self.thread_id)
        for record in self.source.own:
            self.last_seq = self.seq(record)
            handler = HANDLERS.get(record.type)
            if handler is not None:
                handler(self, record)
        self.turns.finish_file(self.last_seq)
        self.tools.add_to_graph(self.inference.responded_by)
        thread_key = (Label.THREAD, self.thread_id)
        for position, item in enumerate(self.items):
            self.builder.edge(Rel.HAS_ITEM, thread_key, (Label.CONVERSATION_ITEM, item),
                              "file_order", position=position)
        for position, (before, after) in enumerate(pairwise(self.items)):
            self.builder.edge(Rel.NEXT_ITEM, (Label.CONVERSATION_ITEM, before),
                              (Label.CONVERSATION_ITEM, after), "file_order", position=position,
                              thread_id=self.thread_id)
        self.turns.add_to_graph()
        status = self.status()
        self.complete_node(status)
        return status

    def complete_node(self, status: str) -> None:
        """The Thread node's attributes, and HAS_CHILD from a loaded parent."""
        source, meta = self.source, self.source.meta
        first = source.file.records[0]
        ended = max((r.timestamp_ms for r in source.own if r.timestamp_ms is not None),
                    default=first.timestamp_ms)
        is_root = source is self.builder.group.root
        parent = source.parent_thread_id if source.parent_thread_id in {
            t.thread_id for t in self.builder.group.threads} else None
        started = first.timestamp_ms or meta_timestamp_ms(meta)
        self.builder.node_data(Label.THREAD, self.thread_id).update({
            name: value for name, value in dict(
                agent_path=source.agent_path or ("/root" if is_root else None),
                nickname=source.nickname, origin="root" if parent is None else "spawned",
                is_root=is_root, parent_thread_id=parent,
                agent_role=source.agent_role if parent is not None else None,
                task_name=(source.agent_path.rsplit("/", 1)[-1]
                           if parent is not None and source.agent_path else None),
                default_model=self.inference.default_model, status=status,
                started_at_unix_ms=started, started_seq=1 if not source.own else min(
                    self.seq(r) for r in source.own),
                ended_at_unix_ms=None if status == "running" else ended,
                ended_seq=None if status == "running" else self.last_seq or None,
                duration_ms=None if status == "running" or started is None or ended is None
                else ended - started,
                session_file=str(source.file.path), era=source.era,
                forked_from_id=source.forked_from_id, copied_history_lines=source.copied_lines,
                cwd=text_or_none(meta.get("cwd")), originator=text_or_none(meta.get("originator")),
                cli_version=text_or_none(meta.get("cli_version")),
                dropped_token_counts=self.inference.dropped,
            ).items() if value is not None
        })
        if parent is not None:
            self.builder.edge(Rel.HAS_CHILD, (Label.THREAD, parent),
                              (Label.THREAD, self.thread_id), "parent_thread_id",
                              agent_role=source.agent_role)

    def status(self) -> str:
        if self.source.file.torn:
            return "running"
        last = self.turns.last_status()
        if last is None:
            return "completed"
        return {"cancelled": "aborted"}.get(last, last)

    # --- line handlers ---------------------------------------------------------

    def on_turn_context(self, record: Record) -> None:
        self.inference.use_model(text_or_none(record.payload.get("model")))

    def on_event_msg(self, record: Record) -> None:
        payload = record.payload
        kind = payload.get("type")
        if not isinstance(kind, str) or kind not in KNOWN_EVENTS:
            self.builder.count_skipped(f"event:{kind}")
            return
        if kind == "item_completed":
            item = payload.get("item")
            item_type = item.get("type") if isinstance(item, dict) else None
            if item_type not in KNOWN_TURN_ITEMS:
                self.builder.count_skipped(f"turn_item:{item_type}")
        elif kind in ("task_started", "turn_started"):
            self.turns.start(record)
        elif kind in ("task_complete", "turn_complete", "turn_aborted"):
            self.turns.end(record)
        elif kind == "token_count":
            self.inference.on_token_count(record)

    def on_token_usage_record(self, record: Record) -> None:
        self.inference.on_token_usage_record(record)

    def on_compacted(self, record: Record) -> None:
        payload = record.payload
        turn_id = self.turns.current_id
        marker = self.add_item(record, f"{self.thread_id}:L{record.line}", "compacted",
                               ("assistant", "summary", "compaction_marker"),
                               text_or_none(payload.get("message")) or "", None, turn_id)
        compaction_id = f"{self.thread_id}:compaction:L{record.line}"
        self.builder.node(Label.COMPACTION, compaction_id, thread_id=self.thread_id,
                          codex_turn_id=turn_id, installed_at_unix_ms=record.timestamp_ms,
                          marker_item_id=marker)
        this = (Label.COMPACTION, compaction_id)
        self.turns.contain(this, turn_id)
        for position, item in enumerate(self.live[:-1]):
            self.builder.edge(Rel.COMPACTED_INTO, (Label.CONVERSATION_ITEM, item), this,
                              "live_history", position=position)
        self.builder.edge(Rel.INSTALLED_MARKER, this, (Label.CONVERSATION_ITEM, marker),
                          "compacted_line")
        self.live = [marker]
        history = payload.get("replacement_history")
        for position, entry in enumerate(history if isinstance(history, list) else []):
            if not isinstance(entry, dict):
                continue
            replaced = self.response_item(
                record, entry, f"{self.thread_id}:L{record.line}:{position}", replacement=True)
            if replaced is not None:
                self.builder.edge(Rel.REPLACED_WITH, this, (Label.CONVERSATION_ITEM, replaced),
                                  "replacement_history", position=position)

    def on_inter_agent_communication(self, record: Record) -> None:
        payload = record.payload
        author = text_or_none(payload.get("author"))
        recipient = text_or_none(payload.get("recipient"))
        item = self.add_item(record, f"{self.thread_id}:L{record.line}",
                             "inter_agent_communication", ("assistant", "analysis", "message"),
                             message_text(payload.get("content")), None, self.turns.current_id,
                             agent_message_author=author, agent_message_recipient=recipient)
        self.builder.note_agent_message(self.source, item, author)

    def on_response_item(self, record: Record) -> None:
        self.response_item(record, record.payload, None)

    # --- items ------------------------------------------------------------------

    def response_item(self, record: Record, payload: dict[str, Any], item_id: str | None,
                      *, replacement: bool = False) -> str | None:
        item_type = payload.get("type")
        if item_type in IGNORED_ITEMS:
            return None
        if item_type == "message":
            role = payload.get("role") if payload.get("role") in (
                "system", "developer", "user", "assistant") else "user"
            shape = (str(role), PHASES.get(str(payload.get("phase"))), "message")
        elif isinstance(item_type, str) and item_type in ITEM_SHAPES:
            shape = ITEM_SHAPES[item_type]
        else:
            self.builder.count_skipped(f"item:{item_type}")
            return None
        passthrough = payload.get("internal_chat_message_metadata_passthrough")
        turn_id = (text_or_none(passthrough.get("turn_id")) if isinstance(passthrough, dict)
                   else None)
        text = item_text(item_type, payload)
        if item_type == "message" and shape[0] == "user" and not replacement:
            self.turns.maybe_split(record, text)
        turn_id = turn_id or self.turns.current_id
        candidate = text_or_none(payload.get("id"))
        if item_id is None:
            item_id = (candidate if candidate and candidate not in self.builder.item_ids
                       else f"{self.thread_id}:L{record.line}")
        call_id = text_or_none(payload.get("call_id")) or (
            text_or_none(payload.get("id")) if item_type in CALL_TYPES else None)
        item = self.add_item(record, item_id, item_type, shape, text, call_id, turn_id,
                             encoded=isinstance(payload.get("encrypted_content"), str),
                             agent_message_author=text_or_none(payload.get("author")),
                             agent_message_recipient=text_or_none(payload.get("recipient")))
        if replacement:
            return item
        if shape[0] == "user" and item_type == "message":
            self.turns.note_user_input(item)
            self.builder.note_first_user(self.thread_id, item)
        else:
            self.turns.note_activity()
        if item_type in MODEL_OUTPUT_TYPES or (item_type == "message" and shape[0] ==
                                               "assistant"):
            self.inference.note_response_item(item)
        if item_type == "message" and shape[0] == "assistant":
            self.builder.note_last_assistant(self.thread_id, item)
        if item_type in CALL_TYPES and call_id is not None:
            self.tools.start(record, payload, item_type, item, call_id, turn_id)
        elif item_type in OUTPUT_TYPES and call_id is not None:
            self.tools.end(record, payload, item, call_id)
        return item

    def add_item(self, record: Record, item_id: str, item_type: str,
                 shape: tuple[str, str | None, str], text: str, call_id: str | None,
                 turn_id: str | None, *, encoded: bool = False, **attrs: Any) -> str:
        role, channel, kind = shape
        parts = ["text"] if text else []
        if encoded:
            parts.append("encoded")
        self.builder.note_item_id(item_id)
        self.builder.node(
            Label.CONVERSATION_ITEM, item_id, thread_id=self.thread_id, codex_turn_id=turn_id,
            first_seen_at_unix_ms=record.timestamp_ms, role=role, channel=channel, kind=kind,
            call_id=call_id, part_types=parts, producer_types=[], preview=preview(text),
            body_chars=len(text), item_type=item_type, line=record.line, **attrs,
        )
        self.items.append(item_id)
        self.live.append(item_id)
        if turn_id is not None:
            self.turns.contain_later(turn_id, (Label.CONVERSATION_ITEM, item_id))
        return item_id


#: The line types read, by their handler; every other line type is left out.
HANDLERS: dict[str, Callable[[Thread, Record], None]] = {
    "turn_context": Thread.on_turn_context,
    "event_msg": Thread.on_event_msg,
    "token_usage_record": Thread.on_token_usage_record,
    "compacted": Thread.on_compacted,
    "inter_agent_communication": Thread.on_inter_agent_communication,
    "response_item": Thread.on_response_item,
}
