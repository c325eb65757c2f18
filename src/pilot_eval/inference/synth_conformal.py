"""Conformal interval for the synthetic control (Chernozhukov, Wüthrich & Zhu 2021).

The synthetic control alone (:func:`~pilot_eval.estimators.synth.synthetic_control`) gives a
placebo rank, not an interval. Conformal inference over time gives one that holds with one
treated area: impose a null multiplicative effect ``theta`` on the pilot area's post months,
refit the synthetic control (with a level shift) on *all* months, and ask whether the post
months' residuals are unusual among every cyclic shift of the residual series. The set of
``theta`` not rejected is the interval.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._checks import check_level, check_positive
from ..errors import EstimationError
from ..estimators.synth import simplex_weights
from ..parallel import map_chunks
from ..results import Estimate, Result, Role
from ..wording import describe_interval, describe_ratio, format_p
from ._common import TIE_RTOL
from .conformal import END_RTOL
from .intervals import closest_achievable_level
from .placebo import panel_arrays

__all__ = ["SynthConformalResult", "SynthTest", "synth_conformal", "synth_conformal_test"]

_GRID = np.exp(np.linspace(np.log(0.1), np.log(10.0), 93))


class SynthTest(NamedTuple):
    """One conformal test of ``theta``: statistic and one-sided/two-sided p-values."""

    statistic: float
    p_decrease: float
    p_increase: float
    p_two_sided: float
    weights: np.ndarray
    intercept: float


def synth_conformal_test(
    target: np.ndarray, donors: np.ndarray, post: np.ndarray, theta: float
) -> SynthTest:
    """Test the null "the pilot's post months are ``theta`` times what they would have been".

    ``target`` (T,), ``donors`` (T, J) monthly counts, ``post`` (T,) mask. The post months of
    ``target`` are divided by ``theta``; demeaned simplex weights are fitted on all months
    (intercept = difference of means: a level shift); the residuals' post mean is compared
    with that of every cyclic shift (moving block of the post length), the observed one
    counted, so p-values are multiples of ``1/T``.
    """
    y = np.asarray(target, dtype=float).copy()
    A = np.asarray(donors, dtype=float)
    post = np.asarray(post, dtype=bool)
    y[post] = y[post] / theta
    ym, am = y.mean(), A.mean(0)
    w = simplex_weights(y - ym, A - am)
    mu = ym - am @ w
    u = y - mu - A @ w
    t = u.size
    idx = (np.arange(t)[:, None] + np.arange(t)[None, :]) % t  # row s: shift by s
    shifted = u[idx][:, post]  # (T shifts, post months)
    s = shifted.mean(1)
    obs = s[0]
    tol = TIE_RTOL * (1.0 + abs(obs))
    p_dec = float(np.mean(s <= obs + tol))
    p_inc = float(np.mean(s >= obs - tol))
    return SynthTest(
        statistic=float(obs),
        p_decrease=p_dec,
        p_increase=p_inc,
        p_two_sided=min(1.0, 2.0 * min(p_dec, p_inc)),
        weights=w,
        intercept=float(mu),
    )


@dataclass(frozen=True)
class SynthConformalResult(Result):
    """Synthetic-control ratio with its conformal interval (see :func:`synth_conformal`).

    Attributes
    ----------
    ratio
        Post-period crimes over the synthetic control's (weights and level shift fitted on the
        pre-start months): 1 = no change.
    ci_low, ci_high, level
        The conformal interval (inverted test, ends located to ``END_RTOL``) and its real
        level ``1 - 2k/T``; ``ci_low = 0`` / ``ci_high = inf`` when unbounded.
    p_value, p_decrease, p_increase
        The conformal test of no change (``theta = 1``): two-sided (twice the smaller
        one-sided) and both one-sided p-values, multiples of ``1/T``.
    weights
        Donor weights of the pre-start fit (``area, weight``), largest first.
    """

    outcome: str
    treated_area: str
    ratio: float
    intercept: float
    ci_low: float
    ci_high: float
    level: float
    requested_level: float
    p_value: float
    p_decrease: float
    p_increase: float
    min_p: float
    n_months: int
    n_donors: int
    contiguous: bool
    weights: pd.DataFrame = field(repr=False, compare=False)
    method: str = "synthetic_control_conformal"

    @property
    def bounded(self) -> bool:
        return bool(self.ci_low > 0 and np.isfinite(self.ci_high))

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "method": self.method,
                    "estimate": self.ratio,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "level": self.level,
                    "p_value": self.p_value,
                    "p_decrease": self.p_decrease,
                    "p_increase": self.p_increase,
                    "min_p": self.min_p,
                    "scale": "ratio",
                }
            ]
        )

    def summary(self) -> str:
        top = self.weights.head(3)
        mix = ", ".join(f"{a} {w:.0%}" for a, w in zip(top["area"], top["weight"], strict=True))
        return (
            f"Synthetic control with a conformal interval ({self.outcome}): against a weighted "
            f"mix of comparison areas (mostly {mix}) plus a level shift, the pilot area had "
            f"{describe_ratio(self.ratio, reference='its synthetic control')} "
            f"(rate ratio {self.ratio:.2f}; "
            f"{describe_interval(self.ci_low, self.ci_high, self.level)}; two-sided "
            f"{format_p(self.p_value, min_p=self.min_p)}, from comparing the months after the "
            f"start with every other run of {self.n_months} months' residuals). Valid with one "
            "treated area if the pilot area's deviations from its synthetic control are alike "
            "from month to month."
        )

    def to_estimate(self, *, outcome: str | None = None, role: Role = "robustness") -> Estimate:
        return Estimate(
            outcome=outcome or self.outcome,
            method=self.method,
            estimate=self.ratio,
            ci_low=self.ci_low,
            ci_high=self.ci_high,
            p_value=self.p_value,
            scale="ratio",
            level=self.level,
            role=role,
            note=(
                "synthetic control (simplex weights plus a level shift) with a conformal "
                "interval over time (Chernozhukov-Wuthrich-Zhu; null imposed, weights refitted "
                f"on all {self.n_months} months, cyclic shifts), real level {self.level:.3f}; "
                "p_value two-sided (twice the smaller one-sided)"
            ),
        )


def _accepts(
    theta: float, *, target: np.ndarray, donors: np.ndarray, post: np.ndarray, cut: float
) -> bool:
    """Whether the null ratio ``theta`` is inside the set (both one-sided p above ``cut``)."""
    r = synth_conformal_test(target, donors, post, theta)
    return min(r.p_decrease, r.p_increase) > cut


def synth_conformal(
    panel: pd.DataFrame,
    *,
    outcome: str | None = None,
    level: float = 0.95,
    grid: np.ndarray | None = None,
    executor: Executor | None = None,
) -> SynthConformalResult:
    """Synthetic control with a conformal confidence interval for the rate ratio.

    Parameters
    ----------
    panel
        Long panel (``outcome, area, group, month, count, treated, post``) with one treated
        area; the buffer is left out.
    outcome
        Which outcome; may be omitted when the panel holds one.
    level
        Requested level; the closest achievable two-sided level ``1 - 2k/T`` is used and
        reported (0.958 with 48 months).
    grid
        Null ratios tried before the ends are refined (default 93 values from 0.1 to 10,
        log-spaced; 1 is always added).
    executor
        Where the grid's tests run, in chunks (:func:`pilot_eval.parallel.map_chunks`, e.g. a
        Dask cluster's executor); ``None``: here. The numbers are the same either way.

    Returns
    -------
    SynthConformalResult

    Notes
    -----
    **Estimand.** The pilot area's post-period crimes over what its synthetic control
    predicts: a convex combination of the comparison areas' monthly counts plus a constant
    (demeaned synthetic control, Doudchenko & Imbens 2016; Ferman & Pinto 2021), so a pilot
    area larger than every comparison area can still be matched. The point estimate uses
    weights fitted on the pre-start months only.

    **Test of theta.** Chernozhukov, Wüthrich & Zhu (2021, JASA 116(536)), for a
    multiplicative effect: divide the post months by ``theta``, fit the weights and the level
    shift on all ``T`` months (the null imposed), take the residuals ``u_t`` and the statistic
    ``S = mean_post u_t``; the p-value compares ``S`` with its value under each of the ``T``
    cyclic shifts of ``u`` (moving blocks; the observed one counted), so it is a multiple of
    ``1/T``. The two-sided p is twice the smaller one-sided p (equal tails), as in
    :func:`~pilot_eval.inference.conformal_inference`.

    **Interval.** ``{theta : min(p_decrease, p_increase) > k / T}`` with ``1 - 2k/T`` the
    achievable level closest to ``level``; found on a log grid, then each end located between
    its last accepted and first rejected grid value by bisection to relative precision
    ``END_RTOL`` (the idea of the exact ends in ``inference/conformal.py``). If the accepted
    set is not one run of grid values, the interval is its hull and ``contiguous`` is False.

    **Assumptions.** The residuals of the synthetic control under the true ``theta`` are
    exchangeable over time (stationary and weakly dependent); approximately valid with one
    treated area and any number of comparison areas. Serial correlation and a pilot area
    drifting away from every mix of comparison areas break it.
    """
    level = check_level(level)
    pa = panel_arrays(panel, outcome=outcome)
    if int(pa.treated.sum()) != 1:
        raise EstimationError(
            "the synthetic-control interval is built for one pilot area; this panel has "
            f"{int(pa.treated.sum())}"
        )
    if (~pa.treated).sum() < 2:
        raise EstimationError("a synthetic control needs at least two comparison areas.")
    i = int(np.flatnonzero(pa.treated)[0])
    target = pa.counts[i]
    donors = pa.counts[~pa.treated].T
    post = pa.post
    n_months = target.size
    real, k = closest_achievable_level(level, n=n_months, tails=2)
    cut = (k + 0.5) / n_months

    accept = partial(_accepts, target=target, donors=donors, post=post, cut=cut)

    g = _GRID if grid is None else np.asarray(grid, dtype=float)
    if g.size < 3 or np.any(g <= 0):
        raise EstimationError("the grid needs at least 3 positive null values.")
    for v in g:
        check_positive(float(v), "grid value")
    g = np.unique(np.concatenate([g, [1.0]]))
    # The grid's tests are independent: on an executor they run in chunks (same numbers).
    ok = np.array(map_chunks(accept, [float(v) for v in g], executor=executor))

    def refine(inner: float, outer: float) -> float:
        a, r = np.log(inner), np.log(outer)
        while abs(r - a) > END_RTOL:
            mid = 0.5 * (a + r)
            if accept(float(np.exp(mid))):
                a = mid
            else:
                r = mid
        return float(np.exp(a))

    idx = np.flatnonzero(ok)
    if idx.size == 0:
        # Nothing accepted on the grid: report the best-supported value as a degenerate set.
        ci_low = ci_high = float("nan")
        contiguous = False
    else:
        lo_i, hi_i = int(idx[0]), int(idx[-1])
        contiguous = bool(idx.size == hi_i - lo_i + 1)
        ci_low = 0.0 if lo_i == 0 else refine(float(g[lo_i]), float(g[lo_i - 1]))
        ci_high = float("inf") if hi_i == g.size - 1 else refine(float(g[hi_i]), float(g[hi_i + 1]))

    pre = ~post
    ym, am = target[pre].mean(), donors[pre].mean(0)
    w = simplex_weights(target[pre] - ym, donors[pre] - am)
    mu = float(ym - am @ w)
    synth_post = float((mu + donors[post] @ w).sum())
    ratio = float(target[post].sum() / synth_post) if synth_post > 0 else float("nan")
    at1 = synth_conformal_test(target, donors, post, 1.0)
    names = np.asarray(pa.areas, dtype=object)[~pa.treated]
    weights = (
        pd.DataFrame({"area": names, "weight": w})
        .sort_values("weight", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    return SynthConformalResult(
        outcome=pa.outcome,
        treated_area=pa.areas[i],
        ratio=ratio,
        intercept=mu,
        ci_low=ci_low,
        ci_high=ci_high,
        level=real,
        requested_level=level,
        p_value=max(at1.p_two_sided, 1.0 / n_months),
        p_decrease=at1.p_decrease,
        p_increase=at1.p_increase,
        min_p=1.0 / n_months,
        n_months=n_months,
        n_donors=int(donors.shape[1]),
        contiguous=contiguous,
        weights=weights,
    )
