"""Hidden tests of 02_objectives.ipynb: the causal-LM loss, BERT's masking, T5's span corruption (no expected values here).

The random exercises are run with generators seeded from the case, so the judge can check that the
same seed gives the same draw, and their rates are judged statistically on large draws."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from autograde.hidden import Case, answers, probe, randint, randn


@dataclass
class Loss:
    loss: torch.Tensor  # causal_lm_loss's value
    grad: torch.Tensor | None  # d loss / d logits, None when the loss does not reach the logits


def _loss_and_grad(causal_lm_loss, c: Case) -> Loss:
    logits = c.args[0].clone().requires_grad_(True)
    loss = causal_lm_loss(logits, *c.args[1:])
    if isinstance(loss, torch.Tensor) and loss.requires_grad:
        loss.backward()
    return Loss(loss, logits.grad)


def _tokens(g: torch.Generator, high: int, *shape: int) -> torch.Tensor:
    return torch.randint(0, high, shape, generator=g)


def _mask(g: torch.Generator, B: int, T: int, p: float) -> torch.Tensor:
    return torch.rand(B, T, generator=g) < p


@probe("causal_lm_loss", run=_loss_and_grad, output=Loss)
def causal_lm_loss(g: torch.Generator) -> list[Case]:
    uneven = _mask(g, 3, 9, 0.6)
    uneven[0, 1:], uneven[1, 1:4], uneven[1, 4:] = True, True, False  # rows with 8, 3 and a random count of targets
    one_row_empty = _mask(g, 3, 6, 0.5)
    one_row_empty[0, 1], one_row_empty[1] = True, False
    return [
        Case("no mask, logits (2, 7, 11)", (randn(g, 2, 7, 11), _tokens(g, 11, 2, 7))),
        Case("rows with different numbers of counted targets", (randn(g, 3, 9, 13), _tokens(g, 13, 3, 9), uneven)),
        Case("a row with no counted target", (randn(g, 3, 6, 5), _tokens(g, 5, 3, 6), one_row_empty)),
        Case(
            "column 0 of the mask set at random",
            (randn(g, 4, 5, 7), _tokens(g, 7, 4, 5), _mask(g, 4, 5, 0.5) | (torch.arange(5) == 0)),
        ),
        Case(
            "float32 logits of scale 1000", (randn(g, 2, 6, 9, dtype=torch.float32, scale=1000.0), _tokens(g, 9, 2, 6))
        ),
        Case("T = 2: one target per row", (randn(g, 4, 2, 6), _tokens(g, 6, 4, 2), torch.ones(4, 2, dtype=torch.bool))),
        Case(
            "non-contiguous logits and tokens",
            (randn(g, 8, 3, 10).transpose(0, 1), _tokens(g, 10, 8, 3).T, _mask(g, 3, 8, 0.7)),
        ),
        Case(
            f"one sequence, a vocabulary of {(V := randint(g, 200, 400))}", (randn(g, 1, 30, V), _tokens(g, V, 1, 30))
        ),
    ]


@dataclass
class Masked:
    inputs: torch.Tensor
    labels: torch.Tensor
    tokens_after: torch.Tensor  # the input afterwards: must be unchanged
    same_seed: list  # (inputs, labels) of a second call with an identically seeded generator
    other_seed: list  # (inputs, labels) with another seed


def _mlm_twice(mlm_mask, c: Case) -> Masked:
    tokens = c.args[0]

    def draw(seed: int) -> list:
        return list(mlm_mask(*c.args, **c.kwargs, generator=torch.Generator().manual_seed(seed)))

    inputs, labels = draw(c.extra["seed"])
    return Masked(inputs, labels, tokens, draw(c.extra["seed"]), draw(c.extra["seed"] + 1))


def _mlm_case(g: torch.Generator, label: str, tokens: torch.Tensor, mask_id: int, vocab_size: int, **kwargs) -> Case:
    return Case(label, (tokens, mask_id, vocab_size), kwargs, {"seed": randint(g, 0, 2**31)})


@probe("mlm_mask", run=_mlm_twice, output=Masked)
def mlm_mask_rules(g: torch.Generator) -> list[Case]:
    with_specials = _tokens(g, 100, 8, 64)
    with_specials[:, 0], with_specials[:, -1] = 1, 2  # [CLS] ... [SEP]
    with_specials[_mask(g, 8, 64, 0.2)] = 0  # padding
    return [
        _mlm_case(g, "special ids at a fifth of the positions", with_specials, 3, 100, special_ids=(0, 1, 2)),
        _mlm_case(g, "BERT's vocabulary, one sequence", _tokens(g, 30522, 300), 103, 30522),
        _mlm_case(g, "tokens of shape (2, 3, 50)", _tokens(g, 40, 2, 3, 50), 40, 41, p=0.3),
        _mlm_case(g, "p = 1: every position that is not special", with_specials, 3, 100, p=1.0, special_ids=[0]),
        _mlm_case(g, "p = 0", _tokens(g, 50, 4, 20), 49, 50, p=0.0),
    ]


def _mlm_once(mlm_mask, c: Case) -> list:
    return list(mlm_mask(*c.args, **c.kwargs, generator=torch.Generator().manual_seed(c.extra["seed"])))


@probe("mlm_mask", run=_mlm_once)
def mlm_mask_rates(g: torch.Generator) -> list[Case]:
    bert_like = _tokens(g, 1000, 200, 500)
    bert_like[_mask(g, 200, 500, 0.1)] = 0  # padding
    return [
        _mlm_case(g, "200 rows of 500 tokens, p = 0.15", bert_like, 103, 1000, special_ids=(0,)),
        _mlm_case(g, "100 rows of 500 tokens, a vocabulary of 10, p = 0.3", _tokens(g, 10, 100, 500), 10, 10, p=0.3),
    ]


@dataclass
class Corrupted:
    inputs: torch.Tensor | None
    targets: torch.Tensor | None
    same_seed: list | None  # (inputs, targets) again with an identically seeded generator
    raised_value_error: bool


def _corrupt_twice(span_corruption, c: Case) -> Corrupted:
    def draw() -> list:
        return list(span_corruption(*c.args, **c.kwargs, generator=torch.Generator().manual_seed(c.extra["seed"])))

    if c.extra.get("invalid"):
        try:
            draw()
        except ValueError:
            return Corrupted(None, None, None, True)
        return Corrupted(None, None, None, False)
    inputs, targets = draw()
    return Corrupted(inputs, targets, draw(), False)


def _span_case(g: torch.Generator, length: int, sentinel_start: int, **kwargs) -> Case:
    tokens = _tokens(g, sentinel_start - length, length)  # below every sentinel id
    settings = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    return Case(
        f"{length} tokens{', ' + settings if settings else ''}",
        (tokens, sentinel_start),
        kwargs,
        {"seed": randint(g, 0, 2**31)},
    )


@probe("span_corruption", run=_corrupt_twice, output=Corrupted)
def span_corruption_rules(g: torch.Generator) -> list[Case]:
    # lengths * densities and noise / mean stay away from .5, where rounding conventions differ
    return [
        _span_case(g, 512, 32100),
        _span_case(g, 33, 500),  # 4.95 noise tokens: round, not floor
        _span_case(g, 100, 300, noise_density=0.05),  # 5 noise tokens, 5 / 3 spans: round, not floor
        _span_case(g, 2, 50),
        _span_case(g, 20, 90, noise_density=0.9),  # 18 noise tokens in 6 spans, but only 2 kept tokens
        _span_case(g, 40, 200, noise_density=0.3, mean_span_length=1.0),
        _span_case(g, randint(g, 60, 90), 1000, noise_density=0.5, mean_span_length=100.0),  # one span
        _span_case(g, 11, 70, noise_density=0.01),  # at least one noise token
        Case("one token", (torch.tensor([5]), 100), {}, {"seed": 0, "invalid": True}),
    ]


def _corrupt_many(span_corruption, c: Case) -> list:
    gen = torch.Generator().manual_seed(c.extra["seed"])
    return [list(span_corruption(*c.args, **c.kwargs, generator=gen)) for _ in range(c.extra["runs"])]


@probe("span_corruption", run=_corrupt_many)
def span_corruption_lengths(g: torch.Generator) -> list[Case]:
    return [
        Case(
            "2,000 draws: 24 tokens, noise_density=0.25, mean_span_length=2.0",
            (_tokens(g, 90, 24), 100),
            {"noise_density": 0.25, "mean_span_length": 2.0},
            {"seed": randint(g, 0, 2**31), "runs": 2000},
        )
    ]


q1_decoder_targets, q2_first_byte_loss_ratio, q3_data_efficiency = answers(
    __name__, "q1_decoder_targets", "q2_first_byte_loss_ratio", "q3_data_efficiency"
)
