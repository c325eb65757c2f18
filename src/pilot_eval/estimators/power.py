"""Minimum detectable effects (MDE) for the WDD, the log IRR and survey proportions.

Each function answers, before the post period is observed: "given the pre-period counts (or
sample sizes), how large a change would the planned test detect with the stated power?"
All assume the pre-period rates continue unchanged in the post period unless the intervention
changes the treated area. The closed forms assume independent counts and a Wald test; the MDE
of the report's headline test (conformal inference over time), by simulation, is
:func:`pilot_eval.inference.mde_conformal`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from scipy import optimize

from .._checks import check_alpha, check_fraction, check_positive
from ..errors import DataValidationError
from ..results import Result
from ..wording import format_number
from ._common import check_positive_data, z_crit

__all__ = [
    "MDELogIRRResult",
    "MDEProportionResult",
    "MDEWDDResult",
    "check_power",
    "mde_log_irr",
    "mde_proportion_did",
    "mde_wdd",
]


def check_power(power: float) -> float:
    """The wanted power: a float strictly between 0 and 1, else :class:`OptionError`."""
    return check_fraction(power, "power", example="e.g. 0.8")


def _count_design(
    treated_pre: float,
    control_pre: float,
    pre_months: float,
    post_months: float,
    alpha: float,
    power: float,
    dispersion: float,
) -> tuple[float, float, float, float, float, float]:
    """Checked ``(T0, C0, post_months / pre_months, alpha, power, phi)`` of a count design."""
    t0 = check_positive_data(treated_pre, "treated_pre")
    c0 = check_positive_data(control_pre, "control_pre")
    m = check_positive(post_months, "post_months") / check_positive(pre_months, "pre_months")
    alpha = check_alpha(alpha)
    power = check_power(power)
    phi = check_positive(dispersion, "dispersion")
    return t0, c0, m, alpha, power, phi


def _z_sum(alpha: float, power: float, two_sided: bool) -> float:
    return z_crit(alpha, two_sided=two_sided) + z_crit(1.0 - power, two_sided=False)


def _design_text(alpha: float, power: float, two_sided: bool) -> str:
    sides = "two-sided" if two_sided else "one-sided"
    return f"{100 * power:.0f} % power, {sides} test at alpha = {alpha:g}"


# ---------------------------------------------------------------------------------------------
# log IRR
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MDELogIRRResult(Result):
    """Detectable incidence-rate ratios for the Wilson log IRR test (see :func:`mde_log_irr`)."""

    irr_fall: float
    irr_rise: float
    pct_fall: float
    pct_rise: float
    crimes_fall: float
    expected_treated_post: float
    expected_control_post: float
    se_null: float
    alpha: float
    power: float
    two_sided: bool
    dispersion: float

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"term": "mde_fall", "irr": self.irr_fall, "pct_change": -self.pct_fall},
                {"term": "mde_rise", "irr": self.irr_rise, "pct_change": self.pct_rise},
            ]
        ).assign(alpha=self.alpha, power=self.power, two_sided=self.two_sided)

    def summary(self) -> str:
        if math.isnan(self.irr_fall):
            return (
                f"With {_design_text(self.alpha, self.power, self.two_sided)}, no fall in the "
                f"treated area is reliably detectable: only {format_number(self.expected_treated_post)} "
                "crimes are expected there, too few for the test. A rise of "
                f"{self.pct_rise:.0f} % or more (ratio {self.irr_rise:.2f}) is detectable."
            )
        return (
            f"With {_design_text(self.alpha, self.power, self.two_sided)}, the design can "
            f"reliably detect a fall of {self.pct_fall:.0f} % or more in the treated area "
            f"relative to the control (incidence-rate ratio {self.irr_fall:.2f}, about "
            f"{format_number(self.crimes_fall)} fewer crimes than the "
            f"{format_number(self.expected_treated_post)} expected), or a rise of "
            f"{self.pct_rise:.0f} % or more (ratio {self.irr_rise:.2f}). Smaller real changes "
            "may well go undetected."
        )


def mde_log_irr(
    *,
    treated_pre: float,
    control_pre: float,
    pre_months: float,
    post_months: float,
    alpha: float = 0.05,
    power: float = 0.8,
    dispersion: float = 1.0,
    two_sided: bool = True,
) -> MDELogIRRResult:
    """Minimum detectable incidence-rate ratio for Wilson's log IRR test, from pre-period counts.

    Parameters
    ----------
    treated_pre, control_pre
        Crimes in the treated and control areas over the whole pre period.
    pre_months, post_months
        Lengths of the pre and (planned) post periods; any unit, the same for both.
    alpha, power
        Test level and the wanted probability of detecting the effect.
    dispersion
        Quasi-Poisson dispersion ``phi`` (variance = ``phi`` x mean); 1 for Poisson.
    two_sided
        Whether the planned test is two-sided (default) or one-sided in the effect's direction.

    Returns
    -------
    MDELogIRRResult
        ``irr_fall`` (< 1) and ``irr_rise`` (> 1), the same as percentages, the crimes the fall
        amounts to, and the expected post-period counts under no change. ``irr_fall`` is NaN
        when no fall is detectable (with very few treated crimes the standard error grows
        faster than the effect as the ratio approaches 0).

    Notes
    -----
    Expected post counts under no change are ``T1 = T0 m`` and ``C1 = C0 m`` with
    ``m = post_months / pre_months``. If the intervention multiplies the treated area's rate by
    ``theta``, the Wald test of :func:`~pilot_eval.estimators.rates.log_irr` has standard error
    ``se(theta) = sqrt(phi (1/T0 + 1/(T1 theta) + 1/C0 + 1/C1))`` and power
    ``Phi(|log theta| / se(theta) - z_{1-alpha/2})`` (ignoring the negligible opposite tail).
    The MDE solves ``|log theta| = (z_{1-alpha/2} + z_{power}) se(theta)`` (``z_{1-alpha}``
    when one-sided) numerically. With large counts this tends to the closed form
    ``exp(+-(z_a + z_b) se_null)`` with ``se_null = se(1)``. The ratio is unchanged by scaling
    the control, so there is no scaled-control option here. Assumes independent (quasi-)Poisson
    counts and no change in the control from the intervention.

    References
    ----------
    Wilson, D. B. (2022). *Journal of Quantitative Criminology*, 38, 323-341.
    """
    t0, c0, m, alpha, power, phi = _count_design(
        treated_pre, control_pre, pre_months, post_months, alpha, power, dispersion
    )
    t1, c1 = t0 * m, c0 * m
    zs = _z_sum(alpha, power, two_sided)

    def se(theta: float) -> float:
        return math.sqrt(phi * (1 / t0 + 1 / (t1 * theta) + 1 / c0 + 1 / c1))

    def gap(log_theta: float) -> float:
        return abs(log_theta) - zs * se(math.exp(log_theta))

    se0 = se(1.0)
    # Rise: se(theta) falls as theta grows, so the gap crosses zero once.
    hi = optimize.brentq(gap, 0.0, 60.0, xtol=1e-13)
    # Fall: se(theta) grows without bound as theta -> 0, so the gap can be positive only on an
    # interval (or nowhere). The MDE is its first zero below 0: scan, then refine.
    grid = [-0.001 * 1.05**i for i in range(270)]  # down to log theta ~ -530 (theta ~ 0)
    lo = math.nan
    prev = 0.0
    for g in grid:
        if gap(g) > 0:
            lo = optimize.brentq(gap, g, prev, xtol=1e-13)
            break
        prev = g
    irr_f, irr_r = math.exp(lo), math.exp(hi)
    return MDELogIRRResult(
        irr_fall=irr_f,
        irr_rise=irr_r,
        pct_fall=100 * (1 - irr_f),
        pct_rise=100 * (irr_r - 1),
        crimes_fall=t1 * (1 - irr_f),
        expected_treated_post=t1,
        expected_control_post=c1,
        se_null=se0,
        alpha=alpha,
        power=power,
        two_sided=bool(two_sided),
        dispersion=phi,
    )


# ---------------------------------------------------------------------------------------------
# WDD
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MDEWDDResult(Result):
    """Detectable WDD, in crimes over the post period (see :func:`mde_wdd`)."""

    crimes_fall: float
    crimes_rise: float
    pct_fall: float
    pct_rise: float
    expected_treated_post: float
    se_null: float
    alpha: float
    power: float
    two_sided: bool
    dispersion: float
    scale_control: bool
    note: str = ""

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {"term": "mde_fall", "crimes": -self.crimes_fall, "pct_change": -self.pct_fall},
                {"term": "mde_rise", "crimes": self.crimes_rise, "pct_change": self.pct_rise},
            ]
        ).assign(alpha=self.alpha, power=self.power, two_sided=self.two_sided)

    def summary(self) -> str:
        ctl = (
            "a control scaled to the treated area's pre-period"
            if self.scale_control
            else ("the control area's trend")
        )
        head = f"With {_design_text(self.alpha, self.power, self.two_sided)}, against {ctl}, "
        rise = f"an increase of {format_number(self.crimes_rise)} crimes or more"
        if math.isnan(self.crimes_fall):
            return (
                head + "no reduction is reliably detectable: even preventing every one of the "
                f"{format_number(self.expected_treated_post)} crimes expected in the treated area "
                f"would not be. Only {rise} would be. A longer post period or a larger area is "
                "needed."
            )
        return (
            head + f"the WDD can reliably detect a reduction of {format_number(self.crimes_fall)} "
            f"crimes or more ({self.pct_fall:.0f} % of the "
            f"{format_number(self.expected_treated_post)} expected), or {rise}. Smaller real changes "
            "may well go undetected."
        )


def mde_wdd(
    *,
    treated_pre: float,
    control_pre: float,
    pre_months: float,
    post_months: float,
    alpha: float = 0.05,
    power: float = 0.8,
    dispersion: float = 1.0,
    two_sided: bool = True,
    scale_control: bool = False,
) -> MDEWDDResult:
    """Minimum detectable WDD (crimes prevented over the post period), from pre-period counts.

    Parameters
    ----------
    treated_pre, control_pre
        Crimes in the treated and control areas over the whole pre period.
    pre_months, post_months
        Lengths of the pre and planned post periods (same unit).
    alpha, power, dispersion, two_sided
        As :func:`mde_log_irr`.
    scale_control
        Plan for :func:`~pilot_eval.estimators.wdd.wdd_scaled` (control scaled by
        ``k = treated_pre / control_pre``, delta-method variance) instead of the plain WDD.

    Returns
    -------
    MDEWDDResult
        ``crimes_fall`` and ``crimes_rise`` in crimes over the post period, also as percentages
        of the expected treated post-period count. ``crimes_fall`` is NaN when no reduction is
        detectable at all.

    Notes
    -----
    With ``m = post_months / pre_months``, expected post counts are ``T1 = m T0``,
    ``C1 = m C0``. The plain WDD over the post period (ptools time weights
    ``(pre/post, 1)``) is ``T1 - m T0 - (C1 - m C0)`` with variance
    ``phi (T1' + m^2 T0 + C1 + m^2 C0)``; the scaled WDD is ``T1 - T0 C1 / C0`` with
    delta-method variance ``phi (T1' + m^2 T0 + k^2 (C1 + m^2 C0))``; ``T1' = T1 - delta`` is
    the treated post count under an effect of ``delta`` crimes. The MDE solves
    ``delta = (z_a + z_b) sd(delta)``, a quadratic in ``delta``:
    ``delta = (-s z^2 + sqrt(z^4 s^2 + 4 z^2 s V)) / 2`` for a fall and the same with ``+s z^2``
    for a rise, where ``s = phi``, ``z = z_a + z_b`` and ``V`` is the variance at no effect.
    A large control (``C0 >> T0``) inflates the plain WDD's variance; scaling shrinks the
    control's share by ``k^2``. Assumes independent (quasi-)Poisson counts.

    References
    ----------
    Wheeler, A. P., & Ratcliffe, J. H. (2018). *Crime Science*, 7(1), 11.
    """
    t0, c0, m, alpha, power, phi = _count_design(
        treated_pre, control_pre, pre_months, post_months, alpha, power, dispersion
    )
    t1, c1 = m * t0, m * c0
    if scale_control:
        k = t0 / c0
        v_rest = m * m * t0 + k * k * (c1 + m * m * c0)
    else:
        v_rest = m * m * t0 + c1 + m * m * c0
    v0 = t1 + v_rest
    z = _z_sum(alpha, power, two_sided)
    a = phi * z * z
    root = math.sqrt(a * a + 4 * a * v0)
    fall = (-a + root) / 2
    rise = (a + root) / 2
    note = ""
    if fall > t1:
        note = f"A detectable fall would exceed the {t1:.1f} crimes expected in the treated area."
        fall = math.nan
    return MDEWDDResult(
        crimes_fall=fall,
        crimes_rise=rise,
        pct_fall=100 * fall / t1,
        pct_rise=100 * rise / t1,
        expected_treated_post=t1,
        se_null=math.sqrt(phi * v0),
        alpha=alpha,
        power=power,
        two_sided=bool(two_sided),
        dispersion=phi,
        scale_control=bool(scale_control),
        note=note,
    )


# ---------------------------------------------------------------------------------------------
# Survey proportions
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MDEProportionResult(Result):
    """Detectable difference-in-differences in a survey proportion (see
    :func:`mde_proportion_did`)."""

    mde: float
    se_null: float
    alpha: float
    power: float
    two_sided: bool
    design_effect: float

    @property
    def mde_points(self) -> float:
        """The MDE in percentage points."""
        return 100 * self.mde

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [{"term": "mde", "estimate": self.mde, "percentage_points": self.mde_points}]
        ).assign(alpha=self.alpha, power=self.power, design_effect=self.design_effect)

    def summary(self) -> str:
        return (
            f"With {_design_text(self.alpha, self.power, self.two_sided)} and a design effect "
            f"of {self.design_effect:.2f}, the survey can reliably detect a change of "
            f"{self.mde_points:.1f} percentage points or more in the treated area relative to "
            "the comparison areas. Smaller real changes may well go undetected."
        )


def mde_proportion_did(
    *,
    p_treated: float,
    n_treated_pre: float,
    n_treated_post: float,
    n_control_pre: float,
    n_control_post: float,
    p_control: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    design_effect: float = 1.0,
    two_sided: bool = True,
) -> MDEProportionResult:
    """Minimum detectable difference-in-differences in a proportion, for a two-wave survey.

    Parameters
    ----------
    p_treated, p_control
        Baseline proportions (e.g. share who feel safe after dark) in the treated and the
        comparison areas; ``p_control`` defaults to ``p_treated``.
    n_treated_pre, n_treated_post, n_control_pre, n_control_post
        Planned numbers of respondents in each area group and wave.
    alpha, power, two_sided
        Test level, wanted power, and sidedness.
    design_effect
        Kish design effect of the weights (``1 + cv^2``) or of clustering; each ``n`` is divided
        by it (effective sample size). Default 1 (simple random sampling).

    Returns
    -------
    MDEProportionResult
        ``mde`` as a proportion (``mde_points`` in percentage points) and ``se_null``.

    Notes
    -----
    Estimand: ``(pT1 - pT0) - (pC1 - pC0)``. Closed form with the variance at no change:
    ``MDE = (z_a + z_b) sqrt(deff [pT (1 - pT)(1/nT0 + 1/nT1) + pC (1 - pC)(1/nC0 + 1/nC1)])``,
    the normal-approximation test of :func:`~pilot_eval.estimators.survey.survey_did`.
    Assumes independent respondents in each wave (no panel), with the design effect capturing
    weighting or clustering.

    References
    ----------
    Kish, L. (1965). *Survey Sampling*. Wiley (design effect, effective sample size).
    """
    pt = float(p_treated)
    pc = pt if p_control is None else float(p_control)
    for name, p in (("p_treated", pt), ("p_control", pc)):
        if not (0.0 < p < 1.0):
            raise DataValidationError(
                f"{name} must be a proportion strictly between 0 and 1, got {p!r}"
            )
    ns = [
        check_positive(n, name)
        for n, name in (
            (n_treated_pre, "n_treated_pre"),
            (n_treated_post, "n_treated_post"),
            (n_control_pre, "n_control_pre"),
            (n_control_post, "n_control_post"),
        )
    ]
    alpha = check_alpha(alpha)
    power = check_power(power)
    deff = check_positive(design_effect, "design_effect")
    var = deff * (pt * (1 - pt) * (1 / ns[0] + 1 / ns[1]) + pc * (1 - pc) * (1 / ns[2] + 1 / ns[3]))
    se = math.sqrt(var)
    return MDEProportionResult(
        mde=_z_sum(alpha, power, two_sided) * se,
        se_null=se,
        alpha=alpha,
        power=power,
        two_sided=bool(two_sided),
        design_effect=deff,
    )
