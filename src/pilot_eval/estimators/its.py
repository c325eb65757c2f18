"""Interrupted time series: segmented count regression on one group's monthly series.

:func:`interrupted_time_series` fits, to the monthly total of one group of areas (by default
the treated area),

``log E[y_t] = b0 + b1 t + b2 post_t + b3 (t - t0) post_t + month-of-year``

and reports the level change at the start (``exp(b2)``), the change in the monthly trend
(``exp(b3)``), the average post-period ratio of fitted to counterfactual counts, and the
counterfactual series (``b2 = b3 = 0``) with a band, for the chart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from .._checks import check_alpha, check_bool, check_option
from .._dist import norm_ppf, norm_sf
from ..columns import AREA, COUNT, GROUP, GROUPS, MONTH, POST
from ..errors import DataValidationError, EstimationError
from ..results import Estimate, Result, Role
from ..wording import describe_interval, format_ratio, wald_sentences
from ._common import (
    FAMILY_LABEL,
    Family,
    fit_count_glm,
    fit_poisson,
    month_index,
    outcome_panel,
    p_for_estimate,
)

Term = Literal["level", "slope", "post"]

#: |lag-1 autocorrelation| of Pearson residuals above which the result carries a warning.
AUTOCORRELATION_FLAG = 0.2


@dataclass(frozen=True, eq=False)
class ItsResult(Result):
    """Segmented regression on one group's monthly counts (see :func:`interrupted_time_series`).

    Attributes
    ----------
    effects
        One row per term: ``term`` ("level": the jump at the start; "slope": the change in the
        monthly trend, per month; "post": fitted / counterfactual counts summed over the post
        period), ``log_irr``, ``se``, ``irr``, ``ci_low``, ``ci_high``, ``p_value``.
    pre_trend_irr
        The pre-period monthly trend as a ratio per month (``exp(b1)``).
    counterfactual
        One row per month: ``month``, ``post``, ``observed``, ``fitted``, ``counterfactual``
        (the fitted series with no level or slope change), ``counterfactual_low`` and
        ``counterfactual_high`` (Wald band for the counterfactual mean at level 1 - alpha).
    dispersion, nb_alpha
        Pearson chi-squared / df of the fit; NB2 alpha for ``family="negbin"``.
    residual_autocorrelation
        Lag-1 autocorrelation of the Pearson residuals (the model assumes none).
    """

    outcome: str
    area_group: str
    family: str
    seasonality: bool
    alpha: float
    effects: pd.DataFrame
    pre_trend_irr: float
    counterfactual: pd.DataFrame
    dispersion: float
    nb_alpha: float | None
    residual_autocorrelation: float
    n_months: int
    n_pre: int
    n_post: int
    n_areas: int
    note: str

    @property
    def level(self) -> float:
        return 1.0 - self.alpha

    def _row(self, term: str) -> pd.Series:
        return self.effects.set_index("term").loc[term]

    @property
    def level_irr(self) -> float:
        return float(self._row("level")["irr"])

    @property
    def slope_irr(self) -> float:
        return float(self._row("slope")["irr"])

    @property
    def post_irr(self) -> float:
        return float(self._row("post")["irr"])

    def tidy(self) -> pd.DataFrame:
        """One row per term (level, slope, post), a copy."""
        out = self.effects.copy()
        out["level"] = self.level
        return out

    def summary(self) -> str:
        lv, sl, po = self._row("level"), self._row("slope"), self._row("post")
        who = {
            "treated": "the treated area's" if self.n_areas == 1 else "the treated areas'",
            "buffer": "the buffer's",
            "comparison": "the comparison areas'",
        }[self.area_group]
        text = (
            f"Interrupted time series ({FAMILY_LABEL[self.family]} segmented regression on "
            f"{who} monthly {self.outcome} counts, {self.n_pre} months before and "
            f"{self.n_post} after the start"
            f"{', with month-of-year seasonality' if self.seasonality else ''}). Over the post "
            "period, "
        )
        text += wald_sentences(
            irr=float(po["irr"]),
            lo=float(po["ci_low"]),
            hi=float(po["ci_high"]),
            p=float(po["p_value"]),
            alpha=self.alpha,
            who=who.removesuffix("'s").removesuffix("'"),
            reference="the pre-period trend",
            how="model-based standard errors",
        )
        text += (
            f" At the start the level changed by a ratio of {format_ratio(float(lv['irr']))} "
            f"({describe_interval(float(lv['ci_low']), float(lv['ci_high']), self.level)}) and "
            f"the monthly trend by a ratio of {sl['irr']:.3f} per month ({sl['ci_low']:.3f} to "
            f"{sl['ci_high']:.3f})."
        )
        if self.note:
            text += f" Caveat: {self.note}."
        return text

    def to_estimate(
        self, *, outcome: str | None = None, role: Role = "secondary", term: Term = "level"
    ) -> Estimate:
        """One term as a ``results.json`` record (``scale="ratio"``)."""
        check_option("term", term, get_args(Term))
        r = self._row(term)
        return Estimate(
            outcome=outcome if outcome is not None else self.outcome,
            method=f"its_{self.family}_{term}",
            estimate=float(r["irr"]),
            ci_low=float(r["ci_low"]),
            ci_high=float(r["ci_high"]),
            p_value=p_for_estimate(float(r["p_value"])),
            scale="ratio",
            level=self.level,
            role=role,
            note=self.note,
        )


def interrupted_time_series(
    panel: pd.DataFrame,
    *,
    outcome: str,
    area_group: Literal["treated", "buffer", "comparison"] = "treated",
    family: Family = "quasipoisson",
    seasonality: bool = True,
    alpha: float = 0.05,
) -> ItsResult:
    """Segmented (interrupted time series) count regression on one group's monthly total.

    Parameters
    ----------
    panel
        Long panel, zero-filled; not modified.
    outcome
        Which outcome's rows to use.
    area_group
        Whose series: the monthly total over the areas of this group.
    family
        ``"quasipoisson"`` (default: Poisson fit, variance = phi * mean), ``"poisson"`` or
        ``"negbin"`` (NB2, coefficients and alpha by joint maximum likelihood).
    seasonality
        Add month-of-year dummies (11 parameters; needs at least two years of data to be
        well determined).
    alpha
        1 - the nominal level of the intervals and of the counterfactual band.

    Returns
    -------
    ItsResult

    Notes
    -----
    Model: ``log E[y_t] = b0 + b1 t + b2 P_t + b3 (t - t0) P_t + s_{m(t)}``, ``t`` months since
    the first month, ``t0`` the start month, ``P_t = 1[t >= t0]``, ``s`` month-of-year effects
    (Bernal, Cummins & Gasparrini 2017, Int. J. Epidemiology 46(1), the tutorial this follows;
    Wagner et al. 2002 for segmented regression). Estimands: ``exp(b2)``, the ratio of the
    start month's expected count to the projected pre-period trend; ``exp(b3)``, the change in
    the monthly growth ratio; and the post-period ratio ``sum_post mu_t / sum_post mu_t^cf``
    with a delta-method interval, where ``mu^cf`` sets ``b2 = b3 = 0``.

    Assumptions: the pre-period log-linear trend and seasonality would have continued without
    the pilot; nothing else changed at the start (there is no comparison group: a borough-wide
    change would be attributed to the pilot -- use the DiD or synthetic control for that);
    independent months given the model (the lag-1 autocorrelation of the residuals is reported
    and flagged when above 0.2); the variance model of ``family``. Standard errors are
    model-based (quasi-Poisson: Poisson times Pearson chi-squared / df).
    """
    check_option("area_group", area_group, GROUPS)
    check_option("family", family, get_args(Family))
    check_alpha(alpha, upper=0.5)
    check_bool(seasonality, "seasonality")
    df = outcome_panel(
        panel, outcome=outcome, include_buffer=area_group == "buffer", require_comparison=False
    )
    df = df[df[GROUP] == area_group]
    if df.empty:
        raise DataValidationError(f"The panel has no {area_group!r} area for outcome {outcome!r}.")
    n_areas = int(df[AREA].nunique())
    series = df.groupby(MONTH).agg(observed=(COUNT, "sum"), post=(POST, "max")).reset_index()
    series = series.sort_values(MONTH).reset_index(drop=True)
    mi = month_index(series[MONTH])
    if np.any(np.diff(mi) != 1):
        raise DataValidationError(
            "The series has gaps between months; the panel must hold every month from the first "
            "to the last (zero-filled)."
        )
    post = series["post"].to_numpy(dtype=bool)
    n_pre, n_post = int((~post).sum()), int(post.sum())
    if n_pre < 6 or n_post < 3:
        raise EstimationError(
            f"An interrupted time series needs at least 6 months before and 3 after the start; "
            f"this panel has {n_pre} and {n_post}."
        )
    y = series["observed"].to_numpy(dtype=float)
    if y[~post].sum() <= 0:
        raise EstimationError(
            f"No {outcome!r} crimes were recorded in the {area_group} series before the start; "
            "a count model cannot estimate a ratio from zero counts."
        )
    t = (mi - mi[0]).astype(float)
    t0 = float(t[post].min())
    cols = [np.ones_like(t), t, post.astype(float), (t - t0) * post]
    if seasonality:
        moy = pd.DatetimeIndex(series[MONTH]).month.to_numpy()
        present = np.unique(moy)
        cols += [(moy == m).astype(float) for m in present[1:]]
    X = np.column_stack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise EstimationError(
            "The segmented model is not identified on this series (too few months for the "
            "trend, level change, slope change and month-of-year effects); use "
            "seasonality=False or a longer series."
        )
    fit = (
        fit_count_glm(y, X, family=family, vcov="model")
        if family == "negbin"
        else fit_poisson(y, X, family=family)
    )
    b, V = fit.params, fit.cov
    z = norm_ppf(1 - alpha / 2)

    def row(term: str, est: float, se: float) -> dict:
        return {
            "term": term,
            "log_irr": est,
            "se": se,
            "irr": math.exp(est),
            "ci_low": math.exp(est - z * se),
            "ci_high": math.exp(est + z * se),
            "p_value": float(2 * norm_sf(abs(est / se))) if se > 0 else float("nan"),
        }

    Xcf = X.copy()
    Xcf[:, 2:4] = 0.0
    eta = X @ b
    eta_cf = Xcf @ b
    mu, mu_cf = np.exp(eta), np.exp(eta_cf)
    # Post-period ratio of sums: log R = log sum mu - log sum mu_cf; gradient by the chain rule.
    wf = mu[post] / mu[post].sum()
    wc = mu_cf[post] / mu_cf[post].sum()
    log_r = float(np.log(mu[post].sum()) - np.log(mu_cf[post].sum()))
    g = wf @ X[post] - wc @ Xcf[post]
    se_r = float(math.sqrt(max(g @ V @ g, 0.0)))
    effects = pd.DataFrame(
        [
            row("level", float(b[2]), float(math.sqrt(V[2, 2]))),
            row("slope", float(b[3]), float(math.sqrt(V[3, 3]))),
            row("post", log_r, se_r),
        ]
    )
    se_cf = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", Xcf, V, Xcf), 0.0))
    counterfactual = pd.DataFrame(
        {
            MONTH: series[MONTH].to_numpy(),
            POST: post,
            "observed": y,
            "fitted": mu,
            "counterfactual": mu_cf,
            "counterfactual_low": np.exp(eta_cf - z * se_cf),
            "counterfactual_high": np.exp(eta_cf + z * se_cf),
        }
    )
    var = mu * (1.0 + fit.nb_alpha * mu) if fit.nb_alpha is not None else mu
    resid = (y - mu) / np.sqrt(var)
    r1 = float(np.corrcoef(resid[:-1], resid[1:])[0, 1]) if len(resid) > 2 else float("nan")
    notes = [
        "assumes the pre-period trend and seasonality would have continued and that nothing "
        "else changed at the start (no comparison group)"
    ]
    if math.isfinite(r1) and abs(r1) > AUTOCORRELATION_FLAG:
        notes.append(
            f"residuals are serially correlated (lag-1 r = {r1:.2f}), so the intervals are "
            "likely too narrow"
        )
    if family == "poisson" and fit.dispersion > 1.5:
        notes.append(
            f"counts are over-dispersed (Pearson chi2/df = {fit.dispersion:.2f}); Poisson "
            "intervals are too narrow, prefer family='quasipoisson'"
        )
    return ItsResult(
        outcome=outcome,
        area_group=area_group,
        family=family,
        seasonality=seasonality,
        alpha=float(alpha),
        effects=effects,
        pre_trend_irr=float(math.exp(b[1])),
        counterfactual=counterfactual,
        dispersion=fit.dispersion,
        nb_alpha=fit.nb_alpha,
        residual_autocorrelation=r1,
        n_months=len(series),
        n_pre=n_pre,
        n_post=n_post,
        n_areas=n_areas,
        note="; ".join(notes),
    )
