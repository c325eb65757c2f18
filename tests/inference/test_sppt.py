"""Andresen's spatial point pattern test (S index) and sppt_diff against the R package sppt.

References (tests/reference/sppt/README.md says where every number comes from): the toy
tables printed in sppt's README and vignettes, the Java SPPT application's per-tract output
for sppt's Vancouver census-tract data, and the S values printed in sppt's vignettes for the
Vancouver dissemination-area burglary data. sppt draws with R's RNG, so its Monte Carlo
results are matched in distribution (tolerances from our own seed-to-seed spread), and its
deterministic results (shares, counts, sppt_diff) exactly.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from pilot_eval.errors import DataValidationError, OptionError
from pilot_eval.inference.sppt import SPPTResult, _interval_ranks, andresen_s, sppt_diff
from pilot_eval.results import Result

REF = Path(__file__).resolve().parents[1] / "reference" / "sppt"


def _points(units, counts) -> list:
    """One entry per point: each unit's code repeated by its count."""
    return list(np.repeat(np.asarray(list(units), dtype=object), np.asarray(counts, dtype=int)))


@pytest.fixture(scope="module")
def toy() -> pd.DataFrame:
    return pd.read_csv(REF / "toy_published.csv")


@pytest.fixture(scope="module")
def ct() -> pd.DataFrame:
    return pd.read_csv(REF / "vancouver_ct_java.csv", dtype={"CTUID": str})


@pytest.fixture(scope="module")
def da() -> pd.DataFrame:
    return pd.read_csv(REF / "vancouver_da_counts.csv", dtype={"DAUID": str})


# -- published results: sppt's toy data ---------------------------------------------------------
# Each test sample drops one (of 9, 8) or two (of 4) points, so every subsample share takes one
# of two values and the interval ends are known: a correct implementation misses them only if
# fewer than 6 of 200 replications drop a given point, P <= P(Bin(200, 1/9) <= 5) = 5.7e-6 per
# unit and seed (README.md). Printed values have 7 significant digits.
@pytest.mark.parametrize("case", ["readme", "reversed", "intro_subset"])
@pytest.mark.parametrize("seed", range(10))
def test_toy_data_reproduce_the_tables_sppt_prints(toy, case, seed):
    ref = toy[toy["case"] == case].reset_index(drop=True)
    units = [str(a) for a in ref["area_id"]]
    res = andresen_s(
        _points(units, ref["n_base"]),
        _points(units, ref["n_test"]),
        units=units,
        replications=200,
        seed=seed,
    )
    got = res.tidy()
    assert list(got["unit"]) == units
    assert list(got["n_base"]) == list(ref["n_base"])
    assert got["base_pct"].to_numpy() == pytest.approx(ref["PctBsePts"], abs=5e-6)
    assert got["test_pct"].to_numpy() == pytest.approx(ref["PctTstPts"], abs=5e-6)
    assert got["lower_pct"].to_numpy() == pytest.approx(ref["ConfLowP"], abs=5e-6)
    assert got["upper_pct"].to_numpy() == pytest.approx(ref["ConfUppP"], abs=5e-6)
    assert list(got["local_s"]) == list(ref["localS"])  # sppt's localS = -SIndex
    assert list(got["similar"].astype(int)) == list(ref["similarity"])
    assert res.s_index == pytest.approx(ref["globalS"].iloc[0], abs=5e-8)
    assert res.robust_s_index == pytest.approx(ref["globalS_robust"].iloc[0], abs=5e-8)


def test_toy_data_with_the_default_100_replications(toy):
    # ranks 3 and 98 of 100; miss probability P(Bin(100, 1/9) <= 2) = 7e-4 per unit and seed
    ref = toy[toy["case"] == "readme"]
    units = [str(a) for a in ref["area_id"]]
    res = andresen_s(_points(units, ref["n_base"]), _points(units, ref["n_test"]), units=units)
    assert res.options["interval_ranks"] == (3, 98)
    assert res.options["sample_points"] == 8  # round(0.85 * 9), Java: "8 test point used"
    assert res.s_index == pytest.approx(5 / 6)
    assert list(res.tidy()["direction"]) == ["similar", "lower", *["similar"] * 4]


# -- published results: Vancouver census tracts (Java SPPT output, sppt's comparison vignette) --
def test_vancouver_tracts_shares_and_sample_size_match_java_exactly(ct):
    units = list(ct["CTUID"])
    res = andresen_s(
        _points(units, ct["NumBsePts"]), _points(units, ct["NumTstPts"]), units=units, seed=1
    )
    got = res.tidy()
    assert got["base_pct"].to_numpy() == pytest.approx(ct["PctBsePts"], rel=1e-12)
    assert got["test_pct"].to_numpy() == pytest.approx(ct["PctTstPts"], rel=1e-12)
    # Java: "Have read in 14584 base points, 14782 test points (12565 test point used)"
    assert (res.n_base_points, res.n_test_points) == (14584, 14782)
    assert res.options["sample_points"] == 12565
    assert (res.n_units, res.n_robust_units) == (108, 107)


@pytest.fixture(scope="module")
def ct_runs(ct):
    units = list(ct["CTUID"])
    base, test = _points(units, ct["NumBsePts"]), _points(units, ct["NumTstPts"])
    runs = [andresen_s(base, test, units=units, replications=200, seed=s) for s in range(100)]
    frames = [r.tidy() for r in runs]
    return {
        "s": np.array([r.s_index for r in runs]),
        "lower": np.array([f["lower_pct"].to_numpy() for f in frames]),
        "upper": np.array([f["upper_pct"].to_numpy() for f in frames]),
        "similar": np.array([f["similar"].to_numpy() for f in frames]),
        "local_s": np.array([f["local_s"].to_numpy() for f in frames]),
    }


def test_vancouver_tracts_java_intervals_are_draws_from_ours(ct, ct_runs):
    # Java's interval ends, standardised by the mean and spread of ours over 100 seeds, should
    # look like draws of the same order statistics: mean near 0 (se about 1/sqrt(108) = 0.1),
    # spread near 1. Measured: mean 0.01 / 0.03, sd 0.90 / 0.94 (400 seeds).
    for ours, java in (("lower", "ConfLowP"), ("upper", "ConfUppP")):
        sims = ct_runs[ours]
        spread = sims.std(0, ddof=1)
        fixed = spread == 0  # the tract with no test point: [0, 0] in every run
        assert fixed.sum() <= 1
        assert np.array_equal(ct[java].to_numpy()[fixed], sims[0, fixed])
        z = (ct[java].to_numpy()[~fixed] - sims.mean(0)[~fixed]) / spread[~fixed]
        assert abs(z.mean()) < 0.35, ours
        assert 0.7 < z.std() < 1.3, ours
    width = (ct_runs["upper"] - ct_runs["lower"]).mean(0)
    has_width = width > 0
    width_ratio = (ct["ConfUppP"] - ct["ConfLowP"]).to_numpy()[has_width] / width[has_width]
    assert np.median(width_ratio) == pytest.approx(1.0, abs=0.05)  # measured 1.008


def test_vancouver_tracts_agree_with_java_and_r_unit_by_unit(ct, ct_runs):
    # Java's SIndex is -localS. R's run (seed 39346) differs from Java's in one tract only,
    # 9330014.01, similar in R (vignette sppt_comparison).
    java_local = -ct["SIndex"].to_numpy()
    r_local = np.where(ct["CTUID"] == "9330014.01", 0, java_local)
    p_similar = ct_runs["similar"].mean(0)
    stable = (p_similar <= 0.05) | (p_similar >= 0.95)
    assert stable.sum() >= 100  # only a handful of tracts sit on an interval end
    # the outcome our runs give most often: similar, or the direction of the dissimilar runs
    modal = np.where(p_similar >= 0.5, 0, np.sign(ct_runs["local_s"].sum(0)))
    assert np.array_equal(modal[stable], java_local[stable])
    assert np.array_equal(modal[stable], r_local[stable])
    # the one tract where R and Java disagree is a coin toss for us too
    assert 0.05 < p_similar[ct["CTUID"] == "9330014.01"][0] < 0.95


def test_vancouver_tracts_published_s_values_are_plausible_draws(ct_runs):
    s = ct_runs["s"] * 108  # similar tracts; ours: mean 21.2, sd 1.0
    for published in (20, 19):  # R globalS 0.1851852 = 20/108; Java 0.17592592592592593
        assert abs(published - s.mean()) < 3 * s.std(ddof=1)
    assert s.min() <= 20 <= s.max()


# -- published results: Vancouver dissemination areas (sppt's intro and sppt_diff vignettes) ----
def test_vancouver_das_sppt_diff_matches_the_published_s_exactly(da):
    # vignette sppt_diff: sppt_diff(burglary2003, burglary2016, das, adj = "none") -> 0.8466196
    units = list(da["DAUID"])
    base, test = _points(units, da["n_2003"]), _points(units, da["n_2016"])
    res = sppt_diff(base, test, units=units, adjust="none")
    assert res.s_index == pytest.approx(0.8466196, abs=5e-8)
    assert round(res.s_index * 991) == 839
    assert res.n_units - res.n_robust_units == 3  # 286/988 = 0.2894737 below implies 3


def test_vancouver_das_andresen_s_matches_the_published_runs(da):
    units = list(da["DAUID"])
    base, test = _points(units, da["n_2003"]), _points(units, da["n_2016"])
    runs = [andresen_s(base, test, units=units, replications=200, seed=s) for s in range(40)]
    s = np.array([r.s_index for r in runs]) * 991  # ours: mean 284, sd 4.3
    # intro vignette (seed 244): 0.2916246 = 289/991, robust 0.2894737 = 286/988;
    # sppt_diff vignette (seed 547347): 0.2896065 = 287/991
    for published in (289, 287):
        assert abs(published - s.mean()) < 3 * s.std(ddof=1)
    for r in runs:  # robust S drops the 3 empty areas, which are always similar
        assert r.robust_s_index == pytest.approx((r.s_index * 991 - 3) / 988)
    # The first 10 areas as printed (seed 244): intervals in points of the 2544-point sample.
    m = runs[0].options["sample_points"]
    assert m == 2544
    pub_local = [-1, -1, 0, -1, 0, -1, -1, -1, -1, 1]
    pub_lower = np.array([0, 0, 0, 2, 0, 0, 0, 0, 0, 4])
    pub_upper = np.array([1, 0, 2, 4, 2, 0, 0, 1, 0, 7])
    for r in runs:
        head = r.tidy().iloc[:10]
        assert list(head["n_base"]) == [14, 1, 3, 16, 3, 8, 14, 7, 4, 7]
        assert list(head["n_test"]) == [1, 0, 2, 4, 2, 0, 0, 1, 0, 7]
        assert list(head["local_s"]) == pub_local
        assert np.array_equal(np.rint(head["upper_pct"] * m / 100), pub_upper)
        # the lower end is the 6th of 200 order statistics of small counts: one point either way
        assert np.all(np.abs(np.rint(head["lower_pct"] * m / 100) - pub_lower) <= 1)


def test_vancouver_das_subset_matches_the_published_run(da):
    # intro vignette: sppt(burglary2003[1:400, ], burglary2016[1:150, ], das), seed 244:
    # globalS 0.8133199 = 806/991, robust 0.2025862 = 47/232, "232 areas" with any point
    units = list(da["DAUID"])
    base = _points(units, da["n_2003_first400"])
    test = _points(units, da["n_2016_first150"])
    runs = [andresen_s(base, test, units=units, replications=200, seed=s) for s in range(100)]
    assert {r.n_robust_units for r in runs} == {232}
    s = np.array([r.s_index for r in runs]) * 991  # ours: mean 803.4, sd 1.3 (2000 seeds)
    assert abs(806 - s.mean()) < 3 * s.std(ddof=1)
    assert s.min() <= 806 <= s.max()
    robust = np.array([r.robust_s_index for r in runs]) * 232
    assert np.allclose(robust, s - 759)  # the 759 areas with no point are all similar


# -- exact, hand-checkable cases -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("replications", "level", "ranks"),
    [
        (200, 0.95, (6, 195)),  # sppt: "with 200 simulations ... select column nr 6 and 195"
        (100, 0.95, (3, 98)),  # sppt: "with 100 simulations ... select column 3 and 98"
        (100, 0.90, (6, 95)),  # (1 - 0.9) / 2 * 100 is 4.999999999999999 in binary
        (1000, 0.99, (6, 995)),
        (20, 0.95, (1, 20)),
        (1, 0.95, (1, 1)),
    ],
)
def test_interval_ranks_follow_sppt(replications, level, ranks):
    assert _interval_ranks(replications, level) == ranks


def test_interval_ends_are_those_order_statistics_of_the_replicates():
    units = ["A", "B", "C", "D"]
    test = _points(units, [30, 20, 7, 0])
    res = andresen_s(_points(units, [10, 10, 10, 10]), test, units=units, replications=57, seed=5)
    reps = res.replicates
    assert reps.shape == (57, 4)
    m = res.options["sample_points"]
    assert m == round(0.85 * 57)  # 48.45 -> 48
    counts = reps * m / 100
    assert np.allclose(counts, np.rint(counts))
    assert np.all(np.rint(counts).sum(1) == m)
    assert np.all(np.rint(counts) <= [30, 20, 7, 0])  # without replacement
    lo, hi = res.options["interval_ranks"]
    assert (lo, hi) == (math.floor(0.025 * 57) + 1, math.ceil(0.975 * 57)) == (2, 56)
    ordered = np.sort(reps, axis=0)
    got = res.tidy()
    assert np.array_equal(got["lower_pct"], ordered[lo - 1])
    assert np.array_equal(got["upper_pct"], ordered[hi - 1])
    inside = (got["base_pct"] >= got["lower_pct"]) & (got["base_pct"] <= got["upper_pct"])
    assert np.array_equal(got["similar"], inside)


def test_every_point_in_one_unit_gives_s_of_one_for_any_seed():
    units = ["A", "B", "C"]
    for seed in range(5):
        res = andresen_s(["A"] * 7, ["A"] * 40, units=units, seed=seed)
        got = res.tidy()
        assert res.s_index == 1.0 and res.robust_s_index == 1.0 and res.n_robust_units == 1
        assert list(got["lower_pct"]) == [100.0, 0.0, 0.0]
        assert list(got["upper_pct"]) == [100.0, 0.0, 0.0]


def test_a_unit_with_no_test_points_is_always_dissimilar():
    # Wheeler et al. (2018)'s point 2: the interval is [0, 0], so any base point there differs.
    units = ["A", "B"]
    res = andresen_s(["A"] * 99 + ["B"], ["A"] * 50, units=units, seed=3)
    row = res.tidy().set_index("unit").loc["B"]
    assert (row["lower_pct"], row["upper_pct"]) == (0.0, 0.0)
    assert row["direction"] == "lower" and not row["similar"]
    # sppt_diff does not flag one point in a hundred
    assert sppt_diff(["A"] * 99 + ["B"], ["A"] * 50, units=units).s_index == 1.0


def test_lower_end_probability_matches_its_closed_form():
    # Unit A holds 2 of 150 test points and no base point; subsamples of 128 drop both with
    # probability q = C(148, 126) / C(150, 128) = 22 * 21 / (150 * 149), and A is similar iff
    # its lower end (the 6th of 200 sorted shares) is 0, i.e. at least 6 of 200 draws drop
    # both: P = P(Bin(200, q) >= 6) = 0.2347.
    q = 22 * 21 / (150 * 149)
    expected = stats.binom.sf(5, 200, q)
    units = ["A", "B"]
    base, test = ["B"] * 20, ["A"] * 2 + ["B"] * 148
    hits = [
        andresen_s(base, test, units=units, replications=200, seed=s).tidy()["similar"].iloc[0]
        for s in range(400)
    ]
    se = math.sqrt(expected * (1 - expected) / 400)
    assert np.mean(hits) == pytest.approx(expected, abs=4 * se)


def test_resample_base_swaps_the_roles_of_the_periods(toy):
    # sppt(points2, points1) resamples points1: the same as resampling the base of (1, 2).
    ref = toy[toy["case"] == "reversed"]
    units = [str(a) for a in ref["area_id"]]
    points1, points2 = _points(units, ref["n_test"]), _points(units, ref["n_base"])
    res = andresen_s(points1, points2, units=units, resample="base", replications=200)
    got = res.tidy()
    assert res.options["sample_points"] == 7
    assert got["lower_pct"].to_numpy() == pytest.approx(ref["ConfLowP"], abs=5e-6)
    assert got["upper_pct"].to_numpy() == pytest.approx(ref["ConfUppP"], abs=5e-6)
    # the direction still reads test (points2) against base (points1): the opposite sign
    assert list(got["local_s"]) == list(-ref["localS"])
    assert res.s_index == pytest.approx(0.5)


# -- sppt_diff by hand ------------------------------------------------------------------------------
def _table(nb, nt, tot_b, tot_t):
    return np.array([[nb, nt], [tot_b - nb, tot_t - nt]])


def test_sppt_diff_p_values_by_hand():
    units = ["A", "B", "C", "D"]
    nb, nt = np.array([30, 12, 8, 0]), np.array([18, 25, 9, 0])
    base, test = _points(units, nb), _points(units, nt)
    tb, tt = nb.sum(), nt.sum()
    n = tb + tt
    chi2 = sppt_diff(base, test, units=units, test_method="chi2", adjust="none").tidy()
    nmin1 = sppt_diff(base, test, units=units, test_method="chi2_nmin1", adjust="none").tidy()
    yates = sppt_diff(base, test, units=units, test_method="yates", adjust="none").tidy()
    fisher = sppt_diff(base, test, units=units, test_method="fisher", adjust="none").tidy()
    for i in range(3):
        tab = _table(nb[i], nt[i], tb, tt)
        x2, p, _, _ = stats.chi2_contingency(tab, correction=False)
        assert chi2["p_value"][i] == pytest.approx(p, rel=1e-10)
        assert nmin1["p_value"][i] == pytest.approx(stats.chi2.sf(x2 * (n - 1) / n, 1), rel=1e-10)
        _, py, _, _ = stats.chi2_contingency(tab, correction=True)
        assert yates["p_value"][i] == pytest.approx(py, rel=1e-10)
        assert fisher["p_value"][i] == pytest.approx(stats.fisher_exact(tab)[1], rel=1e-9)
    # the empty unit: chi-square undefined (NaN, similar), Fisher p = 1
    assert np.isnan(chi2["p_value"][3]) and chi2["similar"][3]
    assert fisher["p_value"][3] == 1.0
    # A's share fell (30/50 -> 18/52), B's rose; both are significant unadjusted
    assert list(chi2["direction"][:2]) == ["lower", "higher"]


def test_sppt_diff_by_adjustment_by_hand():
    units = [f"U{i}" for i in range(6)]
    nb = np.array([40, 30, 25, 20, 10, 5])
    nt = np.array([20, 28, 30, 22, 25, 5])
    res = sppt_diff(_points(units, nb), _points(units, nt), units=units, adjust="BY").tidy()
    p = res["p_value"].to_numpy()
    k = len(p)
    order = np.argsort(p)
    c = sum(1 / i for i in range(1, k + 1))
    scaled = p[order] * c * k / np.arange(1, k + 1)
    by = np.minimum(1, np.minimum.accumulate(scaled[::-1])[::-1])
    expected = np.empty(k)
    expected[order] = by
    assert res["p_adjusted"].to_numpy() == pytest.approx(expected, rel=1e-12)
    alpha = 0.05
    assert np.array_equal(res["similar"], ~((p < alpha) & (expected < alpha)))


def test_sppt_diff_is_symmetric_in_the_periods():
    units = ["A", "B", "C"]
    base, test = _points(units, [50, 20, 5]), _points(units, [20, 40, 9])
    one, two = sppt_diff(base, test, units=units), sppt_diff(test, base, units=units)
    assert one.s_index == two.s_index
    assert np.allclose(one.tidy()["p_value"], two.tidy()["p_value"])
    assert list(one.tidy()["local_s"]) == list(-two.tidy()["local_s"])


# -- seeded known-effect simulations ---------------------------------------------------------------
K_UNITS = 40
UNITS = [f"U{i:02d}" for i in range(K_UNITS)]
_W = np.random.default_rng(123).gamma(4.0, size=K_UNITS)
SHARES = _W / _W.sum()


def _same_process(n: int, seed: int) -> tuple[list, list]:
    rng = np.random.default_rng(seed)
    return _points(UNITS, rng.multinomial(n, SHARES)), _points(UNITS, rng.multinomial(n, SHARES))


def test_same_process_andresen_s_is_well_below_one_as_theory_predicts():
    # Both periods from one multinomial, 200 points per unit on average. The base share's
    # difference from the test share has sd sigma * sqrt(2); the 85 % subsample interval
    # half-width is z * sigma * sqrt(0.15 / 0.85). So P(similar) = 2 Phi(z sqrt(0.15/0.85/2)) - 1
    # = 0.44, far below conf_level: the test is anti-conservative (Wheeler et al. 2018 Table;
    # sppt's vignette "Proportion difference tests" reports 0.43). Measured: 0.444 (40 data sets).
    z = stats.norm.ppf(0.975)
    predicted = 2 * stats.norm.cdf(z * math.sqrt(0.15 / 0.85 / 2)) - 1
    s = [andresen_s(*_same_process(8000, 1000 + i), units=UNITS, seed=i).s_index for i in range(30)]
    # se of the mean: about 0.07 / sqrt(30) = 0.013
    assert np.mean(s) == pytest.approx(predicted, abs=0.05)
    assert max(s) < 0.8


def test_same_process_sppt_diff_is_near_one():
    # A calibrated per-unit test: about 95 % of units similar unadjusted, all after BY.
    raw, by = [], []
    for i in range(30):
        base, test = _same_process(8000, 2000 + i)
        raw.append(sppt_diff(base, test, units=UNITS, adjust="none").s_index)
        by.append(sppt_diff(base, test, units=UNITS).s_index)
    assert np.mean(raw) == pytest.approx(0.95, abs=0.025)  # measured 0.963; se 0.006
    assert np.mean(by) >= 0.98  # measured 1.0
    assert min(by) >= 0.8


def _shifted(seed: int) -> tuple[list, list, list]:
    """20 equal units, 500 points each per period; 30 % of U00-U02's test points moved to U19."""
    units = [f"U{i:02d}" for i in range(20)]
    rng = np.random.default_rng(seed)
    nb = rng.multinomial(10_000, np.full(20, 0.05))
    nt = rng.multinomial(10_000, np.full(20, 0.05))
    moved = np.rint(0.3 * nt[:3]).astype(int)
    nt[:3] -= moved
    nt[19] += moved.sum()
    return units, _points(units, nb), _points(units, nt)


@pytest.mark.parametrize("seed", range(5))
def test_displacement_is_flagged_in_the_right_units_and_direction(seed):
    units, base, test = _shifted(seed)
    expected = {"U00": "lower", "U01": "lower", "U02": "lower", "U19": "higher"}
    for res in (
        andresen_s(base, test, units=units, seed=seed),
        andresen_s(base, test, units=units, seed=seed, resample="base"),
        sppt_diff(base, test, units=units),
        sppt_diff(base, test, units=units, test_method="fisher"),
    ):
        got = res.tidy().set_index("unit")["direction"]
        assert {u: got[u] for u in expected} == expected, res.method
        assert res.s_index <= 0.8
    # the calibrated test flags nothing else
    diff = sppt_diff(base, test, units=units).tidy()
    assert set(diff.loc[~diff["similar"], "unit"]) == set(expected)
    assert sppt_diff(base, test, units=units).s_index == pytest.approx(16 / 20)


def test_displacement_lowers_s_against_the_same_process():
    units, base, test = _shifted(7)
    rng = np.random.default_rng(7)
    null_test = _points(units, rng.multinomial(10_000, np.full(20, 0.05)))
    for seed in range(3):
        shifted = andresen_s(base, test, units=units, seed=seed)
        null = andresen_s(base, null_test, units=units, seed=seed)
        assert shifted.n_higher + shifted.n_lower >= 4
        # U19 gains 450 points (+4.5 points of share): flagged with the shift, not without
        assert shifted.tidy().set_index("unit").loc["U19", "direction"] == "higher"
        assert null.tidy().set_index("unit").loc["U19", "test_pct"] < 6.0
    s_null = sppt_diff(base, null_test, units=units).s_index
    s_shift = sppt_diff(base, test, units=units).s_index
    assert s_null >= 0.9 and s_shift == pytest.approx(0.8)


# -- options and data --------------------------------------------------------------------------------
BASE = ["A", "A", "B", "C"]
TEST = ["A", "B", "B", "C"]
UNITS3 = ["A", "B", "C"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"samplesize": 0}, "samplesize"),
        ({"samplesize": 1.0}, "samplesize"),
        ({"samplesize": 85}, "samplesize"),
        ({"samplesize": "0.85"}, "samplesize"),
        ({"replications": 0}, "replications"),
        ({"replications": 10.5}, "replications"),
        ({"replications": True}, "replications"),
        ({"conf_level": 95}, "conf_level"),
        ({"conf_level": 1.0}, "conf_level"),
        ({"resample": "Test"}, "Did you mean 'test'"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_andresen_s_bad_options_raise_option_error(kwargs, match):
    with pytest.raises(OptionError, match=match):
        andresen_s(BASE, TEST, units=UNITS3, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"test_method": "Fisher"}, "Did you mean 'fisher'"),
        ({"test_method": "t"}, "test_method"),
        ({"adjust": "by"}, "Did you mean 'BY'"),
        ({"adjust": "fdr"}, "adjust"),
        ({"conf_level": 0}, "conf_level"),
    ],
)
def test_sppt_diff_bad_options_raise_option_error(kwargs, match):
    with pytest.raises(OptionError, match=match):
        sppt_diff(BASE, TEST, units=UNITS3, **kwargs)


@pytest.mark.parametrize("fn", [andresen_s, sppt_diff])
@pytest.mark.parametrize(
    ("base", "test", "units", "match"),
    [
        (["A", "Z"], TEST, UNITS3, r"1 base point\(s\) are in units not listed.*'Z'"),
        (BASE, ["A", 1], UNITS3, r"test point\(s\) are in units not listed.*text vs numbers"),
        (["A", None], TEST, UNITS3, "no unit code"),
        ([], TEST, UNITS3, "base period has no points"),
        (BASE, pd.Series([], dtype=object), UNITS3, "test period has no points"),
        (BASE, TEST, [], "units is empty"),
        (BASE, TEST, ["A", "B", "C", "A"], "more than once"),
        (BASE, TEST, ["A", "B", None], "missing value"),
        (BASE, TEST, "ABC", "list of every areal unit"),
        ("A", TEST, UNITS3, "single string"),
    ],
)
def test_bad_data_raise_data_validation_error(fn, base, test, units, match):
    with pytest.raises(DataValidationError, match=match):
        fn(base, test, units=units)


def test_a_subsample_with_no_point_is_refused():
    with pytest.raises(DataValidationError, match="subsample.*holds no point"):
        andresen_s(BASE, ["A"], units=UNITS3, samplesize=0.4)


def test_units_with_no_points_count_in_s_but_not_in_robust_s():
    units = [*UNITS3, "D", "E"]
    res = andresen_s(BASE, TEST, units=units, replications=200)
    small = andresen_s(BASE, TEST, units=UNITS3, replications=200)
    got = res.tidy().set_index("unit")
    assert list(got.loc[["D", "E"], "n_base"]) == [0, 0]
    assert got.loc[["D", "E"], "similar"].all()
    assert (res.n_units, res.n_robust_units) == (5, 3)
    assert res.s_index == pytest.approx((small.s_index * 3 + 2) / 5)
    assert res.robust_s_index == pytest.approx(small.robust_s_index)


def test_seeded_runs_are_reproducible_and_seeds_matter():
    units, base, test = _shifted(0)
    one = andresen_s(base, test, units=units, seed=11)
    two = andresen_s(base, test, units=units, seed=11)
    other = andresen_s(base, test, units=units, seed=12)
    pd.testing.assert_frame_equal(one.tidy(), two.tidy())
    assert np.array_equal(one.replicates, two.replicates)
    assert not np.array_equal(one.replicates, other.replicates)


def test_inputs_are_not_mutated_and_series_work_like_lists():
    base = pd.Series(BASE * 5, index=range(100, 120), name="area")
    test = pd.Series(TEST * 5, dtype="category")
    units = list(UNITS3)
    copies = base.copy(), test.copy(), list(units)
    res = andresen_s(base, test, units=units, seed=2)
    pd.testing.assert_series_equal(base, copies[0])
    pd.testing.assert_series_equal(test, copies[1])
    assert units == copies[2]
    as_lists = andresen_s(list(base), list(test), units=tuple(units), seed=2)
    pd.testing.assert_frame_equal(res.tidy(), as_lists.tidy())
    diff = sppt_diff(base, test, units=units)
    pd.testing.assert_frame_equal(
        diff.tidy(), sppt_diff(list(base), list(test), units=units).tidy()
    )


def test_result_contract():
    res = andresen_s(BASE, TEST, units=UNITS3)
    assert isinstance(res, SPPTResult) and isinstance(res, Result)
    frame = res.tidy()
    assert list(frame.columns) == [
        "unit",
        "n_base",
        "n_test",
        "base_pct",
        "test_pct",
        "lower_pct",
        "upper_pct",
        "similar",
        "direction",
        "local_s",
    ]
    frame.loc[0, "similar"] = not frame.loc[0, "similar"]
    assert res.tidy()["similar"][0] != frame["similar"][0]  # tidy() is a copy
    with pytest.raises(AttributeError):
        res.s_index = 1.0  # type: ignore[misc]
    text = res.summary()
    assert "S = 0.33" in text and "1 of 3 units" in text
    assert "higher in 1 unit (B)" in text and "lower in 1 unit (A)" in text
    assert str(res) == text
    assert res.to_dict()["s_index"] == res.s_index
    diff = sppt_diff(BASE, TEST, units=UNITS3)
    assert {"p_value", "p_adjusted"} <= set(diff.tidy().columns)
    assert "Benjamini–Yekutieli" in diff.summary() and "No unit's share" in diff.summary()


# -- properties ----------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.lists(st.integers(0, 6), min_size=1, max_size=60),
    test=st.lists(st.integers(0, 6), min_size=1, max_size=60),
    extra=st.integers(0, 3),
    samplesize=st.floats(0.3, 0.95),
    replications=st.integers(1, 60),
    level=st.floats(0.5, 0.99),
    seed=st.integers(0, 2**31),
)
def test_s_indices_are_proportions_of_similar_units(
    base, test, extra, samplesize, replications, level, seed
):
    units = [str(i) for i in range(7 + extra)]
    b, t = [str(x) for x in base], [str(x) for x in test]
    if round(samplesize * len(t)) < 1:
        return
    for res in (
        andresen_s(
            b,
            t,
            units=units,
            samplesize=samplesize,
            replications=replications,
            conf_level=level,
            seed=seed,
        ),
        sppt_diff(b, t, units=units, conf_level=level),
    ):
        frame = res.tidy()
        assert 0.0 <= res.s_index <= 1.0 and 0.0 <= res.robust_s_index <= 1.0
        assert res.s_index * res.n_units == pytest.approx(frame["similar"].sum())
        assert res.n_higher + res.n_lower + int(frame["similar"].sum()) == res.n_units
        empty = (frame["n_base"] + frame["n_test"]) == 0
        assert frame.loc[empty, "similar"].all()
        assert res.s_index >= empty.mean() - 1e-12
        assert frame["base_pct"].sum() == pytest.approx(100.0)
        if res.method == "andresen_s":
            assert np.all(frame["lower_pct"] <= frame["upper_pct"])
