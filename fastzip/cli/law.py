"""``fastzip law``: fit the entropy law, check a new data version, measure ratios.

The main CLI calls :func:`add_subparser` with its sub-parsers object. Every
leaf parser sets ``func`` to a handler ``handler(args) -> int`` that returns
the exit code:

* ``law fit``: 0.
* ``law check``: 0 when the verdict is ``ok``, 1 when it is ``risk`` (so a
  pipeline can stop on a risky data version).
* ``law ratio``: 0.

Bad input raises :class:`fastzip.errors.InputError` (the main CLI prints it
and exits 2); a ``--plot`` without matplotlib prints an error and returns 2.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._checks import finite_number, real_number
from .._optional import require_matplotlib
from ..errors import InputError, MissingDependencyError
from ..io import staged_outputs, write_json
from ..io.compression import split_compression
from ..law.check import CheckReport, check
from ..law.fit import FORM_CHOICES, TARGETS, Law, fit
from ..law.ingest import (
    dataset_ratio,
    first_epoch_loss,
    loss_from_csv,
    loss_from_trainer_state,
    ratio_and_count,
    read_runs,
)
from ..law.plotting import plot
from ..law.runs import Run
from ..samples.serialize import SERIALIZERS
from ..streams.codecs import DEFAULT_SELECT_CODEC, available_codecs
from .proxy import add_proxy_parser

EXIT_OK, EXIT_RISK, EXIT_ERROR = 0, 1, 2


# ------------------------------------------------------------------ helpers
def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _finite(text: str) -> float:
    value = finite_number(text, parse_text=True)
    if value is None:
        what = "a number" if real_number(text, parse_text=True) is None else "a finite number"
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def _positive(text: str) -> float:
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _level(text: str) -> float:
    value = _finite(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


@contextlib.contextmanager
def _blame(path: str) -> Iterator[None]:
    """Name the runs table in errors that come from its rows (record = data row)."""
    try:
        yield
    except InputError as exc:
        if exc.path is not None:
            raise
        raise InputError(exc.reason, path=path, record=exc.record) from None


def _outputs(args: argparse.Namespace, *inputs: str | None) -> contextlib.AbstractContextManager[None]:
    """``-o`` and ``--plot``, checked before any work (never an input) and committed together at the end."""
    return staged_outputs([("-o", args.output), ("--plot", args.plot)],
                          inputs=[p for p in inputs if p is not None and p != "-"])


def _print_json(obj: Any, args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(obj, indent=2, allow_nan=False))


def _plot_available(args: argparse.Namespace) -> bool:
    """With ``--plot``, make sure matplotlib is there, and knows the file's format, before any work is done."""
    if not getattr(args, "plot", None):
        return True
    try:
        require_matplotlib()
    except MissingDependencyError as exc:
        print(f"fastzip: error: --plot: {exc}", file=sys.stderr)
        return False
    from matplotlib.figure import Figure

    known = Figure().canvas.get_supported_filetypes()
    suffix = Path(args.plot).suffix.lower().lstrip(".")
    if suffix not in known:
        print(f"fastzip: error: {args.plot}: --plot writes an image whose suffix names its format, not "
              f"{('.' + suffix) if suffix else 'no suffix'}; use one of .{', .'.join(sorted(known))}", file=sys.stderr)
        return False
    return True


def _add_ratio_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--codec", choices=available_codecs(), default="zlib",
                   help="codec for the compression ratio (default: zlib, the paper's measure with repr; "
                        f"fastzip select's reported ratio uses {DEFAULT_SELECT_CODEC} over text, so it is not "
                        "comparable unless the same settings are given); use the same settings for every data "
                        "version in a runs table")
    p.add_argument("--level", type=int, default=None,
                   help="compression level (default: the codec's own, as in fastzip ratio: zlib 9, zstd 3, lz4 0)")
    p.add_argument("--serializer", choices=SERIALIZERS, default="repr",
                   help="how records become bytes: repr (the paper's), json or text (default: repr)")


def _add_fit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bootstrap", type=_non_negative_int, default=1000, metavar="N",
                   help="bootstrap refits for the confidence intervals and bands (default: 1000; 0: none)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap, for reproducible intervals (default: 0)")
    p.add_argument("--ci", type=_level, default=0.95, metavar="LEVEL",
                   help="confidence level of the parameter intervals (default: 0.95)")
    p.add_argument("--no-quality", action="store_true",
                   help="ignore the quality column in a performance law (default: use it when every run has one)")


def _add_output_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--plot", metavar="FILE.png",
                   help=f"draw the runs, the fitted curve, its band{what} to this image (needs matplotlib)")
    p.add_argument("--json", action="store_true", help="print the result as JSON instead of text")
    p.add_argument("-o", "--output", metavar="FILE.json", help="also write the JSON result to this file (atomically)")


# ----------------------------------------------------------------- parsers
def add_subparser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``law`` with its sub-commands ``fit``, ``check`` and ``ratio``.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The main parser's sub-parsers, from ``add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``law`` parser; each leaf sets ``func`` to its handler.
    """
    law = subparsers.add_parser(
        "law", help="entropy law: fit it on past runs, check a new data version, measure ratios",
        description="The entropy law (Yin et al., 2024): model performance falls as the compression ratio R "
                    "of the training data rises, and the first-epoch loss L carries the rest of the signal. "
                    "Fit it on earlier data versions, then check a new version at the start of training.")
    sub = law.add_subparsers(dest="law_command", metavar="{fit,check,ratio,proxy}", required=True)

    p = sub.add_parser(
        "fit", help="fit a law to a runs table",
        description="Fit loss = h(ratio) or performance = h(ratio) + c*loss (+ d*quality) to a runs table. "
                    "Forms: linear a+b*R, loglinear a+b*ln(R), power a*R^b, exp a*exp(b*R); auto picks the "
                    "lowest leave-one-out RMSE.")
    p.add_argument("runs", metavar="RUNS",
                   help="runs table, CSV or JSON, with columns name, ratio, loss[, performance, quality]")
    p.add_argument("--target", choices=TARGETS, default="loss",
                   help="loss: first-epoch loss from ratio; performance: performance from ratio, loss "
                        "(and quality) (default: loss)")
    p.add_argument("--form", choices=FORM_CHOICES, default="auto",
                   help="functional form (default: auto, by leave-one-out cross-validation)")
    _add_fit_options(p)
    _add_output_options(p, "")
    p.set_defaults(func=run_fit)

    p = sub.add_parser(
        "check", help="check a new data version's ratio and first-epoch loss against the laws",
        description="Fit the loss law (and, when every run has a performance, the performance law) on RUNS, "
                    "then check the new version: risk when its loss lies outside the band the loss law "
                    "predicts from its ratio, or when its predicted performance falls below --floor. "
                    "Exit status: 0 ok, 1 risk, 2 error.")
    p.add_argument("runs", metavar="RUNS",
                   help="runs table of earlier data versions, CSV or JSON, with columns name, ratio, "
                        "loss[, performance, quality]")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--ratio", type=_positive, metavar="R", help="compression ratio of the new data version")
    g.add_argument("--data", metavar="FILE",
                   help="data file of the new version (JSON list, JSONL or Parquet); its ratio is computed "
                        "with --codec/--level/--serializer")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--loss", type=_finite, metavar="L", help="first-epoch training loss of the new version")
    g.add_argument("--trainer-state", metavar="FILE",
                   help="Hugging Face Trainer trainer_state.json (or a checkpoint folder holding one); "
                        "the loss is the mean of the log_history losses at epoch <= 1")
    g.add_argument("--loss-csv", metavar="FILE",
                   help="CSV of step,loss[,epoch]; the loss is the mean over epoch <= 1 "
                        "(every row when there is no epoch column)")
    p.add_argument("--quality", type=_finite, metavar="Q",
                   help="average sample quality of the new version (needed when the performance law uses quality)")
    p.add_argument("--floor", type=_finite, metavar="Z",
                   help="performance floor: risk when the predicted performance is below it "
                        "(needs a performance column in RUNS)")
    p.add_argument("--z", type=_positive, default=2.0, metavar="SD",
                   help="band half-width in standard deviations of a new run (default: 2.0)")
    p.add_argument("--form", choices=FORM_CHOICES, default="auto", help="form of the loss law (default: auto)")
    p.add_argument("--performance-form", choices=FORM_CHOICES, default="auto",
                   help="form of the performance law (default: auto)")
    _add_fit_options(p)
    _add_ratio_options(p)
    _add_output_options(p, " and the checked point coloured by verdict")
    # None: not given (zlib over repr when --data is measured); with --ratio they would be ignored, so refused
    p.set_defaults(func=run_check, codec=None, serializer=None)

    p = sub.add_parser(
        "ratio", help="print the compression ratio of several data files in one table",
        description="Compute the compression ratio R of each data file (one data version each) with "
                    "fastzip.compression_ratio. Name = file name without its extension.")
    p.add_argument("data", nargs="+", metavar="DATA", help="data files: JSON list, JSONL or Parquet")
    _add_ratio_options(p)
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    fmt.add_argument("--csv", action="store_true",
                     help="print CSV (name,ratio,records,file), ready to extend into a runs table")
    p.set_defaults(func=run_ratio)
    add_proxy_parser(sub)
    return law


# ----------------------------------------------------------------- handlers
def run_fit(args: argparse.Namespace) -> int:
    """``fastzip law fit``: fit a law to a runs table and print it.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``law fit`` command line.

    Returns
    -------
    int
        0, or 2 when ``--plot`` needs matplotlib and it is missing.

    Raises
    ------
    fastzip.errors.InputError
        A bad runs table or a law that cannot be fitted.
    """
    if not _plot_available(args):
        return EXIT_ERROR
    with _outputs(args, args.runs):
        with _blame(args.runs):
            law = fit(args.runs, target=args.target, form=args.form, n_boot=args.bootstrap, ci=args.ci,
                      seed=args.seed, use_quality=False if args.no_quality else None)
        if args.plot:
            plot(law, args.plot)
        result = law.to_dict()
        if args.output:
            write_json(result, args.output)
    _print_json(result, args)
    if not args.json:
        print(law.summary())
        if args.plot:
            print(f"plot: {args.plot}")
    return EXIT_OK


def _new_version(args: argparse.Namespace) -> tuple[float, float, str | None]:
    if args.data is None and (args.codec, args.level, args.serializer) != (None, None, None):
        raise InputError("--codec, --level and --serializer measure --data; with --ratio they would be ignored "
                         "(drop them, or give --data)")
    args.codec, args.serializer = args.codec or "zlib", args.serializer or "repr"
    if args.data is not None:
        ratio = dataset_ratio(args.data, codec=args.codec, level=args.level, serializer=args.serializer)
        source = f"ratio {ratio:.6g} of {args.data} ({args.codec}, {args.serializer})"
    else:
        ratio, source = args.ratio, None
    if args.trainer_state is not None:
        loss = loss_from_trainer_state(args.trainer_state)
    elif args.loss_csv is not None:
        loss = loss_from_csv(args.loss_csv)
    else:
        loss = first_epoch_loss(args.loss)
    return ratio, loss, source


def run_check(args: argparse.Namespace) -> int:
    """``fastzip law check``: check a new data version against laws fitted on a runs table.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``law check`` command line.

    Returns
    -------
    int
        0 when the verdict is ok, 1 when it is risk, 2 when ``--plot`` needs
        matplotlib and it is missing.

    Raises
    ------
    fastzip.errors.InputError
        A bad runs table or data file, a law that cannot be fitted, or a
        ``--floor`` / ``--quality`` the laws cannot use.
    """
    if not _plot_available(args):
        return EXIT_ERROR
    with _outputs(args, args.runs, args.data, args.trainer_state, args.loss_csv):
        runs = read_runs(args.runs)
        ratio, loss, source = _new_version(args)
        laws, notes = _fit_check_laws(args, runs)
        uses_quality = any("quality" in lw.predictors for lw in laws)
        if uses_quality and args.quality is None:
            raise InputError("the performance law uses quality: pass --quality Q for the new version "
                             "(or --no-quality to fit without it)", path=args.runs)
        if args.quality is not None and not uses_quality:
            raise InputError("--quality is read by a performance law with a quality term, and these runs give "
                             "none (no 'quality' column, or --no-quality): drop --quality", path=args.runs)
        quality = args.quality if uses_quality else None
        report = check(laws, ratio, loss, performance_floor=args.floor, z=args.z, quality=quality)
        if args.plot:
            plot(laws, args.plot, report)
        result = report.to_dict()
        result["laws"] = {lw.target: lw.to_dict(include_runs=False) for lw in laws}
        result["notes"] = list(result["notes"]) + notes
        if args.output:
            write_json(result, args.output)
    _print_json(result, args)
    if not args.json:
        _print_check(args, report, laws, notes, source)
    return EXIT_RISK if report.is_risk else EXIT_OK


def _fit_check_laws(args: argparse.Namespace, runs: list[Run]) -> tuple[list[Law], list[str]]:
    """The loss law, and the performance law when every run has a performance (else a note why not)."""
    options = dict(n_boot=args.bootstrap, ci=args.ci, seed=args.seed)
    with _blame(args.runs):
        laws: list[Law] = [fit(runs, "loss", args.form, **options)]
    notes = []
    if all(r.performance is not None for r in runs):
        try:
            with _blame(args.runs):
                laws.append(fit(runs, "performance", args.performance_form,
                                use_quality=False if args.no_quality else None, **options))
        except InputError as exc:
            if args.floor is not None:
                raise InputError(f"--floor needs a performance law, which cannot be fitted: {exc.reason}",
                                 path=args.runs) from None
            notes.append(f"no performance law: {exc.reason}")
    else:
        for given, option in ((args.floor is not None, "--floor"), (args.performance_form != "auto",
                                                                     "--performance-form")):
            if given:
                raise InputError(f"{option} needs a performance law, but not every run has a 'performance' value",
                                 path=args.runs)
    return laws, notes


def _print_check(args: argparse.Namespace, report: CheckReport, laws: list[Law], notes: list[str],
                 source: str | None) -> None:
    """The human-readable verdict of ``law check``."""
    if source:
        print(source)
    print(report.summary())
    for n in notes:
        print(f"  note: {n}")
    for lw in laws:
        print(f"  {lw.target} law: {lw.formula}, R^2 = {lw.r2:.4f}, {lw.n_runs} runs")
    if args.plot:
        print(f"plot: {args.plot}")


def run_ratio(args: argparse.Namespace) -> int:
    """``fastzip law ratio``: print the compression ratio of each data file, one row each.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``law ratio`` command line.

    Returns
    -------
    int
        0.

    Raises
    ------
    fastzip.errors.InputError
        An unreadable data file, or one with no records.
    """
    # the file stem (less a compression suffix: v1.jsonl.gz is v1) names a version; where two files share
    # one, the path less its suffixes does
    bases = [split_compression(str(p))[0] for p in args.data]
    stems = [Path(b).stem for b in bases]
    names = [s if stems.count(s) == 1 else str(Path(b).with_suffix("")) for s, b in zip(stems, bases)]
    rows = []
    for name, path in zip(names, args.data):
        ratio, count = ratio_and_count(path, codec=args.codec, level=args.level, serializer=args.serializer)
        rows.append({"name": name, "ratio": ratio, "records": count, "file": path})
    if args.json:
        print(json.dumps(rows, indent=2))
    elif args.csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["name", "ratio", "records", "file"])
        for r in rows:
            w.writerow([r["name"], f"{r['ratio']:.6f}", r["records"], r["file"]])
    else:
        width = max(4, *(len(r["name"]) for r in rows))
        level = "default" if args.level is None else args.level
        print(f"# codec {args.codec}, level {level}, serializer {args.serializer}")
        print(f"{'name':<{width}}  {'records':>8}  {'ratio':>8}  file")
        for r in rows:
            print(f"{r['name']:<{width}}  {r['records']:>8}  {r['ratio']:>8.4f}  {r['file']}")
    return EXIT_OK
