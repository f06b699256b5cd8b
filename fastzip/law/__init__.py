"""The entropy law: fit it on past runs and check a new data version early.

Yin et al. (2024) relate a model's performance Z to the compression ratio R of
its training data (higher R, weaker model) and to its first-epoch training
loss L (at similar R, higher L means less consistent data). Neither the exact
form nor its coefficients are public, so this module fits several forms and
picks one by cross-validation (docs/semantics.md §6).

>>> import fastzip.law as law
>>> runs = "runs.csv"                                 # name,ratio,loss[,performance,quality]
>>> loss_law = law.fit(runs, target="loss")           # L = h(R), form by leave-one-out CV
>>> perf_law = law.fit(runs, target="performance")    # Z = h(R) + c*L (+ d*Q)
>>> report = law.check((loss_law, perf_law), ratio=3.1, loss=1.92, performance_floor=0.55)
>>> report.verdict, report.reason                     # ("ok" | "risk", one line)

Modules: ``forms`` (the forms and their solver),
:mod:`~fastzip.law.fit` (:func:`fit`, :class:`Law`), :mod:`~fastzip.law.check`
(:func:`check`, :class:`CheckReport`), ``runs`` (:class:`Run`),
``ingest`` (runs tables, first-epoch losses, dataset ratios),
``plotting`` (:func:`plot`; needs matplotlib), and the command ``fastzip law`` in
``fastzip.cli.law``.
"""
from __future__ import annotations

from .check import CheckItem, CheckReport, check
from .fit import FORM_CHOICES, TARGETS, Band, Law, fit
from .forms import FORMS
from .ingest import (
    dataset_ratio,
    first_epoch_loss,
    loss_from_csv,
    loss_from_trainer_state,
    read_runs,
)
from .plotting import plot
from .runs import Run

__all__ = [
    "FORMS",
    "FORM_CHOICES",
    "TARGETS",
    "Band",
    "CheckItem",
    "CheckReport",
    "Law",
    "Run",
    "check",
    "dataset_ratio",
    "first_epoch_loss",
    "fit",
    "loss_from_csv",
    "loss_from_trainer_state",
    "plot",
    "read_runs",
]
