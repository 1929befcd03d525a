"""Priority 0-100 with the reasons that made it, weighed by kunlun_nlp/triage/priority.toml."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from datetime import date
from pathlib import Path
from typing import Any

from kunlun_nlp.document import Entity
from kunlun_nlp.numbers import find_number
from kunlun_nlp.vocabulary import SourceGrade
from kunlun_nlp.triage.records import Priority

DEFAULT_CONFIG = Path(__file__).with_name("priority.toml")

_NUM = (
    r"(?P<n>\d[\d,.]*|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|dozens?|scores|hundreds)"
)
_LINK = r"(?:\s+[\w'’-]+){0,4}?\s+(?:have\s+|has\s+|had\s+|were\s+|was\s+|are\s+|is\s+)?(?:been\s+|later\s+|reportedly\s+)?"
_DEATH_WORDS = r"(?:died|dead|killed|deaths|fatalities|lost (?:their|his|her) lives|fatal)"
_ILLNESS_WORDS = (
    r"(?:fell ill|fallen ill|taken ill|became ill|sickened|hospitali[sz]ed|poisoned|admitted|treated|"
    r"suffered|reported (?:vomiting|diarrhoea|diarrhea|symptoms|illness|palpitations)|adverse (?:reactions?|events?)|"
    r"complications|cases of (?:poisoning|illness))"
)
_DEATHS = re.compile(r"\b" + _NUM + _LINK + _DEATH_WORDS + r"\b", re.I)
_ILLNESS = re.compile(r"\b" + _NUM + _LINK + _ILLNESS_WORDS + r"\b", re.I)
_ANY_DEATH = re.compile(r"\b(?:died|death toll|killed|fatal poisoning)\b", re.I)
_ANY_ILLNESS = re.compile(r"\b(?:fell ill|hospitali[sz]ed|poisoning|admitted to hospital|treated in hospital|sickened|adverse reactions?)\b", re.I)
_WORD_COUNTS = {"a": 1, "an": 1, "dozen": 12, "dozens": 24, "scores": 40, "hundreds": 200}


class PriorityScorer:
    def __init__(self, config_path: str | Path = DEFAULT_CONFIG) -> None:
        self.config: dict[str, Any] = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
        names = self.config["dangerous_substances"]["names"]
        self._dangerous = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b", re.I)

    def score(
        self,
        *,
        text: str,
        domains: list[str],
        entities: list[Entity],
        published: date | None,
        event_dates: list[date],
        today: date,
        grade: SourceGrade,
        new_firms: list[str] = (),
        new_products: list[str] = (),
    ) -> Priority:
        c = self.config
        factors: dict[str, float] = {}
        reasons: list[str] = []

        if domains:
            factors["domains"] = c["domains"]["in_domain"] + c["domains"]["each_extra_domain"] * (len(domains) - 1)
            if len(domains) > 1:
                reasons.append(f"{len(domains)} domains at once ({', '.join(d.lower().replace('_', ' ') for d in domains)})")

        deaths, illnesses = count_harm(text)
        if deaths or illnesses:
            factors["harm"] = c["harm"]["any_harm"]
        if deaths:
            factors["deaths"] = min(c["harm"]["max_deaths"], deaths * c["harm"]["per_death"])
            reasons.append(f"{deaths} death{'s' if deaths > 1 else ''} reported")
        if illnesses:
            factors["illnesses"] = min(c["harm"]["max_illnesses"], illnesses * c["harm"]["per_illness"])
            reasons.append(f"{illnesses} ill or hospitalised")

        dangerous = sorted({m.group(1).lower() for m in self._dangerous.finditer(text)})
        if dangerous:
            factors["dangerous_substances"] = c["dangerous_substances"]["points"]
            reasons.append("dangerous substance: " + ", ".join(dangerous[:3]))

        kilograms = max((_kilograms(e.details) for e in entities if e.label == "QUANTITY" and e.details), default=0.0)
        points = _band(kilograms, c["scale"]["quantity_kg"])
        if points:
            factors["quantity"] = points
            reasons.append(f"{_format_mass(kilograms)} seized or involved")
        usd = max((self._usd(e.details) for e in entities if e.label == "MONEY" and e.details), default=0.0)
        points = _band(usd, c["scale"]["money_usd"])
        if points:
            factors["money"] = points
            reasons.append(f"about US${_format_amount(usd)} involved")

        when = max([d for d in event_dates if d <= today] or ([published] if published else []), default=None)
        if when is not None:
            age = (today - when).days
            for days, points in c["recency"]["bands"]:
                if age <= days:
                    factors["recency"] = points
                    reasons.append("within the last week" if days <= 7 else f"within the last {days} days")
                    break

        novelty = 0.0
        if new_firms:
            novelty += c["novelty"]["new_firm"]
            reasons.append(f"firm new to the index: {new_firms[0]}" + (f" (+{len(new_firms) - 1})" if len(new_firms) > 1 else ""))
        if new_products:
            novelty += c["novelty"]["new_product"]
            reasons.append(f"product new to the index: {new_products[0]}")
        if novelty:
            factors["novelty"] = min(novelty, c["novelty"]["max"])

        grade_points = c["grade"]["reliability"].get(grade.reliability, 0) + c["grade"]["credibility"].get(str(grade.credibility), 0)
        if grade_points:
            factors["grade"] = grade_points
            reasons.append(f"source graded {grade.code}")

        total = sum(factors.values())
        if not domains:
            total = min(total, c["domains"]["none_cap"])
            reasons.insert(0, "none of the four domains")
        return Priority(score=int(round(max(0.0, min(100.0, total)))), reasons=reasons, factors=factors)

    def _usd(self, details: dict) -> float:
        rate = self.config["scale"]["usd_per_unit"].get(details.get("currency") or "")
        return float(details["amount"]) * rate if rate and details.get("amount") is not None else 0.0


@lru_cache(maxsize=4)
def load_priority_scorer(config: str | Path = DEFAULT_CONFIG.name) -> PriorityScorer:
    """The scorer of `config`: a path, or a name relative to this package (its default)."""
    path = Path(config)
    return PriorityScorer(path if path.is_absolute() else DEFAULT_CONFIG.parent / path)


def count_harm(text: str) -> tuple[int, int]:
    """(deaths, illnesses) the text reports: the largest count of each it states, or 1 where it
    reports the harm without a number ("a man died", "fell ill after eating")."""
    deaths = _largest_count(_DEATHS, text) or int(bool(_ANY_DEATH.search(text)))
    illnesses = _largest_count(_ILLNESS, text) or int(bool(_ANY_ILLNESS.search(text)))
    return deaths, illnesses


def _largest_count(pattern: re.Pattern, text: str) -> int:
    best = 0
    for match in pattern.finditer(text):
        word = match.group("n").lower()
        if word in _WORD_COUNTS:
            value = _WORD_COUNTS[word]
        else:
            number = find_number(word)
            value = int(number.value) if number is not None and number.value is not None else 0
        if value < 100_000 and not _is_year(match.group("n")):
            best = max(best, value)
    return best


def _is_year(token: str) -> bool:
    return token.isdigit() and len(token) == 4 and token.startswith(("19", "20"))


def _kilograms(details: dict) -> float:
    if details.get("base_unit") in ("kg", "l") and details.get("base_value") is not None:
        return float(details["base_value"])
    return 0.0


def _band(value: float, bands: list[list[float]]) -> float:
    points = 0.0
    for threshold, band_points in bands:
        if value >= threshold:
            points = band_points
    return points


def _format_mass(kilograms: float) -> str:
    if kilograms < 1000:
        return f"{kilograms:,.0f} kg"
    tonnes = kilograms / 1000
    return f"{tonnes:,.0f} t" if tonnes >= 100 else f"{tonnes:.3g} t"


def _format_amount(usd: float) -> str:
    if usd >= 1e6:
        return f"{usd / 1e6:,.3g} million"
    return f"{usd:,.0f}"
