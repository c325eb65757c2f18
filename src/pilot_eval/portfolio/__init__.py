"""Many pilots at once: ``pilot-eval run-all`` (a batch with an index page) and
``pilot-eval plan`` (the minimum detectable effect of candidate designs, before a pilot starts).

Above :mod:`pilot_eval.report` in the layers: it runs :func:`pilot_eval.report.run.run_pilot`
per config and reads the published ``results.json`` files; only the CLI imports it.
"""

from __future__ import annotations

__all__: list[str] = []
