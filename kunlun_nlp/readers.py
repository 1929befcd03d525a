"""Read documents from files: .txt, .md, .html, .jsonl and .pdf.

Readers never raise for one bad file or line: they yield a ReadFailure instead, so a batch run
can count it and go on.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kunlun_nlp.document import Document
from kunlun_nlp.vocabulary import SourceGrade

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".jsonl", ".pdf")
_MAX_TITLE_CHARS = 200


@dataclass(frozen=True)
class ReadFailure:
    path: str
    reason: str


ReadResult = Document | ReadFailure


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[Path | ReadFailure]:
    """Expand folders (recursively, sorted) into the supported files they hold."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield child
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path
            else:
                yield ReadFailure(str(path), f"unsupported file type {path.suffix or '(none)'}")
        else:
            yield ReadFailure(str(path), "no such file or folder")


def read_file(path: str | Path) -> Iterator[ReadResult]:
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            yield from _read_jsonl(path)
            return
        reader = _SINGLE_DOCUMENT_READERS.get(suffix)
        if reader is None:
            yield ReadFailure(str(path), f"unsupported file type {suffix or '(none)'}")
            return
        yield reader(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        yield ReadFailure(str(path), str(exc))
    except Exception as exc:  # a malformed PDF or HTML page can raise anything; one file must not stop a run
        logging.getLogger(__name__).debug("reader failed", exc_info=True)
        yield ReadFailure(str(path), f"{type(exc).__name__}: {exc}")


def document_from_record(record: Any, *, source: str = "") -> Document:
    """Build a Document from a JSON object with at least `text`; other unknown fields are ignored."""
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("field 'text' is missing or empty")
    doc_id = record.get("id")
    if doc_id is not None and not isinstance(doc_id, str | int):
        raise ValueError("field 'id' must be a string")
    title = record.get("title") or ""
    if not isinstance(title, str):
        raise ValueError("field 'title' must be a string")
    grade = record.get("grade")
    if grade is not None:
        if not isinstance(grade, str):
            raise ValueError("field 'grade' must be a string like 'B2'")
        grade = SourceGrade.parse(grade).code
    return Document.create(
        text,
        title=title,
        id=str(doc_id) if doc_id is not None and str(doc_id).strip() else None,
        source=str(record.get("source") or source),
        published=parse_date(record.get("published")),
        language=str(record.get("language") or "en"),
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


def _read_jsonl(path: Path) -> Iterator[ReadResult]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                yield document_from_record(json.loads(line), source=str(path))
            except (json.JSONDecodeError, ValueError) as exc:
                yield ReadFailure(where, str(exc))


def _first_line_title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= _MAX_TITLE_CHARS else fallback
    return fallback


def _read_text(path: Path) -> Document:
    text = path.read_text(encoding="utf-8")
    return Document.create(text, title=_first_line_title(text, path.stem), source=str(path))


_MD_HEADING = re.compile(r"^\s*#\s+(.+)$", re.MULTILINE)


def _read_markdown(path: Path) -> Document:
    text = path.read_text(encoding="utf-8")
    heading = _MD_HEADING.search(text)
    title = heading.group(1).strip() if heading else _first_line_title(text, path.stem)
    return Document.create(text, title=title, source=str(path))


def _read_html(path: Path) -> Document:
    import trafilatura  # imported here: it is heavy and only HTML needs it

    html = path.read_text(encoding="utf-8", errors="replace")
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_precision=True)
    if not text:
        raise ValueError("no main text found in the HTML page")
    # Only dates the page states as its own (meta tags, <time>): the extensive search guesses
    # from any date in the page, such as a sidebar link's URL, and gets the month wrong.
    meta = trafilatura.extract_metadata(html, date_config={"extensive_search": False, "original_date": True})
    title = (meta.title if meta and meta.title else "") or path.stem
    published = None
    if meta and meta.date:
        try:
            published = parse_date(meta.date)
        except ValueError:
            published = None
    return Document.create(text, title=title, source=str(path), published=published)


def _read_pdf(path: Path) -> Document:
    from pypdf import PdfReader

    reader = PdfReader(path)
    pages = [page.extract_text() or "" for page in reader.pages]
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise ValueError("the PDF has no text layer")
    meta_title = reader.metadata.title if reader.metadata and reader.metadata.title else ""
    return Document.create(text, title=meta_title or _first_line_title(text, path.stem), source=str(path))


_SINGLE_DOCUMENT_READERS = {
    ".txt": _read_text,
    ".md": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
}
