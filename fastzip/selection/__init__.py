"""ZIP selection: :func:`select` and what it returns.

``config`` validates a run's arguments once, ``greedy`` (default mode) and
``reference`` (compat mode) are the two engines, ``trace`` and ``result``
describe a run, ``judge`` rates a selection and ``report`` draws it.
"""
from __future__ import annotations

from .api import select
from .result import SelectionResult
from .trace import RoundTrace

__all__ = ["RoundTrace", "SelectionResult", "select"]
