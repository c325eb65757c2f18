"""Survey difference-in-differences in proportions, Kish effective sample sizes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from pilot_eval.errors import DataValidationError, EstimationError
from pilot_eval.estimators import survey_did

KW = dict(outcome_column="safe", area_column="area", wave_column="wave", treated_areas=["BEL"])


def _responses(seed: int = 11, n: int = 1200, effect: float = 0.08) -> pd.DataFrame:
    """Respondents in one treated ward (BEL) and three comparison wards, two waves."""
    rng = np.random.default_rng(seed)
    area = rng.choice(["BEL", "ERI", "NTH", "THA"], n, p=[0.25, 0.25, 0.25, 0.25])
    wave = rng.choice(["pre", "post"], n)
    p = 0.45 + 0.04 * (wave == "post") + effect * ((area == "BEL") & (wave == "post"))
    return pd.DataFrame(
        {
            "area": area,
            "wave": wave,
            "safe": rng.random(n) < p,
            "w": rng.lognormal(0.0, 0.5, n),
        }
    )


def _lpm_frame(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(
        y=df["safe"].astype(float),
        T=(df["area"] == "BEL").astype(float),
        P=(df["wave"] == "post").astype(float),
    )


def test_unweighted_matches_linear_probability_model():
    # Peer check (statsmodels OLS): the saturated LPM y ~ T * P has interaction = the DiD in
    # proportions (tolerance 1e-12); its HC0 SE equals ours (1e-10) and HC1 is larger by exactly
    # sqrt(N / (N - 4)) (1e-10), i.e. "similar".
    df = _responses()
    r = survey_did(df, **KW)
    d = _lpm_frame(df)
    hc1 = smf.ols("y ~ T * P", d).fit(cov_type="HC1")
    hc0 = smf.ols("y ~ T * P", d).fit(cov_type="HC0")
    n = len(df)
    assert r.est == pytest.approx(hc1.params["T:P"], abs=1e-12)
    assert r.se == pytest.approx(hc0.bse["T:P"], rel=1e-10)
    assert hc1.bse["T:P"] / r.se == pytest.approx(math.sqrt(n / (n - 4)), rel=1e-10)
    assert not r.weighted and set(r.cells["deff"]) == {1.0}


def test_weighted_point_estimate_matches_wls_and_kish_design_effect():
    # Peer check (statsmodels WLS): weighted cell means = saturated WLS, so the interaction equals
    # the weighted DiD (1e-12). Kish: n / n_eff = 1 + cv^2 with the population variance of the
    # weights in each cell (identity, 1e-12).
    df = _responses()
    r = survey_did(df, weight_column="w", **KW)
    d = _lpm_frame(df)
    wls = smf.wls("y ~ T * P", d, weights=d["w"]).fit()
    assert r.est == pytest.approx(wls.params["T:P"], abs=1e-12)
    for _, cell in r.cells.iterrows():
        is_t = (df["area"] == "BEL") == (cell["group"] == "treated")
        w = df.loc[is_t & (df["wave"] == cell["wave"]), "w"].to_numpy()
        assert cell["n"] == w.size
        assert cell["deff"] == pytest.approx(1 + w.var() / w.mean() ** 2, rel=1e-12)
    assert r.weighted and "Kish" in r.note


def test_weighted_interval_coverage():
    # Seeded simulation (R = 400 surveys, weights independent of the answer, true DiD 0.08):
    # 95 % Kish-based intervals cover the truth 91-98 % of the time (MC SE ~1.1 %).
    covered = 0
    R = 400
    for i in range(R):
        r = survey_did(_responses(seed=1000 + i, n=800), weight_column="w", **KW)
        covered += r.ci_low <= 0.08 <= r.ci_high
    assert 0.91 <= covered / R <= 0.98


def test_coding_variants_give_the_same_answer_and_input_is_untouched():
    df = _responses()
    before = df.copy(deep=True)
    a = survey_did(df, **KW)
    pd.testing.assert_frame_equal(df, before)
    b = survey_did(df.assign(safe=df["safe"].astype(int), wave=df["wave"].str.upper() + " "), **KW)
    assert a.est == b.est and a.se == b.se
    c = survey_did(df, **{**KW, "treated_areas": "BEL"})
    assert c.est == a.est


def test_missing_answers_dropped_with_note():
    df = _responses().astype({"safe": "object"})
    df.loc[df.index[:5], "safe"] = np.nan
    r = survey_did(df, **KW)
    assert r.n_dropped == 5 and "5 response(s)" in r.note
    assert r.cells["n"].sum() == len(df) - 5


def test_summary_and_tidy():
    r = survey_did(_responses(effect=0.0), **KW)
    s = r.summary()
    assert "percentage points" in s or "did not change" in s
    if r.p_value >= 0.05:
        assert "cannot distinguish" in s and "no effect" not in s.lower()
    assert "respondent sampling only" in r.note
    t = r.tidy()
    assert t["scale"].item() == "proportion" and t["estimate"].item() == r.est
    big = survey_did(_responses(n=20000, effect=0.2), **KW)
    assert "p < 0.001" in big.summary()


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.assign(wave=d["wave"].replace("pre", "baseline")), "'pre' or 'post'"),
        (lambda d: d.assign(safe=d["safe"].astype(int) * 2), "yes/no"),
        (lambda d: d.drop(columns=["area"]), "no column"),
        (lambda d: d[d["area"] != "BEL"], "no respondents"),
        (lambda d: d.assign(w=-1.0), "positive"),
    ],
)
def test_validation_messages(mutate, match):
    with pytest.raises(DataValidationError, match=match):
        survey_did(mutate(_responses()), weight_column="w", **KW)


def test_too_few_respondents_in_a_cell():
    df = _responses()
    keep = ~((df["area"] == "BEL") & (df["wave"] == "post"))
    keep[df.index[(df["area"] == "BEL") & (df["wave"] == "post")][:1]] = True
    with pytest.raises(EstimationError, match="at least two"):
        survey_did(df[keep], **KW)
    with pytest.raises(DataValidationError, match="no comparison"):
        survey_did(df, **{**KW, "treated_areas": ["BEL", "ERI", "NTH", "THA"]})
