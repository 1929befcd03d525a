"""Facet counts for the embedded index from arrays in memory.

Counting entity keys over the matching reports in SQL re-ran the match and read every entity row
of a label (4.9 M rows at 100,000 reports, once per facet). Here each (report, value) pair is one
entry of two integer arrays, loaded once and caught up with new rows on every read (rowids are
never reused, so rows past the last one seen are the new ones, and entries of deleted reports never
count: only live rowids match). Counting is one gather and one bincount per facet; the published
facet is one more bincount over (bucket, domain) pairs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from kunlun_nlp.search.request import FACET_ENTITY_LABELS
from kunlun_nlp.search.results import Facets, facets_from_counts

_EPOCH = date(1970, 1, 1)  # day 0 of the day numbers below: a Thursday


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


class _Dates:
    """Entries (rowid, published day number) of the dated reports."""

    def __init__(self) -> None:
        self.rowids = np.zeros(0, dtype=np.int64)
        self.days = np.zeros(0, dtype=np.int64)

    def add(self, entries: Sequence[tuple[int, str]]) -> None:
        """(rowid, ISO date) pairs."""
        days = np.array([published for _, published in entries], dtype="datetime64[D]").astype(np.int64)
        self.rowids = np.concatenate([self.rowids, np.fromiter((r for r, _ in entries), np.int64, len(entries))])
        self.days = np.concatenate([self.days, days])

    def buckets(self, matching: np.ndarray, interval: str, domains: _Values) -> list[tuple[date, int, list[tuple[str, int]]]]:
        """(bucket start, reports in `matching` published in it, (domain, its reports in it) pairs)
        of each bucket that has one, oldest first."""
        start = np.zeros(len(matching), dtype=np.int64)  # by rowid
        counted = np.zeros(len(matching), dtype=bool)
        start[self.rowids] = _bucket_starts(self.days, interval)
        counted[self.rowids] = True
        counted &= matching
        starts, counts = np.unique(start[counted], return_counts=True)
        if not len(starts):
            return []
        # one bincount over (bucket, domain) pairs of the counted reports' domain entries
        entries = counted[domains.rowids]
        bucket = np.searchsorted(starts, start[domains.rowids[entries]])
        width = max(len(domains.names), 1)
        by_domain = np.bincount(bucket * width + domains.values[entries], minlength=len(starts) * width).reshape(len(starts), width)
        return [
            (
                _EPOCH + timedelta(days=int(day)),
                int(count),
                [(domains.names[i], int(row[i])) for i in np.flatnonzero(row)],
            )
            for day, count, row in zip(starts, counts, by_domain)
        ]


def _bucket_starts(days: np.ndarray, interval: str) -> np.ndarray:
    """The day number each day's week (from its Monday), month or year (from its 1st) starts on."""
    if interval == "week":
        return days - (days + 3) % 7  # day 0 is a Thursday, weekday 3 counting Monday as 0
    unit = "datetime64[Y]" if interval == "year" else "datetime64[M]"
    return days.astype("datetime64[D]").astype(unit).astype("datetime64[D]").astype(np.int64)


class FacetCounts:
    def __init__(self) -> None:
        self._last_rowid = 0
        self._domains = _Values()
        self._languages = _Values()
        self._entities = {label: _Values() for label in FACET_ENTITY_LABELS}
        self._subtypes = _Values()
        self._sources = _Values()
        self._published = _Dates()

    def catch_up(self, db: sqlite3.Connection, last_rowid: int) -> None:
        """Load the entries of reports stored since the last call (by any connection), up to
        `last_rowid`: a report written by another connection between two of the reads below comes
        whole on the next call, never in some facets now and again in all of them then."""
        if last_rowid <= self._last_rowid:
            return
        since = (self._last_rowid, last_rowid)
        new_rows = "doc_rowid > ? AND doc_rowid <= ?"
        self._domains.add(db.execute(f"SELECT doc_rowid, label, label FROM doc_domains WHERE {new_rows}", since).fetchall())
        documents = "FROM documents WHERE rowid > ? AND rowid <= ?"
        self._languages.add(db.execute(f"SELECT rowid, language, language {documents} AND language != ''", since).fetchall())
        self._sources.add(db.execute(f"SELECT rowid, source, source {documents} AND source != ''", since).fetchall())
        self._subtypes.add(db.execute(f"SELECT doc_rowid, label, label FROM doc_subtypes WHERE {new_rows}", since).fetchall())
        self._published.add(db.execute(f"SELECT rowid, published {documents} AND published IS NOT NULL", since).fetchall())
        marks = ", ".join("?" for _ in FACET_ENTITY_LABELS)
        rows = db.execute(
            "SELECT doc_rowid, label, key, MIN(normalized) FROM doc_entities"
            f" WHERE {new_rows} AND label IN ({marks}) GROUP BY doc_rowid, label, key",  # a report counts once
            (*since, *FACET_ENTITY_LABELS),
        ).fetchall()
        for label, values in self._entities.items():
            values.add([(rowid, key, name) for rowid, row_label, key, name in rows if row_label == label])
        self._last_rowid = last_rowid

    def count(self, rowids: Sequence[int], facet_size: int, language_size: int, interval: str) -> Facets:
        """The facets of the reports `rowids`; the published one by `interval` (week or month)."""
        found = np.asarray(rowids, dtype=np.int64)
        # a report stored by another connection since the catch-up matches, but has no entries yet
        matching = np.zeros(max(self._last_rowid, int(found.max(initial=0))) + 1, dtype=bool)
        matching[found] = True
        return facets_from_counts(
            self._domains.top(matching, len(self._domains.names) or 1),
            {label: values.top(matching, facet_size) for label, values in self._entities.items()},
            self._languages.top(matching, language_size),
            subtypes=self._subtypes.top(matching, facet_size),
            sources=self._sources.top(matching, facet_size),
            published=self._published.buckets(matching, interval, self._domains),
        )
