"""Minimum detectable effects: closed forms, a statsmodels cross-check, power simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.rates import power_poisson_ratio_2indep

from pilot_eval.errors import DataValidationError, OptionError
from pilot_eval.estimators import (
    log_irr_counts,
    mde_log_irr,
    mde_proportion_did,
    mde_wdd,
    wdd_counts,
    wdd_scaled_counts,
)

Z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)  # two-sided 5 %, 80 % power
PLAN = dict(treated_pre=120, control_pre=150, pre_months=24, post_months=12)
R = 4000
# Simulated power must be within 0.03 of 0.80: ~4.7 MC standard errors at R = 4000, plus room
# for the normal approximation the MDE rests on.
TOL = 0.03


def _rejection_rate(pvalues: np.ndarray, signs: np.ndarray, direction: int) -> float:
    return float(np.mean((pvalues < 0.05) & (np.sign(signs) == direction)))


# --- closed forms --------------------------------------------------------------------------------
def test_mde_wdd_solves_its_defining_equation():
    # delta = z * sqrt(T1 - delta + m^2 T0 + C1 + m^2 C0), m = 12/24 (closed form, exact)
    r = mde_wdd(**PLAN)
    m = 0.5
    t1, c1 = 120 * m, 150 * m
    v = m * m * 120 + c1 + m * m * 150
    assert r.crimes_fall == pytest.approx(Z * math.sqrt(t1 - r.crimes_fall + v), rel=1e-12)
    assert r.crimes_rise == pytest.approx(Z * math.sqrt(t1 + r.crimes_rise + v), rel=1e-12)
    assert r.expected_treated_post == t1
    assert r.se_null == pytest.approx(math.sqrt(t1 + v))
    assert r.pct_fall == pytest.approx(100 * r.crimes_fall / t1)


def test_mde_log_irr_large_count_limit_is_closed_form():
    # With huge counts se(theta) ~ se(1), so the MDE tends to exp(+-(z_a + z_b) se_null).
    r = mde_log_irr(treated_pre=2e6, control_pre=3e6, pre_months=24, post_months=12)
    assert r.irr_fall == pytest.approx(math.exp(-Z * r.se_null), rel=1e-5)
    assert r.irr_rise == pytest.approx(math.exp(Z * r.se_null), rel=1e-5)


def test_mde_log_irr_agrees_with_statsmodels_power_in_the_no_control_limit():
    # Peer check: with an enormous control the log-IRR test is the two-sample Poisson ratio test
    # of post vs pre treated rates. statsmodels power_poisson_ratio_2indep (Wald on the log ratio,
    # variance at the alternative) gives 80 % power at our one-sided MDE. Tolerance 1e-4.
    r = mde_log_irr(
        treated_pre=120, control_pre=1e12, pre_months=24, post_months=12, two_sided=False
    )
    rate = 120 / 24
    pw = power_poisson_ratio_2indep(
        rate * r.irr_fall,
        rate,
        nobs1=12,
        nobs_ratio=2,
        value=1,
        alternative="smaller",
        method_var="alt",
        return_results=False,
    )
    assert pw == pytest.approx(0.8, abs=1e-4)
    pw_rise = power_poisson_ratio_2indep(
        rate * r.irr_rise,
        rate,
        nobs1=12,
        nobs_ratio=2,
        value=1,
        alternative="larger",
        method_var="alt",
        return_results=False,
    )
    assert pw_rise == pytest.approx(0.8, abs=1e-4)


def test_mde_proportion_closed_form():
    # MDE = (z_a + z_b) sqrt(deff [p(1-p)(1/n1 + 1/n2) + p(1-p)(1/n3 + 1/n4)]) (exact).
    r = mde_proportion_did(
        p_treated=0.4,
        n_treated_pre=300,
        n_treated_post=300,
        n_control_pre=600,
        n_control_post=600,
        design_effect=1.5,
    )
    se = math.sqrt(1.5 * 0.24 * (2 / 300 + 2 / 600))
    assert r.mde == pytest.approx(Z * se, rel=1e-12)
    assert r.mde_points == pytest.approx(100 * r.mde)


# --- simulations (seeded) ------------------------------------------------------------------------
def test_wdd_power_at_mde_by_simulation():
    # Simulate Poisson counts with the treated post mean lowered by the MDE and test with wdd_counts()
    # (time weights put it in crimes over the post period): power ~ 80 %.
    r = mde_wdd(**PLAN)
    rng = np.random.default_rng(101)
    t0, c0 = rng.poisson(120, R), rng.poisson(150, R)
    t1, c1 = rng.poisson(60 - r.crimes_fall, R), rng.poisson(75, R)
    res = [
        wdd_counts((c0[i], c1[i]), (t0[i], t1[i]), time_weights=(2, 1), alpha=0.05)
        for i in range(R)
    ]
    p = np.array([x.p_value for x in res])
    est = np.array([x.est_total for x in res])
    assert _rejection_rate(p, est, -1) == pytest.approx(0.8, abs=TOL)


def test_scaled_wdd_power_at_mde_by_simulation():
    plan = dict(PLAN, control_pre=600)
    r = mde_wdd(**plan, scale_control=True)
    plain = mde_wdd(**plan)
    # scaling a big control buys power: unscaled, no fall is detectable at all here
    assert math.isnan(plain.crimes_fall) and r.crimes_fall < 60
    rng = np.random.default_rng(202)
    t0, c0 = rng.poisson(120, R), rng.poisson(600, R)
    t1, c1 = rng.poisson(60 - r.crimes_fall, R), rng.poisson(300, R)
    res = [wdd_scaled_counts((c0[i], c1[i]), (t0[i], t1[i]), alpha=0.05) for i in range(R)]
    p = np.array([x.p_value for x in res])
    est = np.array([x.est_total for x in res])
    assert _rejection_rate(p, est, -1) == pytest.approx(0.8, abs=TOL)


@pytest.mark.parametrize("direction", [-1, 1])
def test_log_irr_power_at_mde_by_simulation(direction):
    r = mde_log_irr(**PLAN)
    theta = r.irr_fall if direction < 0 else r.irr_rise
    rng = np.random.default_rng(303 + direction)
    t0, c0 = rng.poisson(120, R), rng.poisson(150, R)
    t1, c1 = rng.poisson(60 * theta, R), rng.poisson(75, R)
    res = [log_irr_counts((c0[i], c1[i]), (t0[i], t1[i]), continuity=0.5) for i in range(R)]
    p = np.array([x.p_value for x in res])
    est = np.array([x.est for x in res])
    assert _rejection_rate(p, est, direction) == pytest.approx(0.8, abs=TOL)


def test_proportion_power_at_mde_by_simulation():
    # Binomial draws (deff 1) with the treated post share raised by the MDE; the z-test on the
    # difference-in-differences with plug-in variance rejects ~80 % of the time.
    n = dict(n_treated_pre=250, n_treated_post=250, n_control_pre=500, n_control_post=500)
    r = mde_proportion_did(p_treated=0.45, **n)
    rng = np.random.default_rng(404)
    sizes = [250, 250, 500, 500]
    probs = [0.45, 0.45 + r.mde, 0.45, 0.45]
    ph = [rng.binomial(k, q, R) / k for k, q in zip(sizes, probs, strict=True)]
    did = (ph[1] - ph[0]) - (ph[3] - ph[2])
    se = np.sqrt(sum(p * (1 - p) / k for p, k in zip(ph, sizes, strict=True)))
    power = np.mean(did / se > stats.norm.ppf(0.975))
    assert power == pytest.approx(0.8, abs=TOL)


# --- behaviour -----------------------------------------------------------------------------------
def test_dispersion_and_sidedness_move_the_mde_the_right_way():
    base = mde_wdd(**PLAN)
    assert mde_wdd(**PLAN, dispersion=2.0).crimes_fall > base.crimes_fall
    assert mde_wdd(**PLAN, two_sided=False).crimes_fall < base.crimes_fall
    big = dict(treated_pre=2e6, control_pre=3e6, pre_months=24, post_months=12)
    a, b = mde_log_irr(**big), mde_log_irr(**big, dispersion=4.0)
    assert b.se_null == pytest.approx(2 * a.se_null, rel=1e-12)
    assert math.log(b.irr_rise) == pytest.approx(2 * math.log(a.irr_rise), rel=5e-3)


def test_undetectable_fall_is_nan_with_plain_message():
    r = mde_wdd(treated_pre=3, control_pre=400, pre_months=24, post_months=12)
    assert math.isnan(r.crimes_fall)
    assert "no reduction is reliably detectable" in r.summary()
    q = mde_log_irr(treated_pre=4, control_pre=40, pre_months=24, post_months=12)
    assert math.isnan(q.irr_fall) and q.irr_rise > 1
    assert "no fall" in q.summary()


def test_summaries_and_tidy():
    r = mde_log_irr(**PLAN)
    s = r.summary()
    assert "80 % power" in s and f"{r.pct_fall:.0f} %" in s
    assert list(r.tidy()["term"]) == ["mde_fall", "mde_rise"]
    assert (
        "percentage points"
        in mde_proportion_did(
            p_treated=0.5,
            n_treated_pre=100,
            n_treated_post=100,
            n_control_pre=100,
            n_control_post=100,
        ).summary()
    )


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        (dict(PLAN, power=1.2), OptionError),
        (dict(PLAN, alpha=0), OptionError),
        (dict(PLAN, treated_pre=0), DataValidationError),
        (dict(PLAN, pre_months=-3), OptionError),
    ],
)
def test_bad_inputs(kwargs, error):
    # Bad options (power, alpha, period lengths) raise OptionError; bad data DataValidationError.
    with pytest.raises(error):
        mde_wdd(**kwargs)


def test_bad_proportion_inputs():
    with pytest.raises(DataValidationError):
        mde_proportion_did(
            p_treated=1.0, n_treated_pre=1, n_treated_post=1, n_control_pre=1, n_control_post=1
        )
