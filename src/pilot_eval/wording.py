"""THE plain-English vocabulary: p-values, intervals, ratios and numbers for summaries and the report.

Every ``summary()`` of an estimator or inference result, and the report's narrative, words its
numbers with these helpers. Ground level: imports nothing from pilot_eval but
:mod:`pilot_eval.errors` and :mod:`pilot_eval._checks`.

The rules these helpers enforce (``../shared/methods/one-treated-area.md``):

- never "p = 0": a permutation p-value is at least the design's smallest possible value, and
  p-values are rounded *up* (a rounded p-value never looks more convincing than it is);
- never "significant at 5 %" when the design's smallest possible p-value is above 0.05
  (1/17 = 0.059 for 17 wards with one treated);
- never call an interval 95 % when it is not: a level is shown rounded *down* to a whole
  percentage ("88 % interval" for 1 − 2/17 = 0.882), and interval ends are rounded outwards;
- never call a non-significant result "no effect": say what the design could have detected
  (its minimum detectable effect) instead, when it is known.
"""

from __future__ import annotations

import math
import sys
from typing import Literal, get_args

from ._checks import check_option
from .errors import EstimationError

__all__ = [
    "OTHERS_REFERENCE",
    "format_decimals2",
    "format_drift_pct",
    "format_sig3",
    "Direction",
    "describe_interval",
    "describe_rank",
    "describe_ratio",
    "describe_significance",
    "format_level",
    "format_level_of_alpha",
    "format_number",
    "format_p",
    "format_p_3dp",
    "format_p_floored",
    "format_ratio",
    "headline_sentence",
    "ordinal",
    "significance_sentence",
    "wald_sentences",
]

Direction = Literal["decrease", "increase"]

#: What a placebo or conformal comparison predicts from: the areas other than the pilot's.
OTHERS_REFERENCE = "the other areas' trend"


def _is_missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _round_sig_up(x: float, sig: int = 2) -> tuple[float, int]:
    """Round a positive number *up* to ``sig`` significant digits; return it and its decimals."""
    decimals = max(0, sig - 1 - math.floor(math.log10(x)))
    factor = 10.0**decimals
    return math.ceil(x * factor - 1e-9) / factor, decimals


def format_p(p: float | None, *, min_p: float | None = None) -> str:
    """A p-value for readers: ``"p = 0.059"``, ``"p < 0.001"``, never ``"p = 0"``.

    Parameters
    ----------
    p
        The p-value, in (0, 1]. ``None``/NaN gives ``"p-value not available"``.
    min_p
        The design's smallest attainable p-value (1/N for placebo-in-space with N areas, 1/T
        for conformal inference with T months), checked against ``p``.

    Raises
    ------
    EstimationError
        If ``p`` is 0, negative, above 1, or below ``min_p``: such a value is a bug upstream
        (e.g. a peer's convention that leaves the treated unit out of its reference set).

    Notes
    -----
    Two significant digits, rounded up (0.0588 → "0.059", 0.0504 → "0.051"), so the text
    never looks more convincing than the number.
    """
    if _is_missing(p):
        return "p-value not available"
    assert p is not None
    if not 0.0 < p <= 1.0:
        raise EstimationError(
            f"A p-value of {p!r} cannot be reported: permutation p-values lie in (0, 1] and are "
            "at least 1/(number of assignments). Check that the treated area is counted in its "
            "own reference set."
        )
    if min_p is not None and p < min_p * (1 - 1e-9):
        raise EstimationError(
            f"p = {p:.4g} is below the design's smallest possible p-value {min_p:.4g}; "
            "the p-value or min_p is wrong."
        )
    if p < 0.001:
        return "p < 0.001"
    value, decimals = _round_sig_up(p)
    return "p = 1" if value >= 1 else f"p = {value:.{decimals}f}"


def format_level(level: float) -> str:
    """An interval's real coverage level, rounded *down* to one decimal: ``"88.2 %"``.

    ``0.88235`` (a min–max placebo interval with 17 areas) gives ``"88.2 %"``; ``46/48``
    gives ``"95.8 %"``; ``0.95`` gives ``"95 %"``. Rounding down keeps it true (the interval
    covers at least that often); nothing below 0.95 is ever shown as "95 %".
    """
    if _is_missing(level) or not 0.0 < level < 1.0:
        raise EstimationError(f"an interval's level must be in (0, 1), got {level!r}")
    tenths = math.floor(level * 1000 + 1e-7)
    return f"{tenths // 10:d} %" if tenths % 10 == 0 else f"{tenths / 10:.1f} %"


def format_ratio(x: float, *, rounding: Literal["nearest", "down", "up"] = "nearest") -> str:
    """A rate ratio with two decimals (``0.79``), optionally rounded down or up."""
    check_option("rounding", rounding, ("nearest", "down", "up"))
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if rounding == "down":
        x = math.floor(x * 100 + 1e-9) / 100
    elif rounding == "up":
        x = math.ceil(x * 100 - 1e-9) / 100
    return f"{x:.2f}"


def _change_words(irr: float, *, noun: str, rounding: str = "nearest") -> str:
    """``0.79`` → ``"21 % fewer recorded offences"``; ``2.5`` → ``"2.5 times as many ..."``."""
    if irr >= 2:
        return f"{irr:.1f} times as many {noun}"
    pct = abs(1.0 - irr) * 100
    if rounding == "down":
        pct_i = math.floor(pct + 1e-9)
    elif rounding == "up":
        pct_i = math.ceil(pct - 1e-9)
    else:
        pct_i = round(pct)
    if pct_i == 0:
        return f"about as many {noun}"
    return f"{pct_i} % {'fewer' if irr < 1 else 'more'} {noun}"


def _end_words(r: float) -> str:
    """An interval end (already rounded to 2 decimals) as a change: ``0.61`` → ``"39 % fewer"``."""
    if r >= 2:
        return f"{r:.1f} times as many"
    pct = round(abs(1.0 - r) * 100)
    if pct == 0:
        return "no change"
    return f"{pct} % {'fewer' if r < 1 else 'more'}"


def describe_ratio(
    irr: float,
    *,
    noun: str = "recorded offences",
    reference: str = "the comparison areas' trend",
) -> str:
    """An incidence-rate ratio in plain words.

    ``describe_ratio(0.79)`` →
    ``"21 % fewer recorded offences than the comparison areas' trend predicts"``.

    Parameters
    ----------
    irr
        The ratio of the pilot area's post-period count to what the comparison predicts
        (1 = no change).
    noun
        What is counted, plural.
    reference
        What the prediction comes from.
    """
    if _is_missing(irr) or not math.isfinite(irr) or irr <= 0:
        raise EstimationError(f"a rate ratio must be a positive finite number, got {irr!r}")
    words = _change_words(irr, noun=noun)
    joiner = "as" if words.startswith(("about as many", f"{irr:.1f} times")) else "than"
    return f"{words} {joiner} {reference} predicts"


def describe_interval(
    low: float,
    high: float,
    level: float,
    *,
    scale: Literal["ratio", "count"] = "ratio",
    unit: str = "crimes",
) -> str:
    """An interval labelled with its real level, ends rounded outwards.

    ``describe_interval(0.613, 1.118, 0.882)`` →
    ``"88 % interval 0.61 to 1.12, that is from 39 % fewer to 12 % more"``.

    An interval that is unbounded on one side says so ("from 0.61 upwards, with no upper
    limit"); one unbounded on both sides says the data cannot pin the change down.

    Parameters
    ----------
    low, high
        The interval's ends (for ``scale="ratio"``, 0 or NaN means no lower limit and ``inf``
        or NaN no upper limit).
    level
        Its real coverage level, in (0, 1).
    scale
        ``"ratio"`` (rate ratio, 1 = no change) or ``"count"`` (crimes).
    unit
        The unit of a count-scale interval.
    """
    check_option("scale", scale, ("ratio", "count"))
    lab = f"{format_level(level)} interval"
    if scale == "count":
        lo_txt = "no lower limit" if _is_missing(low) or math.isinf(low) else f"{low:,.1f}"
        hi_txt = "no upper limit" if _is_missing(high) or math.isinf(high) else f"{high:,.1f}"
        return f"{lab} {lo_txt} to {hi_txt} {unit}"
    no_low = _is_missing(low) or low <= 0
    no_high = _is_missing(high) or math.isinf(high)
    if no_low and no_high:
        return f"{lab}: unbounded (the data cannot pin the change down at this level)"
    if no_high:
        lo = format_ratio(low, rounding="down")
        return f"{lab} from {lo} upwards, with no upper limit"
    if no_low:
        hi = format_ratio(high, rounding="up")
        return f"{lab} up to {hi}, with no lower limit"
    lo_r = math.floor(low * 100 + 1e-9) / 100
    hi_r = math.ceil(high * 100 - 1e-9) / 100
    return f"{lab} {lo_r:.2f} to {hi_r:.2f}, that is from {_end_words(lo_r)} to {_end_words(hi_r)}"


def ordinal(n: int) -> str:
    """``1`` → ``"1st"``, ``2`` → ``"2nd"``, ``11`` → ``"11th"``."""
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def describe_rank(
    rank: int,
    n: int,
    *,
    direction: Direction | None = "decrease",
    unit: str = "areas",
) -> str:
    """The treated area's place among all placebo assignments.

    ``describe_rank(1, 17)`` → ``"the largest fall of all 17 areas"``;
    ``describe_rank(3, 17)`` → ``"the 3rd-largest fall of the 17 areas"``.
    """
    if direction is not None:
        check_option("direction", direction, get_args(Direction))
    what = {"decrease": "fall", "increase": "rise", None: "change"}[direction]
    if not 1 <= rank <= n:
        raise EstimationError(f"rank must be between 1 and {n}, got {rank}")
    if rank == 1:
        return f"the largest {what} of all {n:,} {unit}"
    return f"the {ordinal(rank)}-largest {what} of the {n:,} {unit}"


def _alpha_text(alpha: float) -> str:
    return f"{alpha * 100:g} %"


def _mde_text(mde: float) -> str:
    if mde < 1:
        return f"a fall of {math.ceil((1 - mde) * 100 - 1e-9)} % or more"
    return f"a rise of {math.ceil((mde - 1) * 100 - 1e-9)} % or more"


def describe_significance(
    p: float,
    *,
    min_p: float,
    alpha: float = 0.05,
    mde: float | None = None,
    n_reference: int | None = None,
) -> str:
    """What a p-value does and does not show, in one or two sentences.

    Never says "significant at 5 %" when the design cannot reach 5 % (``min_p > alpha``);
    never says "no effect" for a non-significant result (it gives the minimum detectable
    effect instead when ``mde`` is supplied).

    Parameters
    ----------
    p
        The p-value.
    min_p
        The design's smallest attainable p-value.
    alpha
        The conventional threshold (0.05).
    mde
        The design's minimum detectable effect as a rate ratio (0.65 = a 35 % fall), if known.
    n_reference
        Size of the reference set (number of areas or assignments), for the floor's wording.
    """
    out: list[str] = []
    if min_p > alpha:
        out.append(
            f"No result from this design can reach the {_alpha_text(alpha)} level: "
            + (f"with {n_reference:,} areas " if n_reference else "")
            + f"the smallest possible p-value is {format_p(min_p).removeprefix('p = ')}."
        )
    elif p <= alpha:
        out.append(f"This is statistically significant at the {_alpha_text(alpha)} level.")
    if min_p > alpha and p <= min_p * (1 + 1e-9):
        out.append(
            "The pilot area's result is the most extreme possible, as strong as evidence from "
            "this design can be."
        )
    elif p > alpha:
        out.append("This is not clear evidence of a change, and it does not rule out a real one")
        if mde is not None:
            out[-1] += f": the design could only reliably detect {_mde_text(mde)}"
        out[-1] += "."
    return " ".join(out)


def headline_sentence(
    *,
    irr: float,
    p: float,
    min_p: float,
    direction: Direction | None = "decrease",
    rank: int | None = None,
    n_reference: int | None = None,
    low: float | None = None,
    high: float | None = None,
    level: float | None = None,
    mde: float | None = None,
    alpha: float = 0.05,
    area: str = "The pilot area",
    noun: str = "recorded offences",
    reference: str = "the comparison areas' trend",
) -> str:
    """The report's headline: MDE first, then the change, its interval, rank and p-value.

    Example (17 wards, one treated)::

        This design could reliably detect a fall of 35 % or more. Belvedere had 21 % fewer
        recorded offences than the other wards' trend predicts (95 % interval 0.61 to 1.12,
        that is from 39 % fewer to 12 % more). That was the 2nd-largest fall of the 17 areas
        (one-sided test for a fall: p = 0.12). No result from this design can reach the 5 %
        level: with 17 areas the smallest possible p-value is 0.059. This is not clear
        evidence of a change, and it does not rule out a real one.

    Parameters
    ----------
    irr
        The point estimate as a rate ratio.
    p
        The p-value (one-sided in ``direction``, or two-sided when ``direction`` is None).
    min_p
        The design's smallest attainable p-value.
    direction
        The direction of the one-sided test, or None for a two-sided p-value.
    rank, n_reference
        The treated area's rank among the ``n_reference`` placebo assignments, if any.
    low, high, level
        An interval valid with one treated area and its real level, if any.
    mde
        Minimum detectable effect as a rate ratio, stated first when given.
    alpha
        Conventional threshold.
    area, noun, reference
        Words for the treated area, what is counted and the comparison.
    """
    if direction is not None:
        check_option("direction", direction, get_args(Direction))
    parts: list[str] = []
    if mde is not None:
        parts.append(f"This design could reliably detect {_mde_text(mde)}.")
    change = f"{area} had {describe_ratio(irr, noun=noun, reference=reference)}"
    if level is not None and low is not None and high is not None:
        change += f" ({describe_interval(low, high, level)})"
    parts.append(change + ".")
    test = (
        f"one-sided test for a {'fall' if direction == 'decrease' else 'rise'}"
        if direction is not None
        else "two-sided test"
    )
    if rank is not None and n_reference is not None:
        parts.append(
            f"That was {describe_rank(rank, n_reference, direction=direction)} "
            f"({test}: {format_p(p, min_p=min_p)})."
        )
    else:
        parts.append(f"{test.capitalize()}: {format_p(p, min_p=min_p)}.")
    sig = describe_significance(p, min_p=min_p, alpha=alpha, n_reference=n_reference)
    if sig:
        parts.append(sig)
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# Numbers in the crime-science and count-panel estimators' summaries
# ---------------------------------------------------------------------------------------------
#: Smallest positive float: a p-value that underflowed to 0 is floored here before wording.
_TINY = sys.float_info.min


def _floor_p(p: float | None) -> float | None:
    """``p`` clipped into (0, 1]; None when missing or not finite."""
    if p is None or not math.isfinite(p):
        return None
    return float(min(max(p, _TINY), 1.0))


def format_p_floored(p: float | None, *, min_p: float | None = None) -> str:
    """:func:`format_p` on a p-value floored above 0 (a normal-tail p that underflowed to 0).

    For model-based p-values (Wald tests), whose exact 0 is an underflow, not a bug; a
    permutation p-value should go to :func:`format_p`, which refuses 0.
    """
    return format_p(_floor_p(p), min_p=min_p)


def format_p_3dp(p: float | None) -> str:
    """A normal-approximation p-value to three decimals: ``"p = 0.123"``, ``"p < 0.001"``.

    ``"p not defined"`` when missing or not finite. Rounded to the nearest 0.001 (the
    crime-science estimators' summaries; :func:`format_p` rounds up to two significant digits).
    """
    if p is None or not math.isfinite(p):
        return "p not defined"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def format_number(x: float | None, digits: int = 1) -> str:
    """``1234.5`` -> ``"1,234.5"``; NaN/None -> ``"not defined"``; infinity -> ``"unbounded"``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "not defined"
    if math.isinf(x):
        return "unbounded" if x > 0 else "-unbounded"
    return f"{x:,.{digits}f}"


def format_decimals2(x: float) -> str:
    """Two decimals, never ``"-0.00"``: ``-0.001`` -> ``"0.00"``, ``0.804`` -> ``"0.80"``."""
    text = f"{x:.2f}"
    return "0.00" if text == "-0.00" else text


def format_sig3(x: float) -> str:
    """Three significant figures, thousands separated: ``2363443`` -> ``"2,360,000"``."""
    if x == 0 or not math.isfinite(x):
        return f"{x:,.0f}"
    digits = 3 - 1 - math.floor(math.log10(abs(x)))
    return f"{round(x, digits):,.{max(digits, 0)}f}"


def format_drift_pct(pct: float) -> str:
    """A drift's size in % with enough digits not to show as ``"0.0 %"``: 0.04 -> ``"0.04 %"``."""
    a = abs(pct)
    digits = 1 if a >= 0.1 or a == 0 else min(3, 1 - math.floor(math.log10(a)))
    return f"{a:.{digits}f} %"


def format_level_of_alpha(alpha: float) -> str:
    """The level ``1 - alpha`` as a percentage: ``0.05`` -> ``"95 %"``, ``0.025`` -> ``"97.5 %"``.

    For nominal (model-based) levels; a design's real level goes to :func:`format_level`,
    which rounds down.
    """
    pct = 100.0 * (1.0 - alpha)
    return f"{pct:.0f} %" if abs(pct - round(pct)) < 1e-9 else f"{pct:.1f} %"


def significance_sentence(p: float, alpha: float, no_change: str = "zero") -> str:
    """Sentence for a summary whose first sentence already gave the interval.

    Never calls a non-significant result 'no effect': it says the data cannot distinguish it
    from no change, and that the interval includes the no-change value.
    """
    if math.isfinite(p) and p < alpha:
        return f"This is unlikely to be chance alone ({format_p_3dp(p)})."
    return (
        f"The data cannot distinguish this from no change ({format_p_3dp(p)}): the "
        f"{format_level_of_alpha(alpha)} interval includes {no_change}."
    )


def wald_sentences(
    *,
    irr: float,
    lo: float,
    hi: float,
    p: float,
    alpha: float,
    who: str,
    reference: str,
    how: str,
) -> str:
    """The change, its Wald interval and what the p-value does and does not show."""
    text = (
        f"{who} had {describe_ratio(irr, reference=reference)} (ratio {format_ratio(irr)}; "
        f"{describe_interval(lo, hi, 1.0 - alpha)}; {how}; {format_p_floored(p)}). "
    )
    text += describe_significance(_floor_p(p) or 1.0, min_p=0.0, alpha=alpha)
    return text
