"""Site furniture: the lines of a document that recur across its source's documents.

Menus, "Skip to content", press-office contact blocks, hotline footers, share bars and
disclaimers are the template of the site, so they recur; a report's own lines do not. The text is
stored as it came: furniture is a list of character spans, and what the models read is the text
with those spans blanked (same offsets, so entities and evidence still point into the stored text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from kunlun_nlp.intake.profiles import SUFFIX, line_key

Span = tuple[int, int]

# A page title's site suffix: "Headline - Orange County District Attorney", "Headline | Site".
_SITE_SUFFIX = re.compile(r"\s+[-|–—]\s+([^|–—]{3,120}?)\s*$")
_DATE_ONLY = re.compile(
    r"^(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?(?:[a-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+[a-z]{3,9}\.?,?\s+\d{4}|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})$",
    re.I,
)


@dataclass(frozen=True)
class Line:
    start: int
    end: int
    text: str  # stripped

    @cached_property  # asked when learning, counting and judging
    def key(self) -> str:
        return line_key(self.text)


def lines_of(text: str) -> list[Line]:
    """The non-blank lines, each with the span of its stripped text."""
    out = []
    for match in re.finditer(r"[^\n]+", text):
        raw = match.group()
        stripped = raw.strip()
        if stripped:
            start = match.start() + (len(raw) - len(raw.lstrip()))
            out.append(Line(start, start + len(stripped), stripped))
    return out


def site_suffix(title_line: str) -> str | None:
    match = _SITE_SUFFIX.search(title_line)
    return match.group(1).strip() if match else None


def profile_keys(lines: list[Line]) -> set[str]:
    """What a document teaches its source's profile: its lines, and its first line's site suffix."""
    keys = {line.key for line in lines}
    if lines and (suffix := site_suffix(lines[0].text)):
        keys.add(SUFFIX + suffix)
    return keys


def recurring_spans(lines: list[Line], counts: dict[str, int], *, min_documents: int, max_line_chars: int) -> list[Span]:
    """Spans of the lines that recur in at least `min_documents` of the source's documents.

    Not furniture however often they recur: a date on its own line (the calendar repeats, the
    template does not) and long lines (a release published twice is still a release). A
    document all of whose lines recur is a copy, not a template: nothing is marked then."""
    spans = [
        (line.start, line.end)
        for line in lines
        if counts.get(line.key, 0) >= min_documents and len(line.text) <= max_line_chars and not is_date_line(line.text)
    ]
    return [] if len(spans) == len(lines) else spans


def is_date_line(text: str) -> bool:
    return bool(_DATE_ONLY.match(text.strip()))


def union_of_spans(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def masked(text: str, spans: list[Span]) -> str:
    """`text` with the spans blanked to spaces (line breaks kept): same length, same offsets."""
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def inside(spans: list[Span], start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in spans)
