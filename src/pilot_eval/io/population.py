"""Resident population by area, and crime rates per 1,000 residents.

Schema (population CSV)
-----------------------
One row per area; other columns are ignored. Header names are matched ignoring case, spaces
and punctuation.

==================  =====================================================================
area code column    ``area``, or an ONS code column such as ``LSOA11CD``, ``LSOA21CD``,
                    ``MSOA11CD``, ``WD19CD``, ``LAD22CD``, ``area_code``, ``code``. When
                    several ONS code columns are present the finest geography wins
                    (OA, LSOA, MSOA, ward, local authority), so the ONS mid-year file
                    (``LSOA11CD, LSOA11NM, MSOA11CD, …, LAD11CD``) is read by LSOA. Each
                    code once. Or name it with ``code_column``.
population column   ``population``, ``Persons_All-Ages`` (ONS), ``All Ages``, ``all_persons``,
                    ``persons`` or ``total``; or name it with ``value_column``. Numbers ≥ 0
                    (thousands separators allowed), none blank.
==================  =====================================================================

Output of :func:`read_population`: ``area`` (str), ``population`` (float64).
"""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .. import columns as C
from ..errors import DataQualityWarning, DataValidationError

POPULATION = "population"
RATE = "rate_per_1000"

# finest geography first
_CODE_PATTERNS = (
    r"area",
    r"oa\d{2}cd",
    r"lsoa\d{2}cd|lsoa_code",
    r"msoa\d{2}cd|msoa_code",
    r"w(ar)?d\d{2}cd|ward_code",
    r"lad\d{2}cd|la_code|lad_code",
    r"area_codes?|geography_code|code",
)
_VALUE_NAMES = ("population", "persons_all_ages", "all_ages", "all_persons", "persons", "total")


# ---------------------------------------------------------------------------------------
# CSV helpers shared by the small-table readers (survey, streetsafe)
# ---------------------------------------------------------------------------------------
def norm_header(name: object) -> str:
    """``"Persons_All-Ages"`` -> ``"persons_all_ages"``: lower case, punctuation as ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def read_text_csv(path: str | Path, *, what: str, usecols=None) -> pd.DataFrame:
    """Read a CSV with every cell as text ('' for blanks); errors say how to fix the file.

    Parameters
    ----------
    path
        The CSV file (UTF-8, with or without a byte-order mark).
    what
        What the file is, for messages (e.g. ``"population file"``).
    usecols
        Passed to :func:`pandas.read_csv`; columns not selected are never read into memory.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(f"{path}: no such {what}. Check the path in the pilot config.")
    try:
        return pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            usecols=usecols,
            skipinitialspace=False,
        )
    except UnicodeDecodeError:
        raise DataValidationError(
            f"{path}: the {what} is not UTF-8 text. Re-save it as 'CSV UTF-8 (comma delimited)'."
        ) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{path}: the {what} is empty (no header row).") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataValidationError(f"{path}: the {what} cannot be read as CSV: {exc}") from None


def line_of_record(path: str | Path, index: int) -> int:
    """Physical line number (1-based) where data record ``index`` (0-based) starts.

    Accounts for quoted cells spanning several lines and for blank lines (which pandas
    skips). Only used to word error messages.
    """
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        start = reader.line_num + 1
        k = 0
        for row in reader:
            if row:
                if k == index:
                    return start
                k += 1
            start = reader.line_num + 1
    return index + 2


def numeric_cells(s: pd.Series) -> pd.Series:
    """Text cells to float (thousands separators allowed); unparsable cells become NaN."""
    text = s.astype("string").str.strip().str.replace(",", "", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


# ---------------------------------------------------------------------------------------
def _pick(path: Path, columns: list[str], given: str | None, what: str, detect) -> str:
    if given is not None:
        if given in columns:
            return given
        by_norm = {norm_header(c): c for c in columns}
        if norm_header(given) in by_norm:
            return by_norm[norm_header(given)]
        raise DataValidationError(
            f"{path}: no column {given!r} (the {what}); the columns are {columns}."
        )
    found = detect(columns)
    if found is None:
        raise DataValidationError(
            f"{path}: cannot tell which column holds the {what}; the columns are {columns}. "
            f"Name it with {'code_column' if 'code' in what else 'value_column'}=…"
        )
    return found


def _detect_code(columns: list[str]) -> str | None:
    for pat in _CODE_PATTERNS:
        for c in columns:
            if re.fullmatch(pat, norm_header(c)):
                return c
    return None


def _detect_value(columns: list[str]) -> str | None:
    for name in _VALUE_NAMES:
        for c in columns:
            if norm_header(c) == name:
                return c
    return None


def read_population(
    path: str | Path, *, code_column: str | None = None, value_column: str | None = None
) -> pd.DataFrame:
    """Read resident population by area code from a CSV.

    Parameters
    ----------
    path
        CSV with one row per area (see the module docstring for the columns detected).
    code_column
        Column with the area codes; detected when omitted.
    value_column
        Column with the population; detected when omitted (``Persons_All-Ages`` for the ONS
        mid-year estimates).

    Returns
    -------
    pandas.DataFrame
        ``area`` (str), ``population`` (float64), in file order.

    Raises
    ------
    DataValidationError
        Missing file or columns, a blank or repeated code, or a population that is not a
        number ≥ 0; the message names the line and column.
    """
    path = Path(path)
    df = read_text_csv(path, what="population file")
    cols = [str(c) for c in df.columns]
    code = _pick(path, cols, code_column, "area code", _detect_code)
    value = _pick(path, cols, value_column, "population", _detect_value)
    codes = df[code].str.strip()
    blank = (codes == "").to_numpy()
    if blank.any():
        i = int(np.flatnonzero(blank)[0])
        raise DataValidationError(
            f"{path}: line {line_of_record(path, i)}, column '{code}' is empty. Every row "
            "needs an area code: fill it in or remove the row."
        )
    dup = codes.duplicated(keep=False).to_numpy()
    if dup.any():
        first = codes[dup].iloc[0]
        where = [line_of_record(path, int(i)) for i in np.flatnonzero((codes == first).to_numpy())]
        raise DataValidationError(
            f"{path}: area code {first!r} (column '{code}') appears on lines "
            f"{', '.join(map(str, where))}; each area must appear once. Remove the repeats "
            f"({int(codes.duplicated().sum())} repeated row(s) in all)."
        )
    num = numeric_cells(df[value])
    bad = (num.isna() | (num < 0) | (num > 1e9) | ~np.isfinite(num.fillna(0))).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = repr(df[value].iloc[i]) if df[value].iloc[i].strip() else "an empty cell"
        raise DataValidationError(
            f"{path}: line {line_of_record(path, i)}, column '{value}' has {shown}, which is "
            f"not a population (a number from 0 to 10^9); {int(bad.sum())} bad row(s). Fix the cell."
        )
    return pd.DataFrame({C.AREA: codes.astype(str).to_numpy(), POPULATION: num.to_numpy()})


def rates_per_1000(
    panel_or_counts: pd.DataFrame,
    population: pd.DataFrame,
    *,
    on_missing: Literal["error", "nan"] = "error",
) -> pd.DataFrame:
    """Add residents and the rate of ``count`` per 1,000 residents to a panel or counts.

    Parameters
    ----------
    panel_or_counts
        Any frame with ``area`` and ``count`` (a panel, or MPS long counts). Not modified.
    population
        ``area``, ``population``, e.g. from :func:`read_population`.
    on_missing
        Areas with no population: ``"error"`` (default) or ``"nan"`` (rate left empty, with
        a warning).

    Returns
    -------
    pandas.DataFrame
        A copy with ``population`` and ``rate_per_1000`` (= count / population × 1000)
        added. Areas with a population of 0 get an empty rate, with a warning.

    Raises
    ------
    DataValidationError
        If columns are missing, the population has repeated areas, or (``on_missing=
        "error"``) areas in the counts have no population.
    """
    for frame, need, name in (
        (panel_or_counts, (C.AREA, C.COUNT), "panel_or_counts"),
        (population, (C.AREA, POPULATION), "population"),
    ):
        lacking = [c for c in need if c not in frame.columns]
        if lacking:
            raise DataValidationError(f"{name} needs columns {list(need)}; missing {lacking}.")
    pop = population[[C.AREA, POPULATION]].copy()
    pop[C.AREA] = pop[C.AREA].astype(str)
    if pop[C.AREA].duplicated().any():
        raise DataValidationError(
            f"population lists area(s) {sorted(pop.loc[pop[C.AREA].duplicated(), C.AREA])[:5]} "
            "more than once; keep one row per area."
        )
    out = panel_or_counts.copy()
    if POPULATION in out.columns or RATE in out.columns:
        out = out.drop(columns=[c for c in (POPULATION, RATE) if c in out.columns])
    lookup = pop.set_index(C.AREA)[POPULATION]
    out[POPULATION] = out[C.AREA].astype(str).map(lookup).astype("float64")
    missing = sorted(out.loc[out[POPULATION].isna(), C.AREA].astype(str).unique())
    if missing:
        msg = (
            f"{len(missing)} area(s) have no population: {', '.join(missing[:10])}"
            f"{' …' if len(missing) > 10 else ''}. Check both use the same code vintage "
            "(e.g. MPS LSOA counts use 2021 LSOA codes; the ONS mid-2020 file uses 2011 codes)."
        )
        if on_missing == "error":
            raise DataValidationError(msg + " Or pass on_missing='nan'.")
        warnings.warn(msg + " Their rates are left empty.", DataQualityWarning, stacklevel=2)
    zero = sorted(out.loc[out[POPULATION] == 0, C.AREA].astype(str).unique())
    if zero:
        warnings.warn(
            f"area(s) {', '.join(zero[:10])} have a population of 0: their rates are left empty.",
            DataQualityWarning,
            stacklevel=2,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = out[C.COUNT].astype("float64") / out[POPULATION].where(out[POPULATION] > 0) * 1000
    out[RATE] = rate
    return out
