"""The executed website and the slides work offline in headless Chromium.

Builds Chapter 01 (page, worked solutions, slides; fast mode, one execution of each
notebook) into a scratch folder, serves it on 127.0.0.1 and opens every page in Debian's
Chromium through Playwright with every request outside that server aborted. Checks: no
console error, no page error and no blocked request on any page; the chapter page shows a
figure in every cell that calls the chapter's viz module (widgets included, as static
figures); math is typeset (MathJax elements, no TeX error, no raw ``$$`` or TeX commands in
the text); the slides have one top-level section per ``slide`` cell and advance. Skipped
without Chromium or npm (MathJax and reveal.js come from npm), unless
COURSE_REQUIRE_BROWSER=1 (CI).

``COURSE_SITE_DIR=build/site`` checks a site already built by ``make site`` instead, every
chapter in it (the same checks, one test per notebook)::

    make site && COURSE_SITE_DIR=build/site .venv/bin/python -m pytest tests/publish
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from course_lib import publish

pytestmark = [pytest.mark.browser, pytest.mark.site]
ROOT = Path(__file__).resolve().parents[2]
STEM = "01_random_walks"
#: A site built beforehand (make site) to check instead of building Chapter 01.
BUILT_SITE = os.environ.get("COURSE_SITE_DIR")
#: Widgets shown as static renderings, where the count is pinned (other chapters: >= 1).
STATIC_WIDGETS = {"01_random_walks": 2}


def _stems() -> list[str]:
    """The notebooks to check: Chapter 01, or every chapter page of the pre-built site."""
    if not BUILT_SITE:
        return [STEM]
    return sorted(p.stem for p in (Path(BUILT_SITE) / "chapters").glob("*.html"))


CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def _missing(message: str):
    if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _chromium() -> str:
    for path in (os.environ.get("COURSE_CHROMIUM"), *CHROMIUM_CANDIDATES):
        if path and Path(path).exists():
            return path
    return shutil.which("chromium") or _missing("Chromium not found (apt-get install chromium)")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no access log on stderr
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Chapter 01's page, solutions and slides, built once (or COURSE_SITE_DIR), on 127.0.0.1."""
    if BUILT_SITE:
        out = Path(BUILT_SITE).resolve()
        if not (out / "index.html").exists():
            pytest.fail(f"COURSE_SITE_DIR={BUILT_SITE} holds no index.html: run make site first")
    else:
        if shutil.which("npm") is None and not (ROOT / "build" / "vendor").exists():
            _missing("npm not found: MathJax and reveal.js come from the npm registry")
        out = tmp_path_factory.mktemp("site")
        publish.build(out, only=[STEM[:2]], fast=True, lecture_slides=False)
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield out, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class OfflinePage:
    """A page whose requests outside ``base`` are aborted and whose errors are recorded."""

    def __init__(self, browser, base: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.base = base

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base + "/") or url.startswith("data:"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, path: str):
        response = self.page.goto(f"{self.base}/{path}", wait_until="load")
        assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
        return self.page

    def assert_clean(self, path: str) -> None:
        assert not self.blocked, f"{path} asked the network for {self.blocked}"
        assert not self.errors, f"{path} logged console errors: {self.errors}"

    def close(self):
        self.context.close()


def _wait_for_math(page) -> None:
    """Wait until MathJax finished its first typeset pass."""
    page.wait_for_function("() => window.MathJax && MathJax.startup", timeout=60_000)
    page.evaluate("() => MathJax.startup.promise")


def _assert_math_rendered(page, path: str) -> None:
    typeset = page.locator("mjx-container").count()
    assert typeset > 10, f"{path}: only {typeset} typeset formulas"
    errors = page.locator("[data-mml-node='merror']").count()
    assert errors == 0, f"{path}: {errors} TeX errors"
    text = page.evaluate(
        "() => [...document.querySelectorAll('.jp-RenderedMarkdown')]"
        ".map(e => e.innerText).join('\\n')"
    )
    for raw in ("$$", "\\frac", "\\mathbb", "\\tag{"):
        assert raw not in text, f"{path}: raw TeX {raw!r} left in the page text"


def _viz_cells(stem: str) -> list[int]:
    """Indices of the code cells that call the chapter's viz module (a figure or a widget)."""
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and "viz." in "".join(c["source"])
    ]


def _assert_figures(page, path: str, stem: str) -> None:
    """Chapter 01: every cell calling viz shows a figure. Other chapters (their viz modules
    also hold data and constants, and some figures are full-mode only): at least two figures,
    every image on the page loaded."""
    cells = page.locator("main > .jp-Cell")
    if stem == STEM:
        expected = _viz_cells(stem)
        assert len(expected) >= 4
        for i in expected:
            images = cells.nth(i).locator(".jp-OutputArea-output img")
            assert images.count() >= 1, f"{path}: cell {i} (a viz call) shows no figure"
            assert images.first.evaluate("img => img.complete && img.naturalWidth > 100")
        return
    images = page.locator("main .jp-OutputArea-output img")
    assert images.count() >= 2, f"{path}: {images.count()} figures"
    loaded = images.evaluate_all("imgs => imgs.map(i => i.complete && i.naturalWidth > 100)")
    assert all(loaded), f"{path}: figures not loaded: {loaded}"


@pytest.mark.parametrize("stem", _stems())
def test_chapter_page_offline_with_figures_and_math(site, browser, stem):
    out, base = site
    view = OfflinePage(browser, base)
    try:
        path = f"chapters/{stem}.html"
        page = view.open(path)
        _wait_for_math(page)
        _assert_math_rendered(page, path)
        cells = page.locator("main > .jp-Cell")
        source = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
        assert cells.count() == len(source["cells"])
        _assert_figures(page, path, stem)
        statics = page.get_by_text("Static rendering at the initial values").count()
        if stem in STATIC_WIDGETS:
            want = STATIC_WIDGETS[stem]
            assert statics == want, f"{path}: {statics} static widget renderings, it has {want}"
        else:
            assert statics >= 1, f"{path}: no static rendering of a widget"
        for label in ("index", "slides", "notebook file", "solutions"):
            href = page.locator("nav.course-nav a", has_text=label).get_attribute("href")
            assert (out / "chapters" / href).resolve().exists(), f"{label} link {href} is broken"
        view.assert_clean(path)
    finally:
        view.close()


@pytest.mark.parametrize("stem", _stems())
def test_index_and_solutions_pages_offline(site, browser, stem):
    out, base = site
    view = OfflinePage(browser, base)
    try:
        page = view.open("index.html")
        # every chapter has its row, even in a partial build (its notebook file at least)
        assert page.locator("tbody tr").count() == len(publish.course_notebooks(ROOT))
        files = page.locator("tbody a[download]").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert files and all((out / href).exists() for href in files), files
        row = page.locator("tbody tr").filter(has=page.locator(f"a[href='chapters/{stem}.html']"))
        assert row.count() == 1
        hrefs = row.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert len(hrefs) == 4, hrefs  # chapter page, slides, notebook file, solutions
        for href in hrefs:
            assert (out / href).exists(), f"index links to missing {href}"
        view.assert_clean("index.html")
        path = f"solutions/{stem}_solutions.html"
        page = view.open(path)
        _wait_for_math(page)
        assert page.locator(".jp-Cell").count() > 5
        assert page.locator("[data-mml-node='merror']").count() == 0
        view.assert_clean(path)
    finally:
        view.close()


@pytest.mark.parametrize("stem", _stems())
def test_slides_offline_and_advance(site, browser, stem):
    _, base = site
    source = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    n_slides = sum(
        c["metadata"].get("slideshow", {}).get("slide_type") == "slide" for c in source["cells"]
    )
    view = OfflinePage(browser, base)
    try:
        path = f"slides/{stem}.slides.html"
        page = view.open(path)
        page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=60_000)
        _wait_for_math(page)
        assert page.evaluate("() => Reveal.getHorizontalSlides().length") == n_slides
        figures = page.locator(".reveal .slides img").count()
        assert figures >= (2 if stem == STEM else 1), f"{path}: {figures} figures"  # 01: + widget
        start = page.evaluate("() => Reveal.getIndices().h")
        page.locator(".reveal").click()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => Reveal.getIndices().h === {start + 1}", timeout=10_000)
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => Reveal.getIndices().h === {start + 2}", timeout=10_000)
        assert page.locator(".reveal section.present mjx-container").count() > 0  # math, slide 3
        view.assert_clean(path)
    finally:
        view.close()
