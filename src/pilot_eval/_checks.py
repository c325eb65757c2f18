"""The one set of validators for *options* given to library functions.

Every estimator and inference function checks its options (``family=``, ``vcov=``,
``direction=``, ``alpha=``, ``level=``, ``power=``, ``scale=``, ...) with these helpers, so a
bad option always raises :class:`~pilot_eval.errors.OptionError` (a
:class:`~pilot_eval.errors.ConfigError`) with a message that names the option, the value given
and what is allowed. Problems with the *data* (negative counts, an empty panel) are not options:
they raise :class:`~pilot_eval.errors.DataValidationError` where they are found.

:func:`check_cluster_inference` is the one refusal that depends on an option: cluster-robust or
wild-bootstrap inference with fewer than ten treated clusters raises
:class:`~pilot_eval.errors.InferenceRefusedError` (it lives here so estimators can refuse it
without importing :mod:`pilot_eval.inference`, which re-exports it from
:mod:`pilot_eval.inference.guards`).

Ground level: imports nothing from pilot_eval but :mod:`pilot_eval.errors`.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable
from typing import Final, Literal, get_args

from .errors import InferenceRefusedError, OptionError

__all__ = [
    "MIN_TREATED_CLUSTERS",
    "InferenceMethod",
    "check_alpha",
    "check_bool",
    "check_cluster_inference",
    "check_fraction",
    "check_level",
    "check_option",
    "check_positive",
    "check_whole",
]


def _is_real(value: object) -> bool:
    """A real number (Python or NumPy), not a bool or a string."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_option(name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise :class:`OptionError` unless ``value`` is one of ``allowed`` (a ``Literal`` choice).

    The message names the option, the value given, every allowed value and, when the value is
    a near miss of one of them (``"quasi-poisson"`` for ``"quasipoisson"``), asks whether that
    was meant.

    Parameters
    ----------
    name
        The option's name as the caller wrote it (``"family"``).
    value
        The value given.
    allowed
        The accepted values (e.g. ``typing.get_args(Family)``).
    """
    choices = tuple(allowed)
    try:
        ok = value in choices
    except TypeError:  # an unhashable or incomparable value is never a valid choice
        ok = False
    if ok:
        return
    listed = ", ".join(repr(a) for a in choices)
    msg = f"{name} must be one of {listed}; got {value!r}."
    if isinstance(value, str):
        texts = {str(a): a for a in choices if isinstance(a, str)}
        close = difflib.get_close_matches(value, list(texts), n=1, cutoff=0.6)
        if not close:
            lowered = {t.lower(): t for t in texts}
            close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
            close = [lowered[c] for c in close]
        if close:
            msg += f" Did you mean {texts[close[0]]!r}?"
    raise OptionError(msg)


def check_fraction(
    value: object,
    name: str,
    *,
    example: str | None = None,
    upper: float = 1.0,
) -> float:
    """``value`` as a float strictly between 0 and ``upper`` (default 1), else :class:`OptionError`.

    Parameters
    ----------
    value
        The option's value.
    name
        Its name, for the message.
    example
        A hint shown in the message (``"e.g. 0.8"``).
    upper
        The exclusive upper bound (1 for a probability; 0.5 for a two-sided ``alpha`` in the
        count-panel designs).
    """
    hint = f" ({example})" if example else ""
    if not _is_real(value):
        raise OptionError(
            f"{name} must be a number strictly between 0 and {upper:g}{hint}, got {value!r}."
        )
    v = float(value)  # type: ignore[arg-type]
    if not (0.0 < v < upper):
        raise OptionError(f"{name} must be strictly between 0 and {upper:g}{hint}, got {value!r}.")
    return v


def check_alpha(alpha: object, name: str = "alpha", *, upper: float = 1.0) -> float:
    """A significance level: a float strictly between 0 and ``upper``, else :class:`OptionError`.

    ``upper`` is 1 for the crime-science estimators (any level) and 0.5 for the count-panel
    designs, whose intervals are two-sided (``alpha = 0.05`` gives 95 % intervals).
    """
    return check_fraction(alpha, name, example="e.g. 0.05 for a 95 % interval", upper=upper)


def check_level(level: object, name: str = "level") -> float:
    """An interval's coverage level: a float strictly between 0 and 1, else :class:`OptionError`."""
    return check_fraction(level, name, example="e.g. 0.95 for a 95 % interval")


def check_positive(value: object, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a finite float above zero (or at least zero), else :class:`OptionError`."""
    need = "zero or more" if allow_zero else "greater than zero"
    if not _is_real(value):
        raise OptionError(f"{name} must be a finite number {need}, got {value!r}.")
    v = float(value)  # type: ignore[arg-type]
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise OptionError(f"{name} must be a finite number {need}, got {value!r}.")
    return v


def check_whole(value: object, name: str, *, minimum: int = 1) -> int:
    """``value`` as an int, at least ``minimum``, else :class:`OptionError`.

    Whole floats (``200.0``) are accepted; bools, fractions and strings are not.
    """
    if not _is_real(value) or not math.isfinite(float(value)):  # type: ignore[arg-type]
        raise OptionError(f"{name} must be a whole number of at least {minimum}, got {value!r}.")
    v = float(value)  # type: ignore[arg-type]
    if v != int(v) or int(v) < minimum:
        raise OptionError(f"{name} must be a whole number of at least {minimum}, got {value!r}.")
    return int(v)


def check_bool(value: object, name: str) -> bool:
    """``value`` itself when it is True or False, else :class:`OptionError`."""
    if not isinstance(value, bool):
        raise OptionError(f"{name} must be True or False, not {value!r}.")
    return value


# ---------------------------------------------------------------------------------------------
# Refusing cluster inference with few treated clusters (see pilot_eval.inference.guards)
# ---------------------------------------------------------------------------------------------
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
    OptionError
        When ``method`` is not a known method or ``n_treated_clusters`` is below 1.

    Notes
    -----
    Estimand: none; this is a guard. Assumption behind the threshold: cluster-robust and
    wild-bootstrap inference are justified by asymptotics in the number of *treated* clusters
    (Conley & Taber 2011; MacKinnon & Webb 2017, 2020); with fewer than about ten, their size
    is badly wrong. The figures in the message come from a seeded simulation of Bexley's 17
    wards (``../shared/methods/one-treated-area.md``); ``tests/inference/test_inference_simulation.py``
    reproduces the one-treated-ward case.
    """
    check_option("method", method, get_args(InferenceMethod))
    if isinstance(n_treated_clusters, bool) or int(n_treated_clusters) != n_treated_clusters:
        raise OptionError(f"n_treated_clusters must be a whole number, got {n_treated_clusters!r}")
    if n_treated_clusters < 1:
        raise OptionError(
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
