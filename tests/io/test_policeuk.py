"""police.uk street-level CSV reader: folders, zips, validation, duplicates, cache, projection."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilot_eval import columns as C
from pilot_eval.errors import DataQualityWarning, DataValidationError
from pilot_eval.io import policeuk
from pilot_eval.io.policeuk import project_points, read_police_uk

FORCES = {"metropolitan": "Metropolitan Police Service", "kent": "Kent Police"}
MONTHS = ("2024-01", "2024-02", "2024-03")


def _crime_id(seed: str) -> str:
    """A 64-character hex digest, like real police.uk Crime IDs."""
    return hashlib.sha256(seed.encode()).hexdigest()


def _row(month: str, force: str, i: int, *, crime_type: str = "Burglary", **over) -> list[str]:
    name = FORCES.get(force, force)
    row = {
        "Crime ID": _crime_id(f"{force}{month}{i}")
        if crime_type != "Anti-social behaviour"
        else "",
        "Month": month,
        "Reported by": name,
        "Falls within": name,
        "Longitude": f"{0.10 + 0.001 * i:.6f}",
        "Latitude": f"{51.48 + 0.001 * i:.6f}",
        "Location": "On or near High Street, Erith",
        "LSOA code": "E01000400",
        "LSOA name": "Bexley 001A",
        "Crime type": crime_type,
        "Last outcome category": "" if crime_type == "Anti-social behaviour" else "Unable",
        "Context": "",
    }
    row.update(over)
    return [row[c] for c in C.POLICE_UK_HEADER]


def _csv_text(rows: list[list[str]], header=C.POLICE_UK_HEADER) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _month_rows(month: str, force: str) -> list[list[str]]:
    """Three crimes (one without a position) and one ASB incident."""
    return [
        _row(month, force, 1, crime_type="Violence and sexual offences"),
        _row(month, force, 2, crime_type="Public order"),
        _row(month, force, 3, Longitude="", Latitude="", Location="No Location"),
        _row(month, force, 4, crime_type="Anti-social behaviour"),
    ]


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
        # files that must be ignored
        (root / month / f"{month}-kent-outcomes.csv").write_text("Crime ID,Month\nx,y\n")
    return root


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return path


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


# -- reading -----------------------------------------------------------------------------------
def test_folder_tree_two_forces_three_months(tree: Path):
    before = _snapshot(tree)
    df = read_police_uk(tree)
    assert list(df.columns) == [*C.INCIDENT_COLUMNS, policeuk.SOURCE_FILE]
    assert len(df) == 3 * 2 * 4
    assert df["month"].dtype == "datetime64[ns]"
    assert sorted(df["month"].unique()) == list(pd.date_range("2024-01", "2024-03", freq="MS"))
    assert df["month"].is_monotonic_increasing
    assert df["longitude"].dtype == np.float64 and df["latitude"].dtype == np.float64
    assert set(df["falls_within"]) == set(FORCES.values())
    assert (df.groupby("falls_within").size() == 12).all()
    assert df["source_file"].astype(str).str.endswith("-street.csv").all()
    assert _snapshot(tree) == before  # nothing written or changed beside the user's files


def test_blank_coordinates_and_asb_ids_are_kept(tree: Path):
    df = read_police_uk(tree / "2024-01" / "2024-01-kent-street.csv")
    assert len(df) == 4
    no_xy = df[df["longitude"].isna()]
    assert len(no_xy) == 1 and no_xy["latitude"].isna().all()
    assert no_xy["location"].iloc[0] == "No Location"
    asb = df[df["crime_type"] == "Anti-social behaviour"]
    assert len(asb) == 1 and asb["crime_id"].isna().all()
    assert df["crime_id"].notna().sum() == 3
    assert df["context"].isna().all()  # blank strings are missing, not ""


def test_byte_order_mark_and_crlf_are_fine(tmp_path: Path):
    p = tmp_path / "2024-01-kent-street.csv"
    text = _csv_text(_month_rows("2024-01", "kent")).replace("\n", "\r\n")
    p.write_bytes(b"\xef\xbb\xbf" + text.encode())
    df = read_police_uk(p)
    assert len(df) == 4 and df["context"].isna().all()
    assert df["crime_type"].iloc[0] == "Violence and sexual offences"


def test_month_and_crime_type_filters_skip_files_by_name(tree: Path):
    # A broken file outside the month range is never opened.
    (tree / "2024-03" / "2024-03-metropolitan-street.csv").write_text("not,a,police,file\n")
    df = read_police_uk(
        tree,
        months=(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-02-01")),
        crime_types=["Public order", "Anti-social behaviour"],
    )
    assert len(df) == 2 * 2 * 2
    assert set(df["crime_type"]) == {"Public order", "Anti-social behaviour"}
    assert df["month"].max() == pd.Timestamp("2024-02-01")
    with pytest.raises(DataValidationError, match="line 1"):
        read_police_uk(tree)


def test_missing_requested_month_and_unknown_crime_type_warn(tree: Path):
    with pytest.warns(UserWarning) as record:
        df = read_police_uk(
            tree, months=("2024-02", "2024-04"), crime_types=["Public order", "Pubic order"]
        )
    text = " ".join(str(w.message) for w in record)
    assert "2024-04" in text and "'Pubic order'" in text
    assert len(df) == 2 * 2


def test_no_file_in_months_is_an_error(tree: Path):
    with pytest.raises(DataValidationError, match="2024-01 to 2024-03"):
        read_police_uk(tree, months=("2020-01", "2020-12"))


def test_zip_archive_equals_folder(tree: Path, tmp_path: Path):
    members = {_member(m, f): (tree / _member(m, f)).read_text() for m in MONTHS for f in FORCES}
    members["2024-01/2024-01-kent-outcomes.csv"] = "Crime ID,Month\n"
    members["2024-01/2024-01-kent-stop-and-search.csv"] = "Type,Date\n"
    archive = _zip(tmp_path / "download.zip", members)
    from_zip = read_police_uk(archive)
    from_tree = read_police_uk(tree)
    pd.testing.assert_frame_equal(
        from_zip.drop(columns="source_file"), from_tree.drop(columns="source_file")
    )
    assert from_zip["source_file"].astype(str).str.contains(r"download\.zip!2024-0").all()


def test_overlapping_archives_read_each_file_once(tmp_path: Path):
    def text(month: str, extra: bool = False) -> str:
        rows = _month_rows(month, "kent")
        if extra:  # the later download has one more (late-recorded) crime
            rows.append(_row(month, "kent", 9))
        return _csv_text(rows)

    a = _zip(tmp_path / "a.zip", {_member(m, "kent"): text(m) for m in ("2024-01", "2024-02")})
    b = _zip(
        tmp_path / "b.zip",
        {
            _member("2024-02", "kent"): text("2024-02", extra=True),
            _member("2024-03", "kent"): text("2024-03"),
        },
    )
    with pytest.warns(UserWarning, match="1 police.uk force-month file"):
        df = read_police_uk([a, b])
    feb = df[df["month"] == pd.Timestamp("2024-02-01")]
    assert len(feb) == 5  # read once, from the later archive b
    assert feb["source_file"].astype(str).str.startswith(str(b)).all()
    assert (feb["crime_type"] == "Anti-social behaviour").sum() == 1  # ASB not doubled
    assert len(df) == 4 + 5 + 4


def test_same_crime_id_in_two_files_is_kept_once(tmp_path: Path):
    first = tmp_path / "first.csv"
    second = tmp_path / "second.csv"
    first.write_text(_csv_text([_row("2024-01", "kent", 1), _row("2024-01", "kent", 2)]))
    second.write_text(
        _csv_text(
            [
                _row("2024-01", "kent", 2, Location="Moved"),
                _row("2024-01", "kent", 7, crime_type="Anti-social behaviour"),
                _row("2024-01", "kent", 8, crime_type="Anti-social behaviour"),
            ]
        )
    )
    with pytest.warns(UserWarning, match="1 row"):
        df = read_police_uk([first, second])
    assert len(df) == 4
    assert df["crime_id"].dropna().is_unique
    assert "Moved" not in set(df["location"])  # the first row of the ID is kept
    assert df["crime_id"].isna().sum() == 2  # ASB rows are never deduplicated by ID


def test_repeated_ids_fast_path_matches_pandas():
    import pyarrow as pa

    rng = np.random.default_rng(5)
    pool = np.array([_crime_id(str(i)) for i in range(4000)], dtype=object)
    ids = pool[rng.integers(0, 4000, 6000)]  # many repeats
    ids[rng.random(6000) < 0.2] = None  # ASB rows
    chunks = pa.chunked_array(
        [pa.array(ids[:2500], pa.large_string()), pa.array(ids[2500:], pa.large_string())]
    )
    expected = pd.Series(ids).duplicated() & pd.Series(ids).notna()
    got = policeuk._repeated_ids(chunks)
    assert got.sum() > 1000
    np.testing.assert_array_equal(got, expected.to_numpy())
    # IDs of unequal lengths take the general path, with the same answer.
    mixed = ids.copy()
    mixed[::7] = [None if v is None else v[:10] for v in mixed[::7]]
    expected = pd.Series(mixed).duplicated() & pd.Series(mixed).notna()
    got = policeuk._repeated_ids(pa.chunked_array([pa.array(mixed, pa.large_string())]))
    np.testing.assert_array_equal(got, expected.to_numpy())


def _many_files(root: Path, *, months: int = 4, rows: int = 30) -> Path:
    """Three forces x ``months`` months of ``rows`` rows, some Crime IDs repeated across files."""
    forces = ("kent", "metropolitan", "city-of-london")
    for m in range(1, months + 1):
        month = f"2023-{m:02d}"
        for force in forces:
            out = []
            for i in range(rows):
                ctype = "Anti-social behaviour" if i % 5 == 0 else "Burglary"
                # every 7th row repeats the ID of the same row of January's Kent file
                over = {"Crime ID": _crime_id(f"kent2023-01{i}")} if i % 7 == 3 else {}
                if ctype == "Anti-social behaviour":
                    over = {}
                out.append(_row(month, force, i, crime_type=ctype, **over))
            p = root / _member(month, force)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(_csv_text(out))
    return root


def test_threaded_reading_equals_sequential_and_is_deterministic(tmp_path: Path, monkeypatch):
    root = _many_files(tmp_path / "p")
    with pytest.warns(UserWarning, match="repeat a Crime ID"):
        threaded = read_police_uk(root)
    for workers, arrow_threads in [(2, False), (1, False), (3, True), (4, False)]:
        monkeypatch.setattr(policeuk, "_WORKERS", workers)
        monkeypatch.setattr(policeuk, "_ARROW_THREADS", arrow_threads)
        with pytest.warns(UserWarning, match="repeat a Crime ID"):
            other = read_police_uk(root)
        pd.testing.assert_frame_equal(threaded, other)
    # Rows come in month, then force order, each file's rows in file order.
    keys = list(zip(threaded["month"], threaded["source_file"].astype(str), strict=True))
    assert keys == sorted(keys)
    assert threaded["source_file"].cat.categories.tolist() == sorted(
        str(p) for p in root.rglob("*-street.csv")
    )


def test_one_file_parsed_in_blocks_by_pyarrow_threads_or_not(tmp_path: Path):
    p = tmp_path / "2024-01-kent-street.csv"
    p.write_text(_csv_text(_big_rows()))
    (f,) = policeuk._discover(p, 0)
    zips = policeuk._ZipHandles()
    threaded = policeuk._parse_street_csv(f, zips, use_threads=True)
    single = policeuk._parse_street_csv(f, zips, use_threads=False)
    assert threaded.num_rows == 12_000 and threaded["crime_id"].num_chunks > 1
    assert threaded.equals(single)


def test_repeated_ids_across_files_match_pandas(tmp_path: Path):
    root = _many_files(tmp_path / "p")
    with pytest.warns(UserWarning, match=r"row\(s\) repeat a Crime ID"):
        df = read_police_uk(root)
    # Reference: read every file with plain pandas, keep the first row of each Crime ID.
    frames = [
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted(root.rglob("*-street.csv"), key=lambda p: (p.parent.name, p.name))
    ]
    ref = pd.concat(frames, ignore_index=True)
    ids = ref["Crime ID"].replace("", np.nan)
    ref = ref[~(ids.duplicated() & ids.notna())]
    assert len(df) == len(ref) < 12 * 30
    assert df["crime_id"].fillna("").tolist() == ref["Crime ID"].tolist()
    assert df["crime_id"].isna().sum() == 12 * 6  # ASB rows: no ID, never dropped


def test_hash_collisions_never_drop_a_row(tmp_path: Path, monkeypatch):
    root = _many_files(tmp_path / "p", months=2)
    with pytest.warns(UserWarning):
        expected = read_police_uk(root)

    def colliding(ids):  # every ID hashes to the same value: all must be compared exactly
        h, rows, width = real(ids)
        return np.zeros_like(h), rows, width

    real = policeuk._id_hashes
    monkeypatch.setattr(policeuk, "_id_hashes", colliding)
    with pytest.warns(UserWarning):
        got = read_police_uk(root)
    pd.testing.assert_frame_equal(got, expected)


def test_crime_ids_of_other_shapes_are_compared_exactly(tmp_path: Path):
    a = _write(
        tmp_path,
        "a.csv",
        _csv_text([_row("2024-01", "kent", 1), _row("2024-01", "kent", 2, **{"Crime ID": "X1"})]),
    )
    b = _write(
        tmp_path,
        "b.csv",
        _csv_text(
            [
                _row("2024-01", "kent", 1),  # a repeat of a's first (64-character) ID
                _row("2024-01", "kent", 3, **{"Crime ID": "X1"}),  # a repeat of a short ID
                _row("2024-01", "kent", 4, **{"Crime ID": "X12"}),
            ]
        ),
    )
    with pytest.warns(UserWarning, match="2 row"):
        df = read_police_uk([a, b])
    assert df["crime_id"].tolist() == [_crime_id("kent2024-011"), "X1", "X12"]


def test_every_file_read_is_a_source_file_category(tree: Path):
    # Kent's February file has no Public order crime: it still names a category.
    rows = [r for r in _month_rows("2024-02", "kent") if r[9] != "Public order"]
    (tree / _member("2024-02", "kent")).write_text(_csv_text(rows))
    df = read_police_uk(tree / "2024-02", crime_types=["Public order"])
    files = [str(tree / _member("2024-02", f)) for f in ("kent", "metropolitan")]
    assert df["source_file"].astype(str).tolist() == [files[1]]
    assert df["source_file"].cat.categories.tolist() == files
    with pytest.warns(UserWarning, match="'Nope'"):
        df = read_police_uk(tree / "2024-02", crime_types=["Nope"])
    assert len(df) == 0
    assert df["source_file"].cat.categories.tolist() == files


def test_file_without_month_in_name_holds_several_months(tmp_path: Path):
    rows = [_row(m, "kent", i) for i, m in enumerate(["2024-02", "2024-01", "2024-02", "2024-03"])]
    p = _write(tmp_path, "crimes.csv", _csv_text(rows))
    df = read_police_uk(p)
    assert df["month"].dt.strftime("%Y-%m").tolist() == ["2024-02", "2024-01", "2024-02", "2024-03"]
    assert df["month"].dtype == "datetime64[ns]"
    df = read_police_uk(p, months=("2024-02", "2024-03"))
    assert df["month"].dt.strftime("%Y-%m").tolist() == ["2024-02", "2024-02", "2024-03"]


# -- validation --------------------------------------------------------------------------------
def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_bad_header_names_missing_and_unexpected(tmp_path: Path):
    header = [*C.POLICE_UK_HEADER[:-1], "Notes"]
    p = _write(tmp_path, "2024-01-kent-street.csv", _csv_text([], header=header))
    with pytest.raises(DataValidationError) as err:
        read_police_uk(p)
    msg = str(err.value)
    assert "2024-01-kent-street.csv" in msg and "line 1" in msg
    assert "'Context'" in msg and "'Notes'" in msg


def test_bad_month_format_names_file_and_line(tmp_path: Path):
    rows = [_row("2024-01", "kent", 1), _row("2024-01", "kent", 2, Month="01/01/2024")]
    p = _write(tmp_path, "crimes.csv", _csv_text(rows))
    with pytest.raises(DataValidationError, match=r"crimes\.csv, line 3: Month '01/01/2024'"):
        read_police_uk(p)


def test_month_not_matching_file_name(tmp_path: Path):
    rows = [_row("2024-01", "kent", 1), _row("2024-01", "kent", 2), _row("2024-02", "kent", 3)]
    _write(tmp_path, "2024-01/2024-01-kent-street.csv", _csv_text(rows))
    with pytest.raises(DataValidationError, match=r"street\.csv, line 4: .*2024-02.*\(2024-01\)"):
        read_police_uk(tmp_path)


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [("Latitude", "75.1", "75.1"), ("Latitude", "NaN", "nan"), ("Longitude", "-12", "-12.0")],
)
def test_coordinate_outside_uk(tmp_path: Path, column: str, value: str, shown: str):
    rows = [_row("2024-01", "kent", 1), _row("2024-01", "kent", 2, **{column: value})]
    p = _write(tmp_path, "2024-01-kent-street.csv", _csv_text(rows))
    with pytest.raises(DataValidationError, match=rf"line 3: {column} {shown} is outside the UK"):
        read_police_uk(p)


def test_errors_inside_a_zip_name_the_member_and_line(tmp_path: Path):
    rows = [_row("2024-01", "kent", 1), _row("2024-01", "kent", 2, Latitude="75.1")]
    good = _csv_text(_month_rows("2024-02", "kent"))
    archive = _zip(
        tmp_path / "d.zip",
        {_member("2024-01", "kent"): _csv_text(rows), _member("2024-02", "kent"): good},
    )
    with pytest.raises(
        DataValidationError, match=r"d\.zip!2024-01/2024-01-kent-street\.csv, line 3"
    ):
        read_police_uk(archive)


def test_one_coordinate_blank(tmp_path: Path):
    rows = [_row("2024-01", "kent", 1, Latitude="")]
    p = _write(tmp_path, "2024-01-kent-street.csv", _csv_text(rows))
    with pytest.raises(DataValidationError, match=r"line 2: Latitude is blank but Longitude"):
        read_police_uk(p)


def test_unparsable_number_and_ragged_row_give_line(tmp_path: Path):
    rows = [_row("2024-01", "kent", i) for i in range(1, 4)]
    rows[2][5] = "fifty-one"
    p = _write(tmp_path, "2024-01-kent-street.csv", _csv_text(rows))
    with pytest.raises(DataValidationError, match=r"line 4: Latitude 'fifty-one' is not a number"):
        read_police_uk(p)
    text = _csv_text([_row("2024-01", "kent", 1)]) + "a,b,c\n"
    p.write_text(text)
    with pytest.raises(DataValidationError, match=r"line 3: 3 fields where the header has 12"):
        read_police_uk(p)


def test_multiline_quoted_field_counts_physical_lines(tmp_path: Path):
    rows = [
        _row("2024-01", "kent", 1, Location="On or near\nSomewhere"),
        _row("2024-01", "kent", 2),
    ]
    rows[1][5] = "99"
    p = _write(tmp_path, "2024-01-kent-street.csv", _csv_text(rows))
    with pytest.raises(DataValidationError, match="line 4:"):
        read_police_uk(p)


def test_missing_source_and_non_street_file(tmp_path: Path):
    with pytest.raises(DataValidationError, match="no such file or folder"):
        read_police_uk(tmp_path / "nope")
    p = _write(tmp_path, "2024-01-kent-outcomes.csv", "Crime ID\n")
    with pytest.raises(DataValidationError, match="outcomes or stop-and-search"):
        read_police_uk(p)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataValidationError, match="no police.uk street-level files"):
        read_police_uk(tmp_path / "empty")


def test_blank_month_names_the_line(tmp_path: Path):
    rows = [_row("2024-01", "kent", 1), _row("2024-01", "kent", 2, Month="")]
    p = _write(tmp_path, "2024-01-kent-street.csv", _csv_text(rows))
    with pytest.raises(DataValidationError, match=r"line 3: Month None is not a month written"):
        read_police_uk(p)


def _big_rows(n: int = 12_000) -> list[list[str]]:
    """Enough rows (~3 MB) that pyarrow parses the file in several blocks."""
    return [_row("2024-01", "kent", i % 50) for i in range(n)]


def test_errors_deep_in_a_large_file_name_the_right_line(tmp_path: Path):
    p = tmp_path / "2024-01-kent-street.csv"
    rows = _big_rows()
    for i in range(0, len(rows), 10):  # blank positions (both coordinates) throughout
        rows[i][4] = rows[i][5] = ""
    p.write_text(_csv_text(rows))
    assert p.stat().st_size > 2 << 20
    with pytest.warns(UserWarning, match="repeat a Crime ID"):
        df = read_police_uk(p)
    assert len(df) == 50 and df["longitude"].isna().sum() == 5  # IDs repeat every 50 rows
    for column, value, message in [
        ("Longitude", "", r"line 10003: Longitude is blank but Latitude is not"),
        ("Month", "2024-02", r"line 10003: Month '2024-02' does not match"),
        ("Month", "Jan-24", r"line 10003: Month 'Jan-24' is not a month"),
    ]:
        bad = [list(r) for r in rows]
        bad[10_001][C.POLICE_UK_HEADER.index(column)] = value
        bad[11_001][C.POLICE_UK_HEADER.index(column)] = value
        p.write_text(_csv_text(bad))
        with pytest.raises(DataValidationError, match=message):
            read_police_uk(p)


def test_many_distinct_bad_months(tmp_path: Path):
    rows = [_row("2024-01", "kent", i) for i in range(5)]
    rows += [
        _row("2024-01", "kent", i, Month=f"{2000 + i // 12}-{i % 12 + 1:02d}") for i in range(200)
    ]
    p = _write(tmp_path, "2024-01-kent-street.csv", _csv_text(rows))
    with pytest.raises(DataValidationError, match=r"line 7: Month '2000-01' does not match"):
        read_police_uk(p)
    p = _write(tmp_path, "crimes.csv", _csv_text([*rows, _row("2024-01", "kent", 1, Month="x")]))
    with pytest.raises(DataValidationError, match=r"line 207: Month 'x' is not a month"):
        read_police_uk(p)


# -- cache -------------------------------------------------------------------------------------
def test_cache_is_written_outside_and_reused(tree: Path, tmp_path: Path, monkeypatch):
    cache = tmp_path / "cache"
    before = _snapshot(tree)
    first = read_police_uk(tree, cache_dir=cache)
    cached = sorted(cache.glob("*.parquet"))
    assert len(cached) == 6
    assert _snapshot(tree) == before

    def boom(*args, **kwargs):
        raise AssertionError("the CSV was parsed again despite a current cache")

    monkeypatch.setattr(policeuk, "_parse_street_csv", boom)
    second = read_police_uk(tree, cache_dir=cache)
    pd.testing.assert_frame_equal(first, second)

    # A changed file is re-read (its size/mtime changed), and its cache entry is new.
    p = tree / _member("2024-02", "kent")
    p.write_text(_csv_text(_month_rows("2024-02", "kent")[:2]))
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9))
    with pytest.raises(AssertionError, match="parsed again"):
        read_police_uk(tree, cache_dir=cache)
    monkeypatch.undo()
    third = read_police_uk(tree, cache_dir=cache)
    assert len(third) == len(first) - 2
    assert len(list(cache.glob("*.parquet"))) == 7


def test_cache_for_zip_members(tree: Path, tmp_path: Path, monkeypatch):
    archive = _zip(
        tmp_path / "d.zip",
        {_member(m, "kent"): (tree / _member(m, "kent")).read_text() for m in MONTHS},
    )
    first = read_police_uk(archive, cache_dir=tmp_path / "c")
    monkeypatch.setattr(policeuk, "_parse_street_csv", lambda *a, **k: 1 / 0)
    pd.testing.assert_frame_equal(first, read_police_uk(archive, cache_dir=tmp_path / "c"))


def test_cache_entries_written_with_other_parquet_options_are_reused(
    tree: Path, tmp_path: Path, monkeypatch
):
    import pyarrow.parquet as pq

    cache = tmp_path / "cache"
    first = read_police_uk(tree, cache_dir=cache)
    for path in cache.glob("*.parquet"):  # as an earlier version wrote them: pyarrow defaults
        pq.write_table(pq.read_table(path), path)
    monkeypatch.setattr(policeuk, "_parse_street_csv", lambda *a, **k: 1 / 0)
    pd.testing.assert_frame_equal(first, read_police_uk(tree, cache_dir=cache))


# -- projection --------------------------------------------------------------------------------
def test_project_points_metres_and_nan(tree: Path):
    df = pd.DataFrame({"longitude": [0.1, 0.1, np.nan], "latitude": [51.48, 51.49, np.nan]})
    before = df.copy()
    out = project_points(df)
    pd.testing.assert_frame_equal(df, before)  # input untouched
    assert list(out.columns) == ["longitude", "latitude", "x", "y"]
    # 0.01 degree of latitude is about 1,113 m on the ground (grid north is ~1.6 degrees
    # off true north here, so the step is mostly, not only, in y).
    dx, dy = out["x"].iloc[1] - out["x"].iloc[0], out["y"].iloc[1] - out["y"].iloc[0]
    assert np.hypot(dx, dy) == pytest.approx(1113, abs=5)
    assert dy > 1100
    # Erith/Belvedere lies near 549,000 E, 179,000 N on the British National Grid.
    assert 545_000 < out["x"].iloc[0] < 552_000 and 176_000 < out["y"].iloc[0] < 182_000
    assert out[["x", "y"]].iloc[2].isna().all()


def test_project_points_on_read_incidents(tree: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = project_points(read_police_uk(tree))
    assert out["x"].isna().sum() == out["longitude"].isna().sum() == 6
    with pytest.raises(DataValidationError, match="longitude"):
        project_points(pd.DataFrame({"lat": [1.0]}))


# -- edges (issue 12): header-only files, re-cased crime types, content-keyed cache ------------


def test_header_only_file_is_refused_like_a_missing_month(tree: Path):
    p = tree / _member("2024-02", "kent")
    p.write_text(_csv_text([]))
    with pytest.raises(DataValidationError) as ei:
        read_police_uk(tree)
    msg = str(ei.value)
    assert str(p) in msg and "header but no rows" in msg and "download it again" in msg


def test_crime_types_matched_ignoring_case_and_spaces_with_a_note(tree: Path):
    p = tree / _member("2024-01", "kent")
    rows = _month_rows("2024-01", "kent")
    rows.append(_row("2024-01", "kent", 9, crime_type="public  order"))
    rows.append(_row("2024-01", "kent", 10, crime_type=" PUBLIC ORDER"))
    p.write_text(_csv_text(rows))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = read_police_uk(tree, crime_types=["Public order"])
    notes = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    assert len(notes) == 1 and notes[0].startswith("2 police.uk row(s)"), notes
    assert "ignoring case and spaces" in notes[0]
    assert (df["crime_type"] == "Public order").sum() == 6 + 2


def test_types_that_are_no_police_uk_type_are_not_rewritten(tree: Path):
    p = tree / _member("2024-01", "kent")
    p.write_text(
        _csv_text(
            [
                *_month_rows("2024-01", "kent"),
                _row("2024-01", "kent", 9, crime_type="Public disorder"),
            ]
        )
    )
    df = read_police_uk(tree)
    assert "Public disorder" in set(df["crime_type"])


def test_cache_sees_an_edit_that_keeps_size_and_mtime(tree: Path, tmp_path: Path):
    cache = tmp_path / "cache"
    first = read_police_uk(tree, cache_dir=cache)
    p = tree / _member("2024-02", "kent")
    st = p.stat()
    text = p.read_text()
    edited = text.replace("Public order", "Burglary....")  # same length
    assert len(edited) == len(text) and edited != text
    p.write_text(edited)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert p.stat().st_size == st.st_size and p.stat().st_mtime_ns == st.st_mtime_ns
    second = read_police_uk(tree, cache_dir=cache)
    assert (first["crime_type"] == "Public order").sum() - 1 == (
        second["crime_type"] == "Public order"
    ).sum()


def test_cache_key_of_a_zip_member_is_its_content(tmp_path: Path, tree: Path):
    text = (tree / _member("2024-01", "kent")).read_text()
    a = _zip(tmp_path / "a.zip", {_member("2024-01", "kent"): text})
    files = policeuk._discover(a, 0)
    zips = policeuk._ZipHandles()
    try:
        import hashlib

        assert policeuk.content_sha256(files[0], zips) == hashlib.sha256(text.encode()).hexdigest()
    finally:
        zips.close()
