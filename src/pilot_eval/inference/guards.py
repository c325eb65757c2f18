"""Refuse inference that is known not to hold with few treated areas.

With one treated area (or a handful), cluster-robust standard errors estimate the variance
from the comparison areas alone: with area fixed effects the treated area's score for the
treatment coefficient is exactly zero, so its own noise — the noise that matters — is ignored.
In a simulation of Bexley's 17 wards with one treated ward, cluster-robust Poisson intervals
rejected a true null 63–66 % of the time at the nominal 5 % level, and the wild cluster
bootstrap 0 % (null imposed) or 54–59 % (not imposed). See
``../shared/methods/one-treated-area.md`` and MacKinnon & Webb (2017, 2020).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal, get_args

from ..errors import ConfigError, InferenceRefusedError

__all__ = [
    "MIN_TREATED_CLUSTERS",
    "InferenceMethod",
    "check_cluster_inference",
    "check_option",
]

#: Fewest treated clusters for which cluster-robust or wild-bootstrap inference is allowed.
MIN_TREATED_CLUSTERS: Final = 10

InferenceMethod = Literal[
    "cluster_robust",
    "wild_bootstrap",
    "heteroskedasticity_robust",
    "quasi_poisson",
    "placebo_in_space",
    "conformal",
    "conley_taber",
    "size_adjusted_placebo",
]
_REFUSED: Final = ("cluster_robust", "wild_bootstrap")

_WHY = {
    "cluster_robust": (
        "cluster-robust intervals ignore the treated area's own noise and call a true null "
        "'significant' about two times in three in a simulation of 17 wards (63–66 % false "
        "positives at the nominal 5 % level; 27 % with 2 treated wards, 9 % with 5)"
    ),
    "wild_bootstrap": (
        "the wild cluster bootstrap either never rejects (null imposed: 0 % false positives in "
        "a simulation of 17 wards) or rejects a true null more than half the time (not imposed: "
        "54–59 %), and it is built for linear models, not counts"
    ),
}


def check_option(name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise a plain-English :class:`~pilot_eval.errors.ConfigError` if ``value`` is not allowed.

    Used at the boundary of every public inference function to check ``Literal`` options.
    """
    allowed = tuple(allowed)
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ConfigError(f"{name} must be one of {choices}; got {value!r}.")


def check_cluster_inference(n_treated_clusters: int, *, method: InferenceMethod) -> None:
    """Refuse cluster-robust or wild-bootstrap inference with fewer than 10 treated clusters.

    Parameters
    ----------
    n_treated_clusters
        Number of treated clusters (treated areas, when clustering by area).
    method
        The inference the caller is about to use. Only ``"cluster_robust"`` and
        ``"wild_bootstrap"`` can be refused; every other method passes.

    Raises
    ------
    InferenceRefusedError
        When ``method`` is cluster-robust or wild bootstrap and there are fewer than
        :data:`MIN_TREATED_CLUSTERS` treated clusters. The message says why and what to use.
    ConfigError
        When ``method`` is not a known method or ``n_treated_clusters`` is below 1.

    Notes
    -----
    Estimand: none; this is a guard. Assumption behind the threshold: cluster-robust and
    wild-bootstrap inference are justified by asymptotics in the number of *treated* clusters
    (Conley & Taber 2011; MacKinnon & Webb 2017, 2020); with fewer than about ten, their size
    is badly wrong. The figures in the message come from a seeded simulation of Bexley's 17
    wards (``../shared/methods/one-treated-area.md``); ``tests/test_inference_simulation.py``
    reproduces the one-treated-ward case.
    """
    check_option("method", method, get_args(InferenceMethod))
    if isinstance(n_treated_clusters, bool) or int(n_treated_clusters) != n_treated_clusters:
        raise ConfigError(f"n_treated_clusters must be a whole number, got {n_treated_clusters!r}")
    if n_treated_clusters < 1:
        raise ConfigError(
            f"n_treated_clusters must be at least 1, got {n_treated_clusters}: "
            "there is nothing to evaluate without a treated area."
        )
    if method not in _REFUSED or n_treated_clusters >= MIN_TREATED_CLUSTERS:
        return
    areas = "area" if n_treated_clusters == 1 else "areas"
    raise InferenceRefusedError(
        f"With {n_treated_clusters} treated {areas}, {_WHY[method]}, so pilot-eval refuses "
        f"{method.replace('_', '-')} inference: it needs at least {MIN_TREATED_CLUSTERS} treated "
        "clusters. Use inference that holds with one treated area instead: the placebo-in-space "
        "rank test (pilot_eval.inference.placebo_in_space), conformal inference over time "
        "(conformal_inference) or the size-adjusted placebo interval "
        "(size_adjusted_interval). A quasi-Poisson model-based interval may be shown as a "
        "secondary figure, flagged as assuming no serial correlation."
    )
