"""Shared internals of the estimator modules (public names, not part of the public API).

Every estimator module: the floor that makes a p-value acceptable to
:class:`~pilot_eval.results.Estimate`, the normal-approximation helpers (:func:`wald`,
:func:`z_crit`, :func:`p_two_sided`) and the check of ``(pre, post)`` count pairs
(:func:`count_pair`). Count-panel designs (did, its, synth, selection, the panel-first
crime-science designs): the panel contract check (:func:`outcome_panel`), group totals
(:func:`group_totals`), the log-link count GLM fitter (:func:`fit_count_glm`) and the
Poisson fitter with the area effects concentrated out (:func:`fit_fe_poisson`).

Options are checked with :mod:`pilot_eval._checks`; numbers are worded with
:mod:`pilot_eval.wording`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special

from ..columns import AREA, COUNT, GROUP, GROUPS, MONTH, OUTCOME, PANEL_COLUMNS, POST, TREATED
from ..errors import DataValidationError, EstimationError

__all__ = [
    "FAMILY_LABEL",
    "CountFit",
    "Family",
    "GroupTotals",
    "check_count",
    "check_positive_data",
    "count_pair",
    "fit_count_glm",
    "fit_fe_poisson",
    "fit_poisson",
    "group_totals",
    "month_index",
    "outcome_panel",
    "p_for_estimate",
    "p_two_sided",
    "two_way_regressors",
    "wald",
    "z_crit",
]

Family = Literal["poisson", "quasipoisson", "negbin"]

FAMILY_LABEL = {
    "poisson": "Poisson",
    "quasipoisson": "quasi-Poisson",
    "negbin": "negative-binomial (NB2)",
}

#: Search range of the NB2 dispersion alpha (Var = mu + alpha mu^2).
_NB_ALPHA_MIN, _NB_ALPHA_MAX = 1e-8, 100.0

_STD_NORMAL = NormalDist()


# ---------------------------------------------------------------------------------------------
# Counts and the normal approximation (crime-science estimators)
# ---------------------------------------------------------------------------------------------
def check_count(value: float, name: str) -> float:
    """A count (crimes): finite and not negative, else :class:`DataValidationError`.

    Non-integers are allowed (weighted counts).
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DataValidationError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise DataValidationError(f"{name} must be a finite number zero or more, got {value!r}")
    return v


def check_positive_data(value: float, name: str) -> float:
    """A data value that must be above zero (an exposure, a pre-period count), else
    :class:`DataValidationError`."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DataValidationError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise DataValidationError(
            f"{name} must be a finite number greater than zero, got {value!r}"
        )
    return v


def count_pair(x: Sequence[float], name: str) -> tuple[float, float]:
    """Validate a (pre, post) pair of counts (:class:`DataValidationError` if it is not one)."""
    if isinstance(x, (str, bytes)) or not hasattr(x, "__len__"):
        raise DataValidationError(
            f"{name} must be a (pre, post) pair of counts such as (20, 12), got {x!r}"
        )
    vals = list(np.asarray(x, dtype=object).ravel())
    if len(vals) != 2:
        raise DataValidationError(
            f"{name} must hold exactly two counts, (pre, post), got {len(vals)} values: {x!r}"
        )
    return (check_count(vals[0], f"{name}[0] (pre)"), check_count(vals[1], f"{name}[1] (post)"))


def z_crit(alpha: float, *, two_sided: bool = True) -> float:
    """The standard normal quantile for a test at ``alpha`` (two-sided by default)."""
    return _STD_NORMAL.inv_cdf(1.0 - (alpha / 2.0 if two_sided else alpha))


def p_two_sided(z: float) -> float:
    """Two-sided standard-normal p-value of ``z`` (NaN stays NaN)."""
    if math.isnan(z):
        return math.nan
    return math.erfc(abs(z) / math.sqrt(2.0))


def wald(est: float, se: float, alpha: float) -> tuple[float, float, float, float]:
    """Normal-approximation ``(z, two-sided p, ci_low, ci_high)``; z and p are NaN if se is 0."""
    z = est / se if se > 0 else math.nan
    zc = z_crit(alpha)
    return z, p_two_sided(z), est - zc * se, est + zc * se


def month_index(months: pd.Series) -> np.ndarray:
    """Months as integers (year * 12 + month - 1), so differences are whole months."""
    m = pd.DatetimeIndex(months)
    return np.asarray(m.year * 12 + m.month - 1, dtype=np.int64)


def outcome_panel(
    panel: pd.DataFrame,
    *,
    outcome: str,
    include_buffer: bool = False,
    require_comparison: bool = True,
) -> pd.DataFrame:
    """Validated copy of one outcome's rows of a panel (see :mod:`pilot_eval.columns`).

    Returns a frame with the panel columns plus ``d`` (treated x post, int), sorted by area
    and month. Raises :class:`DataValidationError` with what to fix when the panel breaks the
    contract (missing columns, unknown outcome, unbalanced months, treatment that varies within
    an area, a start date that differs between areas, no treated or no comparison area).
    """
    if not isinstance(panel, pd.DataFrame):
        raise DataValidationError(
            f"panel must be a pandas DataFrame (see pilot_eval.panel), not {type(panel).__name__}."
        )
    missing = [c for c in PANEL_COLUMNS if c not in panel.columns]
    if missing:
        raise DataValidationError(
            f"The panel lacks the columns {missing}; a panel has the columns "
            f"{list(PANEL_COLUMNS)} (build it with pilot_eval.panel)."
        )
    df = panel.loc[panel[OUTCOME] == outcome, list(PANEL_COLUMNS)].copy()
    if df.empty:
        known = sorted(map(str, panel[OUTCOME].unique()))
        raise DataValidationError(
            f"The panel has no rows for outcome {outcome!r}; its outcomes are {known}."
        )
    bad_groups = sorted(set(map(str, df[GROUP].unique())) - set(GROUPS))
    if bad_groups:
        raise DataValidationError(
            f"Unknown group values {bad_groups} in the panel; use one of {list(GROUPS)}."
        )
    if not include_buffer:
        df = df[df[GROUP] != "buffer"]
    try:
        df[MONTH] = pd.to_datetime(df[MONTH]).dt.to_period("M").dt.to_timestamp()
    except (TypeError, ValueError) as exc:
        raise DataValidationError(
            "The panel's month column must hold dates (month starts such as 2024-01-01)."
        ) from exc
    counts = pd.to_numeric(df[COUNT], errors="coerce")
    if counts.isna().any() or (counts < 0).any():
        raise DataValidationError(
            f"Outcome {outcome!r} has missing or negative counts; the panel must be zero-filled "
            "with non-negative counts."
        )
    df[COUNT] = counts.astype(float)
    df[TREATED] = df[TREATED].astype(bool)
    df[POST] = df[POST].astype(bool)
    df[AREA] = df[AREA].astype(str)
    if df.duplicated([AREA, MONTH]).any():
        raise DataValidationError(
            f"Outcome {outcome!r} has more than one row for some area and month; aggregate the "
            "panel to one row per outcome x area x month."
        )
    n_months = df[MONTH].nunique()
    per_area = df.groupby(AREA)[MONTH].nunique()
    if (per_area != n_months).any():
        short = sorted(per_area[per_area != n_months].index)[:5]
        raise DataValidationError(
            f"The panel is not balanced for outcome {outcome!r}: areas {short} lack some months. "
            "Zero-fill the panel (one row per area and month, count 0 where nothing was recorded)."
        )
    if (df.groupby(AREA)[TREATED].nunique() > 1).any():
        raise DataValidationError(
            "The treated flag changes within an area; it must mark treated areas in every month "
            "(the period is marked by 'post')."
        )
    post_by_month = df.groupby(MONTH)[POST].agg(["min", "max"])
    if (post_by_month["min"] != post_by_month["max"]).any():
        raise DataValidationError(
            "The 'post' flag differs between areas in the same month; these estimators assume "
            "one start date for the whole pilot."
        )
    is_post = post_by_month["max"].astype(bool)
    if not is_post.any() or is_post.all():
        raise DataValidationError(
            "The panel needs months both before and after the start ('post' both 0 and 1)."
        )
    start = is_post.index[is_post].min()
    if ((is_post.index >= start) != is_post.to_numpy()).any():
        raise DataValidationError(
            "'post' must be 0 before the start month and 1 from it on; it switches back to 0."
        )
    if not df[TREATED].any():
        raise DataValidationError(f"The panel has no treated area for outcome {outcome!r}.")
    if require_comparison and df[TREATED].all():
        raise DataValidationError(f"The panel has no comparison area for outcome {outcome!r}.")
    df["d"] = (df[TREATED] & df[POST]).astype(int)
    return df.sort_values([AREA, MONTH]).reset_index(drop=True)


@dataclass(frozen=True)
class GroupTotals:
    """One outcome's counts summed by group and period (see :func:`group_totals`).

    Each total is a ``(pre, post)`` pair of crimes summed over the group's areas and months;
    ``buffer`` is None when the panel has no buffer area.
    """

    outcome: str
    treated: tuple[float, float]
    comparison: tuple[float, float]
    buffer: tuple[float, float] | None
    n_pre: int
    n_post: int


def group_totals(panel: pd.DataFrame, *, outcome: str) -> GroupTotals:
    """Total one outcome's counts by ``group`` (treated, buffer, comparison) x ``post``.

    The panel is checked against the contract first (:func:`outcome_panel`, buffer kept), so
    totals are only formed from a balanced, zero-filled panel with one start date. Groups are
    read from the ``group`` column.

    Raises
    ------
    DataValidationError
        When the panel breaks the contract or has no treated or no comparison area.
    """
    df = outcome_panel(panel, outcome=outcome, include_buffer=True, require_comparison=False)
    sums = df.groupby([GROUP, POST], observed=True)[COUNT].sum()
    present = set(df[GROUP].unique())
    for need in ("treated", "comparison"):
        if need not in present:
            raise DataValidationError(
                f"The panel has no {need!r} area for outcome {outcome!r}; the crime-science "
                "designs compare the treated areas' totals with the comparison areas'."
            )

    def pair(group: str) -> tuple[float, float]:
        return float(sums.get((group, False), 0.0)), float(sums.get((group, True), 0.0))

    months = df.drop_duplicates(MONTH)
    n_post = int(months[POST].sum())
    return GroupTotals(
        outcome=outcome,
        treated=pair("treated"),
        comparison=pair("comparison"),
        buffer=pair("buffer") if "buffer" in present else None,
        n_pre=int(len(months) - n_post),
        n_post=n_post,
    )


def p_for_estimate(p: float | None) -> float | None:
    """A p-value acceptable to :class:`Estimate` (in (0, 1]): tiny values floored, None if undefined."""
    if p is None or not math.isfinite(p):
        return None
    return float(min(max(p, np.finfo(float).tiny), 1.0))


def _nb_alpha_given_mu(y: np.ndarray, mu: np.ndarray) -> float:
    """NB2 alpha maximising the log-likelihood with the means held fixed (1-D, bounded)."""

    def negll(log_a: float) -> float:
        a = math.exp(log_a)
        r = 1.0 / a
        ll = (
            special.gammaln(y + r)
            - special.gammaln(r)
            + y * np.log(a * mu)
            - (y + r) * np.log1p(a * mu)
        )
        return -float(ll.sum())

    opt = optimize.minimize_scalar(
        negll,
        bounds=(math.log(_NB_ALPHA_MIN), math.log(_NB_ALPHA_MAX)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(math.exp(opt.x))


def _fit_negbin(y: np.ndarray, X: np.ndarray, start_params: np.ndarray) -> tuple[np.ndarray, float]:
    """Joint maximum likelihood for an NB2 GLM by alternation (as R's ``MASS::glm.nb``).

    Alternates the 1-D maximisation over alpha given the fitted means with the NB2 GLM fit
    given alpha, until alpha changes by less than 1e-8 (relative). The fixed point is the
    joint MLE of (coefficients, alpha); tests check it against statsmodels' discrete
    ``NegativeBinomial`` (joint Newton).
    """
    import statsmodels.api as sm  # on first use: it takes about a second to import

    params = np.asarray(start_params, dtype=float)
    alpha = _nb_alpha_given_mu(y, np.exp(X @ params))
    for _ in range(50):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha)).fit(
                start_params=params, tol=1e-10
            )
        params = np.asarray(res.params, dtype=float)
        new = _nb_alpha_given_mu(y, np.asarray(res.fittedvalues))
        converged = abs(math.log(new) - math.log(alpha)) < 1e-8
        alpha = new
        if converged:
            break
    return params, alpha


@dataclass(frozen=True)
class CountFit:
    params: np.ndarray
    cov: np.ndarray
    dispersion: float
    nb_alpha: float | None
    llf: float
    df_resid: float
    fitted: np.ndarray


def fit_count_glm(
    y: np.ndarray,
    X: np.ndarray,
    *,
    family: str,
    vcov: str = "model",
    groups: np.ndarray | None = None,
) -> CountFit:
    """Fit a log-link count GLM; the covariance follows ``family`` and ``vcov``.

    ``quasipoisson`` uses the Poisson fit with scale = Pearson chi-squared / residual df
    (statsmodels ``scale="X2"``); robust covariances (``hc1``, ``cluster``) do not depend on
    that scale.
    """
    import statsmodels.api as sm  # on first use: it takes about a second to import

    nb_alpha: float | None = None
    start = None
    if family == "negbin":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = sm.GLM(y, X, family=sm.families.Poisson()).fit().params
        start, nb_alpha = _fit_negbin(y, X, start)
        model = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=nb_alpha))
    else:
        model = sm.GLM(y, X, family=sm.families.Poisson())
    kwargs: dict = {"start_params": start}
    if family == "quasipoisson":
        kwargs["scale"] = "X2"
    if vcov == "hc1":
        # statsmodels' GLM computes HC0 whatever HCx is asked for; the n / (n - k) factor
        # that makes it HC1 (as Stata and pyfixest's "hetero") is applied below.
        kwargs["cov_type"] = "HC0"
    elif vcov == "cluster":
        kwargs["cov_type"] = "cluster"
        kwargs["cov_kwds"] = {"groups": groups}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(**kwargs)
    if not np.all(np.isfinite(res.params)):
        raise EstimationError(
            "The count model did not converge (non-finite coefficients). Check that the "
            "treated area has recorded crimes both before and after the start."
        )
    dispersion = float(res.pearson_chi2 / res.df_resid) if res.df_resid > 0 else float("nan")
    cov = np.asarray(res.cov_params(), dtype=float)
    if vcov == "hc1":
        n, k = X.shape
        cov = cov * n / (n - k)
    return CountFit(
        params=np.asarray(res.params, dtype=float),
        cov=cov,
        dispersion=dispersion,
        nb_alpha=nb_alpha,
        llf=float(res.llf),
        df_resid=float(res.df_resid),
        fitted=np.asarray(res.fittedvalues, dtype=float),
    )


def two_way_regressors(
    df: pd.DataFrame, treatment_cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``[treatment columns | month dummies (first dropped)]`` and each row's area code.

    The design of :func:`fit_fe_poisson` for a panel's rows: the area effects are not columns.
    ``treatment_cols`` is ``(n,)`` or ``(n, k)`` (``k`` may be 0).
    """
    area_codes, _ = pd.factorize(df[AREA], sort=True)
    month_codes, _ = pd.factorize(df[MONTH], sort=True)
    n = len(df)
    M = np.zeros((n, month_codes.max() + 1), dtype=float)
    M[np.arange(n), month_codes] = 1.0
    return np.column_stack([treatment_cols, M[:, 1:]]), area_codes


def fit_fe_poisson(
    y: np.ndarray,
    X: np.ndarray,
    *,
    areas: np.ndarray,
    family: Literal["poisson", "quasipoisson"],
    vcov: str = "model",
    groups: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> CountFit:
    """Poisson (or quasi-Poisson) fit of ``log E[y] = a_area + X b``, the area effects concentrated out.

    The same coefficients, covariance (model, HC1 or cluster-robust), Pearson dispersion,
    log-likelihood and fitted means as :func:`fit_count_glm` given ``X`` plus an intercept
    and area dummies, without building the dummies: memory and time grow with the number of
    rows times the columns of ``X``, not times the number of areas.

    Parameters
    ----------
    y
        Counts, shape ``(n,)``.
    X
        Regressors other than the area effects, shape ``(n, p)``: no intercept (the area
        effects hold it), e.g. the treatment columns and month dummies with one left out.
    areas
        Integer area code of each row (``0 .. G-1``); every area needs a positive total.
    family
        ``"poisson"`` or ``"quasipoisson"`` (scale = Pearson chi-squared / residual df).
    vcov
        ``"model"``, ``"hc1"`` (times ``n / (n - k)``) or ``"cluster"`` (by ``groups``, times
        ``G/(G-1) (n-1)/(n-k)`` as statsmodels); ``k = p + G`` counts every area effect.
    groups
        Cluster of each row, for ``vcov="cluster"``.

    Returns
    -------
    CountFit
        ``params`` and ``cov`` are for the columns of ``X`` only.

    Notes
    -----
    For fixed ``b`` the Poisson likelihood is maximised by ``exp(a_i) = y_i. / sum_t
    exp(x_it b)``, so ``b`` maximises the concentrated (multinomial) log-likelihood
    ``sum_it y_it (x_it b - log sum_s exp(x_is b))``, which is concave; it is maximised by
    Newton steps with step halving. Its negative Hessian ``P = sum_it mu_it (x_it - xbar_i)
    (x_it - xbar_i)'`` (``xbar_i`` the ``mu``-weighted mean of area ``i``'s rows) is the
    Schur complement of the area block of the full model's information matrix, so ``P^-1``
    is the ``b`` block of the full model's inverse information, and the sandwich meat built
    from the scores ``(y_it - mu_it)(x_it - xbar_i)`` is the ``b`` block of the full
    model's (Hausman, Hall & Griliches 1984; Wooldridge 1999; the same device as pyfixest
    ``fepois`` and ppmlhdfe). Checked against statsmodels GLM with dummies in
    ``tests/estimators/test_fe_poisson.py``.
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    codes = np.asarray(areas)
    n, p = X.shape
    if y.shape != (n,) or codes.shape != (n,):
        raise EstimationError(f"y {y.shape} and areas {codes.shape} must have {n} rows, as X")
    n_areas = int(codes.max()) + 1 if n else 0
    y_area = np.bincount(codes, weights=y, minlength=n_areas)
    if np.any(y_area <= 0):
        raise EstimationError("every area needs recorded crimes for its effect to be estimated")
    A = _by_area(codes, n_areas)
    _check_identified(X, A, codes)

    def at(b: np.ndarray) -> tuple[float, np.ndarray]:
        eta = X @ b
        top = np.full(n_areas, -np.inf)
        np.maximum.at(top, codes, eta)
        eta = eta - top[codes]
        e = np.exp(eta)
        s = A @ e
        ll = float(y @ eta - y_area @ np.log(s))
        return ll, e * (y_area / s)[codes]

    def newton_step(b: np.ndarray, mu: np.ndarray) -> np.ndarray:
        grad = X.T @ (y - mu)
        info = _concentrated_info(X, mu, A, y_area)
        try:
            return np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return np.linalg.lstsq(info, grad, rcond=None)[0]

    b, mu, converged = _maximise(at, newton_step, np.zeros(p), tol=tol, max_iter=max_iter)
    if not converged or not np.all(np.isfinite(b)) or np.any(np.abs(b) > _SEPARATED):
        raise EstimationError(
            "The count model has no finite estimate: a coefficient runs off to infinity, "
            "which happens when some counts can be fitted exactly (for example a period in "
            "which only the treated area, or only the comparison areas, recorded crimes). "
            "Use longer periods (e.g. quarters) or a more common outcome."
        )
    info = _concentrated_info(X, mu, A, y_area)
    bread = np.linalg.pinv(info)
    k_full = p + n_areas
    df_resid = float(n - k_full)
    pearson = float(np.sum((y - mu) ** 2 / mu))
    dispersion = pearson / df_resid if df_resid > 0 else float("nan")
    if vcov == "model":
        scale = dispersion if family == "quasipoisson" else 1.0
        cov = bread * scale
    else:
        xbar = np.asarray(A @ (X * mu[:, None])) / y_area[:, None]
        xt = X - xbar[codes]
        score = xt * (y - mu)[:, None]
        if vcov == "hc1":
            meat = score.T @ score
            cov = bread @ meat @ bread * n / (n - k_full)
        elif vcov == "cluster":
            if groups is None:
                raise EstimationError("vcov='cluster' needs groups")
            g_codes, _ = pd.factorize(np.asarray(groups))
            n_g = int(g_codes.max()) + 1
            if n_g < 2:
                raise EstimationError("cluster-robust standard errors need at least 2 clusters")
            sums = np.asarray(_by_area(g_codes, n_g) @ score)
            cov = bread @ (sums.T @ sums) @ bread
            cov *= n_g / (n_g - 1) * (n - 1) / (n - k_full)
        else:
            raise EstimationError(f"unknown vcov {vcov!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        llf = float(np.sum(special.xlogy(y, mu) - mu - special.gammaln(y + 1)))
    if family == "quasipoisson":  # as statsmodels: the log-likelihood over the scale
        llf /= dispersion
    return CountFit(
        params=b,
        cov=cov,
        dispersion=dispersion,
        nb_alpha=None,
        llf=llf,
        df_resid=df_resid,
        fitted=mu,
    )


def _maximise(
    at: Callable[[np.ndarray], tuple[float, np.ndarray]],
    newton_step: Callable[[np.ndarray, np.ndarray], np.ndarray],
    b: np.ndarray,
    *,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Newton's method with step halving on a concave log-likelihood.

    ``at(b)`` gives the log-likelihood and the fitted means, ``newton_step(b, mu)`` the full
    Newton step. Converged when the full step is below ``tol``, or when the likelihood no
    longer rises beyond rounding and the full step is below 1e-6 (the gradient's precision;
    the full step is then taken). A fit running off to infinity keeps full steps of order 1
    and ends unconverged. Returns ``(b, mu, converged)``.
    """
    ll, mu = at(b)
    if b.size == 0:
        return b, mu, True
    for _ in range(max_iter):
        step = newton_step(b, mu)
        size = float(np.max(np.abs(step)))
        if size < tol:
            return b, mu, True
        t, moved = 1.0, False
        for _ in range(60):
            ll_new, mu_new = at(b + t * step)
            if ll_new >= ll:
                moved = True
                break
            t /= 2
        if (not moved or ll_new - ll <= 1e-13 * max(1.0, abs(ll))) and size < 1e-6:
            b = b + step
            return b, at(b)[1], True
        if not moved:
            return b, mu, False
        b, ll, mu = b + t * step, ll_new, mu_new
    return b, mu, False


#: A log-rate coefficient beyond this (a ratio of 5e8) is an estimate running off to infinity.
_SEPARATED = 20.0


def _check_identified(X: np.ndarray, A, codes: np.ndarray) -> None:
    """Refuse columns of ``X`` that the area effects and the other columns already explain."""
    if X.shape[1] == 0:
        return
    rows = np.asarray(A.sum(axis=1)).ravel()
    within = X - (np.asarray(A @ X) / rows[:, None])[codes]
    gram = within.T @ within
    scale = np.sqrt(np.maximum(np.diag(X.T @ X), 1e-300))
    corr = gram / scale[:, None] / scale[None, :]
    flat = np.flatnonzero(np.diag(corr) < 1e-12)
    if flat.size:
        raise EstimationError(
            f"column(s) {flat.tolist()} of the design are zero or constant within every area, "
            "so the area effects already hold them: leave them out"
        )
    ev = np.linalg.eigvalsh(corr)
    if ev[0] < 1e-10 * ev[-1]:
        raise EstimationError(
            "the design's columns are collinear given the area effects (one is a combination "
            "of the others): leave the redundant column out"
        )


def _by_area(codes: np.ndarray, n_areas: int):
    """A sparse ``(n_areas, n)`` indicator: ``_by_area(...) @ M`` sums the rows of ``M`` by area."""
    from scipy import sparse

    n = len(codes)
    return sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_areas, n))


def _concentrated_info(X: np.ndarray, mu: np.ndarray, A, mu_area: np.ndarray) -> np.ndarray:
    """``sum_it mu_it (x_it - xbar_i)(x_it - xbar_i)'``: the concentrated negative Hessian."""
    weighted = X * mu[:, None]
    sums = np.asarray(A @ weighted)
    info = X.T @ weighted - sums.T @ (sums / mu_area[:, None])
    return (info + info.T) / 2


def fit_poisson(
    y: np.ndarray,
    X: np.ndarray,
    *,
    family: Literal["poisson", "quasipoisson"],
    tol: float = 1e-10,
    max_iter: int = 100,
) -> CountFit:
    """Poisson (or quasi-Poisson) log-link fit of a small dense design, model-based covariance.

    The numbers of :func:`fit_count_glm` with ``vcov="model"`` (statsmodels GLM; checked in
    ``tests/estimators/test_fe_poisson.py``) by Newton's method with step halving, without
    importing statsmodels: for the segmented regressions of one series (a few dozen rows).

    Notes
    -----
    Maximises ``sum y log mu - mu`` with ``mu = exp(X b)``: gradient ``X'(y - mu)``, negative
    Hessian ``X' diag(mu) X``; covariance ``scale (X' diag(mu) X)^-1`` with ``scale`` 1
    (Poisson) or Pearson chi-squared / (n - p) (quasi-Poisson, statsmodels ``scale="X2"``).
    """
    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float)
    n, p = X.shape
    # Start where statsmodels' IRLS starts: the log of the counts, least-squares projected.
    b = np.linalg.lstsq(X, np.log(y + 0.5), rcond=None)[0]

    def loglik(b: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(over="ignore"):
            eta = X @ b
            mu = np.exp(eta)
        ll = float(y @ eta - mu.sum())
        return (ll if np.isfinite(ll) else -np.inf), mu

    def newton_step(b: np.ndarray, mu: np.ndarray) -> np.ndarray:
        info = X.T @ (X * mu[:, None])
        return np.linalg.lstsq(info, X.T @ (y - mu), rcond=None)[0]

    b, mu, converged = _maximise(loglik, newton_step, b, tol=tol, max_iter=max_iter)
    if not converged or not np.all(np.isfinite(b)):
        raise EstimationError(
            "The count model did not converge (non-finite coefficients). Check that the "
            "series has recorded crimes both before and after the start."
        )
    info = X.T @ (X * mu[:, None])
    df_resid = float(n - p)
    pearson = float(np.sum((y - mu) ** 2 / mu))
    dispersion = pearson / df_resid if df_resid > 0 else float("nan")
    scale = dispersion if family == "quasipoisson" else 1.0
    llf = float(np.sum(special.xlogy(y, mu) - mu - special.gammaln(y + 1)))
    return CountFit(
        params=b,
        cov=np.linalg.pinv(info) * scale,
        dispersion=dispersion,
        nb_alpha=None,
        llf=llf / scale if family == "quasipoisson" else llf,
        df_resid=df_resid,
        fitted=mu,
    )
