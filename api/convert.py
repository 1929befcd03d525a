"""The API edge: request models to library documents, tagged documents to response models."""

from __future__ import annotations

from api.schemas import DocumentIn, DocumentOut, PriorVersionOut, ReviewInfoOut
from kunlun_nlp.document import Document, TaggedDocument
from kunlun_nlp.records import tag_summary


def to_document(document: DocumentIn) -> Document:
    return Document.create(
        document.text,
        title=document.title,
        id=document.id,
        source=document.source,
        published=document.published,
        language=document.language or "",  # none given: the pipeline detects it
        grade=_grade(document),
    )


def _grade(document: DocumentIn) -> str | None:
    """One half given: the other half is 'cannot be judged' (F or 6)."""
    if document.source_reliability or document.information_credibility:
        return f"{document.source_reliability or 'F'}{document.information_credibility or 6}"
    return None


def document_out(tagged: TaggedDocument) -> DocumentOut:
    doc, review = tagged.document, tagged.review
    return DocumentOut(
        **tag_summary(tagged),
        title=doc.title,
        text=doc.text,
        source=doc.source,
        published=doc.published,
        ingested_at=doc.ingested_at,
        domain_scores={s.label: s.score for s in tagged.domain_scores},
        model=tagged.model,
        grade=doc.grade,
        review=ReviewInfoOut(reviewed_by=review.reviewed_by, reviewed_at=review.reviewed_at, note=review.note) if review else None,
        correction=tagged.correction,
        history=[
            PriorVersionOut(title=v.title, text=v.text, reviewed_by=v.review.reviewed_by, reviewed_at=v.review.reviewed_at,
                            note=v.review.note, replaced_at=v.replaced_at)
            for v in tagged.history
        ],
    )
