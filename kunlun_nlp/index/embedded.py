"""The embedded index: SQLite with FTS5 (bm25 ranking, snippets), no server needed.

One file in the data folder. Full text goes through FTS5's porter stemmer, the nearest thing to
the engine's English analyzer; filters and facets read two side tables; similar documents are
found by brute-force cosine over the stored embeddings. Requests become SQL in embedded_query.py;
rows become hits and facets in kunlun_nlp.search.results. What the engine would refuse
(base.refusal_reason) is refused here too, so both backends store the same documents.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from kunlun_nlp.document import Review, TaggedDocument
from kunlun_nlp.index.base import (
    BackendHealth,
    DocumentIndex,
    IndexUnavailableError,
    IndexWriteReport,
    ReviewOutcome,
    refusal_reason,
)
from kunlun_nlp.index.embedded_query import (
    compile_search,
    domain_facet_sql,
    entity_facet_sql,
    fts_match_expression,
    language_facet_sql,
    total_sql,
)
from kunlun_nlp.records import tagged_from_record, tagged_to_record
from kunlun_nlp.search.request import FACET_ENTITY_LABELS, LANGUAGE_FACET_SIZE, SearchRequest
from kunlun_nlp.search.results import SearchHit, SearchResult, facets_from_counts, hit_from_record, snippet

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    published TEXT,
    ingested_at TEXT NOT NULL,
    record TEXT NOT NULL,
    embedding BLOB NOT NULL,
    priority INTEGER,
    reliability TEXT,
    credibility INTEGER,
    reviewed_by TEXT,
    reviewed_at TEXT,
    language TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS doc_domains (
    doc_rowid INTEGER NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
    label TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS doc_domains_label ON doc_domains(label, doc_rowid);
CREATE TABLE IF NOT EXISTS doc_entities (
    doc_rowid INTEGER NOT NULL REFERENCES documents(rowid) ON DELETE CASCADE,
    label TEXT NOT NULL,
    normalized TEXT NOT NULL,
    key TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS doc_entities_key ON doc_entities(label, key, doc_rowid);
CREATE INDEX IF NOT EXISTS documents_published ON documents(published);
CREATE INDEX IF NOT EXISTS documents_queue ON documents(reviewed_at, priority);
CREATE INDEX IF NOT EXISTS documents_language ON documents(language);
CREATE VIRTUAL TABLE IF NOT EXISTS documents_fts USING fts5(
    title, text, content='documents', content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS documents_fts_insert AFTER INSERT ON documents BEGIN
    INSERT INTO documents_fts(rowid, title, text) VALUES (new.rowid, new.title, new.text);
END;
CREATE TRIGGER IF NOT EXISTS documents_fts_delete AFTER DELETE ON documents BEGIN
    INSERT INTO documents_fts(documents_fts, rowid, title, text) VALUES ('delete', old.rowid, old.title, old.text);
END;
"""

_TRIAGE_COLUMNS = (
    ("priority", "INTEGER"),
    ("reliability", "TEXT"),
    ("credibility", "INTEGER"),
    ("reviewed_by", "TEXT"),
    ("reviewed_at", "TEXT"),
)
class EmbeddedIndex(DocumentIndex):
    backend = "embedded"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the API's worker threads, serialised by a lock: simple, and
        # SQLite serialises writers anyway.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            self._db.executescript(_SCHEMA)

    def _migrate(self) -> None:
        """Add the triage and language columns to an index file made before they existed."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        if columns and "priority" not in columns:
            for column, kind in _TRIAGE_COLUMNS:
                self._db.execute(f"ALTER TABLE documents ADD COLUMN {column} {kind}")
        if columns and "language" not in columns:
            self._db.execute("ALTER TABLE documents ADD COLUMN language TEXT NOT NULL DEFAULT ''")
            self._db.execute("UPDATE documents SET language = coalesce(json_extract(record, '$.language'), '')")

    # -- writes --------------------------------------------------------------------------------

    def put(self, documents: Iterable[TaggedDocument]) -> IndexWriteReport:
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
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for record in records.values():
                        self._put_one(record)
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise IndexUnavailableError(f"embedded index {self.path}: {exc}") from exc
        return IndexWriteReport(indexed=len(records), failed=failed)

    def _put_one(self, record: dict[str, Any]) -> None:
        embedding = np.asarray(record.pop("embedding"), dtype=np.float32).tobytes()
        previous = self._db.execute("SELECT reviewed_by, reviewed_at FROM documents WHERE id = ?", (record["id"],)).fetchone()
        if previous and previous[1] and not record.get("review"):
            # re-ingesting a reviewed report does not put it back on the queue
            record["review"] = {"reviewed_by": previous[0], "reviewed_at": previous[1]}
        self._db.execute("DELETE FROM documents WHERE id = ?", (record["id"],))
        grade = record.get("grade") or ""
        review = record.get("review") or {}
        cursor = self._db.execute(
            "INSERT INTO documents(id, title, text, source, published, ingested_at, record, embedding,"
            " priority, reliability, credibility, reviewed_by, reviewed_at, language)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record["id"],
                record["title"],
                record["text"],
                record["source"],
                record["published"],
                record["ingested_at"],
                json.dumps(record, ensure_ascii=False),
                embedding,
                (record.get("priority") or {}).get("score"),
                grade[:1] or None,
                int(grade[1:]) if grade[1:] else None,
                review.get("reviewed_by"),
                review.get("reviewed_at"),
                record.get("language") or "",
            ),
        )
        rowid = cursor.lastrowid
        self._db.executemany(
            "INSERT INTO doc_domains(doc_rowid, label) VALUES (?, ?)", [(rowid, d) for d in record["domains"]]
        )
        self._db.executemany(
            "INSERT INTO doc_entities(doc_rowid, label, normalized, key) VALUES (?, ?, ?, ?)",
            {(rowid, e["label"], e["normalized"], e["key"]) for e in record["entities"]},
        )

    # -- reads ---------------------------------------------------------------------------------

    def get(self, doc_id: str) -> TaggedDocument | None:
        with self._lock:
            row = self._db.execute("SELECT record, embedding FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        record = json.loads(row[0])
        record["embedding"] = np.frombuffer(row[1], dtype=np.float32).tolist()
        return tagged_from_record(record)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def _search(self, request: SearchRequest) -> SearchResult:
        compiled = compile_search(request)
        matching, params = compiled.matching_sql, compiled.matching_params
        with self._lock:
            rows = self._db.execute(compiled.page_sql, compiled.page_params).fetchall()
            total = self._db.execute(total_sql(matching), params).fetchone()[0]
            domains = self._db.execute(domain_facet_sql(matching), params).fetchall()
            languages = self._db.execute(language_facet_sql(matching), [*params, LANGUAGE_FACET_SIZE]).fetchall()
            entities = {
                label: self._db.execute(entity_facet_sql(matching), [*params, label, request.facet_size]).fetchall()
                for label in FACET_ENTITY_LABELS
            }
        return SearchResult(
            total=int(total),
            page=request.page,
            size=request.size,
            hits=[_hit(*row) for row in rows],
            facets=facets_from_counts(domains, entities, languages),
        )

    def nearest(self, vector: list[float], *, size: int = 10, exclude_id: str | None = None) -> list[SearchHit]:
        with self._lock:
            rows = self._db.execute("SELECT id, record, embedding FROM documents").fetchall()
        rows = [r for r in rows if r[0] != exclude_id and r[2]]  # not tagged: no embedding
        if not rows:
            return []
        matrix = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        query = np.asarray(vector, dtype=np.float32)
        similarity = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query) + 1e-12)
        best = np.argsort(-similarity)[:size]
        return [_hit(rows[i][1], float(similarity[i]), None) for i in best]

    def mark_reviewed(self, doc_id: str, reviewer: str, when: datetime) -> ReviewOutcome | None:
        review = Review(reviewer, when)
        record = review.to_record()
        try:
            with self._lock:
                # one statement: of two analysts reviewing at once, exactly one gets the row
                cursor = self._db.execute(
                    "UPDATE documents SET reviewed_by = ?, reviewed_at = ?, record = json_set(record, '$.review', json(?))"
                    " WHERE id = ? AND reviewed_at IS NULL",
                    (reviewer, record["reviewed_at"], json.dumps(record), doc_id),
                )
                if cursor.rowcount == 1:
                    return ReviewOutcome(review, newly_reviewed=True)
                row = self._db.execute("SELECT reviewed_by, reviewed_at FROM documents WHERE id = ?", (doc_id,)).fetchone()
        except sqlite3.Error as exc:
            raise IndexUnavailableError(f"embedded index {self.path}: {exc}") from exc
        if row is None:
            return None
        return ReviewOutcome(Review(row[0], datetime.fromisoformat(row[1])), newly_reviewed=False)

    def known_entity_keys(self, pairs: Iterable[tuple[str, str]], *, exclude_id: str | None = None) -> set[tuple[str, str]]:
        pairs = set(pairs)
        if not pairs:
            return set()
        found: set[tuple[str, str]] = set()
        with self._lock:
            for label in {label for label, _ in pairs}:
                keys = [key for l, key in pairs if l == label]
                rows = self._db.execute(
                    "SELECT DISTINCT e.key FROM doc_entities e JOIN documents d ON d.rowid = e.doc_rowid"
                    f" WHERE e.label = ? AND e.key IN ({', '.join('?' for _ in keys)}) AND d.id != ?",
                    [label, *keys, exclude_id or ""],
                ).fetchall()
                found |= {(label, row[0]) for row in rows}
        return found

    def health(self) -> BackendHealth:
        try:
            documents = self.count()
        except sqlite3.Error as exc:
            return BackendHealth(self.backend, str(self.path), False, None, str(exc))
        return BackendHealth(self.backend, str(self.path), True, documents)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _hit(stored: str, score: float | None, marked: str | None) -> SearchHit:
    record = json.loads(stored)
    return hit_from_record(record, score, snippet(marked, record["text"]))


__all__ = ["EmbeddedIndex", "fts_match_expression"]
