"""Intervals from the comparison areas' placebo estimates, labelled with their real level.

With one treated area the treated area's estimation error cannot be learned from the treated
area itself; Conley & Taber (2011) learn it from the comparison areas: each comparison area's
difference-in-differences estimate (with the other comparison areas as its comparison) is a
draw of the error the treated area's estimate would have under no effect. Inverting gives an
interval whose level is set by the number of comparison areas: with ``M`` placebo estimates
the min–max interval covers with probability ``1 - 2/(M + 1)`` (88.2 % with 16 comparison
wards), never 95 %. Ferman & Pinto (2019) show that the interval is mis-sized when areas differ
in size (their noise differs); rescaling each estimate by its own Poisson scale removes that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple, get_args

import numpy as np
import pandas as pd

from .._checks import check_level, check_option
from ..errors import EstimationError
from ..results import Estimate, Result, Role
from ..wording import describe_interval, describe_ratio
from ._common import assignments
from .placebo import did_log_ratio, panel_arrays

__all__ = [
    "IntervalArrays",
    "PlaceboInterval",
    "closest_achievable_level",
    "conley_taber_interval",
    "placebo_interval_arrays",
    "size_adjusted_interval",
]

IntervalMethod = Literal["conley_taber", "size_adjusted_placebo"]


def closest_achievable_level(requested: float, *, n: int, tails: int = 2) -> tuple[float, int]:
    """The achievable level closest to ``requested``, and its order-statistic index ``k``.

    A rank-based interval with a reference set of ``n`` (the treated unit plus ``n - 1``
    placebos, or ``n`` time shifts) can only have levels ``1 - tails * k / n`` for whole
    ``k >= 1``. This picks the ``k`` whose level is closest to ``requested`` (ties go to the
    higher level) and returns that real level, which is what the interval must be labelled
    with.

    Examples
    --------
    17 areas (16 placebos), 95 % requested: ``(15/17 = 0.882, 1)``.
    48 months, one tail of size ``k/48``, 95 % requested: ``(0.958, 2)``.
    """
    requested = check_level(requested)
    check_option("tails", tails, (1, 2))
    k_max = (n - 1) // tails
    if k_max < 1:
        raise EstimationError(
            f"a reference set of {n} cannot give any interval; more comparison areas "
            "(or months) are needed."
        )
    ks = np.arange(1, k_max + 1)
    levels = 1.0 - tails * ks / n
    k = int(ks[np.argmin(np.round(np.abs(levels - requested), 12))])
    return float(1.0 - tails * k / n), k


class IntervalArrays(NamedTuple):
    """Vectorised placebo intervals on the log scale; leading axes are replications."""

    log_ratio: np.ndarray
    se: np.ndarray
    log_low: np.ndarray
    log_high: np.ndarray
    placebo_log_ratio: np.ndarray
    placebo_se: np.ndarray
    level: float
    k: int
    n_placebo: int
    assignments: np.ndarray
    enumerated: bool


def placebo_interval_arrays(
    counts: np.ndarray,
    *,
    treated: np.ndarray,
    post: np.ndarray,
    method: IntervalMethod = "size_adjusted_placebo",
    level: float = 0.95,
    max_enumerate: int = 100_000,
    n_draws: int = 9_999,
    seed: int | None = 0,
) -> IntervalArrays:
    """Conley–Taber or size-adjusted placebo intervals on arrays (vectorised).

    Parameters
    ----------
    counts
        Counts ``(..., N, T)``.
    treated, post
        Masks ``(N,)`` and ``(T,)``.
    method
        ``"conley_taber"`` or ``"size_adjusted_placebo"``.
    level, max_enumerate, n_draws, seed
        As in :func:`size_adjusted_interval`.
    """
    check_option("method", method, get_args(IntervalMethod))
    y = np.asarray(counts, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    post = np.asarray(post, dtype=bool)
    if treated.shape != y.shape[-2:-1] or post.shape != y.shape[-1:]:
        raise EstimationError("treated and post must match the counts' area and month axes.")
    n1, n0 = int(treated.sum()), int((~treated).sum())
    if n1 < 1 or n0 - n1 < 1:
        raise EstimationError(
            f"with {n1} treated and {n0} comparison areas there are no placebo estimates: "
            "each placebo needs its own comparison areas."
        )
    pre_tot = y[..., ~post].sum(-1)
    post_tot = y[..., post].sum(-1)
    cp, cq = pre_tot[..., ~treated], post_tot[..., ~treated]
    lr1, se1 = did_log_ratio(
        pre_tot[..., treated].sum(-1), post_tot[..., treated].sum(-1), cp.sum(-1), cq.sum(-1)
    )
    assign, enumerated = assignments(
        n0, n1, max_enumerate=max_enumerate, n_draws=n_draws, rng=np.random.default_rng(seed)
    )
    if n1 == 1 and enumerated:
        tp, tq = cp, cq
    else:
        tp, tq = cp[..., assign].sum(-1), cq[..., assign].sum(-1)
    lr_j, se_j = did_log_ratio(
        tp, tq, cp.sum(-1, keepdims=True) - tp, cq.sum(-1, keepdims=True) - tq
    )
    m = assign.shape[0]
    real, k = closest_achievable_level(level, n=m + 1, tails=2)
    if method == "conley_taber":
        e = np.sort(lr_j, axis=-1)
        log_low, log_high = lr1 - e[..., m - k], lr1 - e[..., k - 1]
    else:
        z = np.sort(lr_j / se_j, axis=-1)
        log_low, log_high = lr1 - se1 * z[..., m - k], lr1 - se1 * z[..., k - 1]
    return IntervalArrays(
        log_ratio=lr1,
        se=se1,
        log_low=log_low,
        log_high=log_high,
        placebo_log_ratio=lr_j,
        placebo_se=se_j,
        level=real,
        k=k,
        n_placebo=m,
        assignments=assign,
        enumerated=enumerated,
    )


@dataclass(frozen=True)
class PlaceboInterval(Result):
    """An interval for the treated area's rate ratio from comparison-area placebos.

    Attributes
    ----------
    outcome, treated_areas
        What and where.
    method
        ``"conley_taber"`` or ``"size_adjusted_placebo"``.
    log_ratio, ratio, se
        The treated area's DiD log ratio, rate ratio and Poisson scale.
    ci_low, ci_high
        The interval on the rate-ratio scale.
    log_low, log_high
        The interval on the log scale.
    level
        The real coverage level ``1 - 2k/(M + 1)`` (0.882 with 16 comparison wards).
    requested_level
        The level asked for.
    k
        Order statistic used at each end (1 = min–max).
    n_placebo
        Number ``M`` of placebo estimates.
    enumerated
        Whether every placebo assignment was used (else sampled).
    placebo
        One row per placebo: ``assignment, log_ratio, se, statistic``.
    """

    outcome: str
    treated_areas: tuple[str, ...]
    method: IntervalMethod
    log_ratio: float
    ratio: float
    se: float
    ci_low: float
    ci_high: float
    log_low: float
    log_high: float
    level: float
    requested_level: float
    k: int
    n_placebo: int
    enumerated: bool
    placebo: pd.DataFrame = field(repr=False, compare=False)

    def tidy(self) -> pd.DataFrame:
        """One row: ratio, interval and its real level."""
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "method": self.method,
                    "estimate": self.ratio,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "level": self.level,
                    "requested_level": self.requested_level,
                    "n_placebo": self.n_placebo,
                    "scale": "ratio",
                }
            ]
        )

    def summary(self) -> str:
        """Plain English, with the interval labelled by its real level."""
        name = {
            "conley_taber": "Conley–Taber placebo interval",
            "size_adjusted_placebo": "Size-adjusted placebo interval",
        }[self.method]
        caveat = (
            " It treats every comparison area's noise as the pilot area's, so it is too narrow "
            "for a small pilot area and too wide for a large one; prefer the size-adjusted "
            "interval."
            if self.method == "conley_taber"
            else ""
        )
        lowered = (
            f" (the {self.requested_level * 100:g} % asked for is not achievable with "
            f"{self.n_placebo} placebo estimates)"
            if abs(self.level - self.requested_level) > 0.005
            else ""
        )
        return (
            f"{name} ({self.outcome}): the pilot area had {describe_ratio(self.ratio)} "
            f"(rate ratio {self.ratio:.2f}); "
            f"{describe_interval(self.ci_low, self.ci_high, self.level)}{lowered}, from "
            f"{self.n_placebo} placebo estimates.{caveat}"
        )

    def to_estimate(
        self, *, outcome: str | None = None, role: Role = "robustness", note: str | None = None
    ) -> Estimate:
        """The ``results.json`` record, with ``level`` the interval's real level."""
        check_option("role", role, get_args(Role))
        return Estimate(
            outcome=outcome or self.outcome,
            method=self.method,
            estimate=self.ratio,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            p_value=None,
            scale="ratio",
            level=self.level,
            role=role,
            note=note
            or (
                f"{self.n_placebo} placebo estimates; order statistic {self.k} at each end; "
                f"real level {self.level:.3f} (requested {self.requested_level:.3f})"
            ),
        )


def _interval(
    panel: pd.DataFrame,
    *,
    method: IntervalMethod,
    outcome: str | None,
    level: float,
    max_enumerate: int,
    n_draws: int,
    seed: int | None,
) -> PlaceboInterval:
    pa = panel_arrays(panel, outcome=outcome)
    arr = placebo_interval_arrays(
        pa.counts,
        treated=pa.treated,
        post=pa.post,
        method=method,
        level=level,
        max_enumerate=max_enumerate,
        n_draws=n_draws,
        seed=seed,
    )
    controls = np.asarray(pa.areas, dtype=object)[~pa.treated]
    labels = ["+".join(controls[row]) for row in arr.assignments]
    frame = pd.DataFrame(
        {
            "assignment": labels,
            "log_ratio": arr.placebo_log_ratio,
            "se": arr.placebo_se,
            "statistic": arr.placebo_log_ratio / arr.placebo_se,
        }
    )
    return PlaceboInterval(
        outcome=pa.outcome,
        treated_areas=pa.treated_areas,
        method=method,
        log_ratio=float(arr.log_ratio),
        ratio=float(np.exp(arr.log_ratio)),
        se=float(arr.se),
        ci_low=float(np.exp(arr.log_low)),
        ci_high=float(np.exp(arr.log_high)),
        log_low=float(arr.log_low),
        log_high=float(arr.log_high),
        level=arr.level,
        requested_level=float(level),
        k=arr.k,
        n_placebo=arr.n_placebo,
        enumerated=arr.enumerated,
        placebo=frame,
    )


def conley_taber_interval(
    panel: pd.DataFrame,
    *,
    outcome: str | None = None,
    level: float = 0.95,
    max_enumerate: int = 100_000,
    n_draws: int = 9_999,
    seed: int | None = 0,
) -> PlaceboInterval:
    """Conley–Taber (2011) interval from the comparison areas' placebo estimates.

    Parameters
    ----------
    panel
        Long panel (``outcome, area, group, month, count, treated, post``); buffer left out.
    outcome
        Which outcome; may be omitted when the panel holds one.
    level
        Requested level; the closest achievable level is used and reported.
    max_enumerate, n_draws, seed
        Placebo sets are enumerated up to ``max_enumerate``, else ``n_draws`` are sampled
        with ``seed`` (only relevant with several treated areas).

    Returns
    -------
    PlaceboInterval
        The rate ratio, the interval (ratio and log scales), its real level and the placebo
        estimates.

    Notes
    -----
    **Estimand.** The treated area's effect as a rate ratio, ``exp(α)``, with ``α`` the DiD
    log ratio's expectation.

    **Interval.** ``α̂ = α + ε_1``; the distribution of ``ε_1`` is estimated by the placebo
    estimates ``α̂_j`` (true effect 0), so ``[α̂ - α̂_(M+1-k), α̂ - α̂_(k)]`` (order statistics)
    is the interval (Conley & Taber 2011, Review of Economics and Statistics 93(1)).

    **Placebo estimates.** For each comparison area ``j`` (each set of ``N1`` comparison areas
    when ``N1`` areas are treated), the DiD log ratio of ``j`` against the *other comparison
    areas* (the treated area is left out: its post period carries the effect). With ``N1 > 1``
    the treated areas are pooled into one series and the placebos are all ``C(N0, N1)`` pooled
    sets of comparison areas (``B`` sampled when there are more than ``max_enumerate``); the
    stated level then assumes those overlapping sets behave like exchangeable draws, which is
    approximate.

    **Level.** With ``M`` placebo estimates, the interval from the ``k``-th smallest and
    ``k``-th largest has real level ``1 - 2k/(M + 1)`` when the treated area's error and the
    ``M`` placebo errors are exchangeable; ``k`` is chosen so that this is the achievable
    level closest to ``level`` (:func:`closest_achievable_level`), and ``level`` in the result
    is that real level: 15/17 = 0.882 with 16 comparison wards, whatever was requested.

    **Assumptions.** The treated area's error is distributed like the comparison areas'
    errors. That fails when areas differ in size: a small area's log ratio is noisier, so the
    interval is too narrow for a small pilot area and too wide for a large one. In the
    17-ward simulation the "88 %" interval missed a true null about 26 % of the time when the
    smallest ward was treated and about 2 % when the largest was (nominal 11.8 %;
    ``tests/inference/test_inference_simulation.py``). Prefer :func:`size_adjusted_interval`.
    """
    return _interval(
        panel,
        method="conley_taber",
        outcome=outcome,
        level=level,
        max_enumerate=max_enumerate,
        n_draws=n_draws,
        seed=seed,
    )


def size_adjusted_interval(
    panel: pd.DataFrame,
    *,
    outcome: str | None = None,
    level: float = 0.95,
    max_enumerate: int = 100_000,
    n_draws: int = 9_999,
    seed: int | None = 0,
) -> PlaceboInterval:
    """Size-adjusted (Ferman–Pinto-style) placebo interval: each placebo rescaled by its scale.

    Parameters
    ----------
    panel
        Long panel (``outcome, area, group, month, count, treated, post``); buffer left out.
    outcome
        Which outcome; may be omitted when the panel holds one.
    level
        Requested level; the closest achievable level is used and reported.
    max_enumerate, n_draws, seed
        As in :func:`conley_taber_interval`.

    Returns
    -------
    PlaceboInterval
        The rate ratio, the interval, its real level and the placebo estimates with their
        scales.

    Notes
    -----
    **Estimand.** As :func:`conley_taber_interval`.

    **Interval.** Each placebo estimate is studentised by its own Poisson scale,
    ``z_j = α̂_j / s_j`` with ``s_j = sqrt(1/T_pre + 1/T_post + 1/C_pre + 1/C_post)`` (the
    studentisation of :func:`placebo_in_space`); the treated area's ``(α̂ - α) / s_1`` is
    taken to be distributed like the ``z_j``, so the interval is
    ``[α̂ - s_1 z_(M+1-k), α̂ - s_1 z_(k)]``. It is the inversion of the studentised
    placebo test. A common quasi-Poisson dispersion would cancel, so none is applied.

    **Placebo estimates and level.** As :func:`conley_taber_interval`: each comparison area's
    (or set of ``N1`` comparison areas') DiD log ratio against the other comparison areas,
    and the real level ``1 - 2k/(M + 1)`` of the ``k``-th order statistics, 15/17 = 0.882 with
    16 comparison wards whatever was requested.

    **Assumptions.** The studentised errors are exchangeable across areas: heteroskedasticity
    across areas is captured by the Poisson scale (Ferman & Pinto 2019, Review of Economics
    and Statistics 101(3), correct for heteroskedasticity from varying group sizes in the
    same way). In the 17-ward simulation its non-coverage was 9.5–10 % against the nominal
    11.8 % whatever the treated ward's size (``tests/inference/test_inference_simulation.py``).
    """
    return _interval(
        panel,
        method="size_adjusted_placebo",
        outcome=outcome,
        level=level,
        max_enumerate=max_enumerate,
        n_draws=n_draws,
        seed=seed,
    )
