"""The document view: the full text with its entities, furniture and evidence marked, the tags and
the model version that gave them, case cards, similar reports and the correction history. For a
trainer, the controls that correct it in place (api/page/static/document.js posts them to
`POST /documents/{id}/corrections`).

The text is cut into pieces at every entity, furniture and evidence boundary, each piece a span
carrying the character offset it starts at (`data-start`), so that a selection in the browser maps
back to offsets of the stored text, which is what a correction names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup, escape

from api.auth import ADMITS
from api.page.render import render, unavailable
from api.page.session import PageReader
from kunlun_nlp.document import Entity, TaggedDocument
from kunlun_nlp.index import IndexUnavailableError
from kunlun_nlp.vocabulary import DOMAIN_LABELS, ENTITY_LABELS, SUBTYPES

router = APIRouter(include_in_schema=False)
SIMILAR = 5
LABEL_NEXT = "label-next"  # ?from=label-next: opened from the label-next list, which offers the next one


@dataclass(frozen=True)
class Piece:
    start: int
    end: int
    furniture: bool
    evidence: tuple[str, ...]  # the domains whose evidence sentences cover it


@router.get("/ui/documents/{doc_id}")
def document_page(doc_id: str, request: Request, caller: PageReader) -> Response:
    service = request.app.state.service
    try:
        tagged = service.index.get(doc_id)
        similar = service.index.similar(doc_id, size=SIMILAR) if tagged else None
    except IndexUnavailableError:
        return unavailable(request, caller, "Document")
    if tagged is None:
        return render(request, "message.html", caller, status_code=404, title="No such document",
                      message=f"No document has the id {doc_id!r}: it may have been removed, or the link is wrong.")
    came_from = request.query_params.get("from", "")
    can_train = caller.role in ADMITS["trainer"]
    following = None
    if came_from == LABEL_NEXT and can_train:
        following = next((c for c in service.label_next(2) if c.id != doc_id), None)
    evidence_spans = evidence_offsets(tagged.document.text, tagged.evidence)
    return render(
        request, "document.html", caller, title=tagged.document.title or tagged.id,
        tagged=tagged, doc=tagged.document, text_html=text_html(tagged, evidence_spans, editable=can_train),
        labels_present=[label for label in ENTITY_LABELS if any(e.label == label for e in tagged.entities)],
        evidence_domains=[d for d in tagged.evidence if evidence_spans.get(d)],
        similar=similar or [], history=[{**h, "at": datetime.fromisoformat(h["at"])} for h in service.labels.history(doc_id)],
        entity_labels=ENTITY_LABELS, domain_labels=DOMAIN_LABELS, subtypes=SUBTYPES,
        chosen_domains={d.label for d in tagged.domains}, chosen_subtypes={s.label for s in tagged.subtypes},
        came_from=came_from if came_from == LABEL_NEXT else "", following=following,
    )


def evidence_offsets(text: str, evidence: dict[str, list[str]]) -> dict[str, list[tuple[int, int]]]:
    """Where each domain's evidence sentences are in the text (the first place each is found; a
    sentence no longer in the text, after a re-ingest changed it, is left out)."""
    found: dict[str, list[tuple[int, int]]] = {}
    for domain, sentences in evidence.items():
        for sentence in sentences:
            at = text.find(sentence) if sentence else -1
            if at >= 0:
                found.setdefault(domain, []).append((at, at + len(sentence)))
    return found


def pieces(text: str, entities: Iterable[Entity], furniture: Iterable[tuple[int, int]],
           evidence: dict[str, list[tuple[int, int]]]) -> list[Piece]:
    """The text cut at every boundary of an entity, a furniture span or an evidence sentence, and
    after every carriage return: a browser reads "\\r\\n" as one "\\n" but a lone "\\r" as one "\\n"
    too, so with no piece holding "\\r\\n" every piece keeps its length, and a point in it maps to
    the stored text by its piece's start alone."""
    n = len(text)
    cuts = {0, n}
    for start, end in [*((e.start, e.end) for e in entities), *furniture, *(s for spans in evidence.values() for s in spans)]:
        cuts.update((max(0, min(n, start)), max(0, min(n, end))))
    cuts.update(i + 1 for i, ch in enumerate(text) if ch == "\r")
    bounds = sorted(cuts)
    furniture = list(furniture)
    result = []
    for start, end in zip(bounds, bounds[1:]):
        result.append(Piece(
            start, end,
            furniture=any(a <= start and end <= b for a, b in furniture),
            evidence=tuple(d for d, spans in evidence.items() if any(a <= start and end <= b for a, b in spans)),
        ))
    return result


def text_html(tagged: TaggedDocument, evidence: dict[str, list[tuple[int, int]]], *, editable: bool = False) -> Markup:
    """The text as escaped HTML: pieces (`<span data-start>`), the pieces of an entity inside one
    `<span class="ent" data-label data-ent="start:end">` (for a trainer, a button that opens the
    label menu). Entities overlapping an earlier one are not drawn (a correction's addition
    replaces those it overlaps, so stored ones do not)."""
    text = tagged.document.text
    entities: list[Entity] = []
    for entity in sorted(tagged.entities, key=lambda e: (e.start, -e.end)):
        if 0 <= entity.start < entity.end <= len(text) and (not entities or entity.start >= entities[-1].end):
            entities.append(entity)
    out: list[str] = []
    at = 0  # the next entity to open or close
    open_entity: Entity | None = None
    for piece in pieces(text, entities, tagged.furniture, evidence):
        if open_entity is not None and piece.start >= open_entity.end:
            out.append("</span>")
            open_entity = None
        if open_entity is None and at < len(entities) and entities[at].start == piece.start:
            open_entity = entities[at]
            at += 1
            name = f"{open_entity.label}: {open_entity.normalized}" if open_entity.normalized != open_entity.text else open_entity.label
            control = ' tabindex="0" role="button" aria-haspopup="menu"' if editable else ""
            out.append(f'<span class="ent" data-label="{open_entity.label}" data-ent="{open_entity.start}:{open_entity.end}"'
                       f' title="{escape(name)}"{control}>')
        classes = " ".join(c for c in ("furniture" if piece.furniture else "", "ev" if piece.evidence else "") if c)
        attributes = f' class="{classes}"' if classes else ""
        if piece.evidence:
            attributes += f' data-ev="{" ".join(piece.evidence)}"'
        out.append(f'<span data-start="{piece.start}"{attributes}>{escape(text[piece.start:piece.end])}</span>')
    if open_entity is not None:
        out.append("</span>")
    return Markup("".join(out))
