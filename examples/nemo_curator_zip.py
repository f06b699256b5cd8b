"""ZIP selection as a NeMo Curator recipe (pip install nemo-curator fastzip; tested with nemo-curator 1.4.0).

A ``WorkflowBase``-style recipe in three parts, as NeMo Curator (on Ray)
runs dataset-level work:

1. a scoring pipeline: ``JsonlReader`` -> ``ZipScoreStage`` (each document's
   stand-alone score, its size and a digest) -> ``ParquetWriter`` of the
   score columns only;
2. on the driver: the exact top N = ceil(budget / k3) * k1 by (score, id)
   (``fastzip.scale.prefilter``), then ``fastzip.select`` on those N
   documents in id order: identical to selecting from the whole pool;
3. a filter pipeline: ``JsonlReader`` -> ``ZipKeepStage`` (keeps the
   selected ids, adds ``fastzip_rank``) -> ``JsonlWriter``.

Documents need a unique integer id column (``id_field``, default ``"id"``).
Both pipelines run on NeMo Curator's Ray Data executor unless ``run()`` is
given another (Xenna's streaming mode wants more CPUs than a small machine
has).  ``run()`` returns a ``WorkflowRunResult`` whose metadata hold the
selection (``"selection"``: ids in selection order, ratio) and ``"N"``.

Run it::

    python examples/nemo_curator_zip.py INPUT_DIR OUTPUT_DIR --budget 1000
"""
from __future__ import annotations

import argparse
import glob
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from nemo_curator.pipeline import Pipeline
from nemo_curator.pipeline.workflow import WorkflowBase, WorkflowRunResult
from nemo_curator.stages.base import ProcessingStage
from nemo_curator.stages.text.io.reader import JsonlReader
from nemo_curator.stages.text.io.writer import JsonlWriter, ParquetWriter
from nemo_curator.tasks import DocumentBatch

from fastzip import scale


@dataclass
class ZipScoreStage(ProcessingStage[DocumentBatch, DocumentBatch]):
    """Adds fastzip_score / fastzip_nbytes and keeps only the id and score columns."""

    text_field: str = "text"
    id_field: str = "id"
    codec: str | None = None
    level: int | None = None
    name: str = "fastzip_score"

    def inputs(self):
        return ["data"], [self.text_field, self.id_field]

    def outputs(self):
        return ["data"], [self.id_field, "fastzip_score", "fastzip_nbytes"]

    def setup(self, worker_metadata=None):
        self._scorer = scale.Scorer(self.codec, self.level, "text")   # built on the worker: C state

    def process(self, task: DocumentBatch) -> DocumentBatch:
        df = task.to_pandas()
        scored = self._scorer(df[self.text_field].tolist(), df[self.id_field].to_numpy(np.int64))
        out = pd.DataFrame({self.id_field: scored.ids, "fastzip_score": scored.scores,
                            "fastzip_nbytes": scored.nbytes})
        return DocumentBatch(dataset_name=task.dataset_name, data=out,
                             _metadata=task._metadata, _stage_perf=task._stage_perf)


@dataclass
class ZipKeepStage(ProcessingStage[DocumentBatch, DocumentBatch]):
    """Keeps the selected documents and adds their fastzip_rank."""

    ranks: dict = field(default_factory=dict)     # id -> rank
    id_field: str = "id"
    name: str = "fastzip_keep"

    def inputs(self):
        return ["data"], [self.id_field]

    def outputs(self):
        return ["data"], [self.id_field, "fastzip_rank"]

    def process(self, task: DocumentBatch) -> DocumentBatch:
        df = task.to_pandas()
        df = df[df[self.id_field].isin(self.ranks)].copy()
        df["fastzip_rank"] = df[self.id_field].map(self.ranks)
        return DocumentBatch(dataset_name=task.dataset_name, data=df,
                             _metadata=task._metadata, _stage_perf=task._stage_perf)


class ZipSelectionWorkflow(WorkflowBase):
    """Score (pipeline) -> select (driver) -> filter (pipeline)."""

    def __init__(self, input_dir: str, output_dir: str, work_dir: str, budget: int, *, text_field: str = "text",
                 id_field: str = "id", k1: int = 10000, k2: int = 200, k3: int = 100, codec: str | None = None,
                 level: int | None = None):
        self.__dict__.update(locals())
        del self.__dict__["self"]

    def run(self, executor=None) -> WorkflowRunResult:
        if executor is None:
            from nemo_curator.backends.ray_data import RayDataExecutor

            executor = RayDataExecutor()
        result = WorkflowRunResult(workflow_name="fastzip_zip_selection")
        scores_dir = os.path.join(self.work_dir, "scores")
        scoring = Pipeline(name="fastzip_score", stages=[
            JsonlReader(self.input_dir, fields=[self.text_field, self.id_field]),
            ZipScoreStage(self.text_field, self.id_field, self.codec, self.level),
            ParquetWriter(scores_dir),
        ]).run(executor)
        result.add_pipeline_tasks("fastzip_score", scoring)
        n = scale.prefilter_size(self.budget, self.k1, self.k3)
        batches = (scale.ScoredBatch(t.column(self.id_field).to_numpy(), t.column("fastzip_score").to_numpy(),
                                     t.column("fastzip_nbytes").to_numpy())
                   for t in (pq.read_table(p) for p in sorted(glob.glob(os.path.join(scores_dir, "*.parquet")))))
        top = scale.prefilter(batches, n)
        wanted = set(top.ids.tolist())
        texts: dict[int, str] = {}
        for path in sorted(glob.glob(os.path.join(self.input_dir, "*.jsonl"))):   # the N texts, on the driver
            for chunk in pd.read_json(path, lines=True, chunksize=65536):
                hit = chunk[chunk[self.id_field].isin(wanted)]
                texts.update(zip(hit[self.id_field].tolist(), hit[self.text_field].tolist()))
        ids = np.array(sorted(texts), dtype=np.int64)
        part = scale.local_select([texts[i] for i in ids], ids, self.budget, k1=self.k1, k2=self.k2, k3=self.k3,
                                  codec=self.codec, level=self.level, serialized=False)
        ranks = {int(i): r for r, i in enumerate(part.ids.tolist())}
        kept = Pipeline(name="fastzip_filter", stages=[
            JsonlReader(self.input_dir),
            ZipKeepStage(ranks, self.id_field),
            JsonlWriter(self.output_dir),
        ]).run(executor)
        result.add_pipeline_tasks("fastzip_filter", kept)
        result.extend_metadata({"selection": part, "N": n})
        return result


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input_dir")
    p.add_argument("output_dir")
    p.add_argument("--work", default="fastzip_work")
    p.add_argument("--budget", type=int, required=True)
    a = p.parse_args()
    ZipSelectionWorkflow(a.input_dir, a.output_dir, a.work, a.budget).run()
