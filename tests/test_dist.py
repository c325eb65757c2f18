"""pilot_eval._dist against scipy.stats and statsmodels (test-only peers) on the same inputs."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st
from statsmodels.stats.multitest import multipletests

from pilot_eval import _dist as d

RNG = np.random.default_rng(0)
X = RNG.normal(size=1000) * 3


def test_normal_and_chi2_tails_are_scipys_bits():
    q = RNG.random(200)
    assert np.array_equal(d.norm_sf(X), st.norm.sf(X))
    assert np.array_equal(d.norm_ppf(q), st.norm.ppf(q))
    for df in (1, 3, 17):
        assert np.array_equal(d.chi2_sf(np.abs(X) * 4, df), st.chi2.sf(np.abs(X) * 4, df))


def test_poisson_pmf_and_hypergeometric_log_pmf():
    k = np.arange(0, 80.0)
    np.testing.assert_allclose(d.poisson_pmf(k, 12.3), st.poisson.pmf(k, 12.3), rtol=1e-13)
    kk = np.arange(0, 31)
    np.testing.assert_allclose(
        d.hypergeom_logpmf(kk, 200, 80, 30), st.hypergeom.logpmf(kk, 200, 80, 30), atol=1e-12
    )


def test_rank_max_as_scipy_rankdata_with_ties():
    v = RNG.integers(0, 20, size=500).astype(float)
    assert np.array_equal(d.rank_max(v), st.rankdata(v, method="max"))
    assert d.rank_max(np.array([])).size == 0


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("bonferroni", "bonferroni"),
        ("holm", "holm"),
        ("hochberg", "simes-hochberg"),
        ("BH", "fdr_bh"),
        ("BY", "fdr_by"),
    ],
)
def test_p_adjust_as_statsmodels_multipletests(ours, theirs):
    for p in (np.round(RNG.random(300) ** 3, 3), RNG.random(7), np.array([0.2])):
        np.testing.assert_allclose(
            d.p_adjust(p, ours), multipletests(p, method=theirs)[1], atol=1e-15
        )
