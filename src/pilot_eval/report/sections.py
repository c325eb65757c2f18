"""The funders' report, section by section, built from one :class:`ReportContext`.

The order follows what a funder needs: the answer first (:func:`summary`), then the EMMIE
framework the College of Policing uses — Effect, Mechanism, Moderators, Implementation,
Economic cost — then limitations, what was not computed, and an appendix with every table.
Each function takes the context and returns a :class:`~pilot_eval.report.blocks.Section`;
numbers are worded by :mod:`pilot_eval.wording` and every one of them is in
``results.json`` (``tests/report/test_wording.py`` checks it).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Literal

import pandas as pd

from .. import columns as C
from ..wording import format_decimals2 as _two
from ..wording import format_drift_pct as _drift_pct
from ..wording import format_level, format_p, format_ratio
from ..wording import format_sig3 as _sig3
from .blocks import Figure, Items, Section, Table, Text
from .context import ReportContext

__all__ = ["all_sections", "evidence_level", "summary", "summary_sentence"]

#: What each kind of component was meant to change (the Mechanism in EMMIE).
MECHANISMS = {
    "lighting": (
        "Improved lighting",
        "makes streets easier to see along, so offenders risk being seen and people feel "
        "safer walking after dark",
    ),
    "clean_up": (
        "Clean-up",
        "signals that the area is looked after and watched, and removes places to hide",
    ),
    "business_training": (
        "Business and venue training (Ask for Angela, WAVE)",
        "gives staff the words and the steps to help someone who feels unsafe, and to step "
        "in early when they see harassment",
    ),
    "awareness": (
        "Awareness material",
        "tells people what help there is and that harassment is not tolerated",
    ),
    "qr_reporting": (
        "Reporting QR codes",
        "makes it easier to report, which can raise recorded numbers even as the pilot works",
    ),
    "walk_and_talk": (
        "Walk & Talks with police",
        "let women and girls show officers where they feel unsafe, so patrols and fixes go "
        "where they matter",
    ),
    "visual_assessment": (
        "Design-out-crime visual assessment",
        "finds the places whose layout makes offending easy, for later fixes",
    ),
    "other": ("Other measures", "as described in the pilot plan"),
}

GROUP_NAMES = {
    "treated": "Pilot area",
    "buffer": "Area around it (buffer)",
    "comparison": "Comparison areas (all together)",
}


# -- small wording helpers --------------------------------------------------------------------


def noun(outcome: str) -> str:
    """Outcome name inside a sentence: keep acronyms (VAWG), lower-case a leading word."""
    first, _, rest = outcome.partition(" ")
    if first.isupper() or any(ch.isupper() for ch in first[1:]):
        return outcome
    return first.lower() + (" " + rest if rest else "")


def pct_change(r: float, *, rounding: Literal["nearest", "down", "up"] = "nearest") -> int:
    """|r − 1| in whole per cent, rounded as asked (``down``/``up`` round the RATIO)."""
    if rounding != "nearest":
        r = float(format_ratio(r, rounding=rounding))
    return int(round(abs(r - 1) * 100))


def lower_higher(r: float, *, rounding: Literal["nearest", "down", "up"] = "nearest") -> str:
    """``0.88`` → ``"12 % lower"``; ``1.31`` → ``"31 % higher"``; ``1.0`` → ``"about the same"``."""
    pct = pct_change(r, rounding=rounding)
    if pct == 0:
        return "no different"
    return f"{pct} % {'lower' if r < 1 else 'higher'}"


def interval_words(low: float, high: float) -> str:
    """Interval ends as changes, rounded outwards: ``"26 % lower to 31 % higher"``."""
    if not (math.isfinite(low) and low > 0):
        lo = "no lower limit"
    else:
        lo = lower_higher(low, rounding="down")
    hi = "no upper limit" if not math.isfinite(high) else lower_higher(high, rounding="up")
    return f"{lo} to {hi}"


def money(x: float) -> str:
    return f"£{x:,.0f}"


def _when(ctx: ReportContext) -> str:
    s = f"{ctx.config.intervention.start:%B %Y}"
    return f"{s} (an illustrative date)" if ctx.illustrative else s


def window_sentence(ctx: ReportContext) -> str:
    """Which months "after" means, and what was done with the roll-out months (if known)."""
    cfg = ctx.config
    iv = cfg.intervention
    after = f"{cfg.post_start:%B %Y} to {cfg.post_end:%B %Y}"
    gone = cfg.excluded_months
    if len(gone):
        return (
            f"The roll-out months ({gone[0]:%B %Y} to {gone[-1]:%B %Y}) are left out: "
            f'"after" is {after}.'
        )
    if iv.end is not None and iv.end > iv.start:
        return f'"After" is {after}, including the roll-out (to {iv.end:%B %Y}).'
    return f'"After" is {after}.'


def _excludes_one(res: Any) -> bool:
    return bool(res.ci_low > 1.0 or res.ci_high < 1.0)


def _went_way(irr: float, aimed: str) -> bool:
    return (irr < 1) == (aimed == "decrease")


def evidence_level(ctx: ReportContext) -> tuple[int, str, str]:
    """The Maryland Scientific Methods Scale level, why, and what would raise it.

    Notes
    -----
    Level 3 is "a comparison between two or more comparable units of analysis, one with and
    one without the intervention", measured before and after (Sherman et al. 1997; the
    College of Policing's What Works Centre uses it). This design compares the pilot area
    with comparison areas before and after the start, so it is level 3; it is not level 4
    (comparison areas matched on, or adjusted for, other factors chosen in advance) or
    level 5 (areas assigned at random). Fewer than 12 months before the start would make
    the comparison of trends unreliable: then level 2.
    """
    pre = ctx.config.windows.pre_months
    if pre < 12 or ctx.n_comparison < 1:
        return (
            2,
            "before-and-after measures with too short a history to compare trends",
            "a year or more of data before the start",
        )
    return (
        3,
        f"before and after, against {ctx.n_comparison} comparison areas",
        "comparison areas matched to the pilot area and fixed before it started (level 4), "
        "or areas chosen for the pilot at random (level 5)",
    )


# -- the summary ----------------------------------------------------------------------------


def summary_sentence(ctx: ReportContext) -> str:
    """The answer in one sentence, with one figure and its interval at its real level."""
    o = ctx.primary
    cf = o["conformal"]
    what = f"Recorded {noun(o.outcome)} in {ctx.short_name}"
    lab = format_level(cf.level)
    change = lower_higher(cf.irr)
    verdict = (
        "clear evidence of a change" if _excludes_one(cf) else "not clear evidence of a change"
    )
    if change == "no different":
        body = f"{what} were about as expected"
    else:
        body = f"{what} were {change} than expected"
    s = f"{body} ({lab} interval: {interval_words(cf.ci_low, cf.ci_high)}): {verdict}."
    if ctx.illustrative:
        s = f"Taking {_when(ctx)} as the start: {s[0].lower()}{s[1:]}"
    return s


def _detect_sentence(ctx: ReportContext, o: Any) -> str:
    m = o["mde"]
    way = "fall" if m.direction == "decrease" else "rise"
    if not m.detectable:
        return (
            "The evaluation is too small to detect any plausible change in "
            f"{noun(o.outcome)}: read the result as a description, not a test."
        )
    pct = math.ceil(abs(m.pct_change) - 1e-9)
    return (
        f"Only a {way} of **{pct} % or more** would reliably have been detected "
        f"({m.power * 100:g} % of the time); smaller changes could be missed."
    )


def _cost_sentence(ctx: ReportContext) -> str:
    cost = ctx.primary.get("cost")
    if cost is None:
        return "No costs were recorded for the pilot, so cost per crime prevented is not given."
    lvl = format_level(cost.level) if cost.level is not None else "the"
    prevented = (
        f"crimes prevented: {cost.crimes_prevented:,.0f} ({lvl} interval "
        f"{cost.prevented_low:,.0f} to {cost.prevented_high:,.0f})"
    )
    if cost.prevented_low <= 0:
        return (
            f"{money(cost.total_cost)}; {prevented}, so the cost per crime prevented cannot be "
            "pinned down."
        )
    hi = "no upper limit" if math.isinf(cost.ci_high) else money(cost.ci_high)
    return (
        f"The pilot cost {money(cost.total_cost)}: about {money(cost.cost_per_crime)} per crime "
        f"prevented ({lvl} interval {money(cost.ci_low)} to {hi})."
    )


def _main_limitation(ctx: ReportContext) -> str:
    if ctx.illustrative:
        return "The start date is illustrative, so these results answer a what-if question."
    if ctx.n_treated == 1:
        return (
            "One area, whose crime varies a lot by chance; the pilot's parts ran together, so "
            "their effects cannot be separated."
        )
    return (
        "The pilot's parts ran together, so their effects cannot be separated; other changes "
        "in the pilot areas at the same time cannot be ruled out."
    )


def summary(ctx: ReportContext) -> Section:
    """The first screen: question, answer, detectability, evidence level, cost, limitation."""
    o = ctx.primary
    level, why, _ = evidence_level(ctx)
    question = (
        f"Did recorded {noun(o.outcome)} in {ctx.short_name} change after the pilot began in "
        f"{_when(ctx)}, compared with other areas?"
    )
    items = (
        f"**Answer.** {summary_sentence(ctx)}",
        f"**Could it have been detected?** {_detect_sentence(ctx, o)}",
        f"**Strength of evidence.** Level {level} of 5 (Maryland Scientific Methods Scale): {why}.",
        f"**Cost.** {_cost_sentence(ctx)}",
        f"**Main limitation.** {_main_limitation(ctx)}",
    )
    return Section(
        id="summary",
        title="Summary",
        blocks=(Text(f"**Question.** {question}", kind="lead"), Items(items)),
    )


# -- Effect ---------------------------------------------------------------------------------


def _rank_sentence(ctx: ReportContext, o: Any) -> str:
    pl = o["placebo"]
    way = "fall" if pl.direction == "decrease" else "rise"
    n_sets = math.comb(int(pl.n_units), int(pl.n_treated))
    if ctx.n_treated == 1:
        how = f"Giving the pilot, in turn, to each of the {pl.n_reference:,} areas"
    elif pl.enumerated:
        how = f"Giving the pilot, in turn, to every one of the {n_sets:,} possible sets of areas"
    else:
        how = (
            f"Giving the pilot to {pl.n_reference - 1:,} sets of areas drawn at random from the "
            f"{n_sets:,} possible"
        )
    place = "most unusual" if pl.rank == 1 else f"number {pl.rank} in how unusual it was"
    if o.outcome != ctx.primary.outcome:  # said in full once, for the primary outcome
        return (
            f"Among all {pl.n_reference:,} "
            f"{'areas' if ctx.n_treated == 1 else 'sets of areas'} given the pilot in turn, "
            "the pilot area's change "
            f"ranked {place} as a {way} (one-sided {format_p(pl.p_one_sided, min_p=pl.min_p)})."
        )
    floor = format_p(pl.min_p).removeprefix("p = ")
    s = (
        f"{how} (the pilot area included), the pilot area's change ranked {place} as a {way} "
        f"(one-sided {format_p(pl.p_one_sided, min_p=pl.min_p)} for a {way}; the smallest "
        f"possible with this many is {floor})."
    )
    if pl.min_p > ctx.alpha:
        s += (
            f" So this ranking on its own can never reach the {ctx.alpha * 100:g} % level: that "
            "is a limit of a design with this few areas, not a verdict on the pilot."
        )
    return s


def _headline_text(ctx: ReportContext, o: Any) -> list[Text]:
    cf = o["conformal"]
    lab = format_level(cf.level)
    parts = [
        Text(
            f"After the start, {noun(o.outcome)} in {ctx.area_name} were "
            f"**{lower_higher(cf.irr)}** than the comparison areas' trend predicts ({lab} "
            f"interval: {interval_words(cf.ci_low, cf.ci_high)}; ratio {cf.irr:.2f}, "
            f"interval {cf.ci_low:.2f} to {cf.ci_high:.2f}). "
            + (
                f"The interval excludes no change (two-sided "
                f"{format_p(cf.p_two_sided, min_p=cf.min_p)})."
                if _excludes_one(cf)
                else "The interval includes no change: this is not clear evidence of a change, "
                "and it does not rule out a real one."
                if o.outcome == ctx.primary.outcome
                else "The interval includes no change."
            )
        ),
        Text(_rank_sentence(ctx, o)),
    ]
    if o.outcome == ctx.primary.outcome:
        parts.append(Text(window_sentence(ctx)))
    trend = _trend_text(ctx, o)
    if trend is not None:
        parts.append(trend)
    if not _went_way(cf.irr, o.expected_change) and pct_change(cf.irr) >= 1:
        aim = "fall" if o.expected_change == "decrease" else "rise"
        parts.append(Text(f"The change went the other way from the {aim} the pilot aimed for."))
    if ctx.illustrative:
        parts.append(
            Text(
                f"The start date ({_when(ctx)}) is illustrative: this is what the data show "
                "if the pilot had started then."
                if o.outcome == ctx.primary.outcome
                else "The start date is illustrative.",
                kind="warning",
            )
        )
    return parts


def fragile(ctx: ReportContext, o: Any) -> bool:
    """Does the pre-trend test, or the breakdown value, say the result is fragile?

    Fragile when the pilot area was already drifting away from the others before the start
    (the pre-trend test rejects at its own level, 0.10), or when the main result excludes no
    change but a departure from parallel trends smaller than those already seen before the
    start would undo that (breakdown value below 1).
    """
    pt, sens = o.get("pretrend"), o.get("sensitivity")
    drift = pt is not None and pt.p_value <= pt.alpha
    weak = sens is not None and _excludes_one(o["conformal"]) and sens.breakdown < 1
    return bool(drift or weak)


def _trend_text(ctx: ReportContext, o: Any) -> Text | None:
    """Shown beside the headline only when the result is fragile to a pre-existing trend."""
    if not fragile(ctx, o):
        return None
    pt, tr = o.get("pretrend"), o.get("trend_robust")
    drift = pt is not None and pt.p_value <= pt.alpha
    why = (
        f"Before the start the pilot area was already drifting away from the other areas "
        f"(by {_drift_pct(pt.pct_per_month)} a month; {format_p(pt.p_value, min_p=pt.min_p)}, "
        "two-sided, against every area's own drift)."
        if drift
        else "A departure from the comparison areas' trend smaller than those seen before the "
        "start would be enough to undo this result."
    )
    if tr is None:
        return Text(f"{why} Read the result with that in mind.", kind="note")
    lab = format_level(tr.level)
    tr_excl = tr.ci_low > 1 or tr.ci_high < 1
    undo = _excludes_one(o["conformal"]) and not tr_excl
    return Text(
        f"{why} Allowing for the pilot area's own earlier drift, the change is "
        f"{lower_higher(tr.ratio)} than expected ({lab} interval: "
        f"{interval_words(tr.ci_low, tr.ci_high)})"
        + (
            ", which includes no change: part or all of the change may be that earlier "
            "trend carrying on."
            if undo
            else "."
        ),
        kind="warning" if undo else "note",
    )


def before_after_table(ctx: ReportContext, o: Any) -> Table:
    w = ctx.config.windows
    t = o.totals.copy()
    thr = ctx.threshold
    per = o.get("per_resident")
    rows = []
    for _, r in t.iterrows():
        pre, post = int(r["pre"]), int(r["post"])
        small = [0 < v < thr for v in (pre, post)]

        def show(v: int, hidden: bool) -> str:
            return f"<{thr}" if hidden else f"{v:,}"

        bm, am = pre / w.pre_months, post / w.post_months
        change = "–" if any(small) or bm == 0 else f"{am / bm - 1:+.0%}"
        row = {
            "Area": GROUP_NAMES.get(r[C.GROUP], r[C.GROUP]),
            f"Before ({w.pre_months} months)": show(pre, small[0]),
            f"After ({w.post_months} months)": show(post, small[1]),
        }
        if per is None:
            row["Per month before"] = "–" if small[0] else f"{bm:.1f}"
            row["Per month after"] = "–" if small[1] else f"{am:.1f}"
        else:  # rates instead of monthly counts: the table stays narrow enough not to scroll
            g = r[C.GROUP]
            for when, hidden, label in (
                ("pre", small[0], "Rate before"),
                ("post", small[1], "Rate after"),
            ):
                v = per.rate(g, when) if g in ("treated", "comparison") else math.nan
                row[label] = "–" if hidden or not math.isfinite(v) else f"{v:.1f}"
        row["Raw change"] = change
        rows.append(row)
    df = pd.DataFrame(rows)
    return Table(
        df,
        caption=f"Recorded {noun(o.outcome)} before and after the start, by area "
        + (
            f"(1 to {thr - 1} shown as <{thr}"
            if per is not None
            else f"(counts from 1 to {thr - 1} shown as <{thr}"
        )
        + ("; rates per 1,000 residents a year)" if per is not None else ")"),
        numeric=tuple(df.columns[1:]),
    )


def _monthly_figure(ctx: ReportContext, o: Any) -> Figure:
    from .figures import monthly_chart

    cfg = ctx.config
    fig = monthly_chart(
        ctx.evaluation.prepared.panel,
        outcome=o.outcome,
        start=cfg.intervention.start,
        end=cfg.intervention.end,
        small_count_threshold=ctx.threshold,
    )
    cf = o["conformal"]
    return Figure.from_matplotlib(
        fig,
        alt=(
            f"Line chart of recorded {noun(o.outcome)} in {ctx.area_name} over time, "
            f"{cfg.months[0]:%B %Y} to {cfg.months[-1]:%B %Y}, with the comparison areas' "
            f"trend scaled to it before the start. After the start the pilot area ran "
            f"{lower_higher(cf.irr)} than that trend."
        ),
        caption=f"{o.outcome} in {ctx.area_name} against the comparison areas' trend "
        "(the shaded band is the intervention period).",
    )


def _placebo_figure(ctx: ReportContext, o: Any) -> Figure:
    from .figures import placebo_chart

    pl = o["placebo"]
    st = pl.statistics
    names = ctx.evaluation.prepared.areas.set_index(C.AREA)[C.NAME].astype(str)
    labels = [
        ", ".join(names.get(a, a) for a in str(s).split("+")) for s in st["assignment"].astype(str)
    ]
    pts = pd.DataFrame(
        {"area": labels, "ratio": st["ratio"], "rank": st["rank"], "is_treated": st["observed"]}
    )
    fig = placebo_chart(pts)
    way = "fall" if pl.direction == "decrease" else "rise"
    return Figure.from_matplotlib(
        fig,
        alt=(
            f"Dot chart of the change in each of the {pl.n_reference:,} "
            f"{'areas' if ctx.n_treated == 1 else 'sets of areas'} when given the pilot in turn, "
            f"in rank order. The pilot area ranks {pl.rank} of {pl.n_reference:,} as a {way}."
        ),
        caption="Every area given the pilot in turn: the pilot area is the large diamond.",
    )


def _agree(ctx: ReportContext, o: Any) -> Section:
    cf = o["conformal"]
    rows = [e for e in o.estimates if e.role != "headline" and e.scale == "ratio"]
    blocks: list[Any] = []
    if rows:
        same = sum(1 for e in rows if (e.estimate < 1) == (cf.irr < 1))
        lows = [e for e in rows if e.p_value is not None and e.p_value < ctx.alpha]
        blocks.append(
            Text(
                f"{same} of the {len(rows)} other estimates of the change point the same way as "
                f"the main result ({'lower' if cf.irr < 1 else 'higher'} than expected); the "
                "full table is in the appendix."
            )
        )
        if lows and not _excludes_one(cf):
            blocks.append(
                Text(
                    f"{len(lows)} of them give a p-value below {ctx.alpha:g}, but they treat "
                    "each month as independent of the last, which crime is not, so their "
                    "intervals are too narrow: the main result uses methods that hold with one "
                    "pilot area."
                )
            )
    ptest = o.get("pretrend")
    if ptest is not None and not fragile(ctx, o):
        blocks.append(
            Text(
                "There is no clear sign that the pilot area was drifting away from the "
                f"comparison areas before the start ({format_p(ptest.p_value, min_p=ptest.min_p)}"
                ", two-sided, against every area's own drift); such a check cannot prove they "
                "moved in step."
            )
        )
    sens = o.get("sensitivity")
    if sens is not None and _excludes_one(cf) and sens.breakdown > 0:
        blocks.append(
            Text(
                "The result would no longer exclude no change if, after the start, the pilot "
                "area had departed from the comparison areas' trend by more than "
                f"{sens.breakdown:.1f} times the largest departure seen before it."
            )
        )
    pt = o.get("placebo_time")
    if pt is not None and pt.n_fake >= 6:
        blocks.append(
            Text(
                f"Computed at {pt.n_fake} fake start dates before the pilot, the same "
                f"comparison puts the real start {pt.rank} of {pt.n_reference}; the fake "
                "windows overlap, so this is a picture of the area's history, not a test."
            )
        )
    sc = o.get("synth_conformal")
    if sc is not None:
        blocks.append(
            Text(
                "Against a weighted mix of comparison areas built to track the pilot area "
                f"before the start (a synthetic control), the change is "
                f"{lower_higher(sc.ratio)} than expected ({format_level(sc.level)} interval: "
                f"{interval_words(sc.ci_low, sc.ci_high)})."
            )
        )
    return Section(
        id=f"agree-{_slug(o.outcome)}",
        title="Do other methods agree?",
        blocks=tuple(blocks),
        level=3,
    )


def _displacement(ctx: ReportContext, o: Any) -> Section | None:
    w = o.get("wdd")
    if w is None or not w.has_displacement:
        return None
    from statistics import NormalDist

    z = NormalDist().inv_cdf(1 - ctx.alpha / 2)
    lo, hi = w.est_displace - z * w.se_displace, w.est_displace + z * w.se_displace
    lab = format_level(1 - ctx.alpha)
    way = "fewer" if w.est_displace < 0 else "more"
    sure = (
        "the data cannot tell crime moving next door from the benefit spreading or no change"
        if lo <= 0 <= hi
        else "the benefit spread next door"
        if hi < 0
        else "crime moved next door"
    )
    where = (
        f"within {ctx.config.buffer_m:g} m of the pilot area"
        if ctx.config.data.source == "police_uk"
        else "in the neighbouring areas"
    )
    return Section(
        id=f"displacement-{_slug(o.outcome)}",
        title="Did crime move next door?",
        level=3,
        blocks=(
            Text(
                f"In the area {where} there were {abs(w.est_displace):,.0f} {way} "
                f"{noun(o.outcome)} than the comparison areas' trend predicts ({lab} interval "
                f"{lo:+,.0f} to {hi:+,.0f}; a secondary figure, as it treats months as "
                f"independent): {sure}."
            ),
            *_wdq_text(ctx, o),
            *_sppt_text(ctx, o),
        ),
    )


def _sppt_text(ctx: ReportContext, o: Any) -> tuple[Text, ...]:
    """Whether the pilot area and its buffer kept their share of the crimes (point data)."""
    sp = o.get("sppt")
    if sp is None:
        return ()
    groups = ctx.evaluation.prepared.areas.set_index(C.AREA)[C.GROUP]
    pu = sp.per_unit.assign(group=lambda d: d["unit"].map(groups))

    def share(group: str) -> str | None:
        rows = pu[pu["group"] == group]
        if rows.empty:
            return None
        moved = rows[~rows["similar"]]
        name = "the pilot area" if group == "treated" else "the buffer"
        if moved.empty:
            return f"{name}'s share did not change beyond chance"
        ways = sorted(set(moved["direction"]))
        way = ways[0] if len(ways) == 1 else "higher in some parts, lower in others"
        return f"{name}'s share changed beyond chance ({way} after)"

    parts = [t for t in (share("treated"), share("buffer")) if t is not None]
    n_similar = round(sp.s_index * sp.n_units)
    from ..pipeline.analyses import equal_window_months

    n = equal_window_months(ctx.config)
    return (
        Text(
            f"In the {n} months before and after, {n_similar} of the {sp.n_units} areas kept "
            f"a similar share of the crimes (spatial point pattern test, S = {sp.s_index:.2f}; "
            "secondary, as it treats crimes as independent); " + "; ".join(parts) + "."
        ),
    )


def _wdq_text(ctx: ReportContext, o: Any) -> tuple[Text, ...]:
    """The weighted displacement quotient, when it and its interval are defined."""
    q = o.get("wdq")
    if q is None:
        return ()
    if not q.defined:
        if math.isnan(q.point.success_measure):
            why = "the comparison areas recorded none before or after the start"
        elif math.isnan(q.wdq):
            why = (
                "crime in the pilot area did not fall relative to the comparison areas, so "
                "there is no fall to compare the buffer's change with"
            )
        else:
            why = (
                "the pilot area's fall relative to the comparison areas is too uncertain to "
                "compare the buffer's change with"
            )
        return (
            Text(
                "The weighted displacement quotient (Bowers and Johnson 2003), which compares "
                f"the buffer's change with the pilot area's, is not given, because {why}.",
                kind="note",
            ),
        )
    lo, hi = q.ci_low, q.ci_high
    reading = (
        "the benefit spread into the buffer"
        if lo > 0
        else "crime moved into the buffer"
        if hi < 0
        else "it cannot tell which"
    )
    return (
        Text(
            "The weighted displacement quotient (the buffer's change against the pilot area's "
            "relative fall; above zero, the benefit spread; below, crime moved) is "
            f"{_two(q.wdq)} ({format_level(q.level)} interval {_two(lo)} to {_two(hi)}): "
            f"{reading}."
        ),
    )


def _density_figure(ctx: ReportContext, o: Any) -> Figure | None:
    """Crimes per 200 m square in the pilot area and buffer, before vs after (point data)."""
    prep = ctx.evaluation.prepared
    spec = next((s for s in ctx.config.outcomes if s.name == o.outcome), None)
    if prep.incidents is None or spec is None or spec.from_reports:
        return None
    from ..pipeline.analyses import equal_window_months, incidents_by_period
    from .density import density_alt_text, density_small_multiples, grid_counts

    cfg = ctx.config
    n = equal_window_months(cfg)
    inc = incidents_by_period(prep, spec.crime_types)  # the point-pattern test's windows too
    near = prep.areas[prep.areas[C.GROUP].isin(["treated", "buffer"])]
    grid = grid_counts(inc, period="period", extent=near, threshold=ctx.threshold)
    after_words = "after the roll-out" if len(cfg.excluded_months) else "after the start"
    labels = (f"{n} months before the start", f"{n} months {after_words}")
    fig = density_small_multiples(grid, areas=near, labels=labels)
    return Figure.from_matplotlib(
        fig,
        alt=density_alt_text(grid, labels=labels),
        caption=f"Recorded {noun(o.outcome)} per 200 m square, {n} months before and "
        f"{after_words}; squares with fewer than {ctx.threshold} are hatched, and no single "
        "crime is mapped.",
    )


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


def outcome_section(ctx: ReportContext, o: Any, *, primary: bool) -> Section:
    if not o.estimated:
        return Section(
            id=f"outcome-{_slug(o.outcome)}",
            title=o.outcome,
            level=3,
            blocks=(Text(f"{o.outcome} could not be estimated, because {o.reason}."),),
        )
    spec = next((s for s in ctx.config.outcomes if s.name == o.outcome), None)
    blocks: list[Any] = [
        Text(f"**What could this evaluation detect?** {_detect_sentence(ctx, o)}"),
        *_headline_text(ctx, o),
        before_after_table(ctx, o),
        _monthly_figure(ctx, o),
    ]
    reports = ctx.evaluation.prepared.streetsafe
    if spec is not None and spec.from_reports and reports is not None:
        blocks.insert(
            1,
            Text(
                "These are reports people made (through StreetSafe or the pilot's QR codes), "
                "not recorded crimes. More reports can mean more confidence, or an easier way, "
                f"to report, not more harm ({len(reports):,} reports; free text never read).",
                kind="note",
            ),
        )
    if primary:
        blocks.append(_placebo_figure(ctx, o))
    subs = [_agree(ctx, o)] if primary else []
    disp = _displacement(ctx, o) if primary else None
    where = _density_figure(ctx, o) if primary else None
    if disp is not None:
        subs.append(replace(disp, blocks=(*disp.blocks, where)) if where is not None else disp)
    elif where is not None:
        blocks.append(where)
    return Section(
        id=f"outcome-{_slug(o.outcome)}",
        title=o.outcome if not primary else f"Main result: {o.outcome}",
        level=3,
        blocks=tuple(blocks),
        subsections=tuple(subs),
    )


def effect(ctx: ReportContext) -> Section:
    """Effect: the main result, whether other methods agree, displacement, other outcomes."""
    ev = ctx.evaluation
    subs = [outcome_section(ctx, ctx.primary, primary=True)]
    others = ev.outcomes[1:]
    intro = (
        "We compare recorded crime in the pilot area after the start with what the comparison "
        "areas' trend predicts for it, and say first how large a change could be detected."
    )
    blocks: list[Any] = [Text(intro)]
    subs += [outcome_section(ctx, o, primary=False) for o in others]
    return Section(
        id="effect",
        title="Effect: did recorded crime change?",
        blocks=tuple(blocks),
        subsections=tuple(subs),
    )


def feelings_of_safety(ctx: ReportContext) -> Section:
    """The resident survey: what it could detect, then the result."""
    sv = ctx.evaluation.survey
    if sv is None:
        return Section(
            id="feelings",
            title="Feelings of safety",
            blocks=(
                Text(
                    "No resident survey was supplied for this pilot, so feelings of safety are "
                    "not assessed in this report."
                ),
            ),
        )
    r, mde = sv.result, sv.mde
    pts, lo, hi = 100 * r.est, 100 * r.ci_low, 100 * r.ci_high
    way = "rose" if pts >= 0 else "fell"
    verdict = (
        "The interval includes no change, so the survey cannot tell whether feelings of safety "
        "changed more in the pilot area than elsewhere."
        if lo <= 0 <= hi
        else "The interval excludes no change."
    )
    t = sv.shares.copy()
    wide = t.pivot(index="group", columns="wave", values=["share", "respondents"])
    order = [g for g in ("treated", "comparison") if g in wide.index]
    table = pd.DataFrame(
        {
            "Area": [GROUP_NAMES[g] for g in order],
            "Before: share who agree": [f"{wide.loc[g, ('share', 'pre')]:.0%}" for g in order],
            "After: share who agree": [f"{wide.loc[g, ('share', 'post')]:.0%}" for g in order],
            "Respondents before": [f"{int(wide.loc[g, ('respondents', 'pre')]):,}" for g in order],
            "Respondents after": [f"{int(wide.loc[g, ('respondents', 'post')]):,}" for g in order],
        }
    )
    return Section(
        id="feelings",
        title="Feelings of safety",
        blocks=(
            Text(
                "The resident survey asked the same question before and after the pilot, in the "
                "pilot area and in the comparison areas."
            ),
            Text(
                f"**What could the survey detect?** A change of **{100 * mde.mde:.0f} "
                f"percentage points or more** relative to the comparison areas, {mde.power * 100:g} % "
                "of the time; smaller real changes could easily be missed."
            ),
            Text(
                f"The share of residents who {sv.question} {way} by {abs(pts):.1f} percentage "
                f"points more in the pilot area than in the comparison areas "
                f"({format_level(1 - r.alpha)} interval {lo:+.1f} to {hi:+.1f} points). "
                f"{verdict} The interval reflects the sampling of respondents only, so it is a "
                "secondary figure."
            ),
            Table(
                table,
                caption=f"Share of residents who {sv.question}, by area and survey wave (weighted)",
                numeric=tuple(table.columns[1:]),
            ),
        ),
    )


# -- Mechanism, Moderators, Implementation, Economic cost ---------------------------------------


def mechanism(ctx: ReportContext) -> Section:
    comps = ctx.config.intervention.components
    kinds = list(dict.fromkeys(c.type for c in comps))
    blocks: list[Any] = []
    if kinds:
        blocks.append(Text("What each part of the pilot was meant to change:"))
        blocks.append(Items(tuple(f"**{MECHANISMS[k][0]}** {MECHANISMS[k][1]}." for k in kinds)))
        if len(kinds) > 1:
            blocks.append(
                Text(
                    "The parts ran together, so this evaluation measures them as a package: it "
                    "cannot say which part made a difference."
                )
            )
    else:
        blocks.append(
            Text(
                "The pilot's parts were not recorded for this report, so what each was meant "
                "to change is not described here."
            )
        )
    return Section(
        id="mechanism", title="Mechanism: how was the pilot meant to work?", blocks=tuple(blocks)
    )


def moderators(ctx: ReportContext) -> Section:
    items = [
        "Recorded crime depends on reporting. A pilot that makes reporting easier (QR codes, "
        "trained venue staff) can raise recorded crime even as it makes people safer.",
        "Violence against women and girls is under-reported, so recorded offences show part of "
        "the harm, not all of it.",
    ]
    if ctx.n_treated == 1:
        items.append(
            "With one pilot area, the data cannot say whether the pilot would work the same "
            "elsewhere, or for whom it worked best."
        )
    return Section(
        id="moderators",
        title="Moderators: what can and cannot the data say?",
        blocks=(Items(tuple(items)),),
    )


def implementation(ctx: ReportContext) -> Section:
    from .figures import area_map

    cfg = ctx.config
    iv = cfg.intervention
    period = f"from {_when(ctx)}" + (f" to {iv.end:%B %Y}" if iv.end is not None else "")
    blocks: list[Any] = [
        Text(
            f"The pilot ran in {ctx.area_name} {period}. This report compares it with "
            f"{ctx.n_comparison} comparison areas over {cfg.windows.pre_months} months before "
            f"the start and {cfg.windows.post_months} after. {window_sentence(ctx)}"
        )
    ]
    if iv.note:
        blocks.append(Text(iv.note, kind="warning" if ctx.illustrative else "note"))
    if iv.components:
        rows = [
            {
                "What": MECHANISMS[c.type][0],
                "From": f"{c.date:%b %Y}",
                "Details": c.description,
                "Number": "" if c.count is None else f"{c.count:,}",
                "Cost": "" if c.cost is None else money(c.cost),
            }
            for c in iv.components
        ]
        df = pd.DataFrame(rows)
        blocks.append(
            Table(
                df,
                caption="What the pilot did, when, how much and at what cost",
                numeric=("Number", "Cost"),
            )
        )
    prepared = ctx.evaluation.prepared
    fig = area_map(
        prepared.areas,
        sites=prepared.interventions,
        locations=prepared.locations,
        location_labels={k: v[0] for k, v in MECHANISMS.items()},
    )
    drawn = (
        []
        if prepared.locations is None
        else [MECHANISMS[t][0].lower() for t in dict.fromkeys(prepared.locations["type"])]
    )
    n_sites = (
        0
        if ctx.evaluation.prepared.interventions is None
        else len(ctx.evaluation.prepared.interventions)
    )
    blocks.append(
        Figure.from_matplotlib(
            fig,
            alt=(
                f"Map of {ctx.area_name} (the pilot area), "
                + ("the buffer around it, " if ctx.has_buffer else "")
                + f"and the {ctx.n_comparison} comparison areas"
                + (f", with {n_sites} intervention sites marked" if n_sites else "")
                + (f"; where the pilot delivered {', '.join(drawn)}" if drawn else "")
                + ". It shows areas and sites, never where crimes happened."
            ),
            caption="Where the pilot ran: the pilot area, "
            + ("its buffer, " if ctx.has_buffer else "")
            + "the comparison areas"
            + (" and the intervention sites" if n_sites else "")
            + (" and components" if drawn else "")
            + ".",
        )
    )
    return Section(
        id="implementation",
        title="Implementation: what was done, where and when",
        blocks=tuple(blocks),
    )


def economic_cost(ctx: ReportContext) -> Section:
    cost = ctx.primary.get("cost")
    blocks: list[Any] = [Text(_cost_sentence(ctx))]
    if cost is not None:
        comps = ctx.config.intervention.components
        missing = [c for c in comps if c.cost is None]
        blocks.append(
            Text(
                "Crimes prevented are counted in the pilot area only, from the main result and "
                "its interval, so the cost per crime prevented carries the same uncertainty."
                + (
                    f" {len(missing)} of the {len(comps)} parts have no recorded cost, so the "
                    "real cost per crime prevented is higher than shown."
                    if missing
                    else ""
                )
            )
        )
    blocks += _valued_texts(ctx)
    return Section(id="cost", title="Economic cost", blocks=tuple(blocks))


def _signed_money(x: float) -> str:
    return ("-" if x < 0 else "") + "£" + _sig3(abs(x))


def _valued_texts(ctx: ReportContext) -> list[Text]:
    """Social cost and harm of the crimes prevented, with the headline interval (when given)."""
    o = ctx.primary
    spec = next((s for s in ctx.config.outcomes if s.name == o.outcome), None)
    out: list[Text] = []
    sc, hm = o.get("social_cost"), o.get("harm")
    if sc is not None and spec is not None and spec.unit_cost is not None:
        up = ctx.config.report.price_uprating
        prices = (
            f"{up.to} prices (uprated by {up.factor:g}: {up.source})"
            if up is not None
            else "2015/16 prices"
        )
        out.append(
            Text(
                f"At the Home Office's social cost of crime ({_signed_money(sc.per_crime * sc.factor)}"
                f" per crime; {spec.unit_cost.source}), the crimes prevented are worth "
                f"{_signed_money(sc.estimate)} ({format_level(sc.level)} interval "
                f"{_signed_money(sc.ci_low)} to {_signed_money(sc.ci_high)}) at {prices}"
                + ("; the interval includes no saving." if sc.ci_low <= 0 else ".")
            )
        )
    if hm is not None and spec is not None and spec.harm_weight is not None:
        out.append(
            Text(
                f"In harm (ONS Crime Severity Score, {_sig3(hm.per_crime)} days of custody "
                f"equivalent per crime; {spec.harm_weight.source}), that is "
                f"{_sig3(hm.estimate)} days ({format_level(hm.level)} interval "
                f"{_sig3(hm.ci_low)} to {_sig3(hm.ci_high)})"
                + ("; the interval includes no harm avoided." if hm.ci_low <= 0 else ".")
            )
        )
    return out


def limitations(ctx: ReportContext) -> Section:
    _, _, raise_it = evidence_level(ctx)
    items = [_main_limitation(ctx)]
    if ctx.illustrative and ctx.n_treated == 1:
        items.append(
            "The pilot ran in one area, whose crime goes up and down a lot by chance, so only "
            "large changes can be detected."
        )
    items += [
        "Other changes in the pilot area at the same time (policing, events, reporting "
        "campaigns) cannot be ruled out; the comparison areas only remove changes shared with "
        "them.",
        f"The evidence would be stronger with {raise_it}.",
    ]
    return Section(id="limitations", title="Limitations", blocks=(Items(tuple(items)),))


def not_computed(ctx: ReportContext) -> Section:
    ev = ctx.evaluation
    # One line per analysis and reason: the outcomes it applies to are listed together.
    grouped: dict[tuple[str, str], list[str]] = {}
    for n in ev.not_computed:
        grouped.setdefault((n.label, n.reason), []).append(n.outcome)
    n_est = len(ev.estimated_outcomes)
    # Analyses left out for the same outcomes and the same reason share one line.
    by_reason: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for (label, reason), outs in grouped.items():
        by_reason.setdefault((reason, tuple(outs)), []).append(label)
    rows = [
        "**"
        + "; ".join(labels)
        + "** ("
        + ("every outcome" if n_est > 1 and len(outs) == n_est else ", ".join(outs))
        + f"): not computed, because {reason}."
        for (reason, outs), labels in by_reason.items()
    ]
    for o in ev.estimated_outcomes:
        pt = o.get("placebo_time")
        if pt is not None and pt.n_fake < 6:
            rows.append(
                f"**Fake start dates** ({o.outcome}): not shown, because only {pt.n_fake} fit "
                "before the start (at least 6 are needed for the picture to say anything)."
            )
    rows += [
        f"**{o.outcome}**: could not be estimated, because {o.reason}."
        for o in ev.outcomes
        if not o.estimated
    ]
    blocks: tuple[Any, ...] = (
        (Items(tuple(rows)),) if rows else (Text("Every analysis was computed for every outcome."),)
    )
    return Section(id="not-computed", title="What was not computed, and why", blocks=blocks)


# -- Appendix -----------------------------------------------------------------------------------

_METHOD_NAMES = {
    "conformal": "Conformal inference over time (main result)",
    "placebo_in_space": "Placebo ranking, size-adjusted interval",
    "conley_taber": "Conley–Taber interval",
    "wdd_scaled_total": "Weighted displacement difference, pilot area and buffer (crimes)",
    "wdd_scaled_local": "Weighted displacement difference, pilot area alone (crimes)",
    "synthetic_control_conformal": "Synthetic control, conformal interval",
    "did_trend_adjusted": "Trend-adjusted difference-in-differences",
    "log_irr": "Log rate ratio (Wilson)",
    "did_quasipoisson_model": "Quasi-Poisson difference-in-differences",
    "its_quasipoisson_level": "Interrupted time series, level change",
    "wdq": "Weighted displacement quotient (buffer against pilot area; 0 = no change)",
    "social_cost_prevented": "Social cost of the crimes prevented (pounds)",
    "harm_prevented": "Harm prevented (Crime Severity Score, days of custody equivalent)",
}


def estimates_table(ctx: ReportContext) -> Table:
    labels = {name: (label, assumes) for name, _, label, assumes in ctx.evaluation.analyses}
    rows = []
    for e in ctx.evaluation.estimates:
        name = _METHOD_NAMES.get(e.method, labels.get(e.method, (e.method, ""))[0])
        if e.scale == "ratio":
            value = f"{e.estimate:.2f}"
            lo = (
                "no limit"
                if not (math.isfinite(e.ci_low) and e.ci_low > 0)
                else format_ratio(e.ci_low, rounding="down")
            )
            hi = (
                "no limit"
                if not math.isfinite(e.ci_high)
                else format_ratio(e.ci_high, rounding="up")
            )
        elif e.scale == "quotient":
            value, lo, hi = _two(e.estimate), _two(e.ci_low), _two(e.ci_high)
        elif e.scale == "gbp":
            value, lo, hi = (_signed_money(v) for v in (e.estimate, e.ci_low, e.ci_high))
        elif e.scale == "harm":
            value = f"{e.estimate:+,.0f} days"
            lo, hi = f"{e.ci_low:+,.0f}", f"{e.ci_high:+,.0f}"
        else:
            value = f"{e.estimate:+,.0f} crimes"
            lo, hi = f"{e.ci_low:+,.0f}", f"{e.ci_high:+,.0f}"
        rows.append(
            {
                "Outcome": e.outcome,
                "Method": name,
                "Role": {"headline": "Main", "robustness": "Check", "secondary": "Secondary"}[
                    e.role
                ],
                "Estimate": value,
                "Interval": f"{format_level(e.level)}: {lo} to {hi}",
                "p (two-sided)": ""
                if e.p_value is None
                else format_p(e.p_value).removeprefix("p = "),
            }
        )
    df = pd.DataFrame(rows)
    return Table(
        df,
        caption="Every estimate (ratios: 1 = no change, below 1 = fewer crimes than expected)",
        numeric=("Estimate", "Interval", "p (two-sided)"),
    )


def analyses_table(ctx: ReportContext) -> Table:
    ev = ctx.evaluation
    rows = []
    for name, role, label, assumes in ev.analyses:
        done = [o.outcome for o in ev.estimated_outcomes if name in o.results]
        rows.append(
            {
                "Analysis": label,
                "Role": {"headline": "Main", "check": "Check", "secondary": "Secondary"}.get(
                    role, role
                ),
                "Assumes": assumes,
                "Computed for": ", ".join(done) if done else "not computed",
            }
        )
    return Table(pd.DataFrame(rows), caption="Every analysis, its role and what it assumes")


def _selection_table(ctx: ReportContext) -> Table | None:
    sel = ctx.primary.get("selection")
    if sel is None:
        return None
    names = ctx.evaluation.prepared.areas.set_index(C.AREA)[C.NAME]
    t = sel.tidy().sort_values("rank").head(5)
    df = pd.DataFrame(
        {
            "Area": t["area"].map(names).fillna(t["area"]).astype(str).to_numpy(),
            "Rank": t["rank"].astype(int).astype(str).to_numpy(),
            "Similarity (lower is closer)": t["score"].map("{:.2f}".format).to_numpy(),
        }
    )
    return Table(
        df,
        caption="Comparison areas most like the pilot area before the start (shown, not used "
        "to choose the comparison)",
        numeric=("Rank", "Similarity (lower is closer)"),
    )


def _provenance_items(ctx: ReportContext) -> Items:
    p = ctx.provenance or {}
    items = []
    if "config" in p:
        items.append(f"Config {p['config']['path']}: SHA-256 {p['config']['sha256']}.")
    for i in p.get("inputs", []):
        items.append(f"{i['field']} ({i['path']}, {i['bytes']:,} bytes): SHA-256 {i['sha256']}.")
    if "data_period" in p:
        items.append(f"Data period: {p['data_period'][0]} to {p['data_period'][1]}.")
    if "packages" in p:
        items.append("Software: " + ", ".join(f"{k} {v}" for k, v in p["packages"].items()) + ".")
    if p.get("git_commit"):
        items.append(f"pilot-eval git commit: {p['git_commit']}.")
    if "run_date" in p:
        items.append(f"Run on {p['run_date']}.")
    return Items(tuple(items) or ("Provenance was not recorded for this run.",))


def appendix(ctx: ReportContext) -> Section:
    thr = ctx.threshold
    notes = [*ctx.evaluation.prepared.data_notes]
    notes.append(
        f"Counts from 1 to {thr - 1} are shown as '<{thr}' in tables, and charts of the pilot "
        "area are drawn by quarter or year when a month would show such a count, so no victim "
        "can be identified; maps show areas and intervention sites, never individual crimes."
    )
    subs = [
        Section(
            id="all-estimates",
            title="Every estimate",
            level=3,
            blocks=(
                Text(
                    "Checks and secondary figures assume things the main result "
                    "does not (see the next table); they are shown for completeness."
                ),
                estimates_table(ctx),
            ),
        ),
        Section(id="all-analyses", title="Every analysis", level=3, blocks=(analyses_table(ctx),)),
    ]
    sel = _selection_table(ctx)
    if sel is not None:
        subs.append(
            Section(
                id="similar-areas",
                title="Comparison areas most like the pilot area",
                level=3,
                blocks=(sel,),
            )
        )
    subs += [
        Section(id="about-data", title="About the data", level=3, blocks=(Items(tuple(notes)),)),
        Section(
            id="methods",
            title="Methods in brief",
            level=3,
            blocks=(
                Items(
                    (
                        "**Comparison.** The pilot area's change is measured against the "
                        "comparison areas' trend over the same months (a difference-in-"
                        "differences on counts, given as a ratio: 1 means no change).",
                        "**Main interval.** Conformal inference over time (Chernozhukov, "
                        "Wüthrich and Zhu 2021) asks which changes fit the pilot area's own "
                        "month-to-month noise; it stays valid with one pilot area. Its level is "
                        "the real one the design allows, not a nominal 95 %.",
                        "**Ranking.** Every area in turn is treated as if it had the pilot; the "
                        "pilot area's rank among all of them (itself included) gives a p-value "
                        "no smaller than 1 divided by the number of areas.",
                        "**What could be detected.** The smallest change the main test detects "
                        f"{ctx.power * 100:g} % of the time, simulated from the months before the "
                        "start; a result that is not clear is never read as proof that the pilot did "
                        "nothing.",
                        "**Displacement.** Crime in the area around the pilot area, by the "
                        "weighted displacement difference (Wheeler and Ratcliffe 2018).",
                        "**Sources.** Chernozhukov, Wüthrich and Zhu (2021), Journal of the "
                        "American Statistical Association 116(536); Abadie, Diamond and "
                        "Hainmueller (2010), JASA; Firpo and Possebom (2018), Journal of Causal "
                        "Inference; Conley and Taber (2011) and Ferman and Pinto (2019), Review "
                        "of Economics and Statistics; Rambachan and Roth (2023), Review of "
                        "Economic Studies; Wheeler and Ratcliffe (2018), Crime Science; Sherman "
                        "et al. (1997), the Maryland Scientific Methods Scale; Johnson, Tilley "
                        "and Bowers (2015), EMMIE, Journal of Experimental Criminology.",
                    )
                ),
            ),
        ),
        Section(id="provenance", title="Provenance", level=3, blocks=(_provenance_items(ctx),)),
    ]
    return Section(id="appendix", title="Appendix", subsections=tuple(subs), appendix=True)


def all_sections(ctx: ReportContext) -> tuple[Section, ...]:
    """The report's sections, in order (the summary first).

    The "Registered analysis plan" section appears when ``pilot-eval plan --register`` wrote
    a plan beside the config (:mod:`pilot_eval.report.registered_plan`).
    """
    from .registered_plan import plan_section

    plan = plan_section(ctx, ctx.config_dir) if ctx.config_dir is not None else None
    return (
        summary(ctx),
        effect(ctx),
        feelings_of_safety(ctx),
        mechanism(ctx),
        moderators(ctx),
        implementation(ctx),
        economic_cost(ctx),
        limitations(ctx),
        *((plan,) if plan is not None else ()),
        not_computed(ctx),
        appendix(ctx),
    )
