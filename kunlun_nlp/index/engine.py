"""The search-engine backend: Elasticsearch 8 through the official client.

All code that speaks to the engine lives in this module (the query DSL is built in
engine_query.py). Documents go to a versioned index (`<name>-v<N>`) reached through the alias
`<name>`, so a new mapping can be built beside the old one and the alias swapped without
downtime. Writes use `streaming_bulk`, conditional on the version read (optimistic concurrency),
so a re-ingest never overwrites a review that landed meanwhile; the mapping is explicit and strict.
A re-tag builds `<name>-v<N>-r<stamp>` the same way (retag); a conditional write lands on the index
it read from, so one that raced the swap fails there and is read again through the alias.
"""

from __future__ import annotations

import logging
import secrets
import time
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
    RetagProgress,
    RetagReport,
    RetagTransform,
    Retriage,
    ReviewOutcome,
    carried_over,
    labelled,
    refusal_reason,
    retagged_batch,
)
from kunlun_nlp.index.engine_query import (
    HIT_FIELDS,
    NAME_SEPARATOR,
    build_knn,
    build_search_body,
    display_names_body,
    export_body,
    display_names_from,
    facet_counts,
    knn_cosine,
    marked_fragments,
    subtype_source_date_counts,
)
from kunlun_nlp.labels.correction import latest_label
from kunlun_nlp.records import tagged_from_record, tagged_to_record
from kunlun_nlp.search.request import FACET_ENTITY_LABELS, SearchRequest
from kunlun_nlp.search.results import Facets, SearchHit, SearchResult, facets_from_counts, hit_from_record, snippet
from kunlun_nlp.vocabulary import DOMAIN_LABELS, ENTITY_LABELS

# 2: triage fields (priority, grade, cases, review); 3: not_tagged, furniture, published_via;
# 4: flat entity keys and names (facets, entity filters and novelty without nested queries);
# 5: history (the reviewed versions of a report whose text changed; stored, not searched);
# 6: correction (the merged human label, stored) and corrected_by (who corrected it last, filterable);
# 7: review.note (stored, not searched); source and subtypes.label faceted
MAPPING_VERSION = 7
# Rounds of read-then-conditional-write before giving up on a report others keep changing.
_WRITE_ATTEMPTS = 10
_BULK_CHUNK = 500  # documents per bulk request (a record with its vector is about 10 kB)
# A writer that finds its index write-blocked or gone (a re-tag swapping indexes) reads again
# through the alias; the block lasts as long as the re-tag's last catch-up, seconds at most.
_SWAP_WAIT_SECONDS = 60.0
_RETAG_BATCH = 256  # documents re-tagged per round trip
# How long an export's point in time is kept between two pages (a slow client reads a page meanwhile).
_EXPORT_KEEP_ALIVE = "10m"
_CATCH_UP_ROUNDS = 5  # catch-up rounds while writes go on, before the old index is write-blocked
_BLOCKED_CATCH_UP = 100  # few enough documents to re-tag while writers wait

log = logging.getLogger(__name__)
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
        "source": _FACETED,
        "published": {"type": "date", "format": "strict_date"},
        "language": _FACETED,
        "ingested_at": {"type": "date"},
        "domains": _FACETED,
        "domain_scores": {"properties": {label: {"type": "float"} for label in DOMAIN_LABELS}},
        "predicted": {"type": "object", "enabled": False},  # kept in _source for display only
        "subtypes": {"properties": {"label": _FACETED, "score": {"type": "float"}}},
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
        "review": {"properties": {"reviewed_by": _KEYWORD, "reviewed_at": {"type": "date"}, "note": {"type": "text", "index": False}}},
        "history": {"type": "object", "enabled": False},
        "not_tagged": _KEYWORD,  # why the models did not tag it (a language they do not read)
        "furniture": {"type": "object", "enabled": False},  # [start, end] pairs, kept with the text
        "published_via": _KEYWORD,
        "correction": {"type": "object", "enabled": False},  # the merged human label (kunlun_nlp.labels)
        "split_windows": {"type": "keyword"},  # domains a long report's windows disagree on
        "corrected_by": _KEYWORD,  # who corrected it last: corrected reports can be told apart
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
                if not (len(current) == 1 and self._of_this_mapping(current[0])):
                    self._migrate(current)
        self._ready = True

    def _of_this_mapping(self, name: str) -> bool:
        """`<alias>-v<N>` as first created or migrated, `<alias>-v<N>-r<stamp>` as a re-tag built it."""
        return name == self.versioned_name or name.startswith(f"{self.versioned_name}-r")

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

    def put(self, documents: Iterable[TaggedDocument], *, retriage: Retriage | None = None) -> IndexWriteReport:
        self.ensure_index()
        pending = {tagged.id: tagged for tagged in documents}  # the last copy of an id wins, as a later put would
        indexed, failed = 0, {}
        attempts, swap = 0, _SwapWait()
        while pending and attempts < _WRITE_ATTEMPTS:
            conflicts, swapped = {}, False
            with _engine_errors(self.url):
                # No refresh per chunk (it made a put 3-4x slower than a plain bulk): one at the end.
                for ok, item in streaming_bulk(
                    self.client, self._conditional_writes(pending, retriage), chunk_size=_BULK_CHUNK, raise_on_error=False, max_retries=2
                ):
                    (result,) = item.values()
                    doc_id = result.get("_id", "?")
                    if ok:
                        indexed += 1
                    elif result.get("status") == 409:
                        conflicts[doc_id] = pending[doc_id]  # changed since the read (a review?): read again
                    elif _swapped_out(result.get("error")):
                        conflicts[doc_id], swapped = pending[doc_id], True  # a re-tag's swap: read again
                    else:
                        failed[doc_id] = _refusal(result.get("error"))
            pending = conflicts
            if not (swapped and swap.pause()):  # waiting out a swap is not an attempt
                attempts += 1
        if indexed:
            with _engine_errors(self.url):
                self.client.indices.refresh(index=self.alias)  # searchable when put returns
        for doc_id in pending:
            failed[doc_id] = "the report kept changing while being written; try again"
        return IndexWriteReport(indexed=indexed, failed=failed)

    def _conditional_writes(self, documents: dict[str, TaggedDocument], retriage: Retriage | None) -> Iterator[dict[str, Any]]:
        """Bulk actions, made a chunk at a time as the writes go (records of a whole put at once
        held a second copy of every vector)."""
        ids = list(documents)
        for first in range(0, len(ids), _BULK_CHUNK):
            yield from self._chunk_writes({doc_id: documents[doc_id] for doc_id in ids[first : first + _BULK_CHUNK]}, retriage)

    def _chunk_writes(self, documents: dict[str, TaggedDocument], retriage: Retriage | None) -> list[dict[str, Any]]:
        """Bulk actions that keep each stored review and land only on the version it was read
        from (`create` for a report not stored yet): a review marked in between makes them fail."""
        records = {doc_id: engine_record(tagged) for doc_id, tagged in documents.items()}
        found = self.client.mget(index=self.alias, ids=list(records), source_includes=["review", "title", "text", "history", "correction"])
        stored = {d["_id"]: d for d in found["docs"] if d.get("found")}
        now = datetime.now(timezone.utc)
        actions = []
        for doc_id, record in records.items():
            current = stored.get(doc_id)
            if current is None:
                actions.append({"_op_type": "create", "_index": self.alias, "_id": doc_id, "_source": record})
                continue
            source = with_derived_fields(carried_over(record, current["_source"], now, retriage))  # a correction changes the tags
            actions.append(
                {
                    "_op_type": "index",
                    "_index": current["_index"],  # where it was read: after a re-tag's swap it fails there
                    "_id": doc_id,
                    "_source": source,
                    "if_seq_no": current["_seq_no"],
                    "if_primary_term": current["_primary_term"],
                }
            )
        return actions

    def mark_reviewed(self, doc_id: str, reviewer: str, when: datetime, note: str | None = None) -> ReviewOutcome | None:
        self.ensure_index()
        review = Review(reviewer, when, note)
        attempts, swap = 0, _SwapWait()
        with _engine_errors(self.url):
            while attempts < _WRITE_ATTEMPTS:
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
                    attempts += 1  # read again: another analyst reviewed it first, or it was re-ingested
                except ApiError as exc:
                    if not (_swapped_out(exc) and swap.pause()):
                        raise  # read again once a re-tag's swap is done, unless it never ends
        raise IndexUnavailableError(f"search engine at {self.url}: report {doc_id} kept changing while being reviewed")

    def apply_correction(
        self, doc_id: str, correction: Mapping[str, Any], *, retriage: Retriage | None = None
    ) -> TaggedDocument | None:
        """Read, correct (and triage again), write back on the version read (a concurrent write
        makes it read, correct and triage again), refreshed: searchable by its corrected tags and
        in the triage queue's order by its new priority when this returns. During a re-tag's swap
        it waits, as mark_reviewed does, and corrects the copy behind the alias then."""
        self.ensure_index()
        attempts, swap = 0, _SwapWait()
        with _engine_errors(self.url):
            while attempts < _WRITE_ATTEMPTS:
                try:
                    current = self.client.get(index=self.alias, id=doc_id)
                except NotFoundError:
                    return None
                label = latest_label(correction, current["_source"].get("correction"))  # never an older label over a newer
                source = with_derived_fields(labelled(current["_source"], label, retriage))
                try:
                    self.client.index(
                        index=current["_index"],
                        id=doc_id,
                        document=source,
                        if_seq_no=current["_seq_no"],
                        if_primary_term=current["_primary_term"],
                        refresh=True,
                    )
                    return tagged_from_record(source)
                except ConflictError:
                    attempts += 1  # re-ingested or reviewed meanwhile: correct the latest copy
                except ApiError as exc:
                    if not (_swapped_out(exc) and swap.pause()):
                        raise
        raise IndexUnavailableError(f"search engine at {self.url}: report {doc_id} kept changing while being corrected")

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

    # -- re-tagging ----------------------------------------------------------------------------

    def retag(
        self, transform: RetagTransform, *, progress: RetagProgress | None = None, retriage: Retriage | None = None
    ) -> RetagReport:
        """A new index of this mapping version (`<alias>-v<N>-r<UTC stamp><4 hex>`) is built beside
        the current one from the re-tagged documents, caught up, swapped in behind the alias in
        one update_aliases call, and the old one deleted. Search reads the old index until the
        swap and the new one after it, complete: never a mix, never a gap.

        Catch-up: writes go on to the old index while the new one fills. The engine gives every
        write the shard's next sequence number, so what was written since a moment is a range
        query on `_seq_no` above the global checkpoint read then (every write up to it is done on
        every copy, so a refresh shows it). No clock is involved. Rounds of catch-up run while
        writes go on, until few documents are left; then the old index is write-blocked (the
        engine waits for the writes in flight), a last round copies what came in meanwhile, and
        the alias moves. A writer refused by the block, or by the old index's deletion, reads again
        through the alias (put, mark_reviewed: they write where they read, conditionally).

        One re-tag at a time: an index or write block left by one that died midway is removed when
        the next begins."""
        started = time.monotonic()
        self.ensure_index()
        with _engine_errors(self.url):
            (old,) = list(self.client.indices.get_alias(name=self.alias))
            self._clear_leftovers(old)
            new = f"{self.versioned_name}-r{datetime.now(timezone.utc):%Y%m%d%H%M%S}{secrets.token_hex(2)}"
            self._create(new, alias=False)
            try:
                caught_up, kept = self._fill(old, new, transform, progress, retriage)
                self.client.indices.update_aliases(
                    actions=[
                        {"remove": {"index": old, "alias": self.alias}},
                        {"add": {"index": new, "alias": self.alias, "is_write_index": True}},
                    ]
                )
            except BaseException:
                self._abandon(old, new)
                raise
            self.client.indices.delete(index=old)
            retagged = int(self.client.count(index=new)["count"]) - len(kept)
        return RetagReport(retagged, caught_up, kept, time.monotonic() - started, new)

    def _fill(
        self, old: str, new: str, transform: RetagTransform, progress: RetagProgress | None, retriage: Retriage | None
    ) -> tuple[int, dict[str, str]]:
        """Fill `new` with the re-tagged documents of `old` and catch it up; `old` is write-blocked
        when this returns. (documents caught up, documents kept with their old tags)."""
        total, kept = self.count(), {}
        since = self._checkpoint(old)  # before the refresh: every write up to it is in the scan
        self.client.indices.refresh(index=old)
        done = 0
        for batch in self.scan(_RETAG_BATCH):
            self._write_retagged(new, batch, transform, kept, retriage)
            done += len(batch)
            if progress is not None:
                progress(done, total)
        caught_up = 0
        for _ in range(_CATCH_UP_ROUNDS):
            count, since = self._catch_up(old, new, since, transform, kept, retriage)
            caught_up += count
            if count <= _BLOCKED_CATCH_UP:
                break
        self.client.indices.add_block(index=old, block="write")  # answers once the writes in flight are done
        count, _ = self._catch_up(old, new, since, transform, kept, retriage)
        self.client.indices.refresh(index=new)
        return caught_up + count, kept

    def _checkpoint(self, index: str) -> int:
        """The lowest global checkpoint of the index's primaries: every write numbered up to it is
        done on every copy (conservative over several shards: more is caught up, never less)."""
        shards = self.client.indices.stats(index=index, level="shards")["indices"][index]["shards"]
        return min(int(c["seq_no"]["global_checkpoint"]) for copies in shards.values() for c in copies if c["routing"]["primary"])

    def _catch_up(
        self, old: str, new: str, since: int, transform: RetagTransform, kept: dict[str, str], retriage: Retriage | None
    ) -> tuple[int, int]:
        """Re-tag into `new` the documents written to `old` after checkpoint `since` (their latest
        form, over the copy made earlier); (how many, the checkpoint to go on from)."""
        upto = self._checkpoint(old)
        self.client.indices.refresh(index=old)
        count, batch = 0, []
        query = {"query": {"range": {"_seq_no": {"gt": since}}}}
        for hit in scan(self.client, index=old, query=query, size=_RETAG_BATCH):
            batch.append(tagged_from_record(hit["_source"]))
            if len(batch) >= _RETAG_BATCH:
                self._write_retagged(new, batch, transform, kept, retriage)
                count, batch = count + len(batch), []
        self._write_retagged(new, batch, transform, kept, retriage)
        return count + len(batch), upto

    def _write_retagged(
        self, new: str, stored: list[TaggedDocument], transform: RetagTransform, kept: dict[str, str], retriage: Retriage | None
    ) -> None:
        """Each stored document, re-tagged and carried over (review, history, correction), into
        `new`; one whose new tags are refused goes in as it was, and is named in `kept`."""
        if not stored:
            return
        now = datetime.now(timezone.utc)
        sources = {}
        for before, after in zip(stored, retagged_batch(transform, stored)):
            # back through TaggedDocument: what engine_record derives, it derives from the carried-over tags
            tagged = tagged_from_record(carried_over(tagged_to_record(after), tagged_to_record(before), now, retriage))
            reason = refusal_reason(tagged_to_record(tagged))
            if reason:
                kept[before.id] = reason
            else:
                kept.pop(before.id, None)
            sources[before.id] = engine_record(before if reason else tagged)
        refused = self._index_into(new, sources)
        kept.update(refused)
        unstored = self._index_into(new, {t.id: engine_record(t) for t in stored if t.id in refused})
        if unstored:
            doc_id, reason = next(iter(unstored.items()))
            raise IndexUnavailableError(f"search engine at {self.url}: re-tag could not copy {doc_id} into {new}: {reason}")

    def _index_into(self, index: str, sources: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Write `sources` (id → record) to `index` as they are; the refused ones with the reason."""
        actions = ({"_op_type": "index", "_index": index, "_id": doc_id, "_source": source} for doc_id, source in sources.items())
        refused = {}
        for ok, item in streaming_bulk(self.client, actions, chunk_size=_BULK_CHUNK, raise_on_error=False, max_retries=2):
            if not ok:
                (result,) = item.values()
                refused[result.get("_id", "?")] = _refusal(result.get("error"))
        return refused

    def _clear_leftovers(self, current: str) -> None:
        """What a re-tag that died midway left: its half-built index, and the write block on the
        index still behind the alias."""
        settings = self.client.indices.get_settings(index=f"{self.alias}-v*", allow_no_indices=True)
        for name, found in settings.items():
            if name != current:
                log.warning("deleting %s, left by a re-tag that did not finish", name)
                self.client.indices.delete(index=name)
            elif str(found["settings"]["index"].get("blocks", {}).get("write")).lower() == "true":
                log.warning("lifting the write block a re-tag that did not finish left on %s", name)
                self.client.indices.put_settings(index=name, settings={"index.blocks.write": None})

    def _abandon(self, old: str, new: str) -> None:
        """A re-tag failed: writes go on to `old` and `new` is deleted, unless the swap went through
        (then the next re-tag deletes `old`). Best effort: the failure itself is what is raised."""
        try:
            if new in self.client.indices.get_alias(name=self.alias):
                return
            self.client.indices.put_settings(index=old, settings={"index.blocks.write": None})
            self.client.indices.delete(index=new)
        except (TransportError, ApiError) as exc:
            log.warning("re-tag of %s failed, and cleaning up after it too: %s", self.alias, exc)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, doc_id: str) -> TaggedDocument | None:
        self.ensure_index()
        with _engine_errors(self.url):
            try:
                found = self.client.get(index=self.alias, id=doc_id)
            except NotFoundError:
                return None
        return tagged_from_record(found["_source"])

    def get_many(self, doc_ids: Iterable[str]) -> dict[str, TaggedDocument]:
        """One mget through the alias: an mget reads an alias only while it names one index,
        which this alias always does (migrations and re-tags swap it in one update_aliases)."""
        wanted = list(dict.fromkeys(doc_ids))
        if not wanted:  # the engine refuses an mget of no ids
            return {}
        self.ensure_index()
        with _engine_errors(self.url):
            found = self.client.mget(index=self.alias, ids=wanted)
        return {d["_id"]: tagged_from_record(d["_source"]) for d in found["docs"] if d.get("found")}

    def scan(self, batch_size: int = 500) -> Iterator[list[TaggedDocument]]:
        """A scroll over the alias: the documents as they were when the walk began. The scroll is
        kept for 30 minutes between pages, as a caller may tag each batch before asking for more."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.ensure_index()
        batch: list[TaggedDocument] = []
        with _engine_errors(self.url):
            for hit in scan(self.client, index=self.alias, query={"query": {"match_all": {}}}, size=batch_size, scroll="30m"):
                batch.append(tagged_from_record(hit["_source"]))
                if len(batch) >= batch_size:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def _export(self, request: SearchRequest, batch_size: int) -> Iterator[list[TaggedDocument]]:
        """Pages of a point in time (the index as it was when the export began) in the request's
        order, each after the last (search_after); the point in time is closed at the end, or when
        the caller stops early."""
        self.ensure_index()
        body = export_body(request)
        with _engine_errors(self.url):
            pit = self.client.open_point_in_time(index=self.alias, keep_alive=_EXPORT_KEEP_ALIVE)["id"]
        try:
            after = None
            while True:
                with _engine_errors(self.url):
                    response = self.client.search(
                        pit={"id": pit, "keep_alive": _EXPORT_KEEP_ALIVE}, size=batch_size, search_after=after, **body
                    )
                pit = response.get("pit_id", pit)
                hits = response["hits"]["hits"]
                if hits:
                    yield [tagged_from_record(hit["_source"]) for hit in hits]
                if len(hits) < batch_size:
                    return
                after = hits[-1]["sort"]
        finally:
            try:
                self.client.close_point_in_time(id=pit)
            except (TransportError, ApiError) as exc:  # it expires by itself
                log.warning("could not close the export's point in time on %s: %s", self.alias, exc)

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
        return facets_from_counts(domains, entities, languages, **subtype_source_date_counts(aggregations))

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
        "corrected_by": (record.get("correction") or {}).get("by") or None,
        "entity_keys": {label: sorted(values) for label, values in keys.items()},
        "entity_names": {label: sorted(values) for label, values in names.items()},
    }


class _SwapWait:
    """Short pauses, longer each time, for a writer whose index a re-tag is swapping out: False
    once _SWAP_WAIT_SECONDS have gone by."""

    def __init__(self) -> None:
        self._deadline: float | None = None
        self._delay = 0.02

    def pause(self) -> bool:
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + _SWAP_WAIT_SECONDS
        if now >= self._deadline:
            return False
        time.sleep(min(self._delay, self._deadline - now))
        self._delay = min(self._delay * 2, 0.5)
        return True


def _swapped_out(error: Any) -> bool:
    """Whether a write was refused because a re-tag is swapping its index out (write-blocked) or
    has (deleted): the document is then read again through the alias and written there."""
    if isinstance(error, ApiError):
        error = error.body.get("error") if isinstance(error.body, dict) else None
    return isinstance(error, dict) and error.get("type") in ("cluster_block_exception", "index_not_found_exception")


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
