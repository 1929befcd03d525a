"""Numbers as reports write them: "1,234.5", "12,50,000" (Indian grouping), "1.234.567,89",
"1,5" (decimal comma), "20 000", "1.2 million", "£1.5m", "4.2bn", "2 lakh", "4 crore",
"two million", "half a", "a dozen".

`find_number(text)` gives the first number in a text with where it ends, for the money and
quantity parsers to read what follows (a unit, a currency word).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Digits with separators: commas, dots, apostrophes ("1'000"), and spaces before groups of
# exactly three digits ("20 000"). Separators are decided in _digits_value.
_DIGITS = r"\d+(?:[.,'’]\d+)*(?:[ \u00a0\u202f\u2009]\d{3}(?![\d.,]\d))*(?:[.,]\d+)?"

# Scale words and abbreviations after a number: value, regex. "m"/"b"/"k" only right after it.
_SCALES: list[tuple[float, str]] = [
    (1e12, r"trillions?|tn|trn|tril"),
    (1e9, r"billions?|bn|bln|bil|b|bilh(?:ão|ões|ao|oes)|mil millones"),
    (1e7, r"crores?|cr"),
    (1e6, r"millions?|mn|mln|mio|m|mill?(?:ón|ones|on)|milh(?:ão|ões|ao|oes)|million"),
    (1e5, r"lakhs?|lacs?|lakh"),
    (1e3, r"thousands?|k|thou"),
    (1e8, r"亿"),
    (1e4, r"万"),
]
_SCALE = re.compile(
    r"[\s-]*(" + "|".join(f"(?:{pattern})" for _, pattern in _SCALES) + r")(?![\w])", re.IGNORECASE
)
_SCALE_VALUES = [(re.compile(f"(?:{pattern})$", re.IGNORECASE), value) for value, pattern in _SCALES]

# "mil": a thousand in Spanish and Portuguese ("5 mil pesos"), a million in Malaysian and
# Singaporean English ("RM5 mil"). Read by the caller's locale hint.
_MIL = re.compile(r"[\s-]*(mil)(?![\w])", re.IGNORECASE)

_WORD_UNITS = {
    "zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "dozen": 12, "half": 0.5, "quarter": 0.25, "several": None,
}
_WORD_SCALES = {
    "hundred": 100, "thousand": 1e3, "lakh": 1e5, "lakhs": 1e5, "crore": 1e7, "crores": 1e7,
    "million": 1e6, "billion": 1e9, "trillion": 1e12, "dozen": 12,
}
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)?", re.IGNORECASE)
_NUMBER_WORDS = set(_WORD_UNITS) | set(_WORD_SCALES) | {"and"}


@dataclass(frozen=True)
class Number:
    value: float
    start: int
    end: int  # where the number (and its scale word) ends in the text


def _digits_value(digits: str, *, dot_groups_thousands: bool = False) -> float | None:
    digits = re.sub(r"[\s\u00a0\u202f\u2009'’]", "", digits)
    if "," in digits and "." in digits:
        # The later separator is the decimal one: "1,234.5" and "1.234,5".
        decimal = "." if digits.rfind(".") > digits.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        digits = digits.replace(thousands, "").replace(decimal, ".")
    elif "," in digits:
        groups = digits.split(",")
        if _thousands_groups(groups):
            digits = digits.replace(",", "")
        elif len(groups) == 2:
            digits = digits.replace(",", ".")  # "1,5 million", "R$ 1,2 milhão"
        else:
            return None
    elif "." in digits:
        groups = digits.split(".")
        if len(groups) > 2:
            if not _thousands_groups(groups):
                return None
            digits = digits.replace(".", "")  # "1.234.567"
        elif dot_groups_thousands and len(groups[1]) == 3:
            digits = digits.replace(".", "")  # "Rp 150.000"
    try:
        return float(digits)
    except ValueError:
        return None


def _thousands_groups(groups: list[str]) -> bool:
    """"1,234,567" (threes) or "12,34,567" (Indian: twos, then a three)."""
    first, *rest = groups
    if not rest or not 1 <= len(first) <= 3 or len(rest[-1]) != 3:
        return False
    middle = rest[:-1]
    return all(len(g) == 3 for g in middle) or all(len(g) == 2 for g in middle)


def scale_at(text: str, pos: int, *, mil: float | None = None) -> tuple[float, int]:
    """The scale word at text[pos:] ("million", "bn", "lakh"...) as (multiplier, end), or (1, pos)."""
    match = _SCALE.match(text, pos)
    if match:
        word = match.group(1)
        if word.lower() in {"m", "b", "k", "cr", "mn", "bn"} and match.start(1) != pos:
            # "5 m" is five metres as often as five million; only a word or a glued letter counts.
            if word.lower() in {"m", "b", "k"}:
                return 1.0, pos
        for pattern, value in _SCALE_VALUES:
            if pattern.match(word):
                return value, match.end()
    if mil is not None:
        match = _MIL.match(text, pos)
        if match:
            return mil, match.end()
    return 1.0, pos


def find_number(
    text: str, start: int = 0, *, dot_groups_thousands: bool = False, mil: float | None = None
) -> Number | None:
    """The first number at or after `start`, in digits or words, with its scale word."""
    digits = re.compile(_DIGITS).search(text, start)
    words = _find_word_number(text, start, digits.start() if digits else len(text))
    if words is not None:
        return words
    if digits is None:
        return None
    value = _digits_value(digits.group(), dot_groups_thousands=dot_groups_thousands)
    end = digits.end()
    if value is None:
        # "1,23,4": read as far as it makes sense.
        value = _digits_value(re.match(r"\d+", digits.group()).group())
        end = digits.start() + len(re.match(r"\d+", digits.group()).group())
    scale, end = scale_at(text, end, mil=mil)
    # "half a million", "a quarter million" are words; "1.5 million" is here.
    return Number(value * scale, digits.start(), end)


def _find_word_number(text: str, start: int, stop: int) -> Number | None:
    """Spelled numbers before `stop`: "two million", "half a tonne", "a dozen", "twenty-five"."""
    tokens = [m for m in _WORD.finditer(text, start, stop)]
    i = 0
    while i < len(tokens):
        if tokens[i].group().lower().split("-")[0] in _NUMBER_WORDS - {"and", "a", "an"} or (
            tokens[i].group().lower() in {"a", "an"}
            and i + 1 < len(tokens)
            and tokens[i + 1].group().lower() in _WORD_SCALES
        ):
            parsed = _parse_words(tokens[i:])
            if parsed is not None:
                value, used = parsed
                return Number(value, tokens[i].start(), tokens[i + used - 1].end())
        i += 1
    return None


def _parse_words(tokens: list[re.Match]) -> tuple[float, int] | None:
    total = 0.0
    current = 0.0
    seen = False
    used = 0
    fraction = None
    for token in tokens:
        word = token.group().lower()
        parts = word.split("-")
        if all(p in _WORD_UNITS and _WORD_UNITS[p] is not None and _WORD_UNITS[p] >= 1 for p in parts) and len(parts) > 1:
            current += sum(_WORD_UNITS[p] for p in parts)  # "twenty-five"
        elif word in ("half", "quarter") and not seen:
            fraction = _WORD_UNITS[word]  # "half a million", "half a tonne"
        elif word in ("a", "an"):
            if seen and current == 0 and total == 0 and fraction is None:
                break
            if fraction is None:
                current += 1
        elif word == "and" and seen:
            pass
        elif word in _WORD_SCALES and (seen or fraction is not None):
            scale = _WORD_SCALES[word]
            base = current or 1
            if scale == 100:
                current = base * 100
            else:
                total += base * scale
                current = 0
        elif word in _WORD_UNITS and _WORD_UNITS[word] is not None and word not in ("half", "quarter"):
            current += _WORD_UNITS[word]
        else:
            break
        seen = True
        used += 1
    if not seen:
        return None
    while used and tokens[used - 1].group().lower() in ("and",):
        used -= 1
    value = total + current
    if fraction is not None:
        value = (value or 1) * fraction
    if value == 0 and not any(t.group().lower() == "zero" for t in tokens[:used]):
        return None
    return value, used


# --- Numbers that are not counts ------------------------------------------------------------------
# A reader never takes the 2015 of "Jan. 21, 2015", the 8408 of "714-347-8408" or the 46 of a
# "46-year-old" for how many people were harmed; `non_count_spans` finds such numbers so that
# counting rules can skip them. Forms written with digits only: number words are left to the caller.

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_YEAR = r"(?:19\d\d|20\d\d|2100)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_CURRENCY = r"(?:[$€£¥₹₱₦]|(?:US|HK|NT|A|C|S)\$|\b(?:USD|EUR|GBP|RMB|CNY|INR|Rs\.?|Rp\.?|RM|PHP|NGN|KES)\s?)"
_SCALE_WORDS = r"(?:\s?(?:million|billion|thousand|trillion|mn|bn|[mbk])\b)?"
_STREET = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|way|court|ct|place|pl|parkway|pkwy|"
    r"highway|hwy|circle|cir|terrace|trail|plaza|square|freeway|fwy)\b\.?"
)

# (kind, pattern): case-insensitive unless the pattern says otherwise with (?-i:...).
_NON_COUNT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in [
        # "Jan. 21, 2015", "January 21st", "13 July 2011", "November 2001", "2-20-89", "2024-01-05"
        ("date", rf"\b{_MONTH}\s*{_DAY}\b(?:,?\s*{_YEAR}\b)?"),
        ("date", rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s*{_YEAR}\b)?"),
        ("date", rf"\b{_MONTH},?\s*{_YEAR}\b"),
        ("date", r"(?<![\d.])\d{1,4}([/.-])\d{1,2}\1\d{2,4}(?!\d|\.\d)"),
        # "(714) 347-8405", "714-347-8408", "1-800-555-0100", "347-8408"
        ("phone", r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|(?<![\d-])\d{3}[\s.-])\d{3}[.-]\d{4}(?!\d)"),
        ("phone", r"(?<![\d-])\d{3}-\d{4}(?![\d-])"),
        # "Case No. 2019-12345", "case number 19CF1234", "Docket #12-345", "No. 5", "#4411"
        ("case number", r"\b(?:case|docket|file|complaint|indictment|booking|citation|report|incident|inmate|badge|"
                        r"ticket|warrant|permit|licen[cs]e|account|ordinance)"
                        r"\s*(?:no\b\.?|number|num\b\.?|#|:)\s*:?\s*#?\s*[A-Z]*\d[\w-]*"),
        ("case number", r"\b(?:no\.|#)\s*\d[\w-]*|\b(?:code|section|(?:senate|assembly|house) bill)\s+\d[\w.()-]*"),
        ("case number", r"(?-i:\b(?:AB|SB|HB|Prop\.?|Proposition)\s*\d+\b)"),
        # identifiers: digits run into capitals or hyphens ("20CF1682", "18-MD-2827-EJD", "COVID-19", "H1N1")
        ("case number", r"(?-i:\b(?:[A-Z]+-?\d\w*(?:-\w+)*|\d+[A-Z]\w*(?:-\w+)*|\d+-[A-Z]{2,}(?:-\w+)*|\d+-\d+(?:-\w+)+|\d{2,4}-\d{3,})\b)"),
        # "the 3000 block", "1234 N. Main St.", "Suite 200", "Highway 101", "P.O. Box 77", "CA 92701"
        ("address", r"\b\d+\s+block\b"),
        ("address", rf"\b\d+[A-Z]?\s+(?:[NSEW]\.?\s+|(?:north|south|east|west)\s+)?(?:(?-i:[A-Z][\w'’.]*)\s+){{1,3}}{_STREET}"),
        ("address", r"\b(?:suite|ste|room|rm|unit|apt|apartment|floor|box|highway|hwy|interstate|route|rte|freeway)[\s.#-]*\d+\b"),
        ("address", r"(?-i:\b(?:US|I|SR)[\s-]?\d+\b)"),  # capitals only: "told us 5 people" is a count
        ("address", r"(?-i:\b[A-Z]{2})\s+\d{5}(?:-\d{4})?\b"),
        # "46-year-old", "46 years old", "aged 46", "age 46", "Smith, 46, of", "all 16,", "(46)"
        ("age", r"\b\d{1,3}(?:\s+|-)(?:years?|yrs?|months?|weeks?|days?)(?:\s+|-)old\b"),
        ("age", r"\b(?:aged?|ages)\s+\d{1,3}\b|\ball\s+\d{1,3}(?=,)"),  # "all 3 victims" is a count
        ("age", r"(?<=[a-z.’'],\s)\d{1,3}(?=,|\s+of\s+(?-i:[A-Z]))"),
        ("age", r"(?<=[a-z] \()\d{1,3}(?=\))"),
        # "$1.2 million", "US$500", "500 dollars", "RMB 30 million"
        ("money", rf"{_CURRENCY}\s?\d[\d,.]*{_SCALE_WORDS}"),
        ("money", rf"\b\d[\d,.]*{_SCALE_WORDS}\s*(?:dollars|usd|cents|euros|pounds sterling|yuan|rupees|pesos)\b"),
        # "10:30 p.m.", "10 pm", "9 o'clock", "22:15"
        ("time", r"\b\d{1,2}(?::\d{2})?\s*(?:a\.?m\b\.?|p\.?m\b\.?|o['’]clock\b)"),
        ("time", r"\b\d{1,2}:\d{2}\b"),
        ("percent", r"\b\d[\d,.]*\s*(?:%|percent\b|per cent\b)"),
        # a bare year, not a count with thousands ("2,015") nor part of a longer number
        ("year", rf"(?<![\d,.])'?{_YEAR}s?(?![\d]|[.,]\d)"),
    ]
]


@dataclass(frozen=True)
class NumberSpan:
    kind: str  # date, phone, case number, address, age, money, time, percent, year
    start: int
    end: int


def non_count_spans(text: str) -> list[NumberSpan]:
    """Where `text` writes numbers that say when, where, who, how old, how much money or which
    case rather than how many: dates, years, phone and case numbers, addresses, ages, money,
    times and percentages. The outermost reading of each, in text order: a year inside a date is
    the date; of two readings of one span, the first kind listed above ("2-20-89" is a date)."""
    found = [NumberSpan(kind, m.start(), m.end()) for kind, pattern in _NON_COUNT_PATTERNS for m in pattern.finditer(text)]
    # stable sort: equal spans keep the order of _NON_COUNT_PATTERNS
    found.sort(key=lambda s: (s.start, -s.end))
    spans: list[NumberSpan] = []
    for span in found:
        if not any(kept.start <= span.start and span.end <= kept.end for kept in spans):
            spans.append(span)
    return spans
