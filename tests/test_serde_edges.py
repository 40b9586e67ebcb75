"""serde/serde_json edge cases the reference reducer has, reproduced exactly.

Each case is a tiny bundle; the expected outcome (reduces or fails) was read
off ``../shared/tools/reference-reduce``, and when that binary is present the
test also compares tracegraph's output with it byte for byte.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracegraph.authoring import run_reference
from tracegraph.errors import TracegraphError
from tracegraph.reducer import replay_bundle

MANIFEST = {"schema_version": 1, "trace_id": "t", "rollout_id": "r", "root_thread_id": "th",
            "started_at_unix_ms": 5, "raw_event_log": "trace.jsonl", "payloads_dir": "payloads"}
THREAD = ('{"schema_version":1,"seq":1,"wall_time_unix_ms":5,"rollout_id":"r","thread_id":null,'
          '"codex_turn_id":null,"payload":{"type":"thread_started","thread_id":"th",'
          '"agent_path":"/root","metadata_payload":null}}')
TURN = ('{"schema_version":1,"seq":2,"wall_time_unix_ms":6,"rollout_id":"r","thread_id":null,'
        '"codex_turn_id":null,"payload":{"type":"codex_turn_started","codex_turn_id":"tu",'
        '"thread_id":"th"}}')
INFERENCE = ('{"schema_version":1,"seq":3,"wall_time_unix_ms":7,"rollout_id":"r","thread_id":null,'
             '"codex_turn_id":null,"payload":{"type":"inference_started","inference_call_id":"i",'
             '"thread_id":"th","codex_turn_id":"tu","model":"m","provider_name":"p",'
             '"request_payload":{"raw_payload_id":"raw_payload:1",'
             '"kind":{"type":"inference_request"},"path":"payloads/1.json"}}}')


THREAD_ENDED = ('{"schema_version":1,"seq":2,"wall_time_unix_ms":6,"rollout_id":"r",'
                '"thread_id":null,"codex_turn_id":null,"payload":{"type":"thread_ended",'
                '"thread_id":"th","status":"completed"}}')
TOOL_STARTED = ('{"schema_version":1,"seq":2,"wall_time_unix_ms":6,"rollout_id":"r",'
                '"thread_id":"th","codex_turn_id":null,"payload":{"type":"tool_call_started",'
                '"tool_call_id":"c","model_visible_call_id":null,"code_mode_runtime_tool_id":null,'
                '"requester":{"type":"model"},"kind":{"type":"exec_command"},"summary":'
                '{"type":"generic","label":"x","input_preview":null,"output_preview":null},'
                '"invocation_payload":null}}')


def request_with_arguments(arguments: str) -> str:
    return json.dumps({"input": [{"type": "function_call", "call_id": "c",
                                  "arguments": arguments}]})


#: name -> (trace.jsonl text, payloads/1.json text or None, reference reduces it)
CASES: dict[str, tuple[str, str | None, bool]] = {
    "event as array": (
        '[1,1,5,"r",null,null,{"type":"thread_started","thread_id":"th","agent_path":"/root",'
        '"metadata_payload":null}]\n', None, True),
    "payload as array": (
        '{"schema_version":1,"seq":1,"wall_time_unix_ms":5,"rollout_id":"r","thread_id":null,'
        '"codex_turn_id":null,"payload":["thread_started","th","/root",null]}\n', None, True),
    "payload array too short": (
        '{"schema_version":1,"seq":1,"wall_time_unix_ms":5,"rollout_id":"r","thread_id":null,'
        '"codex_turn_id":null,"payload":["thread_started","th","/root"]}\n', None, False),
    "duplicate field": (THREAD.replace('"seq":1,', '"seq":1,"seq":1,') + "\n", None, False),
    "float seq": (THREAD.replace('"seq":1,', '"seq":1.0,') + "\n", None, False),
    "seq above u64": (THREAD.replace('"seq":1,', '"seq":18446744073709551616,') + "\n", None,
                      False),
    "unknown field ignored": (THREAD.replace('"seq":1,', '"seq":1,"extra":[1],') + "\n", None,
                              True),
    # serde skips an unknown envelope field checking only its syntax.
    "unknown field out of f64 range": (
        THREAD.replace('"seq":1,', '"seq":1,"extra":1e400,"more":[-1e999999],') + "\n", None,
        True),
    "unknown field with a lone surrogate": (
        THREAD.replace('"seq":1,', '"seq":1,"extra":"\\ud800",') + "\n", None, True),
    "unknown field nested 300 deep": (
        THREAD.replace('"seq":1,', '"seq":1,"extra":' + "[" * 300 + "]" * 300 + ",") + "\n",
        None, True),
    "unknown field with a leading zero": (
        THREAD.replace('"seq":1,', '"seq":1,"extra":01,') + "\n", None, False),
    "payload field out of f64 range": (
        THREAD.replace('"agent_path":"/root",', '"agent_path":"/root","zz":1e400,') + "\n",
        None, False),
    "blank and whitespace lines": ("\n \t\n" + THREAD + "\r\n\n", None, True),
    "separator-only line": (THREAD + "\n\x1c\n", None, False),
    "NaN in payload": (f"{THREAD}\n{TURN}\n{INFERENCE}\n", '{"input": [], "x": NaN}', False),
    "lone surrogate in payload": (f"{THREAD}\n{TURN}\n{INFERENCE}\n",
                                  '{"input": [], "x": "\\ud800"}', False),
    "paired surrogates": (f"{THREAD}\n{TURN}\n{INFERENCE}\n",
                          '{"input": [{"type": "message", "role": "user", "content": '
                          '[{"type": "input_text", "text": "\\ud83d\\ude00"}]}]}', True),
    "payload nested 128 deep": (f"{THREAD}\n{TURN}\n{INFERENCE}\n",
                                '{"input": [], "x": ' + "[" * 127 + "]" * 127 + "}", False),
    "arguments nested 128 deep are text": (f"{THREAD}\n{TURN}\n{INFERENCE}\n",
                                           request_with_arguments("[" * 128 + "]" * 128), True),
    "serde float rounding": (f"{THREAD}\n{TURN}\n{INFERENCE}\n",
                             request_with_arguments(
                                 '{"a":0.23607809543282265,"b":1e16,"c":10000000000000000000000,'
                                 '"d":-0,"e":1e-7,"f":123456789012345678901234567890}'), True),
    "summary cut inside a character": (f"{THREAD}\n{TURN}\n{INFERENCE}\n",
                                       request_with_arguments(
                                           json.dumps({"k": "a" * 231 + "é" * 10})), False),
    # serde's other spellings of enums, which the reference accepts (or refuses) too.
    "payload kind as a variant index": (
        f"{THREAD}\n{TURN}\n" + INFERENCE.replace('{"type":"inference_request"}', '{"type":0}')
        + "\n", '{"input": []}', True),
    "payload kind index out of range": (
        f"{THREAD}\n{TURN}\n" + INFERENCE.replace('{"type":"inference_request"}', '{"type":12}')
        + "\n", '{"input": []}', False),
    "payload kind with null content": (
        f"{THREAD}\n{TURN}\n" + INFERENCE.replace(
            '{"type":"inference_request"}', '{"value":null,"type":"inference_request","x":1}')
        + "\n", '{"input": []}', True),
    "payload kind with content": (
        f"{THREAD}\n{TURN}\n" + INFERENCE.replace(
            '{"type":"inference_request"}', '{"type":"inference_request","value":5}')
        + "\n", '{"input": []}', False),
    "unit variant as a map": (
        THREAD + "\n" + THREAD_ENDED.replace('"completed"', '{"completed":null}') + "\n",
        None, True),
    "unit variant as a map with content": (
        THREAD + "\n" + THREAD_ENDED.replace('"completed"', '{"completed":1}') + "\n",
        None, False),
    "nested tag as a variant index": (
        THREAD + "\n" + TOOL_STARTED.replace('{"type":"model"}', '{"type":0}') + "\n", None,
        True),
    "nested tag index out of range": (
        THREAD + "\n" + TOOL_STARTED.replace('{"type":"model"}', '{"type":2}') + "\n", None,
        False),
    "nested variant as a sequence with an index tag": (
        THREAD + "\n" + TOOL_STARTED.replace(
            '{"type":"generic","label":"x","input_preview":null,"output_preview":null}',
            '[3,"x",null,null]') + "\n", None, True),
    # A repeated key is an error in a struct only: skipped and free-form values take it.
    "repeated key in an unknown field": (
        THREAD.replace('"seq":1,', '"seq":1,"extra":{"a":1,"a":2},') + "\n", None, True),
    "repeated key in an unknown payload field": (
        THREAD.replace('"agent_path":"/root"', '"agent_path":"/root","x":{"a":1,"a":[2]}')
        + "\n", None, True),
    "repeated payload field": (
        THREAD.replace('"agent_path":"/root"', '"agent_path":"/root","agent_path":"/x"')
        + "\n", None, False),
    "event tag as a variant index": (THREAD.replace('"type":"thread_started"', '"type":2') + "\n",
                                     None, False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_serde_edge_case(name: str, tmp_path: Path) -> None:
    trace, payload, reduces = CASES[name]
    (tmp_path / "payloads").mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    (tmp_path / "trace.jsonl").write_text(trace, encoding="utf-8")
    if payload is not None:
        (tmp_path / "payloads" / "1.json").write_text(payload, encoding="utf-8")
    try:
        mine: str | None = replay_bundle(tmp_path, dialect="seed").to_state_json()
    except TracegraphError:
        mine = None
    assert (mine is not None) == reduces
    # The reference exits 2 on a reducer error and 101 where it panics.
    result = run_reference(tmp_path)
    if result is None:
        return
    assert result.ok == reduces, result.stderr
    if reduces:
        assert mine == result.state


def _small_bundle(tmp_path: Path, *, manifest: str | None = None,
                  lines: tuple[str, ...] = (THREAD, TURN, INFERENCE),
                  payload: str = '{"input": []}') -> Path:
    """A thread, a turn and an inference whose request is ``payloads/1.json``."""
    bundle = tmp_path / "bundle"
    (bundle / "payloads").mkdir(parents=True)
    (bundle / "manifest.json").write_text(manifest or json.dumps(MANIFEST))
    (bundle / "trace.jsonl").write_text("\n".join(lines) + "\n")
    (bundle / "payloads" / "1.json").write_text(payload)
    return bundle


def _outcome_is_the_references(bundle: Path, words: str | None) -> None:
    """Reduced (``words`` None) to the reference's bytes, or refused in its words."""
    result = run_reference(bundle)
    if words is None:
        state = replay_bundle(bundle).to_state_json()
        if result is not None:
            assert result.ok and result.state == state
        return
    with pytest.raises(TracegraphError) as failure:
        replay_bundle(bundle)
    assert words in str(failure.value)
    assert len(str(failure.value).splitlines()) == 1
    if result is not None:
        assert not result.ok and result.error_words.endswith(words)


#: A bundle file that is a directory: the reference opens it and fails on the read.
DIRECTORY_ERRORS = {
    "manifest.json": "read {bundle}/manifest.json: Is a directory (os error 21): "
                     "Is a directory (os error 21)",
    "trace.jsonl": "read trace event line 1: Is a directory (os error 21)",
    "payloads/1.json": "parse payload raw_payload:1: Is a directory (os error 21): "
                       "Is a directory (os error 21)",
}


@pytest.mark.parametrize("name", sorted(DIRECTORY_ERRORS))
def test_a_bundle_file_that_is_a_directory_fails_in_the_references_words(
    name: str, tmp_path: Path
) -> None:
    bundle = _small_bundle(tmp_path)
    target = bundle / name
    target.unlink()
    target.mkdir()
    _outcome_is_the_references(bundle, DIRECTORY_ERRORS[name].format(bundle=bundle))


#: A payload number serde_json 1.0.87 reads unlike other parsers: it tests for "a digit
#: after the point" by an exponent that an integer's digits past u64 moved up. The
#: reference's words (None: it reads the bundle).
PAYLOAD_NUMBERS = {
    "18446744073709551616.0": "parse payload raw_payload:1: invalid number at line 1 column 43",
    "18446744073709551616.0e3": "parse payload raw_payload:1: invalid number at line 1 column 43",
    "123456789012345678901.": None,
    "-123456789012345678901.e2": None,
    "18446744073709551616.00": None,
}


@pytest.mark.parametrize("number", sorted(PAYLOAD_NUMBERS))
def test_a_payload_number_is_read_or_refused_as_serde_json_1_0_87_does(
    number: str, tmp_path: Path
) -> None:
    bundle = _small_bundle(tmp_path, payload='{"input": [], "x": [' + number + ']}')
    _outcome_is_the_references(bundle, PAYLOAD_NUMBERS[number])


#: An unknown manifest field, skipped by serde's own rules (syntax only, its own places
#: for some errors): the reference's words after ``read PATH: `` (None: it reads it).
SKIPPED_MANIFEST_FIELDS = {
    "1e400": None,
    '"\\uD800"': None,
    "[" * 200 + "]" * 200: None,
    "18446744073709551616.0": None,
    "[1,]": "expected value at line 3 column 15",
    "[1, 123456789012345678901.]": "invalid number at line 3 column 38",
    "123456789012345678901.": "invalid number at line 3 column 34",
    '{"a":[1,"x\x1f"]}': "control character (\\u0000-\\u001F) found while parsing a string "
                          "at line 3 column 22",
}


@pytest.mark.parametrize("value", sorted(SKIPPED_MANIFEST_FIELDS))
def test_an_unknown_manifest_field_is_skipped_as_serde_skips_it(
    value: str, tmp_path: Path
) -> None:
    manifest = json.dumps(MANIFEST, indent=2).replace(
        '"trace_id"', '"extra": ' + value + ',\n  "trace_id"', 1)
    words = SKIPPED_MANIFEST_FIELDS[value]
    _outcome_is_the_references(_small_bundle(tmp_path, manifest=manifest),
                               None if words is None else f"manifest.json: {words}")


def test_an_event_payload_reads_a_long_integer_with_a_bare_point(tmp_path: Path) -> None:
    # serde buffers the payload as a value, whose number reader takes it (its skipping
    # of an unknown envelope field would not): the reference reduces this bundle.
    thread = THREAD.replace('"metadata_payload":null',
                            '"metadata_payload":null,"x":[123456789012345678901.]')
    _outcome_is_the_references(_small_bundle(tmp_path, lines=(thread, TURN, INFERENCE)), None)
