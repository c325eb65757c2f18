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

from .._checks import MIN_TREATED_CLUSTERS, InferenceMethod, check_cluster_inference

__all__ = [
    "MIN_TREATED_CLUSTERS",
    "InferenceMethod",
    "check_cluster_inference",
]
