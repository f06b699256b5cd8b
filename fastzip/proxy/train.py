"""Train one proxy on one data version; measure its first-epoch loss L and held-out performance Z.

* L: the mean training loss (nats per token) over the first epoch's steps,
  logged every step in a Trainer-style ``log_history``.
* Z: minus the mean held-out loss in **bits per byte**: every held-out
  token after the first is scored once, with at least half a context of
  history (windows of ``context`` tokens advanced by half a context), and
  the summed loss is divided by ``ln 2`` and by the held-out text's bytes.
  Bits per byte compare across tokenizers; higher Z is better.

On CPU a run is deterministic for a seed and a thread count: the harness
fixes torch's threads and turns on ``torch.use_deterministic_algorithms``
for the run (restoring both after it).
"""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

# optional dependency: this module is imported only after fastzip._optional.require_torch() succeeded
import torch
import torch.nn.functional as F

from ..errors import InputError, UsageError
from .model import ModelConfig, TinyGPT


@dataclass(frozen=True)
class TrainConfig:
    """How a proxy is trained (everything a cached result depends on).

    Parameters
    ----------
    context, d_model, n_layers, n_heads : int
        The model's shape (:class:`fastzip.proxy.model.ModelConfig`).
    batch_size : int
        Sequences per step.
    lr : float
        Peak AdamW learning rate; linear warm-up over the first 5% of the
        steps, then linear decay to 0 (the Trainer's default schedule).
    weight_decay : float
        AdamW weight decay.
    epochs : int
        Passes over the version's text.
    seed : int
        Seeds the weights and the order of the sequences.
    device : str
        ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA when present).
    threads : int
        CPU threads torch uses (results depend on it; fixed for determinism).
    time_limit : float or None
        Seconds of training per version; the run stops early when they are
        spent (an error if the first epoch is not finished by then).
    """

    context: int = 128
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 2
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 0.01
    epochs: int = 1
    seed: int = 0
    device: str = "cpu"
    threads: int = 1
    time_limit: float | None = None

    def key(self) -> dict[str, Any]:
        """The settings a result depends on, for a cache key (the time limit included: it can cut a run)."""
        return asdict(self)


@dataclass
class TrainResult:
    """One trained proxy.

    Parameters
    ----------
    log_history : list of dict
        The Trainer-style log: one entry per step, evaluation entries, a summary.
    loss : float
        First-epoch mean training loss L (nats per token).
    performance : dict of str to float
        Z on each held-out set, by its name.
    bits_per_byte : dict of str to float
        Held-out loss in bits per byte (``-performance``).
    steps, steps_per_epoch : int
        Steps taken, and steps in one epoch.
    epochs_done : float
        Epochs done (below ``epochs`` when the time limit stopped the run).
    train_tokens : int
        Tokens in the version (one epoch).
    tokens_seen : int
        Training tokens processed.
    n_params : int
        Model parameters.
    seconds : float
        Wall time of training (evaluation excluded).
    device : str
        The device used.
    """

    log_history: list[dict[str, Any]]
    loss: float
    performance: dict[str, float]
    bits_per_byte: dict[str, float]
    steps: int
    steps_per_epoch: int
    epochs_done: float
    train_tokens: int
    tokens_seen: int
    n_params: int
    seconds: float
    device: str
    notes: list[str] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        """Training throughput."""
        return self.tokens_seen / self.seconds if self.seconds > 0 else float("nan")


def resolve_device(name: str) -> str:
    """``auto`` to ``cuda`` or ``cpu``; check that a named CUDA device exists.

    Parameters
    ----------
    name : str

    Returns
    -------
    str

    Raises
    ------
    fastzip.errors.UsageError
        CUDA asked for and not available, or an unknown device.
    """
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return name
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UsageError(f"--device {name}: CUDA is not available to this torch "
                             f"({torch.__version__}); use --device cpu")
        return name
    raise UsageError(f"--device {name!r}: expected cpu, cuda, cuda:N or auto")


@contextlib.contextmanager
def _deterministic(device: str, threads: int) -> Iterator[None]:
    """Fixed threads and deterministic kernels for the run, restored afterwards."""
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    # deterministic CUDA kernels would need CUBLAS_WORKSPACE_CONFIG; determinism is promised on CPU only
    torch.use_deterministic_algorithms(device == "cpu")
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old_det)
        torch.set_num_threads(old_threads)


def _lr_at(step: int, total: int, peak: float) -> float:
    warm = max(1, round(0.05 * total))
    if step < warm:
        return peak * (step + 1) / warm
    return peak * max(0.0, (total - step) / max(1, total - warm))


def check_config(cfg: TrainConfig) -> None:
    """Refuse settings that cannot train.

    Raises
    ------
    fastzip.errors.UsageError
        A non-positive size, heads that do not divide the width, and the like.
    """
    for name in ("context", "d_model", "n_layers", "n_heads", "batch_size", "epochs", "threads"):
        if getattr(cfg, name) < 1:
            raise UsageError(f"{name.replace('_', '-')} must be >= 1, got {getattr(cfg, name)}")
    if cfg.context < 2:
        raise UsageError(f"context must be >= 2, got {cfg.context}")
    if cfg.d_model % cfg.n_heads:
        raise UsageError(f"heads ({cfg.n_heads}) must divide the width ({cfg.d_model})")
    if not (cfg.lr > 0 and math.isfinite(cfg.lr)):
        raise UsageError(f"lr must be a positive number, got {cfg.lr}")
    if cfg.time_limit is not None and not cfg.time_limit > 0:
        raise UsageError(f"time limit must be > 0 seconds, got {cfg.time_limit}")


def _windows(n: int, context: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Evaluation windows over ``n`` tokens: their starts and the first position each scores.

    Windows of ``context`` tokens advance by half a context (the last one
    ends at the last token); a window scores the positions that the one
    before it did not reach, so every token but the first is scored once.
    """
    if n <= context:
        return np.array([0], dtype=np.int64), np.array([1], dtype=np.int64)
    half = max(1, context // 2)
    starts = list(range(0, n - context + 1, half))
    if starts[-1] + context < n:
        starts.append(n - context)
    first = [1] + [starts[i - 1] + context - starts[i] for i in range(1, len(starts))]
    return np.array(starts, dtype=np.int64), np.array(first, dtype=np.int64)


@torch.no_grad()
def heldout_bits_per_byte(model: TinyGPT, tokens: npt.NDArray[np.int64], n_bytes: int, device: str,
                          batch_size: int) -> float:
    """Held-out loss in bits per byte (see the module docstring).

    Parameters
    ----------
    model : TinyGPT
    tokens : numpy.ndarray of int64
        The held-out text's tokens.
    n_bytes : int
        The bytes the scored tokens stand for (the caller knows: at the byte
        level every byte but the first).
    device : str
    batch_size : int
        Windows per forward pass.

    Returns
    -------
    float
    """
    model.eval()
    context = model.cfg.context
    starts, first = _windows(len(tokens), context)
    total = 0.0
    for b in range(0, len(starts), batch_size):
        s, f = starts[b:b + batch_size], first[b:b + batch_size]
        width = min(context, len(tokens))
        x = torch.from_numpy(np.stack([tokens[i:i + width] for i in s])).to(device)
        logits = model(x[:, :-1]).float()
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1),
                              reduction="none").view(len(s), width - 1)
        # position p of the targets is token p+1: a window scores tokens first..width-1
        mask = torch.arange(1, width, device=device)[None, :] >= torch.from_numpy(f).to(device)[:, None]
        total += float((nll * mask).sum(dtype=torch.float64))
    model.train()
    return total / math.log(2) / max(1, n_bytes)


def train_proxy(tokens: npt.NDArray[np.int64], heldout: dict[str, tuple[npt.NDArray[np.int64], int]],
                cfg: TrainConfig, vocab_size: int, *, name: str = "version",
                progress: Callable[[int], None] | None = None) -> TrainResult:
    """Train a fresh proxy on ``tokens`` and evaluate it on each held-out set.

    Parameters
    ----------
    tokens : numpy.ndarray of int64
        The version's training tokens, in file order. They are cut into
        sequences of ``context + 1`` tokens (consecutive sequences share one
        token), shuffled each epoch.
    heldout : dict of str to (tokens, bytes)
        Held-out sets by name.
    cfg : TrainConfig
    vocab_size : int
    name : str, optional
        For error messages.
    progress : callable, optional
        Called with 1 after each step.

    Returns
    -------
    TrainResult

    Raises
    ------
    fastzip.errors.InputError
        A version shorter than one sequence, a non-finite loss, or a time
        limit reached before the first epoch ended.
    """
    check_config(cfg)
    device = resolve_device(cfg.device)
    context = cfg.context
    n_seq = (len(tokens) - 1) // context
    if n_seq < 1:
        raise InputError(f"version {name!r} has {len(tokens)} tokens, fewer than one sequence "
                         f"({context + 1}); lower --context")
    steps_per_epoch = -(-n_seq // cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    log: list[dict[str, Any]] = []
    notes: list[str] = []
    with _deterministic(device, cfg.threads):
        torch.manual_seed(cfg.seed)
        model = TinyGPT(ModelConfig(vocab_size, context, cfg.d_model, cfg.n_layers, cfg.n_heads)).to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                                betas=(0.9, 0.95))
        data = torch.from_numpy(np.ascontiguousarray(tokens[:n_seq * context + 1]))
        offsets = np.arange(n_seq) * context
        rng = np.random.default_rng(cfg.seed)
        step = 0
        seen = 0
        t0 = time.perf_counter()
        stopped = False
        first_epoch: list[float] = []
        for epoch in range(cfg.epochs):
            order = offsets[rng.permutation(n_seq)]
            for b in range(steps_per_epoch):
                starts = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
                batch = torch.stack([data[s:s + context + 1] for s in starts]).to(device)
                lr = _lr_at(step, total_steps, cfg.lr)
                for group in opt.param_groups:
                    group["lr"] = lr
                logits = model(batch[:, :-1])
                loss = F.cross_entropy(logits.reshape(-1, vocab_size), batch[:, 1:].reshape(-1))
                opt.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0))
                opt.step()
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise InputError(f"version {name!r}: the training loss became {value} at step {step + 1}; "
                                     "lower --lr")
                step += 1
                seen += batch.numel() - len(starts)
                if epoch == 0:
                    first_epoch.append(value)
                log.append({"epoch": step / steps_per_epoch, "grad_norm": grad_norm, "learning_rate": lr,
                            "loss": value, "step": step})
                if progress is not None:
                    progress(1)
                if cfg.time_limit is not None and time.perf_counter() - t0 > cfg.time_limit:
                    stopped = step < total_steps
                    break
            if stopped or (cfg.time_limit is not None and time.perf_counter() - t0 > cfg.time_limit):
                stopped = step < total_steps
                break
        seconds = time.perf_counter() - t0
        if step < steps_per_epoch:
            raise InputError(f"version {name!r}: the time limit ({cfg.time_limit:g} s) ended training at "
                             f"epoch {step / steps_per_epoch:.2f}, before the first epoch; raise --time-limit "
                             "or shrink the model")
        if stopped:
            notes.append(f"time limit: stopped at epoch {step / steps_per_epoch:.3f} of {cfg.epochs}")
        bits = {k: heldout_bits_per_byte(model, t, n, device, max(cfg.batch_size, 32))
                for k, (t, n) in heldout.items()}
        n_params = model.n_params()
    for k, v in bits.items():
        log.append({"epoch": step / steps_per_epoch, "eval_loss": v * math.log(2),
                    f"eval_{k}_bits_per_byte": v, "step": step})
    log.append({"epoch": step / steps_per_epoch, "step": step, "total_flos": 0.0,
                "train_loss": sum(e["loss"] for e in log if "loss" in e) / step,
                "train_runtime": seconds, "train_tokens_per_second": seen / seconds if seconds else 0.0})
    return TrainResult(
        log_history=log, loss=sum(first_epoch) / len(first_epoch), performance={k: -v for k, v in bits.items()},
        bits_per_byte=bits, steps=step, steps_per_epoch=steps_per_epoch, epochs_done=step / steps_per_epoch,
        train_tokens=len(tokens), tokens_seen=seen, n_params=n_params, seconds=seconds, device=device,
        notes=notes)
