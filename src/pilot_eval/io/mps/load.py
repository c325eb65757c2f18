"""One pilot's area × month counts from an MPS table, selected per outcome.

:func:`load_area_counts` takes explicit arguments (the pipeline passes the fields of its
pilot config); the output ``category`` is each selector exactly as written, summed over the
table categories it matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd

from ... import columns as C
from ...errors import ConfigError, DataValidationError
from ._common import (
    AREA_NAME,
    CATEGORY,
    MAJOR,
    MINOR,
    OUTPUT_COLUMNS,
    combine_category,
    matching_categories,
    month_start,
    unknown_category_error,
    warn,
)
from .vawg import VAWG_LOCATION_SHEET, read_vawg_raw, vawg_hint
from .wards import ward_lookup_from_boundaries
from .wide import read_wide_raw

__all__ = ["MpsSource", "load_area_counts"]

#: The ``data.source`` kinds :func:`load_area_counts` reads.
MpsSource = Literal["mps_ward", "mps_lsoa", "mps_vawg"]


def _relabel(
    raw: pd.DataFrame, outcomes: Mapping[str, Sequence[str]], path: Path, *, extra: str = ""
) -> pd.DataFrame:
    """One block of rows per selector (as written), summed over what it matches."""
    selectors = list(dict.fromkeys(s for sels in outcomes.values() for s in sels))
    pairs = raw[[MAJOR, MINOR]].drop_duplicates()
    matched: dict[str, set[str]] = {s: matching_categories(pairs, s) for s in selectors}
    unknown = [s for s in selectors if not matched[s]]
    if unknown:
        raise unknown_category_error(path, unknown, pairs, extra=extra)
    for name, sels in outcomes.items():
        seen: dict[str, str] = {}
        for s in sels:
            for c in sorted(matched[s]):
                if c in seen and seen[c] != s:
                    raise ConfigError(
                        f"outcome {name!r} lists categories {seen[c]!r} and {s!r}, which "
                        f"overlap (both include {c!r}): its offences would be counted twice. "
                        "Keep only one of them."
                    )
                seen[c] = s
    cats = combine_category(raw[MAJOR], raw[MINOR])
    blocks = []
    has_name = AREA_NAME in raw.columns
    for s in selectors:
        sub = raw.loc[cats.isin(matched[s]).to_numpy()]
        agg = {C.COUNT: (C.COUNT, "sum")}
        if has_name:
            agg[AREA_NAME] = (AREA_NAME, "first")
        block = sub.groupby([C.AREA, C.MONTH], as_index=False, sort=True).agg(**agg)
        block[CATEGORY] = s
        blocks.append(block)
    out = pd.concat(blocks, ignore_index=True)
    out[C.COUNT] = out[C.COUNT].astype("int64")
    cols = [*OUTPUT_COLUMNS, *([AREA_NAME] if has_name else [])]
    return out[cols].reset_index(drop=True)


def load_area_counts(
    source: MpsSource,
    crimes: str | Path,
    *,
    outcomes: Mapping[str, Sequence[str]],
    months: pd.DatetimeIndex | Sequence[object],
    historical: str | Path | None = None,
    ward_lookup: pd.DataFrame | None = None,
    boundaries: str | Path | None = None,
    code_column: str | None = None,
    name_column: str | None = None,
) -> pd.DataFrame:
    """Long area × month counts for a pilot whose outcomes come from an MPS table.

    Parameters
    ----------
    source
        ``"mps_ward"`` or ``"mps_lsoa"`` (wide tables, :func:`read_mps_wide`) or
        ``"mps_vawg"`` (the VAWG table's location sheet, :func:`read_mps_vawg`).
    crimes
        The table (CSV or Parquet).
    outcomes
        Outcome name -> its category selectors (major text, minor text or
        ``"<major> / <minor>"``; case-insensitive). Every selector is read.
    months
        The evaluation's months (month starts; any day in the month is read as the month).
        Every one must be in the table(s).
    historical
        The earlier wide table with the same layout (``mps_ward`` / ``mps_lsoa`` only).
    ward_lookup
        DataFrame with ``area`` and ``name`` (the boundaries' codes and names). Needed for
        ``mps_vawg`` (ward names -> codes); built from ``boundaries`` when omitted. For the
        wide tables it is optional and restricts the areas to the lookup's codes.
    boundaries, code_column, name_column
        The boundaries file and its code / name attribute columns (detected when ``None``),
        read with :func:`ward_lookup_from_boundaries` for ``mps_vawg`` when ``ward_lookup``
        is ``None``. Not used otherwise.

    Returns
    -------
    pandas.DataFrame
        ``area, month, category, count`` (+ ``area_name``). ``category`` is each selector
        exactly as written in ``outcomes``, summed over the table categories it matches
        (see the :mod:`pilot_eval.io.mps` docstring); areas × months with no row are zero.

    Raises
    ------
    ConfigError
        If the source is not an MPS kind, ``mps_vawg`` has neither ``ward_lookup`` nor
        ``boundaries``, or one outcome lists overlapping categories.
    DataValidationError
        As the readers; unknown categories are listed with the closest available ones.
    """
    wanted = pd.DatetimeIndex(sorted({month_start(m) for m in months}))
    if source in ("mps_ward", "mps_lsoa"):
        level: Literal["ward", "lsoa"] = "ward" if source == "mps_ward" else "lsoa"
        raw = read_wide_raw(
            crimes,
            level=level,
            historical=historical,
            months=wanted,
            overlap="auto",
            categories=[s for sels in outcomes.values() for s in sels],
        )
        extra = ""
        if ward_lookup is not None and C.AREA in ward_lookup.columns:
            codes = set(ward_lookup[C.AREA].astype(str))
            absent = sorted(codes - set(raw[C.AREA]))
            if absent:
                warn(
                    f"{Path(crimes).name}: area(s) {', '.join(absent[:10])}"
                    f"{' …' if len(absent) > 10 else ''} of the boundaries are not in the "
                    "table (counted as zero). Check the boundaries' code vintage matches."
                )
            raw = raw[raw[C.AREA].isin(codes)]
            if raw.empty:
                raise DataValidationError(
                    f"{crimes}: none of the boundaries' area codes appear in the table. "
                    "Check data.boundaries / data.area_code_column and the code vintage."
                )
    elif source == "mps_vawg":
        if ward_lookup is None:
            if boundaries is None:
                raise ConfigError(
                    "load_area_counts needs the ward codes for the MPS VAWG table (it names "
                    "wards instead of coding them): pass ward_lookup, or boundaries "
                    "(data.boundaries) to read them from."
                )
            ward_lookup = ward_lookup_from_boundaries(
                boundaries, code_column=code_column, name_column=name_column
            )
        raw, chosen = read_vawg_raw(
            crimes,
            sheet=VAWG_LOCATION_SHEET,
            months=wanted,
            ward_lookup=ward_lookup,
            boroughs=None,
        )
        extra = vawg_hint(chosen)
    else:
        raise ConfigError(
            f"load_area_counts reads MPS tables (data.source mps_ward, mps_lsoa or mps_vawg); "
            f"this pilot's data.source is {source!r}. Load police.uk points with "
            "pilot_eval.io.policeuk instead."
        )
    return _relabel(raw, outcomes, Path(crimes), extra=extra)
