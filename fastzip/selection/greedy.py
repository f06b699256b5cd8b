"""Default mode: ZIP without the reference's faults (docs/semantics.md §3).

* Selected samples leave the pool for good; candidates not taken go back
  with their freshest score.
* Redundancy is measured against the whole selected stream S (for a codec
  whose appends need a rebuild, such as zstd's dictionary over all of S,
  the rebuild happens once per round).
* Stage 3 sees S: a candidate x after this round's picks P is scored by the
  ratio of S ∪ P ∪ x.
* The budget is met exactly (samples), or never exceeded (bytes).

Stage 3 is a lazy greedy (Minoux).  With c_x the compressed bytes that x
adds, the objective after P is (A + |x|) / (B + c_x), where A and B are the
raw and compressed totals of S ∪ P.  c_x only shrinks as P grows (up to
codec noise), so a stale c_x gives a lower bound on x's true ratio; a
candidate is re-scored only while its bound could beat the best fresh ratio.

The engine reads only the codec's declared capabilities
(:class:`fastzip._protocol.Capabilities`), never its name.

Stage 1 takes the K1 lowest stale scores with a partition (O(N)) and sorts
only those, in the stable order by pool index among equal scores.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from ..samples.pool import Pool
from ..streams.compressor import IncrementalCompressor
from .config import RunConfig
from .trace import RoundTrace

# Stale candidates re-scored per lazy step.  A constant, not a function of
# n_threads: which candidates get re-scored can change the picks where the
# codec is not monotone, and results must not depend on the thread count.
LAZY_BATCH = 8


def stable_lowest(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k lowest values, ordered by (value, position).

    The same as ``np.argsort(values, kind="stable")[:k]``, in O(n + k log k):
    a partition finds the k-th lowest value v, every position below v is
    taken, and positions equal to v fill the rest in position order.

    Parameters
    ----------
    values : numpy.ndarray of float
        The scores (NaN falls back to the full stable sort).
    k : int
        How many positions to return (at most ``len(values)``).

    Returns
    -------
    numpy.ndarray of int64
        The positions, lowest value first, ties by position.
    """
    n = len(values)
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k == n or np.isnan(values).any():
        return np.argsort(values, kind="stable")[:k]
    kth = np.partition(values, k - 1)[k - 1]
    below = np.flatnonzero(values < kth)
    equal = np.flatnonzero(values == kth)[:k - len(below)]
    chosen = np.sort(np.concatenate([below, equal]))
    return chosen[np.argsort(values[chosen], kind="stable")]


class _RoundView:
    """S ∪ P for one round: measure candidates, then take picks.

    A codec with cheap appends (lz77, zlib, lz4, registered codecs) extends
    the stream itself at each pick, so x is measured against S ∪ P directly
    and ``finish`` has nothing left to do.  A codec whose appends need a
    rebuild (zstd's dictionary) keeps S's structure for the round and
    measures one frame of P ++ x against it: c(P ++ x | S) - c(P | S) is
    exactly what x adds to S ∪ P in its view, at a cost of O(|P| + |x|); P
    is folded into S once, at ``finish``.
    """

    def __init__(self, ic: IncrementalCompressor, pool: Pool, n_threads: int):
        self.ic = ic
        self.pool = pool
        self.n_threads = n_threads
        self.use_prefix = not ic.capabilities.cheap_append
        self.picks: list[int] = []
        self.prefix = b""              # rebuild codecs: sep.join(picks) + sep; empty otherwise
        self.compressed_total = ic.compressed_size   # of S ∪ P

    def added(self, index: np.ndarray) -> np.ndarray:
        """Compressed bytes each pool index would add to S ∪ P."""
        # rebuild codecs: B_S + frame(P ++ x) - (B_S + frame(P)); others: size(S ∪ P ∪ x) - size(S ∪ P)
        sizes = self.ic.marginal_sizes((self.pool.data, self.pool.offsets), self.n_threads,
                                       prefix=self.prefix, index=index)
        return sizes - self.compressed_total

    def raw_after(self, index: np.ndarray) -> np.ndarray:
        """Raw size of S ∪ P ∪ x for each pool index."""
        return self.ic.raw_after(self.pool.lengths[index], prefix=self.prefix)

    def take(self, i: int, added: int) -> None:
        """Add pool index i, whose measured added size is ``added``."""
        self.picks.append(i)
        if self.use_prefix:
            self.prefix += self.pool.item(i) + self.ic.separator
            self.compressed_total += added
        else:
            self.ic.extend([self.pool.item(i)])
            self.compressed_total = self.ic.compressed_size

    def finish(self) -> None:
        """End of round: fold P into S (a rebuild codec rebuilds once); O(|P|) otherwise (nothing)."""
        if self.use_prefix and self.picks:
            self.ic.extend([self.pool.item(i) for i in self.picks])


def _stage3(view: _RoundView, cands: np.ndarray, first_added: np.ndarray, k3: int,
            room: float, lazy: bool, batch: int) -> tuple[list[int], int, np.ndarray]:
    """Pick up to k3 of ``cands`` (pool indices, in stage-2 order).

    ``room`` is the byte budget left (inf without one): a candidate that no
    longer fits is not picked.  Returns the picks, the number of evaluations,
    and each candidate's last added size (for the scores written back).
    """
    lengths = view.pool.lengths[cands]
    added = first_added.astype(np.float64)       # stale c_x
    fresh = np.ones(len(cands), dtype=bool)      # measured against the current P
    taken = np.zeros(len(cands), dtype=bool)
    picks: list[int] = []
    evaluations = 0
    positions = np.arange(len(cands))
    for _ in range(k3):
        open_ = ~taken & (lengths <= room)
        if not open_.any():
            break
        if not lazy and not fresh[open_].all():
            stale = np.flatnonzero(open_ & ~fresh)
            added[stale] = view.added(cands[stale])
            fresh[stale] = True
            evaluations += len(stale)
        raw = view.raw_after(cands).astype(np.float64)   # changes only with a pick
        while True:
            bound = np.where(open_, raw / (view.compressed_total + added), np.inf)
            best = int(np.argmin(bound))         # lowest bound, then first position
            if fresh[best]:
                break
            # re-score the stale candidates whose bound could still win,
            # lowest bound first, a small batch at a time for the threads
            fresh_best = np.min(np.where(open_ & fresh, bound, np.inf))
            stale = np.flatnonzero(open_ & ~fresh & (bound <= fresh_best))
            stale = stale[np.lexsort((positions[stale], bound[stale]))][:batch]
            added[stale] = view.added(cands[stale])
            fresh[stale] = True
            evaluations += len(stale)
        taken[best] = True
        picks.append(int(cands[best]))
        view.take(int(cands[best]), int(added[best]))
        room -= int(lengths[best])
        fresh[:] = False
    return picks, evaluations, added


def run_default(pool: Pool, config: RunConfig, on_round: Callable[[RoundTrace], None], *,
                skip: npt.NDArray[np.bool_] | None = None) -> list[int]:
    """Default-mode selection (docs/semantics.md §3).

    Parameters
    ----------
    pool : Pool
        The serialized samples.
    config : RunConfig
        The run's validated settings: exactly one of ``budget`` and
        ``budget_bytes``; ``lazy=None`` is lazy where the codec declares
        monotone sizes.
    on_round : callable
        Called with each round's :class:`RoundTrace`.
    skip : numpy.ndarray of bool, optional
        Samples never to consider: the exact duplicates that ``select`` drops.

    Returns
    -------
    list of int
        Pool indices in selection order.
    """
    budget, budget_bytes = config.budget, config.budget_bytes
    k1, k2, k3, n_threads = config.k1, config.k2, config.k3, config.n_threads
    n = len(pool)
    lengths = pool.lengths
    alone = IncrementalCompressor(config.codec, config.level)
    sizes = alone.marginal_sizes((pool.data, pool.offsets), n_threads)
    pi = lengths / sizes                       # stale score: each sample's own ratio
    available = np.ones(n, dtype=bool) if skip is None else ~skip
    ic = IncrementalCompressor(config.codec, config.level, separator=config.separator)
    lazy = ic.capabilities.monotone if config.lazy is None else config.lazy
    selected: list[int] = []
    used_bytes = 0
    batch = LAZY_BATCH
    round_no = 0

    def remaining_bytes() -> float:
        return np.inf if budget_bytes is None else budget_bytes - used_bytes

    while True:
        want = (budget - len(selected)) if budget is not None else k3
        eligible = available & (lengths <= remaining_bytes())
        n_eligible = int(eligible.sum())
        if want <= 0 or n_eligible == 0:
            break
        round_no += 1
        t0, c0 = time.perf_counter(), time.process_time()
        # stage 1: the K1 lowest stale scores among the eligible samples
        pool_ids = np.flatnonzero(eligible)
        order = pool_ids[stable_lowest(pi[pool_ids], min(k1, n_eligible))]
        t1 = time.perf_counter()
        # stage 2: exact ratio against the whole selected stream
        view = _RoundView(ic, pool, n_threads)
        added = view.added(order)
        ratios = view.raw_after(order) / (view.compressed_total + added)
        pi[order] = ratios
        keep = np.argsort(ratios, kind="stable")[:min(k2, len(order))]
        cands = order[keep]
        t2 = time.perf_counter()
        # stage 3: lazy greedy against S ∪ P
        picks, evaluations, last_added = _stage3(view, cands, added[keep], min(k3, want, len(cands)),
                                                 remaining_bytes(), lazy, batch)
        view.finish()
        t3, c3 = time.perf_counter(), time.process_time()
        if not picks:
            break
        for i in picks:
            available[i] = False
            used_bytes += int(lengths[i])
        selected.extend(picks)
        # candidates not taken return to the pool with their freshest score
        rest = np.isin(cands, picks, invert=True)
        compressed = ic.compressed_size
        pi[cands[rest]] = ic.raw_after(lengths[cands[rest]]) / (compressed + last_added[rest])
        on_round(RoundTrace(
            round=round_no, selected=len(selected), picks=len(picks),
            stage1_s=t1 - t0, stage2_s=t2 - t1, stage3_s=t3 - t2, cpu_s=c3 - c0,
            evaluations=len(order) + evaluations,
            ratio=ic.raw_size / compressed if compressed else float("nan"),
        ))
        if budget is not None and len(selected) >= budget:
            break
    return selected
