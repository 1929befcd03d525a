"""The entity passes, each a named step: NER models write span layers, later steps relabel, fill
gaps, merge layers, add amounts and join places, and the last turns a layer into entities.

Spans are offsets into the report body, which is a prefix of the document's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from kunlun_nlp.amounts import find_quantity_spans
from kunlun_nlp.entities import LABEL_MAPS, GazetteerLabels, join_qualified_places, make_entity, merge_spans, spacy_spans
from kunlun_nlp.models import ModelMismatchError
from kunlun_nlp.pipeline.registry import stage
from kunlun_nlp.pipeline.work import BuildContext, TagContext, WorkItem
from kunlun_nlp.vocabulary import ENTITY_LABELS


@stage("spacy_ner")
class SpacyNerStage:
    """A spaCy pipeline's entities of `labels` (after `label_map`) into the span layer `layer`."""

    def __init__(
        self,
        build: BuildContext,
        *,
        model: str,
        layer: str,
        labels: Sequence[str],
        label_map: str | None = None,
        exclude: Sequence[str] = (),
        batch_size: int = 32,
    ) -> None:
        unknown = [label for label in labels if label not in ENTITY_LABELS]
        if unknown:
            raise ModelMismatchError(
                f"entity step {layer!r} keeps labels {list(labels)}, but this code knows {list(ENTITY_LABELS)}"
            )
        self.nlp = load_spacy(build.resolve(model), exclude=exclude)
        self.layer = layer
        self.labels = frozenset(labels)
        self.mapping = LABEL_MAPS[label_map] if label_map else None
        self.batch_size = batch_size

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        docs = self.nlp.pipe([item.body for item in items], batch_size=self.batch_size)
        for item, doc in zip(items, docs):
            item.spans[self.layer] = spacy_spans(doc, self.labels, self.mapping)


def load_spacy(model: str | Path, *, exclude: Sequence[str] = ()):
    """spacy.load, with every component off while the pipeline loads and on again after.

    An entity ruler turns its phrase patterns into Docs when it loads by running the pipeline
    before it over each one: the domain NER ran over all 4,576 gazetteer names, 2.3 of the 2.9
    seconds its pipeline took to load. The patterns match on LOWER, which the tokenizer alone
    gives, so the Docs, and the entities found with them, are the same."""
    import spacy
    from spacy.util import get_model_meta, get_package_path, is_package

    meta = get_model_meta(get_package_path(str(model)) if is_package(str(model)) else Path(model))
    components = [name for name in meta.get("components", meta.get("pipeline", [])) if name not in exclude]
    nlp = spacy.load(model, exclude=list(exclude), disable=components)
    for name in components:
        if name not in meta.get("disabled", []):  # what the pipeline itself keeps off stays off
            nlp.enable_pipe(name)
    return nlp


@lru_cache(maxsize=8)
def _gazetteer(path: str) -> GazetteerLabels:
    return GazetteerLabels.load(Path(path))


class _GazetteerStage:
    """A step over one span layer with the version's gazetteer table (ner/gazetteer_labels.json)."""

    def __init__(self, build: BuildContext, *, layer: str, table: str) -> None:
        self.layer = layer
        self.table = _gazetteer(str(build.model_file(table)))


@stage("gazetteer_labels")
class GazetteerLabelsStage(_GazetteerStage):
    """Firm and brand names as the dictionary labels them, over whatever label the NER gave."""

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            item.spans[self.layer] = self.table.relabel(item.body, item.spans.get(self.layer, []))


@stage("goods_lookup")
class GoodsLookupStage(_GazetteerStage):
    """The dictionary's goods names (drugs among them) where the layer has nothing yet."""

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            item.spans[self.layer] = merge_spans(item.spans.get(self.layer, []), self.table.find_goods(item.body), frozenset())


@stage("merge_layers")
class MergeLayersStage:
    """One non-overlapping layer `into` from `base` and `domain`: the domain layer's spans of
    `domain_wins` labels first, then the base layer's, then the domain layer's others."""

    def __init__(self, build: BuildContext, *, base: str, domain: str, into: str, domain_wins: Sequence[str]) -> None:
        self.base, self.domain, self.into = base, domain, into
        self.domain_wins = frozenset(domain_wins)

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            item.spans[self.into] = merge_spans(item.spans.get(self.base, []), item.spans.get(self.domain, []), self.domain_wins)


class _LayerStage:
    """A step that rewrites one span layer."""

    def __init__(self, build: BuildContext, *, layer: str) -> None:
        self.layer = layer


@stage("quantities")
class QuantitiesStage(_LayerStage):
    """Amounts with units the models tag as bare numbers (or miss) fill the layer's gaps as QUANTITY."""

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            found = [(a, b, "QUANTITY") for a, b in find_quantity_spans(item.body)]
            item.spans[self.layer] = merge_spans(item.spans.get(self.layer, []), found, frozenset())


@stage("join_places")
class JoinPlacesStage(_LayerStage):
    """A place and the state or country after its comma become one LOC ("Duluth, Ga.")."""

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            item.spans[self.layer] = join_qualified_places(item.body, item.spans.get(self.layer, []))


@stage("entities")
class EntitiesStage(_LayerStage):
    """The layer's spans as the document's entities, normalised, with their details."""

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            item.entities = [make_entity(item.body, start, end, label) for start, end, label in item.spans.get(self.layer, [])]
