"""police.uk Parquet cache: warm reads equal cold ones, the stat manifest never serves an edit
stale, and ``columns`` returns a selection of the full frame."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilot_eval import columns as C
from pilot_eval.errors import ConfigError
from pilot_eval.io import policeuk
from pilot_eval.io.policeuk import read_police_uk

FORCES = {"metropolitan": "Metropolitan Police Service", "kent": "Kent Police"}
MONTHS = ("2024-01", "2024-02", "2024-03")
PIPELINE_COLUMNS = ["month", "longitude", "latitude", "crime_type"]


def _crime_id(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def _row(month: str, force: str, i: int, *, crime_type: str = "Burglary", **over) -> list[str]:
    name = FORCES.get(force, force)
    row = {
        "Crime ID": ""
        if crime_type == "Anti-social behaviour"
        else _crime_id(f"{force}{month}{i}"),
        "Month": month,
        "Reported by": name,
        "Falls within": name,
        "Longitude": f"{0.10 + 0.001 * i:.6f}",
        "Latitude": f"{51.48 + 0.001 * i:.6f}",
        "Location": "On or near High Street",
        "LSOA code": "E01000400",
        "LSOA name": "Bexley 001A",
        "Crime type": crime_type,
        "Last outcome category": "" if crime_type == "Anti-social behaviour" else "Unable",
        "Context": "",
    }
    row.update(over)
    return [row[c] for c in C.POLICE_UK_HEADER]


def _csv_text(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(C.POLICE_UK_HEADER)
    w.writerows(rows)
    return buf.getvalue()


def _month_rows(month: str, force: str) -> list[list[str]]:
    rows = [
        _row(month, force, 1, crime_type="Violence and sexual offences"),
        _row(month, force, 2, crime_type="Public order"),
        _row(month, force, 3, Longitude="", Latitude="", Location="No Location"),
        _row(month, force, 4, crime_type="Anti-social behaviour"),
        _row(month, force, 5, crime_type="Anti-social behaviour"),
    ]
    if force == "kent":  # some rows reported by one force and falling within another
        rows.append(_row(month, force, 6, **{"Falls within": "Metropolitan Police Service"}))
    return rows


def _member(month: str, force: str) -> str:
    return f"{month}/{month}-{force}-street.csv"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "police-uk"
    for month in MONTHS:
        for force in FORCES:
            p = root / _member(month, force)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(_csv_text(_month_rows(month, force)))
    return root


@pytest.fixture
def settled(monkeypatch):
    """Files count as settled at once (no waiting out the racy-timestamp window)."""
    monkeypatch.setattr(policeuk, "_RACY_NS", 0)


def _read(*args, **kwargs) -> tuple[pd.DataFrame, list[tuple[type, str]]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = read_police_uk(*args, **kwargs)
    return df, [(w.category, str(w.message)) for w in caught]


def _no_parsing(monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise AssertionError("a CSV was parsed despite a current cache")

    monkeypatch.setattr(policeuk, "_parse_street_csv", boom)


def _count_hashing(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = policeuk.content_sha256

    def counting(f, zips):
        calls.append(f.label)
        return real(f, zips)

    monkeypatch.setattr(policeuk, "content_sha256", counting)
    return calls


def _with_awkward_rows(root: Path) -> None:
    """Re-cased crime types (repaired, with a warning) and Crime IDs repeated across files."""
    p = root / _member("2024-02", "kent")
    rows = _month_rows("2024-02", "kent")
    rows.append(_row("2024-02", "kent", 9, crime_type="public  ORDER"))
    rows.append(_row("2024-02", "kent", 10, **{"Crime ID": _crime_id("kent2024-011")}))
    p.write_text(_csv_text(rows))


OPTIONS = [
    {},
    {"months": ("2024-02", "2024-03")},
    {"crime_types": ["Public order", "Burglary"]},
    {"crime_types": sorted(C.POLICE_UK_CRIME_TYPES)},  # every row kept: no filtering at all
    {"columns": PIPELINE_COLUMNS},
    {"columns": ["location", "crime_id", "falls_within"], "crime_types": ["Burglary"]},
    {"columns": ["falls_within"]},
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "default")
def test_warm_frame_and_warnings_equal_the_cold_ones(
    tree: Path, tmp_path: Path, options, monkeypatch
):
    _with_awkward_rows(tree)
    cache = tmp_path / "cache"
    cold, cold_warnings = _read(tree, **options)
    filling, filling_warnings = _read(tree, cache_dir=cache, **options)
    _no_parsing(monkeypatch)
    warm, warm_warnings = _read(tree, cache_dir=cache, **options)
    pd.testing.assert_frame_equal(filling, cold)
    pd.testing.assert_frame_equal(warm, cold)
    assert warm_warnings == filling_warnings == cold_warnings


def test_frames_read_with_columns_are_selections_of_the_full_frame(tree: Path, tmp_path: Path):
    _with_awkward_rows(tree)
    full, full_warnings = _read(tree)
    for cols in (PIPELINE_COLUMNS, ["context", "month"], ["reported_by", "falls_within"]):
        expected = full[[*cols, policeuk.SOURCE_FILE]]
        for cache in (None, tmp_path / "cache"):
            got, got_warnings = _read(tree, columns=cols, cache_dir=cache)
            pd.testing.assert_frame_equal(got, expected)
            assert got_warnings == full_warnings


def test_columns_must_be_incident_columns_named_once(tree: Path):
    with pytest.raises(ConfigError, match="not police.uk incident columns"):
        read_police_uk(tree, columns=["month", "x"])
    with pytest.raises(ConfigError, match="more than once"):
        read_police_uk(tree, columns=["month", "month"])
    with pytest.raises(ConfigError, match="list of column names"):
        read_police_uk(tree, columns="month")


def test_warm_read_neither_parses_nor_hashes_unchanged_files(
    tree: Path, tmp_path: Path, settled, monkeypatch
):
    cache = tmp_path / "cache"
    first = read_police_uk(tree, cache_dir=cache)
    manifest = json.loads(next(cache.glob("*manifest.json")).read_text())
    assert len(manifest["files"]) == 6
    _no_parsing(monkeypatch)
    hashed = _count_hashing(monkeypatch)
    pd.testing.assert_frame_equal(read_police_uk(tree, cache_dir=cache), first)
    assert hashed == []


def test_an_edit_keeping_size_and_mtime_is_seen_by_the_manifest(
    tree: Path, tmp_path: Path, settled, monkeypatch
):
    cache = tmp_path / "cache"
    first = read_police_uk(tree, cache_dir=cache)
    p = tree / _member("2024-02", "kent")
    st = p.stat()
    time.sleep(0.02)  # past any coarse timestamp tick
    text = p.read_text()
    edited = text.replace("Public order", "Burglary....")  # same length
    assert len(edited) == len(text) and edited != text
    p.write_text(edited)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # as touch -r or a restored backup does
    now = p.stat()
    assert (now.st_size, now.st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    if now.st_ctime_ns == st.st_ctime_ns:  # pragma: no cover - a file system without ctime
        pytest.skip("this file system does not move st_ctime on writes")
    hashed = _count_hashing(monkeypatch)
    second = read_police_uk(tree, cache_dir=cache)
    assert hashed == [str(p)]  # only the edited file is hashed again
    assert (first["crime_type"] == "Public order").sum() - 1 == (
        second["crime_type"] == "Public order"
    ).sum()


def test_a_file_replaced_by_a_same_size_copy_with_the_old_times_is_seen(
    tree: Path, tmp_path: Path, settled
):
    cache = tmp_path / "cache"
    first = read_police_uk(tree, cache_dir=cache)
    p = tree / _member("2024-03", "metropolitan")
    st = p.stat()
    new = p.with_name("new.tmp")
    new.write_text(p.read_text().replace("High Street", "Low  Street"))
    os.utime(new, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(new, p)  # a new inode, with the old size and modification time
    second = read_police_uk(tree, cache_dir=cache)
    assert (second["location"] == "On or near Low  Street").sum() == 4  # and one "No Location"
    assert len(second) == len(first)


def test_a_rewritten_zip_with_the_old_size_and_times_is_seen(tree: Path, tmp_path: Path, settled):
    cache = tmp_path / "cache"
    member = _member("2024-01", "kent")
    text = (tree / member).read_text()
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(member, text)
    first = read_police_uk(archive, cache_dir=cache)
    st = archive.stat()
    time.sleep(0.02)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(member, text.replace("High Street", "Low  Street"))
    os.utime(archive, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert archive.stat().st_size == st.st_size
    second = read_police_uk(archive, cache_dir=cache)
    assert set(first["location"]) == {"On or near High Street", "No Location"}
    assert set(second["location"]) == {"On or near Low  Street", "No Location"}


def test_files_changed_moments_ago_are_hashed_again_next_time(
    tree: Path, tmp_path: Path, monkeypatch
):
    # Just written: a further change could fall in the same timestamp tick, so the manifest
    # does not vouch for them yet.
    cache = tmp_path / "cache"
    read_police_uk(tree, cache_dir=cache)
    hashed = _count_hashing(monkeypatch)
    read_police_uk(tree, cache_dir=cache)
    assert len(hashed) == 6


def test_a_damaged_manifest_or_missing_id_hashes_cost_only_time(
    tree: Path, tmp_path: Path, settled, monkeypatch
):
    _with_awkward_rows(tree)
    cache = tmp_path / "cache"
    first, first_warnings = _read(tree, cache_dir=cache, columns=PIPELINE_COLUMNS)
    manifest = next(cache.glob("*manifest.json"))
    manifest.write_text("{not json")
    ids = sorted(cache.glob("*.ids"))
    assert len(ids) == 6
    ids[0].unlink()
    ids[1].write_bytes(ids[1].read_bytes()[:-3])  # truncated
    _no_parsing(monkeypatch)
    again, again_warnings = _read(tree, cache_dir=cache, columns=PIPELINE_COLUMNS)
    pd.testing.assert_frame_equal(again, first)
    assert again_warnings == first_warnings
    assert len(json.loads(manifest.read_text())["files"]) == 6  # rewritten


def test_colliding_cached_hashes_never_drop_a_row(tree: Path, tmp_path: Path, monkeypatch):
    _with_awkward_rows(tree)
    cache = tmp_path / "cache"
    expected, expected_warnings = _read(tree, columns=PIPELINE_COLUMNS)
    _read(tree, cache_dir=cache)
    for path in cache.glob("*.ids"):  # every ID of every file hashes to 0: all compared exactly
        data = bytearray(path.read_bytes())
        n_ids = int(np.frombuffer(bytes(data), "<i8", 3, len(policeuk._IDS_MAGIC))[1])
        head = len(data) - 12 * n_ids
        data[head : head + 8 * n_ids] = bytes(8 * n_ids)
        path.write_bytes(bytes(data))
    got, got_warnings = _read(tree, cache_dir=cache, columns=PIPELINE_COLUMNS)
    pd.testing.assert_frame_equal(got, expected)
    assert got_warnings == expected_warnings
    assert sum("repeat a Crime ID" in m for _, m in got_warnings) == 1


def test_an_unnamed_csv_filtered_by_month_from_the_cache(tmp_path: Path):
    rows = [
        *_month_rows("2024-01", "kent"),
        *_month_rows("2024-02", "kent"),
        _row("2024-03", "kent", 1),  # repeats January's first Crime ID
        _row("2024-02", "kent", 1, crime_type="public order"),  # the same ID again
    ]
    p = tmp_path / "crimes.csv"
    p.write_text(_csv_text(rows))
    cache = tmp_path / "cache"
    for options in (
        {"months": ("2024-02", "2024-03")},
        {"months": ("2024-01", "2024-02")},
        {"months": ("2024-02", "2024-03"), "crime_types": ["Burglary", "Public order"]},
    ):
        for columns in (None, PIPELINE_COLUMNS):
            cold, cold_warnings = _read(p, columns=columns, **options)
            warm, warm_warnings = _read(p, cache_dir=cache, columns=columns, **options)
            pd.testing.assert_frame_equal(warm, cold)
            assert warm_warnings == cold_warnings


def test_a_file_changing_while_it_is_read_is_not_cached(tree: Path, tmp_path: Path, monkeypatch):
    cache = tmp_path / "cache"
    real = policeuk._identity
    seen: dict[Path, int] = {}

    def moving(path):  # every look at a file finds it changed since the last one
        seen[path] = seen.get(path, 0) + 1
        st = real(path)
        return (*st[:4], st[4] + seen[path])

    monkeypatch.setattr(policeuk, "_identity", moving)
    df = read_police_uk(tree, cache_dir=cache)
    assert len(df) == 3 * (5 + 6)
    assert list(cache.glob("*.parquet")) == []


def test_entries_of_an_earlier_version_without_facts_or_id_hashes_are_read(
    tree: Path, tmp_path: Path, monkeypatch
):
    import pyarrow.parquet as pq

    _with_awkward_rows(tree)
    cache = tmp_path / "cache"
    expected, expected_warnings = _read(tree)
    _read(tree, cache_dir=cache)
    for path in cache.glob("*.parquet"):  # as the previous version wrote them
        pq.write_table(pq.read_table(path).replace_schema_metadata(None), path)
    for path in cache.glob("*.ids"):
        path.unlink()
    _no_parsing(monkeypatch)
    for columns in (None, PIPELINE_COLUMNS):
        got, got_warnings = _read(tree, cache_dir=cache, columns=columns)
        pd.testing.assert_frame_equal(
            got, expected if columns is None else expected[[*columns, policeuk.SOURCE_FILE]]
        )
        assert got_warnings == expected_warnings


def test_a_cached_file_copied_under_another_months_name_is_refused(tree: Path, tmp_path: Path):
    from pilot_eval.errors import DataValidationError

    cache = tmp_path / "cache"
    read_police_uk(tree, cache_dir=cache)  # caches January's Kent file
    wrong = tree / _member("2024-04", "kent")
    wrong.parent.mkdir()
    wrong.write_bytes((tree / _member("2024-01", "kent")).read_bytes())  # the same bytes
    for cache_dir in (None, cache):
        with pytest.raises(DataValidationError, match="does not match the month in the file"):
            read_police_uk(tree, cache_dir=cache_dir)


def test_the_duplicate_check_is_remembered_only_when_nothing_repeats(
    tree: Path, tmp_path: Path, settled, monkeypatch
):
    cache = tmp_path / "cache"
    real = policeuk._repeated_rows_sorted
    calls: list[int] = []

    def counting(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(policeuk, "_repeated_rows_sorted", counting)
    first = read_police_uk(tree, cache_dir=cache)
    for columns in (None, PIPELINE_COLUMNS):
        got = read_police_uk(tree, cache_dir=cache, columns=columns)
        pd.testing.assert_frame_equal(
            got, first if columns is None else first[[*columns, "source_file"]]
        )
    assert len(calls) == 1  # checked once; the later reads of the same contents trust that
    read_police_uk(tree, cache_dir=cache, crime_types=["Burglary"])  # other rows: checked
    assert len(calls) == 2
    _with_awkward_rows(tree)  # now an ID repeats: checked (and reported) on every read
    for _ in range(2):
        _, caught = _read(tree, cache_dir=cache)
        assert sum("repeat a Crime ID" in m for _, m in caught) == 1
    assert len(calls) == 4
