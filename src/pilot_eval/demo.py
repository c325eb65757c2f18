"""Deterministic SYNTHETIC demo data placed around Belvedere, Bexley (``pilot-eval demo``).

:func:`generate_demo` writes a complete, made-up input set for ``pilots/demo-belvedere.yml``:
synthetic "demo wards" at real coordinates around Belvedere, monthly police.uk street-level
CSVs in the real file format, an intervention log, a ``truth.json`` with the effect that was
injected, and a README. Nothing in it is real crime data: every area name says so.

The same seed gives byte-identical files (one :class:`numpy.random.Generator` stream per
component, spawned from the seed; no dependence on time or on dict/set order).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPoint, Polygon

from .columns import LONLAT_CRS, METRIC_CRS, POLICE_UK_HEADER
from .errors import ConfigError

__all__ = [
    "AFFECTED_CRIME_TYPES",
    "BUFFER_IRR",
    "CRIME_TYPES",
    "DEFAULT_SEED",
    "DemoManifest",
    "TREATED_CODE",
    "TREATED_IRR",
    "generate_demo",
]

# --- the design of the demo (the "truth") -------------------------------------------------
DEFAULT_SEED: Final = 20240401
FIRST_MONTH: Final = "2020-01"
LAST_MONTH: Final = "2025-06"
#: Intervention start (first post month), as in ``pilots/demo-belvedere.yml``.
START_MONTH: Final = "2024-04"
#: The demo pilot's evaluation windows (``windows`` in ``pilots/demo-belvedere.yml``).
PRE_MONTHS: Final = 36
POST_MONTHS: Final = 12
TREATED_CODE: Final = "DEMO01"
BUFFER_M: Final = 400.0
#: True incidence-rate ratio (post / pre, relative to no intervention) in the treated area.
TREATED_IRR: Final = 0.75
#: True incidence-rate ratio in the 400 m ring around the treated area (diffusion of benefit).
BUFFER_IRR: Final = 0.90
AFFECTED_CRIME_TYPES: Final[tuple[str, ...]] = ("Violence and sexual offences", "Public order")
CRIME_TYPES: Final[tuple[str, ...]] = (
    "Violence and sexual offences",
    "Public order",
    "Anti-social behaviour",
    "Criminal damage and arson",
    "Shoplifting",
    "Burglary",
    "Vehicle crime",
)
N_AREAS: Final = 18
FORCE: Final = "Metropolitan Police Service"
ASB: Final = "Anti-social behaviour"

# British National Grid (EPSG:27700) metres. Belvedere is near E 549000 N 178800.
_BELVEDERE_XY: Final = (549000.0, 178800.0)
_BELVEDERE_HOTSPOT_XY: Final = (549150.0, 179100.0)  # near the station and shops
# A convex, borough-like outline roughly where Bexley is (north edge along the Thames).
_ENVELOPE: Final = Polygon(
    [
        (545200, 176500),
        (546500, 179800),
        (548500, 180900),
        (551500, 181000),
        (554500, 179800),
        (555800, 177000),
        (555200, 173800),
        (552500, 172100),
        (548500, 172000),
        (545800, 173600),
    ]
)
# Monthly means of the treated area, by crime type (before season, trend and effect).
_TREATED_MEANS: Final = (45.0, 12.0, 30.0, 10.0, 14.0, 6.0, 9.0)
# Month-of-year amplitude (peak in July when positive) and yearly log trend, by crime type.
_SEASON_AMP: Final = (0.12, 0.10, 0.20, 0.08, 0.03, -0.08, 0.0)
_TREND_PER_YEAR: Final = (0.02, 0.01, -0.03, -0.01, 0.05, -0.02, 0.0)
_DISPERSION_RANGE: Final = (1.5, 3.0)  # variance / mean of the monthly counts
_HOTSPOT_SHARE: Final = 0.4
_HOTSPOT_SD_M: Final = 180.0
_NO_LOCATION_SHARE: Final = 0.005
_INNER_MARGIN_M: Final = 2.0  # points stay this far inside their area (rounding safety)

_OUTCOMES: Final = (
    "Investigation complete; no suspect identified",
    "Unable to prosecute suspect",
    "Status update unavailable",
    "Under investigation",
    "Offender given a caution",
    "Local resolution",
    "Awaiting court outcome",
    "Court result unavailable",
    "Action to be taken by another organisation",
    "Further investigation is not in the public interest",
)
_OUTCOME_P_OLD: Final = (0.42, 0.30, 0.07, 0.02, 0.03, 0.04, 0.02, 0.04, 0.03, 0.03)
_OUTCOME_P_RECENT: Final = (0.25, 0.17, 0.03, 0.40, 0.02, 0.03, 0.05, 0.01, 0.02, 0.02)
_RECENT_MONTHS: Final = 6

_FACILITIES: Final = (
    "Shopping Area",
    "Supermarket",
    "Parking Area",
    "Petrol Station",
    "Nightclub",
    "Sports/Recreation Area",
    "Further/Higher Educational Building",
)
_STREET_STEMS: Final = (
    "Alder", "Ashgrove", "Badger", "Barnfield", "Beechwood", "Birchmere", "Bramble",
    "Brookfield", "Carrow", "Cedarbank", "Chalkpit", "Clayfield", "Coldharbour", "Copperdale",
    "Elmstead", "Fennel", "Fernhill", "Foxglove", "Glebeway", "Hartslock", "Hawthorn",
    "Hazelmere", "Heronsgate", "Hollybush", "Kestrel", "Kingfisher", "Larchmere", "Lavender",
    "Linnet", "Maplestead", "Marshgate", "Meadowbank", "Millbrook", "Nettlestead", "Oakapple",
    "Orchard", "Osier", "Pennyroyal", "Quarryside", "Redstart", "Ropewalk", "Rowanwood",
    "Saltbox", "Sandpiper", "Sloe", "Sorrel", "Stonechat", "Tansy", "Teasel", "Thornbury",
    "Wagtail", "Watermint", "Wharfside", "Willowherb", "Woodlark", "Wrenfield", "Yarrow",
)  # fmt: skip
_STREET_KINDS: Final = (
    "Road", "Street", "Close", "Avenue", "Lane", "Way", "Gardens", "Crescent", "Drive",
    "Grove", "Place", "Rise",
)  # fmt: skip
_STREETS_PER_AREA: Final = 14

# Intervention log: (type, month, description, sites, count per site, cost per site, where).
_COMPONENTS: Final = (
    ("business_training", "2024-04", "Ask for Angela and WAVE training for a venue", 24, 1, 250.0, "hot"),  # noqa: E501
    ("awareness", "2024-04", "Posters and leaflets", 12, 5, 125.0, "hot"),
    ("visual_assessment", "2024-04", "Design-out-crime visual assessment", 1, 1, 1200.0, "centre"),  # noqa: E501
    ("qr_reporting", "2024-05", "Reporting QR code poster", 30, 1, 30.0, "area"),
    ("clean_up", "2024-05", "Area clean-up", 1, 1, 4000.0, "centre"),
    ("lighting", "2024-06", "Improved street lighting: new LED lamp column", 18, 1, 1500.0, "lines"),  # noqa: E501
    ("walk_and_talk", "2024-06", "Walk & Talk with police", 4, 1, 200.0, "hot"),
)  # fmt: skip

_TO_LONLAT = Transformer.from_crs(METRIC_CRS, LONLAT_CRS, always_xy=True)
_TO_METRIC = Transformer.from_crs(LONLAT_CRS, METRIC_CRS, always_xy=True)

#: Resident survey: share answering "agree"/"strongly agree" to "I feel safe walking alone in
#: this area after dark". True change from the pre to the post wave: +2 points everywhere
#: plus SURVEY_TRUE_DID in the treated area (a difference in proportions).
SURVEY_TRUE_DID: Final = 0.08
SURVEY_COMMON_CHANGE: Final = 0.02
SURVEY_RESPONDENTS: Final = {"treated": 250, "comparison": 60}
_LIKERT_AGREE = ("Strongly agree", "Agree")
_LIKERT_OTHER = ("Neither agree nor disagree", "Disagree", "Strongly disagree")
_DONT_KNOW_SHARE = 0.03


@dataclass(frozen=True)
class DemoManifest:
    """What :func:`generate_demo` wrote, and the truth it injected.

    Attributes
    ----------
    out_dir
        The folder written.
    areas_path, police_dir, interventions_path, truth_path, readme_path
        The demo areas (GeoJSON, EPSG:4326), the police.uk folder (``YYYY-MM/`` sub-folders),
        the intervention log, the ``truth.json`` and the README.
    crime_files
        Every monthly police.uk CSV, in month order.
    seed
        The seed the data were made from.
    treated_area, start_month, buffer_m
        The treated area's code, the first post month (``YYYY-MM``) and the buffer width.
    true_irr_treated, true_irr_buffer
        True incidence-rate ratios of :attr:`affected_crime_types` in the treated area and in
        the ring of ``buffer_m`` metres around it; every other area, and every other crime
        type everywhere, has a true ratio of 1.
    affected_crime_types
        The crime types the effect was injected into.
    n_areas, n_months, n_rows, n_rows_no_location, n_buffer_thinned, n_interventions
        Counts: areas, monthly files, crime rows written, rows with blank coordinates, ring
        rows removed by the diffusion-of-benefit thinning, intervention-log rows.
    rows_by_crime_type
        ``(crime type, rows)`` pairs, in :data:`CRIME_TYPES` order.
    """

    out_dir: Path
    areas_path: Path
    police_dir: Path
    crime_files: tuple[Path, ...]
    interventions_path: Path
    truth_path: Path
    readme_path: Path
    survey_path: Path
    seed: int
    treated_area: str
    start_month: str
    buffer_m: float
    true_irr_treated: float
    true_irr_buffer: float
    affected_crime_types: tuple[str, ...]
    n_areas: int
    n_months: int
    n_rows: int
    n_rows_no_location: int
    n_buffer_thinned: int
    n_interventions: int
    rows_by_crime_type: tuple[tuple[str, int], ...]
    population_path: Path | None = None
    streetsafe_path: Path | None = None
    location_paths: tuple[Path, ...] = ()

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file written."""
        return (
            self.areas_path,
            *self.crime_files,
            self.interventions_path,
            self.survey_path,
            *((self.population_path,) if self.population_path is not None else ()),
            *((self.streetsafe_path,) if self.streetsafe_path is not None else ()),
            *self.location_paths,
            self.readme_path,
            self.truth_path,
        )

    @property
    def true_effects(self) -> dict[str, float]:
        """True IRRs of the affected crime types by group (``treated``/``buffer``/``comparison``)."""
        return {"treated": self.true_irr_treated, "buffer": self.true_irr_buffer, "comparison": 1.0}

    def summary(self) -> str:
        """Plain-English description of what was written."""
        by_type = ", ".join(f"{t}: {n:,}" for t, n in self.rows_by_crime_type)
        return (
            f"SYNTHETIC DEMO DATA (seed {self.seed}): {self.n_areas} demo areas, "
            f"{self.n_months} monthly police.uk files with {self.n_rows:,} rows "
            f"({self.n_rows_no_location:,} without coordinates), "
            f"{self.n_interventions} intervention-log rows.\n"
            f"Rows by crime type: {by_type}.\n"
            f"True effect from {self.start_month} on "
            f"{' and '.join(self.affected_crime_types)}: x{self.true_irr_treated:g} in "
            f"{self.treated_area}, x{self.true_irr_buffer:g} within {self.buffer_m:g} m of it "
            f"({self.n_buffer_thinned:,} ring rows thinned), x1 elsewhere and for every other "
            f"crime type."
        )


# --- geometry -------------------------------------------------------------------------------
def _seed_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` well-spread generator points in the envelope; the first is Belvedere's."""
    inner = _ENVELOPE.buffer(-500.0)
    shapely.prepare(inner)
    xmin, ymin, xmax, ymax = inner.bounds
    pts = [np.asarray(_BELVEDERE_XY)]
    min_dist = 1600.0
    while len(pts) < n:
        for _ in range(4000):
            cand = rng.uniform((xmin, ymin), (xmax, ymax))
            if not shapely.contains_xy(inner, cand[0], cand[1]):
                continue
            if min(np.hypot(*(cand - p)) for p in pts) >= min_dist:
                pts.append(cand)
                break
        else:  # jammed: relax the spacing and carry on (deterministically)
            min_dist *= 0.9
    xy = np.vstack(pts)
    # Two Lloyd steps even the cells out (Belvedere's point stays put).
    for _ in range(2):
        cells = _voronoi(xy)
        cent = shapely.get_coordinates(shapely.centroid(cells))
        xy = np.vstack([xy[:1], cent[1:]])
    return xy


def _voronoi(xy: np.ndarray) -> np.ndarray:
    cells = shapely.voronoi_polygons(MultiPoint(xy), extend_to=_ENVELOPE, ordered=True)
    return shapely.intersection(np.asarray(shapely.get_parts(cells)), _ENVELOPE)


def _round_trip(poly: Polygon) -> tuple[Polygon, Polygon]:
    """Polygon in lon/lat rounded to 6 decimals (RFC 7946 winding), and that back in metres.

    Points are sampled in the metric copy of the *rounded* outline, so the published GeoJSON
    is the exact geometry the data were generated in.
    """

    def to_ll(c: np.ndarray) -> np.ndarray:
        lon, lat = _TO_LONLAT.transform(c[:, 0], c[:, 1])
        return np.round(np.column_stack([lon, lat]), 6)

    def to_m(c: np.ndarray) -> np.ndarray:
        return np.column_stack(_TO_METRIC.transform(c[:, 0], c[:, 1]))

    ll = shapely.orient_polygons(shapely.transform(poly, to_ll), exterior_cw=False)
    return ll, shapely.transform(ll, to_m)


@dataclass(frozen=True)
class _Area:
    code: str
    name: str
    lonlat: Polygon
    metric: Polygon


def _build_areas(rng: np.random.Generator, n: int) -> list[_Area]:
    xy = _seed_points(rng, n)
    cells = _voronoi(xy)
    # DEMO01 is Belvedere's cell; the rest are numbered in reading order (north to south).
    rest = sorted(range(1, n), key=lambda i: (-round(xy[i, 1]), round(xy[i, 0])))
    areas = []
    for k, i in enumerate([0, *rest], start=1):
        code = f"DEMO{k:02d}"
        name = "Demo Belvedere (synthetic)" if k == 1 else f"Demo area {k:02d} (synthetic)"
        ll, metric = _round_trip(cells[i])
        areas.append(_Area(code=code, name=name, lonlat=ll, metric=metric))
    return areas


def _geojson(areas: list[_Area]) -> str:
    features = []
    for a in areas:
        rings = [a.lonlat.exterior, *a.lonlat.interiors]
        coords = [[[float(x), float(y)] for x, y in shapely.get_coordinates(r)] for r in rings]
        features.append(
            {
                "type": "Feature",
                "properties": {"area_code": a.code, "area_name": a.name},
                "geometry": {"type": "Polygon", "coordinates": coords},
            }
        )
    head = {
        "type": "FeatureCollection",
        "name": "pilot_eval_demo_areas",
        "description": "SYNTHETIC DEMO DATA: made-up areas, not real wards (pilot-eval demo)",
    }
    # One feature per line: valid JSON, small, and diff-friendly.
    lines = ["{" + json.dumps(head, separators=(",", ":"))[1:-1] + ',"features":[']
    for i, feat in enumerate(features):
        sep = "," if i < len(features) - 1 else ""
        lines.append(json.dumps(feat, separators=(",", ":")) + sep)
    lines.append("]}")
    return "\n".join(lines) + "\n"


def _sample_in(
    poly: Polygon,
    n: int,
    rng: np.random.Generator,
    *,
    centres: np.ndarray | None = None,
    sd: float = 0.0,
) -> np.ndarray:
    """``n`` points inside ``poly``: uniform, or normal around ``centres`` (rejection)."""
    shapely.prepare(poly)
    xmin, ymin, xmax, ymax = poly.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        m = max(2 * (n - len(out)), 64)
        if centres is None:
            cand = rng.uniform((xmin, ymin), (xmax, ymax), size=(m, 2))
        else:
            which = rng.integers(len(centres), size=m)
            cand = centres[which] + rng.normal(0.0, sd, size=(m, 2))
        keep = shapely.contains_xy(poly, cand[:, 0], cand[:, 1])
        out = np.vstack([out, cand[keep]])
    return out[:n]


# --- counts ---------------------------------------------------------------------------------
def _area_means(rng: np.random.Generator, near: np.ndarray) -> np.ndarray:
    """Monthly means, shape (areas, crime types); row 0 is the treated area.

    ``near`` flags the areas that share the buffer ring; like the real neighbours of a
    busy centre they get 18-32 violence offences a month, so the ring holds enough points
    for the diffusion-of-benefit effect to matter.
    """
    n = len(near)
    means = np.empty((n, len(CRIME_TYPES)))
    means[0] = _TREATED_MEANS
    k = n - 1
    viol = np.exp(rng.uniform(np.log(5.0), np.log(40.0), size=k))
    viol = np.where(near[1:], rng.uniform(18.0, 32.0, size=k), viol)
    means[1:, 0] = viol
    means[1:, 1] = viol * rng.uniform(0.2, 0.3, size=k)
    means[1:, 2] = viol * rng.uniform(0.6, 1.4, size=k) + 3.0
    means[1:, 3] = viol * rng.uniform(0.2, 0.35, size=k)
    shop = rng.uniform(0.5, 4.0, size=k)
    town_centres = rng.choice(k, size=3, replace=False)
    shop[town_centres] = rng.uniform(15.0, 30.0, size=3)
    means[1:, 4] = shop
    means[1:, 5] = rng.uniform(3.0, 8.0, size=k)
    means[1:, 6] = rng.uniform(4.0, 12.0, size=k)
    return means


def _expected_counts(
    means: np.ndarray, months: pd.PeriodIndex, *, start: pd.Period, treated_irr: float
) -> np.ndarray:
    """Expected counts, shape (months, areas, crime types), with the treated-area effect."""
    moy = np.asarray(months.month)
    years = (np.arange(len(months)))[:, None] / 12.0
    season = 1.0 + np.asarray(_SEASON_AMP)[None, :] * np.cos(2 * np.pi * (moy[:, None] - 7) / 12)
    trend = np.exp(np.asarray(_TREND_PER_YEAR)[None, :] * years)
    lam = means[None, :, :] * (season * trend)[:, None, :]
    post = np.asarray(months >= start)
    affected = np.isin(CRIME_TYPES, AFFECTED_CRIME_TYPES)
    lam[np.ix_(post, np.array([0]), affected)] *= treated_irr  # area 0 is the pilot
    return lam


# --- writing --------------------------------------------------------------------------------
def _street_names(rng: np.random.Generator, n_areas: int) -> list[list[str]]:
    combos = [f"{s} {k}" for s in _STREET_STEMS for k in _STREET_KINDS]
    order = rng.permutation(len(combos))[: n_areas * _STREETS_PER_AREA]
    names = [combos[i] for i in order]
    return [names[a * _STREETS_PER_AREA : (a + 1) * _STREETS_PER_AREA] for a in range(n_areas)]


def _nearest(points: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    d = (points[:, None, 0] - anchors[None, :, 0]) ** 2 + (
        points[:, None, 1] - anchors[None, :, 1]
    ) ** 2
    return np.argmin(d, axis=1)


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    h = rng.bytes(32 * n).hex()
    return np.array([h[i * 64 : (i + 1) * 64] for i in range(n)], dtype=object)


def _interventions(
    rng: np.random.Generator, treated: _Area, hotspot: np.ndarray, streets: list[str]
) -> pd.DataFrame:
    poly = treated.metric.buffer(-25.0)
    street_anchor = _sample_in(poly, len(streets), rng)
    rows = []
    for ctype, month, desc, sites, count, cost, where in _COMPONENTS:
        if where == "hot":
            xy = _sample_in(poly, sites, rng, centres=hotspot[None, :], sd=200.0)
        elif where == "centre":
            xy = _sample_in(poly, sites, rng, centres=hotspot[None, :], sd=60.0)
        elif where == "area":
            xy = _sample_in(poly, sites, rng)
        else:  # "lines": runs of lamp columns 35 m apart along three streets
            per = sites // 3
            runs: list[np.ndarray] = []
            shapely.prepare(poly)
            while len(runs) < 3:
                start = _sample_in(poly, 1, rng, centres=hotspot[None, :], sd=350.0)[0]
                angle = rng.uniform(0.0, np.pi)
                step = 35.0 * np.array([np.cos(angle), np.sin(angle)])
                run = start + np.arange(per)[:, None] * step
                if shapely.contains_xy(poly, run[:, 0], run[:, 1]).all():
                    runs.append(run)
            xy = np.vstack(runs)
        first = pd.Period(month, freq="M").start_time
        days = np.sort(rng.integers(0, first.days_in_month, size=sites))
        lon, lat = _TO_LONLAT.transform(xy[:, 0], xy[:, 1])
        near = _nearest(xy, street_anchor)
        for j in range(sites):
            rows.append(
                {
                    "date": (first + pd.Timedelta(days=int(days[j]))).strftime("%Y-%m-%d"),
                    "type": ctype,
                    "description": f"{desc}, {streets[near[j]]} (synthetic demo)",
                    "longitude": f"{lon[j]:.6f}",
                    "latitude": f"{lat[j]:.6f}",
                    "count": str(count),
                    "cost": f"{cost:.2f}",
                }
            )
    df = pd.DataFrame(rows)
    return df.sort_values(["date", "type"], kind="stable").reset_index(drop=True)


def _realised_ratios(
    *,
    m_idx: np.ndarray,
    group: np.ndarray,
    crime_type: np.ndarray,
    written: np.ndarray,
    months: pd.PeriodIndex,
    start: pd.Period,
) -> dict[str, object]:
    """Plain 2x2 ratios in the data as written, over the demo pilot's windows.

    (post / pre in the treated area or the ring) / (post / pre in the comparison areas
    outside the ring), counting rows with coordinates: what the noise made of the truth.
    """
    s = int(months.get_loc(start))
    pre = (m_idx >= s - PRE_MONTHS) & (m_idx < s)
    post = (m_idx >= s) & (m_idx < s + POST_MONTHS)

    def ratio(types: tuple[str, ...], g: int) -> float:
        sel = written & np.isin(crime_type, types)
        n = {
            (h, w): int((sel & (group == h) & win).sum())
            for h in (g, 2)
            for w, win in (("pre", pre), ("post", post))
        }
        value = (n[(g, "post")] / n[(g, "pre")]) / (n[(2, "post")] / n[(2, "pre")])
        return round(value, 4)

    return {
        "pre": f"{months[s - PRE_MONTHS]}..{months[s - 1]}",
        "post": f"{months[s]}..{months[s + POST_MONTHS - 1]}",
        "comparison": "areas other than DEMO01, outside the 400 m ring",
        "affected_crime_types": {
            "treated": ratio(AFFECTED_CRIME_TYPES, 0),
            "buffer": ratio(AFFECTED_CRIME_TYPES, 1),
        },
        ASB: {"treated": ratio((ASB,), 0), "buffer": ratio((ASB,), 1)},
    }


def _readme(seed: int, n_areas: int, n_rows: int) -> str:
    affected = " and ".join(f'"{t}"' for t in AFFECTED_CRIME_TYPES)
    return f"""# SYNTHETIC DEMO DATA

**Nothing in this folder is real crime data.** It was made up by `pilot-eval demo`
(`pilot_eval.demo.generate_demo`, seed {seed}) so that the toolkit can be tried, tested and
demonstrated without real data. The areas sit at real coordinates around Belvedere, Bexley
(London), but they are not real wards, and the crimes did not happen.

## Files

- `areas.geojson`: {n_areas} synthetic "demo wards" (`area_code` DEMO01..DEMO{n_areas:02d},
  `area_name`), EPSG:4326 (RFC 7946). They are seeded Voronoi cells in British National Grid
  clipped to a borough-like outline. DEMO01 "Demo Belvedere (synthetic)" is the treated area.
- `police-uk/YYYY-MM/YYYY-MM-metropolitan-street.csv`, {FIRST_MONTH} to {LAST_MONTH}: the real
  police.uk street-level CSV format ({n_rows:,} rows in all). Crime IDs are random; Anti-social
  behaviour rows have no Crime ID and no outcome, as on police.uk; about
  {_NO_LOCATION_SHARE:.1%} of rows have no coordinates ("No Location"); street names, LSOA
  codes (DEMO01A...) and LSOA names are made up.
- `interventions.csv`: a made-up intervention log (one row per site) for the demo pilot in
  `pilots/demo-belvedere.yml`, {START_MONTH} to 2024-06.
- `population.csv`: made-up residents per demo area (`area_code`, `population`), for rates
  per 1,000 residents.
- `streetsafe.csv`: made-up StreetSafe / QR-code reports (`date`, `latitude`, `longitude`,
  `category`, and a `description` of made-up free text that pilot-eval never reads), x
  {STREETSAFE_TRUE_IRR:g} in DEMO01 from {START_MONTH}.
- `locations/`: made-up places where components were delivered in DEMO01 (GeoJSON):
  `lighting.geojson` (18 new lights, points), `walk-and-talk.geojson` (a route, a line),
  `clean-up.geojson` (the cleaned-up patch, a polygon).
- `truth.json`: the effect that was injected, the seed and the counts.

## How the counts were made

Monthly counts per area and crime type are negative-binomial draws (variance about
{_DISPERSION_RANGE[0]:g} to {_DISPERSION_RANGE[1]:g} times the mean) around area-specific
means, with a summer peak, a mild trend common to every area, and the injected effect. Points
are spread over each area, {_HOTSPOT_SHARE:.0%} of them around one to three hot spots.

## The true effect

From {START_MONTH} on, {affected} in the treated area DEMO01 were multiplied by
**{TREATED_IRR:g}** (a {1 - TREATED_IRR:.0%} fall). Points of those types within
{BUFFER_M:g} m of DEMO01 (in neighbouring areas) were thinned to **{BUFFER_IRR:g}** of their
number (diffusion of benefit). Nothing else changed: every other crime type, and every area
outside the ring, has a true ratio of 1. An evaluation of this data should find a fall of
about {1 - TREATED_IRR:.0%} in DEMO01, relative to the other areas, within its uncertainty.

Re-make the data with `pilot-eval demo --out <folder> --seed {seed}`; the same seed gives
byte-identical files.
"""


def _survey(rng: np.random.Generator, codes: list[str]) -> pd.DataFrame:
    """Respondent-level resident survey in two waves, with a known DiD in proportions.

    Each area has a baseline share feeling safe after dark (45-70 %); the post wave adds
    :data:`SURVEY_COMMON_CHANGE` everywhere and :data:`SURVEY_TRUE_DID` in the treated area.
    Answers are on a 5-point agree scale (a few "Don't know"); weights are log-normal around 1.
    """
    rows = []
    base = rng.uniform(0.45, 0.70, size=len(codes))
    for a, code in enumerate(codes):
        n = SURVEY_RESPONDENTS["treated" if code == TREATED_CODE else "comparison"]
        for wave in ("pre", "post"):
            p = base[a] + (wave == "post") * (
                SURVEY_COMMON_CHANGE + (SURVEY_TRUE_DID if code == TREATED_CODE else 0.0)
            )
            agree = rng.random(n) < p
            strong = rng.random(n) < 0.35
            other = rng.choice(len(_LIKERT_OTHER), size=n, p=[0.4, 0.4, 0.2])
            answer = np.where(
                agree,
                np.where(strong, _LIKERT_AGREE[0], _LIKERT_AGREE[1]),
                np.asarray(_LIKERT_OTHER, dtype=object)[other],
            )
            answer[rng.random(n) < _DONT_KNOW_SHARE] = "Don't know"
            weight = np.round(rng.lognormal(0.0, 0.35, size=n), 4)
            rows.append(
                pd.DataFrame({"area": code, "wave": wave, "answer": answer, "weight": weight})
            )
    out = pd.concat(rows, ignore_index=True)
    out.insert(0, "respondent_id", [f"R{i:05d}" for i in range(1, len(out) + 1)])
    return out


#: StreetSafe / QR-code reports: true ratio in the treated area from the start (more reports,
#: the QR codes' aim), and reports a month per area before it.
STREETSAFE_TRUE_IRR: Final = 1.6
_STREETSAFE_TREATED_MEAN = 6.0
_STREETSAFE_MEAN_RANGE = (2.0, 5.0)
_STREETSAFE_CATEGORIES = (
    "Poor lighting",
    "Harassment",
    "Being followed",
    "Isolated area",
    "Anti-social behaviour",
)


def _streetsafe(
    rng: np.random.Generator, areas: list[_Area], months: pd.PeriodIndex, start: pd.Period
) -> pd.DataFrame:
    """Made-up StreetSafe reports: Poisson a month per area, x STREETSAFE_TRUE_IRR in DEMO01
    from the start; a made-up free-text column shows that it is never read."""
    means = np.r_[_STREETSAFE_TREATED_MEAN, rng.uniform(*_STREETSAFE_MEAN_RANGE, len(areas) - 1)]
    post = np.asarray(months >= start)
    rows = []
    for a, area in enumerate(areas):
        lam = np.full(len(months), means[a]) * np.where((a == 0) & post, STREETSAFE_TRUE_IRR, 1)
        n = rng.poisson(lam)
        pts = _sample_in(area.metric.buffer(-_INNER_MARGIN_M), int(n.sum()), rng)
        lon, lat = _TO_LONLAT.transform(pts[:, 0], pts[:, 1])
        month = np.repeat(np.arange(len(months)), n)
        day = rng.integers(1, 29, size=len(month))
        cat = rng.integers(len(_STREETSAFE_CATEGORIES), size=len(month))
        for i, (m, d, c) in enumerate(zip(month, day, cat, strict=True)):
            rows.append(
                (
                    f"{months[m].year:04d}-{months[m].month:02d}-{int(d):02d}",
                    round(float(lat[i]), 6),
                    round(float(lon[i]), 6),
                    _STREETSAFE_CATEGORIES[int(c)],
                    "SYNTHETIC free text: never read by pilot-eval",
                )
            )
    df = pd.DataFrame(rows, columns=["date", "latitude", "longitude", "category", "description"])
    return df.sort_values(["date", "latitude"], kind="stable").reset_index(drop=True)


def _feature_collection(name: str, geoms: list) -> str:
    """A small GeoJSON (EPSG:4326, 6 decimals), written by hand so it is byte-stable."""
    feats = []
    for g in geoms:
        geo = shapely.geometry.mapping(shapely.set_precision(g, 1e-6))
        feats.append({"type": "Feature", "properties": {}, "geometry": geo})
    doc = {
        "type": "FeatureCollection",
        "name": name,
        "description": "SYNTHETIC DEMO DATA: made-up component locations (pilot-eval demo)",
        "features": feats,
    }
    return json.dumps(doc, separators=(",", ":")) + "\n"


def _to_lonlat(g):
    return shapely.transform(g, lambda c: np.column_stack(_TO_LONLAT.transform(c[:, 0], c[:, 1])))


def _locations(rng: np.random.Generator, treated: _Area) -> dict[str, str]:
    """Made-up component locations in the treated area: 18 new lights along a street
    (points), a Walk & Talk route (a line) and the cleaned-up patch (a polygon)."""
    inner = treated.metric.buffer(-150.0)
    a, b = _sample_in(inner, 2, rng)
    street = shapely.LineString([a, b])
    lights = [shapely.Point(street.interpolate(f, normalized=True)) for f in np.linspace(0, 1, 18)]
    route_pts = _sample_in(inner, 5, rng)
    route = shapely.LineString(route_pts[np.argsort(route_pts[:, 0])])
    centre = _sample_in(inner, 1, rng)[0]
    patch = shapely.Point(centre).buffer(120.0, quad_segs=4).intersection(treated.metric)
    return {
        "lighting.geojson": _feature_collection("demo_lighting", [_to_lonlat(p) for p in lights]),
        "walk-and-talk.geojson": _feature_collection("demo_walk_and_talk", [_to_lonlat(route)]),
        "clean-up.geojson": _feature_collection("demo_clean_up", [_to_lonlat(patch)]),
    }


def _population(rng: np.random.Generator, codes: list[str], means: np.ndarray) -> pd.DataFrame:
    """Made-up residents per demo area: about 110 per recorded crime a month, ±15 %."""
    base = means.sum(axis=1) * 110.0 * rng.lognormal(0.0, 0.15, size=len(codes))
    residents = (np.round(base / 10.0) * 10).astype(int)
    return pd.DataFrame({"area_code": codes, "population": residents})


def generate_demo(out_dir: str | Path, *, seed: int = DEFAULT_SEED) -> DemoManifest:
    r"""Write the SYNTHETIC demo data set (areas, police.uk CSVs, intervention log, truth).

    Parameters
    ----------
    out_dir
        Folder to write (created if needed; the project uses ``data/demo``). Files already
        there with the same names are overwritten; nothing else is touched.
    seed
        Non-negative integer seed. The same seed gives byte-identical files.

    Returns
    -------
    DemoManifest
        The paths written, the true effects and the row counts.

    Raises
    ------
    ConfigError
        If ``seed`` is not a non-negative integer.

    Notes
    -----
    Layout of ``out_dir``: ``areas.geojson``, ``police-uk/YYYY-MM/YYYY-MM-metropolitan-street.csv``
    (2020-01 to 2025-06), ``interventions.csv``, ``README.md`` and ``truth.json`` (written last,
    so its presence means the set is complete).

    Data-generating process. For area :math:`a`, crime type :math:`k` and month :math:`t`,
    :math:`Y_{akt} \sim \mathrm{NB}(\mu_{akt})` with variance :math:`\phi_{ak}\mu_{akt}`,
    :math:`\phi_{ak} \sim U(1.5, 3)`, and
    :math:`\mu_{akt} = m_{ak}\, s_k(\text{month of year})\, e^{g_k t}\,
    \theta^{D_{at} [k \in K]}`, where :math:`m_{ak}` is the area's mean (5-40 violence
    offences a month, 18-32 in the areas the ring touches; 45 in the treated area DEMO01), :math:`s_k` a summer peak and
    :math:`g_k` a mild trend common to all areas, :math:`D_{at}` = 1 in DEMO01 from 2024-04,
    :math:`K` = {Violence and sexual offences, Public order} and :math:`\theta = 0.75`.
    Points are then placed inside their area; after the start, points of types :math:`K`
    that fall within 400 m of DEMO01 (outside it) are each kept with probability 0.90, so the
    true ratio in that ring is 0.90 and every file's per-area totals are exactly the points
    written. The estimand an evaluation should recover is the treated area's IRR of 0.75
    relative to comparison areas outside the ring (true ratio 1).

    Coordinates are generated in EPSG:27700 inside the metric copy of each published
    (rounded) area outline, at least 2 m from its edge, so every point with coordinates lies
    inside its own area when read back. About 0.5 % of rows (at random) have blank coordinates,
    "No Location" and no LSOA, as in real police.uk data.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"demo seed must be a non-negative integer, got {seed!r}")
    out = Path(out_dir)
    police_dir = out / "police-uk"
    out.mkdir(parents=True, exist_ok=True)

    ss = np.random.SeedSequence(int(seed))
    rng_geo, rng_counts, rng_place, rng_attr, rng_int = (
        np.random.default_rng(s) for s in ss.spawn(5)
    )

    # Areas ---------------------------------------------------------------------------------
    areas = _build_areas(rng_geo, N_AREAS)
    n_areas = len(areas)
    codes = [a.code for a in areas]
    treated = areas[0]
    ring = shapely.difference(shapely.buffer(treated.metric, BUFFER_M), treated.metric)
    shapely.prepare(ring)

    # Counts --------------------------------------------------------------------------------
    months = pd.period_range(FIRST_MONTH, LAST_MONTH, freq="M")
    start = pd.Period(START_MONTH, freq="M")
    near = np.array([i > 0 and a.metric.intersection(ring).area > 5e4 for i, a in enumerate(areas)])
    means = _area_means(rng_counts, near)
    lam = _expected_counts(means, months, start=start, treated_irr=TREATED_IRR)
    phi = rng_counts.uniform(*_DISPERSION_RANGE, size=(n_areas, len(CRIME_TYPES)))
    counts = rng_counts.negative_binomial(lam / (phi - 1.0), 1.0 / phi)

    n_m, n_a, n_t = counts.shape
    flat = counts.ravel()
    m_idx = np.repeat(np.repeat(np.arange(n_m), n_a * n_t), flat)
    a_idx = np.repeat(np.tile(np.repeat(np.arange(n_a), n_t), n_m), flat)
    t_idx = np.repeat(np.tile(np.arange(n_t), n_m * n_a), flat)
    n = len(m_idx)

    # Points, streets, LSOAs ----------------------------------------------------------------
    streets = _street_names(rng_place, n_areas)
    x = np.empty(n)
    y = np.empty(n)
    location = np.empty(n, dtype=object)
    lsoa_code = np.empty(n, dtype=object)
    lsoa_name = np.empty(n, dtype=object)
    hotspots: list[np.ndarray] = []
    for a, area in enumerate(areas):
        rows = np.flatnonzero(a_idx == a)
        inner = area.metric.buffer(-_INNER_MARGIN_M)
        n_hot_centres = int(rng_place.integers(1, 4))
        centres = _sample_in(area.metric.buffer(-300.0), n_hot_centres, rng_place)
        if a == 0:
            centres[0] = _BELVEDERE_HOTSPOT_XY
        hotspots.append(centres)
        n_hot = int(rng_place.binomial(len(rows), _HOTSPOT_SHARE))
        pts = np.vstack(
            [
                _sample_in(inner, n_hot, rng_place, centres=centres, sd=_HOTSPOT_SD_M),
                _sample_in(inner, len(rows) - n_hot, rng_place),
            ]
        )[rng_place.permutation(len(rows))]
        x[rows], y[rows] = pts[:, 0], pts[:, 1]
        # Locations: the nearest of the area's made-up streets, or a facility at a hot spot.
        anchors = np.vstack([_sample_in(inner, _STREETS_PER_AREA, rng_place), centres])
        facility = rng_place.choice(len(_FACILITIES), size=len(centres), replace=False)
        labels = np.array(
            [f"On or near {s}" for s in streets[a]]
            + [f"On or near {_FACILITIES[f]}" for f in facility],
            dtype=object,
        )
        location[rows] = labels[_nearest(pts, anchors)]
        # Pseudo-LSOAs: Voronoi sub-cells of the area (nearest of 3-5 seeds).
        k = int(rng_place.integers(3, 6))
        lsoa_seeds = _sample_in(inner, k, rng_place)
        letters = np.array([chr(ord("A") + i) for i in range(k)], dtype=object)
        which = letters[_nearest(pts, lsoa_seeds)]
        lsoa_code[rows] = area.code + which
        lsoa_name[rows] = f"Synthetic demo LSOA {area.code[4:]}" + which

    # Diffusion of benefit: thin affected points in the ring after the start.
    post = np.asarray(months >= start)[m_idx]
    affected = np.isin(np.asarray(CRIME_TYPES, dtype=object), AFFECTED_CRIME_TYPES)[t_idx]
    u_thin = rng_attr.random(n)
    in_ring = (a_idx != 0) & shapely.contains_xy(ring, x, y)
    drop = post & affected & in_ring & (u_thin >= BUFFER_IRR)
    keep = ~drop
    n_thinned = int(drop.sum())

    # Attributes ----------------------------------------------------------------------------
    no_loc = rng_attr.random(n) < _NO_LOCATION_SHARE
    is_asb = np.asarray(CRIME_TYPES, dtype=object)[t_idx] == ASB
    crime_id = np.full(n, "", dtype=object)
    crime_id[~is_asb] = _hex_ids(rng_attr, int((~is_asb).sum()))
    recent = m_idx >= n_m - _RECENT_MONTHS
    out_old = rng_attr.choice(len(_OUTCOMES), size=n, p=_OUTCOME_P_OLD)
    out_new = rng_attr.choice(len(_OUTCOMES), size=n, p=_OUTCOME_P_RECENT)
    outcome = np.asarray(_OUTCOMES, dtype=object)[np.where(recent, out_new, out_old)]
    outcome[is_asb] = ""
    lon, lat = _TO_LONLAT.transform(x, y)
    lon = np.round(lon, 6)
    lat = np.round(lat, 6)
    lon[no_loc] = np.nan
    lat[no_loc] = np.nan
    location[no_loc] = "No Location"
    lsoa_code[no_loc] = ""
    lsoa_name[no_loc] = ""

    month_str = np.asarray(months.strftime("%Y-%m"), dtype=object)
    frame = pd.DataFrame(
        {
            "Crime ID": crime_id,
            "Month": month_str[m_idx],
            "Reported by": FORCE,
            "Falls within": FORCE,
            "Longitude": lon,
            "Latitude": lat,
            "Location": location,
            "LSOA code": lsoa_code,
            "LSOA name": lsoa_name,
            "Crime type": np.asarray(CRIME_TYPES, dtype=object)[t_idx],
            "Last outcome category": outcome,
            "Context": "",
        },
        columns=list(POLICE_UK_HEADER),
    )[keep]
    m_kept = m_idx[keep]

    # Write ---------------------------------------------------------------------------------
    areas_path = out / "areas.geojson"
    areas_path.write_text(_geojson(areas), encoding="utf-8")

    bounds = np.searchsorted(m_kept, np.arange(n_m + 1))
    crime_files = []
    for i, ms in enumerate(month_str):
        folder = police_dir / ms
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{ms}-metropolitan-street.csv"
        frame.iloc[bounds[i] : bounds[i + 1]].to_csv(
            path, index=False, float_format="%.6f", na_rep="", lineterminator="\n"
        )
        crime_files.append(path)

    log = _interventions(rng_int, treated, np.asarray(_BELVEDERE_HOTSPOT_XY), streets[0])
    interventions_path = out / "interventions.csv"
    log.to_csv(interventions_path, index=False, lineterminator="\n")

    n_rows = len(frame)
    realised = _realised_ratios(
        m_idx=m_idx,
        group=np.where(a_idx == 0, 0, np.where(in_ring, 1, 2)),
        crime_type=np.asarray(CRIME_TYPES, dtype=object)[t_idx],
        written=keep & ~no_loc,
        months=months,
        start=start,
    )
    n_no_loc = int((no_loc & keep).sum())
    by_type = tuple(
        (t, int(c))
        for t, c in zip(
            CRIME_TYPES, np.bincount(t_idx[keep], minlength=len(CRIME_TYPES)), strict=True
        )
    )
    survey = _survey(np.random.default_rng([int(seed), 7]), codes)
    survey_path = out / "survey.csv"
    survey.to_csv(survey_path, index=False, float_format="%.4f", lineterminator="\n")

    population = _population(np.random.default_rng([int(seed), 11]), codes, means)
    reports = _streetsafe(np.random.default_rng([int(seed), 13]), areas, months, start)
    locations_dir = out / "locations"
    locations_dir.mkdir(exist_ok=True)
    location_paths = []
    for fname, text in _locations(np.random.default_rng([int(seed), 17]), areas[0]).items():
        (locations_dir / fname).write_text(text, encoding="utf-8")
        location_paths.append(locations_dir / fname)
    streetsafe_path = out / "streetsafe.csv"
    reports.to_csv(streetsafe_path, index=False, lineterminator="\n")
    population_path = out / "population.csv"
    population.to_csv(population_path, index=False, lineterminator="\n")

    readme_path = out / "README.md"
    readme_path.write_text(_readme(int(seed), n_areas, n_rows), encoding="utf-8")

    truth = {
        "synthetic": True,
        "note": "SYNTHETIC DEMO DATA made by pilot-eval demo; not real crime data.",
        "seed": int(seed),
        "months": {"first": FIRST_MONTH, "last": LAST_MONTH},
        "intervention_start": START_MONTH,
        "treated_area": TREATED_CODE,
        "buffer_m": BUFFER_M,
        "affected_crime_types": list(AFFECTED_CRIME_TYPES),
        "true_irr": {"treated": TREATED_IRR, "buffer": BUFFER_IRR, "comparison": 1.0},
        "true_irr_other_crime_types": 1.0,
        "crime_types": list(CRIME_TYPES),
        "areas": {
            code: {
                "name": areas[a].name,
                "monthly_mean": {
                    t: round(float(means[a, j]), 3) for j, t in enumerate(CRIME_TYPES)
                },
                "variance_to_mean": {
                    t: round(float(phi[a, j]), 3) for j, t in enumerate(CRIME_TYPES)
                },
            }
            for a, code in enumerate(codes)
        },
        "monthly_mean_is": "before month-of-year seasonality, common trend and the effect",
        "realised_2x2": realised,
        "survey": {
            "question": "I feel safe walking alone in this area after dark (agree/strongly agree)",
            "true_did": SURVEY_TRUE_DID,
            "common_change": SURVEY_COMMON_CHANGE,
            "respondents_per_area_and_wave": dict(SURVEY_RESPONDENTS),
            "rows": len(survey),
        },
        "population": {
            "note": "made-up residents per demo area (population.csv), for rates",
            "residents": dict(zip(population["area_code"], population["population"], strict=True)),
        },
        "streetsafe": {
            "note": "made-up StreetSafe / QR-code reports (streetsafe.csv), counted as an outcome",
            "true_irr": {"treated": STREETSAFE_TRUE_IRR, "buffer": 1.0, "comparison": 1.0},
            "from": START_MONTH,
            "treated_monthly_mean_before": _STREETSAFE_TREATED_MEAN,
            "rows": len(reports),
        },
        "counts": {
            "rows": n_rows,
            "rows_no_location": n_no_loc,
            "buffer_rows_thinned": n_thinned,
            "rows_by_crime_type": dict(by_type),
            "intervention_log_rows": len(log),
        },
    }
    truth_path = out / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")

    return DemoManifest(
        out_dir=out,
        areas_path=areas_path,
        police_dir=police_dir,
        crime_files=tuple(crime_files),
        interventions_path=interventions_path,
        truth_path=truth_path,
        readme_path=readme_path,
        survey_path=survey_path,
        seed=int(seed),
        treated_area=TREATED_CODE,
        start_month=START_MONTH,
        buffer_m=BUFFER_M,
        true_irr_treated=TREATED_IRR,
        true_irr_buffer=BUFFER_IRR,
        affected_crime_types=AFFECTED_CRIME_TYPES,
        n_areas=n_areas,
        n_months=n_m,
        n_rows=n_rows,
        n_rows_no_location=n_no_loc,
        n_buffer_thinned=n_thinned,
        n_interventions=len(log),
        rows_by_crime_type=by_type,
        population_path=population_path,
        streetsafe_path=streetsafe_path,
        location_paths=tuple(location_paths),
    )
