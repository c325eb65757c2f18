"""Population denominators and rates per 1,000 residents."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pilot_eval.errors import DataValidationError
from pilot_eval.io.population import line_of_record, rates_per_1000, read_population
from shared_data import need_shared

ONS_HEADER = (
    "LSOA11CD,LSOA11NM,MSOA11CD,MSOA11NM,LAD11CD,LAD11NM,Persons_All-Ages,Persons_0-15,"
    "Males_All-Ages,Females_All-Ages"
)


def ons_file(tmp_path, rows: list[str]):
    p = tmp_path / "pop.csv"
    p.write_text("\n".join([ONS_HEADER, *rows]) + "\n")
    return p


ROWS = [
    "E01000601,Bexley 001A,E02000065,Bexley 001,E09000004,Bexley,1800,300,880,920",
    'E01000602,Bexley 001B,E02000065,Bexley 001,E09000004,Bexley,"2,150",400,1000,1150',
    "E01000603,Bexley 001C,E02000065,Bexley 001,E09000004,Bexley,0,0,0,0",
]


def test_ons_layout_detected(tmp_path):
    pop = read_population(ons_file(tmp_path, ROWS))
    assert list(pop.columns) == ["area", "population"]
    assert list(pop.area) == ["E01000601", "E01000602", "E01000603"]  # LSOA, not MSOA/LAD
    assert list(pop.population) == [1800.0, 2150.0, 0.0]
    assert pop.population.dtype == np.float64


def test_explicit_columns(tmp_path):
    pop = read_population(
        ons_file(tmp_path, ROWS), code_column="lsoa11cd", value_column="Females_All-Ages"
    )
    assert list(pop.population) == [920.0, 1150.0, 0.0]
    with pytest.raises(DataValidationError, match="no column 'persons'"):
        read_population(ons_file(tmp_path, ROWS), value_column="persons")


def test_simple_layout(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("area,population\nE05011218,12000\nE05011225,15000.5\n")
    assert read_population(p).population.tolist() == [12000.0, 15000.5]


@pytest.mark.parametrize(("cell", "shown"), [("-5", "'-5'"), ("many", "'many'"), ("", "empty")])
def test_bad_value_names_line_and_column(tmp_path, cell, shown):
    rows = [*ROWS]
    rows[1] = f"E01000602,Bexley 001B,E02000065,Bexley 001,E09000004,Bexley,{cell},400,1000,1150"
    with pytest.raises(DataValidationError) as ei:
        read_population(ons_file(tmp_path, rows))
    msg = str(ei.value)
    assert "line 3, column 'Persons_All-Ages'" in msg and shown in msg


def test_duplicate_and_blank_codes(tmp_path):
    with pytest.raises(DataValidationError, match=r"'E01000601'.*lines 2, 5"):
        read_population(ons_file(tmp_path, [*ROWS, ROWS[0]]))
    rows = [*ROWS]
    rows[2] = "," + rows[2].split(",", 1)[1]
    with pytest.raises(DataValidationError, match=r"line 4, column 'LSOA11CD' is empty"):
        read_population(ons_file(tmp_path, rows))


def test_undetectable_columns(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("zone,people\nA,1\n")
    with pytest.raises(DataValidationError, match="cannot tell which column holds the area code"):
        read_population(p)


def test_line_of_record_counts_multiline_cells_and_blank_lines(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text('a,b\n1,"two\nlines"\n\n3,x\n')
    assert [line_of_record(p, i) for i in range(2)] == [2, 5]


def test_rates_per_1000(tmp_path):
    pop = read_population(ons_file(tmp_path, ROWS))
    counts = pd.DataFrame(
        {
            "area": ["E01000601", "E01000602", "E01000603"],
            "month": pd.Timestamp("2024-04-01"),
            "count": [9, 43, 1],
        }
    )
    before = counts.copy()
    with pytest.warns(UserWarning, match="E01000603 have a population of 0"):
        out = rates_per_1000(counts, pop)
    pd.testing.assert_frame_equal(counts, before)  # input untouched
    assert out.rate_per_1000.iloc[0] == pytest.approx(5.0)
    assert out.rate_per_1000.iloc[1] == pytest.approx(20.0)
    assert np.isnan(out.rate_per_1000.iloc[2])


def test_rates_missing_population(tmp_path):
    pop = read_population(ons_file(tmp_path, ROWS))
    counts = pd.DataFrame({"area": ["E01000601", "E01035000"], "count": [1, 2]})
    with pytest.raises(DataValidationError, match=r"E01035000.*code vintage"):
        rates_per_1000(counts, pop)
    with pytest.warns(UserWarning, match="E01035000"):
        out = rates_per_1000(counts, pop, on_missing="nan")
    assert np.isnan(out.rate_per_1000.iloc[1])


@pytest.mark.shared
def test_real_ons_mid2020_lsoa_population():
    shared = need_shared("data/population/lsoa11_mid2020.csv")
    pop = read_population(shared / "data/population/lsoa11_mid2020.csv")
    assert len(pop) == 4835 and pop.area.is_unique
    assert pop.area.str.match(r"^E01\d{6}$").all()
    assert (pop.population > 0).all()
    assert 8.5e6 < pop.population.sum() < 9.5e6  # London, mid-2020


def test_huge_population_is_refused_with_line_and_column(tmp_path):
    from pilot_eval.errors import DataValidationError
    from pilot_eval.io.population import read_population

    p = tmp_path / "pop.csv"
    p.write_text("area,population\nE01,1200\nE02,1e20\n")
    with pytest.raises(DataValidationError, match=r"line 3, column 'population' has '1e20'"):
        read_population(p)
