"""The grader's references, one per concept, shared by every judge that needs it.

Each is written from PyTorch primitives, a paper's formula or its authors' code, never from a
solution, and tests/test_references.py checks each against PyTorch, a closed form or a
published number. All compute in float64.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import regex
import torch

from course.text import GPT2_PATTERN

F = torch.nn.functional


def sinusoidal_positions(T: int, d: int) -> torch.Tensor:
    """(T, d): "Attention Is All You Need", section 3.5, PE(pos, 2i) = sin(pos / 10000^(2i/d)),
    PE(pos, 2i+1) = cos(pos / 10000^(2i/d)), evaluated entry by entry."""
    pe = torch.zeros(T, d, dtype=torch.float64)
    for pos in range(T):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            pe[pos, 2 * i], pe[pos, 2 * i + 1] = math.sin(angle), math.cos(angle)
    return pe


def rope(x: torch.Tensor, positions: torch.Tensor, theta: float = 10000.0) -> torch.Tensor:
    """x (..., T, d) rotated by RoPE in the complex form of Meta's Llama code: interleaved pairs
    (x[2i], x[2i+1]) as complex numbers times polar(1, position * theta^(-2i/d)).
    positions (T,) or broadcastable against x's leading dimensions plus T."""
    d = x.shape[-1]
    freqs = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float64)[: d // 2] / d)
    angles = positions.to(torch.float64)[..., None] * freqs
    rotation = torch.polar(torch.ones_like(angles), angles)
    pairs = torch.view_as_complex(x.to(torch.float64).reshape(*x.shape[:-1], d // 2, 2).contiguous())
    return torch.view_as_real(pairs * rotation).flatten(-2)


def alibi_slopes(n: int) -> list[float]:
    """The ALiBi authors' get_slopes (ofirpress/attention_with_linear_biases, fairseq)."""

    def power_of_2(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start * start**i for i in range(n)]

    if math.log2(n).is_integer():
        return power_of_2(n)
    closest = 2 ** math.floor(math.log2(n))
    return power_of_2(closest) + alibi_slopes(2 * closest)[0::2][: n - closest]


def alibi_bias(n_heads: int, T: int) -> torch.Tensor:
    """(n_heads, T, T): slope_h * (j - i) for query i and key j."""
    distance = torch.tensor([[j - i for j in range(T)] for i in range(T)], dtype=torch.float64)
    return torch.stack([slope * distance for slope in alibi_slopes(n_heads)])


def attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(out, weights) of softmax(q k^T / sqrt(d)) v; mask True = may attend; a query that may
    attend to nothing gets zero weights and a zero output. The output is PyTorch's fused
    scaled_dot_product_attention."""
    q, k, v = q.double(), k.double(), v.double()
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask).nan_to_num(0.0)
    if mask is not None:
        visible = mask.expand(weights.shape).any(dim=-1, keepdim=True)
        out = torch.where(visible, out, torch.zeros_like(out))
    return out, weights


BLOCK_WEIGHTS = ("attn_norm", "attn.W_q", "attn.W_k", "attn.W_v", "attn.W_o", "mlp_norm", "mlp.W1", "mlp.W3", "mlp.W2")


def llama_block(config: dict, weights: dict[str, torch.Tensor], x: torch.Tensor, prefix: str = "") -> torch.Tensor:
    """A pre-norm Llama block (RMSNorm, causal GQA attention with RoPE, SwiGLU) from PyTorch
    primitives; `weights` under TinyGPT's parameter names, x (B, T, d_model)."""
    d, heads, kv = config["d_model"], config["n_heads"], config["n_kv_heads"]
    B, T, _ = x.shape
    W = {k: weights[f"{prefix}{k}.weight"].double() for k in BLOCK_WEIGHTS}
    x = x.double()

    def split(y: torch.Tensor, count: int) -> torch.Tensor:
        return y.view(B, T, count, d // heads).transpose(1, 2)

    positions = torch.arange(T)
    n = F.rms_norm(x, (d,), W["attn_norm"], eps=1e-5)
    q = rope(split(F.linear(n, W["attn.W_q"]), heads), positions, config["rope_theta"])
    k = rope(split(F.linear(n, W["attn.W_k"]), kv), positions, config["rope_theta"])
    v = split(F.linear(n, W["attn.W_v"]), kv)
    attended = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    x = x + F.linear(attended.transpose(1, 2).reshape(B, T, d), W["attn.W_o"])
    n = F.rms_norm(x, (d,), W["mlp_norm"], eps=1e-5)
    return x + F.linear(F.silu(F.linear(n, W["mlp.W1"])) * F.linear(n, W["mlp.W3"]), W["mlp.W2"])


def llama_logits(config: dict, weights: dict[str, torch.Tensor], tokens: torch.Tensor) -> torch.Tensor:
    """(B, T, vocab): embedding, `n_layers` Llama blocks, a final RMSNorm, the tied output layer."""
    embed = weights["embed.weight"].double()
    x = embed[tokens]
    for layer in range(config["n_layers"]):
        x = llama_block(config, weights, x, prefix=f"blocks.{layer}.")
    return F.linear(F.rms_norm(x, (x.shape[-1],), weights["norm.weight"].double(), eps=1e-5), embed)


def gpt2_param_count(vocab: int, context: int, d: int, n_layers: int, d_ff: int | None = None) -> int:
    """Build GPT-2 from torch.nn modules on the meta device and count p.numel(): no formula."""
    nn, meta = torch.nn, torch.device("meta")
    d_ff = 4 * d if d_ff is None else d_ff

    def block() -> torch.nn.Module:
        return nn.ModuleDict(
            {
                "ln_1": nn.LayerNorm(d, device=meta),
                "c_attn": nn.Linear(d, 3 * d, device=meta),
                "attn_proj": nn.Linear(d, d, device=meta),
                "ln_2": nn.LayerNorm(d, device=meta),
                "c_fc": nn.Linear(d, d_ff, device=meta),
                "mlp_proj": nn.Linear(d_ff, d, device=meta),
            }
        )

    model = nn.ModuleDict(
        {
            "wte": nn.Embedding(vocab, d, device=meta),
            "wpe": nn.Embedding(context, d, device=meta),
            "h": nn.ModuleList(block() for _ in range(n_layers)),
            "ln_f": nn.LayerNorm(d, device=meta),
            "lm_head": nn.Linear(d, vocab, bias=False, device=meta),
        }
    )
    model["lm_head"].weight = model["wte"].weight  # tied: parameters() lists the shared tensor once
    return sum(p.numel() for p in model.parameters())


# -- byte-level BPE (module 03): the definition, recounted before every merge --------------------


def pretokens(text: str, special_tokens: Sequence[str] = ()) -> Counter[bytes]:
    """Pre-token (UTF-8 bytes) -> how often it occurs: the text split on the special tokens (which are
    dropped), each part split by GPT-2's pattern."""
    parts = _split_on_specials(text, special_tokens)[::2]
    return Counter(match.group().encode("utf-8") for part in parts for match in regex.finditer(GPT2_PATTERN, part))


def _split_on_specials(text: str, special_tokens: Sequence[str]) -> list[str]:
    """[text, special, text, special, ..., text]: the specials (longest first) at the odd indices."""
    if not special_tokens:
        return [text]
    alternatives = "|".join(regex.escape(s) for s in sorted(special_tokens, key=len, reverse=True))
    return regex.split(f"({alternatives})", text)


def merge_pair(symbols: tuple[bytes, ...], pair: tuple[bytes, bytes]) -> tuple[bytes, ...]:
    """Every occurrence of `pair` in `symbols` replaced by its concatenation, left to right."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(pair[0] + pair[1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


Vocab = dict[int, bytes]  # id -> the token's bytes
Merges = list[tuple[bytes, bytes]]  # the merged pairs, in the order learned


def train_bpe(text: str, vocab_size: int, special_tokens: Sequence[str] = ()) -> tuple[Vocab, Merges]:
    """Byte-level BPE as Sennrich et al. define it and CS336's assignment 1 specifies it: ids 0-255 the
    bytes, then the special tokens, then one id per merge; the most frequent adjacent pair (overlaps
    counted, weighted by pre-token frequency) merged each step, ties to the greater pair of bytes.
    Recounts every pair before each merge: slow and obviously right."""
    vocab = {i: bytes([i]) for i in range(256)}
    for token in special_tokens:
        vocab[len(vocab)] = token.encode("utf-8")
    words = {tuple(bytes([b]) for b in word): n for word, n in pretokens(text, special_tokens).items()}
    merges: Merges = []
    while len(vocab) < vocab_size:
        counts: Counter[tuple[bytes, bytes]] = Counter()
        for word, n in words.items():
            for pair in zip(word, word[1:]):
                counts[pair] += n
        if not counts:
            break
        pair = max(counts, key=lambda p: (counts[p], p))
        merges.append(pair)
        vocab[len(vocab)] = pair[0] + pair[1]
        words = {merge_pair(word, pair): n for word, n in words.items()}
    return vocab, merges


def bpe_encode(text: str, vocab: Vocab, merges: Merges, special_tokens: Sequence[str] = ()) -> list[int]:
    """GPT-2's encoder: special tokens whole (longest first), then within each pre-token the
    lowest-ranked merge applied everywhere, repeatedly; a token's id is the lowest id of its bytes."""
    ids = {token: i for i, token in sorted(vocab.items(), reverse=True)}
    ranks = {pair: rank for rank, pair in reversed(list(enumerate(merges)))}
    out = []
    for k, part in enumerate(_split_on_specials(text, special_tokens)):
        if k % 2:
            out.append(ids[part.encode("utf-8")])
            continue
        for match in regex.finditer(GPT2_PATTERN, part):
            symbols = tuple(bytes([b]) for b in match.group().encode("utf-8"))
            while len(symbols) > 1:
                pair = min(zip(symbols, symbols[1:]), key=lambda p: ranks.get(p, math.inf))
                if pair not in ranks:
                    break
                symbols = merge_pair(symbols, pair)
            out.extend(ids[s] for s in symbols)
    return out


def bpe_decode(ids: Sequence[int], vocab: Vocab) -> str:
    """The tokens' bytes joined and read as UTF-8, invalid sequences replaced by U+FFFD."""
    return b"".join(vocab[i] for i in ids).decode("utf-8", errors="replace")


# -- pretraining objectives (module 03) ----------------------------------------------------------


def causal_lm_loss(logits: torch.Tensor, tokens: torch.Tensor, loss_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Hugging Face's causal-LM loss (GPT2LMHeadModel): labels are the tokens with -100 where
    `loss_mask` is False, shifted left by one against the logits, cross-entropy with
    ignore_index=-100, averaged over the counted targets. logits (B, T, V), tokens and loss_mask (B, T)."""
    labels = tokens if loss_mask is None else tokens.masked_fill(~loss_mask, -100)
    shift_logits, shift_labels = logits[..., :-1, :].double(), labels[..., 1:]
    return F.cross_entropy(shift_logits.reshape(-1, logits.shape[-1]), shift_labels.reshape(-1), ignore_index=-100)


def mlm_outcomes(vocab_size: int, mask_id: int) -> dict[str, float]:
    """BERT's 80/10/10 rule as the probabilities of what a chosen position's input becomes, for an
    original id other than mask_id: "mask" (mask_id), "kept" (the original id), "other" (any other
    id). A uniform random id in [0, vocab_size) can itself be the original or mask_id."""
    hit = 1 / vocab_size
    mask_in_vocab = 0 <= mask_id < vocab_size
    return {
        "mask": 0.8 + 0.1 * hit * mask_in_vocab,
        "kept": 0.1 + 0.1 * hit,
        "other": 0.1 * (1 - hit * (1 + mask_in_vocab)),
    }


def span_counts(length: int, noise_density: float, mean_span_length: float) -> tuple[int, int]:
    """(noise tokens, noise spans) of T5's random_spans_noise_mask (t5/data/preprocessors.py):
    round(length * density) clamped to [1, length - 1], then round(noise / mean) at least 1, and at
    most the number of noise and of kept tokens (every span non-empty)."""
    n_noise = min(max(round(length * noise_density), 1), length - 1)
    n_spans = max(round(n_noise / mean_span_length), 1)
    return n_noise, min(n_spans, n_noise, length - n_noise)


def segmentation_first_length(n_items: int, n_segments: int) -> dict[int, float]:
    """The law of the first length when T5's _random_segmentation splits n_items into n_segments
    non-empty parts (a shuffle of n_segments - 1 cut markers over the n_items - 1 gaps, so every
    composition is equally likely): P(first = k) = C(n_items - k - 1, n_segments - 2) / C(n_items - 1, n_segments - 1)."""
    if n_segments == 1:
        return {n_items: 1.0}
    total = math.comb(n_items - 1, n_segments - 1)
    return {k: math.comb(n_items - k - 1, n_segments - 2) / total for k in range(1, n_items - n_segments + 2)}


# -- supervised fine-tuning (module 03) ----------------------------------------------------------


def sft_example(prompt_ids: torch.Tensor, response_ids: torch.Tensor, eos_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Hugging Face's SFT convention (TRL's completion-only loss): input_ids = prompt + response + EOS,
    labels unshifted, -100 on the prompt. 1-D int64 of length P + R + 1."""
    ids = prompt_ids.tolist() + response_ids.tolist() + [eos_id]
    labels = [-100] * len(prompt_ids) + ids[len(prompt_ids) :]
    return torch.tensor(ids, dtype=torch.int64), torch.tensor(labels, dtype=torch.int64)


def next_fit(lengths: Sequence[int], context: int) -> list[int]:
    """The row of each item when items of `lengths` are packed next-fit, in order, into bins of `context`."""
    rows, row, used = [], -1, context
    for n in lengths:
        if n > context:
            raise ValueError(f"an item of {n} does not fit a bin of {context}")
        if used + n > context:
            row, used = row + 1, 0
        rows.append(row)
        used += n
    return rows


def pack(
    examples: Sequence[tuple[torch.Tensor, torch.Tensor]], context: int, pad_id: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Next-fit packing as Hugging Face's DataCollatorWithFlattening lays out one row (position ids
    restarting per example, the first label of each example -100), rows filled with padding: pad_id,
    label -100, position 0, document -1. Four int64 (N, context) tensors."""
    rows = next_fit([len(ids) for ids, _ in examples], context)
    n_rows = rows[-1] + 1 if rows else 0
    layout: list[list[tuple[int, int, int, int]]] = [[] for _ in range(n_rows)]  # (id, label, position, document)
    for document, ((ids, labels), row) in enumerate(zip(examples, rows)):
        for position, (token, label) in enumerate(zip(ids.tolist(), labels.tolist())):
            layout[row].append((token, -100 if position == 0 else label, position, document))
    for row in layout:
        row.extend([(pad_id, -100, 0, -1)] * (context - len(row)))
    table = torch.tensor(layout, dtype=torch.int64).reshape(n_rows, context, 4)
    return tuple(table[..., k] for k in range(4))  # type: ignore[return-value]


def packed_attention_mask(document_ids: torch.Tensor) -> torch.Tensor:
    """mask[n, i, j] = j <= i and document_ids[n, i] == document_ids[n, j] != -1: bool (N, T, T)."""
    N, T = document_ids.shape
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    query, key = document_ids[:, :, None].expand(N, T, T), document_ids[:, None, :].expand(N, T, T)
    return (j <= i) & (query == key) & (key != -1)


# -- parameter-efficient fine-tuning (module 03) -------------------------------------------------


def lora_linear(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    lora_A: torch.Tensor,
    lora_B: torch.Tensor,
    scaling: float,
) -> torch.Tensor:
    """HF PEFT's LoRA Linear with dropout off: W x + b + scaling * B A x. x (..., d_in); weight
    (d_out, d_in); lora_A (r, d_in); lora_B (d_out, r). Float64."""
    x = x.double()
    base = F.linear(x, weight.double(), None if bias is None else bias.double())
    return base + scaling * F.linear(F.linear(x, lora_A.double()), lora_B.double())


def lora_merged_weight(
    weight: torch.Tensor, lora_A: torch.Tensor, lora_B: torch.Tensor, scaling: float
) -> torch.Tensor:
    """The weight of the merged layer (PEFT's merge_and_unload): W + scaling * B @ A, float64."""
    return weight.double() + scaling * lora_B.double() @ lora_A.double()


def lora_targets(model: torch.nn.Module, targets: Sequence[str]) -> list[str]:
    """The qualified names of the nn.Linear modules that PEFT's target_modules list selects: the name
    equals a target or ends with "." + target."""
    return [
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and any(name == t or name.endswith("." + t) for t in targets)
    ]


def lora_param_count(shapes: Sequence[tuple[int, int]], r: int) -> int:
    """LoRA's trainable parameters (Hu et al. 2021, section 4): r (d_out + d_in) per adapted
    (d_out, d_in) matrix."""
    return sum(r * (d_out + d_in) for d_out, d_in in shapes)


def adapter(
    x: torch.Tensor, down_w: torch.Tensor, down_b: torch.Tensor, up_w: torch.Tensor, up_b: torch.Tensor
) -> torch.Tensor:
    """Houlsby et al. 2019's bottleneck adapter: x + up(GELU(down(x))), exact (erf) GELU, float64."""
    x = x.double()
    hidden = F.gelu(F.linear(x, down_w.double(), down_b.double()))
    return x + F.linear(hidden, up_w.double(), up_b.double())


def prefix_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    prefix_k: torch.Tensor,
    prefix_v: torch.Tensor,
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Prefix tuning (Li & Liang 2021) as PEFT feeds it, past keys and values before the sequence's:
    `attention` over (prefix_k, k) and (prefix_v, v), the prefix (..., P, d) broadcast over q's batch
    dimensions and visible to every query (the mask extended by True). Weights (..., T_q, P + T_k)."""
    batch, P = q.shape[:-2], prefix_k.shape[-2]
    keys = torch.cat([prefix_k.double().expand(*batch, P, k.shape[-1]), k.double()], dim=-2)
    values = torch.cat([prefix_v.double().expand(*batch, P, v.shape[-1]), v.double()], dim=-2)
    if mask is not None:
        mask = torch.cat([torch.ones(*mask.shape[:-1], P, dtype=torch.bool), mask], dim=-1)
    return attention(q, keys, values, mask)


def prepend_soft_prompt(embeddings: torch.Tensor, prompt: torch.Tensor) -> torch.Tensor:
    """Prompt tuning (Lester et al. 2021) as PEFT's PromptEmbedding is used: the same P learned
    vectors before every sequence's embeddings. (B, T, d), (P, d) -> (B, P + T, d)."""
    B, (P, d) = embeddings.shape[0], prompt.shape
    return torch.cat([prompt.expand(B, P, d), embeddings], dim=1)


def finetune_memory_bytes(
    n_params: float, n_trainable: float, weight_bytes: float = 2, grad_bytes: float = 2, optimizer_bytes: float = 12
) -> float:
    """Weights of every parameter, gradients and optimizer states of the trainable ones (ZeRO,
    Rajbhandari et al. 2020, section 3.1: 16 bytes a parameter for mixed-precision Adam); no activations."""
    return n_params * weight_bytes + n_trainable * (grad_bytes + optimizer_bytes)
