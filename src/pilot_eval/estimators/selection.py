"""Ranking candidate comparison areas by how closely their pre-period series match the treated.

:func:`rank_comparison_areas` applies one documented rule to the pre-period only: a level gap,
a trend gap and a month-by-month (shape) gap, each scaled by its mean over the candidates and
combined with stated weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..columns import AREA, COUNT, GROUP, MONTH, POST, TREATED
from ..errors import DataValidationError, EstimationError, OptionError
from ..results import Result
from ._common import outcome_panel

#: Added to pre-period means before taking logs, so an area with no crimes has a finite gap.
LEVEL_OFFSET = 0.5


@dataclass(frozen=True, eq=False)
class SelectionResult(Result):
    """Candidate comparison areas ranked by pre-period similarity to the treated series.

    Attributes
    ----------
    table
        One row per candidate, best first: ``area, level_gap, trend_gap, monthly_gap, score,
        rank, selected``.
    selected
        The ``n`` best-ranked areas' codes.
    weights
        Weights of the (level, trend, monthly) gaps in the score.
    treated
        The treated series' description (an area code, or "mean of k treated areas").
    """

    outcome: str
    treated: str
    n: int
    weights: tuple[float, float, float]
    n_pre: int
    table: pd.DataFrame
    selected: tuple[str, ...]

    def tidy(self) -> pd.DataFrame:
        """One row per candidate (a copy), best first."""
        return self.table.copy()

    def summary(self) -> str:
        t = self.table
        best = ", ".join(t[AREA].head(min(3, len(t))))
        worst = t.iloc[-1]
        return (
            f"Comparison areas for {self.outcome}, ranked by how closely their {self.n_pre} "
            f"pre-period months match {self.treated} in level, trend and month-to-month "
            f"pattern (weights {self.weights[0]:g}:{self.weights[1]:g}:{self.weights[2]:g}): "
            f"the closest are {best}; the least similar is {worst[AREA]}. The {len(self.selected)} "
            f"closest of {len(t)} candidates are selected. Choosing comparison areas on "
            "pre-period outcomes can make a chance dip before the start look like an effect "
            "(regression to the mean), so the choice is best fixed before the post-period data "
            "are seen."
        )


def _loglinear_slope(y: np.ndarray, months: pd.DatetimeIndex) -> float:
    """Slope per year of a Poisson log-linear fit of monthly counts on time.

    With at least 24 months, month-of-year effects are included, so the slope is the trend
    net of seasonality (a seasonal cycle otherwise leaks into a short window's slope).
    Fitted by Newton-Raphson (a handful of parameters).
    """
    if y.sum() <= 0:
        return 0.0
    mi = np.asarray(months.year * 12 + months.month, dtype=float)
    tc = (mi - mi.mean()) / 12.0
    cols = [np.ones_like(tc), tc]
    if len(y) >= 24:
        moy = np.asarray(months.month)
        cols += [(moy == m).astype(float) for m in np.unique(moy)[1:]]
    X = np.column_stack(cols)
    beta = np.zeros(X.shape[1])
    beta[0] = math.log(y.mean())
    for _ in range(100):
        mu = np.exp(X @ beta)
        step = np.linalg.lstsq(X.T @ (X * mu[:, None]), X.T @ (y - mu), rcond=None)[0]
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    return float(beta[1])


def _standardise(y: np.ndarray) -> np.ndarray:
    sd = y.std()
    return (y - y.mean()) / sd if sd > 0 else np.zeros_like(y)


def rank_comparison_areas(
    panel: pd.DataFrame,
    *,
    outcome: str,
    treated_area: str | None = None,
    n: int = 10,
    weights: Sequence[float] = (1, 1, 1),
) -> SelectionResult:
    """Rank candidate comparison areas by pre-period similarity to the treated series.

    Parameters
    ----------
    panel
        Long panel, zero-filled; not modified. Candidates are its ``comparison`` areas (the
        buffer and treated areas are never candidates); only pre-period months are used.
    outcome
        Which outcome's rows to use.
    treated_area
        The area to match. ``None``: the treated group (the mean per treated area when there
        are several).
    n
        How many of the best-ranked candidates to mark as selected.
    weights
        Non-negative weights of (level gap, trend gap, monthly gap) in the score.

    Returns
    -------
    SelectionResult

    Notes
    -----
    For each candidate c, over the pre-period months only:

    (a) ``level_gap = |log((m_c + 0.5) / (m_T + 0.5))|``, m the pre-period mean monthly count;
    (b) ``trend_gap = |s_c - s_T|``, s the slope per year of a Poisson log-linear fit of the
        monthly counts on time, with month-of-year effects when there are at least 24
        pre-period months (so 0.1 is about a 10 % a year difference in growth);
    (c) ``monthly_gap = RMSE(z_c - z_T) = sqrt(2 (1 - r))``, z each series standardised
        (mean 0, sd 1) and r their correlation: 0 for identical shapes, 2 for mirror images.

    Each gap is divided by its mean over the candidates (so 1 is a typical candidate and the
    three are on one footing), and ``score = sum_k w_k gap_k / mean(gap_k) / sum_k w_k``;
    rank 1 is the lowest score. Ties keep area-code order.

    Matching on pre-period outcomes is the idea of synthetic control and of matched DiD
    designs; its risk is regression to the mean when the treated area was chosen for a high
    (or low) pre-period (Daw & Hatfield 2018, Health Services Research 53(6)). So fix the
    comparison areas before looking at post-period data, and report the rule.
    """
    w = np.asarray(list(weights), dtype=float)
    if w.shape != (3,) or np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise OptionError(
            f"weights must be three non-negative numbers (level, trend, monthly), not all zero; "
            f"got {tuple(weights)!r}."
        )
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise OptionError(f"n must be a whole number of at least 1, not {n!r}.")
    df = outcome_panel(panel, outcome=outcome)
    df = df[~df[POST]]
    wide = df.pivot(index=MONTH, columns=AREA, values=COUNT).sort_index()
    n_pre = len(wide)
    if n_pre < 3:
        raise EstimationError(
            f"Ranking comparison areas needs at least three pre-period months; there are {n_pre}."
        )
    if treated_area is None:
        tr = sorted(df.loc[df[TREATED], AREA].unique())
        y_t = wide[tr].mean(axis=1).to_numpy(dtype=float)
        label = tr[0] if len(tr) == 1 else f"the mean of {len(tr)} treated areas"
    else:
        treated_area = str(treated_area)
        if treated_area not in wide.columns:
            raise DataValidationError(
                f"treated_area {treated_area!r} is not an area of the panel for outcome "
                f"{outcome!r}."
            )
        y_t = wide[treated_area].to_numpy(dtype=float)
        label = treated_area
    cands = sorted(a for a in df.loc[df[GROUP] == "comparison", AREA].unique() if a != treated_area)
    if not cands:
        raise DataValidationError("The panel has no comparison areas to rank.")
    months = pd.DatetimeIndex(wide.index)
    m_t = y_t.mean()
    s_t = _loglinear_slope(y_t, months)
    z_t = _standardise(y_t)
    rows = []
    for a in cands:
        y = wide[a].to_numpy(dtype=float)
        rows.append(
            {
                AREA: a,
                "level_gap": abs(math.log((y.mean() + LEVEL_OFFSET) / (m_t + LEVEL_OFFSET))),
                "trend_gap": abs(_loglinear_slope(y, months) - s_t),
                "monthly_gap": float(np.sqrt(np.mean((_standardise(y) - z_t) ** 2))),
            }
        )
    table = pd.DataFrame(rows)
    gaps = table[["level_gap", "trend_gap", "monthly_gap"]].to_numpy(dtype=float)
    scale = gaps.mean(axis=0)
    rel = np.divide(gaps, scale, out=np.zeros_like(gaps), where=scale > 0)
    table["score"] = rel @ w / w.sum()
    # Sort on the score rounded to 1e-9, so floating-point noise does not break ties.
    order = np.lexsort((table[AREA].to_numpy(), np.round(table["score"].to_numpy(), 9)))
    table = table.iloc[order].reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    table["selected"] = table["rank"] <= n
    return SelectionResult(
        outcome=outcome,
        treated=label,
        n=int(n),
        weights=(float(w[0]), float(w[1]), float(w[2])),
        n_pre=n_pre,
        table=table,
        selected=tuple(table.loc[table["selected"], AREA]),
    )
