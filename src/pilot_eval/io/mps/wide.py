"""MPS ward- and LSOA-level wide tables (one column per month) as long monthly counts.

:func:`read_mps_wide` reads the London Datastore "MPS Ward Level Crime" and "MPS LSOA Level
Crime" tables (layouts in the :mod:`pilot_eval.io.mps` docstring), optionally combined with
the earlier "historical" table; where both have a month, the two are compared and one kept
(see ``overlap``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from ... import columns as C
from ...errors import DataValidationError
from ._common import (
    AREA_NAME,
    CATEGORY_SEP,
    MAJOR,
    MINOR,
    MonthsLike,
    check_coverage,
    combine_category,
    count_columns,
    file_columns,
    finish,
    is_csv_file,
    months_index,
    normalised_map,
    read_columns,
    selected_categories,
    text_column,
    warn,
)

__all__ = ["read_mps_wide", "read_wide_raw"]

_MONTH_COL = re.compile(r"^(\d{4})(\d{2})$")


@dataclass(frozen=True)
class _Layout:
    code: str
    name: str
    major: str
    minor: str
    header: str


_LAYOUTS: dict[str, _Layout] = {
    "ward": _Layout(
        code="wardcode",
        name="wardname",
        major="majortext",
        minor="minortext",
        header="majortext,minortext,wardname,wardcode,lookup_boroughname,202402,202403,…",
    ),
    "lsoa": _Layout(
        code="lsoa_code",
        name="lsoa_name",
        major="major_category",
        minor="minor_category",
        header="lsoa_code,lsoa_name,borough,major_category,minor_category,202402,202403,…",
    ),
}


@dataclass
class _Wide:
    path: Path
    is_csv: bool
    months: dict[str, pd.Timestamp]  # normalised column -> month
    frame: pd.DataFrame | None = None  # validated, duplicates summed; months as columns


def _scan_wide(path: Path, layout: _Layout, level: str) -> tuple[_Wide, dict[str, str]]:
    path = Path(path)
    names = file_columns(path)
    norm = normalised_map(path, names)
    required = [layout.code, layout.major, layout.minor]
    missing = [c for c in required if c not in norm]
    months: dict[str, pd.Timestamp] = {}
    for k in norm:
        m = _MONTH_COL.match(k)
        if m:
            y, mo = int(m.group(1)), int(m.group(2))
            if not 1 <= mo <= 12:
                raise DataValidationError(
                    f"{path}: column {norm[k]!r} looks like a month (YYYYMM) but month "
                    f"{mo:02d} does not exist. Rename or remove the column."
                )
            months[k] = pd.Timestamp(y, mo, 1)
    if missing or not months:
        what = [*missing, *([] if months else ["one column per month named YYYYMM"])]
        raise DataValidationError(
            f"{path}: this is not an MPS {level}-level wide table: missing {', '.join(what)}. "
            f"Expected a header like: {layout.header} (one row per {level} and offence "
            f"category, one count column per month). Found columns: "
            f"{', '.join(names[:12])}{' …' if len(names) > 12 else ''}."
        )
    return _Wide(path=path, is_csv=is_csv_file(path), months=months), norm


def _load_wide(
    w: _Wide, norm: dict[str, str], layout: _Layout, month_cols: list[str]
) -> pd.DataFrame:
    """Read, validate, sum duplicate rows; text columns renamed to area/_major/_minor.

    The frame is also kept as ``w.frame``.
    """
    text_cols = [layout.code, layout.major, layout.minor] + (
        [layout.name] if layout.name in norm else []
    )
    df = read_columns(w.path, [norm[c] for c in [*text_cols, *month_cols]])
    for col, what in (
        (layout.code, "the area code"),
        (layout.major, "the major category"),
        (layout.minor, "the minor category"),
    ):
        df[col] = text_column(df, col, w.path, w.is_csv, what=what)
    df = count_columns(df, month_cols, w.path, w.is_csv)
    df = df.rename(
        columns={
            layout.code: C.AREA,
            layout.major: MAJOR,
            layout.minor: MINOR,
            layout.name: AREA_NAME,
        }
    )
    keys = [C.AREA, MAJOR, MINOR]
    if df.duplicated(keys).any():
        groups = df.groupby(keys, sort=False)
        summed = groups[month_cols].sum()
        if AREA_NAME in df.columns:
            summed.insert(0, AREA_NAME, groups[AREA_NAME].first())
        df = summed.reset_index()
    w.frame = df
    return df


def _long(
    frame: pd.DataFrame, months: dict[str, pd.Timestamp], month_cols: list[str]
) -> pd.DataFrame:
    ids = [c for c in (C.AREA, MAJOR, MINOR, AREA_NAME) if c in frame.columns]
    long = frame.melt(id_vars=ids, value_vars=month_cols, var_name="_col", value_name=C.COUNT)
    long[C.MONTH] = long.pop("_col").map(months).astype("datetime64[ns]")
    long[C.COUNT] = long[C.COUNT].astype("int64")
    return long


def _overlap_policy(cur: _Wide, hist: _Wide, month: pd.Timestamp, overlap: str) -> str:
    """Compare the two files on a shared month; warn on disagreement; return the winner."""
    assert cur.frame is not None and hist.frame is not None
    ccol = next(k for k, v in cur.months.items() if v == month)
    hcol = next(k for k, v in hist.months.items() if v == month)
    keys = [C.AREA, MAJOR, MINOR]
    both = cur.frame[[*keys, ccol]].merge(
        hist.frame[[*keys, hcol]], on=keys, suffixes=("_current", "_historical")
    )
    cc = f"{ccol}_current" if ccol == hcol else ccol
    hc = f"{hcol}_historical" if ccol == hcol else hcol
    diff = both[both[cc] != both[hc]]
    if diff.empty:
        return "current"
    tot_c, tot_h = int(both[cc].sum()), int(both[hc].sum())
    incomplete = tot_h > 0 and tot_c < 0.5 * tot_h
    winner = ("historical" if incomplete else "current") if overlap == "auto" else overlap
    first = diff.iloc[0]
    why = (
        f"the current file's total for {month:%Y-%m} ({tot_c:,}) is under half the historical "
        f"file's ({tot_h:,}), so its {month:%Y-%m} column looks incomplete"
        if incomplete
        else f"totals: current {tot_c:,}, historical {tot_h:,}"
    )
    warn(
        f"{cur.path.name} and {hist.path.name} disagree for {month:%Y-%m} in "
        f"{len(diff):,} of {len(both):,} area × category cells, e.g. area {first[C.AREA]}, "
        f"category '{first[MAJOR]}{CATEGORY_SEP}{first[MINOR]}', month {month:%Y-%m}: "
        f"current {int(first[cc])}, historical {int(first[hc])}; {why}. Keeping the "
        f"{winner} file's {month:%Y-%m} values (overlap={overlap!r})."
    )
    return winner


def read_wide_raw(
    path: str | Path,
    *,
    level: Literal["ward", "lsoa"],
    historical: str | Path | None,
    months: pd.DatetimeIndex | None,
    overlap: Literal["auto", "current", "historical"],
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The table(s) in internal long form: ``area, _major, _minor, month, count``
    (+ ``area_name``), before ``category`` is formed.

    As :func:`read_mps_wide`, with ``months`` already a month-start index (or ``None``);
    :func:`pilot_eval.io.mps.load_area_counts` relabels the result per outcome.
    """
    if level not in _LAYOUTS:
        raise ValueError(f"level must be 'ward' or 'lsoa', got {level!r}")
    if overlap not in ("auto", "current", "historical"):
        raise ValueError(f"overlap must be 'auto', 'current' or 'historical', got {overlap!r}")
    layout = _LAYOUTS[level]
    files = [_scan_wide(Path(path), layout, level)]
    if historical is not None:
        files.append(_scan_wide(Path(historical), layout, level))
    have = {m for w, _ in files for m in w.months.values()}
    hint = (
        "Shorten the pilot's windows, or add the historical table (data.crimes_historical)."
        if historical is None
        else "Shorten the pilot's windows or get a table that covers them."
    )
    check_coverage(Path(path), have, months, hint=hint)
    wanted = set(months) if months is not None else None
    selected: list[list[str]] = []
    frames: list[pd.DataFrame] = []
    for w, norm in files:
        cols = [k for k, m in w.months.items() if wanted is None or m in wanted]
        selected.append(cols)
        frames.append(_load_wide(w, norm, layout, cols))
    wides = [w for w, _ in files]
    prefer: dict[pd.Timestamp, str] = {}
    if len(wides) == 2:
        cur, hist = wides
        shared = sorted(
            {cur.months[c] for c in selected[0]} & {hist.months[c] for c in selected[1]}
        )
        prefer = {m: _overlap_policy(cur, hist, m, overlap) for m in shared}
    if categories is not None:
        pairs = pd.concat([f[[MAJOR, MINOR]] for f in frames]).drop_duplicates()
        keep = selected_categories(pairs, categories, Path(path))
        frames = [f[combine_category(f[MAJOR], f[MINOR]).isin(keep).to_numpy()] for f in frames]
    longs = []
    for src, w, f, cols in zip(("current", "historical"), wides, frames, selected, strict=False):
        if not cols:
            continue
        long = _long(f, w.months, cols)
        if prefer:
            # a shared month comes from the preferred file, plus rows only the other file has
            lose = long[C.MONTH].map(prefer).fillna(src).to_numpy() != src
            long = long.assign(_lose=lose)
        longs.append(long)
    if not longs:
        return pd.DataFrame(columns=[C.AREA, MAJOR, MINOR, C.MONTH, C.COUNT])
    raw = pd.concat(longs, ignore_index=True)
    if prefer:
        in_shared = raw[C.MONTH].isin(list(prefer)).to_numpy()
        part = raw.loc[in_shared].sort_values("_lose", kind="stable")
        part = part.drop_duplicates([C.AREA, MAJOR, MINOR, C.MONTH], keep="first")
        raw = pd.concat([raw.loc[~in_shared], part], ignore_index=True).drop(columns="_lose")
    return raw


def read_mps_wide(
    path: str | Path,
    *,
    level: Literal["ward", "lsoa"],
    historical: str | Path | None = None,
    categories: Sequence[str] | None = None,
    months: MonthsLike = None,
    overlap: Literal["auto", "current", "historical"] = "auto",
) -> pd.DataFrame:
    """Read an MPS ward- or LSOA-level wide table (CSV or Parquet) as long monthly counts.

    Parameters
    ----------
    path
        The current wide table (see the module docstring for its columns).
    level
        ``"ward"`` (``wardcode``, ``majortext``, ``minortext``) or ``"lsoa"``
        (``lsoa_code``, ``major_category``, ``minor_category``).
    historical
        Optional earlier table with the same layout. The two are combined; where both
        have a month (the MPS files overlap by one), their values are compared.
    categories
        Offence categories to keep: major text, minor text or ``"<major> / <minor>"``
        (case-insensitive). ``None`` keeps all.
    months
        Months to keep: a ``(first, last)`` tuple (inclusive) or any iterable of months
        (``"2024-04"``, timestamps, a ``DatetimeIndex``). Every month asked for must be in
        the table(s). ``None`` keeps all.
    overlap
        Which file's value to keep for a month both files have, when they disagree.
        ``"auto"`` (default) keeps the current file's value unless the current file's total
        for that month is under half the historical file's, i.e. the month is evidently
        incomplete in the current file (as in the 2026-04 London Datastore release, whose
        first month holds a few dozen offences against ~74,000 in the historical file);
        then it keeps the historical value. ``"current"`` / ``"historical"`` force a side.
        Any disagreement is reported with a warning naming the first differing area,
        category and month.

    Returns
    -------
    pandas.DataFrame
        ``area, month, category, count`` (+ ``area_name`` when the file has names); see
        the module docstring. ``category`` is ``"<major> / <minor>"``.

    Raises
    ------
    DataValidationError
        If the file is missing or unreadable, lacks required columns, has a month column
        that is not a real month, a blank code or category, or a count that is not a whole
        number ≥ 0 (the message names the file, line/row and column); if months asked for
        are not in the table(s); or if a category selector matches nothing.
    """
    wanted = months_index(months)
    raw = read_wide_raw(
        path,
        level=level,
        historical=historical,
        months=wanted,
        overlap=overlap,
        categories=categories,
    )
    return finish(raw)
