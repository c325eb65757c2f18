"""The few distribution functions the toolkit needs, from ``scipy.special`` alone.

``scipy.stats`` takes about a second to import (it parses the docstrings of every
distribution) and ``statsmodels`` pulls it in; a report kernel pays that on every run. These
are the formulas ``scipy.stats`` itself evaluates (``norm.sf(x) = ndtr(-x)``, ``norm.ppf(q) =
ndtri(q)``, ``chi2.sf(x, df) = chdtrc(df, x)``, the Poisson pmf by ``xlogy`` and
``gammaln``, the hypergeometric log-pmf by ``betaln``), and R's ``p.adjust`` for the
step-up/step-down adjustments; ``tests/test_dist.py`` checks each against scipy.stats and
statsmodels.
"""

from __future__ import annotations

import numpy as np
from scipy import special

__all__ = [
    "chi2_sf",
    "hypergeom_logpmf",
    "norm_ppf",
    "norm_sf",
    "p_adjust",
    "poisson_pmf",
    "rank_max",
]


def norm_sf(x):
    """Upper tail of the standard normal, ``P(Z > x)``."""
    return special.ndtr(np.negative(x))


def norm_ppf(q):
    """Quantile of the standard normal."""
    return special.ndtri(q)


def chi2_sf(x, df):
    """Upper tail of the chi-squared distribution with ``df`` degrees of freedom."""
    return special.chdtrc(df, x)


def poisson_pmf(k, mu):
    """Poisson probabilities ``P(K = k)`` with mean ``mu`` (``k`` whole numbers >= 0)."""
    k = np.asarray(k, dtype=float)
    return np.exp(special.xlogy(k, mu) - special.gammaln(k + 1) - mu)


def hypergeom_logpmf(k, total, good, drawn):
    """Log-probability of ``k`` good items in ``drawn`` draws from ``total`` items, ``good`` good."""
    k, total, good, drawn = (np.asarray(a, dtype=float) for a in (k, total, good, drawn))
    bad = total - good
    return (
        special.betaln(good + 1, 1)
        + special.betaln(bad + 1, 1)
        + special.betaln(total - drawn + 1, drawn + 1)
        - special.betaln(k + 1, good - k + 1)
        - special.betaln(drawn - k + 1, bad - drawn + k + 1)
        - special.betaln(total + 1, 1)
    )


def rank_max(values) -> np.ndarray:
    """Ranks from 1, ties given the largest rank of their group (``rankdata(method="max")``)."""
    v = np.asarray(values)
    order = np.argsort(v, kind="stable")
    s = v[order]
    # The last position of each run of equal values, for every position of the run.
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    run = np.repeat(last, np.diff(np.r_[-1, last]))
    out = np.empty(len(v), dtype=np.int64)
    out[order] = run + 1
    return out


def p_adjust(p, method: str) -> np.ndarray:
    """Adjusted p-values as R's ``p.adjust``: ``bonferroni``, ``holm``, ``hochberg``, ``BH``, ``BY``.

    Notes
    -----
    Holm (1979) steps down: ``cummax((n - i + 1) p_(i))``; Hochberg (1988), Benjamini &
    Hochberg (1995) and Benjamini & Yekutieli (2001) step up from the largest p:
    ``cummin`` of ``(n - i + 1) p_(i)``, ``n / i p_(i)`` and ``sum(1/j) n / i p_(i)``; all
    capped at 1.
    """
    p = np.asarray(p, dtype=float)
    n = p.size
    if n == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(1.0, n * p)
    i = np.arange(1, n + 1, dtype=float)
    if method == "holm":
        o = np.argsort(p, kind="stable")
        adj = np.maximum.accumulate((n - i + 1) * p[o])
    else:
        o = np.argsort(-p, kind="stable")  # largest first
        rank = n - i + 1  # the rank of each, from the largest: n, n-1, ..., 1
        if method == "hochberg":
            factor = n - rank + 1
        elif method == "BH":
            factor = n / rank
        elif method == "BY":
            factor = np.sum(1.0 / i) * n / rank
        else:
            raise ValueError(f"unknown adjustment {method!r}")
        adj = np.minimum.accumulate(factor * p[o])
    out = np.empty(n)
    out[o] = np.minimum(1.0, adj)
    return out
