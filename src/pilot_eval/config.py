"""Pilot configuration: one YAML file per pilot area, validated by a typed model.

Relative paths inside a config are resolved against the directory holding the config file.
Errors name the file, the field and what to do.
"""

from __future__ import annotations

import difflib
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .columns import ComponentType
from .errors import ConfigError

#: Where an outcome's counts come from.
#: ``police_uk``: street-level points; ``mps_ward`` / ``mps_lsoa``: London Datastore wide
#: tables by area code; ``mps_vawg``: the MPS VAWG offences table (long, by ward).
SourceKind = Literal["police_uk", "mps_ward", "mps_lsoa", "mps_vawg"]

#: Largest count (items, lights, venues...) accepted anywhere: beyond it is a typo or units.
MAX_COUNT = 10**9
#: Largest cost in pounds accepted for one component or log row.
MAX_COST = 1e9

_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _to_month(v: object) -> pd.Timestamp:
    """Accept 'YYYY-MM' (or a YAML date) and return the month's first day."""
    if isinstance(v, date):
        return pd.Timestamp(v.year, v.month, 1)
    if isinstance(v, pd.Timestamp):
        return pd.Timestamp(v.year, v.month, 1)
    if isinstance(v, str) and _MONTH_RE.match(v.strip()):
        y, m = v.strip().split("-")
        return pd.Timestamp(int(y), int(m), 1)
    raise ValueError(f"expected a month written as YYYY-MM (e.g. 2024-04), got {v!r}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


Month = Annotated[pd.Timestamp, Field(description="A month, written YYYY-MM")]


class DataSources(_Model):
    """Where the pilot's input files are."""

    source: SourceKind = "police_uk"
    crimes: Path = Field(description="police.uk folder/zip, or an MPS table file")
    crimes_historical: Path | None = Field(
        default=None, description="MPS historical wide table that overlaps the current one"
    )
    boundaries: Path = Field(description="Area boundaries (GeoJSON, GeoPackage or Shapefile)")
    area_code_column: str | None = Field(default=None, description="Detected when omitted")
    area_name_column: str | None = None
    interventions: Path | None = Field(default=None, description="Intervention log CSV")
    population: Path | None = Field(
        default=None, description="Residents by area code (rates per 1,000 residents)"
    )
    population_areas: Path | None = Field(
        default=None,
        description=(
            "Boundaries of the population file's areas (e.g. 2011 LSOAs for the ONS mid-2020 "
            "file): residents are then added up to the study areas by place. Omit when the "
            "population file uses the study areas' own codes"
        ),
    )
    survey: Path | None = None
    streetsafe: Path | None = None
    lsoa_roll_up: Path | None = Field(
        default=None,
        description=(
            "With source mps_lsoa: add the LSOA table up to the study areas (e.g. wards). "
            "Either LSOA boundaries (each LSOA goes to the study area holding most of it) or "
            "an ONS LSOA-to-ward lookup CSV"
        ),
    )
    lsoa_roll_up_method: Literal["largest_overlap", "centroid"] | None = Field(
        default=None,
        description="How LSOA boundaries are matched to the study areas (default "
        "largest_overlap); only with LSOA boundaries, not with a lookup CSV",
    )


class TreatedArea(_Model):
    """The treated area: codes from the boundaries file, or its own polygon file."""

    codes: tuple[str, ...] = ()
    polygon: Path | None = None

    @model_validator(mode="after")
    def _one_of(self) -> TreatedArea:
        if bool(self.codes) == bool(self.polygon):
            raise ValueError(
                "give exactly one of 'codes' (area codes from the boundaries file) or "
                "'polygon' (a file holding the treated area's outline)"
            )
        return self


class Component(_Model):
    """One component of the intervention (e.g. new street lights)."""

    type: ComponentType
    date: Month
    description: str = ""
    locations: Path | None = None
    count: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    cost: float | None = Field(
        default=None, ge=0, le=MAX_COST, allow_inf_nan=False, description="Cost in pounds"
    )

    _month = field_validator("date", mode="before")(lambda v: _to_month(v))


class Intervention(_Model):
    start: Month
    end: Month | None = None
    note: str = Field(
        default="",
        description="Shown in the report beside the dates (e.g. that a date is illustrative)",
    )
    illustrative: bool = Field(
        default=False,
        description=(
            "True when the dates are not the pilot's real dates (e.g. a what-if start): the "
            "report then says so in its title, its summary and beside every result"
        ),
    )
    components: tuple[Component, ...] = ()

    _months = field_validator("start", "end", mode="before")(
        lambda v: None if v is None else _to_month(v)
    )

    @model_validator(mode="after")
    def _order(self) -> Intervention:
        if self.end is not None and self.end < self.start:
            raise ValueError(
                f"intervention end ({self.end:%Y-%m}) is before its start ({self.start:%Y-%m})"
            )
        return self


class Windows(_Model):
    """Evaluation windows, in whole months, before and from the intervention start."""

    pre_months: int = Field(
        ge=3, le=240, description="24 or more is advised: seasonality needs whole years"
    )
    post_months: int = Field(ge=1, le=120)
    exclude_implementation: bool = Field(
        default=False,
        description=(
            "True: the roll-out months (intervention start to intervention end) are left out "
            "of the fit and of the after window, which then starts the month after "
            "intervention.end (post_months long). False (the default): the after window "
            "starts at intervention.start. The report says which was done"
        ),
    )


ExpectedChange = Literal["decrease", "increase"]


class PerCrime(_Model):
    """What one crime of an outcome weighs: a mix of the shipped figures, or your own figure.

    ``mix`` maps shipped rows (ONS Crime Severity Score offences for ``harm_weight``; Home
    Office cost categories for ``unit_cost``) to their share among the outcome's crimes in the
    areas studied (shares sum to 1). ``value`` is a figure of your own per crime (days of
    custody equivalent, or pounds at 2015/16 prices). ``source`` says where the mix or the
    figure comes from; the report prints it.
    """

    mix: dict[str, float] | None = None
    value: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one(self) -> PerCrime:
        if (self.mix is None) == (self.value is None):
            raise ValueError(
                "give exactly one of 'mix' (shares of the shipped figures) or 'value' (your "
                "own figure per crime)"
            )
        if self.mix is not None:
            bad = [k for k, v in self.mix.items() if not (0 <= v <= 1)]
            if bad or not self.mix:
                raise ValueError(f"mix shares must be between 0 and 1 (check {bad or 'mix'})")
            total = sum(self.mix.values())
            if abs(total - 1) > 1e-6:
                raise ValueError(f"mix shares must add up to 1, not {total:.4g}")
        return self


#: Where an outcome's counts come from: the crime data (``data.crimes``) or the StreetSafe /
#: QR-code reports (``data.streetsafe``).
OutcomeSource = Literal["crimes", "streetsafe"]


class Outcome(_Model):
    """An outcome: a named set of crime types (police.uk) or offence categories (MPS), or the
    StreetSafe / QR-code reports (``source: streetsafe``).

    ``expected_change`` is the direction the pilot aimed for (a fall, usually; a rise for
    outcomes the pilot tries to bring to light, such as reports through new QR codes: the
    default for ``source: streetsafe``). It sets the direction of the one-sided placebo test
    and is stated in the report.
    """

    name: str = Field(min_length=1)
    source: OutcomeSource = Field(
        default="crimes",
        description=(
            "'crimes' (data.crimes) or 'streetsafe' (data.streetsafe: reports counted per area "
            "and month from their points; categories, when given, select report categories)"
        ),
    )
    expected_change: ExpectedChange = "decrease"
    crime_types: tuple[str, ...] = ()
    categories: tuple[str, ...] = Field(
        default=(),
        description="MPS major/minor text or VAWG offence groups; StreetSafe report categories",
    )
    harm_weight: PerCrime | None = Field(
        default=None,
        description="Crime Severity Score weight per crime (days of custody equivalent): the "
        "report then gives the harm prevented, with the headline interval",
    )
    unit_cost: PerCrime | None = Field(
        default=None,
        description="Home Office social cost per crime (2015/16 pounds): the report then gives "
        "the social cost of the crimes prevented, with the headline interval",
    )

    @model_validator(mode="before")
    @classmethod
    def _reports_aim_up(cls, data: object) -> object:
        if isinstance(data, dict) and data.get("source") == "streetsafe":
            data = {"expected_change": "increase", **data}
        return data

    @model_validator(mode="after")
    def _some(self) -> Outcome:
        if self.source == "streetsafe":
            if self.crime_types:
                raise ValueError(
                    f"outcome {self.name!r} counts StreetSafe reports (source: streetsafe): "
                    "remove crime_types (use categories to select report categories)"
                )
            if self.harm_weight is not None or self.unit_cost is not None:
                raise ValueError(
                    f"outcome {self.name!r} counts reports, not crimes: remove harm_weight and "
                    "unit_cost (no crime is 'prevented')"
                )
            return self
        if not self.crime_types and not self.categories:
            raise ValueError(
                f"outcome {self.name!r} lists no crime_types (police.uk) or categories (MPS)"
            )
        return self

    @property
    def from_reports(self) -> bool:
        """True for an outcome counted from the StreetSafe / QR-code reports."""
        return self.source == "streetsafe"


class Uprating(_Model):
    """A price index ratio from 2015/16 to ``to`` (e.g. the HM Treasury GDP deflator)."""

    factor: float = Field(gt=0, allow_inf_nan=False)
    to: str = Field(min_length=1, description="The price year, e.g. 2024/25")
    source: str = Field(min_length=1, description="The deflator and its release")


class ReportOptions(_Model):
    title: str = Field(min_length=1)
    small_count_threshold: int = Field(
        default=10,
        ge=3,
        description="Counts below this are shown as '<N' in published tables",
    )
    survey_question: str = Field(
        default="feel safe walking alone in the area after dark",
        description="What the survey's yes/agree answer means, for sentences in the report",
    )
    alpha: float = Field(default=0.05, gt=0, lt=0.5, allow_inf_nan=False)
    power: float = Field(default=0.8, gt=0.5, lt=1, allow_inf_nan=False)
    price_uprating: Uprating | None = Field(
        default=None,
        description="Uprate 2015/16 unit costs of crime to a later price year with a stated "
        "deflator; without it, costs of crime are given at 2015/16 prices",
    )


class PilotConfig(_Model):
    """A validated pilot config. Paths are absolute once loaded with :func:`load_config`."""

    name: str = Field(min_length=1)
    slug: str
    synthetic: bool = False
    data: DataSources
    treated: TreatedArea
    buffer_m: float = Field(default=400.0, ge=0, le=5000, allow_inf_nan=False)
    comparison: Literal["auto"] | tuple[str, ...] = "auto"
    intervention: Intervention
    windows: Windows
    outcomes: tuple[Outcome, ...] = Field(min_length=1)
    report: ReportOptions

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _SLUG_RE.match(v):
            raise ValueError(
                "slug must be lower-case letters, digits and hyphens (it names the "
                f"reports/<slug>/ folder), got {v!r}"
            )
        return v

    @model_validator(mode="after")
    def _consistent(self) -> PilotConfig:
        if isinstance(self.comparison, tuple):
            if not self.comparison:
                raise ValueError("comparison lists no areas: give area codes or 'auto'")
            overlap = set(self.comparison) & set(self.treated.codes)
            if overlap:
                raise ValueError(
                    f"areas {sorted(overlap)} are listed both as treated and as comparison"
                )
        roll = self.data.lsoa_roll_up
        if roll is not None and self.data.source != "mps_lsoa":
            raise ValueError(
                f"data.lsoa_roll_up adds an LSOA table up to the study areas, but data.source "
                f"is {self.data.source!r}: set data.source to mps_lsoa, or remove lsoa_roll_up"
            )
        if self.data.lsoa_roll_up_method is not None and (
            roll is None or roll.suffix.lower() == ".csv"
        ):
            raise ValueError(
                "data.lsoa_roll_up_method applies only when data.lsoa_roll_up names LSOA "
                "boundaries (a lookup CSV already says which area each LSOA is in): remove it"
            )
        if self.data.population_areas is not None and self.data.population is None:
            raise ValueError("data.population_areas is given without data.population")
        if self.windows.exclude_implementation and self.intervention.end is None:
            raise ValueError(
                "windows.exclude_implementation is true but intervention.end is not given: "
                "add intervention.end (the last roll-out month) or set it to false"
            )
        names = [o.name for o in self.outcomes]
        if len(set(names)) != len(names):
            raise ValueError(f"outcome names must be unique, got {names}")
        crime_outcomes = [o for o in self.outcomes if not o.from_reports]
        if not crime_outcomes:
            raise ValueError(
                "every outcome has source: streetsafe; list at least one outcome of recorded "
                "crime (the reports are read beside the crimes, not instead of them)"
            )
        if len(crime_outcomes) < len(self.outcomes) and self.data.streetsafe is None:
            raise ValueError(
                "an outcome has source: streetsafe but data.streetsafe names no file: add the "
                "StreetSafe / QR-code export as data.streetsafe"
            )
        if self.data.source == "police_uk" and any(not o.crime_types for o in crime_outcomes):
            raise ValueError("with data.source 'police_uk', every outcome needs crime_types")
        if self.data.source != "police_uk" and any(not o.categories for o in crime_outcomes):
            raise ValueError(
                f"with data.source {self.data.source!r}, every outcome needs categories"
            )
        return self

    # -- derived, read-only -------------------------------------------------------------
    @property
    def pre_start(self) -> pd.Timestamp:
        return self.intervention.start - pd.DateOffset(months=self.windows.pre_months)

    @property
    def post_start(self) -> pd.Timestamp:
        """First month of the after window: the start, or the month after the roll-out."""
        iv = self.intervention
        if self.windows.exclude_implementation and iv.end is not None:
            return iv.end + pd.DateOffset(months=1)
        return iv.start

    @property
    def post_end(self) -> pd.Timestamp:
        """Last month of the post window (inclusive)."""
        return self.post_start + pd.DateOffset(months=self.windows.post_months - 1)

    @property
    def months(self) -> pd.DatetimeIndex:
        """Every month read from the data, first to last, as month-start timestamps.

        With ``windows.exclude_implementation`` this span includes the roll-out months, which
        the panel then leaves out (:attr:`excluded_months`).
        """
        return pd.date_range(self.pre_start, self.post_end, freq="MS")

    @property
    def excluded_months(self) -> pd.DatetimeIndex:
        """The roll-out months left out of the panel (empty unless exclude_implementation)."""
        if self.post_start == self.intervention.start:
            return pd.DatetimeIndex([])
        return pd.date_range(
            self.intervention.start, self.post_start - pd.DateOffset(months=1), freq="MS"
        )

    @property
    def primary_outcome(self) -> Outcome:
        return self.outcomes[0]


def _fields_at(loc: tuple) -> list[str]:
    """The field names allowed where ``loc`` points (for did-you-mean on unknown fields)."""
    model: type[BaseModel] | None = PilotConfig
    for part in loc[:-1]:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        model = None
        for arg in _model_args(field.annotation):
            model = arg
            break
    return list(model.model_fields) if model is not None else []


def _model_args(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation (``Component`` in ``tuple[Component, ...]``)."""
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found.extend(_model_args(arg))
    return found


def _problem(e) -> str:
    """One validation problem as ``field: what is wrong and what to do``."""
    loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(e["loc"][-1]), _fields_at(tuple(e["loc"])), n=1)
        msg = "unknown field: remove it or check its spelling" + (
            f" (did you mean '{close[0]}'?)" if close else ""
        )
    elif e["type"] == "missing":
        msg = "required field is missing: add it"
    elif e["type"] == "finite_number":
        msg = "must be a finite number (not inf or nan)"
    return f"{loc}: {msg}"


def _format_errors(path: Path, err: ValidationError) -> str:
    """The first line names the file and the first field; further problems follow, one a line."""
    problems = [_problem(e) for e in err.errors()]
    first = f"{path}: {problems[0]}"
    if len(problems) == 1:
        return first
    lines = [f"{first} ({len(problems)} problem(s) in the pilot config, all listed here):"]
    lines.extend(f"  - {p}" for p in problems)
    return "\n".join(lines)


def _read_yaml(path: Path) -> object:
    """The YAML document of ``path``; encoding and syntax problems name the line and the fix."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}, line {line}: the config is not UTF-8 text (byte 0x{data[exc.start]:02x} "
            "cannot be read; the file was probably saved as Latin-1/Windows-1252). Save it "
            "as UTF-8 (in your editor: Save with encoding > UTF-8) and try again."
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = (
            " ".join(
                str(x) for x in (getattr(exc, "context", None), getattr(exc, "problem", None)) if x
            )
            or str(exc).splitlines()[0]
        )
        raise ConfigError(
            f"{path}{where}: not valid YAML ({what}). Check the indentation and quoting there "
            "(text holding ':' or '#' needs quotes)."
        ) from None


_PATH_KEYS = {
    ("data", k)
    for k in (
        "crimes",
        "crimes_historical",
        "boundaries",
        "interventions",
        "population",
        "population_areas",
        "survey",
        "streetsafe",
        "lsoa_roll_up",
    )
} | {("treated", "polygon")}


def load_config(path: str | Path) -> PilotConfig:
    """Read and validate a pilot config YAML.

    Parameters
    ----------
    path
        The YAML file. Relative paths inside it are taken relative to its folder.

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or fails validation; the message lists each
        problem with its field.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file. Check the path (pilots live in pilots/).")
    try:
        raw = _read_yaml(path)
    except OSError as exc:
        raise ConfigError(
            f"{path}: the config cannot be read ({exc.strerror}). Check its permissions."
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}, line 1: expected a mapping of fields at the top level (name: ..., "
            "slug: ..., data: ...); copy pilots/demo-belvedere.yml to start from."
        )
    base = path.resolve().parent
    for section, key in _PATH_KEYS:
        sec = raw.get(section)
        if isinstance(sec, dict) and sec.get(key) not in (None, ""):
            sec[key] = str((base / str(sec[key])).resolve())
    comps = (
        (raw.get("intervention") or {}).get("components")
        if isinstance(raw.get("intervention"), dict)
        else None
    )
    if isinstance(comps, list):
        for c in comps:
            if isinstance(c, dict) and c.get("locations"):
                c["locations"] = str((base / str(c["locations"])).resolve())
    try:
        return PilotConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_errors(path, err)) from None
