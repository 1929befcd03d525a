"""JSON records: one object per JSONL line, the same fields the API takes."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from kunlun_nlp.document import Document
from kunlun_nlp.limits import ID_PATTERN, MAX_TITLE_CHARS, is_valid_id
from kunlun_nlp.readers.base import Blob, ReadFailure, ReadResult
from kunlun_nlp.vocabulary import SourceGrade


def document_from_record(record: Any, *, source: str = "") -> Document:
    """Build a Document from a JSON object with at least `text`; other unknown fields are ignored.

    The id and title obey the API's limits, so a record the API would refuse is refused here too.
    A text over the limit is left to the caller (read_file splits it into parts).
    """
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("field 'text' is missing or empty")
    doc_id = record.get("id")
    if doc_id is not None and not isinstance(doc_id, str | int):
        raise ValueError("field 'id' must be a string")
    doc_id = str(doc_id).strip() if doc_id is not None else ""
    if doc_id and not is_valid_id(doc_id):
        raise ValueError(f"field 'id' must match {ID_PATTERN}")
    title = record.get("title") or ""
    if not isinstance(title, str):
        raise ValueError("field 'title' must be a string")
    if len(title) > MAX_TITLE_CHARS:
        raise ValueError(f"field 'title' is longer than {MAX_TITLE_CHARS} characters")
    grade = record.get("grade")
    if grade is not None:
        if not isinstance(grade, str):
            raise ValueError("field 'grade' must be a string like 'B2'")
        grade = SourceGrade.parse(grade).code
    return Document.create(
        text,
        title=title,
        id=doc_id or None,
        source=str(record.get("source") or source),
        published=parse_date(record.get("published")),
        language=str(record.get("language") or ""),  # none given: the pipeline detects it
        grade=grade,
    )


def parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            raise ValueError(f"not an ISO date: {value!r}") from None


def read_jsonl(blob: Blob) -> Iterator[ReadResult]:
    """Streamed line by line: a JSONL export may be larger than memory."""
    with blob.opener() as raw, io.TextIOWrapper(raw, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield document_from_record(json.loads(line), source=blob.source)
            except (json.JSONDecodeError, ValueError) as exc:
                yield ReadFailure(f"{blob.where}:{number}", str(exc))
