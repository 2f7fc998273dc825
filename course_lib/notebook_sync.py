"""Keep each notebook pair (``.py`` in jupytext percent format, ``.ipynb``) in sync.

The ``.py`` twin is the source reviewers read and edit; the ``.ipynb`` is generated
from it with every output stripped. ``python -m course_lib.notebook_sync`` rewrites the
``.ipynb`` files; ``--check`` only reports drift and exits 1 (CI runs this).

Editing in JupyterLab keeps both files in step (jupytext pairing); ``make sync`` then
drops the outputs that a saved ``.ipynb`` carries.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NOTEBOOK_DIRS = ("notebooks", "solutions")


def render_ipynb(py_path: Path) -> str:
    """The ``.ipynb`` text generated from a percent-format ``.py`` twin, without outputs."""
    import jupytext

    nb = jupytext.read(py_path)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"  # deterministic ids, so regenerating gives identical files
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return jupytext.writes(nb, fmt="ipynb")


def find_drift(root: Path) -> list[str]:
    """Problems with the pairs under ``root``: missing twins and out-of-date ``.ipynb``."""
    problems = []
    for folder in NOTEBOOK_DIRS:
        d = root / folder
        if not d.is_dir():
            continue
        py = {p.stem: p for p in d.glob("*.py")}
        nb = {p.stem: p for p in d.glob("*.ipynb")}
        for stem in sorted(set(py) ^ set(nb)):
            problems.append(f"{folder}/{stem}: missing its .py or .ipynb twin")
        for stem in sorted(set(py) & set(nb)):
            if nb[stem].read_text(encoding="utf-8") != render_ipynb(py[stem]):
                problems.append(f"{folder}/{stem}.ipynb: out of sync with its .py (run make sync)")
    return problems


def sync(root: Path) -> list[Path]:
    """Regenerate every ``.ipynb`` from its ``.py`` twin; return the files written."""
    written = []
    for folder in NOTEBOOK_DIRS:
        for py in sorted((root / folder).glob("*.py")):
            target = py.with_suffix(".ipynb")
            text = render_ipynb(py)
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
                written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, write nothing")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)
    if args.check:
        problems = find_drift(args.root)
        for p in problems:
            print(p, file=sys.stderr)
        if not problems:
            print("notebook pairs in sync")
        return 1 if problems else 0
    for path in sync(args.root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
