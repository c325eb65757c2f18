"""Browser fixtures: the demo report opened in the system's headless Chromium, offline.

* ``browser``: one Chromium per session, started by Playwright from the system executable
  (``/usr/bin/chromium``; ``make test`` installs Debian's package when it is missing).
  Playwright never downloads a browser. Without Chromium the tests FAIL with the install
  hint; they are skipped only when ``PILOT_EVAL_NO_BROWSER=1`` is set.
* ``demo_report``: the demo pilot's report, made once per session with ``run_pilot``;
  ``demo_page``: that report opened once per test module (1280x800, offline).
* ``open_offline``: opens a local HTML file with every request intercepted: ``file:`` and
  ``data:`` URLs load, anything else is aborted and recorded (``OpenedPage.blocked``), as
  are dialogs, page errors and console errors.
* ``run_axe``: axe-core (bundled by the PyPI package ``axe-playwright-python``) on a page,
  with the WCAG 2.0/2.1/2.2 A and AA rules and best practices; returns every violation.
* ``artifacts_dir``: where screenshots and the PDF go (``PILOT_EVAL_BROWSER_ARTIFACTS``
  if set, to look at them after the run; otherwise a session temp folder).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

VIEWPORT = {"width": 1280, "height": 800}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
NO_BROWSER_ENV = "PILOT_EVAL_NO_BROWSER"


def pytest_collection_modifyitems(config, items):
    """``PILOT_EVAL_NO_BROWSER=1`` skips the tests that need Chromium, saying why (the only
    way to skip them; without Chromium they fail)."""
    if os.environ.get(NO_BROWSER_ENV) != "1":
        return
    here = Path(__file__).parent
    mark = pytest.mark.skip(
        reason=f"{NO_BROWSER_ENV}=1: browser tests (Chromium, axe-core, PDF) not run"
    )
    for item in items:
        needs_browser = "chromium_path" in getattr(item, "fixturenames", ())
        if needs_browser and here in Path(str(item.fspath)).parents:
            item.add_marker(mark)


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    from pilot_eval.errors import ReportError
    from pilot_eval.report.pdf import find_chromium

    try:
        return find_chromium()
    except ReportError as exc:
        problem = str(exc)
    pytest.fail(
        f"the browser tests need Chromium: {problem} (or set {NO_BROWSER_ENV}=1 to skip them)",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Any]:
    """One headless Chromium for the whole session (system executable, fresh profile)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "the browser tests need the Python package 'playwright' (a test dependency): "
            "pip install -e '.[test]'",
            pytrace=False,
        )
    from pilot_eval.report.pdf import CHROMIUM_ARGS

    with sync_playwright() as pw:
        # Playwright gives each launch a fresh temporary user-data-dir, removed on close.
        b = pw.chromium.launch(executable_path=str(chromium_path), args=list(CHROMIUM_ARGS))
        try:
            yield b
        finally:
            b.close()


# --------------------------------------------------------------------------- reports


@pytest.fixture(scope="session")
def artifacts_dir(tmp_path_factory) -> Path:
    chosen = os.environ.get("PILOT_EVAL_BROWSER_ARTIFACTS")
    if chosen:
        path = Path(chosen)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("browser-artifacts")


@pytest.fixture(scope="session")
def demo_report(demo_pilot, tmp_path_factory) -> Path:
    """``report.html`` of the demo pilot, made once per session.

    ``PILOT_EVAL_BROWSER_REPORT=path/report.html`` checks that page instead (to try a
    hand-edited page quickly; the hostile-text test still makes its own report).
    """
    from pilot_eval.report.run import run_pilot

    given = os.environ.get("PILOT_EVAL_BROWSER_REPORT")
    if given:
        path = Path(given)
        if not path.is_file():
            pytest.fail(f"PILOT_EVAL_BROWSER_REPORT={given}: no such file", pytrace=False)
        return path

    out = run_pilot(demo_pilot.config_path, output_root=tmp_path_factory.mktemp("reports"))
    return out.report_html


# --------------------------------------------------------------------------- pages


@dataclass
class OpenedPage:
    """A page opened by :func:`open_offline`, with what happened while it loaded."""

    page: Any  # playwright.sync_api.Page
    blocked: list[str] = field(default_factory=list)  # non-local URLs asked for (aborted)
    dialogs: list[str] = field(default_factory=list)  # alert/confirm/prompt messages
    page_errors: list[str] = field(default_factory=list)  # uncaught exceptions
    console_errors: list[str] = field(default_factory=list)


def _open(browser: Any, html: Path, viewport: dict[str, int]) -> tuple[Any, OpenedPage]:
    context = browser.new_context(viewport=viewport, service_workers="block")
    page = context.new_page()
    opened = OpenedPage(page=page)

    def record(url: str) -> None:
        if url not in opened.blocked:
            opened.blocked.append(url)

    def only_local(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            record(url)
            route.abort("blockedbyclient")

    def no_websocket(ws: Any) -> None:
        record(ws.url)
        ws.close()

    def on_dialog(dialog: Any) -> None:
        opened.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    context.route("**/*", only_local)
    context.route_web_socket("**/*", no_websocket)
    # Requests that bypass routing would still show up here.
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else record(r.url))
    page.on("dialog", on_dialog)
    page.on("pageerror", lambda e: opened.page_errors.append(str(e)))
    page.on(
        "console",
        lambda m: opened.console_errors.append(m.text) if m.type == "error" else None,
    )
    page.goto(Path(html).resolve().as_uri(), wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, opened


@pytest.fixture
def open_offline(browser) -> Iterator[Callable[..., OpenedPage]]:
    """``open_offline(path, viewport={...})``: open a local HTML file, network blocked."""
    contexts: list[Any] = []

    def opener(html: Path, *, viewport: dict[str, int] | None = None) -> OpenedPage:
        context, opened = _open(browser, html, viewport or VIEWPORT)
        contexts.append(context)
        return opened

    yield opener
    for c in contexts:
        c.close()


@pytest.fixture(scope="module")
def open_offline_module(browser) -> Iterator[Callable[..., OpenedPage]]:
    """Like :func:`open_offline`, for module-scoped pages (closed at the module's end)."""
    contexts: list[Any] = []

    def opener(html: Path, *, viewport: dict[str, int] | None = None) -> OpenedPage:
        context, opened = _open(browser, html, viewport or VIEWPORT)
        contexts.append(context)
        return opened

    yield opener
    for c in contexts:
        c.close()


@pytest.fixture(scope="module")
def demo_page(browser, demo_report) -> Iterator[OpenedPage]:
    """The demo report opened once (1280x800, offline) for the read-only checks of a module."""
    context, opened = _open(browser, demo_report, VIEWPORT)
    yield opened
    context.close()


# --------------------------------------------------------------------------- axe


@pytest.fixture(scope="session")
def run_axe() -> Callable[[Any], list[dict]]:
    """``run_axe(page)``: axe-core's violations (every impact) for the WCAG 2.x A/AA tags."""
    try:
        from axe_playwright_python.base import AXE_SCRIPT
    except ImportError:
        pytest.fail(
            "the browser tests need the package 'axe-playwright-python' (bundles axe-core; a "
            "test dependency): pip install -e '.[test]'",
            pytrace=False,
        )

    def run(page: Any) -> list[dict]:
        for frame in page.frames:  # axe checks inside iframes only where it is injected
            frame.evaluate(AXE_SCRIPT)
        options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
        result = page.evaluate("options => axe.run(document, options)", options)
        return result["violations"]

    return run
