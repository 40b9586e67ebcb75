"""Shared reducer test fixtures, ported from ``src/reducer/test_support.rs``.

These helpers only write common trace scaffolding. Scenario-specific event
sequences stay in each test so the behaviour under test remains visible.

Every replay also goes through the reference reducer
(``../shared/tools/reference-reduce``) when that binary is present: its
``state.json`` must equal tracegraph's byte for byte, and it must fail
whenever tracegraph fails. On machines without the binary only that
comparison is skipped; the scenario's own assertions still run.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel

from tracegraph.authoring import FakeClock, run_reference
from tracegraph.authoring import reference_reducer as reference_reducer  # re-exported for tests
from tracegraph.authoring.items import input_message
from tracegraph.bundle.writer import TraceWriter
from tracegraph.errors import TracegraphError
from tracegraph.model import RolloutTrace
from tracegraph.model.payload import RawPayloadRef

ROOT_THREAD_ID = "thread-root"
AGENT_ROOT_THREAD_ID = "019d0000-0000-7000-8000-000000000001"

#: First timestamp of the fake clock (2023-11-14T22:13:20Z).
FAKE_CLOCK_START_UNIX_MS = 1_700_000_000_000

# --- clock and JSON helpers -------------------------------------------------


def fake_clock(start: int = FAKE_CLOCK_START_UNIX_MS) -> FakeClock:
    """The clock of ``test_support.rs``: the first read is ``start``, then +1 ms each."""
    return FakeClock(start - 1)


def json_to_string(value: Any) -> str:
    """``serde_json::json!(...).to_string()``: compact, object keys sorted.

    A ``json!`` object is serde_json's default ``Map`` (a ``BTreeMap``), so its
    keys come out sorted.
    """
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


#: Writers opened by :func:`create_writer`; ``conftest.py`` closes them after each test.
OPEN_WRITERS: list[TraceWriter] = []


def create_writer(
    bundle_dir: Path,
    trace_id: str,
    rollout_id: str,
    root_thread_id: str,
) -> TraceWriter:
    """``TraceWriter::create`` with the deterministic test clock."""
    writer = TraceWriter.create(
        bundle_dir, trace_id, rollout_id, root_thread_id, clock=fake_clock()
    )
    OPEN_WRITERS.append(writer)
    return writer


def close_open_writers() -> None:
    while OPEN_WRITERS:
        OPEN_WRITERS.pop().close()


def as_json(value: Any) -> Any:
    """Serde-shaped JSON of a reduced-model value (a model, or a list of them)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [as_json(item) for item in value]
    return value


# --- test_support.rs --------------------------------------------------------


def message(role: str, text: str) -> dict[str, Any]:
    return input_message(role, text)


def generic_summary(label: str) -> dict[str, Any]:
    return {"type": "generic", "label": label, "input_preview": None, "output_preview": None}


def create_started_writer(temp: Path) -> TraceWriter:
    return create_started_writer_for_thread(temp, ROOT_THREAD_ID, "/root")


def create_started_agent_writer(temp: Path) -> TraceWriter:
    return create_started_writer_for_thread(temp, AGENT_ROOT_THREAD_ID, "/root")


def create_started_writer_for_thread(temp: Path, thread_id: str, agent_path: str) -> TraceWriter:
    writer = create_writer(temp, "trace-1", "rollout-1", thread_id)
    start_thread(writer, thread_id, agent_path)
    return writer


def start_thread(writer: TraceWriter, thread_id: str, agent_path: str) -> None:
    writer.append(
        {
            "type": "thread_started",
            "thread_id": thread_id,
            "agent_path": agent_path,
            "metadata_payload": None,
        }
    )


def start_turn(writer: TraceWriter, turn_id: str) -> None:
    start_turn_for_thread(writer, ROOT_THREAD_ID, turn_id)


def start_agent_turn(writer: TraceWriter, turn_id: str) -> None:
    start_turn_for_thread(writer, AGENT_ROOT_THREAD_ID, turn_id)


def start_turn_for_thread(writer: TraceWriter, thread_id: str, turn_id: str) -> None:
    writer.append({"type": "codex_turn_started", "codex_turn_id": turn_id, "thread_id": thread_id})


def trace_context(turn_id: str) -> dict[str, str | None]:
    """Envelope context; use as ``writer.append(payload, **trace_context(turn))``."""
    return trace_context_for_thread(ROOT_THREAD_ID, turn_id)


def trace_context_for_agent(turn_id: str) -> dict[str, str | None]:
    return trace_context_for_thread(AGENT_ROOT_THREAD_ID, turn_id)


def trace_context_for_thread(thread_id: str, turn_id: str) -> dict[str, str | None]:
    return {"thread_id": thread_id, "codex_turn_id": turn_id}


def append_inference_start(
    writer: TraceWriter,
    inference_call_id: str,
    codex_turn_id: str,
    request_payload: RawPayloadRef,
) -> None:
    append_inference_start_for_thread(
        writer, ROOT_THREAD_ID, codex_turn_id, inference_call_id, request_payload
    )


def append_inference_start_for_thread(
    writer: TraceWriter,
    thread_id: str,
    codex_turn_id: str,
    inference_call_id: str,
    request_payload: RawPayloadRef,
) -> None:
    writer.append(
        {
            "type": "inference_started",
            "inference_call_id": inference_call_id,
            "thread_id": thread_id,
            "codex_turn_id": codex_turn_id,
            "model": "gpt-test",
            "provider_name": "test-provider",
            "request_payload": request_payload,
        }
    )


def append_inference_completion(
    writer: TraceWriter,
    inference_call_id: str,
    response_id: str,
    response_payload: RawPayloadRef,
) -> None:
    writer.append(
        {
            "type": "inference_completed",
            "inference_call_id": inference_call_id,
            "response_id": response_id,
            "response_payload": response_payload,
        }
    )


def append_inference_request(
    writer: TraceWriter,
    thread_id: str,
    turn_id: str,
    inference_id: str,
    input: list[Any],
) -> None:
    request = writer.write_json_payload("inference_request", {"input": input})
    append_inference_start_for_thread(writer, thread_id, turn_id, inference_id, request)


def append_completed_inference(
    writer: TraceWriter,
    thread_id: str,
    turn_id: str,
    inference_id: str,
    input: list[Any],
    output_items: list[Any],
) -> None:
    append_inference_request(writer, thread_id, turn_id, inference_id, input)
    response = writer.write_json_payload(
        "inference_response",
        {"response_id": f"resp-{inference_id}", "output_items": output_items},
    )
    writer.append(
        {
            "type": "inference_completed",
            "inference_call_id": inference_id,
            "response_id": f"resp-{inference_id}",
            "response_payload": response,
        },
        **trace_context_for_thread(thread_id, turn_id),
    )


def expect_replay_error(temp: Path, expected: str) -> None:
    """Replay must fail with a message containing ``expected`` (on both reducers)."""
    from tracegraph.reducer import replay_bundle

    with pytest.raises(TracegraphError) as info:
        replay_bundle(temp)
    message = str(info.value)
    assert expected in message, f"unexpected error: {message}"

    reference = reference_reduce(temp)
    if reference is None:
        return
    assert isinstance(reference, str), (
        f"tracegraph failed ({message}) but the reference reducer succeeded"
    )
    assert expected in reference, f"unexpected reference error: {reference}"


# --- replay with the reference cross-check ----------------------------------


def replay(temp: Path) -> RolloutTrace:
    """``replay_bundle(temp)``, cross-checked against the reference reducer."""
    from tracegraph.reducer import replay_bundle

    rollout = replay_bundle(temp)
    raw = _run_reference_reduce(temp)
    if raw is not None:
        ok, text = raw
        assert ok, f"the reference reducer failed where tracegraph succeeded: {text}"
        assert json.loads(text) == rollout.to_json_value()
        assert text == rollout.to_state_json(), "state.json differs from the reference bytes"
    return rollout


def reference_reduce(bundle: Path) -> dict[str, Any] | str | None:
    """The reference reducer's ``state.json`` for ``bundle``, parsed.

    Returns the error text (``ERROR: ...``) when the reference reducer rejects
    the bundle, and ``None`` when the binary is absent.
    """
    raw = _run_reference_reduce(bundle)
    if raw is None:
        return None
    ok, text = raw
    return json.loads(text) if ok else text


def _run_reference_reduce(bundle: Path) -> tuple[bool, str] | None:
    run = run_reference(bundle, timeout=60)
    if run is None:
        return None
    if run.ok:
        assert run.state is not None
        return True, run.state
    assert run.rejected, f"reference reducer crashed (exit {run.returncode}): {run.stderr}"
    return False, run.stderr


# --- example generators ------------------------------------------------------


def load_script(path: Path) -> ModuleType:
    """Import a script (an example generator) by path."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bundle_bytes(bundle: Path) -> dict[str, bytes]:
    """What a writer wrote: manifest, event log and payload files (not state.json)."""
    names = ["manifest.json", "trace.jsonl",
             *(f"payloads/{path.name}" for path in (bundle / "payloads").iterdir())]
    return {name: (bundle / name).read_bytes() for name in names}
