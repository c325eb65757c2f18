"""The area × month panel every estimator reads: counts per outcome, area and month.

The panel is long, one row per outcome × area × month, ZERO-FILLED (an area with no crime in a
month has a row with ``count`` 0), with exactly the columns of
:data:`pilot_eval.columns.PANEL_COLUMNS`::

    outcome (str), area (str), group (str), month (datetime64[ns], month start),
    count (int64), treated (bool: group == "treated"), post (bool: month >= start)

sorted by outcome, area and month. The months are consecutive, except that
:func:`drop_months` may leave out one run of months at the start of the post period (an
intervention's roll-out, ``windows.exclude_implementation``): ``post`` is then true from the
first month after the gap. :func:`validate_panel` checks a frame against this contract.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa

from . import columns as C
from .errors import ConfigError, DataQualityWarning, DataValidationError

__all__ = [
    "drop_months",
    "panel_from_counts",
    "panel_from_incidents",
    "pre_post_totals",
    "validate_panel",
]

PRE, POST_TOTAL = "pre", "post"


# -- shared helpers ---------------------------------------------------------------------------
def _months(months: pd.DatetimeIndex | Sequence, start: pd.Timestamp) -> tuple[np.ndarray, int]:
    """Validated month starts (datetime64[M]) and the index of the first post month."""
    try:
        idx = pd.DatetimeIndex(months)
    except (TypeError, ValueError):
        raise ConfigError(f"months must be dates (month starts), not {months!r}") from None
    if len(idx) == 0:
        raise ConfigError("months is empty: the panel needs at least one month.")
    m = idx.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    if idx.hasnans or (m.astype("datetime64[ns]") != idx.to_numpy(dtype="datetime64[ns]")).any():
        raise ConfigError("months must be month starts (e.g. pd.date_range(..., freq='MS')).")
    if (np.diff(m.astype(np.int64)) != 1).any():
        raise ConfigError(
            f"months must be consecutive months with no gaps or repeats, from {idx[0]:%Y-%m} "
            f"to {idx[-1]:%Y-%m}; build them with pd.date_range(first, last, freq='MS')."
        )
    s = pd.Timestamp(start)
    s_m = np.datetime64(f"{s.year:04d}-{s.month:02d}", "M")
    if not (m[0] < s_m <= m[-1]):
        raise ConfigError(
            f"the intervention start {s:%Y-%m} must fall after the first month "
            f"({idx[0]:%Y-%m}) and no later than the last ({idx[-1]:%Y-%m}), so that the panel "
            "has months before and after it."
        )
    return m, int((s_m - m[0]).astype(np.int64))


def _areas(areas: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Area codes and groups, sorted by code."""
    missing = [c for c in (C.AREA, C.GROUP) if c not in areas.columns]
    if missing:
        raise DataValidationError(
            f"areas lack column(s) {missing}; build them with pilot_eval.areas.build_areas."
        )
    codes = areas[C.AREA].astype(str).to_numpy()
    groups = areas[C.GROUP].astype(str).to_numpy()
    if len(codes) == 0:
        raise DataValidationError("areas is empty: the panel needs at least one area.")
    if len(set(codes)) != len(codes):
        raise DataValidationError("areas repeat an area code; each area must be one row.")
    odd = sorted(set(groups) - set(C.GROUPS))
    if odd:
        raise DataValidationError(f"areas have unknown group(s) {odd}; expected {C.GROUPS}.")
    order = np.argsort(codes, kind="stable")
    return codes[order], groups[order]


def _outcomes(outcomes: Mapping[str, Sequence[str]], what: str) -> list[tuple[str, list[str]]]:
    if not outcomes:
        raise ConfigError("outcomes is empty: name at least one outcome.")
    out = []
    for name, members in sorted(outcomes.items()):
        if isinstance(members, str):
            raise ConfigError(
                f"outcome {name!r}: give a list of {what}, not the single string {members!r}."
            )
        if not members:
            raise ConfigError(f"outcome {name!r} lists no {what}.")
        out.append((str(name), [str(m) for m in members]))
    return out


def _month_positions(values: pd.Series, first: np.datetime64, what: str) -> np.ndarray:
    """Months as integer offsets from ``first`` (NaT gives a large negative number)."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        try:
            values = pd.to_datetime(values)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(f"{what}: the month column is not dates ({exc}).") from None
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    m = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    pos = (m - first).astype(np.int64)
    pos[np.isnat(m)] = np.iinfo(np.int64).min
    return pos


def _arrow_text(values: pd.Series):
    """The pyarrow array behind a pyarrow-backed text column (no copy), else None."""
    dtype = values.dtype
    arrow = (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or (
        isinstance(dtype, pd.ArrowDtype)
        and (
            pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
        )
    )
    return values.array.__arrow_array__() if arrow else None


def _positions(values: pd.Series, codes: np.ndarray) -> np.ndarray:
    """``pd.Index(codes).get_indexer(values)``: each value's position in ``codes``, -1 where it
    is missing or not a code.

    For pyarrow-backed text (what :func:`pilot_eval.areas.assign_points` returns) the lookup
    runs in Arrow: for millions of incidents it is ~50 times faster than ``get_indexer``, which
    first turns every value into a Python string (several hundred MB for 6 M rows).
    """
    arrow = _arrow_text(values)
    if arrow is None:
        return pd.Index(codes).get_indexer(values)
    import pyarrow.compute as pc

    found = pc.index_in(arrow, value_set=pa.array(codes.tolist(), type=arrow.type))
    return pc.fill_null(found, -1).to_numpy().astype(np.int64)


def _assemble(
    blocks: list[tuple[str, np.ndarray]],
    codes: np.ndarray,
    groups: np.ndarray,
    months: np.ndarray,
    first_post: int,
) -> pd.DataFrame:
    """Long panel from dense (area × month) count matrices, one per outcome."""
    n_a, n_m = len(codes), len(months)
    n = n_a * n_m
    frames = []
    month_ns = months.astype("datetime64[ns]")
    for name, dense in blocks:
        frames.append(
            pd.DataFrame(
                {
                    C.OUTCOME: np.full(n, name, dtype=object),
                    C.AREA: np.repeat(codes, n_m),
                    C.GROUP: np.repeat(groups, n_m),
                    C.MONTH: np.tile(month_ns, n_a),
                    C.COUNT: dense.reshape(-1).astype(np.int64),
                    C.TREATED: np.repeat(groups == "treated", n_m),
                    C.POST: np.tile(np.arange(n_m) >= first_post, n_a),
                }
            )
        )
    panel = pd.concat(frames, ignore_index=True)
    return panel.astype({C.OUTCOME: "str", C.AREA: "str", C.GROUP: "str"})


def _warn_absent(absent: list[str], present: set[str], what: str) -> None:
    if absent:
        shown = sorted(present)[:30]
        warnings.warn(
            f"{what} {absent} never appear in the data, so they add nothing to their outcome; "
            f"check the spelling. Present: {shown}{' ...' if len(present) > 30 else ''}.",
            DataQualityWarning,
            stacklevel=3,
        )


# -- public API -------------------------------------------------------------------------------
def panel_from_incidents(
    incidents: pd.DataFrame,
    *,
    outcomes: Mapping[str, Sequence[str]],
    areas: gpd.GeoDataFrame,
    months: pd.DatetimeIndex,
    start: pd.Timestamp,
) -> pd.DataFrame:
    """Count located incidents per outcome × area × month, zero-filled.

    Parameters
    ----------
    incidents
        One row per crime with ``area`` (from :func:`pilot_eval.areas.assign_points`; missing
        for crimes outside every area, which are not counted), ``crime_type`` and ``month``.
        Not modified.
    outcomes
        Outcome name -> the crime types it adds up (a crime type may feed several outcomes).
    areas
        The study areas (``area``, ``group``); every area gets a row for every month.
    months
        The evaluation's consecutive month starts (e.g. ``PilotConfig.months``); incidents in
        other months are not counted.
    start
        First month of the intervention: ``post`` is true from this month on.

    Returns
    -------
    pandas.DataFrame
        The panel (columns :data:`pilot_eval.columns.PANEL_COLUMNS`), sorted by outcome, area,
        month.

    Raises
    ------
    ConfigError
        Empty outcomes, months not consecutive month starts, or ``start`` not after the first
        month and within ``months``.
    DataValidationError
        Missing columns in ``incidents`` or ``areas``.

    Warns
    -----
    DataQualityWarning
        When a crime type of an outcome appears nowhere in ``incidents`` (likely a typo).
    """
    missing = [c for c in (C.AREA, C.CRIME_TYPE, C.MONTH) if c not in incidents.columns]
    if missing:
        raise DataValidationError(
            f"incidents lack column(s) {missing}; read them with read_police_uk and locate them "
            "with assign_points."
        )
    month_arr, first_post = _months(months, start)
    codes, groups = _areas(areas)
    spec = _outcomes(outcomes, "crime types")
    n_a, n_m = len(codes), len(month_arr)

    area_pos = _positions(incidents[C.AREA], codes)
    month_pos = _month_positions(incidents[C.MONTH], month_arr[0], "incidents")
    ok = (area_pos >= 0) & (month_pos >= 0) & (month_pos < n_m)
    cell = area_pos[ok] * n_m + month_pos[ok]
    del area_pos, month_pos
    types = incidents[C.CRIME_TYPE]
    present = {t for t in pd.unique(types).tolist() if not pd.isna(t)}

    blocks = []
    for name, wanted in spec:
        _warn_absent([t for t in wanted if t not in present], present, "crime type(s)")
        mask = types.isin(wanted).to_numpy(dtype=bool)[ok]
        dense = np.bincount(cell[mask], minlength=n_a * n_m)
        blocks.append((name, dense))
    return _assemble(blocks, codes, groups, month_arr, first_post)


def panel_from_counts(
    counts: pd.DataFrame,
    *,
    outcomes: Mapping[str, Sequence[str]],
    areas: gpd.GeoDataFrame,
    months: pd.DatetimeIndex,
    start: pd.Timestamp,
) -> pd.DataFrame:
    """Build the panel from area-level counts (e.g. MPS ward or LSOA tables).

    Parameters
    ----------
    counts
        Long counts with columns ``area``, ``month``, ``category`` and ``count`` (at most one
        row per area, month and category). Not modified.
    outcomes
        Outcome name -> the categories it adds up.
    areas
        The study areas (``area``, ``group``). Codes in ``counts`` that are not study areas
        are ignored.
    months, start
        As in :func:`panel_from_incidents`.

    Returns
    -------
    pandas.DataFrame
        The panel (columns :data:`pilot_eval.columns.PANEL_COLUMNS`), sorted by outcome, area,
        month; months or categories with no row count as 0.

    Raises
    ------
    DataValidationError
        Missing columns; a count that is missing, negative or not a whole number; a repeated
        (area, month, category) row; or a treated area absent from ``counts``.
    ConfigError
        As :func:`panel_from_incidents`.

    Warns
    -----
    DataQualityWarning
        When non-treated study areas are absent from ``counts`` (they are zero-filled; the
        buffer ring, which is not an area of any published table, always is), or a category
        of an outcome appears nowhere in ``counts``.
    """
    need = (C.AREA, C.MONTH, "category", C.COUNT)
    missing = [c for c in need if c not in counts.columns]
    if missing:
        raise DataValidationError(
            f"area counts lack column(s) {missing}; expected columns {list(need)}."
        )
    month_arr, first_post = _months(months, start)
    codes, groups = _areas(areas)
    spec = _outcomes(outcomes, "categories")
    n_a, n_m = len(codes), len(month_arr)

    values = pd.to_numeric(counts[C.COUNT], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0) | (values != np.round(values)))
    if len(bad):
        i = bad[0]
        raise DataValidationError(
            f"area counts, row {i + 1} (area {counts[C.AREA].iloc[i]!r}, category "
            f"{counts['category'].iloc[i]!r}): count {counts[C.COUNT].iloc[i]!r} is not a whole "
            f"number >= 0 ({len(bad)} such row(s)). Fix the table reader or the source file."
        )
    area_str = counts[C.AREA].astype(str)
    keys = pd.DataFrame(
        {
            "a": area_str.to_numpy(),
            "m": _month_positions(counts[C.MONTH], month_arr[0], "area counts"),
            "c": counts["category"].astype(str).to_numpy(),
        }
    )
    dup = keys.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataValidationError(
            f"area counts, row {i + 1}: area {area_str.iloc[i]!r}, month "
            f"{counts[C.MONTH].iloc[i]}, category {keys['c'].iloc[i]!r} appears more than "
            f"once ({int(dup.sum())} repeated row(s)). Overlapping tables (e.g. the historical "
            "and current MPS files) must be merged without double counting."
        )

    seen = set(area_str.unique().tolist())
    absent = [(c, g) for c, g in zip(codes, groups, strict=True) if c not in seen]
    absent_treated = [c for c, g in absent if g == "treated"]
    if absent_treated:
        raise DataValidationError(
            f"treated area(s) {absent_treated} have no rows in the area counts, so the pilot "
            "cannot be evaluated from them. Check the area codes match the counts' vintage "
            "(e.g. 2018 vs 2022 ward codes)."
        )
    if absent:
        listed = [c for c, _ in absent]
        buffer_note = (
            " The displacement buffer is not an area of any published table: set buffer_m: 0 "
            "for area-level sources."
            if any(g == "buffer" for _, g in absent)
            else ""
        )
        warnings.warn(
            f"study area(s) {listed[:20]}{' ...' if len(listed) > 20 else ''} have no rows in "
            f"the area counts and are counted as 0 every month.{buffer_note}",
            DataQualityWarning,
            stacklevel=2,
        )

    area_pos = pd.Index(codes).get_indexer(keys["a"])
    month_pos = keys["m"].to_numpy()
    ok = (area_pos >= 0) & (month_pos >= 0) & (month_pos < n_m)
    cell = area_pos[ok] * n_m + month_pos[ok]
    cats = keys["c"]
    weights = values[ok]
    present = set(keys["c"].unique().tolist())

    blocks = []
    for name, wanted in spec:
        _warn_absent([t for t in wanted if t not in present], present, "categories")
        mask = cats.isin(wanted).to_numpy(dtype=bool)[ok]
        dense = np.bincount(cell[mask], weights=weights[mask], minlength=n_a * n_m)
        blocks.append((name, np.rint(dense)))
    return _assemble(blocks, codes, groups, month_arr, first_post)


def drop_months(panel: pd.DataFrame, *, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """Leave out the months ``first`` … ``last`` (an intervention's roll-out) from a panel.

    The months left out must start where ``post`` becomes true, so that they are neither
    "before" (fitted as the counterfactual) nor "after" (the window the effect is measured
    on): ``post`` is then true from the month after ``last``. Every analysis reads the panel,
    so every analysis follows.

    Parameters
    ----------
    panel
        A panel (see the module docstring); not modified.
    first, last
        The first and last month to leave out (month starts, inclusive).

    Returns
    -------
    pandas.DataFrame
        The panel without those months, index reset, ``post`` unchanged elsewhere.

    Raises
    ------
    ConfigError
        If ``first`` is not the panel's first post month, or no post month is left.
    """
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    if last < first:
        raise ConfigError(f"months to leave out end ({last:%Y-%m}) before they start.")
    post_months = panel.loc[panel[C.POST], C.MONTH]
    if len(post_months) == 0 or pd.Timestamp(post_months.min()) != first:
        raise ConfigError(
            f"the months left out must begin at the first post month; {first:%Y-%m} is not it."
        )
    month = pd.to_datetime(panel[C.MONTH])
    keep = (month < first) | (month > last)
    if not (keep & panel[C.POST]).any():
        raise ConfigError(
            f"leaving out {first:%Y-%m} to {last:%Y-%m} leaves no month after the roll-out; "
            "lengthen windows.post_months."
        )
    return panel.loc[keep].reset_index(drop=True)


def validate_panel(panel: pd.DataFrame) -> None:
    """Check a panel against the data contract; raise if it is broken.

    Checks: the columns of :data:`pilot_eval.columns.PANEL_COLUMNS`; no missing values;
    ``count`` whole and >= 0; ``month`` month starts; ``group`` one of
    :data:`pilot_eval.columns.GROUPS` and constant per area; ``treated`` equal to
    ``group == "treated"``; no repeated (outcome, area, month); every outcome × area has every
    month from the first to the last (no gaps) and every outcome the same areas; ``post``
    false before and true from one start month, with months on both sides.

    Parameters
    ----------
    panel
        The panel to check (not modified).

    Raises
    ------
    DataValidationError
        Naming the first broken rule and an example.
    """

    def fail(msg: str) -> None:
        raise DataValidationError(f"panel: {msg}")

    missing = [c for c in C.PANEL_COLUMNS if c not in panel.columns]
    if missing:
        fail(f"missing column(s) {missing}; a panel has columns {list(C.PANEL_COLUMNS)}.")
    if len(panel) == 0:
        fail("no rows.")
    nulls = [c for c in C.PANEL_COLUMNS if panel[c].isna().any()]
    if nulls:
        fail(f"missing values in column(s) {nulls}.")
    if not pd.api.types.is_integer_dtype(panel[C.COUNT]):
        fail(f"count must be integers, not {panel[C.COUNT].dtype}.")
    if (panel[C.COUNT] < 0).any():
        row = panel.loc[panel[C.COUNT] < 0].iloc[0]
        fail(f"negative count {row[C.COUNT]} for {row[C.OUTCOME]!r}, {row[C.AREA]}.")
    for col in (C.TREATED, C.POST):
        if not pd.api.types.is_bool_dtype(panel[col]):
            fail(f"{col} must be boolean, not {panel[col].dtype}.")
    if not pd.api.types.is_datetime64_any_dtype(panel[C.MONTH]):
        fail(f"month must be datetimes, not {panel[C.MONTH].dtype}.")
    month = panel[C.MONTH].to_numpy(dtype="datetime64[ns]")
    month_m = month.astype("datetime64[M]")
    if (month_m.astype("datetime64[ns]") != month).any():
        fail("month values must be month starts (the 1st of the month at midnight).")
    odd = sorted(set(panel[C.GROUP].astype(str)) - set(C.GROUPS))
    if odd:
        fail(f"unknown group(s) {odd}; expected {C.GROUPS}.")
    if (panel[C.TREATED].to_numpy() != (panel[C.GROUP] == "treated").to_numpy()).any():
        fail("treated must be true exactly where group is 'treated'.")
    per_area = panel.groupby(C.AREA, sort=False)[C.GROUP].nunique()
    if (per_area > 1).any():
        fail(f"area(s) {per_area[per_area > 1].index.tolist()[:5]} have more than one group.")
    keys = [C.OUTCOME, C.AREA, C.MONTH]
    dup = panel.duplicated(keys)
    if dup.any():
        row = panel.loc[dup].iloc[0]
        fail(
            f"{int(dup.sum())} repeated row(s), e.g. {row[C.OUTCOME]!r}, {row[C.AREA]}, "
            f"{row[C.MONTH]:%Y-%m}."
        )
    m_int = month_m.astype(np.int64)
    distinct = np.unique(m_int)
    gaps = np.flatnonzero(np.diff(distinct) != 1)
    n_months = len(distinct)
    sizes = panel.groupby([C.OUTCOME, C.AREA], sort=False).size()
    short = sizes[sizes != n_months]
    if len(short):
        (outcome, area), n = short.index[0], short.iloc[0]
        first, last = pd.Timestamp(month.min()), pd.Timestamp(month.max())
        fail(
            f"{outcome!r}, {area} has {n} of the {n_months} months {first:%Y-%m} to "
            f"{last:%Y-%m} (gaps must be zero-filled rows)."
        )
    area_sets = panel.groupby(C.OUTCOME, sort=False)[C.AREA].agg(frozenset)
    if area_sets.nunique() > 1:
        fail("outcomes cover different areas; every outcome needs every area.")
    post_by_month = panel.groupby(C.MONTH)[C.POST].agg(["min", "max"]).sort_index()
    if (post_by_month["min"] != post_by_month["max"]).any():
        fail("post differs between rows of the same month.")
    post = post_by_month["min"].to_numpy()
    if post.all() or not post.any() or (np.diff(post.astype(int)) < 0).any():
        fail(
            "post must be false for the months before the start and true from it on, with "
            "months on both sides."
        )
    first_post = int(np.argmax(post))
    if len(gaps) > 1 or (len(gaps) == 1 and int(gaps[0]) != first_post - 1):
        fail(
            "months must be consecutive; only the roll-out months just before the first "
            "post month may be left out (drop_months), and every other gap must be "
            "zero-filled rows."
        )


def pre_post_totals(panel: pd.DataFrame, *, outcome: str) -> pd.DataFrame:
    """Total counts before and from the start, per area, for one outcome.

    Parameters
    ----------
    panel
        A panel (see :mod:`pilot_eval.panel`); not modified.
    outcome
        The outcome to total.

    Returns
    -------
    pandas.DataFrame
        One row per area, sorted by area: ``area``, ``group``, ``pre`` and ``post`` (int64
        sums of ``count`` over the months with ``post`` false and true).

    Raises
    ------
    DataValidationError
        If ``outcome`` is not in the panel (the message lists those that are), or columns
        are missing.
    """
    missing = [c for c in (C.OUTCOME, C.AREA, C.GROUP, C.COUNT, C.POST) if c not in panel.columns]
    if missing:
        raise DataValidationError(f"panel: missing column(s) {missing}.")
    rows = panel.loc[panel[C.OUTCOME] == outcome]
    if len(rows) == 0:
        known = sorted(panel[C.OUTCOME].astype(str).unique().tolist())
        raise DataValidationError(f"outcome {outcome!r} is not in the panel; it has {known}.")
    totals = (
        rows.pivot_table(
            index=[C.AREA, C.GROUP],
            columns=C.POST,
            values=C.COUNT,
            aggfunc="sum",
            fill_value=0,
        )
        .reindex(columns=[False, True], fill_value=0)
        .rename(columns={False: PRE, True: POST_TOTAL})
        .reset_index()
        .sort_values(C.AREA, kind="stable")
        .reset_index(drop=True)
    )
    totals.columns.name = None
    return totals.astype({PRE: np.int64, POST_TOTAL: np.int64, C.AREA: "str", C.GROUP: "str"})
