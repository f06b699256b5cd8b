"""The ``fastzip`` command line: every sub-command's parser and handler, and nothing else.

``main`` builds the parser and runs a sub-command; ``select`` holds
``fastzip select`` (in memory, out of core and on Ray), ``law`` the
entropy-law commands and ``bench_report`` ``fastzip bench-report``.
"""
from __future__ import annotations

from .main import main

__all__ = ["main"]
