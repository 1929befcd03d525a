"""The interface every index backend implements; kunlun_nlp.testing.IndexContract holds it to it."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kunlun_nlp.document import Review, TaggedDocument, content_id
from kunlun_nlp.errors import IndexUnavailableError  # noqa: F401 - re-exported: backends raise it
from kunlun_nlp.labels.correction import apply_correction_record, latest_label
from kunlun_nlp.records import tagged_from_record
from kunlun_nlp.search.request import SearchRequest
from kunlun_nlp.search.results import Facets, SearchHit, SearchResult

EMBEDDING_DIMS = 384
# The engine's limits, which every backend enforces so that all store the same documents:
# Lucene refuses a keyword term over 32,766 UTF-8 bytes, and the engine an id over 512 bytes.
MAX_KEYWORD_BYTES = 32_766
MAX_ID_BYTES = 512
EXPORT_BATCH = 500  # documents per batch of an export (about 10 kB each without the vector)


@dataclass(frozen=True)
class BackendHealth:
    backend: str
    location: str
    reachable: bool
    documents: int | None
    detail: str = ""


@dataclass(frozen=True)
class ReviewOutcome:
    review: Review  # whoever reviewed it first
    newly_reviewed: bool  # False when someone had already reviewed it


@dataclass(frozen=True)
class IndexWriteReport:
    indexed: int
    failed: dict[str, str]  # document id → reason


def refusal_reason(record: Mapping[str, Any]) -> str | None:
    """Why a stored record (records.tagged_to_record) cannot be indexed, or None when it can.

    A report the models did not tag (not_tagged) has no embedding: it is stored for its words."""
    embedding = record.get("embedding") or []
    if embedding or not record.get("not_tagged"):
        reason = _embedding_refusal(embedding)
        if reason:
            return reason
    if len(str(record["id"]).encode("utf-8")) > MAX_ID_BYTES:
        return f"id is longer than {MAX_ID_BYTES} bytes"
    for field, value in _keywords(record):
        if len(value.encode("utf-8")) > MAX_KEYWORD_BYTES:
            return f"{field} is longer than {MAX_KEYWORD_BYTES} bytes (one term)"
    return None


def _embedding_refusal(embedding: list[float]) -> str | None:
    if len(embedding) != EMBEDDING_DIMS:
        return f"embedding has {len(embedding)} dimensions, not {EMBEDDING_DIMS}"
    if not all(math.isfinite(x) for x in embedding):
        return "embedding has a value that is not a finite number"
    if not any(embedding):
        return "embedding has zero magnitude; cosine similarity is undefined"
    return None


def _keywords(record: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """The values stored as single terms: the engine's keyword fields."""
    for field in ("source", "language", "model", "grade", "not_tagged", "published_via"):
        yield field, str(record.get(field) or "")
    for label in record.get("domains") or []:
        yield "domains", label
    for subtype in record.get("subtypes") or []:
        yield "subtypes.label", subtype["label"]
    for entity in record.get("entities") or []:
        for field in ("label", "text", "normalized", "key"):
            yield f"entities.{field}", entity[field]
    yield "review.reviewed_by", str((record.get("review") or {}).get("reviewed_by") or "")


# What DocumentIndex.retag asks for: the re-tagged versions of a batch of stored documents (the same
# ids; any order); and what it tells: (documents done, documents stored when it began).
RetagTransform = Callable[[list[TaggedDocument]], list[TaggedDocument]]
RetagProgress = Callable[[int, int], None]
# What put, retag and apply_correction are given to triage a report again once a human label has
# set its tags (the service gives triage.retriaged with its version's priority stage): the
# report with the case cards and priority of its tags as they now stand. Without one, the cards
# and priority stay those of the model's tags.
Retriage = Callable[[TaggedDocument], TaggedDocument]


@dataclass(frozen=True)
class RetagReport:
    retagged: int  # documents stored with their new tags
    caught_up: int  # written to while the re-tag ran, and re-tagged again from their latest form
    kept: dict[str, str]  # document id → why its new tags were refused: it keeps its old ones
    seconds: float
    location: str  # engine: the index now behind the alias; embedded: the file


def retagged_batch(transform: RetagTransform, stored: list[TaggedDocument]) -> list[TaggedDocument]:
    """`transform` applied to `stored`, in the order of `stored`; a transform that drops or invents
    a document fails the re-tag (nothing is swapped in or committed)."""
    if not stored:
        return []
    by_id = {tagged.id: tagged for tagged in transform(stored)}
    if set(by_id) != {tagged.id for tagged in stored}:
        raise ValueError("the re-tag transform must give back exactly the documents it was given")
    return [by_id[tagged.id] for tagged in stored]


def labelled(record: Mapping[str, Any], label: Mapping[str, Any], retriage: Retriage | None) -> dict[str, Any]:
    """`record` with the merged human `label` applied over its tags (labels.apply_correction_record)
    and, given `retriage`, its case cards and priority computed again from the tags it now has:
    the triage a record is stored with is always that of the tags it is stored with."""
    corrected = apply_correction_record(record, label)
    if retriage is None:
        return corrected
    again = retriage(tagged_from_record(corrected))
    priority = again.priority.to_record() if again.priority else None
    return {**corrected, "cases": [card.to_record() for card in again.cases], "priority": priority}


def carried_over(
    record: dict[str, Any], stored: Mapping[str, Any] | None, now: datetime, retriage: Retriage | None = None
) -> dict[str, Any]:
    """The record to write over `stored` (the same id's stored record: its review, title, text and
    history; None when the id is new). A review stays with the words it was given to: the same
    text re-ingested keeps it (the report stays off the triage queue); a changed text goes back on
    the queue, and the reviewed version is kept in `history` with its review, never shown as
    reviewed. A review given in `record` itself is kept as given.

    A human correction stored with the document (its `correction`) is carried over too and
    applied again to the new record's model tags (labels.apply_correction_record): a human label
    beats a model label on every re-ingest and re-tag. When the text changed, its domains and
    sub-types still apply; entity operations whose words are no longer at their offsets are
    dropped (listed under the correction's `skipped`). Of a correction given in `record` (a re-tag
    may copy it over) and the stored one, the one with more corrections in it applies; given
    `retriage`, the record is triaged again from the corrected tags (labelled)."""
    if stored is None:
        return labelled(record, record["correction"], retriage) if record.get("correction") else record
    latest = latest_label(record.get("correction"), stored.get("correction"))  # the record's on a tie
    if latest:
        record = labelled(record, latest, retriage)
    history = list(record.get("history") or stored.get("history") or [])
    review = stored.get("review")
    if review and not record.get("review"):
        if content_id(stored["text"]) == content_id(record["text"]):  # the same words, re-wrapped at most
            return {**record, "review": review, "history": history}
        history.append({"title": stored.get("title") or "", "text": stored["text"], **review, "replaced_at": now.isoformat()})
    return {**record, "history": history}


class DocumentIndex(ABC):
    backend: str

    @abstractmethod
    def put(self, documents: Iterable[TaggedDocument], *, retriage: Retriage | None = None) -> IndexWriteReport:
        """Store (or replace, by id) tagged documents; searchable when this returns.

        A document given twice is stored once (the last copy) and counted once. One the backend
        refuses (refusal_reason) lands in `failed` with the reason; the others are stored. A stored
        review is kept when the new copy has the same text and no review of its own, even against a
        concurrent mark_reviewed; when the text changed, the reviewed version goes to the history
        (carried_over). A stored human correction is applied over the new tags, and the report
        triaged again by `retriage` from them (carried_over)."""

    @abstractmethod
    def get(self, doc_id: str) -> TaggedDocument | None: ...

    @abstractmethod
    def get_many(self, doc_ids: Iterable[str]) -> dict[str, TaggedDocument]:
        """The stored documents of `doc_ids` in one read (a page of hits was a round trip per hit),
        by id in the order given; ids not indexed are left out, an id given twice comes once."""

    @abstractmethod
    def scan(self, batch_size: int = 500) -> Iterator[list[TaggedDocument]]:
        """Every stored document, in batches of at most `batch_size` (the last may be shorter):
        a walk over the whole index for re-tagging and label-next. Each document comes once;
        documents written during the walk may or may not be seen (no snapshot is promised)."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def retag(
        self, transform: RetagTransform, *, progress: RetagProgress | None = None, retriage: Retriage | None = None
    ) -> RetagReport:
        """Replace every stored document's tags by `transform`'s, in batches, while search answers
        throughout and shows the old tags until the new ones are all in place, at once. Reviews,
        history and human corrections stay (each re-tagged record goes through carried_over: a
        corrected one is triaged again by `retriage` from its corrected tags); documents written
        while it runs are re-tagged from their latest form (catch-up). A document whose new tags
        the backend refuses keeps its old ones (`kept`). One re-tag at a time."""

    def search(self, request: SearchRequest) -> SearchResult:
        # Text with no words in it ("*", "()") matches nothing; it must not become "match all".
        if request.text.strip() and request.query.is_empty:
            return SearchResult(total=0, page=request.page, size=request.size, hits=[], facets=Facets())
        return self._search(request)

    @abstractmethod
    def _search(self, request: SearchRequest) -> SearchResult:
        """Run a request whose query text is empty (filters only) or has clauses (words, phrases,
        prefixes, or exclusions alone: a filter)."""

    def export(self, request: SearchRequest, batch_size: int = EXPORT_BATCH) -> Iterator[list[TaggedDocument]]:
        """Every document `request` matches, in its order, in batches of at most `batch_size`: all
        pages (the request's page and size are ignored, no facets are counted). Documents come
        without their embeddings (an export carries no vectors). Each comes once; documents
        written during the walk may or may not be in it."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if request.text.strip() and request.query.is_empty:  # as search: no words, no matches
            return iter(())
        return self._export(request, batch_size)

    @abstractmethod
    def _export(self, request: SearchRequest, batch_size: int) -> Iterator[list[TaggedDocument]]:
        """export, for a request whose query text is empty or has clauses, as _search's."""

    @abstractmethod
    def nearest(self, vector: list[float], *, size: int = 10, exclude_id: str | None = None) -> list[SearchHit]:
        """Documents whose embeddings are closest (cosine) to `vector`, best first."""

    @abstractmethod
    def mark_reviewed(self, doc_id: str, reviewer: str, when: datetime, note: str | None = None) -> ReviewOutcome | None:
        """Take a report off the triage queue, atomically: of two reviewers at once, one wins (and
        the winner's note is the one kept). None when `doc_id` is not indexed."""

    @abstractmethod
    def apply_correction(
        self, doc_id: str, correction: Mapping[str, Any], *, retriage: Retriage | None = None
    ) -> TaggedDocument | None:
        """Apply a document's merged human label (labels.merge) over its stored tags, atomically
        against concurrent writes, searchable when this returns (the corrected domains filter and
        facet at once); the document as now stored, or None when `doc_id` is not indexed. The
        review, history and the model's own scores stay. A label merging fewer corrections than
        the stored one (two analysts at once, the older applied last) leaves the stored one.
        Given `retriage`, the case cards and priority are computed again from the corrected tags
        and written in the same write (labelled): the triage queue orders it by them at once."""

    @abstractmethod
    def known_entity_keys_many(self, pairs_by_document: Mapping[str, Iterable[tuple[str, str]]]) -> dict[str, set[tuple[str, str]]]:
        """For each document id, which of its (label, key) entities occur in stored documents other
        than that one: novelty for a whole batch in one request (it was one per document)."""

    def known_entity_keys(self, pairs: Iterable[tuple[str, str]], *, exclude_id: str | None = None) -> set[tuple[str, str]]:
        """Which (label, key) entities already occur in documents other than `exclude_id`."""
        asking = exclude_id if exclude_id is not None else ""  # "" is no stored report's id
        return self.known_entity_keys_many({asking: pairs})[asking]

    @abstractmethod
    def health(self) -> BackendHealth: ...

    @abstractmethod
    def close(self) -> None: ...

    def similar(self, doc_id: str, *, size: int = 10) -> list[SearchHit] | None:
        """Documents like `doc_id` by embedding; None when `doc_id` is not indexed, none when it has
        no embedding (the models did not tag it)."""
        embedding = self.embedding_of(doc_id)
        if embedding is None:
            return None
        if not embedding:
            return []
        return self.nearest(embedding, size=size, exclude_id=doc_id)

    def embedding_of(self, doc_id: str) -> list[float] | None:
        """A stored report's embedding ([] when the models did not tag it); None when `doc_id` is
        not indexed. Backends read the vector alone where they can (the whole report is 10-50 kB)."""
        document = self.get(doc_id)
        return None if document is None else document.embedding
