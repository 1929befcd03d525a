"""Tagged documents to and from plain JSON-able records: the stored form in every backend."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from kunlun_nlp.document import Document, DomainScore, Entity, PriorVersion, Review, TaggedDocument
from kunlun_nlp.normalize import entity_key
from kunlun_nlp.triage.records import CaseCard, Priority


def tagged_to_record(tagged: TaggedDocument) -> dict[str, Any]:
    doc = tagged.document
    return {
        "id": doc.id,
        "title": doc.title,
        "text": doc.text,
        "source": doc.source,
        "published": doc.published.isoformat() if doc.published else None,
        "language": doc.language,
        "ingested_at": doc.ingested_at.isoformat(),
        "grade": doc.grade,
        "domains": [d.label for d in tagged.domains],
        "domain_scores": {s.label: s.score for s in tagged.domain_scores},
        "predicted": [{"label": d.label, "score": d.score} for d in tagged.domains],
        "entities": [{**_entity_fields(e), "key": entity_key(e.normalized), "details": e.details} for e in tagged.entities],
        "embedding": list(tagged.embedding),
        "subtypes": [{"label": d.label, "score": d.score} for d in tagged.subtypes],
        "evidence": tagged.evidence,
        "model": tagged.model,
        "cases": [card.to_record() for card in tagged.cases],
        "priority": tagged.priority.to_record() if tagged.priority else None,
        "review": tagged.review.to_record() if tagged.review else None,
        "not_tagged": tagged.not_tagged,
        "furniture": [[start, end] for start, end in tagged.furniture],
        "published_via": doc.published_via,
        "history": [version.to_record() for version in tagged.history],
        "split_windows": list(tagged.split_windows),
        "correction": tagged.correction,
    }


def tagged_from_record(record: dict[str, Any]) -> TaggedDocument:
    document = Document(
        id=record["id"],
        title=record.get("title") or "",
        text=record["text"],
        source=record.get("source") or "",
        published=date.fromisoformat(record["published"]) if record.get("published") else None,
        language=record.get("language") or "",
        ingested_at=datetime.fromisoformat(record["ingested_at"]),
        grade=record.get("grade"),
        published_via=record.get("published_via") or "",
    )
    return TaggedDocument(
        document=document,
        domain_scores=[DomainScore(k, float(v)) for k, v in (record.get("domain_scores") or {}).items()],
        domains=[DomainScore(p["label"], float(p["score"])) for p in record.get("predicted") or []],
        entities=[
            Entity(e["label"], e["text"], int(e["start"]), int(e["end"]), e["normalized"], e.get("details"))
            for e in record.get("entities") or []
        ],
        embedding=[float(x) for x in record.get("embedding") or []],
        subtypes=[DomainScore(p["label"], float(p["score"])) for p in record.get("subtypes") or []],
        evidence=record.get("evidence") or {},
        model=record.get("model") or "",
        cases=[CaseCard.from_record(c) for c in record.get("cases") or []],
        priority=Priority.from_record(record.get("priority")),
        review=Review.from_record(record.get("review")),
        not_tagged=record.get("not_tagged"),
        furniture=[(int(start), int(end)) for start, end in record.get("furniture") or []],
        history=[PriorVersion.from_record(version) for version in record.get("history") or []],
        split_windows=list(record.get("split_windows") or []),
        correction=record.get("correction") or None,
    )


def tag_summary(tagged: TaggedDocument) -> dict[str, Any]:
    """The stable output shape of `kunlun-nlp tag` and POST /tag; other tools read it.

    Fields are only ever added (sub-types and evidence came with the trained models; the
    language and not_tagged with intake of other languages), never renamed or removed.
    """
    return {
        "id": tagged.id,
        "domains": [{"label": d.label, "score": d.score} for d in tagged.domains],
        "subtypes": [{"label": d.label, "score": d.score} for d in tagged.subtypes],
        "evidence": tagged.evidence,
        "priority": {"score": tagged.priority.score, "reasons": tagged.priority.reasons} if tagged.priority else None,
        "cases": [card.to_record() for card in tagged.cases],
        "entities": [{**_entity_fields(e), **({"details": e.details} if e.details else {})} for e in tagged.entities],
        "language": tagged.document.language,
        "not_tagged": tagged.not_tagged,  # why the models did not tag it; null when they did
    }


def _entity_fields(entity: Entity) -> dict[str, Any]:
    return {
        "label": entity.label,
        "text": entity.text,
        "start": entity.start,
        "end": entity.end,
        "normalized": entity.normalized,
    }
