"""What the selection engines report per round."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoundTrace:
    """What one round did: timings (seconds), evaluations and the running ratio."""

    round: int
    selected: int
    picks: int
    stage1_s: float
    stage2_s: float
    stage3_s: float
    evaluations: int
    ratio: float
