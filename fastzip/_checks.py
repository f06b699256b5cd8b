"""Is it a number, and is it finite: the one test the package's checks share.

A *real number* here is an ``int``, a ``float`` or any other
:class:`numbers.Real` (numpy's integer and float scalars included), but
never a ``bool``: ``True`` in a column of losses is a mistake, not a 1.
Text (a CSV cell, a command-line argument) counts only where the caller says
so, and is then read with :class:`float`, so ``"nan"`` and ``"inf"`` parse
and are refused by the finiteness test, not by the number test.

The callers keep their own error messages: each knows what the value was
(a column, an option, a log entry) and which exception fits.
"""
from __future__ import annotations

import math
import numbers

__all__ = ["finite_number", "real_number"]


def real_number(value: object, *, parse_text: bool = False) -> float | None:
    """``value`` as a float when it is a real number, else ``None``.

    Parameters
    ----------
    value : object
        Anything.
    parse_text : bool, default False
        Also accept a ``str`` that :class:`float` reads (surrounding blanks
        allowed; ``"nan"`` and ``"inf"`` included).

    Returns
    -------
    float or None
        ``float(value)`` (infinite for a number beyond float's range), or
        ``None`` for a ``bool``, a non-number, or text that does not parse
        (or any text when ``parse_text`` is false).
    """
    if isinstance(value, str):
        if not parse_text:
            return None
        try:
            return float(value.strip())
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except OverflowError:  # an int (or Fraction) beyond float's range
        return -math.inf if value < 0 else math.inf


def finite_number(value: object, *, parse_text: bool = False) -> float | None:
    """``value`` as a float when it is a finite real number, else ``None``.

    Parameters
    ----------
    value : object
        Anything.
    parse_text : bool, default False
        As in :func:`real_number`.

    Returns
    -------
    float or None
        ``float(value)``, or ``None`` when :func:`real_number` refuses it or
        it is NaN or infinite (so also the JSON form of a float: JSON has
        no NaN).
    """
    number = real_number(value, parse_text=parse_text)
    return number if number is not None and math.isfinite(number) else None
