"""Recorded crime per 1,000 residents a year, by group, before and after the start.

Counts alone mislead when areas differ in size: 40 crimes a year in an area of 2,000 people is
a higher rate than 100 in an area of 10,000. :func:`rates_per_resident` divides each group's
total by its residents and by the window's length, so before and after, pilot area and
comparison areas, read on one scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import columns as C
from ..errors import DataValidationError
from ..results import Result

__all__ = ["PerResidentRates", "rates_per_resident"]

_GROUPS = ("treated", "comparison")


@dataclass(frozen=True)
class PerResidentRates(Result):
    """Crimes per 1,000 residents a year (``nan`` when a group has no residents)."""

    outcome: str
    pre_months: int
    post_months: int
    treated_population: float
    comparison_population: float
    treated_pre: int
    treated_post: int
    comparison_pre: int
    comparison_post: int
    treated_pre_rate: float
    treated_post_rate: float
    comparison_pre_rate: float
    comparison_post_rate: float

    def rate(self, group: str, when: str) -> float:
        """The rate of ``group`` (treated / comparison) ``when`` (pre / post)."""
        return float(getattr(self, f"{group}_{when}_rate"))

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "group": g,
                    "population": getattr(self, f"{g}_population"),
                    "pre_rate": self.rate(g, "pre"),
                    "post_rate": self.rate(g, "post"),
                }
                for g in _GROUPS
            ]
        )

    def summary(self) -> str:
        return (
            f"{self.outcome}: {self.treated_pre_rate:.1f} a year per 1,000 residents in the "
            f"pilot area before the start and {self.treated_post_rate:.1f} after "
            f"(comparison areas {self.comparison_pre_rate:.1f} and "
            f"{self.comparison_post_rate:.1f})."
        )


def rates_per_resident(
    panel: pd.DataFrame,
    population: pd.DataFrame,
    *,
    outcome: str,
) -> PerResidentRates:
    """Crimes per 1,000 residents a year, treated and comparison areas, before and after.

    Parameters
    ----------
    panel
        The area × month panel (:mod:`pilot_eval.panel`); not modified.
    population
        ``area, population`` for the treated and comparison areas (e.g.
        ``PreparedPilot.population``).
    outcome
        The outcome to total.

    Returns
    -------
    PerResidentRates

    Raises
    ------
    DataValidationError
        If the outcome is not in the panel, or population lacks a treated or comparison
        area of the panel.

    Notes
    -----
    Estimand: ``1000 × 12 × Y_g,w / (P_g × M_w)`` for group ``g`` (all its areas added up)
    and window ``w`` of ``M_w`` months, with ``P_g`` the group's residents (one population,
    e.g. a mid-year estimate, for both windows: a change in residents between the windows is
    not allowed for). The buffer ring has no population of its own and is left out. A rate is
    descriptive: the change in rates is not a test (the headline analyses are).
    """
    rows = panel.loc[panel[C.OUTCOME] == outcome]
    if len(rows) == 0:
        raise DataValidationError(f"outcome {outcome!r} is not in the panel.")
    rows = rows.loc[rows[C.GROUP].isin(_GROUPS)]
    pop = population.set_index(population[C.AREA].astype(str))["population"]
    areas = rows[[C.AREA, C.GROUP]].drop_duplicates()
    lacking = sorted(set(areas[C.AREA].astype(str)) - set(pop.index))
    if lacking:
        raise DataValidationError(
            f"population has no residents for area(s) {lacking[:10]} of the panel."
        )
    months = rows.groupby(C.POST)[C.MONTH].nunique()
    n_pre, n_post = int(months.get(False, 0)), int(months.get(True, 0))
    totals = rows.groupby([C.GROUP, C.POST])[C.COUNT].sum()
    residents = areas.assign(p=areas[C.AREA].astype(str).map(pop)).groupby(C.GROUP)["p"].sum()
    values: dict[str, float | int] = {}
    for g in _GROUPS:
        p = float(residents.get(g, 0.0))
        values[f"{g}_population"] = p
        for when, post, m in (("pre", False, n_pre), ("post", True, n_post)):
            y = int(totals.get((g, post), 0))
            values[f"{g}_{when}"] = y
            values[f"{g}_{when}_rate"] = (
                1000.0 * 12.0 * y / (p * m) if p > 0 and m > 0 else float(np.nan)
            )
    return PerResidentRates(
        outcome=outcome,
        pre_months=n_pre,
        post_months=n_post,
        **values,  # type: ignore[arg-type]
    )
