"""The real Belvedere ward config end to end, on the MPS VAWG table in ../shared.

Skipped with a reason when ../shared is absent (a fresh clone still passes).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from shared_data import need_shared

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "pilots" / "belvedere-ward-vawg.yml"

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def evaluation():
    need_shared("data/mps/vawg-offences.parquet", "data/boundaries/bexley_wards_2018.geojson")
    from pilot_eval.pipeline import evaluate, prepare

    return evaluate(prepare(CONFIG))


def test_belvedere_against_the_other_16_wards(evaluation):
    prep = evaluation.prepared
    groups = prep.areas.set_index("area")["group"]
    assert groups["E05011218"] == "treated"
    assert (groups == "comparison").sum() == 16
    assert prep.panel["month"].nunique() == 48


def test_headline_is_one_treated_area_inference_with_real_levels(evaluation):
    block = evaluation.primary
    pl = block["placebo"]
    # 17 wards, one treated: the ranking's floor is 1/17 and the placebo interval's level 15/17
    assert pl.n_reference == 17 and math.isclose(pl.min_p, 1 / 17)
    by = {e.method: e for e in block.estimates}
    assert math.isclose(by["placebo_in_space"].level, 15 / 17)
    assert by["conformal"].level >= 0.95
    for e in block.estimates:
        assert e.ci_low <= e.estimate <= e.ci_high
    # the conformal and placebo estimates are the same DiD ratio (Poisson TWFE = 2x2 log ratio)
    assert math.isclose(by["conformal"].estimate, by["placebo_in_space"].estimate, rel_tol=1e-9)
    assert not any("cluster" in m for m in by)


def test_the_illustrative_start_is_said(evaluation):
    from pilot_eval.report import all_sections, build_context

    ctx = build_context(evaluation)
    assert ctx.illustrative and "illustrative" in ctx.title.lower()
    summary = all_sections(ctx)[0].words()
    assert "April 2024 (an illustrative date)" in summary
