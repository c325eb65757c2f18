"""The report's wording in the cases the demo does not reach: a rise, many areas, several
treated areas, another alpha. Built from simulated panels with a known effect."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from pilot_eval.inference import conformal_inference, placebo_in_space, size_adjusted_interval
from pilot_eval.pipeline import OutcomeEvaluation
from pilot_eval.report.narrative import headline, placebo_text
from pilot_eval.simulate import simulate_panels


def _block(*, n_areas=17, n_treated=1, effect=1.0, direction="decrease", seed=0, level=0.95):
    panel = simulate_panels(
        n_areas=n_areas, n_treated=n_treated, effect=effect, n_reps=1, seed=seed
    ).panel(0)
    outcome = panel["outcome"].iloc[0]
    return OutcomeEvaluation(
        outcome=outcome,
        expected_change=direction,
        totals=pd.DataFrame(),
        results={
            "placebo": placebo_in_space(panel, outcome=outcome, direction=direction),
            "conformal": conformal_inference(panel, outcome=outcome, level=level),
            "size_adjusted": size_adjusted_interval(panel, outcome=outcome, level=level),
        },
    )


def _text(md) -> str:
    return md.data


def test_a_clear_rise_is_called_a_rise_and_not_a_fall():
    """A doubling in one ward: the interval excludes 1 and the text says so."""
    b = _block(effect=2.0, seed=2)
    assert b["conformal"].ci_low > 1  # precondition: this seed's interval excludes no change
    t = _text(headline(b, area_name="Ward X", alpha=0.05))
    assert re.search(r"(% more|times as many)", t.split("(")[0])
    assert "The interval excludes no change" in t
    assert "went the other way from the fall the pilot aimed for" in t
    assert "not clear evidence" not in t


def test_a_rise_the_pilot_aimed_for_is_not_flagged():
    b = _block(effect=2.0, seed=2, direction="increase")
    t = _text(headline(b, area_name="Ward X", alpha=0.05))
    assert "went the other way" not in t
    assert "most unusual rise" in t


def test_floor_sentence_only_when_the_ranking_cannot_reach_alpha():
    small = _block(n_areas=17)
    assert "can never reach the 5 % level" in _text(headline(small, area_name="A", alpha=0.05))
    big = _block(n_areas=25)
    t = _text(headline(big, area_name="A", alpha=0.05))
    assert "can never reach" not in t
    p = _text(placebo_text(big, alpha=0.05))
    assert "which is below the 5 % level" in p


def test_several_treated_areas_are_counted_as_sets():
    b = _block(n_areas=17, n_treated=2)
    t = _text(headline(b, area_name="The pilot areas", alpha=0.05, n_treated=2))
    assert "136 possible sets of areas" in t  # C(17, 2)
    assert "can never reach" not in t  # 1/136 < 0.05
    assert "136 possible sets of areas" in _text(placebo_text(b, alpha=0.05, n_treated=2))


def test_other_alpha_labels_follow_it():
    b = _block(level=0.90)
    t = _text(headline(b, area_name="A", alpha=0.10))
    assert re.search(r"\(9\d % interval", t)
    assert "95 %" not in t
    assert "can never reach" not in t  # 1/17 = 0.059 is below alpha = 0.10


@pytest.mark.parametrize("seed", range(4))
def test_never_p_zero_never_no_effect(seed):
    b = _block(seed=seed, effect=0.6)
    t = _text(headline(b, area_name="A", alpha=0.05)) + _text(placebo_text(b, alpha=0.05))
    assert not re.search(r"\bp\s*=\s*0(?![.\d])", t)
    assert "no effect" not in t.lower()
