"""Shared internals of the MPS readers: column names, month parsing, cells and categories.

Used by :mod:`.wide`, :mod:`.vawg` and :mod:`.load`; not part of the public API (import the
readers from :mod:`pilot_eval.io.mps`). The tables here keep offence text in two internal
columns, :data:`MAJOR` and :data:`MINOR`, until :func:`finish` (or the outcome relabelling
of :func:`pilot_eval.io.mps.load_area_counts`) turns them into ``category``.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import FrameType

import numpy as np
import pandas as pd

from ... import columns as C
from ...errors import DataQualityWarning, DataValidationError

CATEGORY = "category"
AREA_NAME = "area_name"
#: Separator between major and minor text in ``category``.
CATEGORY_SEP = " / "
OUTPUT_COLUMNS = (C.AREA, C.MONTH, CATEGORY, C.COUNT)
#: Internal columns holding the major and minor offence text.
MAJOR, MINOR = "_major", "_minor"

MonthsLike = Iterable[object] | tuple[object, object] | None

#: Frames from files in this folder are skipped when warning (see :func:`warn`).
_PACKAGE_DIR = os.path.dirname(__file__)


# ---------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------
def warn(message: str) -> None:
    """Warn (:class:`DataQualityWarning`), pointing at the first caller outside this package."""
    level = 2
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _PACKAGE_DIR:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, DataQualityWarning, stacklevel=level)


def norm_col(name: object) -> str:
    """Column name as matched: lower case, runs of other characters read as ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def match_key(text: object) -> str:
    """Case- and space-insensitive matching key for category text."""
    return " ".join(str(text).split()).casefold()


def month_start(v: object) -> pd.Timestamp:
    """The first day of the month of ``v`` (anything :class:`pandas.Timestamp` reads)."""
    t = pd.Timestamp(v)
    return pd.Timestamp(t.year, t.month, 1)


def months_index(months: MonthsLike) -> pd.DatetimeIndex | None:
    """``None``; a ``(first, last)`` tuple (inclusive range); or any iterable of months."""
    if months is None:
        return None
    if isinstance(months, tuple) and len(months) == 2:
        first, last = month_start(months[0]), month_start(months[1])
        return pd.date_range(first, last, freq="MS")
    return pd.DatetimeIndex(sorted({month_start(m) for m in months}))


def span(months: Iterable[pd.Timestamp]) -> str:
    ms = sorted(months)
    if not ms:
        return "no months"
    if len(ms) == 1:
        return f"{ms[0]:%Y-%m}"
    return f"{ms[0]:%Y-%m} to {ms[-1]:%Y-%m} ({len(ms)} months)"


def is_csv_file(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return False
    if any(s in (".csv", ".txt") for s in suffixes):
        return True
    raise DataValidationError(
        f"{path}: unsupported file type {path.suffix!r}. Give the MPS table as CSV (.csv) "
        "or Parquet (.parquet)."
    )


def row_position(is_csv: bool, i: int) -> str:
    """Position of data row ``i`` (0-based) for messages: CSV line or Parquet row."""
    return f"line {i + 2}" if is_csv else f"row {i + 1}"


def shown_cell(value: object) -> str:
    """A cell value for messages: text quoted, numbers plain, blanks named."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "an empty cell"
    if isinstance(value, str):
        return repr(value) if value.strip() else "an empty cell"
    return str(value)


def file_columns(path: Path) -> list[str]:
    csv_file = is_csv_file(path)
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


def read_columns(path: Path, original: list[str]) -> pd.DataFrame:
    """Read the given (original-named) columns; CSV cells stay text."""
    if is_csv_file(path):
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
    df.columns = [norm_col(c) for c in df.columns]
    return df


def normalised_map(path: Path, names: list[str]) -> dict[str, str]:
    """normalised name -> original name, refusing two columns that normalise alike."""
    out: dict[str, str] = {}
    for n in names:
        k = norm_col(n)
        if k in out:
            raise DataValidationError(
                f"{path}: columns {out[k]!r} and {n!r} both read as {k!r}. Rename or remove "
                "one of them."
            )
        out[k] = n
    return out


def text_column(df: pd.DataFrame, col: str, path: Path, is_csv: bool, *, what: str) -> pd.Series:
    """Stripped text column; blank cells are an error naming the first one."""
    s = df[col].astype("string").str.strip()
    blank = s.fillna("").eq("").to_numpy(dtype=bool)
    if blank.any():
        i = int(np.flatnonzero(blank)[0])
        raise DataValidationError(
            f"{path}: {row_position(is_csv, i)}, column '{col}' is empty ({what} is needed on "
            f"every row; {int(blank.sum())} row(s) affected). Fill it in or remove the row."
        )
    return s.astype(str)


#: Largest count accepted in a table cell: beyond it is a typo (and would overflow int64).
MAX_COUNT = 10**9


def bad_count_mask(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(mask of cells that are not whole numbers from 0 to :data:`MAX_COUNT`, numeric series)."""
    if pd.api.types.is_bool_dtype(s):
        return np.ones(len(s), dtype=bool), s
    if pd.api.types.is_numeric_dtype(s):
        num = s
    else:
        text = s.astype("string").str.strip().str.replace(",", "", regex=False)
        num = pd.to_numeric(text, errors="coerce")
    v = pd.Series(num).to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(v) | (v < 0) | (v != np.floor(v)) | (v > MAX_COUNT)
    return bad, num


def count_columns(df: pd.DataFrame, cols: Sequence[str], path: Path, is_csv: bool) -> pd.DataFrame:
    """Validate and convert count columns to int64; error names the first bad cell."""
    if not cols:
        return df
    masks: list[np.ndarray] = []
    converted: dict[str, pd.Series] = {}
    for c in cols:
        bad, num = bad_count_mask(df[c])
        masks.append(bad)
        converted[c] = num
    stacked = np.column_stack(masks)
    rows_bad = stacked.any(axis=1)
    if rows_bad.any():
        i = int(np.flatnonzero(rows_bad)[0])
        j = int(np.flatnonzero(stacked[i])[0])
        col = cols[j]
        raise DataValidationError(
            f"{path}: {row_position(is_csv, i)}, column '{col}' has {shown_cell(df[col].iloc[i])}, "
            "which is not a count "
            f"(a whole number from 0 to 10^9); {int(stacked.sum())} bad cell(s) in all. Fix the cell "
            "(a month with no offences should be 0) or re-download the table."
        )
    ints = pd.DataFrame({c: converted[c].to_numpy(dtype="int64") for c in cols}, index=df.index)
    return pd.concat([df.drop(columns=list(cols)), ints], axis=1)


def combine_category(major: pd.Series, minor: pd.Series) -> pd.Series:
    minor = minor.fillna("")
    return major.where(minor == "", major + CATEGORY_SEP + minor)


# ---------------------------------------------------------------------------------------
# category selection
# ---------------------------------------------------------------------------------------
def available_categories(raw: pd.DataFrame) -> list[str]:
    pairs = raw[[MAJOR, MINOR]].drop_duplicates()
    majors = sorted(pairs[MAJOR].unique())
    minors = sorted(m for m in pairs[MINOR].unique() if m)
    combined = sorted(combine_category(pairs[MAJOR], pairs[MINOR]).unique())
    seen: dict[str, None] = {}
    for x in [*majors, *minors, *combined]:
        seen.setdefault(x, None)
    return list(seen)


def matching_categories(raw: pd.DataFrame, selector: str) -> set[str]:
    """Categories (``"<major> / <minor>"``) a selector matches: major, minor or combined."""
    pairs = raw[[MAJOR, MINOR]].drop_duplicates()
    k = match_key(selector)
    out = set()
    for major, minor in pairs.itertuples(index=False):
        comb = major if not minor else f"{major}{CATEGORY_SEP}{minor}"
        if k in (match_key(major), match_key(comb)) or (minor and match_key(minor) == k):
            out.add(comb)
    return out


def unknown_category_error(
    path: Path, unknown: Sequence[str], raw: pd.DataFrame, *, extra: str = ""
) -> DataValidationError:
    avail = available_categories(raw)
    by_key = {match_key(a): a for a in avail}
    parts = []
    for u in unknown:
        close = difflib.get_close_matches(match_key(u), list(by_key), n=4, cutoff=0.0)
        parts.append(f"{u!r} (closest: {', '.join(repr(by_key[c]) for c in close)})")
    return DataValidationError(
        f"{path}: unknown offence categor{'y' if len(unknown) == 1 else 'ies'} "
        f"{'; '.join(parts)}. Use a major or minor category text, or '<major> / <minor>', "
        f"exactly as the table writes it (case does not matter). {extra}".rstrip()
    )


def selected_categories(
    pairs: pd.DataFrame, categories: Sequence[str] | str, path: Path, *, extra: str = ""
) -> set[str]:
    """Every category the selectors match; unknown selectors are an error."""
    if isinstance(categories, str):
        categories = [categories]
    wanted: set[str] = set()
    unknown = []
    for sel in categories:
        m = matching_categories(pairs, sel)
        if not m:
            unknown.append(sel)
        wanted |= m
    if unknown:
        raise unknown_category_error(path, unknown, pairs, extra=extra)
    return wanted


def filter_categories(
    raw: pd.DataFrame, categories: Sequence[str] | None, path: Path, *, extra: str = ""
) -> pd.DataFrame:
    if categories is None:
        return raw
    pairs = raw[[MAJOR, MINOR]].drop_duplicates()
    wanted = selected_categories(pairs, categories, path, extra=extra)
    return raw.loc[combine_category(raw[MAJOR], raw[MINOR]).isin(wanted).to_numpy()]


def finish(raw: pd.DataFrame) -> pd.DataFrame:
    out = raw.assign(**{CATEGORY: combine_category(raw[MAJOR], raw[MINOR])})
    cols = [*OUTPUT_COLUMNS, *([AREA_NAME] if AREA_NAME in out.columns else [])]
    out = out[cols].sort_values([CATEGORY, C.AREA, C.MONTH], kind="stable")
    return out.reset_index(drop=True)


def check_coverage(
    path: Path, have: Iterable[pd.Timestamp], wanted: pd.DatetimeIndex | None, *, hint: str
) -> None:
    if wanted is None:
        return
    have = set(have)
    missing = [m for m in wanted if m not in have]
    if missing:
        raise DataValidationError(
            f"{path}: the table has no data for {span(missing)} of the months asked for "
            f"({span(wanted)}); it covers {span(have)}. {hint}"
        )
