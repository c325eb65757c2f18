"""Peer reference: scpi (Cattaneo, Feng, Palomba & Titiunik) on tests/reference/synth_panel.csv.

scpi-pkg is not a pilot-eval dependency (it pulls in cvxpy, plotnine, scikit-learn, dask);
run this in a virtual environment of its own and commit its output, as pyfixest keeps its
R comparisons::

    python3 -m venv /tmp/scpivenv && /tmp/scpivenv/bin/pip install scpi-pkg==4.0.0
    /tmp/scpivenv/bin/python tests/reference/make_scpi_reference.py

It fits a synthetic control with simplex weights and a constant (the level shift pilot-eval
uses) on the 36 months before the start, predicts the 12 after, and writes the weights, the
constant, the post-period counterfactual and scpi's prediction intervals to
``scpi_synth_reference.json``. tests/inference/test_synth_peer.py compares pilot-eval's
``synth_conformal`` with them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scpi_pkg.scdata import scdata
from scpi_pkg.scest import scest
from scpi_pkg.scpi import scpi

HERE = Path(__file__).resolve().parent


def main() -> Path:
    p = pd.read_csv(HERE / "synth_panel.csv", parse_dates=["month"])
    p = p[p["group"] != "buffer"].copy()
    months = sorted(p["month"].unique())
    p["t"] = p["month"].map({m: i + 1 for i, m in enumerate(months)})
    treated = p.loc[p["treated"], "area"].iloc[0]
    donors = sorted(set(p["area"]) - {treated})
    pre = p.loc[~p["post"], "t"].unique()
    post = p.loc[p["post"], "t"].unique()
    data = scdata(
        df=p.rename(columns={"count": "y"}),
        id_var="area",
        time_var="t",
        outcome_var="y",
        period_pre=np.sort(pre),
        period_post=np.sort(post),
        unit_tr=treated,
        unit_co=donors,
        constant=True,
        cointegrated_data=False,
    )
    est = scest(data, w_constr={"name": "simplex"})
    weights = {
        str(donor): float(v) for (_, donor), v in zip(est.w.index, est.w.iloc[:, 0], strict=True)
    }
    constant = float(est.r.iloc[0, 0])
    fit_post = np.asarray(est.Y_post_fit, dtype=float).ravel()
    y_post = p.loc[(p["area"] == treated) & p["post"]].sort_values("t")["count"]
    pi = scpi(data, w_constr={"name": "simplex"}, sims=200, e_method="gaussian", cores=1)
    ci = np.asarray(pi.CI_all_gaussian, dtype=float)
    lo, hi = ci[:, 0], ci[:, 1]
    out = {
        "package": "scpi-pkg 4.0.0 (pandas 2.2.3)",
        "treated": str(treated),
        "weights": weights,
        "constant": constant,
        "synthetic_post": fit_post.tolist(),
        "treated_post_total": float(y_post.sum()),
        "ratio": float(y_post.sum() / fit_post.sum()),
        "prediction_interval_gaussian": {"low": lo.tolist(), "high": hi.tolist()},
    }
    path = HERE / "scpi_synth_reference.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    return path


if __name__ == "__main__":
    print(main())
