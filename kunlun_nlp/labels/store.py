"""The label store: every human label, durably, in `<data>/labels.sqlite3`.

Append-only: a correction or an imported row is a new row, never an update, so a document's whole
history stays and the latest wins per field (correction.merge). SQLite in WAL mode with
synchronous=FULL: a label is on disk when the call returns, and it is written before the index
is touched (the service corrects the store first), so an index that loses a write can be
corrected again from here. A file is imported in one transaction: whole or not at all.

A correction row keeps, beside the correction, a snapshot of the document as corrected (title,
text, domains, sub-types, entity spans), so training reads labels without the index.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kunlun_nlp.document import content_id
from kunlun_nlp.labels.correction import Correction, apply_correction_record, merge
from kunlun_nlp.labels.samples import LabeledSample

LAYOUT = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file TEXT NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    rows INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS labels (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- the order labels were given in: the latest wins
    doc_id TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('correction', 'import')),
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    model TEXT NOT NULL DEFAULT '',  -- a correction: the model version whose tags it corrects
    import_id INTEGER REFERENCES imports(id),
    label TEXT NOT NULL,  -- JSON: Correction.to_record(), or an imported LabeledSample.to_json()
    snapshot TEXT  -- JSON, corrections only: the document as corrected (title, text, domains, subtypes, spans)
);
CREATE INDEX IF NOT EXISTS labels_doc ON labels(doc_id, seq);
CREATE INDEX IF NOT EXISTS labels_origin ON labels(origin, seq);
"""


@dataclass(frozen=True)
class ImportReport:
    file: str
    imported: int  # rows stored
    by: str
    at: datetime
    domains: dict[str, int]  # rows per domain, "none" for none of the four
    with_spans: int  # rows that give entity spans
    warnings: list[str] = field(default_factory=list)  # accepted, but worth a look (the parser's)


class LabelStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection for the API's threads, serialised by a lock, as the embedded index does.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a label is on disk when the call returns
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA + f"PRAGMA user_version = {LAYOUT};")

    # -- corrections ---------------------------------------------------------------------------

    def add_correction(self, correction: Correction, record: Mapping[str, Any]) -> dict[str, Any]:
        """Store `correction` of the stored document `record` (records.tagged_to_record; the
        correction checked against it) and return the document's merged label, this one last."""
        with self._lock, self._transaction():
            corrections = [*self._corrections(correction.doc_id), correction]
            merged = merge(corrections)
            assert merged is not None
            corrected = apply_correction_record(record, merged)
            snapshot = {
                "title": corrected.get("title") or "",
                "text": corrected["text"],
                "domains": list(corrected.get("domains") or []),
                "subtypes": [s["label"] for s in corrected.get("subtypes") or []],
                "spans": [[int(e["start"]), int(e["end"]), e["label"]] for e in corrected.get("entities") or []],
            }
            self._db.execute(
                "INSERT INTO labels(doc_id, origin, by, at, model, label, snapshot) VALUES (?, 'correction', ?, ?, ?, ?, ?)",
                (correction.doc_id, correction.by, correction.at.isoformat(), correction.model,
                 _json(correction.to_record()), _json(snapshot)),
            )
        return merged

    def corrections(self, doc_id: str) -> list[Correction]:
        """The document's corrections, oldest first."""
        with self._lock:
            return self._corrections(doc_id)

    def _corrections(self, doc_id: str) -> list[Correction]:
        rows = self._db.execute("SELECT label FROM labels WHERE doc_id = ? AND origin = 'correction' ORDER BY seq", (doc_id,))
        return [Correction.from_record(json.loads(label)) for (label,) in rows]

    def merged(self, doc_id: str) -> dict[str, Any] | None:
        """The document's merged human label (correction.merge); None when never corrected."""
        return merge(self.corrections(doc_id))

    def corrected_ids(self) -> set[str]:
        with self._lock:
            return {doc_id for (doc_id,) in self._db.execute("SELECT DISTINCT doc_id FROM labels WHERE origin = 'correction'")}

    def history(self, doc_id: str) -> list[dict[str, Any]]:
        """Every label given to `doc_id`, oldest first: corrections (their fields) and imported
        rows (the sample, with the file), each with origin, by, at and model."""
        with self._lock:
            rows = self._db.execute(
                "SELECT l.seq, l.origin, l.by, l.at, l.model, i.file, l.label FROM labels l"
                " LEFT JOIN imports i ON i.id = l.import_id WHERE l.doc_id = ? ORDER BY l.seq",
                (doc_id,),
            ).fetchall()
        history = []
        for seq, origin, by, at, model, file, label in rows:
            entry = {k: v for k, v in json.loads(label).items() if k not in ("doc_id", "by", "at", "model")}
            history.append({"seq": seq, "origin": origin, "by": by, "at": at, "model": model, "file": file, **entry})
        return history

    # -- imports -------------------------------------------------------------------------------

    def import_samples(self, samples: Sequence[LabeledSample], *, file: str, by: str, warnings: Sequence[str] = ()) -> ImportReport:
        """Store imported samples (imports.parse_labels) in one transaction: all or none."""
        at = datetime.now(timezone.utc)
        with self._lock, self._transaction():
            import_id = self._db.execute(
                "INSERT INTO imports(file, by, at, rows) VALUES (?, ?, ?, ?)", (file, by, at.isoformat(), len(samples))
            ).lastrowid
            self._db.executemany(
                "INSERT INTO labels(doc_id, origin, by, at, import_id, label) VALUES (?, 'import', ?, ?, ?, ?)",
                [(s.id, by, at.isoformat(), import_id, _json(s.to_json())) for s in samples],
            )
        domains = Counter(d for s in samples for d in (sorted(s.domains) or ["none"]))
        return ImportReport(
            file=file, imported=len(samples), by=by, at=at, domains=dict(sorted(domains.items())),
            with_spans=sum("spans" in s.stated for s in samples), warnings=list(warnings),
        )

    # -- reading the labels out ----------------------------------------------------------------

    def samples(self, origin: str | None = None) -> list[LabeledSample]:
        """One sample per labeled text, every entity label kept, in the order they were labeled:
        a corrected document as its latest correction left it, an imported row as last imported.
        A text labeled more than once (imported twice, or imported and corrected) counts once, as
        labeled last. `origin`: only "correction" or "import" samples."""
        latest: dict[str, tuple[int, LabeledSample]] = {}  # by id, per origin
        stated: dict[str, set[str]] = {}
        with self._lock:
            rows = self._db.execute(
                "SELECT l.seq, l.doc_id, l.origin, l.by, l.at, l.label, l.snapshot, i.file FROM labels l"
                " LEFT JOIN imports i ON i.id = l.import_id ORDER BY l.seq"
            ).fetchall()
        for seq, doc_id, row_origin, by, at, label, snapshot, file in rows:
            when = datetime.fromisoformat(at)
            if row_origin == "correction":
                correction = json.loads(label)
                parts = stated.setdefault(doc_id, set())
                parts.update(part for part, said in (
                    ("domains", correction.get("domains") is not None),
                    ("subtypes", correction.get("subtypes") is not None or correction.get("domains") == []),
                    ("spans", any(correction.get(op) for op in ("add", "remove", "relabel"))),
                ) if said)
                corrected = json.loads(snapshot)
                sample = LabeledSample(
                    id=doc_id, title=corrected["title"], text=corrected["text"], domains=frozenset(corrected["domains"]),
                    subtypes=frozenset(corrected["subtypes"]), spans=tuple(sorted(tuple(s) for s in corrected["spans"])),
                    origin="correction", by=by, at=when, stated=frozenset(parts),
                )
                latest[f"correction:{doc_id}"] = (seq, sample)
            else:
                record = json.loads(label)
                latest[f"import:{doc_id}"] = (seq, LabeledSample(
                    id=doc_id, title=record["title"], text=record["text"], domains=frozenset(record["domains"]),
                    subtypes=frozenset(record["subtypes"]), spans=tuple(tuple(s) for s in record.get("spans") or []),
                    origin="import", by=by, at=when, stated=frozenset(record["stated"]), file=file or "",
                ))
        by_text: dict[str, tuple[int, LabeledSample]] = {}
        for seq, sample in sorted(latest.values(), key=lambda pair: pair[0]):
            by_text[content_id(sample.text)] = (seq, sample)  # the later label of the same words wins
        chosen = [sample for _, sample in sorted(by_text.values(), key=lambda pair: pair[0])]
        return [s for s in chosen if origin is None or s.origin == origin]

    def training_samples(self) -> list[LabeledSample]:
        """Every labeled text (samples()), its spans cut to the labels the NER learns (ORG, LOC,
        PERSON, PRODUCT, SUBSTANCE). `stated` says which parts a human gave."""
        return [sample.with_entity_labels() for sample in self.samples()]

    def export(self, origin: str | None = None) -> Iterator[str]:
        """The labels as JSONL lines (corpus format; LabeledSample.to_json): importing them gives
        the same samples."""
        for sample in self.samples(origin):
            yield json.dumps(sample.to_json(), ensure_ascii=False) + "\n"

    def counts(self) -> dict[str, int]:
        with self._lock:
            (corrections, corrected, imported, imports) = self._db.execute(
                "SELECT (SELECT COUNT(*) FROM labels WHERE origin = 'correction'),"
                " (SELECT COUNT(DISTINCT doc_id) FROM labels WHERE origin = 'correction'),"
                " (SELECT COUNT(*) FROM labels WHERE origin = 'import'), (SELECT COUNT(*) FROM imports)"
            ).fetchone()
        return {"corrections": corrections, "corrected_documents": corrected, "imported_rows": imported, "imports": imports,
                "samples": len(self.samples())}

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: the write lock is held from the
    start, so a merge reads the corrections no other writer can add to before this one lands."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, *_exc) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


__all__ = ["ImportReport", "LabelStore"]
