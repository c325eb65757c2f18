"""The real Belvedere ward report (MPS VAWG data in ../shared) in the browser: no axe
violation, nothing requested offline, the summary on the first screen, the map drawn."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import describe_violations

from shared_data import need_shared

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def belvedere_page(browser, open_offline_module, tmp_path_factory):
    need_shared("data/mps/vawg-offences.parquet", "data/boundaries/bexley_wards_2018.geojson")
    from pilot_eval.report.run import run_pilot

    out = run_pilot(
        ROOT / "pilots" / "belvedere-ward-vawg.yml", output_root=tmp_path_factory.mktemp("r")
    )
    return open_offline_module(out.report_html)


def test_belvedere_has_no_axe_violation(belvedere_page, run_axe):
    violations = run_axe(belvedere_page.page)
    assert violations == [], describe_violations(violations)


def test_belvedere_offline_summary_first_map_drawn(belvedere_page):
    page = belvedere_page.page
    assert belvedere_page.blocked == []
    bottom = page.evaluate(
        "() => document.getElementById('summary').getBoundingClientRect().bottom + scrollY"
    )
    assert bottom <= 800, bottom
    alts = page.eval_on_selector_all("img", "els => els.map(e => e.alt)")
    assert any(a.startswith("Map of Belvedere") for a in alts), alts
    assert "Illustrative dates" in page.inner_text("header")
