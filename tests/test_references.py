"""The grader's references (autograde/judge/references.py) against PyTorch, closed forms and
published numbers: a judge is only as right as its reference."""

from __future__ import annotations

import json
import math

import torch

from autograde import check_fixtures
from autograde.judge import references
from course.checks import fixture
from course.models import Block, TinyGPT, TinyGPTConfig, rope


def test_sinusoidal_positions_match_the_closed_form():
    T, d = 9, 12
    pe = references.sinusoidal_positions(T, d)
    pos, i = torch.arange(T, dtype=torch.float64)[:, None], torch.arange(0, d, 2, dtype=torch.float64)
    angles = pos * torch.exp(-math.log(10000.0) * i / d)
    assert torch.allclose(pe[:, 0::2], angles.sin()) and torch.allclose(pe[:, 1::2], angles.cos())
    assert math.isclose(pe[1, 0], math.sin(1.0)) and pe[0].tolist() == [0.0, 1.0] * (d // 2)


def test_rope_is_a_rotation_of_each_interleaved_pair():
    x, positions, theta = torch.randn(2, 3, 5, 8, dtype=torch.float64), torch.tensor([0, 1, 2, 7, 30]), 500.0
    y = references.rope(x, positions, theta)
    for i in range(4):
        angle = positions.double()[:, None] * theta ** (-2 * i / 8)
        cos, sin = angle.cos().squeeze(-1), angle.sin().squeeze(-1)
        even, odd = x[..., 2 * i], x[..., 2 * i + 1]
        assert torch.allclose(y[..., 2 * i], even * cos - odd * sin) and torch.allclose(
            y[..., 2 * i + 1], even * sin + odd * cos
        )


def test_tinygpt_rope_equals_the_reference():
    x, positions = torch.randn(2, 3, 5, 8, dtype=torch.float64), torch.tensor([0, 1, 2, 7, 30])
    assert torch.allclose(rope(x, positions, 10000.0), references.rope(x, positions), atol=1e-6)


def test_alibi_slopes_are_the_papers():
    """Press et al. 2022, section 3: 8 heads get 1/2 ... 1/256, 16 heads 1/2^0.5 ... 1/2^8;
    6 heads: the 4 slopes of 4 heads, then every other slope of 8 heads."""
    assert references.alibi_slopes(8) == [2.0**-k for k in range(1, 9)]
    assert all(math.isclose(a, 2.0 ** (-(k + 1) / 2)) for k, a in enumerate(references.alibi_slopes(16)))
    assert references.alibi_slopes(6) == [1 / 4, 1 / 16, 1 / 64, 1 / 256, 1 / 2, 1 / 8]
    bias = references.alibi_bias(2, 3)
    assert references.alibi_slopes(2) == [1 / 16, 1 / 256]
    assert (16 * bias[0]).tolist() == [[0.0, 1.0, 2.0], [-1.0, 0.0, 1.0], [-2.0, -1.0, 0.0]] and torch.equal(
        bias[1], bias[0] / 16
    )


def test_attention_matches_pytorch_and_zeroes_fully_masked_queries():
    q, k, v = (
        torch.randn(2, 4, 3, dtype=torch.float64),
        torch.randn(2, 5, 3, dtype=torch.float64),
        torch.randn(2, 5, 6, dtype=torch.float64),
    )
    out, weights = references.attention(q, k, v)
    assert torch.allclose(weights, torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(3), dim=-1))
    assert torch.allclose(out, weights @ v)
    mask = torch.ones(4, 5, dtype=torch.bool)
    mask[1] = False
    mask[2, 3:] = False
    out, weights = references.attention(q, k, v, mask)
    assert weights[:, 1].abs().sum() == 0 and out[:, 1].abs().sum() == 0
    assert (
        torch.allclose(weights[:, 2, :3].sum(-1), torch.ones(2, dtype=torch.float64))
        and weights[:, 2, 3:].abs().sum() == 0
    )


def _random_state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return {
        name: torch.randn_like(p) * (1 if p.dim() == 1 else p.shape[-1] ** -0.5)
        for name, p in module.state_dict().items()
    }


def test_llama_block_and_logits_match_tinygpt():
    config = {
        "d_model": 48,
        "n_layers": 2,
        "n_heads": 6,
        "n_kv_heads": 2,
        "d_ff": 64,
        "context": 24,
        "rope_theta": 500.0,
    }
    block = Block(TinyGPTConfig(**config)).double()
    weights = _random_state(block)
    block.load_state_dict(weights)
    x = torch.randn(2, 10, 48, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(references.llama_block(config, weights, x), block(x, torch.arange(10)), atol=1e-5)
    model = TinyGPT(TinyGPTConfig(**config)).double()
    weights = _random_state(model)
    model.load_state_dict(weights)
    tokens = torch.randint(0, 256, (2, 10))
    with torch.no_grad():
        assert torch.allclose(references.llama_logits(config, weights, tokens), model(tokens), atol=1e-4)


def test_gpt2_param_count_is_the_published_one():
    """GPT-2 small and medium as released (tied embeddings): 124,439,808 and 354,823,168."""
    assert references.gpt2_param_count(50257, 1024, 768, 12) == 124_439_808
    assert references.gpt2_param_count(50257, 1024, 1024, 24) == 354_823_168


def test_the_visible_checks_stored_values_are_a_fresh_generation_from_the_references():
    """course/assets/check_fixtures.json, read by the visible checks, is what autograde/check_fixtures.py
    generates now from the references: after changing either, run `python -m autograde.check_fixtures`."""
    fresh = check_fixtures.generate()
    assert set(json.loads(check_fixtures.PATH.read_text())) == set(fresh), "python -m autograde.check_fixtures"
    for key, value in fresh.items():
        stored, value = torch.as_tensor(fixture(key), dtype=torch.float64), torch.tensor(value, dtype=torch.float64)
        assert stored.shape == value.shape and torch.allclose(stored, value, rtol=1e-10, atol=1e-12), (
            f"{key} is stale: python -m autograde.check_fixtures"
        )
    # the stored mistake t * 10000**(2i/d) comes from the RoPE reference; with theta = 10000 it is the table
    assert torch.allclose(check_fixtures._sinusoidal(9, 12, 10000.0), references.sinusoidal_positions(9, 12))
