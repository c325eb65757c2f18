"""Read police.uk street-level crime files: folders, single CSVs and the official zip archives.

police.uk publishes one CSV per police force and month, named
``YYYY-MM/YYYY-MM-<force>-street.csv`` inside the monthly folders of its archives (beside
``-outcomes.csv`` and ``-stop-and-search.csv`` files, which are ignored here). Each row is one
recorded crime or anti-social-behaviour (ASB) incident, with its position snapped to an
anonymised map point (or left blank when the police could not place it).

:func:`read_police_uk` returns the rows as a DataFrame with the columns of
:data:`pilot_eval.columns.INCIDENT_COLUMNS` plus ``source_file``; :func:`project_points` adds
British National Grid ``x``/``y`` metres.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import functools
import hashlib
import io
import itertools
import json
import os
import re
import threading
import time
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .. import columns as C
from ..errors import ConfigError, DataQualityWarning, DataValidationError

__all__ = [
    "READER_VERSION",
    "SOURCE_FILE",
    "UK_BOUNDS",
    "check_crime_types_present",
    "check_police_uk_request",
    "month_runs",
    "police_uk_months",
    "project_points",
    "read_police_uk",
]

#: Bump when the parsed table changes shape or meaning: old cache entries are then ignored.
READER_VERSION = 1
#: Extra column naming the file (or ``archive.zip!member``) each row came from.
SOURCE_FILE = "source_file"
#: Plausible UK coordinates: (lon_min, lon_max, lat_min, lat_max).
UK_BOUNDS = (-9.0, 3.0, 49.0, 61.0)

#: Files parsed at the same time, one per thread (pyarrow releases the GIL).
_WORKERS = max(1, min(4, os.cpu_count() or 1))
#: Whether pyarrow also spreads each file over its own thread pool while several files are
#: parsed at once. Off: measured on the benchmark's 72 files, nesting the two pools costs ~40%
#: more CPU for no gain in wall time. A source of fewer than two files per worker (e.g. one
#: large CSV) is always parsed with pyarrow's threads, as then they are the only parallelism.
_ARROW_THREADS = False
_STREET_RE = re.compile(r"^(?P<month>\d{4}-\d{2})-(?P<force>.+)-street\.csv$", re.IGNORECASE)
_OTHER_RE = re.compile(r"-(outcomes|stop-and-search)\.csv$", re.IGNORECASE)
_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_LON, _LAT, _MONTH = "Longitude", "Latitude", "Month"
_CRIME_ID = C.snake("Crime ID")

_NS = pa.timestamp("ns")
_STR = pa.large_string()  # pandas' pyarrow-backed strings use large_string: no cast later
_FLOAT_COLUMNS = (_LON, _LAT)
#: How each CSV column is parsed. ``Month`` is dictionary-encoded: a file holds one month, so it
#: is checked (and turned into timestamps) on the few distinct values instead of on every row.
_COLUMN_TYPES = {
    c: (
        pa.float64()
        if c in _FLOAT_COLUMNS
        else pa.dictionary(pa.int32(), pa.string())
        if c == _MONTH
        else _STR
    )
    for c in C.POLICE_UK_HEADER
}
#: Schema of one parsed (and cached) file, before ``source_file`` is added.
_SCHEMA = pa.schema(
    [
        (
            C.snake(c),
            pa.timestamp("ns") if c == _MONTH else (pa.float64() if c in _FLOAT_COLUMNS else _STR),
        )
        for c in C.POLICE_UK_HEADER
    ]
)
#: The police.uk header name of each column (``crime_id`` -> ``Crime ID``).
_HEADER_OF = {C.snake(c): c for c in C.POLICE_UK_HEADER}
_REPORTED, _FALLS = C.snake("Reported by"), C.snake("Falls within")
#: Columns every read parses whatever ``columns`` asks for: the ones checked row by row and
#: the crime type (filtered, repaired, warned about), so that asking for fewer columns never
#: changes which rows come back or what is warned. The Crime ID (duplicates are dropped by it)
#: is parsed too, unless the cache already holds its hashes.
_ALWAYS_PARSED = (C.MONTH, C.snake(_LON), C.snake(_LAT), C.CRIME_TYPE)


def _schema_of(cols: Sequence[str]) -> pa.Schema:
    """:data:`_SCHEMA` restricted to ``cols`` (in the order given)."""
    return pa.schema([_SCHEMA.field(c) for c in cols])


# -- discovering files ------------------------------------------------------------------------
@dataclass(frozen=True)
class _StreetFile:
    """One street-level CSV: a file on disk, or a member of a zip archive."""

    label: str  # shown in messages and stored in ``source_file``
    path: Path  # the CSV itself, or the zip archive holding it
    member: str | None  # member name inside the zip, else None
    month: pd.Timestamp | None  # from the file name, when it follows the police.uk pattern
    force: str | None
    source_index: int

    @property
    def key(self) -> tuple:
        """Identity used to spot the same force-month file in two sources."""
        if self.month is not None and self.force is not None:
            return (self.month, self.force.lower())
        return ("path", self.label)


def _month_from_name(text: str, *, where: str) -> pd.Timestamp:
    if not re.match(_MONTH_RE, text):
        raise DataValidationError(
            f"{where}: the file name's month '{text}' is not a valid YYYY-MM month. "
            "Rename the file as police.uk does (YYYY-MM-<force>-street.csv)."
        )
    y, m = text.split("-")
    return pd.Timestamp(int(y), int(m), 1)


def _as_sources(source: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(source, (str, os.PathLike)):
        return [Path(source)]
    sources = [Path(s) for s in source]
    if not sources:
        raise DataValidationError("read_police_uk was given an empty list of sources.")
    return sources


def _discover(src: Path, index: int) -> list[_StreetFile]:
    """List the street-level CSVs of one source (folder tree, CSV or zip archive)."""
    if not src.exists():
        raise DataValidationError(
            f"{src}: no such file or folder. Point data.crimes at a police.uk download: a "
            "folder of monthly YYYY-MM/ folders, a street CSV, or the archive zip."
        )
    found: list[_StreetFile] = []
    if src.is_dir():
        for p in sorted(src.rglob("*.csv")):
            m = _STREET_RE.match(p.name)
            if m and p.is_file():
                month = _month_from_name(m["month"], where=str(p))
                found.append(_StreetFile(str(p), p, None, month, m["force"], index))
        if not found:
            raise DataValidationError(
                f"{src}: no police.uk street-level files found in this folder (looked for "
                "YYYY-MM/YYYY-MM-<force>-street.csv at any depth). Check the path, or unzip "
                "the download first / point at the zip itself."
            )
        return found
    if zipfile.is_zipfile(src):
        with zipfile.ZipFile(src) as zf:
            for info in zf.infolist():
                name = PurePosixPath(info.filename)
                if info.is_dir() or "__MACOSX" in name.parts:
                    continue
                m = _STREET_RE.match(name.name)
                if m:
                    label = f"{src}!{info.filename}"
                    month = _month_from_name(m["month"], where=label)
                    found.append(_StreetFile(label, src, info.filename, month, m["force"], index))
        if not found:
            raise DataValidationError(
                f"{src}: this zip holds no police.uk street-level files (members named "
                "YYYY-MM/YYYY-MM-<force>-street.csv). Was the archive downloaded with "
                "'Include crime data' ticked?"
            )
        return sorted(found, key=lambda f: f.label)
    if src.suffix.lower() == ".csv":
        if _OTHER_RE.search(src.name):
            raise DataValidationError(
                f"{src}: this is a police.uk outcomes or stop-and-search file; only street-level "
                "crime files (YYYY-MM-<force>-street.csv) can be read. Give the -street.csv file."
            )
        m = _STREET_RE.match(src.name)
        month = _month_from_name(m["month"], where=str(src)) if m else None
        return [_StreetFile(str(src), src, None, month, m["force"] if m else None, index)]
    raise DataValidationError(
        f"{src}: not a folder, a .csv file or a zip archive. Give a police.uk download."
    )


def _dedupe_files(files: list[_StreetFile]) -> list[_StreetFile]:
    """Keep one file per force-month: the one from the latest source (warn when any clash)."""
    chosen: dict[tuple, _StreetFile] = {}
    clashes: list[tuple[_StreetFile, _StreetFile]] = []
    for f in files:  # files are in source order, so a later one replaces an earlier one
        old = chosen.get(f.key)
        if old is not None:
            clashes.append((old, f))
        chosen[f.key] = f
    if clashes:
        old, new = clashes[0]
        warnings.warn(
            f"{len(clashes)} police.uk force-month file(s) appear more than once in the sources "
            f"(e.g. {old.label} and {new.label}); each is read once, from the later source.",
            DataQualityWarning,
            stacklevel=3,
        )
    return sorted(
        chosen.values(),
        key=lambda f: (f.month or pd.Timestamp.max, (f.force or "").lower(), f.label),
    )


def police_uk_months(source: str | Path | Sequence[str | Path]) -> dict[str, set[pd.Timestamp]]:
    """Which months each force has a street-level file for, without reading the files.

    Returns ``{force: {month, ...}}`` (month starts) from the file names in folders and zips.
    A month with no file is missing data, not a month without crime: callers should refuse
    to count it as zero.
    """
    out: dict[str, set[pd.Timestamp]] = {}
    for i, src in enumerate(_as_sources(source)):
        for f in _discover(src, i):
            if f.month is not None:
                out.setdefault(f.force or "unknown", set()).add(f.month)
    return out


# -- checks of a request ------------------------------------------------------------------------
#: The evaluation's months, as the checks take them.
_MonthList: TypeAlias = pd.DatetimeIndex | Sequence[pd.Timestamp]


def _source_label(source: str | Path | Sequence[str | Path]) -> str:
    """The source as messages name it: the path, or the paths joined by commas."""
    if isinstance(source, str | Path):
        return str(source)
    return ", ".join(str(s) for s in source)


def _month_list(months: _MonthList) -> list[pd.Timestamp]:
    """Sorted month starts."""
    return sorted({_to_month(m, "month") for m in months})


def _window(months: list[pd.Timestamp]) -> str:
    """``'2024-01 to 2024-06'`` for a sorted list of months."""
    if not months:
        return "no months"
    return f"{months[0]:%Y-%m} to {months[-1]:%Y-%m}"


def month_runs(months: Iterable[pd.Timestamp]) -> str:
    """['2025-04', '2025-05', '2025-07'] -> '2025-04 to 2025-05, 2025-07'.

    Parameters
    ----------
    months
        Month-start timestamps, in any order.

    Returns
    -------
    str
        The months as consecutive runs, earliest first; ``""`` when there are none.
    """
    runs: list[list[pd.Timestamp]] = []
    for m in sorted(months):
        if runs and m == runs[-1][-1] + pd.DateOffset(months=1):
            runs[-1].append(m)
        else:
            runs.append([m])
    return ", ".join(
        f"{r[0]:%Y-%m}" if len(r) == 1 else f"{r[0]:%Y-%m} to {r[-1]:%Y-%m}" for r in runs
    )


def check_police_uk_request(
    source: str | Path | Sequence[str | Path],
    *,
    months: _MonthList,
    crime_types: Iterable[str],
) -> None:
    """Before reading: refuse unknown crime types and months the files do not cover.

    A month with no police.uk file would otherwise be zero-filled and read as a month with
    no crime, which can fake a large fall (or rise). Only file names are needed, so this runs
    before the (costly) parse.

    Parameters
    ----------
    source
        The police.uk folder(s), zip(s) or CSV(s), as for :func:`read_police_uk`.
    months
        The evaluation's months (month starts).
    crime_types
        The crime types the outcomes count.

    Raises
    ------
    DataValidationError
        If a crime type is not a police.uk type (with the closest type, if any), if no force
        has a file for some month, or if one force lacks a month that another has.
    """
    label = _source_label(source)
    wanted = _month_list(months)
    unknown = sorted(set(crime_types) - set(C.POLICE_UK_CRIME_TYPES))
    if unknown:
        said = "; ".join(
            f"{u!r}"
            + "".join(
                f" (did you mean {h!r}?)"
                for h in difflib.get_close_matches(u, C.POLICE_UK_CRIME_TYPES, n=1, cutoff=0.6)
            )
            for u in unknown
        )
        raise DataValidationError(
            f"{label}: {said} in the config's outcomes is not a police.uk crime type. "
            f"The types are: {', '.join(C.POLICE_UK_CRIME_TYPES)}."
        )
    by_force = police_uk_months(source)
    present: set[pd.Timestamp] = set().union(*by_force.values()) if by_force else set()
    missing = [m for m in wanted if m not in present]
    if missing:
        raise DataValidationError(
            f"{label}: no police.uk file for {month_runs(missing)} (of the "
            f"evaluation's {_window(wanted)}). Months without "
            "data cannot be counted as months without crime: download them (pilot-eval fetch "
            "police) or shorten windows.pre_months / windows.post_months."
        )
    for force, have in sorted(by_force.items()):
        gaps = [m for m in wanted if m not in have]
        if gaps and len(gaps) < len(wanted):
            raise DataValidationError(
                f"{label}: force {force!r} has no police.uk file for "
                f"{month_runs(gaps)} inside the evaluation window, so its crimes would be "
                "missing in those months. Download them, or shorten the windows."
            )


def check_crime_types_present(
    incidents: pd.DataFrame,
    *,
    source: str | Path | Sequence[str | Path],
    months: _MonthList,
    crime_types: Iterable[str],
) -> None:
    """After reading: every crime type asked for occurs somewhere in the incidents.

    Parameters
    ----------
    incidents
        The rows :func:`read_police_uk` returned (a ``crime_type`` column).
    source
        Where they were read from (named in the message).
    months
        The evaluation's months (month starts; named in the message).
    crime_types
        The crime types the outcomes count.

    Raises
    ------
    DataValidationError
        Naming every crime type with no row at all.
    """
    absent = sorted(set(crime_types) - set(incidents[C.CRIME_TYPE].dropna().unique()))
    if absent:
        raise DataValidationError(
            f"{_source_label(source)}: no {', '.join(repr(a) for a in absent)} at all in the "
            f"data for {_window(_month_list(months))}, so that outcome cannot be "
            "evaluated: check the data folder and the windows, or drop the crime type."
        )


# -- reading one file -------------------------------------------------------------------------
class _ZipHandles:
    """Open zip archives, one handle per archive and thread (files are parsed in threads)."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._opened: list[zipfile.ZipFile] = []
        self._lock = threading.Lock()

    def __getitem__(self, path: Path) -> zipfile.ZipFile:
        handles = self._local.__dict__.setdefault("handles", {})
        if path not in handles:
            handles[path] = zipfile.ZipFile(path)
            with self._lock:
                self._opened.append(handles[path])
        return handles[path]

    def close(self) -> None:
        for handle in self._opened:
            handle.close()


def _open_binary(f: _StreetFile, zips: _ZipHandles) -> IO[bytes]:
    if f.member is None:
        return open(f.path, "rb")  # noqa: SIM115 - caller closes
    return zips[f.path].open(f.member)


def _read_header(f: _StreetFile, zips: _ZipHandles) -> list[str]:
    with _open_binary(f, zips) as fh:
        first = fh.readline(1 << 16)
    if not first.strip():
        raise DataValidationError(
            f"{f.label}: the file is empty (no header line). Re-download it from police.uk."
        )
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataValidationError(
            f"{f.label}, line 1: the header is not UTF-8 text; is this really a police.uk CSV?"
        ) from None
    names = [n.strip() for n in next(csv.reader([text]))]
    missing = [c for c in C.POLICE_UK_HEADER if c not in names]
    unexpected = [n for n in names if n not in C.POLICE_UK_HEADER]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if missing or unexpected or repeated:
        parts = []
        if missing:
            parts.append(f"missing column(s) {missing}")
        if unexpected:
            parts.append(f"unexpected column(s) {unexpected}")
        if repeated:
            parts.append(f"repeated column(s) {repeated}")
        raise DataValidationError(
            f"{f.label}, line 1: not a police.uk street-level crime header: "
            + "; ".join(parts)
            + f". Expected the 12 columns {list(C.POLICE_UK_HEADER)}. Only street-level files "
            "(not outcomes or stop-and-search) can be read; re-download the file if it was edited."
        )
    return names


def _records(f: _StreetFile, zips: _ZipHandles):
    """Iterate ``(line_number, fields)`` over the data records (slow path, errors only)."""
    with _open_binary(f, zips) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        reader = csv.reader(text)
        next(reader, None)
        for row in reader:
            yield reader.line_num, row


def _line_of_record(f: _StreetFile, zips: _ZipHandles, record: int) -> int:
    """1-based line number of the ``record``-th (0-based) data record."""
    for i, (line, _) in enumerate(_records(f, zips)):
        if i == record:
            return line
    return record + 2  # pragma: no cover - the record always exists


def _diagnose(
    f: _StreetFile, zips: _ZipHandles, names: list[str], exc: Exception
) -> DataValidationError:
    """Turn a pyarrow parse failure into a message naming the line and what is wrong."""
    lon_i, lat_i = names.index(_LON), names.index(_LAT)
    try:
        for line, row in _records(f, zips):
            if len(row) != len(names):
                return DataValidationError(
                    f"{f.label}, line {line}: {len(row)} fields where the header has "
                    f"{len(names)}. The file is damaged or was edited; re-download it."
                )
            for i, col in ((lon_i, _LON), (lat_i, _LAT)):
                value = row[i].strip()
                if value:
                    try:
                        float(value)
                    except ValueError:
                        return DataValidationError(
                            f"{f.label}, line {line}: {col} '{value}' is not a number. "
                            "Coordinates must be decimal degrees or left blank."
                        )
    except UnicodeDecodeError:
        with _open_binary(f, zips) as fh:
            data = fh.read()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data[: err.start].count(b"\n") + 1
            return DataValidationError(
                f"{f.label}, line {line}: not valid UTF-8 text. Re-download the file from "
                "police.uk (do not re-save it from a spreadsheet)."
            )
    return DataValidationError(f"{f.label}: could not be parsed as a police.uk CSV: {exc}")


def _first_true(mask: pa.ChunkedArray | pa.Array) -> int:
    """Index of the first true value of a boolean array (nulls count as false), or -1."""
    return pc.index(pc.fill_null(mask, False), True).as_py()


def _month_values_ok(month: pa.ChunkedArray, expected: str | None) -> bool:
    """Whether every ``Month`` is ``expected`` (or, when None, any YYYY-MM month).

    Looks only at each chunk's dictionary (the distinct values, normally one), not the rows.
    """
    if month.null_count:
        return False
    for chunk in month.chunks:
        values = chunk.dictionary
        if expected is not None:
            if any(v != expected for v in values.to_pylist()):
                return False
        elif _first_true(pc.invert(pc.match_substring_regex(values, _MONTH_RE))) >= 0:
            return False
    return True


def _raise_bad_month(month: pa.ChunkedArray, f: _StreetFile, zips: _ZipHandles) -> None:
    """Raise the error for the first row whose ``Month`` is wrong (slow path, errors only)."""
    month = month.cast(_STR)
    if f.month is not None:
        expected = f"{f.month:%Y-%m}"
        bad = _first_true(pc.invert(pc.fill_null(pc.equal(month, expected), False)))
    else:
        expected = None
        bad = _first_true(
            pc.invert(pc.fill_null(pc.match_substring_regex(month, _MONTH_RE), False))
        )
    if bad < 0:  # pragma: no cover - only called when some month is wrong
        return
    value = month[bad].as_py()
    line = _line_of_record(f, zips, bad)
    if value is None or not re.match(_MONTH_RE, value.strip()):
        raise DataValidationError(
            f"{f.label}, line {line}: Month {value!r} is not a month written YYYY-MM "
            "(e.g. 2024-04). Re-download the file; spreadsheets often rewrite this column."
        )
    raise DataValidationError(
        f"{f.label}, line {line}: Month {value!r} does not match the month in the file's "
        f"name ({expected}). Each police.uk file holds one month: check the file was not "
        "renamed or edited."
    )


def _same_validity(a: pa.ChunkedArray, b: pa.ChunkedArray) -> bool:
    """Cheap proof that two columns of one parsed table are null in the same rows.

    Compares the validity bitmaps' bytes chunk by chunk; False means "not proven" (the caller
    then compares row by row), never a wrong True.
    """
    if a.null_count != b.null_count or a.num_chunks != b.num_chunks:
        return False
    for x, y in zip(a.chunks, b.chunks, strict=True):
        if len(x) != len(y) or x.offset != y.offset or x.null_count != y.null_count:
            return False
        if x.null_count == 0:
            continue
        bx, by = x.buffers()[0], y.buffers()[0]
        if bx is None or by is None or not bx.equals(by):
            return False
    return True


def _all_finite(arr: pa.ChunkedArray) -> bool:
    """Cheap proof that a float64 column holds no NaN or infinity; False means "not proven".

    Sums each chunk's raw values buffer (null slots included): a finite sum rules out NaN and
    infinities anywhere, and is one vectorised pass instead of several Arrow kernels.
    """
    for chunk in arr.chunks:
        buf = chunk.buffers()[1]
        if buf is None or len(chunk) == 0:
            continue
        values = np.frombuffer(buf, np.float64, count=chunk.offset + len(chunk))
        if not np.isfinite(values[chunk.offset :].sum()):
            return False
    return True


def _check_rows(table: pa.Table, f: _StreetFile, zips: _ZipHandles) -> pa.ChunkedArray:
    """Validate months and coordinates; return the month column as timestamps.

    ``Month`` arrives dictionary-encoded (see :data:`_COLUMN_TYPES`), so it is checked and
    converted on its few distinct values; rows are scanned only to report an error.
    """
    month = table[_MONTH]
    expected = None if f.month is None else f"{f.month:%Y-%m}"
    if not _month_values_ok(month, expected):
        _raise_bad_month(month, f, zips)

    lon, lat = table[_LON], table[_LAT]
    if (lon.null_count or lat.null_count) and not _same_validity(lon, lat):
        bad = _first_true(pc.xor(pc.is_null(lon), pc.is_null(lat)))
        if bad >= 0:
            line = _line_of_record(f, zips, bad)
            blank, given = (_LON, _LAT) if lon[bad].as_py() is None else (_LAT, _LON)
            raise DataValidationError(
                f"{f.label}, line {line}: {blank} is blank but {given} is not. Give both "
                "coordinates or leave both blank (the crime is then counted as unlocatable)."
            )
    lon_min, lon_max, lat_min, lat_max = UK_BOUNDS
    for col, arr, lo, hi in ((_LON, lon, lon_min, lon_max), (_LAT, lat, lat_min, lat_max)):
        if arr.null_count == len(arr):
            continue
        extremes = pc.min_max(arr)  # skips nulls and NaN
        low, high = extremes["min"].as_py(), extremes["max"].as_py()
        if lo <= low and high <= hi and _all_finite(arr):
            continue
        outside = pc.or_(pc.or_(pc.less(arr, lo), pc.greater(arr, hi)), pc.is_nan(arr))
        bad = _first_true(outside)
        line = _line_of_record(f, zips, bad)
        raise DataValidationError(
            f"{f.label}, line {line}: {col} {arr[bad].as_py()} is outside the UK "
            f"({lo:g} to {hi:g}). Check the file is an unedited police.uk download "
            "(longitude and latitude may have been swapped)."
        )

    n = table.num_rows
    if f.month is not None:  # one month per file: a constant column, built straight in Arrow
        return _constant_month(f.month, n)
    chunks = []
    for chunk in month.chunks:  # convert the distinct values, then look them up per row
        text = pc.binary_join_element_wise(chunk.dictionary, "-01", "")
        stamps = pc.cast(pc.strptime(text, format="%Y-%m-%d", unit="s"), _NS)
        chunks.append(stamps.take(chunk.indices))
    return pa.chunked_array(chunks, type=_NS)


def _constant_month(month: pd.Timestamp, n: int) -> pa.ChunkedArray:
    """A month column of ``n`` rows all ``month``, built straight in Arrow."""
    stamp = np.full(n, month.value, dtype=np.int64)  # nanoseconds since the epoch
    values = pa.Array.from_buffers(_NS, n, [None, pa.py_buffer(stamp)])
    return pa.chunked_array([values], type=_NS)


def _arrow_read(
    source: str | bytes,
    read_options: pacsv.ReadOptions,
    convert_options: pacsv.ConvertOptions,
    *,
    multiline: bool,
) -> pa.Table:
    return pacsv.read_csv(
        source if isinstance(source, str) else pa.BufferReader(source),
        read_options=read_options,
        parse_options=pacsv.ParseOptions(newlines_in_values=multiline),
        convert_options=convert_options,
    )


def _share_equal_columns(arrays: dict[str, pa.ChunkedArray]) -> None:
    """Make ``falls_within`` the very same array as ``reported_by`` when their values are equal.

    police.uk fills both with the force's name on (almost) every row: sharing one set of
    buffers keeps the values (and the frame) identical while storing the text once, which is
    ~35 bytes a row less memory. Only for columns of one file (and chunk layout).
    """
    rb, fw = arrays.get(_REPORTED), arrays.get(_FALLS)
    if rb is not None and fw is not None and rb is not fw and rb.equals(fw):
        arrays[_FALLS] = rb


def _parse_street_csv(
    f: _StreetFile,
    zips: _ZipHandles,
    *,
    use_threads: bool = True,
    columns: Sequence[str] | None = None,
) -> pa.Table:
    """Parse and validate one street-level CSV into a table of schema :data:`_SCHEMA`.

    With ``columns`` (snake-case names, each of :data:`_ALWAYS_PARSED` included), only those
    columns are converted, in :data:`_SCHEMA` order; the others are still split into fields
    (so a row with the wrong number of fields is refused as before) but not decoded.
    """
    names = _read_header(f, zips)
    cols = list(_SCHEMA.names) if columns is None else [c for c in _SCHEMA.names if c in columns]
    read_options = pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=use_threads)
    convert_options = pacsv.ConvertOptions(
        column_types=_COLUMN_TYPES,
        include_columns=[_HEADER_OF[c] for c in cols],
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    if f.member is None:
        source: str | bytes = str(f.path)
    else:
        with zips[f.path].open(f.member) as fh:
            source = fh.read()
    try:
        try:
            table = _arrow_read(source, read_options, convert_options, multiline=False)
        except pa.ArrowInvalid:
            # A quoted value holding a line break can defeat the fast block splitter; the
            # slower multi-line mode parses such (valid) files correctly.
            table = _arrow_read(source, read_options, convert_options, multiline=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise _diagnose(f, zips, names, exc) from None
    if table.num_rows == 0:
        raise DataValidationError(
            f"{f.label}, line 2: the file has its header but no rows (a truncated or "
            "interrupted download). A file without rows cannot be counted as a month without "
            "crime: download it again (pilot-eval fetch police), or shorten windows.pre_months "
            "/ windows.post_months so that this month is not used."
        )
    month = _check_rows(table, f, zips)
    arrays = {c: month if c == C.MONTH else table[_HEADER_OF[c]] for c in cols}
    _share_equal_columns(arrays)
    return pa.Table.from_arrays(list(arrays.values()), schema=_schema_of(cols))


# -- cache ------------------------------------------------------------------------------------
#: Parquet write options of the cache, chosen for reading speed: dictionary pages for the
#: repetitive text columns only (a Crime ID is unique, so a dictionary for it is wasted work),
#: LZ4 compression. Measured on the benchmark's files, reads take ~20% less CPU than pyarrow's
#: defaults, for a slightly smaller cache. Changing these never invalidates existing entries.
_PARQUET_OPTIONS = {
    "use_dictionary": [
        c for c in _SCHEMA.names if c not in (_CRIME_ID, C.snake(_LON), C.snake(_LAT))
    ],
    "compression": "lz4",
}
#: Schema-metadata key of what a cache entry's writer worked out once, so that warm reads need
#: not work it out again: the distinct crime types (as parsed, before the case/spacing repair),
#: whether ``falls_within`` equals ``reported_by`` on every row, and the distinct months.
#: Entries without it (older versions, or rewritten by other tools) are still read; the facts
#: are then recomputed from the rows.
_FACTS_KEY = b"pilot_eval.policeuk"
#: The manifest (one per cache folder) mapping each source file's identity on disk to the
#: SHA-256 of its bytes, so a warm read need not hash every CSV again.
_MANIFEST = f"policeuk-street-v{READER_VERSION}-manifest.json"
#: A file whose modification or change time is less than this old when it is looked at could
#: still be changed within the same timestamp tick (coarse file-system clocks), unseen by its
#: stat: its hash is then not recorded, so the next read hashes the file again.
_RACY_NS = 2 * 10**9
#: Whether a file's stat can stand for its content. Needs st_ctime to be the inode change time,
#: which the kernel sets on every write (and on ``utime``), so even an edit that keeps the size
#: and restores the modification time is seen. Not so on Windows (there st_ctime is the
#: creation time): every read hashes the files there.
_TRUST_STAT = os.name != "nt"

#: (device, inode, size, mtime_ns, ctime_ns) of a source file (the zip for a member).
_FileIdentity = tuple[int, int, int, int, int]


def content_sha256(f: _StreetFile, zips: _ZipHandles) -> str:
    """SHA-256 of one street file's bytes (the file on disk, or the zip member uncompressed)."""
    h = hashlib.sha256()
    with _open_binary(f, zips) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _identity(path: Path) -> _FileIdentity:
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class _Manifest:
    """Which content (SHA-256) each source file had when it last had a given identity on disk,
    and which sets of files are known to hold no repeated Crime ID.

    A file's content is only taken from here when its device, inode, size, modification time
    and inode change time (:data:`_FileIdentity`) all equal the recorded ones. The change time
    cannot be set from user space and moves on every write, so an edit is never missed, even
    one that keeps the size and puts the modification time back (``touch -r``, a restored
    backup, a copy tool preserving times): the file is then hashed again. Identities are taken
    before the bytes are hashed, and a file too recently changed (:data:`_RACY_NS`) is not
    recorded, so a change made while or just after it is read is seen next time too.

    The duplicate check of a read is keyed on the contents read and the options that choose
    rows (:func:`_unique_key`); only "no repeats" is remembered (the last
    :data:`_UNIQUE_KEPT`), so a read with repeats always finds and reports them.

    Saved with a write-and-rename (readers never see half a file); when several processes
    update it at once, one's new entries may be lost, which only costs a re-hash.
    """

    def __init__(self, cache_dir: Path) -> None:
        self.path = cache_dir / _MANIFEST
        self.entries, self.unique = self._read()
        self.updates: dict[str, list | None] = {}
        self.new_unique: list[str] = []
        self._lock = threading.Lock()

    def _read(self) -> tuple[dict[str, list], list[str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") != READER_VERSION:
                return {}, []
            files = {
                k: v
                for k, v in data["files"].items()
                if isinstance(v, list) and len(v) == 6 and isinstance(v[5], str)
            }
            unique = [k for k in data.get("unique", []) if isinstance(k, str)]
            return files, unique
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return {}, []  # missing or damaged: every file is hashed (and recorded) again

    @staticmethod
    def key(f: _StreetFile) -> str:
        where = os.path.abspath(f.path)
        return where if f.member is None else f"{where}!{f.member}"

    def content_key(self, f: _StreetFile, zips: _ZipHandles) -> tuple[str, _FileIdentity]:
        """The file's SHA-256 (from the manifest when its identity is unchanged) and identity."""
        now = time.time_ns()  # before the stat: the recorded identity is no newer than this
        ident = _identity(f.path)
        key = self.key(f)
        with self._lock:
            entry = self.updates[key] if key in self.updates else self.entries.get(key)
        if _TRUST_STAT and entry is not None and tuple(entry[:5]) == ident:
            return entry[5], ident
        sha = content_sha256(f, zips)
        settled = _TRUST_STAT and now - max(ident[3], ident[4]) > _RACY_NS
        with self._lock:
            if settled:
                self.updates[key] = [*ident, sha]
            elif key in self.entries or key in self.updates:
                self.updates[key] = None
        return sha, ident

    def forget(self, f: _StreetFile) -> None:
        with self._lock:
            self.updates[self.key(f)] = None

    def known_unique(self, key: str) -> bool:
        return key in self.unique or key in self.new_unique

    def record_unique(self, key: str) -> None:
        if not self.known_unique(key):
            self.new_unique.append(key)

    def save(self) -> None:
        """Write the updates (merged into the manifest as it is now on disk); never raises."""
        if not self.updates and not self.new_unique:
            return
        merged, unique = self._read()
        for key, entry in self.updates.items():
            if entry is None:
                merged.pop(key, None)
            else:
                merged[key] = entry
        unique = [k for k in unique if k not in self.new_unique] + self.new_unique
        data = {"version": READER_VERSION, "files": merged, "unique": unique[-_UNIQUE_KEPT:]}
        self.updates, self.new_unique = {}, []
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()


#: How many duplicate-free reads the manifest remembers.
_UNIQUE_KEPT = 64


def _unique_key(
    shas: Sequence[str],
    files: Sequence[_StreetFile],
    months: tuple[pd.Timestamp, pd.Timestamp] | None,
    crime_types: Sequence[str] | None,
) -> str:
    """What decides a read's duplicate check: the contents read, in order, and the options
    choosing their rows (the months matter only for files not named for one month)."""
    window = None
    if months is not None and any(f.month is None for f in files):
        window = [f"{months[0]:%Y-%m}", f"{months[1]:%Y-%m}"]
    types = None if crime_types is None else sorted(set(crime_types))
    text = json.dumps([READER_VERSION, list(shas), window, types])
    return hashlib.sha256(text.encode()).hexdigest()


def _entry_path(sha: str, cache_dir: Path) -> Path:
    """The cache entry of a file whose bytes have SHA-256 ``sha``.

    Keyed on the content, not on path, size and modification time: an edit that keeps those
    (a restored backup, ``touch -r``, a copy tool preserving times) must still be seen.
    """
    key: list = [sha, READER_VERSION]
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32]
    return cache_dir / f"policeuk-street-v{READER_VERSION}-{digest}.parquet"


def _months_in(month: pa.ChunkedArray) -> list[str]:
    """The distinct months of a (validated, never missing) month column, as ``YYYY-MM``."""
    return sorted(f"{m:%Y-%m}" for m in pc.unique(month).to_pylist())


def _facts(table: pa.Table) -> dict:
    """What a cache entry records about its (full) table: see :data:`_FACTS_KEY`."""
    return {
        "crime_types": pc.unique(table[C.CRIME_TYPE]).to_pylist(),
        "falls_within_is_reported_by": table[_FALLS].equals(table[_REPORTED]),
        "months": _months_in(table[C.MONTH]),
    }


def _read_facts(schema: pa.Schema) -> dict | None:
    raw = (schema.metadata or {}).get(_FACTS_KEY)
    if raw is None:
        return None
    try:
        facts = json.loads(raw)
        types, same, months = (
            facts["crime_types"],
            facts["falls_within_is_reported_by"],
            facts["months"],
        )
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(types, list) or not all(t is None or isinstance(t, str) for t in types):
        return None
    if not isinstance(months, list) or not all(isinstance(m, str) for m in months):
        return None
    return {"crime_types": types, "falls_within_is_reported_by": same is True, "months": months}


def _read_entry(
    path: Path,
    cols: list[str],
    *,
    use_threads: bool,
    month: pd.Timestamp | None = None,
    need_ids: bool = True,
) -> tuple[pa.Table, list | None, _IdHashes | None] | None:
    """Columns ``cols`` of a cache entry, its distinct crime types (None when not recorded) and
    its Crime-ID hashes (from the ``.ids`` file beside it).

    ``month`` is the month in the source file's name: the entry (keyed on content alone) is
    only used when every row has that month, as parsing the file would demand; None when it
    has another (the caller then parses the file, which reports the error). Its month column
    is then not read but rebuilt (one value). ``falls_within`` is shared with ``reported_by``
    when the entry says they are equal. When ``crime_id`` is not in ``cols`` but the hashes
    are not on record, it is read too (the caller needs it for the duplicate check), unless
    ``need_ids`` is false (the hashes are then not read either).
    """
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        schema = pf.schema_arrow
        if not schema.equals(_SCHEMA):
            raise pa.ArrowInvalid("not a police.uk cache entry")
        n_rows = pf.metadata.num_rows
        if n_rows == 0:
            raise pa.ArrowInvalid("an empty cache entry")  # never written: the CSV is refused
        facts = _read_facts(schema)
        named = None if month is None else f"{month:%Y-%m}"
        if facts is not None and named is not None and facts["months"] != [named]:
            return None
        rebuild_month = C.MONTH in cols and facts is not None and named is not None
        ids = _read_ids(_ids_path(path), n_rows) if need_ids else None
        share = facts is not None and facts["falls_within_is_reported_by"]
        want = [*cols, _CRIME_ID] if need_ids and ids is None and _CRIME_ID not in cols else cols
        read = [
            c
            for c in _SCHEMA.names
            if (c in want or (c == C.MONTH and facts is None and named is not None))
            and not (share and c == _FALLS)
            and not (rebuild_month and c == C.MONTH)
        ]
        if share and _FALLS in want and _REPORTED not in read:
            read = [c for c in _SCHEMA.names if c in (*read, _REPORTED)]
        table = pf.read(columns=read, use_threads=use_threads, use_pandas_metadata=False)
    arrays = {c: table[c] for c in read}
    if C.MONTH in arrays and named is not None and _months_in(arrays[C.MONTH]) != [named]:
        return None
    if rebuild_month:
        arrays[C.MONTH] = _constant_month(month, n_rows)
    if share and _FALLS in want:
        arrays[_FALLS] = arrays[_REPORTED]
    else:
        _share_equal_columns(arrays)
    out_cols = [c for c in _SCHEMA.names if c in want]
    out = pa.Table.from_arrays([arrays[c] for c in out_cols], schema=_schema_of(out_cols))
    if need_ids and ids is None:
        ids = _by_hash(_id_hashes(out[_CRIME_ID]))
    return out, None if facts is None else facts["crime_types"], ids


# Crime-ID hashes of a cache entry, beside it in ``<entry>.ids``: a header (magic, rows of the
# entry, number of IDs, ID width in bytes, and the multipliers of :func:`_mixers`, so that a
# change of the hash never lets stale hashes through), then the hashes (uint64), sorted, and
# the row of each (uint32). Warm reads then need neither hash nor sort the IDs nor, when
# ``crime_id`` is not asked for, read them at all.
_IDS_MAGIC = b"PEIDS\x00\x01\x00"
_IDS_MAX_WIDTH = 64  # bytes: police.uk IDs are 64 hex characters


def _ids_path(entry: Path) -> Path:
    return entry.with_suffix(".ids")


def _ids_header(n_rows: int, n_ids: int, width: int) -> bytes:
    mix = np.zeros(_IDS_MAX_WIDTH // 8, dtype="<u8")
    mix[: width // 8] = _mixers(width // 8)
    return _IDS_MAGIC + np.array([n_rows, n_ids, width], dtype="<i8").tobytes() + mix.tobytes()


def _write_ids(path: Path, ids: _IdHashes | None, n_rows: int) -> None:
    """Write the ``.ids`` file of an entry (write-and-rename); none for IDs of other shapes."""
    if ids is None or ids[2] > _IDS_MAX_WIDTH or n_rows >= 2**32:
        return
    h, rows, width = ids  # sorted by hash (see _by_hash)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(_ids_header(n_rows, len(h), width))
            fh.write(h.astype("<u8", copy=False).tobytes())
            fh.write(rows.astype("<u4").tobytes())
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _read_ids(path: Path, n_rows: int) -> _IdHashes | None:
    """The hashes of an ``.ids`` file, or None when it is missing, damaged or out of date."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_IDS_MAGIC) + 24 + _IDS_MAX_WIDTH
    if len(data) < head or not data.startswith(_IDS_MAGIC):
        return None
    rows_in, n_ids, width = (int(v) for v in np.frombuffer(data, "<i8", 3, len(_IDS_MAGIC)))
    if (
        rows_in != n_rows
        or not 0 <= n_ids <= n_rows
        or width % 8
        or not 0 < width <= _IDS_MAX_WIDTH
        or data[:head] != _ids_header(n_rows, n_ids, width)
        or len(data) != head + 12 * n_ids
    ):
        return None
    h = np.frombuffer(data, "<u8", n_ids, head)
    rows = np.frombuffer(data, "<u4", n_ids, head + 8 * n_ids)
    if len(h) > 1 and not (h[1:] >= h[:-1]).all():
        return None
    return h, rows, width


def _load(
    f: _StreetFile,
    zips: _ZipHandles,
    cache_dir: Path | None,
    *,
    use_threads: bool = True,
    manifest: _Manifest | None = None,
    columns: Sequence[str] | None = None,
    content: tuple[str, _FileIdentity] | None = None,
    need_ids: bool = True,
) -> tuple[pa.Table, list | None, _IdHashes | None, Path | None]:
    """One file's parsed table and what is known of it without looking at its rows.

    Returns the table (columns ``columns``, in :data:`_SCHEMA` order, plus ``crime_id`` when
    it is needed to tell duplicates and the hashes are not known), its distinct crime types
    and the :func:`_id_hashes` of its Crime IDs (each None when not known), and the cache
    entry it came from (None when not cached). A cache entry always holds every column,
    whatever ``columns`` is. ``content`` is the file's :meth:`_Manifest.content_key` when the
    caller has it; with ``need_ids`` false the caller needs no duplicate check (from a cache
    entry, neither the hashes nor the IDs are then read).
    """
    cols = list(_SCHEMA.names) if columns is None else [c for c in _SCHEMA.names if c in columns]
    if cache_dir is None:
        cols = [c for c in _SCHEMA.names if c in cols or c == _CRIME_ID]
        return _parse_street_csv(f, zips, use_threads=use_threads, columns=cols), None, None, None
    import pyarrow.parquet as pq

    if manifest is None:
        manifest = _Manifest(cache_dir)
    sha, before = manifest.content_key(f, zips) if content is None else content
    path = _entry_path(sha, cache_dir)
    if path.is_file():
        try:
            found = _read_entry(
                path, cols, use_threads=use_threads, month=f.month, need_ids=need_ids
            )
        except (OSError, pa.ArrowException):
            warnings.warn(
                f"cache file {path} (for {f.label}) is unreadable; re-reading the CSV.",
                UserWarning,
                stacklevel=4,
            )
        else:
            if found is not None:
                return (*found, path)
            # The same bytes under another month's name: parsing reports the mismatch.
    table = _parse_street_csv(f, zips, use_threads=use_threads)
    facts = _facts(table)
    ids = _by_hash(_id_hashes(table[_CRIME_ID]))
    # Without a cache entry to fetch them from later, the Crime IDs stay in the table.
    with_ids = [c for c in _SCHEMA.names if c in cols or c == _CRIME_ID]
    if _identity(f.path) != before:
        # The file changed while it was read: its hash and the parsed rows may not match, so
        # nothing is cached (the next read hashes the file again).
        manifest.forget(f)
        return table.select(with_ids), facts["crime_types"], ids, None
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    stored = table.replace_schema_metadata({_FACTS_KEY: json.dumps(facts)})
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        _write_ids(_ids_path(path), ids, table.num_rows)  # first: an entry finds its hashes
        pq.write_table(stored, tmp, **_PARQUET_OPTIONS)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        warnings.warn(
            f"could not write the police.uk cache in {cache_dir} ({exc}); continuing without it.",
            UserWarning,
            stacklevel=4,
        )
        return table.select(with_ids), facts["crime_types"], ids, None
    return table.select(cols if ids is not None else with_ids), facts["crime_types"], ids, path


# -- public API -------------------------------------------------------------------------------
def _to_month(value: object, what: str) -> pd.Timestamp:
    try:
        t = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise DataValidationError(f"months: {what} {value!r} is not a date or YYYY-MM") from None
    return pd.Timestamp(t.year, t.month, 1)


def read_police_uk(
    source: str | Path | Sequence[str | Path],
    *,
    months: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    crime_types: Sequence[str] | None = None,
    cache_dir: Path | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read police.uk street-level crime CSVs into one validated DataFrame.

    Parameters
    ----------
    source
        A folder tree of monthly folders (``YYYY-MM/YYYY-MM-<force>-street.csv``, any number
        of forces), a single street CSV, an official police.uk archive zip, or a list of these.
        Outcomes and stop-and-search files are ignored.
    months
        ``(first, last)`` months to keep, inclusive (any date inside a month selects the
        month). Files named for other months are not opened at all.
    crime_types
        police.uk crime types to keep (e.g. ``["Violence and sexual offences"]``); all when
        None. A type that appears in none of the files read triggers a warning (likely a typo).
    cache_dir
        Folder for a Parquet cache of each parsed CSV, keyed by the SHA-256 of the file's bytes
        (of the member's bytes for a zip) and :data:`READER_VERSION`, so any edit is seen;
        reruns read the cache instead of parsing the CSV. A manifest in the same folder
        remembers each file's hash with its identity on disk (device, inode, size, modification
        and inode-change times), so an unchanged file is not hashed again; any write to a file
        changes its inode-change time, so an edit is never served stale. Nothing is ever
        written beside the input files.
    columns
        Which of :data:`pilot_eval.columns.INCIDENT_COLUMNS` to return, in this order (all, in
        their usual order, when None); ``source_file`` is always added. The rows, checks and
        warnings are the same whatever is asked for (months, coordinates, Crime IDs and crime
        types are always read); columns not asked for are not decoded (so their text is not
        checked to be UTF-8), which saves time and most of the memory: the pipeline needs only
        ``month``, ``longitude``, ``latitude`` and ``crime_type``.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`pilot_eval.columns.INCIDENT_COLUMNS` in that order (``month`` as
        ``datetime64[ns]`` month start; ``longitude``/``latitude`` float, NaN when police.uk
        gives no position; ``crime_id`` missing for anti-social behaviour), or those of
        ``columns``, plus ``source_file`` (categorical: the file, or ``archive.zip!member``, of
        each row). Rows are ordered by month, then force. Rows from every force are kept;
        ``falls_within`` names the force.

    Raises
    ------
    ConfigError
        When ``columns`` names a column that is not an incident column, or one twice.
    DataValidationError
        When a source does not exist or holds no street files, no file falls in ``months``,
        or a file breaks the police.uk format: a header other than the 12 police.uk columns,
        a ``Month`` not written ``YYYY-MM`` or not the month in the file's name, a coordinate
        outside the UK (longitude -9 to 3, latitude 49 to 61), or only one of the two
        coordinates given. The message names the file and the 1-based line.

    Warns
    -----
    UserWarning
        When the same force-month file appears in several sources (it is read once, from the
        later source), when rows sharing a Crime ID are dropped (the first is kept; ASB rows
        have no Crime ID and are never dropped this way), when a requested month has no file
        for a force that has files in other months, or when a requested crime type never
        appears.

    Notes
    -----
    Line numbers count physical lines from 1 (the header), as a text editor shows them.
    """
    out_cols = _output_columns(columns)
    sources = _as_sources(source)
    files: list[_StreetFile] = []
    for i, src in enumerate(sources):
        files.extend(_discover(src, i))
    files = _dedupe_files(files)

    first = last = None
    if months is not None:
        first, last = _to_month(months[0], "first month"), _to_month(months[1], "last month")
        if last < first:
            raise DataValidationError(
                f"months: the last month {last:%Y-%m} is before the first {first:%Y-%m}."
            )
        named = [f.month for f in files if f.month is not None]
        kept = [f for f in files if f.month is None or first <= f.month <= last]
        if not kept:
            raise DataValidationError(
                f"{', '.join(map(str, sources))}: no police.uk file covers {first:%Y-%m} to "
                f"{last:%Y-%m}; the files found cover {min(named):%Y-%m} to {max(named):%Y-%m}. "
                "Download the missing months or change the evaluation window."
            )
        files = kept
        _warn_missing_months(files, first, last)

    wanted = None if crime_types is None else pa.array(list(crime_types), type=_STR)
    wanted_set = None if crime_types is None else set(crime_types)
    parsed = [c for c in _SCHEMA.names if c in out_cols or c in _ALWAYS_PARSED]
    zips = _ZipHandles()
    manifest = None if cache_dir is None else _Manifest(Path(cache_dir))
    arrow_threads = _ARROW_THREADS or len(files) < 2 * _WORKERS

    def read_one(f: _StreetFile, content: tuple[str, _FileIdentity] | None) -> _FileResult:
        table, distinct, ids, entry = _load(
            f,
            zips,
            cache_dir,
            use_threads=arrow_threads,
            manifest=manifest,
            columns=parsed,
            content=content,
            need_ids=not known_unique,
        )
        kept: np.ndarray | None = None  # which of the file's rows are left, once any are not
        if f.month is None and first is not None:
            m = table[C.MONTH]
            lo, hi = pa.scalar(first, _NS), pa.scalar(last, _NS)
            in_window = pc.fill_null(pc.and_(pc.greater_equal(m, lo), pc.less_equal(m, hi)), False)
            table = table.filter(in_window)
            kept = _narrow(kept, in_window)
            distinct = None
        table, repaired, distinct = _normalise_crime_types(table, distinct)
        types: list[str] = []
        if wanted is not None:
            types = distinct
            # Filtering copies every column: skipped when every row is of a wanted type.
            if None in distinct or not set(distinct) <= wanted_set:  # type: ignore[operator]
                of_type = pc.fill_null(pc.is_in(table[C.CRIME_TYPE], wanted), False)
                table = table.filter(of_type)
                kept = _narrow(kept, of_type)
        # The Crime IDs' hashes (sorted), here in the worker, so that the duplicate check left
        # for the end is one merge of sorted 64-bit integers. From the cache when it has them.
        hashes: _SortedHashes | None = None
        if known_unique:
            pass  # the cache knows these rows repeat no Crime ID
        elif ids is not None:
            hashes = _sorted_kept(ids, kept)
        else:
            hashes = _sorted_id_hashes(table[_CRIME_ID])
        # Crime IDs not asked for leave the table (so every file's table has the same columns);
        # they are kept aside, or fetched from the cache entry, in case duplicates need them.
        origin: _IdSource = (entry, kept)
        if _CRIME_ID not in out_cols and _CRIME_ID in table.column_names:
            origin = table[_CRIME_ID]
            table = table.drop_columns([_CRIME_ID])
        return table, types, hashes, repaired, origin

    known_unique, unique_key = False, None
    try:
        # Files are parsed in threads (pyarrow releases the GIL, so the workers run on all
        # cores); results come back in file order whatever the thread timing, so the rows are
        # always in the same order and the first broken file in that order is the one reported.
        with ThreadPoolExecutor(max_workers=max(1, min(_WORKERS, len(files)))) as pool:
            contents: list[tuple[str, _FileIdentity] | None] = [None] * len(files)
            if manifest is not None:
                # What each file holds first (from the manifest, or hashed in the threads):
                # when the cache knows these contents repeat no Crime ID, the check is skipped.
                keys = list(_map(pool, lambda f: manifest.content_key(f, zips), files))
                window = None if first is None else (first, last)
                unique_key = _unique_key([sha for sha, _ in keys], files, window, crime_types)
                known_unique = manifest.known_unique(unique_key)
                contents = list(keys)
            results = list(_map(pool, read_one, files, contents))
    finally:
        zips.close()
        if manifest is not None:
            manifest.save()
    tables = [r[0] for r in results]
    seen_types = {t for _, types, *_ in results for t in types if t is not None}
    repaired: dict[str, int] = {}
    for *_, fixes, _ in results:
        for written, n in fixes.items():
            repaired[written] = repaired.get(written, 0) + n
    if repaired:
        n_rows = sum(repaired.values())
        examples = ", ".join(
            f"{w!r} -> {_canonical_type(w)!r}"
            for w in sorted(repaired, key=lambda w: repaired[w])[-3:]
        )
        warnings.warn(
            f"{n_rows:,} police.uk row(s) had a crime type written with different capitals or "
            f"spacing ({examples}); they were matched to the police.uk crime types ignoring "
            "case and spaces.",
            DataQualityWarning,
            stacklevel=2,
        )

    if wanted is not None and seen_types:
        absent = [t for t in crime_types if t not in seen_types]  # type: ignore[union-attr]
        if absent:
            warnings.warn(
                f"crime type(s) {absent} appear in none of the police.uk files read; check the "
                f"spelling. Crime types present: {sorted(seen_types)}.",
                UserWarning,
                stacklevel=2,
            )
    table = pa.concat_tables(tables)
    del tables
    counts = [r[0].num_rows for r in results]
    hashes = [r[2] for r in results]
    origins = [r[4] for r in results]
    del results

    def crime_ids() -> pa.ChunkedArray:
        if _CRIME_ID in table.column_names:
            return table[_CRIME_ID]
        parts = [o if isinstance(o, pa.ChunkedArray) else _entry_ids(*o) for o in origins]
        return pa.chunked_array([c for part in parts for c in part.chunks], type=_STR)

    dup, ids = (None, None) if known_unique else _repeated_rows_sorted(hashes, crime_ids)
    del hashes
    if manifest is not None and unique_key is not None and dup is None and not known_unique:
        manifest.record_unique(unique_key)
        manifest.save()
    if dup is not None:
        n_dup = int(dup.sum())
        example = ids[int(np.flatnonzero(dup)[0])].as_py()  # type: ignore[index]
        warnings.warn(
            f"{n_dup:,} row(s) repeat a Crime ID already read (e.g. {example}); only the first "
            "row of each Crime ID is kept. Overlapping downloads usually cause this.",
            DataQualityWarning,
            stacklevel=2,
        )
    # source_file: one dictionary for all rows (cheaper than a dictionary per file, which
    # pandas would have to unify); every file read is a category, even one left with no rows.
    codes = np.repeat(np.arange(len(files), dtype=np.int32), counts)
    labels = pa.array([f.label for f in files], pa.string())
    table = table.select(out_cols).append_column(
        SOURCE_FILE, pa.DictionaryArray.from_arrays(codes, labels)
    )
    if dup is not None:
        table = table.filter(pa.array(~dup))
    # self_destruct: each column's Arrow memory is let go as soon as it is converted (only the
    # coordinates, holding NaN for missing values, are converted: the text stays in Arrow).
    return table.to_pandas(split_blocks=True, self_destruct=True)


def _map(pool: ThreadPoolExecutor, fn: Callable, *iterables):
    """``pool.map``, or a plain ``map`` for a single item (no thread hop for one file)."""
    items = [list(it) for it in iterables]
    if len(items[0]) == 1:
        return map(fn, *items)
    return pool.map(fn, *items)


#: Where a file's Crime IDs are when they are not in its table: set aside, or in its cache
#: entry (the entry, and which of its rows are left), read only if duplicates need them.
_IdSource: TypeAlias = pa.ChunkedArray | tuple[Path | None, np.ndarray | None]
#: What one file's read gives back: its table, the crime types seen in it, its sorted
#: Crime-ID hashes, the rows repaired per spelling, and where its Crime IDs are.
_FileResult: TypeAlias = tuple[
    pa.Table, list[str], "_SortedHashes | None", dict[str, int], _IdSource
]


def _narrow(kept: np.ndarray | None, mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Which of a file's rows are left after ``mask`` filtered the rows ``kept`` left."""
    selected = np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)
    if kept is None:
        return selected
    out = np.zeros(len(kept), dtype=bool)
    out[np.flatnonzero(kept)] = selected
    return out


def _by_hash(ids: _IdHashes | None) -> _IdHashes | None:
    """:func:`_id_hashes` reordered by hash (the rows travel with their hashes)."""
    if ids is None:
        return None
    h, rows, width = ids
    order = np.argsort(h, kind="stable")
    return h[order], rows[order], width


def _sorted_kept(ids: _IdHashes, kept: np.ndarray | None) -> _SortedHashes:
    """The sorted hashes of the IDs in the rows ``kept`` (all rows when None), from hashes
    already sorted (:func:`_by_hash`): a selection of a sorted array stays sorted."""
    h, rows, width = ids
    return (h if kept is None else h[kept[rows]]), width


def _entry_ids(entry: Path | None, kept: np.ndarray | None) -> pa.ChunkedArray:
    """The Crime IDs of the rows ``kept`` of a cache entry (read only when duplicates are)."""
    import pyarrow.parquet as pq

    if entry is None:  # pragma: no cover - IDs are always read when there is no entry
        raise AssertionError("no cache entry to read the Crime IDs from")
    with pq.ParquetFile(entry) as pf:
        ids = pf.read(columns=[_CRIME_ID], use_pandas_metadata=False)[_CRIME_ID]
    return ids if kept is None else ids.filter(pa.array(kept))


def _output_columns(columns: Sequence[str] | None) -> list[str]:
    """The incident columns to return (all when None), checked."""
    if columns is None:
        return list(C.INCIDENT_COLUMNS)
    if isinstance(columns, str):
        raise ConfigError(f"columns must be a list of column names, not the string {columns!r}.")
    cols = list(columns)
    unknown = [c for c in cols if c not in C.INCIDENT_COLUMNS]
    if unknown:
        raise ConfigError(
            f"columns {unknown} are not police.uk incident columns; choose from "
            f"{list(C.INCIDENT_COLUMNS)}."
        )
    if len(set(cols)) != len(cols):
        raise ConfigError(f"columns {cols} name a column more than once.")
    return cols


def _type_key(text: str) -> str:
    """A crime type compared ignoring case and spacing: ``' public  ORDER'`` -> ``'public order'``."""
    return " ".join(text.split()).casefold()


_CANONICAL_TYPES = {_type_key(t): t for t in C.POLICE_UK_CRIME_TYPES}


def _canonical_type(text: str) -> str | None:
    """The police.uk crime type ``text`` stands for when case and spacing are ignored."""
    return _CANONICAL_TYPES.get(_type_key(text))


def _normalise_crime_types(
    table: pa.Table, distinct: list | None = None
) -> tuple[pa.Table, dict[str, int], list]:
    """Rewrite crime types differing from a police.uk type only in case or spacing.

    Works on the distinct values (a few per file; ``distinct`` when the caller knows them, e.g.
    from a cache entry). Returns the table, per rewritten spelling how many rows had it, and
    the distinct values after the rewrite.
    """
    col = table[C.CRIME_TYPE]
    if distinct is None:
        distinct = pc.unique(col).to_pylist()
    odd = [
        v
        for v in distinct
        if v is not None and v not in C.POLICE_UK_CRIME_TYPES and _canonical_type(v) is not None
    ]
    if not odd:
        return table, {}, distinct
    keys = pa.array(odd, type=_STR)
    idx = pc.index_in(col, value_set=keys)
    fixed = pc.take(pa.array([_canonical_type(v) for v in odd], type=_STR), idx)
    counts = pc.value_counts(pc.drop_null(idx)).to_pylist()
    repaired = {odd[c["values"]]: int(c["counts"]) for c in counts}
    new = pc.coalesce(fixed, col)
    after = list(dict.fromkeys(_canonical_type(v) if v in odd else v for v in distinct))
    table = table.set_column(table.schema.get_field_index(C.CRIME_TYPE), C.CRIME_TYPE, new)
    return table, repaired, after


#: Crime-ID hashes of one table: (64-bit hash of each non-missing ID, its row, the ID width).
_IdHashes = tuple[np.ndarray, np.ndarray, int]


@functools.lru_cache(maxsize=8)
def _mixers(n: int) -> np.ndarray:
    """``n`` fixed odd 64-bit multipliers: an ID's hash is the sum of its words times these.

    Two IDs differing in one word never collide (an odd multiplier is invertible modulo
    2**64); any collision is caught by the exact comparison that follows, so it costs time,
    never a row.
    """
    rng = np.random.default_rng(0x5EED)
    return rng.integers(0, 2**63, size=n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def _fixed_width_rows(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """A string chunk's non-empty values as an (n, width) byte matrix, plus their positions.

    Zero-copy view of Arrow's buffers; None unless every non-empty value has the same length,
    a multiple of 8 bytes (police.uk Crime IDs are 64 hex characters).
    """
    if not pa.types.is_large_string(chunk.type) or len(chunk) == 0:
        return None
    n, start = len(chunk), chunk.offset
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64, count=start + n + 1)[start:]
    lengths = np.diff(offsets)
    present = np.flatnonzero(lengths > 0)
    if len(present) == 0:
        return np.zeros((0, 8), dtype=np.uint8), present
    width = int(lengths[present[0]])
    if width % 8 or (lengths[present] != width).any():
        return None
    data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
    return data[offsets[0] : offsets[-1]].reshape(-1, width), present


def _id_hashes(ids: pa.ChunkedArray) -> _IdHashes | None:
    """Hash each non-missing Crime ID to 64 bits, straight from Arrow's string buffers.

    police.uk Crime IDs are 64-character hex digests: when every ID in ``ids`` has the same
    length (a multiple of 8 bytes), each is read in place as a row of 8-byte words, and the
    rows are mixed into hashes by one integer matrix product: several times faster than
    hashing the strings. None for IDs of any other shape (the caller then compares them
    exactly).
    """
    hashes, rows, widths, base = [], [], set(), 0
    for chunk in ids.chunks:
        if len(chunk) == 0:
            continue
        view = _fixed_width_rows(chunk)
        if view is None:
            return None
        matrix, present = view
        if len(present):
            widths.add(matrix.shape[1])
            words = matrix.view("<u8")  # (rows, width / 8) 64-bit words, no copy
            hashes.append(words @ _mixers(words.shape[1]))  # wraps modulo 2**64
            rows.append(present + base)
        base += len(chunk)
    if len(widths) > 1:
        return None
    if not hashes:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64), 0
    return np.concatenate(hashes), np.concatenate(rows), widths.pop()


def _repeated_rows(
    parts: Sequence[_IdHashes | None], offsets: Sequence[int] | np.ndarray, ids: pa.ChunkedArray
) -> np.ndarray | None:
    """Mask of rows whose Crime ID already appeared in an earlier row; None when there are none.

    ``parts`` are the :func:`_id_hashes` of consecutive pieces of ``ids`` starting at
    ``offsets``. Only rows whose hash repeats (normally none) have their IDs compared exactly,
    so a hash collision never drops a row. Missing IDs (ASB rows) never count as repeats.
    """
    hashed = [p for p in parts if p is not None]
    if len(hashed) < len(parts) or len({w for h, _, w in hashed if len(h)}) > 1:
        series = pd.Series(ids.to_pandas())
        dup = (series.duplicated() & series.notna()).to_numpy()
        return dup if dup.any() else None
    hs = np.concatenate([h for h, _, _ in hashed])
    if len(hs) < 2:
        return None
    hs.sort()  # in place: one fresh array fewer (large allocations are costly page faults)
    repeated = hs[1:][hs[1:] == hs[:-1]]  # hashes seen more than once (usually none)
    if len(repeated) == 0:
        return None
    h = np.concatenate([h for h, _, _ in hashed])  # in row order again
    rows = np.concatenate([r + off for (_, r, _), off in zip(hashed, offsets, strict=True)])
    candidates = rows[np.isin(h, repeated)]  # in row order: files and rows are in order
    exact = pd.Series(ids.take(pa.array(candidates)).to_pandas()).duplicated().to_numpy()
    if not exact.any():
        return None
    dup = np.zeros(len(ids), dtype=bool)
    dup[candidates[exact]] = True
    return dup


#: One table's Crime-ID hashes, sorted (from :func:`_id_hashes`), and the ID width.
_SortedHashes = tuple[np.ndarray, int]


def _sorted_id_hashes(ids: pa.ChunkedArray) -> _SortedHashes | None:
    """:func:`_id_hashes` of one file's IDs, sorted (None for IDs of other shapes)."""
    hashed = _id_hashes(ids)
    if hashed is None:
        return None
    h, _, width = hashed
    h.sort()  # in place: it is this worker's own array
    return h, width


def _repeated_rows_sorted(
    parts: Sequence[_SortedHashes | None], crime_ids: Callable[[], pa.ChunkedArray]
) -> tuple[np.ndarray | None, pa.ChunkedArray | None]:
    """Mask of rows whose Crime ID already appeared in an earlier row (None when there are
    none), and the IDs when they had to be looked at.

    ``parts`` are the :func:`_sorted_id_hashes` of consecutive pieces of the IDs that
    ``crime_ids()`` gives. With no hash seen twice (the normal case) that is all, and the IDs
    are not needed: the sorted runs are merged (a stable sort merges runs in linear passes)
    and compared with their neighbours. Otherwise, or for IDs of other shapes,
    :func:`_repeated_rows` decides exactly.
    """
    if all(p is not None for p in parts) and len({p[1] for p in parts if p and len(p[0])}) <= 1:
        hs = np.concatenate([p[0] for p in parts if p is not None])
        if len(hs) < 2:
            return None, None
        hs.sort(kind="stable")
        if not (hs[1:] == hs[:-1]).any():
            return None, None
        del hs
        ids = crime_ids()
        return _repeated_rows([_id_hashes(ids)], [0], ids), ids
    ids = crime_ids()
    return _repeated_rows([None], [0], ids), ids


def _repeated_ids(ids: pa.ChunkedArray) -> np.ndarray:
    """Mask of rows whose (non-missing) Crime ID already appeared in an earlier row."""
    dup = _repeated_rows([_id_hashes(ids)], [0], ids)
    return np.zeros(len(ids), dtype=bool) if dup is None else dup


def _warn_missing_months(files: list[_StreetFile], first: pd.Timestamp, last: pd.Timestamp):
    wanted = set(pd.date_range(first, last, freq="MS"))
    by_force: dict[str, set[pd.Timestamp]] = {}
    for f in files:
        if f.month is not None and f.force is not None:
            by_force.setdefault(f.force.lower(), set()).add(f.month)
    gaps = {force: sorted(wanted - have) for force, have in by_force.items() if wanted - have}
    if gaps:
        text = "; ".join(
            f"{force}: {', '.join(f'{m:%Y-%m}' for m in missing[:6])}"
            + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
            for force, missing in sorted(gaps.items())
        )
        warnings.warn(
            f"no police.uk file for some requested months ({text}). Those months will show "
            "no crimes for that force; download them before trusting the results.",
            UserWarning,
            stacklevel=3,
        )


def project_points(incidents: pd.DataFrame, *, crs: str = C.METRIC_CRS) -> pd.DataFrame:
    """Add projected coordinates ``x`` and ``y`` (metres) to police.uk incidents.

    Parameters
    ----------
    incidents
        Rows with ``longitude`` and ``latitude`` in WGS 84 degrees (not modified).
    crs
        Target CRS; British National Grid (EPSG:27700) by default.

    Returns
    -------
    pandas.DataFrame
        A new frame with ``x`` and ``y`` added (replaced if present); NaN where the
        incident has no position.

    Raises
    ------
    DataValidationError
        If ``longitude`` or ``latitude`` is missing.
    """
    missing = [c for c in ("longitude", "latitude") if c not in incidents.columns]
    if missing:
        raise DataValidationError(
            f"incidents lack column(s) {missing}; read them with read_police_uk first."
        )
    from pyproj import Transformer

    # Our own copies, projected in place: they become x and y (no second pair of arrays).
    lon = np.array(
        pd.to_numeric(incidents["longitude"]).to_numpy(dtype=float, na_value=np.nan),
        dtype=np.float64,
        copy=True,
    )
    lat = np.array(
        pd.to_numeric(incidents["latitude"]).to_numpy(dtype=float, na_value=np.nan),
        dtype=np.float64,
        copy=True,
    )
    placed = np.isfinite(lon) & np.isfinite(lat)

    def project(part: slice) -> None:
        # One Transformer per thread (they are not shared across threads); PROJ releases the
        # GIL, so parts run on all cores. Each point's result does not depend on the split.
        transformer = Transformer.from_crs(C.LONLAT_CRS, crs, always_xy=True)
        transformer.transform(lon[part], lat[part], inplace=True)

    n = len(lon)
    parts = max(1, min(_WORKERS, n // _PROJECT_PART))
    bounds = [n * i // parts for i in range(parts + 1)]
    slices = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    if parts == 1:
        project(slices[0])
    else:
        with ThreadPoolExecutor(max_workers=parts) as pool:
            list(pool.map(project, slices))
    x, y = lon, lat
    placed &= np.isfinite(x) & np.isfinite(y)
    x[~placed] = np.nan
    y[~placed] = np.nan
    return incidents.assign(**{C.X: x, C.Y: y})


#: Fewest points :func:`project_points` gives a thread of its own.
_PROJECT_PART = 100_000
