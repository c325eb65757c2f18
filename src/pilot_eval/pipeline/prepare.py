"""One pilot, end to end: config → prepared data → evaluation → results.

The notebook calls :func:`prepare` and :func:`evaluate`; both are pure with respect to their
inputs (nothing the user supplied is modified) and fail loudly with :class:`PilotEvalError`.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import columns as C
from .config import PilotConfig, load_config

__all__ = ["PreparedPilot", "load_config", "prepare", "cache_dir"]


def cache_dir() -> Path:
    """Where parsed police.uk files are cached (``$PILOT_EVAL_CACHE`` or the user cache)."""
    env = os.environ.get("PILOT_EVAL_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pilot-eval"


@dataclass(frozen=True)
class PreparedPilot:
    """Validated inputs of one pilot, ready for estimation."""

    config: PilotConfig
    areas: gpd.GeoDataFrame
    panel: pd.DataFrame
    interventions: pd.DataFrame | None
    #: Resident survey responses (``area, wave, answer, weight``), when the config has one.
    survey: pd.DataFrame | None
    #: Plain-English notes on the data (rows left out and why), shown in the report.
    data_notes: tuple[str, ...]

    @property
    def n_areas(self) -> int:
        return int((self.areas[C.GROUP] != "buffer").sum())

    @property
    def n_treated(self) -> int:
        return int((self.areas[C.GROUP] == "treated").sum())

    def describe(self) -> str:
        cfg = self.config
        g = self.areas[C.GROUP].value_counts()
        lines = [
            f"Pilot: {cfg.name} ({cfg.slug})" + (" — SYNTHETIC DEMO DATA" if cfg.synthetic else ""),
            f"Areas: {g.get('treated', 0)} treated, {g.get('comparison', 0)} comparison"
            + (f", plus a {cfg.buffer_m:g} m displacement buffer" if g.get("buffer", 0) else ""),
            f"Months: {cfg.months[0]:%Y-%m} to {cfg.months[-1]:%Y-%m} "
            f"({cfg.windows.pre_months} before, {cfg.windows.post_months} from the start "
            f"{cfg.intervention.start:%Y-%m})",
        ]
        tot = self.panel.groupby([C.OUTCOME, C.GROUP])[C.COUNT].sum().unstack(C.GROUP)
        for outcome, row in tot.iterrows():
            parts = ", ".join(f"{k} {int(v):,}" for k, v in row.items() if pd.notna(v))
            lines.append(f"Outcome '{outcome}': {parts} crimes")
        lines.extend(self.data_notes)
        return "\n".join(lines)


def _share(n: int, total: int) -> str:
    return f"{n:,} of {total:,} ({(100.0 * n / total) if total else 0:.1f} %)"


def _check_police_uk_request(cfg: PilotConfig, wanted) -> None:
    """Before reading: refuse unknown crime types and windows the files do not cover.

    A month with no police.uk file would otherwise be zero-filled and read as a month with
    no crime, which can fake a large fall (or rise). Only file names are needed, so this runs
    before the (costly) parse.
    """
    from .errors import DataValidationError
    from .io.policeuk import police_uk_months

    unknown = sorted(set(wanted) - set(C.POLICE_UK_CRIME_TYPES))
    if unknown:
        import difflib

        said = "; ".join(
            f"{u!r}"
            + "".join(
                f" (did you mean {h!r}?)"
                for h in difflib.get_close_matches(u, C.POLICE_UK_CRIME_TYPES, n=1, cutoff=0.6)
            )
            for u in unknown
        )
        raise DataValidationError(
            f"{cfg.data.crimes}: {said} in the config's outcomes is not a police.uk crime type. "
            f"The types are: {', '.join(C.POLICE_UK_CRIME_TYPES)}."
        )
    by_force = police_uk_months(cfg.data.crimes)
    present = set().union(*by_force.values()) if by_force else set()
    missing = [m for m in cfg.months if m not in present]
    if missing:
        raise DataValidationError(
            f"{cfg.data.crimes}: no police.uk file for {_month_runs(missing)} (of the "
            f"evaluation's {cfg.months[0]:%Y-%m} to {cfg.months[-1]:%Y-%m}). Months without "
            "data cannot be counted as months without crime: download them (pilot-eval fetch "
            "police) or shorten windows.pre_months / windows.post_months."
        )
    for force, months in sorted(by_force.items()):
        gaps = [m for m in cfg.months if m not in months]
        if gaps and len(gaps) < len(cfg.months):
            raise DataValidationError(
                f"{cfg.data.crimes}: force {force!r} has no police.uk file for "
                f"{_month_runs(gaps)} inside the evaluation window, so its crimes would be "
                "missing in those months. Download them, or shorten the windows."
            )


def _check_crime_types_present(incidents: pd.DataFrame, cfg: PilotConfig, wanted) -> None:
    """After reading: every outcome's crime types occur somewhere in the window."""
    from .errors import DataValidationError

    absent = sorted(set(wanted) - set(incidents[C.CRIME_TYPE].dropna().unique()))
    if absent:
        raise DataValidationError(
            f"{cfg.data.crimes}: no {', '.join(repr(a) for a in absent)} at all in the data for "
            f"{cfg.months[0]:%Y-%m} to {cfg.months[-1]:%Y-%m}, so that outcome cannot be "
            "evaluated: check the data folder and the windows, or drop the crime type."
        )


def _month_runs(months: list[pd.Timestamp]) -> str:
    """['2025-04', '2025-05', '2025-07'] -> '2025-04 to 2025-05, 2025-07'."""
    runs: list[list[pd.Timestamp]] = []
    for m in sorted(months):
        if runs and m == runs[-1][-1] + pd.DateOffset(months=1):
            runs[-1].append(m)
        else:
            runs.append([m])
    return ", ".join(
        f"{r[0]:%Y-%m}" if len(r) == 1 else f"{r[0]:%Y-%m} to {r[-1]:%Y-%m}" for r in runs
    )


def _check_treated_has_crimes(panel: pd.DataFrame, cfg: PilotConfig) -> None:
    """A pilot area with no recorded crime before the start has no change to estimate."""
    from .errors import DataValidationError

    pre = panel[panel[C.TREATED] & ~panel[C.POST]]
    totals = pre.groupby(C.OUTCOME, observed=True)[C.COUNT].sum()
    empty = [o.name for o in cfg.outcomes if totals.get(o.name, 0) == 0]
    if empty:
        raise DataValidationError(
            f"the pilot area has no recorded {', '.join(repr(e) for e in empty)} in the "
            f"{cfg.windows.pre_months} months before the start, so no change can be estimated. "
            "Check the treated area (codes or polygon) and the outcome's crime types, or drop "
            "that outcome."
        )


def neighbours_as_buffer(areas: gpd.GeoDataFrame, *, distance_m: float) -> gpd.GeoDataFrame:
    """Mark comparison areas within ``distance_m`` of the treated area(s) as ``buffer``.

    For area-level counts (MPS ward/LSOA tables), where crimes cannot be split at a buffer's
    edge. Returns a new frame; each buffer area keeps its own code.
    """
    treated = areas.loc[areas[C.GROUP] == "treated"].geometry.union_all()
    near = (areas[C.GROUP] == "comparison") & (areas.geometry.distance(treated) <= distance_m)
    out = areas.copy()
    out.loc[near, C.GROUP] = "buffer"
    if not (out[C.GROUP] == "comparison").any():
        from .errors import ConfigError

        raise ConfigError(
            f"every comparison area lies within buffer_m = {distance_m:g} m of the pilot area, "
            "so none is left to compare with: lower buffer_m (0 turns the buffer off)"
        )
    return out


def prepare(config: PilotConfig | str | Path) -> PreparedPilot:
    """Load, validate and assemble a pilot's data into areas and an area × month panel.

    Parameters
    ----------
    config
        A validated config, or the path of a pilot YAML.

    Returns
    -------
    PreparedPilot
        Areas (EPSG:27700), the zero-filled panel (see :mod:`pilot_eval.columns`), the
        intervention log and notes on rows left out.
    """
    cfg = config if isinstance(config, PilotConfig) else load_config(config)
    # Loaders warn about rows they leave out or repair; those warnings become notes in the
    # report ("About the data") instead of scrolling past in a log.
    from .errors import DataQualityWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepared = _prepare(cfg)
    notes = list(prepared.data_notes)
    for w in caught:
        if issubclass(w.category, DataQualityWarning):
            if str(w.message) not in notes:
                notes.append(str(w.message))
        else:  # not about the data (e.g. a cache that could not be written): the log only
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return replace(prepared, data_notes=tuple(notes))


def _prepare(cfg: PilotConfig) -> PreparedPilot:
    from .areas import assign_points, build_areas
    from .io.boundaries import read_boundaries, read_outline
    from .panel import panel_from_counts, panel_from_incidents, validate_panel

    d = cfg.data
    boundaries = read_boundaries(
        d.boundaries, code_column=d.area_code_column, name_column=d.area_name_column
    )
    treated_polygon = read_outline(cfg.treated.polygon) if cfg.treated.polygon else None
    point_data = d.source == "police_uk"
    areas = build_areas(
        boundaries,
        treated_codes=cfg.treated.codes,
        treated_polygon=treated_polygon,
        # Area-level counts cannot be split at a buffer's edge: whole neighbouring areas
        # become the displacement buffer instead (below).
        buffer_m=cfg.buffer_m if point_data else 0.0,
        comparison=cfg.comparison,
    )
    notes: list[str] = []
    if not point_data and cfg.buffer_m > 0:
        areas = neighbours_as_buffer(areas, distance_m=cfg.buffer_m)
        n_buf = int((areas[C.GROUP] == "buffer").sum())
        notes.append(
            f"Counts come by whole area, so the {n_buf} area(s) within {cfg.buffer_m:g} m of "
            "the pilot area form the displacement buffer and are not used as comparisons."
        )
    outcomes_types = {o.name: list(o.crime_types) for o in cfg.outcomes}
    if point_data:
        from .io.policeuk import project_points, read_police_uk

        wanted = sorted({t for types in outcomes_types.values() for t in types})
        _check_police_uk_request(cfg, wanted)
        incidents = read_police_uk(
            d.crimes,
            months=(cfg.months[0], cfg.months[-1]),
            crime_types=wanted,
            cache_dir=cache_dir() / "police-uk",
        )
        _check_crime_types_present(incidents, cfg, wanted)
        total = len(incidents)
        located = assign_points(project_points(incidents), areas)
        no_xy = int(located[C.X].isna().sum())
        outside = int(located[C.AREA].isna().sum()) - no_xy
        if no_xy:
            notes.append(
                f"{_share(no_xy, total)} recorded crimes had no map position and were left out."
            )
        if outside:
            notes.append(
                f"{_share(outside, total)} recorded crimes fell outside every study area "
                "and were left out."
            )
        panel = panel_from_incidents(
            located,
            outcomes=outcomes_types,
            areas=areas,
            months=cfg.months,
            start=cfg.intervention.start,
        )
    else:
        from .io.mps import load_area_counts

        counts = load_area_counts(cfg, ward_lookup=boundaries[[C.AREA, C.NAME]])
        panel = panel_from_counts(
            counts,
            outcomes={o.name: list(o.categories) for o in cfg.outcomes},
            areas=areas,
            months=cfg.months,
            start=cfg.intervention.start,
        )
    validate_panel(panel)
    _check_treated_has_crimes(panel, cfg)
    interventions = None
    if d.interventions is not None:
        from .io.interventions import read_interventions

        interventions = read_interventions(d.interventions)
    survey = None
    if d.survey is not None:
        from .io.survey import read_survey

        survey = read_survey(d.survey)
    return PreparedPilot(
        config=cfg,
        areas=areas,
        panel=panel,
        interventions=interventions,
        survey=survey,
        data_notes=tuple(notes),
    )


# -- evaluation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeEvaluation:
    """Every estimate for one outcome, in the order the report shows them.

    The headline uses inference that holds with one treated area (placebo-in-space with the
    treated area counted; conformal inference over time; the size-adjusted placebo interval).
    The rest are robustness or secondary figures, each flagged with its assumption.
    """

    outcome: str
    totals: pd.DataFrame
    mde: object
    dispersion: object
    placebo: object
    placebo_time: object
    conformal: object
    size_adjusted: object
    conley_taber: object
    wdd: object
    log_irr: object
    did: object
    event_study: object
    its: object | None
    synth: object | None
    selection: object
    cost: object | None
    estimates: tuple  # tuple[Estimate, ...]


@dataclass(frozen=True)
class SurveyEvaluation:
    """Feelings of safety: the survey DiD in proportions and what the survey could detect."""

    question: str
    result: object
    mde: object
    shares: pd.DataFrame

    def to_json(self) -> dict:
        """The ``survey`` block of ``results.json`` (a difference in shares, not a ratio)."""
        r = self.result
        return {
            "question": self.question,
            "method": "survey_did_proportion",
            "scale": "difference_in_proportions",
            "estimate": float(r.est),
            "ci_low": float(r.ci_low),
            "ci_high": float(r.ci_high),
            "p_value": float(r.p_value),
            "level": 1 - float(r.alpha),
            "mde": float(self.mde.mde),
            "note": "Kish effective sample sizes; ignores clustering of respondents in areas",
        }


@dataclass(frozen=True)
class Evaluation:
    """The evaluation of one pilot: its prepared data and one block per outcome."""

    prepared: PreparedPilot
    outcomes: tuple[OutcomeEvaluation, ...]
    survey: SurveyEvaluation | None = None

    @property
    def config(self) -> PilotConfig:
        return self.prepared.config

    @property
    def estimates(self) -> tuple:
        return tuple(e for o in self.outcomes for e in o.estimates)

    @property
    def primary(self) -> OutcomeEvaluation:
        return self.outcomes[0]

    def results_document(self):
        from .results import ResultsDocument

        cfg = self.config
        extra = {
            "title": cfg.report.title,
            "treated_areas": list(
                self.prepared.areas.loc[self.prepared.areas[C.GROUP] == "treated", C.AREA]
            ),
            "n_areas": self.prepared.n_areas,
            "intervention_start": f"{cfg.intervention.start:%Y-%m}",
            "months": [f"{cfg.months[0]:%Y-%m}", f"{cfg.months[-1]:%Y-%m}"],
            "power": [
                {
                    "outcome": o.outcome,
                    "method": o.mde.method,
                    "direction": o.mde.direction,
                    "detectable": bool(o.mde.detectable),
                    "mde_irr": _finite(o.mde.irr),
                    "mde_pct_change": _finite(o.mde.pct_change),
                    "alpha": o.mde.alpha,
                    "power": o.mde.power,
                    "two_sided": o.mde.two_sided,
                }
                for o in self.outcomes
            ],
            "placebo": [
                {
                    "outcome": o.outcome,
                    "rank": int(o.placebo.rank),
                    "n_reference": int(o.placebo.n_reference),
                    "min_p": float(o.placebo.min_p),
                    "direction": o.placebo.direction,
                }
                for o in self.outcomes
            ],
            "data_notes": list(self.prepared.data_notes),
        }
        if self.survey is not None:
            extra["survey"] = self.survey.to_json()
        return ResultsDocument(
            pilot=cfg.slug, synthetic=cfg.synthetic, estimates=self.estimates, extra=extra
        )


def _finite(x: float) -> float | None:
    import math

    return float(x) if x is not None and math.isfinite(x) else None


def _totals(panel: pd.DataFrame, outcome: str) -> pd.DataFrame:
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


def evaluate(prepared: PreparedPilot, *, seed: int = 0) -> Evaluation:
    """Run every estimator the report shows, for every outcome of the pilot.

    Parameters
    ----------
    prepared
        From :func:`prepare`.
    seed
        Seed for sampled placebo assignments (only used when there are too many to enumerate).

    Returns
    -------
    Evaluation

    Notes
    -----
    Headline inference (see ``../shared/methods/one-treated-area.md``): the DiD rate ratio of
    the pilot area(s) against the comparison areas; its rank among every area given the
    treatment as a placebo, counted with the real one (p >= 1/N); conformal inference over
    time for a valid interval. Cluster-robust intervals are never computed with fewer than 10
    treated areas. Poisson-based figures (WDD, log IRR, DiD) use the quasi-Poisson dispersion
    of the two-way model, so overdispersion widens them.
    """
    from .estimators import cost_per_crime_prevented, log_irr, wdd_scaled
    from .estimators.did import event_study, poisson_did
    from .estimators.its import interrupted_time_series
    from .estimators.power import mde_conformal
    from .estimators.rates import panel_dispersion_test
    from .estimators.selection import rank_comparison_areas
    from .estimators.synth import synthetic_control
    from .inference import (
        conformal_inference,
        conley_taber_interval,
        placebo_in_space,
        placebo_in_time,
        size_adjusted_interval,
    )

    cfg = prepared.config
    alpha = cfg.report.alpha
    level = 1.0 - alpha
    panel = prepared.panel
    blocks = []
    for spec in cfg.outcomes:
        outcome, aims = spec.name, spec.expected_change
        totals = _totals(panel, outcome).set_index(C.GROUP)
        t_pre, t_post = (float(v) for v in totals.loc["treated", ["pre", "post"]])
        c_pre, c_post = (float(v) for v in totals.loc["comparison", ["pre", "post"]])
        has_buffer = "buffer" in totals.index
        disp = panel_dispersion_test(panel, outcome=outcome, alpha=alpha)
        phi = max(1.0, float(disp.dispersion))

        # The MDE of the test the headline uses (conformal), by simulation from the pre period;
        # a Wald formula overstated it about twofold (tests/test_power_conformal.py).
        mde = mde_conformal(
            panel,
            outcome=outcome,
            alpha=alpha,
            power=cfg.report.power,
            direction=aims,
            two_sided=True,
            seed=seed,
        )
        placebo = placebo_in_space(
            panel, outcome=outcome, direction=aims, scale="quasipoisson", seed=seed
        )
        # Fake start dates need a year of history before the first one.
        placebo_time = (
            placebo_in_time(panel, outcome=outcome, direction=aims)
            if cfg.windows.pre_months > 13
            else None
        )
        conformal = conformal_inference(panel, outcome=outcome, level=level)
        size_adj = size_adjusted_interval(panel, outcome=outcome, level=level, seed=seed)
        ct = conley_taber_interval(panel, outcome=outcome, level=level, seed=seed)
        wdd_res = wdd_scaled(
            (c_pre, c_post),
            (t_pre, t_post),
            (c_pre, c_post) if has_buffer else None,
            tuple(float(v) for v in totals.loc["buffer", ["pre", "post"]]) if has_buffer else None,
            alpha=alpha,
            dispersion=phi,
        )
        irr = log_irr((c_pre, c_post), (t_pre, t_post), alpha=alpha, dispersion=phi)
        did = poisson_did(panel, outcome=outcome, family="quasipoisson", alpha=alpha)
        es = event_study(
            panel, outcome=outcome, family="quasipoisson", alpha=alpha, bin_edges="quarter"
        )
        n_treated = int((prepared.areas[C.GROUP] == "treated").sum())
        its = (
            interrupted_time_series(panel, outcome=outcome, alpha=alpha)
            if cfg.windows.post_months >= 3 and cfg.windows.pre_months >= 12
            else None
        )
        synth = synthetic_control(panel, outcome=outcome, alpha=alpha) if n_treated == 1 else None
        sel = rank_comparison_areas(panel, outcome=outcome, n=10) if n_treated == 1 else None
        total_cost = sum(c.cost or 0.0 for c in cfg.intervention.components)
        cost = (
            cost_per_crime_prevented(
                crimes_prevented=crimes_prevented(t_post, conformal),
                total_cost=total_cost,
                level=conformal.level,
            )
            if total_cost > 0
            else None
        )

        est = [
            conformal.to_estimate(outcome=outcome, role="headline"),
            _placebo_estimate(placebo, size_adj, outcome=outcome),
            ct.to_estimate(outcome=outcome, role="robustness"),
            wdd_res.to_estimate(outcome=outcome, role="robustness"),
            irr.to_estimate(outcome=outcome, role="secondary"),
            did.to_estimate(outcome=outcome, role="secondary"),
        ]
        if its is not None:
            est.append(its.to_estimate(outcome=outcome, role="robustness"))
        # The synthetic control gives a rank, not an interval: it is shown as a check in the
        # report's text, never as a bare point estimate in results.json.
        blocks.append(
            OutcomeEvaluation(
                outcome=outcome,
                totals=totals.reset_index(),
                mde=mde,
                dispersion=disp,
                placebo=placebo,
                placebo_time=placebo_time,
                conformal=conformal,
                size_adjusted=size_adj,
                conley_taber=ct,
                wdd=wdd_res,
                log_irr=irr,
                did=did,
                event_study=es,
                its=its,
                synth=synth,
                selection=sel,
                cost=cost,
                estimates=tuple(est),
            )
        )
    survey = (
        evaluate_survey(prepared, alpha=alpha, power=cfg.report.power)
        if prepared.survey is not None
        else None
    )
    return Evaluation(prepared=prepared, outcomes=tuple(blocks), survey=survey)


def evaluate_survey(prepared: PreparedPilot, *, alpha: float, power: float) -> SurveyEvaluation:
    """Difference-in-differences in the share answering yes/agree, with its MDE.

    Notes
    -----
    Estimand: the change from the pre to the post wave in the share of residents of the
    pilot area(s) who agree, minus the same change in the comparison areas (percentage
    points). Standard errors use Kish effective sample sizes (weights); they ignore
    clustering of respondents within areas, so with one treated area the interval is a
    secondary figure, flagged as such.
    """
    from .estimators import mde_proportion_did, survey_did

    cfg = prepared.config
    areas = prepared.areas
    treated = areas.loc[areas[C.GROUP] == "treated", C.AREA].tolist()
    comparison = set(areas.loc[areas[C.GROUP] == "comparison", C.AREA])
    resp = prepared.survey
    resp = resp[resp["area"].isin(set(treated) | comparison)]
    res = survey_did(
        resp,
        outcome_column="answer",
        area_column="area",
        wave_column="wave",
        weight_column="weight",
        treated_areas=treated,
        alpha=alpha,
    )
    ok = resp.dropna(subset=["answer"])
    is_t = ok["area"].isin(treated)
    n = ok.groupby([is_t, ok["wave"]]).size()
    w = ok["weight"].to_numpy(float)
    deff = float(1 + (w.std() / w.mean()) ** 2) if len(w) > 1 else 1.0
    pre_t = ok[is_t & (ok["wave"] == "pre")]
    p_t = float(np.average(pre_t["answer"], weights=pre_t["weight"]))
    mde = mde_proportion_did(
        p_treated=p_t,
        n_treated_pre=float(n.get((True, "pre"), 0)),
        n_treated_post=float(n.get((True, "post"), 0)),
        n_control_pre=float(n.get((False, "pre"), 0)),
        n_control_post=float(n.get((False, "post"), 0)),
        alpha=alpha,
        power=power,
        design_effect=deff,
    )
    shares = (
        ok.assign(group=np.where(is_t, "treated", "comparison"))
        .groupby(["group", "wave"])
        .apply(
            lambda g: pd.Series(
                {
                    "share": np.average(g["answer"], weights=g["weight"]),
                    "respondents": len(g),
                }
            ),
            include_groups=False,
        )
        .reset_index()
    )
    return SurveyEvaluation(question=cfg.report.survey_question, result=res, mde=mde, shares=shares)


def crimes_prevented(treated_post: float, interval) -> tuple[float, float, float]:
    """Crimes prevented in the pilot area, with the headline interval carried through.

    With ``T`` crimes recorded after the start and a rate ratio ``r`` (recorded / expected),
    the pilot area would have expected ``T / r``, so ``T / r - T`` crimes were prevented. The
    ratio's interval maps to the count's (a ratio of 1 means none; an unbounded ratio, none
    bounded).
    """
    t = float(treated_post)

    def prevented(r: float) -> float:
        if not np.isfinite(r):
            return -t if r > 0 else float("inf")
        return float("inf") if r <= 0 else t / r - t

    return prevented(interval.irr), prevented(interval.ci_high), prevented(interval.ci_low)


def _placebo_estimate(placebo, interval, *, outcome: str):
    """Placebo-in-space headline row: its ratio, rank p-value and size-adjusted interval.

    Both come from the same reference set (every area given the treatment in turn), so the
    interval and the p-value agree in what they assume.
    """
    from .results import Estimate

    return Estimate(
        outcome=outcome,
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
            f"reference set); smallest possible p {placebo.min_p:.4f}; one-sided p for a fall "
            f"{placebo.p_one_sided:.4f}; interval: size-adjusted placebo interval, real level "
            f"{interval.level:.3f}"
        ),
    )


def write_results(evaluation: Evaluation, output_dir: str | Path) -> Path:
    """Write ``results.json`` into ``output_dir`` (atomically) and return its path."""
    return evaluation.results_document().write(Path(output_dir) / "results.json")
