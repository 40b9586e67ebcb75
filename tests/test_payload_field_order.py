"""Which of several bad fields serde reports first, in a payload read into a struct.

The reference reads payloads into a ``serde_json::Value`` and then into structs
(``from_value``): a ``Value``'s map is sorted by key, and a missing field is reported
only after every present one was read. Arguments read from a string (``from_str``)
are met as written instead. Each case replaces the terminal-reuse example's
``write_stdin`` dispatch payload; the expected words were read off
``../shared/tools/reference-reduce``, which the test asks again when it is present.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tracegraph.authoring import run_reference
from tracegraph.errors import TracegraphError
from tracegraph.reducer import replay_bundle

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "bundles" / "terminal-reuse"
DISPATCH = "29.json"  # the example's write_stdin invocation
PREFIX = "parse terminal invocation payload raw_payload:29 as dispatch payload: "
ARGUMENTS = "parse write_stdin dispatch function arguments: "

CASES = {
    "payload sorts before tool_name": (
        '{"tool_name":5,"tool_namespace":null,"payload":7}',
        "invalid type: integer, expected struct DispatchedToolPayload"),
    "a bad field before a missing one": (
        '{"tool_namespace":null,"payload":{"type":{"a":1},"arguments":"x"}}',
        "invalid type: map, expected a string"),
    "arguments sorts before type": (
        '{"payload":{"type":{"a":1},"arguments":5},"tool_name":"write_stdin"}',
        "invalid type: integer, expected a string"),
    "arguments text is met as written": (
        '{"tool_name":"write_stdin","payload":{"type":"function","arguments":'
        '"{\\"session_id\\": 1, \\"yield_time_ms\\": \\"x\\", \\"chars\\": 5}"}}',
        ARGUMENTS + "invalid type: string, expected u64 at line 1 column 38"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_first_bad_field_is_the_one_serde_meets_first(name: str, tmp_path: Path) -> None:
    payload, words = CASES[name]
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, bundle)
    (bundle / "payloads" / DISPATCH).write_text(payload)
    with pytest.raises(TracegraphError) as failure:
        replay_bundle(bundle)
    assert PREFIX + words in str(failure.value)
    run = run_reference(bundle, tmp_path / "reference-state.json")
    if run is not None:
        assert run.error_words == PREFIX + words
