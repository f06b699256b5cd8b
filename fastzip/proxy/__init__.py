"""Proxy-model harness: what a data version teaches a small model (needs torch for training).

Train a small causal language model from scratch on each data version,
record its first-epoch training loss L in a Hugging Face Trainer's
``trainer_state.json`` and its held-out performance Z (minus bits per
byte), and write the runs table (``name,ratio,loss,performance``) that
``fastzip law fit`` and ``fastzip law check`` read.

* :func:`~fastzip.proxy.harness.run_versions`: train and evaluate data
  version files, with a cache of finished versions.
* :func:`~fastzip.proxy.versions.build_versions`: the standard versions of a
  pool (ZIP, random, length-matched random, redundant, inconsistent,
  mixtures) at one sample, byte or token budget.
* :func:`~fastzip.proxy.train.train_proxy`: one training run on tokens.

Building versions needs no torch; training does (``pip install
'fastzip-select[proxy]'``). Submodules that need torch are imported on
first use.
"""
from __future__ import annotations

from .state import trainer_state, write_trainer_state
from .text import Tokenizer

__all__ = ["Tokenizer", "trainer_state", "write_trainer_state"]
