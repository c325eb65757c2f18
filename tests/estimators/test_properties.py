"""Property-based checks of the estimators (hypothesis): symmetries every ratio must have.

- swapping before and after inverts a ratio (negates its log, keeps its standard error);
- scaling every count by k leaves a ratio unchanged (and scales a count difference by k);
- a comparison area with no crimes at all changes no point estimate;
- no NaN or infinity escapes into ``results.json`` (strict JSON).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilot_eval import columns as C
from pilot_eval.estimators import log_irr, log_irr_counts, poisson_did, wdd_counts
from pilot_eval.inference import did_log_ratio
from pilot_eval.results import Estimate, ResultsDocument

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
count = st.integers(min_value=1, max_value=50_000)
pair = st.tuples(count, count)


@FAST
@given(control=pair, treated=pair)
def test_log_irr_swapping_pre_and_post_inverts_the_ratio(control, treated):
    a = log_irr_counts(control, treated)
    b = log_irr_counts(control[::-1], treated[::-1])
    assert b.est == pytest.approx(-a.est, abs=1e-12)
    assert b.irr * a.irr == pytest.approx(1.0, rel=1e-12)
    assert b.se == pytest.approx(a.se, rel=1e-12)
    assert b.p_value == pytest.approx(a.p_value, rel=1e-9, abs=1e-300)


@FAST
@given(control=pair, treated=pair, k=st.integers(min_value=2, max_value=1000))
def test_log_irr_scaling_every_count_leaves_the_ratio(control, treated, k):
    a = log_irr_counts(control, treated)
    b = log_irr_counts([k * c for c in control], [k * t for t in treated])
    assert b.irr == pytest.approx(a.irr, rel=1e-12)
    assert b.se == pytest.approx(a.se / math.sqrt(k), rel=1e-9)  # more crimes, more precision


@FAST
@given(
    t_pre=count, t_post=count, c_pre=count, c_post=count, k=st.integers(min_value=2, max_value=1000)
)
def test_did_log_ratio_swap_and_scale(t_pre, t_post, c_pre, c_post, k):
    est, se = did_log_ratio(*(np.array([float(v)]) for v in (t_pre, t_post, c_pre, c_post)))
    swapped, se_s = did_log_ratio(*(np.array([float(v)]) for v in (t_post, t_pre, c_post, c_pre)))
    scaled, _ = did_log_ratio(*(np.array([float(k * v)]) for v in (t_pre, t_post, c_pre, c_post)))
    assert swapped[0] == pytest.approx(-est[0], abs=1e-12)
    assert se_s[0] == pytest.approx(se[0], rel=1e-12)
    assert scaled[0] == pytest.approx(est[0], abs=1e-12)


@FAST
@given(control=pair, treated=pair, k=st.integers(min_value=2, max_value=100))
def test_wdd_swap_negates_and_scaling_scales_the_difference(control, treated, k):
    a = wdd_counts(control, treated)
    b = wdd_counts(control[::-1], treated[::-1])
    c = wdd_counts([k * v for v in control], [k * v for v in treated])
    assert b.est_local == pytest.approx(-a.est_local, abs=1e-9)
    assert b.se_local == pytest.approx(a.se_local, rel=1e-12)
    assert c.est_local == pytest.approx(k * a.est_local, rel=1e-12, abs=1e-9)
    if a.se_local > 0:  # z grows like sqrt(k): same effect, k times the data
        assert c.z * a.se_local * k == pytest.approx(a.z * c.se_local * k, rel=1e-9, abs=1e-9)


def _panel(counts: dict[str, list[int]], *, treated: str, n_pre: int) -> pd.DataFrame:
    months = pd.date_range("2023-01", periods=len(next(iter(counts.values()))), freq="MS")
    rows = []
    for area, series in counts.items():
        for i, (m, y) in enumerate(zip(months, series, strict=True)):
            rows.append(
                {
                    C.OUTCOME: "crime",
                    C.AREA: area,
                    C.GROUP: "treated" if area == treated else "comparison",
                    C.MONTH: m,
                    C.COUNT: y,
                    C.TREATED: area == treated,
                    C.POST: i >= n_pre,
                }
            )
    return pd.DataFrame(rows)


series = st.lists(st.integers(min_value=1, max_value=80), min_size=8, max_size=8)


@settings(max_examples=15, deadline=None)
@given(t=series, c1=series, c2=series)
def test_a_comparison_area_without_crimes_changes_no_estimate(t, c1, c2):
    base = _panel({"T": t, "C1": c1, "C2": c2}, treated="T", n_pre=5)
    more = _panel({"T": t, "C1": c1, "C2": c2, "Z": [0] * 8}, treated="T", n_pre=5)
    assert log_irr(more, outcome="crime").irr == pytest.approx(
        log_irr(base, outcome="crime").irr, rel=1e-12
    )
    # the two-way Poisson model: an area with no crimes has no information on the effect
    a, b = poisson_did(base, outcome="crime"), poisson_did(more, outcome="crime")
    assert b.irr == pytest.approx(a.irr, rel=1e-6)


@settings(max_examples=15, deadline=None)
@given(t=series, c1=series, k=st.integers(min_value=2, max_value=20))
def test_poisson_did_swapping_and_scaling(t, c1, k):
    a = poisson_did(
        _panel({"T": t, "C1": c1, "C2": c1[::-1]}, treated="T", n_pre=4), outcome="crime"
    )
    swapped = _panel(
        {"T": t[4:] + t[:4], "C1": c1[4:] + c1[:4], "C2": (c1[::-1])[4:] + (c1[::-1])[:4]},
        treated="T",
        n_pre=4,
    )
    b = poisson_did(swapped, outcome="crime")
    assert b.irr * a.irr == pytest.approx(1.0, rel=1e-6)
    scaled = _panel(
        {"T": [k * v for v in t], "C1": [k * v for v in c1], "C2": [k * v for v in c1[::-1]]},
        treated="T",
        n_pre=4,
    )
    assert poisson_did(scaled, outcome="crime").irr == pytest.approx(a.irr, rel=1e-6)


def _strict(text: str) -> object:
    def refuse(token: str) -> None:
        raise AssertionError(f"{token} in results.json")

    return json.loads(text, parse_constant=refuse)


finite_or_not = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([math.nan, math.inf, -math.inf])
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(est=finite_or_not, lo=finite_or_not, hi=finite_or_not)
def test_no_nan_or_infinity_escapes_into_results_json(tmp_path, est, lo, hi):
    doc = ResultsDocument(
        pilot="x",
        synthetic=True,
        estimates=(Estimate("crime", "m", est, lo, hi, None, "ratio", 0.9),),
    )
    path = doc.write(tmp_path / "results.json")
    row = _strict(path.read_text())["estimates"][0]  # type: ignore[index]
    for value, key in ((est, "estimate"), (lo, "ci_low"), (hi, "ci_high")):
        if math.isnan(value):
            assert row[key] is None
        elif math.isinf(value):
            assert row[key] == ("inf" if value > 0 else "-inf")
        else:
            assert row[key] == value


def test_a_nan_outside_the_estimates_is_refused_not_written(tmp_path):
    """``extra`` blocks are not cleaned: a NaN there makes write fail loudly (never NaN in the file)."""
    doc = ResultsDocument(
        pilot="x", synthetic=True, estimates=(), extra={"power": {"mde": math.nan}}
    )
    with pytest.raises(ValueError, match="JSON compliant"):
        doc.write(tmp_path / "results.json")
    assert not (tmp_path / "results.json").exists()
