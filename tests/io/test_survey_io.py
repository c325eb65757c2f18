"""Resident survey CSV: answer coding, waves, weights, line-numbered errors."""

from __future__ import annotations

import numpy as np
import pytest

from pilot_eval.errors import DataValidationError
from pilot_eval.io.survey import DEFAULT_ANSWERS, read_survey


def survey(tmp_path, text: str):
    p = tmp_path / "survey.csv"
    p.write_text(text)
    return p


def test_reads_and_codes_answers(tmp_path):
    p = survey(
        tmp_path,
        "Area,Wave,Answer,Weight,Comments\n"
        "E05011218,pre,Strongly agree,1.2,I never walk home alone\n"
        "E05011218,PRE,agree,0.8,\n"
        "E05011218,post,Neither agree nor disagree,1,\n"
        "E05011225,Post,disagree,1,\n"
        "E05011225,post,strongly disagree,1,\n"
        "E05011225,pre,Yes,1,\n"
        "E05011225,pre,FALSE,1,\n"
        "E05011225,post,1,1,\n"
        "E05011225,post,0,1,\n"
        "E05011225,post,Don’t know,1,\n"
        "E05011225,post,,1,\n",
    )
    s = read_survey(p)
    assert list(s.columns) == ["area", "wave", "answer", "weight"]  # comments not kept
    assert s.wave.tolist()[:4] == ["pre", "pre", "post", "post"]
    assert s.answer.tolist()[:9] == [1, 1, 0, 0, 0, 1, 0, 1, 0]
    assert np.isnan(s.answer.iloc[9]) and np.isnan(s.answer.iloc[10])
    assert s.weight.tolist()[:2] == [1.2, 0.8]


def test_likert_coding_documented():
    assert DEFAULT_ANSWERS["strongly agree"] == DEFAULT_ANSWERS["agree"] == 1
    assert DEFAULT_ANSWERS["neither agree nor disagree"] == 0
    assert DEFAULT_ANSWERS["don't know"] is None


def test_weight_defaults_to_one_and_wave_aliases(tmp_path):
    p = survey(tmp_path, "area,wave,answer\nA,before,yes\nA,Follow-up,no\nA,baseline,y\n")
    s = read_survey(p)
    assert s.weight.tolist() == [1.0, 1.0, 1.0]
    assert s.wave.tolist() == ["pre", "post", "pre"]


def test_custom_answer_mapping(tmp_path):
    p = survey(tmp_path, "area,wave,answer\nA,pre,Very safe\nA,post,A bit unsafe\nA,post,yes\n")
    with pytest.raises(DataValidationError, match=r"line 2, column 'answer': 'Very safe'"):
        read_survey(p)
    s = read_survey(p, answer_mapping={"very safe": 1, "a bit unsafe": 0})
    assert s.answer.tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(DataValidationError, match="use 1"):
        read_survey(p, answer_mapping={"very safe": 5})


@pytest.mark.parametrize(
    ("row", "match"),
    [
        (",pre,yes,1", r"line 3, column 'area': empty"),
        ("A,during,yes,1", r"line 3, column 'wave': 'during' is not a wave"),
        ("A,post,maybe,1", r"line 3, column 'answer': 'maybe'.*Accepted answers"),
        ("A,post,yes,0", r"line 3, column 'weight': '0' is not a weight"),
        ("A,post,yes,", r"line 3, column 'weight'"),
    ],
)
def test_errors_name_line_and_column(tmp_path, row, match):
    p = survey(tmp_path, f"area,wave,answer,weight\nA,pre,yes,1\n{row}\n")
    with pytest.raises(DataValidationError, match=match):
        read_survey(p)


def test_missing_columns_and_empty_file(tmp_path):
    with pytest.raises(DataValidationError, match="missing wave"):
        read_survey(survey(tmp_path, "area,answer\nA,yes\n"))
    with pytest.raises(DataValidationError, match="no respondents"):
        read_survey(survey(tmp_path, "area,wave,answer\n"))
    with pytest.raises(DataValidationError, match="no such survey file"):
        read_survey(tmp_path / "absent.csv")


def test_file_left_unchanged(tmp_path):
    p = survey(tmp_path, "area,wave,answer\nA,pre,yes\n")
    before = p.read_bytes()
    read_survey(p)
    assert p.read_bytes() == before
