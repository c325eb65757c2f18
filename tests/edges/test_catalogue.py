"""The bad-input catalogue (issue 12): nothing wrong gets in silently, nothing good is lost.

Each case copies the trimmed SYNTHETIC demo (``conftest.edge_base``), damages one thing and
runs the real command line (``pilot_eval.cli.main``). A refused case must exit 2 with ONE line
on stderr that names the file and the field or line, no traceback, and every input file
byte-identical afterwards. A repaired case must exit 0 and say in its output how many rows
were repaired. ``{config}`` / ``{data}`` in an expectation stand for the case's paths.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from edge_helpers import Case, digest

from pilot_eval.cli import main


@dataclass(frozen=True)
class Edge:
    id: str
    damage: Callable[[Case], object]
    expect: tuple[str, ...]  # all in stderr's one line (refused) or stdout (repaired)
    code: int = 2
    command: str = "validate"


def _csv_rows(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


# -- damage helpers -------------------------------------------------------------------------
def write_config_text(text: str):
    def damage(c: Case) -> None:
        c.config.write_text(text, encoding="utf-8")

    return damage


def config_field(dotted: str, value):
    return lambda c: c.set(dotted, value)


def config_raw(fn):
    def damage(c: Case) -> None:
        fn(c.raw)
        c.save()

    return damage


def police_header_only(c: Case) -> None:
    p = c.police("2024-02")
    p.write_text(_csv_rows(p)[0], encoding="utf-8")


def police_empty(c: Case) -> None:
    c.police("2024-02").write_bytes(b"")


def police_truncated_row(c: Case) -> None:
    p = c.police("2024-02")
    rows = _csv_rows(p)
    rows[5] = ",".join(rows[5].split(",")[:4]) + "\n"  # a download cut mid-row
    p.write_text("".join(rows), encoding="utf-8")


def police_header(old: str, new: str):
    def damage(c: Case) -> None:
        p = c.police("2024-03")
        rows = _csv_rows(p)
        assert old in rows[0]
        rows[0] = rows[0].replace(old, new)
        p.write_text("".join(rows), encoding="utf-8")

    return damage


def police_latin1(c: Case) -> None:
    p = c.police("2024-01")
    rows = _csv_rows(p)
    rows[3] = rows[3].replace("On or near", "On or near Caf\u00e9")
    p.write_bytes("".join(rows).encode("latin-1"))


def police_bom(c: Case) -> None:
    p = c.police("2024-01")
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())


def police_cell(row: int, column: str, value: str, month: str = "2024-02"):
    def damage(c: Case) -> None:
        import csv
        import io

        p = c.police(month)
        table = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8"))))
        table[row][table[0].index(column)] = value
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(table)
        p.write_text(buf.getvalue(), encoding="utf-8")

    return damage


def police_recased_types(c: Case) -> None:
    for m in ("2024-01", "2024-05"):
        c.replace_in(c.police(m), ",Public order,", ",public  order,", count=3)


def police_duplicate_ids(c: Case) -> None:
    p = c.police("2024-02")
    rows = _csv_rows(p)
    p.write_text("".join(rows + rows[1:4]), encoding="utf-8")


def remove_month(c: Case) -> None:
    import shutil

    shutil.rmtree(c.data / "police-uk" / "2024-02")


def boundaries_edit(fn):
    def damage(c: Case) -> None:
        doc = c.geojson()
        fn(doc)
        c.write_geojson(doc)

    return damage


def _drop_crs_and_project(doc: dict) -> None:
    doc.pop("crs", None)  # GeoJSON without "crs" means WGS84: write metres into it
    for f in doc["features"]:
        f["geometry"]["coordinates"] = [
            [[x * 1e5 + 500000, y * 1e3] for x, y in ring] for ring in f["geometry"]["coordinates"]
        ]


def boundaries_no_crs(c: Case) -> None:
    import geopandas as gpd

    g = gpd.read_file(c.data / "areas.geojson")
    p = c.data / "areas.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "'crs' was not provided": the point
        g.set_crs(None, allow_override=True).to_file(p)
    c.set("data.boundaries", "../data/areas.shp")


def _bowtie(doc: dict) -> None:
    ring = doc["features"][5]["geometry"]["coordinates"][0]
    (x0, y0), (x1, y1) = ring[0], ring[2]
    doc["features"][5]["geometry"]["coordinates"] = [
        [[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]
    ]


def _empty_geometry(doc: dict) -> None:
    doc["features"][4]["geometry"] = None


def polygon_file(offset_x_m: float, size_m: float = 2000):
    def damage(c: Case) -> None:
        import geopandas as gpd
        from shapely.geometry import box

        x, y = 549000 + offset_x_m, 178000
        p = c.data / "pilot.geojson"
        gpd.GeoDataFrame(geometry=[box(x, y, x + size_m, y + size_m)], crs="EPSG:27700").to_file(p)
        c.raw["treated"] = {"polygon": "../data/pilot.geojson"}
        c.save()

    return damage


def survey_only_pre(c: Case) -> None:
    p = c.data / "survey.csv"
    rows = _csv_rows(p)
    p.write_text("".join([rows[0]] + [r for r in rows[1:] if ",post," not in r]), encoding="utf-8")


def survey_answer(value: str):
    def damage(c: Case) -> None:
        c.replace_in(c.data / "survey.csv", ",Agree,", f",{value},")

    return damage


def survey_latin1(c: Case) -> None:
    p = c.data / "survey.csv"
    p.write_bytes(p.read_text(encoding="utf-8").replace("R00007", "R0000\u00e9").encode("latin-1"))


def survey_drop_answer_column(c: Case) -> None:
    p = c.data / "survey.csv"
    rows = [
        ",".join(r.rstrip("\n").split(",")[:3] + r.rstrip("\n").split(",")[4:]) + "\n"
        for r in _csv_rows(p)
    ]
    p.write_text("".join(rows), encoding="utf-8")


def log_cell(column: str, value: str, line: int = 2):
    def damage(c: Case) -> None:
        import csv
        import io

        p = c.data / "interventions.csv"
        table = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8"))))
        table[line - 1][table[0].index(column)] = value
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(table)
        p.write_text(buf.getvalue(), encoding="utf-8")

    return damage


def log_ragged(c: Case) -> None:
    p = c.data / "interventions.csv"
    rows = _csv_rows(p)
    rows[3] = rows[3].rstrip("\n") + ",extra\n"
    p.write_text("".join(rows), encoding="utf-8")


def add_file(field: str, name: str, text: str | None):
    def damage(c: Case) -> None:
        if text is not None:
            (c.data / name).write_text(text, encoding="utf-8")
        c.set(field, f"../data/{name}")

    return damage


STREETSAFE = (
    "date,latitude,longitude,category,description\n2024-05-02,51.49,0.14,Poor lighting,dark\n"
)
POPULATION = "area,population\n" + "".join(f"DEMO{i:02d},{1000 + i}\n" for i in range(1, 19))

CASES = [
    # -- the config --------------------------------------------------------------------------
    Edge(
        "yaml-unclosed-bracket",
        write_config_text("name: x\nslug: [demo\n"),
        ("{config}", "line 3", "not valid YAML"),
    ),
    Edge(
        "yaml-tab-indent",
        write_config_text("name: x\ndata:\n\tcrimes: a\n"),
        ("{config}", "line 3", "not valid YAML"),
    ),
    Edge(
        "config-latin1",
        lambda c: c.config.write_bytes(
            c.config.read_bytes().replace(b"Belvedere VAWG", b"Belv\xe9dere VAWG")
        ),
        ("{config}", "line 1", "not UTF-8", "Save it as UTF-8"),
    ),
    Edge("config-empty", write_config_text(""), ("{config}", "line 1", "mapping of fields")),
    Edge(
        "config-a-list",
        write_config_text("- name: x\n"),
        ("{config}", "line 1", "mapping of fields"),
    ),
    Edge(
        "unknown-key-top",
        config_field("buffer_metres", 300),
        ("{config}", "buffer_metres", "did you mean 'buffer_m'"),
    ),
    Edge(
        "unknown-key-nested",
        config_raw(lambda r: r["windows"].update(pre_month=6)),
        ("{config}", "windows.pre_month", "did you mean 'pre_months'"),
    ),
    Edge(
        "missing-section",
        config_raw(lambda r: r.pop("windows")),
        ("{config}", "windows", "required field is missing"),
    ),
    Edge("buffer-not-a-number", config_field("buffer_m", "four hundred"), ("{config}", "buffer_m")),
    Edge(
        "buffer-infinite",
        config_field("buffer_m", float("inf")),
        ("{config}", "buffer_m", "finite"),
    ),
    Edge(
        "codes-not-a-list", config_field("treated.codes", {"a": 1}), ("{config}", "treated.codes")
    ),
    Edge(
        "slug-capitals", config_field("slug", "Demo Belvedere"), ("{config}", "slug", "lower-case")
    ),
    Edge(
        "pre-window-empty",
        config_field("windows.pre_months", 0),
        ("{config}", "windows.pre_months"),
    ),
    Edge(
        "post-window-empty",
        config_field("windows.post_months", 0),
        ("{config}", "windows.post_months"),
    ),
    Edge(
        "end-before-start",
        config_field("intervention.end", "2023-01"),
        ("{config}", "intervention", "before its start"),
    ),
    Edge(
        "start-not-a-month",
        config_field("intervention.start", "April 2024"),
        ("{config}", "intervention.start", "YYYY-MM"),
    ),
    Edge(
        "component-cost-infinite",
        config_field("intervention.components.0.cost", float("inf")),
        ("{config}", "intervention.components.0.cost", "finite"),
    ),
    Edge(
        "component-cost-huge",
        config_field("intervention.components.0.cost", 1e300),
        ("{config}", "intervention.components.0.cost"),
    ),
    Edge(
        "component-cost-negative",
        config_field("intervention.components.1.cost", -5),
        ("{config}", "intervention.components.1.cost"),
    ),
    Edge(
        "component-count-1e20",
        config_field("intervention.components.0.count", 10**20),
        ("{config}", "intervention.components.0.count"),
    ),
    Edge("outcomes-empty", config_field("outcomes", []), ("{config}", "outcomes")),
    Edge(
        "treated-codes-and-polygon",
        config_field("treated.polygon", "../data/areas.geojson"),
        ("{config}", "treated", "exactly one"),
    ),
    Edge(
        "treated-also-comparison",
        config_field("comparison", ["DEMO01", "DEMO02", "DEMO03"]),
        ("{config}", "treated and as comparison"),
    ),
    Edge(
        "crime-type-unknown",
        config_field("outcomes.0.crime_types", ["Public disorder"]),
        ("{data}/police-uk", "outcomes", "did you mean 'Public order'"),
    ),
    # -- police.uk files ---------------------------------------------------------------------
    Edge(
        "crimes-path-missing",
        config_field("data.crimes", "../data/nowhere"),
        ("{data}/nowhere", "data.crimes"),
    ),
    Edge(
        "months-outside-the-data",
        config_raw(lambda r: r["intervention"].update(start="2030-01", end=None)),
        ("{data}/police-uk", "no police.uk file for", "windows.pre_months"),
    ),
    Edge("month-missing", remove_month, ("{data}/police-uk", "2024-02", "download them")),
    Edge(
        "police-header-only",
        police_header_only,
        (
            "{data}/police-uk/2024-02/2024-02-metropolitan-street.csv",
            "line 2",
            "header but no rows",
        ),
    ),
    Edge("police-empty-file", police_empty, ("2024-02-metropolitan-street.csv", "empty")),
    Edge(
        "police-truncated-row",
        police_truncated_row,
        ("2024-02-metropolitan-street.csv", "line 6", "fields"),
    ),
    Edge(
        "police-renamed-column",
        police_header("Crime type", "Crime category"),
        ("2024-03-metropolitan-street.csv", "line 1", "Crime type"),
    ),
    Edge(
        "police-recased-column",
        police_header("Crime type", "crime type"),
        ("2024-03-metropolitan-street.csv", "line 1", "Crime type"),
    ),
    Edge("police-latin1", police_latin1, ("2024-01-metropolitan-street.csv", "line 4", "UTF-8")),
    Edge(
        "police-longitude-text",
        police_cell(7, "Longitude", "east"),
        ("2024-02-metropolitan-street.csv", "line 8", "Longitude"),
    ),
    Edge(
        "police-outside-uk",
        police_cell(9, "Latitude", "5.1"),
        ("2024-02-metropolitan-street.csv", "line 10", "Latitude"),
    ),
    Edge(
        "police-wrong-month-in-row",
        police_cell(3, "Month", "2024-05"),
        ("2024-02-metropolitan-street.csv", "line 4", "Month"),
    ),
    Edge(
        "police-month-not-a-month",
        police_cell(3, "Month", "Feb 2024"),
        ("2024-02-metropolitan-street.csv", "line 4", "YYYY-MM"),
    ),
    # -- boundaries and areas ----------------------------------------------------------------
    Edge(
        "boundaries-missing",
        config_field("data.boundaries", "../data/wards.geojson"),
        ("{data}/wards.geojson", "data.boundaries"),
    ),
    Edge("boundaries-no-crs", boundaries_no_crs, ("{data}/areas.shp", "CRS")),
    Edge(
        "boundaries-wrong-crs",
        boundaries_edit(_drop_crs_and_project),
        ("{data}/areas.geojson", "EPSG:27700"),
    ),
    Edge(
        "boundaries-empty-geometry",
        boundaries_edit(_empty_geometry),
        ("{data}/areas.geojson", "no geometry", "DEMO05"),
    ),
    Edge(
        "boundaries-no-features",
        boundaries_edit(lambda d: d.update(features=[])),
        ("{data}/areas.geojson", "no areas"),
    ),
    Edge(
        "boundaries-not-geo",
        lambda c: (c.data / "areas.geojson").write_text("area_code,name\nDEMO01,x\n"),
        ("{data}/areas.geojson", "not a readable"),
    ),
    Edge(
        "code-column-renamed",
        config_field("data.area_code_column", "ward_code"),
        ("{data}/areas.geojson", "ward_code"),
    ),
    Edge(
        "treated-code-unknown",
        config_field("treated.codes", ["DEMO1"]),
        ("{data}/areas.geojson", "treated.codes", "did you mean", "DEMO01"),
    ),
    Edge(
        "treated-code-recased",
        config_field("treated.codes", ["demo01"]),
        ("{data}/areas.geojson", "treated.codes", "did you mean", "DEMO01"),
    ),
    Edge(
        "comparison-code-unknown",
        config_field("comparison", ["DEMO02", "DEMO3"]),
        ("{data}/areas.geojson", "comparison", "did you mean", "DEMO03"),
    ),
    Edge(
        "single-comparison-area",
        config_field("comparison", ["DEMO02"]),
        ("{data}/areas.geojson", "comparison", "at least 2"),
    ),
    Edge(
        "treated-polygon-250km-away",
        polygon_file(250_000),
        (
            "{data}/pilot.geojson",
            "treated.polygon",
            "lies outside every area",
            "km from the nearest",
        ),
    ),
    Edge(
        "treated-area-without-crimes",
        polygon_file(0, size_m=10),
        ("primary outcome", "no recorded", "treated area"),
    ),
    # -- the survey --------------------------------------------------------------------------
    Edge("survey-one-wave", survey_only_pre, ("{data}/survey.csv", "column 'wave'", "'post'")),
    Edge(
        "survey-answer-out-of-range",
        survey_answer("7"),
        ("{data}/survey.csv", "line", "column 'answer'", "'7'"),
    ),
    Edge(
        "survey-answer-unknown",
        survey_answer("Maybe"),
        ("{data}/survey.csv", "column 'answer'", "Maybe"),
    ),
    Edge("survey-latin1", survey_latin1, ("{data}/survey.csv", "UTF-8")),
    Edge("survey-no-answer-column", survey_drop_answer_column, ("{data}/survey.csv", "answer")),
    Edge(
        "survey-missing-file",
        config_field("data.survey", "../data/residents.csv"),
        ("{data}/residents.csv", "survey"),
    ),
    # -- the intervention log ----------------------------------------------------------------
    Edge(
        "log-bad-date",
        log_cell("date", "31/04/2024"),
        ("{data}/interventions.csv", "line 2, column 'date'"),
    ),
    Edge(
        "log-impossible-date",
        log_cell("date", "2024-02-30", line=4),
        ("{data}/interventions.csv", "line 4, column 'date'"),
    ),
    Edge(
        "log-negative-cost",
        log_cell("cost", "-250", line=3),
        ("{data}/interventions.csv", "line 3, column 'cost'", "negative"),
    ),
    Edge(
        "log-huge-cost",
        log_cell("cost", "1e300"),
        ("{data}/interventions.csv", "line 2, column 'cost'", "more than"),
    ),
    Edge(
        "log-infinite-cost",
        log_cell("cost", "inf"),
        ("{data}/interventions.csv", "line 2, column 'cost'"),
    ),
    Edge(
        "log-count-1e20",
        log_cell("count", "100000000000000000000"),
        ("{data}/interventions.csv", "line 2, column 'count'", "more than"),
    ),
    Edge("log-ragged-row", log_ragged, ("{data}/interventions.csv", "line 4", "fields")),
    Edge(
        "log-missing-file",
        config_field("data.interventions", "../data/log.csv"),
        ("{data}/log.csv", "data.interventions"),
    ),
    # -- inputs that used to be accepted and never read --------------------------------------
    Edge(
        "streetsafe-missing-file",
        add_file("data.streetsafe", "qr.csv", None),
        ("{data}/qr.csv", "StreetSafe"),
    ),
    Edge(
        "streetsafe-bad-date",
        add_file("data.streetsafe", "qr.csv", STREETSAFE.replace("2024-05-02", "yesterday")),
        ("{data}/qr.csv", "line 2, column 'date'"),
    ),
    Edge(
        "population-missing-file",
        add_file("data.population", "pop.csv", None),
        ("{data}/pop.csv", "population"),
    ),
    Edge(
        "population-negative",
        add_file("data.population", "pop.csv", POPULATION.replace("1003", "-3")),
        ("{data}/pop.csv", "line 4", "population"),
    ),
    # -- output folder (run refuses before anything runs) ------------------------------------
    Edge(
        "output-root-is-a-file",
        lambda c: (c.root / "out").write_text("x"),
        ("--output-root", "{root}/out", "not a folder"),
        command="run",
    ),
    Edge("output-root-read-only", lambda c: None, ("--output-root",), command="run-read-only"),
    # -- run makes validate's checks before a kernel starts: the same one line, no notebook --
    Edge(
        "run-police-header-only",
        police_header_only,
        ("2024-02-metropolitan-street.csv", "line 2", "header but no rows"),
        command="run",
    ),
    Edge(
        "run-single-comparison-area",
        config_field("comparison", ["DEMO02"]),
        ("{data}/areas.geojson", "comparison", "at least 2"),
        command="run",
    ),
    Edge(
        "run-survey-one-wave",
        survey_only_pre,
        ("{data}/survey.csv", "column 'wave'"),
        command="run",
    ),
    Edge(
        "run-log-count-1e20",
        log_cell("count", "100000000000000000000"),
        ("{data}/interventions.csv", "line 2, column 'count'"),
        command="run",
    ),
]

REPAIRED = [
    Edge(
        "police-recased-crime-types",
        police_recased_types,
        ("6 police.uk row(s)", "ignoring case and spaces"),
        code=0,
    ),
    Edge(
        "police-duplicate-crime-ids", police_duplicate_ids, ("3 row(s) repeat a Crime ID",), code=0
    ),
    Edge("police-bom", police_bom, ("OK: the config and its data are ready to run.",), code=0),
    Edge(
        "boundaries-invalid-geometry",
        boundaries_edit(_bowtie),
        ("repaired 1 invalid geometry", "DEMO06"),
        code=0,
    ),
    Edge(
        "config-bom",
        lambda c: c.config.write_bytes(b"\xef\xbb\xbf" + c.config.read_bytes()),
        ("OK:",),
        code=0,
    ),
    Edge(
        "streetsafe-and-population-read",
        lambda c: (
            add_file("data.streetsafe", "qr.csv", STREETSAFE)(c),
            add_file("data.population", "pop.csv", POPULATION)(c),
        ),
        ("OK:",),
        code=0,
    ),
]


def _fill(text: str, c: Case) -> str:
    return text.format(config=c.config, data=c.data, root=c.root)


def _command(edge: Edge, c: Case, tmp_path: Path) -> list[str]:
    if edge.command == "validate":
        return ["validate", str(c.config)]
    if edge.command == "run":
        return ["run", str(c.config), "--output-root", str(c.root / "out")]
    assert edge.command == "run-read-only"
    if os.geteuid() == 0:  # root may write anywhere on a normal disk: use a read-only file system
        target = Path("/proc/pilot-eval-edge-reports")
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        target = ro / "reports"
    return ["run", str(c.config), "--output-root", str(target)]


@pytest.mark.parametrize("edge", CASES + REPAIRED, ids=lambda e: e.id)
def test_bad_input(edge: Edge, make_case, tmp_path, capsys):
    c = make_case()
    edge.damage(c)
    before = digest(c.root)
    code = main(_command(edge, c, tmp_path))
    out, err = capsys.readouterr()
    assert digest(c.root) == before, "an input file changed"
    assert "Traceback" not in err and "Traceback" not in out
    assert code == edge.code, (out, err)
    if edge.code == 2:
        lines = err.strip().splitlines()
        assert lines and lines[0].startswith("pilot-eval: error: "), err
        first = lines[0]
        for want in edge.expect:
            assert _fill(want, c) in first, f"{want!r} not in the first line: {first}"
        if not edge.id.startswith(("yaml", "config")):
            assert len(lines) == 1, err
        assert not (c.root / "out").is_dir() or not any((c.root / "out").iterdir())
    else:
        assert err.strip() == "", err
        for want in edge.expect:
            assert _fill(want, c) in out, f"{want!r} not in: {out}"


def test_catalogue_size():
    assert len(CASES) + len(REPAIRED) >= 45


def test_debug_shows_the_traceback(make_case, capsys):
    c = make_case()
    c.set("treated.codes", ["DEMO1"])
    assert main(["--debug", "validate", str(c.config)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("pilot-eval: error:")


def test_results_of_a_good_run_are_valid_json_everywhere(make_case):
    """The trimmed demo itself is good: validate says OK (the catalogue's baseline)."""
    c = make_case()
    assert main(["validate", str(c.config)]) == 0
    json.dumps(c.raw)
