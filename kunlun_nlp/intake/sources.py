"""Per-source settings an operator keeps in the data folder (sources.toml), not in code:

    [sources."kings_ny"]                       # the source as intake names it (folder, site, feed)
    name = "Brooklyn District Attorney's Office"  # how analysts see and filter it
    grade = "B2"                               # its default Admiralty grade

A source without a name here takes the site name its pages carry ("... - Orange County District
Attorney"), else stays as given; a document's own grade always wins over the default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kunlun_nlp.vocabulary import SourceGrade

SOURCES_FILE = "sources.toml"


@dataclass(frozen=True)
class SourceSetting:
    name: str | None = None
    grade: SourceGrade | None = None


@dataclass(frozen=True)
class SourceSettings:
    by_source: dict[str, SourceSetting] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> SourceSettings:
        """The settings in `path`; none when there is no such file. A bad entry is an error that
        names it, not a silent default."""
        if not path.exists():
            return cls()
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("sources", {})
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        settings = {}
        for source, entry in table.items():
            try:
                grade = SourceGrade.parse(entry["grade"]) if entry.get("grade") else None
            except ValueError as exc:
                raise ValueError(f"{path}: source {source!r}: {exc}") from exc
            settings[source] = SourceSetting(name=entry.get("name"), grade=grade)
        return cls(settings)

    def name(self, source: str) -> str | None:
        setting = self.by_source.get(source)
        return setting.name if setting else None

    def grade(self, source: str) -> SourceGrade | None:
        """The default grade of a source, found by its intake name or its readable name."""
        for key, setting in self.by_source.items():
            if setting.grade is not None and source in (key, setting.name):
                return setting.grade
        return None
