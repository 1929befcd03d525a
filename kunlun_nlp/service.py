"""The service the API and the CLI share: a tagging pipeline and an index, opened lazily.

Models load on first use, not at start-up, so `health` answers at once and a process that only
searches never loads them. The pipeline follows the active model version without a restart
(kunlun_nlp.active_pipeline).
"""

from __future__ import annotations

import threading
from functools import cache
from itertools import islice
from datetime import date, datetime, timezone
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from kunlun_nlp.active_pipeline import ActivePipeline
from kunlun_nlp.config import Settings
from kunlun_nlp.document import Document, TaggedDocument
from kunlun_nlp.errors import DocumentsRefusedError
from kunlun_nlp.index import DocumentIndex, open_index
from kunlun_nlp.index.base import Retriage, ReviewOutcome
from kunlun_nlp.intake.profiles import SourceProfiles
from kunlun_nlp.intake.sources import SourceSettings
from kunlun_nlp.limits import MAX_REVIEW_NOTE_CHARS
from kunlun_nlp.pipeline import Pipeline
from kunlun_nlp.pipeline.registry import Stage
from kunlun_nlp.search.results import SearchHit
from kunlun_nlp.triage.triage import retriaged

if TYPE_CHECKING:
    from pathlib import Path

    from kunlun_nlp.labels import Candidate, ImportReport, LabelStore
    from kunlun_nlp.keys import KeyStore
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
        # The active model version's pipeline (KUNLUN_MODEL pins one), or first the factory's.
        self._pipelines = ActivePipeline(settings, factory=pipeline_factory)
        self._index = index
        self._owns_index = index is None  # an index handed in is closed by whoever opened it
        self._open_lock = threading.Lock()  # the API's worker threads may race to open either
        self._profiles: SourceProfiles | None = None
        self._queue: IntakeQueue | None = None
        self._keys: KeyStore | None = None
        self._labels: LabelStore | None = None
        self._pipeline_lock = threading.Lock()  # torch and spaCy models are not shared across threads

    @property
    def pipeline(self) -> Pipeline:
        """The active version's pipeline: a caller keeps the object it got for the whole request
        or batch, so a switch of version never changes models under it."""
        return self._pipelines.current()

    def switch_model(self, version: str | None = None) -> str:
        """Tag with `version` (None: the active one) from the next request on, loading it now;
        the version in use after. Raises, still tagging with the old one, if it does not load."""
        return self._pipelines.switch(version)

    @property
    def model_version(self) -> str | None:
        """The version tagging uses now; None while no pipeline has been loaded."""
        return self._pipelines.loaded_version

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

    @property
    def keys(self) -> KeyStore:
        """The API's keys (kunlun_nlp.keys), opened once: a request's key is checked by one lookup."""
        from kunlun_nlp.keys import KeyStore

        with self._open_lock:
            if self._keys is None:
                self._keys = KeyStore(self.settings.keys_path)
            return self._keys

    def submit(self, documents: list[Document], *, submitted_by: str | None = None) -> str:
        """Accept documents for tagging and indexing by the workers; the job id once durably queued.
        `submitted_by`: the API key's name, kept with the job."""
        return self.queue.submit(documents, submitted_by=submitted_by)

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
        pipeline: Pipeline | None = None,
    ) -> list[TaggedDocument]:
        """Tag through the model's declared pipeline (novelty checked against `index` when given,
        recency as of `today`). Furniture is told by the data folder's source profiles when they
        exist, and `learn` (ingest) creates them. `pipeline`: another version's than the active
        one (a re-tag with the version being promoted)."""
        pipeline = pipeline or self.pipeline
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
        pipeline = self.pipeline  # one version tags and triages the batch
        tagged = self.tag(documents, index=self.index, learn=True, pipeline=pipeline)
        report = self.index.put(tagged, retriage=self.retriage(pipeline))
        if report.failed:
            stored = list(dict.fromkeys(t.id for t in tagged if t.id not in report.failed))
            raise DocumentsRefusedError(report.failed, stored)
        return tagged

    def retriage(self, pipeline: Pipeline | None = None) -> Retriage:
        """How the index triages a report again once a human label sets its tags (a correction, or
        one carried over on re-ingest and re-tag): triage.retriaged with the priority stage of
        `pipeline` (default: the one tagging uses, built alone when no models are loaded), novelty
        judged against this service's index. The stage is looked up when a report first needs it
        (a batch with no human label in it never asks), then kept for the rest of the batch."""

        @cache
        def priority() -> Stage:
            return pipeline.stage("priority") if pipeline is not None else self._pipelines.stage("priority")

        def again(tagged: TaggedDocument) -> TaggedDocument:
            return retriaged(tagged, priority().prioritiser, index=self.index)

        return again

    def review(self, doc_id: str, reviewer: str, *, note: str | None = None) -> ReviewOutcome | None:
        """Take a report off the triage queue, with the reviewer's note (blank: none); None when
        `doc_id` is not indexed. A note over limits.MAX_REVIEW_NOTE_CHARS is a ValueError."""
        note = (note or "").strip() or None
        if note is not None and len(note) > MAX_REVIEW_NOTE_CHARS:
            raise ValueError(f"the note is longer than {MAX_REVIEW_NOTE_CHARS} characters")
        return self.index.mark_reviewed(doc_id, reviewer, datetime.now(timezone.utc), note)

    def semantic_search(self, text: str, *, size: int = 10) -> list[SearchHit]:
        """Documents closest in meaning to `text`, by embedding: no shared words needed."""
        pipeline = self.pipeline
        with self._pipeline_lock:
            vector = pipeline.embed_query(text)
        return self.index.nearest(vector, size=size)

    # -- human labels (kunlun_nlp.labels) -------------------------------------------------------

    @property
    def labels(self) -> LabelStore:
        """Corrections and imported labeled samples, with their history (<data>/labels.sqlite3)."""
        from kunlun_nlp.labels import LabelStore

        with self._open_lock:
            if self._labels is None:
                self._labels = LabelStore(self.settings.labels_path)
            return self._labels

    def correct(self, doc_id: str, *, by: str, **fields) -> TaggedDocument | None:
        """Correct an indexed document's tags (fields: domains, subtypes, add, remove, relabel; see
        labels.Correction): stored in the label store first, then applied to the index with the
        case cards and priority of the corrected tags, searchable and re-ordered on the triage
        queue at once. None when `doc_id` is not indexed; ValueError for a correction that does
        not fit."""
        from kunlun_nlp.labels.workflow import correct_document

        return correct_document(self.index, self.labels, doc_id, by=by, retriage=self.retriage(), **fields)

    def import_labels(self, source: Path | str, *, by: str, format: str | None = None, name: str = "") -> ImportReport:
        """Import labeled samples from a file (format by its suffix), or from `source` as content
        in `format` ("jsonl" or "csv"): whole or not at all. LabelImportError lists every bad row."""
        from kunlun_nlp.labels import parse_labels, read_labels

        from pathlib import Path

        if format is None:
            parsed, file = read_labels(source), name or Path(source).name
        else:
            parsed, file = parse_labels(str(source), format, source=name), name or "upload"
        return self.labels.import_samples(parsed.samples, file=file, by=by, warnings=parsed.warnings)

    def export_labels(self, origin: str | None = None) -> Iterator[str]:
        """Every label as a JSONL line in the corpus format (LabelStore.export)."""
        return self.labels.export(origin)

    def label_next(self, size: int = 20) -> list[Candidate]:
        """The indexed documents most worth labeling (labels.label_next), never one corrected."""
        from kunlun_nlp.labels import label_next, thresholds_by_model

        return label_next(self.index, thresholds_by_model(self.settings.model_dirs), size, exclude=self.labels.corrected_ids())

    def close(self) -> None:
        if self._labels is not None:
            self._labels.close()
        if self._keys is not None:
            self._keys.close()
        if self._queue is not None:
            self._queue.close()
        if self._profiles is not None:
            self._profiles.close()
        if self._owns_index and self._index is not None:
            self._index.close()
