"""Andresen's spatial point pattern test (the S index) and its proportion-test variant.

Did crime move? The spatial point pattern test compares *where* a period's crimes fell, unit
by unit, with where another period's fell, using each unit's **share** of the period's
points (so the two periods may hold different numbers of crimes). A unit whose share did not
change beyond what resampling allows is *similar*; the global S index is the proportion of
similar units (1 = every unit kept its share; Andresen's rule of thumb reads 0.80 or more as
"similar patterns").

- :func:`andresen_s` — Andresen's (2009) original test, as in the R package ``sppt``
  (``sppt::sppt``): one period's points are subsampled (85 % without replacement, many
  times), each unit's share in every subsample is recorded, and the other period's share is
  compared with the unit's nonparametric interval of subsample shares.
- :func:`sppt_diff` — Wheeler, Steenbeek & Andresen's (2018) variant (``sppt::sppt_diff``): a
  two-sample test of proportions per unit (chi-square, with the N − 1 or Yates correction,
  or Fisher's exact test) with a multiple-comparison adjustment of the p-values.

Both return an :class:`SPPTResult`. Points are given already assigned to units: one unit code
per incident, for each period.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd

from .._checks import check_fraction, check_level, check_option, check_whole
from .._dist import chi2_sf, hypergeom_logpmf, p_adjust
from ..errors import DataValidationError
from ..results import Result

__all__ = [
    "Adjustment",
    "DiffTest",
    "Resample",
    "SPPTResult",
    "andresen_s",
    "sppt_diff",
]

#: Which period's points :func:`andresen_s` subsamples: ``"test"`` as in Andresen (2009) and
#: ``sppt::sppt``, or ``"base"``.
Resample = Literal["test", "base"]
#: The per-unit test of :func:`sppt_diff` (``sppt::sppt_diff``'s ``test=``, in lower case).
DiffTest = Literal["chi2_nmin1", "chi2", "yates", "fisher"]
#: The multiple-comparison adjustment of :func:`sppt_diff` (``stats::p.adjust``'s names).
Adjustment = Literal["BY", "BH", "holm", "hochberg", "hommel", "bonferroni", "none"]

_STATSMODELS_ADJUST = {
    "BY": "fdr_by",
    "BH": "fdr_bh",
    "holm": "holm",
    "hochberg": "simes-hochberg",
    "hommel": "hommel",
    "bonferroni": "bonferroni",
}
_TEST_WORDS = {
    "chi2_nmin1": "chi-square test with the N − 1 correction",
    "chi2": "chi-square test",
    "yates": "chi-square test with Yates's correction",
    "fisher": "Fisher's exact test",
}
_ADJUST_WORDS = {
    "BY": "Benjamini–Yekutieli adjusted",
    "BH": "Benjamini–Hochberg adjusted",
    "holm": "Holm adjusted",
    "hochberg": "Hochberg adjusted",
    "hommel": "Hommel adjusted",
    "bonferroni": "Bonferroni adjusted",
    "none": "not adjusted for multiple comparisons",
}
#: Relative tolerance R's ``fisher.test`` uses to count tables as probable as the observed.
_FISHER_REL_ERR = 1.0 + 1e-7


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SPPTResult(Result):
    """A spatial point pattern test: per-unit similarity and the global S indices.

    Attributes
    ----------
    method
        ``"andresen_s"`` (:func:`andresen_s`) or ``"sppt_diff"`` (:func:`sppt_diff`).
    s_index
        The global S index: the proportion of all ``n_units`` units that are similar.
    robust_s_index
        The robust S index: the same proportion over the ``n_robust_units`` units with at
        least one point in either period.
    n_units
        Number of units (every unit given in ``units=``, with or without points).
    n_robust_units
        Number of units with at least one point in either period.
    n_base_points, n_test_points
        Points in each period.
    n_higher, n_lower
        Units whose test-period share is significantly higher (lower) than the base period's.
    per_unit
        One row per unit, in the order of ``units=``: ``unit``, ``n_base``, ``n_test``,
        ``base_pct``, ``test_pct`` (the unit's percentage of its period's points),
        ``similar`` (bool), ``direction`` (``"higher"``, ``"lower"`` or ``"similar"``: the
        test period's share against the base period's) and ``local_s`` (+1 higher, −1
        lower, 0 similar: sppt's ``localS``). :func:`andresen_s` adds ``lower_pct`` and
        ``upper_pct`` (the interval of the resampled period's shares);
        :func:`sppt_diff` adds ``p_value`` and ``p_adjusted`` (NaN where the test is
        undefined, e.g. a unit with no points in either period).
    options
        The options used, and for :func:`andresen_s` the number of points in each subsample
        (``sample_points``) and the 1-based ranks of the sorted replications taken as the
        interval ends (``interval_ranks``).
    replicates
        :func:`andresen_s` only: the resampled period's percentage per unit in every
        replication, shape ``(replications, n_units)`` (sppt's ``outputlist = TRUE``
        simulations, unsorted).
    """

    method: str
    s_index: float
    robust_s_index: float
    n_units: int
    n_robust_units: int
    n_base_points: int
    n_test_points: int
    n_higher: int
    n_lower: int
    per_unit: pd.DataFrame = field(repr=False, compare=False)
    options: Mapping[str, object] = field(default_factory=dict, compare=False)
    replicates: np.ndarray | None = field(default=None, repr=False, compare=False)

    def tidy(self) -> pd.DataFrame:
        """The per-unit frame (a copy): one row per unit."""
        return self.per_unit.copy()

    def summary(self) -> str:
        """Plain English: how many units kept their share, S, robust S and which changed."""
        o = self.options
        conf = _as_float(o["conf_level"])
        level = f"{100 * conf:g} %"
        if self.method == "andresen_s":
            period = "test" if o["resample"] == "test" else "base"
            how = (
                f"Andresen's spatial point pattern test (the {period} period's points "
                f"resampled, {100 * _as_float(o['samplesize']):g} % without replacement, "
                f"{o['replications']} times; {level} intervals)"
            )
        else:
            how = (
                f"Proportion-difference test per unit ({_TEST_WORDS[str(o['test_method'])]}, "
                f"{_ADJUST_WORDS[str(o['adjust'])]}; {100 - 100 * conf:g} % "
                "level)"
            )
        n_similar = round(self.s_index * self.n_units)
        any_pts = "unit" if self.n_robust_units == 1 else "units"
        lines = [
            f"{how}: {n_similar} of {self.n_units} units had a similar share of the points "
            f"in both periods (S = {self.s_index:.2f}; robust S = {self.robust_s_index:.2f} "
            f"over the {self.n_robust_units} {any_pts} with any points).",
        ]
        frame = self.per_unit
        if self.n_higher or self.n_lower:
            parts = []
            for word, n in (("higher", self.n_higher), ("lower", self.n_lower)):
                if n:
                    names = [str(u) for u in frame.loc[frame["direction"] == word, "unit"]]
                    shown = ", ".join(names[:5]) + (f" and {n - 5} more" if n > 5 else "")
                    parts.append(f"{word} in {n} {'unit' if n == 1 else 'units'} ({shown})")
            lines.append("The test period's share was significantly " + " and ".join(parts) + ".")
        else:
            lines.append("No unit's share changed significantly.")
        lines.append(
            "Andresen's rule of thumb reads S of 0.80 or more as similar patterns; it is not a "
            "significance test."
        )
        if self.method == "andresen_s":
            lines.append(
                "Only one period is resampled, so the test flags more units than chance alone "
                "would when both periods come from the same process (Wheeler et al. 2018); "
                "sppt_diff is the calibrated alternative."
            )
        return " ".join(lines)


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------
def andresen_s(
    base: pd.Series | Sequence[str],
    test: pd.Series | Sequence[str],
    *,
    units: Sequence[str],
    samplesize: float = 0.85,
    replications: int = 100,
    conf_level: float = 0.95,
    resample: Resample = "test",
    seed: int | None = 0,
) -> SPPTResult:
    """Andresen's spatial point pattern test: the S index of similarity of two point patterns.

    Parameters
    ----------
    base
        The unit code of each base-period point (one entry per incident; e.g. last year's
        crimes). Not modified.
    test
        The unit code of each test-period point (e.g. this year's crimes). Not modified.
    units
        Every areal unit, each once; units with no points in either period count. The
        result's rows follow this order.
    samplesize
        Share of the resampled period's points drawn, without replacement, in each
        replication (strictly between 0 and 1; Andresen's 0.85, after Ratcliffe's 2004
        minimum acceptable geocoding hit rate). The sample holds
        ``round(samplesize * n)`` points (half to even, as R's ``round``).
    replications
        Number of subsamples (sppt's ``nsamples``, whose R default is 200).
    conf_level
        Level of each unit's nonparametric interval (strictly between 0 and 1).
    resample
        Which period is subsampled: ``"test"`` (Andresen 2009 and ``sppt::sppt``: the
        intervals are of the test period's shares, and the base period's share is compared
        with them) or ``"base"`` (the base period's shares are resampled and the test
        period's share is compared).
    seed
        Seed of ``numpy.random.default_rng`` for the subsamples (``None``: fresh entropy).

    Returns
    -------
    SPPTResult
        Per-unit shares, intervals and similarity, the global and robust S indices and the
        replications (see :class:`SPPTResult`).

    Raises
    ------
    OptionError
        If ``samplesize`` or ``conf_level`` is not strictly between 0 and 1,
        ``replications`` is not a whole number of at least 1, ``resample`` is not
        ``"test"`` or ``"base"``, or ``seed`` is not ``None`` or a whole number.
    DataValidationError
        If ``units`` is empty, repeats a unit or holds a missing value; a point's unit is
        missing or not in ``units``; either period has no points; or the subsample would
        hold no point.

    Notes
    -----
    Estimand: a descriptive index, not a parameter. Unit ``i``'s share of a period's points
    is ``100 n_i / n`` percent. The resampled period (the test period by default) is
    subsampled ``replications`` times, ``m = round(samplesize * n)`` points without
    replacement each time (one multivariate hypergeometric draw of the unit counts per
    replication); each unit's shares ``100 X_i / m`` are sorted and the interval runs from
    the ``floor(a R) + 1``-th to the ``ceil((1 - a) R)``-th of the ``R`` values, with
    ``a = (1 - conf_level) / 2`` (the ranks sppt uses: the 3rd and 98th of 100, the 6th and
    195th of 200 at 95 %). The unit is *similar* (``s_i = 1``) when the other period's share
    lies inside the interval, ends included; its ``direction`` says whether the test
    period's share is above (``"higher"``) or below (``"lower"``). The global
    ``S = sum(s_i) / n_units`` over every unit; the robust S is the same mean over the units
    with at least one point in either period (sppt's ``globalS.robust``; units without
    points are always similar and would otherwise inflate S when units outnumber crimes).

    Assumptions and caveats: each point belongs to exactly one unit (points outside every
    unit must be dropped before the call, as sppt does). Only one period is resampled, and an
    85 % subsample without replacement varies much less than a fresh sample would (its
    variance carries the finite-population factor ``1 - samplesize``), so the interval
    ignores the other period's sampling noise and most of its own: with many points per
    unit, two periods drawn from the *same* process give S near 0.4, not near
    ``conf_level`` (Wheeler, Steenbeek & Andresen 2018; sppt's vignette "Proportion
    difference tests" reports 0.43). The result also depends on which period is resampled.
    Read S as a description of stability, not as a test; :func:`sppt_diff` is calibrated.
    A unit with no points in the resampled period has the interval [0, 0] and is dissimilar
    whenever the other period has any point there.

    Source: Andresen, M. A. (2009), "Testing for similarity in area-based spatial patterns:
    a nonparametric Monte Carlo approach", *Applied Geography* 29(3), 333–345; the R
    package sppt 0.2.3 (Steenbeek, Vandeviver, Andresen, Malleson & Wheeler;
    https://github.com/wsteenbeek/sppt, ``R/sppt.R``), whose procedure this reproduces
    (subsample size, interval ranks, the comparison with ends included, S and robust S).
    sppt draws its subsamples with R's ``sample``, so the two agree in distribution, not
    draw for draw.

    Examples
    --------
    >>> res = andresen_s(["A", "A", "B", "C"], ["A", "B", "B", "C"], units=["A", "B", "C"])
    >>> round(res.s_index, 2), list(res.tidy()["direction"])
    (0.33, ['lower', 'higher', 'similar'])
    """
    samplesize = check_fraction(samplesize, "samplesize", example="e.g. 0.85 for 85 %")
    replications = check_whole(replications, "replications", minimum=1)
    conf_level = check_level(conf_level, "conf_level")
    check_option("resample", resample, get_args(Resample))
    if seed is not None:
        seed = check_whole(seed, "seed", minimum=0)

    index = _unit_index(units)
    n_base = _count_points(base, index, "base")
    n_test = _count_points(test, index, "test")
    base_pct, test_pct = _shares(n_base), _shares(n_test)
    if resample == "test":
        pool, compared = n_test, base_pct
    else:
        pool, compared = n_base, test_pct
    n_pool = int(pool.sum())
    m = int(round(samplesize * n_pool))
    if m < 1:
        raise DataValidationError(
            f"a {samplesize:g} subsample of the {resample} period's {n_pool} point(s) holds no "
            "point; use a larger samplesize or more points."
        )

    rng = np.random.default_rng(seed)
    draws = rng.multivariate_hypergeometric(pool, m, size=replications)
    replicates = draws / m * 100.0
    lo, hi = _interval_ranks(replications, conf_level)
    ordered = np.sort(replicates, axis=0)
    lower, upper = ordered[lo - 1], ordered[hi - 1]
    below, above = compared < lower, compared > upper
    if resample == "test":  # the base share below the test interval: the test share is higher
        local_s = np.where(below, 1, np.where(above, -1, 0))
    else:
        local_s = np.where(above, 1, np.where(below, -1, 0))

    frame = _frame(index, n_base, n_test, base_pct, test_pct, local_s)
    frame.insert(5, "lower_pct", lower)
    frame.insert(6, "upper_pct", upper)
    options: dict[str, object] = {
        "samplesize": samplesize,
        "replications": replications,
        "conf_level": conf_level,
        "resample": resample,
        "seed": seed,
        "sample_points": m,
        "interval_ranks": (lo, hi),
    }
    return _result("andresen_s", frame, options, replicates=replicates)


def sppt_diff(
    base: pd.Series | Sequence[str],
    test: pd.Series | Sequence[str],
    *,
    units: Sequence[str],
    test_method: DiffTest = "chi2_nmin1",
    adjust: Adjustment = "BY",
    conf_level: float = 0.95,
) -> SPPTResult:
    """Spatial point pattern test by a two-sample test of proportions in every unit.

    Parameters
    ----------
    base, test
        The unit code of each point of the base and test periods (one entry per incident).
        Not modified. The test is symmetric in the two periods.
    units
        Every areal unit, each once; units with no points count.
    test_method
        The per-unit test of the unit's share of the base points against its share of the
        test points (``sppt::sppt_diff``'s ``test=``): ``"chi2_nmin1"`` (Pearson's
        chi-square scaled by ``(N - 1) / N``, Campbell's 2007 recommendation; the default),
        ``"chi2"`` (Pearson's chi-square), ``"yates"`` (with Yates's continuity correction,
        as R's ``prop.test``) or ``"fisher"`` (Fisher's exact test, two-sided as R's
        ``fisher.test``).
    adjust
        Multiple-comparison adjustment of the p-values (``stats::p.adjust``'s names):
        ``"BY"`` (Benjamini–Yekutieli false discovery rate; the default), ``"BH"``,
        ``"holm"``, ``"hochberg"``, ``"hommel"``, ``"bonferroni"`` or ``"none"``.
    conf_level
        A unit is dissimilar when its p-value, raw and adjusted, is below ``1 - conf_level``.

    Returns
    -------
    SPPTResult
        Per-unit shares, p-values and similarity, and the global and robust S indices.

    Raises
    ------
    OptionError
        If ``test_method`` or ``adjust`` is not one of the choices, or ``conf_level`` is not
        strictly between 0 and 1.
    DataValidationError
        As :func:`andresen_s`: bad ``units``, a point in no listed unit, or a period with no
        points.

    Notes
    -----
    Estimand: per unit ``i``, the null hypothesis is that the unit's share of the points is
    the same in both periods, ``p_base,i = p_test,i``, tested on the 2 × 2 table of the
    unit's points and all other points in each period; the global S is the proportion of
    units not rejected at ``1 - conf_level`` after the adjustment, the robust S the same over
    units with any points. Unlike :func:`andresen_s` both periods' sampling noise enters, the
    result does not depend on which period is called the base, and a unit with no points in
    one period is not automatically dissimilar.

    Assumptions: points are independent (counts multinomial given each period's total), so
    clustered or repeat incidents make the test anti-conservative; the chi-square tests are
    large-sample approximations (use ``"fisher"`` for small counts). Where the chi-square
    statistic is undefined (a unit with no points in either period, or holding every point
    of both) the p-value is NaN, the unit is similar and, as in R's ``p.adjust``, it is not
    counted among the comparisons; Fisher's test gives such units p = 1, which are counted.

    Source: Wheeler, A. P., Steenbeek, W. & Andresen, M. A. (2018), "Testing for similarity
    in area-based spatial patterns: alternative methods to Andresen's spatial point pattern
    test", *Transactions in GIS* 22(3), 760–774; the R package sppt 0.2.3
    (``R/sppt_diff.R``), whose tests, adjustment and decision rule this reproduces.
    Benjamini, Y. & Yekutieli, D. (2001), *Annals of Statistics* 29, 1165–1188.
    """
    check_option("test_method", test_method, get_args(DiffTest))
    check_option("adjust", adjust, get_args(Adjustment))
    conf_level = check_level(conf_level, "conf_level")

    index = _unit_index(units)
    n_base = _count_points(base, index, "base")
    n_test = _count_points(test, index, "test")
    base_pct, test_pct = _shares(n_base), _shares(n_test)

    if test_method == "fisher":
        p = _fisher_two_sided(n_base, n_test)
    else:
        p = _chi_square_p(n_base, n_test, test_method)
    p_adj = _adjust(p, adjust)
    alpha = 1.0 - conf_level
    with np.errstate(invalid="ignore"):
        significant = (p < alpha) & (p_adj < alpha)
    local_s = np.where(
        significant & (test_pct > base_pct), 1, np.where(significant & (test_pct < base_pct), -1, 0)
    )
    frame = _frame(index, n_base, n_test, base_pct, test_pct, local_s)
    frame.insert(5, "p_value", p)
    frame.insert(6, "p_adjusted", p_adj)
    options: dict[str, object] = {
        "test_method": test_method,
        "adjust": adjust,
        "conf_level": conf_level,
    }
    return _result("sppt_diff", frame, options)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def _as_float(value: object) -> float:
    """An option stored in :attr:`SPPTResult.options` as a float (for the summary)."""
    return float(value)  # type: ignore[arg-type]


def _unit_index(units: Sequence[str]) -> pd.Index:
    """The units as a unique Index, else :class:`DataValidationError`."""
    if isinstance(units, (str, bytes)) or not isinstance(units, (Sequence, pd.Index, np.ndarray)):
        raise DataValidationError(
            f"units must be a list of every areal unit's code, got {type(units).__name__}."
        )
    index = pd.Index(list(units), dtype=object)
    if len(index) == 0:
        raise DataValidationError("units is empty; list every areal unit, with or without points.")
    if index.hasnans:
        raise DataValidationError("units holds a missing value; every unit needs a code.")
    if not index.is_unique:
        dups = [str(u) for u in pd.unique(index[index.duplicated()])][:5]
        raise DataValidationError(f"units lists some units more than once (e.g. {dups}).")
    return index


def _count_points(points: pd.Series | Sequence[str], index: pd.Index, name: str) -> np.ndarray:
    """Points per unit (int64, in the order of ``index``), else :class:`DataValidationError`."""
    if isinstance(points, (str, bytes)):
        raise DataValidationError(
            f"{name} must hold one unit code per point, not a single string {points!r}."
        )
    values = np.asarray(
        points.to_numpy(dtype=object) if isinstance(points, (pd.Series, pd.Index)) else points,
        dtype=object,
    ).ravel()
    if values.size == 0:
        raise DataValidationError(
            f"the {name} period has no points; the test compares two periods' patterns."
        )
    missing = pd.isna(values)
    if missing.any():
        raise DataValidationError(
            f"{int(missing.sum())} {name} point(s) have no unit code (missing value); drop "
            "points outside the study area before the test."
        )
    codes = index.get_indexer(values)
    unknown = codes < 0
    if unknown.any():
        examples = [repr(v) for v in pd.unique(values[unknown])[:5]]
        raise DataValidationError(
            f"{int(unknown.sum())} {name} point(s) are in units not listed in units (e.g. "
            f"{', '.join(examples)}); add the units, or drop points outside the study area. "
            "Codes must match exactly (text vs numbers, spaces, case)."
        )
    return np.bincount(codes, minlength=len(index)).astype(np.int64)


def _shares(counts: np.ndarray) -> np.ndarray:
    """Each unit's percentage of the period's points, computed as sppt does."""
    return counts / counts.sum() * 100.0


def _interval_ranks(replications: int, conf_level: float) -> tuple[int, int]:
    """1-based ranks of the sorted replications taken as the interval ends (as sppt).

    ``floor(a R) + 1`` and ``ceil((1 - a) R)`` with ``a = (1 - conf_level) / 2``; the
    products are rounded to 9 decimals first so that binary noise (``0.05 * 100 / 2`` =
    2.5000000000000004) cannot move a rank.
    """
    tail = (1.0 - conf_level) / 2.0
    lower = math.floor(round(tail * replications, 9)) + 1
    upper = math.ceil(round((1.0 - tail) * replications, 9))
    return lower, upper


def _chi_square_p(n_base: np.ndarray, n_test: np.ndarray, test_method: str) -> np.ndarray:
    """Per-unit chi-square p-values of the unit-vs-rest × period table (NaN where undefined)."""
    a = n_base.astype(float)
    b = n_test.astype(float)
    tot_b, tot_t = a.sum(), b.sum()
    n = tot_b + tot_t
    k = a + b  # the unit's points, both periods
    with np.errstate(divide="ignore", invalid="ignore"):
        # |O - E| is the same in all four cells of a 2 x 2 table.
        dev = np.abs(a - k * tot_b / n)
        inv_e = n**3 / (k * (n - k) * tot_b * tot_t)  # sum of 1 / E over the four cells
        if test_method == "yates":  # R's prop.test: the correction never exceeds |O - E|
            dev = dev - np.minimum(0.5, dev)
        stat = dev**2 * inv_e
        if test_method == "chi2_nmin1":
            stat = stat * (n - 1.0) / n
    return np.asarray(chi2_sf(stat, 1), dtype=float)


def _fisher_two_sided(n_base: np.ndarray, n_test: np.ndarray) -> np.ndarray:
    """Per-unit two-sided Fisher exact p-values, as R's ``fisher.test`` (vectorised).

    The p-value sums the conditional (hypergeometric) probabilities of every table no more
    probable than the observed one, with R's relative tolerance ``1 + 1e-7``.
    """
    tot_b, tot_t = int(n_base.sum()), int(n_test.sum())
    total = tot_b + tot_t
    k = n_base + n_test
    lo = np.maximum(0, k - tot_t)
    hi = np.minimum(k, tot_b)
    sizes = hi - lo + 1
    unit = np.repeat(np.arange(len(k)), sizes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    x = lo[unit] + (np.arange(int(sizes.sum())) - starts[unit])
    logp = hypergeom_logpmf(x, total, tot_b, k[unit])
    logp = logp - np.maximum.reduceat(logp, starts)[unit]
    d = np.exp(logp)
    d = d / np.add.reduceat(d, starts)[unit]
    d_obs = d[starts + (n_base - lo)]
    keep = d <= d_obs[unit] * _FISHER_REL_ERR
    p = np.add.reduceat(np.where(keep, d, 0.0), starts)
    return np.clip(p, 0.0, 1.0)


def _adjust(p: np.ndarray, adjust: str) -> np.ndarray:
    """Adjusted p-values over the defined (non-NaN) ones, as R's ``p.adjust``."""
    out = p.astype(float).copy()
    ok = ~np.isnan(out)
    if adjust == "none" or not ok.any():
        return out
    if adjust == "hommel":  # the one adjustment not written out in pilot_eval._dist
        from statsmodels.stats.multitest import multipletests

        out[ok] = multipletests(out[ok], method=_STATSMODELS_ADJUST[adjust])[1]
    else:
        out[ok] = p_adjust(out[ok], adjust)
    return out


def _frame(
    index: pd.Index,
    n_base: np.ndarray,
    n_test: np.ndarray,
    base_pct: np.ndarray,
    test_pct: np.ndarray,
    local_s: np.ndarray,
) -> pd.DataFrame:
    direction = np.where(local_s > 0, "higher", np.where(local_s < 0, "lower", "similar"))
    return pd.DataFrame(
        {
            "unit": list(index),
            "n_base": n_base,
            "n_test": n_test,
            "base_pct": base_pct,
            "test_pct": test_pct,
            "similar": local_s == 0,
            "direction": direction,
            "local_s": local_s.astype(np.int64),
        }
    )


def _result(
    method: str,
    frame: pd.DataFrame,
    options: dict[str, object],
    *,
    replicates: np.ndarray | None = None,
) -> SPPTResult:
    similar = frame["similar"].to_numpy()
    any_points = (frame["n_base"] + frame["n_test"]).to_numpy() > 0
    return SPPTResult(
        method=method,
        s_index=float(similar.mean()),
        robust_s_index=float(similar[any_points].mean()),
        n_units=len(frame),
        n_robust_units=int(any_points.sum()),
        n_base_points=int(frame["n_base"].sum()),
        n_test_points=int(frame["n_test"].sum()),
        n_higher=int((frame["local_s"] > 0).sum()),
        n_lower=int((frame["local_s"] < 0).sum()),
        per_unit=frame,
        options=options,
        replicates=replicates,
    )
