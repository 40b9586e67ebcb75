"""The live recorder's hooks over a ``TraceWriter``, one method each.

This mirrors codex-core's ``RolloutTraceRecorder`` (and the newer
``ThreadTraceContext``): every hook writes the payload files first, then the
event that references them, with the envelope context the recorder gives it.
Authors script a session by calling the hooks in the order Codex would.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracegraph.authoring.codex import tool_requester, truncate_preview
from tracegraph.authoring.items import Json
from tracegraph.authoring.tools import tool_kind
from tracegraph.bundle.writer import TraceWriter
from tracegraph.model.dialect import Dialect

__all__ = ["Recorder", "clear_bundle"]

#: Files a recorder writes; a golden ``state.json`` beside them is kept.
_WRITTEN = ("manifest.json", "trace.jsonl")


def clear_bundle(bundle_dir: Path) -> None:
    """Remove what a previous run wrote, keeping a checked-in ``state.json``."""
    shutil.rmtree(bundle_dir / "payloads", ignore_errors=True)
    for name in _WRITTEN:
        (bundle_dir / name).unlink(missing_ok=True)


class Recorder:
    """Writes one bundle the way a Codex session's recorder does.

    ``inference_ids`` yields inference call ids (``inference:N`` by default;
    current Codex uses UUIDs). In the ``upstream`` dialect response payloads
    carry ``upstream_request_id`` as current Codex writes them.
    """

    def __init__(self, bundle_dir: Path, *, trace_id: str, root_thread_id: str,
                 clock: Callable[[], int], model: str, provider_name: str,
                 dialect: Dialect | str = Dialect.SEED,
                 inference_ids: Callable[[], str] | None = None) -> None:
        clear_bundle(bundle_dir)
        self.clock = clock
        self.root_thread_id = root_thread_id
        self.model = model
        self.provider_name = provider_name
        self.dialect = Dialect(dialect)
        counter = itertools.count(1)
        self._inference_ids = inference_ids or (lambda: f"inference:{next(counter)}")
        self.next_compaction_request = 1
        # create_in_root: rollout_id is the root thread id.
        self.writer = TraceWriter.create(bundle_dir, trace_id, root_thread_id, root_thread_id,
                                         clock=clock, dialect=self.dialect)
        self.emit({"type": "rollout_started", "trace_id": trace_id,
                   "root_thread_id": root_thread_id})

    # -- plumbing --------------------------------------------------------------

    def payload(self, kind: str, value: Any) -> Json:
        return self.writer.write_json_payload(kind, value).model_dump(mode="json")

    def emit(self, payload: Json, thread_id: str | None = None,
             turn_id: str | None = None) -> int:
        """Append one event; returns its ``seq``."""
        return self.writer.append(payload, thread_id=thread_id, codex_turn_id=turn_id).seq

    def close(self) -> None:
        self.writer.close()

    # -- threads, turns, protocol breadcrumbs ------------------------------------

    def thread_started(self, metadata: Json) -> None:
        ref = self.payload("session_metadata", metadata)
        self.emit({"type": "thread_started", "thread_id": metadata["thread_id"],
                   "agent_path": metadata["agent_path"], "metadata_payload": ref})

    def protocol(self, event: Json) -> None:
        ref = self.payload("protocol_event", event)
        self.emit({"type": "protocol_event_observed", "event_type": event["type"],
                   "event_payload": ref})

    def session_configured(self, thread_id: str, *, provider_id: str, cwd: str,
                           rollout_path: str) -> None:
        self.protocol({
            "type": "session_configured",
            "session_id": thread_id,
            "model": self.model,
            "model_provider_id": provider_id,
            "approval_policy": "on-request",
            "sandbox_policy": {"type": "workspace-write", "network_access": False},
            "cwd": cwd,
            "reasoning_effort": "medium",
            "history_log_id": 0,
            "history_entry_count": 0,
            "rollout_path": rollout_path,
        })

    def turn_started(self, thread_id: str, turn_id: str) -> None:
        self.emit({"type": "codex_turn_started", "codex_turn_id": turn_id,
                   "thread_id": thread_id}, thread_id, turn_id)
        self.protocol({"type": "turn_started", "turn_id": turn_id,
                       "model_context_window": 272000, "collaboration_mode_kind": "default"})

    def turn_ended(self, thread_id: str, turn_id: str, status: str) -> int:
        return self.emit({"type": "codex_turn_ended", "codex_turn_id": turn_id,
                          "status": status}, thread_id, turn_id)

    def turn_complete(self, thread_id: str, turn_id: str, last_agent_message: str | None) -> None:
        self.turn_ended(thread_id, turn_id, "completed")
        self.protocol({"type": "turn_complete", "turn_id": turn_id,
                       "last_agent_message": last_agent_message})

    def thread_ended(self, thread_id: str) -> None:
        self.protocol({"type": "shutdown_complete"})
        self.emit({"type": "thread_ended", "thread_id": thread_id, "status": "completed"})
        if thread_id == self.root_thread_id:
            self.emit({"type": "rollout_ended", "status": "completed"})

    # -- inference -----------------------------------------------------------------

    def inference_started(self, thread_id: str, turn_id: str, request: Json) -> str:
        inference_id = self._inference_ids()
        ref = self.payload("inference_request", request)
        self.emit({"type": "inference_started", "inference_call_id": inference_id,
                   "thread_id": thread_id, "codex_turn_id": turn_id, "model": self.model,
                   "provider_name": self.provider_name, "request_payload": ref},
                  thread_id, turn_id)
        return inference_id

    def _response(self, response_id: str | None, token_usage: Json | None,
                  output_items: list[Json]) -> Json:
        if self.dialect is Dialect.UPSTREAM:
            # Websocket transport: there is no x-request-id to record.
            return {"response_id": response_id, "upstream_request_id": None,
                    "token_usage": token_usage, "output_items": output_items}
        return {"response_id": response_id, "token_usage": token_usage,
                "output_items": output_items}

    def inference_completed(self, thread_id: str, turn_id: str, inference_id: str,
                            response_id: str, token_usage: Json | None,
                            output_items: list[Json]) -> None:
        ref = self.payload("inference_response",
                           self._response(response_id, token_usage, output_items))
        self.emit({"type": "inference_completed", "inference_call_id": inference_id,
                   "response_id": response_id, "response_payload": ref}, thread_id, turn_id)

    def inference_failed(self, thread_id: str, turn_id: str, inference_id: str, error: str,
                         partial_items: list[Json] | None = None) -> None:
        ref = None
        if partial_items is not None:
            ref = self.payload("inference_response", self._response(None, None, partial_items))
        self.emit({"type": "inference_failed", "inference_call_id": inference_id,
                   "error": error, "partial_response_payload": ref}, thread_id, turn_id)

    def inference_cancelled(self, thread_id: str, turn_id: str, inference_id: str,
                            reason: str, partial_items: list[Json]) -> None:
        ref = self.payload("inference_response", self._response(None, None, partial_items))
        self.emit({"type": "inference_cancelled", "inference_call_id": inference_id,
                   "reason": reason, "partial_response_payload": ref}, thread_id, turn_id)

    # -- dispatch-level tool lifecycle ---------------------------------------------

    def tool_started(self, thread_id: str, turn_id: str, call_id: str, tool_name: str,
                     tool_payload: Json, *, namespace: str | None = None,
                     code_mode: tuple[str, str] | None = None, kind: Json | None = None,
                     label: str | None = None, input_preview: str | None = None) -> None:
        """``code_mode`` is ``(runtime_cell_id, runtime_tool_call_id)`` of a nested tool.

        ``kind``, ``label`` and ``input_preview`` default to what the seed-era
        recorder derives from the name and payload.
        """
        ref = self.payload("tool_invocation", {"tool_name": tool_name,
                                               "tool_namespace": namespace,
                                               "payload": tool_payload})
        visible, runtime_tool_id, requester = tool_requester(call_id, code_mode)
        if tool_payload["type"] == "mcp":
            default_label = f"mcp:{tool_payload['server']}:{tool_payload['tool']}"
            log_payload = tool_payload["raw_arguments"]
        else:
            default_label = tool_name if namespace is None else f"{namespace}{tool_name}"
            log_payload = tool_payload.get("arguments") or tool_payload.get("input") or ""
        self.emit({
            "type": "tool_call_started",
            "tool_call_id": call_id,
            "model_visible_call_id": visible,
            "code_mode_runtime_tool_id": runtime_tool_id,
            "requester": requester,
            "kind": kind if kind is not None else tool_kind(tool_name, tool_payload),
            "summary": {"type": "generic", "label": label or default_label,
                        "input_preview": (input_preview if input_preview is not None
                                          else truncate_preview(log_payload)), "output_preview": None},
            "invocation_payload": ref,
        }, thread_id, turn_id)

    def tool_ended(self, thread_id: str, turn_id: str, call_id: str, response: Json,
                   status: str = "completed") -> None:
        ref = self.payload("tool_result", response)
        self.emit({"type": "tool_call_ended", "tool_call_id": call_id, "status": status,
                   "result_payload": ref}, thread_id, turn_id)

    def runtime_started(self, thread_id: str, turn_id: str, call_id: str, event: Json) -> None:
        ref = self.payload("tool_runtime_event", event)
        self.emit({"type": "tool_call_runtime_started", "tool_call_id": call_id,
                   "runtime_payload": ref}, thread_id, turn_id)

    def runtime_ended(self, thread_id: str, turn_id: str, call_id: str, event: Json,
                      status: str = "completed") -> None:
        ref = self.payload("tool_runtime_event", event)
        self.emit({"type": "tool_call_runtime_ended", "tool_call_id": call_id,
                   "status": status, "runtime_payload": ref}, thread_id, turn_id)

    def mcp_correlation(self, call_id: str, mcp_call_id: str) -> None:
        # start_mcp_call_trace: plain writer.append, no envelope context.
        self.emit({"type": "mcp_tool_call_correlation_assigned", "tool_call_id": call_id,
                   "mcp_call_id": mcp_call_id})

    # -- code mode -----------------------------------------------------------------

    def code_cell_started(self, thread_id: str, turn_id: str, runtime_cell_id: str,
                          call_id: str, source_js: str) -> None:
        self.emit({"type": "code_cell_started", "runtime_cell_id": runtime_cell_id,
                   "model_visible_call_id": call_id, "source_js": source_js},
                  thread_id, turn_id)

    def code_cell_response(self, event_type: str, thread_id: str, turn_id: str,
                           response: Json) -> None:
        """``event_type`` is ``code_cell_initial_response`` or ``code_cell_ended``."""
        (variant, body), = response.items()
        status = {"Yielded": "yielded", "Terminated": "terminated"}.get(
            variant, "failed" if body.get("error_text") else "completed")
        ref = self.payload("tool_result", {"response": response})
        self.emit({"type": event_type, "runtime_cell_id": body["cell_id"], "status": status,
                   "response_payload": ref}, thread_id, turn_id)

    # -- compaction ------------------------------------------------------------------

    def compaction_request_started(self, thread_id: str, turn_id: str, compaction_id: str,
                                   request: Json) -> str:
        request_id = f"compaction_request:{self.next_compaction_request}"
        self.next_compaction_request += 1
        ref = self.payload("compaction_request", request)
        self.emit({"type": "compaction_request_started", "compaction_id": compaction_id,
                   "compaction_request_id": request_id, "thread_id": thread_id,
                   "codex_turn_id": turn_id, "model": self.model,
                   "provider_name": self.provider_name, "request_payload": ref},
                  thread_id, turn_id)
        return request_id

    # -- multi-agent -----------------------------------------------------------------

    def agent_result(self, child_thread_id: str, child_turn_id: str, parent_thread_id: str,
                     child_agent_path: str, message: str, status: Json) -> None:
        ref = self.payload("agent_result", {"child_agent_path": child_agent_path,
                                            "message": message, "status": status})
        self.emit({
            "type": "agent_result_observed",
            "edge_id": f"edge:agent_result:{child_thread_id}:{child_turn_id}:{parent_thread_id}",
            "child_thread_id": child_thread_id,
            "child_codex_turn_id": child_turn_id,
            "parent_thread_id": parent_thread_id,
            "message": message,
            "carried_payload": ref,
        }, child_thread_id, child_turn_id)
