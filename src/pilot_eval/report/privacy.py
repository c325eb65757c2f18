"""Disclosure control for published outputs.

VAWG data is sensitive. Every table a funder sees goes through :func:`suppress_small_counts`;
maps never show individual incident points (see :mod:`pilot_eval.maps`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def suppress_small_counts(
    table: pd.DataFrame, *, columns: Sequence[str], threshold: int
) -> pd.DataFrame:
    """Replace counts from 1 to ``threshold - 1`` with the text ``"<threshold"``.

    Parameters
    ----------
    table
        The table to publish (not modified).
    columns
        The count columns to protect.
    threshold
        Smallest count that may be shown (the pilot config's ``report.small_count_threshold``).

    Returns
    -------
    pandas.DataFrame
        A copy where the protected columns are text: counts at or above the threshold (and
        zeros) as whole numbers, small non-zero counts as ``"<threshold"``.

    Notes
    -----
    Primary suppression only: a table that also shows a total of suppressed cells could let a
    reader derive them, so the report's tables show either cells or totals of large groups,
    never both for the same small cells.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"columns not in table: {missing}")
    out = table.copy()
    for col in columns:
        values = pd.to_numeric(out[col], errors="raise")
        small = (values > 0) & (values < threshold)
        text = values.round().astype("Int64").map("{:,}".format)
        out[col] = text.where(~small, f"<{threshold}")
    return out


def is_suppressed(value: object) -> bool:
    """True for a cell :func:`suppress_small_counts` hid."""
    return isinstance(value, str) and value.startswith("<")
