"""pilot-eval: reproducible evaluation of place-based community-safety pilots.

The whole API a notebook needs::

    import pilot_eval as pe

    evaluation = pe.evaluate(pe.prepare("pilots/demo-belvedere.yml"))
    pe.write_results(evaluation, "out/")

and ``pe.run_pilot("pilots/x.yml")`` makes the funders' report (``reports/<slug>/``).
Estimators live in :mod:`pilot_eval.estimators`, inference that holds with one treated area in
:mod:`pilot_eval.inference`, readers in :mod:`pilot_eval.io`, the report in
:mod:`pilot_eval.report`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from .config import PilotConfig, load_config
from .errors import (
    ConfigError,
    DataQualityWarning,
    DataValidationError,
    OptionError,
    PilotEvalError,
    ReportError,
)
from .pipeline import (
    Analysis,
    AnalysisInput,
    Evaluation,
    NotComputed,
    OutcomeEvaluation,
    PreparedPilot,
    Registry,
    default_registry,
    evaluate,
    load_plugins,
    prepare,
    register,
    write_results,
)
from .results import Estimate, Result

if TYPE_CHECKING:
    from .report.run import RunOutputs, run_pilot

try:
    __version__ = version("pilot-eval")
except PackageNotFoundError:  # pragma: no cover - running from a source tree, uninstalled
    __version__ = "0+unknown"

__all__ = [
    "Analysis",
    "AnalysisInput",
    "ConfigError",
    "DataQualityWarning",
    "DataValidationError",
    "Estimate",
    "Evaluation",
    "NotComputed",
    "OptionError",
    "OutcomeEvaluation",
    "PilotConfig",
    "PilotEvalError",
    "PreparedPilot",
    "Registry",
    "ReportError",
    "Result",
    "RunOutputs",
    "__version__",
    "default_registry",
    "evaluate",
    "load_config",
    "load_plugins",
    "prepare",
    "register",
    "run_pilot",
    "write_results",
]


def __getattr__(name: str) -> Any:
    # The report runner pulls in papermill and nbconvert: loaded only when asked for.
    if name in ("run_pilot", "RunOutputs"):
        from .report import run

        return getattr(run, name)
    raise AttributeError(f"module 'pilot_eval' has no attribute {name!r}")
