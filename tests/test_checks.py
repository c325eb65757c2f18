"""The one option validator: every bad option raises OptionError, naming option, value, choices."""

from __future__ import annotations

import numpy as np
import pytest

from pilot_eval._checks import (
    check_alpha,
    check_bool,
    check_fraction,
    check_level,
    check_option,
    check_positive,
    check_whole,
)
from pilot_eval.errors import ConfigError, OptionError


def test_check_option_message_names_everything_and_suggests():
    check_option("family", "poisson", ("poisson", "quasipoisson", "negbin"))
    with pytest.raises(OptionError) as info:
        check_option("family", "quasi-poisson", ("poisson", "quasipoisson", "negbin"))
    msg = str(info.value)
    assert "family must be one of 'poisson', 'quasipoisson', 'negbin'" in msg
    assert "got 'quasi-poisson'" in msg and "Did you mean 'quasipoisson'?" in msg
    assert isinstance(info.value, ConfigError) and isinstance(info.value, ValueError)
    with pytest.raises(OptionError) as far:
        check_option("vcov", "xyz", ("model", "hc1", "cluster"))
    assert "Did you mean" not in str(far.value)
    with pytest.raises(OptionError):
        check_option("scale", ["ratio"], ("ratio", "count"))  # unhashable: never valid
    check_option("tails", 2, (1, 2))


def test_numeric_checks():
    assert check_alpha(0.05) == 0.05 and check_alpha(np.float64(0.1)) == 0.1
    assert check_alpha(0.3, upper=0.5) == 0.3
    assert check_level(0.95) == 0.95
    assert check_fraction(0.8, "power", example="e.g. 0.8") == 0.8
    assert check_positive(2, "dispersion") == 2.0
    assert check_positive(0, "continuity", allow_zero=True) == 0.0
    assert check_whole(200.0, "n_sims", minimum=10) == 200
    assert check_bool(True, "seasonality") is True
    for bad in (
        lambda: check_alpha(0.6, upper=0.5),
        lambda: check_alpha(0),
        lambda: check_alpha("0.05"),
        lambda: check_alpha(True),
        lambda: check_level(95),
        lambda: check_positive(0, "dispersion"),
        lambda: check_positive(float("inf"), "dispersion"),
        lambda: check_whole(5, "n_sims", minimum=10),
        lambda: check_whole(17.5, "n_assignments"),
        lambda: check_bool(1, "seasonality"),
    ):
        with pytest.raises(OptionError):
            bad()
    with pytest.raises(OptionError, match="alpha must be strictly between 0 and 0.5"):
        check_alpha(0.7, upper=0.5)
