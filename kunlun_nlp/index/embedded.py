"""The embedded index: SQLite with FTS5 (bm25 ranking, snippets), no server needed.

One file in the data folder. Full text goes through FTS5's porter stemmer, the nearest thing to
the engine's English analyzer; filters and facets read two side tables; similar documents are
found by brute-force cosine over the stored embeddings.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import numpy as np

from kunlun_nlp.document import TaggedDocument
from kunlun_nlp.index.base import (
    BackendHealth,
    DocumentIndex,
    IndexUnavailableError,
    IndexWriteReport,
    ReviewOutcome,
)
from kunlun_nlp.normalize import entity_key, normalize_entity
from kunlun_nlp.records import hit_from_record, tagged_from_record, tagged_to_record
from kunlun_nlp.search.request import FACET_ENTITY_LABELS, QueryText, SearchRequest
from kunlun_nlp.search.results import (
    MATCH_END,
    MATCH_START,
    Facets,
    FacetValue,
    SearchHit,
    SearchResult,
    plain_snippet,
    render_snippet,
)

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
    reviewed_at TEXT
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
_TITLE_WEIGHT, _TEXT_WEIGHT = 2.0, 1.0
_BY_DATE = "d.published IS NULL, d.published DESC, d.ingested_at DESC"
_BY_PRIORITY = "d.priority IS NULL, d.priority DESC, " + _BY_DATE
_SNIPPET_TOKENS = 24


def fts_match_expression(query: QueryText) -> str:
    """Every term and phrase as an FTS5 string literal, implicitly ANDed: no FTS5 syntax survives."""
    parts = [_fts_string(term) for term in query.terms]
    parts += [_fts_string(" ".join(words)) for words in query.phrases]
    return " ".join(parts)


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


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
        """Add the triage columns to an index file made before they existed."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        if columns and "priority" not in columns:
            for column, kind in _TRIAGE_COLUMNS:
                self._db.execute(f"ALTER TABLE documents ADD COLUMN {column} {kind}")

    # -- writes --------------------------------------------------------------------------------

    def put(self, documents: Iterable[TaggedDocument]) -> IndexWriteReport:
        indexed = 0
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for tagged in documents:
                        self._put_one(tagged)
                        indexed += 1
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise IndexUnavailableError(f"embedded index {self.path}: {exc}") from exc
        return IndexWriteReport(indexed=indexed, failed={})

    def _put_one(self, tagged: TaggedDocument) -> None:
        record = tagged_to_record(tagged)
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
            " priority, reliability, credibility, reviewed_by, reviewed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        where, params = _filter_clauses(request)
        with self._lock:
            if request.query.is_empty:
                return self._search_filtered(request, where, params)
            return self._search_text(request, where, params)

    def _search_text(self, request: SearchRequest, where: list[str], params: list) -> SearchResult:
        match = fts_match_expression(request.query)
        conditions = " AND ".join(["documents_fts MATCH ?", *where])
        base = f"FROM documents_fts JOIN documents d ON d.rowid = documents_fts.rowid WHERE {conditions}"
        all_params = [match, *params]
        order = {"date": _BY_DATE, "priority": _BY_PRIORITY}.get(request.sort, "rank")
        rows = self._db.execute(
            f"SELECT d.id, d.title, d.source, d.published, d.record,"
            f" bm25(documents_fts, {_TITLE_WEIGHT}, {_TEXT_WEIGHT}) AS rank,"
            f" snippet(documents_fts, 1, '{MATCH_START}', '{MATCH_END}', '…', {_SNIPPET_TOKENS}) "
            f"{base} ORDER BY {order} LIMIT ? OFFSET ?",
            [*all_params, request.size, request.offset],
        ).fetchall()
        # bm25() is lower-is-better; flip it so that a higher score is a better hit, as on the engine
        hits = [
            _hit(r, round(-float(r[5]), 4), render_snippet(r[6]) if MATCH_START in r[6] else plain_snippet(r[6]))
            for r in rows
        ]
        return self._result(request, hits, f"SELECT d.rowid {base}", all_params)

    def _search_filtered(self, request: SearchRequest, where: list[str], params: list) -> SearchResult:
        base = "FROM documents d" + (" WHERE " + " AND ".join(where) if where else "")
        order = _BY_PRIORITY if request.sort == "priority" else _BY_DATE
        rows = self._db.execute(
            f"SELECT d.id, d.title, d.source, d.published, d.record, d.text {base} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, request.size, request.offset],
        ).fetchall()
        hits = [_hit(r, None, plain_snippet(r[5])) for r in rows]
        return self._result(request, hits, f"SELECT d.rowid {base}", params)

    def _result(self, request: SearchRequest, hits: list[SearchHit], matching_sql: str, params: list) -> SearchResult:
        """Total and facets over every matching document, not just the page."""
        scope = f"WITH matching(rowid) AS ({matching_sql})"
        total = self._db.execute(f"{scope} SELECT COUNT(*) FROM matching", params).fetchone()[0]
        domain_rows = self._db.execute(
            f"{scope} SELECT label, COUNT(*) AS n FROM doc_domains WHERE doc_rowid IN (SELECT rowid FROM matching)"
            " GROUP BY label ORDER BY n DESC, label",
            params,
        ).fetchall()
        entity_facets = {}
        for label in FACET_ENTITY_LABELS:
            rows = self._db.execute(
                f"{scope} SELECT MIN(normalized), COUNT(DISTINCT doc_rowid) AS n FROM doc_entities"
                " WHERE label = ? AND doc_rowid IN (SELECT rowid FROM matching)"
                " GROUP BY key ORDER BY n DESC, key LIMIT ?",
                [*params, label, request.facet_size],
            ).fetchall()
            entity_facets[label] = [FacetValue(value, n) for value, n in rows]
        return SearchResult(
            total=int(total),
            page=request.page,
            size=request.size,
            hits=hits,
            facets=Facets(domains=[FacetValue(label, n) for label, n in domain_rows], entities=entity_facets),
        )

    def nearest(self, vector: list[float], *, size: int = 10, exclude_id: str | None = None) -> list[SearchHit]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, title, source, published, record, text, embedding FROM documents"
            ).fetchall()
        rows = [r for r in rows if r[0] != exclude_id]
        if not rows:
            return []
        matrix = np.frombuffer(b"".join(r[6] for r in rows), dtype=np.float32).reshape(len(rows), -1)
        query = np.asarray(vector, dtype=np.float32)
        similarity = matrix @ query / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(query) + 1e-12)
        best = np.argsort(-similarity)[:size]
        return [_hit(rows[i], round(float(similarity[i]), 4), plain_snippet(rows[i][5])) for i in best]

    def mark_reviewed(self, doc_id: str, reviewer: str, when: datetime) -> ReviewOutcome | None:
        review = {"reviewed_by": reviewer, "reviewed_at": when.isoformat()}
        try:
            with self._lock:
                # one statement: of two analysts reviewing at once, exactly one gets the row
                cursor = self._db.execute(
                    "UPDATE documents SET reviewed_by = ?, reviewed_at = ?, record = json_set(record, '$.review', json(?))"
                    " WHERE id = ? AND reviewed_at IS NULL",
                    (reviewer, review["reviewed_at"], json.dumps(review), doc_id),
                )
                if cursor.rowcount == 1:
                    return ReviewOutcome(review, newly_reviewed=True)
                row = self._db.execute("SELECT reviewed_by, reviewed_at FROM documents WHERE id = ?", (doc_id,)).fetchone()
        except sqlite3.Error as exc:
            raise IndexUnavailableError(f"embedded index {self.path}: {exc}") from exc
        if row is None:
            return None
        return ReviewOutcome({"reviewed_by": row[0], "reviewed_at": row[1]}, newly_reviewed=False)

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


def _filter_clauses(request: SearchRequest) -> tuple[list[str], list]:
    where: list[str] = []
    params: list = []
    if request.domains:
        marks = ", ".join("?" for _ in request.domains)
        where.append(f"d.rowid IN (SELECT doc_rowid FROM doc_domains WHERE label IN ({marks}))")
        params += list(request.domains)
    for entity in request.entities:
        where.append("d.rowid IN (SELECT doc_rowid FROM doc_entities WHERE label = ? AND key = ?)")
        params += [entity.label, entity_key(normalize_entity(entity.label, entity.value))]
    if request.sources:
        where.append(f"d.source IN ({', '.join('?' for _ in request.sources)})")
        params += list(request.sources)
    if request.published_from:
        where.append("d.published >= ?")
        params.append(request.published_from.isoformat())
    if request.published_to:
        where.append("d.published <= ?")
        params.append(request.published_to.isoformat())
    if request.reviewed is not None:
        where.append("d.reviewed_at IS NOT NULL" if request.reviewed else "d.reviewed_at IS NULL")
    if request.reliability:
        where.append(f"d.reliability IN ({', '.join('?' for _ in request.reliability)})")
        params += list(request.reliability)
    if request.credibility:
        where.append(f"d.credibility IN ({', '.join('?' for _ in request.credibility)})")
        params += list(request.credibility)
    return where, params


def _hit(row: tuple, score: float | None, snippet: str) -> SearchHit:
    """A hit from a row that starts (id, title, source, published, record)."""
    return hit_from_record(json.loads(row[4]), score, snippet)
