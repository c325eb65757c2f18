"""``pilot-eval plan``: what a design could detect, before the pilot starts.

For each candidate treated area and post-window length, the minimum detectable effect of the
headline test (the conformal test over time, :func:`pilot_eval.inference.mde_conformal`) on
the config's primary outcome, at the config's alpha and power.

**No post-start outcome is used.** Each candidate's panel is built by
:func:`pilot_eval.pipeline.prepare` from the config with the treated codes replaced and the
post window cut to one month (``prepare`` checks that the outcome is estimable, so it needs
at least one month from the start); every row from the start on is then dropped, and the
post months the plan considers are added as calendar months with a count of 0, which
``mde_conformal`` never reads (it simulates the post period from the pre period). The
registered SHA-256 is of those pre-period rows only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import columns as C
from ..errors import ConfigError, PilotEvalError

if TYPE_CHECKING:
    from ..config import PilotConfig

__all__ = ["PlanRow", "PilotPlan", "make_plan", "register_plan", "write_plan"]

DEFAULT_POST = (6, 12, 18, 24)
DEFAULT_N_SIMS = 200


@dataclass(frozen=True)
class PlanRow:
    area: str
    area_name: str
    post_months: int
    mde_pct_change: float | None  # None: not detectable within the simulated grid
    mde_irr: float | None
    detectable: bool
    note: str = ""


@dataclass(frozen=True)
class PilotPlan:
    config_path: Path
    outcome: str
    alpha: float
    power: float
    direction: str
    n_sims: int
    seed: int
    post: tuple[int, ...]
    areas: tuple[str, ...]
    rows: tuple[PlanRow, ...]
    pre_period_sha256: dict[str, str]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(r) for r in self.rows])

    def table(self) -> pd.DataFrame:
        """Areas by post-window length: the detectable change in words."""
        f = self.frame()
        f["mde"] = [_mde_words(r.mde_pct_change, r.note) for r in self.rows]
        wide = f.pivot(index="area_name", columns="post_months", values="mde")
        order = list(dict.fromkeys(f["area_name"]))
        wide = wide.loc[order]
        wide.columns = [f"{c} months" for c in wide.columns]
        return wide.reset_index().rename(columns={"area_name": "Candidate pilot area"})


def _mde_words(pct: float | None, note: str = "") -> str:
    if note:
        return "cannot plan"
    if pct is None:
        return "not detectable"
    return f"{abs(pct):.0f} % {'fall' if pct < 0 else 'rise'}"


def _design(cfg: PilotConfig, area: str) -> PilotConfig:
    """The config with ``area`` as the only treated area and a one-month post window."""
    update: dict[str, Any] = {
        "treated": cfg.treated.model_copy(update={"codes": (area,), "polygon": None}),
        "windows": cfg.windows.model_copy(update={"post_months": 1}),
    }
    if not isinstance(cfg.comparison, str):  # explicit codes: the old pilot area joins them
        pool = [*cfg.treated.codes, *cfg.comparison]
        update["comparison"] = tuple(c for c in dict.fromkeys(pool) if c != area)
    return cfg.model_copy(update=update)


def pre_period_panel(cfg: PilotConfig, area: str) -> tuple[pd.DataFrame, str]:
    """The pre-period panel with ``area`` as the pilot area, and the area's name."""
    from ..pipeline import prepare

    prepared = prepare(_design(cfg, area))
    panel = prepared.panel
    pre = panel.loc[~panel[C.POST].astype(bool)].reset_index(drop=True)
    names = prepared.areas.set_index(C.AREA)["name"]
    return pre, str(names.get(area, area))


def post_start(cfg: PilotConfig) -> pd.Timestamp:
    """The first post month: the start, or the month after the intervention's end when the
    roll-out months are left out (``windows.exclude_implementation``)."""
    start = pd.Timestamp(cfg.intervention.start)
    end = getattr(cfg.intervention, "end", None)
    if getattr(cfg.windows, "exclude_implementation", False) and end is not None:
        return pd.Timestamp(end) + pd.offsets.MonthBegin(1)
    return start


def with_post_months(pre: pd.DataFrame, start: pd.Timestamp, n: int) -> pd.DataFrame:
    """``pre`` plus ``n`` post months per outcome and area, counts 0 (never read)."""
    keys = pre[[C.OUTCOME, C.AREA, C.GROUP, C.TREATED]].drop_duplicates()
    months = pd.date_range(start, periods=n, freq="MS")
    post = keys.merge(pd.DataFrame({C.MONTH: months}), how="cross")
    post[C.COUNT] = 0
    post[C.POST] = True
    out = pd.concat([pre, post[pre.columns]], ignore_index=True)
    return out.astype({C.COUNT: pre[C.COUNT].dtype, C.POST: bool})


def make_plan(
    config_path: str | Path,
    *,
    areas: list[str] | None = None,
    post: tuple[int, ...] | list[int] = DEFAULT_POST,
    n_sims: int = DEFAULT_N_SIMS,
    seed: int = 0,
) -> PilotPlan:
    """The minimum detectable effect of every candidate design (area × post window)."""
    from ..config import load_config
    from ..inference import mde_conformal
    from ..pipeline import prepare

    path = Path(config_path).resolve()
    cfg = load_config(path)
    if any(n < 1 for n in post):
        raise ConfigError("--post: every post-window length must be at least 1 month")
    if areas is None:
        base = prepare(_design(cfg, cfg.treated.codes[0])) if cfg.treated.codes else prepare(cfg)
        areas = [
            a for a, g in zip(base.areas[C.AREA], base.areas[C.GROUP], strict=True) if g != "buffer"
        ]
        areas = sorted(areas)
    outcome = cfg.outcomes[0]
    rows: list[PlanRow] = []
    hashes: dict[str, str] = {}
    from ..report.registered_plan import pre_period_sha256

    for area in areas:
        try:
            pre, name = pre_period_panel(cfg, area)
        except PilotEvalError as exc:
            reason = str(exc).splitlines()[0]
            rows += [PlanRow(area, area, n, None, None, False, reason) for n in post]
            continue
        hashes[area] = pre_period_sha256(pre)
        for n in post:
            m = mde_conformal(
                with_post_months(pre, post_start(cfg), n),
                outcome=outcome.name,
                alpha=cfg.report.alpha,
                power=cfg.report.power,
                direction=outcome.expected_change,
                two_sided=True,
                n_sims=n_sims,
                seed=seed,
            )
            ok = bool(m.detectable)
            rows.append(
                PlanRow(
                    area,
                    name,
                    n,
                    float(m.pct_change) if ok else None,
                    float(m.irr) if ok else None,
                    ok,
                )
            )
    return PilotPlan(
        config_path=path,
        outcome=outcome.name,
        alpha=cfg.report.alpha,
        power=cfg.report.power,
        direction=outcome.expected_change,
        n_sims=n_sims,
        seed=seed,
        post=tuple(post),
        areas=tuple(areas),
        rows=tuple(rows),
        pre_period_sha256=hashes,
    )


def _chart(plan: PilotPlan) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..report.blocks import Figure

    f = plan.frame()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    markers = "osD^v<>p*h"
    position = {a: i for i, a in enumerate(plan.areas)}
    offsets = [(k - (len(plan.post) - 1) / 2) * 0.12 for k in range(len(plan.post))]
    for i, n in enumerate(plan.post):
        sub = f[(f["post_months"] == n) & f["detectable"]]
        ax.plot(
            [position[a] + offsets[i] for a in sub["area"]],
            sub["mde_pct_change"].abs(),
            marker=markers[i % len(markers)],
            linestyle="none",
            label=f"{n} months after the start",
            markersize=7,
        )
    ax.set_xticks(range(len(plan.areas)), list(plan.areas))
    ax.set_ylabel("Smallest reliably detectable change (%)")
    ax.set_xlabel("Candidate pilot area")
    ax.tick_params(axis="x", rotation=60, labelsize=9)
    ax.legend(fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    best = f[f["detectable"]].sort_values("mde_pct_change", key=abs).head(1)
    alt = (
        f"Minimum detectable change by candidate area for post windows of "
        f"{', '.join(map(str, plan.post))} months"
        + (
            f"; the smallest is {abs(best['mde_pct_change'].iloc[0]):.0f} % in "
            f"{best['area_name'].iloc[0]} with {best['post_months'].iloc[0]} months."
            if len(best)
            else "; no design reaches the power wanted."
        )
    )
    figure = Figure.from_matplotlib(
        fig,
        alt=alt,
        caption="Smaller is better: the change each design would detect "
        f"{plan.power:.0%} of the time (alpha {plan.alpha:g}, two-sided).",
    )
    plt.close(fig)
    return figure


def _intro(plan: PilotPlan) -> str:
    return (
        f"Minimum detectable {plan.direction} in '{plan.outcome}' (the primary outcome) of the "
        f"headline test (conformal inference over time, two-sided, alpha {plan.alpha:g}, power "
        f"{plan.power:.0%}), by {plan.n_sims} simulations per value from the pre-period data "
        "only: no outcome from the start on is used. Differences of a few points between "
        "windows are simulation noise."
    )


def write_plan(plan: PilotPlan, out: str | Path) -> tuple[Path, Path]:
    """``plan.csv`` and ``plan.html`` (a captioned table and the chart) in ``out``."""
    import jinja2

    from ..report.blocks import Table

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    csv = folder / "plan.csv"
    plan.frame().to_csv(csv, index=False, lineterminator="\n")
    from importlib.resources import files

    css = (files("pilot_eval.report") / "templates" / "report.css").read_text(encoding="utf-8")
    table = Table(
        plan.table(),
        caption=f"Smallest change in '{plan.outcome}' each design would reliably detect",
        numeric=tuple(f"{n} months" for n in plan.post),
    )
    env = jinja2.Environment(autoescape=True)
    html = env.from_string(_PAGE).render(
        css=css,
        intro=_intro(plan),
        table=table,
        figure=_chart(plan),
        config=plan.config_path.name,
    )
    page = folder / "plan.html"
    page.write_text(html, encoding="utf-8")
    return csv, page


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Design plan: {{ config }}</title><style>{{ css }}</style></head>
<body>
<header><h1>What could this pilot detect? ({{ config }})</h1></header>
<main>
<p>{{ intro }}</p>
<div class="table-wrap"><table>
<caption>{{ table.caption }}</caption>
<thead><tr>{% for c in table.frame.columns %}<th scope="col"{% if c in table.numeric %} class="num"{% endif %}>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in table.rows() %}<tr>{% for text, numeric in row %}{% if loop.first %}<th scope="row">{{ text }}</th>{% else %}<td{% if numeric %} class="num"{% endif %}>{{ text }}</td>{% endif %}{% endfor %}</tr>
{% endfor %}</tbody></table></div>
<figure><img src="{{ figure.data_uri }}" alt="{{ figure.alt }}"><figcaption>{{ figure.caption }}</figcaption></figure>
</main>
<footer><p>Written by pilot-eval plan. Planning figures, not results.</p></footer>
</body></html>
"""


def register_plan(plan: PilotPlan) -> Path:
    """Write ``<config stem>.plan.json`` beside the config (see
    :mod:`pilot_eval.report.registered_plan`)."""
    from ..config import load_config
    from ..pipeline.provenance import file_digest, run_date
    from ..report.registered_plan import design_of, plan_path

    cfg = load_config(plan.config_path)
    digest, _ = file_digest(plan.config_path)
    own = cfg.treated.codes[0] if len(cfg.treated.codes) == 1 else None
    seen = plan.pre_period_sha256.get(own) if own else None
    if seen is None:  # the pilot's own design (several areas, or not among the candidates)
        from ..pipeline import prepare
        from ..report.registered_plan import pre_period_sha256

        p = prepare(
            cfg.model_copy(update={"windows": cfg.windows.model_copy(update={"post_months": 1})})
        )
        seen = pre_period_sha256(p.panel)
    doc = {
        "config": plan.config_path.name,
        "config_sha256": digest,
        "registered": run_date(),
        "pre_period_sha256": seen,
        "pre_period_sha256_by_area": plan.pre_period_sha256,
        "design": design_of(cfg),
        "candidates": {"areas": list(plan.areas), "post_months": list(plan.post)},
        "headline_test": {
            "outcome": plan.outcome,
            "method": "conformal_simulation",
            "alpha": plan.alpha,
            "power": plan.power,
            "direction": plan.direction,
            "n_sims": plan.n_sims,
            "seed": plan.seed,
        },
        "mde": [asdict(r) for r in plan.rows],
    }
    path = plan_path(plan.config_path)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
