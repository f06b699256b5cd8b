"""Optional dependencies: one place that imports them or says which extra brings them.

Each function returns the module, or raises
:class:`~fastzip.errors.MissingDependencyError` with one line naming the
``pip install`` that brings it.
"""
from __future__ import annotations

from typing import Any

from .errors import MissingDependencyError

# The name fastzip is published under on PyPI ("fastzip" there is an unrelated
# project); the import package is still ``fastzip``.
DISTRIBUTION = "fastzip-select"


def install_hint(extra: str | None = None) -> str:
    """The ``pip install`` command that brings ``extra`` (or fastzip itself).

    Parameters
    ----------
    extra : str or None, optional
        An extra declared in pyproject.toml (``plot``, ``parquet``, ``ray``, ``gpu``, ``remote``,
        ``proxy``, ``tokens``).

    Returns
    -------
    str
        E.g. ``pip install 'fastzip-select[plot]'``.
    """
    return f"pip install '{DISTRIBUTION}[{extra}]'" if extra else f"pip install {DISTRIBUTION}"


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
                                     f"{install_hint('parquet')}") from None
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
                                     f"install it with: {install_hint('plot')}") from None
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
        raise MissingDependencyError(f"the Ray engine needs Ray Data: {install_hint('ray')}") from None
    return ray


def require_fsspec(url: str) -> Any:
    """``fsspec``, for inputs and outputs on remote storage (``s3://``, ``gs://``, ``hf://``, ``memory://``).

    Parameters
    ----------
    url : str
        The remote path that needs it (named in the error).

    Returns
    -------
    module
        ``fsspec``.

    Raises
    ------
    fastzip.errors.MissingDependencyError
        fsspec is not installed.
    """
    try:
        import fsspec
    except ImportError:
        raise MissingDependencyError(f"{url}: remote storage needs fsspec: {install_hint('remote')}") from None
    return fsspec


def require_torch() -> Any:
    """``torch``, for the proxy-model harness.

    Returns
    -------
    module
        ``torch``.

    Raises
    ------
    fastzip.errors.MissingDependencyError
        torch is not installed.
    """
    try:
        import torch
    except ImportError:
        raise MissingDependencyError(f"the proxy-model harness needs torch: {install_hint('proxy')}") from None
    return torch


def require_tokenizers() -> Any:
    """``tokenizers``, for token budgets and proxy models that count with a tokenizer file.

    Returns
    -------
    module
        ``tokenizers``.

    Raises
    ------
    fastzip.errors.MissingDependencyError
        tokenizers is not installed.
    """
    try:
        import tokenizers
    except ImportError:
        raise MissingDependencyError(f"a tokenizer file needs the tokenizers package: "
                                     f"{install_hint('tokens')}") from None
    return tokenizers
