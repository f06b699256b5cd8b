"""The ``fastzip`` command line: select, ratio, info, law, bench-report."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from . import __version__
from .errors import InputError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _add_codec_options(p: argparse.ArgumentParser, default_note: str) -> None:
    p.add_argument("--codec", help=f"zlib, zstd, lz4 or a registered codec ({default_note})")
    p.add_argument("--level", type=int, help="codec level (zlib 0-9, zstd 1-22, lz4 <=0 fast / 1-12 HC)")
    p.add_argument("--serializer", choices=["repr", "json", "text"],
                   help="how a record becomes bytes (SPEC §4)")
    p.add_argument("--text-field", metavar="FIELD",
                   help="use this string field of each record as its text (text serializer)")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastzip", description="Fast, exact ZIP data selection and the entropy law.")
    parser.add_argument("--version", action="version", version=f"fastzip {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sel = sub.add_parser("select", help="select the least redundant subset of a pool",
                         description="Select the least redundant subset of a pool with ZIP. "
                                     "Without INPUT, selects from the bundled sample pool.")
    sel.add_argument("input", nargs="?", metavar="INPUT",
                     help="pool: JSON list, JSONL (.jsonl) or Parquet (.parquet)")
    sel.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                     help="selected records, in selection order, in INPUT's format")
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
    sel.add_argument("--exhaustive", action="store_true",
                     help="re-score every stage-3 candidate at every pick (no lazy greedy)")
    sel.add_argument("--indices-out", metavar="FILE.json",
                     help="also write the selected pool indices (selection order) as a JSON list")
    sel.add_argument("--threads", type=int, default=-1, help="worker threads (-1: all cores)")
    sel.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    from .shards import add_select_options   # scale: out of core and Ray (docs/semantics.md §7)
    add_select_options(sel)
    sel.set_defaults(func=_cmd_select)

    rat = sub.add_parser("ratio", help="print the compression ratio of a dataset",
                         description="Compression ratio len(b)/len(C(b)) of a whole dataset.")
    rat.add_argument("input", metavar="INPUT", help="JSON list, JSONL or Parquet")
    _add_codec_options(rat, "default zlib")
    rat.set_defaults(func=_cmd_ratio)

    info = sub.add_parser("info", help="show which codecs run natively")
    info.set_defaults(func=_cmd_info)

    _add_optional_commands(sub)
    return parser


def _add_optional_commands(sub) -> None:
    from .bench_report import add_subparser as add_bench_report
    from .law.cli import add_subparser as add_law

    add_law(sub)
    add_bench_report(sub)


def _cmd_select(args: argparse.Namespace) -> int:
    from . import io
    from .selection import select
    from .shards import run_select_command, wants_out_of_core

    if wants_out_of_core(args):   # a folder, a glob, a large file, or --ray
        return run_select_command(args)
    path = args.input
    if path is None:
        path = io.bundled_sample_path()
        print(f"fastzip: no INPUT given; selecting from the bundled sample pool {path}", file=sys.stderr)
    io.check_writable(args.output)
    if args.indices_out:
        io.check_writable(args.indices_out)
    dataset = io.read_dataset(path)
    started = time.perf_counter()
    try:
        result = select(
            dataset.records, budget=args.budget, budget_bytes=args.budget_bytes,
            k1=args.k1, k2=args.k2, k3=args.k3, codec=args.codec, level=args.level,
            serializer=args.serializer, compat=args.compat, n_threads=args.threads,
            progress=not args.quiet, lazy=False if args.exhaustive else None,
            text_field=args.text_field)
    except InputError as exc:
        raise exc.with_path(path) if exc.path is None else exc
    io.write_subset(dataset, result.indices, args.output)
    if args.indices_out:
        io.write_json(result.indices.tolist(), args.indices_out)
    if not args.quiet:
        unique = len(set(result.indices.tolist()))
        note = f" ({unique} unique)" if unique != len(result.indices) else ""
        print(f"fastzip: selected {len(result.indices)}{note} of {len(dataset)} samples in "
              f"{time.perf_counter() - started:.2f} s; ratio {result.ratio:.4f} "
              f"({result.codec}-{result.level}, {result.serializer}) -> {args.output}", file=sys.stderr)
    return 0


def _cmd_ratio(args: argparse.Namespace) -> int:
    from . import io
    from .compressor import compression_ratio

    records = io.read_records(args.input)
    if not records:
        raise InputError("the dataset is empty", path=args.input)
    try:
        ratio = compression_ratio(records, codec=args.codec or "zlib", level=args.level,
                                  serializer=args.serializer or "repr", text_field=args.text_field)
    except InputError as exc:
        raise exc.with_path(args.input) if exc.path is None else exc
    print(f"{ratio:.6f}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from .codecs import build_info

    print(json.dumps(build_info(), indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (InputError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"fastzip: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("fastzip: interrupted; nothing was written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:   # e.g. `fastzip info | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
