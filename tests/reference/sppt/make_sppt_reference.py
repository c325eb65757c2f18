"""Rebuild the Vancouver reference files of ``tests/inference/test_sppt.py`` from sppt's repository.

Run once, by hand (not collected by pytest)::

    git clone https://github.com/wsteenbeek/sppt /tmp/sppt
    git -C /tmp/sppt checkout df4c4b091f6510976d96c8de9dc9a902ddf4d81e
    .venv/bin/python tests/reference/sppt/make_sppt_reference.py /tmp/sppt

It writes, next to this script:

- ``vancouver_ct_java.csv`` — the 108 census tracts of sppt's ``vancouver_all_new`` data with
  the per-tract output of Nick Malleson's Java SPPT application
  (``data-raw/vancouver_all_new/vancouver_all_new_output.dbf``): point counts and
  percentages of the base and test points, the Java run's interval and its SIndex.
- ``vancouver_da_counts.csv`` — the 991 dissemination areas of
  ``inst/extdata/Vancouver_DAs_2011_Census_UTMz10.shp`` in file order (sppt's ``uoa_id``)
  with the number of 2003 and 2016 residential burglaries
  (``inst/extdata/Vancouver_Residential_Burglary_{2003,2016}.shp``) inside each, for all
  points and for the first 400 (2003) and first 150 (2016) points in file order, as sppt's
  intro vignette subsets them. Points are assigned by point-in-polygon (boundary included;
  no point falls in two areas); points outside every area are dropped, as sppt does.

The toy file ``toy_published.csv`` was typed from sppt's README and rendered vignettes (see
README.md); this script checks its counts against the Java output of the toy data.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def _git_show(repo: Path, path: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), "show", f"HEAD:{path}"], check=True, capture_output=True
    ).stdout


def read_dbf(raw: bytes) -> pd.DataFrame:
    """A dBase III table (the .dbf of a shapefile) as text columns."""
    n, header_len, record_len = struct.unpack("<IHH", raw[4:12])
    fields = []
    off = 32
    while raw[off] != 0x0D:
        name = raw[off : off + 11].split(b"\0")[0].decode()
        fields.append((name, raw[off + 16]))
        off += 32
    rows = []
    for i in range(n):
        rec = raw[header_len + i * record_len : header_len + (i + 1) * record_len]
        pos = 1
        row = {}
        for name, width in fields:
            row[name] = rec[pos : pos + width].decode("latin1").strip()
            pos += width
        rows.append(row)
    return pd.DataFrame(rows)


def ct_java(repo: Path) -> pd.DataFrame:
    raw = _git_show(repo, "data-raw/vancouver_all_new/vancouver_all_new_output.dbf")
    df = read_dbf(raw)[
        [
            "CTUID",
            "SIndex",
            "NumBsePts",
            "NumTstPts",
            "PctBsePts",
            "PctTstPts",
            "ConfLowP",
            "ConfUppP",
        ]
    ]
    for c in df.columns[1:4]:
        df[c] = df[c].astype(int)
    for c in df.columns[4:]:
        df[c] = df[c].astype(float)
    assert len(df) == 108 and df["NumBsePts"].sum() == 14584 and df["NumTstPts"].sum() == 14782
    return df


def da_counts(repo: Path) -> pd.DataFrame:
    import geopandas as gpd

    tmp = Path(tempfile.mkdtemp())
    for stem in (
        "Vancouver_DAs_2011_Census_UTMz10",
        "Vancouver_Residential_Burglary_2003",
        "Vancouver_Residential_Burglary_2016",
    ):
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            (tmp / f"{stem}.{ext}").write_bytes(_git_show(repo, f"inst/extdata/{stem}.{ext}"))
    das = gpd.read_file(tmp / "Vancouver_DAs_2011_Census_UTMz10.shp")
    out = pd.DataFrame({"uoa_id": np.arange(1, len(das) + 1), "DAUID": das["DAUID"].astype(str)})
    for year, first in (("2003", 400), ("2016", 150)):
        pts = gpd.read_file(tmp / f"Vancouver_Residential_Burglary_{year}.shp")
        assert pts.crs == das.crs
        joined = gpd.sjoin(
            pts[["geometry"]].reset_index(names="pid"),
            das[["DAUID", "geometry"]],
            how="inner",
            predicate="intersects",
        )
        assert joined["pid"].is_unique  # no point in two areas
        code = joined.set_index("pid")["DAUID"].astype(str)
        out[f"n_{year}"] = code.value_counts().reindex(out["DAUID"], fill_value=0).to_numpy()
        head = code[code.index < first]
        out[f"n_{year}_first{first}"] = (
            head.value_counts().reindex(out["DAUID"], fill_value=0).to_numpy()
        )
    return out


def main(repo: Path) -> None:
    ct_java(repo).to_csv(HERE / "vancouver_ct_java.csv", index=False, float_format="%.17g")
    da_counts(repo).to_csv(HERE / "vancouver_da_counts.csv", index=False)
    toy = pd.read_csv(HERE / "toy_published.csv")
    java = read_dbf(_git_show(repo, "data-raw/basic_test_new/basic_test_new_output.dbf"))
    java = java.astype({"ID": int, "NumBsePts": int, "NumTstPts": int}).set_index("ID")
    mine = toy[toy["case"] == "readme"].set_index("area_id")
    assert (mine["n_base"] == java.loc[mine.index, "NumBsePts"]).all()
    assert (mine["n_test"] == java.loc[mine.index, "NumTstPts"]).all()
    print(f"wrote {HERE / 'vancouver_ct_java.csv'} and {HERE / 'vancouver_da_counts.csv'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
