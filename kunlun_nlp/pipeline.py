"""The tagging pipeline: entities, embedding and domains for a batch of documents.

Batch-first: spaCy runs over the batch with nlp.pipe and the encoder embeds every chunk of every
document in length-sorted batches. The text tagged is title + body, the way a reader sees it;
entity offsets are into `document.text` alone.
"""

from __future__ import annotations


from kunlun_nlp.classifier import TrainedDomainClassifier, ZeroShotDomainClassifier
from kunlun_nlp.document import Document, TaggedDocument
from kunlun_nlp.encoder import TextEncoder
from kunlun_nlp.entities import EntityExtractor
from kunlun_nlp.models import ZERO_SHOT, ModelVersion
from kunlun_nlp.report_text import classified_text, report_body
from kunlun_nlp.triage.cards import build_cards, card_to_record


class TaggingPipeline:
    def __init__(
        self,
        encoder=None,
        extractor: EntityExtractor | None = None,
        classifier: TrainedDomainClassifier | ZeroShotDomainClassifier | None = None,
        *,
        batch_size: int = 32,
        model_version: str = ZERO_SHOT,
    ) -> None:
        """Without arguments: the untrained baseline (torch MiniLM, zero-shot domains, spaCy entities)."""
        self.encoder = encoder or TextEncoder()
        self.extractor = extractor or EntityExtractor()
        self.classifier = classifier or ZeroShotDomainClassifier(self.encoder)
        self.batch_size = batch_size
        self.model_version = model_version

    @classmethod
    def load(cls, model: ModelVersion | None) -> TaggingPipeline:
        """The pipeline of a trained model version; the zero-shot baseline when `model` is None."""
        if model is None:
            return cls()
        from kunlun_nlp.onnx_encoder import BranchEncoder

        return cls(
            BranchEncoder(model.encoder_path, model.tokenizer_path),
            EntityExtractor(domain_model=model.ner_path),
            TrainedDomainClassifier(model.domain_thresholds, model.subtype_thresholds),
            model_version=model.version,
        )

    def tag(self, documents: list[Document]) -> list[TaggedDocument]:
        if not documents:
            return []
        entity_lists = self.extractor.extract([report_body(d.text) for d in documents])
        texts = [classified_text(d) for d in documents]
        encoded = self.encoder.encode(texts)
        tagged = []
        for document, entities, enc, text in zip(documents, entity_lists, encoded, texts):
            prediction = self.classifier.predict(enc, text)
            tagged.append(
                TaggedDocument(
                    document=document,
                    domain_scores=prediction.scores,
                    domains=prediction.predicted,
                    entities=entities,
                    embedding=[round(float(x), 6) for x in enc.embedding],
                    subtypes=prediction.subtypes,
                    evidence=prediction.evidence,
                    model=self.model_version,
                    cases=[card_to_record(c) for c in build_cards(document.text, entities, document.published)],
                )
            )
        return tagged

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.encoder.encode_queries([text])[0]]


