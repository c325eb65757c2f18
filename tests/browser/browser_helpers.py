"""Helpers of the browser tests: axe reports, pixel counts, PDF text and rendering (poppler)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def describe_violations(violations: list[dict], *, nodes: int = 3) -> str:
    """One paragraph per axe violation: id, impact, help, and its first nodes."""
    lines = [f"{len(violations)} axe violation(s):"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}, {len(v['nodes'])} node(s)): {v['help']}")
        for n in v["nodes"][:nodes]:
            lines.append(f"    {' '.join(map(str, n['target']))}: {n['html'][:140]}")
    return "\n".join(lines)


def poppler(tool: str) -> str:
    """Path of a poppler-utils tool (pdftoppm, pdftotext), or fail with the install hint."""
    found = shutil.which(tool)
    if not found:
        pytest.fail(
            f"the PDF checks need {tool} from poppler-utils: apt-get install poppler-utils "
            "(make test installs it on Debian)",
            pytrace=False,
        )
    return found


def ink_fraction(png: bytes | Path, *, tolerance: int = 12) -> float:
    """Share of pixels that are not (near) white: any channel below 255 - ``tolerance``."""
    import io

    import numpy as np
    from PIL import Image

    data = png.read_bytes() if isinstance(png, Path) else png
    img = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)
    return float((img < 255 - tolerance).any(axis=2).mean())


def content_depth(png: Path, *, bottom_margin: float = 18 / 297, tolerance: int = 12) -> float:
    """How far down a printed page its content reaches, as a share of the page above the
    footer band (the bottom ``bottom_margin`` of the page, where "Page X of Y" sits)."""
    import numpy as np
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB"), dtype=np.int16)
    body = img[: int(round(img.shape[0] * (1 - bottom_margin)))]
    rows = np.flatnonzero((body < 255 - tolerance).any(axis=2).any(axis=1))
    return 0.0 if rows.size == 0 else float((rows[-1] + 1) / body.shape[0])


def render_pdf_pages(pdf: Path, out_prefix: Path, *, dpi: int = 60, first: int = 1, last: int = 1):
    """Render PDF pages to PNG with pdftoppm; returns the PNG paths in page order."""
    subprocess.run(
        [
            poppler("pdftoppm"),
            "-png",
            "-r",
            str(dpi),
            "-f",
            str(first),
            "-l",
            str(last),
            str(pdf),
            str(out_prefix),
        ],
        check=True,
        capture_output=True,
    )
    return sorted(out_prefix.parent.glob(out_prefix.name + "-*.png"))


def pdf_pages_text(pdf: Path) -> list[str]:
    """The text of each PDF page (pdftotext, layout kept), in order."""
    done = subprocess.run(
        [poppler("pdftotext"), "-layout", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    pages = done.stdout.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


# The static map: an <img> inside an element whose id contains "map" (e.g. <figure id="map">),
# else the first <img> whose alt text or figure caption names a map.
_FIND_MAP = """() => {
  const imgs = [...document.images];
  let i = imgs.findIndex(img => img.closest('[id*="map" i]'));
  if (i < 0) i = imgs.findIndex(img => {
    const cap = img.closest('figure')?.querySelector('figcaption')?.textContent || '';
    return /\\bmap\\b/i.test(img.alt || '') || /\\bmap\\b/i.test(cap);
  });
  return i;
}"""


def find_map_image(page):
    """The report's static map as a Playwright locator, or None if the page has none."""
    index = page.evaluate(_FIND_MAP)
    return None if index < 0 else page.locator("img").nth(index)


def normalise_space(text: str) -> str:
    return " ".join(text.split())
