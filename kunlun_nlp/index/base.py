"""The interface every index backend implements; tests/test_index_contract.py holds it to it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from kunlun_nlp.document import TaggedDocument
from kunlun_nlp.search.request import SearchRequest
from kunlun_nlp.search.results import Facets, SearchHit, SearchResult


class IndexUnavailableError(RuntimeError):
    """The backend cannot be reached or refused the write: nothing was stored."""


@dataclass(frozen=True)
class BackendHealth:
    backend: str
    location: str
    reachable: bool
    documents: int | None
    detail: str = ""


@dataclass(frozen=True)
class ReviewOutcome:
    review: dict  # {"reviewed_by", "reviewed_at"}: whoever reviewed it first
    newly_reviewed: bool  # False when someone had already reviewed it


@dataclass(frozen=True)
class IndexWriteReport:
    indexed: int
    failed: dict[str, str]  # document id → reason


class DocumentIndex(ABC):
    backend: str

    @abstractmethod
    def put(self, documents: Iterable[TaggedDocument]) -> IndexWriteReport:
        """Store (or replace, by id) tagged documents; searchable when this returns."""

    @abstractmethod
    def get(self, doc_id: str) -> TaggedDocument | None: ...

    @abstractmethod
    def count(self) -> int: ...

    def search(self, request: SearchRequest) -> SearchResult:
        # Text with no words in it ("*", "()") matches nothing; it must not become "match all".
        if request.text.strip() and request.query.is_empty:
            return SearchResult(total=0, page=request.page, size=request.size, hits=[], facets=Facets())
        return self._search(request)

    @abstractmethod
    def _search(self, request: SearchRequest) -> SearchResult:
        """Run a request whose query text is either empty (filters only) or has words."""

    @abstractmethod
    def nearest(self, vector: list[float], *, size: int = 10, exclude_id: str | None = None) -> list[SearchHit]:
        """Documents whose embeddings are closest (cosine) to `vector`, best first."""

    @abstractmethod
    def mark_reviewed(self, doc_id: str, reviewer: str, when: datetime) -> ReviewOutcome | None:
        """Take a report off the triage queue, atomically: of two reviewers at once, one wins.
        None when `doc_id` is not indexed."""

    @abstractmethod
    def known_entity_keys(self, pairs: Iterable[tuple[str, str]], *, exclude_id: str | None = None) -> set[tuple[str, str]]:
        """Which (label, key) entities already occur in documents other than `exclude_id`."""

    @abstractmethod
    def health(self) -> BackendHealth: ...

    @abstractmethod
    def close(self) -> None: ...

    def similar(self, doc_id: str, *, size: int = 10) -> list[SearchHit] | None:
        """Documents like `doc_id` by embedding; None when `doc_id` is not indexed."""
        document = self.get(doc_id)
        if document is None:
            return None
        return self.nearest(document.embedding, size=size, exclude_id=doc_id)
