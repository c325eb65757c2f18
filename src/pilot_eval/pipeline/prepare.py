"""Prepare a pilot: config → validated areas, area × month panel and the other inputs.

:func:`prepare` is pure with respect to its inputs (nothing the user supplied is modified)
and fails loudly with :class:`~pilot_eval.errors.PilotEvalError`. Each phase owns its checks:
police.uk coverage and crime types in :mod:`pilot_eval.io.policeuk`, buffer rules in
:mod:`pilot_eval.areas`; this module only wires them in order.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .. import columns as C
from ..config import PilotConfig, load_config
from ..errors import DataValidationError

__all__ = ["PreparedPilot", "cache_dir", "prepare"]


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
    #: StreetSafe / QR-code reports (``date, month, latitude, longitude, category``; free text
    #: never read), when the config names a file.
    streetsafe: pd.DataFrame | None = None
    #: Where components were delivered (``type, kind, geometry``, EPSG:27700; ``kind`` is
    #: point, line or polygon), from each component's ``locations`` file, when any is given.
    locations: gpd.GeoDataFrame | None = None
    #: Residents of each treated and comparison area (``area, group, population``), when the
    #: config names a population file (added up by place with ``data.population_areas``).
    population: pd.DataFrame | None = None
    #: Recorded crimes located in a study area (``x, y`` in EPSG:27700, ``month``,
    #: ``crime_type``, ``area``), for point data only. Never published: the report maps them
    #: only as counts on a grid with small counts withheld (:mod:`pilot_eval.report.density`).
    incidents: pd.DataFrame | None = None

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
            f"{cfg.intervention.start:%Y-%m})"
            + (
                f"; roll-out {cfg.excluded_months[0]:%Y-%m} to {cfg.excluded_months[-1]:%Y-%m} "
                f"left out, after window from {cfg.post_start:%Y-%m}"
                if len(cfg.excluded_months)
                else ""
            ),
        ]
        tot = self.panel.groupby([C.OUTCOME, C.GROUP])[C.COUNT].sum().unstack(C.GROUP)
        for outcome, row in tot.iterrows():
            parts = ", ".join(f"{k} {int(v):,}" for k, v in row.items() if pd.notna(v))
            lines.append(f"Outcome '{outcome}': {parts} crimes")
        lines.extend(self.data_notes)
        return "\n".join(lines)


def _share(n: int, total: int) -> str:
    return f"{n:,} of {total:,} ({(100.0 * n / total) if total else 0:.1f} %)"


def _check_primary_estimable(prepared: PreparedPilot) -> None:
    """The primary outcome must be estimable (secondary ones become stated blocks)."""
    from .evaluate import outcome_problem

    spec = prepared.config.primary_outcome
    problem = outcome_problem(prepared, spec)
    if problem is not None:
        raise DataValidationError(
            f"{spec.name} (the primary outcome) cannot be estimated: {problem}. Check the "
            "treated area (codes or polygon), the outcome's crime types or categories, and "
            "the windows."
        )


def _check_design(areas: gpd.GeoDataFrame, boundaries_file: Path) -> None:
    """The headline placebo test needs more comparison areas than treated ones."""
    n_t = int((areas[C.GROUP] == "treated").sum())
    n_c = int((areas[C.GROUP] == "comparison").sum())
    if n_c <= n_t:
        raise DataValidationError(
            f"comparison: {n_c} comparison area(s) for {n_t} treated area(s) in "
            f"{boundaries_file}; the placebo test the report leads with needs at least "
            f"{n_t + 1} (each placebo needs its own comparison areas), and more give a "
            "sharper test. List more comparison codes, or use comparison: auto."
        )


def _check_survey(survey: pd.DataFrame, areas: gpd.GeoDataFrame, path: Path) -> None:
    """Every group x wave cell of the survey DiD needs answers (checked here, not at run)."""
    groups = areas.set_index(C.AREA)[C.GROUP]
    study = survey[survey[C.AREA].isin(groups.index[groups != "buffer"])]
    answered = study.dropna(subset=["answer"])
    group = answered[C.AREA].map(groups)
    n = answered.groupby([group, answered["wave"]]).size()
    for g in ("treated", "comparison"):
        codes = groups.index[groups == g].tolist()
        for wave in ("pre", "post"):
            k = int(n.get((g, wave), 0))
            if k < 2:
                shown = ", ".join(codes[:5]) + (" ..." if len(codes) > 5 else "")
                raise DataValidationError(
                    f"{path}: column 'wave': {k} answered '{wave}' response(s) from the "
                    f"{g} area(s) ({shown}); the before/after comparison needs at least 2 "
                    "in each wave (pre and post) in the pilot area and in the comparison "
                    "areas. Add the missing wave, check the survey's area codes, or remove "
                    "data.survey from the config."
                )


def _dry_run_survey(prepared: PreparedPilot, path: Path) -> None:
    """Compute the survey block now, so a survey that would fail the run fails validate."""
    from ..errors import PilotEvalError
    from .evaluate import evaluate_survey

    opts = prepared.config.report
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluate_survey(prepared, alpha=opts.alpha, power=opts.power)
    except PilotEvalError as exc:
        raise DataValidationError(f"{path}: the survey cannot be analysed: {exc}") from None


def _check_costs(cfg: PilotConfig, interventions: pd.DataFrame | None) -> None:
    """Costs must add up to a finite number (each is bounded; this guards the totals)."""
    import math

    sources: list[tuple[str, float]] = [
        ("intervention.components", sum(c.cost or 0.0 for c in cfg.intervention.components))
    ]
    if interventions is not None:
        sources.append((str(cfg.data.interventions), float(interventions["cost"].sum())))
    for where, total in sources:
        if not math.isfinite(total):
            raise DataValidationError(
                f"{where}: the costs add up to {total}, not a finite number of pounds. "
                "Check for extra digits or a cost in pence."
            )


def _check_per_crime(cfg: PilotConfig) -> None:
    """Every harm-weight and unit-cost mix names shipped figures (checked before any fit)."""
    from ..errors import ConfigError
    from ..estimators import harm_weight_of_mix, unit_cost_of_mix

    for i, o in enumerate(cfg.outcomes):
        for field, fn in (("harm_weight", harm_weight_of_mix), ("unit_cost", unit_cost_of_mix)):
            spec = getattr(o, field)
            if spec is None or spec.mix is None:
                continue
            try:
                fn(spec.mix)
            except DataValidationError as exc:
                raise ConfigError(f"outcomes[{i}] ({o.name}).{field}.mix: {exc}") from None


def _read_optional(cfg: PilotConfig) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """StreetSafe reports and population: every file the config names is read (and checked)."""
    d = cfg.data
    streetsafe = population = None
    if d.streetsafe is not None:
        from ..io.streetsafe import read_streetsafe

        streetsafe = read_streetsafe(d.streetsafe)
    if d.population is not None:
        from ..io.population import read_population

        population = read_population(d.population)
    return streetsafe, population


def _read_locations(cfg: PilotConfig) -> gpd.GeoDataFrame | None:
    """Every component's ``locations`` file, read and tagged with the component's type."""
    from ..io.locations import read_locations

    parts = [
        read_locations(c.locations).assign(type=c.type)
        for c in cfg.intervention.components
        if c.locations is not None
    ]
    if not parts:
        return None
    both = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(
        both[["type", "kind", "geometry"]], geometry="geometry", crs=C.METRIC_CRS
    )


def _with_report_outcomes(
    cfg: PilotConfig,
    panel: pd.DataFrame,
    streetsafe: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    notes: list[str],
) -> pd.DataFrame:
    """Add the StreetSafe / QR-code outcomes: reports counted per area and month from their
    points, like crimes (so every analysis treats them as one more outcome)."""
    from ..areas import assign_points
    from ..io.policeuk import project_points
    from ..panel import panel_from_incidents

    reports = streetsafe.rename(columns={"category": C.CRIME_TYPE})
    first, last = cfg.months[0], cfg.months[-1]
    reports = reports[(reports[C.MONTH] >= first) & (reports[C.MONTH] <= last)]
    by_code = C.AREA in reports.columns
    if by_code:
        # Reports that say which area they are in: counted there, no point needed.
        known = set(areas[C.AREA].astype(str))
        if not reports[C.AREA].isin(known).any():
            raise DataValidationError(
                f"{cfg.data.streetsafe}: no report's area code is a study area of "
                f"{cfg.data.boundaries} (e.g. {reports[C.AREA].iloc[0]!r}). Use the codes of "
                "data.boundaries (its area code column)."
            )
        located = reports.assign(
            **{C.AREA: reports[C.AREA].where(reports[C.AREA].isin(known)).astype(object)}
        )
    else:
        located = assign_points(
            project_points(reports.drop(columns=[C.AREA], errors="ignore")), areas
        )
    outside = int(located[C.AREA].isna().sum())
    if outside:
        notes.append(
            f"{_share(outside, len(located))} StreetSafe / QR-code reports in the evaluation's "
            "months fell outside every study area and were left out."
        )
    present = sorted(set(located[C.CRIME_TYPE].astype(str)))
    outcomes = {o.name: list(o.categories) or present for o in cfg.outcomes if o.from_reports}
    reports_panel = panel_from_incidents(
        located, outcomes=outcomes, areas=areas, months=cfg.months, start=cfg.intervention.start
    )
    both = pd.concat([panel, reports_panel], ignore_index=True)
    return both.sort_values([C.OUTCOME, C.AREA, C.MONTH], kind="stable").reset_index(drop=True)


def _roll_up(
    cfg: PilotConfig, counts: pd.DataFrame, areas: gpd.GeoDataFrame, notes: list[str]
) -> pd.DataFrame:
    """LSOA counts added up to the study areas (``data.lsoa_roll_up``), with a note.

    With LSOA boundaries, each LSOA goes to the study area holding most of its area
    (:func:`~pilot_eval.io.lookups.lsoa_to_ward`); LSOAs mostly outside every study area
    are left out. With a lookup CSV, the LSOAs it assigns to a study area are kept.
    """
    from ..io.boundaries import read_boundaries
    from ..io.lookups import aggregate_counts, lsoa_to_ward, read_lookup_csv

    d = cfg.data
    assert d.lsoa_roll_up is not None
    study = set(areas[C.AREA].astype(str))
    if d.lsoa_roll_up.suffix.lower() == ".csv":
        lookup = read_lookup_csv(d.lsoa_roll_up)
        how = "the LSOA-to-area lookup"
    else:
        lsoas = read_boundaries(d.lsoa_roll_up)
        region = areas.geometry.union_all()
        near = lsoas[lsoas.intersects(region)]
        with warnings.catch_warnings():
            # LSOAs straddling the region's edge are expected; they are counted below
            warnings.simplefilter("ignore")
            lookup = lsoa_to_ward(
                near, areas[[C.AREA, "geometry"]], method=d.lsoa_roll_up_method or "largest_overlap"
            )
        lookup = lookup[lookup["share"] >= 0.5]
        how = "LSOA boundaries (each LSOA to the area holding most of it)"
    lookup = lookup[lookup["ward"].isin(study)]
    if lookup.empty:
        raise DataValidationError(
            f"{d.lsoa_roll_up}: no LSOA falls in any study area of {d.boundaries}. Check that "
            "data.lsoa_roll_up covers the same place as data.boundaries."
        )
    kept = counts[counts[C.AREA].isin(set(lookup["lsoa"]))]
    rolled = aggregate_counts(kept, lookup[["lsoa", "ward"]].reset_index(drop=True))
    covered = lookup["ward"].nunique()
    notes.append(
        f"Crimes are recorded by LSOA: {lookup['lsoa'].nunique():,} LSOAs were added up to "
        f"the {covered:,} study areas using {how}."
    )
    return rolled


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
    from ..errors import DataQualityWarning

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
    from ..areas import assign_points, build_areas, neighbours_as_buffer
    from ..io.boundaries import read_boundaries, read_outline
    from ..panel import panel_from_counts, panel_from_incidents, validate_panel

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
        source=d.boundaries,
        polygon_source=cfg.treated.polygon,
    )
    notes: list[str] = []
    if not point_data and cfg.buffer_m > 0:
        areas = neighbours_as_buffer(areas, distance_m=cfg.buffer_m)
        n_buf = int((areas[C.GROUP] == "buffer").sum())
        notes.append(
            f"Counts come by whole area, so the {n_buf} area(s) within {cfg.buffer_m:g} m of "
            "the pilot area form the displacement buffer and are not used as comparisons."
        )
    _check_design(areas, d.boundaries)
    # Every file the config names is read now, before the (costly) crime data: validate
    # then checks all of them, and a missing or broken file fails in seconds.
    streetsafe, population = _read_optional(cfg)
    if population is not None:
        from ..areas import population_by_area

        small = None
        if d.population_areas is not None:
            small = read_boundaries(d.population_areas)
        assert d.population is not None
        population = population_by_area(population, areas, small_areas=small, source=d.population)
    interventions = None
    if d.interventions is not None:
        from ..io.interventions import read_interventions

        interventions = read_interventions(d.interventions)
    _check_costs(cfg, interventions)
    _check_per_crime(cfg)
    locations = _read_locations(cfg)
    survey = None
    if d.survey is not None:
        from ..io.survey import read_survey

        survey = read_survey(d.survey)
    crime_outcomes = [o for o in cfg.outcomes if not o.from_reports]
    outcomes_types = {o.name: list(o.crime_types) for o in crime_outcomes}
    if point_data:
        from ..io.policeuk import (
            check_crime_types_present,
            check_police_uk_request,
            project_points,
            read_police_uk,
        )

        wanted = sorted({t for types in outcomes_types.values() for t in types})
        check_police_uk_request(d.crimes, months=cfg.months, crime_types=wanted)
        incidents = read_police_uk(
            d.crimes,
            months=(cfg.months[0], cfg.months[-1]),
            crime_types=wanted,
            cache_dir=cache_dir() / "police-uk",
            # only what the pipeline uses: a large force's five years then stay under 2 GB
            columns=[C.MONTH, "longitude", "latitude", C.CRIME_TYPE],
        )
        check_crime_types_present(incidents, source=d.crimes, months=cfg.months, crime_types=wanted)
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
        incidents_kept = located.loc[
            located[C.AREA].notna(), [C.X, C.Y, C.MONTH, C.CRIME_TYPE, C.AREA]
        ].reset_index(drop=True)
        panel = panel_from_incidents(
            located,
            outcomes=outcomes_types,
            areas=areas,
            months=cfg.months,
            start=cfg.intervention.start,
        )
    else:
        incidents_kept = None
        from ..io.mps import load_area_counts

        assert d.source != "police_uk"  # narrowed: point data took the branch above
        counts = load_area_counts(
            d.source,
            d.crimes,
            outcomes={o.name: list(o.categories) for o in crime_outcomes},
            months=cfg.months,
            historical=d.crimes_historical,
            # rolled up, the table's areas are LSOAs, not the study areas
            ward_lookup=None if d.lsoa_roll_up is not None else boundaries[[C.AREA, C.NAME]],
            boundaries=d.boundaries,
            code_column=d.area_code_column,
            name_column=d.area_name_column,
        )
        if d.lsoa_roll_up is not None:
            counts = _roll_up(cfg, counts, areas, notes)
        panel = panel_from_counts(
            counts,
            outcomes={o.name: list(o.categories) for o in crime_outcomes},
            areas=areas,
            months=cfg.months,
            start=cfg.intervention.start,
        )
    if streetsafe is not None and any(o.from_reports for o in cfg.outcomes):
        panel = _with_report_outcomes(cfg, panel, streetsafe, areas, notes)
    if len(cfg.excluded_months):
        from ..panel import drop_months

        panel = drop_months(panel, first=cfg.excluded_months[0], last=cfg.excluded_months[-1])
    validate_panel(panel)
    prepared = PreparedPilot(
        config=cfg,
        areas=areas,
        panel=panel,
        interventions=interventions,
        survey=survey,
        data_notes=tuple(notes),
        streetsafe=streetsafe,
        population=population,
        locations=locations,
        incidents=incidents_kept,
    )
    _check_primary_estimable(prepared)
    if survey is not None and d.survey is not None:
        _check_survey(survey, areas, d.survey)
        _dry_run_survey(prepared, d.survey)
    return prepared
