"""Pick the reader by the file's suffix; never raise for one bad file, and fit every document to
the intake limits (a longer one is split into parts or refused, with the reason)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from kunlun_nlp.document import Document
from kunlun_nlp.limits import MAX_TEXT_CHARS
from kunlun_nlp.readers.base import Blob, ReadFailure, ReadResult, Unsupported
from kunlun_nlp.readers.mail import read_eml
from kunlun_nlp.readers.pdf import read_pdf
from kunlun_nlp.readers.records import read_jsonl
from kunlun_nlp.readers.split import fit_to_limit
from kunlun_nlp.readers.text import read_markdown, read_text
from kunlun_nlp.readers.web import read_html
from kunlun_nlp.readers.word import read_docx

_SINGLE_DOCUMENT_READERS: dict[str, Callable[[Blob], Document]] = {
    ".txt": read_text,
    ".md": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
_MULTI_DOCUMENT_SUFFIXES = (".jsonl", ".eml")
SUPPORTED_SUFFIXES = (*_SINGLE_DOCUMENT_READERS, *_MULTI_DOCUMENT_SUFFIXES)

# Told (where, number of parts) each time a document over the limit is split.
SplitListener = Callable[[str, int], None]


def read_file(path: str | Path, *, on_split: SplitListener | None = None) -> Iterator[ReadResult]:
    """The documents in one file, or ReadFailures saying why not; each text within MAX_TEXT_CHARS."""
    return read_blob(Blob.from_path(Path(path)), on_split=on_split)


def read_blob(blob: Blob, *, on_split: SplitListener | None = None) -> Iterator[ReadResult]:
    several = blob.suffix in _MULTI_DOCUMENT_SUFFIXES
    for result in read_raw(blob):
        if isinstance(result, ReadFailure):
            yield result
            continue
        # a JSONL file or an e-mail holds several documents: say which one is refused
        where = f"{blob.where} (id {result.id})" if several else blob.where
        parts = list(fit_to_limit(result, where, limit=MAX_TEXT_CHARS))
        if on_split and len(parts) > 1:
            on_split(where, len(parts))
        yield from parts


def read_raw(blob: Blob, *, depth: int = 0) -> Iterator[ReadResult]:
    """What the reader finds, before the limits; an e-mail's attachments come through here."""
    suffix = blob.suffix
    try:
        if suffix == ".jsonl":
            yield from read_jsonl(blob)
        elif suffix == ".eml":
            yield from read_eml(blob, depth=depth)
        elif suffix in _SINGLE_DOCUMENT_READERS:
            yield _SINGLE_DOCUMENT_READERS[suffix](blob)
        else:
            yield Unsupported.of(blob.where, blob.name)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        yield ReadFailure(blob.where, str(exc))
    except Exception as exc:  # a malformed PDF, page or archive can raise anything; one file must not stop a run
        logging.getLogger(__name__).debug("reader failed", exc_info=True)
        yield ReadFailure(blob.where, f"{type(exc).__name__}: {exc}")
