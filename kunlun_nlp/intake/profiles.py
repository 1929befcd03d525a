"""What each source's documents have in common: how many of them carry each line.

A menu, a contact block or a hotline footer recurs in many documents of one source; a report's
own lines do not. Lines are kept as digests (the text is not needed to recognise them again);
the first line's site suffix ("... - Orange County District Attorney") is kept as text, since it
names the publisher. One SQLite file in the data folder, or in memory for a one-off run.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (source TEXT NOT NULL, doc_id TEXT NOT NULL, PRIMARY KEY (source, doc_id));
CREATE TABLE IF NOT EXISTS lines (source TEXT NOT NULL, key TEXT NOT NULL, documents INTEGER NOT NULL,
                                  PRIMARY KEY (source, key));
"""
_SPACE = re.compile(r"\s+")
# Dates and numbers folded: a byline "Admin | August 29, 2024" is the same template line whatever
# the day (a date alone on its line is still never furniture: kunlun_nlp.intake.furniture).
_MONTH = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?", re.I)
_DIGITS = re.compile(r"\d+")
SUFFIX = "suffix\t"  # keys of site suffixes start so; the rest is the suffix as written


def line_key(line: str) -> str:
    """The same line, however it is spaced or cased and whatever date or number it carries, has
    the same key."""
    folded = _DIGITS.sub("#", _MONTH.sub("<m>", _SPACE.sub(" ", line).strip().lower()))
    return hashlib.sha1(folded.encode("utf-8")).hexdigest()[:16]


class SourceProfiles:
    def __init__(self, path: str | Path = ":memory:") -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def learn(self, source: str, doc_id: str, keys: Iterable[str]) -> None:
        """Count a document's distinct keys once for its source (a document seen again adds nothing)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                seen = self._db.execute("INSERT OR IGNORE INTO documents VALUES (?, ?)", (source, doc_id)).rowcount == 0
                if not seen:
                    self._db.executemany(
                        "INSERT INTO lines VALUES (?, ?, 1) ON CONFLICT (source, key) DO UPDATE SET documents = documents + 1",
                        [(source, key) for key in set(keys)],
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def counts(self, source: str, keys: Iterable[str]) -> dict[str, int]:
        """In how many of the source's documents each key occurs (absent keys: none)."""
        keys = list(set(keys))
        found: dict[str, int] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, documents FROM lines WHERE source = ? AND key IN ({marks})", (source, *chunk))
                found.update(rows.fetchall())
        return found

    def site_name(self, source: str, min_documents: int) -> str | None:
        """The site suffix most of the source's page titles end with, when it recurs enough."""
        with self._lock:
            row = self._db.execute(
                "SELECT key, documents FROM lines WHERE source = ? AND key LIKE ? ORDER BY documents DESC, key LIMIT 1",
                (source, SUFFIX + "%"),
            ).fetchone()
        return row[0][len(SUFFIX) :] if row and row[1] >= min_documents else None

    def close(self) -> None:
        self._db.close()
