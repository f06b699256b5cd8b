"""compat="reference": the published ZIP implementation, exactly (docs/semantics.md §2).

Faults F1-F5 are reproduced on purpose: stage 1 ranks the whole pool
(flagged samples included), stage 3 starts from an empty anchor, K2-K3
leftovers keep their 1e6 flag, and the budget overshoots to a multiple of K3.
Scores are float32, as the reference's torch tensors hold them; ties go to
the candidate that comes first in the order its stage received them.

Every ratio is len(b) / len(zlib.compress(b, 9)) with b = str(list).encode(),
computed incrementally: the stream holds "[" + ", ".join(reprs) and a
candidate is measured as ", " + repr + "]" (just repr + "]" after "[").
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..errors import UsageError
from ..samples.pool import Pool
from ..samples.serialize import FRAMING
from ..streams.compressor import IncrementalCompressor
from .config import RunConfig
from .greedy import stable_lowest
from .trace import RoundTrace

FLAG = np.float32(1e6)
OPEN, SEP, CLOSE = FRAMING["repr"].open, FRAMING["repr"].separator, FRAMING["repr"].close


class _ListStream:
    """zlib-9 view of the string str(list) as a list grows."""

    def __init__(self, pool: Pool, n_threads: int):
        self.pool = pool
        self.n_threads = n_threads
        self.ic = IncrementalCompressor("zlib", 9)
        self.ic.extend([OPEN])
        self.count = 0

    def ratios(self, index: np.ndarray) -> np.ndarray:
        """float32 ratio(list + [c]) for each pool index c."""
        lead = SEP if self.count else b""
        ratios = self.ic.ratios((self.pool.data, self.pool.offsets), self.n_threads,
                                prefix=lead, suffix=CLOSE, index=index)
        return ratios.astype(np.float32)   # Python float -> torch float32

    def append(self, i: int) -> None:
        lead = SEP if self.count else b""
        self.ic.extend([lead + self.pool.item(i)])
        self.count += 1


def run_reference(pool: Pool, config: RunConfig, on_round: Callable[[RoundTrace], None]) -> list[int]:
    """The published selection, faults included (docs/semantics.md §2).

    Parameters
    ----------
    pool : Pool
        The samples, serialized with ``repr``.
    config : RunConfig
        The run's validated settings (compat mode: zlib 9, ``repr``, a
        budget in samples; k1 no larger than the pool).
    on_round : callable
        Called with each round's :class:`RoundTrace`.

    Returns
    -------
    list of int
        Pool indices in selection order (they may repeat, and overshoot the
        budget to a multiple of k3, as the reference's do).
    """
    if config.budget is None:
        raise UsageError("compat='reference' takes a budget in samples, not budget_bytes")
    budget, k1, k2, k3, n_threads = config.budget, config.k1, config.k2, config.k3, config.n_threads
    n = len(pool)
    # pi[i] = ratio([sample_i]), float32
    pi = _ListStream(pool, n_threads).ratios(np.arange(n, dtype=np.int64))
    selected: list[int] = []
    stream = _ListStream(pool, n_threads)
    round_no = 0
    while len(selected) < budget:
        round_no += 1
        t0, c0 = time.perf_counter(), time.process_time()
        # stage 1: the K1 lowest stale scores over the whole pool (F1)
        order = stable_lowest(pi, k1)
        t1 = time.perf_counter()
        # stage 2: exact ratio against the selected list, written back
        values = stream.ratios(order)
        pi[order] = values
        top = order[stable_lowest(values, k2)]
        pi[top] = FLAG                       # F4: never cleared
        t2 = time.perf_counter()
        # stage 3: greedy from an empty anchor (F3)
        local = _ListStream(pool, n_threads)
        taken = np.zeros(len(top), dtype=bool)
        evaluations = 0
        picks = []
        for _ in range(k3):
            scores = np.full(len(top), FLAG, dtype=np.float32)
            open_positions = np.flatnonzero(~taken)
            scores[open_positions] = local.ratios(top[open_positions])
            evaluations += len(open_positions)
            best = int(np.argmin(scores))     # first occurrence on ties
            taken[best] = True
            picks.append(int(top[best]))
            local.append(int(top[best]))
        t3, c3 = time.perf_counter(), time.process_time()
        for i in picks:                       # F5: a whole round, even past the budget
            stream.append(i)
            selected.append(i)
        on_round(RoundTrace(
            round=round_no, selected=len(selected), picks=len(picks),
            stage1_s=t1 - t0, stage2_s=t2 - t1, stage3_s=t3 - t2, cpu_s=c3 - c0,
            evaluations=len(order) + evaluations,
            ratio=stream.ic.raw_size / stream.ic.compressed_size,
            measured_bytes=int(pool.lengths[order].sum()),
        ))
    return selected
