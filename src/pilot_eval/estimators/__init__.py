# ruff: noqa: F401  (this module only re-exports)
"""Estimators: pure functions returning frozen results with ``.tidy()`` and ``.summary()``.

One estimator family per module: crime-science estimators (WDD family, rate tests, WDQ,
power, survey DiD, harm and cost) and quasi-experimental designs on counts (panel DiD and
event study, interrupted time series, synthetic control, comparison-area selection).
"""

from __future__ import annotations

from .did import DidResult, EventStudyResult, event_study, poisson_did
from .harm import (
    CostPerCrimeResult,
    cost_per_crime_prevented,
    harm_weighted_effect,
    load_harm_weights,
    load_unit_costs,
    police_uk_unit_cost,
)
from .its import ItsResult, interrupted_time_series
from .power import (
    MDEConformalResult,
    MDELogIRRResult,
    MDEProportionResult,
    MDEWDDResult,
    mde_conformal,
    mde_log_irr,
    mde_proportion_did,
    mde_wdd,
    placebo_can_reject,
)
from .rates import (
    DispersionResult,
    LogIRRResult,
    PoissonZResult,
    dispersion_test,
    e_test,
    log_irr,
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
    wdd_harm,
    wdd_scaled,
)
from .wdq import WDQResult, wdq
