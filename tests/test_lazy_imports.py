"""The report path never imports scipy.stats or statsmodels (about a second each per kernel).

They are needed only for the negative-binomial family and the Hommel adjustment, which the
report does not use; ``pilot_eval._dist`` holds the distribution functions it does use.
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import json, sys
import pilot_eval as pe
from pilot_eval import report
prepared = pe.prepare(sys.argv[1])
evaluation = pe.evaluate(prepared)
context = report.report_context(evaluation, config_path=sys.argv[1])
report.all_sections(context)
print(json.dumps(sorted(m for m in ("scipy.stats", "statsmodels") if m in sys.modules)))
"""


def test_the_demo_report_imports_neither_scipy_stats_nor_statsmodels(demo_pilot):
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(demo_pilot.config_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
