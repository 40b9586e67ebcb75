"""``Replayer``: incremental replay, with snapshots equal to replaying a prefix.

For each example bundle and a few generated ones, the snapshot after every
``k`` applied lines must be exactly what ``replay`` gives on a copy of the
bundle cut after line ``k`` (or fail the same way), and taking snapshots must
not change the final result.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.generator import generate_bundle_info
from tracegraph.bundle.reader import TraceBundle
from tracegraph.errors import TraceError, TracegraphError
from tracegraph.reducer import Replayer, replay

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"


def _prefix_outcome(bundle: Path, lines: list[bytes], count: int, tmp: Path, dialect: str) -> str:
    cut = tmp / f"cut-{count}"
    shutil.copytree(bundle, cut)
    (cut / "trace.jsonl").write_bytes(b"".join(lines[:count]))
    try:
        return replay(cut, dialect=dialect).trace.to_state_json()
    except TracegraphError as err:
        return f"error: {err.reason if isinstance(err, TraceError) else err}"
    finally:
        shutil.rmtree(cut)


def _check_snapshots(bundle: Path, tmp: Path, every: int) -> None:
    expected = replay(bundle)
    dialect = expected.dialect.value
    lines = (bundle / "trace.jsonl").read_bytes().splitlines(keepends=True)
    source = TraceBundle(bundle)
    replayer = Replayer(source, expected.dialect)
    for event_line in source.iter_events(expected.dialect):
        replayer.apply(event_line)
        if event_line.line % every and event_line.line != len(lines):
            continue
        try:
            got = replayer.snapshot().trace.to_state_json()
        except TracegraphError as err:
            got = f"error: {err.reason if isinstance(err, TraceError) else err}"
        assert got == _prefix_outcome(bundle, lines, event_line.line, tmp, dialect), (
            f"{bundle.name}: snapshot after line {event_line.line}"
        )
    final = replayer.snapshot(isolated=False)
    assert final.trace.to_state_json() == expected.trace.to_state_json()


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_snapshots_of_example_bundles(name: str, tmp_path: Path) -> None:
    _check_snapshots(EXAMPLES / name, tmp_path, every=1)


@pytest.mark.parametrize("seed", [3, 11, 17, 29, 41])
def test_snapshots_of_generated_bundles(seed: int, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    info = generate_bundle_info(bundle, seed)
    if not info.valid:
        pytest.skip(f"seed {seed} makes a corrupt bundle")
    _check_snapshots(bundle, tmp_path, every=7)


def test_apply_errors_name_the_line_and_seq(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLES / "terminal-reuse", bundle)
    lines = (bundle / "trace.jsonl").read_bytes().splitlines(keepends=True)
    # Starting the same thread twice is a reducer error on the repeated line.
    (bundle / "trace.jsonl").write_bytes(b"".join([*lines[:2], lines[1], *lines[2:]]))
    source = TraceBundle(bundle)
    replayer = Replayer(source, "seed")
    with pytest.raises(TraceError) as caught:
        for event_line in source.iter_events():
            replayer.apply(event_line)
    assert caught.value.line == 3
    assert caught.value.seq is not None
    assert "duplicate thread start" in caught.value.reason


def test_a_dropped_replay_is_freed_at_once_without_the_cyclic_collector() -> None:
    # Replay's reducer domains and the reducer reference each other; replay unlinks
    # them, so the trace does not wait for (or cost) a collector walk once dropped.
    import gc
    import weakref

    gc.disable()
    try:
        result = replay(EXAMPLES / "terminal-reuse")
        item = next(iter(result.trace.conversation_items.values()))
        alive = weakref.ref(item)
        del result, item
        assert alive() is None
    finally:
        gc.enable()
