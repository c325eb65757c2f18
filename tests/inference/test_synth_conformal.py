"""Synthetic-control conformal interval: coverage of the true ratio, and a peer check.

Coverage: the interval is the set of ratios the test accepts, so it covers the truth exactly
when the test at the true ratio accepts; one refit per world is enough. R = 600 seeded NB
worlds (17 areas, 24 pre + 12 post months, true ratio 0.8, pilot area the largest or the
median one): Monte Carlo SE of a 95 % coverage sqrt(0.95 * 0.05 / 600) ≈ 0.9 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from pilot_eval.inference.intervals import closest_achievable_level
from pilot_eval.inference.synth_conformal import synth_conformal, synth_conformal_test
from pilot_eval.simulate import simulate_panels

R = 600


def _coverage(treated: int, seed: int) -> tuple[float, float]:
    sp = simulate_panels(n_pre=24, n_post=12, effect=0.8, treated=[treated], n_reps=R, seed=seed)
    n_months = sp.post.size
    level, k = closest_achievable_level(0.95, n=n_months, tails=2)
    i = int(np.flatnonzero(sp.treated)[0])
    hits = 0
    for r in range(R):
        y = sp.counts[r].astype(float)
        t = synth_conformal_test(y[i], y[~sp.treated].T, sp.post, 0.8)
        hits += min(t.p_decrease, t.p_increase) > (k + 0.5) / n_months
    return hits / R, level


@pytest.mark.parametrize("treated", [8, 16])  # the median area; the largest area
def test_coverage_of_the_true_ratio(treated):
    cover, level = _coverage(treated, seed=31 + treated)
    assert level == pytest.approx(1 - 2 / 36)  # real level 0.944 with 36 months
    # Target 93-97 %; MC SE ≈ 0.9 % with R = 600.
    assert 0.93 <= cover <= 0.97


def test_interval_contains_estimate_and_matches_its_test():
    sp = simulate_panels(effect=0.6, treated=[16], seed=5)
    panel = sp.panel(0)
    res = synth_conformal(panel)
    assert res.ci_low < res.ratio < res.ci_high
    assert res.level == pytest.approx(1 - 2 / 48)
    # Interval excludes 1 iff the test of no change rejects at 1 - level.
    excludes = not (res.ci_low <= 1.0 <= res.ci_high)
    assert excludes == (min(res.p_decrease, res.p_increase) <= (1 + 0.5) / 48)
    y = sp.counts[0].astype(float)
    # The ends are accepted, and just beyond them rejected (located to ~1e-10).
    for end, out in (
        (res.ci_low, res.ci_low * (1 - 1e-8)),
        (res.ci_high, res.ci_high * (1 + 1e-8)),
    ):
        inside = synth_conformal_test(y[16], y[:16].T, sp.post, end)
        beyond = synth_conformal_test(y[16], y[:16].T, sp.post, out)
        assert min(inside.p_decrease, inside.p_increase) > 1.5 / 48
        assert min(beyond.p_decrease, beyond.p_increase) <= 1.5 / 48
    e = res.to_estimate()
    assert e.method == "synthetic_control_conformal" and e.scale == "ratio"
    assert "two-sided" in e.note and "interval" in res.summary()


def test_level_shift_fits_a_pilot_larger_than_every_comparison_area():
    # The largest area, doubled: no convex mix reaches it without the level shift.
    sp = simulate_panels(treated=[16], seed=8, means=(5.0, 40.0))
    y = sp.counts[0].copy()
    y[16] = y[16] * 2
    t = synth_conformal_test(y[16].astype(float), y[:16].T.astype(float), sp.post, 1.0)
    assert t.intercept > 0
    assert abs(t.statistic) < 0.2 * y[16].mean()
