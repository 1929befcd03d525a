"""Stages that prepare what the models read: the source's grade, the report without its site
furniture, and the text the classifier reads."""

from __future__ import annotations

from dataclasses import replace

from kunlun_nlp.pipeline.registry import stage
from kunlun_nlp.pipeline.work import BuildContext, TagContext, WorkItem
from kunlun_nlp.report_text import classified_text, report_body
from kunlun_nlp.triage.grading import default_grade
from kunlun_nlp.vocabulary import SourceGrade
from kunlun_nlp.triage.priority import load_priority_scorer


@stage("source_grade")
class SourceGradeStage:
    """The document's grade: as given on intake, else the default for its source (priority.toml)."""

    def __init__(self, build: BuildContext, *, config: str = "priority.toml") -> None:
        self.config = load_priority_scorer(build.resolve(config)).config

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            document = item.document
            grade = SourceGrade.parse(document.grade) if document.grade else default_grade(document.source, self.config)
            item.document = replace(document, grade=grade.code)


@stage("report_text")
class ReportTextStage:
    """The report's body (trailing furniture cut) and the title + body the classifier reads."""

    def __init__(self, build: BuildContext) -> None:
        pass

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            item.body = report_body(item.document.text)
            item.classified = classified_text(item.document)
