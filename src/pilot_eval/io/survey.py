"""Resident survey: one row per respondent, before ("pre") and after ("post") the pilot.

Schema (survey CSV)
-------------------
Header names are matched ignoring case, spaces and punctuation. Any other column (for
example free-text comments, ages, postcodes) is **not read**: it never enters memory.

==========  =========================================================================
``area``    area code of the respondent's area, as in the boundaries file (required,
            never blank)
``wave``    ``pre`` or ``post`` (required); ``before``/``baseline`` are read as ``pre``,
            ``after``/``follow-up`` as ``post``; case does not matter
``answer``  the outcome question, e.g. "I feel safe walking here after dark" (required);
            see the answer coding below
``weight``  survey weight, a number > 0 (optional; every row needs one when the column
            is there; 1 for everyone when it is absent)
==========  =========================================================================

Answer coding (:data:`DEFAULT_ANSWERS`; case, spaces and curly apostrophes ignored)
    ============================================================  =====
    ``yes``, ``y``, ``true``, ``t``, ``1``                          1
    ``no``, ``n``, ``false``, ``f``, ``0``                          0
    ``strongly agree``, ``agree``                                   1
    ``neither agree nor disagree``, ``disagree``,
    ``strongly disagree``                                          0
    blank, ``don't know``, ``prefer not to say``, ``n/a``,
    ``refused``                                                    missing
    ============================================================  =====

    So with the 5-point Likert scale the outcome is "agrees or strongly agrees" (the
    neutral middle point counts as *not* agreeing). Extend or override the coding with
    ``answer_mapping`` (values 1, 0 or ``None`` for missing). Any other answer is an error
    naming its line.

Output of :func:`read_survey`: ``area`` (str), ``wave`` (``"pre"``/``"post"``), ``answer``
(float64: 1.0, 0.0 or NaN for missing), ``weight`` (float64).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .. import columns as C
from ..errors import DataValidationError
from .population import line_of_record, norm_header, numeric_cells, read_text_csv

WAVE = "wave"
ANSWER = "answer"
WEIGHT = "weight"
WAVES = ("pre", "post")

_WAVE_ALIASES = {
    "pre": "pre",
    "before": "pre",
    "baseline": "pre",
    "post": "post",
    "after": "post",
    "follow up": "post",
    "followup": "post",
}

#: Default answer coding: 1 = yes/agrees, 0 = no/does not agree, None = missing.
DEFAULT_ANSWERS: dict[str, int | None] = {
    "yes": 1,
    "y": 1,
    "true": 1,
    "t": 1,
    "1": 1,
    "1.0": 1,
    "no": 0,
    "n": 0,
    "false": 0,
    "f": 0,
    "0": 0,
    "0.0": 0,
    "strongly agree": 1,
    "agree": 1,
    "neither agree nor disagree": 0,
    "disagree": 0,
    "strongly disagree": 0,
    "": None,
    "dont know": None,
    "don't know": None,
    "prefer not to say": None,
    "n/a": None,
    "na": None,
    "refused": None,
}


def _norm_answer(value: object) -> str:
    s = str(value).replace("\u2019", "'").replace("\u2018", "'").replace("-", " ")
    return " ".join(s.split()).casefold()


def _coding(answer_mapping: Mapping[str, int | bool | None] | None) -> dict[str, float]:
    coding: dict[str, float] = {
        _norm_answer(k): (np.nan if v is None else float(v)) for k, v in DEFAULT_ANSWERS.items()
    }
    for k, v in (answer_mapping or {}).items():
        if v is not None and v not in (0, 1):  # True/False compare equal to 1/0
            raise DataValidationError(
                f"answer_mapping[{k!r}] is {v!r}: use 1 (yes / agrees), 0 (no) or None (missing)."
            )
        coding[_norm_answer(k)] = np.nan if v is None else float(v)
    return coding


def read_survey(
    path: str | Path, *, answer_mapping: Mapping[str, int | bool | None] | None = None
) -> pd.DataFrame:
    """Read and validate a respondent-level resident survey CSV.

    Parameters
    ----------
    path
        The survey CSV (see the module docstring for its columns and answer coding).
    answer_mapping
        Extra or replacement answer codes: answer text -> 1, 0 or ``None`` (missing).
        Keys are matched ignoring case and spaces, e.g. ``{"very safe": 1, "fairly safe":
        1, "a bit unsafe": 0, "very unsafe": 0}``.

    Returns
    -------
    pandas.DataFrame
        ``area``, ``wave``, ``answer`` (1.0 / 0.0 / NaN), ``weight``; other columns of the
        file are not read.

    Raises
    ------
    DataValidationError
        Missing columns; a blank area; a wave other than pre/post; an answer not in the
        coding; a weight that is not a number > 0. Each message names the line and column
        and says what to do.
    """
    path = Path(path)
    wanted = {C.AREA, WAVE, ANSWER, WEIGHT}
    df = read_text_csv(path, what="survey file", usecols=lambda c: norm_header(c) in wanted)
    df.columns = [norm_header(c) for c in df.columns]
    if df.columns.duplicated().any():
        raise DataValidationError(
            f"{path}: two columns are both read as {df.columns[df.columns.duplicated()][0]!r}; "
            "rename one of them."
        )
    missing = [c for c in (C.AREA, WAVE, ANSWER) if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{path}: the survey file needs columns area, wave and answer (weight optional); "
            f"missing {', '.join(missing)}. One row per respondent, e.g. the header "
            "'area,wave,answer,weight' and a row 'E05011218,pre,agree,1.2'."
        )
    if df.empty:
        raise DataValidationError(f"{path}: the survey file has no respondents.")

    def fail(i: int, col: str, problem: str, todo: str) -> DataValidationError:
        return DataValidationError(
            f"{path}: line {line_of_record(path, i)}, column '{col}': {problem}. {todo}"
        )

    area = df[C.AREA].str.strip()
    if (area == "").any():
        i = int(np.flatnonzero((area == "").to_numpy())[0])
        raise fail(i, C.AREA, "empty", "Every respondent needs the code of their area.")

    wave_key = df[WAVE].map(_norm_answer)
    wave = wave_key.map(_WAVE_ALIASES)
    if wave.isna().any():
        i = int(np.flatnonzero(wave.isna().to_numpy())[0])
        raise fail(
            i, WAVE, f"{df[WAVE].iloc[i]!r} is not a wave", "Write pre (before) or post (after)."
        )

    coding = _coding(answer_mapping)
    keys = df[ANSWER].map(_norm_answer)
    known = keys.isin(list(coding)).to_numpy()
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        accepted = sorted(k for k in coding if k)
        raise fail(
            i,
            ANSWER,
            f"{df[ANSWER].iloc[i]!r} is not a recognised answer "
            f"({int((~known).sum())} row(s) like this)",
            f"Accepted answers: {', '.join(accepted)}; or pass answer_mapping={{...: 1 or 0}}.",
        )
    answer = keys.map(coding).astype("float64")

    if WEIGHT in df.columns:
        weight = numeric_cells(df[WEIGHT])
        bad = (weight.isna() | ~(weight > 0) | ~np.isfinite(weight.fillna(0))).to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise fail(
                i,
                WEIGHT,
                f"{df[WEIGHT].iloc[i]!r} is not a weight",
                "Weights must be numbers > 0 on every row (drop the column if unweighted).",
            )
    else:
        weight = pd.Series(1.0, index=df.index)

    return pd.DataFrame(
        {
            C.AREA: area.astype(str).to_numpy(),
            WAVE: wave.astype(str).to_numpy(),
            ANSWER: answer.to_numpy(),
            WEIGHT: weight.astype("float64").to_numpy(),
        }
    )
