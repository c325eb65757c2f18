"""Two-way FE count DiD and event study: cross-checked against pyfixest and statsmodels.

Peers used as independent checks:
- pyfixest 0.60 ``fepois`` (IRLS with demeaned fixed effects, its own code path);
- statsmodels formula GLM (Pearson dispersion) and discrete ``NegativeBinomial`` (joint MLE).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from pilot_eval.errors import DataValidationError, InferenceRefusedError, OptionError
from pilot_eval.estimators.did import DidResult, event_study, poisson_did
from pilot_eval.results import Estimate

START = pd.Timestamp("2024-01-01")


# Kept rather than the shared ``sim_panel`` fixture: the pyfixest cross-checks, the measured
# pre-trend p-values quoted below and the all-zero treated months depend on this generator's
# NB2 draws, seeds, area codes and start date.
def nb_panel(
    *,
    seed: int,
    n_areas: int = 17,
    n_treated: int = 1,
    n_pre: int = 36,
    n_post: int = 12,
    effect: float = 1.0,
    size: float = 5.0,
    pretrend: float = 0.0,
    mean_range: tuple[float, float] = (5.0, 40.0),
    buffer: bool = False,
) -> pd.DataFrame:
    """Seeded negative-binomial panel in the panel contract, with a known effect.

    Counts ~ NB2(mean mu, size) (variance mu + mu^2 / size); mu = area level x common
    seasonal month effect x ``effect`` for treated areas after the start x
    ``exp(pretrend * min(rel, 0))`` for treated areas before it (a trend that stops at the
    start). Areas ``A00``.. are treated first; an optional buffer area ``BUFFER``.
    """
    rng = np.random.default_rng(seed)
    months = pd.date_range(START - pd.DateOffset(months=n_pre), periods=n_pre + n_post, freq="MS")
    T = len(months)
    rel = np.arange(T) - n_pre
    season = 0.15 * np.sin(2 * np.pi * np.arange(T) / 12) + rng.normal(0, 0.05, T)
    frames = []
    codes = [f"A{i:02d}" for i in range(n_areas)] + (["BUFFER"] if buffer else [])
    for i, code in enumerate(codes):
        treated = i < n_treated
        mu = rng.uniform(*mean_range) * np.exp(season)
        if treated:
            mu = mu * np.where(rel >= 0, effect, 1.0) * np.exp(pretrend * np.minimum(rel, 0))
        y = rng.negative_binomial(size, size / (size + mu))
        group = "treated" if treated else ("buffer" if code == "BUFFER" else "comparison")
        frames.append(
            pd.DataFrame(
                {
                    "outcome": "vawg",
                    "area": code,
                    "group": group,
                    "month": months,
                    "count": y,
                    "treated": treated,
                    "post": rel >= 0,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def with_treat_post(panel: pd.DataFrame) -> pd.DataFrame:
    d = panel.copy()
    d["treat_post"] = (d["treated"] & d["post"]).astype(int)
    d["tr"] = d["treated"].astype(int)
    d["rel"] = (d["month"].dt.year * 12 + d["month"].dt.month) - (START.year * 12 + START.month)
    return d


@pytest.fixture(scope="module")
def one_treated() -> pd.DataFrame:
    return nb_panel(seed=11, effect=0.8)


@pytest.fixture(scope="module")
def many_treated() -> pd.DataFrame:
    # 12 treated of 30 areas: enough treated clusters for cluster-robust SEs to be allowed.
    return nb_panel(seed=5, n_areas=30, n_treated=12, n_pre=24, effect=0.7, mean_range=(20.0, 60.0))


# --- point estimate and model SE against pyfixest --------------------------------------------


def test_poisson_matches_pyfixest_iid(one_treated):
    r = poisson_did(one_treated, outcome="vawg", family="poisson", vcov="model")
    d = with_treat_post(one_treated)
    f = pf.fepois("count ~ treat_post | area + month", data=d, vcov="iid")
    # Reference: pyfixest 0.60 fepois, IRLS tolerance 1e-8 -> coefficients agree to ~1e-9.
    assert r.log_irr == pytest.approx(f.coef().iloc[0], abs=1e-6)
    # pyfixest's "iid" multiplies the GLM variance by (n - 1) / (n - k), k = every parameter
    # (1 + 16 area + 47 month + 1 = 65); without that factor it is exactly the model SE.
    f0 = pf.fepois("count ~ treat_post | area + month", data=d, vcov="iid", ssc=pf.ssc(k_adj=False))
    assert r.se == pytest.approx(f0.se().iloc[0], rel=1e-6)
    n, k = r.n_obs, 1 + (r.n_areas - 1) + (r.n_months - 1) + 1
    assert f.se().iloc[0] == pytest.approx(r.se * math.sqrt((n - 1) / (n - k)), rel=1e-6)
    assert r.irr == pytest.approx(math.exp(r.log_irr))
    assert r.ci_low < r.irr < r.ci_high


def test_hc1_matches_pyfixest_hetero(one_treated):
    r = poisson_did(one_treated, outcome="vawg", vcov="hc1")
    f = pf.fepois(
        "count ~ treat_post | area + month", data=with_treat_post(one_treated), vcov="hetero"
    )
    # pyfixest "hetero" = HC0 x n / (n - k), the same correction as ours (statsmodels' GLM
    # returns HC0 for every HCx, so pilot-eval applies n / (n - k) itself). Tolerance 1e-6.
    assert r.se == pytest.approx(f.se().iloc[0], rel=1e-6)
    assert "serial correlation" in r.note


def test_quasipoisson_se_is_poisson_se_times_sqrt_pearson_dispersion(one_treated):
    pois = poisson_did(one_treated, outcome="vawg", family="poisson")
    qp = poisson_did(one_treated, outcome="vawg", family="quasipoisson")
    d = with_treat_post(one_treated)
    ref = smf.glm(
        "count ~ treat_post + C(area) + C(month)", data=d, family=sm.families.Poisson()
    ).fit()
    phi = ref.pearson_chi2 / ref.df_resid  # statsmodels formula interface, independent design
    assert qp.log_irr == pytest.approx(pois.log_irr, abs=1e-10)
    assert qp.dispersion == pytest.approx(phi, rel=1e-8)
    assert qp.se == pytest.approx(pois.se * math.sqrt(phi), rel=1e-8)
    # Robust SEs do not depend on the scale.
    assert poisson_did(one_treated, outcome="vawg", family="quasipoisson", vcov="hc1").se == (
        pytest.approx(poisson_did(one_treated, outcome="vawg", vcov="hc1").se, rel=1e-8)
    )
    # These NB counts are over-dispersed, so the Poisson result carries the warning.
    assert pois.dispersion > 1.5 and "over-dispersed" in pois.note
    assert "over-dispersed" not in qp.note


def test_negbin_alpha_matches_statsmodels_joint_mle(one_treated):
    r = poisson_did(one_treated, outcome="vawg", family="negbin")
    d = with_treat_post(one_treated)
    X = pd.get_dummies(d[["area", "month"]].astype(str), drop_first=True, dtype=float)
    X.insert(0, "const", 1.0)
    X.insert(0, "treat_post", d["treat_post"].astype(float))
    y = d["count"].to_numpy(float)
    start = sm.GLM(y, X, family=sm.families.Poisson()).fit().params
    ref = sm.NegativeBinomial(y, X, loglike_method="nb2").fit(
        start_params=np.append(start, 0.1), method="newton", maxiter=100, disp=0
    )
    # Alternating alpha / GLM steps (glm.nb style, stop at 1e-8 in log alpha) vs joint Newton
    # MLE: measured agreement ~1e-7; tolerance 1e-4.
    assert r.nb_alpha == pytest.approx(ref.params.iloc[-1], rel=1e-4)
    assert r.log_irr == pytest.approx(ref.params.iloc[0], abs=1e-4)
    # The truth is size = 5 -> alpha = 0.2 (simulation; a loose sanity bound).
    assert 0.1 < r.nb_alpha < 0.35


# --- simulation with a known effect; cluster-robust with many treated ------------------------


def test_known_effect_recovered_and_cluster_se_matches_pyfixest_crv1(many_treated):
    r = poisson_did(many_treated, outcome="vawg", family="negbin", vcov="cluster")
    # True IRR 0.7 (log -0.357); 12 treated areas x 12 post months of NB counts.
    assert abs(r.log_irr - math.log(0.7)) < 3 * r.se
    assert r.ci_low < 0.7 < r.ci_high
    assert r.n_treated == 12 and r.vcov == "cluster"

    pois = poisson_did(many_treated, outcome="vawg", family="poisson", vcov="cluster")
    d = with_treat_post(many_treated)
    fml = "count ~ treat_post | area + month"
    full = pf.fepois(fml, data=d, vcov={"CRV1": "area"}, ssc=pf.ssc(k_fixef="full"))
    # Ours: G/(G-1) x (n-1)/(n-k) with k counting every fixed effect (statsmodels / Stata
    # convention) = pyfixest CRV1 with ssc(k_fixef="full"). Measured difference 1.4e-6
    # relative (both IRLS stop at tolerance 1e-8); tolerance 1e-5.
    assert pois.se == pytest.approx(full.se().iloc[0], rel=1e-5)
    # pyfixest's default (k_fixef="nonnested") leaves out the area effects, which are nested
    # in the area clusters, so its SE is ours x sqrt((n - k) / (n - k + G - 1)).
    dflt = pf.fepois(fml, data=d, vcov={"CRV1": "area"})
    n, G = pois.n_obs, pois.n_areas
    k = 1 + (G - 1) + (pois.n_months - 1) + 1
    assert dflt.se().iloc[0] == pytest.approx(
        pois.se * math.sqrt((n - k) / (n - k + G - 1)), rel=1e-5
    )


def test_cluster_refused_with_one_treated_area(one_treated):
    with pytest.raises(InferenceRefusedError, match="1 treated area"):
        poisson_did(one_treated, outcome="vawg", vcov="cluster")
    with pytest.raises(InferenceRefusedError):
        event_study(one_treated, outcome="vawg", vcov="cluster")


def test_cluster_refused_below_ten_treated():
    p = nb_panel(seed=3, n_areas=20, n_treated=9)
    with pytest.raises(InferenceRefusedError):
        poisson_did(p, outcome="vawg", vcov="cluster")
    poisson_did(p, outcome="vawg", vcov="hc1")  # other SEs are allowed


# --- event study -----------------------------------------------------------------------------


def _pyfixest_event_coefs(d: pd.DataFrame) -> pd.Series:
    f = pf.fepois("count ~ i(rel, tr, ref=-1) | area + month", data=d)
    coefs = f.coef()
    return pd.Series(
        coefs.to_numpy(),
        index=[int(re.search(r"rel::(-?\d+)", str(k)).group(1)) for k in coefs.index],
    )


def test_event_study_matches_pyfixest(one_treated):
    e = event_study(one_treated, outcome="vawg", family="poisson")
    ours = e.coefficients.set_index("rel_period")
    # Months in which the treated ward recorded nothing have an MLE of -infinity; we report
    # IRR 0 and drop those treated rows (pyfixest keeps them and stops at a large negative
    # number), so pyfixest is given the same rows.
    empty = ours.index[ours["no_crimes"]]
    assert len(empty) >= 1 and (ours.loc[empty, "irr"] == 0).all()
    assert "recorded no crimes" in e.note
    d = with_treat_post(one_treated)
    d = d[~(d["treated"] & d["rel"].isin(empty))]
    ref = _pyfixest_event_coefs(d)
    est = ours.loc[~ours["reference"] & ~ours["no_crimes"], "log_irr"]
    assert sorted(est.index) == sorted(ref.index)
    # Reference: pyfixest 0.60 fepois with i(rel, tr, ref=-1); tolerance 1e-6.
    np.testing.assert_allclose(est.loc[ref.index].to_numpy(), ref.to_numpy(), atol=1e-6)
    assert ours.loc[-1, "irr"] == 1.0 and bool(ours.loc[-1, "reference"])
    tidy = e.tidy()
    assert len(tidy) == 48 and tidy["rel_period"].is_unique
    assert set(tidy["period"]) == {"lead", "lag"}


def test_pretrend_test_size_and_power():
    common = dict(n_areas=24, n_treated=10, size=20.0, mean_range=(40.0, 80.0))
    flat = nb_panel(seed=21, **common)
    e0 = event_study(flat, outcome="vawg", family="negbin", bin_edges="quarter")
    # No pre-trend: the joint test should not reject (one seed; measured p = 0.51, and
    # 0.99 / 0.75 for seeds 22 / 23 -- any p above 0.01 passes).
    assert e0.pretrend_df == 11
    assert e0.pretrend_p > 0.01
    # Treated areas' counts grow 1 % a month before the start, then the trend stops
    # (measured p = 0.0002; 1e-5 for seeds 22 / 23).
    trending = nb_panel(seed=21, pretrend=0.01, **common)
    e1 = event_study(trending, outcome="vawg", family="negbin", bin_edges="quarter")
    assert e1.pretrend_p < 0.01
    assert "parallel-trends assumption is doubtful" in e1.summary()


def test_event_study_bins():
    p = nb_panel(seed=4)
    q = event_study(p, outcome="vawg", bin_edges="quarter")
    assert q.binned and q.ref_period == -3
    assert set(q.coefficients["rel_period"]) == set(range(-36, 12, 3))
    edges = [-36, -24, -12, -6, 0, 6, 12]
    c = event_study(p, outcome="vawg", bin_edges=edges)
    assert c.ref_period == -6
    assert list(c.coefficients["rel_period"]) == edges[:-1]
    assert c.pretrend_df == 3
    with pytest.raises(OptionError, match="cover every month"):
        event_study(p, outcome="vawg", bin_edges=[-12, 0, 12])
    with pytest.raises(OptionError):
        event_study(p, outcome="vawg", bin_edges="year")


# --- contract, wording, errors ---------------------------------------------------------------


def test_result_contract_and_wording(one_treated):
    before = one_treated.copy()
    r = poisson_did(one_treated, outcome="vawg", family="quasipoisson")
    pd.testing.assert_frame_equal(one_treated, before)  # input not mutated
    assert isinstance(r, DidResult)
    with pytest.raises(AttributeError):
        r.irr = 2.0  # frozen
    t = r.tidy()
    assert t.loc[0, "irr"] == r.irr and t.loc[0, "level"] == 0.95
    est = r.to_estimate(outcome="VAWG offences", role="secondary")
    assert isinstance(est, Estimate)
    assert (est.scale, est.level, est.role, est.outcome) == (
        "ratio",
        0.95,
        "secondary",
        "VAWG offences",
    )
    s = r.summary()
    assert not re.search(r"p = 0(?![.\d])", s)  # never "p = 0"
    assert "no effect" not in s.lower()
    assert "serial correlation" in s


def test_strong_effect_p_never_zero():
    p = nb_panel(seed=2, effect=0.2, n_areas=17, mean_range=(80.0, 120.0), size=50.0)
    r = poisson_did(p, outcome="vawg", family="poisson")
    assert "p < 0.001" in r.summary() and not re.search(r"p = 0(?![.\d])", r.summary())
    assert 0 < r.to_estimate().p_value <= 1e-3


def test_buffer_and_all_zero_area():
    p = nb_panel(seed=8, buffer=True)
    assert poisson_did(p, outcome="vawg").n_areas == 17
    assert poisson_did(p, outcome="vawg", include_buffer=True).n_areas == 18
    # A comparison area that never records a crime is dropped (as pyfixest does).
    z = p[p["group"] != "buffer"].copy()
    z.loc[z["area"] == "A16", "count"] = 0
    r = poisson_did(z, outcome="vawg")
    assert r.dropped_areas == ("A16",) and r.n_areas == 16
    f = pf.fepois("count ~ treat_post | area + month", data=with_treat_post(z))
    assert r.log_irr == pytest.approx(f.coef().iloc[0], abs=1e-6)


def test_bad_inputs_have_plain_messages(one_treated):
    with pytest.raises(OptionError, match="family"):
        poisson_did(one_treated, outcome="vawg", family="logit")
    with pytest.raises(OptionError, match="alpha"):
        poisson_did(one_treated, outcome="vawg", alpha=5)
    with pytest.raises(DataValidationError, match="no rows for outcome"):
        poisson_did(one_treated, outcome="burglary")
    with pytest.raises(DataValidationError, match="lacks the columns"):
        poisson_did(one_treated.drop(columns="post"), outcome="vawg")
    unbalanced = one_treated.drop(index=one_treated.index[5])
    with pytest.raises(DataValidationError, match="not balanced"):
        poisson_did(unbalanced, outcome="vawg")
    bad_post = one_treated.copy()
    bad_post.loc[(bad_post["area"] == "A03") & (bad_post["month"] == START), "post"] = False
    with pytest.raises(DataValidationError, match="post"):
        poisson_did(bad_post, outcome="vawg")


def test_every_family_runs(one_treated):
    # Speed is not asserted in unit tests (benchmarks/ measures it).
    for fam in ("poisson", "quasipoisson", "negbin"):
        assert math.isfinite(poisson_did(one_treated, outcome="vawg", family=fam).irr)
    assert len(event_study(one_treated, outcome="vawg", family="quasipoisson").tidy()) == 48
