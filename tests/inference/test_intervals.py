"""Conley–Taber and size-adjusted placebo intervals: by hand, with their real level."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pilot_eval.errors import EstimationError
from pilot_eval.inference import (
    closest_achievable_level,
    conley_taber_interval,
    placebo_interval_arrays,
    size_adjusted_interval,
)
from pilot_eval.simulate import panel_from_array, simulate_panels

PRE = [100.0, 50.0, 80.0, 40.0, 30.0, 70.0]
POST = [60.0, 55.0, 84.0, 38.0, 33.0, 66.0]


def _panel():
    treated = np.zeros(len(PRE), dtype=bool)
    treated[0] = True
    return panel_from_array(
        np.column_stack([PRE, POST]), treated=treated, post=np.array([False, True])
    )


def _by_hand():
    """Treated vs all controls; each control vs the other controls (treated left out)."""
    cp, cq = np.array(PRE[1:]), np.array(POST[1:])
    lr1 = math.log((POST[0] / PRE[0]) / (cq.sum() / cp.sum()))
    se1 = math.sqrt(1 / PRE[0] + 1 / POST[0] + 1 / cp.sum() + 1 / cq.sum())
    op, oq = cp.sum() - cp, cq.sum() - cq
    lr = np.log((cq / cp) / (oq / op))
    se = np.sqrt(1 / cp + 1 / cq + 1 / op + 1 / oq)
    return lr1, se1, lr, se


@pytest.mark.parametrize(
    ("requested", "n", "tails", "expected"),
    [
        (0.95, 17, 2, (15 / 17, 1)),  # Bexley's wards: an 88 % interval, whatever is asked
        (0.80, 17, 2, (13 / 17, 2)),  # 0.765 is closer to 0.80 than 0.882
        (0.95, 41, 2, (39 / 41, 1)),
        (0.95, 100, 2, (0.96, 2)),  # 0.96 and 0.94 tie: the higher level is chosen
        (0.95, 48, 1, (1 - 2 / 48, 2)),
        (0.95, 48, 2, (1 - 2 / 48, 1)),
    ],
)
def test_closest_achievable_level(requested, n, tails, expected):
    level, k = closest_achievable_level(requested, n=n, tails=tails)
    assert (level, k) == (pytest.approx(expected[0]), expected[1])


def test_no_interval_without_enough_placebos():
    with pytest.raises(EstimationError, match="cannot give any interval"):
        closest_achievable_level(0.9, n=2, tails=2)


def test_conley_taber_min_max_by_hand():
    lr1, _, lr, _ = _by_hand()
    res = conley_taber_interval(_panel())
    assert res.n_placebo == 5 and res.k == 1
    assert res.level == pytest.approx(1 - 2 / 6)  # min–max of 5 placebos
    assert res.log_ratio == pytest.approx(lr1)
    assert res.log_low == pytest.approx(lr1 - lr.max())
    assert res.log_high == pytest.approx(lr1 - lr.min())
    assert res.ci_low == pytest.approx(math.exp(lr1 - lr.max()))
    np.testing.assert_allclose(np.sort(res.placebo["log_ratio"]), np.sort(lr))


def test_size_adjusted_by_hand():
    lr1, se1, lr, se = _by_hand()
    res = size_adjusted_interval(_panel())
    z = lr / se
    assert res.se == pytest.approx(se1)
    assert res.log_low == pytest.approx(lr1 - se1 * z.max())
    assert res.log_high == pytest.approx(lr1 - se1 * z.min())
    np.testing.assert_allclose(np.sort(res.placebo["statistic"]), np.sort(z))


def test_seventeen_wards_give_an_88_percent_interval_labelled_so():
    sim = simulate_panels(seed=21, effect=0.8)
    for f in (conley_taber_interval, size_adjusted_interval):
        res = f(sim.panel(0), level=0.95)
        assert res.level == pytest.approx(15 / 17)
        assert res.requested_level == 0.95
        est = res.to_estimate()
        assert est.level == pytest.approx(0.882, abs=1e-3)
        text = res.summary()
        assert "88.2 % interval" in text and "95 % interval" not in text
        assert res.ci_low < res.ratio < res.ci_high


def test_several_treated_areas_use_pooled_placebo_sets():
    sim = simulate_panels(n_areas=12, n_treated=2, seed=22)
    res = size_adjusted_interval(sim.panel(0))
    assert res.n_placebo == math.comb(10, 2)
    assert res.enumerated
    assert res.placebo["assignment"].str.count(r"\+").eq(1).all()
    sampled = size_adjusted_interval(sim.panel(0), max_enumerate=10, n_draws=199, seed=1)
    assert not sampled.enumerated and sampled.n_placebo == 199
    assert sampled.level == pytest.approx(1 - 2 * sampled.k / 200)


def test_arrays_are_vectorised():
    sim = simulate_panels(n_reps=4, seed=23)
    arr = placebo_interval_arrays(sim.counts, treated=sim.treated, post=sim.post)
    assert arr.log_low.shape == (4,)
    for r in range(4):
        one = size_adjusted_interval(sim.panel(r))
        assert one.log_low == pytest.approx(arr.log_low[r])
        assert one.log_high == pytest.approx(arr.log_high[r])


def test_needs_placebos_with_their_own_comparisons():
    y = np.array([[10, 5], [20, 22]])
    panel = panel_from_array(y, treated=np.array([True, False]), post=np.array([False, True]))
    with pytest.raises(EstimationError, match="no placebo estimates"):
        size_adjusted_interval(panel)
