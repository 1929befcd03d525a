"""Facet counts for the embedded index from arrays in memory.

Counting entity keys over the matching reports in SQL re-ran the match and read every entity row
of a label (4.9 M rows at 100,000 reports, once per facet). Here each (report, value) pair is one
entry of two integer arrays, loaded once and caught up with new rows on every read (rowids are
never reused, so rows past the last one seen are the new ones, and entries of deleted reports never
count: only live rowids match). Counting is one gather and one bincount per facet.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from kunlun_nlp.search.request import FACET_ENTITY_LABELS


class _Values:
    """Entries (rowid, value id) of one facet, and each value's display name."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.keys: list[str] = []  # by value id
        self.names: list[str] = []
        self.rowids = np.zeros(0, dtype=np.int64)
        self.values = np.zeros(0, dtype=np.int32)

    def add(self, entries: Sequence[tuple[int, str, str]]) -> None:
        """(rowid, value, name) triples; a value is shown by the first of its names in sort order."""
        values = []
        for _, value, name in entries:
            found = self.ids.get(value)
            if found is None:
                found = self.ids[value] = len(self.names)
                self.keys.append(value)
                self.names.append(name)
            elif name < self.names[found]:
                self.names[found] = name
            values.append(found)
        self.rowids = np.concatenate([self.rowids, np.fromiter((r for r, _, _ in entries), np.int64, len(entries))])
        self.values = np.concatenate([self.values, np.asarray(values, dtype=np.int32)])

    def top(self, matching: np.ndarray, size: int) -> list[tuple[str, int]]:
        """(name, reports) of the `size` values most reports in `matching` (a mask by rowid) have,
        most first, ties by value."""
        if not len(self.rowids):
            return []
        counts = np.bincount(self.values[matching[self.rowids]], minlength=len(self.names))
        present = np.flatnonzero(counts)
        if len(present) > size:  # keep every value tied with the last one kept, then order exactly
            threshold = np.partition(counts[present], len(present) - size)[len(present) - size]
            present = present[counts[present] >= threshold]
        ordered = sorted(present.tolist(), key=lambda i: (-int(counts[i]), self.keys[i]))[:size]
        return [(self.names[i], int(counts[i])) for i in ordered]


class FacetCounts:
    def __init__(self) -> None:
        self._last_rowid = 0
        self._domains = _Values()
        self._languages = _Values()
        self._entities = {label: _Values() for label in FACET_ENTITY_LABELS}

    def catch_up(self, db: sqlite3.Connection, last_rowid: int) -> None:
        """Load the entries of reports stored since the last call (by any connection)."""
        if last_rowid <= self._last_rowid:
            return
        since = (self._last_rowid,)
        self._domains.add(db.execute("SELECT doc_rowid, label, label FROM doc_domains WHERE doc_rowid > ?", since).fetchall())
        self._languages.add(
            db.execute("SELECT rowid, language, language FROM documents WHERE rowid > ? AND language != ''", since).fetchall()
        )
        marks = ", ".join("?" for _ in FACET_ENTITY_LABELS)
        rows = db.execute(
            "SELECT doc_rowid, label, key, MIN(normalized) FROM doc_entities"
            f" WHERE doc_rowid > ? AND label IN ({marks}) GROUP BY doc_rowid, label, key",  # a report counts once
            (*since, *FACET_ENTITY_LABELS),
        ).fetchall()
        for label, values in self._entities.items():
            values.add([(rowid, key, name) for rowid, row_label, key, name in rows if row_label == label])
        self._last_rowid = last_rowid

    def count(
        self, rowids: Sequence[int], facet_size: int, language_size: int
    ) -> tuple[list[tuple[str, int]], dict[str, list[tuple[str, int]]], list[tuple[str, int]]]:
        """(domains, entities by label, languages) over the reports `rowids`, as facets_from_counts takes them."""
        found = np.asarray(rowids, dtype=np.int64)
        # a report stored by another connection since the catch-up matches, but has no entries yet
        matching = np.zeros(max(self._last_rowid, int(found.max(initial=0))) + 1, dtype=bool)
        matching[found] = True
        return (
            self._domains.top(matching, len(self._domains.names) or 1),
            {label: values.top(matching, facet_size) for label, values in self._entities.items()},
            self._languages.top(matching, language_size),
        )
