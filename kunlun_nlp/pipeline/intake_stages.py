"""Stages that read raw intake as an analyst would: the site's furniture (learned from the
source's own documents), the source's readable name, the headline and the published date."""

from __future__ import annotations

from dataclasses import replace

from kunlun_nlp.intake.dateline import published_date
from kunlun_nlp.intake.furniture import lines_of, union_of_spans, profile_keys, recurring_spans, site_suffix
from kunlun_nlp.intake.headline import headline
from kunlun_nlp.intake.profiles import SourceProfiles
from kunlun_nlp.pipeline.registry import SettinglessStage, stage
from kunlun_nlp.pipeline.work import BuildContext, TagContext, WorkItem


@stage("furniture")
class FurnitureStage:
    """Lines that recur in at least `min_documents` documents of the same source are furniture.

    Each batch first teaches the source profiles (the data folder's, or the batch's own when
    there are none), then is judged by them, so a folder of one site's pages is read right from
    its first batch."""

    def __init__(self, build: BuildContext, *, min_documents: int = 3, max_line_chars: int = 400) -> None:
        self.min_documents = min_documents
        self.max_line_chars = max_line_chars

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        profiles = context.profiles or SourceProfiles()
        try:
            lines_of_items = [lines_of(item.document.text) for item in items]
            for item, lines in zip(items, lines_of_items):
                profiles.learn(item.document.source, item.document.id, profile_keys(lines))
            for item, lines in zip(items, lines_of_items):
                counts = profiles.counts(item.document.source, [line.key for line in lines])
                item.furniture = recurring_spans(
                    lines, counts, min_documents=self.min_documents, max_line_chars=self.max_line_chars
                )
                item.site_name = profiles.site_name(item.document.source, self.min_documents)
                if lines and item.site_name and site_suffix(lines[0].text) == item.site_name:
                    # the page's <title> line: the headline again, with the site's name after it
                    item.furniture = union_of_spans([(lines[0].start, lines[0].end), *item.furniture])
        finally:
            if context.profiles is None:
                profiles.close()


@stage("source_name")
class SourceNameStage(SettinglessStage):
    """The source as analysts know it: the operators' name for it (sources.toml), else the site
    name its pages carry, else as given."""

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            source = item.document.source
            name = context.sources.name(source) or item.site_name
            if name and name != source:
                item.document = replace(item.document, source=name)


@stage("headline")
class HeadlineStage(SettinglessStage):
    """The title is the report's headline; the file name only when nothing better exists."""

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            document = item.document
            title = headline(document.title, lines_of(document.text), item.furniture, item.site_name)
            if title != document.title:
                item.document = replace(document, title=title)


@stage("dateline")
class DatelineStage(SettinglessStage):
    """A document without a published date takes the one its text states, marked as read from it."""

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            if item.document.published is None:
                found = published_date(lines_of(item.document.text), item.furniture)
                if found is not None:
                    item.document = replace(item.document, published=found, published_via="text")
