"""Priority 0-100 with the reasons that made it, weighed by kunlun_nlp/triage/priority.toml."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from datetime import date
from pathlib import Path
from typing import Any

from kunlun_nlp.document import Entity
from kunlun_nlp.numbers import find_number, non_count_spans
from kunlun_nlp.vocabulary import SourceGrade
from kunlun_nlp.triage.records import Priority

DEFAULT_CONFIG = Path(__file__).with_name("priority.toml")

# A count of people as a reader takes it: digits standing alone ("23", "1,200"; not the 21 of
# "COVID-21" or "2/21"), or a number word ("twenty-five", "a", "dozens"), with a scale word;
# never "no one" or "not a single".
_NUM = (
    r"(?<!\bno\s)(?<!\bnot\s)(?P<n>(?:(?<![\w.,/#$€£¥:'’-])(?:\d{1,3}(?:,\d{3})+|\d+)(?=\s)|"
    r"\b(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:one|two|three|four|"
    r"five|six|seven|eight|nine))?|dozens?|scores|hundreds)\b)(?:\s+(?:hundred|thousand|million)\b)?)"
)
# What follows a number that is not people: "30 years", "eight times", "18.5 kilograms", "3 counts".
_NOT_PEOPLE = (
    r"(?!\s+(?:years?|yrs?|months?|weeks?|days?|hours?|hrs?|minutes?|mins?|seconds?|decades?|times|counts?|charges?|"
    r"felon(?:y|ies)|misdemeanou?rs?|percent|per|cents?|dollars?|euros?|pounds?|lbs?|kilo(?:gram)?s?|kgs?|grams?|g|mg|"
    r"milligrams?|ounces?|oz|tons?|tonnes?|lit(?:re|er)s?|gallons?|miles?|mph|km|feet|foot|ft|inch(?:es)?|met(?:re|er)s?|"
    r"blocks?|pills?|tablets?|capsules?|doses?|rounds?|shots?|bullets?|a\.?m\b|p\.?m\b|o['’]clock|points?|acres?|"
    r"hectares?|square)\b)"
)
# Words between the number and the verb stay in its clause: "eight times and pronounced dead" and
# "was 17 at the time he killed" count neither the times nor the years.
_LINK = (
    r"(?:\s+(?!(?:and|or|but|when|while|after|before|where|which|that|because|since|until|than|if|then|for|to|"
    r"during|following|he|she|they|we|you|it|i)\b)[\w'’-]+){0,4}?\s+(?:have\s+|has\s+|had\s+|were\s+|was\s+|are\s+|is\s+)?"
    r"(?:been\s+|later\s+|reportedly\s+)?"
)
# "dead" after its noun ("left two men dead"), not before one ("a dead cat", "a dead-end street").
_DEATH_WORDS = (
    r"(?:died|dead(?!-|\s+(?!(?:and|or|in|at|on|after|from|by|when|while|inside|outside|of|with|following|near|since)\b)"
    r"(?-i:[a-z]))|killed|deaths|fatalities|lost (?:their|his|her) lives)"
)
# "admitted", "treated" and "suffered" are harm only with what says so: a defendant "admitted" guilt.
_ILLNESS_WORDS = (
    r"(?:fell ill|fallen ill|taken ill|became ill|sickened|hospitali[sz]ed|poisoned|"
    r"admitted\s+(?:to|into|at)\s+(?:[\w'’-]+\s+){0,3}?(?:hospitals?|clinics?|intensive care|icu|emergency)|"
    r"treated\s+(?:at|in|for)|"
    r"suffered\s+(?:from\s+)?(?:[\w'’-]+\s+){0,2}?(?:symptoms|illness(?:es)?|poisoning|injur(?:y|ies)|burns|reactions?|"
    r"side effects|complications|damage|overdoses?|seizures?)|"
    r"reported (?:vomiting|diarrhoea|diarrhea|symptoms|illness|palpitations)|adverse (?:reactions?|events?)|"
    r"complications|cases of (?:poisoning|illness))"
)
# The count after the verb: "the scandal killed at least six infants and sickened 300,000 children".
_AFTER_VERB = r"\s+(?:at least|nearly|almost|about|around|some|more than|over|up to|as many as)?\s*" + _NUM + _NOT_PEOPLE
# "fatal" only right after the number ("1,096 fatal overdoses"): "two men in the fatal shooting" lived,
# and "a fatal dose" is a quantity.
_DEATHS = (
    re.compile(_NUM + _NOT_PEOPLE + r"(?:" + _LINK + _DEATH_WORDS + r"|\s+fatal(?!\s+doses?\b))\b", re.I),
    re.compile(r"\bkilled" + _AFTER_VERB, re.I),
)
_ILLNESS = (
    re.compile(_NUM + _NOT_PEOPLE + _LINK + _ILLNESS_WORDS + r"\b", re.I),
    re.compile(r"\b(?:sickened|poisoned|hospitali[sz]ed)" + _AFTER_VERB, re.I),
)
# Above this a "count" is no count of people harmed (the numbers that name something else are skipped).
_MAX_COUNT = 10_000_000
_ANY_DEATH = re.compile(
    r"\b(?:died|death toll|killed|(?:pronounced|found|shot) dead|fatal (?:poisonings?|overdoses?|crash|collision|shooting|stabbing)|"
    r"fatally (?:shot|stabbed|poisoned|injured|struck))\b",
    re.I,
)
_ANY_ILLNESS = re.compile(r"\b(?:fell ill|hospitali[sz]ed|poisoning|admitted to hospital|treated in hospital|sickened|adverse reactions?)\b", re.I)
# "No one was killed", "nobody was hospitalised": a harm word denied earlier in its clause.
_DENIAL = re.compile(r"\b(?:no[ -]one|nobody|none|no (?:people|persons?|deaths?|fatalities|injuries|illness(?:es)?)|not|never)\b[^.;:!?]*$", re.I)
_WORD_COUNTS = {"a": 1, "an": 1, "dozen": 12, "dozens": 24, "scores": 40, "hundreds": 200}
_SUBSTANCE_LABELS = frozenset({"SUBSTANCE", "PRODUCT"})
# How analysts name the domains in a reason: "food-safety report".
_DOMAIN_NAMES = {
    "FOOD": "food-safety",
    "MEDICINE": "medicine",
    "ENVIRONMENT": "environmental crime",
    "INTELLECTUAL_PROPERTY": "intellectual-property",
}


class PriorityScorer:
    def __init__(self, config_path: str | Path = DEFAULT_CONFIG) -> None:
        self.config: dict[str, Any] = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
        substances = self.config["dangerous_substances"]
        self._substance_names = {n.lower(): n for n in substances["names"]}
        self._homonyms = {n.lower() for n in substances.get("homonyms", [])}
        plain = [n for n in substances["names"] if n.lower() not in self._homonyms]
        self._dangerous = re.compile(rf"\b{_alternation(plain)}\b", re.I)
        # A homonym counts where the words around it make it the substance: "levels of lead", "lead paint".
        homonyms = _alternation([n for n in substances["names"] if n.lower() in self._homonyms])
        before = _alternation(substances.get("substance_before", []), group="before")
        after = _alternation(substances.get("substance_after", []), group="after")
        self._homonym = re.compile(rf"(?:\b{before}\s+)?\b{homonyms}(?:[\s-]+{after})?\b", re.I)
        # An entity the NER took for the substance is still the everyday word in "Can Lead to Jail
        # Time" or "Lead Prosecutor": the words around it say so.
        self._everyday_before = re.compile(rf"\b{_alternation(substances.get('everyday_before', []), group='word')}\s+$", re.I)
        self._everyday_after = re.compile(rf"[\s-]+{_alternation(substances.get('everyday_after', []), group='word')}\b", re.I)

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
            reasons.append(_domain_reason(domains))  # the base points have their reason too

        deaths, illnesses = count_harm(text)
        if deaths or illnesses:
            factors["harm"] = c["harm"]["any_harm"]
        if deaths:
            factors["deaths"] = min(c["harm"]["max_deaths"], deaths * c["harm"]["per_death"])
            reasons.append(f"{deaths:,} death{'s' if deaths > 1 else ''} reported")
        if illnesses:
            factors["illnesses"] = min(c["harm"]["max_illnesses"], illnesses * c["harm"]["per_illness"])
            reasons.append(f"{illnesses:,} ill or hospitalised")

        dangerous = self.dangerous_substances(text, entities)
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

    def dangerous_substances(self, text: str, entities: list[Entity]) -> list[str]:
        """The dangerous substances `text` mentions as substances, as priority.toml names them: any
        mention of an unambiguous name; a homonym ("lead", "mercury") only as a SUBSTANCE or PRODUCT
        entity of that name or in words that make it one ("lead paint"), never "lead detective"."""
        found = {m.group("name").lower() for m in self._dangerous.finditer(text)}
        found |= {m.group("name").lower() for m in self._homonym.finditer(text) if m.group("before") or m.group("after")}
        for entity in entities:
            name = _singular(entity.text, self._substance_names) if entity.label in _SUBSTANCE_LABELS else ""
            if name in self._substance_names and (name not in self._homonyms or not self._everyday_word(text, entity)):
                found.add(name)
        return sorted((self._substance_names[name] for name in found if name in self._substance_names), key=str.lower)

    def _everyday_word(self, text: str, entity: Entity) -> bool:
        """Whether the words around a homonym's mention make it the everyday word ("lead to")."""
        return bool(
            self._everyday_before.search(text, max(0, entity.start - 40), entity.start)
            or self._everyday_after.match(text, entity.end)
        )

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
    deaths = _largest_count(_DEATHS, text) or int(_reports(_ANY_DEATH, text))
    illnesses = _largest_count(_ILLNESS, text) or int(_reports(_ANY_ILLNESS, text))
    return deaths, illnesses


def _reports(pattern: re.Pattern, text: str) -> bool:
    """Whether `text` reports the harm `pattern` names, and does not deny it ("no one was killed")."""
    return any(not _DENIAL.search(text, max(0, m.start() - 40), m.start()) for m in pattern.finditer(text))


def _domain_reason(domains: list[str]) -> str:
    """"food-safety report"; "medicine and intellectual-property report (2 domains at once)"."""
    names = [_DOMAIN_NAMES.get(d, d.lower().replace("_", " ")) for d in domains]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{joined} report" + (f" ({len(domains)} domains at once)" if len(domains) > 1 else "")


def _alternation(words: list[str], *, group: str = "name") -> str:
    """A pattern for any of `words` (longest first) as group `group`; names may be plural
    ("PCBs", "dioxins"). Matches nothing when there are none."""
    choices = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True)) or "(?!)"
    plural = "(?:s|es)?" if group == "name" else ""
    return rf"(?P<{group}>{choices}){plural}"


def _singular(mention: str, names: dict[str, str]) -> str:
    """The name a mention is written for: "lead" for "Lead", "pcb" for "PCBs"."""
    key = " ".join(mention.lower().split())
    for plural in ("es", "s"):
        if key not in names and key.endswith(plural) and key[: -len(plural)] in names:
            return key[: -len(plural)]
    return key


def _largest_count(patterns: tuple[re.Pattern, ...], text: str) -> int:
    # numbers a reader does not take for counts: dates, years, phone and case numbers, ages...
    not_counts = non_count_spans(text)
    best = 0
    for match in (m for pattern in patterns for m in pattern.finditer(text)):
        start, end = match.span("n")
        if any(span.start < end and start < span.end for span in not_counts):
            continue
        word = match.group("n").lower()
        if word in _WORD_COUNTS:
            value = _WORD_COUNTS[word]
        else:
            number = find_number(word)
            value = int(number.value) if number is not None and number.value is not None else 0
        if value < _MAX_COUNT and not _is_year(match.group("n")):
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
