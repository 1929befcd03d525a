"""Entity normalisation: firm names, and the details parsed for places, sums and quantities."""

from __future__ import annotations

import json
import time

import pytest

from kunlun_nlp.amounts import parse_money, parse_quantity
from kunlun_nlp.normalize import entity_details, entity_key, normalize_entity
from kunlun_nlp.numbers import find_number
from kunlun_nlp.places import is_state_abbreviation, place_key, resolve_place, resolve_within

# -- firms ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SHENZHEN HUAXIN TRADING CO., LTD.", "Shenzhen Huaxin Trading"),
        ("Shenzhen Huaxin Trading Co Ltd", "Shenzhen Huaxin Trading"),
        ("Shenzhen Huaxin Trading Co.,Ltd", "Shenzhen Huaxin Trading"),
        ("Shenzhen Huaxin Trading Co.Ltd.", "Shenzhen Huaxin Trading"),
        ("Huaxin Trading Company Limited", "Huaxin Trading"),
        ("Brennar Therapeutics India Pvt. Ltd.", "Brennar Therapeutics India"),
        ("Brennar Therapeutics India Private Limited", "Brennar Therapeutics India"),
        ("Sunrise Pharma (Pvt) Ltd", "Sunrise Pharma"),
        ("Kedai Ubat Sdn. Bhd.", "Kedai Ubat"),
        ("Kedai Ubat Sdn Bhd", "Kedai Ubat"),
        ("Pharmaniaga Bhd", "Pharmaniaga"),
        ("PT Kimia Farma (Persero) Tbk", "Kimia Farma"),
        ("PT. Indofarma Tbk.", "Indofarma"),
        ("Distribuidora Azteca S.A. de C.V.", "Distribuidora Azteca"),
        ("Distribuidora Azteca SA de CV", "Distribuidora Azteca"),
        ("Importadora Lima Ltda.", "Importadora Lima"),
        ("Müller Pharma GmbH & Co. KG", "Müller Pharma"),
        ("Acme, Inc.", "Acme"),
        ("Globex Corp.", "Globex"),
        ("Westgate Pacific Imports L.L.C.", "Westgate Pacific Imports"),
        ("Unilever PLC", "Unilever"),
        ("Farmaceutici Rossi S.p.A.", "Farmaceutici Rossi"),
        ("Verdi S.r.l.", "Verdi"),
        ("Saigon Trading Joint Stock Company", "Saigon Trading"),
        ("M/s Sharma Traders", "Sharma Traders"),
        ("the MINISTRY OF PUBLIC SECURITY", "Ministry of Public Security"),
        ("ABC TRADING LLC", "ABC Trading"),
        ("NAFDAC", "NAFDAC"),
        ("FDA", "FDA"),
        ("US FDA", "US FDA"),
        ("NAFDAC ENFORCEMENT DIRECTORATE", "NAFDAC Enforcement Directorate"),
        ("Ministry of Public Security", "Ministry of Public Security"),
        ("  “Oduya   Agro Export Ltd.”  ", "Oduya Agro Export"),
        ("Ltd.", "Ltd"),  # a bare suffix is not stripped to nothing
        ("PT", "PT"),
    ],
)
def test_firm_names(text, expected):
    assert normalize_entity("ORG", text) == expected


def test_firm_variants_share_one_form_and_key():
    variants = [
        "SHENZHEN HUAXIN TRADING CO., LTD.",
        "Shenzhen Huaxin Trading Co Ltd",
        "Shenzhen Huaxin Trading Co., Ltd.",
        "the Shenzhen Huaxin Trading Company Limited",
        "Shenzhen  Huaxin Trading Co.,Ltd",
    ]
    forms = {normalize_entity("ORG", v) for v in variants}
    assert forms == {"Shenzhen Huaxin Trading"}
    assert len({entity_key(f) for f in forms}) == 1


def test_mixed_case_names_keep_their_case():
    assert normalize_entity("ORG", "GlaxoSmithKline plc") == "GlaxoSmithKline"
    assert normalize_entity("ORG", "eBay Inc.") == "eBay"


def test_other_labels_only_tidied():
    assert normalize_entity("MONEY", "the  $31.2 million") == "the $31.2 million"
    assert normalize_entity("LOC", "the Netherlands") == "Netherlands"
    assert normalize_entity("PERSON", "SHENZHEN HUAXIN CO") == "SHENZHEN HUAXIN CO"


# -- places -----------------------------------------------------------------------------------------


def near(found: dict, lat: float, lon: float, tolerance: float = 1.0) -> bool:
    return abs(found["lat"] - lat) <= tolerance and abs(found["lon"] - lon) <= tolerance


@pytest.mark.parametrize(
    ("text", "name", "cc", "admin1", "lat", "lon"),
    [
        ("Zhengzhou", "Zhengzhou", "CN", "Henan", 34.75, 113.66),
        ("Xi'an", "Xi’an", "CN", "Shaanxi", 34.26, 108.93),
        ("Xi’an", "Xi’an", "CN", "Shaanxi", 34.26, 108.93),
        ("Ho Chi Minh City", "Ho Chi Minh City", "VN", "Ho Chi Minh", 10.82, 106.63),
        ("Saigon", "Ho Chi Minh City", "VN", "Ho Chi Minh", 10.82, 106.63),
        ("Guangzhou", "Guangzhou", "CN", "Guangdong", 23.13, 113.26),
        ("Guangzhou City", "Guangzhou", "CN", "Guangdong", 23.13, 113.26),
        ("Yiwu", "Yiwu", "CN", "Zhejiang", 29.31, 120.08),
        ("Mumbai", "Mumbai", "IN", "Maharashtra", 19.08, 72.88),
        ("Bombay", "Mumbai", "IN", "Maharashtra", 19.08, 72.88),
        ("Hyderabad", "Hyderābād", "IN", "Telangana", 17.38, 78.47),
        ("Lagos", "Lagos", "NG", "Lagos", 6.45, 3.39),
        ("Kano", "Kano", "NG", "Kano State", 12.0, 8.52),
        ("Nairobi", "Nairobi", "KE", "Nairobi County", -1.29, 36.82),
        ("Kuala Lumpur", "Kuala Lumpur", "MY", "Kuala Lumpur", 3.14, 101.69),
        ("Manila", "Manila", "PH", "Metro Manila", 14.6, 120.98),
        ("Cebu", "Cebu City", "PH", "Central Visayas", 10.32, 123.89),
        ("Sao Paulo", "São Paulo", "BR", "São Paulo", -23.55, -46.63),
        ("Buenos Aires", "Buenos Aires", "AR", "Buenos Aires F.D.", -34.6, -58.38),
        ("Medellin", "Medellín", "CO", "Antioquia", 6.25, -75.56),
        ("Beijing", "Beijing", "CN", "Beijing", 39.9, 116.4),
        ("Port of Lagos", "Lagos", "NG", "Lagos", 6.45, 3.39),
        ("Zhengzhou, Henan", "Zhengzhou", "CN", "Henan", 34.75, 113.66),
        ("Springfield, Illinois", "Springfield", "US", "Illinois", 39.8, -89.64),
        ("Washington, D.C.", "Washington", "US", "District of Columbia", 38.9, -77.04),
    ],
)
def test_cities(text, name, cc, admin1, lat, lon):
    found = resolve_place(text)
    assert found is not None
    assert (found["kind"], found["name"], found["city"]) == ("city", name, name)
    assert (found["country_code"], found["admin1"]) == (cc, admin1)
    assert near(found, lat, lon)


@pytest.mark.parametrize(
    ("text", "name", "cc", "lat", "lon", "tolerance"),
    [
        # Coordinates of a division are its population centroid: near its big towns.
        ("Guangdong Province", "Guangdong", "CN", 23.1, 113.3, 1.5),
        ("Guangdong", "Guangdong", "CN", 23.1, 113.3, 1.5),
        ("Henan province", "Henan", "CN", 34.3, 113.7, 1.5),
        ("Province of Henan", "Henan", "CN", 34.3, 113.7, 1.5),
        ("Zhejiang", "Zhejiang", "CN", 29.7, 120.5, 1.5),
        ("Inner Mongolia", "Inner Mongolia", "CN", 41.5, 111.5, 3.0),
        ("Maharashtra", "Maharashtra", "IN", 19.2, 74.5, 2.0),
        ("Uttar Pradesh", "Uttar Pradesh", "IN", 27.0, 80.5, 2.0),
        ("Kerala", "Kerala", "IN", 10.3, 76.3, 1.5),
        ("Lagos State", "Lagos", "NG", 6.5, 3.4, 1.0),
        ("Selangor", "Selangor", "MY", 3.1, 101.5, 1.0),
        ("Penang", "Penang", "MY", 5.4, 100.3, 1.0),
        ("Texas", "Texas", "US", 30.5, -97.0, 3.0),
    ],
)
def test_provinces_and_states(text, name, cc, lat, lon, tolerance):
    found = resolve_place(text)
    assert found is not None
    assert (found["kind"], found["name"], found["admin1"], found["city"]) == ("admin1", name, name, None)
    assert found["country_code"] == cc
    assert near(found, lat, lon, tolerance)


@pytest.mark.parametrize(
    ("text", "cc", "country"),
    [
        ("the US", "US", "United States"),
        ("U.S.", "US", "United States"),
        ("US", "US", "United States"),
        ("USA", "US", "United States"),
        ("United States", "US", "United States"),
        ("the United States of America", "US", "United States"),
        ("UK", "GB", "United Kingdom"),
        ("Britain", "GB", "United Kingdom"),
        ("Hong Kong", "HK", "Hong Kong"),
        ("China", "CN", "China"),
        ("India", "IN", "India"),
        ("Nigeria", "NG", "Nigeria"),
        ("Vietnam", "VN", "Vietnam"),
        ("Viet Nam", "VN", "Vietnam"),
        ("South Korea", "KR", "South Korea"),
        ("Russia", "RU", "Russia"),
        ("Ivory Coast", "CI", "Côte d'Ivoire"),
        ("Côte d’Ivoire", "CI", "Côte d'Ivoire"),
        ("DRC", "CD", "Democratic Republic of the Congo"),
        ("Tanzania", "TZ", "Tanzania"),
        ("the Netherlands", "NL", "Netherlands"),
        ("the Philippines", "PH", "Philippines"),
        ("Mexico", "MX", "Mexico"),
        ("Georgia", "GE", "Georgia"),  # the country before the US state
    ],
)
def test_countries(text, cc, country):
    found = resolve_place(text)
    assert found is not None
    assert (found["kind"], found["country_code"], found["country"], found["name"]) == ("country", cc, country, country)
    assert found["admin1"] is None and found["city"] is None


@pytest.mark.parametrize(
    ("text", "lat", "lon", "tolerance"),
    [
        ("China", 32.0, 114.0, 4.0),  # population centroid: east-central China
        ("India", 22.0, 79.0, 4.0),
        ("Nigeria", 8.0, 6.0, 3.0),
        ("Hong Kong", 22.32, 114.17, 0.5),
        ("Kenya", -0.5, 36.8, 2.0),
    ],
)
def test_country_coordinates(text, lat, lon, tolerance):
    assert near(resolve_place(text), lat, lon, tolerance)


def test_country_centroid_across_the_antimeridian():
    fiji = resolve_place("Fiji")
    assert fiji["country_code"] == "FJ"
    assert abs(abs(fiji["lon"]) - 178.5) < 2.5  # not dragged to 0° by averaging ±180


def test_ambiguous_names():
    # A US state that is not also a country.
    assert resolve_place("Texas")["kind"] == "admin1"
    # A state named after its big town: the town.
    assert resolve_place("Lagos")["kind"] == "city"
    # Several towns of one name: the most populous.
    assert resolve_place("Springfield")["country_code"] == "US"
    assert resolve_place("Hyderabad")["country_code"] == "IN"
    # Narrowed by a country or a state after a comma.
    pakistan = resolve_place("Hyderabad, Pakistan")
    assert (pakistan["country_code"], pakistan["admin1"]) == ("PK", "Sindh")
    assert resolve_place("Lagos, Portugal")["country_code"] == "PT"
    assert resolve_place("Punjab, India")["country_code"] == "IN"
    assert resolve_place("Punjab, Pakistan")["country_code"] == "PK"
    # "Georgia" in a US context.
    georgia = resolve_place("Georgia, United States")
    assert (georgia["kind"], georgia["country_code"], georgia["name"]) == ("admin1", "US", "Georgia")
    assert near(georgia, 33.3, -84.0, 2.0)


def test_us_state_abbreviations_after_a_comma():
    # A dateline's state picks the town: Duluth, Georgia, not the bigger Duluth, Minnesota.
    assert resolve_place("Duluth, Ga.")["admin1"] == "Georgia"
    assert resolve_place("Duluth, Minn.")["admin1"] == "Minnesota"
    assert resolve_place("Columbus, N.M.")["admin1"] == "New Mexico"
    assert resolve_place("Lakewood, NJ")["admin1"] == "New Jersey"
    assert is_state_abbreviation("N.Y.") and is_state_abbreviation("Fla.") and not is_state_abbreviation("Texas")
    # On its own an abbreviation is not read as a state ("LA" is Los Angeles as often as Louisiana).
    assert resolve_place("Ga.") is None or resolve_place("Ga.")["name"] != "Georgia"


@pytest.mark.parametrize(
    ("place", "region", "admin1"),
    [("Missoula", "Montana", "Montana"), ("Duluth", "Ga.", "Georgia"), ("Nagpur", "India", "Maharashtra")],
)
def test_resolve_within(place, region, admin1):
    assert resolve_within(place, region)["admin1"] == admin1


@pytest.mark.parametrize(("place", "region"), [("Belgium", "Bulgaria"), ("Anhui", "Shandong"), ("Shenzhen", "Guangzhou"), ("Missoula", "Xyzzy")])
def test_resolve_within_needs_a_containing_region(place, region):
    assert resolve_within(place, region) is None


@pytest.mark.parametrize("text", ["Xyzzyville", "Qwertyland Province", "", "   ", "the", "12345", "x" * 300])
def test_unknown_places(text):
    assert resolve_place(text) is None


def test_place_key():
    assert place_key("Xi’an") == place_key("Xi'an") == "xian"
    assert place_key("São Paulo") == "sao paulo"
    assert place_key("U.S.") == "u s"
    assert place_key("Dar-es-Salaam") == "dar es salaam"


def test_places_are_fast_after_loading():
    resolve_place("Zhengzhou")  # loaded by now
    start = time.perf_counter()
    for _ in range(1000):
        resolve_place("Zhengzhou")
    assert (time.perf_counter() - start) / 1000 < 1e-4


def test_place_results_are_copies():
    first = resolve_place("Zhengzhou")
    first["lat"] = 0
    assert resolve_place("Zhengzhou")["lat"] != 0


# -- numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,234.5", 1234.5),
        ("1,500", 1500),  # a comma before three digits groups thousands
        ("1,5 million", 1.5e6),  # before one or two it is a decimal comma
        ("12,50,000", 1_250_000),  # Indian grouping
        ("1.234.567,89", 1234567.89),
        ("1,234,567", 1234567),
        ("20 000", 20000),
        ("1'000", 1000),
        ("1.2 million", 1.2e6),
        ("1.2m", 1.2e6),
        ("4.2bn", 4.2e9),
        ("2 lakh", 2e5),
        ("4 crore", 4e7),
        ("3 thousand", 3000),
        ("5k", 5000),
        ("two million", 2e6),
        ("twenty-five", 25),
        ("three hundred and fifty thousand", 350_000),
        ("half a million", 5e5),
        ("a dozen", 12),
    ],
)
def test_numbers(text, value):
    assert find_number(text).value == pytest.approx(value)


def test_spaced_m_is_not_million():
    assert find_number("5 m").value == 5


def test_no_number():
    assert find_number("several") is None
    assert find_number("") is None


# -- money ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("$1.2 million", 1.2e6, "USD"),
        ("$31.2 million", 31.2e6, "USD"),
        ("US$ 3,000", 3000, "USD"),
        ("US$3,000", 3000, "USD"),
        ("USD 450", 450, "USD"),
        ("RMB 3.5 million", 3.5e6, "CNY"),
        ("3.5 million yuan", 3.5e6, "CNY"),
        ("¥300,000", 300_000, "CNY"),
        ("300,000 yen", 300_000, "JPY"),
        ("Rs 2 lakh", 2e5, "INR"),
        ("₹4 crore", 4e7, "INR"),
        ("Rs. 12,50,000", 1_250_000, "INR"),
        ("INR 5 crore", 5e7, "INR"),
        ("€30,000", 30_000, "EUR"),
        ("1,000 euros", 1000, "EUR"),
        ("£1.5m", 1.5e6, "GBP"),
        ("5,000 Egyptian pounds", 5000, "EGP"),
        ("NGN 4.2 billion", 4.2e9, "NGN"),
        ("N4.2bn", 4.2e9, "NGN"),
        ("₦500,000", 500_000, "NGN"),
        ("1 million naira", 1e6, "NGN"),
        ("KSh 500,000", 500_000, "KES"),
        ("R 20 000", 20_000, "ZAR"),
        ("R$ 1,2 milhão", 1.2e6, "BRL"),
        ("1.5 billion won", 1.5e9, "KRW"),
        ("50,000 ringgit", 50_000, "MYR"),
        ("RM5 mil", 5e6, "MYR"),
        ("P 2 million", 2e6, "PHP"),
        ("₱2 million", 2e6, "PHP"),
        ("HK$ 8 million", 8e6, "HKD"),
        ("S$2m", 2e6, "SGD"),
        ("Rp 150.000", 150_000, "IDR"),
        ("VND 3 billion", 3e9, "VND"),
        ("GH₵ 50,000", 50_000, "GHS"),
        ("CFA francs 2 million", 2e6, "XOF"),
        ("Tk 5 lakh", 5e5, "BDT"),
        ("two million dollars", 2e6, "USD"),
        ("half a million dollars", 5e5, "USD"),
    ],
)
def test_money(text, amount, currency):
    parsed = parse_money(text)
    assert parsed == {"amount": pytest.approx(amount), "currency": currency}


@pytest.mark.parametrize(("text", "amount"), [("500 pesos", 500), ("twelve thousand", 12_000), ("Sh 400,000", 400_000)])
def test_money_unknown_currency(text, amount):
    assert parse_money(text) == {"amount": pytest.approx(amount), "currency": None}


def test_money_without_amount():
    assert parse_money("undisclosed sum") is None


# -- quantities -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "unit", "base_value", "base_unit"),
    [
        ("12 tonnes", 12, "t", 12_000, "kg"),
        ("12 tons", 12, "t", 12_000, "kg"),
        ("20 metric tons", 20, "t", 20_000, "kg"),
        ("3 MT", 3, "t", 3000, "kg"),
        ("half a tonne", 0.5, "t", 500, "kg"),
        ("1,5 tonnes", 1.5, "t", 1500, "kg"),
        ("about 500 kg", 500, "kg", 500, "kg"),
        ("500kg", 500, "kg", 500, "kg"),
        ("40 kilograms", 40, "kg", 40, "kg"),
        ("3 kilos", 3, "kg", 3, "kg"),
        ("250 g", 250, "g", 0.25, "kg"),
        ("100 lbs", 100, "lb", 45.359237, "kg"),
        ("200 pounds", 200, "lb", 90.718474, "kg"),
        ("300 litres", 300, "l", 300, "l"),
        ("300 liters", 300, "l", 300, "l"),
        ("800 ml", 800, "ml", 0.8, "l"),
        ("2,000 cubic metres", 2000, "m3", 2000, "m3"),
        ("2,000 m3", 2000, "m3", 2000, "m3"),
        ("12,000 square metres", 12_000, "m2", 12_000, "m2"),
        ("5 hectares", 5, "ha", 50_000, "m2"),
        ("3,400 boxes", 3400, "box", 3400, "item"),
        ("1.2 million pills", 1.2e6, "pill", 1.2e6, "item"),
        ("10,000 vials", 10_000, "vial", 10_000, "item"),
        ("500 cartons", 500, "carton", 500, "item"),
        ("2,400 bottles", 2400, "bottle", 2400, "item"),
        ("60,000 tablets", 60_000, "tablet", 60_000, "item"),
        ("300 pieces", 300, "piece", 300, "item"),
        ("45 packs", 45, "pack", 45, "item"),
        ("80 bags", 80, "bag", 80, "item"),
        ("120 sacks", 120, "sack", 120, "item"),
        ("40 heads of cattle", 40, "head", 40, "item"),
        ("a dozen boxes", 12, "box", 12, "item"),
    ],
)
def test_quantities(text, value, unit, base_value, base_unit):
    parsed = parse_quantity(text)
    assert parsed["value"] == pytest.approx(value)
    assert parsed["unit"] == unit
    assert parsed["base_value"] == pytest.approx(base_value)
    assert parsed["base_unit"] == base_unit


def test_quantity_unknown_unit():
    assert parse_quantity("5 trucks") == {"value": 5.0, "unit": "trucks", "base_value": None, "base_unit": None}


def test_quantity_without_unit_or_number():
    assert parse_quantity("seven") == {"value": 7.0, "unit": None, "base_value": None, "base_unit": None}
    assert parse_quantity("large amounts") is None


# -- entity_details ---------------------------------------------------------------------------------


def test_entity_details_by_label():
    place = entity_details("LOC", "the Henan province")
    assert (place["kind"], place["name"], place["country_code"]) == ("admin1", "Henan", "CN")
    assert entity_details("MONEY", "RMB 3.5 million") == {"amount": 3.5e6, "currency": "CNY"}
    assert entity_details("QUANTITY", "12 tonnes")["base_value"] == 12_000
    for label in ("ORG", "PERSON", "PRODUCT", "SUBSTANCE", "DATE", "LAW"):
        assert entity_details(label, "Zhengzhou") is None
    assert entity_details("LOC", "Nowhere-in-particular") is None
    assert entity_details("MONEY", "a lot of money") is None


def test_entity_details_are_json():
    for label, text in [("LOC", "Zhengzhou"), ("LOC", "the US"), ("MONEY", "Rs 2 lakh"), ("QUANTITY", "5 trucks")]:
        details = entity_details(label, text)
        assert json.loads(json.dumps(details)) == details
