"""Priority for a tagged report: harm, dangerous substances, scale, recency, novelty against the
index, several domains, and the source's grade."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from kunlun_nlp.document import Document, Entity
from kunlun_nlp.errors import IndexUnavailableError
from kunlun_nlp.normalize import entity_key
from kunlun_nlp.triage.cards import AGENCY_PATTERN, MEDIA_PATTERN
from kunlun_nlp.vocabulary import SourceGrade
from kunlun_nlp.triage.priority import PriorityScorer
from kunlun_nlp.triage.records import CaseCard, Priority



class KnownEntities(Protocol):
    """What triage asks of the index: which firms and products it has already seen elsewhere.
    Every index backend answers it; so may anything else that knows."""

    def known_entity_keys(self, pairs: set[tuple[str, str]], *, exclude_id: str | None = None) -> set[tuple[str, str]]: ...


class Prioritiser:
    def __init__(self, scorer: PriorityScorer) -> None:
        self.scorer = scorer

    def priority(
        self,
        document: Document,
        domains: list[str],
        entities: list[Entity],
        cases: list[CaseCard],
        *,
        index: KnownEntities | None,
        today: date,
    ) -> Priority:
        firms = {entity_key(e.normalized): e.normalized for e in entities if e.label == "ORG" and not AGENCY_PATTERN.search(e.text) and not MEDIA_PATTERN.search(e.text)}
        products = {entity_key(e.normalized): e.normalized for e in entities if e.label == "PRODUCT"}
        pairs = {("ORG", k) for k in firms} | {("PRODUCT", k) for k in products}
        novelty_checked = index is not None
        known: set[tuple[str, str]] = set()
        if index is not None:
            try:
                known = index.known_entity_keys(pairs, exclude_id=document.id)
            except IndexUnavailableError:
                novelty_checked = False
        new_firms = sorted(v for k, v in firms.items() if ("ORG", k) not in known) if novelty_checked else []
        new_products = sorted(v for k, v in products.items() if ("PRODUCT", k) not in known) if novelty_checked else []
        return self.scorer.score(
            text=document.text,
            domains=domains,
            entities=entities,
            published=document.published,
            event_dates=[card.date for card in cases if card.date],
            today=today,
            grade=SourceGrade.parse(document.grade) if document.grade else SourceGrade("F", 6),
            new_firms=new_firms,
            new_products=new_products,
        )
