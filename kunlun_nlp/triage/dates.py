"""Resolve the date phrases reports use against the report's published date.

"on Tuesday" is the latest Tuesday on or before publication; "last week" is seven days before;
"in March" and "last month" are the month's first day, in the latest year that does not put
the event after publication; "yesterday", "N days ago", ISO dates and written dates are read as
they say. A phrase that names no day, month or year resolves to None.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

# Month names and abbreviations → month numbers (the intake's dateline reads them too).
MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")],
        start=1,
    )
    for name in names
}
_WEEKDAYS = {name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_ISO = re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
_DAY_MONTH = re.compile(r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+(?P<year>\d{4}))?\b", re.I)
_MONTH_DAY = re.compile(r"\b" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{4}))?\b", re.I)
_MONTH_YEAR = re.compile(r"\b" + _MONTH + r"(?:\s+(?:of\s+)?(?P<year>\d{4}))?\b", re.I)
_YEAR = re.compile(r"\b(?P<year>(?:19|20)\d{2})\b")
_WEEKDAY = re.compile(r"\b(?P<last>last\s+)?(?P<weekday>" + "|".join(_WEEKDAYS) + r")\b", re.I)
_AGO = re.compile(r"\b(?P<n>\d+|a|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?P<unit>day|week|month|year)s?\s+ago\b", re.I)
_SMALL = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def resolve_date(phrase: str, published: date | None) -> date | None:
    text = phrase.strip().lower()
    if match := _ISO.search(text):
        return _safe_date(int(match["y"]), int(match["m"]), int(match["d"]))
    for pattern in (_DAY_MONTH, _MONTH_DAY):
        if match := pattern.search(text):
            month, day = MONTHS[match["month"].lower()], int(match["day"])
            if match["year"]:
                return _safe_date(int(match["year"]), month, day)
            return _in_latest_year(published, month, day)
    if published is None:
        if match := _MONTH_YEAR.search(text):
            if match["year"]:
                return _safe_date(int(match["year"]), MONTHS[match["month"].lower()], 1)
        if match := _YEAR.search(text):
            return date(int(match["year"]), 1, 1)
        return None
    if re.search(r"\b(today|this morning|this afternoon|tonight|this evening)\b", text):
        return published
    if re.search(r"\byesterday\b", text):
        return published - timedelta(days=1)
    if match := _AGO.search(text):
        n = int(match["n"]) if match["n"].isdigit() else _SMALL[match["n"].lower()]
        unit = match["unit"].lower()
        if unit == "day":
            return published - timedelta(days=n)
        if unit == "week":
            return published - timedelta(weeks=n)
        if unit == "month":
            return _first_of_month(published, -n)
        return date(published.year - n, 1, 1)
    if re.search(r"\blast week\b", text):
        return published - timedelta(days=7)
    if re.search(r"\bthis week\b|\bearlier this week\b", text):
        return published - timedelta(days=published.weekday())
    if re.search(r"\blast month\b", text):
        return _first_of_month(published, -1)
    if re.search(r"\b(this month|earlier this month)\b", text):
        return published.replace(day=1)
    if re.search(r"\blast year\b", text):
        return date(published.year - 1, 1, 1)
    if re.search(r"\bthis year\b|\bearlier this year\b", text):
        return date(published.year, 1, 1)
    if match := _WEEKDAY.search(text):
        back = (published.weekday() - _WEEKDAYS[match["weekday"].lower()]) % 7
        if match["last"] and back == 0:
            back = 7
        return published - timedelta(days=back)
    if match := _MONTH_YEAR.search(text):
        month = MONTHS[match["month"].lower()]
        if match["year"]:
            return _safe_date(int(match["year"]), month, 1)
        return _in_latest_year(published, month, 1)
    if match := _YEAR.search(text):
        return date(int(match["year"]), 1, 1)
    return None


def _in_latest_year(published: date | None, month: int, day: int) -> date | None:
    """The month and day in the publication year, or the year before if that is after publication."""
    if published is None:
        return None
    candidate = _safe_date(published.year, month, day)
    if candidate is not None and candidate > published:
        candidate = _safe_date(published.year - 1, month, day)
    return candidate


def _first_of_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
