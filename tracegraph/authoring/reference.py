"""Where the reference reducer (``codex-rollout-trace``'s replay) lives and how to run it.

The binary is ``../shared/tools/reference-reduce`` next to the repository
checkout; ``TRACEGRAPH_REFERENCE_REDUCE`` points elsewhere. It exits 0 after
writing ``state.json``, 2 on a reducer error (the message on stderr) and 101
where it panics.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tracegraph.errors import safe_name

__all__ = ["REFERENCE_REDUCE", "ReferenceRun", "reference_reducer", "run_reference"]

#: The default location: ``<checkout>/../shared/tools/reference-reduce``.
REFERENCE_REDUCE = Path(__file__).resolve().parents[2].parent / "shared" / "tools" / "reference-reduce"


def reference_reducer() -> Path | None:
    """The reference reducer binary, or ``None`` when this machine lacks it."""
    override = os.environ.get("TRACEGRAPH_REFERENCE_REDUCE")
    path = Path(override) if override else REFERENCE_REDUCE
    return path if path.is_file() and os.access(path, os.X_OK) else None


@dataclass(frozen=True)
class ReferenceRun:
    """One run of the reference reducer on a bundle."""

    returncode: int
    stderr: str
    #: The ``state.json`` it wrote (exit 0 only).
    state: str | None

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def rejected(self) -> bool:
        """A reducer error (exit 2), as opposed to success or a crash."""
        return self.returncode == 2

    @property
    def error_words(self) -> str:
        """The reducer error as tracegraph words it: serde's values left out
        (``string``, not ``string "x"``; a variant shown only if it looks like a name),
        since tracegraph's errors never echo trace content. A tracegraph error for the
        same bundle contains these words."""
        words = _ECHO.sub(r"\1", self.stderr.removeprefix("ERROR: "))
        return _VARIANT.sub(lambda match: f"unknown variant `{safe_name(match.group(1))}`",
                            words)


#: serde's echo of a value in ``invalid type: string "x", expected ...``.
_ECHO = re.compile(r'(invalid (?:type|value): [a-z ]+?) (?:`[^`]*`|"(?:[^"\\]|\\.)*")')
_VARIANT = re.compile(r"unknown variant `([^`]*)`")


def run_reference(
    bundle: str | Path,
    out: str | Path | None = None,
    *,
    timeout: float = 120,
    binary: Path | None = None,
) -> ReferenceRun | None:
    """Reduce ``bundle`` with the reference; ``None`` when the binary is absent.

    ``out`` keeps the state file there; otherwise it goes to a temporary file
    and only its text is returned.
    """
    binary = binary or reference_reducer()
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="reference-reduce-") as tmp:
        target = Path(out) if out is not None else Path(tmp) / "state.json"
        proc = subprocess.run(
            [str(binary), str(bundle), str(target)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        state = target.read_text(encoding="utf-8") if proc.returncode == 0 else None
    return ReferenceRun(proc.returncode, proc.stderr.strip(), state)
