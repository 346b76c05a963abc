"""Visible checks of 02_objectives.ipynb (module 03, pretraining and fine-tuning): the causal-LM loss,
BERT's masking, T5's span corruption. Rates are checked on large draws within SIGMAS standard deviations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from course.checks import SIGMAS, call, expect_tensor, fail, fixed, fixture, is_close, passed, sigmas_off

# causal_lm_loss's fixed inputs: logits fixed(2, 6, 5, seed=31); the mask counts 4 targets in row 0 and 2 in
# row 1, and sets column 0 (never a target) in row 0
LOSS_TOKENS = [[1, 4, 0, 2, 2, 3], [3, 0, 1, 4, 4, 2]]
LOSS_MASK = [[True, True, True, False, True, True], [False, True, False, False, False, True]]
# stored value names: the reference's, then the likely mistakes', each with what it points to
LOSS_MISTAKES = {
    "no shift": "logits[:, t] predicts tokens[:, t + 1]: score logits[:, :-1] against tokens[:, 1:]",
    "sum": "the mean over counted targets, not their sum",
    "mask at the predicting position": "loss_mask[b, t] belongs to the target tokens[b, t], read it as loss_mask[:, 1:]",
    "mean of row means": "a mean over every counted target of the batch, not a mean of the rows' means",
    "uncounted as zeros": "divide by the number of counted targets, not by every position",
    "mask ignored": "loss_mask is ignored",
}


def loss_fixture_key(case: str, mistake: str = "") -> str:
    return f"causal_lm_loss, {case}" + (f", {mistake}" if mistake else "")


def _loss(causal_lm_loss: Callable, logits: torch.Tensor, *args: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    logits = logits.clone().requires_grad_(True)
    loss = call(causal_lm_loss, logits, *args)
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        fail(f"causal_lm_loss should return a scalar tensor (0-dimensional), got {loss!r:.60}")
    if loss.requires_grad:
        loss.backward()
    return loss, logits.grad


def check_causal_lm_loss(causal_lm_loss: Callable) -> None:
    logits, tokens, mask = fixed(2, 6, 5, seed=31), torch.tensor(LOSS_TOKENS), torch.tensor(LOSS_MASK)
    for case, args in (("no mask", (tokens,)), ("with the mask", (tokens, mask))):
        loss, grad = _loss(causal_lm_loss, logits, *args)
        if not is_close(loss, fixture(loss_fixture_key(case)), rtol=1e-6, atol=1e-8):
            mistake = next(
                (hint for name, hint in LOSS_MISTAKES.items() if is_close(loss, fixture(loss_fixture_key(case, name)))),
                "",
            )
            fail(
                f"causal_lm_loss, {case}: {loss.item():.6f}, expected {fixture(loss_fixture_key(case)):.6f}"
                + (f": {mistake}" if mistake else "")
            )
        if grad is None:
            fail("the loss does not backpropagate to the logits: compute it with torch operations on the logits")
    big = fixed(2, 6, 5, seed=32, scale=1000.0, dtype=torch.float32)
    loss, _ = _loss(causal_lm_loss, big, tokens)
    if not torch.isfinite(loss) or not is_close(loss, fixture(loss_fixture_key("logits of scale 1000")), rtol=1e-4):
        fail(
            f"causal_lm_loss on float32 logits of scale 1000 is {loss.item()}: compute a log-softmax (F.cross_entropy, "
            "F.log_softmax), never the log of a softmax (exp overflows)"
        )
    passed("causal_lm_loss: shifted targets, mask on the targets, mean over counted targets, stable for large logits")


def _draw(mlm_mask: Callable, seed: int, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, torch.Tensor]:
    result = call(mlm_mask, *args, **kwargs, generator=torch.Generator().manual_seed(seed))
    if not (isinstance(result, tuple) and len(result) == 2):
        fail("mlm_mask should return a tuple (inputs, labels)")
    for name, value in zip(("inputs", "labels"), result):
        expect_tensor(value, f"mlm_mask's {name}", args[0].shape)
        if value.dtype != torch.int64:
            fail(f"mlm_mask's {name} should be int64 like the tokens, got {value.dtype}")
    return result


def _mlm_tokens(vocab_size: int, seed: int) -> torch.Tensor:
    tokens = torch.randint(1, vocab_size, (64, 256), generator=torch.Generator().manual_seed(seed))
    tokens[:, 200:] = 0  # padding, a special id
    return tokens


def _expect_rate(count: int, n: int, p: float, message: str) -> None:
    if sigmas_off(count, n, p) > SIGMAS:
        fail(f"{message} ({count} of {n}, expected about {n * p:.0f})")


def _mlm_rules(
    mlm_mask: Callable, tokens: torch.Tensor, mask_id: int, vocab_size: int, p: float
) -> tuple[torch.Tensor, ...]:
    """(inputs, chosen) of one draw, chosen the positions whose label is not -100, after every exact rule."""
    original = tokens.clone()
    inputs, labels = _draw(mlm_mask, 0, tokens, mask_id, vocab_size, p=p, special_ids=(0,))
    if not torch.equal(tokens, original):
        fail("mlm_mask modified the tokens in place: build new tensors (torch.where, .clone())")
    chosen = labels != -100
    if chosen.all():
        fail("every position has a label: labels should be -100 where a position is not chosen")
    if not torch.equal(labels[chosen], tokens[chosen]):
        fail("labels should hold the original id where a position is chosen, -100 elsewhere")
    if chosen[tokens == 0].any():
        fail("special ids were chosen: a position whose id is in special_ids is never chosen")
    if not torch.equal(inputs[~chosen], tokens[~chosen]):
        fail("a position that is not chosen changed its input: only chosen positions change")
    if (chosen == chosen[0]).all():
        fail("every row chose the same positions: draw one random number per position, not one per column")
    rows = chosen.sum(dim=1).double()
    if rows.var() < 0.4 * 200 * p * (1 - p):
        fail(
            f"the rows have {rows.min():.0f} to {rows.max():.0f} chosen positions of 200, too alike: choose each "
            "position independently with probability p, not a fixed number per row"
        )
    return inputs, chosen


def _chosen_share(chosen: torch.Tensor, tokens: torch.Tensor, p: float) -> None:
    _expect_rate(int(chosen.sum()), int((tokens != 0).sum()), p, f"the share of chosen positions is not p = {p}")


def check_mlm_mask(mlm_mask: Callable) -> None:
    tokens = _mlm_tokens(60, seed=41)
    inputs, chosen = _mlm_rules(mlm_mask, tokens, 60, 60, 0.15)
    replaced, original = inputs[chosen], tokens[chosen]
    # mask_id is outside [0, vocab_size): a random id equals the original with probability 1 / vocab_size
    n, masked, kept = len(original), int((replaced == 60).sum()), int((replaced == original).sum())
    expected = {"mask": 0.8, "kept": 0.1 + 0.1 / 60, "random": 0.1 * (1 - 1 / 60)}
    if kept < n * expected["kept"] and sigmas_off(kept, n, expected["kept"]) > SIGMAS:
        fail(
            f"only {kept} of {n} labelled positions kept their token: labels hold the original id at every chosen "
            "position, including the 10 % left unchanged"
        )
    _chosen_share(chosen, tokens, 0.15)
    counts = {"mask": masked, "kept": kept, "random": n - kept - masked}
    if any(sigmas_off(counts[k], n, expected[k]) > SIGMAS for k in counts):
        fail(
            f"of {n} chosen positions {masked} became mask_id, {counts['random']} a random id and {kept} stayed: "
            "BERT's rule is 80 % mask_id, 10 % a random id, 10 % unchanged"
        )
    tokens = _mlm_tokens(6, seed=42)
    inputs, chosen = _mlm_rules(mlm_mask, tokens, 6, 6, 0.5)
    _chosen_share(chosen, tokens, 0.5)
    replaced, original = inputs[chosen], tokens[chosen]
    for v in range(6):
        could = original != v
        count = int((replaced[could] == v).sum())
        _expect_rate(
            count,
            int(could.sum()),
            0.1 / 6,
            f"with vocab_size = 6, id {v} replaced another id {count} times: the random ids should be uniform over [0, vocab_size)",
        )
    args = (tokens, 6, 6, 0.5)
    first, again, other = _draw(mlm_mask, 1, *args), _draw(mlm_mask, 1, *args), _draw(mlm_mask, 2, *args)
    if not (torch.equal(first[0], again[0]) and torch.equal(first[1], again[1])) or torch.equal(first[1], other[1]):
        fail(
            "the same seed should give the same draw and another seed another: draw every random number from `generator`"
        )
    passed("mlm_mask: BERT's 80/10/10 rule, positions chosen independently at rate p, specials never, labels right")


def read_spans(
    tokens: torch.Tensor, sentinel_start: int, n_noise: int, n_spans: int, inputs: Any, targets: Any
) -> tuple[list[int], list[int]]:
    """(kept run lengths, noise span lengths) read off span_corruption's (inputs, targets) for `tokens`, given
    the expected counts; ValueError naming the first rule the output breaks."""
    for name, value in (("inputs", inputs), ("targets", targets)):
        if not (isinstance(value, torch.Tensor) and value.dim() == 1 and value.dtype == torch.int64):
            raise ValueError(f"{name} should be a 1-D int64 tensor")
    if len(inputs) == len(tokens) - n_noise + n_spans and len(targets) == n_noise + n_spans:
        raise ValueError(
            f"the targets should end with one closing sentinel, sentinel_start - n_spans = {sentinel_start - n_spans}"
        )
    if len(targets) != n_noise + n_spans + 1 or len(inputs) != len(tokens) - n_noise + n_spans:
        raise ValueError(
            f"for {len(tokens)} tokens expected {n_noise} noise tokens in {n_spans} spans: {len(tokens) - n_noise + n_spans} "
            f"inputs and {n_noise + n_spans + 1} targets, got {len(inputs)} and {len(targets)}: n_noise = "
            "round(len(tokens) * noise_density), n_spans = round(n_noise / mean_span_length), at least 1 and at most "
            "n_noise and len(tokens) - n_noise"
        )
    sentinels = [sentinel_start - k for k in range(n_spans + 1)]
    in_sentinel = (inputs > sentinel_start - n_spans - 1) & (inputs <= sentinel_start)
    if inputs[in_sentinel].tolist() != sentinels[:-1]:
        raise ValueError(
            f"the inputs' sentinels are {inputs[in_sentinel].tolist()}, expected sentinel_start - k for span k: {sentinels[:-1]}"
        )
    if in_sentinel[0] or not in_sentinel[-1]:
        raise ValueError("the inputs should start with a kept run and end with the last noise span's sentinel")
    t_sentinel = (targets > sentinel_start - n_spans - 2) & (targets <= sentinel_start)
    if targets[t_sentinel].tolist() != sentinels or not (t_sentinel[0] and t_sentinel[-1]):
        raise ValueError(
            f"the targets' sentinels are {targets[t_sentinel].tolist()}, expected each span's sentinel before it and a "
            f"closing sentinel: {sentinels}"
        )
    kept = [len(run) for run in torch.tensor_split(inputs, torch.nonzero(in_sentinel).flatten())]
    kept = [kept[0]] + [k - 1 for k in kept[1:-1]]  # each piece after the first starts with its sentinel
    noise = [len(span) - 1 for span in torch.tensor_split(targets, torch.nonzero(t_sentinel).flatten())[1:-1]]
    if min(kept + noise) < 1:
        raise ValueError(f"kept runs of lengths {kept} and noise spans of lengths {noise}: one is empty")
    pieces = zip(inputs[~in_sentinel].split(kept), targets[~t_sentinel].split(noise))
    if not torch.equal(torch.cat([piece for pair in pieces for piece in pair]), tokens):
        raise ValueError(
            "the kept runs and the noise spans, interleaved, are not the original tokens: start with a kept run"
        )
    return kept, noise


# (length, sentinel_start, keyword arguments, noise tokens, spans, what the counts test)
SPAN_CASES = (
    (40, 100, {}, 6, 2, "40 * 0.15 = 6 noise tokens, 6 / 3 = 2 spans"),
    (33, 100, {}, 5, 2, "round(33 * 0.15) = round(4.95) = 5 noise tokens, round(5 / 3) = 2 spans"),
    (20, 50, {"noise_density": 0.9}, 18, 2, "18 noise tokens would make 6 spans, but 2 kept tokens allow at most 2"),
)
LAW_CASE = (30, 100, {"noise_density": 0.2, "mean_span_length": 2.0}, 6, 3)  # 24 kept tokens, 3 runs of each
LAW_DRAWS = 600
MIN_EXPECTED = 20  # a length is tested where it is expected at least this often (the normal approximation holds)


def law_fixture_key(n_items: int, n_segments: int) -> str:
    return f"segmentation_first_length({n_items}, {n_segments})"


def _corrupt(span_corruption: Callable, case: tuple, generator: torch.Generator) -> tuple[list[int], list[int]]:
    length, sentinel_start, kwargs, n_noise, n_spans = case[:5]
    tokens = torch.arange(length) + 1
    result = call(span_corruption, tokens, sentinel_start, **kwargs, generator=generator)
    if not (isinstance(result, tuple) and len(result) == 2):
        fail("span_corruption should return a tuple (inputs, targets)")
    try:
        return read_spans(tokens, sentinel_start, n_noise, n_spans, *result)
    except ValueError as error:
        fail(f"span_corruption(torch.arange({length}) + 1, {sentinel_start}, {kwargs}): {error}")


def check_span_corruption(span_corruption: Callable) -> None:
    for case in SPAN_CASES:
        _corrupt(span_corruption, case, torch.Generator().manual_seed(0))
    try:
        call(span_corruption, torch.tensor([7]), 100)
    except ValueError:
        pass
    else:
        fail(
            "span_corruption of a single token should raise ValueError (it cannot be split into a kept run and a span)"
        )

    def three_draws() -> list:
        generator = torch.Generator().manual_seed(5)
        return [_corrupt(span_corruption, LAW_CASE, generator) for _ in range(3)]

    if three_draws() != three_draws():
        fail(
            "two calls with identically seeded generators gave different spans: draw every random number from `generator`"
        )
    one_stream = torch.Generator().manual_seed(1)
    draws = [_corrupt(span_corruption, LAW_CASE, one_stream) for _ in range(LAW_DRAWS)]
    for which, (n_items, what) in enumerate(((LAW_CASE[0] - LAW_CASE[3], "kept run"), (LAW_CASE[3], "noise span"))):
        law = fixture(law_fixture_key(n_items, 3)).tolist()  # P(length = 1), P(length = 2), ...
        for j in range(3):
            lengths = [draw[which][j] for draw in draws]
            for k, probability in enumerate(law, start=1):
                if LAW_DRAWS * probability < MIN_EXPECTED:
                    continue
                _expect_rate(
                    lengths.count(k),
                    LAW_DRAWS,
                    probability,
                    f"{LAW_DRAWS} draws on {LAW_CASE[0]} tokens: {what} {j} had length {k}"
                    + " too often or too rarely: every split equally likely, as T5's random_spans_noise_mask draws it",
                )
    passed("span_corruption: T5's counts, sentinels and closing sentinel, kept runs first, every split equally likely")
