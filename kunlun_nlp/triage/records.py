"""What triage adds to a tagged report, as typed records: case cards and a priority.

`to_record`/`from_record` give the stored JSON form every index backend keeps and the API
returns; its shape is stable (tools read it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass
class CardValue:
    """A value a card quotes from the text, with what it was parsed to (a place's coordinates, a
    sum's amount and currency, a quantity's value and unit); details may be empty."""

    text: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return {"text": self.text, **self.details}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CardValue:
        return cls(record["text"], {k: v for k, v in record.items() if k != "text"})


@dataclass
class Party:
    name: str
    role: str  # suspect, victim, agency, other


@dataclass
class CaseCard:
    """One enforcement event a report describes: what was done, to what, how much, where, who, when."""

    action: str
    products: list[str] = field(default_factory=list)
    substances: list[str] = field(default_factory=list)
    quantities: list[CardValue] = field(default_factory=list)
    money: list[CardValue] = field(default_factory=list)
    places: list[CardValue] = field(default_factory=list)
    organisations: list[Party] = field(default_factory=list)
    persons: list[Party] = field(default_factory=list)
    date: date | None = None
    date_text: str | None = None

    def to_record(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "products": list(self.products),
            "substances": list(self.substances),
            "quantities": [v.to_record() for v in self.quantities],
            "money": [v.to_record() for v in self.money],
            "places": [v.to_record() for v in self.places],
            "organisations": [{"name": p.name, "role": p.role} for p in self.organisations],
            "persons": [{"name": p.name, "role": p.role} for p in self.persons],
            "date": self.date.isoformat() if self.date else None,
            "date_text": self.date_text,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CaseCard:
        return cls(
            action=record["action"],
            products=list(record.get("products") or []),
            substances=list(record.get("substances") or []),
            quantities=[CardValue.from_record(v) for v in record.get("quantities") or []],
            money=[CardValue.from_record(v) for v in record.get("money") or []],
            places=[CardValue.from_record(v) for v in record.get("places") or []],
            organisations=[Party(p["name"], p["role"]) for p in record.get("organisations") or []],
            persons=[Party(p["name"], p["role"]) for p in record.get("persons") or []],
            date=date.fromisoformat(record["date"]) if record.get("date") else None,
            date_text=record.get("date_text"),
        )


@dataclass(frozen=True)
class Priority:
    """0-100, with the reasons a person reads and the points each factor gave."""

    score: int
    reasons: list[str]
    factors: dict[str, float] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        return {"score": self.score, "reasons": list(self.reasons), "factors": dict(self.factors)}

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> Priority | None:
        if not record:
            return None
        return cls(int(record["score"]), list(record.get("reasons") or []), dict(record.get("factors") or {}))
