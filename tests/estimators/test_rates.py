"""E-test, log IRR, Poisson z and the dispersion test: references, peer checks, simulations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.rates import etest_poisson_2indep

from pilot_eval.errors import DataValidationError, EstimationError, OptionError
from pilot_eval.estimators import dispersion_test, e_test, log_irr_counts, poisson_z


# --- E-test ------------------------------------------------------------------------------------
def test_e_test_krishnamoorthy_thomson_examples():
    # Source: Krishnamoorthy & Thomson (2004), JSPI 119:23-35, examples reproduced in ptools
    # tests/testthat/test-etest.R: e_test(0, 3) = 0.0884 (tolerance 5e-4, as ptools) and
    # e_test(6, 2) = 0.1749 (4 dp); ptools' value to 7 dp is 0.1748748.
    assert e_test(0, 3) == pytest.approx(0.0884, abs=5e-4)
    assert round(e_test(6, 2), 4) == 0.1749
    assert e_test(6, 2) == pytest.approx(0.1748748, abs=5e-8)


def test_e_test_wheeler_examples():
    # Source: Wheeler (2018-04-29) "Testing changes in short run crime patterns: the Poisson
    # e-test": 25 robberies against 16, E-test p "rounded to 0.165" (tolerance 5e-4);
    # ptools ?wdd: e_test(20, 10) "~0.069" (tolerance 1e-3).
    assert e_test(25, 16) == pytest.approx(0.165, abs=5e-4)
    assert e_test(20, 10) == pytest.approx(0.069, abs=1e-3)


def test_e_test_ptools_documented_properties():
    # ptools ?e_test: order does not matter when d = 0; for small N, rates give the same p-value
    # (e_test(3,0) vs e_test(3,0,2,2)); never above 1.
    assert e_test(6, 2) == pytest.approx(e_test(2, 6), abs=1e-14)
    assert e_test(3, 0) == pytest.approx(e_test(3, 0, 2, 2), abs=1e-12)
    assert e_test(20, 20) <= 1.0
    assert e_test(20, 20) == pytest.approx(1.0, abs=1e-9)  # equal counts: nothing is more usual


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"),
    [(6, 1, 2, 1), (10, 2, 3, 1), (7, 3.5, 20, 6), (0, 2, 5, 1), (30, 12, 12, 6), (400, 1, 350, 1)],
)
def test_e_test_matches_statsmodels(k1, n1, k2, n2):
    # Peer check: statsmodels etest_poisson_2indep(method="score", compare="diff") is the same
    # pooled-variance E-test (Krishnamoorthy & Thomson 2004). Tolerance 1e-10.
    ref = etest_poisson_2indep(k1, n1, k2, n2, method="score", compare="diff")[1]
    assert e_test(k1, k2, n1, n2) == pytest.approx(ref, abs=1e-10)


def test_e_test_size_under_null():
    # Seeded simulation: under equal rates (4 per period each) the E-test rejects at 5 % no more
    # often than 5 % + 2.33 MC standard errors (one-sided 99 %), R = 2000. K&T (2004) report the
    # E-test's size seldom exceeds the nominal level.
    rng = np.random.default_rng(2004)
    R = 2000
    k1, k2 = rng.poisson(4.0, R), rng.poisson(4.0, R)
    pairs, inverse = np.unique(np.c_[k1, k2], axis=0, return_inverse=True)
    pv = np.array([e_test(a, b) if a + b > 0 else 1.0 for a, b in pairs])[inverse.ravel()]
    rate = float(np.mean(pv < 0.05))
    assert rate <= 0.05 + 2.33 * math.sqrt(0.05 * 0.95 / R)


def test_e_test_errors():
    with pytest.raises(EstimationError, match="both counts are zero"):
        e_test(0, 0)
    with pytest.raises(DataValidationError):
        e_test(3, -2)
    with pytest.raises(DataValidationError):
        e_test(3, 3, 1, -1)
    with pytest.raises(EstimationError, match="too big"):
        e_test(2_000_000, 2_000_100)


# --- log IRR ------------------------------------------------------------------------------------
def test_log_irr_wheeler_2021_example():
    # Source: Wheeler (2021-03-18) "Comparing the WDD vs the Wilson log IRR estimator":
    # treated 50 -> 30, control 60 -> 55: log IRR -0.4238142, IRR 0.6545455. Tolerance 5e-8.
    r = log_irr_counts((60, 55), (50, 30))
    assert r.est == pytest.approx(-0.4238142, abs=5e-8)
    assert r.irr == pytest.approx(0.6545455, abs=5e-8)
    assert r.pct_change == pytest.approx(-34.54545, abs=1e-4)


@pytest.mark.filterwarnings("ignore")  # saturated GLM: zero residual df notices
@pytest.mark.parametrize("counts", [(60, 55, 50, 30), (308, 318, 207, 110), (12, 30, 9, 4)])
def test_log_irr_matches_poisson_glm(counts):
    # Peer check (statsmodels): Poisson GLM, log link, y ~ treat * post on the same four counts;
    # the interaction's estimate and Wald SE equal Wilson's (2022) log RIRR and SE. Tolerance 1e-8.
    c0, c1, t0, t1 = counts
    df = pd.DataFrame({"y": [c0, c1, t0, t1], "treat": [0, 0, 1, 1], "post": [0, 1, 0, 1]})
    X = sm.add_constant(df[["treat", "post"]].assign(tp=df.treat * df.post))
    fit = sm.GLM(df["y"], X, family=sm.families.Poisson()).fit(tol=1e-14)
    r = log_irr_counts((c0, c1), (t0, t1))
    assert r.est == pytest.approx(fit.params["tp"], abs=1e-8)
    assert r.se == pytest.approx(fit.bse["tp"], abs=1e-8)
    lo, hi = np.exp(fit.conf_int(alpha=0.05).loc["tp"])
    assert (r.ci_low, r.ci_high) == pytest.approx((lo, hi), rel=1e-7)


def test_log_irr_95_interval_coverage():
    # Seeded simulation, R = 2000: true ratio (24/40) / (57/60) = 0.6316; 95 % intervals cover it
    # 93-97 % of the time (MC SE ~0.5 %).
    rng = np.random.default_rng(31)
    R = 2000
    c0, c1, t0, t1 = (rng.poisson(m, R) for m in (60, 57, 40, 24))
    true = (24 / 40) / (57 / 60)
    covered = 0
    for i in range(R):
        r = log_irr_counts((c0[i], c1[i]), (t0[i], t1[i]), alpha=0.05, continuity=0.5)
        covered += r.ci_low <= true <= r.ci_high
    assert 0.93 <= covered / R <= 0.97


def test_log_irr_zeros_dispersion_and_estimate():
    with pytest.raises(EstimationError, match="continuity"):
        log_irr_counts((10, 0), (5, 3))
    r = log_irr_counts((10, 0), (5, 3), continuity=0.5)
    assert r.irr == pytest.approx((3.5 / 5.5) / (0.5 / 10.5))
    assert "0.5 was added" in r.note
    base = log_irr_counts((60, 55), (50, 30))
    wide = log_irr_counts((60, 55), (50, 30), dispersion=3.0)
    assert wide.se == pytest.approx(math.sqrt(3.0) * base.se)
    assert "overdispersion" in wide.summary()
    e = base.to_estimate(outcome="vawg", role="headline")
    assert (e.scale, e.estimate, e.method) == ("ratio", base.irr, "log_irr")
    s = base.summary()
    assert "cannot distinguish" in s and "includes 1" in s and "no effect" not in s
    assert base.tidy()["irr"].item() == base.irr


# --- Poisson z -----------------------------------------------------------------------------------
def test_poisson_z_wheeler_example():
    # Source: Wheeler (2018-04-29): 25 robberies against a historical average of 16:
    # 2 * (sqrt(25) - sqrt(16)) = 2. Exact; two-sided normal p = 0.0455.
    r = poisson_z(25, 16)
    assert r.z == 2.0 and r.change == 9
    assert r.p_value == pytest.approx(2 * stats.norm.sf(2.0), rel=1e-12)
    # past taken as a single noisy period: the variance of the difference doubles
    assert poisson_z(25, 16, past_periods=1).z == pytest.approx(2 / math.sqrt(2))
    assert "25 crimes" in r.summary()


# --- dispersion ----------------------------------------------------------------------------------
def test_dispersion_test_matches_auxiliary_ols_and_glm_pearson():
    # Peer check: the Cameron-Trivedi (1990) statistic is the t-ratio of an OLS of
    # ((y - mu)^2 - y) / mu on mu without intercept (statsmodels OLS); the Pearson dispersion is
    # statsmodels GLM's pearson_chi2 / df_resid for the same Poisson fit. Tolerance 1e-10.
    rng = np.random.default_rng(5)
    x = rng.normal(size=150)
    y = rng.negative_binomial(3, 3 / (3 + np.exp(1 + 0.4 * x)))
    X = sm.add_constant(x)
    fit = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    mu = fit.fittedvalues
    r = dispersion_test(y, mu, n_params=2)
    aux = sm.OLS(((y - mu) ** 2 - y) / mu, mu).fit()
    assert r.ct_alpha == pytest.approx(aux.params[0], rel=1e-10)
    assert r.ct_z == pytest.approx(aux.tvalues[0], rel=1e-10)
    assert r.dispersion == pytest.approx(fit.pearson_chi2 / fit.df_resid, rel=1e-10)
    r1 = dispersion_test(y, mu, n_params=2, alternative="nb1")
    aux1 = sm.OLS(((y - mu) ** 2 - y) / mu, np.ones_like(mu)).fit()
    assert r1.ct_z == pytest.approx(aux1.tvalues[0], rel=1e-10)


def test_dispersion_test_size_and_power():
    # Seeded simulation, 300 data sets of n = 120 counts with known mean 8: under Poisson the
    # one-sided 5 % CT test rejects <= 5 % + 2.33 MC SE; under NB2 with a = 0.3 it rejects in
    # > 90 % of data sets.
    rng = np.random.default_rng(1990)
    R, n, mu = 300, 120, 8.0
    fitted = np.full(n, mu)
    pois = [dispersion_test(rng.poisson(mu, n), fitted).overdispersed for _ in range(R)]
    assert np.mean(pois) <= 0.05 + 2.33 * math.sqrt(0.05 * 0.95 / R)
    size = 1 / 0.3
    nb = [
        dispersion_test(rng.negative_binomial(size, size / (size + mu), n), fitted).overdispersed
        for _ in range(R)
    ]
    assert np.mean(nb) > 0.9


def test_dispersion_result_reporting():
    rng = np.random.default_rng(8)
    y = rng.negative_binomial(2, 2 / (2 + 10.0), 200)
    r = dispersion_test(y, np.full(200, y.mean()))
    assert r.overdispersed and r.se_inflation == pytest.approx(math.sqrt(r.dispersion))
    assert "too narrow" in r.summary()
    assert list(r.tidy()["term"]) == ["pearson_dispersion", "cameron_trivedi_nb2"]
    with pytest.raises(DataValidationError):
        dispersion_test([1, 2, 3], [1, 2])
    with pytest.raises(DataValidationError):
        dispersion_test([1, 2, 3], [1, 0, 2])
    with pytest.raises(OptionError, match="Did you mean 'nb2'"):
        dispersion_test([1, 2, 3], [1, 2, 3], alternative="nb3")  # type: ignore[arg-type]


def test_panel_dispersion_test_recovers_simulated_overdispersion():
    """Quasi-Poisson phi of a simulated NB panel matches the simulated variance ratio.

    simulate_panels with variance_ratio fixed at 2.0 draws counts whose variance is 2x the mean
    (NB1-like by construction), so phi should be near 2 (MC tolerance 0.3 for 17 x 48 cells);
    with Poisson counts (ratio 1) it should be near 1 and not flagged.
    """
    from pilot_eval.estimators.rates import panel_dispersion_test
    from pilot_eval.simulate import simulate_panels

    over = simulate_panels(variance_ratio=(2.0, 2.0), n_reps=1, seed=3).panel(0)
    res = panel_dispersion_test(over, outcome=over["outcome"].iloc[0])
    assert abs(res.dispersion - 2.0) < 0.3
    assert res.overdispersed
    pois = simulate_panels(variance_ratio=(1.0, 1.0), n_reps=1, seed=3).panel(0)
    res1 = panel_dispersion_test(pois, outcome=pois["outcome"].iloc[0])
    assert abs(res1.dispersion - 1.0) < 0.2
