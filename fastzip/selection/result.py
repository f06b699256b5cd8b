"""What a selection returns: :class:`SelectionResult`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from . import report
from .trace import RoundTrace


@dataclass
class SelectionResult:
    """The outcome of :func:`select`.

    Parameters
    ----------
    indices : numpy.ndarray of int64
        Pool indices in selection order (in compat mode they may repeat, as
        the reference's do).
    ratio : float
        Compression ratio of the selection, in selection order, under the
        run's codec and serializer (NaN for an empty selection).
    codec, level, serializer : str, int, str
        The codec, level and serializer the run used.
    compat : str or None
        The compat mode (None: default mode).
    k1, k2, k3 : int
        The stage sizes.
    trace : list of RoundTrace
        One entry per round.
    duplicates_dropped : int
        How many samples default mode left out because their serialized
        bytes equal an earlier sample's (0 with ``dedupe=False`` and in
        compat mode).
    tokens : int or None
        Under a token budget, the selection's token count (the sum of its
        samples' counts); None otherwise.
    """

    indices: npt.NDArray[np.int64]
    ratio: float
    codec: str
    level: int
    serializer: str
    compat: str | None
    k1: int
    k2: int
    k3: int
    trace: list[RoundTrace] = field(default_factory=list)
    duplicates_dropped: int = 0
    tokens: int | None = None

    @property
    def evaluations(self) -> int:
        """The number of candidate evaluations over all rounds."""
        return sum(t.evaluations for t in self.trace)

    @property
    def seconds(self) -> float:
        """The time spent in the three stages over all rounds, in seconds."""
        return sum(t.stage1_s + t.stage2_s + t.stage3_s for t in self.trace)

    def __len__(self) -> int:
        return len(self.indices)

    def plot(self, path: str | os.PathLike[str] | None = None, samples: Any = None, **kwargs: Any) -> Any:
        """Draw the selection (docs/semantics.md §7.6; needs matplotlib).

        The panels: running ratio, stage times, and the length and
        stand-alone score distributions against ``samples``, the pool the
        selection was made from.

        Parameters
        ----------
        path : str, os.PathLike or None, optional
            Where to write the report (``.html``, ``.png``, ``.svg`` or
            ``.pdf``); None returns the figure instead.
        samples : sequence or Pool, optional
            The pool the selection was made from.
        **kwargs
            Passed to :func:`fastzip.selection.report.write_report` (or, without
            ``path``, to :func:`fastzip.selection.report.report_data`; ``title`` goes
            to :func:`fastzip.selection.report.figure`).

        Returns
        -------
        fastzip.selection.report.ReportData or matplotlib.figure.Figure
            The report's data when written to ``path``, else the figure.
        """
        if path is not None:
            return report.write_report(self, path, samples, **kwargs)
        title = kwargs.pop("title", None)
        return report.figure(report.report_data(self, samples, **kwargs), title=title)
