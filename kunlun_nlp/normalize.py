"""Canonical forms of entity mentions, so one firm or place is counted and filtered once.

Firms: legal forms ("Co., Ltd.", "Pvt. Ltd.", "Sdn Bhd", "S.A. de C.V.", "GmbH & Co. KG", a "PT"
prefix...), a leading "the", possessives, all-caps names (to title case, short acronyms kept) and
punctuation are folded. Other labels only get whitespace and quotes tidied.
`entity_key` is the case-insensitive key that filters and facets compare on.
`entity_details` parses places (kunlun_nlp.places), sums (kunlun_nlp.amounts) and quantities.
"""

from __future__ import annotations

import re

from kunlun_nlp.amounts import parse_money, parse_quantity
from kunlun_nlp.places import resolve_place

_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
_LEADING_THE = re.compile(r"^(?:the)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?:'s|')$")
# Legal forms, as keys (casefolded, dots, commas and parentheses off): one token each, or a
# run of tokens; stripped from the end of a firm's name, repeatedly ("Co., Ltd.", "GmbH & Co. KG").
_LEGAL_TOKENS = frozenset(
    "co coltd ltd limited inc incorporated corp corporation llc plc gmbh ag kg kgaa mbh sa sas "
    "sarl srl spa sl bv nv pvt private pte pty llp lp sdn bhd berhad tbk persero ltda eireli "
    "oy ab asa a/s aps jsc pjsc ojsc cjsc ooo zao oao kk & pcl cia".split()
)
_LEGAL_RUNS = tuple(
    tuple(run.split())
    for run in (
        "sa de cv", "sab de cv", "s de rl de cv", "s de rl", "sa de c v", "public company limited",
        "company limited", "company ltd", "joint stock company", "limited liability company",
        "kabushiki kaisha", "group co", "co ltd", "company inc", "y cia",
    )
)
# Prefixes of Indonesian and Indian firm names ("PT Kimia Farma", "M/s Sharma Traders").
_LEGAL_PREFIXES = frozenset({"pt", "cv", "m/s", "messrs"})
_TOKEN = re.compile(r"[^\s,]+")
_ALL_CAPS_WORD = re.compile(r"[^\W\d_]*[A-Z][^\W\d_]*")
# Short words that stay lower case when an all-caps name is title-cased.
_MINOR_WORDS = frozenset("of and the for in on at to by de la del des du di da do e y et und van von".split())
# Acronyms kept in capitals in an all-caps name even when longer than three letters.
_ACRONYMS = frozenset(
    "NAFDAC BPOM UNODC NMPA SAMR CDSCO MHRA ANVISA COFEPRIS NDLEA KEBS DRAP INTERPOL EUROPOL "
    "OLAF FSSAI USFDA USDA CITES TRAFFIC WCO WHO NEMA NESREA DGFT DRI NCB "
    "FSANZ ASEAN SADC ECOWAS SENASA INVIMA DIGEMID ARCSA ANMAT CSIR".split()
)

def tidy(text: str) -> str:
    return _SPACES.sub(" ", text.translate(_QUOTES)).strip().strip('"').strip()


_NAMES = ("ORG", "LOC", "PERSON", "PRODUCT", "LAW")


def normalize_entity(label: str, text: str) -> str:
    value = tidy(text)
    if label in _NAMES:
        value = tidy(_LEADING_THE.sub("", _POSSESSIVE.sub("", value)))
    if label == "ORG":
        value = _firm_name(value)
    return value


def _token_key(token: str) -> str:
    return token.casefold().replace(".", "").strip("()")


def _firm_name(value: str) -> str:
    """A firm's name without its legal form, with an all-caps name in title case."""
    original = value
    tokens = list(_TOKEN.finditer(value))
    keys = [_token_key(t.group()) for t in tokens]
    # Legal prefixes: "PT Indofarma Tbk", "M/s. Sharma Traders".
    first = 0
    while len(tokens) - first > 1 and keys[first] in _LEGAL_PREFIXES:
        first += 1
    last = len(tokens)
    changed = True
    while changed and last - first > 1:
        changed = False
        for run in _LEGAL_RUNS:
            if last - first > len(run) and tuple(keys[last - len(run) : last]) == run:
                last -= len(run)
                changed = True
                break
        else:
            if keys[last - 1] in _LEGAL_TOKENS or not keys[last - 1].strip("-&.,"):
                last -= 1
                changed = True
    if first or last < len(tokens):
        value = value[tokens[first].start() : tokens[last - 1].end()]
    value = value.strip(" ,.-&(")
    if value.count("(") > value.count(")"):
        value = value[: value.rfind("(")].strip(" ,.-")
    return _title_if_all_caps(_SPACES.sub(" ", value) or original)


def _title_if_all_caps(value: str) -> str:
    """"SHENZHEN HUAXIN TRADING" → "Shenzhen Huaxin Trading"; "NAFDAC", "US FDA" stay."""
    letters = [c for c in value if c.isalpha()]
    words = value.split()
    if not letters or any(c.islower() for c in letters) or len(words) < 2:
        return value
    if not any(len(w) > 3 and w.strip(".,()&-'") not in _ACRONYMS for w in words):
        return value  # "US FDA", "NCB DRI": acronyms all
    out = []
    for i, word in enumerate(words):
        bare = word.strip(".,()&-'\"")
        if bare in _ACRONYMS or (len(bare) <= 3 and bare.casefold() not in _MINOR_WORDS):
            out.append(word)
        elif bare.casefold() in _MINOR_WORDS and i > 0:
            out.append(word.lower())
        else:
            out.append(_ALL_CAPS_WORD.sub(lambda m: m.group().capitalize(), word))
    return " ".join(out)


def entity_key(text: str) -> str:
    return tidy(text).casefold()


def entity_details(label: str, text: str) -> dict | None:
    """Parsed values, JSON-able, where the label has them; None otherwise or when unparsed.

    LOC: {"name", "kind": "country"|"admin1"|"city", "country", "country_code", "admin1", "city",
    "lat", "lon"} (kunlun_nlp.places). MONEY: {"amount", "currency"} (ISO 4217 or None).
    QUANTITY: {"value", "unit", "base_value", "base_unit": "kg"|"l"|"m3"|"m2"|"item"|None}
    (kunlun_nlp.amounts).
    """
    if label == "LOC":
        return resolve_place(normalize_entity(label, text))
    if label == "MONEY":
        return parse_money(tidy(text))
    if label == "QUANTITY":
        return parse_quantity(tidy(text))
    return None
