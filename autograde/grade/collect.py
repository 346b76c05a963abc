"""Collect: find the submitted notebooks of one module.

SUBMISSIONS may be:
* a folder of `<student>/<notebook>.ipynb`;
* an nbgrader course directory or its `submitted/` folder (`<student>/<module>/<notebook>.ipynb`,
  with `timestamp.txt`);
* an LMS archive (.zip). Files are named as nbgrader's `zip_collect` expects; by default its
  documented pattern `<anything>_<student_id>_attempt_<timestamp>_<notebook>`, or any
  regular expression with the named groups `student_id` and `file_id` (and optionally
  `timestamp`). The latest attempt of each student and notebook is kept. An archive that
  holds `<student>/<notebook>.ipynb` folders is read like a folder.

Symbolic links are never followed, and archives are extracted defensively: no absolute
paths or `..`, no links, only notebooks and timestamps, and at most MAX_SUBMISSION_BYTES + 1 bytes per
file (enough for the size check to reject it), MAX_ARCHIVE_BYTES in all.
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from autograde.grade.support.limits import MAX_SUBMISSION_BYTES

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
ZIP_PATTERN = r".*_(?P<student_id>\w+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>.*)"
MAX_ARCHIVE_BYTES = 2 * 1024**3


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path  # the submitted file, as found
    timestamp: str | None = None
    name: str = ""  # the notebook's name as submitted (an LMS renames files); default: the file's name

    @property
    def notebook_name(self) -> str:
        return self.name or self.path.name


@dataclass(frozen=True)
class Rejected:
    """Something in SUBMISSIONS that cannot be graded, and the student it belongs to, if any."""

    path: Path
    reason: str
    student: str | None = None


def _notebook_files(folder: Path) -> tuple[list[Path], list[Rejected]]:
    files, links = [], []
    for p in sorted(folder.iterdir()):
        if p.suffix == ".ipynb" and not p.name.startswith("."):
            (links if p.is_symlink() else files).append(p)
    return [f for f in files if f.is_file()], [Rejected(p, "symbolic link: not followed") for p in links]


def _from_folders(path: Path, module: str) -> tuple[list[Submission], list[Rejected]]:
    if (path / "submitted").is_dir() and not (path / "submitted").is_symlink():
        path = path / "submitted"
    submissions, rejected = [], []
    for folder in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.is_symlink():
            rejected.append(Rejected(folder, "symbolic link: not followed"))
            continue
        if not STUDENT_ID.match(folder.name):
            rejected.append(Rejected(folder, "folder name is not a valid student id (letters, digits, . _ @ + -)"))
            continue
        inner = folder / module
        notebook_folder = inner if inner.is_dir() and not inner.is_symlink() else folder
        stamp = notebook_folder / "timestamp.txt"
        timestamp = (
            stamp.read_text(errors="replace").strip()[:64] if stamp.is_file() and not stamp.is_symlink() else None
        )
        files, links = _notebook_files(notebook_folder)
        rejected += links
        if not files:
            rejected.append(Rejected(folder, f"no .ipynb file for {module}", folder.name))
        submissions += [Submission(folder.name, f, timestamp) for f in files]
    for stray in sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".ipynb"):
        rejected.append(Rejected(stray, "notebook outside a student folder: put it in <student>/"))
    return submissions, rejected


def extract(archive: Path, dest: Path) -> list[Rejected]:
    """Extract the notebooks and timestamps of a zip archive into `dest`, defensively."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    rejected, total = [], 0
    try:
        entries = zipfile.ZipFile(archive).infolist()
    except (zipfile.BadZipFile, OSError) as error:
        return [Rejected(archive, f"not a readable zip archive ({error})")]
    with zipfile.ZipFile(archive) as zf:
        for info in entries:
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            if info.is_dir() or not name.endswith((".ipynb", "timestamp.txt")):
                continue
            if name.startswith("/") or ".." in parts or any(":" in p for p in parts[:1]):
                rejected.append(Rejected(Path(name), "unsafe path in the archive: skipped"))
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                rejected.append(Rejected(Path(name), "symbolic link in the archive: skipped"))
                continue
            if total > MAX_ARCHIVE_BYTES:
                rejected.append(
                    Rejected(Path(name), "the archive holds more than 2 GB of notebooks: the rest was skipped")
                )
                break
            target = dest.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                copied = 0
                while copied <= MAX_SUBMISSION_BYTES:  # stops one chunk past the limit: the size check then rejects it
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
                    copied += len(chunk)
            total += copied
    return rejected


def _timestamp(raw: str | None) -> str | None:
    """LMS timestamps like 2026-11-20-10-00-00 as 2026-11-20 10:00:00 (what nbgrader parses)."""
    if raw and re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}", raw):
        return f"{raw[:10]} {raw[11:13]}:{raw[14:16]}:{raw[17:19]}"
    return raw


def _from_pattern(folder: Path, pattern: re.Pattern) -> tuple[list[Submission], list[Rejected]]:
    """Files named by an LMS: student and notebook from `pattern`; the latest attempt wins."""
    attempts: dict[tuple[str, str], list[tuple[str, Path]]] = {}
    rejected = []
    for path in sorted(p for p in folder.rglob("*.ipynb") if p.is_file() and not p.is_symlink()):
        match = pattern.fullmatch(path.relative_to(folder).as_posix()) or pattern.fullmatch(path.name)
        if match is None:
            rejected.append(Rejected(path, "file name does not match the archive's naming pattern"))
            continue
        student, notebook = match.group("student_id"), Path(match.group("file_id")).name
        if not STUDENT_ID.match(student):
            rejected.append(Rejected(path, f"{student!r} is not a valid student id"))
            continue
        attempts.setdefault((student, notebook), []).append((match.groupdict().get("timestamp") or "", path))
    submissions = []
    for (student, notebook), tries in sorted(attempts.items()):
        tries.sort()
        rejected += [
            Rejected(p, f"an earlier attempt of {notebook}: the latest was graded", student) for _, p in tries[:-1]
        ]
        stamp, path = tries[-1]
        submissions.append(Submission(student, path, _timestamp(stamp), notebook))
    return submissions, rejected


def collect(
    path: Path, module: str, scratch: Path, zip_pattern: str = ZIP_PATTERN
) -> tuple[list[Submission], list[Rejected]]:
    """Submissions found under `path` (folder or .zip), and what was skipped with the reason.

    scratch: a folder this step may empty and use (archives are extracted there).
    """
    if path.is_file() and path.suffix.lower() == ".zip":
        folder = scratch / path.stem
        rejected = extract(path, folder)
        pattern = re.compile(zip_pattern)
        if any(
            pattern.fullmatch(p.name) or pattern.fullmatch(p.relative_to(folder).as_posix())
            for p in folder.rglob("*.ipynb")
        ):
            found, more = _from_pattern(folder, pattern)
        else:
            found, more = _from_folders(folder, module)
        return found, rejected + more
    if not path.is_dir():
        raise SystemExit(f"{path} is neither a folder of submissions nor a .zip archive")
    return _from_folders(path, module)
