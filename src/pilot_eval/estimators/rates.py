"""Tests and effect sizes for Poisson counts: E-test, log incidence-rate ratio, Poisson z, dispersion.

Every function takes plain counts (crimes recorded in an area and period) and returns a frozen
result with ``.tidy()`` and ``.summary()`` (except :func:`e_test`, which returns the p-value as a
float, like ptools' ``e_test``).

:func:`log_irr` is the panel-first design (``log_irr(panel, outcome=...)``);
:func:`log_irr_counts` is its twin on ``(pre, post)`` count pairs, as published.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from .._checks import check_alpha, check_option, check_positive
from .._dist import chi2_sf, norm_sf, poisson_pmf
from ..errors import DataValidationError, EstimationError
from ..results import Estimate, Result, Role
from ..wording import format_level_of_alpha, format_number, format_p_3dp, significance_sentence
from ._common import (
    check_count,
    check_positive_data,
    count_pair,
    group_totals,
    p_for_estimate,
    p_two_sided,
    wald,
)

__all__ = [
    "DispersionResult",
    "LogIRRResult",
    "PoissonZResult",
    "dispersion_test",
    "e_test",
    "log_irr",
    "log_irr_counts",
    "panel_dispersion_test",
    "poisson_z",
]


# ---------------------------------------------------------------------------------------------
# E-test
# ---------------------------------------------------------------------------------------------
#: Largest E-test grid (cells) evaluated; beyond this the normal approximation is as good.
_E_TEST_MAX_CELLS = 25_000_000


def _support(mu: float) -> tuple[int, int]:
    """Integer range holding all but a negligible (< 1e-20) share of a Poisson(mu) in each tail.

    12 standard deviations either side, plus 45 on the right for small means (for mu < 1 the
    right tail beyond 45 is below 1e-56).
    """
    if mu <= 0:
        return 0, 0
    sd = math.sqrt(mu)
    return max(int(mu - 12 * sd), 0), int(math.ceil(mu + 12 * sd)) + 45


def e_test(k1: float, k2: float, n1: float = 1.0, n2: float = 1.0) -> float:
    """Krishnamoorthy & Thomson (2004) E-test for the difference of two Poisson rates.

    Tests the null hypothesis ``k1 / n1 == k2 / n2`` (equal rates) against the two-sided
    alternative, as ptools' ``e_test(k1, k2, n1 = 1, n2 = 1)`` does with its default ``d = 0``.

    Parameters
    ----------
    k1, k2
        Observed counts (e.g. crimes this month, crimes in the same month last year).
    n1, n2
        Exposures dividing each count into a rate (months, area, population); default 1.

    Returns
    -------
    float
        The two-sided p-value.

    Raises
    ------
    DataValidationError
        If a count is negative or an exposure is not positive. (ptools returns -1 instead.)
    EstimationError
        If both counts are zero (the test is not defined), or the counts are so large that the
        exact sum is not worth computing (use :func:`log_irr` or the WDD normal approximation).

    Notes
    -----
    Estimand: the difference of the two Poisson rates, ``lambda1 - lambda2``; the test is of
    ``lambda1 = lambda2``. Assumes each count is a Poisson draw (no overdispersion) and the two
    are independent.

    The statistic is the standardised difference with the pooled rate estimate,
    ``T(x1, x2) = |x1/n1 - x2/n2| / sqrt((x1 + x2) / (n1 + n2))`` (ptools' form; proportional to
    the pooled-variance z), and the p-value is the parametric-bootstrap probability
    ``sum P(X1 = x1) P(X2 = x2) 1[T(x1, x2) >= T(k1, k2)]`` with ``X1 ~ Poisson(n1 lambda_hat)``,
    ``X2 ~ Poisson(n2 lambda_hat)`` and ``lambda_hat = (k1 + k2) / (n1 + n2)`` (Krishnamoorthy &
    Thomson 2004). The sum runs over every pair with at least ``1e-20`` probability in each tail.
    Ties are counted as "at least as extreme" and ``T(0, 0)`` is 0, so equal counts give p = 1
    (ptools leaves the (0, 0) cell out, giving a p-value just under 1 there).

    ptools also offers a shifted null ``d``; it is not offered here because ptools' statistic
    with ``d != 0`` mixes two variance estimates.

    References
    ----------
    Krishnamoorthy, K., & Thomson, J. (2004). A more powerful test for comparing two Poisson
    means. *Journal of Statistical Planning and Inference*, 119(1), 23-35.
    Wheeler, A. P. ptools R package, ``e_test``.

    Examples
    --------
    >>> round(e_test(6, 2), 4)  # second example in Krishnamoorthy & Thomson (2004)
    0.1749
    """
    k1 = check_count(k1, "k1")
    k2 = check_count(k2, "k2")
    n1 = check_positive_data(n1, "n1")
    n2 = check_positive_data(n2, "n2")
    if k1 == 0 and k2 == 0:
        raise EstimationError(
            "The E-test is not defined when both counts are zero: there is nothing to compare."
        )
    lam = (k1 + k2) / (n1 + n2)
    mu1, mu2 = n1 * lam, n2 * lam
    t_obs = abs(k1 / n1 - k2 / n2) / math.sqrt(lam)
    lo1, hi1 = _support(mu1)
    lo2, hi2 = _support(mu2)
    if (hi1 - lo1 + 1) * (hi2 - lo2 + 1) > _E_TEST_MAX_CELLS:
        raise EstimationError(
            f"The E-test sum over counts this large ({k1:g} and {k2:g}) is too big to compute "
            "exactly. At these sizes the normal approximation is accurate: use log_irr_counts() or "
            "wdd_counts(), or express the counts as rates per larger unit with n1 and n2."
        )
    x1 = np.arange(lo1, hi1 + 1, dtype=float)
    x2 = np.arange(lo2, hi2 + 1, dtype=float)
    p1 = poisson_pmf(x1, mu1)
    p2 = poisson_pmf(x2, mu2)
    pooled = (x1[:, None] + x2[None, :]) / (n1 + n2)
    diff = np.abs(x1[:, None] / n1 - x2[None, :] / n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(pooled > 0, diff / np.sqrt(pooled), 0.0)
    extreme = (t >= t_obs * (1.0 - 1e-12) - 1e-12).astype(float)
    p = float(np.einsum("i,ij,j->", p1, extreme, p2))
    return min(max(p, 0.0), 1.0)


# ---------------------------------------------------------------------------------------------
# Log incidence-rate ratio (Wilson 2022)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogIRRResult(Result):
    """Wilson's relative incidence-rate ratio for a pre/post, treated/control design."""

    est: float
    se: float
    irr: float
    ci_low: float
    ci_high: float
    p_value: float
    z: float
    alpha: float
    dispersion: float = 1.0
    continuity: float = 0.0
    note: str = ""

    @property
    def level(self) -> float:
        return 1.0 - self.alpha

    @property
    def pct_change(self) -> float:
        """Relative change in the treated area's rate, in percent (negative = fall)."""
        return 100.0 * (self.irr - 1.0)

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "term": "log_irr",
                    "estimate": self.est,
                    "std_error": self.se,
                    "statistic": self.z,
                    "p_value": self.p_value,
                    "irr": self.irr,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "scale": "ratio",
                    "level": self.level,
                }
            ]
        )

    def summary(self) -> str:
        ci = f"{self.ci_low:.2f} to {self.ci_high:.2f}"
        direction = "fell" if self.irr < 1 else "rose" if self.irr > 1 else "did not change"
        pct = abs(self.pct_change)
        lines = [
            f"Relative to the control area, crime in the treated area {direction}"
            + (f" by {pct:.0f} %" if direction != "did not change" else "")
            + f" (incidence-rate ratio {self.irr:.2f}, {format_level_of_alpha(self.alpha)} interval {ci}).",
            significance_sentence(self.p_value, self.alpha, "1 (no change)"),
        ]
        if self.dispersion != 1.0:
            lines.append(
                f"The interval was widened for overdispersion (dispersion {self.dispersion:.2f})."
            )
        if self.note:
            lines.append(self.note)
        return " ".join(lines)

    def to_estimate(self, *, outcome: str, role: Role = "robustness") -> Estimate:
        return Estimate(
            outcome=outcome,
            method="log_irr",
            estimate=self.irr,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            p_value=p_for_estimate(self.p_value),
            scale="ratio",
            level=self.level,
            role=role,
            note=self.note,
        )


def log_irr(
    panel: pd.DataFrame,
    *,
    outcome: str,
    alpha: float = 0.05,
    dispersion: float = 1.0,
    continuity: float = 0.0,
) -> LogIRRResult:
    """Wilson (2022) log relative incidence-rate ratio of the treated against the comparison areas.

    The panel-first form of :func:`log_irr_counts`: the panel's counts are totalled by group
    and period (treated and comparison areas, before and from the start; the buffer is not
    used) and the twin is called on those totals.

    Parameters
    ----------
    panel
        Long area x month panel in the contract of :mod:`pilot_eval.columns` (``outcome, area,
        group, month, count, treated, post``), zero-filled. Not modified.
    outcome
        Which outcome's rows to use.
    alpha
        Two-sided interval level ``1 - alpha`` (default 0.05: a 95 % interval).
    dispersion
        Quasi-Poisson dispersion ``phi`` multiplying the variance (default 1, Poisson); e.g.
        the ``dispersion`` of :func:`panel_dispersion_test`.
    continuity
        Added to all four totals when any is zero (default 0: zero totals raise an error).

    Returns
    -------
    LogIRRResult
        As :func:`log_irr_counts` on ``control = comparison (pre, post)`` and ``treated =
        treated (pre, post)`` totals.

    Raises
    ------
    DataValidationError
        When the panel breaks the contract or lacks a treated or a comparison area.
    EstimationError
        If a total is zero and no continuity correction was asked for.

    Notes
    -----
    Estimand: ``RIRR = (T1 / T0) / (C1 / C0)`` with ``T`` and ``C`` the treated and comparison
    areas' crimes summed over the months before (0) and from (1) the start. Identifying
    assumption: parallel trends on the ratio scale for the summed series. Summing months
    treats the four totals as independent Poisson draws (times ``dispersion``), which ignores
    serial correlation between months; the interval is a secondary figure with one treated
    area (see :mod:`pilot_eval.inference` for inference that holds there).
    """
    tot = group_totals(panel, outcome=outcome)
    return log_irr_counts(
        tot.comparison, tot.treated, alpha=alpha, dispersion=dispersion, continuity=continuity
    )


def log_irr_counts(
    control: Sequence[float],
    treated: Sequence[float],
    *,
    alpha: float = 0.05,
    dispersion: float = 1.0,
    continuity: float = 0.0,
) -> LogIRRResult:
    """Wilson (2022) log relative incidence-rate ratio for pre/post counts.

    The count-level twin of :func:`log_irr` (the published examples give counts).

    Parameters
    ----------
    control, treated
        ``(pre, post)`` crime counts for the control and the treated area.
    alpha
        Two-sided interval level ``1 - alpha`` (default 0.05: a 95 % interval).
    dispersion
        Quasi-Poisson dispersion ``phi`` (variance = ``phi`` x mean); the standard error is
        multiplied by ``sqrt(phi)``. Use :func:`dispersion_test` to estimate it. Default 1
        (Poisson).
    continuity
        Added to all four counts when any is zero (0.5 is the Haldane-Anscombe correction).
        Default 0: zero counts raise an error instead.

    Returns
    -------
    LogIRRResult
        ``est`` (log ratio), ``se``, ``irr`` = exp(est), ``ci_low``/``ci_high`` on the ratio
        scale, ``p_value`` (two-sided) and ``z``.

    Raises
    ------
    EstimationError
        If a count is zero and no continuity correction was asked for.

    Notes
    -----
    Estimand: the ratio of the treated area's post/pre rate change to the control area's,
    ``RIRR = (T1 / T0) / (C1 / C0)``; below 1 means crime fell more (or rose less) in the treated
    area. Identifying assumption: parallel trends on the *ratio* scale (without the intervention
    the treated area would have changed by the same percentage as the control). The standard
    error ``sqrt(1/T0 + 1/T1 + 1/C0 + 1/C1)`` assumes the four counts are independent Poisson
    draws (Wilson 2022); it equals the Wald standard error of the interaction in a Poisson GLM
    with log link on the 2x2 table. Differing pre and post lengths cancel out of the ratio.

    References
    ----------
    Wilson, D. B. (2022). The relative incident rate ratio effect size for count-based impact
    evaluations: When an odds ratio is not an odds ratio. *Journal of Quantitative
    Criminology*, 38, 323-341.
    """
    c0, c1 = count_pair(control, "control")
    t0, t1 = count_pair(treated, "treated")
    alpha = check_alpha(alpha)
    phi = check_positive(dispersion, "dispersion")
    cc = check_positive(continuity, "continuity", allow_zero=True)
    note = ""
    if min(c0, c1, t0, t1) == 0:
        if cc == 0:
            raise EstimationError(
                "The log incidence-rate ratio needs every count above zero, but one of "
                f"treated={treated!r}, control={control!r} is zero. Pass continuity=0.5 to add "
                "half a crime to each count, or use e_test() / wdd_counts(), which handle zeros."
            )
        c0, c1, t0, t1 = c0 + cc, c1 + cc, t0 + cc, t1 + cc
        note = f"A zero count was present, so {cc:g} was added to each of the four counts."
    est = math.log(t1 / t0) - math.log(c1 / c0)
    se = math.sqrt(phi * (1 / t0 + 1 / t1 + 1 / c0 + 1 / c1))
    z, p, lo, hi = wald(est, se, alpha)
    return LogIRRResult(
        est=est,
        se=se,
        irr=math.exp(est),
        ci_low=math.exp(lo),
        ci_high=math.exp(hi),
        p_value=p,
        z=z,
        alpha=alpha,
        dispersion=phi,
        continuity=cc if note else 0.0,
        note=note,
    )


# ---------------------------------------------------------------------------------------------
# Poisson z (Wheeler)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PoissonZResult(Result):
    """Wheeler's square-root Poisson z-score for a change from a historical level."""

    current: float
    past: float
    z: float
    p_value: float
    change: float
    past_periods: float | None = None

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "term": "poisson_z",
                    "estimate": self.change,
                    "statistic": self.z,
                    "p_value": self.p_value,
                    "scale": "count",
                }
            ]
        )

    def summary(self) -> str:
        word = "more" if self.change > 0 else "fewer"
        head = (
            f"{format_number(self.current, 0)} crimes against a historical level of "
            f"{format_number(self.past, 1)}: {format_number(abs(self.change), 1)} {word} "
            f"(Poisson z = {self.z:.2f}, {format_p_3dp(self.p_value)})."
        )
        if self.p_value < 0.05:
            return head + " A change this large is unusual for Poisson noise alone."
        return head + " The data cannot distinguish this from ordinary month-to-month variation."


def poisson_z(current: float, past: float, *, past_periods: float | None = None) -> PoissonZResult:
    """Wheeler's Poisson z-score for a change in counts: ``2 * (sqrt(current) - sqrt(past))``.

    Parameters
    ----------
    current
        The count now (e.g. robberies this month).
    past
        The historical level it is compared with, usually an average over many past periods.
    past_periods
        If given, ``past`` is treated as an average of this many periods, so its own noise is
        added: ``z = 2 (sqrt(current) - sqrt(past)) / sqrt(1 + 1 / past_periods)``. Default
        None: ``past`` is taken as known, as in Wheeler's formula. With a single past period
        (``past_periods=1``), :func:`e_test` is the better test.

    Returns
    -------
    PoissonZResult
        ``z``, its two-sided normal ``p_value`` and the raw ``change``.

    Notes
    -----
    Estimand: the change in the Poisson mean from the historical level. The square root is the
    variance-stabilising transform of a Poisson count (``Var(2 sqrt(X)) ~ 1``), so ``z`` is
    approximately standard normal under no change when the historical level is known. Wheeler
    suggests flagging ``|z| >= 3`` when many series are monitored. This is not a ptools
    function: ptools' comparable test is :func:`e_test`.

    References
    ----------
    Wheeler, A. P. (2018, April 29). Testing changes in short run crime patterns: the Poisson
    e-test [blog post], which restates the Poisson z-score from his earlier posts.
    """
    cur = check_count(current, "current")
    pst = check_count(past, "past")
    scale = 1.0
    if past_periods is not None:
        n = check_positive(past_periods, "past_periods")
        scale = math.sqrt(1.0 + 1.0 / n)
    z = 2.0 * (math.sqrt(cur) - math.sqrt(pst)) / scale
    return PoissonZResult(
        current=cur,
        past=pst,
        z=z,
        p_value=p_two_sided(z),
        change=cur - pst,
        past_periods=None if past_periods is None else float(past_periods),
    )


# ---------------------------------------------------------------------------------------------
# Overdispersion
# ---------------------------------------------------------------------------------------------
DispersionAlternative = Literal["nb2", "nb1"]


@dataclass(frozen=True)
class DispersionResult(Result):
    """Pearson dispersion and the Cameron-Trivedi (1990) overdispersion test for a Poisson fit."""

    n: int
    df: int
    pearson_chi2: float
    dispersion: float
    pearson_p_value: float
    ct_alpha: float
    ct_se: float
    ct_z: float
    ct_p_value: float
    alternative: str
    alpha: float
    overdispersed: bool

    @property
    def se_inflation(self) -> float:
        """Factor to multiply Poisson standard errors by: ``sqrt(max(1, dispersion))``."""
        return math.sqrt(max(1.0, self.dispersion))

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "term": "pearson_dispersion",
                    "estimate": self.dispersion,
                    "statistic": self.pearson_chi2,
                    "df": self.df,
                    "p_value": self.pearson_p_value,
                },
                {
                    "term": f"cameron_trivedi_{self.alternative}",
                    "estimate": self.ct_alpha,
                    "std_error": self.ct_se,
                    "statistic": self.ct_z,
                    "df": np.nan,
                    "p_value": self.ct_p_value,
                },
            ]
        )

    def summary(self) -> str:
        head = (
            f"Pearson dispersion {self.dispersion:.2f} on {self.df} degrees of freedom "
            f"(1 = Poisson); Cameron-Trivedi test {format_p_3dp(self.ct_p_value)}."
        )
        if self.overdispersed:
            return (
                head + " The counts vary more than a Poisson model allows, so Poisson-based "
                f"intervals are too narrow; widening standard errors by {self.se_inflation:.2f}x "
                "(the square root of the dispersion) is advised."
            )
        return (
            head + " The data do not show more variation than a Poisson model allows, so "
            "Poisson-based intervals are used as they are."
        )


def dispersion_test(
    counts: Sequence[float] | np.ndarray | pd.Series,
    fitted: Sequence[float] | np.ndarray | pd.Series,
    *,
    n_params: int = 1,
    alternative: DispersionAlternative = "nb2",
    alpha: float = 0.05,
) -> DispersionResult:
    """Check a Poisson fit for overdispersion: Pearson chi2/df and Cameron-Trivedi (1990).

    Parameters
    ----------
    counts
        Observed counts ``y_i``.
    fitted
        Fitted Poisson means ``mu_i`` from the model being checked (all positive).
    n_params
        Number of parameters estimated to get ``fitted``; the Pearson degrees of freedom are
        ``n - n_params``. Default 1 (a single mean).
    alternative
        ``"nb2"`` (default): variance ``mu + a mu^2`` (negative binomial 2); ``"nb1"``: variance
        ``(1 + a) mu``.
    alpha
        Level of the one-sided test used for the ``overdispersed`` flag.

    Returns
    -------
    DispersionResult
        ``dispersion`` (Pearson chi2 / df), its upper-tail chi2 ``pearson_p_value``, the
        auxiliary-regression estimate ``ct_alpha`` with ``ct_z`` and one-sided ``ct_p_value``,
        and ``overdispersed`` (``ct_p_value < alpha``). ``se_inflation`` gives the factor to
        widen Poisson standard errors by.

    Notes
    -----
    Estimand: the overdispersion parameter ``a`` in ``Var(y) = mu + a g(mu)`` with
    ``g(mu) = mu^2`` (NB2) or ``g(mu) = mu`` (NB1); the null is ``a = 0`` (equidispersion).
    Cameron & Trivedi (1990) regress ``((y - mu)^2 - y) / mu`` on ``g(mu) / mu`` without an
    intercept by OLS and use the t-statistic of the slope, asymptotically standard normal under
    the null. The test treats ``fitted`` as known, which is accurate when the model has few
    parameters relative to ``n``. The Pearson ratio is the usual quasi-Poisson estimate of
    ``phi`` in ``Var(y) = phi mu``.

    References
    ----------
    Cameron, A. C., & Trivedi, P. K. (1990). Regression-based tests for overdispersion in the
    Poisson model. *Journal of Econometrics*, 46(3), 347-364.
    """
    y = np.asarray(counts, dtype=float).ravel()
    mu = np.asarray(fitted, dtype=float).ravel()
    if y.shape != mu.shape:
        raise DataValidationError(
            f"counts and fitted must have the same length, got {y.size} and {mu.size}"
        )
    check_option("alternative", alternative, get_args(DispersionAlternative))
    alpha = check_alpha(alpha)
    if not np.all(np.isfinite(y)) or np.any(y < 0):
        raise DataValidationError("counts must be finite and not negative")
    if not np.all(np.isfinite(mu)) or np.any(mu <= 0):
        raise DataValidationError(
            "fitted means must be finite and above zero (a Poisson mean of 0 cannot be checked)"
        )
    n = int(y.size)
    df = n - int(n_params)
    if df < 1 or n < 3:
        raise EstimationError(
            f"Too few observations ({n}) for {n_params} fitted parameter(s) to check dispersion."
        )
    resid2 = (y - mu) ** 2
    chi2 = float(np.sum(resid2 / mu))
    phi = chi2 / df
    p_pearson = float(chi2_sf(chi2, df))
    zdep = (resid2 - y) / mu
    x = mu if alternative == "nb2" else np.ones_like(mu)
    sxx = float(np.dot(x, x))
    a_hat = float(np.dot(x, zdep)) / sxx
    resid = zdep - a_hat * x
    s2 = float(np.dot(resid, resid)) / (n - 1)
    se = math.sqrt(s2 / sxx) if s2 > 0 else math.nan
    z = a_hat / se if se and math.isfinite(se) else math.nan
    p_ct = float(norm_sf(z)) if math.isfinite(z) else math.nan
    return DispersionResult(
        n=n,
        df=df,
        pearson_chi2=chi2,
        dispersion=phi,
        pearson_p_value=p_pearson,
        ct_alpha=a_hat,
        ct_se=se,
        ct_z=z,
        ct_p_value=p_ct,
        alternative=alternative,
        alpha=alpha,
        overdispersed=bool(math.isfinite(p_ct) and p_ct < alpha),
    )


def panel_dispersion_test(
    panel: pd.DataFrame,
    *,
    outcome: str,
    alternative: DispersionAlternative = "nb1",
    alpha: float = 0.05,
) -> DispersionResult:
    """Overdispersion check of the two-way Poisson DiD model on a pilot's panel.

    Fits a Poisson GLM with area and month effects and a treated × post term to the treated
    and comparison areas' monthly counts (the panel contract of :mod:`pilot_eval.columns`;
    buffer rows left out), then applies :func:`dispersion_test` to its fitted means.

    Parameters
    ----------
    panel
        Long area × month panel.
    outcome
        Which outcome's rows to use.
    alternative
        ``"nb1"`` (default, variance ``phi * mu``: the quasi-Poisson form used to widen
        intervals) or ``"nb2"``.
    alpha
        Level of the test behind the ``overdispersed`` flag.

    Returns
    -------
    DispersionResult
        Its ``dispersion`` is the quasi-Poisson ``phi`` (Pearson chi2 / residual df) by which
        Poisson variances are multiplied elsewhere in the report.

    Notes
    -----
    Estimand: ``phi`` in ``Var(y) = phi mu`` under the two-way model. Monthly crime counts
    are usually overdispersed (``phi`` of 1.5-3); intervals that assume ``phi = 1`` are then
    too narrow. Areas with no crimes at all in the window, and months with none in any area,
    are dropped (their effects are not estimable), as are the treated area's rows after the
    start when it recorded nothing then (fitted exactly). The area effects are concentrated out of
    the fit (:func:`~pilot_eval.estimators._common.fit_fe_poisson`: the fit with area
    dummies, without building them).
    """
    from ._common import fit_fe_poisson, two_way_regressors

    df = panel[(panel["outcome"] == outcome) & (panel["group"] != "buffer")]
    if df.empty:
        raise DataValidationError(f"the panel has no rows for outcome {outcome!r}")
    keep = df.groupby("area", observed=True)["count"].transform("sum") > 0
    keep &= df.groupby("month", observed=True)["count"].transform("sum") > 0
    df = df[keep]
    d = (df["treated"] & df["post"]).to_numpy(dtype=float)
    if d.any() and df["count"].to_numpy(float)[d > 0].sum() <= 0:
        # No treated crimes after the start: those rows are fitted exactly (a treatment effect
        # of -infinity) and tell nothing about dispersion, so they and the term are left out.
        df, d = df[d == 0], d[d == 0]
    X, area_codes = two_way_regressors(df, d[:, None] if d.any() else np.empty((len(df), 0)))
    y = df["count"].to_numpy(float)
    fit = fit_fe_poisson(y, X, areas=area_codes, family="poisson")
    return dispersion_test(
        y,
        fit.fitted,
        n_params=X.shape[1] + int(area_codes.max()) + 1,
        alternative=alternative,
        alpha=alpha,
    )
