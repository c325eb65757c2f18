"""Placebo-in-space: exact p-values by hand, the DiD log ratio, conventions and speed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pilot_eval.errors import DataValidationError, OptionError
from pilot_eval.inference import (
    did_log_ratio,
    panel_arrays,
    placebo_arrays,
    placebo_in_space,
    pre_period_dispersion,
)
from pilot_eval.results import Estimate
from pilot_eval.simulate import panel_from_array, simulate_panels


def _two_period(pre: list[float], post: list[float], treated: list[int]) -> pd.DataFrame:
    """A panel with one pre and one post month: counts are the totals."""
    n = len(pre)
    mask = np.zeros(n, dtype=bool)
    mask[treated] = True
    return panel_from_array(
        np.column_stack([pre, post]), treated=mask, post=np.array([False, True])
    )


# -- exact cases by hand -----------------------------------------------------------------------
def test_log_ratio_and_scale_by_hand():
    panel = _two_period([100, 50, 80, 40, 30], [60, 55, 84, 38, 33], treated=[0])
    res = placebo_in_space(panel)
    # treated A01: (60/100) / ((55+84+38+33)/(50+80+40+30)) = 0.6 / (210/200)
    assert res.log_ratio == pytest.approx(math.log(0.6 / 1.05), abs=1e-12)
    assert res.ratio == pytest.approx(0.6 / 1.05, abs=1e-12)
    assert res.se == pytest.approx(math.sqrt(1 / 100 + 1 / 60 + 1 / 200 + 1 / 210), abs=1e-12)
    assert res.statistic == pytest.approx(res.log_ratio / res.se)
    # every other unit gets the same construction with all others as its comparison
    row = res.statistics.set_index("assignment").loc["A03"]
    lr3 = math.log((84 / 80) / ((60 + 55 + 38 + 33) / (100 + 50 + 40 + 30)))
    assert row["log_ratio"] == pytest.approx(lr3, abs=1e-12)


def test_p_is_one_over_n_when_treated_is_most_extreme():
    panel = _two_period([100, 50, 80, 40, 30], [60, 55, 84, 38, 33], treated=[0])
    res = placebo_in_space(panel)
    assert res.rank == 1
    assert res.n_reference == 5
    assert res.p_one_sided == pytest.approx(1 / 5)
    assert res.p_two_sided == pytest.approx(1 / 5)
    assert res.min_p == pytest.approx(1 / 5)
    assert res.enumerated
    # the same data tested for a rise: the fall is the least extreme rise
    up = placebo_in_space(panel, direction="increase")
    assert up.rank == 5 and up.p_one_sided == pytest.approx(1.0)
    assert up.p_two_sided == pytest.approx(1 / 5)


def test_p_is_one_over_n_choose_n1_for_several_treated():
    pre = [100, 90, 50, 80, 40, 30, 60]
    post = [60, 50, 52, 82, 41, 29, 63]
    panel = _two_period(pre, post, treated=[0, 1])
    res = placebo_in_space(panel)
    assert res.n_reference == math.comb(7, 2) == 21
    assert res.enumerated
    assert res.rank == 1
    assert res.p_one_sided == pytest.approx(1 / 21)
    assert res.min_p == pytest.approx(1 / 21)
    assert len(res.statistics) == 21
    obs = res.statistics.loc[res.statistics["observed"]]
    assert list(obs["assignment"]) == ["A01+A02"]
    # pooled totals: (110/190) / (267/260)
    assert res.ratio == pytest.approx((110 / 190) / (267 / 260), abs=1e-12)


def test_sampled_assignments_use_phipson_smyth_and_never_zero():
    sim = simulate_panels(n_areas=30, n_treated=3, effect=0.3, seed=4)
    panel = sim.panel(0)
    res = placebo_in_space(panel, max_enumerate=100, n_draws=499, seed=11)
    assert not res.enumerated
    assert res.n_reference == 500
    assert res.min_p == pytest.approx(1 / 500)
    assert res.p_one_sided >= res.min_p > 0
    b = int(round(res.p_one_sided * 500)) - 1
    draws = res.statistics.iloc[1:]
    assert b == int((draws["statistic"] <= res.statistic + 1e-12).sum())
    again = placebo_in_space(panel, max_enumerate=100, n_draws=499, seed=11)
    assert again.p_one_sided == res.p_one_sided
    assert res.statistics["observed"].sum() == 1 and bool(res.statistics["observed"].iloc[0])


def test_rank_frame_is_consistent():
    sim = simulate_panels(seed=2, effect=0.8)
    res = placebo_in_space(sim.panel(0))
    st = res.statistics
    assert len(st) == 17 and st["observed"].sum() == 1
    assert int(st.loc[st["observed"], "rank"].iloc[0]) == res.rank
    assert res.p_one_sided == pytest.approx(res.rank / 17)
    np.testing.assert_allclose(st["ratio"], np.exp(st["log_ratio"]))


def test_array_api_is_vectorised_over_replications():
    sim = simulate_panels(n_reps=5, seed=3)
    arr = placebo_arrays(sim.counts, treated=sim.treated, post=sim.post)
    assert arr.p_one_sided.shape == (5,) and arr.statistic.shape == (5, 17)
    for r in range(5):
        res = placebo_in_space(sim.panel(r))
        assert res.p_one_sided == pytest.approx(arr.p_one_sided[r])
        assert res.statistic == pytest.approx(arr.observed_statistic[r])


# -- the DiD log ratio is the Poisson two-way FE estimate ----------------------------------
def _glm_twfe(panel: pd.DataFrame, period: str) -> float:
    d = panel.assign(tp=(panel["treated"] & panel["post"]).astype(float))
    x = pd.get_dummies(d[["area"]].assign(period=d[period].astype(str)), drop_first=True)
    x = sm.add_constant(x.astype(float).assign(tp=d["tp"]))
    fit = sm.GLM(d["count"].astype(float), x, family=sm.families.Poisson()).fit(tol=1e-14)
    return float(fit.params["tp"])


def test_two_period_poisson_twfe_equals_did_log_ratio():
    panel = _two_period([100, 50, 80, 40, 30], [60, 55, 84, 38, 33], treated=[0])
    res = placebo_in_space(panel)
    assert _glm_twfe(panel, "post") == pytest.approx(res.log_ratio, abs=1e-8)


def test_monthly_poisson_twfe_equals_did_log_ratio():
    # With one treated area and a full set of month effects, the Poisson TWFE DiD estimate is
    # exactly the ratio of ratios of totals.
    sim = simulate_panels(n_areas=6, n_pre=8, n_post=4, effect=0.7, seed=5)
    panel = sim.panel(0)
    res = placebo_in_space(panel)
    assert _glm_twfe(panel, "month") == pytest.approx(res.log_ratio, abs=1e-8)


# -- scale, zeros, inputs ----------------------------------------------------------------------
def test_quasipoisson_scale_matches_statsmodels_and_keeps_ranks():
    sim = simulate_panels(seed=6)
    panel = sim.panel(0)
    pois = placebo_in_space(panel)
    qp = placebo_in_space(panel, scale="quasipoisson")
    pa = panel_arrays(panel)
    pre = panel.loc[~panel["post"]]
    x = pd.get_dummies(pre[["area"]].assign(m=pre["month"].astype(str)), drop_first=True)
    fit = sm.GLM(
        pre["count"].astype(float),
        sm.add_constant(x.astype(float)),
        family=sm.families.Poisson(),
    ).fit(tol=1e-14)
    phi_sm = fit.pearson_chi2 / fit.df_resid
    assert qp.phi == pytest.approx(phi_sm, rel=1e-8)
    assert float(pre_period_dispersion(pa.counts, post=pa.post)) == pytest.approx(phi_sm)
    assert qp.se == pytest.approx(pois.se * math.sqrt(qp.phi))
    assert (qp.rank, qp.p_one_sided, qp.p_two_sided) == (
        pois.rank,
        pois.p_one_sided,
        pois.p_two_sided,
    )


def test_zero_totals_get_a_continuity_correction():
    lr, se = did_log_ratio(np.array([10.0, 0.0]), np.array([0.0, 5.0]), 100.0, 120.0)
    assert np.all(np.isfinite(lr)) and np.all(np.isfinite(se))
    assert lr[0] == pytest.approx(math.log((0.5 / 10.5) / (120.5 / 100.5)))
    panel = _two_period([10, 50, 0, 40], [0, 55, 3, 38], treated=[0])
    res = placebo_in_space(panel)
    assert np.isfinite(res.statistics["statistic"]).all()


def test_buffer_is_left_out_and_input_not_mutated():
    sim = simulate_panels(seed=7)
    panel = sim.panel(0)
    buffer = panel.loc[panel["area"] == "A01"].assign(area="BUFFER", group="buffer", count=999)
    with_buffer = pd.concat([panel, buffer], ignore_index=True)
    before = with_buffer.copy()
    a = placebo_in_space(panel)
    b = placebo_in_space(with_buffer)
    pd.testing.assert_frame_equal(with_buffer, before)
    assert (a.log_ratio, a.p_one_sided, a.n_units) == (b.log_ratio, b.p_one_sided, b.n_units)


def test_panel_problems_are_reported_plainly():
    sim = simulate_panels(seed=8)
    panel = sim.panel(0)
    with pytest.raises(DataValidationError, match="not one row per area"):
        placebo_in_space(panel.iloc[1:])
    with pytest.raises(DataValidationError, match="lacks column"):
        placebo_in_space(panel.drop(columns="post"))
    two = pd.concat([panel, panel.assign(outcome="other")])
    with pytest.raises(DataValidationError, match="choose one with outcome="):
        placebo_in_space(two)
    assert placebo_in_space(two, outcome="other").outcome == "other"
    with pytest.raises(DataValidationError, match="no treated area"):
        placebo_in_space(panel.assign(group="comparison"))
    with pytest.raises(OptionError, match="direction must be one of"):
        placebo_in_space(panel, direction="down")  # type: ignore[arg-type]


def test_result_records_and_summary():
    panel = _two_period([100, 50, 80, 40, 30], [60, 55, 84, 38, 33], treated=[0])
    res = placebo_in_space(panel)
    est = res.to_estimate(outcome="vawg")
    assert isinstance(est, Estimate)
    assert est.p_value == pytest.approx(0.2) and est.scale == "ratio"
    assert math.isnan(est.ci_low) and "no interval" in est.note
    tidy = res.tidy()
    assert len(tidy) == 1 and tidy.loc[0, "rank"] == 1
    text = res.summary()
    assert "p = 0.2" in text and "p = 0 " not in text and "largest fall" in text
    assert "significant" not in text
    with pytest.raises(Exception):  # noqa: B017 - frozen
        res.rank = 2  # type: ignore[misc]


def test_five_thousand_units():
    # Speed is measured in benchmarks/bench_inference.py, not asserted here.
    rng = np.random.default_rng(0)
    n, t = 5_000, 25
    counts = rng.poisson(rng.uniform(0.5, 30, size=(n, 1)), size=(n, t))
    treated = np.zeros(n, dtype=bool)
    treated[17] = True
    post = np.arange(t) >= 13
    arr = placebo_arrays(counts, treated=treated, post=post)
    assert arr.statistic.shape == (n,)
    panel = panel_from_array(counts, treated=treated, post=post)
    res = placebo_in_space(panel)
    assert res.n_reference == n and res.min_p == pytest.approx(1 / n)
