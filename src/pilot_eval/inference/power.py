"""Power of the inference that holds with one treated area: the conformal test's MDE.

* :func:`mde_conformal` -- the minimum detectable rate ratio of conformal inference over time
  (the report's headline test), by simulation from the pre period only;
* :func:`placebo_can_reject` -- whether a placebo-in-space ranking can ever be significant.

The closed-form MDEs of the Wald-type crime-science tests are in
:mod:`pilot_eval.estimators.power`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd

from .._checks import check_alpha, check_option, check_whole
from ..errors import DataValidationError, OptionError
from ..estimators.power import check_power
from ..results import Result
from ..wording import format_number
from .conformal import conformal_arrays
from .placebo import panel_arrays, pre_period_dispersion

__all__ = [
    "MDEConformalResult",
    "MDEDirection",
    "mde_conformal",
    "placebo_can_reject",
]

MDEDirection = Literal["decrease", "increase"]

_DEFAULT_GRID = {
    # 15 rate ratios from no change to a 70 % fall, steps of 0.05.
    "decrease": np.round(np.linspace(1.0, 0.3, 15), 10),
    # 21 rate ratios from no change to a trebling, steps of 0.1.
    "increase": np.round(np.linspace(1.0, 3.0, 21), 10),
}
_P_RTOL = 1e-9  # p-values are multiples of 1/T: compare with alpha without rounding trouble

_CONFORMAL_NOTE = (
    "Power of the conformal test over time by simulation from the pre period only: a Poisson "
    "area + month model fitted to the treated series and the comparison total (pre months), "
    "post-month levels from the pre period's month-of-year pattern, negative-binomial (NB1) "
    "noise at the pre-period dispersions, and the effect multiplying the treated area's post "
    "months. Assumes months are independent given the model: serial correlation or a trend "
    "the model does not capture would make the test less powerful than stated (the MDE is then "
    "optimistic). The dispersion is estimated from the pre period and carries its own "
    "sampling error."
)


@dataclass(frozen=True)
class MDEConformalResult(Result):
    """Detectable rate ratio for conformal inference over time (see :func:`mde_conformal`).

    Attributes
    ----------
    outcome
        The outcome simulated.
    irr_fall, irr_rise
        The smallest change in ``direction`` detected with probability ``power``, as a rate
        ratio (below 1 for a fall, above 1 for a rise); the other direction is NaN (not
        searched). NaN in ``direction`` too when not even the grid's far end reaches the
        power (``detectable`` False).
    pct_change
        The same as a signed percentage (negative for a fall).
    expected_treated_post
        Crimes expected in the treated area over the post months with no change.
    power_curve
        One row per grid value: ``irr`` (the simulated true rate ratio), ``power`` (share of
        the ``n_sims`` panels in which the test rejects no change *and* shows a change in
        ``direction``), ``mc_se`` (its Monte Carlo standard error) and ``reject_any`` (share
        rejecting in either direction; at ``irr = 1`` the test's size).
    alpha, power, two_sided, direction
        The planned test and the wanted probability of detection.
    n_sims, seed
        Simulated panels per grid value (the same panels, common random numbers, for every
        value) and the seed.
    dispersion, dispersion_comparison
        Variance-to-mean ratios (at least 1) used for the treated series and the comparison
        total, estimated from the pre period.
    n_pre, n_post
        Months before and from the start.
    min_p
        The test's smallest attainable p-value, ``2/T`` two-sided or ``1/T`` one-sided; above
        ``alpha`` the test can never reject.
    detectable
        Whether some change within the grid reaches the wanted power.
    """

    outcome: str
    irr_fall: float
    irr_rise: float
    pct_change: float
    expected_treated_post: float
    power_curve: pd.DataFrame = field(repr=False, compare=False)
    alpha: float = 0.05
    power: float = 0.8
    two_sided: bool = True
    direction: MDEDirection = "decrease"
    n_sims: int = 200
    seed: int = 0
    dispersion: float = 1.0
    dispersion_comparison: float = 1.0
    n_pre: int = 0
    n_post: int = 0
    min_p: float = 0.0
    detectable: bool = False
    method: str = "conformal_simulation"
    note: str = _CONFORMAL_NOTE

    @property
    def irr(self) -> float:
        """The detectable rate ratio in ``direction``."""
        return self.irr_fall if self.direction == "decrease" else self.irr_rise

    @property
    def pct_fall(self) -> float:
        """Detectable fall in per cent (positive); NaN if not detectable or not searched."""
        return 100.0 * (1.0 - self.irr_fall)

    @property
    def pct_rise(self) -> float:
        """Detectable rise in per cent; NaN if not detectable or not searched."""
        return 100.0 * (self.irr_rise - 1.0)

    @property
    def crimes_change(self) -> float:
        """The detectable change in crimes over the post period (negative for a fall)."""
        return self.expected_treated_post * (self.irr - 1.0)

    def tidy(self) -> pd.DataFrame:
        """One row: the detectable ratio and change with the design."""
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "method": self.method,
                    "term": "mde_fall" if self.direction == "decrease" else "mde_rise",
                    "irr": self.irr,
                    "pct_change": self.pct_change,
                    "crimes_change": self.crimes_change,
                    "detectable": self.detectable,
                    "alpha": self.alpha,
                    "power": self.power,
                    "two_sided": self.two_sided,
                    "direction": self.direction,
                    "n_sims": self.n_sims,
                    "dispersion": self.dispersion,
                    "n_pre": self.n_pre,
                    "n_post": self.n_post,
                }
            ]
        )

    def summary(self) -> str:
        """Plain English: the change the conformal test detects ``power`` of the time."""
        what = "fall" if self.direction == "decrease" else "rise"
        sides = "two-sided" if self.two_sided else f"one-sided for a {what}"
        design = (
            f"Simulating the conformal test over time ({sides}, alpha = {self.alpha:g}) on "
            f"{self.n_sims} panels like the {self.n_pre} months before the start "
            f"({self.n_post} months after; dispersion {self.dispersion:.1f})"
        )
        if self.min_p > self.alpha * (1 + _P_RTOL):
            return (
                f"{design}: with {self.n_pre + self.n_post} months the test's smallest possible "
                f"p-value is {self.min_p:.3g}, above alpha = {self.alpha:g}, so the pilot cannot "
                "reliably detect any change, however large. Treat any result as descriptive only."
            )
        if not self.detectable:
            curve = self.power_curve
            far = curve.iloc[int(np.argmax(np.abs(np.log(curve["irr"].to_numpy()))))]
            far_pct = abs(100.0 * (far["irr"] - 1.0))
            return (
                f"{design}: even a {what} of {far_pct:.0f} % (rate ratio {far['irr']:.2f}) is "
                f"detected only {100 * far['power']:.0f} % of the time, short of "
                f"{100 * self.power:.0f} %. The pilot cannot reliably detect any plausible "
                "change: a non-significant result would say nothing about whether it worked."
            )
        pct = abs(self.pct_change)
        crimes = abs(self.crimes_change)
        return (
            f"{design}: the conformal test detects a {what} of {pct:.0f} % or more (rate ratio "
            f"{self.irr:.2f}, about {format_number(crimes, 0)} crimes of the "
            f"{format_number(self.expected_treated_post, 0)} expected) {100 * self.power:.0f} % of the "
            "time; smaller real changes may go undetected."
        )


def _treated_dispersion(y2_pre: np.ndarray, phi_comparison: float) -> tuple[float, float]:
    """Treated-series and pooled dispersion from the 2 × T0 pre-period table.

    The Pearson chi-square of the treated row, ``X1 = sum_t (y1t - mu1t)^2 / mu1t``, has
    expectation ``(T0 - 1)(p2^2 phi1 + p1 p2 phi2)`` (``p1``, ``p2`` the rows' shares; the
    month effects are mostly set by the comparison total, whose noise leaks into the treated
    residuals with weight ``p1``). Solved for ``phi1`` by the method of moments; with equal
    dispersions it reduces to ``X1 / ((T0 - 1) p2)``. Returns ``(phi1, pooled)`` where
    ``pooled`` is the whole table's Pearson chi-square / df; both before flooring at 1, and
    ``(1, 1)`` when a row has no crimes.
    """
    rows = y2_pre.sum(-1)
    cols = y2_pre.sum(-2)
    total = rows.sum()
    if total <= 0 or rows[0] <= 0 or rows[1] <= 0:
        return 1.0, 1.0
    df = max(int((cols > 0).sum()) - 1, 1)
    mu = rows[:, None] * cols[None, :] / total
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = np.where(mu > 0, (y2_pre - mu) ** 2 / mu, 0.0)
    pooled = float(chi.sum() / df)
    if not math.isfinite(phi_comparison):
        return pooled, pooled
    p1 = float(rows[0] / total)
    p2 = 1.0 - p1
    phi1 = (float(chi[0].sum()) / df - phi_comparison * p1 * p2) / (p2 * p2)
    return phi1, pooled


def _nb1(
    rng: np.random.Generator, mean: np.ndarray, phi: float, size: tuple[int, ...]
) -> np.ndarray:
    """Negative-binomial (NB1: variance ``phi`` x mean) counts as a gamma–Poisson mixture."""
    mean = np.broadcast_to(mean, size)
    if phi <= 1.0 + 1e-12:
        return rng.poisson(mean).astype(float)
    scale = phi - 1.0
    lam = np.zeros(size)
    pos = mean > 0
    lam[pos] = rng.gamma(mean[pos] / scale, scale)
    return rng.poisson(lam).astype(float)


def _nb1_coupled(
    rng: np.random.Generator,
    mean: np.ndarray,
    phi: float,
    thetas: np.ndarray,
    size: tuple[int, ...],
) -> np.ndarray:
    """NB1 counts with mean ``theta * mean`` for every ``theta`` (descending), coupled.

    Common random numbers that make the counts non-increasing in ``theta`` path by path while
    each ``theta`` keeps the exact NB1 law: the latent gamma rate is a gamma process in the
    shape (``lam(theta') = lam(theta) * Beta(r theta', r (theta - theta'))`` for ``theta' <
    theta``, ``r = mean / (phi - 1)``), and the counts are its Poisson process thinned
    (``y(theta') = Binomial(y(theta), lam(theta') / lam(theta))``). Returns shape
    ``(len(thetas), *size)``.
    """
    mean = np.broadcast_to(mean, size)
    out = np.empty((len(thetas), *size))
    poisson = phi <= 1.0 + 1e-12
    pos = mean > 0
    if poisson:
        lam = thetas[0] * mean
    else:
        scale = phi - 1.0
        shape = mean[pos] / scale
        lam = np.zeros(size)
        lam[pos] = rng.gamma(thetas[0] * shape, scale)
    y = rng.poisson(lam)
    out[0] = y
    for k in range(1, len(thetas)):
        if poisson:
            keep = np.full(size, thetas[k] / thetas[k - 1])
        else:
            # lam(theta_k) / lam(theta_{k-1}) of a gamma process in the shape.
            keep = np.zeros(size)
            keep[pos] = rng.beta(shape * thetas[k], shape * (thetas[k - 1] - thetas[k]))
        y = rng.binomial(y, keep)
        out[k] = y
    return out


def _month_levels(pre_levels: np.ndarray, months: pd.DatetimeIndex, post: np.ndarray) -> np.ndarray:
    """Month effects for every month: fitted in the pre period, projected after it.

    A post month gets the mean of the pre months of the same calendar month (the pre period's
    month-of-year pattern at its average level over those months); a calendar month the pre
    period lacks gets the mean of all pre months.
    """
    levels = np.empty(len(months))
    levels[~post] = pre_levels
    moy = np.asarray(months.month)
    pre_moy = moy[~post]
    overall = float(pre_levels.mean())
    for t in np.flatnonzero(post):
        same = pre_moy == moy[t]
        levels[t] = float(pre_levels[same].mean()) if same.any() else overall
    return levels


def mde_conformal(
    panel: pd.DataFrame,
    *,
    outcome: str | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    direction: MDEDirection = "decrease",
    two_sided: bool = True,
    n_sims: int = 200,
    seed: int = 0,
    grid: np.ndarray | list[float] | None = None,
) -> MDEConformalResult:
    """Minimum detectable rate ratio of the conformal test over time, by simulation.

    Design-based and computed from the **pre period only**, so it can be shown before the
    result without looking at the post period.

    Parameters
    ----------
    panel
        Long panel in the contract of :mod:`pilot_eval.columns` (treated and comparison areas;
        the buffer is left out, as in :func:`~pilot_eval.inference.conformal_inference`). Only
        pre-period counts are read; the ``post`` column gives the number and calendar months of
        the post period.
    outcome
        Which outcome; may be omitted when the panel holds one.
    alpha
        Level of the planned test.
    power
        Wanted probability of detecting the effect (e.g. 0.8).
    direction
        ``"decrease"`` (a fall, default) or ``"increase"``: the direction searched and, when
        one-sided, the direction of the test.
    two_sided
        Plan the equal-tailed two-sided test (the report's convention, default) or the
        one-sided test in ``direction``. Power is the rate at which that test rejects no
        change on the ``direction`` side.
    n_sims
        Simulated panels ``R`` per grid value (the same panels for every value).
    seed
        Seed of :func:`numpy.random.default_rng`.
    grid
        True rate ratios to simulate; default 1, 0.95, ..., 0.30 for a fall and 1, 1.1, ...,
        3 for a rise. All must lie on the side of 1 given by ``direction``.

    Returns
    -------
    MDEConformalResult
        The detectable ratio (``irr_fall`` or ``irr_rise``; NaN with ``detectable`` False when
        the grid's far end does not reach ``power``), the power curve with Monte Carlo
        standard errors, the dispersions and the design.

    Notes
    -----
    **Model** (the one :func:`~pilot_eval.inference.conformal_arrays` fits). Several treated
    areas are summed into one series and the comparison areas into their total, giving a
    2 × T table. A Poisson area + month model is fitted to its pre months (closed form,
    ``mu_it = y_i. y_.t / y_..``). Post-month levels continue the pre period's month-of-year
    pattern (the mean fitted level of the same calendar month; the pre-period mean for a
    calendar month not seen before the start); the treated series keeps its pre-period share.

    **Dispersion.** The comparison total's variance-to-mean ratio ``phi2`` is the Pearson
    chi-square / df of the comparison areas' own pre-period area + month fit
    (:func:`~pilot_eval.inference.pre_period_dispersion`; with one comparison area, the pooled
    2 × T value). The treated series' ``phi1`` solves ``X1 = (T0 - 1)(p2^2 phi1 +
    p1 p2 phi2)`` for the treated row's Pearson chi-square ``X1`` in the 2 × T0 pre fit
    (method of moments; ``X1 / ((T0 - 1) p2)`` when the dispersions are equal). Both are
    floored at 1 (Poisson).

    **Simulation.** ``R`` panels of the full length with NB1 noise (gamma–Poisson, variance
    ``phi`` x mean) at those dispersions; the treated post months have mean ``theta`` x their
    no-change level. Common random numbers: the pre months and the comparison total are
    drawn once, and the treated post counts for every ``theta`` are coupled (a gamma process
    thinned, each ``theta`` with its exact NB1 law), so a panel's counts fall as ``theta``
    falls and the power curve is monotone up to the test's own discreteness. Month shocks
    common to every area are left out: the month effects absorb them. Each panel is tested
    with :func:`~pilot_eval.inference.conformal_arrays` at the null of no change. A
    detection is a rejection at ``alpha`` on the ``direction`` side: ``min(1, 2 p_dir) <=
    alpha`` for the equal-tailed two-sided test (floor ``2/T``), ``p_dir <= alpha`` one-sided
    (floor ``1/T``), with ``p_dir`` the one-sided p-value in ``direction``. (A two-sided
    rejection because the area moved the other way is not a detection; counting it would make
    the curve dip just below ``theta = 1``.) ``reject_any`` counts both sides: at
    ``theta = 1`` it is the test's size (at most ``2/T`` = 4.2 % for T = 48, alpha = 0.05).

    **MDE.** Grid values are taken in order of distance from 1; the MDE is the first at which
    the power reaches ``power``, interpolated linearly in ``theta`` from the one before (if
    the first grid value already reaches it, that value is returned: the MDE is at most it).
    Monte Carlo error: ``mc_se = sqrt(p (1 - p) / R)`` (0.028 at p = 0.8, R = 200), so the
    MDE's ratio is uncertain by about ``0.028 / slope`` of the power curve (about +-0.01 to
    0.02 for a typical ward).

    **Assumptions.** Months independent given the model (serial correlation makes the
    conformal test less powerful than stated here, so the MDE is then optimistic); NB1
    noise at the pre-period dispersion, itself estimated with error; the comparison areas
    unaffected by the pilot.

    References
    ----------
    Chernozhukov, V., Wüthrich, K., & Zhu, Y. (2021). *JASA*, 116(536), 1849-1864.
    """
    check_option("direction", direction, get_args(MDEDirection))
    alpha = check_alpha(alpha)
    power = check_power(power)
    n_sims = check_whole(n_sims, "n_sims", minimum=10)
    if grid is None:
        thetas = _DEFAULT_GRID[direction].copy()
    else:
        thetas = np.unique(np.asarray(grid, dtype=float))
        if thetas.size < 2 or not np.all(np.isfinite(thetas)) or np.any(thetas <= 0):
            raise OptionError("grid needs at least 2 positive, finite rate ratios.")
        wrong = thetas > 1 if direction == "decrease" else thetas < 1
        if np.any(wrong):
            raise OptionError(
                f"grid values must be {'at most' if direction == 'decrease' else 'at least'} 1 "
                f"for direction={direction!r}."
            )
    # Nearest to no change first; the coupled draws need descending theta.
    order = np.argsort(np.abs(np.log(thetas)), kind="stable")
    thetas = thetas[order]
    desc = np.sort(thetas)[::-1]

    pa = panel_arrays(panel, outcome=outcome)
    post = pa.post
    pre = ~post
    n_pre, n_post = int(pre.sum()), int(post.sum())
    if n_pre < 2:
        raise DataValidationError("mde_conformal needs at least 2 months before the start.")
    n_months = n_pre + n_post
    y2 = np.stack([pa.counts[pa.treated].sum(0), pa.counts[~pa.treated].sum(0)])
    y2_pre = y2[:, pre]

    phi_c = np.nan
    if int((~pa.treated).sum()) >= 2:
        phi_c = float(pre_period_dispersion(pa.counts[~pa.treated], post=post))
    phi_t, pooled = _treated_dispersion(y2_pre, phi_c)
    if not math.isfinite(phi_c):
        phi_c = pooled
    phi_t = max(1.0, phi_t) if math.isfinite(phi_t) else 1.0
    phi_c = max(1.0, phi_c) if math.isfinite(phi_c) else 1.0

    rows = y2_pre.sum(1)
    total = float(rows.sum())
    share = rows / total if total > 0 else np.zeros(2)
    levels = _month_levels(y2_pre.sum(0).astype(float), pa.months, post)
    mu = share[:, None] * levels[None, :]  # (2, T): no-change means
    expected_post = float(mu[0, post].sum())

    sided_min_p = (2.0 if two_sided else 1.0) / n_months
    rng = np.random.default_rng(seed)
    r = n_sims
    # Drawn once for every theta: the comparison total, the treated pre months.
    comp = _nb1(rng, mu[1], phi_c, (r, n_months))
    treated_pre = _nb1(rng, mu[0, pre], phi_t, (r, n_pre))
    treated_post = _nb1_coupled(rng, mu[0, post], phi_t, desc, (r, n_post))  # (G, R, n_post)
    # Back to the search order.
    pos_in_desc = {float(t): i for i, t in enumerate(desc)}
    treated_post = treated_post[[pos_in_desc[float(t)] for t in thetas]]
    g = len(thetas)
    counts = np.empty((g, r, 2, n_months))
    counts[:, :, 1, :] = comp
    counts[:, :, 0, pre] = treated_pre
    counts[:, :, 0, post] = treated_post
    out = conformal_arrays(
        counts.reshape(g * r, 2, n_months),
        treated=np.array([True, False]),
        post=post,
    )
    # A detection is a rejection that shows a change in `direction` (a two-sided rejection
    # because the treated area *rose* is not a detected fall). Two-sided: min(1, 2 p_dir) <=
    # alpha, which is the equal-tailed test rejecting on the `direction` side (both sides
    # cannot be below alpha / 2 at once, since p_decrease + p_increase >= 1).
    p_dir = out.p_decrease if direction == "decrease" else out.p_increase
    p_use = np.minimum(1.0, 2.0 * p_dir) if two_sided else p_dir
    p_any = out.p_two_sided if two_sided else p_dir
    cut = alpha * (1 + _P_RTOL)
    pw = (p_use <= cut).reshape(g, r).mean(1)
    any_rate = (p_any <= cut).reshape(g, r).mean(1)
    curve = pd.DataFrame(
        {
            "irr": thetas,
            "power": pw,
            "mc_se": np.sqrt(pw * (1.0 - pw) / r),
            "reject_any": any_rate,
        }
    )

    mde = math.nan
    hit = np.flatnonzero(pw >= power)
    if hit.size and sided_min_p <= alpha * (1 + _P_RTOL):
        i = int(hit[0])
        if i == 0:
            mde = float(thetas[0])
        else:
            t0, t1, p0, p1 = thetas[i - 1], thetas[i], pw[i - 1], pw[i]
            mde = float(t0 + (power - p0) * (t1 - t0) / (p1 - p0))
    detectable = math.isfinite(mde)
    return MDEConformalResult(
        outcome=pa.outcome,
        irr_fall=mde if direction == "decrease" else math.nan,
        irr_rise=mde if direction == "increase" else math.nan,
        pct_change=100.0 * (mde - 1.0),
        expected_treated_post=expected_post,
        power_curve=curve,
        alpha=alpha,
        power=power,
        two_sided=bool(two_sided),
        direction=direction,
        n_sims=r,
        seed=int(seed),
        dispersion=float(phi_t),
        dispersion_comparison=float(phi_c),
        n_pre=n_pre,
        n_post=n_post,
        min_p=sided_min_p,
        detectable=detectable,
    )


def placebo_can_reject(n_assignments: int, alpha: float) -> bool:
    """Whether a placebo-in-space ranking can ever be significant at ``alpha``.

    With ``n_assignments`` placebo assignments (the treated one counted; ``N`` areas for one
    treated area, ``C(N, N1)`` for ``N1``), the smallest attainable p-value is
    ``1 / n_assignments``. The test can reject only if that floor is at most ``alpha``: with
    17 wards and one treated, ``1/17 = 0.059 > 0.05``, so it never can at 5 %, whatever the
    effect (its power is 0).
    """
    n = check_whole(n_assignments, "n_assignments", minimum=1)
    alpha = check_alpha(alpha)
    return 1.0 / n <= alpha * (1 + _P_RTOL)
