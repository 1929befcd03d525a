"""The document's language, and a stop for those the models do not read: such a report is stored
and found by its words, but nothing is invented for it (English models read Spanish place names
as people and Chinese as nothing at all)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kunlun_nlp.document import Document
from kunlun_nlp.intake.furniture import masked
from kunlun_nlp.language import MAX_CHARS, UNKNOWN, guess_language, language_code
from kunlun_nlp.pipeline.registry import stage
from kunlun_nlp.pipeline.work import BuildContext, TagContext, WorkItem


def not_supported(language: str) -> str:
    """The not_tagged reason for a language the models do not read."""
    return f"language {language} is not supported by the models"


@stage("language")
class LanguageStage:
    """The language given on intake, else the detected one; a language not in `supported` marks
    the document not tagged, and the stages after this one skip it.

    A text of fewer than `min_chars` letters stays UNKNOWN and is tagged as usual, and so does
    one whose likeliest language is unsupported but below `min_confidence`: an English report
    is never dropped on thin evidence."""

    def __init__(
        self,
        build: BuildContext,
        *,
        supported: Sequence[str] = ("en",),
        min_chars: int = 30,
        min_confidence: float = 0.75,
        max_chars: int = MAX_CHARS,
    ) -> None:
        self.supported = frozenset(language_code(code) for code in supported)
        if not self.supported or UNKNOWN in self.supported:
            raise ValueError(f"language: supported must list ISO 639-1 codes, not {list(supported)}")
        self.min_chars = min_chars
        self.min_confidence = min_confidence
        self.max_chars = max_chars

    def __call__(self, items: list[WorkItem], context: TagContext) -> None:
        for item in items:
            document = item.document
            # a caller's language wins; the detector only fills what nobody said
            language = language_code(document.language) or self.detect(document, item.furniture)
            if language != document.language:
                item.document = replace(document, language=language)
            if language and language not in self.supported:
                item.not_tagged = not_supported(language)

    def detect(self, document: Document, furniture: list[tuple[int, int]] = ()) -> str:
        # without the site's furniture: a hotline footer in Vietnamese says nothing of the report
        text = masked(document.text, list(furniture))
        guess = guess_language(f"{document.title}\n{text}", max_chars=self.max_chars)
        if guess.letters < self.min_chars:
            return UNKNOWN
        if guess.language in self.supported or guess.confidence >= self.min_confidence:
            return guess.language  # a supported guess is tagged either way, so it may be a weak one
        return UNKNOWN
