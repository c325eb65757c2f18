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
from ..wording import format_number
from ._common import count_pair, group_totals

__all__ = ["WDQResult", "wdq", "wdq_counts"]


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
    tot = group_totals(panel, outcome=outcome)
    if tot.buffer is None:
        raise DataValidationError(
            f"The panel has no 'buffer' area for outcome {outcome!r}; the weighted displacement "
            "quotient measures displacement into a buffer around the treated area."
        )
    return wdq_counts(tot.treated, tot.buffer, tot.comparison)


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
