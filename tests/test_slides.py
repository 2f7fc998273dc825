"""Every chapter notebook carries slide metadata for a 45-minute lecture.

Cells without ``slideshow`` metadata continue the slide above them; ``skip`` and ``notes``
cells are not projected. A notebook passes when it has section slides (at least three
``slide`` cells), skips or moves to notes some of its cells (a lecture path, not the whole
notebook), and projects at least one widget demo, one check and one exercise.

It also needs speaker notes (a ``notes`` markdown cell with text: the speaker view of the
static slides and of RISE shows them) and a path that fits 45 minutes: between
``MIN_PROJECTED`` and ``MAX_PROJECTED`` projected cells. The hand-curated chapters 01 and 07
project 32 and 30 cells; a projected cell (a slide's text, a code cell with its output, a
figure) takes one to three minutes in class, so 35 cells is already a brisk 45 minutes, and
fewer than 15 would leave the derivation's steps off the slides. Finally, every exercise
that LECTURERS.md says is done live must be on the slides.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]*_*.ipynb"))
GUIDE = ROOT / "LECTURERS.md"
MIN_PROJECTED, MAX_PROJECTED = 15, 35


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


@pytest.mark.parametrize("path", list(_params()))
def test_notebook_has_speaker_notes(path: Path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    notes = [c for c in cells if _slide_type(c) == "notes"]
    assert all(c["cell_type"] == "markdown" for c in notes), f"{path.name}: notes on a code cell"
    texts = ["".join(c["source"]).strip() for c in notes]
    assert any(texts), f"{path.name}: no speaker notes (a markdown cell of slide type 'notes')"


@pytest.mark.parametrize("path", list(_params()))
def test_lecture_path_fits_45_minutes(path: Path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    n = len(lecture_path(cells))
    assert MIN_PROJECTED <= n <= MAX_PROJECTED, (
        f"{path.name}: {n} projected cells; a 45-minute path projects "
        f"{MIN_PROJECTED}-{MAX_PROJECTED} (mark listings, set-up and extra checks 'skip')"
    )


def live_exercises(guide: str) -> list[str]:
    """The exercise ids that the lecturer's guide says are done live ("exercise 02.1 live")."""
    return re.findall(r"exercises?\s+(\d\d\.\d+)\s+live", guide)


def test_live_exercises_of_the_guide_are_on_the_slides():
    live = live_exercises(GUIDE.read_text(encoding="utf-8"))
    assert len(live) >= len(NOTEBOOKS), f"LECTURERS.md names {len(live)} live exercises: {live}"
    for ex in live:
        call = f'check("{ex}"'
        found = []
        for path in NOTEBOOKS:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            found += [(path.name, c) for c in cells if call in "".join(c["source"])]
        assert len(found) == 1, f"exercise {ex}: {len(found)} cells call {call})"
        name, cell = found[0]
        assert _slide_type(cell) not in ("skip", "notes"), (
            f"{name}: LECTURERS.md does exercise {ex} live, but its cell is not projected"
        )


def test_lecture_path_drops_skipped_and_notes_cells():
    cells = [
        {"metadata": {"slideshow": {"slide_type": "slide"}}, "source": "a"},
        {"metadata": {}, "source": "b"},
        {"metadata": {"slideshow": {"slide_type": "skip"}}, "source": "c"},
        {"metadata": {"slideshow": {"slide_type": "notes"}}, "source": "d"},
        {"metadata": {"slideshow": {"slide_type": "fragment"}}, "source": "e"},
    ]
    assert [c["source"] for c in lecture_path(cells)] == ["a", "b", "e"]


def test_live_exercises_are_read_from_the_guide():
    text = "· exercise 01.3 live ($F(1)$) · exercise 05.14\nlive (05.13 shares) · exercise 02.2"
    assert live_exercises(text) == ["01.3", "05.14"]
