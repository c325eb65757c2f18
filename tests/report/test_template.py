"""The evaluation notebook ships in the package, equal to the repository's copy, and thin."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from pilot_eval.report.run import default_notebook, notebook_parameters

REPO_COPY = Path(__file__).resolve().parents[2] / "notebooks" / "evaluate_pilot.ipynb"


def test_packaged_template_equals_the_repository_notebook():
    packaged = default_notebook()
    assert "pilot_eval" in packaged.parts and packaged.parts[-2] == "templates"
    assert packaged.read_bytes() == REPO_COPY.read_bytes(), (
        "notebooks/evaluate_pilot.ipynb and src/pilot_eval/report/templates/"
        "evaluate_pilot.ipynb differ: copy the one you edited over the other"
    )


def test_template_is_thin_and_declares_its_parameters():
    nb = json.loads(REPO_COPY.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code[0]["metadata"].get("tags") == ["parameters"]
    for cell in code:
        tree = ast.parse("".join(cell["source"]))
        defs = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef | ast.Lambda)
        ]
        assert not defs, "".join(cell["source"])
        assert not cell["outputs"], "the template is stored without outputs"
    assert set(notebook_parameters(REPO_COPY)) == {
        "config_path",
        "output_dir",
        "plugins",
        "scheduler",
    }
