"""The pipeline integrations in examples/.

Each runs where its toolkit is installed, else skips with the install command.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import fastzip
from fastzip.samples.serialize import sample_text
from tests.helpers import EXAMPLES

K = dict(k1=300, k2=60, k3=20)


@pytest.fixture
def examples_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))


def write_text_shards(folder: Path, texts, shards: int, with_int_ids: bool = False):
    folder.mkdir(parents=True)
    per = -(-len(texts) // shards)
    for s in range(shards):
        with open(folder / f"part-{s}.jsonl", "w", encoding="utf-8") as f:
            for j, t in enumerate(texts[s * per:(s + 1) * per]):
                ident = s * per + j if with_int_ids else f"{s}-{j}"
                f.write(json.dumps({"text": t, "id": ident}, ensure_ascii=False) + "\n")


def test_datatrove_scoring_then_selection(tmp_path, evals_rows, examples_on_path):
    pytest.importorskip("datatrove", reason="datatrove is not installed: pip install datatrove")
    import datatrove_zip

    texts = [sample_text(r) for r in evals_rows[:2000]]
    write_text_shards(tmp_path / "in", texts, 2)
    datatrove_zip.build(str(tmp_path / "in"), str(tmp_path / "out"), str(tmp_path / "work"), 50, tasks=2, **K).run()
    got = [json.loads(x) for x in (tmp_path / "out" / "selected.jsonl").read_text().splitlines()]
    full = fastzip.select(texts, 50, **K)
    assert [g["text"] for g in got] == [texts[i] for i in full.indices]
    assert [g["metadata"]["fastzip_rank"] for g in got] == list(range(50))
    # each scoring task kept only its own top N
    kept = sum(1 for p in (tmp_path / "work" / "candidates").glob("candidates_*.jsonl")
               for _ in p.read_text().splitlines())
    assert kept == 2 * (50 // 20 + 1) * 300 < len(texts)


def test_data_juicer_selector(evals_rows, examples_on_path):
    pytest.importorskip("data_juicer", reason="Data-Juicer is not installed: pip install py-data-juicer")
    import data_juicer_zip
    from datasets import Dataset

    texts = [sample_text(r) for r in evals_rows[:1000]]
    op = data_juicer_zip.FastzipZipSelector(budget=40, **K)
    out = op.process(Dataset.from_dict({"text": texts}))
    full = fastzip.select(texts, 40, **K)
    assert out["text"] == [texts[i] for i in full.indices]


def test_nemo_curator_recipe(tmp_path, evals_rows, examples_on_path):
    pytest.importorskip("nemo_curator", reason="NeMo Curator is not installed: pip install nemo-curator")
    import nemo_curator_zip
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(nemo_curator_zip)   # Ray workers do not have examples/ on their path
    texts = [sample_text(r) for r in evals_rows[:1500]]
    write_text_shards(tmp_path / "in", texts, 3, with_int_ids=True)
    result = nemo_curator_zip.ZipSelectionWorkflow(str(tmp_path / "in"), str(tmp_path / "out"),
                                                   str(tmp_path / "w"), 40, **K).run()
    full = fastzip.select(texts, 40, **K)
    assert result.get_metadata("selection").ids.tolist() == full.indices.tolist()
    written = [json.loads(x) for p in sorted((tmp_path / "out").glob("*.jsonl")) for x in p.read_text().splitlines()]
    assert sorted((d["fastzip_rank"], d["id"]) for d in written) == list(enumerate(full.indices.tolist()))
