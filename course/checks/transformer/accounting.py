"""Visible checks of 04_accounting.ipynb (module 02, the Transformer): accounting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course.checks import call, fail, fixture, is_close, passed

GPT2_SMALL, GPT2_SMALL_PARAMS = (50257, 1024, 768, 12), 124_439_808  # (vocab, context, d_model, n_layers), published
GPT2_MEDIUM, GPT2_MEDIUM_PARAMS = (50257, 1024, 1024, 24), 354_823_168


def _gpt2_mistakes(vocab: int, context: int, d: int, n_layers: int) -> dict[int, str]:
    """Differences (student - reference) that point to one common mistake, for d_ff = 4 d."""
    return {
        vocab * d: "counted a separate output head: GPT-2 ties it to the token embedding (no extra parameters)",
        -n_layers * (3 * d + d + 4 * d + d): "forgot the biases: every Linear in GPT-2 has one (d_out parameters each)",
        -n_layers * (3 * d + d): "forgot the biases of the attention projections (qkv: 3*d_model, output: d_model)",
        -n_layers * (4 * d + d): "forgot the biases of the MLP's two Linear layers",
        -2 * d: "forgot the final LayerNorm after the last block",
        -(2 * n_layers + 1) * d: "a LayerNorm has a bias as well as a weight: 2*d_model parameters each",
        -(2 * n_layers + 1) * 2 * d: "forgot the LayerNorms: two per block and a final one, each with weight and bias",
        -n_layers * 2 * d: "each block has two LayerNorms, one before attention and one before the MLP",
        -context * d: "forgot the learned position embeddings (context x d_model)",
        -n_layers
        * (2 * d * d + 2 * d): "the qkv projection maps d_model to 3*d_model (queries, keys and values together)",
        -n_layers * (d * d + d): "forgot the attention's output projection (d_model -> d_model, with bias)",
        -n_layers * (6 * d * d + 3 * d): "the MLP's hidden width d_ff is 4*d_model, not d_model",
    }


def _acc_count_of(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        fail(
            f"{what} returned {value!r} ({type(value).__name__}); return a Python int (integer arithmetic, or int(...))"
        )
    return value


def check_gpt2_param_count(gpt2_param_count: Callable) -> None:
    for name, config, published in (
        ("GPT-2 small", GPT2_SMALL, GPT2_SMALL_PARAMS),
        ("GPT-2 medium", GPT2_MEDIUM, GPT2_MEDIUM_PARAMS),
    ):
        what = f"gpt2_param_count{config}"
        got = _acc_count_of(call(gpt2_param_count, *config), what)
        explicit = _acc_count_of(
            call(gpt2_param_count, *config, 4 * config[2]), f"gpt2_param_count{config + (4 * config[2],)}"
        )
        if got != published and explicit == published:
            fail(
                f"{what} = {got:,} but {explicit:,} with d_ff = 4*d_model passed explicitly: d_ff defaults to 4*d_model"
            )
        if got != published:
            hint = _gpt2_mistakes(*config).get(
                got - published, "list every module of the model and count its weights and biases"
            )
            fail(f"{what} = {got:,}, the published count of {name} is {published:,}: {hint}")
    passed(f"GPT-2 small: {GPT2_SMALL_PARAMS:,} and GPT-2 medium: {GPT2_MEDIUM_PARAMS:,} parameters, as published")


def check_gpt2_param_count_d_ff(gpt2_param_count: Callable) -> None:
    # the expected counts are the grader's, from GPT-2 built out of torch.nn modules on the meta device
    for config, d_ff in (((100, 16, 8, 3), 20), ((1000, 64, 32, 2), 48), ((50, 10, 12, 1), None)):
        args = config if d_ff is None else config + (d_ff,)
        expected = fixture(f"gpt2_param_count{args}")
        got = _acc_count_of(call(gpt2_param_count, *args), f"gpt2_param_count{args}")
        if got != expected:
            if d_ff is not None and got == fixture(f"gpt2_param_count{config}"):
                fail(f"gpt2_param_count{args} ignores d_ff: when it is given, the MLP is d_model -> d_ff -> d_model")
            fail(
                f"gpt2_param_count{args} = {got:,}, but the model built from torch.nn modules has {expected:,} parameters"
            )
    passed("an explicit d_ff and small configurations agree with models built from torch.nn modules")


def check_forward_flops_per_token(forward_flops_per_token: Callable) -> None:
    cases = ((1_000_000, 4, 128, 64), (85_056_000, 12, 1024, 768))  # the second: GPT-2 small's non-embedding parameters
    for n, layers, ctx, d in cases:
        what = f"forward_flops_per_token({n}, {layers}, {ctx}, {d})"
        got = call(forward_flops_per_token, n, layers, ctx, d)
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            fail(f"{what} returned {got!r} ({type(got).__name__}); return a number")
        attention = 2 * layers * ctx * d
        expected = 2 * n + attention
        if is_close(got, expected, rtol=1e-9, atol=0):
            continue
        hints = {
            n + attention: "forgot the factor 2: a multiply-add is 2 FLOPs, so each parameter costs 2 FLOPs per token",
            n + attention // 2: "counted multiply-adds, not FLOPs: a multiply-add is 2 FLOPs",
            2
            * n: "forgot the attention term 2 * n_layers * context * d_model (scores and weighted sums have no parameters)",
            2 * n
            + attention
            // 2: "the attention term is 2 * n_layers * context * d_model: a multiply-add is 2 FLOPs there too",
            6 * n
            + attention: "6N is the training cost (forward and backward); the forward pass alone costs 2N + the attention term",
            6
            * n: "6N is the training cost (forward and backward); the forward pass alone costs 2N + the attention term",
            2 * n
            + attention
            * ctx: "the attention term per token is linear in the context: context^2 is the cost of a whole sequence",
        }
        hint = next(
            (h for value, h in hints.items() if is_close(got, value, rtol=1e-9, atol=0)),
            "C_forward = 2 N + 2 n_layer n_ctx d_model",
        )
        fail(f"{what} = {got:,}, expected {expected:,}: {hint}")
    passed("forward FLOPs per token follow Kaplan et al.: 2N + 2 n_layer n_ctx d_model")
