"""Comparison-area ranking on hand-built panels where the right answer is obvious."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pilot_eval.errors import DataValidationError, OptionError
from pilot_eval.estimators.selection import SelectionResult, rank_comparison_areas

START = pd.Timestamp("2024-01-01")
N_PRE, N_POST = 24, 12
MONTHS = pd.date_range(START - pd.DateOffset(months=N_PRE), periods=N_PRE + N_POST, freq="MS")
T = np.arange(len(MONTHS), dtype=float)
SEASON = np.sin(2 * np.pi * T / 12)


def series(level: float, growth: float = 0.0, season: float = 0.3) -> np.ndarray:
    """Noise-free expected counts: level x exp(growth t + season x sin(2 pi t / 12))."""
    return level * np.exp(growth * T + season * SEASON)


def panel_from(series_by_area: dict[str, tuple[str, np.ndarray]]) -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {
                "outcome": "vawg",
                "area": code,
                "group": group,
                "month": MONTHS,
                "count": y,
                "treated": group == "treated",
                "post": MONTHS >= START,
            }
        )
        for code, (group, y) in series_by_area.items()
    ]
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def hand_built() -> pd.DataFrame:
    treated = series(20, 0.02)
    return panel_from(
        {
            "TREAT": ("treated", treated),
            "BUFFER": ("buffer", treated.copy()),  # identical, but never a candidate
            "SAME": ("comparison", treated.copy()),
            "BIGGER": ("comparison", 3 * treated),  # same shape and trend, 3x the level
            "FLAT": ("comparison", series(20, 0.0)),  # same level, no trend
            "NOSEASON": ("comparison", series(20, 0.02, season=0.0)),
            "OPPOSITE": ("comparison", series(20, -0.02, season=-0.3)),  # mirror image
            "MIDDLE": ("comparison", series(25, 0.01, season=0.1)),
        }
    )


def test_identical_first_opposite_last(hand_built):
    r = rank_comparison_areas(hand_built, outcome="vawg", n=3)
    t = r.tidy()
    assert list(t.columns[:6]) == ["area", "level_gap", "trend_gap", "monthly_gap", "score", "rank"]
    assert t.iloc[0]["area"] == "SAME" and t.iloc[0]["score"] == pytest.approx(0, abs=1e-9)
    assert t.iloc[-1]["area"] == "OPPOSITE"
    assert "BUFFER" not in set(t["area"]) and "TREAT" not in set(t["area"])
    assert list(t["rank"]) == list(range(1, 7))
    assert r.selected == tuple(t["area"].head(3))


def test_gap_components_match_hand_calculation(hand_built):
    t = rank_comparison_areas(hand_built, outcome="vawg").tidy().set_index("area")
    m = series(20, 0.02)[:N_PRE].mean()
    # (a) level: |log((3m + 0.5) / (m + 0.5))| (0.5 offset documented in selection.py).
    assert t.loc["BIGGER", "level_gap"] == pytest.approx(math.log((3 * m + 0.5) / (m + 0.5)))
    # ... and identical shape and trend.
    assert t.loc["BIGGER", "trend_gap"] == pytest.approx(0, abs=1e-8)
    assert t.loc["BIGGER", "monthly_gap"] == pytest.approx(0, abs=1e-12)
    # (b) trend per year: Poisson log-linear fit with month-of-year effects (24 pre months),
    # so exact exponentials with growth +0.02 and -0.02 a month give 0.24 - (-0.24) = 0.48,
    # whatever their seasonal shapes.
    assert t.loc["OPPOSITE", "trend_gap"] == pytest.approx(0.48, rel=1e-8)
    assert t.loc["NOSEASON", "trend_gap"] == pytest.approx(0, abs=1e-8)
    assert t.loc["FLAT", "trend_gap"] == pytest.approx(0.24, rel=1e-8)
    # (c) monthly: the mirror image of a standardised series is sqrt(2 (1 - r)) = 2 at r = -1;
    # OPPOSITE is nearly that (its trend is mirrored too).
    assert t.loc["OPPOSITE", "monthly_gap"] == pytest.approx(2.0, abs=0.05)
    z = lambda y: (y - y.mean()) / y.std()  # noqa: E731
    a, b = series(20, 0.02)[:N_PRE], series(20, 0.0)[:N_PRE]
    assert t.loc["FLAT", "monthly_gap"] == pytest.approx(np.sqrt(np.mean((z(a) - z(b)) ** 2)))
    # score = mean over components of gap / mean(gap over candidates), equal weights.
    gaps = t[["level_gap", "trend_gap", "monthly_gap"]]
    np.testing.assert_allclose(t["score"], (gaps / gaps.mean()).mean(axis=1), rtol=1e-12)


def test_weights_change_the_ranking(hand_built):
    shape_only = rank_comparison_areas(hand_built, outcome="vawg", weights=(0, 0, 1)).tidy()
    # Level ignored: BIGGER ties SAME at 0 (ties keep area-code order).
    assert list(shape_only["area"][:2]) == ["BIGGER", "SAME"]
    level_only = rank_comparison_areas(hand_built, outcome="vawg", weights=(1, 0, 0)).tidy()
    assert level_only.iloc[-1]["area"] == "BIGGER"
    with pytest.raises(OptionError, match="weights"):
        rank_comparison_areas(hand_built, outcome="vawg", weights=(1, -1, 1))
    with pytest.raises(OptionError, match="weights"):
        rank_comparison_areas(hand_built, outcome="vawg", weights=(0, 0, 0))
    with pytest.raises(OptionError, match="n must be"):
        rank_comparison_areas(hand_built, outcome="vawg", n=0)


def test_only_pre_period_used_and_input_unchanged(hand_built):
    changed = hand_built.copy()
    after = (changed["area"] == "OPPOSITE") & changed["post"]
    changed.loc[after, "count"] = 1000.0  # post-period data must not matter
    before = changed.copy()
    a = rank_comparison_areas(hand_built, outcome="vawg").tidy()
    b = rank_comparison_areas(changed, outcome="vawg").tidy()
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(changed, before)


def test_several_treated_areas_matched_on_their_mean_and_named_area():
    base = series(20, 0.02)
    p = panel_from(
        {
            "T1": ("treated", 0.5 * base),
            "T2": ("treated", 1.5 * base),  # mean of T1, T2 = base
            "MATCH": ("comparison", base.copy()),
            "OTHER": ("comparison", series(5, -0.01)),
        }
    )
    r = rank_comparison_areas(p, outcome="vawg")
    assert isinstance(r, SelectionResult)
    assert r.treated == "the mean of 2 treated areas" and r.selected[0] == "MATCH"
    assert r.tidy().iloc[0]["level_gap"] == pytest.approx(0, abs=1e-12)
    named = rank_comparison_areas(p, outcome="vawg", treated_area="T1")
    assert named.treated == "T1" and named.tidy().iloc[0]["trend_gap"] == pytest.approx(0, abs=1e-8)
    with pytest.raises(DataValidationError, match="not an area"):
        rank_comparison_areas(p, outcome="vawg", treated_area="NOPE")
    text = r.summary()
    assert "MATCH" in text and "regression to the mean" in text


def test_noisy_counts_still_find_the_twin():
    # Poisson counts around the hand-built means: the area whose expected series is the
    # treated one's still ranks first (seeded).
    rng = np.random.default_rng(7)
    base = series(30, 0.02, season=0.4)
    p = panel_from(
        {
            "TREAT": ("treated", rng.poisson(base)),
            "TWIN": ("comparison", rng.poisson(base)),
            **{
                f"C{k}": ("comparison", rng.poisson(series(lv, g, s)))
                for k, (lv, g, s) in enumerate(
                    [(10, 0.0, 0.1), (60, -0.01, 0.2), (30, -0.02, -0.4), (15, 0.03, 0.0)]
                )
            },
        }
    )
    t = rank_comparison_areas(p, outcome="vawg").tidy()
    assert t.iloc[0]["area"] == "TWIN"
    assert t.iloc[0]["score"] < 0.5 * t.iloc[1]["score"]  # measured 0.17 vs 0.91
    # The mirror-image season (C2) has the largest month-by-month gap (measured 1.91).
    assert t.set_index("area")["monthly_gap"].idxmax() == "C2"
