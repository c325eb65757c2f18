"""StreetSafe / QR-code reports: schema validation, and free text never kept."""

from __future__ import annotations

import pandas as pd
import pytest

from pilot_eval.errors import DataValidationError
from pilot_eval.io.streetsafe import read_streetsafe

SECRET = "Jane from number 12 followed me"


def reports(tmp_path, text: str):
    p = tmp_path / "streetsafe.csv"
    p.write_text(text)
    return p


GOOD = (
    "Date,Latitude,Longitude,Category,Description,Comments,Reporter email\n"
    f'2024-05-17,51.4905,0.1480,Poor lighting,"{SECRET}\nby the station",call me,x@y.z\n'
    "17/06/2024 21:30,51.4890,0.1502,Felt followed,,,\n"
    "2024-07-01T22:05:00,51.4871,0.1455,Other,,,\n"
)


def test_reads_schema_columns_only(tmp_path):
    r = read_streetsafe(reports(tmp_path, GOOD))
    assert list(r.columns) == ["date", "month", "latitude", "longitude", "category"]
    assert r.date.tolist() == [
        pd.Timestamp("2024-05-17"),
        pd.Timestamp("2024-06-17 21:30"),
        pd.Timestamp("2024-07-01 22:05"),
    ]
    assert r.month.tolist() == [pd.Timestamp(f"2024-0{m}-01") for m in (5, 6, 7)]
    assert r.category.tolist() == ["Poor lighting", "Felt followed", "Other"]


def test_free_text_is_dropped_on_load(tmp_path):
    """Privacy: description, comments and any other column never survive loading."""
    r = read_streetsafe(reports(tmp_path, GOOD))
    assert not {"description", "comments", "reporter_email"} & set(r.columns)
    flat = r.astype(str).to_numpy().ravel().tolist()
    assert not any(SECRET[:10] in v or "x@y.z" in v or "call me" in v for v in flat)


def test_aliases(tmp_path):
    r = read_streetsafe(reports(tmp_path, "timestamp,lat,lng,category\n2024-05-01,51.5,0.1,X\n"))
    assert r.latitude.tolist() == [51.5] and r.longitude.tolist() == [0.1]


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("yesterday,51.49,0.14,X", r"line 4, column 'date': 'yesterday' is not a date"),
        ("2024-05-01,,0.14,X", r"line 4, column 'latitude': '' is not a number"),
        ("2024-05-01,0.14,51.49,X", r"line 4.*outside the UK.*look swapped"),
        ("2024-05-01,40.7,-74.0,X", r"line 4.*outside the UK.*Check the coordinates"),
        ("2024-05-01,51.49,0.14,  ", r"line 4, column 'category': empty"),
    ],
)
def test_errors_name_line_and_column(tmp_path, row, match):
    # line 2 holds a quoted description over two lines, so the bad row is on line 4
    text = f'date,latitude,longitude,category,description\n2024-05-01,51.49,0.14,X,"a\nb"\n{row},\n'
    with pytest.raises(DataValidationError, match=match) as ei:
        read_streetsafe(reports(tmp_path, text))
    assert "a\nb" not in str(ei.value)


def test_missing_columns(tmp_path):
    with pytest.raises(DataValidationError, match="missing category"):
        read_streetsafe(reports(tmp_path, "date,latitude,longitude,description\n"))


def test_two_columns_for_one_field(tmp_path):
    with pytest.raises(DataValidationError, match="all look like 'longitude'"):
        read_streetsafe(reports(tmp_path, "date,lat,lon,lng,category\n2024-05-01,51,0,0,X\n"))


def test_utc_offsets_become_london_time(tmp_path):
    text = "date,latitude,longitude,category\n2024-07-01T21:05:00Z,51.49,0.14,X\n2024-01-10 20:00,51.49,0.14,X\n"
    r = read_streetsafe(reports(tmp_path, text))
    assert r.date.tolist() == [pd.Timestamp("2024-07-01 22:05"), pd.Timestamp("2024-01-10 20:00")]
