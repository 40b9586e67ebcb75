"""The orjson fast path of ``bundle/serde_json`` agrees with its exact path.

Random JSON-ish documents (floats, ``-0``, long integers, repeated keys, deep
nesting, escapes, lone surrogates, NaN, broken syntax) are parsed both ways:
both must fail, or both must give the same value (``-0.0`` and ``0`` told
apart, floats compared bit for bit). Event lines of generated bundles that the
fast path accepts must give the event the exact path gives.
"""

from __future__ import annotations

import json
import math
import random
import struct
from pathlib import Path
from typing import Any

import pytest

from tests.generator import generate_bundle
from tracegraph.bundle import reader, serde_json
from tracegraph.bundle.reader import SkippedEvent
from tracegraph.errors import TraceError
from tracegraph.model.dialect import Dialect

_STRINGS = ["", "a", "é", "\\u00e9", "\\ud83d\\ude00", "\\ud800", "-0", "1.5", "x\\ny",
            "\\\\", '\\"', "[{", "\x7f", "\\u0000"]
_NUMBERS = ["0", "-0", "1", "-1", "1.5", "0.23607809543282265", "1e16", "1E-7", "-0.0",
            "18446744073709551615", "18446744073709551616", "-9223372036854775808",
            "-9223372036854775809", "123456789012345678901234567890", "1e400", "NaN",
            "Infinity", "01", "1."]


def _document(rng: random.Random, depth: int) -> str:
    roll = rng.random()
    if depth > 0 and roll < 0.3:
        pairs = [(rng.choice(["a", "b", "c", "type"]), _document(rng, depth - 1))
                 for _ in range(rng.randint(0, 4))]
        space = rng.choice(["", " ", "\n  "])
        return "{" + ",".join(f'{space}"{k}":{space}{v}' for k, v in pairs) + "}"
    if depth > 0 and roll < 0.55:
        items = [_document(rng, depth - 1) for _ in range(rng.randint(0, 4))]
        return "[" + rng.choice([",", ", "]).join(items) + "]"
    if roll < 0.75:
        return f'"{rng.choice(_STRINGS)}"'
    if roll < 0.95:
        return rng.choice(_NUMBERS)
    return rng.choice(["true", "false", "null"])


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _outcome(parse: Any, text: str | bytes) -> tuple[bool, Any]:
    try:
        return True, parse(text)
    except (serde_json.JsonError, UnicodeDecodeError):
        return False, None


def _documents(seed: int) -> list[str]:
    rng = random.Random(seed)
    docs = [_document(rng, rng.randint(0, 5)) for _ in range(400)]
    # orjson reads up to 1024 levels but writes only 254: deeper ones must not escape.
    docs += ["[" * n + "]" * n for n in (126, 127, 128, 129, 300, 1000)]
    docs += ['{"a":' * n + "1" + "}" * n for n in (127, 128)]
    return docs


@pytest.mark.parametrize("seed", range(5))
def test_value_fast_path_matches_exact_path(seed: int) -> None:
    for text in _documents(seed):
        exact = _outcome(serde_json.exact_loads, text)
        for given in (text, text.encode("utf-8", "surrogatepass")):
            fast = _outcome(serde_json.loads, given)
            assert fast[0] == exact[0] and _same(fast[1], exact[1]), text


@pytest.mark.parametrize("seed", range(5))
def test_typed_document_fast_path_matches_exact_path(seed: int) -> None:
    for text in _documents(seed):
        # Compact canonical forms reach the fast path; the random ones mostly do not.
        for variant in (text, _compact(text)):
            if variant is None:
                continue
            exact = _outcome(serde_json.exact_typed_document, variant)
            fast = _outcome(serde_json.check_typed_document, variant.encode("utf-8"))
            assert fast[0] == exact[0] and _same(fast[1], exact[1]), variant
            loose = _outcome(serde_json.loads_struct_text, variant)
            if exact[0]:
                assert loose[0] and _same(loose[1], exact[1]), variant


def _compact(text: str) -> str | None:
    try:
        compact = json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
        compact.encode("utf-8")
    except (ValueError, RecursionError):  # UnicodeEncodeError included
        return None
    return compact


def _event_outcome(text: str, dialect: Dialect) -> tuple[str, Any]:
    skipped: list[SkippedEvent] = []
    try:
        event = reader._parse_event_line_exactly(text, line=1, path=None, dialect=dialect,
                                                 skipped=skipped)
    except TraceError as err:
        return "error", str(err)
    return ("event", event.model_dump()) if event is not None else ("skipped", skipped)


@pytest.mark.parametrize("seed", range(0, 120, 7))
def test_event_line_fast_path_matches_exact_path(seed: int, tmp_path: Path) -> None:
    generate_bundle(tmp_path, seed)
    lines = (tmp_path / "trace.jsonl").read_bytes().splitlines()
    for raw in lines:
        for dialect in Dialect:
            fast = reader._parse_plain_event_line(raw, dialect)
            if fast is not None:
                text = raw.decode("utf-8")
                assert _event_outcome(text, dialect) == ("event", fast.model_dump()), text


@pytest.mark.parametrize("depth", [127, 128, 300, 1000])
def test_deep_event_lines_take_the_exact_path(depth: int) -> None:
    line = ('{"schema_version":1,"seq":1,"wall_time_unix_ms":5,"rollout_id":"r",'
            '"thread_id":null,"codex_turn_id":null,"payload":{"type":"other","kind":"k",'
            '"summary":"s","payloads":[],"metadata":' + "[" * depth + "]" * depth + "}}")
    if depth + 2 >= serde_json.MAX_NESTING:
        assert serde_json.canonical_document(line.encode()) is None
        with pytest.raises(TraceError, match="recursion limit"):
            reader.parse_event_line(line.encode(), line=1)
    else:
        assert serde_json.canonical_document(line.encode()) is not None
        assert reader.parse_event_line(line.encode(), line=1) is not None
