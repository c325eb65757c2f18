"""The report's plain-English text and tables, built from an :class:`~pilot_eval.pipeline.Evaluation`.

Every function returns something the notebook can ``display`` (Markdown, HTML or a
DataFrame) and takes results, never raw incidents. Numbers are worded by
:mod:`pilot_eval.wording`, which never prints "p = 0", never calls an interval 95 %
when it is not, and never calls a non-significant result "no effect".
"""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd
from IPython.display import HTML, Markdown

from .. import columns as C
from ..config import PilotConfig
from ..wording import (
    describe_interval,
    describe_ratio,
    format_level,
    format_p,
    format_ratio,
    ordinal,
)
from .privacy import suppress_small_counts

COMPONENT_LABELS = {
    "lighting": "Improved lighting",
    "clean_up": "Clean-up",
    "business_training": "Business and venue training (e.g. Ask for Angela, WAVE)",
    "awareness": "Awareness material",
    "qr_reporting": "Reporting QR codes",
    "walk_and_talk": "Walk & Talks with police",
    "visual_assessment": "Design-out-crime visual assessment",
    "other": "Other",
}
GROUP_LABELS = {
    "treated": "Pilot area",
    "buffer": "Displacement buffer",
    "comparison": "Comparison areas (all together)",
}


def banner(config: PilotConfig) -> HTML:
    """A prominent warning on synthetic data (empty for real pilots)."""
    if not config.synthetic:
        return HTML("")
    return HTML(
        '<div style="border:3px solid #b2182b;background:#fde0dc;padding:10px 14px;'
        'font:bold 16px sans-serif;color:#67001f;margin:8px 0">SYNTHETIC DEMO DATA — '
        "every number, map and chart in this report comes from made-up data generated to "
        "demonstrate the toolkit. It says nothing about any real place.</div>"
    )


def title_block(evaluation) -> Markdown:
    """Title, what the pilot did, where and when."""
    prep = evaluation.prepared
    cfg = prep.config
    treated = prep.areas.loc[prep.areas[C.GROUP] == "treated", C.NAME].tolist()
    n_comp = int((prep.areas[C.GROUP] == "comparison").sum())
    start, end = cfg.intervention.start, cfg.intervention.end
    period = f"from {start:%B %Y}" + (f" to {end:%B %Y}" if end is not None else "")
    where = (
        f"Crimes within {cfg.buffer_m:g} m around it are"
        if cfg.data.source == "police_uk"
        else f"Crimes in the neighbouring areas within {cfg.buffer_m:g} m of it are"
    )
    buffer = (
        f" {where} counted separately, to see whether crime moved next door (displacement) "
        "or the benefit spread (diffusion)."
        if (prep.areas[C.GROUP] == "buffer").any()
        else ""
    )
    return Markdown(
        f"# {cfg.report.title}\n\n"
        f"**{cfg.name}.** The pilot ran in **{', '.join(treated)}** {period}. "
        f"This report compares recorded crime there with {n_comp} comparison areas over "
        f"{cfg.windows.pre_months} months before the start and {cfg.windows.post_months} "
        f"months from it ({cfg.months[0]:%B %Y} to {cfg.months[-1]:%B %Y}).{buffer}"
        + (f"\n\n**Note:** {cfg.intervention.note}" if cfg.intervention.note else "")
    )


def components_table(config: PilotConfig) -> pd.DataFrame:
    """What the pilot did: one row per component (type, month, description, count, cost)."""
    rows = [
        {
            "What": COMPONENT_LABELS[c.type],
            "From": f"{c.date:%b %Y}",
            "Details": c.description,
            "Number": "" if c.count is None else f"{c.count:,}",
            "Cost (£)": "" if c.cost is None else f"{c.cost:,.0f}",
        }
        for c in config.intervention.components
    ]
    return pd.DataFrame(rows, columns=["What", "From", "Details", "Number", "Cost (£)"])


def components_note(config: PilotConfig) -> Markdown:
    if config.intervention.components:
        return Markdown("")
    return Markdown(
        "_The pilot config lists no components; add them under `intervention.components` to "
        "show what was done, where and at what cost._"
    )


def other_outcome_section(evaluation, block) -> list:
    """One secondary outcome: what it could detect, the result, its table and chart.

    An outcome that could not be estimated gets one sentence saying why instead.
    """
    from .figures import monthly_chart

    if not block.estimated:
        return [not_estimated_text(block)]
    cfg = evaluation.config
    return [
        detectable_effect(block, config=cfg),
        headline(
            block,
            area_name=treated_name(evaluation),
            alpha=cfg.report.alpha,
            n_treated=evaluation.prepared.n_treated,
        ),
        table_html(before_after_table(block, config=cfg)),
        monthly_chart(
            evaluation.prepared.panel,
            outcome=block.outcome,
            start=cfg.intervention.start,
            end=cfg.intervention.end,
            small_count_threshold=cfg.report.small_count_threshold,
        ),
    ]


def not_estimated_text(block) -> Markdown:
    """An outcome that could not be estimated at all, and why."""
    return Markdown(
        f"### {block.outcome}\n\n{block.outcome} could not be estimated, because {block.reason}."
    )


def not_computed_text(evaluation) -> Markdown:
    """Every analysis that was not computed, per outcome, with the reason."""
    rows = [
        f"- **{n.label}** ({n.outcome}): not computed, because {n.reason}."
        for n in evaluation.not_computed
    ]
    rows += [
        f"- **{o.outcome}**: could not be estimated, because {o.reason}."
        for o in evaluation.outcomes
        if not o.estimated
    ]
    if not rows:
        return Markdown("Every analysis listed below was computed for every outcome.")
    return Markdown("\n".join(rows))


ROLE_LABELS = {"headline": "Headline", "check": "Check", "secondary": "Secondary"}


def analyses_table(evaluation) -> pd.DataFrame:
    """Every analysis the evaluation ran: its role, what it assumes, where it was computed."""
    rows = []
    for name, role, label, assumes in evaluation.analyses:
        computed = [o.outcome for o in evaluation.estimated_outcomes if name in o.results]
        rows.append(
            {
                "Analysis": label,
                "Role": ROLE_LABELS.get(role, role),
                "Assumes": assumes,
                "Computed for": ", ".join(computed) if computed else "not computed",
            }
        )
    return pd.DataFrame(rows, columns=["Analysis", "Role", "Assumes", "Computed for"])


def other_outcomes_note(evaluation) -> Markdown:
    if len(evaluation.outcomes) > 1:
        return Markdown("")
    return Markdown("_This pilot has no other outcomes._")


def table_html(df: pd.DataFrame) -> HTML:
    """A plain, deterministic HTML table (no random ids), for the report (empty: nothing)."""
    if df.empty:
        return HTML("")
    return HTML(df.to_html(index=False, escape=True, border=0, classes="pilot-table"))


def detectable_effect(outcome_eval, *, config: PilotConfig) -> Markdown:
    """What the headline test could detect, shown BEFORE the result.

    The minimum detectable effect is the conformal test's, simulated from the months before
    the start (so it does not depend on the result).
    """
    mde = outcome_eval["mde"]
    what = _what(mde.direction)
    if not mde.detectable:
        words = (
            f"{mde.summary()} **This pilot is too small for this evaluation to detect a "
            "plausible change**: treat the result below as descriptive only. "
        )
    else:
        pct = math.ceil(abs(mde.pct_change) - 1e-9)
        words = (
            f"With the crimes recorded before the pilot, the test this report leads with "
            f"(conformal inference over time) would detect a {what} of **{pct} % or more** in "
            f"{outcome_eval.outcome} in the pilot area, relative to the comparison areas, "
            f"{mde.power:.0%} of the time. "
        )
        if pct > 25:
            words += (
                f"**This pilot is too small to detect smaller changes**: a real {what} of, "
                "say, 10–20 % would most likely look like chance here. "
            )
        else:
            words += "Smaller real changes may well go undetected. "
        words += (
            "(This assumes months vary independently around the trend; if they do not, "
            "the detectable change is larger.) "
        )
    disp = outcome_eval["dispersion"]
    if disp.overdispersed:
        words += (
            f"Monthly counts vary more than pure chance would suggest (dispersion "
            f"{disp.dispersion:.1f}), and the calculations allow for that."
        )
    return Markdown(f"**Before the results: what could this evaluation detect?** {words}")


def _what(direction: str) -> str:
    return "fall" if direction == "decrease" else "rise"


def _alpha_text(alpha: float) -> str:
    return f"{alpha * 100:g} %"


def _units(n_treated: int) -> str:
    return "areas" if n_treated == 1 else "possible sets of areas"


def headline(outcome_eval, *, area_name: str, alpha: float, n_treated: int = 1) -> Markdown:
    """The headline result in plain English, from inference valid with one treated area.

    The change and its interval come from conformal inference over time (its real level is
    stated); whether the interval excludes no change is what the evidence sentence says. The
    placebo ranking follows, one-sided in the direction the pilot aimed for, with its floor.
    """
    pl, cf = outcome_eval["placebo"], outcome_eval["conformal"]
    noun = _noun(outcome_eval.outcome)
    parts = [
        f"{area_name} had {describe_ratio(cf.irr, noun=noun)} "
        f"({describe_interval(cf.ci_low, cf.ci_high, cf.level)}; conformal inference over time)."
    ]
    excludes = (cf.ci_low > 1.0) or (cf.ci_high < 1.0)
    if excludes:
        parts.append(
            f"The interval excludes no change (two-sided {format_p(cf.p_two_sided, min_p=cf.min_p)})."
        )
    else:
        parts.append(
            "The interval includes no change, so this is not clear evidence of a change, and it "
            "does not rule out a real one."
        )
    aimed = pl.direction
    went = "decrease" if cf.irr < 1 else "increase"
    if went != aimed and abs(cf.irr - 1) >= 0.005:
        parts.append(f"The change went the other way from the {_what(aimed)} the pilot aimed for.")
    n, unit, what = int(pl.n_reference), _units(n_treated), _what(aimed)
    place = "most unusual" if pl.rank == 1 else f"{ordinal(int(pl.rank))}-most unusual"
    parts.append(
        f"Giving the pilot, in turn, to every one of the {n:,} {unit}, the pilot area's change "
        f"was the {place} {what} (allowing for each area's size; one-sided "
        f"{format_p(pl.p_one_sided, min_p=pl.min_p)} for a {what})."
    )
    if pl.min_p > alpha:
        parts.append(
            f"With {n:,} {unit} this ranking cannot give a p-value below "
            f"{format_p(pl.min_p).removeprefix('p = ')}, so on its own it can never reach the "
            f"{_alpha_text(alpha)} level."
        )
    return Markdown(f"### {outcome_eval.outcome}\n\n" + " ".join(parts))


def before_after_table(outcome_eval, *, config: PilotConfig) -> pd.DataFrame:
    """Recorded crimes before and after the start, by area group, small counts suppressed."""
    t = outcome_eval.totals.copy()
    pre_m, post_m = config.windows.pre_months, config.windows.post_months
    t["Area"] = t[C.GROUP].map(GROUP_LABELS)
    t["before_month"] = t["pre"] / pre_m
    t["after_month"] = t["post"] / post_m
    change = t["after_month"] / t["before_month"].where(t["before_month"] > 0) - 1
    thr = config.report.small_count_threshold
    safe = suppress_small_counts(t, columns=["pre", "post"], threshold=thr)
    hidden = (t[["pre", "post"]] > 0) & (t[["pre", "post"]] < thr)
    any_hidden = hidden.any(axis=1)
    out = pd.DataFrame(
        {
            "Area": t["Area"],
            f"Before ({pre_m} months)": safe["pre"],
            f"After ({post_m} months)": safe["post"],
            "Per month before": t["before_month"].map("{:.1f}".format).where(~hidden["pre"], "–"),
            "Per month after": t["after_month"].map("{:.1f}".format).where(~hidden["post"], "–"),
            "Raw change": change.map(lambda v: "–" if pd.isna(v) else f"{v:+.0%}").where(
                ~any_hidden, "–"
            ),
        }
    )
    return out


def robustness_table(outcome_eval) -> pd.DataFrame:
    """Every estimate for the outcome, with its method, assumption, interval level and p."""
    rows = []
    labels = {
        "conformal": ("Conformal inference over time", "valid with one treated area"),
        "placebo_in_space": (
            "Placebo-in-space rank, size-adjusted interval",
            "valid with one treated area; level set by the number of areas",
        ),
        "conley_taber": (
            "Conley–Taber interval",
            "areas' noise alike; mis-sized for unusually small or large areas",
        ),
        "wdd_scaled": (
            "Weighted displacement difference (crimes"
            + (
                ", pilot area and buffer)"
                if getattr(outcome_eval.get("wdd"), "has_displacement", False)
                else ")"
            ),
            "Poisson counts widened for overdispersion; no serial correlation",
        ),
        "log_irr": ("Log rate ratio (Wilson)", "Poisson counts; no serial correlation"),
        "did_quasipoisson_model": (
            "Quasi-Poisson DiD, area and month effects",
            "assumes no serial correlation",
        ),
        "its_quasipoisson_level": (
            "Interrupted time series, level change",
            "pilot area's own trend and seasons continue",
        ),
    }
    for e in outcome_eval.estimates:
        name, assumption = labels.get(e.method, (e.method, e.note))
        if e.scale == "ratio":
            value = f"{e.estimate:.2f} ({_pct(e.estimate)})"
            interval = f"{_fmt_end(e.ci_low, 'down')} to {_fmt_end(e.ci_high, 'up')}"
        else:
            value = f"{e.estimate:+,.0f} crimes"
            interval = f"{e.ci_low:+,.0f} to {e.ci_high:+,.0f}"
        rows.append(
            {
                "Method": name,
                "Role": {"headline": "Headline", "robustness": "Check", "secondary": "Secondary"}[
                    e.role
                ],
                "Estimate": value,
                "Interval": f"{format_level(e.level)}: {interval}",
                "p-value (two-sided)": ""
                if e.p_value is None or pd.isna(e.p_value)
                else format_p(e.p_value),
                "Assumes": assumption,
            }
        )
    return pd.DataFrame(rows)


def _pct(irr: float) -> str:
    pct = round(abs(1 - irr) * 100)
    return "about the same" if pct == 0 else f"{pct} % {'fewer' if irr < 1 else 'more'}"


def _fmt_end(x: float, rounding: Literal["down", "up"]) -> str:
    """An interval end rounded outwards, as in the headline."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or math.isinf(x):
        return "no limit"
    return format_ratio(x, rounding=rounding)


def _noun(outcome: str) -> str:
    """Outcome name inside a sentence: keep acronyms (VAWG), lower-case a leading word."""
    first, _, rest = outcome.partition(" ")
    if first.isupper() or any(ch.isupper() for ch in first[1:]):
        return outcome
    return first.lower() + (" " + rest if rest else "")


def placebo_text(outcome_eval, *, alpha: float, n_treated: int = 1) -> Markdown:
    """How to read the placebo chart, with the ranking's smallest possible p-value."""
    pl = outcome_eval["placebo"]
    sa = outcome_eval["size_adjusted"]
    n, unit = int(pl.n_reference), _units(n_treated)
    floor = format_p(pl.min_p).removeprefix("p = ")
    if pl.min_p > alpha:
        need = math.ceil(1 / alpha)
        reach = (
            f"so the ranking on its own can never reach the {_alpha_text(alpha)} level (that "
            f"needs at least {need} {unit})"
        )
    else:
        reach = f"which is below the {_alpha_text(alpha)} level"
    return Markdown(
        f"Each dot is one area's change, computed as if that area had had the pilot. The pilot "
        f"area's result is ranked among all {n:,} {unit} (including its own), by how far each "
        "change stands out from that area's own month-to-month variation: small areas swing "
        "more, so a small area can show a bigger percentage change yet rank lower. With "
        f"{n:,} {unit} the smallest possible p-value is {floor}, {reach}. The spread of the "
        "other areas' results gives an interval for the pilot area's change: "
        f"{describe_interval(sa.ci_low, sa.ci_high, sa.level)}."
    )


def displacement_text(outcome_eval, *, alpha: float) -> Markdown:
    """Displacement or diffusion in the buffer, from the WDD (counts, so Poisson-based)."""
    from statistics import NormalDist

    w = outcome_eval.get("wdd")
    if w is None:
        return Markdown(
            "Displacement was not assessed: the weighted displacement difference was not "
            "computed (see what was not computed, below)."
        )
    if not getattr(w, "has_displacement", False):
        return Markdown("No displacement buffer was set, so displacement was not assessed.")
    z = NormalDist().inv_cdf(1 - alpha / 2)
    lo = w.est_displace - z * w.se_displace
    hi = w.est_displace + z * w.se_displace
    lab = format_level(1 - alpha)
    way = "fewer" if w.est_displace < 0 else "more"
    meaning = (
        "which would suggest the benefit spread to the surrounding streets (diffusion)"
        if w.est_displace < 0
        else "which would suggest some crime moved next door (displacement)"
    )
    sure = (
        "The interval includes zero, so the data cannot tell displacement from diffusion or no "
        "change."
        if lo <= 0 <= hi
        else "The interval excludes zero."
    )
    return Markdown(
        f"**Displacement.** In the buffer around the pilot area there were "
        f"{abs(w.est_displace):,.0f} {way} crimes than the comparison areas' trend predicts "
        f"({lab} interval {lo:+,.0f} to {hi:+,.0f}), {meaning}. {sure} Taking the pilot area "
        f"and buffer together: {w.est_total:+,.0f} crimes ({lab} interval {w.ci_low:+,.0f} to "
        f"{w.ci_high:+,.0f}). These intervals treat crimes in different months as independent "
        "(widened for overdispersion), so they are a secondary figure."
    )


def event_study_text(outcome_eval) -> Markdown:
    es = outcome_eval["event_study"]
    if not math.isfinite(es.pretrend_p):
        return Markdown("There were too few months before the start to check earlier trends.")
    if es.pretrend_p >= 0.1:
        verdict = (
            "There is no clear sign that the pilot area was already moving differently from the "
            "comparison areas before the start"
        )
        caveat = " This check has limited power, so it cannot prove they moved in step."
    else:
        verdict = (
            "**Before the start, the pilot area was already moving differently from the "
            "comparison areas**, which weakens every comparison in this report"
        )
        caveat = ""
    return Markdown(
        f"{verdict} (test of no difference before the start: {format_p(es.pretrend_p)}).{caveat} "
        f"Each point is a quarter's ratio to the comparison trend; bars are "
        f"{format_level(1 - es.alpha)} intervals assuming no serial correlation."
    )


def placebo_time_text(outcome_eval) -> Markdown:
    """The fake-start-date picture in words: a diagnostic, never a p-value."""
    pt = outcome_eval.get("placebo_time")
    if pt is None:
        return Markdown(
            "There are too few months before the start (a year is needed before the first fake "
            "start date) to compare the real change with fake start dates."
        )
    return Markdown(
        f"The same comparison computed at {pt.n_fake} fake start dates before the pilot "
        f"(each with a {pt.window}-month window) shows how unusual the real change is against "
        f"the area's own history: the real start ranks {pt.rank} of {pt.n_reference}. "
        "Because the fake windows overlap, this is a picture, not a test: read as a p-value it "
        "would call chance changes significant far too often."
    )


def cost_text(outcome_eval, *, config: PilotConfig) -> Markdown:
    """Cost per crime prevented, from the config's costs and the headline (conformal) interval."""
    cost = outcome_eval.get("cost")
    if cost is None:
        return Markdown(
            "**Cost.** No component of the pilot has a recorded cost, so cost per crime "
            "prevented is not given."
        )
    comps = config.intervention.components
    missing = [c for c in comps if c.cost is None]
    partial = (
        f" {len(missing)} of the {len(comps)} components have no recorded cost, so the "
        "pilot's real cost, and the cost per crime prevented, are higher than shown."
        if missing
        else ""
    )
    return Markdown(
        f"**Cost.** {cost.summary()} Crimes prevented are counted in the pilot area only, from "
        f"the headline ratio and its interval.{partial}"
    )


def selection_table(evaluation, outcome_eval, *, top: int = 5) -> pd.DataFrame:
    """The comparison areas that tracked the pilot area most closely before the start."""
    sel = outcome_eval.get("selection")
    if sel is None:
        return pd.DataFrame(columns=["Rank", "Area", "Similarity score (lower is closer)"])
    names = evaluation.prepared.areas.set_index(C.AREA)[C.NAME]
    t = sel.tidy().sort_values("rank").head(top)
    return pd.DataFrame(
        {
            "Rank": t["rank"].astype(int),
            "Area": t["area"].map(names).fillna(t["area"]),
            "Similarity score (lower is closer)": t["score"].map("{:.2f}".format),
        }
    )


def survey_text(evaluation, *, alpha: float = 0.05) -> Markdown:
    """Feelings of safety from the resident survey: what it could detect, then the result."""
    sv = evaluation.survey
    if sv is None:
        return Markdown(
            "No resident survey was supplied for this pilot, so feelings of safety are not "
            "assessed here (add `data.survey` to the pilot config)."
        )
    r, mde = sv.result, sv.mde
    pts = 100 * r.est
    lo, hi = 100 * r.ci_low, 100 * r.ci_high
    way = "rose" if pts >= 0 else "fell"
    covers = lo <= 0 <= hi
    verdict = (
        "The interval includes no change, so the survey cannot tell whether feelings of safety "
        "changed more in the pilot area than elsewhere."
        if covers
        else "The interval excludes no change."
    )
    return Markdown(
        f"**Before the result: what could the survey detect?** With these numbers of "
        f"respondents, the survey can reliably detect a change of **{100 * mde.mde:.0f} percentage points or more** relative "
        f"to the comparison areas ({mde.power:.0%} of the time); smaller real changes may well "
        f"go undetected.\n\n"
        f"The share of residents who {sv.question} {way} by **{abs(pts):.1f} percentage "
        f"points** more in the pilot area than in the comparison areas "
        f"({format_level(1 - alpha)} interval "
        f"{lo:+.1f} to {hi:+.1f} points). {verdict} This interval reflects the sampling of "
        "respondents only; with one pilot area, area-wide changes in mood are not in it, so "
        "treat it as a secondary figure."
    )


def survey_table(evaluation) -> pd.DataFrame:
    """Share agreeing by group and wave (weighted), with respondent numbers."""
    sv = evaluation.survey
    if sv is None:
        return pd.DataFrame()
    t = sv.shares.copy()
    t["Area"] = t["group"].map(GROUP_LABELS)
    wide = t.pivot(index="Area", columns="wave", values=["share", "respondents"])
    order = [a for a in (GROUP_LABELS["treated"], GROUP_LABELS["comparison"]) if a in wide.index]
    wide = wide.loc[order]
    return pd.DataFrame(
        {
            "Area": order,
            "Before: share who agree": [f"{v:.0%}" for v in wide[("share", "pre")]],
            "After: share who agree": [f"{v:.0%}" for v in wide[("share", "post")]],
            "Respondents (before / after)": [
                f"{int(a):,} / {int(b):,}"
                for a, b in zip(
                    wide[("respondents", "pre")], wide[("respondents", "post")], strict=True
                )
            ],
        }
    )


def data_notes(evaluation) -> Markdown:
    notes = list(evaluation.prepared.data_notes)
    cfg = evaluation.config
    notes.append(
        f"Counts from 1 to {cfg.report.small_count_threshold - 1} are shown as "
        f"'<{cfg.report.small_count_threshold}' to protect victims' privacy; maps show areas "
        "and intervention sites, never individual crimes."
    )
    return Markdown("\n".join(f"- {n}" for n in notes))


def treated_name(evaluation) -> str:
    """The pilot area's name(s), for sentences."""
    areas = evaluation.prepared.areas
    names = areas.loc[areas[C.GROUP] == "treated", C.NAME].astype(str).tolist()
    return names[0] if len(names) == 1 else "The pilot areas (" + ", ".join(names) + ")"


def placebo_points(outcome_eval) -> pd.DataFrame:
    """One row per placebo assignment: its ratio and whether it is the real pilot area."""
    st = outcome_eval["placebo"].statistics
    return pd.DataFrame(
        {
            "area": st["assignment"].astype(str),
            "ratio": st["ratio"],
            "rank": st["rank"],
            "is_treated": st["observed"],
        }
    )


def synth_text(outcome_eval) -> Markdown:
    """The synthetic-control check in words (a rank, so no interval is claimed)."""
    sc = outcome_eval.get("synth")
    if sc is None:
        return Markdown("")
    return Markdown(
        f"**Synthetic control.** A weighted mix of comparison areas was built to track the "
        f"pilot area before the start. How far the pilot area then drifted from it, relative to "
        f"the pre-start fit, ranked {sc.rank} of {sc.n_units} areas "
        f"({format_p(sc.p_value, min_p=1 / sc.n_units)}, two-sided). This method gives a rank, "
        "not an interval, so it is a check on the main result rather than a result of its own."
    )
