"""Plot fitted laws: the runs, the fitted curve, its band, and a checked point.

matplotlib is optional (``pip install 'fastzip-select[plot]'``); it is imported only
here, on first use, and drawn with the Agg backend through a private figure,
so the caller's pyplot state and backend are left alone.

A performance law depends on more than R; its panel shows the curve over R at
fixed loss (and quality): the checked run's when there is one, else the runs'
mean. The runs are drawn adjusted to those values (``Z - c*(L - L0) - d*(Q -
Q0)``); since the forms add L and Q linearly, the adjusted points scatter
around the curve exactly as the runs scatter around the law.
"""
from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import require_matplotlib
from ..errors import InputError
from ..io import write_bytes_atomic
from .check import CheckReport
from .fit import Law

_COLOURS = {"ok": "#2ca02c", "risk": "#d62728"}


def plot(laws: Law | Sequence[Law], path: str | os.PathLike[str],
         report: CheckReport | None = None, *, z: float | None = None, dpi: int = 120) -> Path:
    """Draw one panel per law into an image: the runs, the fitted curve and its band.

    Parameters
    ----------
    laws : Law or sequence of Law
        The laws, one panel each, side by side.
    path : str or os.PathLike
        The image, written atomically; its suffix names the format (PNG
        when there is none).
    report : CheckReport or None
        Adds the checked point, coloured by its verdict (and the floor, for
        a performance law).
    z : float or None
        Half-width of the band in standard deviations (default: the
        report's, else 2).
    dpi : int, default 120
        Resolution of a raster image.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    fastzip.errors.MissingDependencyError
        matplotlib is not installed (``pip install 'fastzip-select[plot]'``).
    fastzip.errors.InputError
        No laws given.
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional dependency (the plot extra)
    from matplotlib.figure import Figure

    law_list = [laws] if isinstance(laws, Law) else list(laws)
    if not law_list:
        raise InputError("nothing to plot: no laws given")
    z = z if z is not None else (report.z if report is not None else 2.0)
    fig = Figure(figsize=(6.4 * len(law_list), 4.8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(law_list), squeeze=False)[0]
    for ax, law in zip(axes, law_list):
        _draw(ax, law, report, z)
    fig.tight_layout()

    out = Path(path)
    fmt = out.suffix.lstrip(".").lower() or "png"
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi)
    write_bytes_atomic(str(out), buffer.getvalue())
    return out


def _draw(ax: Any, law: Law, report: CheckReport | None, z: float) -> None:
    x = np.array([r.ratio for r in law.runs])
    y = np.array([getattr(r, law.target) for r in law.runs], dtype=float)
    fixed: dict[str, float] = {}
    for name in law.predictors[1:]:
        observed = getattr(report, name, None) if report is not None else None
        fixed[name] = float(observed) if observed is not None else float(np.mean([getattr(r, name) for r in law.runs]))
    for p, name in zip(("c", "d"), law.predictors[1:]):
        y = y - law.params[p] * (np.array([getattr(r, name) for r in law.runs]) - fixed[name])

    lo, hi = float(x.min()), float(x.max())
    if report is not None:
        lo, hi = min(lo, report.ratio), max(hi, report.ratio)
    pad = 0.05 * (hi - lo)
    lo = lo - pad if law.form not in ("loglinear", "power") else max(lo - pad, lo / 1.05)
    grid = np.linspace(lo, hi + pad, 200)
    band = law.band(grid, z=z, **fixed)

    ax.fill_between(grid, band.low, band.high, color="#1f77b4", alpha=0.18, label=f"band (±{z:g} sd)")
    ax.plot(grid, band.center, color="#1f77b4", lw=2, label=f"{law.form} fit (R² = {law.r2:.3f})")
    ax.scatter(x, y, color="#333333", s=28, zorder=3, label=f"runs (n = {law.n_runs})")
    if len(law.runs) <= 15:
        for r, xi, yi in zip(law.runs, x, y):
            ax.annotate(r.name, (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7, color="#555555")

    item = report.item(law.target) if report is not None else None
    if report is not None and item is not None:
        point = item.observed if item.observed is not None else item.expected
        kind = "checked" if item.observed is not None else "predicted"
        ax.scatter([report.ratio], [point], marker="*", s=260, zorder=4, color=_COLOURS[item.verdict],
                   edgecolor="black", label=f"{kind}: {item.verdict}")
        if item.floor is not None:
            ax.axhline(item.floor, color=_COLOURS["risk"], ls="--", lw=1, label=f"floor {item.floor:g}")

    ax.set_xlabel("compression ratio R")
    ylabel = "first-epoch loss L" if law.target == "loss" else "performance Z"
    if fixed:
        ylabel += " at " + ", ".join(f"{k} = {v:.3g}" for k, v in fixed.items())
    ax.set_ylabel(ylabel)
    ax.set_title(law.formula, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
