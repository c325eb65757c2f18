"""Ward names and codes: matching published ward names to a boundaries file's codes.

The MPS VAWG table names wards (``ward_name_clean_2``) instead of coding them; these helpers
read the codes and names of a ward boundaries file and match names after
:func:`normalise_ward_name`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from ... import columns as C
from ...errors import DataValidationError

__all__ = [
    "match_ward_names",
    "normalise_ward_name",
    "ward_lookup_from_boundaries",
    "ward_lookup_keys",
]


def normalise_ward_name(name: object) -> str:
    """Matching key for a ward name: case, accents, ``&``/``and``, punctuation, spaces.

    ``"St. Mary's & St. James"`` and ``"St Mary's and St James"`` both give
    ``"st marys and st james"``.
    """
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    s = s.casefold().replace("&", " and ")
    s = re.sub(r"['’`]", "", s)
    s = re.sub(r"[^0-9a-z]+", " ", s)
    return " ".join(s.split())


def ward_lookup_keys(ward_lookup: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Normalised ward name -> (code, name as given) of a ``area``/``name`` lookup.

    Raises
    ------
    DataValidationError
        If a column is missing, two codes share a normalised name, or no row is complete.
    """
    missing = [c for c in (C.AREA, C.NAME) if c not in ward_lookup.columns]
    if missing:
        raise DataValidationError(
            f"ward_lookup needs columns '{C.AREA}' (ward code) and '{C.NAME}' (ward name); "
            f"missing {missing}. Build it from the boundaries file, e.g. with "
            "ward_lookup_from_boundaries()."
        )
    out: dict[str, tuple[str, str]] = {}
    for code, name in ward_lookup[[C.AREA, C.NAME]].itertuples(index=False):
        if pd.isna(code) or pd.isna(name):
            continue
        k = normalise_ward_name(name)
        if k in out and out[k][0] != str(code):
            raise DataValidationError(
                f"ward_lookup: wards {out[k][0]} ({out[k][1]!r}) and {code} ({name!r}) have "
                "the same name once case and punctuation are ignored, so VAWG ward names "
                "cannot be told apart. Restrict the lookup to one borough."
            )
        out[k] = (str(code), str(name))
    if not out:
        raise DataValidationError("ward_lookup has no rows with both a code and a name.")
    return out


def match_ward_names(
    names: Iterable[str], ward_lookup: pd.DataFrame, *, source: str = "the VAWG table"
) -> dict[str, str]:
    """Map published ward names to codes via a boundaries lookup.

    Parameters
    ----------
    names
        Ward names as published (e.g. the VAWG table's ``ward_name_clean_2``).
    ward_lookup
        DataFrame with ``area`` (code) and ``name`` columns, e.g. from the boundaries file.
    source
        Where the names come from, for messages.

    Returns
    -------
    dict
        name as published -> ward code. Names match after :func:`normalise_ward_name`.

    Raises
    ------
    DataValidationError
        If any name has no match; the message lists each with its closest lookup names.
    """
    keys = ward_lookup_keys(ward_lookup)
    out: dict[str, str] = {}
    unmatched: list[str] = []
    for n in dict.fromkeys(names):
        k = normalise_ward_name(n)
        if k in keys:
            out[n] = keys[k][0]
        else:
            unmatched.append(n)
    if unmatched:
        shown = []
        by_key = {k: v[1] for k, v in keys.items()}
        for n in unmatched[:15]:
            close = difflib.get_close_matches(normalise_ward_name(n), list(by_key), n=3, cutoff=0.6)
            hint = ", ".join(repr(by_key[c]) for c in close) or "no close match"
            shown.append(f"{n!r} (closest: {hint})")
        more = f" and {len(unmatched) - 15} more" if len(unmatched) > 15 else ""
        raise DataValidationError(
            f"{source}: {len(unmatched)} ward name(s) have no match in the ward lookup "
            f"(boundaries file): {'; '.join(shown)}{more}. Check the boundaries are the same "
            "ward vintage as the table (e.g. Bexley's 2018 wards), or fix the names in the "
            "boundaries' name column."
        )
    return out


def ward_lookup_from_boundaries(
    path: str | Path, *, code_column: str | None = None, name_column: str | None = None
) -> pd.DataFrame:
    """Ward codes and names from a boundaries file's attributes (geometry is not read).

    Parameters
    ----------
    path
        GeoJSON, GeoPackage or Shapefile.
    code_column, name_column
        Attribute columns; detected when omitted (``wdYYcd``/``wdYYnm``, ``wardcode`` /
        ``wardname``, ``area``/``name``, ``code``).

    Returns
    -------
    pandas.DataFrame
        ``area`` (str), ``name`` (str).
    """
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise DataValidationError(
            f"{path}: no such boundaries file. Check data.boundaries in the pilot config."
        )
    try:
        attrs = pyogrio.read_dataframe(path, read_geometry=False)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise DataValidationError(f"{path}: cannot read the boundaries file: {exc}") from None

    def pick(given: str | None, patterns: Sequence[str], what: str) -> str:
        if given is not None:
            if given not in attrs.columns:
                raise DataValidationError(
                    f"{path}: no column {given!r} (the {what}); columns are {list(attrs.columns)}."
                )
            return given
        for pat in patterns:
            for c in attrs.columns:
                if re.fullmatch(pat, str(c), flags=re.I):
                    return str(c)
        raise DataValidationError(
            f"{path}: cannot tell which column holds the {what}; columns are "
            f"{list(attrs.columns)}. Set data.area_code_column / data.area_name_column."
        )

    code = pick(
        code_column, [r"wd\d{2}cd", r"ward_?code", r"area", r"area_?code", r"code"], "ward code"
    )
    name = pick(name_column, [r"wd\d{2}nm", r"ward_?name", r"name", r"area_?name"], "ward name")
    return pd.DataFrame(
        {C.AREA: attrs[code].astype(str).to_numpy(), C.NAME: attrs[name].astype(str).to_numpy()}
    )
