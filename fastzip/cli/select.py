"""``fastzip select``: in memory, out of core (a folder, a glob, a large file) or on Ray."""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from .. import io
from .._optional import require_ray
from ..errors import InputError, UsageError
from ..io import FORMATS
from ..io.shards import STREAM_THRESHOLD, expand_inputs, is_sharded, read_records_at, shard_format, write_chosen
from ..scale.ooc import select_shards
from ..scale.ray import select_files
from ..selection import report
from ..selection.api import select
from ..selection.tokens import counts_from_dataset
from .common import Parser, add_codec_options


def add_select_parser(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``fastzip select`` to the sub-commands.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The main parser's sub-parsers.
    """
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
    _add_engine_options(sel, budget)
    sel.add_argument("--k1", type=int, default=10000, help="stage-1 candidates (default 10000)")
    sel.add_argument("--k2", type=int, default=200, help="stage-2 candidates (default 200)")
    sel.add_argument("--k3", type=int, default=100, help="samples added per round (default 100)")
    add_codec_options(sel, "default zstd; compat: zlib")
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
    _add_scale_options(sel)
    sel.set_defaults(func=run_select)


def _add_scale_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``fastzip select`` for inputs past memory and for Ray."""
    group = parser.add_argument_group("scale: past memory and past one machine")
    group.add_argument("--out-of-core", choices=["auto", "on", "off"], default="auto",
                       help="stream the input, keeping only the samples stage 1 can reach (default mode "
                            "with --budget). auto: for a folder, a glob, or inputs of 256 MiB or more")
    group.add_argument("--ray", action="store_true", help="run on a Ray cluster (pip install 'fastzip[ray]')")
    group.add_argument("--address", help="Ray cluster address (e.g. auto); default: a local Ray")
    group.add_argument("--strategy", choices=["auto", "exact", "greedi"], default="auto",
                       help="--ray: exact (top-N on the driver) or greedi (partitions, then a merge)")
    group.add_argument("--partitions", type=int, help="--ray greedi: number of partitions")
    group.add_argument("--oversample", type=float, default=4.0, help="--ray greedi: per-partition oversampling")
    group.add_argument("--seed", type=int, default=0, help="--ray greedi: partitioning seed")


def wants_out_of_core(args: argparse.Namespace) -> bool:
    """True when ``fastzip select`` should take the streaming (or Ray) path."""
    if getattr(args, "ray", False):
        return True
    mode = getattr(args, "out_of_core", "auto")
    path = args.input
    if mode == "off" or path is None or path == "-":
        return False
    if args.compat is not None or args.budget is None:
        if mode == "on" or is_sharded(path):
            raise InputError("a folder, a glob and --out-of-core need default mode with --budget "
                             "(the prefilter is exact only there)")
        return False
    if mode == "on" or is_sharded(path):
        return True
    try:
        return os.path.isfile(path) and shard_format(path) in ("jsonl", "parquet") and \
            os.path.getsize(path) >= STREAM_THRESHOLD
    except OSError:
        return False


def run_out_of_core(args: argparse.Namespace) -> int:
    """``fastzip select`` through the streaming path (or Ray with ``--ray``)."""
    refuse_token_options(args)
    if getattr(args, "ray", False):
        return run_on_ray(args)
    paths = expand_inputs(args.input)
    io.check_output(args.output, inputs=paths, others=[args.indices_out] if args.indices_out else [])
    if args.indices_out:
        io.check_output(args.indices_out, inputs=paths, others=[args.output])
    started = time.perf_counter()
    res = select_shards(args.input, args.budget, args.output, k1=args.k1, k2=args.k2, k3=args.k3,
                        codec=args.codec, level=args.level, serializer=args.serializer,
                        text_field=args.text_field, n_threads=args.threads, progress=not args.quiet,
                        lazy=False if args.exhaustive else None, checkpoint=args.checkpoint)
    if args.indices_out:
        io.write_json(res.indices.tolist(), args.indices_out)
    if not args.quiet:
        print(f"fastzip: selected {len(res.indices)} of {res.pool_size} samples out of core (kept {res.kept}"
              f" after one pass) in {time.perf_counter() - started:.2f} s; ratio {res.ratio:.4f} "
              f"({res.codec}-{res.level}, {res.serializer}) -> {args.output}", file=sys.stderr)
    return 0


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
    if wants_out_of_core(args):   # a folder, a glob, a large file, or --ray
        return run_out_of_core(args)
    path = args.input
    if path is None:
        path = io.bundled_sample_path()
        print(f"fastzip: no INPUT given; selecting from the bundled sample pool {path}", file=sys.stderr)
    outputs = [args.output] + ([args.indices_out] if args.indices_out else [])
    for k, out in enumerate(outputs):
        io.check_output(out, inputs=[path], others=outputs[:k] + outputs[k + 1:])
    if args.report:   # before any work: the suffix, the file, and matplotlib
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
            dedupe=not args.keep_duplicates, **engine_options(args, dataset))
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


def _add_engine_options(parser: argparse.ArgumentParser, budget: Any) -> None:
    """Token budgets (``budget`` is the mutually exclusive budget group) and ``--checkpoint``."""
    budget.add_argument("--budget-tokens", type=int, metavar="N",
                        help="select up to this many tokens (default mode, in memory); counted with "
                             "--tokenizer or read from --token-field")
    parser.add_argument("--tokenizer", metavar="FILE",
                        help="--budget-tokens: a local tokenizers JSON file; counts each sample's serialized "
                             "text (pip install 'fastzip-select[tokens]')")
    parser.add_argument("--token-field", metavar="FIELD",
                        help="--budget-tokens: read each record's precomputed token count from FIELD")
    parser.add_argument("--checkpoint", metavar="DIR",
                        help="keep the run's state here (every few rounds; out of core and --ray: each scored "
                             "shard too); a rerun with the same arguments continues from it")


def engine_options(args: argparse.Namespace, dataset: Any) -> dict[str, Any]:
    """``select``'s token and checkpoint arguments from the command line (in memory)."""
    options: dict[str, Any] = {"checkpoint": args.checkpoint, "budget_tokens": args.budget_tokens,
                               "tokenizer": args.tokenizer, "token_field": args.token_field}
    if args.token_field and args.budget_tokens is not None:   # the records are not kept: read the field here
        options["token_counts"] = counts_from_dataset(dataset, options.pop("token_field"))
    return options


def refuse_token_options(args: argparse.Namespace) -> None:
    """Out of core and on Ray: token options are refused (the prefilter is exact for a sample budget only)."""
    if args.tokenizer or args.token_field:
        raise UsageError("--tokenizer and --token-field go with --budget-tokens, which runs in memory only "
                         "(the out-of-core and Ray prefilter is exact for --budget only)")


def run_on_ray(args: Any) -> int:
    """``fastzip select --ray``."""
    ray = require_ray()
    paths = expand_inputs(args.input)
    stamps = [io.input_stamp(path) for path in paths]
    if args.compat is not None or args.budget is None:
        raise InputError("--ray needs default mode with --budget")
    to_folder = args.output != "-" and (args.output.endswith(os.sep) or os.path.isdir(args.output) or
                                        os.path.splitext(args.output)[1] == "")

    if not to_folder:
        io.check_output(args.output, inputs=paths, others=[args.indices_out] if args.indices_out else [])
    if args.indices_out:
        io.check_output(args.indices_out, inputs=paths, others=[] if to_folder else [args.output])
    started = time.perf_counter()
    t0 = time.perf_counter()
    if not ray.is_initialized():
        # no --address: a fresh local Ray, never a stale one a killed run left registered
        ray.init(address=args.address or "local", include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR")
    ray.data.DataContext.get_current().enable_progress_bars = not args.quiet
    startup = time.perf_counter() - t0
    indices, locations, trace = select_files(
        paths, args.budget, k1=args.k1, k2=args.k2, k3=args.k3, codec=args.codec, level=args.level,
        serializer=args.serializer, text_field=args.text_field, strategy=args.strategy,
        partitions=args.partitions, oversample=args.oversample, seed=args.seed, checkpoint=args.checkpoint,
        lazy=False if args.exhaustive else None, progress=not args.quiet)
    trace["ray_start_s"] = startup
    for path, stamp in zip(paths, stamps):      # the chosen records are read again, by offset
        io.check_unchanged(path, stamp)
    if to_folder:
        records = read_records_at(paths, locations[:, 0], locations[:, 1], locations[:, 2])
        for rank, r in enumerate(records):
            r["fastzip_rank"] = rank
        out = ray.data.from_items(records, override_num_blocks=1)
        if all(shard_format(p) == "parquet" for p in paths):
            out.write_parquet(args.output)
        else:
            out.write_json(args.output)
    else:
        write_chosen(paths, locations[:, 0], locations[:, 1], locations[:, 2], args.output)
    if args.indices_out:
        io.write_json(indices.tolist(), args.indices_out)
    if not args.quiet:
        print(f"fastzip: selected {len(indices)} of {trace['pool']} samples on Ray ({trace['strategy']}) in "
              f"{time.perf_counter() - started:.2f} s (Ray start {startup:.2f} s"
              f"{'; {} scored shards reused'.format(trace['reused_shards']) if trace.get('reused_shards') else ''}); "
              f"ratio {trace['ratio']:.4f} "
              f"-> {args.output}", file=sys.stderr)
    return 0
