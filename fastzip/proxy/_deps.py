"""The proxy harness's optional dependencies, loaded on first use.

A local loader rather than one in :mod:`fastzip._optional` (which this
package does not own): the integrator may move :func:`require_torch` there.
"""
from __future__ import annotations

from typing import Any

from ..errors import MissingDependencyError

INSTALL_HINT = "pip install 'fastzip-select[proxy]'"


def require_torch() -> Any:
    """``torch``, for the proxy-model harness.

    Returns
    -------
    module
        ``torch``.

    Raises
    ------
    fastzip.errors.MissingDependencyError
        torch is not installed (one line naming the extra that brings it).
    """
    try:
        import torch  # optional dependency: the proxy extra
    except ImportError:
        raise MissingDependencyError(f"the proxy-model harness needs torch: {INSTALL_HINT}") from None
    return torch


def require_tokenizers() -> Any:
    """``tokenizers``, for a ``--tokenizer`` JSON file.

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
        import tokenizers  # optional dependency: only for a tokenizer file
    except ImportError:
        raise MissingDependencyError("a tokenizer file needs the tokenizers package: "
                                     "pip install tokenizers") from None
    return tokenizers
