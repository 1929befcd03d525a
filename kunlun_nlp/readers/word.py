"""Word .docx: body paragraphs and tables in document order, the core properties' title and date."""

from __future__ import annotations

from datetime import UTC, date, datetime

from kunlun_nlp.document import Document
from kunlun_nlp.readers.base import Blob, cap_title, day_of, first_line_title

# python-docx's blank template stamps every new file with this creation time: it says nothing of
# when the report was written, so a file made from it has no date rather than a wrong one.
_TEMPLATE_STAMP = datetime(2013, 12, 23, 23, 15, tzinfo=UTC)


def read_docx(blob: Blob) -> Document:
    import docx  # python-docx; imported here: only .docx files need it

    with blob.opener() as handle:
        word = docx.Document(handle)
    blocks: list[str] = []
    for block in word.iter_inner_content():
        if isinstance(block, docx.table.Table):
            blocks.extend(_table_rows(block))
        elif block.text.strip():
            blocks.append(block.text.strip())
    text = "\n\n".join(blocks)
    if not text.strip():
        raise ValueError("the .docx has no text")
    props = word.core_properties
    published = _day(props.created) or _day(props.modified)
    return Document.create(
        text,
        title=cap_title(props.title or "") or first_line_title(text, blob.stem),
        source=blob.source,
        published=published,
        published_via="docx-meta",
    )


def _table_rows(table) -> list[str]:
    """One line per row, cells joined by " | "; a merged cell (repeated by python-docx) once."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            value = " ".join(cell.text.split())
            if value:
                cells.append(value)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _day(value: datetime | None) -> date | None:
    if value is None or value == _TEMPLATE_STAMP:
        return None
    return day_of(value)
