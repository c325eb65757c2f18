"""WDD family: published worked examples, a GLM cross-check, simulations, panel plumbing."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pilot_eval import columns as C
from pilot_eval.errors import DataValidationError, EstimationError, OptionError, PilotEvalError
from pilot_eval.estimators import (
    WDDResult,
    running_wdd,
    wdd_counts,
    wdd_harm_counts,
    wdd_scaled_counts,
    wdq_counts,
)
from pilot_eval.results import Estimate


# --- published worked examples -----------------------------------------------------------------
def test_philadelphia_example_wheeler_ratcliffe_2018():
    # Source: Wheeler & Ratcliffe (2018), Crime Science 7:11, Philadelphia foot-patrol example
    # (also ptools tests/testthat/test-wdd.R "Est & Variance Paper"): total WDD -118,
    # variance 1568, Z -2.98 (2 dp), 95 % CI -196 to -40 (rounded). Tolerance: exact for the
    # estimate and variance (integer arithmetic), the paper's rounding for Z and the CI.
    r = wdd_counts((308, 318), (207, 110), (150, 140), (178, 157), alpha=0.05)
    assert r.est_total == pytest.approx(-118, abs=1e-12)
    assert r.se_total == pytest.approx(math.sqrt(1568), rel=1e-12)
    assert round(r.z, 2) == -2.98
    assert round(r.ci_low) == -196 and round(r.ci_high) == -40
    assert r.has_displacement
    # local part: (110 - 207) - (318 - 308) = -107; displacement: (157 - 178) - (140 - 150) = -11
    assert r.est_local == -107 and r.est_displace == -11


def test_ptools_documentation_example_default_alpha():
    # Source: ptools ?wdd example `wdd_counts(c(20,20), c(20,10))`: -10, SE sqrt(70) = 8.3666,
    # 90 % CI -23.76 to 3.76 (default alpha = 0.1). Tolerance 5e-3 (printed to 2 dp).
    r = wdd_counts((20, 20), (20, 10))
    assert r.est_total == -10
    assert r.se_total == pytest.approx(8.3666, abs=5e-5)
    assert r.ci_low == pytest.approx(-23.76, abs=5e-3)
    assert r.ci_high == pytest.approx(3.76, abs=5e-3)
    assert r.alpha == 0.1 and r.level == pytest.approx(0.9)
    assert not r.has_displacement


def test_ptools_documentation_no_pre_period_p_value():
    # Source: ptools ?wdd example: `wdd_counts(c(0,20), c(0,10))`, two-tailed p = pnorm(Z)*2 "~0.068".
    # Tolerance 1e-3 (the documentation rounds to 3 dp).
    r = wdd_counts((0, 20), (0, 10))
    assert r.p_value == pytest.approx(0.068, abs=1e-3)


def test_ptools_unit_tests_local_displacement_total():
    # Source: ptools tests/testthat/test-wdd.R ("Local -10", "Displacement -10", "Total -20").
    assert wdd_counts((20, 20), (20, 10)).est_local == -10
    assert wdd_counts((20, 20), (20, 20), (20, 20), (20, 10)).est_displace == -10
    assert wdd_counts((20, 20), (20, 10), (20, 20), (20, 10)).est_total == -20


def test_time_weights_wheeler_2021_blog():
    # Source: Wheeler (2021-01-09) "The WDD test with different pre/post time periods" and ptools
    # test "Time Weights": two years pre, one post. Unweighted: -10, variance 250 (SE ~15.8);
    # per year with time_weights=(2, 1): -20, variance 20 + 80/4 + 50 + 100/4 = 115. Exact.
    raw = wdd_counts((100, 50), (80, 20), alpha=0.05)
    assert raw.est_total == -10 and raw.se_total**2 == pytest.approx(250)
    per_year = wdd_counts((100, 50), (80, 20), time_weights=(2, 1), alpha=0.05)
    assert per_year.est_total == pytest.approx(-20)
    assert per_year.se_total == pytest.approx(math.sqrt(115), rel=1e-12)


def test_area_weights_wheeler_2021_blog():
    # Source: Wheeler (2021-02-23) "The WDD test with different area sizes", values as in ptools
    # test "Area Weights": Est -99.69444444, SE 35.4280755, Z -2.813995483, CI -169.1321965 to
    # -30.25669241; and Wheeler's "Using weights in regression" post: local -91.9 (31.5).
    # Tolerance 1e-8 relative (the published values carry 9-10 significant digits).
    r = wdd_counts(
        (308, 318),
        (207, 110),
        (150, 140),
        (178, 157),
        area_weights=(0.9, 1.2, 1.6, 1.5),
        alpha=0.05,
    )
    got = [r.est_total, r.se_total, r.z, r.ci_low, r.ci_high]
    ref = [-99.69444444, 35.4280755, -2.813995483, -169.1321965, -30.25669241]
    np.testing.assert_allclose(got, ref, rtol=1e-8)
    assert round(r.est_local, 1) == -91.9 and round(r.se_local, 1) == 31.5


def test_crimede_coder_2025_example():
    # Source: Wheeler (2025) "Some extensions to the WDD statistic" (CRIME De-Coder blog):
    # control 100 -> 90, treated 100 -> 80: extra reduction 10 crimes, "the standard error is 19"
    # (sqrt(370) = 19.24). Tolerance: 0.5 (published rounded to the unit).
    r = wdd_counts((100, 90), (100, 80))
    assert r.est_total == -10
    assert r.se_total == pytest.approx(19, abs=0.5)


def test_wdd_in_wilson_comparison_post():
    # Source: Wheeler (2021-03-18) "Comparing the WDD vs the Wilson log IRR estimator":
    # treated 50 -> 30, control 60 -> 55: WDD = -15. Exact.
    assert wdd_counts((60, 55), (50, 30)).est_total == -15


def test_wdd_harm_ptools_cumulative_harm_example():
    # Source: Wheeler (2020-11-19) "Amending the WDD test to incorporate Harm Weights" and
    # ptools test "Cumulative Harm": HarmEst -1721, SE 304.10360077, Z -5.65925558,
    # CI -2317.03210507 to -1124.96789493 at alpha = 0.05. Tolerance 1e-5 relative (as ptools).
    pairs = [((133, 91), (130, 74)), ((388, 305), (327, 202)), ((148, 97), (398, 190))]
    pairs += [((86, 64), (144, 92)), ((94, 67), (183, 96))]
    res = [wdd_counts(c, t) for c, t in pairs]
    h = wdd_harm_counts(
        [r.est_local for r in res], [r.se_local for r in res], [3, 2, 5, 7, 10], alpha=0.05
    )
    np.testing.assert_allclose(
        [h.est, h.se, h.z, h.ci_low, h.ci_high],
        [-1721.0, 304.10360077, -5.65925558, -2317.03210507, -1124.96789493],
        rtol=1e-5,
    )
    assert len(h.components) == 5
    assert h.to_estimate(outcome="harm").scale == "count"


# --- independent cross-checks ------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore")  # saturated identity-link GLM: domain/separation notices
def test_wdd_equals_identity_link_poisson_glm():
    # Peer check (statsmodels): a saturated Poisson GLM with identity link on the 2x2 table has
    # interaction = WDD and Wald SE = sqrt(sum of counts) (Wheeler, "Using weights in regression").
    # Tolerance 1e-8.
    counts = {"t0": 207, "t1": 110, "c0": 308, "c1": 318}
    df = pd.DataFrame(
        {
            "y": [counts["t0"], counts["t1"], counts["c0"], counts["c1"]],
            "treat": [1, 1, 0, 0],
            "post": [0, 1, 0, 1],
        }
    )
    X = sm.add_constant(df[["treat", "post"]].assign(tp=df.treat * df.post))
    fam = sm.families.Poisson(link=sm.families.links.Identity())
    fit = sm.GLM(df["y"], X, family=fam).fit(tol=1e-12)
    r = wdd_counts((counts["c0"], counts["c1"]), (counts["t0"], counts["t1"]))
    assert r.est_total == pytest.approx(fit.params["tp"], abs=1e-8)
    assert r.se_total == pytest.approx(fit.bse["tp"], rel=1e-8)


def test_scaled_fixed_variance_equals_ptools_area_weights():
    # ptools semantics: scaling the control by k is area_weights = (1/k, 1, 1, 1); exact.
    ctrl, trt = (200, 180), (50, 30)
    k = 50 / 200
    a = wdd_scaled_counts(ctrl, trt, variance="fixed")
    b = wdd_counts(ctrl, trt, area_weights=(1 / k, 1, 1, 1))
    assert a.est_total == pytest.approx(b.est_total, abs=1e-12)
    assert a.se_total == pytest.approx(b.se_total, rel=1e-12)
    assert a.k_local == pytest.approx(k)


def test_scaled_wdd_is_minus_guerette_treated_net_effect():
    # Guerette (2009) TNE first bracket A0 (C1/C0) - A1 is the crimes prevented against the same
    # percentage counterfactual as the k-scaled WDD.
    ctrl, trt, buf = (240, 200), (90, 60), (70, 66)
    s = wdd_scaled_counts(ctrl, trt, ctrl, buf)
    q = wdq_counts(trt, buf, ctrl)
    assert s.est_local == pytest.approx(-q.treated_effect, abs=1e-12)
    assert s.est_total == pytest.approx(-q.total_net_effect, abs=1e-12)


def test_scaled_delta_variance_matches_simulation():
    # Monte Carlo (seeded): the sampling SD of T1 - T0 C1/C0 matches the delta-method SE within
    # 4 % (R = 4000; MC relative error of an SD ~ 1.1 %), and better than the fixed-k SE (which
    # ignores that k comes from the noisy T0 and C0).
    rng = np.random.default_rng(20240401)
    mu = dict(c0=400.0, c1=360.0, t0=100.0, t1=70.0)
    R = 4000
    draws = {k: rng.poisson(v, R).astype(float) for k, v in mu.items()}
    est = draws["t1"] - draws["t0"] * draws["c1"] / draws["c0"]
    se_delta = wdd_scaled_counts((mu["c0"], mu["c1"]), (mu["t0"], mu["t1"])).se_total
    se_fixed = wdd_scaled_counts(
        (mu["c0"], mu["c1"]), (mu["t0"], mu["t1"]), variance="fixed"
    ).se_total
    assert np.std(est, ddof=1) == pytest.approx(se_delta, rel=0.04)
    sd = np.std(est, ddof=1)
    assert abs(se_delta - sd) < abs(se_fixed - sd)


# --- simulations --------------------------------------------------------------------------------
def test_wdd_95_interval_coverage():
    # Seeded simulation, R = 2000 Poisson draws with a known true WDD of
    # (30 - 40) - (55 - 60) = -5 crimes: 95 % interval coverage within 93-97 % (MC SE ~0.5 %).
    rng = np.random.default_rng(12345)
    R = 2000
    c0, c1, t0, t1 = (rng.poisson(m, R) for m in (60, 55, 40, 30))
    covered = 0
    for i in range(R):
        r = wdd_counts((c0[i], c1[i]), (t0[i], t1[i]), alpha=0.05)
        covered += r.ci_low <= -5 <= r.ci_high
    assert 0.93 <= covered / R <= 0.97


# --- behaviour and messages --------------------------------------------------------------------
def test_result_is_frozen_and_tidy_has_one_row_per_term():
    r = wdd_counts((308, 318), (207, 110), (150, 140), (178, 157))
    with pytest.raises(AttributeError):
        r.est_total = 0  # type: ignore[misc]
    t = r.tidy()
    assert list(t["term"]) == ["local", "displacement", "total"]
    assert set(t["scale"]) == {"count"}
    assert t.loc[t.term == "total", "estimate"].item() == r.est_total


def test_to_estimate_rows():
    r = wdd_counts((308, 318), (207, 110), alpha=0.05)
    e = r.to_estimate(outcome="violence", role="headline")
    assert isinstance(e, Estimate)
    assert (e.scale, e.level, e.role, e.method) == ("count", 0.95, "headline", "wdd")
    assert e.estimate == r.est_total and 0 < e.p_value <= 1
    loc = r.to_estimate(outcome="violence", term="local")
    assert loc.method == "wdd_local"


def test_summary_wording():
    big = wdd_counts((3000, 3000), (3000, 1000))
    assert "p < 0.001" in big.summary() and "p = 0" not in big.summary()
    assert big.to_estimate(outcome="x").p_value > 0  # never exactly 0 in results.json
    small = wdd_counts((20, 20), (20, 18))
    s = small.summary()
    assert "cannot distinguish" in s and "no effect" not in s.lower()
    assert "interval" in s


def test_size_mismatch_note_and_dispersion():
    r = wdd_counts((400, 380), (40, 30))
    assert "wdd_scaled" in r.note
    assert wdd_counts((40, 38), (40, 30)).note == ""
    widened = wdd_counts((40, 38), (40, 30), dispersion=2.0)
    assert widened.se_total == pytest.approx(math.sqrt(2) * wdd_counts((40, 38), (40, 30)).se_total)
    assert "overdispersion" in widened.summary()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(control=(10,), treated=(10, 5)),
        dict(control=(10, -1), treated=(10, 5)),
        dict(control="10,5", treated=(10, 5)),
    ],
)
def test_bad_inputs_raise_value_errors(kwargs):
    with pytest.raises(DataValidationError) as ei:
        wdd_counts(**kwargs)
    assert isinstance(ei.value, (PilotEvalError, ValueError))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(control=(10, 5), treated=(10, 5), alpha=1.5),
        dict(control=(10, 5), treated=(10, 5), time_weights=(1, 0)),
        dict(control=(10, 5), treated=(10, 5), area_weights=(1, 1)),
        dict(control=(10, 5), treated=(10, 5), dispersion=0),
    ],
)
def test_bad_options_raise_option_error(kwargs):
    with pytest.raises(OptionError) as ei:
        wdd_counts(**kwargs)
    assert isinstance(ei.value, (PilotEvalError, ValueError))


def test_all_zero_counts_raise():
    with pytest.raises(EstimationError):
        wdd_counts((0, 0), (0, 0))
    with pytest.raises(EstimationError, match="no crimes in the pre-period"):
        wdd_scaled_counts((0, 5), (3, 2))
    with pytest.raises(OptionError, match="variance must be one of 'delta', 'fixed'"):
        wdd_scaled_counts((10, 5), (3, 2), variance="exact")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError):
        wdd_harm_counts([1, 2], [1], [1, 1])


# --- running WDD over the panel ----------------------------------------------------------------
@pytest.fixture
def wdd_panel(sim_panel):
    """One treated, two comparison and (optionally) one buffer area; 24 + 12 months."""

    def make(buffer: bool = True) -> pd.DataFrame:
        return sim_panel(
            seed=7, buffer=buffer, outcome="vawg", n_areas=4, n_pre=24, n_post=12, effect=0.7
        )

    return make


def _totals(panel: pd.DataFrame, group: str, months_post: int) -> tuple[float, float]:
    g = panel[panel[C.GROUP] == group]
    pre = g.loc[~g[C.POST], C.COUNT].sum()
    post_months = sorted(g.loc[g[C.POST], C.MONTH].unique())[:months_post]
    post = g.loc[g[C.MONTH].isin(post_months), C.COUNT].sum()
    return float(pre), float(post)


@pytest.mark.parametrize("j", [1, 6, 12])
def test_running_wdd_matches_wdd_with_time_weights(wdd_panel, j):
    panel = wdd_panel(buffer=False)
    before = panel.copy(deep=True)
    r = running_wdd(panel, outcome="vawg")
    pd.testing.assert_frame_equal(panel, before)  # input not modified
    row = r.frame.iloc[j - 1]
    t, c = _totals(panel, "treated", j), _totals(panel, "comparison", j)
    # ptools time weights (pre length / post length, 1) put the WDD in crimes over j months
    ref = wdd_counts(c, t, time_weights=(24 / j, 1), alpha=0.1)
    assert row["est_total"] == pytest.approx(ref.est_total, abs=1e-9)
    assert row["se_total"] == pytest.approx(ref.se_total, rel=1e-12)
    assert row["ci_low"] == pytest.approx(ref.ci_low, abs=1e-9)
    assert not r.has_buffer and "No 'buffer' rows" in r.note


def test_running_wdd_shared_control_variance(wdd_panel):
    # Total = local + displacement share the control, so Var counts it twice:
    # T1 + s^2 T0 + B1 + s^2 B0 + 4 C1 + 4 s^2 C0 with s = j / P (closed form).
    panel = wdd_panel()
    r = running_wdd(panel, outcome="vawg")
    j = 12
    row = r.frame.iloc[j - 1]
    (t0, t1), (b0, b1), (c0, c1) = (
        _totals(panel, g, j) for g in ("treated", "buffer", "comparison")
    )
    s = j / 24
    var = t1 + s * s * t0 + b1 + s * s * b0 + 4 * c1 + 4 * s * s * c0
    assert row["se_total"] ** 2 == pytest.approx(var, rel=1e-12)
    assert row["est_displace"] == pytest.approx((b1 - s * b0) - (c1 - s * c0))
    assert r.has_buffer


def test_running_wdd_scaled_matches_wdd_scaled_terms(wdd_panel):
    panel = wdd_panel()
    r = running_wdd(panel, outcome="vawg", scale_control=True, alpha=0.05)
    row = r.frame.iloc[-1]
    t, b, c = (_totals(panel, g, 12) for g in ("treated", "buffer", "comparison"))
    ref = wdd_scaled_counts(c, t, c, b, alpha=0.05)
    assert row["est_local"] == pytest.approx(ref.est_local, abs=1e-9)
    assert row["se_local"] == pytest.approx(ref.se_local, rel=1e-12)
    assert row["est_displace"] == pytest.approx(ref.est_displace, abs=1e-9)
    assert row["se_displace"] == pytest.approx(ref.se_displace, rel=1e-12)
    # shared control: positive covariance, so the total's variance exceeds the sum
    assert row["se_total"] ** 2 > ref.se_local**2 + ref.se_displace**2
    assert "k =" in r.note
    e = r.to_estimate()
    assert e.method == "running_wdd_scaled" and e.outcome == "vawg"
    assert len(r.tidy()) == 12


def test_running_wdd_summary_and_errors(wdd_panel):
    panel = wdd_panel()
    r = running_wdd(panel, outcome="vawg")
    assert "monitoring" in r.summary()
    with pytest.raises(DataValidationError, match="not in the panel"):
        running_wdd(panel, outcome="robbery")
    with pytest.raises(DataValidationError, match="control_group"):
        running_wdd(panel, outcome="vawg", control_group="synthetic")
    with pytest.raises(DataValidationError, match="missing column"):
        running_wdd(panel.drop(columns=[C.POST]), outcome="vawg")
    bad = panel.copy()
    bad.loc[bad.index[0], C.POST] = True  # one area flags a pre month as post
    with pytest.raises(DataValidationError, match="post"):
        running_wdd(bad, outcome="vawg")
    with pytest.raises(EstimationError):
        running_wdd(panel.assign(**{C.POST: False}), outcome="vawg")


def test_wddresult_type():
    assert isinstance(wdd_counts((1, 2), (3, 4)), WDDResult)
