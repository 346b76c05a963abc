"""Plausible wrong implementations of 01_tokenizer.ipynb: each must be rejected by its exercise's grade cells,
and by the hidden tests alone. Keys are solution cells' grade_ids."""

from tests.mutants import Mutant

MUTANTS: dict[str, list[Mutant]] = {
    "train_bpe": [
        Mutant(
            "ties go to the lesser pair",
            "best = max(pair_counts, key=lambda p: (pair_counts[p], p))",
            "best = min(pair_counts, key=lambda p: (-pair_counts[p], p))",
            hint="ties go to the lexicographically greater pair",
        ),
        Mutant(
            "counts a pair once per pre-token (no overlaps)",
            "return zip(word, word[1:])",
            "return set(zip(word, word[1:]))",
            hint="pair counts include overlapping occurrences",
        ),
        Mutant(
            "counts distinct pre-tokens, not their occurrences",
            "freq = list(counts.values())",
            "freq = [1] * len(counts)",
            hint="weighted by how often each pre-token occurs",
        ),
        Mutant(
            "merges right to left",
            """            merged, j = [], 0
            while j < len(word):
                if j + 1 < len(word) and (word[j], word[j + 1]) == best:
                    merged.append(best[0] + best[1])
                    j += 2
                else:
                    merged.append(word[j])
                    j += 1""",
            """            merged, j = [], len(word) - 1
            while j >= 0:
                if j >= 1 and (word[j - 1], word[j]) == best:
                    merged.insert(0, best[0] + best[1])
                    j -= 2
                else:
                    merged.insert(0, word[j])
                    j -= 1""",
            hint="a merge applies left to right",
        ),
        Mutant(
            "a merged pair's second symbol is kept as well",
            "                    merged.append(best[0] + best[1])\n                    j += 2",
            "                    merged.append(best[0] + best[1])\n                    j += 1",
        ),
        Mutant(
            "no pre-tokenization: merges cross word boundaries",
            'counts = Counter(m.group().encode("utf-8") for part in parts for m in regex.finditer(GPT2_PATTERN, part))',
            'counts = Counter(part.encode("utf-8") for part in parts)',
            hint="merges never cross pre-token boundaries",
        ),
        Mutant(
            "special tokens not split off",
            "parts = regex.split(specials, text)",
            "parts = [text]",
            hint="split the text on the special tokens first",
        ),
        Mutant(
            "special tokens removed, not split on",
            "parts = regex.split(specials, text)",
            'parts = [regex.sub(specials, "", text)]',
            hint="removing them is not enough",
        ),
        Mutant(
            "special tokens split in the order given",
            'specials = "|".join(regex.escape(s) for s in sorted(special_tokens, key=len, reverse=True))',
            'specials = "|".join(regex.escape(s) for s in special_tokens)',
            hint="split on the special tokens longest first",
        ),
        Mutant(
            "starts from characters, not bytes",
            "words = [[bytes([b]) for b in word] for word in counts]",
            'words = [[c.encode("utf-8") for c in word.decode("utf-8")] for word in counts]',
            hint="start from the UTF-8 bytes of each pre-token",
        ),
        Mutant(
            "merges the first occurrence of a pair in a pre-token only",
            "                    merged.append(best[0] + best[1])\n                    j += 2",
            "                    merged.append(best[0] + best[1])\n                    merged.extend(word[j + 2 :])\n                    break",
            hint="a merge rewrites every occurrence of the pair",
        ),
        Mutant(
            "special tokens get their ids after the merges",
            '    for token in special_tokens:\n        vocab[len(vocab)] = token.encode("utf-8")\n    if special_tokens:',
            "    if special_tokens:",
        ),
        Mutant(
            "one token too many",
            "while len(vocab) < vocab_size and pair_counts:",
            "while len(vocab) <= vocab_size and pair_counts:",
            hint="stop when len(vocab) == vocab_size",
        ),
        Mutant(
            "keeps going when no pair is left",
            "while len(vocab) < vocab_size and pair_counts:",
            "while len(vocab) < vocab_size:",
        ),
        Mutant(
            "merges stored as the merged bytes",
            "merges.append(best)",
            "merges.append(best[0] + best[1])",
            hint="merges should be a list of (bytes, bytes) tuples",
        ),
    ],
    "bpe_tokenizer": [
        Mutant(
            "merges the first known pair, not the earliest learned",
            "best = min(pairs, key=lambda p: self.ranks.get(p, math.inf))",
            "best = next((p for p in pairs if p in self.ranks), pairs[0])",
            hint="merges apply by rank",
        ),
        Mutant(
            "no pre-tokenization",
            '                for m in regex.finditer(GPT2_PATTERN, part):\n                    ids.extend(self._encode_pretoken(m.group().encode("utf-8")))',
            '                ids.extend(self._encode_pretoken(part.encode("utf-8")))',
            hint="merges never cross pre-token boundaries",
        ),
        Mutant(
            "decodes token by token",
            'return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")',
            'return "".join(self.vocab[i].decode("utf-8", errors="replace") for i in ids)',
            hint="join the bytes of all the tokens, then decode them once",
            demo=("bpe_tokenizer_test", "bpe_special_tokens_test"),
        ),
        Mutant(
            "drops invalid bytes",
            'decode("utf-8", errors="replace")',
            'decode("utf-8", errors="ignore")',
            hint="decode with errors='replace'",
        ),
        Mutant(
            "special tokens tried in the order given",
            "self.special_tokens = sorted(special_tokens or (), key=len, reverse=True)",
            "self.special_tokens = list(special_tokens or ())",
            hint="special tokens match longest first",
        ),
        Mutant(
            "special tokens encoded as text",
            "        if self.special_tokens:\n            parts = regex.split(",
            "        if False:\n            parts = regex.split(",
            hint="a special token is one id",
        ),
        Mutant(
            "accepts a special token missing from the vocabulary",
            '                raise ValueError(f"special token {token!r} is not in the vocabulary")',
            "                pass",
            hint="should raise ValueError",
        ),
    ],
    "interview_answers": [
        Mutant(
            "Q1: 400 merges, not a vocabulary of 400",
            "train_bpe(pydoc_corpus()[0][:20_000], 400)",
            "train_bpe(pydoc_corpus()[0][:20_000], 656)",
        ),
        Mutant(
            "Q1: English over Chinese",
            "q1_chinese_token_ratio = sum(len(small_tokenizer.encode(zh)) for zh, _ in parallel_zh_en()) / sum(\n    len(small_tokenizer.encode(en)) for _, en in parallel_zh_en()\n)",
            "q1_chinese_token_ratio = sum(len(small_tokenizer.encode(en)) for _, en in parallel_zh_en()) / sum(\n    len(small_tokenizer.encode(zh)) for zh, _ in parallel_zh_en()\n)",
        ),
        Mutant(
            "Q1: characters, not tokens",
            "q1_chinese_token_ratio = sum(len(small_tokenizer.encode(zh)) for zh, _ in parallel_zh_en()) / sum(\n    len(small_tokenizer.encode(en)) for _, en in parallel_zh_en()\n)",
            "q1_chinese_token_ratio = sum(len(zh) for zh, _ in parallel_zh_en()) / sum(len(en) for _, en in parallel_zh_en())",
        ),
        Mutant("Q2: Chinese becomes <unk>", 'q2_chinese_input = "b"', 'q2_chinese_input = "a"'),
        Mutant("Q2: one token per character", 'q2_chinese_input = "b"', 'q2_chinese_input = "c"'),
        Mutant("Q3: merges across words", 'q3_vocabulary_size = "a"', 'q3_vocabulary_size = "b"'),
        Mutant("Q3: an unstable softmax", 'q3_vocabulary_size = "a"', 'q3_vocabulary_size = "c"'),
    ],
}
