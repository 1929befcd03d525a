"""Reports the models did not tag (a language they do not read): indexed for their words only, and
named in the ingest summary so that nobody takes their empty domains for "none of these"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kunlun_nlp.document import TaggedDocument

LISTED = 20  # named one by one in a summary; beyond that only counted


@dataclass(frozen=True)
class NotTaggedReport:
    id: str
    title: str
    source: str
    reason: str


@dataclass
class NotTaggedReports:
    """Collects the not-tagged reports of each ingested batch."""

    found: list[NotTaggedReport] = field(default_factory=list)

    def add(self, batch: Sequence[TaggedDocument]) -> Sequence[TaggedDocument]:
        """Note the batch's not-tagged reports; the batch is returned as it was."""
        self.found += [
            NotTaggedReport(t.id, t.document.title, t.document.source, t.not_tagged) for t in batch if t.not_tagged
        ]
        return batch

    def note(self, report: NotTaggedReport) -> None:
        """One report, once: two files of the same text are one document."""
        if all(known.id != report.id for known in self.found):
            self.found.append(report)

    def summary_lines(self, limit: int = LISTED) -> list[str]:
        """A count, then each report (the first `limit`) with its reason; nothing when there are none."""
        if not self.found:
            return []
        lines = [f"not tagged: {len(self.found)} document(s), indexed for full-text search only (no domains, entities or priority)"]
        for report in self.found[:limit]:
            where = f" ({report.source})" if report.source else ""
            lines.append(f"  {report.title or report.id}{where} id={report.id}: {report.reason}")
        if len(self.found) > limit:
            lines.append(f"  ... and {len(self.found) - limit} more: search with --language to list them")
        return lines
