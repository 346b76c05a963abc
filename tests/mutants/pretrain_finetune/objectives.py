"""Plausible wrong implementations of 02_objectives.ipynb: each must be rejected by its exercise's grade cells,
and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

LOSS = (
    "    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)"
)
BODY = (
    "    targets = tokens[:, 1:]\n    if loss_mask is not None:\n        targets = targets.masked_fill(~loss_mask[:, 1:], -100)\n"
    + LOSS
)
CHOSEN = "    chosen = torch.rand(tokens.shape, generator=generator) < p"
RANDOM = "    inputs = torch.where(chosen & (action >= 0.8) & (action < 0.9), random_ids, inputs)"
Q1 = "q1_decoder_targets = len(span_corruption(torch.arange(2048), 32100, generator=torch.Generator().manual_seed(0))[1])"
SEGMENT = "        cuts = sorted((torch.randperm(n_items - 1, generator=generator)[: n_spans - 1] + 1).tolist())"

MUTANTS: dict[str, list[Mutant]] = {
    "causal_lm_loss": [
        Mutant(
            "no shift: logits[t] scored against tokens[t]",
            BODY,
            "    targets = tokens if loss_mask is None else tokens.masked_fill(~loss_mask, -100)\n"
            "    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)",
            hint="logits[:, t] predicts tokens[:, t + 1]",
        ),
        Mutant(
            "the mask read at the predicting position",
            "targets.masked_fill(~loss_mask[:, 1:], -100)",
            "targets.masked_fill(~loss_mask[:, :-1], -100)",
            hint="loss_mask[b, t] belongs to the target tokens[b, t]",
        ),
        Mutant(
            "mean of the rows' means",
            LOSS,
            "    per_token = F.cross_entropy(logits[:, :-1].transpose(1, 2), targets, ignore_index=-100, reduction='none')\n"
            "    counted = (targets != -100).sum(dim=1)\n"
            "    rows = counted > 0\n"
            "    return (per_token.sum(dim=1)[rows] / counted[rows]).mean()",
            hint="a mean over every counted target of the batch",
        ),
        Mutant(
            "masked targets count as zeros in the mean",
            LOSS,
            "    per_token = F.cross_entropy(logits[:, :-1].transpose(1, 2), targets, ignore_index=-100, reduction='none')\n"
            "    return per_token.mean()",
            hint="divide by the number of counted targets",
        ),
        Mutant(
            "the sum, not the mean",
            "targets.reshape(-1), ignore_index=-100)",
            "targets.reshape(-1), ignore_index=-100, reduction='sum')",
            hint="the mean over counted targets, not their sum",
        ),
        Mutant(
            "ignores the mask",
            "    if loss_mask is not None:\n        targets = targets.masked_fill(~loss_mask[:, 1:], -100)",
            "",
            hint="loss_mask is ignored",
        ),
        Mutant(
            "log of a softmax (overflows)",
            LOSS,
            "    logp = torch.log(torch.exp(logits[:, :-1]) / torch.exp(logits[:, :-1]).sum(-1, keepdim=True))\n"
            "    return F.nll_loss(logp.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)",
            hint="log-softmax",
        ),
        Mutant(
            "a float, not a tensor",
            LOSS,
            LOSS.replace("    return ", "    return float(") + ")",
            hint="should return a scalar tensor",
        ),
    ],
    "mlm_mask": [
        Mutant(
            "every chosen position becomes mask_id",
            RANDOM,
            "",
            hint="became mask_id",
        ),
        Mutant(
            "labels only where the input changed",
            "    return inputs, torch.where(chosen, tokens, -100)",
            "    return inputs, torch.where(chosen & (action < 0.9), tokens, -100)",
            hint="labels hold the original id at every chosen position",
        ),
        Mutant(
            "labels everywhere",
            "    return inputs, torch.where(chosen, tokens, -100)",
            "    return inputs, tokens.clone()",
            hint="-100 where a position is not chosen",
        ),
        Mutant(
            "special ids can be chosen",
            "        chosen &= ~torch.isin(tokens, torch.tensor(list(special_ids), dtype=tokens.dtype))",
            "        pass",
            hint="special ids were chosen",
        ),
        Mutant(
            "Hugging Face's rule misread: 10 % of the remaining 20 % random",
            "(action >= 0.8) & (action < 0.9)",
            "(action >= 0.8) & (action < 0.82)",
            hint="10 % a random id, 10 % unchanged",
        ),
        Mutant(
            "exactly round(p * T) positions per row",
            CHOSEN,
            "    ranks = torch.rand(tokens.shape, generator=generator).argsort(dim=-1).argsort(dim=-1)\n"
            "    chosen = ranks < round(p * tokens.shape[-1])",
            hint="independently",
        ),
        Mutant(
            "the same positions in every row",
            CHOSEN,
            "    chosen = (torch.rand(tokens.shape[-1], generator=generator) < p).expand(tokens.shape).clone()",
            hint="the same positions",
        ),
        Mutant(
            "random ids from [0, vocab_size - 1)",
            "torch.randint(0, vocab_size, tokens.shape",
            "torch.randint(0, vocab_size - 1, tokens.shape",
            hint="uniform over [0, vocab_size)",
        ),
        Mutant(
            "ignores the generator",
            CHOSEN,
            "    chosen = torch.rand(tokens.shape) < p",
            hint="draw every random number from `generator`",
        ),
        Mutant(
            "modifies the tokens in place",
            "    inputs = torch.where(chosen & (action < 0.8), mask_id, tokens)",
            "    tokens[chosen & (action < 0.8)] = mask_id\n    inputs = tokens",
            hint="modified the tokens in place",
        ),
    ],
    "span_corruption": [
        Mutant(
            "spans of equal length",
            SEGMENT,
            "        cuts = [round(k * n_items / n_spans) for k in range(1, n_spans)]",
            hint="every split equally likely",
        ),
        Mutant(
            "stick-breaking lengths",
            SEGMENT,
            "        cuts, start = [], 0\n"
            "        for left in range(n_spans - 1, 0, -1):\n"
            "            start += int(torch.randint(1, n_items - start - left + 1, (1,), generator=generator))\n"
            "            cuts.append(start)",
            hint="every split equally likely",
        ),
        Mutant(
            "cut points drawn with replacement",
            SEGMENT,
            "        cuts = sorted((torch.randint(1, max(n_items, 2), (n_spans - 1,), generator=generator)).tolist())",
            hint="empty",
        ),
        Mutant(
            "floor instead of round",
            "    n_noise = min(max(round(length * noise_density), 1), length - 1)\n"
            "    n_spans = min(max(round(n_noise / mean_span_length), 1), n_noise, length - n_noise)",
            "    n_noise = min(max(int(length * noise_density), 1), length - 1)\n"
            "    n_spans = min(max(int(n_noise / mean_span_length), 1), n_noise, length - n_noise)",
            hint="round(len(tokens) * noise_density)",
        ),
        Mutant(
            "sentinels counting up",
            "        sentinel = tokens.new_tensor([sentinel_start - k])",
            "        sentinel = tokens.new_tensor([sentinel_start + k])",
            hint="sentinel_start - k",
        ),
        Mutant(
            "no closing sentinel",
            "    targets.append(tokens.new_tensor([sentinel_start - n_spans]))\n",
            "",
            hint="closing sentinel",
        ),
        Mutant(
            "starts with a noise span",
            "        inputs += [tokens[start : start + kept], sentinel]\n"
            "        targets += [sentinel, tokens[start + kept : start + kept + noise]]",
            "        inputs += [sentinel, tokens[start + noise : start + noise + kept]]\n"
            "        targets += [sentinel, tokens[start : start + noise]]",
            hint="start with a kept run",
        ),
        Mutant(
            "no cap on the number of spans",
            "min(max(round(n_noise / mean_span_length), 1), n_noise, length - n_noise)",
            "max(round(n_noise / mean_span_length), 1)",
            hint="at most",
        ),
        Mutant(
            "ignores the generator",
            "torch.randperm(n_items - 1, generator=generator)",
            "torch.randperm(n_items - 1)",
            hint="draw every random number from `generator`",
        ),
    ],
    "interview_answers": [
        Mutant(
            "Q1: the noise tokens alone, no sentinels",
            Q1,
            "q1_decoder_targets = round(2048 * 0.15)",
        ),
        Mutant(
            "Q1: no closing sentinel",
            Q1,
            Q1 + " - 1",
        ),
        Mutant(
            "Q1: the encoder's inputs",
            "manual_seed(0))[1])",
            "manual_seed(0))[0])",
        ),
        Mutant(
            "Q2: position 0, which is never a target, as the first byte",
            "first[:, 1], late[:, 64:] = True, True",
            "first[:, 0], late[:, 64:] = True, True",
        ),
        Mutant(
            "Q2: the inverse ratio",
            "(causal_lm_loss(q2_logits, q2_windows, first) / causal_lm_loss(q2_logits, q2_windows, late))",
            "(causal_lm_loss(q2_logits, q2_windows, late) / causal_lm_loss(q2_logits, q2_windows, first))",
        ),
        Mutant(
            "Q2: over every target rather than positions 64-127",
            "causal_lm_loss(q2_logits, q2_windows, late)",
            "causal_lm_loss(q2_logits, q2_windows)",
        ),
        Mutant(
            "Q3: bidirectional context beats six times the targets",
            'q3_data_efficiency = "c"',
            'q3_data_efficiency = "a"',
        ),
        Mutant("Q3: mask everything at no cost", 'q3_data_efficiency = "c"', 'q3_data_efficiency = "b"'),
    ],
}
