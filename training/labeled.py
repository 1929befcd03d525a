"""Labeled JSONL for evaluation, in the project's corpus format and in realdev/realtrain's format
alike: `text` (and optional `title`), `domains` where [] or ["OTHER"] means none of the four,
`entities` as {LABEL: [mention, ...]}, and optionally `spans` as [[start, end, LABEL], ...]."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kunlun_nlp.document import Document
from kunlun_nlp.labels.spans import mentions_of
from kunlun_nlp.vocabulary import DOMAIN_LABELS
from kunlun_nlp.readers import document_from_record

NONE_LABELS = frozenset({"OTHER", "NONE"})


@dataclass(frozen=True)
class LabeledDocument:
    document: Document
    domains: frozenset[str]
    entities: dict[str, list[str]] = field(default_factory=dict)
    spans: list[tuple[int, int, str]] | None = None


def labeled_from_record(record: dict) -> LabeledDocument:
    labels = record.get("domains")
    if not isinstance(labels, list):
        raise ValueError("field 'domains' must be a list")
    domains = frozenset(str(label).upper() for label in labels) - NONE_LABELS
    unknown = domains - set(DOMAIN_LABELS)
    if unknown:
        raise ValueError(f"unknown domain(s) {sorted(unknown)}")
    entities = record.get("entities") or {}
    if not isinstance(entities, dict):
        raise ValueError("field 'entities' must be an object of label -> list of strings")
    spans = [tuple(s) for s in record["spans"]] if record.get("spans") is not None else None
    return LabeledDocument(document_from_record(record), domains, entities, spans)


def read_labeled(path: str | Path) -> list[LabeledDocument]:
    examples = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                examples.append(labeled_from_record(json.loads(line)))
            except (json.JSONDecodeError, ValueError) as exc:
                raise ValueError(f"line {number}: {exc}") from exc
    if not examples:
        raise ValueError("no labeled documents")
    return examples


def labeled_from_example(example) -> LabeledDocument:
    """A training example (training.datasets.LabeledExample) as evaluation reads it."""
    document = Document.create(example.text, title=example.title, id=example.id)
    return LabeledDocument(document, example.domains, mentions_of(example.text, example.spans), list(example.spans))
