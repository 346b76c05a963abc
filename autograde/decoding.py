"""Measurements of the TinyGPT pair that module 05 builds on: cached decoding, time per generated
token at batch 1, and the acceptance rate of the draft against the target.

Instructor side on purpose: the KV cache is an exercise of module 05, so it is not in `course`.

    python -m autograde.decoding      # docs/tinygpt_decoding.json (then: python -m course.train report)
"""

from __future__ import annotations

import json
import statistics
import time

import torch
import torch.nn.functional as F

from course.models import TinyGPT, load_pretrained, rope

Cache = list[tuple[torch.Tensor, torch.Tensor]]  # per block: keys and values (1, n_kv_heads, T, d_head)


@torch.no_grad()
def cached_forward(model: TinyGPT, tokens: torch.Tensor, cache: Cache) -> torch.Tensor:
    """Logits (1, T, vocab) of `tokens` (1, T) following the cached prefix; appends their keys and values.

    A prompt is fed in one call on an empty cache (causal attention); later calls feed one token."""
    c = model.config
    start = cache[0][0].shape[2] if cache else 0
    if tokens.shape[1] > 1 and start:
        raise ValueError("feed the prompt on an empty cache, then one token per call")
    positions = torch.arange(start, start + tokens.shape[1])
    x = model.embed(tokens)
    for i, block in enumerate(model.blocks):
        h = block.attn_norm(x)
        attn = block.attn

        def heads(projection: torch.nn.Linear, count: int, h: torch.Tensor = h) -> torch.Tensor:
            return projection(h).unflatten(-1, (count, c.d_head)).transpose(1, 2)

        q = rope(heads(attn.W_q, c.n_heads), positions, c.rope_theta)
        k = rope(heads(attn.W_k, c.n_kv_heads), positions, c.rope_theta)
        v = heads(attn.W_v, c.n_kv_heads)
        if start:
            k, v = torch.cat([cache[i][0], k], dim=2), torch.cat([cache[i][1], v], dim=2)
            cache[i] = (k, v)
        else:
            cache.append((k, v))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=start == 0, enable_gqa=True)
        x = x + attn.W_o(out.transpose(1, 2).flatten(2))
        x = x + block.mlp(block.mlp_norm(x))
    return model.norm(x) @ model.embed.weight.T


@torch.no_grad()
def greedy(model: TinyGPT, prompt: torch.Tensor, new_tokens: int, use_cache: bool = True) -> torch.Tensor:
    """Greedy continuation (new_tokens,) of `prompt` (T,), with or without a KV cache."""
    tokens, cache = prompt[None], []
    logits = cached_forward(model, tokens, cache) if use_cache else model(tokens)
    out = []
    for _ in range(new_tokens):
        token = logits[:, -1].argmax(-1, keepdim=True)
        out.append(token)
        if use_cache:
            logits = cached_forward(model, token, cache)
        else:
            tokens = torch.cat([tokens, token], dim=1)
            logits = model(tokens)
    return torch.cat(out, dim=1)[0]


def seconds_per_token(
    model: TinyGPT, prompt: torch.Tensor, new_tokens: int, use_cache: bool, repeats: int = 3
) -> float:
    """Median over `repeats` of the wall time of a greedy continuation, divided by its length."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        greedy(model, prompt, new_tokens, use_cache)
        times.append((time.perf_counter() - started) / new_tokens)
    return statistics.median(times)


@torch.no_grad()
def greedy_acceptance(draft: TinyGPT, target: TinyGPT, prompt: torch.Tensor, new_tokens: int) -> float:
    """The fraction of positions where the draft's argmax equals the target's, along the target's
    greedy continuation of `prompt` (T,): the acceptance rate of greedy speculative decoding."""
    tokens = torch.cat([prompt, greedy(target, prompt, new_tokens)])[None]
    p, q = target(tokens)[0, len(prompt) - 1 : -1], draft(tokens)[0, len(prompt) - 1 : -1]
    return (p.argmax(-1) == q.argmax(-1)).float().mean().item()


@torch.no_grad()
def acceptance_rates(draft: TinyGPT, target: TinyGPT, prompts: list[torch.Tensor], new_tokens: int) -> dict[str, float]:
    """How often speculative decoding accepts a draft token, along the target's own continuations.

    greedy: `greedy_acceptance`, averaged over the prompts. temperature 1: the mean of
    sum_v min(p(v), q(v)) = 1 - TV(p, q), the acceptance probability of speculative sampling,
    along a continuation sampled from the target."""
    generator = torch.Generator().manual_seed(0)
    overlap = []
    for prompt in prompts:
        sampled = prompt[None]
        for _ in range(new_tokens):  # plain sampling from the target at temperature 1
            probs = torch.softmax(target(sampled)[0, -1], -1)
            sampled = torch.cat([sampled, torch.multinomial(probs, 1, generator=generator)[None]], dim=1)
        p = torch.softmax(target(sampled)[0, len(prompt) - 1 : -1], -1)
        q = torch.softmax(draft(sampled)[0, len(prompt) - 1 : -1], -1)
        overlap.append(torch.minimum(p, q).sum(-1).mean().item())
    agree = [greedy_acceptance(draft, target, prompt, new_tokens) for prompt in prompts]
    return {"greedy": statistics.mean(agree), "temperature 1": statistics.mean(overlap)}


def expected_speedup(acceptance: float, gamma: int, cost_ratio: float) -> float:
    """Leviathan et al. (2023), eq. 1 and theorem 3.8: tokens per target-step-equivalent,
    (1 - a^(gamma+1)) / ((1 - a) (gamma c + 1))."""
    return (1 - acceptance ** (gamma + 1)) / ((1 - acceptance) * (gamma * cost_ratio + 1))


def held_out_prompts(prompt_length: int = 256, n_prompts: int = 8) -> list[torch.Tensor]:
    """`n_prompts` windows (prompt_length,) of held-out bytes, evenly spaced through the held-out text."""
    from course.data import stdlib_corpus
    from course.models import encode

    data = encode(stdlib_corpus()[1])
    stride = (len(data) - prompt_length) // n_prompts
    return [data[i * stride : i * stride + prompt_length] for i in range(n_prompts)]


def measure(prompt_length: int = 256, new_tokens: int = 256, n_prompts: int = 8) -> dict:
    """Everything docs/tinygpt.md reports about decoding, on one thread, both models side by side."""
    torch.set_num_threads(1)
    prompts = held_out_prompts(prompt_length, n_prompts)
    models = {name: load_pretrained(f"tinygpt-{name}") for name in ("draft", "target")}
    timing = {
        name: {
            "cached": seconds_per_token(model, prompts[0], new_tokens, use_cache=True),
            "uncached": seconds_per_token(model, prompts[0], new_tokens, use_cache=False, repeats=1),
        }
        for name, model in models.items()
    }
    # the ratio from interleaved runs, so that both models see the same machine load
    pairs = [
        seconds_per_token(models["draft"], prompts[0], new_tokens, True, repeats=1)
        / seconds_per_token(models["target"], prompts[0], new_tokens, True, repeats=1)
        for _ in range(5)
    ]
    ratio = statistics.median(pairs)
    rates = acceptance_rates(models["draft"], models["target"], prompts, new_tokens)
    return {
        "prompt_length": prompt_length,
        "n_prompts": n_prompts,
        "new_tokens": new_tokens,
        "seconds_per_token": timing,
        "cost_ratio": ratio,
        "acceptance": rates,
        "expected_speedup_gamma_4": {k: expected_speedup(a, 4, ratio) for k, a in rates.items()},
    }


def flat(measured: dict) -> dict:
    """The measurements under the names docs/tinygpt.md's decoding section uses (times in ms)."""
    times = measured["seconds_per_token"]
    return {
        "prompt_length": measured["prompt_length"],
        "new_tokens": measured["new_tokens"],
        "n_prompts": measured["n_prompts"],
        **{f"{m}_{k}_ms": 1000 * times[m][k] for m in ("draft", "target") for k in ("cached", "uncached")},
        "cost_ratio": measured["cost_ratio"],
        "greedy": measured["acceptance"]["greedy"],
        "temperature_1": measured["acceptance"]["temperature 1"],
        "speedup_greedy": measured["expected_speedup_gamma_4"]["greedy"],
        "speedup_t1": measured["expected_speedup_gamma_4"]["temperature 1"],
    }


if __name__ == "__main__":
    from course.train import DOCS

    result = flat(measure())
    (DOCS / "tinygpt_decoding.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
