"""Corrections end to end, for the service: the label stored first (durable), then applied to the
index with the triage of the corrected tags (searchable, and in its place on the queue, at once)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kunlun_nlp.document import TaggedDocument
from kunlun_nlp.labels.correction import Correction
from kunlun_nlp.labels.store import LabelStore
from kunlun_nlp.records import tagged_to_record

if TYPE_CHECKING:
    from kunlun_nlp.index.base import DocumentIndex, Retriage


def correct_document(
    index: DocumentIndex,
    store: LabelStore,
    doc_id: str,
    *,
    by: str,
    domains: Iterable[str] | None = None,
    subtypes: Iterable[str] | None = None,
    add: Iterable[Any] = (),
    remove: Iterable[Any] = (),
    relabel: Iterable[Any] = (),
    retriage: Retriage | None = None,
) -> TaggedDocument | None:
    """Correct an indexed document's tags; the document as now stored, or None when `doc_id` is
    not indexed. ValueError, saying what is wrong, for a correction that does not fit the document
    (unknown labels, offsets outside the text, no entity to remove there, ...): nothing stored.
    `retriage` (the service's) gives the corrected document the case cards and priority of its
    corrected tags, in the index's one conditional write of it."""
    stored = index.get(doc_id)
    if stored is None:
        return None
    record = tagged_to_record(stored)
    correction = Correction.create(doc_id, domains=domains, subtypes=subtypes, add=add, remove=remove, relabel=relabel, by=by)
    merged = store.add_correction(correction.checked_against(record), record)
    return index.apply_correction(doc_id, merged, retriage=retriage)
