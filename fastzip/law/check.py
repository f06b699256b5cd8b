"""Early risk check of a new data version against laws fitted on earlier ones.

This is the paper's application: at the start of training, compare the new
version's compression ratio R and first-epoch loss L with the laws, and flag a
likely regression before spending the compute (docs/semantics.md §6).

Pass one law, or both as a tuple ``(loss_law, performance_law)`` (any order,
at most one per target; a ``{"loss": ..., "performance": ...}`` mapping works
too):

* **loss law** (L = h(R)): ``risk`` when the observed L lies outside the band
  ``expected ± z*sd`` predicted from R (see :meth:`Law.band`). Above the band:
  the data look less consistent than earlier versions at this ratio. Below it:
  the loss is lower than the law allows, which often means duplicated or
  leaked data.
* **performance law** (Z = h(R) + c*L ...): Z is not observed yet, so the law
  predicts it from (R, L[, Q]); ``risk`` when the predicted Z falls below
  ``performance_floor``. Without a floor the prediction is reported only.

The overall verdict is ``risk`` when any law says so.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .._checks import finite_number
from ..errors import InputError
from .fit import Law

LawsLike = Law | Sequence[Law] | Mapping[str, Law]
"""What :func:`check` accepts: one law, a sequence of laws, or laws by target."""


@dataclass(frozen=True)
class CheckItem:
    """What one law says about the new version.

    Attributes
    ----------
    target : str
        The law's target, ``"loss"`` or ``"performance"``.
    form : str
        The law's form.
    expected : float
        The law's central prediction.
    band : (float, float)
        Its ``expected ± z*sd`` band.
    sd : float
        Standard deviation of a new run around ``expected``.
    observed : float or None
        The observed loss; ``None`` for a performance law, whose target is
        not observed at the start of training.
    standardized_residual : float or None
        ``(observed - expected) / sd``; ``None`` for a performance law.
    floor : float or None
        The performance floor checked against, if any.
    verdict : str
        ``"ok"`` or ``"risk"``.
    reason : str
        One line that explains the verdict.
    """

    target: str
    form: str
    expected: float
    band: tuple[float, float]
    sd: float
    observed: float | None
    standardized_residual: float | None
    floor: float | None
    verdict: str
    reason: str


@dataclass(frozen=True)
class CheckReport:
    """The result of :func:`check`.

    Attributes
    ----------
    ratio, loss : float
        The new version's compression ratio and first-epoch loss.
    quality : float or None
        Its average sample quality, when given.
    z : float
        Half-width of the bands in standard deviations.
    verdict : str
        ``"ok"``, or ``"risk"`` when any law says so.
    reason : str
        One line that explains the verdict.
    expected, band, observed, standardized_residual
        The first item's (the loss law's when one was given); see :class:`CheckItem`.
    items : tuple of CheckItem
        Every law's finding, the loss law first.
    notes : tuple of str
        Warnings, such as a ratio outside the range a law was fitted on.
    """

    ratio: float
    loss: float
    quality: float | None
    z: float
    verdict: str
    reason: str
    expected: float
    band: tuple[float, float]
    observed: float | None
    standardized_residual: float | None
    items: tuple[CheckItem, ...]
    notes: tuple[str, ...]

    @property
    def is_risk(self) -> bool:
        """True when the verdict is ``"risk"``."""
        return self.verdict == "risk"

    def item(self, target: str) -> CheckItem | None:
        """The finding of one law.

        Parameters
        ----------
        target : str
            ``"loss"`` or ``"performance"``.

        Returns
        -------
        CheckItem or None
            The finding of the ``target`` law, or ``None`` if none was given.
        """
        return next((i for i in self.items if i.target == target), None)

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict.

        Returns
        -------
        dict
            Every attribute; tuples become lists, non-finite numbers ``None``.
        """
        cleaned: dict[str, Any] = _clean(asdict(self))
        return cleaned

    def summary(self) -> str:
        """Human-readable multi-line summary.

        Returns
        -------
        str
            The verdict and its reason on the first line, then one line per
            law and one per note.
        """
        lines = [f"{self.verdict.upper()}: {self.reason}"]
        for it in self.items:
            lo, hi = it.band
            line = (f"  {it.target} law ({it.form}): expected {it.expected:.4g}, "
                    f"band [{lo:.4g}, {hi:.4g}] (z = {self.z:g})")
            if it.observed is not None:
                line += f", observed {it.observed:.4g}, standardized residual {it.standardized_residual:+.2f}"
            if it.floor is not None:
                line += f", floor {it.floor:.4g}"
            lines.append(line + f": {it.verdict}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return finite_number(obj)
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def _laws_by_target(law: LawsLike) -> dict[str, Law]:
    if isinstance(law, Law):
        laws: list[object] = [law]
    elif isinstance(law, Mapping):
        laws = list(law.values())
    else:
        laws = list(law)
    if not laws:
        raise InputError("check needs at least one law")
    out: dict[str, Law] = {}
    for item in laws:
        if not isinstance(item, Law):
            raise TypeError(f"expected a fitted Law (from fastzip.law.fit); got {type(item).__name__}")
        if item.target in out:
            raise InputError(f"two {item.target} laws given; pass at most one loss law and one performance law")
        out[item.target] = item
    return dict(sorted(out.items()))  # "loss" before "performance"


def _number(name: str, value: object) -> float:
    number = finite_number(value)
    if number is None:
        raise InputError(f"{name} must be a finite number; got {value!r}")
    return number


def _loss_item(law: Law, ratio: float, loss: float, z: float) -> CheckItem:
    b = law.band(ratio, z=z)
    res = (loss - b.center) / b.sd if b.sd > 0 else math.copysign(math.inf, loss - b.center)
    where = f"the band [{b.low:.4g}, {b.high:.4g}] expected at ratio {ratio:.4g} (residual {res:+.2f} sd)"
    if abs(res) <= z:
        verdict, reason = "ok", f"loss {loss:.4g} is within {where}"
    elif res > 0:
        verdict, reason = "risk", (f"loss {loss:.4g} is above {where}: the data look less consistent "
                                   "than earlier versions at this ratio")
    else:
        verdict, reason = "risk", (f"loss {loss:.4g} is below {where}: lower than earlier versions "
                                   "at this ratio; check for duplicated or leaked data")
    return CheckItem("loss", law.form, b.center, (b.low, b.high), b.sd, loss, res, None, verdict, reason)


def _performance_item(law: Law, ratio: float, loss: float, quality: float | None,
                      floor: float | None, z: float) -> CheckItem:
    if "quality" in law.predictors and quality is None:
        raise InputError("this performance law uses quality; pass quality=")
    b = law.band(ratio, loss, quality if "quality" in law.predictors else None, z=z)
    pred = f"predicted performance {b.center:.4g} (band [{b.low:.4g}, {b.high:.4g}])"
    if floor is None:
        verdict, reason = "ok", f"{pred}; no floor given"
    elif b.center < floor:
        verdict, reason = "risk", f"{pred} is below the floor {floor:.4g}"
    else:
        verdict, reason = "ok", f"{pred} is above the floor {floor:.4g}"
        if b.low < floor:
            reason += ", though its band reaches below it"
    return CheckItem("performance", law.form, b.center, (b.low, b.high), b.sd, None, None, floor, verdict, reason)


def check(law: LawsLike, ratio: float, loss: float, performance_floor: float | None = None,
          z: float = 2.0, *, quality: float | None = None) -> CheckReport:
    """Check a new data version (``ratio``, first-epoch ``loss``) against ``law``.

    Parameters
    ----------
    law : LawsLike
        A loss law, a performance law, or both as ``(loss_law,
        performance_law)`` (any order; a ``{"loss": ..., "performance": ...}``
        mapping works too).
    ratio : float
        The new version's compression ratio R.
    loss : float
        Its first-epoch training loss L.
    performance_floor : float or None
        Risk when the predicted performance is below it; needs a performance law.
    z : float, default 2.0
        The band's half-width in standard deviations of a new run.
    quality : float or None
        The new version's average sample quality; needed by a performance law
        fitted with quality.

    Returns
    -------
    CheckReport
        The verdict, its reason and each law's finding.

    Raises
    ------
    fastzip.errors.InputError
        No law or two of one target, a value that is not a finite number,
        ``z <= 0``, a floor without a performance law, or quality missing.
    TypeError
        An item of ``law`` that is not a fitted :class:`Law`.
    """
    laws = _laws_by_target(law)
    ratio = _number("ratio", ratio)
    loss = _number("loss", loss)
    z = _number("z", z)
    if z <= 0:
        raise InputError(f"z must be > 0; got {z}")
    if performance_floor is not None:
        performance_floor = _number("performance_floor", performance_floor)
        if "performance" not in laws:
            raise InputError("performance_floor needs a performance law: pass (loss_law, performance_law)")
    if quality is not None:
        quality = _number("quality", quality)

    notes = []
    items = []
    for target, lw in laws.items():
        lo, hi = lw.ratio_range
        if not lo <= ratio <= hi:
            notes.append(f"ratio {ratio:.4g} lies outside the {target} law's fitted range "
                         f"[{lo:.4g}, {hi:.4g}]; its band is an extrapolation")
        if target == "loss":
            items.append(_loss_item(lw, ratio, loss, z))
        else:
            losses = [r.loss for r in lw.runs]
            if not min(losses) <= loss <= max(losses):
                notes.append(f"loss {loss:.4g} lies outside the performance law's fitted range "
                             f"[{min(losses):.4g}, {max(losses):.4g}]")
            items.append(_performance_item(lw, ratio, loss, quality, performance_floor, z))

    risky = [it for it in items if it.verdict == "risk"]
    verdict = "risk" if risky else "ok"
    reason = "; ".join(it.reason for it in (risky or items))
    first = items[0]
    return CheckReport(
        ratio=ratio, loss=loss, quality=quality, z=z, verdict=verdict, reason=reason,
        expected=first.expected, band=first.band, observed=first.observed,
        standardized_residual=first.standardized_residual, items=tuple(items), notes=tuple(notes),
    )
