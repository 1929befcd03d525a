"""Default source grades (the Admiralty scale's SourceGrade lives in kunlun_nlp.vocabulary)."""

from __future__ import annotations

from kunlun_nlp.vocabulary import SourceGrade


def default_grade(source: str, config: dict) -> SourceGrade:
    """The grade configured for `source` (priority.toml [grade.sources]), else the defaults."""
    grades = config["grade"]
    configured = grades.get("sources", {}).get(source)
    if configured:
        return SourceGrade.parse(configured)
    return SourceGrade(grades["default_reliability"], int(grades["default_credibility"]))
