"""The synthetic control with a level shift against a peer: scpi (Cattaneo, Feng, Palomba and
Titiunik; Python package scpi-pkg 4.0.0) on the same seeded panel.

scpi's output is stored in tests/reference/scpi_synth_reference.json by the script beside it
(run in its own virtual environment: scpi is not a dependency). Point estimates must agree:
simplex weights to 1e-4 (both solve the same constrained least squares, with different
solvers: scpi's cvxpy/ECOS vs ours), the constant and every post-month counterfactual to
1e-4 relative. Intervals are not compared number for number, because they answer different
questions: scpi's are prediction intervals for each post month's counterfactual (in- and
out-of-sample noise, Gaussian), ours is a conformal interval for the ratio over the whole post
period (Chernozhukov, Wüthrich and Zhu 2021). Ours must cover the true ratio (0.8) and the
peer's point ratio, and scpi's per-month bands must contain our counterfactual.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pilot_eval.inference.synth_conformal import synth_conformal

REF = Path(__file__).resolve().parents[1] / "reference"
TRUE_RATIO = 0.8  # tests/reference/make_synth_panel.py


@pytest.fixture(scope="module")
def ours_and_peer():
    panel = pd.read_csv(REF / "synth_panel.csv", parse_dates=["month"])
    peer = json.loads((REF / "scpi_synth_reference.json").read_text())
    return panel, synth_conformal(panel, outcome="simulated"), peer


def test_weights_and_level_shift_agree_with_scpi(ours_and_peer):
    _, ours, peer = ours_and_peer
    w = dict(zip(ours.weights["area"], ours.weights["weight"], strict=True))
    assert set(w) == set(peer["weights"])
    for area, v in peer["weights"].items():
        assert w[area] == pytest.approx(v, abs=1e-4), area
    assert ours.intercept == pytest.approx(peer["constant"], rel=1e-4)
    assert ours.treated_area == peer["treated"]


def test_counterfactual_and_ratio_agree_with_scpi(ours_and_peer):
    panel, ours, peer = ours_and_peer
    donors = panel[~panel["treated"] & (panel["group"] != "buffer")]
    post = donors[donors["post"]].pivot(index="month", columns="area", values="count")
    w = ours.weights.set_index("area")["weight"].reindex(post.columns).to_numpy()
    synthetic = ours.intercept + post.to_numpy() @ w
    np.testing.assert_allclose(synthetic, peer["synthetic_post"], rtol=1e-4)
    assert ours.ratio == pytest.approx(peer["ratio"], rel=1e-4)


def test_intervals_are_consistent(ours_and_peer):
    """Ours covers the true ratio and the peer's point ratio; scpi's per-month prediction
    bands for the counterfactual contain our counterfactual month by month."""
    panel, ours, peer = ours_and_peer
    assert ours.ci_low <= TRUE_RATIO <= ours.ci_high
    assert ours.ci_low <= peer["ratio"] <= ours.ci_high
    donors = panel[~panel["treated"] & (panel["group"] != "buffer")]
    post = donors[donors["post"]].pivot(index="month", columns="area", values="count")
    w = ours.weights.set_index("area")["weight"].reindex(post.columns).to_numpy()
    synthetic = ours.intercept + post.to_numpy() @ w
    band = peer["prediction_interval_gaussian"]
    assert np.all(np.asarray(band["low"]) <= synthetic)
    assert np.all(synthetic <= np.asarray(band["high"]))
