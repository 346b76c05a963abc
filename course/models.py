"""TinyGPT: the course's small decoder-only language model.

Byte-level (vocabulary 256: any text works, no tokenizer to download), pre-norm
RMSNorm, rotary position embeddings on interleaved pairs, SwiGLU feed-forward,
causal grouped-query attention and a head tied to the embedding. The same
architecture students assemble in module 02; the pretrained checkpoints
(`load_pretrained`) are what later modules fine-tune, quantize, cache and draft with.

Conventions: weights use torch.nn.Linear's (d_out, d_in) layout; RoPE rotates
the pairs (x[2i], x[2i+1]) by position * theta**(-2i/d_head).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources

import torch
import torch.nn.functional as F
from torch import nn

PRETRAINED = ("tinygpt-draft", "tinygpt-target")


@dataclass(frozen=True)
class TinyGPTConfig:
    vocab_size: int = 256
    context: int = 128  # longest sequence the model attends over
    d_model: int = 128
    n_layers: int = 4
    n_heads: int = 4
    n_kv_heads: int = 4  # fewer than n_heads: grouped-query attention
    d_ff: int = 344  # hidden size of the SwiGLU feed-forward
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5
    dropout: float = 0.0

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads


def encode(text: str) -> torch.Tensor:
    """UTF-8 bytes of `text` as token ids, int64 of shape (len(bytes),)."""
    return torch.tensor(list(text.encode("utf-8")), dtype=torch.long)


def decode(tokens: torch.Tensor | list[int]) -> str:
    """Token ids back to text (invalid UTF-8 sequences become U+FFFD)."""
    return bytes(int(t) for t in tokens).decode("utf-8", errors="replace")


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x: torch.Tensor, positions: torch.Tensor, theta: float) -> torch.Tensor:
    """Rotate interleaved pairs of the last dimension, in the complex form of Meta's Llama code:
    the pair (x[2i], x[2i+1]) is the complex number x[2i] + i x[2i+1], multiplied by
    exp(i * position * theta**(-2i/d)). x: (..., T, d); positions: (T,) or (..., T)."""
    d = x.shape[-1]
    freqs = theta ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d)  # (d/2,)
    angles = positions.to(x.device, torch.float32)[..., None] * freqs  # (..., T, d/2)
    pairs = torch.view_as_complex(x.float().contiguous().unflatten(-1, (d // 2, 2)))
    return torch.view_as_real(pairs * torch.polar(torch.ones_like(angles), angles)).flatten(-2).to(x.dtype)


class Attention(nn.Module):
    def __init__(self, c: TinyGPTConfig):
        super().__init__()
        self.c = c
        self.W_q = nn.Linear(c.d_model, c.n_heads * c.d_head, bias=False)
        self.W_k = nn.Linear(c.d_model, c.n_kv_heads * c.d_head, bias=False)
        self.W_v = nn.Linear(c.d_model, c.n_kv_heads * c.d_head, bias=False)
        self.W_o = nn.Linear(c.n_heads * c.d_head, c.d_model, bias=False)

    def forward(self, x: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, d_model); positions (T,) or (B, 1, T); mask None (causal) or bool (B, 1, T, T), True = may attend."""
        c = self.c

        def heads(projection: nn.Linear, count: int) -> torch.Tensor:  # (B, T, count * d_head) -> (B, count, T, d_head)
            return projection(x).unflatten(-1, (count, c.d_head)).transpose(1, 2)

        q = rope(heads(self.W_q, c.n_heads), positions, c.rope_theta)
        k = rope(heads(self.W_k, c.n_kv_heads), positions, c.rope_theta)
        # enable_gqa: query head h reads key/value head h // (n_heads // n_kv_heads)
        out = F.scaled_dot_product_attention(
            q,
            k,
            heads(self.W_v, c.n_kv_heads),
            attn_mask=None if mask is None else mask | ~mask.any(-1, keepdim=True),
            is_causal=mask is None,
            dropout_p=c.dropout if self.training else 0.0,
            enable_gqa=True,
        )
        if mask is not None:  # a query that may attend to nothing reads zeros
            out = out * mask.any(-1, keepdim=True)
        return self.W_o(out.transpose(1, 2).flatten(2))


class SwiGLU(nn.Module):
    def __init__(self, c: TinyGPTConfig):
        super().__init__()
        self.W1 = nn.Linear(c.d_model, c.d_ff, bias=False)  # gate
        self.W3 = nn.Linear(c.d_model, c.d_ff, bias=False)  # up
        self.W2 = nn.Linear(c.d_ff, c.d_model, bias=False)  # down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.W2(F.silu(self.W1(x)) * self.W3(x))


class Block(nn.Module):
    def __init__(self, c: TinyGPTConfig):
        super().__init__()
        self.attn_norm, self.attn = RMSNorm(c.d_model, c.norm_eps), Attention(c)
        self.mlp_norm, self.mlp = RMSNorm(c.d_model, c.norm_eps), SwiGLU(c)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.dropout(self.attn(self.attn_norm(x), positions, mask))
        return x + self.dropout(self.mlp(self.mlp_norm(x)))


class TinyGPT(nn.Module):
    def __init__(self, config: TinyGPTConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.d_model)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm = RMSNorm(config.d_model, config.norm_eps)
        self.apply(self._init)
        for name, p in self.named_parameters():  # scaled init of the projections into the residual stream
            if name.endswith(("W_o.weight", "W2.weight")):
                nn.init.normal_(p, std=0.02 / (2 * config.n_layers) ** 0.5)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)

    def forward(
        self,
        tokens: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        embeddings: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits (B, T, vocab_size) of `tokens` (B, T) int64, or of `embeddings` (B, T, d_model) fed in their place.

        positions: (T,) or (B, T), default 0..T-1 (the model was trained on positions below its context).
        mask: bool (B, T, T) or (B, 1, T, T), True = query row may attend to key column; replaces the
        causal mask when given (packed or padded sequences). A row that may attend to nothing reads zeros.
        """
        if (tokens is None) == (embeddings is None):
            raise ValueError("give exactly one of tokens (B, T) and embeddings (B, T, d_model)")
        x = self.embed(tokens) if embeddings is None else embeddings
        if x.dim() != 3 or x.shape[-1] != self.config.d_model:
            raise ValueError(
                f"expected tokens (B, T) or embeddings (B, T, {self.config.d_model}), got {tuple(x.shape)}"
            )
        B, T = x.shape[:2]
        if positions is None:
            if T > self.config.context:
                raise ValueError(f"sequence of {T} tokens is longer than the model's context of {self.config.context}")
            positions = torch.arange(T, device=x.device)
        elif positions.shape[-1] != T or positions.dim() not in (1, 2):
            raise ValueError(f"positions must have shape ({T},) or ({B}, {T}), got {tuple(positions.shape)}")
        elif positions.dim() == 2:
            positions = positions[:, None, :]  # (B, 1, T): broadcast over heads
        if mask is not None:
            if mask.dtype != torch.bool or mask.shape[-2:] != (T, T) or mask.dim() not in (3, 4):
                raise ValueError(
                    f"mask must be bool of shape ({B}, {T}, {T}) or ({B}, 1, {T}, {T}), got {mask.dtype} {tuple(mask.shape)}"
                )
            mask = mask[:, None] if mask.dim() == 3 else mask
        for block in self.blocks:
            x = block(x, positions, mask)
        return self.norm(x) @ self.embed.weight.T  # head tied to the embedding

    def loss(self, tokens: torch.Tensor) -> torch.Tensor:
        """Mean next-token cross-entropy (nats) of a batch of sequences (B, T)."""
        logits = self(tokens[:, :-1])
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @torch.no_grad()
    def generate(
        self,
        prompt: str,
        max_new_tokens: int = 200,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> str:
        """Continue `prompt` by sampling (temperature 0: greedy); returns the prompt plus the continuation."""
        device = self.embed.weight.device
        tokens = encode(prompt).to(device)[None]
        for _ in range(max_new_tokens):
            logits = self(tokens[:, -self.config.context :])[0, -1]
            if temperature == 0:
                next_token = logits.argmax()
            else:
                logits = logits / temperature
                if top_k is not None:
                    kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
                    logits = logits.masked_fill(logits < kth, float("-inf"))
                probs = torch.softmax(logits.float(), dim=-1)
                next_token = torch.multinomial(probs.cpu(), 1, generator=generator)[0].to(device)
            tokens = torch.cat([tokens, next_token.view(1, 1)], dim=1)
        return decode(tokens[0].tolist())


def load_pretrained(name: str, device: str | torch.device = "cpu") -> TinyGPT:
    """A pretrained TinyGPT shipped with the course: "tinygpt-draft" or "tinygpt-target"."""
    if name not in PRETRAINED:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(PRETRAINED)}")
    path = resources.files("course") / "assets" / f"{name}.pt"
    with resources.as_file(path) as file:
        checkpoint = torch.load(file, map_location=device, weights_only=True)
    model = TinyGPT(TinyGPTConfig(**json.loads(checkpoint["config"])))
    model.load_state_dict(checkpoint["weights"])
    return model.to(device).eval()


def checkpoint(model: TinyGPT) -> dict:
    """What `load_pretrained` reads: the config as JSON and the float32 weights."""
    return {
        "config": json.dumps(asdict(model.config)),
        "weights": {k: v.detach().float().cpu() for k, v in model.state_dict().items()},
    }
