"""The report's plain-English text and tables, built from an :class:`~pilot_eval.pipeline.Evaluation`.

Every function returns something the notebook can ``display`` (Markdown, HTML or a
DataFrame) and takes results, never raw incidents. Numbers are worded by
:mod:`pilot_eval.inference.wording`, which never prints "p = 0", never calls an interval 95 %
when it is not, and never calls a non-significant result "no effect".
"""

from __future__ import annotations

import html
import math

import pandas as pd
from IPython.display import HTML, Markdown

from . import columns as C
from .config import PilotConfig
from .inference.wording import (
    describe_interval,
    format_level,
    format_p,
    format_ratio,
    headline_sentence,
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


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


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
    buffer = (
        f" Crimes within {cfg.buffer_m:g} m around it are counted separately, to see whether "
        "crime moved next door (displacement) or the benefit spread (diffusion)."
        if (prep.areas[C.GROUP] == "buffer").any()
        else ""
    )
    return Markdown(
        f"# {cfg.report.title}\n\n"
        f"**{cfg.name}.** The pilot ran in **{', '.join(treated)}** {period}. "
        f"This report compares recorded crime there with {n_comp} comparison areas over "
        f"{cfg.windows.pre_months} months before the start and {cfg.windows.post_months} "
        f"months from it ({cfg.months[0]:%B %Y} to {cfg.months[-1]:%B %Y}).{buffer}"
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


def table_html(df: pd.DataFrame) -> HTML:
    """A plain, deterministic HTML table (no random ids), for the report."""
    return HTML(df.to_html(index=False, escape=True, border=0, classes="pilot-table"))


def detectable_effect(outcome_eval, *, config: PilotConfig) -> Markdown:
    """What the design could detect, shown BEFORE the result."""
    mde = outcome_eval.mde
    pct = mde.pct_fall
    if not math.isfinite(pct):
        words = (
            "With so few recorded crimes, this evaluation could not reliably detect even a "
            "complete stop: treat any result below as descriptive only."
        )
    else:
        pct_i = math.ceil(pct - 1e-9)
        words = (
            f"With the crimes recorded before the pilot, this evaluation can reliably "
            f"({mde.power:.0%} of the time) detect a fall of **{pct_i} % or more** in "
            f"{outcome_eval.outcome} in the pilot area, relative to the comparison "
            "areas. "
        )
        if pct_i > 25:
            words += (
                "**This pilot is too small to detect smaller changes**: a real fall of, say, "
                "10–20 % would most likely look like noise here. "
            )
        else:
            words += "Smaller real changes may well go undetected. "
    disp = outcome_eval.dispersion
    if disp.overdispersed:
        words += (
            f"Monthly counts vary more than pure chance would suggest (dispersion "
            f"{disp.dispersion:.1f}), and the calculations allow for that."
        )
    return Markdown(f"**Before the results: what could this evaluation detect?** {words}")


def headline(outcome_eval, *, area_name: str, alpha: float) -> Markdown:
    """The headline result in plain English, from inference valid with one treated area."""
    pl, cf = outcome_eval.placebo, outcome_eval.conformal
    text = headline_sentence(
        irr=pl.ratio,
        p=pl.p_one_sided,
        min_p=pl.min_p,
        direction=pl.direction,
        rank=int(pl.rank),
        n_reference=int(pl.n_reference),
        low=cf.ci_low,
        high=cf.ci_high,
        level=cf.level,
        mde=None,
        alpha=alpha,
        area=area_name,
        noun=_noun(outcome_eval.outcome),
    )
    return Markdown(f"### {outcome_eval.outcome}\n\n{text}")


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
            "Weighted displacement difference (crimes, incl. buffer)",
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
                "p-value": "" if e.p_value is None or pd.isna(e.p_value) else format_p(e.p_value),
                "Assumes": assumption,
            }
        )
    return pd.DataFrame(rows)


def _pct(irr: float) -> str:
    pct = round(abs(1 - irr) * 100)
    return "about the same" if pct == 0 else f"{pct} % {'fewer' if irr < 1 else 'more'}"


def _fmt_end(x: float, rounding: str) -> str:
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


def placebo_text(outcome_eval) -> Markdown:
    """How to read the placebo chart, with the design's smallest p-value."""
    pl = outcome_eval.placebo
    sa = outcome_eval.size_adjusted
    return Markdown(
        f"Each dot is one area's change, computed as if that area had had the pilot. "
        f"The pilot area's result is ranked among all {pl.n_reference} "
        f"(including itself), by how far each change stands out from that area's own "
        f"month-to-month variation: small areas swing more, so a small area can show a bigger "
        f"percentage change yet rank lower. With {pl.n_reference} areas the smallest possible p-value is "
        f"{pl.min_p:.3f}, so no result of this design can be called significant at the 5 % "
        f"level{'' if pl.min_p <= 0.05 else ' (that needs at least 20 areas)'}. "
        f"The spread of the other areas' results gives an interval for the pilot area's "
        f"change: {describe_interval(sa.ci_low, sa.ci_high, sa.level)}."
    )


def displacement_text(outcome_eval) -> Markdown:
    """Displacement or diffusion in the buffer, from the WDD."""
    w = outcome_eval.wdd
    if not getattr(w, "has_displacement", False):
        return Markdown("No displacement buffer was set, so displacement was not assessed.")
    lo = w.est_displace - 1.96 * w.se_displace
    hi = w.est_displace + 1.96 * w.se_displace
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
        f"(95 % interval {lo:+,.0f} to {hi:+,.0f}), {meaning}. {sure} Taking the pilot area "
        f"and buffer together: {w.est_total:+,.0f} crimes (interval {w.ci_low:+,.0f} to "
        f"{w.ci_high:+,.0f})."
    )


def event_study_text(outcome_eval) -> Markdown:
    es = outcome_eval.event_study
    if not math.isfinite(es.pretrend_p):
        return Markdown("There were too few months before the start to check earlier trends.")
    verdict = (
        "Before the start, the pilot area moved in step with the comparison areas "
        if es.pretrend_p >= 0.1
        else "**Before the start, the pilot area was already moving differently from the "
        "comparison areas**, which weakens every comparison in this report "
    )
    return Markdown(
        f"{verdict}(test of no difference before the start: {format_p(es.pretrend_p)}). "
        "Each point is a quarter's ratio to the comparison trend; bars are 95 % intervals "
        "assuming no serial correlation."
    )


def placebo_time_text(outcome_eval) -> Markdown:
    """The fake-start-date picture in words: a diagnostic, never a p-value."""
    pt = outcome_eval.placebo_time
    return Markdown(
        f"The same comparison computed at {pt.n_fake} fake start dates before the pilot "
        f"(each with a {pt.window}-month window) shows how unusual the real change is against "
        f"the area's own history: the real start ranks {pt.rank} of {pt.n_reference}. "
        "Because the fake windows overlap, this is a picture, not a test: read as a p-value it "
        "would call chance changes significant far too often."
    )


def cost_text(outcome_eval) -> Markdown:
    """Cost per crime prevented, from the config's component costs and the WDD estimate."""
    cost = outcome_eval.cost
    if cost is None:
        return Markdown("")
    return Markdown(
        f"**Cost.** {cost.summary()} This uses the weighted displacement difference for the "
        "pilot area and buffer together, which assumes crimes in different months are "
        "independent; treat it as a rough guide."
    )


def selection_table(evaluation, outcome_eval, *, top: int = 5) -> pd.DataFrame:
    """The comparison areas that tracked the pilot area most closely before the start."""
    sel = outcome_eval.selection
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


def survey_text(evaluation) -> Markdown:
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
        f"points** more in the pilot area than in the comparison areas (95 % interval "
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


def area_totals(evaluation, *, outcome: str) -> pd.DataFrame:
    """Per-area crimes before and after the start, for map tooltips (suppressed there)."""
    panel = evaluation.prepared.panel
    df = panel[panel[C.OUTCOME] == outcome]
    t = df.groupby([C.AREA, C.POST], observed=True)[C.COUNT].sum().unstack(C.POST)
    t = t.reindex(columns=[False, True], fill_value=0)
    t.columns = ["crimes_before", "crimes_after"]
    return t.reset_index()


def placebo_points(outcome_eval) -> pd.DataFrame:
    """One row per placebo assignment: its ratio and whether it is the real pilot area."""
    st = outcome_eval.placebo.statistics
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
    sc = outcome_eval.synth
    if sc is None:
        return Markdown("")
    return Markdown(
        f"**Synthetic control.** A weighted mix of comparison areas built to track the pilot "
        f"area before the start had a fit ratio after the start of {sc.ratio:.2f}; its "
        f"post/pre error ratio ranked {sc.rank} of {sc.n_units} areas "
        f"({format_p(sc.p_value, min_p=1 / sc.n_units)}, two-sided). This method gives a rank, "
        "not an interval, so it is a check on the main result rather than a result of its own."
    )
