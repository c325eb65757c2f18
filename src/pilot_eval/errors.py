"""Exception hierarchy: every error the toolkit raises on purpose is a :class:`PilotEvalError`.

Messages are written for analysts: they name the file, the row or field, and what to do.
"""

from __future__ import annotations


class PilotEvalError(Exception):
    """Base class of every error pilot-eval raises on purpose."""


class ConfigError(PilotEvalError, ValueError):
    """A pilot config file is missing, malformed or inconsistent."""


class OptionError(ConfigError):
    """An option given to a library function is not one it accepts (the one error for bad options).

    Raised by :func:`pilot_eval._checks.check_option` and its siblings, whichever layer the
    function lives in, so a caller catches one type for every misspelt ``family=`` or
    out-of-range ``alpha=``.
    """


class DataValidationError(PilotEvalError, ValueError):
    """An input data file does not match its documented schema."""


class GeometryError(PilotEvalError, ValueError):
    """Area geometry cannot be used (missing CRS, empty, no overlap...)."""


class EstimationError(PilotEvalError, RuntimeError):
    """An estimator cannot produce a valid answer for this input."""


class InferenceRefusedError(PilotEvalError, ValueError):
    """An inference method was asked for where it is known not to hold.

    Raised, for example, when cluster-robust intervals are requested with fewer than ten
    treated clusters (see ``docs`` and ``../shared/methods/one-treated-area.md``).
    """


class ReportError(PilotEvalError, RuntimeError):
    """Building a report failed; the message says where the failed notebook is."""


class ClusterError(PilotEvalError, RuntimeError):
    """The executor or Dask cluster given for the placebo work failed (a worker died, the
    scheduler went away)."""


class FetchError(PilotEvalError, RuntimeError):
    """Downloading public data failed."""


class RunInterrupted(KeyboardInterrupt):
    """A run was stopped by SIGINT (Ctrl-C) or SIGTERM; the previous report was kept.

    A ``KeyboardInterrupt`` (not a :class:`PilotEvalError`), so code that lets Ctrl-C through
    lets this through too. ``signum`` is the signal; the CLI exits with ``128 + signum``.
    """

    def __init__(self, signum: int, message: str = "") -> None:
        super().__init__(message or f"stopped by signal {signum}")
        self.signum = int(signum)
        self.message = message or f"stopped by signal {signum}"

    def __str__(self) -> str:
        return self.message


class DataQualityWarning(UserWarning):
    """Rows of the user's data were left out, repaired or filled in.

    The pipeline turns these into the report's "About the data" notes; other warnings
    (e.g. a cache that could not be written) stay in the analyst's log.
    """


class MissingDependencyError(PilotEvalError, ImportError):
    """An optional dependency is needed for this feature and is not installed."""


def require(module: str, *, feature: str, extra: str | None = None):
    """Import an optional dependency lazily, with an install hint on failure.

    Parameters
    ----------
    module
        Importable module name.
    feature
        What the user was trying to do, for the message.
    extra
        Name of the pip extra that provides it, if any.
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without the package
        hint = f"pip install 'pilot-eval[{extra}]'" if extra else f"pip install {module}"
        raise MissingDependencyError(
            f"{feature} needs the optional package '{module}', which is not installed. "
            f"Install it with: {hint}"
        ) from exc
