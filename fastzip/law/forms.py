"""The law's functional forms and their least-squares solver.

A law predicts ``y`` (first-epoch loss L, or performance Z) from the
compression ratio R and, for performance, from L (and the quality Q):

=========  ==============================  =========================================
form       loss law: L = h(R)              performance law: Z = h(R) + c*L (+ d*Q)
=========  ==============================  =========================================
linear     a + b*R                         a + b*R      + c*L (+ d*Q)
loglinear  a + b*ln(R)                     a + b*ln(R)  + c*L (+ d*Q)
power      a * R**b                        a * R**b     + c*L (+ d*Q)
exp        a * exp(b*R)                    a * exp(b*R) + c*L (+ d*Q)
=========  ==============================  =========================================

The performance law keeps the form's R-term and adds the other predictors
linearly, so every form has the same number of parameters (2, 3 or 4) and
cross-validated errors compare like with like.

Every form is linear in all of its coefficients except at most one exponent
``b``. Linear forms are solved by ordinary least squares. Power and exp are
solved by variable projection: for a fixed ``b`` the rest is least squares, and
``b`` minimises the profile sum of squares (a grid over a wide range, then a
golden-section search in the best grid cell). All forms therefore minimise the
squared error in ``y`` itself (additive noise), which makes R², the residual
spread and cross-validated errors comparable across forms.

Internally the nonlinear forms are written around a centre ``t0`` for
numerical stability: ``A * exp(b * (t(R) - t0))`` with ``t = ln`` (power) or
``t = identity`` (exp); ``a = A * exp(-b * t0)``. The solver works on a batch of
responses at once (rows of ``Y``), which is what makes the bootstrap cheap.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

FORMS: tuple[str, ...] = ("linear", "loglinear", "power", "exp")
"""The forms a law can take, in the order ``auto`` prefers them on ties."""

LOG_FORMS = frozenset({"loglinear", "power"})
"""Forms that take ln(R) and so need R > 0."""

NONLINEAR_FORMS = frozenset({"power", "exp"})
"""Forms with an exponent ``b``, solved by variable projection."""

EXTRA_PARAMS: tuple[str, ...] = ("c", "d")
"""Names of the coefficients of the extra predictors (loss, then quality)."""

_R_TERM = {
    "linear": "a + b*ratio",
    "loglinear": "a + b*ln(ratio)",
    "power": "a*ratio^b",
    "exp": "a*exp(b*ratio)",
}

# Grid for the exponent, in units of 1/span(t(R)): b*span ranges over
# [-_B_SPAN, _B_SPAN]. e**20 between the smallest and the largest run is far
# beyond any plausible law; hitting the bound is reported as a poor fit.
_B_SPAN = 20.0
_N_GRID = 161
_N_GOLDEN = 45
_INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0


class Solution(NamedTuple):
    """Internal coefficients of a batch of fits.

    Attributes
    ----------
    theta : numpy.ndarray
        One row per response: ``[a or A, b, c, d][:p]``.
    t0 : float
        The centre of the nonlinear forms (0 for linear forms).
    at_bound : numpy.ndarray
        Per row, whether the exponent stopped at the edge of its search range.
    """

    theta: np.ndarray
    t0: float
    at_bound: np.ndarray


def param_names(n_extra: int) -> tuple[str, ...]:
    """Parameter names of a law with extra predictors.

    Parameters
    ----------
    n_extra : int
        How many extra predictors (0, 1 or 2: loss, then quality).

    Returns
    -------
    tuple of str
        ``("a", "b")`` followed by ``"c"`` and ``"d"`` as needed.
    """
    return ("a", "b") + EXTRA_PARAMS[:n_extra]


def formula(form: str, target: str, extras: tuple[str, ...] = ()) -> str:
    """The law written out, e.g. ``performance = a + b*ln(ratio) + c*loss``.

    Parameters
    ----------
    form : str
        One of :data:`FORMS`.
    target : str
        The predicted quantity's name.
    extras : tuple of str
        The extra predictors' names, in coefficient order (``c``, ``d``).

    Returns
    -------
    str
        ``target = ...``.
    """
    terms = [_R_TERM[form]] + [f"{p}*{name}" for p, name in zip(EXTRA_PARAMS, extras)]
    return f"{target} = " + " + ".join(terms)


def _transform(form: str, x: np.ndarray) -> np.ndarray:
    """t(R): ln R for the log forms, R itself otherwise."""
    return np.log(x) if form in LOG_FORMS else x


def design(form: str, x: np.ndarray, extras: np.ndarray) -> np.ndarray:
    """Design matrix of a linear form.

    Parameters
    ----------
    form : str
        ``"linear"`` or ``"loglinear"``.
    x : numpy.ndarray
        Ratios, shape (n,).
    extras : numpy.ndarray
        Extra predictors, shape (n, m).

    Returns
    -------
    numpy.ndarray
        ``[1, t(R), extras...]``, shape (n, 2 + m).
    """
    return np.column_stack([np.ones_like(x), _transform(form, x), extras])


def evaluate(form: str, theta: np.ndarray, t0: float, x: np.ndarray, extras: np.ndarray) -> np.ndarray:
    """Predictions of a batch of fitted coefficients.

    Parameters
    ----------
    form : str
        One of :data:`FORMS`.
    theta : numpy.ndarray
        Internal coefficients, shape (B, p) or (p,).
    t0 : float
        The centre of a nonlinear form (see :class:`Solution`).
    x, extras
        As in :func:`design`.

    Returns
    -------
    numpy.ndarray
        Predictions, shape (B, n); overflow gives inf, not an error.
    """
    theta = np.atleast_2d(theta)
    t = _transform(form, x)
    if form in NONLINEAR_FORMS:
        with np.errstate(over="ignore", invalid="ignore"):
            y = theta[:, 0:1] * np.exp(theta[:, 1:2] * (t - t0)[None, :])
    else:
        y = theta[:, 0:1] + theta[:, 1:2] * t[None, :]
    if extras.shape[1]:
        y = y + theta[:, 2:] @ extras.T
    return y


def natural_params(form: str, theta: np.ndarray, t0: float) -> np.ndarray:
    """Convert internal coefficients to the documented ``a, b, c, d``.

    Parameters
    ----------
    form, theta, t0
        As in :func:`evaluate`.

    Returns
    -------
    numpy.ndarray
        A new (B, p) array of ``a, b[, c[, d]]``.
    """
    out = np.array(np.atleast_2d(theta), dtype=float, copy=True)
    if form in NONLINEAR_FORMS:
        with np.errstate(over="ignore", invalid="ignore"):
            out[:, 0] = out[:, 0] * np.exp(-out[:, 1] * t0)
    return out


def _weighted_ls(columns: list[np.ndarray], W: np.ndarray, Y: np.ndarray,
                 n_grid: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Batched weighted least squares of each row of ``Y`` (K, n), weights ``W`` (K, n).

    Each column is either shared, shape (n,), or one per row, shape (K, n);
    with ``n_grid > 0`` columns may instead be one per grid point, shape
    (n_grid, n), and every row is solved at every grid point. Returns ``coef``
    of shape (K[, n_grid], q) and the weighted residual sum of squares.
    """
    q = len(columns)
    out_shape = (Y.shape[0], n_grid) if n_grid else (Y.shape[0],)
    WY = W * Y

    def weighted_sum(V: np.ndarray, p: np.ndarray) -> np.ndarray:
        # sum_n V[k, n] * p[..., n], shaped to out_shape
        if n_grid:
            r = V @ p.T if p.ndim == 2 else (V @ p)[:, None]
        else:
            r = np.sum(V * p, axis=-1)
        return np.broadcast_to(r, out_shape)

    v = np.stack([weighted_sum(WY, c) for c in columns], axis=-1)
    M = np.empty(out_shape + (q, q))
    for i in range(q):
        for j in range(i, q):
            M[..., i, j] = M[..., j, i] = weighted_sum(W, columns[i] * columns[j])
    # a relative ridge of 1e-12 keeps (near-)singular systems solvable
    diag = np.einsum("...ii->...i", M)
    M = M + np.eye(q) * (1e-12 * diag[..., None, :] + 1e-300)
    coef = np.linalg.solve(M, v[..., None])[..., 0]
    yy = np.sum(WY * Y, axis=-1)
    sse = (yy[:, None] if n_grid else yy) - np.sum(coef * v, axis=-1)
    return coef, sse


def solve(form: str, x: np.ndarray, extras: np.ndarray, Y: np.ndarray,
          W: np.ndarray | None = None) -> Solution:
    """Weighted least-squares fit of ``form`` to every row of ``Y``.

    Parameters
    ----------
    form : str
        One of :data:`FORMS`.
    x : numpy.ndarray
        Ratios, shape (n,).
    extras : numpy.ndarray
        Extra predictors, shape (n, m).
    Y : numpy.ndarray
        Responses, shape (K, n) (or (n,) for one).
    W : numpy.ndarray or None
        Per-row observation weights, shape (K, n) (default all 1); a zero
        weight drops a point, which is how leave-one-out folds are batched.

    Returns
    -------
    Solution
        The internal coefficients of every row.
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    W = np.ones_like(Y) if W is None else np.broadcast_to(np.asarray(W, dtype=float), Y.shape)
    if form in NONLINEAR_FORMS:
        return _solve_nonlinear(form, x, extras, Y, W)
    X = design(form, x, extras)
    theta, _ = _weighted_ls(list(X.T), W, Y)
    return Solution(theta, 0.0, np.zeros(Y.shape[0], dtype=bool))


def _solve_nonlinear(form: str, x: np.ndarray, extras: np.ndarray, Y: np.ndarray, W: np.ndarray) -> Solution:
    t = _transform(form, x)
    t0 = float(np.mean(t))
    u = t - t0
    span = float(np.ptp(u)) or 1.0
    ex_cols = list(extras.T)

    def basis(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """exp(b*u) scaled to max 1 (the coefficient absorbs the scale)."""
        e = b[..., None] * u
        shift = np.max(e, axis=-1, keepdims=True)
        return np.exp(e - shift), shift[..., 0]

    def profile_sse(b: np.ndarray) -> np.ndarray:
        g, _ = basis(b)
        return _weighted_ls([g] + ex_cols, W, Y)[1]

    grid = np.linspace(-_B_SPAN, _B_SPAN, _N_GRID) / span
    G, _ = basis(grid)
    _, sse_grid = _weighted_ls([G] + ex_cols, W, Y, n_grid=_N_GRID)
    j = np.argmin(sse_grid, axis=1)
    at_bound = (j == 0) | (j == _N_GRID - 1)
    lo = grid[np.maximum(j - 1, 0)]
    hi = grid[np.minimum(j + 1, _N_GRID - 1)]

    # golden-section search, vectorised over the rows
    c = hi - _INV_PHI * (hi - lo)
    d = lo + _INV_PHI * (hi - lo)
    fc, fd = profile_sse(c), profile_sse(d)
    for _ in range(_N_GOLDEN):
        left = fc < fd
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
        new = np.where(left, hi - _INV_PHI * (hi - lo), lo + _INV_PHI * (hi - lo))
        fnew = profile_sse(new)
        c, d, fc, fd = (
            np.where(left, new, d),
            np.where(left, c, new),
            np.where(left, fnew, fd),
            np.where(left, fc, fnew),
        )
    b = 0.5 * (lo + hi)
    g, shift = basis(b)
    coef, _ = _weighted_ls([g] + ex_cols, W, Y)
    theta = np.empty((Y.shape[0], 2 + len(ex_cols)))
    with np.errstate(over="ignore", invalid="ignore"):
        theta[:, 0] = coef[:, 0] * np.exp(-shift)
    theta[:, 1] = b
    theta[:, 2:] = coef[:, 1:]
    return Solution(theta, t0, at_bound)
