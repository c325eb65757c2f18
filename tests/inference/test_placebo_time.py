"""Placebo-in-time: fake starts by hand, the generic estimator loop, speed, and why it is no test.

Monte Carlo error in the simulation below: with R = 2,000 replications a rejection rate near
the nominal 1/14 has standard error sqrt(p (1 - p) / R) = 0.58 points; near 1/25, 0.44 points.
Tolerances are 4 standard errors.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from pilot_eval.errors import DataValidationError, EstimationError, OptionError
from pilot_eval.inference.placebo_time import (
    PlaceboTimeResult,
    placebo_in_time,
    placebo_in_time_for,
    placebo_time_arrays,
)
from pilot_eval.simulate import panel_from_array, simulate_panels

N_PRE, N_POST = 24, 6


def _hand_counts() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """4 areas (A01 treated) × 30 months; a steady pre-period, then the treated area drops."""
    m = np.arange(N_PRE + N_POST)
    treated_row = np.where(m < N_PRE, 20 + m % 3, 5)
    counts = np.vstack([treated_row, np.full(m.size, 30), np.full(m.size, 40), 50 + m % 2])
    treated = np.array([True, False, False, False])
    post = m >= N_PRE
    return counts, treated, post


def _hand_panel() -> pd.DataFrame:
    counts, treated, post = _hand_counts()
    return panel_from_array(counts, treated=treated, post=post, outcome="burglary")


def did_callable(panel: pd.DataFrame) -> float:
    """The DiD log ratio from a long panel, written independently of the module."""
    p = panel.loc[panel["group"].isin(["treated", "comparison"])]
    tot = p.groupby([p["group"] == "treated", p["post"].astype(bool)])["count"].sum()
    return math.log(
        (tot[(True, True)] / tot[(True, False)]) / (tot[(False, True)] / tot[(False, False)])
    )


def studentised_callable(panel: pd.DataFrame) -> float:
    p = panel.loc[panel["group"].isin(["treated", "comparison"])]
    tot = p.groupby([p["group"] == "treated", p["post"].astype(bool)])["count"].sum()
    se = math.sqrt(sum(1.0 / float(v) for v in tot.to_numpy()))
    return did_callable(panel) / se


# -- hand-built panel -------------------------------------------------------------------------
def test_real_drop_ranks_first_with_p_one_over_one_plus_n_fake():
    res = placebo_in_time(_hand_panel())
    # admissible starts by hand: s = min_pre .. n_pre - window = 12 .. 18
    n_fake = N_PRE - N_POST - 12 + 1
    assert n_fake == 7
    assert res.n_fake == n_fake == len(res.fake_starts)
    assert res.window == N_POST
    assert res.rank == 1
    assert res.n_reference == n_fake + 1
    assert res.diagnostic_p == pytest.approx(1 / (1 + n_fake))
    assert res.min_p == pytest.approx(1 / (1 + n_fake))
    assert not res.fake_starts["as_extreme"].any()
    months = pd.date_range("2021-04-01", periods=N_PRE + N_POST, freq="MS")
    assert list(res.fake_starts["fake_start"]) == list(months[12:19])
    assert list(res.fake_starts["window_end"]) == list(months[17:24])
    assert res.real_start == months[N_PRE]
    # a rise test on the same data: the fall is the least extreme rise
    up = placebo_in_time(_hand_panel(), direction="increase")
    assert up.rank == n_fake + 1 and up.diagnostic_p == pytest.approx(1.0)


def test_statistics_by_hand():
    counts, _, _ = _hand_counts()
    res = placebo_in_time(_hand_panel())
    t, c = counts[0].astype(float), counts[1:].sum(0).astype(float)
    # real: first 6 post months against all 24 pre months
    real = math.log((t[24:30].sum() / t[:24].sum()) / (c[24:30].sum() / c[:24].sum()))
    assert res.real_statistic == pytest.approx(real, abs=1e-12)
    assert res.real_ratio == pytest.approx(math.exp(real), abs=1e-12)
    # fake start s = 15: months 15..20 against months 0..14
    row = res.fake_starts.iloc[3]
    assert row["n_before"] == 15
    assert (row["t_pre"], row["t_post"]) == (t[:15].sum(), t[15:21].sum())
    assert (row["c_pre"], row["c_post"]) == (c[:15].sum(), c[15:21].sum())
    fake = math.log((t[15:21].sum() / t[:15].sum()) / (c[15:21].sum() / c[:15].sum()))
    assert row["statistic"] == pytest.approx(fake, abs=1e-12)
    assert row["ratio"] == pytest.approx(math.exp(fake), abs=1e-12)
    se = math.sqrt(1 / t[:15].sum() + 1 / t[15:21].sum() + 1 / c[:15].sum() + 1 / c[15:21].sum())
    z = placebo_in_time(_hand_panel(), statistic="studentised")
    assert z.fake_starts.iloc[3]["statistic"] == pytest.approx(fake / se, abs=1e-12)
    assert z.rank == 1


@pytest.mark.parametrize(
    ("n_pre", "n_post", "min_pre", "window", "expected_window", "expected_n"),
    [
        (36, 12, 12, None, 12, 13),  # the methods note's setting: 13 fakes, floor 1/14
        (36, 12, 12, 6, 6, 19),
        (36, 12, 24, None, 12, 1),
        (30, 12, 12, None, 12, 7),
        (20, 12, 12, None, 8, 1),  # default window shortened to fit one fake start
        (48, 3, 6, None, 3, 40),
    ],
)
def test_fake_start_count_matches_hand_count(
    n_pre, n_post, min_pre, window, expected_window, expected_n
):
    sim = simulate_panels(n_areas=5, n_pre=n_pre, n_post=n_post, seed=1)
    res = placebo_in_time(sim.panel(0), min_pre=min_pre, window=window)
    assert res.window == expected_window
    assert res.n_fake == expected_n == n_pre - expected_window - min_pre + 1
    assert res.fake_starts["n_before"].tolist() == list(range(min_pre, min_pre + expected_n))
    assert res.fake_starts["n_before"].iloc[-1] + res.window == n_pre  # last window ends in time


def test_shortened_window_uses_only_the_first_post_months():
    sim = simulate_panels(n_areas=5, n_pre=20, n_post=12, seed=2)
    res = placebo_in_time(sim.panel(0))
    assert res.window == 8
    y = sim.counts[0].astype(float)
    t, c = y[sim.treated].sum(0), y[~sim.treated].sum(0)
    real = math.log((t[20:28].sum() / t[:20].sum()) / (c[20:28].sum() / c[:20].sum()))
    assert res.real_statistic == pytest.approx(real, abs=1e-12)
    assert "Only the first 8 months of the 12 months from the start are used" in res.summary()


# -- any estimator ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("statistic", "func"), [("did_log_ratio", did_callable), ("studentised", studentised_callable)]
)
def test_generic_loop_agrees_with_vectorised(statistic, func):
    sim = simulate_panels(n_areas=9, n_treated=2, effect=0.8, seed=3)
    panel = sim.panel(0)
    # a buffer area must be ignored by both
    buffer = panel.loc[panel["area"] == "A01"].assign(area="B01", group="buffer", treated=False)
    panel = pd.concat([panel, buffer], ignore_index=True)
    vec = placebo_in_time(panel, statistic=statistic)
    gen = placebo_in_time_for(panel, estimator=func, returns="other")
    assert gen.statistic_kind == "estimator" and gen.estimator_name == func.__name__
    assert gen.real_statistic == pytest.approx(vec.real_statistic, abs=1e-10)
    np.testing.assert_allclose(
        gen.fake_starts["statistic"], vec.fake_starts["statistic"], rtol=0, atol=1e-10
    )
    pd.testing.assert_series_equal(gen.fake_starts["fake_start"], vec.fake_starts["fake_start"])
    assert (gen.rank, gen.n_fake) == (vec.rank, vec.n_fake)
    assert gen.diagnostic_p == pytest.approx(vec.diagnostic_p)
    assert gen.fake_starts["ratio"].isna().all() and math.isnan(gen.real_ratio)
    assert "estimator gave" in gen.summary()
    if statistic == "did_log_ratio":
        lr = placebo_in_time_for(panel, estimator=func, returns="log_ratio")
        assert lr.real_ratio == pytest.approx(vec.real_ratio, abs=1e-10)


def test_estimator_sees_relabelled_truncated_panels():
    panel = _hand_panel()
    seen: list[tuple[pd.Timestamp, pd.Timestamp, int]] = []

    def spy(p: pd.DataFrame) -> float:
        months = pd.to_datetime(p["month"])
        first_post = months[p["post"]].min()
        assert (months[p["post"]] >= first_post).all() and (months[~p["post"]] < first_post).all()
        seen.append((first_post, months.max(), int(p["post"].sum() // p["area"].nunique())))
        return did_callable(p)

    res = placebo_in_time_for(panel, estimator=spy)
    months = pd.date_range("2021-04-01", periods=30, freq="MS")
    assert seen[0] == (months[24], months[29], 6)  # the real start, whole panel
    assert seen[1:] == [(months[s], months[s + 5], 6) for s in range(12, 19)]
    assert res.rank == 1


def test_estimator_failures_are_reported_with_the_start():
    def boom(p: pd.DataFrame) -> float:
        if pd.to_datetime(p["month"]).max() < pd.Timestamp("2023-01-01"):
            raise ValueError("singular fit")
        return 0.0

    with pytest.raises(EstimationError, match="boom failed with the start set to 2022-04"):
        placebo_in_time_for(_hand_panel(), estimator=boom)
    with pytest.raises(EstimationError, match="finite"):
        placebo_in_time_for(_hand_panel(), estimator=lambda p: float("nan"))


# -- reporting ----------------------------------------------------------------------------------
def test_result_is_a_diagnostic_never_a_headline():
    res = placebo_in_time(_hand_panel())
    assert isinstance(res, PlaceboTimeResult)
    assert not hasattr(res, "to_estimate")
    text = res.summary()
    assert "not a test" in text and "anti-conservative" in text
    assert "16–17 %" in text and "nominal 7 %" in text
    assert re.search(r"p = 0(?![.\d])", text) is None  # never "p = 0"
    assert "p = 0.13" in text  # 1/8 = 0.125, rounded up
    assert "but it is not one" in text
    assert "the largest fall of all 8 start dates" in text
    assert "2022-04 to 2022-10" in text
    tidy = res.tidy()
    assert len(tidy) == 1 and "p_value" not in tidy.columns
    assert tidy.loc[0, "role"] == "diagnostic"
    assert tidy.loc[0, "diagnostic_p"] == pytest.approx(1 / 8)
    assert res.to_dict()["diagnostic_p"] == pytest.approx(1 / 8)


def test_input_panel_not_mutated():
    panel = _hand_panel()
    panel["month"] = panel["month"].dt.strftime("%Y-%m")  # string months work too
    before = panel.copy(deep=True)
    placebo_in_time(panel)
    placebo_in_time_for(panel, estimator=did_callable)
    pd.testing.assert_frame_equal(panel, before)


def test_bad_options_and_panels():
    panel = _hand_panel()
    with pytest.raises(OptionError, match="statistic"):
        placebo_in_time(panel, statistic="t")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="direction"):
        placebo_in_time(panel, direction="down")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="longer than the 6 months"):
        placebo_in_time(panel, window=7)
    with pytest.raises(OptionError, match="no fake start fits"):
        placebo_in_time(panel, window=6, min_pre=19)
    with pytest.raises(OptionError, match="more than min_pre"):
        placebo_in_time(panel, min_pre=24)
    with pytest.raises(OptionError, match="min_pre"):
        placebo_in_time(panel, min_pre=0)
    gappy = panel.loc[panel["month"] != pd.Timestamp("2021-06-01")]
    with pytest.raises(DataValidationError, match="consecutive"):
        placebo_in_time(gappy)
    counts, treated, post = _hand_counts()
    odd = post.copy()
    odd[5] = True
    with pytest.raises(DataValidationError, match="after the pre months"):
        placebo_in_time(panel_from_array(counts, treated=treated, post=odd))


# -- scale (speed is measured in benchmarks/bench_inference.py, not asserted here) ---------------
def test_five_thousand_areas_by_48_months():
    rng = np.random.default_rng(0)
    counts = rng.poisson(8.0, size=(5_000, 48))
    treated = np.zeros(5_000, dtype=bool)
    treated[17] = True
    panel = panel_from_array(counts, treated=treated, post=np.arange(48) >= 36)
    res = placebo_in_time(panel)
    assert res.n_fake == 13


# -- why the p is a diagnostic ------------------------------------------------------------------
def test_overlapping_windows_make_the_p_anti_conservative():
    """Under no effect the real start is 'most extreme' far more often than 1/(1 + n_fake).

    The methods note's setting: 17 wards, one treated, 36 pre + 12 post months, 12-month
    windows, min_pre 12 → 13 fake starts, nominal level 1/14 = 7.1 %. The note reports 16–17 %
    false positives; this construction gives 20–23 % one-sided (12–18 % two-sided) — well
    above nominal either way (nominal + 4 MC standard errors = 9.5 %). With 1-month windows,
    which do not overlap, the rate is back at its nominal 1/25: the overlap is the cause.
    """
    r = 2_000
    sim = simulate_panels(n_reps=r, seed=2024)
    arr = placebo_time_arrays(sim.counts, treated=sim.treated, post=sim.post)
    assert arr.n_reference == 14 and arr.min_p == pytest.approx(1 / 14)
    nominal = arr.min_p
    mc_se = math.sqrt(nominal * (1 - nominal) / r)  # 0.58 points
    rate = float(np.mean(arr.p_one_sided <= nominal + 1e-12))
    assert rate > nominal + 4 * mc_se, f"false positives {rate:.1%} at nominal {nominal:.1%}"
    assert rate > 0.14, f"false positives {rate:.1%}; the methods note reports 16–17 %"
    two = float(np.mean(arr.p_two_sided <= nominal + 1e-12))
    assert two > nominal + 4 * mc_se

    one_month = placebo_time_arrays(sim.counts, treated=sim.treated, post=sim.post, window=1)
    assert one_month.n_reference == 25
    se1 = math.sqrt(0.04 * 0.96 / r)
    rate1 = float(np.mean(one_month.p_one_sided <= one_month.min_p + 1e-12))
    assert abs(rate1 - one_month.min_p) <= 4 * se1, f"{rate1:.1%} at nominal 4 %"

    # the panel API gives the same answer as the vectorised one
    res = placebo_in_time(sim.panel(5))
    assert res.real_statistic == pytest.approx(float(arr.real_statistic[5]), abs=1e-12)
    assert res.rank == int(arr.rank[5])
    np.testing.assert_allclose(res.fake_starts["statistic"], arr.statistic[5], atol=1e-12)
