"""npc_gzip with fastzip as its compression backend: the same predictions, faster.

npc_gzip ("Less is More: Parameter-Free Text Classification with Gzip", 2023;
``pip install --no-deps npc-gzip==0.1.1``) classifies a text by its nearest
training texts under the normalized compression distance, with gzip-9 sizes:
``C(x)``, ``C(y)`` and ``C(y + " " + x)`` for every training text ``y``, one
``gzip.compress`` call at a time.

fastzip computes the same matrix of sizes in one C call (``scoring.ncd_matrix``
on ``fastzip.pair_sizes``), and the same float64 formula, so the distances are
equal bit for bit and so are the predictions.  This script runs npc_gzip's own
``KnnClassifier.predict`` next to the fastzip path on real texts (the openai
evals records in tests/data, labelled by the eval they come from) and asserts
that both agree::

    python examples/npc_gzip_backend.py --train 800 --test 300
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from fastzip import scoring

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "openai_evals_5k.jsonl"


def load_texts(n_train: int, n_test: int, seed: int = 0) -> tuple[list[str], list[int], list[str], list[int]]:
    """Evals records as ``instruction\\ninput\\noutput`` texts, labelled by eval (ints)."""
    with open(DATA, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    order = np.random.default_rng(seed).permutation(len(rows))[: n_train + n_test]
    names = sorted({rows[i]["eval"] for i in order})
    label = {name: k for k, name in enumerate(names)}
    texts = ["\n".join(rows[i][key] for key in ("instruction", "input", "output") if rows[i][key])
             for i in order]
    labels = [label[rows[i]["eval"]] for i in order]
    return texts[:n_train], labels[:n_train], texts[n_train:], labels[n_train:]


def fastzip_predict(train: list[str], train_labels: list[int], test: list[str], top_k: int = 1,
                    seed: int = 0, n_threads: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """``KnnClassifier(GZipCompressor(), train, train_labels, "ncd").predict(test, top_k)``.

    npc_gzip visits the training set in an order drawn from numpy's global
    generator (``sample_data``); ties between equal distances then go by that
    order, so the same draw is made here.
    """
    np.random.seed(seed)
    picked = np.random.choice(len(train), len(train), replace=False)
    train_arr = np.asarray(train)[picked]
    labels = np.asarray(train_labels)[picked]
    # rows: the test texts; entry [t, r] compresses train[r] + " " + test[t], as npc_gzip does
    distances = scoring.ncd_matrix(test, list(train_arr), codec="gzip", level=9, separator=" ",
                                   order="ba", n_threads=n_threads)
    nearest = np.argpartition(distances, top_k)[:, :top_k]
    predicted = np.apply_along_axis(lambda x: np.bincount(x).argmax(), 1, labels[nearest])
    return distances, predicted


def npc_gzip_predict(train: list[str], train_labels: list[int], test: list[str], top_k: int = 1,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """npc_gzip's own code."""
    from npc_gzip.compressors.gzip_compressor import GZipCompressor
    from npc_gzip.knn_classifier import KnnClassifier

    model = KnnClassifier(compressor=GZipCompressor(), training_inputs=list(train),
                          training_labels=list(train_labels), distance_metric="ncd")
    np.random.seed(seed)
    distances, predicted, _ = model.predict(np.array(test), top_k=top_k)
    return distances, predicted


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=800)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--top-k", type=int, default=1)
    parser.add_argument("--threads", type=int, default=-1)
    args = parser.parse_args(argv)
    train, train_labels, test, test_labels = load_texts(args.train, args.test)

    start = time.perf_counter()
    d_npc, p_npc = npc_gzip_predict(train, train_labels, test, args.top_k)
    t_npc = time.perf_counter() - start
    start = time.perf_counter()
    d_fz, p_fz = fastzip_predict(train, train_labels, test, args.top_k, n_threads=args.threads)
    t_fz = time.perf_counter() - start

    assert np.array_equal(d_npc, d_fz), "distances differ"
    assert np.array_equal(p_npc, p_fz), "predictions differ"
    accuracy = float(np.mean(p_fz == np.asarray(test_labels)))
    print(f"{len(train)} train x {len(test)} test texts: same distances and predictions "
          f"(accuracy {accuracy:.3f}); npc_gzip {t_npc:.2f} s, fastzip {t_fz:.2f} s "
          f"({t_npc / t_fz:.1f}x)")
    return {"npc_gzip_s": t_npc, "fastzip_s": t_fz, "accuracy": accuracy}


if __name__ == "__main__":
    main()
