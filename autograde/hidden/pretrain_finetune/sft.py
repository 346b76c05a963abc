"""Hidden tests of 03_sft.ipynb: one SFT example, next-fit packing, the packed attention mask (no expected values here)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from autograde.hidden import Case, answers, probe, randint


def _ids(g: torch.Generator, n: int, vocab: int = 256) -> torch.Tensor:
    return torch.randint(0, vocab, (n,), generator=g)


@dataclass
class Example:
    input_ids: torch.Tensor
    labels: torch.Tensor
    prompt_after: torch.Tensor  # the arguments afterwards: must be unchanged
    response_after: torch.Tensor


def _run_example(sft_example, c: Case) -> Example:
    prompt, response, eos_id = c.args
    input_ids, labels = sft_example(prompt, response, eos_id)
    return Example(input_ids, labels, prompt, response)


@probe("sft_example", run=_run_example, output=Example)
def sft_example(g: torch.Generator) -> list[Case]:
    return [
        Case("a prompt of 12 and a response of 7 tokens", (_ids(g, 12), _ids(g, 7), randint(g, 0, 255))),
        Case("an empty prompt", (_ids(g, 0), _ids(g, randint(g, 1, 9)), 0)),
        Case("an empty response", (_ids(g, randint(g, 2, 9)), _ids(g, 0), 3)),
        Case("GPT-2's vocabulary, eos_id 50256", (_ids(g, 40, 50257), _ids(g, 25, 50257), 50256)),
        Case("a prompt of 300 and a response of 200 tokens", (_ids(g, 300), _ids(g, 200), randint(g, 0, 255))),
        Case("one prompt token, one response token", (_ids(g, 1), _ids(g, 1), randint(g, 0, 255))),
    ]


def _examples(g: torch.Generator, lengths: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Examples of the given lengths, each with a random prompt length (0 to half the example: some
    examples' first label is a response token)."""
    examples = []
    for n in lengths:
        ids, prompt = _ids(g, n), randint(g, 0, n // 2)
        examples.append((ids, torch.cat([torch.full((prompt,), -100), ids[prompt:]])))
    return examples


def _lengths(g: torch.Generator, count: int, low: int, high: int) -> list[int]:
    return [randint(g, low, high) for _ in range(count)]


def _filling(g: torch.Generator, rows: int, context: int) -> list[int]:
    """Lengths that fill `rows` rows of `context` exactly, 2 or 3 examples each."""
    lengths = []
    for _ in range(rows):
        first = randint(g, 1, context // 2)
        second = randint(g, 1, context - first - 1)
        lengths += [first, second, context - first - second]
    return lengths


@dataclass
class Packed:
    outputs: list | None  # (input_ids, labels, position_ids, document_ids)
    examples_after: list  # the examples afterwards: must be unchanged
    raised_value_error: bool


def _run_pack(pack, c: Case) -> Packed:
    examples = c.args[0]
    if c.extra.get("invalid"):
        try:
            pack(*c.args)
        except ValueError:
            return Packed(None, examples, True)
        return Packed(None, examples, False)
    return Packed(list(pack(*c.args)), examples, False)


def _pack_case(g: torch.Generator, label: str, lengths: list[int], context: int, **extra: bool) -> Case:
    return Case(label, (_examples(g, lengths), context, randint(g, 0, 255)), {}, dict(extra))


@probe("pack", run=_run_pack, output=Packed)
def pack(g: torch.Generator) -> list[Case]:
    return [
        _pack_case(g, "40 examples of 5 to 60 tokens, rows of 64", _lengths(g, 40, 5, 60), 64),
        _pack_case(g, "examples that fill their rows exactly", _filling(g, 4, 32), 32),
        _pack_case(g, "short and long examples, rows of 100", _lengths(g, 25, 1, 10) + _lengths(g, 15, 70, 100), 100),
        _pack_case(g, "an example as long as the context between short ones", [3, 16, 2, 5, 16], 16),
        _pack_case(g, "one example", [randint(g, 1, 20)], 20),
        _pack_case(g, "rows of 1 token", [1, 1, 1], 1),
        _pack_case(g, "an example longer than the context", [4, 9, 2], 8, invalid=True),
    ]


@probe("packed_attention_mask")
def packed_attention_mask(g: torch.Generator) -> list[Case]:
    def rows(*layouts: list[int]) -> torch.Tensor:
        """Document ids of rows, each given as its examples' lengths (the rest of the row is padding)."""
        T = max(sum(layout) for layout in layouts) + randint(g, 0, 3)
        documents = torch.full((len(layouts), T), -1)
        first = 0
        for r, layout in enumerate(layouts):
            start = 0
            for n in layout:
                documents[r, start : start + n] = first
                first, start = first + 1, start + n
        return documents

    random_rows = [_lengths(g, randint(g, 1, 5), 1, 12) for _ in range(6)]
    return [
        Case("six rows of 1 to 5 documents", (rows(*random_rows),)),
        Case("a row of padding only", (rows([4, 3], [], [7]),)),
        Case("one document in the row", (rows([randint(g, 5, 20)]),)),
        Case("documents of one token", (rows([1] * randint(g, 4, 9)),)),
        Case("T = 1", (torch.tensor([[0], [-1]]),)),
    ]


q1_packed_rows, q2_leak_bits, q3_overfitting = answers(__name__, "q1_packed_rows", "q2_leak_bits", "q3_overfitting")
