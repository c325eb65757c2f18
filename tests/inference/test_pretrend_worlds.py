"""Known-effect worlds with a pre-existing trend: the report flags or bounds the fake effect.

Worlds: seeded negative-binomial panels (``pilot_eval.simulate``), 17 areas, 36 pre + 12
post months, no effect. Trend worlds: the treated area(s) drift -1 % a month relative to the
others (every DiD method then says about 0.8). Clean worlds: no drift.

"Flags" in a trend world: the pre-trend test rejects at 0.10, OR the trend-adjusted interval
includes 1, OR the breakdown value is below 1. In a clean world a false alarm is the report's
pre-trend warning, i.e. the pre-trend test rejecting at 0.10 (a low breakdown value in a clean
world only happens when the headline itself excludes 1 by chance, and casting doubt on that
false positive is the right answer, not a false alarm).

R = 200 worlds per cell: Monte Carlo SE of a rate near 90 % or 10 % is
sqrt(0.9 * 0.1 / 200) ≈ 2.1 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from pilot_eval.inference.pretrend import (
    pretrend_arrays,
    pretrend_test,
    sensitivity_arrays,
    trend_robust_arrays,
    trend_robust_did,
    trend_sensitivity,
)
from pilot_eval.simulate import simulate_panels

R = 200
MC_SE = float(np.sqrt(0.9 * 0.1 / R))  # ≈ 0.021
# Sampled placebo sets for 4 treated (C(17, 4) = 2380 enumerated is 2.4x slower; same p rule).
KW = {"max_enumerate": 1000, "n_draws": 999}


def _world(n_treated: int, trend: float, seed: int, effect: float = 1.0):
    sp = simulate_panels(n_treated=n_treated, trend=trend, effect=effect, n_reps=R, seed=seed)
    kw = {"treated": sp.treated, "post": sp.post, **KW}
    pt = pretrend_arrays(sp.counts, **kw)
    rb = trend_robust_arrays(sp.counts, **kw)
    se = sensitivity_arrays(sp.counts, **kw)
    return pt, rb, se


@pytest.mark.parametrize("n_treated", [1, 4])
def test_trend_worlds_are_flagged_or_bounded(n_treated):
    pt, rb, se = _world(n_treated, -0.01, seed=101 + n_treated)
    rejects = pt.p_value <= 0.10
    includes_1 = (rb.log_low <= 0) & (rb.log_high >= 0)
    fragile = se.breakdown < 1
    flagged = rejects | includes_1 | fragile
    # Target 90 %; observed rates are ~95-99 % (MC SE ≈ 2.1 % with R = 200).
    assert flagged.mean() >= 0.90
    # Without the breakdown part (which is below 1 in many clean worlds too), still >= 85 %.
    assert (rejects | includes_1).mean() >= 0.85
    # The trend-adjusted ratio is centred on the truth (1), unlike the plain DiD (~0.8).
    assert abs(np.exp(np.median(rb.log_ratio)) - 1.0) < 0.05


@pytest.mark.parametrize("n_treated", [1, 4])
def test_clean_worlds_rarely_raise_the_pretrend_warning(n_treated):
    pt, rb, _ = _world(n_treated, 0.0, seed=201 + n_treated)
    false_alarm = (pt.p_value <= 0.10).mean()
    # Exact size at 0.10: 1/17 = 0.059 (one treated) and 0.100 (four treated, 999 sampled
    # sets: P((1 + b)/1000 <= 0.1) = 0.1). Target <= 10 %, allowing 2 MC SE (≈ 4.2 %)
    # above it for the four-treated cell whose exact size is the target itself.
    assert false_alarm <= (0.10 if n_treated == 1 else 0.10 + 2 * MC_SE)
    # The trend-adjusted interval covers the truth at about its real level with one treated
    # area (0.882; observed ~0.90). KNOWN LIMITATION with four treated: the 715 placebo sets
    # of 4 among 13 comparison areas overlap, and coverage was ~0.90 against the 0.950 the
    # order statistics claim (as for the size-adjusted headline interval with several areas).
    cover = ((rb.log_low <= 0) & (rb.log_high >= 0)).mean()
    if n_treated == 1:
        assert cover >= rb.level - 2 * np.sqrt(rb.level * (1 - rb.level) / R)
    else:
        assert cover >= 0.85


def test_pretrend_test_size_is_its_floor_with_one_treated_area():
    sp = simulate_panels(n_reps=1000, seed=7)
    pt = pretrend_arrays(sp.counts, treated=sp.treated, post=sp.post)
    # P(p <= 0.10) = 1/17 = 0.059; MC SE with R = 1000: 0.0075.
    assert abs((pt.p_value <= 0.10).mean() - 1 / 17) < 3 * 0.0075
    assert pt.min_p == pytest.approx(1 / 17)


def test_sensitivity_breakdown_grows_with_a_real_effect():
    sp = simulate_panels(n_reps=R, seed=9, effect=0.5)
    se = sensitivity_arrays(sp.counts, treated=sp.treated, post=sp.post)
    assert np.median(se.breakdown) > 1.0
    assert np.all(se.m > 0)


def test_panel_level_results_agree_with_the_arrays():
    sp = simulate_panels(n_reps=1, seed=3, trend=-0.01)
    panel = sp.panel(0)
    pt = pretrend_test(panel)
    arr = pretrend_arrays(sp.counts[0], treated=sp.treated, post=sp.post)
    assert pt.slope == pytest.approx(float(arr.observed_slope))
    assert pt.p_value >= 1 / 17 and pt.n_reference == 17
    assert "a month" in pt.summary() and len(pt.tidy()) == 1
    rb = trend_robust_did(panel)
    assert rb.ci_low <= rb.ratio <= rb.ci_high
    assert rb.level == pytest.approx(15 / 17)
    assert rb.to_estimate().method == "did_trend_adjusted"
    s = trend_sensitivity(panel)
    assert list(s.bounds["mbar"]) == [0.0, 0.5, 1.0, 2.0]
    assert (np.diff(s.bounds["ci_low"]) <= 0).all() and (np.diff(s.bounds["ci_high"]) >= 0).all()
    assert "times the largest departure" in s.summary() or "already includes" in s.summary()
    if s.breakdown > 0:
        lo, hi = s.bound(s.breakdown)
        assert lo <= 1.0 + 1e-9 and hi >= 1.0 - 1e-9


def test_pretrend_slope_recovers_a_known_drift():
    # Poisson fit of the pilot's share: a -2 %/month drift in a large area is recovered.
    sp = simulate_panels(n_reps=50, seed=4, trend=-0.02, means=(30.0, 60.0))
    pt = pretrend_arrays(sp.counts, treated=sp.treated, post=sp.post)
    assert np.mean(pt.observed_slope) == pytest.approx(-0.02, abs=0.002)
