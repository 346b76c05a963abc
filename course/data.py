"""Toy data sets, generated on the spot from a seed: nothing is downloaded."""

from __future__ import annotations

import gzip
import json
import lzma
import math
from importlib import resources

import torch

CORPUS_FILE = "pydoc_topics.json.gz"
STDLIB_FILE = "stdlib_corpus.json.xz"
HELD_OUT_EVERY = 20  # of the stdlib files sorted by path, numbers 0, 20, 40, ... are held out


def two_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaving half circles. Returns X (n, 2) float32 and y (n,) int64 in {0, 1}."""
    g = torch.Generator().manual_seed(seed)
    n_top = n // 2
    angles = torch.rand(n, generator=g) * math.pi
    top = torch.stack([torch.cos(angles[:n_top]), torch.sin(angles[:n_top])], dim=1)
    bottom = torch.stack([1 - torch.cos(angles[n_top:]), 0.5 - torch.sin(angles[n_top:])], dim=1)
    X = torch.cat([top, bottom]) + noise * torch.randn(n, 2, generator=g)
    X = (X - X.mean(0)) / X.std(0)
    y = torch.cat([torch.zeros(n_top), torch.ones(n - n_top)]).long()
    return X, y


def spirals(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Interleaved spiral arms, one per class. Returns X (n, 2) float32 and y (n,) int64."""
    g = torch.Generator().manual_seed(seed)
    radius = torch.linspace(0.0, 1.0, n_per_class)
    xs, ys = [], []
    for k in range(n_classes):
        theta = torch.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + noise * torch.randn(n_per_class, generator=g)
        xs.append(torch.stack([radius * torch.sin(theta), radius * torch.cos(theta)], dim=1))
        ys.append(torch.full((n_per_class,), k, dtype=torch.long))
    return torch.cat(xs), torch.cat(ys)


def shapes_image(size: int = 28) -> torch.Tensor:
    """A grey-scale test image (1, 1, size, size) with a square, a disc and a diagonal bar."""
    r = torch.arange(size, dtype=torch.float32)
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    image = torch.zeros(size, size)
    image[size // 8 : size // 2 - 1, size // 8 : size // 2 - 1] = 1.0
    image[((yy - 0.7 * size) ** 2 + (xx - 0.7 * size) ** 2) < (size / 6) ** 2] = 0.6
    image[(yy - (size - 1 - xx)).abs() < 1.0] = 0.8
    return image[None, None]


def pydoc_topics() -> dict[str, str]:
    """Python's own reference documentation, topic by topic (pydoc_data.topics of Python 3.11,
    shipped compressed with the course so that every Python version sees the same text)."""
    with resources.as_file(resources.files("course") / "assets" / CORPUS_FILE) as path:
        return json.loads(gzip.decompress(path.read_bytes()).decode("utf-8"))


def pydoc_corpus() -> tuple[str, str]:
    """The language-model corpus, split by topic: (train text, held-out text).

    Topics are sorted by name; every 10th (0, 10, 20, ...) is held out, so no topic is in both.
    """
    topics = pydoc_topics()
    names = sorted(topics)
    held_out = [topics[n] for i, n in enumerate(names) if i % 10 == 0]
    train = [topics[n] for i, n in enumerate(names) if i % 10 != 0]
    return "\n\n".join(train), "\n\n".join(held_out)


def stdlib_files() -> dict[str, str]:
    """The source of Python's standard library, file by file ({relative path: text}): the `.py` files
    of CPython 3.11.7's `Lib/` without tests, site-packages, the generated codec tables of
    `encodings/` and `pydoc_data/` (the documentation, module 03's second domain), duplicates removed.
    Shipped compressed with the course, so that every Python version sees the same bytes."""
    with resources.as_file(resources.files("course") / "assets" / STDLIB_FILE) as path:
        return json.loads(lzma.decompress(path.read_bytes()).decode("utf-8"))


def stdlib_corpus() -> tuple[str, str]:
    """The language-model corpus, split by file: (train text, held-out text), files joined by blank lines.

    Files are sorted by path; every HELD_OUT_EVERY-th (0, 20, 40, ...) is held out, so no file is in both."""
    files = stdlib_files()
    names = sorted(files)
    held_out = [files[n] for i, n in enumerate(names) if i % HELD_OUT_EVERY == 0]
    train = [files[n] for i, n in enumerate(names) if i % HELD_OUT_EVERY != 0]
    return "\n\n".join(train), "\n\n".join(held_out)
