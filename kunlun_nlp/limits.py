"""Intake limits, one set for every way in: the API's request models and the file readers use these.

A document over MAX_TEXT_CHARS is refused by the API and split into parts by the readers, so the
CLI and the API never hand the models a text they cannot take (spaCy stops at 1,000,000 characters
with error E088).
"""

from __future__ import annotations

import re

MAX_TEXT_CHARS = 200_000  # about 60 pages
# POST /tag answers in the request, one caller at a time on the API's pipeline: a longer text goes
# through the queue, so it cannot hold every other caller's tagging for seconds.
MAX_SYNC_TAG_CHARS = 20_000
MAX_TITLE_CHARS = 1_000
MAX_REVIEW_NOTE_CHARS = 2_000  # an analyst's note on a review: a few paragraphs
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$"
ID_RE = re.compile(ID_PATTERN)


def is_valid_id(value: str) -> bool:
    return ID_RE.fullmatch(value) is not None
