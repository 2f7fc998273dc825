"""Publish the course for reading and teaching: an executed offline website and slides.

``python -m course_lib.publish site``   executes every notebook and solution and writes a
                                        static website (``make site``);
``python -m course_lib.publish slides`` executes the notebooks in lecture mode and writes
                                        reveal.js slides (``make slides``);
``python -m course_lib.publish warm``   runs every notebook once so every cache is warm
                                        before a lecture (``make warm``).

Fast sizes by default (``COURSE_FAST=1``), full sizes with ``--full``; ``--only 01 04a``
limits a build to some notebooks. Everything a page loads is copied next to it, so the
site and the slides open without a network:

* pages and slides are rendered by nbconvert (the ``lab`` and ``reveal`` templates) with
  the blocks that would load scripts from a CDN (require.js, jQuery, mermaid, MathJax, the
  widget manager) replaced by local files;
* MathJax 3 (its single-file ``tex-svg-full`` build: SVG output, no web fonts to fetch) and
  reveal.js come from the npm registry at build time (``npm pack`` of a pinned version
  whose sha512 is checked, once, into ``build/vendor``): no maintained Python package ships
  reveal.js, and the MathJax 2 that ``jupyter-server-mathjax`` ships only has the combined
  HTML-CSS configuration, whose font probing logs console errors offline;
* widgets are rendered statically: the executed notebook stores each widget's state, and
  the PNG that the widget's image holds at its initial control values replaces the live
  view (the same ``draw`` function makes both, see ``course_lib.plotting.figure_widget``).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# npm packages the pages load, each pinned with the sha512 the registry publishes for its
# tarball (npm's "integrity" field), and the paths kept from it.
NPM_ASSETS = {
    "reveal.js": (
        "5.2.1",
        "sha512-r7//6mIM5p34hFiDMvYfXgyjXqGRta+/psd9YtytsgRlrpRzFv4RbH76TXd2qD+7ZPZEbpBDhdRh"
        "JaFgfQ7zNQ==",
        ("package/dist/", "package/plugin/notes/", "package/LICENSE"),
    ),
    "mathjax": (
        "3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1v"
        "O+geW0OhGw==",
        ("package/es5/tex-svg-full.js", "package/LICENSE"),
    ),
}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_NOTEBOOK_NAME = re.compile(r"^(\d\d)([a-z]?)_[a-z0-9_]+$")

__all__ = [
    "Notebook",
    "build",
    "course_notebooks",
    "execute",
    "fetch_npm",
    "main",
    "static_widgets",
]


# ----------------------------------------------------------------------------------
# What there is to publish
# ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Notebook:
    """A chapter notebook ``notebooks/NN[x]_slug.ipynb`` and its solutions, if any."""

    path: Path
    solutions: Path | None

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def chapter(self) -> str:
        """The two-digit chapter number: ``"04"`` for ``04a_gridworld_bellman``."""
        return self.stem[:2]

    @property
    def title(self) -> str:
        """The first ``# `` heading of the notebook's first markdown cell."""
        return notebook_title(self.path)


def notebook_title(path: Path) -> str:
    """The first level-1 markdown heading of a notebook, else its file stem."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return path.stem


def course_notebooks(root: Path = ROOT, only: Sequence[str] = ()) -> list[Notebook]:
    """Every ``notebooks/NN[x]_slug.ipynb`` (sorted), paired with its solutions notebook.

    ``only`` keeps the notebooks whose stem starts with one of the given prefixes
    (``"01"``, ``"04a"``); a prefix that matches nothing raises ``ValueError``.
    """
    found = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        if not _NOTEBOOK_NAME.match(path.stem):
            continue
        solutions = root / "solutions" / f"{path.stem}_solutions.ipynb"
        found.append(Notebook(path, solutions if solutions.exists() else None))
    for prefix in only:
        if not any(nb.stem.startswith(prefix) for nb in found):
            stems = ", ".join(nb.stem for nb in found)
            raise ValueError(f"no notebook starts with {prefix!r}; there are: {stems}")
    if only:
        found = [nb for nb in found if any(nb.stem.startswith(p) for p in only)]
    return found


# ----------------------------------------------------------------------------------
# Execution
# ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables (inherited by the kernel) for the duration of a block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def execute(path: Path, *, fast: bool | None, lecture: bool, timeout: int = 1800):
    """Run a notebook top to bottom in a fresh ``python3`` kernel; return the executed copy.

    ``fast`` sets ``COURSE_FAST`` (``None`` leaves the hardware's choice), ``lecture`` sets
    ``COURSE_LECTURE`` (quiet checks). The kernel runs in the notebook's folder and stores
    the widgets' state, which :func:`static_widgets` turns into figures.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env = {"COURSE_LECTURE": "1" if lecture else "0", "JUPYTER_PREFER_ENV_PATH": "1"}
    if fast is not None:
        env["COURSE_FAST"] = "1" if fast else "0"
    with _environment(**env):
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            store_widget_state=True,
        )
        client.execute()
    return nb


# ----------------------------------------------------------------------------------
# Static widgets
# ----------------------------------------------------------------------------------
def _widget_images(model_id: str, state: dict, seen: set[str] | None = None) -> list[bytes]:
    """PNG bytes of every ``Image`` widget under ``model_id`` (children first to last)."""
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    model = state[model_id]
    found: list[bytes] = []
    if model.get("model_name") == "ImageModel":
        for buffer in model.get("buffers", []):
            if buffer.get("path") == ["value"] and buffer.get("encoding") == "base64":
                found.append(base64.b64decode(buffer["data"]))
    children = json.dumps(model.get("state", {}))
    for child in re.findall(r"IPY_MODEL_([0-9a-f]+)", children):
        found.extend(_widget_images(child, state, seen))
    return found


def static_widgets(nb) -> tuple[int, int]:
    """Replace live widget views by their figures; return (widgets, figures placed).

    A widget output becomes one ``image/png`` output per image the widget holds, followed
    by a note that the notebook makes it interactive; a widget without an image (a progress
    bar) keeps only its plain-text form. The stored widget state is then dropped, so no page
    asks for the widget manager's JavaScript.
    """
    import nbformat

    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    widgets = figures = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW) if "data" in out else None
            if view is None:
                outputs.append(out)
                continue
            widgets += 1
            pngs = _widget_images(view["model_id"], state)
            for png in pngs:
                data = {"image/png": base64.b64encode(png).decode("ascii")}
                outputs.append(nbformat.v4.new_output("display_data", data=data))
            if pngs:
                figures += len(pngs)
                note = (
                    "Static rendering at the initial values: run the notebook to move the controls."
                )
                outputs.append(nbformat.v4.new_output("display_data", data={"text/plain": note}))
            elif "text/plain" in out["data"]:
                plain = {"text/plain": out["data"]["text/plain"]}
                outputs.append(nbformat.v4.new_output("display_data", data=plain))
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    return widgets, figures


# ----------------------------------------------------------------------------------
# Offline assets
# ----------------------------------------------------------------------------------
def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def fetch_npm(name: str, cache: Path = ROOT / "build" / "vendor") -> Path:
    """The pinned npm package ``name`` of ``NPM_ASSETS``, unpacked once under ``cache``.

    Fetched with ``npm pack``; the tarball's sha512 must equal the pinned one, and only the
    listed paths are kept. Returns the package folder (``dist/``, ``es5/`` ... inside).
    """
    if name not in NPM_ASSETS:
        raise ValueError(f"unknown npm asset {name!r}; expected one of {sorted(NPM_ASSETS)}")
    version, integrity, keep = NPM_ASSETS[name]
    target = cache / f"{name}-{version}"
    if (target / ".complete").exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            f"{name} for the site and slides comes from the npm registry and npm is missing: "
            "install Node.js (apt-get install npm, brew install node) and run again"
        )
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run(
            [npm, "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tgz = Path(tmp) / f"{name}-{version}.tgz"
        got = _sri(tgz.read_bytes())
        if got != integrity:
            raise RuntimeError(f"{name} tarball has {got}, expected {integrity}")
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tgz) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(keep)]
            tar.extractall(unpacked, members=members, filter="data")
        (unpacked / "package" / ".complete").write_text(f"{name}@{version} {integrity}\n")
        shutil.rmtree(target, ignore_errors=True)
        (unpacked / "package").rename(target)
    return target


def _copy_tree(src: Path, dest: Path) -> None:
    if not dest.exists():
        shutil.copytree(src, dest)


# ----------------------------------------------------------------------------------
# Templates: nbconvert's lab and reveal templates without any CDN
# ----------------------------------------------------------------------------------
_MATHJAX = r"""
{%- macro course_mathjax(url) -%}
<script>
window.MathJax = {
  tex: {inlineMath: [["$", "$"], ["\\(", "\\)"]], displayMath: [["$$", "$$"], ["\\[", "\\]"]],
        processEscapes: true, processEnvironments: true, tags: "none",
        packages: {"[-]": ["noerrors", "noundefined"]}},
  svg: {fontCache: "global"},
  options: {enableMenu: false}
};
</script>
<script src="{{ url }}" defer></script>
{%- endmacro -%}
"""

_PAGE = r"""
{%- extends 'index.html.j2' -%}
{% from 'course_mathjax.html.j2' import course_mathjax %}
{%- block html_head_js -%}<link rel="icon" href="data:,">{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{{ course_mathjax(resources.course.mathjax) }}{%- endblock -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style>
nav.course-nav { font: 15px/1.5 system-ui, sans-serif; padding: 8px 16px;
  border-bottom: 1px solid #ddd; background: #f7f7f7; }
nav.course-nav a { margin-right: 1.2em; }
</style>
{%- endblock html_head_css -%}
{%- block body_header -%}
{{ super() }}
<nav class="course-nav">{{ resources.course.nav }}</nav>
{%- endblock body_header -%}
"""

_SLIDES = r"""
{%- extends 'index.html.j2' -%}
{% from 'course_mathjax.html.j2' import course_mathjax %}
{%- block html_head_js -%}<link rel="icon" href="data:,">{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{{ course_mathjax(resources.course.mathjax) }}{%- endblock -%}
{% block footer_js %}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({controls: true, progress: true, history: true, transition: "slide",
                   slideNumber: "c/t", width: 1100, height: 780, plugins: [RevealNotes]});
function scrollLongSlide() {  // a slide taller than the viewport scrolls instead of spilling
  const limit = document.querySelector(".reveal").clientHeight * 0.95;
  document.querySelectorAll("section.present > section, section.present").forEach((s) => {
    if (s.scrollHeight > limit) { s.style.height = "95vh"; s.style.overflowY = "auto"; }
  });
}
Reveal.on("slidechanged", scrollLongSlide);
Reveal.on("ready", scrollLongSlide);
</script>
{% endblock footer_js %}
"""


def _exporter(kind: str):
    """nbconvert's HTML or slides exporter with the course templates loaded first."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter, SlidesExporter

    loader = DictLoader(
        {
            "course_mathjax.html.j2": _MATHJAX,
            "course_page.html.j2": _PAGE,
            "course_slides.html.j2": _SLIDES,
        }
    )
    if kind == "page":
        exporter = HTMLExporter(template_name="lab", extra_loaders=[loader])
        exporter.template_file = "course_page.html.j2"
    else:
        exporter = SlidesExporter(template_name="reveal", extra_loaders=[loader])
        exporter.template_file = "course_slides.html.j2"
    exporter.exclude_input_prompt = kind == "slides"
    exporter.exclude_output_prompt = True
    return exporter


def _rel(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def _nav(links: Sequence[tuple[str, Path]], page: Path) -> str:
    return " ".join(
        f'<a href="{html.escape(_rel(t, page.parent))}">{html.escape(label)}</a>'
        for label, t in links
    )


def render_page(nb, dest: Path, site: Path, links: Sequence[tuple[str, Path]]) -> None:
    """Write an executed notebook as a static page under ``site`` (MathJax from ``_static``)."""
    resources = {
        "course": {
            "mathjax": _rel(site / "_static/mathjax/es5/tex-svg-full.js", dest.parent),
            "nav": _nav(links, dest),
        }
    }
    body, _ = _exporter("page").from_notebook_node(nb, resources=resources)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(body, encoding="utf-8")


def render_slides(nb, dest: Path, site: Path) -> None:
    """Write an executed notebook as reveal.js slides (reveal.js and MathJax from ``_static``)."""
    exporter = _exporter("slides")
    exporter.reveal_url_prefix = _rel(site / "_static/reveal.js", dest.parent)
    exporter.reveal_theme = (
        "white"  # its fonts ship in dist/theme/fonts ("simple" imports web fonts)
    )
    resources = {
        "course": {"mathjax": _rel(site / "_static/mathjax/es5/tex-svg-full.js", dest.parent)}
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(body, encoding="utf-8")


# ----------------------------------------------------------------------------------
# The website
# ----------------------------------------------------------------------------------
def _readme_runtimes(root: Path) -> dict[str, str]:
    """Chapter number -> the fast / full runtime column of README's chapter table."""
    runtimes = {}
    for line in (root / "README.md").read_text(encoding="utf-8").splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cols) >= 6 and re.fullmatch(r"\d\d", cols[0]):
            runtimes[cols[0]] = cols[4]
    return runtimes


_INDEX_CSS = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
"""


def write_index(site: Path, notebooks: Sequence[Notebook], root: Path, mode: str) -> Path:
    """The chapter index: one row per notebook with its page, slides, file and solutions."""
    runtimes = _readme_runtimes(root)
    rows = []
    for nb in notebooks:
        title = html.escape(nb.title)
        if (site / "chapters" / f"{nb.stem}.html").exists():
            title = f'<a href="chapters/{nb.stem}.html">{title}</a>'
        cells = [html.escape(nb.stem.split("_")[0]), title]
        slides = site / "slides" / f"{nb.stem}.slides.html"
        cells.append(
            f'<a href="slides/{nb.stem}.slides.html">slides</a>' if slides.exists() else ""
        )
        cells.append(f'<a href="files/notebooks/{nb.path.name}" download>{nb.path.name}</a>')
        if (site / "solutions" / f"{nb.stem}_solutions.html").exists():
            cells.append(f'<a href="solutions/{nb.solutions.stem}.html">worked solutions</a>')
        else:
            cells.append("")
        cells.append(html.escape(runtimes.get(nb.chapter, "")))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(
        f"<th>{h}</th>"
        for h in ("#", "chapter", "slides", "notebook file", "solutions", "fast / full runtime")
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>From random walks to FlashAttention: an executable course</title>
<style>{_INDEX_CSS}</style></head>
<body>
<h1>From random walks to FlashAttention: an executable course</h1>
<p>Every chapter below was executed in {html.escape(mode)} mode when this site was built; its
widgets appear as static figures at their initial values. Download a notebook file and open it
in JupyterLab (<code>make lab</code>) to run it and move the controls.</p>
<table><thead><tr>{header}</tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""
    index = site / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def build(
    site: Path,
    *,
    only: Sequence[str] = (),
    fast: bool = True,
    pages: bool = True,
    solutions: bool = True,
    slides: bool = True,
    lecture_slides: bool = True,
    root: Path = ROOT,
    log=print,
) -> list[Notebook]:
    """Execute and render: chapter pages, solution pages, slides and the index under ``site``.

    Pages are executed in learner mode; slides in lecture mode (quiet checks) unless
    ``lecture_slides`` is False, in which case the page's execution is reused (one run per
    notebook, as the browser test does). Returns the notebooks published.
    """
    notebooks = course_notebooks(root, only)
    site.mkdir(parents=True, exist_ok=True)
    _copy_tree(fetch_npm("mathjax"), site / "_static" / "mathjax")
    if slides:
        _copy_tree(fetch_npm("reveal.js"), site / "_static" / "reveal.js")
    mode = "fast" if fast else "full"
    index = site / "index.html"
    for nb in notebooks:
        page = site / "chapters" / f"{nb.stem}.html"
        slide_page = site / "slides" / f"{nb.stem}.slides.html"
        notebook_file = site / "files" / "notebooks" / nb.path.name  # copied below
        executed = None
        if pages or not lecture_slides:
            executed = _timed(
                log, f"{nb.stem} ({mode})", execute, nb.path, fast=fast, lecture=False
            )
            static_widgets(executed)
        if pages:
            links = [("index", index), ("slides", slide_page), ("notebook file", notebook_file)]
            if nb.solutions is not None:
                links.append(("solutions", site / "solutions" / f"{nb.solutions.stem}.html"))
            render_page(executed, page, site, links)
        if slides:
            if lecture_slides:
                executed = _timed(
                    log, f"{nb.stem} ({mode}, lecture)", execute, nb.path, fast=fast, lecture=True
                )
                static_widgets(executed)
            render_slides(executed, slide_page, site)
        if solutions and nb.solutions is not None:
            sol = _timed(
                log,
                f"{nb.solutions.stem} ({mode})",
                execute,
                nb.solutions,
                fast=fast,
                lecture=False,
            )
            static_widgets(sol)
            links = [("index", index), ("chapter", page)]
            render_page(sol, site / "solutions" / f"{nb.solutions.stem}.html", site, links)
    # the index lists every chapter, so a partial build (ONLY=...) into an existing site keeps
    # the rows of the chapters built before; every notebook file is offered for download
    everything = course_notebooks(root)
    for nb in everything:
        notebook_file = site / "files" / "notebooks" / nb.path.name
        notebook_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(nb.path, notebook_file)
    write_index(site, everything, root, mode)
    log(f"site written to {site} (open {index})")
    return notebooks


def _timed(log, label: str, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    log(f"executed {label} in {time.perf_counter() - start:.0f} s")
    return result


def warm(only: Sequence[str] = (), root: Path = ROOT, log=print) -> None:
    """Run every notebook once in this machine's own mode so every cache is filled.

    Chapter 05 trains its toy models once and caches them in ``.course_cache/``; after this
    a lecture re-runs them instantly. ``COURSE_FAST`` is left as the environment has it.
    """
    for nb in course_notebooks(root, only):
        _timed(log, nb.stem, execute, nb.path, fast=None, lecture=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib.publish", description=__doc__.split("\n")[0]
    )
    parser.add_argument("what", choices=("site", "slides", "warm"))
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site", help="site folder")
    parser.add_argument(
        "--full", action="store_true", help="full sizes (default: fast, COURSE_FAST=1)"
    )
    parser.add_argument("--only", nargs="*", default=(), help="notebook prefixes, e.g. 01 04a")
    args = parser.parse_args(argv)
    if args.what == "warm":
        warm(args.only)
    elif args.what == "slides":
        build(args.out, only=args.only, fast=not args.full, pages=False, solutions=False)
    else:
        build(args.out, only=args.only, fast=not args.full)
    return 0


if __name__ == "__main__":
    sys.exit(main())
