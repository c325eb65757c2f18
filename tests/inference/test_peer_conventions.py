"""Cross-checks with peer libraries, and where their conventions differ from ours (and why).

- pyfixest ``fepois``: the Poisson two-way FE DiD estimate equals our DiD log ratio (monthly
  TWFE with one treated area, and the two-period table): the conventions agree.
- pysyncon ``PlaceboTest.pvalue``: leaves the treated unit out of the count of placebos at
  least as extreme (``rmspe.drop(treated) >= rmspe[treated]``) but divides by all ``N``, so a
  treated unit that is the most extreme gets p = 0. The standard answer is ``1/N``: the
  treated unit is part of its own reference set (Abadie, Diamond & Hainmueller 2010, JASA
  105(490), sec. 2.4; Firpo & Possebom 2018, Journal of Causal Inference 6(2)), and a
  permutation p-value is never 0 (Phipson & Smyth 2010, SAGMB 9(1)).
- pyfixest ``ritest``: re-draws the treatment indicator at random cell by cell (or cluster by
  cluster, for every month), not "which area was treated", and reports the share of draws at
  least as extreme without the observed one, so it too can return p = 0.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pilot_eval.inference import placebo_in_space

pf = pytest.importorskip("pyfixest")
pysyncon_utils = pytest.importorskip("pysyncon.utils")


@pytest.fixture(scope="module")
def panel(sim_panel) -> pd.DataFrame:
    df = sim_panel(effect=0.4, treated=[12], seed=31)
    return df.assign(
        tp=(df["treated"] & df["post"]).astype(int),
        month_id=df["month"].dt.year * 100 + df["month"].dt.month,
        area_id=pd.factorize(df["area"])[0],
    )


# -- pyfixest fepois: agreement -----------------------------------------------------------------
def test_fepois_monthly_twfe_equals_our_did_log_ratio(panel):
    ours = placebo_in_space(panel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.fepois("count ~ tp | area + month_id", data=panel, vcov={"CRV1": "area"})
    assert float(fit.coef()["tp"]) == pytest.approx(ours.log_ratio, abs=1e-6)


def test_fepois_two_period_equals_our_did_log_ratio(panel):
    ours = placebo_in_space(panel)
    two = panel.groupby(["area", "post"], as_index=False).agg(
        count=("count", "sum"), tp=("tp", "max")
    )
    two["period"] = two["post"].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.fepois("count ~ tp | area + period", data=two, vcov="iid")
    assert float(fit.coef()["tp"]) == pytest.approx(ours.log_ratio, abs=1e-6)


# -- pysyncon: the treated unit left out of its own reference set -------------------------------
def _gaps(panel: pd.DataFrame) -> pd.DataFrame:
    """A DiD-style gap series per area: log of its counts relative to all other areas."""
    wide = panel.pivot(index="month", columns="area", values="count").astype(float)
    others = wide.sum(axis=1).to_numpy()[:, None] - wide
    pre = ~panel.groupby("month")["post"].first().to_numpy()
    rel = np.log((wide + 0.5) / (others + 0.5))
    gaps = rel - rel.loc[pre].mean()
    gaps.index = np.arange(1, len(gaps) + 1)
    return gaps


def test_pysyncon_placebo_p_value_is_zero_where_the_standard_answer_is_one_over_n(panel):
    ours = placebo_in_space(panel)
    assert ours.rank == 1 and ours.p_one_sided == pytest.approx(1 / 17)

    gaps = _gaps(panel)
    treated = ours.treated_areas[0]
    test = pysyncon_utils.PlaceboTest()
    test.gaps = gaps.drop(columns=treated)
    test.treated_gap = gaps[treated]
    t0 = int((~panel.groupby("month")["post"].first()).sum())
    p_peer = test.pvalue(treatment_time=t0)

    # the same post/pre RMSPE ratios, ranked with the treated unit counted (the standard)
    num = gaps.loc[t0:].pow(2).sum() / (len(gaps) - t0)
    den = gaps.loc[:t0].pow(2).sum() / t0
    ratio = num / den
    assert ratio.idxmax() == treated  # the treated area is the most extreme
    p_standard = float((ratio >= ratio[treated]).sum() / len(ratio))

    assert p_peer == 0.0  # impossible for a permutation test
    assert p_standard == pytest.approx(1 / 17) == pytest.approx(ours.p_one_sided)
    assert p_standard == pytest.approx(p_peer + 1 / 17)  # the peer drops exactly one: itself


# -- pyfixest ritest: treatment re-drawn cell by cell -------------------------------------------
def test_pyfixest_ritest_redraws_treatment_cell_by_cell(panel):
    from pyfixest.estimation.post_estimation.ritest import _resample

    d = panel["tp"].to_numpy()
    draw = _resample(resampvar_arr=d, rng=np.random.default_rng(0), iterations=200)
    # the design treats one area in its 12 post months: 12 of 816 cells...
    assert d.sum() == 12
    # ...but ritest's placebo assignments treat about half of all cells, in every area, pre too
    assert 0.4 < draw.mean() < 0.6
    per_area = pd.DataFrame(draw[:, 0]).groupby(panel["area"].to_numpy()).sum()
    assert (per_area[0] > 0).sum() > 10
    # with a cluster, whole areas are switched on for all 48 months (not just the post period)
    clustered = _resample(
        resampvar_arr=d,
        clustervar_arr=panel["area_id"].to_numpy().reshape(-1, 1),
        rng=np.random.default_rng(0),
        iterations=1,
    )
    on = pd.Series(clustered[:, 0]).groupby(panel["area"].to_numpy()).mean()
    assert set(on.unique()) <= {0.0, 1.0} and on.sum() > 1


def test_pyfixest_ritest_can_report_zero_where_ours_cannot(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.fepois("count ~ tp | area + month_id", data=panel, vcov="iid")
        out = fit.ritest("tp", reps=20, rng=np.random.default_rng(2))
    p_peer = float(out["Pr(>|t|)"])
    assert p_peer == 0.0  # no draw as extreme, and the observed assignment is not counted
    ours = placebo_in_space(panel)
    assert ours.p_two_sided >= ours.min_p == pytest.approx(1 / 17)
