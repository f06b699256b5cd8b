"""``fastzip bench-report``: render pytest-benchmark JSON as Markdown tables and plots."""
from __future__ import annotations

import argparse
import sys

from ..benchmarks import report as bench_report
from ..errors import FastzipError

_DESCRIPTION = (bench_report.__doc__ or "").split("\n\n")[0]


def run_bench_report(args: argparse.Namespace) -> int:
    """Run ``fastzip bench-report``: render a pytest-benchmark JSON file.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``bench-report`` arguments.

    Returns
    -------
    int
        The exit status: 0, or 2 (one line on stderr) for a bad or missing file.
    """
    try:
        return bench_report.report(args.bench_json, args.output_dir, plots=not args.no_plots, machine_note=args.machine)
    except (FastzipError, OSError) as exc:
        print(f"fastzip bench-report: error: {exc}", file=sys.stderr)
        return 2


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("bench_json", metavar="BENCH.json", help="pytest-benchmark output (--benchmark-json)")
    p.add_argument("-o", "--output-dir", metavar="OUTDIR",
                   help="where report.md and the PNGs go (default: the JSON's folder)")
    p.add_argument("--no-plots", action="store_true", help="write only the Markdown report")
    p.add_argument("--machine", metavar="TEXT", help='a note on the machine, e.g. "2-core shared VM"')


def add_subparser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add the ``bench-report`` sub-command to a ``fastzip`` CLI parser.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The main parser's sub-parsers.

    Returns
    -------
    argparse.ArgumentParser
        The new sub-parser.
    """
    p = subparsers.add_parser("bench-report", help="render pytest-benchmark JSON as Markdown tables and plots",
                              description=_DESCRIPTION)
    _add_arguments(p)
    p.set_defaults(func=run_bench_report)
    assert isinstance(p, argparse.ArgumentParser)
    return p
