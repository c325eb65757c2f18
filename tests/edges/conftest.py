"""Fixtures of the bad-input catalogue (helpers in ``edge_helpers.py``)."""

from edge_helpers import edge_base, make_case  # noqa: F401 - fixtures
