"""Matplotlib charts for the report. Each function takes plain frames and returns a Figure.

Charts show aggregated monthly counts only (never incident-level data).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

from ..columns import AREA, COUNT, GROUP, MONTH, OUTCOME

TREATED_COLOUR = "#b2182b"
COMPARISON_COLOUR = "#2166ac"
BUFFER_COLOUR = "#b35806"
#: Grey for the other areas' marks: #6f6f6f is 5:1 against white (WCAG asks 3:1 for
#: meaningful graphics; matplotlib's "0.6" was 2.85:1).
OTHER_COLOUR = "#6f6f6f"
PLOT_STYLE: dict[RcKeyType, Any] = {
    "figure.dpi": 100,
    "font.size": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _shade_intervention(ax, start: pd.Timestamp, end: pd.Timestamp | None) -> None:
    stop = (end + pd.offsets.MonthEnd(0)) if end is not None else start + pd.offsets.MonthEnd(0)
    ax.axvspan(start, stop, color="0.85", zorder=0, label="Intervention period")
    ax.axvline(start, color="0.3", linestyle="--", linewidth=1)


_PERIODS = (("MS", "month"), ("QS", "quarter"), ("YS", "year"))


def publishable_period(series: pd.DataFrame, *, threshold: int) -> tuple[str, str] | None:
    """The finest of month / quarter / year at which no count is between 1 and threshold-1.

    ``series`` has one column per plotted series and a monthly DatetimeIndex. Returns the
    pandas frequency and its name, or None when even yearly totals would reveal small counts.
    """
    for freq, label in _PERIODS:
        agg = series.resample(freq).sum() if freq != "MS" else series
        values = agg.to_numpy()
        if not ((values > 0) & (values < threshold)).any():
            return freq, label
    return None


def monthly_chart(
    panel: pd.DataFrame,
    *,
    outcome: str,
    start: pd.Timestamp,
    end: pd.Timestamp | None = None,
    small_count_threshold: int = 5,
    title: str = "",
) -> Figure:
    """Treated area's counts over time against what the comparison areas' trend predicts.

    The comparison line is the comparison areas' total scaled so that its pre-period total
    equals the treated area's: the path the treated area would have followed had it moved like
    the comparison areas (the DiD counterfactual in picture form).

    Privacy: the pilot area's and buffer's recorded counts are drawn by month only when no
    month holds between 1 and ``small_count_threshold - 1`` crimes; otherwise by quarter, or by
    year; if even yearly counts are that small they are not drawn at all (the chart says so).
    """
    df = panel[panel[OUTCOME] == outcome]
    by = df.groupby([GROUP, MONTH], observed=True)[COUNT].sum().unstack(GROUP).fillna(0)
    by.index = pd.DatetimeIndex(by.index)
    shown = [g for g in ("treated", "buffer") if g in by]
    period = publishable_period(by[shown], threshold=small_count_threshold)
    with plt.rc_context(PLOT_STYLE):
        fig, ax = plt.subplots(figsize=(9, 4))
        _shade_intervention(ax, start, end)
        note = ""
        if period is None:
            note = " (pilot-area counts too small to publish)"
            agg = by.resample("YS").sum()
            label = "year"
        else:
            freq, label = period
            agg = by if freq == "MS" else by.resample(freq).sum()
        pre = agg.index < start
        if period is not None and "treated" in agg:
            ax.plot(
                agg.index,
                agg["treated"],
                color=TREATED_COLOUR,
                marker="o",
                ms=3,
                label="Pilot area (recorded)",
            )
        if "comparison" in agg and "treated" in agg and agg.loc[pre, "comparison"].sum() > 0:
            k = agg.loc[pre, "treated"].sum() / agg.loc[pre, "comparison"].sum()
            ax.plot(
                agg.index,
                agg["comparison"] * k,
                color=COMPARISON_COLOUR,
                label="Comparison areas, scaled to the pilot area's pre-period level",
            )
        if period is not None and "buffer" in agg:
            ax.plot(
                agg.index,
                agg["buffer"],
                color=BUFFER_COLOUR,
                linewidth=1,
                alpha=0.8,
                label="Displacement buffer (recorded)",
            )
        ax.set_ylabel(f"{outcome} per {label}")
        ax.set_ylim(bottom=0)
        ax.set_title((title or outcome) + (f", by {label}" if label != "month" else "") + note)
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=10, frameon=False
        )
        fig.autofmt_xdate()
        fig.tight_layout()
    plt.close(fig)
    return fig


def placebo_chart(
    placebo: pd.DataFrame,
    *,
    value: str = "ratio",
    order: str = "rank",
    is_treated: str = "is_treated",
    label: str = AREA,
    title: str = "",
) -> Figure:
    """Every area's placebo estimate in rank order, with the pilot area highlighted.

    Rows are ordered by ``order`` (the placebo rank, 1 = most unusual fall, at the bottom);
    the x axis shows each area's ratio. Ranks allow for each area's own noise, so a small
    area can show a bigger ratio yet rank lower.
    """
    df = placebo.sort_values(order, ascending=True).reset_index(drop=True)
    pilot = df[is_treated].to_numpy(bool)
    y = np.arange(len(df))
    with plt.rc_context(PLOT_STYLE):
        fig, ax = plt.subplots(figsize=(9, max(3.5, 0.3 * len(df) + 1.5)))
        # The pilot area is marked by shape and size as well as colour, and named.
        ax.scatter(
            df[value][~pilot],
            y[~pilot],
            color=OTHER_COLOUR,
            s=30,
            zorder=3,
            label="Another area given the pilot",
        )
        ax.scatter(
            df[value][pilot],
            y[pilot],
            color=TREATED_COLOUR,
            marker="D",
            s=110,
            zorder=4,
            label="The pilot area",
        )
        ax.axvline(1.0, color="0.2", linewidth=1)
        if len(df) <= 40:
            ax.set_yticks(y, df[label].astype(str))
            for t, is_pilot in zip(ax.get_yticklabels(), pilot, strict=True):
                if is_pilot:
                    t.set_fontweight("bold")
        else:
            ax.set_yticks([])
        ax.set_xscale("log")
        lo, hi = float(df[value].min()), float(df[value].max())
        ax.set_xticks(_ratio_ticks(lo, hi))
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.set_xlabel("Change relative to the other areas (ratio; 1 = no change, log scale)")
        ax.set_ylabel("Rank (most unusual fall at the bottom)")
        ax.legend(loc="upper left", frameon=False)
        if title:
            ax.set_title(title)
        fig.tight_layout()
    plt.close(fig)
    return fig


def _ratio_ticks(lo: float, hi: float) -> list[float]:
    """Readable ticks on a log ratio axis spanning ``lo`` to ``hi`` (always including 1)."""
    steps = [0.1, 0.2, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.5, 2.0, 3.0, 4.0, 5.0]
    inside = [t for t in steps if lo * 0.95 <= t <= hi * 1.05]
    return sorted(set(inside) | {1.0})


def event_study_chart(
    tidy: pd.DataFrame,
    *,
    period: str = "rel_period",
    estimate: str = "irr",
    low: str = "ci_low",
    high: str = "ci_high",
    title: str = "",
) -> Figure:
    """Month-by-month ratios before and after the start, with intervals."""
    df = tidy.sort_values(period)
    with plt.rc_context(PLOT_STYLE):
        fig, ax = plt.subplots(figsize=(9, 3.8))
        ax.axhline(1.0, color="0.3", linewidth=1)
        ax.axvline(-0.5, color="0.3", linestyle="--", linewidth=1)
        ax.errorbar(
            df[period],
            df[estimate],
            yerr=[df[estimate] - df[low], df[high] - df[estimate]],
            fmt="o",
            color=TREATED_COLOUR,
            ecolor="0.6",
            ms=4,
            capsize=2,
        )
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_xlabel("Months relative to the start of the intervention")
        ax.set_ylabel("Ratio to comparison trend")
        ax.set_title(title or "Before and after the start: ratio to the comparison areas' trend")
        fig.tight_layout()
    plt.close(fig)
    return fig


def placebo_time_chart(
    fake_starts: pd.DataFrame,
    *,
    real_start: pd.Timestamp,
    real_ratio: float,
    title: str = "",
) -> Figure:
    """The real change against the same change computed at fake, earlier start dates.

    A diagnostic picture (overlapping windows make any p-value from it too optimistic).
    """
    with plt.rc_context(PLOT_STYLE):
        fig, ax = plt.subplots(figsize=(9, 3.6))
        ax.axhline(1.0, color="0.3", linewidth=1)
        ax.plot(
            fake_starts["fake_start"],
            fake_starts["ratio"],
            "o-",
            color="0.6",
            ms=4,
            label="Fake start dates before the pilot",
        )
        ax.plot([real_start], [real_ratio], "o", color=TREATED_COLOUR, ms=8, label="Real start")
        ax.set_ylabel("Ratio to comparison trend")
        ax.set_title(title or "The real change against fake start dates before the pilot")
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=10, frameon=False
        )
        fig.autofmt_xdate()
        fig.tight_layout()
    plt.close(fig)
    return fig


#: Colours and point markers for component locations, in order of first appearance
#: (Okabe-Ito, colour-blind safe; each type also has its own marker, so colour is not needed).
_LOCATION_STYLE = (
    ("#0072B2", "o"),
    ("#009E73", "s"),
    ("#CC79A7", "^"),
    ("#D55E00", "D"),
    ("#56B4E9", "v"),
    ("#E69F00", "P"),
    ("#000000", "X"),
    ("#999999", "*"),
)


def _draw_locations(ax, locations, labels: dict[str, str] | None) -> None:
    """Component locations by type: points as markers, lines as lines, polygons outlined."""
    for k, (kind_type, part) in enumerate(locations.groupby("type", sort=False)):
        colour, marker = _LOCATION_STYLE[k % len(_LOCATION_STYLE)]
        label = (labels or {}).get(str(kind_type), str(kind_type).replace("_", " ").capitalize())
        pts = part[part["kind"] == "point"]
        lines = part[part["kind"] == "line"]
        polys = part[part["kind"] == "polygon"]
        if len(polys):
            polys.plot(ax=ax, facecolor="none", edgecolor=colour, linewidth=1.8, zorder=4)
        if len(lines):
            lines.plot(ax=ax, color=colour, linewidth=2.2, linestyle="--", zorder=4)
        if len(pts):
            xy = pts.geometry.explode(index_parts=False)
            ax.scatter(
                xy.x,
                xy.y,
                s=30,
                marker=marker,
                color=colour,
                edgecolors="white",
                linewidths=0.5,
                zorder=6,
            )
        # One legend entry per type, drawn as what is on the map.
        if len(pts):
            ax.scatter([], [], s=30, marker=marker, color=colour, edgecolors="white", label=label)
        elif len(lines):
            ax.plot([], [], color=colour, linewidth=2.2, linestyle="--", label=label)
        else:
            ax.fill([], [], facecolor="none", edgecolor=colour, linewidth=1.8, label=label)


def area_map(
    areas,
    *,
    sites: pd.DataFrame | None = None,
    locations=None,
    location_labels: dict[str, str] | None = None,
    title: str = "",
) -> Figure:
    """A static map of the pilot, buffer and comparison areas and the intervention sites.

    The interactive map needs a network connection for its background tiles; this one is a
    plain image embedded in the report, so the areas are visible offline and in print. Like
    the interactive map it draws areas and intervention sites, never incidents. With
    ``locations`` (``type, kind, geometry``: where each component was delivered, e.g.
    ``PreparedPilot.locations``) each component type is drawn in its own colour and marker
    (points), dashed line (routes) or outline (polygons), named in the legend by
    ``location_labels`` (type -> words).
    """
    from .maps import GROUP_LABEL

    with plt.rc_context(PLOT_STYLE):
        fig, ax = plt.subplots(figsize=(7, 6))
        for group in ("comparison", "buffer", "treated"):
            part = areas[areas[GROUP] == group]
            if part.empty:
                continue
            face, edge, width, hatch = {
                "comparison": ("#f3f2f1", "#505a5f", 0.8, None),
                "buffer": ("#fdb863", "#b35806", 1.0, None),
                "treated": ("#f4a582", TREATED_COLOUR, 2.5, "///"),
            }[group]
            part.plot(ax=ax, facecolor=face, edgecolor=edge, linewidth=width, hatch=hatch)
            ax.fill([], [], facecolor=face, edgecolor=edge, hatch=hatch, label=GROUP_LABEL[group])
        if sites is not None and len(sites):
            import geopandas as gpd

            from .maps import check_sites

            check_sites(sites)

            located = sites.dropna(subset=["longitude", "latitude"])
            pts = gpd.GeoSeries(
                gpd.points_from_xy(located["longitude"], located["latitude"]), crs="EPSG:4326"
            ).to_crs(areas.crs)
            ax.scatter(
                pts.x,
                pts.y,
                s=14,
                color="#0b0c0c",
                alpha=0.7,
                edgecolors="white",
                linewidths=0.4,
                zorder=5,
                label="Intervention site",
            )
        if locations is not None and len(locations):
            _draw_locations(ax, locations.to_crs(areas.crs), location_labels)
        ax.set_axis_off()
        ax.set_aspect("equal")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=2, frameon=False)
        if title:
            ax.set_title(title)
        fig.tight_layout()
    plt.close(fig)
    return fig
