"""Synthetic control with placebo-in-space inference for one treated area.

:func:`synthetic_control` weights the comparison areas (non-negative weights summing to one)
so that their weighted monthly series tracks the treated area's before the start, reads the
effect off the post-period gap, and ranks the treated area's post/pre RMSPE ratio among the
same statistic for every comparison area treated as a placebo.
"""

from __future__ import annotations

import math
import warnings
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from typing import Literal, get_args

import numpy as np
import pandas as pd
from scipy import optimize

from .._checks import check_alpha, check_option
from ..columns import AREA, COUNT, GROUP, MONTH, POST, TREATED
from ..errors import DataValidationError, EstimationError, OptionError
from ..parallel import map_chunks
from ..results import Estimate, Result, Role
from ..wording import (
    Direction,
    describe_rank,
    describe_ratio,
    describe_significance,
    format_p_floored,
    format_ratio,
)
from ._common import outcome_panel, p_for_estimate

Scale = Literal["pre_mean", "count"]
Alternative = Literal["two-sided", "less", "greater"]


def simplex_weights(target: np.ndarray, donors: np.ndarray) -> np.ndarray:
    """Weights ``w >= 0``, ``sum(w) = 1`` minimising ``||target - donors @ w||^2``.

    Parameters
    ----------
    target
        Shape (T,), the treated series over the fitting months.
    donors
        Shape (T, J), one column per donor.

    Returns
    -------
    numpy.ndarray
        Shape (J,).

    Notes
    -----
    The problem is rescaled (so counts of any size behave alike), solved by Lawson-Hanson
    non-negative least squares with the sum-to-one constraint as a heavily weighted extra row,
    polished by solving the equality-constrained least squares exactly on the support found,
    and checked against the Karush-Kuhn-Tucker conditions; SLSQP refines it if they fail.
    The objective is convex, so the fit (not always the weights) is unique.
    """
    y = np.asarray(target, dtype=float)
    A = np.asarray(donors, dtype=float)
    J = A.shape[1]
    if J == 1:
        return np.ones(1)
    scale = float(np.sqrt(np.mean(A**2))) or 1.0
    y, A = y / scale, A / scale
    P = A.T @ A
    q = A.T @ y

    def obj(w: np.ndarray) -> float:
        return float(0.5 * w @ P @ w - q @ w)

    def kkt_gap(w: np.ndarray) -> float:
        g = P @ w - q
        mu = float(np.min(g))  # the multiplier: the smallest gradient (attained on the support)
        on = w > 1e-12
        return float(np.max(np.abs(g[on] - mu))) if on.any() else math.inf

    def polish(w: np.ndarray) -> np.ndarray:
        support = w > 1e-10
        k = int(support.sum())
        kkt = np.zeros((k + 1, k + 1))
        kkt[:k, :k] = P[np.ix_(support, support)]
        kkt[:k, k] = 1.0
        kkt[k, :k] = 1.0
        sol = np.linalg.lstsq(kkt, np.concatenate([q[support], [1.0]]), rcond=None)[0]
        if np.all(sol[:k] >= 0):
            w2 = np.zeros(J)
            w2[support] = sol[:k]
            if obj(w2) <= obj(w) + 1e-12 * max(1.0, abs(obj(w))):
                return w2
        return w

    lam = 1e4 * (1.0 + float(np.abs(A).max()))
    w, _ = optimize.nnls(np.vstack([A, np.full((1, J), lam)]), np.append(y, lam), maxiter=50 * J)
    w = polish(w / w.sum() if w.sum() > 0 else np.full(J, 1.0 / J))
    if kkt_gap(w) > 1e-9 * max(1.0, float(np.abs(q).max())):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = optimize.minimize(
                obj,
                w,
                jac=lambda v: P @ v - q,
                method="SLSQP",
                bounds=[(0.0, 1.0)] * J,
                constraints=[
                    {"type": "eq", "fun": lambda v: v.sum() - 1.0, "jac": lambda v: np.ones(J)}
                ],
                options={"ftol": 1e-15, "maxiter": 2000},
            )
        w2 = np.clip(res.x, 0.0, None)
        w2 = polish(w2 / w2.sum())
        if obj(w2) < obj(w):
            w = w2
    return w


@dataclass(frozen=True, eq=False)
class SynthResult(Result):
    """Synthetic control and its placebo-in-space test (see :func:`synthetic_control`).

    Attributes
    ----------
    weights
        ``area, weight`` for every donor (comparison area), largest first.
    path
        One row per month: ``month, post, treated, synthetic, gap`` in counts
        (``gap = treated - synthetic``).
    pre_rmspe, post_rmspe, rmspe_ratio
        Root mean squared gap before and after the start (counts) and their ratio.
    ratio
        Post-period recorded / synthetic counts (1 = no change).
    mean_post_gap
        Average monthly gap after the start (counts; negative = fewer than the synthetic).
    placebos
        One row per unit (the treated one included): ``area, is_treated, pre_rmspe,
        post_rmspe, rmspe_ratio, statistic, rank`` (rank 1 = most extreme).
    placebo_gaps
        Long frame ``month, post, area, is_treated, gap`` (counts): every unit's gap from its
        own synthetic control, for the chart of all placebo paths.
    p_value, rank, n_units, p_min
        Placebo-in-space p = rank / N with the treated unit counted (smallest possible 1/N).
    """

    outcome: str
    treated_area: str
    scale: str
    alternative: str
    alpha: float
    weights: pd.DataFrame
    path: pd.DataFrame
    pre_rmspe: float
    post_rmspe: float
    rmspe_ratio: float
    ratio: float
    mean_post_gap: float
    placebos: pd.DataFrame
    placebo_gaps: pd.DataFrame
    p_value: float
    rank: int
    n_units: int
    n_pre: int
    n_post: int
    note: str

    @property
    def p_min(self) -> float:
        """The design's smallest possible p-value, 1/N."""
        return 1.0 / self.n_units

    @property
    def level(self) -> float:
        return 1.0 - self.alpha

    def tidy(self) -> pd.DataFrame:
        """One row: the post-period ratio with its placebo rank and p-value."""
        return pd.DataFrame(
            [
                {
                    "term": "synthetic_control",
                    "treated_area": self.treated_area,
                    "ratio": self.ratio,
                    "mean_post_gap": self.mean_post_gap,
                    "pre_rmspe": self.pre_rmspe,
                    "post_rmspe": self.post_rmspe,
                    "rmspe_ratio": self.rmspe_ratio,
                    "rank": self.rank,
                    "n_units": self.n_units,
                    "p_value": self.p_value,
                    "p_min": self.p_min,
                    "alternative": self.alternative,
                }
            ]
        )

    def summary(self) -> str:
        top = self.weights[self.weights["weight"] >= 0.05]
        mix = ", ".join(
            f"{a} ({w * 100:.0f} %)" for a, w in zip(top["area"], top["weight"], strict=True)
        )
        directions: dict[str, Direction | None] = {
            "two-sided": None,
            "less": "decrease",
            "greater": "increase",
        }
        direction = directions[self.alternative]
        stat = {
            "two-sided": "post/pre RMSPE ratio (two-sided)",
            "less": "fall after the start scaled by its pre-period fit (one-sided test for a fall)",
            "greater": "rise after the start scaled by its pre-period fit (one-sided, for a rise)",
        }[self.alternative]
        text = (
            f"Synthetic control for {self.outcome} in {self.treated_area}: a weighted mix of the "
            f"comparison areas ({mix or 'many small weights'}) tracked it before the start with a "
            f"root mean squared gap of {self.pre_rmspe:.1f} crimes a month. After the start, "
            f"{self.treated_area} had "
            f"{describe_ratio(self.ratio, reference='this synthetic area')} (ratio "
            f"{format_ratio(self.ratio)}). Treating every comparison area in turn as if it had "
            f"been the pilot area and ranking the {stat}, {self.treated_area} had "
            f"{describe_rank(self.rank, self.n_units, direction=direction)} "
            f"({format_p_floored(self.p_value, min_p=self.p_min)}). "
        )
        text += describe_significance(
            self.p_value, min_p=self.p_min, alpha=self.alpha, n_reference=self.n_units
        )
        if self.note:
            text += f" Caveat: {self.note}."
        return text

    def to_estimate(self, *, outcome: str | None = None, role: Role = "robustness") -> Estimate:
        """The post-period ratio with its placebo p-value (no interval: ci is NaN)."""
        return Estimate(
            outcome=outcome if outcome is not None else self.outcome,
            method="synthetic_control",
            estimate=self.ratio,
            ci_low=float("nan"),
            ci_high=float("nan"),
            p_value=p_for_estimate(self.p_value),
            scale="ratio",
            level=self.level,
            role=role,
            note=(
                f"placebo-in-space rank {self.rank} of {self.n_units} ({self.alternative}), "
                f"smallest possible p = 1/{self.n_units}; no interval"
                + (f"; {self.note}" if self.note else "")
            ),
        )


def _fit_one(
    y: np.ndarray, Y0: np.ndarray, pre: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, float]:
    w = simplex_weights(y[pre], Y0[pre])
    gap = y - Y0 @ w
    return w, gap, *_rmspe(gap, pre)


def _placebo_unit(
    j: int, *, Ys: np.ndarray, pre: np.ndarray, alternative: str
) -> tuple[np.ndarray, float, float, float]:
    """Unit ``j`` of ``Ys`` (column 0 the treated one) as the pilot, the other donors its pool."""
    others = [k for k in range(1, Ys.shape[1]) if k != j]
    _, g, pr, po = _fit_one(Ys[:, j], Ys[:, others], pre)
    return g, pr, po, _statistic(g, pre, pr, po, alternative)


def _rmspe(gap: np.ndarray, pre: np.ndarray) -> tuple[float, float]:
    """Root mean squared gap before and after the start."""
    return float(np.sqrt(np.mean(gap[pre] ** 2))), float(np.sqrt(np.mean(gap[~pre] ** 2)))


def _statistic(gap: np.ndarray, pre: np.ndarray, pre_r: float, post_r: float, alt: str) -> float:
    if alt == "two-sided":
        return post_r / pre_r if pre_r > 0 else math.inf
    signed = (
        float(np.mean(gap[~pre])) / pre_r
        if pre_r > 0
        else math.copysign(math.inf, float(np.mean(gap[~pre])))
    )
    return -signed if alt == "less" else signed


def synthetic_control(
    panel: pd.DataFrame,
    *,
    outcome: str,
    treated_area: str | None = None,
    alpha: float = 0.05,
    scale: Scale = "pre_mean",
    alternative: Alternative = "two-sided",
    executor: Executor | None = None,
) -> SynthResult:
    """Synthetic control on monthly counts, with placebo-in-space inference.

    Parameters
    ----------
    panel
        Long panel, zero-filled; not modified.
    outcome
        Which outcome's rows to use.
    treated_area
        Area code of the treated unit. ``None``: the panel's one treated area (an error if
        there are several: pick one, or aggregate them into one area first).
    alpha
        Level the summary compares the p-value (and its floor 1/N) with.
    scale
        ``"pre_mean"`` (default): each area's monthly counts divided by its own pre-period mean
        before fitting, so the weights match the shape of the series and an area larger or
        smaller than every comparison area can still be fitted; ``"count"``: raw monthly
        counts (Abadie's original, which needs the treated area inside the donors' range).
    alternative
        ``"two-sided"``: rank the post/pre RMSPE ratio (Abadie, Diamond & Hainmueller 2010);
        ``"less"`` / ``"greater"``: rank the mean post-period gap divided by the pre-period
        RMSPE, for a one-sided test of a fall / rise (state the direction before looking).
    executor
        Where the placebo fits run, in chunks (:func:`pilot_eval.parallel.map_chunks`, e.g. a
        Dask cluster's executor): one simplex fit per comparison area, each over all the
        others, so the work grows with the square of their number. ``None``: here. The
        numbers are the same either way.

    Returns
    -------
    SynthResult

    Notes
    -----
    Weights: ``w = argmin sum_{t < start} (y_1t - sum_j w_j y_jt)^2`` over the simplex
    (``w >= 0``, ``sum w = 1``), on the chosen scale, with every pre-period month as a
    predictor and equal predictor weights (V = identity; no covariates), solved by
    :func:`simplex_weights`; agrees with ``pysyncon.Synth`` given the same matrices and a V
    that undoes its predictor standardisation. Donors: the comparison areas (the buffer and
    other treated areas are never donors).

    Estimand: the treated area's post-period recorded / synthetic counts (``ratio``, on the
    count scale; with ``scale="pre_mean"`` the synthetic series is converted back to counts by
    the treated area's pre-period mean).

    Inference: placebo-in-space. Each comparison area is treated as if it were the pilot area
    (donors: the other comparison areas) and its statistic computed the same way. The p-value
    is ``#{units at least as extreme, the treated one included} / N``, N = comparison areas +
    1, so the smallest possible value is 1/N (Abadie, Diamond & Hainmueller 2010, JASA;
    Firpo & Possebom 2018, J. Causal Inference). ``pysyncon.PlaceboTest.pvalue`` leaves the
    treated unit out of the count, so returns ours minus 1/N (0 where ours is 1/N).
    Assumptions: without the pilot the treated area would have kept tracking the same mix of
    comparison areas; no spill-over into comparison areas; exchangeability of areas for the
    p-value. Monthly counts of small areas are noisy, so the pre-period fit partly matches
    noise (over-fitting), and the post/pre ratio then flatters every unit alike.
    """
    check_alpha(alpha, upper=0.5)
    check_option("scale", scale, get_args(Scale))
    check_option("alternative", alternative, get_args(Alternative))
    df = outcome_panel(panel, outcome=outcome)
    areas_treated = sorted(df.loc[df[TREATED], AREA].unique())
    if treated_area is None:
        if len(areas_treated) != 1:
            raise OptionError(
                f"The panel has {len(areas_treated)} treated areas ({areas_treated[:5]}); "
                "synthetic control fits one treated unit. Pass treated_area=... or aggregate "
                "the treated areas into one area first."
            )
        treated_area = areas_treated[0]
    treated_area = str(treated_area)
    if treated_area not in set(df[AREA]):
        raise DataValidationError(
            f"treated_area {treated_area!r} is not an area of the panel for outcome {outcome!r}."
        )
    donors = sorted(
        a for a in df.loc[df[GROUP] == "comparison", AREA].unique() if a != treated_area
    )
    wide = df.pivot(index=MONTH, columns=AREA, values=COUNT).sort_index()
    pre = ~df.groupby(MONTH)[POST].max().reindex(wide.index).to_numpy(dtype=bool)
    n_pre, n_post = int(pre.sum()), int((~pre).sum())
    pre_means = wide.loc[pre].mean()
    if pre_means[treated_area] <= 0:
        raise EstimationError(
            f"{treated_area} recorded no {outcome!r} crimes before the start; there is nothing "
            "for a synthetic control to match."
        )
    notes: list[str] = []
    if scale == "pre_mean":
        empty = [a for a in donors if pre_means[a] <= 0]
        if empty:
            notes.append(f"{len(empty)} comparison areas with no pre-period crimes left out")
            donors = [a for a in donors if a not in empty]
    if len(donors) < 2:
        raise EstimationError(
            f"Synthetic control needs at least two comparison areas; this panel has "
            f"{len(donors)} usable ones."
        )
    if n_pre < 3:
        raise EstimationError(
            f"Synthetic control needs at least three months before the start; there are {n_pre}."
        )
    units = [treated_area, *donors]
    Yc = wide[units].to_numpy(dtype=float)
    div = pre_means[units].to_numpy(dtype=float) if scale == "pre_mean" else np.ones(len(units))
    Ys = Yc / div

    # Treated unit.
    w, gap_s, pre_r, post_r = _fit_one(Ys[:, 0], Ys[:, 1:], pre)
    synth_counts = (Ys[:, 1:] @ w) * div[0]
    gap = Yc[:, 0] - synth_counts
    pre_rmspe, post_rmspe = _rmspe(gap, pre)
    if synth_counts[~pre].sum() <= 0:
        raise EstimationError(
            "The synthetic control predicts no crimes after the start, so no ratio can be "
            "formed; choose a more common outcome."
        )
    ratio = float(Yc[~pre, 0].sum() / synth_counts[~pre].sum())
    stats_rows = [
        {
            AREA: treated_area,
            "is_treated": True,
            "pre_rmspe": pre_rmspe,
            "post_rmspe": post_rmspe,
            "rmspe_ratio": post_r / pre_r if pre_r > 0 else math.inf,
            "statistic": _statistic(gap_s, pre, pre_r, post_r, alternative),
        }
    ]
    gap_cols = {treated_area: gap}
    # Placebos: every donor as the treated unit, the other donors as its pool.
    # Each placebo is its own simplex fit: on an executor they run in chunks (same numbers).
    fits = map_chunks(
        partial(_placebo_unit, Ys=Ys, pre=pre, alternative=alternative),
        range(1, len(units)),
        executor=executor,
    )
    for j, (g, pr, po, stat) in enumerate(fits, start=1):
        gap_cols[units[j]] = g * div[j]
        stats_rows.append(
            {
                AREA: units[j],
                "is_treated": False,
                "pre_rmspe": pr * div[j],
                "post_rmspe": po * div[j],
                "rmspe_ratio": po / pr if pr > 0 else math.inf,
                "statistic": stat,
            }
        )
    placebos = pd.DataFrame(stats_rows)
    s = placebos["statistic"].to_numpy(dtype=float)
    t_stat = s[0]
    # Ties count against the treated unit (conservative); a relative tolerance absorbs
    # floating-point noise.
    tol = 1e-10 * max(1.0, abs(t_stat)) if math.isfinite(t_stat) else 0.0
    at_least = s >= t_stat - tol
    n_units = len(units)
    rank = int(at_least.sum())
    p_value = rank / n_units
    placebos["rank"] = pd.Series(-s).rank(method="max").astype(int).to_numpy()
    placebos = placebos.sort_values(["rank", "is_treated"], ascending=[True, False])
    placebos = placebos.reset_index(drop=True)

    weights = (
        pd.DataFrame({AREA: donors, "weight": w})
        .sort_values(["weight", AREA], ascending=[False, True])
        .reset_index(drop=True)
    )
    path = pd.DataFrame(
        {
            MONTH: wide.index.to_numpy(),
            POST: ~pre,
            "treated": Yc[:, 0],
            "synthetic": synth_counts,
            "gap": gap,
        }
    )
    placebo_gaps = (
        pd.DataFrame(gap_cols, index=pd.Index(wide.index, name=MONTH))
        .melt(ignore_index=False, var_name=AREA, value_name="gap")
        .reset_index()
    )
    placebo_gaps.insert(2, "is_treated", placebo_gaps[AREA] == treated_area)
    placebo_gaps.insert(1, POST, np.tile(~pre, len(units)))
    return SynthResult(
        outcome=outcome,
        treated_area=treated_area,
        scale=scale,
        alternative=alternative,
        alpha=float(alpha),
        weights=weights,
        path=path,
        pre_rmspe=pre_rmspe,
        post_rmspe=post_rmspe,
        rmspe_ratio=post_rmspe / pre_rmspe if pre_rmspe > 0 else math.inf,
        ratio=ratio,
        mean_post_gap=float(np.mean(gap[~pre])),
        placebos=placebos,
        placebo_gaps=placebo_gaps,
        p_value=float(p_value),
        rank=rank,
        n_units=n_units,
        n_pre=n_pre,
        n_post=n_post,
        note="; ".join(notes),
    )
