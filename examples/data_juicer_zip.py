"""A Data-Juicer ``Selector`` op for ZIP's default mode (pip install py-data-juicer aiohttp fastzip; tested with 1.6.1).

Use it in a recipe after registering it (import this module first)::

    process:
      - fastzip_zip_selector:
          budget: 1000        # samples to keep
          # codec: zstd       # optional: fastzip's default (lz77) when left out

The op keeps ``budget`` samples of the dataset chosen by ``fastzip.select``
over the ``text_key`` field, in selection order.  On a standalone executor
the dataset is a Hugging Face dataset; under Ray, pass the Ray Dataset to
``fastzip.scale.ray.select`` instead (Data-Juicer's own Selector ops are not
available in Ray mode).
"""
from __future__ import annotations

from data_juicer.ops.base_op import OPERATORS, Selector

import fastzip

OP_NAME = "fastzip_zip_selector"


@OPERATORS.register_module(OP_NAME)
class FastzipZipSelector(Selector):
    """Keep the ``budget`` samples whose concatenation compresses worst (ZIP, default mode)."""

    def __init__(self, budget: int = 1000, k1: int = 10000, k2: int = 200, k3: int = 100,
                 codec: str | None = None, level: int | None = None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.budget, self.k1, self.k2, self.k3 = int(budget), int(k1), int(k2), int(k3)
        self.codec, self.level = codec, level

    def process(self, dataset):
        n = len(dataset)
        if n <= self.budget:
            return dataset
        texts = dataset[self.text_key]
        res = fastzip.select(texts, self.budget, k1=self.k1, k2=min(self.k2, self.k1), k3=min(self.k3, self.k2),
                             codec=self.codec, level=self.level)
        return dataset.select(res.indices.tolist())
