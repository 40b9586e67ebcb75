"""tracegraph reproduces the golden state.json of every example bundle.

Seed-format bundles' golden files are the reference reducer's own output; the
upstream-format bundle (which the reference rejects) has a golden file checked
by hand against upstream-delta.md (tests/test_upstream_example.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tracegraph.model import load_state
from tracegraph.reducer import replay_bundle

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "bundles"
BUNDLES = sorted(path for path in EXAMPLES.iterdir() if (path / "manifest.json").is_file())


def test_there_are_example_bundles() -> None:
    assert len(BUNDLES) >= 4


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda path: path.name)
def test_reduce_matches_golden_state_byte_for_byte(bundle: Path) -> None:
    golden = (bundle / "state.json").read_bytes()
    assert replay_bundle(bundle).to_state_json().encode("utf-8") == golden


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda path: path.name)
def test_loading_state_json_gives_an_equal_model(bundle: Path) -> None:
    loaded = load_state(bundle / "state.json")
    assert loaded == replay_bundle(bundle)
    assert loaded.to_state_json().encode("utf-8") == (bundle / "state.json").read_bytes()
