"""Two-way fixed-effects count difference-in-differences and event study.

:func:`poisson_did` fits ``log E[count] = area + month + beta * (treated x post)`` by a
Poisson, quasi-Poisson or negative-binomial (NB2) GLM; ``exp(beta)`` is the incidence-rate
ratio (IRR) of the treated areas' post-period counts against what their own level and the
comparison areas' month-to-month changes predict. :func:`event_study` replaces the single
``treated x post`` term by one term per month (or bin of months) relative to the start, and
tests the leads jointly (pre-trends).

With one treated area (the usual pilot), model-based and heteroskedasticity-robust standard
errors are secondary figures that assume no serial correlation; cluster-robust standard errors
are refused with fewer than ten treated areas (see ``../shared/methods/one-treated-area.md``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from .._checks import check_alpha, check_cluster_inference, check_option
from .._dist import chi2_sf, norm_ppf, norm_sf
from ..columns import AREA, COUNT, MONTH, POST, TREATED
from ..errors import EstimationError, OptionError
from ..results import Estimate, Result, Role
from ..wording import format_p_floored, format_ratio, wald_sentences
from ._common import (
    FAMILY_LABEL,
    CountFit,
    Family,
    fit_count_glm,
    fit_fe_poisson,
    month_index,
    outcome_panel,
    p_for_estimate,
    two_way_regressors,
)

Vcov = Literal["model", "hc1", "cluster"]

_VCOV_LABEL = {
    "model": "model-based",
    "hc1": "heteroskedasticity-robust (HC1)",
    "cluster": "cluster-robust by area (CRV1)",
}

#: Pearson chi-squared / df above which a Poisson model's own standard errors are flagged.
OVERDISPERSION_FLAG = 1.5


def _start_month(df: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(df.loc[df[POST], MONTH].min())


def _drop_all_zero(df: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...], int]:
    """Drop comparison areas and months with no recorded crime at all (their fixed effects
    are -infinity in a log-link model; pyfixest and ppmlhdfe drop them the same way)."""
    totals = df.groupby(AREA)[COUNT].sum()
    zero_areas = totals.index[totals <= 0]
    treated_areas = set(df.loc[df[TREATED], AREA])
    if treated_areas & set(zero_areas):
        raise EstimationError(
            "A treated area has no recorded crime in any month for this outcome; a count model "
            "cannot estimate a ratio from zero counts. Choose a more common outcome or a larger "
            "area."
        )
    df = df[~df[AREA].isin(zero_areas)]
    mtot = df.groupby(MONTH)[COUNT].sum()
    zero_months = mtot.index[mtot <= 0]
    df = df[~df[MONTH].isin(zero_months)]
    return df, tuple(sorted(map(str, zero_areas))), len(zero_months)


def _fe_design(df: pd.DataFrame, treatment_cols: np.ndarray) -> np.ndarray:
    """[treatment columns | intercept | area dummies (first dropped) | month dummies]."""
    X, area_codes = two_way_regressors(df, treatment_cols)
    n = len(df)
    A = np.zeros((n, area_codes.max() + 1), dtype=float)
    A[np.arange(n), area_codes] = 1.0
    k = 1 if np.ndim(treatment_cols) == 1 else np.shape(treatment_cols)[1]
    return np.column_stack([X[:, :k], np.ones(n), A[:, 1:], X[:, k:]])


def _fit_fe(df: pd.DataFrame, treatment_cols: np.ndarray, *, family: str, vcov: str) -> CountFit:
    """The two-way fixed-effects count model; the treatment coefficients come first.

    Poisson and quasi-Poisson: area effects concentrated out (:func:`fit_fe_poisson`, the
    same numbers as the dummy fit without its ``n x areas`` design). Negative binomial: the
    statsmodels fit with area dummies (NB2 has no such concentration).
    """
    y = df[COUNT].to_numpy(dtype=float)
    groups = pd.factorize(df[AREA])[0]
    if family == "negbin":
        X = _fe_design(df, treatment_cols)
        return fit_count_glm(y, X, family=family, vcov=vcov, groups=groups)
    X, areas = two_way_regressors(df, treatment_cols)
    return fit_fe_poisson(y, X, areas=areas, family=family, vcov=vcov, groups=groups)  # type: ignore[arg-type]


def _fe_panel(
    panel: pd.DataFrame,
    *,
    outcome: str,
    family: str,
    vcov: str,
    alpha: float,
    include_buffer: bool,
) -> tuple[pd.DataFrame, int, tuple[str, ...]]:
    """Checked options and outcome panel of a fixed-effects count model, all-zero rows dropped.

    Returns the panel, the number of treated areas and the comparison areas dropped. Refuses
    cluster-robust SEs with fewer than 10 treated areas (InferenceRefusedError).
    """
    check_option("family", family, get_args(Family))
    check_option("vcov", vcov, get_args(Vcov))
    check_alpha(alpha, upper=0.5)
    df = outcome_panel(panel, outcome=outcome, include_buffer=include_buffer)
    n_treated = int(df.loc[df[TREATED], AREA].nunique())
    if vcov == "cluster":
        check_cluster_inference(n_treated, method="cluster_robust")
    df, dropped, _ = _drop_all_zero(df)
    return df, n_treated, dropped


def _assumption_note(family: str, vcov: str, dispersion: float, n_treated: int) -> str:
    parts: list[str] = []
    if vcov in ("model", "hc1"):
        parts.append("assumes no serial correlation within areas")
    if vcov == "model" and family == "poisson" and dispersion > OVERDISPERSION_FLAG:
        parts.append(
            f"counts are over-dispersed (Pearson chi2/df = {dispersion:.2f}), so Poisson "
            "model-based intervals are too narrow; prefer family='quasipoisson' or 'negbin'"
        )
    if vcov == "cluster":
        parts.append(f"cluster-robust by area with {n_treated} treated areas")
    if n_treated == 1 and vcov != "cluster":
        parts.append("one treated area: a secondary figure; lead with placebo/conformal inference")
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# Difference-in-differences
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DidResult(Result):
    """Two-way fixed-effects count DiD (see :func:`poisson_did`).

    Attributes
    ----------
    outcome, family, vcov
        What was fitted and how the standard error was computed.
    log_irr, se
        Treatment coefficient (log incidence-rate ratio) and its standard error.
    irr, ci_low, ci_high
        ``exp(log_irr)`` and its Wald interval at level ``1 - alpha`` (ratio scale).
    p_value
        Two-sided Wald p-value for IRR = 1.
    dispersion
        Pearson chi-squared / residual df of the fitted model (about 1 when the family's
        variance is right).
    nb_alpha
        NB2 dispersion (Var = mu + alpha mu^2) for ``family="negbin"``, else ``None``.
    n_areas, n_treated, n_months, n_obs
        Sample actually used (after dropping all-zero areas or months).
    dropped_areas
        Comparison areas left out because they recorded nothing in any month.
    include_buffer
        Whether the buffer was used as a comparison area.
    note
        The assumptions the interval rests on, in plain English.
    """

    outcome: str
    family: str
    vcov: str
    log_irr: float
    se: float
    irr: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float
    dispersion: float
    nb_alpha: float | None
    n_areas: int
    n_treated: int
    n_months: int
    n_obs: int
    dropped_areas: tuple[str, ...]
    include_buffer: bool
    note: str

    @property
    def level(self) -> float:
        """Nominal coverage of the interval (``1 - alpha``), valid under :attr:`note`."""
        return 1.0 - self.alpha

    @property
    def method(self) -> str:
        return f"did_{self.family}_{self.vcov}"

    def tidy(self) -> pd.DataFrame:
        """One row: the treatment effect as an IRR with its interval."""
        return pd.DataFrame(
            [
                {
                    "term": "treated:post",
                    "log_irr": self.log_irr,
                    "se": self.se,
                    "irr": self.irr,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "p_value": self.p_value,
                    "level": self.level,
                    "family": self.family,
                    "vcov": self.vcov,
                    "dispersion": self.dispersion,
                    "n_areas": self.n_areas,
                    "n_treated": self.n_treated,
                    "n_months": self.n_months,
                    "note": self.note,
                }
            ]
        )

    def summary(self) -> str:
        who = "The treated area" if self.n_treated == 1 else f"The {self.n_treated} treated areas"
        text = (
            f"Difference-in-differences ({FAMILY_LABEL[self.family]}, area and month fixed "
            f"effects, {self.n_areas} areas over {self.n_months} months) for {self.outcome}. "
            "After the start, "
        )
        text += wald_sentences(
            irr=self.irr,
            lo=self.ci_low,
            hi=self.ci_high,
            p=self.p_value,
            alpha=self.alpha,
            who=who[0].lower() + who[1:],
            reference="the comparison areas' trend",
            how=f"{_VCOV_LABEL[self.vcov]} standard errors",
        )
        if self.note:
            text += f" Caveat: {self.note}."
        return text

    def to_estimate(self, *, outcome: str | None = None, role: Role = "secondary") -> Estimate:
        """The IRR as a ``results.json`` record (``scale="ratio"``)."""
        return Estimate(
            outcome=outcome if outcome is not None else self.outcome,
            method=self.method,
            estimate=self.irr,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            p_value=p_for_estimate(self.p_value),
            scale="ratio",
            level=self.level,
            role=role,
            note=self.note,
        )


def poisson_did(
    panel: pd.DataFrame,
    *,
    outcome: str,
    family: Family = "poisson",
    vcov: Vcov = "model",
    alpha: float = 0.05,
    include_buffer: bool = False,
) -> DidResult:
    """Two-way fixed-effects count difference-in-differences.

    Parameters
    ----------
    panel
        Long panel (:data:`pilot_eval.columns.PANEL_COLUMNS`), zero-filled; not modified.
    outcome
        Which outcome's rows to use.
    family
        ``"poisson"`` (variance = mean), ``"quasipoisson"`` (Poisson fit, variance = phi *
        mean with phi = Pearson chi-squared / residual df) or ``"negbin"`` (NB2, Var = mu +
        alpha mu^2, coefficients and alpha by joint maximum likelihood).
    vcov
        ``"model"`` (the family's own covariance), ``"hc1"`` (heteroskedasticity-robust
        sandwich times n / (n - k), k counting every fixed effect) or ``"cluster"``
        (cluster-robust by area, times G / (G - 1) x (n - 1) / (n - k); refused with fewer
        than 10 treated areas).
    alpha
        1 - the interval's nominal level.
    include_buffer
        Use the buffer area as an extra comparison area. Off by default: displacement or
        diffusion of benefit into the buffer would bias it as a comparison.

    Returns
    -------
    DidResult

    Raises
    ------
    pilot_eval.errors.InferenceRefusedError
        ``vcov="cluster"`` with fewer than 10 treated areas.
    pilot_eval.errors.DataValidationError
        The panel breaks the contract (the message says what to fix).

    Notes
    -----
    Estimand: the ratio of the treated areas' expected post-period counts to the counts
    expected had they followed the comparison areas' month-to-month changes (a multiplicative
    ATT under a common start date), ``exp(beta)`` in
    ``log E[y_it] = a_i + g_t + beta D_it`` with ``D_it = treated_i x post_t``.

    Assumptions: parallel trends on the log scale (ratio scale); no anticipation; no
    spill-over into comparison areas; the variance model of ``family``; and, for ``"model"``
    and ``"hc1"``, independence across months within an area (no serial correlation). With one
    treated area the interval is a secondary figure: a simulation of 17 Bexley wards found 5-9%
    false positives for quasi-Poisson/HC1 and 63-66% for cluster-robust SEs, which is why
    ``vcov="cluster"`` calls :func:`pilot_eval.inference.guards.check_cluster_inference`.

    Fitting: Poisson with the area effects concentrated out and month dummies
    (:func:`~pilot_eval.estimators._common.fit_fe_poisson`: the numbers of a statsmodels GLM with
    area and month dummies, without building them; the Poisson point estimate is the
    same as pyfixest ``fepois``, whose iid/hetero/CRV1 standard errors differ only by
    small-sample factors). Areas or months with no recorded crime at all are dropped (their
    fixed effects are -infinity), as pyfixest and ppmlhdfe do. Negative binomial (statsmodels GLM with area
    dummies): joint maximum likelihood of coefficients and alpha, by alternating the alpha and GLM steps as
    R's ``MASS::glm.nb``; the standard errors treat alpha as known (as glm.nb). Quasi-Poisson: Wooldridge (1999) on the Poisson FE estimator;
    cluster-robust: Cameron & Miller (2015); few-treated-cluster failure: MacKinnon & Webb
    (2017), Conley & Taber (2011).
    """
    df, n_treated, dropped = _fe_panel(
        panel, outcome=outcome, family=family, vcov=vcov, alpha=alpha, include_buffer=include_buffer
    )
    tr_pre = df.loc[df[TREATED] & ~df[POST], COUNT].sum()
    tr_post = df.loc[df[TREATED] & df[POST], COUNT].sum()
    if tr_pre <= 0 or tr_post <= 0:
        when = "before" if tr_pre <= 0 else "after"
        raise EstimationError(
            f"The treated area recorded no {outcome!r} crimes {when} the start, so the ratio is "
            f"{'infinite' if tr_pre <= 0 else '0'} and a count model cannot give it an interval. "
            "Report the counts themselves, or choose a more common outcome or a larger area."
        )
    for when, rows in (("before", ~df[POST]), ("after", df[POST])):
        if df.loc[~df[TREATED] & rows, COUNT].sum() <= 0:
            raise EstimationError(
                f"The comparison areas recorded no {outcome!r} crimes {when} the start, so "
                "there is no trend to compare the treated area with (the ratio has no finite "
                "estimate). Choose a more common outcome or more comparison areas."
            )
    fit = _fit_fe(df, df["d"].to_numpy(dtype=float), family=family, vcov=vcov)
    b = float(fit.params[0])
    se = float(math.sqrt(fit.cov[0, 0]))
    z = norm_ppf(1 - alpha / 2)
    p = float(2 * norm_sf(abs(b / se))) if se > 0 else float("nan")
    return DidResult(
        outcome=outcome,
        family=family,
        vcov=vcov,
        log_irr=b,
        se=se,
        irr=math.exp(b),
        ci_low=math.exp(b - z * se),
        ci_high=math.exp(b + z * se),
        p_value=p,
        alpha=float(alpha),
        dispersion=fit.dispersion,
        nb_alpha=fit.nb_alpha,
        n_areas=int(df[AREA].nunique()),
        n_treated=n_treated,
        n_months=int(df[MONTH].nunique()),
        n_obs=len(df),
        dropped_areas=dropped,
        include_buffer=include_buffer,
        note=_assumption_note(family, vcov, fit.dispersion, n_treated),
    )


# ---------------------------------------------------------------------------------------------
# Event study
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EventStudyResult(Result):
    """Leads and lags of a count DiD relative to the start (see :func:`event_study`).

    Attributes
    ----------
    coefficients
        One row per relative period: ``rel_period`` (months since the start; a bin's first
        month when binned), ``period`` ("lead"/"lag"), ``log_irr``, ``se``, ``irr``,
        ``ci_low``, ``ci_high``, ``p_value``, ``reference`` (True for the omitted period,
        whose IRR is 1 by construction) and ``no_crimes`` (True where the treated areas
        recorded nothing: IRR 0, no interval, not in the pre-trend test).
    pretrend_chi2, pretrend_df, pretrend_p
        Joint Wald test that every lead is zero (chi-squared with ``pretrend_df`` degrees of
        freedom); NaN when there is no lead besides the reference.
    """

    outcome: str
    family: str
    vcov: str
    ref_period: int
    alpha: float
    binned: bool
    coefficients: pd.DataFrame
    pretrend_chi2: float
    pretrend_df: int
    pretrend_p: float
    dispersion: float
    nb_alpha: float | None
    n_areas: int
    n_treated: int
    n_months: int
    note: str

    @property
    def level(self) -> float:
        return 1.0 - self.alpha

    def tidy(self) -> pd.DataFrame:
        """One row per relative period (a copy)."""
        out = self.coefficients.copy()
        out["level"] = self.level
        return out

    def summary(self) -> str:
        c = self.coefficients
        lags = c[(c["period"] == "lag") & ~c["reference"]]
        k = abs(self.ref_period)
        months = f"{k} month{'' if k == 1 else 's'}"
        when = "before" if self.ref_period < 0 else "after"
        if self.binned:
            per = "bin of months"
            ref = f"the bin starting {months} {when} the start"
            if self.ref_period == 0:
                ref = "the bin starting at the start"
        else:
            per = "month"
            ref = f"the month {months} {when} the start"
            if self.ref_period == -1:
                ref = "the last month before the start"
            elif self.ref_period == 0:
                ref = "the start month"
        text = (
            f"Event study ({FAMILY_LABEL[self.family]}, area and month fixed effects, "
            f"{_VCOV_LABEL[self.vcov]} standard errors) for {self.outcome}: one ratio per "
            f"{per} relative to the start, against {ref}. "
        )
        who = "treated area's" if self.n_treated == 1 else "treated areas'"
        if math.isfinite(self.pretrend_p):
            if self.pretrend_p < self.alpha:
                text += (
                    f"Before the start, the {who} ratios already moved away from the "
                    f"comparison areas' (joint test of {self.pretrend_df} pre-period ratios, "
                    f"{format_p_floored(self.pretrend_p)}): the parallel-trends assumption is doubtful "
                    "and DiD results should be read with caution. "
                )
            else:
                text += (
                    f"The {self.pretrend_df} pre-period ratios are jointly consistent with "
                    f"parallel trends ({format_p_floored(self.pretrend_p)}); this test has little power, "
                    "so it does not prove the trends were parallel. "
                )
        if len(lags):
            text += (
                f"After the start the ratios range from {format_ratio(lags['irr'].min())} to "
                f"{format_ratio(lags['irr'].max())}."
            )
        if self.note:
            text += f" Caveat: {self.note}."
        return text


def _rel_bins(
    rel: np.ndarray, bin_edges: Sequence[int] | Literal["quarter"] | None
) -> tuple[np.ndarray, bool]:
    if bin_edges is None:
        return rel.copy(), False
    if isinstance(bin_edges, str):
        check_option("bin_edges", bin_edges, ("quarter",))
        return (np.floor_divide(rel, 3) * 3).astype(np.int64), True
    edges = np.asarray(list(bin_edges), dtype=np.int64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise OptionError(
            "bin_edges must be increasing whole months relative to the start, e.g. "
            "[-36, -24, -12, -3, 0, 3, 6, 12], or 'quarter'."
        )
    if rel.min() < edges[0] or rel.max() >= edges[-1]:
        raise OptionError(
            f"bin_edges {edges.tolist()} must cover every month of the panel: relative months "
            f"run from {int(rel.min())} to {int(rel.max())}, so the first edge must be at most "
            f"{int(rel.min())} and the last more than {int(rel.max())}."
        )
    idx = np.searchsorted(edges, rel, side="right") - 1
    return edges[idx], True


def event_study(
    panel: pd.DataFrame,
    *,
    outcome: str,
    ref_period: int = -1,
    family: Family = "poisson",
    vcov: Vcov = "model",
    alpha: float = 0.05,
    bin_edges: Sequence[int] | Literal["quarter"] | None = None,
    include_buffer: bool = False,
) -> EventStudyResult:
    """Event-study count model: one treated-area ratio per month (or bin) relative to the start.

    Parameters
    ----------
    panel
        Long panel, zero-filled; not modified.
    outcome
        Which outcome's rows to use.
    ref_period
        Relative month whose period is the reference (IRR = 1); ``-1`` is the last month
        before the start. With bins, the bin containing this month is the reference.
    family, vcov, alpha, include_buffer
        As in :func:`poisson_did` (``vcov="cluster"`` is refused with < 10 treated areas).
    bin_edges
        ``None`` (one term per month), ``"quarter"`` (3-month bins [-3, 0), [0, 3), ...) or
        increasing edges in relative months; bins are [edge_i, edge_i+1) and labelled by their
        first month. The edges must cover every month of the panel.

    Returns
    -------
    EventStudyResult

    Notes
    -----
    Model: ``log E[y_it] = a_i + g_t + sum_{k != ref} b_k 1[treated_i, bin(t - start) = k]``;
    ``exp(b_k)`` is the treated areas' ratio to the comparison-predicted count in period k,
    relative to the reference period. Leads (k < 0) estimate pre-trends: the joint Wald test
    ``b_lead' V^-1 b_lead ~ chi2(#leads)`` checks parallel trends before the start; with few
    pre months or one noisy area it has little power, so a large p is not proof of parallel
    trends (Roth 2022, AER: Insights). All areas share one start date, so the two-way FE
    event study has none of the staggered-adoption problems (Sun & Abraham 2021). The
    assumptions of the standard errors are those of :func:`poisson_did`. Point estimates
    agree with pyfixest ``fepois("y ~ i(rel, treated, ref=-1) | area + month")``.
    """
    df, n_treated, _ = _fe_panel(
        panel, outcome=outcome, family=family, vcov=vcov, alpha=alpha, include_buffer=include_buffer
    )
    start = _start_month(df)
    rel = month_index(df[MONTH]) - month_index(pd.Series([start]))[0]
    bins, binned = _rel_bins(rel, bin_edges)
    if bin_edges is None:
        ref_bin = int(ref_period)
    elif isinstance(bin_edges, str):
        ref_bin = (int(ref_period) // 3) * 3
    else:
        ref_bin = _rel_bins_label(int(ref_period), bin_edges)
    treated = df[TREATED].to_numpy()
    periods = np.unique(bins[treated])
    if ref_bin not in periods:
        raise OptionError(
            f"ref_period={ref_period} is outside the panel's months relative to the start "
            f"({int(rel.min())} to {int(rel.max())})."
        )
    # Periods in which the treated areas recorded nothing: the coefficient's MLE is -infinity
    # (separation). Their treated rows are dropped, which leaves every other estimate unchanged
    # (Correia, Guimaraes & Zylkin 2019), and the period is reported with a ratio of 0.
    y_all = df[COUNT].to_numpy(dtype=float)
    tr_tot = pd.Series(y_all[treated]).groupby(bins[treated]).sum()
    empty = sorted(int(k) for k in tr_tot.index[tr_tot <= 0])
    if ref_bin in empty:
        raise EstimationError(
            f"The treated area recorded no {outcome!r} crimes in the reference period "
            f"({ref_bin}), so every ratio against it is infinite. Choose another ref_period or "
            "use bin_edges='quarter'."
        )
    keep = ~(treated & np.isin(bins, empty))
    df, bins, treated = df[keep], bins[keep], treated[keep]
    est_periods = [k for k in periods if k != ref_bin and k not in empty]
    # A period in which the comparison areas recorded nothing: the treated area's count there
    # is fitted exactly by its own coefficient, which has no finite estimate (separation).
    comp_tot = pd.Series(df[COUNT].to_numpy(dtype=float)[~treated]).groupby(bins[~treated]).sum()
    lonely = [int(k) for k in est_periods if comp_tot.get(k, 0.0) <= 0]
    if lonely:
        raise EstimationError(
            f"The comparison areas recorded no {outcome!r} crimes in period(s) {lonely} "
            "(months relative to the start), so the treated area's ratio there has no finite "
            "estimate. Use bin_edges='quarter' (or wider bins) or a more common outcome."
        )
    D = np.column_stack([(treated & (bins == k)).astype(float) for k in est_periods])
    fit = _fit_fe(df, D, family=family, vcov=vcov)
    k = len(est_periods)
    b = fit.params[:k]
    V = fit.cov[:k, :k]
    se = np.sqrt(np.diag(V))
    z = norm_ppf(1 - alpha / 2)
    rows = []
    for j, per in enumerate(est_periods):
        rows.append(
            {
                "rel_period": int(per),
                "period": "lead" if per < 0 else "lag",
                "log_irr": float(b[j]),
                "se": float(se[j]),
                "irr": float(np.exp(b[j])),
                "ci_low": float(np.exp(b[j] - z * se[j])),
                "ci_high": float(np.exp(b[j] + z * se[j])),
                "p_value": float(2 * norm_sf(abs(b[j] / se[j]))),
                "reference": False,
                "no_crimes": False,
            }
        )
    nan = float("nan")
    for per in [ref_bin, *empty]:
        rows.append(
            {
                "rel_period": int(per),
                "period": "lead" if per < 0 else "lag",
                "log_irr": 0.0 if per == ref_bin else -math.inf,
                "se": nan,
                "irr": 1.0 if per == ref_bin else 0.0,
                "ci_low": nan,
                "ci_high": nan,
                "p_value": nan,
                "reference": per == ref_bin,
                "no_crimes": per != ref_bin,
            }
        )
    coefs = pd.DataFrame(rows).sort_values("rel_period").reset_index(drop=True)
    lead_idx = [j for j, per in enumerate(est_periods) if per < 0]
    if lead_idx:
        bl = b[lead_idx]
        Vl = V[np.ix_(lead_idx, lead_idx)]
        chi2 = float(bl @ np.linalg.solve(Vl, bl))
        pre_df = len(lead_idx)
        pre_p = float(chi2_sf(chi2, pre_df))
    else:
        chi2, pre_df, pre_p = float("nan"), 0, float("nan")
    return EventStudyResult(
        outcome=outcome,
        family=family,
        vcov=vcov,
        ref_period=int(ref_bin),
        alpha=float(alpha),
        binned=binned,
        coefficients=coefs,
        pretrend_chi2=chi2,
        pretrend_df=pre_df,
        pretrend_p=pre_p,
        dispersion=fit.dispersion,
        nb_alpha=fit.nb_alpha,
        n_areas=int(df[AREA].nunique()),
        n_treated=n_treated,
        n_months=int(df[MONTH].nunique()),
        note="; ".join(
            x
            for x in (
                _assumption_note(family, vcov, fit.dispersion, n_treated),
                (
                    f"the treated area recorded no crimes in {len(empty)} "
                    f"period{'s' if len(empty) > 1 else ''} ({', '.join(map(str, empty))}): "
                    "ratio 0 with no interval, left out of the pre-trend test; "
                    "bin_edges='quarter' avoids this"
                )
                if empty
                else "",
            )
            if x
        ),
    )


def _rel_bins_label(month: int, bin_edges: Sequence[int]) -> int:
    edges = np.asarray(list(bin_edges), dtype=np.int64)
    if month < edges[0] or month >= edges[-1]:
        raise OptionError(
            f"ref_period={month} lies outside bin_edges {edges.tolist()}; choose a reference "
            "month inside the bins (usually -1, the last month before the start)."
        )
    return int(edges[np.searchsorted(edges, month, side="right") - 1])
