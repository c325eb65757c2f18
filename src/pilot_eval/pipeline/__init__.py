"""One pilot, end to end: config → :func:`prepare` → :func:`evaluate` → ``results.json``.

- :mod:`~pilot_eval.pipeline.prepare`: config → :class:`PreparedPilot` (areas, panel, inputs);
- :mod:`~pilot_eval.pipeline.analyses`: the analysis registry (what runs, why, when not);
- :mod:`~pilot_eval.pipeline.evaluate`: the registry over every outcome → :class:`Evaluation`.
"""

from __future__ import annotations

from .analyses import (
    Analysis,
    AnalysisInput,
    Registry,
    default_registry,
    load_plugins,
    register,
)
from .evaluate import (
    Evaluation,
    NotComputed,
    OutcomeEvaluation,
    SurveyEvaluation,
    evaluate,
    outcome_problem,
    plan,
    write_results,
)
from .prepare import PreparedPilot, cache_dir, prepare

__all__ = [
    "Analysis",
    "AnalysisInput",
    "Evaluation",
    "NotComputed",
    "OutcomeEvaluation",
    "PreparedPilot",
    "Registry",
    "SurveyEvaluation",
    "cache_dir",
    "default_registry",
    "evaluate",
    "load_plugins",
    "outcome_problem",
    "plan",
    "prepare",
    "register",
    "write_results",
]
