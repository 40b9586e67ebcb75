"""The same bundle in other valid layouts reduces to the same ``state.json``.

A recorder other than the one that wrote the examples may end lines with CRLF, leave
blank lines, order keys otherwise, space its JSON or escape non-ASCII text, and
payload files may be compact or pretty. serde_json reads all of these the same, so
each variant of the compaction example must give the example's own bytes (and the
reference's, when its binary is present). A byte order mark is not JSON to serde:
both refuse it, in the same words.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tracegraph.authoring import run_reference
from tracegraph.errors import TracegraphError
from tracegraph.reducer import replay_bundle

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "bundles" / "compaction"


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _shuffled(child, rng) for key, child in items}
    if isinstance(value, list):
        return [_shuffled(child, rng) for child in value]
    return value


def _lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]


def _each_line(write: Callable[[Any], str]) -> Callable[[str], str]:
    return lambda text: "\n".join(write(json.loads(line)) for line in _lines(text)) + "\n"


TRACE_LAYOUTS: dict[str, Callable[[str], str]] = {
    "CRLF": lambda text: "\r\n".join(_lines(text)) + "\r\n",
    "blank lines": lambda text: "\n\n".join(_lines(text)) + "\n",
    "trailing spaces": lambda text: "".join(line + "   \n" for line in _lines(text)),
    "no final newline": lambda text: "\n".join(_lines(text)),
    "keys in another order": _each_line(lambda value: json.dumps(
        _shuffled(value, random.Random(7)), ensure_ascii=False, separators=(",", ":"))),
    "spaced": _each_line(lambda value: json.dumps(value, ensure_ascii=False)),
    "ASCII escapes": _each_line(lambda value: json.dumps(value, separators=(",", ":"))),
    "tabs": _each_line(lambda value: json.dumps(value, ensure_ascii=False,
                                                separators=(",\t", ":\t"))),
}

PAYLOAD_LAYOUTS: dict[str, Callable[[str], str]] = {
    "keys in another order": lambda text: json.dumps(
        _shuffled(json.loads(text), random.Random(7)), ensure_ascii=False, indent=2),
    "compact": lambda text: json.dumps(json.loads(text), ensure_ascii=False,
                                       separators=(",", ":")),
    "ASCII escapes": lambda text: json.dumps(json.loads(text)),
    "CRLF": lambda text: text.replace("\n", "\r\n"),
    "trailing newlines": lambda text: text + "\n\n",
}


@pytest.fixture(scope="module")
def expected_state() -> str:
    return replay_bundle(EXAMPLE).to_state_json()


LAYOUTS = [("trace.jsonl", layout) for layout in sorted(TRACE_LAYOUTS)] + [
    ("payloads", layout) for layout in sorted(PAYLOAD_LAYOUTS)]


@pytest.mark.parametrize(("files", "layout"), LAYOUTS)
def test_a_bundle_in_another_layout_reduces_the_same(
    files: str, layout: str, tmp_path: Path, expected_state: str
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, bundle)
    if files == "trace.jsonl":
        targets, rewrite = [bundle / files], TRACE_LAYOUTS[layout]
    else:
        targets, rewrite = list((bundle / files).glob("*.json")), PAYLOAD_LAYOUTS[layout]
    for target in targets:
        target.write_text(rewrite(target.read_text(encoding="utf-8")), encoding="utf-8")
    state = replay_bundle(bundle, strict=True).to_state_json()
    assert state == expected_state
    run = run_reference(bundle, tmp_path / "reference-state.json")
    if run is not None:
        assert run.ok and run.state == state


@pytest.mark.parametrize(("name", "words"), [
    ("trace.jsonl", "parse trace event line 1: expected value at line 1 column 1"),
    ("payloads/1.json", "parse payload raw_payload:1: expected value at line 1 column 1"),
])
def test_a_byte_order_mark_is_refused_as_serde_refuses_it(
    name: str, words: str, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, bundle)
    target = bundle / name
    target.write_text("\ufeff" + target.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(TracegraphError) as failure:
        replay_bundle(bundle, strict=True)
    assert words in str(failure.value)
    run = run_reference(bundle, tmp_path / "reference-state.json")
    if run is not None:
        assert not run.ok and run.error_words.endswith(words)
