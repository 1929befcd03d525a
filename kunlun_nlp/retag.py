"""Re-tagging the index with a model version: after a promotion (the new version's tags) and after
a rollback (the old version's again). Every stored document is tagged again as ingest tagged it,
through the service's tag (the data folder's source profiles and sources.toml apply), and the index
swaps the new tags in while search goes on (DocumentIndex.retag: a new engine index behind the
alias, or one SQLite transaction). Reviews, history and human corrections stay: a human label beats
the new model's on every re-tag, and a corrected report is triaged from its corrected tags, as a
correction triages it (the version's priority stage, through triage.retriaged).

Recency is judged as of each document's ingest day, as it was when first tagged: a re-tag changes
what the model says, not how old the reports are. Novelty is judged against the index as it stands.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from kunlun_nlp.active_pipeline import load_pipeline, resolved_version
from kunlun_nlp.config import Settings
from kunlun_nlp.document import TaggedDocument
from kunlun_nlp.index.base import RetagProgress, RetagReport
from kunlun_nlp.model_registry import active_version_name
from kunlun_nlp.pipeline import Pipeline
from kunlun_nlp.service import KunlunService

log = logging.getLogger(__name__)

_one_at_a_time = threading.Lock()  # per process; the index's own re-tag is one at a time too


@dataclass(frozen=True)
class RetagSummary:
    version: str  # the model version the documents are tagged with now
    backend: str
    report: RetagReport

    @property
    def documents(self) -> int:
        return self.report.retagged

    @property
    def seconds(self) -> float:
        return self.report.seconds

    @property
    def per_second(self) -> float:
        return self.report.retagged / self.report.seconds if self.report.seconds > 0 else 0.0

    def to_record(self) -> dict[str, Any]:
        """JSON-able: for a training job's state, a decision record and the API."""
        return {
            "version": self.version,
            "backend": self.backend,
            "documents": self.report.retagged,
            "caught_up": self.report.caught_up,
            "kept": self.report.kept,
            "seconds": round(self.report.seconds, 3),
            "per_second": round(self.per_second, 2),
            "index": self.report.location,
        }

    def describe(self) -> str:
        kept = f"; {len(self.report.kept)} kept their old tags (refused)" if self.report.kept else ""
        return (
            f"re-tagged {self.report.retagged} document(s) with {self.version} in {self.report.seconds:.1f} s "
            f"({self.per_second:.1f}/s; {self.report.caught_up} written meanwhile and caught up){kept}; "
            f"{self.backend} index: {self.report.location}"
        )


def retag_index(
    settings_or_service: Settings | KunlunService,
    version: str | None = None,
    progress: RetagProgress | None = None,
) -> RetagSummary:
    """Re-tag every indexed document with `version` (None: the active version). A service given is
    used as it is (its index, profiles and, when it tags with that version, its pipeline); settings
    give a service of their own, closed after. Raises (the index unchanged) when the version does
    not load or tagging fails; IndexUnavailableError when the index does not answer."""
    service = settings_or_service if isinstance(settings_or_service, KunlunService) else KunlunService(settings_or_service)
    try:
        with _one_at_a_time:
            wanted = version if version is not None else active_version_name(service.settings)
            name = resolved_version(service.settings, wanted)
            pipeline = service.pipeline if service.model_version == name else load_pipeline(service.settings, wanted)
            index = service.index
            log.info("re-tagging %s index with %s", index.backend, name)
            report = index.retag(_transform(service, pipeline), progress=progress, retriage=service.retriage(pipeline))
    finally:
        if service is not settings_or_service:
            service.close()
    summary = RetagSummary(name, index.backend, report)
    log.info(summary.describe())
    return summary


def _transform(service: KunlunService, pipeline: Pipeline) -> Callable[[list[TaggedDocument]], list[TaggedDocument]]:
    index = service.index

    def transform(stored: list[TaggedDocument]) -> list[TaggedDocument]:
        # the stored Document is what ingest stored: id, title, text, source, dates, language, grade
        documents = sorted((t.document for t in stored), key=lambda d: d.ingested_at.date())
        tagged: list[TaggedDocument] = []
        for day, same_day in groupby(documents, key=lambda d: d.ingested_at.date()):
            group = list(same_day)
            for first in range(0, len(group), pipeline.batch_size):
                tagged += service.tag(group[first : first + pipeline.batch_size], index=index, today=day, pipeline=pipeline)
        return tagged

    return transform
