"""Plotting helpers the notebooks share, so that experiment cells stay short."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import torch


def _axes(ax: plt.Axes | None) -> plt.Axes:
    return ax if ax is not None else plt.subplots()[1]


def curves(
    series: Mapping[str, Sequence[float]],
    ax: plt.Axes | None = None,
    xlabel: str = "step",
    ylabel: str = "",
    title: str = "",
    logy: bool = False,
) -> plt.Axes:
    """One line per named series (loss curves, learning rates, gradient norms)."""
    ax = _axes(ax)
    for name, values in series.items():
        ax.plot(list(values), label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    if len(series) > 1:
        ax.legend()
    return ax


def decision_boundary(
    predict: Callable[[torch.Tensor], float | torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    ax: plt.Axes | None = None,
    resolution: int = 100,
    batched: bool = False,
) -> plt.Axes:
    """Colour the plane by the model's prediction and overlay the data points.

    predict: one point (2,) -> score, or, with batched=True, points (M, 2) -> scores (M,)
    or class scores (M, C) (the arg-max is shown).
    """
    ax = _axes(ax)
    lo, hi = X.min(0).values - 0.3, X.max(0).values + 0.3
    gx, gy = torch.meshgrid(
        torch.linspace(lo[0], hi[0], resolution), torch.linspace(lo[1], hi[1], resolution), indexing="xy"
    )
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    with torch.no_grad():
        if batched:
            scores = torch.as_tensor(predict(grid))
        else:
            scores = torch.tensor([float(predict(p)) for p in grid])
    if scores.dim() == 2:
        zone = scores.argmax(1).float()
    else:
        zone = (scores > 0).float()
    ax.contourf(gx, gy, zone.reshape(resolution, resolution), alpha=0.25, cmap="viridis")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=14, cmap="viridis", edgecolors="k", linewidths=0.3)
    ax.set(title="decision boundary", xticks=[], yticks=[])
    return ax


def images(tensors: Mapping[str, torch.Tensor], cmap: str = "gray") -> None:
    """Show 2-D tensors side by side with their names as titles."""
    fig, axes = plt.subplots(1, len(tensors), figsize=(2.6 * len(tensors), 2.8))
    for ax, (name, image) in zip(axes if len(tensors) > 1 else [axes], tensors.items()):
        ax.imshow(image.detach().cpu(), cmap=cmap)
        ax.set(title=name, xticks=[], yticks=[])
        ax.grid(False)
    plt.show()
