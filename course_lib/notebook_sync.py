"""Keep each notebook pair (``.py`` in jupytext percent format, ``.ipynb``) in sync.

The ``.py`` twin is the source reviewers read and edit; the ``.ipynb`` is what a learner
opens. Both are written by jupytext's contents manager, the same code and the same
configuration (``[tool.jupytext]`` in ``pyproject.toml``) that JupyterLab's jupytext
extension uses when a learner saves a notebook, so a save in JupyterLab never rewrites a
``.py`` header or leaves a diff that nobody wrote.

* ``python -m course_lib.notebook_sync`` (``make sync``) regenerates every pair from its
  ``.py`` with outputs stripped.
* ``python -m course_lib.notebook_sync --check`` reports drift and exits 1. Drift means
  what matters to a reader differs: the cells' types and sources of the two twins, or a
  ``.py`` that jupytext would write differently. Outputs, execution counts, kernel
  metadata and cell ids are a learner's own business and are ignored, so running and
  saving a notebook in JupyterLab keeps the check green.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

NOTEBOOK_DIRS = ("notebooks", "solutions")

__all__ = ["NOTEBOOK_DIRS", "cell_signature", "find_drift", "save_like_jupyterlab", "sync"]


def _contents_manager(root: Path) -> Any:
    """Jupytext's contents manager over ``root``: the class JupyterLab's extension serves."""
    from jupyter_server.services.contents.largefilemanager import LargeFileManager
    from jupytext import build_sync_jupytext_contents_manager_class

    manager_class = build_sync_jupytext_contents_manager_class(LargeFileManager)
    return manager_class(root_dir=str(root))


def save_like_jupyterlab(root: Path, ipynb_path: Path, notebook: Any) -> None:
    """Save ``notebook`` at ``ipynb_path`` exactly as JupyterLab would (both twins written)."""
    relative = ipynb_path.resolve().relative_to(root.resolve()).as_posix()
    model = {"type": "notebook", "format": "json", "content": notebook}
    _contents_manager(root).save(model, relative)


def _stripped_from_py(py_path: Path) -> Any:
    """The notebook read from a ``.py`` twin, outputs stripped, with deterministic cell ids."""
    import jupytext

    nb = jupytext.read(py_path)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"  # deterministic ids, so regenerating gives identical files
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def cell_signature(notebook: Any) -> list[tuple[str, str]]:
    """What a reader sees of a notebook: each cell's type and source, nothing else."""
    return [(cell.cell_type, cell.source.rstrip("\n")) for cell in notebook.cells]


def _canonical_py_text(root: Path, py_path: Path) -> str:
    """The ``.py`` text jupytext writes for this notebook (in a scratch copy of its folder)."""
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        config = root / "pyproject.toml"
        if config.exists():
            shutil.copy(config, scratch / "pyproject.toml")
        folder = scratch / py_path.parent.name
        folder.mkdir()
        save_like_jupyterlab(
            scratch, folder / (py_path.stem + ".ipynb"), _stripped_from_py(py_path)
        )
        return (folder / py_path.name).read_text(encoding="utf-8")


def _pairs(root: Path) -> tuple[list[str], list[tuple[Path, Path]]]:
    """Missing-twin problems and the ``(.py, .ipynb)`` pairs under ``root``."""
    problems, pairs = [], []
    for folder in NOTEBOOK_DIRS:
        d = root / folder
        if not d.is_dir():
            continue
        py = {p.stem: p for p in d.glob("*.py")}
        nb = {p.stem: p for p in d.glob("*.ipynb")}
        for stem in sorted(set(py) ^ set(nb)):
            problems.append(f"{folder}/{stem}: missing its .py or .ipynb twin")
        pairs += [(py[stem], nb[stem]) for stem in sorted(set(py) & set(nb))]
    return problems, pairs


def find_drift(root: Path) -> list[str]:
    """Problems under ``root``: missing twins, differing cells, a .py jupytext would rewrite."""
    import jupytext
    import nbformat

    problems, pairs = _pairs(root)
    for py_path, nb_path in pairs:
        name = f"{py_path.parent.name}/{py_path.stem}"
        from_py = jupytext.read(py_path)
        from_ipynb = nbformat.read(nb_path, as_version=4)
        if cell_signature(from_py) != cell_signature(from_ipynb):
            problems.append(f"{name}.ipynb: cells differ from its .py (run make sync)")
        elif py_path.read_text(encoding="utf-8") != _canonical_py_text(root, py_path):
            problems.append(f"{name}.py: not as jupytext writes it (run make sync)")
    return problems


def sync(root: Path) -> list[Path]:
    """Regenerate every pair from its ``.py`` (outputs stripped); return the files that changed."""
    py_files = [p for folder in NOTEBOOK_DIRS for p in sorted((root / folder).glob("*.py"))]
    written = []
    for py_path in py_files:
        nb_path = py_path.with_suffix(".ipynb")
        before = {p: p.read_bytes() if p.exists() else None for p in (py_path, nb_path)}
        save_like_jupyterlab(root, nb_path, _stripped_from_py(py_path))
        written += [p for p, old in before.items() if p.read_bytes() != old]
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
