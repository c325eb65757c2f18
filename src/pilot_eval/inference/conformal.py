"""Conformal inference over time (Chernozhukov, Wüthrich & Zhu 2021) for a multiplicative effect.

Instead of asking "which area was treated?" (placebo-in-space, floor ``1/N``), conformal
inference asks "which months were treated?": under a null effect ``θ0`` it fits the
counterfactual with the null imposed on *all* months, takes the treated area's residuals and
compares the post-period residuals with every cyclic shift of the residual series. Its floor is
``1/T`` (``T`` months), it does not depend on the number of comparison areas, and inverting it
over a grid of ``θ0`` gives a confidence set for the incidence-rate ratio.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, get_args

import numpy as np
import pandas as pd

from .._checks import check_level, check_option, check_positive
from ..errors import EstimationError, OptionError
from ..results import Estimate, Result, Role
from ..wording import Direction, describe_interval, describe_ratio, describe_significance, format_p
from ._common import TIE_RTOL
from .intervals import closest_achievable_level
from .placebo import panel_arrays

__all__ = [
    "ConformalArrays",
    "ConformalResult",
    "PoissonTwfeFit",
    "conformal_arrays",
    "conformal_inference",
    "fit_poisson_twfe",
]

IntervalKind = Literal["two-sided", "one-sided"]
_GRID_LIMITS = (0.01, 100.0)
#: Relative precision to which the confidence set's ends are located between grid values.
END_RTOL = 1e-10
_PROBES = 15  # null values tried inside a bracket per round (the bracket shrinks 16-fold)
_MAX_ROUNDS = 40


class PoissonTwfeFit(NamedTuple):
    """Fitted means of a Poisson model with area and month effects (and a treated-cell IRR)."""

    mean: np.ndarray
    irr: np.ndarray
    n_iter: int
    converged: bool


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(np.broadcast_shapes(num.shape, den.shape))
    np.divide(num, den, out=out, where=den > 0)
    return out


def fit_poisson_twfe(
    counts: np.ndarray,
    *,
    cells: np.ndarray | None = None,
    irr: float | np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 10_000,
) -> PoissonTwfeFit:
    """Poisson maximum likelihood with area and month effects, vectorised over leading axes.

    ``E[y_it] = a_i * b_t * irr ** cells_it``.

    Parameters
    ----------
    counts
        Counts of shape ``(..., N, T)``.
    cells
        Boolean ``(N, T)`` mask of the cells the rate ratio applies to (treated area × post
        months), or None for the plain area + month model.
    irr
        The rate ratio on ``cells``: a number or an array broadcasting against the leading axes
        (e.g. a grid of null values), held fixed (an offset ``log irr``); None estimates it
        (the Poisson two-way fixed-effects DiD estimate). Ignored without ``cells``.
    tol
        Convergence tolerance on the fitted means (relative).
    max_iter
        Most iterations.

    Returns
    -------
    PoissonTwfeFit
        ``mean`` of shape ``(..., N, T)`` (leading axes broadcast with ``irr``), ``irr`` (the
        fixed or estimated ratio, NaN without ``cells``), iterations, convergence.

    Notes
    -----
    Without ``cells`` the maximum-likelihood fit on a complete table is closed-form,
    ``mu_it = y_i. y_.t / y_..``. With ``cells``, the score equations are solved by cyclic
    exact block updates (iterative proportional fitting): ``a_i = y_i. / sum_t b_t e_it``,
    ``b_t = y_.t / sum_i a_i e_it`` with ``e_it = irr`` on ``cells`` (1 elsewhere) and, when
    estimated, ``irr = sum_cells y / sum_cells a_i b_t``. Each update maximises the
    likelihood in its block in closed form, so the iteration increases the likelihood and
    converges to the MLE (the Poisson likelihood is concave in the log parameters). Areas or
    months with no crimes get fitted means of 0. Cross-checked against statsmodels' GLM in
    ``tests/inference/test_conformal.py``.
    """
    y = np.asarray(counts, dtype=float)
    if y.ndim < 2:
        raise EstimationError(f"counts must have shape (..., areas, months), got {y.shape}")
    rows = y.sum(-1)
    cols = y.sum(-2)
    total = rows.sum(-1)
    if cells is None:
        mean = _safe_div(rows[..., :, None] * cols[..., None, :], total[..., None, None])
        return PoissonTwfeFit(mean, np.full(y.shape[:-2], np.nan), 0, True)
    d = np.asarray(cells, dtype=bool)
    if d.shape != y.shape[-2:]:
        raise EstimationError(f"cells must have shape {y.shape[-2:]}, got {d.shape}")
    estimate = irr is None
    theta_in = np.ones(()) if estimate else np.asarray(irr, dtype=float)
    if np.any(theta_in <= 0):
        raise EstimationError("a rate ratio must be positive.")
    batch = np.broadcast_shapes(y.shape[:-2], theta_in.shape)
    theta = np.broadcast_to(theta_in, batch).astype(float, copy=True)
    rows = np.broadcast_to(rows, (*batch, rows.shape[-1]))
    cols = np.broadcast_to(cols, (*batch, cols.shape[-1]))
    y_cells = np.broadcast_to((y * d).sum((-2, -1)), batch)
    b = cols / max(y.shape[-2], 1)
    mean = np.zeros((*batch, *y.shape[-2:]))
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter reported
        e = np.where(d, theta[..., None, None], 1.0)
        a = _safe_div(rows, (e * b[..., None, :]).sum(-1))
        b = _safe_div(cols, (e * a[..., :, None]).sum(-2))
        ab = a[..., :, None] * b[..., None, :]
        if estimate:
            theta = _safe_div(y_cells, (ab * d).sum((-2, -1)))
            e = np.where(d, theta[..., None, None], 1.0)
        new = ab * e
        change = np.max(np.abs(new - mean) / (1.0 + mean), initial=0.0)
        mean = new
        if change < tol:
            converged = True
            break
    return PoissonTwfeFit(mean, theta, n_iter, converged)


def _two_rows(counts: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """``(..., N, T)`` → ``(..., 2, T)``: the treated areas' sum, then the comparison sum."""
    return np.stack([counts[..., treated, :].sum(-2), counts[..., ~treated, :].sum(-2)], axis=-2)


class ConformalArrays(NamedTuple):
    """Vectorised conformal output; shapes are the leading axes (replications and/or grid)."""

    statistic: np.ndarray
    p_decrease: np.ndarray
    p_increase: np.ndarray
    p_two_sided: np.ndarray
    residuals: np.ndarray
    expected: np.ndarray
    min_p: float


def conformal_arrays(
    counts: np.ndarray,
    *,
    treated: np.ndarray,
    post: np.ndarray,
    null_irr: float | np.ndarray = 1.0,
) -> ConformalArrays:
    """Conformal p-values on arrays, vectorised over replications and over null values.

    Parameters
    ----------
    counts
        Counts of shape ``(..., N, T)``.
    treated
        Treated-area mask ``(N,)``; several treated areas are summed into one series.
    post
        Post-month mask ``(T,)``.
    null_irr
        Null rate ratio(s) ``θ0``; an array broadcasts against the leading axes of ``counts``
        (pass ``grid`` with counts of shape ``(N, T)`` for a confidence set, or shape
        ``(R, 1)`` with counts ``(R, N, T)`` for a grid per replication).

    Returns
    -------
    ConformalArrays
        ``statistic`` (signed mean Pearson residual over post months), the one-sided
        p-values (floor ``min_p = 1/T``), the equal-tailed two-sided p-value (floor ``2/T``),
        the treated series' Pearson ``residuals`` ``(..., T)`` and fitted ``expected`` counts
        under the null.

    Notes
    -----
    See :func:`conformal_inference` for the construction.
    """
    y = np.asarray(counts, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    post = np.asarray(post, dtype=bool)
    n_months = y.shape[-1]
    if treated.shape != y.shape[-2:-1] or post.shape != (n_months,):
        raise EstimationError(
            f"treated must have shape {y.shape[-2:-1]} and post ({n_months},) to match "
            f"counts {y.shape}."
        )
    if not treated.any() or treated.all() or not post.any() or post.all():
        raise EstimationError(
            "conformal inference needs a treated and a comparison area, and months both "
            "before and from the start."
        )
    y2 = _two_rows(y, treated)
    theta = np.asarray(null_irr, dtype=float)
    if np.all(theta == 1.0):
        fit = fit_poisson_twfe(y2)
        mean = np.broadcast_to(
            fit.mean, (*np.broadcast_shapes(y2.shape[:-2], theta.shape), 2, n_months)
        )
    else:
        cells = np.zeros((2, n_months), dtype=bool)
        cells[0, post] = True
        fit = fit_poisson_twfe(y2, cells=cells, irr=theta)
        if not fit.converged:  # pragma: no cover - defensive
            raise EstimationError("the Poisson area + month fit did not converge.")
        mean = fit.mean
    mu1 = mean[..., 0, :]
    y1 = np.broadcast_to(y2[..., 0, :], mu1.shape)
    resid = _safe_div(y1 - mu1, np.sqrt(mu1))
    post_idx = np.flatnonzero(post)
    shifts = (post_idx[None, :] + np.arange(n_months)[:, None]) % n_months
    s = resid[..., shifts].mean(-1)
    s0 = s[..., 0]
    tol = (TIE_RTOL * (1.0 + np.abs(s0)))[..., None]
    p_dec = (s <= s0[..., None] + tol).mean(-1)
    p_inc = (s >= s0[..., None] - tol).mean(-1)
    # Equal-tailed two-sided p-value. (|S| is not used: under a far-off null the residuals of
    # the period the fit gives up on explode, and |S| of the shifted windows then swamps |S_0|.)
    p_two = np.minimum(1.0, 2.0 * np.minimum(p_dec, p_inc))
    return ConformalArrays(
        statistic=s0,
        p_decrease=p_dec,
        p_increase=p_inc,
        p_two_sided=p_two,
        residuals=resid,
        expected=mu1,
        min_p=1.0 / n_months,
    )


def _refine_ends(
    inner: np.ndarray,
    outer: np.ndarray,
    *,
    evaluate: Callable[[np.ndarray], ConformalArrays],
    accepted: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Locate the ends of a confidence set between an accepted and a rejected null value.

    ``inner[e]`` is accepted and ``outer[e]`` rejected, for each end ``e``; all ends are
    searched together (vectorised). Each round tries ``_PROBES`` null values evenly spaced
    on the log scale from inner to outer and keeps the bracket around the *first* rejected
    one, so the new inner value and every value tried inside it were accepted. It stops
    when ``|log(outer / inner)| <= END_RTOL``.

    Returns
    -------
    ends, points, values
        The final inner (accepted) values — the reported ends — then the final inner and
        outer values with their ``(statistic, p_decrease, p_increase, p_two_sided)`` rows
        (as they were computed in the search), to be shown in the grid.
    """
    a, r = np.log(inner), np.log(outer)
    n_ends = a.size
    a_vals = np.full((4, n_ends), np.nan)
    r_vals = np.full((4, n_ends), np.nan)
    frac = np.arange(1, _PROBES + 1) / (_PROBES + 1)
    for _ in range(_MAX_ROUNDS):
        if np.all(np.abs(r - a) <= END_RTOL):
            break
        probes = a[:, None] + (r - a)[:, None] * frac[None, :]  # (ends, probes)
        over = evaluate(np.exp(probes))
        ok = accepted(over.p_decrease, over.p_increase)
        vals = np.stack([over.statistic, over.p_decrease, over.p_increase, over.p_two_sided])
        for e in range(n_ends):
            if np.abs(r[e] - a[e]) <= END_RTOL:
                continue
            rejected = np.flatnonzero(~ok[e])
            j = int(rejected[0]) if rejected.size else _PROBES
            if j > 0:
                a[e] = probes[e, j - 1]
                a_vals[:, e] = vals[:, e, j - 1]
            if j < _PROBES:
                r[e] = probes[e, j]
                r_vals[:, e] = vals[:, e, j]
    # a value never moved is the grid's own (its row is already in the grid)
    keep_a = ~np.isnan(a_vals[0])
    keep_r = ~np.isnan(r_vals[0])
    ends = np.where(keep_a, np.exp(a), inner)
    points = np.concatenate([ends[keep_a], np.exp(r)[keep_r]])
    values = np.concatenate([a_vals[:, keep_a], r_vals[:, keep_r]], axis=1)
    return ends, points, values


@dataclass(frozen=True)
class ConformalResult(Result):
    """Conformal inference over time for the treated area's rate ratio.

    Attributes
    ----------
    outcome, treated_areas
        What was tested, and where.
    n_units, n_months, n_post
        Areas (treated and comparison), months, post months.
    direction
        Direction of the one-sided p-value (and of a one-sided interval).
    null_irr
        The null rate ratio tested by ``p_one_sided`` and ``p_two_sided`` (1 = no change).
    statistic
        Mean Pearson residual of the treated series over the post months under the null.
    p_one_sided, p_two_sided
        Conformal p-values: one-sided in ``direction`` (a multiple of ``1/T``, at least
        ``min_p``) and equal-tailed two-sided (twice the smaller one-sided, at least ``2/T``).
    min_p
        ``1/T``, the smallest attainable one-sided p-value (two-sided: ``2/T``,
        :attr:`min_p_two_sided`).
    irr
        Point estimate: the Poisson two-way fixed-effects DiD rate ratio (the null value at
        which the treated area's post residuals sum to zero).
    ci_low, ci_high
        Hull of the confidence set (rate ratios); ``0`` / ``inf`` on an unbounded side. Each
        finite end is an accepted null value located to ``END_RTOL`` (1e-10, relative) of the
        boundary of the accepted set, so (for a contiguous set) the interval excludes
        ``null_irr`` exactly when the reported p-value rejects it at ``1 - level``.
    level
        The set's real level, ``1 - 2k/T`` two-sided or ``1 - k/T`` one-sided, for the ``k``
        chosen (0.958 for ``T = 48`` and 95 % requested, two-sided).
    requested_level
        The level asked for.
    interval
        ``"two-sided"``, or ``"one-sided"`` in ``direction`` (then one end is 0 or ``inf``).
    bounded
        Whether the set's informative end(s) lie inside the grid.
    contiguous
        Whether the accepted grid points form one run (the set is an interval).
    grid
        One row per null value: ``null_irr, statistic, p_decrease, p_increase, p_two_sided,
        in_set``; the grid always holds 1 and ``null_irr`` (whose row is the reported test),
        and the last accepted and first rejected values found at each refined end.
    residuals
        One row per month at ``null_irr``: ``month, post, observed, expected, residual``.
    """

    outcome: str
    treated_areas: tuple[str, ...]
    n_units: int
    n_months: int
    n_post: int
    direction: Direction
    null_irr: float
    statistic: float
    p_one_sided: float
    p_two_sided: float
    min_p: float
    irr: float
    ci_low: float
    ci_high: float
    level: float
    requested_level: float
    interval: IntervalKind
    bounded: bool
    contiguous: bool
    grid: pd.DataFrame = field(repr=False, compare=False)
    residuals: pd.DataFrame = field(repr=False, compare=False)
    method: str = "conformal"

    @property
    def min_p_two_sided(self) -> float:
        """``2/T``, the smallest attainable two-sided p-value."""
        return min(1.0, 2.0 * self.min_p)

    @property
    def p_value(self) -> float:
        """The p-value matching the interval: two-sided, or one-sided in ``direction``."""
        return self.p_two_sided if self.interval == "two-sided" else self.p_one_sided

    def tidy(self) -> pd.DataFrame:
        """One row: estimate, interval with its real level, p-values."""
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "method": self.method,
                    "estimate": self.irr,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "level": self.level,
                    "interval": self.interval,
                    "bounded": self.bounded,
                    "null_irr": self.null_irr,
                    "direction": self.direction,
                    "p_one_sided": self.p_one_sided,
                    "p_two_sided": self.p_two_sided,
                    "min_p": self.min_p,
                    "scale": "ratio",
                }
            ]
        )

    def summary(self) -> str:
        """Plain English: the estimate, the interval with its real level, the p-values."""
        what = "fall" if self.direction == "decrease" else "rise"
        null = "no change" if self.null_irr == 1 else f"a rate ratio of {self.null_irr:g}"
        if self.contiguous and np.isfinite(self.ci_low):
            ci = describe_interval(self.ci_low, self.ci_high, self.level)
        else:
            ci = "confidence set not a single interval (see grid)"
        side = "" if self.interval == "two-sided" else f", one-sided for a {what}"
        parts = [
            f"Conformal inference over time ({self.outcome}; {self.n_months} months, "
            f"{self.n_post} from the start): the pilot area had "
            f"{describe_ratio(self.irr)} (rate ratio {self.irr:.2f}; {ci}{side}).",
            f"Against {null}: one-sided test for a {what}, "
            f"{format_p(self.p_one_sided, min_p=self.min_p)}; two-sided, "
            f"{format_p(self.p_two_sided, min_p=self.min_p_two_sided)}.",
            describe_significance(self.p_value, min_p=self._min_p_matching),
        ]
        return " ".join(p for p in parts if p)

    @property
    def _min_p_matching(self) -> float:
        return self.min_p_two_sided if self.interval == "two-sided" else self.min_p

    def to_estimate(
        self, *, outcome: str | None = None, role: Role = "headline", note: str | None = None
    ) -> Estimate:
        """The ``results.json`` record: rate ratio, interval with its real level, p-value."""
        check_option("role", role, get_args(Role))
        side = (
            "two-sided"
            if self.interval == "two-sided"
            else f"one-sided for a {'fall' if self.direction == 'decrease' else 'rise'}"
        )
        return Estimate(
            outcome=outcome or self.outcome,
            method=self.method,
            estimate=self.irr,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            p_value=self.p_value,
            scale="ratio",
            level=self.level,
            role=role,
            note=note
            or (
                f"conformal inference over time ({self.n_months} months); {side} p-value and "
                f"interval; smallest possible p {self._min_p_matching:.3g}"
                + ("" if self.bounded else "; interval unbounded within the grid")
            ),
        )


def conformal_inference(
    panel: pd.DataFrame,
    *,
    outcome: str | None = None,
    null_irr: float = 1.0,
    direction: Direction = "decrease",
    level: float = 0.95,
    interval: IntervalKind = "two-sided",
    grid: np.ndarray | None = None,
    grid_range: tuple[float, float] = (0.3, 3.0),
    n_grid: int = 401,
    extend_grid: bool = True,
) -> ConformalResult:
    """Conformal inference over time (Chernozhukov, Wüthrich & Zhu 2021) for the rate ratio.

    Parameters
    ----------
    panel
        Long panel (``outcome, area, group, month, count, treated, post``); treated and
        comparison areas are used, the buffer left out.
    outcome
        Which outcome; may be omitted when the panel holds one.
    null_irr
        The null rate ratio ``θ0`` for the reported p-values (1 = no change).
    direction
        Direction of the one-sided test: ``"decrease"`` (a fall, default) or ``"increase"``.
    level
        Requested confidence level; the achievable level closest to it is used and reported.
    interval
        ``"two-sided"`` (default) or ``"one-sided"`` in ``direction`` (an upper bound for a
        fall, a lower bound for a rise).
    grid
        Null values to invert over; default ``n_grid`` log-spaced values on ``grid_range``.
        1 (no change) and ``null_irr`` are always added.
    grid_range, n_grid
        The default grid (0.3 to 3, 401 points: steps of about 0.6 %).
    extend_grid
        When the confidence set reaches an edge of the grid, extend the grid on that side
        (same step, down to 0.01 or up to 100) before calling the set unbounded.

    Returns
    -------
    ConformalResult
        Point estimate, p-values at ``null_irr``, the confidence set's hull with its real
        level and whether it is bounded, the p-value of every grid value and the residuals.

    Notes
    -----
    **Estimand.** The ratio ``θ`` of the treated area's expected post-period counts to what
    an area + month Poisson model predicts from the comparison areas and its own history.

    **Construction** (Chernozhukov, Wüthrich & Zhu 2021, JASA 116(536), sec. 2–3, adapted to
    counts). Under ``H0: θ = θ0`` the treated area's expected count in post month ``t`` is
    ``θ0 · a_1 b_t``. The model ``E[y_it] = a_i b_t θ0^{D_it}`` (``D_it`` = treated area ×
    post month) is fitted by Poisson maximum likelihood with ``θ0`` fixed as an offset, on
    *all* months — the null is imposed on the post period too, which is what makes the
    residuals exchangeable over time under ``H0``. Equivalently, the treated post series is
    rescaled to ``y_post / θ0`` and compared with the counterfactual ``a_1 b_t`` on the
    variance scale implied by the null. Several treated areas are summed into one series.
    Because comparison areas carry no offset, the treated area's fitted values depend on them
    only through their monthly total, so the fit is done exactly on the 2 × T table (treated;
    comparison sum), which makes thousands of comparison areas free.

    The treated series' Pearson residuals ``u_t = (y_t - mu_t) / sqrt(mu_t)`` are the
    conformity scores. The statistic is their signed mean over the post months,
    ``S(u) = mean_{t in post} u_t``; a fall makes it negative. The reference distribution is
    the ``T`` cyclic (moving-block) shifts ``u_{(t + s) mod T}``, ``s = 0..T-1``, which keep the
    serial dependence within blocks: ``p = #{s : S_s at least as extreme as S_0} / T``, with
    "at least as extreme" meaning ``<=`` for a fall and ``>=`` for a rise; the identity shift
    counts, so ``p >= 1/T``. The signed mean targets a sustained change (CWZ's default
    ``sum |u|`` targets any deviation). The two-sided p-value is equal-tailed,
    ``min(1, 2 min(p_fall, p_rise))`` (floor ``2/T``): the absolute mean would fail for nulls
    far from the data, where the residuals of the period the fit gives up on explode and
    every shifted window looks extreme.

    The one-sided p-values are monotone in ``θ0`` (a larger ``θ0`` lowers the post residuals
    and raises the pre residuals), so the confidence set is an interval: ``{θ0 : p(θ0) >
    k/T}`` one-sided with real level ``1 - k/T``, or ``{θ0 : both one-sided p > k/T}``
    two-sided with real level ``1 - 2k/T``; ``k`` is chosen so that the real level is the
    achievable level closest to ``level`` (:func:`closest_achievable_level`; for ``T = 48``
    and 95 %: ``k = 1``, level 0.958). Equivalently a null is rejected iff its p-value (the
    two-sided one, or the one-sided one for a one-sided set) is at most ``1 - real level``;
    the reported p-value at ``null_irr`` and the set use this one rule.

    **Finding the ends.** The set is first found on the grid, which always holds 1 and
    ``null_irr`` exactly (the row at ``null_irr`` is the reported test itself), vectorised over
    the grid; when it reaches an edge of the default grid, the grid is extended (down to 0.01
    and up to 100) before the set is declared unbounded. Each bounded, informative end is then
    located exactly between the last accepted and the first rejected grid value: ``p(θ0)`` is
    a step function, so its boundary is searched for on the log scale by repeated 16-section
    (both ends at once, 15 null values per round; each round keeps the bracket around the
    first rejected value counted from the inside) until the bracket is narrower than
    ``END_RTOL = 1e-10`` relative — about 7 rounds from the default grid. The reported end is
    the bracket's accepted side, so every null value the test has tried inside the interval
    is accepted and the interval is the closure of the accepted set to that precision. Hence,
    for a contiguous set (which the monotone one-sided p-values give), the interval excludes
    ``null_irr`` (1 by default) if and only if the reported p-value is at most
    ``1 - level``. The hull is reported with whether it is bounded and contiguous
    (contiguity is judged on the grid). The point estimate is the Poisson two-way
    fixed-effects DiD estimate.

    **Assumptions.** Under the null the residual series is stationary and weakly dependent
    (approximate exchangeability over time; CWZ Theorems 1–2 give approximate validity when
    the counterfactual model is consistently estimated). Validity does not rest on the number
    of comparison areas. In a seeded simulation of 17 wards (36 + 12 months), the two-sided
    5 % test rejected a true null about 4 % of the time, and its interval covered the true
    rate ratio about 95 % of the time (``tests/inference/test_inference_simulation.py``).
    """
    check_option("direction", direction, get_args(Direction))
    check_option("interval", interval, get_args(IntervalKind))
    level = check_level(level)
    null_irr = check_positive(null_irr, "null_irr")
    pa = panel_arrays(panel, outcome=outcome)
    y = pa.counts
    y2 = _two_rows(y, pa.treated)
    if y2[0, ~pa.post].sum() == 0 or y2[0, pa.post].sum() == 0:
        raise EstimationError(
            f"outcome {pa.outcome!r}: the pilot area has no recorded crimes "
            f"{'before' if y2[0, ~pa.post].sum() == 0 else 'from'} the start, so its rate "
            "ratio cannot be estimated."
        )
    if grid is None:
        lo, hi = grid_range
        if not 0 < lo < hi or n_grid < 3:
            raise OptionError("grid_range must be (low, high) with 0 < low < high, n_grid >= 3")
        grid = np.geomspace(lo, hi, n_grid)
    grid = np.asarray(grid, dtype=float)
    if np.unique(grid).size < 3 or np.any(grid <= 0):
        raise OptionError("the grid needs at least 3 positive null values.")
    # No change (1) and the tested null are always grid values, tested exactly.
    grid = np.unique(np.concatenate([grid, [1.0, null_irr]]))

    n_months = y.shape[1]
    tails = 2 if interval == "two-sided" else 1
    real_level, k = closest_achievable_level(level, n=n_months, tails=tails)
    at_null = conformal_arrays(y, treated=pa.treated, post=pa.post, null_irr=null_irr)
    cells = np.zeros((2, n_months), dtype=bool)
    cells[0, pa.post] = True
    est = fit_poisson_twfe(y2, cells=cells)

    def evaluate(nulls: np.ndarray) -> ConformalArrays:
        return conformal_arrays(y, treated=pa.treated, post=pa.post, null_irr=nulls)

    def accepted(p_dec: np.ndarray, p_inc: np.ndarray) -> np.ndarray:
        # The one rule for the set and for the p-value at the null: accept iff the p-value
        # matching the interval is above k/T (p-values are multiples of 1/T, the half is slack
        # for rounding), i.e. reject iff p <= 1 - real_level.
        if interval == "two-sided":
            p_grid = np.minimum(p_dec, p_inc)
        else:
            p_grid = p_dec if direction == "decrease" else p_inc
        return np.asarray(p_grid > (k + 0.5) / n_months)

    def on_grid(nulls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(statistic, p_decrease, p_increase, p_two_sided) rows over ``nulls``, and accept.

        The row at ``null_irr`` is the reported test itself (``at_null``), so that the set and
        the p-value at the null agree by construction.
        """
        over = evaluate(nulls)
        vals = np.vstack([over.statistic, over.p_decrease, over.p_increase, over.p_two_sided])
        at = np.flatnonzero(nulls == null_irr)
        vals[:, at] = np.array(
            [at_null.statistic, at_null.p_decrease, at_null.p_increase, at_null.p_two_sided],
            dtype=float,
        )[:, None]
        return vals, accepted(vals[1], vals[2])

    vals, accept = on_grid(grid)
    if extend_grid and (accept[0] or accept[-1]):
        step = float(np.median(np.diff(np.log(grid))))
        parts = [grid]
        if accept[0] and grid[0] > _GRID_LIMITS[0]:
            n_lo = int(np.ceil(np.log(grid[0] / _GRID_LIMITS[0]) / step))
            parts.insert(0, grid[0] * np.exp(-step * np.arange(n_lo, 0, -1)))
        if accept[-1] and grid[-1] < _GRID_LIMITS[1]:
            n_hi = int(np.ceil(np.log(_GRID_LIMITS[1] / grid[-1]) / step))
            parts.append(grid[-1] * np.exp(step * np.arange(1, n_hi + 1)))
        if len(parts) > 1:
            grid = np.concatenate(parts)
            vals, accept = on_grid(grid)
    idx = np.flatnonzero(accept)
    if idx.size == 0:
        ci_low = ci_high = float("nan")
        bounded = contiguous = False
    else:
        lo_i, hi_i = int(idx[0]), int(idx[-1])
        contiguous = bool(idx.size == hi_i - lo_i + 1)
        low_open = lo_i == 0
        high_open = hi_i == grid.size - 1
        ci_low, ci_high = 0.0, float("inf")
        # Refine the informative, bounded ends between the last accepted and the first
        # rejected grid value (inner, outer).
        inner: list[float] = []
        outer: list[float] = []
        sides: list[str] = []
        want_low = not low_open and not (interval == "one-sided" and direction == "decrease")
        want_high = not high_open and not (interval == "one-sided" and direction == "increase")
        if want_low:
            inner.append(float(grid[lo_i]))
            outer.append(float(grid[lo_i - 1]))
            sides.append("low")
        if want_high:
            inner.append(float(grid[hi_i]))
            outer.append(float(grid[hi_i + 1]))
            sides.append("high")
        if sides:
            ends, extra, extra_vals = _refine_ends(
                np.array(inner), np.array(outer), evaluate=evaluate, accepted=accepted
            )
            for side, end in zip(sides, ends, strict=True):
                if side == "low":
                    ci_low = float(end)
                else:
                    ci_high = float(end)
            order = np.argsort(np.concatenate([grid, extra]), kind="stable")
            grid = np.concatenate([grid, extra])[order]
            vals = np.concatenate([vals, extra_vals], axis=1)[:, order]
            accept = accepted(vals[1], vals[2])
        if interval == "one-sided":
            bounded = not high_open if direction == "decrease" else not low_open
        else:
            bounded = not (low_open or high_open)
    p_one = at_null.p_decrease if direction == "decrease" else at_null.p_increase
    grid_frame = pd.DataFrame(
        {
            "null_irr": grid,
            "statistic": vals[0],
            "p_decrease": vals[1],
            "p_increase": vals[2],
            "p_two_sided": vals[3],
            "in_set": accept,
        }
    )
    resid_frame = pd.DataFrame(
        {
            "month": pa.months,
            "post": pa.post,
            "observed": y2[0],
            "expected": at_null.expected,
            "residual": at_null.residuals,
        }
    )
    return ConformalResult(
        outcome=pa.outcome,
        treated_areas=pa.treated_areas,
        n_units=len(pa.areas),
        n_months=n_months,
        n_post=int(pa.post.sum()),
        direction=direction,
        null_irr=float(null_irr),
        statistic=float(at_null.statistic),
        p_one_sided=float(p_one),
        p_two_sided=float(at_null.p_two_sided),
        min_p=float(at_null.min_p),
        irr=float(est.irr),
        ci_low=ci_low,
        ci_high=ci_high,
        level=real_level,
        requested_level=float(level),
        interval=interval,
        bounded=bool(bounded),
        contiguous=bool(contiguous),
        grid=grid_frame,
        residuals=resid_frame,
    )
