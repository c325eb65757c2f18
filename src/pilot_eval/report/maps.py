"""Folium maps for the funders' report.

Privacy rule: these maps draw areas (treated, buffer, comparison) and intervention sites
(lights, QR codes, trained venues), and counts aggregated to areas with small counts
suppressed. They never draw individual incident points, and the functions here do not accept
incident-level data.
"""

from __future__ import annotations

from collections.abc import Mapping

import folium
import geopandas as gpd
import pandas as pd

from ..columns import AREA, GROUP, LONLAT_CRS, NAME
from .privacy import suppress_small_counts

GROUP_STYLE: Mapping[str, dict[str, object]] = {
    "treated": {"color": "#b2182b", "fillColor": "#ef8a62", "fillOpacity": 0.45, "weight": 2},
    "buffer": {"color": "#b35806", "fillColor": "#fdb863", "fillOpacity": 0.30, "weight": 1},
    "comparison": {"color": "#2166ac", "fillColor": "#92c5de", "fillOpacity": 0.20, "weight": 1},
}
GROUP_LABEL: Mapping[str, str] = {
    "treated": "Pilot (treated) area",
    "buffer": "Displacement buffer",
    "comparison": "Comparison area",
}
SITE_COLOURS: Mapping[str, str] = {
    "lighting": "orange",
    "clean_up": "green",
    "business_training": "purple",
    "awareness": "blue",
    "qr_reporting": "darkblue",
    "walk_and_talk": "cadetblue",
    "visual_assessment": "gray",
    "other": "lightgray",
}


def pilot_map(
    areas: gpd.GeoDataFrame,
    *,
    sites: pd.DataFrame | None = None,
    area_counts: pd.DataFrame | None = None,
    small_count_threshold: int = 5,
    title: str = "",
) -> folium.Map:
    """Map the pilot's areas and intervention sites.

    Parameters
    ----------
    areas
        Areas GeoDataFrame (``area``, ``name``, ``group``, ``geometry``; any CRS set).
    sites
        Intervention log rows with ``type``, ``description``, ``longitude``, ``latitude``
        (rows without coordinates are left out).
    area_counts
        Optional per-area counts to show in tooltips: columns ``area`` plus count columns
        (e.g. ``pre``, ``post``); small counts are suppressed.
    small_count_threshold
        Counts below this are shown as ``"<N"``.
    title
        Caption shown on the map.

    Returns
    -------
    folium.Map
    """
    if areas.crs is None:
        from ..errors import GeometryError

        raise GeometryError("areas have no CRS: set it (e.g. areas.set_crs('EPSG:27700'))")
    shown = areas.to_crs(LONLAT_CRS)[[AREA, NAME, GROUP, "geometry"]].copy()
    shown["label"] = shown[GROUP].map(GROUP_LABEL).fillna(shown[GROUP])
    fields, aliases = [NAME, "label"], ["Area", "Role"]
    if area_counts is not None:
        count_cols = [c for c in area_counts.columns if c != AREA]
        safe = suppress_small_counts(
            area_counts, columns=count_cols, threshold=small_count_threshold
        )
        shown = shown.merge(safe, on=AREA, how="left")
        fields += count_cols
        aliases += [c.replace("_", " ").capitalize() for c in count_cols]

    minx, miny, maxx, maxy = shown.total_bounds
    fmap = folium.Map(tiles="OpenStreetMap", control_scale=True, zoom_control=True)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    # Comparison first so the treated area and buffer draw on top.
    for group in ("comparison", "buffer", "treated"):
        part = shown[shown[GROUP] == group]
        if part.empty:
            continue
        style = dict(GROUP_STYLE.get(group, GROUP_STYLE["comparison"]))
        folium.GeoJson(
            part.to_json(drop_id=True),
            name=GROUP_LABEL.get(group, group),
            style_function=lambda _f, s=style: s,
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases),
        ).add_to(fmap)

    if sites is not None and len(sites):
        check_sites(sites)
        located = sites.dropna(subset=["longitude", "latitude"])
        layer = folium.FeatureGroup(name="Intervention sites")
        for row in located.itertuples(index=False):
            kind = str(row.type)
            folium.CircleMarker(
                location=[float(row.latitude), float(row.longitude)],
                radius=5,
                color=SITE_COLOURS.get(kind, "black"),
                fill=True,
                fill_opacity=0.9,
                tooltip=f"{kind.replace('_', ' ').capitalize()}: {row.description}",
            ).add_to(layer)
        layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    if title:
        fmap.get_root().html.add_child(  # type: ignore[attr-defined]  # branca Figure.html
            folium.Element(
                f'<div style="font:14px sans-serif;padding:4px 0">{_escape(title)}</div>'
            )
        )
    return fmap


def check_sites(sites: pd.DataFrame) -> None:
    """Only an intervention log may be drawn as points (never incidents)."""
    from typing import get_args

    from ..columns import ComponentType
    from ..errors import DataValidationError

    if "type" not in sites or not sites["type"].isin(get_args(ComponentType)).all():
        raise DataValidationError(
            "pilot_map(sites=...) takes the intervention log (read_interventions), whose 'type' "
            "is a component type; maps never draw individual incidents"
        )


def _escape(text: str) -> str:
    import html

    return html.escape(text, quote=True)
