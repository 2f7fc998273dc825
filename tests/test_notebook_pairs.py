"""Every notebook comes as a jupytext pair, in sync, with outputs stripped and checks."""

import json
from pathlib import Path

import pytest

from course_lib.notebook_sync import NOTEBOOK_DIRS, find_drift, render_ipynb

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for d in NOTEBOOK_DIRS for p in (ROOT / d).glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


def test_pairs_are_in_sync():
    assert find_drift(ROOT) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_and_checks_something(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    source = "".join("".join(c["source"]) for c in code)
    assert "assert" in source or "check(" in source


def test_drift_is_detected(tmp_path):
    (tmp_path / "notebooks").mkdir()
    py = tmp_path / "notebooks" / "x.py"
    py.write_text("# %% [markdown]\n# # Title\n\n# %%\nx = 1\n")
    (tmp_path / "notebooks" / "x.ipynb").write_text(render_ipynb(py))
    assert find_drift(tmp_path) == []
    py.write_text("# %% [markdown]\n# # Title\n\n# %%\nx = 2\n")
    assert find_drift(tmp_path) == ["notebooks/x.ipynb: out of sync with its .py (run make sync)"]
    (tmp_path / "notebooks" / "y.py").write_text("# %%\n")
    assert any("missing" in p for p in find_drift(tmp_path))
