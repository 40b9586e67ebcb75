"""`tracegraph reduce` / `validate`: outputs, and one-line errors with exit 2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracegraph.authoring import run_reference
from tracegraph.cli import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "bundles" / "terminal-reuse"


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    copy = tmp_path / "bundle"
    shutil.copytree(EXAMPLE, copy)
    (copy / "state.json").unlink()
    return copy


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_reduce_writes_state_json_into_the_bundle_by_default(bundle: Path) -> None:
    code, out, _ = run("reduce", str(bundle))
    assert code == 0
    assert out.strip() == str(bundle / "state.json")
    assert (bundle / "state.json").read_bytes() == (EXAMPLE / "state.json").read_bytes()


def test_reduce_output_option(bundle: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "reduced.json"
    code, out, _ = run("reduce", str(bundle), "-o", str(target))
    assert code == 0
    assert out.strip() == str(target)
    assert target.read_bytes() == (EXAMPLE / "state.json").read_bytes()
    assert not (bundle / "state.json").exists()


def test_validate_reports_counts_without_writing(bundle: Path) -> None:
    code, out, _ = run("validate", str(bundle))
    assert code == 0
    assert "valid" in out
    assert "terminal_operations" in out
    assert not (bundle / "state.json").exists()


def _append_line(bundle: Path, line: str) -> None:
    with (bundle / "trace.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def _last_seq(bundle: Path) -> int:
    lines = [line for line in (bundle / "trace.jsonl").read_text().splitlines() if line.strip()]
    return int(json.loads(lines[-1])["seq"])


def _event(seq: int, payload: dict[str, object]) -> str:
    return json.dumps({
        "schema_version": 1, "seq": seq, "wall_time_unix_ms": 1, "rollout_id": "r",
        "thread_id": None, "codex_turn_id": None, "payload": payload,
    })


def _line_count(bundle: Path) -> int:
    return len((bundle / "trace.jsonl").read_text().splitlines())


def _assert_one_line_error(bundle: Path, *fragments: str) -> None:
    target = bundle / "state.json"
    code, out, err = run("reduce", str(bundle))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]
    assert not target.exists()
    assert not list(bundle.glob(".state.json.*"))


def test_bad_json_line(bundle: Path) -> None:
    _append_line(bundle, '{"schema_version": 1, "seq": ')
    _assert_one_line_error(bundle, f"line {_line_count(bundle)}", "parse trace event")


def test_unknown_event_type(bundle: Path) -> None:
    seq = _last_seq(bundle) + 1
    _append_line(bundle, _event(seq, {"type": "mystery_event"}))
    _assert_one_line_error(bundle, f"seq {seq}", "mystery_event", "trace.jsonl")


def test_missing_payload_file(bundle: Path) -> None:
    seq = _last_seq(bundle) + 1
    ref = {"raw_payload_id": "raw_payload:999", "kind": {"type": "session_metadata"},
           "path": "payloads/999.json"}
    _append_line(bundle, _event(seq, {
        "type": "thread_started", "thread_id": "thread-extra", "agent_path": "/root/extra",
        "metadata_payload": ref,
    }))
    _assert_one_line_error(bundle, f"seq {seq}", "raw_payload:999")


@pytest.mark.parametrize("path", ["../outside.json", "/etc/hostname", "payloads/../../x.json"])
def test_payload_path_escaping_the_bundle(bundle: Path, path: str) -> None:
    seq = _last_seq(bundle) + 1
    (bundle.parent / "outside.json").write_text("{}")
    ref = {"raw_payload_id": "raw_payload:998", "kind": {"type": "session_metadata"}, "path": path}
    _append_line(bundle, _event(seq, {
        "type": "thread_started", "thread_id": "thread-extra", "agent_path": "/root/extra",
        "metadata_payload": ref,
    }))
    _assert_one_line_error(bundle, f"seq {seq}", "escapes the bundle")


def test_payload_symlink_out_of_the_bundle(bundle: Path) -> None:
    outside = bundle.parent / "secret.json"
    outside.write_text("{}")
    (bundle / "payloads" / "link.json").symlink_to(outside)
    seq = _last_seq(bundle) + 1
    ref = {"raw_payload_id": "raw_payload:997", "kind": {"type": "session_metadata"},
           "path": "payloads/link.json"}
    _append_line(bundle, _event(seq, {
        "type": "thread_started", "thread_id": "thread-extra", "agent_path": "/root/extra",
        "metadata_payload": ref,
    }))
    _assert_one_line_error(bundle, "escapes the bundle")


def test_manifest_schema_version_other_than_1_is_read_as_the_reference_reads_it(
        bundle: Path, tmp_path: Path) -> None:
    """The reference ignores the manifest's version (no version changed the layout)."""
    code, _, err = run("reduce", str(bundle), "-o", str(tmp_path / "v1.json"))
    assert code == 0, err
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["schema_version"] = 2
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = run("reduce", str(bundle), "-o", str(tmp_path / "v2.json"))
    assert code == 0, err
    assert (tmp_path / "v2.json").read_bytes() == (tmp_path / "v1.json").read_bytes()
    reference = run_reference(bundle)
    if reference is not None:
        assert reference.ok and reference.state == (tmp_path / "v2.json").read_text()


def test_not_a_bundle(tmp_path: Path) -> None:
    code, _, err = run("validate", str(tmp_path))
    assert code == 2
    assert "manifest.json" in err and len(err.strip().splitlines()) == 1


def test_existing_output_survives_a_failed_reduce(bundle: Path) -> None:
    target = bundle / "state.json"
    target.write_text("previous")
    _append_line(bundle, "not json")
    code, _, _ = run("reduce", str(bundle))
    assert code == 2
    assert target.read_text() == "previous"


def test_reduce_and_validate_start_without_the_graph_and_neo4j_packages(bundle: Path) -> None:
    # Their start-up time is the import of the bundle, reducer and model modules only.
    script = ("import sys; from tracegraph.cli import app; "
              "sys.argv = ['tracegraph', sys.argv[1], sys.argv[2]]\n"
              "try: app()\n"
              "except SystemExit: pass\n"
              "heavy = sorted(m for m in ('networkx', 'neo4j', 'tracegraph.graph', "
              "'tracegraph.neo4j', 'tracegraph.views', 'tracegraph.queries', 'tracegraph.jobs') "
              "if m in sys.modules)\n"
              "print('loaded:', heavy, file=sys.stderr)")
    for command in ("reduce", "validate"):
        done = subprocess.run([sys.executable, "-c", script, command, str(bundle)],
                              capture_output=True, text=True, check=True)
        assert done.stderr.strip().splitlines()[-1] == "loaded: []", done.stderr
    assert (bundle / "state.json").read_bytes() == (EXAMPLE / "state.json").read_bytes()


def test_option_defaults_match_the_packages_they_configure() -> None:
    from tracegraph import cli, neo4j, views

    assert cli.DEFAULT_BATCH_SIZE == neo4j.DEFAULT_BATCH_SIZE
    assert cli.DEFAULT_WRITERS == neo4j.DEFAULT_WRITERS
    assert cli.DEFAULT_URI == neo4j.DEFAULT_URI
    assert cli.DEFAULT_MAX_BARS == views.DEFAULT_MAX_BARS
