"""A labeled sample: text with human labels, the unit training reads (LabelStore.training_samples)
and the unit of the labels' JSONL files (the corpus format of corpora/labeled/*.jsonl)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kunlun_nlp.labels.spans import mentions_of

# The entity labels the domain NER learns (training reads only these); a sample keeps all it has.
TRAINED_ENTITY_LABELS = ("ORG", "LOC", "PERSON", "PRODUCT", "SUBSTANCE")
# What a label may state; `stated` says which of these a human gave (the rest are the model's
# tags at correction time, or absent from an imported row).
STATED_PARTS = ("domains", "subtypes", "spans")


@dataclass(frozen=True)
class LabeledSample:
    id: str
    title: str
    text: str
    domains: frozenset[str]  # empty: none of the four
    subtypes: frozenset[str] = frozenset()
    spans: tuple[tuple[int, int, str], ...] = ()  # (start, end, LABEL) into `text`, sorted
    origin: str = "import"  # "correction" | "import"
    by: str = ""
    at: datetime | None = None
    # Which parts a human stated. A correction that fixed only the domains states "domains": its
    # spans are the model's after the human's operations; a CSV row states no spans.
    stated: frozenset[str] = frozenset(STATED_PARTS)
    file: str = ""  # an imported sample's file name (e.g. realtrain2.jsonl: its held-back fifth is by id)

    def with_entity_labels(self, labels: tuple[str, ...] = TRAINED_ENTITY_LABELS) -> LabeledSample:
        return replace(self, spans=tuple(s for s in self.spans if s[2] in labels))

    def to_json(self) -> dict[str, Any]:
        """The corpus format, plus who labeled it, when, how (a correction or an import) and which
        parts a human stated; entities and spans only when stated. Importing it gives this sample."""
        record: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "domains": sorted(self.domains),
            "subtypes": sorted(self.subtypes),
        }
        if "spans" in self.stated:
            record["entities"] = mentions_of(self.text, self.spans)
            record["spans"] = [[start, end, label] for start, end, label in self.spans]
        record.update(
            label_origin=self.origin,
            labeled_by=self.by,
            labeled_at=self.at.isoformat() if self.at else None,
            stated=[part for part in STATED_PARTS if part in self.stated],
        )
        return record
