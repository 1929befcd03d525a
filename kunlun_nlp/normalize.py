"""Canonical forms of entity mentions, so one firm or place is counted and filtered once.

Firms: legal suffixes ("Co., Ltd.", "Inc", "GmbH"...), a leading "the", possessives, case of
all-caps words and punctuation are folded. Other labels only get whitespace and quotes tidied.
`entity_key` is the case-insensitive key that filters and facets compare on.
"""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
_LEADING_THE = re.compile(r"^(?:the)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?:'s|')$")
_LEGAL_SUFFIX = re.compile(
    r"(?:[,\s]+(?:co\.?,?\s*ltd|company\s+limited|co|ltd|limited|inc|incorporated|corp|corporation|"
    r"llc|l\.l\.c|plc|gmbh|ag|s\.?a|s\.?r\.?l|b\.?v|n\.?v|pvt|private|pte|pty|llp|lp|group\s+co)\.?)+$",
    re.IGNORECASE,
)


def tidy(text: str) -> str:
    return _SPACES.sub(" ", text.translate(_QUOTES)).strip().strip('"').strip()


_NAMES = ("ORG", "LOC", "PERSON", "PRODUCT", "LAW")


def normalize_entity(label: str, text: str) -> str:
    value = tidy(text)
    if label in _NAMES:
        value = tidy(_LEADING_THE.sub("", _POSSESSIVE.sub("", value)))
    if label == "ORG":
        stripped = _LEGAL_SUFFIX.sub("", value).strip(" ,.")
        value = stripped or value
    return value


def entity_key(text: str) -> str:
    return tidy(text).casefold()


def entity_details(label: str, text: str) -> dict | None:
    """Parsed values for places, sums and quantities (being written: returns None for now)."""
    return None
