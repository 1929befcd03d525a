"""The report's headline: the title it came with when that is one, else its first line that reads
like a headline, never a menu line, a breadcrumb or a file name."""

from __future__ import annotations

import re

from kunlun_nlp.intake.furniture import Line, Span, inside, is_date_line

_FILE_STEM = re.compile(r"^[\w.]+(?:[-_][\w.]+)+$")  # "2015_02_20_brooklyn-man-convicted"
_NOT_HEADLINE = re.compile(
    r"^(?:skip to|for immediate release|(?:press|news) release\W*$|media advisory\W*$|contact|home$|menu$|search|"
    r"share|print|posted|published|updated|by |author|\d+ min read)|>|https?://|@|\(\d{3}\)|\d{3}-\d{3}-\d{4}|"
    r"\|.*\b(?:19|20)\d{2}\s*$|"  # "Admin | August 29, 2024": a byline
    r"\bcontact:|^\d+\s+(?:[nsew]\.?\s+)?\w+\s+(?:street|st|avenue|ave|broadway|boulevard|blvd|road|rd)\b|"  # letterheads
    r"^(?:[a-z]{3,9}\.?\s+\d{1,2},\s+\d{4}|\d{4}-\d{2}-\d{2})\s*$",  # a date
    re.I,
)
_MIN_WORDS, _MAX_WORDS, _MAX_CHARS = 3, 40, 300


def headline(title: str, lines: list[Line], furniture: list[Span], site_name: str | None) -> str:
    """`title` without the site's suffix when it reads as a headline; else the first content line
    that does; else the title as it was."""
    candidate = _without_site(title.strip(), site_name)
    furniture_texts = {line.text.casefold() for line in lines if inside(furniture, line.start, line.end)}
    if _reads_as_headline(candidate) and candidate.casefold() not in furniture_texts:
        return candidate
    content = [line for line in lines if not inside(furniture, line.start, line.end)]
    for i, line in enumerate(content):
        text = _LABEL.sub("", _without_site(line.text, site_name))
        if _reads_as_headline(text):
            return _with_wrapped_rest(text, content[i + 1 : i + 3])
    return candidate or title


# A label printed before the headline on one line: "For Immediate Release: Jury Finds ...".
_LABEL = re.compile(r"^(?:for immediate release|media advisory|press release|news release)\s*:\s*(?=\S)", re.I)
_CONNECTOR = re.compile(r"\b(?:in|of|for|and|to|the|a|an|with|on|at|by|her|his|their|after|from)$", re.I)


def _with_wrapped_rest(text: str, following: list[Line]) -> str:
    """A headline a PDF wrapped over two lines ("... her daughter" / "in car crash") is one."""
    if not following:
        return text
    rest = following[0].text
    short_tail = len(rest.split()) <= 8 and not rest.endswith((".", ":", "”", '"'))
    body_next = len(following) > 1 and len(following[1].text.split()) >= 12
    if _reads_as_headline(f"{text} {rest}") and (_CONNECTOR.search(text) or (short_tail and body_next and rest[:1].islower())):
        return f"{text} {rest}"
    return text


def _without_site(text: str, site_name: str | None) -> str:
    if site_name:
        for separator in (" - ", " | ", " – ", " — "):
            if text.endswith(separator + site_name):
                return text[: -len(separator + site_name)].strip()
    return text


def _reads_as_headline(text: str) -> bool:
    words = text.split()
    return (
        _MIN_WORDS <= len(words) <= _MAX_WORDS
        and len(text) <= _MAX_CHARS
        and not _FILE_STEM.match(text)
        and not _NOT_HEADLINE.search(text)
        and not is_date_line(text)
    )
