"""StreetSafe / QR-code reports as an outcome: counted per area and month from their points."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

import pilot_eval as pe
from pilot_eval.config import Outcome, load_config
from pilot_eval.errors import ConfigError
from pilot_eval.report import all_sections, report_context
from pilot_eval.report.page import render_page

REPORTS = "StreetSafe and QR-code reports"


def test_a_report_outcome_aims_up_and_needs_a_file(demo_pilot, tmp_path):
    assert Outcome(name="r", source="streetsafe").expected_change == "increase"
    with pytest.raises(ValueError, match="crime_types"):
        Outcome(name="r", source="streetsafe", crime_types=("Robbery",))
    raw = yaml.safe_load(demo_pilot.config_path.read_text())
    del raw["data"]["streetsafe"]
    p = demo_pilot.config_path.parent / "no-reports.yml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ConfigError, match="data.streetsafe"):
        load_config(p)


def test_reports_are_an_outcome_with_the_headline_inference(demo_pilot, tmp_path):
    prepared = pe.prepare(demo_pilot.config_path)
    panel = prepared.panel[prepared.panel["outcome"] == REPORTS]
    cfg = prepared.config
    reports = pd.read_csv(demo_pilot.data_dir / "streetsafe.csv")
    month = pd.to_datetime(reports["date"]).dt.to_period("M").dt.to_timestamp()
    in_window = int(month.between(cfg.months[0], cfg.months[-1]).sum())
    assert 0 < panel["count"].sum() <= in_window  # points outside every area are left out
    assert prepared.streetsafe is not None
    assert "description" not in prepared.streetsafe.columns

    ev = pe.evaluate(prepared)
    o = next(x for x in ev.outcomes if x.outcome == REPORTS)
    assert o.estimated and o["placebo"].direction == "increase"
    truth = demo_pilot.truth["streetsafe"]["true_irr"]["treated"]
    cf = o["conformal"]
    assert cf.irr > 1 and cf.ci_low <= truth <= cf.ci_high
    assert "cost" not in o.results  # reports are not crimes prevented

    ctx = report_context(ev, config_path=demo_pilot.config_path)
    sections = all_sections(ctx)
    words = " ".join(s.words() for s in sections)
    assert "More reports can mean more confidence, or an easier way, to report" in words
    doc = ev.results_document().to_json_dict()
    page = render_page(ctx, sections)
    for text in (json.dumps(doc), page):  # free text never reaches any output
        assert "free text: never read" not in text


def test_reports_given_by_area_code_count_as_their_points_do(demo_pilot, tmp_path):
    """An export with each report's area code instead of its point gives the same panel."""
    from pilot_eval import columns as C
    from pilot_eval.areas import assign_points
    from pilot_eval.io.policeuk import project_points
    from pilot_eval.io.streetsafe import read_streetsafe

    prepared = pe.prepare(demo_pilot.config_path)
    points = read_streetsafe(demo_pilot.data_dir / "streetsafe.csv")
    located = assign_points(project_points(points), prepared.areas)
    by_code = pd.read_csv(demo_pilot.data_dir / "streetsafe.csv")
    by_code = by_code.drop(columns=["latitude", "longitude"]).assign(
        area=located[C.AREA].fillna("OUTSIDE").to_numpy()
    )
    csv = tmp_path / "streetsafe-by-area.csv"
    by_code.to_csv(csv, index=False)
    raw = yaml.safe_load(demo_pilot.config_path.read_text())
    for key in ("crimes", "boundaries", "interventions", "survey", "population"):
        raw["data"][key] = str((demo_pilot.config_path.parent / raw["data"][key]).resolve())
    for comp in raw["intervention"].get("components", []):
        if comp.get("locations"):
            comp["locations"] = str((demo_pilot.config_path.parent / comp["locations"]).resolve())
    raw["data"]["streetsafe"] = str(csv)
    cfg = tmp_path / "by-area.yml"
    cfg.write_text(yaml.safe_dump(raw, sort_keys=False))
    other = pe.prepare(cfg)

    def reports(p):
        return p.panel[p.panel[C.OUTCOME] == REPORTS].reset_index(drop=True)

    pd.testing.assert_frame_equal(reports(other), reports(prepared))

    def outside(p):
        return [n for n in p.data_notes if "StreetSafe" in n and "outside" in n]

    assert outside(other) == outside(prepared)


def test_a_streetsafe_file_with_both_points_and_codes_is_refused(tmp_path):
    from pilot_eval.errors import DataValidationError
    from pilot_eval.io.streetsafe import read_streetsafe

    f = tmp_path / "s.csv"
    f.write_text("date,latitude,longitude,area,category\n2024-05-01,51.49,0.14,E01,Lighting\n")
    with pytest.raises(DataValidationError, match="keep one way"):
        read_streetsafe(f)
    f.write_text("date,area,category\n2024-05-01,,Lighting\n")
    with pytest.raises(DataValidationError, match="line 2, column 'area': empty"):
        read_streetsafe(f)
