"""Harm weighting and cost per crime prevented.

Data files shipped with the package (see ``pilot_eval/data/README.md`` for sources and gaps):

* ``harm_weights.csv`` -- ONS Crime Severity Score weights by Home Office offence code;
* ``unit_costs.csv`` -- Home Office unit costs of crime (Heeks et al. 2018, 2015/16 prices).

police.uk crime types are broad (e.g. "Violence and sexual offences" holds everything from
common assault to homicide), so a weight or cost for a police.uk type is a *mix* of offence
figures: :func:`police_uk_unit_cost` takes the mix from the analyst and refuses to guess one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import pandas as pd

from .._checks import check_alpha, check_option, check_positive
from ..errors import DataValidationError, EstimationError
from ..results import Estimate, Result
from ..wording import format_level_of_alpha, format_number
from .wdd import RunningWDDResult, WDDHarmResult, WDDResult, wdd_harm_counts

__all__ = [
    "CostPerCrimeResult",
    "ValuePreventedResult",
    "cost_per_crime_prevented",
    "harm_weight_of_mix",
    "harm_weighted_effect",
    "load_harm_weights",
    "load_unit_costs",
    "police_uk_unit_cost",
    "unit_cost_of_mix",
    "value_prevented",
]


@cache
def _read(name: str) -> pd.DataFrame:
    with resources.files("pilot_eval").joinpath("data", name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"offence_code": "string"})


def load_harm_weights() -> pd.DataFrame:
    """ONS Crime Severity Score weights shipped with pilot-eval (a fresh copy each call).

    Columns: ``offence_code, offence, police_uk_crime_type, weight, weight_unit,
    weights_release, source, verified_via, note``. Only offences whose labelled weight could be
    confirmed are included (see ``pilot_eval/data/README.md``).
    """
    return _read("harm_weights.csv").copy()


def load_unit_costs() -> pd.DataFrame:
    """Home Office unit costs of crime (Heeks et al. 2018) shipped with pilot-eval (a copy).

    Columns: ``crime_category, police_uk_crime_type, mapping, unit_cost_gbp, price_year,
    cost_basis, precision, source, verified_via, note``. ``mapping`` is ``direct`` when the
    category is the whole police.uk type, ``component`` when it is one part of it, ``none`` when
    police.uk does not record it.
    """
    return _read("unit_costs.csv").copy()


def police_uk_unit_cost(crime_type: str, *, mix: Mapping[str, float] | None = None) -> float:
    """Cost per crime (2015/16 pounds) for a police.uk crime type, from :func:`load_unit_costs`.

    Parameters
    ----------
    crime_type
        A police.uk crime type, e.g. ``"Robbery"``.
    mix
        For types made of several cost categories (e.g. ``"Vehicle crime"``), the share of each
        category among the area's crimes, e.g. ``{"Theft of vehicle": 0.2, "Theft from
        vehicle": 0.8}``; shares must sum to 1. Not needed for ``direct`` types.

    Returns
    -------
    float
        ``sum(share x unit cost)``.

    Raises
    ------
    EstimationError
        If the type has no direct cost and no mix was given, or the mix names a category
        without a published cost in the shipped table (e.g. violence without injury: its
        figure could not be confirmed, so the analyst must supply one).

    Notes
    -----
    Assumption: the crimes prevented have the same offence mix as the shares given. The shares
    should come from local recorded-crime data (e.g. MPS offence-level tables for the area),
    not from national averages, and the report should state them. Costs are in 2015/16
    prices.

    References
    ----------
    Heeks, M., Reed, S., Tafsiri, M., & Prince, S. (2018). *The economic and social costs of
    crime* (2nd ed.). Home Office Research Report 99.
    """
    table = load_unit_costs()
    rows = table[table["police_uk_crime_type"] == crime_type]
    if rows.empty:
        known = sorted(table["police_uk_crime_type"].dropna().unique())
        raise EstimationError(
            f"No unit cost is shipped for police.uk crime type {crime_type!r}; costs exist for "
            f"{known}. Supply a cost per crime from another source."
        )
    if mix is None:
        direct = rows[rows["mapping"] == "direct"]
        if len(direct) == 1:
            return float(direct["unit_cost_gbp"].iloc[0])
        cats = list(rows["crime_category"])
        raise EstimationError(
            f"{crime_type!r} is a mix of cost categories ({cats}); pass mix= with the share of "
            "each among the area's crimes (from local offence-level data)."
        )
    shares = {str(k): float(v) for k, v in mix.items()}
    if any(v < 0 or not math.isfinite(v) for v in shares.values()):
        raise DataValidationError("mix shares must be finite and not negative")
    if abs(sum(shares.values()) - 1.0) > 1e-6:
        raise DataValidationError(f"mix shares must sum to 1, got {sum(shares.values()):.4f}")
    costs = dict(zip(table["crime_category"], table["unit_cost_gbp"], strict=True))
    unknown = [k for k in shares if k not in costs]
    if unknown:
        raise EstimationError(
            f"No shipped unit cost for {unknown}: the published figure could not be confirmed "
            "when the table was compiled (see pilot_eval/data/README.md). Supply the cost "
            f"yourself. Categories with costs: {sorted(costs)}."
        )
    return float(sum(share * float(costs[k]) for k, share in shares.items()))


def harm_weighted_effect(
    effects: Mapping[str, WDDResult | tuple[float, float]],
    weights: Mapping[str, float],
    *,
    term: Literal["total", "local"] = "total",
    alpha: float = 0.1,
    weight_label: str = "harm weight",
) -> WDDHarmResult:
    """Combine per-crime-type effects into one harm-weighted effect with an interval.

    Parameters
    ----------
    effects
        Per crime type, a :class:`~pilot_eval.estimators.wdd.WDDResult` or an
        ``(estimate, standard error)`` pair in crimes.
    weights
        Per crime type, its harm weight (e.g. a Crime Severity Score weight or a unit cost from
        :func:`police_uk_unit_cost`). Must have the same keys as ``effects``.
    term
        For WDD results, combine the ``"total"`` (default; local + displacement) or the
        ``"local"`` estimates.
    alpha
        Two-sided interval level ``1 - alpha`` (default 0.1, as :func:`~pilot_eval.estimators.wdd.wdd_harm_counts`).
    weight_label
        What the weights are, for the summary (e.g. ``"2015/16 pounds"``).

    Returns
    -------
    WDDHarmResult
        As :func:`~pilot_eval.estimators.wdd.wdd_harm_counts`, with ``components`` indexed by type.

    Notes
    -----
    Estimand: ``sum_k w_k WDD_k``, the change in total harm. Assumes the per-type estimates are
    independent (distinct Poisson counts) and treats the weights as fixed; uncertainty in the
    weights themselves is not in the interval.

    References
    ----------
    Wheeler, A. P. (2020). Amending the WDD test to incorporate harm weights [blog post];
    ptools ``wdd_harm``.
    """
    if set(effects) != set(weights):
        raise DataValidationError(
            "effects and weights must list the same crime types; only in effects: "
            f"{sorted(set(effects) - set(weights))}, only in weights: "
            f"{sorted(set(weights) - set(effects))}"
        )
    if not effects:
        raise DataValidationError("effects is empty: give at least one crime type")
    check_option("term", term, ("total", "local"))
    alpha = check_alpha(alpha)
    names = list(effects)
    est, se = [], []
    for name in names:
        e = effects[name]
        if isinstance(e, WDDResult):
            if term == "total":
                est.append(e.est_total)
                se.append(e.se_total)
            else:
                est.append(e.est_local)
                se.append(e.se_local)
        else:
            try:
                a, b = e
            except (TypeError, ValueError):
                raise DataValidationError(
                    f"effect for {name!r} must be a WDDResult or an (estimate, standard error) "
                    f"pair, got {e!r}"
                ) from None
            est.append(float(a))
            se.append(float(b))
    w = [float(weights[n]) for n in names]
    res = wdd_harm_counts(est, se, w, alpha=alpha)
    comps = res.components.copy()
    comps.index = pd.Index(names, name="crime_type")
    return WDDHarmResult(
        est=res.est,
        se=res.se,
        z=res.z,
        p_value=res.p_value,
        ci_low=res.ci_low,
        ci_high=res.ci_high,
        alpha=res.alpha,
        components=comps,
        note=f"Weights: {weight_label}.",
    )


# ---------------------------------------------------------------------------------------------
# Cost per crime prevented
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CostPerCrimeResult(Result):
    """Cost per crime prevented, with the interval implied by that of crimes prevented."""

    cost_per_crime: float
    ci_low: float
    ci_high: float
    crimes_prevented: float
    prevented_low: float
    prevented_high: float
    total_cost: float
    level: float | None
    defined: bool
    note: str = ""

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "term": "cost_per_crime_prevented",
                    "estimate": self.cost_per_crime,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "crimes_prevented": self.crimes_prevented,
                    "prevented_low": self.prevented_low,
                    "prevented_high": self.prevented_high,
                    "total_cost": self.total_cost,
                    "level": self.level,
                }
            ]
        )

    def summary(self) -> str:
        lvl = f"{format_level_of_alpha(1 - self.level)} " if self.level is not None else ""
        prevented = (
            f"{format_number(self.crimes_prevented)} crimes prevented ({lvl}interval "
            f"{format_number(self.prevented_low)} to {format_number(self.prevented_high)})"
        )
        cost = f"£{self.total_cost:,.0f}"
        if not self.defined:
            return f"Cost per crime prevented is not defined: {self.note} (estimate: {prevented})."
        hi = "no upper bound" if math.isinf(self.ci_high) else f"£{self.ci_high:,.0f}"
        text = (
            f"At a cost of {cost} and {prevented}, each crime prevented cost about "
            f"£{self.cost_per_crime:,.0f} (interval £{self.ci_low:,.0f} to {hi})."
        )
        return text + (f" {self.note}" if self.note else "")


def _prevented_from(
    crimes_prevented: WDDResult | RunningWDDResult | Estimate | tuple[float, float, float],
    level: float | None,
) -> tuple[float, float, float, float | None]:
    if isinstance(crimes_prevented, WDDResult):
        r = crimes_prevented
        return -r.est_total, -r.ci_high, -r.ci_low, r.level
    if isinstance(crimes_prevented, RunningWDDResult):
        f = crimes_prevented.final
        return (
            -float(f["est_total"]),
            -float(f["ci_high"]),
            -float(f["ci_low"]),
            (crimes_prevented.level),
        )
    if isinstance(crimes_prevented, Estimate):
        e = crimes_prevented
        if e.scale != "count":
            raise DataValidationError(
                "cost per crime prevented needs a count estimate (crimes), not a ratio"
            )
        return -e.estimate, -e.ci_high, -e.ci_low, e.level
    if isinstance(crimes_prevented, WDDHarmResult):
        raise DataValidationError(
            "a harm-weighted estimate is in harm units, not crimes; pass a WDD result instead"
        )
    try:
        est, lo, hi = (float(v) for v in crimes_prevented)
    except (TypeError, ValueError):
        raise DataValidationError(
            "crimes_prevented must be a WDDResult, RunningWDDResult, a count Estimate, or an "
            "(estimate, low, high) triple of crimes prevented (positive = fewer crimes)"
        ) from None
    if lo > hi:
        lo, hi = hi, lo
    return est, lo, hi, level


def cost_per_crime_prevented(
    *,
    crimes_prevented: WDDResult | RunningWDDResult | Estimate | tuple[float, float, float],
    total_cost: float,
    level: float | None = None,
) -> CostPerCrimeResult:
    """Cost per crime prevented, with an interval, saying plainly when it is undefined.

    Parameters
    ----------
    crimes_prevented
        The pilot's effect with its interval. A :class:`WDDResult`,
        :class:`RunningWDDResult` (its final month) or count :class:`Estimate` is a *change* in
        crimes (negative = fewer) and is negated; a plain ``(estimate, low, high)`` triple is
        taken as crimes prevented (positive = fewer crimes).
    total_cost
        What the pilot cost, in pounds (> 0).
    level
        Interval level of a plain triple (ignored for result objects, which carry their own).

    Returns
    -------
    CostPerCrimeResult
        ``cost_per_crime = total_cost / crimes_prevented`` and its interval
        ``[total_cost / high, total_cost / low]``. When the interval of crimes prevented
        includes zero or negative values, the upper limit is infinite (no upper bound) and the
        note says so; when the estimate itself is zero or negative, the cost per crime prevented
        is undefined (NaN) and ``defined`` is False.

    Notes
    -----
    The interval maps the interval of crimes prevented through ``c / x``, which is decreasing
    for ``x > 0``, so it has the same coverage as that interval (assuming the cost is known).
    It is not symmetric. Cost per crime prevented is a cost-effectiveness ratio, not a
    benefit: compare it with a unit cost of crime (:func:`police_uk_unit_cost`) for a rough
    benefit-cost reading, in the same price year.
    """
    cost = check_positive(total_cost, "total_cost")
    est, lo, hi, lvl = _prevented_from(crimes_prevented, level)
    nan, inf = math.nan, math.inf
    if est <= 0:
        note = (
            "the pilot is not estimated to have prevented any crimes "
            f"(estimate {format_number(est)}), so there is no cost per crime prevented"
        )
        ci_lo = cost / hi if hi > 0 else nan
        if hi > 0:
            note += (
                f"; the interval allows up to {format_number(hi)} crimes prevented, i.e. at least "
                f"£{ci_lo:,.0f} per crime"
            )
        return CostPerCrimeResult(
            cost_per_crime=nan,
            ci_low=ci_lo,
            ci_high=inf if hi > 0 else nan,
            crimes_prevented=est,
            prevented_low=lo,
            prevented_high=hi,
            total_cost=cost,
            level=lvl,
            defined=False,
            note=note,
        )
    note = ""
    if lo > 0:
        ci_hi = cost / lo
    else:
        ci_hi = inf
        note = (
            "The interval for crimes prevented includes zero or fewer, so the cost per crime "
            "prevented has no upper bound: the data are consistent with the pilot having "
            "prevented no crimes at all."
        )
    return CostPerCrimeResult(
        cost_per_crime=cost / est,
        ci_low=cost / hi,
        ci_high=ci_hi,
        crimes_prevented=est,
        prevented_low=lo,
        prevented_high=hi,
        total_cost=cost,
        level=lvl,
        defined=True,
        note=note,
    )


# ---------------------------------------------------------------------------------------------
# Harm and social cost of the crimes prevented
# ---------------------------------------------------------------------------------------------
def _mix_value(
    mix: Mapping[str, float], table: pd.DataFrame, key: str, value: str, what: str
) -> float:
    shares = {str(k): float(v) for k, v in mix.items()}
    if not shares or any(v < 0 or not math.isfinite(v) for v in shares.values()):
        raise DataValidationError(f"{what}: mix shares must be finite and not negative")
    if abs(sum(shares.values()) - 1.0) > 1e-6:
        raise DataValidationError(
            f"{what}: mix shares must sum to 1, got {sum(shares.values()):.4f}"
        )
    figures = dict(zip(table[key].astype(str), table[value].astype(float), strict=True))
    unknown = [k for k in shares if k not in figures]
    if unknown:
        raise DataValidationError(
            f"{what}: no shipped figure for {unknown} (see pilot_eval/data/README.md for what "
            f"could be confirmed); use one of {sorted(figures)}, or give your own value."
        )
    return float(sum(share * figures[k] for k, share in shares.items()))


def harm_weight_of_mix(mix: Mapping[str, float]) -> float:
    """Crime Severity Score weight of one crime of a local offence mix (days of custody).

    ``mix`` maps offence names of :func:`load_harm_weights` (e.g. ``"Wounding"``) to their share
    among the outcome's crimes; shares sum to 1. Returns ``sum(share x weight)``.
    """
    return _mix_value(mix, load_harm_weights(), "offence", "weight", "harm_weight")


def unit_cost_of_mix(mix: Mapping[str, float]) -> float:
    """Home Office social cost of one crime of a local mix of cost categories (2015/16 £).

    ``mix`` maps ``crime_category`` values of :func:`load_unit_costs` (e.g. ``"Robbery"``) to
    their share among the outcome's crimes; shares sum to 1. Returns ``sum(share x cost)``.
    """
    return _mix_value(mix, load_unit_costs(), "crime_category", "unit_cost_gbp", "unit_cost")


@dataclass(frozen=True)
class ValuePreventedResult(Result):
    """Harm or social cost of the crimes prevented, with the headline interval carried through.

    ``estimate``, ``ci_low`` and ``ci_high`` are ``per_crime x factor`` times the crimes
    prevented and its interval ends (positive = harm or cost avoided).
    """

    estimate: float
    ci_low: float
    ci_high: float
    level: float
    per_crime: float
    factor: float
    unit: str
    crimes_prevented: float
    prevented_low: float
    prevented_high: float

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "term": "value_prevented",
                    "estimate": self.estimate,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "level": self.level,
                    "per_crime": self.per_crime,
                    "factor": self.factor,
                    "unit": self.unit,
                }
            ]
        )

    def summary(self) -> str:
        return (
            f"{format_number(self.crimes_prevented)} crimes prevented x {self.per_crime:,.4g} "
            f"{self.unit} per crime"
            + (f" x {self.factor:g}" if self.factor != 1 else "")
            + f" = {format_number(self.estimate)} {self.unit} ("
            f"{format_level_of_alpha(1 - self.level)} interval {format_number(self.ci_low)} to "
            f"{format_number(self.ci_high)})."
        )


def value_prevented(
    *,
    crimes_prevented: tuple[float, float, float],
    per_crime: float,
    level: float,
    unit: str,
    factor: float = 1.0,
) -> ValuePreventedResult:
    """Harm or social cost of the crimes prevented, with their interval.

    Parameters
    ----------
    crimes_prevented
        ``(estimate, low, high)`` crimes prevented (positive = fewer crimes), e.g. from the
        headline interval (:func:`pilot_eval.pipeline.analyses.crimes_prevented`).
    per_crime
        Harm weight or social cost of one crime (> 0), e.g. :func:`harm_weight_of_mix` or
        :func:`unit_cost_of_mix`.
    level
        The interval's real level (the headline interval's).
    unit
        What ``per_crime`` is in (``"days of custody equivalent"``, ``"2015/16 pounds"``).
    factor
        A price uprating (e.g. a GDP deflator ratio from 2015/16), 1 for none.

    Returns
    -------
    ValuePreventedResult

    Notes
    -----
    Estimand: ``w x (crimes the pilot area would have had - crimes it had)``, with ``w`` the
    harm or cost of one crime of the outcome's local mix. Because ``w > 0`` is a fixed number,
    the interval is the crimes-prevented interval times ``w``, with the same coverage.
    Assumes the crimes prevented have the outcome's offence mix, and treats ``w`` as known:
    the uncertainty of the weights or costs is not in the interval. Sources: ONS (2016) Crime
    Severity Score; Heeks et al. (2018) *The economic and social costs of crime*, 2nd ed.,
    Home Office Research Report 99 (2015/16 prices).
    """
    w = check_positive(per_crime, "per_crime")
    f = check_positive(factor, "factor")
    lvl = check_alpha(1 - level, "1 - level")
    est, lo, hi = (float(v) for v in crimes_prevented)
    if lo > hi:
        lo, hi = hi, lo
    k = w * f
    return ValuePreventedResult(
        estimate=k * est,
        ci_low=k * lo,
        ci_high=k * hi,
        level=1 - lvl,
        per_crime=w,
        factor=f,
        unit=unit,
        crimes_prevented=est,
        prevented_low=lo,
        prevented_high=hi,
    )
