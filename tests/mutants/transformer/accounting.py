"""Plausible wrong implementations of 04_accounting.ipynb: each must be rejected by its exercise's
grade cells, and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

MUTANTS: dict[str, list[Mutant]] = {
    "gpt2_param_count": [
        Mutant(
            "counts a separate output head",
            "return embeddings + n_layers * block + layer_norm",
            "return embeddings + n_layers * block + layer_norm + vocab * d",
            hint="counted a separate output head",
        ),
        Mutant(
            "forgets the biases of the Linear layers",
            "attention = (d * 3 * d + 3 * d) + (d * d + d)  # qkv and output projections, with biases\n    mlp = (d * d_ff + d_ff) + (d_ff * d + d)",
            "attention = (d * 3 * d) + (d * d)\n    mlp = (d * d_ff) + (d_ff * d)",
            hint="every Linear in GPT-2 has one",
        ),
        Mutant(
            "forgets the MLP biases",
            "mlp = (d * d_ff + d_ff) + (d_ff * d + d)",
            "mlp = (d * d_ff) + (d_ff * d)",
            hint="forgot the biases of the MLP",
        ),
        Mutant(
            "forgets the final LayerNorm",
            "return embeddings + n_layers * block + layer_norm",
            "return embeddings + n_layers * block",
            hint="forgot the final LayerNorm",
        ),
        Mutant(
            "LayerNorm without a bias",
            "layer_norm = 2 * d  # weight and bias",
            "layer_norm = d",
            hint="a LayerNorm has a bias as well as a weight",
        ),
        Mutant(
            "one LayerNorm per block",
            "block = 2 * layer_norm + attention + mlp",
            "block = layer_norm + attention + mlp",
            hint="each block has two LayerNorms",
        ),
        Mutant(
            "forgets the position embeddings",
            "embeddings = vocab * d + context * d",
            "embeddings = vocab * d",
            hint="forgot the learned position embeddings",
        ),
        Mutant(
            "qkv projection d -> d",
            "attention = (d * 3 * d + 3 * d) + (d * d + d)",
            "attention = (d * d + d) + (d * d + d)",
            hint="the qkv projection maps d_model to 3*d_model",
        ),
        Mutant(
            "ignores an explicit d_ff",
            "    if d_ff is None:\n        d_ff = 4 * d\n",
            "    d_ff = 4 * d\n",
            hint="ignores d_ff",
        ),
        Mutant("d_ff defaults to d_model", "d_ff = 4 * d\n", "d_ff = d\n", hint="d_ff defaults to 4*d_model"),
        Mutant(
            "returns a float",
            "return embeddings + n_layers * block + layer_norm",
            "return float(embeddings + n_layers * block + layer_norm)",
            hint="return a Python int",
        ),
    ],
    "forward_flops_per_token": [
        Mutant(
            "forgets the factor 2 on N",
            "return 2 * n_params + 2 * n_layers * context * d_model",
            "return n_params + 2 * n_layers * context * d_model",
            hint="each parameter costs 2 FLOPs per token",
        ),
        Mutant(
            "forgets the attention term",
            "return 2 * n_params + 2 * n_layers * context * d_model",
            "return 2 * n_params",
            hint="forgot the attention term",
        ),
        Mutant(
            "attention term without the factor 2",
            "return 2 * n_params + 2 * n_layers * context * d_model",
            "return 2 * n_params + n_layers * context * d_model",
            hint="a multiply-add is 2 FLOPs there too",
        ),
        Mutant(
            "training cost 6N",
            "return 2 * n_params + 2 * n_layers * context * d_model",
            "return 6 * n_params + 2 * n_layers * context * d_model",
            hint="6N is the training cost",
        ),
        Mutant(
            "attention term quadratic in the context",
            "return 2 * n_params + 2 * n_layers * context * d_model",
            "return 2 * n_params + 2 * n_layers * context**2 * d_model",
            hint="the attention term per token is linear in the context",
        ),
        Mutant(
            "counts multiply-adds",
            "return 2 * n_params + 2 * n_layers * context * d_model",
            "return n_params + n_layers * context * d_model",
            demo=("forward_flops_per_token_test",),
            hint="counted multiply-adds, not FLOPs",
        ),
    ],
    "interview_answers": [
        Mutant(
            "Q1: the complement (the blocks' share)",
            "q1_embedding_share = (32000 + 4096) * 2048 / gpt2_param_count(32000, 4096, 2048, 24)",
            "q1_embedding_share = 1 - (32000 + 4096) * 2048 / gpt2_param_count(32000, 4096, 2048, 24)",
        ),
        Mutant(
            "Q1: the token embedding alone",
            "q1_embedding_share = (32000 + 4096) * 2048 / gpt2_param_count(32000, 4096, 2048, 24)",
            "q1_embedding_share = 32000 * 2048 / gpt2_param_count(32000, 4096, 2048, 24)",
        ),
        Mutant(
            "Q1: the untied head counted too",
            "q1_embedding_share = (32000 + 4096) * 2048 / gpt2_param_count(32000, 4096, 2048, 24)",
            "q1_embedding_share = (32000 + 4096) * 2048 / (gpt2_param_count(32000, 4096, 2048, 24) + 32000 * 2048)",
        ),
        Mutant(
            "Q1: GPT-2 small's share, from the table",
            "q1_embedding_share = (32000 + 4096) * 2048 / gpt2_param_count(32000, 4096, 2048, 24)",
            "q1_embedding_share = 0.316",
        ),
        Mutant(
            "Q1: a percentage",
            "q1_embedding_share = (32000 + 4096) * 2048 / gpt2_param_count(32000, 4096, 2048, 24)",
            "q1_embedding_share = 100 * (32000 + 4096) * 2048 / gpt2_param_count(32000, 4096, 2048, 24)",
        ),
        Mutant("Q2: no vocabulary head", 'q2_model_for_job = "a"', 'q2_model_for_job = "b"'),
        Mutant("Q2: a 512-token limit", 'q2_model_for_job = "a"', 'q2_model_for_job = "c"'),
        Mutant("Q3: Adam's extra passes", 'q3_training_6n = "c"', 'q3_training_6n = "a"'),
        Mutant("Q3: the forward recomputed", 'q3_training_6n = "c"', 'q3_training_6n = "b"'),
    ],
}
