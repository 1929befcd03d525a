"""What every reader shares: the failure records, the bytes a reader reads, and title helpers."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import BinaryIO

from kunlun_nlp.document import Document
from kunlun_nlp.limits import MAX_TITLE_CHARS

# A first line longer than this is a paragraph, not a title: the file name stands in.
FIRST_LINE_TITLE_CHARS = 200


@dataclass(frozen=True)
class ReadFailure:
    path: str
    reason: str


@dataclass(frozen=True)
class Unsupported(ReadFailure):
    """A file (or e-mail attachment) of a kind no reader takes; listed, never dropped in silence."""

    @classmethod
    def of(cls, path: str, name: str) -> Unsupported:
        suffix = PurePath(name).suffix.lower()
        return cls(path, f"unsupported format {suffix or '(no extension)'}")


ReadResult = Document | ReadFailure


@dataclass(frozen=True)
class Blob:
    """Bytes to read: a file, or an attachment inside one.

    `name` picks the reader (by its suffix) and gives the last-resort title; `where` names it in
    failures (a path, or "mail.eml#report.pdf"); `source` is the folder it lies in.
    """

    name: str
    where: str
    opener: Callable[[], BinaryIO]

    @classmethod
    def from_path(cls, path: Path) -> Blob:
        return cls(path.name, str(path), lambda: path.open("rb"))

    @classmethod
    def from_bytes(cls, name: str, where: str, data: bytes) -> Blob:
        return cls(name, where, lambda: io.BytesIO(data))

    @property
    def suffix(self) -> str:
        return PurePath(self.name).suffix.lower()

    @property
    def stem(self) -> str:
        return PurePath(self.name).stem

    @property
    def source(self) -> str:
        """The folder a file lies in ("kings_ny"): what one site's pages share, and what source
        profiles (furniture) and per-source settings are keyed by; a whole path made every file
        a source of its own."""
        return PurePath(self.where.split("#", 1)[0]).parent.name or self.stem

    def read_bytes(self) -> bytes:
        with self.opener() as handle:
            return handle.read()

    def read_text(self) -> str:
        # utf-8-sig: a byte-order mark some Windows editors write is not part of the text
        return self.read_bytes().decode("utf-8-sig")


def first_line_title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= FIRST_LINE_TITLE_CHARS else fallback
    return fallback


def cap_title(title: str, limit: int = MAX_TITLE_CHARS) -> str:
    """A title from a file's metadata, cut at a word to fit the limit the API also enforces."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def day_of(value: datetime | date | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value
