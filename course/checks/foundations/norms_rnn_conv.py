"""Visible checks of 04_norms_rnn_conv.ipynb (module 01, foundations): normalization, recurrent cells, convolution."""

from __future__ import annotations

from collections.abc import Callable

import torch

from course.checks import call, expect_close, expect_tensor, fail, fixed, is_close, passed


def check_layer_norm(layer_norm: Callable) -> None:
    x = fixed(3, 6, seed=6, scale=3.0) + 2.0
    weight, bias = fixed(6, seed=7), fixed(6, seed=8)
    y = expect_tensor(call(layer_norm, x, weight, bias), "layer_norm(x, weight, bias)", x.shape)
    expected = torch.nn.functional.layer_norm(x, (6,), weight, bias)
    if not is_close(y, expected, rtol=1e-6, atol=1e-7):
        var = x.var(dim=-1, keepdim=True)  # unbiased
        if is_close(y, (x - x.mean(-1, keepdim=True)) / torch.sqrt(var + 1e-5) * weight + bias, rtol=1e-6):
            fail("layer_norm uses the unbiased variance (divide by D - 1); LayerNorm divides by D (unbiased=False)")
        if is_close(y, torch.nn.functional.layer_norm(x.T, (3,)).T * weight + bias, rtol=1e-6):
            fail("layer_norm normalizes over the batch dimension; normalize each example over its last dimension")
        expect_close(
            y,
            expected,
            "layer_norm(x, weight, bias)",
            "(x - mean) / sqrt(var + eps) * weight + bias, statistics over the last dimension",
            rtol=1e-6,
            atol=1e-7,
        )
    y = call(layer_norm, x, weight, bias, eps=10.0)
    expect_close(
        y,
        torch.nn.functional.layer_norm(x, (6,), weight, bias, eps=10.0),
        "layer_norm with eps=10",
        "eps goes inside the square root and must be the argument you receive",
        rtol=1e-6,
        atol=1e-7,
    )
    passed("layer_norm matches torch.nn.functional.layer_norm")


def _bn_inputs(shape: tuple[int, ...], seed: int) -> dict[str, torch.Tensor]:
    c = shape[1]
    return {
        "x": fixed(*shape, seed=seed, scale=2.0) + 1.0,
        "weight": fixed(c, seed=seed + 1),
        "bias": fixed(c, seed=seed + 2),
        "running_mean": fixed(c, seed=seed + 3),
        "running_var": fixed(c, seed=seed + 4).abs() + 0.5,
    }


def check_batch_norm_train(batch_norm: Callable) -> None:
    momentum = 0.2
    for shape, what in (((8, 3), "(N, C)"), ((4, 3, 5), "(N, C, L)")):
        mine, ref, start = _bn_inputs(shape, 10), _bn_inputs(shape, 10), _bn_inputs(shape, 10)
        y = call(
            batch_norm,
            mine["x"],
            mine["weight"],
            mine["bias"],
            mine["running_mean"],
            mine["running_var"],
            True,
            momentum=momentum,
        )
        expected = torch.nn.functional.batch_norm(
            ref["x"],
            ref["running_mean"],
            ref["running_var"],
            ref["weight"],
            ref["bias"],
            training=True,
            momentum=momentum,
        )
        expect_tensor(y, f"batch_norm output for {what}", shape)
        expect_close(
            y,
            expected,
            f"batch_norm output for {what}",
            "normalize each channel with statistics over every dimension except 1, biased variance",
            rtol=1e-6,
            atol=1e-7,
        )
        values = start["x"].transpose(0, 1).reshape(shape[1], -1)  # (C, n): every value of each channel
        if torch.equal(mine["running_mean"], start["running_mean"]):
            fail("running_mean was not updated in place: running_mean.mul_(1 - momentum).add_(momentum * batch_mean)")
        if is_close(mine["running_mean"], momentum * start["running_mean"] + (1 - momentum) * values.mean(1)):
            fail("the momentum weights are swapped: new = (1 - momentum) * running + momentum * batch")
        expect_close(
            mine["running_mean"],
            ref["running_mean"],
            f"running_mean after a {what} batch",
            "running = (1 - momentum) * running + momentum * batch_mean",
            rtol=1e-6,
            atol=1e-8,
        )
        if is_close(
            mine["running_var"], (1 - momentum) * start["running_var"] + momentum * values.var(1, unbiased=False)
        ):
            fail(
                f"running_var uses the biased variance; the running estimate uses the unbiased one (times n / (n - 1), n = {values.shape[1]})"
            )
        expect_close(
            mine["running_var"],
            ref["running_var"],
            f"running_var after a {what} batch",
            "running = (1 - momentum) * running + momentum * unbiased batch variance",
            rtol=1e-6,
            atol=1e-8,
        )
    passed("batch_norm (training): output and in-place running statistics match PyTorch for (N, C) and (N, C, L)")


def check_batch_norm_eval(batch_norm: Callable) -> None:
    mine, ref = _bn_inputs((6, 4, 3), 20), _bn_inputs((6, 4, 3), 20)
    y = call(batch_norm, mine["x"], mine["weight"], mine["bias"], mine["running_mean"], mine["running_var"], False)
    expected = torch.nn.functional.batch_norm(
        ref["x"], ref["running_mean"], ref["running_var"], ref["weight"], ref["bias"], training=False
    )
    if not is_close(mine["running_mean"], ref["running_mean"]) or not is_close(mine["running_var"], ref["running_var"]):
        fail("with training=False the running statistics must not change")
    expect_close(
        y,
        expected,
        "batch_norm output with training=False",
        "normalize with running_mean and running_var, not the batch's statistics",
        rtol=1e-6,
        atol=1e-7,
    )
    passed("batch_norm (inference): uses and keeps the running statistics")


def _cell_weights(gates: int, d: int, h: int, seed: int) -> list[torch.Tensor]:
    return [
        fixed(gates * h, d, seed=seed),
        fixed(gates * h, h, seed=seed + 1),
        fixed(gates * h, seed=seed + 2),
        fixed(gates * h, seed=seed + 3),
    ]


def check_lstm_cell(lstm_cell: Callable) -> None:
    b, d, h = 3, 4, 5
    x, h0, c0 = fixed(b, d, seed=30), fixed(b, h, seed=31), fixed(b, h, seed=32)
    W_ih, W_hh, b_ih, b_hh = _cell_weights(4, d, h, 33)
    result = call(lstm_cell, x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    if not isinstance(result, tuple) or len(result) != 2:
        fail("lstm_cell must return a tuple (h_next, c_next)")
    h1, c1 = result
    ref_h, ref_c = torch.lstm_cell(x, (h0, c0), W_ih, W_hh, b_ih, b_hh)
    expect_tensor(h1, "h_next", (b, h))
    expect_tensor(c1, "c_next", (b, h))
    if not is_close(c1, ref_c, rtol=1e-6):
        i, f, g, o = (x @ W_ih.T + b_ih + h0 @ W_hh.T + b_hh).chunk(4, dim=1)
        if is_close(c1, torch.sigmoid(f) * c0 + torch.sigmoid(i) * torch.tanh(o), rtol=1e-6):
            fail("the gate order looks like i, f, o, g; PyTorch's is i, f, g, o")
        fail(
            "c_next differs from torch.nn.LSTMCell: c' = sigmoid(f) * c + sigmoid(i) * tanh(g), gates in the order i, f, g, o"
        )
    if is_close(h1, torch.sigmoid((x @ W_ih.T + b_ih + h0 @ W_hh.T + b_hh).chunk(4, dim=1)[3]) * ref_c, rtol=1e-6):
        fail("h_next = sigmoid(o) * tanh(c_next): the tanh is missing")
    expect_close(h1, ref_h, "h_next", "h' = sigmoid(o) * tanh(c')", rtol=1e-6)
    passed("lstm_cell matches torch.nn.LSTMCell")


def check_gru_cell(gru_cell: Callable) -> None:
    b, d, h = 3, 4, 5
    x, h0 = fixed(b, d, seed=40), fixed(b, h, seed=41)
    W_ih, W_hh, b_ih, b_hh = _cell_weights(3, d, h, 42)
    h1 = expect_tensor(call(gru_cell, x, h0, W_ih, W_hh, b_ih, b_hh), "gru_cell(...)", (b, h))
    ref = torch.gru_cell(x, h0, W_ih, W_hh, b_ih, b_hh)
    if not is_close(h1, ref, rtol=1e-6):
        # The two classic mistakes, as PyTorch's own cell with altered weights: negating the z rows turns z into 1 - z;
        # moving b_hn into b_in takes the bias out of the reset gate's product.
        z_rows = slice(h, 2 * h)
        flipped = [t.clone() for t in (W_ih, W_hh, b_ih, b_hh)]
        for t in flipped:
            t[z_rows] *= -1
        if is_close(h1, torch.gru_cell(x, h0, *flipped), rtol=1e-6):
            fail("z and 1 - z are swapped: in PyTorch h' = (1 - z) * n + z * h")
        n_rows = slice(2 * h, 3 * h)
        moved_ih, moved_hh = b_ih.clone(), b_hh.clone()
        moved_ih[n_rows] += b_hh[n_rows]
        moved_hh[n_rows] = 0
        if is_close(h1, torch.gru_cell(x, h0, W_ih, W_hh, moved_ih, moved_hh), rtol=1e-6):
            fail("the reset gate must multiply h @ W_hn.T + b_hn including the bias b_hn (PyTorch's variant)")
        fail("h_next differs from torch.nn.GRUCell: gates in the order r, z, n, see the formulas above")
    passed("gru_cell matches torch.nn.GRUCell")


def _check_conv(
    conv2d: Callable,
    shape: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: int,
    padding: int,
    with_bias: bool,
    what: str,
) -> None:
    x = fixed(*shape, seed=50)
    weight = fixed(*kernel, seed=51)
    bias = fixed(kernel[0], seed=52) if with_bias else None
    out = call(conv2d, x, weight, bias, stride=stride, padding=padding)
    expected = torch.nn.functional.conv2d(x, weight, bias, stride=stride, padding=padding)
    if isinstance(out, torch.Tensor) and out.shape != expected.shape:
        fail(
            f"conv2d {what}: output shape {tuple(out.shape)}, expected {tuple(expected.shape)}: H_out = (H + 2 padding - k) // stride + 1"
        )
    expect_tensor(out, f"conv2d {what}", expected.shape)
    if not is_close(out, expected, rtol=1e-6, atol=1e-8):
        flipped = torch.nn.functional.conv2d(x, weight.flip(2, 3), bias, stride=stride, padding=padding)
        if is_close(out, flipped, rtol=1e-6, atol=1e-8):
            fail(f"conv2d {what}: the kernel is flipped (true convolution); PyTorch computes a cross-correlation")
        expect_close(
            out,
            expected,
            f"conv2d {what}",
            "out[n, o, i, j] = b[o] + sum over c, u, v of x_pad[n, c, i*s + u, j*s + v] * w[o, c, u, v]",
            rtol=1e-6,
            atol=1e-8,
        )


def check_conv2d(conv2d: Callable) -> None:
    _check_conv(conv2d, (2, 3, 6, 7), (4, 3, 3, 2), 1, 0, True, "(2x3x6x7 input, 3x2 kernel)")
    _check_conv(conv2d, (1, 2, 5, 5), (3, 2, 2, 2), 1, 0, False, "without bias")
    passed("conv2d matches torch.nn.functional.conv2d")


def check_conv2d_stride_padding(conv2d: Callable) -> None:
    _check_conv(conv2d, (2, 2, 7, 6), (3, 2, 3, 3), 2, 1, True, "with stride=2, padding=1")
    _check_conv(conv2d, (1, 1, 8, 9), (2, 1, 3, 3), 3, 0, True, "with stride=3")
    passed("conv2d with stride and padding matches PyTorch")
