"""What the models read of a document: the report without the site's furniture, under its title.

Pages saved from news sites end with lines that belong to the site, not the report. They carry
no evidence about the crime, yet words such as "copyright" or "infringe your rights" read like
intellectual-property crime to a classifier, so the classifier and the entity extractor see the
report without them. The stored text stays verbatim: only a trailing block is cut, so offsets
into the prefix are offsets into the document.
"""

from __future__ import annotations

import re
from typing import Protocol

# A line is furniture when it opens with one of these labels...
_LEADING = re.compile(
    r"^\s*(?:edit(?:or)?s?\s*[:：]|responsible editor|chief editor|editor in charge|source\s*[:：]|"
    r"share(?:\s+(?:this|on)\b|\s*[:：]|$)|print(?:\s+this)?\s*$|recommended reading|related (?:news|articles|reading)|"
    r"read (?:more|also)\b|tags?\s*[:：]|follow us\b|subscribe\b|contact us\b)",
    re.IGNORECASE,
)
# ...or states the site's rights or its reprint policy.
_RIGHTS = re.compile(r"^\s*(?:copyright\b|©)|©\s*\d{4}|all rights reserved|\bICP\b", re.IGNORECASE)
_SITE_POLICY = re.compile(
    r"\bthis (?:site|website|web site)\b.*\b(?:infring|copyright|delet|reproduc|reprint|contact)",
    re.IGNORECASE,
)
# Furniture lines are short; a long paragraph that happens to mention copyright is content.
_MAX_LINE = 400


def is_furniture(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return True
    if len(stripped) > _MAX_LINE:
        return False
    return bool(_LEADING.match(stripped) or _RIGHTS.search(stripped) or _SITE_POLICY.search(stripped))


def report_end(text: str) -> int:
    """Where the report ends: the start of its trailing block of furniture lines (len(text) if none)."""
    end = len(text)
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        if not is_furniture(text[start:end]):
            break
        end = start - 1 if start > 0 else 0
    # keep the report's own last line break out of the cut; never cut a text down to nothing
    return end if text[:end].strip() else len(text)


def report_body(text: str) -> str:
    """The text without its trailing furniture: what entities are extracted from."""
    return text[: report_end(text)]


class Titled(Protocol):
    title: str
    text: str


def classified_text(document: Titled, body: str | None = None) -> str:
    """What the domain classifier reads: the title (unless the text opens with it) and the body
    (default: the text without its trailing furniture)."""
    body = report_body(document.text) if body is None else body
    if document.title and not body.lstrip().startswith(document.title):
        return f"{document.title}\n{body}"
    return body
