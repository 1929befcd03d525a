"""The service the API and the CLI share: a tagging pipeline and an index, opened lazily.

Models load on first use, not at start-up, so `health` answers at once and a process that only
searches never loads them.
"""

from __future__ import annotations

import threading
from itertools import islice
from datetime import date, datetime, timezone
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from kunlun_nlp.config import Settings
from kunlun_nlp.document import Document, TaggedDocument
from kunlun_nlp.errors import DocumentsRefusedError
from kunlun_nlp.index import DocumentIndex, open_index
from kunlun_nlp.index.base import ReviewOutcome
from kunlun_nlp.intake.profiles import SourceProfiles
from kunlun_nlp.intake.sources import SourceSettings
from kunlun_nlp.models import find_model
from kunlun_nlp.pipeline import Pipeline
from kunlun_nlp.search.results import SearchHit

if TYPE_CHECKING:
    from kunlun_nlp.queue import IntakeQueue


class KunlunService:
    def __init__(
        self,
        settings: Settings,
        *,
        pipeline_factory: Callable[[], Pipeline] | None = None,
        index: DocumentIndex | None = None,
    ) -> None:
        self.settings = settings
        # Default: the configured model version (the newest when unset), as it declares its pipeline.
        self._pipeline_factory = pipeline_factory or (lambda: Pipeline.load(find_model(settings.model, settings.model_dirs)))
        self._pipeline: Pipeline | None = None
        self._index = index
        self._owns_index = index is None  # an index handed in is closed by whoever opened it
        self._open_lock = threading.Lock()  # the API's worker threads may race to open either
        self._profiles: SourceProfiles | None = None
        self._queue: IntakeQueue | None = None
        self._pipeline_lock = threading.Lock()  # torch and spaCy models are not shared across threads

    @property
    def pipeline(self) -> Pipeline:
        with self._open_lock:
            if self._pipeline is None:
                self._pipeline = self._pipeline_factory()
            return self._pipeline

    @property
    def index(self) -> DocumentIndex:
        with self._open_lock:
            if self._index is None:
                self._index = open_index(self.settings)
            return self._index

    @property
    def queue(self) -> IntakeQueue:
        """The intake queue (SQLite in the data folder, or Redis): what ingest is accepted into."""
        from kunlun_nlp.queue import IntakeQueue  # huey and redis: only where intake happens

        with self._open_lock:
            if self._queue is None:
                self._queue = IntakeQueue(self.settings.intake_queue_url, lease_seconds=self.settings.queue_lease_seconds)
            return self._queue

    def submit(self, documents: list[Document]) -> str:
        """Accept documents for tagging and indexing by the workers; the job id once durably queued."""
        return self.queue.submit(documents)

    def work_here(self, job: str, *, timeout: float | None = None) -> None:
        """Run the queue's batches in this process until `job` is finished (no worker pool)."""
        from kunlun_nlp.queue.workers import ingest_batch

        queue = self.queue
        queue.handler = lambda documents: ingest_batch(self, documents)
        queue.work_here(until=lambda: queue.status(job).finished, timeout=timeout)

    @property
    def sources(self) -> SourceSettings:
        """Read on each use: an operator's edit of sources.toml counts from the next document on."""
        return SourceSettings.load(self.settings.sources_path)

    def profiles(self, *, create: bool) -> SourceProfiles | None:
        """The data folder's source profiles; opened only once they exist, unless `create`."""
        with self._open_lock:
            if self._profiles is None and (create or self.settings.profiles_path.exists()):
                self._profiles = SourceProfiles(self.settings.profiles_path)
            return self._profiles

    def tag(
        self,
        documents: list[Document],
        *,
        index: DocumentIndex | None = None,
        today: date | None = None,
        learn: bool = False,
    ) -> list[TaggedDocument]:
        """Tag through the model's declared pipeline (novelty checked against `index` when given,
        recency as of `today`). Furniture is told by the data folder's source profiles when they
        exist, and `learn` (ingest) creates them."""
        pipeline = self.pipeline
        profiles, sources = self.profiles(create=learn), self.sources
        with self._pipeline_lock:
            return pipeline.tag(documents, index=index, today=today, profiles=profiles, sources=sources)

    def tag_stream(
        self, documents: Iterable[Document], *, index: DocumentIndex | None = None, today: date | None = None
    ) -> Iterator[TaggedDocument]:
        iterator, size = iter(documents), self.pipeline.batch_size
        while batch := list(islice(iterator, size)):
            yield from self.tag(batch, index=index, today=today)

    def ingest(self, documents: list[Document]) -> list[TaggedDocument]:
        """Tag and index. IndexUnavailableError when the index cannot be reached (nothing stored);
        DocumentsRefusedError naming the documents it refused when the others were stored."""
        tagged = self.tag(documents, index=self.index, learn=True)
        report = self.index.put(tagged)
        if report.failed:
            stored = list(dict.fromkeys(t.id for t in tagged if t.id not in report.failed))
            raise DocumentsRefusedError(report.failed, stored)
        return tagged

    def review(self, doc_id: str, reviewer: str) -> ReviewOutcome | None:
        return self.index.mark_reviewed(doc_id, reviewer, datetime.now(timezone.utc))

    def semantic_search(self, text: str, *, size: int = 10) -> list[SearchHit]:
        """Documents closest in meaning to `text`, by embedding: no shared words needed."""
        pipeline = self.pipeline
        with self._pipeline_lock:
            vector = pipeline.embed_query(text)
        return self.index.nearest(vector, size=size)

    def close(self) -> None:
        if self._queue is not None:
            self._queue.close()
        if self._profiles is not None:
            self._profiles.close()
        if self._owns_index and self._index is not None:
            self._index.close()
