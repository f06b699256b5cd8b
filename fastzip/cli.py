"""The ``fastzip`` command line: select, ratio, info, law, bench-report."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import NoReturn, cast

from . import __version__
from .errors import FastzipError, InputError, Terminated
from .io import FORMATS
from .serialize import SERIALIZERS

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``fastzip: error: ...`` and exit 2."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.split()[1:]     # "fastzip select" -> ["select"]
        where = f"{' '.join(command)}: " if command else ""
        print(f"fastzip: error: {where}{' '.join(message.split())}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def _add_codec_options(p: argparse.ArgumentParser, default_note: str) -> None:
    p.add_argument("--codec", help=f"zlib, zstd, lz4, lz77 (native-only LZ77 cost estimate) or a registered "
                                   f"codec ({default_note})")
    p.add_argument("--level", type=int, help="codec level (zlib 0-9, zstd 1-22, lz4 <=0 fast / 1-12 HC, lz77 1-2)")
    p.add_argument("--serializer", choices=SERIALIZERS,
                   help="how a record becomes bytes (docs/semantics.md §4)")
    p.add_argument("--text-field", metavar="FIELD",
                   help="use this string field of each record as its text (text serializer)")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fastzip", description="Fast, exact ZIP data selection and the entropy law.")
    parser.add_argument("--version", action="version", version=f"fastzip {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    sel = sub.add_parser("select", help="select the least redundant subset of a pool",
                         description="Select the least redundant subset of a pool with ZIP. "
                                     "Without INPUT, selects from the bundled sample pool.")
    sel.add_argument("input", nargs="?", metavar="INPUT",
                     help="pool: JSON list (.json), JSONL (.jsonl) or Parquet (.parquet); - reads standard input")
    sel.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                     help="selected records, in selection order; the format follows OUTPUT's extension, "
                          "else INPUT's format; - writes standard output")
    sel.add_argument("--format", choices=FORMATS,
                     help="INPUT's format, when its name does not say it (needed for -)")
    budget = sel.add_mutually_exclusive_group(required=True)
    budget.add_argument("--budget", type=int, metavar="N", help="number of samples to select")
    budget.add_argument("--budget-bytes", type=int, metavar="BYTES",
                        help="select up to this many serialized bytes (default mode only)")
    sel.add_argument("--k1", type=int, default=10000, help="stage-1 candidates (default 10000)")
    sel.add_argument("--k2", type=int, default=200, help="stage-2 candidates (default 200)")
    sel.add_argument("--k3", type=int, default=100, help="samples added per round (default 100)")
    _add_codec_options(sel, "default zstd; compat: zlib")
    sel.add_argument("--compat", choices=["reference"],
                     help="reproduce the published implementation exactly (faults included)")
    sel.add_argument("--keep-duplicates", action="store_true",
                     help="keep samples whose serialized bytes equal an earlier sample's "
                          "(default mode drops them and says how many)")
    sel.add_argument("--exhaustive", action="store_true",
                     help="re-score every stage-3 candidate at every pick (no lazy greedy)")
    sel.add_argument("--indices-out", metavar="FILE.json",
                     help="also write the selected pool indices (selection order) as a JSON list")
    sel.add_argument("--threads", type=int, default=-1, help="worker threads (-1: all cores)")
    sel.add_argument("--report", metavar="FILE.html|FILE.png",
                     help="also draw the selection against the pool (needs the plot extra)")
    sel.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    from .shards import add_select_options  # scale: out of core and Ray (docs/semantics.md §7)
    add_select_options(sel)
    sel.set_defaults(func=run_select)

    rat = sub.add_parser("ratio", help="print the compression ratio of a dataset",
                         description="Compression ratio len(b)/len(C(b)) of a whole dataset.")
    rat.add_argument("input", metavar="INPUT", help="JSON list, JSONL or Parquet; - reads standard input")
    rat.add_argument("--format", choices=FORMATS,
                     help="INPUT's format, when its name does not say it (needed for -)")
    _add_codec_options(rat, "default zlib")
    rat.set_defaults(func=run_ratio)

    info = sub.add_parser("info", help="show which codecs run natively")
    info.set_defaults(func=run_info)

    _add_optional_commands(sub)
    return parser


def _add_optional_commands(sub: argparse._SubParsersAction[_Parser]) -> None:
    """The sub-commands that live in their own modules: ``law`` and ``bench-report``."""
    from .bench_report import add_subparser as add_bench_report
    from .law.cli import add_subparser as add_law

    # they take any ArgumentParser's sub-parsers; these make _Parser ones (the action's type is invariant)
    subparsers = cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub)
    add_law(subparsers)
    add_bench_report(subparsers)


def run_select(args: argparse.Namespace) -> int:
    """Run ``fastzip select``: read a pool, select, write the picks atomically.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``select`` arguments.

    Returns
    -------
    int
        The exit status (0).

    Raises
    ------
    fastzip.errors.FastzipError
        Bad input, arguments or environment; :func:`main` prints it as one line.
    """
    from . import io
    from .selection import select
    from .shards import run_select_command, wants_out_of_core

    if wants_out_of_core(args):   # a folder, a glob, a large file, or --ray
        return run_select_command(args)
    path = args.input
    if path is None:
        path = io.bundled_sample_path()
        print(f"fastzip: no INPUT given; selecting from the bundled sample pool {path}", file=sys.stderr)
    outputs = [args.output] + ([args.indices_out] if args.indices_out else [])
    for k, out in enumerate(outputs):
        io.check_output(out, inputs=[path], others=outputs[:k] + outputs[k + 1:])
    if args.report:   # before any work: the suffix, the file, and matplotlib
        from . import report
        report.check_report_path(args.report, inputs=[path], others=outputs)
    serializer = args.serializer or ("repr" if args.compat else "text")
    started = time.perf_counter()
    dataset, pool = io.read_pool(path, serializer, format=args.format, text_field=args.text_field)
    try:
        result = select(
            pool, budget=args.budget, budget_bytes=args.budget_bytes,
            k1=args.k1, k2=args.k2, k3=args.k3, codec=args.codec, level=args.level,
            serializer=serializer, compat=args.compat, n_threads=args.threads,
            progress=not args.quiet, lazy=False if args.exhaustive else None,
            dedupe=not args.keep_duplicates)
    except InputError as exc:
        raise dataset.error(exc) from None
    dataset.check_unchanged()
    payloads = {args.output: io.subset_bytes(dataset, result.indices, args.output)}
    if args.indices_out:
        payloads[args.indices_out] = io.json_bytes(result.indices.tolist()) + b"\n"
    io.write_outputs(payloads)
    if args.report:
        report.write_report(result, args.report, pool, n_threads=args.threads)
    if not args.quiet:
        if result.duplicates_dropped:
            print(f"fastzip: dropped {result.duplicates_dropped} exact duplicate samples before selecting "
                  "(--keep-duplicates keeps them)", file=sys.stderr)
        unique = len(set(result.indices.tolist()))
        note = f" ({unique} unique)" if unique != len(result.indices) else ""
        print(f"fastzip: selected {len(result.indices)}{note} of {len(dataset)} samples in "
              f"{time.perf_counter() - started:.2f} s; ratio {result.ratio:.4f} "
              f"({result.codec}-{result.level}, {result.serializer}) -> {args.output}", file=sys.stderr)
    return 0


def run_ratio(args: argparse.Namespace) -> int:
    """Run ``fastzip ratio``: print the compression ratio of a whole dataset.

    Parameters
    ----------
    args : argparse.Namespace
        INPUT, ``--format``, ``--codec``, ``--level``, ``--serializer`` and ``--text-field``.

    Returns
    -------
    int
        0; faults are raised as :class:`fastzip.errors.FastzipError` for :func:`main`.
    """
    from . import io
    from .compressor import compression_ratio

    dataset = io.read_dataset(args.input, args.format)
    if not dataset.records:
        raise InputError("the dataset is empty", path=dataset.name)
    try:
        ratio = compression_ratio(dataset.records, codec=args.codec or "zlib", level=args.level,
                                  serializer=args.serializer or "repr", text_field=args.text_field)
    except InputError as exc:
        raise dataset.error(exc) from None
    print(f"{ratio:.6f}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    """Run ``fastzip info``: print :func:`fastzip.build_info` as JSON.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``info`` arguments (none).

    Returns
    -------
    int
        The exit status (0).
    """
    from .codecs import build_info

    print(json.dumps(build_info(), indent=2))
    return 0


@contextlib.contextmanager
def _termination_as_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind like Ctrl-C (inside native batches too): nothing is written."""
    def handler(signum: int, frame: object) -> NoReturn:
        raise Terminated(signum)

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):   # not the main thread: leave signals alone
            previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def main(argv: list[str] | None = None) -> int:
    """Run the ``fastzip`` command line.

    Parameters
    ----------
    argv : list of str or None, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success; 2 bad input, arguments or environment
        (one line on stderr, nothing written); 130 Ctrl-C, 143 SIGTERM, 129
        SIGHUP (nothing written); 1 an unexpected internal error, with its
        traceback.
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.func   # the sub-command's run_<name>
    try:
        with _termination_as_interrupt():
            return run(args)
    except FastzipError as exc:
        print(f"fastzip: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("fastzip: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated as exc:
        print(f"fastzip: {exc}; nothing was written", file=sys.stderr)
        return 128 + exc.signum
    except BrokenPipeError:   # e.g. `fastzip info | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
