"""Sentence spans by rule: cheap, and good enough to quote evidence back to an analyst."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (optionally closed by a quote or bracket) before whitespace and a
# capital, digit or opening quote; a line break always ends one.
_BOUNDARY = re.compile(r"(?<=[.!?])([\"'”’)\]]?)\s+(?=[A-Z0-9\"“‘(])|\n+")
_ABBREVIATIONS = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|No|Co|Ltd|Inc|Corp|Jr|Sr|vs|U\.S|e\.g|i\.e)\.$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() + len(match.group(1) or "")
        if match.group(0)[0] != "\n" and _ABBREVIATIONS.search(text[start:end]):
            continue
        if text[start:end].strip():
            spans.append(_strip(text, start, end))
        start = match.end()
    if text[start:].strip():
        spans.append(_strip(text, start, len(text)))
    return spans


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
