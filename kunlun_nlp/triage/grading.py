"""Source grading on the Admiralty scale: source reliability A-F, information credibility 1-6."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CODE = re.compile(r"^([A-F])([1-6])$")


@dataclass(frozen=True)
class SourceGrade:
    reliability: str  # A completely reliable ... E unreliable, F cannot be judged
    credibility: int  # 1 confirmed ... 5 improbable, 6 cannot be judged

    def __post_init__(self) -> None:
        if self.reliability not in "ABCDEF" or len(self.reliability) != 1:
            raise ValueError(f"source reliability must be one of A-F, not {self.reliability!r}")
        if not 1 <= int(self.credibility) <= 6:
            raise ValueError(f"information credibility must be 1-6, not {self.credibility!r}")

    @property
    def code(self) -> str:
        return f"{self.reliability}{self.credibility}"

    @classmethod
    def parse(cls, code: str) -> SourceGrade:
        match = _CODE.match(code.strip().upper())
        if not match:
            raise ValueError(f"grade {code!r} must be a letter A-F and a digit 1-6, e.g. B2")
        return cls(match.group(1), int(match.group(2)))


def default_grade(source: str, config: dict) -> SourceGrade:
    """The grade configured for `source` (priority.toml [grade.sources]), else the defaults."""
    grades = config["grade"]
    configured = grades.get("sources", {}).get(source)
    if configured:
        return SourceGrade.parse(configured)
    return SourceGrade(grades["default_reliability"], int(grades["default_credibility"]))
