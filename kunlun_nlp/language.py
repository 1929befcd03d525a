"""Which language a text is written in, told by py3langid, whose model ships inside the package.

The detector reads only the languages that have a two-letter ISO 639-1 code: codes are stored
and filtered as such, and dropping the rest (creoles, regional varieties such as Nigerian
Pidgin, Wu or Cantonese) keeps short English and standard Chinese texts from being split
between near neighbours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from kunlun_nlp.disk_cache import cached

UNKNOWN = ""  # no language given, or too little text to tell one
MAX_CHARS = 5_000  # enough to tell a language; detection stays well under a millisecond a report

_CODE = re.compile(r"[a-z]{2,3}")


def language_code(value: str | None) -> str:
    """A caller's language as a bare lower-case ISO 639 code ("en-GB", "EN_us" -> "en"); UNKNOWN
    for nothing or something that is not a code, so that it is detected instead."""
    primary = re.split(r"[-_]", (value or "").strip(), maxsplit=1)[0].lower()
    return primary if _CODE.fullmatch(primary) else UNKNOWN


@dataclass(frozen=True)
class LanguageGuess:
    language: str  # the likeliest language's ISO 639-1 code
    confidence: float  # its probability, 0-1, tempered by the text's length
    letters: int  # the letters it was told from: few letters, little evidence


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid import langid

    # loaded once per process: classification does not change it, so every pipeline and thread
    # shares it. Built from the LZMA-compressed model it takes half a second to a second, so it
    # is kept on disk as built (a 90 MB pickle, read in a tenth of that).
    sources = [langid.MODEL_DIR / langid.MODEL_FILE, Path(langid.__file__), Path(__file__)]
    return cached("language-identifier", sources, _build_identifier)


def _build_identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([code for code in identifier.labels if len(code) == 2])
    return identifier


def guess_language(text: str, *, max_chars: int = MAX_CHARS) -> LanguageGuess:
    """The likeliest language of the first `max_chars` characters of `text`."""
    sample = text[:max_chars]
    language, confidence = _identifier().classify(sample)
    return LanguageGuess(str(language), float(confidence), sum(ch.isalpha() for ch in sample))
