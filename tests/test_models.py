"""TinyGPT and its pretrained checkpoints: the architecture's conventions, generation, and the
numbers the docs report (held-out bits per byte against the unigram baseline)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from course.data import pydoc_corpus
from course.models import PRETRAINED, TinyGPT, TinyGPTConfig, encode, load_pretrained
from course.train import ASSETS, DOCS, bits_per_byte, unigram_bits_per_byte

LOGS = {name: json.loads((ASSETS / f"{name}.json").read_text()) for name in PRETRAINED}


def test_checkpoints_ship_within_budget_and_load():
    total = sum((ASSETS / f"{name}.pt").stat().st_size for name in PRETRAINED)
    assert total <= 30 * 2**20, f"checkpoints take {total / 2**20:.1f} MB; the budget is 30 MB"
    draft, target = (load_pretrained(name) for name in PRETRAINED)
    assert draft.num_parameters() <= 1_000_000 < 3_000_000 <= target.num_parameters() <= 10_000_000
    assert not draft.training and draft.config.vocab_size == target.config.vocab_size == 256
    with pytest.raises(ValueError, match="tinygpt-draft"):
        load_pretrained("gpt-5")


def test_target_beats_draft_and_both_beat_the_unigram_baseline_clearly():
    draft, target = (LOGS[name]["best_held_out_bpb"] for name in PRETRAINED)
    unigram = LOGS["tinygpt-draft"]["unigram_bpb"]
    assert target < draft < unigram - 2.0, (target, draft, unigram)


@pytest.mark.slow
def test_reported_numbers_are_reproduced_from_the_shipped_files():
    train_text, held_out_text = pydoc_corpus()
    train, held_out = encode(train_text), encode(held_out_text)
    assert math.isclose(unigram_bits_per_byte(train, held_out), LOGS["tinygpt-draft"]["unigram_bpb"], rel_tol=1e-9)
    measured = bits_per_byte(load_pretrained("tinygpt-draft"), held_out)
    assert math.isclose(measured, LOGS["tinygpt-draft"]["best_held_out_bpb"], rel_tol=1e-4), measured
    report = (DOCS / "tinygpt.md").read_text()
    for name in PRETRAINED:
        assert f"{LOGS[name]['best_held_out_bpb']:.3f}" in report, (
            f"docs/tinygpt.md does not show {name}'s held-out bits per byte"
        )
    assert (DOCS / "tinygpt_learning_curves.png").stat().st_size > 10_000


def test_tinygpt_is_causal_and_generation_is_reproducible():
    torch.manual_seed(0)
    model = TinyGPT(TinyGPTConfig(d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=48, context=16)).eval()
    tokens = torch.randint(0, 256, (1, 12))
    changed = tokens.clone()
    changed[0, 8:] = (changed[0, 8:] + 1) % 256
    with torch.no_grad():
        assert torch.allclose(model(tokens)[0, :8], model(changed)[0, :8], atol=1e-6)
        assert not torch.allclose(model(tokens)[0, 8:], model(changed)[0, 8:])
    with pytest.raises(ValueError, match="context"):
        model(torch.zeros(1, 17, dtype=torch.long))
    draft = load_pretrained("tinygpt-draft")
    sample = [
        draft.generate("def ", 30, temperature=0.8, top_k=20, generator=torch.Generator().manual_seed(1))
        for _ in range(2)
    ]
    assert sample[0] == sample[1] and sample[0].startswith("def ") and len(sample[0].encode()) >= 30
    assert draft.generate("The ", 20, temperature=0) == draft.generate("The ", 20, temperature=0.5, top_k=1)
