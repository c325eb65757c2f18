"""Read and validate an intervention log CSV (what was done, where, when and at what cost).

Schema (one row per site or activity; header on line 1; UTF-8, a byte-order mark is fine):

============  =========  ==========================================================
column        required   meaning
============  =========  ==========================================================
date          yes        day the component was delivered, ``YYYY-MM-DD``
type          yes        one of ``lighting, clean_up, business_training, awareness,
                         qr_reporting, walk_and_talk, visual_assessment, other``
description   yes        free text (may be blank)
longitude     yes        WGS84 decimal degrees (-180 to 180), or blank with latitude
latitude      yes        WGS84 decimal degrees (-90 to 90), or blank with longitude
count         yes        whole number 0 to 10^9 (lights, posters, venues...); blank = not
                         recorded
cost          yes        pounds, 0 to 10^9; blank = not recorded
============  =========  ==========================================================

Header names and ``type`` values are matched ignoring case and surrounding spaces; other
columns are ignored. Blank lines are skipped.
"""

from __future__ import annotations

import csv
import math
import re
from datetime import date
from pathlib import Path
from typing import Final, get_args

import pandas as pd

from ..columns import ComponentType
from ..errors import DataValidationError

__all__ = ["COMPONENT_TYPES", "INTERVENTION_COLUMNS", "read_interventions"]

#: Columns of the intervention log, in the order :func:`read_interventions` returns them.
INTERVENTION_COLUMNS: Final[tuple[str, ...]] = (
    "date",
    "type",
    "description",
    "longitude",
    "latitude",
    "count",
    "cost",
)
#: Allowed values of ``type`` (the pilot config's component types).
COMPONENT_TYPES: Final[tuple[str, ...]] = tuple(get_args(ComponentType))

#: Largest ``count`` accepted (anything larger is a typo or a unit mistake).
MAX_COUNT: Final[int] = 10**9
#: Largest ``cost`` accepted, in pounds.
MAX_COST: Final[float] = 1e9

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_LISTED = 20


def _number(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _check_date(text: str) -> tuple[date | None, str | None]:
    if not text:
        return None, "is blank; give the day it was delivered as YYYY-MM-DD (e.g. 2024-04-15)"
    if _DATE_RE.match(text):
        try:
            return date.fromisoformat(text), None
        except ValueError:
            pass
    return None, f"{text!r} is not a valid date; write it as YYYY-MM-DD (e.g. 2024-04-15)"


def _check_type(text: str) -> tuple[str | None, str | None]:
    value = text.strip().lower()
    if value in COMPONENT_TYPES:
        return value, None
    return None, (
        f"{text!r} is not a known component type; use one of {', '.join(COMPONENT_TYPES)} "
        "(use 'other' and describe it in 'description' if none fits)"
    )


def _check_coord(text: str, *, lo: float, hi: float, name: str) -> tuple[float, str | None]:
    v = _number(text)
    if v is None:
        return math.nan, f"{text!r} is not a number; give decimal degrees (WGS84) or leave blank"
    if not lo <= v <= hi:
        hint = (
            " It looks like British National Grid metres: convert to WGS84 longitude/latitude."
            if abs(v) > 1000
            else ""
        )
        return math.nan, f"{v:g} is outside {lo:g} to {hi:g} for a {name}.{hint}"
    return v, None


def _check_amount(text: str, *, whole: bool, what: str) -> tuple[float, str | None]:
    if not text:
        return math.nan, None
    v = _number(text)
    if v is None:
        return math.nan, f"{text!r} is not a number; give {what} or leave it blank"
    if v < 0:
        return math.nan, f"{v:g} is negative; give {what} (0 or more) or leave it blank"
    if whole and v != int(v):
        return math.nan, f"{v:g} is not a whole number; give {what}"
    limit = MAX_COUNT if whole else MAX_COST
    if v > limit:
        return math.nan, (
            f"{v:g} is more than {limit:,.0f}, which no pilot needs; check the units and for "
            f"extra digits, and give {what}"
        )
    return v, None


def read_interventions(path: str | Path) -> pd.DataFrame:
    """Read an intervention log CSV and check it against the documented schema.

    Parameters
    ----------
    path
        The CSV file (see the module docstring for its columns). It is only read.

    Returns
    -------
    pandas.DataFrame
        One row per CSV row, in file order, with columns :data:`INTERVENTION_COLUMNS`:
        ``date`` (datetime64), ``type`` (str, lower case), ``description`` (str),
        ``longitude`` and ``latitude`` (float, NaN when blank), ``count`` (nullable
        ``Int64``, missing when blank) and ``cost`` (float pounds, NaN when blank).

    Raises
    ------
    DataValidationError
        If the file is missing or empty, a required column is absent or repeated, or a
        value is invalid. Every problem is listed (up to 20) with the 1-based CSV line
        number (the header is line 1), the column and what to do.

    Notes
    -----
    Blank lines are skipped. A row's line number is where its record starts, so values
    spanning several lines (quoted line breaks) are still reported at the right line.
    """
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(
            f"{path}: no such intervention log. Check data.interventions in the pilot config."
        )
    header: list[str] | None = None
    records: list[tuple[int, list[str]]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            next_line = 1
            for rec in reader:
                start, next_line = next_line, reader.line_num + 1
                if not rec or all(not c.strip() for c in rec):
                    continue
                if header is None:
                    header = [c.strip().lower() for c in rec]
                    header_line = start
                else:
                    records.append((start, rec))
    except UnicodeDecodeError as exc:
        data = path.read_bytes()
        line = data[: exc.start].count(b"\n") + 1
        raise DataValidationError(
            f"{path}, line {line}: the intervention log is not UTF-8 text. Re-save it as "
            "'CSV UTF-8 (comma delimited)'."
        ) from None
    except (OSError, csv.Error) as exc:
        raise DataValidationError(
            f"{path}: the intervention log cannot be read ({exc}). Check the file and its "
            "permissions."
        ) from None
    if header is None:
        raise DataValidationError(
            f"{path}: the intervention log is empty; it needs a header line with the columns "
            f"{', '.join(INTERVENTION_COLUMNS)}."
        )
    missing = [c for c in INTERVENTION_COLUMNS if c not in header]
    if missing:
        raise DataValidationError(
            f"{path}, line {header_line}: the header lacks column(s) {', '.join(missing)}. "
            f"The intervention log needs {', '.join(INTERVENTION_COLUMNS)} "
            f"(found: {', '.join(header)})."
        )
    dupes = sorted({c for c in INTERVENTION_COLUMNS if header.count(c) > 1})
    if dupes:
        raise DataValidationError(
            f"{path}, line {header_line}: column(s) {', '.join(dupes)} appear more than once "
            "in the header; keep one of each."
        )
    pos = {c: header.index(c) for c in INTERVENTION_COLUMNS}

    problems: list[str] = []
    out: dict[str, list] = {c: [] for c in INTERVENTION_COLUMNS}

    def bad(line: int, column: str, message: str) -> None:
        problems.append(f"line {line}, column '{column}': {message}")

    for line, rec in records:
        if len(rec) != len(header):
            bad(
                line,
                "(all)",
                f"has {len(rec)} fields but the header has {len(header)}; check for a "
                "missing or extra comma, or quote text that contains commas",
            )
            continue
        v = {c: rec[i].strip() for c, i in pos.items()}
        day, err = _check_date(v["date"])
        if err:
            bad(line, "date", err)
        ctype, err = _check_type(v["type"])
        if err:
            bad(line, "type", err)
        lon = lat = math.nan
        if bool(v["longitude"]) != bool(v["latitude"]):
            blank = "longitude" if not v["longitude"] else "latitude"
            bad(line, blank, "is blank but the other coordinate is not; give both or neither")
        elif v["longitude"]:
            lon, err = _check_coord(v["longitude"], lo=-180.0, hi=180.0, name="longitude")
            if err:
                bad(line, "longitude", err)
            lat, err = _check_coord(v["latitude"], lo=-90.0, hi=90.0, name="latitude")
            if err:
                bad(line, "latitude", err)
        count, err = _check_amount(v["count"], whole=True, what="a whole number of items")
        if err:
            bad(line, "count", err)
        cost, err = _check_amount(v["cost"], whole=False, what="the cost in pounds")
        if err:
            bad(line, "cost", err)
        out["date"].append(day)
        out["type"].append(ctype)
        out["description"].append(v["description"])
        out["longitude"].append(lon)
        out["latitude"].append(lat)
        out["count"].append(None if math.isnan(count) else int(count))
        out["cost"].append(cost)

    if problems:
        listed = "\n".join(f"  - {p}" for p in problems[:_MAX_LISTED])
        more = (
            f"\n  ... and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
        )
        if len(problems) == 1:
            raise DataValidationError(f"{path}, {problems[0]}. Fix it and re-run.")
        raise DataValidationError(
            f"{path}, {problems[0]} (the intervention log has {len(problems)} problem(s); "
            f"fix them and re-run):\n{listed}{more}"
        )
    return pd.DataFrame(
        {
            "date": pd.to_datetime(pd.Series(out["date"], dtype=object)).astype("datetime64[ns]"),
            "type": pd.Series(out["type"], dtype=str),
            "description": pd.Series(out["description"], dtype=str),
            "longitude": pd.Series(out["longitude"], dtype="float64"),
            "latitude": pd.Series(out["latitude"], dtype="float64"),
            "count": pd.Series(out["count"], dtype="Int64"),
            "cost": pd.Series(out["cost"], dtype="float64"),
        },
        columns=list(INTERVENTION_COLUMNS),
    )
