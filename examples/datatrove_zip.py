"""ZIP selection inside a datatrove pipeline (pip install datatrove fastzip).

Two steps, as datatrove runs dataset-level work:

1. ``ZipScore`` runs with ``tasks=N``: every task scores its documents
   stand-alone (default mode's stage-1 score) and keeps only its own top
   N = ceil(budget / k3) * k1, written to ``candidates_XXXXX.jsonl``.  The
   pool's global top N is inside the union of the tasks' top N, so nothing
   stage 1 could reach is lost (docs/semantics.md §7).
2. ``ZipSelect`` runs with ``tasks=1, depends=`` the scoring executor: it
   reads the candidates, keeps the global top N and runs ``fastzip.select``
   on them in pool order (task, then position in the task), yielding the
   selected documents in selection order with ``metadata["fastzip_rank"]``.

The result equals ``fastzip.select`` over all documents in that order.

Run it::

    python examples/datatrove_zip.py INPUT_FOLDER OUTPUT_FOLDER --budget 1000 --tasks 4
"""
from __future__ import annotations

import argparse
import json

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import get_datafolder
from datatrove.pipeline.base import PipelineStep

from fastzip import scale

TASK_BITS = 40      # document id = task << 40 | position in the task


class ZipScore(PipelineStep):
    """Score every document; write this task's top N candidates to ``output_folder``."""

    name = "fastzip score"
    type = "📊 - STATS"

    def __init__(self, output_folder, budget: int, k1: int = 10000, k3: int = 100, codec: str | None = None,
                 level: int | None = None, batch_size: int = 4096):
        super().__init__()
        self.output_folder = get_datafolder(output_folder)
        self.n = scale.prefilter_size(budget, k1, k3)
        self.codec, self.level, self.batch_size = codec, level, batch_size

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        scorer = scale.Scorer(self.codec, self.level, "text")
        top = scale.TopN(self.n, dedupe=True)
        docs: dict[int, Document] = {}
        batch: list[Document] = []
        position = 0

        def flush():
            nonlocal position, batch
            ids = (rank << TASK_BITS) | np.arange(position, position + len(batch), dtype=np.int64)
            top.add(scorer([d.text for d in batch], ids, keep_items=True))
            docs.update(zip(ids.tolist(), batch))
            position += len(batch)
            batch = []
            if len(docs) > 3 * self.n:                        # keep memory O(N)
                keep = set(top.result().ids.tolist())
                for i in [i for i in docs if i not in keep]:
                    del docs[i]

        for doc in data:
            with self.track_time():
                batch.append(doc)
                if len(batch) == self.batch_size:
                    flush()
            self.stat_update("scored")
            yield doc
        if batch:
            flush()
        kept = top.result()
        with self.output_folder.open(f"candidates_{rank:05d}.jsonl", "wt") as f:
            for i, s in zip(kept.ids.tolist(), kept.scores.tolist()):
                d = docs[i]
                f.write(json.dumps({"fastzip_id": i, "score": s, "text": d.text, "id": d.id,
                                    "metadata": d.metadata}, ensure_ascii=False) + "\n")


class ZipSelect(PipelineStep):
    """Select ``budget`` documents from the candidates the scoring tasks wrote (run with tasks=1)."""

    name = "fastzip select"
    type = "🔻 - FILTER"

    def __init__(self, input_folder, budget: int, k1: int = 10000, k2: int = 200, k3: int = 100,
                 codec: str | None = None, level: int | None = None):
        super().__init__()
        self.input_folder = get_datafolder(input_folder)
        self.budget, self.k1, self.k2, self.k3 = budget, k1, k2, k3
        self.codec, self.level = codec, level

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if world_size != 1:
            raise ValueError("ZipSelect is a global step: run it with tasks=1")
        rows = []
        for name in sorted(self.input_folder.list_files(glob_pattern="candidates_*.jsonl")):
            with self.input_folder.open(name, "rt") as f:
                rows += [json.loads(line) for line in f if line.strip()]
        ids = np.array([r["fastzip_id"] for r in rows], dtype=np.int64)
        texts = [r["text"] for r in rows]
        scored = scale.score(texts, ids, codec=self.codec, level=self.level, keep_items=True)
        top = scale.prefilter([scored], scale.prefilter_size(self.budget, self.k1, self.k3),
                              dedupe=True)
        part = scale.local_select(list(top.items), top.ids, self.budget, k1=self.k1, k2=self.k2, k3=self.k3,
                                  codec=self.codec, level=self.level)
        by_id = {r["fastzip_id"]: r for r in rows}
        for rank_, i in enumerate(part.ids.tolist()):
            r = by_id[i]
            self.stat_update("selected")
            yield Document(text=r["text"], id=r["id"], metadata={**r["metadata"], "fastzip_rank": rank_})


def build(input_folder: str, output_folder: str, work_folder: str, budget: int, tasks: int = 4, **options):
    """The two executors; ``run()`` the returned selection executor (it runs scoring first)."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    k1, k3 = options.get("k1", 10000), options.get("k3", 100)
    codec = {k: options[k] for k in ("codec", "level") if k in options}
    scoring = LocalPipelineExecutor(
        pipeline=[JsonlReader(input_folder), ZipScore(f"{work_folder}/candidates", budget, k1=k1, k3=k3, **codec)],
        tasks=tasks, logging_dir=f"{work_folder}/logs/score")
    selection = LocalPipelineExecutor(
        pipeline=[ZipSelect(f"{work_folder}/candidates", budget, **options),
                  JsonlWriter(output_folder, output_filename="selected.jsonl", compression=None)],
        tasks=1, logging_dir=f"{work_folder}/logs/select", depends=scoring)
    return selection


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input_folder")
    p.add_argument("output_folder")
    p.add_argument("--work", default="fastzip_work")
    p.add_argument("--budget", type=int, required=True)
    p.add_argument("--tasks", type=int, default=4)
    a = p.parse_args()
    build(a.input_folder, a.output_folder, a.work, a.budget, a.tasks).run()
