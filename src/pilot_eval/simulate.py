"""Seeded area × month count panels with a known effect, for tests, simulations and benchmarks.

The generator reproduces the setting the toolkit is built for (see
``../shared/methods/one-treated-area.md``): a handful of areas (17 Bexley wards by default),
one treated, 36 months before and 12 from the start, area means of 5–40 crimes a month,
seasonal month effects and negative-binomial counts whose variance is 1.5–3 times the mean.
It is vectorised over replications: ``n_reps`` panels come out as one ``(R, N, T)`` array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import columns as C
from .errors import ConfigError

__all__ = ["SimulatedPanels", "panel_from_array", "simulate_panels"]


@dataclass(frozen=True)
class SimulatedPanels:
    """``R`` simulated area × month panels sharing one design.

    Attributes
    ----------
    counts
        Integer counts, shape ``(n_reps, n_areas, n_months)``.
    expected
        Expected counts without any effect, shape ``(n_areas, n_months)`` (month shocks
        excluded; they are drawn per replication).
    effect
        The true multiplicative effect (incidence-rate ratio) in treated areas' post months.
    treated
        Boolean mask of treated areas, shape ``(n_areas,)``.
    post
        Boolean mask of post months, shape ``(n_months,)``.
    areas
        Area codes (``"A01"``, ``"A02"``, ...), smallest mean first.
    months
        Month-start timestamps.
    variance_ratio
        Each area's variance-to-mean ratio, shape ``(n_areas,)`` when fixed, else
        ``(n_reps, n_areas)``.
    seed
        The seed that reproduces the panels.
    """

    counts: np.ndarray = field(repr=False)
    expected: np.ndarray = field(repr=False)
    effect: float
    treated: np.ndarray = field(repr=False)
    post: np.ndarray = field(repr=False)
    areas: tuple[str, ...]
    months: pd.DatetimeIndex = field(repr=False)
    variance_ratio: np.ndarray = field(repr=False)
    seed: int

    @property
    def n_reps(self) -> int:
        return int(self.counts.shape[0])

    def panel(self, rep: int = 0, *, outcome: str = "simulated") -> pd.DataFrame:
        """Replication ``rep`` as a long panel in the toolkit's contract.

        Columns ``outcome, area, group, month, count, treated, post``; one row per area ×
        month; ``group`` is ``"treated"`` or ``"comparison"``.
        """
        if not 0 <= rep < self.n_reps:
            raise ConfigError(f"rep must be between 0 and {self.n_reps - 1}, got {rep}")
        return panel_from_array(
            self.counts[rep],
            treated=self.treated,
            post=self.post,
            areas=self.areas,
            months=self.months,
            outcome=outcome,
        )


def panel_from_array(
    counts: np.ndarray,
    *,
    treated: Sequence[bool] | np.ndarray,
    post: Sequence[bool] | np.ndarray,
    areas: Sequence[str] | None = None,
    months: pd.DatetimeIndex | None = None,
    outcome: str = "simulated",
) -> pd.DataFrame:
    """An ``(N, T)`` count array as a long panel in the toolkit's contract.

    Parameters
    ----------
    counts
        Counts, one row per area and one column per month.
    treated, post
        Boolean masks of treated areas ``(N,)`` and post months ``(T,)``.
    areas
        Area codes (default ``"A01"``, ``"A02"``, ...).
    months
        Month-start timestamps (default monthly from 2021-04).
    outcome
        The outcome's name.
    """
    y = np.asarray(counts)
    if y.ndim != 2:
        raise ConfigError(f"counts must be a 2-d array (areas × months), got shape {y.shape}")
    n, t = y.shape
    treated_arr = np.asarray(treated, dtype=bool)
    post_arr = np.asarray(post, dtype=bool)
    if treated_arr.shape != (n,) or post_arr.shape != (t,):
        raise ConfigError(f"treated must have {n} entries and post {t}, to match counts")
    if areas is None:
        areas = _area_codes(n)
    if months is None:
        months = pd.date_range("2021-04-01", periods=t, freq="MS")
    flag = np.repeat(treated_arr, t)
    return pd.DataFrame(
        {
            C.OUTCOME: outcome,
            C.AREA: np.repeat(np.asarray(areas, dtype=object), t),
            C.GROUP: np.where(flag, "treated", "comparison"),
            C.MONTH: np.tile(pd.DatetimeIndex(months).to_numpy(), n),
            C.COUNT: y.reshape(-1).astype(np.int64),
            C.TREATED: flag,
            C.POST: np.tile(post_arr, n),
        }
    )


def _area_codes(n: int) -> tuple[str, ...]:
    """``"A01"``, ``"A02"``, ... (at least two digits, more when ``n`` needs them)."""
    width = max(2, len(str(n)))
    return tuple(f"A{i + 1:0{width}d}" for i in range(n))


def _area_means(means: tuple[float, float] | Sequence[float] | np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(means, dtype=float)
    if arr.ndim == 1 and arr.size == 2 and n != 2:
        lo, hi = arr
        if not 0 < lo <= hi:
            raise ConfigError(f"means must be a (low, high) pair with 0 < low <= high, got {means}")
        return np.geomspace(lo, hi, n)
    if arr.shape != (n,) or np.any(arr <= 0):
        raise ConfigError(
            f"means must be a (low, high) pair or {n} positive numbers (one per area), "
            f"got shape {arr.shape}"
        )
    return arr


def simulate_panels(
    *,
    n_areas: int = 17,
    n_treated: int = 1,
    treated: Sequence[int] | None = None,
    n_pre: int = 36,
    n_post: int = 12,
    means: tuple[float, float] | Sequence[float] = (5.0, 40.0),
    variance_ratio: tuple[float, float] = (1.5, 3.0),
    fixed_dispersion: bool = False,
    seasonality: float = 0.2,
    month_noise: float = 0.05,
    ar1: float = 0.0,
    effect: float = 1.0,
    trend: float = 0.0,
    n_reps: int = 1,
    start: str = "2021-04",
    seed: int = 0,
) -> SimulatedPanels:
    """Simulate negative-binomial area × month panels with a known multiplicative effect.

    Parameters
    ----------
    n_areas
        Number of areas ``N`` (treated and comparison).
    n_treated
        Number of treated areas; ignored when ``treated`` is given.
    treated
        Indices of the treated areas (0 is the smallest area). By default ``n_treated`` areas
        spread evenly over the size range (the median area when ``n_treated`` is 1).
    n_pre, n_post
        Months before and from the start of the pilot.
    means
        Area mean counts per month: a ``(low, high)`` pair (areas spaced evenly on the log
        scale, smallest first) or one value per area.
    variance_ratio
        Range of the areas' variance-to-mean ratios, drawn uniformly for each area.
    fixed_dispersion
        False (default): each area draws its ratio afresh in every replication, so that
        over-dispersion is a nuisance spread at random over areas and area *size* is the only
        fixed difference between areas. True: each area draws it once (per seed), shared by
        all replications (a ward that is noisier than the others stays so).
    seasonality
        Amplitude of the seasonal month effect on the log scale (peak in July).
    month_noise
        Standard deviation of a month shock common to all areas, drawn per replication
        (absorbed by month effects).
    ar1
        Autocorrelation of a latent area-level AR(1) noise. 0 (default) gives independent
        gamma–Poisson (negative-binomial) counts; a positive value uses a lognormal–Poisson
        mixture with the same variance-to-mean ratio and serially correlated latent noise.
    effect
        True incidence-rate ratio in treated areas' post months (1 = no effect).
    trend
        Log-scale drift per month of the treated areas relative to the others (0, the
        default, gives parallel trends; -0.01 is a fall of about 1 % a month that has nothing
        to do with the pilot). The drift is centred on the last pre month, so the treated
        areas' pre-period means keep roughly their size; ``expected`` excludes it.
    n_reps
        Number of replications ``R``.
    start
        First month, ``YYYY-MM``.
    seed
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    SimulatedPanels
        Counts of shape ``(R, N, T)`` with the design; ``.panel(r)`` gives replication ``r``
        in the panel contract.

    Notes
    -----
    Model: ``y_rit ~ Poisson(mu_it * s_rt * g_rit)`` with ``mu_it = m_i * season_t`` (times
    ``effect`` for treated areas' post months and ``exp(trend * (t - t_last_pre))`` for
    treated areas), ``s_rt`` a common lognormal month shock and
    ``g_rit`` a mean-one mixing variable with variance ``(phi_i - 1) / mu_it`` so that
    ``Var(y | s) ≈ phi_i * mean`` (``phi_i`` uniform on ``variance_ratio``): gamma (negative binomial, the NB1 variance function) or,
    with ``ar1 > 0``, lognormal with AR(1) latent log-noise. Everything is drawn in one
    vectorised pass over replications. This is the setting of the simulation summarised in
    ``one-treated-area.md``.
    """
    if n_areas < 2 or n_pre < 1 or n_post < 1 or n_reps < 1:
        raise ConfigError("need n_areas >= 2, n_pre >= 1, n_post >= 1 and n_reps >= 1")
    if effect <= 0:
        raise ConfigError(f"effect is a rate ratio and must be positive, got {effect}")
    if not np.isfinite(trend):
        raise ConfigError(f"trend must be a finite log-scale drift per month, got {trend}")
    if not 0 <= ar1 < 1:
        raise ConfigError(f"ar1 must be in [0, 1), got {ar1}")
    lo_v, hi_v = variance_ratio
    if not 1.0 <= lo_v <= hi_v:
        raise ConfigError(f"variance_ratio must satisfy 1 <= low <= high, got {variance_ratio}")
    if treated is None:
        if not 1 <= n_treated < n_areas:
            raise ConfigError(f"n_treated must be between 1 and {n_areas - 1}, got {n_treated}")
        idx = np.round(np.linspace(0, n_areas - 1, n_treated + 2)[1:-1]).astype(int)
    else:
        idx = np.unique(np.asarray(treated, dtype=int))
        if idx.size == 0 or idx.min() < 0 or idx.max() >= n_areas or idx.size >= n_areas:
            raise ConfigError(f"treated must list 1 to {n_areas - 1} indices in [0, {n_areas})")
    rng = np.random.default_rng(seed)
    n_months = n_pre + n_post
    months = pd.date_range(pd.Timestamp(f"{start}-01"), periods=n_months, freq="MS")
    treated_mask = np.zeros(n_areas, dtype=bool)
    treated_mask[idx] = True
    post = np.arange(n_months) >= n_pre

    m = _area_means(means, n_areas)
    phi = rng.uniform(lo_v, hi_v, size=n_areas if fixed_dispersion else (n_reps, n_areas))
    season = np.exp(seasonality * np.cos(2 * np.pi * (months.month.to_numpy() - 7) / 12))
    season = season / season.mean()
    expected = m[:, None] * season[None, :]
    mu = expected * np.where(treated_mask[:, None] & post[None, :], effect, 1.0)
    if trend != 0.0:
        drift = np.exp(trend * (np.arange(n_months) - (n_pre - 1)))
        mu = mu * np.where(treated_mask[:, None], drift[None, :], 1.0)

    shock = np.exp(rng.normal(0.0, month_noise, size=(n_reps, 1, n_months)) - month_noise**2 / 2)
    mean = mu[None, :, :] * shock
    # Mixing variance (phi - 1) / mu gives Var(y) = phi * mu for each area and month.
    mix_var = (phi[..., None] - 1.0) / mu
    shape = (n_reps, n_areas, n_months)
    if ar1 == 0.0:
        k = np.where(mix_var > 0, 1.0 / np.maximum(mix_var, 1e-300), np.inf)
        k_full = np.broadcast_to(k, shape)
        finite = np.isfinite(k_full)
        g = np.ones(shape)
        g[finite] = rng.gamma(k_full[finite], 1.0 / k_full[finite])
    else:
        sigma = np.sqrt(np.log1p(mix_var))
        z = np.empty(shape)
        z[..., 0] = rng.standard_normal(shape[:2])
        innov = rng.standard_normal(shape)
        scale = np.sqrt(1.0 - ar1**2)
        for t in range(1, n_months):
            z[..., t] = ar1 * z[..., t - 1] + scale * innov[..., t]
        g = np.exp(sigma * z - sigma**2 / 2)
    counts = rng.poisson(mean * g).astype(np.int64)
    return SimulatedPanels(
        counts=counts,
        expected=expected,
        effect=float(effect),
        treated=treated_mask,
        post=post,
        areas=_area_codes(n_areas),
        months=months,
        variance_ratio=phi,
        seed=int(seed),
    )
