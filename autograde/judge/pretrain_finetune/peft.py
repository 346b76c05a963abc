"""Judges of 04_peft.ipynb: the LoRA layer against PEFT's computation (tests/test_references.py), its
initialization statistically, dropout by where it acts, LoRA on a model as PEFT selects its targets,
the counts, the adapter, prefix attention and the soft prompt against their references."""

from __future__ import annotations

import functools
import math
from typing import Any

import torch

from autograde.hidden import Case
from autograde.judge import Choice, Computed, answer_key, expect, expect_close, judge, probes_for, references
from course.checks import SIGMAS, sigmas_off
from course.models import TinyGPT, TinyGPTConfig, load_pretrained

hidden = probes_for(__name__)


def _tensor(value: Any, shape: tuple[int, ...], dtype: torch.dtype) -> bool:
    return isinstance(value, torch.Tensor) and tuple(value.shape) == shape and value.dtype == dtype


@judge(hidden.lora_linear)
def judge_lora_linear(c: Case, out: hidden.LoRARun) -> None:
    e, (r, alpha) = c.extra, c.args[:2]
    (d_out, d_in), dtype = e["weight"].shape, e["weight"].dtype
    expect(_tensor(out.init_A, (r, d_in), dtype), "lora_A should be a (r, d_in) parameter of the base's dtype")
    expect(_tensor(out.init_B, (d_out, r), dtype), "lora_B should be a (d_out, r) parameter of the base's dtype")
    expect(bool((out.init_B == 0).all()), "lora_B should start at zero, so that the module starts as its base")
    bound = 1 / math.sqrt(d_in)  # kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(d_in), 1/sqrt(d_in)), as nn.Linear
    A = out.init_A.double().flatten()
    expect(
        bool((A.abs() <= bound * (1 + 1e-6)).all()) and A.std() > 0, "lora_A is not initialized as nn.Linear's weight"
    )
    if A.numel() >= 1000:
        n = A.numel()
        mean_off = abs(A.mean().item()) / (bound / math.sqrt(3 * n))
        square_off = abs((A**2).mean().item() - bound**2 / 3) / (bound**2 * math.sqrt(4 / 45 / n))
        expect(max(mean_off, square_off) < SIGMAS, "lora_A is not initialized as nn.Linear's weight")
    expect(
        isinstance(out.scaling, (int, float, torch.Tensor)) and math.isclose(float(out.scaling), alpha / r),
        "scaling should be alpha / r",
    )
    expect(out.trainable == [False, False, True, True], "the base layer should be frozen, lora_A and lora_B trainable")
    expected = references.lora_linear(e["x"], e["weight"], e["bias"], e["A"], e["B"], alpha / r)
    expect_close(out.out, expected, "output", rtol=1e-4, atol=1e-5, dtype=dtype)
    A_ = e["A"].double().requires_grad_(True)
    B_ = e["B"].double().requires_grad_(True)
    (references.lora_linear(e["x"], e["weight"], e["bias"], A_, B_, alpha / r) * e["cotangent"]).sum().backward()
    expect(out.base_grad_is_none, "the base layer should be frozen: no gradient for its weight")
    expect(out.grad_A is not None and out.grad_B is not None, "no gradient reached lora_A or lora_B")
    expect_close(out.grad_A, A_.grad, "gradient of lora_A", rtol=1e-4, atol=1e-4)
    expect_close(out.grad_B, B_.grad, "gradient of lora_B", rtol=1e-4, atol=1e-4)
    if len(c.args) > 2:
        _judge_dropout(c, out.dropped, expected)
    expect(out.merged_is_linear, "merge() should return an nn.Linear")
    merged = references.lora_merged_weight(e["weight"], e["A"], e["B"], alpha / r)
    expect_close(out.merged_weight, merged, "merged weight", rtol=1e-4, atol=1e-5)
    if e["bias"] is None:
        expect(out.merged_bias is None, "the merged layer has a bias when the base layer has none")
    else:
        expect_close(out.merged_bias, e["bias"], "merged bias")
    expect_close(out.base_after_merge, e["weight"], "the base weight after merge (merge must not change self)")
    expect_close(out.out_after_merge, expected, "output after merge (merge must not change self)", rtol=1e-4, atol=1e-5)


def _judge_dropout(c: Case, dropped: Any, expected: torch.Tensor) -> None:
    """x is one-hot rows: with dropout on the LoRA branch's input, each row's update is either dropped
    whole or scaled by 1 / (1 - p), and the base output is untouched."""
    e, p = c.extra, c.args[2]
    expect(isinstance(dropped, torch.Tensor) and dropped.shape == expected.shape, "train-mode output: wrong shape")
    base = references.lora_linear(e["x"], e["weight"], e["bias"], e["A"], torch.zeros_like(e["B"]), 1.0)
    update, delta = expected - base, dropped.double() - base
    zero = (delta.abs() <= 1e-6 * (1 + update.abs())).all(dim=-1)
    scaled = ((delta - update / (1 - p)).abs() <= 1e-5 * (1 + update.abs())).all(dim=-1)
    expect(bool((zero | scaled).all()), "dropout should act on the LoRA branch's input x only: dropout(x) @ A.T @ B.T")
    n = len(zero)
    expect(sigmas_off(int(zero.sum()), n, p) < SIGMAS, f"dropout drops a row's input with probability {p}")


def _targets(model: torch.nn.Module, targets: list[str]) -> tuple[list[str], list[tuple[int, int]]]:
    """The names of the nn.Linear layers that `targets` selects (PEFT's rule) and their (d_out, d_in) shapes."""
    modules = dict(model.named_modules())
    chosen = references.lora_targets(model, targets)
    return chosen, [tuple(modules[name].weight.shape) for name in chosen]


@judge(hidden.add_lora)
def judge_add_lora(c: Case, out: hidden.AddedLoRA) -> None:
    targets, r, alpha = c.args
    config = c.extra["config"]
    chosen, shapes = _targets(TinyGPT(TinyGPTConfig(**config)), targets)
    count = references.lora_param_count(shapes, r)
    expect(
        isinstance(out.count, int) and not isinstance(out.count, bool) and out.count == count,
        f"should return the number of trainable parameters ({'none' if not chosen else 'of the LoRA layers'})",
    )
    expect(isinstance(out.trainable, dict), "the trainable parameters could not be read")
    factors: dict[str, dict[tuple[int, ...], str]] = {name: {} for name in chosen}
    for name, shape in out.trainable.items():
        owner = next((m for m in chosen if name.startswith(m + ".")), None)
        expect(owner is not None, "a parameter outside the LoRA layers is left trainable")
        factors[owner][tuple(shape)] = name
    weights = {k: v.clone() for k, v in c.extra["weights"].items()}
    for name, (d_out, d_in) in zip(chosen, shapes):
        found = factors[name]
        expect(
            sorted(found) == sorted([(r, d_in), (d_out, r)]), "a target layer should have lora_A and lora_B trainable"
        )
        A, B = out.filled[found[(r, d_in)]], out.filled[found[(d_out, r)]]
        weights[f"{name}.weight"] = references.lora_merged_weight(weights[f"{name}.weight"], A, B, alpha / r).float()
    tokens = c.extra["tokens"]
    expect_close(
        out.logits_at_init,
        references.llama_logits(config, c.extra["weights"], tokens),
        "logits right after add_lora",
        rtol=1e-4,
        atol=1e-4,
    )
    expect_close(
        out.logits_filled,
        references.llama_logits(config, weights, tokens),
        "logits with trained LoRA weights: the LoRA layers are not where the model calls its targets",
        rtol=1e-4,
        atol=1e-4,
    )


def _exact_number(value: Any, expected: float) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isclose(value, expected, rel_tol=1e-12)
    )


@judge(hidden.lora_param_count)
def judge_lora_param_count(c: Case, count: Any) -> None:
    expect(_exact_number(count, references.lora_param_count(*c.args)), "wrong count")


@judge(hidden.finetune_memory_bytes)
def judge_finetune_memory_bytes(c: Case, nbytes: Any) -> None:
    expect(_exact_number(nbytes, references.finetune_memory_bytes(*c.args, **c.kwargs)), "wrong number of bytes")


@judge(hidden.adapter)
def judge_adapter(c: Case, out: hidden.AdapterRun) -> None:
    d, m = c.args
    w, x = c.extra["weights"], c.extra["x"]
    expect(out.n_params == 2 * d * m + d + m, "an adapter has 2 d m + d + m parameters: down and up, with biases")
    expect(
        isinstance(out.up_weight, torch.Tensor) and bool((out.up_weight == 0).all()) and bool((out.up_bias == 0).all()),
        "up should start at zero (weight and bias)",
    )
    expect_close(out.out_at_init, x, "output at initialization (the identity)")
    x_ = x.clone()
    down = w["down.weight"].clone().requires_grad_(True)
    expected = references.adapter(x_, down, w["down.bias"], w["up.weight"], w["up.bias"])
    (expected * c.extra["cotangent"]).sum().backward()
    expect_close(out.out, expected.detach(), "output")
    expect_close(out.grad_down, down.grad, "gradient of down.weight")


@judge(hidden.prefix_attention)
def judge_prefix_attention(c: Case, out: hidden.Attended) -> None:
    expected_out, expected_weights = references.prefix_attention(*c.args, **c.kwargs)
    tol = {"rtol": 1e-4, "atol": 1e-5} if c.args[0].dtype == torch.float32 else {}
    expect_close(out.weights, expected_weights, "weights (prefix columns first)", **tol)
    expect_close(out.out, expected_out, "output", **tol)


@judge(hidden.prepend_soft_prompt)
def judge_prepend_soft_prompt(c: Case, out: hidden.Prompted) -> None:
    embeddings, prompt = c.args
    cotangent, P = c.extra["cotangent"], prompt.shape[0]
    expect_close(out.out, references.prepend_soft_prompt(embeddings, prompt), "output")
    expect_close(out.embeddings_after, embeddings, "the embeddings were modified in place")
    expect(out.grad_prompt is not None, "no gradient reaches the prompt: it is the only thing prompt tuning trains")
    expect_close(out.grad_prompt, cotangent[:, :P].sum(0), "gradient of the prompt")
    expect_close(out.grad_embeddings, cotangent[:, P:], "gradient of the embeddings")


# -- interview answers ---------------------------------------------------------------------------

LLAMA_2_13B = {"n_params": 13_015_864_320, "n_layers": 40, "d_model": 5120}


def lora_13b_gb() -> float:
    """Q1: LoRA r=16 on the four attention projections of Llama-2-13B, default bytes, in GB."""
    d = LLAMA_2_13B["d_model"]
    trainable = references.lora_param_count([(d, d)] * 4 * LLAMA_2_13B["n_layers"], 16)
    return references.finetune_memory_bytes(LLAMA_2_13B["n_params"], trainable) / 1e9


@functools.cache
def target_trainable() -> float:
    """Q2: trainable parameters of tinygpt-target with LoRA r=4 on W_q, W_v and W2."""
    _, shapes = _targets(load_pretrained("tinygpt-target"), ["W_q", "W_v", "W2"])
    return float(references.lora_param_count(shapes, 4))


answer_key(
    hidden,
    {
        "q1_lora_13b_gb": Computed(lora_13b_gb, rel=2e-3),
        "q2_target_trainable": Computed(target_trainable, rel=0, abs=0.5),
        "q3_prompt_tuning": Choice("b"),
        "q4_unstable": Choice("a"),
    },
)
