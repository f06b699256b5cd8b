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
(:class:`fastzip.streams.protocol.Capabilities`), never its name.

Stage 1 takes the K1 lowest stale scores, ties broken by pool index, in
O(K1 log N) per round, never a pass over the pool (:class:`Frontier`): the
samples never re-scored keep their stand-alone order, sorted once, and only
the at most K1 samples re-scored each round change their scores, so sorted
runs of those merged with the sorted untouched list give the K1 lowest.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

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
            # added was measured against S ∪ P as it stands: the stream's size once i is in
            self.ic.extend([self.pool.item(i)], measured=self.compressed_total + added)
            self.compressed_total = self.ic.compressed_size

    def finish(self) -> None:
        """End of round: fold P into S (a rebuild codec rebuilds once); O(|P|) otherwise (nothing)."""
        if self.use_prefix and self.picks:
            self.ic.extend([self.pool.item(i) for i in self.picks])


def _stage3(view: _RoundView, cands: np.ndarray, first_added: np.ndarray, k3: int,
            room: float, lazy: bool, batch: int, costs: np.ndarray) -> tuple[list[int], int, np.ndarray]:
    """Pick up to k3 of ``cands`` (pool indices, in stage-2 order).

    ``room`` is the byte or token budget left (inf without one) and
    ``costs`` each candidate's bytes or tokens: a candidate that no longer
    fits is not picked.  Returns the picks, the number of evaluations, and
    each candidate's last added size (for the scores written back).
    """
    lengths = costs
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


class Frontier:
    """Stage 1's view of the pool: the lowest stale ``(score, pool index)`` in O(K1 log N) a round.

    A sample's stale score is its stand-alone ratio until stage 1 first takes
    it; from then on it is what its last re-scoring wrote back.  So the pool
    splits in two: the *untouched* samples, sorted once by their stand-alone
    ``(score, index)`` and consumed from the front (stage 1 only ever takes
    a prefix of them), and the *returned* samples, re-scored and not picked.
    The returned ones are kept in sorted runs of ``(score, index)`` arrays,
    each consumed from its front, that merge when two neighbours grow alike
    (so there are O(log N) of them, as in a log-structured merge): each
    round reads at most K1 entries from the untouched list and from each run,
    and keeps none scored above the lowest K1-th score of any one source.
    The K1 lowest of the pool are the K1 lowest of those, found by one stable
    sort of the presorted sources (:func:`_key_order`), exactly the order a
    stable sort of every stale score gives (scores are finite: no compressed
    size is 0).

    Under a byte or token budget the room left only shrinks, so a sample
    that no longer fits never will: it is dropped the first time stage 1
    passes it, as the eligibility filter of a full scan would leave it out.

    Memory: 16 bytes per pool sample (the sorted indices and their scores),
    and 16 bytes per returned sample (a run's score and index; a run is
    copied down to its unread part once more than half of it is read).
    """

    def __init__(self, scores: npt.NDArray[np.float64], skip: npt.NDArray[np.bool_] | None = None):
        # ties: ascending index (a stable sort over indices in ascending order); no more temporaries than needed
        if skip is None:
            self.ids: npt.NDArray[np.int64] = np.argsort(scores, kind="stable").astype(np.int64, copy=False)
        else:
            ids = np.flatnonzero(~skip).astype(np.int64)
            self.ids = ids[np.argsort(scores[ids], kind="stable")]
            del ids
        self.scores: npt.NDArray[np.float64] = np.ascontiguousarray(scores[self.ids], dtype=np.float64)
        self.cursor = 0
        self.misses = 0                     # untouched samples read that did not fit, since the last drop
        self.runs: list[_Run] = []          # the returned samples, largest run first

    @staticmethod
    def _fitting(ids: npt.NDArray[np.int64], start: int, stop: int, k: int,
                 costs: npt.NDArray[np.int64] | None, room: float) -> tuple[npt.NDArray[np.int64], int]:
        """Positions in ``[start, stop)`` of the first k of ``ids`` that fit, and how many did not fit before them."""
        if costs is None or room == np.inf:
            return np.arange(start, min(stop, start + k), dtype=np.int64), 0
        found: list[npt.NDArray[np.int64]] = []
        have = misses = 0
        step = max(2 * k, 1024)
        while have < k and start < stop:
            window = np.arange(start, min(stop, start + step), dtype=np.int64)
            fits = window[costs[ids[window]] <= room]
            misses += len(window) - len(fits)
            found.append(fits[:k - have])
            have += len(found[-1])
            start += step
        return (np.concatenate(found) if found else np.zeros(0, np.int64)), misses

    def _untouched(self, k: int, costs: npt.NDArray[np.int64] | None, room: float) -> npt.NDArray[np.int64]:
        """Positions (in the sorted list, from the cursor) of the first k untouched samples that fit."""
        n = len(self.ids)
        positions, misses = self._fitting(self.ids, self.cursor, n, k, costs, room)
        self.misses += misses
        if costs is not None and self.misses > n - self.cursor:
            # samples that no longer fit never will: drop them all at once (O(rest)), paid for by the
            # scanning they already cost, so that later rounds do not read past them again
            rest = slice(self.cursor, n)
            keep = costs[self.ids[rest]] <= room
            self.ids, self.scores = self.ids[rest][keep], self.scores[rest][keep]
            self.cursor, self.misses = 0, 0
            return self._untouched(k, costs, room)
        return positions

    def lowest(self, k: int, costs: npt.NDArray[np.int64] | None = None, room: float = np.inf) -> np.ndarray:
        """Take the k lowest ``(score, index)`` among the samples that fit in ``room``.

        Parameters
        ----------
        k : int
            How many to take.
        costs : numpy.ndarray of int64 or None, optional
            Each pool sample's cost (bytes or tokens) under a budget.
        room : float, optional
            The budget left (inf: everything fits).

        Returns
        -------
        numpy.ndarray of int64
            Pool indices, lowest ``(score, index)`` first.  They leave the
            frontier: :meth:`give_back` returns the ones not picked.
        """
        positions = self._untouched(k, costs, room)
        parts_s = [self.scores[positions]]
        parts_i = [self.ids[positions]]
        offered = [positions]
        # no entry scored above the k-th of any one source can be among the k lowest
        bound = float(parts_s[0][-1]) if len(positions) == k and k else np.inf
        for run in self.runs:
            stop = len(run.scores) if bound == np.inf else int(np.searchsorted(run.scores, bound, side="right"))
            at, misses = self._fitting(run.ids, run.cursor, stop, k, costs, room)
            run.misses += misses
            offered.append(at)
            parts_s.append(run.scores[at])
            parts_i.append(run.ids[at])
            if len(at) == k and k:
                bound = min(bound, float(parts_s[-1][-1]))
        if bound != np.inf:          # the sources read before the bound fell: cut them to it too
            for j, part in enumerate(parts_s):
                cut = int(np.searchsorted(part, bound, side="right"))
                if cut < len(part):
                    parts_s[j], parts_i[j], offered[j] = part[:cut], parts_i[j][:cut], offered[j][:cut]
        all_s, all_i = np.concatenate(parts_s), np.concatenate(parts_i)
        taken = _key_order(all_s, all_i, k)
        # each source gives a prefix of what it offered: move its cursor past the last one taken
        ends = np.cumsum([len(p) for p in parts_s])
        counts = np.bincount(np.searchsorted(ends, taken, side="right"), minlength=len(parts_s))
        if counts[0]:
            self.cursor = int(offered[0][counts[0] - 1]) + 1
        for run, at, c in zip(self.runs, offered[1:], counts[1:].tolist()):
            if c:
                run.cursor = int(at[c - 1]) + 1
        self._tidy(costs, room)
        out: np.ndarray = all_i[taken]
        return out

    def give_back(self, ids: np.ndarray, scores: np.ndarray) -> None:
        """Return re-scored samples that were not picked, with their fresh stale scores."""
        ids = np.asarray(ids, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float64)
        if len(ids):
            order = _key_order(scores, ids)
            self.runs.append(_Run(scores[order], ids[order]))
            self._tidy(None, np.inf)

    def _tidy(self, costs: npt.NDArray[np.int64] | None, room: float) -> None:
        """Keep O(log N) runs, none more than half read, none with more misses than unread entries."""
        runs = []
        for run in self.runs:
            if costs is not None and run.misses > run.live:
                keep = costs[run.ids[run.cursor:]] <= room      # never fit again: dropped for good
                run = _Run(run.scores[run.cursor:][keep], run.ids[run.cursor:][keep])
            elif run.cursor > run.live:
                run = _Run(run.scores[run.cursor:].copy(), run.ids[run.cursor:].copy())
            if run.live:
                runs.append(run)
        while len(runs) >= 2 and runs[-2].live <= 2 * runs[-1].live:
            b, a = runs.pop(), runs.pop()
            s = np.concatenate([a.scores[a.cursor:], b.scores[b.cursor:]])
            i = np.concatenate([a.ids[a.cursor:], b.ids[b.cursor:]])
            order = _key_order(s, i)
            runs.append(_Run(s[order], i[order]))
        self.runs = runs

    def state(self) -> dict[str, np.ndarray]:
        """What a checkpoint keeps: the next untouched sample and the returned samples.

        The sorted list is recomputed from the stand-alone scores on resume;
        the next untouched sample is kept by its ``(score, index)``, which
        finds it there whatever samples were dropped before it.
        """
        scores = np.concatenate([r.scores[r.cursor:] for r in self.runs] + [np.zeros(0)])
        ids = np.concatenate([r.ids[r.cursor:] for r in self.runs] + [np.zeros(0, np.int64)])
        done = self.cursor >= len(self.ids)
        at = min(self.cursor, len(self.ids) - 1)
        next_key = (np.asarray([self.scores[at]]), np.asarray([self.ids[at]])) if len(self.ids) else \
            (np.zeros(1), np.zeros(1, np.int64))
        return {"exhausted": np.asarray([done or not len(self.ids)]), "next_score": next_key[0].astype(np.float64),
                "next_id": next_key[1].astype(np.int64), "heap_scores": scores.astype(np.float64),
                "heap_ids": ids.astype(np.int64)}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Go back to a :meth:`state` (on a frontier built from the same scores)."""
        if bool(state["exhausted"][0]):
            self.cursor = len(self.ids)
        else:
            score, index = float(state["next_score"][0]), int(state["next_id"][0])
            lo = int(np.searchsorted(self.scores, score, side="left"))
            hi = int(np.searchsorted(self.scores, score, side="right"))
            self.cursor = lo + int(np.searchsorted(self.ids[lo:hi], index, side="left"))
        self.misses = 0
        self.runs = []
        self.give_back(state["heap_ids"], state["heap_scores"])


def _key_order(scores: npt.NDArray[np.float64], ids: npt.NDArray[np.int64],
               k: int | None = None) -> npt.NDArray[np.int64]:
    """``np.lexsort((ids, scores))[:k]`` for distinct ids, in O(n) when the input is a few sorted runs.

    A stable sort by score alone (timsort: it merges presorted runs in
    linear time) is the answer unless equal scores end up with ids out of
    order.  Only the prefix up to the k-th score (and its ties) is needed;
    if it holds such ties, one more stable sort orders it by (tie group,
    id) as a single integer key: the order within a group is all that can
    be wrong, and timsort fixes a nearly sorted key in about linear time.
    """
    order = np.argsort(scores, kind="stable")
    n = len(order)
    k = n if k is None else min(k, n)
    if k == 0:
        return order[:0]
    s = scores[order]
    if k < n:
        end = int(np.searchsorted(s, s[k - 1], side="right"))
        order, s = order[:end], s[:end]
    i = ids[order]
    if np.any((s[1:] == s[:-1]) & (i[1:] < i[:-1])):
        width = int(i.max()) + 1
        if len(order) * width < 2**62:
            group = np.concatenate(([0], np.cumsum(s[1:] != s[:-1])))
            order = order[np.argsort(group * width + i, kind="stable")]
        else:                                               # a key that would overflow int64
            order = order[np.lexsort((i, s))]
    return order[:k]


class _Run:
    """One sorted run of returned samples: ``(score, index)`` ascending, read from ``cursor`` on."""

    __slots__ = ("scores", "ids", "cursor", "misses")

    def __init__(self, scores: npt.NDArray[np.float64], ids: npt.NDArray[np.int64]):
        self.scores, self.ids = scores, ids
        self.cursor = 0
        self.misses = 0          # entries read that did not fit, since the run was last rebuilt

    @property
    def live(self) -> int:
        return len(self.ids) - self.cursor


@dataclass
class EngineState:
    """Default mode's state between two rounds: enough to continue a run exactly.

    The compressor's state is not kept: it is rebuilt by appending the picks
    again with the same calls (per pick, or per round for a codec that
    batches appends), which gives the same state.
    """

    round_no: int = 0
    picks: list[int] = field(default_factory=list)
    round_sizes: list[int] = field(default_factory=list)     # picks per round, in order
    used: int = 0                                            # bytes or tokens of the picks
    frontier: dict[str, np.ndarray] = field(default_factory=dict)


class Checkpointer:
    """Where the engine hands its state between rounds; this base class keeps none.

    :class:`fastzip.selection.checkpoint.FileCheckpointer` writes it to a folder.
    """

    def resume(self) -> tuple[EngineState, list[RoundTrace]] | None:
        """The state to continue from and the rounds done so far, or None to start afresh."""
        return None

    def after_round(self, state: Callable[[], EngineState], info: RoundTrace) -> None:
        """Called after each round; ``state()`` builds the state, when it is to be written."""

    def done(self, state: Callable[[], EngineState]) -> None:
        """Called once when the run ends, with the final state."""


def run_default(pool: Pool, config: RunConfig, on_round: Callable[[RoundTrace], None], *,
                skip: npt.NDArray[np.bool_] | None = None, costs: npt.NDArray[np.int64] | None = None,
                checkpointer: Checkpointer | None = None) -> list[int]:
    """Default-mode selection (docs/semantics.md §3).

    Parameters
    ----------
    pool : Pool
        The serialized samples (the buffer may be memory-mapped).
    config : RunConfig
        The run's validated settings: exactly one of ``budget``,
        ``budget_bytes`` and ``budget_tokens``; ``lazy=None`` is lazy where
        the codec declares monotone sizes.
    on_round : callable
        Called with each round's :class:`RoundTrace`.
    skip : numpy.ndarray of bool, optional
        Samples never to consider: the exact duplicates that ``select`` drops.
    costs : numpy.ndarray of int64, optional
        Each sample's cost under ``budget_tokens`` (its token count); a
        byte budget counts the serialized lengths.
    checkpointer : Checkpointer, optional
        Resumes from a saved state (``on_round`` is then called first with
        the rounds already done) and saves the state between rounds.

    Returns
    -------
    list of int
        Pool indices in selection order.
    """
    budget, budget_cost = config.budget, config.budget_cost
    k1, k2, k3, n_threads = config.k1, config.k2, config.k3, config.n_threads
    lengths = pool.lengths
    if budget_cost is None:
        cost = None
    else:
        cost = lengths if config.budget_tokens is None else costs
        if cost is None:
            raise ValueError("a token budget needs each sample's token count (costs=)")
    alone = IncrementalCompressor(config.codec, config.level)
    alone_scores = lengths / alone.marginal_sizes((pool.data, pool.offsets), n_threads)   # each sample's own ratio
    frontier = Frontier(alone_scores, skip)        # the stale scores, sorted once
    del alone_scores                               # the frontier holds what it needs: 16 bytes a sample
    ic = IncrementalCompressor(config.codec, config.level, separator=config.separator)
    lazy = ic.capabilities.monotone if config.lazy is None else config.lazy
    checkpointer = checkpointer or Checkpointer()
    resumed = checkpointer.resume()
    state = EngineState() if resumed is None else resumed[0]
    if resumed is not None:
        frontier.restore(state.frontier)
        _replay(ic, pool, state)
        for done in resumed[1]:
            on_round(done)
    selected = state.picks
    batch = LAZY_BATCH

    def remaining() -> float:
        return np.inf if budget_cost is None else budget_cost - state.used

    def snapshot() -> EngineState:
        state.frontier = frontier.state()
        return state

    while True:
        want = (budget - len(selected)) if budget is not None else k3
        if want <= 0:
            break
        t0, c0 = time.perf_counter(), time.process_time()
        # stage 1: the K1 lowest stale scores among the samples still eligible
        order = frontier.lowest(k1, cost, remaining())
        if len(order) == 0:
            break
        state.round_no += 1
        t1 = time.perf_counter()
        # stage 2: exact ratio against the whole selected stream
        view = _RoundView(ic, pool, n_threads)
        added = view.added(order)
        ratios = view.raw_after(order) / (view.compressed_total + added)
        keep = np.argsort(ratios, kind="stable")[:min(k2, len(order))]
        cands = order[keep]
        t2 = time.perf_counter()
        # stage 3: lazy greedy against S ∪ P
        cand_costs = lengths[cands] if cost is None else cost[cands]
        picks, evaluations, last_added = _stage3(view, cands, added[keep], min(k3, want, len(cands)),
                                                 remaining(), lazy, batch, cand_costs)
        view.finish()
        t3, c3 = time.perf_counter(), time.process_time()
        if not picks:
            break
        for i in picks:
            state.used += int(lengths[i] if cost is None else cost[i])
        selected.extend(picks)
        state.round_sizes.append(len(picks))
        # candidates not taken return to the pool with their freshest score
        picked = np.isin(order, picks)
        rest = np.isin(cands, picks, invert=True)
        compressed = ic.compressed_size
        ratios[keep[rest]] = ic.raw_after(lengths[cands[rest]]) / (compressed + last_added[rest])
        frontier.give_back(order[~picked], ratios[~picked])
        info = RoundTrace(
            round=state.round_no, selected=len(selected), picks=len(picks),
            stage1_s=t1 - t0, stage2_s=t2 - t1, stage3_s=t3 - t2, cpu_s=c3 - c0,
            evaluations=len(order) + evaluations,
            ratio=ic.raw_size / compressed if compressed else float("nan"),
            measured_bytes=int(lengths[order].sum()),
        )
        on_round(info)
        checkpointer.after_round(snapshot, info)
        if budget is not None and len(selected) >= budget:
            break
    checkpointer.done(snapshot)
    return selected


def _replay(ic: IncrementalCompressor, pool: Pool, state: EngineState) -> None:
    """Append a saved run's picks to a fresh compressor with the calls the run made."""
    at = 0
    for size in state.round_sizes:
        picks = state.picks[at:at + size]
        at += size
        if ic.capabilities.cheap_append:
            for i in picks:                  # _RoundView.take: one append per pick
                ic.extend([pool.item(i)])
        else:
            ic.extend([pool.item(i) for i in picks])   # _RoundView.finish: one per round
