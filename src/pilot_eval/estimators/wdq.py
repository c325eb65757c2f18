"""Weighted displacement quotient (Bowers & Johnson 2003) and Guerette's total net effect.

:func:`wdq` is the panel-first design (``wdq(panel, outcome=...)``); :func:`wdq_counts` is its
twin on ``(pre, post)`` count pairs, as published.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..errors import DataValidationError
from ..results import Result
from ..wording import format_level_of_alpha, format_number
from ._common import GroupTotals, count_pair, group_totals

__all__ = [
    "WDQIntervalResult",
    "WDQResult",
    "wdq",
    "wdq_counts",
    "wdq_interval",
    "wdq_interval_counts",
]


@dataclass(frozen=True)
class WDQResult(Result):
    """Result of :func:`wdq`. Undefined quantities are NaN and ``note`` says why.

    Signs follow Guerette (2009): ``success_measure < 0`` means the treated area improved
    relative to the control; ``buffer_measure > 0`` suggests displacement, ``< 0`` diffusion of
    benefit; ``gross_effect``, ``net_effect`` and the crime-count effects are positive when crime
    went *down*.
    """

    wdq: float
    success_measure: float
    buffer_measure: float
    gross_effect: float
    net_effect: float
    treated_effect: float
    buffer_effect: float
    total_net_effect: float
    note: str = ""

    @property
    def interpretation(self) -> str:
        """Guerette's (2009, Appendix C) reading of the WDQ, or why there is none."""
        q = self.wdq
        if math.isnan(q):
            return "not defined"
        if q > 1:
            return "diffusion of benefit larger than the direct effect"
        if q > 0:
            return "diffusion of benefit"
        if q == 0:
            return "no displacement or diffusion"
        if q >= -1:
            return "displacement smaller than the direct effect (a net benefit remains)"
        return "displacement larger than the direct effect (the benefit was erased)"

    def tidy(self) -> pd.DataFrame:
        rows = [
            ("wdq", self.wdq, "ratio of buffer to success measure"),
            ("success_measure", self.success_measure, "treated/control ratio change"),
            ("buffer_measure", self.buffer_measure, "buffer/control ratio change"),
            ("gross_effect", self.gross_effect, "crimes"),
            ("net_effect", self.net_effect, "treated/control ratio change"),
            ("treated_effect", self.treated_effect, "crimes"),
            ("buffer_effect", self.buffer_effect, "crimes"),
            ("total_net_effect", self.total_net_effect, "crimes"),
        ]
        return pd.DataFrame(rows, columns=["term", "estimate", "unit"])

    def summary(self) -> str:
        if math.isnan(self.wdq):
            text = f"The weighted displacement quotient is not defined: {self.note}"
            if not math.isnan(self.total_net_effect):
                text += (
                    f" The total net effect is {format_number(self.total_net_effect)} crimes "
                    "(positive = crimes prevented across the treated and buffer areas)."
                )
            return text
        return (
            f"Weighted displacement quotient {self.wdq:.2f}: {self.interpretation}. "
            f"Total net effect {format_number(self.total_net_effect)} crimes "
            f"({format_number(self.treated_effect)} in the treated area, "
            f"{format_number(self.buffer_effect)} in the buffer; positive = crimes prevented). "
            "The WDQ has no standard error; use wdd() for an interval."
            + (f" {self.note}" if self.note else "")
        )


def wdq(panel: pd.DataFrame, *, outcome: str) -> WDQResult:
    """Weighted displacement quotient and total net effect of a panel's treated and buffer areas.

    The panel-first form of :func:`wdq_counts`: the panel's counts are totalled by group
    (treated, buffer, comparison) and period (before / from the start) and the twin is called
    on those totals.

    Parameters
    ----------
    panel
        Long area x month panel in the contract of :mod:`pilot_eval.columns` (``outcome, area,
        group, month, count, treated, post``), zero-filled, with treated, buffer and
        comparison areas. Not modified.
    outcome
        Which outcome's rows to use.

    Returns
    -------
    WDQResult
        As :func:`wdq_counts` on the treated, buffer and comparison ``(pre, post)`` totals.

    Raises
    ------
    DataValidationError
        When the panel breaks the contract or lacks a treated, buffer or comparison area.

    Notes
    -----
    Estimands as :func:`wdq_counts`, on crimes summed over each group's areas and over the
    months before and from the start. Every measure is a ratio to the comparison totals of the
    same period, so a pre period longer than the post period cancels out. No sampling theory:
    no standard error or test.
    """
    tot = _with_buffer(panel, outcome)
    assert tot.buffer is not None
    return wdq_counts(tot.treated, tot.buffer, tot.comparison)


def _with_buffer(panel: pd.DataFrame, outcome: str) -> GroupTotals:
    """The panel's group totals, refusing a panel without a buffer area."""
    tot = group_totals(panel, outcome=outcome)
    if tot.buffer is None:
        raise DataValidationError(
            f"The panel has no 'buffer' area for outcome {outcome!r}; the weighted displacement "
            "quotient measures displacement into a buffer around the treated area."
        )
    return tot


def wdq_counts(
    treated: Sequence[float], buffer: Sequence[float], control: Sequence[float]
) -> WDQResult:
    """Weighted displacement quotient and total net effect for treated, buffer and control areas.

    The count-level twin of :func:`wdq` (the published examples give counts).

    Parameters
    ----------
    treated, buffer, control
        ``(pre, post)`` crime counts for the treated (response) area, the surrounding buffer
        (displacement) area and the control (comparison) area.

    Returns
    -------
    WDQResult
        With ``R`` = treated, ``D`` = buffer, ``C`` = control and ``b``/``a`` = before/after:

        * ``success_measure = Ra/Ca - Rb/Cb`` (WDQ denominator; negative = success)
        * ``buffer_measure = Da/Ca - Db/Cb`` (WDQ numerator; positive = displacement)
        * ``wdq = buffer_measure / success_measure``
        * ``gross_effect = Rb - Ra`` and ``net_effect = Rb/Cb - Ra/Ca`` (Guerette's GE, NE)
        * ``treated_effect = Rb (Ca/Cb) - Ra`` and ``buffer_effect = Db (Ca/Cb) - Da``
        * ``total_net_effect = treated_effect + buffer_effect`` (Guerette's TNE).

        The WDQ is NaN, with a ``note``, when the control has a zero count (every ratio is
        undefined) or when ``success_measure >= 0``: Bowers & Johnson (2003) attribute
        displacement to an intervention only if crime fell in the treated area relative to the
        control, and the quotient has no meaning otherwise.

    Notes
    -----
    Estimands: ratios of crime counts to the control's, before and after. The WDQ measures the
    buffer's change relative to the treated area's change, both relative to the control; the
    total net effect is the number of crimes prevented in the treated and buffer areas together
    against a counterfactual in which both change by the control's percentage (the same
    counterfactual as :func:`~pilot_eval.estimators.wdd.wdd_scaled_counts`, so
    ``treated_effect == -wdd_scaled_counts(control, treated).est_local``). Assumes the control
    reflects what would have happened without the intervention, and that the buffer is where
    displaced crime would go. There is no sampling theory: no standard error or test.

    References
    ----------
    Bowers, K. J., & Johnson, S. D. (2003). Measuring the geographical displacement and
    diffusion of benefit effects of crime prevention activity. *Journal of Quantitative
    Criminology*, 19(3), 275-301.
    Guerette, R. T. (2009). *Analyzing Crime Displacement and Diffusion*. Problem-Oriented
    Guides for Police, Problem-Solving Tools Series No. 10 (Appendix B, C).
    Guerette, R. T., & Bowers, K. J. (2009). Assessing the extent of crime displacement and
    diffusion of benefits: a review of situational crime prevention evaluations.
    *Criminology*, 47(4), 1331-1368.
    """
    rb, ra = count_pair(treated, "treated")
    db, da = count_pair(buffer, "buffer")
    cb, ca = count_pair(control, "control")
    gross = rb - ra
    nan = math.nan
    if cb == 0 or ca == 0:
        return WDQResult(
            wdq=nan,
            success_measure=nan,
            buffer_measure=nan,
            gross_effect=gross,
            net_effect=nan,
            treated_effect=nan,
            buffer_effect=nan,
            total_net_effect=nan,
            note=(
                "the control area has zero crimes "
                + ("before" if cb == 0 else "after")
                + " the intervention, so none of the ratios to the control can be computed."
            ),
        )
    success = ra / ca - rb / cb
    buffer_m = da / ca - db / cb
    growth = ca / cb
    treated_eff = rb * growth - ra
    buffer_eff = db * growth - da
    note = ""
    if success >= 0:
        q = nan
        note = (
            "crime in the treated area did not fall relative to the control (success measure "
            f"{success:.3f} is not negative), so there is no effect for displacement or "
            "diffusion to be measured against (Bowers & Johnson 2003)."
        )
    else:
        q = buffer_m / success
    return WDQResult(
        wdq=q,
        success_measure=success,
        buffer_measure=buffer_m,
        gross_effect=gross,
        net_effect=rb / cb - ra / ca,
        treated_effect=treated_eff,
        buffer_effect=buffer_eff,
        total_net_effect=treated_eff + buffer_eff,
        note=note,
    )


@dataclass(frozen=True)
class WDQIntervalResult(Result):
    """Result of :func:`wdq_interval`: the WDQ of the observed totals and its interval.

    ``ci_low`` / ``ci_high`` are NaN, and ``note`` says why, when the WDQ is not defined for
    the observed totals or when too few resampled worlds keep a defined WDQ for the interval
    to mean anything (the treated area's fall is then too uncertain to divide by).
    """

    point: WDQResult
    ci_low: float
    ci_high: float
    level: float
    share_defined: float
    n_draws: int
    dispersion: float
    note: str = ""

    @property
    def wdq(self) -> float:
        return self.point.wdq

    @property
    def defined(self) -> bool:
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "term": "wdq",
                    "estimate": self.point.wdq,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "level": self.level,
                    "share_defined": self.share_defined,
                }
            ]
        )

    def summary(self) -> str:
        if not self.defined:
            return f"Weighted displacement quotient: no interval, because {self.note}"
        return (
            f"Weighted displacement quotient {self.point.wdq:.2f} "
            f"({format_level_of_alpha(1 - self.level)} interval {self.ci_low:.2f} to "
            f"{self.ci_high:.2f}; parametric bootstrap of the six totals, dispersion "
            f"{self.dispersion:.2f}): {self.point.interpretation}."
        )


#: Below this share of resampled worlds with a defined WDQ, no interval is given: the
#: treated area's relative fall is too uncertain to divide by.
MIN_SHARE_DEFINED = 0.95


def wdq_interval(
    panel: pd.DataFrame,
    *,
    outcome: str,
    alpha: float = 0.05,
    dispersion: float = 1.0,
    n_draws: int = 4000,
    seed: int = 0,
) -> WDQIntervalResult:
    """The weighted displacement quotient with a parametric-bootstrap interval.

    Parameters
    ----------
    panel
        Long area x month panel (see :func:`wdq`) with treated, buffer and comparison areas.
        Not modified.
    outcome
        Which outcome's rows to use.
    alpha
        One minus the interval's level (percentile interval).
    dispersion
        Variance-to-mean ratio of the counts (e.g. the panel's Pearson dispersion, as the
        weighted displacement difference uses); 1 means Poisson.
    n_draws
        Resampled worlds.
    seed
        Seed of the resampling.

    Returns
    -------
    WDQIntervalResult
        The WDQ of the observed totals, a percentile interval over resampled worlds, the
        share of worlds in which the WDQ is defined, and why there is no interval if none.

    Notes
    -----
    Estimand: the WDQ of the expected totals, ``(E[Da]/E[Ca] - E[Db]/E[Cb]) /
    (E[Ra]/E[Ca] - E[Rb]/E[Cb])`` (Bowers & Johnson 2003). Bowers & Johnson give no sampling
    theory; Wheeler & Ratcliffe (2018) note that this is the WDQ's weakness. Here each of the
    six totals (treated, buffer and comparison, before and after) is redrawn independently
    from a gamma-Poisson (negative-binomial) distribution with the observed total as its mean
    and variance ``dispersion x mean`` (Poisson when ``dispersion <= 1``), the WDQ is
    recomputed, and the interval is the central ``1 - alpha`` of the draws. Assumes totals
    independent across groups and periods and months independent within them (no serial
    correlation), as the weighted displacement difference does. Draws where the treated area
    did not fall relative to the comparison have no WDQ; when more than
    ``1 - MIN_SHARE_DEFINED`` of the draws have none, no interval is given.

    References
    ----------
    Bowers, K. J., & Johnson, S. D. (2003), see :func:`wdq_counts`.
    Wheeler, A. P., & Ratcliffe, J. H. (2018). A simple weighted displacement difference test
    to evaluate place based crime interventions. *Crime Science*, 7(1), 11.
    """
    tot = _with_buffer(panel, outcome)
    assert tot.buffer is not None
    return wdq_interval_counts(
        tot.treated,
        tot.buffer,
        tot.comparison,
        alpha=alpha,
        dispersion=dispersion,
        n_draws=n_draws,
        seed=seed,
    )


def wdq_interval_counts(
    treated: Sequence[float],
    buffer: Sequence[float],
    control: Sequence[float],
    *,
    alpha: float = 0.05,
    dispersion: float = 1.0,
    n_draws: int = 4000,
    seed: int = 0,
) -> WDQIntervalResult:
    """The count-level twin of :func:`wdq_interval` on ``(pre, post)`` totals.

    Parameters and Notes as :func:`wdq_interval`; ``treated``, ``buffer`` and ``control``
    are ``(pre, post)`` crime counts as in :func:`wdq_counts`.
    """
    import numpy as np

    from .._checks import check_alpha, check_positive, check_whole

    alpha = check_alpha(alpha)
    phi = check_positive(dispersion, "dispersion")
    n_draws = check_whole(n_draws, "n_draws", minimum=100)
    point = wdq_counts(treated, buffer, control)
    level = 1.0 - alpha

    def none(note: str, share: float = math.nan) -> WDQIntervalResult:
        return WDQIntervalResult(
            point=point,
            ci_low=math.nan,
            ci_high=math.nan,
            level=level,
            share_defined=share,
            n_draws=n_draws,
            dispersion=phi,
            note=note,
        )

    if math.isnan(point.wdq):
        return none(point.note or "the quotient is not defined for these totals.")
    rng = np.random.default_rng(seed)
    means = np.array(
        [
            *count_pair(treated, "treated"),
            *count_pair(buffer, "buffer"),
            *count_pair(control, "control"),
        ],
        dtype=float,
    )
    if phi > 1.0:
        # Gamma-Poisson: Var = mu + mu^2 / k with k = mu / (phi - 1), i.e. Var = phi mu.
        shape = means / (phi - 1.0)
        lam = rng.gamma(shape=np.maximum(shape, 1e-12), scale=(phi - 1.0), size=(n_draws, 6))
        lam[:, means == 0] = 0.0
    else:
        lam = np.broadcast_to(means, (n_draws, 6))
    draws = rng.poisson(lam).astype(float)
    rb, ra, db, da, cb, ca = draws.T
    with np.errstate(divide="ignore", invalid="ignore"):
        success = ra / ca - rb / cb
        buffer_m = da / ca - db / cb
        q = buffer_m / success
    ok = (cb > 0) & (ca > 0) & (success < 0) & np.isfinite(q)
    share = float(ok.mean())
    if share < MIN_SHARE_DEFINED:
        return none(
            f"in {1 - share:.0%} of resampled worlds the pilot area did not fall relative to "
            "the comparison areas, so the quotient (which divides by that fall) is too "
            "uncertain to give an interval.",
            share,
        )
    lo, hi = np.quantile(q[ok], [alpha / 2, 1 - alpha / 2])
    return WDQIntervalResult(
        point=point,
        ci_low=float(lo),
        ci_high=float(hi),
        level=level,
        share_defined=share,
        n_draws=n_draws,
        dispersion=phi,
    )
