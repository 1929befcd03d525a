"""Plain text and Markdown: the title is the first line (Markdown: the first `# ` heading)."""

from __future__ import annotations

import re

from kunlun_nlp.document import Document
from kunlun_nlp.readers.base import Blob, cap_title, first_line_title


def read_text(blob: Blob) -> Document:
    text = blob.read_text()
    return Document.create(text, title=first_line_title(text, blob.stem), source=blob.source)


_MD_HEADING = re.compile(r"^\s*#\s+(.+)$", re.MULTILINE)


def read_markdown(blob: Blob) -> Document:
    text = blob.read_text()
    heading = _MD_HEADING.search(text)
    title = cap_title(heading.group(1).strip()) if heading else first_line_title(text, blob.stem)
    return Document.create(text, title=title, source=blob.source)
