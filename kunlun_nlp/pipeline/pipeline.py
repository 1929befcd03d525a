"""The one way documents are tagged: a declared pipeline of registered stages.

The API, the CLI, the service, evaluation, training's scoring and the tests all call
`Pipeline.tag`; what runs is what the model version's pipeline.toml declares.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timezone
from pathlib import Path

from kunlun_nlp.document import Document, TaggedDocument
from kunlun_nlp.intake.profiles import SourceProfiles
from kunlun_nlp.intake.sources import SourceSettings
from kunlun_nlp.models import ZERO_SHOT, ModelVersion
from kunlun_nlp.pipeline.config import PIPELINE_FILE, ZERO_SHOT_CONFIG, PipelineConfig
from kunlun_nlp.pipeline.model_stages import ENCODER
from kunlun_nlp.pipeline.registry import Stage, create_stage
from kunlun_nlp.pipeline.work import BuildContext, TagContext, WorkItem
from kunlun_nlp.triage.triage import KnownEntities
from kunlun_nlp.without_torch import import_thinc_without_torch


class Pipeline:
    def __init__(
        self,
        config: PipelineConfig,
        *,
        model: ModelVersion | None = None,
        base_dir: Path | None = None,
        version: str | None = None,
    ) -> None:
        """Build every stage of `config`; relative paths in it resolve in `base_dir` (default: the
        model version's folder)."""
        self.config = config
        self.model = model
        self.model_version = version or (model.version if model else ZERO_SHOT)
        self._build = BuildContext(model=model, base_dir=base_dir or (model.path if model else None))
        self.stages: list[tuple[str, Stage]] = [(s.stage, create_stage(s.stage, s.settings, self._build)) for s in config.stages]

    @classmethod
    def load(cls, model: ModelVersion | None) -> Pipeline:
        """The pipeline a model version declares; the zero-shot baseline when `model` is None."""
        if model is None:
            return cls(_declared(None))  # its encoder runs on torch
        import_thinc_without_torch()  # a trained version tags without torch: spaCy need not load it
        return cls(_declared(model), model=model)

    @staticmethod
    def load_stage(model: ModelVersion | None, name: str) -> Stage:
        """The (first) stage called `name` of the pipeline `model` declares, built alone, with the
        settings and files the whole pipeline builds it with: the priority stage for re-scoring
        a corrected report without loading the models that tag."""
        for declared in _declared(model).stages:
            if declared.stage == name:
                return create_stage(name, declared.settings, BuildContext(model=model, base_dir=model.path if model else None))
        raise LookupError(f"this pipeline has no {name!r} stage")

    @property
    def batch_size(self) -> int:
        return self.config.batch_size

    def tag(
        self,
        documents: Sequence[Document],
        *,
        index: KnownEntities | None = None,
        today: date | None = None,
        profiles: SourceProfiles | None = None,
        sources: SourceSettings | None = None,
    ) -> list[TaggedDocument]:
        """Tag a batch: every stage in order. Novelty is judged against `index` when given, recency
        as of `today` (default: today in UTC); furniture is told by `profiles` (default: the
        batch's own documents); `sources` names and grades sources as the operators set them."""
        if not documents:
            return []
        context = TagContext(
            today=today or datetime.now(timezone.utc).date(),
            index=index,
            profiles=profiles,
            sources=sources or SourceSettings(),
        )
        items = [WorkItem(document) for document in documents]
        for _name, stage in self.stages:
            # a stage may set not_tagged (a language the models do not read): later ones skip it
            stage([item for item in items if item.not_tagged is None], context)
        return [item.tagged(self.model_version) for item in items]

    def stage(self, name: str) -> Stage:
        """The (first) stage called `name`, e.g. to re-score priority as of another day."""
        for stage_name, stage in self.stages:
            if stage_name == name:
                return stage
        raise LookupError(f"this pipeline has no {name!r} stage")

    @property
    def encoder(self):
        """The encoder its encoder stage shares (BranchEncoder or TextEncoder)."""
        encoder = self._build.shared.get(ENCODER)
        if encoder is None:
            raise LookupError("this pipeline has no encoder stage")
        return encoder

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.encoder.encode_queries([text])[0]]


def _declared(model: ModelVersion | None) -> PipelineConfig:
    """What a model version's pipeline.toml declares; the zero-shot baseline's when `model` is None."""
    return PipelineConfig.read(model.path / PIPELINE_FILE if model is not None else ZERO_SHOT_CONFIG)
