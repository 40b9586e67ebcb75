"""README's set-up commands are the ones CI and users actually run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.DOTALL)
    assert block is not None, "README.md must start with a bash block of set-up commands"
    assert text.index(block.group(0)) < text.index("\n\n", text.index("# tracegraph")) + 3
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_two_setup_commands() -> None:
    commands = _readme_commands()
    assert len(commands) == 2
    assert commands[0].startswith("pip install -e . && tracegraph ")


def test_ci_runs_exactly_readmes_test_command() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci_lines[-1] == _readme_commands()[1]


def test_readme_main_command_names_an_example_bundle() -> None:
    main = _readme_commands()[0]
    bundle = main.split()[-1]
    assert (ROOT / bundle / "manifest.json").is_file(), f"{bundle} is not a committed bundle"
