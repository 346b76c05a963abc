"""The visible checks' stored expected values, course/assets/check_fixtures.json.

A visible check ships to students, so it may not hold a working implementation of an exercise
(a student would call it). Where PyTorch has no built-in that the hidden tests forbid, a check
compares with values stored here instead: the grader's references (autograde/judge/references.py)
evaluated on the check's fixed inputs, and a few likely mistakes obtained from the same references
with altered arguments. `python -m autograde.check_fixtures` rewrites the file;
tests/test_references.py checks that the committed file is a fresh generation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from autograde.judge import references
from course.checks import FIXTURES, fixed
from course.checks.pretrain_finetune.objectives import (
    LAW_CASE,
    LOSS_MASK,
    LOSS_TOKENS,
    law_fixture_key,
    loss_fixture_key,
)
from course.checks.pretrain_finetune.peft import (
    ALPHA,
    PREFIX_P,
    R,
    adapter_case,
    adapter_fixture_key,
    lora_case,
    lora_fixture_key,
    prefix_case,
    prefix_fixture_key,
)
from course.checks.pretrain_finetune.sft import MASK_DOCUMENTS, mask_fixture_key
from course.checks.pretrain_finetune.tokenizer import PARAGRAPH, RULES, SPECIAL_RULES, bpe_fixture_key

PATH = Path(__file__).resolve().parents[1] / "course" / "assets" / FIXTURES


def _rounded(value: Any) -> Any:
    """JSON-ready: tensors as nested lists of floats to 12 significant digits, ints as they are."""
    if isinstance(value, torch.Tensor):
        value = value.tolist()
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value if isinstance(value, (int, str)) else float(f"{value:.12g}")


def _sinusoidal(T: int, d: int, theta: float) -> torch.Tensor:
    """PE[t] = (sin t w_i, cos t w_i) with w_i = theta**(-2i/d), from the RoPE reference: the pair
    (0, 1) rotated by the angle -t w_i. theta = 10000 gives sinusoidal_positions(T, d)."""
    pairs = torch.tensor([0.0, 1.0], dtype=torch.float64).repeat(T, d // 2)
    return references.rope(pairs, -torch.arange(T), theta)


def _loss_mistakes(logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
    """causal_lm_loss's likely mistakes (course.checks...objectives.LOSS_MISTAKES) on one input."""
    per_target = F.cross_entropy(logits[:, :-1].transpose(1, 2), tokens[:, 1:], reduction="none")  # (B, T - 1)
    counted = mask[:, 1:]
    rows = counted.sum(dim=1)
    return {
        "no shift": F.cross_entropy(logits.transpose(1, 2), tokens, reduction="none")[mask].mean(),
        "sum": per_target[counted].sum(),
        "mask at the predicting position": per_target[mask[:, :-1]].mean(),
        "mean of row means": ((per_target * counted).sum(dim=1)[rows > 0] / rows[rows > 0]).mean(),
        "uncounted as zeros": (per_target * counted).sum() / per_target.numel(),
        "mask ignored": per_target.mean(),
    }


def _causal_lm_loss_values() -> dict[str, Any]:
    """02_objectives: the reference's loss on the check's inputs, with and without the mask, and each mistake's."""
    logits, tokens, mask = fixed(2, 6, 5, seed=31), torch.tensor(LOSS_TOKENS), torch.tensor(LOSS_MASK)
    values: dict[str, Any] = {}
    for case, case_mask in (("no mask", torch.ones_like(mask)), ("with the mask", mask)):
        values[loss_fixture_key(case)] = references.causal_lm_loss(logits, tokens, case_mask)
        for name, value in _loss_mistakes(logits, tokens, case_mask).items():
            values[loss_fixture_key(case, name)] = value
    big = fixed(2, 6, 5, seed=32, scale=1000.0, dtype=torch.float32)
    values[loss_fixture_key("logits of scale 1000")] = references.causal_lm_loss(big, tokens)
    return values


def _peft_values() -> dict[str, Any]:
    """04_peft: the LoRA layer's output (and without its scaling), the adapter's (and with ReLU), prefix
    attention's weights and output (and with the prefix last, or the mask extended on the wrong side)."""
    c = lora_case()
    values: dict[str, Any] = {
        lora_fixture_key(): references.lora_linear(c["x"], c["weight"], c["bias"], c["A"], c["B"], ALPHA / R),
        lora_fixture_key("without scaling"): references.lora_linear(
            c["x"], c["weight"], c["bias"], c["A"], c["B"], 1.0
        ),
    }
    a = adapter_case()
    weights = (a["down.weight"], a["down.bias"], a["up.weight"], a["up.bias"])
    values[adapter_fixture_key()] = references.adapter(a["x"], *weights)
    values[adapter_fixture_key("relu")] = a["x"] + F.linear(F.relu(F.linear(a["x"], *weights[:2])), *weights[2:])
    p = prefix_case()
    out, attention_weights = references.prefix_attention(
        p["q"], p["k"], p["v"], p["prefix_k"], p["prefix_v"], p["mask"]
    )
    values[prefix_fixture_key("weights")], values[prefix_fixture_key("out")] = attention_weights, out
    prefix_k, prefix_v = p["prefix_k"].expand(2, PREFIX_P, 4), p["prefix_v"].expand(2, PREFIX_P, 3)
    extended = torch.ones(3, PREFIX_P, dtype=torch.bool)
    values[prefix_fixture_key("weights", "prefix last")] = references.attention(
        p["q"], torch.cat([p["k"], prefix_k], 1), torch.cat([p["v"], prefix_v], 1), torch.cat([p["mask"], extended], 1)
    )[1]
    values[prefix_fixture_key("weights", "mask on the wrong side")] = references.attention(
        p["q"], torch.cat([prefix_k, p["k"]], 1), torch.cat([prefix_v, p["v"]], 1), torch.cat([p["mask"], extended], 1)
    )[1]
    return values


def generate() -> dict[str, Any]:
    """Every stored value, keyed by the call it is the answer of (the inputs are the checks')."""
    x, positions = fixed(2, 5, 8, seed=21), torch.tensor([3, 0, 7, 7, 12])
    halves = torch.tensor([0, 4, 1, 5, 2, 6, 3, 7])  # pairs (x[i], x[i + d/2]) made interleaved
    x32 = fixed(3, 4, 6, seed=22, dtype=torch.float32)
    values: dict[str, Any] = {
        # 02_positions: rows 0..5 are the check's (6, 8), rows 1..6 positions starting at 1; the pairs of
        # (6, 16) hold the frequencies 10000**(-i/8) of an exponent i/d
        "sinusoidal_positions(7, 8)": references.sinusoidal_positions(7, 8),
        "sinusoidal_positions(6, 16)": references.sinusoidal_positions(6, 16),
        "sinusoidal_positions(6, 8), t * 10000**(2i/d)": _sinusoidal(6, 8, 1e-4),
        "sinusoidal_positions(40, 32)": references.sinusoidal_positions(40, 32),
        "apply_rope(x, positions)": references.rope(x, positions),
        "apply_rope(x, positions), halves": references.rope(x[..., halves], positions)[..., halves.argsort()],
        "apply_rope(x, -positions)": references.rope(x, -positions),
        "apply_rope(x, 0..T-1)": references.rope(x, torch.arange(5)),
        # also theta=10000 with the exponent i/d: 10000**(-i/d) = 100**(-2i/d)
        "apply_rope(x, positions, theta=100)": references.rope(x, positions, 100.0),
        "apply_rope(x32, positions / 2)": references.rope(x32, torch.arange(4) * 0.5),
        **{f"alibi_slopes({n})": references.alibi_slopes(n) for n in (1, 3, 4, 6, 8, 12, 16)},
        # 04_accounting: with an explicit d_ff, and with the default 4 d
        **{
            f"gpt2_param_count{args}": references.gpt2_param_count(*args)
            for args in (
                (100, 16, 8, 3, 20),
                (100, 16, 8, 3),
                (1000, 64, 32, 2, 48),
                (1000, 64, 32, 2),
                (50, 10, 12, 1),
            )
        },
        # 01_tokenizer: the merges of the checks' texts, "<hex> <hex>" pairs joined by ";"
        **{
            bpe_fixture_key(text, size, specials): ";".join(
                f"{a.hex()} {b.hex()}" for a, b in references.train_bpe(text, size, specials)[1]
            )
            for text, size, specials in [(PARAGRAPH, 300, ()), *(rule[:3] for rule in RULES + SPECIAL_RULES)]
        },
        **_causal_lm_loss_values(),
        # 02_objectives: P(first part = 1, 2, ...) when span_corruption splits the check's noise and kept tokens
        **{
            law_fixture_key(n_items, n_parts): list(references.segmentation_first_length(n_items, n_parts).values())
            for n_items, n_parts in ((LAW_CASE[3], LAW_CASE[4]), (LAW_CASE[0] - LAW_CASE[3], LAW_CASE[4]))
        },
        # 03_sft: the block-diagonal causal mask of the check's document ids, as 0/1
        mask_fixture_key(): references.packed_attention_mask(torch.tensor(MASK_DOCUMENTS)).int(),
        **_peft_values(),
    }
    return {key: _rounded(value) for key, value in values.items()}


def dumps(values: dict[str, Any]) -> str:
    """One entry a line, so that a regeneration's diff names the entries it changed."""
    return "{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in values.items()) + "\n}\n"


def write(path: Path = PATH) -> Path:
    path.write_text(dumps(generate()))
    return path


if __name__ == "__main__":
    print(f"wrote {write()}")
