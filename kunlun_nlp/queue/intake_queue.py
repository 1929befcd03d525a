"""The durable intake queue: documents accepted into huey's storage and tagged by workers in batches.

huey (https://huey.readthedocs.io) moves the messages, on either of its storages: a SQLite file for
one machine with no server, Redis for workers on many machines; the code is the same. What huey
leaves out by design is at-least-once delivery: a message a worker has taken is gone from the queue,
so a worker killed mid-task loses it. Here the documents themselves stay in the storage until a
worker has stored them, and a running batch holds a lease; `recover` sends again every batch that
no queue holds and no live lease covers. Document ids are idempotent (an id stored twice is one
document), so a batch delivered twice is stored once.

Keys in huey's key-value store: `job:<n>` (its size and time), `batch:<n>:<i>` (the documents,
until stored), `lease:<n>:<i>` (who runs it, until when), `result:<n>:<i>` (stored and failed);
counters `jobs` (the job numbers) and `workers` (pool slots), and `pool:<slot>` heartbeats.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from huey import RedisHuey, SqliteHuey
from huey.exceptions import RetryTask
from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError

from kunlun_nlp.document import Document
from kunlun_nlp.errors import IndexUnavailableError, QueueUnavailableError
from kunlun_nlp.queue.jobs import BatchOutcome, JobStatus

log = logging.getLogger(__name__)

QUEUE_NAME = "kunlun-intake"
BATCH_SIZE = 16  # documents a task tags at once: the encoder's batch
LEASE_SECONDS = 300.0  # a batch running longer than this on a silent worker is sent again
ACCEPT_GRACE_SECONDS = 30.0  # a job this young may still be being enqueued by its API process
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)  # waiting out an index outage, then every 30 s
POOL_SEEN_SECONDS = 30.0  # a pool silent for longer is not counted among the workers

BatchHandler = Callable[[list[Document]], BatchOutcome]


@dataclass(frozen=True)
class QueueHealth:
    backend: str  # "sqlite" or "redis"
    reachable: bool
    depth: int | None  # batches waiting (queued or scheduled for a retry)
    workers: int | None  # worker processes in pools seen lately
    detail: str = ""


class IntakeQueue:
    def __init__(
        self, url: str, *, name: str = QUEUE_NAME, batch_size: int = BATCH_SIZE, lease_seconds: float = LEASE_SECONDS,
        accept_grace_seconds: float = ACCEPT_GRACE_SECONDS, retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self.url = url
        self.backend, self.huey = _open_huey(url, name)
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.accept_grace_seconds = accept_grace_seconds
        self.retry_delays = tuple(retry_delays)
        self.handler: BatchHandler | None = None  # set in worker processes (kunlun_nlp.queue.workers)
        self._tag_batch = self.huey.task(name="tag_batch")(self._run_batch)

    # -- accepting -------------------------------------------------------------------------------

    def submit(self, documents: Sequence[Document], *, submitted_by: str | None = None) -> str:
        """Queue documents durably; the job id returned means every one will be stored or listed as
        failed. The job record is written after its documents: a caller that dies midway leaves no
        job (and got no id), never half of one. `submitted_by` (the API key's name) stays with the job."""
        if not documents:
            raise ValueError("a job needs at least one document")
        with self._storage_errors():
            job = str(self.huey.storage.incr("jobs"))
            batches = [list(documents[i : i + self.batch_size]) for i in range(0, len(documents), self.batch_size)]
            for number, batch in enumerate(batches):
                self.huey.put(f"batch:{job}:{number}", batch)
            self.huey.put(
                f"job:{job}",
                {"documents": len(documents), "batches": len(batches), "created": time.time(), "submitted_by": submitted_by},
            )
            for number in range(len(batches)):
                self._tag_batch(job, number)
        return job

    # -- progress --------------------------------------------------------------------------------

    def status(self, job: str) -> JobStatus | None:
        with self._storage_errors():
            meta = self.huey.get(f"job:{job}", peek=True)
            if meta is None:
                return None
            results = self._many("result", job, meta["batches"])
            leases = self._many("lease", job, meta["batches"])
        failed: dict[str, str] = {}
        done = failed_count = 0
        for outcome in results.values():
            done += outcome["stored"]
            failed_count += outcome["documents"] - outcome["stored"]
            failed.update(outcome["failed"])
        return JobStatus(
            job_id=job,
            documents=meta["documents"],
            done=done,
            failed=failed_count,
            failures=failed,
            created=meta["created"],
            updated=max((o["finished"] for o in results.values()), default=meta["created"]),
            retrying=sum(1 for lease in leases.values() if lease["state"] == "retrying"),
            not_tagged=[report for outcome in results.values() for report in outcome["not_tagged"]],
            submitted_by=meta.get("submitted_by"),  # jobs queued before it was kept have none
        )

    def recent(self, limit: int = 20) -> list[JobStatus]:
        """The latest `limit` jobs, newest first (job ids count up from 1; a number whose job was
        never written, its API killed midway, is skipped)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        jobs: list[JobStatus] = []
        with self._storage_errors():
            number = self.huey.storage.incr("jobs", 0)
        while number >= 1 and len(jobs) < limit:
            status = self.status(str(number))
            if status is not None:
                jobs.append(status)
            number -= 1
        return jobs

    def health(self) -> QueueHealth:
        try:
            with self._storage_errors():
                depth = self.huey.pending_count() + self.huey.scheduled_count()
                workers = sum(pool["workers"] for pool in self._pools_seen())
        except QueueUnavailableError as exc:
            log.warning("queue unavailable: %s", exc)
            return QueueHealth(self.backend, False, None, None, "the queue's storage does not answer")
        return QueueHealth(self.backend, True, depth, workers)

    # -- working ---------------------------------------------------------------------------------

    def _run_batch(self, job: str, number: int) -> None:
        """One batch, in a worker: tag and index, record the outcome, then drop the documents."""
        documents = self.huey.get(f"batch:{job}:{number}", peek=True)
        if documents is None:
            return  # stored already: this is a second delivery
        if self.handler is None:
            raise RuntimeError("no batch handler in this process: run tagging workers (kunlun-nlp worker)")
        lease_key = f"lease:{job}:{number}"
        attempts = (self.huey.get(lease_key, peek=True) or {}).get("attempts", 0)
        self.huey.put(lease_key, _lease("running", time.time() + self.lease_seconds, attempts))
        try:
            outcome = self.handler(documents)
        except IndexUnavailableError as exc:
            delay = self.retry_delays[min(attempts, len(self.retry_delays) - 1)]
            log.warning("job %s batch %s: index unavailable (%s); retrying in %.0f s", job, number, exc, delay)
            self.huey.put(lease_key, _lease("retrying", time.time() + delay + self.lease_seconds, attempts + 1))
            raise RetryTask(delay=delay) from exc
        except Exception as exc:  # noqa: BLE001 - a document that breaks tagging fails, the queue goes on
            log.exception("job %s batch %s: tagging failed", job, number)
            outcome = BatchOutcome(stored=0, failed={d.id: f"tagging failed: {type(exc).__name__}: {exc}" for d in documents})
        self.huey.put(
            f"result:{job}:{number}",
            {
                "documents": len(documents), "stored": outcome.stored, "failed": outcome.failed,
                "not_tagged": outcome.not_tagged, "finished": time.time(),
            },
        )
        self.huey.delete(f"batch:{job}:{number}")
        self.huey.delete(lease_key)

    def run_one(self) -> bool:
        """Run one waiting batch in this process (retries whose delay is over first); False when
        none waits. For tests and `--workers 0`; pools run batches through huey's consumer."""
        for task in self.huey.read_schedule():
            self.huey.enqueue(task)
        task = self.huey.dequeue()
        if task is None:
            return False
        self.huey.execute(task)
        return True

    def work_here(self, *, until: Callable[[], bool], timeout: float | None = None) -> None:
        """Run batches in this process until `until()` holds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not until():
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("the queue did not drain in time")
            if not self.run_one():
                time.sleep(0.05)

    def recover(self, *, now: float | None = None) -> int:
        """Send again every unfinished batch that no queue holds and no live lease covers: a worker
        killed mid-batch (its lease ran out), or an API killed between writing a job and queueing
        it. Safe on several machines at once (a batch sent twice is stored once). Returns how many."""
        now = time.time() if now is None else now
        with self._storage_errors():
            waiting = {tuple(t.args) for t in [*self.huey.pending(), *self.huey.scheduled()]}
            requeued = 0
            for job, meta in self._open_jobs():
                results = self._many("result", job, meta["batches"])
                leases = self._many("lease", job, meta["batches"])
                for number in range(meta["batches"]):
                    if number in results or (job, number) in waiting:
                        continue
                    lease = leases.get(number)
                    if lease is None and now - meta["created"] < self.accept_grace_seconds:
                        continue
                    if lease is not None and lease["until"] > now:
                        continue
                    log.warning("job %s batch %s: no worker holds it; sending it again", job, number)
                    self._tag_batch(job, number)
                    requeued += 1
        return requeued

    def heartbeat(self, slot: int, workers: int) -> None:
        """A pool says it is alive and how many worker processes it runs (for /health)."""
        self.huey.put(f"pool:{slot}", {"host": socket.gethostname(), "pid": os.getpid(), "workers": workers, "seen": time.time()})

    def pool_gone(self, slot: int) -> None:
        """A pool that stops says so: its workers are not counted until its heartbeat ages out."""
        self.huey.delete(f"pool:{slot}")

    def pool_slot(self) -> int:
        return self.huey.storage.incr("workers")

    def close(self) -> None:
        self.huey.storage.close()

    # -- inside ----------------------------------------------------------------------------------

    def _many(self, kind: str, job: str, batches: int) -> dict[int, dict]:
        keys = [f"{kind}:{job}:{n}" for n in range(batches)]
        found = self.huey.storage.peek_many(keys) if keys else {}
        return {n: self.huey.serializer.deserialize(found[key]) for n, key in enumerate(keys) if key in found}

    def _open_jobs(self) -> Iterator[tuple[str, dict]]:
        """Jobs from the oldest unfinished one on. The mark moves past finished jobs, and past
        numbers whose job was never written once a later job is older than the grace period."""
        last = self.huey.storage.incr("jobs", 0)
        start = self.huey.get("open-from", peek=True) or 1
        mark, moving = start, True
        for number in range(start, last + 1):
            job = str(number)
            meta = self.huey.get(f"job:{job}", peek=True)
            if meta is None:
                if moving and self._written_later(number, last):
                    mark = number + 1
                else:
                    moving = False
                continue
            if len(self._many("result", job, meta["batches"])) == meta["batches"]:
                if moving:
                    mark = number + 1
                continue
            moving = False
            yield job, meta
        if mark != start:
            self.huey.put("open-from", mark)

    def _written_later(self, number: int, last: int) -> bool:
        for later in range(number + 1, last + 1):
            meta = self.huey.get(f"job:{later}", peek=True)
            if meta is not None:
                return time.time() - meta["created"] > self.accept_grace_seconds
        return False

    def _pools_seen(self) -> list[dict]:
        slots = self.huey.storage.incr("workers", 0)
        keys = [f"pool:{slot}" for slot in range(max(1, slots - 63), slots + 1)]
        if not keys:
            return []
        pools = [self.huey.serializer.deserialize(v) for v in self.huey.storage.peek_many(keys).values()]
        return [pool for pool in pools if time.time() - pool["seen"] < POOL_SEEN_SECONDS]

    def _storage_errors(self):
        return _translate_storage_errors(self.backend)


def _lease(state: str, until: float, attempts: int) -> dict:
    return {"state": state, "until": until, "attempts": attempts, "host": socket.gethostname(), "pid": os.getpid()}


@contextmanager
def _translate_storage_errors(backend: str) -> Iterator[None]:
    """Redis or SQLite failing underneath becomes one error the API and the CLI know."""
    try:
        yield
    except (sqlite3.OperationalError, RedisConnectionError, RedisTimeoutError) as exc:
        raise QueueUnavailableError(f"{backend} queue: {exc}") from exc


def _open_huey(url: str, name: str) -> tuple[str, SqliteHuey | RedisHuey]:
    """`sqlite:///path/queue.sqlite3` or `redis://host:port/db`."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = Path(parts.path if not parts.netloc else f"{parts.netloc}{parts.path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        # fsync: synchronous=FULL, so an acknowledged job survives a power cut, not just a crash
        return "sqlite", SqliteHuey(name, filename=str(path), fsync=True, results=False, utc=True)
    if parts.scheme in ("redis", "rediss"):
        return "redis", RedisHuey(name, url=url, results=False, utc=True)
    raise ValueError(f"queue URL must start with sqlite:/// or redis://, not {url!r}")
