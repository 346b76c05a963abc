"""Writing files so that a reader never sees half of one: write a temporary sibling, then rename."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: Path, content: str | bytes | Callable[[Path], None]) -> None:
    """Replace `path` with `content` (text, bytes, or a function that writes the file it is given)
    in one rename, creating its folder; a crash leaves the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if isinstance(content, str):
        tmp.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        tmp.write_bytes(content)
    else:
        content(tmp)
    os.replace(tmp, path)
