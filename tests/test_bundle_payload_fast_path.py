"""The payload fast path's boundaries: when orjson's value is kept, when serde's rules run.

``serde_json.loads`` keeps orjson's value only when it has no float (floats
matter) and nests less than ``MAX_NESTING`` deep; ``_orjson_reads_exactly``
decides that in one pass per level. It is checked here against the plain
definition (recursive depth and float search), and payload files around each
boundary are read through ``TraceBundle.read_payload``.
"""

from __future__ import annotations

import json
import random
import re
import struct
from pathlib import Path
from typing import Any

import orjson
import pytest

from tracegraph.bundle import serde_json
from tracegraph.bundle.reader import TraceBundle
from tracegraph.bundle.writer import TraceWriter
from tracegraph.errors import BundleError
from tracegraph.model.payload import RawPayloadKind, RawPayloadKindName, RawPayloadRef

MAX = serde_json.MAX_NESTING


def _depth(value: Any) -> int:
    """Container levels: a scalar is 0, ``[]`` is 1, ``[[]]`` is 2."""
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(map(_has_float, value.values()))
    if isinstance(value, list):
        return any(map(_has_float, value))
    return False


def _definition(value: Any, floats_matter: bool) -> bool:
    return not (floats_matter and _has_float(value)) and _depth(value) < MAX


def _random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth and roll < 0.35:
        return {rng.choice("abcd"): _random_value(rng, depth - 1)
                for _ in range(rng.randint(0, 3))}
    if depth and roll < 0.7:
        return [_random_value(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return rng.choice([1, -7, "1.5", "x", None, True, 2.5, 0.1, "-0", 10**18])


def _nest(depth: int, leaf: Any, *, objects: bool = False) -> Any:
    value = leaf
    for index in range(depth):
        value = {"k": value} if objects and index % 2 else [value]
    return value


@pytest.mark.parametrize("floats_matter", [True, False])
def test_the_level_walk_is_the_plain_definition(floats_matter: bool) -> None:
    rng = random.Random(7)
    values = [_random_value(rng, rng.randint(0, 6)) for _ in range(3000)]
    leaves: list[Any] = [1, 1.5, "1.5", [], {}, [2.5]]
    values += [_nest(depth, leaf, objects=objects)
               for depth in (0, 1, 126, 127, 128, 129, 300)
               for leaf in leaves
               for objects in (False, True)]
    for value in values:
        assert serde_json._orjson_reads_exactly(value, floats_matter=floats_matter) == (
            _definition(value, floats_matter)), value


def _bits(value: Any) -> Any:
    if isinstance(value, float):
        return ("float", struct.pack("<d", value))
    if isinstance(value, dict):
        return {key: _bits(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_bits(item) for item in value]
    return (type(value).__name__, value)


def _bundle_with(tmp_path: Path, payload: bytes) -> tuple[TraceBundle, RawPayloadRef]:
    writer = TraceWriter.create(tmp_path, "trace", "rollout", "thread")
    writer.close()
    (tmp_path / "payloads").mkdir(exist_ok=True)
    (tmp_path / "payloads" / "p.json").write_bytes(payload)
    ref = RawPayloadRef(raw_payload_id="p", kind=RawPayloadKind(
        type=RawPayloadKindName.TOOL_RESULT), path="payloads/p.json")
    return TraceBundle(tmp_path), ref


@pytest.mark.parametrize("text", [
    '{"a":"1.5","b":"2e10","c":"0.23607809543282265"}',  # floats inside strings: fast
    '{"a":1.5}',
    '{"a":0.23607809543282265}',  # serde reads ...263 (not correctly rounded)
    '{"a":[1,2,{"b":1e16}]}',
    '{"a":18446744073709551616}',  # past u64: a float
    '{"a":-0}',
    '{"a":"-0"}',
    '[' * 127 + ']' * 127,
    '[' * 128 + ']' * 128,
    '{"a":' * 127 + '1' + '}' * 127,
])
def test_payload_values_are_serdes(text: str, tmp_path: Path) -> None:
    bundle, ref = _bundle_with(tmp_path, text.encode())
    try:
        expected: Any = _bits(serde_json.exact_loads(text))
    except serde_json.JsonError as err:
        with pytest.raises(BundleError, match=f"parse payload p: {re.escape(str(err))}$"):
            bundle.read_payload(ref)
        return
    assert _bits(bundle.read_payload(ref)) == expected


def test_a_float_in_a_string_keeps_orjsons_value_and_a_real_float_does_not() -> None:
    in_string = b'{"note":"version 1.5, 0.23607809543282265 and 1e5"}'
    real = b'{"note":0.23607809543282265}'
    assert serde_json._fast_loads(in_string) == orjson.loads(in_string)
    assert serde_json._fast_loads(real) is serde_json._SLOW
    assert serde_json.loads(real)["note"] == json.loads("0.23607809543282263")


@pytest.mark.parametrize("text", [
    '{"a":-0}', '[ -0]', '[1,-0]', '{"a":"-0","b":0}', '{"a":"x-0"}', '{"a":"-0"}', "-0",
    '{"a":0,"b":"-0"}', '{"a":[0,{"b":-0}]}', "0", '[0,"-0"]',
])
def test_negative_zero_is_looked_for_wherever_an_integer_zero_is_read(text: str) -> None:
    """orjson reads a ``-0`` token as the integer 0; serde_json as the float -0.0."""
    fast = serde_json._fast_loads(text.encode())
    exact = serde_json.exact_loads(text)
    if fast is not serde_json._SLOW:
        assert _bits(fast) == _bits(exact)
    assert _bits(serde_json.loads(text.encode())) == _bits(exact)
    if '"' not in text.replace('"a"', "").replace('"b"', "") and "-0" in text:
        assert fast is serde_json._SLOW  # a real -0 token never takes the fast path


def _random_dumpable(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    keys = ["a", "B", "é", "z", "_", "aa", "\U0001f600", "\uffff", "10", "9", "\x1f", "\u2028"]
    if depth and roll < 0.3:
        return {rng.choice(keys): _random_dumpable(rng, depth - 1)
                for _ in range(rng.randint(0, 5))}
    if depth and roll < 0.5:
        return [_random_dumpable(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    return rng.choice([0, -1, 2**63, 2**64 - 1, -(2**63), 2**64, -(2**63) - 1, True, False,
                       None, "x", "", '\n\t"\\', "\x00\x7f\u2029", "\ud800", 1.5, 1e16, -0.0])


def test_dumps_compact_is_the_plain_serializer() -> None:
    """The orjson path gives exactly the sorted ``json.dumps``/ryu form it replaces."""
    rng = random.Random(3)
    values = [_random_dumpable(rng, 5) for _ in range(5000)]
    values += [{"k" + chr(code): ["a" + chr(code), chr(code)]} for code in range(0x800)]
    values += [_nest(depth, "x", objects=True) for depth in (127, 128, 300)]
    for value in values:
        if serde_json._contains_float(value):
            out: list[str] = []
            serde_json._encode(value, out)
            expected = "".join(out)
        else:
            expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                                  sort_keys=True)
        assert serde_json.dumps_compact(value) == expected, value
