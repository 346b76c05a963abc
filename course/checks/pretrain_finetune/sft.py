"""Visible checks of 03_sft.ipynb (module 03, pretraining and fine-tuning): one SFT example, next-fit
packing, the block-diagonal causal mask of packed rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from course.checks import call, expect_tensor, fail, fixture, passed

PROMPT, RESPONSE, EOS = [5, 6, 7], [8, 9], 2

# pack's fixed case: five examples, each (ids, labels) with its first PROMPT_LENGTHS[i] labels -100,
# in rows of PACK_CONTEXT: next-fit puts examples 0 and 1 in row 0 and 2, 3 and 4 (exactly full) in row 1
PACK_LENGTHS, PROMPT_LENGTHS, PACK_CONTEXT, PAD = (3, 4, 2, 5, 1), (1, 2, 0, 3, 0), 8, 99
PACKED_DOCUMENTS = [[0, 0, 0, 1, 1, 1, 1, -1], [2, 2, 3, 3, 3, 3, 3, 4]]
FIRST_FIT_DOCUMENTS = [[0, 0, 0, 1, 1, 1, 1, 4], [2, 2, 3, 3, 3, 3, 3, -1]]  # example 4 back in row 0
PER_ROW_DOCUMENTS = [[0, 0, 0, 1, 1, 1, 1, -1], [0, 0, 1, 1, 1, 1, 1, 2]]

# packed_attention_mask's fixed case (its expected mask is stored: mask_fixture_key())
MASK_DOCUMENTS = [[0, 0, 1, 1, 1, -1], [2, 2, 2, 2, -1, -1], [3, 3, 3, 3, 3, 3], [-1] * 6]


def mask_fixture_key() -> str:
    return "packed_attention_mask, " + str(MASK_DOCUMENTS)


def _int64_vector(value: Any, what: str) -> torch.Tensor:
    if not (isinstance(value, torch.Tensor) and value.dim() == 1 and value.dtype == torch.int64):
        fail(f"{what} should be a 1-D int64 tensor, got {value!r:.60}")
    return value


def _sft(sft_example: Callable, prompt: list[int], response: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    prompt_t, response_t = torch.tensor(prompt, dtype=torch.long), torch.tensor(response, dtype=torch.long)
    result = call(sft_example, prompt_t, response_t, EOS)
    if not (isinstance(result, tuple) and len(result) == 2):
        fail("sft_example should return a tuple (input_ids, labels)")
    if prompt_t.tolist() != prompt or response_t.tolist() != response:
        fail("sft_example modified prompt_ids or response_ids in place: build new tensors (torch.cat)")
    return _int64_vector(result[0], "input_ids"), _int64_vector(result[1], "labels")


def check_sft_example(sft_example: Callable) -> None:
    for prompt, response in ((PROMPT, RESPONSE), ([], [4]), ([3, 1], [])):
        input_ids, labels = _sft(sft_example, prompt, response)
        expected_ids = prompt + response + [EOS]
        expected_labels = [-100] * len(prompt) + response + [EOS]
        where = f"sft_example({prompt}, {response}, eos_id={EOS})"
        if input_ids.tolist() != expected_ids:
            hint = (
                "append eos_id after the response"
                if input_ids.tolist() == prompt + response
                else "input_ids are the prompt, then the response, then eos_id"
            )
            fail(f"{where}: input_ids {input_ids.tolist()}, expected {expected_ids}: {hint}")
        got = labels.tolist()
        if got == expected_labels:
            continue
        if len(got) == len(expected_labels) and got[:-1] == expected_labels[1:]:
            hint = "labels are unshifted, aligned with input_ids: the loss shifts them by one, as causal_lm_loss did"
        elif prompt and got == expected_ids:
            hint = "-100 on the prompt: the loss counts the response only"
        elif got[-1:] == [-100]:
            hint = "the EOS is labelled, so that the model learns to predict it after a response"
        elif prompt and got[: len(prompt)] != [-100] * len(prompt):
            hint = "the prompt's labels are -100, the value the loss ignores (ignore_index=-100)"
        else:
            hint = "labels are -100 on the prompt and equal to input_ids on the response and its EOS"
        fail(f"{where}: labels {got}, expected {expected_labels}: {hint}")
    passed("sft_example: prompt, response and EOS; labels -100 on the prompt, the response and its EOS counted")


def pack_examples() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Example i: ids 10 i + 1, 10 i + 2, ...; labels the ids with the first PROMPT_LENGTHS[i] set to -100."""
    examples = []
    for i, (n, p) in enumerate(zip(PACK_LENGTHS, PROMPT_LENGTHS)):
        ids = torch.arange(10 * i + 1, 10 * i + 1 + n)
        examples.append((ids, torch.cat([torch.full((p,), -100), ids[p:]])))
    return examples


def _packed(pack: Callable, examples: list, context: int) -> list[torch.Tensor]:
    copies = [(ids.clone(), labels.clone()) for ids, labels in examples]
    result = call(pack, examples, context, PAD)
    if not (isinstance(result, tuple) and len(result) == 4):
        fail("pack should return a tuple (input_ids, labels, position_ids, document_ids)")
    if any(not (torch.equal(a, c) and torch.equal(b, d)) for (a, b), (c, d) in zip(examples, copies)):
        fail("pack modified the examples in place (an example's first label?): write into the new tensors only")
    n_rows = result[0].shape[0] if isinstance(result[0], torch.Tensor) and result[0].dim() == 2 else None
    for name, value in zip(("input_ids", "labels", "position_ids", "document_ids"), result):
        expect_tensor(value, f"pack's {name}", (n_rows or 0, context) if n_rows is not None else None)
        if value.dim() != 2 or value.dtype != torch.int64:
            fail(
                f"pack's {name} should be an int64 tensor of shape (N, context), got {value.dtype} {tuple(value.shape)}"
            )
    return list(result)


def check_pack(pack: Callable) -> None:
    examples = pack_examples()
    input_ids, labels, positions, documents = _packed(pack, examples, PACK_CONTEXT)
    where = f"pack of examples of lengths {list(PACK_LENGTHS)} into rows of {PACK_CONTEXT}"
    if len(documents) != len(PACKED_DOCUMENTS):
        hints = {
            1: "the last row is part of the output, full or not",
            3: "an example that exactly fills the rest of a row still goes into it",
        }
        fail(
            f"{where}: {len(documents)} rows, expected {len(PACKED_DOCUMENTS)}: "
            + hints.get(len(documents), "next-fit in order: start a new row only when an example does not fit")
        )
    got = documents.tolist()
    if got != PACKED_DOCUMENTS:
        hint = {
            str(FIRST_FIT_DOCUMENTS): "next-fit: once an example does not fit, its row is closed for good, "
            "even if a later example would fit in it",
            str(PER_ROW_DOCUMENTS): "document ids are the examples' indices in `examples`, counted over the whole list",
        }.get(str(got), "examples in order, never split, -1 on padding")
        fail(f"{where}: document_ids {got}, expected {PACKED_DOCUMENTS}: {hint}")
    real = documents >= 0
    if not torch.equal(input_ids[real], torch.cat([ids for ids, _ in examples])) or (input_ids[~real] != PAD).any():
        fail(
            f"{where}: input_ids {input_ids.tolist()}: each example's ids where it was placed, pad_id={PAD} on padding"
        )
    first = torch.zeros_like(real)
    first[:, 1:] = documents[:, 1:] != documents[:, :-1]
    first[:, 0] = True
    first &= real
    if (labels[first] != -100).any():
        fail(
            f"{where}: labels {labels.tolist()}: the first label of every example is -100, or it would be predicted "
            "from the end of the example before it"
        )
    rest = torch.cat([example_labels[1:] for _, example_labels in examples])
    if not torch.equal(labels[real & ~first], rest) or (labels[~real] != -100).any():
        fail(f"{where}: labels {labels.tolist()}: each example's labels where it was placed, -100 on padding")
    restart = torch.cat([torch.arange(n) for n in PACK_LENGTHS])
    if not torch.equal(positions[real], restart):
        fail(f"{where}: position_ids {positions.tolist()}: position ids restart at 0 for every example")
    if (positions[~real] != 0).any():
        fail(f"{where}: position_ids {positions.tolist()}: position 0 on padding")
    full = [(torch.arange(8), torch.arange(8)), (torch.arange(8) + 8, torch.arange(8) + 8)]
    if _packed(pack, full, 8)[3].tolist() != [[0] * 8, [1] * 8]:
        fail("pack of two examples of 8 tokens into rows of 8 should give two full rows, one example each")
    try:
        call(pack, [(torch.arange(9), torch.arange(9))], 8, PAD)
    except ValueError:
        pass
    else:
        fail("pack of an example of 9 tokens into rows of 8 should raise ValueError, not truncate or split it")
    passed("pack: next-fit in order, ids, labels (first of each example -100), positions and documents, padding")


def check_packed_attention_mask(packed_attention_mask: Callable) -> None:
    documents = torch.tensor(MASK_DOCUMENTS)
    N, T = documents.shape
    mask = call(packed_attention_mask, documents.clone())
    if isinstance(mask, torch.Tensor) and mask.dim() == 4:
        fail(f"the mask should have shape (N, T, T) = ({N}, {T}, {T}), got {tuple(mask.shape)}: no head dimension")
    expect_tensor(mask, "the mask", (N, T, T))
    if mask.dtype != torch.bool:
        fail(f"the mask should be bool (True = may attend), got {mask.dtype}")
    expected = fixture(mask_fixture_key()).bool()
    if torch.equal(mask, expected):
        passed("packed_attention_mask: causal within each document, nothing across documents or to padding")
        return
    where = f"packed_attention_mask of document_ids {MASK_DOCUMENTS}"
    extra, missing = mask & ~expected, expected & ~mask
    later = torch.ones(T, T, dtype=torch.bool).triu(1)
    padding = (documents < 0)[:, :, None] | (documents < 0)[:, None, :]
    if (extra & later).any():
        hint = "mask[n, i, j] is True for a key j after the query i: the mask is causal (j <= i)"
    elif (extra & padding).any():
        hint = "a padding position (document -1) attends to nothing and nothing attends to it"
    elif extra.any():
        hint = "a position attends to another document: the mask is block-diagonal, nothing across documents"
    elif missing.diagonal(dim1=1, dim2=2).any():
        hint = "a position may attend to itself (j = i)"
    else:
        hint = "within a document, a position may attend to every position up to itself"
    fail(f"{where}: {hint}")
