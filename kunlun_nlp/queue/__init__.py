"""Intake at scale: a durable job queue (SQLite or Redis, through huey) and the tagging workers."""

from kunlun_nlp.errors import QueueUnavailableError
from kunlun_nlp.queue.intake_queue import IntakeQueue, QueueHealth
from kunlun_nlp.queue.jobs import BatchOutcome, JobStatus

__all__ = ["BatchOutcome", "IntakeQueue", "JobStatus", "QueueHealth", "QueueUnavailableError"]
