"""What the stages share: the document being tagged (WorkItem), what a run is tagged against
(TagContext), and what stages are built from (BuildContext)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kunlun_nlp.classifier import DomainPrediction
from kunlun_nlp.document import Document, Entity, TaggedDocument
from kunlun_nlp.encoder import EncodedText
from kunlun_nlp.entities import Span
from kunlun_nlp.intake.profiles import SourceProfiles
from kunlun_nlp.intake.sources import SourceSettings
from kunlun_nlp.models import ModelVersion
from kunlun_nlp.triage.records import CaseCard, Priority
from kunlun_nlp.triage.triage import KnownEntities


@dataclass(frozen=True)
class TagContext:
    today: date  # recency is judged as of this day
    index: KnownEntities | None = None  # novelty is judged against it; None: not judged
    # what each source's documents share (furniture); None: learned from the batch alone
    profiles: SourceProfiles | None = None
    sources: SourceSettings = field(default_factory=SourceSettings)  # operators' names and grades


@dataclass
class BuildContext:
    """A version's folder (relative paths in its pipeline.toml resolve there), its manifest, and the
    components stages share (the encoder, whose embeddings the domain stages and queries use)."""

    model: ModelVersion | None = None
    base_dir: Path | None = None
    shared: dict[str, Any] = field(default_factory=dict)

    def resolve(self, name: str) -> str | Path:
        """A file or folder of the version when it has one by that name, else `name` as given (a
        spaCy package, a file shipped with the library)."""
        if self.base_dir is not None and (self.base_dir / name).exists():
            return self.base_dir / name
        return name

    def model_file(self, name: str) -> Path:
        """A file of the version itself (it may be absent: the stage decides what that means)."""
        if self.base_dir is None:
            raise ValueError(f"{name!r} is a model version's file, but this pipeline has no version folder")
        return self.base_dir / name


@dataclass
class WorkItem:
    """A document on its way through the stages; each fills its part."""

    document: Document
    body: str = ""  # the report without trailing site furniture: entities are read from it
    classified: str = ""  # title + body: what the encoder and the domain classifier read
    spans: dict[str, list[Span]] = field(default_factory=dict)  # the entity passes' named layers
    entities: list[Entity] = field(default_factory=list)
    encoded: EncodedText | None = None
    prediction: DomainPrediction | None = None
    cases: list[CaseCard] = field(default_factory=list)
    priority: Priority | None = None
    furniture: list[tuple[int, int]] = field(default_factory=list)  # spans of the site's template
    site_name: str | None = None  # the publisher its pages' titles name, once learned
    # Why the models are not run on it (e.g. a language they do not read); later stages skip it
    not_tagged: str | None = None

    def tagged(self, model_version: str) -> TaggedDocument:
        prediction, encoded = self.prediction, self.encoded
        return TaggedDocument(
            document=self.document,
            domain_scores=list(prediction.scores) if prediction else [],
            domains=list(prediction.predicted) if prediction else [],
            entities=self.entities,
            embedding=[round(float(x), 6) for x in encoded.embedding] if encoded is not None else [],
            subtypes=list(prediction.subtypes) if prediction else [],
            evidence=dict(prediction.evidence) if prediction else {},
            split_windows=list(prediction.split_windows) if prediction else [],
            model=model_version,
            cases=self.cases,
            priority=self.priority,
            not_tagged=self.not_tagged,
            furniture=self.furniture,
        )
