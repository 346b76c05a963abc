"""Judges of 04_norms_rnn_conv.ipynb: PyTorch's layer_norm, batch_norm, lstm_cell, gru_cell and conv2d."""

from __future__ import annotations

from typing import Any

import torch

from autograde.hidden import Case
from autograde.judge import Choice, Number, answer_key, expect, expect_close, judge, probes_for

hidden = probes_for(__name__)


@judge(hidden.layer_norm)
def judge_layer_norm(c: Case, y: Any) -> None:
    x, weight, bias = c.args
    ref = torch.nn.functional.layer_norm(x, x.shape[-1:], weight, bias, eps=c.kwargs.get("eps", 1e-5))
    tolerance = 1e-4 if x.dtype == torch.float32 else 1e-8
    expect_close(y, ref, "normalized x", rtol=tolerance, atol=tolerance)


@judge(hidden.batch_norm_train, hidden.batch_norm_eval)
def judge_batch_norm(c: Case, out: hidden.Normalized) -> None:
    weight, bias, running_mean, running_var, training = c.args
    running_mean, running_var = running_mean.clone(), running_var.clone()
    kwargs = {"momentum": c.kwargs.get("momentum", 0.1), "eps": c.kwargs.get("eps", 1e-5)}
    for k, (x, y) in enumerate(zip(c.extra["xs"], out.outputs, strict=True), start=1):
        ref = torch.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training=training, **kwargs)
        expect_close(y, ref, f"output for batch {k}", rtol=1e-8, atol=1e-9)
    expect_close(out.running_mean, running_mean, "running_mean afterwards", rtol=1e-8, atol=1e-10)
    expect_close(out.running_var, running_var, "running_var afterwards", rtol=1e-8, atol=1e-10)


@judge(hidden.lstm_cell)
def judge_lstm_cell(c: Case, out: Any) -> None:
    x, h, cell, W_ih, W_hh, b_ih, b_hh = c.args
    expect(isinstance(out, list) and len(out) == 2, "should return a tuple of 2 tensors (h_next, c_next)")
    ref_h, ref_c = torch.lstm_cell(x, (h, cell), W_ih, W_hh, b_ih, b_hh)
    expect_close(out[1], ref_c, "c_next", rtol=1e-9, atol=1e-9)
    expect_close(out[0], ref_h, "h_next", rtol=1e-9, atol=1e-9)


@judge(hidden.gru_cell)
def judge_gru_cell(c: Case, h: Any) -> None:
    expect_close(h, torch.gru_cell(*c.args), "h_next", rtol=1e-9, atol=1e-9)


@judge(hidden.conv2d, hidden.conv2d_stride_padding)
def judge_conv2d(c: Case, out: Any) -> None:
    expect_close(out, torch.nn.functional.conv2d(*c.args, **c.kwargs), "output", rtol=1e-9, atol=1e-9)


def _padded_token() -> float:
    """torch's BatchNorm (training) of the feature [2, 4, 6, 8] padded with six zeros: the value at the 4."""
    padded = torch.tensor([[[2.0, 4.0, 6.0, 8.0] + [0.0] * 6]], dtype=torch.float64)
    stats = torch.zeros(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    return torch.nn.functional.batch_norm(padded, *stats, training=True)[0, 0, 1].item()


def _cell_gradient() -> float:
    """||d sum(c_50) / d c_0|| of torch.nn.LSTMCell(4, 16) (seed 1, forget-gate bias + 3) on 50 random inputs."""
    torch.manual_seed(1)
    cell = torch.nn.LSTMCell(4, 16)
    with torch.no_grad():
        cell.bias_hh[16:32] += 3.0
    inputs = torch.randn(50, 1, 4)
    c0 = torch.zeros(1, 16, requires_grad=True)
    h, c = torch.zeros(1, 16), c0
    for x in inputs:
        h, c = cell(x, (h, c))
    return torch.autograd.grad(c.sum(), c0)[0].norm().item()


answer_key(
    hidden,
    {
        "q1_padded_token": Number(_padded_token()),
        "q2_cell_gradient": Number(_cell_gradient()),
        "q3_transformer": Choice("a"),
    },
)
