"""What the selection engines report per round."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoundTrace:
    """What one round did: timings (seconds), evaluations and the running ratio.

    Parameters
    ----------
    round : int
        The round's number, from 1.
    selected : int
        Samples selected after the round.
    picks : int
        Samples the round added.
    stage1_s, stage2_s, stage3_s : float
        Wall time of each stage, in seconds.
    evaluations : int
        Candidates measured in the round.
    ratio : float
        Running compression ratio of the selection after the round: the
        engine's stream, which for zstd, lz4 and lz77 is a sum of frames or
        estimates, one per append, so it can differ from
        ``SelectionResult.ratio`` (the selection compressed once).
    cpu_s : float, optional
        CPU time of the whole process over the round (all threads), which
        other jobs on the machine disturb far less than wall time.
    measured_bytes : int, optional
        Bytes of the candidates stage 2 measured: its time follows them,
        and they grow as stage 1 moves from short samples to longer ones.
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
    measured_bytes: int = 0
