"""Expand the paths given to ingest into the files to read, saying what is left out and why.

Inside a given folder, hidden files and folders (".name") and whatever the folder's `.kunlunignore`
matches (gitignore patterns) are ignored on purpose and only counted; a file no reader takes is an
Unsupported entry, listed. A path named on the command line is never ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kunlun_nlp.readers.base import ReadFailure, Unsupported
from kunlun_nlp.readers.dispatch import SUPPORTED_SUFFIXES

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

IGNORE_FILE = ".kunlunignore"


@dataclass(frozen=True)
class Ignored:
    path: Path
    why: str  # "hidden" or IGNORE_FILE
    folder: bool  # a folder counts once; what it holds is not walked


@dataclass
class InputScan:
    """Every given path accounted for; `files` are counted before reading, for a progress total."""

    files: list[Path] = field(default_factory=list)
    problems: list[ReadFailure] = field(default_factory=list)  # missing paths, unsupported files, unreadable folders
    ignored: list[Ignored] = field(default_factory=list)

    @property
    def unsupported(self) -> list[Unsupported]:
        return [p for p in self.problems if isinstance(p, Unsupported)]

    @property
    def failures(self) -> list[ReadFailure]:
        return [p for p in self.problems if not isinstance(p, Unsupported)]


def scan_inputs(paths: Iterable[str | Path]) -> InputScan:
    scan = InputScan()
    for item in walk_inputs(paths):
        if isinstance(item, Ignored):
            scan.ignored.append(item)
        elif isinstance(item, ReadFailure):
            scan.problems.append(item)
        else:
            scan.files.append(item)
    return scan


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[Path | ReadFailure]:
    """The files to read and the paths that cannot be, in order; ignored ones left out."""
    for item in walk_inputs(paths):
        if not isinstance(item, Ignored):
            yield item


def walk_inputs(paths: Iterable[str | Path]) -> Iterator[Path | ReadFailure | Ignored]:
    """Folders walked recursively, sorted as `sorted(folder.rglob("*"))` would be."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                spec = _ignore_spec(path)
            except OSError as exc:  # the folder is still walked, its ignore list unread: say so
                yield ReadFailure(str(path / IGNORE_FILE), f"cannot read the ignore list: {exc.strerror or exc}")
                spec = None
            yield from _walk(path, path, spec, set())
        elif path.is_file():
            yield path if path.suffix.lower() in SUPPORTED_SUFFIXES else Unsupported.of(str(path), path.name)
        elif path.exists():
            yield ReadFailure(str(path), "not a regular file or folder")
        else:
            yield ReadFailure(str(path), "no such file or folder")


def _walk(
    root: Path, folder: Path, spec: GitIgnoreSpec | None, seen: set[Path]
) -> Iterator[Path | ReadFailure | Ignored]:
    real = folder.resolve()
    if real in seen:  # a symlink back up the tree
        return
    seen.add(real)
    try:
        children = sorted(folder.iterdir(), key=lambda child: child.name)
    except OSError as exc:
        yield ReadFailure(str(folder), f"cannot list the folder: {exc.strerror or exc}")
        return
    for child in children:
        is_dir = child.is_dir()
        if folder == root and child.name == IGNORE_FILE:
            continue  # the ignore list itself is read, not skipped
        if child.name.startswith("."):
            yield Ignored(child, "hidden", is_dir)
            continue
        relative = child.relative_to(root).as_posix() + ("/" if is_dir else "")
        if spec is not None and spec.match_file(relative):
            yield Ignored(child, IGNORE_FILE, is_dir)
        elif is_dir:
            yield from _walk(root, child, spec, seen)
        elif not child.is_file():
            yield ReadFailure(str(child), "not a regular file or folder")
        elif child.suffix.lower() in SUPPORTED_SUFFIXES:
            yield child
        else:
            yield Unsupported.of(str(child), child.name)


def _ignore_spec(root: Path) -> GitIgnoreSpec | None:
    """The root's .kunlunignore as a gitignore matcher, or None when there is none."""
    ignore_file = root / IGNORE_FILE
    if not ignore_file.is_file():
        return None
    import pathspec

    lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines)
