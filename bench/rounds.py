"""Per-round figures the benchmarks share: the two windows that flatness compares.

Flatness is the mean time of the last 50 rounds over the mean of rounds
11-60 (1.0: a round costs the same at any selection size).  The first ten
rounds are left out: they include the thread pool's start and the first
touches of the codec's tables.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

EARLY = slice(10, 60)     # rounds 11-60
LATE = 50                 # the last 50 rounds
MIN_ROUNDS = 60


def early_and_late(values: Sequence[float]) -> list[float]:
    """The mean over rounds 11-60 and over the last 50 rounds (both nan with fewer than 60 rounds)."""
    if len(values) < MIN_ROUNDS:
        return [math.nan, math.nan]
    early, late = list(values[EARLY]), list(values[-LATE:])
    return [sum(early) / len(early), sum(late) / len(late)]


def flatness(values: Sequence[float]) -> float:
    """Mean of the last 50 rounds over the mean of rounds 11-60 (nan with fewer than 60 rounds)."""
    early, late = early_and_late(values)
    return late / early
