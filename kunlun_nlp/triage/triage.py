"""Priority for tagged reports: harm, dangerous substances, scale, recency, novelty against the
index, several domains, and the source's grade."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from kunlun_nlp.document import Document, TaggedDocument
from kunlun_nlp.index.base import DocumentIndex, IndexUnavailableError
from kunlun_nlp.normalize import entity_key
from kunlun_nlp.triage.cards import AGENCY_PATTERN, MEDIA_PATTERN
from kunlun_nlp.triage.grading import SourceGrade, default_grade
from kunlun_nlp.triage.priority import PriorityScorer


class Triager:
    def __init__(self, scorer: PriorityScorer | None = None) -> None:
        self.scorer = scorer or PriorityScorer()

    def graded(self, document: Document) -> Document:
        """The document with its grade: as given on intake, else the source's default."""
        if document.grade:
            return replace(document, grade=SourceGrade.parse(document.grade).code)
        return replace(document, grade=default_grade(document.source, self.scorer.config).code)

    def prioritise(self, tagged: list[TaggedDocument], index: DocumentIndex | None, *, today: date | None = None) -> list[TaggedDocument]:
        today = today or datetime.now(timezone.utc).date()
        return [self._one(t, index, today) for t in tagged]

    def _one(self, tagged: TaggedDocument, index: DocumentIndex | None, today: date) -> TaggedDocument:
        firms = {entity_key(e.normalized): e.normalized for e in tagged.entities if e.label == "ORG" and not AGENCY_PATTERN.search(e.text) and not MEDIA_PATTERN.search(e.text)}
        products = {entity_key(e.normalized): e.normalized for e in tagged.entities if e.label == "PRODUCT"}
        pairs = {("ORG", k) for k in firms} | {("PRODUCT", k) for k in products}
        novelty_checked = index is not None
        known: set[tuple[str, str]] = set()
        if index is not None:
            try:
                known = index.known_entity_keys(pairs, exclude_id=tagged.id)
            except IndexUnavailableError:
                novelty_checked = False
        new_firms = sorted(v for k, v in firms.items() if ("ORG", k) not in known) if novelty_checked else []
        new_products = sorted(v for k, v in products.items() if ("PRODUCT", k) not in known) if novelty_checked else []
        event_dates = [date.fromisoformat(c["date"]) for c in tagged.cases if c.get("date")]
        priority = self.scorer.score(
            text=tagged.document.text,
            domains=[d.label for d in tagged.domains],
            entities=tagged.entities,
            published=tagged.document.published,
            event_dates=event_dates,
            today=today,
            grade=SourceGrade.parse(tagged.document.grade) if tagged.document.grade else SourceGrade("F", 6),
            new_firms=new_firms,
            new_products=new_products,
        )
        return replace(tagged, priority={"score": priority.score, "reasons": priority.reasons, "factors": priority.factors})
