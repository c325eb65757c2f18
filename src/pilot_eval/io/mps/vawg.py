"""The MPS violence-against-women-and-girls (VAWG) offences table (long, by ward or offence).

:func:`read_mps_vawg` reads one of its two tabulations (``sheet``): by borough and ward
(ward *names*, matched to codes with a boundaries lookup, see :mod:`.wards`) or by offence
group, London-wide. The two count the same offences twice over and are never combined.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ... import columns as C
from ...errors import DataValidationError
from ._common import (
    AREA_NAME,
    MAJOR,
    MINOR,
    MonthsLike,
    bad_count_mask,
    check_coverage,
    file_columns,
    filter_categories,
    finish,
    is_csv_file,
    match_key,
    months_index,
    normalised_map,
    read_columns,
    row_position,
    shown_cell,
    text_column,
    warn,
)
from .wards import match_ward_names, normalise_ward_name, ward_lookup_keys

__all__ = [
    "MPS_FORCE_AREA",
    "VAWG_ALL",
    "VAWG_CLASSIFICATION_SHEET",
    "VAWG_LOCATION_SHEET",
    "read_mps_vawg",
    "read_vawg_raw",
    "vawg_hint",
]

#: The VAWG tabulation by borough and ward (the only one usable for area comparisons).
VAWG_LOCATION_SHEET = "Offence count location"
#: The VAWG tabulation by offence group and offence, London-wide (no areas).
VAWG_CLASSIFICATION_SHEET = "Offence count classification"
#: The single category of the VAWG location sheet.
VAWG_ALL = "All VAWG-flagged offences"
#: ONS code of the Metropolitan Police force area (area of the classification sheet).
MPS_FORCE_AREA = "E23000001"


def _resolve_sheet(path: Path, sheet: object, available: Sequence[str]) -> str:
    both_msg = (
        f"{path}: the VAWG table's two sheets ('{VAWG_LOCATION_SHEET}' and "
        f"'{VAWG_CLASSIFICATION_SHEET}') count the same offences twice over, so they cannot "
        "be read together. Choose one sheet: the location sheet for wards, the "
        "classification sheet for London-wide offence groups."
    )
    if sheet is None or (not isinstance(sheet, str) and isinstance(sheet, Iterable)):
        items = [] if sheet is None else list(sheet)
        if len(items) != 1:
            raise DataValidationError(both_msg)
        sheet = items[0]
    s = match_key(sheet)
    if s in ("both", "all", "*"):
        raise DataValidationError(both_msg)
    aliases = {"location": VAWG_LOCATION_SHEET, "classification": VAWG_CLASSIFICATION_SHEET}
    s = match_key(aliases.get(s, sheet))
    for a in available:
        if match_key(a) == s:
            return a
    raise DataValidationError(
        f"{path}: no sheet {sheet!r} in the VAWG table; its 'sheet' column has {sorted(available)}."
    )


def _pick_boroughs(
    path: Path, loc: pd.DataFrame, keys: dict[str, tuple[str, str]], boroughs: Sequence[str] | None
) -> list[str]:
    named = loc.dropna(subset=["ward_name_clean_2"])
    if boroughs is not None:
        have = set(loc["borough_name"].unique())
        bad = [b for b in boroughs if b not in have]
        if bad:
            raise DataValidationError(
                f"{path}: no borough {bad} in 'borough_name'; it has {sorted(have)[:40]}."
            )
        return list(boroughs)
    chosen = []
    for b, g in named.groupby("borough_name"):
        wards = g["ward_name_clean_2"].unique()
        hit = sum(normalise_ward_name(w) in keys for w in wards)
        if hit and hit >= 0.5 * len(wards):
            chosen.append(str(b))
    if not chosen:
        sample = ", ".join(repr(v[1]) for v in list(keys.values())[:5])
        raise DataValidationError(
            f"{path}: none of the ward lookup's names (e.g. {sample}) match the ward names "
            "of any borough in the VAWG table. Check the boundaries file holds London wards "
            "of the table's vintage, or pass boroughs=[...] explicitly."
        )
    return chosen


def read_vawg_raw(
    path: str | Path,
    *,
    sheet: object,
    months: pd.DatetimeIndex | None,
    ward_lookup: pd.DataFrame | None,
    boroughs: Sequence[str] | None,
) -> tuple[pd.DataFrame, str]:
    """The chosen sheet in internal long form, and that sheet's name as the file writes it.

    Columns ``area, _major, _minor, month, count, area_name``, summed per area, category and
    month; ``months`` is a month-start index (or ``None``). As :func:`read_mps_vawg`, before
    categories are selected.
    """
    path = Path(path)
    names = file_columns(path)
    norm = normalised_map(path, names)
    common = ["sheet", "recorded_date_months", "count"]
    missing = [c for c in common if c not in norm]
    if missing:
        raise DataValidationError(
            f"{path}: this is not the MPS VAWG offences table: missing column(s) "
            f"{', '.join(missing)}. Expected a long table with columns borough_name, "
            "ward_name_clean_2, recorded_date_months, count, sheet, crimsec_group, "
            f"vawg_offence, …. Found: {', '.join(names[:12])}."
        )
    is_csv = is_csv_file(path)
    optional = ["borough_name", "ward_name_clean_2", "crimsec_group", "vawg_offence"]
    df = read_columns(path, [norm[c] for c in [*common, *optional] if c in norm])
    sheets = text_column(df, "sheet", path, is_csv, what="the sheet name")
    chosen = _resolve_sheet(path, sheet, sorted(sheets.unique()))
    keep = (sheets == chosen).to_numpy()
    positions = np.flatnonzero(keep)
    df = df.loc[keep].reset_index(drop=True)
    is_location = match_key(chosen) == match_key(VAWG_LOCATION_SHEET)
    need = (
        ["borough_name", "ward_name_clean_2"] if is_location else ["crimsec_group", "vawg_offence"]
    )
    lacking = [c for c in need if c not in df.columns]
    if lacking:
        raise DataValidationError(
            f"{path}: the '{chosen}' sheet needs column(s) {', '.join(lacking)}, which the "
            "file does not have."
        )

    def where(i: int) -> str:
        return row_position(is_csv, int(positions[i]))

    # month recorded
    rec = df["recorded_date_months"]
    parsed = (
        rec
        if pd.api.types.is_datetime64_any_dtype(rec)
        else pd.to_datetime(rec.astype("string").str.strip(), errors="coerce", format="ISO8601")
    )
    if parsed.isna().any():
        i = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataValidationError(
            f"{path}: {where(i)}, column 'recorded_date_months' has {shown_cell(rec.iloc[i])}, which is "
            "not a date (expected e.g. 2024-04-01 or 2024-04). Fix or remove the row."
        )
    month = parsed.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
    bad, num = bad_count_mask(df["count"])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"{path}: {where(i)}, column 'count' has {shown_cell(df['count'].iloc[i])}, which is not a "
            f"count (a whole number from 0 to 10^9); {int(bad.sum())} bad row(s). Fix or remove the row."
        )
    out = pd.DataFrame({C.MONTH: month, C.COUNT: num.astype("int64").to_numpy()})
    check_coverage(
        path,
        pd.date_range(out[C.MONTH].min(), out[C.MONTH].max(), freq="MS"),
        months,
        hint="Shorten the pilot's windows.",
    )

    if not is_location:
        for col in need:
            out[col] = text_column(df, col, path, is_csv, what=col).to_numpy()
        out[C.AREA] = MPS_FORCE_AREA
        out[AREA_NAME] = "Metropolitan Police Service (all London)"
        out = out.rename(columns={"crimsec_group": MAJOR, "vawg_offence": MINOR})
    else:
        borough = df["borough_name"].astype("string").str.strip()
        ward = df["ward_name_clean_2"].astype("string").str.strip().replace("", pd.NA)
        out["borough_name"] = borough.to_numpy()
        out["ward_name_clean_2"] = ward.to_numpy()
        if months is not None:
            out = out[out[C.MONTH].isin(months)]
        if ward_lookup is not None:
            keys = ward_lookup_keys(ward_lookup)
            chosen_b = _pick_boroughs(path, out, keys, boroughs)
            out = out[out["borough_name"].isin(chosen_b)]
        elif boroughs is not None:
            out = out[out["borough_name"].isin(list(boroughs))]
        no_ward = out["ward_name_clean_2"].isna()
        if no_ward.any():
            warn(
                f"{path.name}: {int(out.loc[no_ward, C.COUNT].sum()):,} VAWG-flagged "
                f"offence(s) in {', '.join(sorted(out.loc[no_ward, 'borough_name'].unique())[:5])} "
                "have no ward (ward_name_clean_2 is empty) and are left out."
            )
            out = out[~no_ward]
        if ward_lookup is not None:
            mapping = match_ward_names(
                out["ward_name_clean_2"].unique(), ward_lookup, source=str(path)
            )
            out[C.AREA] = out["ward_name_clean_2"].map(mapping)
            code_name = {v[0]: v[1] for v in ward_lookup_keys(ward_lookup).values()}
            out[AREA_NAME] = out[C.AREA].map(code_name)
            absent = sorted(set(code_name) - set(out[C.AREA]))
            if absent:
                warn(
                    f"{path.name}: ward(s) {', '.join(f'{a} ({code_name[a]})' for a in absent)} "
                    "of the ward lookup have no VAWG-flagged offences in the months read "
                    "(counted as zero)."
                )
        else:
            out[C.AREA] = out["borough_name"] + ": " + out["ward_name_clean_2"]
            out[AREA_NAME] = out["ward_name_clean_2"]
        out[MAJOR] = VAWG_ALL
        out[MINOR] = ""
    if months is not None:
        out = out[out[C.MONTH].isin(months)]
    raw = out.groupby([C.AREA, MAJOR, MINOR, C.MONTH], as_index=False, sort=True).agg(
        **{C.COUNT: (C.COUNT, "sum"), AREA_NAME: (AREA_NAME, "first")}
    )
    raw[C.COUNT] = raw[C.COUNT].astype("int64")
    return raw, chosen


def vawg_hint(sheet: str) -> str:
    """What to tell a user whose category selector matched nothing in ``sheet``."""
    if match_key(sheet) == match_key(VAWG_LOCATION_SHEET):
        return (
            f"The '{VAWG_LOCATION_SHEET}' sheet (the only one with wards) has no offence "
            f"breakdown: its one category is '{VAWG_ALL}'. Offence groups (Rape, Violence "
            f"with Injury, …) are only in the '{VAWG_CLASSIFICATION_SHEET}' sheet, which is "
            "London-wide, or use data.source mps_ward with MPS major/minor categories."
        )
    return "Select by offence group (crimsec_group), offence (vawg_offence) or both."


def read_mps_vawg(
    path: str | Path,
    *,
    categories: Sequence[str] | None = None,
    sheet: str = VAWG_LOCATION_SHEET,
    months: MonthsLike = None,
    ward_lookup: pd.DataFrame | None = None,
    boroughs: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read the MPS violence-against-women-and-girls (VAWG) offences table.

    Counts are by month *recorded* (``recorded_date_months``), summed over the month
    committed and over offence detail.

    Parameters
    ----------
    path
        The long VAWG table, Parquet or CSV (see the module docstring).
    categories
        Selectors. On the location sheet the only category is :data:`VAWG_ALL`. On the
        classification sheet select by ``crimsec_group`` (offence group, e.g.
        ``"Violence with Injury"``), ``vawg_offence`` or ``"<group> / <offence>"``.
        Case-insensitive. ``None`` keeps all.
    sheet
        ``"Offence count location"`` (default; by borough and ward) or
        ``"Offence count classification"`` (by offence, London-wide; ``area`` is
        :data:`MPS_FORCE_AREA`). ``"location"`` / ``"classification"`` also work. Asking for
        both is an error: they tabulate the same offences twice.
    months
        A ``(first, last)`` tuple (inclusive) or an iterable of months; all must lie within
        the table's months. ``None`` keeps all.
    ward_lookup
        DataFrame with ``area`` (ward code) and ``name`` (ward name), e.g. from
        :func:`ward_lookup_from_boundaries`. When given (location sheet), ward names are
        matched to codes after :func:`normalise_ward_name`; only the boroughs where at least
        half of the table's ward names are in the lookup are kept (or ``boroughs``), and any
        ward name there without a match is an error listing close matches. Without it,
        ``area`` is ``"<borough>: <ward name>"`` (not a code).
    boroughs
        Restrict the location sheet to these ``borough_name`` values (exact).

    Returns
    -------
    pandas.DataFrame
        ``area, month, category, count, area_name``. Months with no recorded offence have
        no row (read them as zero). Offences without a ward are left out with a warning.

    Raises
    ------
    DataValidationError
        Missing columns, unparsable months, bad counts (naming line/row and column), an
        unknown or doubled sheet, unmatched ward names, unknown categories, or months
        outside the table.
    """
    wanted = months_index(months)
    raw, chosen = read_vawg_raw(
        path, sheet=sheet, months=wanted, ward_lookup=ward_lookup, boroughs=boroughs
    )
    raw = filter_categories(raw, categories, Path(path), extra=vawg_hint(chosen))
    return finish(raw)
