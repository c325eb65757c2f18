"""Intervention log reader: valid logs load; bad ones name file, line and column."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from pilot_eval.errors import DataValidationError, PilotEvalError
from pilot_eval.io.interventions import (
    COMPONENT_TYPES,
    INTERVENTION_COLUMNS,
    read_interventions,
)

HEADER = "date,type,description,longitude,latitude,count,cost"
GOOD_ROWS = [
    "2024-04-03,business_training,Ask for Angela training,0.147,51.489,1,250",
    '2024-05-10,qr_reporting,"QR poster, bus stop",0.150123,51.490456,1,30.5',
    "2024-06-01,Lighting,New lamp column,,,18,",
    "2024-06-02,walk_and_talk,Walk & Talk,0.1,51.5,,200",
]


def _write(tmp_path: Path, lines: list[str], name: str = "log.csv", **kw) -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", **kw)
    return p


def test_valid_log_loads_with_documented_columns_and_types(tmp_path):
    p = _write(tmp_path, [HEADER, *GOOD_ROWS])
    before = p.read_bytes()
    df = read_interventions(p)
    assert p.read_bytes() == before  # never modified
    assert tuple(df.columns) == INTERVENTION_COLUMNS
    assert len(df) == len(GOOD_ROWS)
    assert pd.api.types.is_datetime64_any_dtype(df["date"])
    assert df["date"].tolist() == [
        pd.Timestamp("2024-04-03"),
        pd.Timestamp("2024-05-10"),
        pd.Timestamp("2024-06-01"),
        pd.Timestamp("2024-06-02"),
    ]
    assert df["type"].tolist() == ["business_training", "qr_reporting", "lighting", "walk_and_talk"]
    assert df.loc[1, "description"] == "QR poster, bus stop"
    assert df.loc[1, "longitude"] == pytest.approx(0.150123)
    assert df.loc[1, "latitude"] == pytest.approx(51.490456)
    assert math.isnan(df.loc[2, "longitude"]) and math.isnan(df.loc[2, "latitude"])
    assert df["count"].dtype == "Int64"
    assert df.loc[2, "count"] == 18 and pd.isna(df.loc[3, "count"])
    assert df.loc[1, "cost"] == pytest.approx(30.5) and math.isnan(df.loc[2, "cost"])


def test_header_variants_bom_extra_columns_and_blank_lines(tmp_path):
    header = " Date ,TYPE,description,longitude,latitude,count,cost,notes"
    p = _write(
        tmp_path,
        [header, GOOD_ROWS[0] + ",x", "", GOOD_ROWS[1] + ",y"],
        encoding="utf-8-sig",
    )
    df = read_interventions(p)
    assert tuple(df.columns) == INTERVENTION_COLUMNS
    assert len(df) == 2


def test_header_only_gives_empty_frame(tmp_path):
    df = read_interventions(_write(tmp_path, [HEADER]))
    assert tuple(df.columns) == INTERVENTION_COLUMNS
    assert len(df) == 0


def test_every_config_component_type_is_allowed(tmp_path):
    rows = [f"2024-04-01,{t},,,,1,1" for t in COMPONENT_TYPES]
    df = read_interventions(_write(tmp_path, [HEADER, *rows]))
    assert df["type"].tolist() == list(COMPONENT_TYPES)


def _assert_names(err: pytest.ExceptionInfo, path: Path, line: int, column: str) -> None:
    msg = str(err.value)
    assert path.name in msg
    assert re.search(rf"line {line}\b[^\n]*'{column}'", msg), msg


@pytest.mark.parametrize(
    ("bad_row", "column"),
    [
        ("2024-04-01,streetlights,x,0.1,51.5,1,10", "type"),
        ("2024-13-01,lighting,x,0.1,51.5,1,10", "date"),
        ("01/04/2024,lighting,x,0.1,51.5,1,10", "date"),
        ("2024-02-30,lighting,x,0.1,51.5,1,10", "date"),
        (",lighting,x,0.1,51.5,1,10", "date"),
        ("2024-04-01,lighting,x,0.1,51.5,1,-5", "cost"),
        ("2024-04-01,lighting,x,0.1,51.5,1,lots", "cost"),
        ("2024-04-01,lighting,x,0.1,51.5,-1,10", "count"),
        ("2024-04-01,lighting,x,0.1,51.5,2.5,10", "count"),
        ("2024-04-01,lighting,x,0.1,95,1,10", "latitude"),
        ("2024-04-01,lighting,x,549000,51.5,1,10", "longitude"),
        ("2024-04-01,lighting,x,0.1,,1,10", "latitude"),
    ],
)
def test_bad_value_names_file_line_and_column(tmp_path, bad_row, column):
    # the bad row is the third data row: line 4 (the header is line 1)
    p = _write(tmp_path, [HEADER, GOOD_ROWS[0], GOOD_ROWS[1], bad_row], name="my-log.csv")
    with pytest.raises(DataValidationError) as err:
        read_interventions(p)
    _assert_names(err, p, 4, column)
    assert "line 2" not in str(err.value) and "line 3" not in str(err.value)


def test_line_numbers_count_quoted_line_breaks_and_blank_lines(tmp_path):
    lines = [
        HEADER,  # 1
        '2024-04-01,awareness,"Posters:',  # 2
        'two lines",0.1,51.5,5,125',  # 3
        "",  # 4
        "2024-04-02,lighting,x,0.1,51.5,1,-1",  # 5
    ]
    p = _write(tmp_path, lines)
    with pytest.raises(DataValidationError) as err:
        read_interventions(p)
    _assert_names(err, p, 5, "cost")


def test_all_problems_are_listed(tmp_path):
    p = _write(
        tmp_path,
        [HEADER, "2024-04-01,nope,x,0.1,51.5,1,10", "2024-04-01,lighting,x,0.1,51.5,1,-3"],
    )
    with pytest.raises(DataValidationError) as err:
        read_interventions(p)
    _assert_names(err, p, 2, "type")
    _assert_names(err, p, 3, "cost")


def test_missing_column_named(tmp_path):
    p = _write(tmp_path, ["date,type,description,longitude,latitude,count", GOOD_ROWS[0][:-4]])
    with pytest.raises(DataValidationError, match=r"line 1\b.*cost") as err:
        read_interventions(p)
    assert p.name in str(err.value)


def test_ragged_row_named(tmp_path):
    p = _write(tmp_path, [HEADER, "2024-04-01,lighting,a, b,0.1,51.5,1,10"])
    with pytest.raises(DataValidationError, match=r"line 2\b.*fields") as err:
        read_interventions(p)
    assert p.name in str(err.value)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(PilotEvalError, match="no-such.csv"):
        read_interventions(tmp_path / "no-such.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataValidationError, match="empty.csv.*empty"):
        read_interventions(empty)


# -- edges (issue 12): numbers range-checked at the boundary, encodings named ------------------
@pytest.mark.parametrize(
    ("column", "value", "said"),
    [
        ("count", "100000000000000000000", "more than 1,000,000,000"),
        ("cost", "1e300", "more than 1,000,000,000"),
        ("cost", "inf", "is not a number"),
        ("cost", "-5", "negative"),
    ],
)
def test_huge_or_infinite_numbers_named_by_line_and_column(tmp_path, column, value, said):
    p = tmp_path / "log.csv"
    row = {"count": "1", "cost": "10", column: value}
    p.write_text(
        "date,type,description,longitude,latitude,count,cost\n"
        f"2024-04-01,lighting,x,0.1,51.5,{row['count']},{row['cost']}\n",
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError) as ei:
        read_interventions(p)
    msg = str(ei.value)
    assert str(p) in msg and f"line 2, column '{column}'" in msg and said in msg


def test_latin1_log_named_with_its_line(tmp_path):
    p = tmp_path / "log.csv"
    p.write_bytes(
        b"date,type,description,longitude,latitude,count,cost\n"
        b"2024-04-01,lighting,caf\xe9 lights,0.1,51.5,1,10\n"
    )
    with pytest.raises(DataValidationError, match=r"line 2: the intervention log is not UTF-8"):
        read_interventions(p)
