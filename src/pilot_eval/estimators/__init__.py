# ruff: noqa: F401  (this module only re-exports)
"""Estimators: pure functions returning frozen results with ``.tidy()`` and ``.summary()``.

One estimator family per module: crime-science estimators (WDD family, rate tests, WDQ,
power, survey DiD, harm and cost) and quasi-experimental designs on counts (panel DiD and
event study, interrupted time series, synthetic control, comparison-area selection).

One dialect: every design is panel-first, ``f(panel, *, outcome=..., ...)`` on the long panel
of :mod:`pilot_eval.columns`. The crime-science designs also have count-level twins on
``(pre, post)`` count pairs, for the published examples: :func:`wdd_counts`,
:func:`wdd_scaled_counts`, :func:`wdd_harm_counts`, :func:`log_irr_counts`, :func:`wdq_counts`.
:func:`e_test`, :func:`poisson_z` and :func:`dispersion_test` are tests on counts, not designs.

Estimators never import :mod:`pilot_eval.inference`; the conformal test's MDE is
:func:`pilot_eval.inference.mde_conformal`.
"""

from __future__ import annotations

from .did import DidResult, EventStudyResult, event_study, poisson_did
from .harm import (
    CostPerCrimeResult,
    ValuePreventedResult,
    cost_per_crime_prevented,
    harm_weight_of_mix,
    harm_weighted_effect,
    load_harm_weights,
    load_unit_costs,
    police_uk_unit_cost,
    unit_cost_of_mix,
    value_prevented,
)
from .its import ItsResult, interrupted_time_series
from .power import (
    MDELogIRRResult,
    MDEProportionResult,
    MDEWDDResult,
    mde_log_irr,
    mde_proportion_did,
    mde_wdd,
)
from .rates import (
    DispersionResult,
    LogIRRResult,
    PoissonZResult,
    dispersion_test,
    e_test,
    log_irr,
    log_irr_counts,
    panel_dispersion_test,
    poisson_z,
)
from .selection import SelectionResult, rank_comparison_areas
from .survey import SurveyDiDResult, survey_did
from .synth import SynthResult, simplex_weights, synthetic_control
from .wdd import (
    RunningWDDResult,
    WDDHarmResult,
    WDDResult,
    running_wdd,
    wdd,
    wdd_counts,
    wdd_harm,
    wdd_harm_counts,
    wdd_scaled,
    wdd_scaled_counts,
)
from .wdq import WDQIntervalResult, WDQResult, wdq, wdq_counts, wdq_interval, wdq_interval_counts
