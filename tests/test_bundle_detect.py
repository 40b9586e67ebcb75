"""``detect_dialect`` searches the log in windows; its decisions are the line reader's.

Each case runs detection twice: as shipped (names searched for over windows of
the log) and with the window search turned off, so that every line is read and
looked at one by one, as before the window search existed. The two must agree
on the dialect, the reason (line number included) and any error.
"""

from __future__ import annotations

import contextlib
import json
import random
import shutil
from pathlib import Path

import pytest

from tests.generator import generate_bundle
from tracegraph.bundle import reader
from tracegraph.bundle.detect import PayloadEvidence
from tracegraph.bundle.limits import Limits
from tracegraph.bundle.reader import TraceBundle
from tracegraph.errors import LimitError, TracegraphError
from tracegraph.reducer import replay_bundle

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"


def _detect(path: Path, limits: Limits | None = None) -> tuple[str, ...]:
    try:
        bundle = TraceBundle(path) if limits is None else TraceBundle(path, limits=limits)
        dialect, reason = bundle.detect_dialect()
    except TracegraphError as err:
        return ("error", type(err).__name__, str(err))
    return (dialect.value, reason, str(bundle.log_grew))


def _both(path: Path, monkeypatch: pytest.MonkeyPatch, limits: Limits | None = None,
          window: int | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    with monkeypatch.context() as patch:
        if window is not None:
            patch.setattr(reader, "_DETECTION_WINDOW", window)
        fast = _detect(path, limits)
    with monkeypatch.context() as patch:
        patch.setattr(TraceBundle, "_detect_in_windows", lambda self, scan: None)
        slow = _detect(path, limits)
    return fast, slow


def _searches_windows(path: Path) -> bool:
    """Whether detection on this bundle takes the window search (not the line reader)."""
    bundle = TraceBundle(path)
    scan = PayloadEvidence(bundle.manifest.root_thread_id, lambda ref: None)
    return bundle._detect_in_windows(scan) is not None


def _copy(name: str, tmp_path: Path) -> Path:
    bundle = tmp_path / name
    shutil.copytree(EXAMPLES / name, bundle)
    return bundle


def _lines(bundle: Path) -> list[bytes]:
    return (bundle / "trace.jsonl").read_bytes().split(b"\n")


def _write(bundle: Path, lines: list[bytes]) -> None:
    (bundle / "trace.jsonl").write_bytes(b"\n".join(lines))


@pytest.mark.parametrize("name", sorted(path.name for path in EXAMPLES.iterdir()))
@pytest.mark.parametrize("window", [None, 64, 900, 5000])
def test_examples_detect_the_same_way(name: str, window: int | None, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = _copy(name, tmp_path)
    fast, slow = _both(bundle, monkeypatch, window=window)
    assert fast == slow
    assert _searches_windows(bundle)
    assert fast[0] == ("upstream" if name.startswith("upstream") else "seed")


@pytest.mark.parametrize("seed", range(40))
def test_generated_bundles_detect_the_same_way(seed: int, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "bundle"
    generate_bundle(bundle, seed)
    for window in (None, 700, 3000):
        fast, slow = _both(bundle, monkeypatch, window=window)
        assert fast == slow, window
    if fast[0] != "error":
        assert _searches_windows(bundle)


def _upstream_line(seq: int) -> bytes:
    event = {"schema_version": 1, "seq": seq, "wall_time_unix_ms": 5, "rollout_id": "r",
             "thread_id": None, "codex_turn_id": None,
             "payload": {"type": "inference_cancelled", "inference_call_id": "i",
                         "thread_id": "t", "codex_turn_id": "c"}}
    return json.dumps(event, separators=(",", ":")).encode()


@pytest.mark.parametrize("seed", range(12))
def test_evidence_inserted_anywhere_is_found_at_the_same_line(
        seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    bundle = _copy("code-mode", tmp_path)
    lines = _lines(bundle)
    line = _upstream_line(99)
    if seed % 3 == 1:
        # Escaped: only a parsed line shows the name.
        line = line.replace(b"inference_cancelled", b"inference_cance\\u006cled")
    lines.insert(rng.randrange(len(lines)), line)
    if seed % 2:
        lines = [raw + b"\r" if raw and rng.random() < 0.5 else raw for raw in lines]
    _write(bundle, lines)
    for window in (None, 64, 1000):
        fast, slow = _both(bundle, monkeypatch, window=window)
        assert fast == slow
        assert fast[0] == "upstream"


def _damage(lines: list[bytes], kind: str, at: int) -> list[bytes]:
    lines = list(lines)
    if kind == "blank":
        lines.insert(at, b"  \t")
    elif kind == "bad utf-8 line":
        lines.insert(at, b"\xff\xfe not json")
    elif kind == "bad utf-8 in an event":
        lines[at] = lines[at].replace(b'"seq"', b'"s\xffq"', 1)
    elif kind == "torn tail":
        lines[-1:] = [lines[-2][: len(lines[-2]) // 2]] if not lines[-1] else [lines[-1][:9]]
    elif kind == "no final newline":
        lines = lines[:-1] if not lines[-1] else lines
    elif kind == "unicode whitespace line":
        lines.insert(at, "\u2003".encode())
    return lines


@pytest.mark.parametrize("kind", ["blank", "bad utf-8 line", "bad utf-8 in an event",
                                  "torn tail", "no final newline", "unicode whitespace line"])
@pytest.mark.parametrize("name", ["code-mode", "upstream-agents", "upstream-interrupt"])
def test_odd_logs_detect_or_fail_the_same_way(kind: str, name: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = _copy(name, tmp_path)
    lines = _lines(bundle)
    for at in (1, len(lines) // 2, len(lines) - 2):
        _write(bundle, _damage(lines, kind, at))
        for window in (None, 300):
            fast, slow = _both(bundle, monkeypatch, window=window)
            assert fast == slow, (at, window)


@pytest.mark.parametrize("limits", [Limits(events=5), Limits(line_bytes=200),
                                    Limits(bundle_bytes=1000), Limits(line_bytes=2000)])
@pytest.mark.parametrize("name", ["code-mode", "upstream-interrupt"])
def test_limits_fail_or_pass_the_same_way(limits: Limits, name: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _both(_copy(name, tmp_path), monkeypatch, limits=limits)
    assert fast == slow


@pytest.mark.parametrize("name", ["code-mode", "upstream-interrupt", "upstream-agents"])
def test_events_limits_near_the_line_count(name: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A log of more bytes than the events limit but no more lines still takes the window
    search, and decides as the line reader does; a limit under the line count fails the
    replay (not detection) refuses, in every window size."""
    bundle = _copy(name, tmp_path)
    data = (bundle / "trace.jsonl").read_bytes()
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    for events in (lines - 1, lines, lines + 1, len(data)):
        limits = Limits(events=events)
        for window in (None, 300):
            fast, slow = _both(bundle, monkeypatch, limits=limits, window=window)
            assert fast == slow, (events, window)
        # Detection leaves the log reader's errors to the replay, which meets them in
        # line order (after any error on an earlier line).
        assert fast[0] != "error"
        with pytest.raises(LimitError) if events < lines else contextlib.nullcontext():
            replay_bundle(bundle, limits=limits)
    scan = PayloadEvidence(TraceBundle(bundle).manifest.root_thread_id, lambda ref: None)
    assert TraceBundle(bundle, limits=Limits(events=lines + 1))._detect_in_windows(scan) \
        is not None
    assert lines + 1 < len(data)


def test_a_missing_log_fails_the_same_way(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = _copy("code-mode", tmp_path)
    (bundle / "trace.jsonl").unlink()
    fast, slow = _both(bundle, monkeypatch)
    assert fast == slow
    assert fast[0] == "error"


def test_payload_evidence_past_the_first_window(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A request's additional_tools item, in a late window, reported at its own line."""
    bundle = _copy("upstream-agents", tmp_path)
    lines = _lines(bundle)
    before, _ = _both(bundle, monkeypatch, window=400)
    _write(bundle, lines[:2] + [b"{}"] * 30 + lines[2:])
    fast, slow = _both(bundle, monkeypatch, window=400)
    assert fast == slow
    assert before[1].startswith("line 6: ")
    assert fast[1] == before[1].replace("line 6: ", "line 36: ")


@pytest.mark.parametrize("field", ["tool_call_id", "kind"])  # kind: its type
def test_detection_takes_any_value_where_an_id_or_kind_belongs(field: str,
                                                               tmp_path: Path) -> None:
    """A damaged line may hold a list where detection looks a name up: the replay then
    refuses the line (or reads it), never a TypeError."""
    bundle = _copy("multi-agent", tmp_path)
    lines = _lines(bundle)
    for index, raw in enumerate(lines):
        if not raw.strip():
            continue
        event = json.loads(raw)
        if event["payload"]["type"] in ("tool_call_started", "tool_call_runtime_ended") \
                and field in event["payload"]:
            if field == "kind":  # the kind's own tag a list
                event["payload"]["kind"]["type"] = [event["payload"]["kind"]["type"]]
            else:
                event["payload"][field] = [event["payload"][field]]
            lines[index] = json.dumps(event).encode()
    _write(bundle, lines)
    with pytest.raises(TracegraphError):
        replay_bundle(bundle)
