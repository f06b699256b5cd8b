"""``fastzip law proxy``: train a small proxy model on each data version and write the runs table.

(Temporary home: this parser and handler move into ``fastzip/cli/``.)

    fastzip law proxy zip=zip.jsonl random=random.jsonl --heldout heldout.jsonl -o runs.csv

For each version: R as ``fastzip law ratio`` measures it, the first-epoch
training loss L (written to ``WORKDIR/NAME/trainer_state.json`` in the
Hugging Face Trainer's format) and Z, minus the held-out loss in bits per
byte. The runs table feeds ``fastzip law fit`` and ``fastzip law check``.

Exit status: 0 done; 2 bad input or torch missing (one line, nothing
written); 130 Ctrl-C (finished versions stay cached in WORKDIR, the runs
table is not written).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

from .._optional import require_torch
from ..errors import InputError
from ..io import check_output
from ..proxy.harness import RatioSettings, parse_version, run_versions, write_runs
from ..samples.serialize import SERIALIZERS
from ..streams.codecs import available_codecs

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 2, 130


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def add_proxy_parser(law_subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``proxy`` to the ``law`` sub-commands.

    Parameters
    ----------
    law_subparsers : argparse._SubParsersAction
        The ``law`` parser's sub-parsers.

    Returns
    -------
    argparse.ArgumentParser
        The ``law proxy`` parser; it sets ``func`` to :func:`run_proxy`.
    """
    p = law_subparsers.add_parser(
        "proxy", help="train a small proxy model on each data version; write the runs table (needs torch)",
        description="Train a small causal language model from scratch on each data version, record its "
                    "first-epoch training loss L (in a Trainer-style trainer_state.json) and its held-out "
                    "performance Z (minus bits per byte), measure R as 'fastzip law ratio' does, and write "
                    "the runs table name,ratio,loss,performance for 'fastzip law fit' and 'law check'. "
                    "Finished versions are skipped when rerun with the same arguments. "
                    "Needs torch: pip install 'fastzip-select[proxy]'.")
    p.add_argument("versions", nargs="+", metavar="VERSION",
                   help="a data version: NAME=FILE, or FILE (named by its stem); JSON list, JSONL or Parquet")
    p.add_argument("--heldout", required=True, metavar="FILE",
                   help="held-out data no version draws from; Z is minus its loss in bits per byte")
    p.add_argument("--ood", metavar="FILE", help="a second, out-of-distribution held-out file (column ood_performance)")
    p.add_argument("-o", "--output", required=True, metavar="RUNS.csv", help="the runs table to write (atomically)")
    p.add_argument("--work-dir", metavar="DIR",
                   help="per-version outputs (NAME/trainer_state.json, NAME/result.json) and cache "
                        "(default: the output's name + '.proxy')")
    p.add_argument("--epochs", type=_positive_int, default=1, help="passes over each version (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the data order (default: 0)")
    p.add_argument("--device", default="cpu",
                   help="cpu, cuda, cuda:N or auto (CUDA when present) (default: cpu; deterministic on CPU)")
    p.add_argument("--threads", type=_positive_int, default=1,
                   help="CPU threads for torch; results depend on it (default: 1)")
    p.add_argument("--tokenizer", metavar="FILE", help="a tokenizers JSON file (default: bytes, 256 tokens)")
    g = p.add_argument_group("model and optimizer")
    g.add_argument("--context", type=_positive_int, default=128, help="sequence length in tokens (default: 128)")
    g.add_argument("--width", type=_positive_int, default=64, help="model width d_model (default: 64)")
    g.add_argument("--layers", type=_positive_int, default=2, help="transformer blocks (default: 2)")
    g.add_argument("--heads", type=_positive_int, default=2, help="attention heads (default: 2)")
    g.add_argument("--batch-size", type=_positive_int, default=16, help="sequences per step (default: 16)")
    g.add_argument("--lr", type=_positive_float, default=3e-3, help="peak learning rate (default: 0.003)")
    p.add_argument("--time-limit", type=_positive_float, metavar="SECONDS",
                   help="stop each version's training after this many seconds (an error if its first epoch "
                        "is not done by then)")
    p.add_argument("--codec", choices=available_codecs(), default="zlib",
                   help="codec of the ratio R, as in 'fastzip law ratio' (default: zlib)")
    p.add_argument("--level", type=int, default=None, help="its level (default: the codec's own)")
    p.add_argument("--serializer", choices=SERIALIZERS, default="repr",
                   help="how records become bytes for R (default: repr); training always reads the text")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or per-version lines")
    p.set_defaults(func=run_proxy)
    return p


def run_proxy(args: argparse.Namespace) -> int:
    """``fastzip law proxy``: train, evaluate, write the runs table.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``law proxy`` command line.

    Returns
    -------
    int
        0, or 130 after Ctrl-C (finished versions stay cached; the runs
        table is not written).

    Raises
    ------
    fastzip.errors.MissingDependencyError
        torch is not installed.
    fastzip.errors.InputError
        A bad data, held-out or tokenizer file, or settings that cannot train.
    """

    versions = [parse_version(v) for v in args.versions]
    inputs = [v.path for v in versions] + [args.heldout] + ([args.ood] if args.ood else [])
    check_output(args.output, inputs=inputs)
    for path in inputs + ([args.tokenizer] if args.tokenizer else []):
        if not os.path.isfile(path):
            raise InputError("no such file", path=path)
    require_torch()
    from ..proxy.train import TrainConfig  # optional dependency: needs torch, checked above

    cfg = TrainConfig(context=args.context, d_model=args.width, n_layers=args.layers, n_heads=args.heads,
                      batch_size=args.batch_size, lr=args.lr, epochs=args.epochs, seed=args.seed,
                      device=args.device, threads=args.threads, time_limit=args.time_limit)
    workdir = args.work_dir or str(Path(args.output).with_suffix("")) + ".proxy"
    done: list[Any] = []

    def report(result: Any) -> None:
        done.append(result)
        if not args.quiet:
            how = "cached" if result.cached else f"{result.seconds:.1f} s, {result.tokens_per_s:,.0f} tokens/s"
            print(f"{result.name}: R {result.ratio:.4f}  L {result.loss:.4f}  Z {result.performance:.4f} ({how})",
                  file=sys.stderr)

    try:
        results = run_versions(versions, args.heldout, workdir, cfg, ood=args.ood, tokenizer=args.tokenizer,
                               ratio=RatioSettings(args.codec, args.level, args.serializer),
                               progress=not args.quiet, on_result=report)
    except KeyboardInterrupt:
        print(f"fastzip: interrupted; {len(done)} finished version(s) kept in {workdir} for a rerun, "
              f"{args.output} not written", file=sys.stderr)
        return EXIT_INTERRUPTED
    write_runs(results, args.output)
    if not args.quiet:
        print(f"runs table: {args.output} ({len(results)} versions; trainer states in {workdir})", file=sys.stderr)
    return EXIT_OK
