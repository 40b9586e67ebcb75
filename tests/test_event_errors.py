"""Event lines serde refuses: tracegraph gives the reference's words and position.

Each case changes one event line of a tiny bundle. The expected message is the
reference reducer's (read off ``../shared/tools/reference-reduce``), with values left
out as tracegraph leaves them out (``string``, not ``string "1"``): errors never
echo trace content. When the binary is present the test also asks it again.
``benchmarks/event_error_diff.py`` runs the same comparison on thousands of
random changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_serde_edges import INFERENCE, MANIFEST, THREAD, THREAD_ENDED, TOOL_STARTED
from tracegraph.authoring import run_reference
from tracegraph.errors import TracegraphError
from tracegraph.reducer import replay_bundle

#: name -> (event line, text to replace, replacement, the reference's message)
CASES: dict[str, tuple[str, str, str, str]] = {
    'string for u64': (THREAD, '"seq":1,',
        '"seq":"1",',
        'parse trace event line 1: invalid type: string, expected u64 at line 1 column 29'),
    'float for u64': (THREAD, '"seq":1,',
        '"seq":1.5,',
        'parse trace event line 1: invalid type: floating point, expected u64 at line 1 column 29'),
    'negative u64': (THREAD, '"seq":1,',
        '"seq":-1,',
        'parse trace event line 1: invalid value: integer, expected u64 at line 1 column 28'),
    'u32 out of range': (THREAD, '"schema_version":1',
        '"schema_version":99999999999',
        'parse trace event line 1: invalid value: integer, expected u32 at line 1 column 29'),
    'integer for a string': (THREAD, '"rollout_id":"r"',
        '"rollout_id":5',
        'parse trace event line 1: invalid type: integer, expected a string at line 1 column 64'),
    'sequence for a string': (THREAD, '"thread_id":null',
        '"thread_id":[1]',
        'parse trace event line 1: invalid type: sequence, expected a string at line 1 column 79'),
    'boolean for a string': (THREAD, '"codex_turn_id":null',
        '"codex_turn_id":true',
        'parse trace event line 1: invalid type: boolean, expected a string at line 1 column 104'),
    'duplicate field': (THREAD, '"seq":1,',
        '"seq":1,"seq":2,',
        'parse trace event line 1: duplicate field `seq` at line 1 column 33'),
    'after a deep unknown field': (THREAD, '"agent_path":"/root","metadata_payload":null}}',
        '"agent_path":"/root","metadata_payload":null},"extra":' + "[" * 300 + "]" * 300,
        'parse trace event line 1: EOF while parsing an object at line 1 column 811'),
    'type error after an unknown field out of range': (THREAD, '"seq":1,"wall_time_unix_ms":5,',
        '"seq":1,"extra":1e400,"wall_time_unix_ms":"5",',
        'parse trace event line 1: invalid type: string, expected i64 at line 1 column 65'),
    'payload sequence too long': (THREAD, '{"type":"thread_started","thread_id":"th","agent_path":"/root","metadata_payload":null}',
        '["thread_started","th","/root",null,5]  ',
        'parse trace event line 1: invalid length 4, expected 3 elements in sequence at line 1 column 156'),
    'payload sequence too short': (THREAD, '{"type":"thread_started","thread_id":"th","agent_path":"/root","metadata_payload":null}',
        '["thread_started","th"]',
        'parse trace event line 1: invalid length 1, expected struct variant RawTraceEventPayload::ThreadStarted with 3 elements at line 1 column 139'),
    'type error in a payload sequence': (THREAD, '{"type":"thread_started","thread_id":"th","agent_path":"/root","metadata_payload":null}',
        '["thread_started",1,"/root",null]',
        'parse trace event line 1: invalid type: integer, expected a string at line 1 column 149'),
    'event sequence too long': (THREAD, THREAD,
        '[1,1,5,"r",null,null,{"type":"thread_started","thread_id":"th","agent_path":"/root","metadata_payload":null}, [1]]',
        'parse trace event line 1: trailing characters at line 1 column 111'),
    'missing field': (THREAD, '"seq":1,',
        '',
        'parse trace event line 1: missing field `seq` at line 1 column 195'),
    'payload not an object': (THREAD, '{"type":"thread_started","thread_id":"th","agent_path":"/root","metadata_payload":null}',
        '5',
        'parse trace event line 1: invalid type: integer, expected internally tagged enum RawTraceEventPayload at line 1 column 116'),
    'payload without a tag': (THREAD, '"type":"thread_started",',
        '',
        'parse trace event line 1: missing field `type` at line 1 column 178'),
    'unknown event type': (THREAD, '"type":"thread_started"',
        '"type":"zzz"',
        'parse trace event line 1: unknown variant `zzz`, expected one of `rollout_started`, `rollout_ended`, `thread_started`, `thread_ended`, `codex_turn_started`, `codex_turn_ended`, `inference_started`, `inference_completed`, `inference_failed`, `tool_call_started`, `tool_call_runtime_started`, `tool_call_runtime_ended`, `tool_call_ended`, `code_cell_started`, `code_cell_initial_response`, `code_cell_ended`, `compaction_request_started`, `compaction_request_completed`, `compaction_request_failed`, `compaction_installed`, `agent_result_observed`, `protocol_event_observed`, `other` at line 1 column 128'),
    'event tag not a string': (THREAD, '"type":"thread_started"',
        '"type":3',
        'parse trace event line 1: invalid type: integer, expected variant identifier at line 1 column 124'),
    'buffered field of the wrong type': (THREAD, '"thread_id":"th"',
        '"thread_id":7',
        'parse trace event line 1: invalid type: integer, expected a string at line 1 column 200'),
    'buffered duplicate': (THREAD, '"agent_path":"/root"',
        '"agent_path":"/root","agent_path":"/x"',
        'parse trace event line 1: duplicate field `agent_path` at line 1 column 221'),
    'buffered missing field': (THREAD, '"agent_path":"/root",',
        '',
        'parse trace event line 1: missing field `agent_path` at line 1 column 182'),
    'unit variant unknown': (THREAD_ENDED, '"completed"',
        '"zzz"',
        'parse trace event line 2: unknown variant `zzz`, expected one of `running`, `completed`, `failed`, `aborted` at line 1 column 171'),
    'unit variant of the wrong type': (THREAD_ENDED, '"completed"',
        '5',
        'parse trace event line 2: invalid type: integer, expected string or map at line 1 column 167'),
    'unit variant map with two keys': (THREAD_ENDED, '"completed"',
        '{"a":1,"b":2}',
        'parse trace event line 2: invalid value: map, expected map with a single key at line 1 column 179'),
    'payload kind empty': (INFERENCE, '{"type":"inference_request"}',
        '{}',
        'parse trace event line 2: missing field `type` at line 1 column 326'),
    'payload kind as a string': (INFERENCE, '{"type":"inference_request"}',
        '"inference_request"',
        'parse trace event line 2: invalid type: string, expected adjacently tagged enum RawPayloadKind at line 1 column 343'),
    'payload kind with content': (INFERENCE, '{"type":"inference_request"}',
        '{"type":"inference_request","value":5}',
        'parse trace event line 2: invalid type: integer, expected unit variant RawPayloadKind::InferenceRequest at line 1 column 362'),
    'payload kind index out of range': (INFERENCE, '{"type":"inference_request"}',
        '{"type":12}',
        'parse trace event line 2: invalid value: integer, expected variant index 0 <= i < 12 at line 1 column 335'),
    'payload ref as a short sequence': (INFERENCE, '{"raw_payload_id":"raw_payload:1","kind":{"type":"inference_request"},"path":"payloads/1.json"}',
        '["raw_payload:1"]',
        'parse trace event line 2: invalid length 1, expected struct RawPayloadRef with 3 elements at line 1 column 274'),
    'nested tag index out of range': (TOOL_STARTED, '{"type":"model"}',
        '{"type":2}',
        'parse trace event line 2: invalid value: integer, expected variant index 0 <= i < 2 at line 1 column 389'),
    'nested variant sequence too short': (TOOL_STARTED, '{"type":"generic","label":"x","input_preview":null,"output_preview":null}',
        '[1]',
        'parse trace event line 2: invalid length 0, expected struct variant ToolCallSummary::Agent with 3 elements at line 1 column 325'),
    'buffered field, spaces before the closing braces': (THREAD, '"agent_path":"/root","metadata_payload":null}}',
        '"agent_path":5,"metadata_payload":null } }',
        'parse trace event line 1: invalid type: integer, expected a string at line 1 column 199'),
    'multi-byte text before the error': (THREAD, '"seq":1,"wall_time_unix_ms":5,"rollout_id":"r","thread_id":null,"codex_turn_id":null',
        '"seq":1,"rollout_id":"é€😀","wall_time_unix_ms":5,"thread_id":null,"codex_turn_id":7',
        'parse trace event line 1: invalid type: integer, expected a string at line 1 column 109'),
    'a value of the wrong kind, nested too deeply': (THREAD, '"seq":1,',
        '"seq":' + "[" * 200 + "]" * 200 + ",",
        'parse trace event line 1: invalid type: sequence, expected u64 at line 1 column 26'),
    'a payload nested too deeply': (THREAD, '"agent_path":"/root"',
        '"agent_path":"/root","x":' + "[" * 200 + "]" * 200,
        'parse trace event line 1: recursion limit exceeded at line 1 column 308'),
    # serde reads as it goes: a type error before a syntax error comes first.
    'a type error before the line is cut short': (THREAD, THREAD,
        THREAD.replace('"seq":1,', '"seq":"1",')[:120],
        'parse trace event line 1: invalid type: string, expected u64 at line 1 column 29'),
    'a type error before nesting opened past the limit': (THREAD, THREAD,
        '{"schema_version":1,"seq":"1",' + "[" * 200,
        'parse trace event line 1: invalid type: string, expected u64 at line 1 column 29'),
    'a line opened past the limit': (THREAD, THREAD,
        "[" * 200,
        'parse trace event line 1: invalid type: sequence, expected u32 at line 1 column 1'),
    'a repeated key before a syntax error': (THREAD, '"seq":1,',
        '"seq":1,"seq":2,"wall_time_unix_ms":5,}',
        'parse trace event line 1: duplicate field `seq` at line 1 column 33'),
    'a repeated key without its colon': (THREAD, THREAD,
        '{"schema_version":1,"seq":1,"seq"',
        'parse trace event line 1: duplicate field `seq` at line 1 column 33'),
    'a tag of the wrong kind before a syntax error': (THREAD, '"type":"thread_started"',
        '"type":{"type":"" "k":',
        'parse trace event line 1: invalid type: map, expected variant identifier at line 1 column 123'),
    'a number ended by a stray byte': (THREAD, '"schema_version":1',
        '"schema_version":99999999999-',
        'parse trace event line 1: invalid value: integer, expected u32 at line 1 column 29'),
    'a number running into a syntax error': (THREAD, '"seq":1,',
        '"seq":1.}',
        'parse trace event line 1: invalid number at line 1 column 29'),
    'a skipped field with a point and no digit after it': (THREAD, '"seq":1,',
        '"seq":1,"extra":18446744073709551615.,',
        'parse trace event line 1: invalid number at line 1 column 58'),
    'a skipped long integer with a point and no digit after it': (THREAD, '"seq":1,',
        '"seq":1,"extra":123456789012345678901.,',
        'parse trace event line 1: invalid number at line 1 column 59'),
    # serde skips an unknown field by its own rules (`ignore_value`).
    'a skipped list with a comma before its end': (THREAD, '"seq":1,',
        '"seq":1,"extra":[1,],',
        'parse trace event line 1: expected value at line 1 column 40'),
    'a skipped map with a comma before its end': (THREAD, '"seq":1,',
        '"seq":1,"extra":{"a":1,},',
        'parse trace event line 1: key must be a string at line 1 column 44'),
    'a control character in a skipped string': (THREAD, '"seq":1,',
        '"seq":1,"extra":{"a":[1,"x\x1f"]},',
        'parse trace event line 1: control character (\\u0000-\\u001F) found while parsing a string at line 1 column 46'),
    'a skipped number with a leading zero after its sign': (THREAD, '"seq":1,',
        '"seq":1,"extra":-01,',
        'parse trace event line 1: invalid number at line 1 column 39'),
    'a skipped number past the float range': (THREAD, '"seq":1,',
        '"seq":1,"extra":[1e400,{"a":"\\uD800"}],"seq":"x",',
        'parse trace event line 1: duplicate field `seq` at line 1 column 64'),
    'a typed field holding a long integer with a bare point': (THREAD, '"seq":1,',
        '"seq":123456789012345678901.,',
        'parse trace event line 1: invalid type: floating point, expected u64 at line 1 column 48'),
    'payload kind content before its tag': (INFERENCE, '{"type":"inference_request"}',
        '{"value":5,"type":"inference_request"}',
        'parse trace event line 2: invalid type: integer, expected unit variant RawPayloadKind::InferenceRequest at line 1 column 362'),
    'payload kind unknown tag before a repeated tag': (INFERENCE, '{"type":"inference_request"}',
        '{"type":"zzz","type":"inference_request"}',
        'parse trace event line 2: unknown variant `zzz`, expected one of `inference_request`, `inference_response`, `compaction_request`, `compaction_checkpoint`, `compaction_response`, `tool_invocation`, `tool_result`, `tool_runtime_event`, `terminal_runtime_event`, `protocol_event`, `session_metadata`, `agent_result` at line 1 column 365'),
}


def _bundle(tmp_path: Path, line: str, *, after_thread: bool = False) -> Path:
    (tmp_path / "payloads").mkdir()
    (tmp_path / "manifest.json").write_text(json.dumps(MANIFEST))
    before = THREAD + "\n" if after_thread else ""
    (tmp_path / "trace.jsonl").write_text(f"{before}{line}\n", encoding="utf-8")
    (tmp_path / "payloads" / "1.json").write_text('{"input": []}')
    return tmp_path


@pytest.mark.parametrize("name", sorted(CASES))
def test_event_line_error_is_the_reference_s(name: str, tmp_path: Path) -> None:
    line, old, new, expected = CASES[name]
    assert old in line
    bundle = _bundle(tmp_path, line.replace(old, new, 1), after_thread=line is not THREAD)
    with pytest.raises(TracegraphError) as info:
        replay_bundle(bundle, dialect="seed")
    message = str(info.value)
    assert expected in message
    assert len(message.splitlines()) == 1
    run = run_reference(bundle, tmp_path / "reference-state.json")
    if run is not None:
        assert run.error_words == expected


def test_the_field_is_named_after_the_position(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, THREAD.replace('"thread_id":"th"', '"thread_id":7'))
    with pytest.raises(TracegraphError) as info:
        replay_bundle(bundle, dialect="seed")
    assert str(info.value).endswith("at line 1 column 200 (in `payload.thread_id`)")


def test_values_are_not_echoed(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, THREAD.replace('"rollout_id":"r"', '"rollout_id":["CANARY_7f3a"]'))
    with pytest.raises(TracegraphError) as info:
        replay_bundle(bundle, dialect="seed")
    assert "CANARY" not in str(info.value)
    assert "invalid type: sequence, expected a string" in str(info.value)


def test_the_first_bad_line_is_reported_first(tmp_path: Path) -> None:
    """Dialect detection reads ahead, but leaves a later line's error to the replay."""
    bundle = _bundle(tmp_path, THREAD.replace('"seq":1,', ""))
    with (bundle / "trace.jsonl").open("ab") as log:
        log.write(b"\xff\xfe\n")
    with pytest.raises(TracegraphError) as info:
        replay_bundle(bundle)  # dialect auto
    assert "parse trace event line 1: missing field `seq`" in str(info.value)


def test_manifest_array_element_types_come_before_its_length(tmp_path: Path) -> None:
    """serde reads a struct from an array element by element, then the closing `]`."""
    expected = {
        "[[1]]": "invalid type: sequence, expected u32 at line 1 column 2",
        '[1,"t","r","th",5,"trace.jsonl","payloads",3]':
            "trailing characters at line 1 column 44",
        '[1,"t","r","th",5,"trace.jsonl","payloads"\n ,  "x"]':
            "trailing characters at line 2 column 5",
    }
    for number, (manifest, words) in enumerate(expected.items()):
        (tmp_path / str(number)).mkdir()
        bundle = _bundle(tmp_path / str(number), THREAD)
        (bundle / "manifest.json").write_text(manifest)
        with pytest.raises(TracegraphError) as info:
            replay_bundle(bundle, dialect="seed")
        assert f"manifest.json: {words}" in str(info.value)
        reference = run_reference(bundle)
        if reference is not None:
            assert reference.error_words is not None and words in reference.error_words
