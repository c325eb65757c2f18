"""Panel-first crime-science designs equal their count-level twins on the panel's totals.

The reference is what ``pilot_eval.pipeline.evaluate`` computed before the panel-first
functions existed: totals by group x post (the pipeline's ``_totals``, copied below), then
``wdd_scaled((c_pre, c_post), (t_pre, t_post), (c_pre, c_post) if has_buffer else None,
buffer if has_buffer else None, alpha=alpha, dispersion=phi)`` and ``log_irr((c_pre, c_post),
(t_pre, t_post), alpha=alpha, dispersion=phi)``.
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from pilot_eval import columns as C
from pilot_eval.errors import DataValidationError, OptionError
from pilot_eval.estimators import (
    log_irr,
    log_irr_counts,
    panel_dispersion_test,
    running_wdd,
    wdd,
    wdd_counts,
    wdd_harm,
    wdd_harm_counts,
    wdd_scaled,
    wdd_scaled_counts,
    wdq,
    wdq_counts,
)


def _pipeline_totals(panel: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """``pilot_eval.pipeline._totals`` as it was when the panel-first designs were added."""
    df = panel[panel[C.OUTCOME] == outcome]
    t = (
        df.groupby([C.GROUP, C.POST], observed=True)[C.COUNT]
        .sum()
        .unstack(C.POST)
        .reindex(columns=[False, True], fill_value=0)
        .rename(columns={False: "pre", True: "post"})
    )
    order = [g for g in C.GROUPS if g in t.index]
    return t.loc[order].reset_index()


def _assert_same(a, b) -> None:
    assert type(a) is type(b)
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, float) and math.isfinite(x):
            assert y == pytest.approx(x, rel=1e-12, abs=1e-12), f.name
        elif isinstance(x, float):
            assert math.isnan(x) == math.isnan(y) and (math.isnan(x) or x == y), f.name
        else:
            assert x == y, f.name


@pytest.mark.parametrize("buffer", [True, False])
def test_wdd_scaled_and_log_irr_equal_the_pipeline_calls(sim_panel, buffer):
    outcome, alpha = "simulated", 0.05
    panel = sim_panel(seed=41, buffer=buffer, effect=0.8)
    before = panel.copy(deep=True)
    phi = max(1.0, float(panel_dispersion_test(panel, outcome=outcome, alpha=alpha).dispersion))

    totals = _pipeline_totals(panel, outcome).set_index(C.GROUP)
    t_pre, t_post = (float(v) for v in totals.loc["treated", ["pre", "post"]])
    c_pre, c_post = (float(v) for v in totals.loc["comparison", ["pre", "post"]])
    has_buffer = "buffer" in totals.index
    assert has_buffer is buffer
    ref_wdd = wdd_scaled_counts(
        (c_pre, c_post),
        (t_pre, t_post),
        (c_pre, c_post) if has_buffer else None,
        tuple(float(v) for v in totals.loc["buffer", ["pre", "post"]]) if has_buffer else None,
        alpha=alpha,
        dispersion=phi,
    )
    ref_irr = log_irr_counts((c_pre, c_post), (t_pre, t_post), alpha=alpha, dispersion=phi)

    got_wdd = wdd_scaled(panel, outcome=outcome, alpha=alpha, dispersion=phi)
    got_irr = log_irr(panel, outcome=outcome, alpha=alpha, dispersion=phi)
    _assert_same(ref_wdd, got_wdd)
    _assert_same(ref_irr, got_irr)
    assert got_wdd == ref_wdd and got_irr == ref_irr  # exactly the same numbers
    assert got_wdd.has_displacement is buffer
    assert got_wdd.summary() == ref_wdd.summary()
    pd.testing.assert_frame_equal(panel, before)  # input not modified


@pytest.mark.parametrize("buffer", [True, False])
def test_wdd_is_the_count_wdd_over_the_post_period(sim_panel, buffer):
    panel = sim_panel(seed=42, buffer=buffer, n_areas=6, n_pre=24, n_post=12)
    tot = _pipeline_totals(panel, "simulated").set_index(C.GROUP)
    t = tuple(float(v) for v in tot.loc["treated", ["pre", "post"]])
    c = tuple(float(v) for v in tot.loc["comparison", ["pre", "post"]])
    b = tuple(float(v) for v in tot.loc["buffer", ["pre", "post"]]) if buffer else (0, 0)
    ref = wdd_counts(c, t, c if buffer else (0, 0), b, time_weights=(2, 1), alpha=0.05)
    got = wdd(panel, outcome="simulated")
    _assert_same(ref, got)
    # The local term is the running WDD's final month (which also uses P / j time weights).
    final = running_wdd(panel, outcome="simulated", alpha=0.05).final
    assert got.est_local == pytest.approx(float(final["est_local"]), abs=1e-9)
    assert got.se_local == pytest.approx(float(final["se_local"]), rel=1e-12)


def test_wdq_and_wdd_harm_panel_first(sim_panel):
    panel = sim_panel(seed=43, buffer=True, n_areas=6)
    tot = _pipeline_totals(panel, "simulated").set_index(C.GROUP)
    t, b, c = (
        tuple(float(v) for v in tot.loc[g, ["pre", "post"]])
        for g in ("treated", "buffer", "comparison")
    )
    _assert_same(wdq_counts(t, b, c), wdq(panel, outcome="simulated"))
    with pytest.raises(DataValidationError, match="no 'buffer' area"):
        wdq(sim_panel(seed=43, n_areas=6), outcome="simulated")

    two = pd.concat([panel, panel.assign(outcome="other")], ignore_index=True)
    h = wdd_harm(two, weights={"simulated": 2.0, "other": 0.5})
    r = wdd(panel, outcome="simulated")
    ref = wdd_harm_counts([r.est_total] * 2, [r.se_total] * 2, [2.0, 0.5], alpha=0.05)
    assert h.est == pytest.approx(ref.est, rel=1e-12) and h.se == pytest.approx(ref.se, rel=1e-12)
    assert list(h.components.index) == ["simulated", "other"]
    with pytest.raises(OptionError, match="term"):
        wdd_harm(two, weights={"simulated": 1.0}, term="both")  # type: ignore[arg-type]


def test_panel_first_refusals(sim_panel):
    panel = sim_panel(seed=44, n_areas=5)
    with pytest.raises(DataValidationError, match="no rows for outcome"):
        wdd(panel, outcome="robbery")
    with pytest.raises(DataValidationError, match="lacks the columns"):
        log_irr(panel.drop(columns=[C.POST]), outcome="simulated")
    no_comparison = panel.assign(**{C.GROUP: panel[C.GROUP].where(panel[C.TREATED], "buffer")})
    with pytest.raises(DataValidationError, match="no 'comparison' area"):
        wdd_scaled(no_comparison, outcome="simulated")
    with pytest.raises(OptionError, match="alpha"):
        wdd_scaled(panel, outcome="simulated", alpha=1.5)
    with pytest.raises(OptionError, match="dispersion"):
        log_irr(panel, outcome="simulated", dispersion=-1)
