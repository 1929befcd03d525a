"""What a job is to its caller: counts, failures with reasons, rate and ETA."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BatchOutcome:
    """What tagging and indexing one batch gave: how many of its documents were stored, and each
    failed id with the reason."""

    stored: int
    failed: dict[str, str] = field(default_factory=dict)
    # reports the models did not tag (a language they do not read): id, title, source, reason
    not_tagged: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    documents: int  # accepted
    done: int  # stored in the index
    failed: int
    failures: dict[str, str]  # document id → reason
    created: float  # epoch seconds
    updated: float  # when the last batch finished (created while none has)
    retrying: int = 0  # batches waiting out an index outage
    not_tagged: list[dict[str, str]] = field(default_factory=list)
    submitted_by: str | None = None  # the API key's name; None from the CLI

    @property
    def queued(self) -> int:
        return self.documents - self.done - self.failed

    @property
    def finished(self) -> bool:
        return self.queued <= 0

    @property
    def rate(self) -> float | None:
        """Documents per second since the job was accepted; None before any finished."""
        elapsed = self.updated - self.created
        finished = self.done + self.failed
        return finished / elapsed if finished and elapsed > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        if self.finished:
            return 0.0
        rate = self.rate
        return self.queued / rate if rate else None

    @property
    def state(self) -> str:
        if not self.finished:
            return "retrying" if self.retrying else "queued"
        return "done" if not self.failed else "done with failures"
