"""Plausible wrong implementations of 04_norms_rnn_conv.ipynb: each must be rejected by its exercise's
grade cells, and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

MUTANTS: dict[str, list[Mutant]] = {
    "layer_norm": [
        Mutant(
            "unbiased variance",
            "var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)",
            "var = x.var(dim=-1, keepdim=True)",
            hint="layer_norm uses the unbiased variance (divide by D - 1)",
        ),
        Mutant(
            "eps outside the square root",
            "return (x - mean) / torch.sqrt(var + eps) * weight + bias",
            "return (x - mean) / (torch.sqrt(var) + eps) * weight + bias",
        ),
        Mutant(
            "statistics over the first dimension",
            "mean = x.mean(dim=-1, keepdim=True)\n    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)",
            "mean = x.mean(dim=0, keepdim=True)\n    var = ((x - mean) ** 2).mean(dim=0, keepdim=True)",
            hint="layer_norm normalizes over the batch dimension",
        ),
        Mutant(
            "ignores the eps argument",
            "torch.sqrt(var + eps)",
            "torch.sqrt(var + 1e-5)",
            hint="eps goes inside the square root and must be the argument you receive",
        ),
    ],
    "batch_norm": [
        Mutant(
            "running variance biased",
            "momentum * var * n / (n - 1)",
            "momentum * var",
            hint="running_var uses the biased variance",
        ),
        Mutant(
            "momentum weights swapped",
            "running_mean.mul_(1 - momentum).add_(momentum * mean)\n            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))",
            "running_mean.mul_(momentum).add_((1 - momentum) * mean)\n            running_var.mul_(momentum).add_((1 - momentum) * var * n / (n - 1))",
            hint="the momentum weights are swapped",
        ),
        Mutant(
            "running statistics rebound instead of updated in place",
            "running_mean.mul_(1 - momentum).add_(momentum * mean)\n            running_var.mul_(1 - momentum).add_(momentum * var * n / (n - 1))",
            "running_mean = (1 - momentum) * running_mean + momentum * mean\n            running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)",
            hint="running_mean was not updated in place",
        ),
        Mutant(
            "running statistics used in training too",
            "    else:\n        mean, var = running_mean, running_var\n",
            "    mean, var = running_mean, running_var\n",
        ),
        Mutant(
            "statistics over the batch dimension only", "    dims = [0] + list(range(2, x.dim()))", "    dims = [0]"
        ),
        Mutant(
            "unbiased variance for normalizing",
            "var = x.var(dim=dims, unbiased=False)",
            "var = x.var(dim=dims, unbiased=True)",
        ),
    ],
    "lstm_cell": [
        Mutant(
            "gate order i, f, o, g",
            "i, f, g, o = gates.chunk(4, dim=1)",
            "i, f, o, g = gates.chunk(4, dim=1)",
            hint="the gate order looks like i, f, o, g",
        ),
        Mutant(
            "no tanh on the new cell state",
            "h_next = torch.sigmoid(o) * torch.tanh(c_next)",
            "h_next = torch.sigmoid(o) * c_next",
            hint="h_next = sigmoid(o) * tanh(c_next): the tanh is missing",
        ),
        Mutant("sigmoid on the candidate", "torch.sigmoid(i) * torch.tanh(g)", "torch.sigmoid(i) * torch.sigmoid(g)"),
        Mutant(
            "hidden bias dropped",
            "gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh",
            "gates = x @ W_ih.T + b_ih + h @ W_hh.T",
        ),
    ],
    "gru_cell": [
        Mutant(
            "z weights the new state",
            "return (1 - z) * n + z * h",
            "return z * n + (1 - z) * h",
            hint="z and 1 - z are swapped",
        ),
        Mutant(
            "reset gate outside the hidden bias (the paper's variant)",
            "h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=1)\n    r = torch.sigmoid(x_r + h_r)\n    z = torch.sigmoid(x_z + h_z)\n    n = torch.tanh(x_n + r * h_n)",
            "h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=1)\n    b_hn = b_hh.chunk(3)[2]\n    r = torch.sigmoid(x_r + h_r)\n    z = torch.sigmoid(x_z + h_z)\n    n = torch.tanh(x_n + r * (h_n - b_hn) + b_hn)",
            hint="the reset gate must multiply h @ W_hn.T + b_hn including the bias b_hn",
        ),
        Mutant(
            "gate order z, r, n",
            "x_r, x_z, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)\n    h_r, h_z, h_n",
            "x_z, x_r, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=1)\n    h_z, h_r, h_n",
        ),
        Mutant(
            "reset gate applied to h before the matrix product, without the bias split",
            "n = torch.tanh(x_n + r * h_n)",
            "n = torch.tanh(x_n + ((r * h) @ W_hh.T.chunk(3, dim=1)[2]) + b_hh.chunk(3)[2])",
        ),
    ],
    "conv2d": [
        Mutant(
            "flips the kernel (true convolution)",
            'out = torch.einsum("nchwuv,ocuv->nohw", windows, weight)',
            'out = torch.einsum("nchwuv,ocuv->nohw", windows, weight.flip(2, 3))',
            hint="the kernel is flipped (true convolution)",
        ),
        Mutant(
            "ignores the stride",
            "windows = x.unfold(2, k_h, stride).unfold(3, k_w, stride)",
            "windows = x.unfold(2, k_h, 1).unfold(3, k_w, 1)",
            hint="H_out = (H + 2 padding - k) // stride + 1",
        ),
        Mutant(
            "ignores the padding",
            "    if padding:\n        x = torch.nn.functional.pad(x, (padding, padding, padding, padding))\n",
            "",
            hint="H_out = (H + 2 padding - k) // stride + 1",
        ),
        Mutant("swaps the kernel's height and width", "k_h, k_w = weight.shape[2:]", "k_w, k_h = weight.shape[2:]"),
        Mutant(
            "calls torch.nn.functional.conv2d",
            'out = torch.einsum("nchwuv,ocuv->nohw", windows, weight)',
            "out = torch.nn.functional.conv2d(x, weight)",
        ),
        Mutant(
            "sums over input channels before weighting",
            'out = torch.einsum("nchwuv,ocuv->nohw", windows, weight)',
            'out = torch.einsum("nhwuv,ouv->nohw", windows.sum(1), weight.sum(1))',
        ),
    ],
    "interview_answers": [
        Mutant(
            "Q1: the sentence normalized alone, without its padding",
            "[2.0, 4.0, 6.0, 8.0] + [0.0] * 6]]",
            "[2.0, 4.0, 6.0, 8.0]]]",
        ),
        Mutant(
            "Q1: the first token instead of the second",
            "q1_padded_token = normalized[0, 0, 1].item()",
            "q1_padded_token = normalized[0, 0, 0].item()",
        ),
        Mutant("Q2: the default forget-gate bias", "cell.bias_hh[16:32] += 3.0", "cell.bias_hh[16:32] += 0.0"),
        Mutant("Q2: the input gate's bias raised", "cell.bias_hh[16:32] += 3.0", "cell.bias_hh[0:16] += 3.0"),
        Mutant(
            "Q2: the gradient of h_50 instead of c_50",
            "torch.autograd.grad(c.sum(), c0)",
            "torch.autograd.grad(h.sum(), c0)",
        ),
        Mutant("Q3: recurrence with attention over past states", 'q3_transformer = "a"', 'q3_transformer = "b"'),
        Mutant("Q3: memory in the feed-forward layers", 'q3_transformer = "a"', 'q3_transformer = "c"'),
    ],
}
