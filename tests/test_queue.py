"""The intake queue's contract on both backends: a SQLite file, and a real Redis server
(`scripts/queue-server`, started by scripts/test; KUNLUN_TEST_QUEUE_URL). No Redis fails the run."""

from __future__ import annotations

import os
import uuid

import pytest

from kunlun_nlp.queue import IntakeQueue, QueueUnavailableError
from kunlun_nlp.testing import QueueContract

QUEUE_URL = os.environ.get("KUNLUN_TEST_QUEUE_URL", "redis://127.0.0.1:6390/0")
SHORT = {"batch_size": 3, "retry_delays": (0.05, 0.1)}


@pytest.fixture(scope="session")
def redis_url() -> str:
    queue = IntakeQueue(QUEUE_URL, name="kunlun-ping")
    try:
        queue.huey.storage.conn.ping()
    except Exception as exc:  # any failure to answer is the same verdict
        pytest.fail(
            f"queue server not reachable at {QUEUE_URL} ({type(exc).__name__}); "
            "start it with `scripts/queue-server start` or set KUNLUN_TEST_QUEUE_URL",
            pytrace=False,
        )
    return QUEUE_URL


class TestSqliteQueue(QueueContract):
    @pytest.fixture
    def queue(self, tmp_path):
        queue = IntakeQueue(f"sqlite://{tmp_path}/queue.sqlite3", **SHORT)
        yield queue
        queue.close()


class TestRedisQueue(QueueContract):
    @pytest.fixture
    def queue(self, redis_url):
        queue = IntakeQueue(redis_url, name=f"kunlun-test-{uuid.uuid4().hex[:10]}", **SHORT)  # keys of its own
        yield queue
        queue.huey.storage.flush_all()
        queue.close()


def test_an_unreachable_redis_accepts_nothing_and_says_so():
    queue = IntakeQueue("redis://127.0.0.1:9/0")  # nothing listens on the discard port
    from kunlun_nlp.testing.queue_contract import reports

    with pytest.raises(QueueUnavailableError, match="redis queue"):
        queue.submit(reports(1))
    assert queue.health().reachable is False


def test_a_queue_url_of_another_kind_is_refused():
    with pytest.raises(ValueError, match="sqlite:/// or redis://"):
        IntakeQueue("amqp://localhost")
