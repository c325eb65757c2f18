"""Difference-in-differences on survey proportions (e.g. "feel safe walking alone after dark")."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._checks import check_alpha
from ..errors import DataValidationError, EstimationError
from ..results import Result
from ..wording import format_level_of_alpha, significance_sentence
from ._common import wald

__all__ = ["SurveyDiDResult", "survey_did"]

_WAVES = ("pre", "post")


@dataclass(frozen=True, eq=False)
class SurveyDiDResult(Result):
    """Result of :func:`survey_did`; estimates are proportions (0-1), shown in points.

    ``cells`` has one row per group (treated/comparison) and wave: ``n`` respondents, weighted
    proportion ``p``, Kish ``n_eff`` and design effect ``deff``, and the cell's variance.
    """

    est: float
    se: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float
    weighted: bool
    cells: pd.DataFrame = field(repr=False)
    n_dropped: int = 0
    note: str = ""

    @property
    def level(self) -> float:
        return 1.0 - self.alpha

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "term": "did_proportion",
                    "estimate": self.est,
                    "std_error": self.se,
                    "statistic": self.z,
                    "p_value": self.p_value,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "scale": "proportion",
                    "level": self.level,
                }
            ]
        )

    def summary(self) -> str:
        pts = 100 * self.est
        word = "rose" if pts > 0 else "fell" if pts < 0 else "did not change"
        ci = f"{100 * self.ci_low:.1f} to {100 * self.ci_high:.1f} points"
        text = (
            f"Relative to the comparison areas, the share answering yes in the treated area "
            f"{word}"
            + (f" by {abs(pts):.1f} percentage points" if pts != 0 else "")
            + f" ({format_level_of_alpha(self.alpha)} interval {ci}). "
            + significance_sentence(self.p_value, self.alpha)
        )
        return text + (f" {self.note}" if self.note else "")


def _cell(y: np.ndarray, w: np.ndarray) -> dict[str, float]:
    n = y.size
    sw, sw2 = float(w.sum()), float((w * w).sum())
    p = float((w * y).sum() / sw)
    n_eff = sw * sw / sw2
    return {"n": n, "p": p, "n_eff": n_eff, "deff": n / n_eff, "var": p * (1 - p) / n_eff}


def survey_did(
    responses: pd.DataFrame,
    *,
    outcome_column: str,
    area_column: str,
    wave_column: str,
    weight_column: str | None = None,
    treated_areas: Iterable[str],
    alpha: float = 0.05,
) -> SurveyDiDResult:
    """Difference-in-differences in a proportion between treated and comparison areas.

    Parameters
    ----------
    responses
        One row per respondent. Not modified.
    outcome_column
        The yes/no answer: bool, or 0/1. Rows with a missing answer are dropped (counted in
        ``n_dropped`` and the note).
    area_column
        The respondent's area code.
    wave_column
        ``"pre"`` or ``"post"`` (case and surrounding spaces ignored).
    weight_column
        Optional survey weights (positive). Without it every respondent counts once.
    treated_areas
        Area codes that form the treated group; every other area is a comparison area.
    alpha
        Two-sided interval level ``1 - alpha`` (default 0.05).

    Returns
    -------
    SurveyDiDResult
        ``est = (pT_post - pT_pre) - (pC_post - pC_pre)`` as a proportion, ``se``, ``z``,
        ``p_value``, ``ci_low``, ``ci_high`` and the per-cell table ``cells``.

    Raises
    ------
    DataValidationError
        For missing columns, answers other than yes/no, unknown waves, bad weights, or treated
        areas that are absent from the data.
    EstimationError
        If a group x wave cell has fewer than two respondents.

    Notes
    -----
    Estimand: the change in the share answering yes in the treated areas minus the change in
    the comparison areas, under parallel trends in proportions (without the pilot the treated
    share would have moved by as many points as the comparison share). Each cell's proportion
    is the weighted mean of the answers. Its variance is ``p (1 - p) / n_eff`` with Kish's
    effective sample size ``n_eff = (sum w)^2 / sum w^2 = n / (1 + cv^2)``, where ``cv`` is the
    coefficient of variation of the weights (population form); ``1 + cv^2`` is the design
    effect of unequal weighting. The four cells are independent samples (fresh respondents each
    wave). Unweighted, the point estimate equals the interaction coefficient of a linear
    probability model ``y ~ treated * post`` and the standard error equals its HC0 robust
    standard error (HC1 is larger by ``sqrt(N / (N - 4))``).

    The standard error reflects only the sampling of respondents. It ignores clustering of
    respondents within areas and any stratification, and with one or a few treated areas it
    cannot reflect area-level shocks: the interval is then too narrow for a claim about the
    pilot's effect. A cell with a proportion of exactly 0 or 1 contributes no variance.

    References
    ----------
    Kish, L. (1965). *Survey Sampling*. Wiley (effective sample size, design effect).
    """
    alpha = check_alpha(alpha)
    if not isinstance(responses, pd.DataFrame):
        raise DataValidationError(
            "responses must be a pandas DataFrame with one row per respondent"
        )
    need = [outcome_column, area_column, wave_column] + ([weight_column] if weight_column else [])
    missing = [c for c in need if c not in responses.columns]
    if missing:
        raise DataValidationError(
            f"responses has no column(s) {missing}; columns present: {list(responses.columns)}"
        )
    if isinstance(treated_areas, str):
        treated_set = {treated_areas}
    else:
        treated_set = {str(a) for a in treated_areas}
    if not treated_set:
        raise DataValidationError("treated_areas is empty: list the treated area code(s)")

    answered = responses[outcome_column].notna().to_numpy()
    n_dropped = int((~answered).sum())
    df = responses.loc[answered, need] if n_dropped else responses[need]
    y_raw = df[outcome_column]
    if y_raw.dtype == bool:
        y = y_raw.to_numpy(dtype=float)
    else:
        y = pd.to_numeric(y_raw, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isin(y, (0.0, 1.0))
        if bad.any():
            examples = list(y_raw[bad].astype(str).unique()[:3])
            raise DataValidationError(
                f"{outcome_column!r} must be yes/no coded as True/False or 1/0; found {examples}"
            )
    wave = df[wave_column].astype(str).str.strip().str.lower().to_numpy()
    unknown = sorted(set(np.unique(wave)) - set(_WAVES))
    if unknown:
        raise DataValidationError(f"{wave_column!r} must be 'pre' or 'post'; found {unknown[:3]}")
    area = df[area_column].astype(str).to_numpy()
    areas_present = set(np.unique(area))
    absent = sorted(treated_set - areas_present)
    if absent:
        raise DataValidationError(
            f"treated area(s) {absent} have no respondents with an answer; areas present: "
            f"{sorted(areas_present)[:10]}"
        )
    if weight_column:
        w = pd.to_numeric(df[weight_column], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise DataValidationError(
                f"weights in {weight_column!r} must be positive numbers with none missing"
            )
    else:
        w = np.ones(len(df))
    is_treated = np.isin(area, list(treated_set))
    if is_treated.all():
        raise DataValidationError("every area is listed as treated, so there is no comparison")

    rows: list[dict[str, Any]] = []
    for grp, gmask in (("treated", is_treated), ("comparison", ~is_treated)):
        for wv in _WAVES:
            m = gmask & (wave == wv)
            if m.sum() < 2:
                raise EstimationError(
                    f"The {grp} areas have {int(m.sum())} answer(s) in the {wv!r} wave; at least "
                    "two are needed in each group and wave."
                )
            rows.append({"group": grp, "wave": wv, **_cell(y[m], w[m])})
    cells = pd.DataFrame(rows)
    share = {(str(r["group"]), str(r["wave"])): float(r["p"]) for r in rows}
    est = (share["treated", "post"] - share["treated", "pre"]) - (
        share["comparison", "post"] - share["comparison", "pre"]
    )
    se = math.sqrt(sum(float(r["var"]) for r in rows))
    notes = []
    if weight_column:
        notes.append(
            "Standard error from Kish effective sample sizes (design effects "
            f"{cells['deff'].min():.2f} to {cells['deff'].max():.2f})."
        )
    notes.append(
        "It reflects respondent sampling only, not clustering within areas or area-level "
        "change, so with few treated areas the interval is too narrow."
    )
    if n_dropped:
        notes.append(f"{n_dropped} response(s) with no answer were left out.")
    if ((cells["p"] == 0) | (cells["p"] == 1)).any():
        notes.append("A group and wave had all-yes or all-no answers, which adds no variance.")
    if se == 0:
        raise EstimationError(
            "Every group and wave answered all yes or all no, so there is no variance to test."
        )
    z, p, lo, hi = wald(est, se, alpha)
    return SurveyDiDResult(
        est=float(est),
        se=se,
        z=float(z),
        p_value=p,
        ci_low=float(lo),
        ci_high=float(hi),
        alpha=alpha,
        weighted=weight_column is not None,
        cells=cells,
        n_dropped=int(n_dropped),
        note=" ".join(notes),
    )
