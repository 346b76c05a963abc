"""Judges of 02_objectives.ipynb: Hugging Face's causal-LM loss, BERT's 80/10/10 rule, T5's span counts
and segmentation law. Exact invariants first, then rates within SIGMAS standard deviations."""

from __future__ import annotations

import functools
from typing import Any

import torch

from autograde.hidden import Case
from autograde.judge import (
    Choice,
    Computed,
    Mismatch,
    Number,
    answer_key,
    expect,
    expect_close,
    judge,
    probes_for,
    references,
)
from course.checks import SIGMAS, sigmas_off
from course.checks.pretrain_finetune.objectives import MIN_EXPECTED, read_spans
from course.data import stdlib_corpus
from course.models import encode, load_pretrained

hidden = probes_for(__name__)


@judge(hidden.causal_lm_loss)
def judge_causal_lm_loss(c: Case, out: hidden.Loss) -> None:
    logits = c.args[0].clone().requires_grad_(True)
    expected = references.causal_lm_loss(logits, *c.args[1:])
    expected.backward()
    expect(isinstance(out.loss, torch.Tensor) and out.loss.dim() == 0, "should return a scalar (0-dimensional) tensor")
    tol = 1e-4 if logits.dtype == torch.float32 else 1e-8
    expect_close(out.loss, expected, "loss", rtol=tol, atol=tol)
    expect(out.grad is not None, "the loss does not backpropagate to the logits")
    expect_close(out.grad, logits.grad, "gradient with respect to the logits", rtol=tol, atol=tol)


def _same(a: Any, b: Any) -> bool:
    return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)


def _chosen(c: Case, inputs: Any, labels: Any) -> torch.Tensor:
    """The positions mlm_mask chose (labels not -100), after checking every exact rule."""
    tokens, mask_id, vocab_size = c.args
    for name, value in (("inputs", inputs), ("labels", labels)):
        expect(
            isinstance(value, torch.Tensor) and value.shape == tokens.shape and value.dtype == torch.int64,
            f"{name} should be an int64 tensor of the tokens' shape",
        )
    chosen = labels != -100
    expect(torch.equal(labels[chosen], tokens[chosen]), "labels should be the original id where a position is chosen")
    expect(torch.equal(inputs[~chosen], tokens[~chosen]), "a position that is not chosen should keep its token")
    specials = torch.tensor(list(c.kwargs.get("special_ids", ())), dtype=torch.int64)
    expect(not chosen[torch.isin(tokens, specials)].any(), "a special id was chosen")
    replaced = inputs[chosen]
    expect(
        bool(((replaced == mask_id) | ((replaced >= 0) & (replaced < vocab_size))).all()),
        "a chosen position holds an id that is neither mask_id nor in [0, vocab_size)",
    )
    return chosen


@judge(hidden.mlm_mask_rules)
def judge_mlm_mask_rules(c: Case, out: hidden.Masked) -> None:
    tokens = c.args[0]
    chosen = _chosen(c, out.inputs, out.labels)
    for draw in (out.same_seed, out.other_seed):  # every draw obeys the rules
        expect(isinstance(draw, list) and len(draw) == 2, "should return (inputs, labels)")
        _chosen(c, *draw)
    expect(torch.equal(out.tokens_after, tokens), "the tokens were modified in place")
    p, specials = c.kwargs.get("p", 0.15), list(c.kwargs.get("special_ids", ()))
    eligible = ~torch.isin(tokens, torch.tensor(specials, dtype=torch.int64))
    if p in (0.0, 1.0):
        expect(
            torch.equal(chosen, eligible & (p == 1.0)),
            "with p = 0 nothing, with p = 1 every non-special position is chosen",
        )
    expect(
        _same(out.same_seed[0], out.inputs) and _same(out.same_seed[1], out.labels),
        "two calls with identically seeded generators give different results: draw every random number from `generator`",
    )
    if 0 < p < 1:
        expect(
            not (_same(out.other_seed[0], out.inputs) and _same(out.other_seed[1], out.labels)),
            "generators with different seeds give the same result: draw every random number from `generator`",
        )


def _expect_rate(count: int, n: int, p: float, what: str) -> None:
    expect(sigmas_off(count, n, p) <= SIGMAS, what)


@judge(hidden.mlm_mask_rates)
def judge_mlm_mask_rates(c: Case, out: Any) -> None:
    expect(isinstance(out, list) and len(out) == 2, "should return (inputs, labels)")
    inputs, labels = out
    chosen = _chosen(c, inputs, labels)
    tokens, mask_id, vocab_size = c.args
    p = c.kwargs.get("p", 0.15)
    eligible = ~torch.isin(tokens, torch.tensor(list(c.kwargs.get("special_ids", ())), dtype=torch.int64))
    n_eligible, n_chosen = int(eligible.sum()), int(chosen.sum())
    _expect_rate(n_chosen, n_eligible, p, "the share of chosen positions is not p")
    rows = chosen.sum(dim=1).double()  # chosen per row, binomial(eligible in the row, p)
    expected_variance = (eligible.sum(dim=1).double() * p * (1 - p)).mean()
    expect(
        rows.var() > 0.4 * expected_variance,
        "each row gets about the same number of chosen positions: choose each position independently",
    )
    pairs = eligible[0::2] & eligible[1::2]
    _expect_rate(
        int((chosen[0::2] & chosen[1::2] & pairs).sum()), int(pairs.sum()), p * p, "rows are not chosen independently"
    )
    original, replaced = tokens[chosen], inputs[chosen]
    original, replaced = original[original != mask_id], replaced[original != mask_id]  # the law below assumes this
    outcomes = references.mlm_outcomes(vocab_size, mask_id)
    is_mask, is_kept = replaced == mask_id, replaced == original
    counts = {
        "mask": int(is_mask.sum()),
        "kept": int((is_kept & ~is_mask).sum()),
        "other": int((~is_mask & ~is_kept).sum()),
    }
    for outcome, message in (
        ("mask", "the share of chosen positions replaced by mask_id is not 80 %"),
        ("kept", "the share of chosen positions left unchanged is not 10 %"),
        ("other", "the share of chosen positions replaced by a random id is not 10 %"),
    ):
        _expect_rate(counts[outcome], len(original), outcomes[outcome], message)
    if vocab_size <= 20:  # every random id's frequency: uniform over [0, vocab_size)
        for v in set(range(vocab_size)) - {mask_id}:
            could = original != v
            _expect_rate(
                int((replaced[could] == v).sum()),
                int(could.sum()),
                0.1 / vocab_size,
                "the random ids are not uniform over [0, vocab_size)",
            )


def _spans(c: Case, inputs: Any, targets: Any) -> tuple[list[int], list[int]]:
    """(kept run lengths, noise span lengths) read off span_corruption's output, after checking every exact rule."""
    tokens, sentinel_start = c.args
    counts = references.span_counts(
        len(tokens), c.kwargs.get("noise_density", 0.15), c.kwargs.get("mean_span_length", 3.0)
    )
    try:
        return read_spans(tokens, sentinel_start, *counts, inputs, targets)
    except ValueError as error:
        raise Mismatch(str(error)) from None


@judge(hidden.span_corruption_rules)
def judge_span_corruption_rules(c: Case, out: hidden.Corrupted) -> None:
    if c.extra.get("invalid"):
        expect(out.raised_value_error, "fewer than 2 tokens should raise ValueError")
        return
    _spans(c, out.inputs, out.targets)
    expect(
        out.same_seed is not None and _same(out.same_seed[0], out.inputs) and _same(out.same_seed[1], out.targets),
        "two calls with identically seeded generators give different results: draw every random number from `generator`",
    )


@judge(hidden.span_corruption_lengths)
def judge_span_corruption_lengths(c: Case, draws: Any) -> None:
    expect(isinstance(draws, list) and len(draws) == c.extra["runs"], "should return (inputs, targets)")
    spans = [_spans(c, *draw) for draw in draws]
    n_noise, n_spans = references.span_counts(len(c.args[0]), c.kwargs["noise_density"], c.kwargs["mean_span_length"])
    for which, n_items, message in ((1, n_noise, "noise span"), (0, len(c.args[0]) - n_noise, "kept run")):
        law = references.segmentation_first_length(n_items, n_spans)  # every span's law: the split is exchangeable
        for j in range(n_spans):
            lengths = [draw[which][j] for draw in spans]
            for k, probability in law.items():
                if len(lengths) * probability < MIN_EXPECTED:
                    continue
                _expect_rate(
                    lengths.count(k),
                    len(lengths),
                    probability,
                    f"the {message} lengths are not distributed as T5 draws them (every split equally likely)",
                )


def q1_decoder_targets() -> float:
    """Q1: the decoder's target length under T5's defaults on 2,048 tokens: noise tokens, one sentinel per span, a closing one."""
    n_noise, n_spans = references.span_counts(2048, 0.15, 3.0)
    return n_noise + n_spans + 1


@functools.cache
def first_byte_loss_ratio() -> float:
    """Q2's key: tinygpt-draft on the first 32 windows of 128 held-out bytes, the mean loss of the targets
    at position 1 (one byte of context) over the mean loss of those at positions 64-127."""
    windows = encode(stdlib_corpus()[1][: 32 * 128]).view(32, 128)
    with torch.no_grad():
        logits = load_pretrained("tinygpt-draft")(windows)
    first, late = torch.zeros(32, 128, dtype=torch.bool), torch.zeros(32, 128, dtype=torch.bool)
    first[:, 1], late[:, 64:] = True, True
    return (references.causal_lm_loss(logits, windows, first) / references.causal_lm_loss(logits, windows, late)).item()


answer_key(
    hidden,
    {
        "q1_decoder_targets": Number(q1_decoder_targets(), rel=0, abs=0.5),
        "q2_first_byte_loss_ratio": Computed(first_byte_loss_ratio, rel=2e-3),
        "q3_data_efficiency": Choice("c"),
    },
)
