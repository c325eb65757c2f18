"""Print a report page to an A4 PDF with headless Chromium (through Playwright), offline.

The page is printed by the machine's own Chromium (Debian: ``apt-get install chromium``);
Playwright is only the driver and never downloads a browser. Every request that is not for a
``file:`` or ``data:`` URL is blocked, so the PDF shows exactly what the self-contained
``report.html`` holds, and printing works without a network. Each page carries
"Page X of Y" in its footer.

``pilot-eval run --pdf`` calls :func:`write_pdf`; the browser tests (``tests/browser/``) use
the same launch settings (:data:`CHROMIUM_ARGS`, :func:`find_chromium`).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import ReportError

__all__ = ["CHROMIUM_ARGS", "find_chromium", "write_pdf"]

log = logging.getLogger(__name__)

#: Where Chromium is looked for, in order, when ``PILOT_EVAL_CHROMIUM`` is not set.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")

#: Command-line switches for a quiet, offline, headless Chromium (no sandbox: CI runs as root;
#: no background, update or sync traffic). Playwright adds a fresh temporary profile.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

# Chromium fills the spans of these classes in; the template is otherwise printed as is.
FOOTER_TEMPLATE = (
    '<div style="box-sizing:border-box; width:100%; padding:0 15mm; font-family:sans-serif; '
    'font-size:10px; color:#333; text-align:right;">'
    'Page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
)
HEADER_TEMPLATE = "<div></div>"  # no header (Chromium's default prints the date and title)
MARGIN = {"top": "15mm", "bottom": "18mm", "left": "15mm", "right": "15mm"}

_INSTALL_CHROMIUM = (
    "Install Chromium with `apt-get install chromium` (Debian/Ubuntu; `make test` does this "
    "on a Debian machine), or set PILOT_EVAL_CHROMIUM to the path of a Chromium or Chrome "
    "executable."
)


def find_chromium() -> Path:
    """The Chromium executable to print with.

    ``PILOT_EVAL_CHROMIUM`` if set, else the first of :data:`CHROMIUM_CANDIDATES` found.

    Raises
    ------
    ReportError
        No Chromium was found (the message says how to install one).
    """
    override = os.environ.get("PILOT_EVAL_CHROMIUM")
    if override:
        path = Path(override)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise ReportError(
            f"PILOT_EVAL_CHROMIUM is set to {override}, which is not an executable file. "
            + _INSTALL_CHROMIUM
        )
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise ReportError(
        "printing the report to PDF needs Chromium, which was not found "
        f"(looked for {', '.join(CHROMIUM_CANDIDATES)}). " + _INSTALL_CHROMIUM
    )


def _sync_playwright() -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise ReportError(
            "printing the report to PDF needs the Python package 'playwright', which is not "
            "installed. Install it with `pip install playwright` (no `playwright install` is "
            "needed: the system's Chromium is used)."
        ) from exc
    return sync_playwright


def _loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _print(
    sync_playwright: Any,
    chromium: Path,
    html_path: Path,
    pdf_path: Path,
    timeout_ms: float,
    blocked: list[str],
) -> None:
    """Load the page offline in Chromium and print it (see :func:`write_pdf`)."""
    from playwright.sync_api import Error as PlaywrightError

    tmp = pdf_path.with_name(f".{pdf_path.name}.partial")

    def only_local(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort("blockedbyclient")

    def no_websockets(ws: Any) -> None:  # never connected to a server
        blocked.append(ws.url)
        ws.close()

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(chromium), args=list(CHROMIUM_ARGS), timeout=timeout_ms
            )
            try:
                context = browser.new_context(service_workers="block")
                context.route("**/*", only_local)
                context.route_web_socket("**/*", no_websockets)
                page = context.new_page()
                page.set_default_timeout(timeout_ms)
                page.goto(html_path.as_uri(), wait_until="load")
                page.evaluate("document.fonts.ready.then(() => true)")
                page.emulate_media(media="print")
                page.pdf(
                    path=str(tmp),
                    format="A4",
                    print_background=True,
                    display_header_footer=True,
                    header_template=HEADER_TEMPLATE,
                    footer_template=FOOTER_TEMPLATE,
                    margin=MARGIN,
                    prefer_css_page_size=False,
                )
            finally:
                browser.close()
        os.replace(tmp, pdf_path)
    except PlaywrightError as exc:
        tmp.unlink(missing_ok=True)
        message = str(exc).strip()
        first_line = message.splitlines()[0] if message else type(exc).__name__
        raise ReportError(
            f"printing {html_path} to PDF with {chromium} failed: {first_line}"
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_pdf(html_path: Path, pdf_path: Path, *, timeout_s: float = 120.0) -> Path:
    """Print ``html_path`` to an A4 PDF at ``pdf_path`` and return ``pdf_path``.

    Backgrounds are printed, the page's print styles apply, and every page's footer says
    "Page X of Y". Requests for anything but ``file:`` and ``data:`` URLs are blocked (and
    logged as warnings): the PDF never depends on the network. The PDF is written to a
    temporary file first, so a failed print leaves no partial file at ``pdf_path``.

    Parameters
    ----------
    html_path
        The report page (e.g. ``reports/<slug>/report.html``).
    pdf_path
        Where to write the PDF; its folder must exist.
    timeout_s
        Longest wait for the page to load and print, in seconds.

    Raises
    ------
    ReportError
        The page is missing, Chromium or Playwright is not installed, or printing failed.
    """
    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path)
    if not html_path.is_file():
        raise ReportError(f"cannot print {html_path} to PDF: the file does not exist")
    if not pdf_path.parent.is_dir():
        raise ReportError(f"cannot write {pdf_path}: the folder {pdf_path.parent} does not exist")
    chromium = find_chromium()
    sync_playwright = _sync_playwright()
    blocked: list[str] = []
    args = (sync_playwright, chromium, html_path, pdf_path, timeout_s * 1000, blocked)
    if _loop_running():
        # Playwright's sync API refuses to run under a running asyncio loop (Jupyter, or
        # another sync Playwright session in this thread): print from a worker thread.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="write_pdf") as pool:
            pool.submit(_print, *args).result()
    else:
        _print(*args)
    if blocked:
        log.warning(
            "%s asked for %d non-local resource(s), blocked while printing (the PDF may lack "
            "them): %s",
            html_path.name,
            len(blocked),
            ", ".join(sorted(set(blocked))[:5]),
        )
    return pdf_path
