"""Agent runtime payloads serde refuses: the reference's words for enums and UUIDs.

The reference reads collab payloads into ``codex_protocol`` types: ``AgentStatus`` and
``ReasoningEffort`` (externally tagged enums) and ``ThreadId`` (a UUID, parsed by the
uuid crate). Each case changes one field of the multi-agent example's first spawn
payload; the expected message was read off ``../shared/tools/reference-reduce``
(which the test asks again when it is present), or ``OK`` where both reduce.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tracegraph.authoring import run_reference
from tracegraph.errors import TracegraphError
from tracegraph.reducer import replay_bundle

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "bundles" / "multi-agent"
#: payloads/10.json is the first CollabAgentSpawnEnd of the example.
SPAWN_END = "10.json"

CASES: list[tuple[str, Any, str]] = [
    ('status', "completed", 'invalid type: unit variant, expected newtype variant'),
    ('status', "zzz", 'unknown variant `zzz`, expected one of `pending_init`, `running`, `interrupted`, `completed`, `errored`, `shutdown`, `not_found`'),
    ('status', {"running": 1}, 'invalid type: integer, expected unit'),
    ('status', {"a": 1}, 'unknown variant `a`, expected one of `pending_init`, `running`, `interrupted`, `completed`, `errored`, `shutdown`, `not_found`'),
    ('status', {}, 'invalid value: map, expected map with a single key'),
    ('status', 5, 'invalid type: integer, expected string or map'),
    ('status', {"errored": None}, 'invalid type: null, expected a string'),
    ('status', {"completed": None}, 'OK'),
    ('sender_thread_id', "thread-x", 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-zA-Z], found `t` at 1'),
    ('sender_thread_id', "019dc002-8a1b-7c3d-9e4f-5a6b7c8d9e0", 'invalid group length in group 4: expected 12, found 11'),
    ('sender_thread_id', "019dc0028a1b7c3d9e4f5a6b7c8d9e0", 'invalid length: expected length 32 for simple format, found 31'),
    ('sender_thread_id', "019dc002-8a1b-7c3d-9e4f-5a6b7c8d9e0g", 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-zA-Z], found `g` at 36'),
    ('sender_thread_id', "019dc0028-a1b-7c3d-9e4f-5a6b7c8d9e0f", 'invalid group length in group 0: expected 8, found 9'),
    ('sender_thread_id', "019dc002-8a1b-7c3d-9e4f5a6b7c8d9e0f", 'invalid group count: expected 5, found 4'),
    ('sender_thread_id', "é19dc002-8a1b-7c3d-9e4f-5a6b7c8d9e0f", 'invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-zA-Z], found `é` at 1'),
    ('sender_thread_id', "{019dc002-8a1b-7c3d-9e4f-5a6b7c8d9e0}", 'invalid group length in group 4: expected 12, found 13'),
    ('sender_thread_id', "urn:uuid:019DC002-8A1B-7C3D-9E4F-5A6B7C8D9E0F", 'OK'),
    ('reasoning_effort', 5, 'invalid type: integer, expected string or map'),
    ('reasoning_effort', {"high": 1}, 'invalid type: integer, expected unit'),
    ('reasoning_effort', {"high": None}, 'OK'),
]


@pytest.mark.parametrize(("field", "value", "expected"), CASES,
                         ids=[f"{field}={json.dumps(value)}" for field, value, _ in CASES])
def test_agent_payload_errors_are_the_reference_s(field: str, value: Any, expected: str,
                                                  tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, bundle)
    payload = bundle / "payloads" / SPAWN_END
    document = json.loads(payload.read_text())
    assert field in document
    document[field] = value
    payload.write_text(json.dumps(document))
    try:
        replay_bundle(bundle)
        ours = "OK"
    except TracegraphError as err:
        ours = str(err)
        assert len(ours.splitlines()) == 1
    assert ours == expected if expected == "OK" else ours.endswith(f": {expected}")
    run = run_reference(bundle, tmp_path / "reference-state.json")
    if run is not None:
        assert ("OK" if run.ok else run.error_words) == expected


def test_a_uuid_is_never_echoed(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, bundle)
    payload = bundle / "payloads" / SPAWN_END
    document = json.loads(payload.read_text())
    document["sender_thread_id"] = "0CANARY7-8a1b-7c3d-9e4f-5a6b7c8d9e0f"
    payload.write_text(json.dumps(document))
    with pytest.raises(TracegraphError) as info:
        replay_bundle(bundle)
    assert "CANARY" not in str(info.value)
    assert "found `N` at 4" in str(info.value)
