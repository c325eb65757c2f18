"""Guards: refuse cluster-robust inference with few treated areas; wording never overstates."""

from __future__ import annotations

import re

import numpy as np
import pytest

from pilot_eval.errors import EstimationError, InferenceRefusedError, OptionError, PilotEvalError
from pilot_eval.inference import (
    MIN_TREATED_CLUSTERS,
    check_cluster_inference,
    describe_interval,
    describe_rank,
    describe_ratio,
    describe_significance,
    format_level,
    format_p,
    headline_sentence,
)


# -- the guard ---------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["cluster_robust", "wild_bootstrap"])
@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_refuses_with_fewer_than_ten_treated_clusters(method, n):
    with pytest.raises(InferenceRefusedError) as info:
        check_cluster_inference(n, method=method)
    msg = str(info.value)
    assert isinstance(info.value, PilotEvalError)
    assert msg.startswith(f"With {n} treated area")
    assert "17 wards" in msg and "placebo" in msg and "conformal" in msg


def test_message_for_one_treated_area_says_why():
    with pytest.raises(InferenceRefusedError) as info:
        check_cluster_inference(1, method="cluster_robust")
    msg = str(info.value)
    assert (
        "With 1 treated area, cluster-robust intervals ignore the treated area's own noise" in msg
    )
    assert "about two times in three" in msg


@pytest.mark.parametrize("method", ["cluster_robust", "wild_bootstrap"])
def test_allows_ten_or_more(method):
    assert MIN_TREATED_CLUSTERS == 10
    check_cluster_inference(10, method=method)
    check_cluster_inference(40, method=method)


@pytest.mark.parametrize(
    "method", ["placebo_in_space", "conformal", "size_adjusted_placebo", "quasi_poisson"]
)
def test_other_methods_pass_with_one_treated_area(method):
    check_cluster_inference(1, method=method)


def test_bad_arguments():
    with pytest.raises(OptionError, match="method must be one of"):
        check_cluster_inference(1, method="crv1")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="at least 1"):
        check_cluster_inference(0, method="cluster_robust")


# -- wording: p-values -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("p", "text"),
    [
        (1 / 17, "p = 0.059"),
        (0.0504, "p = 0.051"),  # rounded up: never looks more convincing
        (2 / 48, "p = 0.042"),
        (0.12, "p = 0.12"),
        (0.5, "p = 0.50"),
        (1.0, "p = 1"),
        (0.0004, "p < 0.001"),
    ],
)
def test_format_p(p, text):
    assert format_p(p) == text


def test_format_p_never_says_zero():
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(EstimationError):
            format_p(bad)
    with pytest.raises(EstimationError, match="below the design's smallest"):
        format_p(0.01, min_p=1 / 17)
    for p in np.geomspace(1e-9, 1, 200):
        assert not re.search(r"p = 0(\.0*)?$", format_p(float(p)))
    assert format_p(None) == "p-value not available"


# -- wording: levels and intervals -------------------------------------------------------------
def test_levels_are_never_overstated():
    assert format_level(15 / 17) == "88.2 %"
    assert format_level(1 - 2 / 48) == "95.8 %"  # rounded down: it really is at least that
    assert format_level(0.95) == "95 %"
    assert format_level(0.9499) == "94.9 %"
    for level in np.linspace(0.5, 0.9499, 300):
        assert format_level(float(level)) != "95 %"
    with pytest.raises(EstimationError):
        format_level(1.0)


def test_describe_interval():
    assert describe_interval(0.613, 1.118, 15 / 17) == (
        "88.2 % interval 0.61 to 1.12, that is from 39 % fewer to 12 % more"
    )
    # ends rounded outwards
    assert describe_interval(0.6199, 0.9101, 0.958).startswith("95.8 % interval 0.61 to 0.92")
    assert "no upper limit" in describe_interval(0.5, float("inf"), 0.9)
    assert "no lower limit" in describe_interval(0.0, 1.4, 0.9)
    assert "unbounded" in describe_interval(0.0, float("inf"), 0.9)
    assert describe_interval(-3.2, 1.5, 0.9, scale="count") == "90 % interval -3.2 to 1.5 crimes"


# -- wording: ratios, ranks, significance, headline --------------------------------------------
def test_describe_ratio():
    assert describe_ratio(0.79) == (
        "21 % fewer recorded offences than the comparison areas' trend predicts"
    )
    assert describe_ratio(1.15, noun="VAWG offences").startswith("15 % more VAWG offences than")
    assert describe_ratio(1.002).startswith("about as many recorded offences as")
    assert describe_ratio(2.5).startswith("2.5 times as many recorded offences as")
    with pytest.raises(EstimationError):
        describe_ratio(0.0)


def test_describe_rank():
    assert describe_rank(1, 17) == "the largest fall of all 17 areas"
    assert describe_rank(3, 17) == "the 3rd-largest fall of the 17 areas"
    assert describe_rank(2, 17, direction="increase") == "the 2nd-largest rise of the 17 areas"


def test_never_significant_at_5_percent_when_the_floor_is_above_it():
    for p in (1 / 17, 2 / 17, 0.5):
        text = describe_significance(p, min_p=1 / 17, n_reference=17)
        assert "significant" not in text
        assert "smallest possible p-value is 0.059" in text


def test_non_significant_is_never_no_effect():
    text = describe_significance(0.3, min_p=1 / 48, mde=0.65)
    assert "no effect" not in text.lower()
    assert "a fall of 35 % or more" in text
    assert "statistically significant at the 5 % level" in describe_significance(0.02, min_p=1 / 48)


def test_headline_sentence():
    text = headline_sentence(
        irr=0.79,
        p=2 / 17,
        min_p=1 / 17,
        rank=2,
        n_reference=17,
        low=0.61,
        high=1.12,
        level=1 - 2 / 48,
        mde=0.65,
        area="Belvedere",
    )
    assert text.startswith("This design could reliably detect a fall of 35 % or more.")
    assert "Belvedere had 21 % fewer recorded offences than the comparison areas' trend" in text
    assert "95.8 % interval 0.61 to 1.12" in text
    assert "the 2nd-largest fall of the 17 areas" in text
    assert "one-sided test for a fall: p = 0.12" in text
    assert "significant" not in text and "no effect" not in text.lower()
    assert "p = 0 " not in text and "p = 0." in text
    floor = headline_sentence(irr=0.6, p=1 / 17, min_p=1 / 17, rank=1, n_reference=17)
    assert "most extreme possible" in floor and "significant" not in floor
