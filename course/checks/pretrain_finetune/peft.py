"""Visible checks of 04_peft.ipynb (module 03, pretraining and fine-tuning): the LoRA layer, LoRA on a
model, LoRA's parameter count, fine-tuning memory, the bottleneck adapter, prefix attention, the soft prompt."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from course.checks import call, expect_close, expect_tensor, fail, fixed, fixture, is_close, passed
from course.models import TinyGPT, TinyGPTConfig

# LoRALinear's fixed case: a base layer (D_OUT, D_IN) with bias, float64, and values for A and B
D_IN, D_OUT, R, ALPHA = 6, 4, 2, 6.0


def lora_case() -> dict[str, torch.Tensor]:
    return {
        "weight": fixed(D_OUT, D_IN, seed=41),
        "bias": fixed(D_OUT, seed=42),
        "A": fixed(R, D_IN, seed=43),
        "B": fixed(D_OUT, R, seed=44),
        "x": fixed(3, D_IN, seed=45),
    }


def lora_fixture_key(variant: str = "") -> str:
    return f"LoRALinear({D_OUT}x{D_IN}, r={R}, alpha={ALPHA})" + (f", {variant}" if variant else "")


def _lora(LoRALinear: Callable, dropout: float | None = None) -> tuple[nn.Module, nn.Linear]:
    c = lora_case()
    base = nn.Linear(D_IN, D_OUT, dtype=torch.float64)
    with torch.no_grad():
        base.weight.copy_(c["weight"])
        base.bias.copy_(c["bias"])
    module = call(LoRALinear, base, R, ALPHA) if dropout is None else call(LoRALinear, base, R, ALPHA, dropout)
    for name, shape in (("lora_A", (R, D_IN)), ("lora_B", (D_OUT, R))):
        value = getattr(module, name, None)
        if not isinstance(value, nn.Parameter):
            fail(f"LoRALinear should have an nn.Parameter `{name}` of shape {shape}, got {value!r:.60}")
        if tuple(value.shape) != shape:
            fail(f"{name} should have shape {shape} (r={R}, d_in={D_IN}, d_out={D_OUT}), got {tuple(value.shape)}")
        if value.dtype != torch.float64:
            fail(
                f"{name} is {value.dtype}: create lora_A and lora_B with the base layer's dtype (float64 here) and device"
            )
    return module, base


def check_lora_linear(LoRALinear: Callable) -> None:
    module, base = _lora(LoRALinear)
    c = lora_case()
    if not (module.lora_B == 0).all():
        fail("lora_B should start at zero, so that the module computes exactly its base layer until it is trained")
    bound = 1 / math.sqrt(D_IN)
    A = module.lora_A.detach()
    if not (A.abs() <= bound * (1 + 1e-6)).all() or A.std() == 0:
        fail(
            f"lora_A should be initialized like nn.Linear's weight, uniform in ±1/sqrt(d_in) = ±{bound:.3f}: "
            "nn.init.kaiming_uniform_(lora_A, a=math.sqrt(5))"
        )
    if not is_close(torch.tensor(float(getattr(module, "scaling", float("nan")))), torch.tensor(ALPHA / R)):
        fail(f"scaling should be alpha / r = {ALPHA / R}, got {getattr(module, 'scaling', None)!r}")
    if base.weight.requires_grad or base.bias.requires_grad:
        fail("the base layer should be frozen (requires_grad False on its weight and bias): base.requires_grad_(False)")
    if not (module.lora_A.requires_grad and module.lora_B.requires_grad):
        fail("lora_A and lora_B are what LoRA trains: they should require gradients")
    with torch.no_grad():
        expect_close(
            call(module, c["x"]), base(c["x"]), "LoRALinear at initialization", "with lora_B = 0 it equals base(x)"
        )
        module.lora_A.copy_(c["A"])
        module.lora_B.copy_(c["B"])
    module.eval()
    out = call(module, c["x"])
    expected = fixture(lora_fixture_key())
    if not is_close(out, expected):
        hint = (
            "multiply the update by scaling = alpha / r"
            if is_close(out, fixture(lora_fixture_key("without scaling")))
            else "base(x) + x @ lora_A.T @ lora_B.T * scaling"
        )
        fail(f"LoRALinear with lora_A and lora_B loaded: output differs from the expected one: {hint}")
    if out.requires_grad:
        (out**2).sum().backward()
    if not out.requires_grad or module.lora_A.grad is None or module.lora_B.grad is None:
        fail("no gradient reached lora_A or lora_B: use the parameters themselves in forward, not .data or a copy")
    with torch.no_grad():
        merged = call(module.merge)
        if not isinstance(merged, nn.Linear):
            fail(f"merge() should return an nn.Linear, got {type(merged).__name__}")
        if not torch.equal(base.weight, c["weight"]) or not is_close(module(c["x"]), expected):
            fail("merge() changed the module itself: build a new nn.Linear, leave self.base's weight as it is")
        if merged.bias is None or not torch.equal(merged.bias, c["bias"]):
            fail("the merged layer keeps the base layer's bias")
        if not is_close(merged(c["x"]), expected):
            fail("the merged layer's output differs from the module's: its weight is W + scaling * lora_B @ lora_A")
    dropping, dropping_base = _lora(LoRALinear, dropout=1.0)
    with torch.no_grad():
        dropping.lora_B.copy_(c["B"])
        dropping.train()
        if not is_close(call(dropping, c["x"]), dropping_base(c["x"])):
            fail(
                "with dropout=1.0 in train mode the output should be base(x) exactly: dropout acts on x in the "
                "LoRA branch only (self.dropout(x) @ lora_A.T ...), not on base(x)"
            )
    passed("LoRALinear: B = 0 and A like nn.Linear, frozen base, scaling, output, merge, dropout on the branch")


def tiny_gpt(n_layers: int) -> TinyGPT:
    """A TinyGPT of d_model 16 (4 heads, 2 key/value heads: W_k and W_v are 16 -> 8), seeded weights."""
    torch.manual_seed(n_layers)
    return TinyGPT(
        TinyGPTConfig(vocab_size=32, context=8, d_model=16, n_layers=n_layers, n_heads=4, n_kv_heads=2, d_ff=24)
    )


# trainable parameters of tiny_gpt(2) with LoRA r=2 on W_q and W_v: 2 layers x (2 (16 + 16) + 2 (8 + 16))
TINY_QV_R2 = 224


def _add(add_lora: Callable, model: TinyGPT, targets: list[str], r: int) -> tuple[int, list[str]]:
    count = call(add_lora, model, targets, r, 2.0 * r)
    if isinstance(count, bool) or not isinstance(count, int):
        fail(f"add_lora should return the number of trainable parameters (an int), got {count!r:.60}")
    names = [name for name, p in model.named_parameters() if p.requires_grad]
    return count, names


def check_add_lora(add_lora: Callable) -> None:
    model = tiny_gpt(2)
    tokens = torch.randint(0, 32, (2, 8), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = model(tokens)
    count, names = _add(add_lora, model, ["W_q", "W_v"], 2)
    owners = sorted({name.rsplit(".", 1)[0] for name in names})
    targets = [f"blocks.{i}.attn.{w}" for i in range(2) for w in ("W_q", "W_v")]
    if any(not any(name.startswith(t + ".") for t in targets) for name in names):
        fail(
            f"after add_lora(model, ['W_q', 'W_v'], ...) these parameters are trainable: {names}: freeze everything "
            "but the LoRA parameters (model.requires_grad_(False), then replace the layers)"
        )
    if owners != targets:
        hint = (
            "a target matches every nn.Linear whose name ends with '.' + target (blocks.0.attn.W_q, blocks.1.attn.W_q, ...)"
            if not names
            else "every nn.Linear whose name ends with '.W_q' or '.W_v' is replaced, in every layer"
        )
        fail(f"add_lora(model, ['W_q', 'W_v'], r=2) adapted {owners}, expected {targets}: {hint}")
    if count != TINY_QV_R2:
        fail(
            f"add_lora(model, ['W_q', 'W_v'], r=2) returned {count}, expected {TINY_QV_R2}: the number of trainable parameters"
        )
    with torch.no_grad():
        if not is_close(model(tokens), before, rtol=1e-4, atol=1e-5):
            fail("right after add_lora the model should compute what it computed before (lora_B = 0)")
        for p in model.parameters():
            if p.requires_grad:
                p.fill_(0.1)
        if is_close(model(tokens), before, rtol=1e-4, atol=1e-5):
            fail(
                "with non-zero LoRA weights the model still computes what it computed before: the LoRA layers are "
                "not where the model calls W_q and W_v. Replace the module in its parent: "
                "setattr(model.get_submodule(parent_name), child_name, LoRALinear(...))"
            )
    count, names = _add(add_lora, tiny_gpt(2), ["W", "attn_norm"], 2)
    if names or count != 0:
        fail(
            f"add_lora(model, ['W', 'attn_norm'], ...) made {names} trainable: 'W' is not a whole name (a target is "
            "not a substring), and attn_norm is not an nn.Linear: nothing should be adapted, and 0 returned"
        )
    deep = tiny_gpt(11)
    _, names = _add(add_lora, deep, ["0.attn.W_q"], 2)
    replaced = sorted({name.rsplit(".", 1)[0] for name in names})
    if replaced != ["blocks.0.attn.W_q"]:
        fail(
            f"add_lora(model of 11 layers, ['0.attn.W_q'], ...) adapted {replaced}, expected ['blocks.0.attn.W_q']: "
            "a name matches when it equals the target or ends with '.' + target, as in PEFT "
            "('blocks.10.attn.W_q' ends with '0.attn.W_q' but not with '.0.attn.W_q')"
        )
    passed("add_lora: PEFT's name matching, nn.Linear only, the rest frozen, wired into the model, the count")


def check_lora_param_count(lora_param_count: Callable) -> None:
    roberta = call(lora_param_count, [(768, 768)] * 24, 8)
    if roberta != 294_912:
        hint = "r (d_out + d_in) per matrix: lora_B is (d_out, r), lora_A (r, d_in)"
        if roberta == 24 * 8 * 768 * 768:
            hint = "a rank-r factorization stores r (d_out + d_in) numbers, not r d_out d_in"
        fail(f"RoBERTa-base, r=8 on W_q and W_v of 12 layers: {roberta}, the LoRA paper's count is 294,912: {hint}")
    gpt3 = call(lora_param_count, [(12288, 12288)] * 192, 8)
    if gpt3 != 37_748_736:
        fail(f"GPT-3 175B, r=8 on W_q and W_v of 96 layers: {gpt3}, the LoRA paper's 37.7M is 37,748,736")
    gqa = call(lora_param_count, [(64, 192), (192, 192)], 8)
    if gqa != 8 * (64 + 192) + 8 * (192 + 192):
        fail(
            f"lora_param_count([(64, 192), (192, 192)], 8) = {gqa}: d_out and d_in differ (tinygpt-draft's W_k is "
            "(64, 192) with grouped-query attention): r (d_out + d_in) for each shape"
        )
    passed("lora_param_count: RoBERTa-base 294,912 and GPT-3 37.7M as in the LoRA paper, non-square matrices")


def check_finetune_memory_bytes(finetune_memory_bytes: Callable) -> None:
    full = call(finetune_memory_bytes, 7_500_000_000, 7_500_000_000)
    if full != 120_000_000_000:
        fail(
            f"full fine-tuning of 7.5B parameters with mixed-precision Adam: {full!r} bytes, the ZeRO paper's "
            "120 GB: 2 (weights) + 2 (gradients) + 12 (optimizer states) bytes per parameter"
        )
    lora = call(finetune_memory_bytes, 1000, 10)
    if lora != 1000 * 2 + 10 * 14:
        hint = (
            "the weights of every parameter are kept, trainable or not"
            if lora == 10 * 16
            else "gradients and optimizer states are kept for the trainable parameters only"
        )
        fail(f"finetune_memory_bytes(1000, 10) = {lora!r}, expected 2140: {hint}")
    fp32 = call(finetune_memory_bytes, 1000, 10, 4, 4, 8)
    if fp32 != 1000 * 4 + 10 * 12:
        fail(f"finetune_memory_bytes(1000, 10, 4, 4, 8) = {fp32!r}, expected 4120: use the byte sizes given")
    passed(
        "finetune_memory_bytes: 120 GB for 7.5B parameters fully fine-tuned; weights of all, the rest of the trainable"
    )


ADAPTER_D, ADAPTER_M = 6, 3


def adapter_case() -> dict[str, torch.Tensor]:
    return {
        "down.weight": fixed(ADAPTER_M, ADAPTER_D, seed=51),
        "down.bias": fixed(ADAPTER_M, seed=52),
        "up.weight": fixed(ADAPTER_D, ADAPTER_M, seed=53),
        "up.bias": fixed(ADAPTER_D, seed=54),
        "x": fixed(4, ADAPTER_D, seed=55, scale=2.0),
    }


def adapter_fixture_key(variant: str = "") -> str:
    return f"Adapter({ADAPTER_D}, {ADAPTER_M})" + (f", {variant}" if variant else "")


def check_adapter(Adapter: Callable) -> None:
    d, m = ADAPTER_D, ADAPTER_M
    module = call(Adapter, d, m)
    for name, shape in (("down", (m, d)), ("up", (d, m))):
        layer = getattr(module, name, None)
        if not isinstance(layer, nn.Linear) or tuple(layer.weight.shape) != shape or layer.bias is None:
            fail(f"Adapter({d}, {m}) should have `{name}`, an nn.Linear with bias, weight {shape}")
    n = sum(p.numel() for p in module.parameters())
    if n != 2 * d * m + d + m:
        fail(f"Adapter({d}, {m}) has {n} parameters, expected 2 d m + d + m = {2 * d * m + d + m}: down and up only")
    if (module.up.weight != 0).any() or (module.up.bias != 0).any():
        fail("up (weight and bias) should start at zero, so that the adapter starts as the identity")
    c = adapter_case()
    module = module.double()
    with torch.no_grad():
        at_init = call(module, c["x"])
        if is_close(at_init, torch.zeros_like(at_init)):
            fail("Adapter at initialization returns zeros: keep the residual, x + up(gelu(down(x)))")
        expect_close(at_init, c["x"], "Adapter at initialization", "it is the identity: x + up(...) with up = 0")
        module.load_state_dict({k: v for k, v in c.items() if k != "x"})
        out = call(module, c["x"])
    if not is_close(out, fixture(adapter_fixture_key())):
        if is_close(out, fixture(adapter_fixture_key("relu"))):
            hint = "the activation is GELU (F.gelu), not ReLU"
        elif is_close(out + c["x"], fixture(adapter_fixture_key())):
            hint = "keep the residual: x + up(gelu(down(x)))"
        else:
            hint = "x + up(gelu(down(x))), GELU exact (F.gelu's default)"
        fail(f"Adapter with weights loaded: output differs from the expected one: {hint}")
    passed("Adapter: down and up with biases, 2dm + d + m parameters, the identity at start, x + up(gelu(down(x)))")


# prefix_attention's fixed case: q (2, 3, 4) (a batch of 2), keys (2, 5, 4), d_v 3, a shared prefix of 2
PREFIX_P = 2


def prefix_case() -> dict[str, torch.Tensor]:
    return {
        "q": fixed(2, 3, 4, seed=61),
        "k": fixed(2, 5, 4, seed=62),
        "v": fixed(2, 5, 3, seed=63),
        "prefix_k": fixed(PREFIX_P, 4, seed=64),
        "prefix_v": fixed(PREFIX_P, 3, seed=65),
        "mask": torch.ones(3, 5, dtype=torch.bool).tril(),
    }


def prefix_fixture_key(what: str, variant: str = "") -> str:
    return f"prefix_attention, {what}" + (f", {variant}" if variant else "")


def check_prefix_attention(prefix_attention: Callable) -> None:
    c = prefix_case()
    result = call(prefix_attention, c["q"], c["k"], c["v"], c["prefix_k"], c["prefix_v"], mask=c["mask"])
    if not (isinstance(result, tuple) and len(result) == 2):
        fail("prefix_attention should return a tuple (out, weights)")
    out, weights = result
    expect_tensor(out, "out", (2, 3, 3))
    if isinstance(weights, torch.Tensor) and tuple(weights.shape) == (2, 3, 5):
        fail("weights should cover the prefix and the keys: (..., T_q, P + T_k) = (2, 3, 7)")
    expect_tensor(weights, "weights", (2, 3, 7))
    if not is_close(weights, fixture(prefix_fixture_key("weights"))):
        if is_close(weights, fixture(prefix_fixture_key("weights", "prefix last"))):
            hint = "the prefix comes first: keys = (prefix_k, k), so weights[..., :P] are the prefix's"
        elif is_close(weights, fixture(prefix_fixture_key("weights", "mask on the wrong side"))):
            hint = "the prefix columns come first, so the mask's True columns for them go first: cat((True..., mask))"
        else:
            hint = "softmax(q keys^T / sqrt(d)) over (prefix_k, k), masked where the extended mask is False"
        fail(f"prefix_attention with a causal mask: wrong weights: {hint}")
    if not is_close(out, fixture(prefix_fixture_key("out"))):
        fail("prefix_attention: right weights, wrong output: weights @ (prefix_v, v), the prefix's values first")
    passed("prefix_attention: the prefix before the keys, visible to every query, broadcast over the batch")


def check_prepend_soft_prompt(prepend_soft_prompt: Callable) -> None:
    embeddings = fixed(3, 4, 5, seed=71)
    prompt = fixed(2, 5, seed=72).requires_grad_(True)
    out = call(prepend_soft_prompt, embeddings, prompt)
    expect_tensor(out, "the output", (3, 6, 5))
    for b in range(3):
        if torch.equal(out[b, -2:].detach(), prompt.detach()):
            fail("the prompt comes first: (prompt, embeddings) along the sequence")
        if not torch.equal(out[b, :2].detach(), prompt.detach()):
            fail(f"sequence {b} does not start with the prompt: the same P vectors before every sequence of the batch")
        if not torch.equal(out[b, 2:].detach(), embeddings[b]):
            fail(f"sequence {b}: after the prompt come its own embeddings, unchanged")
    if out.requires_grad:
        out.sum().backward()
    if prompt.grad is None or not torch.equal(prompt.grad, torch.full_like(prompt, 3.0)):
        fail("the gradient should reach the prompt (the only thing prompt tuning trains): no detach, no .data")
    passed("prepend_soft_prompt: the same prompt before every sequence, gradients reach it")
