"""Tagging workers: processes, one per core by default, that take batches off the intake queue, tag
them through the model's pipeline and index them. huey's consumer runs and restarts the processes;
each loads the models once, when it starts. The pool's own loop says it is alive (for /health)
and sends again the batches of workers that died (IntakeQueue.recover)."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from huey.consumer import ConsumerStopped

from kunlun_nlp.errors import DocumentsRefusedError, WorkersFailingError
from kunlun_nlp.queue.intake_queue import IntakeQueue
from kunlun_nlp.queue.jobs import BatchOutcome
from kunlun_nlp.queue.lifetime import die_with_parent

if TYPE_CHECKING:
    from kunlun_nlp.document import Document
    from kunlun_nlp.service import KunlunService

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
RECOVER_SECONDS = 10.0
CRASH_WINDOW_SECONDS = 60.0  # workers dying this often (3 restarts each in the window) stop the pool


def default_workers() -> int:
    """One worker process per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def ingest_batch(service: KunlunService, documents: list[Document]) -> BatchOutcome:
    """Tag and index one batch; IndexUnavailableError propagates (the queue retries the batch)."""
    try:
        tagged = service.ingest(documents)
    except DocumentsRefusedError as refused:
        return BatchOutcome(stored=sum(1 for d in documents if d.id not in refused.refused), failed=dict(refused.refused))
    not_tagged = [
        {"id": t.id, "title": t.document.title, "source": t.document.source, "reason": t.not_tagged}
        for t in tagged
        if t.not_tagged
    ]
    return BatchOutcome(stored=len(documents), not_tagged=not_tagged)


class WorkerPool:
    def __init__(
        self,
        queue: IntakeQueue,
        service_factory: Callable[[], KunlunService],
        *,
        workers: int | None = None,
        recover_seconds: float = RECOVER_SECONDS,
    ) -> None:
        self.queue = queue
        self.workers = workers or default_workers()
        self.recover_seconds = recover_seconds

        threads = max(1, default_workers() // self.workers)

        def start_worker() -> None:  # in each worker process, once, before its first batch
            from kunlun_nlp.onnx_encoder import SessionSettings, configure_sessions

            die_with_parent(signal.SIGKILL)

            # Beside the other workers, ONNX Runtime's spinning threads only take cores from them.
            configure_sessions(SessionSettings(threads=threads, spinning=False))
            service = service_factory()
            service.pipeline  # noqa: B018 - load the models now, not inside the first batch
            queue.handler = lambda documents: ingest_batch(service, documents)

        queue.huey.on_startup("kunlun-worker")(start_worker)
        # Processes, not threads: tagging holds the GIL. Idle workers poll SQLite every 0.5 s at
        # most; on Redis they block on the list.
        self.consumer = queue.huey.create_consumer(
            workers=self.workers, worker_type="process", periodic=False,
            initial_delay=0.05, max_delay=0.5, health_check_interval=1,
        )
        self._slot = 0
        self._pids: set[int] = set()
        self._restarts: list[float] = []
        self._health_ts: float | None = None
        self._last_beat = self._last_recover = 0.0

    def start(self) -> None:
        self.consumer.start()
        self._slot = self.queue.pool_slot()
        self._pids = self._worker_pids()
        self._health_ts = time.monotonic()
        log.info("%d tagging worker(s) on the %s queue", self.workers, self.queue.backend)

    def poll(self) -> bool:
        """One turn of the pool's loop (about 0.1 s); False once a signal stopped it."""
        try:
            self._health_ts = self.consumer.loop(self._health_ts)
        except ConsumerStopped:
            return False
        now = time.monotonic()
        self._watch_restarts(now)
        if now - self._last_beat >= HEARTBEAT_SECONDS:
            self._last_beat = now
            self.queue.heartbeat(self._slot, self.workers)
        if now - self._last_recover >= self.recover_seconds:
            self._last_recover = now
            self.queue.recover()
        return True

    def _worker_pids(self) -> set[int]:
        return {process.pid for _, process in self.consumer.worker_threads if process.pid}

    def _watch_restarts(self, now: float) -> None:
        pids = self._worker_pids()
        self._restarts += [now] * len(pids - self._pids)  # huey replaced a dead worker
        self._pids = pids
        self._restarts = [t for t in self._restarts if now - t < CRASH_WINDOW_SECONDS]
        if len(self._restarts) >= 3 * self.workers:
            self.consumer.stop()
            raise WorkersFailingError(
                f"tagging workers died {len(self._restarts)} times in {CRASH_WINDOW_SECONDS:.0f} s; stopped "
                "(what was queued stays queued). Run `kunlun-nlp ingest --workers 0` to see the error."
            )

    def run(self) -> None:
        """Work until SIGINT (finish the running batches) or SIGTERM."""
        self.start()
        while self.poll():
            pass
        self.queue.pool_gone(self._slot)

    def stop(self) -> None:
        self.consumer.stop(graceful=True)
        self.queue.pool_gone(self._slot)
