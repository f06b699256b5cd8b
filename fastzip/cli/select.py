"""``fastzip select``: in memory, out of core (a folder, a glob, a large file) or on Ray."""
from __future__ import annotations

import argparse
import glob
import logging
import os
import sys
import time
from typing import Any

from .. import io
from .._optional import install_hint, require_ray
from ..errors import InputError, UsageError
from ..io import FORMATS
from ..io.shards import STREAM_THRESHOLD, expand_inputs, is_sharded, read_records_at, shard_format, write_chosen
from ..scale.ooc import select_shards
from ..scale.ray import select_files
from ..selection import report
from ..selection.api import select
from ..selection.checkpoint import check_place, removed_on_bad_input
from ..selection.tokens import counts_from_dataset
from ..streams.codecs import ANY_ZLIB_ENV, DEFAULT_SELECT_CODEC, check_compat_zlib, check_default_codec
from .common import Parser, add_codec_options, byte_size

OVERSAMPLE, SEED = 4.0, 0         # GreeDi's defaults (the options default to None: given or not)


def add_select_parser(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add ``fastzip select`` to the sub-commands.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The main parser's sub-parsers.
    """
    sel = sub.add_parser("select", help="select the least redundant subset of a pool",
                         description="Select the least redundant subset of a pool with ZIP (Yin et al., 2024): "
                                     "the samples that, together, compress worst, i.e. repeat each other least. "
                                     "It runs in rounds of three stages (--k1, --k2, --k3). By default samples are "
                                     f"measured with {DEFAULT_SELECT_CODEC}, an LZ77 cost estimate that sees the "
                                     "whole selection, over their readable text (--serializer text), which "
                                     "matches what a model reads; fastzip ratio and fastzip law measure "
                                     "with the paper's zlib-9 over Python repr, so their ratios differ from the "
                                     "ratio select reports unless the same --codec and --serializer are given. "
                                     "--compat reference uses the paper's settings. Without INPUT, selects from "
                                     "the bundled sample pool.")
    sel.add_argument("input", nargs="?", metavar="INPUT",
                     help="pool: JSON list (.json), JSONL (.jsonl) or Parquet (.parquet) file, JSON and JSONL "
                          "optionally compressed (.gz, .zst, .bz2, .xz, also recognised by their first bytes); a "
                          "folder of such shards (searched recursively, names starting with a dot skipped) or a "
                          "glob; - reads standard input")
    sel.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                     help="selected records, in selection order; the format follows OUTPUT's extension (.jsonl, "
                          ".json, .parquet; .gz, .zst, .bz2 or .xz after it compress), else INPUT's format; "
                          "- writes standard output")
    sel.add_argument("--format", choices=FORMATS,
                     help="INPUT's format, when its name does not say it (needed for -)")
    budget = sel.add_mutually_exclusive_group(required=True)
    budget.add_argument("--budget", type=int, metavar="N", help="number of samples to select")
    budget.add_argument("--budget-bytes", type=byte_size, metavar="BYTES",
                        help="select up to this many serialized bytes (default mode, in memory): 100000, 1e5, "
                             "100KB (powers of 1000) or 1.5MiB (powers of 1024)")
    _add_engine_options(sel, budget)
    sel.add_argument("--k1", type=int, default=10000,
                     help="stage 1, each round: the K1 samples that compress worst on their own, i.e. carry the "
                          "most information alone, become candidates (default 10000; K3 <= K2 <= K1, so below 200 "
                          "give --k2 and --k3 too)")
    sel.add_argument("--k2", type=int, default=200,
                     help="stage 2: of those, the K2 that add the most to what is already selected (default 200)")
    sel.add_argument("--k3", type=int, default=100,
                     help="stage 3: from those K2, up to K3 samples are picked one by one, each the one least "
                          "redundant with the picks so far; then the next round starts (default 100)")
    add_codec_options(sel, f"default: {DEFAULT_SELECT_CODEC}, native only: without the native extension "
                           "give --codec zstd; with --compat: zlib", "default: text; with --compat: repr")
    sel.add_argument("--compat", choices=["reference"],
                     help="reproduce the published implementation exactly (faults included): zlib 9 over repr. "
                          "Refused on a zlib whose output differs from stock zlib's (see --any-zlib)")
    sel.add_argument("--any-zlib", action="store_true",
                     help=f"with --compat: run even where zlib deflates differently from stock zlib (zlib-ng, "
                          f"as on Fedora); the selections may then differ from the published ones. "
                          f"Also: {ANY_ZLIB_ENV}=1 (default: refuse)")
    sel.add_argument("--keep-duplicates", action="store_true",
                     help="keep samples whose serialized bytes equal an earlier sample's "
                          "(default mode drops them and says how many)")
    sel.add_argument("--exhaustive", action="store_true",
                     help="re-score every stage-3 candidate at every pick (no lazy greedy)")
    sel.add_argument("--indices-out", metavar="FILE.json",
                     help="also write the selected record numbers (from 0, selection order) as a JSON list "
                          "(default: not written)")
    sel.add_argument("--threads", type=int, default=-1,
                     help="worker threads: -1 (default) every core, -2 all but one; not with --ray")
    sel.add_argument("--report", metavar="FILE.html|FILE.png",
                     help="also draw the selection against the pool: .html, .png, .svg or .pdf (in memory only; "
                          f"needs matplotlib: {install_hint('plot')}; default: no report)")
    sel.add_argument("--quiet", action="store_true", help="no progress bar or summary (default: both, on stderr)")
    sel.add_argument("--on-invalid", choices=io.ON_INVALID, default="error",
                     help="a record that is malformed JSON, null, empty, or lacks --text-field: error (default) "
                          "stops with one line naming it; skip leaves it out of the pool and says how many were "
                          "skipped, and which, on stderr (in memory only). Output and --indices-out still "
                          "number records as the input does")
    _add_scale_options(sel)
    sel.set_defaults(func=run_select)


def _add_scale_options(parser: argparse.ArgumentParser) -> None:
    """Options of ``fastzip select`` for inputs past memory and for Ray."""
    group = parser.add_argument_group("scale: past memory and past one machine")
    group.add_argument("--out-of-core", choices=["auto", "on", "off"], default="auto",
                       help="stream the input, keeping only the samples stage 1 can reach (default mode "
                            "with --budget). auto: for a folder, a glob, or inputs of 256 MiB or more")
    group.add_argument("--ray", action="store_true",
                       help=f"run on a Ray cluster ({install_hint('ray')}; default: off)")
    group.add_argument("--address", help="Ray cluster address (e.g. auto); default: a local Ray")
    group.add_argument("--strategy", choices=["auto", "exact", "greedi"], default="auto",
                       help="--ray: exact (top-N on the driver), greedi (partitions, then a merge) or auto "
                            "(exact when the top-N fits the driver; default auto)")
    group.add_argument("--partitions", type=int,
                       help="--ray greedi: number of partitions (default: enough to keep each on one worker)")
    group.add_argument("--oversample", type=float,
                       help=f"--ray greedi: each partition selects this many times its share (default {OVERSAMPLE})")
    group.add_argument("--seed", type=int, help=f"--ray greedi: partitioning seed (default {SEED})")


def wants_out_of_core(args: argparse.Namespace) -> bool:
    """True when ``fastzip select`` should take the streaming (or Ray) path."""
    if getattr(args, "ray", False):
        return True
    mode = getattr(args, "out_of_core", "auto")
    path = args.input
    if mode == "on" and (path is None or path == "-"):
        raise InputError("--out-of-core on reads its input three times, so it needs a file, a folder or a glob: "
                         f"{'standard input' if path == '-' else 'the bundled sample pool'} is read once, in "
                         "memory (drop --out-of-core on)")
    if mode == "off" and path not in (None, "-") and is_sharded(path):
        raise InputError("--out-of-core off reads one file in memory, and this is a folder or a glob of shards: "
                         "drop --out-of-core off", path=path)
    if mode == "on" and not io.is_remote(path) and os.path.exists(path) and \
            not (os.path.isfile(path) or os.path.isdir(path)):
        raise InputError("--out-of-core on reads its input three times, and a pipe or device can be read once: "
                         "drop --out-of-core on", path=path)
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


def _report_skipped(dataset: io.Dataset, shown: int = 5) -> None:
    """Say on stderr how many invalid records were skipped, and the first few (even with --quiet)."""
    if not dataset.skipped:
        return
    first = "; ".join(str(exc) for exc in dataset.skipped[:shown])
    more = f"; and {len(dataset.skipped) - shown} more" if len(dataset.skipped) > shown else ""
    print(f"fastzip: skipped {len(dataset.skipped)} invalid record{'s' if len(dataset.skipped) != 1 else ''} "
          f"(--on-invalid skip): {first}{more}", file=sys.stderr)


def _refuse_unsupported_at_scale(args: argparse.Namespace, where: str) -> None:
    """Refuse, in one line before any work, an option the out-of-core or Ray path cannot honour."""
    if args.on_invalid != "error":
        raise InputError(f"--on-invalid {args.on_invalid} is not available {where}; records are checked as "
                         "they stream, and the first invalid one stops the run")
    if args.report:
        raise InputError(f"--report is not available {where} (it needs the whole pool in memory); "
                         "drop --report, or pass --out-of-core off for a single file that fits in memory")


def run_out_of_core(args: argparse.Namespace) -> int:
    """``fastzip select`` through the streaming path (or Ray with ``--ray``)."""
    refuse_token_options(args)
    if getattr(args, "ray", False):
        return run_on_ray(args)
    _refuse_unsupported_at_scale(args, "out of core (a folder, a glob, or an input of 256 MiB or more)")
    paths = expand_inputs(args.input)
    _check_format_of_shards(args, paths)
    started = time.perf_counter()
    with io.staged_outputs([("-o", args.output), ("--indices-out", args.indices_out)], inputs=paths):
        try:
            res = select_shards(paths, args.budget, args.output, k1=args.k1, k2=args.k2, k3=args.k3,
                                codec=args.codec, level=args.level, serializer=args.serializer,
                                text_field=args.text_field, n_threads=args.threads, progress=not args.quiet,
                                lazy=False if args.exhaustive else None, dedupe=not args.keep_duplicates,
                                checkpoint=args.checkpoint)
        except InputError as exc:
            raise _with_duplicates_note(exc, args) from None
        if args.indices_out:
            io.write_json(res.indices.tolist(), args.indices_out)
    if not args.quiet:
        dropped = f"; dropped {res.duplicates} exact duplicates" if res.duplicates else ""
        print(f"fastzip: selected {len(res.indices)} of {res.pool_size} samples out of core (kept {res.kept}"
              f" after one pass{dropped}) in {time.perf_counter() - started:.2f} s; ratio {res.ratio:.4f} "
              f"({res.codec}-{res.level}, {res.serializer}) -> {args.output}", file=sys.stderr)
    return 0


def _check_format_of_shards(args: argparse.Namespace, paths: list[str]) -> None:
    """Shards are read by their names' formats: a --format that disagrees is refused, not ignored."""
    if args.format is None:
        return
    for path in paths:
        named = io.format_from_name(path)
        if named != args.format:
            raise InputError(f"out of core, each shard is read as its name says ({named or 'no format'}), not "
                             f"as --format {args.format}; rename the shards or pass --out-of-core off", path=path)


def _with_duplicates_note(exc: InputError, args: argparse.Namespace) -> InputError:
    """A budget error of the streaming or Ray path, saying that the pool it counts has no duplicates.

    The streaming pass drops exact duplicates as it reads; the selection that
    follows counts only the samples left (a ``UsageError``), while a budget
    past every sample read is refused before it (an ``InputError`` counting them all).
    """
    if (args.keep_duplicates or not isinstance(exc, UsageError) or not exc.reason.startswith("budget (")
            or "duplicates" in exc.reason):
        return exc
    return type(exc)(f"{exc.reason.rstrip(')')} after dropping exact duplicates); --keep-duplicates keeps them",
                     path=exc.path, record=exc.record, line=exc.line)


_RAY_ONLY = (("address", None), ("strategy", "auto"), ("partitions", None), ("oversample", None), ("seed", None))
_GREEDI_ONLY = ("partitions", "oversample", "seed")


def _refuse_ignored_options(args: argparse.Namespace) -> None:
    """No option is silently ignored: refuse, before any work, one that this run would not use."""
    if not getattr(args, "ray", False):
        for name, default in _RAY_ONLY:
            if getattr(args, name, default) != default:
                raise InputError(f"--{name} applies to --ray runs only; add --ray or drop --{name}")
    else:
        if args.threads != -1:
            raise InputError("--threads does not apply to --ray runs: Ray runs one worker per CPU of the cluster")
        for name in _GREEDI_ONLY:
            if args.strategy == "exact" and getattr(args, name) is not None:
                raise InputError(f"--{name} applies to --strategy greedi (or auto, when it picks GreeDi); "
                                 f"--strategy exact would ignore it (drop one of them)")
        if args.out_of_core == "off":
            raise InputError("--ray streams the shards; --out-of-core off contradicts it (drop one of them)")
    if args.budget_tokens is None and (args.tokenizer or args.token_field):
        raise UsageError("--tokenizer and --token-field go with --budget-tokens; give it, or drop them")
    if args.budget_tokens is not None and bool(args.tokenizer) == bool(args.token_field):
        raise UsageError("--budget-tokens needs exactly one of --tokenizer FILE (count the tokens) and "
                         "--token-field FIELD (read them)")
    if args.compat is not None and args.level not in (None, 9):
        raise UsageError(f"--compat reference always uses zlib level 9; drop --level {args.level}")
    if args.compat is not None and args.checkpoint is not None:
        raise UsageError("--checkpoint needs the default mode: --compat reference keeps no state to resume from")
    if args.any_zlib and args.compat is None:
        raise InputError("--any-zlib applies to --compat runs only; add --compat reference or drop --any-zlib")
    if args.text_field is not None and args.serializer not in (None, "text"):
        raise InputError(f"--text-field is read by the text serializer; --serializer {args.serializer} would "
                         "ignore it (drop one of them)")
    if args.compat is not None and args.text_field is not None and args.serializer is None:
        raise InputError("--text-field is read by the text serializer; compat mode uses repr unless "
                         "--serializer text is given")
    ray_folder = getattr(args, "ray", False) and args.output != "-" and os.path.splitext(args.output)[1] == ""
    if not ray_folder:
        io.check_output_name(args.output)


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
    for name in ("input", "output", "indices_out", "report", "checkpoint"):
        setattr(args, name, io.local_path(getattr(args, name)))       # file:// URLs are local files
    _refuse_ignored_options(args)
    if args.compat is not None:     # before any work: exactness needs stock zlib's bytes
        check_compat_zlib(allow_any=args.any_zlib)
    elif not args.codec:            # before any work: the default codec is native only, and never swapped
        check_default_codec()
    if args.checkpoint is not None:     # before any work: never in an input, never an output
        check_place(args.checkpoint, [args.input, _glob_base(args.input)],
                    [args.output, args.indices_out, args.report])
    with removed_on_bad_input(args.checkpoint):
        if wants_out_of_core(args):   # a folder, a glob, a large file, or --ray
            return run_out_of_core(args)
        return _run_in_memory(args)


def _glob_base(path: str | None) -> str | None:
    """The folder a glob searches (``data`` for ``data/**/*.jsonl``), else None."""
    if path is None or not glob.has_magic(path):
        return None
    parts = path.split(os.sep)
    fixed = parts[:next(i for i, p in enumerate(parts) if glob.has_magic(p))]
    return os.sep.join(fixed) or "."


def _run_in_memory(args: argparse.Namespace) -> int:
    """``fastzip select`` on a pool read whole (a file, standard input, or the bundled pool)."""
    path = args.input
    if path is None:
        path = io.bundled_sample_path()
        print(f"fastzip: no INPUT given; selecting from the bundled sample pool {path}", file=sys.stderr)
    outputs = [("-o", args.output), ("--indices-out", args.indices_out), ("--report", args.report)]
    io.check_outputs(outputs, inputs=[path])
    if args.report:   # before any work: the suffix, the file, and matplotlib
        report.check_report_path(args.report, inputs=[path])
    serializer = args.serializer or ("repr" if args.compat else "text")
    started = time.perf_counter()
    # every output's temporary file exists before the pool is read; all are renamed together at the end
    with io.staged_outputs(outputs, inputs=[path]):
        dataset, pool = io.read_pool(path, serializer, format=args.format, text_field=args.text_field,
                                     on_invalid=args.on_invalid)
        _report_skipped(dataset)
        try:
            result = select(
                pool, budget=args.budget, budget_bytes=args.budget_bytes,
                k1=args.k1, k2=args.k2, k3=args.k3, codec=args.codec, level=args.level,
                serializer=serializer, compat=args.compat, n_threads=args.threads,
                progress=not args.quiet, lazy=False if args.exhaustive else None,
                dedupe=not args.keep_duplicates, **engine_options(args, dataset, len(pool)))
        except InputError as exc:
            if exc.record is not None and exc.path is None:      # a pool position: name the record
                exc = type(exc)(exc.reason, record=int(dataset.records_of([exc.record])[0]), line=exc.line)
            raise dataset.error(exc) from None
        dataset.check_unchanged()
        records = dataset.records_of(result.indices)           # pool positions -> the input's record numbers
        payloads = {args.output: io.subset_bytes(dataset, records, args.output)}
        if args.indices_out:
            payloads[args.indices_out] = io.json_bytes(records.tolist()) + b"\n"
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
                             f"text ({install_hint('tokens')})")
    parser.add_argument("--token-field", metavar="FIELD",
                        help="--budget-tokens: read each record's precomputed token count from FIELD")
    parser.add_argument("--checkpoint", metavar="DIR",
                        help="keep the run's state here (every few rounds; out of core and --ray: each scored "
                             "shard too); a rerun with the same arguments continues from it")


def engine_options(args: argparse.Namespace, dataset: Any, pool_size: int) -> dict[str, Any]:
    """``select``'s token and checkpoint arguments from the command line (in memory).

    A ``--token-field`` is read here, from the records of the pool's samples
    (skipped invalid records have none), since the pool keeps no records.
    """
    options: dict[str, Any] = {"checkpoint": args.checkpoint, "budget_tokens": args.budget_tokens,
                               "tokenizer": args.tokenizer, "token_field": args.token_field}
    if args.token_field and args.budget_tokens is not None:
        options["token_counts"] = counts_from_dataset(dataset, options.pop("token_field"),
                                                      dataset.records_of(range(pool_size)))
    return options


def refuse_token_options(args: argparse.Namespace) -> None:
    """Out of core and on Ray: token options are refused (the prefilter is exact for a sample budget only)."""
    if args.tokenizer or args.token_field:
        raise UsageError("--tokenizer and --token-field go with --budget-tokens, which runs in memory only "
                         "(the out-of-core and Ray prefilter is exact for --budget only)")


def run_on_ray(args: Any) -> int:
    """``fastzip select --ray``."""
    if args.compat is not None or args.budget is None:
        raise InputError("--ray needs default mode with --budget")
    if args.input is None or args.input == "-":
        raise InputError("--ray reads files, a folder or a glob: give INPUT (standard input and the bundled "
                         "sample pool run in memory, without --ray)")
    _refuse_unsupported_at_scale(args, "with --ray")
    paths = expand_inputs(args.input)
    _check_format_of_shards(args, paths)
    ray = require_ray()
    stamps = [io.input_stamp(path) for path in paths]
    to_folder = args.output != "-" and (args.output.endswith(os.sep) or os.path.isdir(args.output) or
                                        os.path.splitext(args.output)[1] == "")
    if to_folder and os.path.isdir(args.output) and os.listdir(args.output):
        raise InputError("the output folder is not empty; Ray writes its files into an empty or new folder",
                         path=args.output)
    # a folder output is written by Ray's own writers; files are staged and committed together
    outputs = [("-o", None if to_folder else args.output), ("--indices-out", args.indices_out)]
    started = time.perf_counter()
    with io.staged_outputs(outputs, inputs=paths):
        t0 = time.perf_counter()
        if not ray.is_initialized():
            # no --address: a fresh local Ray, never a stale one a killed run left registered
            ray.init(address=args.address or "local", include_dashboard=False, log_to_driver=False,
                     logging_level="ERROR")
        ray.data.DataContext.get_current().enable_progress_bars = not args.quiet
        if args.quiet:      # Ray Data's INFO lines (execution plans, timings) and its progress-bar notice
            logging.getLogger("ray.data").setLevel(logging.ERROR)
        startup = time.perf_counter() - t0
        try:
            indices, locations, trace = select_files(
                paths, args.budget, k1=args.k1, k2=args.k2, k3=args.k3, codec=args.codec, level=args.level,
                serializer=args.serializer, text_field=args.text_field, strategy=args.strategy,
                partitions=args.partitions, oversample=OVERSAMPLE if args.oversample is None else args.oversample,
                seed=SEED if args.seed is None else args.seed,
                checkpoint=args.checkpoint, lazy=False if args.exhaustive else None,
                dedupe=not args.keep_duplicates, progress=not args.quiet)
        except InputError as exc:
            raise _with_duplicates_note(exc, args) from None
        trace["ray_start_s"] = startup
        for path, stamp in zip(paths, stamps):      # the chosen records are read again
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
