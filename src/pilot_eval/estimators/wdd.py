"""Weighted displacement difference (WDD) family: Wheeler & Ratcliffe (2018) and extensions.

Panel-first designs, ``f(panel, *, outcome=..., ...)`` like every other design:

* :func:`wdd` -- the WDD test on the panel's treated, buffer and comparison totals;
* :func:`wdd_scaled` -- the same with the control scaled so the pre-periods match;
* :func:`wdd_harm` -- WDDs of several outcomes combined with (harm) weights;
* :func:`running_wdd` -- the cumulative WDD month by month.

Their count-level twins take ``(pre, post)`` count pairs, as the published examples do:
:func:`wdd_counts` (ptools' argument order and time/area weights), :func:`wdd_scaled_counts`
and :func:`wdd_harm_counts` (ptools ``wdd_harm``).

Sign convention (as ptools): a negative estimate means fewer crimes in the treated (or
displacement) area than the control's change predicts, i.e. a crime reduction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd

from .. import columns as C
from .._checks import check_alpha, check_option, check_positive
from ..errors import DataValidationError, EstimationError, OptionError
from ..results import Estimate, Result, Role
from ..wording import format_level_of_alpha, format_number, significance_sentence
from ._common import count_pair, group_totals, p_for_estimate, p_two_sided, wald, z_crit

__all__ = [
    "RunningWDDResult",
    "WDDHarmResult",
    "WDDResult",
    "running_wdd",
    "wdd",
    "wdd_counts",
    "wdd_harm",
    "wdd_harm_counts",
    "wdd_scaled",
    "wdd_scaled_counts",
]

ScaledVariance = Literal["delta", "fixed"]


def _ci_text(lo: float, hi: float, digits: int = 1) -> str:
    return f"{format_number(lo, digits)} to {format_number(hi, digits)}"


def _change_words(est: float, digits: int = 1) -> str:
    if est < 0:
        return f"{format_number(-est, digits)} fewer crimes"
    if est > 0:
        return f"{format_number(est, digits)} more crimes"
    return "no more and no fewer crimes"


@dataclass(frozen=True)
class WDDResult(Result):
    """Result of :func:`wdd` / :func:`wdd_scaled` (and their ``*_counts`` twins).

    ``est_*`` are in crimes per unit of the time and area weights (crimes over the post period
    when the weights are 1); negative = fewer crimes than the control predicts. ``z``,
    ``p_value`` and ``ci_low``/``ci_high`` refer to the total (local + displacement).
    """

    est_local: float
    se_local: float
    est_displace: float
    se_displace: float
    est_total: float
    se_total: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float = 0.1
    method: str = "wdd"
    has_displacement: bool = False
    dispersion: float = 1.0
    k_local: float = math.nan
    k_displace: float = math.nan
    note: str = ""

    @property
    def level(self) -> float:
        return 1.0 - self.alpha

    def tidy(self) -> pd.DataFrame:
        rows = []
        terms = [("local", self.est_local, self.se_local)]
        if self.has_displacement:
            terms.append(("displacement", self.est_displace, self.se_displace))
        terms.append(("total", self.est_total, self.se_total))
        for term, est, se in terms:
            z, p, lo, hi = wald(est, se, self.alpha)
            rows.append(
                {
                    "term": term,
                    "estimate": est,
                    "std_error": se,
                    "statistic": z,
                    "p_value": p,
                    "ci_low": lo,
                    "ci_high": hi,
                    "scale": "count",
                    "level": self.level,
                    "method": self.method,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        ci = _ci_text(self.ci_low, self.ci_high)
        parts = []
        if self.has_displacement:
            parts.append(
                f"Treated area: {_change_words(self.est_local)} than the control's trend "
                f"predicts (SE {self.se_local:.1f}); displacement area: "
                f"{_change_words(self.est_displace)} (SE {self.se_displace:.1f})."
            )
            parts.append(
                f"Overall, {_change_words(self.est_total)} "
                f"({format_level_of_alpha(self.alpha)} interval {ci})."
            )
        else:
            parts.append(
                f"The treated area had {_change_words(self.est_total)} than the control area's "
                f"trend predicts ({format_level_of_alpha(self.alpha)} interval {ci})."
            )
        parts.append(significance_sentence(self.p_value, self.alpha))
        if self.dispersion != 1.0:
            parts.append(
                f"Intervals were widened for overdispersion (dispersion {self.dispersion:.2f})."
            )
        if self.note:
            parts.append(self.note)
        return " ".join(parts)

    def to_estimate(
        self,
        *,
        outcome: str,
        role: Role = "robustness",
        term: Literal["total", "local"] = "total",
    ) -> Estimate:
        """The total (default) or local WDD as a ``results.json`` row (scale ``count``)."""
        check_option("term", term, ("total", "local"))
        if term == "total":
            est, lo, hi, p = self.est_total, self.ci_low, self.ci_high, self.p_value
        else:
            est = self.est_local
            _, p, lo, hi = wald(est, self.se_local, self.alpha)
        return Estimate(
            outcome=outcome,
            method=self.method if term == "total" else f"{self.method}_local",
            estimate=est,
            ci_low=lo,
            ci_high=hi,
            p_value=p_for_estimate(p),
            scale="count",
            level=self.level,
            role=role,
            note=self.note,
        )


def _finish(
    est_l: float,
    var_l: float,
    est_d: float,
    var_d: float,
    *,
    alpha: float,
    phi: float,
    method: str,
    has_disp: bool,
    k_local: float = math.nan,
    k_displace: float = math.nan,
    note: str = "",
) -> WDDResult:
    var_l, var_d = phi * var_l, phi * var_d
    est_t = est_l + est_d
    se_t = math.sqrt(var_l + var_d)
    if se_t == 0:
        raise EstimationError(
            "Every count is zero, so the WDD has no variance and no test is possible."
        )
    z, p, lo, hi = wald(est_t, se_t, alpha)
    return WDDResult(
        est_local=est_l,
        se_local=math.sqrt(var_l),
        est_displace=est_d,
        se_displace=math.sqrt(var_d),
        est_total=est_t,
        se_total=se_t,
        z=z,
        p_value=p,
        ci_low=lo,
        ci_high=hi,
        alpha=alpha,
        method=method,
        has_displacement=has_disp,
        dispersion=phi,
        k_local=k_local,
        k_displace=k_displace,
        note=note,
    )


def wdd_counts(
    control: Sequence[float],
    treated: Sequence[float],
    disp_control: Sequence[float] = (0, 0),
    disp_treated: Sequence[float] = (0, 0),
    *,
    time_weights: Sequence[float] = (1, 1),
    area_weights: Sequence[float] = (1, 1, 1, 1),
    alpha: float = 0.1,
    dispersion: float = 1.0,
) -> WDDResult:
    """Weighted displacement difference test (Wheeler & Ratcliffe 2018), as ptools' ``wdd``.

    The count-level twin of :func:`wdd` (the published examples give counts).

    Parameters
    ----------
    control, treated
        ``(pre, post)`` crime counts for the control and the treated area.
    disp_control, disp_treated
        ``(pre, post)`` counts for the displacement area's control and the displacement
        (buffer) area around the treated area. Default ``(0, 0)``: no displacement analysis.
    time_weights
        ``(pre, post)`` period lengths. Each count is *divided* by its weight, so the result
        is in crimes per unit time (ptools semantics). ``(24, 12)`` months gives crimes per
        month; ``(2, 1)`` for two years pre and one post gives crimes per year. To keep the
        answer in crimes over the whole post period use ``(pre_len / post_len, 1)``.
    area_weights
        Sizes (area, population...) of ``(control, treated, disp_control, disp_treated)``;
        counts are divided by them too, so the result is per unit area (a density).
    alpha
        Two-sided interval level ``1 - alpha``. Default 0.1 (a 90 % interval), as ptools.
    dispersion
        Quasi-Poisson dispersion ``phi``: variances are multiplied by it (default 1, Poisson).
        An extension; ptools has none.

    Returns
    -------
    WDDResult
        ``est_local, se_local, est_displace, se_displace, est_total, se_total, z, p_value,
        ci_low, ci_high`` (interval on the total).

    Notes
    -----
    Estimand: the difference-in-differences in counts,
    ``WDD = (T1/wT1 - T0/wT0) - (C1/wC1 - C0/wC0)`` for the treated area plus the same for the
    displacement area against its control, where each weight is the product of the time and
    area weights. Identifying assumption: parallel trends on the count scale (without the
    intervention the treated area would have changed by the same *number* of crimes as the
    control), which is plausible only when the areas have similar counts (see
    :func:`wdd_scaled_counts` otherwise). The variance ``sum(count / weight^2)`` treats each count as
    an independent Poisson draw; with overdispersed counts it is too small unless
    ``dispersion`` is set. The test uses the normal approximation, so it is unreliable with very
    small counts (use :func:`~pilot_eval.estimators.rates.e_test` there). The p-value is
    two-sided.

    References
    ----------
    Wheeler, A. P., & Ratcliffe, J. H. (2018). A simple weighted displacement difference test
    to evaluate place based crime interventions. *Crime Science*, 7(1), 11.
    Wheeler, A. P. ptools R package, ``wdd``.
    """
    c0, c1 = count_pair(control, "control")
    t0, t1 = count_pair(treated, "treated")
    dc0, dc1 = count_pair(disp_control, "disp_control")
    dt0, dt1 = count_pair(disp_treated, "disp_treated")
    tw = [
        check_positive(w, f"time_weights[{i}]")
        for i, w in enumerate(_weights(time_weights, 2, "time_weights"))
    ]
    aw = [
        check_positive(w, f"area_weights[{i}]")
        for i, w in enumerate(_weights(area_weights, 4, "area_weights"))
    ]
    alpha = check_alpha(alpha)
    phi = check_positive(dispersion, "dispersion")

    def diff(pre: float, post: float, area_w: float) -> tuple[float, float]:
        w0, w1 = tw[0] * area_w, tw[1] * area_w
        return post / w1 - pre / w0, post / w1**2 + pre / w0**2

    et, vt = diff(t0, t1, aw[1])
    ec, vc = diff(c0, c1, aw[0])
    edt, vdt = diff(dt0, dt1, aw[3])
    edc, vdc = diff(dc0, dc1, aw[2])
    has_disp = (dc0 + dc1 + dt0 + dt1) > 0
    note = _size_note(t0 / (tw[0] * aw[1]), c0 / (tw[0] * aw[0]), "control")
    return _finish(
        et - ec,
        vt + vc,
        edt - edc,
        vdt + vdc,
        alpha=alpha,
        phi=phi,
        method="wdd",
        has_disp=has_disp,
        note=note,
    )


def _size_note(treated_pre: float, control_pre: float, what: str) -> str:
    """Warn when the count-scale WDD compares areas of very different size."""
    if treated_pre <= 0 or control_pre <= 0:
        return ""
    ratio = control_pre / treated_pre
    if 0.5 <= ratio <= 2.0:
        return ""
    return (
        f"The {what} had {ratio:.1f} times the treated area's pre-period crimes (after weights); "
        "the WDD assumes both would change by the same number of crimes, which is doubtful for "
        "areas this different in size. Consider wdd_scaled() or area_weights."
    )


def _weights(w: Sequence[float], n: int, name: str) -> list[float]:
    if isinstance(w, (str, bytes)) or not hasattr(w, "__len__") or len(w) != n:
        raise OptionError(f"{name} must hold exactly {n} numbers, got {w!r}")
    return list(w)


def wdd_scaled_counts(
    control: Sequence[float],
    treated: Sequence[float],
    disp_control: Sequence[float] | None = None,
    disp_treated: Sequence[float] | None = None,
    *,
    alpha: float = 0.1,
    variance: ScaledVariance = "delta",
    dispersion: float = 1.0,
) -> WDDResult:
    """WDD with the control scaled so its pre-period count equals the treated area's.

    The count-level twin of :func:`wdd_scaled` (the published examples give counts).

    Parameters
    ----------
    control, treated
        ``(pre, post)`` counts. The control is multiplied by ``k = treated_pre / control_pre``.
    disp_control, disp_treated
        Optional ``(pre, post)`` counts for a displacement (buffer) area and its control, scaled
        the same way with ``k_d = disp_treated_pre / disp_control_pre``.
    alpha
        Two-sided interval level ``1 - alpha`` (default 0.1, as :func:`wdd_counts`).
    variance
        ``"delta"`` (default): delta-method variance that treats ``k`` as estimated from the
        pre-period counts. ``"fixed"``: treats ``k`` as a known constant, which equals ptools'
        ``wdd_counts(control, treated, area_weights=(1/k, 1, 1, 1))``; it ignores the noise in ``k``
        and its covariance with ``T0``, so it can be too large or too small.
    dispersion
        Quasi-Poisson dispersion multiplying the variances (default 1).

    Returns
    -------
    WDDResult
        As :func:`wdd_counts`, in crimes over the post period, with ``k_local`` (and ``k_displace``).

    Raises
    ------
    EstimationError
        If a control pre-period count is zero (``k`` is undefined).

    Notes
    -----
    Estimand: crimes in the treated area over the post period minus the counterfactual
    ``T0 * C1 / C0``, i.e. ``WDD_k = (T1 - T0) - k (C1 - C0) = T1 - T0 C1 / C0``. Scaling the
    control makes its pre-period level match, so the count-scale parallel-trends assumption of
    the WDD becomes "the treated area would have changed by the same *percentage* as the
    control" -- the same assumption as the log incidence-rate ratio, expressed in crimes. It
    also equals minus the first bracket of Guerette's total net effect,
    ``A0 (C1 / C0) - A1``. Because ``k`` is a ratio of pre-period counts, differences in area
    size and in pre-period length cancel, and no time weights are needed.

    Variance. With ``k`` fixed, ``Var = T1 + T0 + k^2 (C1 + C0)``. With ``k`` estimated (delta
    method on ``T1 - T0 C1 / C0``), ``Var = T1 + T0 r^2 + k^2 C1 + k^2 r^2 C0`` with
    ``r = C1 / C0``; this accounts for the noise in the pre-period counts that set ``k`` and
    is the default. Both treat the counts as independent Poisson draws. ptools has no scaled
    variant; Wheeler's guidance is to use area or population weights (``area_weights`` in
    :func:`wdd_counts`) when controls differ in size, which is the ``"fixed"`` case here with the
    weight set from the pre-period counts.

    References
    ----------
    Wheeler, A. P., & Ratcliffe, J. H. (2018). *Crime Science*, 7(1), 11.
    Wheeler, A. P. (2021, February 23). The WDD test with different area sizes [blog post].
    Guerette, R. T. (2009). *Analyzing Crime Displacement and Diffusion*. Problem-Oriented
    Guides for Police, Problem-Solving Tools Series No. 10.
    """
    check_option("variance", variance, get_args(ScaledVariance))
    alpha = check_alpha(alpha)
    phi = check_positive(dispersion, "dispersion")
    c0, c1 = count_pair(control, "control")
    t0, t1 = count_pair(treated, "treated")
    est_l, var_l, k_l = _scaled_component(c0, c1, t0, t1, variance, "control")
    has_disp = disp_control is not None or disp_treated is not None
    if has_disp:
        if disp_control is None or disp_treated is None:
            raise DataValidationError(
                "give both disp_control and disp_treated for a displacement analysis, or neither"
            )
        dc0, dc1 = count_pair(disp_control, "disp_control")
        dt0, dt1 = count_pair(disp_treated, "disp_treated")
        est_d, var_d, k_d = _scaled_component(dc0, dc1, dt0, dt1, variance, "disp_control")
    else:
        est_d, var_d, k_d = 0.0, 0.0, math.nan
    note = f"Control counts scaled by k = {k_l:.3g} (treated pre / control pre)"
    if has_disp:
        note += f"; displacement control by {k_d:.3g}"
    note += f"; {'delta-method' if variance == 'delta' else 'fixed-k'} variance."
    return _finish(
        est_l,
        var_l,
        est_d,
        var_d,
        alpha=alpha,
        phi=phi,
        method="wdd_scaled",
        has_disp=has_disp,
        k_local=k_l,
        k_displace=k_d,
        note=note,
    )


def _scaled_component(
    c0: float, c1: float, t0: float, t1: float, variance: str, name: str
) -> tuple[float, float, float]:
    if c0 <= 0:
        raise EstimationError(
            f"The {name} area had no crimes in the pre-period, so it cannot be scaled to the "
            "treated area. Use wdd_counts() with area_weights, or choose a control with crimes."
        )
    k = t0 / c0
    r = c1 / c0
    est = t1 - t0 * r
    if variance == "fixed":
        var = t1 + t0 + k * k * (c1 + c0)
    else:
        var = t1 + t0 * r * r + k * k * c1 + k * k * r * r * c0
    return est, var, k


# ---------------------------------------------------------------------------------------------
# Harm-weighted combination
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class WDDHarmResult(Result):
    """Result of :func:`wdd_harm` / :func:`wdd_harm_counts`: a weighted sum of WDD estimates with its interval."""

    est: float
    se: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float = 0.1
    components: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    note: str = ""

    @property
    def level(self) -> float:
        return 1.0 - self.alpha

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "term": "harm_total",
                    "estimate": self.est,
                    "std_error": self.se,
                    "statistic": self.z,
                    "p_value": self.p_value,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "scale": "count",
                    "level": self.level,
                }
            ]
        )

    def summary(self) -> str:
        ci = _ci_text(self.ci_low, self.ci_high)
        word = "less" if self.est < 0 else "more"
        text = (
            f"Weighted by harm, the change is {format_number(abs(self.est))} harm units {word} than "
            f"the controls predict (SE {self.se:.1f}, {format_level_of_alpha(self.alpha)} interval {ci}). "
            + significance_sentence(self.p_value, self.alpha)
        )
        return text + (f" {self.note}" if self.note else "")

    def to_estimate(self, *, outcome: str, role: Role = "secondary") -> Estimate:
        return Estimate(
            outcome=outcome,
            method="wdd_harm",
            estimate=self.est,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            p_value=p_for_estimate(self.p_value),
            scale="count",
            level=self.level,
            role=role,
            note=self.note or "Harm-weighted: units are weight x crimes, not crimes.",
        )


def wdd_harm_counts(
    estimates: Sequence[float],
    std_errors: Sequence[float],
    weights: Sequence[float],
    *,
    alpha: float = 0.1,
) -> WDDHarmResult:
    """Combine several WDD estimates into one harm-weighted estimate (ptools ``wdd_harm``).

    The count-level twin of :func:`wdd_harm` (ptools' argument order).

    Parameters
    ----------
    estimates, std_errors
        One WDD estimate and its standard error per crime type (e.g. ``est_local`` and
        ``se_local`` of several :func:`wdd_counts` results).
    weights
        Harm weight per crime type (e.g. ONS Crime Severity Score or cost per crime).
    alpha
        Two-sided interval level ``1 - alpha`` (default 0.1, as ptools).

    Returns
    -------
    WDDHarmResult
        ``est = sum(w_i est_i)``, ``se = sqrt(sum(w_i^2 se_i^2))``, ``z``, ``p_value``,
        ``ci_low``, ``ci_high``; the per-type contributions are in ``components``.

    Notes
    -----
    Estimand: the weighted sum of the per-type differences-in-differences, in harm units
    (weight x crimes). The variance assumes the per-type estimates are independent, which holds
    for Poisson counts of distinct crime types in the same areas. The weights are treated as
    known constants; their own uncertainty is not in the interval.

    References
    ----------
    Wheeler, A. P. (2020, November 19). Amending the WDD test to incorporate Harm Weights
    [blog post]; ptools R package, ``wdd_harm``.
    """
    est = np.asarray(estimates, dtype=float).ravel()
    se = np.asarray(std_errors, dtype=float).ravel()
    w = np.asarray(weights, dtype=float).ravel()
    if not (est.size == se.size == w.size) or est.size == 0:
        raise DataValidationError(
            "estimates, std_errors and weights must be non-empty and of the same length, got "
            f"{est.size}, {se.size} and {w.size}"
        )
    if not (np.all(np.isfinite(est)) and np.all(np.isfinite(se)) and np.all(np.isfinite(w))):
        raise DataValidationError("estimates, std_errors and weights must all be finite numbers")
    if np.any(se < 0):
        raise DataValidationError("standard errors cannot be negative")
    alpha = check_alpha(alpha)
    tot = float(np.sum(est * w))
    tot_se = float(math.sqrt(np.sum((se * w) ** 2)))
    if tot_se == 0:
        raise EstimationError("All weighted standard errors are zero; no test is possible.")
    z, p, lo, hi = wald(tot, tot_se, alpha)
    comps = pd.DataFrame(
        {"estimate": est, "std_error": se, "weight": w, "weighted": est * w, "weighted_se": se * w}
    )
    return WDDHarmResult(
        est=tot,
        se=tot_se,
        z=z,
        p_value=p,
        ci_low=lo,
        ci_high=hi,
        alpha=alpha,
        components=comps,
    )


# ---------------------------------------------------------------------------------------------
# Panel-first designs: the panel totalled by group x period, then the count-level twin
# ---------------------------------------------------------------------------------------------
def wdd(
    panel: pd.DataFrame,
    *,
    outcome: str,
    alpha: float = 0.05,
    dispersion: float = 1.0,
) -> WDDResult:
    """Weighted displacement difference of the treated (and buffer) areas against the comparison.

    The panel-first form of :func:`wdd_counts`: the panel's counts are totalled by group
    (treated, buffer, comparison) and period (before / from the start), and the twin is called
    with ``control`` = the comparison totals, ``treated`` = the treated totals and, when the
    panel has a buffer, ``disp_treated`` = the buffer totals against ``disp_control`` = the
    comparison totals. Time weights ``(n_pre / n_post, 1)`` put the pre-period counts on the
    post period's length, so the result is in crimes over the post period.

    Parameters
    ----------
    panel
        Long area x month panel in the contract of :mod:`pilot_eval.columns` (``outcome, area,
        group, month, count, treated, post``), zero-filled. Not modified.
    outcome
        Which outcome's rows to use.
    alpha
        Two-sided interval level ``1 - alpha`` (default 0.05: a 95 % interval, as the other
        panel designs; the count twin keeps ptools' 0.1).
    dispersion
        Quasi-Poisson dispersion ``phi`` multiplying the variances (default 1, Poisson); e.g.
        the ``dispersion`` of :func:`~pilot_eval.estimators.rates.panel_dispersion_test`.

    Returns
    -------
    WDDResult
        As :func:`wdd_counts`; ``has_displacement`` is True when the panel has a buffer.

    Raises
    ------
    DataValidationError
        When the panel breaks the contract or lacks a treated or a comparison area.

    Notes
    -----
    Estimand: ``(T1 - s T0) - (C1 - s C0)`` (plus the same for the buffer against the
    comparison), crimes over the post period with ``s = n_post / n_pre`` and ``T``, ``C`` the
    groups' crimes summed over the pre (0) and post (1) months. Identifying assumption:
    parallel trends on the count scale, plausible only when the groups have similar counts
    (see :func:`wdd_scaled` otherwise). The displacement term's control is the same comparison
    areas, counted as if independent of the local term's (as ptools called with the same
    control twice); :func:`running_wdd` accounts for the shared control. Counts are treated
    as independent Poisson draws (times ``dispersion``); serial correlation is ignored.
    """
    tot = group_totals(panel, outcome=outcome)
    if tot.n_post < 1 or tot.n_pre < 1:  # pragma: no cover - outcome_panel refuses this
        raise DataValidationError("The panel needs months both before and from the start.")
    buf = tot.buffer
    return wdd_counts(
        tot.comparison,
        tot.treated,
        tot.comparison if buf is not None else (0, 0),
        buf if buf is not None else (0, 0),
        time_weights=(tot.n_pre / tot.n_post, 1.0),
        alpha=alpha,
        dispersion=dispersion,
    )


def wdd_scaled(
    panel: pd.DataFrame,
    *,
    outcome: str,
    alpha: float = 0.05,
    dispersion: float = 1.0,
    variance: ScaledVariance = "delta",
) -> WDDResult:
    """Scaled-control WDD of the treated (and buffer) areas against the comparison areas.

    The panel-first form of :func:`wdd_scaled_counts`: the panel's counts are totalled by
    group and period and the twin is called with ``control`` = the comparison totals,
    ``treated`` = the treated totals and, when the panel has a buffer, ``disp_treated`` = the
    buffer totals against ``disp_control`` = the comparison totals (the report's WDD).

    Parameters
    ----------
    panel
        Long area x month panel in the contract of :mod:`pilot_eval.columns`, zero-filled.
        Not modified.
    outcome
        Which outcome's rows to use.
    alpha
        Two-sided interval level ``1 - alpha`` (default 0.05).
    dispersion
        Quasi-Poisson dispersion multiplying the variances (default 1).
    variance
        ``"delta"`` (default) or ``"fixed"``, as :func:`wdd_scaled_counts`.

    Returns
    -------
    WDDResult
        As :func:`wdd_scaled_counts`, in crimes over the post period.

    Raises
    ------
    DataValidationError
        When the panel breaks the contract or lacks a treated or a comparison area.
    EstimationError
        If the comparison areas recorded no crimes before the start (``k`` is undefined).

    Notes
    -----
    Estimand: ``T1 - T0 C1 / C0`` (plus ``B1 - B0 C1 / C0`` for the buffer), crimes over the
    post period against a counterfactual in which the treated (and buffer) areas change by
    the comparison areas' percentage. Differences in size and in pre-period length cancel.
    The displacement term reuses the comparison totals, counted as if independent of the
    local term's. Counts are treated as independent Poisson draws (times ``dispersion``).
    """
    tot = group_totals(panel, outcome=outcome)
    buf = tot.buffer
    return wdd_scaled_counts(
        tot.comparison,
        tot.treated,
        tot.comparison if buf is not None else None,
        buf,
        alpha=alpha,
        variance=variance,
        dispersion=dispersion,
    )


def wdd_harm(
    panel: pd.DataFrame,
    *,
    weights: Mapping[str, float],
    alpha: float = 0.05,
    dispersion: float = 1.0,
    term: Literal["total", "local"] = "total",
) -> WDDHarmResult:
    """Harm-weighted WDD over several outcomes of a panel.

    The panel-first form of :func:`wdd_harm_counts`: :func:`wdd` is run for every outcome
    named in ``weights`` and their estimates are combined with those weights.

    Parameters
    ----------
    panel
        Long area x month panel in the contract of :mod:`pilot_eval.columns` with one outcome
        per crime type to combine.
    weights
        Harm weight per outcome (e.g. a Crime Severity Score weight or a unit cost), keyed by
        the panel's ``outcome`` values.
    alpha
        Two-sided interval level ``1 - alpha`` (default 0.05).
    dispersion
        Quasi-Poisson dispersion multiplying every outcome's variances (default 1).
    term
        Combine each WDD's ``"total"`` (default; local + displacement) or ``"local"`` estimate.

    Returns
    -------
    WDDHarmResult
        As :func:`wdd_harm_counts`, with ``components`` indexed by outcome.

    Notes
    -----
    Estimand: ``sum_k w_k WDD_k``, the change in total harm over the post period. Assumes the
    per-outcome estimates are independent (distinct Poisson counts) and treats the weights as
    fixed; their own uncertainty is not in the interval.
    """
    check_option("term", term, ("total", "local"))
    if not weights:
        raise OptionError("weights is empty: give a harm weight for at least one outcome.")
    names = list(weights)
    est, se = [], []
    for name in names:
        r = wdd(panel, outcome=name, alpha=alpha, dispersion=dispersion)
        est.append(r.est_total if term == "total" else r.est_local)
        se.append(r.se_total if term == "total" else r.se_local)
    res = wdd_harm_counts(est, se, [float(weights[n]) for n in names], alpha=alpha)
    comps = res.components.copy()
    comps.index = pd.Index(names, name=C.OUTCOME)
    return WDDHarmResult(
        est=res.est,
        se=res.se,
        z=res.z,
        p_value=res.p_value,
        ci_low=res.ci_low,
        ci_high=res.ci_high,
        alpha=res.alpha,
        components=comps,
    )


# ---------------------------------------------------------------------------------------------
# Running (cumulative) WDD over the panel
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class RunningWDDResult(Result):
    """Cumulative WDD after each post-period month (see :func:`running_wdd`).

    ``frame`` has one row per post month: ``month``, ``months_post``, cumulative post counts
    per group, the counterfactual ``expected_treated``, ``est_local``/``se_local``,
    ``est_displace``/``se_displace``, ``est_total``/``se_total``, ``z``, ``p_value``,
    ``ci_low``/``ci_high`` (all in crimes since the start of the post period) and
    ``est_total_per_month``.
    """

    outcome: str
    frame: pd.DataFrame = field(repr=False)
    alpha: float
    scale_control: bool
    pre_months: int
    has_buffer: bool
    note: str = ""

    @property
    def level(self) -> float:
        return 1.0 - self.alpha

    @property
    def final(self) -> pd.Series:
        """The last month's row (the whole post period so far)."""
        return self.frame.iloc[-1]

    def tidy(self) -> pd.DataFrame:
        f = self.frame
        return pd.DataFrame(
            {
                "term": "total",
                "month": f["month"],
                "months_post": f["months_post"],
                "estimate": f["est_total"],
                "std_error": f["se_total"],
                "statistic": f["z"],
                "p_value": f["p_value"],
                "ci_low": f["ci_low"],
                "ci_high": f["ci_high"],
                "scale": "count",
                "level": self.level,
            }
        ).reset_index(drop=True)

    def summary(self) -> str:
        r = self.final
        ci = _ci_text(r["ci_low"], r["ci_high"])
        what = "treated and buffer areas" if self.has_buffer else "treated area"
        text = (
            f"After {int(r['months_post'])} post-period month(s) of {self.outcome}, the {what} "
            f"had {_change_words(r['est_total'])} in total than the comparison areas' trend "
            f"predicts ({format_level_of_alpha(self.alpha)} interval {ci}). "
            + significance_sentence(float(r["p_value"]), self.alpha)
            + " The running series is for monitoring: looking at it every month and stopping "
            "when it crosses a line inflates false alarms, so judge the pilot on the planned "
            "final month."
        )
        return text + (f" {self.note}" if self.note else "")

    def to_estimate(self, *, outcome: str | None = None, role: Role = "robustness") -> Estimate:
        r = self.final
        return Estimate(
            outcome=outcome or self.outcome,
            method="running_wdd_scaled" if self.scale_control else "running_wdd",
            estimate=float(r["est_total"]),
            ci_low=float(r["ci_low"]),
            ci_high=float(r["ci_high"]),
            p_value=p_for_estimate(float(r["p_value"])),
            scale="count",
            level=self.level,
            role=role,
            note=self.note,
        )


def running_wdd(
    panel: pd.DataFrame,
    *,
    outcome: str,
    treated_group: str = "treated",
    control_group: str = "comparison",
    buffer_group: str | None = "buffer",
    scale_control: bool = False,
    alpha: float = 0.1,
    dispersion: float = 1.0,
) -> RunningWDDResult:
    """Cumulative WDD month by month through the post period, from a panel.

    Parameters
    ----------
    panel
        Long panel with :data:`pilot_eval.columns.PANEL_COLUMNS` (``outcome, area, group,
        month, count, treated, post``), one row per outcome x area x month, zero-filled.
        ``post`` marks post-period months (1/True). Not modified.
    outcome
        Which outcome to use.
    treated_group, control_group
        Values of ``group`` for the treated and the control (comparison) areas; counts are
        summed over the areas of each group.
    buffer_group
        Value of ``group`` for the displacement (buffer) area, or None to leave displacement
        out. When the panel has no rows of that group, displacement is left out with a note.
    scale_control
        If True, scale the control so its pre-period total equals the treated (and buffer)
        pre-period total, as :func:`wdd_scaled_counts` (delta-method variance).
    alpha
        Two-sided interval level ``1 - alpha`` (default 0.1).
    dispersion
        Quasi-Poisson dispersion multiplying the variances (default 1).

    Returns
    -------
    RunningWDDResult
        With a per-month ``frame``; ``.final`` is the whole post period so far.

    Notes
    -----
    Estimand, after ``j`` post months with ``P`` pre months: the crimes in the treated area over
    those ``j`` months minus its counterfactual. Unscaled, the counterfactual follows the
    count-scale parallel-trends assumption of the WDD with time weights ``(P, j)`` (ptools),
    expressed in crimes over the ``j`` months: ``T1 - (j/P) T0 - (C1 - (j/P) C0)``. Scaled, it is
    ``T1 - T0 C1 / C0`` (percentage-scale parallel trends). The displacement term is the same for
    the buffer area against the *same* control; because both terms share the control, the
    total's variance counts the control twice (``Var = sum g_i^2 x_i`` over the six counts with
    the gradient ``g`` of the total). Counts are treated as independent Poisson draws (times
    ``dispersion``); serial correlation between months is ignored. Each month's interval is a
    fixed-sample interval, not a sequential one.

    References
    ----------
    Wheeler, A. P., & Ratcliffe, J. H. (2018). *Crime Science*, 7(1), 11.
    Wheeler, A. P. (2025). Some extensions to the WDD statistic (continuous monitoring)
    [blog post, CRIME De-Coder].
    """
    alpha = check_alpha(alpha)
    phi = check_positive(dispersion, "dispersion")
    if not isinstance(panel, pd.DataFrame):
        raise DataValidationError("panel must be a pandas DataFrame in the panel contract")
    missing = [c for c in (C.OUTCOME, C.GROUP, C.MONTH, C.COUNT, C.POST) if c not in panel.columns]
    if missing:
        raise DataValidationError(
            f"panel is missing column(s) {missing}; expected the panel contract "
            f"{list(C.PANEL_COLUMNS)}"
        )
    sub = panel.loc[panel[C.OUTCOME] == outcome, [C.GROUP, C.MONTH, C.COUNT, C.POST]]
    if sub.empty:
        known = sorted(map(str, panel[C.OUTCOME].dropna().unique()))
        raise DataValidationError(f"outcome {outcome!r} is not in the panel; it has {known}")
    if sub[C.COUNT].isna().any() or (sub[C.COUNT] < 0).any():
        raise DataValidationError(
            f"panel counts for {outcome!r} must be zero-filled and not negative"
        )
    groups = set(sub[C.GROUP].unique())
    for g, role in ((treated_group, "treated_group"), (control_group, "control_group")):
        if g not in groups:
            raise DataValidationError(
                f"{role} {g!r} has no rows for outcome {outcome!r}; groups present: "
                f"{sorted(map(str, groups))}"
            )
    note = ""
    has_buffer = buffer_group is not None and buffer_group in groups
    if buffer_group is not None and not has_buffer:
        note = f"No {buffer_group!r} rows in the panel, so displacement is not estimated."

    post_by_month = sub.groupby(C.MONTH)[C.POST].agg(["min", "max"])
    if (post_by_month["min"] != post_by_month["max"]).any():
        bad = post_by_month.index[post_by_month["min"] != post_by_month["max"]][:3]
        raise DataValidationError(
            f"the 'post' flag differs between areas in month(s) {list(map(str, bad))}"
        )
    wide = sub.pivot_table(
        index=C.MONTH, columns=C.GROUP, values=C.COUNT, aggfunc="sum", fill_value=0
    ).sort_index()
    is_post = post_by_month["max"].reindex(wide.index).astype(bool).to_numpy()
    pre_idx = np.flatnonzero(~is_post)
    post_idx = np.flatnonzero(is_post)
    if pre_idx.size == 0 or post_idx.size == 0:
        raise EstimationError(
            f"The panel for {outcome!r} needs both pre- and post-period months "
            f"(found {pre_idx.size} pre and {post_idx.size} post)."
        )
    if pre_idx.max() > post_idx.min():
        raise DataValidationError("post-period months must all come after the pre-period months")

    def series(g: str) -> tuple[float, np.ndarray]:
        col = wide[g].to_numpy(dtype=float)
        return float(col[pre_idx].sum()), np.cumsum(col[post_idx])

    t0, t1 = series(treated_group)
    c0, c1 = series(control_group)
    if has_buffer:
        b0, b1 = series(buffer_group)  # type: ignore[arg-type]
    else:
        b0, b1 = 0.0, np.zeros_like(t1)
    n_pre = int(pre_idx.size)
    j = np.arange(1, post_idx.size + 1, dtype=float)

    if scale_control:
        if c0 <= 0:
            raise EstimationError(
                f"The {control_group!r} areas had no {outcome!r} crimes in the pre-period, so "
                "they cannot be scaled; use scale_control=False."
            )
        r = c1 / c0
        expected_t = t0 * r
        est_l = t1 - expected_t
        est_d = b1 - b0 * r
        # gradients of local, displacement and total with respect to (T0,T1,B0,B1,C0,C1)
        g_l = dict(t0=-r, t1=1.0, c0=t0 * c1 / c0**2, c1=-t0 / c0)
        g_d = dict(b0=-r, b1=1.0, c0=b0 * c1 / c0**2, c1=-b0 / c0)
    else:
        s = j / n_pre
        expected_t = s * t0 + (c1 - s * c0)
        est_l = t1 - expected_t
        est_d = (b1 - s * b0) - (c1 - s * c0)
        g_l = dict(t0=-s, t1=1.0, c0=s, c1=-1.0)
        g_d = dict(b0=-s, b1=1.0, c0=s, c1=-1.0)
    counts = dict(t0=t0, t1=t1, b0=b0, b1=b1, c0=c0, c1=c1)

    def var(*grads: dict) -> np.ndarray:
        total = np.zeros_like(j)
        for key, x in counts.items():
            g = sum(gr.get(key, 0.0) for gr in grads)
            total = total + np.asarray(g, dtype=float) ** 2 * x
        return phi * total

    var_l = var(g_l)
    var_d = var(g_d) if has_buffer else np.zeros_like(j)
    var_t = var(g_l, g_d) if has_buffer else var_l
    if not has_buffer:
        est_d = np.zeros_like(j)
    est_t = est_l + est_d
    se_t = np.sqrt(var_t)
    if np.any(se_t == 0):
        raise EstimationError(f"All {outcome!r} counts are zero; the running WDD has no variance.")
    zc = z_crit(alpha)
    z = est_t / se_t
    frame = pd.DataFrame(
        {
            "month": wide.index[post_idx],
            "months_post": j.astype(int),
            "treated_post": t1,
            "control_post": c1,
            "buffer_post": b1 if has_buffer else np.nan,
            "expected_treated": expected_t,
            "est_local": est_l,
            "se_local": np.sqrt(var_l),
            "est_displace": est_d if has_buffer else np.nan,
            "se_displace": np.sqrt(var_d) if has_buffer else np.nan,
            "est_total": est_t,
            "se_total": se_t,
            "z": z,
            "p_value": [p_two_sided(float(v)) for v in z],
            "ci_low": est_t - zc * se_t,
            "ci_high": est_t + zc * se_t,
            "est_total_per_month": est_t / j,
        }
    )
    if scale_control:
        extra = f"Control scaled to the treated pre-period (k = {t0 / c0:.3g}"
        extra += f"; to the buffer's, k = {b0 / c0:.3g})." if has_buffer else ")."
    else:
        extra = _size_note(t0, c0, f"{control_group!r} group")
    note = f"{note} {extra}".strip()
    return RunningWDDResult(
        outcome=outcome,
        frame=frame,
        alpha=alpha,
        scale_control=bool(scale_control),
        pre_months=n_pre,
        has_buffer=has_buffer,
        note=note,
    )
