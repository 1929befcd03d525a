"""The embedded index: SQLite with FTS5 (bm25 ranking, snippets), no server needed.

One file in the data folder. Full text goes through FTS5's porter stemmer, the nearest thing to
the engine's English analyzer. The small columns every filter and sort reads (`documents`) are
kept apart from the long ones (`bodies`: text, title, the rest of the record, the embedding, each
stored once), so that a filter, a sort or a count never reads a long row; each sort has an index in
its own order. Facets are counted in memory (embedded_facets), nearest neighbours found in an HNSW
graph beside the file (embedded_vectors). Requests become SQL in embedded_query.py; rows become
hits and facets in kunlun_nlp.search.results. What the engine would refuse (base.refusal_reason)
is refused here too, so both backends store the same documents.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from kunlun_nlp.document import Review, TaggedDocument
from kunlun_nlp.index.base import (
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
from kunlun_nlp.index.embedded_facets import FacetCounts
from kunlun_nlp.index.embedded_query import (
    compile_search,
    domain_bits,
    domain_bits_sql,
    fts_match_expression,
    snippets_sql,
    total_sql,
)
from kunlun_nlp.index.embedded_vectors import VectorIndex
from kunlun_nlp.labels.correction import latest_label
from kunlun_nlp.records import tagged_from_record, tagged_to_record
from kunlun_nlp.search.request import LANGUAGE_FACET_SIZE, TOTAL_HITS_CAP, SearchRequest
from kunlun_nlp.search.results import Facets, SearchHit, SearchResult, hit_from_record, snippet

# PRAGMA user_version; 1 (unset): one documents table holding the record and the text twice;
# 2: no review notes, no doc_subtypes (the sub-types only in the record)
LAYOUT = 3
_SCHEMA = """
CREATE TABLE IF NOT EXISTS index_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO index_meta(name, value) VALUES ('generation', lower(hex(randomblob(16))));
-- AUTOINCREMENT: a rowid is never given twice, so the facet arrays and the vector graph know new
-- rows as those past the last rowid they saw
CREATE TABLE IF NOT EXISTS documents (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    published TEXT,
    ingested_at TEXT NOT NULL,
    priority INTEGER,
    reliability TEXT,
    credibility INTEGER,
    reviewed_by TEXT,
    reviewed_at TEXT,
    language TEXT NOT NULL DEFAULT '',
    domain_bits INTEGER NOT NULL DEFAULT 0,  -- the predicted domains (embedded_query.domain_bits)
    review_note TEXT
);
-- the embedding first: it is read without walking the text's overflow pages
CREATE TABLE IF NOT EXISTS bodies (
    rowid INTEGER PRIMARY KEY,
    embedding BLOB NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deleted_rows (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_rowid INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS doc_domains (
    doc_rowid INTEGER NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
    label TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS doc_domains_label ON doc_domains(label, doc_rowid);
CREATE INDEX IF NOT EXISTS doc_domains_doc ON doc_domains(doc_rowid);
-- read by the sub-type facet (embedded_facets) only
CREATE TABLE IF NOT EXISTS doc_subtypes (
    doc_rowid INTEGER NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
    label TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS doc_subtypes_doc ON doc_subtypes(doc_rowid);
CREATE INDEX IF NOT EXISTS doc_subtypes_label ON doc_subtypes(label, doc_rowid);
CREATE TABLE IF NOT EXISTS doc_entities (
    doc_rowid INTEGER NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
    label TEXT NOT NULL,
    normalized TEXT NOT NULL,
    key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS doc_entities_key ON doc_entities(label, key, doc_rowid);
CREATE INDEX IF NOT EXISTS doc_entities_doc ON doc_entities(doc_rowid);
CREATE INDEX IF NOT EXISTS documents_published ON documents(published);
CREATE INDEX IF NOT EXISTS documents_language ON documents(language);
CREATE INDEX IF NOT EXISTS documents_by_date ON documents(published IS NULL, published DESC, ingested_at DESC, id);
CREATE INDEX IF NOT EXISTS documents_by_priority
    ON documents(priority IS NULL, priority DESC, published IS NULL, published DESC, ingested_at DESC, id);
CREATE INDEX IF NOT EXISTS documents_queue
    ON documents(reviewed_at, priority IS NULL, priority DESC, published IS NULL, published DESC, ingested_at DESC, id);
CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5(
    title, text, content='bodies', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS bodies_fts_insert AFTER INSERT ON bodies BEGIN
    INSERT INTO documents_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
END;
CREATE TRIGGER IF NOT EXISTS bodies_fts_delete AFTER DELETE ON bodies BEGIN
    INSERT INTO documents_fts(documents_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
END;
CREATE TRIGGER IF NOT EXISTS documents_deleted AFTER DELETE ON documents BEGIN
    INSERT INTO deleted_rows(doc_rowid) VALUES (old.rowid);
END;
-- Which documents were written while a re-tag ran (its catch-up), by any connection: logged only
-- while index_meta has a 'retag' row (EmbeddedIndex.retag).
CREATE TABLE IF NOT EXISTS retag_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc_id TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS documents_retag_insert AFTER INSERT ON documents
WHEN EXISTS (SELECT 1 FROM index_meta WHERE name = 'retag') BEGIN
    INSERT INTO retag_changes(doc_id) VALUES (new.id);
END;
CREATE TRIGGER IF NOT EXISTS documents_retag_update AFTER UPDATE ON documents
WHEN EXISTS (SELECT 1 FROM index_meta WHERE name = 'retag') BEGIN
    INSERT INTO retag_changes(doc_id) VALUES (new.id);
END;
CREATE TRIGGER IF NOT EXISTS bodies_retag_update AFTER UPDATE ON bodies
WHEN EXISTS (SELECT 1 FROM index_meta WHERE name = 'retag') BEGIN
    INSERT INTO retag_changes(doc_id) SELECT id FROM documents WHERE rowid = new.rowid;
END;
"""

# Each stored report's sub-types, from its record (a file of layout 1 or 2 has them only there).
_FILL_SUBTYPES = (
    "INSERT INTO doc_subtypes(doc_rowid, label)"
    " SELECT DISTINCT b.rowid, json_extract(s.value, '$.label') FROM bodies b, json_each(b.record, '$.subtypes') s"
)

# Layout 1 to 3, in one transaction: the small columns and the bodies copied apart (rowids kept, so
# the entity and domain rows stay valid), the text and title no longer in the record, the full-text
# index rebuilt from the bodies. The old table's indexes go first: their names are reused.
_FROM_LAYOUT_1 = (
    "PRAGMA foreign_keys=OFF; PRAGMA legacy_alter_table=ON; BEGIN IMMEDIATE;"
    " DROP TRIGGER IF EXISTS documents_fts_insert; DROP TRIGGER IF EXISTS documents_fts_delete;"
    " DROP TABLE IF EXISTS documents_fts;"
    " DROP INDEX IF EXISTS documents_published; DROP INDEX IF EXISTS documents_queue; DROP INDEX IF EXISTS documents_language;"
    " ALTER TABLE documents RENAME TO layout1_documents;"
    + _SCHEMA
    + " INSERT INTO documents(rowid, id, source, published, ingested_at, priority, reliability, credibility,"
    " reviewed_by, reviewed_at, language)"
    " SELECT rowid, id, source, published, ingested_at, priority, reliability, credibility, reviewed_by, reviewed_at, language"
    " FROM layout1_documents ORDER BY rowid;"
    f" UPDATE documents SET domain_bits = (SELECT coalesce(sum({domain_bits_sql('label')}), 0) FROM doc_domains"
    " WHERE doc_rowid = documents.rowid);"
    " INSERT INTO bodies(rowid, embedding, title, text, record)"
    " SELECT rowid, embedding, title, text, json_remove(record, '$.title', '$.text', '$.review') FROM layout1_documents ORDER BY rowid;"
    " DROP TABLE layout1_documents;"
    " DELETE FROM doc_subtypes;" + _FILL_SUBTYPES + ";"
    f" PRAGMA user_version = {LAYOUT}; COMMIT; PRAGMA legacy_alter_table=OFF; PRAGMA foreign_keys=ON;"
)

_LAYOUT_1_COLUMNS = (
    ("priority", "INTEGER"),
    ("reliability", "TEXT"),
    ("credibility", "INTEGER"),
    ("reviewed_by", "TEXT"),
    ("reviewed_at", "TEXT"),
)
_PAIRS_PER_QUERY = 400  # two bound values each: well under SQLite's limit of 32,766
_SAVE_VECTORS_AFTER = 10_000  # vectors added since the graph file was written
_RETAG_BATCH = 256  # documents re-tagged per batch
# How long a re-tag waits for SQLite's write lock (other writers hold it for one put at a time).
_RETAG_LOCK_SECONDS = 60.0


@contextmanager
def _write_transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One transaction holding SQLite's write lock from the start (BEGIN IMMEDIATE), so what it
    reads cannot change before it writes; rolled back on any error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


class EmbeddedIndex(DocumentIndex):
    backend = "embedded"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the API's worker threads, serialised by a lock: simple, and
        # SQLite serialises writers anyway.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._facets = FacetCounts()
        self._vectors = VectorIndex(self.path)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._upgrade()

    def _upgrade(self) -> None:
        """Create the tables, or bring a file of an earlier layout to this one."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        if not columns:
            self._db.executescript(_SCHEMA + f"PRAGMA user_version = {LAYOUT};")
            return
        if "record" not in columns:
            self._db.executescript(_SCHEMA)  # tables added since, empty
            self._from_layout_2()
            return
        # layout 1, perhaps from before the triage and language columns
        if "priority" not in columns:
            for column, kind in _LAYOUT_1_COLUMNS:
                self._db.execute(f"ALTER TABLE documents ADD COLUMN {column} {kind}")
        if "language" not in columns:
            self._db.execute("ALTER TABLE documents ADD COLUMN language TEXT NOT NULL DEFAULT ''")
            self._db.execute("UPDATE documents SET language = coalesce(json_extract(record, '$.language'), '')")
        try:
            self._db.executescript(_FROM_LAYOUT_1)
        except sqlite3.Error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._db.execute("PRAGMA foreign_keys=ON")
            raise

    def _from_layout_2(self) -> None:
        """Layout 2 to 3, once, under the write lock (another process may be opening the file too):
        the review note column (reviews stored before it have none), the sub-types filled in."""
        with _write_transaction(self._db):
            if self._db.execute("PRAGMA user_version").fetchone()[0] >= LAYOUT:
                return
            if "review_note" not in {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}:
                self._db.execute("ALTER TABLE documents ADD COLUMN review_note TEXT")
            self._db.execute("DELETE FROM doc_subtypes")
            self._db.execute(_FILL_SUBTYPES)
            self._db.execute(f"PRAGMA user_version = {LAYOUT}")

    # -- writes --------------------------------------------------------------------------------

    def put(self, documents: Iterable[TaggedDocument], *, retriage: Retriage | None = None) -> IndexWriteReport:
        records: dict[str, dict[str, Any]] = {}
        failed: dict[str, str] = {}
        for tagged in documents:  # the last copy of an id wins, as a later put would
            record = tagged_to_record(tagged)
            reason = refusal_reason(record)
            if reason:
                failed[record["id"]] = reason
                records.pop(record["id"], None)
            else:
                failed.pop(record["id"], None)
                records[record["id"]] = record
        try:
            with self._lock:
                # One transaction, holding SQLite's write lock from the start: the stored review
                # read in _put_one cannot change before the write.
                with _write_transaction(self._db):
                    now = datetime.now(timezone.utc)
                    for record in records.values():
                        self._put_one(record, now, retriage=retriage)
        except sqlite3.Error as exc:
            raise IndexUnavailableError(f"embedded index {self.path}: {exc}") from exc
        return IndexWriteReport(indexed=len(records), failed=failed)

    def _put_one(
        self, record: dict[str, Any], now: datetime, db: sqlite3.Connection | None = None, retriage: Retriage | None = None
    ) -> None:
        db = db or self._db  # a re-tag writes in a transaction on a connection of its own
        embedding = np.asarray(record.pop("embedding"), dtype=np.float32).tobytes()
        previous = db.execute(f"SELECT d.rowid, {_RECORD_COLUMNS} {_RECORD_FROM} WHERE d.id = ?", (record["id"],)).fetchone()
        if previous:
            record = carried_over(record, _record(*previous[1:]), now, retriage)
            db.execute("DELETE FROM documents WHERE rowid = ?", (previous[0],))  # its entities and domains go too
            db.execute("DELETE FROM bodies WHERE rowid = ?", (previous[0],))
        review = record.pop("review") or {}
        grade = record.get("grade") or ""
        cursor = db.execute(
            "INSERT INTO documents(id, source, published, ingested_at, priority, reliability, credibility,"
            " reviewed_by, reviewed_at, language, domain_bits, review_note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record["id"],
                record["source"],
                record["published"],
                record["ingested_at"],
                (record.get("priority") or {}).get("score"),
                grade[:1] or None,
                int(grade[1:]) if grade[1:] else None,
                review.get("reviewed_by"),
                review.get("reviewed_at"),
                record.get("language") or "",
                domain_bits(record["domains"]),
                review.get("note"),
            ),
        )
        rowid = cursor.lastrowid
        title, text = record.pop("title"), record.pop("text")  # stored once, in their own columns
        db.execute(
            "INSERT INTO bodies(rowid, embedding, title, text, record) VALUES (?, ?, ?, ?, ?)",
            (rowid, embedding, title, text, json.dumps(record, ensure_ascii=False)),
        )
        db.executemany(
            "INSERT INTO doc_domains(doc_rowid, label) VALUES (?, ?)", [(rowid, d) for d in record["domains"]]
        )
        db.executemany(
            "INSERT INTO doc_entities(doc_rowid, label, normalized, key) VALUES (?, ?, ?, ?)",
            {(rowid, e["label"], e["normalized"], e["key"]) for e in record["entities"]},
        )
        db.executemany(
            "INSERT INTO doc_subtypes(doc_rowid, label) VALUES (?, ?)", {(rowid, s["label"]) for s in record.get("subtypes") or []}
        )

    # -- re-tagging ----------------------------------------------------------------------------

    def retag(
        self, transform: RetagTransform, *, progress: RetagProgress | None = None, retriage: Retriage | None = None
    ) -> RetagReport:
        """Re-tag in two steps. First every document is read (scan) and re-tagged into a staging
        file beside the index while reads and writes go on as usual; then one transaction, on a
        connection of its own, writes them all: readers (WAL) see the old tags until it commits and
        the new ones after, never a mix; writers wait for it (SQLite's write lock).

        Catch-up: from before the scan until that transaction, triggers log the id of every
        document any connection inserts or updates (retag_changes); inside the transaction those
        are re-tagged again from their stored form, which nothing can change any more, instead of
        their staged tags. The transaction also gives the index a new generation: every process
        rebuilds its HNSW graph from the stored embeddings on its next read (this one at once), so
        the vector file never mixes old and new vectors."""
        started, kept = time.monotonic(), {}
        db = sqlite3.connect(self.path, timeout=_RETAG_LOCK_SECONDS, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA foreign_keys=ON")
            self._retag_logging(db, on=True)
            with tempfile.TemporaryDirectory(prefix=".retag-", dir=self.path.parent) as folder:
                staged_path = Path(folder) / "staged.sqlite3"
                self._stage(staged_path, transform, progress)
                retagged, caught_up = self._commit_retag(db, staged_path, transform, kept, retriage)
        except BaseException:
            try:
                self._retag_logging(db, on=False)
            except sqlite3.Error:
                pass  # the failure itself is what is raised
            raise
        finally:
            db.close()
        with self._lock:  # this process's graph and facet arrays: rebuilt now, not by the next search
            self._facets = FacetCounts()
            self._vectors.catch_up(self._db)
            self._vectors.save()
        return RetagReport(retagged, caught_up, kept, time.monotonic() - started, str(self.path))

    @staticmethod
    def _retag_logging(db: sqlite3.Connection, *, on: bool) -> None:
        """Start (or stop) logging the documents written, with an empty log."""
        if db.in_transaction:
            db.execute("ROLLBACK")
        db.execute("BEGIN IMMEDIATE")
        db.execute("DELETE FROM retag_changes")
        if on:
            db.execute("INSERT OR REPLACE INTO index_meta(name, value) VALUES ('retag', ?)", (datetime.now(timezone.utc).isoformat(),))
        else:
            db.execute("DELETE FROM index_meta WHERE name = 'retag'")
        db.execute("COMMIT")

    def _stage(self, path: Path, transform: RetagTransform, progress: RetagProgress | None) -> None:
        """Every document's re-tagged record into a scratch SQLite file (id → record JSON)."""
        staged = sqlite3.connect(path, isolation_level=None)
        try:
            staged.execute("PRAGMA journal_mode=OFF")
            staged.execute("PRAGMA synchronous=OFF")
            staged.execute("CREATE TABLE staged (id TEXT PRIMARY KEY, record TEXT NOT NULL)")
            total, done = self.count(), 0
            for batch in self.scan(_RETAG_BATCH):
                rows = [(t.id, json.dumps(tagged_to_record(t), ensure_ascii=False)) for t in retagged_batch(transform, batch)]
                staged.executemany("INSERT OR REPLACE INTO staged(id, record) VALUES (?, ?)", rows)
                done += len(batch)
                if progress is not None:
                    progress(done, total)
        finally:
            staged.close()

    def _commit_retag(
        self, db: sqlite3.Connection, staged_path: Path, transform: RetagTransform, kept: dict[str, str], retriage: Retriage | None
    ) -> tuple[int, int]:
        """The one transaction: the staged records of the documents nobody wrote to meanwhile, the
        others re-tagged from their latest form; (documents re-tagged, of them caught up)."""
        db.execute("ATTACH DATABASE ? AS retag", (str(staged_path),))
        try:
            with _write_transaction(db):
                now = datetime.now(timezone.utc)
                changed = {doc_id for (doc_id,) in db.execute("SELECT DISTINCT doc_id FROM retag_changes")}
                retagged, last = 0, ""
                while rows := db.execute("SELECT id, record FROM retag.staged WHERE id > ? ORDER BY id LIMIT 500", (last,)).fetchall():
                    last = rows[-1][0]
                    for doc_id, record in rows:
                        if doc_id not in changed:
                            retagged += self._put_retagged(db, json.loads(record), now, kept, retriage)
                ids, caught_up = sorted(changed), 0
                for first in range(0, len(ids), _RETAG_BATCH):
                    part = ids[first : first + _RETAG_BATCH]
                    rows = db.execute(f"SELECT {_RECORD_COLUMNS}, b.embedding {_RECORD_FROM} WHERE d.id IN ({_marks(part)})", part).fetchall()
                    for tagged in retagged_batch(transform, [_tagged(row) for row in rows]):
                        retagged += self._put_retagged(db, tagged_to_record(tagged), now, kept, retriage)
                    caught_up += len(rows)
                db.execute("UPDATE index_meta SET value = lower(hex(randomblob(16))) WHERE name = 'generation'")
                db.execute("DELETE FROM index_meta WHERE name = 'retag'")
                db.execute("DELETE FROM retag_changes")
        finally:
            db.execute("DETACH DATABASE retag")
        return retagged, caught_up

    def _put_retagged(
        self, db: sqlite3.Connection, record: dict[str, Any], now: datetime, kept: dict[str, str], retriage: Retriage | None
    ) -> int:
        """Write one re-tagged record over the stored one (carried over: review, history,
        correction); 0 and the reason in `kept` when it would be refused (the old tags stay)."""
        reason = refusal_reason(record)
        if reason:
            kept[record["id"]] = reason
            return 0
        self._put_one(record, now, db, retriage)
        return 1

    # -- reads ---------------------------------------------------------------------------------

    def get(self, doc_id: str) -> TaggedDocument | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_RECORD_COLUMNS}, b.embedding {_RECORD_FROM} WHERE d.id = ?", (doc_id,)).fetchone()
        return None if row is None else _tagged(row)

    def get_many(self, doc_ids: Iterable[str]) -> dict[str, TaggedDocument]:
        wanted = list(dict.fromkeys(doc_ids))
        return {tagged.id: tagged for batch in self._read_in_batches(wanted, max(len(wanted), 1), embeddings=True) for tagged in batch}

    def scan(self, batch_size: int = 500) -> Iterator[list[TaggedDocument]]:
        """The ids stored when the walk begins, in rowid order, then each page read by id as it is
        stored then: a document rewritten during the walk (a new rowid) still comes once, in its
        latest form; one deleted meanwhile is skipped, one added meanwhile is not seen."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        with self._lock:
            ids = [doc_id for (doc_id,) in self._db.execute("SELECT id FROM documents ORDER BY rowid")]
        yield from self._read_in_batches(ids, batch_size, embeddings=True)

    def _export(self, request: SearchRequest, batch_size: int) -> Iterator[list[TaggedDocument]]:
        """The ids of every match, in order, read at once (the rowids the search's own ordered
        query gives, then their ids), then read as scan reads them."""
        compiled = compile_search(request)
        with self._lock:
            rowids = [rowid for rowid, _ in self._db.execute(compiled.ordered_sql, compiled.ordered_params)]
            ids: dict[int, str] = {}
            for first in range(0, len(rowids), _PAIRS_PER_QUERY):
                part = rowids[first : first + _PAIRS_PER_QUERY]
                ids.update(self._db.execute(f"SELECT rowid, id FROM documents WHERE rowid IN ({_marks(part)})", part))
        yield from self._read_in_batches([ids[rowid] for rowid in rowids], batch_size, embeddings=False)

    def _read_in_batches(self, ids: list[str], batch_size: int, *, embeddings: bool) -> Iterator[list[TaggedDocument]]:
        """The documents of `ids`, in that order, `batch_size` at a time, each batch read by id as
        it is stored then: a document rewritten meanwhile (a new rowid) comes in its latest form,
        one deleted meanwhile is skipped. Without `embeddings`, they come with none."""
        columns = f"{_RECORD_COLUMNS}, b.embedding" if embeddings else _RECORD_COLUMNS
        for first in range(0, len(ids), batch_size):
            page = ids[first : first + batch_size]
            found = {}
            for part in range(0, len(page), _PAIRS_PER_QUERY):  # bound values under SQLite's limit
                wanted = page[part : part + _PAIRS_PER_QUERY]
                with self._lock:
                    rows = self._db.execute(f"SELECT {columns} {_RECORD_FROM} WHERE d.id IN ({_marks(wanted)})", wanted).fetchall()
                found.update((row[5], _tagged(row) if embeddings else tagged_from_record(_record(*row))) for row in rows)
            batch = [found[doc_id] for doc_id in page if doc_id in found]
            if batch:
                yield batch

    def embedding_of(self, doc_id: str) -> list[float] | None:
        with self._lock:
            row = self._db.execute(f"SELECT b.embedding {_RECORD_FROM} WHERE d.id = ?", (doc_id,)).fetchone()
        return None if row is None else np.frombuffer(row[0], dtype=np.float32).tolist()

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def _search(self, request: SearchRequest) -> SearchResult:
        compiled = compile_search(request)
        facets = Facets()
        with self._lock:
            page = self._db.execute(compiled.page_sql, compiled.page_params).fetchall()
            if request.facets:  # every match is read for the facets: the total is their number
                self._facets.catch_up(self._db, self._last_rowid())
                matching = [r for (r,) in self._db.execute(compiled.matching_sql, compiled.matching_params)]
                facets = self._facets.count(matching, request.facet_size, LANGUAGE_FACET_SIZE, request.interval)
                total = len(matching)
            elif len(page) < request.size and (page or request.offset == 0):
                total = request.offset + len(page)  # the last page: every match is counted already
            else:
                total = self._db.execute(total_sql(compiled.matching_sql), [*compiled.matching_params, TOTAL_HITS_CAP + 1]).fetchone()[0]
            rowids = [rowid for rowid, _ in page]
            records = self._records(rowids)
            marked = dict(self._db.execute(snippets_sql(len(rowids)), [compiled.match, *rowids]).fetchall()) if compiled.match and rowids else {}
        return SearchResult(
            total=min(int(total), TOTAL_HITS_CAP),
            page=request.page,
            size=request.size,
            hits=[_hit(records[rowid], score, marked.get(rowid)) for rowid, score in page],
            facets=facets,
            total_exact=total <= TOTAL_HITS_CAP,
        )

    def nearest(self, vector: list[float], *, size: int = 10, exclude_id: str | None = None) -> list[SearchHit]:
        query = np.asarray(vector, dtype=np.float32)
        with self._lock:
            self._vectors.catch_up(self._db)
            self._vectors.save(unsaved_over=_SAVE_VECTORS_AFTER)
            candidates = self._vectors.search(query, size + 1)
            rows = self._db.execute(
                f"SELECT d.rowid, b.embedding FROM documents d JOIN bodies b ON b.rowid = d.rowid"
                f" WHERE d.rowid IN ({_marks(candidates)}) AND d.id != ?",
                [*candidates, exclude_id or ""],
            ).fetchall()
            if not rows:
                return []
            # exact cosine on the stored float32 vectors: the graph only chose the candidates
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
            similarity = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query) + 1e-12)
            best = [(rows[i][0], float(similarity[i])) for i in np.argsort(-similarity)[:size]]
            records = self._records([rowid for rowid, _ in best])
        return [_hit(records[rowid], score, None) for rowid, score in best]

    def _records(self, rowids: list[int]) -> dict[int, dict[str, Any]]:
        """rowid → stored record (without the embedding) of each of `rowids`."""
        if not rowids:
            return {}
        rows = self._db.execute(f"SELECT d.rowid, {_RECORD_COLUMNS} {_RECORD_FROM} WHERE d.rowid IN ({_marks(rowids)})", rowids)
        return {row[0]: _record(*row[1:]) for row in rows}

    def _last_rowid(self) -> int:
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'documents'").fetchone()
        return int(row[0]) if row else 0

    def mark_reviewed(self, doc_id: str, reviewer: str, when: datetime, note: str | None = None) -> ReviewOutcome | None:
        review = Review(reviewer, when, note)
        try:
            with self._lock:
                # one statement: of two analysts reviewing at once, exactly one gets the row
                cursor = self._db.execute(
                    "UPDATE documents SET reviewed_by = ?, reviewed_at = ?, review_note = ? WHERE id = ? AND reviewed_at IS NULL",
                    (reviewer, review.to_record()["reviewed_at"], note, doc_id),
                )
                if cursor.rowcount == 1:
                    return ReviewOutcome(review, newly_reviewed=True)
                row = self._db.execute("SELECT reviewed_by, reviewed_at, review_note FROM documents WHERE id = ?", (doc_id,)).fetchone()
        except sqlite3.Error as exc:
            raise IndexUnavailableError(f"embedded index {self.path}: {exc}") from exc
        if row is None:
            return None
        return ReviewOutcome(Review(row[0], datetime.fromisoformat(row[1]), row[2]), newly_reviewed=False)

    def apply_correction(
        self, doc_id: str, correction: Mapping[str, Any], *, retriage: Retriage | None = None
    ) -> TaggedDocument | None:
        """One transaction: the stored record read, corrected (and triaged again) and written back
        as a put writes it (its domain and entity rows, full-text row and a new rowid, so the facet
        counts and the vector graph follow as they follow any write). Novelty is read inside it,
        on this connection: the report's own rows are still its old ones, and never count."""
        try:
            with self._lock:
                with _write_transaction(self._db):
                    row = self._db.execute(f"SELECT {_RECORD_COLUMNS}, b.embedding {_RECORD_FROM} WHERE d.id = ?", (doc_id,)).fetchone()
                    if row is not None:
                        record = _stored(row)
                        label = latest_label(correction, record.get("correction"))  # never an older label over a newer
                        self._put_one(labelled(record, label, retriage), datetime.now(timezone.utc))
        except sqlite3.Error as exc:
            raise IndexUnavailableError(f"embedded index {self.path}: {exc}") from exc
        return None if row is None else self.get(doc_id)

    def known_entity_keys_many(self, pairs_by_document: Mapping[str, Iterable[tuple[str, str]]]) -> dict[str, set[tuple[str, str]]]:
        wanted = {doc_id: set(pairs) for doc_id, pairs in pairs_by_document.items()}
        every = sorted(set().union(*wanted.values()))
        if not every:
            return {doc_id: set() for doc_id in wanted}
        spans: dict[tuple[str, str], tuple[int, int]] = {}
        with self._lock:
            rowids = dict(self._db.execute(f"SELECT id, rowid FROM documents WHERE id IN ({_marks(wanted)})", list(wanted)))
            # The lowest and highest report naming each key, two index seeks: a key is known to a
            # report unless both are that report itself.
            for start in range(0, len(every), _PAIRS_PER_QUERY):
                part = every[start : start + _PAIRS_PER_QUERY]
                rows = self._db.execute(
                    f"WITH wanted(label, key) AS (VALUES {', '.join('(?, ?)' for _ in part)})"
                    " SELECT label, key,"
                    " (SELECT MIN(doc_rowid) FROM doc_entities e WHERE e.label = w.label AND e.key = w.key),"
                    " (SELECT MAX(doc_rowid) FROM doc_entities e WHERE e.label = w.label AND e.key = w.key)"
                    " FROM wanted w",
                    [value for pair in part for value in pair],
                ).fetchall()
                spans.update({(label, key): (low, high) for label, key, low, high in rows if low is not None})
        return {
            doc_id: {p for p in pairs if p in spans and spans[p] != (rowids.get(doc_id), rowids.get(doc_id))}
            for doc_id, pairs in wanted.items()
        }

    def health(self) -> BackendHealth:
        try:
            documents = self.count()
        except sqlite3.Error as exc:
            return BackendHealth(self.backend, str(self.path), False, None, str(exc))
        return BackendHealth(self.backend, str(self.path), True, documents)

    def close(self) -> None:
        with self._lock:
            try:
                self._vectors.save()  # the next process loads the graph instead of building it
            finally:
                self._db.close()


# A stored record's parts: the small columns' review, the bodies' record, title and text, the id
# (the sixth, row[5]) and the review's note; _RECORD_WIDTH of them.
_RECORD_COLUMNS = "d.reviewed_by, d.reviewed_at, b.record, b.title, b.text, d.id, d.review_note"
_RECORD_WIDTH = 7
_RECORD_FROM = "FROM documents d JOIN bodies b ON b.rowid = d.rowid"


def _record(
    reviewed_by: str | None, reviewed_at: str | None, stored: str, title: str, text: str, doc_id: str, note: str | None
) -> dict[str, Any]:
    record = json.loads(stored)
    record.update(id=doc_id, title=title, text=text)
    review = {"reviewed_by": reviewed_by, "reviewed_at": reviewed_at}
    record["review"] = (review | {"note": note} if note else review) if reviewed_at else None
    return record


def _stored(row: tuple[Any, ...]) -> dict[str, Any]:
    """A stored record with its embedding, from a row of _RECORD_COLUMNS and the embedding."""
    record = _record(*row[:_RECORD_WIDTH])
    record["embedding"] = np.frombuffer(row[_RECORD_WIDTH], dtype=np.float32).tolist()
    return record


def _tagged(row: tuple[Any, ...]) -> TaggedDocument:
    """A stored document from a row of _RECORD_COLUMNS and the embedding."""
    return tagged_from_record(_stored(row))


def _marks(values: Iterable[Any]) -> str:
    return ", ".join("?" for _ in values)


def _hit(record: dict[str, Any], score: float | None, marked: str | None) -> SearchHit:
    return hit_from_record(record, score, snippet(marked, record["text"]))


__all__ = ["EmbeddedIndex", "fts_match_expression"]
