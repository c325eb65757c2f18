"""The report page: the sections rendered into one self-contained, accessible HTML file.

:func:`publish` is what the evaluation notebook calls: it writes ``results.json`` (with its
``summary`` and ``provenance`` blocks) and ``report.html`` into the output folder. The page
is a jinja2 template shipped in the package (``templates/report.html.j2``) rendered with
autoescape; it loads nothing from the network (charts and the map are embedded images, the
style sheet is inline) and the same inputs give the same bytes.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .blocks import Section, inline, plain
from .context import ReportContext, build_context

if TYPE_CHECKING:
    import jinja2

    from ..pipeline import Evaluation

__all__ = ["publish", "render_page", "render_section", "report_context", "summary_json"]


@cache
def _env() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load),
        autoescape=True,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["inline"] = inline
    return env


def _load(name: str) -> str:
    return (files("pilot_eval.report") / "templates" / name).read_text(encoding="utf-8")


def render_section(section: Section) -> str:
    """One section as HTML (the notebook's view of it)."""
    return _env().get_template("report.html.j2").render(section_only=True, section=section)


def render_page(ctx: ReportContext, sections: tuple[Section, ...]) -> str:
    """The whole page."""
    from .. import __version__

    cfg = ctx.config
    prov = ctx.provenance or {}
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            section_only=False,
            sections=sections,
            title=ctx.title,
            pilot_name=cfg.name,
            period=f"{cfg.months[0]:%B %Y} to {cfg.months[-1]:%B %Y}",
            synthetic=ctx.synthetic,
            illustrative=ctx.illustrative,
            css=_load("report.css"),
            version=__version__,
            config_sha=(prov.get("config") or {}).get("sha256"),
            run_date=prov.get("run_date"),
        )
    )


def summary_json(ctx: ReportContext, sections: tuple[Section, ...]) -> dict[str, Any]:
    """``results.json``'s ``summary`` block: the sentence, the evidence level, the words."""
    from .sections import evidence_level, summary_sentence

    level, why, raise_it = evidence_level(ctx)
    return {
        "sentence": summary_sentence(ctx),
        "evidence_level": level,
        "evidence_scale": "Maryland Scientific Methods Scale (1-5)",
        "evidence_reason": why,
        "evidence_would_rise_with": raise_it,
        "illustrative_dates": ctx.illustrative,
        "text": plain(sections[0].words()),
    }


def report_context(
    evaluation: Evaluation, *, config_path: str | Path | None = None
) -> ReportContext:
    """The report context, with the run's provenance when the config file is known."""
    from ..pipeline.provenance import provenance

    if config_path is None:
        return build_context(evaluation)
    prov = provenance(evaluation.config, config_path=config_path)
    return build_context(evaluation, provenance=prov, config_dir=Path(config_path).resolve().parent)


def publish(
    evaluation: Evaluation,
    output_dir: str | Path,
    *,
    config_path: str | Path,
    context: ReportContext | None = None,
    sections: tuple[Section, ...] | None = None,
) -> tuple[Path, Path]:
    """Write ``results.json`` and ``report.html`` into ``output_dir``; return their paths.

    ``context`` and ``sections`` may be passed when already built (the notebook shows the
    same sections), so nothing is computed twice.
    """
    from .sections import all_sections

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = context if context is not None else report_context(evaluation, config_path=config_path)
    sections = sections if sections is not None else all_sections(ctx)
    doc = evaluation.results_document()
    doc.extra["summary"] = summary_json(ctx, sections)
    doc.extra["provenance"] = ctx.provenance
    results = doc.write(out / "results.json")
    page = out / "report.html"
    tmp = page.with_suffix(".html.tmp")
    tmp.write_text(render_page(ctx, sections), encoding="utf-8")
    tmp.replace(page)
    return results, page
