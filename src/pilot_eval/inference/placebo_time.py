"""Placebo-in-time: the real change against fake start dates in the pre-period — a diagnostic.

Each pre-period month ``s`` (from ``min_pre`` months after the first month, up to the last one
whose window still ends before the real start) is treated as if the pilot had begun then. The
same statistic compares the ``window`` months from ``s`` with every month before ``s``, for the
treated area(s) against the comparison areas. The real change (the first ``window`` months from
the real start against every pre month) is then ranked among the fake ones.

**This is a picture, not a test.** The fake windows overlap (a 12-month window moved one month
at a time shares 11 months with its neighbour), so the fake statistics are strongly correlated
and the real one comes out "most extreme" far more often than ``1/(1 + n_fake)`` when nothing
happened: in a simulation of 17 wards with 36 pre and 12 post months, placebo-in-time flagged a
true null 16–17 % of the time at a nominal 7 % (``../shared/methods/one-treated-area.md``;
``tests/inference/test_placebo_time.py`` reproduces the inflation: 20–23 % one-sided with this
construction, back to nominal with non-overlapping 1-month windows). The rank says how unusual the real change is
against the area's own history; for a p-value use :func:`placebo_in_space` or
:func:`conformal_inference`. That is why :class:`PlaceboTimeResult` has no ``to_estimate``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, get_args

import numpy as np
import pandas as pd

from .. import columns as C
from .._checks import check_option
from ..errors import DataValidationError, EstimationError, OptionError
from ..results import Result
from ..wording import OTHERS_REFERENCE, Direction, describe_rank, describe_ratio, format_p
from ._common import as_extreme
from .placebo import PanelArrays, did_log_ratio, panel_arrays

__all__ = [
    "PlaceboTimeArrays",
    "PlaceboTimeResult",
    "TimeStatistic",
    "placebo_in_time",
    "placebo_in_time_for",
    "placebo_time_arrays",
]

TimeStatistic = Literal["did_log_ratio", "studentised"]
EstimatorReturns = Literal["log_ratio", "ratio", "other"]

#: What the methods note's simulation showed; quoted in every summary.
SIMULATION_NOTE = (
    "in a simulation of 17 wards with 36 pre and 12 post months, placebo-in-time with "
    "overlapping 12-month windows flagged a true null 16–17 % of the time at a nominal 7 % "
    "(one-treated-area.md)"
)


# --------------------------------------------------------------------------------------------
# Design: pre months, window, admissible fake starts
# --------------------------------------------------------------------------------------------
class _Design(NamedTuple):
    n_pre: int
    n_post: int
    window: int
    starts: np.ndarray  # indices of the fake starts, ascending


def _design(post: np.ndarray, *, window: int | None, min_pre: int) -> _Design:
    """The pre/post split, the window and the admissible fake starts.

    Fake start ``s`` (a month index) is admissible when ``s >= min_pre`` (at least ``min_pre``
    months before it) and ``s + window <= n_pre`` (its window ends before the real start).
    """
    post = np.asarray(post, dtype=bool)
    t = post.size
    n_pre = int(np.argmax(post)) if post.any() else t
    if n_pre == 0 or n_pre == t:
        raise DataValidationError("placebo-in-time needs months both before and from the start.")
    if not post[n_pre:].all():
        raise DataValidationError(
            "the post months must all come after the pre months (post must mark every month "
            "from the start to the end of the panel)."
        )
    n_post = t - n_pre
    if isinstance(min_pre, bool) or int(min_pre) != min_pre or min_pre < 1:
        raise OptionError(f"min_pre must be a whole number of months, at least 1; got {min_pre!r}")
    min_pre = int(min_pre)
    if window is None:
        w = min(n_post, n_pre - min_pre)
        if w < 1:
            raise OptionError(
                f"placebo-in-time needs more than min_pre = {min_pre} months before the start "
                f"to fit any fake start; the panel has {n_pre}. Lower min_pre or use "
                "placebo-in-space."
            )
    else:
        if isinstance(window, bool) or int(window) != window or window < 1:
            raise OptionError(
                f"window must be a whole number of months, at least 1; got {window!r}"
            )
        w = int(window)
        if w > n_post:
            raise OptionError(
                f"window = {w} months is longer than the {n_post} months from the start; "
                f"use at most {n_post}."
            )
        if min_pre + w > n_pre:
            raise OptionError(
                f"no fake start fits: min_pre + window = {min_pre} + {w} months, but only "
                f"{n_pre} months come before the start. Shorten the window or lower min_pre."
            )
    starts = np.arange(min_pre, n_pre - w + 1)
    return _Design(n_pre=n_pre, n_post=n_post, window=w, starts=starts)


def _monthly_panel_arrays(panel: pd.DataFrame, *, outcome: str | None) -> PanelArrays:
    """:func:`panel_arrays`, refusing a panel whose months are not consecutive."""
    pa = panel_arrays(panel, outcome=outcome)
    months = pa.months
    per = months.to_period("M")
    if len(per) > 1 and np.any(np.diff(per.asi8) != 1):
        raise DataValidationError(
            "placebo-in-time counts windows in months, so the panel's months must be "
            f"consecutive with no gaps (from {months[0]:%Y-%m} to {months[-1]:%Y-%m}). "
            "Build the panel with pilot_eval.panel, which zero-fills."
        )
    return pa


def _rank_p(
    fake: np.ndarray, real: np.ndarray, direction: Direction
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rank, one- and two-sided diagnostic p and the ``as_extreme`` mask (real counted)."""
    ext, n_ext, n_two = as_extreme(fake, real, direction)
    k = fake.shape[-1]
    return 1 + n_ext, (1 + n_ext) / (1 + k), (1 + n_two) / (1 + k), ext


# --------------------------------------------------------------------------------------------
# Array core (vectorised over fake starts and leading replication axes)
# --------------------------------------------------------------------------------------------
class PlaceboTimeArrays(NamedTuple):
    """Vectorised placebo-in-time output; leading axes are replications.

    ``log_ratio``, ``se``, ``statistic`` and ``totals`` have shape ``(..., K)`` (one per fake
    start in ``starts``); the ``real_*`` fields, ``rank`` and the diagnostic p-values have
    shape ``(...)``. ``n_reference = K + 1`` (the real start is counted).
    """

    log_ratio: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    real_log_ratio: np.ndarray
    real_se: np.ndarray
    real_statistic: np.ndarray
    rank: np.ndarray
    p_one_sided: np.ndarray
    p_two_sided: np.ndarray
    min_p: float
    n_reference: int
    starts: np.ndarray
    window: int
    n_pre: int
    n_post: int
    totals: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    real_totals: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def placebo_time_arrays(
    counts: np.ndarray,
    *,
    treated: np.ndarray,
    post: np.ndarray,
    statistic: TimeStatistic = "did_log_ratio",
    window: int | None = None,
    direction: Direction = "decrease",
    min_pre: int = 12,
) -> PlaceboTimeArrays:
    """Placebo-in-time on arrays, vectorised over fake starts and leading replication axes.

    Parameters
    ----------
    counts
        Counts of shape ``(..., N, T)``; the leading axes are independent replications.
    treated
        Treated-area mask of shape ``(N,)``.
    post
        Post-month mask of shape ``(T,)``; the post months must be the last ones.
    statistic, window, direction, min_pre
        As in :func:`placebo_in_time`.

    Returns
    -------
    PlaceboTimeArrays
        See :func:`placebo_in_time` for the definitions.

    Notes
    -----
    The areas are summed once into two monthly series (treated, comparison), so the cost is
    one pass over the ``N × T`` counts plus ``O(T)`` for all fake starts: each start's four
    totals are differences of cumulative sums. There is no loop over starts.
    """
    check_option("statistic", statistic, get_args(TimeStatistic))
    check_option("direction", direction, get_args(Direction))
    y = np.asarray(counts, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    post = np.asarray(post, dtype=bool)
    if y.ndim < 2 or treated.shape != (y.shape[-2],) or post.shape != (y.shape[-1],):
        raise EstimationError(
            f"treated must have shape (N,) and post (T,) to match counts of shape (..., N, T); "
            f"got counts {y.shape}, treated {treated.shape}, post {post.shape}."
        )
    if not 1 <= int(treated.sum()) < treated.size:
        raise EstimationError("need at least one treated and one comparison area.")
    d = _design(post, window=window, min_pre=min_pre)
    w = d.window

    # Two monthly series, then cumulative sums with a leading zero: total over months [a, b)
    # is cum[b] - cum[a].
    series = np.stack([y[..., treated, :].sum(-2), y[..., ~treated, :].sum(-2)])
    cum = np.concatenate([np.zeros(series.shape[:-1] + (1,)), np.cumsum(series, -1)], -1)
    s = d.starts
    pre_tot = cum[..., s]  # months [0, s)
    win_tot = cum[..., s + w] - cum[..., s]  # months [s, s + w)
    t_pre, c_pre = pre_tot[0], pre_tot[1]
    t_post, c_post = win_tot[0], win_tot[1]
    lr, se = did_log_ratio(t_pre, t_post, c_pre, c_post)

    p0 = d.n_pre
    r_pre = cum[..., p0]
    r_post = cum[..., p0 + w] - cum[..., p0]
    r_lr, r_se = did_log_ratio(r_pre[0], r_post[0], r_pre[1], r_post[1])

    if statistic == "studentised":
        stat, r_stat = lr / se, r_lr / r_se
    else:
        stat, r_stat = lr, r_lr
    rank, p_one, p_two, _ = _rank_p(stat, r_stat, direction)
    k = s.size
    return PlaceboTimeArrays(
        log_ratio=lr,
        se=se,
        statistic=stat,
        real_log_ratio=r_lr,
        real_se=r_se,
        real_statistic=r_stat,
        rank=rank,
        p_one_sided=p_one,
        p_two_sided=p_two,
        min_p=1.0 / (k + 1),
        n_reference=k + 1,
        starts=s,
        window=w,
        n_pre=d.n_pre,
        n_post=d.n_post,
        totals=(t_pre, t_post, c_pre, c_post),
        real_totals=(r_pre[0], r_post[0], r_pre[1], r_post[1]),
    )


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlaceboTimeResult(Result):
    """Placebo-in-time diagnostic: the real change ranked among fake pre-period starts.

    Not a test, and never a headline number: there is deliberately no ``to_estimate``. The
    fake windows overlap, so ``diagnostic_p`` is anti-conservative (see the module docstring).

    Attributes
    ----------
    outcome
        The outcome used.
    treated_areas
        Codes of the treated area(s).
    n_comparison
        Number of comparison areas (buffer left out).
    statistic_kind
        ``"did_log_ratio"``, ``"studentised"`` or, from :func:`placebo_in_time_for`,
        ``"estimator"``.
    estimator_name
        Name of the estimator callable (:func:`placebo_in_time_for`), else ``""``.
    direction
        Which way counts as extreme: ``"decrease"`` (a fall) or ``"increase"``.
    window
        Length in months of every window, real and fake.
    min_pre
        Fewest months before a fake start.
    n_pre, n_post
        Months before and from the real start in the panel.
    real_start
        The first post month.
    real_statistic
        The statistic at the real start (first ``window`` months from the start against every
        month before it).
    real_ratio
        The real change as a rate ratio (``exp`` of the log ratio); NaN when an estimator's
        scale is unknown.
    n_fake
        Number of fake starts.
    rank
        The real start's rank among all ``n_fake + 1`` starts in ``direction`` (1 = the most
        extreme; ties count against it).
    n_reference
        ``n_fake + 1``.
    diagnostic_p
        ``(1 + #{fake starts at least as extreme}) / (1 + n_fake)``, one-sided in
        ``direction``. A description of the rank, **not** a valid p-value.
    diagnostic_p_two_sided
        The same from ``|statistic|``.
    min_p
        ``1 / (1 + n_fake)``, the smallest value ``diagnostic_p`` can take.
    fake_starts
        One row per fake start: ``fake_start`` (month), ``window_end`` (last month of its
        window), ``n_before`` (months before it), ``statistic``, ``ratio``, ``as_extreme``
        (at least as extreme as the real one) and, from :func:`placebo_in_time`, ``t_pre,
        t_post, c_pre, c_post, log_ratio, se``.
    """

    outcome: str
    treated_areas: tuple[str, ...]
    n_comparison: int
    statistic_kind: str
    estimator_name: str
    direction: Direction
    window: int
    min_pre: int
    n_pre: int
    n_post: int
    real_start: pd.Timestamp
    real_statistic: float
    real_ratio: float
    n_fake: int
    rank: int
    n_reference: int
    diagnostic_p: float
    diagnostic_p_two_sided: float
    min_p: float
    fake_starts: pd.DataFrame = field(repr=False, compare=False)
    method: str = "placebo_in_time"

    def tidy(self) -> pd.DataFrame:
        """One row: the real statistic, its rank among the fake starts and the diagnostic p.

        The p-value columns are named ``diagnostic_p*`` (not ``p_value``) so that they are not
        picked up as a test.
        """
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "method": self.method,
                    "role": "diagnostic",
                    "statistic_kind": self.statistic_kind,
                    "estimate": self.real_ratio,
                    "real_statistic": self.real_statistic,
                    "real_start": self.real_start,
                    "window": self.window,
                    "n_fake": self.n_fake,
                    "rank": self.rank,
                    "n_reference": self.n_reference,
                    "direction": self.direction,
                    "diagnostic_p": self.diagnostic_p,
                    "diagnostic_p_two_sided": self.diagnostic_p_two_sided,
                    "min_p": self.min_p,
                    "scale": "ratio",
                    "note": "diagnostic, not a test: overlapping windows make the p anti-conservative",
                }
            ]
        )

    def summary(self) -> str:
        """Plain English: the real change, its rank among fake starts, and why it is no test."""
        what = "fall" if self.direction == "decrease" else "rise"
        fs = self.fake_starts["fake_start"]
        areas = ", ".join(self.treated_areas)
        w = self.window
        first = "first month" if w == 1 else f"first {w} months"
        head = (
            f"Placebo-in-time diagnostic ({self.outcome}; {areas} against "
            f"{self.n_comparison:,} comparison areas"
            + (f"; estimator {self.estimator_name}" if self.estimator_name else "")
            + "): "
        )
        if np.isfinite(self.real_ratio) and self.real_ratio > 0:
            head += (
                f"in its {first} the pilot area had "
                f"{describe_ratio(self.real_ratio, reference=OTHERS_REFERENCE)} "
                f"(rate ratio {self.real_ratio:.2f})."
            )
        else:
            head += f"in its {first} the estimator gave {self.real_statistic:.3g}."
        if w < self.n_post:
            head += (
                f" Only the {first} of the {self.n_post} months from the start "
                f"{'is' if w == 1 else 'are'} used, to match the fake windows."
            )
        span = (
            f"{fs.iloc[0]:%Y-%m}"
            if self.n_fake == 1
            else f"each month from {fs.iloc[0]:%Y-%m} to {fs.iloc[-1]:%Y-%m}"
        )
        rank_words = describe_rank(
            self.rank, self.n_reference, direction=self.direction, unit="start dates"
        )
        body = (
            f"Treating {span} as a fake start ({self.n_fake} fake "
            f"{'start' if self.n_fake == 1 else 'starts'}, each {w}-month window compared with "
            f"every month before it), the real start gave {rank_words} (the real one "
            "included). Read as a p-value this would be "
            f"{format_p(self.diagnostic_p, min_p=self.min_p)} (one-sided for a {what}; the "
            f"smallest possible with {self.n_reference:,} start dates is "
            f"{format_p(self.min_p).removeprefix('p = ')}), but it is not one."
        )
        why = (
            f"the fake windows overlap (each shares {w - 1} months with the next), so the "
            "p-value is anti-conservative"
            if w > 1
            else "the fake starts share their history, so they are not independent draws"
        )
        caveat = (
            "This is a picture of how unusual the real change is against the area's own "
            f"history, not a test: {why} — {SIMULATION_NOTE}. Do not report it as evidence of "
            "an effect; use placebo-in-space or conformal inference for a test."
        )
        return " ".join([head, body, caveat])


# --------------------------------------------------------------------------------------------
# Public, panel-level
# --------------------------------------------------------------------------------------------
def placebo_in_time(
    panel: pd.DataFrame,
    *,
    outcome: str | None = None,
    statistic: TimeStatistic = "did_log_ratio",
    window: int | None = None,
    direction: Direction = "decrease",
    min_pre: int = 12,
) -> PlaceboTimeResult:
    """Placebo-in-time diagnostic on the difference-in-differences log ratio (vectorised).

    Parameters
    ----------
    panel
        Long panel (``outcome, area, group, month, count, treated, post``), zero-filled, with
        consecutive months and the post months last. Treated and comparison areas are used;
        the buffer is left out. Not modified.
    outcome
        Which outcome; may be omitted when the panel holds one.
    statistic
        ``"did_log_ratio"`` (default): ``log((T_win/T_before) / (C_win/C_before))``;
        ``"studentised"``: the same divided by its Poisson scale
        ``sqrt(1/T_before + 1/T_win + 1/C_before + 1/C_win)`` (0.5 added to all four totals
        when one is zero).
    window
        Months in every window, real and fake. Default: the real post length, shortened when
        needed so that at least one fake start fits (``min_pre + window <= n_pre``); then the
        real statistic uses only the first ``window`` post months. An explicit window longer
        than the post period, or leaving no fake start, is an error.
    direction
        Which way is extreme: ``"decrease"`` (default, a fall) or ``"increase"``.
    min_pre
        Fewest months before a fake start (default 12, a year of seasons).

    Returns
    -------
    PlaceboTimeResult
        The real statistic, every fake start's statistic, the real one's rank and the
        diagnostic p. No ``to_estimate``: this is never a headline number.

    Notes
    -----
    **What is compared.** With ``n_pre`` months before the real start (month indices
    ``0 .. n_pre - 1``) and window ``w``, the fake starts are ``s = min_pre, ...,
    n_pre - w`` (``n_pre - w - min_pre + 1`` of them): every start with at least ``min_pre``
    months before it whose window ``s .. s + w - 1`` ends before the real start. At each,
    the treated area's (or areas') total over the window and over months ``0 .. s - 1`` are
    compared with the comparison areas' totals in the same months. The real statistic is
    the same with ``s = n_pre``. Only pre-period counts enter the fake statistics.

    **Rank and diagnostic p.** The real start is counted among the starts: ``rank = 1 +
    #{fake at least as extreme}`` and ``diagnostic_p = rank / (1 + n_fake)``, never 0.

    **Why it is not a test.** Neighbouring fake windows share ``w - 1`` months, so the fake
    statistics move together and the effective number of independent fakes is far below
    ``n_fake``; the real start is "the most extreme" much more often than ``1/(1 + n_fake)``
    under no effect. In the setting of ``one-treated-area.md`` (17 wards, 36 + 12 months,
    13 fake starts, nominal 1/14 ≈ 7 %) a true null was flagged 16–17 % of the time;
    ``tests/inference/test_placebo_time.py`` reproduces the inflation with this construction (20–23 %
    one-sided, 12–18 % two-sided, over ward sizes and seeds) and shows it vanishes with
    1-month windows, which do not overlap. The real window is also compared with a
    longer history than the fake ones. Read the rank as a picture of how unusual the real
    change is against the area's own history.

    **Computation.** The areas are summed once into a treated and a comparison monthly
    series, so the fake starts only need differences of two cumulative sums: no loop over
    starts. 5,000 areas × 48 months take about 0.1 s, nearly all of it reading the long
    panel (:func:`panel_arrays`).
    """
    check_option("statistic", statistic, get_args(TimeStatistic))
    check_option("direction", direction, get_args(Direction))
    pa = _monthly_panel_arrays(panel, outcome=outcome)
    arr = placebo_time_arrays(
        pa.counts,
        treated=pa.treated,
        post=pa.post,
        statistic=statistic,
        window=window,
        direction=direction,
        min_pre=min_pre,
    )
    s = arr.starts
    _, _, _, ext = _rank_p(arr.statistic, arr.real_statistic, direction)
    t_pre, t_post, c_pre, c_post = arr.totals
    frame = pd.DataFrame(
        {
            "fake_start": pa.months[s],
            "window_end": pa.months[s + arr.window - 1],
            "n_before": s,
            "t_pre": t_pre,
            "t_post": t_post,
            "c_pre": c_pre,
            "c_post": c_post,
            "log_ratio": arr.log_ratio,
            "se": arr.se,
            "ratio": np.exp(arr.log_ratio),
            "statistic": arr.statistic,
            "as_extreme": ext,
        }
    )
    return PlaceboTimeResult(
        outcome=pa.outcome,
        treated_areas=pa.treated_areas,
        n_comparison=int((~pa.treated).sum()),
        statistic_kind=statistic,
        estimator_name="",
        direction=direction,
        window=arr.window,
        min_pre=int(min_pre),
        n_pre=arr.n_pre,
        n_post=arr.n_post,
        real_start=pa.months[arr.n_pre],
        real_statistic=float(arr.real_statistic),
        real_ratio=float(np.exp(arr.real_log_ratio)),
        n_fake=int(s.size),
        rank=int(arr.rank),
        n_reference=int(arr.n_reference),
        diagnostic_p=float(arr.p_one_sided),
        diagnostic_p_two_sided=float(arr.p_two_sided),
        min_p=float(arr.min_p),
        fake_starts=frame,
    )


def placebo_in_time_for(
    panel: pd.DataFrame,
    *,
    estimator: Callable[[pd.DataFrame], float],
    outcome: str | None = None,
    window: int | None = None,
    direction: Direction = "decrease",
    min_pre: int = 12,
    returns: EstimatorReturns = "other",
) -> PlaceboTimeResult:
    """Placebo-in-time diagnostic for any estimator (panel → number), by re-running it.

    For estimators that cannot be vectorised (a fitted model, synthetic control, ...). For
    each fake start the estimator is called on the panel cut to the months before the end of
    that start's window, with ``post`` relabelled to mark the window; the real statistic is
    the estimator on the panel cut to the end of the real window (the whole panel when the
    window is the post length). This loops over starts in Python, so it costs ``n_fake + 1``
    estimator calls; use :func:`placebo_in_time` for the DiD log ratio.

    Parameters
    ----------
    panel
        Long panel as for :func:`placebo_in_time`. Not modified; the estimator receives
        copies holding only ``outcome``'s rows (buffer rows kept).
    estimator
        A callable taking a panel (same columns, months cut, ``post`` relabelled) and
        returning one number, larger meaning a larger rise (a log ratio, a ratio, a count
        difference...).
    outcome, window, direction, min_pre
        As in :func:`placebo_in_time` (the window and starts are the same).
    returns
        What the estimator returns, for the ``ratio`` column and the summary: ``"log_ratio"``
        (``ratio = exp``), ``"ratio"`` or ``"other"`` (default; ``ratio`` is NaN).

    Returns
    -------
    PlaceboTimeResult
        As from :func:`placebo_in_time`, with ``statistic_kind = "estimator"``; the
        ``fake_starts`` frame has ``fake_start, window_end, n_before, statistic, ratio,
        as_extreme``.

    Raises
    ------
    EstimationError
        If the estimator fails or returns a non-finite number at some start (the message
        names the start).
    """
    check_option("direction", direction, get_args(Direction))
    check_option("returns", returns, get_args(EstimatorReturns))
    if not callable(estimator):
        raise OptionError(f"estimator must be a callable (panel -> number), got {estimator!r}")
    pa = _monthly_panel_arrays(panel, outcome=outcome)
    d = _design(pa.post, window=window, min_pre=min_pre)
    w = d.window
    base = panel.loc[panel[C.OUTCOME] == pa.outcome]
    month_idx = pa.months.get_indexer(pd.to_datetime(base[C.MONTH]))
    name = getattr(estimator, "__name__", type(estimator).__name__)

    def run(s: int) -> float:
        keep = month_idx < s + w
        sub = base.loc[keep].copy()
        sub[C.POST] = month_idx[keep] >= s
        label = f"{pa.months[s]:%Y-%m}"
        try:
            value = float(estimator(sub))
        except Exception as exc:  # noqa: BLE001 - any estimator failure, reported in context
            raise EstimationError(
                f"the estimator {name} failed with the start set to {label}: {exc}"
            ) from exc
        if not np.isfinite(value):
            raise EstimationError(
                f"the estimator {name} returned {value} with the start set to {label}; "
                "placebo-in-time needs a finite number at every start."
            )
        return value

    real = run(d.n_pre)
    fake = np.array([run(int(s)) for s in d.starts], dtype=float)
    rank, p_one, p_two, ext = _rank_p(fake, np.asarray(real), direction)

    def to_ratio(x: np.ndarray) -> np.ndarray:
        if returns == "log_ratio":
            return np.exp(x)
        if returns == "ratio":
            return x.astype(float)
        return np.full(np.shape(x), np.nan)

    s = d.starts
    frame = pd.DataFrame(
        {
            "fake_start": pa.months[s],
            "window_end": pa.months[s + w - 1],
            "n_before": s,
            "statistic": fake,
            "ratio": to_ratio(fake),
            "as_extreme": ext,
        }
    )
    return PlaceboTimeResult(
        outcome=pa.outcome,
        treated_areas=pa.treated_areas,
        n_comparison=int((~pa.treated).sum()),
        statistic_kind="estimator",
        estimator_name=name,
        direction=direction,
        window=w,
        min_pre=int(min_pre),
        n_pre=d.n_pre,
        n_post=d.n_post,
        real_start=pa.months[d.n_pre],
        real_statistic=real,
        real_ratio=float(to_ratio(np.asarray(real))),
        n_fake=int(s.size),
        rank=int(rank),
        n_reference=int(s.size + 1),
        diagnostic_p=float(p_one),
        diagnostic_p_two_sided=float(p_two),
        min_p=1.0 / (s.size + 1),
        fake_starts=frame,
    )
