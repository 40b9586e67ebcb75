"""Every notebook runs top to bottom on a real Jupyter kernel, and is committed with outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook() -> None:
    assert NOTEBOOKS


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs_on_a_kernel_without_errors(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    # allow_errors=False: the first cell that raises fails the test (CellExecutionError).
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    images = [output for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) >= 3, "the timeline, token and agent plots were not drawn inline"
    text = "".join(output.get("text", "") for output in outputs)
    assert "did not finish cleanly" in text


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_committed_with_its_outputs(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    missing = [index for index, cell in enumerate(code) if not cell.outputs]
    assert not missing, f"code cells without stored outputs: {missing} (run it and save)"
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
