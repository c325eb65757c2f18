"""The registered plan: does the analysis match what was fixed before the pilot started?

``pilot-eval plan CONFIG --register`` writes ``<config stem>.plan.json`` beside the config:
the config's SHA-256, the date, the SHA-256 of the pre-period panel the plan saw, and the
outcomes, windows, intervention start and areas. :func:`plan_section` compares the config of
the run with it and lists every change since (outcomes, windows, areas), for the report.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import columns as C
from .blocks import Items, Section, Text

if TYPE_CHECKING:
    from ..config import PilotConfig
    from .context import ReportContext

__all__ = [
    "PLAN_SUFFIX",
    "design_of",
    "plan_changes",
    "plan_path",
    "plan_section",
    "pre_period_sha256",
]

PLAN_SUFFIX = ".plan.json"
_PANEL_COLUMNS = (C.OUTCOME, C.AREA, C.GROUP, C.MONTH, C.COUNT, C.TREATED)


def plan_path(config_path: str | Path) -> Path:
    """``pilots/x.yml`` → ``pilots/x.plan.json``."""
    p = Path(config_path)
    return p.with_name(p.stem + PLAN_SUFFIX)


def pre_period_sha256(panel: pd.DataFrame) -> str:
    """SHA-256 of the pre-period rows of a panel as CSV (sorted, months as YYYY-MM)."""
    pre = panel.loc[~panel[C.POST].astype(bool), list(_PANEL_COLUMNS)].copy()
    pre[C.MONTH] = pd.to_datetime(pre[C.MONTH]).dt.strftime("%Y-%m")
    pre = pre.sort_values([C.OUTCOME, C.AREA, C.MONTH], kind="mergesort")
    data = pre.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def design_of(cfg: PilotConfig) -> dict[str, Any]:
    """What a plan fixes: outcomes, windows, the intervention start and the areas."""
    dump = cfg.model_dump(mode="json")
    return {
        "outcomes": dump["outcomes"],
        "windows": dump["windows"],
        "intervention_start": f"{cfg.intervention.start:%Y-%m}",
        "treated": dump["treated"],
        "comparison": dump["comparison"],
    }


def _names(outcomes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["name"]: o for o in outcomes}


def plan_changes(registered: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Every change from the registered design to ``now`` (both from :func:`design_of`), in
    sentences; empty when they agree."""
    out: list[str] = []
    reg_o, now_o = _names(registered.get("outcomes", [])), _names(now.get("outcomes", []))
    for name in reg_o.keys() - now_o.keys():
        out.append(f"Outcome '{name}' was registered but is no longer analysed.")
    for name in now_o.keys() - reg_o.keys():
        out.append(f"Outcome '{name}' was added after registration.")
    for name in reg_o.keys() & now_o.keys():
        for key in sorted(set(reg_o[name]) | set(now_o[name])):
            a, b = reg_o[name].get(key), now_o[name].get(key)
            if a != b:
                out.append(f"Outcome '{name}': {key} changed from {a!r} to {b!r}.")
    reg_names, now_names = list(reg_o), list(now_o)
    if reg_names and now_names and reg_names[0] != now_names[0]:
        out.append(f"The primary outcome changed from '{reg_names[0]}' to '{now_names[0]}'.")
    rw, nw = registered.get("windows", {}), now.get("windows", {})
    for key in sorted(set(rw) | set(nw)):
        if rw.get(key) != nw.get(key):
            out.append(f"Window {key} changed from {rw.get(key)!r} to {nw.get(key)!r}.")
    if registered.get("intervention_start") != now.get("intervention_start"):
        out.append(
            f"The intervention start changed from {registered.get('intervention_start')} to "
            f"{now.get('intervention_start')}."
        )
    for key, what in (("treated", "pilot (treated) area"), ("comparison", "comparison areas")):
        if registered.get(key) != now.get(key):
            out.append(
                f"The {what} changed from {_area_text(registered.get(key))} to "
                f"{_area_text(now.get(key))}."
            )
    return out


def _area_text(v: Any) -> str:
    if isinstance(v, dict):
        codes = v.get("codes") or []
        return ", ".join(codes) if codes else f"polygon {v.get('polygon')}"
    if isinstance(v, list):
        return ", ".join(map(str, v))
    return str(v)


def plan_section(ctx: ReportContext, config_dir: str | Path | None = None) -> Section | None:
    """The "Registered plan" section, or ``None`` when no plan was registered for the config.

    Parameters
    ----------
    ctx
        The report context; ``ctx.provenance["config"]`` gives the config's file name and
        SHA-256.
    config_dir
        The config's folder, where ``<config stem>.plan.json`` is looked for (default: the
        current folder).
    """
    prov = ctx.provenance or {}
    name = (prov.get("config") or {}).get("path")
    if not name:
        return None
    path = Path(config_dir or ".") / plan_path(name).name
    if not path.is_file():
        return None
    plan = json.loads(path.read_text(encoding="utf-8"))
    registered = plan.get("design", {})
    changes = plan_changes(registered, design_of(ctx.config))
    blocks: list[Text | Items] = []
    when = plan.get("registered", "an unrecorded date")
    same_file = plan.get("config_sha256") == (prov.get("config") or {}).get("sha256")
    if not changes:
        blocks.append(
            Text(
                f"**The analysis matches the plan registered on {when}**: the same outcomes, "
                "windows, start and areas"
                + (" (the config file is unchanged)." if same_file else ".")
            )
        )
        if not same_file:
            blocks.append(
                Text(
                    "The config file itself was edited since (its SHA-256 differs), in parts "
                    "the plan does not fix (for example the report's wording or data paths).",
                    kind="note",
                )
            )
    else:
        blocks.append(
            Text(
                f"**The analysis differs from the plan registered on {when}**. Changes to the "
                "config since registration:",
                kind="warning",
            )
        )
        blocks.append(Items(tuple(changes)))
    seen = plan.get("pre_period_sha256")
    panel = getattr(getattr(ctx.evaluation, "prepared", None), "panel", None)
    if seen and isinstance(panel, pd.DataFrame) and not changes:
        if pre_period_sha256(panel) == seen:
            blocks.append(Text("The pre-period data are the same as those the plan saw."))
        else:
            blocks.append(
                Text(
                    "The pre-period data differ from those the plan saw (records revised or "
                    "added since registration).",
                    kind="note",
                )
            )
    return Section(id="registered-plan", title="Registered plan", blocks=tuple(blocks))
