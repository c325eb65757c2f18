"""MPS London Datastore tables: hand-made fixtures in the real layouts, plus ../shared data."""

from __future__ import annotations

import json
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilot_eval.config import load_config
from pilot_eval.errors import ConfigError, DataValidationError
from pilot_eval.io.mps import (
    MPS_FORCE_AREA,
    VAWG_ALL,
    load_area_counts,
    match_ward_names,
    normalise_ward_name,
    read_mps_vawg,
    read_mps_wide,
    ward_lookup_from_boundaries,
)
from shared_data import need_shared

ROOT = Path(__file__).resolve().parents[2]
VIOL, INJ, NOINJ = "VIOLENCE AGAINST THE PERSON", "VIOLENCE WITH INJURY", "VIOLENCE WITHOUT INJURY"
ROB, PERS = "ROBBERY", "ROBBERY OF PERSONAL PROPERTY"


# --------------------------------------------------------------------------------------
# fixtures: ward / LSOA wide tables (layout of recorded-crime-ward*.parquet)
# --------------------------------------------------------------------------------------
def ward_current() -> pd.DataFrame:
    rows = [
        # majortext, minortext, wardname, wardcode, borough, 202402, 202403, 202404
        (VIOL, INJ, "Belvedere", "E05011218", "Bexley", 5, 7, 6),
        (VIOL, NOINJ, "Belvedere", "E05011218", "Bexley", 9, 8, 10),
        (ROB, PERS, "Belvedere", "E05011218", "Bexley", 1, 0, 2),
        (VIOL, INJ, "Erith", "E05011225", "Bexley", 4, 3, 5),
        (VIOL, NOINJ, "Erith", "E05011225", "Bexley", 6, 6, 7),
        (ROB, PERS, "Erith", "E05011225", "Bexley", 0, 1, 0),
    ]
    return pd.DataFrame(
        rows,
        columns=[
            "majortext",
            "minortext",
            "wardname",
            "wardcode",
            "lookup_boroughname",
            "202402",
            "202403",
            "202404",
        ],
    )


def ward_historical() -> pd.DataFrame:
    cur = ward_current()
    hist = cur[["wardname", "wardcode", "majortext", "minortext", "lookup_boroughname"]].copy()
    hist["202312"] = [3, 8, 0, 2, 5, 1]
    hist["202401"] = [4, 9, 1, 3, 6, 0]
    hist["202402"] = cur["202402"].to_numpy()  # the shared month agrees
    return hist


def write(df: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return path


@pytest.fixture(params=["csv", "parquet"])
def ext(request) -> str:
    return request.param


@contextmanager
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------------------
# read_mps_wide
# --------------------------------------------------------------------------------------
def test_wide_ward_table_to_long_counts(tmp_path, ext):
    p = write(ward_current(), tmp_path / f"ward.{ext}")
    out = read_mps_wide(p, level="ward")
    assert list(out.columns) == ["area", "month", "category", "count", "area_name"]
    assert len(out) == 6 * 3
    assert out["count"].dtype == np.int64
    assert out["month"].dtype == "datetime64[ns]"
    assert set(out["month"]) == {pd.Timestamp(f"2024-{m:02d}-01") for m in (2, 3, 4)}
    row = out[(out.area == "E05011218") & (out.month == "2024-03-01")]
    assert dict(zip(row.category, row["count"], strict=True)) == {
        f"{VIOL} / {INJ}": 7,
        f"{VIOL} / {NOINJ}": 8,
        f"{ROB} / {PERS}": 0,
    }
    assert set(out.area_name) == {"Belvedere", "Erith"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (VIOL, {f"{VIOL} / {INJ}", f"{VIOL} / {NOINJ}"}),  # major: every minor under it
        ("violence with injury", {f"{VIOL} / {INJ}"}),  # minor, any case
        (f"robbery  /  {PERS.lower()}", {f"{ROB} / {PERS}"}),  # combined, spaces ignored
    ],
)
def test_categories_select_by_major_minor_or_combined(tmp_path, selector, expected):
    p = write(ward_current(), tmp_path / "ward.csv")
    out = read_mps_wide(p, level="ward", categories=[selector])
    assert set(out.category) == expected


def test_unknown_category_lists_closest(tmp_path):
    p = write(ward_current(), tmp_path / "ward.csv")
    with pytest.raises(DataValidationError) as ei:
        read_mps_wide(p, level="ward", categories=["VIOLENCE WITH INJURIES"])
    msg = str(ei.value)
    assert str(p) in msg and "'VIOLENCE WITH INJURIES'" in msg
    assert "(closest: 'VIOLENCE WITH INJURY', " in msg  # closest first


def test_current_and_historical_combined_when_overlap_agrees(tmp_path, ext):
    cur = write(ward_current(), tmp_path / f"ward.{ext}")
    hist = write(ward_historical(), tmp_path / f"ward-historical.{ext}")
    with no_warnings():
        out = read_mps_wide(cur, level="ward", historical=hist)
    months = sorted(out.month.unique())
    assert [f"{m:%Y-%m}" for m in months] == ["2023-12", "2024-01", "2024-02", "2024-03", "2024-04"]
    assert not out.duplicated(["area", "category", "month"]).any()
    assert len(out) == 6 * 5
    got = out.set_index(["area", "category", "month"])["count"]
    assert got[("E05011218", f"{VIOL} / {INJ}", pd.Timestamp("2023-12-01"))] == 3
    assert got[("E05011218", f"{VIOL} / {INJ}", pd.Timestamp("2024-02-01"))] == 5


def test_overlap_disagreement_warns_and_keeps_current(tmp_path):
    hist = ward_historical()
    hist.loc[1, "202402"] = 11  # Belvedere, violence without injury: current says 9
    cur_p = write(ward_current(), tmp_path / "ward.csv")
    hist_p = write(hist, tmp_path / "hist.csv")
    with pytest.warns(UserWarning) as rec:
        out = read_mps_wide(cur_p, level="ward", historical=hist_p)
    msg = str(rec[0].message)
    assert "E05011218" in msg and f"{VIOL} / {NOINJ}" in msg and "2024-02" in msg
    assert "current 9, historical 11" in msg and "Keeping the current" in msg
    cell = out[(out.area == "E05011218") & (out.category == f"{VIOL} / {NOINJ}")]
    assert cell.set_index("month").loc["2024-02-01", "count"] == 9


def test_incomplete_current_overlap_month_keeps_historical(tmp_path):
    cur = ward_current()
    cur["202402"] = 0  # as in the real 2026-04 release: the first month is a stub
    cur.loc[0, "202402"] = 1
    cur_p, hist_p = (
        write(cur, tmp_path / "c.parquet"),
        write(ward_historical(), tmp_path / "h.parquet"),
    )
    with pytest.warns(UserWarning, match="looks incomplete.*Keeping the historical"):
        auto = read_mps_wide(cur_p, level="ward", historical=hist_p)
    feb = auto[auto.month == "2024-02-01"]["count"].sum()
    assert feb == ward_historical()["202402"].sum()
    with pytest.warns(UserWarning, match="Keeping the current"):
        forced = read_mps_wide(cur_p, level="ward", historical=hist_p, overlap="current")
    assert forced[forced.month == "2024-02-01"]["count"].sum() == 1


def test_months_filter_and_coverage_error(tmp_path):
    p = write(ward_current(), tmp_path / "ward.csv")
    out = read_mps_wide(p, level="ward", months=("2024-03", "2024-04"))
    assert sorted(f"{m:%Y-%m}" for m in out.month.unique()) == ["2024-03", "2024-04"]
    with pytest.raises(DataValidationError, match=r"2023-12 to 2024-01.*crimes_historical"):
        read_mps_wide(p, level="ward", months=("2023-12", "2024-03"))


def test_missing_columns_named_with_expected_layout(tmp_path):
    p = write(ward_current().drop(columns=["minortext"]), tmp_path / "ward.csv")
    with pytest.raises(DataValidationError) as ei:
        read_mps_wide(p, level="ward")
    msg = str(ei.value)
    assert str(p) in msg and "minortext" in msg and "majortext,minortext,wardname,wardcode" in msg


def test_lsoa_level_file_with_datastore_style_headers(tmp_path):
    df = pd.DataFrame(
        {
            "LSOA Code": ["E01000001", "E01000002"],
            "LSOA Name": ["Bexley 001A", "Bexley 001B"],
            "Borough": ["Bexley", "Bexley"],
            "Major Category": [VIOL, VIOL],
            "Minor Category": [INJ, INJ],
            "202401": [1, 2],
        }
    )
    out = read_mps_wide(write(df, tmp_path / "lsoa.csv"), level="lsoa")
    assert list(out.area) == ["E01000001", "E01000002"] and list(out["count"]) == [1, 2]
    assert list(out.area_name) == ["Bexley 001A", "Bexley 001B"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-1, "-1"),
        (2.5, "2.5"),
        ("lots", "'lots'"),
        ("", "an empty cell"),
        ("100000000000000000000", "100000000000000000000"),  # would overflow int64
        ("inf", "inf"),
    ],
)
def test_bad_count_names_line_and_column(tmp_path, value, shown):
    df = ward_current().astype({"202403": object})
    df.loc[3, "202403"] = value
    p = write(df, tmp_path / "ward.csv")
    with pytest.raises(DataValidationError) as ei:
        read_mps_wide(p, level="ward")
    msg = str(ei.value)
    assert "line 5, column '202403'" in msg and shown in msg and "whole number" in msg


def test_bad_count_in_parquet_names_row(tmp_path):
    df = ward_current()
    df.loc[2, "202404"] = -3
    with pytest.raises(DataValidationError, match=r"row 3, column '202404' has -3"):
        read_mps_wide(write(df, tmp_path / "w.parquet"), level="ward")


def test_bad_month_column_and_file_type(tmp_path):
    df = ward_current().rename(columns={"202404": "202413"})
    with pytest.raises(DataValidationError, match="'202413'.*month 13 does not exist"):
        read_mps_wide(write(df, tmp_path / "w.csv"), level="ward")
    with pytest.raises(DataValidationError, match="unsupported file type"):
        read_mps_wide(tmp_path / "w.xlsx", level="ward")
    with pytest.raises(DataValidationError, match="no such file"):
        read_mps_wide(tmp_path / "nope.csv", level="ward")


def test_repeated_rows_are_added(tmp_path):
    df = ward_current()
    extra = df.iloc[[0]].assign(lookup_boroughname="Aviation Security (SO18)")
    out = read_mps_wide(write(pd.concat([df, extra]), tmp_path / "w.csv"), level="ward")
    cell = out[(out.area == "E05011218") & (out.category == f"{VIOL} / {INJ}")]
    assert list(cell["count"]) == [10, 14, 12]


def test_input_file_not_modified(tmp_path):
    p = write(ward_current(), tmp_path / "w.csv")
    before = p.read_bytes()
    read_mps_wide(p, level="ward", categories=[VIOL], months=("2024-03", "2024-03"))
    assert p.read_bytes() == before


# --------------------------------------------------------------------------------------
# VAWG table (layout of vawg-offences.parquet)
# --------------------------------------------------------------------------------------
def vawg_table() -> pd.DataFrame:
    loc = "Offence count location"
    cls = "Offence count classification"
    t = pd.Timestamp
    rows = [
        # bcu, borough, ward, recorded, committed, count, sheet, group, offence
        ("South East", "Bexley", "Belvedere", t("2024-03-01"), t("2024-03-01"), 4, loc, None, None),
        ("South East", "Bexley", "Belvedere", t("2024-03-01"), t("2023-11-01"), 2, loc, None, None),
        ("South East", "Bexley", "Belvedere", t("2024-04-01"), t("2024-04-01"), 3, loc, None, None),
        ("South East", "Bexley", "St. Mary's & St. James", t("2024-03-01"), t("2024-02-01"), 1, loc, None, None),
        ("South East", "Bexley", "St Mary's & St James", t("2024-04-01"), t("2024-04-01"), 2, loc, None, None),
        ("South East", "Bexley", "Erith", t("2024-04-01"), t("1900-01-01"), 5, loc, None, None),
        ("South East", "Bexley", "Erith", t("2023-12-01"), t("2023-12-01"), 1, loc, None, None),
        ("South East", "Bexley", None, t("2024-04-01"), t("2024-04-01"), 7, loc, None, None),
        ("South East", "Greenwich", "Abbey Wood", t("2024-03-01"), t("2024-03-01"), 9, loc, None, None),
        ("South East", "Greenwich", "Woolwich Common", t("2024-03-01"), t("2024-03-01"), 6, loc, None, None),
        (None, None, None, t("2024-03-01"), t("2024-03-01"), 30, cls, "Rape", "Rape of a Female aged 16 and over"),
        (None, None, None, t("2024-03-01"), t("2024-03-01"), 20, cls, "Violence with Injury", "Actual Bodily harm and other Injury"),
        (None, None, None, t("2024-04-01"), t("2024-03-01"), 10, cls, "Violence with Injury", "Actual Bodily harm and other Injury"),
    ]  # fmt: skip
    df = pd.DataFrame(
        rows,
        columns=[
            "bcu_location",
            "borough_name",
            "ward_name_clean_2",
            "recorded_date_months",
            "date_committed_from_date_months",
            "count",
            "sheet",
            "crimsec_group",
            "vawg_offence",
        ],
    )
    df.insert(8, "crimseccodeexpansion", df["crimsec_group"])
    df.insert(9, "crimsec_offences", df["vawg_offence"])
    return df


def lookup() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area": ["E05011218", "E05011225", "E05011229", "E05011233"],
            "name": ["Belvedere", "Erith", "St Mary's & St James", "West Heath"],
        }
    )


@pytest.fixture
def vawg_path(tmp_path, ext) -> Path:
    return write(vawg_table(), tmp_path / f"vawg.{ext}")


def test_normalise_ward_name():
    assert normalise_ward_name("St. Mary's & St. James") == "st marys and st james"
    assert normalise_ward_name("  ST MARY’S AND ST JAMES ") == "st marys and st james"
    assert normalise_ward_name("Slade Green & Northend") == normalise_ward_name(
        "Slade Green and Northend"
    )


def test_vawg_location_sheet_mapped_to_ward_codes(vawg_path):
    with pytest.warns(UserWarning) as rec:
        out = read_mps_vawg(vawg_path, ward_lookup=lookup())
    messages = " | ".join(str(r.message) for r in rec)
    assert "7 VAWG-flagged offence(s) in Bexley have no ward" in messages
    assert "E05011233 (West Heath)" in messages  # in the lookup, never in the table
    assert set(out.area) == {"E05011218", "E05011225", "E05011229"}  # Greenwich left out
    assert set(out.category) == {VAWG_ALL}
    got = out.set_index(["area", "month"])["count"]
    assert got[("E05011218", pd.Timestamp("2024-03-01"))] == 6  # summed over month committed
    assert got[("E05011229", pd.Timestamp("2024-03-01"))] == 1  # "St. Mary's & St. James"
    assert got[("E05011229", pd.Timestamp("2024-04-01"))] == 2
    assert set(out.area_name) == {"Belvedere", "Erith", "St Mary's & St James"}


def test_vawg_unmatched_ward_names_listed_with_close_matches(vawg_path):
    lk = lookup().replace({"Erith": "Erith Town"})
    with pytest.raises(DataValidationError) as ei, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read_mps_vawg(vawg_path, ward_lookup=lk)
    msg = str(ei.value)
    assert "'Erith' (closest: 'Erith Town')" in msg and str(vawg_path) in msg


def test_vawg_lookup_matching_no_borough_is_an_error(vawg_path):
    lk = pd.DataFrame({"area": ["X1"], "name": ["Nowhere"]})
    with pytest.raises(DataValidationError, match="none of the ward lookup's names"):
        read_mps_vawg(vawg_path, ward_lookup=lk)


def test_vawg_without_lookup_uses_borough_and_name(vawg_path):
    with pytest.warns(UserWarning, match="no ward"):
        out = read_mps_vawg(vawg_path)
    assert "Greenwich: Abbey Wood" in set(out.area) and "Bexley: Belvedere" in set(out.area)


@pytest.mark.parametrize(
    "sheet", ["both", ["Offence count location", "Offence count classification"], None]
)
def test_vawg_refuses_both_sheets(vawg_path, sheet):
    with pytest.raises(DataValidationError, match="count the same offences twice"):
        read_mps_vawg(vawg_path, sheet=sheet)


def test_vawg_unknown_sheet(vawg_path):
    with pytest.raises(DataValidationError, match="no sheet 'Offence count by age'"):
        read_mps_vawg(vawg_path, sheet="Offence count by age")


def test_vawg_classification_sheet_by_offence_group(vawg_path):
    out = read_mps_vawg(vawg_path, sheet="classification", categories=["violence with injury"])
    assert set(out.area) == {MPS_FORCE_AREA}
    assert set(out.category) == {"Violence with Injury / Actual Bodily harm and other Injury"}
    assert list(out["count"]) == [20, 10]


def test_vawg_location_sheet_has_no_offence_groups(vawg_path):
    with pytest.raises(DataValidationError) as ei, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        read_mps_vawg(vawg_path, categories=["Violence with Injury"], ward_lookup=lookup())
    msg = str(ei.value)
    assert "no offence breakdown" in msg and VAWG_ALL in msg


def test_vawg_bad_count_and_bad_month(tmp_path):
    df = vawg_table()
    df.loc[4, "count"] = -2
    with pytest.raises(DataValidationError, match=r"row 5, column 'count' has -2"):
        read_mps_vawg(write(df, tmp_path / "v.parquet"))
    df = vawg_table().astype({"recorded_date_months": object})
    df.loc[1, "recorded_date_months"] = "March"
    with pytest.raises(DataValidationError, match=r"line 3, column 'recorded_date_months'"):
        read_mps_vawg(write(df, tmp_path / "v.csv"))


def test_vawg_missing_columns(tmp_path):
    p = write(vawg_table().drop(columns=["sheet"]), tmp_path / "v.csv")
    with pytest.raises(DataValidationError, match="not the MPS VAWG offences table.*sheet"):
        read_mps_vawg(p)


def test_match_ward_names_direct():
    assert match_ward_names(["Belvedere", "ERITH"], lookup()) == {
        "Belvedere": "E05011218",
        "ERITH": "E05011225",
    }


# --------------------------------------------------------------------------------------
# load_area_counts
# --------------------------------------------------------------------------------------
#: The evaluation window of these tests: 3 months before a 2024-03 start, 2 from it.
WINDOW = pd.date_range("2023-12-01", "2024-04-01", freq="MS")


def _geojson(path: Path) -> Path:
    feats = []
    for i, (code, name) in enumerate(lookup().itertuples(index=False)):
        x = 0.1 + 0.01 * i
        ring = [[x, 51.4], [x + 0.01, 51.4], [x + 0.01, 51.41], [x, 51.41], [x, 51.4]]
        feats.append(
            {
                "type": "Feature",
                "properties": {"wd19cd": code, "wd19nm": name},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_load_area_counts_ward_relabels_to_config_categories(tmp_path):
    write(ward_current(), tmp_path / "ward.csv")
    write(ward_historical(), tmp_path / "hist.csv")
    with no_warnings():
        counts = load_area_counts(
            "mps_ward",
            tmp_path / "ward.csv",
            historical=tmp_path / "hist.csv",
            outcomes={
                "Violence": ["Violence against the person"],
                "Robbery": [f"{ROB} / {PERS}"],
            },
            months=WINDOW,
            ward_lookup=lookup().iloc[:2],
        )
    assert set(counts.category) == {"Violence against the person", f"{ROB} / {PERS}"}
    assert sorted(counts.month.unique()) == list(WINDOW)
    v = counts[counts.category == "Violence against the person"].set_index(["area", "month"])
    assert v.loc[("E05011218", pd.Timestamp("2023-12-01")), "count"] == 3 + 8
    assert v.loc[("E05011225", pd.Timestamp("2024-04-01")), "count"] == 5 + 7
    assert not counts.duplicated(["area", "month", "category"]).any()


def test_load_area_counts_takes_months_as_a_sequence(tmp_path):
    write(ward_current(), tmp_path / "ward.csv")
    write(ward_historical(), tmp_path / "hist.csv")
    kwargs = {"historical": tmp_path / "hist.csv", "outcomes": {"V": [VIOL]}}
    from_index = load_area_counts("mps_ward", tmp_path / "ward.csv", months=WINDOW, **kwargs)
    from_list = load_area_counts(
        "mps_ward", str(tmp_path / "ward.csv"), months=list(WINDOW), **kwargs
    )
    pd.testing.assert_frame_equal(from_index, from_list)


def test_load_area_counts_overlapping_categories_in_one_outcome(tmp_path):
    write(ward_current(), tmp_path / "ward.csv")
    write(ward_historical(), tmp_path / "hist.csv")
    with pytest.raises(ConfigError, match="overlap.*counted twice"):
        load_area_counts(
            "mps_ward",
            tmp_path / "ward.csv",
            historical=tmp_path / "hist.csv",
            outcomes={"Violence": [VIOL, INJ]},
            months=WINDOW,
        )


def test_load_area_counts_unknown_category(tmp_path):
    write(ward_current(), tmp_path / "ward.csv")
    write(ward_historical(), tmp_path / "hist.csv")
    with pytest.raises(DataValidationError, match=r"'Violent crime' \(closest: "):
        load_area_counts(
            "mps_ward",
            tmp_path / "ward.csv",
            historical=tmp_path / "hist.csv",
            outcomes={"V": ["Violent crime"]},
            months=WINDOW,
        )


def test_load_area_counts_needs_historical_for_early_months(tmp_path):
    write(ward_current(), tmp_path / "ward.csv")
    with pytest.raises(DataValidationError, match="data.crimes_historical"):
        load_area_counts("mps_ward", tmp_path / "ward.csv", outcomes={"V": [VIOL]}, months=WINDOW)


def test_load_area_counts_vawg_reads_lookup_from_boundaries(tmp_path):
    write(vawg_table(), tmp_path / "vawg.parquet")
    _geojson(tmp_path / "wards.geojson")
    with pytest.warns(UserWarning):
        counts = load_area_counts(
            "mps_vawg",
            tmp_path / "vawg.parquet",
            outcomes={"VAWG": [VAWG_ALL]},
            months=WINDOW,
            boundaries=tmp_path / "wards.geojson",
            code_column="wd19cd",
            name_column="wd19nm",
        )
    assert set(counts.category) == {VAWG_ALL}
    assert set(counts.area) == {"E05011218", "E05011225", "E05011229"}
    assert counts["count"].sum() == 4 + 2 + 3 + 1 + 2 + 5 + 1


def test_load_area_counts_vawg_needs_a_ward_lookup_or_boundaries(tmp_path):
    write(vawg_table(), tmp_path / "vawg.parquet")
    with pytest.raises(ConfigError, match="ward_lookup, or boundaries"):
        load_area_counts(
            "mps_vawg", tmp_path / "vawg.parquet", outcomes={"VAWG": [VAWG_ALL]}, months=WINDOW
        )


def test_ward_lookup_from_boundaries_detects_columns(tmp_path):
    lk = ward_lookup_from_boundaries(_geojson(tmp_path / "w.geojson"))
    assert list(lk.columns) == ["area", "name"] and list(lk.area) == list(lookup().area)


def test_load_area_counts_refuses_police_uk(tmp_path):
    with pytest.raises(ConfigError, match="police_uk"):
        load_area_counts(
            "police_uk",  # not an MPS source: the point of the test
            tmp_path / "x",
            outcomes={"V": ["Robbery"]},
            months=WINDOW,
        )


# --------------------------------------------------------------------------------------
# real public data in ../shared (skipped when absent)
# --------------------------------------------------------------------------------------
VAWG = "data/mps/vawg-offences.parquet"
WARDS = "data/boundaries/bexley_wards_2018.geojson"
WARD_CUR = "data/mps/recorded-crime-ward.parquet"
WARD_HIST = "data/mps/recorded-crime-ward-historical.parquet"
BEXLEY_CODES = {f"E050112{n}" for n in range(17, 34)}


@pytest.mark.shared
def test_real_vawg_ward_names_map_to_the_17_bexley_codes():
    shared = need_shared(VAWG, WARDS)
    lk = ward_lookup_from_boundaries(shared / WARDS)
    assert set(lk.area) == BEXLEY_CODES and len(lk) == 17
    with pytest.warns(UserWarning, match="no ward"):
        out = read_mps_vawg(shared / VAWG, ward_lookup=lk)
    assert set(out.area) == BEXLEY_CODES
    names = pd.read_parquet(
        shared / VAWG,
        columns=["borough_name", "ward_name_clean_2"],
        filters=[("borough_name", "==", "Bexley")],
    )["ward_name_clean_2"].dropna()
    mapping = match_ward_names(names.unique(), lk)
    assert set(mapping.values()) == BEXLEY_CODES
    assert mapping["St. Mary's & St. James"] == mapping["St Mary's & St James"] == "E05011229"
    assert mapping["Belvedere"] == "E05011218"


@pytest.mark.shared
def test_real_ward_tables_overlap_month_and_combination():
    shared = need_shared(WARD_CUR, WARD_HIST)
    cur = pd.read_parquet(shared / WARD_CUR, columns=["wardcode", "202402", "202403"])
    hist = pd.read_parquet(shared / WARD_HIST, columns=["wardcode", "202401", "202402"])
    # The files share 2024-02, but in the current file that month is a near-empty stub:
    # the two do NOT agree, and the historical file holds the complete month.
    assert cur["202402"].sum() < 0.01 * hist["202402"].sum()
    with pytest.warns(UserWarning, match=r"disagree for 2024-02.*Keeping the historical"):
        out = read_mps_wide(
            shared / WARD_CUR,
            level="ward",
            historical=shared / WARD_HIST,
            months=("2024-01", "2024-03"),
        )
    bex = out[out.area.isin(BEXLEY_CODES)].groupby("month")["count"].sum()
    hist_bex = hist[hist.wardcode.isin(BEXLEY_CODES)]
    cur_bex = cur[cur.wardcode.isin(BEXLEY_CODES)]
    assert bex[pd.Timestamp("2024-01-01")] == hist_bex["202401"].sum()
    assert bex[pd.Timestamp("2024-02-01")] == hist_bex["202402"].sum()
    assert bex[pd.Timestamp("2024-03-01")] == cur_bex["202403"].sum()
    assert set(out.loc[out.area.isin(BEXLEY_CODES), "area"]) == BEXLEY_CODES
    assert not out.duplicated(["area", "category", "month"]).any()


@pytest.mark.shared
def test_real_belvedere_pilot_config_yields_all_17_wards_over_its_months():
    need_shared(VAWG, WARDS)
    cfg = load_config(ROOT / "pilots" / "belvedere-ward-vawg.yml")
    assert cfg.data.source == "mps_vawg" and cfg.treated.codes == ("E05011218",)
    assert len(cfg.months) == 48 and f"{cfg.months[0]:%Y-%m}" == "2021-04"
    d = cfg.data
    with pytest.warns(UserWarning, match="no ward"):
        counts = load_area_counts(
            d.source,
            d.crimes,
            outcomes={o.name: list(o.categories) for o in cfg.outcomes},
            months=cfg.months,
            historical=d.crimes_historical,
            boundaries=d.boundaries,
            code_column=d.area_code_column,
            name_column=d.area_name_column,
        )
    assert set(counts.area) == BEXLEY_CODES
    assert set(counts.category) == {o for out in cfg.outcomes for o in out.categories}
    per_ward = counts.groupby("area")["month"].nunique()
    assert (per_ward == 48).all()  # every ward has recorded VAWG offences every month
    assert set(counts.month) == set(cfg.months)
    assert (counts["count"] > 0).all()


@pytest.mark.shared
def test_real_ward_table_with_historical_covers_the_window():
    shared = need_shared(WARD_CUR, WARD_HIST, WARDS)
    # Belvedere with a 2024-04 start: 36 months before, 12 from the start.
    months = pd.date_range("2021-04-01", "2025-03-01", freq="MS")
    lk = ward_lookup_from_boundaries(shared / WARDS)
    with pytest.warns(UserWarning, match="2024-02 column looks incomplete"):
        counts = load_area_counts(
            "mps_ward",
            shared / WARD_CUR,
            historical=shared / WARD_HIST,
            outcomes={
                "Violence with injury": ["VIOLENCE WITH INJURY"],
                "Sexual offences": ["SEXUAL OFFENCES"],
            },
            months=months,
            ward_lookup=lk,
        )
    assert len(months) == 48
    assert set(counts.area) == BEXLEY_CODES
    assert set(counts.category) == {"VIOLENCE WITH INJURY", "SEXUAL OFFENCES"}
    grid = counts.groupby(["category", "area"])["month"].nunique()
    assert (grid == 48).all()  # wide tables list zeros explicitly
