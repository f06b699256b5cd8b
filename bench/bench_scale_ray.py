"""fastzip.ray on a local 2-CPU Ray: start-up, scoring throughput, exact-mode overhead, memory.

Run:  python bench/bench_scale_ray.py [--samples 20000] [--budget 200]

Data: ShareGPT human/gpt pairs (or the evals fixture, repeated with a
per-copy marker, when ShareGPT is not installed), as a Ray Dataset of 8
blocks with an integer ``uid`` column.

* Ray start-up: ``ray.init(num_cpus=2)``, measured alone.
* Scoring throughput: stand-alone scores of every sample (serialize + zstd-3),
  single process with 2 kernel threads (``fastzip.scale.Scorer``) against
  Ray Data's ``map_batches`` scoring actors (1..2 actors, one thread each),
  the latter including actor start-up.
  A second run over 4x the rows gives the marginal (steady-state) rate.
* Exact-mode overhead: ``fastzip.ray.select(strategy="exact")`` wall time
  minus single-machine ``fastzip.select`` on the same rows.
* Memory: peak RSS of the driver, and of each scoring actor (reported by the
  actors themselves).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def rows_for(n: int) -> list[dict]:
    import corpora

    pairs = corpora.sharegpt_pairs(None)
    if pairs and len(pairs) >= n:
        return [dict(p) for p in pairs[:n]]
    base = corpora.fixture_rows("openai_evals_5k.jsonl")
    return [{**base[i % len(base)], "instruction": f"[copy {i // len(base)}] " + base[i % len(base)]["instruction"]}
            for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=20000)
    ap.add_argument("--budget", type=int, default=200)
    a = ap.parse_args()
    import numpy as np

    import fastzip
    from fastzip import scale

    rows = rows_for(a.samples)
    for i, r in enumerate(rows):
        r["uid"] = i
    k = dict(k1=10000, k2=200, k3=100)
    report: dict = {"samples": len(rows), "budget": a.budget, "N": scale.prefilter_size(a.budget, 10000, 100)}

    # single process: scoring with 2 threads, then select
    scorer = scale.Scorer(n_threads=2)
    t = time.perf_counter()
    scorer([{kk: v for kk, v in r.items() if kk != "uid"} for r in rows])
    report["single_score_s"] = time.perf_counter() - t
    t = time.perf_counter()
    full = fastzip.select([{kk: v for kk, v in r.items() if kk != "uid"} for r in rows], a.budget, **k)
    report["single_select_s"] = time.perf_counter() - t

    import ray

    t = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    report["ray_start_s"] = time.perf_counter() - t
    ray.data.DataContext.get_current().enable_progress_bars = False
    import fastzip.ray as fr

    class RssScorer(fr._BlockScorer):
        def __call__(self, table):
            import pyarrow as pa

            out = super().__call__(table)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            return out.append_column("rss_mb", pa.array([rss] * out.num_rows))

    ds = ray.data.from_items(rows, override_num_blocks=8).materialize()
    config = scale.Scorer().config()
    t = time.perf_counter()
    scored = ds.map_batches(RssScorer, fn_constructor_kwargs={"config": config, "id_column": "uid", "drop": []},
                            batch_format="pyarrow", **fr._actors(ray, 2)).materialize()
    report["ray_score_s"] = time.perf_counter() - t
    report["actor_peak_rss_mb"] = float(scored.max("rss_mb"))
    report["single_score_per_s"] = len(rows) / report["single_score_s"]
    report["ray_score_per_s"] = len(rows) / report["ray_score_s"]
    report["ray_score_slowdown"] = report["ray_score_s"] / report["single_score_s"]
    # steady state: 4x the rows; the marginal rate leaves out actor start-up and other fixed costs
    big = ds.union(ds, ds, ds).materialize()
    t = time.perf_counter()
    big.map_batches(fr._BlockScorer, fn_constructor_kwargs={"config": config, "id_column": "uid", "drop": []},
                    batch_format="pyarrow", **fr._actors(ray, 2)).materialize()
    report["ray_score_4x_s"] = time.perf_counter() - t
    report["ray_marginal_per_s"] = 3 * len(rows) / (report["ray_score_4x_s"] - report["ray_score_s"])
    t = time.perf_counter()
    for _ in range(4):
        scorer([{kk: v for kk, v in r.items() if kk != "uid"} for r in rows])
    report["single_score_4x_s"] = time.perf_counter() - t
    report["ray_marginal_slowdown"] = (4 * len(rows) / report["single_score_4x_s"]) / report["ray_marginal_per_s"]

    t = time.perf_counter()
    out = fr.select(ds, a.budget, id_column="uid", strategy="exact", **k)
    picked = [r["uid"] for r in out.take_all()]
    report["ray_exact_s"] = time.perf_counter() - t
    report["ray_exact_trace"] = {kk: v for kk, v in out.fastzip_trace.items() if kk.endswith("_s")}
    report["exact_equals_single"] = picked == full.indices.tolist()
    report["exact_overhead_s"] = report["ray_exact_s"] - (report["single_score_s"] + report["single_select_s"])
    report["driver_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ray.shutdown()
    print(json.dumps(report, indent=1, default=float))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "scale_ray.json"), "w") as f:
        json.dump(report, f, indent=1, default=float)
    assert np.all(report["exact_equals_single"])


if __name__ == "__main__":
    main()
