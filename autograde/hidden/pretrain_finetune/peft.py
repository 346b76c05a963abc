"""Hidden tests of 04_peft.ipynb: the LoRA layer and its merge, LoRA on a whole model, parameter and
memory counts, the bottleneck adapter, prefix attention, the soft prompt (no expected values here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from autograde.hidden import Case, answers, case, probe, randint, randn
from autograde.hidden.transformer.attention import FUSED_ATTENTION, Attended, attend
from autograde.hidden.transformer.gpt import random_weights
from course.models import TinyGPT, TinyGPTConfig


@dataclass
class LoRARun:
    init_A: Any  # lora_A and lora_B as the constructor left them
    init_B: Any
    scaling: Any
    trainable: Any  # requires_grad of [base.weight, base.bias (False when absent), lora_A, lora_B]
    out: Any  # eval mode, with the case's A and B loaded
    grad_A: Any  # of sum(out * cotangent)
    grad_B: Any
    base_grad_is_none: bool
    dropped: Any  # train mode, dropout on: the output on the same x (None when the case has no dropout)
    merged_is_linear: bool
    merged_weight: Any
    merged_bias: Any
    out_after_merge: Any  # the LoRA module again, eval mode: merge leaves it unchanged
    base_after_merge: Any


def _base(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, dtype=weight.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    return layer


def _run_lora(cls, c: Case) -> LoRARun:
    e = c.extra
    base = _base(e["weight"], e["bias"])
    module = cls(base, *c.args)
    init_A, init_B = module.lora_A.detach().clone(), module.lora_B.detach().clone()
    flags = [base.weight.requires_grad, base.bias is not None and base.bias.requires_grad]
    flags += [module.lora_A.requires_grad, module.lora_B.requires_grad]
    with torch.no_grad():
        module.lora_A.copy_(e["A"])
        module.lora_B.copy_(e["B"])
    module.eval()
    out = module(e["x"])
    (out * e["cotangent"]).sum().backward()
    dropped = None
    if len(c.args) > 2:
        module.train()
        with torch.no_grad():
            dropped = module(e["x"])
        module.eval()
    with torch.no_grad():
        merged = module.merge()
        after = module(e["x"])
    return LoRARun(
        init_A,
        init_B,
        module.scaling,
        flags,
        out.detach(),
        module.lora_A.grad,
        module.lora_B.grad,
        base.weight.grad is None,
        dropped,
        isinstance(merged, nn.Linear),
        merged.weight.detach() if isinstance(merged, nn.Linear) else None,
        merged.bias.detach() if isinstance(merged, nn.Linear) and merged.bias is not None else None,
        after,
        module.base.weight.detach().clone(),
    )


def _lora_case(
    g: torch.Generator,
    what: str,
    d_in: int,
    d_out: int,
    r: int,
    alpha: float,
    lead: tuple[int, ...] = (5,),
    bias: bool = True,
    dtype: torch.dtype = torch.float64,
    dropout: float | None = None,
) -> Case:
    """A base layer (d_out, d_in) and values for lora_A and lora_B to load (in `extra`); x (*lead, d_in)."""
    x = randn(g, *lead, d_in, dtype=dtype)
    if dropout is not None:  # one-hot rows: dropping the input drops the whole update of a row
        x = torch.eye(d_in, dtype=dtype).repeat(lead[0] // d_in + 1, 1)[: lead[0]] * 3.0
    extra = {
        "weight": randn(g, d_out, d_in, dtype=dtype, scale=d_in**-0.5),
        "bias": randn(g, d_out, dtype=dtype) if bias else None,
        "A": randn(g, r, d_in, dtype=dtype, scale=d_in**-0.5),
        "B": randn(g, d_out, r, dtype=dtype),
        "x": x,
        "cotangent": randn(g, *x.shape[:-1], d_out, dtype=dtype),
    }
    args = (r, alpha) if dropout is None else (r, alpha, dropout)
    label = f"{what}: base ({d_out}, {d_in}){'' if bias else ' without bias'} {dtype}, r={r}, alpha={alpha}"
    return Case(label + ("" if dropout is None else f", dropout={dropout}"), args, {}, extra)


@probe("LoRALinear", run=_run_lora, output=LoRARun)
def lora_linear(g: torch.Generator) -> list[Case]:
    return [
        _lora_case(g, "rows", 16, 12, 4, 8.0),
        _lora_case(g, "a batch, no bias, scaling 8", 10, 24, 2, 16.0, lead=(2, 3), bias=False),
        _lora_case(g, "float32, large enough to test the initialization", 256, 40, 16, 16.0, dtype=torch.float32),
        _lora_case(g, "r = 1", 7, 9, 1, 1.0, lead=(3, 1, 2)),
        _lora_case(g, "dropout 0.5 in train mode, one-hot rows", 20, 8, 4, 4.0, lead=(300,), dropout=0.5),
    ]


@dataclass
class AddedLoRA:
    count: Any  # what add_lora returned
    trainable: Any  # {name: shape} of the parameters left trainable
    logits_at_init: Any  # the model's logits right after add_lora
    filled: Any  # {name: tensor}: the trainable parameters filled with random values
    logits_filled: Any  # the logits with those values


def _run_add_lora(add_lora, c: Case) -> AddedLoRA:
    model = TinyGPT(TinyGPTConfig(**c.extra["config"]))
    model.load_state_dict(c.extra["weights"])
    count = add_lora(model, *c.args)
    trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
    tokens = c.extra["tokens"]
    with torch.no_grad():
        at_init = model(tokens)
        for p in trainable.values():
            p.copy_(c.extra["values"][tuple(p.shape)] if tuple(p.shape) in c.extra["values"] else torch.zeros_like(p))
        filled = model(tokens)
    return AddedLoRA(
        count,
        {name: list(p.shape) for name, p in trainable.items()},
        at_init,
        {name: p.detach().clone() for name, p in trainable.items()},
        filled,
    )


def _model_case(g: torch.Generator, what: str, config: dict, targets: list[str], r: int, alpha: float) -> Case:
    """TinyGPT of `config` with random weights; `values`: a random tensor per LoRA shape, (r, d_in)
    and (d_out, r), that the runner loads into the trainable parameters of that shape."""
    d, kv = config["d_model"], config["n_kv_heads"] * config["d_model"] // config["n_heads"]
    widths = {d, kv, config["d_ff"]}
    values = {(r, w): randn(g, r, w, dtype=torch.float32, scale=w**-0.5) for w in widths}
    values |= {(w, r): randn(g, w, r, dtype=torch.float32, scale=0.5) for w in widths}
    tokens = torch.randint(0, config["vocab_size"], (2, config["context"]), generator=g)
    extra = {"config": config, "weights": random_weights(g, config, TinyGPT), "tokens": tokens, "values": values}
    return Case(f"{what}: targets {targets}, r={r}, alpha={alpha}", (targets, r, alpha), {}, extra)


def _config(n_layers: int, d_model: int, n_heads: int, n_kv_heads: int, d_ff: int) -> dict:
    return {
        "vocab_size": 40,
        "context": 12,
        "d_model": d_model,
        "n_layers": n_layers,
        "n_heads": n_heads,
        "n_kv_heads": n_kv_heads,
        "d_ff": d_ff,
        "rope_theta": 10000.0,
    }


@probe("add_lora", run=_run_add_lora, output=AddedLoRA, allowed=("course.models",))
def add_lora(g: torch.Generator) -> list[Case]:
    small, deep = _config(2, 24, 4, 2, 40), _config(11, 16, 2, 1, 24)
    return [
        _model_case(g, "queries and values", small, ["W_q", "W_v"], 4, 8.0),
        _model_case(g, "names with their parent", small, ["attn.W_o", "mlp.W2"], 2, 2.0),
        _model_case(g, "11 layers, the first layer's queries only", deep, ["0.attn.W_q"], 3, 6.0),
        _model_case(g, "one full name", small, ["blocks.1.mlp.W1"], 5, 5.0),
        _model_case(g, "names of modules that are not nn.Linear", small, ["attn_norm", "embed", "W_k"], 2, 4.0),
        _model_case(g, "a prefix of names, which matches nothing", deep, ["W"], 2, 4.0),
    ]


def _shapes(g: torch.Generator, count: int) -> list[tuple[int, int]]:
    return [(randint(g, 1, 5000), randint(g, 1, 5000)) for _ in range(count)]


@probe("lora_param_count")
def lora_param_count(g: torch.Generator) -> list[Case]:
    return [
        case("random (d_out, d_in) shapes, r=8", _shapes(g, 6), 8),
        case("non-square: grouped-query W_k and W_v of 40 layers, r=16", [(1024, 8192)] * 80, 16),
        case("one matrix, r=1", _shapes(g, 1), 1),
        case("torch.Size shapes, r=64", [torch.Size(s) for s in _shapes(g, 3)], 64),
        case("no matrix", [], 8),
    ]


@probe("finetune_memory_bytes")
def finetune_memory_bytes(g: torch.Generator) -> list[Case]:
    n = randint(g, 10**8, 10**11)
    return [
        case("full fine-tuning, the defaults", n, n),
        case("LoRA, the defaults", n, randint(g, 10**5, 10**8)),
        case("nothing trainable", n, 0),
        case("float32 weights and gradients, Adam in float32", n, n // 7, 4, 4, 8),
        case("4-bit weights (QLoRA)", 2 * n, randint(g, 10**6, 10**8), 0.5, 2, 12),
        case("SGD without momentum", n, n, weight_bytes=2, grad_bytes=2, optimizer_bytes=4),
    ]


@dataclass
class AdapterRun:
    n_params: Any  # sum of numel over parameters
    up_weight: Any  # `up` as the constructor left it
    up_bias: Any
    out_at_init: Any
    out: Any  # with the case's weights loaded
    grad_down: Any  # gradient of sum(out * cotangent) with respect to down.weight


def _run_adapter(cls, c: Case) -> AdapterRun:
    d_model, bottleneck = c.args
    module = cls(d_model, bottleneck).double()
    up_weight, up_bias = module.up.weight.detach().clone(), module.up.bias.detach().clone()
    x = c.extra["x"]
    with torch.no_grad():
        at_init = module(x)
    module.load_state_dict(c.extra["weights"])
    out = module(x)
    (out * c.extra["cotangent"]).sum().backward()
    return AdapterRun(
        sum(p.numel() for p in module.parameters()), up_weight, up_bias, at_init, out.detach(), module.down.weight.grad
    )


@probe("Adapter", run=_run_adapter, output=AdapterRun)
def adapter(g: torch.Generator) -> list[Case]:
    cases = []
    for what, lead, d, m in [("rows", (6,), 16, 4), ("a batch", (2, 5), 24, 8), ("bottleneck 1", (3,), 12, 1)]:
        weights = {
            "down.weight": randn(g, m, d, scale=d**-0.5),
            "down.bias": randn(g, m),
            "up.weight": randn(g, d, m, scale=m**-0.5),
            "up.bias": randn(g, d),
        }
        extra = {"x": randn(g, *lead, d, scale=2.0), "weights": weights, "cotangent": randn(g, *lead, d)}
        cases.append(Case(f"{what}: d_model={d}, bottleneck={m}, x {(*lead, d)}", (d, m), {}, extra))
    return cases


def _prefix_case(
    g: torch.Generator,
    what: str,
    q_shape: tuple[int, ...],
    T_k: int,
    prefix_shape: tuple[int, ...],
    d_v: int,
    mask: torch.Tensor | None = None,
    dtype: torch.dtype = torch.float64,
) -> Case:
    *batch, _, d = q_shape
    q, k = randn(g, *q_shape, dtype=dtype), randn(g, *batch, T_k, d, dtype=dtype)
    v = randn(g, *batch, T_k, d_v, dtype=dtype)
    prefix_k, prefix_v = randn(g, *prefix_shape, d, dtype=dtype), randn(g, *prefix_shape, d_v, dtype=dtype)
    label = f"{what}: q {tuple(q.shape)}, k {tuple(k.shape)}, prefix {tuple(prefix_k.shape)}, d_v={d_v} {dtype}"
    if mask is None:
        return Case(label, (q, k, v, prefix_k, prefix_v))
    return Case(f"{label}, mask {tuple(mask.shape)}", (q, k, v, prefix_k, prefix_v), {"mask": mask})


@probe("prefix_attention", run=attend, output=Attended, forbidden=FUSED_ATTENTION)
def prefix_attention(g: torch.Generator) -> list[Case]:
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    blind = torch.rand(2, 3, 5, 7, generator=g) < 0.5
    blind[0, 1, 2, :] = False  # a query that sees no key of the sequence: only the prefix
    return [
        _prefix_case(g, "one sequence, no mask", (5, 8), 5, (3,), 8),
        _prefix_case(g, "batch and heads, one prefix per head", (2, 4, 6, 8), 6, (4, 2), 6, causal),
        _prefix_case(g, "a shared prefix, T_q != T_k, random mask", (2, 3, 5, 4), 7, (2,), 3, blind),
        _prefix_case(g, "float32, a long prefix", (3, 4, 16), 4, (10,), 16, causal[:4, :4], torch.float32),
        _prefix_case(g, "a prefix of one vector", (1, 2, 4), 2, (1, 1), 5),
    ]


@dataclass
class Prompted:
    out: Any
    grad_prompt: Any  # gradient of sum(out * cotangent) with respect to the prompt
    grad_embeddings: Any
    embeddings_after: Any  # must be unchanged


def _run_prompt(prepend_soft_prompt, c: Case) -> Prompted:
    embeddings, prompt = (t.clone().requires_grad_(True) for t in c.args)
    out = prepend_soft_prompt(embeddings, prompt)
    (out * c.extra["cotangent"]).sum().backward()
    return Prompted(out.detach(), prompt.grad, embeddings.grad, embeddings.detach())


@probe("prepend_soft_prompt", run=_run_prompt, output=Prompted)
def prepend_soft_prompt(g: torch.Generator) -> list[Case]:
    cases = []
    for what, B, T, P, d in [("a batch", 3, 7, 4, 8), ("one sequence", 1, 5, 2, 6), ("a long prompt", 2, 3, 20, 4)]:
        extra = {"cotangent": randn(g, B, P + T, d)}
        cases.append(
            Case(
                f"{what}: embeddings ({B}, {T}, {d}), prompt ({P}, {d})", (randn(g, B, T, d), randn(g, P, d)), {}, extra
            )
        )
    return cases


q1_lora_13b_gb, q2_target_trainable, q3_prompt_tuning, q4_unstable = answers(
    __name__, "q1_lora_13b_gb", "q2_target_trainable", "q3_prompt_tuning", "q4_unstable"
)
