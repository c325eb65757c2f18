"""Metropolitan Police (MPS) area-level recorded crime, from the London Datastore.

A second outcome source beside police.uk points: monthly counts already aggregated to areas
(wards or LSOAs), read from CSV or Parquet. Every reader returns the same long table.

Output (every reader, and :func:`load_area_counts`)
    One row per area × month × category:

    ``area`` (str)
        Area code (ward GSS code ``E05…`` or LSOA code ``E01…``).
    ``month`` (datetime64, month start)
    ``category`` (str)
        Offence category (see each reader).
    ``count`` (int64, ≥ 0)
        Offences recorded by the MPS in that area and month.
    ``area_name`` (str, when the file has names)

Schemas
-------
Ward wide table (``data.source: mps_ward``; London Datastore "MPS Ward Level Crime")
    One row per ward × offence category, one column per month. Column names are matched
    case-insensitively with spaces and punctuation read as ``_`` (``MajorText`` ->
    ``majortext``, ``LSOA Code`` -> ``lsoa_code``).

    ==========================  ==========================================================
    ``wardcode``                ward GSS code (required)
    ``majortext``               major offence category, e.g. ``VIOLENCE AGAINST THE PERSON``
                                (required)
    ``minortext``               minor offence category, e.g. ``VIOLENCE WITH INJURY``
                                (required)
    ``wardname``                ward name (optional; kept as ``area_name``)
    ``YYYYMM`` …                one column per month (e.g. ``202403``), whole numbers ≥ 0
                                (at least one required)
    anything else               ignored (e.g. ``lookup_boroughname``)
    ==========================  ==========================================================

    The "historical" table (``data.crimes_historical``) has the same layout and earlier
    months. Rows repeating the same code and categories (the MPS files list a few wards
    under two borough look-ups) are added together.

LSOA wide table (``data.source: mps_lsoa``; "MPS LSOA Level Crime")
    As the ward table with ``lsoa_code`` (required), ``lsoa_name`` (optional),
    ``major_category`` and ``minor_category`` (required), ``YYYYMM`` month columns.

VAWG offences table (``data.source: mps_vawg``; "MPS Violence Against Women and Girls")
    Long: one row per tabulation cell.

    ============================  ========================================================
    ``sheet``                     which tabulation the row belongs to (required):
                                  ``Offence count location`` (by borough and ward) or
                                  ``Offence count classification`` (by offence group,
                                  London-wide). The two count the same offences twice over:
                                  never add them together.
    ``recorded_date_months``      month the offence was recorded (date; required)
    ``count``                     offences, whole number ≥ 0 (required)
    ``borough_name``              borough (location sheet; required there)
    ``ward_name_clean_2``         ward NAME, not code (location sheet; required there;
                                  empty for offences the MPS could not place in a ward)
    ``crimsec_group``             offence group, e.g. ``Rape``, ``Violence with Injury``
                                  (classification sheet; required there)
    ``vawg_offence``              offence within the group (classification sheet; required)
    anything else                 ignored (e.g. ``date_committed_from_date_months``,
                                  ``bcu_location``, ``crimsec_offences``)
    ============================  ========================================================

Categories
----------
Wide tables
    ``category`` is ``"<major> / <minor>"``, e.g.
    ``"VIOLENCE AGAINST THE PERSON / VIOLENCE WITH INJURY"``. A selector in ``categories``
    (or an outcome's ``categories`` in a pilot config) may be the major text (every minor
    category under it), the minor text, or the combined string. Matching ignores case and
    repeated spaces.
VAWG location sheet (the only sheet with wards)
    Has **no offence breakdown**: its single category is :data:`VAWG_ALL`
    (``"All VAWG-flagged offences"``), every offence the MPS flagged in its VAWG table,
    including the group the classification sheet calls "Other flagged offences outside of
    VAWG".
VAWG classification sheet (London-wide, no wards)
    ``category`` is ``"<crimsec_group> / <vawg_offence>"``; select by offence group
    (``crimsec_group``), by offence (``vawg_offence``) or by the combined string. Its
    ``area`` is the Metropolitan Police force-area code :data:`MPS_FORCE_AREA`.

In :func:`load_area_counts` the output ``category`` is the selector exactly as the config
writes it, summed over the categories it matches, so that
``panel_from_counts(counts, outcomes={o.name: o.categories})`` selects with a plain
membership test.
"""

from __future__ import annotations

import difflib
import re
import sys
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .. import columns as C
from ..config import PilotConfig
from ..errors import ConfigError, DataQualityWarning, DataValidationError

CATEGORY = "category"
AREA_NAME = "area_name"
#: Separator between major and minor text in ``category``.
CATEGORY_SEP = " / "
#: The VAWG tabulation by borough and ward (the only one usable for area comparisons).
VAWG_LOCATION_SHEET = "Offence count location"
#: The VAWG tabulation by offence group and offence, London-wide (no areas).
VAWG_CLASSIFICATION_SHEET = "Offence count classification"
#: The single category of the VAWG location sheet.
VAWG_ALL = "All VAWG-flagged offences"
#: ONS code of the Metropolitan Police force area (area of the classification sheet).
MPS_FORCE_AREA = "E23000001"

OUTPUT_COLUMNS = (C.AREA, C.MONTH, CATEGORY, C.COUNT)

_MONTH_COL = re.compile(r"^(\d{4})(\d{2})$")
_MAJOR, _MINOR = "_major", "_minor"


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

MonthsLike = Iterable[object] | tuple[object, object] | None


# ---------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------
def _warn(message: str) -> None:
    """Warn, pointing at the first caller outside this module."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, DataQualityWarning, stacklevel=level)


def _norm_col(name: object) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def _key(text: object) -> str:
    """Case- and space-insensitive matching key for category text."""
    return " ".join(str(text).split()).casefold()


def _month(v: object) -> pd.Timestamp:
    t = pd.Timestamp(v)
    return pd.Timestamp(t.year, t.month, 1)


def _months_index(months: MonthsLike) -> pd.DatetimeIndex | None:
    """``None``; a ``(first, last)`` tuple (inclusive range); or any iterable of months."""
    if months is None:
        return None
    if isinstance(months, tuple) and len(months) == 2:
        first, last = _month(months[0]), _month(months[1])
        return pd.date_range(first, last, freq="MS")
    return pd.DatetimeIndex(sorted({_month(m) for m in months}))


def _span(months: Iterable[pd.Timestamp]) -> str:
    ms = sorted(months)
    if not ms:
        return "no months"
    if len(ms) == 1:
        return f"{ms[0]:%Y-%m}"
    return f"{ms[0]:%Y-%m} to {ms[-1]:%Y-%m} ({len(ms)} months)"


def _is_csv(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return False
    if any(s in (".csv", ".txt") for s in suffixes):
        return True
    raise DataValidationError(
        f"{path}: unsupported file type {path.suffix!r}. Give the MPS table as CSV (.csv) "
        "or Parquet (.parquet)."
    )


def _where(is_csv: bool, i: int) -> str:
    """Position of data row ``i`` (0-based) for messages: CSV line or Parquet row."""
    return f"line {i + 2}" if is_csv else f"row {i + 1}"


def _shown(value: object) -> str:
    """A cell value for messages: text quoted, numbers plain, blanks named."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "an empty cell"
    if isinstance(value, str):
        return repr(value) if value.strip() else "an empty cell"
    return str(value)


def _file_columns(path: Path) -> list[str]:
    csv_file = _is_csv(path)
    if not path.is_file():
        raise DataValidationError(
            f"{path}: no such file. Check the path (data.crimes / data.crimes_historical in "
            "the pilot config; relative paths are taken from the config's folder)."
        )
    if csv_file:
        try:
            head = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise DataValidationError(
                f"{path}: not UTF-8 text. Re-save it as 'CSV UTF-8'."
            ) from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise DataValidationError(f"{path}: cannot be read as CSV: {exc}") from None
        return [str(c) for c in head.columns]
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataValidationError(
            f"{path}: cannot be read as Parquet ({exc}). Re-download the file."
        ) from None


def _read(path: Path, original: list[str]) -> pd.DataFrame:
    """Read the given (original-named) columns; CSV cells stay text."""
    if _is_csv(path):
        wanted = set(original)
        try:
            df = pd.read_csv(
                path,
                usecols=lambda c: c in wanted,
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
            )
        except UnicodeDecodeError:
            raise DataValidationError(
                f"{path}: not UTF-8 text. Re-save it as 'CSV UTF-8'."
            ) from None
        except pd.errors.ParserError as exc:
            raise DataValidationError(f"{path}: cannot be read as CSV: {exc}") from None
    else:
        df = pd.read_parquet(path, columns=original)
    df.columns = [_norm_col(c) for c in df.columns]
    return df


def _normalised_map(path: Path, names: list[str]) -> dict[str, str]:
    """normalised name -> original name, refusing two columns that normalise alike."""
    out: dict[str, str] = {}
    for n in names:
        k = _norm_col(n)
        if k in out:
            raise DataValidationError(
                f"{path}: columns {out[k]!r} and {n!r} both read as {k!r}. Rename or remove "
                "one of them."
            )
        out[k] = n
    return out


def _text(df: pd.DataFrame, col: str, path: Path, is_csv: bool, *, what: str) -> pd.Series:
    """Stripped text column; blank cells are an error naming the first one."""
    s = df[col].astype("string").str.strip()
    blank = s.fillna("").eq("").to_numpy(dtype=bool)
    if blank.any():
        i = int(np.flatnonzero(blank)[0])
        raise DataValidationError(
            f"{path}: {_where(is_csv, i)}, column '{col}' is empty ({what} is needed on "
            f"every row; {int(blank.sum())} row(s) affected). Fill it in or remove the row."
        )
    return s.astype(str)


def _bad_count_mask(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(mask of cells that are not whole numbers ≥ 0, numeric series)."""
    if pd.api.types.is_bool_dtype(s):
        return np.ones(len(s), dtype=bool), s
    if pd.api.types.is_numeric_dtype(s):
        num = s
    else:
        text = s.astype("string").str.strip().str.replace(",", "", regex=False)
        num = pd.to_numeric(text, errors="coerce")
    v = pd.Series(num).to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = np.isnan(v) | (v < 0) | (v != np.floor(v))
    return bad, num


def _counts(df: pd.DataFrame, cols: Sequence[str], path: Path, is_csv: bool) -> pd.DataFrame:
    """Validate and convert count columns to int64; error names the first bad cell."""
    if not cols:
        return df
    masks: list[np.ndarray] = []
    converted: dict[str, pd.Series] = {}
    for c in cols:
        bad, num = _bad_count_mask(df[c])
        masks.append(bad)
        converted[c] = num
    stacked = np.column_stack(masks)
    rows_bad = stacked.any(axis=1)
    if rows_bad.any():
        i = int(np.flatnonzero(rows_bad)[0])
        j = int(np.flatnonzero(stacked[i])[0])
        col = cols[j]
        raise DataValidationError(
            f"{path}: {_where(is_csv, i)}, column '{col}' has {_shown(df[col].iloc[i])}, "
            "which is not a count "
            f"(a whole number ≥ 0); {int(stacked.sum())} bad cell(s) in all. Fix the cell "
            "(a month with no offences should be 0) or re-download the table."
        )
    ints = pd.DataFrame({c: converted[c].to_numpy(dtype="int64") for c in cols}, index=df.index)
    return pd.concat([df.drop(columns=list(cols)), ints], axis=1)


def _category(major: pd.Series, minor: pd.Series) -> pd.Series:
    minor = minor.fillna("")
    return major.where(minor == "", major + CATEGORY_SEP + minor)


# ---------------------------------------------------------------------------------------
# category selection
# ---------------------------------------------------------------------------------------
def _available(raw: pd.DataFrame) -> list[str]:
    pairs = raw[[_MAJOR, _MINOR]].drop_duplicates()
    majors = sorted(pairs[_MAJOR].unique())
    minors = sorted(m for m in pairs[_MINOR].unique() if m)
    combined = sorted(_category(pairs[_MAJOR], pairs[_MINOR]).unique())
    seen: dict[str, None] = {}
    for x in [*majors, *minors, *combined]:
        seen.setdefault(x, None)
    return list(seen)


def _matching(raw: pd.DataFrame, selector: str) -> set[str]:
    """Categories (``"<major> / <minor>"``) a selector matches: major, minor or combined."""
    pairs = raw[[_MAJOR, _MINOR]].drop_duplicates()
    k = _key(selector)
    out = set()
    for major, minor in pairs.itertuples(index=False):
        comb = major if not minor else f"{major}{CATEGORY_SEP}{minor}"
        if k in (_key(major), _key(comb)) or (minor and _key(minor) == k):
            out.add(comb)
    return out


def _unknown_error(
    path: Path, unknown: Sequence[str], raw: pd.DataFrame, *, extra: str = ""
) -> DataValidationError:
    avail = _available(raw)
    by_key = {_key(a): a for a in avail}
    parts = []
    for u in unknown:
        close = difflib.get_close_matches(_key(u), list(by_key), n=4, cutoff=0.0)
        parts.append(f"{u!r} (closest: {', '.join(repr(by_key[c]) for c in close)})")
    return DataValidationError(
        f"{path}: unknown offence categor{'y' if len(unknown) == 1 else 'ies'} "
        f"{'; '.join(parts)}. Use a major or minor category text, or '<major> / <minor>', "
        f"exactly as the table writes it (case does not matter). {extra}".rstrip()
    )


def _selected_categories(
    pairs: pd.DataFrame, categories: Sequence[str] | str, path: Path, *, extra: str = ""
) -> set[str]:
    """Every category the selectors match; unknown selectors are an error."""
    if isinstance(categories, str):
        categories = [categories]
    wanted: set[str] = set()
    unknown = []
    for sel in categories:
        m = _matching(pairs, sel)
        if not m:
            unknown.append(sel)
        wanted |= m
    if unknown:
        raise _unknown_error(path, unknown, pairs, extra=extra)
    return wanted


def _filter(
    raw: pd.DataFrame, categories: Sequence[str] | None, path: Path, *, extra: str = ""
) -> pd.DataFrame:
    if categories is None:
        return raw
    pairs = raw[[_MAJOR, _MINOR]].drop_duplicates()
    wanted = _selected_categories(pairs, categories, path, extra=extra)
    return raw.loc[_category(raw[_MAJOR], raw[_MINOR]).isin(wanted).to_numpy()]


def _finish(raw: pd.DataFrame) -> pd.DataFrame:
    out = raw.assign(**{CATEGORY: _category(raw[_MAJOR], raw[_MINOR])})
    cols = [*OUTPUT_COLUMNS, *([AREA_NAME] if AREA_NAME in out.columns else [])]
    out = out[cols].sort_values([CATEGORY, C.AREA, C.MONTH], kind="stable")
    return out.reset_index(drop=True)


def _check_coverage(
    path: Path, have: Iterable[pd.Timestamp], wanted: pd.DatetimeIndex | None, *, hint: str
) -> None:
    if wanted is None:
        return
    have = set(have)
    missing = [m for m in wanted if m not in have]
    if missing:
        raise DataValidationError(
            f"{path}: the table has no data for {_span(missing)} of the months asked for "
            f"({_span(wanted)}); it covers {_span(have)}. {hint}"
        )


# ---------------------------------------------------------------------------------------
# wide tables (ward, LSOA)
# ---------------------------------------------------------------------------------------
@dataclass
class _Wide:
    path: Path
    is_csv: bool
    months: dict[str, pd.Timestamp]  # normalised column -> month
    frame: pd.DataFrame | None = None  # validated, duplicates summed; months as columns


def _scan_wide(path: Path, layout: _Layout, level: str) -> tuple[_Wide, dict[str, str]]:
    path = Path(path)
    names = _file_columns(path)
    norm = _normalised_map(path, names)
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
    return _Wide(path=path, is_csv=_is_csv(path), months=months), norm


def _load_wide(w: _Wide, norm: dict[str, str], layout: _Layout, month_cols: list[str]) -> _Wide:
    """Read, validate, sum duplicate rows; text columns renamed to area/_major/_minor."""
    text_cols = [layout.code, layout.major, layout.minor] + (
        [layout.name] if layout.name in norm else []
    )
    df = _read(w.path, [norm[c] for c in [*text_cols, *month_cols]])
    for col, what in (
        (layout.code, "the area code"),
        (layout.major, "the major category"),
        (layout.minor, "the minor category"),
    ):
        df[col] = _text(df, col, w.path, w.is_csv, what=what)
    df = _counts(df, month_cols, w.path, w.is_csv)
    df = df.rename(
        columns={
            layout.code: C.AREA,
            layout.major: _MAJOR,
            layout.minor: _MINOR,
            layout.name: AREA_NAME,
        }
    )
    keys = [C.AREA, _MAJOR, _MINOR]
    if df.duplicated(keys).any():
        groups = df.groupby(keys, sort=False)
        summed = groups[month_cols].sum()
        if AREA_NAME in df.columns:
            summed.insert(0, AREA_NAME, groups[AREA_NAME].first())
        df = summed.reset_index()
    w.frame = df
    return w


def _long(
    frame: pd.DataFrame, months: dict[str, pd.Timestamp], month_cols: list[str]
) -> pd.DataFrame:
    ids = [c for c in (C.AREA, _MAJOR, _MINOR, AREA_NAME) if c in frame.columns]
    long = frame.melt(id_vars=ids, value_vars=month_cols, var_name="_col", value_name=C.COUNT)
    long[C.MONTH] = long.pop("_col").map(months).astype("datetime64[ns]")
    long[C.COUNT] = long[C.COUNT].astype("int64")
    return long


def _overlap_policy(cur: _Wide, hist: _Wide, month: pd.Timestamp, overlap: str) -> str:
    """Compare the two files on a shared month; warn on disagreement; return the winner."""
    assert cur.frame is not None and hist.frame is not None
    ccol = next(k for k, v in cur.months.items() if v == month)
    hcol = next(k for k, v in hist.months.items() if v == month)
    keys = [C.AREA, _MAJOR, _MINOR]
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
    _warn(
        f"{cur.path.name} and {hist.path.name} disagree for {month:%Y-%m} in "
        f"{len(diff):,} of {len(both):,} area × category cells, e.g. area {first[C.AREA]}, "
        f"category '{first[_MAJOR]}{CATEGORY_SEP}{first[_MINOR]}', month {month:%Y-%m}: "
        f"current {int(first[cc])}, historical {int(first[hc])}; {why}. Keeping the "
        f"{winner} file's {month:%Y-%m} values (overlap={overlap!r})."
    )
    return winner


def _read_wide_raw(
    path: str | Path,
    *,
    level: Literal["ward", "lsoa"],
    historical: str | Path | None,
    months: pd.DatetimeIndex | None,
    overlap: Literal["auto", "current", "historical"],
    categories: Sequence[str] | None = None,
) -> pd.DataFrame:
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
    _check_coverage(Path(path), have, months, hint=hint)
    wanted = set(months) if months is not None else None
    selected: list[list[str]] = []
    for w, norm in files:
        cols = [k for k, m in w.months.items() if wanted is None or m in wanted]
        selected.append(cols)
        _load_wide(w, norm, layout, cols)
    wides = [w for w, _ in files]
    prefer: dict[pd.Timestamp, str] = {}
    if len(wides) == 2:
        cur, hist = wides
        shared = sorted(
            {cur.months[c] for c in selected[0]} & {hist.months[c] for c in selected[1]}
        )
        prefer = {m: _overlap_policy(cur, hist, m, overlap) for m in shared}
    frames = [w.frame for w in wides]
    if categories is not None:
        pairs = pd.concat([f[[_MAJOR, _MINOR]] for f in frames]).drop_duplicates()
        keep = _selected_categories(pairs, categories, Path(path))
        frames = [f[_category(f[_MAJOR], f[_MINOR]).isin(keep).to_numpy()] for f in frames]
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
        return pd.DataFrame(columns=[C.AREA, _MAJOR, _MINOR, C.MONTH, C.COUNT])
    raw = pd.concat(longs, ignore_index=True)
    if prefer:
        in_shared = raw[C.MONTH].isin(list(prefer)).to_numpy()
        part = raw.loc[in_shared].sort_values("_lose", kind="stable")
        part = part.drop_duplicates([C.AREA, _MAJOR, _MINOR, C.MONTH], keep="first")
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
    wanted = _months_index(months)
    raw = _read_wide_raw(
        path,
        level=level,
        historical=historical,
        months=wanted,
        overlap=overlap,
        categories=categories,
    )
    return _finish(raw)


# ---------------------------------------------------------------------------------------
# VAWG table
# ---------------------------------------------------------------------------------------
def normalise_ward_name(name: object) -> str:
    """Matching key for a ward name: case, accents, ``&``/``and``, punctuation, spaces.

    ``"St. Mary's & St. James"`` and ``"St Mary's and St James"`` both give
    ``"st marys and st james"``.
    """
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    s = s.casefold().replace("&", " and ")
    s = re.sub(r"['’`]", "", s)
    s = re.sub(r"[^0-9a-z]+", " ", s)
    return " ".join(s.split())


def _lookup_keys(ward_lookup: pd.DataFrame) -> dict[str, tuple[str, str]]:
    missing = [c for c in (C.AREA, C.NAME) if c not in ward_lookup.columns]
    if missing:
        raise DataValidationError(
            f"ward_lookup needs columns '{C.AREA}' (ward code) and '{C.NAME}' (ward name); "
            f"missing {missing}. Build it from the boundaries file, e.g. with "
            "ward_lookup_from_boundaries()."
        )
    out: dict[str, tuple[str, str]] = {}
    for code, name in ward_lookup[[C.AREA, C.NAME]].itertuples(index=False):
        if pd.isna(code) or pd.isna(name):
            continue
        k = normalise_ward_name(name)
        if k in out and out[k][0] != str(code):
            raise DataValidationError(
                f"ward_lookup: wards {out[k][0]} ({out[k][1]!r}) and {code} ({name!r}) have "
                "the same name once case and punctuation are ignored, so VAWG ward names "
                "cannot be told apart. Restrict the lookup to one borough."
            )
        out[k] = (str(code), str(name))
    if not out:
        raise DataValidationError("ward_lookup has no rows with both a code and a name.")
    return out


def match_ward_names(
    names: Iterable[str], ward_lookup: pd.DataFrame, *, source: str = "the VAWG table"
) -> dict[str, str]:
    """Map published ward names to codes via a boundaries lookup.

    Parameters
    ----------
    names
        Ward names as published (e.g. the VAWG table's ``ward_name_clean_2``).
    ward_lookup
        DataFrame with ``area`` (code) and ``name`` columns, e.g. from the boundaries file.
    source
        Where the names come from, for messages.

    Returns
    -------
    dict
        name as published -> ward code. Names match after :func:`normalise_ward_name`.

    Raises
    ------
    DataValidationError
        If any name has no match; the message lists each with its closest lookup names.
    """
    keys = _lookup_keys(ward_lookup)
    out: dict[str, str] = {}
    unmatched: list[str] = []
    for n in dict.fromkeys(names):
        k = normalise_ward_name(n)
        if k in keys:
            out[n] = keys[k][0]
        else:
            unmatched.append(n)
    if unmatched:
        shown = []
        by_key = {k: v[1] for k, v in keys.items()}
        for n in unmatched[:15]:
            close = difflib.get_close_matches(normalise_ward_name(n), list(by_key), n=3, cutoff=0.6)
            hint = ", ".join(repr(by_key[c]) for c in close) or "no close match"
            shown.append(f"{n!r} (closest: {hint})")
        more = f" and {len(unmatched) - 15} more" if len(unmatched) > 15 else ""
        raise DataValidationError(
            f"{source}: {len(unmatched)} ward name(s) have no match in the ward lookup "
            f"(boundaries file): {'; '.join(shown)}{more}. Check the boundaries are the same "
            "ward vintage as the table (e.g. Bexley's 2018 wards), or fix the names in the "
            "boundaries' name column."
        )
    return out


def ward_lookup_from_boundaries(
    path: str | Path, *, code_column: str | None = None, name_column: str | None = None
) -> pd.DataFrame:
    """Ward codes and names from a boundaries file's attributes (geometry is not read).

    Parameters
    ----------
    path
        GeoJSON, GeoPackage or Shapefile.
    code_column, name_column
        Attribute columns; detected when omitted (``wdYYcd``/``wdYYnm``, ``wardcode`` /
        ``wardname``, ``area``/``name``, ``code``).

    Returns
    -------
    pandas.DataFrame
        ``area`` (str), ``name`` (str).
    """
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise DataValidationError(
            f"{path}: no such boundaries file. Check data.boundaries in the pilot config."
        )
    try:
        attrs = pyogrio.read_dataframe(path, read_geometry=False)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise DataValidationError(f"{path}: cannot read the boundaries file: {exc}") from None

    def pick(given: str | None, patterns: Sequence[str], what: str) -> str:
        if given is not None:
            if given not in attrs.columns:
                raise DataValidationError(
                    f"{path}: no column {given!r} (the {what}); columns are {list(attrs.columns)}."
                )
            return given
        for pat in patterns:
            for c in attrs.columns:
                if re.fullmatch(pat, str(c), flags=re.I):
                    return str(c)
        raise DataValidationError(
            f"{path}: cannot tell which column holds the {what}; columns are "
            f"{list(attrs.columns)}. Set data.area_code_column / data.area_name_column."
        )

    code = pick(
        code_column, [r"wd\d{2}cd", r"ward_?code", r"area", r"area_?code", r"code"], "ward code"
    )
    name = pick(name_column, [r"wd\d{2}nm", r"ward_?name", r"name", r"area_?name"], "ward name")
    return pd.DataFrame(
        {C.AREA: attrs[code].astype(str).to_numpy(), C.NAME: attrs[name].astype(str).to_numpy()}
    )


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
    s = _key(sheet)
    if s in ("both", "all", "*"):
        raise DataValidationError(both_msg)
    aliases = {"location": VAWG_LOCATION_SHEET, "classification": VAWG_CLASSIFICATION_SHEET}
    s = _key(aliases.get(s, sheet))
    for a in available:
        if _key(a) == s:
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


def _read_vawg_raw(
    path: str | Path,
    *,
    sheet: object,
    months: pd.DatetimeIndex | None,
    ward_lookup: pd.DataFrame | None,
    boroughs: Sequence[str] | None,
) -> tuple[pd.DataFrame, str]:
    path = Path(path)
    names = _file_columns(path)
    norm = _normalised_map(path, names)
    common = ["sheet", "recorded_date_months", "count"]
    missing = [c for c in common if c not in norm]
    if missing:
        raise DataValidationError(
            f"{path}: this is not the MPS VAWG offences table: missing column(s) "
            f"{', '.join(missing)}. Expected a long table with columns borough_name, "
            "ward_name_clean_2, recorded_date_months, count, sheet, crimsec_group, "
            f"vawg_offence, …. Found: {', '.join(names[:12])}."
        )
    is_csv = _is_csv(path)
    optional = ["borough_name", "ward_name_clean_2", "crimsec_group", "vawg_offence"]
    df = _read(path, [norm[c] for c in [*common, *optional] if c in norm])
    sheets = _text(df, "sheet", path, is_csv, what="the sheet name")
    chosen = _resolve_sheet(path, sheet, sorted(sheets.unique()))
    keep = (sheets == chosen).to_numpy()
    positions = np.flatnonzero(keep)
    df = df.loc[keep].reset_index(drop=True)
    is_location = _key(chosen) == _key(VAWG_LOCATION_SHEET)
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
        return _where(is_csv, int(positions[i]))

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
            f"{path}: {where(i)}, column 'recorded_date_months' has {_shown(rec.iloc[i])}, which is "
            "not a date (expected e.g. 2024-04-01 or 2024-04). Fix or remove the row."
        )
    month = parsed.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
    bad, num = _bad_count_mask(df["count"])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataValidationError(
            f"{path}: {where(i)}, column 'count' has {_shown(df['count'].iloc[i])}, which is not a "
            f"count (a whole number ≥ 0); {int(bad.sum())} bad row(s). Fix or remove the row."
        )
    out = pd.DataFrame({C.MONTH: month, C.COUNT: num.astype("int64").to_numpy()})
    _check_coverage(
        path,
        pd.date_range(out[C.MONTH].min(), out[C.MONTH].max(), freq="MS"),
        months,
        hint="Shorten the pilot's windows.",
    )

    if not is_location:
        for col in need:
            out[col] = _text(df, col, path, is_csv, what=col).to_numpy()
        out[C.AREA] = MPS_FORCE_AREA
        out[AREA_NAME] = "Metropolitan Police Service (all London)"
        out = out.rename(columns={"crimsec_group": _MAJOR, "vawg_offence": _MINOR})
    else:
        borough = df["borough_name"].astype("string").str.strip()
        ward = df["ward_name_clean_2"].astype("string").str.strip().replace("", pd.NA)
        out["borough_name"] = borough.to_numpy()
        out["ward_name_clean_2"] = ward.to_numpy()
        if months is not None:
            out = out[out[C.MONTH].isin(months)]
        if ward_lookup is not None:
            keys = _lookup_keys(ward_lookup)
            chosen_b = _pick_boroughs(path, out, keys, boroughs)
            out = out[out["borough_name"].isin(chosen_b)]
        elif boroughs is not None:
            out = out[out["borough_name"].isin(list(boroughs))]
        no_ward = out["ward_name_clean_2"].isna()
        if no_ward.any():
            _warn(
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
            code_name = {v[0]: v[1] for v in _lookup_keys(ward_lookup).values()}
            out[AREA_NAME] = out[C.AREA].map(code_name)
            absent = sorted(set(code_name) - set(out[C.AREA]))
            if absent:
                _warn(
                    f"{path.name}: ward(s) {', '.join(f'{a} ({code_name[a]})' for a in absent)} "
                    "of the ward lookup have no VAWG-flagged offences in the months read "
                    "(counted as zero)."
                )
        else:
            out[C.AREA] = out["borough_name"] + ": " + out["ward_name_clean_2"]
            out[AREA_NAME] = out["ward_name_clean_2"]
        out[_MAJOR] = VAWG_ALL
        out[_MINOR] = ""
    if months is not None:
        out = out[out[C.MONTH].isin(months)]
    raw = out.groupby([C.AREA, _MAJOR, _MINOR, C.MONTH], as_index=False, sort=True).agg(
        **{C.COUNT: (C.COUNT, "sum"), AREA_NAME: (AREA_NAME, "first")}
    )
    raw[C.COUNT] = raw[C.COUNT].astype("int64")
    return raw, chosen


def _vawg_hint(sheet: str) -> str:
    if _key(sheet) == _key(VAWG_LOCATION_SHEET):
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
    wanted = _months_index(months)
    raw, chosen = _read_vawg_raw(
        path, sheet=sheet, months=wanted, ward_lookup=ward_lookup, boroughs=boroughs
    )
    raw = _filter(raw, categories, Path(path), extra=_vawg_hint(chosen))
    return _finish(raw)


# ---------------------------------------------------------------------------------------
# config-driven loading
# ---------------------------------------------------------------------------------------
def _relabel(
    raw: pd.DataFrame, outcomes: Mapping[str, Sequence[str]], path: Path, *, extra: str = ""
) -> pd.DataFrame:
    """One block of rows per selector (as written), summed over what it matches."""
    selectors = list(dict.fromkeys(s for sels in outcomes.values() for s in sels))
    pairs = raw[[_MAJOR, _MINOR]].drop_duplicates()
    matched: dict[str, set[str]] = {s: _matching(pairs, s) for s in selectors}
    unknown = [s for s in selectors if not matched[s]]
    if unknown:
        raise _unknown_error(path, unknown, pairs, extra=extra)
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
    cats = _category(raw[_MAJOR], raw[_MINOR])
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
    config: PilotConfig, *, ward_lookup: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Long area × month counts for a pilot whose ``data.source`` is an MPS table.

    Parameters
    ----------
    config
        A validated pilot config with ``data.source`` ``mps_ward``, ``mps_lsoa`` or
        ``mps_vawg``. Every outcome's ``categories`` are selected, within ``config.months``.
    ward_lookup
        DataFrame with ``area`` and ``name`` (the boundaries' codes and names). Needed for
        ``mps_vawg`` (ward names -> codes); read from ``data.boundaries`` when omitted. For
        the wide tables it is optional and restricts the areas to the lookup's codes.

    Returns
    -------
    pandas.DataFrame
        ``area, month, category, count`` (+ ``area_name``). ``category`` is each selector
        exactly as written in the config, summed over the table categories it matches
        (see the module docstring); areas × months with no row are zero.

    Raises
    ------
    ConfigError
        If the source is not an MPS kind, or one outcome lists overlapping categories.
    DataValidationError
        As the readers; unknown categories are listed with the closest available ones.
    """
    d = config.data
    months = config.months
    outcomes = {o.name: list(o.categories) for o in config.outcomes}
    if d.source in ("mps_ward", "mps_lsoa"):
        level: Literal["ward", "lsoa"] = "ward" if d.source == "mps_ward" else "lsoa"
        raw = _read_wide_raw(
            d.crimes,
            level=level,
            historical=d.crimes_historical,
            months=months,
            overlap="auto",
            categories=[s for sels in outcomes.values() for s in sels],
        )
        extra = ""
        if ward_lookup is not None and C.AREA in ward_lookup.columns:
            codes = set(ward_lookup[C.AREA].astype(str))
            absent = sorted(codes - set(raw[C.AREA]))
            if absent:
                _warn(
                    f"{Path(d.crimes).name}: area(s) {', '.join(absent[:10])}"
                    f"{' …' if len(absent) > 10 else ''} of the boundaries are not in the "
                    "table (counted as zero). Check the boundaries' code vintage matches."
                )
            raw = raw[raw[C.AREA].isin(codes)]
            if raw.empty:
                raise DataValidationError(
                    f"{d.crimes}: none of the boundaries' area codes appear in the table. "
                    "Check data.boundaries / data.area_code_column and the code vintage."
                )
    elif d.source == "mps_vawg":
        if ward_lookup is None:
            ward_lookup = ward_lookup_from_boundaries(
                d.boundaries, code_column=d.area_code_column, name_column=d.area_name_column
            )
        raw, chosen = _read_vawg_raw(
            d.crimes,
            sheet=VAWG_LOCATION_SHEET,
            months=months,
            ward_lookup=ward_lookup,
            boroughs=None,
        )
        extra = _vawg_hint(chosen)
    else:
        raise ConfigError(
            f"load_area_counts reads MPS tables (data.source mps_ward, mps_lsoa or mps_vawg); "
            f"this pilot's data.source is {d.source!r}. Load police.uk points with "
            "pilot_eval.io.policeuk instead."
        )
    return _relabel(raw, outcomes, Path(d.crimes), extra=extra)
