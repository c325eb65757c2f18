"""Conformal inference over time: the Poisson fit against statsmodels, p-values, the set."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from pilot_eval.errors import EstimationError, OptionError
from pilot_eval.inference import (
    conformal_arrays,
    conformal_inference,
    fit_poisson_twfe,
)
from pilot_eval.inference.conformal import _two_rows
from pilot_eval.results import Estimate
from pilot_eval.simulate import panel_from_array, simulate_panels


def _design(n_areas: int = 6, n_pre: int = 10, n_post: int = 4, effect: float = 0.7, seed: int = 1):
    sim = simulate_panels(n_areas=n_areas, n_pre=n_pre, n_post=n_post, effect=effect, seed=seed)
    y = sim.counts[0].astype(float)
    cells = sim.treated[:, None] & sim.post[None, :]
    return sim, y, cells


def _glm(y: np.ndarray, *, cells: np.ndarray | None = None, offset: float | None = None):
    n, t = y.shape
    area = np.repeat(np.arange(n), t).astype(str)
    month = np.tile(np.arange(t), n).astype(str)
    x = pd.get_dummies(pd.DataFrame({"a": area, "m": month}), drop_first=True).astype(float)
    x = sm.add_constant(x)
    off = None
    if cells is not None and offset is None:
        x["tp"] = cells.reshape(-1).astype(float)
    elif cells is not None:
        off = np.where(cells.reshape(-1), math.log(offset), 0.0)
    fit = sm.GLM(y.reshape(-1), x, family=sm.families.Poisson(), offset=off).fit(tol=1e-14)
    return fit


def test_fit_without_cells_matches_statsmodels():
    _, y, _ = _design()
    ours = fit_poisson_twfe(y)
    sm_fit = _glm(y)
    np.testing.assert_allclose(ours.mean.reshape(-1), sm_fit.fittedvalues, rtol=1e-8)


def test_fit_with_fixed_irr_offset_matches_statsmodels():
    _, y, cells = _design()
    ours = fit_poisson_twfe(y, cells=cells, irr=1.6)
    assert ours.converged
    sm_fit = _glm(y, cells=cells, offset=1.6)
    np.testing.assert_allclose(ours.mean.reshape(-1), sm_fit.fittedvalues, rtol=1e-7)


def test_fit_with_estimated_irr_matches_statsmodels_and_two_row_reduction():
    sim, y, cells = _design(n_areas=8)
    ours = fit_poisson_twfe(y, cells=cells)
    sm_fit = _glm(y, cells=cells)
    assert float(ours.irr) == pytest.approx(math.exp(sm_fit.params["tp"]), rel=1e-7)
    np.testing.assert_allclose(ours.mean.reshape(-1), sm_fit.fittedvalues, rtol=1e-7)
    # the treated row's fit depends on the comparison areas only through their monthly sum
    y2 = _two_rows(y, sim.treated)
    two = fit_poisson_twfe(y2, cells=np.vstack([sim.post, np.zeros_like(sim.post)]))
    assert float(two.irr) == pytest.approx(float(ours.irr), rel=1e-8)
    np.testing.assert_allclose(two.mean[0], ours.mean[sim.treated][0], rtol=1e-7)


def test_fit_is_vectorised_over_a_grid_of_nulls():
    _, y, cells = _design()
    grid = np.array([0.5, 1.0, 2.0])
    batch = fit_poisson_twfe(y, cells=cells, irr=grid)
    assert batch.mean.shape == (3, *y.shape)
    for g, theta in enumerate(grid):
        one = fit_poisson_twfe(y, cells=cells, irr=theta)
        np.testing.assert_allclose(batch.mean[g], one.mean, rtol=1e-8)


def _falling_panel(drop: float = 0.4) -> pd.DataFrame:
    """Deterministic: controls follow a seasonal pattern, the treated area falls in post."""
    t, n_post = 24, 6
    season = 1 + 0.2 * np.sin(np.arange(t) * 2 * np.pi / 12)
    wiggle = 1 + 0.05 * np.cos(np.arange(t) * 1.7)  # breaks ties between months
    base = np.array([20.0, 30.0, 15.0, 25.0, 40.0])[:, None] * season[None, :]
    y = np.round(base * wiggle[None, :])
    post = np.arange(t) >= t - n_post
    y[0, post] = np.round(y[0, post] * drop)
    treated = np.zeros(5, dtype=bool)
    treated[0] = True
    return panel_from_array(y, treated=treated, post=post)


def test_one_sided_p_flips_with_the_direction():
    panel = _falling_panel()
    down = conformal_inference(panel, direction="decrease")
    up = conformal_inference(panel, direction="increase")
    assert down.min_p == pytest.approx(1 / 24)
    assert down.p_one_sided == pytest.approx(1 / 24)  # the post window is the lowest shift
    assert up.p_one_sided == pytest.approx(1.0)  # and so the least extreme for a rise
    assert down.p_two_sided == up.p_two_sided == pytest.approx(2 / 24)
    assert down.statistic < 0 and down.irr < 0.5


def test_p_values_are_multiples_of_one_over_t_and_at_least_the_floor():
    sim = simulate_panels(n_reps=50, seed=9)
    arr = conformal_arrays(sim.counts, treated=sim.treated, post=sim.post)
    t = sim.counts.shape[-1]
    for p in (arr.p_decrease, arr.p_increase):
        assert np.all(p >= 1 / t - 1e-12)
        np.testing.assert_allclose(p * t, np.round(p * t), atol=1e-9)
    assert np.all(arr.p_two_sided >= 2 / t - 1e-12)
    # batched equals one at a time
    for r in (0, 17, 49):
        one = conformal_inference(sim.panel(r))
        assert one.p_two_sided == pytest.approx(arr.p_two_sided[r])
        assert one.statistic == pytest.approx(arr.statistic[r])


def test_confidence_set_has_its_real_level_and_contains_the_estimate():
    sim = simulate_panels(effect=0.6, treated=[16], seed=10)
    res = conformal_inference(sim.panel(0))
    assert res.level == pytest.approx(1 - 2 / 48)  # 95 % requested; 0.958 achievable
    assert res.requested_level == 0.95
    assert res.bounded and res.contiguous
    assert res.ci_low < res.irr < res.ci_high
    grid = res.grid
    assert grid["in_set"].any()
    inside = grid.loc[grid["in_set"], "null_irr"]
    assert inside.min() == pytest.approx(res.ci_low) and inside.max() == pytest.approx(res.ci_high)
    # the p-value at the null matches the grid's p-value next to it
    near = grid.iloc[(grid["null_irr"] - 1.0).abs().argmin()]
    assert res.p_two_sided == pytest.approx(near["p_two_sided"], abs=2 / 48 + 1e-9)
    assert set(res.residuals.columns) == {"month", "post", "observed", "expected", "residual"}


def test_one_sided_set_is_a_bound_in_the_stated_direction():
    sim = simulate_panels(effect=0.6, treated=[16], seed=10)
    res = conformal_inference(sim.panel(0), interval="one-sided")
    assert res.ci_low == 0.0 and np.isfinite(res.ci_high)
    assert res.level == pytest.approx(1 - 2 / 48)  # k = 2 at one tail: 0.958
    est = res.to_estimate()
    assert est.p_value == res.p_one_sided and "one-sided for a fall" in est.note


def test_unbounded_set_is_reported_as_such():
    # Two post months of a tiny area: no null can be rejected at 96 %.
    y = np.array([[1, 0, 2, 1, 0, 1, 1, 0], [30, 28, 35, 31, 29, 33, 30, 32]] * 2)
    treated = np.array([True, False, False, False])
    post = np.arange(8) >= 6
    res = conformal_inference(panel_from_array(y, treated=treated, post=post), level=0.75)
    assert not res.bounded
    assert res.ci_low == 0.0 or math.isinf(res.ci_high)
    assert "no lower limit" in res.summary() or "no upper limit" in res.summary()


def test_fine_grid_inversion():
    # Speed is measured in benchmarks/bench_inference.py, not asserted here.
    sim = simulate_panels(seed=12)
    res = conformal_inference(sim.panel(0), n_grid=801)
    assert res.ci_low <= res.irr <= res.ci_high and len(res.grid) >= 801


def test_records_and_errors():
    sim = simulate_panels(seed=13)
    res = conformal_inference(sim.panel(0))
    est = res.to_estimate(role="headline")
    assert isinstance(est, Estimate) and est.level == res.level and est.p_value == res.p_two_sided
    assert len(res.tidy()) == 1
    assert "p = 0 " not in res.summary()
    panel = sim.panel(0)
    zero = panel.assign(count=np.where(panel["treated"] & panel["post"], 0, panel["count"]))
    with pytest.raises(EstimationError, match="no recorded crimes"):
        conformal_inference(zero)
    with pytest.raises(OptionError, match="level"):
        conformal_inference(panel, level=95)


def test_several_treated_areas_are_pooled_into_one_series():
    sim = simulate_panels(n_areas=10, n_treated=2, effect=0.7, seed=14)
    panel = sim.panel(0)
    pooled = panel.assign(area=np.where(panel["treated"], "POOLED", panel["area"]))
    pooled = pooled.groupby(
        ["outcome", "area", "group", "month", "treated", "post"], as_index=False
    )["count"].sum()
    a = conformal_inference(panel)
    b = conformal_inference(pooled)
    assert a.treated_areas == ("A04", "A07") and b.treated_areas == ("POOLED",)
    assert (a.p_one_sided, a.p_two_sided) == (b.p_one_sided, b.p_two_sided)
    assert a.irr == pytest.approx(b.irr) and a.ci_high == pytest.approx(b.ci_high)
