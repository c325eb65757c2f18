"""Harm weights, unit costs of crime, harm-weighted effects and cost per crime prevented."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pilot_eval.columns import POLICE_UK_CRIME_TYPES
from pilot_eval.errors import DataValidationError, EstimationError, OptionError
from pilot_eval.estimators import (
    cost_per_crime_prevented,
    harm_weighted_effect,
    load_harm_weights,
    load_unit_costs,
    police_uk_unit_cost,
    wdd_counts,
    wdd_harm_counts,
)
from pilot_eval.results import Estimate

POLICE_UK_TYPES = set(POLICE_UK_CRIME_TYPES)


# --- data files ----------------------------------------------------------------------------------
def test_unit_cost_table_schema_and_published_figures():
    t = load_unit_costs()
    need = {"crime_category", "police_uk_crime_type", "mapping", "unit_cost_gbp", "price_year"}
    assert need <= set(t.columns)
    assert set(t["price_year"]) == {"2015/16"}
    assert t["source"].str.contains("Heeks").all()
    assert set(t["mapping"]) <= {"direct", "component", "none"}
    assert set(t["police_uk_crime_type"].dropna()) <= POLICE_UK_TYPES
    cost = dict(zip(t["crime_category"], t["unit_cost_gbp"], strict=True))
    # Source: Heeks et al. (2018) Home Office Research Report 99, Table 1 (2015/16 prices), as
    # reported in the South Wales Echo (2 August 2019). Exact (published to the nearest £10).
    assert cost["Rape"] == 39360
    assert cost["Violence with injury"] == 14050
    assert cost["Robbery"] == 11320
    assert cost["Theft of vehicle"] == 10290
    assert cost["Other sexual offences"] == 6520
    # figures that could not be confirmed are left out rather than invented
    assert "Violence without injury" not in cost and "Domestic burglary" not in cost


def test_harm_weight_table_schema_and_published_figures():
    t = load_harm_weights()
    assert {"offence", "police_uk_crime_type", "weight", "weights_release"} <= set(t.columns)
    assert t["weight"].gt(0).all() and t["source"].str.contains("Office for National").all()
    assert set(t["police_uk_crime_type"]) <= POLICE_UK_TYPES
    w = dict(zip(t["offence"], t["weight"], strict=True))
    # Source: ONS Crime Severity Score launch (Nov 2016), as reported in the national press:
    # homicide 7,979, attempted murder 4,663, cannabis possession 3 (the lowest). Exact.
    assert w["Homicide"] == 7979 and w["Attempted murder"] == 4663
    assert w["Possession of cannabis"] == 3
    assert load_harm_weights() is not load_harm_weights()  # callers get their own copy


# --- police.uk unit costs ------------------------------------------------------------------------
def test_police_uk_unit_cost_direct_and_mix():
    assert police_uk_unit_cost("Robbery") == 11320
    mix = {"Theft of vehicle": 0.25, "Theft from vehicle": 0.75}
    assert police_uk_unit_cost("Vehicle crime", mix=mix) == pytest.approx(0.25 * 10290 + 0.75 * 870)


def test_police_uk_unit_cost_refuses_to_guess():
    with pytest.raises(EstimationError, match="pass mix="):
        police_uk_unit_cost("Violence and sexual offences")
    with pytest.raises(EstimationError, match="could not be confirmed"):
        police_uk_unit_cost(
            "Violence and sexual offences",
            mix={"Violence with injury": 0.4, "Violence without injury": 0.6},
        )
    with pytest.raises(EstimationError, match="No unit cost"):
        police_uk_unit_cost("Shoplifting")
    with pytest.raises(DataValidationError, match="sum to 1"):
        police_uk_unit_cost("Vehicle crime", mix={"Theft of vehicle": 0.5})


# --- harm-weighted effect ------------------------------------------------------------------------
def test_harm_weighted_effect_reproduces_ptools_cumulative_harm():
    # Source: ptools test "Cumulative Harm" (Wheeler 2020 harm-weights post): -1721,
    # SE 304.10360077 at alpha = 0.05. Tolerance 1e-5 relative.
    pairs = {
        "mv": ((133, 91), (130, 74)),
        "theft": ((388, 305), (327, 202)),
        "burglary": ((148, 97), (398, 190)),
        "robbery": ((86, 64), (144, 92)),
        "assault": ((94, 67), (183, 96)),
    }
    weights = {"mv": 3, "theft": 2, "burglary": 5, "robbery": 7, "assault": 10}
    effects = {k: wdd_counts(c, t) for k, (c, t) in pairs.items()}
    h = harm_weighted_effect(effects, weights, term="local", alpha=0.05, weight_label="toy")
    np.testing.assert_allclose([h.est, h.se], [-1721.0, 304.10360077], rtol=1e-5)
    assert list(h.components.index) == list(pairs)
    assert "toy" in h.summary()
    # the same with (estimate, SE) pairs
    raw = {k: (v.est_local, v.se_local) for k, v in effects.items()}
    h2 = harm_weighted_effect(raw, weights, alpha=0.05)
    assert h2.est == pytest.approx(h.est) and h2.se == pytest.approx(h.se)


def test_harm_weighted_effect_validation():
    with pytest.raises(DataValidationError, match="same crime types"):
        harm_weighted_effect({"a": (1.0, 1.0)}, {"b": 2.0})
    with pytest.raises(OptionError, match="term"):
        harm_weighted_effect({"a": (1.0, 1.0)}, {"a": 2.0}, term="displacement")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="pair"):
        harm_weighted_effect({"a": 1.0}, {"a": 2.0})  # type: ignore[dict-item]


# --- cost per crime prevented --------------------------------------------------------------------
def test_cost_per_crime_interval_when_effect_is_clear():
    r = wdd_counts((308, 318), (207, 110), alpha=0.05)  # -107 crimes, CI excludes 0
    c = cost_per_crime_prevented(crimes_prevented=r, total_cost=250_000)
    assert c.defined and c.level == pytest.approx(0.95)
    assert c.crimes_prevented == pytest.approx(107)
    assert c.cost_per_crime == pytest.approx(250_000 / 107)
    assert (c.ci_low, c.ci_high) == pytest.approx((250_000 / -r.ci_low, 250_000 / -r.ci_high))
    assert c.note == "" and "each crime prevented cost about" in c.summary()


def test_cost_per_crime_unbounded_when_interval_includes_zero():
    c = cost_per_crime_prevented(crimes_prevented=(10.0, -3.8, 23.8), total_cost=50_000, level=0.9)
    assert c.defined and math.isinf(c.ci_high)
    assert c.ci_low == pytest.approx(50_000 / 23.8)
    assert "no upper bound" in c.note and "no upper bound" in c.summary()
    assert "prevented no crimes" in c.note


def test_cost_per_crime_undefined_when_no_crimes_prevented():
    c = cost_per_crime_prevented(crimes_prevented=wdd_counts((20, 20), (20, 25)), total_cost=50_000)
    assert not c.defined and math.isnan(c.cost_per_crime)
    assert "not defined" in c.summary() and "not estimated to have prevented" in c.note
    d = cost_per_crime_prevented(crimes_prevented=(-5.0, -9.0, -1.0), total_cost=50_000)
    assert not d.defined and math.isnan(d.ci_low) and math.isnan(d.ci_high)


def test_cost_per_crime_inputs():
    e = Estimate("vawg", "wdd", -40.0, -60.0, -20.0, 0.001, "count", 0.95)
    c = cost_per_crime_prevented(crimes_prevented=e, total_cost=80_000)
    assert c.crimes_prevented == 40 and (c.prevented_low, c.prevented_high) == (20, 60)
    ratio = Estimate("vawg", "log_irr", 0.8, 0.6, 1.1, 0.2, "ratio", 0.95)
    with pytest.raises(DataValidationError, match="count estimate"):
        cost_per_crime_prevented(crimes_prevented=ratio, total_cost=1)
    h = wdd_harm_counts([-10.0], [3.0], [5.0])
    with pytest.raises(DataValidationError, match="harm units"):
        cost_per_crime_prevented(crimes_prevented=h, total_cost=1)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="total_cost"):
        cost_per_crime_prevented(crimes_prevented=(1, 0, 2), total_cost=0)


# -- harm and social cost of the crimes prevented (issue 13) ------------------------------------


def test_mixes_use_the_shipped_published_figures():
    """Reference values: ONS CSS weights (2016 launch) and Heeks et al. (2018) unit costs."""
    from pilot_eval.estimators import harm_weight_of_mix, unit_cost_of_mix

    # Homicide 7,979 and wounding 1,965 days (ONS 2016); half each
    assert harm_weight_of_mix({"Homicide": 0.5, "Wounding": 0.5}) == pytest.approx(4972.0)
    # Robbery £11,320; violence with injury £14,050; rape £39,360 (Heeks et al. 2018, Table 2)
    assert unit_cost_of_mix({"Robbery": 1.0}) == pytest.approx(11320.0)
    assert unit_cost_of_mix({"Violence with injury": 0.9, "Rape": 0.1}) == pytest.approx(
        0.9 * 14050 + 0.1 * 39360
    )


def test_mixes_refuse_what_is_not_shipped():
    from pilot_eval.errors import DataValidationError
    from pilot_eval.estimators import harm_weight_of_mix, unit_cost_of_mix

    with pytest.raises(DataValidationError, match="no shipped figure for \\['Common assault'\\]"):
        harm_weight_of_mix({"Common assault": 1.0})
    with pytest.raises(DataValidationError, match="sum to 1"):
        unit_cost_of_mix({"Robbery": 0.5})


def test_value_prevented_carries_the_interval_through_a_fixed_weight():
    from pilot_eval.estimators import value_prevented

    r = value_prevented(
        crimes_prevented=(100.0, -20.0, 180.0),
        per_crime=50.0,
        factor=1.2,
        level=0.958,
        unit="pounds",
    )
    assert (r.estimate, r.ci_low, r.ci_high) == pytest.approx((6000.0, -1200.0, 10800.0))
    assert r.level == pytest.approx(0.958)
    assert "interval" in r.summary()


def test_harm_prevented_covers_the_true_harm_in_seeded_pilots(sim_panel):
    """Seeded pilots with a known 25 % fall: the harm interval covers the true harm prevented.

    The truth is ``w x T_post x (1 / 0.75 - 1)`` with the pilot area's recorded post-period
    crimes ``T_post``; the interval is the conformal headline's, so its coverage is the
    headline's (about 95 %). 40 seeds: at least 34 must cover (P(< 34 | 0.95) < 0.01).
    """
    from pilot_eval import columns as C
    from pilot_eval.estimators import value_prevented
    from pilot_eval.inference import conformal_inference
    from pilot_eval.pipeline.analyses import crimes_prevented

    w, cover = 120.0, 0
    for seed in range(40):
        panel = sim_panel(seed=seed, effect=0.75)
        ci = conformal_inference(panel, outcome="simulated", level=0.95)
        t = panel[(panel[C.GROUP] == "treated") & panel[C.POST]]
        t_post = float(t[C.COUNT].sum())
        r = value_prevented(
            crimes_prevented=crimes_prevented(t_post, ci),
            per_crime=w,
            level=ci.level,
            unit="days",
        )
        truth = w * t_post * (1 / 0.75 - 1)
        cover += r.ci_low <= truth <= r.ci_high
    assert cover >= 34, cover
