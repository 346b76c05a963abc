"""TinyGPT and its pretrained checkpoints: the architecture's conventions, the model API later
modules use (positions, masks, embeddings), generation, and the numbers the docs report."""

from __future__ import annotations

import json
import math

import pytest
import torch

from autograde.decoding import cached_forward, greedy, greedy_acceptance, held_out_prompts
from course.data import pydoc_topics, stdlib_corpus, stdlib_files
from course.models import PRETRAINED, TinyGPT, TinyGPTConfig, encode, load_pretrained
from course.train import ASSETS, DOCS, bits_per_byte, unigram_bits_per_byte

LOGS = {name: json.loads((ASSETS / f"{name}.json").read_text()) for name in PRETRAINED}


def test_checkpoints_ship_within_budget_and_load():
    total = sum((ASSETS / f"{name}.pt").stat().st_size for name in PRETRAINED)
    assert total <= 30 * 2**20, f"checkpoints take {total / 2**20:.1f} MB; the budget is 30 MB"
    draft, target = (load_pretrained(name) for name in PRETRAINED)
    assert draft.num_parameters() <= 1_000_000 < 3_000_000 <= target.num_parameters() <= 10_000_000
    assert draft.config.n_layers == 2 and target.config.n_layers == 8
    assert draft.config.context >= 512 and target.config.context >= 512
    assert not draft.training and draft.config.vocab_size == target.config.vocab_size == 256
    with pytest.raises(ValueError, match="tinygpt-draft"):
        load_pretrained("gpt-5")


def test_target_beats_draft_clearly_without_overfitting():
    draft, target = (LOGS[name]["final_held_out_bpb"] for name in PRETRAINED)
    unigram = LOGS["tinygpt-draft"]["unigram_bpb"]
    assert target <= draft - 0.1 and draft < unigram - 2.0, (target, draft, unigram)
    for name in PRETRAINED:
        gap = LOGS[name]["final_held_out_bpb"] - LOGS[name]["final_train_bpb"]
        assert gap < 0.1, f"{name} is {gap:.3f} bits per byte worse held out than on its training text"


def test_corpus_is_split_by_file_and_keeps_the_documentation_out():
    files = stdlib_files()
    train, held_out = stdlib_corpus()
    assert len(files) > 500 and 9_000_000 < len(train.encode()) + len(held_out.encode()) < 11_000_000
    assert not any(name.startswith(("test/", "pydoc_data/", "encodings/")) for name in files)
    held = [text for i, (_, text) in enumerate(sorted(files.items())) if i % 20 == 0]
    assert held_out == "\n\n".join(held) and all(text not in train for text in [t for t in held if len(t) > 2000][:5])
    assert next(iter(pydoc_topics().values())) not in train


@pytest.mark.slow
def test_reported_numbers_are_reproduced_from_the_shipped_files():
    train_text, held_out_text = stdlib_corpus()
    train, held_out = encode(train_text), encode(held_out_text)
    assert math.isclose(unigram_bits_per_byte(train, held_out), LOGS["tinygpt-draft"]["unigram_bpb"], rel_tol=1e-9)
    measured = bits_per_byte(load_pretrained("tinygpt-draft"), held_out)
    assert math.isclose(measured, LOGS["tinygpt-draft"]["final_held_out_bpb"], rel_tol=1e-4), measured
    report = (DOCS / "tinygpt.md").read_text()
    for name in PRETRAINED:
        assert f"{LOGS[name]['final_held_out_bpb']:.3f}" in report, (
            f"docs/tinygpt.md does not show {name}'s held-out bits per byte"
        )
    assert (DOCS / "tinygpt_learning_curves.png").stat().st_size > 10_000


@pytest.mark.slow
def test_reported_greedy_acceptance_is_reproduced_and_meets_its_target():
    reported = json.loads((DOCS / "tinygpt_decoding.json").read_text())
    draft, target = (load_pretrained(name) for name in PRETRAINED)
    prompts = held_out_prompts(reported["prompt_length"], reported["n_prompts"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as measured: another thread count can flip an argmax tie
    try:
        rates = [greedy_acceptance(draft, target, prompt, reported["new_tokens"]) for prompt in prompts]
    finally:
        torch.set_num_threads(threads)
    measured = sum(rates) / len(rates)
    assert math.isclose(measured, reported["greedy"], abs_tol=0.01), (measured, reported["greedy"])
    assert measured >= 0.75, f"the draft agrees with the target's greedy choice {measured:.2f} of the time"


def test_forward_takes_positions_masks_and_embeddings():
    torch.manual_seed(0)
    model = TinyGPT(TinyGPTConfig(d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=48, context=16)).eval()
    tokens = torch.randint(0, 256, (2, 6))
    causal = torch.ones(6, 6, dtype=torch.bool).tril().expand(2, 6, 6)
    with torch.no_grad():
        plain = model(tokens)
        assert torch.allclose(model(tokens, mask=causal), plain, atol=1e-6)
        assert torch.allclose(model(tokens, mask=causal[:, None]), plain, atol=1e-6)
        assert torch.allclose(model(embeddings=model.embed(tokens)), plain, atol=1e-6)
        assert torch.allclose(model(tokens, positions=torch.arange(6).expand(2, 6)), plain, atol=1e-6)
        # two sequences packed in one row: each attends to itself only, positions restart
        packed, positions = torch.cat([tokens[0, :3], tokens[1, :3]])[None], torch.tensor([[0, 1, 2, 0, 1, 2]])
        block = torch.zeros(1, 6, 6, dtype=torch.bool)
        block[0, :3, :3] = block[0, 3:, 3:] = True
        out = model(packed, positions=positions, mask=block & causal[:1])
        assert torch.allclose(out[0, :3], model(tokens[:1, :3])[0], atol=1e-5)
        assert torch.allclose(out[0, 3:], model(tokens[1:, :3])[0], atol=1e-5)
        nobody = causal.clone()
        nobody[:, 2] = False  # query 2 may attend to nothing: finite logits, never NaN
        assert torch.isfinite(model(tokens, mask=nobody)).all()
    for bad, message in (
        ({"tokens": tokens, "embeddings": model.embed(tokens)}, "exactly one"),
        ({"tokens": tokens, "mask": causal.float()}, "bool"),
        ({"tokens": tokens, "positions": torch.arange(5)}, "positions"),
    ):
        with pytest.raises(ValueError, match=message):
            model(**bad)


def test_cached_decoding_matches_the_full_forward():
    draft = load_pretrained("tinygpt-draft")
    prompt = encode("def fibonacci(n):\n    ")
    cache = []
    with torch.no_grad():
        first = cached_forward(draft, prompt[None], cache)
        step = cached_forward(draft, torch.tensor([[40]]), cache)
        full = draft(torch.cat([prompt, torch.tensor([40])])[None])
    assert torch.allclose(torch.cat([first, step], dim=1), full, atol=1e-4)
    assert torch.equal(greedy(draft, prompt, 12), greedy(draft, prompt, 12, use_cache=False))


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
