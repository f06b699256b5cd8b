"""Fit an entropy law to past runs: form choice, bootstrap intervals, the :class:`Law`.

``fit(runs, target="loss")`` fits the first-epoch loss L as a function of the
compression ratio R; ``fit(runs, target="performance")`` fits the model's
performance Z as a function of R and L, and of the quality Q when every run
has one. The forms are described in ``fastzip.law.forms``.

* ``form="auto"`` fits every applicable form, computes its leave-one-out
  cross-validated RMSE, and keeps the lowest; ``Law.cv_rmse`` and
  ``Law.reason`` record the comparison.
* Confidence intervals come from a residual bootstrap: the fitted values plus
  resampled residuals (centred and inflated by sqrt(n / (n - p)) for the
  degrees of freedom the fit used), refitted ``n_boot`` times with a fixed
  ``seed``, so a fit is deterministic. Intervals are percentile intervals at
  level ``ci``.
* The prediction band at a new point is ``center ± z * sd`` with
  ``sd**2 = residual_std**2 + var(bootstrap predictions)``: the spread of a new
  run around the law plus the uncertainty of the law itself.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

import numpy as np

from .._checks import finite_number
from ..errors import InputError
from . import forms as _forms
from .ingest import as_runs
from .runs import Run, RunsLike, validate

TARGETS: tuple[str, ...] = ("loss", "performance")
"""What a law predicts: the first-epoch loss, or the model's performance."""

FORM_CHOICES: tuple[str, ...] = ("auto",) + _forms.FORMS
"""The ``form`` values :func:`fit` takes: ``auto`` or one of :data:`fastzip.law.forms.FORMS`."""

ArrayLike = float | Sequence[float] | np.ndarray
"""A point or points to predict at: a number, a sequence of numbers or an array."""


class Band(NamedTuple):
    """A prediction with its band: ``low = center - z*sd``, ``high = center + z*sd``.

    Each field is a float when :meth:`Law.band` was given scalars, else a
    float64 array of the inputs' shape (hence ``Any``).

    Attributes
    ----------
    center : float or numpy.ndarray
        The law's central prediction.
    low, high : float or numpy.ndarray
        The band's edges.
    sd : float or numpy.ndarray
        The standard deviation of a new run around ``center``.
    """

    center: Any
    low: Any
    high: Any
    sd: Any


@dataclass(frozen=True)
class _Model:
    """The fitted internals: coefficients and the bootstrap draws."""

    form: str
    theta: np.ndarray  # (p,)
    t0: float
    boot_theta: np.ndarray | None  # (n_boot, p) or None


@dataclass(frozen=True, eq=False)
class Law:
    """A fitted entropy law, as :func:`fit` returns it.

    Attributes
    ----------
    target : str
        ``"loss"`` or ``"performance"``.
    form : str
        The functional form (see ``fastzip.law.forms``).
    formula : str
        The law written out, e.g. ``loss = a + b*ln(ratio)``.
    predictors : tuple of str
        ``("ratio",)``, or ``("ratio", "loss"[, "quality"])`` for a performance law.
    params : dict of str to float
        ``a, b`` (and ``c`` for loss, ``d`` for quality in a performance law),
        as in ``formula``.
    ci : dict of str to (float, float), or None
        Bootstrap percentile intervals of ``params`` at level ``ci_level``;
        ``None`` when ``n_boot=0``.
    ci_level : float
        The intervals' confidence level.
    r2 : float
        Coefficient of determination on the runs.
    residual_std : float
        Standard deviation of the residuals, corrected for the parameters fitted.
    n_runs : int
        How many runs the law was fitted on.
    cv_rmse : dict of str to float or None
        Each form tried and its leave-one-out RMSE (``None`` if it could not
        be applied).
    reason : str
        One line saying why ``form`` was chosen.
    notes : tuple of str
        Warnings about the fit (forms skipped or hard to tell apart, ...).
    ratio_range : (float, float)
        The smallest and largest ratio among the runs.
    runs : tuple of Run
        The runs fitted.
    n_boot, seed : int
        Bootstrap refits and their seed.
    """

    target: str
    form: str
    formula: str
    predictors: tuple[str, ...]
    params: dict[str, float]
    ci: dict[str, tuple[float, float]] | None
    ci_level: float
    r2: float
    residual_std: float
    n_runs: int
    cv_rmse: dict[str, float | None]
    reason: str
    notes: tuple[str, ...]
    ratio_range: tuple[float, float]
    runs: tuple[Run, ...]
    n_boot: int
    seed: int
    _model: _Model = field(repr=False)

    # ----------------------------------------------------------------- predict
    def _inputs(self, ratio: ArrayLike, loss: ArrayLike | None,
                quality: ArrayLike | None) -> tuple[np.ndarray, np.ndarray, bool]:
        scalar = np.ndim(ratio) == 0
        x = np.atleast_1d(np.asarray(ratio, dtype=float))
        if not np.all(np.isfinite(x)):
            raise InputError("ratio must be finite")
        if self.form in _forms.LOG_FORMS and np.any(x <= 0):
            raise InputError(f"form '{self.form}' needs ratio > 0")
        given = {"loss": loss, "quality": quality}
        cols = []
        for name in self.predictors[1:]:
            value = given[name]
            if value is None:
                raise InputError(f"this {self.target} law needs {name} to predict")
            v = np.broadcast_to(np.asarray(value, dtype=float), x.shape)
            if not np.all(np.isfinite(v)):
                raise InputError(f"{name} must be finite")
            cols.append(v)
            scalar = scalar and np.ndim(value) == 0
        for name, value in given.items():
            if value is not None and name not in self.predictors:
                raise InputError(f"this {self.target} law does not use {name}; "
                                 f"it predicts from {', '.join(self.predictors)}")
        extras = np.column_stack(cols) if cols else np.empty((x.size, 0))
        return x, extras, scalar

    @overload
    def predict(self, ratio: float, loss: float | None = None, quality: float | None = None) -> float: ...

    @overload
    def predict(self, ratio: Sequence[float] | np.ndarray, loss: ArrayLike | None = None,
                quality: ArrayLike | None = None) -> np.ndarray: ...

    @overload
    def predict(self, ratio: ArrayLike, loss: ArrayLike | None = None,
                quality: ArrayLike | None = None) -> float | np.ndarray: ...

    def predict(self, ratio: ArrayLike, loss: ArrayLike | None = None,
                quality: ArrayLike | None = None) -> float | np.ndarray:
        """Predicted ``target`` at ``ratio`` (and ``loss``/``quality`` for a performance law).

        Parameters
        ----------
        ratio : float or array_like
            Compression ratio(s) R.
        loss, quality : float or array_like, optional
            A performance law's other predictors (broadcast against ``ratio``);
            each is required when the law uses it, and refused when it does not.

        Returns
        -------
        float or numpy.ndarray
            Scalars in, float out; arrays in, float64 array out.

        Raises
        ------
        fastzip.errors.InputError
            A non-finite input, a ratio <= 0 for a log form, or a predictor
            missing or not used.
        """
        x, extras, scalar = self._inputs(ratio, loss, quality)
        m = self._model
        y = _forms.evaluate(m.form, m.theta, m.t0, x, extras)[0]
        return float(y[0]) if scalar else y

    def band(self, ratio: ArrayLike, loss: ArrayLike | None = None,
             quality: ArrayLike | None = None, z: float = 2.0) -> Band:
        """Prediction band for a *new run*: ``center ± z*sd``.

        ``sd = sqrt(residual_std**2 + bootstrap variance of the prediction)``:
        the spread of a new run around the law plus the law's own uncertainty.

        Parameters
        ----------
        ratio, loss, quality : float or array_like
            As in :meth:`predict`.
        z : float, default 2.0
            Half-width of the band in standard deviations.

        Returns
        -------
        Band
            Floats for scalar inputs, arrays otherwise.

        Raises
        ------
        fastzip.errors.InputError
            As :meth:`predict`.
        """
        x, extras, scalar = self._inputs(ratio, loss, quality)
        m = self._model
        center = _forms.evaluate(m.form, m.theta, m.t0, x, extras)[0]
        var = np.full_like(center, self.residual_std ** 2)
        if m.boot_theta is not None and len(m.boot_theta) > 1:
            draws = _forms.evaluate(m.form, m.boot_theta, m.t0, x, extras)
            draws = np.where(np.isfinite(draws), draws, np.nan)
            with np.errstate(invalid="ignore"):
                var = var + np.nan_to_num(np.nanvar(draws, axis=0, ddof=1), nan=np.inf)
        sd = np.sqrt(var)
        low, high = center - z * sd, center + z * sd
        if scalar:
            return Band(float(center[0]), float(low[0]), float(high[0]), float(sd[0]))
        return Band(center, low, high, sd)

    # ----------------------------------------------------------------- output
    def to_dict(self, include_runs: bool = True) -> dict[str, Any]:
        """The law as a JSON-ready dict.

        Parameters
        ----------
        include_runs : bool, default True
            Also list the runs (under ``"runs"``).

        Returns
        -------
        dict
            Every attribute but the internal model; non-finite numbers become ``None``.
        """
        d: dict[str, Any] = {
            "target": self.target,
            "form": self.form,
            "formula": self.formula,
            "predictors": list(self.predictors),
            "params": {k: finite_number(v) for k, v in self.params.items()},
            "ci": None if self.ci is None else {k: [finite_number(lo), finite_number(hi)]
                                                for k, (lo, hi) in self.ci.items()},
            "ci_level": self.ci_level,
            "r2": finite_number(self.r2),
            "residual_std": finite_number(self.residual_std),
            "n_runs": self.n_runs,
            "cv_rmse": {k: finite_number(v) for k, v in self.cv_rmse.items()},
            "reason": self.reason,
            "notes": list(self.notes),
            "ratio_range": list(self.ratio_range),
            "n_boot": self.n_boot,
            "seed": self.seed,
        }
        if include_runs:
            d["runs"] = [r.to_dict() for r in self.runs]
        return d

    def summary(self) -> str:
        """Human-readable multi-line summary.

        Returns
        -------
        str
            The formula, the parameters with their intervals, R², the reason
            for the form and the notes, one per line.
        """
        lines = [f"{self.target} law, form {self.form}, {self.n_runs} runs: {self.formula}"]
        width = max(len(f"{v:.6g}") for v in self.params.values())
        for name, value in self.params.items():
            line = f"  {name} = {value:<{width}.6g}"
            if self.ci is not None:
                lo, hi = self.ci[name]
                line += f"   {self.ci_level:.0%} CI [{lo:.6g}, {hi:.6g}]"
            lines.append(line)
        lines.append(f"  R^2 = {self.r2:.4f}   residual std = {self.residual_std:.4g}")
        lines.append(f"  {self.reason}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


# --------------------------------------------------------------------- fitting
def _loo_rmse(form: str, x: np.ndarray, extras: np.ndarray, y: np.ndarray) -> float:
    """Leave-one-out cross-validated RMSE of ``form`` (all folds in one batch)."""
    n = len(y)
    W = 1.0 - np.eye(n)
    sol = _forms.solve(form, x, extras, np.broadcast_to(y, (n, n)), W)
    preds = np.array([_forms.evaluate(form, sol.theta[i], sol.t0, x[i:i + 1], extras[i:i + 1])[0, 0]
                      for i in range(n)])
    with np.errstate(over="ignore", invalid="ignore"):
        rmse = float(np.sqrt(np.mean((y - preds) ** 2)))
    return rmse if math.isfinite(rmse) else math.inf


def _applicable(form: str, x: np.ndarray, extras: np.ndarray, names: list[str]) -> str | None:
    """Why ``form`` cannot be fitted to these runs, or ``None`` if it can."""
    if form in _forms.LOG_FORMS and np.any(x <= 0):
        i = int(np.argmax(x <= 0))
        return f"form '{form}' needs ratio > 0, but run '{names[i]}' has ratio {x[i]:g}"
    p = 2 + extras.shape[1]
    if form in _forms.NONLINEAR_FORMS:
        if extras.shape[1] and np.linalg.matrix_rank(extras) < extras.shape[1]:
            return "the extra predictors are collinear across these runs"
    elif np.linalg.matrix_rank(_forms.design(form, x, extras)) < p:
        return (f"form '{form}' is not identifiable on these runs: its terms are collinear "
                "(e.g. loss is a linear function of the ratio term)")
    return None


def _check_options(target: str, form: str, n_boot: int, ci: float) -> None:
    if target not in TARGETS:
        raise InputError(f"target must be one of {', '.join(TARGETS)}; got {target!r}")
    if form not in FORM_CHOICES:
        raise InputError(f"form must be one of {', '.join(FORM_CHOICES)}; got {form!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise InputError(f"n_boot must be an integer >= 0; got {n_boot!r}")
    if not 0.0 < ci < 1.0:
        raise InputError(f"ci must be between 0 and 1; got {ci!r}")


def fit(runs: RunsLike, target: str = "loss", form: str = "auto", *, n_boot: int = 1000,
        ci: float = 0.95, seed: int = 0, use_quality: bool | None = None) -> Law:
    """Fit an entropy law to ``runs``.

    Parameters
    ----------
    runs : RunsLike
        A runs table (path to CSV/JSON), a list of :class:`Run` or mappings, or
        a mapping of columns; columns ``name, ratio, loss[, performance, quality]``.
    target : {"loss", "performance"}
        ``"loss"``: L = h(R). ``"performance"``: Z = h(R) + c*L (+ d*Q).
    form : {"auto", "linear", "loglinear", "power", "exp"}
        ``"auto"`` (lowest leave-one-out RMSE) or a form; see ``fastzip.law.forms``.
    n_boot : int, default 1000
        Bootstrap refits; ``0`` skips the bootstrap (no ``ci``).
    ci : float, default 0.95
        Level of the parameter intervals, between 0 and 1.
    seed : int, default 0
        Seed of the bootstrap, which makes a fit deterministic.
    use_quality : bool or None
        Performance laws only. ``None`` uses Q when every run has one,
        ``True`` requires it, ``False`` ignores it.

    Returns
    -------
    Law
        The fitted law.

    Raises
    ------
    fastzip.errors.InputError
        Missing or non-finite values, duplicate runs, a constant ratio (or
        constant target or extra predictor), fewer runs than parameters + 2,
        or a form that cannot apply (a log form with a ratio <= 0).
    """
    _check_options(target, form, n_boot, ci)
    run_list = as_runs(runs)
    predictors, x, extras, y = _table(run_list, target, use_quality)
    n, p = len(y), len(predictors) + 1
    _refuse_degenerate(x, extras, y, predictors, target, p)

    notes: list[str] = []
    chosen, cv, reason = _choose_form(form, x, extras, y, [r.name for r in run_list], notes)

    sol = _forms.solve(chosen, x, extras, y[None, :])
    fitted = _forms.evaluate(chosen, sol.theta, sol.t0, x, extras)[0]
    resid = y - fitted
    sse = float(resid @ resid)
    r2 = 1.0 - sse / float(np.sum((y - y.mean()) ** 2))
    residual_std = math.sqrt(sse / (n - p))
    if sol.at_bound[0]:
        notes.append("the exponent b stopped at the edge of its search range; this form fits these runs poorly")

    pnames = _forms.param_names(extras.shape[1])
    natural = _forms.natural_params(chosen, sol.theta, sol.t0)[0]
    params = {k: float(v) for k, v in zip(pnames, natural)}
    if not all(math.isfinite(v) for v in params.values()):
        notes.append("a parameter overflows in the documented form (a is the value at ratio 0 or 1, far "
                     "outside the runs); predictions, which use a centred form, are unaffected")

    boot_theta, intervals = None, None
    if n_boot > 0:
        boot_theta, intervals = _bootstrap(chosen, x, extras, fitted, resid, p, n_boot, ci, seed, pnames)

    return Law(
        target=target,
        form=chosen,
        formula=_forms.formula(chosen, target, predictors[1:]),
        predictors=predictors,
        params=params,
        ci=intervals,
        ci_level=ci,
        r2=float(r2),
        residual_std=residual_std,
        n_runs=n,
        cv_rmse=cv,
        reason=reason,
        notes=tuple(notes),
        ratio_range=(float(x.min()), float(x.max())),
        runs=tuple(run_list),
        n_boot=n_boot,
        seed=seed,
        _model=_Model(chosen, sol.theta[0], sol.t0, boot_theta),
    )


def _table(run_list: list[Run], target: str,
           use_quality: bool | None) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
    """Validate the runs and return (predictors, ratio x, extra predictors, target y)."""
    if target == "loss":
        predictors: tuple[str, ...] = ("ratio",)
    else:
        if use_quality is None:
            use_quality = all(r.quality is not None for r in run_list)
        predictors = ("ratio", "loss", "quality") if use_quality else ("ratio", "loss")
    validate(run_list, predictors + ((target,) if target not in predictors else ()))
    x = np.array([r.ratio for r in run_list], dtype=float)
    y = np.array([getattr(r, target) for r in run_list], dtype=float)
    extras = np.array([[getattr(r, c) for c in predictors[1:]] for r in run_list], dtype=float)
    return predictors, x, extras.reshape(len(run_list), len(predictors) - 1), y


def _refuse_degenerate(x: np.ndarray, extras: np.ndarray, y: np.ndarray, predictors: tuple[str, ...],
                       target: str, p: int) -> None:
    n = len(y)
    if n < p + 2:
        raise InputError(f"too few runs: a {p}-parameter {target} law needs at least {p + 2} runs "
                         f"(parameters + 2); got {n}")
    if np.ptp(x) <= 1e-9 * np.max(np.abs(x)):
        raise InputError(f"all {n} runs have the same ratio ({x[0]:g}); the law needs runs at different ratios")
    for j, name in enumerate(predictors[1:]):
        if np.ptp(extras[:, j]) == 0:
            raise InputError(f"all {n} runs have the same {name} ({extras[0, j]:g}); "
                             "a performance law cannot estimate its effect; drop it or add varied runs")
    if np.ptp(y) == 0:
        raise InputError(f"all {n} runs have the same {target} ({y[0]:g}); there is nothing to fit")


def _choose_form(form: str, x: np.ndarray, extras: np.ndarray, y: np.ndarray, names: list[str],
                 notes: list[str]) -> tuple[str, dict[str, float | None], str]:
    """The form to fit, the leave-one-out RMSE of each form tried, and why."""
    cv: dict[str, float | None] = {}
    if form != "auto":
        why = _applicable(form, x, extras, names)
        if why is not None:
            raise InputError(why)
        cv[form] = _loo_rmse(form, x, extras, y)
        return form, cv, f"form '{form}' chosen by the caller (leave-one-out RMSE {cv[form]:.4g})"
    if len(np.unique(x)) < 3:
        raise InputError("form='auto' needs runs at 3 or more distinct ratios to cross-validate; "
                         "pass an explicit form")
    skipped = []
    for f in _forms.FORMS:
        why = _applicable(f, x, extras, names)
        cv[f] = _loo_rmse(f, x, extras, y) if why is None else None
        if why is not None:
            skipped.append(f"{f} skipped: {why}")
    tried = {f: v for f, v in cv.items() if v is not None}
    if not tried:
        raise InputError("no form applies to these runs: " + "; ".join(skipped))
    notes.extend(skipped)
    chosen = min(tried, key=lambda f: (tried[f], _forms.FORMS.index(f)))
    ranking = " < ".join(f"{f} {v:.4g}" for f, v in sorted(tried.items(), key=lambda kv: kv[1]))
    close = [f for f, v in tried.items() if f != chosen and v <= 1.05 * tried[chosen]]
    if close:
        notes.append(f"{', '.join(close)} cross-validate within 5% of {chosen}: these runs hardly tell "
                     "the forms apart, so trust the law inside the runs' range more than outside it")
    return chosen, cv, f"auto: lowest leave-one-out RMSE ({ranking})"


def _bootstrap(form: str, x: np.ndarray, extras: np.ndarray, fitted: np.ndarray, resid: np.ndarray, p: int,
               n_boot: int, ci: float, seed: int,
               pnames: tuple[str, ...]) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """Residual bootstrap: internal draws (for bands) and percentile intervals of the parameters."""
    n = len(resid)
    rng = np.random.default_rng(seed)
    centred = (resid - resid.mean()) * math.sqrt(n / (n - p))
    Y = fitted[None, :] + centred[rng.integers(0, n, size=(n_boot, n))]
    boot = _forms.solve(form, x, extras, Y)  # same x, so the same centre t0 as the main fit
    draws = _forms.natural_params(form, boot.theta, boot.t0)
    alpha = (1.0 - ci) / 2.0
    with np.errstate(invalid="ignore"):  # draws that overflowed to inf
        lo = np.nanquantile(draws, alpha, axis=0)
        hi = np.nanquantile(draws, 1.0 - alpha, axis=0)
    return boot.theta, {k: (float(a), float(b)) for k, a, b in zip(pnames, lo, hi)}
