"""Triage stages: case cards from sentences and entities, and the priority with its reasons."""

from __future__ import annotations

from kunlun_nlp.pipeline.registry import SettinglessStage, stage
from kunlun_nlp.pipeline.work import BuildContext, TagContext, WorkItem
from kunlun_nlp.triage.cards import build_cards
from kunlun_nlp.triage.priority import load_priority_scorer
from kunlun_nlp.triage.triage import Prioritiser, Scored


@stage("case_cards")
class CaseCardsStage(SettinglessStage):
    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            document = item.document
            item.cases = build_cards(document.text, item.entities, document.published)


@stage("priority")
class PriorityStage:
    """Priority 0-100 with reasons, weighed by `config`; novelty is judged against the context's index."""

    def __init__(self, build: BuildContext, *, config: str = "priority.toml") -> None:
        self.prioritiser = Prioritiser(load_priority_scorer(build.resolve(config)))

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        reports = [
            Scored(item.document, [d.label for d in item.prediction.predicted] if item.prediction else [], item.entities, item.cases)
            for item in items
        ]
        # one novelty request for the batch (it was one per document)
        for item, priority in zip(items, self.prioritiser.priorities(reports, index=context.index, today=context.today)):
            item.priority = priority
