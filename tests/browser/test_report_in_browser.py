"""The demo report as a funder sees it: in a real browser, offline, with a keyboard and on paper.

Issue 11 (browser side). Every check runs on the demo pilot's ``report.html`` in headless
Chromium with the network blocked (see ``conftest.py``): axe-core finds no WCAG 2.2 A/AA or
best-practice violation; the page asks for nothing outside itself; images, figures, tables,
headings and landmarks are marked up for assistive technology; the summary is on the first
screen; the PDF has page numbers and a first page with content; the map draws; and hostile
text in a pilot's config or boundaries is shown as text, never run.
"""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from browser_helpers import (
    content_depth,
    describe_violations,
    find_map_image,
    ink_fraction,
    normalise_space,
    pdf_pages_text,
    render_pdf_pages,
)

NBCONVERT_PLACEHOLDER = "No description has been provided for this image"
MAP_MIN_INK = 0.10  # share of the map's pixels that are not white
PAGE1_MIN_INK = 0.02  # share of page 1's pixels that are not white (A4 at 60 dpi)
PAGE1_MIN_DEPTH = 0.50  # page 1's content reaches at least half-way down the page


# --------------------------------------------------------------------------- accessibility


def test_no_axe_violations(demo_page, run_axe):
    violations = run_axe(demo_page.page)
    assert violations == [], describe_violations(violations)


def test_html_lang_is_english(demo_page):
    lang = demo_page.page.evaluate("document.documentElement.getAttribute('lang')")
    assert lang is not None and lang.split("-")[0].lower() == "en", f"<html lang={lang!r}>"


def test_every_image_has_real_alt_text(demo_page):
    images = demo_page.page.evaluate(
        """() => [...document.images].map(i => ({
            alt: i.getAttribute('alt'), src: (i.getAttribute('src') || '').slice(0, 60)}))"""
    )
    bad = [
        im
        for im in images
        if not (im["alt"] or "").strip() or NBCONVERT_PLACEHOLDER.lower() in im["alt"].lower()
    ]
    assert not bad, f"{len(bad)} of {len(images)} <img> without real alt text: {bad[:5]}"


def test_every_figure_is_a_captioned_figure(demo_page):
    found = demo_page.page.evaluate(
        """() => {
          const media = [...document.querySelectorAll('img, iframe, canvas, object, embed, svg')]
            .filter(el => !(el.tagName.toLowerCase() === 'svg' &&
                            (el.closest('a, button') || el.parentElement.closest('svg') ||
                             el.getAttribute('aria-hidden') === 'true')));
          const outside = media.filter(el => !el.closest('figure'))
            .map(el => el.outerHTML.slice(0, 100));
          const figures = [...document.querySelectorAll('figure')];
          const uncaptioned = figures
            .filter(f => !(f.querySelector('figcaption')?.textContent || '').trim())
            .map(f => f.outerHTML.slice(0, 100));
          return {media: media.length, figures: figures.length, outside, uncaptioned};
        }"""
    )
    assert found["media"] > 0, "the report has no chart or map at all"
    assert not found["outside"], (
        f"{len(found['outside'])} of {found['media']} charts/maps are not in a <figure>: "
        f"{found['outside'][:3]}"
    )
    assert not found["uncaptioned"], (
        f"{len(found['uncaptioned'])} <figure> without a <figcaption>: {found['uncaptioned'][:3]}"
    )


def test_every_table_has_caption_and_scoped_headers(demo_page):
    tables = demo_page.page.evaluate(
        """() => [...document.querySelectorAll('table')].map((t, i) => {
          const th = [...t.querySelectorAll('th')];
          return {
            table: i + 1,
            caption: (t.querySelector(':scope > caption')?.textContent || '').trim(),
            th: th.length,
            unscoped: th.filter(c => !['row', 'col', 'rowgroup', 'colgroup']
                                     .includes(c.getAttribute('scope'))).length,
            first_row: (t.rows[0]?.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 60),
          };
        })"""
    )
    assert tables, "the report has no table"
    problems = []
    for t in tables:
        if not t["caption"]:
            problems.append(f"table {t['table']} ({t['first_row']!r}) has no <caption>")
        if t["th"] == 0:
            problems.append(f"table {t['table']} ({t['first_row']!r}) has no <th> cells")
        elif t["unscoped"]:
            problems.append(
                f"table {t['table']} ({t['first_row']!r}): {t['unscoped']} of {t['th']} "
                "<th> without scope"
            )
    assert not problems, f"{len(tables)} tables:\n" + "\n".join(problems)


def test_one_h1_and_no_skipped_heading_levels(demo_page):
    headings = demo_page.page.evaluate(
        """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h =>
            [Number(h.tagName[1]), h.textContent.trim().slice(0, 60)])"""
    )
    h1 = [text for level, text in headings if level == 1]
    assert len(h1) == 1, f"{len(h1)} <h1> elements: {h1}"
    assert headings[0][0] == 1, f"the first heading is not the <h1>: {headings[0]}"
    skips = [
        f"h{a} {ta!r} -> h{b} {tb!r}"
        for (a, ta), (b, tb) in zip(headings, headings[1:], strict=False)
        if b > a + 1
    ]
    assert not skips, "heading levels skip: " + "; ".join(skips)


@pytest.mark.parametrize(
    ("element", "role"),
    [("header", "banner"), ("main", "main"), ("nav", "navigation"), ("footer", "contentinfo")],
)
def test_landmark_present(demo_page, element, role):
    count = demo_page.page.locator(f"{element}, [role={role}]").count()
    assert count >= 1, f"no <{element}> (or role={role}) landmark"


def test_no_tab_stop_on_non_interactive_elements(demo_page):
    # A scroll container may be a tab stop (keyboard users scroll it) if it is a labelled
    # region that really scrolls: axe's scrollable-region-focusable asks for exactly that.
    stops = demo_page.page.evaluate(
        """() => [...document.querySelectorAll('[tabindex]')]
          .filter(el => el.tabIndex >= 0)
          .filter(el => !el.matches(
              'a[href], button, input, select, textarea, summary, iframe, [contenteditable]'))
          .filter(el => !(el.matches('[role=region][aria-label], [role=region][aria-labelledby]')
                          && (el.scrollWidth > el.clientWidth ||
                              el.scrollHeight > el.clientHeight)))
          .map(el => el.outerHTML.slice(0, 100))"""
    )
    assert not stops, f"{len(stops)} non-interactive elements are tab stops: {stops[:3]}"


# --------------------------------------------------------------------------- self-contained


def test_no_external_request_offline(demo_page):
    assert demo_page.blocked == [], (
        f"the report asked for {len(demo_page.blocked)} resource(s) outside the file "
        f"(blocked): {demo_page.blocked}"
    )


def test_no_mathjax_or_requirejs(demo_page):
    scripts = demo_page.page.evaluate(
        """() => [...document.scripts]
          .filter(s => /mathjax|require(\\.min)?\\.js/i.test(s.src) ||
                       /mathjax/i.test(s.type) ||
                       /MathJax\\.Hub|requirejs\\.config/.test(s.textContent))
          .map(s => s.src || s.type || s.textContent.slice(0, 60))"""
    )
    assert not scripts, f"MathJax/require.js scripts in the report: {scripts}"


# --------------------------------------------------------------------------- on screen


def test_summary_on_first_screen(demo_page):
    page = demo_page.page
    summary = page.locator("#summary")
    assert summary.count() == 1, "no element with id 'summary'"
    assert summary.is_visible(), "#summary is not visible"
    # Document coordinates: where it sits before any scrolling.
    box = page.evaluate(
        """() => { const r = document.getElementById('summary').getBoundingClientRect();
                   return {top: r.top + scrollY, bottom: r.bottom + scrollY,
                           left: r.left + scrollX, right: r.right + scrollX}; }"""
    )
    assert box["top"] >= 0 and box["left"] >= 0 and box["right"] <= 1280, box
    assert box["bottom"] <= 800, (
        f"the summary ends {box['bottom']:.0f} px down the page: not all of it is on the "
        "first 1280x800 screen"
    )


def test_screenshots(demo_page, artifacts_dir):
    from PIL import Image

    page = demo_page.page
    page.evaluate("window.scrollTo(0, 0)")
    first = artifacts_dir / "report.png"
    page.screenshot(path=str(first))
    page.screenshot(path=str(artifacts_dir / "report-full.png"), full_page=True)
    with Image.open(first) as img:
        assert img.size == (1280, 800)
    assert ink_fraction(first) > 0.01, f"the first screen is blank: {first}"


def test_static_map_draws(demo_page):
    page = demo_page.page
    img = find_map_image(page)
    assert img is not None, (
        "no static map image: expected an <img> inside an element whose id contains 'map' "
        "(e.g. <figure id='map'>) or whose alt text or caption names a map; "
        f"iframes in the page: {page.locator('iframe').count()}"
    )
    assert img.evaluate("i => i.complete && i.naturalWidth > 0"), "the map image did not decode"
    ink = ink_fraction(img.screenshot())
    assert ink > MAP_MIN_INK, f"the map is blank: {ink:.1%} of its pixels are not white"


# --------------------------------------------------------------------------- on paper


@pytest.fixture(scope="module")
def demo_pdf(demo_report, artifacts_dir, chromium_path):
    from pilot_eval.report.pdf import write_pdf

    return write_pdf(demo_report, artifacts_dir / "report.pdf")


def test_pdf_has_page_numbers(demo_pdf):
    assert demo_pdf.is_file() and demo_pdf.read_bytes().startswith(b"%PDF")
    pages = pdf_pages_text(demo_pdf)
    n = len(pages)
    missing = [i for i, text in enumerate(pages, 1) if f"Page {i} of {n}" not in text]
    assert not missing, f"pages without 'Page X of {n}' in the footer: {missing}"


def test_pdf_first_page_is_not_blank(demo_pdf, artifacts_dir):
    (png,) = render_pdf_pages(demo_pdf, artifacts_dir / "pdf-page", first=1, last=1)
    ink, depth = ink_fraction(png), content_depth(png)
    assert ink > PAGE1_MIN_INK and depth > PAGE1_MIN_DEPTH, (
        f"page 1 of the PDF is mostly blank: {ink:.1%} of its pixels are inked and its "
        f"content stops {depth:.0%} of the way down ({png})"
    )


# --------------------------------------------------------------------------- hostile text

HOSTILE = "Hostile ` ${alert(1)} </script><script>alert(1)</script> <img src=x onerror=alert(1)> \"quotes'"


@pytest.fixture(scope="module")
def hostile_report(demo_pilot, tmp_path_factory):
    """The demo report with HOSTILE in a component's description and the pilot area's name."""
    from pilot_eval.report.run import run_pilot

    base = tmp_path_factory.mktemp("hostile")
    data = base / "data" / "demo"
    shutil.copytree(demo_pilot.data_dir, data)
    areas = json.loads((data / "areas.geojson").read_text())
    treated = next(f for f in areas["features"] if f["properties"]["area_code"] == "DEMO01")
    treated["properties"]["area_name"] = f"Belvedere {HOSTILE}"
    (data / "areas.geojson").write_text(json.dumps(areas))
    raw = yaml.safe_load(demo_pilot.config_path.read_text())
    raw["intervention"]["components"][0]["description"] = f"Venue training {HOSTILE}"
    (base / "pilots").mkdir()
    cfg = base / "pilots" / "demo-belvedere.yml"
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
    return run_pilot(cfg, output_root=base / "reports").report_html


def test_hostile_text_is_shown_not_run(hostile_report, open_offline):
    opened = open_offline(hostile_report)
    page = opened.page
    assert opened.dialogs == [], f"the page opened dialogs: {opened.dialogs}"
    assert opened.page_errors == [], f"page errors: {opened.page_errors}"
    # Failed loads of blocked resources are test_no_external_request_offline's business.
    errors = [m for m in opened.console_errors if "Failed to load resource" not in m]
    assert errors == [], f"console errors: {errors}"
    injected = page.locator("img[src='x']").count()
    assert injected == 0, f"{injected} <img src=x> injected from the hostile text"
    text = normalise_space(page.locator("body").inner_text())
    wanted = {"description": f"Venue training {HOSTILE}", "area name": f"Belvedere {HOSTILE}"}
    missing = [where for where, s in wanted.items() if normalise_space(s) not in text]
    assert not missing, (
        f"the hostile {' and '.join(missing)} is not shown as visible text "
        f"(looked for {normalise_space(HOSTILE)!r})"
    )
    img = find_map_image(page)
    assert img is not None, "no static map image in the report with hostile names"
    ink = ink_fraction(img.screenshot())
    assert ink > MAP_MIN_INK, f"the map is blank with hostile names: {ink:.1%} inked"
