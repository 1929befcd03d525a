"""The search-engine backend: Elasticsearch 8 through the official client.

All code that speaks to the engine lives in this module (the query DSL is built in
engine_query.py). Documents go to a versioned index (`<name>-v<N>`) reached through the alias
`<name>`, so a new mapping can be built beside the old one and the alias swapped without
downtime. Writes use `streaming_bulk`, conditional on the version read (optimistic concurrency),
so a re-ingest never overwrites a review that landed meanwhile; the mapping is explicit and strict.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
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
    carried_over,
)
from kunlun_nlp.index.engine_query import (
    HIT_FIELDS,
    NAME_SEPARATOR,
    build_knn,
    build_search_body,
    display_names_body,
    display_names_from,
    facet_counts,
    knn_cosine,
    marked_fragments,
)
from kunlun_nlp.records import tagged_from_record, tagged_to_record
from kunlun_nlp.search.request import FACET_ENTITY_LABELS, SearchRequest
from kunlun_nlp.search.results import Facets, SearchHit, SearchResult, facets_from_counts, hit_from_record, snippet
from kunlun_nlp.vocabulary import DOMAIN_LABELS, ENTITY_LABELS

# 2: triage fields (priority, grade, cases, review); 3: not_tagged, furniture, published_via;
# 4: flat entity keys and names (facets, entity filters and novelty without nested queries);
# 5: history (the reviewed versions of a report whose text changed; stored, not searched)
MAPPING_VERSION = 5
# Rounds of read-then-conditional-write before giving up on a report others keep changing.
_WRITE_ATTEMPTS = 10
_BULK_CHUNK = 500  # documents per bulk request (a record with its vector is about 10 kB)
_KEYWORD = {"type": "keyword"}
# Counted by facets: the lookup of their values is built when an index is refreshed, not by the
# first search after it (tens of milliseconds for a field of 100,000 values).
_FACETED = {"type": "keyword", "eager_global_ordinals": True}
_ENGLISH_TEXT = {"type": "text", "analyzer": "english"}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": _KEYWORD,
        "title": _ENGLISH_TEXT,
        "text": _ENGLISH_TEXT,
        "source": _KEYWORD,
        "published": {"type": "date", "format": "strict_date"},
        "language": _FACETED,
        "ingested_at": {"type": "date"},
        "domains": _FACETED,
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
        "history": {"type": "object", "enabled": False},
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
        # Each entity's key (and "key<US>name" for the faceted labels) once more, flat: terms
        # aggregations over these cost a fraction of nested ones (issue 12: 425 ms to 14 ms).
        "entity_keys": {"properties": {label: _FACETED if label in FACET_ENTITY_LABELS else _KEYWORD for label in ENTITY_LABELS}},
        "entity_names": {"properties": {label: {"type": "keyword", "ignore_above": 4096} for label in FACET_ENTITY_LABELS}},
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
            {"_op_type": "index", "_index": self.versioned_name, "_id": d["_id"], "_source": with_derived_fields(d["_source"])}
            for d in scan(self.client, index=self.alias, query={"query": {"match_all": {}}})
        )
        for _ in streaming_bulk(self.client, copies, chunk_size=_BULK_CHUNK):
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
        pending = {tagged.id: tagged for tagged in documents}  # the last copy of an id wins, as a later put would
        indexed, failed = 0, {}
        for _ in range(_WRITE_ATTEMPTS):
            if not pending:
                break
            conflicts = {}
            with _engine_errors(self.url):
                # No refresh per chunk (it made a put 3-4x slower than a plain bulk): one at the end.
                for ok, item in streaming_bulk(
                    self.client, self._conditional_writes(pending), chunk_size=_BULK_CHUNK, raise_on_error=False, max_retries=2
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
        if indexed:
            with _engine_errors(self.url):
                self.client.indices.refresh(index=self.alias)  # searchable when put returns
        for doc_id in pending:
            failed[doc_id] = "the report kept changing while being written; try again"
        return IndexWriteReport(indexed=indexed, failed=failed)

    def _conditional_writes(self, documents: dict[str, TaggedDocument]) -> Iterator[dict[str, Any]]:
        """Bulk actions, made a chunk at a time as the writes go (records of a whole put at once
        held a second copy of every vector)."""
        ids = list(documents)
        for first in range(0, len(ids), _BULK_CHUNK):
            yield from self._chunk_writes({doc_id: documents[doc_id] for doc_id in ids[first : first + _BULK_CHUNK]})

    def _chunk_writes(self, documents: dict[str, TaggedDocument]) -> list[dict[str, Any]]:
        """Bulk actions that keep each stored review and land only on the version it was read
        from (`create` for a report not stored yet): a review marked in between makes them fail."""
        records = {doc_id: engine_record(tagged) for doc_id, tagged in documents.items()}
        found = self.client.mget(index=self.alias, ids=list(records), source_includes=["review", "title", "text", "history"])
        stored = {d["_id"]: d for d in found["docs"] if d.get("found")}
        now = datetime.now(timezone.utc)
        actions = []
        for doc_id, record in records.items():
            current = stored.get(doc_id)
            if current is None:
                actions.append({"_op_type": "create", "_index": self.alias, "_id": doc_id, "_source": record})
                continue
            source = carried_over(record, current["_source"], now)
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

    def known_entity_keys_many(self, pairs_by_document: Mapping[str, Iterable[tuple[str, str]]]) -> dict[str, set[tuple[str, str]]]:
        wanted = {doc_id: set(pairs) for doc_id, pairs in pairs_by_document.items()}
        every = set().union(*wanted.values())
        if not every:
            return {doc_id: set() for doc_id in wanted}
        self.ensure_index()
        by_label: dict[str, list[str]] = {}
        for label, key in sorted(every):
            by_label.setdefault(label, []).append(key)
        # Per key, up to two of the reports that name it: enough to tell whether one other than
        # the asking report does.
        aggs = {
            label: {
                "terms": {"field": f"entity_keys.{label}", "include": keys, "size": len(keys)},
                "aggs": {"ids": {"terms": {"field": "id", "size": 2}}},
            }
            for label, keys in by_label.items()
        }
        query = {"bool": {"should": [{"terms": {f"entity_keys.{label}": keys}} for label, keys in by_label.items()]}}
        with _engine_errors(self.url):
            response = self.client.search(index=self.alias, size=0, query=query, aggs=aggs)
        named_by = {
            (label, bucket["key"]): {b["key"] for b in bucket["ids"]["buckets"]}
            for label in by_label
            for bucket in response["aggregations"][label]["buckets"]
        }
        return {doc_id: {p for p in pairs if named_by.get(p, set()) - {doc_id}} for doc_id, pairs in wanted.items()}

    # -- reads ---------------------------------------------------------------------------------

    def get(self, doc_id: str) -> TaggedDocument | None:
        self.ensure_index()
        with _engine_errors(self.url):
            try:
                found = self.client.get(index=self.alias, id=doc_id)
            except NotFoundError:
                return None
        return tagged_from_record(found["_source"])

    def embedding_of(self, doc_id: str) -> list[float] | None:
        self.ensure_index()
        with _engine_errors(self.url):
            try:
                found = self.client.get(index=self.alias, id=doc_id, source_includes=["embedding"])
            except NotFoundError:
                return None
        return list(found["_source"].get("embedding") or [])

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
        total = response["hits"]["total"]
        return SearchResult(
            total=int(total["value"]),
            page=request.page,
            size=request.size,
            hits=hits,
            facets=self._facets(response["aggregations"]) if request.facets else Facets(),
            total_exact=total["relation"] == "eq",
        )

    def _facets(self, aggregations: dict[str, Any]) -> Facets:
        """Facets from the search's aggregations; entity values are shown by name, read in a
        second, small request over the reports that name the top keys."""
        domains, entity_keys, languages = facet_counts(aggregations)
        top = {label: [key for key, _ in pairs] for label, pairs in entity_keys.items() if pairs}
        names: dict[tuple[str, str], str] = {}
        if top:
            with _engine_errors(self.url):
                answer = self.client.search(index=self.alias, **display_names_body(top))
            names = display_names_from(answer["aggregations"], top)
        entities = {label: [(names.get((label, key), key), n) for key, n in pairs] for label, pairs in entity_keys.items()}
        return facets_from_counts(domains, entities, languages)

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


def engine_record(tagged: TaggedDocument) -> dict[str, Any]:
    """The stored record (records.tagged_to_record) with the fields only the engine keeps."""
    record = with_derived_fields(tagged_to_record(tagged))
    if record["not_tagged"] and not record["embedding"]:
        del record["embedding"]  # not tagged: no vector (the engine refuses an empty one)
    return record


def with_derived_fields(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record with the fields the engine derives from it for filters and facets (also
    applied to the copies of an older mapping version, which lack them)."""
    grade = record.get("grade") or ""
    keys: dict[str, set[str]] = {}
    names: dict[str, set[str]] = {}
    for entity in record.get("entities") or []:
        if entity["label"] in ENTITY_LABELS:
            keys.setdefault(entity["label"], set()).add(entity["key"])
        if entity["label"] in FACET_ENTITY_LABELS:
            names.setdefault(entity["label"], set()).add(f"{entity['key']}{NAME_SEPARATOR}{entity['normalized']}")
    return {
        **record,
        "reliability": grade[:1] or None,
        "credibility": int(grade[1:]) if grade[1:] else None,
        "entity_keys": {label: sorted(values) for label, values in keys.items()},
        "entity_names": {label: sorted(values) for label, values in names.items()},
    }


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
