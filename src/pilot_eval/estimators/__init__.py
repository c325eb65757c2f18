# ruff: noqa: F401  (this module only re-exports)
"""Estimators: pure functions returning frozen results with ``.tidy()`` and ``.summary()``.

Crime-science estimators (WDD family, rate tests, WDQ, power, survey DiD, harm and cost) are
re-exported below. Other estimator modules (did, its, synth, selection) are added by others:
append their imports to the list below, one import line per module.
"""

from __future__ import annotations

from .harm import (
    CostPerCrimeResult,
    cost_per_crime_prevented,
    harm_weighted_effect,
    load_harm_weights,
    load_unit_costs,
    police_uk_unit_cost,
)
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
    poisson_z,
)
from .survey import SurveyDiDResult, survey_did
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

# Other estimator modules (did, its, synth, selection) are added here by others.
