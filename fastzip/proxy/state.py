"""``trainer_state.json`` in the Hugging Face Trainer's format (no torch needed).

``fastzip law check --trainer-state`` reads the first-epoch loss from the
``log_history`` entries that carry a ``loss`` and an ``epoch`` (see
:func:`fastzip.law.ingest.loss_from_trainer_state`).  The harness logs every
optimizer step (``logging_steps = 1``), so the plain mean of the entries at
``epoch <= 1`` is exactly the first epoch's mean step loss.  Evaluation
entries (``eval_loss``) and the closing summary (``train_loss``) have no
``loss`` key, as in a real Trainer's file, and are not counted.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from ..io import atomic_writer

STATE_FILE = "trainer_state.json"


def trainer_state(log_history: Sequence[dict[str, Any]], *, global_step: int, epoch: float, max_steps: int,
                  num_train_epochs: int, train_batch_size: int, num_input_tokens_seen: int) -> dict[str, Any]:
    """The ``trainer_state.json`` object a Trainer writes, for a finished run.

    Parameters
    ----------
    log_history : sequence of dict
        Training-step entries (``loss``, ``learning_rate``, ``grad_norm``,
        ``epoch``, ``step``), evaluation entries and the closing summary.
    global_step : int
        Optimizer steps taken.
    epoch : float
        Epochs done (fractional when a time limit stopped the run).
    max_steps : int
        Steps planned.
    num_train_epochs : int
        Epochs planned.
    train_batch_size : int
        Sequences per step.
    num_input_tokens_seen : int
        Training tokens consumed.

    Returns
    -------
    dict
    """
    return {
        "best_global_step": None,
        "best_metric": None,
        "best_model_checkpoint": None,
        "epoch": epoch,
        "eval_steps": max_steps,
        "global_step": global_step,
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "log_history": list(log_history),
        "logging_steps": 1,
        "max_steps": max_steps,
        "num_input_tokens_seen": num_input_tokens_seen,
        "num_train_epochs": num_train_epochs,
        "save_steps": max_steps,
        "stateful_callbacks": {},
        "total_flos": 0.0,
        "train_batch_size": train_batch_size,
        "trial_name": None,
        "trial_params": None,
    }


def write_trainer_state(folder: str | os.PathLike[str], state: dict[str, Any]) -> str:
    """Write ``state`` to ``folder/trainer_state.json`` atomically (as the Trainer does: indent 2, sorted keys).

    Parameters
    ----------
    folder : str or os.PathLike
        The run's output folder (created when missing).
    state : dict
        From :func:`trainer_state`.

    Returns
    -------
    str
        The file written.
    """
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(os.fspath(folder), STATE_FILE)
    with atomic_writer(path, "w") as f:
        f.write(json.dumps(state, indent=2, sort_keys=True, allow_nan=False) + "\n")
    return path
