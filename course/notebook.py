"""Set-up shared by every notebook: seeds, device, plot style, one-line errors."""

from __future__ import annotations

import random

import numpy as np
import torch


def setup(seed: int = 0) -> torch.device:
    """Seed Python, NumPy and PyTorch, style plots, and return the device to use.

    A GPU is used when one is present; nothing in the course requires it.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    _style_plots()
    _shorten_not_implemented_errors()
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _style_plots() -> None:
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.figsize": (6.4, 3.6), "figure.dpi": 80, "axes.grid": True, "grid.alpha": 0.3})


def _shorten_not_implemented_errors() -> None:
    """Show `implement X first` instead of a traceback when a stub is called."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    from course.checks import stub_name

    def handler(shell, etype, value, tb, tb_offset=None):
        return [
            f"\x1b[31mNotImplementedError: implement `{stub_name(tb)}` first (its body still raises NotImplementedError)\x1b[0m"
        ]

    shell.set_custom_exc((NotImplementedError,), handler)
