"""Checks of a police.uk request before and after reading: crime types and month coverage."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest

from pilot_eval import columns as C
from pilot_eval.errors import DataValidationError
from pilot_eval.io.policeuk import (
    check_crime_types_present,
    check_police_uk_request,
    month_runs,
    read_police_uk,
)

FORCES = {"metropolitan": "Metropolitan Police Service", "kent": "Kent Police"}


def _street_csv(month: str, force: str, crime_types: tuple[str, ...]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(C.POLICE_UK_HEADER)
    for i, crime_type in enumerate(crime_types):
        asb = crime_type == "Anti-social behaviour"
        row = {
            "Crime ID": "" if asb else f"{force}-{month}-{i}".encode().hex(),
            "Month": month,
            "Reported by": FORCES[force],
            "Falls within": FORCES[force],
            "Longitude": f"{0.10 + 0.001 * i:.6f}",
            "Latitude": f"{51.48 + 0.001 * i:.6f}",
            "Location": "On or near High Street, Erith",
            "LSOA code": "E01000400",
            "LSOA name": "Bexley 001A",
            "Crime type": crime_type,
            "Last outcome category": "" if asb else "Unable",
            "Context": "",
        }
        w.writerow([row[c] for c in C.POLICE_UK_HEADER])
    return buf.getvalue()


def _tree(
    root: Path,
    files: dict[str, tuple[str, ...]],
    crime_types: tuple[str, ...] = ("Burglary", "Public order"),
) -> Path:
    """police.uk layout: ``root/YYYY-MM/YYYY-MM-<force>-street.csv`` for each month's forces."""
    for month, forces in files.items():
        for force in forces:
            p = root / month / f"{month}-{force}-street.csv"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(_street_csv(month, force, crime_types), encoding="utf-8")
    return root


def _months(first: str, last: str) -> pd.DatetimeIndex:
    return pd.date_range(first, last, freq="MS")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    both = tuple(FORCES)
    return _tree(tmp_path / "police-uk", {"2024-01": both, "2024-02": both, "2024-03": both})


# --------------------------------------------------------------------------------------
# month_runs
# --------------------------------------------------------------------------------------
def test_month_runs_joins_consecutive_months_in_any_order():
    ms = [pd.Timestamp(m) for m in ("2025-07-01", "2025-04-01", "2025-05-01", "2025-12-01")]
    assert month_runs(ms) == "2025-04 to 2025-05, 2025-07, 2025-12"


def test_month_runs_across_a_year_and_of_nothing():
    assert month_runs(_months("2024-11", "2025-02")) == "2024-11 to 2025-02"
    assert month_runs([]) == ""


# --------------------------------------------------------------------------------------
# check_police_uk_request
# --------------------------------------------------------------------------------------
def test_request_covered_by_every_force_passes(tree: Path):
    assert (
        check_police_uk_request(
            tree, months=_months("2024-01", "2024-03"), crime_types=["Burglary"]
        )
        is None
    )


def test_unknown_crime_type_suggests_the_closest(tree: Path):
    with pytest.raises(DataValidationError) as err:
        check_police_uk_request(
            tree, months=_months("2024-01", "2024-03"), crime_types=["Burglary", "Pubic order"]
        )
    text = str(err.value)
    assert text.startswith(f"{tree}: ")
    assert "'Pubic order' (did you mean 'Public order'?)" in text
    assert "not a police.uk crime type" in text and "Violence and sexual offences" in text


def test_unknown_crime_type_without_a_close_one(tree: Path):
    with pytest.raises(
        DataValidationError, match=re.escape(f"{tree}: 'Cybercrime fraud' in")
    ) as err:
        check_police_uk_request(
            tree, months=_months("2024-01", "2024-03"), crime_types=["Cybercrime fraud"]
        )
    assert "did you mean" not in str(err.value)


def test_crime_types_are_checked_before_the_files(tmp_path: Path):
    with pytest.raises(DataValidationError, match="'Pubic order'"):
        check_police_uk_request(
            tmp_path / "nothing-here",
            months=_months("2024-01", "2024-01"),
            crime_types=["Pubic order"],
        )


def test_months_without_any_file_are_refused(tree: Path):
    with pytest.raises(DataValidationError) as err:
        check_police_uk_request(
            tree, months=_months("2023-11", "2024-04"), crime_types=["Burglary"]
        )
    text = str(err.value)
    assert text.startswith(f"{tree}: no police.uk file for 2023-11 to 2023-12, 2024-04 ")
    assert "(of the evaluation's 2023-11 to 2024-04)" in text
    assert "cannot be counted as months without crime" in text


def test_a_force_missing_a_month_others_have_is_refused(tmp_path: Path):
    root = _tree(
        tmp_path / "police-uk",
        {
            "2024-01": ("metropolitan", "kent"),
            "2024-02": ("metropolitan",),
            "2024-03": ("metropolitan",),
            "2024-04": ("metropolitan", "kent"),
        },
    )
    with pytest.raises(DataValidationError) as err:
        check_police_uk_request(
            root, months=_months("2024-01", "2024-04"), crime_types=["Burglary"]
        )
    text = str(err.value)
    assert text.startswith(f"{root}: force 'kent' has no police.uk file for 2024-02 to 2024-03 ")
    assert "inside the evaluation window" in text
    # outside the window, the gap does not matter
    check_police_uk_request(root, months=_months("2024-04", "2024-04"), crime_types=["Burglary"])


def test_several_sources_are_named_together(tmp_path: Path):
    a = _tree(tmp_path / "a", {"2024-01": ("kent",)})
    b = _tree(tmp_path / "b", {"2024-02": ("kent",)})
    check_police_uk_request([a, b], months=_months("2024-01", "2024-02"), crime_types=["Drugs"])
    with pytest.raises(
        DataValidationError, match=re.escape(f"{a}, {b}: no police.uk file for 2024-03")
    ):
        check_police_uk_request([a, b], months=_months("2024-01", "2024-03"), crime_types=["Drugs"])


# --------------------------------------------------------------------------------------
# check_crime_types_present
# --------------------------------------------------------------------------------------
def test_crime_types_present_passes_and_names_what_is_absent(tree: Path):
    months = _months("2024-01", "2024-03")
    incidents = read_police_uk(tree, months=(months[0], months[-1]))
    check_crime_types_present(
        incidents, source=tree, months=months, crime_types=["Burglary", "Public order"]
    )
    with pytest.raises(DataValidationError) as err:
        check_crime_types_present(
            incidents, source=tree, months=months, crime_types=["Robbery", "Burglary", "Drugs"]
        )
    text = str(err.value)
    assert text.startswith(
        f"{tree}: no 'Drugs', 'Robbery' at all in the data for 2024-01 to 2024-03"
    )
    assert "'Burglary'" not in text


def test_crime_types_present_ignores_missing_crime_types():
    incidents = pd.DataFrame({C.CRIME_TYPE: ["Burglary", None]})
    with pytest.raises(
        DataValidationError, match=r"x\.zip: no 'Robbery' at all .* 2024-05 to 2024-05"
    ):
        check_crime_types_present(
            incidents,
            source=Path("x.zip"),
            months=[pd.Timestamp("2024-05-01")],
            crime_types={"Burglary", "Robbery"},
        )
