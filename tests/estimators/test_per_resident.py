"""Crimes per 1,000 residents a year, by group and window."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pilot_eval.errors import DataValidationError
from pilot_eval.estimators.per_resident import rates_per_resident


def _panel() -> pd.DataFrame:
    months = pd.date_range("2023-01-01", periods=24, freq="MS")
    rows = []
    for area, group, per_month in (
        ("T", "treated", 5),
        ("C1", "comparison", 2),
        ("C2", "comparison", 4),
    ):
        for m in months:
            rows.append(("x", area, group, m, per_month, group == "treated", m >= months[12]))
    return pd.DataFrame(
        rows, columns=["outcome", "area", "group", "month", "count", "treated", "post"]
    )


def test_rates_by_hand():
    pop = pd.DataFrame({"area": ["T", "C1", "C2"], "population": [2000.0, 1000.0, 3000.0]})
    r = rates_per_resident(_panel(), pop, outcome="x")
    assert r.pre_months == r.post_months == 12
    assert r.treated_pre == 60 and r.comparison_post == 72
    assert math.isclose(r.treated_pre_rate, 1000 * 60 / 2000)  # 12 months: a year
    assert math.isclose(r.comparison_post_rate, 1000 * 72 / 4000)
    assert list(r.tidy()["group"]) == ["treated", "comparison"]
    assert "per 1,000 residents" in r.summary()


def test_missing_area_is_refused():
    pop = pd.DataFrame({"area": ["T", "C1"], "population": [2000.0, 1000.0]})
    with pytest.raises(DataValidationError, match="C2"):
        rates_per_resident(_panel(), pop, outcome="x")
    assert np.isnan(
        rates_per_resident(
            _panel(),
            pd.DataFrame({"area": ["T", "C1", "C2"], "population": [0.0, 1, 1]}),
            outcome="x",
        ).treated_pre_rate
    )
