"""Weighted displacement quotient and total net effect (Bowers & Johnson 2003; Guerette 2009)."""

from __future__ import annotations

import math

import pytest

from pilot_eval.errors import DataValidationError
from pilot_eval.estimators import wdd_scaled_counts, wdq_counts


def test_worked_example_from_guerette_formulas():
    # Hand-worked from the formulas in Guerette (2009, Appendix B), with R = treated (100 -> 60),
    # D = buffer (80 -> 70), C = control (200 -> 190); all exact fractions:
    #   success = 60/190 - 100/200 = -7000/38000; buffer = 70/190 - 80/200 = -1200/38000
    #   WDQ = 1200/7000 = 6/35; GE = 100 - 60 = 40; NE = 100/200 - 60/190 = 7000/38000
    #   TNE = [100 (190/200) - 60] + [80 (190/200) - 70] = 35 + 6 = 41.
    # No published numeric WDQ example could be found to test against (see the report).
    r = wdq_counts((100, 60), (80, 70), (200, 190))
    assert r.success_measure == pytest.approx(-7000 / 38000, abs=1e-15)
    assert r.buffer_measure == pytest.approx(-1200 / 38000, abs=1e-15)
    assert r.wdq == pytest.approx(6 / 35, abs=1e-15)
    assert r.gross_effect == 40
    assert r.net_effect == pytest.approx(7000 / 38000, abs=1e-15)
    assert (r.treated_effect, r.buffer_effect) == pytest.approx((35, 6), abs=1e-12)
    assert r.total_net_effect == pytest.approx(41, abs=1e-12)
    assert r.interpretation == "diffusion of benefit"
    assert r.note == ""


@pytest.mark.parametrize(
    ("buffer", "reading"),
    [
        ((80, 40), "diffusion of benefit larger than the direct effect"),
        ((80, 76), "no displacement or diffusion"),
        ((80, 90), "displacement smaller than the direct effect (a net benefit remains)"),
        ((80, 150), "displacement larger than the direct effect (the benefit was erased)"),
    ],
)
def test_guerette_interpretation_bands(buffer, reading):
    # Guerette (2009, Appendix C): > 1 diffusion exceeds the direct effect; 0 none; (-1, 0)
    # displacement smaller than the effect; < -1 displacement erased it.
    r = wdq_counts((100, 60), buffer, (200, 190))
    assert r.interpretation == reading


def test_total_net_effect_equals_scaled_wdd():
    # The TNE counterfactual (both areas change by the control's percentage) is the k-scaled WDD's.
    t, b, c = (90, 60), (70, 66), (240, 200)
    r = wdq_counts(t, b, c)
    s = wdd_scaled_counts(c, t, c, b)
    assert r.total_net_effect == pytest.approx(-s.est_total, abs=1e-12)


def test_not_successful_means_wdq_undefined_with_reason():
    r = wdq_counts((100, 110), (80, 70), (200, 190))
    assert math.isnan(r.wdq)
    assert r.success_measure > 0
    assert "did not fall relative to the control" in r.note
    s = r.summary()
    assert "not defined" in s and "total net effect" in s.lower()
    assert not math.isnan(r.total_net_effect)


def test_zero_control_counts_undefined():
    for control in [(0, 10), (10, 0)]:
        r = wdq_counts((100, 60), (80, 70), control)
        assert math.isnan(r.wdq) and math.isnan(r.total_net_effect)
        assert "zero crimes" in r.note
        assert r.gross_effect == 40
        assert "not defined" in r.summary()


def test_zero_treated_change_is_undefined_not_infinite():
    r = wdq_counts((100, 95), (80, 70), (200, 190))  # success measure exactly 0
    assert math.isnan(r.wdq) and "not negative" in r.note


def test_tidy_summary_and_validation():
    r = wdq_counts((100, 60), (80, 70), (200, 190))
    t = r.tidy()
    assert t.loc[t.term == "wdq", "estimate"].item() == r.wdq
    assert "no standard error" in r.summary()
    with pytest.raises(DataValidationError):
        wdq_counts((100,), (80, 70), (200, 190))
    with pytest.raises(DataValidationError):
        wdq_counts((100, 60), (80, -1), (200, 190))


# -- wdq_interval: the quotient with a parametric-bootstrap interval ------------------------


def _true_wdq(t, b, c):
    """The WDQ of expected totals (the estimand)."""
    return (b[1] / c[1] - b[0] / c[0]) / (t[1] / c[1] - t[0] / c[0])


@pytest.mark.parametrize("phi", [1.0, 3.0])
def test_wdq_interval_covers_the_true_quotient(phi):
    """Seeded worlds with known expected totals: the 95 % interval covers the WDQ of the means.

    400 worlds: the coverage's Monte Carlo standard error is about 1.1 points, so 0.91-0.99
    is a > 3 SE band around 0.95.
    """
    import numpy as np

    from pilot_eval.estimators import wdq_interval_counts

    k = phi  # more crime where counts are noisier, so the fall stays clear of zero
    t, b, c = (300.0 * k, 180.0 * k), (400.0 * k, 360.0 * k), (2000.0 * k, 1900.0 * k)
    truth = _true_wdq(t, b, c)
    rng = np.random.default_rng(20261201)
    means = np.array([*t, *b, *c])
    hits = undefined = 0
    n = 400
    for i in range(n):
        lam = rng.gamma(means / (phi - 1), phi - 1) if phi > 1 else means
        obs = rng.poisson(lam)
        r = wdq_interval_counts(obs[0:2], obs[2:4], obs[4:6], dispersion=phi, n_draws=1000, seed=i)
        undefined += not r.defined  # counted as a miss: no interval covers nothing
        hits += r.defined and r.ci_low <= truth <= r.ci_high
    assert undefined <= 0.01 * n
    assert 0.91 <= hits / n <= 0.99


def test_wdq_interval_point_is_the_published_quotient_and_the_panel_twin_agrees(sim_panel):
    from pilot_eval.estimators import wdq_interval, wdq_interval_counts

    r = wdq_interval_counts((100, 60), (80, 70), (200, 190), seed=1)
    assert r.wdq == pytest.approx(6 / 35, abs=1e-15)  # Bowers & Johnson's worked example
    assert r.ci_low < r.wdq < r.ci_high and r.level == 0.95
    panel = sim_panel(seed=3, buffer=True, effect=0.6)
    from pilot_eval.estimators._common import group_totals

    tot = group_totals(panel, outcome="simulated")
    a = wdq_interval(panel, outcome="simulated", seed=5)
    b = wdq_interval_counts(tot.treated, tot.buffer, tot.comparison, seed=5)
    assert (a.wdq, a.ci_low, a.ci_high) == (b.wdq, b.ci_low, b.ci_high)


def test_wdq_interval_says_why_there_is_none():
    from pilot_eval.estimators import wdq_interval_counts

    up = wdq_interval_counts((100, 110), (80, 70), (200, 190))  # no fall: no WDQ
    assert not up.defined and "did not fall" in up.note and "no interval" in up.summary()
    shaky = wdq_interval_counts((20, 18), (30, 30), (200, 190))  # a fall lost in the noise
    assert not shaky.defined and shaky.share_defined < 0.95
    assert "too uncertain" in shaky.note


def test_wdq_interval_refuses_bad_options():
    from pilot_eval.errors import OptionError
    from pilot_eval.estimators import wdq_interval_counts

    with pytest.raises(OptionError, match="dispersion"):
        wdq_interval_counts((100, 60), (80, 70), (200, 190), dispersion=0)
    with pytest.raises(OptionError, match="n_draws"):
        wdq_interval_counts((100, 60), (80, 70), (200, 190), n_draws=10)
