"""Read documents from files: .txt, .md, .html, .jsonl, .pdf, .docx and .eml.

Readers never raise for one bad file or line: they yield a ReadFailure instead, so a batch run
can count it and go on. A text over the intake limit (kunlun_nlp.limits) comes out in parts.
"""

from kunlun_nlp.document import Document
from kunlun_nlp.readers.base import Blob, ReadFailure, ReadResult, Unsupported
from kunlun_nlp.readers.dispatch import (
    SUPPORTED_SUFFIXES,
    SplitListener,
    read_blob,
    read_file,
)
from kunlun_nlp.readers.inputs import (
    IGNORE_FILE,
    Ignored,
    InputScan,
    iter_input_files,
    scan_inputs,
    walk_inputs,
)
from kunlun_nlp.readers.records import document_from_record, parse_date
from kunlun_nlp.readers.split import Unsplittable, fit_to_limit, split_text

__all__ = [
    "IGNORE_FILE",
    "SUPPORTED_SUFFIXES",
    "Blob",
    "Document",
    "Ignored",
    "InputScan",
    "ReadFailure",
    "ReadResult",
    "SplitListener",
    "Unsplittable",
    "Unsupported",
    "document_from_record",
    "fit_to_limit",
    "iter_input_files",
    "parse_date",
    "read_blob",
    "read_file",
    "scan_inputs",
    "split_text",
    "walk_inputs",
]
