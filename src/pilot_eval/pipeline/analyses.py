"""The analysis registry: every analysis the evaluation runs, declared in one place.

Each :class:`Analysis` says what it is called, its role in the report, a plain-English
label, what it assumes, when it cannot run (``requires``) and how to run it (``run``,
returning a frozen :class:`~pilot_eval.results.Result`). :func:`pilot_eval.pipeline.evaluate`
loops over the registry in order, so an analysis may read the results of the analyses
before it (its ``needs``).

Adding an analysis is one estimator module (``estimators/`` or ``inference/``) plus one
:func:`register` call, here for the built-in ones or in a plugin module of your own (see
``ARCHITECTURE.md``, "Add an analysis").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from .. import columns as C
from ..errors import ConfigError
from ..results import Estimate, Result

if TYPE_CHECKING:
    from ..config import Outcome, PilotConfig
    from .prepare import PreparedPilot

__all__ = [
    "Analysis",
    "AnalysisInput",
    "Registry",
    "Role",
    "default_registry",
    "load_plugins",
    "register",
]

#: ``headline``: the answer and the inference it rests on; ``check``: does another method,
#: or another look at the data, agree?; ``secondary``: figures shown with a stated caveat.
Role = Literal["headline", "check", "secondary"]
ROLES: tuple[Role, ...] = ("headline", "check", "secondary")


@dataclass(frozen=True)
class AnalysisInput:
    """What an analysis sees: the prepared pilot, one outcome, options, earlier results.

    Attributes
    ----------
    prepared
        The validated inputs (:class:`~pilot_eval.pipeline.PreparedPilot`).
    outcome
        The outcome's config entry (``name``, ``expected_change``, …).
    alpha, power
        The report's significance level and the power its detectable effects use.
    seed
        Seed for anything sampled (placebo assignments, power simulations).
    done
        Results of the analyses that ran before this one for the same outcome, by name.
    executor
        Where an analysis may send independent pieces of its work (placebo fits, grid
        tests) with :func:`pilot_eval.parallel.map_chunks`; ``None``: this process.
    """

    prepared: PreparedPilot
    outcome: Outcome
    alpha: float
    power: float
    seed: int
    done: Mapping[str, Result]
    executor: Executor | None = None

    @property
    def config(self) -> PilotConfig:
        return self.prepared.config

    @property
    def panel(self) -> pd.DataFrame:
        return self.prepared.panel

    @property
    def name(self) -> str:
        """The outcome's name (its key in the panel)."""
        return self.outcome.name

    @property
    def n_treated(self) -> int:
        return self.prepared.n_treated

    def totals(self) -> pd.DataFrame:
        """Crimes by group (rows) before and after the start (columns ``pre``, ``post``)."""
        return outcome_totals(self.panel, self.name).set_index(C.GROUP)

    def result(self, name: str) -> Any:
        """An earlier analysis's result (``KeyError`` naming it when it did not run)."""
        try:
            return self.done[name]
        except KeyError:
            raise KeyError(f"analysis {name!r} has not run before this one") from None


def _always(_: AnalysisInput) -> str | None:
    return None


def _no_estimates(_: Any, __: AnalysisInput) -> tuple[Estimate, ...]:
    return ()


@dataclass(frozen=True)
class Analysis:
    """One analysis of one outcome, declared.

    Attributes
    ----------
    name
        Short identifier (``results.json``'s ``analyses[].name``); unique in a registry.
    role
        ``headline``, ``check`` or ``secondary`` (:data:`Role`).
    label
        What it is, in plain English, for the report.
    assumes
        What must hold for its numbers to mean what they say, in plain English.
    run
        ``run(inputs) -> Result``: a pure function of the inputs.
    requires
        ``requires(inputs) -> None`` when it can run here, else the reason it cannot
        (a sentence a funder can read: "it needs a year of data before the first fake start").
    needs
        Names of analyses whose results ``run`` reads (they must come earlier).
    estimates
        ``estimates(result, inputs) -> tuple[Estimate, ...]``: its rows in ``results.json``
        (none by default: not every result is a single estimate with an interval).
    """

    name: str
    role: Role
    label: str
    assumes: str
    run: Callable[[AnalysisInput], Result]
    requires: Callable[[AnalysisInput], str | None] = _always
    needs: tuple[str, ...] = ()
    estimates: Callable[[Any, AnalysisInput], tuple[Estimate, ...]] = _no_estimates

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ConfigError(
                f"analysis {self.name!r}: role must be one of {', '.join(ROLES)}, not {self.role!r}"
            )
        if not self.name or not self.name.replace("_", "").isalnum():
            raise ConfigError(
                f"analysis name {self.name!r}: use letters, digits and underscores only"
            )


@dataclass
class Registry:
    """An ordered set of analyses (``evaluate`` runs them in this order)."""

    _items: dict[str, Analysis] = field(default_factory=dict)

    def add(self, analysis: Analysis, *, replace: bool = False) -> Analysis:
        if analysis.name in self._items and not replace:
            raise ConfigError(
                f"an analysis named {analysis.name!r} is already registered: pick another "
                "name, or pass replace=True to replace it"
            )
        missing = [n for n in analysis.needs if n not in self._items]
        if missing:
            raise ConfigError(
                f"analysis {analysis.name!r} needs {', '.join(map(repr, missing))}, which "
                "must be registered before it"
            )
        self._items[analysis.name] = analysis
        return analysis

    def remove(self, name: str) -> None:
        dependants = [a.name for a in self._items.values() if name in a.needs]
        if dependants:
            raise ConfigError(f"cannot remove {name!r}: {', '.join(dependants)} need(s) it")
        del self._items[name]

    def __iter__(self) -> Iterator[Analysis]:
        return iter(tuple(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __getitem__(self, name: str) -> Analysis:
        return self._items[name]

    def names(self) -> tuple[str, ...]:
        return tuple(self._items)

    def copy(self) -> Registry:
        return Registry(dict(self._items))


def outcome_totals(panel: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Crimes by group before and after the start: ``group, pre, post`` (report order)."""
    df = panel[panel[C.OUTCOME] == outcome]
    t = (
        df.groupby([C.GROUP, C.POST], observed=True)[C.COUNT]
        .sum()
        .unstack(C.POST)
        .reindex(columns=[False, True], fill_value=0)
        .rename(columns={False: "pre", True: "post"})
    )
    order = [g for g in C.GROUPS if g in t.index]
    return t.loc[order].reset_index()


# -- the built-in analyses --------------------------------------------------------------------
# Each entry adapts one estimator (estimators/, inference/) to the pipeline: options from the
# config, eligibility in words, and its results.json rows. Numbers happen in the estimators.


def _dispersion(x: AnalysisInput) -> Result:
    from ..estimators.rates import panel_dispersion_test

    return panel_dispersion_test(x.panel, outcome=x.name, alpha=x.alpha)


def _phi(x: AnalysisInput) -> float:
    return max(1.0, float(x.result("dispersion").dispersion))


def _mde(x: AnalysisInput) -> Result:
    from ..inference import mde_conformal

    # The MDE of the test the headline uses (conformal), by simulation from the pre period;
    # a Wald formula overstated power about twofold (tests/inference/test_power_conformal.py).
    return mde_conformal(
        x.panel,
        outcome=x.name,
        alpha=x.alpha,
        power=x.power,
        direction=x.outcome.expected_change,
        two_sided=True,
        seed=x.seed,
    )


def _conformal(x: AnalysisInput) -> Result:
    from ..inference import conformal_inference

    return conformal_inference(x.panel, outcome=x.name, level=1.0 - x.alpha)


def _placebo(x: AnalysisInput) -> Result:
    from ..inference import placebo_in_space

    return placebo_in_space(
        x.panel,
        outcome=x.name,
        direction=x.outcome.expected_change,
        scale="quasipoisson",
        seed=x.seed,
    )


def _size_adjusted(x: AnalysisInput) -> Result:
    from ..inference import size_adjusted_interval

    return size_adjusted_interval(x.panel, outcome=x.name, level=1.0 - x.alpha, seed=x.seed)


def _placebo_row(interval: Any, x: AnalysisInput) -> tuple[Estimate, ...]:
    """Placebo-in-space headline row: its ratio, rank p-value and size-adjusted interval.

    Both come from the same reference set (every area given the treatment in turn), so the
    interval and the p-value agree in what they assume.
    """
    placebo = x.result("placebo")
    return (
        Estimate(
            outcome=x.name,
            method="placebo_in_space",
            estimate=float(placebo.ratio),
            ci_low=float(interval.ci_low),
            ci_high=float(interval.ci_high),
            p_value=float(placebo.p_two_sided),
            scale="ratio",
            level=float(interval.level),
            role="headline",
            note=(
                f"rank {placebo.rank} of {placebo.n_reference} (pilot area counted in its own "
                f"reference set); p_value is two-sided; smallest possible p {placebo.min_p:.4f}; "
                f"one-sided p for a fall {placebo.p_one_sided:.4f}; interval: size-adjusted placebo interval, "
                f"real level {interval.level:.3f}"
            ),
        ),
    )


def _wdd_rows(result: Any, x: AnalysisInput) -> tuple[Estimate, ...]:
    """Two estimands, two names: the pilot area alone, and pilot area plus buffer."""
    total = result.to_estimate(outcome=x.name, role="robustness", term="total")
    local = result.to_estimate(outcome=x.name, role="robustness", term="local")
    return (
        replace(
            total,
            method=f"{result.method}_total",
            note=(total.note + " " if total.note else "")
            + "estimand: crimes prevented in the pilot area plus its buffer (displacement)",
        ),
        replace(
            local,
            method=f"{result.method}_local",
            note=(local.note + " " if local.note else "")
            + "estimand: crimes prevented in the pilot area alone",
        ),
    )


def _conley_taber(x: AnalysisInput) -> Result:
    from ..inference import conley_taber_interval

    return conley_taber_interval(x.panel, outcome=x.name, level=1.0 - x.alpha, seed=x.seed)


def _wdd(x: AnalysisInput) -> Result:
    from ..estimators import wdd_scaled

    return wdd_scaled(x.panel, outcome=x.name, alpha=x.alpha, dispersion=_phi(x))


def _wdq(x: AnalysisInput) -> Result:
    from ..estimators import wdq_interval

    return wdq_interval(x.panel, outcome=x.name, alpha=x.alpha, dispersion=_phi(x), seed=x.seed)


def _has_buffer(x: AnalysisInput) -> str | None:
    if (x.panel[C.GROUP] == "buffer").any():
        return None
    return "there is no displacement buffer around the pilot area"


def _wdq_rows(result: Any, x: AnalysisInput) -> tuple[Estimate, ...]:
    if not result.defined:
        return ()
    return (
        Estimate(
            outcome=x.name,
            method="wdq",
            estimate=result.wdq,
            ci_low=result.ci_low,
            ci_high=result.ci_high,
            p_value=None,
            scale="quotient",
            level=result.level,
            role="secondary",
            note="weighted displacement quotient (buffer change / pilot-area change, both "
            "relative to the comparison areas); > 0 diffusion of benefit, < 0 displacement; "
            "parametric bootstrap interval",
        ),
    )


def equal_window_months(cfg: PilotConfig) -> int:
    """Months in each of the equal windows before and after: the shorter of the two."""
    return min(cfg.windows.pre_months, cfg.windows.post_months)


def incidents_by_period(prepared: PreparedPilot, crime_types: Sequence[str]) -> pd.DataFrame:
    """The located crimes of ``crime_types`` in two equal windows, with a ``period`` column.

    ``"before"``: the ``n`` months before the start; ``"after"``: the first ``n`` months of
    the after window (``n`` from :func:`equal_window_months`), so the density maps and the
    point-pattern test compare like with like. Crimes outside both windows are left out.
    """
    cfg = prepared.config
    inc = prepared.incidents
    assert inc is not None
    n = equal_window_months(cfg)
    start, post = cfg.intervention.start, cfg.post_start
    inc = inc[inc[C.CRIME_TYPE].isin(crime_types)]
    m = inc[C.MONTH]
    before = (m >= start - pd.DateOffset(months=n)) & (m < start)
    after = (m >= post) & (m <= post + pd.DateOffset(months=n - 1))
    period = pd.Series("after", index=inc.index).mask(before, "before")
    return inc.assign(period=period)[before | after]


def _points_by_period(x: AnalysisInput) -> tuple[pd.Series, pd.Series]:
    inc = incidents_by_period(x.prepared, x.outcome.crime_types)
    areas = inc[C.AREA].astype(str)
    return areas[inc["period"] == "before"], areas[inc["period"] == "after"]


def _sppt(x: AnalysisInput) -> Result:
    from ..inference.sppt import sppt_diff

    base, test = _points_by_period(x)
    return sppt_diff(
        base, test, units=list(x.prepared.areas[C.AREA].astype(str)), conf_level=1.0 - x.alpha
    )


def _sppt_requires(x: AnalysisInput) -> str | None:
    if x.prepared.incidents is None:
        return "crimes were counted by area, not recorded as points"
    if x.outcome.from_reports:
        return "it compares where recorded crimes happened"
    base, test = _points_by_period(x)
    if len(base) == 0 or len(test) == 0:
        return "no crimes were recorded in one of the two periods"
    return None


def _log_irr(x: AnalysisInput) -> Result:
    from ..estimators import log_irr

    return log_irr(x.panel, outcome=x.name, alpha=x.alpha, dispersion=_phi(x))


def _did(x: AnalysisInput) -> Result:
    from ..estimators.did import poisson_did

    return poisson_did(x.panel, outcome=x.name, family="quasipoisson", alpha=x.alpha)


def _event_study(x: AnalysisInput) -> Result:
    from ..estimators.did import event_study

    return event_study(
        x.panel, outcome=x.name, family="quasipoisson", alpha=x.alpha, bin_edges="quarter"
    )


def _placebo_time(x: AnalysisInput) -> Result:
    from ..inference import placebo_in_time

    return placebo_in_time(x.panel, outcome=x.name, direction=x.outcome.expected_change)


#: Fewest fake start dates for the placebo-in-time picture to be shown.
MIN_FAKE_STARTS = 6
_PLACEBO_TIME_MIN_PRE = 12  # placebo_in_time's default min_pre


def n_fake_starts(
    pre_months: int, post_months: int, *, min_pre: int = _PLACEBO_TIME_MIN_PRE
) -> int:
    """Fake start dates that fit, counted as ``inference/placebo_time.py`` ``_design`` does.

    Window ``w = min(post, pre - min_pre)``; starts ``min_pre, ..., pre - w``.
    """
    w = min(post_months, pre_months - min_pre)
    if w < 1:
        return 0
    return max(0, pre_months - w - min_pre + 1)


def _rollout_left_out(x: AnalysisInput, what: str) -> str | None:
    """Why a month-by-month analysis cannot run on a panel with the roll-out left out."""
    gone = x.config.excluded_months
    if len(gone) == 0:
        return None
    return (
        f"{what} needs every month in a row, and the roll-out months ({gone[0]:%B %Y} to "
        f"{gone[-1]:%B %Y}) are left out of this evaluation (windows.exclude_implementation)"
    )


def _event_study_requires(x: AnalysisInput) -> str | None:
    return _rollout_left_out(x, "an event study")


def _needs_pre_year(x: AnalysisInput) -> str | None:
    gap = _rollout_left_out(x, "the fake-start-date picture")
    if gap is not None:
        return gap
    w = x.config.windows
    n = n_fake_starts(w.pre_months, w.post_months)
    if n >= MIN_FAKE_STARTS:
        return None
    return (
        f"only {n} fake start date{'' if n == 1 else 's'} fit (at least {MIN_FAKE_STARTS} are "
        f"needed, each with a year of history before it and a window as long as the "
        f"{min(w.post_months, max(w.pre_months - _PLACEBO_TIME_MIN_PRE, 0))} months after the "
        f"start ending before the real start); this evaluation has {w.pre_months} months "
        "before the start"
    )


def _its(x: AnalysisInput) -> Result:
    from ..estimators.its import interrupted_time_series

    return interrupted_time_series(x.panel, outcome=x.name, alpha=x.alpha)


def _its_requires(x: AnalysisInput) -> str | None:
    gap = _rollout_left_out(x, "an interrupted time series")
    if gap is not None:
        return gap
    w = x.config.windows
    if w.post_months >= 3 and w.pre_months >= 12:
        return None
    return (
        "an interrupted time series needs at least 12 months before the start and 3 after "
        f"(this evaluation has {w.pre_months} and {w.post_months})"
    )


def _one_treated(what: str) -> Callable[[AnalysisInput], str | None]:
    def requires(x: AnalysisInput) -> str | None:
        if x.n_treated == 1:
            return None
        return f"{what} is built for one pilot area; this pilot has {x.n_treated}"

    return requires


def _synth(x: AnalysisInput) -> Result:
    from ..estimators.synth import synthetic_control

    return synthetic_control(x.panel, outcome=x.name, alpha=x.alpha, executor=x.executor)


def _synth_conformal(x: AnalysisInput) -> Result:
    from ..inference.synth_conformal import synth_conformal

    return synth_conformal(x.panel, outcome=x.name, level=1.0 - x.alpha, executor=x.executor)


def _pretrend(x: AnalysisInput) -> Result:
    from ..inference.pretrend import pretrend_test

    return pretrend_test(x.panel, outcome=x.name, alpha=0.10, seed=x.seed)


def _trend_robust(x: AnalysisInput) -> Result:
    from ..inference.pretrend import trend_robust_did

    return trend_robust_did(x.panel, outcome=x.name, level=1.0 - x.alpha, seed=x.seed)


def _sensitivity(x: AnalysisInput) -> Result:
    from ..inference.pretrend import trend_sensitivity

    bins = 12 if x.config.windows.pre_months >= 24 else 3
    return trend_sensitivity(
        x.panel, outcome=x.name, level=1.0 - x.alpha, bin_months=bins, seed=x.seed
    )


def _sensitivity_requires(x: AnalysisInput) -> str | None:
    if x.config.windows.pre_months >= 6:
        return None
    return (
        "the sensitivity analysis needs at least two periods before the start to see how much "
        f"the pilot area's trend moved (this evaluation has {x.config.windows.pre_months} months)"
    )


def _pre_months_at_least(n: int) -> Callable[[AnalysisInput], str | None]:
    def requires(x: AnalysisInput) -> str | None:
        if x.config.windows.pre_months >= n:
            return None
        return (
            f"a pre-period trend needs at least {n} months before the start (this evaluation "
            f"has {x.config.windows.pre_months})"
        )

    return requires


def _trend_robust_requires(x: AnalysisInput) -> str | None:
    if x.n_treated > 1:
        # tests/inference/test_pretrend_worlds.py: with 4 pilot areas of 17 its interval
        # covered the truth about 90 % of the time, not the level it would claim.
        return (
            "its interval is calibrated for one pilot area; with several it covered the truth "
            "less often than its stated level in simulations"
        )
    return _pre_months_at_least(6)(x)


def _per_resident(x: AnalysisInput) -> Result:
    from ..estimators.per_resident import rates_per_resident

    assert x.prepared.population is not None
    return rates_per_resident(x.panel, x.prepared.population, outcome=x.name)


def _per_resident_requires(x: AnalysisInput) -> str | None:
    if x.prepared.population is not None:
        return None
    return "no population file was given for the areas"


def _selection(x: AnalysisInput) -> Result:
    from ..estimators.selection import rank_comparison_areas

    return rank_comparison_areas(x.panel, outcome=x.name, n=10)


def _total_cost(x: AnalysisInput) -> float:
    return float(sum(c.cost or 0.0 for c in x.config.intervention.components))


def _cost(x: AnalysisInput) -> Result:
    from ..estimators import cost_per_crime_prevented

    conformal = x.result("conformal")
    t_post = float(x.totals().loc["treated", "post"])
    return cost_per_crime_prevented(
        crimes_prevented=crimes_prevented(t_post, conformal),
        total_cost=_total_cost(x),
        level=conformal.level,
    )


#: Why nothing is "prevented" for a StreetSafe / QR-code outcome (cost, harm, social cost).
NOT_CRIMES = "StreetSafe / QR-code reports are not crimes, so none are 'prevented'"


def _cost_requires(x: AnalysisInput) -> str | None:
    if x.outcome.from_reports:
        return NOT_CRIMES
    if _total_cost(x) > 0:
        return None
    return "no component of the pilot has a recorded cost"


def _per_crime(x: AnalysisInput, which: str) -> float:
    from ..estimators import harm_weight_of_mix, unit_cost_of_mix

    spec = getattr(x.outcome, which)
    if spec.value is not None:
        return float(spec.value)
    return harm_weight_of_mix(spec.mix) if which == "harm_weight" else unit_cost_of_mix(spec.mix)


def _valued(which: str) -> Callable[[AnalysisInput], Result]:
    def run(x: AnalysisInput) -> Result:
        from ..estimators import value_prevented

        conformal = x.result("conformal")
        t_post = float(x.totals().loc["treated", "post"])
        up = x.config.report.price_uprating
        cost = which == "unit_cost"
        return value_prevented(
            crimes_prevented=crimes_prevented(t_post, conformal),
            per_crime=_per_crime(x, which),
            level=conformal.level,
            unit="pounds" if cost else "days of custody equivalent",
            factor=up.factor if cost and up is not None else 1.0,
        )

    return run


def _valued_requires(which: str, what: str) -> Callable[[AnalysisInput], str | None]:
    def requires(x: AnalysisInput) -> str | None:
        if x.outcome.from_reports:
            return NOT_CRIMES
        if getattr(x.outcome, which, None) is None:
            return f"no {what} per crime was given for this outcome"
        return None

    return requires


def _valued_rows(scale: str) -> Callable[[Any, AnalysisInput], tuple[Estimate, ...]]:
    def rows(result: Any, x: AnalysisInput) -> tuple[Estimate, ...]:
        spec = getattr(x.outcome, "unit_cost" if scale == "gbp" else "harm_weight")
        return (
            Estimate(
                outcome=x.name,
                method="social_cost_prevented" if scale == "gbp" else "harm_prevented",
                estimate=result.estimate,
                ci_low=result.ci_low,
                ci_high=result.ci_high,
                p_value=None,
                scale=scale,  # type: ignore[arg-type]
                level=result.level,
                role="secondary",
                note=f"crimes prevented (headline interval) x {result.per_crime:.6g} per crime"
                + (f" x uprating {result.factor:g}" if result.factor != 1 else "")
                + f"; source: {spec.source}",
            ),
        )

    return rows


def crimes_prevented(treated_post: float, interval: Any) -> tuple[float, float, float]:
    """Crimes prevented in the pilot area, with the headline interval carried through.

    With ``T`` crimes recorded after the start and a rate ratio ``r`` (recorded / expected),
    the pilot area would have expected ``T / r``, so ``T / r - T`` crimes were prevented. The
    ratio's interval maps to the count's (a ratio of 1 means none; an unbounded ratio, none
    bounded).
    """
    import numpy as np

    t = float(treated_post)

    def prevented(r: float) -> float:
        if not np.isfinite(r):
            return -t if r > 0 else float("inf")
        return float("inf") if r <= 0 else t / r - t

    return prevented(interval.irr), prevented(interval.ci_high), prevented(interval.ci_low)


def _role_estimates(role: str) -> Callable[[Any, AnalysisInput], tuple[Estimate, ...]]:
    """Rows for results that have ``to_estimate(outcome=, role=)``."""

    def rows(result: Any, x: AnalysisInput) -> tuple[Estimate, ...]:
        return (result.to_estimate(outcome=x.name, role=role),)

    return rows


def _builtin() -> Registry:
    r = Registry()
    r.add(
        Analysis(
            name="dispersion",
            role="check",
            label="Dispersion test: do monthly counts vary more than chance alone?",
            assumes="the two-way (area and month) Poisson model describes the mean",
            run=_dispersion,
        )
    )
    r.add(
        Analysis(
            name="mde",
            role="headline",
            label="Minimum detectable effect of the headline test",
            assumes="months before the start are a fair guide to the noise after it",
            run=_mde,
        )
    )
    r.add(
        Analysis(
            name="conformal",
            role="headline",
            label="Conformal inference over time (the headline interval)",
            assumes="the pilot area's deviations from the comparison trend are exchangeable "
            "over time (valid with one treated area)",
            run=_conformal,
            estimates=_role_estimates("headline"),
        )
    )
    r.add(
        Analysis(
            name="placebo",
            role="headline",
            label="Placebo-in-space ranking: how unusual is the pilot area's change?",
            assumes="had there been no pilot, the pilot area would be like any other area",
            run=_placebo,
        )
    )
    r.add(
        Analysis(
            name="size_adjusted",
            role="headline",
            label="Size-adjusted placebo interval",
            assumes="the areas' deviations, scaled by their size, are alike; level set by "
            "the number of areas",
            run=_size_adjusted,
            needs=("placebo",),
            estimates=_placebo_row,
        )
    )
    r.add(
        Analysis(
            name="conley_taber",
            role="check",
            label="Conley–Taber interval",
            assumes="areas' noise alike; mis-sized for unusually small or large areas",
            run=_conley_taber,
            estimates=_role_estimates("robustness"),
        )
    )
    r.add(
        Analysis(
            name="wdd",
            role="check",
            label="Weighted displacement difference (crimes, with displacement in the buffer)",
            assumes="Poisson counts widened for overdispersion; no serial correlation",
            run=_wdd,
            needs=("dispersion",),
            estimates=_wdd_rows,
        )
    )
    r.add(
        Analysis(
            name="wdq",
            role="check",
            label="Weighted displacement quotient: did crime move to the buffer, or did the "
            "benefit spread?",
            assumes="the buffer is where displaced crime would go; totals independent and "
            "overdispersed like the monthly counts (parametric bootstrap)",
            run=_wdq,
            requires=_has_buffer,
            needs=("dispersion",),
            estimates=_wdq_rows,
        )
    )
    r.add(
        Analysis(
            name="sppt",
            role="check",
            label="Spatial point pattern test: did each area keep its share of the crimes?",
            assumes="crimes fall independently in the areas; equal-length windows before and "
            "after; proportion test per area with the Benjamini–Yekutieli adjustment "
            "(Wheeler, Steenbeek and Andresen 2018)",
            run=_sppt,
            requires=_sppt_requires,
        )
    )
    r.add(
        Analysis(
            name="log_irr",
            role="secondary",
            label="Log rate ratio (Wilson)",
            assumes="Poisson counts; no serial correlation",
            run=_log_irr,
            needs=("dispersion",),
            estimates=_role_estimates("secondary"),
        )
    )
    r.add(
        Analysis(
            name="did",
            role="secondary",
            label="Quasi-Poisson difference-in-differences, area and month effects",
            assumes="no serial correlation",
            run=_did,
            estimates=_role_estimates("secondary"),
        )
    )
    r.add(
        Analysis(
            name="event_study",
            role="check",
            label="Event study: was the pilot area already moving differently before the start?",
            assumes="quarterly ratios to the comparison trend; no serial correlation",
            run=_event_study,
            requires=_event_study_requires,
        )
    )
    r.add(
        Analysis(
            name="placebo_time",
            role="check",
            label="Fake start dates (a picture, not a test)",
            assumes="the pilot area's own history is a fair reference",
            run=_placebo_time,
            requires=_needs_pre_year,
        )
    )
    r.add(
        Analysis(
            name="its",
            role="check",
            label="Interrupted time series, level change",
            assumes="the pilot area's own trend and seasons continue",
            run=_its,
            requires=_its_requires,
            estimates=_role_estimates("robustness"),
        )
    )
    r.add(
        Analysis(
            name="synth",
            role="check",
            label="Synthetic control (a rank, not an interval)",
            assumes="a weighted mix of comparison areas tracks the pilot area before the start",
            run=_synth,
            requires=_one_treated("a synthetic control"),
        )
    )
    r.add(
        Analysis(
            name="synth_conformal",
            role="check",
            label="Synthetic control with a conformal interval",
            assumes="a weighted mix of comparison areas plus a constant tracks the pilot area; "
            "its deviations are alike from month to month (valid with one treated area)",
            run=_synth_conformal,
            requires=_one_treated("a synthetic control"),
            estimates=_role_estimates("robustness"),
        )
    )
    r.add(
        Analysis(
            name="pretrend",
            role="check",
            label="Pre-trend test: was the pilot area already drifting away from the others?",
            assumes="areas' pre-start drifts are alike (placebo-in-space on the monthly slope)",
            run=_pretrend,
            requires=_pre_months_at_least(6),
        )
    )
    r.add(
        Analysis(
            name="trend_robust",
            role="check",
            label="Trend-adjusted comparison: the pilot area's own pre-start drift continued",
            assumes="the pilot area's drift relative to the others would have continued in a "
            "straight line; areas' detrended deviations alike",
            run=_trend_robust,
            requires=_trend_robust_requires,
            estimates=_role_estimates("robustness"),
        )
    )
    r.add(
        Analysis(
            name="sensitivity",
            role="check",
            label="Sensitivity: how big a departure from parallel trends would explain the "
            "result away?",
            assumes="departures after the start are bounded by a multiple of those seen before",
            run=_sensitivity,
            requires=_sensitivity_requires,
        )
    )
    r.add(
        Analysis(
            name="selection",
            role="check",
            label="Comparison areas most like the pilot area before the start",
            assumes="similar level, trend and month-to-month pattern before the start",
            run=_selection,
            requires=_one_treated("ranking comparison areas against the pilot area"),
        )
    )
    r.add(
        Analysis(
            name="per_resident",
            role="secondary",
            label="Recorded crime per 1,000 residents a year, before and after",
            assumes="the residents counted once (e.g. a mid-year estimate) stand for both "
            "windows; a description, not a test",
            run=_per_resident,
            requires=_per_resident_requires,
        )
    )
    r.add(
        Analysis(
            name="cost",
            role="secondary",
            label="Cost per crime prevented",
            assumes="the recorded costs are the pilot's whole cost; crimes prevented from the "
            "headline interval",
            run=_cost,
            requires=_cost_requires,
            needs=("conformal",),
        )
    )
    r.add(
        Analysis(
            name="harm",
            role="secondary",
            label="Harm prevented (Crime Severity Score, days of custody equivalent)",
            assumes="the crimes prevented have the outcome's offence mix; the weight per crime "
            "is known; crimes prevented from the headline interval",
            run=_valued("harm_weight"),
            requires=_valued_requires("harm_weight", "harm weight"),
            needs=("conformal",),
            estimates=_valued_rows("harm"),
        )
    )
    r.add(
        Analysis(
            name="social_cost",
            role="secondary",
            label="Social cost of the crimes prevented (Home Office unit costs)",
            assumes="the crimes prevented have the outcome's offence mix; the cost per crime is "
            "known; crimes prevented from the headline interval",
            run=_valued("unit_cost"),
            requires=_valued_requires("unit_cost", "social cost"),
            needs=("conformal",),
            estimates=_valued_rows("gbp"),
        )
    )
    return r


_DEFAULT = _builtin()


def default_registry() -> Registry:
    """The registry :func:`~pilot_eval.pipeline.evaluate` uses unless given another."""
    return _DEFAULT


def register(analysis: Analysis, *, replace: bool = False) -> Analysis:
    """Add an analysis to the default registry (it then runs in every evaluation).

    Plugin modules call this at import; ``pilot-eval run -p plugins my_module`` imports them
    in the report's kernel before the evaluation.
    """
    return _DEFAULT.add(analysis, replace=replace)


def load_plugins(modules: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Import plugin modules, which register their analyses when imported.

    Parameters
    ----------
    modules
        Module names, as a list or one comma-separated string (empty: none).

    Returns
    -------
    tuple of str
        The modules imported.

    Raises
    ------
    ConfigError
        A module cannot be imported (the message names it and what to check).
    """
    import importlib

    names = [m.strip() for m in modules.split(",")] if isinstance(modules, str) else list(modules)
    done: list[str] = []
    for name in (n for n in names if n):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(
                f"analysis plugin {name!r} cannot be imported ({exc}): check the module name "
                "and that it is installed in the report's Python environment"
            ) from exc
        done.append(name)
    return tuple(done)
