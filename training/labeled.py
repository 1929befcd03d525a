"""Labeled JSONL, in the project's corpus format and in realdev/realtrain's format alike:
`text` (and optional `title`) plus `domains`, where [] or ["OTHER"] means none of the four."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kunlun_nlp.document import Document
from kunlun_nlp.domains import DOMAIN_LABELS
from kunlun_nlp.readers import document_from_record

NONE_LABELS = frozenset({"OTHER", "NONE"})


@dataclass(frozen=True)
class LabeledDocument:
    document: Document
    domains: frozenset[str]


def read_labeled(path: str | Path) -> list[LabeledDocument]:
    examples = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                labels = record.get("domains")
                if not isinstance(labels, list):
                    raise ValueError("field 'domains' must be a list")
                domains = frozenset(str(label).upper() for label in labels) - NONE_LABELS
                unknown = domains - set(DOMAIN_LABELS)
                if unknown:
                    raise ValueError(f"unknown domain(s) {sorted(unknown)}")
                examples.append(LabeledDocument(document_from_record(record), domains))
            except (json.JSONDecodeError, ValueError) as exc:
                raise ValueError(f"line {number}: {exc}") from exc
    if not examples:
        raise ValueError("no labeled documents")
    return examples
