"""Set-up shared by every notebook: seeds, device, plot style, one-line errors."""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import torch

Result = TypeVar("Result")


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


def fastest(fn: Callable[[], Result], runs: int = 5) -> tuple[Result, float]:
    """fn()'s result and its fastest time in seconds over `runs` runs, as `timeit` measures: on one
    PyTorch thread (a thread pool's start-up and waits would blur a trend) and with the garbage
    collector paused (its pauses would be timed too)."""
    threads, collecting = torch.get_num_threads(), gc.isenabled()
    torch.set_num_threads(1)
    gc.disable()
    times = []
    try:
        for _ in range(runs):
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
        if collecting:
            gc.enable()
    return result, min(times)


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
