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
import hashlib
import io
import json
import os
import re
import threading
import warnings
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .. import columns as C
from ..errors import DataValidationError

__all__ = ["READER_VERSION", "SOURCE_FILE", "UK_BOUNDS", "project_points", "read_police_uk"]

#: Bump when the parsed table changes shape or meaning: old cache entries are then ignored.
READER_VERSION = 1
#: Extra column naming the file (or ``archive.zip!member``) each row came from.
SOURCE_FILE = "source_file"
#: Plausible UK coordinates: (lon_min, lon_max, lat_min, lat_max).
UK_BOUNDS = (-9.0, 3.0, 49.0, 61.0)

#: Files parsed at the same time.
_WORKERS = max(1, min(4, os.cpu_count() or 1))
_STREET_RE = re.compile(r"^(?P<month>\d{4}-\d{2})-(?P<force>.+)-street\.csv$", re.IGNORECASE)
_OTHER_RE = re.compile(r"-(outcomes|stop-and-search)\.csv$", re.IGNORECASE)
_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_LON, _LAT, _MONTH = "Longitude", "Latitude", "Month"

_STR = pa.large_string()  # pandas' pyarrow-backed strings use large_string: no cast later
_FLOAT_COLUMNS = (_LON, _LAT)
_COLUMN_TYPES = {c: (pa.float64() if c in _FLOAT_COLUMNS else _STR) for c in C.POLICE_UK_HEADER}
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
            UserWarning,
            stacklevel=3,
        )
    return sorted(
        chosen.values(),
        key=lambda f: (f.month or pd.Timestamp.max, (f.force or "").lower(), f.label),
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


def _check_rows(table: pa.Table, f: _StreetFile, zips: _ZipHandles) -> pa.ChunkedArray:
    """Validate months and coordinates; return the month column as timestamps."""
    month = table[_MONTH]
    if f.month is not None:
        expected = f"{f.month:%Y-%m}"
        bad = -1
        if month.null_count or not pc.all(pc.equal(month, expected)).as_py():
            bad = _first_true(pc.invert(pc.fill_null(pc.equal(month, expected), False)))
    else:
        expected = None
        ok = pc.fill_null(pc.match_substring_regex(month, _MONTH_RE), False)
        bad = _first_true(pc.invert(ok))
    if bad >= 0:
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

    lon, lat = table[_LON], table[_LAT]
    if lon.null_count or lat.null_count:
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
        extremes = pc.min_max(arr)
        low, high = extremes["min"].as_py(), extremes["max"].as_py()
        if lo <= low and high <= hi and not pc.any(pc.is_nan(arr)).as_py():
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
    if f.month is not None:
        stamp = np.full(n, np.datetime64(f"{f.month:%Y-%m}-01", "ns"))
        return pa.chunked_array([pa.array(stamp, type=pa.timestamp("ns"))])
    joined = pc.binary_join_element_wise(month, pa.scalar("-01", _STR), pa.scalar("", _STR))
    return pc.cast(pc.strptime(joined, format="%Y-%m-%d", unit="s"), pa.timestamp("ns"))


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


def _parse_street_csv(f: _StreetFile, zips: _ZipHandles) -> pa.Table:
    """Parse and validate one street-level CSV into a table of schema :data:`_SCHEMA`."""
    names = _read_header(f, zips)
    read_options = pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=True)
    convert_options = pacsv.ConvertOptions(
        column_types=_COLUMN_TYPES,
        include_columns=list(C.POLICE_UK_HEADER),
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
    month = _check_rows(table, f, zips)
    arrays = [month if c == _MONTH else table[c] for c in C.POLICE_UK_HEADER]
    return pa.Table.from_arrays(arrays, schema=_SCHEMA)


# -- cache ------------------------------------------------------------------------------------
def _cache_path(f: _StreetFile, zips: _ZipHandles, cache_dir: Path) -> Path:
    st = f.path.stat()
    key: list = [str(f.path.resolve()), st.st_size, st.st_mtime_ns, READER_VERSION]
    if f.member is not None:
        info = zips[f.path].getinfo(f.member)
        key += [f.member, info.CRC, info.file_size]
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:32]
    return cache_dir / f"policeuk-street-v{READER_VERSION}-{digest}.parquet"


def _load(f: _StreetFile, zips: _ZipHandles, cache_dir: Path | None) -> pa.Table:
    """One file's parsed table, from the Parquet cache when it holds a current copy."""
    if cache_dir is None:
        return _parse_street_csv(f, zips)
    import pyarrow.parquet as pq

    path = _cache_path(f, zips, cache_dir)
    if path.is_file():
        try:
            table = pq.read_table(path)
            if table.schema.equals(_SCHEMA):
                return table
        except (OSError, pa.ArrowException):
            pass
        warnings.warn(
            f"cache file {path} (for {f.label}) is unreadable; re-reading the CSV.",
            UserWarning,
            stacklevel=4,
        )
    table = _parse_street_csv(f, zips)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        warnings.warn(
            f"could not write the police.uk cache in {cache_dir} ({exc}); continuing without it.",
            UserWarning,
            stacklevel=4,
        )
    return table


# -- public API -------------------------------------------------------------------------------
def _to_month(value: object, what: str) -> pd.Timestamp:
    try:
        t = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DataValidationError(f"months: {what} {value!r} is not a date or YYYY-MM") from None
    return pd.Timestamp(t.year, t.month, 1)


def _empty_frame() -> pd.DataFrame:
    label = pa.array([], type=pa.dictionary(pa.int32(), pa.string()))
    table = _SCHEMA.empty_table().append_column(SOURCE_FILE, label)
    return table.to_pandas()


def read_police_uk(
    source: str | Path | Sequence[str | Path],
    *,
    months: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    crime_types: Sequence[str] | None = None,
    cache_dir: Path | None = None,
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
        Folder for a Parquet cache of each parsed CSV, keyed by the file's absolute path, size,
        modification time and :data:`READER_VERSION`; reruns read the cache instead of the
        CSV. Nothing is ever written beside the input files.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`pilot_eval.columns.INCIDENT_COLUMNS` in that order (``month`` as
        ``datetime64[ns]`` month start; ``longitude``/``latitude`` float, NaN when police.uk
        gives no position; ``crime_id`` missing for anti-social behaviour) plus
        ``source_file`` (categorical: the file, or ``archive.zip!member``, of each row).
        Rows are ordered by month, then force. Rows from every force are kept;
        ``falls_within`` names the force.

    Raises
    ------
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
    zips = _ZipHandles()

    def read_one(f: _StreetFile) -> tuple[pa.Table, list[str]]:
        table = _load(f, zips, cache_dir)
        if f.month is None and first is not None:
            m = table[C.MONTH]
            lo, hi = pa.scalar(first, pa.timestamp("ns")), pa.scalar(last, pa.timestamp("ns"))
            table = table.filter(pc.and_(pc.greater_equal(m, lo), pc.less_equal(m, hi)))
        types: list[str] = []
        if wanted is not None:
            types = pc.unique(table[C.CRIME_TYPE]).to_pylist()
            table = table.filter(pc.fill_null(pc.is_in(table[C.CRIME_TYPE], wanted), False))
        zeros = pa.array(np.zeros(table.num_rows, dtype=np.int32))
        label = pa.DictionaryArray.from_arrays(zeros, pa.array([f.label], pa.string()))
        return table.append_column(SOURCE_FILE, label), types

    try:
        # Files are read in threads (pyarrow releases the GIL, so one file's checks overlap
        # the parsing of the next); results come back in reading order, so the first broken
        # file in that order is the one reported.
        with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
            results = list(pool.map(read_one, files))
    finally:
        zips.close()
    tables = [t for t, _ in results]
    seen_types = {t for _, types in results for t in types if t is not None}

    if wanted is not None and seen_types:
        absent = [t for t in crime_types if t not in seen_types]  # type: ignore[union-attr]
        if absent:
            warnings.warn(
                f"crime type(s) {absent} appear in none of the police.uk files read; check the "
                f"spelling. Crime types present: {sorted(seen_types)}.",
                UserWarning,
                stacklevel=2,
            )
    if not tables:
        return _empty_frame()
    table = pa.concat_tables(tables)
    df = table.to_pandas(split_blocks=True)

    dup = _repeated_ids(table[C.snake("Crime ID")])
    if dup.any():
        n_dup = int(dup.sum())
        example = df["crime_id"].iloc[int(np.flatnonzero(dup)[0])]
        warnings.warn(
            f"{n_dup:,} row(s) repeat a Crime ID already read (e.g. {example}); only the first "
            "row of each Crime ID is kept. Overlapping downloads usually cause this.",
            UserWarning,
            stacklevel=2,
        )
        df = df.loc[~dup].reset_index(drop=True)
    return df


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


def _repeated_ids(ids: pa.ChunkedArray) -> np.ndarray:
    """Mask of rows whose (non-missing) Crime ID already appeared in an earlier row.

    police.uk Crime IDs are 64-character hex digests. When every ID has the same length, the
    IDs are read straight from Arrow's string buffers as fixed-width rows and hashed to 64 bits
    with a few vectorised integer operations; only rows whose hash repeats (normally none) are
    compared exactly. This is several times faster than hashing the strings; IDs of other
    shapes fall back to :meth:`pandas.Series.duplicated`.
    """
    n = len(ids)
    out = np.zeros(n, dtype=bool)
    if n - ids.null_count < 2:
        return out
    views = [_fixed_width_rows(chunk) for chunk in ids.chunks]
    widths = {v[0].shape[1] for v in views if v is not None and len(v[1])}
    if all(v is not None for v in views) and len(widths) == 1:
        hashes, rows, where, base = [], [], [], 0
        for chunk, (matrix, present) in zip(ids.chunks, views, strict=True):  # type: ignore[misc]
            words = matrix.view("<u8")
            h = words[:, 0].copy()
            for k in range(1, words.shape[1]):
                h ^= words[:, k]
                h *= np.uint64(0x9E3779B97F4A7C15)
            hashes.append(h)
            rows.append(matrix)
            where.append(present + base)
            base += len(chunk)
        h = np.concatenate(hashes)
        hs = np.sort(h)
        repeated = hs[1:][hs[1:] == hs[:-1]]  # hashes seen more than once (usually none)
        if len(repeated) == 0:
            return out
        all_where = np.concatenate(where)
        starts = np.cumsum([0] + [len(w) for w in where])
        seen: set[bytes] = set()
        for i in np.flatnonzero(np.isin(h, repeated)):  # in row order
            c = int(np.searchsorted(starts, i, side="right") - 1)
            key = rows[c][i - starts[c]].tobytes()
            if key in seen:
                out[all_where[i]] = True
            seen.add(key)
        return out
    series = pd.Series(ids.to_pandas())
    return (series.duplicated() & series.notna()).to_numpy()


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

    lon = pd.to_numeric(incidents["longitude"]).to_numpy(dtype=float, na_value=np.nan)
    lat = pd.to_numeric(incidents["latitude"]).to_numpy(dtype=float, na_value=np.nan)
    transformer = Transformer.from_crs(C.LONLAT_CRS, crs, always_xy=True)
    x, y = transformer.transform(lon, lat)
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    unplaced = ~(np.isfinite(lon) & np.isfinite(lat) & np.isfinite(x) & np.isfinite(y))
    x[unplaced] = np.nan
    y[unplaced] = np.nan
    return incidents.assign(**{C.X: x, C.Y: y})
