"""The ``fastzip`` command line: select, ratio, info, law, bench-report."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import NoReturn, cast

from .. import __version__, io
from ..errors import FastzipError, InputError, Terminated
from ..io import FORMATS
from ..streams.codecs import DEFAULT_SELECT_CODEC, build_info
from ..streams.compressor import compression_ratio
from .bench_report import add_subparser as add_bench_report
from .common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, Parser, add_codec_options
from .law import add_subparser as add_law
from .select import add_select_parser


def _build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="fastzip", description="Fast, exact ZIP data selection and the entropy law.")
    parser.add_argument("--version", action="version", version=f"fastzip {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    add_select_parser(sub)

    rat = sub.add_parser("ratio", help="print the compression ratio of a dataset",
                         description="Compression ratio len(b)/len(C(b)) of a whole dataset, b being its records "
                                     "serialized one after another. By default this is the paper's measure, zlib "
                                     "level 9 over each record's Python repr, as fastzip law uses; fastzip select "
                                     f"measures with {DEFAULT_SELECT_CODEC} over the records' text by default, so "
                                     "the ratio it reports differs unless the same --codec and --serializer are "
                                     "given.")
    rat.add_argument("input", metavar="INPUT",
                     help="one file: JSON list, JSONL or Parquet, JSON and JSONL optionally compressed (.gz, .zst, "
                          ".bz2, .xz); - reads standard input")
    rat.add_argument("--format", choices=FORMATS,
                     help="INPUT's format, when its name does not say it (needed for -)")
    add_codec_options(rat, "default: zlib", "default: repr; text with --text-field")
    rat.set_defaults(func=run_ratio)

    info = sub.add_parser("info", help="show how this installation compresses: codecs, threads, zlib",
                          description="Print, as JSON, what this installation runs: whether the native extension "
                                      "loaded and with OpenMP threads, which codecs run natively or through their "
                                      "Python bindings (with library versions), the default codec of select and "
                                      "whether it can run here, registered codecs, and which "
                                      "zlib is in use (stock zlib or another, such as zlib-ng, told by its output "
                                      "on a fixed input), on which --compat's exactness depends.")
    info.set_defaults(func=run_info)

    _add_optional_commands(sub)
    return parser


def _add_optional_commands(sub: argparse._SubParsersAction[Parser]) -> None:
    """The sub-commands that live in their own modules: ``law`` and ``bench-report``."""
    # they take any ArgumentParser's sub-parsers; these make Parser ones (the action's type is invariant)
    subparsers = cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub)
    add_law(subparsers)
    add_bench_report(subparsers)


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
    if args.text_field is not None and args.serializer not in (None, "text"):
        raise InputError(f"--text-field is read by the text serializer; --serializer {args.serializer} would "
                         "ignore it (drop one of them)")
    args.input = io.local_path(args.input)       # file:// URLs are local files
    if args.input != "-" and os.path.isdir(args.input):
        raise InputError("is a folder; fastzip ratio measures one file (fastzip select reads folders of shards)",
                         path=args.input)
    dataset = io.read_dataset(args.input, args.format)
    if not dataset.records:
        raise InputError("the dataset is empty", path=dataset.name)
    # the paper's measure (zlib-9 over repr) unless asked otherwise; --text-field means the text serializer
    serializer = args.serializer or ("text" if args.text_field is not None else "repr")
    try:
        ratio = compression_ratio(dataset.records, codec=args.codec or "zlib", level=args.level,
                                  serializer=serializer, text_field=args.text_field)
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
