"""Drug names for the entity gazetteer, from the dictionary that the `drug-named-entity-recognition`
package ships (names and synonyms from DrugBank, MedlinePlus, MeSH and Wikipedia; MIT licence).

Only its data file is read, never the package's code (it would load the whole dictionary at import
and reach for the network to look names up). A brand ("Plavix", "Cialis") is PRODUCT, like "Botox"
in the guidelines; a generic or chemical name ("clopidogrel", "frusemide") is SUBSTANCE.

Kept out: MeSH-only entries (proteins, enzymes, receptors: not what a report seizes), names of
more than three words or with list punctuation, and single words that are also everyday English
(a whole word of the encoder's WordPiece vocabulary: "water", "gold", "ecstasy", "amber"), which a
blind dictionary match would get wrong; the NER still finds those in context.
"""

from __future__ import annotations

import bz2
import importlib.util
import pickle
import re
from functools import lru_cache
from pathlib import Path

PACKAGE = "drug_named_entity_recognition"
DATA_FILE = "drug_ner_dictionary.pkl.bz2"

# Where a name comes from a real medicine rather than a MeSH protein or enzyme heading.
_DRUG_SOURCES = ("drugbank_id", "medline_plus_id", "wikipedia_url")
_LIST_PUNCTUATION = re.compile(r"[,;()\[\]/]")
# Endings of generic (INN) and chemical names; a brand is a coined word ("Zyprexa", "Trulance").
_GENERIC_ENDING = re.compile(
    r"(?:ine|ide|ol|ate|one|ium|mab|vir|statin|pril|sartan|cillin|mycin|cycline|afil|tide|azole|"
    r"ane|ene|acid|ase|xib|parin|lukast|dronate|tinib|gliptin)$"
)


def _data_path() -> Path:
    spec = importlib.util.find_spec(PACKAGE)  # finds the file without running the package
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {PACKAGE} package (the drug dictionary) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / DATA_FILE


def _everyday_words() -> frozenset[str]:
    from kunlun_nlp.encoder import default_model_dir

    lines = (default_model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(w for w in lines if w.isalpha())


def _is_generic(variant: str, canonical: str, canonical_data: dict, variant_data: dict | None) -> bool:
    return (
        variant == canonical
        or (variant_data is not None and not variant_data.get("is_brand", False))
        or variant in canonical_data.get("synonyms", ())
        or canonical.split()[0] in variant.split()  # "epinephrine hydrochloride"
        or _GENERIC_ENDING.search(variant) is not None
    )


@lru_cache(maxsize=1)
def drug_terms() -> tuple[tuple[str, str], ...]:
    """(lowercase name, "PRODUCT" or "SUBSTANCE") for every drug name kept, sorted."""
    with bz2.open(_data_path(), "rb") as handle:
        data = pickle.load(handle)  # plain dicts and lists, from a pinned and hashed package
    to_canonical = data["drug_variant_to_canonical"]
    canonical_data = data["drug_canonical_to_data"]
    variant_data = data["drug_variant_to_variant_data"]
    everyday = _everyday_words()
    terms: dict[str, str] = {}
    for variant, canonicals in to_canonical.items():
        if not canonicals:
            continue
        canonical = canonicals[0]
        about = canonical_data.get(canonical, {})
        if not any(key in about for key in _DRUG_SOURCES):
            continue
        if len(variant) < 4 or len(variant.split()) > 3 or not re.search(r"[a-z]", variant):
            continue
        if _LIST_PUNCTUATION.search(variant) or (" " not in variant and variant in everyday):
            continue
        generic = _is_generic(variant, canonical, about, variant_data.get(variant))
        terms[variant] = "SUBSTANCE" if generic else "PRODUCT"
    return tuple(sorted(terms.items()))
