"""Fit a document to the intake limit: split a long one into parts at paragraph breaks (failing
those, at sentence ends, failing those at spaces), or refuse it when it is not text at all."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from itertools import pairwise

from kunlun_nlp.document import Document
from kunlun_nlp.limits import MAX_TEXT_CHARS, MAX_TITLE_CHARS, is_valid_id
from kunlun_nlp.readers.base import ReadFailure, cap_title

# Break points, coarsest first; each match's end is where a part may end.
_BREAKS = (
    re.compile(r"\n[^\S\n]*\n\s*"),  # a blank line: paragraphs
    re.compile(r"(?:[.!?;:][\"'”’)\]]*\s+|[。！？；]\s*|\n\s*)"),  # sentence ends and line breaks
    re.compile(r"\s+"),  # words
)
# Characters that do not occur in text a person wrote: C0 controls (bar tab, newlines, form feed),
# DEL, and the replacement character a bad decode leaves.
_JUNK = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_JUNK_SHARE = 0.01


class Unsplittable(ValueError):
    """The text has no paragraph, sentence or word break to split it at, or is binary data."""


def fit_to_limit(document: Document, where: str, *, limit: int = MAX_TEXT_CHARS) -> Iterator[Document | ReadFailure]:
    """The document itself when it fits; else its parts ("<id>-partN", "<title> (part i of N)")."""
    if len(document.text) <= limit:
        yield document
        return
    try:
        texts = split_text(document.text, limit)
    except Unsplittable as exc:
        yield ReadFailure(where, f"refused: {len(document.text):,} characters, over the {limit:,} limit, and {exc}")
        return
    count = len(texts)
    ids = [f"{document.id}-part{number}" for number in range(1, count + 1)]
    if not all(is_valid_id(part_id) for part_id in ids):
        reason = f"refused: over the {limit:,} character limit, and the id {document.id!r} is too long to number its parts"
        yield ReadFailure(where, reason)
        return
    base_title = document.title or ""
    for number, (part_id, text) in enumerate(zip(ids, texts, strict=True), start=1):
        suffix = f" (part {number} of {count})"
        title = cap_title(base_title, MAX_TITLE_CHARS - len(suffix)) + suffix if base_title else suffix.strip()
        yield replace(document, id=part_id, title=title, text=text)


def split_text(text: str, limit: int) -> list[str]:
    """Consecutive parts of at most `limit` characters, each cut at the coarsest break that fits.

    Raises Unsplittable for binary-looking data or a run of over `limit` characters with no space.
    """
    junk = len(_JUNK.findall(text))
    if junk > _JUNK_SHARE * len(text):
        raise Unsplittable(f"{junk / len(text):.0%} of it is control characters: binary data, not text")
    spans = _pieces(text, 0, len(text), limit, level=0)
    parts: list[str] = []
    start = end = spans[0][0]
    for piece_start, piece_end in spans:
        if piece_end - start > limit:
            parts.append(text[start:end])
            start = piece_start
        end = piece_end
    parts.append(text[start:end])
    return [part.strip() for part in parts if part.strip()]


def _pieces(text: str, start: int, end: int, limit: int, *, level: int) -> list[tuple[int, int]]:
    """Split text[start:end] at the breaks of this level; pieces still too long go a level finer."""
    cuts = [match.end() for match in _BREAKS[level].finditer(text, start, end)]
    bounds = [start, *(cut for cut in cuts if start < cut < end), end]
    pieces: list[tuple[int, int]] = []
    for piece_start, piece_end in pairwise(bounds):
        if piece_end - piece_start <= limit:
            pieces.append((piece_start, piece_end))
        elif level + 1 < len(_BREAKS):
            pieces.extend(_pieces(text, piece_start, piece_end, limit, level=level + 1))
        else:
            raise Unsplittable(f"has {piece_end - piece_start:,} characters without a space to split at")
    return pieces
