"""Stages that prepare what the models read: the source's grade, the report without its site
furniture, and the text the classifier reads."""

from __future__ import annotations

from dataclasses import replace

from kunlun_nlp.pipeline.registry import SettinglessStage, stage
from kunlun_nlp.pipeline.work import BuildContext, TagContext, WorkItem
from kunlun_nlp.intake.furniture import masked, union_of_spans
from kunlun_nlp.report_text import classified_text, report_end
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
            if document.grade:
                grade = SourceGrade.parse(document.grade)
            else:
                grade = context.sources.grade(document.source) or default_grade(document.source, self.config)
            item.document = replace(document, grade=grade.code)


@stage("report_text")
class ReportTextStage(SettinglessStage):
    """What the models read: the text with its furniture blanked (the lines the furniture stage
    found, and the trailing editor and copyright lines), and the title + that body for the
    classifier. Blanked, not cut: offsets into it are offsets into the stored text."""

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            text = item.document.text
            end = report_end(text)
            trailing = [(end, len(text))] if text[end:].strip() else []
            item.furniture = union_of_spans(item.furniture + trailing)
            item.body = masked(text, item.furniture)
            item.classified = classified_text(item.document, body=item.body)
