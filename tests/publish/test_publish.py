"""Unit tests of the site and slides publisher (no kernel, no browser)."""

from __future__ import annotations

import base64
import io
import os
import stat
import tarfile
from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

from course_lib import publish  # noqa: E402
from course_lib.plotting import figure_png, new_figure  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_course_notebooks_pairs_solutions_and_filters():
    every = publish.course_notebooks(ROOT)
    stems = [nb.stem for nb in every]
    assert stems == sorted(stems) and "01_random_walks" in stems
    first = every[stems.index("01_random_walks")]
    assert first.chapter == "01"
    assert first.solutions == ROOT / "solutions" / "01_random_walks_solutions.ipynb"
    assert first.title.startswith("Chapter 01")
    only = publish.course_notebooks(ROOT, ["04"])
    assert [nb.stem[:3] for nb in only] == ["04a", "04b"]
    with pytest.raises(ValueError, match="no notebook starts with '99'"):
        publish.course_notebooks(ROOT, ["99"])


def _png() -> bytes:
    fig, ax = new_figure()
    ax.plot([0, 1], [0, 1])
    return figure_png(fig)


def _widget_notebook(png: bytes):
    """A notebook as nbclient leaves it: a figure widget and a progress bar, with state."""
    # model ids are hex strings, as in nbclient's stored state
    state = {
        "0b0c": {
            "model_name": "VBoxModel",
            "state": {"children": ["IPY_MODEL_aa", "IPY_MODEL_bb"]},
        },
        "aa": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_cc"]}},
        "cc": {"model_name": "IntSliderModel", "state": {"value": 3}},
        "bb": {
            "model_name": "ImageModel",
            "state": {"format": "png"},
            "buffers": [
                {"path": ["value"], "encoding": "base64", "data": base64.b64encode(png).decode()}
            ],
        },
        "ba12": {"model_name": "HBoxModel", "state": {"children": []}},
    }
    view = "application/vnd.jupyter.widget-view+json"
    cell = nbformat.v4.new_code_cell("viz.widget()")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="before\n"),
        nbformat.v4.new_output(
            "display_data", data={view: {"model_id": "0b0c"}, "text/plain": "VBox(...)"}
        ),
        nbformat.v4.new_output(
            "display_data", data={view: {"model_id": "ba12"}, "text/plain": "100% 10/10"}
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), cell])
    nb.metadata["widgets"] = {publish.WIDGET_STATE: {"state": state}}
    return nb


def test_static_widgets_places_the_widget_image_and_drops_state():
    png = _png()
    nb = _widget_notebook(png)
    widgets, figures = publish.static_widgets(nb)
    assert (widgets, figures) == (2, 1)
    outs = nb.cells[1].outputs
    assert outs[0].output_type == "stream"
    assert base64.b64decode(outs[1].data["image/png"]) == png
    assert "Static rendering" in outs[2].data["text/plain"]
    assert outs[3].data == {"text/plain": "100% 10/10"}  # a progress bar keeps its text
    assert len(outs) == 4 and "widgets" not in nb.metadata
    assert not any(publish.WIDGET_VIEW in o.get("data", {}) for o in outs)


def test_static_widgets_without_state_keeps_text_only():
    nb = _widget_notebook(_png())
    del nb.metadata["widgets"]
    assert publish.static_widgets(nb) == (2, 0)
    assert [o.data for o in nb.cells[1].outputs[1:]] == [
        {"text/plain": "VBox(...)"},
        {"text/plain": "100% 10/10"},
    ]


def _fake_npm(tmp_path: Path, payload: bytes) -> None:
    """An ``npm`` on PATH whose ``pack`` writes a reveal.js tarball holding ``payload``."""
    version = publish.NPM_ASSETS["reveal.js"][0]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("package/dist/reveal.js")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    tgz = tmp_path / "fake.tgz"
    tgz.write_bytes(buf.getvalue())
    npm = tmp_path / "bin" / "npm"
    npm.parent.mkdir()
    name = f"reveal.js-{version}.tgz"
    npm.write_text(f'#!/bin/sh\n# npm pack SPEC --pack-destination DIR\ncp "{tgz}" "$4/{name}"\n')
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)


def test_fetch_npm_rejects_a_tarball_with_another_checksum(tmp_path, monkeypatch):
    _fake_npm(tmp_path, b"not reveal.js")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(RuntimeError, match="expected sha512-"):
        publish.fetch_npm("reveal.js", tmp_path / "vendor")
    assert not (tmp_path / "vendor" / f"reveal.js-{publish.NPM_ASSETS['reveal.js'][0]}").exists()


def test_fetch_npm_says_what_is_missing_without_npm(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="npm is missing"):
        publish.fetch_npm("mathjax", tmp_path / "vendor")
    with pytest.raises(ValueError, match="unknown npm asset 'jquery'"):
        publish.fetch_npm("jquery", tmp_path / "vendor")


def test_index_links_only_what_was_built(tmp_path):
    nbs = publish.course_notebooks(ROOT, ["01", "07"])
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01_random_walks.html").write_text("page")
    index = publish.write_index(tmp_path, nbs, ROOT, "fast").read_text()
    assert 'href="chapters/01_random_walks.html"' in index
    assert 'href="chapters/07_flash_attention.html"' not in index  # not built
    assert "Chapter 07" in index  # but listed, with its notebook file
    assert 'href="files/notebooks/07_flash_attention.ipynb"' in index
    assert "~7 s / ~10 s" in index  # the runtime column from README's chapter table
