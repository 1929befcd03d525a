"""The search-engine backend: Elasticsearch 8 through the official client.

All code that speaks to the engine lives in this module (the query DSL is built in
engine_query.py). Documents go to a versioned index (`<name>-v<N>`) reached through the alias
`<name>`, so a new mapping can be built beside the old one and the alias swapped without
downtime. Writes use `streaming_bulk`, conditional on the version read (optimistic concurrency),
so a re-ingest never overwrites a review that landed meanwhile; the mapping is explicit and strict.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError, TransportError
from elasticsearch.helpers import scan, streaming_bulk

from kunlun_nlp.document import Review, TaggedDocument
from kunlun_nlp.index.base import (
    EMBEDDING_DIMS,
    BackendHealth,
    DocumentIndex,
    IndexUnavailableError,
    IndexWriteReport,
    ReviewOutcome,
)
from kunlun_nlp.index.engine_query import (
    HIT_FIELDS,
    build_knn,
    build_search_body,
    facet_counts,
    knn_cosine,
    marked_fragments,
)
from kunlun_nlp.records import tagged_from_record, tagged_to_record
from kunlun_nlp.search.request import SearchRequest
from kunlun_nlp.search.results import SearchHit, SearchResult, facets_from_counts, hit_from_record, snippet
from kunlun_nlp.vocabulary import DOMAIN_LABELS

MAPPING_VERSION = 3  # 2: triage fields (priority, grade, cases, review); 3: not_tagged, furniture, published_via
# Rounds of read-then-conditional-write before giving up on a report others keep changing.
_WRITE_ATTEMPTS = 10
_KEYWORD = {"type": "keyword"}
_ENGLISH_TEXT = {"type": "text", "analyzer": "english"}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "title": _ENGLISH_TEXT,
        "text": _ENGLISH_TEXT,
        "source": _KEYWORD,
        "published": {"type": "date", "format": "strict_date"},
        "language": _KEYWORD,
        "ingested_at": {"type": "date"},
        "domains": _KEYWORD,
        "domain_scores": {"properties": {label: {"type": "float"} for label in DOMAIN_LABELS}},
        "predicted": {"type": "object", "enabled": False},  # kept in _source for display only
        "subtypes": {"properties": {"label": _KEYWORD, "score": {"type": "float"}}},
        "evidence": {"type": "object", "enabled": False},
        "model": _KEYWORD,
        "grade": _KEYWORD,
        "reliability": _KEYWORD,
        "credibility": {"type": "integer"},
        "cases": {"type": "object", "enabled": False},
        "priority": {
            "properties": {
                "score": {"type": "integer"},
                "reasons": {"type": "text", "index": False},
                "factors": {"type": "object", "enabled": False},
            }
        },
        "review": {"properties": {"reviewed_by": _KEYWORD, "reviewed_at": {"type": "date"}}},
        "not_tagged": _KEYWORD,  # why the models did not tag it (a language they do not read)
        "furniture": {"type": "object", "enabled": False},  # [start, end] pairs, kept with the text
        "published_via": _KEYWORD,
        "entities": {
            "type": "nested",  # label and value must match within one entity
            "properties": {
                "label": _KEYWORD,
                "text": _KEYWORD,
                "normalized": _KEYWORD,
                "key": _KEYWORD,
                "start": {"type": "integer", "index": False},
                "end": {"type": "integer", "index": False},
                "details": {"type": "object", "enabled": False},  # shown, not searched (yet)
            },
        },
        "embedding": {
            "type": "dense_vector",
            "dims": EMBEDDING_DIMS,
            "index": True,
            "similarity": "cosine",
            "index_options": {"type": "hnsw"},  # full float vectors: the corpus is small, keep recall exact
        },
    },
}


class SearchEngineIndex(DocumentIndex):
    backend = "engine"

    def __init__(self, url: str, *, index_name: str = "kunlun-documents", replicas: int = 0, timeout: float = 10.0):
        self.url = url
        self.alias = index_name
        self.replicas = replicas
        self.client = Elasticsearch(url, request_timeout=timeout, max_retries=1, retry_on_timeout=False)
        self._ready = False

    # -- index lifecycle -----------------------------------------------------------------------

    @property
    def versioned_name(self) -> str:
        return f"{self.alias}-v{MAPPING_VERSION}"

    def ensure_index(self) -> None:
        """Create the versioned index and point the alias at it, unless the alias exists."""
        if self._ready:
            return
        with _engine_errors(self.url):
            if not self.client.indices.exists_alias(name=self.alias):
                self._create(self.versioned_name, alias=True)
            else:
                current = list(self.client.indices.get_alias(name=self.alias))
                if current != [self.versioned_name]:
                    self._migrate(current)
        self._ready = True

    def _create(self, name: str, *, alias: bool) -> None:
        self.client.indices.create(
            index=name,
            settings={"number_of_shards": 1, "number_of_replicas": self.replicas},
            mappings=MAPPINGS,
            aliases={self.alias: {"is_write_index": True}} if alias else None,
        )

    def _migrate(self, old: list[str]) -> None:
        """Zero-downtime reindex: build the new version beside the old, then swap the alias in one step."""
        self._create(self.versioned_name, alias=False)
        # client-side scan + bulk: works on every node, with or without the server's reindex module
        copies = (
            {"_op_type": "index", "_index": self.versioned_name, "_id": d["_id"], "_source": d["_source"]}
            for d in scan(self.client, index=self.alias, query={"query": {"match_all": {}}})
        )
        for _ in streaming_bulk(self.client, copies, chunk_size=200):
            pass
        self.client.indices.refresh(index=self.versioned_name)
        actions: list[dict[str, Any]] = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": self.versioned_name, "alias": self.alias, "is_write_index": True}})
        self.client.indices.update_aliases(actions=actions)
        for name in old:
            self.client.indices.delete(index=name)

    def drop(self) -> None:
        """Delete the alias and every version behind it (tests and re-creation)."""
        with _engine_errors(self.url):
            versions = self.client.indices.get(index=f"{self.alias}-v*", allow_no_indices=True)
            for name in versions:  # by name: the engine refuses wildcard deletes
                self.client.indices.delete(index=name)
        self._ready = False

    # -- writes --------------------------------------------------------------------------------

    def put(self, documents: Iterable[TaggedDocument]) -> IndexWriteReport:
        self.ensure_index()
        pending: dict[str, dict[str, Any]] = {}
        for tagged in documents:  # the last copy of an id wins, as a later put would
            record = tagged_to_record(tagged)
            grade = record.get("grade") or ""
            record["reliability"] = grade[:1] or None
            record["credibility"] = int(grade[1:]) if grade[1:] else None
            if record["not_tagged"] and not record["embedding"]:
                del record["embedding"]  # not tagged: no vector (the engine refuses an empty one)
            pending[record["id"]] = record
        indexed, failed = 0, {}
        for _ in range(_WRITE_ATTEMPTS):
            if not pending:
                break
            conflicts = {}
            with _engine_errors(self.url):
                actions = self._conditional_writes(pending)
                for ok, item in streaming_bulk(
                    self.client, actions, chunk_size=200, refresh="wait_for", raise_on_error=False, max_retries=2
                ):
                    (result,) = item.values()
                    doc_id = result.get("_id", "?")
                    if ok:
                        indexed += 1
                    elif result.get("status") == 409:
                        conflicts[doc_id] = pending[doc_id]  # changed since the read (a review?): read again
                    else:
                        failed[doc_id] = _refusal(result.get("error"))
            pending = conflicts
        for doc_id in pending:
            failed[doc_id] = "the report kept changing while being written; try again"
        return IndexWriteReport(indexed=indexed, failed=failed)

    def _conditional_writes(self, records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Bulk actions that keep each stored review and land only on the version it was read
        from (`create` for a report not stored yet): a review marked in between makes them fail."""
        found = self.client.mget(index=self.alias, ids=list(records), source_includes=["review"])
        stored = {d["_id"]: d for d in found["docs"] if d.get("found")}
        actions = []
        for doc_id, record in records.items():
            current = stored.get(doc_id)
            if current is None:
                actions.append({"_op_type": "create", "_index": self.alias, "_id": doc_id, "_source": record})
                continue
            review = current["_source"].get("review")
            source = {**record, "review": review} if review and not record.get("review") else record
            actions.append(
                {
                    "_op_type": "index",
                    "_index": self.alias,
                    "_id": doc_id,
                    "_source": source,
                    "if_seq_no": current["_seq_no"],
                    "if_primary_term": current["_primary_term"],
                }
            )
        return actions

    def mark_reviewed(self, doc_id: str, reviewer: str, when: datetime) -> ReviewOutcome | None:
        self.ensure_index()
        review = Review(reviewer, when)
        with _engine_errors(self.url):
            for _ in range(_WRITE_ATTEMPTS):
                try:
                    current = self.client.get(index=self.alias, id=doc_id, source_includes=["review"])
                except NotFoundError:
                    return None
                earlier = Review.from_record(current["_source"].get("review"))
                if earlier is not None:
                    return ReviewOutcome(earlier, newly_reviewed=False)
                try:
                    # optimistic concurrency: the write fails if anyone changed the report since the read
                    self.client.update(
                        index=current["_index"],
                        id=doc_id,
                        doc={"review": review.to_record()},
                        if_seq_no=current["_seq_no"],
                        if_primary_term=current["_primary_term"],
                        refresh="wait_for",
                    )
                    return ReviewOutcome(review, newly_reviewed=True)
                except ConflictError:
                    continue  # read again: another analyst reviewed it first, or it was re-ingested
        raise IndexUnavailableError(f"search engine at {self.url}: report {doc_id} kept changing while being reviewed")

    def known_entity_keys(self, pairs: Iterable[tuple[str, str]], *, exclude_id: str | None = None) -> set[tuple[str, str]]:
        pairs = set(pairs)
        if not pairs:
            return set()
        self.ensure_index()
        labels = sorted({label for label, _ in pairs})
        aggs = {
            label: {
                "filter": {"term": {"entities.label": label}},
                "aggs": {"keys": {"terms": {"field": "entities.key", "include": sorted(k for l, k in pairs if l == label), "size": len(pairs)}}},
            }
            for label in labels
        }
        query: dict[str, Any] = {"bool": {"must_not": [{"ids": {"values": [exclude_id]}}] if exclude_id else []}}
        with _engine_errors(self.url):
            response = self.client.search(
                index=self.alias, size=0, query=query, aggs={"entities": {"nested": {"path": "entities"}, "aggs": aggs}}
            )
        found = set()
        for label in labels:
            found |= {(label, b["key"]) for b in response["aggregations"]["entities"][label]["keys"]["buckets"]}
        return found

    # -- reads ---------------------------------------------------------------------------------

    def get(self, doc_id: str) -> TaggedDocument | None:
        self.ensure_index()
        with _engine_errors(self.url):
            try:
                found = self.client.get(index=self.alias, id=doc_id)
            except NotFoundError:
                return None
        return tagged_from_record(found["_source"])

    def count(self) -> int:
        self.ensure_index()
        with _engine_errors(self.url):
            return int(self.client.count(index=self.alias)["count"])

    def _search(self, request: SearchRequest) -> SearchResult:
        self.ensure_index()
        with _engine_errors(self.url):
            response = self.client.search(index=self.alias, **build_search_body(request))
        hits = [
            hit_from_record(hit["_source"], hit.get("_score"), snippet(marked_fragments(hit), hit["_source"]["text"]))
            for hit in response["hits"]["hits"]
        ]
        return SearchResult(
            total=int(response["hits"]["total"]["value"]),
            page=request.page,
            size=request.size,
            hits=hits,
            facets=facets_from_counts(*facet_counts(response["aggregations"])),
        )

    def nearest(self, vector: list[float], *, size: int = 10, exclude_id: str | None = None) -> list[SearchHit]:
        self.ensure_index()
        knn = build_knn(vector, size=size, exclude_id=exclude_id)
        with _engine_errors(self.url):
            response = self.client.search(index=self.alias, knn=knn, size=size, source_includes=HIT_FIELDS)
        return [
            hit_from_record(hit["_source"], knn_cosine(hit["_score"]), snippet(None, hit["_source"]["text"]))
            for hit in response["hits"]["hits"]
        ]

    def health(self) -> BackendHealth:
        try:
            state = self.client.options(request_timeout=3).cluster.health()
            documents = self.count()
        except (IndexUnavailableError, TransportError, ApiError) as exc:
            return BackendHealth(self.backend, self.url, False, None, str(exc))
        return BackendHealth(self.backend, self.url, True, documents, f"cluster {state['status']}")

    def close(self) -> None:
        self.client.close()


def _refusal(error: Any) -> str:
    """The engine's reason for refusing a document, short: field previews in it can be huge."""
    if not isinstance(error, dict):
        return str(error or "unknown error")[:500]
    cause = error
    while isinstance(cause.get("caused_by"), dict):
        cause = cause["caused_by"]
    return f"{error.get('type', 'error')}: {cause.get('reason') or error.get('reason') or ''}"[:500]


@contextmanager
def _engine_errors(url: str) -> Iterator[None]:
    """Connection failures and server errors become IndexUnavailableError; 4xx answers stay as they are."""
    try:
        yield
    except NotFoundError:
        raise
    except TransportError as exc:
        raise IndexUnavailableError(f"search engine at {url}: {exc}") from exc
    except ApiError as exc:
        if exc.meta.status >= 500:
            raise IndexUnavailableError(f"search engine at {url}: {exc}") from exc
        raise
