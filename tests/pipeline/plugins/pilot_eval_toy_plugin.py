"""A toy analysis plugin: what "one module plus one registry entry" looks like.

Imported by ``pilot-eval run -p plugins pilot_eval_toy_plugin`` (this folder on PYTHONPATH),
it registers a 2 × 2 before/after ratio as a check. Used by tests/pipeline/test_analyses.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

import pilot_eval as pe

LABEL = "Toy before/after ratio of ratios (test plugin)"


@dataclass(frozen=True)
class ToyResult(pe.Result):
    ratio: float

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame([{"ratio": self.ratio}])

    def summary(self) -> str:
        return f"toy ratio {self.ratio:.3f}"


def run(x: pe.AnalysisInput) -> ToyResult:
    t = x.totals()
    treated = t.loc["treated", "post"] / t.loc["treated", "pre"]
    comparison = t.loc["comparison", "post"] / t.loc["comparison", "pre"]
    return ToyResult(ratio=float(treated / comparison))


def estimates(result: ToyResult, x: pe.AnalysisInput) -> tuple[pe.Estimate, ...]:
    return (
        pe.Estimate(
            outcome=x.name,
            method="toy_ratio",
            estimate=result.ratio,
            ci_low=result.ratio / 2,
            ci_high=result.ratio * 2,
            p_value=None,
            scale="ratio",
            level=0.5,
            role="robustness",
            note="test plugin",
        ),
    )


TOY = pe.Analysis(
    name="toy_ratio",
    role="check",
    label=LABEL,
    assumes="nothing: it is a test",
    run=run,
    estimates=estimates,
)

pe.register(TOY, replace=True)
