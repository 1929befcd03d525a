"""Search results written out whole (DocumentIndex.export's batches): CSV rows for spreadsheets,
JSONL lines for programs. The one place that says what an export holds.

JSONL: one stored record per line (records.tagged_to_record), without the embedding. CSV: one flat
row per document, CSV_COLUMNS, the file opening with a UTF-8 byte order mark so that spreadsheet
programs read the non-Latin titles and names as UTF-8 (read it back with encoding "utf-8-sig").
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Literal

from kunlun_nlp.document import DomainScore, TaggedDocument
from kunlun_nlp.records import tagged_to_record

ExportFormat = Literal["csv", "jsonl"]
EXPORT_FORMATS: tuple[str, ...] = ("csv", "jsonl")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
NAME_LABELS: tuple[str, ...] = ("ORG", "LOC", "PRODUCT", "PERSON")  # a column of top names each
TOP_NAMES = 5  # names per label in a row, most mentioned first
SEPARATOR = "; "  # between the values of a many-valued cell
BYTE_ORDER_MARK = "\ufeff"
# A spreadsheet runs a cell that starts with one of these as a formula: a report's own title must
# not, so such a cell gets a leading apostrophe (the spreadsheets' mark for "text").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _scored(scores: Iterable[DomainScore]) -> str:
    return SEPARATOR.join(f"{s.label}:{s.score:.2f}" for s in scores)


def _top_names(label: str) -> Callable[[TaggedDocument], str]:
    def names(tagged: TaggedDocument) -> str:
        mentions = Counter(e.normalized for e in tagged.entities if e.label == label)
        return SEPARATOR.join(name for name, _ in mentions.most_common(TOP_NAMES))  # ties: first mentioned first

    return names


# (column, its value of a document), in order.
_CELLS: tuple[tuple[str, Callable[[TaggedDocument], object]], ...] = (
    ("id", lambda t: t.id),
    ("title", lambda t: t.document.title),
    ("published", lambda t: t.document.published.isoformat() if t.document.published else ""),
    ("source", lambda t: t.document.source),
    ("language", lambda t: t.document.language),
    ("domains", lambda t: _scored(t.domains)),
    ("subtypes", lambda t: _scored(t.subtypes)),
    ("priority", lambda t: t.priority.score if t.priority else ""),
    ("priority_reasons", lambda t: SEPARATOR.join(t.priority.reasons) if t.priority else ""),
    ("grade", lambda t: t.document.grade or ""),
    ("reviewed_by", lambda t: t.review.reviewed_by if t.review else ""),
    ("reviewed_at", lambda t: t.review.reviewed_at.isoformat() if t.review else ""),
    ("review_note", lambda t: (t.review.note or "") if t.review else ""),
    *((label, _top_names(label)) for label in NAME_LABELS),
    ("cases", lambda t: len(t.cases)),
    ("corrected_by", lambda t: (t.correction or {}).get("by") or ""),
    ("model", lambda t: t.model),
    ("not_tagged", lambda t: t.not_tagged or ""),
    ("ingested_at", lambda t: t.document.ingested_at.isoformat()),
)
CSV_COLUMNS: tuple[str, ...] = tuple(name for name, _ in _CELLS)


def csv_row(tagged: TaggedDocument) -> list[str]:
    return [_cell(value(tagged)) for _, value in _CELLS]


def jsonl_line(tagged: TaggedDocument) -> str:
    record = tagged_to_record(tagged)
    del record["embedding"]
    return json.dumps(record, ensure_ascii=False) + "\n"


def export_chunks(batches: Iterable[list[TaggedDocument]], format: ExportFormat) -> Iterator[str]:
    """The export file, a chunk of text per batch (the CSV's header first)."""
    if format == "csv":
        yield BYTE_ORDER_MARK + _csv_text([list(CSV_COLUMNS)])
        for batch in batches:
            yield _csv_text(csv_row(tagged) for tagged in batch)
    elif format == "jsonl":
        for batch in batches:
            yield "".join(jsonl_line(tagged) for tagged in batch)
    else:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}")


def export_filename(format: ExportFormat, when: datetime) -> str:
    return f"kunlun-export-{when:%Y%m%d-%H%M%S}.{format}"


def _csv_text(rows: Iterable[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)  # RFC 4180's line ends
    return out.getvalue()


def _cell(value: object) -> str:
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
