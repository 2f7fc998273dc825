"""Every chapter notebook carries slide metadata for a 45-minute lecture.

Cells without ``slideshow`` metadata continue the slide above them; ``skip`` and ``notes``
cells are not projected. A notebook passes when it has section slides (at least three
``slide`` cells), skips or moves to notes some of its cells (a lecture path, not the whole
notebook), and projects at least one widget demo, one check and one exercise.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))


def _slide_type(cell: dict) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def _params():
    for path in NOTEBOOKS:
        yield pytest.param(path, id=path.stem)


def lecture_path(cells: list[dict]) -> list[dict]:
    """The cells projected in the slideshow: every cell not marked skip or notes."""
    return [c for c in cells if _slide_type(c) not in ("skip", "notes")]


@pytest.mark.parametrize("path", list(_params()))
def test_notebook_has_a_lecture_path(path: Path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    types = [_slide_type(c) for c in cells]
    assert types.count("slide") >= 3, f"{path.name}: {types.count('slide')} slide cells, need 3+"
    hidden = sum(t in ("skip", "notes") for t in types)
    assert hidden >= 3, f"{path.name}: only {hidden} cells skipped or in notes: no lecture path"
    shown = ["".join(c["source"]) for c in lecture_path(cells) if c["cell_type"] == "code"]
    assert any("_widget(" in s for s in shown), f"{path.name}: no widget demo on the slides"
    assert any("assert" in s for s in shown), f"{path.name}: no check cell on the slides"
    assert any('check("' in s for s in shown), f"{path.name}: no exercise on the slides"


def test_lecture_path_drops_skipped_and_notes_cells():
    cells = [
        {"metadata": {"slideshow": {"slide_type": "slide"}}, "source": "a"},
        {"metadata": {}, "source": "b"},
        {"metadata": {"slideshow": {"slide_type": "skip"}}, "source": "c"},
        {"metadata": {"slideshow": {"slide_type": "notes"}}, "source": "d"},
        {"metadata": {"slideshow": {"slide_type": "fragment"}}, "source": "e"},
    ]
    assert [c["source"] for c in lecture_path(cells)] == ["a", "b", "e"]
