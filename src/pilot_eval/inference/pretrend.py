"""Pre-existing trends: a pre-trend test with power, a trend-robust DiD and a sensitivity analysis.

A pilot area that was already drifting away from the comparison areas before the start fakes an
effect in every difference-in-differences method: with no effect and a drift of -1 % a month,
they all say about 0.82 and the placebo rank is extreme. Three analyses address it, all valid
with one treated area because their inference comes from the other areas (placebo-in-space):

- :func:`pretrend_test`: the pilot area's monthly pre-period slope relative to the comparison
  areas (a Poisson fit with an area-specific trend), ranked among every area's slope;
- :func:`trend_robust_did`: the DiD with the pilot area's pre-period trend continued into the
  post period, with a size-adjusted placebo interval of the detrended ratio;
- :func:`trend_sensitivity`: a Rambachan & Roth (2023) "relative magnitudes" sensitivity
  analysis on quarterly event-study log ratios, with its breakdown value.

All three work on the two-row collapse of the panel (the pilot area or set against the sum of
the other areas), on which a Poisson model with area and month effects is a binomial logit
of the pilot's share of each month's crimes (conditioning on the month totals removes the
month effects exactly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._checks import check_alpha, check_level, check_whole
from ..errors import EstimationError
from ..results import Estimate, Result, Role
from ..wording import describe_interval, describe_ratio, format_p
from ._common import TIE_RTOL, assignments
from .intervals import closest_achievable_level
from .placebo import panel_arrays

__all__ = [
    "PretrendArrays",
    "PretrendResult",
    "SensitivityArrays",
    "SensitivityResult",
    "TrendRobustArrays",
    "TrendRobustResult",
    "pretrend_arrays",
    "pretrend_test",
    "sensitivity_arrays",
    "trend_robust_arrays",
    "trend_robust_did",
    "trend_sensitivity",
]

_NEWTON_ITER = 30
#: M̄ values at which the sensitivity bounds are reported.
MBAR_GRID = (0.0, 0.5, 1.0, 2.0)


# --------------------------------------------------------------------------------------------
# Array core
# --------------------------------------------------------------------------------------------
def _split(y: np.ndarray, assign: np.ndarray, pool: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pilot-set and comparison series ``(..., K, T)`` for each assignment (rows of ``assign``
    index into ``pool``; the comparison is the rest of ``pool``)."""
    sub = y[..., pool, :]
    total = sub.sum(-2)
    t = sub[..., assign[:, 0], :] if assign.shape[1] == 1 else sub[..., assign, :].sum(-2)
    return t, total[..., None, :] - t


def _haldane(t: np.ndarray, c: np.ndarray, pre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add 0.5 to every month of a series whose pre-period total (pilot or comparison) is 0."""
    zero = (t[..., pre].sum(-1) <= 0) | (c[..., pre].sum(-1) <= 0)
    add = np.where(zero, 0.5, 0.0)[..., None]
    return t + add, c + add


def _expit(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class _TrendFit(NamedTuple):
    a: np.ndarray
    b: np.ndarray
    cov: np.ndarray  # (..., 2, 2), unscaled (phi = 1)
    phi: np.ndarray
    s: np.ndarray  # month index, centred on the pre period, in months


def _fit_trend(t: np.ndarray, n: np.ndarray, pre: np.ndarray) -> _TrendFit:
    """Binomial logit ``t_m ~ Bin(n_m, expit(a + b s_m))`` on the pre months, by Newton."""
    months = np.arange(t.shape[-1], dtype=float)
    s = months - months[pre].mean()
    tp, np_, sp = t[..., pre], n[..., pre], s[pre]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.log(tp.sum(-1) / (np_.sum(-1) - tp.sum(-1)))
    b = np.zeros_like(a)
    for _ in range(_NEWTON_ITER):
        p = _expit(a[..., None] + b[..., None] * sp)
        w = np_ * p * (1.0 - p)
        r = tp - np_ * p
        g0, g1 = r.sum(-1), (r * sp).sum(-1)
        h00, h01, h11 = w.sum(-1), (w * sp).sum(-1), (w * sp * sp).sum(-1)
        det = h00 * h11 - h01**2
        da = (h11 * g0 - h01 * g1) / det
        db = (h00 * g1 - h01 * g0) / det
        a, b = a + da, b + db
        if np.all(np.abs(da) < 1e-10) and np.all(np.abs(db) < 1e-12):
            break
    p = _expit(a[..., None] + b[..., None] * sp)
    w = np_ * p * (1.0 - p)
    h00, h01, h11 = w.sum(-1), (w * sp).sum(-1), (w * sp * sp).sum(-1)
    det = h00 * h11 - h01**2
    cov = (
        np.stack([np.stack([h11, -h01], -1), np.stack([-h01, h00], -1)], -2) / det[..., None, None]
    )
    used = (np_ > 0).sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = np.where(w > 0, (tp - np_ * p) ** 2 / w, 0.0).sum(-1)
        phi = np.where(used > 2, chi / np.maximum(used - 2, 1), np.nan)
    return _TrendFit(a=a, b=b, cov=cov, phi=phi, s=s)


def _check_design(y: np.ndarray, treated: np.ndarray, post: np.ndarray, min_pre: int) -> None:
    if treated.shape != y.shape[-2:-1] or post.shape != y.shape[-1:]:
        raise EstimationError("treated and post must match the counts' area and month axes.")
    n1, n = int(treated.sum()), treated.size
    if not 1 <= n1 < n:
        raise EstimationError(f"need between 1 and {n - 1} treated areas, got {n1}.")
    n_pre = int((~post).sum())
    if n_pre < min_pre:
        raise EstimationError(
            f"a pre-period trend needs at least {min_pre} months before the start; the panel "
            f"has {n_pre}."
        )


class PretrendArrays(NamedTuple):
    """Pre-trend slopes of every assignment ``(..., K)`` and the observed one ``(...)``."""

    slope: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    observed_slope: np.ndarray
    observed_se: np.ndarray
    observed_statistic: np.ndarray
    rank: np.ndarray
    p_value: np.ndarray
    min_p: float
    n_reference: int
    enumerated: bool


def pretrend_arrays(
    counts: np.ndarray,
    *,
    treated: np.ndarray,
    post: np.ndarray,
    max_enumerate: int = 100_000,
    n_draws: int = 9_999,
    seed: int | None = 0,
) -> PretrendArrays:
    """The placebo pre-trend test on arrays (vectorised over leading replication axes).

    See :func:`pretrend_test` for the definitions.
    """
    y = np.asarray(counts, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    post = np.asarray(post, dtype=bool)
    _check_design(y, treated, post, min_pre=4)
    n, n1 = treated.size, int(treated.sum())
    assign, enumerated = assignments(
        n, n1, max_enumerate=max_enumerate, n_draws=n_draws, rng=np.random.default_rng(seed)
    )
    obs = np.flatnonzero(treated)[None, :]
    every = np.arange(n)
    pre = ~post

    def slopes(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t, c = _haldane(*_split(y, rows, every), pre)
        fit = _fit_trend(t, t + c, pre)
        se = np.sqrt(np.maximum(fit.phi, 1e-12) * fit.cov[..., 1, 1])
        return fit.b, se

    b, se = slopes(assign)
    ob, ose = slopes(obs)
    ob, ose = ob[..., 0], ose[..., 0]
    z, oz = b / se, ob / ose
    tol = TIE_RTOL * (1.0 + np.abs(oz))
    n_ext = (np.abs(z) >= (np.abs(oz) - tol)[..., None]).sum(-1)
    k = assign.shape[0]
    if enumerated:
        n_ref, p = k, n_ext / k
    else:
        n_ref, p = k + 1, (1 + n_ext) / (1 + k)
    return PretrendArrays(
        slope=b,
        se=se,
        statistic=z,
        observed_slope=ob,
        observed_se=ose,
        observed_statistic=oz,
        rank=n_ext if enumerated else n_ext + 1,
        p_value=p,
        min_p=1.0 / n_ref,
        n_reference=n_ref,
        enumerated=enumerated,
    )


def _placebo_sets(
    treated: np.ndarray, *, max_enumerate: int, n_draws: int, seed: int | None
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Placebo assignments among the comparison areas only (as in ``intervals.py``)."""
    pool = np.flatnonzero(~treated)
    n1 = int(treated.sum())
    if pool.size - n1 < 1:
        raise EstimationError(
            f"with {n1} treated and {pool.size} comparison areas there are no placebo "
            "estimates: each placebo needs its own comparison areas."
        )
    assign, enumerated = assignments(
        pool.size, n1, max_enumerate=max_enumerate, n_draws=n_draws, rng=np.random.default_rng(seed)
    )
    return pool, assign, enumerated


def _invert(
    est: np.ndarray, se: np.ndarray, z_placebo: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Size-adjusted placebo interval and two-sided p of ``est / se`` among the placebos."""
    m = z_placebo.shape[-1]
    real, k = closest_achievable_level(level, n=m + 1, tails=2)
    z = np.sort(z_placebo, axis=-1)
    lo, hi = est - se * z[..., m - k], est - se * z[..., k - 1]
    oz = est / se
    tol = TIE_RTOL * (1.0 + np.abs(oz))
    p = (1 + (np.abs(z_placebo) >= (np.abs(oz) - tol)[..., None]).sum(-1)) / (m + 1)
    return lo, hi, p, real


def _detrended(t: np.ndarray, c: np.ndarray, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log ratio of post crimes to the pre-trend extrapolation, and its quasi-Poisson scale."""
    pre = ~post
    t, c = _haldane(t, c, pre)
    n = t + c
    fit = _fit_trend(t, n, pre)
    eta = fit.a[..., None] + fit.b[..., None] * fit.s[post]
    tq, nq = t[..., post], n[..., post]
    target = tq.sum(-1)
    target = np.where(target > 0, target, 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.log(target) - np.log((nq * _expit(eta)).sum(-1))
    for _ in range(_NEWTON_ITER):
        p = _expit(eta + d[..., None])
        f = (nq * p).sum(-1)
        dd = (target - f) / (nq * p * (1.0 - p)).sum(-1)
        d = d + dd
        if np.all(np.abs(dd) < 1e-11):
            break
    p = _expit(eta + d[..., None])
    wq = nq * p * (1.0 - p)
    big_d = wq.sum(-1)
    g = np.stack([big_d, (wq * fit.s[post]).sum(-1)], -1)
    quad = np.einsum("...i,...ij,...j->...", g, fit.cov, g)
    phi = np.maximum(fit.phi, 1e-12)
    se = np.sqrt(phi * (1.0 / big_d + quad / big_d**2))
    return d, se


class TrendRobustArrays(NamedTuple):
    """Detrended DiD on arrays: log ratio, scale, interval (log), two-sided p, real level."""

    log_ratio: np.ndarray
    se: np.ndarray
    log_low: np.ndarray
    log_high: np.ndarray
    p_value: np.ndarray
    level: float
    n_placebo: int
    enumerated: bool


def trend_robust_arrays(
    counts: np.ndarray,
    *,
    treated: np.ndarray,
    post: np.ndarray,
    level: float = 0.95,
    max_enumerate: int = 100_000,
    n_draws: int = 9_999,
    seed: int | None = 0,
) -> TrendRobustArrays:
    """:func:`trend_robust_did` on arrays (vectorised over leading replication axes)."""
    level = check_level(level)
    y = np.asarray(counts, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    post = np.asarray(post, dtype=bool)
    _check_design(y, treated, post, min_pre=4)
    pool, assign, enumerated = _placebo_sets(
        treated, max_enumerate=max_enumerate, n_draws=n_draws, seed=seed
    )
    obs = np.flatnonzero(treated)[None, :]
    d1, se1 = (a[..., 0] for a in _detrended(*_split(y, obs, np.arange(treated.size)), post))
    dj, sej = _detrended(*_split(y, assign, pool), post)
    lo, hi, p, real = _invert(d1, se1, dj / sej, level)
    return TrendRobustArrays(
        log_ratio=d1,
        se=se1,
        log_low=lo,
        log_high=hi,
        p_value=p,
        level=real,
        n_placebo=int(assign.shape[0]),
        enumerated=enumerated,
    )


def _bins(post: np.ndarray, width: int) -> np.ndarray:
    """Bin index of each month counted from the start: post bins 0, 1, ...; pre bins -1, -2, ..."""
    months = np.arange(post.size)
    start = int(np.argmax(post))
    return np.floor_divide(months - start, width)


def _event_terms(
    t: np.ndarray, c: np.ndarray, post: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average post event-study log ratio (reference: the last pre bin), its scale, and M."""
    pre = ~post
    t, c = _haldane(t, c, pre)
    b = _bins(post, width)
    keys = np.unique(b)
    tb = np.stack([t[..., b == k].sum(-1) for k in keys], -1)
    cb = np.stack([c[..., b == k].sum(-1) for k in keys], -1)
    # A bin with no crimes on one side gets 0.5 on both (Haldane–Anscombe), as everywhere.
    zero = (tb <= 0) | (cb <= 0)
    tb, cb = tb + 0.5 * zero, cb + 0.5 * zero
    lg = np.log(tb) - np.log(cb)
    var = 1.0 / tb + 1.0 / cb
    ref = int(np.flatnonzero(keys == -1)[0])
    postb = keys >= 0
    theta = lg[..., postb].mean(-1) - lg[..., ref]
    n_post = int(postb.sum())
    v = var[..., postb].sum(-1) / n_post**2 + var[..., ref]
    fit_phi = _fit_trend(t, t + c, pre).phi
    # Quasi-Poisson scale: the pre-period Pearson dispersion of the two-row trend model.
    se = np.sqrt(np.maximum(fit_phi, 1.0) * v)
    prel = lg[..., keys < 0]
    m = np.abs(np.diff(prel, axis=-1)).max(-1)
    return theta, se, m


class SensitivityArrays(NamedTuple):
    """Sensitivity on arrays: ``theta`` (log), scale, interval, ``M``, breakdown, real level."""

    log_effect: np.ndarray
    se: np.ndarray
    log_low: np.ndarray
    log_high: np.ndarray
    m: np.ndarray
    weight: float
    breakdown: np.ndarray
    level: float
    n_post_bins: int
    n_pre_bins: int


def sensitivity_arrays(
    counts: np.ndarray,
    *,
    treated: np.ndarray,
    post: np.ndarray,
    level: float = 0.95,
    bin_months: int = 12,
    max_enumerate: int = 100_000,
    n_draws: int = 9_999,
    seed: int | None = 0,
) -> SensitivityArrays:
    """:func:`trend_sensitivity` on arrays (vectorised over leading replication axes)."""
    level = check_level(level)
    width = check_whole(bin_months, "bin_months")
    y = np.asarray(counts, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    post = np.asarray(post, dtype=bool)
    _check_design(y, treated, post, min_pre=2 * width)
    pool, assign, _ = _placebo_sets(
        treated, max_enumerate=max_enumerate, n_draws=n_draws, seed=seed
    )
    obs = np.flatnonzero(treated)[None, :]
    th, se, m = (
        a[..., 0] for a in _event_terms(*_split(y, obs, np.arange(treated.size)), post, width)
    )
    thj, sej, _ = _event_terms(*_split(y, assign, pool), post, width)
    lo, hi, _, real = _invert(th, se, thj / sej, level)
    b = _bins(post, width)
    n_post_bins = int(np.unique(b[post]).size)
    n_pre_bins = int(np.unique(b[~post]).size)
    weight = (n_post_bins + 1) / 2.0
    gap = np.where(hi < 0, -hi, np.where(lo > 0, lo, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        brk = np.where(gap > 0, gap / (m * weight), 0.0)
    return SensitivityArrays(
        log_effect=th,
        se=se,
        log_low=lo,
        log_high=hi,
        m=m,
        weight=weight,
        breakdown=brk,
        level=real,
        n_post_bins=n_post_bins,
        n_pre_bins=n_pre_bins,
    )


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PretrendResult(Result):
    """Placebo test of a pre-existing trend in the pilot area relative to the comparison areas.

    Attributes
    ----------
    outcome, treated_areas, n_units
        The outcome, the pilot area(s), the number of areas ``N`` (buffer left out).
    slope
        The pilot's monthly pre-period log-scale slope relative to the comparison areas.
    pct_per_month
        ``exp(slope) - 1``: the pilot area's drift per month (-0.01 = 1 % a month down).
    se, statistic
        The slope's quasi-Poisson standard error and ``slope / se``.
    rank, n_reference, p_value, min_p
        Rank of ``|statistic|`` among all assignments (pilot counted), the two-sided placebo
        p-value (``rank / N``, never below ``min_p = 1/N``).
    alpha
        The level at which ``rejects`` is judged (0.10 by default: a warning, not a finding).
    statistics
        One row per assignment: ``assignment``, ``slope``, ``se``, ``statistic``.
    """

    outcome: str
    treated_areas: tuple[str, ...]
    n_units: int
    n_pre: int
    slope: float
    pct_per_month: float
    se: float
    statistic: float
    rank: int
    n_reference: int
    p_value: float
    min_p: float
    alpha: float
    enumerated: bool
    statistics: pd.DataFrame = field(repr=False, compare=False)
    method: str = "pretrend_slope_placebo"

    @property
    def rejects(self) -> bool:
        """The pre-trend is unusual at ``alpha`` (the pilot area was already moving apart)."""
        return self.p_value <= self.alpha + 1e-12

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "method": self.method,
                    "slope": self.slope,
                    "pct_per_month": self.pct_per_month,
                    "se": self.se,
                    "statistic": self.statistic,
                    "rank": self.rank,
                    "n_reference": self.n_reference,
                    "p_value": self.p_value,
                    "min_p": self.min_p,
                    "rejects": self.rejects,
                    "alpha": self.alpha,
                }
            ]
        )

    def summary(self) -> str:
        way = "falling" if self.slope < 0 else "rising"
        first = (
            f"Pre-trend test ({self.outcome}): in the {self.n_pre} months before the start the "
            f"pilot area's crimes were {way} by {abs(self.pct_per_month) * 100:.1f} % a month "
            "relative to the comparison areas; "
            f"{self.rank} of {self.n_reference} "
            + ("areas" if len(self.treated_areas) == 1 else "sets of areas")
            + f" drifted at least as much (two-sided, {format_p(self.p_value, min_p=self.min_p)})."
        )
        if self.rejects:
            second = (
                "The pilot area was already moving differently before the start, so a "
                "before/after comparison with the other areas can show a change the pilot did "
                "not cause: read the trend-adjusted estimate and the sensitivity analysis."
            )
        else:
            second = (
                f"That is not unusual at the {self.alpha:g} level (a test with limited power; "
                "the sensitivity analysis says how much a trend would matter)."
            )
        return f"{first} {second}"


@dataclass(frozen=True)
class TrendRobustResult(Result):
    """DiD with the pilot area's pre-period trend continued into the post period.

    Attributes
    ----------
    ratio, log_ratio, se
        Post-period crimes over the trend-extrapolated expectation (1 = no change beyond the
        trend), its log and quasi-Poisson scale.
    ci_low, ci_high, level
        Size-adjusted placebo interval of the ratio and its real level (1 - 2/N).
    p_value
        Two-sided placebo p of ``log_ratio / se`` among the pilot and the placebo areas.
    slope
        The pilot's pre-period monthly log slope that was continued.
    """

    outcome: str
    treated_areas: tuple[str, ...]
    ratio: float
    log_ratio: float
    se: float
    ci_low: float
    ci_high: float
    level: float
    requested_level: float
    p_value: float
    min_p: float
    n_placebo: int
    slope: float
    method: str = "did_trend_adjusted"

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
                    "min_p": self.min_p,
                    "slope": self.slope,
                    "scale": "ratio",
                }
            ]
        )

    def summary(self) -> str:
        return (
            f"Trend-adjusted comparison ({self.outcome}): continuing the pilot area's own "
            f"pre-start drift against the comparison areas ({(np.expm1(self.slope)) * 100:+.1f} % "
            f"a month), the pilot area had "
            f"{describe_ratio(self.ratio, reference='its trend relative to the other areas')} "
            f"(rate ratio {self.ratio:.2f}; "
            f"{describe_interval(self.ci_low, self.ci_high, self.level)}; two-sided "
            f"{format_p(self.p_value, min_p=self.min_p)}). This assumes the drift would have "
            "continued in a straight line (on the log scale) without the pilot."
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
                "DiD with the pilot area's pre-period log-linear trend relative to the "
                f"comparison areas continued ({np.expm1(self.slope) * 100:+.2f} % a month); "
                "size-adjusted placebo interval of the detrended ratio, real level "
                f"{self.level:.3f}; two-sided placebo p"
            ),
        )


@dataclass(frozen=True)
class SensitivityResult(Result):
    """Rambachan–Roth style sensitivity of the post-period effect to departures from parallel trends.

    Attributes
    ----------
    effect, log_effect, ci_low, ci_high, level
        The average post-period event-study ratio (reference: the last pre-start bin), its
        size-adjusted placebo interval and real level (``M̄ = 0``).
    m
        ``M``: the largest absolute change between consecutive pre-start bins' log ratios.
    breakdown
        The smallest ``M̄`` at which the interval includes 1 (0 if it already does).
    bounds
        One row per ``M̄`` in (0, 0.5, 1, 2): ``mbar, ci_low, ci_high`` (ratio scale).
    """

    outcome: str
    treated_areas: tuple[str, ...]
    bin_months: int
    n_pre_bins: int
    n_post_bins: int
    effect: float
    log_effect: float
    se: float
    ci_low: float
    ci_high: float
    level: float
    m: float
    breakdown: float
    bounds: pd.DataFrame = field(repr=False, compare=False)
    method: str = "sensitivity_relative_magnitudes"

    def bound(self, mbar: float) -> tuple[float, float]:
        """The interval (ratio scale) allowing post departures up to ``mbar * M``."""
        w = (self.n_post_bins + 1) / 2.0
        lo = np.log(self.ci_low) - mbar * self.m * w
        hi = np.log(self.ci_high) + mbar * self.m * w
        return float(np.exp(lo)), float(np.exp(hi))

    def tidy(self) -> pd.DataFrame:
        out = self.bounds.copy()
        out.insert(0, "outcome", self.outcome)
        out.insert(1, "method", self.method)
        out["effect"] = self.effect
        out["M"] = self.m
        out["breakdown"] = self.breakdown
        out["level"] = self.level
        return out

    def to_json(self) -> dict:
        return {
            "outcome": self.outcome,
            "breakdown": float(self.breakdown),
            "M": float(self.m),
            "effect": float(self.effect),
            "level": float(self.level),
            "bin_months": self.bin_months,
            "bounds": [
                {"mbar": float(r.mbar), "ci_low": float(r.ci_low), "ci_high": float(r.ci_high)}
                for r in self.bounds.itertuples()
            ],
        }

    def summary(self) -> str:
        unit = "quarter" if self.bin_months == 3 else f"{self.bin_months}-month period"
        head = (
            f"Sensitivity to pre-existing trends ({self.outcome}): after the start the pilot "
            f"area had {describe_ratio(self.effect, reference='the last ' + unit + ' before it')} "
            f"relative to the comparison areas ("
            + (f"average of the {self.n_post_bins} {unit}s; " if self.n_post_bins > 1 else "")
            + f"{describe_interval(self.ci_low, self.ci_high, self.level)}). Before the start, "
            f"the pilot area's ratio to the other areas changed by up to "
            f"{np.expm1(self.m) * 100:.0f} % from one {unit} to the next."
        )
        if self.breakdown <= 0:
            tail = (
                "The interval already includes no change, so there is no clear change for a "
                "trend to explain away."
            )
        else:
            tail = (
                "The result would no longer exclude no change if the pilot area's trend after "
                "the start had departed from the comparison areas' by more than "
                f"{self.breakdown:.2f} times the largest departure seen before the start"
                + (
                    " (less than the departures already seen: treat the result with caution)."
                    if self.breakdown < 1
                    else "."
                )
            )
        return f"{head} {tail}"


# --------------------------------------------------------------------------------------------
# Panel-level
# --------------------------------------------------------------------------------------------
def pretrend_test(
    panel: pd.DataFrame,
    *,
    outcome: str | None = None,
    alpha: float = 0.10,
    max_enumerate: int = 100_000,
    n_draws: int = 9_999,
    seed: int | None = 0,
) -> PretrendResult:
    """Placebo test of the pilot area's monthly pre-period trend relative to the comparison areas.

    Parameters
    ----------
    panel
        Long panel (``outcome, area, group, month, count, treated, post``); buffer left out.
    outcome
        Which outcome; may be omitted when the panel holds one.
    alpha
        Level at which :attr:`PretrendResult.rejects` is judged (0.10: a pre-trend warning
        should err towards warning).
    max_enumerate, n_draws, seed
        As in :func:`~pilot_eval.inference.placebo_in_space`.

    Returns
    -------
    PretrendResult

    Notes
    -----
    **Statistic.** For the pilot area (or set) ``P`` with monthly crimes ``t_m`` and the other
    areas' ``c_m``, a Poisson model with area and month effects and a pilot-specific linear
    trend, fitted to the pre-start months, is the binomial logit
    ``t_m ~ Bin(t_m + c_m, expit(a + b m))`` (conditioning on each month's total removes the
    month effects). ``b`` is the monthly log-scale drift of the pilot relative to the others;
    it is studentised by its quasi-binomial standard error (Pearson dispersion of the fit), so
    large and small areas are comparable. A pre-period total of zero gets 0.5 added.

    **Inference.** Placebo-in-space, the conventions of :mod:`~pilot_eval.inference.placebo`:
    every area (every set of ``N1`` areas) in turn is the "pilot", the others its comparison;
    the two-sided p-value is ``#{|z_j| >= |z_pilot|} / N`` with the pilot counted, never below
    ``1/N``. Valid with one treated area under exchangeability of the areas' pre-period drifts.
    Unlike the quarterly event-study joint test, it spends all its power on the one departure
    that fakes an effect most often (a steady drift); it does not see a break just before the
    start (the event study and the sensitivity analysis do).

    **Source.** Placebo-in-space: Abadie, Diamond & Hainmueller (2010); pre-trend testing and
    its low power: Roth (2022, AER: Insights).
    """
    alpha = check_alpha(alpha)
    pa = panel_arrays(panel, outcome=outcome)
    arr = pretrend_arrays(
        pa.counts,
        treated=pa.treated,
        post=pa.post,
        max_enumerate=max_enumerate,
        n_draws=n_draws,
        seed=seed,
    )
    names = np.asarray(pa.areas, dtype=object)
    assign, _ = assignments(
        len(pa.areas),
        int(pa.treated.sum()),
        max_enumerate=max_enumerate,
        n_draws=n_draws,
        rng=np.random.default_rng(seed),
    )
    frame = pd.DataFrame(
        {
            "assignment": ["+".join(names[r]) for r in assign],
            "slope": arr.slope,
            "se": arr.se,
            "statistic": arr.statistic,
        }
    )
    return PretrendResult(
        outcome=pa.outcome,
        treated_areas=pa.treated_areas,
        n_units=len(pa.areas),
        n_pre=int((~pa.post).sum()),
        slope=float(arr.observed_slope),
        pct_per_month=float(np.expm1(arr.observed_slope)),
        se=float(arr.observed_se),
        statistic=float(arr.observed_statistic),
        rank=int(arr.rank),
        n_reference=int(arr.n_reference),
        p_value=float(arr.p_value),
        min_p=float(arr.min_p),
        alpha=alpha,
        enumerated=bool(arr.enumerated),
        statistics=frame,
    )


def trend_robust_did(
    panel: pd.DataFrame,
    *,
    outcome: str | None = None,
    level: float = 0.95,
    max_enumerate: int = 100_000,
    n_draws: int = 9_999,
    seed: int | None = 0,
) -> TrendRobustResult:
    """Difference-in-differences with the pilot area's pre-period trend continued.

    Parameters
    ----------
    panel
        Long panel (``outcome, area, group, month, count, treated, post``); buffer left out.
    outcome
        Which outcome; may be omitted when the panel holds one.
    level
        Requested interval level; the closest achievable one (``1 - 2k/(M + 1)`` with ``M``
        placebos) is used and reported.
    max_enumerate, n_draws, seed
        Placebo sets among the comparison areas, as in
        :func:`~pilot_eval.inference.size_adjusted_interval`.

    Returns
    -------
    TrendRobustResult

    Notes
    -----
    **Estimand.** The incidence-rate ratio of the pilot area's post-period crimes to what the
    comparison areas' months and the pilot area's own pre-period drift relative to them
    predict: a Poisson model ``log mu_im = alpha_i + gamma_m + b m [i = pilot] + delta
    [i = pilot, post]`` with the trend ``b`` fitted on the pre months only (binomial logit of
    the pilot's share, see :func:`pretrend_test`) and ``delta`` solving
    ``sum_post t_m = sum_post n_m expit(a + b m + delta)``. ``exp(delta)`` is the ratio.

    **Scale.** Delta method: ``Var(delta) = phi (1/D + g' V g / D^2)`` with
    ``D = sum_post n p (1 - p)``, ``g = sum_post n p (1 - p) (1, m)`` and ``V`` the pre fit's
    covariance (extrapolation error included); ``phi`` the pre fit's Pearson dispersion.

    **Interval.** Size-adjusted placebo (Ferman & Pinto 2019), as the headline's: each
    comparison area (set) with the other comparison areas as its comparison gives a
    studentised detrended statistic ``z_j``; inverting ``(delta - log theta) / se`` among them
    gives an interval of real level ``1 - 2k/(M + 1)`` (15/17 with 16 comparison wards) and a
    two-sided p ``(1 + #{|z_j| >= |z|}) / (M + 1)``. Valid with one treated area when the
    areas' studentised detrended errors are exchangeable.

    **Assumption.** Without the pilot, the pilot area's drift relative to the others would
    have continued linearly on the log scale for the post period. A drift that was about to
    stop makes this estimate wrong in the other direction; it is a check, not the headline.

    **Source.** Area-specific linear trends in DiD: e.g. Wooldridge (2021), Angrist & Pischke
    (2009, §5.2); placebo inference: Conley & Taber (2011), Ferman & Pinto (2019).
    """
    level = check_level(level)
    pa = panel_arrays(panel, outcome=outcome)
    arr = trend_robust_arrays(
        pa.counts,
        treated=pa.treated,
        post=pa.post,
        level=level,
        max_enumerate=max_enumerate,
        n_draws=n_draws,
        seed=seed,
    )
    pre = ~pa.post
    obs = np.flatnonzero(pa.treated)[None, :]
    t, c = _haldane(*_split(pa.counts, obs, np.arange(len(pa.areas))), pre)
    slope = float(_fit_trend(t, t + c, pre).b[0])
    return TrendRobustResult(
        outcome=pa.outcome,
        treated_areas=pa.treated_areas,
        ratio=float(np.exp(arr.log_ratio)),
        log_ratio=float(arr.log_ratio),
        se=float(arr.se),
        ci_low=float(np.exp(arr.log_low)),
        ci_high=float(np.exp(arr.log_high)),
        level=float(arr.level),
        requested_level=level,
        p_value=float(arr.p_value),
        min_p=1.0 / (arr.n_placebo + 1),
        n_placebo=arr.n_placebo,
        slope=slope,
    )


def trend_sensitivity(
    panel: pd.DataFrame,
    *,
    outcome: str | None = None,
    level: float = 0.95,
    bin_months: int = 12,
    mbar: tuple[float, ...] = MBAR_GRID,
    max_enumerate: int = 100_000,
    n_draws: int = 9_999,
    seed: int | None = 0,
) -> SensitivityResult:
    """How large a departure from parallel trends would explain the effect away (breakdown M̄).

    Parameters
    ----------
    panel
        Long panel (``outcome, area, group, month, count, treated, post``); buffer left out.
    outcome
        Which outcome; may be omitted when the panel holds one.
    level
        Requested level of the ``M̄ = 0`` interval (closest achievable, reported).
    bin_months
        Width of the event-study bins, counted back and forward from the start (12: years;
        quarterly bins of one ward are so noisy that M is mostly noise and the breakdown
        value is near 0 for any effect).
    mbar
        The ``M̄`` values whose bounds are reported.
    max_enumerate, n_draws, seed
        Placebo sets among the comparison areas.

    Returns
    -------
    SensitivityResult

    Notes
    -----
    **Event study.** On the two-row collapse (pilot vs the other areas) each bin ``k`` has a
    log ratio ``L_k = log(T_k / C_k)``; the Poisson event-study coefficient with month effects
    and the last pre-start bin as reference is exactly ``beta_k = L_k - L_{-1}``. The effect
    is the average post-period coefficient ``theta = mean_{k >= 0} beta_k`` (its ratio
    ``exp(theta)``), with quasi-Poisson scale ``sqrt(phi (sum_post (1/T_k + 1/C_k) / P^2 +
    1/T_{-1} + 1/C_{-1}))`` and a size-adjusted placebo interval (as
    :func:`trend_robust_did`), real level ``1 - 2k/(M + 1)``.

    **M.** The largest departure from parallel trends seen before the start:
    ``M = max_k |beta_k - beta_{k-1}|`` over consecutive pre-start bins (a change in the
    pilot's ratio to the others from one quarter to the next, as in the "relative magnitudes"
    restriction of Rambachan & Roth 2023, §2.4.2).

    **Bounds.** Allowing each post-start bin's departure to change by at most ``M̄ M`` from the
    previous one (starting from 0 at the reference bin), the bias of bin ``k = 0, …, P - 1`` is
    at most ``(k + 1) M̄ M`` and that of the average at most ``M̄ M (P + 1) / 2``; the interval
    becomes ``[lo - M̄ M (P + 1)/2, hi + M̄ M (P + 1)/2]`` on the log scale. The **breakdown
    value** is the smallest ``M̄`` whose interval includes 1 (0 when the ``M̄ = 0`` interval
    already does): ``gap / (M (P + 1)/2)`` with ``gap`` the distance of the nearer end from 0.
    ``M`` is treated as known (its sampling noise, which is large with quarterly bins of one
    area, is not propagated; Rambachan & Roth's conditional/hybrid intervals do account for
    it), so the bounds are the union-bound form of their ``Delta^RM(M̄)`` identified set plus
    the ``M̄ = 0`` interval. A breakdown below 1 says the result could be explained by a
    post-start departure no larger than those already seen before the start.

    **Source.** Rambachan, A. & Roth, J. (2023), "A More Credible Approach to Parallel
    Trends", Review of Economic Studies 90(5); adapted to log rate ratios and one treated area.
    """
    level = check_level(level)
    pa = panel_arrays(panel, outcome=outcome)
    arr = sensitivity_arrays(
        pa.counts,
        treated=pa.treated,
        post=pa.post,
        level=level,
        bin_months=bin_months,
        max_enumerate=max_enumerate,
        n_draws=n_draws,
        seed=seed,
    )
    mb = np.asarray([float(v) for v in mbar])
    if np.any(mb < 0) or not np.all(np.isfinite(mb)):
        raise EstimationError("mbar values must be finite and at least 0.")
    m = float(arr.m)
    lo = float(arr.log_low) - mb * m * arr.weight
    hi = float(arr.log_high) + mb * m * arr.weight
    bounds = pd.DataFrame({"mbar": mb, "ci_low": np.exp(lo), "ci_high": np.exp(hi)})
    return SensitivityResult(
        outcome=pa.outcome,
        treated_areas=pa.treated_areas,
        bin_months=int(bin_months),
        n_pre_bins=arr.n_pre_bins,
        n_post_bins=arr.n_post_bins,
        effect=float(np.exp(arr.log_effect)),
        log_effect=float(arr.log_effect),
        se=float(arr.se),
        ci_low=float(np.exp(arr.log_low)),
        ci_high=float(np.exp(arr.log_high)),
        level=float(arr.level),
        m=m,
        breakdown=float(arr.breakdown),
        bounds=bounds,
    )
