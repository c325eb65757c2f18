"""The report context: one object that every section, chart and map reads.

:class:`ReportContext` owns what must agree across the page — the significance level and
power, the small-count threshold, the pilot's and areas' names, and the synthetic and
illustrative flags — so no section can drift from another or from the config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import columns as C

if TYPE_CHECKING:
    from ..config import PilotConfig
    from ..pipeline import Evaluation, OutcomeEvaluation

__all__ = ["ReportContext", "build_context"]


@dataclass(frozen=True)
class ReportContext:
    """Everything the report's sections share.

    Attributes
    ----------
    evaluation
        The evaluation the report describes.
    alpha, power
        Significance level and power (from the config's ``report``).
    threshold
        Counts from 1 to ``threshold - 1`` are never published (tables, chart labels).
    area_name
        The pilot area's name(s), for sentences.
    n_areas
        Areas in the comparison, the pilot area(s) included (the buffer excluded).
    synthetic
        The data are the SYNTHETIC demo data.
    illustrative
        The intervention dates are not the pilot's real dates (``intervention.illustrative``).
    provenance
        The provenance block (``results.json``'s ``provenance``), when known.
    config_dir
        The config's folder (where a registered analysis plan is looked for), when known.
    """

    evaluation: Evaluation
    alpha: float
    power: float
    threshold: int
    area_name: str
    n_areas: int
    n_treated: int
    n_comparison: int
    synthetic: bool
    illustrative: bool
    provenance: dict[str, Any] | None = None
    config_dir: Path | None = None

    @property
    def config(self) -> PilotConfig:
        return self.evaluation.config

    @property
    def primary(self) -> OutcomeEvaluation:
        return self.evaluation.primary

    @property
    def title(self) -> str:
        t = self.config.report.title
        if self.illustrative and "illustrative" not in t.lower():
            t += " (illustrative dates)"
        return t

    @property
    def short_name(self) -> str:
        """The pilot area's name, or "the N pilot areas" (for the summary)."""
        return self.area_name if self.n_treated == 1 else f"the {self.n_treated} pilot areas"

    @property
    def has_buffer(self) -> bool:
        areas = self.evaluation.prepared.areas
        return bool((areas[C.GROUP] == "buffer").any())


def build_context(
    evaluation: Evaluation,
    *,
    provenance: dict[str, Any] | None = None,
    config_dir: Path | None = None,
) -> ReportContext:
    """The report context of an evaluation (options from its config)."""
    cfg = evaluation.config
    areas = evaluation.prepared.areas
    names = areas.loc[areas[C.GROUP] == "treated", C.NAME].astype(str).tolist()
    name = names[0] if len(names) == 1 else "the pilot areas (" + ", ".join(names) + ")"
    return ReportContext(
        evaluation=evaluation,
        alpha=cfg.report.alpha,
        power=cfg.report.power,
        threshold=cfg.report.small_count_threshold,
        area_name=name,
        n_areas=evaluation.prepared.n_areas,
        n_treated=evaluation.prepared.n_treated,
        n_comparison=int((areas[C.GROUP] == "comparison").sum()),
        synthetic=cfg.synthetic,
        illustrative=cfg.intervention.illustrative,
        provenance=provenance,
        config_dir=config_dir,
    )
