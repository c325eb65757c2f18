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
