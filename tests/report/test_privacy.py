import pandas as pd
import pytest

from pilot_eval.report.privacy import is_suppressed, suppress_small_counts


def test_small_counts_hidden_large_and_zero_shown():
    t = pd.DataFrame({"area": list("abcd"), "pre": [0, 1, 4, 5], "post": [12, 3, 0, 7]})
    out = suppress_small_counts(t, columns=["pre", "post"], threshold=5)
    assert out["pre"].tolist() == ["0", "<5", "<5", "5"]
    assert out["post"].tolist() == ["12", "<5", "0", "7"]
    assert out["area"].tolist() == list("abcd")
    assert [is_suppressed(v) for v in out["pre"]] == [False, True, True, False]


def test_input_not_modified():
    t = pd.DataFrame({"n": [1, 10]})
    before = t.copy()
    suppress_small_counts(t, columns=["n"], threshold=3)
    pd.testing.assert_frame_equal(t, before)


def test_bad_arguments():
    t = pd.DataFrame({"n": [1]})
    with pytest.raises(KeyError):
        suppress_small_counts(t, columns=["m"], threshold=3)
    with pytest.raises(ValueError):
        suppress_small_counts(t, columns=["n"], threshold=0)
