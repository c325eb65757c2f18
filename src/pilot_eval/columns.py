"""One vocabulary for column names, shared by every module.

The data contract (see ARCHITECTURE.md):

Incidents (one row per recorded crime, after loading police.uk CSVs)
    ``crime_id, month, reported_by, falls_within, longitude, latitude, location,
    lsoa_code, lsoa_name, crime_type, last_outcome_category, context`` and, once projected,
    ``x, y`` (EPSG:27700 metres).
Areas (GeoDataFrame, EPSG:27700)
    ``area`` (code), ``name``, ``group`` (one of :data:`GROUPS`), ``geometry``.
Panel (long DataFrame, one row per outcome × area × month, zero-filled)
    ``outcome, area, group, month, count, treated, post``.
"""

from __future__ import annotations

from typing import Final, Literal

AREA: Final = "area"
NAME: Final = "name"
GROUP: Final = "group"
MONTH: Final = "month"
COUNT: Final = "count"
OUTCOME: Final = "outcome"
TREATED: Final = "treated"
POST: Final = "post"
CRIME_TYPE: Final = "crime_type"
X: Final = "x"
Y: Final = "y"

Group = Literal["treated", "buffer", "comparison"]
GROUPS: Final[tuple[str, ...]] = ("treated", "buffer", "comparison")

#: Kinds of pilot component (the ``type`` of an intervention-log row or a config component).
ComponentType = Literal[
    "lighting",
    "clean_up",
    "business_training",
    "awareness",
    "qr_reporting",
    "walk_and_talk",
    "visual_assessment",
    "other",
]

#: The metric CRS every geometry is reprojected to (British National Grid).
METRIC_CRS: Final = "EPSG:27700"
#: The CRS of police.uk coordinates.
LONLAT_CRS: Final = "EPSG:4326"

#: police.uk street-level CSV header, in file order.
POLICE_UK_HEADER: Final[tuple[str, ...]] = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)


#: The crime types police.uk publishes in street-level files.
POLICE_UK_CRIME_TYPES: Final[tuple[str, ...]] = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)


def snake(name: str) -> str:
    """``"Last outcome category"`` -> ``"last_outcome_category"``."""
    return name.strip().lower().replace(" ", "_")


INCIDENT_COLUMNS: Final[tuple[str, ...]] = tuple(snake(c) for c in POLICE_UK_HEADER)
PANEL_COLUMNS: Final[tuple[str, ...]] = (OUTCOME, AREA, GROUP, MONTH, COUNT, TREATED, POST)
