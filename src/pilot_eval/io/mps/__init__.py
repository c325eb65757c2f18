"""Metropolitan Police (MPS) area-level recorded crime, from the London Datastore.

A second outcome source beside police.uk points: monthly counts already aggregated to areas
(wards or LSOAs), read from CSV or Parquet. Every reader returns the same long table.

Output (every reader, and :func:`load_area_counts`)
    One row per area × month × category:

    ``area`` (str)
        Area code (ward GSS code ``E05…`` or LSOA code ``E01…``).
    ``month`` (datetime64, month start)
    ``category`` (str)
        Offence category (see each reader).
    ``count`` (int64, ≥ 0)
        Offences recorded by the MPS in that area and month.
    ``area_name`` (str, when the file has names)

Schemas
-------
Ward wide table (``data.source: mps_ward``; London Datastore "MPS Ward Level Crime")
    One row per ward × offence category, one column per month. Column names are matched
    case-insensitively with spaces and punctuation read as ``_`` (``MajorText`` ->
    ``majortext``, ``LSOA Code`` -> ``lsoa_code``).

    ==========================  ==========================================================
    ``wardcode``                ward GSS code (required)
    ``majortext``               major offence category, e.g. ``VIOLENCE AGAINST THE PERSON``
                                (required)
    ``minortext``               minor offence category, e.g. ``VIOLENCE WITH INJURY``
                                (required)
    ``wardname``                ward name (optional; kept as ``area_name``)
    ``YYYYMM`` …                one column per month (e.g. ``202403``), whole numbers ≥ 0
                                (at least one required)
    anything else               ignored (e.g. ``lookup_boroughname``)
    ==========================  ==========================================================

    The "historical" table (``data.crimes_historical``) has the same layout and earlier
    months. Rows repeating the same code and categories (the MPS files list a few wards
    under two borough look-ups) are added together.

LSOA wide table (``data.source: mps_lsoa``; "MPS LSOA Level Crime")
    As the ward table with ``lsoa_code`` (required), ``lsoa_name`` (optional),
    ``major_category`` and ``minor_category`` (required), ``YYYYMM`` month columns.

VAWG offences table (``data.source: mps_vawg``; "MPS Violence Against Women and Girls")
    Long: one row per tabulation cell.

    ============================  ========================================================
    ``sheet``                     which tabulation the row belongs to (required):
                                  ``Offence count location`` (by borough and ward) or
                                  ``Offence count classification`` (by offence group,
                                  London-wide). The two count the same offences twice over:
                                  never add them together.
    ``recorded_date_months``      month the offence was recorded (date; required)
    ``count``                     offences, whole number ≥ 0 (required)
    ``borough_name``              borough (location sheet; required there)
    ``ward_name_clean_2``         ward NAME, not code (location sheet; required there;
                                  empty for offences the MPS could not place in a ward)
    ``crimsec_group``             offence group, e.g. ``Rape``, ``Violence with Injury``
                                  (classification sheet; required there)
    ``vawg_offence``              offence within the group (classification sheet; required)
    anything else                 ignored (e.g. ``date_committed_from_date_months``,
                                  ``bcu_location``, ``crimsec_offences``)
    ============================  ========================================================

Categories
----------
Wide tables
    ``category`` is ``"<major> / <minor>"``, e.g.
    ``"VIOLENCE AGAINST THE PERSON / VIOLENCE WITH INJURY"``. A selector in ``categories``
    (or an outcome's ``categories`` in a pilot config) may be the major text (every minor
    category under it), the minor text, or the combined string. Matching ignores case and
    repeated spaces.
VAWG location sheet (the only sheet with wards)
    Has **no offence breakdown**: its single category is :data:`VAWG_ALL`
    (``"All VAWG-flagged offences"``), every offence the MPS flagged in its VAWG table,
    including the group the classification sheet calls "Other flagged offences outside of
    VAWG".
VAWG classification sheet (London-wide, no wards)
    ``category`` is ``"<crimsec_group> / <vawg_offence>"``; select by offence group
    (``crimsec_group``), by offence (``vawg_offence``) or by the combined string. Its
    ``area`` is the Metropolitan Police force-area code :data:`MPS_FORCE_AREA`.

In :func:`load_area_counts` the output ``category`` is the selector exactly as its
``outcomes`` (the pilot config's) writes it, summed over the categories it matches, so that
``panel_from_counts(counts, outcomes={o.name: o.categories})`` selects with a plain
membership test.

Modules
-------
:mod:`.wide` (ward and LSOA wide tables), :mod:`.vawg` (the VAWG table), :mod:`.wards`
(ward names -> codes), :mod:`.load` (:func:`load_area_counts`) and :mod:`._common` (shared
parsing internals). Import the public names from this package.
"""

from __future__ import annotations

from ._common import AREA_NAME, CATEGORY, CATEGORY_SEP, OUTPUT_COLUMNS, MonthsLike
from .load import MpsSource, load_area_counts
from .vawg import (
    MPS_FORCE_AREA,
    VAWG_ALL,
    VAWG_CLASSIFICATION_SHEET,
    VAWG_LOCATION_SHEET,
    read_mps_vawg,
)
from .wards import match_ward_names, normalise_ward_name, ward_lookup_from_boundaries
from .wide import read_mps_wide

__all__ = [
    "AREA_NAME",
    "CATEGORY",
    "CATEGORY_SEP",
    "MPS_FORCE_AREA",
    "OUTPUT_COLUMNS",
    "VAWG_ALL",
    "VAWG_CLASSIFICATION_SHEET",
    "VAWG_LOCATION_SHEET",
    "MonthsLike",
    "MpsSource",
    "load_area_counts",
    "match_ward_names",
    "normalise_ward_name",
    "read_mps_vawg",
    "read_mps_wide",
    "ward_lookup_from_boundaries",
]
