"""Plausible wrong implementations of 03_sft.ipynb: each must be rejected by its exercise's grade cells,
and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

SFT_RETURN = "    return torch.cat([prompt_ids, answer]), torch.cat([torch.full_like(prompt_ids, -100), answer])"
FITS = "        if len(ids) > free:"
PLACE = "            input_ids[r, span], labels[r, span] = ids, example_labels"
FIRST_LABEL = "            labels[r, start] = -100\n"
POSITIONS = "            position_ids[r, span] = torch.arange(len(ids))"
MASK_RETURN = "    return same & causal & (document_ids >= 0)[:, :, None]"
Q1 = "q1_packed_rows = len(pack(q_examples, 192, 0)[0])"
Q2_PLAIN = "F.cross_entropy(q2_plain[:, :-1].transpose(1, 2), q2_labels[:, 1:], ignore_index=-100)"
Q2_MASKED = "F.cross_entropy(q2_masked[:, :-1].transpose(1, 2), q2_labels[:, 1:], ignore_index=-100)"

MUTANTS: dict[str, list[Mutant]] = {
    "sft_example": [
        Mutant(
            "no EOS appended",
            SFT_RETURN,
            "    return torch.cat([prompt_ids, response_ids]), torch.cat([torch.full_like(prompt_ids, -100), response_ids])",
            hint="append eos_id after the response",
        ),
        Mutant(
            "labels shifted by one (the next token's id at each position)",
            SFT_RETURN,
            "    ids = torch.cat([prompt_ids, answer])\n"
            "    labels = torch.cat([torch.full_like(prompt_ids, -100), answer])\n"
            "    return ids, torch.cat([labels[1:], labels.new_tensor([-100])])",
            hint="labels are unshifted, aligned with input_ids",
        ),
        Mutant(
            "the prompt labelled too",
            SFT_RETURN,
            "    return torch.cat([prompt_ids, answer]), torch.cat([prompt_ids, answer])",
            hint="-100 on the prompt: the loss counts the response only",
        ),
        Mutant(
            "the EOS not labelled",
            SFT_RETURN,
            "    labels = torch.cat([torch.full_like(prompt_ids, -100), response_ids, response_ids.new_tensor([-100])])\n"
            "    return torch.cat([prompt_ids, answer]), labels",
            hint="the EOS is labelled",
        ),
        Mutant(
            "0 instead of -100 on the prompt",
            "torch.full_like(prompt_ids, -100)",
            "torch.zeros_like(prompt_ids)",
            hint="the prompt's labels are -100, the value the loss ignores",
        ),
        Mutant(
            "the EOS put before the response",
            "    answer = torch.cat([response_ids, response_ids.new_tensor([eos_id])])",
            "    answer = torch.cat([response_ids.new_tensor([eos_id]), response_ids])",
            hint="input_ids are the prompt, then the response, then eos_id",
        ),
    ],
    "pack": [
        Mutant(
            "first-fit: a later example goes back into an earlier row with room",
            FITS + "\n            rows.append([])\n            free = context\n        rows[-1].append(i)\n",
            "        used = [sum(len(examples[j][0]) for j in row) for row in rows]\n"
            "        fits = [r for r, n in enumerate(used) if n + len(ids) <= context]\n"
            "        if not fits:\n"
            "            rows.append([])\n"
            "            fits = [len(rows) - 1]\n"
            "        rows[fits[0]].append(i)\n",
            hint="next-fit: once an example does not fit, its row is closed for good",
        ),
        Mutant(
            "document ids counted within each row",
            "            document_ids[r, span] = i",
            "            document_ids[r, span] = row.index(i)",
            hint="document ids are the examples' indices in `examples`, counted over the whole list",
        ),
        Mutant(
            "an example that exactly fills the rest of a row starts a new one",
            FITS,
            "        if len(ids) >= free:",
            hint="an example that exactly fills the rest of a row still goes into it",
        ),
        Mutant(
            "the last row dropped (a loop over the rows that closes one when the next starts)",
            "    return input_ids, labels, position_ids, document_ids",
            "    keep = slice(0, max(len(rows) - 1, 1))\n"
            "    return input_ids[keep], labels[keep], position_ids[keep], document_ids[keep]",
            hint="the last row is part of the output",
        ),
        Mutant(
            "each example's first label kept",
            FIRST_LABEL,
            "",
            hint="the first label of every example is -100",
        ),
        Mutant(
            "positions counted along the row, not restarted per example",
            POSITIONS,
            "            position_ids[r, span] = torch.arange(start, start + len(ids))",
            hint="position ids restart at 0 for every example",
        ),
        Mutant(
            "padding positions continue the row's count",
            "    position_ids = torch.zeros(shape, dtype=torch.long)",
            "    position_ids = torch.arange(context).repeat(len(rows), 1)",
            hint="position 0 on padding",
        ),
        Mutant(
            "padding labelled with pad_id",
            "    labels = torch.full(shape, -100, dtype=torch.long)",
            "    labels = torch.full(shape, pad_id, dtype=torch.long)",
            hint="-100 on padding",
        ),
        Mutant(
            "padding ids 0 rather than pad_id",
            "    input_ids = torch.full(shape, pad_id, dtype=torch.long)",
            "    input_ids = torch.zeros(shape, dtype=torch.long)",
            hint="pad_id=99 on padding",
        ),
        Mutant(
            "an example's first label set to -100 in the example itself",
            PLACE + "\n" + FIRST_LABEL,
            "            example_labels[0] = -100\n" + PLACE + "\n",
            hint="pack modified the examples in place",
        ),
        Mutant(
            "a too-long example truncated to the context",
            '            raise ValueError(f"example {i} has {len(ids)} tokens, more than the context of {context}")',
            "            examples = [*examples[:i], (ids[:context], examples[i][1][:context]), *examples[i + 1 :]]\n"
            "            ids = ids[:context]",
            hint="should raise ValueError, not truncate or split it",
        ),
        Mutant(
            "padding document id 0 rather than -1",
            "    document_ids = torch.full(shape, -1, dtype=torch.long)",
            "    document_ids = torch.zeros(shape, dtype=torch.long)",
        ),
        Mutant(
            "examples sorted by length before packing (their document ids still the original indices)",
            "    for i, (ids, _) in enumerate(examples):",
            "    for i, (ids, _) in sorted(enumerate(examples), key=lambda item: -len(item[1][0])):",
        ),
    ],
    "packed_attention_mask": [
        Mutant(
            "a plain causal mask: documents ignored",
            MASK_RETURN,
            "    return causal.expand(document_ids.shape[0], T, T).clone()",
            hint="a padding position (document -1) attends to nothing",
        ),
        Mutant(
            "same document, not causal",
            MASK_RETURN,
            "    return same & (document_ids >= 0)[:, :, None]",
            hint="the mask is causal (j <= i)",
        ),
        Mutant(
            "padding not excluded (padding attends to padding)",
            MASK_RETURN,
            "    return same & causal",
            hint="a padding position (document -1) attends to nothing and nothing attends to it",
        ),
        Mutant(
            "causal and not padding, but across documents",
            MASK_RETURN,
            "    real = document_ids >= 0\n    return causal & real[:, :, None] & real[:, None, :]",
            hint="a position attends to another document",
        ),
        Mutant(
            "strictly causal: a position cannot attend to itself",
            ".tril()",
            ".tril(-1)",
            hint="a position may attend to itself (j = i)",
        ),
        Mutant(
            "a head dimension: (N, 1, T, T)",
            MASK_RETURN,
            "    return (same & causal & (document_ids >= 0)[:, :, None])[:, None]",
            hint="no head dimension",
        ),
        Mutant(
            "only the first position of each document's block",
            MASK_RETURN,
            "    first = torch.zeros_like(same)\n"
            "    first[:, :, 0] = True\n"
            "    start = torch.cat([torch.ones_like(document_ids[:, :1], dtype=torch.bool),"
            " document_ids[:, 1:] != document_ids[:, :-1]], 1)\n"
            "    keep = (same & causal & (document_ids >= 0)[:, :, None]) & (start[:, None, :] | torch.eye(T, dtype=torch.bool))\n"
            "    return keep",
            hint="within a document, a position may attend to every position up to itself",
        ),
    ],
    "interview_answers": [
        Mutant("Q1: rows of 256 rather than 192", Q1, Q1.replace("192", "256")),
        Mutant("Q1: one row per example", Q1, "q1_packed_rows = len(q_examples)"),
        Mutant(
            "Q1: the number of tokens over the row length",
            Q1,
            "q1_packed_rows = sum(len(x) for x, _ in q_examples) / 192",
        ),
        Mutant("Q2: the sign flipped", f"    {Q2_PLAIN}\n    - {Q2_MASKED}", f"    {Q2_MASKED}\n    - {Q2_PLAIN}"),
        Mutant("Q2: in nats", ").item() / math.log(2)", ").item()"),
        Mutant("Q2: the first 40 examples", "q_examples[-40:]", "q_examples[:40]"),
        Mutant("Q3: (a), the last checkpoint", 'q3_overfitting = "c"', 'q3_overfitting = "a"'),
        Mutant("Q3: (b), divergence", 'q3_overfitting = "c"', 'q3_overfitting = "b"'),
    ],
}
