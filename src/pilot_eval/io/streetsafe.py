"""StreetSafe / QR-code reports: where and when people reported feeling unsafe.

Privacy
-------
Reports can carry free text written by members of the public (descriptions, comments) that
may identify them or others. :func:`read_streetsafe` **never keeps free text**: it reads only
the four schema columns below, so ``description``, ``comments`` and every other column are
not even loaded into memory, and error messages quote only schema columns. Nothing is
written back to the file.

Schema (StreetSafe CSV)
-----------------------
Header names are matched ignoring case, spaces and punctuation.

=============  ========================================================================
``date``       when the report was made (required): ISO ``2024-05-17`` or
               ``2024-05-17T21:30[:00]`` / ``2024-05-17 21:30`` (a ``Z`` or ``+01:00``
               offset is converted to London local time), or UK day-first
               ``17/05/2024`` (optionally ``17/05/2024 21:30``). Also read from a column
               named ``datetime`` or ``timestamp``.
``latitude``   WGS84 degrees (required; ``lat`` also accepted); within the UK
               (49.8 to 60.9)
``longitude``  WGS84 degrees (required; ``lon``, ``lng`` or ``long`` also accepted); within
               the UK (−8.7 to 1.8)
``category``   what the report is about, e.g. ``Poor lighting`` (required, not blank)
``area``       instead of latitude and longitude: the code of the study area the report is
               in (e.g. a ward or LSOA code of ``data.boundaries``; ``area_code`` also
               accepted), for exports that give an area rather than a point
anything else  not read (free text: ``description``, ``comments``, …)
=============  ========================================================================

Output of :func:`read_streetsafe`: ``date`` (datetime64), ``month`` (month start),
``latitude``, ``longitude`` (float64; NaN with area codes), ``category`` (str), and ``area``
(str) when the file gives area codes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import columns as C
from ..errors import DataValidationError
from .population import line_of_record, norm_header, numeric_cells, read_text_csv

DATE = "date"
LATITUDE = "latitude"
LONGITUDE = "longitude"
CATEGORY = "category"
SCHEMA = (DATE, LATITUDE, LONGITUDE, CATEGORY)

_ALIASES = {
    "date": DATE,
    "datetime": DATE,
    "timestamp": DATE,
    "latitude": LATITUDE,
    "lat": LATITUDE,
    "longitude": LONGITUDE,
    "lon": LONGITUDE,
    "lng": LONGITUDE,
    "long": LONGITUDE,
    "category": CATEGORY,
    "area": "area",
    "areacode": "area",
}
AREA = "area"
#: Generous UK bounding box (WGS84): (lat min, lat max), (lon min, lon max).
UK_LAT = (49.8, 60.9)
UK_LON = (-8.7, 1.8)
_DAYFIRST_FORMATS = ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S")


def _parse_dates(text: pd.Series) -> pd.Series:
    """ISO 8601 or UK day-first dates; times with a UTC offset become London local time."""
    s = text.astype("string").str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    iso = s.str.match(r"^\d{4}-\d{2}-\d{2}").fillna(False)
    aware = iso & s.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$").fillna(False)
    naive = iso & ~aware
    if naive.any():
        out[naive] = pd.to_datetime(s[naive], errors="coerce", format="ISO8601")
    if aware.any():
        utc = pd.to_datetime(s[aware], errors="coerce", format="ISO8601", utc=True)
        out[aware] = utc.dt.tz_convert("Europe/London").dt.tz_localize(None)
    for fmt in _DAYFIRST_FORMATS:
        todo = out.isna() & s.str.match(r"^\d{1,2}/\d{1,2}/\d{4}").fillna(False)
        if not todo.any():
            break
        out[todo] = pd.to_datetime(s[todo], errors="coerce", format=fmt)
    return out


def read_streetsafe(path: str | Path) -> pd.DataFrame:
    """Read StreetSafe / QR-code reports, dropping all free text on load.

    Only ``date``, ``latitude``, ``longitude`` and ``category`` are read (see the module
    docstring for accepted names and formats); description, comment and any other columns
    are never loaded, so free text cannot leak into results, caches or reports.

    Parameters
    ----------
    path
        The StreetSafe export (CSV, UTF-8).

    Returns
    -------
    pandas.DataFrame
        ``date``, ``month``, ``latitude``, ``longitude``, ``category``; one row per report.

    Raises
    ------
    DataValidationError
        Missing columns; a date that cannot be read; a latitude/longitude that is not a
        number or lies outside the UK (with a hint when the two look swapped); a blank
        category. Messages name the line and column.
    """
    path = Path(path)
    df = read_text_csv(path, what="StreetSafe file", usecols=lambda c: norm_header(c) in _ALIASES)
    renamed = [_ALIASES[norm_header(c)] for c in df.columns]
    if len(set(renamed)) != len(renamed):
        dup = next(r for r in renamed if renamed.count(r) > 1)
        originals = [c for c, r in zip(df.columns, renamed, strict=True) if r == dup]
        raise DataValidationError(
            f"{path}: columns {originals} all look like '{dup}'; keep only one of them."
        )
    df.columns = renamed
    by_area = AREA in df.columns
    if by_area and (LATITUDE in df.columns or LONGITUDE in df.columns):
        raise DataValidationError(
            f"{path}: the StreetSafe file has both an area code column and latitude/longitude; "
            "keep one way of saying where each report is."
        )
    if by_area:
        df = df.assign(**{LATITUDE: "nan", LONGITUDE: "nan"})
    missing = [c for c in SCHEMA if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{path}: the StreetSafe file needs columns date, latitude, longitude (or an area "
            f"code column, area) and category; missing {', '.join(missing)}. Other columns "
            "(free text) are ignored."
        )

    def fail(i: int, col: str, problem: str, todo: str) -> DataValidationError:
        return DataValidationError(
            f"{path}: line {line_of_record(path, i)}, column '{col}': {problem}. {todo}"
        )

    dates = _parse_dates(df[DATE])
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise fail(
            i,
            DATE,
            f"{df[DATE].iloc[i]!r} is not a date",
            "Write dates as 2024-05-17 (optionally with a time) or 17/05/2024.",
        )
    cat = df[CATEGORY].str.strip()
    if (cat == "").any():
        i = int(np.flatnonzero((cat == "").to_numpy())[0])
        raise fail(i, CATEGORY, "empty", "Give every report a category (or remove it).")
    month = dates.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]").to_numpy()
    if by_area:
        code = df[AREA].astype("string").str.strip()
        blank = (code.isna() | (code == "")).to_numpy()
        if blank.any():
            i = int(np.flatnonzero(blank)[0])
            raise fail(i, AREA, "empty", "Give every report its area code (or remove it).")
        nan = np.full(len(df), np.nan)
        return pd.DataFrame(
            {
                DATE: dates.to_numpy(),
                C.MONTH: month,
                LATITUDE: nan,
                LONGITUDE: nan,
                CATEGORY: cat.astype(str).to_numpy(),
                AREA: code.to_numpy(),
            }
        )
    lat, lon = numeric_cells(df[LATITUDE]), numeric_cells(df[LONGITUDE])
    for col, num in ((LATITUDE, lat), (LONGITUDE, lon)):
        bad = num.isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise fail(
                i,
                col,
                f"{df[col].iloc[i]!r} is not a number",
                "Give WGS84 decimal degrees (e.g. 51.49, 0.14), or remove the report.",
            )
    outside = ~(lat.between(*UK_LAT) & lon.between(*UK_LON)).to_numpy()
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        swapped = UK_LAT[0] <= lon.iloc[i] <= UK_LAT[1] and UK_LON[0] <= lat.iloc[i] <= UK_LON[1]
        hint = (
            "The latitude and longitude look swapped: exchange the two columns."
            if swapped
            else "Check the coordinates (WGS84 degrees), or remove the report."
        )
        raise fail(
            i,
            f"{LATITUDE}/{LONGITUDE}",
            f"({lat.iloc[i]}, {lon.iloc[i]}) is outside the UK "
            f"({int(outside.sum())} report(s) like this)",
            hint,
        )
    return pd.DataFrame(
        {
            DATE: dates.to_numpy(),
            C.MONTH: month,
            LATITUDE: lat.to_numpy(),
            LONGITUDE: lon.to_numpy(),
            CATEGORY: cat.astype(str).to_numpy(),
        }
    )
