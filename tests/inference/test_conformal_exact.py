"""Conformal confidence set inverted exactly: 1 is always tested, the ends are located to
``END_RTOL`` between grid values, and "the interval excludes 1" agrees with the p-value.

The rule under test (the one :func:`conformal_inference` uses for both): with ``T`` months and
``k`` the order statistic giving the real level ``1 - 2k/T`` (two-sided; ``1 - k/T``
one-sided), a null is rejected iff its p-value is at most ``alpha = 1 - level`` (the real
level). P-values are multiples of ``1/T`` (two-sided: of ``2/T``), so for the designs here
where the real level is at least the requested 95 % (``T = 48``: 0.958, ``T = 42``: 0.952)
this is the same as ``p < 0.05``; for ``T = 36`` the closest real level is 0.944 and the
threshold is its ``alpha = 2/36``.
"""

from __future__ import annotations

import numpy as np
import pytest

from pilot_eval.inference import conformal_arrays, conformal_inference
from pilot_eval.inference.conformal import END_RTOL
from pilot_eval.simulate import simulate_panels

#: (n_pre, n_post, means, treated index): T = 48, 42, 36; small, middling and large areas.
DESIGNS = [
    (36, 12, (5.0, 40.0), None),
    (30, 12, (5.0, 40.0), [4]),
    (24, 12, (3.0, 30.0), [12]),
    (36, 12, (10.0, 80.0), [2]),
]
EFFECTS = (1.0, 0.8, 0.75)
N_REPS = 60  # 4 designs x 3 effects x 60 = 720 panels


def _rejected(p: float, level: float) -> bool:
    return p <= 1.0 - level + 1e-12


def _cases():
    for d, (n_pre, n_post, means, treated) in enumerate(DESIGNS):
        for e, effect in enumerate(EFFECTS):
            sim = simulate_panels(
                n_pre=n_pre,
                n_post=n_post,
                means=means,
                treated=treated,
                effect=effect,
                n_reps=N_REPS,
                seed=1000 + 10 * d + e,
            )
            for r in range(N_REPS):
                yield sim, r


def test_interval_excludes_one_iff_the_two_sided_p_rejects_no_change():
    n, near_one, excluded = 0, 0, 0
    for sim, r in _cases():
        res = conformal_inference(sim.panel(r), level=0.95)
        n += 1
        grid = res.grid.set_index("null_irr")
        assert 1.0 in grid.index  # no change is always tested exactly
        assert bool(grid.loc[1.0, "in_set"]) == (not _rejected(res.p_two_sided, res.level))
        assert grid.loc[1.0, "p_two_sided"] == res.p_two_sided
        assert res.contiguous
        excludes = res.ci_low > 1.0 or res.ci_high < 1.0
        assert excludes == _rejected(res.p_two_sided, res.level), (n, res.ci_low, res.ci_high)
        if res.level >= 0.95:  # the real level reaches 95 %: the same as p < 0.05
            assert excludes == (res.p_two_sided < 0.05)
        # the reported ends are accepted grid rows
        inside = grid.index[grid["in_set"]]
        if res.bounded:
            assert inside.min() == res.ci_low and inside.max() == res.ci_high
        near_one += min(abs(res.ci_low - 1), abs(res.ci_high - 1)) < 0.03
        excluded += excludes
    assert n >= 500
    # the simulation exercises the boundary: many ends near 1, and both outcomes
    assert near_one >= 30 and 50 <= excluded <= n - 50


def test_one_sided_bound_excludes_one_iff_the_one_sided_p_rejects():
    for i, (sim, r) in enumerate(_cases()):
        if i % 4:
            continue
        res = conformal_inference(sim.panel(r), interval="one-sided")
        assert res.ci_low == 0.0
        assert (res.ci_high < 1.0) == _rejected(res.p_one_sided, res.level)


def _min_one_sided(sim, nulls):
    arr = conformal_arrays(sim.counts[0], treated=sim.treated, post=sim.post, null_irr=nulls)
    return np.minimum(arr.p_decrease, arr.p_increase)


@pytest.mark.parametrize("effect", [0.75, 1.0])
def test_reported_ends_are_the_boundary_of_the_accepted_set(effect):
    sim = simulate_panels(effect=effect, seed=1)
    res = conformal_inference(sim.panel(0))
    assert res.level == pytest.approx(1 - 2 / 48)  # k = 1: accept iff min one-sided p >= 2/48
    assert res.bounded and res.ci_low < res.irr < res.ci_high
    threshold = 1.5 / 48
    eps = 1e-7  # 1000 x END_RTOL
    assert END_RTOL <= 1e-10
    for end, inward in ((res.ci_low, 1 + eps), (res.ci_high, 1 - eps)):
        outward = 2 - inward
        p_end, p_in, p_out = _min_one_sided(sim, np.array([end, end * inward, end * outward]))
        assert p_end > threshold and p_in > threshold  # the end and just inside: accepted
        assert p_out < threshold  # just outside: rejected
    # the ends are strictly between grid values of the default grid, not on it
    default = np.geomspace(0.3, 3.0, 401)
    assert np.min(np.abs(default - res.ci_low)) > 1e-6
    assert np.min(np.abs(default - res.ci_high)) > 1e-6


def test_user_grid_gets_one_and_the_null():
    sim = simulate_panels(effect=0.8, seed=3)
    res = conformal_inference(sim.panel(0), grid=np.geomspace(0.4, 2.5, 50), null_irr=0.9)
    nulls = set(res.grid["null_irr"])
    assert 1.0 in nulls and 0.9 in nulls
    row = res.grid.set_index("null_irr").loc[0.9]
    assert row["p_two_sided"] == res.p_two_sided
    assert (res.ci_low > 0.9 or res.ci_high < 0.9) == _rejected(res.p_two_sided, res.level)
