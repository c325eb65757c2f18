"""The funders' report: wording, tables, charts and maps from an evaluation, and the run.

- :mod:`~pilot_eval.report.narrative`: plain-English text and published tables;
- :mod:`~pilot_eval.report.figures`, :mod:`~pilot_eval.report.maps`: charts and maps
  (areas and intervention sites, never incidents);
- :mod:`~pilot_eval.report.privacy`: small-count suppression for everything published;
- :mod:`~pilot_eval.report.run`: papermill run of the packaged template
  (``templates/evaluate_pilot.ipynb``), HTML export and atomic publish.

Submodules are imported on use (``from pilot_eval.report import narrative``), so importing
the package does not load matplotlib, folium or papermill.
"""

from __future__ import annotations
