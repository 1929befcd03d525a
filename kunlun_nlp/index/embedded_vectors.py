"""Approximate nearest neighbours for the embedded index: an HNSW graph (usearch) over the stored
embeddings, keyed by document rowid.

Why usearch: it ships wheels for every platform (hnswlib 0.8.0, its last release, from 2023, is
built from source at install), removes vectors (hnswlib only marks them), and saves to a buffer,
so the graph and the index state it covers go to one file, written atomically.

Import order: with usearch 2.26.6 loaded, a later `import onnxruntime` (the encoder's runtime)
dies with SIGSEGV in onnxruntime's extension module; the other order is fine, so this module
imports onnxruntime first (tests/test_index_contract.py holds the order to it).

The graph lives beside the SQLite file (`<file>.vectors`) and is caught up on every read with what
any connection wrote since: rowids are never reused (AUTOINCREMENT), so new vectors are the rows
past the last rowid seen, and a trigger logs every deleted rowid. A file that does not match the
database (another generation, or ahead of it) is rebuilt from the stored embeddings.
"""

from __future__ import annotations

import json
import os
import sqlite3
import struct
from pathlib import Path

import numpy as np
import onnxruntime  # noqa: F401 - before usearch: see below
from usearch.index import Index  # noqa: E402

from kunlun_nlp.index.base import EMBEDDING_DIMS

_FORMAT = 1
_READ_BATCH = 5_000
# Candidates read per neighbour asked for: the best of them are re-ranked by exact cosine.
_OVERFETCH = 2
_MIN_EXPANSION = 64


class VectorIndex:
    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".vectors")
        self._graph: Index | None = None
        self._state = {"generation": "", "rowid": 0, "deleted": 0}
        self._changed = False
        self._unsaved = 0  # vectors added or removed since the file was written

    def catch_up(self, db: sqlite3.Connection) -> None:
        """Add the vectors written and drop those deleted since the last call (by any connection)."""
        generation, last_rowid, last_deleted = _database_state(db)
        if self._graph is None or self._state["generation"] != generation:
            self._open(generation, last_rowid, last_deleted)
        graph = self._graph
        assert graph is not None
        if last_deleted > self._state["deleted"]:
            gone = [r for (r,) in db.execute("SELECT doc_rowid FROM deleted_rows WHERE seq > ?", (self._state["deleted"],))]
            gone = [r for r in gone if graph.contains(r)]
            if gone:
                graph.remove(np.asarray(gone, dtype=np.uint64))
                self._unsaved += len(gone)
            self._state["deleted"], self._changed = last_deleted, True
        while last_rowid > self._state["rowid"]:
            rows = db.execute(
                "SELECT rowid, embedding FROM bodies WHERE rowid > ? ORDER BY rowid LIMIT ?", (self._state["rowid"], _READ_BATCH)
            ).fetchall()
            if not rows:
                break
            vectors = [(r, e) for r, e in rows if e]  # a report the models did not tag has none
            if vectors:
                keys = np.asarray([r for r, _ in vectors], dtype=np.uint64)
                graph.add(keys, np.frombuffer(b"".join(e for _, e in vectors), dtype=np.float32).reshape(len(vectors), -1))
                self._unsaved += len(vectors)
            self._state["rowid"], self._changed = rows[-1][0], True

    def search(self, vector: np.ndarray, count: int) -> list[int]:
        """Rowids of about the `count` * 2 nearest stored vectors (to re-rank exactly)."""
        graph = self._graph
        if graph is None or len(graph) == 0:
            return []
        wanted = count * _OVERFETCH
        if wanted >= len(graph):
            # every vector is asked for: a graph walk may miss one it cannot reach, the list cannot
            return [int(k) for k in np.asarray(graph.keys)]
        graph.expansion_search = max(_MIN_EXPANSION, wanted)
        return [int(k) for k in graph.search(vector, wanted).keys]

    def save(self, *, unsaved_over: int = 0) -> None:
        """Write the graph and the state it covers to one file, atomically: when it changed, and by
        more than `unsaved_over` vectors."""
        if self._graph is None or not self._changed or self._unsaved < unsaved_over:
            return
        header = json.dumps({"format": _FORMAT, **self._state}).encode()
        partial = self.path.with_name(self.path.name + f".{os.getpid()}.partial")
        with open(partial, "wb") as out:
            out.write(struct.pack("<I", len(header)) + header)
            out.write(self._graph.save())
        os.replace(partial, self.path)
        self._changed, self._unsaved = False, 0

    def _open(self, generation: str, last_rowid: int, last_deleted: int) -> None:
        """The saved graph when it belongs to this database and is not ahead of it, else an empty one."""
        self._graph, self._state, self._changed = _empty(), {"generation": generation, "rowid": 0, "deleted": 0}, True
        self._unsaved = 0
        try:
            raw = self.path.read_bytes()
            (length,) = struct.unpack_from("<I", raw)
            state = json.loads(raw[4 : 4 + length])
        except (OSError, ValueError, struct.error):
            return
        saved = {"generation": state.get("generation"), "rowid": int(state.get("rowid", 0)), "deleted": int(state.get("deleted", 0))}
        if state.get("format") != _FORMAT or saved["generation"] != generation or saved["rowid"] > last_rowid or saved["deleted"] > last_deleted:
            return
        try:
            graph = Index.restore(bytearray(raw[4 + length :]))
        except Exception:  # noqa: BLE001 - any unreadable graph is rebuilt
            return
        if graph is None or graph.ndim != EMBEDDING_DIMS:
            return
        self._graph, self._state, self._changed = graph, saved, False


def _empty() -> Index:
    # f16 halves the memory; the candidates are re-ranked by exact cosine on the stored float32.
    return Index(ndim=EMBEDDING_DIMS, metric="cos", dtype="f16", connectivity=16, expansion_add=128)


def _database_state(db: sqlite3.Connection) -> tuple[str, int, int]:
    """(generation, the highest rowid ever given, the last deletion logged)."""
    generation = db.execute("SELECT value FROM index_meta WHERE name = 'generation'").fetchone()[0]
    rowid = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'documents'").fetchone()
    deleted = db.execute("SELECT MAX(seq) FROM deleted_rows").fetchone()[0]
    return generation, int(rowid[0]) if rowid else 0, int(deleted or 0)
