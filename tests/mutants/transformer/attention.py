"""Plausible wrong implementations of 01_attention.ipynb: each must be rejected by its exercise's
grade cells, and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

MUTANTS: dict[str, list[Mutant]] = {
    "softmax": [
        Mutant(
            "no max subtraction (overflows)",
            "shifted = x - x.amax(dim=dim, keepdim=True)",
            "shifted = x",
            hint="subtract each row's maximum before exp",
        ),
        Mutant(
            "subtracts the global maximum instead of each slice's",
            "shifted = x - x.amax(dim=dim, keepdim=True)",
            "shifted = x - x.max()",
            hint="subtract each row's own maximum (along dim, keepdim=True)",
        ),
        Mutant("always normalizes over the last axis", "dim=dim", "dim=-1", hint="reduce along the `dim` argument"),
        Mutant(
            "sums over every element",
            "e / e.sum(dim=dim, keepdim=True)",
            "e / e.sum()",
            hint="sum only along `dim` (keepdim=True), not over every element",
        ),
        Mutant(
            "forgets keepdim in the sum",
            "e / e.sum(dim=dim, keepdim=True)",
            "e / e.sum(dim=dim)",
            hint="weights do not sum to 1 along dim",
        ),
        Mutant("forgets keepdim in the max", "x.amax(dim=dim, keepdim=True)", "x.amax(dim=dim)"),
        Mutant("calls torch.softmax", "return e / e.sum(dim=dim, keepdim=True)", "return torch.softmax(x, dim=dim)"),
    ],
    "scaled_dot_product_attention": [
        Mutant(
            "no 1/sqrt(d) scale",
            "scores = q @ k.transpose(-2, -1) / math.sqrt(d)",
            "scores = q @ k.transpose(-2, -1)",
            hint="forgot the 1/sqrt(d) scale",
        ),
        Mutant("scales by 1/d instead of 1/sqrt(d)", "/ math.sqrt(d)", "/ d", hint="the scores are divided by d"),
        Mutant(
            "mask inverted (True = hidden)",
            "scores.masked_fill(~mask,",
            "scores.masked_fill(mask,",
            hint="mask used with the wrong meaning",
        ),
        Mutant(
            "-inf fill: NaN on fully masked rows",
            "torch.finfo(scores.dtype).min",
            'float("-inf")',
            hint="a fully masked row gives NaN",
        ),
        Mutant(
            "fully masked rows become uniform",
            "weights = weights * mask",
            "weights = weights",
            hint="not a uniform average",
        ),
        Mutant("mask ignored", "if mask is not None:\n        scores", "if False:\n        scores"),
        Mutant(
            "k.T instead of k.transpose(-2, -1)",
            "k.transpose(-2, -1)",
            "k.T",
            hint="transpose only the last two axes of k",
        ),
        Mutant(
            "scale from the values' dimension",
            "d = q.shape[-1]",
            "d = v.shape[-1]",
            hint="the scale uses the values' dimension",
        ),
        Mutant(
            "queries and keys swapped",
            "q @ k.transpose(-2, -1)",
            "k @ q.transpose(-2, -1)",
            hint="queries and keys are swapped",
        ),
        Mutant(
            "calls torch's fused attention",
            "return weights @ v, weights",
            "return torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask), weights",
        ),
        # last, beyond the softmax mutants: in tests/test_grading.py's cohort it would otherwise meet the
        # softmax mutant "always normalizes over the last axis", which cancels it
        Mutant(
            "softmax over the queries (dim=-2)",
            "weights = softmax(scores, dim=-1)",
            "weights = softmax(scores, dim=-2)",
            hint="they sum to 1 over the queries",
        ),
    ],
    "masks": [
        Mutant(
            "causal mask j < i (no diagonal)",
            "torch.tril(torch.ones(T, T, dtype=torch.bool))",
            "torch.tril(torch.ones(T, T, dtype=torch.bool), diagonal=-1)",
            hint="the diagonal is False",
        ),
        Mutant(
            "causal mask transposed (upper triangle)",
            "torch.tril(torch.ones(T, T, dtype=torch.bool))",
            "torch.triu(torch.ones(T, T, dtype=torch.bool))",
            hint="True above the diagonal",
        ),
        Mutant(
            "causal mask of floats",
            "torch.tril(torch.ones(T, T, dtype=torch.bool))",
            "torch.tril(torch.ones(T, T))",
            hint="masks are boolean tensors (torch.bool)",
        ),
        Mutant(
            "padding mask of shape (B, T)",
            "(j[None, :] < lengths[:, None])[:, None, None, :]",
            "j[None, :] < lengths[:, None]",
            hint="return (B, 1, 1, T) so that it broadcasts over heads and queries",
        ),
        Mutant(
            "padding mask j <= lengths",
            "j[None, :] < lengths[:, None]",
            "j[None, :] <= lengths[:, None]",
            hint="positions 0 .. lengths[b] - 1 are real tokens (j < lengths[b])",
        ),
        Mutant(
            "padding mask inverted (True on padding)",
            "j[None, :] < lengths[:, None]",
            "j[None, :] >= lengths[:, None]",
            hint="True marks the real tokens (those that may be attended to)",
        ),
        Mutant("padding mask of shape (B, 1, T, 1)", "[:, None, None, :]", "[:, None, :, None]"),
        Mutant(
            "prefix LM without the causal part",
            "return causal_mask(T) | (j < prefix_len)[None, :]",
            "return (j < prefix_len)[None, :].expand(T, T)",
            hint="after the prefix, tokens still attend causally (j <= i)",
        ),
        Mutant(
            "prefix LM j <= prefix_len",
            "(j < prefix_len)[None, :]",
            "(j <= prefix_len)[None, :]",
            hint="positions 0 .. prefix_len - 1 form the prefix (j < prefix_len)",
        ),
        Mutant(
            "prefix queries see everything instead of prefix keys",
            "(j < prefix_len)[None, :]",
            "(j < prefix_len)[:, None]",
            hint="it is the keys j < prefix_len that every query may see",
        ),
    ],
    "multi_head_attention": [
        Mutant(
            "GQA maps query head h to kv head h % n_kv_heads",
            "repeat_interleave(group, dim=1)",
            "repeat(1, group, 1, 1)",
            hint="consecutive query heads share a kv head",
        ),
        Mutant(
            "forgets the output projection W_o", "return out @ W_o.T", "return out", hint="forgot the output projection"
        ),
        Mutant(
            "merges heads without transposing back",
            "out = out.transpose(1, 2).reshape(B, T, d_model)",
            "out = out.reshape(B, T, d_model)",
        ),
        Mutant(
            "splits heads with view(B, n_heads, T, d_head), no transpose",
            "q = (x @ W_q.T).view(B, T, n_heads, d_head).transpose(1, 2)",
            "q = (x @ W_q.T).view(B, n_heads, T, d_head)",
        ),
        Mutant(
            "splits heads as (d_head, n_heads): strided features per head",
            "view(B, T, n_heads, d_head).transpose(1, 2)",
            "view(B, T, d_head, n_heads).permute(0, 3, 1, 2)",
        ),
        Mutant(
            "an implicit causal mask",
            "out, _ = scaled_dot_product_attention(q, k, v, mask)",
            "out, _ = scaled_dot_product_attention(q, k, v, causal_mask(T) if mask is None else mask)",
            hint="with mask=None every token attends to every token",
        ),
        Mutant(
            "mask ignored",
            "out, _ = scaled_dot_product_attention(q, k, v, mask)",
            "out, _ = scaled_dot_product_attention(q, k, v)",
            hint="the mask is ignored",
        ),
        Mutant(
            "projects with W instead of W.T",
            "return out @ W_o.T",
            "return out @ W_o",
            hint="weights are (d_out, d_in): project with x @ W.T",
        ),
        Mutant("values projected with W_k", "v = (x @ W_v.T)", "v = (x @ W_k.T)"),
    ],
    "interview_answers": [
        # the first two stay wrong next to the attention exercise's first two mutants (tests/test_grader_mutants.py)
        Mutant("Q1: multiplies the query by d instead of sqrt(d)", "query * 64**0.5", "query * 64"),
        Mutant("Q1: the scaled weights", "query * 64**0.5", "query"),
        Mutant(
            "Q1: the largest output instead of the largest weight",
            "keys, keys)[1].max().item()\n",
            "keys, keys)[0].max().item()\n",
        ),
        Mutant(
            "Q2: every query head cached",
            "q2_kv_cache_gib = 2 * 32 * 8 * 128",
            "q2_kv_cache_gib = 2 * 32 * 32 * 128",
        ),
        Mutant("Q2: the keys only", "q2_kv_cache_gib = 2 * 32 * 8 * 128", "q2_kv_cache_gib = 1 * 32 * 8 * 128"),
        Mutant("Q2: GB instead of GiB", "/ 2**30  # K and V", "/ 1e9  # K and V"),
        Mutant("Q2: float32", "* 8192 * 2 / 2**30", "* 8192 * 4 / 2**30"),
        Mutant("Q2: a string instead of a number", "q2_kv_cache_gib = 2 * 32", 'q2_kv_cache_gib = "1.0"  # 2 * 32'),
        Mutant("Q3: fewer FLOPs", 'q3_attention_parallel = "c"', 'q3_attention_parallel = "a"'),
        Mutant("Q3: linear in T", 'q3_attention_parallel = "c"', 'q3_attention_parallel = "b"'),
    ],
}
