"""Hidden tests of 04_norms_rnn_conv.ipynb: layer and batch normalization, LSTM and GRU cells, convolution
(no expected values here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from autograde.hidden import Case, Forbidden, answers, probe, randn


@probe("layer_norm", forbidden=Forbidden(ops=("native_layer_norm", "layer_norm"), names=("layer_norm", "LayerNorm")))
def layer_norm(g: torch.Generator) -> list[Case]:
    cases = []
    for shape, dtype, eps, offset, what in [
        ((4, 8), torch.float64, None, 0.0, ""),
        ((2, 3, 16), torch.float32, None, 5.0, ", offset by 5"),
        ((5, 1), torch.float64, None, 0.0, ", a feature dimension of 1"),
        ((3, 7), torch.float64, 0.5, 1.0, ", eps=0.5"),
    ]:
        d = shape[-1]
        x = randn(g, *shape, dtype=dtype, scale=3.0) + offset
        weight, bias = randn(g, d, dtype=dtype), randn(g, d, dtype=dtype)
        cases.append(Case(f"x {shape} {dtype}{what}", (x, weight, bias), {} if eps is None else {"eps": eps}))
    return cases


@dataclass
class Normalized:
    outputs: list[torch.Tensor]  # batch_norm's result for each batch, in order
    running_mean: torch.Tensor  # the running statistics after the last batch
    running_var: torch.Tensor


def _normalize_batches(batch_norm: Any, c: Case) -> Normalized:
    """The case's batches in sequence through the same running statistics (c.args[2:4], updated in place)."""
    outputs = [batch_norm(x, *c.args, **c.kwargs) for x in c.extra["xs"]]
    return Normalized(outputs, c.args[2], c.args[3])


def _bn_case(
    g: torch.Generator, shape: tuple[int, ...], training: bool, momentum: float | None, eps: float | None, batches: int
) -> Case:
    """`batches` batches of `shape` with per-channel offsets; args (weight, bias, running_mean, running_var, training)."""
    c = shape[1]
    xs = [randn(g, *shape, scale=2.0) + 3.0 * randn(g, 1, c, *([1] * (len(shape) - 2))) for _ in range(batches)]
    args = (randn(g, c), randn(g, c), randn(g, c), randn(g, c).abs() + 0.5, training)
    kwargs = {k: v for k, v in (("momentum", momentum), ("eps", eps)) if v is not None}
    settings = "".join(f", {k}={v}" for k, v in kwargs.items())
    label = f"x {shape}, {batches} batch{'es' if batches > 1 else ''}{settings}"
    return Case(label, args, kwargs, extra={"xs": xs})


BATCH_NORM = Forbidden(
    ops=("native_batch_norm", "_native_batch_norm_legit.*", "batch_norm", "_batch_norm_impl_index", "cudnn_batch_norm"),
    names=("batch_norm", "BatchNorm1d", "BatchNorm2d", "_BatchNorm"),
)


@probe("batch_norm (training)", run=_normalize_batches, output=Normalized, forbidden=BATCH_NORM)
def batch_norm_train(g: torch.Generator) -> list[Case]:
    return [
        _bn_case(g, (16, 5), True, None, None, 2),
        _bn_case(g, (6, 4, 7), True, 0.3, None, 2),
        _bn_case(g, (3, 2, 5), True, 0.05, 1e-2, 3),
        _bn_case(g, (2, 6), True, None, None, 1),
    ]


@probe("batch_norm (inference)", run=_normalize_batches, output=Normalized, forbidden=BATCH_NORM)
def batch_norm_eval(g: torch.Generator) -> list[Case]:
    return [_bn_case(g, (8, 5), False, None, None, 1), _bn_case(g, (4, 3, 6), False, 0.3, 0.5, 1)]


def _cell_case(g: torch.Generator, gates: int, b: int, d: int, h: int, scale: float, lstm: bool) -> Case:
    """x (b, d) of size `scale`, h and c (b, h), weights and biases of `gates` gates; a GRU gets no c
    (it is drawn all the same: both cells draw their inputs in one order)."""
    x, h0, c0 = randn(g, b, d, scale=scale), randn(g, b, h), randn(g, b, h)
    W_ih, W_hh = randn(g, gates * h, d, scale=0.5), randn(g, gates * h, h, scale=0.5)
    b_ih, b_hh = randn(g, gates * h), randn(g, gates * h)
    label = f"batch {b}, input {d}, hidden {h}" + (f", inputs of size {scale:g} (saturated gates)" if scale > 1 else "")
    return Case(label, (x, h0, c0, W_ih, W_hh, b_ih, b_hh) if lstm else (x, h0, W_ih, W_hh, b_ih, b_hh))


LSTM = Forbidden(ops=("unsafe_split", "_thnn_fused_lstm_cell"), names=("lstm_cell", "LSTMCell", "LSTM", "_VF", "lstm"))
GRU = Forbidden(ops=("unsafe_split", "_thnn_fused_gru_cell"), names=("gru_cell", "GRUCell", "GRU", "_VF", "gru"))
CELL_SIZES = [(3, 5, 4, 1.0), (1, 2, 6, 1.0), (4, 3, 3, 5.0)]  # batch, input, hidden, input scale


@probe("lstm_cell", forbidden=LSTM)
def lstm_cell(g: torch.Generator) -> list[Case]:
    return [_cell_case(g, 4, *size, lstm=True) for size in CELL_SIZES]


@probe("gru_cell", forbidden=GRU)
def gru_cell(g: torch.Generator) -> list[Case]:
    return [_cell_case(g, 3, *size, lstm=False) for size in CELL_SIZES]


def _conv_case(
    g: torch.Generator, x_shape: tuple[int, ...], w_shape: tuple[int, ...], bias: bool, stride: int, padding: int
) -> Case:
    x, weight, b = randn(g, *x_shape), randn(g, *w_shape), randn(g, w_shape[0]) if bias else None
    label = f"x {x_shape}, weight {w_shape}, stride {stride}, padding {padding}" + ("" if bias else ", no bias")
    return Case(label, (x, weight, b), {"stride": stride, "padding": padding})


CONV = Forbidden(
    ops=(
        "convolution.*",
        "_convolution.*",
        "conv2d.*",
        "mkldnn_convolution",
        "_slow_conv2d.*",
        "thnn_conv2d.*",
        "conv_depthwise2d.*",
        "_nnpack_spatial_convolution.*",
    ),
    names=("conv2d", "Conv2d", "convolution", "_conv_forward"),
)


@probe("conv2d", forbidden=CONV)
def conv2d(g: torch.Generator) -> list[Case]:
    return [
        _conv_case(g, (2, 3, 7, 6), (4, 3, 3, 3), True, 1, 0),
        _conv_case(g, (1, 1, 5, 5), (2, 1, 2, 2), False, 1, 0),
        _conv_case(g, (3, 2, 6, 8), (3, 2, 2, 3), True, 1, 0),
        _conv_case(g, (1, 4, 4, 4), (1, 4, 1, 1), True, 1, 0),
    ]


@probe("conv2d (stride, padding)", forbidden=CONV)
def conv2d_stride_padding(g: torch.Generator) -> list[Case]:
    return [
        _conv_case(g, (2, 3, 7, 7), (4, 3, 3, 3), True, 2, 1),
        _conv_case(g, (1, 2, 8, 9), (2, 2, 3, 3), True, 3, 0),
        _conv_case(g, (2, 1, 6, 5), (3, 1, 5, 5), False, 1, 2),
        _conv_case(g, (1, 3, 9, 7), (2, 3, 2, 3), True, 2, 2),
    ]


q1_padded_token, q2_cell_gradient, q3_transformer = answers(
    __name__, "q1_padded_token", "q2_cell_gradient", "q3_transformer"
)
