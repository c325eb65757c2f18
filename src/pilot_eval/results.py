"""Result records shared by every estimator, and the ``results.json`` contract.

Every estimator returns a frozen dataclass that inherits :class:`Result`, so it has
``.tidy()`` (one row per estimate) and ``.summary()`` (plain English). The report collects
:class:`Estimate` rows, the only shape written to ``results.json``.

``results.json`` (read by other tools)::

    {"pilot": slug, "synthetic": bool, "schema_version": 1,
     "estimates": [{"outcome", "method", "estimate", "ci_low", "ci_high", "p_value",
                    "scale", "level", "role", "note"}], ...}

``scale`` is ``"count"`` (crimes), ``"ratio"`` (incidence-rate ratio, 1.0 = no change) or
``"quotient"`` (the weighted displacement quotient: 0 = no displacement or diffusion, > 0 the
benefit spread to the buffer, < 0 crime moved there), ``"harm"`` (Crime Severity Score days of
custody equivalent prevented) or ``"gbp"`` (pounds of social cost prevented).
``level`` is the interval's real coverage level (e.g. 0.882 for a min–max placebo interval
with 17 areas), never a nominal one it does not have. ``role`` is ``"headline"``,
``"robustness"`` or ``"secondary"``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args

import pandas as pd

Scale = Literal["count", "ratio", "quotient", "harm", "gbp"]
Role = Literal["headline", "robustness", "secondary"]

SCHEMA_VERSION = 1


class Result:
    """Mixin for frozen estimator results: ``tidy()`` and ``summary()``."""

    def tidy(self) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def summary(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python view of the scalar fields (arrays and frames left out)."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, (int, float, str, bool)) or v is None:
                out[f.name] = v
        return out

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True)
class Estimate:
    """One estimate as published in ``results.json`` and the report's tables."""

    outcome: str
    method: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float | None
    scale: Scale
    level: float
    role: Role = "robustness"
    note: str = ""

    def __post_init__(self) -> None:
        if self.scale not in get_args(Scale):
            raise ValueError(f"scale must be one of {get_args(Scale)}, not {self.scale!r}")
        if not (0.0 < self.level < 1.0):
            raise ValueError(f"level must be in (0, 1), not {self.level!r}")
        if self.p_value is not None and not (0.0 < self.p_value <= 1.0):
            # A p-value of exactly 0 is never reported: permutation p-values are >= 1/N.
            raise ValueError(f"p_value must be in (0, 1], not {self.p_value!r}")


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


@dataclass(frozen=True)
class ResultsDocument:
    """Everything written to ``results.json``."""

    pilot: str
    synthetic: bool
    estimates: tuple[Estimate, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "pilot": self.pilot,
            "synthetic": self.synthetic,
            "estimates": [{k: _clean(v) for k, v in asdict(e).items()} for e in self.estimates],
        }
        doc.update(self.extra)
        return doc

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_json_dict(), indent=2, allow_nan=False, default=str))
        tmp.replace(path)
        return path


def estimates_frame(estimates: list[Estimate] | tuple[Estimate, ...]) -> pd.DataFrame:
    """Estimates as a DataFrame, one row each."""
    return pd.DataFrame([asdict(e) for e in estimates])
