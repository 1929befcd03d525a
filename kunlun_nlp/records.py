"""Tagged documents to and from plain JSON-able records: the stored form in every backend."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from kunlun_nlp.document import Document, DomainScore, Entity, TaggedDocument
from kunlun_nlp.normalize import entity_key


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
        "domains": [d.label for d in tagged.domains],
        "domain_scores": {s.label: s.score for s in tagged.domain_scores},
        "predicted": [{"label": d.label, "score": d.score} for d in tagged.domains],
        "entities": [
            {
                "label": e.label,
                "text": e.text,
                "start": e.start,
                "end": e.end,
                "normalized": e.normalized,
                "key": entity_key(e.normalized),
                "details": e.details,
            }
            for e in tagged.entities
        ],
        "embedding": list(tagged.embedding),
        "subtypes": [{"label": d.label, "score": d.score} for d in tagged.subtypes],
        "evidence": tagged.evidence,
        "model": tagged.model,
    }


def tagged_from_record(record: dict[str, Any]) -> TaggedDocument:
    document = Document(
        id=record["id"],
        title=record.get("title") or "",
        text=record["text"],
        source=record.get("source") or "",
        published=date.fromisoformat(record["published"]) if record.get("published") else None,
        language=record.get("language") or "en",
        ingested_at=datetime.fromisoformat(record["ingested_at"]),
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
    )


def predicted_domains(record: dict[str, Any]) -> list[DomainScore]:
    return [DomainScore(p["label"], float(p["score"])) for p in record.get("predicted") or []]


def tag_summary(tagged: TaggedDocument) -> dict[str, Any]:
    """The stable output shape of `kunlun-nlp tag` and POST /tag; other tools read it.

    Fields are only ever added (sub-types and evidence came with the trained models), never
    renamed or removed.
    """
    return {
        "id": tagged.id,
        "domains": [{"label": d.label, "score": d.score} for d in tagged.domains],
        "subtypes": [{"label": d.label, "score": d.score} for d in tagged.subtypes],
        "evidence": tagged.evidence,
        "entities": [
            {
                "label": e.label,
                "text": e.text,
                "start": e.start,
                "end": e.end,
                "normalized": e.normalized,
                **({"details": e.details} if e.details else {}),
            }
            for e in tagged.entities
        ],
    }
