"""LSOA → ward lookups: from hand-built boundaries, from ONS lookup CSVs, and count roll-ups."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from pilot_eval import columns as C
from pilot_eval.errors import DataValidationError, GeometryError
from pilot_eval.io.lookups import aggregate_counts, lsoa_to_ward, read_lookup_csv
from shared_data import need_shared

E0, N0 = 548_000.0, 178_000.0  # near Belvedere, British National Grid metres


def _box(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    return box(E0 + x0, N0 + y0, E0 + x1, N0 + y1)


def _frame(codes: list[str], geoms: list, crs=C.METRIC_CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({C.AREA: codes, C.NAME: codes}, geometry=geoms, crs=crs)


def _wards(crs=C.METRIC_CRS) -> gpd.GeoDataFrame:
    """Two 1 km × 1 km wards side by side: W1 west of x = 1000, W2 east of it."""
    return _frame(["W1", "W2"], [_box(0, 0, 1000, 1000), _box(1000, 0, 2000, 1000)], crs)


def _lsoas() -> gpd.GeoDataFrame:
    return _frame(
        ["L1", "L2", "L3", "L4", "L5"],
        [
            _box(100, 100, 400, 400),  # inside W1
            _box(1200, 100, 1500, 400),  # inside W2
            _box(910, 500, 1210, 900),  # 90 m in W1, 210 m in W2: 30/70
            _box(900, 100, 1100, 300),  # 50/50 across the boundary
            _box(5000, 5000, 5100, 5100),  # outside both wards
        ],
    )


def _recorded(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    return out, [str(w.message) for w in rec if issubclass(w.category, UserWarning)]


# ---------------------------------------------------------------------------------------
# lsoa_to_ward
# ---------------------------------------------------------------------------------------
def test_largest_overlap_assigns_shares_and_flags_ties_and_outsiders():
    out, msgs = _recorded(lsoa_to_ward, _lsoas(), _wards())
    assert list(out.columns) == ["lsoa", "ward", "share", "ambiguous"]
    assert out["lsoa"].tolist() == ["L1", "L2", "L3", "L4", "L5"]
    assert out["ward"].iloc[:4].tolist() == ["W1", "W2", "W2", "W1"]  # the tie: lower code
    assert pd.isna(out["ward"].iloc[4])
    assert out["share"].tolist() == pytest.approx([1.0, 1.0, 0.7, 0.5, 0.0])
    # 70/30 is clear at min_share 0.5; a 50/50 split is a tie; no ward is ambiguous too.
    assert out["ambiguous"].tolist() == [False, False, False, True, True]
    assert out["ambiguous"].dtype == bool
    assert len(msgs) == 2
    outside = next(m for m in msgs if "outside every ward" in m)
    assert "1 of 5 LSOA(s)" in outside and "L5" in outside
    ambiguous = next(m for m in msgs if "not clearly inside one ward" in m)
    assert "1 of 5 LSOA(s)" in ambiguous and "L4 (50% in W1, 50% in another ward)" in ambiguous


def test_min_share_moves_the_ambiguity_threshold():
    out, msgs = _recorded(lsoa_to_ward, _lsoas().iloc[:4], _wards(), min_share=0.75)
    assert out["ambiguous"].tolist() == [False, False, True, True]
    assert len(msgs) == 1 and "2 of 4 LSOA(s)" in msgs[0] and "under 75%" in msgs[0]
    out = lsoa_to_ward(_lsoas().iloc[:3], _wards(), min_share=0.7 - 1e-6)
    assert not out["ambiguous"].any()


def test_no_warning_when_every_lsoa_nests():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = lsoa_to_ward(_lsoas().iloc[:2], _wards())
    assert out["ward"].tolist() == ["W1", "W2"]
    assert out["share"].tolist() == pytest.approx([1.0, 1.0])


def test_centroid_method_can_disagree_with_largest_overlap():
    # A triangle with its base in W1 and apex in W2: W1 holds 52.7 % of it, but its
    # centroid (x = 1020 m) lies just inside W2.
    tri = Polygon([(E0 + 700, N0), (E0 + 700, N0 + 600), (E0 + 1660, N0 + 300)])
    lsoas = _frame(["T", "L1"], [tri, _box(100, 700, 400, 900)])
    by_area = lsoa_to_ward(lsoas, _wards())
    assert by_area["ward"].tolist() == ["W1", "W1"]
    assert by_area["share"].iloc[0] == pytest.approx(1 - (1 - 300 / 960) ** 2)
    assert not by_area["ambiguous"].any()
    out, msgs = _recorded(lsoa_to_ward, lsoas, _wards(), method="centroid")
    assert out["ward"].tolist() == ["W2", "W1"]
    assert out["share"].iloc[0] == pytest.approx((1 - 300 / 960) ** 2)
    assert out["ambiguous"].tolist() == [True, False]
    assert len(msgs) == 1 and "T (47% in W2, 53% in another ward)" in msgs[0]


def test_centroid_on_a_boundary_and_centroid_outside_the_lsoa():
    # Two parts: 100 m² ×100 in W1, 400 × 100 in W2. The centroid (x = 970 m) lies in the
    # gap between them, in W1; a point inside the LSOA is used instead.
    parts = MultiPolygon([_box(0, 0, 100, 100), _box(1000, 0, 1400, 100)])
    lsoas = _frame(["M", "L4"], [parts, _box(900, 500, 1100, 700)])
    out, msgs = _recorded(lsoa_to_ward, lsoas, _wards(), method="centroid")
    assert out["ward"].tolist() == ["W2", "W1"]  # L4's centroid is on the line: a tie
    assert out["share"].tolist() == pytest.approx([0.8, 0.5])
    assert out["ambiguous"].tolist() == [False, True]
    assert len(msgs) == 1 and "L4" in msgs[0]


def test_centroid_outside_every_ward_is_na():
    out, msgs = _recorded(lsoa_to_ward, _lsoas(), _wards(), method="centroid")
    assert out["ward"].isna().tolist() == [False] * 4 + [True]
    assert any("centroid in no ward" in m and "L5" in m for m in msgs)


def test_inputs_in_other_crs_are_reprojected():
    wards = _wards().to_crs(C.LONLAT_CRS)
    lsoas = _lsoas().iloc[:4].to_crs("EPSG:3857")
    out, _ = _recorded(lsoa_to_ward, lsoas, wards)
    # The round trip through degrees moves boundaries by millimetres at most (enough to
    # break L4's exact 50/50 tie one way or the other).
    assert out["ward"].iloc[:3].tolist() == ["W1", "W2", "W2"]
    assert out["share"].tolist() == pytest.approx([1.0, 1.0, 0.7, 0.5], abs=1e-4)


def test_missing_crs_is_an_error():
    lsoas = _lsoas().set_crs(None, allow_override=True)
    with pytest.raises(GeometryError, match=r"LSOA boundaries have no coordinate reference"):
        lsoa_to_ward(lsoas, _wards())
    wards = _wards().set_crs(None, allow_override=True)
    with pytest.raises(GeometryError, match=r"ward boundaries have no coordinate reference"):
        lsoa_to_ward(_lsoas(), wards)


def test_lonlat_crs_on_metre_coordinates_is_an_error():
    wards = _wards().set_crs(C.LONLAT_CRS, allow_override=True)
    with pytest.raises(GeometryError, match="look like British National Grid"):
        lsoa_to_ward(_lsoas(), wards)


def test_bad_inputs_are_named():
    with pytest.raises(DataValidationError, match=r"need an 'area' column.*'code'"):
        lsoa_to_ward(_lsoas().rename(columns={C.AREA: "code"}), _wards())
    dup = _frame(["W1", "W1"], list(_wards().geometry))
    with pytest.raises(DataValidationError, match=r"ward boundaries list code\(s\) \['W1'\]"):
        lsoa_to_ward(_lsoas(), dup)
    with pytest.raises(GeometryError, match="must be a GeoDataFrame"):
        lsoa_to_ward(pd.DataFrame({C.AREA: ["L1"]}), _wards())
    with pytest.raises(GeometryError, match="hold no areas"):
        lsoa_to_ward(_lsoas().iloc[:0], _wards())
    with pytest.raises(ValueError, match="method"):
        lsoa_to_ward(_lsoas(), _wards(), method="nearest")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="min_share"):
        lsoa_to_ward(_lsoas(), _wards(), min_share=1.5)


def test_invalid_lsoa_geometry_is_repaired_with_a_warning():
    bowtie = Polygon(
        [(E0 + 100, N0 + 100), (E0 + 300, N0 + 300), (E0 + 300, N0 + 100), (E0 + 100, N0 + 300)]
    )
    out, msgs = _recorded(lsoa_to_ward, _frame(["B"], [bowtie]), _wards())
    assert out["ward"].tolist() == ["W1"]
    assert out["share"].tolist() == pytest.approx([1.0])
    assert any("repaired 1 invalid geometry" in m and "B" in m for m in msgs)


# ---------------------------------------------------------------------------------------
# read_lookup_csv
# ---------------------------------------------------------------------------------------
def _write(tmp_path: Path, text: str, name: str = "lookup.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_an_ons_best_fit_lookup(tmp_path: Path):
    path = _write(
        tmp_path,
        "\ufeffLSOA21CD,LSOA21NM,WD22CD,WD22NM,LAD22CD,LAD22NM,ObjectId\n"
        "E01000325,Bexley 014A,E05011218,Belvedere,E09000004,Bexley,1\n"
        "E01000326,Bexley 014B, E05011218 ,Belvedere,E09000004,Bexley,2\n"
        "E01000327,Bexley 017A,E05011219,Blackfen & Lamorbey,E09000004,Bexley,3\n",
    )
    out = read_lookup_csv(path)
    assert list(out.columns) == ["lsoa", "ward"]
    assert out["lsoa"].tolist() == ["E01000325", "E01000326", "E01000327"]
    assert out["ward"].tolist() == ["E05011218", "E05011218", "E05011219"]


def test_detects_lower_case_2011_columns(tmp_path: Path):
    path = _write(tmp_path, "lsoa11cd,lsoa11nm,wd19cd,wd19nm\nE01000001,City 001A,E05009288,X\n")
    out = read_lookup_csv(path)
    assert out.to_dict("list") == {"lsoa": ["E01000001"], "ward": ["E05009288"]}


def test_columns_can_be_named(tmp_path: Path):
    path = _write(tmp_path, "LSOA11CD,LSOA21CD,Ward Code 2024\nA,L1,W1\nB,L2,W1\n")
    with pytest.raises(DataValidationError, match=r"several columns could hold the LSOA"):
        read_lookup_csv(path)
    out = read_lookup_csv(path, from_column="lsoa21cd", to_column="ward_code_2024")
    assert out.to_dict("list") == {"lsoa": ["L1", "L2"], "ward": ["W1", "W1"]}
    with pytest.raises(DataValidationError, match=r"no column 'WD24CD'.*columns found"):
        read_lookup_csv(path, from_column="LSOA21CD", to_column="WD24CD")


def test_missing_columns_name_what_was_found_and_expected(tmp_path: Path):
    path = _write(tmp_path, "LSOA21CD,LSOA21NM,LAD22CD\nE01000325,Bexley 014A,E09000004\n")
    with pytest.raises(DataValidationError) as err:
        read_lookup_csv(path)
    msg = str(err.value)
    assert "no column of ward codes" in msg and "WD22CD" in msg
    assert "['LSOA21CD', 'LSOA21NM', 'LAD22CD']" in msg and "to_column" in msg


def test_duplicated_lsoas_name_their_lines(tmp_path: Path):
    path = _write(
        tmp_path,
        "LSOA21CD,WD22CD\nE01000001,W1\nE01000002,W1\nE01000001,W2\n\nE01000002,W1\n",
    )
    with pytest.raises(DataValidationError) as err:
        read_lookup_csv(path)
    msg = str(err.value)
    assert "2 LSOA code(s)" in msg
    assert "E01000001 on lines [2, 4] (wards W1, W2)" in msg
    assert "E01000002 on lines [3, 6] (ward W1)" in msg  # line 5 is blank


def test_blank_codes_name_their_lines(tmp_path: Path):
    path = _write(tmp_path, "LSOA21CD,WD22CD\nE01000001,W1\nE01000002,\n")
    with pytest.raises(DataValidationError, match=r"'WD22CD' is blank on line\(s\) \[3\]"):
        read_lookup_csv(path)


def test_missing_file_is_named(tmp_path: Path):
    with pytest.raises(DataValidationError, match="no such lookup file"):
        read_lookup_csv(tmp_path / "nope.csv")


# ---------------------------------------------------------------------------------------
# aggregate_counts
# ---------------------------------------------------------------------------------------
M1, M2 = pd.Timestamp("2024-04-01"), pd.Timestamp("2024-05-01")
VIOL, BURG = "VIOLENCE AGAINST THE PERSON / VIOLENCE WITH INJURY", "BURGLARY / DOMESTIC"


def _counts() -> pd.DataFrame:
    rows = [
        ("L1", M1, VIOL, 3),
        ("L2", M1, VIOL, 4),
        ("L3", M1, VIOL, 5),
        ("L1", M2, VIOL, 1),
        ("L3", M2, BURG, 2),
        ("L2", M2, BURG, 0),
        ("L4", M1, BURG, 7),
    ]
    df = pd.DataFrame(rows, columns=[C.AREA, C.MONTH, "category", C.COUNT])
    df["area_name"] = df[C.AREA] + " name"
    return df


LOOKUP = pd.DataFrame({"lsoa": ["L1", "L2", "L3", "L4"], "ward": ["WA", "WA", "WB", "WB"]})


def test_counts_are_summed_by_ward_month_category():
    out = aggregate_counts(_counts(), LOOKUP)
    assert list(out.columns) == [C.AREA, C.MONTH, "category", C.COUNT]
    assert out[C.COUNT].dtype == np.int64
    got = {(r.area, r.month, r.category): r.count for r in out.itertuples()}
    assert got == {
        ("WA", M1, VIOL): 3 + 4,
        ("WA", M2, VIOL): 1,
        ("WA", M2, BURG): 0,
        ("WB", M1, BURG): 7,
        ("WB", M1, VIOL): 5,
        ("WB", M2, BURG): 2,
    }
    assert out[C.COUNT].sum() == _counts()[C.COUNT].sum()


def test_lsoas_missing_from_the_lookup_are_an_error_or_dropped():
    lookup = LOOKUP.iloc[:3]  # no L4
    with pytest.raises(DataValidationError, match=r"1 LSOA code\(s\).*L4.*7 of 22 crimes"):
        aggregate_counts(_counts(), lookup)
    out, msgs = _recorded(aggregate_counts, _counts(), lookup, on_missing="drop")
    assert out[C.COUNT].sum() == 22 - 7
    assert len(msgs) == 1 and "Dropped 7 crimes" in msgs[0] and "L4" in msgs[0]
    assert "WB" in set(out[C.AREA]) and (out[C.AREA] == "WB").sum() == 2


def test_lookup_from_boundaries_na_wards_and_ambiguity_warning():
    lookup, _ = _recorded(lsoa_to_ward, _lsoas(), _wards())  # L4 is a tie; L5 has no ward
    counts = pd.concat(
        [
            _counts(),
            pd.DataFrame({C.AREA: ["L5"], C.MONTH: [M1], "category": [VIOL], C.COUNT: [9]}),
        ],
        ignore_index=True,
    )
    with pytest.raises(
        DataValidationError, match=r"1 of them are in the lookup with no ward\): L5"
    ):
        aggregate_counts(counts, lookup)
    out, msgs = _recorded(aggregate_counts, counts, lookup, on_missing="drop")
    assert out.groupby(C.AREA)[C.COUNT].sum().to_dict() == {"W1": 3 + 1 + 7, "W2": 4 + 5 + 2}
    assert any("Dropped 9 crimes" in m for m in msgs)
    assert any("7 of 22 crimes (31.8%) lie in 1 LSOA(s)" in m for m in msgs)


def test_aggregate_input_errors():
    with pytest.raises(DataValidationError, match=r"counts needs columns.*missing \['category'\]"):
        aggregate_counts(_counts().drop(columns="category"), LOOKUP)
    with pytest.raises(DataValidationError, match=r"lookup needs columns.*missing \['ward'\]"):
        aggregate_counts(_counts(), LOOKUP.rename(columns={"ward": "wd22cd"}))
    dup = pd.concat([LOOKUP, LOOKUP.iloc[:1]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"LSOA\(s\) L1 more than once"):
        aggregate_counts(_counts(), dup)
    with pytest.raises(ValueError, match="on_missing"):
        aggregate_counts(_counts(), LOOKUP, on_missing="nan")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# real public data in ../shared (skipped when absent)
# ---------------------------------------------------------------------------------------
LSOA21 = "data/boundaries/london_lsoa_2021.gpkg"
WARDS18 = "data/boundaries/bexley_wards_2018.geojson"
MPS_LSOA = "data/mps/recorded-crime-lsoa.parquet"
MPS_WARD = "data/mps/recorded-crime-ward.parquet"
BEXLEY = "E09000004"


def _bexley(shared: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    import pyogrio

    from pilot_eval.io.boundaries import read_boundaries

    lad = pyogrio.read_dataframe(shared / LSOA21, columns=["LAD22CD"], read_geometry=False)
    lsoas = read_boundaries(shared / LSOA21)
    lsoas = lsoas.loc[(lad["LAD22CD"] == BEXLEY).to_numpy()].reset_index(drop=True)
    return lsoas, read_boundaries(shared / WARDS18)


@pytest.mark.shared
def test_bexley_2021_lsoas_to_2018_wards():
    shared = need_shared(LSOA21, WARDS18)
    lsoas, wards = _bexley(shared)
    assert len(lsoas) == 148 and len(wards) == 17
    out, msgs = _recorded(lsoa_to_ward, lsoas, wards)
    assert out["lsoa"].tolist() == lsoas[C.AREA].tolist()
    assert out["ward"].notna().all()
    assert set(out["ward"]) == set(wards[C.AREA])  # every ward gets at least one LSOA
    assert set(out["ward"]) <= {f"E0501{n}" for n in range(1217, 1234)}
    # 2021 LSOAs do not all nest in the 2018 wards: 91 of 148 have 99 % of their area in
    # one ward, 147 a majority; one (E01000453) is split three ways.
    assert (out["share"] >= 0.99).sum() == 91
    assert out["ambiguous"].sum() == 1
    assert out.loc[out["ambiguous"], "lsoa"].tolist() == ["E01000453"]
    assert len(msgs) == 1 and "1 of 148 LSOA(s)" in msgs[0]
    # The centroid rule agrees for all but a handful.
    cen, _ = _recorded(lsoa_to_ward, lsoas, wards, method="centroid")
    assert cen["ward"].notna().all()
    assert 0 < (cen["ward"] != out["ward"]).sum() <= 5


@pytest.mark.shared
def test_bexley_mps_lsoa_counts_rolled_up_to_wards():
    from pilot_eval.io.mps import read_mps_wide

    shared = need_shared(LSOA21, WARDS18, MPS_LSOA, MPS_WARD)
    lsoas, wards = _bexley(shared)
    lookup, _ = _recorded(lsoa_to_ward, lsoas, wards)
    months = ("2024-03", "2026-01")
    counts = read_mps_wide(shared / MPS_LSOA, level="lsoa", months=months)
    bexley = counts.loc[counts[C.AREA].isin(set(lookup["lsoa"]))]
    assert bexley[C.AREA].nunique() == 148
    rolled, msgs = _recorded(aggregate_counts, bexley, lookup)
    assert rolled[C.COUNT].sum() == bexley[C.COUNT].sum()
    assert set(rolled[C.AREA]) == set(wards[C.AREA])
    assert any("lie in 1 LSOA(s) the lookup flags as ambiguous" in m for m in msgs)
    # Against the MPS ward table: the borough total agrees to within 5 %, single wards
    # differ more because the LSOAs do not nest in the 2018 wards.
    ward_table = read_mps_wide(shared / MPS_WARD, level="ward", months=months)
    official = ward_table.loc[ward_table[C.AREA].isin(set(wards[C.AREA]))]
    assert rolled[C.COUNT].sum() == pytest.approx(official[C.COUNT].sum(), rel=0.05)
