"""The tagging pipeline: entities, embedding and domains for a batch of documents.

Batch-first: spaCy runs over the batch with nlp.pipe and the encoder embeds every chunk of every
document in length-sorted batches. The text tagged is title + body, the way a reader sees it;
entity offsets are into `document.text` alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from kunlun_nlp.classifier import ZeroShotDomainClassifier
from kunlun_nlp.document import Document, TaggedDocument
from kunlun_nlp.encoder import TextEncoder
from kunlun_nlp.entities import EntityExtractor


class TaggingPipeline:
    def __init__(
        self,
        encoder: TextEncoder | None = None,
        extractor: EntityExtractor | None = None,
        classifier: ZeroShotDomainClassifier | None = None,
        *,
        batch_size: int = 32,
    ) -> None:
        self.encoder = encoder or TextEncoder()
        self.extractor = extractor or EntityExtractor()
        self.classifier = classifier or ZeroShotDomainClassifier(self.encoder)
        self.batch_size = batch_size

    def tag(self, documents: list[Document]) -> list[TaggedDocument]:
        if not documents:
            return []
        entity_lists = self.extractor.extract([d.text for d in documents])
        encoded = self.encoder.encode([classified_text(d) for d in documents])
        tagged = []
        for document, entities, enc in zip(documents, entity_lists, encoded):
            prediction = self.classifier.predict(enc)
            tagged.append(
                TaggedDocument(
                    document=document,
                    domain_scores=prediction.scores,
                    domains=prediction.predicted,
                    entities=entities,
                    embedding=[round(float(x), 6) for x in enc.embedding],
                )
            )
        return tagged

    def tag_stream(self, documents: Iterable[Document]) -> Iterator[TaggedDocument]:
        iterator = iter(documents)
        while batch := list(islice(iterator, self.batch_size)):
            yield from self.tag(batch)

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.encoder.encode_queries([text])[0]]


def classified_text(document: Document) -> str:
    if document.title and not document.text.lstrip().startswith(document.title):
        return f"{document.title}\n{document.text}"
    return document.text
