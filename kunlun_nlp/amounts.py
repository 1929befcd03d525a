"""Sums of money and quantities → numbers with an ISO currency or a normalised unit.

    parse_money("RMB 3.5 million")  -> {"amount": 3500000.0, "currency": "CNY"}
    parse_money("Rs 2 lakh")        -> {"amount": 200000.0, "currency": "INR"}
    parse_quantity("12 tonnes")     -> {"value": 12.0, "unit": "t", "base_value": 12000.0, "base_unit": "kg"}
    parse_quantity("3,400 boxes")   -> {"value": 3400.0, "unit": "box", "base_value": 3400.0, "base_unit": "item"}

An unknown currency gives "currency": None with the amount; an unknown unit gives the unit as
written with base_value and base_unit None. No number at all gives None.
"""

from __future__ import annotations

import re

from kunlun_nlp.numbers import find_number

__all__ = ["parse_money", "parse_quantity"]

# -- money ---------------------------------------------------------------------------------------

# (regex, ISO code), most specific first: "HK$" before "$", "R$" before "R", "Rs" before "R".
# Ambiguous ones are a best guess for this project's reports: "$" and "dollars" are US dollars,
# "¥" is the Chinese yuan (unless "yen" is written), "Rs"/"rupees" are Indian rupees,
# "P" before a number is the Philippine peso, "N" is the Nigerian naira, "R" the rand,
# "CFA francs" the West African franc; "pesos", "francs", "shillings" alone are too vague.
_CURRENCIES: list[tuple[str, str | None]] = [
    (r"hong\s*kong\s+dollars?|hk\s*\$|hkd", "HKD"),
    (r"singapore\s+dollars?|s\s*\$|sgd", "SGD"),
    (r"australian\s+dollars?|a\s*\$|aud", "AUD"),
    (r"canadian\s+dollars?|c\s*\$|cad", "CAD"),
    (r"new\s+zealand\s+dollars?|nz\s*\$|nzd", "NZD"),
    (r"(?:new\s+)?taiwan(?:ese)?\s+dollars?|nt\s*\$|twd", "TWD"),
    (r"zimbabwe(?:an)?\s+dollars?|zwl|zig", "ZWL"),
    (r"namibian\s+dollars?|nad", "NAD"),
    (r"jamaican\s+dollars?|jmd|j\s*\$", "JMD"),
    (r"brazilian\s+reais|brazilian\s+real|reais|r\s*\$|brl", "BRL"),
    (r"mexican\s+pesos?|mex\s*\$|mx\s*\$|mxn", "MXN"),
    (r"philippine\s+pesos?|php|₱", "PHP"),
    (r"colombian\s+pesos?|cop", "COP"),
    (r"argentin(?:e|ian)\s+pesos?|ars", "ARS"),
    (r"chilean\s+pesos?|clp", "CLP"),
    (r"us\s*\$|u\.\s*s\.\s*\$|usd|u\.?s\.?\s+dollars?|american\s+dollars?|\$|dollars?|bucks", "USD"),
    (r"rmb|cny|yuan|renminbi|cn\s*¥|元", "CNY"),
    (r"jp\s*¥|jpy|yen|円", "JPY"),
    (r"¥|￥", "CNY"),
    (r"pakistani\s+rupees?|pkr", "PKR"),
    (r"sri\s+lankan\s+rupees?|lkr|slrs", "LKR"),
    (r"nepal(?:i|ese)\s+rupees?|npr", "NPR"),
    (r"indonesian\s+rupiah|rupiah|idr|rp\.?", "IDR"),
    (r"indian\s+rupees?|inr|₹|rs\.?|rupees?", "INR"),
    (r"ringgit|myr|rm", "MYR"),
    (r"euros?|eur|€", "EUR"),
    (r"egyptian\s+pounds?|egp|e\s*£|le", "EGP"),
    (r"(?:british\s+)?pounds?\s+sterling|sterling|british\s+pounds?|gbp|£|stg|pounds?", "GBP"),
    (r"naira|ngn|₦", "NGN"),
    (r"kenyan\s+shillings?|kes|ksh|kshs", "KES"),
    (r"tanzanian\s+shillings?|tzs|tsh|tshs", "TZS"),
    (r"ugandan\s+shillings?|ugx|ush|ushs", "UGX"),
    (r"south\s+african\s+rand|rand|zar", "ZAR"),
    (r"ghana(?:ian)?\s+cedis?|cedis?|ghs|gh\s*₵|gh¢|₵", "GHS"),
    (r"west\s+african\s+cfa\s+francs?|cfa\s+francs?|f\s*cfa|fcfa|xof", "XOF"),
    (r"central\s+african\s+cfa\s+francs?|xaf", "XAF"),
    (r"swiss\s+francs?|chf", "CHF"),
    (r"birr|etb", "ETB"),
    (r"kwacha|zmw", "ZMW"),
    (r"won|krw|₩", "KRW"),
    (r"baht|thb|฿", "THB"),
    (r"dong|vnd|₫", "VND"),
    (r"taka|bdt|tk\.?|৳", "BDT"),
    (r"kyats?|mmk", "MMK"),
    (r"riels?|khr", "KHR"),
    (r"(?:uae\s+)?dirhams?|aed|dhs?", "AED"),
    (r"moroccan\s+dirhams?|mad", "MAD"),
    (r"saudi\s+riyals?|riyals?|sar", "SAR"),
    (r"(?:turkish\s+)?liras?|try|₺", "TRY"),
    (r"roubles?|rubles?|rub|₽", "RUB"),
    (r"hryvnias?|uah|₴", "UAH"),
    (r"z[łl]oty|pln", "PLN"),
    (r"soles|pen", "PEN"),
    (r"pesos?|francs?|shillings?", None),
]
# Reordered so that a longer name is tried before a currency symbol that it contains:
# "Egyptian pounds" (EGP) before "pounds" (GBP), "Moroccan dirhams" before "dirhams".
_CURRENCIES.sort(key=lambda item: 0 if re.match(r"[a-z]+\\s\+", item[0]) else 1)
_CURRENCY = [(re.compile(rf"(?<![^\W\d_])(?:{pattern})(?![^\W\d_])", re.IGNORECASE), code) for pattern, code in _CURRENCIES]
# Single letters that are a currency only right before the number: "N4.2bn", "R 20 000", "P 2 million".
_LETTER_PREFIX = re.compile(r"(?<![^\W\d_])([NRP])\s?(?=\d)")
_LETTER_CODES = {"N": "NGN", "R": "ZAR", "P": "PHP"}

# Currencies whose amounts are written with dots between thousands ("Rp 150.000") and whose
# "mil" is a thousand, not a million ("R$ 5 mil").
_DOT_THOUSANDS = {"IDR", "VND", "BRL", "ARS", "COP", "CLP", "EUR", "TRY"}
_MIL_THOUSAND = {"BRL", "MXN", "ARS", "COP", "CLP", "PEN", "EUR"}


def _currency(text: str) -> tuple[str | None, bool]:
    """(ISO code or None, whether any currency word or sign was seen)."""
    for pattern, code in _CURRENCY:
        if pattern.search(text):
            return code, True
    match = _LETTER_PREFIX.search(text)
    if match:
        return _LETTER_CODES[match.group(1)], True
    return None, False


def parse_money(text: str) -> dict | None:
    """{"amount": float, "currency": ISO code or None}, or None where no amount is written."""
    currency, _ = _currency(text)
    mil = 1e3 if currency in _MIL_THOUSAND else 1e6
    number = find_number(text, dot_groups_thousands=currency in _DOT_THOUSANDS, mil=mil)
    if number is None:
        return None
    return {"amount": number.value, "currency": currency}


# -- quantities ----------------------------------------------------------------------------------

# Unit name → (regex of the ways it is written, base unit, factor to the base unit).
_UNITS: list[tuple[str, str, str | None, float | None]] = [
    ("t", r"metric\s+tons?|metric\s+tonnes?|tonnes?|tons?|mt|t", "kg", 1000.0),
    ("kg", r"kilograms?|kilogrammes?|kilos?|kgs?", "kg", 1.0),
    ("mg", r"milligrams?|milligrammes?|mg", "kg", 1e-6),
    ("g", r"grams?|grammes?|gms?|g", "kg", 1e-3),
    ("lb", r"pounds?|lbs?", "kg", 0.45359237),
    ("oz", r"ounces?|oz", "kg", 0.028349523125),
    ("quintal", r"quintals?|qtls?", "kg", 100.0),
    ("jin", r"jin|catty|catties", "kg", 0.5),
    ("m3", r"cubic\s+met(?:re|er)s?|cu\.?\s*m|m3|m³|cbm", "m3", 1.0),
    ("ml", r"millilit(?:re|er)s?|ml", "l", 1e-3),
    ("kl", r"kilolit(?:re|er)s?|kl", "l", 1000.0),
    ("l", r"lit(?:re|er)s?|ltrs?|l", "l", 1.0),
    ("gal", r"gallons?|gal", "l", 3.785411784),  # US gallons
    ("bbl", r"barrels?\s+of\s+(?:oil|crude|fuel|diesel)|bbl", "l", 158.987294928),
    ("km2", r"square\s+kilomet(?:re|er)s?|sq\.?\s*km|km2|km²", "m2", 1e6),
    ("m2", r"square\s+met(?:re|er)s?|sq\.?\s*m|m2|m²", "m2", 1.0),
    ("ha", r"hectares?|ha", "m2", 1e4),
    ("acre", r"acres?", "m2", 4046.8564224),
    ("mu", r"mu", "m2", 2000.0 / 3.0),  # the Chinese mu (亩)
]
# Countable things: the singular is the unit, the base unit is "item".
_ITEMS = {
    "box": r"box(?:es)?", "carton": r"cartons?", "bottle": r"bottles?", "pill": r"pills?",
    "tablet": r"tablets?", "capsule": r"capsules?", "vial": r"vials?", "ampoule": r"ampoules?|ampules?",
    "piece": r"pieces?|pcs?|pc", "pack": r"packs?", "packet": r"packets?", "bag": r"bags?",
    "sack": r"sacks?", "head": r"heads?", "can": r"cans?", "jar": r"jars?", "sachet": r"sachets?",
    "tin": r"tins?", "unit": r"units?", "item": r"items?", "case": r"cases?", "crate": r"crates?",
    "drum": r"drums?", "barrel": r"barrels?", "container": r"containers?", "pallet": r"pallets?",
    "dose": r"doses?", "strip": r"strips?", "tube": r"tubes?", "bale": r"bales?",
    "kit": r"kits?", "syringe": r"syringes?", "pen": r"pens?", "roll": r"rolls?", "set": r"sets?",
    "cylinder": r"cylinders?", "canister": r"canisters?", "log": r"logs?", "tusk": r"tusks?",
    "skin": r"skins?", "carcass": r"carcass(?:es)?", "animal": r"animals?", "bird": r"birds?",
    "copy": r"cop(?:y|ies)", "disc": r"discs?|disks?", "dvd": r"dvds?", "cigarette": r"cigarettes?",
    "stick": r"sticks?", "truckload": r"truckloads?", "shipment": r"shipments?", "parcel": r"parcels?",
    "package": r"packages?",
}
_UNIT_TABLE = _UNITS + [(name, pattern, "item", 1.0) for name, pattern in _ITEMS.items()]
_UNIT_PATTERNS = [
    (re.compile(rf"[\s-]*(?:{pattern})(?![^\W\d_])", re.IGNORECASE), name, base, factor)
    for name, pattern, base, factor in _UNIT_TABLE
]
_WORD_AFTER = re.compile(r"[\s-]*([^\W\d_][\w'’]*)")
_FILLER = re.compile(r"[\s-]*(?:of\s+)?", re.IGNORECASE)


def parse_quantity(text: str) -> dict | None:
    """{"value", "unit", "base_value", "base_unit"}, or None where no number is written."""
    number = find_number(text)
    if number is None:
        return None
    rest_at = number.end
    for pattern, name, base, factor in _UNIT_PATTERNS:
        match = pattern.match(text, rest_at)
        if match:
            return _quantity(number.value, name, base, factor)
    # "a dozen boxes", "two million pills": find_number stopped before the unit word.
    word = _WORD_AFTER.match(text, rest_at)
    unit = word.group(1) if word else None
    return _quantity(number.value, unit, None, None)


def _quantity(value: float, unit: str | None, base: str | None, factor: float | None) -> dict:
    return {
        "value": value,
        "unit": unit,
        "base_value": value * factor if factor is not None else None,
        "base_unit": base,
    }


_DIGIT_RUN = re.compile(r"(?<![\w.,])\d")


def find_quantity_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every "number + known unit" in a text: "12 tonnes", "3,400 boxes",
    "1.2 million pills". The small spaCy model tags most of these as plain numbers."""
    spans: list[tuple[int, int]] = []
    position = 0
    while match := _DIGIT_RUN.search(text, position):
        number = find_number(text, match.start())
        if number is None or number.start != match.start():
            position = match.end()
            continue
        end = number.end
        filler = _FILLER.match(text, end)
        for pattern, _name, base, _factor in _UNIT_PATTERNS:
            unit = pattern.match(text, filler.end() if filler and base == "item" else end)
            if unit and base is not None:
                spans.append((number.start, unit.end()))
                end = unit.end()
                break
        position = max(end, match.end())
    return spans
