"""Shared internals of the inference modules (public names, not part of the public API).

Placebo assignments (:func:`assignments`) and the tie-tolerant "at least as extreme" count
(:func:`as_extreme`) used by the placebo, placebo-in-time, interval and conformal modules.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..wording import Direction

__all__ = ["TIE_RTOL", "as_extreme", "assignments"]

#: Relative tolerance that makes floating-point ties count as "at least as extreme".
TIE_RTOL = 1e-9


def assignments(
    n: int, n1: int, *, max_enumerate: int, n_draws: int, rng: np.random.Generator
) -> tuple[np.ndarray, bool]:
    """All ``C(n, n1)`` sets of areas (rows of indices), or ``n_draws`` random sets."""
    total = math.comb(n, n1)
    if total <= max_enumerate:
        if n1 == 1:
            return np.arange(n)[:, None], True
        flat = np.fromiter(
            itertools.chain.from_iterable(itertools.combinations(range(n), n1)),
            dtype=np.int64,
            count=total * n1,
        )
        return flat.reshape(total, n1), True
    out = np.empty((n_draws, n1), dtype=np.int64)
    chunk = max(1, 2_000_000 // n)
    for start in range(0, n_draws, chunk):
        b = min(chunk, n_draws - start)
        if n1 == 1:
            out[start : start + b, 0] = rng.integers(0, n, size=b)
        else:
            keys = rng.random((b, n))
            out[start : start + b] = np.sort(np.argpartition(keys, n1 - 1, axis=1)[:, :n1], 1)
    return out, False


def as_extreme(
    stat: np.ndarray, observed: np.ndarray, direction: Direction
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which statistics (last axis) are at least as extreme as ``observed``, and how many.

    Returns the mask in ``direction``, its count, and the count by absolute value (for the
    two-sided p-value). A relative tolerance makes floating-point ties count as extreme.
    """
    tol = TIE_RTOL * (1.0 + np.abs(observed))
    if direction == "decrease":
        ext = stat <= (observed + tol)[..., None]
    else:
        ext = stat >= (observed - tol)[..., None]
    n_two = (np.abs(stat) >= (np.abs(observed) - tol)[..., None]).sum(-1)
    return ext, ext.sum(-1), n_two
