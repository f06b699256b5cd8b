"""A small causal transformer language model, trained from scratch.

Pre-norm GPT blocks (causal self-attention and a 4x GELU MLP), learned
positions, tied input and output embeddings, no dropout: the kind of
~0.1-1M parameter proxy RegMix and DoReMi train to compare data mixtures.
"""
from __future__ import annotations

from dataclasses import dataclass

# optional dependency: this module is imported only after fastzip._optional.require_torch() succeeded
import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ModelConfig:
    """The proxy's shape.

    Parameters
    ----------
    vocab_size : int
        Tokens (256 at the byte level).
    context : int
        Sequence length in tokens.
    d_model : int
        Width.
    n_layers : int
        Transformer blocks.
    n_heads : int
        Attention heads (must divide ``d_model``).
    """

    vocab_size: int = 256
    context: int = 128
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 2


class _Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = nn.Sequential(nn.Linear(cfg.d_model, 4 * cfg.d_model), nn.GELU(),
                                 nn.Linear(4 * cfg.d_model, cfg.d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        shape = (b, t, self.n_heads, d // self.n_heads)
        q, k, v = (z.view(shape).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        out: torch.Tensor = x + self.mlp(self.ln2(x))
        return out


class TinyGPT(nn.Module):
    """The proxy model.

    Parameters
    ----------
    cfg : ModelConfig
        Its shape.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.context, cfg.d_model)
        self.blocks = nn.ModuleList(_Block(cfg) for _ in range(cfg.n_layers))
        self.ln = nn.LayerNorm(cfg.d_model)
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits for each position of ``idx`` (batch, time)."""
        t = idx.shape[1]
        x = self.tok(idx) + self.pos(torch.arange(t, device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits: torch.Tensor = self.ln(x) @ self.tok.weight.T   # tied output embedding
        return logits

    def n_params(self) -> int:
        """Number of parameters."""
        return sum(p.numel() for p in self.parameters())
