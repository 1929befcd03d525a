"""The published date a release states in its text: "FOR IMMEDIATE RELEASE Friday, February 20,
2015", a "Published"/"Posted on" line, a date on its own line near the top, or a dateline
("HOUSTON (Jan. 5, 2016) –", "ORANGE COUNTY, Calif. – Dec. 7, 2012 –")."""

from __future__ import annotations

import re
from datetime import date

from kunlun_nlp.intake.furniture import Line, inside
from kunlun_nlp.triage.dates import MONTHS

_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tues|wed|wednes|thur|thurs|fri|sat|satur|sun)(?:day)?\.?,?\s+)?"
_WRITTEN = (
    _WEEKDAY + r"(?:" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d{2})"
    r"|(?P<day2>\d{1,2})\s+" + _MONTH.replace("month", "month2") + r",?\s+(?P<year2>(?:19|20)\d{2})"
    r"|(?P<iso>(?:19|20)\d{2}-\d{2}-\d{2})|(?P<us>\d{1,2}/\d{1,2}/(?:19|20)\d{2}))"
)
_LEAD = r"(?:for\s+immediate\s+release|published(?:\s+on)?|posted(?:\s+on)?|release\s+date|date(?:d)?|issued|updated)"
# A line that is a date, maybe after a label: "FOR IMMEDIATE RELEASE Friday, February 20, 2015".
_DATE_LINE = re.compile(r"^(?:" + _LEAD + r"\W*)*" + _WRITTEN + r"\W*$", re.I)
# A label alone on its line, whose date follows on the next: "Published" / "December 6, 2012".
_LABEL_LINE = re.compile(r"^" + _LEAD + r"\W*$", re.I)
# A dateline opening a paragraph: place, then the date after a comma, bracket or dash
# ("Miami (December 20, 2024)", "Miami, November 12, 2025", "Miami-June 26, 2025").
_DATELINE = re.compile(r"^[A-Z][\w .'’]{1,40}?\s*[,(–—-]\s*" + _WRITTEN + r"\s*(?:[)–—:,.-]|$)", re.I)
# A line that opens with the date and goes on with a time, a contact or a headline:
# "October 15, 2018 Contact: ...", "2021-09-08 12:45:06", "June 5, 2026: Jury convicts ...".
_DATE_FIRST = re.compile(r"^" + _WRITTEN + r"(?:\s+\d{1,2}:\d{2}|\s+contact\b|\s*[:–—-]\s+\S)", re.I)
# A byline ending in the date: "Admin | August 29, 2024".
_BYLINE = re.compile(r"^[\w .'’-]{1,40}\s*\|\s*" + _WRITTEN + r"\W*$", re.I)
# A posting timestamp, "2025-12-10 16:14:43": the page's own, wherever it stands.
_TIMESTAMP = re.compile(r"^" + _WRITTEN + r"\s+\d{1,2}:\d{2}(?::\d{2})?\s*$", re.I)
_SCAN_LINES = 40  # the date is stated near the top (menus not counted)...
_BODY_WORDS = 25  # ...before the body: a date after the first paragraph is another story's


def published_date(lines: list[Line], furniture: list[tuple[int, int]] = ()) -> date | None:
    """The first date the release states as its own, or None. Furniture lines (menus) do not use
    up the lines looked at; after the first paragraph only a posting timestamp still counts."""
    in_body, looked = False, 0
    for i, line in enumerate(lines):
        text = line.text
        if in_body:
            match = _TIMESTAMP.match(text)
        else:
            match = _DATE_LINE.match(text) or _BYLINE.match(text) or _DATE_FIRST.match(text) or _DATELINE.match(text)
            if not match and _LABEL_LINE.match(text) and i + 1 < len(lines):
                match = _DATE_LINE.match(lines[i + 1].text)
        if match and (found := _to_date(match)) is not None:
            return found
        if inside(furniture, line.start, line.end):
            continue
        looked += 1
        if looked >= _SCAN_LINES:
            return None
        if len(text.split()) >= _BODY_WORDS and text.rstrip("”\"'’ ").endswith((".", "?", "!")):
            in_body = True  # a paragraph: the body has begun (a long headline does not end so)
    return None


def _to_date(match: re.Match) -> date | None:
    try:
        if match["iso"]:
            return date.fromisoformat(match["iso"])
        if match["us"]:
            month, day, year = (int(x) for x in match["us"].split("/"))
            return date(year, month, day)
        if match["month"]:
            return date(int(match["year"]), MONTHS[match["month"].lower()], int(match["day"]))
        return date(int(match["year2"]), MONTHS[match["month2"].lower()], int(match["day2"]))
    except ValueError:  # "February 30"
        return None
