"""Where the real public data live (``../shared`` beside the project), for ``shared`` tests.

The data are read in place and never copied into the repository; a fresh clone without
``../shared`` skips these tests with a reason instead of failing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: ``/…/shared``: the folder beside the project root.
SHARED = Path(__file__).resolve().parents[2] / "shared"


def need_shared(*relpaths: str) -> Path:
    """Return :data:`SHARED`, or skip the calling test if it or any ``relpaths`` is absent.

    Parameters
    ----------
    relpaths
        Paths relative to ``SHARED`` the test reads, e.g. ``"data/mps/vawg-offences.parquet"``.
    """
    if not SHARED.is_dir():
        pytest.skip(f"needs the real public data folder {SHARED} (not part of the repository)")
    for rel in relpaths:
        if not (SHARED / rel).exists():
            pytest.skip(f"needs {SHARED / rel} (real public data, not part of the repository)")
    return SHARED
