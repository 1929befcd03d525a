"""Files into the intake queue, remembered: which files are queued under which job, and which are
done, so that an interrupted `ingest` goes on where it stopped and `watch` survives restarts.

A file counts as done once every document read from it is stored or listed as failed; a file
whose size or modification time changed since is read again."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kunlun_nlp.document import Document
from kunlun_nlp.queue import IntakeQueue, JobStatus
from kunlun_nlp.readers import ReadFailure, read_file
from kunlun_nlp.readers.dispatch import SplitListener


@dataclass(frozen=True)
class FileStamp:
    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        stat = path.stat()
        return cls(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


class FileLedger:
    """SQLite in the data folder: one row a file, with its stamp, its job and whether it is done."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, job TEXT, done INTEGER)"
        )
        self._lock = threading.Lock()

    def is_done(self, stamp: FileStamp) -> bool:
        with self._lock:
            row = self._db.execute("SELECT size, mtime_ns, done FROM files WHERE path = ?", (stamp.path,)).fetchone()
        return row == (stamp.size, stamp.mtime_ns, 1)

    def queued_job(self, stamp: FileStamp) -> str | None:
        """The job a file was queued under, unchanged since and not yet done."""
        with self._lock:
            row = self._db.execute(
                "SELECT job FROM files WHERE path = ? AND size = ? AND mtime_ns = ? AND done = 0",
                (stamp.path, stamp.size, stamp.mtime_ns),
            ).fetchone()
        return row[0] if row else None

    def files_of(self, job: str) -> list[FileStamp]:
        """The files queued under `job` and not yet done."""
        with self._lock:
            rows = self._db.execute("SELECT path, size, mtime_ns FROM files WHERE job = ? AND done = 0", (job,)).fetchall()
        return [FileStamp(*row) for row in rows]

    def record(self, stamps: Iterable[FileStamp], job: str | None) -> None:
        """Files queued under `job`; with no job (nothing read from them), done at once."""
        rows = [(s.path, s.size, s.mtime_ns, job, 0 if job else 1) for s in stamps]
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", rows)

    def finish(self, job: str) -> None:
        with self._lock:
            self._db.execute("UPDATE files SET done = 1 WHERE job = ?", (job,))

    def close(self) -> None:
        self._db.close()


@dataclass
class FileIntake:
    """Reads files into jobs of about a batch of documents each and follows the jobs to the end."""

    queue: IntakeQueue
    ledger: FileLedger
    on_split: SplitListener | None = None  # told of each file split into parts
    on_failure: Callable[[ReadFailure], None] = lambda _failure: None  # told of what could not be read
    open_jobs: dict[str, list[FileStamp]] = field(default_factory=dict)
    skipped: int = 0  # done before and unchanged
    _followed: set[str] = field(default_factory=set)  # files of earlier runs' jobs, followed here
    _documents: list[Document] = field(default_factory=list)
    _stamps: list[FileStamp] = field(default_factory=list)

    def add(self, path: Path, *, again: bool = False) -> None:
        stamp = FileStamp.of(path)
        if stamp.path in self._followed:
            return
        if not again:
            if self.ledger.is_done(stamp):
                self.skipped += 1
                return
            if (job := self.ledger.queued_job(stamp)) is not None and self.queue.status(job) is not None:
                # queued by an earlier run: follow its job, with every file in it
                self.open_jobs[job] = self.ledger.files_of(job)
                self._followed.update(s.path for s in self.open_jobs[job])
                return
        for item in read_file(path, on_split=self.on_split):
            if isinstance(item, ReadFailure):
                self.on_failure(item)
            else:
                self._documents.append(item)
        self._stamps.append(stamp)
        if len(self._documents) >= self.queue.batch_size:
            self.flush()

    def flush(self) -> None:
        """Queue what has been read so far as one job."""
        if not self._stamps:
            return
        job = self.queue.submit(self._documents) if self._documents else None
        self.ledger.record(self._stamps, job)
        if job is not None:
            self.open_jobs[job] = list(self._stamps)
        self._documents, self._stamps = [], []

    def settle(self) -> list[tuple[list[FileStamp], JobStatus]]:
        """Jobs finished since the last call, with their files (marked done in the ledger)."""
        finished = []
        for job, stamps in list(self.open_jobs.items()):
            status = self.queue.status(job)
            if status is not None and status.finished:
                self.ledger.finish(job)
                finished.append((stamps, status))
                del self.open_jobs[job]
        return finished
