"""Priority for a tagged report: harm, dangerous substances, scale, recency, novelty against the
index, several domains, and the source's grade."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from kunlun_nlp.document import Document, Entity, TaggedDocument
from kunlun_nlp.errors import IndexUnavailableError
from kunlun_nlp.normalize import entity_key
from kunlun_nlp.triage.cards import AGENCY_PATTERN, MEDIA_PATTERN, build_cards
from kunlun_nlp.vocabulary import SourceGrade
from kunlun_nlp.triage.priority import PriorityScorer
from kunlun_nlp.triage.records import CaseCard, Priority


class KnownEntities(Protocol):
    """What triage asks of the index: which firms and products it has already seen elsewhere.
    Every index backend answers it; so may anything else that knows."""

    def known_entity_keys_many(self, pairs_by_document: Mapping[str, Iterable[tuple[str, str]]]) -> dict[str, set[tuple[str, str]]]: ...


@dataclass(frozen=True)
class Scored:
    """What a report's priority is computed from."""

    document: Document
    domains: list[str]
    entities: list[Entity]
    cases: list[CaseCard]


class Prioritiser:
    def __init__(self, scorer: PriorityScorer) -> None:
        self.scorer = scorer

    def priorities(self, reports: Sequence[Scored], *, index: KnownEntities | None, today: date) -> list[Priority]:
        """Priorities for a batch, its novelty judged against `index` in one request."""
        named = [_firms_and_products(report.entities) for report in reports]
        known: dict[str, set[tuple[str, str]]] | None = None
        if index is not None:
            asked = {report.document.id: set() for report in reports}
            for report, (firms, products) in zip(reports, named):
                asked[report.document.id] |= {("ORG", k) for k in firms} | {("PRODUCT", k) for k in products}
            try:
                known = index.known_entity_keys_many(asked)
            except IndexUnavailableError:
                known = None  # not judged, as without an index
        return [
            self._score(report, firms, products, None if known is None else known[report.document.id], today)
            for report, (firms, products) in zip(reports, named)
        ]

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
        (priority,) = self.priorities([Scored(document, domains, entities, cases)], index=index, today=today)
        return priority

    def _score(
        self, report: Scored, firms: dict[str, str], products: dict[str, str], known: set[tuple[str, str]] | None, today: date
    ) -> Priority:
        """`known`: the entities the index has seen in other reports; None when not judged."""
        document = report.document
        new_firms = sorted(v for k, v in firms.items() if ("ORG", k) not in known) if known is not None else []
        new_products = sorted(v for k, v in products.items() if ("PRODUCT", k) not in known) if known is not None else []
        return self.scorer.score(
            text=document.text,
            domains=report.domains,
            entities=report.entities,
            published=document.published,
            event_dates=[card.date for card in report.cases if card.date],
            today=today,
            grade=SourceGrade.parse(document.grade) if document.grade else SourceGrade("F", 6),
            new_firms=new_firms,
            new_products=new_products,
        )


def retriaged(tagged: TaggedDocument, prioritiser: Prioritiser, *, index: KnownEntities | None) -> TaggedDocument:
    """`tagged` with the case cards and priority of its tags as they stand now (a human label
    applied over the model's), computed as the case_cards and priority stages compute them.

    Recency is judged as of its ingest day, as a re-tag judges it: a correction changes what the
    tags say, not how old the report is. Novelty is judged against `index` as it stands: a firm or
    product is new when no other stored report names it (the report itself never counts, as at
    ingest, where it is not stored yet). A report the models did not tag stays untriaged, as the
    pipeline leaves it."""
    if tagged.not_tagged is not None:
        return tagged
    document = tagged.document
    cases = build_cards(document.text, tagged.entities, document.published)
    domains = [d.label for d in tagged.domains]
    priority = prioritiser.priority(document, domains, tagged.entities, cases, index=index, today=document.ingested_at.date())
    return replace(tagged, cases=cases, priority=priority)


def _firms_and_products(entities: list[Entity]) -> tuple[dict[str, str], dict[str, str]]:
    """key → name of the firms (agencies and media are not firms) and of the products named."""
    firms = {
        entity_key(e.normalized): e.normalized
        for e in entities
        if e.label == "ORG" and not AGENCY_PATTERN.search(e.text) and not MEDIA_PATTERN.search(e.text)
    }
    products = {entity_key(e.normalized): e.normalized for e in entities if e.label == "PRODUCT"}
    return firms, products
