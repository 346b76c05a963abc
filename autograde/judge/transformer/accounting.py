"""Judges of 04_accounting.ipynb: GPT-2 counted from torch.nn modules, Kaplan et al.'s FLOP formula."""

from __future__ import annotations

from typing import Any

from autograde.hidden import Case
from autograde.judge import Choice, Number, answer_key, close_number, expect, judge, probes_for, references

hidden = probes_for(__name__)


@judge(hidden.gpt2_param_count, hidden.gpt2_param_count_d_ff)
def judge_gpt2_param_count(c: Case, count: Any) -> None:
    expect(isinstance(count, int) and not isinstance(count, bool), "should return an int")
    expect(count == references.gpt2_param_count(*c.args), "wrong parameter count")


@judge(hidden.forward_flops_per_token)
def judge_forward_flops_per_token(c: Case, flops: Any) -> None:
    n_params, n_layers, context, d_model = c.args
    expected = 2 * n_params + 2 * n_layers * context * d_model  # Kaplan et al. 2020, Table 1
    expect(close_number(flops, expected, rel=1e-9, abs_=1e-6), "wrong FLOP count")


answer_key(
    hidden,
    {
        # token + position embeddings of a GPT-2 with V = 32000, C = 4096, d = 2048, 24 layers
        "q1_embedding_share": Number(
            (32000 + 4096) * 2048 / references.gpt2_param_count(32000, 4096, 2048, 24), rel=0, abs=0.001
        ),
        "q2_model_for_job": Choice("a"),
        "q3_training_6n": Choice("c"),
    },
)
