"""`pilot-eval run` on the demo pilot: the funders' report says what it must, and only that."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest

from pilot_eval.cli import main
from pilot_eval.report.run import run_pilot


@pytest.fixture(scope="module")
def report(demo_pilot, tmp_path_factory):
    out = run_pilot(demo_pilot.config_path, output_root=tmp_path_factory.mktemp("reports"))
    page = out.report_html.read_text(encoding="utf-8")
    # the visible text, without styles, scripts and the map's inline document
    text = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    text = re.sub(r"<iframe.*?</iframe>", " [map] ", text, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"\s+", " ", text)
    return out, page, text


def test_outputs_exist(report):
    out, page, _ = report
    assert out.report_html.is_file() and out.results_json.is_file() and out.notebook.is_file()
    assert page.lstrip().lower().startswith("<!doctype html>")


def test_synthetic_label_everywhere(report):
    out, page, text = report
    assert "SYNTHETIC DEMO DATA" in text
    assert json.loads(out.results_json.read_text())["synthetic"] is True


def test_no_code_and_charts_embedded(report):
    _, page, text = report
    assert "from pilot_eval" not in page and "evaluate(prepared)" not in page
    # monthly charts, placebo chart, map: embedded PNGs, no external image files
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) >= 4
    assert "Traceback" not in text and "Warning" not in text


def test_summary_first_then_mde_before_the_result(report):
    _, _, text = report
    summary = text.index("Summary Question.")
    assert summary < text.index("Effect: did recorded crime change?")
    mde = text.index("What could this evaluation detect?")
    result = text.index("After the start, VAWG-related offences in Demo Belvedere")
    assert mde < result


def test_headline_states_rank_floor_and_real_level(report):
    _, _, text = report
    # the conformal interval, labelled with its real level (46/48 = 95.8 %, rounded down)
    assert re.search(r"than the comparison areas' trend predicts \(95\.8 % interval: ", text)
    assert "to each of the 18 areas (the pilot area included)" in text
    assert "the smallest possible with this many is 0.056" in text
    assert "88.8 %: " in text  # size-adjusted placebo interval, 1 - 2/18, in the appendix


def test_forbidden_wording_absent(report):
    _, _, text = report
    assert not re.search(r"\bp\s*=\s*0(?![.\d])", text), "never 'p = 0'"
    assert not re.search(r"\bno effect\b", text, flags=re.I)
    # with 18 areas min p = 1/18 > 0.05: nothing may be called significant at 5 %
    assert not re.search(r"\bis (statistically )?significant\b", text, flags=re.I)
    assert not re.search(r"cluster-robust (interval|p)[^.]*=", text)


def test_map_shows_no_incident_points(report, demo_pilot):
    """No coordinate of any demo crime appears in the page (maps draw areas and sites only)."""
    _, page, _ = report
    files = sorted((demo_pilot.data_dir / "police-uk").rglob("*.csv"))[-6:]
    crimes = pd.concat(pd.read_csv(f, dtype=str) for f in files).dropna(subset=["Latitude"])
    sample = crimes.sample(300, random_state=1)
    leaked = [
        (lat, lon)
        for lat, lon in zip(sample["Latitude"], sample["Longitude"], strict=True)
        if lat in page and lon in page
    ]
    assert not leaked, f"incident coordinates found in the report: {leaked[:3]}"
    # the map is there, as an image that draws offline, with the sites in its description
    assert re.search(r'alt="Map of Demo Belvedere[^"]*intervention sites marked', page)


def test_cli_run_and_validate(demo_pilot, tmp_path, capsys):
    assert main(["validate", str(demo_pilot.config_path)]) == 0
    out = capsys.readouterr().out
    assert "1 treated, 17 comparison" in out and "SYNTHETIC DEMO DATA" in out
    bad = main(["run", str(demo_pilot.config_path), "-p", "ouput_dir", "x"])
    assert bad == 2
    assert "unknown notebook parameter" in capsys.readouterr().err


def test_two_runs_are_byte_identical(demo_pilot, tmp_path, monkeypatch):
    """Same config, same data, SOURCE_DATE_EPOCH set: the same bytes, notebook included,
    wherever the reports are written; the notebook names the config by file name only."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")
    a = run_pilot(demo_pilot.config_path, output_root=tmp_path / "a")
    b = run_pilot(demo_pilot.config_path, output_root=tmp_path / "elsewhere" / "b")
    for name in ("report.html", "results.json", "evaluate_pilot.ipynb"):
        assert (a.folder / name).read_bytes() == (b.folder / name).read_bytes(), name
    nb = a.notebook.read_text(encoding="utf-8")
    assert str(tmp_path) not in nb and str(demo_pilot.config_path.parent) not in nb
    assert not re.search(r'"(/[^"\s]+){2,}', nb), "an absolute path in the published notebook"
