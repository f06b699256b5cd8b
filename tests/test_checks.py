"""fastzip._checks: the one "is it a finite number" test that law and scoring share."""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from fastzip._checks import finite_number, real_number


@pytest.mark.parametrize("value,expected", [
    (3, 3.0), (-2.5, -2.5), (np.int64(7), 7.0), (np.float32(0.5), 0.5), (Fraction(1, 4), 0.25),
    (float("inf"), math.inf), (10**400, math.inf), (-(10**400), -math.inf),
])
def test_real_numbers_become_floats(value, expected):
    got = real_number(value)
    assert isinstance(got, float) and got == expected


@pytest.mark.parametrize("value", [True, False, None, "1.5", b"1", [1.0], {}, complex(1, 0), Decimal("1.5")])
def test_non_numbers_are_refused(value):
    # Decimal is not a numbers.Real; text only with parse_text
    assert real_number(value) is None
    assert finite_number(value) is None


def test_text_parses_only_when_asked():
    assert real_number(" 2.5 ", parse_text=True) == 2.5
    assert math.isnan(real_number("nan", parse_text=True))
    assert real_number("1,5", parse_text=True) is None
    assert finite_number("inf", parse_text=True) is None
    assert finite_number("-3e2", parse_text=True) == -300.0


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float64("nan"), 10**400])
def test_non_finite_numbers_are_refused(value):
    assert real_number(value) is not None
    assert finite_number(value) is None
