"""The intake queue's contract: what every queue backend must do, run by each backend's tests
(`class TestMyQueue(QueueContract)` with a `queue` fixture: an IntakeQueue with batch_size 3 and
short retry delays). The batches run in the test's process through `run_one`, on a recording
handler that stores documents by id, as the index does (a second copy of an id replaces the
first): what is checked is delivery, not tagging."""

from __future__ import annotations

import time

import pytest

from kunlun_nlp.document import Document
from kunlun_nlp.errors import IndexUnavailableError
from kunlun_nlp.queue import BatchOutcome, IntakeQueue


class RecordingHandler:
    """Stores documents by id; fails the ids in `refuse`; raises IndexUnavailableError for its
    first `outages` calls."""

    def __init__(self, *, refuse: frozenset[str] = frozenset(), outages: int = 0) -> None:
        self.stored: dict[str, Document] = {}
        self.deliveries: list[str] = []
        self.refuse, self.outages = refuse, outages

    def __call__(self, documents: list[Document]) -> BatchOutcome:
        if self.outages:
            self.outages -= 1
            raise IndexUnavailableError("the index does not answer")
        self.deliveries += [d.id for d in documents]
        failed = {d.id: "refused by the index" for d in documents if d.id in self.refuse}
        self.stored.update({d.id: d for d in documents if d.id not in failed})
        return BatchOutcome(stored=sum(1 for d in documents if d.id not in failed), failed=failed)


def reports(count: int, prefix: str = "report") -> list[Document]:
    return [Document.create(f"{prefix} {n}: customs seized {n} fake handbags", id=f"{prefix}-{n}") for n in range(count)]


class QueueContract:
    @pytest.fixture
    def queue(self) -> IntakeQueue:
        raise NotImplementedError("a backend's test class gives the queue")

    def test_every_accepted_document_is_handled_once_and_counted(self, queue):
        handler = RecordingHandler()
        queue.handler = handler
        job = queue.submit(reports(7))
        waiting = queue.status(job)
        assert (waiting.documents, waiting.queued, waiting.done, waiting.state) == (7, 7, 0, "queued")
        assert queue.health().depth == 3  # batches of 3, 3 and 1
        queue.work_here(until=lambda: queue.status(job).finished, timeout=30)
        done = queue.status(job)
        assert (done.done, done.failed, done.queued, done.state, done.eta_seconds) == (7, 0, 0, "done", 0.0)
        assert sorted(handler.deliveries) == sorted(f"report-{n}" for n in range(7))
        assert queue.health().depth == 0 and not queue.run_one()

    def test_jobs_are_numbered_apart_and_unknown_ones_are_none(self, queue):
        first, second = queue.submit(reports(1)), queue.submit(reports(1, "other"))
        assert first != second
        assert queue.status("no-such-job") is None
        with pytest.raises(ValueError):
            queue.submit([])

    def test_refused_documents_are_listed_with_their_reason(self, queue):
        queue.handler = RecordingHandler(refuse=frozenset({"report-1", "report-4"}))
        job = queue.submit(reports(5))
        queue.work_here(until=lambda: queue.status(job).finished, timeout=30)
        status = queue.status(job)
        assert (status.done, status.failed, status.state) == (3, 2, "done with failures")
        assert status.failures == {"report-1": "refused by the index", "report-4": "refused by the index"}

    def test_an_index_outage_is_waited_out_with_retries_and_nothing_is_lost(self, queue):
        handler = RecordingHandler(outages=3)
        queue.handler = handler
        job = queue.submit(reports(6))
        assert queue.run_one()  # the first try meets the outage: the batch waits for a retry
        assert queue.status(job).state == "retrying"
        queue.work_here(until=lambda: queue.status(job).finished, timeout=30)
        assert queue.status(job).done == 6 and len(handler.stored) == 6

    def test_a_crash_in_tagging_fails_its_batch_and_the_queue_goes_on(self, queue):
        def broken(documents):
            raise ValueError("model exploded")

        queue.handler = broken
        job = queue.submit(reports(2))
        queue.work_here(until=lambda: queue.status(job).finished, timeout=30)
        status = queue.status(job)
        assert status.failed == 2 and "tagging failed: ValueError: model exploded" in status.failures["report-0"]

    def test_a_batch_whose_worker_died_is_sent_again_once_its_lease_runs_out(self, queue):
        handler = RecordingHandler()
        queue.handler = handler
        job = queue.submit(reports(3))
        task = queue.huey.dequeue()  # a worker takes the batch, starts it, and is killed
        queue.huey.put(f"lease:{task.args[0]}:{task.args[1]}", {"state": "running", "until": time.time() + 60, "attempts": 0})
        assert queue.recover() == 0  # its lease still holds: the worker may be alive
        assert not queue.run_one()
        assert queue.recover(now=time.time() + 61) == 1
        queue.work_here(until=lambda: queue.status(job).finished, timeout=30)
        assert sorted(handler.deliveries) == ["report-0", "report-1", "report-2"]

    def test_a_batch_delivered_twice_is_stored_once(self, queue):
        handler = RecordingHandler()
        queue.handler = handler
        job = queue.submit(reports(3))
        task = queue.huey.dequeue()
        queue.huey.enqueue(task)
        queue.huey.enqueue(task)  # the same message twice: a recover racing a slow worker
        queue.work_here(until=lambda: queue.status(job).finished, timeout=30)
        while queue.run_one():
            pass
        assert queue.status(job).done == 3 and handler.deliveries == ["report-0", "report-1", "report-2"]

    def test_a_job_written_but_never_queued_is_sent_after_the_grace_period(self, queue):
        """An API killed after writing a job and before queueing its batches: recover finishes it."""
        handler = RecordingHandler()
        queue.handler = handler
        job = queue.submit(reports(4))
        while queue.huey.dequeue() is not None:  # its messages never reached the queue
            pass
        assert queue.recover() == 0  # too young: its API may still be queueing it
        assert queue.recover(now=time.time() + queue.accept_grace_seconds + 1) == 2
        queue.work_here(until=lambda: queue.status(job).finished, timeout=30)
        assert len(handler.stored) == 4

    def test_recent_jobs_newest_first_with_their_status(self, queue):
        assert queue.recent() == []
        queue.handler = RecordingHandler(refuse=frozenset({"first-1"}))
        first = queue.submit(reports(2, "first"), submitted_by="ana")
        queue.work_here(until=lambda: queue.status(first).finished, timeout=30)
        queue.huey.storage.incr("jobs")  # a number whose job was never written (its API killed midway)
        second = queue.submit(reports(4, "second"))
        third = queue.submit(reports(1, "third"), submitted_by="bo")
        jobs = queue.recent(10)
        assert [j.job_id for j in jobs] == [third, second, first]
        assert jobs == [queue.status(third), queue.status(second), queue.status(first)]
        assert [(j.documents, j.done, j.failed, j.state, j.submitted_by) for j in jobs] == [
            (1, 0, 0, "queued", "bo"), (4, 0, 0, "queued", None), (2, 1, 1, "done with failures", "ana"),
        ]
        assert [j.job_id for j in queue.recent(2)] == [third, second]
        with pytest.raises(ValueError):
            queue.recent(0)

    def test_health_counts_waiting_batches_and_live_workers(self, queue):
        queue.submit(reports(4))
        queue.heartbeat(queue.pool_slot(), 2)
        health = queue.health()
        assert (health.reachable, health.depth, health.workers) == (True, 2, 2)
        other = queue.pool_slot()
        queue.heartbeat(other, 1)
        queue.pool_gone(other)
        assert queue.health().workers == 2
