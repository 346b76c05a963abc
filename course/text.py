"""Text conventions and samples shared by module 03's notebooks and the grader."""

from __future__ import annotations

import json
from importlib import resources

# GPT-2's pre-tokenization pattern (the `regex` package: \p{L} letters, \p{N} digits): contractions,
# a word with its leading space, a number, a run of punctuation, whitespace. BPE merges never cross
# the boundaries of these pre-tokens.
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

PARALLEL_FILE = "parallel_zh_en.json"


def parallel_zh_en() -> list[tuple[str, str]]:
    """Twelve (Chinese, English) sentence pairs with the same meaning, written for the course
    (module 03's interview questions and their short answers)."""
    data = json.loads((resources.files("course") / "assets" / PARALLEL_FILE).read_text(encoding="utf-8"))
    return [(zh, en) for zh, en in data["pairs"]]
