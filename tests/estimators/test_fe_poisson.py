"""The Poisson fit with the area effects concentrated out equals the fit with area dummies.

Reference: statsmodels GLM (Poisson family) on ``[X | intercept | area dummies]``, i.e. the
fit :func:`pilot_eval.estimators._common.fit_count_glm` makes, on seeded panels (balanced,
unbalanced, over-dispersed). Tolerances: coefficients 1e-7 absolute, covariances 1e-6
relative (both fits stop at their own convergence tolerances).
"""

from __future__ import annotations

import numpy as np
import pytest

from pilot_eval.errors import EstimationError
from pilot_eval.estimators._common import fit_count_glm, fit_fe_poisson


def _panel(n_areas: int, n_months: int, *, seed: int, drop: float = 0.0, dispersion: float = 1.0):
    rng = np.random.default_rng(seed)
    area = np.repeat(np.arange(n_areas), n_months)
    month = np.tile(np.arange(n_months), n_areas)
    treated = area < 2
    post = month >= n_months // 2
    level = rng.gamma(3, 4, size=n_areas)[area] * np.exp(0.1 * np.sin(month))
    mean = level * np.where(treated & post, 0.8, 1.0)
    if dispersion > 1:  # NB1-like: gamma-mixed Poisson with variance dispersion * mean
        mean = rng.gamma(mean / (dispersion - 1), dispersion - 1)
    y = rng.poisson(mean).astype(float)
    keep = rng.random(len(y)) >= drop
    area, month, y = area[keep], month[keep], y[keep]
    treated, post = treated[keep], post[keep]
    months = np.eye(n_months)[month][:, 1:]
    d = (treated & post).astype(float)
    lead = (treated & (month == 1)).astype(float)
    X = np.column_stack([d, lead, months])
    return y, X, area


def _dummies(X: np.ndarray, area: np.ndarray) -> np.ndarray:
    A = np.eye(area.max() + 1)[area][:, 1:]
    p = X.shape[1]
    return np.column_stack([X[:, :2], np.ones(len(area)), A, X[:, 2:]]), p


@pytest.mark.parametrize(
    ("family", "vcov"),
    [
        ("poisson", "model"),
        ("quasipoisson", "model"),
        ("poisson", "hc1"),
        ("quasipoisson", "cluster"),
    ],
)
@pytest.mark.parametrize(("drop", "dispersion"), [(0.0, 1.0), (0.1, 2.5)])
def test_same_fit_as_area_dummies(family, vcov, drop, dispersion):
    y, X, area = _panel(23, 30, seed=7, drop=drop, dispersion=dispersion)
    full, _ = _dummies(X, area)
    ref = fit_count_glm(y, full, family=family, vcov=vcov, groups=area)
    got = fit_fe_poisson(y, X, areas=area, family=family, vcov=vcov, groups=area)
    # The two treatment columns come first in both designs.
    np.testing.assert_allclose(got.params[:2], ref.params[:2], atol=1e-7)
    np.testing.assert_allclose(got.cov[:2, :2], ref.cov[:2, :2], rtol=1e-6)
    assert got.dispersion == pytest.approx(ref.dispersion, rel=1e-7)
    assert got.df_resid == ref.df_resid
    assert got.llf == pytest.approx(ref.llf, rel=1e-9)
    np.testing.assert_allclose(got.fitted, ref.fitted, rtol=1e-6)


def test_month_effects_equal_the_dummy_coefficients():
    y, X, area = _panel(12, 18, seed=3)
    full, _ = _dummies(X, area)
    ref = fit_count_glm(y, full, family="poisson")
    got = fit_fe_poisson(y, X, areas=area, family="poisson")
    n_areas = area.max() + 1
    np.testing.assert_allclose(got.params[2:], ref.params[2 + n_areas :], atol=1e-7)


def test_large_panel_without_dummies_is_fast_enough_to_fit():
    # 3,000 areas x 48 months: the dummy design would be 144,000 x 3,049 (3.5 GB of floats).
    y, X, area = _panel(3000, 48, seed=11)
    fit = fit_fe_poisson(y, X, areas=area, family="quasipoisson")
    assert np.exp(fit.params[0]) == pytest.approx(0.8, abs=0.1)
    assert fit.df_resid == len(y) - X.shape[1] - 3000


def test_an_area_without_crimes_is_refused():
    y, X, area = _panel(5, 10, seed=1)
    y[area == 3] = 0
    with pytest.raises(EstimationError, match="every area needs recorded crimes"):
        fit_fe_poisson(y, X, areas=area, family="poisson")


@pytest.mark.parametrize("family", ["poisson", "quasipoisson"])
@pytest.mark.parametrize("dispersion", [1.0, 3.0])
def test_dense_poisson_fit_equals_statsmodels(family, dispersion):
    from pilot_eval.estimators._common import fit_poisson

    rng = np.random.default_rng(4)
    t = np.arange(48.0)
    post = (t >= 30).astype(float)
    moy = np.eye(12)[(t % 12).astype(int)][:, 1:]
    X = np.column_stack([np.ones_like(t), t, post, (t - 30) * post, moy])
    mean = np.exp(2.5 + 0.01 * t - 0.3 * post + 0.1 * np.sin(t))
    if dispersion > 1:
        mean = rng.gamma(mean / (dispersion - 1), dispersion - 1)
    y = rng.poisson(mean).astype(float)
    ref = fit_count_glm(y, X, family=family, vcov="model")
    got = fit_poisson(y, X, family=family)
    np.testing.assert_allclose(got.params, ref.params, atol=1e-7)
    # statsmodels stops at a relative deviance change of 1e-8, this fit at steps of 1e-10.
    np.testing.assert_allclose(got.cov, ref.cov, rtol=1e-5, atol=1e-12)
    assert got.dispersion == pytest.approx(ref.dispersion, rel=1e-7)
    assert got.llf == pytest.approx(ref.llf, rel=1e-9)
    np.testing.assert_allclose(got.fitted, ref.fitted, rtol=1e-6)


# --- refusals instead of numbers that are not estimates (review findings, 2026-12-02) ------


def _sim_panel(seed: int = 1):
    from pilot_eval.simulate import simulate_panels

    sim = simulate_panels(seed=seed, n_areas=8, n_pre=12, n_post=6, means=(3.0, 6.0))
    return sim.panel(0, outcome="x")


def test_a_month_with_only_treated_crimes_is_refused_by_the_monthly_event_study():
    from pilot_eval import columns as C
    from pilot_eval.estimators.did import event_study

    p = _sim_panel()
    m = sorted(p[C.MONTH].unique())[-3]
    tr = p[C.TREATED]
    p.loc[(p[C.MONTH] == m) & ~tr, C.COUNT] = 0
    p.loc[(p[C.MONTH] == m) & tr, C.COUNT] = p.loc[(p[C.MONTH] == m) & tr, C.COUNT].clip(lower=2)
    with pytest.raises(EstimationError, match=r"comparison areas recorded no 'x' crimes in period"):
        event_study(p, outcome="x", family="quasipoisson")
    # Quarters hold months with comparison crimes: estimable, and every ratio is finite.
    q = event_study(p, outcome="x", family="quasipoisson", bin_edges="quarter").coefficients
    est = q[~q["reference"]]
    assert np.isfinite(est["log_irr"]).all() and (est["se"] < 5).all()


def test_no_comparison_crimes_after_the_start_is_refused_by_the_did():
    from pilot_eval import columns as C
    from pilot_eval.estimators.did import poisson_did

    p = _sim_panel()
    p.loc[p[C.POST] & ~p[C.TREATED], C.COUNT] = 0
    with pytest.raises(EstimationError, match="comparison areas recorded no 'x' crimes after"):
        poisson_did(p, outcome="x")


def test_dispersion_check_leaves_out_treated_rows_with_nothing_after_the_start():
    from pilot_eval import columns as C
    from pilot_eval.estimators.rates import panel_dispersion_test

    p = _sim_panel()
    p.loc[p[C.POST] & p[C.TREATED], C.COUNT] = 0
    res = panel_dispersion_test(p, outcome="x")
    assert np.isfinite(res.dispersion) and res.dispersion > 0


def test_a_coefficient_running_to_infinity_is_refused_not_reported():
    y, X, area = _panel(10, 12, seed=2)
    # A regressor that is 1 only on rows with no crimes: its estimate is -infinity.
    zero_rows = (y == 0) | (np.arange(len(y)) % 7 == 0)
    y = np.where(zero_rows, 0.0, y)
    X = np.column_stack([X, zero_rows.astype(float)])
    with pytest.raises(EstimationError, match="no finite estimate"):
        fit_fe_poisson(y, X, areas=area, family="poisson")


@pytest.mark.parametrize("kind", ["all zero", "constant within areas", "duplicate"])
def test_columns_the_area_effects_or_other_columns_hold_are_refused(kind):
    y, X, area = _panel(10, 12, seed=2)
    extra = {
        "all zero": np.zeros(len(y)),
        "constant within areas": (area < 4).astype(float),
        "duplicate": X[:, 0],
    }[kind]
    with pytest.raises(EstimationError, match="constant within every area|collinear"):
        fit_fe_poisson(y, np.column_stack([X, extra]), areas=area, family="poisson")
