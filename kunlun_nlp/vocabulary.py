"""The project's one vocabulary: crime domains, their sub-types, entity labels and source grades.

Everything that names a label imports it from here: the models' manifests are checked against it
when a version loads (kunlun_nlp.models), the corpus and metrics use it, and search validates
filters with it. Order matters: it is the order of the trained model's outputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Domain(str, Enum):
    """The four crime domains of the Kunlun campaigns."""

    FOOD = "FOOD"
    MEDICINE = "MEDICINE"
    ENVIRONMENT = "ENVIRONMENT"
    INTELLECTUAL_PROPERTY = "INTELLECTUAL_PROPERTY"


DOMAIN_LABELS: tuple[str, ...] = tuple(d.value for d in Domain)

# Finer sub-types a report may carry within each domain (corpora/GUIDELINES.md).
SUBTYPES: dict[str, tuple[str, ...]] = {
    "FOOD": ("ADULTERATION", "COUNTERFEIT", "UNSAFE", "MEAT"),
    "MEDICINE": ("COUNTERFEIT", "UNAPPROVED", "ONLINE", "DEVICE"),
    "ENVIRONMENT": ("POLLUTION", "WASTE", "WILDLIFE", "RESOURCES"),
    "INTELLECTUAL_PROPERTY": ("TRADEMARK", "COPYRIGHT", "TRADE_SECRET"),
}
SUBTYPE_LABELS: tuple[str, ...] = tuple(f"{d}.{s}" for d, subs in SUBTYPES.items() for s in subs)

ENTITY_LABELS: tuple[str, ...] = ("ORG", "LOC", "PERSON", "PRODUCT", "SUBSTANCE", "QUANTITY", "MONEY", "DATE", "LAW")

# The Admiralty scale: source reliability A (completely reliable) ... F (cannot be judged),
# information credibility 1 (confirmed) ... 6 (cannot be judged).
RELIABILITY_GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")
CREDIBILITY_GRADES: tuple[int, ...] = (1, 2, 3, 4, 5, 6)

_CODE = re.compile(r"^([A-F])([1-6])$")


@dataclass(frozen=True)
class SourceGrade:
    """A grade on the Admiralty scale, e.g. B2."""

    reliability: str  # A completely reliable ... E unreliable, F cannot be judged
    credibility: int  # 1 confirmed ... 5 improbable, 6 cannot be judged

    def __post_init__(self) -> None:
        if self.reliability not in RELIABILITY_GRADES:
            raise ValueError(f"source reliability must be one of A-F, not {self.reliability!r}")
        if int(self.credibility) not in CREDIBILITY_GRADES:
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
