"""Inference that holds when a pilot treats one area (or a few).

- :func:`placebo_in_space` — the treated area's rank among every area treated as a placebo
  (studentised DiD log ratio; floor ``1/N``).
- :func:`conformal_inference` — conformal inference over time (Chernozhukov, Wüthrich & Zhu
  2021): p-values for a multiplicative null and a confidence set for the rate ratio (floor
  ``1/T``).
- :func:`conley_taber_interval`, :func:`size_adjusted_interval` — intervals from the
  comparison areas' placebo estimates, labelled with their real level.
- :func:`check_cluster_inference` — refuses cluster-robust / wild-bootstrap inference with
  fewer than 10 treated clusters.
- :func:`mde_conformal` — the conformal test's minimum detectable effect, by simulation from
  the pre period; :func:`placebo_can_reject` — whether a placebo ranking can ever reject.
- the ``describe_*`` / ``format_*`` helpers are re-exported from :mod:`pilot_eval.wording`
  (plain-English numbers that never overstate) for convenience.

See ``../shared/methods/one-treated-area.md`` for why.
"""

from __future__ import annotations

from ..wording import (
    describe_interval,
    describe_rank,
    describe_ratio,
    describe_significance,
    format_level,
    format_p,
    format_ratio,
    headline_sentence,
    ordinal,
)
from .conformal import (
    ConformalArrays,
    ConformalResult,
    PoissonTwfeFit,
    conformal_arrays,
    conformal_inference,
    fit_poisson_twfe,
)
from .guards import MIN_TREATED_CLUSTERS, check_cluster_inference
from .intervals import (
    IntervalArrays,
    PlaceboInterval,
    closest_achievable_level,
    conley_taber_interval,
    placebo_interval_arrays,
    size_adjusted_interval,
)
from .placebo import (
    PanelArrays,
    PlaceboArrays,
    PlaceboResult,
    did_log_ratio,
    panel_arrays,
    placebo_arrays,
    placebo_in_space,
    pre_period_dispersion,
)
from .placebo_time import (
    PlaceboTimeArrays,
    PlaceboTimeResult,
    placebo_in_time,
    placebo_in_time_for,
    placebo_time_arrays,
)
from .power import MDEConformalResult, mde_conformal, placebo_can_reject

__all__ = [
    "MIN_TREATED_CLUSTERS",
    "ConformalArrays",
    "ConformalResult",
    "IntervalArrays",
    "MDEConformalResult",
    "PanelArrays",
    "PlaceboArrays",
    "PlaceboInterval",
    "PlaceboResult",
    "PlaceboTimeArrays",
    "PlaceboTimeResult",
    "PoissonTwfeFit",
    "check_cluster_inference",
    "closest_achievable_level",
    "conformal_arrays",
    "conformal_inference",
    "conley_taber_interval",
    "describe_interval",
    "describe_rank",
    "describe_ratio",
    "describe_significance",
    "did_log_ratio",
    "fit_poisson_twfe",
    "format_level",
    "format_p",
    "format_ratio",
    "headline_sentence",
    "mde_conformal",
    "ordinal",
    "panel_arrays",
    "placebo_arrays",
    "placebo_can_reject",
    "placebo_in_space",
    "placebo_in_time",
    "placebo_in_time_for",
    "placebo_time_arrays",
    "placebo_interval_arrays",
    "pre_period_dispersion",
    "size_adjusted_interval",
]
