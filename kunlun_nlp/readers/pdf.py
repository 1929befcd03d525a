"""PDF: the text layer, the info dictionary's title and creation date."""

from __future__ import annotations

from datetime import date

from kunlun_nlp.document import Document
from kunlun_nlp.readers.base import Blob, cap_title, day_of, first_line_title


def read_pdf(blob: Blob) -> Document:
    from pypdf import PdfReader  # imported here: only PDFs need it

    with blob.opener() as handle:
        reader = PdfReader(handle)
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        meta_title = str(info.title) if info and info.title else ""
        published = _creation_day(info)
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise ValueError("the PDF has no text layer")
    return Document.create(
        text,
        title=cap_title(meta_title) or first_line_title(text, blob.stem),
        source=blob.source,
        published=published,
        published_via="pdf-info",
    )


def _creation_day(info) -> date | None:
    if not info:
        return None
    try:
        return day_of(info.creation_date)
    except Exception:  # a malformed /CreationDate ("D:2024" or junk) is no date, not a failed file
        return None
