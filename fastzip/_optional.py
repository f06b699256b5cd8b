"""Optional dependencies: one place that imports them or says which extra brings them.

Each function returns the module, or raises
:class:`~fastzip.errors.MissingDependencyError` with one line naming the
``pip install`` that brings it.
"""
from __future__ import annotations

from typing import Any

from .errors import MissingDependencyError


def require_pyarrow() -> Any:
    """``pyarrow`` (with ``pyarrow.parquet`` loaded), for Parquet.

    Returns
    -------
    module
        ``pyarrow``.

    Raises
    ------
    fastzip.errors.MissingDependencyError
        pyarrow is not installed.
    """
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise MissingDependencyError("reading or writing Parquet needs pyarrow: "
                                     "pip install 'fastzip[parquet]'") from None
    return pyarrow


def require_matplotlib(purpose: str = "plotting") -> Any:
    """``matplotlib`` (with the Agg canvas), for plots.

    Parameters
    ----------
    purpose : str, optional
        What needs it: the start of the error message.

    Returns
    -------
    module
        ``matplotlib``.

    Raises
    ------
    fastzip.errors.MissingDependencyError
        matplotlib is not installed.
    """
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure  # noqa: F401
    except ImportError:
        raise MissingDependencyError(f"{purpose} needs matplotlib, which is not installed; "
                                     "install it with: pip install 'fastzip[plot]'") from None
    return matplotlib


def require_ray() -> Any:
    """``ray`` (with ``ray.data`` loaded), for the Ray engine.

    Returns
    -------
    module
        ``ray``.

    Raises
    ------
    fastzip.errors.MissingDependencyError
        Ray Data is not installed.
    """
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise MissingDependencyError("the Ray engine needs Ray Data: pip install 'fastzip[ray]'") from None
    return ray
