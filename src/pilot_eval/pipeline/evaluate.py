"""Evaluate a prepared pilot: every registered analysis, for every outcome.

:func:`evaluate` loops over the analysis registry (:mod:`pilot_eval.pipeline.analyses`) for
each outcome and returns an :class:`Evaluation`: typed results per outcome, the analyses that
were not computed with the reason, and outcomes that could not be estimated at all. The
primary (first) outcome failing fails the evaluation, with the reason; a secondary outcome
failing becomes a stated "could not be estimated, because …" block.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import columns as C
from ..errors import DataValidationError, OptionError, PilotEvalError
from ..results import Estimate, Result
from .analyses import Analysis, AnalysisInput, Registry, default_registry, outcome_totals

if TYPE_CHECKING:
    from ..config import Outcome, PilotConfig
    from ..results import ResultsDocument
    from .prepare import PreparedPilot

__all__ = [
    "Evaluation",
    "NotComputed",
    "OutcomeEvaluation",
    "SurveyEvaluation",
    "evaluate",
    "outcome_problem",
    "plan",
    "write_results",
]


@dataclass(frozen=True)
class NotComputed:
    """An analysis that did not run for an outcome, and why (a sentence for the report)."""

    outcome: str
    analysis: str
    label: str
    role: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {
            "outcome": self.outcome,
            "analysis": self.analysis,
            "label": self.label,
            "role": self.role,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class OutcomeEvaluation:
    """The results of every analysis for one outcome.

    Attributes
    ----------
    outcome
        The outcome's name.
    expected_change
        ``decrease`` or ``increase``: the direction the pilot aimed for.
    totals
        Crimes by group before and after the start (``group, pre, post``).
    results
        Result of each analysis that ran, by analysis name, in registry order.
    not_computed
        Analyses that did not run here, each with its reason.
    estimates
        The outcome's rows of ``results.json`` (:class:`~pilot_eval.results.Estimate`).
    reason
        Set when the outcome could not be estimated at all (then ``results`` is empty).
    """

    outcome: str
    expected_change: str
    totals: pd.DataFrame
    results: Mapping[str, Result]
    not_computed: tuple[NotComputed, ...] = ()
    estimates: tuple[Estimate, ...] = ()
    reason: str | None = None

    @property
    def estimated(self) -> bool:
        return self.reason is None

    def __getitem__(self, name: str) -> Any:
        try:
            return self.results[name]
        except KeyError:
            why = next((n.reason for n in self.not_computed if n.analysis == name), None)
            raise KeyError(
                f"{self.outcome}: analysis {name!r} was not computed" + (f" ({why})" if why else "")
            ) from None

    def get(self, name: str) -> Any:
        """The result of analysis ``name``, or ``None`` when it was not computed."""
        return self.results.get(name)


@dataclass(frozen=True)
class SurveyEvaluation:
    """Feelings of safety: the survey DiD in proportions and what the survey could detect."""

    question: str
    result: Any
    mde: Any
    shares: pd.DataFrame

    def to_json(self) -> dict[str, Any]:
        """The ``survey`` block of ``results.json`` (a difference in shares, not a ratio)."""
        r = self.result
        return {
            "question": self.question,
            "method": "survey_did_proportion",
            "scale": "difference_in_proportions",
            "estimate": float(r.est),
            "ci_low": float(r.ci_low),
            "ci_high": float(r.ci_high),
            "p_value": float(r.p_value),
            "level": 1 - float(r.alpha),
            "mde": float(self.mde.mde),
            "note": "Kish effective sample sizes; ignores clustering of respondents in areas",
        }


@dataclass(frozen=True)
class Evaluation:
    """The evaluation of one pilot: its prepared data and one block per outcome."""

    prepared: PreparedPilot
    outcomes: tuple[OutcomeEvaluation, ...]
    survey: SurveyEvaluation | None = None
    #: (name, role, label, assumes) of every analysis in the registry that was used.
    analyses: tuple[tuple[str, str, str, str], ...] = ()

    @property
    def config(self) -> PilotConfig:
        return self.prepared.config

    @property
    def estimates(self) -> tuple[Estimate, ...]:
        return tuple(e for o in self.outcomes for e in o.estimates)

    @property
    def primary(self) -> OutcomeEvaluation:
        return self.outcomes[0]

    @property
    def estimated_outcomes(self) -> tuple[OutcomeEvaluation, ...]:
        return tuple(o for o in self.outcomes if o.estimated)

    @property
    def not_computed(self) -> tuple[NotComputed, ...]:
        return tuple(n for o in self.outcomes for n in o.not_computed)

    def results_document(self) -> ResultsDocument:
        from ..results import ResultsDocument

        cfg = self.config
        done = self.estimated_outcomes
        extra: dict[str, Any] = {
            "title": cfg.report.title,
            "treated_areas": list(
                self.prepared.areas.loc[self.prepared.areas[C.GROUP] == "treated", C.AREA]
            ),
            "n_areas": self.prepared.n_areas,
            "intervention_start": f"{cfg.intervention.start:%Y-%m}",
            "months": [f"{cfg.months[0]:%Y-%m}", f"{cfg.months[-1]:%Y-%m}"],
            "power": [_power_json(o) for o in done if o.get("mde") is not None],
            "placebo": [_placebo_json(o) for o in done if o.get("placebo") is not None],
            "data_notes": list(self.prepared.data_notes),
            "windows": {
                "pre_months": cfg.windows.pre_months,
                "post_months": cfg.windows.post_months,
            },
            "n_treated": self.prepared.n_treated,
            "n_comparison": int((self.prepared.areas[C.GROUP] == "comparison").sum()),
        }
        extra["sensitivity"] = [
            o["sensitivity"].to_json() for o in done if o.get("sensitivity") is not None
        ]
        if self.survey is not None:
            extra["survey"] = self.survey.to_json()
        extra["analyses"] = [
            {"name": n, "role": r, "label": lab, "assumes": a} for n, r, lab, a in self.analyses
        ]
        extra["computed"] = [
            {"outcome": o.outcome, "analysis": name} for o in done for name in o.results
        ]
        # Every scalar of every result, so any number the report prints can be traced here.
        extra["results"] = {
            o.outcome: {name: _scalars(r) for name, r in o.results.items()} for o in done
        }
        extra["not_computed"] = [n.to_json() for n in self.not_computed]
        extra["outcomes_not_estimated"] = [
            {"outcome": o.outcome, "reason": o.reason} for o in self.outcomes if not o.estimated
        ]
        return ResultsDocument(
            pilot=cfg.slug, synthetic=cfg.synthetic, estimates=self.estimates, extra=extra
        )


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _scalars(result: Result) -> dict[str, Any]:
    """A result's scalar fields (numbers, text, flags), JSON-safe (no NaN or inf)."""
    import dataclasses

    out: dict[str, Any] = {}
    if not dataclasses.is_dataclass(result):
        return out
    for f in dataclasses.fields(result):
        v = getattr(result, f.name)
        if isinstance(v, bool | str) or v is None:
            out[f.name] = v
        elif isinstance(v, int | float | np.integer | np.floating):
            x = float(v)
            out[f.name] = (
                int(v) if isinstance(v, int | np.integer) else (x if math.isfinite(x) else None)
            )
    return out


def _power_json(o: OutcomeEvaluation) -> dict[str, Any]:
    m = o["mde"]
    return {
        "outcome": o.outcome,
        "method": m.method,
        "direction": m.direction,
        "detectable": bool(m.detectable),
        "mde_irr": _finite(m.irr),
        "mde_pct_change": _finite(m.pct_change),
        "alpha": m.alpha,
        "power": m.power,
        "two_sided": m.two_sided,
    }


def _placebo_json(o: OutcomeEvaluation) -> dict[str, Any]:
    p = o["placebo"]
    return {
        "outcome": o.outcome,
        "rank": int(p.rank),
        "n_reference": int(p.n_reference),
        "min_p": float(p.min_p),
        "direction": p.direction,
    }


def outcome_problem(prepared: PreparedPilot, outcome: Outcome) -> str | None:
    """Why an outcome cannot be estimated at all (``None`` when it can).

    A rate ratio needs recorded crimes in the pilot area both before and after the start,
    and in the comparison areas before it.
    """
    t = outcome_totals(prepared.panel, outcome.name).set_index(C.GROUP)
    noun = outcome.name
    pre_m = prepared.config.windows.pre_months
    post_m = prepared.config.windows.post_months

    def total(group: str, when: str) -> float:
        return float(t.loc[group, when]) if group in t.index else 0.0

    if total("treated", "pre") == 0:
        return (
            f"the pilot area has no recorded {noun!r} in the {pre_m} months before the start, "
            "so there is no change to estimate"
        )
    if total("treated", "post") == 0:
        return (
            f"the pilot area has no recorded {noun!r} in the {post_m} months from the start, "
            "so a rate ratio (after / before) cannot be estimated"
        )
    if total("comparison", "pre") == 0 or total("comparison", "post") == 0:
        return f"the comparison areas have no recorded {noun!r} before or after the start"
    return None


def _run_outcome(
    prepared: PreparedPilot,
    outcome: Outcome,
    registry: Registry,
    *,
    alpha: float,
    power: float,
    seed: int,
    executor: Executor | None = None,
) -> OutcomeEvaluation:
    done: dict[str, Result] = {}
    skipped: list[NotComputed] = []
    rows: list[Estimate] = []
    totals = outcome_totals(prepared.panel, outcome.name)
    for a in registry:
        x = AnalysisInput(
            prepared=prepared,
            outcome=outcome,
            alpha=alpha,
            power=power,
            seed=seed,
            done=MappingProxyType(dict(done)),
            executor=executor,
        )
        reason = _unmet(a, done, skipped) or a.requires(x)
        if reason is None:
            try:
                result = a.run(x)
            except PilotEvalError as exc:
                if a.role == "headline":
                    raise
                reason = f"it could not be computed on these data: {exc}"
            else:
                done[a.name] = result
                rows.extend(a.estimates(result, x))
                continue
        skipped.append(
            NotComputed(
                outcome=outcome.name, analysis=a.name, label=a.label, role=a.role, reason=reason
            )
        )
    return OutcomeEvaluation(
        outcome=outcome.name,
        expected_change=outcome.expected_change,
        totals=totals,
        results=MappingProxyType(done),
        not_computed=tuple(skipped),
        estimates=tuple(rows),
    )


def _unmet(a: Analysis, done: Mapping[str, Result], skipped: list[NotComputed]) -> str | None:
    missing = [n for n in a.needs if n not in done]
    if not missing:
        return None
    labels = {s.analysis: s.label for s in skipped}
    return "it needs " + ", ".join(labels.get(n, n) for n in missing) + ", which was not computed"


def plan(prepared: PreparedPilot, *, registry: Registry | None = None) -> tuple[NotComputed, ...]:
    """What :func:`evaluate` will leave out, and why, without fitting anything.

    Runs each outcome's estimability check and each analysis's ``requires`` (as
    ``pilot-eval validate`` does), so a pilot's gaps are known before a run. An outcome that
    cannot be estimated is listed with ``analysis="*"``. Analyses that fail only while being
    computed are not foreseen here.
    """
    reg = default_registry() if registry is None else registry
    cfg = prepared.config
    out: list[NotComputed] = []
    for spec in cfg.outcomes:
        problem = outcome_problem(prepared, spec)
        if problem is not None:
            out.append(NotComputed(spec.name, "*", spec.name, "outcome", problem))
            continue
        skipped: list[NotComputed] = []
        ran: dict[str, Result] = {}
        for a in reg:
            x = AnalysisInput(
                prepared=prepared,
                outcome=spec,
                alpha=cfg.report.alpha,
                power=cfg.report.power,
                seed=0,
                done=MappingProxyType({}),
            )
            reason = _unmet(a, ran, skipped) or a.requires(x)
            if reason is None:
                ran[a.name] = _PLANNED
            else:
                skipped.append(NotComputed(spec.name, a.name, a.label, a.role, reason))
        out.extend(skipped)
    return tuple(out)


class _Planned(Result):
    """Placeholder for an analysis that would run (``plan`` fits nothing)."""


_PLANNED = _Planned()


def evaluate(
    prepared: PreparedPilot,
    *,
    seed: int = 0,
    registry: Registry | None = None,
    executor: Executor | None = None,
    scheduler: str = "",
) -> Evaluation:
    """Run every registered analysis, for every outcome of the pilot.

    Parameters
    ----------
    prepared
        From :func:`~pilot_eval.pipeline.prepare`.
    seed
        Seed for sampled placebo assignments and power simulations.
    registry
        The analyses to run, in order (default: :func:`~pilot_eval.pipeline.default_registry`,
        the built-in analyses plus any registered by plugins).
    executor
        Where the analyses send their independent pieces of work (each synthetic-control
        placebo fit, each null of its conformal grid), in chunks: any
        ``concurrent.futures.Executor``. ``None``: this process. The numbers are the same.
    scheduler
        Address of a Dask scheduler (``tcp://host:8786``) to use as the executor for this
        call; ``""``: none. Not with ``executor``.

    Returns
    -------
    Evaluation

    Raises
    ------
    DataValidationError
        The primary (first) outcome cannot be estimated (the message says why).
    PilotEvalError
        A headline analysis of the primary outcome failed.

    Notes
    -----
    Headline inference (see ``../shared/methods/one-treated-area.md``): the DiD rate ratio of
    the pilot area(s) against the comparison areas; its rank among every area given the
    treatment as a placebo, counted with the real one (p >= 1/N); conformal inference over
    time for a valid interval. The fits run under ``threadpoolctl.threadpool_limits(1)``
    (one BLAS thread). Cluster-robust intervals are never computed with fewer than 10
    treated areas. Poisson-based figures (WDD, log IRR, DiD) use the quasi-Poisson dispersion
    of the two-way model, so overdispersion widens them. An analysis whose ``requires`` gives
    a reason, or a non-headline analysis that raises a :class:`PilotEvalError`, is listed as
    not computed, with the reason; a secondary outcome that cannot be estimated is kept as a
    block with its reason, and the other outcomes are still evaluated.
    """
    from threadpoolctl import threadpool_limits

    # One BLAS/OpenMP thread for the fits, whatever the environment: the models are small and
    # threads fight on a shared machine (the Makefile's OPENBLAS_NUM_THREADS=1, without the
    # variable, so a JupyterLab kernel gets the same speed). The caller's limits come back after.
    from ..parallel import cluster_executor

    if executor is not None and scheduler:
        raise OptionError("give evaluate() an executor or a scheduler address, not both")
    with threadpool_limits(limits=1), cluster_executor(scheduler) as on_cluster:
        return _evaluate(prepared, seed=seed, registry=registry, executor=executor or on_cluster)


def _evaluate(
    prepared: PreparedPilot,
    *,
    seed: int,
    registry: Registry | None,
    executor: Executor | None = None,
) -> Evaluation:
    reg = default_registry() if registry is None else registry
    cfg = prepared.config
    alpha, power = cfg.report.alpha, cfg.report.power
    blocks: list[OutcomeEvaluation] = []
    for i, spec in enumerate(cfg.outcomes):
        problem = outcome_problem(prepared, spec)
        if problem is None:
            try:
                blocks.append(
                    _run_outcome(
                        prepared, spec, reg, alpha=alpha, power=power, seed=seed, executor=executor
                    )
                )
                continue
            except PilotEvalError as exc:
                if i == 0:
                    raise
                problem = str(exc)
        elif i == 0:
            raise DataValidationError(
                f"{spec.name} (the primary outcome) cannot be estimated: {problem}. Check the "
                "treated area (codes or polygon), the outcome's crime types or categories, and "
                "the windows."
            )
        blocks.append(
            OutcomeEvaluation(
                outcome=spec.name,
                expected_change=spec.expected_change,
                totals=outcome_totals(prepared.panel, spec.name),
                results=MappingProxyType({}),
                reason=problem,
            )
        )
    survey = (
        evaluate_survey(prepared, alpha=alpha, power=power) if prepared.survey is not None else None
    )
    used = tuple((a.name, a.role, a.label, a.assumes) for a in reg)
    return Evaluation(prepared=prepared, outcomes=tuple(blocks), survey=survey, analyses=used)


def evaluate_survey(prepared: PreparedPilot, *, alpha: float, power: float) -> SurveyEvaluation:
    """Difference-in-differences in the share answering yes/agree, with its MDE.

    Notes
    -----
    Estimand: the change from the pre to the post wave in the share of residents of the
    pilot area(s) who agree, minus the same change in the comparison areas (percentage
    points). Standard errors use Kish effective sample sizes (weights); they ignore
    clustering of respondents within areas, so with one treated area the interval is a
    secondary figure, flagged as such.
    """
    from ..estimators import mde_proportion_did, survey_did

    cfg = prepared.config
    areas = prepared.areas
    treated = areas.loc[areas[C.GROUP] == "treated", C.AREA].tolist()
    comparison = set(areas.loc[areas[C.GROUP] == "comparison", C.AREA])
    resp = prepared.survey
    assert resp is not None
    resp = resp[resp["area"].isin(set(treated) | comparison)]
    res = survey_did(
        resp,
        outcome_column="answer",
        area_column="area",
        wave_column="wave",
        weight_column="weight",
        treated_areas=treated,
        alpha=alpha,
    )
    ok = resp.dropna(subset=["answer"])
    is_t = ok["area"].isin(treated)
    n = ok.groupby([is_t, ok["wave"]]).size()
    w = ok["weight"].to_numpy(float)
    deff = float(1 + (w.std() / w.mean()) ** 2) if len(w) > 1 else 1.0
    pre_t = ok[is_t & (ok["wave"] == "pre")]
    p_t = float(np.average(pre_t["answer"], weights=pre_t["weight"]))
    mde = mde_proportion_did(
        p_treated=p_t,
        n_treated_pre=float(n.get((True, "pre"), 0)),
        n_treated_post=float(n.get((True, "post"), 0)),
        n_control_pre=float(n.get((False, "pre"), 0)),
        n_control_post=float(n.get((False, "post"), 0)),
        alpha=alpha,
        power=power,
        design_effect=deff,
    )
    shares = (
        ok.assign(group=np.where(is_t, "treated", "comparison"))
        .groupby(["group", "wave"])
        .apply(
            lambda g: pd.Series(
                {
                    "share": np.average(g["answer"], weights=g["weight"]),
                    "respondents": len(g),
                }
            ),
            include_groups=False,
        )
        .reset_index()
    )
    return SurveyEvaluation(question=cfg.report.survey_question, result=res, mde=mde, shares=shares)


def write_results(evaluation: Evaluation, output_dir: str | Path) -> Path:
    """Write ``results.json`` into ``output_dir`` (atomically) and return its path."""
    return evaluation.results_document().write(Path(output_dir) / "results.json")
