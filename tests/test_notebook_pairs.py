"""Every notebook comes as a jupytext pair in sync; a JupyterLab save keeps it that way."""

import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from course_lib.notebook_sync import NOTEBOOK_DIRS, find_drift, save_like_jupyterlab, sync

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for d in NOTEBOOK_DIRS for p in (ROOT / d).glob("*.ipynb"))
GIT = shutil.which("git")


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


def test_pairs_are_in_sync():
    assert find_drift(ROOT) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_checks_something(path):
    nb = json.loads(path.read_text())
    source = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "assert" in source or "check(" in source


def _in_git_checkout() -> bool:
    if GIT is None:
        return False
    probe = [GIT, "-C", str(ROOT), "rev-parse", "--is-inside-work-tree"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not _in_git_checkout(), reason="not a git checkout")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_stripped(path):
    """What git has (the index) carries no outputs; a learner's saved outputs may."""
    rel = path.relative_to(ROOT).as_posix()
    shown = subprocess.run(
        [GIT, "-C", str(ROOT), "show", f":{rel}"], capture_output=True, text=True, check=False
    )
    if shown.returncode != 0:  # a new notebook not yet added to git
        pytest.skip(f"{rel} is not in git's index")
    nb = json.loads(shown.stdout)
    executed = [c for c in nb["cells"] if c["cell_type"] == "code" and c["outputs"]]
    assert not executed, f"{rel} is staged with outputs: run make sync before committing"


def _scratch_copy(tmp_path: Path, stem: str) -> Path:
    """A scratch repository with the project config and one notebook pair, committed."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "notebooks").mkdir()
    for suffix in (".py", ".ipynb"):
        shutil.copy(ROOT / "notebooks" / f"{stem}{suffix}", tmp_path / "notebooks")
    return tmp_path


def _executed(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What a Run All leaves in a notebook: outputs, counts, language info."""
    for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"out {count}\n")]
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    return nb


def test_saving_an_executed_notebook_in_jupyterlab_keeps_the_pair_in_sync(tmp_path):
    stem = NOTEBOOKS[0].stem
    root = _scratch_copy(tmp_path, stem)
    py_before = (root / "notebooks" / f"{stem}.py").read_bytes()
    nb_path = root / "notebooks" / f"{stem}.ipynb"
    save_like_jupyterlab(root, nb_path, _executed(nbformat.read(nb_path, as_version=4)))
    saved = nbformat.read(nb_path, as_version=4)
    assert any(c.get("outputs") for c in saved.cells), "the save kept no outputs"
    assert (root / "notebooks" / f"{stem}.py").read_bytes() == py_before, "the .py was rewritten"
    assert find_drift(root) == []


def test_drift_is_detected(tmp_path):
    stem = NOTEBOOKS[0].stem
    root = _scratch_copy(tmp_path, stem)
    py = root / "notebooks" / f"{stem}.py"
    text = py.read_text()
    py.write_text(text.replace("# %%\n", "# %%\nx_planted = 1\n", 1))
    assert find_drift(root) == [
        f"notebooks/{stem}.ipynb: cells differ from its .py (run make sync)"
    ]
    sync(root)
    assert find_drift(root) == []
    header_line = next(l for l in py.read_text().splitlines(True) if "cell_metadata_filter" in l)
    py.write_text(py.read_text().replace(header_line, ""))
    assert find_drift(root) == [f"notebooks/{stem}.py: not as jupytext writes it (run make sync)"]
    (root / "notebooks" / "lonely.py").write_text("# %%\n")
    assert any("missing" in p for p in find_drift(root))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_cell_says_how_to_switch_mode(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown" and "COURSE_FAST=" in first.source, (
        f"{path.name}: the first cell must say which mode runs and how to switch (COURSE_FAST)"
    )
