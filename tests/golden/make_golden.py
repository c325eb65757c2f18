"""Re-make the golden demo notebook that nbval checks (``make golden``).

Run after an intended change to the report's output, review the diff, commit it. The
notebook is executed on the SYNTHETIC demo data with paths relative to this folder, because
nbval runs notebooks with their own folder as the working directory.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TARGET = HERE / "evaluate_pilot_demo.ipynb"


def make_golden() -> Path:
    papermill.execute_notebook(
        str(ROOT / "notebooks" / "evaluate_pilot.ipynb"),
        str(TARGET),
        parameters={"config_path": "../../pilots/demo-belvedere.yml", "output_dir": ""},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(HERE),
    )
    nb = nbformat.read(TARGET, as_version=4)
    # Drop run-specific metadata (timings, paths) so the committed file only changes when
    # the report's content does.
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, TARGET)
    return TARGET


if __name__ == "__main__":
    print(f"Golden notebook written: {make_golden()}")
