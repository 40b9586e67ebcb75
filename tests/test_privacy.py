"""Error messages never echo trace content: a canary string in each kind of content.

Each kind of content (message and reasoning text, tool arguments and commands,
tool output, code, agent messages, prompts, diffs, ...) gets a canary in place of
its first occurrence in the example bundles. Then the bundle is damaged around the
canary in every way that makes the reducer talk about that spot: the file cut
right after it, invalid UTF-8 after it, its value or its parent object replaced by
the canary string, a map or a list, a duplicated key, deep nesting, the whole file
replaced by it. Whatever the outcome, the canary must not appear in the output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tracegraph.cli import app
from tracegraph.errors import safe_name

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"

#: JSON keys whose string values are user or model content.
CONTENT_KEYS = (
    "text", "arguments", "output", "cmd", "command", "stdout", "aggregated_output",
    "formatted_output", "source", "source_js", "message", "prompt", "instructions",
    "input_preview", "encrypted_content", "summary", "nickname", "task_name",
)

Path_ = tuple[Any, ...]


def canary(key: str) -> str:
    # Identifier-like on purpose: messages may quote names, never content.
    return f"CANARY_{key}_7f3a9c"


def _walk(value: Any, path: Path_ = ()) -> Any:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


def _documents(bundle: Path) -> Any:
    """(file name, line index or None, parsed JSON) for event lines, then payloads."""
    for index, line in enumerate((bundle / "trace.jsonl").read_text().splitlines()):
        yield "trace.jsonl", index, json.loads(line)
    for payload in sorted((bundle / "payloads").iterdir(), key=lambda p: int(p.stem)):
        yield f"payloads/{payload.name}", None, json.loads(payload.read_text())


Location = tuple[str, str, int | None, Path_]


def find_content(key: str) -> list[Location]:
    """Strings under ``key`` (or first strings of lists under it), at most one per file."""
    found: list[Location] = []
    for bundle in sorted(EXAMPLES.iterdir()):
        for name, line, document in _documents(bundle):
            for path, value in _walk(document):
                if not path or path[-1] != key:
                    continue
                if isinstance(value, str) and value:
                    found.append((bundle.name, name, line, path))
                    break
                if isinstance(value, list) and value and isinstance(value[0], str):
                    found.append((bundle.name, name, line, (*path, 0)))
                    break
    return found


LOCATIONS = {key: find_content(key) for key in CONTENT_KEYS}


def test_every_kind_of_content_is_found() -> None:
    missing = [key for key, locations in LOCATIONS.items() if not locations]
    assert not missing, f"no example holds {missing}"


def _get(value: Any, path: Path_) -> Any:
    for part in path:
        value = value[part]
    return value


def _set(value: Any, path: Path_, new: Any) -> Any:
    if not path:
        return new
    _get(value, path[:-1])[path[-1]] = new
    return value


class Placed:
    """A bundle copy with the canary placed at one content location."""

    def __init__(self, tmp: Path, key: str, location: Location) -> None:
        example, self.name, self.line, self.path = location
        self.root = tmp / "bundle"
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.copytree(EXAMPLES / example, self.root)
        (self.root / "state.json").unlink()
        self.canary = canary(key)
        self.document = self.read()
        _set(self.document, self.path, self.canary)
        self.write(json.dumps(self.document, ensure_ascii=False).encode())

    def read(self) -> Any:
        if self.line is None:
            return json.loads((self.root / self.name).read_bytes())
        return json.loads((self.root / "trace.jsonl").read_text().splitlines()[self.line])

    def write(self, data: bytes) -> None:
        if self.line is None:
            (self.root / self.name).write_bytes(data)
            return
        lines = (self.root / "trace.jsonl").read_bytes().split(b"\n")
        lines[self.line] = data
        (self.root / "trace.jsonl").write_bytes(b"\n".join(lines))

    def document_with(self, path: Path_, new: Any) -> bytes:
        document = json.loads(json.dumps(self.document))
        return json.dumps(_set(document, path, new), ensure_ascii=False).encode()


def _damages(placed: Placed) -> dict[str, bytes]:
    text = json.dumps(placed.document, ensure_ascii=False).encode()
    where = text.index(placed.canary.encode()) + len(placed.canary)
    parent = placed.path[:-1]
    key = placed.path[-1]
    damages = {
        "as placed": text,
        "cut after it": text[:where],
        "invalid UTF-8 after it": text[:where] + b"\xff" + text[where:],
        "value as a map": placed.document_with(placed.path, {placed.canary: placed.canary}),
        "value as a list": placed.document_with(placed.path, [placed.canary, 1]),
        "value nested deep": placed.document_with(placed.path, placed.canary).replace(
            json.dumps(placed.canary).encode(),
            b"[" * 200 + json.dumps(placed.canary).encode() + b"]" * 200),
        "parent as the string": placed.document_with(parent, placed.canary),
        "parent as a list of it": placed.document_with(parent, [placed.canary] * 3),
        "document as the string": json.dumps(placed.canary).encode(),
        "document as a list": json.dumps([placed.canary]).encode(),
    }
    holder = _get(placed.document, parent)
    if isinstance(holder, dict) and isinstance(key, str):
        # The same key twice, the canary in both: a duplicate-field error.
        body = json.dumps(holder, ensure_ascii=False)[1:-1]
        entry = json.dumps({key: placed.canary}, ensure_ascii=False)[1:-1]
        duplicated = ("{" + body + ", " + entry + "}").encode()
        original = json.dumps(holder, ensure_ascii=False).encode()
        damages["duplicate key"] = text.replace(original, duplicated, 1)
        damages["canary as a key"] = placed.document_with(parent, {**holder, placed.canary: 1})
    return damages


def _validate(placed: Placed, label: str, command: list[str]) -> int:
    result = CliRunner().invoke(app, [*command, str(placed.root)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{label}: {result.exception!r}") from None
    assert result.exit_code in (0, 2), f"{label}: exit {result.exit_code}"
    output = result.stdout + result.stderr
    assert placed.canary not in output, f"{label}: content leaked into the output:\n{output}"
    return result.exit_code


def _read_location(key: str, tmp_path: Path) -> Placed:
    """The first location of ``key`` that the reducer reads (damaging it is an error)."""
    for location in LOCATIONS[key][:12]:
        placed = Placed(tmp_path, key, location)
        placed.write(json.dumps(placed.canary).encode())
        if _validate(placed, f"{key} at {location}, document as the string",
                     ["validate"]) == 2:
            return Placed(tmp_path, key, location)
    pytest.fail(f"no example location of {key} is read by the reducer")


@pytest.mark.parametrize("key", CONTENT_KEYS)
def test_errors_never_echo_content(key: str, tmp_path: Path) -> None:
    placed = _read_location(key, tmp_path)
    outcomes: dict[str, int] = {}
    for label, data in _damages(placed).items():
        placed.write(data)
        # --strict words the error of an unfinished last line: only cuts can differ.
        commands = [["validate"], ["validate", "--strict"]] if "cut" in label else [["validate"]]
        for command in commands:
            outcomes[f"{label} {command}"] = _validate(placed, f"{key}, {label}", command)
    # The damage reached the reducer: a good share of the variants are errors.
    assert sum(1 for code in outcomes.values() if code == 2) >= len(outcomes) // 3, outcomes


def test_unknown_event_types_listed_under_lenient_are_not_echoed(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLES / "terminal-reuse", bundle)
    log = bundle / "trace.jsonl"
    lines = log.read_text().splitlines()
    event = json.loads(lines[-1])
    event["payload"] = {"type": "rm -rf CANARY_event_type_7f3a9c", "seq": 1}
    log.write_text("\n".join([*lines[:-1], json.dumps(event)]) + "\n")
    result = CliRunner().invoke(app, ["validate", str(bundle), "--lenient"])
    assert result.exit_code == 0, result.stderr
    assert "skipped unknown event type <string of 31 characters> x1" in result.stderr
    assert "CANARY" not in result.stdout + result.stderr
    result = CliRunner().invoke(app, ["validate", str(bundle)])
    assert result.exit_code == 2 and "unknown variant `<string of 31 characters>`" in result.stderr


def test_an_id_holding_content_is_withheld(tmp_path: Path) -> None:
    """Reducer messages quote ids, as the reference does; an id a damaged trace filled
    with content is shown by its size, and the message stays one line."""
    bundle = tmp_path / "bundle"
    shutil.copytree(EXAMPLES / "terminal-reuse", bundle)
    log = bundle / "trace.jsonl"
    lines = log.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if '"inference_started"' in line)
    event = json.loads(lines[index])
    event["payload"]["codex_turn_id"] = "CANARY_id rm -rf ~/secret\nsecond line"
    lines[index] = json.dumps(event)
    log.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["validate", str(bundle)])
    assert result.exit_code == 2
    assert "CANARY" not in result.stderr
    assert "referenced unknown codex turn <string of 37 characters>" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_withheld_string_is_shown_by_its_size_alone() -> None:
    assert safe_name("é") == "<string of 1 character>"
    assert safe_name("sk-secret token") == "<string of 15 characters>"
    assert safe_name("function_call") == "function_call"
