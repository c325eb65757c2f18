"""The demo pilot through prepare → evaluate: the contract holds and the truth is recovered.

The demo data carry a known effect (``truth.json``): VAWG-related offences x0.75 in DEMO01
from 2024-04, anti-social behaviour unchanged. Intervals that hold with one treated area must
cover those values; the report's rules (levels, p-values, suppression) must hold.
"""

from __future__ import annotations

import json
import math
from typing import get_args

import pandas as pd
import pytest

from pilot_eval import columns as C
from pilot_eval.pipeline import evaluate, prepare
from pilot_eval.results import Scale

VAWG, ASB = "VAWG-related offences", "Anti-social behaviour"
REPORTS = "StreetSafe and QR-code reports"  # the demo's third outcome (source: streetsafe)


@pytest.fixture(scope="module")
def evaluation(demo_pilot):
    return evaluate(prepare(demo_pilot.config_path))


def test_panel_contract_and_areas(evaluation, demo_pilot):
    prep = evaluation.prepared
    panel = prep.panel
    assert list(panel.columns[: len(C.PANEL_COLUMNS)]) == list(C.PANEL_COLUMNS)
    assert set(panel[C.OUTCOME]) == {VAWG, ASB, REPORTS}
    months = panel[C.MONTH].drop_duplicates().sort_values()
    assert len(months) == 48 and months.iloc[0] == pd.Timestamp("2021-04-01")
    # zero-filled: every outcome x area x month once
    n_areas = panel[C.AREA].nunique()
    assert len(panel) == 3 * n_areas * 48
    assert not panel.duplicated([C.OUTCOME, C.AREA, C.MONTH]).any()
    groups = prep.areas.set_index(C.AREA)[C.GROUP]
    assert groups[demo_pilot.truth["treated_area"]] == "treated"
    assert (groups == "buffer").sum() == 1
    assert prep.areas.crs.to_epsg() == 27700
    assert any("no map position" in n for n in prep.data_notes)


def test_headline_intervals_cover_the_injected_effect(evaluation, demo_pilot):
    true_vawg = demo_pilot.truth["true_irr"]["treated"]
    by = {(e.outcome, e.method): e for e in evaluation.estimates}
    for method in ("conformal", "placebo_in_space"):
        e = by[(VAWG, method)]
        assert e.role == "headline" and e.scale == "ratio"
        assert e.ci_low <= true_vawg <= e.ci_high, (method, e)
        a = by[(ASB, method)]
        assert a.ci_low <= 1.0 <= a.ci_high, (method, a)
    # the point estimate moves the right way and ASB (unaffected) does not
    assert by[(VAWG, "conformal")].estimate < 0.9
    assert 0.85 < by[(ASB, "conformal")].estimate < 1.2


def test_levels_are_real_and_never_overstated(evaluation):
    n = evaluation.primary["placebo"].n_reference
    by = {(e.outcome, e.method): e for e in evaluation.estimates}
    # A min-max style placebo interval with N areas cannot claim more than 1 - 2/N.
    assert by[(VAWG, "placebo_in_space")].level <= 1 - 2 / n + 1e-12
    assert by[(VAWG, "conley_taber")].level <= 1 - 2 / n + 1e-12
    # The conformal level is a multiple of 1/T for T months
    t = len(evaluation.config.months)
    lvl = by[(VAWG, "conformal")].level
    assert math.isclose(lvl * t, round(lvl * t), abs_tol=1e-9) and lvl >= 0.95
    for e in evaluation.estimates:
        assert e.p_value is None or e.p_value > 0
        if e.method == "placebo_in_space":
            assert e.p_value >= 1 / n - 1e-12


def test_every_estimate_has_an_interval(evaluation):
    for e in evaluation.estimates:
        assert not math.isnan(e.ci_low) and not math.isnan(e.ci_high), e
        assert e.ci_low <= e.estimate <= e.ci_high, e


def test_no_cluster_robust_figures_with_one_treated_area(evaluation):
    methods = {e.method for e in evaluation.estimates}
    assert not any("cluster" in m or "bootstrap" in m for m in methods)


def test_results_json_contract(evaluation, tmp_path):
    from pilot_eval.pipeline import write_results

    path = write_results(evaluation, tmp_path)
    doc = json.loads(path.read_text())
    assert doc["pilot"] == "demo-belvedere" and doc["synthetic"] is True
    keys = {"outcome", "method", "estimate", "ci_low", "ci_high", "p_value", "scale"}
    for e in doc["estimates"]:
        assert keys <= set(e)
        assert e["scale"] in set(get_args(Scale))
        assert 0 < e["level"] < 1
    assert {p["outcome"] for p in doc["power"]} == {VAWG, ASB, REPORTS}


def test_mde_is_a_fall_and_plausible(evaluation):
    mde = evaluation.primary["mde"]
    assert 0 < mde.irr_fall < 1 and mde.pct_fall > 0


def test_inputs_not_modified(demo_pilot, tree_digest):
    before = tree_digest(demo_pilot.data_dir)
    cfg_before = demo_pilot.config_path.read_bytes()
    prepare(demo_pilot.config_path)  # the only step that reads the user's files
    assert tree_digest(demo_pilot.data_dir) == before
    assert demo_pilot.config_path.read_bytes() == cfg_before


def test_survey_did_covers_the_injected_change(evaluation, demo_pilot, tmp_path):
    """Demo survey: +8 points in the pilot area beyond the comparison areas (truth.json)."""
    from pilot_eval.pipeline import write_results

    true = demo_pilot.truth["survey"]["true_did"]
    sv = evaluation.survey
    assert sv is not None
    assert sv.result.ci_low <= true <= sv.result.ci_high
    assert 0 < sv.mde.mde < 1
    doc = json.loads(write_results(evaluation, tmp_path).read_text())
    assert doc["survey"]["scale"] == "difference_in_proportions"
    assert doc["survey"]["ci_low"] < doc["survey"]["estimate"] < doc["survey"]["ci_high"]
    # the crime estimates keep the count / ratio / quotient contract
    assert {e["scale"] for e in doc["estimates"]} <= set(get_args(Scale))


def _variant(demo_pilot, tmp_path, **changes):
    """A copy of the demo config (same data) with some fields changed."""
    import yaml

    raw = yaml.safe_load(demo_pilot.config_path.read_text())
    for dotted, value in changes.items():
        node = raw
        *path, last = dotted.split("__")
        for key in path:
            node = node[key]
        node[last] = value
    for key in ("crimes", "boundaries", "interventions", "survey", "population", "streetsafe"):
        if raw["data"].get(key):
            raw["data"][key] = str((demo_pilot.config_path.parent / raw["data"][key]).resolve())
    for comp in raw["intervention"].get("components", []):
        if comp.get("locations"):
            comp["locations"] = str((demo_pilot.config_path.parent / comp["locations"]).resolve())
    p = tmp_path / "variant.yml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    return p


def test_window_beyond_the_data_is_refused(demo_pilot, tmp_path):
    """The demo data end in 2025-06: 24 post months from 2024-04 would need up to 2026-03."""
    from pilot_eval.errors import DataValidationError

    cfg = _variant(demo_pilot, tmp_path, windows__post_months=24)
    with pytest.raises(DataValidationError, match=r"no police.uk file for 2025-07 to 2026-03"):
        prepare(cfg)


def test_a_missing_month_inside_the_window_is_refused(demo_pilot, tmp_path):
    """Delete one month's file from a copy of the data: it must not be read as zero crime."""
    import shutil

    from pilot_eval.errors import DataValidationError

    data = tmp_path / "police-uk"
    shutil.copytree(demo_pilot.data_dir / "police-uk", data)
    shutil.rmtree(data / "2023-02")
    cfg = _variant(demo_pilot, tmp_path, data__crimes=str(data))
    with pytest.raises(DataValidationError, match=r"no police.uk file for 2023-02 "):
        prepare(cfg)


def test_misspelt_crime_type_is_refused(demo_pilot, tmp_path):
    from pilot_eval.errors import DataValidationError

    outcomes = [{"name": "Violence", "crime_types": ["Violence and sexual offence"]}]
    with pytest.raises(DataValidationError, match="not a police.uk crime type") as ei:
        prepare(_variant(demo_pilot, tmp_path, outcomes=outcomes))
    assert "did you mean 'Violence and sexual offences'" in str(ei.value)


def test_pilot_area_without_crimes_is_refused(demo_pilot, tmp_path):
    """A 10 m square polygon as the pilot area holds no crimes at all."""
    import geopandas as gpd
    from shapely.geometry import box

    from pilot_eval.errors import DataValidationError

    poly = tmp_path / "tiny.geojson"
    gpd.GeoDataFrame(geometry=[box(549000, 178000, 549010, 178010)], crs="EPSG:27700").to_file(poly)
    # (no population file: its codes cannot name a polygon; see test_population_by_area.py)
    cfg = _variant(demo_pilot, tmp_path, treated={"polygon": str(poly)}, data__population=None)
    with pytest.raises(DataValidationError, match="no recorded"):
        prepare(cfg)
