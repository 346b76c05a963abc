"""The interview index: which notebooks answer which question of docs/interview_bank.md.

A notebook's title cell cites the ids it answers as bold bullets (`- **T04** Why pre-norm?`);
docs/interview.md is generated from those citations, and `problems()` lists cited ids that the bank
does not know and ids of the course's modules that no notebook answers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from autograde import notebooks, settings
from autograde.files import atomic_write

BANK = settings.ROOT / "docs" / "interview_bank.md"
INDEX = settings.ROOT / "docs" / "interview.md"
CITATION = re.compile(r"^- \*\*([A-Z]\d\d)\*\*", re.M)
ROW = re.compile(r"^\| ([A-Z]\d\d) \| ([\d, ]+) \| (.+?) \| (.+?) \|$", re.M)


@dataclass(frozen=True)
class Question:
    id: str
    modules: tuple[str, ...]  # two-digit module numbers, e.g. ("02", "05")
    original: str
    english: str


def bank() -> dict[str, Question]:
    """The questions of docs/interview_bank.md, by id."""
    return {
        m[1]: Question(m[1], tuple(n.strip() for n in m[2].split(",")), m[3], m[4])
        for m in ROW.finditer(BANK.read_text(encoding="utf-8"))
    }


def citations() -> dict[Path, list[str]]:
    """The ids each source notebook's title cell cites, in order."""
    return {
        path: CITATION.findall(notebooks.read(path).cells[0].source)
        for module in settings.modules()
        for path in settings.notebooks(module)
    }


def problems() -> list[str]:
    """Cited ids unknown to the bank; ids of a finished module in source/ (not listed in [tool.course]'s
    `in_progress`) that none of that module's notebooks cites."""
    questions, cited = bank(), citations()
    found = [
        f"{path.name} cites {i}, which is not in docs/interview_bank.md"
        for path, ids in cited.items()
        for i in ids
        if i not in questions
    ]
    unfinished = set(settings.course_settings().get("in_progress", []))
    modules = {module.split("_", 1)[0]: module for module in settings.modules() if module not in unfinished}
    for q in questions.values():
        for number in q.modules:
            if number in modules and not any(
                q.id in ids for path, ids in cited.items() if path.parent.name == modules[number]
            ):
                found.append(
                    f"{q.id} ({q.english}) is module {number}'s, and no notebook of {modules[number]} cites it"
                )
    return found


def index() -> str:
    """docs/interview.md: every question of the bank with the notebooks that answer it."""
    cited = citations()
    lines = [
        "# Interview questions and the notebooks that answer them",
        "",
        "Generated from the notebooks' title cells; the questions are those of",
        "[the interview question bank](interview_bank.md). Each notebook answers its questions in its interview",
        "check, with numbers you measure yourself.",
        "",
        "| id | question | 问题 | notebooks |",
        "|---|---|---|---|",
    ]
    for q in bank().values():
        answering = [f"`{p.parent.name}/{p.name}`" for p, ids in cited.items() if q.id in ids]
        lines.append(
            f"| {q.id} | {q.english} | {q.original} | {', '.join(answering) or f'module {q.modules[0]}, to come'} |"
        )
    return "\n".join(lines) + "\n"


def write() -> Path:
    atomic_write(INDEX, index())
    return INDEX
