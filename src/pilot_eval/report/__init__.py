"""The funders' report, built from one :class:`ReportContext`.

- :mod:`~pilot_eval.report.context`: the context every section, chart and map reads (alpha,
  power, the small-count threshold, names, the synthetic and illustrative flags);
- :mod:`~pilot_eval.report.sections`: the report section by section (summary first, then
  Effect, Mechanism, Moderators, Implementation, Economic cost, limitations, appendix);
- :mod:`~pilot_eval.report.blocks`: text, tables, figures, sections (escaped when rendered);
- :mod:`~pilot_eval.report.page`: the accessible, offline HTML page and :func:`publish`;
- :mod:`~pilot_eval.report.figures`, :mod:`~pilot_eval.report.maps`: charts and maps
  (areas and intervention sites, never incidents);
- :mod:`~pilot_eval.report.privacy`: small-count suppression;
- :mod:`~pilot_eval.report.run`: papermill run of the packaged notebook and atomic publish.
"""

from __future__ import annotations

from .blocks import Figure, Items, Section, Table, Text
from .context import ReportContext, build_context
from .page import publish, render_page, report_context
from .sections import all_sections

__all__ = [
    "Figure",
    "Items",
    "ReportContext",
    "Section",
    "Table",
    "Text",
    "all_sections",
    "build_context",
    "publish",
    "render_page",
    "report_context",
]
