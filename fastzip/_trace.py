"""What the selection engines report per round."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoundTrace:
    """What one round did: timings (seconds), evaluations and the running ratio.

    ``stage*_s`` are wall times; ``cpu_s`` is the CPU time of the whole
    process over the round (all threads), which other jobs on the machine
    disturb far less than wall time.
    """

    round: int
    selected: int
    picks: int
    stage1_s: float
    stage2_s: float
    stage3_s: float
    evaluations: int
    ratio: float
    cpu_s: float = float("nan")
